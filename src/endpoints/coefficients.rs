//! The feature and noise coefficients as exact numbers, and a certified bound on the distance of
//! two weight matrices.
//!
//! `gamma_{j,r} = <w_{j,r}, j v> = j w_{j,r}[1]` is a binary64 number itself (with `v = e_1`), and
//! `rho_{i,r} = <w_{y_i,r}, xi_i>` an inner product of binary64 numbers, which is an exact
//! [`Dyadic`]. So every comparison of these summaries is an exact comparison.

use serde::Serialize;

use super::enclose::Fi;
use super::objective::sqrt_bounds;
use crate::data::PatchData;
use crate::exact::{Dyadic, Round};
use crate::model::Weights;

/// The coefficient summaries the headline prints, as exact values.
#[derive(Clone, Debug, PartialEq)]
pub struct ExactCoefficients {
    /// `max_r gamma_{j,r}` for `j = +1, -1` (exact: binary64 values).
    pub feature_max_per_class: [f64; 2],
    /// `min_i max_r rho_{i,r}` (exact; `None` without samples).
    pub noise_min_max: Option<Dyadic>,
    /// `max_i max_r rho_{i,r}` (exact; `None` without samples).
    pub noise_max_max: Option<Dyadic>,
}

/// An exact value shown as the binary64 interval that encloses it (`[x, x]` when it is a binary64).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Shown {
    /// Largest binary64 `<=` the value.
    pub lo: f64,
    /// Smallest binary64 `>=` the value.
    pub hi: f64,
}

impl Shown {
    /// The enclosing binary64 pair of `x`.
    pub fn of(x: &Dyadic) -> Self {
        Self { lo: x.to_f64_dir(Round::Down), hi: x.to_f64_dir(Round::Up) }
    }
}

impl ExactCoefficients {
    /// Computes the summaries of `w` on the training data (labels `data.y`, as in
    /// [`crate::model::Coefficients::of`]); `None` if a weight or noise value is not finite.
    pub fn of(w: &Weights, data: &PatchData) -> Option<Self> {
        let (m, flat) = (w.m(), w.as_slice());
        let w2 = 2 * m;
        let maxr =
            |cols: std::ops::Range<usize>, sign: f64| cols.map(|c| sign * flat[c]).fold(f64::NEG_INFINITY, f64::max);
        let feature_max_per_class = [maxr(0..m, 1.0), maxr(m..w2, -1.0)];
        let (mut lo, mut hi): (Option<Dyadic>, Option<Dyadic>) = (None, None);
        for i in 0..data.len() {
            let off = if data.y[i] > 0.0 { 0 } else { m };
            let (idx, val) = data.noise.row(i);
            let vals: Option<Vec<Dyadic>> = val.iter().map(|&v| Dyadic::from_f64(v)).collect();
            let vals = vals?;
            let mut best: Option<Dyadic> = None;
            for r in 0..m {
                let mut rho = Dyadic::zero();
                for (&k, v) in idx.iter().zip(&vals) {
                    rho.add_assign(&v.mul(&Dyadic::from_f64(flat[k as usize * w2 + off + r])?));
                }
                if best.as_ref().is_none_or(|b| rho > *b) {
                    best = Some(rho);
                }
            }
            let best = best?;
            if lo.as_ref().is_none_or(|l| best < *l) {
                lo = Some(best.clone());
            }
            if hi.as_ref().is_none_or(|h| best > *h) {
                hi = Some(best);
            }
        }
        Some(Self { feature_max_per_class, noise_min_max: lo, noise_max_max: hi })
    }
}

/// An enclosure of `||a - b||_F`: the differences of binary64 numbers and their squares are summed
/// exactly, then the square root is rounded outward (`None` if an entry is not finite).
pub fn distance(a: &Weights, b: &Weights) -> Option<Fi> {
    let mut acc = Dyadic::zero();
    for (&x, &y) in a.as_slice().iter().zip(b.as_slice()) {
        acc.add_assign(&Dyadic::from_f64(x)?.sub(&Dyadic::from_f64(y)?).square());
    }
    Some(sqrt_bounds(&acc, &acc))
}
