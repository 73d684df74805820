//! The Newton polish's two costs (docs/limit-points.md): building the dense reduced Hessian of
//! `L` and its blocked Cholesky factorization, at the default data (`d = 1000`, `n = 200`, so
//! `k = 201`) with `m = 5` filters per class (a `2010 x 2010` Hessian; the defaults' `m = 20`
//! gives `8040 x 8040`, whose times the `--to-limit` report prints). Throughput: the
//! factorization's `dim^3 / 3` multiply-adds.

use std::hint::black_box;

use adamgap::limit::{Cholesky, PatchBasis, ReducedProblem};
use adamgap::setting::Setting;
use adamgap::train::Experiment;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};

use super::common::config;

fn polish_parts(c: &mut Criterion) {
    let mut setting = Setting::default();
    setting.model.m = 5;
    setting.data.test_size = 1;
    let e = Experiment::new(&setting).expect("setting");
    let basis = PatchBasis::new(&e.train);
    let problem = ReducedProblem::new(e.model, &basis, &e.train);
    let a = basis.reduce(&e.init);
    let eval = problem.eval(&a);
    let mut h = problem.hessian(&eval);
    let dim = h.nrows();
    // W^(0) is no minimizer: shift by the largest absolute row sum (Gershgorin) so the factor
    // timed is a complete one (the cost does not depend on the values).
    let shift = h.rows().into_iter().map(|r| r.iter().map(|x| x.abs()).sum::<f64>()).fold(0.0, f64::max);
    for t in 0..dim {
        h[[t, t]] += shift;
    }
    let label = format!("m={},dim={dim}", setting.model.m);
    let mut group = c.benchmark_group("limit");
    group.bench_function(BenchmarkId::new("reduced_hessian", &label), |b| {
        b.iter(|| black_box(problem.hessian(&problem.eval(black_box(&a)))))
    });
    group.throughput(Throughput::Elements((dim * dim * dim / 3) as u64));
    group.bench_function(BenchmarkId::new("cholesky", &label), |b| {
        b.iter_batched(
            || h.clone(),
            |m| black_box(Cholesky::factor(m).expect("positive definite")),
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = config().sample_size(10);
    targets = polish_parts
}
