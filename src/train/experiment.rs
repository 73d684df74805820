//! The experiment (data, model and `W^(0)` shared by every optimizer), its checkpoint steps and
//! measurements, and what a run returns ([`Run`], its trace of [`Checkpoint`]s). A leaf of
//! `src/train`: the bookkeeping (`train/record.rs`), the deferred run (`train/lazy.rs`) and the
//! runs (`train.rs`) build on it.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::data::{Overlap, PatchData};
use crate::error::Result;
use crate::model::{Cnn, CoefficientSummary, Coefficients, Weights, regularized};
use crate::optim::StopReason;
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
    /// Validates the setting (an epoch budget becomes its steps: [`Setting::resolve_budget`]),
    /// draws the data and `W^(0)`.
    pub fn new(setting: &Setting) -> Result<Self> {
        setting.validate()?;
        let mut setting = setting.clone();
        setting.resolve_budget();
        let setting = &setting;
        let (train, test) = PatchData::train_test(&setting.data, setting.seed);
        let model = Cnn::from_setting(&setting.model, setting.data.d);
        let init = Weights::init(setting.data.d, setting.model.m, setting.model.sigma0, setting.seed);
        Ok(Self { setting: setting.clone(), train, test, model, init })
    }

    /// Whether every step sees the whole training set in order (the full-batch run,
    /// [`crate::setting::TrainSetting::full_batch`]).
    pub fn full_batch(&self) -> bool {
        self.setting.train.full_batch(self.train.len())
    }

    /// Steps per epoch of the training set ([`crate::setting::TrainSetting::steps_per_epoch`]).
    pub fn steps_per_epoch(&self) -> usize {
        self.setting.train.steps_per_epoch(self.train.len())
    }

    /// Epochs done after `step` steps: `step / steps_per_epoch` (`step` for a full-batch run).
    pub fn epoch(&self, step: usize) -> f64 {
        step as f64 / self.steps_per_epoch() as f64
    }

    /// Overlap of the training noise supports.
    pub fn overlap(&self) -> Overlap {
        self.train.overlap()
    }

    /// The measured state at `w`, given the loss gradient `g_loss` at `w` (every entry, in index
    /// order) and the loss value.
    pub(super) fn checkpoint(
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
            epoch: self.epoch(step),
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
}

/// The measured state at one step.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Checkpoint {
    pub step: usize,
    /// Epochs done: `step / steps_per_epoch` (equal to `step` for a full-batch run).
    pub epoch: f64,
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
