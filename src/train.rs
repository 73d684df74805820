//! The training loop: one experiment (data, model, `W^(0)`), any number of optimizers from the same
//! initialization, a trace at checkpoints, and an honest stop reason for every run.
//!
//! A run stops at the first of: the step budget, `||grad L||_2 <= grad_tol` (when `grad_tol > 0`),
//! or a non-finite objective, gradient or weight (divergence, with the step). Several optimizers run
//! side by side on a pool of threads, and each step splits its passes over the same pool
//! ([`crate::parallel`]); no result depends on the number of threads (every sum keeps its order).

use std::collections::BTreeSet;
use std::time::Instant;

use serde::Serialize;

use crate::data::{Overlap, PatchData};
use crate::error::Result;
use crate::model::{Cnn, CoefficientSummary, Coefficients, Weights, regularized};
use crate::optim::{self, StopReason};
use crate::setting::{OptimizerSetting, Setting};

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

    /// The measured state at `w`, given the loss gradient `g_loss` at `w` and the loss value.
    fn checkpoint(&self, step: usize, w: &Weights, g_loss: &[f64], loss: f64, train_errors: usize) -> Checkpoint {
        let lambda = self.model.lambda;
        let (mut l2, mut l1) = (0.0, 0.0);
        for (&g, &wi) in g_loss.iter().zip(w.as_slice()) {
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
                if base * k <= steps {
                    set.insert(base * k);
                }
            }
            base = base.saturating_mul(10);
        }
        let c = self.setting.train.checkpoints;
        for i in 1..=c {
            set.insert(steps * i / c.max(1));
        }
        set
    }

    /// Trains one optimizer from `W^(0)`; `progress` is called with the number of steps done.
    pub fn run(&self, opt: &OptimizerSetting, progress: &(dyn Fn(usize) + Sync)) -> Run {
        let start = Instant::now();
        let model = &self.model;
        let lambda = model.lambda;
        let budget = self.setting.train.steps;
        let tol = self.setting.train.grad_tol;
        let checkpoints = self.checkpoint_steps();
        let mut w = self.init.clone();
        let mut g = vec![0.0; w.as_slice().len()];
        let mut ws = model.workspace(self.train.patches);
        let mut optimizer = optim::build(opt, g.len());
        let mut trace = Vec::new();
        let mut feature_reversal_step = None;
        let mut t = 0usize;
        let stop = loop {
            let eval = model.loss_grad(w.as_slice(), &self.train, &mut g, &mut ws);
            // The exact norm where its value matters (the tolerance test); elsewhere only whether
            // it is finite, which small enough entries guarantee without the sequential sum.
            let gnorm2 = if tol > 0.0 || !norm_is_finite(&g, w.as_slice(), lambda) {
                grad_norm2(&g, w.as_slice(), lambda)
            } else {
                0.0
            };
            if checkpoints.contains(&t) || !gnorm2.is_finite() || !eval.loss.is_finite() {
                trace.push(self.checkpoint(t, &w, &g, eval.loss, eval.errors));
            }
            if !eval.loss.is_finite() || !gnorm2.is_finite() {
                break StopReason::Diverged { step: t };
            }
            if tol > 0.0 && gnorm2.sqrt() <= tol {
                if trace.last().map(|c| c.step) != Some(t) {
                    trace.push(self.checkpoint(t, &w, &g, eval.loss, eval.errors));
                }
                break StopReason::GradTol { step: t };
            }
            if t == budget {
                break StopReason::StepBudget { step: t };
            }
            optimizer.step(w.as_mut_slice(), &g, lambda);
            t += 1;
            if feature_reversal_step.is_none() {
                let fmax = w.feature_coefficients().fold(f64::NEG_INFINITY, f64::max);
                if fmax < 0.0 {
                    feature_reversal_step = Some(t);
                }
            }
            if t.is_multiple_of(64) {
                progress(t);
            }
        };
        progress(t);
        let last = trace.last().cloned().expect("the trace always holds step 0");
        Run {
            optimizer: opt.clone(),
            name: opt.key().to_string(),
            steps: t,
            stop,
            seconds: start.elapsed().as_secs_f64(),
            feature_reversal_step,
            last,
            trace,
            weights: w,
        }
    }

    /// Trains every optimizer of the setting from `W^(0)`, on up to `threads` threads (results do not
    /// depend on `threads`). `progress(k, steps)` reports optimizer `k`'s progress.
    pub fn run_all(&self, threads: usize, progress: &(dyn Fn(usize, usize) + Sync)) -> Vec<Run> {
        let opts = &self.setting.optimizers;
        crate::parallel::map_indexed(opts.len(), threads, |k| self.run(&opts[k], &|t| progress(k, t)))
    }
}

/// `||g_loss + lambda w||_2^2`, summed in index order.
fn grad_norm2(g_loss: &[f64], w: &[f64], lambda: f64) -> f64 {
    g_loss.iter().zip(w).map(|(&gi, &wi)| regularized(gi, lambda, wi).powi(2)).sum()
}

/// A fast sufficient test that [`grad_norm2`] is finite: every `|g_loss|` and `|w|` is at most `b`
/// with `(b + lambda b)^2 len <= 1e307`, which bounds every squared entry and their sum (`false`
/// for NaN, so the exact sum is then taken).
fn norm_is_finite(g_loss: &[f64], w: &[f64], lambda: f64) -> bool {
    let b = (1e307 / g_loss.len().max(1) as f64).sqrt() / (1.0 + lambda.abs());
    let small = |ok: bool, x: &f64| ok & (x.abs() <= b);
    b.is_finite() && g_loss.iter().fold(true, small) && w.iter().fold(true, small)
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
    /// The measured state at the end.
    pub last: Checkpoint,
    /// Every checkpoint, in step order (the last is [`Run::last`]).
    pub trace: Vec<Checkpoint>,
    pub weights: Weights,
}
