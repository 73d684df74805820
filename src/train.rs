//! The training loop: one experiment (data, model, `W^(0)`), any number of optimizers from the same
//! initialization, a trace at checkpoints, and an honest stop reason for every run.
//!
//! Every run goes through the crate's one loop ([`optim::minimize`]), which stops at the first of:
//! a non-finite objective or gradient (divergence, with the step), `||grad L||_2 <= grad_tol` (when
//! `grad_tol > 0`), or the step budget. Several optimizers run side by side on the current thread
//! pool, and each step splits its passes over the same pool ([`crate::parallel`]); no result
//! depends on the number of threads (every sum keeps its order).
//!
//! Where most rows of `W` are touched by no training patch (large `d`), a run defers them
//! (`train/lazy.rs`): such a row gets no loss gradient, so the step computes the touched rows
//! only, and the untouched rows catch up on the recorded steps, in cache, wherever something reads
//! them (checkpoints, the end). The result is bit-identical to the eager run
//! ([`Experiment::run_eager`]); [`Experiment::run`] picks the deferred run where it pays
//! ([`Experiment::defers`]).

use std::convert::Infallible;
use std::time::Instant;

use crate::model::Weights;
use crate::optim::{self, Budget, FirstOrder, Method, Objective, Observer, Schedule};
use crate::setting::OptimizerSetting;

mod batches;
mod experiment;
mod lazy;
mod record;
pub use batches::{BatchObjective, Batches};
pub use experiment::{Checkpoint, Experiment, Run};
pub use lazy::{DeferredSteps, LaggedSteps, MAX_PENDING};
pub use record::{TrainObjective, TrainObserver, TrainPoint};

impl Experiment {
    /// Trains one optimizer from `W^(0)`; `progress` is called with the number of steps done. The
    /// deferred run ([`Experiment::run_deferred`]) where it pays ([`Experiment::defers`]), else
    /// the eager one ([`Experiment::run_eager`]): the same result, bit for bit.
    pub fn run(&self, opt: &OptimizerSetting, progress: &(dyn Fn(usize) + Sync)) -> Run {
        let start = Instant::now();
        let deferred = if self.defers() { self.run_deferred(opt, progress) } else { None };
        let mut run = deferred.unwrap_or_else(|| self.run_eager(opt, progress));
        run.seconds = start.elapsed().as_secs_f64();
        run
    }

    /// Whether [`Experiment::run`] defers the untouched rows: when at least a quarter of the rows of
    /// `W` are touched by no training patch (at a fifth the two runs tie; docs/performance.md) and
    /// the run has no gradient tolerance.
    ///
    /// A minibatch run lags the rows each batch does not touch where a batch touches at most
    /// three quarters of the rows on average (`B` times the mean number of entries of a sample).
    pub fn defers(&self) -> bool {
        if self.setting.train.grad_tol != 0.0 {
            return false;
        }
        if self.full_batch() {
            return 4 * lazy::untouched_rows(&self.train) >= self.train.d;
        }
        let per_sample = self.train.x.nnz().div_ceil(self.train.len().max(1));
        4 * self.setting.train.batch(self.train.len()).saturating_mul(per_sample) <= 3 * self.train.d
    }

    /// Trains one optimizer from `W^(0)` through the one loop ([`optim::minimize`]), every parameter
    /// at every step; `progress` is called with the number of steps done. A minibatch run
    /// ([`Experiment::full_batch`] false) steps from its batches' gradients ([`BatchObjective`]).
    pub fn run_eager(&self, opt: &OptimizerSetting, progress: &(dyn Fn(usize) + Sync)) -> Run {
        let mut method = FirstOrder::new(opt, Schedule::Constant, self.init.as_slice().len());
        let w = self.init.clone();
        if self.full_batch() {
            let mut objective = TrainObjective::new(&self.model, &self.train);
            self.run_with(opt, &mut objective, &mut method, w, &self.init, progress, &mut ())
        } else {
            self.run_minibatch(opt, progress)
        }
    }

    /// Trains one optimizer from `W^(0)` on the setting's batches ([`Batches`]) through the one
    /// loop, every parameter at every step, whatever the batch size: at `batch_size = n` without
    /// replacement every batch is the whole training set in order, and the run is the
    /// full-batch run bit for bit (`tests/minibatch.rs`).
    pub fn run_minibatch(&self, opt: &OptimizerSetting, progress: &(dyn Fn(usize) + Sync)) -> Run {
        let mut method = FirstOrder::new(opt, Schedule::Constant, self.init.as_slice().len());
        let mut objective = BatchObjective::new(
            &self.model,
            &self.train,
            Batches::new(&self.setting.train, self.train.len(), self.setting.seed),
        );
        self.run_with(opt, &mut objective, &mut method, self.init.clone(), &self.init, progress, &mut ())
    }

    /// Trains `opt` from `w` (in any scalar: [`TrainPoint`]) through the one loop
    /// ([`optim::minimize`]) with `objective` and `method`, recording the run by the one
    /// bookkeeping (`train/record.rs`: checkpoints, stop reason, feature reversal, progress);
    /// `companion` watches every point and step too (a lockstep copy, [`optim::Lockstep`], or
    /// `()`). `init` is the run's `W^(0)` in binary64 ([`Run::moved`]). The binary64 run
    /// ([`Experiment::run_eager`]) and the precision-generic runs (`crate::precision::train`) are
    /// this with their objective and method.
    #[allow(clippy::too_many_arguments)]
    pub fn run_with<P, O, M, B>(
        &self,
        opt: &OptimizerSetting,
        objective: &mut O,
        method: &mut M,
        mut w: P,
        init: &Weights,
        progress: &(dyn Fn(usize) + Sync),
        companion: &mut B,
    ) -> Run
    where
        P: TrainPoint,
        O: Objective<P::Scalar, Extra = P::Extra>,
        M: Method<P::Scalar, Error = Infallible>,
        B: Observer<P, P::Extra, P::Scalar>,
    {
        let start = Instant::now();
        let budget = Budget { steps: self.setting.train.steps, grad_tol: self.setting.train.grad_tol };
        let mut observer = (TrainObserver::new(self, progress, objective.is_full()), companion);
        let Ok(stop) = optim::minimize(objective, method, &mut w, budget, &mut observer);
        record::finish(opt, start, stop.reason, w, init, observer.0)
    }

    /// Trains one optimizer from `W^(0)` with the untouched rows of `W` deferred (`train/lazy.rs`):
    /// the same run as [`Experiment::run_eager`], bit for bit, with a step whose cost grows with
    /// the touched rows instead of `d`. `None` where that cannot be shown: a gradient tolerance (its
    /// test sums the whole gradient at every step), or an untouched weight beyond the bound of the
    /// finiteness test (the eager run would then sum the gradient exactly at that step).
    ///
    /// A minibatch run lags, at each step, the rows its batch does not touch
    /// ([`LaggedSteps`]): the same run as [`Experiment::run_minibatch`], bit for bit.
    pub fn run_deferred(&self, opt: &OptimizerSetting, progress: &(dyn Fn(usize) + Sync)) -> Option<Run> {
        let start = Instant::now();
        let (stop, w, observer) =
            if self.full_batch() { lazy::run(self, opt, progress)? } else { lazy::run_batches(self, opt, progress)? };
        Some(record::finish(opt, start, stop, w, &self.init, observer))
    }

    /// Trains every optimizer of the setting from `W^(0)`, side by side on the current thread pool
    /// (results do not depend on its size). `progress(k, steps)` reports optimizer `k`'s progress.
    pub fn run_all(&self, progress: &(dyn Fn(usize, usize) + Sync)) -> Vec<Run> {
        let opts = &self.setting.optimizers;
        crate::parallel::map_indexed(opts.len(), |k| self.run(&opts[k], &|t| progress(k, t)))
    }
}
