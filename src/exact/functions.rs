//! Certified enclosures of `exp`, `ln`, `ln 2`, softplus and the sigmoid.
//!
//! Every function `f(x, prec)` returns an interval containing `f(t)` for **every** `t` in `x`.
//! All functions here are monotone, so the lower end is a lower bound of `f(x.lo)` and the upper
//! end an upper bound of `f(x.hi)` (reversed for decreasing maps). Each bound is computed on scaled
//! integers at a working precision `w = prec + GUARD_BITS` (plus what range reduction needs), with
//! every rounding directed, then rounded outward to `prec` significant bits. For a point input
//! the result's relative width is below `2^(3-prec)` (outward rounding of the two ends costs at
//! most `2^(2-prec)`; the working error is about `2^-(prec+20)`), except in the saturated ranges
//! documented on [`LOGISTIC_SATURATION`] and [`EXP_ARG_LIMIT`].
//!
//! The last link of the module's chain (kernels -> dyadic -> interval -> functions).

use std::cell::RefCell;
use std::cmp::Ordering;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

use super::dyadic::{Dyadic, Round, frac_round};
use super::error::ExactError;
use super::interval::Interval;
use super::kernels::{Dir, bits_i64, cmp_rat_int, div_small, fixed_one, mul_fixed, rat_to_fixed, shr_dir};

/// Extra bits carried by every kernel above the requested precision.
pub const GUARD_BITS: u32 = 32;

/// `exp` accepts arguments up to this bound (`exp(65536) < 2^94549`); above it
/// [`exp`] returns [`ExactError::ExpOverflow`]. Below `-EXP_ARG_LIMIT` the lower bound is `0`
/// and the upper bound is that of `exp(-EXP_ARG_LIMIT)` (monotonicity), so tiny values stay sound
/// but are no longer relatively tight.
pub const EXP_ARG_LIMIT: u32 = 65_536;

/// Softplus and the sigmoid compute `e^{-|z|}` exactly only for `|z| <= 1024`. Beyond it they use
/// `e^{-|z|} in [0, U]` with `U` a certified upper bound of `e^{-1024} < 2^-1477` (monotonicity):
/// results stay rigorous, their absolute error is below `2^-1477`, and endpoint denominators stay
/// below about 1500 bits. So relative tightness holds for `|z| <= 1024` and for the values near 1
/// or near `|z|` (sigmoid of large positive `z`, softplus of large positive `z`), but not for
/// the tiny values `sigmoid(z)`, `softplus(z)` with `z < -1024` (enclosed by `[0, 2^-1477]`).
pub const LOGISTIC_SATURATION: u32 = 1024;

fn work_prec(prec: u32) -> u32 {
    prec.max(2) + GUARD_BITS
}

// ---------------------------------------------------------------------------------------------
// ln 2
// ---------------------------------------------------------------------------------------------

thread_local! {
    /// Widest enclosure of `ln 2` computed so far on this thread: `(w, lo, hi)` at scale `w`.
    static LN2_CACHE: RefCell<Option<(u32, BigInt, BigInt)>> = const { RefCell::new(None) };
}

/// `ln 2 = 2 atanh(1/3) = 2 sum_{k>=0} 3^-(2k+1) / (2k+1)`, as fixed-point bounds at scale `w`.
///
/// Lower: floor every power and term, drop the tail (all terms are positive). Upper: ceil every
/// power and term and add the tail bound: after the term with power `p_k >= 3^-(2k+1)`,
/// `sum_{i>k} 3^-(2i+1)/(2i+1) <= p_k (1/9)/(1 - 1/9) / (2k+3) <= p_k`.
fn ln2_series(w: u32) -> (BigInt, BigInt) {
    let one = fixed_one(w);
    let bound = |dir: Dir| {
        let mut p = div_small(&one, 3, dir);
        let mut sum = p.clone();
        let mut k: u64 = 0;
        loop {
            k += 1;
            p = div_small(&p, 9, dir);
            if p.is_zero() {
                break;
            }
            sum += div_small(&p, 2 * k + 1, dir);
            if p <= BigInt::one() {
                break;
            }
        }
        if dir == Dir::Up {
            sum += &p;
        }
        sum << 1u32
    };
    (bound(Dir::Down), bound(Dir::Up))
}

/// Fixed-point bounds `lo <= 2^w ln 2 <= hi` (cached per thread at the widest scale seen).
pub(crate) fn ln2_fixed(w: u32) -> (BigInt, BigInt) {
    LN2_CACHE.with(|cell| {
        let mut cache = cell.borrow_mut();
        if let Some((cw, lo, hi)) = cache.as_ref()
            && *cw >= w
        {
            let s = u64::from(cw - w);
            return (shr_dir(lo, s, Dir::Down), shr_dir(hi, s, Dir::Up));
        }
        let cw = w.max(512) + 64;
        let (lo, hi) = ln2_series(cw);
        let s = u64::from(cw - w);
        let out = (shr_dir(&lo, s, Dir::Down), shr_dir(&hi, s, Dir::Up));
        *cache = Some((cw, lo, hi));
        out
    })
}

/// Enclosure of `ln 2` with endpoints of `prec` significant bits (width `< 2^(1-prec)`).
///
/// Identity: `ln 2 = 2 atanh(1/3)`; series and tail bound as in the module docs.
pub fn ln2(prec: u32) -> Interval {
    let w = work_prec(prec);
    let (lo, hi) = ln2_fixed(w);
    finish(Dyadic::fixed(lo, w), Dyadic::fixed(hi, w), prec)
}

// ---------------------------------------------------------------------------------------------
// exp
// ---------------------------------------------------------------------------------------------

/// Directed fixed-point Taylor sum of `exp(x)` at scale `w`, for an exact `x` with
/// `|x| <= 2^(w-1)` (that is `|x| <= 1/2` in value).
///
/// Terms `t_k = |x|^k / k!` are carried as a floor chain and a ceil chain, so `tl_k <= t_k <= tu_k`;
/// negative terms (odd `k`, `x < 0`) enter with the opposite chain. Tail after the last term
/// `k` (stopped when `tu_k <= 1`): for `|x| <= 1/2`,
/// `|sum_{i>k} x^i/i!| <= |x|^(k+1)/(k+1)! * 1/(1 - |x|/(k+2)) <= 2 |x|^(k+1)/(k+1)! <= 2 tu_k`.
fn exp_series(x: &BigInt, w: u32, dir: Dir) -> BigInt {
    let one = fixed_one(w);
    let a = x.abs();
    let neg = x.is_negative();
    let mut tl = one.clone();
    let mut tu = one.clone();
    let mut sum = one;
    let mut k: u64 = 0;
    loop {
        k += 1;
        tl = div_small(&mul_fixed(&tl, &a, w, Dir::Down), k, Dir::Down);
        tu = div_small(&mul_fixed(&tu, &a, w, Dir::Up), k, Dir::Up);
        let negative_term = neg && k % 2 == 1;
        match (dir, negative_term) {
            (Dir::Down, false) => sum += &tl,
            (Dir::Down, true) => sum -= &tu,
            (Dir::Up, false) => sum += &tu,
            (Dir::Up, true) => sum -= &tl,
        }
        if tu <= BigInt::one() {
            break;
        }
    }
    let rem: BigInt = tu << 1u32;
    match dir {
        Dir::Down => sum - rem,
        Dir::Up => sum + rem,
    }
}

/// Directed dyadic bound of `exp(q)` for `|q| <= EXP_ARG_LIMIT`, relative error about
/// `2^-(w+8)`.
///
/// Reduction: `k = round(q / ln 2)`, `r = q - k ln 2` (with a certified `ln 2` enclosure at scale
/// `W`, so `r` is known within `~ (|k| + 2) 2^-W`; the end of that range in direction `dir` is
/// used), `r' = r / 2^h` with `|r'| <= 1/2`, `exp(q) = 2^k exp(r')^(2^h)`; `exp(r')` by
/// [`exp_series`], then `h` directed squarings (all values positive, so floor/ceil of squares
/// keep the bound on the right side).
fn exp_bound(q: &BigRational, w: u32, dir: Dir) -> Dyadic {
    if q.is_zero() {
        return Dyadic::from_int(1);
    }
    // Any k is correct; a good one only makes r small. The f64 estimate is just a guess.
    let qf = q.to_f64().filter(|v| v.is_finite()).unwrap_or(0.0);
    let k = (qf * std::f64::consts::LOG2_E).round() as i64;
    let mut h = (3 * w).isqrt();
    let ww = w + h + bits_i64(k) + 16;
    let (l_lo, l_hi) = ln2_fixed(ww);
    // r in direction dir: q rounded in dir, minus k ln 2 rounded against dir.
    let kl = match (dir, k >= 0) {
        (Dir::Down, true) | (Dir::Up, false) => BigInt::from(k) * l_hi,
        (Dir::Down, false) | (Dir::Up, true) => BigInt::from(k) * l_lo,
    };
    let r = rat_to_fixed(q, ww, dir) - kl;
    // Make |r / 2^h| <= 1/2 whatever k was, as the series tail bound needs.
    let half = fixed_one(ww - 1);
    let rmag = r.abs();
    while (&rmag >> h) >= half {
        h += 1;
    }
    let rp = shr_dir(&r, u64::from(h), dir);
    let mut e = exp_series(&rp, ww, dir).max(BigInt::zero());
    for _ in 0..h {
        e = mul_fixed(&e, &e, ww, dir);
    }
    Dyadic::new(e, k - i64::from(ww))
}

/// Directed bound of `exp(q)` for any `q <= EXP_ARG_LIMIT`: below `-EXP_ARG_LIMIT` the lower bound
/// is 0 and the upper bound that of `exp(-EXP_ARG_LIMIT)` (monotonicity).
fn exp_bound_clamped(q: &BigRational, w: u32, dir: Dir) -> Dyadic {
    let limit = i64::from(EXP_ARG_LIMIT);
    if cmp_rat_int(q, -limit) != Ordering::Less {
        exp_bound(q, w, dir)
    } else if dir == Dir::Down {
        Dyadic::zero()
    } else {
        exp_bound(&BigRational::from_integer(BigInt::from(-limit)), w, Dir::Up)
    }
}

/// Certified enclosure of `exp` over `x`, endpoints with `prec` significant bits.
///
/// Identity: `exp(q) = 2^k (exp(r / 2^h))^(2^h)`, `r = q - k ln 2`, Taylor series for
/// `|r/2^h| <= 1/2` with tail `<= 2 |r|^(N+1)/(N+1)!` (see [`EXP_ARG_LIMIT`] for the range).
/// Errors with [`ExactError::ExpOverflow`] if `x.hi() > EXP_ARG_LIMIT`.
pub fn exp(x: &Interval, prec: u32) -> Result<Interval, ExactError> {
    if cmp_rat_int(x.hi(), i64::from(EXP_ARG_LIMIT)) == Ordering::Greater {
        return Err(ExactError::ExpOverflow { limit: EXP_ARG_LIMIT });
    }
    let w = work_prec(prec);
    let (lo, hi) = monotone_bounds(x, |q, dir| exp_bound_clamped(q, w, dir));
    Ok(finish(lo, hi, prec))
}

// ---------------------------------------------------------------------------------------------
// atanh and ln
// ---------------------------------------------------------------------------------------------

/// Directed fixed-point value at scale `w` of `S(v) = sum_{k>=0} v^k / (2k+1)`, for an exact
/// dyadic `0 <= v <= 1/16`, so that `atanh(u) = u S(u^2)`.
///
/// Lower: floor chain, tail dropped (positive terms). Upper: ceil chain plus the tail after the
/// last term `k`: `sum_{i>k} v^i/(2i+1) <= v^(k+1) / ((2k+3)(1-v)) <= v^k / 45 <= p_k`.
fn atanh_s_series(v: &Dyadic, w: u32, dir: Dir) -> BigInt {
    let one = fixed_one(w);
    let vf = v.to_fixed(w, dir);
    debug_assert!(vf <= (&one >> 4u32) + 1u32, "atanh series needs |u| <= 1/4");
    let mut p = one.clone();
    let mut sum = one;
    let mut k: u64 = 0;
    loop {
        k += 1;
        p = mul_fixed(&p, &vf, w, dir);
        if p.is_zero() {
            break;
        }
        sum += div_small(&p, 2 * k + 1, dir);
        if p <= BigInt::one() {
            break;
        }
    }
    if dir == Dir::Up {
        sum += &p;
    }
    sum
}

/// Directed bound of `atanh(u) = u S(u^2)` for an exact dyadic `|u| <= 1/4` (odd symmetry for
/// `u < 0`), rounded to `w` significant bits.
fn atanh_bound(u: &Dyadic, w: u32, dir: Dir) -> Dyadic {
    if u.is_zero() {
        return Dyadic::zero();
    }
    let neg = u.is_negative();
    // Bound on |atanh(u)| = |u| S(u^2) needed in direction `mag_dir`.
    let mag_dir = if neg { dir.flip() } else { dir };
    let s = atanh_s_series(&u.mul(u), w, mag_dir);
    let mag = u.abs().mul(&Dyadic::fixed(s, w)).round_dir(w, mag_dir);
    if neg { mag.neg() } else { mag }
}

/// Directed dyadic bound of `ln(q)` for a rational `q > 0`.
///
/// Reduction `q = 2^j b` with `b in [0.7, 1.4]`, then `ln q = j ln 2 + 2 atanh(u)`,
/// `u = (b-1)/(b+1)`, `|u| <= 0.177`. For `j = 0` the result keeps relative accuracy even when
/// `q` is near 1 (`u` is rounded relative to its own size); otherwise `|ln q| >= 0.34` and the
/// sum is formed in fixed point.
fn ln_bound(q: &BigRational, w: u32, dir: Dir) -> Dyadic {
    let (n, d) = (q.numer(), q.denom());
    let mut j: i64 = n.bits() as i64 - d.bits() as i64;
    let (mut bn, mut bd) = if j >= 0 { (n.clone(), d << j.unsigned_abs()) } else { (n << j.unsigned_abs(), d.clone()) };
    // Now b = bn/bd is in (1/2, 2).
    if &bn * 10u32 < &bd * 7u32 {
        bn <<= 1u32;
        j -= 1;
    } else if &bn * 5u32 > &bd * 7u32 {
        bd <<= 1u32;
        j += 1;
    }
    let u = frac_round(&(&bn - &bd), &(&bn + &bd), w, dir);
    let a = atanh_bound(&u, w, dir).mul_pow2(1);
    if j == 0 {
        return a;
    }
    let wj = w + bits_i64(j) + 4;
    let (l_lo, l_hi) = ln2_fixed(wj);
    let l = if (dir == Dir::Down) == (j > 0) { l_lo } else { l_hi };
    Dyadic::fixed(BigInt::from(j) * l + a.to_fixed(wj, dir), wj)
}

/// Certified enclosure of the natural logarithm over `x`, endpoints with `prec` significant bits.
///
/// Identity: `ln(2^j b) = j ln 2 + 2 atanh((b-1)/(b+1))`, `b in [0.7, 1.4]`; the atanh series
/// `u sum u^(2k)/(2k+1)` has tail `<= |u|^(2N+1)/((2N+1)(1-u^2))`.
/// Errors with [`ExactError::LogNonPositive`] unless `x.lo() > 0`.
pub fn ln(x: &Interval, prec: u32) -> Result<Interval, ExactError> {
    if !x.is_positive() {
        return Err(ExactError::LogNonPositive);
    }
    let w = work_prec(prec);
    let (lo, hi) = monotone_bounds(x, |q, dir| ln_bound(q, w, dir));
    Ok(finish(lo, hi, prec))
}

/// Directed bound of `ln(1 + e)` for an exact dyadic `0 <= e <= 1`.
///
/// For `e <= 2/5`: `ln(1+e) = 2 atanh(e/(2+e))`, `u <= 1/6`, relative accuracy kept for tiny `e`.
/// For `e > 2/5`: `ln(1+e) = ln 2 + 2 atanh((e-1)/(e+3))`, `|u| <= 0.177`, value `>= 0.33`.
fn log1p_bound(e: &Dyadic, w: u32, dir: Dir) -> Dyadic {
    if e.is_zero() {
        return Dyadic::zero();
    }
    let (en, ed) = e.as_fraction();
    if &en * 5u32 <= &ed * 2u32 {
        let u = frac_round(&en, &(&en + (&ed << 1u32)), w, dir);
        atanh_bound(&u, w, dir).mul_pow2(1)
    } else {
        let u = frac_round(&(&en - &ed), &(&en + &ed * 3u32), w, dir);
        let a = atanh_bound(&u, w, dir).mul_pow2(1);
        let wf = w + 2;
        let (l_lo, l_hi) = ln2_fixed(wf);
        let l = if dir == Dir::Down { l_lo } else { l_hi };
        Dyadic::fixed(l + a.to_fixed(wf, dir), wf)
    }
}

// ---------------------------------------------------------------------------------------------
// softplus and sigmoid
// ---------------------------------------------------------------------------------------------

/// Directed bound of `e^{-a}` for `a >= 0`, saturated beyond [`LOGISTIC_SATURATION`].
fn exp_neg_abs_bound(a: &BigRational, w: u32, dir: Dir) -> Dyadic {
    let sat = i64::from(LOGISTIC_SATURATION);
    if cmp_rat_int(a, sat) != Ordering::Greater {
        exp_bound(&-a, w, dir)
    } else if dir == Dir::Down {
        Dyadic::zero()
    } else {
        exp_bound(&BigRational::from_integer(BigInt::from(-sat)), w, Dir::Up)
    }
}

/// Directed bound of `sigmoid(z) = 1/(1+e^{-z})` with `e = e^{-|z|} in (0, 1]`:
/// `1/(1+e)` (decreasing in `e`) for `z >= 0`, `e/(1+e)` (increasing) for `z < 0`.
/// No cancellation in either branch.
fn sigmoid_bound(z: &BigRational, w: u32, dir: Dir) -> Dyadic {
    let neg = z.is_negative();
    let e = exp_neg_abs_bound(&z.abs(), w, if neg { dir } else { dir.flip() });
    let (en, ed) = e.as_fraction();
    let num = if neg { &en } else { &ed };
    frac_round(num, &(&ed + &en), w, dir)
}

/// Directed bound of `softplus(z) = ln(1 + e^z) = max(z, 0) + ln(1 + e^{-|z|})` (increasing in
/// `e^{-|z|}` for fixed `z`).
fn softplus_bound(z: &BigRational, w: u32, dir: Dir) -> Dyadic {
    let e = exp_neg_abs_bound(&z.abs(), w, dir);
    let l = log1p_bound(&e, w, dir);
    if !z.is_positive() {
        return l;
    }
    // z > 0: the value is >= ln 2 > 1/2, so fixed point at scale w + 2 keeps w relative bits.
    let wf = w + 2;
    Dyadic::fixed(rat_to_fixed(z, wf, dir) + l.to_fixed(wf, dir), wf)
}

/// Certified enclosure of `softplus(z) = ln(1 + e^z)` (increasing), endpoints with `prec`
/// significant bits.
///
/// Stable form: `softplus(z) = max(z, 0) + ln(1 + e^{-|z|})`, the log term by
/// `ln(1+e) = 2 atanh(e/(2+e))` (or `ln 2 + 2 atanh((e-1)/(e+3))` for `e > 2/5`).
/// Saturation for `|z| > 1024`: see [`LOGISTIC_SATURATION`].
pub fn softplus(x: &Interval, prec: u32) -> Interval {
    let w = work_prec(prec);
    let (lo, hi) = monotone_bounds(x, |q, dir| softplus_bound(q, w, dir));
    finish(lo, hi, prec)
}

/// Certified enclosure of the sigmoid `1/(1 + e^{-z})` (increasing, the derivative of
/// [`softplus`]), endpoints with `prec` significant bits.
///
/// Branches without cancellation: `1/(1+e)` for `z >= 0` and `e/(1+e)` for `z < 0`, with
/// `e = e^{-|z|}` from [`exp`]'s kernel. Saturation for `|z| > 1024`: see
/// [`LOGISTIC_SATURATION`].
pub fn sigmoid(x: &Interval, prec: u32) -> Interval {
    let w = work_prec(prec);
    let (lo, hi) = monotone_bounds(x, |q, dir| sigmoid_bound(q, w, dir));
    finish(lo, hi, prec)
}

/// The logistic loss `l(z) = ln(1 + e^{-z}) = softplus(-z)` (decreasing), enclosed.
pub fn logistic_loss(x: &Interval, prec: u32) -> Interval {
    softplus(&-x, prec)
}

/// The logistic loss derivative `l'(z) = -1/(1 + e^z) = -sigmoid(-z)` (increasing, in `(-1, 0)`),
/// enclosed.
pub fn logistic_loss_derivative(x: &Interval, prec: u32) -> Interval {
    -sigmoid(&-x, prec)
}

// ---------------------------------------------------------------------------------------------
// plumbing
// ---------------------------------------------------------------------------------------------

/// For an increasing `f` given as a directed bound: lower bound at `x.lo`, upper at `x.hi`.
fn monotone_bounds(x: &Interval, f: impl Fn(&BigRational, Dir) -> Dyadic) -> (Dyadic, Dyadic) {
    (f(x.lo(), Dir::Down), f(x.hi(), Dir::Up))
}

/// Round the working bounds outward to `prec` bits and build the interval.
fn finish(lo: Dyadic, hi: Dyadic, prec: u32) -> Interval {
    let p = prec.max(2);
    let (l, h) = (lo.round(p, Round::Down), hi.round(p, Round::Up));
    // Both are rigorous bounds of one real number, so l <= h; checked on the dyadics (cheap).
    debug_assert!(l <= h, "enclosure bounds out of order");
    let (l, h) = if l <= h { (l, h) } else { (h, l) };
    Interval::from_ordered_unchecked(l.to_rational(), h.to_rational())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturation_bound_is_below_2_pow_minus_1477() {
        // e^{-1024} < 2^-1477  <=>  1477 ln 2 < 1024.
        let (_, hi) = ln2_fixed(200);
        assert!(hi * 1477u32 < BigInt::from(1024u32) << 200u32);
        let u = exp_bound(&BigRational::from_integer(BigInt::from(-1024)), 64, Dir::Up);
        assert!(u.to_rational() < BigRational::new(BigInt::one(), BigInt::one() << 1477u32));
    }
}
