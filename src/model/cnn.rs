//! The CNN's types: [`Cnn`] (the model's constants), its pass [`Workspace`], what a pass gives
//! ([`LossEval`]) and the two per-coordinate and per-sample rules every pass shares
//! ([`regularized`], [`misclassified`]). A leaf of `src/model/`: the passes in `mod.rs` and
//! `kernels.rs` build on it.

use crate::setting::{ActivationKind, ModelSetting};

use super::activation::Activation;

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
    pub(super) z: Vec<f64>,
    pub(super) c: Vec<f64>,
    /// Per sample: `log(1 + exp(-y f))` and whether `y f <= 0`.
    pub(super) sample: Vec<(f64, bool)>,
}

impl Workspace {
    /// Makes room for `len` pre-activations and coefficients and `samples` per-sample results
    /// (allocates on the first call only).
    pub(super) fn grow(&mut self, len: usize, samples: usize) {
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
}
