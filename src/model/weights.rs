//! The weights `W` and the `d x 2m` layout they are stored in.
//!
//! Filter `(j, r)` of the CNN (class `j` in `{+1, -1}`, filter `r < m`) is the vector
//! `w_{j,r} in R^d`. The weights are stored as a `d x 2m` row-major matrix: row `k` holds coordinate
//! `k` of all `2m` filters, the class `+1` block (columns `0..m`) first, then the class `-1` block
//! (columns `m..2m`). Code that holds the weights as a flat slice (the optimizers, the convex
//! certificate) reads them through [`Layout`]; [`Weights`] answers the same questions for its own
//! storage.

use std::ops::Range;

use ndarray::{Array2, Array3};
use rand_distr::{Distribution, StandardNormal};

use crate::data::{STREAM_INIT, rng};

/// The coordinate of the feature `v = e_1` (index 0), the row of `W` the feature coefficients
/// `gamma_{j,r} = j <w_{j,r}, v>` read.
pub const FEATURE_ROW: usize = 0;

/// The `d x 2m` row-major layout of the weights (see the module doc): column `j_index * m + r`
/// holds filter `(j, r)`, with `j_index = 0` for `j = +1` and `1` for `j = -1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    m: usize,
}

impl Layout {
    /// The layout of `m` filters per class.
    pub fn new(m: usize) -> Self {
        Self { m }
    }
    /// Filters per class.
    #[inline]
    pub fn m(self) -> usize {
        self.m
    }
    /// Values per row, `2m`.
    #[inline]
    pub fn width(self) -> usize {
        2 * self.m
    }
    /// The column of filter `(j_index, r)`.
    #[inline]
    pub fn column(self, j_index: usize, r: usize) -> usize {
        debug_assert!(j_index < 2 && r < self.m);
        j_index * self.m + r
    }
    /// The columns of class `j_index` (`0` for `j = +1`, `1` for `j = -1`).
    #[inline]
    pub fn class_columns(self, j_index: usize) -> Range<usize> {
        j_index * self.m..(j_index + 1) * self.m
    }
    /// The class index of column `c`: `0` (class `+1`) for `c < m`, `1` (class `-1`) after.
    #[inline]
    pub fn class_of(self, c: usize) -> usize {
        usize::from(c >= self.m)
    }
    /// The sign `j` of column `c`'s class: `+1.0` for `c < m`, `-1.0` after.
    #[inline]
    pub fn class_sign(self, c: usize) -> f64 {
        if c < self.m { 1.0 } else { -1.0 }
    }
    /// `j x` for the class `j` of column `c` (`x` or `-x`).
    #[inline]
    pub fn signed(self, c: usize, x: f64) -> f64 {
        if c < self.m { x } else { -x }
    }
    /// Row `k` of flat weights-shaped storage: coordinate `k` of all `2m` filters.
    #[inline]
    pub fn row<T>(self, flat: &[T], k: usize) -> &[T] {
        &flat[k * self.width()..(k + 1) * self.width()]
    }
    /// The rows of flat weights-shaped storage, `k = 0, 1, ..`.
    #[inline]
    pub fn rows<T>(self, flat: &[T]) -> std::slice::ChunksExact<'_, T> {
        flat.chunks_exact(self.width())
    }
    /// The rows of flat weights-shaped storage, mutable.
    #[inline]
    pub fn rows_mut<T>(self, flat: &mut [T]) -> std::slice::ChunksExactMut<'_, T> {
        flat.chunks_exact_mut(self.width())
    }
    /// A row split into its class `+1` block and its class `-1` block (`m` values each).
    #[inline]
    pub fn split<T>(self, row: &[T]) -> (&[T], &[T]) {
        debug_assert_eq!(row.len(), self.width());
        row.split_at(self.m)
    }
    /// A mutable row split into its class `+1` block and its class `-1` block.
    #[inline]
    pub fn split_mut<T>(self, row: &mut [T]) -> (&mut [T], &mut [T]) {
        debug_assert_eq!(row.len(), self.width());
        row.split_at_mut(self.m)
    }
    /// Sets a row to `w_{j,r}[k] = j v` for every filter: `v` in the class `+1` block, `-v` in the
    /// class `-1` block (a row of the gradient of a function of `u`, or of the equal-filters point
    /// with `u_k = 2 m v`).
    #[inline]
    pub fn fill_signed(self, row: &mut [f64], v: f64) {
        let (plus, minus) = self.split_mut(row);
        plus.fill(v);
        minus.fill(-v);
    }
    /// The weights with equal filters in each class whose reduction is `u` (up to rounding):
    /// `w_{j,r}[k] = j u_k / (2m)`.
    pub fn lift(self, u: &[f64]) -> Vec<f64> {
        let mut w = vec![0.0; u.len() * self.width()];
        let two_m = self.width() as f64;
        for (row, &uk) in self.rows_mut(&mut w).zip(u) {
            self.fill_signed(row, uk / two_m);
        }
        w
    }
    /// The convex reduction `u(W)`: `u_k = sum_r w_{+1,r}[k] - sum_r w_{-1,r}[k]`, each class's sum
    /// taken by [`lane_sum`] (fixed order, so the result is reproducible). With the linear
    /// activation `f(W, x) = c <u(W), sum_p x_p>`, which is what the convex certificate uses.
    pub fn reduce(self, flat: &[f64]) -> Vec<f64> {
        self.rows(flat)
            .map(|row| {
                let (plus, minus) = self.split(row);
                lane_sum(plus) - lane_sum(minus)
            })
            .collect()
    }
}

/// `sum x` with four independent accumulators (the latency of one dependent chain of additions
/// would dominate the step otherwise); the order is fixed, so results are reproducible.
#[inline]
pub fn lane_sum(x: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let chunks = x.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for l in 0..4 {
            acc[l] += c[l];
        }
    }
    let tail: f64 = rest.iter().sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// The weights, stored in the `d x 2m` [`Layout`].
#[derive(Clone, Debug, PartialEq)]
pub struct Weights {
    /// `a[[k, layout.column(j_index, r)]] = w_{j,r}[k]`.
    a: Array2<f64>,
    layout: Layout,
}

impl Weights {
    /// All zeros.
    pub fn zeros(d: usize, m: usize) -> Self {
        Self { a: Array2::zeros((d, 2 * m)), layout: Layout::new(m) }
    }
    /// `W^(0)`: every entry i.i.d. `N(0, sigma0^2)`, drawn in the `(j, r, k)` order from the
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
    /// Flat row-major view (`k * 2m + c`), for code that treats the weights as one vector.
    pub fn as_slice(&self) -> &[f64] {
        self.a.as_slice().expect("Weights are standard layout")
    }
    /// Flat mutable row-major view.
    pub fn as_mut_slice(&mut self) -> &mut [f64] {
        self.a.as_slice_mut().expect("Weights are standard layout")
    }
    /// The layout of the flat views.
    #[inline]
    pub fn layout(&self) -> Layout {
        self.layout
    }
    /// Filters per class `m`.
    #[inline]
    pub fn m(&self) -> usize {
        self.layout.m
    }
    /// Patch dimension `d`.
    pub fn d(&self) -> usize {
        self.a.nrows()
    }
    /// `w_{j,r}[k]` (`j_index = 0` for `j = +1`, `1` for `j = -1`).
    #[inline]
    pub fn get(&self, j_index: usize, r: usize, k: usize) -> f64 {
        self.a[[k, self.layout.column(j_index, r)]]
    }
    /// Row `k`: coordinate `k` of all `2m` filters, column `c` of class [`Layout::class_of`].
    #[inline]
    pub fn row(&self, k: usize) -> &[f64] {
        self.layout.row(self.as_slice(), k)
    }
    /// Row `k`, mutable.
    #[inline]
    pub fn row_mut(&mut self, k: usize) -> &mut [f64] {
        let layout = self.layout;
        &mut self.as_mut_slice()[k * layout.width()..(k + 1) * layout.width()]
    }
    /// `w_{j,r}[k]` for `r = 0..m`: coordinate `k` of the filters of class `j_index`.
    #[inline]
    pub fn class_block(&self, k: usize, j_index: usize) -> &[f64] {
        &self.row(k)[self.layout.class_columns(j_index)]
    }
    /// The feature row ([`FEATURE_ROW`]): `<w_{j,r}, v>` for all filters, in column order.
    #[inline]
    pub fn feature_row(&self) -> &[f64] {
        self.row(FEATURE_ROW)
    }
    /// The feature coefficient `gamma_{j,r} = j <w_{j,r}, v>` (`v = e_1`, row [`FEATURE_ROW`]).
    #[inline]
    pub fn gamma(&self, j_index: usize, r: usize) -> f64 {
        let c = self.layout.column(j_index, r);
        self.layout.signed(c, self.feature_row()[c])
    }
    /// All `gamma_{j,r}`, in column order (class `+1` first).
    pub fn feature_coefficients(&self) -> impl Iterator<Item = f64> + '_ {
        let layout = self.layout;
        self.feature_row().iter().enumerate().map(move |(c, &x)| layout.signed(c, x))
    }
    /// The convex reduction `u(W)` ([`Layout::reduce`]).
    pub fn reduce(&self) -> Vec<f64> {
        self.layout.reduce(self.as_slice())
    }
    /// The `(2, m, d)` array: `[j_index, r, k]`.
    pub fn to_paper_layout(&self) -> Array3<f64> {
        let (d, m) = (self.d(), self.m());
        Array3::from_shape_fn((2, m, d), |(j, r, k)| self.get(j, r, k))
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
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The named accessors agree with the documented flat layout `k * 2m + j_index * m + r`.
    #[test]
    fn accessors_follow_the_flat_layout() {
        let (d, m) = (5, 3);
        let w = Weights::init(d, m, 1.0, 11);
        let (flat, layout) = (w.as_slice(), w.layout());
        for k in 0..d {
            for j in 0..2 {
                for r in 0..m {
                    let x = flat[k * 2 * m + j * m + r];
                    let c = layout.column(j, r);
                    assert_eq!(w.get(j, r, k), x);
                    assert_eq!(w.row(k)[c], x);
                    assert_eq!(layout.row(flat, k)[c], x);
                    assert_eq!(w.class_block(k, j)[r], x);
                    assert_eq!(layout.split(w.row(k)).1.len(), m);
                    assert_eq!(layout.class_of(c), j);
                    assert_eq!(layout.class_sign(c), [1.0, -1.0][j]);
                    assert!(layout.class_columns(j).contains(&c));
                    assert_eq!(w.to_paper_layout()[[j, r, k]], x);
                }
            }
        }
        for j in 0..2 {
            for r in 0..m {
                assert_eq!(w.gamma(j, r), [1.0, -1.0][j] * flat[j * m + r]);
            }
        }
        let gammas: Vec<f64> = w.feature_coefficients().collect();
        assert_eq!(gammas, (0..2 * m).map(|c| w.gamma(c / m, c % m)).collect::<Vec<_>>());
    }

    /// `u(lift(u)) = u` exactly when `2m` is a power of two (the divisions and sums are exact), and
    /// `u(W)` is the signed sum of each row.
    #[test]
    fn reduce_inverts_lift() {
        let layout = Layout::new(4);
        let u = [1.5, -0.25, 3.0, 0.0, 7.125];
        let w = layout.lift(&u);
        assert_eq!(w.len(), u.len() * 8);
        assert_eq!(layout.reduce(&w), u);
        let w = Weights::init(3, 4, 1.0, 5);
        for (k, uk) in w.reduce().into_iter().enumerate() {
            let direct: f64 = w.row(k).iter().enumerate().map(|(c, &x)| w.layout().signed(c, x)).sum();
            assert!((uk - direct).abs() <= 1e-12, "row {k}: {uk} vs {direct}");
        }
    }
}
