//! The report of a checked claim: what `adamgap check` prints and `tests/claims.rs` snapshots.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::evaluate::{CheckOutcome, Outcome};
use super::measure::RunInfo;
use super::theorem::{ClaimKind, Expected, IfFalse, is_certified};
use crate::format::{Align, Table, sig};
use crate::setting::Setting;
use crate::verdict::Verdict;

/// How a claim's verdict compares with the expected one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The verdict is the expected one.
    AsExpected,
    /// The verdict differs from the expected one: `adamgap check` exits 1 and the test fails.
    Mismatch,
    /// The verdict differs from the expected one, but the claim is marked `pending`.
    Pending,
}

impl Status {
    /// `ok`, `MISMATCH`, `PENDING`.
    pub fn label(self) -> &'static str {
        match self {
            Self::AsExpected => "ok",
            Self::Mismatch => "MISMATCH",
            Self::Pending => "PENDING",
        }
    }
}

/// One row of the tracked-quantities table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrackedRow {
    pub step: usize,
    /// One value per tracked quantity (`None` where the series has no checkpoint at or before
    /// `step`).
    pub values: Vec<Option<f64>>,
}

/// The checked claim: everything `adamgap check` prints and the snapshot test records.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClaimReport {
    pub id: String,
    pub title: String,
    pub reference: String,
    pub statement: String,
    pub kind: ClaimKind,
    /// The file it came from (as given; not part of the summary text).
    pub origin: String,
    /// `full` or `reduced`.
    pub scale: String,
    pub scale_note: String,
    pub setting: Setting,
    pub runs: Vec<RunInfo>,
    pub tracked_quantities: Vec<String>,
    pub tracked: Vec<TrackedRow>,
    pub checks: Vec<CheckOutcome>,
    /// `(label, rendered ordering)`.
    pub orderings: Vec<(String, String)>,
    /// Every quantity the checks and orderings refer to, plus the reported events.
    pub quantities: BTreeMap<String, f64>,
    pub missing: BTreeMap<String, String>,
    pub verdict: Verdict,
    pub expected: Expected,
    pub pending: bool,
    pub pending_reason: Option<String>,
    pub status: Status,
    pub notes: String,
}

/// Step counts and flags print exactly; everything else to 2 significant digits.
pub(crate) fn fmt_quantity(name: &str, v: f64) -> String {
    let exact =
        [".reversal_step", ".feature_reach_step", ".feature_reach_after_step", ".steps", ".reversed", ".diverged"];
    if exact.iter().any(|e| name.ends_with(e)) { format!("{v}") } else { sig(v, 2) }
}

impl ClaimReport {
    /// One line: `[holds] 01-adam-nonconvex (expected holds) title`, with the status when it is
    /// not `ok`.
    pub fn line(&self) -> String {
        let status = match self.status {
            Status::AsExpected => String::new(),
            s => format!(" {}", s.label()),
        };
        format!("[{}]{status} {} (expected {}): {}", self.verdict.label(), self.id, self.expected.label(), self.title)
    }

    /// The summary a reviewer reads (and the snapshot test records): the claim and reference, the
    /// setting, the tracked quantities at a few checkpoints (2 significant digits), the checks, the
    /// orderings and the verdict. No times, no paths.
    pub fn summary(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "claim {}: {}", self.id, self.title);
        let _ = writeln!(o, "reference: {}", self.reference);
        let _ = writeln!(o, "statement: {}", self.statement.split_whitespace().collect::<Vec<_>>().join(" "));
        let _ = writeln!(o, "kind: {}", self.kind.name());
        let _ = write!(o, "scale: {}", self.scale);
        if !self.scale_note.is_empty() {
            let _ = write!(o, " ({})", self.scale_note.split_whitespace().collect::<Vec<_>>().join(" "));
        }
        o.push('\n');
        let _ = writeln!(o, "setting:");
        let toml = toml::to_string(&self.setting).expect("a setting serializes to TOML");
        for line in toml.lines().filter(|l| !l.trim().is_empty()) {
            let _ = writeln!(o, "    {line}");
        }
        if !self.runs.is_empty() {
            let _ = writeln!(o, "runs:");
            for r in &self.runs {
                let _ = writeln!(o, "    {}: {}", r.name, r.stop);
            }
        }
        if !self.tracked_quantities.is_empty() && !self.tracked.is_empty() {
            let _ = writeln!(o, "tracked (2 significant digits):");
            let mut table = Table::new(&vec![Align::Right; self.tracked_quantities.len() + 1]).indent("    ");
            table.row(std::iter::once("step".to_string()).chain(self.tracked_quantities.iter().cloned()));
            for r in &self.tracked {
                let values = r.values.iter().map(|v| v.map_or("-".to_string(), |v| sig(v, 2)));
                table.row(std::iter::once(r.step.to_string()).chain(values));
            }
            o.push_str(&table.render());
        }
        if !self.quantities.is_empty() || !self.missing.is_empty() {
            let _ = writeln!(o, "quantities:");
            for (k, v) in &self.quantities {
                let _ = writeln!(o, "    {k} = {}", fmt_quantity(k, *v));
            }
            for (k, why) in &self.missing {
                let _ = writeln!(o, "    {k}: not measured ({why})");
            }
        }
        if !self.checks.is_empty() {
            let _ = writeln!(o, "checks:");
            for c in &self.checks {
                let mark = match (&c.outcome, c.if_false) {
                    (Outcome::True, _) => "ok",
                    (Outcome::False, IfFalse::Fails) => "FALSE",
                    (Outcome::False, IfFalse::Inconclusive) => "not reached",
                    (Outcome::Missing(_), _) => "not measured",
                };
                let _ = writeln!(o, "    [{mark}] {}: {}", c.what, c.text);
            }
        }
        if !self.orderings.is_empty() {
            let _ = writeln!(o, "ordering:");
            for (label, text) in &self.orderings {
                let _ = writeln!(o, "    {label}: {text}");
            }
        }
        let _ = writeln!(o, "verdict: {}", self.verdict);
        // Which checks are proved: those whose left-hand quantity (the first word of the check's
        // text) is a `certified.*` one; the others are observations of the binary64 run.
        let (proved, observed): (Vec<&CheckOutcome>, Vec<&CheckOutcome>) =
            self.checks.iter().partition(|c| c.text.split_whitespace().next().is_some_and(is_certified));
        if !proved.is_empty() {
            let whats = |cs: &[&CheckOutcome]| {
                cs.iter().map(|c| c.what.trim_start_matches("certified: ")).collect::<Vec<_>>().join("; ")
            };
            let _ = writeln!(o, "    certified (exact arithmetic on the final weights): {}", whats(&proved));
            let _ = writeln!(o, "    float observations (binary64 run): {}", whats(&observed));
        }
        let _ = write!(o, "expected: {}", self.expected.label());
        if self.pending {
            let _ = write!(o, " (pending{})", self.pending_reason.as_ref().map_or(String::new(), |r| format!(": {r}")));
        }
        o.push('\n');
        let _ = writeln!(o, "status: {}", self.status.label());
        o
    }
}
