//! The minibatch Adam step at the paper's default setting (`d = 1000, n = 200, s = 100, m = 20`)
//! with batches of `B = 2` (docs/model.md#minibatches), beside the floor it is held to: the
//! parameter update alone. On 1 and 2 threads:
//!
//! - `adam_update_floor`: Adam's fused update of all `2 m d` parameters alone (`FirstOrder`'s
//!   step), timed inside the eager run's steps (the batch's loss and gradient run untimed between
//!   updates): what any step of the run costs at least;
//! - `adam_b2_eager`: one eager minibatch step, the batch's loss and gradient on all `d` rows
//!   (`train::BatchObjective`) and the update of every parameter;
//! - `adam_b2_lagged_x100`: [`SPACING`] steps of the lagged run (`train::LaggedSteps`: the batch's
//!   rows brought up to date, its loss and gradient on them, their update; the other rows lag),
//!   then every row brought up to date: the time per iteration divided by 100 is the amortized
//!   cost per step;
//! - `adam_full_batch`: one full-batch step (`B = n = 200`), for the ratio of the two.
//!
//! The lagged and eager steps give the same bits (`tests/minibatch.rs`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use adamgap::optim::{self, FirstOrder, Method, Objective, Schedule};
use adamgap::setting::OptimizerSetting;
use adamgap::train::{BatchObjective, Batches, LaggedSteps};
use criterion::{Bencher, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group};

use super::common::{Fixture, Sizes, config};
use super::step::{in_pool, pool};

/// A benchmark routine that runs `f` on a thread of `pool` and counts only the time `f` reports
/// (the part of an iteration it timed itself).
fn part_in_pool<'a>(
    pool: &'a rayon::ThreadPool,
    mut f: impl FnMut() -> Duration + Send + 'a,
) -> impl FnMut(&mut Bencher) + 'a {
    move |b| b.iter_custom(|iters| pool.install(|| (0..iters).map(|_| f()).sum()))
}

/// Steps per iteration of the lagged step (its rows are all brought up to date at the end).
pub const SPACING: usize = 100;

fn minibatch_default(c: &mut Criterion) {
    let mut group = c.benchmark_group("minibatch/default");
    let fx = Fixture::train(Sizes::DEFAULT);
    let adam = OptimizerSetting::paper_adam();
    let mut st = fx.sizes.setting();
    st.train.batch_size = Some(2);
    let lambda = fx.model.lambda;
    for threads in [1, 2] {
        let pool = pool(threads);
        let label = format!("{},B=2,threads={threads}", fx.sizes.label());
        group.throughput(Throughput::Elements(fx.params() as u64));
        {
            // The eager run's steps, timing only their update: the floor on the very states and
            // gradients the step updates from (the divider's latency depends on the values; an
            // update repeated on one fixed gradient drifts into values no run reaches).
            let mut w = fx.w0.clone();
            let mut g = vec![0.0; fx.params()];
            let mut objective = BatchObjective::new(&fx.model, &fx.data, Batches::new(&st.train, fx.sizes.n, st.seed));
            let mut method = FirstOrder::new(&adam, Schedule::Constant, fx.params());
            let mut t = 0;
            group.bench_function(
                BenchmarkId::new("adam_update_floor", &label),
                part_in_pool(&pool, || {
                    black_box(objective.eval(w.as_slice(), &mut g, false));
                    t += 1;
                    let start = Instant::now();
                    let Ok(()) = method.step(t, w.as_mut_slice(), &g, lambda);
                    start.elapsed()
                }),
            );
        }
        {
            let mut w = fx.w0.clone();
            let mut g = vec![0.0; fx.params()];
            let mut objective = BatchObjective::new(&fx.model, &fx.data, Batches::new(&st.train, fx.sizes.n, st.seed));
            let mut method = FirstOrder::new(&adam, Schedule::Constant, fx.params());
            let mut t = 0;
            group.bench_function(
                BenchmarkId::new("adam_b2_eager", &label),
                in_pool(&pool, || {
                    black_box(objective.eval(w.as_slice(), &mut g, false));
                    t += 1;
                    let Ok(()) = method.step(t, w.as_mut_slice(), &g, lambda);
                }),
            );
        }
        {
            group.sampling_mode(SamplingMode::Flat);
            group.throughput(Throughput::Elements(SPACING as u64 * fx.params() as u64));
            let mut s =
                LaggedSteps::new(&fx.model, &fx.data, &fx.w0, &adam, Batches::new(&st.train, fx.sizes.n, st.seed));
            group.bench_function(
                BenchmarkId::new("adam_b2_lagged_x100", &label),
                in_pool(&pool, || {
                    for _ in 0..SPACING {
                        black_box(s.eval());
                        s.step();
                    }
                    black_box(s.weights());
                }),
            );
            group.sampling_mode(SamplingMode::Auto);
        }
        {
            group.throughput(Throughput::Elements(fx.params() as u64));
            let mut w = fx.w0.clone();
            let mut g = vec![0.0; fx.params()];
            let mut ws = fx.model.workspace(fx.data.patches);
            let mut opt = optim::build(&adam, fx.params());
            group.bench_function(
                BenchmarkId::new("adam_full_batch", &label),
                in_pool(&pool, || {
                    black_box(fx.model.loss_grad(w.as_slice(), &fx.data, &mut g, &mut ws));
                    opt.step(w.as_mut_slice(), &g, lambda);
                }),
            );
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = minibatch_default
}
