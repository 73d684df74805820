//! The Newton polish of a limit point: Newton's method on `L` from an optimizer's last iterate, in
//! the reduced space of `docs/limit-points.md`, through the one loop ([`crate::optim::minimize`]).
//!
//! A step solves `H d = -grad_a L` with the reduced Hessian's Cholesky factor (the last factor
//! again while the steps keep cutting the gradient by [`REUSE_FACTOR_BELOW`], the chord method:
//! factoring costs seconds at the defaults, a chord step under 0.1 s) and moves to
//! `W = Q (a + d)`: the complement component `W^perp`, where the Hessian is exactly `lambda I` and
//! the gradient `lambda W^perp`, is set to zero, which is the exact Newton step there (`L` is a
//! strictly convex quadratic of `W^perp` alone, so this part of the step cannot change the basin).
//! The polish never takes a big step in the reduced coordinates: a reduced step longer than
//! `max_step` fails (a Newton step that long would leave the region where the optimizer's basin
//! is known), as does a reduced Hessian that is not
//! positive definite (the iterate is not near a strict local minimizer; the polish is then not
//! defined, and the point is reported as it is).

use ndarray::Array2;

use super::basis::{PatchBasis, flatten, unflatten, weights_view};
use super::cholesky::{Cholesky, NotPositiveDefinite};
use super::hessian::ReducedProblem;
use crate::data::PatchData;
use crate::model::{Cnn, Weights, Workspace, regularized};
use crate::optim::{Budget, Eval, Method, Objective, StopReason, minimize};

/// The polish's limits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PolishSettings {
    /// At most this many Newton steps.
    pub max_steps: usize,
    /// Stop once `||grad L||_2 <= grad_tol` (the model's binary64 gradient).
    pub grad_tol: f64,
    /// The longest reduced step `||Q d||_F = ||d||_2` allowed (the complement's step, which sets
    /// `W^perp` to zero, is not limited).
    pub max_step: f64,
}

impl Default for PolishSettings {
    fn default() -> Self {
        Self { max_steps: 50, grad_tol: 1e-15, max_step: 1.0 }
    }
}

/// Why a polish could not go on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PolishError {
    /// The reduced Hessian at step `step`'s start point is not positive definite.
    NotPositiveDefinite { step: usize, pivot: NotPositiveDefinite },
    /// Step `step` would have moved the reduced coordinates by `norm > max_step`.
    StepTooLarge { step: usize, norm: f64 },
}

impl std::fmt::Display for PolishError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotPositiveDefinite { step, pivot } => {
                write!(f, "Newton step {step}: the reduced Hessian is {pivot}")
            }
            Self::StepTooLarge { step, norm } => {
                write!(
                    f,
                    "Newton step {step} would move the reduced coordinates by {norm:.3e}, more than the polish allows"
                )
            }
        }
    }
}

/// A finished polish.
#[derive(Clone, Debug)]
pub struct Polish {
    /// The polished point.
    pub weights: Weights,
    /// Why it stopped (the loop's reason), and the Newton steps taken.
    pub stop: StopReason,
    /// `||grad L||_2` at each point `0..=steps` (the model's binary64 gradient).
    pub grad_norms: Vec<f64>,
    /// The Frobenius norm of each step in `W`.
    pub step_norms: Vec<f64>,
    /// The norm of each step's reduced part `||d||_2` (what `max_step` limits).
    pub reduced_step_norms: Vec<f64>,
    /// `||W_polished - W_start||_F`.
    pub distance: f64,
    /// `||W_start^perp||_F`: the start's component outside the span of the training patches.
    pub start_complement: f64,
    /// Seconds of the polish.
    pub seconds: f64,
    /// The smallest eigenvalue of the last factored reduced Hessian, estimated by inverse
    /// iteration ([`Cholesky::smallest_eigenvalue_estimate`], [`EIGEN_ITERATIONS`] steps), and the
    /// polish step at whose start point that Hessian was built. An observation, not a certificate.
    pub smallest_eigenvalue: Option<(f64, usize)>,
    /// How many reduced Hessians were built and factored (the other steps reused the last
    /// factor, [`REUSE_FACTOR_BELOW`]).
    pub factorizations: usize,
    /// Of which: building the reduced Hessians (with the reduced evaluations), and factoring them.
    pub hessian_seconds: f64,
    pub factor_seconds: f64,
}

/// The objective of the loop: the model's loss and gradient on the training set.
struct ModelObjective<'a> {
    model: &'a Cnn,
    data: &'a PatchData,
    ws: Workspace,
    norms: Vec<f64>,
}

impl Objective for ModelObjective<'_> {
    type Extra = ();
    fn lambda(&self) -> f64 {
        self.model.lambda
    }
    fn eval(&mut self, w: &[f64], g: &mut [f64], _need_norm: bool) -> Eval<()> {
        let eval = self.model.loss_grad(w, self.data, g, &mut self.ws);
        let lambda = self.model.lambda;
        let n2: f64 = g.iter().zip(w).map(|(&gl, &wi)| regularized(gl, lambda, wi).powi(2)).sum();
        self.norms.push(n2.sqrt());
        Eval { loss: eval.loss, grad_norm2: Some(n2), extra: () }
    }
}

/// Newton's method as a [`Method`] of the one loop.
struct Newton<'a> {
    problem: ReducedProblem<'a>,
    d: usize,
    m: usize,
    max_step: f64,
    step_norms: Vec<f64>,
    reduced_step_norms: Vec<f64>,
    settled: bool,
    hessian_seconds: f64,
    factor_seconds: f64,
    /// The last factor and `||grad L||_2` at the start of the last step.
    factor: Option<Cholesky>,
    factored_at: usize,
    last_grad: f64,
    factorizations: usize,
}

/// Inverse-iteration steps of the smallest-eigenvalue estimate.
pub const EIGEN_ITERATIONS: usize = 30;

/// A step reuses the last factor (a chord step) when the last step cut `||grad L||_2` at least
/// by this factor; otherwise the Hessian is built and factored anew.
pub const REUSE_FACTOR_BELOW: f64 = 0.25;

impl Method for Newton<'_> {
    type Error = PolishError;
    fn step(&mut self, t: usize, w: &mut [f64], g_loss: &[f64], lambda: f64) -> Result<(), PolishError> {
        let basis = self.problem.basis;
        let k = basis.k();
        let mut start = Weights::zeros(self.d, self.m);
        start.as_mut_slice().copy_from_slice(w);
        let a = basis.reduce(&start);
        // The reduced gradient from the model's own gradient: Q^T (grad_loss + lambda W).
        let mut full = Weights::zeros(self.d, self.m);
        for ((gi, &gl), &wi) in full.as_mut_slice().iter_mut().zip(g_loss).zip(w.iter()) {
            *gi = regularized(gl, lambda, wi);
        }
        let grad = full.norm();
        let reuse = self.factor.is_some() && grad <= REUSE_FACTOR_BELOW * self.last_grad;
        self.last_grad = grad;
        if !reuse {
            let clock = std::time::Instant::now();
            let eval = self.problem.eval(&a);
            let h = self.problem.hessian(&eval);
            self.hessian_seconds += clock.elapsed().as_secs_f64();
            let clock = std::time::Instant::now();
            let chol = Cholesky::factor(h).map_err(|pivot| PolishError::NotPositiveDefinite { step: t, pivot })?;
            self.factor_seconds += clock.elapsed().as_secs_f64();
            self.factor = Some(chol);
            self.factored_at = t;
            self.factorizations += 1;
        }
        let chol = self.factor.as_ref().expect("factored");
        let g_red = flatten(&basis.reduce(&full));
        let dir = chol.solve(&g_red);
        let reduced = dir.iter().map(|x| x * x).sum::<f64>().sqrt();
        self.reduced_step_norms.push(reduced);
        // A NaN step is refused too.
        if reduced.is_nan() || reduced > self.max_step {
            return Err(PolishError::StepTooLarge { step: t, norm: reduced });
        }
        let a_new: Array2<f64> = &a - &unflatten(&dir, k);
        let next = basis.lift(&a_new);
        let norm = next.distance(&start);
        self.step_norms.push(norm);
        // Settled: the step is at the resolution of binary64 (a further step only moves rounding).
        self.settled = norm <= 8.0 * f64::EPSILON * weights_view(&next).iter().map(|x| x * x).sum::<f64>().sqrt();
        w.copy_from_slice(next.as_slice());
        Ok(())
    }
    fn settled(&self) -> bool {
        self.settled
    }
}

/// Polishes `start` by Newton's method on `model`'s `L` on `data` (whose span `basis` is).
pub fn polish(
    model: &Cnn,
    data: &PatchData,
    basis: &PatchBasis,
    start: &Weights,
    settings: PolishSettings,
) -> Result<Polish, PolishError> {
    let clock = std::time::Instant::now();
    let mut objective = ModelObjective { model, data, ws: model.workspace(data.patches), norms: Vec::new() };
    let mut method = Newton {
        problem: ReducedProblem::new(*model, basis, data),
        d: start.d(),
        m: start.m(),
        max_step: settings.max_step,
        step_norms: Vec::new(),
        reduced_step_norms: Vec::new(),
        settled: false,
        hessian_seconds: 0.0,
        factor_seconds: 0.0,
        factor: None,
        factored_at: 0,
        last_grad: f64::INFINITY,
        factorizations: 0,
    };
    let mut w = start.as_slice().to_vec();
    let budget = Budget { steps: settings.max_steps, grad_tol: settings.grad_tol };
    let stop = minimize(&mut objective, &mut method, &mut w, budget, &mut ())?;
    let mut weights = Weights::zeros(start.d(), start.m());
    weights.as_mut_slice().copy_from_slice(&w);
    Ok(Polish {
        distance: weights.distance(start),
        start_complement: basis.complement_norm(start),
        weights,
        stop: stop.reason,
        grad_norms: objective.norms,
        step_norms: method.step_norms,
        reduced_step_norms: method.reduced_step_norms,
        seconds: clock.elapsed().as_secs_f64(),
        factorizations: method.factorizations,
        smallest_eigenvalue: method
            .factor
            .as_ref()
            .map(|f| (f.smallest_eigenvalue_estimate(EIGEN_ITERATIONS), method.factored_at)),
        hessian_seconds: method.hessian_seconds,
        factor_seconds: method.factor_seconds,
    })
}
