//! The figure of `adamgap convex --report DIR`: `certificate.svg`, the certified distance of every
//! optimizer's output to the unique minimizer `W*` on a log axis (`||W - W*|| <= radius`, a bar
//! from the left edge to the radius), the high-precision center's own radius, the target radius as
//! a dashed line, and AdamW's certified lower bound (`||W_AdamW - W*|| >= bound`, a bar from the
//! bound to the right edge): every bar left of the line is a certificate of reaching `W*`, AdamW's
//! bar shows it certified away from it (`docs/convex.md`).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{AXIS_PX, DrawResult, FONT, LEGEND_PX, TICK_PX, TITLE_PX, WIDTH, draw_err};
use crate::certify::ConvexReport;
use crate::error::Result;

/// One row of the figure: label, `(from, to)` on the distance axis, colour.
struct Row {
    label: String,
    from: f64,
    to: f64,
    color: RGBColor,
}

/// The label of the target-radius line.
pub const TARGET_LABEL: &str = "target radius";

/// `certificate.svg` (see the module doc).
pub fn certificate_svg(r: &ConvexReport) -> Result<String> {
    let fig = "certificate.svg";
    let finite = |x: f64| x.is_finite() && x > 0.0;
    let mut values: Vec<f64> = r.runs.values().map(|x| x.radius).chain([r.minimizer.radius, r.target_radius]).collect();
    if let Some(a) = &r.adamw {
        values.push(a.distance_lower);
    }
    let lo = values.iter().copied().filter(|&x| finite(x)).fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().filter(|&x| finite(x)).fold(f64::NEG_INFINITY, f64::max);
    // The axis is log10 of the distance, whole decades, with a decade of room on either side.
    let (left, right) = if lo.is_finite() { (lo.log10().floor() - 1.0, hi.log10().ceil() + 1.0) } else { (-20.0, 0.0) };
    let clamp = |x: f64| {
        if finite(x) {
            x.log10().clamp(left, right)
        } else if x > 0.0 {
            right
        } else {
            left
        }
    };
    let (good, open, away) = (RGBColor(44, 160, 44), RGBColor(150, 150, 150), RGBColor(214, 39, 40));
    let mut rows: Vec<Row> = r
        .runs
        .iter()
        .map(|(name, run)| Row {
            label: format!("{name} (≤ {})", crate::format::sig(run.radius, 2)),
            from: left,
            to: clamp(run.radius),
            color: if run.certified_within_target { good } else { open },
        })
        .collect();
    rows.push(Row {
        label: format!("center (≤ {})", crate::format::sig(r.minimizer.radius, 2)),
        from: left,
        to: clamp(r.minimizer.radius),
        color: if r.minimizer.reached { good } else { open },
    });
    if let Some(a) = &r.adamw {
        let label = format!("adamw (≥ {})", crate::format::sig(a.distance_lower, 2));
        rows.push(Row { label, from: clamp(a.distance_lower), to: right, color: away });
    }
    let mut svg = String::new();
    {
        let height = 170 + 44 * rows.len() as u32;
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_err(fig, e))?;
        draw(&root, r, &rows, (left, right)).map_err(|e| draw_err(fig, e))?;
        root.present().map_err(|e| draw_err(fig, e))?;
    }
    Ok(svg)
}

fn draw(
    root: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    r: &ConvexReport,
    rows: &[Row],
    (left, right): (f64, f64),
) -> DrawResult {
    let k = rows.len();
    let title = format!("{}: certified distance to the unique minimizer W*", r.problem);
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, TITLE_PX))
        .margin(14)
        .x_label_area_size(62)
        .y_label_area_size(290)
        .build_cartesian_2d(left..right, 0f64..k as f64 + 0.9)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_labels(16)
        .x_desc("certified ||W − W*||_F (log scale)")
        .axis_desc_style((FONT, AXIS_PX))
        .label_style((FONT, TICK_PX))
        .x_label_formatter(&|x| format!("1e{}", x.round()))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()?;
    chart.draw_series(rows.iter().enumerate().map(|(i, row)| {
        let y = (k - i) as f64;
        Rectangle::new([(row.from, y - 0.78), (row.to, y - 0.22)], row.color.filled())
    }))?;
    // Row labels left of the plot, centred on their bars (pixel positions from the chart's mapping).
    let style = TextStyle::from((FONT, TICK_PX).into_font()).pos(Pos::new(HPos::Right, VPos::Center));
    for (i, row) in rows.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(left, (k - i) as f64 - 0.5));
        root.draw(&Text::new(row.label.clone(), (px - 10, py), style.clone()))?;
    }
    chart
        .draw_series(DashedLineSeries::new(
            [(r.target_radius.log10(), 0.0), (r.target_radius.log10(), k as f64)],
            8,
            5,
            BLACK.stroke_width(2),
        ))?
        .label(format!("{TARGET_LABEL} {:e}", r.target_radius))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLACK.stroke_width(2)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FONT, LEGEND_PX))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(150, 150, 150))
        .draw()?;
    Ok(())
}
