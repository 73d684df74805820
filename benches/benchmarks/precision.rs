//! One Adam step in binary64 (the fast kernels) and in double-double (the precision path), on one
//! thread at the paper's default setting, in the same group so that their ratio is measured in one
//! run (docs/precision.md states it). Also the double-double loss + gradient alone, Adam's
//! double-double update alone on vectors and one parameter after the other, and the gather with
//! and without FMA (each pair gives the same bits).

use std::hint::black_box;
use std::time::Instant;

use adamgap::optim;
use adamgap::precision::adam::{AdamStep, adam_dd};
use adamgap::precision::optim::GenericOptimizer;
use adamgap::precision::{Dd, kernel, model};
use adamgap::setting::OptimizerSetting;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};

use super::common::{Fixture, Sizes, config};

/// Weight decay of the default setting.
const LAMBDA: f64 = 1e-5;

fn precision_default(c: &mut Criterion) {
    let fx = Fixture::train(Sizes::DEFAULT);
    let mut group = c.benchmark_group("precision/default");
    group.throughput(Throughput::Elements(fx.madds()));
    let label = format!("{},threads=1", fx.sizes.label());
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a rayon pool");
    let adam = OptimizerSetting::paper_adam();

    let mut w = fx.w0.clone();
    let mut g = vec![0.0; fx.params()];
    let mut ws = fx.model.workspace(fx.data.patches);
    let mut opt = optim::build(&adam, fx.params());
    group.bench_function(BenchmarkId::new("f64_adam_step", &label), |b| {
        b.iter_custom(|iters| {
            one.install(|| {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(fx.model.loss_grad(w.as_slice(), &fx.data, &mut g, &mut ws));
                    opt.step(w.as_mut_slice(), &g, LAMBDA);
                }
                start.elapsed()
            })
        })
    });

    let mut wd: Vec<Dd> = fx.w0.as_slice().iter().map(|&x| Dd::from_f64(x)).collect();
    let mut gd = vec![Dd::ZERO; wd.len()];
    let mut optd = GenericOptimizer::<Dd>::new(&adam, wd.len());
    group.bench_function(BenchmarkId::new("dd_adam_step", &label), |b| {
        b.iter_custom(|iters| {
            one.install(|| {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(model::loss_grad(&fx.model, &wd, &fx.data, &mut gd));
                    optd.step(&mut wd, &gd, LAMBDA);
                }
                start.elapsed()
            })
        })
    });

    let w0: Vec<Dd> = fx.w0.as_slice().iter().map(|&x| Dd::from_f64(x)).collect();
    group.bench_function(BenchmarkId::new("dd_loss_grad", &label), |b| {
        b.iter_custom(|iters| {
            one.install(|| {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(model::loss_grad(&fx.model, black_box(&w0), &fx.data, &mut gd));
                }
                start.elapsed()
            })
        })
    });
    // Adam's update alone (on the gradient at W^(0)), on vectors against one parameter after the
    // other (the two give the same bits).
    model::loss_grad(&fx.model, &w0, &fx.data, &mut gd);
    let p = adam_constants(&adam, 10);
    let (mut wa, mut ma, mut va) = (w0.clone(), vec![Dd::ZERO; w0.len()], vec![Dd::ZERO; w0.len()]);
    for vectors in [true, false] {
        group.bench_function(BenchmarkId::new(format!("dd_adam_update_vectors={vectors}"), &label), |b| {
            b.iter(|| adam_dd(&mut wa, &gd, &mut ma, &mut va, &p, vectors))
        });
    }
    // The forward gather alone (all patches), FMA copy against the baseline copy.
    let w2 = 2 * fx.sizes.m;
    let mut z = vec![Dd::ZERO; fx.data.x.rows() * w2];
    for fma in [true, false] {
        group.bench_function(BenchmarkId::new(format!("dd_forward_gather_fma={fma}"), &label), |b| {
            b.iter(|| kernel::gather_rows(black_box(&w0), w2, &fx.data.x, 0, &mut z, fma))
        });
    }
    group.finish();
}

/// Adam's double-double constants at step `t`, as the optimizer computes them.
fn adam_constants(setting: &OptimizerSetting, t: u32) -> AdamStep<Dd> {
    let OptimizerSetting::Adam { eta, b1, b2, eps, .. } = *setting else { panic!("an Adam setting") };
    let one = Dd::ONE;
    AdamStep {
        b1,
        b2,
        omb1: one.sub(Dd::from_f64(b1)),
        omb2: one.sub(Dd::from_f64(b2)),
        c1: one.sub(Dd::from_f64(b1).powi(t)),
        c2: one.sub(Dd::from_f64(b2).powi(t)),
        eps: Dd::from_f64(eps),
        eta,
        coupled: LAMBDA,
        decay: Dd::ZERO,
    }
}

criterion_group! {
    name = benches;
    config = config();
    targets = precision_default
}
