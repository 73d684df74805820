//! SVG figures of the headline experiment, drawn from what [`crate::train`] measured (nothing here
//! trains or changes a number):
//!
//! - [`dynamics_svg`]: one panel per optimizer, the feature and noise summaries of the trace against
//!   the step (log axis): `max_r gamma_{j,r}` for `j = +1, -1`, `min_i max_r rho_{i,r}` and
//!   `max_i max_r rho_{i,r}`, with the feature-reversal step marked where there is one.
//! - [`errors_svg`]: training and test error against the step, one line per optimizer.
//! - [`filters_svg`]: per optimizer, the final `gamma_{j,r}` of every filter beside its noise level
//!   `max_{i: y_i = j} rho_{i,r}` (the largest noise coefficient of the filter over the training
//!   samples of its class).
//!
//! - [`convergence_svg`] (with `--to-limit`): `||grad L||_2` against the step, log-log, one line per
//!   optimizer.
//!
//! [`convex::certificate_svg`] draws the certificate of `adamgap convex`.
//!
//! The curves have one point per trace checkpoint (`[train] checkpoints` sets how many besides the
//! 1-2-5 series); step 0 (the initialization) is left out of the log axes. Text is drawn as SVG
//! `<text>` in a `sans-serif` font chosen by the viewer, so no font is needed at build time.

pub mod claims;
pub mod convex;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{Error, Result};
use crate::model::Coefficients;
use crate::train::{Checkpoint, Experiment, Run};

/// Width of every figure in pixels (meant to fill the width of a printed page).
pub const WIDTH: u32 = 1000;
pub(crate) const FONT: &str = "sans-serif";
// Font sizes as plotters takes them (the SVG gets them divided by 1.24: 21, 18.5, 16 and 16 px, so
// at the width of a printed page, about 6.5 in, the smallest text is about 7.5 pt).
pub(crate) const TITLE_PX: u32 = 26;
pub(crate) const AXIS_PX: u32 = 23;
pub(crate) const TICK_PX: u32 = 20;
pub(crate) const LEGEND_PX: u32 = 20;

/// The label of Adam's (or any run's) feature-reversal marker in [`dynamics_svg`].
pub const REVERSAL_LABEL: &str = "feature reversal";

/// A colour per optimizer key, the same in every figure.
pub fn optimizer_color(key: &str) -> RGBColor {
    match key {
        "gd" => RGBColor(31, 119, 180),
        "adam" => RGBColor(214, 39, 40),
        "sign-gd" => RGBColor(255, 127, 14),
        "adamw" => RGBColor(148, 103, 189),
        "momentum" => RGBColor(44, 160, 44),
        "rmsprop" => RGBColor(140, 86, 75),
        _ => RGBColor(127, 127, 127),
    }
}

/// The display name of a run: `GD (η = 1)`, `Adam (η = 5e-5)`, ..., with the stop reason when the
/// run did not simply use its budget (`GD (η = 1e6), diverged at step 7`).
fn run_title(r: &Run) -> String {
    let name = match r.name.as_str() {
        "gd" => "GD".to_string(),
        "adam" => "Adam".to_string(),
        "adamw" => "AdamW".to_string(),
        "sign-gd" => "sign GD".to_string(),
        "rmsprop" => "RMSProp".to_string(),
        "adagrad" => "AdaGrad".to_string(),
        other => other.to_string(),
    };
    let eta = r.optimizer.eta();
    let eta = if (1e-3..1e4).contains(&eta) { format!("{eta}") } else { format!("{eta:e}") };
    let stop = match r.stop.label() {
        "diverged" => format!(", diverged at step {}", r.steps),
        "grad-tol" => format!(", gradient tolerance at step {}", r.steps),
        _ => String::new(),
    };
    format!("{name} (η = {eta}){stop}")
}

pub(crate) fn draw_err(figure: &str, e: impl std::fmt::Display) -> Error {
    Error::write(figure, format!("cannot draw the figure: {e}"))
}

/// Step labels on a log axis: `1`, `10`, `100`, `1e3`, `1e4`, ...
pub(crate) fn step_label(x: f64) -> String {
    if x < 999.5 { format!("{x:.0}") } else { format!("1e{}", x.log10().round()) }
}

/// The checkpoints a log-step axis can show (step >= 1), and the axis end.
fn log_points(r: &Run) -> (Vec<&Checkpoint>, f64) {
    let pts: Vec<&Checkpoint> = r.trace.iter().filter(|c| c.step >= 1).collect();
    let end = pts.last().map_or(10.0, |c| c.step as f64).max(10.0);
    (pts, end)
}

/// `(lo, hi)` of the finite values, widened by 6% and to include 0.
pub(crate) fn padded_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if hi - lo < 1e-12 {
        hi = lo + 1.0;
    }
    let pad = 0.06 * (hi - lo);
    (lo - pad, hi + pad)
}

/// An entry of a shared legend: label, colour, dashed or solid.
pub(crate) type Entry = (String, RGBColor, bool);

/// A legend centred in `area` (the strip under the panels): a line sample and a label per entry,
/// in one row or, if that is too wide, two. Shared by all panels, so no legend box hides a curve.
pub(crate) fn legend_row(area: &DrawingArea<SVGBackend, Shift>, entries: &[Entry]) -> DrawResult {
    let px = f64::from(LEGEND_PX) / 1.24; // the font size the SVG gets
    let widths: Vec<i32> =
        entries.iter().map(|(l, _, _)| 36 + (0.52 * px * l.chars().count() as f64).round() as i32 + 24).collect();
    let (w, h) = area.dim_in_pixel();
    let total: i32 = widths.iter().sum();
    let split = if total <= w as i32 - 20 { entries.len() } else { entries.len().div_ceil(2) };
    let style = TextStyle::from((FONT, LEGEND_PX).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    let lines = [(0..split), (split..entries.len())];
    let rows = lines.iter().filter(|r| !r.is_empty()).count() as i32;
    for (row, range) in lines.into_iter().filter(|r| !r.is_empty()).enumerate() {
        let row_width: i32 = widths[range.clone()].iter().sum();
        let mut x = (w as i32 - row_width).max(0) / 2;
        let y = h as i32 * (2 * row as i32 + 1) / (2 * rows);
        for k in range {
            let (label, color, dashed) = &entries[k];
            if *dashed {
                for d in 0..3 {
                    area.draw(&PathElement::new(vec![(x + 11 * d, y), (x + 11 * d + 6, y)], color.stroke_width(2)))?;
                }
            } else {
                area.draw(&PathElement::new(vec![(x, y), (x + 28, y)], color.stroke_width(3)))?;
            }
            area.draw(&Text::new(label.clone(), (x + 36, y), style.clone()))?;
            x += widths[k];
        }
    }
    Ok(())
}

/// Height of the legend strip under the panels (room for two rows).
pub(crate) const LEGEND_STRIP: u32 = 64;

/// Panel grid for `k` panels: up to two side by side.
pub(crate) fn grid(k: usize) -> (usize, usize) {
    let cols = k.clamp(1, 2);
    (k.div_ceil(cols).max(1), cols)
}

/// `dynamics.svg` (see the module doc): one panel per run, up to two side by side.
pub fn dynamics_svg(runs: &[Run]) -> Result<String> {
    let fig = "dynamics.svg";
    let (rows, cols) = grid(runs.len());
    let mut svg = String::new();
    {
        let height = 450 * rows as u32 + LEGEND_STRIP;
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_err(fig, e))?;
        let (top, bottom) = root.split_vertically(height - LEGEND_STRIP);
        for (panel, r) in top.split_evenly((rows, cols)).iter().zip(runs) {
            dynamics_panel(panel, r).map_err(|e| draw_err(fig, e))?;
        }
        let mut entries: Vec<Entry> = DYNAMICS_SERIES.iter().map(|s| (s.0.to_string(), s.2, false)).collect();
        if runs.iter().any(|r| r.feature_reversal_step.is_some()) {
            entries.push((REVERSAL_LABEL.to_string(), BLACK, true));
        }
        legend_row(&bottom, &entries).map_err(|e| draw_err(fig, e))?;
        root.present().map_err(|e| draw_err(fig, e))?;
    }
    Ok(svg)
}

/// One measured quantity of a checkpoint.
type Measure = fn(&Checkpoint) -> f64;

/// The series of every dynamics panel: legend label, quantity, colour.
pub const DYNAMICS_SERIES: [(&str, Measure, RGBColor); 4] = [
    ("max_r γ_{+1,r}", |c| c.coefficients.feature_max_per_class[0], RGBColor(31, 119, 180)),
    ("max_r γ_{−1,r}", |c| c.coefficients.feature_max_per_class[1], RGBColor(23, 190, 207)),
    ("min_i max_r ρ_{i,r}", |c| c.coefficients.noise_min_max, RGBColor(255, 127, 14)),
    ("max_i max_r ρ_{i,r}", |c| c.coefficients.noise_max_max, RGBColor(214, 39, 40)),
];

pub(crate) type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

fn dynamics_panel(panel: &DrawingArea<SVGBackend, Shift>, r: &Run) -> DrawResult {
    let (pts, end) = log_points(r);
    let series = &DYNAMICS_SERIES;
    let (lo, hi) = padded_range(pts.iter().flat_map(|c| series.iter().map(move |s| (s.1)(c))));
    let mut chart = ChartBuilder::on(panel)
        .caption(run_title(r), (FONT, TITLE_PX))
        .margin(12)
        .x_label_area_size(62)
        .y_label_area_size(84)
        .build_cartesian_2d((1f64..end).log_scale(), lo..hi)?;
    chart
        .configure_mesh()
        .x_desc("step t (log scale)")
        .y_desc("coefficient")
        .axis_desc_style((FONT, AXIS_PX))
        .label_style((FONT, TICK_PX))
        .x_label_formatter(&|x| step_label(*x))
        .y_label_formatter(&|y| crate::format::sig(*y, 2))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()?;
    chart.draw_series(LineSeries::new([(1.0, 0.0), (end, 0.0)], RGBColor(90, 90, 90).stroke_width(1)))?;
    for &(_, get, color) in series {
        let line = pts.iter().map(|c| (c.step as f64, get(c))).filter(|p| p.1.is_finite());
        chart.draw_series(LineSeries::new(line, color.stroke_width(3)))?;
    }
    if let Some(t) = r.feature_reversal_step.filter(|&t| t >= 1) {
        let tf = t as f64;
        chart.draw_series(DashedLineSeries::new([(tf, lo), (tf, hi)], 8, 5, BLACK.stroke_width(2)))?;
        let style = TextStyle::from((FONT, LEGEND_PX).into_font()).pos(Pos::new(HPos::Right, VPos::Top));
        chart.draw_series([Text::new(format!("t = {t} "), (tf, hi - 0.02 * (hi - lo)), style)])?;
    }
    Ok(())
}

/// `errors.svg` (see the module doc): training error and test error side by side.
pub fn errors_svg(runs: &[Run]) -> Result<String> {
    let fig = "errors.svg";
    let mut svg = String::new();
    {
        let height = 420 + LEGEND_STRIP;
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_err(fig, e))?;
        let (top, bottom) = root.split_vertically(height - LEGEND_STRIP);
        let panels = top.split_evenly((1, 2));
        let kinds: [(&str, Measure); 2] = [("training error", |c| c.train_error), ("test error", |c| c.test_error)];
        for (panel, (what, get)) in panels.iter().zip(kinds) {
            errors_panel(panel, runs, what, get).map_err(|e| draw_err(fig, e))?;
        }
        let entries: Vec<Entry> = runs.iter().map(|r| (run_title(r), optimizer_color(&r.name), false)).collect();
        legend_row(&bottom, &entries).map_err(|e| draw_err(fig, e))?;
        root.present().map_err(|e| draw_err(fig, e))?;
    }
    Ok(svg)
}

fn errors_panel(panel: &DrawingArea<SVGBackend, Shift>, runs: &[Run], what: &str, get: Measure) -> DrawResult {
    let end = runs.iter().map(|r| log_points(r).1).fold(10.0, f64::max);
    let mut chart = ChartBuilder::on(panel)
        .caption(what, (FONT, TITLE_PX))
        .margin(12)
        .x_label_area_size(62)
        .y_label_area_size(76)
        .build_cartesian_2d((1f64..end).log_scale(), -0.03f64..1.03)?;
    chart
        .configure_mesh()
        .x_desc("step t (log scale)")
        .y_desc("fraction with y f(W, x) ≤ 0")
        .axis_desc_style((FONT, AXIS_PX))
        .label_style((FONT, TICK_PX))
        .x_label_formatter(&|x| step_label(*x))
        .y_label_formatter(&|y| format!("{y:.1}"))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()?;
    for r in runs {
        let color = optimizer_color(&r.name);
        let line = log_points(r).0.into_iter().map(|c| (c.step as f64, get(c))).filter(|p| p.1.is_finite());
        chart.draw_series(LineSeries::new(line, color.stroke_width(3)))?;
    }
    Ok(())
}

/// `convergence.svg` (`adamgap run --to-limit --report DIR`): `||grad L||_2` against the step, both
/// axes logarithmic, one line per optimizer, at every checkpoint of the trace (step 0 and zero
/// norms left out).
pub fn convergence_svg(runs: &[Run]) -> Result<String> {
    let fig = "convergence.svg";
    let mut svg = String::new();
    {
        let height = 480 + LEGEND_STRIP;
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_err(fig, e))?;
        let (top, bottom) = root.split_vertically(height - LEGEND_STRIP);
        convergence_panel(&top, runs).map_err(|e| draw_err(fig, e))?;
        let entries: Vec<Entry> = runs.iter().map(|r| (run_title(r), optimizer_color(&r.name), false)).collect();
        legend_row(&bottom, &entries).map_err(|e| draw_err(fig, e))?;
        root.present().map_err(|e| draw_err(fig, e))?;
    }
    Ok(svg)
}

fn convergence_panel(panel: &DrawingArea<SVGBackend, Shift>, runs: &[Run]) -> DrawResult {
    let end = runs.iter().map(|r| log_points(r).1).fold(10.0, f64::max);
    let norms = || {
        runs.iter()
            .flat_map(|r| log_points(r).0.into_iter().map(|c| c.grad_norm_l2))
            .filter(|g| g.is_finite() && *g > 0.0)
    };
    let lo = norms().fold(f64::INFINITY, f64::min);
    let hi = norms().fold(0.0f64, f64::max);
    let (lo, hi) = if lo.is_finite() && hi > lo { (lo / 2.0, hi * 2.0) } else { (1e-20, 1.0) };
    let mut chart = ChartBuilder::on(panel)
        .caption("gradient norm of L against the step", (FONT, TITLE_PX))
        .margin(12)
        .x_label_area_size(62)
        .y_label_area_size(96)
        .build_cartesian_2d((1f64..end).log_scale(), (lo..hi).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("step t (log scale)")
        .y_desc("||grad L(W_t)||_2 (log scale)")
        .axis_desc_style((FONT, AXIS_PX))
        .label_style((FONT, TICK_PX))
        .x_label_formatter(&|x| step_label(*x))
        .y_label_formatter(&|y| crate::format::sig(*y, 1))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()?;
    for r in runs {
        let color = optimizer_color(&r.name);
        let line = log_points(r)
            .0
            .into_iter()
            .map(|c| (c.step as f64, c.grad_norm_l2))
            .filter(|p| p.1.is_finite() && p.1 > 0.0);
        chart.draw_series(LineSeries::new(line, color.stroke_width(3)))?;
    }
    Ok(())
}

/// Per filter `(j, r)` (index `j_index * m + r`): the final `gamma_{j,r}` and the noise level
/// `max_{i: y_i = j} rho_{i,r}` (NaN when class `j` has no training sample).
pub fn filter_levels(exp: &Experiment, r: &Run) -> (Vec<f64>, Vec<f64>) {
    let co = Coefficients::of(&r.weights, &exp.train);
    let m = r.weights.m();
    let gamma: Vec<f64> = co.gamma.iter().copied().collect();
    let mut noise = vec![f64::NEG_INFINITY; 2 * m];
    for (i, row) in co.rho.rows().into_iter().enumerate() {
        let off = if exp.train.y[i] > 0.0 { 0 } else { m };
        for (k, &v) in row.iter().enumerate() {
            noise[off + k] = noise[off + k].max(v);
        }
    }
    let noise = noise.into_iter().map(|v| if v.is_finite() { v } else { f64::NAN }).collect();
    (gamma, noise)
}

/// `filters.svg` (see the module doc): one panel per run, stacked.
pub fn filters_svg(exp: &Experiment, runs: &[Run]) -> Result<String> {
    let fig = "filters.svg";
    let mut svg = String::new();
    {
        let rows = runs.len().max(1);
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 330 * rows as u32)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_err(fig, e))?;
        for (panel, r) in root.split_evenly((rows, 1)).iter().zip(runs) {
            filters_panel(panel, exp, r).map_err(|e| draw_err(fig, e))?;
        }
        root.present().map_err(|e| draw_err(fig, e))?;
    }
    Ok(svg)
}

fn filters_panel(panel: &DrawingArea<SVGBackend, Shift>, exp: &Experiment, r: &Run) -> DrawResult {
    let (gamma, noise) = filter_levels(exp, r);
    let m = r.weights.m();
    let k = 2 * m;
    let (lo, hi) = padded_range(gamma.iter().chain(&noise).copied());
    let hi = hi + 0.45 * (hi - lo); // room for the legend
    let mut chart = ChartBuilder::on(panel)
        .caption(format!("{}: final filters", run_title(r)), (FONT, TITLE_PX))
        .margin(12)
        .x_label_area_size(62)
        .y_label_area_size(84)
        .build_cartesian_2d(0.5f64..k as f64 + 0.5, lo..hi)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(k.min(80))
        .x_desc("filter r of class j = +1 (left of the dashed line) and of class j = −1 (right)")
        .y_desc("coefficient")
        .axis_desc_style((FONT, AXIS_PX))
        .label_style((FONT, TICK_PX))
        .x_label_formatter(&|x| {
            let i = x.round() as usize;
            let rr = (i + m - 1) % m + 1;
            if (x - x.round()).abs() < 1e-9 && i >= 1 && (rr == 1 || rr.is_multiple_of(5)) {
                rr.to_string()
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|y| crate::format::sig(*y, 2))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()?;
    chart.draw_series(LineSeries::new([(0.5, 0.0), (k as f64 + 0.5, 0.0)], RGBColor(90, 90, 90).stroke_width(1)))?;
    let bars = |values: &[f64], left: f64, color: RGBColor| {
        values
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(i, &v)| {
                let x = i as f64 + 1.0 + left;
                Rectangle::new([(x, 0.0), (x + 0.38, v)], color.filled())
            })
            .collect::<Vec<_>>()
    };
    let (cg, cn) = (RGBColor(31, 119, 180), RGBColor(255, 127, 14));
    chart
        .draw_series(bars(&gamma, -0.4, cg))?
        .label("γ_{j,r} (feature)")
        .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], cg.filled()));
    chart
        .draw_series(bars(&noise, 0.02, cn))?
        .label("max_{i: y_i = j} ρ_{i,r} (noise)")
        .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], cn.filled()));
    let sep = m as f64 + 0.5;
    chart.draw_series(DashedLineSeries::new([(sep, lo), (sep, hi)], 6, 4, BLACK.stroke_width(1)))?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FONT, LEGEND_PX))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(150, 150, 150))
        .draw()?;
    Ok(())
}
