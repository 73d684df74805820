//! Run folders through the binary (docs/interchange.md): export then import reproduces the run bit
//! for bit; every malformed import is rejected with exit code 2, a message naming the file and the
//! problem, and nothing written; an interrupted `--export` or `--report` leaves no folder.

mod common;

use std::path::Path;
use std::process::Output;

use ndarray::{Array1, Array2, Array3};
use ndarray_npy::{ReadNpyExt, WriteNpyExt};

use common::{adamgap_env as adamgap, scratch};

/// A small setting (with `--steps 300`, a second for both optimizers in the test profile).
const SMALL: &[&str] = &["--d", "300", "--n", "40", "--s", "30", "--m", "8", "--test-size", "500", "--quiet"];

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn json_without_seconds(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "run failed: {}", String::from_utf8_lossy(&out.stderr));
    let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    for run in v["runs"].as_object_mut().expect("runs").values_mut() {
        run.as_object_mut().expect("run object").remove("seconds");
    }
    v
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// Export, import (and export again): the JSON is identical apart from timings, and every file of
/// the second export is byte-identical to the first.
#[test]
fn export_then_import_is_bit_identical() {
    let (_tmp, dir) = scratch("roundtrip");
    let (a, b) = (dir.join("a"), dir.join("b"));
    let mut args = SMALL.to_vec();
    args.extend(["--steps", "300", "--json", "--export", s(&a)]);
    let first = json_without_seconds(&adamgap(&args, &[]));
    let second = json_without_seconds(&adamgap(&["--import", s(&a), "--json", "--quiet", "--export", s(&b)], &[]));
    assert_eq!(first, second, "the imported run differs");
    let names = entries(&a);
    assert_eq!(names, entries(&b));
    for f in [
        "manifest.json",
        "train_indptr.npy",
        "train_indices.npy",
        "train_data.npy",
        "train_y.npy",
        "test_indptr.npy",
        "test_y.npy",
        "w_init.npy",
        "w_gd.npy",
        "w_adam.npy",
        "trace_gd.csv",
        "trace_adam.csv",
    ] {
        assert!(names.iter().any(|n| n == f), "{f} missing from the export: {names:?}");
    }
    for f in &names {
        assert_eq!(std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap(), "{f} differs");
    }
    // The manifest: format, the setting as a config file has it, per-optimizer records.
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["format"], "adamgap-run-1");
    assert_eq!(m["setting"]["data"]["d"], 300);
    assert_eq!(m["shapes"]["m"], 8);
    let adam = &m["optimizers"][1];
    assert_eq!((adam["kind"].as_str(), adam["steps"].as_u64()), (Some("adam"), Some(300)));
    assert_eq!((adam["stop_reason"].as_str(), adam["precision"].as_str()), (Some("step-budget"), Some("f64")));
    assert_eq!(adam["hyperparameters"]["b2"], 0.999);
    // Shapes and dtypes as documented.
    let w = Array3::<f64>::read_npy(std::fs::File::open(a.join("w_adam.npy")).unwrap()).unwrap();
    assert_eq!(w.dim(), (2, 8, 300));
    let indptr = Array1::<i64>::read_npy(std::fs::File::open(a.join("train_indptr.npy")).unwrap()).unwrap();
    assert_eq!(indptr.len(), 40 * 2 + 1);
    let trace = std::fs::read_to_string(a.join("trace_adam.csv")).unwrap();
    let mut lines = trace.lines();
    assert_eq!(lines.next(), Some("step,objective,loss,train_error,test_error,grad_norm,feature_max,noise_min_max"));
    assert!(lines.next().unwrap().starts_with("0,"), "the trace starts at step 0");
    assert!(trace.lines().last().unwrap().starts_with("300,"), "the trace ends at the last step");
    // A folder as Python may write it: W^(0) in Fortran order, a manifest without run records.
    let c = dir.join("c");
    copy_dir(&a, &c);
    let w0 = Array3::<f64>::read_npy(std::fs::File::open(a.join("w_init.npy")).unwrap()).unwrap();
    let mut fortran = Array3::<f64>::zeros(ndarray::ShapeBuilder::f(w0.dim()));
    fortran.assign(&w0);
    write_npy(&c.join("w_init.npy"), &fortran);
    assert_ne!(std::fs::read(c.join("w_init.npy")).unwrap(), std::fs::read(a.join("w_init.npy")).unwrap());
    edit_manifest(&c, |m| {
        m.as_object_mut().unwrap().remove("optimizers");
    });
    let third = json_without_seconds(&adamgap(&["--import", s(&c), "--json", "--quiet"], &[]));
    assert_eq!(first, third, "the Python-style folder gives another run");
    // Flags override the manifest's setting.
    let short = json_without_seconds(&adamgap(&["--import", s(&a), "--json", "--quiet", "--steps", "7"], &[]));
    assert_eq!(short["runs"]["adam"]["steps"], 7);
    assert_eq!(short["setting"]["data"]["n"], 40);
}

fn write_npy<A: WriteNpyExt>(path: &Path, a: &A) {
    a.write_npy(std::fs::File::create(path).unwrap()).unwrap();
}

fn read_i64(path: &Path) -> Array1<i64> {
    Array1::<i64>::read_npy(std::fs::File::open(path).unwrap()).unwrap()
}

fn read_f64(path: &Path) -> Array1<f64> {
    Array1::<f64>::read_npy(std::fs::File::open(path).unwrap()).unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).unwrap();
    for f in entries(from) {
        std::fs::copy(from.join(&f), to.join(&f)).unwrap();
    }
}

fn edit_manifest(dir: &Path, edit: impl Fn(&mut serde_json::Value)) {
    let p = dir.join("manifest.json");
    let mut m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    edit(&mut m);
    std::fs::write(&p, serde_json::to_string(&m).unwrap()).unwrap();
}

/// Every malformed folder is rejected before anything runs: exit 2, the file and the problem named,
/// nothing printed on stdout, no output folder.
#[test]
fn import_rejections() {
    let (_tmp, dir) = scratch("reject");
    let good = dir.join("good");
    let mut args = SMALL.to_vec();
    args.extend(["--steps", "3", "--optimizers", "gd", "--export", s(&good)]);
    assert!(adamgap(&args, &[]).status.success());
    type Mutate = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Mutate, &[&str])> = vec![
        (
            "int32 indices",
            Box::new(|d| {
                let a = read_i64(&d.join("train_indices.npy")).mapv(|v| v as i32);
                write_npy(&d.join("train_indices.npy"), &a);
            }),
            &["train_indices.npy", "dtype", "'<i4'", "'<i8'"],
        ),
        (
            "big-endian data",
            Box::new(|d| {
                let p = d.join("train_data.npy");
                let mut bytes = std::fs::read(&p).unwrap();
                let at = bytes.windows(5).position(|w| w == b"'<f8'").expect("descriptor in the header");
                bytes[at + 1] = b'>';
                std::fs::write(&p, bytes).unwrap();
            }),
            &["train_data.npy", "byte order", "'>f8'"],
        ),
        (
            "w_init of the wrong shape",
            Box::new(|d| write_npy(&d.join("w_init.npy"), &Array3::<f64>::zeros((2, 8, 299)))),
            &["w_init.npy", "shape", "(2, 8, 300)"],
        ),
        (
            "w_init of the wrong rank",
            Box::new(|d| write_npy(&d.join("w_init.npy"), &Array2::<f64>::zeros((16, 300)))),
            &["w_init.npy", "rank 2"],
        ),
        (
            "labels of the wrong length",
            Box::new(|d| {
                let y = read_f64(&d.join("test_y.npy"));
                write_npy(&d.join("test_y.npy"), &y.slice(ndarray::s![1..]).to_owned());
            }),
            &["test_y.npy", "length 499, expected 500"],
        ),
        (
            "index out of range",
            Box::new(|d| {
                let mut a = read_i64(&d.join("train_indices.npy"));
                let last = a.len() - 1;
                a[last] = 300;
                write_npy(&d.join("train_indices.npy"), &a);
            }),
            &["train_indices.npy", "index 300", "out of range"],
        ),
        (
            "indices not sorted within a row",
            Box::new(|d| {
                let ptr = read_i64(&d.join("train_indptr.npy"));
                let mut a = read_i64(&d.join("train_indices.npy"));
                let row = (0..ptr.len() - 1).find(|&r| ptr[r + 1] - ptr[r] >= 2).expect("a row of two entries");
                a.swap(ptr[row] as usize, ptr[row] as usize + 1);
                write_npy(&d.join("train_indices.npy"), &a);
            }),
            &["train_indices.npy", "not sorted within row"],
        ),
        (
            "indptr not monotone",
            Box::new(|d| {
                let mut a = read_i64(&d.join("train_indptr.npy"));
                a[3] = a[4] + 1;
                write_npy(&d.join("train_indptr.npy"), &a);
            }),
            &["train_indptr.npy", "not monotone", "indptr[3]"],
        ),
        (
            "a label that is not +-1",
            Box::new(|d| {
                let mut y = read_f64(&d.join("train_y.npy"));
                y[5] = 0.5;
                write_npy(&d.join("train_y.npy"), &y);
            }),
            &["train_y.npy", "label 0.5 at index 5", "+1 or -1"],
        ),
        (
            "a non-finite value",
            Box::new(|d| {
                let mut a = read_f64(&d.join("test_data.npy"));
                a[7] = f64::NAN;
                write_npy(&d.join("test_data.npy"), &a);
            }),
            &["test_data.npy", "non-finite value NaN at position 7"],
        ),
        (
            "manifest shapes against its setting",
            Box::new(|d| edit_manifest(d, |m| m["shapes"]["d"] = 301.into())),
            &["manifest.json", "shapes.d = 301 disagrees with setting.data.d = 300"],
        ),
        (
            "manifest against its files",
            Box::new(|d| {
                edit_manifest(d, |m| {
                    m["shapes"]["n"] = 41.into();
                    m["setting"]["data"]["n"] = 41.into();
                })
            }),
            &["train_indptr.npy", "length 81, expected 83"],
        ),
        (
            "unknown format version",
            Box::new(|d| edit_manifest(d, |m| m["format"] = "adamgap-run-9".into())),
            &["manifest.json", "unknown format `adamgap-run-9`", "adamgap-run-1"],
        ),
        ("missing file", Box::new(|d| std::fs::remove_file(d.join("w_init.npy")).unwrap()), &["w_init.npy"]),
    ];
    let (out_dir, report_dir) = (dir.join("out"), dir.join("report"));
    for (what, mutate, needles) in &cases {
        let bad = dir.join("bad");
        copy_dir(&good, &bad);
        mutate(&bad);
        let out = adamgap(&["--import", s(&bad), "--quiet", "--export", s(&out_dir), "--report", s(&report_dir)], &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {err}");
        for n in *needles {
            assert!(err.contains(n), "{what}: {n:?} not in {err:?}");
        }
        assert!(!err.contains("panicked"), "{what} panicked: {err}");
        assert!(out.stdout.is_empty(), "{what} printed output");
        assert!(!out_dir.exists() && !report_dir.exists(), "{what} wrote an output folder");
    }
    // A flag may not change what the files fix.
    let out = adamgap(&["--import", s(&good), "--quiet", "--n", "50"], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("data.n") && err.contains("imported folder"), "{err}");
    // The unmodified folder imports.
    assert!(adamgap(&["--import", s(&good), "--quiet", "--steps", "2"], &[]).status.success());
}

/// A writer that fails after its first file (the testing hook of `adamgap::outdir`) leaves neither
/// the folder nor its temporary folder; an existing folder of other files is refused, untouched.
#[test]
fn interrupted_writers_leave_nothing() {
    let (_tmp, dir) = scratch("interrupt");
    for flag in ["--export", "--report"] {
        let target = dir.join("out");
        let mut args = SMALL.to_vec();
        args.extend(["--steps", "5", flag, s(&target)]);
        let out = adamgap(&args, &[(adamgap::outdir::FAIL_AFTER_ENV, "1")]);
        let err = String::from_utf8_lossy(&out.stderr);
        // A failed write of the results is a failure of the run (exit 1), not bad input.
        assert_eq!(out.status.code(), Some(1), "{flag}: {err}");
        assert!(err.contains("cannot write") && err.contains("on purpose"), "{flag}: {err}");
        assert!(entries(&dir).is_empty(), "{flag} left {:?}", entries(&dir));
        // Without the hook the same command writes the folder, and may overwrite its own output.
        assert!(adamgap(&args, &[]).status.success());
        assert!(adamgap(&args, &[]).status.success());
        assert_eq!(entries(&dir), ["out"]);
        // A failed rewrite leaves the previous folder as it was.
        let before: Vec<Vec<u8>> = entries(&target).iter().map(|f| std::fs::read(target.join(f)).unwrap()).collect();
        let out = adamgap(&args, &[(adamgap::outdir::FAIL_AFTER_ENV, "2")]);
        assert_eq!(out.status.code(), Some(1));
        let after: Vec<Vec<u8>> = entries(&target).iter().map(|f| std::fs::read(target.join(f)).unwrap()).collect();
        assert_eq!(before, after, "{flag}: a failed rewrite changed the folder");
        assert_eq!(entries(&dir), ["out"]);
        std::fs::remove_dir_all(&target).unwrap();
    }
    let mine = dir.join("mine");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "keep me").unwrap();
    for flag in ["--export", "--report"] {
        let out = adamgap(&["--steps", "2", "--quiet", flag, s(&mine)], &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("notes.txt") && err.contains("does not write"), "{err}");
        assert_eq!(entries(&mine), ["notes.txt"]);
    }
}

/// `docs/python.md` shows `tools/load_export.py` as it is, so the page stays runnable.
#[test]
fn python_doc_shows_the_script() {
    let doc = include_str!("../docs/python.md");
    let script = include_str!("../tools/load_export.py");
    assert!(doc.contains(&format!("```python\n{script}```")), "docs/python.md does not quote tools/load_export.py");
}
