//! What the integration tests share: scratch folders, the binary, small settings, and (in
//! [`claims`]) the hand-made theorem files and measurements of the claims tests. Each test file
//! uses part of it.
#![allow(dead_code)]

pub mod claims;

use std::path::PathBuf;
use std::process::{Command, Output};

use adamgap::setting::Setting;

/// A scratch folder of its own (`adamgap-<name>-...` in the temporary folder), removed when the
/// guard drops (also when the test fails).
pub fn scratch(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::Builder::new().prefix(&format!("adamgap-{name}-")).tempdir().expect("temp dir");
    let dir = tmp.path().to_path_buf();
    (tmp, dir)
}

/// The path `name` (not created) in a scratch folder of its own, removed when the guard drops.
pub fn scratch_path(name: &str) -> (tempfile::TempDir, PathBuf) {
    let (tmp, dir) = scratch(name);
    (tmp, dir.join(name))
}

/// The binary, with none of the environment variables that change what it does (a Slurm array
/// task's shard, the sweep's testing aid).
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_adamgap"));
    for var in ["SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN", "ADAMGAP_SWEEP_FAIL_AFTER"] {
        c.env_remove(var);
    }
    c
}

/// Runs the binary with `args`.
pub fn adamgap(args: &[&str]) -> Output {
    adamgap_env(args, &[])
}

/// Runs the binary with `args` and the environment variables `env`.
pub fn adamgap_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = bin();
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("the binary runs")
}

/// The default setting at a small size: dimension `d`, `n` training samples, noise support `s`,
/// `test_size` test points, `m` filters per class.
pub fn small(d: usize, n: usize, s: usize, test_size: usize, m: usize) -> Setting {
    let mut setting = Setting::default();
    (setting.data.d, setting.data.n, setting.data.s, setting.data.test_size, setting.model.m) = (d, n, s, test_size, m);
    setting
}
