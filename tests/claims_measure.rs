//! The measurements behind the claims, read directly: every quantity a claim's checks can name is
//! compared with the run, the certificate or the audit it comes from, on settings small enough to
//! take milliseconds (the snapshot tests of `tests/claims.rs` see only the quantities the theorem
//! files read, at test scale, in about a minute).

mod common;

use adamgap::claims::measure::measure_convex;
use adamgap::setting::{ActivationKind, Setting};
use adamgap::train::Experiment;
use common::small;

/// A linear-activation setting small enough for the convex certificate in a test: d = 60, n = 16,
/// s = 6, m = 3, 200 test points, lambda = 0.05.
fn small_linear() -> Setting {
    let mut s = small(60, 16, 6, 200, 3);
    s.model.lambda = 0.05;
    s.model.activation = ActivationKind::Linear;
    s
}

/// The convex certificate's quantities are the certificate's own numbers: every default run
/// converged, is consistent with the high-precision minimizer and moved; every test prediction is
/// certified; the radii are small and positive.
#[test]
fn convex_measurement_reads_the_certificate() {
    let s = small_linear();
    let m = measure_convex(&s).expect("certified");
    assert_eq!(m.inconclusive, None);
    let q = |k: &str| *m.quantities.get(k).unwrap_or_else(|| panic!("{k} missing: {:?}", m.quantities));
    assert_eq!(q("certificate.test_size"), 200.0);
    assert_eq!(q("certificate.uncertified_predictions"), 0.0);
    assert_eq!(q("certificate.disagreements"), 0.0);
    assert_eq!(q("certificate.inconsistent_runs"), 0.0);
    assert_eq!(q("certificate.runs_not_converged"), 0.0);
    let max = q("certificate.max_radius");
    assert!(max > 0.0 && max <= 1e-6, "max radius {max}");
    assert!(q("certificate.minimizer_radius") < max);
    assert!(q("certificate.adamw_distance_lower") > 0.0);
    // One radius per run, the largest is max_radius; every optimizer run is listed and moved.
    let radii: Vec<f64> = m
        .quantities
        .iter()
        .filter(|(k, _)| k.ends_with(".radius") && *k != "certificate.minimizer_radius")
        .map(|(_, v)| *v)
        .collect();
    assert!(radii.len() >= 8, "{radii:?}");
    assert_eq!(radii.iter().copied().fold(0.0, f64::max), max);
    assert!(m.runs.len() >= 7, "{:?}", m.runs);
    for r in &m.runs {
        assert!(r.steps > 0 && r.moved, "{r:?}");
        assert!(matches!(r.stop, adamgap::optim::StopReason::GradTol { .. }), "{r:?}");
    }
}

/// Only the linear activation is convex: any other gives no quantity and an inconclusive reason.
#[test]
fn convex_measurement_needs_the_linear_activation() {
    let mut s = small_linear();
    s.model.activation = ActivationKind::PolyRelu;
    let m = measure_convex(&s).expect("no error");
    assert!(m.quantities.is_empty(), "{:?}", m.quantities);
    assert!(m.inconclusive.as_deref().is_some_and(|r| r.contains("linear")), "{:?}", m.inconclusive);
}

/// Convex runs whose weights overflow: the measurement is inconclusive with the reason (and still
/// shows the certificate's numbers), not an error that would stop `adamgap check`.
#[test]
fn a_diverged_convex_run_is_inconclusive() {
    let mut s = small_linear();
    s.model.sigma0 = 1e200;
    let m = measure_convex(&s).expect("no error");
    let why = m.inconclusive.clone().expect("inconclusive");
    assert!(why.starts_with("a convex run diverged ("), "{why}");
    assert!(m.quantities["certificate.runs_not_converged"] > 0.0, "{:?}", m.quantities);
    assert!(m.runs.iter().any(|r| matches!(r.stop, adamgap::optim::StopReason::Diverged { .. })), "{:?}", m.runs);
}

/// The precision audit's quantities, each recomputed from the audit's runs: the binary64 and
/// double-double runs' relative distance (last and largest), the one-ulp twins' test-error range and
/// largest relative distance, the verdict agreement, and two runs listed per optimizer.
#[test]
fn precision_measurement_reads_the_audit() {
    use adamgap::precision::audit::{AuditSetting, audit};
    let mut s = small(100, 10, 10, 100, 4);
    s.train.steps = 60;
    let m = adamgap::claims::measure::measure_precision(&s, adamgap::claims::headline).expect("audited");
    let a = audit(&AuditSetting { setting: s.clone(), headline: adamgap::claims::headline, twins: 4, ladder: None })
        .expect("audited");
    let q = |k: String| *m.quantities.get(&k).unwrap_or_else(|| panic!("{k} missing: {:?}", m.quantities));
    assert_eq!(q("precision.verdicts_agree".into()), f64::from(u8::from(a.verdicts_agree)));
    assert_eq!(m.runs.len(), 2 * a.optimizers.len());
    for (k, o) in a.optimizers.iter().enumerate() {
        let n = &o.name;
        assert_eq!(q(format!("precision.{n}.verdicts_agree")), f64::from(u8::from(o.verdicts_agree)));
        let last = *o.distance.last().expect("a distance per checkpoint");
        let max = o.distance.iter().copied().fold(0.0, f64::max);
        assert!(max > 0.0 && last > 0.0, "binary64 and double-double part: {:?}", o.distance);
        assert_eq!(q(format!("precision.{n}.final_distance")), last);
        assert_eq!(q(format!("precision.{n}.max_distance")), max);
        let errors: Vec<f64> = o.twins.iter().map(|r| r.last.test_error).collect();
        let (lo, hi) = errors.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), e| (l.min(*e), h.max(*e)));
        assert_eq!(q(format!("precision.{n}.twin_test_error_spread")), hi - lo);
        let twin: Vec<f64> =
            o.twins.iter().map(|r| r.weights.distance(&o.f64.weights) / o.f64.weights.norm()).collect();
        assert!(twin.iter().all(|t| *t > 0.0 && *t < 1e-6), "twins start one ulp apart: {twin:?}");
        assert_eq!(q(format!("precision.{n}.twin_final_distance")), twin.iter().copied().fold(0.0, f64::max));
        assert_eq!(m.runs[2 * k].name, format!("{} (f64)", o.f64.name));
        assert_eq!(m.runs[2 * k + 1].name, format!("{} (dd)", o.dd.name));
        assert_eq!(m.runs[2 * k + 1].steps, o.dd.steps);
    }
}

/// A small GD + Adam setting (d = 300, n = 40, s = 30, m = 8, 300 steps, 30 checkpoints).
fn small_training() -> Setting {
    let mut s = small(300, 40, 30, 200, 8);
    s.train.steps = 300;
    s.train.checkpoints = 30;
    s
}

/// The checkpoint fields by name, written out here (not through the library's own table).
fn fields(c: &adamgap::train::Checkpoint) -> Vec<(&'static str, f64)> {
    let co = &c.coefficients;
    vec![
        ("train_error", c.train_error),
        ("test_error", c.test_error),
        ("objective", c.objective),
        ("loss", c.loss),
        ("grad_norm", c.grad_norm_l2),
        ("grad_norm_l1", c.grad_norm_l1),
        ("weight_norm", c.weight_norm),
        ("feature_max", co.feature_max),
        ("feature_max_plus", co.feature_max_per_class[0]),
        ("feature_max_minus", co.feature_max_per_class[1]),
        ("noise_min_max", co.noise_min_max),
        ("noise_max_max", co.noise_max_max),
    ]
}

/// Every quantity of a training measurement against the runs and the data it comes from: the
/// setting's predictions, the data's statistics, `init.*`, each run's fields, stage-I growth, the
/// feature crossing (reached and not), the series, the pairwise distances and radii.
#[test]
fn training_measurement_reads_the_runs() {
    use adamgap::claims::measure::measure_runs;
    use adamgap::model::Coefficients;
    let s = small_training();
    let exp = Experiment::new(&s).expect("valid");
    let runs = exp.run_all(&|_, _| {});
    let refs: Vec<&adamgap::train::Run> = runs.iter().collect();
    let gd = &runs[0];
    assert_eq!((gd.name.as_str(), runs[1].name.as_str()), ("gd", "adam"));
    // A level GD's feature crosses after its first checkpoint.
    let level = 0.5 * (gd.trace[0].coefficients.feature_max + gd.last.coefficients.feature_max);
    let m = measure_runs(&exp, &refs, Some(level));
    let q = |k: &str| *m.quantities.get(k).unwrap_or_else(|| panic!("{k} missing: {:?}", m.quantities.keys()));

    let (n, sp, d, ss) = (40.0, s.data.sigma_p, 300.0, 30.0);
    assert_eq!(q("predicted.noise_l1"), ss * sp * (2.0 / std::f64::consts::PI).sqrt());
    assert_eq!(q("predicted.noise_init_scale"), s.model.sigma0 * ss.sqrt() * sp);
    assert_eq!(q("data.supports_per_coordinate"), n * ss / (d - 1.0));
    let l1: f64 = (0..exp.train.len())
        .map(|i| {
            let (idx, val) = exp.train.noise.row(i);
            idx.iter().zip(val).filter(|(k, _)| **k != 0).map(|(_, v)| v.abs()).sum::<f64>()
        })
        .sum::<f64>()
        / n;
    assert!((q("data.noise_l1_mean") - l1).abs() <= 1e-12 * l1, "{} vs {l1}", q("data.noise_l1_mean"));
    let o = exp.overlap();
    assert!(o.pairs_total == 780 && o.pairs_overlapping > 0);
    assert_eq!(q("data.overlapping_pairs"), o.pairs_overlapping as f64 / 780.0);
    for (f, v) in fields(&gd.trace[0]) {
        assert_eq!(q(&format!("init.{f}")), v, "init.{f}");
    }

    for run in &runs {
        let k = &run.name;
        let g = |f: &str| q(&format!("{k}.{f}"));
        for (f, v) in fields(&run.last) {
            assert_eq!(g(f), v, "{k}.{f}");
            let series = &m.series[&format!("{k}.{f}")];
            assert_eq!(series.len(), run.trace.len());
            for (c, (step, value)) in run.trace.iter().zip(series) {
                let want = fields(c).into_iter().find(|(g, _)| *g == f).unwrap().1;
                assert_eq!((*step, *value), (c.step, want), "{k}.{f}");
            }
        }
        assert_eq!(g("steps"), 300.0);
        assert_eq!(g("grad_norm_max"), run.trace.iter().map(|c| c.grad_norm_l2).fold(0.0, f64::max));
        assert_eq!(g("diverged"), 0.0);
        assert_eq!(g("distance_from_init"), run.weights.distance(&exp.init));
        assert_eq!(g("reversed"), f64::from(u8::from(run.feature_reversal_step.is_some())));
        match run.feature_reversal_step {
            Some(step) => assert_eq!(g("reversal_step"), step as f64),
            None => assert_eq!(
                m.missing[&format!("{k}.reversal_step")],
                format!("{k}'s feature never reversed in 300 steps")
            ),
        }
        // Stage-I growth from the coefficients at W^(0) and at the end, per step in units of eta.
        let (c0, c1) = (Coefficients::of(&exp.init, &exp.train), Coefficients::of(&run.weights, &exp.train));
        let te = 300.0 * run.optimizer.eta();
        let active: Vec<f64> =
            c0.rho.iter().zip(c1.rho.iter()).filter(|(a, _)| **a > 0.0).map(|(a, b)| b - a).collect();
        assert!(!active.is_empty() && active.len() < c0.rho.len());
        let noise = active.iter().sum::<f64>() / active.len() as f64 / te;
        let feature = c0.gamma.iter().zip(c1.gamma.iter()).map(|(a, b)| (b - a).abs()).fold(0.0, f64::max) / te;
        assert!(
            (g("noise_growth_per_step") - noise).abs() <= 1e-12 * noise.abs(),
            "{k}: {} vs {noise}",
            g("noise_growth_per_step")
        );
        assert!((g("feature_growth_per_step") - feature).abs() <= 1e-12 * feature, "{k}");
        assert_eq!(g("growth_ratio"), g("noise_growth_per_step") / g("feature_growth_per_step"));
        assert_eq!(m.runs.iter().filter(|r| &r.name == k).count(), 1);
    }

    // GD's feature crossing: the first checkpoint at or above the level, and the one before it.
    let p = gd.trace.iter().position(|c| c.coefficients.feature_max >= level).expect("crossed");
    assert!(p > 0);
    assert_eq!(q("gd.feature_reach_step"), gd.trace[p].step as f64);
    assert_eq!(q("gd.feature_reach_after_step"), gd.trace[p - 1].step as f64);
    let at = gd.trace[p].coefficients.noise_max_max;
    assert_eq!(q("gd.noise_max_at_reach"), at);
    assert_eq!(q("gd.noise_growth_at_reach"), at / gd.trace[0].coefficients.noise_max_max);
    // Pairs: the distance between the final weights and the strong-convexity radius.
    assert_eq!(q("distance.gd.adam"), gd.weights.distance(&runs[1].weights));
    assert_eq!(q("convex_radius.gd.adam"), (gd.last.grad_norm_l2 + runs[1].last.grad_norm_l2) / s.model.lambda);
    let pairs: Vec<&str> = m
        .quantities
        .keys()
        .filter(|k| k.starts_with("distance.") || k.starts_with("convex_radius."))
        .map(|k| k.as_str())
        .collect();
    assert_eq!(pairs, ["convex_radius.gd.adam", "distance.gd.adam"], "one entry per pair of runs");

    // A level already reached at W^(0): the crossing is at step 0, with no checkpoint before it.
    let m = measure_runs(&exp, &refs, Some(0.0));
    assert_eq!(m.quantities["gd.feature_reach_step"], 0.0);
    assert!(!m.quantities.contains_key("gd.feature_reach_after_step"));
    // A level never reached: the three crossing quantities are missing, with the reason.
    let m = measure_runs(&exp, &refs, Some(1e9));
    for f in ["feature_reach_step", "noise_max_at_reach", "noise_growth_at_reach"] {
        assert_eq!(m.missing[&format!("adam.{f}")], "adam's feature_max never reached 1000000000 in 300 steps");
        assert!(!m.quantities.contains_key(&format!("adam.{f}")));
    }
    assert!(!m.quantities.contains_key("gd.feature_reach_after_step"));
    // No level: no crossing quantity at all; no weight decay: no strong-convexity radius.
    let m = measure_runs(&exp, &refs, None);
    assert!(!m.quantities.keys().chain(m.missing.keys()).any(|k| k.contains("reach")));
    // One training sample: no pair of samples, so no share of overlapping pairs.
    let mut one = small_training();
    one.data.n = 1;
    let exp1 = Experiment::new(&one).expect("valid");
    let runs1 = exp1.run_all(&|_, _| {});
    let m = measure_runs(&exp1, &runs1.iter().collect::<Vec<_>>(), None);
    assert!(m.quantities.contains_key("data.noise_l1_mean") && !m.quantities.contains_key("data.overlapping_pairs"));
    let mut s0 = small_training();
    s0.model.lambda = 0.0;
    let exp0 = Experiment::new(&s0).expect("valid");
    let runs0 = exp0.run_all(&|_, _| {});
    let m = measure_runs(&exp0, &runs0.iter().collect::<Vec<_>>(), None);
    assert!(m.quantities.contains_key("distance.gd.adam") && !m.quantities.contains_key("convex_radius.gd.adam"));
}

/// Stage-I growth is not defined for a run of no steps, with non-finite weights, or from
/// `W^(0) = 0` (no initially active pair); a diverged run reads `diverged = 1`.
#[test]
fn growth_needs_steps_and_finite_weights() {
    use adamgap::claims::measure::measure_runs;
    // A run cut to step 0 (as the checker's measurement at initialization is).
    let exp = Experiment::new(&small_training()).expect("valid");
    let mut runs = exp.run_all(&|_, _| {});
    for r in &mut runs {
        r.steps = 0;
        r.weights = exp.init.clone();
    }
    let m = measure_runs(&exp, &runs.iter().collect::<Vec<_>>(), None);
    assert_eq!(m.quantities["gd.steps"], 0.0);
    assert!(!m.quantities.keys().any(|k| k.contains("growth")), "{:?}", m.quantities.keys());
    let mut s = small_training();
    s.optimizers = vec![adamgap::setting::OptimizerSetting::Gd { eta: 1e9 }];
    let exp = Experiment::new(&s).expect("valid");
    let runs = exp.run_all(&|_, _| {});
    let m = measure_runs(&exp, &runs.iter().collect::<Vec<_>>(), None);
    assert_eq!(m.quantities["gd.diverged"], 1.0);
    // A run that ends where it started: growth 0 per step, and no ratio (0 / 0 is not a ratio).
    let exp = Experiment::new(&small_training()).expect("valid");
    let mut still = exp.run_all(&|_, _| {});
    still[0].weights = exp.init.clone();
    let m = measure_runs(&exp, &[&still[0]], None);
    assert_eq!((m.quantities["gd.noise_growth_per_step"], m.quantities["gd.feature_growth_per_step"]), (0.0, 0.0));
    assert!(!m.quantities.contains_key("gd.growth_ratio"), "{:?}", m.quantities.keys());
    // W^(0) = 0: no (i, r) is initially active (rho_{i,r}(0) > 0), so no noise growth is defined.
    let mut zero = Experiment::new(&small_training()).expect("valid");
    zero.init = adamgap::model::Weights::zeros(300, 8);
    let trained = zero.run_all(&|_, _| {});
    assert!(trained[0].steps == 300 && trained[0].weights.is_finite());
    assert_eq!(adamgap::claims::measure::stage_one_growth(&zero, &trained[0]), None);
    // Non-finite final weights (one entry is enough): no growth.
    let mut runs = runs;
    runs[0].weights.as_mut_slice()[7] = f64::NAN;
    let m = measure_runs(&exp, &runs.iter().collect::<Vec<_>>(), None);
    assert!(!m.quantities.keys().any(|k| k.contains("growth")), "{:?}", m.quantities.keys());
}

/// Dense noise has `d - 1` nonzero coordinates besides the first: the predicted growth and the
/// supports per coordinate use it.
#[test]
fn dense_noise_predictions() {
    use adamgap::claims::measure::{predicted_noise_l1, supports_per_coordinate};
    let mut s = small_training();
    s.data.noise = adamgap::setting::NoiseKind::Dense;
    assert_eq!(predicted_noise_l1(&s), 299.0 * s.data.sigma_p * (2.0 / std::f64::consts::PI).sqrt());
    assert_eq!(supports_per_coordinate(&s), 40.0);
    s.data.noise = adamgap::setting::NoiseKind::Sparse;
    assert_eq!(supports_per_coordinate(&s), 40.0 * 30.0 / 299.0);
}

/// The JSON of a path cell at `d` for `seed` with hand-made results, as `adamgap sweep` writes it:
/// GD and Adam with the given stop reasons (labels) and test errors, Adam's stage-I ratio `ratio`
/// (`None`: no `stage_one`), the overlap counts, and no `moved` (results written before adamgap
/// recorded it).
fn cell_json(seed: u64, d: usize, stops: [&str; 2], ratio: Option<f64>, overlap: (u64, u64)) -> serde_json::Value {
    use common::claims::{cell_run, stage_one};
    let mut s = Setting::default();
    s.data.d = d;
    let mut runs = serde_json::json!({
        "gd": cell_run(&s.optimizers[0], 0.01 * seed as f64, 100, stops[0], None),
        "adam": cell_run(&s.optimizers[1], d as f64 / 1e4, 100, stops[1], None),
    });
    if let Some(r) = ratio {
        runs["adam"]["stage_one"] = stage_one(r, adamgap::claims::measure::predicted_noise_l1(&s));
    }
    let axes = serde_json::json!({"data.d": d, "seed": seed});
    common::claims::cell_json(&format!("c{seed}-{d}"), 0, "0", axes, &s, overlap, runs)
}

/// [`cell_json`] read as a path cell.
fn cell(
    seed: u64,
    d: usize,
    stops: [&str; 2],
    ratio: Option<f64>,
    overlap: (u64, u64),
) -> adamgap::claims::path::PathCell {
    let json = cell_json(seed, d, stops, ratio, overlap);
    let mut setting = Setting::default();
    setting.data.d = d;
    adamgap::claims::path::PathCell {
        id: format!("c{seed}-{d}"),
        seed,
        position: d as f64,
        setting,
        result: Some(serde_json::from_value(json).expect("a cell")),
    }
}

/// A path measurement from hand-made cells (given out of order): `first.`/`last.` are the cells at
/// the smallest and largest value of the axis, `min.`/`max.` over all; the runs keep their stop
/// reasons and are named by their place on the path; an unknown stop reason, a missing stage-I
/// measurement or a cell without a result say so.
#[test]
fn path_measurement_from_hand_made_cells() {
    use adamgap::claims::path::{PathCells, measure_seed, position_label, report};
    use adamgap::optim::StopReason;
    let t =
        adamgap::claims::Theorem::from_file(std::path::Path::new("theorems/12-gap-opens-with-d.toml")).expect("loads");
    let cells = [
        cell(1, 3000, ["grad-tol", "settled"], Some(2.0), (30, 0)),
        cell(1, 1000, ["diverged", "step-budget"], Some(1.0), (30, 60)),
        cell(1, 10000, ["step-budget", "step-budget"], Some(4.0), (0, 60)),
    ];
    let refs: Vec<_> = cells.iter().collect();
    let m = measure_seed(&t, "data.d", &refs);
    assert_eq!(m.inconclusive, None);
    let q = |k: &str| *m.quantities.get(k).unwrap_or_else(|| panic!("{k}: {:?} {:?}", m.quantities.keys(), m.missing));
    assert_eq!((q("first.adam.test_error"), q("last.adam.test_error")), (0.1, 1.0));
    assert_eq!((q("min.adam.test_error"), q("max.adam.test_error")), (0.1, 1.0));
    let predicted = |d: usize| {
        let mut s = Setting::default();
        s.data.d = d;
        adamgap::claims::measure::predicted_noise_l1(&s)
    };
    assert_eq!(q("first.adam.growth_ratio_log_error"), (1.0 / predicted(1000)).ln().abs());
    assert_eq!(q("last.adam.growth_ratio_log_error"), (4.0 / predicted(10000)).ln().abs());
    let runs: Vec<(String, StopReason)> = m.runs.iter().map(|r| (r.name.clone(), r.stop)).collect();
    assert_eq!(
        runs,
        [
            ("adam (data.d = 1000)".to_string(), StopReason::StepBudget { step: 100 }),
            ("gd (data.d = 1000)".to_string(), StopReason::Diverged { step: 100 }),
            ("adam (data.d = 3000)".to_string(), StopReason::Settled { step: 100 }),
            ("gd (data.d = 3000)".to_string(), StopReason::GradTol { step: 100 }),
            ("adam (data.d = 10000)".to_string(), StopReason::StepBudget { step: 100 }),
            ("gd (data.d = 10000)".to_string(), StopReason::StepBudget { step: 100 }),
        ]
    );
    // Results written before `moved` was recorded: a run moved if it took steps; `moved` when
    // written is read as written. `reversed` is whether a reversal step is recorded. A run a cell
    // does not have leaves its quantities missing, naming the cell.
    let mut old = cell(1, 1000, ["step-budget"; 2], Some(1.0), (30, 60));
    let runs = &mut old.result.as_mut().unwrap().runs;
    runs.get_mut("gd").unwrap().steps = 0;
    runs.get_mut("adam").unwrap().moved = Some(false);
    runs.get_mut("adam").unwrap().feature_reversal_step = Some(40);
    let m = measure_seed(&t, "data.d", &[&old, &cells[2]]);
    let moved: Vec<bool> = m.runs.iter().map(|r| r.moved).collect();
    assert_eq!(moved, [false, false, true, true]);
    let mut no_gd = old.clone();
    no_gd.result.as_mut().unwrap().runs.remove("gd");
    let m = measure_seed(&t, "data.d", &[&no_gd, &cells[2]]);
    assert_eq!(m.missing["first.gd.test_error"], "cell c1-1000 (data.d = 1000, seed 1) has no `gd.test_error`");
    assert_eq!(m.missing["min.gd.test_error"], m.missing["first.gd.test_error"]);
    assert_eq!(m.quantities["last.gd.test_error"], 0.01);
    // A cell whose run lacks a field, or names an unknown stop reason, is not a cell: reading it is
    // an error naming the field or the reason (no silent default).
    let mut bad = cell_json(1, 1000, ["step-budget"; 2], Some(1.0), (30, 60));
    bad["runs"]["gd"].as_object_mut().unwrap().remove("test_error");
    let e = serde_json::from_value::<adamgap::results::Cell>(bad).expect_err("no test error").to_string();
    assert!(e.contains("missing field `test_error`"), "{e}");
    let odd = cell_json(1, 20000, ["step-budget", "gave-up"], Some(4.0), (0, 60));
    let e = serde_json::from_value::<adamgap::results::Cell>(odd).expect_err("unknown reason").to_string();
    assert!(e.contains("gave-up"), "{e}");
    // Adam's stage-I ratio: a ratio of 0, or a prediction of 0 (sigma_p = 0), gives no log error;
    // results without `stage_one` say to rerun; `stage_one = null` (a budget of 0 steps) says why.
    let why = |c: &adamgap::claims::path::PathCell| {
        measure_seed(&t, "data.d", &[c]).missing.get("first.adam.growth_ratio_log_error").cloned().unwrap_or_default()
    };
    assert!(why(&cell(1, 1000, ["step-budget"; 2], Some(0.0), (0, 1))).ends_with("no positive stage-I growth ratio"));
    let mut flat = cell(1, 1000, ["step-budget"; 2], Some(1.0), (0, 1));
    flat.setting.data.sigma_p = 0.0;
    assert!(why(&flat).ends_with("no positive stage-I growth ratio"));
    assert!(why(&cell(1, 1000, ["step-budget"; 2], None, (0, 1))).contains("rerun the sweep into a new folder"));
    let mut none = cell(1, 1000, ["step-budget"; 2], Some(1.0), (0, 1));
    none.result.as_mut().unwrap().runs.get_mut("adam").unwrap().stage_one = Some(None);
    assert!(why(&none).ends_with("a growth rate over 0 steps is not defined"));
    // A test error that is not a number (a diverged run; JSON writes `null`) is missing, naming it.
    let mut diverged = cell(1, 1000, ["step-budget", "diverged"], Some(1.0), (0, 1));
    diverged.result.as_mut().unwrap().runs.get_mut("adam").unwrap().test_error = f64::NAN;
    let m = measure_seed(&t, "data.d", &[&diverged]);
    assert!(
        m.missing["first.adam.test_error"].ends_with("`adam.test_error` is not a finite number"),
        "{:?}",
        m.missing
    );

    // The report's table: every cell's [track] quantities, by seed then position; the overlap
    // ratio only where the total is positive.
    let mut track = t.clone();
    track.track.quantities = vec![
        "data.overlapping_pairs".into(),
        "adam.growth_ratio".into(),
        "gd.test_error".into(),
        "adam.reversed".into(),
    ];
    let all = PathCells {
        grid: "hand-made".into(),
        grid_hash: "0".into(),
        axis: "data.d".into(),
        description: vec![],
        source: "test".into(),
        cells: vec![cell(2, 1000, ["step-budget"; 2], None, (30, 60)), cells[0].clone(), no_gd],
    };
    let r = report(&track, &all);
    let rows: Vec<(u64, f64, Vec<Option<f64>>)> =
        r.rows.iter().map(|r| (r.seed, r.position, r.values.clone())).collect();
    assert_eq!(
        rows,
        [
            (1, 1000.0, vec![Some(0.5), Some(1.0), None, Some(1.0)]),
            (1, 3000.0, vec![None, Some(2.0), Some(0.01), Some(0.0)]),
            (2, 1000.0, vec![Some(0.5), None, Some(0.02), Some(0.0)]),
        ]
    );
    // Positions: whole numbers exactly, others to 3 significant digits.
    assert_eq!([position_label(300000.0), position_label(-3.0), position_label(0.25)], ["300000", "-3", "0.250"]);
    assert_eq!([position_label(1e15), position_label(2.5e-3)], ["1e15", "0.00250"]);
    // The allowed forms of a path quantity, for the load error.
    let e = adamgap::claims::quantity::known_path("adam.test_error").expect_err("no position");
    assert!(e.starts_with("{first,last,min,max}.<cell quantity>, a cell quantity being <run>.{train_error,"), "{e}");
    assert!(
        e.contains("adam.{noise_growth_per_step,") && e.contains("data.{supports_per_coordinate,overlapping_pairs}")
    );
}

/// Hand-made path cells for the checker: `seeds` seeds, each at d = 1000 and 10000.
struct HandMade {
    seeds: u64,
}

impl adamgap::claims::path::PathSource for HandMade {
    fn cells(
        &self,
        _: &adamgap::claims::Theorem,
        _: &str,
        _: adamgap::claims::Scale,
        _: bool,
        _: &(dyn Fn(&str) + Sync),
    ) -> adamgap::error::Result<adamgap::claims::path::PathCells> {
        let cells = (1..=self.seeds)
            .flat_map(|s| [1000, 10000].map(|d| cell(s, d, ["step-budget"; 2], Some(2.0), (30, 60))))
            .collect();
        Ok(adamgap::claims::path::PathCells {
            grid: "hand-made".into(),
            grid_hash: "0".into(),
            axis: "data.d".into(),
            description: vec![],
            source: "test".into(),
            cells,
        })
    }
}

/// The checker measures each seed of a path claim from that seed's cells only, and refuses a grid
/// with fewer seeds than a path claim needs.
#[test]
fn path_seeds_through_the_checker() {
    use adamgap::claims::{Checker, Scale, Theorem};
    let t = Theorem::from_file(std::path::Path::new("theorems/12-gap-opens-with-d.toml")).expect("loads");
    let r =
        Checker::new().with_paths(Box::new(HandMade { seeds: 3 })).check(&t, "12.toml", Scale::Full).expect("checked");
    let gd: Vec<f64> = r.seeds.iter().map(|s| s.quantities["last.gd.test_error"]).collect();
    assert_eq!(gd, [0.01, 0.02, 0.03]);
    let e = Checker::new().with_paths(Box::new(HandMade { seeds: 2 })).check(&t, "12.toml", Scale::Full);
    let e = e.expect_err("two seeds").to_string();
    assert!(e.contains("has 2 seed(s) on its `seed` axis; a path claim needs >= 3"), "{e}");
}
