//! The training loop in any [`Real`] scalar: the loop of [`crate::train::Experiment::run`] (same
//! checkpoints, stop reasons and feature-reversal step) over the generic model and optimizers. Every
//! measured quantity is computed in the scalar and rounded to binary64 only for the report, so the
//! result is a [`Run`] like the fast path's and goes through the same verdicts and reports.

use std::time::Instant;

use crate::model::{Cnn, Weights};
use crate::optim::StopReason;
use crate::optim::driver::{Budget, Eval, decide};
use crate::setting::OptimizerSetting;
use crate::train::{Checkpoint, Experiment, Run};

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

/// Trains `opt` from `init` in `R` with the loop of [`Experiment::run`]; `on_step(t, w)` sees the
/// weights at step 0 and after every update (`t` = updates done).
pub fn run_with<R: Real>(
    exp: &Experiment,
    opt: &OptimizerSetting,
    init: &Weights,
    on_step: &mut dyn FnMut(usize, &[R]),
) -> Run {
    let start = Instant::now();
    let model = &exp.model;
    let (lambda, budget, tol) = (model.lambda, exp.setting.train.steps, exp.setting.train.grad_tol);
    let checkpoints = exp.checkpoint_steps();
    let mut w: Vec<R> = init_in(init);
    let mut g = vec![R::zero(); w.len()];
    let mut optimizer = GenericOptimizer::<R>::new(opt, w.len());
    let (mut trace, mut feature_reversal_step, m) = (Vec::new(), None, model.m);
    let mut t = 0usize;
    on_step(0, &w);
    let stop = loop {
        let (loss, errs) = loss_grad(model, &w, &exp.train, &mut g);
        let gnorm2 = g.iter().zip(&w).fold(R::zero(), |acc, (gi, wi)| {
            let full = gi.add(&wi.mul_f64(lambda));
            acc.add(&full.mul(&full))
        });
        // The stop decision is the driver's (the one place that decides a stop reason), on the
        // binary64 roundings of the loss and of the squared gradient norm.
        let eval = Eval { loss: loss.to_f64(), grad_norm2: Some(gnorm2.to_f64()), extra: () };
        let stop = decide(t, Budget { steps: budget, grad_tol: tol }, &eval, false, true);
        let record =
            checkpoints.contains(&t) || matches!(stop, Some(StopReason::Diverged { .. } | StopReason::GradTol { .. }));
        if record {
            trace.push(checkpoint(exp, t, &w, &g, &loss, errs));
        }
        if let Some(reason) = stop {
            break reason;
        }
        optimizer.step(&mut w, &g, lambda);
        t += 1;
        if feature_reversal_step.is_none() {
            let fmax = w[..2 * m]
                .iter()
                .enumerate()
                .map(|(c, x)| crate::model::Layout::new(m).class_sign(c) * x.to_f64())
                .fold(f64::NEG_INFINITY, f64::max);
            if fmax < 0.0 {
                feature_reversal_step = Some(t);
            }
        }
        on_step(t, &w);
    };
    let last = trace.last().cloned().expect("the trace always holds step 0");
    Run {
        optimizer: opt.clone(),
        name: opt.key().to_string(),
        steps: t,
        stop,
        seconds: start.elapsed().as_secs_f64(),
        feature_reversal_step,
        moved: w.iter().zip(init.as_slice()).any(|(a, &b)| !a.sub(&R::from_f64(b)).is_zero()),
        last,
        trace,
        weights: to_weights(&w, model.d, model.m),
        weights_lo: Some(low_parts(&w, model.d, model.m)),
    }
}

/// Trains `opt` from the experiment's `W^(0)` in `R`.
pub fn run<R: Real>(exp: &Experiment, opt: &OptimizerSetting) -> Run {
    run_with::<R>(exp, opt, &exp.init, &mut |_, _| {})
}

/// Trains every optimizer of the experiment in `R`, side by side on the current thread pool
/// (results do not depend on its size).
pub fn run_all<R: Real>(exp: &Experiment) -> Vec<Run> {
    let opts = &exp.setting.optimizers;
    crate::parallel::map_indexed(opts.len(), |k| run::<R>(exp, &opts[k]))
}
