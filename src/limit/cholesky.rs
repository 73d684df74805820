//! A blocked Cholesky factorization `A = L L^T` of a dense symmetric matrix, and the solves with
//! it. Right-looking: per block column of width [`BLOCK`], the diagonal block is factored
//! unblocked, the panel below it solved row by row, and the trailing lower triangle updated by
//! matrix products (matrixmultiply, through ndarray), split over row blocks on the pool. Each row
//! block's arithmetic is the same whatever the number of threads, so the factor is too.

use ndarray::{Array2, ArrayView2, ArrayViewMut2, s};
use rayon::prelude::*;

/// The block width.
pub const BLOCK: usize = 128;

/// The factor `L` (lower triangular, the upper triangle zero).
#[derive(Clone, Debug)]
pub struct Cholesky {
    l: Array2<f64>,
}

/// The factorization met a pivot that is not positive (or not finite): the matrix is not
/// (numerically) positive definite.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NotPositiveDefinite {
    /// The row of the failing pivot.
    pub index: usize,
    /// Its value (the Schur complement's diagonal entry).
    pub pivot: f64,
}

impl std::fmt::Display for NotPositiveDefinite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not positive definite: pivot {} is {:e}", self.index, self.pivot)
    }
}

impl Cholesky {
    /// Factors `a` (symmetric; only its lower triangle is read), consuming it.
    pub fn factor(a: Array2<f64>) -> Result<Self, NotPositiveDefinite> {
        let n = a.nrows();
        assert_eq!(n, a.ncols(), "a square matrix");
        let mut data = a.into_raw_vec_and_offset().0;
        // `into_raw_vec` of a standard-layout array is row-major.
        for j0 in (0..n).step_by(BLOCK) {
            let j1 = (j0 + BLOCK).min(n);
            factor_diagonal(&mut data, n, j0, j1)?;
            // The panel rows j1..n: X L11^T = A21, row by row.
            let (head, tail) = data.split_at_mut(j1 * n);
            let diag = &head[..];
            tail.par_chunks_mut(n).for_each(|row| {
                for t in j0..j1 {
                    let mut x = row[t];
                    for s in j0..t {
                        x -= row[s] * diag[t * n + s];
                    }
                    row[t] = x / diag[t * n + t];
                }
            });
            if j1 == n {
                break;
            }
            // The trailing lower triangle: A22 -= L21 L21^T, row block by row block.
            let panel: Array2<f64> =
                ArrayView2::from_shape((n - j1, n), &data[j1 * n..]).expect("rows").slice(s![.., j0..j1]).to_owned();
            data[j1 * n..].par_chunks_mut(BLOCK * n).enumerate().for_each(|(b, rows)| {
                let r0 = b * BLOCK;
                let height = rows.len() / n;
                let mut block = ArrayViewMut2::from_shape((height, n), rows).expect("rows");
                let mut target = block.slice_mut(s![.., j1..j1 + r0 + height]);
                let left = panel.slice(s![r0..r0 + height, ..]);
                let right = panel.slice(s![..r0 + height, ..]);
                ndarray::linalg::general_mat_mul(-1.0, &left, &right.t(), 1.0, &mut target);
            });
        }
        let mut l = Array2::from_shape_vec((n, n), data).expect("n x n");
        for i in 0..n {
            l.slice_mut(s![i, i + 1..]).fill(0.0);
        }
        Ok(Self { l })
    }

    /// `L`.
    pub fn factor_matrix(&self) -> ArrayView2<'_, f64> {
        self.l.view()
    }

    /// The dimension.
    pub fn dim(&self) -> usize {
        self.l.nrows()
    }

    /// `x` with `L L^T x = b`.
    pub fn solve(&self, b: &[f64]) -> Vec<f64> {
        let n = self.dim();
        assert_eq!(b.len(), n);
        let mut y = b.to_vec();
        for i in 0..n {
            let row = self.l.row(i);
            let mut x = y[i];
            for j in 0..i {
                x -= row[j] * y[j];
            }
            y[i] = x / row[i];
        }
        // L^T x = y by columns of L^T (rows of L), so the factor is read row by row.
        for i in (0..n).rev() {
            let row = self.l.row(i);
            y[i] /= row[i];
            let xi = y[i];
            for j in 0..i {
                y[j] -= row[j] * xi;
            }
        }
        y
    }
}

impl Cholesky {
    /// An estimate of the smallest eigenvalue of `A = L L^T` by `iterations` steps of inverse
    /// iteration from the all-ones vector: `x <- A^{-1} x / ||A^{-1} x||`, the estimate
    /// `1 / (x^T A^{-1} x)`, an upper bound of the smallest eigenvalue in exact arithmetic (a
    /// Rayleigh quotient of `A^{-1}` inverted) converging to it. Not a certificate.
    pub fn smallest_eigenvalue_estimate(&self, iterations: usize) -> f64 {
        let n = self.dim();
        let mut x = vec![1.0 / (n as f64).sqrt(); n];
        let mut estimate = f64::NAN;
        for _ in 0..iterations.max(1) {
            let y = self.solve(&x);
            let quotient: f64 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
            estimate = 1.0 / quotient;
            let norm = y.iter().map(|v| v * v).sum::<f64>().sqrt();
            x = y.iter().map(|v| v / norm).collect();
        }
        estimate
    }
}

/// Unblocked Cholesky of the diagonal block `j0..j1` (lower triangle, in place).
fn factor_diagonal(data: &mut [f64], n: usize, j0: usize, j1: usize) -> Result<(), NotPositiveDefinite> {
    for t in j0..j1 {
        let mut pivot = data[t * n + t];
        for s in j0..t {
            pivot -= data[t * n + s] * data[t * n + s];
        }
        if !(pivot > 0.0 && pivot.is_finite()) {
            return Err(NotPositiveDefinite { index: t, pivot });
        }
        let root = pivot.sqrt();
        data[t * n + t] = root;
        for r in t + 1..j1 {
            let mut x = data[r * n + t];
            for s in j0..t {
                x -= data[r * n + s] * data[t * n + s];
            }
            data[r * n + t] = x / root;
        }
    }
    Ok(())
}
