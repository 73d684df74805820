//! The convex case's gradient enclosure (`adamgap::certify::enclosure::gradient_enclosure`) at the
//! default convex setting, at two precisions of the enclosed loss derivative: 53 bits (binary64's)
//! and 200 bits. Exact dyadic arithmetic everywhere else, so the cost is dominated by the big
//! integers, not by the sparse structure. Throughput: stored nonzeros of the reduced rows.

use std::hint::black_box;

use adamgap::certify::enclosure::gradient_enclosure;
use adamgap::certify::{ConvexSetting, Dyadic};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};

use super::common::config;

fn enclosure(c: &mut Criterion) {
    let setting = ConvexSetting::default();
    let problem = setting.problem().expect("the default convex setting is valid");
    let p = &problem.reduced;
    // A fixed exact point (small binary64 values, deterministic).
    let u: Vec<Dyadic> =
        (0..p.d).map(|k| Dyadic::from_f64(((k * 7919 % 1000) as f64 - 500.0) * 1e-5).expect("finite")).collect();
    let mut group = c.benchmark_group("certify");
    group.throughput(Throughput::Elements(p.x.nnz() as u64));
    for prec in [53u32, 200] {
        group.bench_function(
            BenchmarkId::new("gradient_enclosure", format!("d={},n={},prec={prec}", p.d, p.n())),
            |b| b.iter(|| black_box(gradient_enclosure(p, black_box(&u), prec))),
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = config().sample_size(10);
    targets = enclosure
}
