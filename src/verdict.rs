//! The one verdict type of the crate: `holds`, `fails`, or `inconclusive` with the reason (a
//! diverged run, a missing run, a tolerance not reached). Claims, the headline and the convex
//! certificate all report through it, so an unfinished check never reads as a confirmation.

use serde::{Deserialize, Serialize};

/// The outcome of checking one claim. In JSON `{"verdict": "holds"}`, or
/// `{"verdict": "inconclusive", "reason": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", content = "reason", rename_all = "kebab-case", deny_unknown_fields)]
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

/// A verdict's two JSON fields as written beside others (`#[serde(flatten)]`): `verdict` and,
/// for an inconclusive one, `reason`. Structs that flatten a [`Verdict`] read it back through this
/// (serde cannot reject unknown fields of a flattened struct): the reason is required exactly for
/// `inconclusive`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Label {
    Holds,
    Fails,
    Inconclusive,
}

impl Verdict {
    /// The verdict of a label and a reason, as read from a file; the error says what is wrong.
    pub fn from_parts(label: Label, reason: Option<String>) -> Result<Self, String> {
        match (label, reason) {
            (Label::Holds, None) => Ok(Self::Holds),
            (Label::Fails, None) => Ok(Self::Fails),
            (Label::Inconclusive, Some(r)) => Ok(Self::Inconclusive(r)),
            (Label::Inconclusive, None) => Err("an inconclusive verdict needs its `reason`".into()),
            (_, Some(_)) => Err("only an inconclusive verdict has a `reason`".into()),
        }
    }
}

/// One verdict line: the statement and its verdict. In JSON
/// `{"statement": "...", "verdict": "holds"}` (with `reason` when inconclusive).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "VerdictLineFile")]
pub struct VerdictLine {
    pub statement: String,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// A [`VerdictLine`] as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerdictLineFile {
    statement: String,
    verdict: Label,
    #[serde(default)]
    reason: Option<String>,
}

impl TryFrom<VerdictLineFile> for VerdictLine {
    type Error = String;
    fn try_from(f: VerdictLineFile) -> Result<Self, String> {
        Ok(Self { statement: f.statement, verdict: Verdict::from_parts(f.verdict, f.reason)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_lines_read_back_and_refuse_what_is_not_one() {
        let lines = [
            VerdictLine { statement: "a".into(), verdict: Verdict::Holds },
            VerdictLine { statement: "b".into(), verdict: Verdict::Inconclusive("why".into()) },
        ];
        let json = serde_json::to_string(&lines).expect("JSON");
        assert_eq!(
            json,
            r#"[{"statement":"a","verdict":"holds"},{"statement":"b","verdict":"inconclusive","reason":"why"}]"#
        );
        assert_eq!(serde_json::from_str::<Vec<VerdictLine>>(&json).expect("read back"), lines);
        for bad in [
            r#"{"statement":"a","verdict":"inconclusive"}"#,
            r#"{"statement":"a","verdict":"holds","reason":"x"}"#,
            r#"{"statement":"a","verdict":"holds","extra":1}"#,
            r#"{"statement":"a","verdict":"maybe"}"#,
            r#"{"verdict":"holds"}"#,
        ] {
            assert!(serde_json::from_str::<VerdictLine>(bad).is_err(), "{bad} read");
        }
    }
}
