//! The data generator's statistics (Definition 3.1 and its variants).

use adamgap::data::PatchData;
use adamgap::setting::{DataSetting, FeatureNoise, NoiseKind};

fn paper() -> DataSetting {
    DataSetting { test_size: 1000, ..DataSetting::default() }
}

/// Every sample: one signal patch `y e_1`, one noise patch with exactly `s` distinct coordinates
/// off coordinate 1 plus `xi[1] = -alpha y`; the noise vector is the noise patch.
#[test]
fn paper_definition_holds_sample_by_sample() {
    let s = paper();
    let (train, test) = PatchData::train_test(&s, 3);
    for data in [&train, &test] {
        assert_eq!(data.patches, 2);
        for i in 0..data.len() {
            let y = data.y[i];
            assert!(y == 1.0 || y == -1.0);
            let sp = data.signal_patch[i];
            assert_eq!(data.x.row(i * 2 + sp), (&[0u32][..], &[y][..]), "signal patch of sample {i}");
            let (idx, val) = data.x.row(i * 2 + (1 - sp));
            assert_eq!(idx.len(), s.s + 1, "support size of sample {i}");
            assert_eq!((idx[0], val[0]), (0, -s.alpha * y), "xi[1] = -alpha y for sample {i}");
            assert!(idx[1..].iter().all(|&k| k >= 1 && (k as usize) < s.d), "coordinate 1 never in the support");
            assert!(idx.windows(2).all(|w| w[0] < w[1]), "distinct sorted support");
            assert_eq!(data.noise.row(i), (idx, val), "the noise vector is the noise patch");
        }
    }
}

/// Labels are balanced, the signal patch position is uniform, noise values are `N(0, sigma_p^2)`
/// and supports cover `{2..d}` uniformly (statistical checks with 5-sigma margins).
#[test]
fn distribution_statistics() {
    let s = DataSetting { n: 4000, ..paper() };
    let (train, _) = PatchData::train_test(&s, 11);
    let n = train.len() as f64;
    let pos = train.y.iter().filter(|&&y| y > 0.0).count() as f64;
    assert!((pos / n - 0.5).abs() < 5.0 * 0.5 / n.sqrt(), "label balance {}", pos / n);
    let first = train.signal_patch.iter().filter(|&&p| p == 0).count() as f64;
    assert!((first / n - 0.5).abs() < 5.0 * 0.5 / n.sqrt(), "signal patch position {}", first / n);
    let vals: Vec<f64> = (0..train.len()).flat_map(|i| train.noise.row(i).1[1..].to_vec()).collect();
    let k = vals.len() as f64;
    let mean = vals.iter().sum::<f64>() / k;
    let var = vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / k;
    assert!(mean.abs() < 5.0 * s.sigma_p / k.sqrt(), "noise mean {mean}");
    // Var of the sample variance of a Gaussian: 2 sigma^4 / k.
    assert!((var - s.sigma_p.powi(2)).abs() < 5.0 * (2.0f64 / k).sqrt() * s.sigma_p.powi(2), "noise variance {var}");
    let mut counts = vec![0f64; s.d];
    for i in 0..train.len() {
        for &c in &train.noise.row(i).0[1..] {
            counts[c as usize] += 1.0;
        }
    }
    assert_eq!(counts[0], 0.0);
    let expect = n * s.s as f64 / (s.d - 1) as f64;
    let worst = counts[1..].iter().map(|c| (c - expect).abs()).fold(0.0, f64::max);
    // Max of 999 roughly Gaussian counts: well within 5 standard deviations.
    assert!(worst < 5.0 * expect.sqrt(), "coordinate coverage: worst deviation {worst} around {expect}");
}

/// Training data and test data come from separate streams: the test-set size does not change
/// the training set, and the same seed reproduces the data exactly.
#[test]
fn seeding_is_reproducible_and_streams_are_separate() {
    let a = PatchData::train_test(&paper(), 5);
    let b = PatchData::train_test(&DataSetting { test_size: 17, ..paper() }, 5);
    assert_eq!(a.0, b.0);
    assert_eq!(a, PatchData::train_test(&paper(), 5));
    assert_ne!(a.0, PatchData::train_test(&paper(), 6).0);
}

/// The variants: feature noise as its own patch, P > 2, dense noise, label flips.
#[test]
fn variants() {
    let sep = DataSetting { feature_noise: FeatureNoise::SeparatePatch, ..paper() };
    let (train, _) = PatchData::train_test(&sep, 1);
    assert_eq!(train.patches, 3);
    for i in 0..train.len() {
        let y = train.y[i];
        let rows: Vec<_> = (0..3).map(|p| train.x.row(i * 3 + p)).collect();
        assert!(rows.contains(&(&[0u32][..], &[y][..])), "signal patch");
        assert!(rows.contains(&(&[0u32][..], &[-sep.alpha * y][..])), "feature-noise patch");
        let (idx, _) = train.noise.row(i);
        assert_eq!(idx.len(), sep.s);
        assert!(idx.iter().all(|&k| k != 0), "no feature noise inside the noise vector");
    }

    let more = DataSetting { patches: 4, ..paper() };
    let (train, _) = PatchData::train_test(&more, 1);
    assert_eq!(train.patches, 4);
    let nnz: usize = (0..4).map(|p| train.x.row(p).0.len()).sum();
    assert_eq!(nnz, 1 + 3 * more.s + 1, "signal + 3 noise patches + feature noise");

    let dense = DataSetting { noise: NoiseKind::Dense, ..paper() };
    let (train, _) = PatchData::train_test(&dense, 1);
    assert_eq!(train.noise.row(0).0.len(), dense.d, "all of 2..d plus xi[1]");

    let flip = DataSetting { n: 4000, label_flip: 0.2, ..paper() };
    let (train, test) = PatchData::train_test(&flip, 1);
    let flipped = train.y.iter().zip(&train.clean_y).filter(|(a, b)| a != b).count() as f64 / 4000.0;
    assert!((flipped - 0.2).abs() < 5.0 * (0.2f64 * 0.8 / 4000.0).sqrt(), "flip rate {flipped}");
    assert_eq!(test.y, test.clean_y, "test labels stay clean");
    // Flips come from their own stream: the inputs and clean labels are those of the unflipped draw.
    let (plain, plain_test) = PatchData::train_test(&DataSetting { label_flip: 0.0, ..flip }, 1);
    assert_eq!((&train.x, &train.clean_y, &train.noise), (&plain.x, &plain.clean_y, &plain.noise));
    assert_eq!(plain.y, plain.clean_y);
    assert_eq!((&test.x, &test.y), (&plain_test.x, &plain_test.y));
}

/// The overlap report counts pairs of intersecting supports (brute force on a small draw).
#[test]
fn overlap_matches_brute_force() {
    let s = DataSetting { d: 400, n: 30, s: 12, ..paper() };
    let (train, _) = PatchData::train_test(&s, 2);
    let sets: Vec<std::collections::BTreeSet<u32>> =
        (0..30).map(|i| train.noise.row(i).0.iter().copied().filter(|&k| k != 0).collect()).collect();
    let mut pairs = 0;
    let mut samples = std::collections::BTreeSet::new();
    for i in 0..30 {
        for j in i + 1..30 {
            if !sets[i].is_disjoint(&sets[j]) {
                pairs += 1;
                samples.insert(i);
                samples.insert(j);
            }
        }
    }
    let o = train.overlap();
    assert_eq!(o.pairs_overlapping, pairs);
    assert_eq!(o.samples_overlapping, samples.len());
    assert_eq!(o.pairs_total, 435);
    assert!(pairs > 0 && pairs < 435, "a draw with some but not all pairs overlapping");
}
