//! Cost of the convex certificate (docs/convex.md) on the default paper-linear problem (d = 1000, n = 200,
//! m = 20): the exact gradient enclosure and radius of one point in `u` at 128 and 256 bits, the
//! radius in `W` (40,000 parameters), and the high-precision minimizer to 40 digits.

use std::hint::black_box;

use adamgap::certify::enclosure::{ExactPoint, certify_exact_point, certify_u, exact_vec};
use adamgap::certify::{ConvexSetting, Dyadic, high_precision_minimizer};
use adamgap::model::Layout;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};

use super::common::config;

/// The benches of this module (called by `criterion_group!` below).
pub fn certify_benches(c: &mut Criterion) {
    let setting = ConvexSetting::default();
    let problem = setting.problem().expect("the default problem");
    let p = &problem.reduced;
    let star = high_precision_minimizer(p, 20, 128, 12).expect("a minimizer");
    let u: Vec<f64> = star.center.iter().map(Dyadic::to_f64_approx).collect();
    let u_exact = exact_vec(&u, "u").expect("finite");
    let m = problem.filters.expect("paper-linear");
    let w = Layout::new(m).lift(&u);

    let mut g = c.benchmark_group("certify");
    g.sample_size(10);
    g.measurement_time(std::time::Duration::from_secs(5));
    g.throughput(Throughput::Elements(p.x.nnz() as u64));
    for prec in [128u32, 256] {
        g.bench_with_input(BenchmarkId::new("radius_u", prec), &prec, |b, &prec| {
            b.iter(|| certify_u(black_box(p), black_box(&u_exact), prec))
        });
    }
    g.bench_function(BenchmarkId::new("radius_w", 128), |b| {
        b.iter(|| {
            let pt = ExactPoint::of(&problem, black_box(&w)).expect("finite");
            certify_exact_point(&problem, &pt, 128)
        })
    });
    g.bench_function(BenchmarkId::new("minimizer_digits", 40), |b| {
        b.iter(|| high_precision_minimizer(black_box(p), 40, 128, 12).expect("a minimizer"))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = certify_benches
}
