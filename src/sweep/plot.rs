//! SVG figures of a merged sweep (plotters, SVG backend): heat maps of a quantity over two axes
//! (a phase diagram; each square is the mean over the other axes, e.g. the seeds, and prints that
//! mean), or curves along one axis (mean line, one dot per cell, min-max bar).

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use super::folder::{Merged, RunQuantity, label};
use crate::error::{Error, Result};
use crate::format::sig;

/// A value range of a colour scale or an axis: `(low, high)`.
type Range = Option<(f64, f64)>;

/// The quantities plotted, with their fixed range.
const PLOTTED: &[(RunQuantity, Range)] = &[
    (RunQuantity { key: "test_error", label: "test error", get: |r| Some(r.test_error) }, Some((0.0, 1.0))),
    (RunQuantity { key: "feature_max", label: "feature: max gamma", get: |r| Some(r.feature_max) }, None),
    (RunQuantity { key: "noise_min_max", label: "noise: min_i max_r rho", get: |r| Some(r.noise_min_max) }, None),
];

/// The viridis colour map at `(v - lo) / (hi - lo)`, linear between nine of its colours.
fn viridis(v: f64, lo: f64, hi: f64) -> RGBColor {
    const C: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ];
    let t = if hi > lo { ((v - lo) / (hi - lo)).clamp(0.0, 1.0) } else { 0.5 } * (C.len() - 1) as f64;
    let k = (t.floor() as usize).min(C.len() - 2);
    let f = t - k as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + f * (f64::from(b) - f64::from(a))).round() as u8;
    RGBColor(mix(C[k].0, C[k + 1].0), mix(C[k].1, C[k + 1].1), mix(C[k].2, C[k + 1].2))
}

fn plot_err(e: impl std::fmt::Display) -> Error {
    Error::Numerical(format!("cannot draw a figure: {e}"))
}

/// The figures for axis `x` (and `y`): `(path, SVG bytes)`.
pub fn figures(m: &Merged, x: usize, y: Option<usize>, dir: &Path) -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let opts: Vec<&str> = ["adam", "gd"].into_iter().filter(|o| m.optimizers.iter().any(|k| k == o)).collect();
    let mut out = Vec::new();
    for (q, range) in PLOTTED {
        let (key, what, range) = (q.key, q.label, *range);
        match y {
            Some(y) => {
                for o in &opts {
                    let svg = heatmap(m, x, y, o, q, &format!("{o}: {what}"), range)?;
                    out.push((dir.join(format!("phase-{o}-{key}.svg")), svg.into_bytes()));
                }
            }
            None => out.push((dir.join(format!("path-{key}.svg")), path_plot(m, x, &opts, q, range)?.into_bytes())),
        }
    }
    Ok(out)
}

fn heatmap(
    m: &Merged,
    x: usize,
    y: usize,
    opt: &str,
    key: &RunQuantity,
    title: &str,
    range: Option<(f64, f64)>,
) -> Result<String> {
    let (nx, ny) = (m.axes[x].1.len(), m.axes[y].1.len());
    let means: Vec<Vec<Option<f64>>> =
        (0..ny).map(|j| (0..nx).map(|i| m.stats(&[(x, i), (y, j)], opt, key).mean()).collect()).collect();
    let finite = means.iter().flatten().flatten().copied().filter(|v| v.is_finite());
    let (lo, hi) = range.unwrap_or_else(|| {
        let (a, b) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
        if a.is_finite() && b > a {
            (a, b)
        } else if a.is_finite() {
            (a - 0.5, a + 0.5)
        } else {
            (0.0, 1.0)
        }
    });
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 540)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let (main, bar) = root.split_horizontally(650);
        let mut chart = ChartBuilder::on(&main)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(0..nx as i32, 0..ny as i32)
            .map_err(plot_err)?;
        let (w, h) = chart.plotting_area().dim_in_pixel();
        let (cw, ch) = (w as i32 / nx as i32, h as i32 / ny as i32);
        let (xl, yl) = (&m.axes[x].1, &m.axes[y].1);
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(nx + 1)
            .y_labels(ny + 1)
            .x_label_offset(cw / 2)
            .y_label_offset(-ch / 2)
            .x_label_formatter(&|i| xl.get(*i as usize).map(label).unwrap_or_default())
            .y_label_formatter(&|j| yl.get(*j as usize).map(label).unwrap_or_default())
            .x_desc(m.axes[x].0.as_str())
            .y_desc(m.axes[y].0.as_str())
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(plot_err)?;
        for (j, row) in means.iter().enumerate() {
            for (i, v) in row.iter().enumerate() {
                let (i, j) = (i as i32, j as i32);
                let color = match v {
                    Some(v) if v.is_finite() => viridis(v.clamp(lo, hi), lo, hi),
                    _ => RGBColor(200, 200, 200),
                };
                chart.draw_series([Rectangle::new([(i, j), (i + 1, j + 1)], color.filled())]).map_err(plot_err)?;
                let text = v.map_or("missing".to_string(), |v| sig(v, 2));
                let dark = v.is_some_and(|v| (v - lo) / (hi - lo) < 0.6);
                let style = TextStyle::from(("sans-serif", 13).into_font()).color(if dark { &WHITE } else { &BLACK });
                chart
                    .draw_series([EmptyElement::at((i, j + 1)) + Text::new(text, (cw / 2 - 14, ch / 2 - 7), style)])
                    .map_err(plot_err)?;
            }
        }
        let mut cbar = ChartBuilder::on(&bar)
            .margin_top(50)
            .margin_bottom(62)
            .margin_right(50)
            .y_label_area_size(0)
            .right_y_label_area_size(45)
            .build_cartesian_2d(0.0..1.0, lo..hi)
            .map_err(plot_err)?;
        cbar.configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_labels(5)
            .y_label_formatter(&|v| sig(*v, 2))
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(plot_err)?;
        let steps = 64;
        cbar.draw_series((0..steps).map(|k| {
            let (a, b) = (lo + (hi - lo) * k as f64 / steps as f64, lo + (hi - lo) * (k + 1) as f64 / steps as f64);
            Rectangle::new([(0.0, a), (1.0, b)], viridis((a + b) / 2.0, lo, hi).filled())
        }))
        .map_err(plot_err)?;
        root.present().map_err(plot_err)?;
    }
    Ok(svg)
}

fn path_plot(m: &Merged, x: usize, opts: &[&str], key: &RunQuantity, range: Range) -> Result<String> {
    let what = key.label;
    let nx = m.axes[x].1.len() as i32;
    let mut all = Vec::new();
    for o in opts {
        for (c, (_, coords, _)) in m.cells.iter().enumerate() {
            if let Some(v) = m.value(c, o, key).filter(|v| v.is_finite()) {
                all.push((*o, coords[x] as i32, v));
            }
        }
    }
    let (lo, hi) = range.unwrap_or_else(|| {
        let (a, b) = all.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.2), b.max(p.2)));
        if a.is_finite() && b > a { (a - 0.05 * (b - a), b + 0.05 * (b - a)) } else { (0.0, 1.0) }
    });
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let xl = &m.axes[x].1;
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("{what} along {}", m.axes[x].0), ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(-1..nx, lo..hi)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_labels(nx as usize + 2)
            .x_label_formatter(&|i| {
                if *i >= 0 { xl.get(*i as usize).map(label).unwrap_or_default() } else { String::new() }
            })
            .y_label_formatter(&|v| sig(*v, 2))
            .x_desc(m.axes[x].0.as_str())
            .y_desc(what)
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(plot_err)?;
        for o in opts {
            let color = crate::figures::optimizer_color(o);
            let stats: Vec<_> = (0..nx).map(|i| (i, m.stats(&[(x, i as usize)], o, key))).collect();
            let line: Vec<(i32, f64)> = stats.iter().filter_map(|(i, s)| s.mean().map(|v| (*i, v))).collect();
            chart
                .draw_series([PathElement::new(line, color.stroke_width(2))])
                .map_err(plot_err)?
                .label(*o)
                .legend(move |(a, b)| PathElement::new([(a, b), (a + 20, b)], color.stroke_width(2)));
            chart
                .draw_series(
                    stats
                        .iter()
                        .filter(|(_, s)| s.count > 1)
                        .map(|(i, s)| PathElement::new([(*i, s.min), (*i, s.max)], color)),
                )
                .map_err(plot_err)?;
            chart
                .draw_series(all.iter().filter(|p| p.0 == *o).map(|p| Circle::new((p.1, p.2), 3, color.filled())))
                .map_err(plot_err)?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()
            .map_err(plot_err)?;
        root.present().map_err(plot_err)?;
    }
    Ok(svg)
}
