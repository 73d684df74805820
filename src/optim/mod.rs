//! Full-batch optimizers behind one small trait, on flat `f64` parameter vectors, and the one loop
//! every run goes through ([`driver::minimize`]: budget, gradient tolerance, divergence, stop reason).
//!
//! Every optimizer receives the gradient of the *unregularized* loss `g_loss` and the weight decay
//! `lambda`; all but AdamW form `g = g_loss + lambda w` inside their (fused, allocation-free)
//! update loop, i.e. weight decay is part of the objective `L` as in the paper. AdamW applies it
//! decoupled: `w <- w - eta lambda w` after the Adam update on `g_loss`.
//!
//! | optimizer | update (`t` counts from 1) |
//! |---|---|
//! | GD | `w <- w - eta g` |
//! | Adam | `m <- b1 m + (1-b1) g`, `v <- b2 v + (1-b2) g^2`, `w <- w - eta mhat / (sqrt(vhat) + eps)`; `mhat = m / (1 - b1^t)`, `vhat = v / (1 - b2^t)` with bias correction, `mhat = m`, `vhat = v` without |
//! | sign GD | `w <- w - eta_t sign(g)`, `sign(0) = 0`, `eta_t` by [`Decay`] |
//! | AdamW | Adam on `g_loss`, then `w <- w - eta lambda w` |
//! | momentum | `u <- (beta u + g_loss) + lambda w` (in this order), `w <- w - eta u` |
//! | RMSProp | `v <- beta v + (1-beta) g^2`, `w <- w - eta g / (sqrt(v) + eps)` |
//! | AdaGrad | `v <- v + g^2`, `w <- w - eta g / (sqrt(v) + eps)` |
//!
//! Where a denominator `sqrt(vhat) + eps` is exactly 0 (only with `eps = 0`), the coordinate does
//! not move: the convention `0/0 = 0` that makes Adam with `b1 = b2 = eps = 0` equal sign GD with
//! `sign(0) = 0`, step for step.

use rayon::prelude::*;

pub mod driver;
pub mod lockstep;
mod schedule;
mod stop;
pub use driver::{Budget, Eval, FirstOrder, Method, Objective, Observer, Point, Scalar, Stop, minimize};
pub use lockstep::Lockstep;
pub use schedule::Schedule;
pub use stop::StopReason;

use crate::model::regularized;
use crate::setting::{Decay, OptimizerSetting};

/// Parameters per task of the parallel update ([`Update::par_apply`]).
pub const PARAMS_PER_TASK: usize = 4096;

/// Runs an expression through a copy compiled with AVX when the CPU has it (runtime detection), or
/// directly. The kernels are element-wise and contain no fused multiply-add (Rust never contracts
/// `a * b + c`), so AVX changes the vector width only: results are bit-identical.
macro_rules! dispatch {
    ($e:expr) => {{
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx")]
            fn avx(f: impl FnOnce()) {
                f()
            }
            if std::arch::is_x86_feature_detected!("avx") {
                // SAFETY: `avx` only enables the `avx` target feature, which the CPU has (checked
                // just above).
                unsafe { avx(|| $e) };
            } else {
                $e;
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            $e;
        }
    }};
}

mod deferred;
pub use deferred::{Deferred, LaggedRows, StepConsts};

/// One full-batch optimizer with its state.
///
/// A step is [`Optimizer::begin_step`] (advances the step count and fixes the step's constants)
/// followed by one element-wise [`Update`] of every parameter ([`Update::par_apply`], in parallel
/// over blocks: every element receives the same operations whatever the number of threads).
/// [`Optimizer::step`] does both.
pub trait Optimizer: Send {
    /// The key of [`OptimizerSetting::key`].
    fn name(&self) -> &'static str;
    /// Starts a step with weight decay `lambda`: advances the step count and returns the step's
    /// element-wise update, borrowing the optimizer's state.
    fn begin_step(&mut self, lambda: f64) -> Update<'_>;
    /// One update of `w` from the unregularized gradient `g_loss` and weight decay `lambda`.
    fn step(&mut self, w: &mut [f64], g_loss: &[f64], lambda: f64) {
        let mut update = self.begin_step(lambda);
        assert_eq!(w.len(), update.dim(), "weights of the optimizer's dimension");
        update.par_apply(w, g_loss);
    }
    /// Sets the base step size `eta` used by the following steps (an outer schedule calls this
    /// before each step; sign GD's own [`Decay`] still applies on top).
    fn set_eta(&mut self, eta: f64);
}

/// The element-wise update of one step: constants plus the optimizer's per-parameter state.
/// [`Update::par_apply`] on the whole parameter vector makes the step.
#[derive(Debug)]
pub enum Update<'a> {
    /// `w <- w - eta (g + lambda w)`.
    Gd { eta: f64, lambda: f64, dim: usize },
    /// Adam / AdamW with this step's constants.
    Adam { p: AdamConsts, m: &'a mut [f64], v: &'a mut [f64] },
    /// `w <- w - eta sign(g + lambda w)` with this step's `eta`.
    SignGd { eta: f64, lambda: f64, dim: usize },
    /// Heavy ball.
    Momentum { eta: f64, beta: f64, lambda: f64, u: &'a mut [f64] },
    /// RMSProp / AdaGrad.
    Adaptive { keep: f64, add: f64, eta: f64, eps: f64, lambda: f64, v: &'a mut [f64] },
}

impl Update<'_> {
    /// Number of parameters the update covers.
    pub fn dim(&self) -> usize {
        match self {
            Self::Gd { dim, .. } | Self::SignGd { dim, .. } => *dim,
            Self::Adam { m, .. } => m.len(),
            Self::Momentum { u, .. } => u.len(),
            Self::Adaptive { v, .. } => v.len(),
        }
    }

    /// Updates `w` from its loss gradient `g_loss`; the state slices hold exactly `w`'s parameters
    /// (a block of [`Update::par_apply`]). Inlined into the copy [`Update::apply_vectorized`] compiles
    /// with AVX.
    #[inline(always)]
    fn apply(&mut self, w: &mut [f64], g_loss: &[f64]) {
        assert_eq!(w.len(), g_loss.len(), "weights and gradient of one length");
        match self {
            Self::Gd { eta, lambda, .. } => gd_kernel(w, g_loss, *eta, *lambda),
            Self::Adam { p, m, v } => {
                // `x / 1.0 == x` exactly, so the bias-correction divisions are skipped where the
                // factor is 1 (always without bias correction; for `c1` once `b1^t < 2^-53`, e.g.
                // `t > 350` at `b1 = 0.9`).
                match (p.c1 == 1.0, p.c2 == 1.0) {
                    (false, false) => adam_kernel::<true, true>(w, g_loss, m, v, *p),
                    (true, false) => adam_kernel::<false, true>(w, g_loss, m, v, *p),
                    (false, true) => adam_kernel::<true, false>(w, g_loss, m, v, *p),
                    (true, true) => adam_kernel::<false, false>(w, g_loss, m, v, *p),
                }
            }
            Self::SignGd { eta, lambda, .. } => sign_gd_kernel(w, g_loss, *eta, *lambda),
            Self::Momentum { eta, beta, lambda, u } => momentum_kernel(w, g_loss, u, *eta, *beta, *lambda),
            Self::Adaptive { keep, add, eta, eps, lambda, v } => {
                adaptive_kernel(w, g_loss, v, *keep, *add, *eta, *eps, *lambda)
            }
        }
    }

    /// [`Update::apply`] through a copy compiled with AVX when the CPU has it (runtime detection).
    /// The kernels are element-wise without fused multiply-adds, so the results are bit-identical.
    fn apply_vectorized(&mut self, w: &mut [f64], g_loss: &[f64]) {
        dispatch!(self.apply(w, g_loss));
    }

    /// The whole update (`w` and `g_loss` cover every parameter), in parallel over blocks of
    /// [`PARAMS_PER_TASK`] parameters on the current rayon pool, each block through the AVX copy of
    /// the kernels when the CPU has AVX. Element-wise, so bit-identical whatever the number of
    /// threads and the vector width.
    pub fn par_apply(&mut self, w: &mut [f64], g_loss: &[f64]) {
        assert!(w.len() == g_loss.len() && w.len() == self.dim(), "weights and gradient of the update's dimension");
        const B: usize = PARAMS_PER_TASK;
        let blocks = w.par_chunks_mut(B).zip(g_loss.par_chunks(B));
        match self {
            Self::Gd { eta, lambda, .. } => {
                let (eta, lambda) = (*eta, *lambda);
                blocks.for_each(|(w, g)| Update::Gd { eta, lambda, dim: w.len() }.apply_vectorized(w, g));
            }
            Self::SignGd { eta, lambda, .. } => {
                let (eta, lambda) = (*eta, *lambda);
                blocks.for_each(|(w, g)| Update::SignGd { eta, lambda, dim: w.len() }.apply_vectorized(w, g));
            }
            Self::Adam { p, m, v } => {
                let p = *p;
                blocks.zip(m.par_chunks_mut(B)).zip(v.par_chunks_mut(B)).for_each(|(((w, g), m), v)| {
                    Update::Adam { p, m, v }.apply_vectorized(w, g);
                });
            }
            Self::Momentum { eta, beta, lambda, u } => {
                let (eta, beta, lambda) = (*eta, *beta, *lambda);
                blocks.zip(u.par_chunks_mut(B)).for_each(|((w, g), u)| {
                    Update::Momentum { eta, beta, lambda, u }.apply_vectorized(w, g);
                });
            }
            Self::Adaptive { keep, add, eta, eps, lambda, v } => {
                let (keep, add, eta, eps, lambda) = (*keep, *add, *eta, *eps, *lambda);
                blocks.zip(v.par_chunks_mut(B)).for_each(|((w, g), v)| {
                    Update::Adaptive { keep, add, eta, eps, lambda, v }.apply_vectorized(w, g);
                });
            }
        }
    }
}

/// Builds the optimizer a setting describes, for `dim` parameters.
pub fn build(setting: &OptimizerSetting, dim: usize) -> Box<dyn Optimizer> {
    match *setting {
        OptimizerSetting::Gd { eta } => Box::new(Gd { eta, dim }),
        OptimizerSetting::Adam { eta, b1, b2, eps, bias_correction } => {
            Box::new(Adam::new(eta, b1, b2, eps, bias_correction, false, dim))
        }
        OptimizerSetting::AdamW { eta, b1, b2, eps, bias_correction } => {
            Box::new(Adam::new(eta, b1, b2, eps, bias_correction, true, dim))
        }
        OptimizerSetting::SignGd { eta, decay } => Box::new(SignGd { eta, decay, t: 0, dim }),
        OptimizerSetting::Momentum { eta, beta } => Box::new(Momentum { eta, beta, u: vec![0.0; dim] }),
        OptimizerSetting::RmsProp { eta, beta, eps } => {
            Box::new(Adaptive { eta, beta: Some(beta), eps, v: vec![0.0; dim] })
        }
        OptimizerSetting::AdaGrad { eta, eps } => Box::new(Adaptive { eta, beta: None, eps, v: vec![0.0; dim] }),
    }
}

/// Gradient descent.
#[derive(Clone, Debug)]
pub struct Gd {
    pub eta: f64,
    dim: usize,
}

impl Optimizer for Gd {
    fn set_eta(&mut self, eta: f64) {
        self.eta = eta;
    }
    fn name(&self) -> &'static str {
        "gd"
    }
    fn begin_step(&mut self, lambda: f64) -> Update<'_> {
        Update::Gd { eta: self.eta, lambda, dim: self.dim }
    }
}

/// Adam (weight decay in the gradient) or AdamW (decoupled), with or without bias correction.
#[derive(Clone, Debug)]
pub struct Adam {
    pub eta: f64,
    pub b1: f64,
    pub b2: f64,
    pub eps: f64,
    pub bias_correction: bool,
    pub decoupled: bool,
    t: i32,
    m: Vec<f64>,
    v: Vec<f64>,
}

impl Adam {
    /// A fresh Adam (`m = v = 0`, `t = 0`) for `dim` parameters.
    pub fn new(eta: f64, b1: f64, b2: f64, eps: f64, bias_correction: bool, decoupled: bool, dim: usize) -> Self {
        Self { eta, b1, b2, eps, bias_correction, decoupled, t: 0, m: vec![0.0; dim], v: vec![0.0; dim] }
    }
}

impl Optimizer for Adam {
    fn set_eta(&mut self, eta: f64) {
        self.eta = eta;
    }
    fn name(&self) -> &'static str {
        if self.decoupled { "adamw" } else { "adam" }
    }
    fn begin_step(&mut self, lambda: f64) -> Update<'_> {
        self.t = self.t.saturating_add(1);
        let (c1, c2) =
            if self.bias_correction { (1.0 - self.b1.powi(self.t), 1.0 - self.b2.powi(self.t)) } else { (1.0, 1.0) };
        let (b1, b2, eps, eta) = (self.b1, self.b2, self.eps, self.eta);
        let coupled = if self.decoupled { 0.0 } else { lambda };
        let decay = if self.decoupled { eta * lambda } else { 0.0 };
        let p = AdamConsts { b1, b2, c1, c2, eps, eta, coupled, decay };
        Update::Adam { p, m: &mut self.m, v: &mut self.v }
    }
}

/// Sign gradient descent, `sign(0) = 0`.
#[derive(Clone, Debug)]
pub struct SignGd {
    pub eta: f64,
    pub decay: Decay,
    t: u64,
    dim: usize,
}

impl Optimizer for SignGd {
    fn set_eta(&mut self, eta: f64) {
        self.eta = eta;
    }
    fn name(&self) -> &'static str {
        "sign-gd"
    }
    fn begin_step(&mut self, lambda: f64) -> Update<'_> {
        self.t += 1;
        let t = self.t as f64;
        let eta = match self.decay {
            Decay::Constant => self.eta,
            Decay::InvSqrt => self.eta / t.sqrt(),
            Decay::Inv => self.eta / t,
        };
        Update::SignGd { eta, lambda, dim: self.dim }
    }
}

/// Heavy-ball momentum.
#[derive(Clone, Debug)]
pub struct Momentum {
    pub eta: f64,
    pub beta: f64,
    u: Vec<f64>,
}

impl Optimizer for Momentum {
    fn set_eta(&mut self, eta: f64) {
        self.eta = eta;
    }
    fn name(&self) -> &'static str {
        "momentum"
    }
    fn begin_step(&mut self, lambda: f64) -> Update<'_> {
        Update::Momentum { eta: self.eta, beta: self.beta, lambda, u: &mut self.u }
    }
}

/// RMSProp (`beta = Some`) or AdaGrad (`beta = None`).
#[derive(Clone, Debug)]
pub struct Adaptive {
    pub eta: f64,
    pub beta: Option<f64>,
    pub eps: f64,
    v: Vec<f64>,
}

impl Optimizer for Adaptive {
    fn set_eta(&mut self, eta: f64) {
        self.eta = eta;
    }
    fn name(&self) -> &'static str {
        if self.beta.is_some() { "rmsprop" } else { "adagrad" }
    }
    fn begin_step(&mut self, lambda: f64) -> Update<'_> {
        let (keep, add) = match self.beta {
            Some(b) => (b, 1.0 - b),
            None => (1.0, 1.0),
        };
        Update::Adaptive { keep, add, eta: self.eta, eps: self.eps, lambda, v: &mut self.v }
    }
}

// ---------------------------------------------------------------------------------------------
// Update kernels: one fused pass over the parameters, allocation-free, branch-free (selects) so
// they vectorize. Each is `#[inline(always)]` so the AVX copy made by `dispatch!` compiles them
// with AVX. Every element receives exactly the operations of the formulas in the module table,
// in the same order, so the results do not depend on the vector width.
// ---------------------------------------------------------------------------------------------

/// `w <- w - eta (g + lambda w)`.
#[inline(always)]
fn gd_kernel(w: &mut [f64], g_loss: &[f64], eta: f64, lambda: f64) {
    assert_eq!(w.len(), g_loss.len(), "weights and gradient of one length");
    for (wi, &gi) in w.iter_mut().zip(g_loss) {
        *wi -= eta * regularized(gi, lambda, *wi);
    }
}

/// `w <- w - eta sign(g + lambda w)`, `sign(0) = 0` (and `sign(NaN) = 0`, as the branches of the
/// plain formula give).
#[inline(always)]
fn sign_gd_kernel(w: &mut [f64], g_loss: &[f64], eta: f64, lambda: f64) {
    assert_eq!(w.len(), g_loss.len(), "weights and gradient of one length");
    for (wi, &gl) in w.iter_mut().zip(g_loss) {
        let g = regularized(gl, lambda, *wi);
        let pos = if g > 0.0 { 1.0 } else { 0.0 };
        let neg = if g < 0.0 { 1.0 } else { 0.0 };
        *wi -= eta * (pos - neg);
    }
}

/// Adam's constants for one step: `c1 = 1 - b1^t`, `c2 = 1 - b2^t` (1 without bias correction),
/// `coupled` the weight decay inside the gradient (Adam), `decay = eta lambda` the decoupled one
/// (AdamW).
#[derive(Clone, Copy, Debug)]
pub struct AdamConsts {
    pub b1: f64,
    pub b2: f64,
    pub c1: f64,
    pub c2: f64,
    pub eps: f64,
    pub eta: f64,
    pub coupled: f64,
    pub decay: f64,
}

/// One Adam / AdamW update; `DIV1`/`DIV2` say whether to divide by `c1`/`c2` (skipped only when the
/// factor is exactly 1, which changes nothing).
#[inline(always)]
fn adam_kernel<const DIV1: bool, const DIV2: bool>(
    w: &mut [f64],
    g_loss: &[f64],
    m: &mut [f64],
    v: &mut [f64],
    p: AdamConsts,
) {
    assert!(w.len() == g_loss.len() && w.len() == m.len() && w.len() == v.len(), "state of one length");
    let AdamConsts { b1, b2, c1, c2, eps, eta, coupled, decay } = p;
    for (((wi, &gl), mi), vi) in w.iter_mut().zip(g_loss).zip(m.iter_mut()).zip(v.iter_mut()) {
        let g = regularized(gl, coupled, *wi);
        let mn = b1 * *mi + (1.0 - b1) * g;
        let vn = b2 * *vi + (1.0 - b2) * g * g;
        *mi = mn;
        *vi = vn;
        let mhat = if DIV1 { mn / c1 } else { mn };
        let vhat = if DIV2 { vn / c2 } else { vn };
        let upd = ratio_select(mhat, vhat.sqrt() + eps);
        *wi -= eta * upd + decay * *wi;
    }
}

/// `u <- beta u + (g + lambda w)`, `w <- w - eta u`.
#[inline(always)]
fn momentum_kernel(w: &mut [f64], g_loss: &[f64], u: &mut [f64], eta: f64, beta: f64, lambda: f64) {
    assert!(w.len() == g_loss.len() && w.len() == u.len(), "state of one length");
    for ((wi, &gl), ui) in w.iter_mut().zip(g_loss).zip(u.iter_mut()) {
        *ui = beta * *ui + gl + lambda * *wi;
        *wi -= eta * *ui;
    }
}

/// RMSProp (`keep = beta, add = 1 - beta`) or AdaGrad (`keep = add = 1`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn adaptive_kernel(w: &mut [f64], g_loss: &[f64], v: &mut [f64], keep: f64, add: f64, eta: f64, eps: f64, lambda: f64) {
    assert!(w.len() == g_loss.len() && w.len() == v.len(), "state of one length");
    for ((wi, &gl), vi) in w.iter_mut().zip(g_loss).zip(v.iter_mut()) {
        let g = regularized(gl, lambda, *wi);
        let vn = keep * *vi + add * g * g;
        *vi = vn;
        *wi -= eta * ratio_select(g, vn.sqrt() + eps);
    }
}

/// `a / b` with `0 / 0 = 0` (see the module doc): `a / b` where `b != 0`, and `0` where `b == 0`.
/// The quotient is always computed and then selected (a division by zero only makes an infinity or
/// NaN that is discarded), so the loops vectorize without a branch.
#[inline(always)]
fn ratio_select(a: f64, b: f64) -> f64 {
    let q = a / b;
    if b == 0.0 { 0.0 } else { q }
}
