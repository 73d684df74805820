//! Fixtures: a data set, the model and `W^(0)` of the paper's setting with some sizes changed, and
//! the cost model of one step (docs/performance.md).

use std::time::Duration;

use adamgap::data::{PatchData, STREAM_TEST, STREAM_TRAIN, rng};
use adamgap::model::{Cnn, Weights};
use adamgap::setting::Setting;
use criterion::Criterion;

/// Sizes of one benchmark point.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    pub d: usize,
    pub n: usize,
    pub s: usize,
    pub m: usize,
}

impl Sizes {
    /// The paper's default: `d = 1000, n = 200, s = 100, m = 20`.
    pub const DEFAULT: Self = Self { d: 1000, n: 200, s: 100, m: 20 };

    /// The ladder rule in `d`: `n` and `m` fixed, `s = round(100 sqrt(d / 1000))`, i.e. the paper's
    /// `s = Theta(sqrt(d) / n^2)` at fixed `n`, normalized so that `d = 1000` gives the default
    /// `s = 100`.
    pub fn with_d(d: usize) -> Self {
        let s = (100.0 * (d as f64 / 1000.0).sqrt()).round() as usize;
        Self { d, s, ..Self::DEFAULT }
    }

    /// The `BenchmarkId` parameter, e.g. `d=1000,n=200,s=100,m=20`.
    pub fn label(&self) -> String {
        format!("d={},n={},s={},m={}", self.d, self.n, self.s, self.m)
    }

    /// The default `Setting` with these sizes.
    pub fn setting(&self) -> Setting {
        let mut st = Setting::default();
        st.data.d = self.d;
        st.data.n = self.n;
        st.data.s = self.s;
        st.model.m = self.m;
        st
    }
}

/// Everything a step needs, built outside the timed region.
pub struct Fixture {
    pub sizes: Sizes,
    pub model: Cnn,
    pub data: PatchData,
    pub w0: Weights,
}

impl Fixture {
    /// Training data (stream 0 of seed 1) and `W^(0)` for `sizes`.
    pub fn train(sizes: Sizes) -> Self {
        let st = sizes.setting();
        let data = PatchData::generate(&st.data, sizes.n, &mut rng(st.seed, STREAM_TRAIN), None);
        Self::with_data(sizes, data)
    }

    /// `count` test points (stream 1 of seed 1) and `W^(0)` for `sizes`.
    pub fn test(sizes: Sizes, count: usize) -> Self {
        let st = sizes.setting();
        let data = PatchData::generate(&st.data, count, &mut rng(st.seed, STREAM_TEST), None);
        Self::with_data(sizes, data)
    }

    fn with_data(sizes: Sizes, data: PatchData) -> Self {
        let st = sizes.setting();
        let model = Cnn::from_setting(&st.model, sizes.d);
        let w0 = Weights::init(sizes.d, sizes.m, st.model.sigma0, st.seed);
        Self { sizes, model, data, w0 }
    }

    /// Stored nonzeros of all patches (`n (s + 2)` for the paper's two patches).
    pub fn nnz(&self) -> usize {
        self.data.x.nnz()
    }

    /// Multiply-adds of one loss + gradient pass: forward and backward, `2 * nnz * 2m`.
    pub fn madds(&self) -> u64 {
        (2 * self.nnz() * 2 * self.sizes.m) as u64
    }

    /// Parameters, `2 m d`.
    pub fn params(&self) -> usize {
        2 * self.sizes.m * self.sizes.d
    }
}

/// The Criterion configuration of every group: no plots (the plotters backend is slow), short
/// warm-up and measurement so `cargo bench` stays under 3 minutes; groups shorten it further.
pub fn config() -> Criterion {
    Criterion::default()
        .without_plots()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
}
