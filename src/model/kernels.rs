//! The hot passes: the fused, parallel loss/gradient pass and the error pass, with their sparse
//! gather kernels in a baseline copy and an AVX copy chosen at run time (bit-identical results).
//! See `docs/performance.md` for the cost model and the measurements.

use rayon::prelude::*;

use super::activation::softplus_sigmoid;
use super::cnn::{Cnn, LossEval, Workspace, misclassified};
use crate::data::{PatchData, SparseRows};

/// Work split of the parallel passes: samples per forward task, rows of `G` per backward task.
/// Every element is computed the same way whatever the split and the number of threads, so these
/// only trade scheduling overhead against balance.
const SAMPLES_PER_TASK: usize = 16;
const ROWS_PER_TASK: usize = 64;
/// Test samples per task of the error pass.
pub(super) const EVAL_SAMPLES_PER_TASK: usize = 256;

// ---------------------------------------------------------------------------------------------
// Hot kernels (see docs/performance.md for the cost model and the measurements).
//
// A sparse patch `x = sum_t val[t] e_{idx[t]}` meets the weights through one row operation on the
// `d x 2m` layout, the gather `z[c] = sum_t val[t] W[idx[t], c]`; the backward pass is the same
// gather over the transposed patches (`G[k, c] = sum_q x_qk C[q, c]`). It is split into column
// blocks (up to 40 wide with AVX, 16 without) so that a block's accumulators stay in registers and
// the compiler emits packed multiplies and adds without bounds checks inside the block. Every output element still
// receives exactly the same operations in the same order as the plain loops
// `for t { for c { z[c] += val[t] * W[idx[t], c] } }` (starting from `0.0`), so the results are
// bit-identical to them, whatever the vector width (no fused multiply-add is ever formed: Rust does
// not contract `a * b + c`).
// ---------------------------------------------------------------------------------------------

/// `out[off..off + L] = 0.0 + sum_t val[t] * w[idx[t] * w2 + off..][..L]`, summed in `t` order.
#[inline(always)]
fn gather_block<const L: usize>(w: &[f64], w2: usize, off: usize, idx: &[u32], val: &[f64], out: &mut [f64]) {
    let mut acc = [0.0f64; L];
    for (&k, &v) in idx.iter().zip(val) {
        let base = k as usize * w2 + off;
        let row: &[f64; L] = w[base..base + L].try_into().expect("a block of L columns");
        for (a, &x) in acc.iter_mut().zip(row) {
            *a += v * x;
        }
    }
    out[off..off + L].copy_from_slice(&acc);
}

/// Calls `$block::<L>(off)` for consecutive column blocks covering `0..$w2`, greedily with the
/// widths listed (the last must be 1).
macro_rules! for_blocks {
    ($w2:expr, [$($l:literal),*], |$off:ident, $L:ident| $call:expr) => {{
        let mut $off = 0;
        $(
            while $off + $l <= $w2 {
                {
                    const $L: usize = $l;
                    $call;
                }
                $off += $l;
            }
        )*
    }};
}

/// `out[c] = sum_t val[t] * w[idx[t] * w2 + c]` for `c < w2` (the forward of one patch). `WIDE`
/// (the AVX copy: 16 registers of 4 lanes) takes blocks of up to 40 columns, the baseline copy
/// (16 registers of 2 lanes) up to 16; wide blocks give enough independent accumulators to hide
/// the latency of the additions.
#[allow(clippy::int_plus_one)] // the width-1 block of `for_blocks!`
#[inline(always)]
fn gather_patch<const WIDE: bool>(w: &[f64], w2: usize, idx: &[u32], val: &[f64], out: &mut [f64]) {
    if WIDE {
        for_blocks!(w2, [40, 32, 24, 16, 8, 4, 2, 1], |off, L| gather_block::<L>(w, w2, off, idx, val, out));
    } else {
        for_blocks!(w2, [16, 8, 4, 2, 1], |off, L| gather_block::<L>(w, w2, off, idx, val, out));
    }
}

impl Cnn {
    /// Fills `z[p * 2m + c] = <w_c, x_{i,p}>` for sample `i` and returns `f(W, x_i)`.
    #[inline(always)]
    fn forward_sample_with<const WIDE: bool, V: Fn(f64) -> f64>(
        &self,
        value: &V,
        w: &[f64],
        data: &PatchData,
        i: usize,
        z: &mut [f64],
    ) -> f64 {
        let w2 = 2 * self.m;
        let z = &mut z[..data.patches * w2];
        for (p, zp) in z.chunks_exact_mut(w2).enumerate() {
            let (idx, val) = data.x.row(i * data.patches + p);
            gather_patch::<WIDE>(w, w2, idx, val, zp);
        }
        self.output_from(value, z)
    }

    /// Fills `z[p * 2m + c] = <w_c, x_{i,p}>` for sample `i` and returns `f(W, x_i)`.
    #[inline]
    pub(super) fn forward_sample(&self, w: &[f64], data: &PatchData, i: usize, z: &mut [f64]) -> f64 {
        with_activation!(self.activation, |value, _deriv| self.forward_sample_with::<false, _>(&value, w, data, i, z))
    }

    /// [`Cnn::loss_grad`] on the kernels `k`, with the activation matched once.
    pub(super) fn loss_grad_with_kernels(
        &self,
        k: Kernels,
        w: &[f64],
        data: &PatchData,
        grad: &mut [f64],
        ws: &mut Workspace,
    ) -> LossEval {
        with_activation!(self.activation, |value, deriv| self.loss_grad_with(k, &value, &deriv, w, data, grad, ws))
    }

    /// The pass behind [`Cnn::loss_grad`], with the activation's value and derivative as closures.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn loss_grad_with<V, D>(
        &self,
        k: Kernels,
        value: &V,
        deriv: &D,
        w: &[f64],
        data: &PatchData,
        grad: &mut [f64],
        ws: &mut Workspace,
    ) -> LossEval
    where
        V: Fn(f64) -> f64 + Sync,
        D: Fn(f64) -> f64 + Sync,
    {
        assert_eq!(w.len(), self.d * 2 * self.m, "weights of shape d x 2m");
        assert_eq!(grad.len(), w.len(), "gradient of the weights' shape");
        // Two phases, each touching one weights-sized array. The forward pass, in parallel over
        // blocks of samples, reads `W` into every patch's pre-activations `z[q 2m + c] = <w_c, x_q>`
        // and, while they are still in L1, turns each sample's into its output, loss, error and
        // backward coefficients `C[q, c] = (1/n) l_i y_i j_c c_F sigma'(z[q, c])` (so that
        // `grad = X^T C`); the loss is then summed in sample order. The backward pass writes `G` row
        // by row.
        ws.grow(data.x.rows() * 2 * self.m, data.len());
        let (m, w2) = (self.m, 2 * self.m);
        let n = data.len();
        let per_sample = data.patches * w2;
        let Workspace { z, c, sample } = ws;
        z[..n * per_sample]
            .par_chunks_mut(SAMPLES_PER_TASK * per_sample)
            .zip(c[..n * per_sample].par_chunks_mut(SAMPLES_PER_TASK * per_sample))
            .zip(sample[..n].par_chunks_mut(SAMPLES_PER_TASK))
            .enumerate()
            .for_each(|(b, ((zb, cb), sb))| {
                gather_rows(k, w2, w, &data.x, b * SAMPLES_PER_TASK * data.patches, zb);
                for (j, ((zi, ci), si)) in
                    zb.chunks_exact(per_sample).zip(cb.chunks_exact_mut(per_sample)).zip(sb.iter_mut()).enumerate()
                {
                    let y = data.y[b * SAMPLES_PER_TASK + j];
                    let margin = y * self.output_from(value, zi);
                    let (sp, sg) = softplus_sigmoid(-margin);
                    *si = (sp, misclassified(margin));
                    // d/df log(1 + exp(-y f)) = y * l_i with l_i = -sigmoid(-y f).
                    let a = -sg * y * self.scale / n as f64;
                    let na = -a;
                    for (zq, cq) in zi.chunks_exact(w2).zip(ci.chunks_exact_mut(w2)) {
                        let (zplus, zminus) = zq.split_at(m);
                        let (cplus, cminus) = cq.split_at_mut(m);
                        for (cc, &zc) in cplus.iter_mut().zip(zplus) {
                            *cc = a * deriv(zc);
                        }
                        for (cc, &zc) in cminus.iter_mut().zip(zminus) {
                            *cc = na * deriv(zc);
                        }
                    }
                }
            });
        let mut loss = 0.0;
        let mut errors = 0usize;
        for &(sp, wrong) in &sample[..n] {
            loss += sp;
            errors += usize::from(wrong);
        }
        self.backward(k, data, c, grad);
        LossEval { loss: loss / n as f64, errors }
    }

    /// `grad = X^T C`: row `k` gathers the coefficient rows of the patches holding coordinate `k`
    /// (through the transposed patches `data.xt`), summed in patch order. Every element of `grad`
    /// receives the products in the same order as the patch-by-patch scatter
    /// `for q { for k in x_q { grad[k] += x_q[k] C[q] } }` from zero, so the result is
    /// bit-identical to it (a patch whose coefficients are zero adds exact zeros). In parallel over
    /// blocks of rows.
    fn backward(&self, k: Kernels, data: &PatchData, c: &[f64], grad: &mut [f64]) {
        let w2 = 2 * self.m;
        grad.par_chunks_mut(ROWS_PER_TASK * w2)
            .enumerate()
            .for_each(|(b, gb)| gather_rows(k, w2, c, &data.xt, b * ROWS_PER_TASK, gb));
    }

    /// `f(W, x)` from the pre-activations `z` of one sample's patches (`P` rows of `2m`), summed
    /// patch by patch, plus filters then minus filters.
    #[inline(always)]
    pub(crate) fn output_from<V: Fn(f64) -> f64>(&self, value: &V, z: &[f64]) -> f64 {
        let (mut fp, mut fm) = (0.0, 0.0);
        for zp in z.chunks_exact(2 * self.m) {
            let (plus, minus) = zp.split_at(self.m);
            fp += plus.iter().map(|&t| value(t)).sum::<f64>();
            fm += minus.iter().map(|&t| value(t)).sum::<f64>();
        }
        self.scale * (fp - fm)
    }
}

/// Which copy of the hot kernels to run: the baseline-target one, or the one compiled with AVX
/// (only constructed when the CPU has AVX). Both give bit-identical results: AVX (without FMA)
/// changes the vector width of element-wise operations, never the operations an element receives
/// or their order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Kernels {
    avx: bool,
}

impl Kernels {
    /// AVX if the CPU has it (runtime detection), else the baseline copy.
    pub(crate) fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            Self { avx: std::arch::is_x86_feature_detected!("avx") }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            Self { avx: false }
        }
    }

    /// The baseline copy.
    pub(crate) fn portable() -> Self {
        Self { avx: false }
    }
}

/// Defines `$name(k: Kernels, args..)`, which runs `$body::<true>` (compiled with AVX) when `k` says
/// so, else `$body::<false>`.
macro_rules! kernel_fn {
    ($(#[$doc:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)? => $body:ident) => {
        $(#[$doc])*
        $vis fn $name(k: Kernels, $($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx")]
                fn avx($($arg: $ty),*) $(-> $ret)? {
                    $body::<true>($($arg),*)
                }
                if k.avx {
                    // SAFETY: `Kernels { avx: true }` is only made after detecting AVX on this CPU.
                    return unsafe { avx($($arg),*) };
                }
            }
            let _ = k;
            $body::<false>($($arg),*)
        }
    };
}

kernel_fn! {
    /// `out[j 2m + c] = sum_t val[t] * w[idx[t] 2m + c]` over row `first + j` of `rows`, for every
    /// row of `out` (`w2 = 2m` columns): the forward pass over a block of patches (`rows = x`, `w` the
    /// weights), or the backward pass over a block of gradient rows (`rows = xt`, `w` the
    /// coefficients).
    fn gather_rows(w2: usize, w: &[f64], rows: &SparseRows, first: usize, out: &mut [f64]) => gather_rows_body
}

#[inline(always)]
fn gather_rows_body<const WIDE: bool>(w2: usize, w: &[f64], rows: &SparseRows, first: usize, out: &mut [f64]) {
    for (j, o) in out.chunks_exact_mut(w2).enumerate() {
        let (idx, val) = rows.row(first + j);
        gather_patch::<WIDE>(w, w2, idx, val, o);
    }
}

kernel_fn! {
    /// Number of `samples` with `y f(W, x) <= 0` (clean labels).
    pub(super) fn errors_block(model: &Cnn, w: &[f64], data: &PatchData, samples: std::ops::Range<usize>) -> usize => errors_body
}

#[inline(always)]
fn errors_body<const WIDE: bool>(model: &Cnn, w: &[f64], data: &PatchData, samples: std::ops::Range<usize>) -> usize {
    let mut z = vec![0.0; data.patches * 2 * model.m];
    with_activation!(model.activation, |value, _deriv| {
        let mut errors = 0usize;
        for i in samples {
            let f = model.forward_sample_with::<WIDE, _>(&value, w, data, i, &mut z);
            errors += usize::from(misclassified(data.clean_y[i] * f));
        }
        errors
    })
}
