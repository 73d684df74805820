//! The transcendental functions of the logistic loss in double-double: `exp`, `expm1`, `ln1p` and
//! the pair `(softplus(z), sigmoid(z))`, accurate to about `2^-100` relative (checked against the
//! certified enclosures of [`crate::exact`] in `tests/precision.rs`).
//!
//! * `exp(x) = 2^k exp(r)`, `k = round(x / ln 2)`, `r = x - k ln 2` with `ln 2` as three binary64
//!   words (`k ln 2` is then exact to `2^-159 |k|`, and the subtractions are double-double, so `r`
//!   carries a relative error of a few `u^2`). Then `s = r / 2^9` (`|s| < 6.8e-4`),
//!   `expm1(s) = s + s^2/2! + ... + s^9/9!` by Horner's rule (the first omitted term is below
//!   `10^-35 |s|`), and nine doublings `expm1(2t) = 2 expm1(t) + expm1(t)^2`, which keep the
//!   result in `expm1` form so that small results keep their relative accuracy.
//! * `ln1p(e)`: the binary64 `ln_1p(hi) + lo / (1 + hi)` as a start (about `2^-52` relative) and one
//!   Newton step on `expm1(y) = e`, `y <- y - (expm1(y) - e) / (1 + expm1(y))`, which squares the
//!   relative error (to about `2^-104`) up to the error of `expm1`.
//! * `softplus(z) = log(1 + exp(z))` and `sigmoid(z) = 1 / (1 + exp(-z))` share one `exp(-|z|)`
//!   and take the same branches as the binary64 `softplus_sigmoid` of the model.
//!
//! Range: `exp` returns `+inf` above `709.78` and `0` below `-745.2`; between `-745.2` and
//! `-708.4` the result is subnormal and its low word is lost (binary64's own underflow). The loss
//! only needs `exp(-|z|)`, which is then below `10^-307`, far below `2^-106` of the terms it is
//! added to.

use super::dd::{Dd, pow2, two_prod};

/// `ln 2 = LN2[0] + LN2[1] + LN2[2] + O(2^-160)` (checked against [`crate::exact::ln2`]).
pub const LN2: [f64; 3] = [std::f64::consts::LN_2, 2.3190468138462996e-17, 5.707708438416212e-34];

/// Terms of the Taylor polynomial of `expm1(s)` (up to `s^9 / 9!`).
const TAYLOR_TERMS: u32 = 9;
/// Doublings after the Taylor polynomial (`s = r / 2^9`).
const DOUBLINGS: i32 = 9;

/// `(k, r)` with `x = k ln 2 + r`, `|r| <= ln 2 / 2` (up to rounding), `k` an integer.
#[inline(always)]
fn reduce(x: Dd) -> (i32, Dd) {
    let k = (x.hi / LN2[0]).round();
    if k == 0.0 {
        return (0, x);
    }
    let (p0, e0) = two_prod(k, LN2[0]);
    let (p1, e1) = two_prod(k, LN2[1]);
    let r = x.sub(Dd { hi: p0, lo: e0 }).sub(Dd { hi: p1, lo: e1 }).add_f64(-k * LN2[2]);
    (k as i32, r)
}

/// `expm1(r)` for `|r| <= 0.35` (the reduced argument).
#[inline(always)]
fn expm1_reduced(r: Dd) -> Dd {
    let s = r.ldexp(-DOUBLINGS);
    // Horner: t = 1 + s/2 (1 + s/3 (1 + ... (1 + s/9))), expm1(s) = s t.
    let mut t = Dd::ONE;
    for k in (2..=TAYLOR_TERMS).rev() {
        t = Dd::ONE.add(s.mul(t).div(Dd::from_f64(f64::from(k))));
    }
    let mut e = s.mul(t);
    for _ in 0..DOUBLINGS {
        e = e.ldexp(1).add(e.mul(e));
    }
    e
}

/// [`Dd::exp`].
#[inline(always)]
fn exp_body(x: Dd) -> Dd {
    if x.hi.is_nan() {
        return x;
    }
    if x.hi > 709.79 {
        return Dd::from_f64(f64::INFINITY);
    }
    if x.hi < -745.2 {
        return Dd::ZERO;
    }
    let (k, r) = reduce(x);
    let e = Dd::ONE.add(expm1_reduced(r));
    // Scale in two halves so that 2^k itself never leaves the normal range.
    let (k1, k2) = (k / 2, k - k / 2);
    let f = pow2(k1);
    let g = pow2(k2);
    Dd { hi: e.hi * f * g, lo: e.lo * f * g }
}

/// [`Dd::expm1`].
#[inline(always)]
fn expm1_body(x: Dd) -> Dd {
    if x.hi.abs() <= 0.34 { expm1_reduced(x) } else { exp_body(x).sub(Dd::ONE) }
}

/// [`Dd::ln1p`].
#[inline(always)]
fn ln1p_body(x: Dd) -> Dd {
    if x.hi == 0.0 || !x.is_finite() {
        return x;
    }
    // The binary64 start, with the low word's first-order term so that it is accurate to
    // binary64 relative to the result also near x = -1.
    let y0 = Dd::from_f64(x.hi.ln_1p() + x.lo / (1.0 + x.hi));
    let e0 = expm1_body(y0);
    y0.sub(e0.sub(x).div(Dd::ONE.add(e0)))
}

/// [`Dd::softplus_sigmoid`].
#[inline(always)]
fn softplus_sigmoid_body(z: Dd) -> (Dd, Dd) {
    if z.hi > 0.0 {
        let e = exp_body(z.neg());
        (z.add(ln1p_body(e)), Dd::ONE.div(Dd::ONE.add(e)))
    } else {
        let e = exp_body(z);
        let sg = if z.hi >= 0.0 { Dd::ONE.div(Dd::ONE.add(e)) } else { e.div(Dd::ONE.add(e)) };
        (ln1p_body(e), sg)
    }
}

// Each function through a copy compiled with FMA when the CPU has it (the exact products of the
// polynomial and the Newton step are then one instruction instead of a call; same bits).
crate::fma_dispatch! { fn exp_dispatch(x: Dd) -> Dd => exp_body }
crate::fma_dispatch! { fn expm1_dispatch(x: Dd) -> Dd => expm1_body }
crate::fma_dispatch! { fn ln1p_dispatch(x: Dd) -> Dd => ln1p_body }
crate::fma_dispatch! { fn softplus_sigmoid_dispatch(z: Dd) -> (Dd, Dd) => softplus_sigmoid_body }

impl Dd {
    /// `e^x` (see the module doc; `+inf` above `709.78`, `0` below `-745.2`).
    pub fn exp(self) -> Dd {
        exp_dispatch(self)
    }

    /// `e^x - 1`, accurate relative to the result also for small `|x|`.
    pub fn expm1(self) -> Dd {
        expm1_dispatch(self)
    }

    /// `ln(1 + x)` for `x > -1`, accurate to about `2^-100` relative for `x > -0.9` (tested; the loss
    /// needs `0 <= x <= 1`); closer to `-1` the error grows like `2^-102 / (1 + x)` (the Newton
    /// step's residual `expm1(y) - x` cancels).
    pub fn ln1p(self) -> Dd {
        ln1p_dispatch(self)
    }

    /// `(log(1 + exp(z)), 1 / (1 + exp(-z)))` sharing one `exp(-|z|)`, with the branches of the
    /// binary64 version: `z + ln1p(e), 1 / (1 + e)` with `e = exp(-z)` for `z > 0`; `ln1p(e)` and
    /// `e / (1 + e)` (or `1 / (1 + e)` at `z = 0`) with `e = exp(z)` otherwise.
    pub fn softplus_sigmoid(self) -> (Dd, Dd) {
        softplus_sigmoid_dispatch(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_and_ln1p_invert_each_other() {
        for x in [-30.0, -2.5, -0.3, -1e-9, 1e-12, 0.2, 1.0, 7.5] {
            let e = Dd::from_f64(x).exp();
            let back = e.sub(Dd::ONE).ln1p();
            let err = back.sub(Dd::from_f64(x)).hi.abs();
            assert!(err <= 1e-29 * x.abs().max(1.0) / e.hi.clamp(1e-13, 1.0), "x={x}: {err}");
        }
        assert_eq!(Dd::from_f64(0.0).exp(), Dd::ONE);
        assert_eq!(Dd::from_f64(-800.0).exp(), Dd::ZERO);
        assert!(Dd::from_f64(710.0).exp().hi.is_infinite());
    }

    #[test]
    fn softplus_sigmoid_match_binary64_to_its_precision() {
        for z in [-40.0, -3.0, -0.5, 0.0, 0.25, 2.0, 35.0] {
            let (sp, sg) = Dd::from_f64(z).softplus_sigmoid();
            let (fsp, fsg) = (crate::model::softplus(z), crate::model::sigmoid(z));
            assert!((sp.hi - fsp).abs() <= 4.0 * f64::EPSILON * fsp.abs(), "z={z}");
            assert!((sg.hi - fsg).abs() <= 4.0 * f64::EPSILON * fsg.abs(), "z={z}");
        }
    }
}
