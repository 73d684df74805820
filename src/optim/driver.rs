//! The one optimization loop. Every run of the crate (the nonconvex experiment in binary64 and in
//! double-double, the precision ladder's 256-bit runs, the convex comparison, Newton's method) goes
//! through [`minimize`], which alone decides when and why a run stops ([`StopReason`]). Only the
//! deferred-rows run (`crate::train`'s `train/lazy.rs`) steps by hand, calling [`decide`].
//!
//! The loop is generic over the scalar `S` of the parameters ([`Scalar`]): `f64`, or any scalar of
//! the precision-generic path (`crate::precision::Real`: double-double, 256 bits). It never does
//! arithmetic on `S`: the objective evaluates (and reports the loss and the squared gradient norm
//! rounded to binary64, which the stop decision reads), the method steps, the observer measures.
//!
//! At every point `W_t` (`t = 0, 1, ...`) the loop evaluates the [`Objective`] (the loss, the
//! gradient of the loss into a buffer, and `||grad L(W_t)||_2` with weight decay included when
//! the tolerance needs it), decides whether to stop, shows the point to the [`Observer`], and
//! otherwise lets the [`Method`] make step `t + 1`. The decision, in order:
//!
//! 1. a non-finite loss or gradient norm: `diverged` at `t`;
//! 2. `grad_tol > 0` and `||grad L||_2 <= grad_tol`: `grad-tol` at `t` (for a method that only
//!    stops at the end, like Newton's, only once it has settled or used its budget);
//! 3. `t` equals the step budget: `step-budget`;
//! 4. the method's own convergence test passed (Newton: its step is below binary64 resolution):
//!    `settled`.
//!
//! The loop allocates the gradient buffer once and nothing per step; methods and objectives keep
//! their own workspaces.

use std::convert::Infallible;

use super::{Optimizer, Schedule, StopReason, Update};
use crate::setting::OptimizerSetting;

/// The scalar of a run's parameters: `f64`, or a scalar of the precision-generic path
/// (`crate::precision::Real`). The loop only allocates the gradient buffer (`S::default()`, zero).
pub trait Scalar: Clone + Default + Send + Sync + 'static {}

impl<T: Clone + Default + Send + Sync + 'static> Scalar for T {}

/// The limits of a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    /// At most this many steps.
    pub steps: usize,
    /// Stop once `||grad L||_2 <= grad_tol` (`0`: never).
    pub grad_tol: f64,
}

/// One evaluation of the objective at the current point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Eval<X> {
    /// The loss (what the objective calls its loss; the driver only tests it for finiteness), in
    /// binary64 (rounded from the scalar's value).
    pub loss: f64,
    /// `||grad L||_2^2`, weight decay included, in binary64. `None` only when the driver did not ask
    /// for it and the objective established that it is finite.
    pub grad_norm2: Option<f64>,
    /// What else the objective measured at this point (the CNN's training error count).
    pub extra: X,
}

/// What [`minimize`] minimizes: a loss with its gradient in the scalar `S`, and the weight decay
/// handed to the method.
pub trait Objective<S = f64> {
    /// Extra measurements of an evaluation, passed on to the observer.
    type Extra;
    /// The weight decay `lambda` passed to [`Method::step`].
    fn lambda(&self) -> f64;
    /// Writes the gradient of the loss at `w` into `g` (same length as `w`) and returns the
    /// evaluation; `grad_norm2` must be `Some` when `need_norm`.
    fn eval(&mut self, w: &[S], g: &mut [S], need_norm: bool) -> Eval<Self::Extra>;
    /// Whether [`Objective::eval`] gives the whole objective (`true`), or a sample of it that the
    /// method steps from (a minibatch's loss and gradient: observers that record the objective
    /// evaluate it themselves).
    fn is_full(&self) -> bool {
        true
    }
}

/// How a run moves in the scalar `S`: a first-order optimizer ([`FirstOrder`] in binary64,
/// `crate::precision::optim::GenericOptimizer` in any `Real`) or Newton's method
/// (`crate::certify::newton::Newton`).
pub trait Method<S = f64> {
    /// Why a step can fail (`Infallible` for first-order methods).
    type Error;
    /// Step `t` (`t >= 1`): moves `w` from the loss gradient `g_loss` at `w` and the weight decay.
    fn step(&mut self, t: usize, w: &mut [S], g_loss: &[S], lambda: f64) -> Result<(), Self::Error>;
    /// The method's own convergence test passed (first-order methods: never).
    fn settled(&self) -> bool {
        false
    }
    /// `true`: the run stops as soon as the gradient tolerance is met (first-order methods);
    /// `false`: the method runs until it settles or uses its budget, and the tolerance is judged
    /// there (Newton's method, which refines to binary64 resolution).
    fn stops_at_tolerance(&self) -> bool {
        true
    }
}

/// Parameters in the scalar `S` the loop can work on (a flat vector, the CNN's weights).
pub trait Point<S = f64> {
    /// The parameters as one flat slice.
    fn params(&self) -> &[S];
    /// The same, mutable.
    fn params_mut(&mut self) -> &mut [S];
}

impl<S> Point<S> for Vec<S> {
    fn params(&self) -> &[S] {
        self
    }
    fn params_mut(&mut self) -> &mut [S] {
        self
    }
}

/// What the loop shows to the caller: every point with its evaluation, and every step. Serves
/// checkpoints, feature-reversal detection, progress bars and lockstep companions
/// ([`super::lockstep::Lockstep`]).
pub trait Observer<P, X, S = f64> {
    /// At point `t`, after the stop decision (`stop` is `Some` when the run ends here).
    fn at_point(&mut self, t: usize, w: &P, g_loss: &[S], eval: &Eval<X>, stop: Option<StopReason>) {
        let _ = (t, w, g_loss, eval, stop);
    }
    /// After step `t` (`w` is the new point `W_t`).
    fn after_step(&mut self, t: usize, w: &P) {
        let _ = (t, w);
    }
}

/// The observer that watches nothing.
impl<P, X, S> Observer<P, X, S> for () {}

/// An observer borrowed.
impl<P, X, S, A: Observer<P, X, S> + ?Sized> Observer<P, X, S> for &mut A {
    fn at_point(&mut self, t: usize, w: &P, g_loss: &[S], eval: &Eval<X>, stop: Option<StopReason>) {
        (**self).at_point(t, w, g_loss, eval, stop);
    }
    fn after_step(&mut self, t: usize, w: &P) {
        (**self).after_step(t, w);
    }
}

/// Two observers: the first sees each point and step before the second.
impl<P, X, S, A: Observer<P, X, S>, B: Observer<P, X, S>> Observer<P, X, S> for (A, B) {
    fn at_point(&mut self, t: usize, w: &P, g_loss: &[S], eval: &Eval<X>, stop: Option<StopReason>) {
        self.0.at_point(t, w, g_loss, eval, stop);
        self.1.at_point(t, w, g_loss, eval, stop);
    }
    fn after_step(&mut self, t: usize, w: &P) {
        self.0.after_step(t, w);
        self.1.after_step(t, w);
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stop {
    /// Why, and at which step.
    pub reason: StopReason,
    /// `||grad L||_2` at the last point, when it was computed.
    pub grad_norm: Option<f64>,
}

impl Stop {
    /// Steps taken.
    pub fn steps(&self) -> usize {
        self.reason.step()
    }
}

/// The stop decision at point `t` (see the module doc): the one place that decides a stop reason.
/// [`minimize`] calls it at every point; the deferred-rows run (`train/lazy.rs`), which steps by
/// hand, calls it too.
pub fn decide<X>(
    t: usize,
    budget: Budget,
    eval: &Eval<X>,
    settled: bool,
    stops_at_tolerance: bool,
) -> Option<StopReason> {
    if !eval.loss.is_finite() || eval.grad_norm2.is_some_and(|n2| !n2.is_finite()) {
        return Some(StopReason::Diverged { step: t });
    }
    let at_budget = t == budget.steps;
    let tol_met = budget.grad_tol > 0.0 && eval.grad_norm2.is_some_and(|n2| n2.sqrt() <= budget.grad_tol);
    if tol_met && (stops_at_tolerance || settled || at_budget) {
        Some(StopReason::GradTol { step: t })
    } else if at_budget {
        Some(StopReason::StepBudget { step: t })
    } else if settled {
        Some(StopReason::Settled { step: t })
    } else {
        None
    }
}

/// Runs `method` on `objective` from `w` (overwritten with the last point) within `budget`,
/// showing every point and step to `observer`. Fails only if a step of the method fails.
pub fn minimize<S, P, O, M, B>(
    objective: &mut O,
    method: &mut M,
    w: &mut P,
    budget: Budget,
    observer: &mut B,
) -> Result<Stop, M::Error>
where
    S: Scalar,
    P: Point<S>,
    O: Objective<S>,
    M: Method<S>,
    B: Observer<P, O::Extra, S>,
{
    let mut g = vec![S::default(); w.params().len()];
    let lambda = objective.lambda();
    let need_norm = budget.grad_tol > 0.0;
    let mut t = 0usize;
    loop {
        let eval = objective.eval(w.params(), &mut g, need_norm);
        let stop = decide(t, budget, &eval, method.settled(), method.stops_at_tolerance());
        observer.at_point(t, w, &g, &eval, stop);
        if let Some(reason) = stop {
            return Ok(Stop { reason, grad_norm: eval.grad_norm2.map(f64::sqrt) });
        }
        t += 1;
        method.step(t, w.params_mut(), &g, lambda)?;
        observer.after_step(t, w);
    }
}

/// A first-order optimizer ([`crate::optim::build`]) with a step-size schedule: step `t` sets the
/// base step to `eta * schedule.factor(t)`, then makes the optimizer's fused update.
pub struct FirstOrder {
    optimizer: Box<dyn Optimizer>,
    eta: f64,
    schedule: Schedule,
}

impl FirstOrder {
    /// The optimizer a setting describes, for `dim` parameters, with `schedule`.
    pub fn new(setting: &OptimizerSetting, schedule: Schedule, dim: usize) -> Self {
        Self { optimizer: super::build(setting, dim), eta: setting.eta(), schedule }
    }

    /// Starts step `t` with weight decay `lambda`: sets the base step from the schedule and returns
    /// the optimizer's element-wise update ([`Optimizer::begin_step`]). [`Method::step`] applies it
    /// to every parameter; the deferred training path (`train`) also records its constants.
    pub fn begin_step(&mut self, t: usize, lambda: f64) -> Update<'_> {
        self.optimizer.set_eta(self.eta * self.schedule.factor(t));
        self.optimizer.begin_step(lambda)
    }
}

impl Method for FirstOrder {
    type Error = Infallible;
    fn step(&mut self, t: usize, w: &mut [f64], g_loss: &[f64], lambda: f64) -> Result<(), Infallible> {
        let mut update = self.begin_step(t, lambda);
        assert_eq!(w.len(), update.dim(), "weights of the optimizer's dimension");
        update.par_apply(w, g_loss);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `L(w) = ||w||^2 / 2` without weight decay: the loss gradient is `w`.
    struct Quadratic;

    impl Objective for Quadratic {
        type Extra = ();
        fn lambda(&self) -> f64 {
            0.0
        }
        fn eval(&mut self, w: &[f64], g: &mut [f64], _need_norm: bool) -> Eval<()> {
            g.copy_from_slice(w);
            let n2: f64 = w.iter().map(|x| x * x).sum();
            Eval { loss: 0.5 * n2, grad_norm2: Some(n2), extra: () }
        }
    }

    fn gd(eta: f64) -> FirstOrder {
        FirstOrder::new(&OptimizerSetting::Gd { eta }, Schedule::Constant, 1)
    }

    fn run(method: &mut impl Method<Error = Infallible>, steps: usize, grad_tol: f64) -> (Stop, Vec<f64>) {
        let mut w = vec![1.0];
        let Ok(stop) = minimize(&mut Quadratic, method, &mut w, Budget { steps, grad_tol }, &mut ());
        (stop, w)
    }

    #[test]
    fn first_order_runs_stop_at_the_tolerance_the_budget_or_divergence() {
        // GD with eta 1/2 halves w: ||grad|| = 2^-t, first <= 1e-3 at t = 10.
        let (stop, w) = run(&mut gd(0.5), 100, 1e-3);
        assert_eq!(stop.reason, StopReason::GradTol { step: 10 });
        assert_eq!(stop.grad_norm, Some(2f64.powi(-10)));
        assert_eq!(w, vec![2f64.powi(-10)]);
        assert_eq!(run(&mut gd(0.5), 4, 1e-3).0.reason, StopReason::StepBudget { step: 4 });
        assert_eq!(run(&mut gd(0.5), 4, 0.0).0.reason, StopReason::StepBudget { step: 4 });
        // eta = 1e200: after one step w = 1 - 1e200, and ||grad||^2 = 1e400 overflows.
        assert_eq!(run(&mut gd(1e200), 100, 0.0).0.reason, StopReason::Diverged { step: 1 });
        // The tolerance is tested before the budget, at step 0 too.
        assert_eq!(run(&mut gd(0.5), 0, 2.0).0.reason, StopReason::GradTol { step: 0 });
    }

    /// Jumps to 0 at its third step and settles there; a method judged only at the end.
    struct Settles {
        t: usize,
    }

    impl Method for Settles {
        type Error = Infallible;
        fn step(&mut self, t: usize, w: &mut [f64], _g: &[f64], _lambda: f64) -> Result<(), Infallible> {
            self.t = t;
            w[0] = if t >= 3 { 0.0 } else { w[0] * 0.9 };
            Ok(())
        }
        fn settled(&self) -> bool {
            self.t >= 3
        }
        fn stops_at_tolerance(&self) -> bool {
            false
        }
    }

    #[test]
    fn a_method_judged_at_the_end_runs_until_it_settles() {
        // The tolerance 0.95 is met at step 1 (w = 0.9) but the method only stops once settled.
        assert_eq!(run(&mut Settles { t: 0 }, 100, 0.95).0.reason, StopReason::GradTol { step: 3 });
        // Settled without a tolerance: `settled`, not a budget stop and not convergence.
        assert_eq!(run(&mut Settles { t: 0 }, 100, 0.0).0.reason, StopReason::Settled { step: 3 });
        // The budget before settling: judged against the tolerance there.
        assert_eq!(run(&mut Settles { t: 0 }, 2, 0.95).0.reason, StopReason::GradTol { step: 2 });
        assert_eq!(run(&mut Settles { t: 0 }, 2, 0.5).0.reason, StopReason::StepBudget { step: 2 });
    }

    /// Records what the loop shows.
    #[derive(Default)]
    struct Log(Vec<String>);

    impl Observer<Vec<f64>, ()> for Log {
        fn at_point(&mut self, t: usize, _w: &Vec<f64>, _g: &[f64], _e: &Eval<()>, stop: Option<StopReason>) {
            self.0.push(format!("point {t} {}", stop.map_or("-", |s| s.label())));
        }
        fn after_step(&mut self, t: usize, _w: &Vec<f64>) {
            self.0.push(format!("step {t}"));
        }
    }

    #[test]
    fn the_observer_sees_every_point_and_step_in_order() {
        let mut log = Log::default();
        let mut w = vec![1.0];
        let Ok(_) = minimize(&mut Quadratic, &mut gd(0.5), &mut w, Budget { steps: 2, grad_tol: 0.0 }, &mut log);
        assert_eq!(log.0, ["point 0 -", "step 1", "point 1 -", "step 2", "point 2 step-budget"]);
    }

    /// The quadratic of [`Quadratic`] computing `||grad L||^2` only when asked (as the CNN's
    /// objective does while the norm is finite), recording what the loop asked for.
    #[derive(Default)]
    struct Lazy {
        asked: Vec<bool>,
    }

    impl Objective for Lazy {
        type Extra = ();
        fn lambda(&self) -> f64 {
            0.0
        }
        fn eval(&mut self, w: &[f64], g: &mut [f64], need_norm: bool) -> Eval<()> {
            self.asked.push(need_norm);
            let e = Quadratic.eval(w, g, need_norm);
            Eval { grad_norm2: e.grad_norm2.filter(|_| need_norm), ..e }
        }
    }

    #[test]
    fn the_norm_is_asked_for_exactly_when_a_tolerance_is_set() {
        let mut lazy = Lazy::default();
        let mut w = vec![1.0];
        let Ok(stop) = minimize(&mut lazy, &mut gd(0.5), &mut w, Budget { steps: 100, grad_tol: 1e-3 }, &mut ());
        assert_eq!(stop.reason, StopReason::GradTol { step: 10 });
        assert_eq!(stop.steps(), 10);
        assert!(lazy.asked.iter().all(|&a| a) && lazy.asked.len() == 11, "{:?}", lazy.asked);
        let mut lazy = Lazy::default();
        let mut w = vec![1.0];
        let Ok(stop) = minimize(&mut lazy, &mut gd(0.5), &mut w, Budget { steps: 3, grad_tol: 0.0 }, &mut ());
        assert_eq!((stop.reason, stop.grad_norm, stop.steps()), (StopReason::StepBudget { step: 3 }, None, 3));
        assert_eq!(lazy.asked, [false; 4]);
    }

    #[test]
    fn a_non_finite_loss_alone_is_a_divergence() {
        // eta = 1e200: the loss overflows at step 1, while the norm, not asked for, is not computed.
        let mut w = vec![1.0];
        let Ok(stop) =
            minimize(&mut Lazy::default(), &mut gd(1e200), &mut w, Budget { steps: 5, grad_tol: 0.0 }, &mut ());
        assert_eq!((stop.reason, stop.grad_norm), (StopReason::Diverged { step: 1 }, None));
    }

    #[test]
    fn a_zero_gradient_is_no_stop_without_a_tolerance() {
        // GD with eta 1 reaches the minimizer w = 0 in one step: ||grad|| = 0 meets every positive
        // tolerance, but `grad_tol = 0` means "never".
        assert_eq!(
            run(&mut gd(1.0), 4, 0.0),
            (Stop { reason: StopReason::StepBudget { step: 4 }, grad_norm: Some(0.0) }, vec![0.0])
        );
        assert_eq!(run(&mut gd(1.0), 4, 1e-300).0.reason, StopReason::GradTol { step: 1 });
    }

    #[test]
    fn a_first_order_method_takes_its_schedule_s_step() {
        // eta_t = 0.5^t on ||w||^2 / 2: w_t = w_{t-1} (1 - 0.5^t), exact in binary64.
        let schedule = Schedule::Geometric { rate: 0.5, floor: 0.0 };
        let mut method = FirstOrder::new(&OptimizerSetting::Gd { eta: 1.0 }, schedule, 1);
        let (_, w) = run(&mut method, 3, 0.0);
        assert_eq!(w, vec![0.5 * 0.75 * 0.875]);
    }
}
