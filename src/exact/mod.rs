//! Exact and outward-rounded rational arithmetic, for certificates that rest on no float.
//!
//! # What is enclosed
//!
//! An [`Interval`] `[lo, hi]` has exact [`BigRational`](num_rational::BigRational) endpoints and
//! stands for an unknown real number inside it. Arithmetic on intervals (`+`, `-`, `*`,
//! [`Interval::square`], [`Interval::checked_div`], [`Interval::sum`]) is exact: the result is the
//! exact hull of all possible results. The transcendental functions of the logistic loss are
//! irrational at rational points, so they are *enclosed*: [`exp`], [`ln`], [`ln2`], [`softplus`]
//! `= ln(1 + e^z)`, [`sigmoid`] `= 1/(1 + e^{-z})`, and the loss `l(z) = softplus(-z)`
//! ([`logistic_loss`]) with derivative `l'(z) = -sigmoid(-z)` ([`logistic_loss_derivative`]).
//! For every `t` in the input interval, the output interval contains `f(t)`.
//!
//! The intended use (`docs/convex.md`): for `L` that is `lambda`-strongly convex,
//! `||W - W*|| <= ||grad L(W)|| / lambda` for any `W`. Starting from the exact binary64 values of
//! `W` and the data ([`Interval::from_f64`], never `1/10` for `0.1`), these enclosures give a
//! rigorous upper bound on `||grad L(W)||` (and lower bounds).
//!
//! # How rounding works
//!
//! * Exact rationals grow without bound under repeated multiplication, so growth is cut by
//!   *directed* rounding onto dyadic numbers `m 2^e` with `prec` significant bits:
//!   [`round_down`], [`round_up`], [`Interval::round_outward`] (lower end down, upper end up,
//!   floating-point style: relative to each endpoint's own magnitude, zero stays zero).
//! * The function kernels work on scaled integers (fixed point `N 2^-w`) at
//!   `w = prec + GUARD_BITS` plus whatever range reduction needs. Every operation has a direction:
//!   lower bounds use floor, upper bounds ceil, and each truncated series adds (or subtracts) a
//!   proved tail bound. Lower and upper ends are computed separately; since every function is
//!   monotone, the lower end comes from `x.lo` and the upper from `x.hi`.
//! * Results are finally rounded outward to `prec` bits; for a point input the relative width is
//!   below `2^(3-prec)` (outside the saturated ranges documented on [`LOGISTIC_SATURATION`] and
//!   [`EXP_ARG_LIMIT`]).
//! * [`Dyadic`] is the exact dyadic number `m 2^e` itself: the kernels produce their bounds as
//!   dyadics, and the certificates ([`crate::certify`]) do their sums and products in it exactly,
//!   rounding only on request in a stated [`Round`] direction.
//! * Conversions back to binary64 are directed too ([`to_f64_down`], [`to_f64_up`], checked
//!   against the rational exactly) or correctly rounded ([`to_f64_nearest`]).
//!
//! # Identities and remainder bounds
//!
//! * `ln 2 = 2 atanh(1/3) = 2 sum_k 3^-(2k+1)/(2k+1)`; tail after the power `p_k` is `<= p_k`.
//! * `exp(q) = 2^k exp(r/2^h)^(2^h)` with `k = round(q / ln 2)`, `r = q - k ln 2` (an interval, from
//!   the `ln 2` enclosure), `|r/2^h| <= 1/2`; Taylor tail after `N` terms `<= 2|x|^(N+1)/(N+1)!`.
//! * `ln(2^j b) = j ln 2 + 2 atanh((b-1)/(b+1))`, `b in [0.7, 1.4]`, and
//!   `atanh(u) = u sum_k u^(2k)/(2k+1)` with tail `<= u^(2N+1) / ((2N+1)(1-u^2))`.
//! * `softplus(z) = max(z, 0) + ln(1 + e^{-|z|})`, `ln(1+e) = 2 atanh(e/(2+e))`.
//! * `sigmoid(z) = 1/(1+e)` for `z >= 0`, `e/(1+e)` for `z < 0`, `e = e^{-|z|}`.
//!
//! References: R. E. Moore, R. B. Kearfott, M. J. Cloud, *Introduction to Interval Analysis*
//! (SIAM, 2009), ch. 2-5 (outward rounding, monotone enclosures); J.-M. Muller, *Elementary
//! Functions: Algorithms and Implementation* (3rd ed., 2016), ch. 11 (range reduction);
//! R. P. Brent, P. Zimmermann, *Modern Computer Arithmetic* (2010), sec. 4.4 (series with
//! remainders).

// The submodules form a chain, each using only the ones above it (and `error`):
// kernels (integers) -> dyadic (m 2^e) -> interval (rational endpoints) -> functions (enclosures).
mod dyadic;
mod error;
mod functions;
mod interval;
mod kernels;

pub use dyadic::{Dyadic, Round};
pub use error::ExactError;

pub use functions::{
    EXP_ARG_LIMIT, GUARD_BITS, LOGISTIC_SATURATION, exp, ln, ln2, logistic_loss, logistic_loss_derivative, sigmoid,
    softplus,
};
pub use interval::{Interval, round_down, round_up, sqrt_lower, sqrt_upper, to_f64_down, to_f64_nearest, to_f64_up};
