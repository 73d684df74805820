//! One training step at the paper's default setting: loss + gradient, GD / Adam / sign GD steps,
//! the update loops alone, and the dense reference step (plain matrix products on the dense
//! `(n P) x d` patch matrix) so that the gain from sparsity is measured in the same run.
//!
//! Throughput is in multiply-adds of the sparse cost model (`2 nnz 2m`), for every entry of the
//! group including the dense one, so the reported rates compare like for like.

use std::hint::black_box;

use adamgap::model::DenseReference;
use adamgap::optim;
use adamgap::setting::{Decay, OptimizerSetting};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};

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

fn step_default(c: &mut Criterion) {
    let fx = Fixture::train(Sizes::DEFAULT);
    let label = fx.sizes.label();
    let mut group = c.benchmark_group("step/default");
    group.throughput(Throughput::Elements(fx.madds()));

    let mut g = vec![0.0; fx.params()];
    let mut ws = fx.model.workspace(fx.data.patches);
    group.bench_function(BenchmarkId::new("loss_grad", &label), |b| {
        b.iter(|| black_box(fx.model.loss_grad(black_box(fx.w0.as_slice()), &fx.data, &mut g, &mut ws)))
    });
    group.bench_function(BenchmarkId::new("loss_grad_portable", &label), |b| {
        b.iter(|| black_box(fx.model.loss_grad_portable(black_box(fx.w0.as_slice()), &fx.data, &mut g, &mut ws)))
    });

    for (name, setting) in optimizers() {
        // Full step: loss + gradient at the current weights, then the update (the training loop).
        let mut w = fx.w0.clone();
        let mut opt = optim::build(&setting, fx.params());
        group.bench_function(BenchmarkId::new(format!("{name}_step"), &label), |b| {
            b.iter(|| {
                let eval = fx.model.loss_grad(w.as_slice(), &fx.data, &mut g, &mut ws);
                opt.step(w.as_mut_slice(), &g, LAMBDA);
                black_box(eval)
            })
        });
        // The update loop alone, on a fixed gradient.
        let mut w = fx.w0.clone();
        let mut opt = optim::build(&setting, fx.params());
        fx.model.loss_grad(w.as_slice(), &fx.data, &mut g, &mut ws);
        group.bench_function(BenchmarkId::new(format!("{name}_update"), &label), |b| {
            b.iter(|| opt.step(black_box(w.as_mut_slice()), black_box(&g), LAMBDA))
        });
    }

    // The dense reference: the same loss, gradient and Adam update with dense matrix products.
    let mut dense = DenseReference::new(&fx.model, &fx.data);
    let mut w = fx.w0.clone();
    let mut opt = optim::build(&OptimizerSetting::paper_adam(), fx.params());
    group.sample_size(10);
    group.bench_function(BenchmarkId::new("dense_loss_grad", &label), |b| {
        b.iter(|| black_box(dense.loss_grad(&fx.model, black_box(fx.w0.as_slice()), &mut g)))
    });
    group.bench_function(BenchmarkId::new("dense_adam_step", &label), |b| {
        b.iter(|| {
            let eval = dense.loss_grad(&fx.model, w.as_slice(), &mut g);
            opt.step(w.as_mut_slice(), &g, LAMBDA);
            black_box(eval)
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = step_default
}
