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
    use crate::results::Cell;
    use crate::verdict::Verdict;

    /// A cell with Adam's and GD's final test errors, `adam_stop` Adam's stop reason.
    fn cell(id: &str, adam: f64, gd: f64, adam_stop: &str) -> Cell {
        let s = crate::setting::Setting::default();
        let run = |k: usize, test: f64, stop: &str| {
            serde_json::json!({
                "optimizer": s.optimizers[k], "train_error": 0.0, "test_error": test, "objective": 0.1,
                "loss": 0.1, "grad_norm_l2": 0.1, "grad_norm_l1": 0.1, "weight_norm": 1.0, "feature_max": 1.0,
                "feature_max_per_class": [1.0, 1.0], "noise_min_max": 1.0, "noise_max_max": 1.0,
                "feature_reversal_step": null, "steps": 10, "stop_reason": stop,
                "stop": {"reason": stop, "step": 10}, "moved": true,
            })
        };
        serde_json::from_value(serde_json::json!({
            "cell": id, "index": 0, "grid_hash": "0", "axes": {}, "setting": s,
            "overlap": {"pairs_overlapping": 0, "pairs_total": 1, "samples_overlapping": 0, "shared_coordinates": 0},
            "runs": {"gd": run(0, gd, "step-budget"), "adam": run(1, adam, adam_stop)},
            "distance_gd_adam": 1.0, "verdicts": [],
        }))
        .expect("a cell")
    }

    /// The gap check reads the worst cell: one cell below Adam's bound (or above GD's) fails the
    /// group; a missing cell or a diverged run makes it inconclusive, with the reason.
    #[test]
    fn the_gap_check_holds_in_every_cell_or_says_why_not() {
        let checks = super::gap_checks();
        let (a, b) = (cell("c0", 0.9, 0.0, "step-budget"), cell("c1", 0.6, 0.01, "step-budget"));
        let (outcomes, v) = super::gap(&checks, &[&a, &b], 2);
        assert_eq!(v, Verdict::Holds);
        assert_eq!((outcomes[0].lhs, outcomes[1].lhs), (Some(0.6), Some(0.01)));
        let low = cell("c2", 0.4, 0.0, "step-budget");
        assert_eq!(super::gap(&checks, &[&a, &low], 2).1, Verdict::Fails);
        let high = cell("c2", 0.9, 0.03, "step-budget");
        assert_eq!(super::gap(&checks, &[&a, &high], 2).1, Verdict::Fails);
        assert_eq!(super::gap(&checks, &[&a], 2).1, Verdict::Inconclusive("1 of 2 cells missing".into()));
        let diverged = cell("c3", 0.9, 0.0, "diverged");
        let (_, v) = super::gap(&checks, &[&a, &diverged], 2);
        assert!(matches!(&v, Verdict::Inconclusive(r) if r.contains("adam (cell c3) diverged")), "{v:?}");
    }

    /// A converged, certified convex report of one GD run, AdamW certified away from `W*`.
    fn convex_report() -> crate::certify::ConvexReport {
        let run = serde_json::json!({
            "optimizer": {"kind": "gd", "eta": 0.25}, "schedule": "constant", "stop": {"reason": "grad-tol", "step": 5},
            "steps": 5, "grad_norm_f64": 1e-11, "grad_norm_upper": 1e-11, "grad_norm_lower": 1e-11, "radius": 1e-9,
            "certified_within_target": true, "distance_to_center": [0.0, 1e-9], "consistent": true,
            "predictions_certified": 10, "test_error": 0.0, "seconds": 0.0,
        });
        serde_json::from_value(serde_json::json!({
            "problem": "logistic", "lambda": 0.01, "lambda_u": "1/100", "scale": "1", "d": 3, "n": 2, "m": null,
            "dim": 3, "smoothness_upper": 1.0, "condition_bound": 100.0, "prec": 128, "target_radius": 1e-6,
            "runs": {"gd": run}, "max_radius": 1e-9, "pair_bounds": {},
            "minimizer": {"radius": 1e-45, "radius_u": 1e-45, "digits": 40, "reached": true, "iterations": 2,
                          "prec": 200, "center_norm": 1.0, "center_feature": 1.0, "seconds": 0.0},
            "agree": true, "predictions_certified": 10, "disagreements": 0, "test_size": 10,
            "minimizer_test_error": 0.0,
            "adamw": {"optimizer": {"kind": "adamw", "eta": 0.003, "b1": 0.9, "b2": 0.999, "eps": 0.01, "bias_correction": true},
                      "stop": {"reason": "step-budget", "step": 10}, "steps": 10, "grad_norm_lower": 0.1,
                      "smoothness_upper": 1.0, "distance_lower": 0.1, "distance_lower_via_center": 0.5, "radius": 10.0,
                      "test_error": 0.0, "prediction_differences": 0},
            "seconds": 0.0,
        }))
        .expect("a convex report")
    }

    /// Claim 07 on the certificate, branch by branch: it holds on a converged, certified report; a
    /// run on its budget, a radius above the target, an inconsistent certificate or binary64
    /// predictions that differ leave it inconclusive with claim 07's reason; an uncertified
    /// prediction, a minimizer radius above 1e-30 or AdamW not certified away fail it; a diverged
    /// run makes it inconclusive whatever the checks say.
    #[test]
    fn claim_07_decides_the_convex_verdict() {
        use crate::optim::StopReason;
        let ok = convex_report();
        assert_eq!(super::convex(&ok).verdict, Verdict::Holds, "{:?}", super::convex(&ok));
        let inconclusive = |r: &crate::certify::ConvexReport, why: &str| {
            let v = super::convex(r).verdict;
            assert!(matches!(&v, Verdict::Inconclusive(r) if r.contains(why)), "{why}: {v:?}");
        };
        let mut r = ok.clone();
        r.runs.get_mut("gd").unwrap().stop = StopReason::StepBudget { step: 5 };
        inconclusive(&r, "a run hit its step budget before the gradient tolerance");
        let mut r = ok.clone();
        r.max_radius = 1e-3;
        inconclusive(&r, "certified radius not small enough");
        let mut r = ok.clone();
        r.runs.get_mut("gd").unwrap().consistent = false;
        inconclusive(&r, "contradicts its certified distance");
        let mut r = ok.clone();
        r.disagreements = 1;
        inconclusive(&r, "binary64 predictions differ between runs");
        let mut r = ok.clone();
        r.predictions_certified = 9;
        assert_eq!(super::convex(&r).verdict, Verdict::Fails);
        let mut r = ok.clone();
        r.minimizer.radius = 1e-20;
        assert_eq!(super::convex(&r).verdict, Verdict::Fails);
        let mut r = ok.clone();
        r.adamw.as_mut().unwrap().distance_lower = 0.0;
        assert_eq!(super::convex(&r).verdict, Verdict::Fails);
        let mut r = ok.clone();
        r.adamw = None;
        inconclusive(&r, "not measured: AdamW contrast not run");
        let mut r = ok;
        r.runs.get_mut("gd").unwrap().stop = StopReason::Diverged { step: 3 };
        r.predictions_certified = 0;
        inconclusive(&r, "a convex run diverged");
    }

    /// Claim 12 gives the gap check two one-sided checks, Adam's from below and GD's from above.
    #[test]
    fn the_gap_check_is_claim_12_s_test_error_checks() {
        let checks = super::gap_checks();
        let read: Vec<(&str, &str, Option<f64>)> =
            checks.iter().map(|c| (super::gap_run(c), c.op.symbol(), c.value)).collect();
        assert_eq!(read, [("adam", ">=", Some(0.5)), ("gd", "<=", Some(0.02))]);
    }
}
