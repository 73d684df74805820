//! Exact dyadic rationals `m 2^e`: the number type of the enclosure kernels and of the
//! certificates' inner loops.
//!
//! Every binary64 value is a dyadic rational, and so are sums and products of dyadics: the
//! certificate's margins `<u, x_i>`, the loss-derivative enclosures (the endpoints that the
//! functions of [`crate::exact`] return are dyadic) and the gradient sums are all *exact* in this
//! type, with no rounding at all. Rounding happens only where it is asked for, and then in a stated
//! direction ([`Dyadic::round`]); the fixed-point kernels of [`crate::exact`] build their results
//! as dyadics too.
//!
//! Why not [`BigRational`] throughout: a `BigRational` addition normalizes by a gcd; a dyadic
//! addition is a shift and an integer addition. Sums of thousands of products stay cheap.
//!
//! The second link of the module's chain (kernels -> dyadic -> interval -> functions): it uses
//! only the integer kernels, and provides the directed roundings of rationals ([`rat_round`]) and
//! the directed conversions to binary64 that the interval type builds on.
//!
//! Equality, hashing and ordering are all by *value*: `3 2^-1 == 6 2^-2`, both hash alike, and
//! `cmp` agrees with `==`. The stored pair `(m, e)` is not normalized (normalizing after every
//! addition would cost a shift per operation in the certificates' inner loops), so `Hash` hashes
//! the normalized pair and `Eq` compares values.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

use num_bigint::{BigInt, Sign};
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

use super::kernels::{Dir, frac_round as frac_round_bits, round_bits, shift_dir};

/// Direction of a rounding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Round {
    /// Towards `-inf`.
    Down,
    /// Towards `+inf`.
    Up,
    /// To the nearest representable value (ties toward +inf); for points, not for bounds.
    Nearest,
}

/// The exact value `m 2^e`; `==`, `Hash` and `cmp` are by value (`3 2^-1 == 6 2^-2`).
#[derive(Clone, Debug)]
pub struct Dyadic {
    m: BigInt,
    e: i64,
}

impl Default for Dyadic {
    fn default() -> Self {
        Self::zero()
    }
}

impl Dyadic {
    /// `0`.
    pub fn zero() -> Self {
        Self { m: BigInt::zero(), e: 0 }
    }

    /// `m 2^e`.
    pub fn new(m: BigInt, e: i64) -> Self {
        Self { m, e }
    }

    /// The integer `i`.
    pub fn from_int(i: i64) -> Self {
        Self { m: BigInt::from(i), e: 0 }
    }

    /// The fixed-point value `m 2^-w`.
    pub(crate) fn fixed(m: BigInt, w: u32) -> Self {
        Self { m, e: -i64::from(w) }
    }

    /// The mantissa `m` of `m 2^e` (as stored, not normalized).
    pub(crate) fn mantissa(&self) -> &BigInt {
        &self.m
    }

    /// The exponent `e` of `m 2^e` (as stored, not normalized).
    pub(crate) fn exponent(&self) -> i64 {
        self.e
    }

    /// The exact value of a finite binary64 (`None` for NaN and infinities).
    pub fn from_f64(x: f64) -> Option<Self> {
        if !x.is_finite() {
            return None;
        }
        if x == 0.0 {
            return Some(Self::zero());
        }
        let bits = x.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as i64;
        let frac = bits & ((1u64 << 52) - 1);
        let (mant, e) = if exp == 0 { (frac, -1074) } else { (frac | (1u64 << 52), exp - 1075) };
        let tz = mant.trailing_zeros();
        let mut m = BigInt::from(mant >> tz);
        if bits >> 63 == 1 {
            m = -m;
        }
        Some(Self { m, e: e + i64::from(tz) })
    }

    /// The exact value of a rational whose denominator is a power of two, else `None`.
    pub fn from_rational(q: &BigRational) -> Option<Self> {
        let d = q.denom();
        let k = d.bits().checked_sub(1)?;
        if d.trailing_zeros() != Some(k) {
            return None;
        }
        Some(Self { m: q.numer().clone(), e: -(k as i64) })
    }

    /// `q` itself if it is dyadic, else `q` rounded in `dir` to `prec` significant bits (the
    /// dyadic values of [`crate::exact::round_down`] / [`crate::exact::round_up`]; `Nearest`
    /// rounds down to `prec + 1` bits).
    pub fn from_rational_rounded(q: &BigRational, prec: u32, dir: Round) -> Self {
        if let Some(x) = Self::from_rational(q) {
            return x;
        }
        match dir {
            Round::Down => rat_round(q, prec, Dir::Down),
            Round::Up => rat_round(q, prec, Dir::Up),
            Round::Nearest => rat_round(q, prec + 1, Dir::Down),
        }
    }

    /// The exact rational value, built already reduced (no gcd is computed).
    pub fn to_rational(&self) -> BigRational {
        if self.m.is_zero() {
            return BigRational::zero();
        }
        let tz = self.m.trailing_zeros().unwrap_or(0);
        let m = &self.m >> tz;
        let e = self.e + tz as i64;
        if e >= 0 {
            BigRational::from_integer(m << e.unsigned_abs())
        } else {
            // m is odd here, so m / 2^-e is in lowest terms.
            BigRational::new_raw(m, BigInt::one() << e.unsigned_abs())
        }
    }

    /// `(numerator, denominator)` with denominator a positive power of two (not reduced).
    pub(crate) fn as_fraction(&self) -> (BigInt, BigInt) {
        if self.e >= 0 {
            (&self.m << self.e.unsigned_abs(), BigInt::one())
        } else {
            (self.m.clone(), BigInt::one() << self.e.unsigned_abs())
        }
    }

    /// Directed fixed-point value at scale `w`: `floor/ceil(self * 2^w)`.
    pub(crate) fn to_fixed(&self, w: u32, dir: Dir) -> BigInt {
        shift_dir(&self.m, self.e + i64::from(w), dir)
    }

    /// The same value with an odd mantissa (zero as `0 2^0`).
    pub fn normalized(&self) -> Self {
        if self.m.is_zero() {
            return Self::zero();
        }
        let tz = self.m.trailing_zeros().unwrap_or(0);
        if tz == 0 {
            return self.clone();
        }
        Self { m: &self.m >> tz as usize, e: self.e + tz as i64 }
    }

    /// `true` for zero.
    pub fn is_zero(&self) -> bool {
        self.m.is_zero()
    }

    /// `true` for values `< 0`.
    pub fn is_negative(&self) -> bool {
        self.m.is_negative()
    }

    /// `|x|`.
    pub fn abs(&self) -> Self {
        Self { m: self.m.abs(), e: self.e }
    }

    /// `-x`.
    pub fn neg(&self) -> Self {
        Self { m: -&self.m, e: self.e }
    }

    /// `x + y`, exact.
    pub fn add(&self, o: &Self) -> Self {
        let mut r = self.clone();
        r.add_assign(o);
        r
    }

    /// `x - y`, exact.
    pub fn sub(&self, o: &Self) -> Self {
        self.add(&o.neg())
    }

    /// `x += y`, exact (the exponent becomes the smaller of the two).
    pub fn add_assign(&mut self, o: &Self) {
        if o.m.is_zero() {
            return;
        }
        if self.m.is_zero() {
            *self = o.clone();
            return;
        }
        if self.e <= o.e {
            self.m += &o.m << (o.e - self.e) as usize;
        } else {
            self.m = (&self.m << (self.e - o.e) as usize) + &o.m;
            self.e = o.e;
        }
    }

    /// Exact sum of `terms`.
    pub fn sum<'a>(terms: impl IntoIterator<Item = &'a Dyadic>) -> Dyadic {
        let mut acc = Dyadic::zero();
        for t in terms {
            acc.add_assign(t);
        }
        acc
    }

    /// `x * y`, exact.
    pub fn mul(&self, o: &Self) -> Self {
        Self { m: &self.m * &o.m, e: self.e + o.e }
    }

    /// `x * k` for an integer `k`, exact.
    pub fn mul_int(&self, k: &BigInt) -> Self {
        Self { m: &self.m * k, e: self.e }
    }

    /// `x * 2^k`, exact.
    pub fn mul_pow2(&self, k: i64) -> Self {
        Self { m: self.m.clone(), e: self.e + k }
    }

    /// `x^2`, exact.
    pub fn square(&self) -> Self {
        self.mul(self)
    }

    /// Number of significant bits of the mantissa (after normalization).
    pub fn bits(&self) -> u64 {
        self.normalized().m.bits()
    }

    /// `x` rounded to at most `prec` significant bits (`prec >= 1`) in direction `dir`.
    pub fn round(&self, prec: u32, dir: Round) -> Self {
        match dir {
            Round::Down => self.round_dir(prec, Dir::Down),
            Round::Up => self.round_dir(prec, Dir::Up),
            Round::Nearest => {
                let p = u64::from(prec.max(1));
                let bits = self.m.bits();
                if bits <= p {
                    return self.clone();
                }
                let s = (bits - p) as usize;
                let floor = &self.m >> s; // BigInt `>>` rounds towards -inf
                let rem = &self.m - (&floor << s);
                let half = BigInt::one() << (s - 1);
                let m = if rem >= half { floor + 1 } else { floor };
                Self { m, e: self.e + s as i64 }
            }
        }
    }

    /// Directed rounding to at most `prec` significant bits (`prec >= 1`): [`Dyadic::round`]
    /// restricted to the directions of a bound.
    pub(crate) fn round_dir(&self, prec: u32, dir: Dir) -> Self {
        let (m, e) = round_bits(&self.m, self.e, prec, dir);
        Self { m, e }
    }

    /// A binary64 close to the value (relative error about `2^-52`; `+-inf` beyond the range).
    /// Not rigorous: for directed conversions use [`crate::exact::to_f64_down`] / `to_f64_up` on
    /// [`Dyadic::to_rational`].
    pub fn to_f64_approx(&self) -> f64 {
        if self.m.is_zero() {
            return 0.0;
        }
        let bits = self.m.bits() as i64;
        let s = (bits - 62).max(0);
        let top = (&self.m >> s as usize).to_i64().unwrap_or(0) as f64;
        scale_pow2(top, self.e + s)
    }

    /// The largest binary64 `<=` the value (`dir = Down`) or the smallest `>=` it (`Up`);
    /// rigorous. Beyond the range: `Down` gives `f64::MAX` above it and `-inf` below `-f64::MAX`
    /// (`Up` the mirror image); never `-0.0`. The same values as [`crate::exact::to_f64_down`] /
    /// [`crate::exact::to_f64_up`] of [`Dyadic::to_rational`], computed on the mantissa directly.
    pub fn to_f64_dir(&self, dir: Round) -> f64 {
        if self.m.is_zero() {
            return 0.0;
        }
        let r = self.round(53, dir);
        let x = scale_pow2(r.m.to_i64().unwrap_or(0) as f64, r.e);
        if x.is_normal() {
            return x; // a <= 53-bit mantissa times a power of two in the normal range: exact
        }
        let d = if dir == Round::Up { Dir::Up } else { Dir::Down };
        let neg = self.m.is_negative();
        if x.is_infinite() {
            // |value| rounded to 53 bits is >= 2^1024 (anything below is a finite binary64).
            return match (neg, d) {
                (false, Dir::Up) => f64::INFINITY,
                (false, Dir::Down) => f64::MAX,
                (true, Dir::Up) => -f64::MAX,
                (true, Dir::Down) => f64::NEG_INFINITY,
            };
        }
        // |value| < 2^-1022: on the subnormal grid `n 2^-1074`, `|n| <= 2^52`, which is exact.
        let n = shift_dir(&self.m, self.e + 1074, d);
        let mag = f64::from_bits(n.magnitude().to_u64().unwrap_or(0));
        if n.is_zero() {
            0.0
        } else if neg {
            -mag
        } else {
            mag
        }
    }

    /// Exact comparison: signs, then magnitudes' leading-bit positions, then aligned mantissas.
    pub fn cmp_exact(&self, o: &Self) -> Ordering {
        let (sa, sb) = (self.m.sign(), o.m.sign());
        if sa != sb || sa == Sign::NoSign {
            return sa.cmp(&sb);
        }
        let top_a = self.m.bits() as i64 + self.e;
        let top_b = o.m.bits() as i64 + o.e;
        let mag = if top_a != top_b {
            top_a.cmp(&top_b)
        } else {
            let e = self.e.min(o.e);
            let a = self.m.magnitude() << (self.e - e).unsigned_abs();
            let b = o.m.magnitude() << (o.e - e).unsigned_abs();
            a.cmp(&b)
        };
        if sa == Sign::Minus { mag.reverse() } else { mag }
    }

    /// The larger of two values.
    pub fn max_exact<'a>(&'a self, o: &'a Self) -> &'a Self {
        if self.cmp_exact(o) == Ordering::Less { o } else { self }
    }
}

/// `x 2^k` for binary64 `x`, in steps that neither overflow nor underflow early.
fn scale_pow2(mut x: f64, mut k: i64) -> f64 {
    while k > 1000 {
        x *= 2f64.powi(1000);
        k -= 1000;
        if x.is_infinite() {
            return x;
        }
    }
    while k < -1000 {
        x *= 2f64.powi(-1000);
        k += 1000;
        if x == 0.0 {
            return x;
        }
    }
    x * 2f64.powi(k as i32)
}

impl PartialEq for Dyadic {
    /// Equality of values (agrees with [`Ord`]).
    fn eq(&self, other: &Self) -> bool {
        self.cmp_exact(other) == Ordering::Equal
    }
}

impl Eq for Dyadic {}

impl Hash for Dyadic {
    /// Hashes the normalized pair (odd mantissa, zero as `0 2^0`), so equal values hash alike.
    fn hash<H: Hasher>(&self, state: &mut H) {
        let n = self.normalized();
        n.m.hash(state);
        n.e.hash(state);
    }
}

impl PartialOrd for Dyadic {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Dyadic {
    /// The exact order of values ([`Dyadic::cmp_exact`]).
    fn cmp(&self, other: &Self) -> Ordering {
        self.cmp_exact(other)
    }
}

/// Directed rounding of `n / d` (`d > 0`) to a dyadic with at most `prec` significant bits.
pub(crate) fn frac_round(n: &BigInt, d: &BigInt, prec: u32, dir: Dir) -> Dyadic {
    let (m, e) = frac_round_bits(n, d, prec, dir);
    Dyadic { m, e }
}

/// Directed rounding of a rational to a dyadic with at most `prec` significant bits.
pub(crate) fn rat_round(q: &BigRational, prec: u32, dir: Dir) -> Dyadic {
    frac_round(q.numer(), q.denom(), prec, dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f64_round_trip_is_exact() {
        for x in [0.1, -3.5, 1e-310, f64::MAX, -f64::MIN_POSITIVE, 1.0, 0.8 - 1.0] {
            let d = Dyadic::from_f64(x).unwrap();
            assert_eq!(d.to_rational(), BigRational::from_float(x).unwrap());
            assert_eq!(d.to_f64_approx(), x);
        }
    }

    #[test]
    fn rounding_directions() {
        let x = Dyadic::new(BigInt::from(0b1011_0111), -3);
        assert_eq!(x.round(4, Round::Down), Dyadic::new(BigInt::from(0b1011), 1));
        assert_eq!(x.round(4, Round::Up), Dyadic::new(BigInt::from(0b1100), 1));
        assert_eq!(x.round(4, Round::Nearest), Dyadic::new(BigInt::from(0b1011), 1));
        let y = x.neg();
        assert_eq!(y.round(4, Round::Down), Dyadic::new(BigInt::from(-0b1100), 1));
        assert_eq!(y.round(4, Round::Up), Dyadic::new(BigInt::from(-0b1011), 1));
        assert_eq!(y.round(4, Round::Nearest), Dyadic::new(BigInt::from(-0b1011), 1));
        assert_eq!(x.round_dir(4, Dir::Up), x.round(4, Round::Up));
    }

    #[test]
    fn comparison_is_exact() {
        let d = |m: i64, e: i64| Dyadic::new(BigInt::from(m), e);
        let mut v = [d(3, -1), d(-1, 5), d(0, 7), d(1, 0), d(6, -2), d(-3, -100), d(5, -3), d(1, -2000)];
        v.sort_by(Dyadic::cmp_exact);
        let r: Vec<BigRational> = v.iter().map(Dyadic::to_rational).collect();
        assert!(r.windows(2).all(|w| w[0] <= w[1]), "{r:?}");
        assert_eq!(d(3, -1).cmp_exact(&d(6, -2)), Ordering::Equal);
        assert_eq!(d(0, 7).cmp_exact(&d(0, -3)), Ordering::Equal);
    }

    #[test]
    fn sums_and_products_are_exact() {
        let a = Dyadic::from_f64(0.1).unwrap();
        let b = Dyadic::from_f64(1e-20).unwrap();
        let s = a.add(&b).mul(&a);
        let q = (BigRational::from_float(0.1).unwrap() + BigRational::from_float(1e-20).unwrap())
            * BigRational::from_float(0.1).unwrap();
        assert_eq!(s.to_rational(), q);
        assert_eq!(Dyadic::from_rational(&q).unwrap().to_rational(), q);
        assert!(Dyadic::from_rational(&BigRational::new(1.into(), 3.into())).is_none());
        assert_eq!(a.cmp_exact(&b), Ordering::Greater);
        assert_eq!(Dyadic::sum([&a, &b.neg(), &b]).to_rational(), a.to_rational());
    }
}
