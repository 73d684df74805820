//! Closed intervals `[lo, hi]` with exact rational endpoints, and the directed roundings they use.
//!
//! Interval arithmetic here is *exact*: `a + b`, `a * b`, ... compute the hull of
//! `{s op t : s in a, t in b}` with no rounding at all. Growth of the endpoints' numerators and
//! denominators is controlled explicitly by [`Interval::round_outward`], which moves `lo` down and
//! `hi` up onto dyadic numbers with a given number of significant bits.
//!
//! The third link of the module's chain (kernels -> dyadic -> interval -> functions).

use std::fmt;
use std::ops::{Add, Mul, Neg, Sub};

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

use super::dyadic::{Dyadic, rat_round};
use super::error::ExactError;
use super::kernels::{Dir, div_dir};

/// A closed interval `[lo, hi]` of rationals, `lo <= hi` (enforced by every constructor).
///
/// It encloses an unknown real number: every operation returns an interval that contains every
/// possible result for every possible input in its operands.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Interval {
    lo: BigRational,
    hi: BigRational,
}

impl Interval {
    /// The degenerate interval `[q, q]`.
    pub fn point(q: BigRational) -> Interval {
        Interval { lo: q.clone(), hi: q }
    }

    /// `[0, 0]`.
    pub fn zero() -> Interval {
        Interval::point(BigRational::zero())
    }

    /// `[1, 1]`.
    pub fn one() -> Interval {
        Interval::point(BigRational::one())
    }

    /// `[n, n]` for an integer `n`.
    pub fn from_integer(n: i64) -> Interval {
        Interval::point(BigRational::from_integer(BigInt::from(n)))
    }

    /// `[lo, hi]`; errors with [`ExactError::EmptyInterval`] if `lo > hi`.
    pub fn new(lo: BigRational, hi: BigRational) -> Result<Interval, ExactError> {
        if lo > hi {
            return Err(ExactError::EmptyInterval);
        }
        Ok(Interval { lo, hi })
    }

    /// `[lo, hi]` for bounds the caller has already ordered (`lo <= hi`, checked by the caller
    /// on cheaper representations).
    pub(crate) fn from_ordered_unchecked(lo: BigRational, hi: BigRational) -> Interval {
        Interval { lo, hi }
    }

    /// The point interval at the *exact* binary64 value of `x` (`0.1` becomes
    /// `3602879701896397 / 2^55`, not `1/10`). Errors on NaN and infinities.
    pub fn from_f64(x: f64) -> Result<Interval, ExactError> {
        BigRational::from_float(x).map(Interval::point).ok_or(ExactError::NonFinite { value: x })
    }

    /// `[lo, hi]` from the exact binary64 values; errors on non-finite values or `lo > hi`.
    pub fn from_f64_bounds(lo: f64, hi: f64) -> Result<Interval, ExactError> {
        let l = BigRational::from_float(lo).ok_or(ExactError::NonFinite { value: lo })?;
        let h = BigRational::from_float(hi).ok_or(ExactError::NonFinite { value: hi })?;
        Interval::new(l, h)
    }

    /// Lower endpoint.
    pub fn lo(&self) -> &BigRational {
        &self.lo
    }

    /// Upper endpoint.
    pub fn hi(&self) -> &BigRational {
        &self.hi
    }

    /// `(lo, hi)` by value.
    pub fn into_bounds(self) -> (BigRational, BigRational) {
        (self.lo, self.hi)
    }

    /// `lo <= q <= hi`.
    pub fn contains(&self, q: &BigRational) -> bool {
        &self.lo <= q && q <= &self.hi
    }

    /// Whether the exact value of `x` lies in the interval (`false` for NaN and infinities).
    pub fn contains_f64(&self, x: f64) -> bool {
        BigRational::from_float(x).is_some_and(|q| self.contains(&q))
    }

    /// Whether `other` is a subset of `self`.
    pub fn contains_interval(&self, other: &Interval) -> bool {
        self.lo <= other.lo && other.hi <= self.hi
    }

    /// Whether the two intervals share a point.
    pub fn overlaps(&self, other: &Interval) -> bool {
        self.lo <= other.hi && other.lo <= self.hi
    }

    /// `[max(lo), min(hi)]`, or `None` if the intervals are disjoint.
    pub fn intersect(&self, other: &Interval) -> Option<Interval> {
        let lo = (&self.lo).max(&other.lo).clone();
        let hi = (&self.hi).min(&other.hi).clone();
        Interval::new(lo, hi).ok()
    }

    /// The smallest interval containing both.
    pub fn hull(&self, other: &Interval) -> Interval {
        Interval { lo: (&self.lo).min(&other.lo).clone(), hi: (&self.hi).max(&other.hi).clone() }
    }

    /// `lo == hi`.
    pub fn is_point(&self) -> bool {
        self.lo == self.hi
    }

    /// `hi - lo >= 0`.
    pub fn width(&self) -> BigRational {
        &self.hi - &self.lo
    }

    /// `(lo + hi) / 2`.
    pub fn mid(&self) -> BigRational {
        (&self.lo + &self.hi) / BigRational::from_integer(BigInt::from(2))
    }

    /// Magnitude `max |x|` over the interval, `max(|lo|, |hi|)`.
    pub fn mag(&self) -> BigRational {
        self.lo.abs().max(self.hi.abs())
    }

    /// Mignitude `min |x|` over the interval: 0 if it contains 0, else `min(|lo|, |hi|)`.
    pub fn mig(&self) -> BigRational {
        if self.contains_zero() { BigRational::zero() } else { self.lo.abs().min(self.hi.abs()) }
    }

    /// `lo <= 0 <= hi`.
    pub fn contains_zero(&self) -> bool {
        !self.lo.is_positive() && !self.hi.is_negative()
    }

    /// Every point is `> 0`.
    pub fn is_positive(&self) -> bool {
        self.lo.is_positive()
    }

    /// Every point is `< 0`.
    pub fn is_negative(&self) -> bool {
        self.hi.is_negative()
    }

    /// Every point is `>= 0`.
    pub fn is_nonnegative(&self) -> bool {
        !self.lo.is_negative()
    }

    /// `{|x|}`: `[mig, mag]`.
    pub fn abs(&self) -> Interval {
        Interval { lo: self.mig(), hi: self.mag() }
    }

    /// `{x^2}`, tight: `[0, max(lo^2, hi^2)]` when the interval straddles 0.
    pub fn square(&self) -> Interval {
        let l2 = &self.lo * &self.lo;
        let h2 = &self.hi * &self.hi;
        if self.lo.is_negative() && self.hi.is_positive() {
            Interval { lo: BigRational::zero(), hi: l2.max(h2) }
        } else if self.hi.is_positive() {
            Interval { lo: l2, hi: h2 }
        } else {
            Interval { lo: h2, hi: l2 }
        }
    }

    /// `{c x}` for a rational `c`.
    pub fn scale_by_rational(&self, c: &BigRational) -> Interval {
        let a = &self.lo * c;
        let b = &self.hi * c;
        if c.is_negative() { Interval { lo: b, hi: a } } else { Interval { lo: a, hi: b } }
    }

    /// `{1/x}`; errors with [`ExactError::DivisionByZero`] if the interval contains 0.
    pub fn recip(&self) -> Result<Interval, ExactError> {
        if self.contains_zero() {
            return Err(ExactError::DivisionByZero);
        }
        Ok(Interval { lo: self.hi.recip(), hi: self.lo.recip() })
    }

    /// `{x / y}`; errors with [`ExactError::DivisionByZero`] if the divisor contains 0.
    pub fn checked_div(&self, divisor: &Interval) -> Result<Interval, ExactError> {
        Ok(self * &divisor.recip()?)
    }

    /// Exact sum of many intervals (`[0, 0]` for none).
    pub fn sum<'a, I: IntoIterator<Item = &'a Interval>>(items: I) -> Interval {
        let mut lo = BigRational::zero();
        let mut hi = BigRational::zero();
        for x in items {
            lo += &x.lo;
            hi += &x.hi;
        }
        Interval { lo, hi }
    }

    /// `{sqrt(x)}` with endpoints rounded outward to `prec` significant bits
    /// ([`sqrt_lower`], [`sqrt_upper`]); errors with [`ExactError::SqrtNegative`] if `lo < 0`.
    pub fn sqrt(&self, prec: u32) -> Result<Interval, ExactError> {
        match (sqrt_lower(&self.lo, prec), sqrt_upper(&self.hi, prec)) {
            (Some(lo), Some(hi)) => Ok(Interval { lo, hi }),
            _ => Err(ExactError::SqrtNegative),
        }
    }

    /// Widen onto the dyadic grid with `prec` significant bits: `lo` rounded down, `hi` up, each
    /// relative to its own magnitude (floating-point style), so the relative widening of each
    /// endpoint is below `2^(1-prec)`. Exact zeros and endpoints already on the grid stay put.
    /// `prec` is clamped to at least 1.
    pub fn round_outward(&self, prec: u32) -> Interval {
        Interval { lo: round_down(&self.lo, prec), hi: round_up(&self.hi, prec) }
    }

    /// `(lo, hi)` converted to binary64 outward: `lo_f64 <= lo` and `hi <= hi_f64`
    /// ([`to_f64_down`], [`to_f64_up`]).
    pub fn to_f64_bounds(&self) -> (f64, f64) {
        (to_f64_down(&self.lo), to_f64_up(&self.hi))
    }
}

impl From<BigRational> for Interval {
    fn from(q: BigRational) -> Interval {
        Interval::point(q)
    }
}

impl fmt::Display for Interval {
    /// `[lo, hi]` with endpoints converted to binary64 outward (so the printed interval still
    /// encloses the exact one).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (lo, hi) = self.to_f64_bounds();
        write!(f, "[{lo:e}, {hi:e}]")
    }
}

impl Neg for &Interval {
    type Output = Interval;
    fn neg(self) -> Interval {
        Interval { lo: -&self.hi, hi: -&self.lo }
    }
}

impl Neg for Interval {
    type Output = Interval;
    fn neg(self) -> Interval {
        Interval { lo: -self.hi, hi: -self.lo }
    }
}

impl Add<&Interval> for &Interval {
    type Output = Interval;
    fn add(self, o: &Interval) -> Interval {
        Interval { lo: &self.lo + &o.lo, hi: &self.hi + &o.hi }
    }
}

impl Sub<&Interval> for &Interval {
    type Output = Interval;
    fn sub(self, o: &Interval) -> Interval {
        Interval { lo: &self.lo - &o.hi, hi: &self.hi - &o.lo }
    }
}

impl Mul<&Interval> for &Interval {
    type Output = Interval;
    /// Hull of the four endpoint products (exact).
    fn mul(self, o: &Interval) -> Interval {
        if self.is_nonnegative() && o.is_nonnegative() {
            return Interval { lo: &self.lo * &o.lo, hi: &self.hi * &o.hi };
        }
        let p = [&self.lo * &o.lo, &self.lo * &o.hi, &self.hi * &o.lo, &self.hi * &o.hi];
        let mut lo = &p[0];
        let mut hi = &p[0];
        for x in &p[1..] {
            if x < lo {
                lo = x;
            }
            if x > hi {
                hi = x;
            }
        }
        Interval { lo: lo.clone(), hi: hi.clone() }
    }
}

macro_rules! forward_binop {
    ($tr:ident, $f:ident) => {
        impl $tr<Interval> for Interval {
            type Output = Interval;
            fn $f(self, o: Interval) -> Interval {
                (&self).$f(&o)
            }
        }
        impl $tr<&Interval> for Interval {
            type Output = Interval;
            fn $f(self, o: &Interval) -> Interval {
                (&self).$f(o)
            }
        }
        impl $tr<Interval> for &Interval {
            type Output = Interval;
            fn $f(self, o: Interval) -> Interval {
                self.$f(&o)
            }
        }
    };
}

forward_binop!(Add, add);
forward_binop!(Sub, sub);
forward_binop!(Mul, mul);

impl<'a> std::iter::Sum<&'a Interval> for Interval {
    fn sum<I: Iterator<Item = &'a Interval>>(iter: I) -> Interval {
        Interval::sum(iter)
    }
}

impl std::iter::Sum<Interval> for Interval {
    fn sum<I: Iterator<Item = Interval>>(iter: I) -> Interval {
        let mut acc = Interval::zero();
        for x in iter {
            acc.lo += x.lo;
            acc.hi += x.hi;
        }
        acc
    }
}

/// The largest dyadic `m 2^e` with at most `prec` significant bits (`|m| < 2^prec`) that is
/// `<= q`. Zero maps to zero; `prec` is clamped to at least 1. Relative error `< 2^(1-prec)`.
pub fn round_down(q: &BigRational, prec: u32) -> BigRational {
    rat_round(q, prec, Dir::Down).to_rational()
}

/// The smallest dyadic with at most `prec` significant bits that is `>= q` (see [`round_down`]).
pub fn round_up(q: &BigRational, prec: u32) -> BigRational {
    rat_round(q, prec, Dir::Up).to_rational()
}

/// Integer square root of `floor/ceil(q 4^s)`, rounded in `dir`; the result `r 2^-s` is a
/// lower (`Down`) or upper (`Up`) bound of `sqrt(q)` for `q > 0`.
fn sqrt_dir(q: &BigRational, prec: u32, dir: Dir) -> Option<BigRational> {
    if q.is_negative() {
        return None;
    }
    if q.is_zero() {
        return Some(BigRational::zero());
    }
    let prec = prec.max(1);
    let t = q.numer().bits() as i64 - q.denom().bits() as i64;
    // q 4^s has about 2 prec + 2 bits, so its root has about prec + 1.
    let s = i64::from(prec) - t.div_euclid(2) + 1;
    // n = floor/ceil(q 4^s): numerator scaled up when s > 0, denominator when s < 0.
    let num = q.numer() << (2 * s.max(0)).unsigned_abs();
    let den = q.denom() << (2 * (-s).max(0)).unsigned_abs();
    let n = div_dir(&num, &den, dir);
    let mut r = n.sqrt();
    if dir == Dir::Up && &r * &r < n {
        r += 1u32;
    }
    Some(Dyadic::new(r, -s).round_dir(prec, dir).to_rational())
}

/// A dyadic upper bound `u >= sqrt(q)` (so `u^2 >= q`) with at most `prec` significant bits and
/// relative error `< 2^(2-prec)`; `None` if `q < 0`. Exact for squares of short dyadics.
///
/// Method: `n = ceil(q 4^s)` for `s` making `n` about `2 prec` bits, `r = ceil(isqrt(n))`,
/// result `r 2^-s` rounded up.
pub fn sqrt_upper(q: &BigRational, prec: u32) -> Option<BigRational> {
    sqrt_dir(q, prec, Dir::Up)
}

/// A dyadic lower bound `l <= sqrt(q)` (so `l^2 <= q`), `l >= 0`; `None` if `q < 0`
/// (see [`sqrt_upper`]).
pub fn sqrt_lower(q: &BigRational, prec: u32) -> Option<BigRational> {
    sqrt_dir(q, prec, Dir::Down)
}

/// Exact rational value of a finite `f64` (callers pass only finite values).
fn exact(x: f64) -> BigRational {
    BigRational::from_float(x).unwrap_or_else(BigRational::zero)
}

/// `2^k` as an `f64` for `-1022 <= k <= 1023` (exact, a normal number).
fn pow2_normal(k: i64) -> f64 {
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// A binary64 within an ulp or two of `q` (finite `q` within range): `q` rounded down to 53 bits
/// as `m 2^e`, then `m * 2^e1 * 2^e2` where only the last product can round.
fn f64_candidate(q: &BigRational) -> f64 {
    let d = rat_round(q, 53, Dir::Down);
    let m = d.mantissa().to_f64().unwrap_or(0.0);
    let e = d.exponent();
    if m == 0.0 {
        return 0.0;
    }
    if e > 1100 {
        return if m > 0.0 { f64::MAX } else { -f64::MAX };
    }
    if e < -1200 {
        return 0.0;
    }
    let e1 = e / 2;
    let e2 = e - e1;
    let x = m * pow2_normal(e1) * pow2_normal(e2);
    if x.is_finite() {
        x
    } else if x > 0.0 {
        f64::MAX
    } else {
        -f64::MAX
    }
}

/// The largest binary64 `x <= q` (`-inf` if `q < -f64::MAX`). Rigorous: the candidate is checked
/// against `q` exactly and stepped with `next_down`/`next_up`. Never returns `-0.0`.
pub fn to_f64_down(q: &BigRational) -> f64 {
    let max = exact(f64::MAX);
    if q > &max {
        return f64::MAX;
    }
    if q < &-&max {
        return f64::NEG_INFINITY;
    }
    let mut c = f64_candidate(q);
    while &exact(c) > q {
        c = c.next_down();
    }
    loop {
        let n = c.next_up();
        if n.is_finite() && &exact(n) <= q {
            c = n;
        } else {
            break;
        }
    }
    if c == 0.0 { 0.0 } else { c }
}

/// The smallest binary64 `x >= q` (`+inf` if `q > f64::MAX`); see [`to_f64_down`].
pub fn to_f64_up(q: &BigRational) -> f64 {
    let x = -to_f64_down(&-q);
    if x == 0.0 { 0.0 } else { x }
}

/// The binary64 nearest to `q`, ties to even (IEEE 754 round-to-nearest; values beyond
/// `f64::MAX + ulp/2` become infinities).
pub fn to_f64_nearest(q: &BigRational) -> f64 {
    let d = to_f64_down(q);
    let u = to_f64_up(q);
    if d == u {
        return d;
    }
    if !u.is_finite() || !d.is_finite() {
        // Beyond +-MAX: overflow threshold is MAX + 2^970 (half an ulp of MAX).
        let thr = exact(f64::MAX) + exact(pow2_normal(970));
        if q.abs() >= thr {
            return if q.is_positive() { f64::INFINITY } else { f64::NEG_INFINITY };
        }
        return if q.is_positive() { f64::MAX } else { -f64::MAX };
    }
    let dd = q - exact(d);
    let du = exact(u) - q;
    if dd < du || (dd == du && d.to_bits() & 1 == 0) { d } else { u }
}
