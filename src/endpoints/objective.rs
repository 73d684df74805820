//! Certified enclosures of the objective `L(W)` and of `||grad L(W)||_2` on the training set.
//!
//! ```text
//! L(W)             = (1/n) sum_i l(M_i) + (lambda/2) ||W||_F^2,      l(z) = log(1 + e^-z)
//! grad_{w_{j,r}} L = (1/n) sum_i l'(M_i) y_i j c sum_p sigma'(z_{i,p,j,r}) x_{i,p} + lambda w_{j,r}
//! ```
//!
//! with `M_i = y_i f(W, x_i)`. The margins and pre-activations arrive as binary64 enclosures
//! ([`super::margins`]); `l` and `l'` are enclosed by the rigorous functions of [`crate::exact`]
//! (monotone, so the enclosure of `M_i` maps to an enclosure of `l(M_i)`); the gradient sums are
//! binary64 interval sums with outward rounding ([`Fi`]); the squared norms, `||W||_F^2` and the
//! final combination are exact ([`Dyadic`], rationals), with directed square roots at the end.
//! `lambda`, `c` and the data are taken at their exact binary64 values; `1/n` is exact.

use num_rational::BigRational;

use super::enclose::Fi;
use super::margins::sigma_deriv;
use crate::data::PatchData;
use crate::exact::{self, Dyadic, Interval};
use crate::model::Cnn;

/// Significant bits of the enclosures of `l` and `l'` (the result is rounded to binary64 anyway).
pub(crate) const FUNCTION_PREC: u32 = 96;

/// `||W||_F^2` exactly (`None` if an entry is not finite).
pub(crate) fn squared_norm(w: &[f64]) -> Option<Dyadic> {
    let mut acc = Dyadic::zero();
    for &x in w {
        acc.add_assign(&Dyadic::from_f64(x)?.square());
    }
    Some(acc)
}

/// An enclosure of `L(W)` (`None` if a margin enclosure or a weight is not finite).
pub(crate) fn objective(model: &Cnn, w: &[f64], margins: &[Fi]) -> Option<Interval> {
    let mut losses = Vec::with_capacity(margins.len());
    for m in margins {
        let iv = Interval::from_f64_bounds(m.lo, m.hi).ok()?;
        losses.push(exact::logistic_loss(&iv, FUNCTION_PREC));
    }
    let n = BigRational::from_integer(margins.len().max(1).into());
    let mean = Interval::sum(&losses).scale_by_rational(&n.recip());
    let lambda = BigRational::from_float(model.lambda)?;
    let decay = squared_norm(w)?.to_rational() * lambda / BigRational::from_integer(2.into());
    Some(mean + Interval::point(decay))
}

/// Enclosures of every entry of `grad L(W)` in the weights' layout (`d x 2m`, row-major), from the
/// training set's pre-activation enclosures `z` (sample-major, `P 2m` per sample) and margins.
pub(crate) fn gradient(model: &Cnn, w: &[f64], data: &PatchData, labels: &[f64], z: &[Fi], margins: &[Fi]) -> Vec<Fi> {
    let (m, w2, patches) = (model.m, 2 * model.m, data.patches);
    let mut s = vec![Fi::ZERO; w.len()];
    let mut coef = vec![Fi::ZERO; w2];
    for (i, mg) in margins.iter().enumerate() {
        // l'(M_i) = -sigmoid(-M_i), increasing in M_i.
        let lp = match Interval::from_f64_bounds(mg.lo, mg.hi) {
            Ok(iv) => {
                let (lo, hi) = exact::logistic_loss_derivative(&iv, FUNCTION_PREC).to_f64_bounds();
                Fi { lo, hi }
            }
            Err(_) => Fi { lo: f64::NAN, hi: f64::NAN },
        };
        for p in 0..patches {
            let zp = &z[(i * patches + p) * w2..(i * patches + p + 1) * w2];
            for (c, (k, &zc)) in coef.iter_mut().zip(zp).enumerate() {
                let t = lp * sigma_deriv(model.activation, zc);
                // times y_i j, both +-1: an exact sign change.
                let flip = (labels[i] < 0.0) != (c >= m);
                *k = if flip { -t } else { t };
            }
            let (idx, val) = data.x.row(i * patches + p);
            for (&k, &x) in idx.iter().zip(val) {
                let row = &mut s[k as usize * w2..(k as usize + 1) * w2];
                for (g, cf) in row.iter_mut().zip(&coef) {
                    *g = *g + cf.scale(x);
                }
            }
        }
    }
    let inv_n = Fi::recip_int(margins.len().max(1));
    s.iter()
        .zip(w)
        .map(|(g, &wk)| {
            let loss = if model.scale == 1.0 { *g } else { g.scale(model.scale) };
            loss * inv_n + Fi::point(wk).scale(model.lambda)
        })
        .collect()
}

/// An enclosure of the Euclidean norm of a vector given by entry enclosures: the squares are
/// summed exactly, the square roots rounded outward (`[0, inf]` if an entry is not finite).
pub(crate) fn norm(entries: &[Fi]) -> Fi {
    if !entries.iter().all(Fi::is_finite) {
        return Fi { lo: 0.0, hi: f64::INFINITY };
    }
    let (mut lo2, mut hi2) = (Dyadic::zero(), Dyadic::zero());
    for g in entries {
        let (mig, mag) = g.mig_mag();
        lo2.add_assign(&Dyadic::from_f64(mig).unwrap_or_default().square());
        hi2.add_assign(&Dyadic::from_f64(mag).unwrap_or_default().square());
    }
    sqrt_bounds(&lo2, &hi2)
}

/// `[sqrt(lo2), sqrt(hi2)]` rounded outward to binary64.
pub(crate) fn sqrt_bounds(lo2: &Dyadic, hi2: &Dyadic) -> Fi {
    let lo = exact::sqrt_lower(&lo2.to_rational(), 64).map_or(0.0, |q| exact::to_f64_down(&q));
    let hi = exact::sqrt_upper(&hi2.to_rational(), 64).map_or(f64::INFINITY, |q| exact::to_f64_up(&q));
    Fi { lo, hi }
}
