//! The verdicts of the other commands, each from a compiled-in theorem file's checks
//! ([`super::builtin`]) and the one verdict rule ([`super::evaluate::verdict`]), so that no command
//! restates a threshold: `adamgap convex` prints claim 07's checks on its certificate
//! ([`convex`]), `adamgap precision`'s agreement line is claim 11's checks on its audit
//! ([`precision`]), and `adamgap sweep merge`'s gap check is claim 12's checks on the test errors,
//! read on the merged cells ([`gap`]).

use serde::{Deserialize, Serialize};

use super::builtin::{self, Source};
use super::evaluate::{evaluate_check, verdict};
use super::measure::{measure_audit, measure_certificate};
use super::outcome::{CheckOutcome, Decision, Measurement, RunInfo};
use super::quantity::refers_to;
use super::theorem::{Check, Op};
use crate::certify::ConvexReport;
use crate::precision::audit::Audit;
use crate::results::Cell;
use crate::verdict::Verdict;

/// The checks of the compiled-in file `source` on `m`, by the one verdict rule over `m`'s runs.
fn decide(source: Source, m: &Measurement) -> Decision {
    let theorem = builtin::theorem(source);
    let outcomes: Vec<CheckOutcome> = theorem.checks.iter().map(|c| evaluate_check(c, m)).collect();
    Decision::of(source.0, verdict(m, &m.runs, &outcomes), &outcomes)
}

/// `adamgap convex`'s verdict: claim 07's checks (`theorems/07-convex-unique-minimizer.toml`) on
/// the certificate's quantities ([`measure_certificate`]).
pub fn convex(report: &ConvexReport) -> Decision {
    decide(builtin::CONVEX, &measure_certificate(report))
}

/// `adamgap precision`'s agreement: claim 11's checks (`theorems/11-precision-robust.toml`) on the
/// audit's quantities ([`measure_audit`]).
pub fn precision(audit: &Audit) -> Decision {
    decide(builtin::PRECISION, &measure_audit(audit))
}

/// What `adamgap convex --json` prints: the certificate's report with claim 07's decision under
/// `verdicts` (after the report's fields). Read back strictly: the report's fields by
/// [`ConvexReport`] (unknown ones are errors), `verdicts` by [`Decision`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "serde_json::Map<String, serde_json::Value>")]
pub struct ConvexOutput {
    #[serde(flatten)]
    pub report: ConvexReport,
    pub verdicts: Decision,
}

impl TryFrom<serde_json::Map<String, serde_json::Value>> for ConvexOutput {
    type Error = String;
    fn try_from(mut map: serde_json::Map<String, serde_json::Value>) -> Result<Self, String> {
        let verdicts = map.remove("verdicts").ok_or("missing field `verdicts`")?;
        Ok(Self {
            verdicts: serde_json::from_value(verdicts).map_err(|e| format!("verdicts: {e}"))?,
            report: serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| e.to_string())?,
        })
    }
}

/// Claim 12's checks on Adam's and GD's test error at the largest `d` (`last.<run>.test_error`):
/// the checks of `adamgap sweep merge`'s gap check, in file order.
pub fn gap_checks() -> Vec<Check> {
    let theorem = builtin::theorem(builtin::GAP);
    let on_test_error = |c: &Check| {
        c.quantity.strip_prefix("last.").and_then(|q| q.strip_suffix(".test_error")).is_some_and(|r| !r.contains('.'))
            && c.of.is_none()
    };
    theorem.checks.into_iter().filter(on_test_error).collect()
}

/// The run a gap check reads (`adam` of `last.adam.test_error`).
pub fn gap_run(c: &Check) -> &str {
    c.quantity.split('.').nth(1).unwrap_or_default()
}

/// The gap check on a group of sweep cells (every cell at one value of the merge's axis, or all):
/// each of [`gap_checks`] read at the group's worst cell (the smallest test error for a lower
/// bound, the largest for an upper bound), so that it holds when it holds in every cell, and the one
/// verdict rule over the runs the checks read (a diverged run, or one that never moved, makes the
/// group inconclusive). `expected` cells belong to the group; `cells` are those present.
pub fn gap(checks: &[Check], cells: &[&Cell], expected: usize) -> (Vec<CheckOutcome>, Verdict) {
    let complete: Vec<&&Cell> =
        cells.iter().filter(|c| checks.iter().all(|k| c.runs.contains_key(gap_run(k)))).collect();
    let mut m = if complete.len() < expected || expected == 0 {
        let missing = expected - complete.len().min(expected);
        Measurement::unavailable(format!("{missing} of {expected} cells missing"))
    } else {
        Measurement::default()
    };
    for c in checks {
        let run = gap_run(c);
        let values = complete.iter().map(|cell| cell.runs[run].test_error);
        let worst = match c.op {
            Op::Ge | Op::Gt => values.fold(f64::INFINITY, f64::min),
            Op::Le | Op::Lt => values.fold(f64::NEG_INFINITY, f64::max),
            op => panic!("the gap check reads one-sided bounds, not `{}`", op.symbol()),
        };
        if !complete.is_empty() {
            m.quantities.insert(c.quantity.clone(), worst);
        }
    }
    for cell in &complete {
        for (name, r) in cell.runs.iter().filter(|(name, _)| checks.iter().any(|c| refers_to(&c.quantity, name))) {
            m.runs.push(RunInfo::of_result(format!("{name} (cell {})", cell.cell), r));
        }
    }
    let outcomes: Vec<CheckOutcome> = checks.iter().map(|c| evaluate_check(c, &m)).collect();
    let v = verdict(&m, &m.runs, &outcomes);
    (outcomes, v)
}

#[cfg(test)]
mod tests {
    /// Claim 12 gives the gap check two one-sided checks, Adam's from below and GD's from above.
    #[test]
    fn the_gap_check_is_claim_12_s_test_error_checks() {
        let checks = super::gap_checks();
        let read: Vec<(&str, &str, Option<f64>)> =
            checks.iter().map(|c| (super::gap_run(c), c.op.symbol(), c.value)).collect();
        assert_eq!(read, [("adam", ">=", Some(0.5)), ("gd", "<=", Some(0.02))]);
    }
}
