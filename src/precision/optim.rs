//! Every optimizer of [`crate::optim`] in any [`Real`] scalar, with the update formulas of the
//! binary64 kernels operation for operation (so that at `f64` they give the same bits).
//!
//! Hyperparameters (`eta`, `b1`, `b2`, `eps`, `beta`, `lambda`) enter as their binary64 values;
//! what is derived from them (`1 - b1`, `1 - b1^t`, `eta / sqrt(t)`, `eta lambda`) is computed in
//! the scalar. Element-wise and in parallel over blocks: no result depends on the thread count.

use rayon::prelude::*;

use crate::setting::{Decay, OptimizerSetting};

use super::adam::AdamStep;
use super::real::Real;

/// Parameters per task of the parallel update.
const PARAMS_PER_TASK: usize = 2048;

/// One optimizer's state in `R`.
#[derive(Clone, Debug)]
pub struct GenericOptimizer<R: Real> {
    setting: OptimizerSetting,
    t: u64,
    m: Vec<R>,
    v: Vec<R>,
}

/// `a / b` with `0 / 0 = 0`: `0` where `b == 0` (the binary64 `ratio_select`).
#[inline]
fn ratio_select<R: Real>(a: &R, b: &R) -> R {
    if b.is_zero() { R::zero() } else { a.div(b) }
}

impl<R: Real> GenericOptimizer<R> {
    /// A fresh optimizer (zero state, `t = 0`) for `dim` parameters.
    pub fn new(setting: &OptimizerSetting, dim: usize) -> Self {
        let state = |on: bool| if on { vec![R::zero(); dim] } else { Vec::new() };
        let (m, v) = match setting {
            OptimizerSetting::Adam { .. } | OptimizerSetting::AdamW { .. } => (state(true), state(true)),
            OptimizerSetting::Momentum { .. } => (state(true), state(false)),
            OptimizerSetting::RmsProp { .. } | OptimizerSetting::AdaGrad { .. } => (state(false), state(true)),
            OptimizerSetting::Gd { .. } | OptimizerSetting::SignGd { .. } => (state(false), state(false)),
        };
        Self { setting: setting.clone(), t: 0, m, v }
    }

    /// One update of `w` from the loss gradient `g_loss` and weight decay `lambda`.
    pub fn step(&mut self, w: &mut [R], g_loss: &[R], lambda: f64) {
        assert_eq!(w.len(), g_loss.len(), "weights and gradient of one length");
        self.t += 1;
        let one = R::from_f64(1.0);
        const B: usize = PARAMS_PER_TASK;
        let blocks = w.par_chunks_mut(B).zip(g_loss.par_chunks(B));
        match self.setting {
            OptimizerSetting::Gd { eta } => blocks.for_each(|(w, g)| gd_block(w, g, eta, lambda)),
            OptimizerSetting::Adam { eta, b1, b2, eps, bias_correction }
            | OptimizerSetting::AdamW { eta, b1, b2, eps, bias_correction } => {
                let decoupled = matches!(self.setting, OptimizerSetting::AdamW { .. });
                let t = i32::try_from(self.t).unwrap_or(i32::MAX);
                let (c1, c2) = if bias_correction {
                    (one.sub(&R::from_f64(b1).powi(t)), one.sub(&R::from_f64(b2).powi(t)))
                } else {
                    (one.clone(), one.clone())
                };
                let p = AdamStep {
                    b1,
                    b2,
                    omb1: one.sub(&R::from_f64(b1)),
                    omb2: one.sub(&R::from_f64(b2)),
                    c1,
                    c2,
                    eps: R::from_f64(eps),
                    eta,
                    coupled: if decoupled { 0.0 } else { lambda },
                    decay: if decoupled { R::from_f64(eta).mul_f64(lambda) } else { R::zero() },
                };
                blocks.zip(self.m.par_chunks_mut(B)).zip(self.v.par_chunks_mut(B)).for_each(|(((w, g), m), v)| {
                    if !R::adam_kernel(w, g, m, v, &p) {
                        adam_block(w, g, m, v, &p);
                    }
                });
            }
            OptimizerSetting::SignGd { eta, decay } => {
                let t = R::from_f64(self.t as f64);
                let eta_t = match decay {
                    Decay::Constant => R::from_f64(eta),
                    Decay::InvSqrt => R::from_f64(eta).div(&t.sqrt()),
                    Decay::Inv => R::from_f64(eta).div(&t),
                };
                blocks.for_each(|(w, g)| {
                    for (wi, gl) in w.iter_mut().zip(g) {
                        let g = gl.add(&wi.mul_f64(lambda));
                        if g.is_pos() {
                            *wi = wi.sub(&eta_t);
                        } else if g.is_neg() {
                            *wi = wi.add(&eta_t);
                        }
                    }
                });
            }
            OptimizerSetting::Momentum { eta, beta } => {
                blocks.zip(self.m.par_chunks_mut(B)).for_each(|((w, g), u)| {
                    for ((wi, gl), ui) in w.iter_mut().zip(g).zip(u.iter_mut()) {
                        *ui = ui.mul_f64(beta).add(gl).add(&wi.mul_f64(lambda));
                        *wi = wi.sub(&ui.mul_f64(eta));
                    }
                });
            }
            OptimizerSetting::RmsProp { eta, eps, .. } | OptimizerSetting::AdaGrad { eta, eps } => {
                let (keep, add) = match self.setting {
                    OptimizerSetting::RmsProp { beta, .. } => (R::from_f64(beta), one.sub(&R::from_f64(beta))),
                    _ => (one.clone(), one.clone()),
                };
                let eps = R::from_f64(eps);
                blocks.zip(self.v.par_chunks_mut(B)).for_each(|((w, g), v)| {
                    for ((wi, gl), vi) in w.iter_mut().zip(g).zip(v.iter_mut()) {
                        let g = gl.add(&wi.mul_f64(lambda));
                        let vn = keep.mul(vi).add(&add.mul(&g).mul(&g));
                        let upd = ratio_select(&g, &vn.sqrt().add(&eps));
                        *vi = vn;
                        *wi = wi.sub(&upd.mul_f64(eta));
                    }
                });
            }
        }
    }
}

/// `w <- w - eta (g + lambda w)` on one block.
#[inline(always)]
fn gd_body<R: Real>(w: &mut [R], g: &[R], eta: f64, lambda: f64) {
    for (wi, gi) in w.iter_mut().zip(g) {
        *wi = wi.sub(&gi.add(&wi.mul_f64(lambda)).mul_f64(eta));
    }
}

crate::fma_dispatch! {
    /// [`gd_body`] through the FMA copy when the CPU has it.
    fn gd_block<R: Real>(w: &mut [R], g: &[R], eta: f64, lambda: f64) => gd_body
}

/// One Adam / AdamW update on one block.
#[inline(always)]
fn adam_body<R: Real>(w: &mut [R], g: &[R], m: &mut [R], v: &mut [R], p: &AdamStep<R>) {
    for (((wi, gl), mi), vi) in w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        let g = gl.add(&wi.mul_f64(p.coupled));
        let mn = mi.mul_f64(p.b1).add(&p.omb1.mul(&g));
        let vn = vi.mul_f64(p.b2).add(&p.omb2.mul(&g).mul(&g));
        let mhat = mn.div(&p.c1);
        let vhat = vn.div(&p.c2);
        *mi = mn;
        *vi = vn;
        let upd = ratio_select(&mhat, &vhat.sqrt().add(&p.eps));
        *wi = wi.sub(&upd.mul_f64(p.eta).add(&wi.mul(&p.decay)));
    }
}

crate::fma_dispatch! {
    /// [`adam_body`] through the FMA copy when the CPU has it.
    fn adam_block<R: Real>(w: &mut [R], g: &[R], m: &mut [R], v: &mut [R], p: &AdamStep<R>) => adam_body
}
