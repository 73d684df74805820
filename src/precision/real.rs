//! The scalar of the precision-generic training path: binary64 ([`f64`]), double-double ([`Dd`])
//! and the 256-bit ladder float ([`Big`]).
//!
//! Every operation the path uses is a method here, so that the generic code spells out each
//! rounding. Constants of the problem (data values, labels, hyperparameters, the model's scale)
//! enter through [`Real::mul_f64`] and [`Real::from_f64`] as the same binary64 values the fast
//! binary64 path uses; everything derived from them is computed in the scalar.
//!
//! For `f64` each method is the single binary64 operation the fast kernels perform (`powi` is
//! `f64::powi`), so the generic path at `f64` reproduces the fast path bit for bit
//! (`tests/precision.rs`); the other scalars then differ from it only in rounding.

use std::cmp::Ordering;

use super::adam::AdamStep;
use super::big::Big;
use super::dd::Dd;

/// A real-number type for the generic training path. `Default` is zero; with it every `Real` is a
/// scalar of the crate's one loop (`crate::optim::Scalar`).
pub trait Real: Clone + Default + Send + Sync + std::fmt::Debug + 'static {
    /// Short name (`f64`, `dd`, `big256`).
    const NAME: &'static str;
    /// The exact value of a binary64.
    fn from_f64(x: f64) -> Self;
    /// The nearest binary64 (for reports and comparisons; never fed back).
    fn to_f64(&self) -> f64;
    /// `0`.
    fn zero() -> Self {
        Self::from_f64(0.0)
    }
    /// `x + y`.
    fn add(&self, y: &Self) -> Self;
    /// `x - y`.
    fn sub(&self, y: &Self) -> Self;
    /// `x y`.
    fn mul(&self, y: &Self) -> Self;
    /// `x y` for a binary64 `y`.
    fn mul_f64(&self, y: f64) -> Self;
    /// `x / y`.
    fn div(&self, y: &Self) -> Self;
    /// `sqrt(x)`, `x >= 0`.
    fn sqrt(&self) -> Self;
    /// `-x`.
    fn neg(&self) -> Self;
    /// `x^n`.
    fn powi(&self, n: i32) -> Self;
    /// The sign of `x` against 0 (`Equal` for NaN).
    fn cmp_zero(&self) -> Ordering;
    /// True when finite.
    fn is_finite(&self) -> bool;
    /// `(log(1 + exp(z)), 1 / (1 + exp(-z)))`, with the branches of the binary64 version.
    fn softplus_sigmoid(&self) -> (Self, Self);
    /// `acc + w v`, the accumulation step of the passes' dot products (for `f64` the kernels'
    /// `acc += v * w`; for [`Dd`] the fused [`Dd::mul_f64_add`]).
    fn dot_acc(&self, w: &Self, v: f64) -> Self {
        self.add(&w.mul_f64(v))
    }
    /// `out[j 2m + c] = 0 + sum_t val[t] w[idx[t] 2m + c]` (by [`Real::dot_acc`], in storage order)
    /// over row `first + j` of `rows`, for every row of `out` (`w2 = 2m` columns): the forward pass
    /// over patches (`w` the weights) or the backward pass over rows of `G` (`w` the coefficients).
    fn gather_rows(w: &[Self], w2: usize, rows: &crate::data::SparseRows, first: usize, out: &mut [Self]) {
        for (j, o) in out.chunks_exact_mut(w2).enumerate() {
            let (idx, val) = rows.row(first + j);
            for (c, oc) in o.iter_mut().enumerate() {
                let mut acc = Self::zero();
                for (&k, &v) in idx.iter().zip(val) {
                    acc = acc.dot_acc(&w[k as usize * w2 + c], v);
                }
                *oc = acc;
            }
        }
    }
    /// Adam's update of one block (`w`, `m`, `v` from the loss gradient `g`) through a kernel
    /// specialized to the scalar, with the bits of the generic loop of [`super::optim`]; `false`
    /// (nothing done) when the scalar has none, and the caller runs the generic loop.
    fn adam_kernel(_w: &mut [Self], _g: &[Self], _m: &mut [Self], _v: &mut [Self], _p: &AdamStep<Self>) -> bool {
        false
    }
    /// `x > 0`.
    fn is_pos(&self) -> bool {
        self.cmp_zero() == Ordering::Greater
    }
    /// `x < 0`.
    fn is_neg(&self) -> bool {
        self.cmp_zero() == Ordering::Less
    }
    /// `x == 0`.
    fn is_zero(&self) -> bool {
        self.cmp_zero() == Ordering::Equal && self.is_finite()
    }
}

impl Real for f64 {
    const NAME: &'static str = "f64";
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn to_f64(&self) -> f64 {
        *self
    }
    #[inline(always)]
    fn add(&self, y: &Self) -> Self {
        self + y
    }
    #[inline(always)]
    fn sub(&self, y: &Self) -> Self {
        self - y
    }
    #[inline(always)]
    fn mul(&self, y: &Self) -> Self {
        self * y
    }
    #[inline(always)]
    fn mul_f64(&self, y: f64) -> Self {
        self * y
    }
    #[inline(always)]
    fn div(&self, y: &Self) -> Self {
        self / y
    }
    #[inline(always)]
    fn sqrt(&self) -> Self {
        f64::sqrt(*self)
    }
    #[inline(always)]
    fn neg(&self) -> Self {
        -self
    }
    #[inline(always)]
    fn powi(&self, n: i32) -> Self {
        f64::powi(*self, n)
    }
    #[inline(always)]
    fn cmp_zero(&self) -> Ordering {
        self.partial_cmp(&0.0).unwrap_or(Ordering::Equal)
    }
    #[inline(always)]
    fn is_finite(&self) -> bool {
        f64::is_finite(*self)
    }
    #[inline(always)]
    fn softplus_sigmoid(&self) -> (Self, Self) {
        crate::model::softplus_sigmoid(*self)
    }
}

#[allow(clippy::inline_always)]
impl Real for Dd {
    const NAME: &'static str = "dd";
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        Dd::from_f64(x)
    }
    #[inline(always)]
    fn to_f64(&self) -> f64 {
        self.hi
    }
    #[inline(always)]
    fn add(&self, y: &Self) -> Self {
        Dd::add(*self, *y)
    }
    #[inline(always)]
    fn sub(&self, y: &Self) -> Self {
        Dd::sub(*self, *y)
    }
    #[inline(always)]
    fn mul(&self, y: &Self) -> Self {
        Dd::mul(*self, *y)
    }
    #[inline(always)]
    fn mul_f64(&self, y: f64) -> Self {
        Dd::mul_f64(*self, y)
    }
    #[inline(always)]
    fn div(&self, y: &Self) -> Self {
        Dd::div(*self, *y)
    }
    #[inline(always)]
    fn sqrt(&self) -> Self {
        Dd::sqrt(*self)
    }
    #[inline(always)]
    fn neg(&self) -> Self {
        Dd::neg(*self)
    }
    #[inline(always)]
    fn powi(&self, n: i32) -> Self {
        Dd::powi(*self, n.max(0) as u32)
    }
    #[inline(always)]
    fn cmp_zero(&self) -> Ordering {
        Dd::cmp_zero(*self)
    }
    #[inline(always)]
    fn is_finite(&self) -> bool {
        Dd::is_finite(*self)
    }
    #[inline(always)]
    fn softplus_sigmoid(&self) -> (Self, Self) {
        Dd::softplus_sigmoid(*self)
    }
    #[inline(always)]
    fn dot_acc(&self, w: &Self, v: f64) -> Self {
        self.mul_f64_add(*w, v)
    }
    #[inline(always)]
    fn is_pos(&self) -> bool {
        self.hi > 0.0
    }
    #[inline(always)]
    fn is_neg(&self) -> bool {
        self.hi < 0.0
    }
    #[inline(always)]
    fn is_zero(&self) -> bool {
        self.hi == 0.0
    }
    #[inline(always)]
    fn gather_rows(w: &[Self], w2: usize, rows: &crate::data::SparseRows, first: usize, out: &mut [Self]) {
        super::kernel::gather_rows(w, w2, rows, first, out, true);
    }
    #[inline(always)]
    fn adam_kernel(w: &mut [Self], g: &[Self], m: &mut [Self], v: &mut [Self], p: &AdamStep<Self>) -> bool {
        super::adam::adam_dd(w, g, m, v, p, true);
        true
    }
}

impl Real for Big {
    const NAME: &'static str = "big256";
    fn from_f64(x: f64) -> Self {
        Big::from_f64(x)
    }
    fn to_f64(&self) -> f64 {
        Big::to_f64(self)
    }
    fn add(&self, y: &Self) -> Self {
        Big::add(self, y)
    }
    fn sub(&self, y: &Self) -> Self {
        Big::sub(self, y)
    }
    fn mul(&self, y: &Self) -> Self {
        Big::mul(self, y)
    }
    fn mul_f64(&self, y: f64) -> Self {
        Big::mul(self, &Big::from_f64(y))
    }
    fn div(&self, y: &Self) -> Self {
        Big::div(self, y)
    }
    fn sqrt(&self) -> Self {
        Big::sqrt(self)
    }
    fn neg(&self) -> Self {
        Big::neg(self)
    }
    fn powi(&self, n: i32) -> Self {
        Big::powi(self, n.max(0) as u32)
    }
    fn cmp_zero(&self) -> Ordering {
        Big::cmp_zero(self)
    }
    fn is_finite(&self) -> bool {
        true
    }
    fn softplus_sigmoid(&self) -> (Self, Self) {
        Big::softplus_sigmoid(self)
    }
}
