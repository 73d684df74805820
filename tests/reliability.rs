//! The command line under hostile conditions (`docs/reliability.md`): closed pipes and full disks,
//! resource limits, values given for flags that do not apply. Every case runs the binary and checks
//! the exit code, that nothing panicked, that the message names the field or path, and that no
//! file was left behind.

mod common;

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{bin, scratch};

/// A small setting that trains in well under a second.
const SMALL: &[&str] =
    &["--d", "100", "--n", "20", "--s", "10", "--m", "2", "--test-size", "50", "--steps", "20", "--quiet"];

/// A small convex comparison.
const SMALL_CONVEX: &[&str] =
    &["convex", "--d", "40", "--n", "10", "--s", "5", "--m", "2", "--test-size", "20", "--digits", "20"];

fn args<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<&'a str> {
    a.iter().chain(b).copied().collect()
}

/// Waits for `child` at most `limit` (then kills it and fails: a hang is a failure).
fn wait(mut child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > limit {
            child.kill().ok();
            panic!("the command did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn run(a: &[&str]) -> Output {
    wait(bin().args(a).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn"), Duration::from_secs(60))
}

/// Runs with stdout on `/dev/full`.
fn to_full_disk(a: &[&str]) -> Output {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
    wait(bin().args(a).stdout(full).stderr(Stdio::piped()).spawn().expect("spawn"), Duration::from_secs(60))
}

/// Runs with stdout on a pipe whose reading end is closed before the command starts.
fn to_closed_pipe(a: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    wait(bin().args(a).stdout(writer).stderr(Stdio::piped()).spawn().expect("spawn"), Duration::from_secs(60))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn no_panic(o: &Output, what: &str) {
    let e = stderr(o);
    assert!(!e.contains("panicked") && o.status.code() != Some(101), "{what} panicked: {e}");
}

/// Bad input: exit 2, the message names every needle, no output, no panic.
fn refused(a: &[&str], needles: &[&str]) {
    let o = run(a);
    no_panic(&o, &format!("{a:?}"));
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{a:?}: {e}");
    for n in needles {
        assert!(e.contains(n), "{a:?}: {n:?} not in {e:?}");
    }
    assert!(o.stdout.is_empty(), "{a:?} printed output");
}

#[test]
fn a_full_disk_is_an_error_with_a_message() {
    for a in [
        vec!["--help"],
        vec!["--version"],
        vec!["convex", "--help"],
        args(SMALL, &["--json"]),
        SMALL.to_vec(),
        args(SMALL_CONVEX, &["--json"]),
    ] {
        let o = to_full_disk(&a);
        no_panic(&o, &format!("{a:?}"));
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{a:?}: {e}");
        assert!(e.contains("cannot write to stdout") && e.contains("No space left on device"), "{a:?}: {e}");
    }
}

#[test]
fn a_closed_pipe_stops_quietly() {
    for a in [
        vec!["--help"],
        vec!["convex", "--help"],
        args(SMALL, &["--json"]),
        SMALL.to_vec(),
        args(SMALL_CONVEX, &["--json"]),
        args(SMALL_CONVEX, &[]),
    ] {
        let o = to_closed_pipe(&a);
        no_panic(&o, &format!("{a:?}"));
        assert_eq!(o.status.code(), Some(141), "{a:?}: {}", stderr(&o));
        assert!(o.stderr.is_empty(), "{a:?} wrote to stderr: {}", stderr(&o));
    }
}

#[test]
fn step_budgets_threads_and_config_files_are_bounded() {
    let (_tmp, dir) = scratch("limits");
    let report = dir.join("r.md");
    let report_arg = report.to_str().unwrap();
    refused(&["--steps", "18446744073709551615", "--report", report_arg], &["train.steps", "<= 1000000000"]);
    refused(&["convex", "--steps", "18446744073709551615"], &["--steps", "1..=1000000000"]);
    refused(&["--threads", "100000", "--report", report_arg], &["--threads", "1..=1024"]);
    refused(&["convex", "--threads", "0"], &["--threads", "1..=1024"]);
    refused(&["--config", "/dev/urandom"], &["/dev/urandom", "larger than 1048576 bytes"]);
    refused(&["convex", "--config", "/dev/urandom"], &["/dev/urandom", "larger than"]);
    assert!(!report.exists(), "a report was left behind");
    // The largest budget is accepted (and a small run with it is not what this test waits for).
    refused(&["--steps", "1000000000", "--d", "1"], &["data.d"]);
}

#[test]
fn settings_too_large_for_memory_are_refused_before_allocating() {
    let (_tmp, dir) = scratch("memory");
    let report = dir.join("r.md");
    let r = report.to_str().unwrap();
    let start = Instant::now();
    refused(&["--d", "1000000000", "--report", r, "--quiet"], &["memory", "d = 1000000000", "limit"]);
    refused(&["--n", "100000000", "--quiet"], &["memory", "n = 100000000"]);
    refused(&["--test-size", "10000000000", "--quiet"], &["memory", "test_size = 10000000000"]);
    refused(&["convex", "--d", "100000000"], &["memory", "d = 100000000"]);
    // An explicit limit: the default setting needs more than a kilobyte.
    refused(&args(SMALL, &["--max-memory", "1K"]), &["memory", "1.0 KiB (--max-memory)"]);
    refused(&["--max-memory", "lots"], &["--max-memory", "K, M, G, T"]);
    assert!(start.elapsed() < Duration::from_secs(20), "refusing took {:?}", start.elapsed());
    assert!(!report.exists(), "a report was left behind");
    // Within the limit the run goes ahead.
    let o = run(&args(SMALL, &["--max-memory", "1G", "--json"]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn values_are_checked_even_where_their_flag_does_not_apply() {
    refused(&args(SMALL, &["--optimizers", "gd", "--b1", "5"]), &["--b1", "0 <= value < 1"]);
    refused(&args(SMALL, &["--optimizers", "gd", "--eps=-3"]), &["--eps", ">= 0"]);
    refused(&args(SMALL, &["--optimizers", "gd", "--adam-eta=-1"]), &["--adam-eta", "> 0"]);
    refused(&args(SMALL, &["--optimizers", "adam", "--gd-eta=0"]), &["--gd-eta", "> 0"]);
    refused(&["--s", "60", "--d", "50", "--noise", "dense"], &["data.s", "1 <= s <= d - 1 = 49"]);
}

/// A run that took no step (`--grad-tol` met at `W^(0)`) or never left `W^(0)` (`--sigma0 0`: the
/// gradient of the polynomial ReLU vanishes at 0) gives no verdict from its untrained weights.
#[test]
fn verdicts_from_runs_that_never_trained_are_inconclusive() {
    for (extra, reason) in [
        (&["--grad-tol", "1e300"][..], "took no step (gradient-norm tolerance reached at step 0)"),
        (&["--sigma0", "0"][..], "never left its initialization in 20 steps"),
    ] {
        let o = run(&args(SMALL, extra));
        no_panic(&o, &format!("{extra:?}"));
        assert_eq!(o.status.code(), Some(0), "{extra:?}: {}", stderr(&o));
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            !text.contains(": yes") && !text.contains(": no\n"),
            "{extra:?}: a verdict from an untrained run:\n{text}"
        );
        assert!(text.contains(reason), "{extra:?}: {reason:?} not in\n{text}");
    }
}

/// A non-finite output is an error, never a correct prediction: NaN weights give error rate 1.
#[test]
fn non_finite_outputs_count_as_errors() {
    use adamgap::data::PatchData;
    use adamgap::model::{Cnn, Weights};
    use adamgap::setting::Setting;
    let mut s = Setting::default();
    (s.data.d, s.data.n, s.data.s, s.data.test_size, s.model.m) = (50, 10, 5, 40, 2);
    let (train, test) = PatchData::train_test(&s.data, 3);
    let model = Cnn::from_setting(&s.model, s.data.d);
    let nan = Weights::init(s.data.d, s.model.m, f64::NAN, 3);
    let mut ws = model.workspace(test.patches);
    assert_eq!(model.error_rate(&nan, &test, &mut ws), 1.0);
    let mut g = vec![0.0; nan.as_slice().len()];
    let mut ws = model.workspace(train.patches);
    let eval = model.loss_grad(nan.as_slice(), &train, &mut g, &mut ws);
    assert_eq!(eval.errors, train.len(), "training errors count NaN margins");
}

/// `convex --digits` allows what the refinement delivers: 250 digits are reached, 251 refused.
#[test]
fn convex_digits_range_is_what_the_refinement_delivers() {
    refused(&["convex", "--digits", "251"], &["--digits", "1..=250"]);
    let small = ["convex", "--d", "40", "--n", "10", "--s", "5", "--m", "2", "--test-size", "20"];
    let o = run(&args(&small, &["--digits", "250", "--json"]));
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["minimizer"]["reached"], serde_json::json!(true), "{}", v["minimizer"]);
    assert!(v["minimizer"]["radius_u"].as_f64().unwrap() <= 1e-250);
}

/// Every entry of `dir` (name, and for a symbolic link its target), to compare before and after.
fn listing(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .expect("list")
        .map(|e| {
            let e = e.expect("entry");
            let link = std::fs::read_link(e.path()).map(|p| p.display().to_string()).unwrap_or_default();
            (e.file_name().to_string_lossy().into_owned(), link)
        })
        .collect();
    v.sort();
    v
}

/// The four output folders; a run with `--steps 1000000000` that would train for hours.
fn output_commands(path: &str) -> Vec<Vec<String>> {
    let long_run = ["--steps", "1000000000", "--quiet"];
    let long_convex = ["convex", "--steps", "1000000000"];
    [
        args(&long_run, &["--report", path]),
        args(&long_run, &["--export", path]),
        args(&long_convex, &["--export", path]),
        args(&long_convex, &["--report", path]),
    ]
    .into_iter()
    .map(|a| a.into_iter().map(String::from).collect())
    .collect()
}

/// A bad output path fails before any work (the runs would take hours), names the user's path and
/// never the staging folder, and leaves everything as it was: a symbolic link (to a folder of our
/// files), a FIFO, a regular file, a folder holding a foreign file, a missing parent, a parent
/// that is a file.
#[test]
fn bad_output_paths_fail_before_any_work_and_touch_nothing() {
    let (_tmp, dir) = scratch("paths");
    let real = dir.join("real");
    std::fs::create_dir(&real).unwrap();
    std::fs::write(real.join("report.md"), "old").unwrap();
    std::os::unix::fs::symlink(&real, dir.join("link")).unwrap();
    let fifo = dir.join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().expect("mkfifo").success());
    std::fs::write(dir.join("file"), "mine").unwrap();
    std::fs::create_dir(dir.join("foreign")).unwrap();
    std::fs::write(dir.join("foreign/notes.txt"), "mine").unwrap();
    let before = listing(&dir);
    let cases = [
        ("link", "symbolic link"),
        ("fifo", "not a folder"),
        ("file", "not a folder"),
        ("foreign", "notes.txt"),
        ("missing/out", "missing"),
        ("file/out", "not a folder"),
    ];
    for (name, why) in cases {
        let path = dir.join(name);
        let path = path.to_str().unwrap();
        for a in output_commands(path) {
            let a: Vec<&str> = a.iter().map(String::as_str).collect();
            let start = Instant::now();
            let o = wait(
                bin().args(&a).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn"),
                Duration::from_secs(30),
            );
            no_panic(&o, &format!("{a:?}"));
            let e = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{a:?}: {e}");
            assert!(e.contains(path) && e.contains(why), "{a:?}: {e}");
            assert!(!e.contains(".tmp"), "{a:?} names the staging folder: {e}");
            assert!(start.elapsed() < Duration::from_secs(10), "{a:?} refused after {:?}", start.elapsed());
        }
    }
    assert_eq!(listing(&dir), before, "something changed");
    assert_eq!(std::fs::read_to_string(real.join("report.md")).unwrap(), "old");
    assert_eq!(std::fs::read_link(dir.join("link")).unwrap(), real);
    // The same folder for --report and --export.
    let same = dir.join("same");
    let same = same.to_str().unwrap();
    refused(&["convex", "--export", same, "--report", same], &["--export", same, "other than --report"]);
}

/// A legal name of 250 characters works (the staging folder falls back to a short name), and
/// writing again replaces the folder; no hidden folder is left.
#[test]
fn long_output_names_work_and_are_replaced_whole() {
    let (_tmp, dir) = scratch("long");
    let long = dir.join("r".repeat(250));
    let l = long.to_str().unwrap();
    for _ in 0..2 {
        let o = run(&args(SMALL, &["--report", l]));
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(long.join("report.md").is_file());
        assert_eq!(listing(&dir).len(), 1, "{:?}", listing(&dir));
    }
    let export = dir.join("e".repeat(250));
    for _ in 0..2 {
        let o = run(&args(SMALL_CONVEX, &["--export", export.to_str().unwrap()]));
        assert!(o.status.code().is_some_and(|c| c <= 1), "{}", stderr(&o));
        assert!(export.join("manifest.json").is_file());
        assert_eq!(listing(&dir).len(), 2, "{:?}", listing(&dir));
    }
}

/// The pid of a process that has exited.
fn dead_pid() -> u32 {
    let mut c = Command::new("true").spawn().expect("spawn true");
    let pid = c.id();
    c.wait().unwrap();
    pid
}

/// A staging folder left by a killed process is removed by the next run writing the same folder;
/// one of a live process (this test) is not.
#[test]
fn staging_folders_of_dead_processes_are_cleaned() {
    let (_tmp, dir) = scratch("stale");
    let stale = dir.join(format!(".out.tmp{}", dead_pid()));
    let alive = dir.join(format!(".out.tmp{}", std::process::id()));
    for p in [&stale, &alive] {
        std::fs::create_dir(p).unwrap();
        std::fs::write(p.join("report.md"), "half").unwrap();
    }
    let out = dir.join("out");
    let o = run(&args(SMALL, &["--report", out.to_str().unwrap()]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stale.exists(), "the stale staging folder is still there");
    assert!(alive.join("report.md").exists(), "the live process's folder was removed");
}

/// SIGTERM and SIGINT while a report is being written: the staging folder is removed, the exit
/// code is 128 + the signal, and an existing report folder stays as it was.
#[test]
fn signals_remove_the_staging_folder() {
    for (signal, code) in [("TERM", 143), ("INT", 130)] {
        let (_tmp, dir) = scratch(&format!("signal-{signal}"));
        let out = dir.join("out");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("report.md"), "old").unwrap();
        let child = bin()
            .args(args(SMALL, &["--report", out.to_str().unwrap()]))
            .env("ADAMGAP_STALL_AFTER_FILES", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let staged = dir.join(format!(".out.tmp{}", child.id())).join("report.md");
        let start = Instant::now();
        while !staged.exists() {
            assert!(start.elapsed() < Duration::from_secs(30), "no staging folder appeared");
            std::thread::sleep(Duration::from_millis(10));
        }
        let sent = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap();
        assert!(sent.success());
        let o = wait(child, Duration::from_secs(20));
        no_panic(&o, signal);
        assert_eq!(o.status.code(), Some(code), "SIG{signal}: {}", stderr(&o));
        assert_eq!(listing(&dir), vec![("out".to_string(), String::new())], "SIG{signal}");
        assert_eq!(std::fs::read_to_string(out.join("report.md")).unwrap(), "old");
    }
}

/// Opens the FIFO `fifo` for writing as soon as a reader has it open (at most `limit`), writes
/// `text` and closes it.
fn write_to_fifo(fifo: &std::path::Path, text: &str, limit: Duration) {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let start = Instant::now();
    loop {
        match std::fs::OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(fifo) {
            Ok(mut f) => {
                f.write_all(text.as_bytes()).expect("write to the FIFO");
                return;
            }
            // ENXIO: no process has the FIFO open for reading yet.
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
                assert!(start.elapsed() < limit, "no process opened {} for reading", fifo.display());
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("{}: {e}", fifo.display()),
        }
    }
}

fn mkfifo(path: &std::path::Path) {
    assert!(Command::new("mkfifo").arg(path).status().expect("mkfifo").success());
}

/// The config of [`SMALL`] as a file (`data.d = 100` tells it from the default).
const SMALL_CONFIG: &str = "[data]\nd = 100\nn = 20\ns = 10\ntest_size = 50\n[model]\nm = 2\n[train]\nsteps = 20\n";

/// A FIFO that no process writes to: every input the CLI reads (`--config` of run and convex,
/// theorem files given or found by `--theorems`, a grid file, a file of an `--import` folder) is
/// refused with exit 2 once the bound (`ADAMGAP_FIFO_WAIT`, 1 s here) has passed, after saying on
/// stderr what it waits for; the message names the flag and the path. Before, the command hung.
#[test]
fn a_fifo_without_a_writer_fails_within_the_bound() {
    let (_tmp, dir) = scratch("fifo-none");
    let fifo = dir.join("c.toml");
    mkfifo(&fifo);
    let theorems = dir.join("theorems");
    std::fs::create_dir(&theorems).unwrap();
    mkfifo(&theorems.join("01.toml"));
    let import = dir.join("import");
    std::fs::create_dir(&import).unwrap();
    mkfifo(&import.join("manifest.json"));
    let out = dir.join("out");
    let f = fifo.to_str().unwrap();
    let cases: [(Vec<&str>, &str, String); 6] = [
        (vec!["--config", f, "--quiet"], "(--config)", f.to_string()),
        (vec!["convex", "--config", f], "(--config)", f.to_string()),
        (vec!["check", f], "", f.to_string()),
        (vec!["check", "--theorems", theorems.to_str().unwrap()], "(--theorems)", "01.toml".to_string()),
        (vec!["sweep", f, "--out", out.to_str().unwrap()], "", f.to_string()),
        (vec!["--import", import.to_str().unwrap(), "--quiet"], "(--import)", "manifest.json".to_string()),
    ];
    for (a, flag, path) in cases {
        let start = Instant::now();
        let child = bin()
            .args(&a)
            .env("ADAMGAP_FIFO_WAIT", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let o = wait(child, Duration::from_secs(20));
        no_panic(&o, &format!("{a:?}"));
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{a:?}: {e}");
        assert!(start.elapsed() < Duration::from_secs(10), "{a:?} refused after {:?}", start.elapsed());
        assert!(e.contains("waiting up to 1 s for a process to write to the FIFO"), "{a:?}: {e}");
        assert!(e.contains("no process opened for writing within 1 s"), "{a:?}: {e}");
        assert!(e.contains(flag) && e.contains(&path), "{a:?}: {flag} or {path} not in {e}");
        assert!(o.stdout.is_empty(), "{a:?} printed output");
    }
    assert!(!out.exists(), "the sweep left its folder");
    // A bound that is not a number of seconds is refused, naming the variable.
    let o = wait(
        bin().args(["--config", f]).env("ADAMGAP_FIFO_WAIT", "soon").stderr(Stdio::piped()).spawn().expect("spawn"),
        Duration::from_secs(20),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("ADAMGAP_FIFO_WAIT") && stderr(&o).contains("seconds"), "{}", stderr(&o));
}

/// A FIFO whose writer comes a second after the command opened it is read (the default bound,
/// 10 s), and so are pipes of process substitution, also one whose writer takes longer than the
/// bound to write (the command says so and keeps waiting, as `cat` does).
#[test]
fn fifos_and_pipes_with_a_writer_are_read() {
    let (_tmp, dir) = scratch("fifo-late");
    let fifo = dir.join("c.toml");
    mkfifo(&fifo);
    let child = bin()
        .args(["--config", fifo.to_str().unwrap(), "--quiet", "--json"])
        .env_remove("ADAMGAP_FIFO_WAIT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_secs(1));
    write_to_fifo(&fifo, SMALL_CONFIG, Duration::from_secs(20));
    let o = wait(child, Duration::from_secs(60));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["setting"]["data"]["d"], 100, "the config read from the FIFO");
    assert!(stderr(&o).contains("waiting up to 10 s"), "{}", stderr(&o));
    // Process substitution: /dev/fd/N pipes, whose writer finished already or is slower than the bound.
    let config = dir.join("small.toml");
    std::fs::write(&config, SMALL_CONFIG).unwrap();
    let bin = env!("CARGO_BIN_EXE_adamgap");
    for (writer, slow) in [("cat", false), ("sleep 2; cat", true)] {
        let script = format!("'{bin}' --config <({writer} '{}') --quiet --json", config.display());
        let child = Command::new("bash")
            .args(["-c", &script])
            .env("ADAMGAP_FIFO_WAIT", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("bash");
        let o = wait(child, Duration::from_secs(60));
        assert_eq!(o.status.code(), Some(0), "{writer}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
        assert_eq!(v["setting"]["data"]["d"], 100, "{writer}");
        assert_eq!(stderr(&o).contains("has not finished after 1 s"), slow, "{writer}: {}", stderr(&o));
    }
}

/// A sweep of 4 tiny cells.
const SWEEP_GRID: &str = "base = \"paper\"\n[fixed]\n\"data.d\" = 200\n\"data.n\" = 20\n\"model.m\" = 4\n\
\"train.steps\" = 60\n\"data.test_size\" = 200\n\"data.s\" = 14\n[axes]\n\"model.lambda\" = [1e-5, 1e-3]\nseed = [1, 2]\n";

fn sweep(grid: &str, out: &std::path::Path, env: &[(&str, &str)]) -> Child {
    let mut c = bin();
    c.args(["sweep", grid, "--out", out.to_str().unwrap(), "--threads", "1", "--quiet"]);
    for v in ["SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "ADAMGAP_SWEEP_FAIL_AFTER", "ADAMGAP_STALL_AFTER_FILES"]
    {
        c.env_remove(v);
    }
    c.envs(env.iter().copied()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn")
}

/// The hidden temporary files (`.NAME.<host>.<pid>.<nanos>.<serial>.tmp`) in `dir`, sorted.
fn temp_files(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n.ends_with(".tmp"))
        .collect();
    v.sort();
    v
}

/// Starts a sweep that stalls once its third file (grid.json, c0000, then c0001) is written to its
/// temporary name, and returns it with that name once it exists.
fn stalled_sweep(grid: &str, out: &std::path::Path) -> (Child, String) {
    let mut child = sweep(grid, out, &[("ADAMGAP_STALL_AFTER_FILES", "2")]);
    let start = Instant::now();
    let results = out.join("results");
    while start.elapsed() < Duration::from_secs(60) {
        if let Some(f) = results.is_dir().then(|| temp_files(&results)).and_then(|v| v.into_iter().next()) {
            return (child, f);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().ok();
    child.wait().ok();
    panic!("no temporary cell file appeared within a minute");
}

fn kill(child: &Child, signal: &str) {
    assert!(Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap().success());
}

/// The per-cell temporary files of a sweep: SIGTERM removes the process's own; after a SIGKILL the
/// next sweep or merge removes those of dead processes of this host, never another host's or a
/// live process's (Slurm arrays share the folder); the results are those of an uninterrupted sweep.
#[test]
fn sweep_temporary_files_of_dead_processes_are_removed() {
    let (_tmp, dir) = scratch("sweep-temp");
    let grid_path = dir.join("grid.toml");
    std::fs::write(&grid_path, SWEEP_GRID).unwrap();
    let grid = grid_path.to_str().unwrap();
    // SIGTERM: the temporary file goes with the process.
    let term = dir.join("term");
    let (child, _) = stalled_sweep(grid, &term);
    kill(&child, "TERM");
    let o = wait(child, Duration::from_secs(20));
    assert_eq!(o.status.code(), Some(143), "{}", stderr(&o));
    assert_eq!(temp_files(&term.join("results")), Vec::<String>::new(), "SIGTERM left a temporary file");
    // SIGKILL leaves it.
    let out = dir.join("out");
    let (child, stale) = stalled_sweep(grid, &out);
    let pid = child.id().to_string();
    kill(&child, "KILL");
    wait(child, Duration::from_secs(20));
    let results = out.join("results");
    assert_eq!(temp_files(&results), [stale.as_str()], "the killed sweep's temporary file");
    let done = std::fs::read(results.join("c0000.json")).expect("the first cell");
    // `.c0001.json.<host>.<pid>.<nanos>.<serial>.tmp`: the same name with this (live) process's
    // pid, and with another host's name.
    let fields: Vec<&str> = stale.strip_suffix(".tmp").expect("a temporary name").rsplitn(5, '.').collect();
    let (host, nanos_serial) = (fields[3], format!("{}.{}.tmp", fields[1], fields[0]));
    assert_eq!(fields[2], pid, "{stale}");
    let live = format!(".c0001.json.{host}.{}.{nanos_serial}", std::process::id());
    let other_host = format!(".c0001.json.elsewhere.{pid}.{nanos_serial}");
    for f in [&live, &other_host] {
        std::fs::write(results.join(f), "{}").unwrap();
    }
    let o = wait(sweep(grid, &out, &[]), Duration::from_secs(60));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("ran 3, skipped 1"), "{}", String::from_utf8_lossy(&o.stdout));
    let mut kept = vec![live.clone(), other_host.clone()];
    kept.sort();
    assert_eq!(temp_files(&results), kept, "the stale file stays, or another's was removed");
    assert_eq!(std::fs::read(results.join("c0000.json")).unwrap(), done, "a finished cell changed");
    // The merge removes one the dead process left in the sweep folder (as a killed merge leaves
    // it), and merges to the bytes of an uninterrupted sweep.
    std::fs::write(out.join(format!(".sweep.md.{host}.{pid}.{nanos_serial}")), "half").unwrap();
    let merged = |d: &std::path::Path| {
        let o = run(&["sweep", "merge", d.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        std::fs::read(d.join("sweep.jsonl")).expect("sweep.jsonl")
    };
    let resumed = merged(&out);
    assert_eq!(temp_files(&out), Vec::<String>::new(), "the merge left the stale file");
    let fresh = dir.join("fresh");
    assert_eq!(wait(sweep(grid, &fresh, &[]), Duration::from_secs(60)).status.code(), Some(0));
    assert_eq!(resumed, merged(&fresh), "the resumed sweep merges to other bytes");
}

/// Runs `a` with files limited to `bytes` (RLIMIT_FSIZE, SIGXFSZ ignored): a write past the limit
/// fails with EFBIG as on a full disk, while stdout and stderr (pipes) are not limited.
fn with_file_size_limit(a: &[&str], bytes: u64) -> Output {
    use std::os::unix::process::CommandExt as _;
    let mut c = bin();
    c.args(a).env_remove("ADAMGAP_STALL_AFTER_FILES").stdout(Stdio::piped()).stderr(Stdio::piped());
    // SAFETY: only async-signal-safe calls (signal, setrlimit) between fork and exec.
    unsafe {
        c.pre_exec(move || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit { rlim_cur: bytes, rlim_max: bytes };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
        });
    }
    wait(c.spawn().expect("spawn"), Duration::from_secs(60))
}

/// A write that fails while a command writes its results (a file too large, the failure hook) is
/// a failure of the run: exit 1, `cannot write` and the file, nothing partial left. A file given
/// that cannot be read stays bad input: exit 2.
#[test]
fn write_failures_exit_1_and_read_failures_exit_2() {
    let (_tmp, dir) = scratch("write-errors");
    let report = dir.join("report");
    let r = report.to_str().unwrap();
    let o = with_file_size_limit(&args(SMALL, &["--report", r]), 2000);
    no_panic(&o, "--report with a file size limit");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot write") && stderr(&o).contains("File too large"), "{}", stderr(&o));
    assert!(stderr(&o).contains(r) && !stderr(&o).contains(".tmp"), "{}", stderr(&o));
    assert_eq!(listing(&dir), [], "a partial report was left");
    let grid = dir.join("grid.toml");
    std::fs::write(&grid, SWEEP_GRID).unwrap();
    let out = dir.join("sweep");
    let o = with_file_size_limit(&["sweep", grid.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"], 2000);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot write") && stderr(&o).contains("results/c0000.json"), "{}", stderr(&o));
    assert_eq!(temp_files(&out.join("results")), Vec::<String>::new(), "a temporary cell file was left");
    std::fs::remove_file(&grid).unwrap();
    std::fs::remove_dir_all(&out).unwrap();
    // The failure hook of the output folders, in a convex report.
    let o = wait(
        bin()
            .args(args(SMALL_CONVEX, &["--report", r]))
            .env("ADAMGAP_FAIL_AFTER_FILES", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn"),
        Duration::from_secs(60),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot write") && stderr(&o).contains("on purpose"), "{}", stderr(&o));
    assert_eq!(listing(&dir), [], "a partial report was left");
    // Read side: bad input, exit 2, naming the flag.
    let missing = dir.join("missing.toml");
    refused(&["--config", missing.to_str().unwrap()], &["cannot access", "missing.toml (--config)"]);
    refused(&["--import", dir.to_str().unwrap()], &["manifest.json (--import)"]);
}
