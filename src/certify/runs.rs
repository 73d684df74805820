//! The optimizer runs of the convex comparison: the crate's own optimizers ([`crate::optim`]) on
//! the convex problem, each from the same initialization, each with an honest stop reason.
//!
//! A run stops when the binary64 gradient norm `||grad L||_2` drops to `grad_tol` (stop reason
//! `grad-tol`), when it meets a non-finite value (`diverged`), or when the budget is spent
//! (`step-budget`). The stop reason is only what the run saw in binary64; what counts is the
//! certificate computed afterwards from the exact values of its output.
//!
//! **Schedules.** GD, Adam and sign GD can have a decaying step `eta_t = eta * schedule(t)`
//! ([`Schedule`]): Adam near the optimum, once `sqrt(vhat) << eps`, is GD with step `eta/eps`,
//! and before that it moves every coordinate by about `eta` per step (like sign GD), so it
//! only settles if `eta` shrinks. The schedule sets the optimizer's base step before every step
//! ([`crate::optim::Optimizer::set_eta`]); sign GD's own `decay` applies on top of it.

use serde::{Deserialize, Serialize};

use super::problem::ConvexProblem;
use crate::optim;
use crate::setting::OptimizerSetting;
use crate::optim::StopReason;

/// A step-size multiplier `eta_t = eta * factor(t)`, `t = 1, 2, ...`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Schedule {
    /// `factor = 1`.
    #[default]
    Constant,
    /// `factor = max(rate^t, floor)`: geometric decay down to a floor.
    Geometric { rate: f64, floor: f64 },
}

impl Schedule {
    /// The multiplier at step `t`.
    pub fn factor(&self, t: usize) -> f64 {
        match *self {
            Self::Constant => 1.0,
            Self::Geometric { rate, floor } => rate.powf(t as f64).max(floor),
        }
    }

    /// Checks the schedule's parameters.
    pub fn validate(&self, field: &str) -> crate::Result<()> {
        if let Self::Geometric { rate, floor } = *self {
            if !(rate > 0.0 && rate <= 1.0) {
                return Err(crate::Error::invalid(&format!("{field}.rate"), rate, "0 < rate <= 1"));
            }
            if !(0.0..=1.0).contains(&floor) {
                return Err(crate::Error::invalid(&format!("{field}.floor"), floor, "0 <= floor <= 1"));
            }
        }
        Ok(())
    }

    /// Short description (`constant`, `geometric(0.999, floor 1e-6)`).
    pub fn describe(&self) -> String {
        match *self {
            Self::Constant => "constant".into(),
            Self::Geometric { rate, floor } => format!("eta * max({rate}^t, {floor:e})"),
        }
    }
}

/// One run of the comparison: a name (the report key), an optimizer and a schedule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    /// Report key (`gd`, `adam`, `adam-no-bias-correction`, ...).
    pub name: String,
    /// The optimizer and its hyperparameters.
    pub optimizer: OptimizerSetting,
    /// Step-size schedule (GD, Adam, AdamW and sign GD only; the others need `Constant`).
    pub schedule: Schedule,
}

impl RunSpec {
    /// Checks the hyperparameters and that the schedule is supported.
    pub fn validate(&self) -> crate::Result<()> {
        let field = format!("runs.{}", self.name);
        self.optimizer.validate(&field)?;
        self.schedule.validate(&format!("{field}.schedule"))?;
        let scheduled = matches!(
            self.optimizer,
            OptimizerSetting::Gd { .. }
                | OptimizerSetting::Adam { .. }
                | OptimizerSetting::AdamW { .. }
                | OptimizerSetting::SignGd { .. }
        );
        if !scheduled && self.schedule != Schedule::Constant {
            return Err(crate::Error::invalid(
                &format!("{field}.schedule"),
                self.schedule.describe(),
                "constant for momentum, rmsprop and adagrad",
            ));
        }
        Ok(())
    }
}

/// What a run returns: its final parameters and how it stopped.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    /// The spec that ran.
    pub spec: RunSpec,
    /// Final parameters (the optimized space of the problem).
    pub params: Vec<f64>,
    /// Why it stopped.
    pub stop: StopReason,
    /// `||grad L||_2` at the final parameters in binary64 (indicative; the certificate is exact).
    pub grad_norm_f64: f64,
    /// Wall time of the run in seconds.
    pub seconds: f64,
}

/// Runs one optimizer from `init` for at most `steps` steps, stopping once the binary64
/// `||grad L||_2 <= grad_tol` (`grad_tol = 0`: never).
pub fn run_one(problem: &ConvexProblem, spec: &RunSpec, init: &[f64], steps: usize, grad_tol: f64) -> RunOutcome {
    let start = std::time::Instant::now();
    let dim = problem.dim();
    let lambda = problem.lambda_space();
    let eta = spec.optimizer.eta();
    let mut w = init.to_vec();
    let mut g = vec![0.0; dim];
    let mut scratch = Vec::new();
    let mut optimizer = optim::build(&spec.optimizer, dim);
    let mut t = 0usize;
    let (stop, gnorm) = loop {
        let (loss, gn2) = problem.loss_grad_norm_f64(&w, &mut g, &mut scratch);
        let gn = gn2.sqrt();
        // A non-finite weight makes `g + lambda w` non-finite (lambda > 0), so `gn` covers it.
        if !loss.is_finite() || !gn.is_finite() {
            break (StopReason::Diverged { step: t }, gn);
        }
        if grad_tol > 0.0 && gn <= grad_tol {
            break (StopReason::GradTol { step: t }, gn);
        }
        if t == steps {
            break (StopReason::StepBudget { step: t }, gn);
        }
        t += 1;
        optimizer.set_eta(eta * spec.schedule.factor(t));
        optimizer.step(&mut w, &g, lambda);
    };
    RunOutcome { spec: spec.clone(), params: w, stop, grad_norm_f64: gnorm, seconds: start.elapsed().as_secs_f64() }
}

/// Runs every `(spec, step budget)` from the same `init` on up to `threads` threads (each run is
/// sequential, so the results do not depend on `threads`); in the given order, interleaved over the threads.
pub fn run_all(
    problem: &ConvexProblem,
    specs: &[(RunSpec, usize)],
    init: &[f64],
    grad_tol: f64,
    threads: usize,
) -> Vec<RunOutcome> {
    crate::parallel::map_indexed(specs.len(), threads, |i| run_one(problem, &specs[i].0, init, specs[i].1, grad_tol))
}
