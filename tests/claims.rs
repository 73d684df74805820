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
