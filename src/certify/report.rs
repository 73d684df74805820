//! The report of a convex comparison: what was measured and certified per run, for the
//! high-precision minimizer and the AdamW contrast, and the verdicts (`docs/convex.md`).

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};

use crate::optim::StopReason;
use crate::setting::OptimizerSetting;
use crate::verdict::Verdict;

/// One compared run in the report.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// The optimizer and its hyperparameters (`None` for Newton).
    pub optimizer: Option<OptimizerSetting>,
    /// Step-size schedule.
    pub schedule: String,
    /// Why it stopped.
    pub stop: StopReason,
    /// Steps taken.
    pub steps: usize,
    /// `||grad L||_2` in binary64 at the output (indicative only).
    pub grad_norm_f64: f64,
    /// Certified upper bound of `||grad L||_2` at the output (rounded up).
    pub grad_norm_upper: f64,
    /// Certified lower bound of `||grad L||_2` at the output (rounded down).
    pub grad_norm_lower: f64,
    /// Certified `||output - W*||_2 <= radius` (rounded up).
    pub radius: f64,
    /// `radius <= target_radius` and the run stopped at the gradient tolerance.
    pub certified_within_target: bool,
    /// Rigorous bounds on the distance from the output to the high-precision center.
    pub distance_to_center: [f64; 2],
    /// The certificate is consistent with the high-precision minimizer: the distance to `W*`
    /// (at least `distance_to_center[0] - minimizer radius`) does not exceed `radius`.
    pub consistent: bool,
    /// Test points whose prediction by this output is certified equal to `W*`'s.
    pub predictions_certified: usize,
    /// Test error of this output (binary64 outputs, clean labels).
    pub test_error: f64,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// The high-precision minimizer in the report.
#[derive(Clone, Debug, Serialize)]
pub struct MinimizerReport {
    /// Certified distance from the center to the minimizer in the optimized space (rounded up).
    pub radius: f64,
    /// The same in `u` space (the reduced problem; equal to `radius` for logistic).
    pub radius_u: f64,
    /// Requested digits: `radius_u <= 10^-digits` is the target.
    pub digits: u32,
    /// Whether the target was reached.
    pub reached: bool,
    /// Refinement steps with exact gradients.
    pub iterations: usize,
    /// Working precision (bits).
    pub prec: u32,
    /// `||u*||_2` (binary64, indicative).
    pub center_norm: f64,
    /// `u*[0]`, the feature coordinate (binary64, indicative).
    pub center_feature: f64,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// The AdamW contrast in the report.
#[derive(Clone, Debug, Serialize)]
pub struct AdamWReport {
    /// Its hyperparameters.
    pub optimizer: OptimizerSetting,
    /// Why it stopped.
    pub stop: StopReason,
    /// Steps taken.
    pub steps: usize,
    /// Certified lower bound of `||grad L||_2` at its output.
    pub grad_norm_lower: f64,
    /// The smoothness bound `L_smooth` used.
    pub smoothness_upper: f64,
    /// Certified `||W_adamw - W*|| >= grad_norm_lower / L_smooth` (rounded down).
    pub distance_lower: f64,
    /// Certified `||W_adamw - W*|| >=` distance to the high-precision center minus its radius.
    pub distance_lower_via_center: f64,
    /// Certified upper bound on the same distance (strong convexity).
    pub radius: f64,
    /// Test error (binary64).
    pub test_error: f64,
    /// Test points where its binary64 prediction differs from the certified prediction of `W*`.
    pub prediction_differences: usize,
}

/// Everything `adamgap convex` measured and certified.
#[derive(Clone, Debug, Serialize)]
pub struct ConvexReport {
    /// `paper-linear` or `logistic`.
    pub problem: String,
    /// The decay of the optimized objective.
    pub lambda: f64,
    /// The decay of the reduced problem in `u`, exactly (`p/q`).
    pub lambda_u: String,
    /// `c` exactly (`1` or `1/m`).
    pub scale: String,
    /// Dimension `d`, samples `n`, filters `m` (paper-linear) and optimized dimension.
    pub d: usize,
    pub n: usize,
    pub m: Option<usize>,
    pub dim: usize,
    /// Certified upper bound on the smoothness constant in the optimized space.
    pub smoothness_upper: f64,
    /// Condition-number bound `smoothness_upper / lambda`.
    pub condition_bound: f64,
    /// Bits of the enclosures for the runs.
    pub prec: u32,
    /// The target radius of the runs.
    pub target_radius: f64,
    /// The runs, by name.
    pub runs: BTreeMap<String, RunReport>,
    /// The largest radius over the compared runs.
    pub max_radius: f64,
    /// Pairwise bounds `||W_a - W_b|| <= r_a + r_b`, by `a/b`.
    pub pair_bounds: BTreeMap<String, f64>,
    /// The high-precision minimizer.
    pub minimizer: MinimizerReport,
    /// Every compared run certified within the target (so every pair within `2 target`) and
    /// no certified prediction differs.
    pub agree: bool,
    /// Test points whose predictions are certified identical for every compared run and `W*`.
    pub predictions_certified: usize,
    /// Test points where two certified predictions differ (0 unless a certificate is wrong).
    pub disagreements: usize,
    /// Test-set size.
    pub test_size: usize,
    /// Test error of `W*` (certified signs; uncertified points counted with binary64 signs).
    pub minimizer_test_error: f64,
    /// The AdamW contrast.
    pub adamw: Option<AdamWReport>,
    /// The verdicts.
    pub verdicts: Verdicts,
    /// Wall time of the whole computation in seconds.
    pub seconds: f64,
}

/// The verdicts of a convex comparison, each `holds`, `fails`, or `inconclusive` with the reason
/// (a run that did not reach the tolerance, a minimizer short of its digits). In JSON each is
/// `true` exactly when it holds.
#[derive(Clone, Debug, Serialize)]
pub struct Verdicts {
    /// Every compared run stopped at the gradient tolerance and is certified within the target
    /// (inconclusive while a run has not converged; fails when a converged run's radius is larger).
    #[serde(serialize_with = "holds")]
    pub all_certified_within_target: Verdict,
    /// The high-precision minimizer reached `10^-digits` (inconclusive otherwise).
    #[serde(serialize_with = "holds")]
    pub minimizer_reached: Verdict,
    /// Every certificate agrees with the high-precision minimizer (fails otherwise: a certificate
    /// is wrong).
    #[serde(serialize_with = "holds")]
    pub consistent: Verdict,
    /// Every test prediction is certified identical across all compared runs and `W*` (fails on a
    /// certified disagreement; inconclusive while some predictions are not certified).
    #[serde(serialize_with = "holds")]
    pub all_predictions_certified: Verdict,
    /// AdamW's output is certified away from `W*` (`distance_lower > 0`; inconclusive otherwise).
    #[serde(serialize_with = "holds")]
    pub adamw_separated: Verdict,
    /// The claim: all of the above except the AdamW contrast (fails if one fails, else
    /// inconclusive if one is).
    #[serde(serialize_with = "holds")]
    pub holds: Verdict,
}

/// A verdict in JSON: `true` exactly when it holds.
fn holds<S: Serializer>(v: &Verdict, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bool(*v == Verdict::Holds)
}

/// What the verdicts are judged from.
pub(crate) struct Evidence<'a> {
    pub runs: &'a BTreeMap<String, RunReport>,
    pub minimizer: &'a MinimizerReport,
    pub predictions_certified: usize,
    pub test_size: usize,
    pub disagreements: usize,
    pub adamw: Option<&'a AdamWReport>,
}

impl Verdicts {
    /// Judges the claim from the evidence (see the field docs).
    pub(crate) fn judge(e: &Evidence<'_>) -> Self {
        let not_converged: Vec<String> = e
            .runs
            .iter()
            .filter(|(_, r)| !matches!(r.stop, StopReason::GradTol { .. }))
            .map(|(name, r)| format!("{name}: {}", r.stop))
            .collect();
        let all_within = if !not_converged.is_empty() {
            Verdict::Inconclusive(format!("not converged: {}", not_converged.join("; ")))
        } else {
            Verdict::from_bool(e.runs.values().all(|r| r.certified_within_target))
        };
        let m = e.minimizer;
        let minimizer_reached = if m.reached {
            Verdict::Holds
        } else {
            Verdict::Inconclusive(format!(
                "minimizer radius {:e} in u above 1e-{} after {} refinement steps",
                m.radius_u, m.digits, m.iterations
            ))
        };
        let consistent = Verdict::from_bool(e.runs.values().all(|r| r.consistent));
        let all_predictions = if e.predictions_certified == e.test_size {
            Verdict::Holds
        } else {
            Verdict::Inconclusive(format!(
                "{} of {} test predictions not certified",
                e.test_size - e.predictions_certified,
                e.test_size
            ))
        };
        // Two certified predictions that differ refute the claim (and mean a certificate is wrong).
        let no_disagreement = Verdict::from_bool(e.disagreements == 0);
        let adamw_separated = match e.adamw {
            None => Verdict::Inconclusive("the AdamW contrast did not run".into()),
            Some(a) if a.distance_lower > 0.0 => Verdict::Holds,
            Some(_) => Verdict::Inconclusive("AdamW's distance to W* is not certified positive".into()),
        };
        let parts = [&all_within, &minimizer_reached, &consistent, &all_predictions, &no_disagreement];
        let holds = if parts.iter().any(|v| **v == Verdict::Fails) {
            Verdict::Fails
        } else {
            let reasons: Vec<&str> = parts
                .iter()
                .filter_map(|v| match v {
                    Verdict::Inconclusive(r) => Some(r.as_str()),
                    _ => None,
                })
                .collect();
            if reasons.is_empty() { Verdict::Holds } else { Verdict::Inconclusive(reasons.join("; ")) }
        };
        Self {
            all_certified_within_target: all_within,
            minimizer_reached,
            consistent,
            all_predictions_certified: all_predictions,
            adamw_separated,
            holds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stop: StopReason, within: bool, consistent: bool) -> RunReport {
        RunReport {
            optimizer: None,
            schedule: "constant".into(),
            stop,
            steps: stop.step(),
            grad_norm_f64: 0.0,
            grad_norm_upper: 0.0,
            grad_norm_lower: 0.0,
            radius: 0.0,
            certified_within_target: within,
            distance_to_center: [0.0, 0.0],
            consistent,
            predictions_certified: 10,
            test_error: 0.0,
            seconds: 0.0,
        }
    }

    fn minimizer(reached: bool) -> MinimizerReport {
        MinimizerReport {
            radius: 1e-50,
            radius_u: 1e-49,
            digits: 40,
            reached,
            iterations: 12,
            prec: 200,
            center_norm: 1.0,
            center_feature: 1.0,
            seconds: 0.0,
        }
    }

    fn judge(runs: &BTreeMap<String, RunReport>, reached: bool, certified: usize, disagreements: usize) -> Verdicts {
        let m = minimizer(reached);
        Verdicts::judge(&Evidence {
            runs,
            minimizer: &m,
            predictions_certified: certified,
            test_size: 10,
            disagreements,
            adamw: None,
        })
    }

    #[test]
    fn verdicts_hold_fail_or_are_inconclusive_with_the_reason() {
        let done = StopReason::GradTol { step: 5 };
        let mut runs = BTreeMap::from([("gd".to_string(), run(done, true, true))]);
        let v = judge(&runs, true, 10, 0);
        assert_eq!(v.holds, Verdict::Holds);
        assert!(matches!(v.adamw_separated, Verdict::Inconclusive(_)), "no AdamW run: not separated, not refuted");

        // An unfinished run: inconclusive, naming the run and its stop.
        runs.insert("adam".into(), run(StopReason::StepBudget { step: 7 }, false, true));
        let v = judge(&runs, true, 10, 0);
        let Verdict::Inconclusive(r) = &v.holds else { panic!("{v:?}") };
        assert!(r.contains("adam: step budget reached (7 steps)"), "{r}");
        assert_eq!(serde_json::to_value(&v).unwrap()["holds"], serde_json::json!(false));

        // A minimizer short of its digits and uncertified predictions: inconclusive, both reasons.
        runs.remove("adam");
        let v = judge(&runs, false, 8, 0);
        let Verdict::Inconclusive(r) = &v.holds else { panic!("{v:?}") };
        assert!(r.contains("above 1e-40") && r.contains("2 of 10 test predictions"), "{r}");

        // A converged run outside the target, an inconsistent certificate, or a certified
        // disagreement refutes the claim.
        runs.insert("sign-gd".into(), run(done, false, true));
        assert_eq!(judge(&runs, true, 10, 0).holds, Verdict::Fails);
        runs.insert("sign-gd".into(), run(done, true, false));
        assert_eq!(judge(&runs, true, 10, 0).holds, Verdict::Fails);
        runs.remove("sign-gd");
        assert_eq!(judge(&runs, true, 10, 1).holds, Verdict::Fails);
        assert_eq!(judge(&runs, true, 10, 1).all_predictions_certified, Verdict::Holds);
    }
}
