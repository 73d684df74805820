//! The Adam step (loss + gradient + update) along one size at a time, the others at the paper's
//! default (`d = 1000, n = 200, s = 100, m = 20`):
//!
//! - `ladder_d`: `d = 1e3, 1e4, 1e5` with `s = round(100 sqrt(d / 1000))` (the paper's
//!   `s = Theta(sqrt(d) / n^2)` at fixed `n`; `d = 1000` gives the default `s = 100`), `n`, `m` fixed;
//! - `ladder_n`: `n = 50 .. 800`; `ladder_m`: `m = 5 .. 80`; `ladder_s`: `s = 25 .. 400`.
//!
//! Throughput is the cost-model work `2 nnz 2m + 2m d` (multiply-adds of the passes plus
//! parameters updated), so a constant rate along a ladder means time linear in `n s m + m d`.
//! `docs/performance.md` fits the log-log slopes.

use std::hint::black_box;
use std::time::Duration;

use adamgap::optim;
use adamgap::setting::OptimizerSetting;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};

use super::common::{Fixture, Sizes, config};

fn adam_step(c: &mut Criterion, group_name: &str, points: &[Sizes]) {
    let mut group = c.benchmark_group(group_name);
    for &sizes in points {
        let fx = Fixture::train(sizes);
        group.throughput(Throughput::Elements(fx.madds() + fx.params() as u64));
        let mut w = fx.w0.clone();
        let mut g = vec![0.0; fx.params()];
        let mut ws = fx.model.workspace(fx.data.patches);
        let mut opt = optim::build(&OptimizerSetting::paper_adam(), fx.params());
        group.bench_function(BenchmarkId::new("adam_step", sizes.label()), |b| {
            b.iter(|| {
                let eval = fx.model.loss_grad(w.as_slice(), &fx.data, &mut g, &mut ws);
                opt.step(w.as_mut_slice(), &g, 1e-5);
                black_box(eval)
            })
        });
    }
    group.finish();
}

fn ladder_d(c: &mut Criterion) {
    adam_step(c, "ladder_d", &[1_000, 10_000, 100_000].map(Sizes::with_d));
}

fn ladder_n(c: &mut Criterion) {
    adam_step(c, "ladder_n", &[50, 100, 200, 400, 800].map(|n| Sizes { n, ..Sizes::DEFAULT }));
}

fn ladder_m(c: &mut Criterion) {
    adam_step(c, "ladder_m", &[5, 10, 20, 40, 80].map(|m| Sizes { m, ..Sizes::DEFAULT }));
}

fn ladder_s(c: &mut Criterion) {
    adam_step(c, "ladder_s", &[25, 50, 100, 200, 400].map(|s| Sizes { s, ..Sizes::DEFAULT }));
}

criterion_group! {
    name = benches;
    config = config().sample_size(10).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(1));
    targets = ladder_d, ladder_n, ladder_m, ladder_s
}
