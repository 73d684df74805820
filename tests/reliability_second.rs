//! The command line under hostile conditions, second pass (`docs/reliability.md`, sections 11 to
//! 16): counts checked before they allocate, recursion bounded, the files of output folders read
//! and written by the rules of the input reader and the output layer, a sweep folder claimed once,
//! and values refused when the file is loaded. Every case runs the binary (under a memory limit
//! where an unchecked count would allocate) and checks the exit code, that nothing panicked or
//! aborted, that the message names the field or the file, and what was left on disk.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{bin, scratch};

/// The address-space limit of every run: an allocation sized by an unchecked count fails (and
/// aborts the process) instead of succeeding lazily.
const MEMORY_LIMIT: u64 = 4 << 30;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Waits for `child` at most `limit` (then kills it and fails: a hang is a failure), reading its
/// output meanwhile (a long message must not fill the pipe and stall it).
fn wait(child: Child, limit: Duration) -> Output {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output().expect("output")));
    match rx.recv_timeout(limit) {
        Ok(o) => o,
        Err(_) => {
            // SAFETY: kill with a pid this test spawned and has not reaped.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            panic!("the command did not finish within {limit:?}");
        }
    }
}

/// The binary with `args` under [`MEMORY_LIMIT`], FIFO waits bounded to 1 s.
fn command(args: &[&str]) -> Command {
    command_within(args, MEMORY_LIMIT)
}

/// [`command`] under an address-space limit of `limit` bytes.
fn command_within(args: &[&str], limit: u64) -> Command {
    use std::os::unix::process::CommandExt as _;
    let mut c = bin();
    c.args(args).env("ADAMGAP_FIFO_WAIT", "1").stdout(Stdio::piped()).stderr(Stdio::piped());
    // SAFETY: only setrlimit, async-signal-safe, between fork and exec.
    unsafe {
        c.pre_exec(move || {
            let limit = libc::rlimit { rlim_cur: limit, rlim_max: limit };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
        });
    }
    c
}

fn run(args: &[&str]) -> Output {
    wait(command(args).spawn().expect("spawn"), Duration::from_secs(60))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Bad input: exit 2 (not a panic, not an abort by a signal), every needle in the message.
fn refused(args: &[&str], needles: &[&str]) -> Output {
    let o = run(args);
    let e = stderr(&o);
    assert!(!e.contains("panicked") && !e.contains("memory allocation"), "{args:?} panicked or aborted: {e}");
    assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
    for n in needles {
        assert!(e.contains(n), "{args:?}: {n:?} not in {e:?}");
    }
    o
}

fn mkfifo(path: &Path) {
    assert!(Command::new("mkfifo").arg(path).status().expect("mkfifo").success());
}

fn symlink(target: impl AsRef<Path>, link: &Path) {
    std::os::unix::fs::symlink(target, link).expect("symlink");
}

/// A small training claim (a few hundred steps on a small setting).
const CLAIM: &str = common::claims::SMALL_CLAIM;

/// A fresh copy of the export folder `export` at `bad` (replacing an earlier copy), to spoil.
fn copy_export(export: &Path, bad: &Path) -> std::path::PathBuf {
    let _ = std::fs::remove_dir_all(bad);
    std::fs::create_dir(bad).unwrap();
    for e in std::fs::read_dir(export).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), bad.join(e.file_name())).unwrap();
    }
    bad.to_path_buf()
}

/// Exports a small run (2 steps) into `dir`.
fn export_small(dir: &Path) {
    let args = ["--d", "100", "--n", "10", "--s", "10", "--m", "2", "--test-size", "20", "--steps", "2", "--quiet"];
    let o = run(&[&args[..], &["--export", dir.to_str().expect("UTF-8 path")]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
}

/// Writes `text` to `dir/name` and returns the path.
fn file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

/// The small claim with `from` replaced by `to` (which must occur).
fn claim(from: &str, to: &str) -> String {
    assert!(CLAIM.contains(from), "{from:?}");
    CLAIM.replacen(from, to, 1)
}

/// A grid of tiny cells (milliseconds each) with `rest` appended (axes, derived keys, plot).
fn grid(rest: &str) -> String {
    format!(
        "base = \"paper\"\n[fixed]\n\"train.steps\" = 5\n\"data.d\" = 100\n\"data.n\" = 10\n\"data.s\" = 5\n\
         \"data.test_size\" = 20\n\"model.m\" = 2\n{rest}\n"
    )
}

const AXES: &str = "[axes]\nseed = [1, 2]\n\"model.lambda\" = [1e-3, 1e-2]";

/// A finished sweep of [`AXES`] into `dir/name` (four cells), its merge not run.
fn finished_sweep(dir: &Path, name: &str) -> PathBuf {
    let g = file(dir, &format!("{name}.toml"), &grid(AXES));
    let out = dir.join(name);
    let o = run(&["sweep", s(&g), "--out", s(&out), "--quiet", "--threads", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    out
}

/// Class 1: counts that size an allocation are checked before it, against the file's real size
/// where they describe a file.
#[test]
fn counts_are_checked_before_they_allocate() {
    let (_tmp, dir) = scratch("counts");
    // Seeds of a theorem file.
    for seeds in ["18446744073709551615", "1000000000000", "10001"] {
        let f =
            file(&dir, "seeds.toml", &claim("expected = \"holds\"", &format!("expected = \"holds\"\nseeds = {seeds}")));
        refused(&["check", s(&f), "--quiet"], &["seeds.toml", "seeds"]);
        let f =
            file(&dir, "seeds.toml", &claim("scale = \"reduced\"", &format!("scale = \"reduced\"\nseeds = {seeds}")));
        refused(&["check", s(&f), "--quiet", "--scale", "test"], &["seeds.toml", "seeds"]);
    }
    // Grid cells: 16 axes of 16 values are 2^64 cells (a wrapping product is 0), 1001 x 1000 are
    // above the limit.
    let keys = [
        "seed",
        "data.d",
        "data.n",
        "data.s",
        "data.test_size",
        "model.m",
        "model.lambda",
        "model.sigma0",
        "train.steps",
        "data.sigma_p",
        "data.alpha",
        "optimizers.adam.eta",
        "optimizers.gd.eta",
        "optimizers.adam.b1",
        "optimizers.adam.b2",
        "optimizers.adam.eps",
    ];
    let mut axes = String::from("base = \"paper\"\n[axes]\n");
    for k in keys {
        // Integers: a float key takes them as floats.
        let values: Vec<String> = (1..=16).map(|v: u32| v.to_string()).collect();
        axes += &format!("\"{k}\" = [{}]\n", values.join(", "));
    }
    let g = file(&dir, "huge.toml", &axes);
    refused(&["sweep", s(&g), "--dry-run"], &["huge.toml", "axes", "more than 1000000 cells"]);
    let list = |n: usize| (1..=n).map(|v| v.to_string()).collect::<Vec<_>>().join(", ");
    let g = file(
        &dir,
        "big.toml",
        &format!("base = \"paper\"\n[axes]\nseed = [{}]\n\"train.steps\" = [{}]\n", list(1001), list(1000)),
    );
    refused(&["sweep", s(&g), "--dry-run"], &["big.toml", "more than 1000000 cells"]);
    // .npy headers: a shape of 10^12 over a 2 KB file, a v2 header length of 0xFFFFFFFF, a shape
    // whose byte count overflows.
    let export = dir.join("export");
    export_small(&export);
    let npy = |header: &str, data: usize| {
        let mut h = header.to_string();
        while !(10 + h.len() + 1).is_multiple_of(64) {
            h.push(' ');
        }
        h.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(h.len() as u16).to_le_bytes());
        b.extend_from_slice(h.as_bytes());
        b.extend(std::iter::repeat_n(0u8, data));
        b
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "train_y.npy",
            npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }", 2048),
            "needs 8000000000000 bytes",
        ),
        (
            "w_init.npy",
            npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 1), }", 2048),
            "too large",
        ),
        (
            "train_indptr.npy",
            [b"\x93NUMPY\x02\x00\xff\xff\xff\xff".as_slice(), &[b' '; 2048]].concat(),
            "header of 4294967295 bytes",
        ),
        (
            "test_data.npy",
            npy(
                &format!(
                    "{{'descr': '<f8', 'fortran_order': False, 'shape': {}1,{}, }}",
                    "(".repeat(3000),
                    ")".repeat(3000)
                ),
                8,
            ),
            "nested deeper",
        ),
    ];
    for (name, bytes, needle) in cases {
        let bad = copy_export(&export, &dir.join("bad"));
        std::fs::write(bad.join(name), &bytes).unwrap();
        refused(&["--import", s(&bad), "--quiet"], &[name, needle]);
    }
}

/// Class 1: a grid's memory grows with its cells, not with the whole grid's JSON at once: 250,000
/// cells expand within 1 GiB of address space (before, the grid hash built the JSON of every cell
/// in one value, about 11 KB per cell).
#[test]
fn a_large_grid_expands_in_bounded_memory() {
    let (_tmp, dir) = scratch("large-grid");
    let list = |n: usize, f: &dyn Fn(usize) -> String| (0..n).map(f).collect::<Vec<_>>().join(", ");
    let text = format!(
        "base = \"paper\"\n[fixed]\n\"train.steps\" = 1\n[axes]\nseed = [{}]\n\"model.lambda\" = [{}]\n",
        list(500, &|i| i.to_string()),
        list(500, &|i| format!("{}e-6", i + 1))
    );
    let g = file(&dir, "large.toml", &text);
    let o =
        wait(command_within(&["sweep", s(&g), "--dry-run"], 1 << 30).spawn().expect("spawn"), Duration::from_secs(120));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("grid ") && o.stdout.len() > 250_000 * 20);
}

/// Class 2: the derived-key expression parser refuses what is nested too deeply, in a grid and in
/// a path claim's grid.
#[test]
fn expression_depth_is_bounded() {
    let (_tmp, dir) = scratch("depth");
    let exprs = [
        format!("{}d{}", "(".repeat(3000), ")".repeat(3000)),
        format!("{}1", "-".repeat(500_000)),
        vec!["2"; 3000].join("^"),
        vec!["d"; 100_000].join(" + "),
        format!("{}d{}", "sqrt(".repeat(2000), ")".repeat(2000)),
    ];
    for e in &exprs {
        let g = file(&dir, "deep.toml", &grid(&format!("{AXES}\n[derived]\n\"data.alpha\" = \"{e}\"")));
        let o = refused(
            &["sweep", s(&g), "--dry-run"],
            &["deep.toml", "derived.data.alpha", "nested deeper than 100 levels"],
        );
        // The message quotes the start of the expression, not all of it.
        assert!(o.stderr.len() < 1000, "a message of {} bytes", o.stderr.len());
    }
    // 99 parentheses are fine.
    let g = file(
        &dir,
        "ok.toml",
        &grid(&format!("{AXES}\n[derived]\n\"data.alpha\" = \"{}0.5{}\"", "(".repeat(99), ")".repeat(99))),
    );
    let o = run(&["sweep", s(&g), "--dry-run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // A path claim's derived key.
    let text = std::fs::read_to_string("theorems/12-gap-opens-with-d.toml").expect("theorem 12");
    let axes_line = text.lines().find(|l| l.starts_with("axes = {")).expect("[path.check] axes");
    let deep = format!("{axes_line}\nderived = {{ \"data.alpha\" = \"{}1{}\" }}", "(".repeat(3000), ")".repeat(3000));
    let f = file(&dir, "path.toml", &text.replacen(axes_line, &deep, 1));
    refused(&["check", s(&f), "--quiet"], &["path.toml", "derived.data.alpha", "nested deeper"]);
}

/// Class 4: the files of a sweep folder are read by the one input reader: regular files only,
/// capped; a FIFO or a device there is refused at once (no hang, no unbounded read). The same cap
/// for an imported `manifest.json`.
#[test]
fn files_inside_output_folders_are_read_with_a_cap() {
    let (_tmp, dir) = scratch("output-reads");
    let out = finished_sweep(&dir, "sw");
    let cell = out.join("results").join("c0001.json");
    let start = Instant::now();
    for (what, make) in [
        ("a FIFO", Box::new(|p: &Path| mkfifo(p)) as Box<dyn Fn(&Path)>),
        ("a character device", Box::new(|p: &Path| symlink("/dev/zero", p))),
    ] {
        std::fs::remove_file(&cell).unwrap();
        make(&cell);
        refused(&["sweep", "merge", s(&out)], &["c0001.json", what]);
        let g = dir.join("sw.toml");
        refused(&["sweep", s(&g), "--out", s(&out), "--quiet"], &["c0001.json"]);
    }
    // Four refusals, each at once (a FIFO waited on would take the 1 s bound or hang).
    assert!(start.elapsed() < Duration::from_secs(20), "{:?}", start.elapsed());
    assert!(!out.join("sweep.jsonl").exists() && !out.join("sweep.md").exists(), "a merge wrote output");
    // A cell file larger than any cell is refused, not read to the end.
    std::fs::remove_file(&cell).unwrap();
    std::fs::write(&cell, vec![b' '; 5 << 20]).unwrap();
    refused(&["sweep", "merge", s(&out)], &["c0001.json", "larger than"]);
    // grid.json linked to /dev/zero.
    let out = finished_sweep(&dir, "sw2");
    std::fs::remove_file(out.join("grid.json")).unwrap();
    symlink("/dev/zero", &out.join("grid.json"));
    refused(&["sweep", "merge", s(&out)], &["grid.json", "character device"]);
    // An imported manifest.json linked to /dev/zero: refused after its cap, not at 2.7 GB.
    let import = dir.join("import");
    std::fs::create_dir(&import).unwrap();
    symlink("/dev/zero", &import.join("manifest.json"));
    refused(&["--import", s(&import), "--quiet"], &["manifest.json", "larger than 1048576 bytes"]);
}

/// Class 5: a sweep or merge never replaces a file that is not a regular file: a symbolic link, a
/// FIFO or a device is refused with exit 2 and nothing is written.
#[test]
fn outputs_never_replace_non_regular_files() {
    let (_tmp, dir) = scratch("output-writes");
    let out = finished_sweep(&dir, "sw");
    let elsewhere = file(&dir, "elsewhere.txt", "keep me\n");
    type Make<'a> = Box<dyn Fn(&Path) + 'a>;
    let cases: [(&str, Make, &str); 3] = [
        ("sweep.jsonl", Box::new(|p: &Path| symlink(&elsewhere, p)), "symbolic link"),
        ("sweep.md", Box::new(|p: &Path| mkfifo(p)), "a FIFO"),
        ("sweep.md", Box::new(|p: &Path| symlink("/dev/null", p)), "symbolic link"),
    ];
    for (name, make, needle) in cases {
        let target = out.join(name);
        make(&target);
        let before: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name()).collect();
        refused(&["sweep", "merge", s(&out)], &[name, needle]);
        let after: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(before, after, "{name}: the merge wrote into the folder");
        let kind = std::fs::symlink_metadata(&target).unwrap().file_type();
        assert!(!kind.is_file(), "{name} was replaced by a regular file");
        std::fs::remove_file(&target).unwrap();
    }
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "keep me\n");
    // A resumed sweep with a cell linked elsewhere: refused before any cell runs.
    let cell = out.join("results").join("c0002.json");
    std::fs::remove_file(&cell).unwrap();
    symlink(&elsewhere, &cell);
    let o = refused(&["sweep", s(&dir.join("sw.toml")), "--out", s(&out), "--quiet"], &["c0002.json", "symbolic link"]);
    assert!(o.stdout.is_empty());
    assert!(std::fs::symlink_metadata(&cell).unwrap().file_type().is_symlink(), "the link was replaced");
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "keep me\n");
}

/// Class 6: a sweep folder is claimed once: of two different grids started into one new folder
/// at the same time, exactly one runs; an unreadable or broken `grid.json` is an error, not an
/// empty folder.
#[test]
fn a_sweep_folder_is_claimed_once() {
    let (_tmp, dir) = scratch("claim");
    let a = file(&dir, "a.toml", &grid("[axes]\nseed = [1, 2, 3]"));
    let b = file(&dir, "b.toml", &grid("[axes]\nseed = [4, 5, 6]"));
    for trial in 0..12 {
        let out = dir.join(format!("out{trial}"));
        let start =
            |g: &Path| command(&["sweep", s(g), "--out", s(&out), "--quiet", "--threads", "1"]).spawn().expect("spawn");
        let (ca, cb) = (start(&a), start(&b));
        let (oa, ob) = (wait(ca, Duration::from_secs(60)), wait(cb, Duration::from_secs(60)));
        let codes = (oa.status.code(), ob.status.code());
        assert!(
            codes == (Some(0), Some(2)) || codes == (Some(2), Some(0)),
            "trial {trial}: {codes:?}: {} / {}",
            stderr(&oa),
            stderr(&ob)
        );
        let loser = if codes.0 == Some(2) { &oa } else { &ob };
        assert!(stderr(loser).contains("a folder of this grid"), "{}", stderr(loser));
        let merged = run(&["sweep", "merge", s(&out)]);
        assert!(merged.status.success(), "trial {trial}: the winner's cells are not all there: {}", stderr(&merged));
    }
    // The race made certain: `a` stalls 3 s between writing its claim's temporary file and moving
    // it into place; `b` claims the folder and runs meanwhile. `a` then finds the claim taken.
    let out = dir.join("stalled");
    let stalled = command(&["sweep", s(&a), "--out", s(&out), "--quiet", "--threads", "1"])
        .env("ADAMGAP_STALL_AFTER_FILES", "0")
        .env("ADAMGAP_STALL_SECONDS", "3")
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    let claim_written = || {
        std::fs::read_dir(&out)
            .is_ok_and(|d| d.flatten().any(|e| e.file_name().to_string_lossy().starts_with(".grid.json.")))
    };
    while !claim_written() {
        assert!(start.elapsed() < Duration::from_secs(20), "no temporary grid.json appeared");
        std::thread::sleep(Duration::from_millis(10));
    }
    let ob = run(&["sweep", s(&b), "--out", s(&out), "--quiet", "--threads", "1"]);
    assert!(ob.status.success(), "{}", stderr(&ob));
    let oa = wait(stalled, Duration::from_secs(60));
    assert_eq!(oa.status.code(), Some(2), "the stalled sweep took the folder over: {}", stderr(&oa));
    assert!(stderr(&oa).contains("a folder of this grid"), "{}", stderr(&oa));
    let merged = run(&["sweep", "merge", s(&out)]);
    assert!(merged.status.success(), "the first claim's cells are not all there: {}", stderr(&merged));
    // A broken claim is an error, never taken over.
    let out = dir.join("broken");
    std::fs::create_dir_all(out.join("results")).unwrap();
    for (text, needle) in [("{\"format\": \"adamgap-sweep-1\", ", "not the manifest"), ("\u{fffd}", "not the manifest")]
    {
        std::fs::write(out.join("grid.json"), text).unwrap();
        refused(&["sweep", s(&a), "--out", s(&out), "--quiet"], &["grid.json", needle]);
        assert_eq!(std::fs::read_to_string(out.join("grid.json")).unwrap(), text, "the claim was replaced");
    }
    // A claim that cannot be read: a dangling link (before, replaced by a new claim) and a folder.
    std::fs::remove_file(out.join("grid.json")).unwrap();
    symlink("/nonexistent/grid.json", &out.join("grid.json"));
    refused(&["sweep", s(&a), "--out", s(&out), "--quiet"], &["grid.json", "symbolic link"]);
    assert!(std::fs::symlink_metadata(out.join("grid.json")).unwrap().file_type().is_symlink());
    std::fs::remove_file(out.join("grid.json")).unwrap();
    std::fs::create_dir(out.join("grid.json")).unwrap();
    refused(&["sweep", s(&a), "--out", s(&out), "--quiet"], &["grid.json", "folder"]);
    assert_eq!(std::fs::read_dir(out.join("results")).unwrap().count(), 0, "cells were run into a broken folder");
}

/// Class 7: values that cannot mean anything are refused when the file is loaded, before any
/// training, naming the field.
#[test]
fn values_are_refused_at_load() {
    let (_tmp, dir) = scratch("load");
    let fails = |extra: &str| claim("expected = \"holds\"", &format!("expected = \"fails\"\n{extra}"));
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            claim("of = \"init.weight_norm\"\nfactor = 0.5", "value = nan"),
            vec!["check[0].value", "not a finite number"],
        ),
        (claim("factor = 0.5", "factor = nan"), vec!["check[0].factor", "not a finite number"]),
        (claim("factor = 0.5", "factor = 0.5\noffset = inf"), vec!["check[0].offset", "not a finite number"]),
        (format!("{CLAIM}[track]\nquantities = [\"gd.bogus\"]\n"), vec!["track.quantities[0]", "gd.bogus"]),
        (format!("{CLAIM}[track]\nquantities = [\"adam.loss\"]\n"), vec!["track.quantities[0]", "adam.loss"]),
        (
            format!("{CLAIM}[[ordering]]\nlabel = \"x\"\nitems = [\"a = gd.bogus\", \"gd.loss\"]\n"),
            vec!["ordering[0].items", "gd.bogus"],
        ),
        (
            format!("{CLAIM}[[ordering]]\nlabel = \"x\"\nitems = [\"nan\", \"gd.loss\"]\n"),
            vec!["ordering[0].items", "not a finite number"],
        ),
        (
            format!(
                "{CLAIM}[[check]]\nwhat = \"the weights shrink to half their initial norm\"\nquantity = \"gd.loss\"\nop = \"<=\"\nvalue = 1\n"
            ),
            vec!["check[1].what", "also the `what` of check[0]"],
        ),
        (
            fails(
                "expect_fail = [\"the weights shrink to half their initial norm\", \"the weights shrink to half their initial norm\"]",
            ),
            vec!["expect_fail", "listed twice"],
        ),
        (
            claim("scale = \"reduced\"", "scale = \"reduced\"\nsetting = { data = { s = 1000 } }"),
            vec!["data.s", "test.setting"],
        ),
    ];
    for (text, needles) in &cases {
        let f = file(&dir, "claim.toml", text);
        let mut n = vec!["claim.toml"];
        n.extend(needles);
        let start = Instant::now();
        refused(&["check", s(&f), "--quiet"], &n);
        assert!(start.elapsed() < Duration::from_secs(10), "{needles:?}: refused only after {:?}", start.elapsed());
    }
    // Two files with one id (a library load: the binary's `check` is to call it).
    let (a, b) = (file(&dir, "a.toml", CLAIM), file(&dir, "b.toml", CLAIM));
    let e = adamgap::claims::Theorem::load_files(&[a.clone(), b.clone()]).expect_err("duplicate ids");
    assert!(e.to_string().contains("b.toml") && e.to_string().contains("a.toml"), "{e}");
    assert!(adamgap::claims::Theorem::load_files(&[a]).is_ok());
    // A path claim reading an optimizer its grid does not run.
    let text = std::fs::read_to_string("theorems/12-gap-opens-with-d.toml").expect("theorem 12");
    let f = file(&dir, "path.toml", &text.replacen("\"last.gd.feature_max\"", "\"last.sign-gd.feature_max\"", 1));
    for scale in ["full", "test"] {
        refused(
            &["check", s(&f), "--quiet", "--scale", scale],
            &["path.toml", "check[4].quantity", "sign-gd", "runs only"],
        );
    }
    // Grids: duplicate axis values, an axis of an optimizer a cell does not run, [plot] naming an
    // unknown key, a key both fixed and an axis (held before).
    let grids = [
        ("[axes]\nseed = [1, 2, 1.0]", vec!["axes.seed", "same value"]),
        ("[axes]\n\"model.lambda\" = [1e-3, 0.001]", vec!["axes.model.lambda", "same value"]),
        (
            "[axes]\n\"optimizers.adam.eta\" = [1e-3, 1e-4]\noptimizers = [[\"gd\"]]",
            vec!["axes.optimizers.adam.eta", "does not run"],
        ),
        (
            "\"optimizers.adam.eta\" = 1e-3\n[axes]\noptimizers = [[\"gd\"], [\"gd\", \"adam\"]]",
            vec!["fixed.optimizers.adam.eta", "does not run"],
        ),
        ("[axes]\nseed = [1, 2]\n[plot]\nx = \"model.lambda\"", vec!["plot.x", "not an axis"]),
        ("[axes]\nseed = [1, 2]\n\"model.lambda\" = [1e-3, 1e-2]\n[plot]\nx = \"seed\"\ny = \"seed\"", vec!["plot.y"]),
        ("\"seed\" = 3\n[axes]\nseed = [1, 2]", vec!["fixed.seed", "also an axis"]),
    ];
    for (rest, needles) in &grids {
        let g = file(&dir, "g.toml", &grid(rest));
        let mut n = vec!["g.toml"];
        n.extend(needles);
        refused(&["sweep", s(&g), "--dry-run"], &n);
    }
    // An imported manifest whose s or noise contradicts its arrays.
    let export = dir.join("export");
    export_small(&export);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(export.join("manifest.json")).unwrap()).unwrap();
    let edits: [(&str, serde_json::Value, &[&str]); 3] = [
        ("s", 5.into(), &["manifest.json", "train_nnz", "s = 5"]),
        ("s", 11.into(), &["train_data.npy", "10 entries in columns 1..d", "s = 11"]),
        ("noise", "dense".into(), &["manifest.json", "train_nnz", "noise = dense"]),
    ];
    for (key, value, needles) in edits {
        let bad = copy_export(&export, &dir.join("bad"));
        let mut m = manifest.clone();
        m["setting"]["data"][key] = value;
        std::fs::write(bad.join("manifest.json"), serde_json::to_string_pretty(&m).unwrap()).unwrap();
        refused(&["--import", s(&bad), "--quiet"], needles);
    }
}

/// Runs `f` on a thread with a small stack (512 KiB, a quarter of a rayon worker's): a recursion
/// the depth limit does not bound overflows it.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(512 << 10).spawn(f).expect("thread").join().expect("no panic")
}

mod fuzz {
    use adamgap::interchange::import::{MAX_NPY_HEADER, npy_header};
    use adamgap::sweep::expr::Expr;
    use proptest::prelude::*;

    /// Expressions from the language's own tokens, deep nestings and long chains among them.
    fn expression() -> impl Strategy<Value = String> {
        let token = prop_oneof![
            Just("(".to_string()),
            Just(")".to_string()),
            Just("-".to_string()),
            Just("+".to_string()),
            Just("*".to_string()),
            Just("/".to_string()),
            Just("^".to_string()),
            Just(",".to_string()),
            Just(" ".to_string()),
            Just("sqrt(".to_string()),
            Just("max(".to_string()),
            Just("d".to_string()),
            Just("pi".to_string()),
            Just("1e-3".to_string()),
            Just(".".to_string()),
            any::<u8>().prop_map(|b| char::from(b).to_string()),
            (0u32..1000).prop_map(|v| v.to_string()),
        ];
        let random = prop::collection::vec(token, 0..200).prop_map(|t| t.concat());
        let deep = (0usize..5000, prop_oneof![Just("("), Just("-"), Just("sqrt("), Just("2^"), Just("1+")]).prop_map(
            |(n, open)| {
                let close = if open.ends_with('(') { ")" } else { "" };
                format!("{}d{}", open.repeat(n), close.repeat(n))
            },
        );
        prop_oneof![random, deep]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

        /// The parser answers every input (no panic, no stack overflow on a small stack), and an
        /// expression it accepts evaluates and lists its names without either.
        #[test]
        fn the_expression_parser_never_panics(text in expression()) {
            let ok = super::on_small_stack(move || match Expr::parse(&text) {
                Ok(e) => {
                    let _ = e.names();
                    let _ = e.eval(&|n| (n == "d").then_some(1000.0));
                    drop(e);
                    true
                }
                Err(m) => !m.is_empty(),
            });
            prop_assert!(ok);
        }
    }

    const GRID_KEYS: [&str; 12] = [
        "seed",
        "data.d",
        "data.n",
        "data.s",
        "model.lambda",
        "train.steps",
        "optimizers",
        "optimizers.adam.eta",
        "optimizers.sign-gd.eta",
        "data.noise",
        "model.nope",
        "plot.x",
    ];

    fn grid_value() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<i64>().prop_map(|v| v.to_string()),
            (0u32..300).prop_map(|v| v.to_string()),
            any::<f64>().prop_map(|v| format!("{v:?}")),
            Just("nan".to_string()),
            Just("-inf".to_string()),
            Just("\"sparse\"".to_string()),
            Just("[\"gd\"]".to_string()),
            Just("[\"adam\", \"gd\"]".to_string()),
            Just("[]".to_string()),
        ]
    }

    /// A near-valid grid file: random `[fixed]`, `[axes]` (lists of random values), `[derived]`
    /// expressions of the language's tokens, and `[plot]`.
    fn grid_file() -> impl Strategy<Value = String> {
        let fixed = prop::collection::vec((0..GRID_KEYS.len(), grid_value()), 0..4);
        let axes = prop::collection::vec((0..GRID_KEYS.len(), prop::collection::vec(grid_value(), 0..5)), 0..4);
        let derived = prop::collection::vec((0..GRID_KEYS.len(), expression()), 0..3);
        let plot = prop::option::of(0..GRID_KEYS.len());
        (fixed, axes, derived, plot).prop_map(|(fixed, axes, derived, plot)| {
            let mut t = String::from("base = \"paper\"\n[fixed]\n\"train.steps\" = 5\n");
            for (k, v) in fixed {
                t += &format!("\"{}\" = {v}\n", GRID_KEYS[k]);
            }
            t += "[axes]\n";
            for (k, vs) in axes {
                t += &format!("\"{}\" = [{}]\n", GRID_KEYS[k], vs.join(", "));
            }
            t += "[derived]\n";
            for (k, e) in derived {
                let e: String =
                    e.chars().filter(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\\') || *c == ' ').collect();
                t += &format!("\"{}\" = \"{e}\"\n", GRID_KEYS[k]);
            }
            if let Some(k) = plot {
                t += &format!("[plot]\nx = \"{}\"\n", GRID_KEYS[k]);
            }
            t
        })
    }

    /// A grid file that mostly expands: valid keys with values in range, duplicates and a
    /// dropped optimizer now and then, a derived key from a few sound expressions or a random one.
    fn valid_grid_file() -> impl Strategy<Value = String> {
        let seeds = prop::collection::vec(0u32..6, 1..4).prop_map(|v| format!("seed = [{}]", join(&v)));
        let d = prop::collection::vec(100u32..400, 1..3).prop_map(|v| format!("\"data.d\" = [{}]", join(&v)));
        let lambda = prop::collection::vec(1u32..5, 1..3).prop_map(|v| {
            format!("\"model.lambda\" = [{}]", v.iter().map(|k| format!("{k}e-4")).collect::<Vec<_>>().join(", "))
        });
        let opts = prop_oneof![Just("optimizers = [[\"gd\"], [\"adam\", \"gd\"]]"), Just("optimizers = [[\"adam\"]]")];
        let derived = prop_oneof![
            Just("round(sqrt(d))".to_string()),
            Just("max(2, round(d / 50))".to_string()),
            Just("10 - -1".to_string()),
            expression(),
        ];
        (
            seeds,
            prop::option::of(d),
            prop::option::of(lambda),
            prop::option::of(opts),
            prop::option::of(derived),
            any::<bool>(),
        )
            .prop_map(|(seeds, d, lambda, opts, derived, adam_eta)| {
                let mut t = String::from(
                    "base = \"paper\"\n[fixed]\n\"train.steps\" = 5\n\"data.n\" = 10\n\"data.test_size\" = 20\n",
                );
                if derived.is_none() {
                    t += "\"data.s\" = 5\n";
                }
                if adam_eta {
                    t += "\"optimizers.adam.eta\" = 1e-3\n";
                }
                t += &format!("[axes]\n{seeds}\n");
                for line in [d, lambda, opts.map(String::from)].into_iter().flatten() {
                    t += &format!("{line}\n");
                }
                if let Some(e) = derived {
                    let e: String =
                        e.chars().filter(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\\') || *c == ' ').collect();
                    t += &format!("[derived]\n\"data.s\" = \"{e}\"\n");
                }
                t
            })
    }

    fn join(v: &[u32]) -> String {
        v.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(", ")
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

        /// A grid file either expands (into at most the cell limit, every cell valid) or is refused
        /// with an error naming the file; no panic, on a small stack.
        #[test]
        fn grid_files_never_panic(text in prop_oneof![grid_file(), valid_grid_file()]) {
            let shown = text.clone();
            let r = super::on_small_stack(move || {
                adamgap::sweep::Grid::from_toml_str(&text, "fuzz.toml", None).map(|g| g.cells.len()).map_err(|e| e.to_string())
            });
            match r {
                Ok(cells) => prop_assert!((1..=adamgap::sweep::grid::MAX_CELLS).contains(&cells), "{shown}"),
                Err(e) => prop_assert!(e.contains("fuzz.toml"), "{e}\n{shown}"),
            }
        }
    }

    /// A `.npy` file: magic, version, header length (as given, or the real one), header text,
    /// data bytes.
    fn npy() -> impl Strategy<Value = Vec<u8>> {
        let header = prop_oneof![
            (prop::collection::vec(0usize..2000, 0..4), any::<bool>()).prop_map(|(shape, fortran)| {
                let dims: Vec<String> = shape.iter().map(|k| k.to_string()).collect();
                let comma = if dims.len() == 1 { "," } else { "" };
                format!(
                    "{{'descr': '<f8', 'fortran_order': {}, 'shape': ({}{comma}), }}",
                    if fortran { "True" } else { "False" },
                    dims.join(", ")
                )
            }),
            Just("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }".to_string()),
            Just("{'descr': '<f8', 'fortran_order': False, 'shape': (18446744073709551615, 2), }".to_string()),
            "[\\[\\](){}',:a-z0-9 ]{0,300}",
            (0usize..5000).prop_map(|n| format!("{}1{}", "(".repeat(n), ")".repeat(n))),
        ];
        let len = prop_oneof![Just(None), any::<u32>().prop_map(Some), (0u32..20_000).prop_map(Some)];
        (prop_oneof![Just(1u8), Just(2u8), Just(3u8), any::<u8>()], len, header, 0usize..40_000).prop_map(
            |(major, len, header, data)| {
                let mut h = header.into_bytes();
                h.push(b'\n');
                let mut b = b"\x93NUMPY".to_vec();
                b.extend([major, 0]);
                let n = len.unwrap_or(h.len() as u32);
                if major == 1 {
                    b.extend_from_slice(&(n as u16).to_le_bytes());
                } else {
                    b.extend_from_slice(&n.to_le_bytes());
                }
                b.extend(h);
                b.extend(std::iter::repeat_n(0u8, data));
                b
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

        /// The `.npy` header check answers every file (no panic, no allocation from the header's
        /// numbers, no deep recursion), and a header it accepts describes exactly the data after it.
        #[test]
        fn the_npy_header_check_never_panics(bytes in npy(), cut in any::<prop::sample::Index>()) {
            let cut = cut.index(bytes.len() + 1);
            for b in [bytes.clone(), bytes[..cut].to_vec()] {
                let total = b.len();
                let r = super::on_small_stack(move || npy_header(&b).map(|h| (h.shape, h.type_descriptor.as_string().cloned())));
                if let Ok((shape, descr)) = r
                    && descr.as_deref() == Some("<f8")
                {
                    let elements: usize = shape.iter().product();
                    prop_assert!(elements * 8 <= total && total <= elements * 8 + 12 + MAX_NPY_HEADER);
                }
            }
        }
    }
}

/// A cell file written by another grid is named as such in `sweep.md`, not only counted missing.
#[test]
fn cells_of_another_grid_are_named() {
    let (_tmp, dir) = scratch("foreign");
    let out = finished_sweep(&dir, "sw");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("grid.json")).unwrap()).unwrap();
    let hash = manifest["grid_hash"].as_str().unwrap().to_string();
    let cell = out.join("results").join("c0002.json");
    let text = std::fs::read_to_string(&cell).unwrap().replace(&hash, "0000000000000000");
    std::fs::write(&cell, text).unwrap();
    let o = run(&["sweep", "merge", s(&out), "--allow-missing"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let md = std::fs::read_to_string(out.join("sweep.md")).unwrap();
    assert!(md.contains("missing cells**: c0002"), "{md}");
    assert!(md.contains("written by another grid: c0002 (grid 0000000000000000)"), "{md}");
}

/// The import's checks of the noise against the setting refuse nothing an export writes: every
/// noise layout (dense noise, a separate feature-noise patch, more patches) reads back.
#[test]
fn exports_of_every_noise_layout_import() {
    let (_tmp, dir) = scratch("layouts");
    for extra in [
        &["--noise", "dense"][..],
        &["--feature-noise", "separate-patch"],
        &["--patches", "4"],
        &["--patches", "3", "--feature-noise", "separate-patch", "--noise", "dense"],
        &["--alpha", "0.000001"],
    ] {
        let export = dir.join("export");
        let _ = std::fs::remove_dir_all(&export);
        let mut a =
            vec!["--d", "60", "--n", "10", "--s", "7", "--m", "2", "--test-size", "20", "--steps", "3", "--quiet"];
        a.extend(extra);
        a.extend(["--export", s(&export)]);
        let o = run(&a);
        assert!(o.status.success(), "{extra:?}: {}", stderr(&o));
        let o = run(&["--import", s(&export), "--quiet"]);
        assert!(o.status.success(), "{extra:?}: the export does not import: {}", stderr(&o));
    }
}
