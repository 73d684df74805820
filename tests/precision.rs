//! The precision path: the generic path at `f64` reproduces the fast kernels bit for bit; the
//! double-double gradient against central differences in double-double (tolerance `1e-15`, against
//! `1e-6` for binary64 in `tests/gradient.rs`); double-double and binary64 Adam agree to `1e-12`
//! over 20 steps; double-double runs do not depend on the thread count; on the ladder's small
//! setting double-double tracks the 256-bit trajectory to `1e-25` for 50 steps; bad
//! `--precision` values exit 2 naming the allowed values.

mod common;

use std::process::Command;

use adamgap::model::Weights;
use adamgap::precision::ladder::{LadderSetting, ladder_row};
use adamgap::precision::{Dd, model, train};
use adamgap::setting::{Decay, OptimizerSetting, Setting};
use adamgap::train::Experiment;

/// A small setting with partial blocks everywhere (forward 8 samples, backward 32 rows, update 2048
/// parameters).
fn small(steps: usize) -> Setting {
    let mut s = common::small(150, 21, 12, 300, 7);
    s.model.sigma0 = 0.05;
    s.train.steps = steps;
    s
}

fn every_optimizer() -> Vec<OptimizerSetting> {
    vec![
        OptimizerSetting::Gd { eta: 0.5 },
        OptimizerSetting::paper_adam(),
        OptimizerSetting::AdamW { eta: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8, bias_correction: true },
        OptimizerSetting::Adam { eta: 1e-3, b1: 0.8, b2: 0.99, eps: 0.0, bias_correction: false },
        OptimizerSetting::SignGd { eta: 1e-3, decay: Decay::InvSqrt },
        OptimizerSetting::Momentum { eta: 0.1, beta: 0.9 },
        OptimizerSetting::RmsProp { eta: 1e-3, beta: 0.99, eps: 1e-8 },
        OptimizerSetting::AdaGrad { eta: 1e-2, eps: 1e-8 },
    ]
}

/// At `f64` the generic path performs the fast kernels' operations in their order: same weights
/// bit for bit, same trace, for every optimizer.
#[test]
fn generic_path_at_f64_reproduces_the_fast_path_bit_for_bit() {
    let exp = Experiment::new(&small(30)).unwrap();
    for opt in every_optimizer() {
        let fast = exp.run(&opt, &|_| {});
        let generic = train::run::<f64>(&exp, &opt);
        let bits = |w: &Weights| w.as_slice().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&fast.weights), bits(&generic.weights), "{}", opt.key());
        assert_eq!(fast.trace.len(), generic.trace.len());
        for (a, b) in fast.trace.iter().zip(&generic.trace) {
            assert_eq!(a.loss.to_bits(), b.loss.to_bits(), "{} step {}", opt.key(), a.step);
            assert_eq!((a.train_error, a.test_error), (b.train_error, b.test_error));
            assert_eq!(a.coefficients.feature_max, b.coefficients.feature_max);
        }
        assert_eq!(fast.feature_reversal_step, generic.feature_reversal_step);
    }
}

/// The double-double gradient against central differences of the double-double objective: with
/// `h = 1e-10` the truncation error is about `h^2 = 1e-20` and the rounding error about
/// `2^-104 / h < 1e-21`, so `1e-15 (1 + |g|)` is a tolerance a wrong gradient cannot meet.
#[test]
fn dd_gradient_matches_central_differences_in_dd() {
    let mut checked = 0;
    for (seed, q) in [(1u64, 3u32), (2, 2), (3, 1), (4, 4)] {
        let mut s = small(1);
        s.data.d = 12;
        s.data.n = 5;
        s.data.s = 4;
        s.model.m = 2;
        s.model.q = q;
        s.model.sigma0 = 0.6;
        s.model.lambda = 0.03;
        s.data.sigma_p = 0.7;
        s.seed = seed;
        let exp = Experiment::new(&s).unwrap();
        let w: Vec<Dd> = train::init_in(&exp.init);
        let h = 1e-10;
        // Skip draws with a pre-activation within 1000 h of a kink of max(0, z)^q.
        let init = &exp.init;
        let z: Vec<f64> = (0..exp.train.x.rows())
            .flat_map(|r| {
                let x = exp.train.x.dense_row(r, s.data.d);
                let s = &s;
                (0..2 * s.model.m)
                    .map(move |c| (0..x.len()).map(|k| init.as_slice()[k * 2 * s.model.m + c] * x[k]).sum::<f64>())
            })
            .collect();
        if z.iter().any(|v| v.abs() < 1e3 * h) {
            continue;
        }
        let g = model::full_gradient(&exp.model, &w, &exp.train);
        for i in 0..w.len() {
            let (mut wp, mut wm) = (w.clone(), w.clone());
            wp[i] = wp[i].add_f64(h);
            wm[i] = wm[i].add_f64(-h);
            let fd = model::objective(&exp.model, &wp, &exp.train)
                .sub(model::objective(&exp.model, &wm, &exp.train))
                .div_f64_exact(2.0 * h);
            let err = fd.sub(g[i]).hi.abs();
            assert!(err <= 1e-15 * (1.0 + g[i].hi.abs()), "seed {seed} q {q} coordinate {i}: {:?} vs {fd:?}", g[i]);
        }
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} draws away from the kinks");
}

trait DivF64 {
    fn div_f64_exact(self, y: f64) -> Dd;
}
impl DivF64 for Dd {
    fn div_f64_exact(self, y: f64) -> Dd {
        self.div(Dd::from_f64(y))
    }
}

/// Double-double and binary64 Adam from the same `W^(0)` agree to `1e-12` relative over 20 steps.
#[test]
fn dd_and_f64_adam_agree_over_the_first_steps() {
    let exp = Experiment::new(&small(20)).unwrap();
    let opt = OptimizerSetting::paper_adam();
    let objective = adamgap::train::TrainObjective::new(&exp.model, &exp.train);
    let method = adamgap::optim::FirstOrder::new(&opt, adamgap::optim::Schedule::Constant, exp.init.as_slice().len());
    let mut copy = adamgap::optim::Lockstep::new(objective, method, exp.init.clone(), |w: &[Dd], f: &[f64]| {
        adamgap::precision::audit::relative_distance(w, f)
    });
    train::run_with::<Dd, _>(&exp, &opt, &exp.init, &|_| {}, &mut copy);
    assert_eq!(copy.distances.len(), 21);
    let worst = copy.distances.iter().copied().fold(0.0f64, f64::max);
    assert!(worst <= 1e-12, "relative distance {worst}");
    assert!(worst > 0.0, "the two precisions round differently");
}

/// Keeps the last point a run shows.
struct Last(Vec<Dd>);

impl adamgap::optim::Observer<Vec<Dd>, train::RealExtra<Dd>, Dd> for Last {
    fn after_step(&mut self, _t: usize, w: &Vec<Dd>) {
        self.0.clone_from(w);
    }
}

/// A double-double run is deterministic and does not depend on the number of threads.
#[test]
fn dd_runs_do_not_depend_on_the_thread_count() {
    let exp = Experiment::new(&small(8)).unwrap();
    let bits = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let mut out = Vec::new();
            for opt in [OptimizerSetting::paper_adam(), OptimizerSetting::Gd { eta: 0.5 }] {
                let mut last = Last(Vec::new());
                let run = train::run_with::<Dd, _>(&exp, &opt, &exp.init, &|_| {}, &mut last);
                out.extend(last.0.iter().flat_map(|x| [x.hi.to_bits(), x.lo.to_bits()]));
                out.push(run.last.test_error.to_bits());
                out.push(run.last.loss.to_bits());
            }
            out
        })
    };
    let one = bits(1);
    assert_eq!(one, bits(1), "deterministic");
    assert_eq!(one, bits(2));
    assert_eq!(one, bits(3));
}

/// On the ladder's small setting double-double stays within `1e-25` of the 256-bit trajectory for
/// the first 50 Adam steps, while binary64 is already `1e-17` or more away.
#[test]
fn dd_tracks_the_256_bit_trajectory_on_the_ladder() {
    let mut l = LadderSetting::small();
    l.setting.train.steps = 50;
    let exp = Experiment::new(&l.setting).unwrap();
    let row = ladder_row(&exp, &OptimizerSetting::paper_adam());
    assert_eq!(row.dd_distance.len(), 51);
    let worst = row.dd_distance.iter().copied().fold(0.0, f64::max);
    assert!(worst <= 1e-25, "dd against 256 bits: {worst}");
    assert!(row.f64_distance[50] >= 1e-17, "f64 against 256 bits: {}", row.f64_distance[50]);
}

#[test]
fn bad_precision_is_rejected_with_exit_2_and_the_allowed_values() {
    let out = Command::new(env!("CARGO_BIN_EXE_adamgap"))
        .args(["run", "--precision", "quad", "--steps", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--precision") && err.contains("f64, dd") && err.contains("quad"), "{err}");
    assert!(out.stdout.is_empty(), "no partial output");
}

/// A double-double run's export writes the low parts beside the high parts: `w_<name>_lo.npy`,
/// each entry at most half an ulp of its high part, not all zero, and the manifest says `dd`.
#[test]
fn a_dd_export_writes_the_low_parts() {
    let tmp = tempfile::Builder::new().prefix("adamgap-dd-export-").tempdir().expect("temp dir");
    let dir = tmp.path().join("export");
    let out = Command::new(env!("CARGO_BIN_EXE_adamgap"))
        .args(["--precision", "dd", "--steps", "30", "--d", "100", "--n", "12", "--s", "10", "--test-size", "50"])
        .args(["--m", "2", "--quiet", "--export", dir.to_str().unwrap()])
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    for o in manifest["optimizers"].as_array().unwrap() {
        let name = o["name"].as_str().unwrap();
        assert_eq!(o["precision"], "dd");
        assert_eq!(o["weights_lo"], format!("w_{name}_lo.npy"));
        let hi: ndarray::Array3<f64> = ndarray_npy::read_npy(dir.join(format!("w_{name}.npy"))).unwrap();
        let lo: ndarray::Array3<f64> = ndarray_npy::read_npy(dir.join(format!("w_{name}_lo.npy"))).unwrap();
        assert_eq!(hi.shape(), lo.shape());
        let half_ulp = |x: f64| (f64::from_bits(x.abs().to_bits() + 1) - x.abs()) / 2.0;
        assert!(hi.iter().zip(&lo).all(|(&h, &l)| l.abs() <= half_ulp(h)), "{name}: a low part above half an ulp");
        assert!(lo.iter().any(|&l| l != 0.0), "{name}: every low part is zero");
    }
}

/// The audit's JSON reads back as the typed report (strictly), and its agreement is claim 11's
/// checks by the one verdict rule: `verdicts_agree` is `true` exactly when that verdict holds, and
/// the text's agreement line says it (a failed or inconclusive verdict reads `no` or
/// `inconclusive (...)`, never `yes`).
#[test]
fn the_audit_report_reads_back_and_its_agreement_is_claim_11() {
    use adamgap::precision::audit::{AuditSetting, audit};
    use adamgap::precision::report::{AuditReport, json, text};
    use adamgap::verdict::Verdict;
    let a = audit(&AuditSetting { setting: small(40), headline: adamgap::claims::headline, twins: 2, ladder: None })
        .expect("audited");
    let claim = adamgap::claims::commands::precision(&a);
    assert_eq!(claim.theorem, "theorems/11-precision-robust.toml");
    assert_eq!(claim.checks.len(), 3);
    assert_eq!(claim.verdict == Verdict::Holds, a.verdicts_agree, "{claim:?}");
    let v = json(&a, &claim.verdict);
    let back: AuditReport = serde_json::from_value(v.clone()).expect("an audit report");
    assert_eq!(back, AuditReport::of(&a, &claim.verdict));
    assert_eq!(back.verdicts_agree, claim.verdict == Verdict::Holds);
    let mut extra = v;
    extra["runs"]["gd"]["twin_spread"] = serde_json::json!(0);
    let e = serde_json::from_value::<AuditReport>(extra).expect_err("unknown field").to_string();
    assert!(e.contains("twin_spread"), "{e}");
    let line = |v: &Verdict| {
        text(&a, v).lines().find(|l| l.starts_with("every headline verdict the same")).expect("the line").to_string()
    };
    assert!(line(&Verdict::Holds).ends_with(": yes"));
    assert!(line(&Verdict::Fails).ends_with(": no"));
    assert!(line(&Verdict::Inconclusive("why".into())).ends_with(": inconclusive (why)"));
    assert!(!json(&a, &Verdict::Fails)["verdicts_agree"].as_bool().expect("a bool"));
}

/// A double-double run goes through the one driver and its bookkeeping: it stops for the binary64
/// run's reason at the binary64 run's step (the step budget, the gradient tolerance, a divergence),
/// records the same checkpoint steps, and reports its progress through the callback of
/// `Experiment::run_all`, up to the step it stopped at.
#[test]
fn dd_runs_stop_for_the_same_reasons_as_f64_runs() {
    use adamgap::optim::StopReason;
    use adamgap::precision::Precision;
    let both = |s: &Setting, opt: &OptimizerSetting| {
        let exp = Experiment::new(s).unwrap();
        let (f, d) = (exp.run(opt, &|_| {}), train::run::<Dd>(&exp, opt));
        let steps = |r: &adamgap::train::Run| r.trace.iter().map(|c| c.step).collect::<Vec<_>>();
        assert_eq!(steps(&f), steps(&d), "{:?}", f.stop);
        assert_eq!(d.stop, f.stop);
        (f, d)
    };
    let gd = OptimizerSetting::Gd { eta: 0.5 };
    let (budget, _) = both(&small(12), &gd);
    assert_eq!(budget.stop, StopReason::StepBudget { step: 12 });
    // A tolerance between the gradient norms at steps 2 and 5 of that run: met after step 2.
    let norm = |t: usize| budget.trace.iter().find(|c| c.step == t).expect("a checkpoint").grad_norm_l2;
    assert!(norm(2) > 1.01 * norm(5), "the norm falls: {} {}", norm(2), norm(5));
    let mut s = small(12);
    s.train.grad_tol = (norm(2) * norm(5)).sqrt();
    let (tol, _) = both(&s, &gd);
    assert!(matches!(tol.stop, StopReason::GradTol { step: 3..=5 }), "{:?}", tol.stop);
    // A step far too long: the loss overflows.
    let (diverged, _) = both(&small(12), &OptimizerSetting::Gd { eta: 1e150 });
    assert!(matches!(diverged.stop, StopReason::Diverged { step: 1..=11 }), "{:?}", diverged.stop);
    // Progress in double-double, through the callback `run_all` takes in either precision.
    let exp = Experiment::new(&s).unwrap();
    let seen = std::sync::Mutex::new(vec![0usize; exp.setting.optimizers.len()]);
    let runs = adamgap::precision::run_all(&exp, Precision::Dd, &|k, t| {
        let mut seen = seen.lock().unwrap();
        seen[k] = seen[k].max(t);
    });
    let seen = seen.into_inner().unwrap();
    assert!(runs.iter().zip(&seen).all(|(r, &t)| r.steps == t && r.weights_lo.is_some()), "{seen:?}");
}
