//! The dense reference pass: the objective of [`Cnn::loss_grad`] by plain matrix products.

use ndarray::Array2;

use super::{Cnn, Layout, LossEval, misclassified, sigmoid, softplus};
use crate::data::PatchData;

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
        let layout = Layout::new(model.m);
        let (w2, d) = (layout.width(), model.d);
        let wv = ndarray::ArrayView2::from_shape((d, w2), w).expect("weights of shape d x 2m");
        ndarray::linalg::general_mat_mul(1.0, &self.x, &wv, 0.0, &mut self.z);
        let n = self.y.len() as f64;
        let (mut loss, mut errors) = (0.0, 0usize);
        let act = model.activation;
        for (i, &y) in self.y.iter().enumerate() {
            let rows = i * self.patches..(i + 1) * self.patches;
            let zi = self.z.slice(ndarray::s![rows.clone(), ..]);
            let f =
                model.scale * zi.indexed_iter().map(|((_, c), &t)| layout.class_sign(c) * act.value(t)).sum::<f64>();
            let margin = y * f;
            loss += softplus(-margin);
            errors += usize::from(misclassified(margin));
            let a = -sigmoid(-margin) * y * model.scale / n;
            let mut ci = self.coef.slice_mut(ndarray::s![rows, ..]);
            ndarray::Zip::indexed(&mut ci).and(&zi).for_each(|(_, c), co, &t| {
                *co = layout.class_sign(c) * a * act.deriv(t);
            });
        }
        let mut g = ndarray::ArrayViewMut2::from_shape((d, w2), grad).expect("gradient of shape d x 2m");
        ndarray::linalg::general_mat_mul(1.0, &self.x.t(), &self.coef, 0.0, &mut g);
        LossEval { loss: loss / n, errors }
    }
}
