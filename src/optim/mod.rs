//! Full-batch optimizers behind one small trait, on flat `f64` parameter vectors.
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
//! | momentum | `u <- beta u + g`, `w <- w - eta u` |
//! | RMSProp | `v <- beta v + (1-beta) g^2`, `w <- w - eta g / (sqrt(v) + eps)` |
//! | AdaGrad | `v <- v + g^2`, `w <- w - eta g / (sqrt(v) + eps)` |
//!
//! Where a denominator `sqrt(vhat) + eps` is exactly 0 (only with `eps = 0`), the coordinate does
//! not move: the convention `0/0 = 0` that makes Adam with `b1 = b2 = eps = 0` equal sign GD with
//! `sign(0) = 0`, step for step.

use crate::setting::{Decay, OptimizerSetting};

/// One full-batch optimizer with its state.
pub trait Optimizer: Send {
    /// The key of [`OptimizerSetting::key`].
    fn name(&self) -> &'static str;
    /// One update of `w` from the unregularized gradient `g_loss` and weight decay `lambda`.
    fn step(&mut self, w: &mut [f64], g_loss: &[f64], lambda: f64);
}

/// Builds the optimizer a setting describes, for `dim` parameters.
pub fn build(setting: &OptimizerSetting, dim: usize) -> Box<dyn Optimizer> {
    match *setting {
        OptimizerSetting::Gd { eta } => Box::new(Gd { eta }),
        OptimizerSetting::Adam { eta, b1, b2, eps, bias_correction } => {
            Box::new(Adam::new(eta, b1, b2, eps, bias_correction, false, dim))
        }
        OptimizerSetting::AdamW { eta, b1, b2, eps, bias_correction } => {
            Box::new(Adam::new(eta, b1, b2, eps, bias_correction, true, dim))
        }
        OptimizerSetting::SignGd { eta, decay } => Box::new(SignGd { eta, decay, t: 0 }),
        OptimizerSetting::Momentum { eta, beta } => Box::new(Momentum { eta, beta, u: vec![0.0; dim] }),
        OptimizerSetting::RmsProp { eta, beta, eps } => {
            Box::new(Adaptive { eta, beta: Some(beta), eps, v: vec![0.0; dim] })
        }
        OptimizerSetting::AdaGrad { eta, eps } => Box::new(Adaptive { eta, beta: None, eps, v: vec![0.0; dim] }),
    }
}

/// `a / b` with `0 / 0 = 0` (see the module doc).
#[inline]
fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { 0.0 } else { a / b }
}

/// Gradient descent.
#[derive(Clone, Debug)]
pub struct Gd {
    pub eta: f64,
}

impl Optimizer for Gd {
    fn name(&self) -> &'static str {
        "gd"
    }
    fn step(&mut self, w: &mut [f64], g_loss: &[f64], lambda: f64) {
        for (wi, &gi) in w.iter_mut().zip(g_loss) {
            *wi -= self.eta * (gi + lambda * *wi);
        }
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
    fn name(&self) -> &'static str {
        if self.decoupled { "adamw" } else { "adam" }
    }
    fn step(&mut self, w: &mut [f64], g_loss: &[f64], lambda: f64) {
        self.t = self.t.saturating_add(1);
        let (c1, c2) = if self.bias_correction {
            (1.0 - self.b1.powi(self.t), 1.0 - self.b2.powi(self.t))
        } else {
            (1.0, 1.0)
        };
        let (b1, b2, eps, eta) = (self.b1, self.b2, self.eps, self.eta);
        let coupled = if self.decoupled { 0.0 } else { lambda };
        let decay = if self.decoupled { eta * lambda } else { 0.0 };
        for (((wi, &gl), mi), vi) in w.iter_mut().zip(g_loss).zip(self.m.iter_mut()).zip(self.v.iter_mut()) {
            let g = gl + coupled * *wi;
            *mi = b1 * *mi + (1.0 - b1) * g;
            *vi = b2 * *vi + (1.0 - b2) * g * g;
            let upd = ratio(*mi / c1, (*vi / c2).sqrt() + eps);
            *wi -= eta * upd + decay * *wi;
        }
    }
}

/// Sign gradient descent, `sign(0) = 0`.
#[derive(Clone, Debug)]
pub struct SignGd {
    pub eta: f64,
    pub decay: Decay,
    t: u64,
}

impl Optimizer for SignGd {
    fn name(&self) -> &'static str {
        "sign-gd"
    }
    fn step(&mut self, w: &mut [f64], g_loss: &[f64], lambda: f64) {
        self.t += 1;
        let t = self.t as f64;
        let eta = match self.decay {
            Decay::Constant => self.eta,
            Decay::InvSqrt => self.eta / t.sqrt(),
            Decay::Inv => self.eta / t,
        };
        for (wi, &gl) in w.iter_mut().zip(g_loss) {
            let g = gl + lambda * *wi;
            let s = if g > 0.0 {
                1.0
            } else if g < 0.0 {
                -1.0
            } else {
                0.0
            };
            *wi -= eta * s;
        }
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
    fn name(&self) -> &'static str {
        "momentum"
    }
    fn step(&mut self, w: &mut [f64], g_loss: &[f64], lambda: f64) {
        for ((wi, &gl), ui) in w.iter_mut().zip(g_loss).zip(self.u.iter_mut()) {
            *ui = self.beta * *ui + gl + lambda * *wi;
            *wi -= self.eta * *ui;
        }
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
    fn name(&self) -> &'static str {
        if self.beta.is_some() { "rmsprop" } else { "adagrad" }
    }
    fn step(&mut self, w: &mut [f64], g_loss: &[f64], lambda: f64) {
        let (keep, add) = match self.beta {
            Some(b) => (b, 1.0 - b),
            None => (1.0, 1.0),
        };
        for ((wi, &gl), vi) in w.iter_mut().zip(g_loss).zip(self.v.iter_mut()) {
            let g = gl + lambda * *wi;
            *vi = keep * *vi + add * g * g;
            *wi -= self.eta * ratio(g, vi.sqrt() + self.eps);
        }
    }
}
