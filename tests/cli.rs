//! The `adamgap` binary: reproducible JSON, thread-count independence, and clear errors on bad
//! input (named field, allowed range, exit code 2, no partial output files).

mod common;

use std::process::Output;

use common::{adamgap, scratch};

/// A small setting that still trains both optimizers to the end (a few seconds in the test profile).
const SMALL: &[&str] =
    &["--d", "300", "--n", "40", "--s", "30", "--m", "8", "--test-size", "500", "--steps", "400", "--quiet"];

fn json_without_seconds(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "run failed: {}", String::from_utf8_lossy(&out.stderr));
    let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    for run in v["runs"].as_object_mut().expect("runs").values_mut() {
        assert!(run["seconds"].as_f64().is_some_and(|s| s >= 0.0));
        run.as_object_mut().expect("run object").remove("seconds");
    }
    v
}

/// The same seed gives the same JSON (apart from `seconds`), with 1 and 2 threads; the JSON has
/// every field the issue names.
#[test]
fn json_is_reproducible_across_runs_and_threads() {
    let with = |threads: &str| {
        let mut a = SMALL.to_vec();
        a.extend(["--json", "--seed", "4", "--threads", threads]);
        json_without_seconds(&adamgap(&a))
    };
    let one = with("1");
    assert_eq!(one, with("2"), "thread count changed the results");
    assert_eq!(one, with("2"), "two runs with the same seed differ");
    assert_eq!(one["setting"]["seed"], 4);
    assert_eq!(one["setting"]["data"]["d"], 300);
    for name in ["gd", "adam"] {
        let r = &one["runs"][name];
        for field in ["train_error", "test_error", "objective", "grad_norm_l2", "feature_max", "noise_min_max", "steps"]
        {
            assert!(r[field].is_number(), "runs.{name}.{field} missing: {r}");
        }
        assert_eq!(r["stop_reason"], "step-budget");
        assert_eq!(r["steps"], 400);
    }
    assert!(one["distance_gd_adam"].as_f64().is_some_and(|d| d > 0.0));
    // The JSON reads back as the typed summary, strictly: a misspelt key is an error naming it.
    let summary: adamgap::results::RunSummary = serde_json::from_value(one.clone()).expect("a run summary");
    assert_eq!((summary.runs["adam"].steps, summary.verdicts.len()), (400, 6));
    let mut misspelt = one.clone();
    let adam = misspelt["runs"]["adam"].as_object_mut().expect("adam");
    let test = adam.remove("test_error").expect("test_error");
    adam.insert("test_eror".into(), test);
    let e = serde_json::from_value::<adamgap::results::RunSummary>(misspelt).expect_err("misspelt").to_string();
    assert!(e.contains("test_eror"), "{e}");
    let other = {
        let mut a = SMALL.to_vec();
        a.extend(["--json", "--seed", "5"]);
        json_without_seconds(&adamgap(&a))
    };
    assert_ne!(one["runs"], other["runs"], "a different seed gives different runs");
}

/// The text report has a table per optimizer and one verdict line per headline claim; `--report
/// DIR` writes a folder with `report.md` (embedding the figures) and the three SVGs.
#[test]
fn text_report_and_report_folder() {
    let (_tmp, dir) = scratch("report");
    let folder = dir.join("out");
    let mut a = SMALL.to_vec();
    a.extend(["--report", folder.to_str().expect("utf-8 path")]);
    let out = adamgap(&a);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    for needle in
        ["training error", "test error", "||W_GD - W_Adam||_F", "Both reach training error 0:", "GD generalizes"]
    {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    let md = std::fs::read_to_string(folder.join("report.md")).expect("report written");
    assert!(md.contains("## Trace: gd") && md.contains("## Trace: adam"));
    for svg in ["dynamics.svg", "errors.svg", "filters.svg"] {
        assert!(md.contains(&format!("]({svg})")), "report.md does not embed {svg}");
        let text = std::fs::read_to_string(folder.join(svg)).expect("figure written");
        assert!(text.starts_with("<svg"), "{svg} is not an SVG");
    }
    let mut names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["out"], "only the report folder is left beside it (no temporary folder)");
}

/// Out-of-range values name the field and the allowed range, exit with 2, and write nothing.
#[test]
fn bad_values_are_named_with_their_range() {
    let (_tmp, dir) = scratch("bad");
    let report = dir.join("r");
    let cases: &[(&[&str], &[&str])] = &[
        (&["--alpha", "1.5"], &["data.alpha", "0 < alpha < 1"]),
        (&["--s", "5000"], &["data.s", "1 <= s <= d - 1 = 999"]),
        (&["--m", "0"], &["model.m", "1 <= m <= 4096"]),
        (&["--lambda=-1"], &["model.lambda", ">= 0"]),
        (&["--b1", "1.0"], &["optimizers.adam.b1", "0 <= value < 1"]),
        (&["--gd-eta", "nan"], &["optimizers.gd.eta", "> 0"]),
        (&["--optimizers", "gd,lbfgs"], &["optimizers", "one of gd, adam"]),
        (&["--threads", "0"], &["--threads", "1..=1024"]),
    ];
    for (args, needles) in cases {
        let mut a = args.to_vec();
        a.extend(["--report", report.to_str().expect("utf-8 path")]);
        let out = adamgap(&a);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        for n in *needles {
            assert!(err.contains(n), "{args:?}: {n:?} not in {err:?}");
        }
        assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
        assert!(out.stdout.is_empty(), "{args:?} printed output");
        assert!(!report.exists(), "{args:?} wrote a report");
    }
    // The report is a folder now: a Markdown file name gets a hint.
    let md = dir.join("r.md");
    let out = adamgap(&["--steps", "1", "--quiet", "--report", md.to_str().expect("utf-8 path")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--report") && err.contains("a folder path"), "{err}");
    assert!(!md.exists());
}

/// Config files: unreadable, unknown field, wrong type, out-of-range value; and a good one whose
/// values the flags override.
#[test]
fn config_files() {
    let (_tmp, dir) = scratch("config");
    let missing = dir.join("missing.toml");
    let out = adamgap(&["--config", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("missing.toml"), "{err}");

    let bad = [
        ("[data]\ndd = 3\n", "unknown field `dd`"),
        ("[model]\nm = \"twenty\"\n", "invalid type"),
        ("[data]\nalpha = 2.0\n", "data.alpha"),
        ("[[optimizers]]\nkind = \"adam\"\neta = 1e-4\n", "missing field"),
    ];
    for (i, (text, needle)) in bad.iter().enumerate() {
        let p = dir.join(format!("bad{i}.toml"));
        std::fs::write(&p, text).unwrap();
        let out = adamgap(&["--config", p.to_str().unwrap(), "--quiet"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {err}");
        assert!(err.contains(needle), "{text}: {needle:?} not in {err}");
    }

    let good = dir.join("good.toml");
    std::fs::write(
        &good,
        "seed = 9\n[data]\nd = 300\nn = 40\ns = 30\ntest_size = 500\n[model]\nm = 8\n[train]\nsteps = 50\n\
         [[optimizers]]\nkind = \"gd\"\neta = 0.5\n",
    )
    .unwrap();
    let v = json_without_seconds(&adamgap(&["--config", good.to_str().unwrap(), "--json", "--steps", "30"]));
    assert_eq!(v["setting"]["seed"], 9);
    assert_eq!(v["setting"]["train"]["steps"], 30, "the flag overrides the file");
    assert_eq!(v["setting"]["optimizers"][0]["eta"], 0.5);
    assert_eq!(v["runs"].as_object().unwrap().len(), 1);
    assert!(v["distance_gd_adam"].is_null());
}

/// `adamgap convex`: a bad value given by a flag is named by the flag (with the field it sets), one
/// from the config file by the config's field; `--threads 0` is refused; a config file uses the flat
/// field names.
#[test]
fn convex_bad_values_are_named_by_their_flag() {
    let cases: &[(&[&str], &[&str])] = &[
        (&["--digits", "0"], &["--digits", "1..=250"]),
        (&["--lambda", "0"], &["--lambda", "> 0"]),
        (&["--prec", "8"], &["--prec", "64..=4096"]),
        (&["--n", "0"], &["--n", ">= 1"]),
        (&["--m", "0"], &["--m", "1 <= m <= 4096"]),
        (&["--target-radius=-1"], &["--target-radius", "> 0"]),
        (&["--threads", "0"], &["--threads", "1..=1024"]),
    ];
    for (args, needles) in cases {
        let mut a = vec!["convex"];
        a.extend_from_slice(args);
        let out = adamgap(&a);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        for n in *needles {
            assert!(err.contains(n), "{args:?}: {n:?} not in {err:?}");
        }
        assert!(out.stdout.is_empty(), "{args:?} printed output");
    }
    let (_tmp, dir) = scratch("convex-config");
    let file = dir.join("c.toml");
    std::fs::write(&file, "m = 0\n").unwrap();
    let out = adamgap(&["convex", "--config", file.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    // A value from the config file is named by the config's field, not by a flag nobody gave.
    assert!(err.contains("`m`") && !err.contains("--m") && err.contains("1 <= m <= 4096"), "{err}");
    std::fs::write(&file, "[data]\nd = 0\n").unwrap();
    let err = String::from_utf8_lossy(&adamgap(&["convex", "--config", file.to_str().unwrap()]).stderr).to_string();
    assert!(err.contains("`data.d`") && !err.contains("--d"), "{err}");
    // A flag on top of the config is named by the flag, with the field it sets.
    let err = String::from_utf8_lossy(&adamgap(&["convex", "--config", file.to_str().unwrap(), "--d", "1"]).stderr)
        .to_string();
    assert!(err.contains("`--d (data.d)`: 1"), "{err}");
    std::fs::write(&file, "threads = 2\n").unwrap();
    let err = String::from_utf8_lossy(&adamgap(&["convex", "--config", file.to_str().unwrap()]).stderr).to_string();
    assert!(err.contains("unknown field `threads`"), "threads is a flag, not a setting: {err}");
}
