//! The report folder of `adamgap run --report DIR`: `report.md` (the tables, the verdicts and the
//! trace of [`crate::report::markdown`], with the figures embedded) and the three SVG figures of
//! [`crate::figures`], written atomically ([`crate::outdir`]).

use crate::error::Result;
use crate::outdir::OutDir;
use crate::train::{Experiment, Run};
use crate::verdict::VerdictLine;

/// The figures of a report folder, in the order `report.md` shows them.
pub const FIGURES: [&str; 3] = ["dynamics.svg", "errors.svg", "filters.svg"];

/// True for the names a report folder holds (an existing folder of only these may be replaced).
pub fn owned(name: &str) -> bool {
    name == "report.md" || FIGURES.contains(&name) || name == CONVERGENCE_FIGURE
}

/// The figure a report folder of `adamgap run --to-limit` adds: the gradient norm against the step.
pub const CONVERGENCE_FIGURE: &str = "convergence.svg";

/// The Markdown of `report.md`: the headline report, then the figures with their captions, then
/// the trace tables.
pub fn markdown(exp: &Experiment, runs: &[Run], verdicts: &[VerdictLine]) -> String {
    let md = crate::report::markdown(exp, runs, verdicts);
    let figures = figures_section(runs);
    match md.find("\n## ") {
        Some(at) => format!("{}\n{}{}", &md[..at], figures, &md[at..]),
        None => format!("{md}\n{figures}"),
    }
}

fn figures_section(runs: &[Run]) -> String {
    let reversal = runs
        .iter()
        .filter_map(|r| r.feature_reversal_step.map(|t| format!("{} at step {t}", r.name)))
        .collect::<Vec<_>>();
    let reversal = if reversal.is_empty() {
        "No run reverses its feature coefficient.".to_string()
    } else {
        format!("The dashed vertical line marks the feature reversal ({}).", reversal.join(", "))
    };
    format!(
        "## Figures\n\n\
         ![Feature and noise coefficients against the step](dynamics.svg)\n\n\
         *Feature and noise coefficients against the step t (log axis; step 0 left out), one panel per \
         optimizer: `max_r gamma_{{j,r}}` for each class j and `min_i max_r rho_{{i,r}}`, \
         `max_i max_r rho_{{i,r}}` at every checkpoint of the trace. {reversal}*\n\n\
         ![Training and test error against the step](errors.svg)\n\n\
         *Training error (left) and test error (right, fresh points) against the step t (log axis), \
         one line per optimizer.*\n\n\
         ![Final feature and noise coefficient of every filter](filters.svg)\n\n\
         *Final `gamma_{{j,r}}` of every filter (blue) beside its noise level \
         `max_{{i: y_i = j}} rho_{{i,r}}` over the training samples of its class (orange): a filter \
         with a large blue bar learned the feature, one with a large orange bar memorized noise.*\n"
    )
}

/// Writes the report folder `dir` atomically: nothing at `dir` changes unless every file is
/// written.
pub fn write(dir: &std::path::Path, exp: &Experiment, runs: &[Run], verdicts: &[VerdictLine]) -> Result<()> {
    write_with(dir, exp, runs, verdicts, "", false)
}

/// [`write()`] with `extra` Markdown appended to `report.md` (the certified endpoints' section of
/// `adamgap run --certify`, the limit points' of `--to-limit`), and with `convergence` the figure
/// [`CONVERGENCE_FIGURE`] and its caption after it.
pub fn write_with(
    dir: &std::path::Path,
    exp: &Experiment,
    runs: &[Run],
    verdicts: &[VerdictLine],
    extra: &str,
    convergence: bool,
) -> Result<()> {
    let mut out = OutDir::create(dir, &owned)?;
    let mut md = markdown(exp, runs, verdicts) + extra;
    if convergence {
        md += &format!(
            "\n![Gradient norm against the step]({CONVERGENCE_FIGURE})\n\n\
             *`||grad L(W_t)||_2` against the step t, both axes logarithmic, one line per optimizer, at \
             every checkpoint of the trace (docs/limit-points.md).*\n"
        );
        out.write(CONVERGENCE_FIGURE, crate::figures::convergence_svg(runs)?.as_bytes())?;
    }
    out.write("report.md", md.as_bytes())?;
    out.write(FIGURES[0], crate::figures::dynamics_svg(runs)?.as_bytes())?;
    out.write(FIGURES[1], crate::figures::errors_svg(runs)?.as_bytes())?;
    out.write(FIGURES[2], crate::figures::filters_svg(exp, runs)?.as_bytes())?;
    out.commit()
}

/// Writes the report folder `dir` of a run on real images atomically: `report.md`
/// ([`crate::report::real_markdown`], then `extra`) and `errors.svg`. The feature and noise
/// figures are left out: their coefficients are notions of the synthetic distribution.
pub fn write_real(
    dir: &std::path::Path,
    exp: &Experiment,
    runs: &[Run],
    task: &crate::images::TaskInfo,
    extra: &str,
) -> Result<()> {
    let mut out = OutDir::create(dir, &owned)?;
    out.write("report.md", (crate::report::real_markdown(exp, runs, task) + extra).as_bytes())?;
    out.write(FIGURES[1], crate::figures::errors_svg(runs)?.as_bytes())?;
    out.commit()
}

/// The figure of a convex report folder.
pub const CONVEX_FIGURE: &str = "certificate.svg";

/// True for the names a convex report folder holds.
pub fn convex_owned(name: &str) -> bool {
    name == "report.md" || name == CONVEX_FIGURE
}

/// Writes the report folder of `adamgap convex --report DIR` atomically: `report.md` (the text
/// report `text`, then the figure) and [`CONVEX_FIGURE`].
pub fn write_convex(dir: &std::path::Path, text: &str, report: &crate::certify::ConvexReport) -> Result<()> {
    let mut out = OutDir::create(dir, &convex_owned)?;
    let md = format!(
        "# adamgap convex report\n\n```text\n{text}```\n\n## Figure\n\n\
         ![Certified distance of every output to the unique minimizer]({CONVEX_FIGURE})\n\n\
         *Certified distance to the unique minimizer `W*` (log axis): each bar ends at a run's certified \
         upper bound `||grad L(W)|| / lambda` (green: within the target radius at the gradient tolerance, \
         grey: not certified within it); the high-precision center's bar is its own radius; AdamW's red bar \
         starts at its certified lower bound (it converges elsewhere). The dashed line is the target radius.*\n"
    );
    out.write("report.md", md.as_bytes())?;
    out.write(CONVEX_FIGURE, crate::figures::convex::certificate_svg(report)?.as_bytes())?;
    out.commit()
}

/// True for the names a check report folder holds.
pub fn claims_owned(name: &str) -> bool {
    name == "report.md" || (name.starts_with("claim-") && name.ends_with(".svg"))
}

/// Writes the report folder of `adamgap check --report DIR` atomically: `report.md` (per claim its
/// summary, as `adamgap check --verbose` prints it, then its figure) and one
/// `claim-<id>.svg` per claim that tracks quantities (`crate::figures::claims`).
pub fn write_claims(dir: &std::path::Path, reports: &[crate::claims::ClaimReport]) -> Result<()> {
    use crate::figures::claims::{claim_file, claim_svg};
    let mut out = OutDir::create(dir, &claims_owned)?;
    let mut md = String::from(
        "# adamgap check report\n\nOne section per claim: its summary (setting, tracked quantities, checks with their \
         values at initialization, seeds, verdict) and a figure of its tracked quantities against the step, with the \
         thresholds of the checks that read them (dashed). See docs/methodology.md and docs/claims.md.\n",
    );
    for r in reports {
        md.push_str(&format!("\n## {}: {}\n\n```text\n{}\n```\n", r.id, r.title, r.summary()));
        if let Some(svg) = claim_svg(r)? {
            let file = claim_file(&r.id);
            md.push_str(&format!("\n![Tracked quantities of claim {}]({file})\n", r.id));
            out.write(&file, svg.as_bytes())?;
        }
    }
    out.write("report.md", md.as_bytes())?;
    out.commit()
}
