//! One training step at the paper's default setting: loss + gradient, GD / Adam / sign GD steps,
//! the update loops alone, on 1 and 2 threads (`threads=` in the id; the passes split over a rayon
//! pool, bit-identical results), and the dense reference step on one thread (plain matrix
//! products on the dense `(n P) x d` patch matrix) so that the gain from sparsity is measured in
//! the same run.
//!
//! Throughput is in multiply-adds of the sparse cost model (`2 nnz 2m`), for every entry of the
//! group including the dense one, so the reported rates compare like for like.

use std::hint::black_box;
use std::time::Instant;

use adamgap::model::DenseReference;
use adamgap::optim;
use adamgap::setting::{Decay, OptimizerSetting};
use criterion::{Bencher, BenchmarkId, Criterion, Throughput, criterion_group};

use super::common::{Fixture, Sizes, config};

/// Weight decay of the default setting.
const LAMBDA: f64 = 1e-5;

fn optimizers() -> [(&'static str, OptimizerSetting); 3] {
    [
        ("gd", OptimizerSetting::paper_gd()),
        ("adam", OptimizerSetting::paper_adam()),
        ("sign_gd", OptimizerSetting::SignGd { eta: 5e-5, decay: Decay::Constant }),
    ]
}

/// A rayon pool of `threads` threads: every parallel pass of a step run inside it uses them.
pub fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a rayon thread pool")
}

/// A benchmark routine that times `f` on a thread of `pool` (so its parallel passes use `pool`).
pub fn in_pool<'a>(pool: &'a rayon::ThreadPool, mut f: impl FnMut() + Send + 'a) -> impl FnMut(&mut Bencher) + 'a {
    move |b| {
        b.iter_custom(|iters| {
            pool.install(|| {
                let start = Instant::now();
                for _ in 0..iters {
                    f();
                }
                start.elapsed()
            })
        })
    }
}

fn step_default(c: &mut Criterion) {
    let fx = Fixture::train(Sizes::DEFAULT);
    let mut group = c.benchmark_group("step/default");
    group.throughput(Throughput::Elements(fx.madds()));
    let mut g = vec![0.0; fx.params()];
    let mut ws = fx.model.workspace(fx.data.patches);

    for threads in THREADS {
        let label = format!("{},threads={threads}", fx.sizes.label());
        let pool = pool(threads);
        group.bench_function(
            BenchmarkId::new("loss_grad", &label),
            in_pool(&pool, || {
                black_box(fx.model.loss_grad(black_box(fx.w0.as_slice()), &fx.data, &mut g, &mut ws));
            }),
        );
        if threads == 1 {
            group.bench_function(
                BenchmarkId::new("loss_grad_portable", &label),
                in_pool(&pool, || {
                    black_box(fx.model.loss_grad_portable(black_box(fx.w0.as_slice()), &fx.data, &mut g, &mut ws));
                }),
            );
        }
        for (name, setting) in optimizers() {
            // Full step: loss + gradient at the current weights, then the update (the training
            // loop's step).
            let mut w = fx.w0.clone();
            let mut opt = optim::build(&setting, fx.params());
            group.bench_function(
                BenchmarkId::new(format!("{name}_step"), &label),
                in_pool(&pool, || {
                    black_box(fx.model.loss_grad(w.as_slice(), &fx.data, &mut g, &mut ws));
                    opt.step(w.as_mut_slice(), &g, LAMBDA);
                }),
            );
            // The update alone, on a fixed gradient.
            let mut w = fx.w0.clone();
            let mut opt = optim::build(&setting, fx.params());
            fx.model.loss_grad(w.as_slice(), &fx.data, &mut g, &mut ws);
            group.bench_function(
                BenchmarkId::new(format!("{name}_update"), &label),
                in_pool(&pool, || opt.step(black_box(w.as_mut_slice()), black_box(&g), LAMBDA)),
            );
        }
    }

    // The dense reference on one thread (ndarray's matrix products are single-threaded): the same
    // loss, gradient and Adam update with dense matrix products.
    let label = format!("{},threads=1", fx.sizes.label());
    let one = pool(1);
    let mut dense = DenseReference::new(&fx.model, &fx.data);
    group.sample_size(10);
    group.bench_function(
        BenchmarkId::new("dense_loss_grad", &label),
        in_pool(&one, || {
            black_box(dense.loss_grad(&fx.model, black_box(fx.w0.as_slice()), &mut g));
        }),
    );
    let mut w = fx.w0.clone();
    let mut opt = optim::build(&OptimizerSetting::paper_adam(), fx.params());
    group.bench_function(
        BenchmarkId::new("dense_adam_step", &label),
        in_pool(&one, || {
            black_box(dense.loss_grad(&fx.model, w.as_slice(), &mut g));
            opt.step(w.as_mut_slice(), &g, LAMBDA);
        }),
    );
    group.finish();
}

/// Thread counts of the sparse step: one thread (like for like with the dense reference) and the
/// machine's two.
const THREADS: [usize; 2] = [1, 2];

criterion_group! {
    name = benches;
    config = config();
    targets = step_default
}
