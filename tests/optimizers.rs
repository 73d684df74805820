//! The optimizers against hand computations and against each other where the mathematics says
//! they coincide.

use adamgap::optim::{self, Optimizer};
use adamgap::setting::{Decay, OptimizerSetting, Setting};
use adamgap::train::Experiment;

/// Two Adam steps by hand, with numbers chosen so that every operation is exact in binary64:
/// `b1 = 1/2, b2 = 3/4, eps = 0, eta = 1/4, lambda = 1/2`, bias-corrected.
///
/// Coordinate 0: `w0 = 1`, `g_loss = 3/2` then `13/8`, so `g = g_loss + lambda w = 2` both times.
///   step 1: `m = 1, v = 1, mhat = 1/(1/2) = 2, vhat = 1/(1/4) = 4`, update `2/2 = 1`, `w1 = 3/4`.
///   step 2: `m = 1/2 + 1 = 3/2, v = 3/4 + 1 = 7/4, mhat = (3/2)/(3/4) = 2, vhat = (7/4)/(7/16) = 4`,
///   update 1, `w2 = 1/2`.
/// Coordinate 1: `w0 = 0`, `g_loss = -2` then `-17/8`, so `g = -2` both times: `w1 = 1/4`, `w2 = 1/2`.
/// Coordinate 2: `w0 = 0`, `g_loss = 0` both times: `m = v = 0`, `0/0 = 0` by convention, stays 0.
#[test]
fn adam_two_steps_by_hand() {
    let s = OptimizerSetting::Adam { eta: 0.25, b1: 0.5, b2: 0.75, eps: 0.0, bias_correction: true };
    let mut opt = optim::build(&s, 3);
    let mut w = vec![1.0, 0.0, 0.0];
    opt.step(&mut w, &[1.5, -2.0, 0.0], 0.5);
    assert_eq!(w, vec![0.75, 0.25, 0.0]);
    opt.step(&mut w, &[1.625, -2.125, 0.0], 0.5);
    assert_eq!(w, vec![0.5, 0.5, 0.0]);
}

/// The paper's Adam (no bias correction) by hand: `b1 = 1/2, b2 = 3/4, eps = 0, eta = 1/2`, `g = 2`.
/// Step 1: `m = 1, v = 4/4 = 1`, update `1/1 = 1`, `w = 1/2`. Step 2: `m = 1/2 + 1 = 3/2`,
/// `v = 3/4 + 1 = 7/4`, update `(3/2)/sqrt(7/4)` (not dyadic: the same f64 operations by hand).
#[test]
fn adam_without_bias_correction_by_hand() {
    let s = OptimizerSetting::Adam { eta: 0.5, b1: 0.5, b2: 0.75, eps: 0.0, bias_correction: false };
    let mut opt = optim::build(&s, 1);
    let mut w = vec![1.0];
    opt.step(&mut w, &[2.0], 0.0);
    assert_eq!(w, vec![0.5]);
    opt.step(&mut w, &[2.0], 0.0);
    assert_eq!(w, vec![0.5 - 0.5 * (1.5 / 1.75f64.sqrt())]);
}

/// Sign GD with a decaying step: `eta_t = eta / t` and `eta / sqrt(t)`; `sign(0) = 0`.
#[test]
fn sign_gd_schedules() {
    let mut inv = optim::build(&OptimizerSetting::SignGd { eta: 1.0, decay: Decay::Inv }, 3);
    let mut w = vec![0.0, 0.0, 0.0];
    inv.step(&mut w, &[3.0, -1e-300, 0.0], 0.0);
    inv.step(&mut w, &[3.0, -1e-300, 0.0], 0.0);
    assert_eq!(w, vec![-1.5, 1.5, 0.0]);
    let mut sq = optim::build(&OptimizerSetting::SignGd { eta: 1.0, decay: Decay::InvSqrt }, 1);
    let mut w = vec![0.0];
    for _ in 0..4 {
        sq.step(&mut w, &[1.0], 0.0);
    }
    assert_eq!(w, vec![-(1.0 + 1.0 / 2f64.sqrt() + 1.0 / 3f64.sqrt() + 0.5)]);
}

/// GD, momentum, RMSProp, AdaGrad and AdamW one step by hand.
#[test]
fn other_updates_by_hand() {
    let one = |s: OptimizerSetting, w0: f64, g: f64, lambda: f64| {
        let mut o: Box<dyn Optimizer> = optim::build(&s, 1);
        let mut w = vec![w0];
        o.step(&mut w, &[g], lambda);
        w[0]
    };
    // GD: 1 - 0.5 (1 + 0.5 * 1) = 0.25.
    assert_eq!(one(OptimizerSetting::Gd { eta: 0.5 }, 1.0, 1.0, 0.5), 0.25);
    // Momentum, first step: u = g = 1.5, w = 1 - 0.5 * 1.5.
    assert_eq!(one(OptimizerSetting::Momentum { eta: 0.5, beta: 0.5 }, 1.0, 1.0, 0.5), 0.25);
    // RMSProp with beta = 1/4: v = (3/4) g^2 = 3, update g / sqrt(v) = 2/sqrt(3).
    assert_eq!(one(OptimizerSetting::RmsProp { eta: 1.0, beta: 0.25, eps: 0.0 }, 0.0, 2.0, 0.0), -2.0 / 3f64.sqrt());
    // AdaGrad: v = g^2, update sign(g).
    assert_eq!(one(OptimizerSetting::AdaGrad { eta: 0.5, eps: 0.0 }, 1.0, -3.0, 0.0), 1.5);
    // AdamW: the Adam update on g_loss (b1 = b2 = 0: sign), then w -= eta lambda w (from the old w).
    let s = OptimizerSetting::AdamW { eta: 0.25, b1: 0.0, b2: 0.0, eps: 0.0, bias_correction: true };
    assert_eq!(one(s, 1.0, 5.0, 0.5), 1.0 - 0.25 - 0.25 * 0.5);
}

/// Adam with `b1 = b2 = eps = 0` is sign GD (docs/model.md#optimizers), step for step, on the paper's
/// model and data: the weights are bitwise equal after every one of 200 steps.
#[test]
fn adam_with_zero_betas_is_sign_gd_step_for_step() {
    let mut setting = Setting::default();
    setting.data.d = 200;
    setting.data.n = 20;
    setting.data.s = 20;
    setting.data.test_size = 10;
    setting.model.m = 4;
    setting.model.lambda = 1e-3;
    let exp = Experiment::new(&setting).expect("valid setting");
    let eta = 1e-3;
    for bias_correction in [true, false] {
        let adam = OptimizerSetting::Adam { eta, b1: 0.0, b2: 0.0, eps: 0.0, bias_correction };
        let sign = OptimizerSetting::SignGd { eta, decay: Decay::Constant };
        let dim = exp.init.as_slice().len();
        let (mut oa, mut os) = (optim::build(&adam, dim), optim::build(&sign, dim));
        let (mut wa, mut wsg) = (exp.init.clone(), exp.init.clone());
        let mut g = vec![0.0; dim];
        let mut ws = exp.model.workspace(exp.train.patches);
        let mut moved = 0usize;
        for step in 1..=200 {
            exp.model.loss_grad(wa.as_slice(), &exp.train, &mut g, &mut ws);
            oa.step(wa.as_mut_slice(), &g, exp.model.lambda);
            exp.model.loss_grad(wsg.as_slice(), &exp.train, &mut g, &mut ws);
            os.step(wsg.as_mut_slice(), &g, exp.model.lambda);
            assert_eq!(
                wa, wsg,
                "Adam(b1=b2=eps=0, bias_correction={bias_correction}) and sign GD differ at step {step}"
            );
            moved = wa.as_slice().iter().zip(exp.init.as_slice()).filter(|(a, b)| a != b).count();
        }
        // Not a vacuous comparison: most coordinates have moved (a coordinate that oscillates by
        // +-eta can land back on its initial value).
        assert!(moved > dim / 2, "only {moved} of {dim} coordinates moved");
    }
}

/// Every optimizer reports its setting's key as its name (the contract of `Optimizer::name`).
#[test]
fn optimizer_names_are_their_setting_keys() {
    for key in ["gd", "adam", "sign-gd", "adamw", "momentum", "rmsprop", "adagrad"] {
        let s = OptimizerSetting::default_for(key).expect("a known optimizer");
        assert_eq!(optim::build(&s, 1).name(), key);
    }
}

/// `s` with its base step replaced by `eta`.
fn with_eta(s: &OptimizerSetting, eta: f64) -> OptimizerSetting {
    let mut s = s.clone();
    match &mut s {
        OptimizerSetting::Gd { eta: e }
        | OptimizerSetting::Adam { eta: e, .. }
        | OptimizerSetting::SignGd { eta: e, .. }
        | OptimizerSetting::AdamW { eta: e, .. }
        | OptimizerSetting::Momentum { eta: e, .. }
        | OptimizerSetting::RmsProp { eta: e, .. }
        | OptimizerSetting::AdaGrad { eta: e, .. } => *e = eta,
    }
    s
}

/// `set_eta` sets the base step of the following steps: an optimizer built with one `eta` and
/// told another makes, bit for bit, the steps of one built with the other, for every optimizer
/// (sign GD's decay applies on top); and those steps differ from the unchanged optimizer's.
#[test]
fn set_eta_sets_the_base_step_of_every_optimizer() {
    let settings = [
        OptimizerSetting::Gd { eta: 0.5 },
        OptimizerSetting::Adam { eta: 0.5, b1: 0.5, b2: 0.75, eps: 0.125, bias_correction: true },
        OptimizerSetting::AdamW { eta: 0.5, b1: 0.5, b2: 0.75, eps: 0.125, bias_correction: false },
        OptimizerSetting::SignGd { eta: 0.5, decay: Decay::Inv },
        OptimizerSetting::Momentum { eta: 0.5, beta: 0.5 },
        OptimizerSetting::RmsProp { eta: 0.5, beta: 0.25, eps: 0.125 },
        OptimizerSetting::AdaGrad { eta: 0.5, eps: 0.125 },
    ];
    let (g, lambda) = ([0.75, -1.5], 0.25);
    for s in &settings {
        let (mut told, mut built, mut unchanged) =
            (optim::build(s, 2), optim::build(&with_eta(s, 0.125), 2), optim::build(s, 2));
        let (mut wt, mut wb, mut wu) = (vec![0.5, -2.0], vec![0.5, -2.0], vec![0.5, -2.0]);
        for _ in 0..3 {
            told.set_eta(0.125);
            told.step(&mut wt, &g, lambda);
            built.step(&mut wb, &g, lambda);
            unchanged.step(&mut wu, &g, lambda);
        }
        assert_eq!(wt, wb, "{}", s.key());
        assert_ne!(wt, wu, "{}", s.key());
    }
}

/// Momentum over two steps by hand, from `w0 = 2` so that the weight decay term `lambda w` is
/// not `lambda` (dyadic numbers, exact in binary64): `eta = beta = lambda = 1/2`, `g_loss = 1`.
/// Step 1: `u = 0 + 1 + 1 = 2`, `w = 2 - 1 = 1`. Step 2: `u = 1 + 1 + 1/2 = 5/2`, `w = 1 - 5/4`.
#[test]
fn momentum_two_steps_by_hand() {
    let mut o = optim::build(&OptimizerSetting::Momentum { eta: 0.5, beta: 0.5 }, 1);
    let mut w = vec![2.0];
    o.step(&mut w, &[1.0], 0.5);
    assert_eq!(w, vec![1.0]);
    o.step(&mut w, &[1.0], 0.5);
    assert_eq!(w, vec![-0.25]);
}

/// `eps` is added to the root in the denominator of Adam, RMSProp and AdaGrad (one step by hand
/// with `eps = 1`, from `w = 0` without weight decay).
#[test]
fn eps_is_added_to_the_root() {
    let one = |s: OptimizerSetting, g: f64| {
        let mut w = vec![0.0];
        optim::build(&s, 1).step(&mut w, &[g], 0.0);
        w[0]
    };
    // Adam: m = 1, v = (1/4) 4 = 1, update 1 / (1 + 1).
    let adam = OptimizerSetting::Adam { eta: 1.0, b1: 0.5, b2: 0.75, eps: 1.0, bias_correction: false };
    assert_eq!(one(adam, 2.0), -0.5);
    // RMSProp: v = (1/4) 16 = 4, update 4 / (2 + 1).
    assert_eq!(one(OptimizerSetting::RmsProp { eta: 1.0, beta: 0.75, eps: 1.0 }, 4.0), -(4.0 / 3.0));
    // AdaGrad: v = 9, update 3 / (3 + 1).
    assert_eq!(one(OptimizerSetting::AdaGrad { eta: 1.0, eps: 1.0 }, 3.0), -0.75);
}
