//! The paper's claims, checked at test scale: one named insta snapshot per `theorems/*.toml`
//! (`claims__claim@<file>.snap`) holding the summary a reviewer reads, and a failure naming every
//! claim whose verdict differs from its expected one (pending claims excepted). Then every verdict
//! path on purpose: divergence, a NaN quantity, a mutated threshold, an expected failure that fails
//! for another reason, a check that passes at initialization without a reason, an unknown
//! quantity, and the headline's verdict lines. Path claims (`kind = "path"`): results read from a
//! merged sweep folder, a folder of another grid refused, their load-time rules.
//!
//! Everything runs sequentially (one thread), so the snapshots do not depend on the machine's
//! thread count. Runs with the same setting and optimizer are shared between claims.

use std::path::{Path, PathBuf};
use std::process::Command;

use adamgap::claims::evaluate::{SeedInput, evaluate};
use adamgap::claims::{Checker, Measurement, Scale, Status, Theorem, Verdict};
use adamgap::setting::Setting;
use adamgap::train::Experiment;

/// A checker that can also check path claims (their cells computed by the sweep's cell runner).
fn checker() -> Checker {
    Checker::new().with_paths(Box::new(adamgap::sweep::claim::GridSource::default()))
}

#[test]
fn claim() {
    let mut checker = checker();
    let mut mismatches: Vec<String> = Vec::new();
    insta::glob!("../theorems", "*.toml", |path| {
        let report = checker.check_file(path, Scale::Test).unwrap_or_else(|e| panic!("{e}"));
        if report.status == Status::Mismatch {
            let msg = format!(
                "claim {} ({}): verdict `{}` but the theorem file expects `{}`{}",
                report.id,
                path.file_name().unwrap().to_string_lossy(),
                report.verdict,
                report.expected.label(),
                report.mismatch_reason.as_deref().map_or(String::new(), |r| format!(" ({r})"))
            );
            eprintln!("{msg}");
            mismatches.push(msg);
            // The verdict is the failure to report; the snapshot would only repeat it.
            return;
        }
        insta::assert_snapshot!("claim", report.summary());
    });
    assert!(mismatches.is_empty(), "verdicts differ from the expected ones:\n{}", mismatches.join("\n"));
}

/// A scratch folder of its own, removed when the guard drops (also when the test fails).
fn scratch(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::Builder::new().prefix(&format!("adamgap-claims-{name}-")).tempdir().expect("temp dir");
    let dir = tmp.path().to_path_buf();
    (tmp, dir)
}

/// The text of `theorems/<file>` with `from` replaced by `to` (which must occur).
fn mutated(file: &str, from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(Path::new("theorems").join(file)).expect("theorem file");
    assert!(text.contains(from), "{from:?} not in {file}");
    text.replacen(from, to, 1)
}

fn adamgap(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_adamgap")).args(args).output().expect("the binary runs")
}

/// A small training claim: a few hundred steps on a small setting (well under a second per seed).
const SMALL_CLAIM: &str = r#"
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

/// A run that diverges makes the claim inconclusive, naming the run and the step, on every seed.
#[test]
fn forced_divergence_reads_inconclusive() {
    let t = Theorem::from_toml_str(SMALL_CLAIM, "small.toml").expect("valid");
    let mut checker = Checker::new();
    checker.preflight(&t, "small.toml", Scale::Test).expect("preflight");
    let r = checker.check(&t, "small.toml", Scale::Test).expect("checked");
    assert_eq!(r.seeds.len(), 3);
    for s in &r.seeds {
        assert!(matches!(&s.verdict, Verdict::Inconclusive(why) if why.contains("gd diverged at step")), "{s:?}");
    }
    assert!(matches!(&r.verdict, Verdict::Inconclusive(_)));
    assert_eq!(r.status, Status::Mismatch);
}

/// A NaN quantity is never compared: the check reads "not measured" and the claim inconclusive.
#[test]
fn nan_quantity_reads_inconclusive() {
    let t = Theorem::from_toml_str(SMALL_CLAIM, "small.toml").expect("valid");
    let mut m = Measurement::default();
    m.quantities.insert("gd.weight_norm".into(), f64::NAN);
    m.quantities.insert("init.weight_norm".into(), 1.0);
    let input = SeedInput { seed: 1, setting: Setting::default(), m, init: None };
    let r = evaluate(&t, "small.toml", Scale::Test, vec![input]);
    assert!(
        matches!(&r.verdict, Verdict::Inconclusive(why) if why.contains("gd.weight_norm is NaN")),
        "{:?}",
        r.verdict
    );
}

/// A threshold mutated in a copy of the theorem files makes `adamgap check --theorems` exit 1,
/// naming the claim.
#[test]
fn mutated_threshold_is_a_mismatch() {
    let (_tmp, dir) = scratch("mutated");
    let text = mutated("04-adam-stage-one.toml", "within = 2.0", "within = 1.01");
    std::fs::write(dir.join("04-adam-stage-one.toml"), text).expect("write");
    let out = adamgap(&["check", "--scale", "test", "--quiet", "--threads", "1", "--theorems", dir.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("MISMATCH 04-adam-stage-one"), "{stdout}");
}

/// An expected failure whose named failing check holds (while another fails) is a mismatch.
#[test]
fn expected_failure_with_the_wrong_check_failing_is_caught() {
    let file = "04b-adam-stage-one-default-size.toml";
    let text = mutated(
        file,
        "    \"noise outgrows the feature by about s sigma_p sqrt(2/pi)\",\n]",
        "    \"the feature moves at most about eta per step\",\n]",
    );
    let t = Theorem::from_toml_str(&text, file).expect("valid");
    let mut checker = Checker::new();
    checker.preflight(&t, file, Scale::Test).expect("preflight");
    let r = checker.check(&t, file, Scale::Test).expect("checked");
    assert_eq!(r.verdict, Verdict::Fails);
    assert_eq!(r.status, Status::Mismatch);
    let why = r.mismatch_reason.expect("a reason");
    assert!(why.contains("`the feature moves at most about eta per step` is true"), "{why}");
}

/// A check on a training quantity that already passes at initialization, without
/// `holds_at_init`, is rejected before any training (exit 2, naming the file and the check).
#[test]
fn a_check_passing_at_initialization_needs_a_reason() {
    let (_tmp, dir) = scratch("at-init");
    let file = "01-adam-nonconvex.toml";
    let text = std::fs::read_to_string(Path::new("theorems").join(file)).expect("theorem file");
    let start = text.find("holds_at_init = \"\"\"").expect("01 has holds_at_init");
    let end = start + text[start..].find("\"\"\"\n").unwrap() + 3;
    let end = end + text[end..].find("\"\"\"\n").unwrap() + 4;
    let stripped = format!("{}{}", &text[..start], &text[end..]);
    let path = dir.join(file);
    std::fs::write(&path, stripped).expect("write");
    let out = adamgap(&["check", "--scale", "test", "--quiet", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("{file} line 41")) && stderr.contains("Adam does not generalize"), "{stderr}");
    assert!(stderr.contains("already passes at initialization"), "{stderr}");
    assert!(out.stdout.is_empty(), "no partial output");
}

/// An unknown quantity or operator is a load error naming the file, the line and the allowed
/// values (exit 2); a missing theorem folder is named, with no fallback.
#[test]
fn bad_theorem_files_are_load_errors() {
    let (_tmp, dir) = scratch("bad");
    let unknown = mutated("02-gd-nonconvex.toml", "quantity = \"gd.test_error\"", "quantity = \"gd.test_eror\"");
    std::fs::write(dir.join("02.toml"), unknown).expect("write");
    let out = adamgap(&["check", "--scale", "test", "--quiet", "--theorems", dir.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("02.toml line 38") && stderr.contains("gd.test_eror"), "{stderr}");
    assert!(stderr.contains("allowed:") && stderr.contains("test_error"), "{stderr}");
    std::fs::write(dir.join("02.toml"), mutated("02-gd-nonconvex.toml", "op = \"<=\"", "op = \"=<\"")).expect("write");
    let out = adamgap(&["check", "--scale", "test", "--quiet", "--theorems", dir.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("line") && stderr.contains("=<") && stderr.contains("within-factor"), "{stderr}");
    let missing = dir.join("nowhere");
    let out = adamgap(&["check", "--theorems", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nowhere"));
}

/// The headline's verdict lines on a small setting: the statements of the theorem files, in order;
/// and a diverged GD makes exactly the lines that read GD inconclusive.
#[test]
fn headline_verdict_lines_come_from_the_theorem_files() {
    let mut s = Setting::default();
    s.data.d = 300;
    s.data.n = 40;
    s.data.s = 30;
    s.data.test_size = 500;
    s.model.m = 8;
    s.train.steps = 400;
    let exp = Experiment::new(&s).expect("valid");
    let runs = exp.run_all(&|_, _| {});
    let lines = adamgap::claims::headline(&exp, &runs);
    let statements: Vec<&str> = lines.iter().map(|l| l.statement.as_str()).collect();
    assert_eq!(statements.len(), 6);
    assert_eq!(statements[0], "Both reach training error 0");
    assert!(statements[2].starts_with("Adam does not generalize"));
    // Each line's verdict is its theorem's checks on these runs: Adam's test error decides line 3.
    let adam = runs.iter().find(|r| r.name == "adam").unwrap();
    assert_eq!(lines[2].verdict, Verdict::from_bool(adam.last.test_error >= 0.5));
    let gd = runs.iter().find(|r| r.name == "gd").unwrap();
    assert_eq!(lines[4].verdict, Verdict::from_bool(gd.last.test_error <= 0.02));

    if let Some(adamgap::setting::OptimizerSetting::Gd { eta }) = s.optimizers.iter_mut().find(|o| o.key() == "gd") {
        *eta = 1e9;
    }
    let exp = Experiment::new(&s).expect("valid");
    let runs = exp.run_all(&|_, _| {});
    let lines = adamgap::claims::headline(&exp, &runs);
    for (k, l) in lines.iter().enumerate() {
        let reads_gd = [0, 3, 4, 5].contains(&k);
        let diverged = matches!(&l.verdict, Verdict::Inconclusive(why) if why.contains("gd diverged"));
        assert_eq!(diverged, reads_gd, "line {}: {:?}", k + 1, l);
    }
}

/// The seeds of a claim train side by side: the report does not depend on the thread count; and
/// `adamgap check --json` has the documented shape.
#[test]
fn seeds_in_parallel_and_the_json_shape() {
    let path = Path::new("theorems/04-adam-stage-one.toml");
    let on = |threads: usize| {
        let pool = adamgap::parallel::pool(threads).expect("a pool");
        pool.install(|| Checker::new().check_file(path, Scale::Test).expect("checked"))
    };
    let (one, two) = (on(1), on(2));
    assert_eq!(one.summary(), two.summary());
    assert_eq!(one.seeds.iter().map(|s| s.seed).collect::<Vec<_>>(), vec![1, 2, 3]);

    let out = adamgap(&["check", "--scale", "test", "--json", "--threads", "2", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let c = &v["claims"][0];
    assert_eq!(c["id"], "04-adam-stage-one");
    assert_eq!(c["verdict"], "holds");
    assert_eq!(c["expected"], "holds");
    assert_eq!(c["status"], "ok");
    assert_eq!(c["paper_verdict"], "fails");
    assert_eq!(c["seeds"].as_array().unwrap().len(), 3);
    assert_eq!(c["seeds"][2]["seed"], 3);
    assert_eq!(c["seeds"][2]["verdict"], "holds");
    assert!(c["rule"].as_str().unwrap().contains("every seed"));
    assert!((c["lower_bound"].as_f64().unwrap() - 0.05f64.powf(1.0 / 3.0)).abs() < 1e-12);
    let check = &c["checks"][1];
    assert_eq!(check["what"], "the feature moves at most about eta per step");
    assert_eq!(check["at_init"]["passes"], false);
    assert!(check["at_init"]["value"].is_null(), "a rate over zero steps is not defined: {check}");
    assert_eq!(check["paper"]["outcome"], "false");
}

/// The path claim's stage-I bound mutated (0.2231 -> 0.5, which the test scale's distance of about
/// 0.3 meets): its expected failure now fails for another reason, a mismatch (exit 1).
#[test]
fn path_claim_mutated_threshold_is_a_mismatch() {
    let (_tmp, dir) = scratch("path-mutated");
    let file = "12-gap-opens-with-d.toml";
    std::fs::write(dir.join(file), mutated(file, "value = 0.2231", "value = 0.5")).expect("write");
    let out = adamgap(&["check", "--scale", "test", "--quiet", "--threads", "2", "--theorems", dir.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("[fails] MISMATCH 12-gap-opens-with-d"), "{stdout}");
    assert!(stdout.contains("is within a factor 1.25 of s sigma_p sqrt(2/pi) at the largest d` is true"), "{stdout}");
}

/// Without its `holds_at_init`, the path claim's check "GD fits the training set" is rejected
/// before any training: at `W^(0)` on this path some seeds already classify every point right.
#[test]
fn a_path_check_passing_at_initialization_needs_a_reason() {
    let (_tmp, dir) = scratch("path-at-init");
    let file = "12-gap-opens-with-d.toml";
    let text = std::fs::read_to_string(Path::new("theorems").join(file)).expect("theorem file");
    let at = text.find("what = \"GD fits the training set").expect("the check");
    let start = at + text[at..].find("holds_at_init = \"\"\"").expect("its holds_at_init");
    let end = start + text[start..].find("\n\"\"\"\n").unwrap() + 5;
    let path = dir.join(file);
    std::fs::write(&path, format!("{}{}", &text[..start], &text[end..])).expect("write");
    let out = adamgap(&["check", "--scale", "test", "--quiet", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("GD fits the training set") && stderr.contains("already passes at initialization"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no partial output");
}

/// A merged sweep folder of the whole `path-d` preset, written from a template: every cell with
/// the gap (Adam test error 1, GD 0, both fitted) and Adam's stage-I ratio at `ratio(k, predicted)`
/// for the `k`-th value of `d` (`None`: no `stage_one`, as in results written before it existed).
fn path_folder(name: &str, ratio: Option<&dyn Fn(usize, f64) -> f64>) -> (tempfile::TempDir, PathBuf) {
    let (tmp, dir) = scratch(name);
    let grid = adamgap::sweep::preset("path-d").expect("the preset");
    std::fs::write(dir.join("grid.json"), grid.manifest().to_string()).expect("write");
    let mut lines = String::new();
    for c in &grid.cells {
        let run = |o: &adamgap::setting::OptimizerSetting, test: f64| {
            serde_json::json!({
                "optimizer": o, "train_error": 0.0, "test_error": test, "objective": 0.01, "loss": 0.01,
                "grad_norm_l2": 1e-4, "grad_norm_l1": 1e-3, "weight_norm": 3.0, "feature_max": 2.0,
                "noise_min_max": 1.0, "noise_max_max": 1.5, "feature_reversal_step": null, "steps": 2000,
                "stop_reason": "step-budget", "stop": {"reason": "step-budget", "step": 2000}, "moved": true,
            })
        };
        let opt = |k: &str| c.setting.optimizers.iter().find(|o| o.key() == k).expect("gd and adam");
        let (gd, adam) = (opt("gd"), opt("adam"));
        let mut runs = serde_json::json!({"gd": run(gd, 0.0), "adam": run(adam, 1.0)});
        if let Some(ratio) = ratio {
            let predicted = adamgap::claims::measure::predicted_noise_l1(&c.setting);
            let r = ratio(c.coords[0], predicted);
            runs["adam"]["stage_one"] = serde_json::json!({
                "steps": 50, "stop": "step-budget", "noise_growth_per_step": 1.2 * r,
                "feature_growth_per_step": 1.2, "growth_ratio": r, "predicted_ratio": predicted,
            });
        }
        let cell = serde_json::json!({
            "cell": c.id, "index": c.index, "grid_hash": grid.hash, "axes": grid.axis_values(c),
            "setting": c.setting, "overlap": {"pairs_overlapping": 700, "pairs_total": 1225}, "runs": runs,
        });
        lines.push_str(&format!("{cell}\n"));
    }
    std::fs::write(dir.join("sweep.jsonl"), lines).expect("write");
    (tmp, dir)
}

/// `check --path-results DIR` reads the cells of a merged folder of the whole preset: a stage-I
/// ratio stuck at half the prediction fails both stage-I checks on every seed (the expected
/// verdict, exit 0); one that closes in on the prediction along `d` makes the claim hold, a
/// mismatch (exit 1); results without the stage-I measurement leave it inconclusive with the
/// reason. A folder of another grid, or one not merged, is refused before any work (exit 2).
#[test]
fn path_results_are_read_from_a_merged_folder() {
    let theorem = "theorems/12-gap-opens-with-d.toml";
    let run = |dir: &Path| adamgap(&["check", "--quiet", theorem, "--path-results", dir.to_str().unwrap()]);
    let (_half_tmp, half) = path_folder("path-half", Some(&|_, p| p / 2.0));
    let out = run(&half);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("[fails] 12-gap-opens-with-d") && stdout.contains("seeds 1, 2, 3: fails, fails, fails"));
    assert!(stdout.contains("last.adam.growth_ratio_log_error = 0.69 <= 0.2231"), "{stdout}");

    let (_closing_tmp, closing) = path_folder("path-closing", Some(&|k, p| p * (1.0 + 0.5 / (k + 1) as f64)));
    let out = run(&closing);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("[holds] MISMATCH 12-gap-opens-with-d"), "{stdout}");

    let (_old_tmp, old) = path_folder("path-old", None);
    let out = run(&old);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("[inconclusive] MISMATCH") && stdout.contains("rerun the sweep into a new folder"));

    let (_other_tmp, other) = scratch("path-other");
    std::fs::write(other.join("grid.json"), r#"{"grid_hash": "0123456789abcdef"}"#).expect("write");
    let out = run(&other);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--path-results") && stderr.contains("this folder holds grid 0123456789abcdef"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no partial output");
    std::fs::remove_file(half.join("sweep.jsonl")).expect("remove");
    let out = run(&half);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("adamgap sweep merge"), "{stderr}");
    let out = adamgap(&["check", "--quiet", "--scale", "test", theorem, "--path-results", closing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "--path-results with --scale test");
}

/// The load-time rules of a path claim: `[path]` only with `kind = "path"` and required there,
/// no `[setting]` (the grid gives it), quantities named by their place on the path.
#[test]
fn path_claim_files_are_checked_at_load() {
    let text = std::fs::read_to_string("theorems/12-gap-opens-with-d.toml").expect("theorem file");
    let err = |t: &str| Theorem::from_toml_str(t, "12.toml").expect_err("rejected").to_string();
    assert!(Theorem::from_toml_str(&text, "12.toml").is_ok());
    let e = err(&text.replace("quantity = \"last.gd.test_error\"", "quantity = \"gd.test_error\""));
    assert!(e.contains("unknown quantity `gd.test_error`") && e.contains("{first,last,min,max}"), "{e}");
    let e = err(&text.replace("quantity = \"last.gd.test_error\"", "quantity = \"last.gd.growth_ratio\""));
    assert!(e.contains("last.gd.growth_ratio"), "{e}");
    let e = err(&text.replace("[path]\n", "[setting]\nseed = 1\n\n[path]\n"));
    assert!(e.contains("field `setting`") && e.contains("not used by a path claim"), "{e}");
    let e = err(&text.replace("kind = \"path\"", "kind = \"training\""));
    assert!(e.contains("field `path`: only for kind = \"path\""), "{e}");
    let e = err(&text.replace("\"adam.growth_ratio\",", "\"adam.growth_rate\","));
    assert!(e.contains("track.quantities") && e.contains("adam.growth_rate"), "{e}");
    // Without a path source the checker says how to get one.
    let t = Theorem::from_toml_str(&text, "12.toml").expect("valid");
    let e = Checker::new().preflight(&t, "12.toml", Scale::Test).expect_err("no source").to_string();
    assert!(e.contains("with_paths"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// The evaluation rules on hand-made measurements (no training, milliseconds): each comparison at
// its boundary, the printed thresholds, the verdict rule's every branch, the seeds' rule.
// ---------------------------------------------------------------------------------------------

use adamgap::claims::evaluate::{CheckOutcome, Outcome, evaluate_at_init, evaluate_check, verdict};
use adamgap::claims::measure::RunInfo;
use adamgap::claims::theorem::{Check, IfFalse, Op};
use adamgap::optim::StopReason;
use adamgap::setting::OptimizerSetting;

/// `quantity op value`, failing the claim when false.
fn check(quantity: &str, op: Op, value: f64) -> Check {
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
fn measured(quantities: &[(&str, f64)]) -> Measurement {
    let mut m = Measurement::default();
    m.quantities.extend(quantities.iter().map(|(k, v)| (k.to_string(), *v)));
    m
}

#[test]
fn thresholds_print_exactly() {
    let m = measured(&[("gd.loss", 0.25)]);
    let cases = [
        (0.5, "0.5"),
        (0.0, "0"),
        (1e-4, "0.0001"),
        (9e-5, "9e-5"),
        (1e-8, "1e-8"),
        (1e6, "1e6"),
        (999999.0, "999999"),
    ];
    for (value, text) in cases {
        let o = evaluate_check(&check("gd.loss", Op::Le, value), &m);
        assert_eq!(o.text, format!("gd.loss = 0.25 <= {text}"));
        assert_eq!((o.lhs, o.rhs), (Some(0.25), Some(value)));
    }
    assert_eq!(evaluate_check(&check("gd.loss", Op::Gt, -2e-5), &m).text, "gd.loss = 0.25 > -2e-5");
}

#[test]
fn every_comparison_at_its_boundary() {
    let m = measured(&[("gd.loss", 0.25)]);
    let outcome = |op, value| evaluate_check(&check("gd.loss", op, value), &m).outcome == Outcome::True;
    // (op, below, equal, above): lhs 0.25 against 0.5, 0.25, 0.125.
    for (op, below, equal, above) in [
        (Op::Le, true, true, false),
        (Op::Lt, true, false, false),
        (Op::Ge, false, true, true),
        (Op::Gt, false, false, true),
        (Op::Eq, false, true, false),
    ] {
        assert_eq!([outcome(op, 0.5), outcome(op, 0.25), outcome(op, 0.125)], [below, equal, above], "{op:?}");
    }
}

#[test]
fn within_a_factor_is_inclusive_and_needs_both_sides_positive() {
    let within = |l: f64, r: f64| {
        let m = measured(&[("gd.loss", l), ("adam.loss", r)]);
        let c = Check {
            within: Some(2.0),
            of: Some("adam.loss".into()),
            value: None,
            ..check("gd.loss", Op::WithinFactor, 0.0)
        };
        evaluate_check(&c, &m).outcome == Outcome::True
    };
    assert!(within(0.5, 1.0) && within(2.0, 1.0) && within(1.0, 1.0));
    assert!(!within(0.49, 1.0) && !within(2.5, 1.0));
    assert!(!within(-1.0, -1.0) && !within(0.0, 0.0) && !within(1.0, 0.0));
    // Zero is within no factor of anything, even where `r / within` rounds to 0.
    assert!(!within(0.0, 5e-324));
    let m = measured(&[("gd.loss", 3.0)]);
    let c = Check { within: Some(1.5), ..check("gd.loss", Op::WithinFactor, 2.0) };
    assert_eq!(evaluate_check(&c, &m).text, "gd.loss = 3.0 within a factor 1.5 of 2");
}

#[test]
fn a_quantity_right_hand_side_is_factor_times_it_plus_offset() {
    let m = measured(&[("gd.loss", 1.0), ("adam.loss", 2.0)]);
    let of = |factor: f64, offset: f64| {
        let c = Check { of: Some("adam.loss".into()), value: None, factor, offset, ..check("gd.loss", Op::Le, 0.0) };
        evaluate_check(&c, &m)
    };
    let o = of(0.5, 0.25);
    assert_eq!((o.rhs, o.text.as_str()), (Some(1.25), "gd.loss = 1.0 <= 0.5 * adam.loss + 0.25 = 1.2"));
    assert_eq!(o.outcome, Outcome::True);
    let o = of(1.0, -0.25);
    assert_eq!((o.rhs, o.text.as_str()), (Some(1.75), "gd.loss = 1.0 <= adam.loss - 0.25 = 1.8"));
    assert_eq!(of(1.0, 0.0).text, "gd.loss = 1.0 <= adam.loss = 2.0");
}

#[test]
fn a_horizon_needs_the_run_to_reach_it() {
    let c = Check { horizon: Some(100), ..check("gd.reversed", Op::Eq, 0.0) };
    let at = |steps: f64| evaluate_check(&c, &measured(&[("gd.reversed", 0.0), ("gd.steps", steps)]));
    let reached = at(100.0);
    assert_eq!((reached.outcome, reached.text.as_str()), (Outcome::True, "gd.reversed = 0 == 0 within 100 steps"));
    assert_eq!(at(99.0).outcome, Outcome::Missing("gd stopped at step 99, before the horizon of 100 steps".into()));
    assert_eq!(
        evaluate_check(&c, &measured(&[("gd.reversed", 0.0)])).outcome,
        Outcome::Missing("no quantity named `gd.steps` was measured".into())
    );
}

#[test]
fn looked_up_values_numbers_and_missing_quantities() {
    let mut m = measured(&[("gd.loss", 0.25), ("adam.loss", f64::NAN)]);
    m.missing.insert("gd.reversal_step".into(), "never reversed".into());
    let c = Check { of: Some(" 0.75 ".into()), value: None, ..check("gd.loss", Op::Le, 0.0) };
    assert_eq!(evaluate_check(&c, &m).rhs, Some(0.75));
    let missing = |q: &str| evaluate_check(&check(q, Op::Le, 1.0), &m).outcome;
    assert_eq!(missing("gd.reversal_step"), Outcome::Missing("never reversed".into()));
    assert_eq!(missing("adam.loss"), Outcome::Missing("adam.loss is NaN".into()));
    assert_eq!(missing("gd.objective"), Outcome::Missing("no quantity named `gd.objective` was measured".into()));
}

#[test]
fn a_check_at_initialization_only_for_training_quantities() {
    let init = measured(&[("gd.loss", 0.25), ("init.loss", 0.25), ("data.noise_l1_mean", 1.0)]);
    let at = evaluate_at_init(&check("gd.loss", Op::Le, 0.5), &init).expect("a training quantity");
    assert_eq!((at.value, at.passes), (Some(0.25), true));
    let at = evaluate_at_init(&check("gd.loss", Op::Ge, 0.5), &init).expect("a training quantity");
    assert_eq!((at.value, at.passes), (Some(0.25), false));
    // A constant of the setting against a training quantity is a training check too.
    let c = Check { of: Some("gd.loss".into()), value: None, ..check("init.loss", Op::Le, 0.0) };
    assert!(evaluate_at_init(&c, &init).is_some());
    assert!(evaluate_at_init(&check("init.loss", Op::Le, 0.5), &init).is_none());
    assert!(evaluate_at_init(&check("data.noise_l1_mean", Op::Le, 0.5), &init).is_none());
}

fn run_info(name: &str, steps: usize, stop: StopReason, moved: bool) -> RunInfo {
    RunInfo { name: name.into(), optimizer: OptimizerSetting::paper_gd(), steps, stop, seconds: 0.0, moved }
}

fn outcome(o: Outcome, if_false: IfFalse, reason: Option<&str>) -> CheckOutcome {
    let mut c = evaluate_check(&check("gd.loss", Op::Le, 1.0), &measured(&[("gd.loss", 0.5)]));
    c.outcome = o;
    c.if_false = if_false;
    c.reason = reason.map(String::from);
    c
}

#[test]
fn the_verdict_rule_branch_by_branch() {
    let m = Measurement::default();
    let trained = [run_info("gd", 10, StopReason::StepBudget { step: 10 }, true)];
    let ok = outcome(Outcome::True, IfFalse::Fails, None);
    let v = |runs: &[RunInfo], checks: &[CheckOutcome]| verdict(&m, runs, checks);
    assert_eq!(v(&trained, &[ok.clone()]), Verdict::Holds);
    assert_eq!(v(&trained, &[]), Verdict::Holds);
    // A false `fails` check fails the claim, before any inconclusive reason.
    let false_fails = outcome(Outcome::False, IfFalse::Fails, None);
    let not_reached = outcome(Outcome::False, IfFalse::Inconclusive, Some("tolerance not reached"));
    let missing = outcome(Outcome::Missing("why".into()), IfFalse::Fails, None);
    assert_eq!(v(&trained, &[not_reached.clone(), false_fails.clone(), missing.clone()]), Verdict::Fails);
    assert_eq!(
        v(&trained, &[ok.clone(), not_reached.clone(), missing.clone()]),
        Verdict::Inconclusive("tolerance not reached: gd.loss <= (gd.loss = 0.50 <= 1); not measured: why".into())
    );
    let mut unexplained = not_reached.clone();
    unexplained.reason = None;
    assert_eq!(v(&trained, &[unexplained]), Verdict::Inconclusive("gd.loss <= (gd.loss = 0.50 <= 1)".into()));
    // The runs: divergence, no step, no movement; each named, and before the checks.
    let diverged = run_info("adam", 3, StopReason::Diverged { step: 3 }, true);
    assert_eq!(
        v(&[trained[0].clone(), diverged], &[false_fails.clone()]),
        Verdict::Inconclusive("divergence: adam diverged at step 3".into())
    );
    let idle = run_info("adam", 0, StopReason::GradTol { step: 0 }, false);
    let stuck = run_info("sign-gd", 5, StopReason::StepBudget { step: 5 }, false);
    assert_eq!(
        v(&[trained[0].clone(), idle, stuck], &[false_fails.clone()]),
        Verdict::Inconclusive(
            "not trained: adam took no step (gradient-norm tolerance reached at step 0); sign-gd never left its \
             initialization in 5 steps"
                .into()
        )
    );
    // A zero-step run that (impossibly) moved is still untrained.
    let zero = run_info("adam", 0, StopReason::StepBudget { step: 0 }, true);
    assert!(matches!(v(&[zero], &[ok.clone()]), Verdict::Inconclusive(r) if r.starts_with("not trained")));
    let unavailable = Measurement::unavailable("no certificate");
    assert_eq!(verdict(&unavailable, &trained, &[ok]), Verdict::Inconclusive("no certificate".into()));
}

/// A claim on synthetic measurements, with every reviewer's aid: a relaxed threshold, a tracked
/// quantity, an ordering with a tie, events.
const SYNTHETIC: &str = r#"
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

/// Seed `seed`'s hand-made measurement: gd stopped at step 37 on the tolerance, adam ran 500 of
/// the 1000 steps; `gd.loss` and `adam.loss` as given.
fn synthetic_seed(seed: u64, gd: f64, adam: f64) -> SeedInput {
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

#[test]
fn a_report_from_hand_made_measurements() {
    let t = Theorem::from_toml_str(SYNTHETIC, "synthetic.toml").expect("valid");
    let r =
        evaluate(&t, "synthetic.toml", Scale::Test, vec![synthetic_seed(1, 0.45, 0.45), synthetic_seed(2, 0.375, 0.5)]);
    assert_eq!((r.scale.as_str(), r.scale_note.as_str()), ("reduced", "hand-made measurements"));
    // The tracked steps: 0, the powers of 10 below the budget, each run's last step; each shows the
    // last checkpoint at or before it.
    let tracked: Vec<(usize, Option<f64>)> = r.tracked.iter().map(|row| (row.step, row.values[0])).collect();
    assert_eq!(tracked, [(0, Some(1.0)), (10, Some(0.75)), (37, Some(0.45)), (100, Some(0.45)), (500, Some(0.45))]);
    assert_eq!(r.orderings, [("loss".to_string(), "adam 0.45 = 0.45 = gd 0.45".to_string())]);
    // Recorded: what the checks, the track and the ordering read, the reversal that happened and
    // the feature crossings (measured or not); not the unread `gd.objective`.
    let recorded: Vec<&str> = r.quantities.keys().map(String::as_str).collect();
    assert_eq!(recorded, ["adam.feature_reach_after_step", "adam.loss", "gd.loss", "gd.reversal_step"]);
    let missing: Vec<&str> = r.missing.keys().map(String::as_str).collect();
    assert_eq!(missing, ["gd.feature_reach_step"]);
    // Both seeds hold under the file's threshold; seed 1 fails the paper's (0.45 > 0.25).
    assert_eq!(r.verdict, Verdict::Holds);
    assert_eq!(
        r.seeds.iter().map(|s| s.paper_verdict.clone()).collect::<Vec<_>>(),
        [Some(Verdict::Fails), Some(Verdict::Fails)]
    );
    assert_eq!(r.paper_verdict, Some(Verdict::Fails));
    assert_eq!((r.holds_count, r.status, r.mismatch_reason.as_deref()), (2, Status::AsExpected, None));
    assert_eq!(
        r.spread,
        [
            ("adam.feature_reach_after_step".to_string(), 30.0, 30.0),
            ("adam.loss".to_string(), 0.45, 0.5),
            ("gd.loss".to_string(), 0.375, 0.45),
            ("gd.reversal_step".to_string(), 20.0, 20.0),
        ]
    );
    // A tie broken: the ordering sorts by value, largest first.
    let r = evaluate(&t, "synthetic.toml", Scale::Full, vec![synthetic_seed(1, 0.25, 0.5)]);
    assert_eq!(r.orderings[0].1, "adam 0.50 > 0.45 > gd 0.25");
    assert_eq!((r.scale.as_str(), r.paper_verdict.clone()), ("full", Some(Verdict::Holds)));
    // A verdict other than the expected one is a mismatch (no reason needed beyond the verdict).
    let r = evaluate(&t, "synthetic.toml", Scale::Test, vec![synthetic_seed(1, 0.75, 0.75)]);
    assert_eq!((r.verdict.clone(), r.status, r.mismatch_reason), (Verdict::Fails, Status::Mismatch, None));
}

/// An expected failure must fail for the named checks only, on every seed.
#[test]
fn an_expected_failure_names_the_checks_that_failed_otherwise() {
    let text = SYNTHETIC.replace("expected = \"holds\"", "expected = \"fails\"\nexpect_fail = [\"gd converges\"]");
    let t = Theorem::from_toml_str(&text, "synthetic.toml").expect("valid");
    // gd does not converge, adam stays above: the expected failure.
    let r =
        evaluate(&t, "synthetic.toml", Scale::Test, vec![synthetic_seed(1, 0.75, 1.0), synthetic_seed(2, 0.75, 1.0)]);
    assert_eq!((r.verdict.clone(), r.status, r.mismatch_reason.clone()), (Verdict::Fails, Status::AsExpected, None));
    // Seed 2 also fails the other check: a failure, but not the expected one.
    let r =
        evaluate(&t, "synthetic.toml", Scale::Test, vec![synthetic_seed(1, 0.75, 1.0), synthetic_seed(2, 0.75, 0.5)]);
    assert_eq!(r.verdict, Verdict::Fails);
    assert_eq!(r.status, Status::Mismatch);
    assert_eq!(r.mismatch_reason.as_deref(), Some("seed 2: `adam stays above gd` is false"));
    // A claim that holds is no expected failure, and names no checks.
    let r = evaluate(&t, "synthetic.toml", Scale::Test, vec![synthetic_seed(1, 0.25, 1.0)]);
    assert_eq!((r.verdict.clone(), r.status, r.mismatch_reason.clone()), (Verdict::Holds, Status::Mismatch, None));
}

#[test]
fn one_seed_s_verdict_is_the_claim_s() {
    use adamgap::claims::seeds::combine;
    let why = Verdict::Inconclusive("why".into());
    assert_eq!(combine([(1, &why)]), why);
    assert_eq!(combine([(1, &Verdict::Fails)]), Verdict::Fails);
}

/// The load error of a theorem file's text (which must not load).
fn load_error(text: &str) -> String {
    match Theorem::from_toml_str(text, "t.toml") {
        Ok(_) => panic!("loaded:\n{text}"),
        Err(e) => e.to_string(),
    }
}

/// [`SYNTHETIC`] with `from` replaced by `to` (which must occur).
fn synthetic_with(from: &str, to: &str) -> String {
    assert!(SYNTHETIC.contains(from), "{from:?}");
    SYNTHETIC.replacen(from, to, 1)
}

/// Loads, or panics with the error.
fn loads(text: &str) -> Theorem {
    Theorem::from_toml_str(text, "t.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Every rule of a theorem file that serde cannot check, at its boundary: the error names the
/// file, the field and (where it can be found) the line.
#[test]
fn theorem_file_rules_at_their_boundaries() {
    let holds = "expected = \"holds\"";
    let err = |from: &str, to: &str| load_error(&synthetic_with(from, to));
    let ok = |from: &str, to: &str| loads(&synthetic_with(from, to));
    // Expected failures name their failing checks, and only they do.
    assert!(err(holds, "expected = \"fails\"").contains("field `expect_fail`"));
    assert!(err(holds, "expected = \"holds\"\nexpect_fail = [\"gd converges\"]").contains("field `expect_fail`"));
    ok(holds, "expected = \"fails\"\nexpect_fail = [\"gd converges\"]");
    let e = err(holds, "expected = \"fails\"\nexpect_fail = [\"gd divergs\"]");
    assert!(e.contains("t.toml line 8") && e.contains("no [[check]] has what = \"gd divergs\""), "{e}");
    // Seeds of a training claim: at least 10, and 3 at the test scale.
    let e = err(holds, "expected = \"holds\"\nseeds = 9");
    assert!(e.contains("t.toml line 8") && e.contains("field `seeds`") && e.contains(">= 10 seeds"), "{e}");
    assert_eq!(ok(holds, "expected = \"holds\"\nseeds = 10").seeds, Some(10));
    let e = err("scale = \"reduced\"", "scale = \"reduced\"\nseeds = 2");
    assert!(e.contains("t.toml line 12") && e.contains("field `test.seeds`") && e.contains(">= 3 seeds"), "{e}");
    ok("scale = \"reduced\"", "scale = \"reduced\"\nseeds = 3");
    // Every check has one right-hand side.
    assert!(err("value = 0.5\n", "").contains("field `check[0].value`"));
    assert!(err("value = 0.5\n", "value = 0.5\nof = \"adam.loss\"\n").contains("field `check[0].of`"));
    // `within` with `within-factor` only, finite and above 1.
    let within = |w: &str| synthetic_with("op = \">=\"", &format!("op = \"within-factor\"\nwithin = {w}"));
    loads(&within("1.5"));
    for w in ["1.0", "inf", "nan", "0.5"] {
        assert!(load_error(&within(w)).contains("field `check[1].within`"), "within = {w}");
    }
    assert!(err("op = \">=\"", "op = \"within-factor\"").contains("field `check[1].within`"));
    assert!(err("op = \">=\"", "op = \">=\"\nwithin = 2.0").contains("only used with"));
    // An inconclusive check gives its reason.
    assert!(err("op = \">=\"", "op = \">=\"\nif_false = \"inconclusive\"").contains("field `check[1].reason`"));
    ok("op = \">=\"", "op = \">=\"\nif_false = \"inconclusive\"\nreason = \"slow\"");
    ok("op = \">=\"", "op = \">=\"\nif_false = \"fails\"");
    // The paper's threshold relaxes a constant one only.
    assert!(err("of = \"gd.loss\"", "of = \"gd.loss\"\npaper_value = 1.0").contains("field `check[1].paper_value`"));
    // Unknown quantities, on either side, with the line.
    let e = err("quantity = \"gd.loss\"", "quantity = \"gd.los\"");
    assert!(e.contains("t.toml line 17") && e.contains("field `check[0].quantity`") && e.contains("allowed:"), "{e}");
    let e = err("of = \"gd.loss\"", "of = \"gd.los\"");
    assert!(e.contains("field `check[1].of`") && e.contains("unknown quantity `gd.los`"), "{e}");
    // The run names are the setting's optimizers.
    let sign = "train = { steps = 1000 }\noptimizers = [{ kind = \"sign-gd\", eta = 0.001, decay = \"constant\" }]";
    let e = load_error(&synthetic_with("train = { steps = 1000 }", sign));
    assert!(e.contains("unknown quantity `gd.loss`") && e.contains("<run> one of {sign-gd}"), "{e}");
    // Headline lines name checks of the file.
    let headline = |checks: &str| format!("{SYNTHETIC}[[headline]]\nline = 1\nstatement = \"s\"\nchecks = {checks}\n");
    loads(&headline("[\"gd converges\"]"));
    assert!(load_error(&headline("[]")).contains("field `headline[0].checks`: list at least one"));
    assert!(load_error(&headline("[\"gd diverges\"]")).contains("no [[check]] has what = \"gd diverges\""));
    // Orderings of at least two items; a known test scale; an id.
    let two = ok("\"0.45\", \"gd = gd.loss\"", "\"gd = gd.loss\"");
    assert_eq!(two.orderings[0].items.len(), 2);
    assert!(err("\"0.45\", \"gd = gd.loss\"", "").contains("field `ordering[0].items`"));
    assert!(err("scale = \"reduced\"", "scale = \"tiny\"").contains("field `test.scale`"));
    assert_eq!(ok("scale = \"reduced\"", "scale = \"full\"").scale_label(Scale::Test), "full");
    assert!(err("id = \"synthetic\"", "id = \" \"").contains("field `id`"));
    assert!(err("[[check]]\nwhat = \"gd converges\"", "[[nocheck]]\nwhat = \"gd converges\"").contains("t.toml"));
}

/// A convex-certificate claim: one seed is enough, no check is required, and zero seeds are
/// refused.
const CONVEX: &str = r#"
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

#[test]
fn non_training_claims_need_one_seed_and_no_check() {
    let t = loads(CONVEX);
    assert_eq!((t.seed_list(Scale::Full), t.seed_list(Scale::Test)), (vec![1], vec![1]));
    assert!(t.checks.is_empty());
    assert!(load_error(&CONVEX.replacen("seeds = 1", "seeds = 0", 1)).contains("field `seeds`: >= 1"));
    let test_zero = CONVEX.replacen("scale = \"full\"\nseeds = 1", "scale = \"full\"\nseeds = 0", 1);
    assert!(load_error(&test_zero).contains("field `seeds`: >= 1"));
    // A training claim needs a check.
    let training = CONVEX.replacen("convex-certificate", "training", 1).replace("seeds = 1", "seeds = 10");
    let training = training.replacen("scale = \"full\"\nseeds = 10", "scale = \"full\"\nseeds = 3", 1);
    assert!(load_error(&training).contains("field `check`: a training claim needs at least one"));
    // Certificate quantities only.
    let check = "[[check]]\nwhat = \"w\"\nquantity = \"certificate.max_radius\"\nop = \"<=\"\nvalue = 1e-6\n";
    loads(&format!("{CONVEX}{check}"));
    assert!(load_error(&format!("{CONVEX}{}", check.replace("max_radius", "radius"))).contains("unknown quantity"));
}

#[test]
fn seeds_settings_and_labels_of_a_theorem_file() {
    let t = loads(SYNTHETIC);
    let base = Setting::default().seed;
    assert_eq!(t.seed_list(Scale::Full), (base..base + 10).collect::<Vec<_>>());
    assert_eq!(t.seed_list(Scale::Test), (base..base + 3).collect::<Vec<_>>());
    assert_eq!((t.scale_label(Scale::Test), t.scale_label(Scale::Full)), ("reduced", "full"));
    assert_eq!(t.checks[1].factor, 1.0, "the default factor");
    let text = synthetic_with("[setting]\n", "seeds = 12\n[setting]\nseed = 5\ndata = { d = 300, n = 40 }\n").replacen(
        "note = \"hand-made measurements\"",
        "seeds = 4\nsetting = { data = { d = 200 } }",
        1,
    ) + "[paper_setting]\nmodel = { lambda = 0.01 }\n";
    let t = loads(&text);
    assert_eq!((t.seed_list(Scale::Full), t.seed_list(Scale::Test)), ((5..17).collect(), (5..9).collect()));
    // [test.setting] merges into [setting] (keeping `n`) at the test scale only; [paper_setting]
    // goes on top of both.
    let dims = |s: Setting| (s.data.d, s.data.n, s.model.lambda);
    let lambda = Setting::default().model.lambda;
    assert_eq!(dims(t.setting(Scale::Test, "t.toml").unwrap()), (200, 40, lambda));
    assert_eq!(dims(t.setting(Scale::Full, "t.toml").unwrap()), (300, 40, lambda));
    assert_eq!(dims(t.paper_setting(Scale::Test, "t.toml").unwrap().unwrap()), (200, 40, 0.01));
    assert_eq!(dims(t.paper_setting(Scale::Full, "t.toml").unwrap().unwrap()), (300, 40, 0.01));
    assert!(loads(SYNTHETIC).paper_setting(Scale::Full, "t.toml").is_none());
    // A setting error names the tables it came from.
    let bad = |text: &str, scale: Scale, paper: bool| {
        let t = loads(text);
        let r = if paper { t.paper_setting(scale, "t.toml").unwrap() } else { t.setting(scale, "t.toml") };
        r.expect_err("an invalid setting").to_string()
    };
    let bad_test = text.replacen("d = 200", "d = 0", 1);
    assert!(bad(&bad_test, Scale::Test, false).contains("t.toml: [setting] with [test.setting]:"));
    assert!(bad(&bad_test, Scale::Test, true).contains("[setting] with [test.setting] and [paper_setting]:"));
    let bad_full = text.replacen("d = 300", "d = 0", 1).replacen("d = 200", "d = 0", 1);
    assert!(bad(&bad_full, Scale::Full, false).contains("t.toml: [setting]: "));
    assert!(bad(&bad_full, Scale::Full, true).contains("t.toml: [setting] with [paper_setting]:"));
    // Lines of the file.
    assert_eq!(
        t.at_line("t.toml", "paper_setting"),
        format!("t.toml line {}", text.lines().position(|l| l.contains("paper_setting")).unwrap() + 1)
    );
    assert_eq!(t.at_line("t.toml", "no such text"), "t.toml");
    assert_eq!(loads(SYNTHETIC).at_line("t.toml", "id = "), "t.toml line 2");
}

#[test]
fn certified_quantities_make_the_checker_certify() {
    use adamgap::claims::theorem::is_certified;
    assert!(is_certified("certified.gd.test_error") && !is_certified("gd.test_error"));
    assert!(!loads(SYNTHETIC).uses_certified());
    let on = |from: &str, to: &str| loads(&synthetic_with(from, to)).uses_certified();
    assert!(on("quantity = \"gd.loss\"", "quantity = \"certified.gd.test_error_upper\""));
    assert!(on("of = \"gd.loss\"", "of = \"certified.gd.test_error_upper\""));
}

#[test]
fn names_labels_and_expected_verdicts() {
    use adamgap::claims::{ClaimKind, Expected};
    assert_eq!(
        [ClaimKind::Training, ClaimKind::ConvexCertificate, ClaimKind::Precision].map(ClaimKind::name),
        ["training", "convex-certificate", "precision"]
    );
    let expected = [Expected::Holds, Expected::Fails, Expected::Inconclusive];
    assert_eq!(expected.map(Expected::label), ["holds", "fails", "inconclusive"]);
    let verdicts = [Verdict::Holds, Verdict::Fails, Verdict::Inconclusive("why".into())];
    for (i, e) in expected.iter().enumerate() {
        for (j, v) in verdicts.iter().enumerate() {
            assert_eq!(e.matches(v), i == j, "{e:?} {v:?}");
        }
    }
    assert_eq!(
        [Op::Le, Op::Lt, Op::Ge, Op::Gt, Op::Eq, Op::WithinFactor].map(Op::symbol),
        ["<=", "<", ">=", ">", "==", "within-factor"]
    );
}

#[test]
fn the_theorem_files_of_a_folder() {
    let (_tmp, dir) = scratch("files");
    for f in ["b.toml", "a.toml", "c.txt", "d.toml.bak"] {
        std::fs::write(dir.join(f), "").expect("write");
    }
    let files = adamgap::claims::theorem::files_in(&dir).expect("listed");
    assert_eq!(files, [dir.join("a.toml"), dir.join("b.toml")]);
    assert!(adamgap::claims::theorem::files_in(&dir.join("nowhere")).is_err());
}

/// The quantity names each claim kind accepts, and the allowed forms it lists otherwise.
#[test]
fn known_quantities_by_claim_kind() {
    use adamgap::claims::ClaimKind::{ConvexCertificate, Precision, Training};
    use adamgap::claims::measure::known_quantity;
    let runs = ["gd".to_string(), "sign-gd".to_string()];
    let ok = |kind, name: &str| known_quantity(kind, &runs, name).is_ok();
    for name in [
        "gd.test_error",
        "sign-gd.steps",
        "gd.feature_reach_step",
        "init.loss",
        "predicted.noise_l1",
        "predicted.noise_init_scale",
        "data.noise_l1_mean",
        "data.overlapping_pairs",
        "distance.gd.sign-gd",
        "convex_radius.sign-gd.gd",
        "certified.gd.test_error_upper",
        "certified.init.objective_lower",
    ] {
        assert!(ok(Training, name), "{name}");
    }
    for name in [
        "adam.test_error",
        "gd.radius",
        "gd.tets_error",
        "init.steps",
        "predicted.noise",
        "data.loss",
        "distance.gd.adam",
        "distance.adam.gd",
        "convex_radius.gd",
        "certified.adam.test_error_upper",
        "certified.gd.test_error",
        "certified.distance_lower.gd.sign-gd",
        "certificate.max_radius",
        "precision.verdicts_agree",
        "gd",
        "a.b.c.d.e",
    ] {
        assert!(!ok(Training, name), "{name}");
    }
    let gd_adam = ["gd".to_string(), "adam".to_string()];
    assert!(known_quantity(Training, &gd_adam, "certified.distance_lower.gd.adam").is_ok());
    assert!(known_quantity(Training, &gd_adam, "certified.distance_lower.adam.gd").is_err());
    assert!(known_quantity(Training, &["gd".to_string()], "certified.distance_lower.gd.adam").is_err());
    assert!(known_quantity(Training, &["adam".to_string()], "certified.distance_lower.gd.adam").is_err());
    for name in ["certificate.max_radius", "certificate.adamw_distance_lower", "certificate.gd.radius"] {
        assert!(ok(ConvexCertificate, name), "{name}");
    }
    for name in ["certificate..radius", "certificate.radius", "gd.test_error", "certificate"] {
        assert!(!ok(ConvexCertificate, name), "{name}");
    }
    for name in ["precision.verdicts_agree", "precision.gd.final_distance", "precision.sign-gd.verdicts_agree"] {
        assert!(ok(Precision, name), "{name}");
    }
    for name in ["precision.final_distance", "precision.adam.final_distance", "precision.gd.loss", "gd.loss"] {
        assert!(!ok(Precision, name), "{name}");
    }
    let allowed = |kind, name: &str| known_quantity(kind, &runs, name).expect_err("unknown");
    let t = allowed(Training, "x.y");
    assert!(
        t.contains("<run>.{train_error,test_error,")
            && t.contains("noise_growth_at_reach}")
            && t.contains("{gd,sign-gd}")
    );
    assert!(!t.contains("radius}"), "a training run has no radius: {t}");
    assert!(allowed(ConvexCertificate, "x").starts_with("certificate.{max_radius,"));
    assert!(allowed(Precision, "x").contains("with <run> one of {gd,sign-gd}"));
}

#[test]
fn training_quantities_are_those_that_change_with_training() {
    use adamgap::claims::measure::is_training_quantity;
    for name in ["gd.loss", "distance.gd.adam", "convex_radius.gd.adam", "certified.gd.test_error_upper"] {
        assert!(is_training_quantity(name), "{name}");
    }
    for name in ["predicted.noise_l1", "data.noise_l1_mean", "init.loss", "certificate.max_radius"] {
        assert!(!is_training_quantity(name), "{name}");
    }
}

/// Two optimizers on three seeds: every seed is its own experiment and every optimizer its own
/// run (the checker's cache is keyed by both), at initialization too.
#[test]
fn each_seed_and_optimizer_is_its_own_run() {
    let text = SMALL_CLAIM.replace(
        "optimizers = [{ kind = \"gd\", eta = 1e9 }]",
        "optimizers = [{ kind = \"gd\", eta = 1.0 }, { kind = \"sign-gd\", eta = 0.001, decay = \"constant\" }]",
    ) + "[[check]]\nwhat = \"the runs part\"\nquantity = \"distance.gd.sign-gd\"\nop = \">\"\nvalue = 0.0\n"
        + "[[check]]\nwhat = \"sign GD moves\"\nquantity = \"sign-gd.weight_norm\"\nop = \">\"\nof = \"init.weight_norm\"\n";
    let t = Theorem::from_toml_str(&text, "small.toml").expect("valid");
    let r = Checker::new().check(&t, "small.toml", Scale::Test).expect("checked");
    let init: Vec<f64> = r.seeds.iter().map(|s| s.quantities["init.weight_norm"]).collect();
    assert!(init[0] != init[1] && init[1] != init[2] && init[0] != init[2], "one initialization per seed: {init:?}");
    for s in &r.seeds {
        assert!(s.quantities["distance.gd.sign-gd"] > 0.0, "{:?}", s.quantities);
        // At initialization every run is W^(0): no distance, and sign GD's weight norm is the initial one.
        let [_, apart, moves] = &s.checks[..] else { panic!("three checks") };
        assert_eq!(apart.at_init.as_ref().and_then(|a| a.value), Some(0.0));
        assert_eq!(moves.at_init.as_ref().and_then(|a| a.value), Some(s.quantities["init.weight_norm"]));
    }
}

/// A check on a certified quantity makes the checker certify the final weights (and `W^(0)`).
#[test]
fn certified_checks_are_measured() {
    let text = SMALL_CLAIM.replace("eta = 1e9", "eta = 1.0")
        + "[[check]]\nwhat = \"certified\"\nquantity = \"certified.gd.train_error_upper\"\nop = \"<=\"\nvalue = 1.0\n"
        + "holds_at_init = \"an upper bound of at most 1 holds for any weights\"\n";
    let t = Theorem::from_toml_str(&text, "small.toml").expect("valid");
    let r = Checker::new().check(&t, "small.toml", Scale::Test).expect("checked");
    for s in &r.seeds {
        let upper = s.quantities.get("certified.gd.train_error_upper").copied();
        assert!(upper.is_some_and(|u| (0.0..=1.0).contains(&u)), "{:?}", s.quantities);
        let at_init = s.checks[1].at_init.as_ref().and_then(|a| a.value);
        assert!(at_init.is_some_and(|u| (0.0..=1.0).contains(&u)), "{:?}", s.checks[1]);
    }
}

/// The measurement at initialization is every run cut to step 0 with a step-budget stop, even
/// where `W^(0)` itself is not finite: there no run has diverged yet (the trained runs report the
/// divergence, at step 0).
#[test]
fn the_runs_at_initialization_took_no_step() {
    let text = SMALL_CLAIM.replace("model = { m = 4 }", "model = { m = 4, sigma0 = 1e200 }")
        + "[[check]]\nwhat = \"no divergence\"\nquantity = \"gd.diverged\"\nop = \"==\"\nvalue = 0.0\n";
    let t = Theorem::from_toml_str(&text, "small.toml").expect("valid");
    let r = Checker::new().check(&t, "small.toml", Scale::Test).expect("checked");
    for s in &r.seeds {
        assert_eq!(s.quantities["gd.diverged"], 1.0);
        assert_eq!(s.checks[1].at_init.as_ref().and_then(|a| a.value), Some(0.0), "{:?}", s.checks[1]);
    }
}

/// Everything a reviewer reads of a report, one part after another: the line, the seeds line, the
/// summary and the JSON of `adamgap check --json`.
fn reading(r: &adamgap::claims::report::ClaimReport) -> String {
    let json = serde_json::to_string_pretty(&r.json()).expect("json");
    format!("{}\n---\n{}\n---\n{}\n---\n{json}", r.line(), r.seeds_line(), r.summary())
}

/// What a reviewer reads, on hand-made measurements (no training, so every line of the report's
/// layout is pinned in milliseconds): the summary, the one-line form, the seeds line and the JSON
/// of `adamgap check --json`. Two reports: the synthetic claim (holds, and fails under the paper's
/// threshold), and an expected failure that fails for another reason, with a check not reached, a
/// quantity not measured, values at initialization and a `holds_at_init` reason.
#[test]
fn the_report_of_hand_made_measurements_reads() {
    let t = Theorem::from_toml_str(SYNTHETIC, "synthetic.toml").expect("valid");
    let r =
        evaluate(&t, "synthetic.toml", Scale::Test, vec![synthetic_seed(1, 0.45, 0.45), synthetic_seed(2, 0.375, 0.5)]);
    insta::assert_snapshot!("report_synthetic", reading(&r));

    let text = SYNTHETIC.replace("expected = \"holds\"", "expected = \"fails\"\nexpect_fail = [\"gd converges\"]")
        + "[[check]]\nwhat = \"adam gets below 0.4\"\nquantity = \"adam.loss\"\nop = \"<=\"\nvalue = 0.4\n\
           if_false = \"inconclusive\"\nreason = \"adam did not get there in the budget\"\n\
           holds_at_init = \"a made-up reason, printed only where the check passes at initialization\"\n\
           [[check]]\nwhat = \"gd reaches the feature\"\nquantity = \"gd.feature_reach_step\"\nop = \"<=\"\nvalue = 1000.0\n";
    let t = Theorem::from_toml_str(&text, "synthetic.toml").expect("valid");
    let seed = |seed, gd, adam, init_loss| {
        let mut s = synthetic_seed(seed, gd, adam);
        s.init = Some(measured(&[("gd.loss", init_loss), ("adam.loss", init_loss)]));
        s
    };
    let mut r = evaluate(&t, "synthetic.toml", Scale::Test, vec![seed(3, 0.75, 0.5, 0.3), seed(4, 0.25, 0.25, 0.7)]);
    insta::assert_snapshot!("report_synthetic_mismatch", reading(&r));

    // The same claim also read under the paper's setting (a nested override), one check certified
    // in exact arithmetic (the report says which checks are proofs and which float observations),
    // no tracked quantity and nothing missing.
    let text = text
        .replace("[track]\nquantities = [\"gd.loss\"]\n", "")
        .replace("[test]", "[paper_setting]\nmodel = { lambda = 0.01 }\ntrain = { steps = 2000 }\n[test]")
        + "[[check]]\nwhat = \"certified: gd fits\"\nquantity = \"certified.gd.train_error_upper\"\nop = \"==\"\nvalue = 0.0\n";
    let t = Theorem::from_toml_str(&text, "synthetic.toml").expect("valid");
    let with_certified = |seed_no, gd, adam, init_loss| {
        let mut s = seed(seed_no, gd, adam, init_loss);
        s.m.quantities.insert("certified.gd.train_error_upper".into(), 0.0);
        s.m.missing.clear();
        s.m.quantities.insert("gd.feature_reach_step".into(), 500.0);
        s
    };
    r = evaluate(&t, "synthetic.toml", Scale::Test, vec![with_certified(3, 0.75, 0.5, 0.3)]);
    let paper = evaluate(&t, "synthetic.toml", Scale::Test, vec![with_certified(3, 0.25, 0.25, 0.3)]);
    r.paper_setting = Some(adamgap::claims::report::PaperSettingReport::of(&t, paper));
    insta::assert_snapshot!("report_synthetic_paper_setting", reading(&r));

    // A claim with no check (a certificate claim may have none) measured nothing: the report has
    // no quantities section at all.
    let t = Theorem::from_toml_str(CONVEX, "convex.toml").expect("valid");
    let r = evaluate(
        &t,
        "convex.toml",
        Scale::Full,
        vec![SeedInput { seed: 1, setting: Setting::default(), m: Measurement::default(), init: None }],
    );
    insta::assert_snapshot!("report_no_checks", r.summary());
}

/// A tracked quantity that no check reads is still recorded (with its spread); a measurement with
/// no run behind it has no tracked table (there is no checkpoint to show).
#[test]
fn tracked_quantities_are_recorded_and_need_runs() {
    let text = SYNTHETIC.replace("quantities = [\"gd.loss\"]", "quantities = [\"gd.loss\", \"gd.objective\"]");
    let t = Theorem::from_toml_str(&text, "synthetic.toml").expect("valid");
    let r = evaluate(&t, "synthetic.toml", Scale::Test, vec![synthetic_seed(1, 0.45, 0.45)]);
    assert_eq!(r.quantities.get("gd.objective"), Some(&1.0));
    assert!(!r.tracked.is_empty());
    let mut seed = synthetic_seed(1, 0.45, 0.45);
    seed.m.runs.clear();
    let r = evaluate(&t, "synthetic.toml", Scale::Test, vec![seed]);
    assert!(r.tracked.is_empty(), "{:?}", r.tracked);
}
