//! A checkpoint's test-error evaluation: the forward pass over 10,000 fresh test points at the
//! default setting (throughput in multiply-adds, `nnz 2m`).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};

use super::common::{Fixture, Sizes, config};

fn errors_default(c: &mut Criterion) {
    let fx = Fixture::test(Sizes::DEFAULT, 10_000);
    let mut group = c.benchmark_group("eval/default");
    group.throughput(Throughput::Elements((fx.nnz() * 2 * fx.sizes.m) as u64));
    let mut ws = fx.model.workspace(fx.data.patches);
    group.bench_function(BenchmarkId::new("test_errors_10000", fx.sizes.label()), |b| {
        b.iter(|| black_box(fx.model.errors(black_box(&fx.w0), &fx.data, &mut ws)))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = config().sample_size(10);
    targets = errors_default
}
