//! `adamgap check` from the command line: a mutated threshold is a mismatch (exit 1), a check that
//! passes at initialization without a reason and a bad theorem file are load errors naming the file
//! and the line (exit 2), the seeds run side by side whatever the thread count and the JSON has its
//! documented shape; path claims: a mutated threshold, a check passing at initialization, results
//! read from a merged sweep folder, a folder of another grid refused.

mod common;

use std::path::{Path, PathBuf};

use adamgap::claims::{Checker, Scale};
use common::claims::mutated;
use common::{adamgap, scratch};

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
    use common::claims::{cell_json, cell_run, stage_one};
    let (tmp, dir) = scratch(name);
    let grid = adamgap::sweep::preset("path-d").expect("the preset");
    std::fs::write(dir.join("grid.json"), serde_json::to_string(&grid.manifest()).expect("JSON")).expect("write");
    let mut lines = String::new();
    for c in &grid.cells {
        let opt = |k: &str| c.setting.optimizers.iter().find(|o| o.key() == k).expect("gd and adam");
        let (gd, adam) = (opt("gd"), opt("adam"));
        let mut runs = serde_json::json!({
            "gd": cell_run(gd, 0.0, 2000, "step-budget", Some(true)),
            "adam": cell_run(adam, 1.0, 2000, "step-budget", Some(true)),
        });
        if let Some(ratio) = ratio {
            let predicted = adamgap::claims::measure::predicted_noise_l1(&c.setting);
            runs["adam"]["stage_one"] = stage_one(ratio(c.coords[0], predicted), predicted);
        }
        let axes = serde_json::Value::Object(grid.axis_values(c));
        let cell = cell_json(&c.id, c.index, &grid.hash, axes, &c.setting, (700, 1225), runs);
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
    let mut manifest = adamgap::sweep::preset("path-d").expect("the preset").manifest();
    manifest.grid_hash = "0123456789abcdef".into();
    std::fs::write(other.join("grid.json"), serde_json::to_string(&manifest).expect("JSON")).expect("write");
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
