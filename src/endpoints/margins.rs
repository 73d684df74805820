//! Margins `y_i f(W, x_i)`: binary64 enclosures for every sample, the exact dyadic value for the
//! few whose enclosure contains 0, and the certified error counts.
//!
//! Fast tier: every pre-activation `z = <w_c, x_{i,p}>` is a binary64 dot product of at most
//! `s + 1` terms, enclosed by its computed value and the bound of [`super::enclose::dot_radius`];
//! `sigma(z) = max(0, z)^q` is increasing, so it is enclosed by its values at the two end points;
//! the margin is a signed sum of those, enclosed with outward rounding. Exact tier: the same
//! polynomial in the exact binary64 values, in [`Dyadic`] arithmetic with no rounding at all
//! (`max(0, z)^q` needs only the exact sign of `z`), so its sign is the true sign.

use rayon::prelude::*;
use serde::Serialize;

use super::enclose::{Fi, Sign, dot_radius};
use crate::data::PatchData;
use crate::exact::Dyadic;
use crate::model::{Activation, Cnn};

/// Samples per parallel task of the fast tier.
const SAMPLES_PER_TASK: usize = 64;

/// A certified count of the points with `y f(W, x) <= 0`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ErrorCount {
    /// Points in the data set.
    pub total: usize,
    /// Points certified to have margin `<= 0`.
    pub errors: usize,
    /// Points whose margin's sign is not certified (enclosure contains 0 and the exact fallback
    /// was not run for them): counted in neither direction.
    pub undecided: usize,
    /// Points whose sign the binary64 enclosure left open and the exact dyadic margin decided.
    pub resolved_exactly: usize,
}

impl ErrorCount {
    /// From certified signs (`resolved` of them from the exact tier).
    pub(crate) fn from_signs(signs: &[Sign], resolved: usize) -> Self {
        let count = |s: Sign| signs.iter().filter(|&&x| x == s).count();
        Self {
            total: signs.len(),
            errors: count(Sign::NonPositive),
            undecided: count(Sign::Undecided),
            resolved_exactly: resolved,
        }
    }

    /// `[errors / total, (errors + undecided) / total]`: the error rate lies in between.
    pub fn rate_bounds(&self) -> [f64; 2] {
        let n = self.total.max(1) as f64;
        [self.errors as f64 / n, (self.errors + self.undecided) as f64 / n]
    }

    /// The error rate when every sign is certified.
    pub fn exact_rate(&self) -> Option<f64> {
        (self.undecided == 0).then(|| self.rate_bounds()[0])
    }
}

/// `{sigma(z)}` for an enclosure of `z`.
#[inline]
pub(crate) fn sigma(act: Activation, z: Fi) -> Fi {
    match act {
        Activation::Linear => z,
        Activation::PolyRelu(q) => z.relu_pow(q),
    }
}

/// `{sigma'(z)}` for an enclosure of `z` (`q max(0, z)^(q-1)`, for `q = 1` the indicator of
/// `z > 0` as in the model).
pub(crate) fn sigma_deriv(act: Activation, z: Fi) -> Fi {
    match act {
        Activation::Linear => Fi::point(1.0),
        Activation::PolyRelu(1) => Fi { lo: f64::from(u8::from(z.lo > 0.0)), hi: f64::from(u8::from(z.hi > 0.0)) },
        Activation::PolyRelu(q) => z.relu_pow(q - 1).scale(f64::from(q)),
    }
}

/// Binary64 enclosures of the pre-activations of one patch, all `2m` columns, into `out`.
fn enclose_patch(w: &[f64], w2: usize, idx: &[u32], val: &[f64], scratch: &mut [f64], out: &mut [Fi]) {
    if idx.is_empty() {
        out.fill(Fi::ZERO);
        return;
    }
    let (z, a) = scratch.split_at_mut(w2);
    z.fill(0.0);
    a.fill(0.0);
    for (&k, &v) in idx.iter().zip(val) {
        let row = &w[k as usize * w2..(k as usize + 1) * w2];
        let av = v.abs();
        for ((zc, ac), &x) in z.iter_mut().zip(a.iter_mut()).zip(row) {
            *zc += v * x;
            *ac += av * x.abs();
        }
    }
    for ((o, &zc), &ac) in out.iter_mut().zip(z.iter()).zip(a.iter()) {
        *o = Fi::around(zc, dot_radius(idx.len(), ac));
    }
}

/// Enclosures of `z[p * 2m + c]` of sample `i` into `z` and of its margin `y_i f(W, x_i)`.
pub(crate) fn enclose_sample(model: &Cnn, w: &[f64], data: &PatchData, i: usize, y: f64, z: &mut [Fi]) -> Fi {
    let w2 = 2 * model.m;
    let mut scratch = vec![0.0; 2 * w2];
    let mut f = Fi::ZERO;
    for p in 0..data.patches {
        let (idx, val) = data.x.row(i * data.patches + p);
        let zp = &mut z[p * w2..(p + 1) * w2];
        enclose_patch(w, w2, idx, val, &mut scratch, zp);
        for (c, &zc) in zp.iter().enumerate() {
            let s = sigma(model.activation, zc);
            f = if c < model.m { f + s } else { f - s };
        }
    }
    let f = if model.scale == 1.0 { f } else { f.scale(model.scale) };
    if y == 1.0 {
        f
    } else if y == -1.0 {
        -f
    } else {
        f.scale(y)
    }
}

/// Margin enclosures of every sample (labels `labels`), and, if `keep_z`, the pre-activation
/// enclosures (`n P 2m` values, sample-major). In parallel over blocks of samples; the values do
/// not depend on the split.
pub(crate) fn enclose_all(
    model: &Cnn,
    w: &[f64],
    data: &PatchData,
    labels: &[f64],
    keep_z: bool,
) -> (Vec<Fi>, Vec<Fi>) {
    let per = data.patches * 2 * model.m;
    let blocks: Vec<(Vec<Fi>, Vec<Fi>)> = (0..data.len().div_ceil(SAMPLES_PER_TASK))
        .into_par_iter()
        .map(|b| {
            let range = b * SAMPLES_PER_TASK..((b + 1) * SAMPLES_PER_TASK).min(data.len());
            let mut zs = vec![Fi::ZERO; if keep_z { range.len() * per } else { per }];
            let mut margins = Vec::with_capacity(range.len());
            for (t, i) in range.enumerate() {
                let z = if keep_z { &mut zs[t * per..(t + 1) * per] } else { &mut zs[..] };
                margins.push(enclose_sample(model, w, data, i, labels[i], z));
            }
            if !keep_z {
                zs.clear();
            }
            (zs, margins)
        })
        .collect();
    let mut z = Vec::with_capacity(if keep_z { data.len() * per } else { 0 });
    let mut margins = Vec::with_capacity(data.len());
    for (zb, mb) in blocks {
        z.extend(zb);
        margins.extend(mb);
    }
    (z, margins)
}

/// `sigma(z)` exactly.
fn exact_sigma(act: Activation, z: &Dyadic) -> Dyadic {
    match act {
        Activation::Linear => z.clone(),
        Activation::PolyRelu(q) => {
            if z.is_negative() || z.is_zero() {
                return Dyadic::zero();
            }
            let mut r = z.clone();
            for _ in 1..q {
                r = r.mul(z);
            }
            r
        }
    }
}

/// The exact margin `y_i f(W, x_i)` of sample `i` from the exact binary64 values (`None` if a
/// weight, value, label or the scale is not finite).
pub(crate) fn exact_margin(model: &Cnn, w: &[f64], data: &PatchData, i: usize, y: f64) -> Option<Dyadic> {
    let w2 = 2 * model.m;
    let mut f = Dyadic::zero();
    for p in 0..data.patches {
        let (idx, val) = data.x.row(i * data.patches + p);
        let vals: Option<Vec<Dyadic>> = val.iter().map(|&v| Dyadic::from_f64(v)).collect();
        let vals = vals?;
        for c in 0..w2 {
            let mut z = Dyadic::zero();
            for (&k, v) in idx.iter().zip(&vals) {
                z.add_assign(&v.mul(&Dyadic::from_f64(w[k as usize * w2 + c])?));
            }
            let s = exact_sigma(model.activation, &z);
            f.add_assign(&if c < model.m { s } else { s.neg() });
        }
    }
    Some(f.mul(&Dyadic::from_f64(model.scale)?).mul(&Dyadic::from_f64(y)?))
}

/// Certified signs of all margins: the binary64 enclosures decide most; the first `limit` (in
/// sample order) of the rest are decided by the exact margin, the others stay undecided.
pub(crate) fn certify_signs(
    model: &Cnn,
    w: &[f64],
    data: &PatchData,
    labels: &[f64],
    margins: &[Fi],
    limit: usize,
) -> (ErrorCount, Vec<Sign>) {
    let mut signs: Vec<Sign> = margins.iter().map(Fi::sign).collect();
    let open: Vec<usize> = (0..signs.len()).filter(|&i| signs[i] == Sign::Undecided).take(limit).collect();
    let decided: Vec<Sign> = open
        .par_iter()
        .map(|&i| match exact_margin(model, w, data, i, labels[i]) {
            Some(mg) if mg.is_zero() || mg.is_negative() => Sign::NonPositive,
            Some(_) => Sign::Positive,
            None => Sign::Undecided,
        })
        .collect();
    let resolved = decided.iter().filter(|&&s| s != Sign::Undecided).count();
    for (&i, s) in open.iter().zip(decided) {
        signs[i] = s;
    }
    (ErrorCount::from_signs(&signs, resolved), signs)
}
