//! The command line under hostile conditions (`docs/reliability.md`): closed pipes and full disks,
//! resource limits, values given for flags that do not apply. Every case runs the binary and checks
//! the exit code, that nothing panicked, that the message names the field or path, and that no
//! file was left behind.

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_adamgap"))
}

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

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("adamgap-reliability-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
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
    let dir = scratch("limits");
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
    let dir = scratch("memory");
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
