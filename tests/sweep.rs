//! `adamgap sweep`: sharded runs merge to the same bytes as one run, an interrupted run resumes
//! without rerunning a cell, bad grids are rejected with the field named, and `merge` reports
//! missing cells. Tiny grids: the whole file runs in a few seconds.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use common::{adamgap_env as adamgap, scratch};

fn ok(out: Output) -> String {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

/// 8 cells of a small setting; one derived key.
const GRID: &str = r#"
base = "paper"
[fixed]
"data.d" = 200
"data.n" = 20
"model.m" = 4
"train.steps" = 60
"data.test_size" = 200
[axes]
"model.lambda" = [1e-5, 1e-3]
"data.alpha" = [0.1, 0.3]
seed = [1, 2]
[derived]
"data.s" = "round(sqrt(d))"
"#;

fn write_grid(dir: &Path, text: &str) -> String {
    let p = dir.join("grid.toml");
    std::fs::write(&p, text).expect("grid written");
    p.to_str().expect("utf-8").to_string()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Every output file of a merge, by name (results and the manifest excluded).
fn merged(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    ok(adamgap(&["sweep", "merge", s(dir)], &[]));
    std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "grid.json"))
        .map(|p| (p.file_name().expect("name").to_string_lossy().into_owned(), std::fs::read(&p).expect("read")))
        .collect()
}

fn results(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join("results"))
        .expect("results dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    v.sort();
    v
}

#[test]
fn shards_merge_to_the_bytes_of_one_run() {
    let (_tmp, root) = scratch("shards");
    let grid = write_grid(&root, GRID);
    let one = root.join("one");
    ok(adamgap(&["sweep", &grid, "--out", s(&one), "--threads", "2", "--quiet"], &[]));
    let reference = merged(&one);
    let names: Vec<&str> = reference.keys().map(String::as_str).collect();
    assert!(names.contains(&"sweep.jsonl") && names.contains(&"sweep.md"), "{names:?}");
    assert!(names.iter().filter(|n| n.starts_with("phase-") && n.ends_with(".svg")).count() >= 6, "{names:?}");
    let jsonl = String::from_utf8(reference["sweep.jsonl"].clone()).expect("utf-8");
    assert_eq!(jsonl.lines().count(), 8);
    assert!(!jsonl.contains("seconds") && !jsonl.contains("timing"), "timing left in the merged file");
    let first: serde_json::Value = serde_json::from_str(jsonl.lines().next().expect("a line")).expect("JSON");
    assert_eq!(first["cell"], "c0000");
    assert_eq!(first["setting"]["data"]["s"], 14, "derived s = round(sqrt(200))");
    assert!(first["runs"]["adam"]["test_error"].is_number() && first["runs"]["gd"]["feature_max"].is_number());
    // Adam's stage-I growth over its first 50 steps, and whether each run left W^(0).
    let stage_one = &first["runs"]["adam"]["stage_one"];
    assert_eq!((stage_one["steps"].as_u64(), first["runs"]["gd"]["moved"].as_bool()), (Some(50), Some(true)));
    let rate = |k: &str| stage_one[k].as_f64().expect("a number");
    assert!(rate("feature_growth_per_step") > 0.0, "{stage_one}");
    assert_eq!(rate("growth_ratio"), rate("noise_growth_per_step") / rate("feature_growth_per_step"));
    let md = String::from_utf8(reference["sweep.md"].clone()).expect("utf-8");
    assert!(md.contains("| adam stage-I ratio |") && !md.contains("gd stage-I ratio"), "{md}");
    for n in [2usize, 3] {
        let dir = root.join(format!("n{n}"));
        for k in 0..n {
            let shard = format!("{k}/{n}");
            let out =
                ok(adamgap(&["sweep", &grid, "--out", s(&dir), "--shard", &shard, "--threads", "1", "--quiet"], &[]));
            let expect = (0..8).filter(|i| i % n == k).count();
            assert!(out.contains(&format!("ran {expect},")), "{out}");
        }
        assert_eq!(merged(&dir), reference, "{n} shards merge to other bytes than one run");
    }
    // The shard of a Slurm array task comes from its environment.
    let dir = root.join("slurm");
    let out = ok(adamgap(
        &["sweep", &grid, "--out", s(&dir), "--quiet"],
        &[("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_COUNT", "4")],
    ));
    assert!(out.contains("shard 1/4: 2 cells, ran 2"), "{out}");
    assert_eq!(results(&dir), ["c0001.json", "c0005.json"]);
}

#[test]
fn an_interrupted_sweep_resumes_without_rerunning_a_cell() {
    let (_tmp, root) = scratch("resume");
    let grid = write_grid(&root, GRID);
    let dir = root.join("run");
    let args = ["sweep", &grid, "--out", s(&dir), "--threads", "1", "--quiet"];
    let out = adamgap(&args, &[("ADAMGAP_SWEEP_FAIL_AFTER", "3")]);
    assert_eq!(out.status.code(), Some(1), "the forced interruption is a runtime failure (exit 1)");
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"));
    // The fourth cell was computed but never renamed into place: it left nothing.
    let done = results(&dir);
    assert_eq!(done, ["c0000.json", "c0001.json", "c0002.json"]);
    let mtime = |n: &str| std::fs::metadata(dir.join("results").join(n)).and_then(|m| m.modified()).expect("mtime");
    let before: Vec<_> = done.iter().map(|n| mtime(n)).collect();
    // Merging now reports the missing cells.
    let partial = adamgap(&["sweep", "merge", s(&dir)], &[]);
    assert_eq!(partial.status.code(), Some(1));
    let out = ok(adamgap(&args, &[]));
    assert!(out.contains("ran 5, skipped 3"), "{out}");
    assert!(out.contains("ran: c0003 c0004 c0005 c0006 c0007"), "{out}");
    assert_eq!(done.iter().map(|n| mtime(n)).collect::<Vec<_>>(), before, "a finished cell was rerun");
    let again = ok(adamgap(&args, &[]));
    assert!(again.contains("ran 0, skipped 8"), "{again}");
    let fresh = root.join("fresh");
    ok(adamgap(&["sweep", &grid, "--out", s(&fresh), "--quiet"], &[]));
    assert_eq!(merged(&dir), merged(&fresh), "the resumed sweep merges to other bytes");
}

#[test]
fn bad_grids_are_rejected_with_the_field_named() {
    let (_tmp, root) = scratch("bad");
    let cases = [
        (GRID.replace("\"model.lambda\"", "\"model.lamda\""), "axes.model.lamda"),
        (GRID.replace("[1, 2]", "[]"), "axes.seed"),
        (GRID.replace("round(sqrt(d))", "round(sqrt(d)"), "derived.data.s"),
        (GRID.replace("round(sqrt(d))", "sqrt(d)"), "derived.data.s"),
        (GRID.replace("[0.1, 0.3]", "[0.1, 1.5]"), "data.alpha"),
        (GRID.replace("\"train.steps\" = 60", "\"train.steps\" = \"many\""), "fixed.train.steps"),
    ];
    for (text, field) in cases {
        let grid = write_grid(&root, &text);
        let dir = root.join("out");
        let out = adamgap(&["sweep", &grid, "--out", s(&dir)], &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "accepted ({field}): {err}");
        assert!(err.contains(field), "error does not name {field}: {err}");
        assert!(!dir.exists(), "a rejected grid left {}", dir.display());
    }
    let out = adamgap(&["sweep", "--preset", "nope", "--out", s(&root.join("p"))], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("path-d"));
    // Cells side by side that would not fit in the memory limit are refused before anything runs.
    let grid = write_grid(&root, GRID);
    let out = adamgap(&["sweep", &grid, "--out", s(&root.join("m")), "--max-memory", "1K"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cells side by side"));
    assert!(!root.join("m").exists());
    for bad in ["2/2", "x"] {
        let grid = write_grid(&root, GRID);
        let out = adamgap(&["sweep", &grid, "--out", s(&root.join("o")), "--shard", bad], &[]);
        assert_eq!(out.status.code(), Some(2), "--shard {bad} accepted");
    }
}

#[test]
fn the_issue_example_grid_expands_as_written() {
    let (_tmp, root) = scratch("example");
    let grid = write_grid(
        &root,
        "base = \"paper\"\n[fixed]\n\"train.steps\" = 300\n\"data.test_size\" = 1000\n[axes]\nseed = [1, 2, 3]\n\"model.lambda\" = [1e-5, 1e-3]\n",
    );
    let out = ok(adamgap(&["sweep", &grid, "--dry-run"], &[]));
    assert!(out.contains(": 6 cells"), "{out}");
    assert!(out.contains("c0005 {\"model.lambda\":0.001,\"seed\":3}"), "{out}");
    for name in ["phase-lambda-alpha", "path-d", "seeds"] {
        ok(adamgap(&["sweep", "--preset", name, "--dry-run"], &[]));
    }
}

#[test]
fn merge_names_missing_cells() {
    let (_tmp, root) = scratch("missing");
    let grid = write_grid(&root, GRID);
    let dir = root.join("run");
    ok(adamgap(&["sweep", &grid, "--out", s(&dir), "--quiet", "--shard", "0/1"], &[]));
    std::fs::remove_file(dir.join("results/c0006.json")).expect("cell file");
    let out = adamgap(&["sweep", "merge", s(&dir)], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("c0006"));
    assert!(!dir.join("sweep.jsonl").exists(), "merge wrote output with a cell missing");
    let out = ok(adamgap(&["sweep", "merge", s(&dir), "--allow-missing"], &[]));
    assert!(out.contains("merged 7 of 8"), "{out}");
    let md = std::fs::read_to_string(dir.join("sweep.md")).expect("sweep.md");
    assert!(md.contains("missing cells**: c0006"), "{md}");
    assert_eq!(std::fs::read_to_string(dir.join("sweep.jsonl")).expect("jsonl").lines().count(), 7);
    // A cell written by another grid counts as missing.
    let other = dir.join("results/c0006.json");
    std::fs::write(
        &other,
        std::fs::read_to_string(dir.join("results/c0005.json")).expect("cell").replace(
            &serde_json::from_str::<serde_json::Value>(
                &std::fs::read_to_string(dir.join("grid.json")).expect("manifest"),
            )
            .expect("JSON")["grid_hash"]
                .as_str()
                .expect("hash")
                .to_string(),
            "0000000000000000",
        ),
    )
    .expect("write");
    let out = adamgap(&["sweep", "merge", s(&dir)], &[]);
    assert_eq!(out.status.code(), Some(1));
    // And the folder of one grid refuses another grid.
    let grid2 = write_grid(&root, &GRID.replace("[1, 2]", "[1, 3]"));
    let out = adamgap(&["sweep", &grid2, "--out", s(&dir)], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--out"));
}

/// The grid format block of `docs/cluster.md` is a valid grid (the issue's example).
#[test]
fn the_documented_grid_parses() {
    let doc = include_str!("../docs/cluster.md");
    let block = doc.split("```toml\n").nth(1).and_then(|b| b.split("```").next()).expect("a toml block");
    let grid = adamgap::sweep::Grid::from_toml_str(block, "docs/cluster.md", None).expect("the documented grid parses");
    assert_eq!(grid.cells.len(), 6);
    assert_eq!(grid.cells[5].setting.train.steps, 300);
}
