//! The claims tests' fixtures: small and synthetic theorem files, hand-made measurements, the
//! report of an evaluation, and sweep cells written from a template.

use std::path::Path;

use adamgap::claims::evaluate::{SeedInput, evaluate};
use adamgap::claims::report::ClaimReport;
use adamgap::claims::theorem::{Check, IfFalse, Op};
use adamgap::claims::{CheckOutcome, Checker, Measurement, Outcome, RunInfo, Scale, Theorem};
use adamgap::optim::StopReason;
use adamgap::setting::{OptimizerSetting, Setting};

/// A checker that can also check path claims (their cells computed by the sweep's cell runner).
pub fn checker() -> Checker {
    Checker::new().with_paths(Box::new(adamgap::sweep::claim::GridSource::default()))
}

/// The text of `theorems/<file>` with `from` replaced by `to` (which must occur).
pub fn mutated(file: &str, from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(Path::new("theorems").join(file)).expect("theorem file");
    assert!(text.contains(from), "{from:?} not in {file}");
    text.replacen(from, to, 1)
}

/// A small training claim: a few hundred steps on a small setting (well under a second per seed).
pub const SMALL_CLAIM: &str = r#"
id = "small"
title = "small"
reference = "test"
statement = "test"
kind = "training"
expected = "holds"
[setting]
seed = 1
data = { d = 100, n = 10, s = 10, test_size = 100 }
model = { m = 4 }
train = { steps = 200 }
optimizers = [{ kind = "gd", eta = 1e9 }]
[test]
scale = "reduced"
[[check]]
what = "the weights shrink to half their initial norm"
quantity = "gd.weight_norm"
op = "<="
of = "init.weight_norm"
factor = 0.5
"#;

/// A claim on synthetic measurements, with every reviewer's aid: a relaxed threshold, a tracked
/// quantity, an ordering with a tie, events.
pub const SYNTHETIC: &str = r#"
id = "synthetic"
title = "synthetic"
reference = "test"
statement = "test"
kind = "training"
expected = "holds"
[setting]
train = { steps = 1000 }
[test]
scale = "reduced"
note = "hand-made measurements"
[track]
quantities = ["gd.loss"]
[[check]]
what = "gd converges"
quantity = "gd.loss"
op = "<="
value = 0.5
paper_value = 0.25
[[check]]
what = "adam stays above gd"
quantity = "adam.loss"
op = ">="
of = "gd.loss"
[[ordering]]
label = "loss"
items = ["adam = adam.loss", "0.45", "gd = gd.loss"]
"#;

/// A convex-certificate claim: one seed is enough, no check is required, and zero seeds are
/// refused.
pub const CONVEX: &str = r#"
id = "convex"
title = "convex"
reference = "test"
statement = "test"
kind = "convex-certificate"
expected = "holds"
seeds = 1
[test]
scale = "full"
seeds = 1
"#;

/// `quantity op value`, failing the claim when false.
pub fn check(quantity: &str, op: Op, value: f64) -> Check {
    Check {
        what: format!("{quantity} {}", op.symbol()),
        quantity: quantity.into(),
        op,
        value: Some(value),
        of: None,
        factor: 1.0,
        offset: 0.0,
        within: None,
        if_false: IfFalse::Fails,
        reason: None,
        holds_at_init: None,
        paper_value: None,
        horizon: None,
    }
}

/// A measurement of exactly these quantities.
pub fn measured(quantities: &[(&str, f64)]) -> Measurement {
    let mut m = Measurement::default();
    m.quantities.extend(quantities.iter().map(|(k, v)| (k.to_string(), *v)));
    m
}

pub fn run_info(name: &str, steps: usize, stop: StopReason, moved: bool) -> RunInfo {
    RunInfo { name: name.into(), optimizer: OptimizerSetting::paper_gd(), steps, stop, seconds: 0.0, moved }
}

/// A check outcome of `gd.loss <= 1` with the given outcome, `if_false` and reason.
pub fn outcome(o: Outcome, if_false: IfFalse, reason: Option<&str>) -> CheckOutcome {
    let mut c = adamgap::claims::evaluate::evaluate_check(&check("gd.loss", Op::Le, 1.0), &measured(&[("gd.loss", 0.5)]));
    c.outcome = o;
    c.if_false = if_false;
    c.reason = reason.map(String::from);
    c
}

/// Seed `seed`'s hand-made measurement: gd stopped at step 37 on the tolerance, adam ran 500 of
/// the 1000 steps; `gd.loss` and `adam.loss` as given.
pub fn synthetic_seed(seed: u64, gd: f64, adam: f64) -> SeedInput {
    let mut m = measured(&[("gd.loss", gd), ("adam.loss", adam), ("gd.objective", 1.0), ("gd.reversal_step", 20.0)]);
    m.quantities.insert("adam.feature_reach_after_step".into(), 30.0);
    m.missing.insert("adam.reversal_step".into(), "never reversed".into());
    m.missing.insert("gd.feature_reach_step".into(), "never reached".into());
    m.series.insert("gd.loss".into(), vec![(0, 1.0), (10, 0.75), (30, 0.5), (37, gd)]);
    m.runs = vec![
        run_info("gd", 37, StopReason::GradTol { step: 37 }, true),
        run_info("adam", 500, StopReason::StepBudget { step: 500 }, true),
    ];
    let mut setting = Setting::default();
    setting.train.steps = 1000;
    SeedInput { seed, setting, m, init: None }
}

/// The report of `t` evaluated on `inputs`, as the checker assembles it.
pub fn report(t: &Theorem, origin: &str, scale: Scale, inputs: Vec<SeedInput>) -> ClaimReport {
    ClaimReport::of(t, origin, scale, evaluate(t, inputs))
}

/// The load error of a theorem file's text (which must not load).
pub fn load_error(text: &str) -> String {
    match Theorem::from_toml_str(text, "t.toml") {
        Ok(_) => panic!("loaded:\n{text}"),
        Err(e) => e.to_string(),
    }
}

/// [`SYNTHETIC`] with `from` replaced by `to` (which must occur).
pub fn synthetic_with(from: &str, to: &str) -> String {
    assert!(SYNTHETIC.contains(from), "{from:?}");
    SYNTHETIC.replacen(from, to, 1)
}

/// Loads, or panics with the error.
pub fn loads(text: &str) -> Theorem {
    Theorem::from_toml_str(text, "t.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// The 1-based line of the first line of `text` that contains `needle`.
pub fn line_with(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle:?} not in the text")) + 1
}

/// A sweep cell's run as `adamgap sweep` writes it (`results::RunResult`): fitted (training error
/// 0), the given test error, `steps` steps stopped for `stop` (a stop reason's label), and `moved`
/// when given (absent: a cell written before adamgap recorded it).
pub fn cell_run(optimizer: &OptimizerSetting, test_error: f64, steps: usize, stop: &str, moved: Option<bool>) -> serde_json::Value {
    let mut run = serde_json::json!({
        "optimizer": optimizer, "train_error": 0.0, "test_error": test_error, "objective": 0.01, "loss": 0.01,
        "grad_norm_l2": 1e-4, "grad_norm_l1": 1e-3, "weight_norm": 3.0, "feature_max": 2.0,
        "feature_max_per_class": [2.0, 1.5], "noise_min_max": 1.0, "noise_max_max": 1.5,
        "feature_reversal_step": null, "steps": steps, "stop_reason": stop, "stop": {"reason": stop, "step": steps},
    });
    if let Some(m) = moved {
        run["moved"] = serde_json::json!(m);
    }
    run
}

/// Adam's stage-I window of a cell with the growth ratio `ratio` (noise growth `1.2 ratio`,
/// feature growth 1.2), as `adamgap sweep` writes it.
pub fn stage_one(ratio: f64, predicted: f64) -> serde_json::Value {
    serde_json::json!({
        "steps": 50, "stop": "step-budget", "noise_growth_per_step": 1.2 * ratio,
        "feature_growth_per_step": 1.2, "growth_ratio": ratio, "predicted_ratio": predicted,
    })
}

/// A sweep cell as `adamgap sweep` writes it (`results::Cell`): its id, index, grid hash, axis
/// values and setting, the overlap `(pairs_overlapping, pairs_total)` and the runs.
pub fn cell_json(
    id: &str,
    index: usize,
    grid_hash: &str,
    axes: serde_json::Value,
    setting: &Setting,
    overlap: (u64, u64),
    runs: serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({
        "cell": id, "index": index, "grid_hash": grid_hash, "axes": axes, "setting": setting,
        "overlap": {"pairs_overlapping": overlap.0, "pairs_total": overlap.1, "samples_overlapping": 0, "shared_coordinates": 0},
        "runs": runs, "distance_gd_adam": 1.0, "verdicts": [],
    })
}
