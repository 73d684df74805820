//! Binary64 enclosures: intervals `[lo, hi]` of `f64` whose every operation rounds outward, and the
//! rigorous error bound of a binary64 dot product. The fast tier of the endpoint certificate.
//!
//! **Outward rounding without rounding modes.** Rust computes in round-to-nearest. For an exact
//! real result `x` of one operation on binary64 operands, the computed `fl(x)` is the binary64
//! nearest to `x`, so `x` lies between `fl(x).next_down()` and `fl(x).next_up()` (both steps are
//! at least as large as the rounding error, subnormal results included). Every operation of
//! [`Fi`] therefore computes its end points in round-to-nearest and steps them one binary64
//! outward ([`dn`], [`up`]). Overflow gives infinities and invalid operations NaN; neither ever
//! decides a sign ([`Fi::sign`]) and the callers treat non-finite bounds as "no bound".
//!
//! **Dot products.** For `z = sum_t v_t w_t` summed left to right in binary64 (`T` terms), with
//! `a = fl(sum_t |v_t| |w_t|)` computed in the same loop, the standard bound (Higham, *Accuracy
//! and Stability of Numerical Algorithms*, 2nd ed., 2002, sec. 3.1, with the underflow model of
//! sec. 2.1) is `|fl(z) - z| <= gamma_T sum |v_t w_t| + T 2^-1075` with `gamma_T = T u / (1 - T u)`,
//! `u = 2^-53`, and `a >= (1 - gamma_T) sum |v_t w_t| - T 2^-1075`. For `T u <= 2^-20`,
//! `gamma_T / (1 - gamma_T) <= 1.01 T u`, so [`dot_radius`] `= 2 T u a + T 2^-1070` (itself rounded
//! up) bounds the error with room to spare.

use std::ops::{Add, Mul, Neg, Sub};

/// One binary64 down: a lower bound of the exact result whose round-to-nearest value is `x`.
#[inline(always)]
pub(crate) fn dn(x: f64) -> f64 {
    x.next_down()
}

/// One binary64 up: an upper bound of the exact result whose round-to-nearest value is `x`.
#[inline(always)]
pub(crate) fn up(x: f64) -> f64 {
    x.next_up()
}

/// An interval `[lo, hi]` of binary64 numbers enclosing one real number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fi {
    /// Lower bound.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
}

/// The certified sign of an enclosed number, as the error counts need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sign {
    /// Certainly `> 0`.
    Positive,
    /// Certainly `<= 0` (a training or test error).
    NonPositive,
    /// The enclosure contains 0 (and values `> 0`): not decided.
    Undecided,
}

impl Fi {
    /// `[0, 0]`.
    pub const ZERO: Fi = Fi { lo: 0.0, hi: 0.0 };

    /// The point `[x, x]` (exact).
    pub fn point(x: f64) -> Fi {
        Fi { lo: x, hi: x }
    }

    /// `[c - r, c + r]` rounded outward (`r >= 0`); the whole line `[-inf, inf]` if `c` or `r` is
    /// not finite (so a NaN never turns into a bound downstream).
    pub fn around(c: f64, r: f64) -> Fi {
        if !(c.is_finite() && r.is_finite()) {
            return Fi { lo: f64::NEG_INFINITY, hi: f64::INFINITY };
        }
        Fi { lo: dn(c - r), hi: up(c + r) }
    }

    /// The exact `1 / n` enclosed.
    pub fn recip_int(n: usize) -> Fi {
        let q = 1.0 / n as f64;
        Fi { lo: dn(q), hi: up(q) }
    }

    /// Whether both bounds are finite (and neither is NaN).
    pub fn is_finite(&self) -> bool {
        self.lo.is_finite() && self.hi.is_finite()
    }

    /// The sign of every number in the interval, if it is the same.
    pub fn sign(&self) -> Sign {
        if self.lo > 0.0 {
            Sign::Positive
        } else if self.hi <= 0.0 {
            Sign::NonPositive
        } else {
            Sign::Undecided
        }
    }

    /// `{x c}` for an exact binary64 `c`.
    #[inline(always)]
    pub fn scale(self, c: f64) -> Fi {
        let (a, b) = (self.lo * c, self.hi * c);
        if c >= 0.0 { Fi { lo: dn(a), hi: up(b) } } else { Fi { lo: dn(b), hi: up(a) } }
    }

    /// `{max(0, x)^k}` for `k >= 0` (increasing in `x`; `[1, 1]` for `k = 0`).
    pub fn relu_pow(self, k: u32) -> Fi {
        // A NaN end carries no information: 0 is a lower bound anyway, +inf the only upper one.
        let hi = if self.hi.is_nan() { f64::INFINITY } else { pow_up(self.hi.max(0.0), k) };
        Fi { lo: pow_down(self.lo.max(0.0), k), hi }
    }

    /// `{|x|^2}` as `[mig^2, mag^2]`, rounded outward.
    pub fn mig_mag(self) -> (f64, f64) {
        let mig = if self.lo > 0.0 {
            self.lo
        } else if self.hi < 0.0 {
            -self.hi
        } else {
            0.0
        };
        (mig, self.lo.abs().max(self.hi.abs()))
    }
}

impl Neg for Fi {
    type Output = Fi;
    /// `{-x}` (exact).
    fn neg(self) -> Fi {
        Fi { lo: -self.hi, hi: -self.lo }
    }
}

impl Add for Fi {
    type Output = Fi;
    /// `{x + y}`.
    #[inline(always)]
    fn add(self, o: Fi) -> Fi {
        Fi { lo: dn(self.lo + o.lo), hi: up(self.hi + o.hi) }
    }
}

impl Sub for Fi {
    type Output = Fi;
    /// `{x - y}`.
    #[inline(always)]
    fn sub(self, o: Fi) -> Fi {
        Fi { lo: dn(self.lo - o.hi), hi: up(self.hi - o.lo) }
    }
}

impl Mul for Fi {
    type Output = Fi;
    /// `{x y}`: hull of the four end-point products.
    fn mul(self, o: Fi) -> Fi {
        let p = [self.lo * o.lo, self.lo * o.hi, self.hi * o.lo, self.hi * o.hi];
        let lo = p.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if p.iter().any(|x| x.is_nan()) {
            return Fi { lo: f64::NAN, hi: f64::NAN };
        }
        Fi { lo: dn(lo), hi: up(hi) }
    }
}

/// A lower bound of `x^k` for `x >= 0` (never below 0).
fn pow_down(x: f64, k: u32) -> f64 {
    let mut r = 1.0;
    for _ in 0..k {
        r = dn(r * x).max(0.0);
    }
    r
}

/// An upper bound of `x^k` for `x >= 0`.
fn pow_up(x: f64, k: u32) -> f64 {
    let mut r = 1.0;
    for _ in 0..k {
        r = up(r * x);
    }
    if x == 0.0 && k > 0 { 0.0 } else { r }
}

/// A bound on `|fl(z) - z|` for a dot product of `terms` terms summed in binary64, given
/// `a = fl(sum |v_t| |w_t|)` from the same loop (see the module doc); rounded up.
#[inline(always)]
pub(crate) fn dot_radius(terms: usize, a: f64) -> f64 {
    // 2 T u = T 2^-52 is exact for T < 2^52; the product and the sum are rounded, then stepped up.
    if terms > 1 << 30 {
        return f64::INFINITY; // outside the range of the bound (T u <= 2^-20)
    }
    let t = terms as f64;
    up(up(t * f64::EPSILON * a) + t * TINY)
}

/// `2^-1070`: the absolute part of [`dot_radius`] per term (covers underflowing products).
const TINY: f64 = f64::from_bits(16);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_is_two_to_minus_1070() {
        assert_eq!(TINY, 2f64.powi(-1070));
    }

    #[test]
    fn outward_operations_contain_the_exact_result() {
        let third = Fi::point(1.0).scale(1.0 / 3.0);
        assert!(third.lo < third.hi);
        let q = |x: f64| num_rational::BigRational::from_float(x).expect("finite");
        let x = Fi::point(0.1) + Fi::point(0.2);
        let exact = q(0.1) + q(0.2);
        assert!(q(x.lo) < exact && exact < q(x.hi) && x.lo <= 0.1 + 0.2 && 0.1 + 0.2 <= x.hi);
        // A non-finite center or radius encloses nothing: the whole line.
        for (c, r) in [(f64::NAN, 1.0), (1.0, f64::INFINITY), (f64::INFINITY, 0.0)] {
            let z = Fi::around(c, r);
            assert_eq!((z.lo, z.hi), (f64::NEG_INFINITY, f64::INFINITY));
            assert_eq!(z.relu_pow(3).hi, f64::INFINITY);
        }
        assert_eq!((Fi { lo: -1.0, hi: 2.0 } * Fi { lo: -3.0, hi: 1.0 }).lo, dn(-6.0));
        assert_eq!(Fi { lo: -1.0, hi: 2.0 }.relu_pow(3).lo, 0.0);
        assert_eq!(Fi { lo: 0.0, hi: 0.0 }.relu_pow(3), Fi::ZERO);
        assert_eq!(Fi::around(0.0, 0.0).sign(), Sign::Undecided);
        assert_eq!(Fi { lo: f64::NAN, hi: f64::NAN }.sign(), Sign::Undecided);
        assert_eq!(Fi { lo: -2.0, hi: 0.0 }.sign(), Sign::NonPositive);
    }
}
