//! Claims and verdicts. A verdict is `holds`, `fails`, or `inconclusive` with the reason (a
//! diverged run, a missing run, a tolerance not reached): an inconclusive run never reads as a
//! confirmation.
//!
//! [`headline`] gives the verdict lines of the headline experiment (GD versus Adam from one
//! initialization, PAPER.md claim 1).
//!
//! The paper's claims as data: [`theorem`] reads `theorems/*.toml` (one claim per file, with its
//! setting, checks and expected verdict), [`checker`] measures a claim (one match arm per
//! [`ClaimKind`]), evaluates its checks into a [`Verdict`] and renders the [`ClaimReport`] that
//! `adamgap check` prints and `tests/claims.rs` snapshots. See `docs/claims.md` and
//! `docs/methodology.md`.

pub mod checker;
pub mod theorem;

pub use checker::{CheckOutcome, Checker, ClaimReport, Measurement, Outcome, RunInfo, Status};
pub use theorem::{ClaimKind, Expected, Scale, Theorem};

pub use crate::verdict::{Verdict, VerdictLine};

use crate::optim::StopReason;
use crate::train::Run;

/// Thresholds of the headline's verdict lines (the finite-size reading of PAPER.md's claims).
pub mod thresholds {
    /// Adam "does not generalize": test error at least this.
    pub const ADAM_TEST_ERROR_MIN: f64 = 0.5;
    /// GD "generalizes": test error at most this.
    pub const GD_TEST_ERROR_MAX: f64 = 0.02;
    /// GD "learns the feature": `max_{j,r} gamma_{j,r}` at least this.
    pub const GD_FEATURE_MIN: f64 = 1.0;
    /// GD "does not memorize noise": `min_i max_r rho_{i,r}` at most this.
    pub const GD_NOISE_MAX: f64 = 0.1;
}

/// `Inconclusive` if the run diverged, else `None`.
pub fn diverged(run: &Run) -> Option<Verdict> {
    match run.stop {
        StopReason::Diverged { step } => Some(Verdict::Inconclusive(format!("{} diverged at step {step}", run.name))),
        _ => None,
    }
}

/// The headline's verdict lines from the runs named `gd` and `adam` (inconclusive where one is
/// missing or diverged).
pub fn headline(runs: &[Run]) -> Vec<VerdictLine> {
    use thresholds::*;
    let find = |k: &str| runs.iter().find(|r| r.name == k);
    let (gd, adam) = (find("gd"), find("adam"));
    let line = |statement: String, verdict: Verdict| VerdictLine { statement, verdict };
    let (Some(gd), Some(adam)) = (gd, adam) else {
        let v = Verdict::Inconclusive("the headline needs both `gd` and `adam` among the optimizers".into());
        return vec![line("GD and Adam from one initialization".into(), v)];
    };
    let check = |runs: &[&Run], ok: bool| runs.iter().find_map(|r| diverged(r)).unwrap_or(Verdict::from_bool(ok));
    let (g, a) = (&gd.last, &adam.last);
    vec![
        line("Both reach training error 0".into(), check(&[gd, adam], g.train_error == 0.0 && a.train_error == 0.0)),
        line(
            "Adam memorizes noise and reverses the feature (max gamma <= 0 < min_i max_r rho)".into(),
            check(&[adam], a.coefficients.feature_max <= 0.0 && a.coefficients.noise_min_max > 0.0),
        ),
        line(
            format!("Adam does not generalize (test error >= {ADAM_TEST_ERROR_MIN})"),
            check(&[adam], a.test_error >= ADAM_TEST_ERROR_MIN),
        ),
        line(
            format!(
                "GD learns the feature (max gamma >= {GD_FEATURE_MIN}) while noise stays small (min_i max_r rho <= {GD_NOISE_MAX})"
            ),
            check(&[gd], g.coefficients.feature_max >= GD_FEATURE_MIN && g.coefficients.noise_min_max <= GD_NOISE_MAX),
        ),
        line(
            format!("GD generalizes (test error <= {GD_TEST_ERROR_MAX})"),
            check(&[gd], g.test_error <= GD_TEST_ERROR_MAX),
        ),
        line(
            "Two different solutions: same training error, different test errors".into(),
            check(&[gd, adam], g.train_error == a.train_error && (g.test_error - a.test_error).abs() >= 0.25),
        ),
    ]
}
