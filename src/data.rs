//! The data distribution of Definition 3.1 and its variants, stored sparse.
//!
//! A sample is `(x, y)`, `y` uniform in `{-1, +1}`, `x = [x_1, ..., x_P]` patches in `R^d`; the
//! feature is `v = e_1` (index 0 here). One patch, chosen uniformly, is the signal patch `y v`; the
//! others are noise patches. A noise patch `xi` has `s` distinct coordinates drawn uniformly from
//! `{2, ..., d}` (never coordinate 1), i.i.d. `N(0, sigma_p^2)` there, and (the paper's definition)
//! carries the feature noise `xi[1] = -alpha y` (in the first noise patch when `P > 2`).
//!
//! Variants ([`crate::setting::DataSetting`]): the feature noise as its own patch `-alpha y v`
//! (stored as an extra patch), dense Gaussian noise on all of `{2, ..., d}`, and label flips
//! (training labels flipped with a given probability; test labels stay clean, so the test error
//! measures the true labels).
//!
//! Storage: every patch is a sparse vector; all patches of all samples share one CSR-like layout
//! (`ptr`, `idx`, `val`), sorted by index, so a pass over the data streams through memory and costs
//! `O(nnz)`. The per-sample noise vector `xi_i` (the sum of its noise patches, feature noise
//! included when it sits inside the noise patch) is kept beside it for the noise coefficients
//! `rho_{i,r} = <w_{y_i,r}, xi_i>`.
//!
//! Randomness: ChaCha8 seeded with the setting's seed; training data, test data and initialization
//! use streams 0, 1 and 2, so a larger test set does not change the training data; the label
//! flips stream 3, the minibatches stream 6.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::setting::{DataSetting, FeatureNoise, NoiseKind};

/// The ChaCha8 stream of the training data.
pub const STREAM_TRAIN: u64 = 0;
/// The ChaCha8 stream of the test data.
pub const STREAM_TEST: u64 = 1;
/// The ChaCha8 stream of the initialization.
pub const STREAM_INIT: u64 = 2;
/// Stream of the training labels' flips (`label_flip`), one draw per training sample, apart from
/// the samples so that flipping labels leaves every input and the initialization unchanged.
pub const STREAM_FLIP: u64 = 3;
/// Stream of a minibatch run's batches (`crate::train::Batches`; streams 4 and 5 are the real
/// images' subsamples, `crate::images`).
pub const STREAM_BATCHES: u64 = 6;

/// A ChaCha8 generator for `seed` on `stream`.
pub fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream);
    r
}

/// Sparse rows in CSR layout: row `k` has `idx[ptr[k]..ptr[k+1]]` and the matching `val`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SparseRows {
    pub ptr: Vec<usize>,
    pub idx: Vec<u32>,
    pub val: Vec<f64>,
}

impl SparseRows {
    fn new() -> Self {
        Self { ptr: vec![0], idx: Vec::new(), val: Vec::new() }
    }
    /// Appends a row given as `(index, value)` pairs (sorted here).
    pub fn push_row(&mut self, mut entries: Vec<(u32, f64)>) {
        entries.sort_by_key(|e| e.0);
        for (i, v) in entries {
            self.idx.push(i);
            self.val.push(v);
        }
        self.ptr.push(self.idx.len());
    }
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.ptr.len() - 1
    }
    /// Row `k` as parallel slices of indices and values.
    #[inline]
    pub fn row(&self, k: usize) -> (&[u32], &[f64]) {
        let (a, b) = (self.ptr[k], self.ptr[k + 1]);
        (&self.idx[a..b], &self.val[a..b])
    }
    /// Number of stored nonzeros.
    pub fn nnz(&self) -> usize {
        self.idx.len()
    }
    /// The transpose, for `cols` columns: row `c` lists the rows `k` holding column `c` (in
    /// increasing `k`, so a sum over it follows the order of the row-wise sums) with their values.
    pub fn transpose(&self, cols: usize) -> Self {
        let mut ptr = vec![0usize; cols + 1];
        for &c in &self.idx {
            ptr[c as usize + 1] += 1;
        }
        for c in 0..cols {
            ptr[c + 1] += ptr[c];
        }
        let mut next = ptr.clone();
        let (mut idx, mut val) = (vec![0u32; self.nnz()], vec![0.0; self.nnz()]);
        for k in 0..self.rows() {
            let (ci, cv) = self.row(k);
            for (&c, &v) in ci.iter().zip(cv) {
                let slot = &mut next[c as usize];
                idx[*slot] = u32::try_from(k).expect("fewer than 2^32 rows");
                val[*slot] = v;
                *slot += 1;
            }
        }
        Self { ptr, idx, val }
    }
    /// Row `k` as a dense vector of length `d`.
    pub fn dense_row(&self, k: usize, d: usize) -> Vec<f64> {
        let mut out = vec![0.0; d];
        let (idx, val) = self.row(k);
        for (&i, &v) in idx.iter().zip(val) {
            out[i as usize] += v;
        }
        out
    }
}

/// A data set: `n` samples of `patches` sparse patches each.
#[derive(Clone, Debug, PartialEq)]
pub struct PatchData {
    /// Patch dimension.
    pub d: usize,
    /// Patches per sample as stored (the model sums over all of them).
    pub patches: usize,
    /// Labels the model is trained or evaluated on (`+1.0` / `-1.0`).
    pub y: Vec<f64>,
    /// True labels (differ from `y` only where a training label was flipped).
    pub clean_y: Vec<f64>,
    /// Patch `p` of sample `i` is row `i * patches + p`.
    pub x: SparseRows,
    /// The transpose of `x` (`d` rows: coordinate `k` lists the patches holding it, in increasing
    /// patch order), built with `x`; the backward pass gathers the gradient's rows through it.
    pub xt: SparseRows,
    /// The noise vector `xi_i` of each sample (row `i`).
    pub noise: SparseRows,
    /// Which stored patch of each sample is the signal patch.
    pub signal_patch: Vec<usize>,
}

impl PatchData {
    /// Draws `n` samples from the distribution `setting` describes. With `flips` (the training
    /// set), each label is flipped with probability `label_flip` by one draw from `flips` per
    /// sample (no draw when `label_flip = 0`); the samples' own draws come from `rng` alone.
    pub fn generate(setting: &DataSetting, n: usize, rng: &mut ChaCha8Rng, mut flips: Option<&mut ChaCha8Rng>) -> Self {
        let d = setting.d;
        let separate = setting.feature_noise == FeatureNoise::SeparatePatch;
        let stored = setting.patches + usize::from(separate);
        let mut x = SparseRows::new();
        let mut noise = SparseRows::new();
        let (mut y, mut clean_y, mut signal_patch) =
            (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
        for _ in 0..n {
            let label: f64 = if rng.random::<bool>() { 1.0 } else { -1.0 };
            // Noise patches, each on its own support.
            let mut noise_patches: Vec<Vec<(u32, f64)>> = Vec::with_capacity(setting.patches - 1);
            for _ in 0..setting.patches - 1 {
                let support: Vec<usize> = match setting.noise {
                    NoiseKind::Sparse => rand::seq::index::sample(rng, d - 1, setting.s).into_vec(),
                    NoiseKind::Dense => (0..d - 1).collect(),
                };
                let entries = support
                    .into_iter()
                    .map(|k| {
                        let z: f64 = StandardNormal.sample(rng);
                        ((k + 1) as u32, setting.sigma_p * z)
                    })
                    .collect();
                noise_patches.push(entries);
            }
            let feature_noise = (0u32, -setting.alpha * label);
            if !separate {
                noise_patches[0].push(feature_noise);
            }
            let mut xi: Vec<(u32, f64)> = noise_patches.iter().flatten().copied().collect();
            xi.sort_by_key(|e| e.0);
            // The noise vector is the sum of the noise patches: merge equal indices.
            let mut merged: Vec<(u32, f64)> = Vec::with_capacity(xi.len());
            for (i, v) in xi {
                match merged.last_mut() {
                    Some(last) if last.0 == i => last.1 += v,
                    _ => merged.push((i, v)),
                }
            }
            noise.push_row(merged);
            // Patch order: the signal patch at a uniform position among the stored patches.
            let mut all: Vec<Vec<(u32, f64)>> = noise_patches;
            if separate {
                all.push(vec![feature_noise]);
            }
            let pos = rng.random_range(0..stored);
            all.insert(pos, vec![(0u32, label)]);
            for p in all {
                x.push_row(p);
            }
            let flipped = match flips.as_deref_mut() {
                Some(f) if setting.label_flip > 0.0 => f.random::<f64>() < setting.label_flip,
                _ => false,
            };
            clean_y.push(label);
            y.push(if flipped { -label } else { label });
            signal_patch.push(pos);
        }
        let xt = x.transpose(d);
        Self { d, patches: stored, y, clean_y, x, xt, noise, signal_patch }
    }

    /// The training set (stream 0) and the test set (stream 1) of a setting with seed `seed`.
    pub fn train_test(setting: &DataSetting, seed: u64) -> (Self, Self) {
        let train = Self::generate(setting, setting.n, &mut rng(seed, STREAM_TRAIN), Some(&mut rng(seed, STREAM_FLIP)));
        let test = Self::generate(setting, setting.test_size, &mut rng(seed, STREAM_TEST), None);
        (train, test)
    }

    /// The samples `batch` (in that order, repeats allowed) as a data set of their own, written
    /// into `out` (its buffers reused): patches, labels and the transposed patches over `d`
    /// coordinates. The noise vectors are left empty (a loss pass does not read them).
    pub fn select_into(&self, batch: &[u32], out: &mut PatchData) {
        self.select_mapped_into(batch, out, self.d, |k| k);
    }

    /// [`PatchData::select_into`] with every coordinate `k` renamed `map(k)`, over `d`
    /// coordinates: the batch as a data set of its own rows only (the deferred rows of a
    /// minibatch, `train::lazy`).
    pub fn select_mapped_into(&self, batch: &[u32], out: &mut PatchData, d: usize, map: impl Fn(u32) -> u32) {
        out.d = d;
        out.patches = self.patches;
        out.y.clear();
        out.clean_y.clear();
        out.signal_patch.clear();
        let x = &mut out.x;
        x.ptr.clear();
        x.idx.clear();
        x.val.clear();
        x.ptr.push(0);
        for &i in batch {
            let i = i as usize;
            out.y.push(self.y[i]);
            out.clean_y.push(self.clean_y[i]);
            out.signal_patch.push(self.signal_patch[i]);
            for p in 0..self.patches {
                let (idx, val) = self.x.row(i * self.patches + p);
                x.idx.extend(idx.iter().map(|&k| map(k)));
                x.val.extend_from_slice(val);
                x.ptr.push(x.idx.len());
            }
        }
        out.xt = out.x.transpose(d);
        let noise = &mut out.noise;
        noise.ptr.clear();
        noise.ptr.resize(batch.len() + 1, 0);
        noise.idx.clear();
        noise.val.clear();
    }

    /// An empty data set (the buffer of [`PatchData::select_into`]).
    pub fn empty() -> Self {
        Self {
            d: 0,
            patches: 0,
            y: Vec::new(),
            clean_y: Vec::new(),
            x: SparseRows::new(),
            xt: SparseRows::new(),
            noise: SparseRows::new(),
            signal_patch: Vec::new(),
        }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Sum of the patches of sample `i` as a dense vector (the linear model's input).
    pub fn patch_sum_dense(&self, i: usize) -> Vec<f64> {
        let mut out = vec![0.0; self.d];
        for p in 0..self.patches {
            let (idx, val) = self.x.row(i * self.patches + p);
            for (&k, &v) in idx.iter().zip(val) {
                out[k as usize] += v;
            }
        }
        out
    }

    /// How the noise supports of the samples overlap (coordinate 1 excluded).
    pub fn overlap(&self) -> Overlap {
        let mut count = vec![0u32; self.d];
        let mut lists: Vec<Vec<u32>> = Vec::with_capacity(self.len());
        for i in 0..self.len() {
            let (idx, _) = self.noise.row(i);
            let l: Vec<u32> = idx.iter().copied().filter(|&k| k != 0).collect();
            for &k in &l {
                count[k as usize] += 1;
            }
            lists.push(l);
        }
        let shared_coordinates = count.iter().filter(|&&c| c >= 2).count();
        let samples_overlapping = lists.iter().filter(|l| l.iter().any(|&k| count[k as usize] >= 2)).count();
        let pairs_overlapping: u64 = {
            // Pairs (i < k) sharing at least one coordinate.
            let mut mark = vec![u32::MAX; self.len()];
            let mut owners: Vec<Vec<u32>> = vec![Vec::new(); self.d];
            for (i, l) in lists.iter().enumerate() {
                for &k in l {
                    owners[k as usize].push(i as u32);
                }
            }
            let mut total = 0u64;
            for (i, l) in lists.iter().enumerate() {
                for &k in l {
                    for &o in &owners[k as usize] {
                        if (o as usize) > i && mark[o as usize] != i as u32 {
                            mark[o as usize] = i as u32;
                            total += 1;
                        }
                    }
                }
            }
            total
        };
        let n = self.len() as u64;
        Overlap { samples_overlapping, pairs_overlapping, pairs_total: n * n.saturating_sub(1) / 2, shared_coordinates }
    }
}

/// Overlap of the training noise supports (reported with every run: see docs/limits.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overlap {
    /// Samples whose support shares a coordinate with another sample's.
    pub samples_overlapping: usize,
    /// Pairs of samples whose supports intersect.
    pub pairs_overlapping: u64,
    /// All pairs, `n (n - 1) / 2`.
    pub pairs_total: u64,
    /// Coordinates in two or more supports.
    pub shared_coordinates: usize,
}
