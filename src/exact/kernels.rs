//! Internal kernels: directed integer shifts and divisions, fixed-point arithmetic on scaled
//! integers, and directed rounding of fractions onto mantissa-exponent pairs `(m, e)` for `m 2^e`.
//!
//! The first link of the module's chain (kernels -> dyadic -> interval -> functions): this file
//! works on plain integers only, and the number types of the later modules are built on it.
//! Every function here states its rounding direction; nothing rounds to nearest. A fixed-point
//! value at scale `w` is an integer `N` standing for `N * 2^-w`.

use std::cmp::Ordering;

use num_bigint::{BigInt, BigUint, Sign};
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

/// Rounding direction of one bound: `Down` toward `-inf`, `Up` toward `+inf` (the directed subset
/// of the public `Round` of the dyadic module, so the kernels never have to handle rounding to
/// nearest).
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

/// `q` compared with the integer `n`, by one small multiplication (no continued fraction).
pub(crate) fn cmp_rat_int(q: &BigRational, n: i64) -> Ordering {
    q.numer().cmp(&(q.denom() * n))
}

/// Directed rounding of `m 2^e` to at most `prec` significant bits (`prec >= 1`), as a new
/// `(m, e)` pair with the same sign.
pub(crate) fn round_bits(m: &BigInt, e: i64, prec: u32, dir: Dir) -> (BigInt, i64) {
    let b = m.bits();
    let p = u64::from(prec.max(1));
    if b <= p {
        return (m.clone(), e);
    }
    let s = b - p;
    (shr_dir(m, s, dir), e + s as i64)
}

/// Directed rounding of `n / d` (`d > 0`) to `(m, e)` with `m 2^e` having at most `prec`
/// significant bits.
///
/// With `t = bits(|n|) - bits(d)` we have `|n|/d in (2^(t-1), 2^(t+1))`, so
/// `floor/ceil(|n| 2^(prec-t) / d)` has `prec` or `prec + 1` bits and one more directed
/// shift (`floor(floor(x)/2) = floor(x/2)`, likewise for `ceil`) leaves at most `prec`.
pub(crate) fn frac_round(n: &BigInt, d: &BigInt, prec: u32, dir: Dir) -> (BigInt, i64) {
    debug_assert!(d.is_positive());
    if n.is_zero() {
        return (BigInt::zero(), 0);
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
    let (m, e) = round_bits(&m, -s, prec, mag_dir);
    if neg { (-m, e) } else { (m, e) }
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
    fn cmp_rat_int_is_exact() {
        assert_eq!(cmp_rat_int(&BigRational::new(BigInt::from(-7), BigInt::from(2)), -3), Ordering::Less);
        assert_eq!(cmp_rat_int(&BigRational::new(BigInt::from(6), BigInt::from(2)), 3), Ordering::Equal);
    }

    #[test]
    fn frac_round_brackets_one_third() {
        let (n, d) = (BigInt::from(1), BigInt::from(3));
        let value = |(m, e): (BigInt, i64)| BigRational::new(m, BigInt::one() << (-e) as usize);
        let lo = value(frac_round(&n, &d, 10, Dir::Down));
        let hi = value(frac_round(&n, &d, 10, Dir::Up));
        let third = BigRational::new(n, d);
        assert!(lo < third && third < hi);
        assert_eq!(&hi - &lo, BigRational::new(BigInt::from(1), BigInt::from(2048)));
        assert_eq!(frac_round(&BigInt::from(-1), &BigInt::from(3), 10, Dir::Up), (BigInt::from(-682), -11));
    }
}
