//! The step at large `d` on the path's scaling (`sweeps/path-d.toml`: `n = 50`,
//! `s = round(sqrt(d))`, `m = 20`; `d = 1e5`), GD and Adam on 1 and 2 threads:
//!
//! - `{gd,adam}_eager`: loss + gradient + update of every parameter (`optim::minimize`'s step);
//! - `{gd,adam}_deferred_x100`: [`SPACING`] = 100 steps of the deferred run
//!   (`train::DeferredSteps`: the touched rows every step, the untouched rows' step constants
//!   recorded), then the catch-up of the untouched rows in bulk: 100 steps is about the mean
//!   checkpoint spacing of a `path-d` run (2,000 steps, 19 checkpoints). One iteration is 100
//!   steps: the time per iteration divided by 100 is the amortized cost per step;
//! - `{gd,adam}_catch_up_x100` (1 thread): the catch-up alone (`optim::Deferred::catch_up`) of 100
//!   recorded steps over the untouched rows: divided by 100 times the untouched parameters, the
//!   cost of one replayed update in cache (docs/performance.md).
//!
//! Both step variants give the same bits (`tests/deferred.rs`).

use std::hint::black_box;
use std::time::Duration;

use adamgap::optim::{self, Deferred};
use adamgap::setting::OptimizerSetting;
use adamgap::train::DeferredSteps;
use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group};

use super::common::{Fixture, Sizes, config};
use super::step::{in_pool, pool};

/// Steps between catch-ups of the deferred step.
pub const SPACING: usize = 100;

fn step_large_d(c: &mut Criterion) {
    let mut group = c.benchmark_group("step/large_d");
    let fx = Fixture::train(Sizes::path(100_000));
    let untouched: Vec<u32> = (0..fx.sizes.d as u32)
        .filter(|&k| k != 0 && fx.data.xt.ptr[k as usize] == fx.data.xt.ptr[k as usize + 1])
        .collect();
    let width = 2 * fx.sizes.m;
    let lambda = fx.model.lambda;
    for threads in [1, 2] {
        let pool = pool(threads);
        let label = format!("{},threads={threads}", fx.sizes.label());
        for (name, setting) in [("gd", OptimizerSetting::paper_gd()), ("adam", OptimizerSetting::paper_adam())] {
            group.throughput(Throughput::Elements(fx.madds() + fx.params() as u64));
            {
                let mut w = fx.w0.clone();
                let mut g = vec![0.0; fx.params()];
                let mut ws = fx.model.workspace(fx.data.patches);
                let mut opt = optim::build(&setting, fx.params());
                group.bench_function(
                    BenchmarkId::new(format!("{name}_eager"), &label),
                    in_pool(&pool, || {
                        black_box(fx.model.loss_grad(w.as_slice(), &fx.data, &mut g, &mut ws));
                        opt.step(w.as_mut_slice(), &g, lambda);
                    }),
                );
            }
            // Iterations of 100 steps: few of them, each timed alone.
            group.sampling_mode(SamplingMode::Flat);
            {
                let mut s = DeferredSteps::new(&fx.model, &fx.data, &fx.w0, &setting);
                group.throughput(Throughput::Elements(SPACING as u64 * (fx.madds() + fx.params() as u64)));
                group.bench_function(
                    BenchmarkId::new(format!("{name}_deferred_x100"), &label),
                    in_pool(&pool, || {
                        for _ in 0..SPACING {
                            black_box(s.eval());
                            s.step();
                        }
                        black_box(s.weights());
                    }),
                );
            }
            if threads == 1 {
                // The constants of SPACING real steps, replayed on the untouched rows: steps 1001 to
                // 1100, where Adam's first bias correction is exactly 1 (as for most of a run).
                let mut opt = optim::build(&setting, 1);
                for _ in 0..1000 {
                    opt.begin_step(lambda);
                }
                let steps: Vec<_> = (0..SPACING).map(|_| opt.begin_step(lambda).consts()).collect();
                let mut w = fx.w0.clone();
                let mut deferred = Deferred::new(w.as_slice(), untouched.clone(), width, f64::MAX);
                group.throughput(Throughput::Elements((SPACING * untouched.len() * width) as u64));
                group.bench_function(
                    BenchmarkId::new(format!("{name}_catch_up_x100"), &label),
                    in_pool(&pool, || {
                        for &step in &steps {
                            deferred.push(step);
                        }
                        black_box(deferred.catch_up(w.as_mut_slice()));
                    }),
                );
            }
            group.sampling_mode(SamplingMode::Auto);
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = config().sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = step_large_d
}
