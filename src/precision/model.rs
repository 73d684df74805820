//! The CNN's objective and gradient in any [`Real`] scalar: plain sparse loops with the operation
//! order of the binary64 kernels of [`crate::model`] (so that at `f64` they give the same bits).
//!
//! * forward: `z[q, c] = 0 + sum_t x_{q,t} W[k_t, c]` over the patch's nonzeros in storage order
//!   ([`Real::gather_rows`]);
//!   `f = scale ((sum_p sum_{r} sigma(z[p, r])) - (sum_p sum_{r} sigma(z[p, m + r])))`;
//! * per sample: `(softplus(-y f), sigmoid(-y f))`, `a = ((-sigmoid) y scale) / n` and the backward
//!   coefficients `C[q, c] = +-a sigma'(z[q, c])`;
//! * backward: `G[k, c] = 0 + sum_q x_{q,k} C[q, c]` over the patches holding `k` in patch order;
//! * loss: `(sum_i softplus_i) / n` in sample order.
//!
//! Data values, labels, `scale` and `lambda` enter as binary64 values ([`Real::mul_f64`]). The
//! passes run in parallel over blocks of samples and rows of `G`; every element is computed the
//! same way on any thread, so results do not depend on the number of threads.

use rayon::prelude::*;

use crate::data::PatchData;
use crate::model::{Activation, Cnn, Coefficients};

use super::real::Real;

/// Samples per task of the forward pass and rows of `G` per task of the backward pass.
const SAMPLES_PER_TASK: usize = 8;
const ROWS_PER_TASK: usize = 32;

/// `sigma(z)` in `R`.
#[inline(always)]
pub fn act_value<R: Real>(a: Activation, z: &R) -> R {
    match a {
        Activation::Linear => z.clone(),
        Activation::PolyRelu(q) => {
            if !z.is_pos() {
                R::zero()
            } else {
                match q {
                    1 => z.clone(),
                    2 => z.mul(z),
                    3 => z.mul(z).mul(z),
                    _ => z.powi(q as i32),
                }
            }
        }
    }
}

/// `sigma'(z)` in `R`.
#[inline(always)]
pub fn act_deriv<R: Real>(a: Activation, z: &R) -> R {
    match a {
        Activation::Linear => R::from_f64(1.0),
        Activation::PolyRelu(q) => {
            if !z.is_pos() {
                R::zero()
            } else {
                match q {
                    1 => R::from_f64(1.0),
                    2 => z.mul_f64(2.0),
                    3 => z.mul_f64(3.0).mul(z),
                    _ => z.powi(q as i32 - 1).mul_f64(f64::from(q)),
                }
            }
        }
    }
}

/// `z[p 2m + c] = <w_c, x_{i,p}>` for every patch of sample `i`.
#[inline(always)]
fn preactivations<R: Real>(model: &Cnn, w: &[R], data: &PatchData, i: usize, z: &mut [R]) {
    R::gather_rows(w, 2 * model.m, &data.x, i * data.patches, z);
}

/// `f(W, x)` from one sample's pre-activations. The sums over the two classes' filters of a patch
/// are independent chains, run side by side (each in its own order).
#[inline(always)]
fn output<R: Real>(model: &Cnn, z: &[R]) -> R {
    let (mut fp, mut fm) = (R::zero(), R::zero());
    for zp in z.chunks_exact(2 * model.m) {
        let (plus, minus) = zp.split_at(model.m);
        let (mut sp, mut sm) = (R::zero(), R::zero());
        for (tp, tm) in plus.iter().zip(minus) {
            sp = sp.add(&act_value(model.activation, tp));
            sm = sm.add(&act_value(model.activation, tm));
        }
        fp = fp.add(&sp);
        fm = fm.add(&sm);
    }
    fp.sub(&fm).mul_f64(model.scale)
}

/// `f(W, x_i)` for every sample (in parallel; each sample on its own).
pub fn outputs<R: Real>(model: &Cnn, w: &[R], data: &PatchData) -> Vec<R> {
    (0..data.len())
        .into_par_iter()
        .map_init(
            || vec![R::zero(); data.patches * 2 * model.m],
            |z, i| {
                preactivations(model, w, data, i, z);
                output(model, z)
            },
        )
        .collect()
}

/// Number of points with `y f(W, x) <= 0` against the clean labels.
pub fn errors<R: Real>(model: &Cnn, w: &[R], data: &PatchData) -> usize {
    let f = outputs(model, w, data);
    f.iter().zip(&data.clean_y).filter(|(f, y)| !f.mul_f64(**y).is_pos()).count()
}

/// The mean logistic loss (no weight decay) and, in `grad` (overwritten), its gradient, with the
/// number of training points with `y f <= 0` (training labels).
pub fn loss_grad<R: Real>(model: &Cnn, w: &[R], data: &PatchData, grad: &mut [R]) -> (R, usize) {
    let (w2, n) = (2 * model.m, data.len());
    assert_eq!(w.len(), model.d * w2, "weights of shape d x 2m");
    assert_eq!(grad.len(), w.len(), "gradient of the weights' shape");
    let per_sample = data.patches * w2;
    let n_r = R::from_f64(n as f64);
    let mut c = vec![R::zero(); n * per_sample];
    let mut sample = vec![(R::zero(), false); n];
    c.par_chunks_mut(SAMPLES_PER_TASK * per_sample)
        .zip(sample.par_chunks_mut(SAMPLES_PER_TASK))
        .enumerate()
        .for_each(|(b, (cb, sb))| sample_block(model, w, data, b * SAMPLES_PER_TASK, &n_r, cb, sb));
    let mut loss = R::zero();
    let mut errors = 0usize;
    for (sp, wrong) in &sample {
        loss = loss.add(sp);
        errors += usize::from(*wrong);
    }
    grad.par_chunks_mut(ROWS_PER_TASK * w2)
        .enumerate()
        .for_each(|(b, gb)| R::gather_rows(&c, w2, &data.xt, b * ROWS_PER_TASK, gb));
    (loss.div(&n_r), errors)
}

/// The per-sample part of [`loss_grad`] for samples `first..` (one per entry of `sb`): the forward
/// pass, `(softplus(-y f), y f <= 0)` into `sb` and the backward coefficients into `cb`.
#[inline(always)]
fn sample_block_body<R: Real>(
    model: &Cnn,
    w: &[R],
    data: &PatchData,
    first: usize,
    n_r: &R,
    cb: &mut [R],
    sb: &mut [(R, bool)],
) {
    let (m, w2) = (model.m, 2 * model.m);
    let per_sample = data.patches * w2;
    let mut z = vec![R::zero(); per_sample];
    for (j, (ci, si)) in cb.chunks_exact_mut(per_sample).zip(sb.iter_mut()).enumerate() {
        let i = first + j;
        preactivations(model, w, data, i, &mut z);
        let y = data.y[i];
        let margin = output(model, &z).mul_f64(y);
        let (sp, sg) = margin.neg().softplus_sigmoid();
        *si = (sp, !margin.is_pos());
        let a = sg.neg().mul_f64(y).mul_f64(model.scale).div(n_r);
        let na = a.neg();
        for (zq, cq) in z.chunks_exact(w2).zip(ci.chunks_exact_mut(w2)) {
            for (col, (cc, zc)) in cq.iter_mut().zip(zq).enumerate() {
                let coef = if col < m { &a } else { &na };
                *cc = coef.mul(&act_deriv(model.activation, zc));
            }
        }
    }
}

crate::fma_dispatch! {
    /// [`sample_block_body`] through the FMA copy when the CPU has it.
    fn sample_block<R: Real>(model: &Cnn, w: &[R], data: &PatchData, first: usize, n_r: &R, cb: &mut [R], sb: &mut [(R, bool)]) => sample_block_body
}

/// `sum_k x_k^2`.
pub fn norm2<R: Real>(x: &[R]) -> R {
    x.iter().fold(R::zero(), |acc, v| acc.add(&v.mul(v)))
}

/// `L(W)`: the mean logistic loss plus `(lambda / 2) ||W||_F^2`.
pub fn objective<R: Real>(model: &Cnn, w: &[R], data: &PatchData) -> R {
    let f = outputs(model, w, data);
    let n_r = R::from_f64(data.len() as f64);
    let loss = f
        .iter()
        .zip(&data.y)
        .fold(R::zero(), |acc, (f, &y)| acc.add(&f.mul_f64(y).neg().softplus_sigmoid().0))
        .div(&n_r);
    loss.add(&norm2(w).mul_f64(0.5).mul_f64(model.lambda))
}

/// The full gradient `grad L(W)` (weight decay included).
pub fn full_gradient<R: Real>(model: &Cnn, w: &[R], data: &PatchData) -> Vec<R> {
    let mut g = vec![R::zero(); w.len()];
    loss_grad(model, w, data, &mut g);
    for (gi, wi) in g.iter_mut().zip(w) {
        *gi = gi.add(&wi.mul_f64(model.lambda));
    }
    g
}

/// The feature and noise coefficients computed in `R`, then rounded to binary64.
pub fn coefficients<R: Real>(model: &Cnn, w: &[R], data: &PatchData) -> Coefficients {
    let (m, w2) = (model.m, 2 * model.m);
    let gamma =
        ndarray::Array2::from_shape_fn((2, m), |(j, r)| if j == 0 { w[r].to_f64() } else { -w[m + r].to_f64() });
    let mut rho = ndarray::Array2::zeros((data.len(), m));
    for i in 0..data.len() {
        let off = if data.y[i] > 0.0 { 0 } else { m };
        let (idx, val) = data.noise.row(i);
        for r in 0..m {
            let mut acc = R::zero();
            for (&k, &v) in idx.iter().zip(val) {
                acc = acc.add(&w[k as usize * w2 + off + r].mul_f64(v));
            }
            rho[[i, r]] = acc.to_f64();
        }
    }
    Coefficients { gamma, rho }
}
