//! The CNN's exact gradient against central finite differences of the objective, on random small
//! shapes, for q in {1, 2, 3, 4}, the linear activation, and both scales (1 and 1/m).

use adamgap::data::PatchData;
use adamgap::model::{Cnn, Weights};
use adamgap::setting::{ActivationKind, DataSetting, FeatureNoise, ModelSetting};
use proptest::prelude::*;

/// Smallest `|<w_c, x_{i,p}>|` over all samples, patches and filters (a kink of ReLU^q is there).
fn min_abs_preactivation(w: &Weights, data: &PatchData) -> f64 {
    let mut best = f64::INFINITY;
    for row in 0..data.x.rows() {
        let x = data.x.dense_row(row, data.d);
        for c in 0..2 * w.m() {
            let z: f64 = (0..data.d).map(|k| w.row(k)[c] * x[k]).sum();
            best = best.min(z.abs());
        }
    }
    best
}

fn case() -> impl Strategy<Value = (usize, usize, usize, usize, usize, u32, bool, bool, u64, bool)> {
    (
        3usize..9,     // d
        1usize..4,     // m
        1usize..6,     // n
        1usize..8,     // s (clamped to d - 1)
        2usize..4,     // patches
        1u32..5,       // q
        any::<bool>(), // 1/m scale
        any::<bool>(), // linear activation instead of ReLU^q
        any::<u64>(),  // seed
        any::<bool>(), // feature noise in its own patch
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn gradient_matches_central_differences((d, m, n, s, patches, q, mean, linear, seed, separate) in case()) {
        let data_setting = DataSetting {
            d, n, s: s.min(d - 1), sigma_p: 0.7, alpha: 0.4, patches, test_size: 1,
            feature_noise: if separate { FeatureNoise::SeparatePatch } else { FeatureNoise::InNoisePatch },
            ..DataSetting::default()
        };
        let model_setting = ModelSetting {
            m, q, mean_over_filters: mean, sigma0: 0.6, lambda: 0.03,
            activation: if linear { ActivationKind::Linear } else { ActivationKind::PolyRelu },
        };
        let (train, _) = PatchData::train_test(&data_setting, seed);
        let model = Cnn::from_setting(&model_setting, d);
        let w = Weights::init(d, m, model_setting.sigma0, seed);
        let h = 1e-6;
        if !linear {
            // A finite difference across a kink of max(0, z)^q measures nothing: skip such draws.
            prop_assume!(min_abs_preactivation(&w, &train) > 1e3 * h);
        }
        let g = model.full_gradient(&w, &train);
        let mut ws = model.workspace(train.patches);
        for k in 0..d {
            for c in 0..2 * m {
                let mut wp = w.clone();
                wp.row_mut(k)[c] += h;
                let mut wm = w.clone();
                wm.row_mut(k)[c] -= h;
                let fd = (model.objective(&wp, &train, &mut ws) - model.objective(&wm, &train, &mut ws)) / (2.0 * h);
                let exact = g.row(k)[c];
                prop_assert!(
                    (fd - exact).abs() <= 1e-6 * (1.0 + exact.abs()),
                    "d={d} m={m} n={n} q={q} linear={linear} mean={mean}: coordinate ({k},{c}) exact {exact} vs finite difference {fd}"
                );
            }
        }
    }
}

/// The gradient of a coordinate no sample touches is exactly `lambda w` (weight decay only).
#[test]
fn untouched_coordinates_carry_only_weight_decay() {
    let data_setting = DataSetting { d: 50, n: 3, s: 2, test_size: 1, ..DataSetting::default() };
    let model_setting = ModelSetting { m: 2, ..ModelSetting::default() };
    let (train, _) = PatchData::train_test(&data_setting, 7);
    let model = Cnn::from_setting(&model_setting, 50);
    let w = Weights::init(50, 2, 0.1, 7);
    let g = model.full_gradient(&w, &train);
    let touched: std::collections::BTreeSet<u32> = train.x.idx.iter().copied().collect();
    let mut checked = 0;
    for k in (0..50u32).filter(|k| !touched.contains(k)) {
        for c in 0..4 {
            assert_eq!(g.row(k as usize)[c], model.lambda * w.row(k as usize)[c]);
            checked += 1;
        }
    }
    assert!(checked > 0, "the draw touched every coordinate; pick sparser data");
}
