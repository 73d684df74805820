//! The report of a convex comparison: what was measured and certified per run, for the
//! high-precision minimizer and the AdamW contrast (`docs/convex.md`). The verdict is not the
//! report's: it is claim 07's checks on it (`claims::commands::convex`), the rule every claim uses.
//! Every struct reads back from its JSON strictly (unknown or missing fields are errors).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::optim::StopReason;
use crate::setting::OptimizerSetting;

/// One compared run in the report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunReport {
    /// The optimizer and its hyperparameters (`null` for Newton).
    #[serde(deserialize_with = "required")]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    #[serde(deserialize_with = "required")]
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
    /// The AdamW contrast (`null` when it was not run).
    #[serde(deserialize_with = "required")]
    pub adamw: Option<AdamWReport>,
    /// Wall time of the whole computation in seconds.
    pub seconds: f64,
}

/// A required field that may be `null` (serde would otherwise read a missing `Option` as `None`).
fn required<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}
