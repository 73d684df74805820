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
//! | `mod.rs` | the public passes of [`Cnn`] |
//! | `cnn.rs` | [`Cnn`], [`Workspace`], [`LossEval`], [`regularized`], [`misclassified`] |
//! | `activation.rs` | [`Activation`], [`softplus`], [`sigmoid`] |
//! | `weights.rs` | [`Weights`] and the [`Layout`] it is stored in |
//! | `kernels.rs` | the fused, AVX-dispatched loss/gradient and error passes |
//! | `dense.rs` | [`DenseReference`], the same objective by dense matrix products |
//! | `coefficients.rs` | the feature and noise coefficients `gamma`, `rho` |

#[macro_use]
mod activation;
mod cnn;
mod coefficients;
mod dense;
mod kernels;
mod weights;

use rayon::prelude::*;

pub(crate) use activation::softplus_sigmoid;
pub use activation::{Activation, sigmoid, softplus};
pub use cnn::{Cnn, LossEval, Workspace, misclassified, regularized};
pub use coefficients::{CoefficientSummary, Coefficients};
pub use dense::DenseReference;
use kernels::{EVAL_SAMPLES_PER_TASK, Kernels, errors_block};
pub use weights::{FEATURE_ROW, Layout, Weights, lane_sum};

use crate::data::PatchData;

impl Cnn {
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
