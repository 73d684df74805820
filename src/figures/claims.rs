//! The figures of `adamgap check --report DIR`: one SVG per claim, `claim-<id>.svg`, with a panel
//! per tracked quantity (its value at the snapshot checkpoints of the claim's first seed, against
//! the step on a log axis) and, in the panel of a quantity a check reads, the check's threshold as
//! a dashed line (the right-hand side the check compared with, on that seed). What each quantity
//! means is in `docs/methodology.md`.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{AXIS_PX, DrawResult, Entry, FONT, LEGEND_STRIP, TICK_PX, TITLE_PX, WIDTH, draw_err, grid, legend_row};
use crate::claims::ClaimReport;
use crate::error::Result;

/// The colour of every tracked series.
const SERIES: RGBColor = RGBColor(31, 119, 180);
/// The colour of a threshold.
const THRESHOLD: RGBColor = RGBColor(214, 39, 40);

/// The legend label of a threshold line.
pub const THRESHOLD_LABEL: &str = "threshold of a check on this quantity";
/// The legend label of the tracked series.
pub const SERIES_LABEL: &str = "value at the checkpoints (first seed)";

/// The file name of a claim's figure.
pub fn claim_file(id: &str) -> String {
    format!("claim-{id}.svg")
}

/// `claim-<id>.svg` (see the module doc); `None` when the claim tracks no quantity.
pub fn claim_svg(r: &ClaimReport) -> Result<Option<String>> {
    if r.tracked_quantities.is_empty() {
        return Ok(None);
    }
    let fig = claim_file(&r.id);
    let (rows, cols) = grid(r.tracked_quantities.len());
    let mut svg = String::new();
    {
        let height = 380 * rows as u32 + LEGEND_STRIP + 50;
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_err(&fig, e))?;
        let root = root
            .titled(&format!("{} ({})", r.id, r.verdict.label()), (FONT, TITLE_PX))
            .map_err(|e| draw_err(&fig, e))?;
        let (_, h) = root.dim_in_pixel();
        let (top, bottom) = root.split_vertically(h - LEGEND_STRIP);
        for (k, panel) in top.split_evenly((rows, cols)).iter().enumerate().take(r.tracked_quantities.len()) {
            panel_of(panel, r, k).map_err(|e| draw_err(&fig, e))?;
        }
        let mut entries: Vec<Entry> = vec![(SERIES_LABEL.to_string(), SERIES, false)];
        if (0..r.tracked_quantities.len()).any(|k| !thresholds(r, k).is_empty()) {
            entries.push((THRESHOLD_LABEL.to_string(), THRESHOLD, true));
        }
        legend_row(&bottom, &entries).map_err(|e| draw_err(&fig, e))?;
        root.present().map_err(|e| draw_err(&fig, e))?;
    }
    Ok(Some(svg))
}

/// The finite thresholds of the checks on tracked quantity `k`.
fn thresholds(r: &ClaimReport, k: usize) -> Vec<f64> {
    let q = &r.tracked_quantities[k];
    r.checks.iter().filter(|c| &c.quantity == q).filter_map(|c| c.rhs).filter(|x| x.is_finite()).collect()
}

fn panel_of(panel: &DrawingArea<SVGBackend, Shift>, r: &ClaimReport, k: usize) -> DrawResult {
    let points: Vec<(f64, f64)> = r
        .tracked
        .iter()
        .filter(|row| row.step >= 1)
        .filter_map(|row| row.values.get(k).copied().flatten().map(|v| (row.step as f64, v)))
        .filter(|p| p.1.is_finite())
        .collect();
    let limits = thresholds(r, k);
    let end = points.iter().map(|p| p.0).fold(10.0, f64::max);
    let (lo, hi) = super::padded_range(points.iter().map(|p| p.1).chain(limits.iter().copied()));
    let mut chart = ChartBuilder::on(panel)
        .caption(&r.tracked_quantities[k], (FONT, AXIS_PX))
        .margin(12)
        .x_label_area_size(52)
        .y_label_area_size(84)
        .build_cartesian_2d((1f64..end).log_scale(), lo..hi)?;
    chart
        .configure_mesh()
        .x_desc("step t (log scale)")
        .axis_desc_style((FONT, AXIS_PX))
        .label_style((FONT, TICK_PX))
        .x_label_formatter(&|x| super::step_label(*x))
        .y_label_formatter(&|y| crate::format::sig(*y, 2))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()?;
    chart.draw_series(LineSeries::new(points.iter().copied(), SERIES.stroke_width(3)))?;
    chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, SERIES.filled())))?;
    for y in limits {
        chart.draw_series(DashedLineSeries::new([(1.0, y), (end, y)], 8, 5, THRESHOLD.stroke_width(2)))?;
    }
    Ok(())
}
