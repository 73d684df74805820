//! An orthonormal basis `Q` (`d x k`) of the span of the training patches, the reduced patches
//! `u_{i,p} = Q^T x_{i,p}`, and the split of the weights into reduced coordinates `a = Q^T W` and
//! the complement `W^perp = W - Q a` (`docs/limit-points.md`).

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, Axis};

use crate::data::PatchData;
use crate::model::Weights;

/// Relative size below which a patch's residual, after two Gram-Schmidt passes, counts as zero
/// (the patch is already in the span of the earlier ones).
pub const RANK_TOLERANCE: f64 = 1e-10;

/// The span of a data set's patches: `Q` with orthonormal columns and the patches in its
/// coordinates.
#[derive(Clone, Debug)]
pub struct PatchBasis {
    /// `d x k`, orthonormal columns.
    q: Array2<f64>,
    /// `(n P') x k`: row `i P' + p` is `u_{i,p} = Q^T x_{i,p}`.
    u: Array2<f64>,
}

impl PatchBasis {
    /// Modified Gram-Schmidt, twice, over the patches in their storage order; a patch whose
    /// residual is below [`RANK_TOLERANCE`] times its norm adds no column.
    pub fn new(data: &PatchData) -> Self {
        let d = data.d;
        let rows = data.x.rows();
        let mut cols: Vec<Array1<f64>> = Vec::new();
        for r in 0..rows {
            let mut v = Array1::from(data.x.dense_row(r, d));
            let norm0 = v.dot(&v).sqrt();
            if norm0 == 0.0 {
                continue;
            }
            for _pass in 0..2 {
                for q in &cols {
                    let t = q.dot(&v);
                    v.scaled_add(-t, q);
                }
            }
            let norm = v.dot(&v).sqrt();
            if norm > RANK_TOLERANCE * norm0 {
                v /= norm;
                cols.push(v);
            }
        }
        let k = cols.len();
        let mut q = Array2::zeros((d, k));
        for (t, col) in cols.iter().enumerate() {
            q.column_mut(t).assign(col);
        }
        let mut u = Array2::zeros((rows, k));
        for r in 0..rows {
            let (idx, val) = data.x.row(r);
            let mut ur = u.row_mut(r);
            for (&kk, &v) in idx.iter().zip(val) {
                ur.scaled_add(v, &q.row(kk as usize));
            }
        }
        Self { q, u }
    }

    /// The patches' dimension `d`.
    pub fn d(&self) -> usize {
        self.q.nrows()
    }

    /// The dimension `k` of the span.
    pub fn k(&self) -> usize {
        self.q.ncols()
    }

    /// `Q`, `d x k`.
    pub fn q(&self) -> ArrayView2<'_, f64> {
        self.q.view()
    }

    /// The reduced patches, row `i P' + p` = `u_{i,p}`.
    pub fn reduced_patches(&self) -> ArrayView2<'_, f64> {
        self.u.view()
    }

    /// The reduced coordinates `a = Q^T W` (`k x 2m`, column `c` = `a_c`).
    pub fn reduce(&self, w: &Weights) -> Array2<f64> {
        self.q.t().dot(&weights_view(w))
    }

    /// `Q a` as weights (the complement component zero).
    pub fn lift(&self, a: &Array2<f64>) -> Weights {
        let mut w = Weights::zeros(self.d(), a.ncols() / 2);
        let mut view = weights_view_mut(&mut w);
        ndarray::linalg::general_mat_mul(1.0, &self.q, a, 0.0, &mut view);
        w
    }

    /// `||W^perp||_F = ||W - Q Q^T W||_F`.
    pub fn complement_norm(&self, w: &Weights) -> f64 {
        let a = self.reduce(w);
        let mut r = weights_view(w).to_owned();
        ndarray::linalg::general_mat_mul(-1.0, &self.q, &a, 1.0, &mut r);
        r.iter().map(|x| x * x).sum::<f64>().sqrt()
    }

    /// Largest `|Q^T Q - I|` entry (a test of orthonormality).
    pub fn orthonormality_defect(&self) -> f64 {
        let g = self.q.t().dot(&self.q);
        g.indexed_iter().map(|((i, j), &v)| (v - f64::from(u8::from(i == j))).abs()).fold(0.0, f64::max)
    }

    /// Largest `||x_{i,p} - Q u_{i,p}||_2 / ||x_{i,p}||_2` over the patches of `data` (zero when
    /// `data`'s patches lie in the span).
    pub fn span_residual(&self, data: &PatchData) -> f64 {
        let mut worst = 0.0f64;
        for r in 0..data.x.rows() {
            let x = Array1::from(data.x.dense_row(r, data.d));
            let norm = x.dot(&x).sqrt();
            if norm == 0.0 {
                continue;
            }
            let coords = self.q.t().dot(&x);
            let res = &x - &self.q.dot(&coords);
            worst = worst.max(res.dot(&res).sqrt() / norm);
        }
        worst
    }
}

/// The weights as their `d x 2m` matrix.
pub fn weights_view(w: &Weights) -> ArrayView2<'_, f64> {
    ArrayView2::from_shape((w.d(), 2 * w.m()), w.as_slice()).expect("weights of shape d x 2m")
}

fn weights_view_mut(w: &mut Weights) -> ArrayViewMut2<'_, f64> {
    let (d, m2) = (w.d(), 2 * w.m());
    ArrayViewMut2::from_shape((d, m2), w.as_mut_slice()).expect("weights of shape d x 2m")
}

/// The reduced coordinates as one vector, filter-major (`index = c k + t`).
pub fn flatten(a: &Array2<f64>) -> Vec<f64> {
    a.t().iter().copied().collect()
}

/// The inverse of [`flatten`]: `k x 2m` from a filter-major vector.
pub fn unflatten(v: &[f64], k: usize) -> Array2<f64> {
    let filters = v.len() / k;
    let mut a = Array2::zeros((k, filters));
    for (c, mut col) in a.axis_iter_mut(Axis(1)).enumerate() {
        col.assign(&ndarray::ArrayView1::from(&v[c * k..(c + 1) * k]));
    }
    a
}
