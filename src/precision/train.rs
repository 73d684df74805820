//! Training in any [`Real`] scalar through the crate's one loop and its one bookkeeping
//! ([`Experiment::run_with`]: the driver `crate::optim::minimize`, the checkpoints, stop reasons
//! and feature-reversal step of `crate::train`), over the generic model ([`GenericObjective`]) and
//! optimizers ([`GenericOptimizer`]). The point is a `Vec<R>` ([`TrainPoint`]): every measured
//! quantity is computed in the scalar and rounded to binary64 only for the report, so the result is
//! a [`Run`] like the fast path's and goes through the same verdicts and reports. The stop decision
//! reads the binary64 roundings of the loss and of the squared gradient norm.

use std::convert::Infallible;

use crate::data::PatchData;
use crate::model::{Cnn, Layout, Weights};
use crate::optim::{Eval, Method, Objective, Observer};
use crate::setting::OptimizerSetting;
use crate::train::{Batches, Checkpoint, Experiment, Run, TrainPoint};

use super::model::{coefficients, errors, loss_grad};
use super::optim::GenericOptimizer;
use super::real::Real;

/// `W^(0)` in `R` (exact: every binary64 is a value of `R`).
pub fn init_in<R: Real>(init: &Weights) -> Vec<R> {
    init.as_slice().iter().map(|&x| R::from_f64(x)).collect()
}

/// Weights in `R` rounded to binary64, in the fast path's layout.
pub fn to_weights<R: Real>(w: &[R], d: usize, m: usize) -> Weights {
    let mut out = Weights::zeros(d, m);
    for (o, x) in out.as_mut_slice().iter_mut().zip(w) {
        *o = x.to_f64();
    }
    out
}

/// The low parts of `w`: the binary64 rounding of `x - to_f64(x)` for every weight (zero for
/// binary64 itself).
pub fn low_parts<R: Real>(w: &[R], d: usize, m: usize) -> Weights {
    let mut out = Weights::zeros(d, m);
    for (o, x) in out.as_mut_slice().iter_mut().zip(w) {
        *o = x.sub(&R::from_f64(x.to_f64())).to_f64();
    }
    out
}

/// The measured state at `w` in `R`, given the loss gradient `g_loss` there and the loss.
fn checkpoint<R: Real>(
    exp: &Experiment,
    step: usize,
    w: &[R],
    g_loss: &[R],
    loss: &R,
    train_errors: usize,
) -> Checkpoint {
    let model: &Cnn = &exp.model;
    let lambda = model.lambda;
    let (mut l2, mut l1, mut wn2) = (R::zero(), R::zero(), R::zero());
    for (g, wi) in g_loss.iter().zip(w) {
        let full = g.add(&wi.mul_f64(lambda));
        l2 = l2.add(&full.mul(&full));
        l1 = l1.add(&if full.is_neg() { full.neg() } else { full });
        wn2 = wn2.add(&wi.mul(wi));
    }
    Checkpoint {
        step,
        epoch: exp.epoch(step),
        objective: loss.add(&wn2.mul_f64(0.5).mul_f64(lambda)).to_f64(),
        loss: loss.to_f64(),
        train_error: train_errors as f64 / exp.train.len() as f64,
        test_error: errors(model, w, &exp.test) as f64 / exp.test.len() as f64,
        grad_norm_l2: l2.sqrt().to_f64(),
        grad_norm_l1: l1.to_f64(),
        weight_norm: wn2.sqrt().to_f64(),
        coefficients: coefficients(model, w, &exp.train).summary(&exp.train),
    }
}

/// What an evaluation in `R` carries besides the binary64 loss: the training error count and the
/// loss in `R` (a checkpoint's objective is computed from it in `R`).
#[derive(Clone, Debug)]
pub struct RealExtra<R> {
    pub errors: usize,
    pub loss: R,
}

/// The CNN's loss on the training data in `R` ([`loss_grad`]), its gradient, and `||grad L||_2^2`
/// (weight decay included) summed in `R`, always (the stop decision tests it for finiteness).
pub struct GenericObjective<'a> {
    model: &'a Cnn,
    data: &'a PatchData,
}

impl<'a> GenericObjective<'a> {
    /// The loss of `model` on `data`.
    pub fn new(model: &'a Cnn, data: &'a PatchData) -> Self {
        Self { model, data }
    }
}

impl<R: Real> Objective<R> for GenericObjective<'_> {
    type Extra = RealExtra<R>;
    fn lambda(&self) -> f64 {
        self.model.lambda
    }
    fn eval(&mut self, w: &[R], g: &mut [R], _need_norm: bool) -> Eval<RealExtra<R>> {
        let lambda = self.model.lambda;
        let (loss, errors) = loss_grad(self.model, w, self.data, g);
        let gnorm2 = g.iter().zip(w).fold(R::zero(), |acc, (gi, wi)| {
            let full = gi.add(&wi.mul_f64(lambda));
            acc.add(&full.mul(&full))
        });
        Eval { loss: loss.to_f64(), grad_norm2: Some(gnorm2.to_f64()), extra: RealExtra { errors, loss } }
    }
}

/// The minibatch objective in `R`: [`GenericObjective`] on each step's batch
/// (`crate::train::Batches`, docs/model.md#minibatches), the same batches as the binary64 run's.
pub struct GenericBatchObjective<'a> {
    model: &'a Cnn,
    data: &'a PatchData,
    batches: Batches,
    sub: PatchData,
}

impl<'a> GenericBatchObjective<'a> {
    /// Batches of `data` for `model` by the schedule `batches`.
    pub fn new(model: &'a Cnn, data: &'a PatchData, batches: Batches) -> Self {
        Self { model, data, batches, sub: PatchData::empty() }
    }
}

impl<R: Real> Objective<R> for GenericBatchObjective<'_> {
    type Extra = RealExtra<R>;
    fn lambda(&self) -> f64 {
        self.model.lambda
    }
    fn is_full(&self) -> bool {
        false
    }
    fn eval(&mut self, w: &[R], g: &mut [R], need_norm: bool) -> Eval<RealExtra<R>> {
        let batch = self.batches.next_batch();
        self.data.select_into(batch, &mut self.sub);
        GenericObjective::new(self.model, &self.sub).eval(w, g, need_norm)
    }
}

impl<R: Real> Method<R> for GenericOptimizer<R> {
    type Error = Infallible;
    fn step(&mut self, _t: usize, w: &mut [R], g_loss: &[R], lambda: f64) -> Result<(), Infallible> {
        GenericOptimizer::step(self, w, g_loss, lambda);
        Ok(())
    }
}

impl<R: Real> TrainPoint for Vec<R> {
    type Scalar = R;
    type Extra = RealExtra<R>;
    fn checkpoint(&self, exp: &Experiment, step: usize, g_loss: &[R], eval: &Eval<RealExtra<R>>) -> Checkpoint {
        checkpoint(exp, step, self, g_loss, &eval.extra.loss, eval.extra.errors)
    }
    fn checkpoint_full_batch(&self, exp: &Experiment, step: usize) -> Checkpoint {
        let mut g = vec![R::zero(); self.len()];
        let e = GenericObjective::new(&exp.model, &exp.train).eval(self, &mut g, false);
        checkpoint(exp, step, self, &g, &e.extra.loss, e.extra.errors)
    }
    fn feature_max(&self, layout: Layout) -> f64 {
        let m = layout.m();
        self[..2 * m]
            .iter()
            .enumerate()
            .map(|(c, x)| Layout::new(m).class_sign(c) * x.to_f64())
            .fold(f64::NEG_INFINITY, f64::max)
    }
    fn finish(self, init: &Weights) -> (Weights, Option<Weights>, bool) {
        let (d, m) = (init.d(), init.m());
        let moved = self.iter().zip(init.as_slice()).any(|(a, &b)| !a.sub(&R::from_f64(b)).is_zero());
        (to_weights(&self, d, m), Some(low_parts(&self, d, m)), moved)
    }
}

/// Trains `opt` from `init` in `R` through [`Experiment::run_with`]; `progress` is called with the
/// number of steps done, and `companion` watches every point and step (a lockstep copy,
/// `crate::optim::Lockstep`, or `()`).
pub fn run_with<R: Real, B: Observer<Vec<R>, RealExtra<R>, R>>(
    exp: &Experiment,
    opt: &OptimizerSetting,
    init: &Weights,
    progress: &(dyn Fn(usize) + Sync),
    companion: &mut B,
) -> Run {
    let w: Vec<R> = init_in(init);
    let mut method = GenericOptimizer::<R>::new(opt, w.len());
    if exp.full_batch() {
        let mut objective = GenericObjective::new(&exp.model, &exp.train);
        exp.run_with(opt, &mut objective, &mut method, w, init, progress, companion)
    } else {
        let batches = Batches::new(&exp.setting.train, exp.train.len(), exp.setting.seed);
        let mut objective = GenericBatchObjective::new(&exp.model, &exp.train, batches);
        exp.run_with(opt, &mut objective, &mut method, w, init, progress, companion)
    }
}

/// Trains `opt` from the experiment's `W^(0)` in `R`.
pub fn run<R: Real>(exp: &Experiment, opt: &OptimizerSetting) -> Run {
    run_with::<R, _>(exp, opt, &exp.init, &|_| {}, &mut ())
}

/// Trains every optimizer of the experiment in `R`, side by side on the current thread pool
/// (results do not depend on its size). `progress(k, steps)` reports optimizer `k`'s progress, as
/// in [`Experiment::run_all`].
pub fn run_all<R: Real>(exp: &Experiment, progress: &(dyn Fn(usize, usize) + Sync)) -> Vec<Run> {
    let opts = &exp.setting.optimizers;
    crate::parallel::map_indexed(opts.len(), |k| {
        run_with::<R, _>(exp, &opts[k], &exp.init, &|t| progress(k, t), &mut ())
    })
}
