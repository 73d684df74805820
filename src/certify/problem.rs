//! The convex problems, specified exactly by binary64 data and small integers.
//!
//! **Logistic regression** ([`LogisticProblem`]), in a parameter `u` in `R^d`:
//!
//! ```text
//! L(u) = (1/n) sum_i log(1 + exp(-y_i c <u, x_i>)) + (lambda_u / 2) ||u||^2,
//! c = 1 / scale_den,   lambda_u = lambda / lambda_den,
//! ```
//!
//! with the rows `x_i` and `lambda` binary64 values (taken at their exact values), `y_i = +-1` and
//! `scale_den`, `lambda_den` positive integers. The integers keep `c` and `lambda_u` exact when
//! they are not binary64 numbers (`1/m`, `lambda/(2m)`).
//!
//! **The CNN with the linear activation** ([`ConvexProblem`] with `filters = Some(m)`): with
//! `sigma(z) = z`, `f(W, x) = c sum_r sum_p (<w_{+1,r}, x_p> - <w_{-1,r}, x_p>) = c <u(W), xbar>`,
//! `u(W) = sum_r (w_{+1,r} - w_{-1,r})`, `xbar = sum_p x_p`. So
//!
//! ```text
//! L(W) = (1/n) sum_i log(1 + exp(-y_i c <u(W), xbar_i>)) + (lambda/2) ||W||_F^2,
//! grad_{w_{j,r}} L = j g(u(W)) + lambda w_{j,r},   g(u) = (c/n) sum_i l'(y_i c <u, xbar_i>) y_i xbar_i.
//! ```
//!
//! At a stationary point `w_{j,r} = -j g / lambda` for every `r`: `w_{+1,r} = a`, `w_{-1,r} = -a`,
//! so `u = 2m a` and `W* = (u*/(2m), -u*/(2m))` (each of the `m` filters). On such lifted points
//! `||W||_F^2 = ||u||^2 / (2m)`, so `L(lift(u))` is the logistic regression above with rows `xbar_i`,
//! `c`, and `lambda_u = lambda / (2m)` (`lambda_den = 2m`): its unique minimizer `u*` gives `W*`.
//!
//! **What is exactly specified.** The rows are the binary64 patch sums `xbar_i` as computed in
//! binary64 by [`PatchData::patch_sum_dense`] (coordinate 1 holds `fl(y - alpha y)`, which may
//! differ from the real `y (1 - alpha)` by a rounding). The certificate is about this problem: the
//! one exported by [`super::export`], which the optimizers' gradients also use.

use serde::{Deserialize, Serialize};

use crate::data::{PatchData, SparseRows};
use crate::error::{Error, Result};
use crate::model::{Layout, regularized, softplus_sigmoid};

/// Which convex problem `adamgap convex` certifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemKind {
    /// The paper's data with the CNN's linear activation, optimized in `W` (`d x 2m` weights).
    #[default]
    PaperLinear,
    /// Plain L2-regularized logistic regression on the flattened data `xbar` (`c = 1`, decay
    /// `lambda` on `u` directly), optimized in `u`.
    Logistic,
}

impl ProblemKind {
    /// The kebab-case name (`paper-linear`, `logistic`).
    pub fn name(self) -> &'static str {
        match self {
            Self::PaperLinear => "paper-linear",
            Self::Logistic => "logistic",
        }
    }
}

/// L2-regularized logistic regression, exactly specified (see the module doc).
#[derive(Clone, Debug, PartialEq)]
pub struct LogisticProblem {
    /// Dimension of `u`.
    pub d: usize,
    /// The rows `x_i` (sparse, binary64).
    pub x: SparseRows,
    /// Labels `+-1`.
    pub y: Vec<f64>,
    /// `c = 1 / scale_den`.
    pub scale_den: u64,
    /// `lambda_u = lambda / lambda_den`.
    pub lambda: f64,
    /// See `lambda`.
    pub lambda_den: u64,
}

/// Sparse rows from dense ones (exact zeros dropped).
pub fn sparse_from_dense<'a>(rows: impl IntoIterator<Item = &'a [f64]>) -> SparseRows {
    let mut s = SparseRows { ptr: vec![0], idx: Vec::new(), val: Vec::new() };
    for r in rows {
        s.push_row(r.iter().enumerate().filter(|(_, v)| **v != 0.0).map(|(k, &v)| (k as u32, v)).collect());
    }
    s
}

/// The binary64 patch sums `xbar_i` of every sample, as sparse rows: bit for bit the nonzero
/// entries of [`PatchData::patch_sum_dense`] (per coordinate, `0.0 + x_{i,1} + x_{i,2} + ...` in
/// patch order), computed from the sparse patches.
pub fn patch_sums(data: &PatchData) -> SparseRows {
    let mut s = SparseRows { ptr: vec![0], idx: Vec::new(), val: Vec::new() };
    let mut entries: Vec<(u32, usize, f64)> = Vec::new();
    for i in 0..data.len() {
        entries.clear();
        for p in 0..data.patches {
            let (idx, val) = data.x.row(i * data.patches + p);
            entries.extend(idx.iter().zip(val).map(|(&k, &v)| (k, p, v)));
        }
        entries.sort_by_key(|e| (e.0, e.1)); // stable order: patch order within a coordinate
        let mut row: Vec<(u32, f64)> = Vec::with_capacity(entries.len());
        for &(k, _, v) in &entries {
            match row.last_mut() {
                Some(last) if last.0 == k => last.1 += v,
                _ => row.push((k, 0.0 + v)),
            }
        }
        row.retain(|e| e.1 != 0.0);
        s.push_row(row);
    }
    s
}

impl LogisticProblem {
    /// A validated problem: `y = +-1`, finite rows with indices below `d`, `lambda > 0` finite,
    /// positive denominators.
    pub fn new(d: usize, x: SparseRows, y: Vec<f64>, scale_den: u64, lambda: f64, lambda_den: u64) -> Result<Self> {
        if x.rows() != y.len() {
            return Err(Error::Shape {
                what: "logistic problem rows and labels".into(),
                expected: format!("{} labels", x.rows()),
                found: y.len().to_string(),
            });
        }
        if y.is_empty() {
            return Err(Error::invalid("n", 0, ">= 1 sample"));
        }
        if let Some(v) = y.iter().find(|v| **v != 1.0 && **v != -1.0) {
            return Err(Error::invalid("y", v, "+1 or -1"));
        }
        if let Some(v) = x.val.iter().find(|v| !v.is_finite()) {
            return Err(Error::invalid("x", v, "finite values"));
        }
        if let Some(k) = x.idx.iter().find(|k| **k as usize >= d) {
            return Err(Error::invalid("x", format!("index {k}"), format!("indices < d = {d}")));
        }
        if !(lambda.is_finite() && lambda > 0.0) {
            return Err(Error::invalid("lambda", lambda, "a finite number > 0"));
        }
        if scale_den == 0 || lambda_den == 0 {
            return Err(Error::invalid("scale_den/lambda_den", 0, "positive integers"));
        }
        Ok(Self { d, x, y, scale_den, lambda, lambda_den })
    }

    /// Number of samples `n`.
    pub fn n(&self) -> usize {
        self.y.len()
    }

    /// `c` as binary64 (rounded when `scale_den` is not a power of two).
    pub fn scale_f64(&self) -> f64 {
        1.0 / self.scale_den as f64
    }

    /// `lambda_u` as binary64 (rounded when `lambda_den` is not a power of two).
    pub fn lambda_u_f64(&self) -> f64 {
        self.lambda / self.lambda_den as f64
    }

    /// `<u, x_i>` in binary64.
    #[inline]
    pub fn dot(&self, i: usize, u: &[f64]) -> f64 {
        let (idx, val) = self.x.row(i);
        idx.iter().zip(val).map(|(&k, &v)| v * u[k as usize]).sum()
    }

    /// The mean logistic loss (no decay) at `u` in binary64, and its gradient (overwritten in `g`).
    pub fn loss_grad_f64(&self, u: &[f64], g: &mut [f64]) -> f64 {
        let c = self.scale_f64();
        let n = self.n() as f64;
        g.fill(0.0);
        let mut loss = 0.0;
        for i in 0..self.n() {
            let z = self.y[i] * c * self.dot(i, u);
            let (sp, sg) = softplus_sigmoid(-z);
            loss += sp;
            let coef = -sg * self.y[i] * c / n;
            let (idx, val) = self.x.row(i);
            for (&k, &v) in idx.iter().zip(val) {
                g[k as usize] += coef * v;
            }
        }
        loss / n
    }

    /// `L(u)` in binary64 (decay included).
    pub fn objective_f64(&self, u: &[f64]) -> f64 {
        let c = self.scale_f64();
        let loss: f64 = (0..self.n()).map(|i| crate::model::softplus(-self.y[i] * c * self.dot(i, u))).sum::<f64>()
            / self.n() as f64;
        loss + 0.5 * self.lambda_u_f64() * u.iter().map(|v| v * v).sum::<f64>()
    }

    /// `||x_i||_2^2` summed over rows in binary64 (`||X||_F^2`, for step-size heuristics only).
    pub fn frobenius_sq_f64(&self) -> f64 {
        self.x.val.iter().map(|v| v * v).sum()
    }
}

/// A convex problem with its optimization space and test set.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvexProblem {
    /// Which problem.
    pub kind: ProblemKind,
    /// The logistic regression in `u` whose minimizer determines the minimizer of the problem.
    pub reduced: LogisticProblem,
    /// `Some(m)`: the optimizers work on the CNN's weights `W` (`d x 2m`, layout of
    /// [`crate::model::Weights`]) with decay `lambda = reduced.lambda`; `None`: directly on `u`.
    pub filters: Option<usize>,
    /// Test inputs (`xbar` for the paper's data), sparse binary64 rows.
    pub test_x: SparseRows,
    /// Test labels (clean).
    pub test_y: Vec<f64>,
}

impl ConvexProblem {
    /// Number of optimized parameters (`2 m d` or `d`).
    pub fn dim(&self) -> usize {
        self.filters.map_or(self.reduced.d, |m| 2 * m * self.reduced.d)
    }

    /// The decay of the optimized objective (`lambda` in `W` space, `lambda_u` in `u` space) as
    /// binary64; exact for `filters = Some(_)` and for the plain logistic problem.
    pub fn lambda_space(&self) -> f64 {
        match self.filters {
            Some(_) => self.reduced.lambda,
            None => self.reduced.lambda_u_f64(),
        }
    }

    /// `u(W)` in binary64 (or `u` itself).
    pub fn u_of(&self, params: &[f64]) -> Vec<f64> {
        match self.filters {
            None => params.to_vec(),
            Some(m) => Layout::new(m).reduce(params),
        }
    }

    /// Gradient of the *unregularized* loss with respect to the optimized parameters (binary64,
    /// overwritten in `g`; `scratch` holds `d` values); returns the loss.
    pub fn loss_grad_f64(&self, params: &[f64], g: &mut [f64], scratch: &mut Vec<f64>) -> f64 {
        self.loss_grad_norm_f64(params, g, scratch).0
    }

    /// [`ConvexProblem::loss_grad_f64`], and `||g + lambda_space params||_2^2`, the squared norm of
    /// the full gradient (in one pass over the weights in `W` space).
    pub fn loss_grad_norm_f64(&self, params: &[f64], g: &mut [f64], scratch: &mut Vec<f64>) -> (f64, f64) {
        let lambda = self.lambda_space();
        match self.filters {
            None => {
                let loss = self.reduced.loss_grad_f64(params, g);
                (loss, full_grad_norm_sq(g, params, lambda))
            }
            Some(m) => {
                let u = self.u_of(params); // d values: small next to the 2md of W
                scratch.resize(self.reduced.d, 0.0);
                let loss = self.reduced.loss_grad_f64(&u, scratch);
                let mut acc = [0.0f64; 4];
                let layout = Layout::new(m);
                for ((row, wrow), &gk) in layout.rows_mut(g).zip(layout.rows(params)).zip(scratch.iter()) {
                    layout.fill_signed(row, gk);
                    let ((gp, gm), (wp, wm)) = (layout.split(row), layout.split(wrow));
                    acc[0] += full_grad_norm_sq(gp, wp, lambda);
                    acc[1] += full_grad_norm_sq(gm, wm, lambda);
                }
                (loss, (acc[0] + acc[1]) + (acc[2] + acc[3]))
            }
        }
    }

    /// `f(params, x)` on test point `t` in binary64 (`c <u, xbar_t>`).
    pub fn test_output_f64(&self, u: &[f64], t: usize) -> f64 {
        let (idx, val) = self.test_x.row(t);
        self.reduced.scale_f64() * idx.iter().zip(val).map(|(&k, &v)| v * u[k as usize]).sum::<f64>()
    }
}

/// `||g + lambda w||_2^2` with eight independent accumulators (fixed order).
#[inline]
pub fn full_grad_norm_sq(g: &[f64], w: &[f64], lambda: f64) -> f64 {
    let mut acc = [0.0f64; 8];
    let (gc, wc) = (g.chunks_exact(8), w.chunks_exact(8));
    let (gr, wr) = (gc.remainder(), wc.remainder());
    for (a, b) in gc.zip(wc) {
        for l in 0..8 {
            let t = regularized(a[l], lambda, b[l]);
            acc[l] += t * t;
        }
    }
    let tail: f64 = gr.iter().zip(wr).map(|(&a, &b)| regularized(a, lambda, b) * regularized(a, lambda, b)).sum();
    acc.iter().sum::<f64>() + tail
}
