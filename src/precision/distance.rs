//! Distances between two trajectories and what the audit and the ladder read from them: the
//! relative distance of a binary64 and a double-double point, the parting steps (first step above a
//! threshold) and the growth fits of `ln distance` per step. A leaf of `src/precision`'s audit
//! and ladder.

use super::dd::Dd;

/// The growth-rate fit starts where the distance first exceeds this (above the roundoff floor of
/// about `1e-16`, where the distance is still the accumulation of single roundings).
pub const FIT_FLOOR: f64 = 1e-13;
/// ... and ends where it first exceeds this (the trajectories are then no longer close).
pub const FIT_CEILING: f64 = 1e-3;
/// A least-squares fit of `ln distance = a + rate t` over steps `from..=to`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Growth {
    /// Exponent per step (`distance ~ e^(rate t)`).
    #[serde(deserialize_with = "crate::results::number")]
    pub rate: f64,
    /// Steps for the distance to grow tenfold, `ln 10 / rate`.
    #[serde(deserialize_with = "crate::results::number")]
    pub steps_per_decade: f64,
    pub from: usize,
    pub to: usize,
}

/// `||W_f64 - W_dd|| / ||W_dd||` (the difference taken in double-double).
pub fn relative_distance(dd: &[Dd], f: &[f64]) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for (a, &b) in dd.iter().zip(f) {
        let diff = a.add_f64(-b).hi;
        num += diff * diff;
        den += a.hi * a.hi;
    }
    let d = (num / den).sqrt();
    if d.is_nan() { f64::INFINITY } else { d }
}

/// First index whose value exceeds each threshold.
pub fn parting_steps(distance: &[f64], thresholds: &[f64]) -> Vec<Option<usize>> {
    thresholds.iter().map(|&h| distance.iter().position(|&d| d > h)).collect()
}

/// The growth fit above the roundoff floor: from the first crossing of [`FIT_FLOOR`] to that of
/// [`FIT_CEILING`] (`None` when the distance never exceeds [`FIT_FLOOR`] or the stretch holds
/// fewer than 3 steps). This is the exponential regime of a chaotic trajectory, if there is one.
pub fn growth(distance: &[f64]) -> Option<Growth> {
    growth_between(distance, FIT_FLOOR, FIT_CEILING)
}

/// The growth fit over the whole stretch where the distance grows: from its first nonzero value
/// to its maximum (`None` when that holds fewer than 3 steps).
pub fn growth_to_max(distance: &[f64]) -> Option<Growth> {
    let to = distance.iter().enumerate().filter(|(_, d)| d.is_finite()).max_by(|a, b| a.1.total_cmp(b.1))?.0;
    growth_between(&distance[..=to], 0.0, f64::INFINITY)
}

/// The growth fit over the stretch from the first crossing of `floor` to the first crossing of
/// `ceiling` (or the end).
pub fn growth_between(distance: &[f64], floor: f64, ceiling: f64) -> Option<Growth> {
    let from = distance.iter().position(|&d| d > floor)?;
    let to = distance.iter().position(|&d| d > ceiling).unwrap_or(distance.len() - 1);
    let pts: Vec<(f64, f64)> = (from..=to)
        .filter(|&t| distance[t] > 0.0 && distance[t].is_finite())
        .map(|t| (t as f64, distance[t].ln()))
        .collect();
    if pts.len() < 3 {
        return None;
    }
    let k = pts.len() as f64;
    let (mx, my) = (pts.iter().map(|p| p.0).sum::<f64>() / k, pts.iter().map(|p| p.1).sum::<f64>() / k);
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let rate = sxy / sxx;
    Some(Growth { rate, steps_per_decade: std::f64::consts::LN_10 / rate, from, to })
}
