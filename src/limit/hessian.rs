//! The reduced gradient and the dense reduced Hessian of `L` (`docs/limit-points.md`):
//!
//! ```text
//! g_{i,c} = c_F j_c sum_p sigma'(z_{i,p,c}) u_{i,p},        z_{i,p,c} = <a_c, u_{i,p}>
//! grad_{a_c} L = (1/n) sum_i ell'(mu_i) y_i g_{i,c} + lambda a_c
//! H = lambda I + (1/n) sum_i ell''(mu_i) g_i g_i^T + blockdiag_c(B_c)
//! B_c = (1/n) sum_i ell'(mu_i) y_i c_F j_c sum_p sigma''(z_{i,p,c}) u_{i,p} u_{i,p}^T
//! ```
//!
//! Reduced vectors are filter-major: index `c k + t` is coordinate `t` of filter `c`.

use ndarray::{Array2, ArrayView2, s};
use rayon::prelude::*;

use super::basis::{PatchBasis, flatten};
use crate::data::PatchData;
use crate::model::{Cnn, Layout, sigmoid, softplus};

/// The objective restricted to the span of the training patches: the model, the labels the model
/// is trained on, and the reduced patches.
#[derive(Clone, Debug)]
pub struct ReducedProblem<'a> {
    pub model: Cnn,
    pub basis: &'a PatchBasis,
    y: &'a [f64],
    patches: usize,
}

/// What one pass at a reduced point gives.
#[derive(Clone, Debug)]
pub struct ReducedEval {
    /// The mean logistic loss (no weight decay).
    pub loss: f64,
    /// The margins `y_i f_i`.
    pub margins: Vec<f64>,
    /// `grad_a L` (weight decay included), filter-major.
    pub grad: Vec<f64>,
    /// `G`, `n x 2mk`: row `i` is `g_i = d f_i / d a`.
    pub jacobian: Array2<f64>,
    /// The pre-activations `Z = U a`, `(n P') x 2m`.
    pub pre: Array2<f64>,
}

impl<'a> ReducedProblem<'a> {
    /// The problem of `model` on the training set `data` whose span `basis` is.
    pub fn new(model: Cnn, basis: &'a PatchBasis, data: &'a PatchData) -> Self {
        assert_eq!(basis.reduced_patches().nrows(), data.x.rows(), "basis of another data set");
        Self { model, basis, y: &data.y, patches: data.patches }
    }

    /// The number of reduced coordinates `2 m k`.
    pub fn dim(&self) -> usize {
        2 * self.model.m * self.basis.k()
    }

    /// The loss, margins, reduced gradient and Jacobian of the outputs at `a` (`k x 2m`).
    pub fn eval(&self, a: &Array2<f64>) -> ReducedEval {
        let (k, m2) = (self.basis.k(), 2 * self.model.m);
        let layout = Layout::new(self.model.m);
        let u = self.basis.reduced_patches();
        let pre = u.dot(a);
        let n = self.y.len();
        let act = self.model.activation;
        let mut jacobian = Array2::zeros((n, m2 * k));
        let mut margins = vec![0.0; n];
        let mut loss = 0.0;
        for (i, (mut gi, margin_i)) in jacobian.rows_mut().into_iter().zip(margins.iter_mut()).enumerate() {
            let mut f = 0.0;
            for p in 0..self.patches {
                let r = i * self.patches + p;
                for c in 0..m2 {
                    let z = pre[[r, c]];
                    f += layout.class_sign(c) * act.value(z);
                    let dz = self.model.scale * layout.class_sign(c) * act.deriv(z);
                    if dz != 0.0 {
                        gi.slice_mut(s![c * k..(c + 1) * k]).scaled_add(dz, &u.row(r));
                    }
                }
            }
            let margin = self.y[i] * self.model.scale * f;
            *margin_i = margin;
            loss += softplus(-margin);
        }
        let mut grad = flatten(a);
        for g in &mut grad {
            *g *= self.model.lambda;
        }
        for ((&margin, &y), row) in margins.iter().zip(self.y).zip(jacobian.rows()) {
            let coef = -sigmoid(-margin) * y / n as f64;
            for (g, &j) in grad.iter_mut().zip(row) {
                *g += coef * j;
            }
        }
        ReducedEval { loss: loss / n as f64, margins, grad, jacobian, pre }
    }

    /// The dense reduced Hessian `H` (`2mk x 2mk`, symmetric) at the point of `eval`.
    pub fn hessian(&self, eval: &ReducedEval) -> Array2<f64> {
        let (k, m2) = (self.basis.k(), 2 * self.model.m);
        let n = self.y.len();
        let dim = m2 * k;
        let layout = Layout::new(self.model.m);
        // (1/n) G^T diag(ell'') G with ell''(mu) = sigmoid(mu) sigmoid(-mu) > 0, as S^T S.
        let mut scaled = eval.jacobian.clone();
        for (i, mut row) in scaled.rows_mut().into_iter().enumerate() {
            let mu = eval.margins[i];
            row *= (sigmoid(mu) * sigmoid(-mu) / n as f64).sqrt();
        }
        let mut h = Array2::zeros((dim, dim));
        ndarray::linalg::general_mat_mul(1.0, &scaled.t(), &scaled, 0.0, &mut h);
        for t in 0..dim {
            h[[t, t]] += self.model.lambda;
        }
        // The activation's curvature, block by block.
        let u = self.basis.reduced_patches();
        let act = self.model.activation;
        let blocks: Vec<Array2<f64>> = (0..m2)
            .into_par_iter()
            .map(|c| {
                let mut weighted = Array2::zeros(u.raw_dim());
                let mut any = false;
                for i in 0..n {
                    let sample =
                        -sigmoid(-eval.margins[i]) * self.y[i] * self.model.scale * layout.class_sign(c) / n as f64;
                    for p in 0..self.patches {
                        let r = i * self.patches + p;
                        let w = sample * act.second(eval.pre[[r, c]]);
                        if w != 0.0 {
                            weighted.row_mut(r).scaled_add(w, &u.row(r));
                            any = true;
                        }
                    }
                }
                if any { u.t().dot(&weighted) } else { Array2::zeros((k, k)) }
            })
            .collect();
        for (c, b) in blocks.iter().enumerate() {
            let mut hb = h.slice_mut(s![c * k..(c + 1) * k, c * k..(c + 1) * k]);
            hb += b;
        }
        h
    }
}

/// `v^T H v`.
pub fn quadratic_form(h: ArrayView2<'_, f64>, v: &[f64]) -> f64 {
    let v = ndarray::ArrayView1::from(v);
    v.dot(&h.dot(&v))
}
