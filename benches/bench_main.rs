//! Per-step cost of adamgap (docs/performance.md): one criterion binary, a module per topic under
//! `benches/benchmarks/`. Run everything with `cargo bench` (about 4.5 minutes, 2 of them the
//! large-`d` group), or one topic with a filter, e.g. `cargo bench -- step/` or
//! `cargo bench -- ladder_d`. The cost model, the machine
//! probe and the figures are in `docs/performance.md`.
//!
//! | group | what is timed |
//! |---|---|
//! | `step/default` | loss + gradient, GD / Adam / sign GD steps (loss + gradient + update) and the update loops alone on 1 and 2 threads, and the dense reference step, at the paper's default setting |
//! | `step/large_d` | GD and Adam steps at `d = 1e5` on the path's scaling (`n = 50`, `s = round(sqrt(d))`), eager against deferred (untouched rows caught up in bulk every 100 steps, amortized), and the catch-up alone, on 1 and 2 threads |
//! | `minibatch/default` | the Adam step with batches of `B = 2` at the default setting, eager and with the batch's untouched rows lagging (amortized over 100 steps), beside the floor of the update alone and the full-batch step, on 1 and 2 threads |
//! | `eval/default` | the test error on 10,000 fresh points (a checkpoint's forward pass) |
//! | `ladder_d`, `ladder_n`, `ladder_m`, `ladder_s` | the Adam step along one parameter, the others at their defaults |
//! | `probe` | the machine: packed multiply-add throughput in L1, memory bandwidth, Adam's divider-bound update in L1 |
//! | `certify` | the convex certificate: radius of one point in u (128 and 256 bits) and in W, the 40-digit minimizer |
//! | `limit` | the Newton polish's parts at the default data with `m = 5`: the dense reduced Hessian (`2010 x 2010`) and its blocked Cholesky factorization |
//! | `precision/default` | one Adam step in binary64 and in double-double on one thread (their ratio), the double-double loss + gradient, Adam's double-double update on vectors and one parameter after the other, the gather with and without FMA |

use criterion::criterion_main;

mod benchmarks;

criterion_main!(
    benchmarks::step::benches,
    benchmarks::large_d::benches,
    benchmarks::minibatch::benches,
    benchmarks::eval::benches,
    benchmarks::ladder::benches,
    benchmarks::probe::benches,
    benchmarks::certify::benches,
    benchmarks::precision::benches,
    benchmarks::limit::benches
);
