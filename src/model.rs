//! The two-layer CNN of the paper, its objective, exact gradient, errors and the coefficients the
//! proof reasons about.
//!
//! ```text
//! sigma(z)  = max(0, z)^q                      (or sigma(z) = z, the linear activation)
//! F_j(W, x) = c * sum_{r=1..m} sum_{p=1..P} sigma(<w_{j,r}, x_p>)    (c = 1, or 1/m if chosen)
//! f(W, x)   = F_{+1}(W, x) - F_{-1}(W, x)
//! L(W)      = (1/n) sum_i log(1 + exp(-y_i f(W, x_i))) + (lambda/2) ||W||_F^2
//! grad_{w_{j,r}} L = (1/n) sum_i l_i y_i j c sum_p sigma'(<w_{j,r}, x_{i,p}>) x_{i,p} + lambda w_{j,r}
//! l_i = -1 / (1 + exp(y_i f_i))
//! ```
//!
//! **Layout.** The weights `W` (the paper's shape `(2, m, d)`) are stored as a `d x 2m` row-major
//! matrix: row `k` holds coordinate `k` of all `2m` filters, column `c = j_index * m + r` with
//! `j_index = 0` for `j = +1` and `1` for `j = -1`. A sparse patch entry `(k, v)` then touches one
//! contiguous row of `2m` values in the forward pass (`z_q += v W[k, :]`, patch by patch through
//! the patches' rows `data.x`) and in the backward pass (`G[k, :] += v C[q, :]`, row by row of `G`
//! through the transposed patches `data.xt`), so a step costs `O(m * nnz + m d)`, every pass
//! writes its output once, and the inner loops vectorize.
//! [`Weights::to_paper_layout`] gives the `(2, m, d)` array.

use ndarray::{Array2, Array3};
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

use crate::data::{PatchData, STREAM_INIT, SparseRows, rng};
use crate::setting::{ActivationKind, ModelSetting};

/// The activation `sigma`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// `max(0, z)^q`, `q >= 1`.
    PolyRelu(u32),
    /// `z`.
    Linear,
}

impl Activation {
    /// `sigma(z)`.
    #[inline]
    pub fn value(self, z: f64) -> f64 {
        match self {
            Self::Linear => z,
            Self::PolyRelu(q) => {
                if z <= 0.0 {
                    0.0
                } else {
                    match q {
                        1 => z,
                        2 => z * z,
                        3 => z * z * z,
                        _ => z.powi(q as i32),
                    }
                }
            }
        }
    }
    /// `sigma'(z)` (`q max(0, z)^(q-1)`; for `q = 1`, the indicator of `z > 0`).
    #[inline]
    pub fn deriv(self, z: f64) -> f64 {
        match self {
            Self::Linear => 1.0,
            Self::PolyRelu(q) => {
                if z <= 0.0 {
                    0.0
                } else {
                    match q {
                        1 => 1.0,
                        2 => 2.0 * z,
                        3 => 3.0 * z * z,
                        _ => f64::from(q) * z.powi(q as i32 - 1),
                    }
                }
            }
        }
    }
}

/// `log(1 + exp(z))` without overflow: `z + log1p(exp(-z))` for `z > 0`, `log1p(exp(z))` otherwise.
#[inline]
pub fn softplus(z: f64) -> f64 {
    if z > 0.0 { z + (-z).exp().ln_1p() } else { z.exp().ln_1p() }
}

/// `1 / (1 + exp(-z))` by branch, so neither branch overflows.
#[inline]
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// The weights, stored `d x 2m` (see the module doc).
#[derive(Clone, Debug, PartialEq)]
pub struct Weights {
    /// `a[[k, j_index * m + r]] = w_{j,r}[k]`.
    pub a: Array2<f64>,
    /// Filters per class.
    pub m: usize,
}

impl Weights {
    /// All zeros.
    pub fn zeros(d: usize, m: usize) -> Self {
        Self { a: Array2::zeros((d, 2 * m)), m }
    }
    /// `W^(0)`: every entry i.i.d. `N(0, sigma0^2)`, drawn in the paper's `(j, r, k)` order from the
    /// ChaCha8 stream [`STREAM_INIT`] of `seed`.
    pub fn init(d: usize, m: usize, sigma0: f64, seed: u64) -> Self {
        let mut r = rng(seed, STREAM_INIT);
        let mut w = Self::zeros(d, m);
        for c in 0..2 * m {
            for k in 0..d {
                let z: f64 = StandardNormal.sample(&mut r);
                w.a[[k, c]] = sigma0 * z;
            }
        }
        w
    }
    /// Flat row-major view (`k * 2m + c`).
    pub fn as_slice(&self) -> &[f64] {
        self.a.as_slice().expect("Weights are standard layout")
    }
    /// Flat mutable row-major view.
    pub fn as_mut_slice(&mut self) -> &mut [f64] {
        self.a.as_slice_mut().expect("Weights are standard layout")
    }
    /// Patch dimension `d`.
    pub fn d(&self) -> usize {
        self.a.nrows()
    }
    /// The paper's `(2, m, d)` array: `[j_index, r, k]`.
    pub fn to_paper_layout(&self) -> Array3<f64> {
        let (d, m) = (self.d(), self.m);
        Array3::from_shape_fn((2, m, d), |(j, r, k)| self.a[[k, j * m + r]])
    }
    /// `||W||_F`.
    pub fn norm(&self) -> f64 {
        self.as_slice().iter().map(|x| x * x).sum::<f64>().sqrt()
    }
    /// `||self - other||_F`.
    pub fn distance(&self, other: &Self) -> f64 {
        self.as_slice().iter().zip(other.as_slice()).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt()
    }
    /// True when every entry is finite.
    pub fn is_finite(&self) -> bool {
        self.as_slice().iter().all(|x| x.is_finite())
    }
    /// The sign `j` of column `c`: `+1` for the first `m` columns, `-1` after.
    #[inline]
    pub fn class_sign(c: usize, m: usize) -> f64 {
        if c < m { 1.0 } else { -1.0 }
    }
}

/// The CNN with its objective's constants.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cnn {
    pub d: usize,
    pub m: usize,
    pub activation: Activation,
    /// `c` in `F_j = c * sum ...`: 1, or `1/m`.
    pub scale: f64,
    /// Weight decay.
    pub lambda: f64,
}

/// Scratch space of one forward/backward pass (allocated once, reused every step).
///
/// `z` holds the pre-activations `<w_c, x_{i,p}>` of every patch of the data set (`n P 2m` values,
/// grown on the first [`Cnn::loss_grad`] call; `P 2m` suffice for forward-only passes), `c` the
/// backward coefficients of every patch. After the first call nothing in a pass allocates.
#[derive(Clone, Debug)]
pub struct Workspace {
    z: Vec<f64>,
    c: Vec<f64>,
    /// Per sample: `log(1 + exp(-y f))` and whether `y f <= 0`.
    sample: Vec<(f64, bool)>,
}

impl Workspace {
    /// Makes room for `len` pre-activations and coefficients and `samples` per-sample results
    /// (allocates on the first call only).
    fn grow(&mut self, len: usize, samples: usize) {
        if self.z.len() < len {
            self.z.resize(len, 0.0);
        }
        if self.c.len() < len {
            self.c.resize(len, 0.0);
        }
        if self.sample.len() < samples {
            self.sample.resize(samples, (0.0, false));
        }
    }
}

/// Work split of the parallel passes: samples per forward task, rows of `G` per backward task.
/// Every element is computed the same way whatever the split and the number of threads, so these
/// only trade scheduling overhead against balance.
const SAMPLES_PER_TASK: usize = 16;
const ROWS_PER_TASK: usize = 64;
/// Test samples per task of the error pass.
const EVAL_SAMPLES_PER_TASK: usize = 256;

/// What a pass over the training data gives besides the gradient.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossEval {
    /// `(1/n) sum_i log(1 + exp(-y_i f_i))` (no weight decay).
    pub loss: f64,
    /// Number of points with `y_i f_i <= 0`.
    pub errors: usize,
}

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

/// `(softplus(z), sigmoid(z))` sharing one `exp(-|z|)`: bit-identical to calling [`softplus`] and
/// [`sigmoid`] separately (both branch on the sign of `z` and evaluate the same exponential; at
/// `z = +-0` both use `exp(0) = 1`; a NaN gives NaN in both).
#[inline(always)]
pub(crate) fn softplus_sigmoid(z: f64) -> (f64, f64) {
    if z > 0.0 {
        let e = (-z).exp();
        (z + e.ln_1p(), 1.0 / (1.0 + e))
    } else {
        let e = z.exp();
        (e.ln_1p(), if z >= 0.0 { 1.0 / (1.0 + e) } else { e / (1.0 + e) })
    }
}

/// Runs `$body` (an expression using the activation closures `$value`, `$deriv`) with the activation
/// matched once, outside the hot loops, so the common cases compile to branch-free selects.
macro_rules! with_activation {
    ($act:expr, |$value:ident, $deriv:ident| $body:expr) => {
        match $act {
            $crate::model::Activation::PolyRelu(3) => {
                let $value = |t: f64| $crate::model::Activation::PolyRelu(3).value(t);
                let $deriv = |t: f64| $crate::model::Activation::PolyRelu(3).deriv(t);
                $body
            }
            $crate::model::Activation::Linear => {
                let $value = |t: f64| $crate::model::Activation::Linear.value(t);
                let $deriv = |t: f64| $crate::model::Activation::Linear.deriv(t);
                $body
            }
            a => {
                let $value = move |t: f64| a.value(t);
                let $deriv = move |t: f64| a.deriv(t);
                $body
            }
        }
    };
}

impl Cnn {
    /// The model a setting describes, for patches of dimension `d`.
    pub fn from_setting(s: &ModelSetting, d: usize) -> Self {
        let activation = match s.activation {
            ActivationKind::PolyRelu => Activation::PolyRelu(s.q),
            ActivationKind::Linear => Activation::Linear,
        };
        let scale = if s.mean_over_filters { 1.0 / s.m as f64 } else { 1.0 };
        Self { d, m: s.m, activation, scale, lambda: s.lambda }
    }

    /// A workspace for data with `patches` patches per sample.
    pub fn workspace(&self, patches: usize) -> Workspace {
        Workspace { z: vec![0.0; patches * 2 * self.m], c: Vec::new(), sample: Vec::new() }
    }

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
    fn forward_sample(&self, w: &[f64], data: &PatchData, i: usize, z: &mut [f64]) -> f64 {
        with_activation!(self.activation, |value, _deriv| self.forward_sample_with::<false, _>(&value, w, data, i, z))
    }

    /// `f(W, x_i)` for every sample.
    pub fn outputs(&self, w: &Weights, data: &PatchData, ws: &mut Workspace) -> Vec<f64> {
        (0..data.len()).map(|i| self.forward_sample(w.as_slice(), data, i, &mut ws.z)).collect()
    }

    /// Number of points with `y f(W, x) <= 0`, measured against the clean labels (in parallel over
    /// blocks of samples).
    pub fn errors(&self, w: &Weights, data: &PatchData, _ws: &mut Workspace) -> usize {
        let (k, w) = (Kernels::detect(), w.as_slice());
        (0..data.len().div_ceil(EVAL_SAMPLES_PER_TASK))
            .into_par_iter()
            .map(|b| {
                let samples = b * EVAL_SAMPLES_PER_TASK..((b + 1) * EVAL_SAMPLES_PER_TASK).min(data.len());
                errors_block(k, self, w, data, samples)
            })
            .sum()
    }

    /// Error rate (fraction of points with `y f <= 0`, clean labels).
    pub fn error_rate(&self, w: &Weights, data: &PatchData, ws: &mut Workspace) -> f64 {
        self.errors(w, data, ws) as f64 / data.len() as f64
    }

    /// The mean logistic loss (no weight decay) and, in `grad`, its gradient (overwritten), in the
    /// weights' layout. Training errors count the labels the model is trained on.
    ///
    /// Runs its passes in parallel on the current rayon pool and uses AVX when the CPU has it; the
    /// result is bit-identical whatever the number of threads, and to [`Cnn::loss_grad_portable`].
    pub fn loss_grad(&self, w: &[f64], data: &PatchData, grad: &mut [f64], ws: &mut Workspace) -> LossEval {
        self.loss_grad_with_kernels(Kernels::detect(), w, data, grad, ws)
    }

    /// [`Cnn::loss_grad`] with the baseline-target kernels only (no runtime SIMD dispatch), for
    /// tests and benches that compare the two code paths.
    pub fn loss_grad_portable(&self, w: &[f64], data: &PatchData, grad: &mut [f64], ws: &mut Workspace) -> LossEval {
        self.loss_grad_with_kernels(Kernels::portable(), w, data, grad, ws)
    }

    fn loss_grad_with_kernels(
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
                    *si = (sp, margin <= 0.0);
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

    /// `L(W)`: mean logistic loss plus `(lambda/2) ||W||_F^2`.
    pub fn objective(&self, w: &Weights, data: &PatchData, ws: &mut Workspace) -> f64 {
        let loss: f64 = (0..data.len())
            .map(|i| softplus(-data.y[i] * self.forward_sample(w.as_slice(), data, i, &mut ws.z)))
            .sum::<f64>()
            / data.len() as f64;
        loss + 0.5 * self.lambda * w.norm().powi(2)
    }

    /// The full gradient `grad L(W)` (weight decay included) as new weights-shaped storage.
    pub fn full_gradient(&self, w: &Weights, data: &PatchData) -> Weights {
        let mut g = Weights::zeros(self.d, self.m);
        let mut ws = self.workspace(data.patches);
        self.loss_grad(w.as_slice(), data, g.as_mut_slice(), &mut ws);
        for (gi, wi) in g.as_mut_slice().iter_mut().zip(w.as_slice()) {
            *gi += self.lambda * wi;
        }
        g
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
    ($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)? => $body:ident) => {
        $(#[$doc])*
        fn $name(k: Kernels, $($arg: $ty),*) $(-> $ret)? {
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
    fn errors_block(model: &Cnn, w: &[f64], data: &PatchData, samples: std::ops::Range<usize>) -> usize => errors_body
}

#[inline(always)]
fn errors_body<const WIDE: bool>(model: &Cnn, w: &[f64], data: &PatchData, samples: std::ops::Range<usize>) -> usize {
    let mut z = vec![0.0; data.patches * 2 * model.m];
    with_activation!(model.activation, |value, _deriv| {
        let mut errors = 0usize;
        for i in samples {
            let f = model.forward_sample_with::<WIDE, _>(&value, w, data, i, &mut z);
            errors += usize::from(data.clean_y[i] * f <= 0.0);
        }
        errors
    })
}

/// The same objective as [`Cnn::loss_grad`] computed densely with plain matrix products, for
/// benchmarks and tests: `X` is the dense `(n P) x d` matrix of all patches (row `i P + p` is patch
/// `p` of sample `i`), `Z = X W` (`(n P) x 2m`), the per-patch coefficients
/// `C[iP+p, c] = (1/n) l_i y_i j_c c_F sigma'(Z[iP+p, c])`, and `G = X^T C`. Cost `O(n P d m)` per
/// step and `8 n P d` bytes for `X`, whatever the sparsity; the sparse pass costs `O(m nnz)`.
/// Sums are taken in a different order, so it agrees with [`Cnn::loss_grad`] to rounding, not bit
/// for bit.
#[derive(Clone, Debug)]
pub struct DenseReference {
    /// The dense patches, `(n P) x d`.
    pub x: Array2<f64>,
    y: Vec<f64>,
    patches: usize,
    z: Array2<f64>,
    coef: Array2<f64>,
}

impl DenseReference {
    /// Densifies `data` for `model` (allocates `X`, `Z` and `C` once).
    pub fn new(model: &Cnn, data: &PatchData) -> Self {
        let rows = data.len() * data.patches;
        let mut x = Array2::zeros((rows, data.d));
        for r in 0..rows {
            let (idx, val) = data.x.row(r);
            for (&k, &v) in idx.iter().zip(val) {
                x[[r, k as usize]] += v;
            }
        }
        let w2 = 2 * model.m;
        Self {
            x,
            y: data.y.clone(),
            patches: data.patches,
            z: Array2::zeros((rows, w2)),
            coef: Array2::zeros((rows, w2)),
        }
    }

    /// The mean logistic loss (no weight decay) and its gradient in `grad` (overwritten, weights'
    /// layout), like [`Cnn::loss_grad`]. Allocation-free.
    pub fn loss_grad(&mut self, model: &Cnn, w: &[f64], grad: &mut [f64]) -> LossEval {
        let (m, w2, d) = (model.m, 2 * model.m, model.d);
        let wv = ndarray::ArrayView2::from_shape((d, w2), w).expect("weights of shape d x 2m");
        ndarray::linalg::general_mat_mul(1.0, &self.x, &wv, 0.0, &mut self.z);
        let n = self.y.len() as f64;
        let (mut loss, mut errors) = (0.0, 0usize);
        let act = model.activation;
        for (i, &y) in self.y.iter().enumerate() {
            let rows = i * self.patches..(i + 1) * self.patches;
            let zi = self.z.slice(ndarray::s![rows.clone(), ..]);
            let f = model.scale
                * zi.indexed_iter().map(|((_, c), &t)| Weights::class_sign(c, m) * act.value(t)).sum::<f64>();
            let margin = y * f;
            loss += softplus(-margin);
            errors += usize::from(margin <= 0.0);
            let a = -sigmoid(-margin) * y * model.scale / n;
            let mut ci = self.coef.slice_mut(ndarray::s![rows, ..]);
            ndarray::Zip::indexed(&mut ci).and(&zi).for_each(|(_, c), co, &t| {
                *co = Weights::class_sign(c, m) * a * act.deriv(t);
            });
        }
        let mut g = ndarray::ArrayViewMut2::from_shape((d, w2), grad).expect("gradient of shape d x 2m");
        ndarray::linalg::general_mat_mul(1.0, &self.x.t(), &self.coef, 0.0, &mut g);
        LossEval { loss: loss / n, errors }
    }
}

/// The feature and noise coefficients of PAPER.md, "What the proof predicts".
#[derive(Clone, Debug, PartialEq)]
pub struct Coefficients {
    /// `gamma[[j_index, r]] = <w_{j,r}, j v> = j w_{j,r}[1]`.
    pub gamma: Array2<f64>,
    /// `rho[[i, r]] = <w_{y_i,r}, xi_i>` (feature-noise part included).
    pub rho: Array2<f64>,
}

/// Summaries of the coefficients, the quantities the claims compare.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct CoefficientSummary {
    /// `max_r gamma_{j,r}` for `j = +1, -1`.
    pub feature_max_per_class: [f64; 2],
    /// `max_{j,r} gamma_{j,r}`.
    pub feature_max: f64,
    /// `min_i max_r rho_{i,r}` over all samples.
    pub noise_min_max: f64,
    /// `max_i max_r rho_{i,r}` over all samples.
    pub noise_max_max: f64,
    /// `min_i max_r rho_{i,r}` over the samples with `y_i = +1`, `-1` (NaN if a class is empty).
    pub noise_min_max_per_class: [f64; 2],
    /// `max_i max_r rho_{i,r}` over the samples with `y_i = +1`, `-1` (NaN if a class is empty).
    pub noise_max_max_per_class: [f64; 2],
}

impl Coefficients {
    /// Computes `gamma` and `rho` (cost `O(n s m)`).
    pub fn of(w: &Weights, data: &PatchData) -> Self {
        let m = w.m;
        let w2 = 2 * m;
        let flat = w.as_slice();
        let gamma = Array2::from_shape_fn((2, m), |(j, r)| if j == 0 { flat[r] } else { -flat[m + r] });
        let mut rho = Array2::zeros((data.len(), m));
        for i in 0..data.len() {
            let off = if data.y[i] > 0.0 { 0 } else { m };
            let (idx, val) = data.noise.row(i);
            let mut row = rho.row_mut(i);
            for (&k, &v) in idx.iter().zip(val) {
                let wr = &flat[k as usize * w2 + off..k as usize * w2 + off + m];
                for (acc, &wc) in row.iter_mut().zip(wr) {
                    *acc += v * wc;
                }
            }
        }
        Self { gamma, rho }
    }

    /// The summaries of [`CoefficientSummary`].
    pub fn summary(&self, data: &PatchData) -> CoefficientSummary {
        let maxr = |row: ndarray::ArrayView1<f64>| row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let fpc = [maxr(self.gamma.row(0)), maxr(self.gamma.row(1))];
        let per_sample: Vec<f64> = self.rho.rows().into_iter().map(maxr).collect();
        let (mut mn, mut mx) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for (i, &v) in per_sample.iter().enumerate() {
            let c = usize::from(data.y[i] < 0.0);
            mn[c] = mn[c].min(v);
            mx[c] = mx[c].max(v);
        }
        let nanify = |v: f64| if v.is_finite() { v } else { f64::NAN };
        CoefficientSummary {
            feature_max_per_class: fpc,
            feature_max: fpc[0].max(fpc[1]),
            noise_min_max: nanify(mn[0].min(mn[1])),
            noise_max_max: nanify(mx[0].max(mx[1])),
            noise_min_max_per_class: [nanify(mn[0]), nanify(mn[1])],
            noise_max_max_per_class: [nanify(mx[0]), nanify(mx[1])],
        }
    }
}
