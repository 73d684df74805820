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
//! only settles if `eta` shrinks. Sign GD's own `decay` applies on top of the schedule.
//!
//! **Newton.** Newton's method ([`super::newton::Newton`]) runs through the same loop on the
//! reduced problem in `u`, with the gradient norm (and so the tolerance) measured at the lifted
//! point in the optimized space, like every other run. It refines until its step is below
//! binary64 resolution and is judged against the tolerance there (at most [`NEWTON_STEPS`] steps).

use serde::{Deserialize, Serialize};

use super::newton::Newton;
use super::problem::ConvexProblem;
use crate::error::Result;
pub use crate::optim::Schedule;
use crate::optim::{self, Budget, Eval, FirstOrder, Objective, StopReason};
use crate::setting::OptimizerSetting;

/// Step budget of Newton's method (it settles in about a dozen steps on the default problem).
pub const NEWTON_STEPS: usize = 100;

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

/// How a run of the comparison moved.
#[derive(Clone, Debug, PartialEq)]
pub enum RunMethod {
    /// A first-order optimizer with its schedule.
    FirstOrder(RunSpec),
    /// Newton's method in binary64 ([`super::newton::Newton`]).
    Newton,
}

/// What a run returns: its final parameters and how it stopped.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    /// Report key (`gd`, ..., `newton`).
    pub name: String,
    /// The method that ran.
    pub method: RunMethod,
    /// Final parameters (the optimized space of the problem).
    pub params: Vec<f64>,
    /// Why it stopped.
    pub stop: StopReason,
    /// `||grad L||_2` at the final parameters in binary64 (indicative; the certificate is exact).
    pub grad_norm_f64: f64,
    /// Wall time of the run in seconds.
    pub seconds: f64,
}

/// The objective of the first-order runs: the problem's loss and gradient in the optimized space,
/// with `||grad L||_2^2` from the same pass.
struct ConvexObjective<'a> {
    problem: &'a ConvexProblem,
    scratch: Vec<f64>,
}

impl Objective for ConvexObjective<'_> {
    type Extra = ();
    fn lambda(&self) -> f64 {
        self.problem.lambda_space()
    }
    fn eval(&mut self, w: &[f64], g: &mut [f64], _need_norm: bool) -> Eval<()> {
        let (loss, gn2) = self.problem.loss_grad_norm_f64(w, g, &mut self.scratch);
        Eval { loss, grad_norm2: Some(gn2), extra: () }
    }
}

/// Runs one optimizer from `init` for at most `steps` steps, stopping once the binary64
/// `||grad L||_2 <= grad_tol` (`grad_tol = 0`: never).
pub fn run_one(problem: &ConvexProblem, spec: &RunSpec, init: &[f64], steps: usize, grad_tol: f64) -> RunOutcome {
    let start = std::time::Instant::now();
    let mut w = init.to_vec();
    let mut objective = ConvexObjective { problem, scratch: Vec::new() };
    let mut method = FirstOrder::new(&spec.optimizer, spec.schedule, problem.dim());
    let Ok(stop) = optim::minimize(&mut objective, &mut method, &mut w, Budget { steps, grad_tol }, &mut ());
    RunOutcome {
        name: spec.name.clone(),
        method: RunMethod::FirstOrder(spec.clone()),
        params: w,
        stop: stop.reason,
        grad_norm_f64: stop.grad_norm.expect("the convex objective always computes the norm"),
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// Runs every `(spec, step budget)` from the same `init` on the current thread pool (each run is
/// sequential, so the results do not depend on the number of threads), in the given order.
pub fn run_all(problem: &ConvexProblem, specs: &[(RunSpec, usize)], init: &[f64], grad_tol: f64) -> Vec<RunOutcome> {
    crate::parallel::map_indexed(specs.len(), |i| run_one(problem, &specs[i].0, init, specs[i].1, grad_tol))
}

/// The objective of the Newton run: Newton moves in `u` (the reduced problem's loss gradient goes
/// to the method), while the gradient norm is that of the optimized problem at the lifted point
/// `lift(u)` (for paper-linear `w_{+1,r} = u/(2m)`, `w_{-1,r} = -u/(2m)`), so the tolerance means
/// the same as for the other runs.
struct LiftedObjective<'a> {
    problem: &'a ConvexProblem,
    params: Vec<f64>,
    g: Vec<f64>,
}

impl LiftedObjective<'_> {
    /// `lift(u)` into `self.params` ([`crate::model::Layout::lift`]).
    fn lift(&mut self, u: &[f64]) {
        match self.problem.filters {
            None => self.params.copy_from_slice(u),
            Some(m) => self.params = crate::model::Layout::new(m).lift(u),
        }
    }
}

impl Objective for LiftedObjective<'_> {
    type Extra = ();
    fn lambda(&self) -> f64 {
        self.problem.reduced.lambda_u_f64()
    }
    fn eval(&mut self, u: &[f64], g: &mut [f64], _need_norm: bool) -> Eval<()> {
        let loss = self.problem.reduced.loss_grad_f64(u, g);
        self.lift(u);
        self.problem.loss_grad_f64(&self.params, &mut self.g, &mut Vec::new());
        let lam = self.problem.lambda_space();
        let gn2 = self.g.iter().zip(&self.params).map(|(a, b)| (a + lam * b).powi(2)).sum::<f64>();
        Eval { loss, grad_norm2: Some(gn2), extra: () }
    }
}

/// Newton's method from `u = 0` as one of the compared runs (name `newton`): at most
/// [`NEWTON_STEPS`] steps, judged against `grad_tol` once it settles; the output is `lift(u)`.
pub fn run_newton(problem: &ConvexProblem, grad_tol: f64) -> Result<RunOutcome> {
    let start = std::time::Instant::now();
    let dim = problem.dim();
    let mut objective = LiftedObjective { problem, params: vec![0.0; dim], g: vec![0.0; dim] };
    let mut u = vec![0.0; problem.reduced.d];
    let mut method = Newton::new(&problem.reduced);
    let stop = optim::minimize(&mut objective, &mut method, &mut u, Budget { steps: NEWTON_STEPS, grad_tol }, &mut ())?;
    objective.lift(&u);
    Ok(RunOutcome {
        name: "newton".into(),
        method: RunMethod::Newton,
        params: objective.params,
        stop: stop.reason,
        grad_norm_f64: stop.grad_norm.expect("the lifted objective always computes the norm"),
        seconds: start.elapsed().as_secs_f64(),
    })
}
