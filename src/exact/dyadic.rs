//! Internal kernels: directed integer shifts and divisions, fixed-point arithmetic on scaled
//! integers, and the dyadic number type [`Dy`] (`m * 2^e`).
//!
//! Every function here states its rounding direction; nothing rounds to nearest. A fixed-point
//! value at scale `w` is an integer `N` standing for `N * 2^-w`.

use std::cmp::Ordering;

use num_bigint::{BigInt, BigUint, Sign};
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

/// Rounding direction of one bound: `Down` toward `-inf`, `Up` toward `+inf`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dir {
    Down,
    Up,
}

impl Dir {
    pub(crate) fn flip(self) -> Dir {
        match self {
            Dir::Down => Dir::Up,
            Dir::Up => Dir::Down,
        }
    }
}

/// `floor(m / 2^s)` (`Down`) or `ceil(m / 2^s)` (`Up`), for any sign of `m`.
pub(crate) fn shr_dir(m: &BigInt, s: u64, dir: Dir) -> BigInt {
    if s == 0 || m.is_zero() {
        return m.clone();
    }
    let neg = m.is_negative();
    let mag: &BigUint = m.magnitude();
    let q: BigUint = mag >> s;
    let exact = mag.trailing_zeros().is_none_or(|tz| tz >= s);
    // Rounding the magnitude up moves a positive value up and a negative one down.
    let away = !exact && ((dir == Dir::Up) != neg);
    let q = if away { q + 1u32 } else { q };
    BigInt::from_biguint(if neg { Sign::Minus } else { Sign::Plus }, q)
}

/// `m * 2^s` for `s >= 0` and directed `m / 2^-s` for `s < 0`.
pub(crate) fn shift_dir(m: &BigInt, s: i64, dir: Dir) -> BigInt {
    if s >= 0 { m << s.unsigned_abs() } else { shr_dir(m, s.unsigned_abs(), dir) }
}

/// `floor(a / b)` or `ceil(a / b)`; `b > 0` (callers guarantee it).
pub(crate) fn div_dir(a: &BigInt, b: &BigInt, dir: Dir) -> BigInt {
    debug_assert!(b.is_positive());
    match dir {
        Dir::Down => a.div_floor(b),
        Dir::Up => -((-a).div_floor(b)),
    }
}

/// `floor(a / k)` or `ceil(a / k)` for `a >= 0` and a small divisor `k > 0` (single-limb division).
pub(crate) fn div_small(a: &BigInt, k: u64, dir: Dir) -> BigInt {
    debug_assert!(!a.is_negative() && k > 0);
    let mag = a.magnitude();
    let q = match dir {
        Dir::Down => mag / k,
        Dir::Up => (mag + (k - 1)) / k,
    };
    BigInt::from(q)
}

/// `2^w` as an integer: the fixed-point representation of 1 at scale `w`.
pub(crate) fn fixed_one(w: u32) -> BigInt {
    BigInt::one() << w
}

/// Directed fixed-point product: `floor/ceil(a * b / 2^w)`.
pub(crate) fn mul_fixed(a: &BigInt, b: &BigInt, w: u32, dir: Dir) -> BigInt {
    shr_dir(&(a * b), u64::from(w), dir)
}

/// Directed fixed-point value of a rational: `floor/ceil(q * 2^w)`.
pub(crate) fn rat_to_fixed(q: &BigRational, w: u32, dir: Dir) -> BigInt {
    div_dir(&(q.numer() << w), q.denom(), dir)
}

/// Bit length of `|i|` (0 for 0), as `i64`.
pub(crate) fn bits_i64(i: i64) -> u32 {
    64 - i.unsigned_abs().leading_zeros()
}

/// A dyadic number `m * 2^e`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Dy {
    pub(crate) m: BigInt,
    pub(crate) e: i64,
}

impl Dy {
    pub(crate) fn zero() -> Dy {
        Dy { m: BigInt::zero(), e: 0 }
    }

    pub(crate) fn one() -> Dy {
        Dy { m: BigInt::one(), e: 0 }
    }

    /// The fixed-point value `m * 2^-w`.
    pub(crate) fn fixed(m: BigInt, w: u32) -> Dy {
        Dy { m, e: -i64::from(w) }
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.m.is_zero()
    }

    pub(crate) fn is_negative(&self) -> bool {
        self.m.is_negative()
    }

    pub(crate) fn neg(&self) -> Dy {
        Dy { m: -&self.m, e: self.e }
    }

    pub(crate) fn abs(&self) -> Dy {
        Dy { m: self.m.abs(), e: self.e }
    }

    /// Exact product.
    pub(crate) fn mul(&self, o: &Dy) -> Dy {
        Dy { m: &self.m * &o.m, e: self.e + o.e }
    }

    /// Exact product with `2^k`.
    pub(crate) fn mul_pow2(&self, k: i64) -> Dy {
        Dy { m: self.m.clone(), e: self.e + k }
    }

    /// Directed rounding to at most `prec` significant bits (`prec >= 1`).
    pub(crate) fn round(&self, prec: u32, dir: Dir) -> Dy {
        let b = self.m.bits();
        let p = u64::from(prec.max(1));
        if b <= p {
            return self.clone();
        }
        let s = b - p;
        Dy { m: shr_dir(&self.m, s, dir), e: self.e + s as i64 }
    }

    /// Directed fixed-point value at scale `w`: `floor/ceil(self * 2^w)`.
    pub(crate) fn to_fixed(&self, w: u32, dir: Dir) -> BigInt {
        shift_dir(&self.m, self.e + i64::from(w), dir)
    }

    /// `(numerator, denominator)` with denominator a positive power of two (not reduced).
    pub(crate) fn as_fraction(&self) -> (BigInt, BigInt) {
        if self.e >= 0 {
            (&self.m << self.e.unsigned_abs(), BigInt::one())
        } else {
            (self.m.clone(), BigInt::one() << self.e.unsigned_abs())
        }
    }

    /// The exact rational value, built already reduced (no gcd is computed).
    pub(crate) fn to_rational(&self) -> BigRational {
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
}

/// `q` compared with the integer `n`, by one small multiplication (no continued fraction).
pub(crate) fn cmp_rat_int(q: &BigRational, n: i64) -> Ordering {
    q.numer().cmp(&(q.denom() * n))
}

impl PartialOrd for Dy {
    fn partial_cmp(&self, o: &Dy) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Dy {
    /// Exact comparison: signs, then magnitudes' leading-bit positions, then aligned mantissas.
    fn cmp(&self, o: &Dy) -> Ordering {
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
}

/// Directed rounding of `n / d` (`d > 0`) to a dyadic with at most `prec` significant bits.
///
/// With `t = bits(|n|) - bits(d)` we have `|n|/d in (2^(t-1), 2^(t+1))`, so
/// `floor/ceil(|n| 2^(prec-t) / d)` has `prec` or `prec + 1` bits and one more directed
/// shift (`floor(floor(x)/2) = floor(x/2)`, likewise for `ceil`) leaves at most `prec`.
pub(crate) fn frac_round(n: &BigInt, d: &BigInt, prec: u32, dir: Dir) -> Dy {
    debug_assert!(d.is_positive());
    if n.is_zero() {
        return Dy::zero();
    }
    let prec = prec.max(1);
    let neg = n.is_negative();
    let mag_dir = if neg { dir.flip() } else { dir };
    let nm = n.abs();
    let t = nm.bits() as i64 - d.bits() as i64;
    let s = i64::from(prec) - t;
    let m = if s >= 0 {
        div_dir(&(&nm << s.unsigned_abs()), d, mag_dir)
    } else {
        div_dir(&nm, &(d << s.unsigned_abs()), mag_dir)
    };
    let r = Dy { m, e: -s }.round(prec, mag_dir);
    if neg { r.neg() } else { r }
}

/// Directed rounding of a rational to at most `prec` significant bits.
pub(crate) fn rat_round(q: &BigRational, prec: u32, dir: Dir) -> Dy {
    frac_round(q.numer(), q.denom(), prec, dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shr_dir_floor_and_ceil_for_both_signs() {
        let c = |m: i64, s: u64, dir: Dir| shr_dir(&BigInt::from(m), s, dir);
        assert_eq!(c(7, 1, Dir::Down), BigInt::from(3));
        assert_eq!(c(7, 1, Dir::Up), BigInt::from(4));
        assert_eq!(c(-7, 1, Dir::Down), BigInt::from(-4));
        assert_eq!(c(-7, 1, Dir::Up), BigInt::from(-3));
        assert_eq!(c(-8, 2, Dir::Up), BigInt::from(-2));
        assert_eq!(c(-8, 2, Dir::Down), BigInt::from(-2));
        assert_eq!(c(1, 100, Dir::Up), BigInt::from(1));
        assert_eq!(c(-1, 100, Dir::Down), BigInt::from(-1));
        assert_eq!(c(-1, 100, Dir::Up), BigInt::from(0));
    }

    #[test]
    fn dyadic_comparison_is_exact() {
        let d = |m: i64, e: i64| Dy { m: BigInt::from(m), e };
        let mut v = vec![d(3, -1), d(-1, 5), d(0, 7), d(1, 0), d(6, -2), d(-3, -100), d(5, -3), d(1, -2000)];
        v.sort();
        let r: Vec<BigRational> = v.iter().map(Dy::to_rational).collect();
        assert!(r.windows(2).all(|w| w[0] <= w[1]), "{r:?}");
        assert_eq!(d(3, -1).cmp(&d(6, -2)), Ordering::Equal);
        assert_eq!(cmp_rat_int(&BigRational::new(BigInt::from(-7), BigInt::from(2)), -3), Ordering::Less);
    }

    #[test]
    fn frac_round_brackets_one_third() {
        let (n, d) = (BigInt::from(1), BigInt::from(3));
        let lo = frac_round(&n, &d, 10, Dir::Down).to_rational();
        let hi = frac_round(&n, &d, 10, Dir::Up).to_rational();
        let third = BigRational::new(n, d);
        assert!(lo < third && third < hi);
        assert_eq!(&hi - &lo, BigRational::new(BigInt::from(1), BigInt::from(2048)));
    }
}
