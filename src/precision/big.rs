//! The ladder's high precision: binary floats with a 256-bit significand, built on the exact
//! dyadic numbers of [`crate::exact`] and rounded to nearest after every operation.
//!
//! * `+`, `-`, `*`: the exact dyadic result ([`Dyadic`]), rounded to 256 bits (error `<= 2^-256`
//!   relative).
//! * `/` and `sqrt`: an integer quotient or root with at least 258 bits and a sticky bit, then
//!   rounded to 256 bits (correctly rounded).
//! * `softplus` and `sigmoid`: the midpoints of the certified enclosures of
//!   [`crate::exact::softplus`] and [`crate::exact::sigmoid`] at 300 bits (relative width below
//!   `2^-297`), rounded to 256 bits.
//!
//! There is no exponent range to leave (no overflow, no underflow) and no infinity or NaN. Slow:
//! each operation allocates. It serves the precision ladder on a small setting.

use std::cmp::Ordering;

use num_bigint::BigInt;
use num_traits::{Signed, Zero};

use crate::exact::{Dyadic, Interval, Round};

use super::dd::Dd;

/// Significant bits of a [`Big`].
pub const BIG_BITS: u32 = 256;
/// Bits of the enclosures behind `softplus` and `sigmoid`.
const FUNCTION_BITS: u32 = 300;

/// A 256-bit binary float (see the module doc).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Big(Dyadic);

fn round(d: Dyadic) -> Big {
    Big(d.round(BIG_BITS, Round::Nearest))
}

/// `m 2^e` with one sticky bit appended when `inexact` (so that the final rounding to nearest of a
/// truncated value with at least two extra bits is correct).
fn with_sticky(m: BigInt, e: i64, inexact: bool) -> Dyadic {
    if inexact {
        let sign = if m.is_negative() { -1 } else { 1 };
        Dyadic::new((m << 1usize) + sign, e - 1)
    } else {
        Dyadic::new(m, e)
    }
}

impl Big {
    /// The exact value of a finite binary64 (non-finite values give 0; the ladder never makes them).
    pub fn from_f64(x: f64) -> Self {
        Big(Dyadic::from_f64(x).unwrap_or_default())
    }

    /// A double-double value (exact up to a 256-bit rounding when the words are far apart).
    pub fn from_dd(x: Dd) -> Self {
        round(Self::from_f64(x.hi).0.add(&Self::from_f64(x.lo).0))
    }

    /// The exact dyadic value.
    pub fn dyadic(&self) -> &Dyadic {
        &self.0
    }

    /// The nearest binary64.
    pub fn to_f64(&self) -> f64 {
        self.0.round(53, Round::Nearest).to_f64_approx()
    }

    /// `x + y`.
    pub fn add(&self, y: &Self) -> Self {
        round(self.0.add(&y.0))
    }

    /// `x - y`.
    pub fn sub(&self, y: &Self) -> Self {
        round(self.0.sub(&y.0))
    }

    /// `x y`.
    pub fn mul(&self, y: &Self) -> Self {
        round(self.0.mul(&y.0))
    }

    /// `-x`.
    pub fn neg(&self) -> Self {
        Big(self.0.neg())
    }

    /// `x / y`, correctly rounded (`y = 0` gives 0: never used so).
    pub fn div(&self, y: &Self) -> Self {
        let (x, y) = (self.0.normalized(), y.0.normalized());
        if y.is_zero() || x.is_zero() {
            return Big::default();
        }
        let (mx, ex) = (x.mantissa().clone(), x.exponent());
        let (my, ey) = (y.mantissa().clone(), y.exponent());
        let shift = (i64::from(BIG_BITS) + 2 + my.bits() as i64 - mx.bits() as i64).max(0) + 1;
        let num = mx << shift as usize;
        let q = &num / &my;
        let inexact = !(&num % &my).is_zero();
        round(with_sticky(q, ex - ey - shift, inexact))
    }

    /// `sqrt(x)` for `x >= 0`, correctly rounded (negative input gives 0: never used so).
    pub fn sqrt(&self) -> Self {
        let x = self.0.normalized();
        if x.is_zero() || x.is_negative() {
            return Big::default();
        }
        let (m, e) = (x.mantissa().clone(), x.exponent());
        let mut shift = (2 * i64::from(BIG_BITS) + 6 - m.bits() as i64).max(0);
        if (e - shift).rem_euclid(2) != 0 {
            shift += 1;
        }
        let a = m << shift as usize;
        let r = a.sqrt();
        let inexact = &r * &r != a;
        round(with_sticky(r, (e - shift) / 2, inexact))
    }

    /// `x^n` by binary powering, rounding after every product.
    pub fn powi(&self, mut n: u32) -> Self {
        let (mut base, mut acc) = (self.clone(), Big::from_f64(1.0));
        while n > 0 {
            if n & 1 == 1 {
                acc = acc.mul(&base);
            }
            n >>= 1;
            if n > 0 {
                base = base.mul(&base);
            }
        }
        acc
    }

    /// The sign against 0.
    pub fn cmp_zero(&self) -> Ordering {
        self.0.cmp_exact(&Dyadic::zero())
    }

    /// `(softplus(z), sigmoid(z))` from the certified enclosures (see the module doc).
    pub fn softplus_sigmoid(&self) -> (Self, Self) {
        let x = Interval::point(self.0.to_rational());
        let mid = |i: Interval| {
            let q = i.mid();
            round(Dyadic::from_rational_rounded(&q, BIG_BITS + 8, Round::Nearest))
        };
        (mid(crate::exact::softplus(&x, FUNCTION_BITS)), mid(crate::exact::sigmoid(&x, FUNCTION_BITS)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_and_root_are_correctly_rounded_on_simple_cases() {
        let third = Big::from_f64(1.0).div(&Big::from_f64(3.0));
        let back = third.mul(&Big::from_f64(3.0)).sub(&Big::from_f64(1.0));
        assert!(back.to_f64().abs() <= 2f64.powi(-255), "{back:?}");
        let r = Big::from_f64(2.0).sqrt();
        let sq = r.mul(&r).sub(&Big::from_f64(2.0));
        assert!(sq.to_f64().abs() <= 2f64.powi(-253), "{sq:?}");
        assert_eq!(Big::from_f64(9.0).sqrt().to_f64(), 3.0);
        assert_eq!(Big::from_f64(-6.0).div(&Big::from_f64(4.0)).to_f64(), -1.5);
        assert_eq!(Big::from_f64(1.5).powi(3).to_f64(), 3.375);
    }

    #[test]
    fn logistic_pair_matches_binary64() {
        for z in [-20.0, -1.0, 0.0, 0.5, 12.0] {
            let (sp, sg) = Big::from_f64(z).softplus_sigmoid();
            assert!((sp.to_f64() - crate::model::softplus(z)).abs() <= 4e-16 * sp.to_f64().abs());
            assert!((sg.to_f64() - crate::model::sigmoid(z)).abs() <= 4e-16 * sg.to_f64().abs());
        }
    }
}
