//! The one bookkeeping of a training run, in any scalar: the trace at checkpoints (and at an early
//! stop), the first feature reversal, progress every 64 steps, and the [`Run`] at the end. The
//! eager binary64 run, the deferred run (`train/lazy.rs`) and the runs of the precision-generic
//! path (`crate::precision::train`) all record through [`TrainObserver`] and end in [`finish`].
//!
//! What depends on the scalar is the [`TrainPoint`]: how a checkpoint is measured at a point (in
//! the scalar, rounded to binary64 only for the report), the feature coefficients' maximum, and the
//! final weights in binary64 with, beyond binary64, their low parts.

use std::collections::BTreeSet;
use std::time::Instant;

use super::experiment::{Checkpoint, Experiment, Run};
use crate::data::PatchData;
use crate::model::{Cnn, Layout, Weights, Workspace, regularized};
use crate::optim::{self, Eval, Objective, Observer, Scalar, StopReason};
use crate::setting::OptimizerSetting;

/// A training run's point in some scalar (the binary64 [`Weights`]; `Vec<R>` for a
/// `crate::precision::Real` `R`): what the bookkeeping measures there.
pub trait TrainPoint: optim::Point<Self::Scalar> + Sized {
    /// The scalar of the parameters.
    type Scalar: Scalar;
    /// What the objective's evaluation carries besides the binary64 loss (binary64: the training
    /// error count; another scalar: that and the loss in the scalar).
    type Extra;
    /// The measured state at this point as step `step`, from the loss gradient `g_loss` here (every
    /// entry, in index order) and the evaluation.
    fn checkpoint(
        &self,
        exp: &Experiment,
        step: usize,
        g_loss: &[Self::Scalar],
        eval: &Eval<Self::Extra>,
    ) -> Checkpoint;
    /// The measured state at this point as step `step` with the full-batch loss and gradient
    /// evaluated here (a minibatch run's checkpoint: its own evaluation is the batch's).
    fn checkpoint_full_batch(&self, exp: &Experiment, step: usize) -> Checkpoint;
    /// `max_{j,r} gamma_{j,r}` in binary64, the feature-reversal test's quantity.
    fn feature_max(&self, layout: Layout) -> f64;
    /// The final weights in binary64, their low parts (`None` for binary64 itself), and whether
    /// they differ from `init`.
    fn finish(self, init: &Weights) -> (Weights, Option<Weights>, bool);
}

impl optim::Point for Weights {
    fn params(&self) -> &[f64] {
        self.as_slice()
    }
    fn params_mut(&mut self) -> &mut [f64] {
        self.as_mut_slice()
    }
}

impl TrainPoint for Weights {
    type Scalar = f64;
    type Extra = usize;
    fn checkpoint(&self, exp: &Experiment, step: usize, g_loss: &[f64], eval: &Eval<usize>) -> Checkpoint {
        exp.checkpoint(step, self, g_loss.iter().copied(), eval.loss, eval.extra)
    }
    fn checkpoint_full_batch(&self, exp: &Experiment, step: usize) -> Checkpoint {
        let mut g = vec![0.0; self.as_slice().len()];
        let e = exp.model.loss_grad(self.as_slice(), &exp.train, &mut g, &mut exp.model.workspace(exp.train.patches));
        exp.checkpoint(step, self, g.iter().copied(), e.loss, e.errors)
    }
    fn feature_max(&self, layout: Layout) -> f64 {
        feature_max(layout, self.feature_row())
    }
    fn finish(self, init: &Weights) -> (Weights, Option<Weights>, bool) {
        let moved = self.as_slice() != init.as_slice();
        (self, None, moved)
    }
}

/// `max_{j,r} gamma_{j,r}` from the feature row of the weights ([`Weights::feature_row`]).
pub(super) fn feature_max(layout: Layout, feature_row: &[f64]) -> f64 {
    feature_row.iter().enumerate().map(|(c, &x)| layout.signed(c, x)).fold(f64::NEG_INFINITY, f64::max)
}

/// The objective of a binary64 training run: the CNN's loss on the training data through the fast
/// kernels, its gradient, and the training error count.
pub struct TrainObjective<'a> {
    model: &'a Cnn,
    data: &'a PatchData,
    ws: Workspace,
}

impl<'a> TrainObjective<'a> {
    /// The loss of `model` on `data`.
    pub fn new(model: &'a Cnn, data: &'a PatchData) -> Self {
        Self { model, data, ws: model.workspace(data.patches) }
    }
}

impl Objective for TrainObjective<'_> {
    type Extra = usize;
    fn lambda(&self) -> f64 {
        self.model.lambda
    }
    fn eval(&mut self, w: &[f64], g: &mut [f64], need_norm: bool) -> Eval<usize> {
        let eval = self.model.loss_grad(w, self.data, g, &mut self.ws);
        let grad_norm2 = norm_if_needed(g, w, self.model.lambda, need_norm);
        Eval { loss: eval.loss, grad_norm2, extra: eval.errors }
    }
}

/// `||g_loss + lambda w||_2^2` where its value matters (`need_norm`: the tolerance test);
/// elsewhere only whether it is finite, which small enough entries guarantee without the
/// sequential sum (`None`).
pub(super) fn norm_if_needed(g: &[f64], w: &[f64], lambda: f64, need_norm: bool) -> Option<f64> {
    (need_norm || !norm_is_finite(g, w, lambda)).then(|| grad_norm2(g.iter().copied(), w, lambda))
}

/// What a training run records along the way: the trace at checkpoints (and at the stop), the
/// first feature reversal, and progress every 64 steps.
pub struct TrainObserver<'a> {
    exp: &'a Experiment,
    /// Whether the run is full batch (its evaluations are the checkpoints' quantities); a
    /// minibatch run's checkpoints evaluate the full batch themselves.
    full_batch: bool,
    checkpoints: BTreeSet<usize>,
    trace: Vec<Checkpoint>,
    feature_reversal_step: Option<usize>,
    progress: &'a (dyn Fn(usize) + Sync),
}

impl<'a> TrainObserver<'a> {
    /// A fresh record of a run of `exp`; `progress` is called with the number of steps done.
    /// `full_batch`: the run's evaluations are the full objective's, which checkpoints reuse
    /// (else a checkpoint evaluates the full batch itself).
    pub fn new(exp: &'a Experiment, progress: &'a (dyn Fn(usize) + Sync), full_batch: bool) -> Self {
        Self {
            exp,
            full_batch,
            checkpoints: exp.checkpoint_steps(),
            trace: Vec::new(),
            feature_reversal_step: None,
            progress,
        }
    }

    /// Whether point `t` is recorded: a checkpoint step, or an early stop.
    pub(super) fn records(&self, t: usize, stop: Option<StopReason>) -> bool {
        let stops_early = matches!(stop, Some(StopReason::Diverged { .. } | StopReason::GradTol { .. }));
        self.checkpoints.contains(&t) || stops_early
    }

    /// Records point `t`: its measured state.
    pub(super) fn record(&mut self, checkpoint: Checkpoint) {
        self.trace.push(checkpoint);
    }

    /// After step `t`, with the feature coefficients' maximum of the new weights (computed only
    /// while no reversal has been seen).
    pub(super) fn stepped(&mut self, t: usize, feature_max: impl FnOnce(Layout) -> f64) {
        if self.feature_reversal_step.is_none() && feature_max(self.exp.init.layout()) < 0.0 {
            self.feature_reversal_step = Some(t);
        }
        if t.is_multiple_of(64) {
            (self.progress)(t);
        }
    }
}

impl<P: TrainPoint> Observer<P, P::Extra, P::Scalar> for TrainObserver<'_> {
    fn at_point(&mut self, t: usize, w: &P, g: &[P::Scalar], eval: &Eval<P::Extra>, stop: Option<StopReason>) {
        if self.records(t, stop) {
            let c =
                if self.full_batch { w.checkpoint(self.exp, t, g, eval) } else { w.checkpoint_full_batch(self.exp, t) };
            self.record(c);
        }
    }

    fn after_step(&mut self, t: usize, w: &P) {
        self.stepped(t, |layout| w.feature_max(layout));
    }
}

/// The run of `opt` from its stop, final point and record (`init`: the run's `W^(0)`, for
/// [`Run::moved`]); calls the progress with the steps taken.
pub(super) fn finish<P: TrainPoint>(
    opt: &OptimizerSetting,
    start: Instant,
    stop: StopReason,
    w: P,
    init: &Weights,
    obs: TrainObserver,
) -> Run {
    let t = stop.step();
    (obs.progress)(t);
    let TrainObserver { trace, feature_reversal_step, .. } = obs;
    let (weights, weights_lo, moved) = w.finish(init);
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
        weights,
        weights_lo,
    }
}

/// `||g_loss + lambda w||_2^2`, summed in index order (`g_loss` gives every entry in that order).
pub(super) fn grad_norm2(g_loss: impl Iterator<Item = f64>, w: &[f64], lambda: f64) -> f64 {
    g_loss.zip(w).map(|(gi, &wi)| regularized(gi, lambda, wi).powi(2)).sum()
}

/// The bound of [`norm_is_finite`] for a gradient of `len` entries: `b` with
/// `(b + lambda b)^2 len <= 1e307`.
pub(super) fn finite_bound(len: usize, lambda: f64) -> f64 {
    (1e307 / len.max(1) as f64).sqrt() / (1.0 + lambda.abs())
}

/// Every `|x|` is at most `b` (`false` for NaN).
pub(super) fn within(b: f64, x: &[f64]) -> bool {
    x.iter().fold(true, |ok, x| ok & (x.abs() <= b))
}

/// A fast sufficient test that [`grad_norm2`] is finite: every `|g_loss|` and `|w|` is at most the
/// [`finite_bound`] `b`, which bounds every squared entry and their sum (`false` for NaN, so the
/// exact sum is then taken).
fn norm_is_finite(g_loss: &[f64], w: &[f64], lambda: f64) -> bool {
    let b = finite_bound(g_loss.len(), lambda);
    b.is_finite() && within(b, g_loss) && within(b, w)
}
