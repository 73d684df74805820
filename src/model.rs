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
//! contiguous row of `2m` values in the forward pass (`z += v W[k, :]`) and in the backward pass
//! (`G[k, :] += v coef`), so a step costs `O(m * nnz + m d)` and its inner loops vectorize.
//! [`Weights::to_paper_layout`] gives the `(2, m, d)` array.

use ndarray::{Array2, Array3};
use rand_distr::{Distribution, StandardNormal};

use crate::data::{PatchData, STREAM_INIT, rng};
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
#[derive(Clone, Debug)]
pub struct Workspace {
    z: Vec<f64>,
    coef: Vec<f64>,
}

/// What a pass over the training data gives besides the gradient.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossEval {
    /// `(1/n) sum_i log(1 + exp(-y_i f_i))` (no weight decay).
    pub loss: f64,
    /// Number of points with `y_i f_i <= 0`.
    pub errors: usize,
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
        Workspace { z: vec![0.0; patches * 2 * self.m], coef: vec![0.0; 2 * self.m] }
    }

    /// Fills `z[p * 2m + c] = <w_c, x_{i,p}>` for sample `i` and returns `f(W, x_i)`.
    #[inline]
    fn forward_sample(&self, w: &[f64], data: &PatchData, i: usize, z: &mut [f64]) -> f64 {
        let w2 = 2 * self.m;
        z.fill(0.0);
        for p in 0..data.patches {
            let zp = &mut z[p * w2..(p + 1) * w2];
            let (idx, val) = data.x.row(i * data.patches + p);
            for (&k, &v) in idx.iter().zip(val) {
                let row = &w[k as usize * w2..(k as usize + 1) * w2];
                for (zc, wc) in zp.iter_mut().zip(row) {
                    *zc += v * wc;
                }
            }
        }
        let (mut fp, mut fm) = (0.0, 0.0);
        for zp in z.chunks_exact(w2) {
            let (plus, minus) = zp.split_at(self.m);
            fp += plus.iter().map(|&t| self.activation.value(t)).sum::<f64>();
            fm += minus.iter().map(|&t| self.activation.value(t)).sum::<f64>();
        }
        self.scale * (fp - fm)
    }

    /// `f(W, x_i)` for every sample.
    pub fn outputs(&self, w: &Weights, data: &PatchData, ws: &mut Workspace) -> Vec<f64> {
        (0..data.len()).map(|i| self.forward_sample(w.as_slice(), data, i, &mut ws.z)).collect()
    }

    /// Number of points with `y f(W, x) <= 0`, measured against the clean labels.
    pub fn errors(&self, w: &Weights, data: &PatchData, ws: &mut Workspace) -> usize {
        (0..data.len()).filter(|&i| data.clean_y[i] * self.forward_sample(w.as_slice(), data, i, &mut ws.z) <= 0.0).count()
    }

    /// Error rate (fraction of points with `y f <= 0`, clean labels).
    pub fn error_rate(&self, w: &Weights, data: &PatchData, ws: &mut Workspace) -> f64 {
        self.errors(w, data, ws) as f64 / data.len() as f64
    }

    /// The mean logistic loss (no weight decay) and, in `grad`, its gradient (overwritten), in the
    /// weights' layout. Training errors count the labels the model is trained on.
    pub fn loss_grad(&self, w: &[f64], data: &PatchData, grad: &mut [f64], ws: &mut Workspace) -> LossEval {
        let w2 = 2 * self.m;
        debug_assert_eq!(w.len(), self.d * w2);
        debug_assert_eq!(grad.len(), w.len());
        grad.fill(0.0);
        let n = data.len() as f64;
        let (mut loss, mut errors) = (0.0, 0usize);
        let Workspace { z, coef } = ws;
        for i in 0..data.len() {
            let y = data.y[i];
            let f = self.forward_sample(w, data, i, z);
            let margin = y * f;
            loss += softplus(-margin);
            errors += usize::from(margin <= 0.0);
            // d/df log(1 + exp(-y f)) = y * l_i with l_i = -sigmoid(-y f).
            let a = -sigmoid(-margin) * y * self.scale / n;
            for p in 0..data.patches {
                let zp = &z[p * w2..(p + 1) * w2];
                let mut active = false;
                for (c, (co, &zc)) in coef.iter_mut().zip(zp).enumerate() {
                    let dv = self.activation.deriv(zc);
                    active |= dv != 0.0;
                    *co = if c < self.m { a * dv } else { -a * dv };
                }
                if !active {
                    continue;
                }
                let (idx, val) = data.x.row(i * data.patches + p);
                for (&k, &v) in idx.iter().zip(val) {
                    let row = &mut grad[k as usize * w2..(k as usize + 1) * w2];
                    for (g, &co) in row.iter_mut().zip(coef.iter()) {
                        *g += v * co;
                    }
                }
            }
        }
        LossEval { loss: loss / n, errors }
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
