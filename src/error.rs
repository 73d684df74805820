//! The crate's one error type. Messages say what was wrong and how to fix the call.

use std::fmt::Display;

/// Everything that can go wrong before or around a computation. A computation that runs but does
/// not converge is not an error: it is a [`crate::optim::StopReason`] or an inconclusive verdict.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parameter outside its allowed range.
    #[error("invalid value for `{field}`: {value} (allowed: {allowed})")]
    InvalidParameter { field: String, value: String, allowed: String },
    /// A config or theorem file that does not parse.
    #[error("cannot parse {origin}: {message}")]
    Config { origin: String, message: String },
    /// A file given that cannot be read, or an output path that cannot receive the output
    /// (bad input: exit code 2 in the binary).
    #[error("cannot access {path}: {message}")]
    Io { path: String, message: String },
    /// A write that failed while the command wrote its results to a path that passed its checks
    /// (a full disk, a file too large): a failure of the run, not of its input (exit code 1).
    #[error("cannot write {path}: {message}")]
    Write { path: String, message: String },
    /// Arrays whose shapes do not fit together.
    #[error("shape mismatch in {what}: expected {expected}, found {found}")]
    Shape { what: String, expected: String, found: String },
    /// A setting whose estimated memory exceeds the limit ([`crate::memory`]).
    #[error("the computation needs about {needed} of memory, above the limit of {limit}; largest parts: {parts}")]
    TooLarge { needed: String, limit: String, parts: String },
    /// A numerical computation that cannot give an answer (e.g. a certificate on a non-finite point).
    #[error("{0}")]
    Numerical(String),
}

impl Error {
    /// An out-of-range parameter: `field`, the offending `value`, and the `allowed` range in words.
    pub fn invalid(field: &str, value: impl Display, allowed: impl Display) -> Self {
        Self::InvalidParameter { field: field.to_string(), value: value.to_string(), allowed: allowed.to_string() }
    }

    /// An I/O failure on `path`, a file given or an output path being checked.
    pub fn io(path: impl AsRef<std::path::Path>, err: impl Display) -> Self {
        Self::Io { path: path.as_ref().display().to_string(), message: err.to_string() }
    }

    /// A failed write of a result to `path` ([`Error::Write`]).
    pub fn write(path: impl AsRef<std::path::Path>, err: impl Display) -> Self {
        Self::Write { path: path.as_ref().display().to_string(), message: err.to_string() }
    }

    /// Names the flag that gave the file of an [`Error::Io`] (`cannot access PATH (--config): ...`);
    /// other errors are returned unchanged.
    #[must_use]
    pub fn given_by(self, flag: &str) -> Self {
        match self {
            Self::Io { path, message } => Self::Io { path: format!("{path} ({flag})"), message },
            other => other,
        }
    }

    /// Whether this is a failure of the computation or of writing its results (exit code 1), not
    /// of the input (exit code 2).
    pub fn is_runtime(&self) -> bool {
        matches!(self, Self::Numerical(_) | Self::Write { .. })
    }
}

/// `Result` with the crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
