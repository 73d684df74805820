//! A lockstep companion: an observer of a run ([`super::minimize`]) that steps a second copy of
//! the parameters, possibly in another scalar, by its own objective and method, one step for each
//! step of the run, and records a distance between the two at every point.
//!
//! The precision audit steps a binary64 copy beside a double-double run; the precision ladder
//! steps a binary64 and a double-double copy beside a 256-bit run. The copy's objective is asked
//! for the gradient only (`need_norm = false`); its stop decisions are not taken, so the copy takes
//! exactly the run's steps.

use std::convert::Infallible;

use super::StopReason;
use super::driver::{Eval, Method, Objective, Observer, Point, Scalar};

/// A second copy stepped beside a run (see the module doc): `copy` in the scalar `T`, moved by
/// `method` from `objective`'s gradient; `distance(run's point, copy)` is recorded at every point.
pub struct Lockstep<T, C, O, M, F> {
    copy: C,
    objective: O,
    method: M,
    g: Vec<T>,
    lambda: f64,
    distance: F,
    /// The distance at points `0, 1, ...` of the run (one entry per point).
    pub distances: Vec<f64>,
}

impl<T: Scalar, C: Point<T>, O: Objective<T>, M: Method<T, Error = Infallible>, F> Lockstep<T, C, O, M, F> {
    /// A companion starting at `copy`, stepped by `method` on `objective` (with its weight decay).
    pub fn new(objective: O, method: M, copy: C, distance: F) -> Self {
        let g = vec![T::default(); copy.params().len()];
        let lambda = objective.lambda();
        Self { copy, objective, method, g, lambda, distance, distances: Vec::new() }
    }

    /// The copy's current parameters.
    pub fn copy(&self) -> &C {
        &self.copy
    }
}

impl<S, P, X, T, C, O, M, F> Observer<P, X, S> for Lockstep<T, C, O, M, F>
where
    P: Point<S>,
    T: Scalar,
    C: Point<T>,
    O: Objective<T>,
    M: Method<T, Error = Infallible>,
    F: FnMut(&[S], &[T]) -> f64,
{
    fn at_point(&mut self, t: usize, w: &P, _g: &[S], _eval: &Eval<X>, _stop: Option<StopReason>) {
        if t == 0 {
            self.distances.push((self.distance)(w.params(), self.copy.params()));
        }
    }

    fn after_step(&mut self, t: usize, w: &P) {
        self.objective.eval(self.copy.params(), &mut self.g, false);
        let Ok(()) = self.method.step(t, self.copy.params_mut(), &self.g, self.lambda);
        self.distances.push((self.distance)(w.params(), self.copy.params()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{Budget, FirstOrder, Schedule, minimize};
    use crate::setting::OptimizerSetting;

    /// `L(w) = c ||w||^2 / 2`: the loss gradient is `c w`.
    struct Scaled(f64);

    impl Objective for Scaled {
        type Extra = ();
        fn lambda(&self) -> f64 {
            0.0
        }
        fn eval(&mut self, w: &[f64], g: &mut [f64], _need_norm: bool) -> Eval<()> {
            for (gi, wi) in g.iter_mut().zip(w) {
                *gi = self.0 * wi;
            }
            let n2: f64 = g.iter().map(|x| x * x).sum();
            Eval { loss: 0.5 * self.0 * w.iter().map(|x| x * x).sum::<f64>(), grad_norm2: Some(n2), extra: () }
        }
    }

    fn gd() -> FirstOrder {
        FirstOrder::new(&OptimizerSetting::Gd { eta: 0.5 }, Schedule::Constant, 1)
    }

    #[test]
    fn the_companion_takes_the_run_s_steps_and_records_a_distance_at_every_point() {
        // The run halves w (w_t = 2^-t); the companion on 1.5 ||w||^2 / 2 quarters it (4^-t).
        let mut companion = Lockstep::new(Scaled(1.5), gd(), vec![1.0], |a: &[f64], b: &[f64]| a[0] - b[0]);
        let mut w = vec![1.0];
        let Ok(stop) =
            minimize(&mut Scaled(1.0), &mut gd(), &mut w, Budget { steps: 3, grad_tol: 0.0 }, &mut companion);
        assert_eq!(stop.reason, StopReason::StepBudget { step: 3 });
        assert_eq!(companion.distances, [0.0, 0.5 - 0.25, 0.25 - 0.0625, 0.125 - 0.015625]);
        assert_eq!(companion.copy(), &vec![0.015625]);
        // A run that stops early (the tolerance at step 2) stops its companion there too.
        let mut companion = Lockstep::new(Scaled(1.5), gd(), vec![1.0], |a: &[f64], b: &[f64]| a[0] - b[0]);
        let mut w = vec![1.0];
        let budget = Budget { steps: 10, grad_tol: 0.3 };
        let Ok(stop) = minimize(&mut Scaled(1.0), &mut gd(), &mut w, budget, &mut companion);
        assert_eq!(stop.reason, StopReason::GradTol { step: 2 });
        assert_eq!(companion.distances.len(), 3);
    }
}
