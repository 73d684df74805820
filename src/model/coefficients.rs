//! The feature coefficients `gamma` and noise coefficients `rho` of the weights, and their summaries.

use ndarray::Array2;

use super::Weights;
use crate::data::PatchData;

/// The feature and noise coefficients the proof tracks (`docs/model.md`).
#[derive(Clone, Debug, PartialEq)]
pub struct Coefficients {
    /// `gamma[[j_index, r]] = <w_{j,r}, j v>` ([`Weights::gamma`]).
    pub gamma: Array2<f64>,
    /// `rho[[i, r]] = <w_{y_i,r}, xi_i>` (feature-noise part included).
    pub rho: Array2<f64>,
}

/// Summaries of the coefficients, the quantities the claims compare.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct CoefficientSummary {
    /// `max_r gamma_{j,r}` for `j = +1, -1`.
    pub feature_max_per_class: [f64; 2],
    /// `max_{j,r} gamma_{j,r}`.
    pub feature_max: f64,
    /// `min_i max_r rho_{i,r}` over all samples.
    pub noise_min_max: f64,
    /// `max_i max_r rho_{i,r}` over all samples.
    pub noise_max_max: f64,
    /// `min_i max_r rho_{i,r}` over the samples with `y_i = +1`, `-1` (NaN if a class is empty).
    pub noise_min_max_per_class: [f64; 2],
    /// `max_i max_r rho_{i,r}` over the samples with `y_i = +1`, `-1` (NaN if a class is empty).
    pub noise_max_max_per_class: [f64; 2],
}

impl Coefficients {
    /// Computes `gamma` and `rho` (cost `O(n s m)`).
    pub fn of(w: &Weights, data: &PatchData) -> Self {
        let m = w.m();
        let gamma = Array2::from_shape_fn((2, m), |(j, r)| w.gamma(j, r));
        let mut rho = Array2::zeros((data.len(), m));
        for i in 0..data.len() {
            let j_index = if data.y[i] > 0.0 { 0 } else { 1 };
            let (idx, val) = data.noise.row(i);
            let mut row = rho.row_mut(i);
            for (&k, &v) in idx.iter().zip(val) {
                for (acc, &wc) in row.iter_mut().zip(w.class_block(k as usize, j_index)) {
                    *acc += v * wc;
                }
            }
        }
        Self { gamma, rho }
    }

    /// The summaries of [`CoefficientSummary`].
    pub fn summary(&self, data: &PatchData) -> CoefficientSummary {
        let maxr = |row: ndarray::ArrayView1<f64>| row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let fpc = [maxr(self.gamma.row(0)), maxr(self.gamma.row(1))];
        let per_sample: Vec<f64> = self.rho.rows().into_iter().map(maxr).collect();
        let (mut mn, mut mx) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for (i, &v) in per_sample.iter().enumerate() {
            let c = usize::from(data.y[i] < 0.0);
            mn[c] = mn[c].min(v);
            mx[c] = mx[c].max(v);
        }
        let nanify = |v: f64| if v.is_finite() { v } else { f64::NAN };
        CoefficientSummary {
            feature_max_per_class: fpc,
            feature_max: fpc[0].max(fpc[1]),
            noise_min_max: nanify(mn[0].min(mn[1])),
            noise_max_max: nanify(mx[0].max(mx[1])),
            noise_min_max_per_class: [nanify(mn[0]), nanify(mn[1])],
            noise_max_max_per_class: [nanify(mx[0]), nanify(mx[1])],
        }
    }
}
