//! The one way the binary writes to stdout and stderr, and how a command ends.
//!
//! Every write goes through [`stdout`] or [`stderr`], which flush and report failures instead of
//! panicking (as `println!` does): a closed pipe (`adamgap | head -1`) stops the command quietly
//! with exit code [`CLOSED_PIPE`] (128 + SIGPIPE, what a shell reports for a Unix tool stopped by
//! a closed pipe); any other write error (a full disk) is reported on stderr with exit code 1.
//! Exit codes (`docs/reliability.md`): 0 ok, 1 verdict mismatch or runtime failure, 2 bad input.

use std::io::{self, Write};

/// Exit code of a quiet stop on a closed pipe.
pub const CLOSED_PIPE: i32 = 141;

/// How a command failed.
#[derive(Debug)]
pub enum Failure {
    /// An error of the library: bad input (exit 2), or a computation that cannot answer or a
    /// failed write of its results (exit 1).
    Lib(adamgap::Error),
    /// The reader of stdout or stderr went away: stop quietly.
    Closed,
    /// Writing to `stream` failed for another reason (a full disk).
    Write { stream: &'static str, err: io::Error },
}

impl From<adamgap::Error> for Failure {
    fn from(e: adamgap::Error) -> Self {
        Self::Lib(e)
    }
}

/// A command's result: its exit code, or how it failed.
pub type CliResult<T> = std::result::Result<T, Failure>;

fn classify(stream: &'static str, err: io::Error) -> Failure {
    if err.kind() == io::ErrorKind::BrokenPipe { Failure::Closed } else { Failure::Write { stream, err } }
}

/// Writes `text` to stdout and flushes.
pub fn stdout(text: &str) -> CliResult<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(|e| classify("stdout", e))
}

/// Writes `text` to stderr.
pub fn stderr(text: &str) -> CliResult<()> {
    let mut err = io::stderr().lock();
    err.write_all(text.as_bytes()).and_then(|()| err.flush()).map_err(|e| classify("stderr", e))
}

/// Pretty JSON of `value` and a newline on stdout.
pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> CliResult<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::Lib(adamgap::Error::Numerical(format!("cannot write JSON: {e}"))))?;
    stdout(&(text + "\n"))
}

/// The exit code of a failure, after its message on stderr (best effort: when stderr itself
/// fails there is nowhere left to report to, and the exit code says it).
pub fn exit_code(failure: Failure) -> i32 {
    let (message, code) = match failure {
        Failure::Closed => return CLOSED_PIPE,
        Failure::Write { stream, err } => (format!("error: cannot write to {stream}: {err}\n"), 1),
        Failure::Lib(e) if e.is_runtime() => (format!("error: {e}\n"), 1),
        Failure::Lib(e) => (format!("error: {e}\n"), 2),
    };
    match stderr(&message) {
        Ok(()) => code,
        Err(Failure::Closed) => CLOSED_PIPE,
        Err(_) => code.max(1),
    }
}

/// What clap's own exit would do (help and version on stdout with exit 0, usage errors on stderr
/// with exit 2), with write failures handled like every other write.
pub fn clap_exit(e: &clap::Error) -> i32 {
    let written = e.print().and_then(|()| if e.use_stderr() { io::stderr().flush() } else { io::stdout().flush() });
    match written {
        Ok(()) => e.exit_code(),
        Err(err) => exit_code(classify(if e.use_stderr() { "stderr" } else { "stdout" }, err)),
    }
}
