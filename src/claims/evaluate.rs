//! Evaluation: a claim's checks against its measurement, the one verdict rule ([`verdict`]), the
//! orderings and the tracked table, assembled into a [`ClaimReport`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::measure::{Measurement, RunInfo};
use super::report::{ClaimReport, Status, TrackedRow, fmt_quantity};
use super::theorem::{Check, IfFalse, Op, Scale, Theorem};
use crate::format::sig;
use crate::optim::StopReason;
use crate::setting::Setting;
use crate::verdict::Verdict;

/// The outcome of one check.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", content = "reason", rename_all = "kebab-case")]
pub enum Outcome {
    True,
    False,
    /// A quantity it needs was not measured, with the reason.
    Missing(String),
}

/// A check with its measured sides.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckOutcome {
    pub what: String,
    /// The comparison with the measured values, e.g. `adam.test_error = 0.89 >= 0.5`.
    pub text: String,
    pub lhs: Option<f64>,
    pub rhs: Option<f64>,
    pub outcome: Outcome,
    pub if_false: IfFalse,
}

/// The value of an ordering item or a check side: a number, or a quantity.
pub(crate) fn lookup(m: &Measurement, name: &str) -> std::result::Result<f64, String> {
    if let Ok(v) = name.trim().parse::<f64>() {
        return Ok(v);
    }
    if let Some(v) = m.quantities.get(name) {
        return if v.is_nan() { Err(format!("{name} is NaN")) } else { Ok(*v) };
    }
    if let Some(why) = m.missing.get(name) {
        return Err(why.clone());
    }
    Err(format!("no quantity named `{name}` was measured"))
}

/// A threshold written in a theorem file, printed exactly (`0.5`, `0.001`, `1e-8`).
fn exact(x: f64) -> String {
    if x != 0.0 && (x.abs() < 1e-4 || x.abs() >= 1e6) { format!("{x:e}") } else { format!("{x}") }
}

/// Evaluates one check on a measurement.
pub fn evaluate_check(c: &Check, m: &Measurement) -> CheckOutcome {
    let lhs = lookup(m, &c.quantity);
    let rhs = match (&c.of, c.value) {
        (Some(of), _) => lookup(m, of).map(|v| c.factor * v + c.offset),
        (None, Some(v)) => Ok(v),
        (None, None) => Err("no right-hand side".into()),
    };
    let rhs_text = match &c.of {
        Some(of) => {
            let mut t = String::new();
            if c.factor != 1.0 {
                let _ = write!(t, "{} * ", exact(c.factor));
            }
            t.push_str(of);
            if c.offset != 0.0 {
                let _ = write!(t, " {} {}", if c.offset < 0.0 { "-" } else { "+" }, exact(c.offset.abs()));
            }
            match &rhs {
                Ok(v) => format!("{t} = {}", sig(*v, 2)),
                Err(_) => t,
            }
        }
        None => c.value.map(exact).unwrap_or_default(),
    };
    let lhs_text = match &lhs {
        Ok(v) => format!("{} = {}", c.quantity, fmt_quantity(&c.quantity, *v)),
        Err(_) => format!("{} = (not measured)", c.quantity),
    };
    let text = match c.op {
        Op::WithinFactor => format!("{lhs_text} within a factor {} of {rhs_text}", exact(c.within.unwrap_or(f64::NAN))),
        op => format!("{lhs_text} {} {rhs_text}", op.symbol()),
    };
    let outcome = match (&lhs, &rhs) {
        (Err(e), _) | (_, Err(e)) => Outcome::Missing(e.clone()),
        (Ok(l), Ok(r)) => {
            let (l, r) = (*l, *r);
            let ok = match c.op {
                Op::Le => l <= r,
                Op::Lt => l < r,
                Op::Ge => l >= r,
                Op::Gt => l > r,
                Op::Eq => l == r,
                Op::WithinFactor => {
                    let w = c.within.unwrap_or(f64::NAN);
                    l > 0.0 && r > 0.0 && l >= r / w && l <= r * w
                }
            };
            if ok { Outcome::True } else { Outcome::False }
        }
    };
    CheckOutcome { what: c.what.clone(), text, lhs: lhs.ok(), rhs: rhs.ok(), outcome, if_false: c.if_false }
}

/// Renders an ordering: items sorted by value, largest first, joined by `>` (or `=`).
fn render_ordering(items: &[String], m: &Measurement) -> String {
    let mut vals: Vec<(String, std::result::Result<f64, String>)> = items
        .iter()
        .map(|item| {
            let (label, name) = match item.split_once('=') {
                Some((l, n)) => (l.trim().to_string(), n.trim().to_string()),
                None => (item.trim().to_string(), item.trim().to_string()),
            };
            let is_number = name.parse::<f64>().is_ok();
            let v = lookup(m, &name);
            (if is_number { String::new() } else { label }, v)
        })
        .collect();
    if let Some((label, Err(e))) = vals.iter().find(|(_, v)| v.is_err()) {
        return format!("(cannot order: {label}: {e})");
    }
    vals.sort_by(|a, b| b.1.as_ref().unwrap().total_cmp(a.1.as_ref().unwrap()));
    let mut out = String::new();
    for (k, (label, v)) in vals.iter().enumerate() {
        let v = *v.as_ref().unwrap();
        if k > 0 {
            let prev = *vals[k - 1].1.as_ref().unwrap();
            out.push_str(if prev == v { " = " } else { " > " });
        }
        if label.is_empty() {
            out.push_str(&sig(v, 2));
        } else {
            let _ = write!(out, "{label} {}", sig(v, 2));
        }
    }
    out
}

/// The one verdict rule (`docs/methodology.md`, "The verdict"), used by every claim and by the
/// headline's verdict lines: inconclusive when the measurement could not be made or one of `runs`
/// diverged; `fails` when a check with `if_false = "fails"` is false; inconclusive with the reasons
/// when a quantity is missing or an `if_false = "inconclusive"` check is false; `holds` otherwise.
pub fn verdict<'a>(m: &Measurement, runs: impl IntoIterator<Item = &'a RunInfo>, checks: &[CheckOutcome]) -> Verdict {
    if let Some(r) = &m.inconclusive {
        return Verdict::Inconclusive(r.clone());
    }
    let diverged: Vec<String> = runs
        .into_iter()
        .filter_map(|r| match r.stop {
            StopReason::Diverged { step } => Some(format!("{} diverged at step {step}", r.name)),
            _ => None,
        })
        .collect();
    if !diverged.is_empty() {
        return Verdict::Inconclusive(format!("divergence: {}", diverged.join("; ")));
    }
    if checks.iter().any(|c| c.outcome == Outcome::False && c.if_false == IfFalse::Fails) {
        return Verdict::Fails;
    }
    let mut reasons = Vec::new();
    for c in checks {
        match &c.outcome {
            Outcome::Missing(why) => reasons.push(format!("not measured: {why}")),
            Outcome::False => reasons.push(format!("{} ({})", c.what, c.text)),
            Outcome::True => {}
        }
    }
    if reasons.is_empty() { Verdict::Holds } else { Verdict::Inconclusive(reasons.join("; ")) }
}

/// The default tracked steps: 0 and the powers of 10 below the budget.
fn default_track_steps(budget: usize) -> Vec<usize> {
    let mut steps = vec![0];
    let mut p = 10usize;
    while p < budget {
        steps.push(p);
        p = p.saturating_mul(10);
    }
    steps
}

/// Builds the report of a measured claim.
pub fn evaluate(theorem: &Theorem, origin: &str, scale: Scale, setting: Setting, m: Measurement) -> ClaimReport {
    let checks: Vec<CheckOutcome> = theorem.checks.iter().map(|c| evaluate_check(c, &m)).collect();
    let verdict = verdict(&m, &m.runs, &checks);
    let orderings = theorem.orderings.iter().map(|o| (o.label.clone(), render_ordering(&o.items, &m))).collect();
    // Steps of the tracked table: the requested ones and every run's last step.
    let mut steps: Vec<usize> = theorem.track.steps.clone().unwrap_or_else(|| default_track_steps(setting.train.steps));
    steps.extend(m.runs.iter().map(|r| r.steps));
    steps.sort_unstable();
    steps.dedup();
    let tracked_quantities = theorem.track.quantities.clone();
    let tracked = if m.runs.is_empty() {
        Vec::new()
    } else {
        steps
            .iter()
            .map(|&step| TrackedRow {
                step,
                values: tracked_quantities
                    .iter()
                    .map(|q| m.series.get(q).and_then(|s| s.iter().rev().find(|(t, _)| *t <= step).map(|(_, v)| *v)))
                    .collect(),
            })
            .collect()
    };
    // Quantities worth recording: everything the checks, the orderings and the events refer to.
    let mut names: Vec<String> = Vec::new();
    for c in &theorem.checks {
        names.push(c.quantity.clone());
        names.extend(c.of.clone());
    }
    for o in &theorem.orderings {
        for item in &o.items {
            let name = item.split_once('=').map_or(item.as_str(), |(_, n)| n).trim();
            if name.parse::<f64>().is_err() {
                names.push(name.to_string());
            }
        }
    }
    // Events: a reversal that happened, and the feature-level crossing when it was asked for.
    for key in m.quantities.keys().chain(m.missing.keys()) {
        let reversal = key.ends_with(".reversal_step") && m.quantities.contains_key(key);
        if reversal || key.ends_with(".feature_reach_step") || key.ends_with(".feature_reach_after_step") {
            names.push(key.clone());
        }
    }
    let mut quantities = BTreeMap::new();
    let mut missing = BTreeMap::new();
    for n in names {
        match lookup(&m, &n) {
            Ok(v) => {
                quantities.insert(n, v);
            }
            Err(e) => {
                missing.insert(n, e);
            }
        }
    }
    let status = if theorem.expected.matches(&verdict) {
        Status::AsExpected
    } else if theorem.pending {
        Status::Pending
    } else {
        Status::Mismatch
    };
    let (scale_label, scale_note) = match (scale, &theorem.test) {
        (Scale::Test, Some(t)) => (t.scale.clone(), t.note.clone()),
        _ => ("full".to_string(), String::new()),
    };
    ClaimReport {
        id: theorem.id.clone(),
        title: theorem.title.clone(),
        reference: theorem.reference.clone(),
        statement: theorem.statement.trim().to_string(),
        kind: theorem.kind,
        origin: origin.to_string(),
        scale: scale_label,
        scale_note: scale_note.trim().to_string(),
        setting,
        runs: m.runs,
        tracked_quantities,
        tracked,
        checks,
        orderings,
        quantities,
        missing,
        verdict,
        expected: theorem.expected,
        pending: theorem.pending,
        pending_reason: theorem.pending_reason.clone(),
        status,
        notes: theorem.notes.trim().to_string(),
    }
}
