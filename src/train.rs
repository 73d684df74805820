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

use std::collections::BTreeSet;
use std::time::Instant;

use serde::Serialize;

use crate::data::{Overlap, PatchData};
use crate::error::Result;
use crate::model::{Cnn, CoefficientSummary, Coefficients, Weights, Workspace, regularized};
use crate::optim::{self, Budget, Eval, FirstOrder, Objective, Observer, Schedule, StopReason};
use crate::setting::{OptimizerSetting, Setting};

mod lazy;
pub use lazy::{DeferredSteps, MAX_PENDING};

/// Data, model and initialization shared by every optimizer of one experiment.
#[derive(Clone, Debug)]
pub struct Experiment {
    pub setting: Setting,
    pub train: PatchData,
    pub test: PatchData,
    pub model: Cnn,
    pub init: Weights,
}

impl Experiment {
    /// Validates the setting, draws the data and `W^(0)`.
    pub fn new(setting: &Setting) -> Result<Self> {
        setting.validate()?;
        let (train, test) = PatchData::train_test(&setting.data, setting.seed);
        let model = Cnn::from_setting(&setting.model, setting.data.d);
        let init = Weights::init(setting.data.d, setting.model.m, setting.model.sigma0, setting.seed);
        Ok(Self { setting: setting.clone(), train, test, model, init })
    }

    /// Overlap of the training noise supports.
    pub fn overlap(&self) -> Overlap {
        self.train.overlap()
    }

    /// The measured state at `w`, given the loss gradient `g_loss` at `w` (every entry, in index
    /// order) and the loss value.
    fn checkpoint(
        &self,
        step: usize,
        w: &Weights,
        g_loss: impl Iterator<Item = f64>,
        loss: f64,
        train_errors: usize,
    ) -> Checkpoint {
        let lambda = self.model.lambda;
        let (mut l2, mut l1) = (0.0, 0.0);
        for (g, &wi) in g_loss.zip(w.as_slice()) {
            let full = regularized(g, lambda, wi);
            l2 += full * full;
            l1 += full.abs();
        }
        let wn = w.norm();
        let mut ws = self.model.workspace(self.test.patches);
        Checkpoint {
            step,
            objective: loss + 0.5 * lambda * wn * wn,
            loss,
            train_error: train_errors as f64 / self.train.len() as f64,
            test_error: self.model.error_rate(w, &self.test, &mut ws),
            grad_norm_l2: l2.sqrt(),
            grad_norm_l1: l1,
            weight_norm: wn,
            coefficients: Coefficients::of(w, &self.train).summary(&self.train),
        }
    }

    /// The steps at which a trace record is taken: 0, the 1-2-5 series, `checkpoints` evenly spaced
    /// steps, and the budget.
    pub fn checkpoint_steps(&self) -> BTreeSet<usize> {
        let steps = self.setting.train.steps;
        let mut set = BTreeSet::from([0, steps]);
        let mut base = 1usize;
        while base <= steps {
            for k in [1, 2, 5] {
                if let Some(x) = base.checked_mul(k).filter(|&x| x <= steps) {
                    set.insert(x);
                }
            }
            let Some(next) = base.checked_mul(10) else { break };
            base = next;
        }
        let c = self.setting.train.checkpoints;
        for i in 1..=c {
            // In u128: `steps * i` cannot overflow.
            set.insert((steps as u128 * i as u128 / c.max(1) as u128) as usize);
        }
        set
    }

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
    pub fn defers(&self) -> bool {
        self.setting.train.grad_tol == 0.0 && 4 * lazy::untouched_rows(&self.train) >= self.train.d
    }

    /// Trains one optimizer from `W^(0)` through the one loop ([`optim::minimize`]), every parameter
    /// at every step; `progress` is called with the number of steps done.
    pub fn run_eager(&self, opt: &OptimizerSetting, progress: &(dyn Fn(usize) + Sync)) -> Run {
        let start = Instant::now();
        let model = &self.model;
        let budget = Budget { steps: self.setting.train.steps, grad_tol: self.setting.train.grad_tol };
        let mut w = self.init.clone();
        let mut objective = TrainObjective { model, data: &self.train, ws: model.workspace(self.train.patches) };
        let mut method = FirstOrder::new(opt, Schedule::Constant, w.as_slice().len());
        let mut observer = TrainObserver::new(self, progress);
        let Ok(stop) = optim::minimize(&mut objective, &mut method, &mut w, budget, &mut observer);
        self.finish(opt, start, stop.reason, w, observer)
    }

    /// Trains one optimizer from `W^(0)` with the untouched rows of `W` deferred (`train/lazy.rs`):
    /// the same run as [`Experiment::run_eager`], bit for bit, with a step whose cost grows with
    /// the touched rows instead of `d`. `None` where that cannot be shown: a gradient tolerance (its
    /// test sums the whole gradient at every step), or an untouched weight beyond the bound of the
    /// finiteness test (the eager run would then sum the gradient exactly at that step).
    pub fn run_deferred(&self, opt: &OptimizerSetting, progress: &(dyn Fn(usize) + Sync)) -> Option<Run> {
        let start = Instant::now();
        let (stop, w, observer) = lazy::run(self, opt, progress)?;
        Some(self.finish(opt, start, stop, w, observer))
    }

    /// The run from its stop, final weights and observer.
    fn finish(&self, opt: &OptimizerSetting, start: Instant, stop: StopReason, w: Weights, obs: TrainObserver) -> Run {
        let t = stop.step();
        (obs.progress)(t);
        let TrainObserver { trace, feature_reversal_step, .. } = obs;
        let moved = w.as_slice() != self.init.as_slice();
        let last = trace.last().cloned().expect("the trace always holds step 0");
        Run {
            optimizer: opt.clone(),
            name: opt.key().to_string(),
            steps: t,
            stop,
            seconds: start.elapsed().as_secs_f64(),
            feature_reversal_step,
            moved,
            last,
            trace,
            weights: w,
            weights_lo: None,
        }
    }

    /// Trains every optimizer of the setting from `W^(0)`, side by side on the current thread pool
    /// (results do not depend on its size). `progress(k, steps)` reports optimizer `k`'s progress.
    pub fn run_all(&self, progress: &(dyn Fn(usize, usize) + Sync)) -> Vec<Run> {
        let opts = &self.setting.optimizers;
        crate::parallel::map_indexed(opts.len(), |k| self.run(&opts[k], &|t| progress(k, t)))
    }
}

impl optim::Point for Weights {
    fn params(&self) -> &[f64] {
        self.as_slice()
    }
    fn params_mut(&mut self) -> &mut [f64] {
        self.as_mut_slice()
    }
}

/// The objective of a training run: the CNN's loss on the training data, its gradient, and the
/// training error count.
struct TrainObjective<'a> {
    model: &'a Cnn,
    data: &'a PatchData,
    ws: Workspace,
}

impl Objective for TrainObjective<'_> {
    type Extra = usize;
    fn lambda(&self) -> f64 {
        self.model.lambda
    }
    fn eval(&mut self, w: &[f64], g: &mut [f64], need_norm: bool) -> Eval<usize> {
        let eval = self.model.loss_grad(w, self.data, g, &mut self.ws);
        let lambda = self.model.lambda;
        // The exact norm where its value matters (the tolerance test); elsewhere only whether it
        // is finite, which small enough entries guarantee without the sequential sum.
        let grad_norm2 = (need_norm || !norm_is_finite(g, w, lambda)).then(|| grad_norm2(g.iter().copied(), w, lambda));
        Eval { loss: eval.loss, grad_norm2, extra: eval.errors }
    }
}

/// What a training run records along the way: the trace at checkpoints (and at the stop), the
/// first feature reversal, and progress every 64 steps.
struct TrainObserver<'a> {
    exp: &'a Experiment,
    checkpoints: BTreeSet<usize>,
    trace: Vec<Checkpoint>,
    feature_reversal_step: Option<usize>,
    progress: &'a (dyn Fn(usize) + Sync),
}

impl<'a> TrainObserver<'a> {
    fn new(exp: &'a Experiment, progress: &'a (dyn Fn(usize) + Sync)) -> Self {
        Self { exp, checkpoints: exp.checkpoint_steps(), trace: Vec::new(), feature_reversal_step: None, progress }
    }

    /// Whether point `t` is recorded: a checkpoint step, or an early stop.
    fn records(&self, t: usize, stop: Option<StopReason>) -> bool {
        let stops_early = matches!(stop, Some(StopReason::Diverged { .. } | StopReason::GradTol { .. }));
        self.checkpoints.contains(&t) || stops_early
    }

    /// Records point `t`: the weights, the loss gradient (every entry, in index order) and the
    /// evaluation there.
    fn record(&mut self, t: usize, w: &Weights, g: impl Iterator<Item = f64>, eval: &Eval<usize>) {
        self.trace.push(self.exp.checkpoint(t, w, g, eval.loss, eval.extra));
    }

    /// After step `t`, with the feature row of the new weights ([`Weights::feature_row`]).
    fn stepped(&mut self, t: usize, feature_row: &[f64]) {
        if self.feature_reversal_step.is_none() {
            let layout = self.exp.init.layout();
            let fmax =
                feature_row.iter().enumerate().map(|(c, &x)| layout.signed(c, x)).fold(f64::NEG_INFINITY, f64::max);
            if fmax < 0.0 {
                self.feature_reversal_step = Some(t);
            }
        }
        if t.is_multiple_of(64) {
            (self.progress)(t);
        }
    }
}

impl Observer<Weights, usize> for TrainObserver<'_> {
    fn at_point(&mut self, t: usize, w: &Weights, g: &[f64], eval: &Eval<usize>, stop: Option<StopReason>) {
        if self.records(t, stop) {
            self.record(t, w, g.iter().copied(), eval);
        }
    }

    fn after_step(&mut self, t: usize, w: &Weights) {
        self.stepped(t, w.feature_row());
    }
}

/// `||g_loss + lambda w||_2^2`, summed in index order (`g_loss` gives every entry in that order).
fn grad_norm2(g_loss: impl Iterator<Item = f64>, w: &[f64], lambda: f64) -> f64 {
    g_loss.zip(w).map(|(gi, &wi)| regularized(gi, lambda, wi).powi(2)).sum()
}

/// The bound of [`norm_is_finite`] for a gradient of `len` entries: `b` with
/// `(b + lambda b)^2 len <= 1e307`.
fn finite_bound(len: usize, lambda: f64) -> f64 {
    (1e307 / len.max(1) as f64).sqrt() / (1.0 + lambda.abs())
}

/// Every `|x|` is at most `b` (`false` for NaN).
fn within(b: f64, x: &[f64]) -> bool {
    x.iter().fold(true, |ok, x| ok & (x.abs() <= b))
}

/// A fast sufficient test that [`grad_norm2`] is finite: every `|g_loss|` and `|w|` is at most the
/// [`finite_bound`] `b`, which bounds every squared entry and their sum (`false` for NaN, so the
/// exact sum is then taken).
fn norm_is_finite(g_loss: &[f64], w: &[f64], lambda: f64) -> bool {
    let b = finite_bound(g_loss.len(), lambda);
    b.is_finite() && within(b, g_loss) && within(b, w)
}

/// The measured state at one step.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Checkpoint {
    pub step: usize,
    /// `L(W)`.
    pub objective: f64,
    /// The mean logistic loss, without weight decay.
    pub loss: f64,
    pub train_error: f64,
    pub test_error: f64,
    /// `||grad L(W)||_2` (weight decay included).
    pub grad_norm_l2: f64,
    /// `||grad L(W)||_1`.
    pub grad_norm_l1: f64,
    /// `||W||_F`.
    pub weight_norm: f64,
    pub coefficients: CoefficientSummary,
}

/// One optimizer's run.
#[derive(Clone, Debug)]
pub struct Run {
    pub name: String,
    pub optimizer: OptimizerSetting,
    /// Steps taken.
    pub steps: usize,
    pub stop: StopReason,
    pub seconds: f64,
    /// First step at which `max_{j,r} gamma_{j,r} < 0`, if any.
    pub feature_reversal_step: Option<usize>,
    /// Whether the final weights differ from `W^(0)`: a run that took no step, or whose steps all
    /// left the weights where they were (a zero gradient, as at `W^(0) = 0`), did not train.
    pub moved: bool,
    /// The measured state at the end.
    pub last: Checkpoint,
    /// Every checkpoint, in step order (the last is [`Run::last`]).
    pub trace: Vec<Checkpoint>,
    /// The final weights (rounded to binary64 for a run in another precision).
    pub weights: Weights,
    /// For a double-double run (docs/precision.md), the low parts: the binary64 rounding of each
    /// final weight minus its [`Run::weights`] entry. `None` for a binary64 run.
    pub weights_lo: Option<Weights>,
}
