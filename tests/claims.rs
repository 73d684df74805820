//! The paper's claims, checked at test scale: one named insta snapshot per `theorems/*.toml`
//! (`claims__claim@<file>.snap`) holding the summary a reviewer reads, and a failure naming every
//! claim whose verdict differs from its expected one (pending claims excepted). Then every verdict
//! path on purpose: divergence, a NaN quantity, a mutated threshold, an expected failure that fails
//! for another reason, a check that passes at initialization without a reason, an unknown
//! quantity, and the headline's verdict lines.
//!
//! Everything runs sequentially (one thread), so the snapshots do not depend on the machine's
//! thread count. Runs with the same setting and optimizer are shared between claims.

use std::path::{Path, PathBuf};
use std::process::Command;

use adamgap::claims::evaluate::{SeedInput, evaluate};
use adamgap::claims::{Checker, Measurement, Scale, Status, Theorem, Verdict};
use adamgap::setting::Setting;
use adamgap::train::Experiment;

#[test]
fn claim() {
    let mut checker = Checker::new();
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
