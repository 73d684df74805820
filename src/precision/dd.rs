//! Double-double numbers: a value is the unevaluated sum `hi + lo` of two binary64 numbers with
//! `|lo| <= ulp(hi) / 2`, about 106 significant bits (`u = 2^-53`, so `u^2 = 2^-106`).
//!
//! The basic operations are the algorithms of M. Joldes, J.-M. Muller, V. Popescu, "Tight and
//! rigorous error bounds for basic building blocks of double-word arithmetic", ACM TOMS 44(2), 2017
//! (JMP below), with their proved relative error bounds:
//!
//! | operation | algorithm | relative error bound |
//! |---|---|---|
//! | `Dd + Dd` ([`Dd::add`]) | JMP Alg. 6 (accurate DWPlusDW) | `3u^2 / (1 - 4u) < 2^-104.4` |
//! | `Dd + Dd` ([`Dd::add_sloppy`], dot products) | JMP Alg. 5 (sloppy DWPlusDW) | absolute `4u^2 (\|x\| + \|y\|)` (tested) |
//! | `Dd + Dd * f64` ([`Dd::mul_f64_add`], dot products) | JMP Alg. 9 + Alg. 5, fused | absolute `6u^2 (\|x\| + \|w v\|)` (tested) |
//! | `Dd + f64` ([`Dd::add_f64`]) | JMP Alg. 4 (DWPlusFP) | `2u^2 = 2^-105` |
//! | `Dd * f64` ([`Dd::mul_f64`]) | JMP Alg. 7 (DWTimesFP1) | `3/2 u^2 + 4u^3 < 2^-105.4` |
//! | `Dd * Dd` ([`Dd::mul`]) | JMP Alg. 10 (DWTimesDW1) | `7u^2 = 2^-103.2` |
//! | `Dd / Dd` ([`Dd::div`]) | JMP Alg. 17 (DWDivDW2) | `15u^2 + 56u^3 < 2^-102` |
//! | `sqrt` ([`Dd::sqrt`]) | one Newton step from the binary64 root, residual exact | tested `<= 2^-102` |
//!
//! `tests/precision.rs` checks every operation against exact dyadic arithmetic on random inputs
//! with the bound `2^-100`. The functions of the loss ([`Dd::exp`], [`Dd::expm1`], [`Dd::ln1p`],
//! [`Dd::softplus_sigmoid`]) are in `functions.rs` beside this file.
//!
//! **The exact product.** `two_prod(a, b) = (a b rounded, exact error)` takes the error from one
//! fused multiply-add, which is correctly rounded by definition, so every build and CPU computes
//! the same bits (the hot loops are compiled with the FMA instruction when the CPU has it, see
//! `kernel.rs`, and Adam's update runs these algorithms on vectors, see `simd.rs`; elsewhere
//! `f64::mul_add` calls the C library's `fma`). The bounds hold without
//! overflow or underflow: products above `2^-969` in magnitude (below that the low word loses
//! bits, as binary64 does near its own underflow).

use std::cmp::Ordering;

/// A double-double number `hi + lo`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Dd {
    /// The leading binary64: the value rounded to nearest.
    pub hi: f64,
    /// The rest, `|lo| <= ulp(hi) / 2`.
    pub lo: f64,
}

/// `(s, e)` with `s = fl(a + b)` and `s + e = a + b` exactly (Knuth's 2Sum, 6 flops).
#[inline(always)]
pub fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let a1 = s - b;
    let b1 = s - a1;
    (s, (a - a1) + (b - b1))
}

/// `(s, e)` with `s = fl(a + b)` and `s + e = a + b` exactly, provided `|a| >= |b|` or `a = 0`
/// (Dekker's Fast2Sum, 3 flops).
#[inline(always)]
pub fn fast_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (s, b - (s - a))
}

/// `(p, e)` with `p = fl(a b)` and `p + e = a b` exactly: the error term is one fused
/// multiply-add (`f64::mul_add`, correctly rounded by definition: the FMA instruction where the
/// code is compiled with it, the C library's `fma` otherwise), so every path computes the same bits.
#[inline(always)]
pub fn two_prod(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    (p, a.mul_add(b, -p))
}

/// [`two_prod`] with both splits given (a loop that multiplies by one factor many times splits it
/// once).
#[inline(always)]
pub fn two_prod_split(a: f64, (ah, al): (f64, f64), b: f64, (bh, bl): (f64, f64)) -> (f64, f64) {
    let p = a * b;
    (p, ((ah * bh - p) + ah * bl + al * bh) + al * bl)
}

impl Dd {
    /// `0`.
    pub const ZERO: Dd = Dd { hi: 0.0, lo: 0.0 };
    /// `1`.
    pub const ONE: Dd = Dd { hi: 1.0, lo: 0.0 };

    /// The exact value of a binary64.
    #[inline(always)]
    pub const fn from_f64(x: f64) -> Self {
        Dd { hi: x, lo: 0.0 }
    }

    /// `hi + lo` from two binary64 with `|hi| >= |lo|` (renormalized).
    #[inline(always)]
    pub fn from_parts(hi: f64, lo: f64) -> Self {
        let (h, l) = fast_two_sum(hi, lo);
        Dd { hi: h, lo: l }
    }

    /// The value rounded to the nearest binary64 (up to a tie): `hi`.
    #[inline(always)]
    pub fn to_f64(self) -> f64 {
        self.hi
    }

    /// `-x` (exact).
    #[inline(always)]
    #[allow(clippy::should_implement_trait)]
    pub fn neg(self) -> Self {
        Dd { hi: -self.hi, lo: -self.lo }
    }

    /// `|x|` (exact).
    #[inline(always)]
    pub fn abs(self) -> Self {
        if self.hi < 0.0 { self.neg() } else { self }
    }

    /// True when both words are finite.
    #[inline(always)]
    pub fn is_finite(self) -> bool {
        self.hi.is_finite() && self.lo.is_finite()
    }

    /// The sign comparison with 0 (the sign of `hi`, which is the sign of the value).
    #[inline(always)]
    pub fn cmp_zero(self) -> Ordering {
        self.hi.partial_cmp(&0.0).unwrap_or(Ordering::Equal)
    }

    /// `x + y` (JMP Alg. 6, relative error `< 2^-104.4`).
    #[inline(always)]
    #[allow(clippy::should_implement_trait)]
    pub fn add(self, y: Dd) -> Dd {
        let (sh, sl) = two_sum(self.hi, y.hi);
        let (th, tl) = two_sum(self.lo, y.lo);
        let c = sl + th;
        let (vh, vl) = fast_two_sum(sh, c);
        let w = tl + vl;
        let (zh, zl) = fast_two_sum(vh, w);
        Dd { hi: zh, lo: zl }
    }

    /// `x + y` the cheap way (JMP Alg. 5, sloppy DWPlusDW, 11 flops): the absolute error is at
    /// most `4u^2 (|x| + |y|) = 2^-104 (|x| + |y|)` (tested), but not relative to the result when
    /// the terms cancel. The dot products of the training passes accumulate with it: their error
    /// bound is relative to `sum |terms|` anyway, as for any recursive summation.
    #[inline(always)]
    pub fn add_sloppy(self, y: Dd) -> Dd {
        let (sh, sl) = two_sum(self.hi, y.hi);
        let v = self.lo + y.lo;
        let w = sl + v;
        let (zh, zl) = fast_two_sum(sh, w);
        Dd { hi: zh, lo: zl }
    }

    /// `x + w v` for a binary64 `v`, fused: the exact product `w.hi v = ch + cl1`, its low part
    /// `cl3 = fma(w.lo, v, cl1)` (JMP Alg. 9, DWTimesFP3, without its final renormalization), then
    /// the sloppy sum ([`Dd::add_sloppy`]) of `x` and `ch + cl3`: 14 flops instead of 21 for
    /// [`Dd::mul_f64`] then [`Dd::add_sloppy`]. The absolute error is at most
    /// `6u^2 (|x| + |w v|)` (tested). The dot products of the training passes accumulate with it.
    #[inline(always)]
    pub fn mul_f64_add(self, w: Dd, v: f64) -> Dd {
        let (ch, cl1) = two_prod(w.hi, v);
        let cl3 = w.lo.mul_add(v, cl1);
        let (sh, sl) = two_sum(self.hi, ch);
        let t = sl + (self.lo + cl3);
        let (zh, zl) = fast_two_sum(sh, t);
        Dd { hi: zh, lo: zl }
    }

    /// `x - y` (as `x + (-y)`).
    #[inline(always)]
    #[allow(clippy::should_implement_trait)]
    pub fn sub(self, y: Dd) -> Dd {
        self.add(y.neg())
    }

    /// `x + y` for a binary64 `y` (JMP Alg. 4, relative error `<= 2^-105`).
    #[inline(always)]
    pub fn add_f64(self, y: f64) -> Dd {
        let (sh, sl) = two_sum(self.hi, y);
        let v = self.lo + sl;
        let (zh, zl) = fast_two_sum(sh, v);
        Dd { hi: zh, lo: zl }
    }

    /// `x y` for a binary64 `y` (JMP Alg. 7, relative error `< 2^-105.4`).
    #[inline(always)]
    pub fn mul_f64(self, y: f64) -> Dd {
        let (ch, cl1) = two_prod(self.hi, y);
        let cl2 = self.lo * y;
        let (th, tl1) = fast_two_sum(ch, cl2);
        let tl2 = tl1 + cl1;
        let (zh, zl) = fast_two_sum(th, tl2);
        Dd { hi: zh, lo: zl }
    }

    /// `x y` (JMP Alg. 10, relative error `<= 7u^2 = 2^-103.2`).
    #[inline(always)]
    #[allow(clippy::should_implement_trait)]
    pub fn mul(self, y: Dd) -> Dd {
        let (ch, cl1) = two_prod(self.hi, y.hi);
        let tl = self.hi * y.lo;
        let cl2 = tl + self.lo * y.hi;
        let cl3 = cl1 + cl2;
        let (zh, zl) = fast_two_sum(ch, cl3);
        Dd { hi: zh, lo: zl }
    }

    /// `x / y` (JMP Alg. 17, DWDivDW2: relative error `<= 15u^2 + 56u^3 < 2^-102`; `y = 0` gives an
    /// infinity or NaN as in binary64).
    #[inline(always)]
    #[allow(clippy::should_implement_trait)]
    pub fn div(self, y: Dd) -> Dd {
        let th = self.hi / y.hi;
        let r = y.mul_f64(th);
        let pih = self.hi - r.hi;
        let dl = self.lo - r.lo;
        let tl = (pih + dl) / y.hi;
        let (zh, zl) = fast_two_sum(th, tl);
        if zh.is_finite() { Dd { hi: zh, lo: zl } } else { Dd::from_f64(th) }
    }

    /// `sqrt(x)` for `x >= 0`: the binary64 root `s`, then one Newton step
    /// `s + (x - s^2) / (2 s)` with `s^2` exact (relative error tested `<= 2^-102`).
    #[inline(always)]
    pub fn sqrt(self) -> Dd {
        if self.hi <= 0.0 {
            return Dd::from_f64(self.hi.sqrt());
        }
        let s = self.hi.sqrt();
        let (p, e) = two_prod(s, s);
        let r = self.sub(Dd { hi: p, lo: e });
        let corr = r.hi / (2.0 * s);
        Dd::from_parts(s, corr)
    }

    /// `x * 2^k` (exact unless the result leaves the normal range).
    #[inline]
    pub fn ldexp(self, k: i32) -> Dd {
        let f = pow2(k);
        Dd { hi: self.hi * f, lo: self.lo * f }
    }

    /// `x^n` by binary powering (`n >= 0`; at most `2 log2(n)` products).
    pub fn powi(self, mut n: u32) -> Dd {
        let (mut base, mut acc) = (self, Dd::ONE);
        while n > 0 {
            if n & 1 == 1 {
                acc = acc.mul(base);
            }
            n >>= 1;
            if n > 0 {
                base = base.mul(base);
            }
        }
        acc
    }
}

/// `2^k` as a binary64 for `-1022 <= k <= 1023` (clamped beyond, which only matters where the
/// result under- or overflows anyway).
#[inline]
pub fn pow2(k: i32) -> f64 {
    let k = k.clamp(-1022, 1023);
    f64::from_bits(((k + 1023) as u64) << 52)
}

impl PartialOrd for Dd {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        match self.hi.partial_cmp(&o.hi)? {
            Ordering::Equal => self.lo.partial_cmp(&o.lo),
            c => Some(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_free_transformations_are_exact_on_simple_cases() {
        assert_eq!(two_sum(1.0, 1e-30), (1.0, 1e-30));
        let (p, e) = two_prod(1.0 + f64::EPSILON, 1.0 + f64::EPSILON);
        assert_eq!(p, 1.0 + 2.0 * f64::EPSILON);
        assert_eq!(e, f64::EPSILON * f64::EPSILON);
        assert_eq!(Dd::from_f64(3.0).powi(5).hi, 243.0);
        assert_eq!(pow2(-3), 0.125);
        assert_eq!(Dd::from_f64(0.75).ldexp(2).hi, 3.0);
    }

    #[test]
    fn division_and_root_invert_products() {
        let a = Dd::from_f64(1.0).div(Dd::from_f64(3.0));
        let back = a.mul_f64(3.0).sub(Dd::ONE);
        assert!(back.hi.abs() < 1e-31, "{back:?}");
        let r = Dd::from_f64(2.0).sqrt();
        let sq = r.mul(r).sub(Dd::from_f64(2.0));
        assert!(sq.hi.abs() < 1e-31, "{sq:?}");
    }
}
