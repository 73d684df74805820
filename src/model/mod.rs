//! The two-layer CNN, its objective, exact gradient, errors and the coefficients the proof reasons
//! about (definitions in `docs/model.md`).
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
//! **Layout.** The weights `W` (shape `(2, m, d)`: class, filter, coordinate) are stored as a
//! `d x 2m` row-major matrix; [`Layout`] names it (row `k` holds coordinate `k` of all `2m`
//! filters, the class `+1` block of columns first). A sparse patch entry `(k, v)` then touches one
//! contiguous row of `2m` values in the forward pass (`z_q += v W[k, :]`, patch by patch through
//! the patches' rows `data.x`) and in the backward pass (`G[k, :] += v C[q, :]`, row by row of `G`
//! through the transposed patches `data.xt`), so a step costs `O(m * nnz + m d)`, every pass
//! writes its output once, and the inner loops vectorize.
//! [`Weights::to_paper_layout`] gives the `(2, m, d)` array.
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | [`Cnn`] and its public passes |
//! | `activation.rs` | [`Activation`], [`softplus`], [`sigmoid`] |
//! | `weights.rs` | [`Weights`] and the [`Layout`] it is stored in |
//! | `kernels.rs` | the fused, AVX-dispatched loss/gradient and error passes |
//! | `dense.rs` | [`DenseReference`], the same objective by dense matrix products |
//! | `coefficients.rs` | the feature and noise coefficients `gamma`, `rho` |

#[macro_use]
mod activation;
mod coefficients;
mod dense;
mod kernels;
mod weights;

use rayon::prelude::*;

pub(crate) use activation::softplus_sigmoid;
pub use activation::{Activation, sigmoid, softplus};
pub use coefficients::{CoefficientSummary, Coefficients};
pub use dense::DenseReference;
use kernels::{EVAL_SAMPLES_PER_TASK, Kernels, errors_block};
pub use weights::{FEATURE_ROW, Layout, Weights, lane_sum};

use crate::data::PatchData;
use crate::setting::{ActivationKind, ModelSetting};

/// The regularized gradient `g_loss + lambda w` of one coordinate: the loss gradient plus the weight
/// decay's. Every place that forms the objective's full gradient uses this, so it is the same
/// floating-point expression everywhere.
#[inline(always)]
pub fn regularized(g_loss: f64, lambda: f64, w: f64) -> f64 {
    g_loss + lambda * w
}

/// Whether a point with margin `y f` counts as an error: `y f <= 0`, or a margin that is not
/// finite (a non-finite output never counts as a correct prediction).
#[inline(always)]
pub fn misclassified(margin: f64) -> bool {
    !(margin.is_finite() && margin > 0.0)
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
        Workspace { z: vec![0.0; patches * 2 * self.m], c: Vec::new(), sample: Vec::new() }
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
        for (gi, &wi) in g.as_mut_slice().iter_mut().zip(w.as_slice()) {
            *gi = regularized(*gi, self.lambda, wi);
        }
        g
    }
}
