//! The deferred run (`Experiment::run_deferred`: untouched rows of `W` catch up in bulk where
//! something reads them) is the eager run (`Experiment::run_eager`) bit for bit: stop reason and
//! step, every checkpoint, the feature-reversal step, the final weights; for every optimizer,
//! through a divergence, over more steps than one catch-up covers, on 1 and 2 threads. Where it
//! cannot be shown identical (a gradient tolerance, weights beyond the finiteness test's bound) it
//! declines, and `Experiment::run` falls back to the eager run.

use adamgap::optim::StopReason;
use adamgap::setting::{ActivationKind, Decay, OptimizerSetting, Setting};
use adamgap::train::{Experiment, Run};

/// `d = 3000` with `n = 20` samples of `s = 20` noise coordinates: at most 421 rows touched, about
/// 86 % untouched; 60 steps with checkpoints in between.
fn setting() -> Setting {
    let mut st = Setting::default();
    (st.data.d, st.data.n, st.data.s, st.data.sigma_p, st.data.test_size) = (3_000, 20, 20, 0.5, 300);
    (st.model.m, st.model.lambda) = (3, 0.01);
    (st.train.steps, st.train.checkpoints) = (60, 4);
    st
}

fn optimizers() -> Vec<OptimizerSetting> {
    vec![
        OptimizerSetting::paper_gd(),
        OptimizerSetting::paper_adam(),
        // Reverses the feature (at step 8).
        OptimizerSetting::Adam { eta: 1e-2, b1: 0.9, b2: 0.999, eps: 1e-8, bias_correction: true },
        OptimizerSetting::Adam { eta: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8, bias_correction: false },
        OptimizerSetting::AdamW { eta: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8, bias_correction: true },
        OptimizerSetting::SignGd { eta: 1e-3, decay: Decay::InvSqrt },
        OptimizerSetting::Momentum { eta: 0.1, beta: 0.9 },
        OptimizerSetting::RmsProp { eta: 1e-3, beta: 0.9, eps: 1e-8 },
        OptimizerSetting::AdaGrad { eta: 1e-2, eps: 1e-8 },
    ]
}

/// Everything a run reports, with every float as its bits (`{:?}` prints the shortest decimal that
/// reads back to the same bits, `-0.0` and `NaN` included), and the weights' bits.
fn fingerprint(r: &Run) -> (String, Vec<u64>) {
    let text = format!("{} {:?} {} {:?} {} {:?}", r.name, r.stop, r.steps, r.feature_reversal_step, r.moved, r.trace);
    (text, r.weights.as_slice().iter().map(|x| x.to_bits()).collect())
}

fn deferred(exp: &Experiment, opt: &OptimizerSetting) -> Run {
    exp.run_deferred(opt, &|_| {}).unwrap_or_else(|| panic!("{}: the deferred run applies", opt.key()))
}

#[test]
fn deferred_runs_equal_eager_runs_bit_for_bit() {
    let exp = Experiment::new(&setting()).expect("a valid setting");
    assert!(exp.defers(), "most rows untouched: run defers them");
    let mut reversals = 0;
    for opt in optimizers() {
        let eager = exp.run_eager(&opt, &|_| {});
        let lazy = deferred(&exp, &opt);
        assert!(eager.moved && eager.trace.len() > 8, "{}: a run that trains, with checkpoints", opt.key());
        assert_eq!(fingerprint(&eager), fingerprint(&lazy), "{}", opt.key());
        reversals += usize::from(eager.feature_reversal_step.is_some());
    }
    assert!(reversals > 0, "a feature reversal compared too");
}

#[test]
fn a_divergence_and_long_gaps_between_catch_ups_stay_identical() {
    // GD with a huge step and no weight decay diverges in the touched rows (at step 7, between
    // checkpoints) while the untouched rows stay put; the stop is recorded in both runs.
    let mut st = setting();
    st.model.lambda = 0.0;
    let exp = Experiment::new(&st).expect("a valid setting");
    let gd = OptimizerSetting::Gd { eta: 1e3 };
    let eager = exp.run_eager(&gd, &|_| {});
    assert!(matches!(eager.stop, StopReason::Diverged { step } if step > 5), "{:?}", eager.stop);
    assert_eq!(fingerprint(&eager), fingerprint(&deferred(&exp, &gd)));
    // 3,000 steps with no evenly spaced checkpoints: 2,000 steps between the checkpoints 1000 and
    // 3000, more than one catch-up's record holds.
    (st.model.lambda, st.train.steps, st.train.checkpoints) = (0.01, 3_000, 0);
    let exp = Experiment::new(&st).expect("a valid setting");
    let adam = OptimizerSetting::paper_adam();
    assert_eq!(fingerprint(&exp.run_eager(&adam, &|_| {})), fingerprint(&deferred(&exp, &adam)));
}

#[test]
fn deferred_runs_do_not_depend_on_the_number_of_threads() {
    let exp = Experiment::new(&setting()).expect("a valid setting");
    let in_pool = |threads: usize, opt: &OptimizerSetting| {
        adamgap::parallel::pool(threads).expect("a pool").install(|| fingerprint(&deferred(&exp, opt)))
    };
    for opt in [OptimizerSetting::paper_adam(), OptimizerSetting::paper_gd()] {
        assert_eq!(in_pool(1, &opt), in_pool(2, &opt), "{}", opt.key());
    }
}

#[test]
fn where_it_cannot_be_shown_identical_the_run_is_eager() {
    let adam = OptimizerSetting::paper_adam();
    // A gradient tolerance sums the whole gradient at every step.
    let mut st = setting();
    st.train.grad_tol = 1e-3;
    let exp = Experiment::new(&st).expect("a valid setting");
    assert!(!exp.defers());
    assert!(exp.run_deferred(&adam, &|_| {}).is_none());
    // Untouched weights beyond the finiteness test's bound at the start (sigma0 = 1e200): the eager
    // run sums the gradient exactly there and diverges.
    let mut st = setting();
    st.model.sigma0 = 1e200;
    let exp = Experiment::new(&st).expect("a valid setting");
    assert!(exp.defers() && exp.run_deferred(&adam, &|_| {}).is_none());
    let eager = exp.run_eager(&adam, &|_| {});
    assert_eq!(eager.stop.label(), "diverged");
    assert_eq!(fingerprint(&exp.run(&adam, &|_| {})), fingerprint(&eager));
    // ... or beyond it later: GD with weight decay and a huge step multiplies every weight by about
    // 1 - eta lambda = -1e10 per step, past the bound (about 1e151) at step 16, when the loss of the
    // linear activation is still finite.
    let mut st = setting();
    st.model.lambda = 1.0;
    st.model.activation = ActivationKind::Linear;
    let exp = Experiment::new(&st).expect("a valid setting");
    let gd = OptimizerSetting::Gd { eta: 1e10 };
    assert!(exp.run_deferred(&gd, &|_| {}).is_none());
    assert_eq!(fingerprint(&exp.run(&gd, &|_| {})), fingerprint(&exp.run_eager(&gd, &|_| {})));
}

#[test]
fn settings_that_touch_every_row_are_not_deferred() {
    // d = 1000 with n = 200 samples of s = 100 noise coordinates: every row is touched.
    let exp = Experiment::new(&Setting::default()).expect("the default setting");
    assert!(!exp.defers());
    // Forced on data that touch every row, the deferred run has nothing to defer and is the same.
    let mut st = setting();
    (st.data.d, st.data.s) = (200, 100);
    let exp = Experiment::new(&st).expect("a valid setting");
    assert!(!exp.defers());
    let adam = OptimizerSetting::paper_adam();
    assert_eq!(fingerprint(&exp.run_eager(&adam, &|_| {})), fingerprint(&deferred(&exp, &adam)));
}
