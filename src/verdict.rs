//! The one verdict type of the crate: `holds`, `fails`, or `inconclusive` with the reason (a
//! diverged run, a missing run, a tolerance not reached). Claims, the headline and the convex
//! certificate all report through it, so an unfinished check never reads as a confirmation.

use serde::Serialize;

/// The outcome of checking one claim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", content = "reason", rename_all = "kebab-case")]
pub enum Verdict {
    Holds,
    Fails,
    Inconclusive(String),
}

impl Verdict {
    /// `holds` when `ok`, `fails` otherwise.
    pub fn from_bool(ok: bool) -> Self {
        if ok { Self::Holds } else { Self::Fails }
    }
    /// `yes`, `no`, or `inconclusive (reason)`, for the headline's verdict lines.
    pub fn yes_no(&self) -> String {
        match self {
            Self::Holds => "yes".into(),
            Self::Fails => "no".into(),
            Self::Inconclusive(r) => format!("inconclusive ({r})"),
        }
    }
    /// `holds`, `fails`, `inconclusive`.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Holds => "holds",
            Self::Fails => "fails",
            Self::Inconclusive(_) => "inconclusive",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Inconclusive(r) => write!(f, "inconclusive: {r}"),
            other => f.write_str(other.label()),
        }
    }
}

/// One verdict line: the statement and its verdict.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VerdictLine {
    pub statement: String,
    #[serde(flatten)]
    pub verdict: Verdict,
}
