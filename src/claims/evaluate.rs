//! Evaluation: a claim's checks against its measurement, the one verdict rule ([`verdict`]), the
//! baselines at initialization, expected failures and the orderings, for each seed
//! ([`evaluate`]). What it returns is an [`Evaluation`]; [`super::report`] assembles it into the
//! report.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::outcome::{AtInit, CheckOutcome, Measurement, Outcome, PaperReading, RunInfo, SeedResult};
use super::quantity::{STATISTICS, fmt_quantity, is_training_quantity, per_seed};
use super::seeds::{self, Summary};
use super::theorem::{Check, ClaimKind, Expected, IfFalse, Op, Theorem};
use crate::format::sig;
use crate::optim::StopReason;
use crate::setting::Setting;
use crate::verdict::Verdict;

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
    let mut out = compare(c, m, c.value);
    if let Some(p) = c.paper_value {
        out.paper = Some(PaperReading { value: p, outcome: compare(c, m, Some(p)).outcome });
    }
    out
}

/// The check at initialization, `init` being the measurement of the runs cut to step 0 (`None`
/// for a check that reads no training quantity).
pub fn evaluate_at_init(c: &Check, init: &Measurement) -> Option<AtInit> {
    let training = std::iter::once(&c.quantity).chain(c.of.iter()).any(|q| is_training_quantity(q));
    training.then(|| {
        let o = compare(c, init, c.value);
        AtInit { value: o.lhs, passes: o.outcome == Outcome::True }
    })
}

/// `c` against `m` with the constant right-hand side `value`.
fn compare(c: &Check, m: &Measurement, value: Option<f64>) -> CheckOutcome {
    let mut lhs = lookup(m, &c.quantity);
    if let Some(h) = c.horizon {
        let run = c.quantity.split('.').next().unwrap_or_default();
        match lookup(m, &format!("{run}.steps")) {
            Ok(steps) if steps >= h as f64 => {}
            Ok(steps) => lhs = Err(format!("{run} stopped at step {steps}, before the horizon of {h} steps")),
            Err(e) => lhs = Err(e),
        }
    }
    let rhs = match (&c.of, c.value) {
        (Some(of), _) => lookup(m, of).map(|v| c.factor * v + c.offset),
        (None, _) => value.ok_or_else(|| "no right-hand side".to_string()),
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
        None => value.map(exact).unwrap_or_default(),
    };
    let lhs_text = match &lhs {
        Ok(v) => format!("{} = {}", c.quantity, fmt_quantity(&c.quantity, *v)),
        Err(_) => format!("{} = (not measured)", c.quantity),
    };
    let mut text = match c.op {
        Op::WithinFactor => format!("{lhs_text} within a factor {} of {rhs_text}", exact(c.within.unwrap_or(f64::NAN))),
        op => format!("{lhs_text} {} {rhs_text}", op.symbol()),
    };
    if let Some(h) = c.horizon {
        let _ = write!(text, " within {h} steps");
    }
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
    CheckOutcome {
        what: c.what.clone(),
        quantity: c.quantity.clone(),
        text,
        lhs: lhs.ok(),
        rhs: rhs.ok(),
        outcome,
        if_false: c.if_false,
        reason: c.reason.clone(),
        at_init: None,
        holds_at_init: c.holds_at_init.clone(),
        paper: None,
    }
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
/// headline's verdict lines, in order: inconclusive when the measurement could not be made or one
/// of `runs` diverged or never left its initialization (no step, or steps that did not move it);
/// inconclusive with the reasons when an `if_false = "inconclusive"` check (a precondition) is
/// false; `fails` when a check with `if_false = "fails"` is false; inconclusive when a quantity is
/// missing; `holds` otherwise.
pub fn verdict<'a>(m: &Measurement, runs: impl IntoIterator<Item = &'a RunInfo>, checks: &[CheckOutcome]) -> Verdict {
    if let Some(r) = &m.inconclusive {
        return Verdict::Inconclusive(r.clone());
    }
    let runs: Vec<&RunInfo> = runs.into_iter().collect();
    let diverged: Vec<String> = runs
        .iter()
        .filter_map(|r| match r.stop {
            StopReason::Diverged { step } => Some(format!("{} diverged at step {step}", r.name)),
            _ => None,
        })
        .collect();
    if !diverged.is_empty() {
        return Verdict::Inconclusive(format!("divergence: {}", diverged.join("; ")));
    }
    // A run that never left its initialization measured nothing about training.
    let untrained: Vec<String> = runs
        .iter()
        .filter(|r| r.steps == 0 || !r.moved)
        .map(|r| match r.steps {
            0 => format!("{} took no step ({})", r.name, r.stop),
            s => format!("{} never left its initialization in {s} steps", r.name),
        })
        .collect();
    if !untrained.is_empty() {
        return Verdict::Inconclusive(format!("not trained: {}", untrained.join("; ")));
    }
    // A false `if_false = "inconclusive"` check is a precondition not met (a tolerance not reached
    // within the budget, say): the other checks then measured a run the claim is not about, and a
    // false `fails` check among them proves nothing.
    let unmet: Vec<String> = checks
        .iter()
        .filter(|c| c.outcome == Outcome::False && c.if_false == IfFalse::Inconclusive)
        .map(|c| match &c.reason {
            Some(r) => format!("{r}: {} ({})", c.what, c.text),
            None => format!("{} ({})", c.what, c.text),
        })
        .collect();
    if !unmet.is_empty() {
        return Verdict::Inconclusive(unmet.join("; "));
    }
    if checks.iter().any(|c| c.outcome == Outcome::False && c.if_false == IfFalse::Fails) {
        return Verdict::Fails;
    }
    let missing: Vec<String> = checks
        .iter()
        .filter_map(|c| match &c.outcome {
            Outcome::Missing(why) => Some(format!("not measured: {why}")),
            _ => None,
        })
        .collect();
    if missing.is_empty() { Verdict::Holds } else { Verdict::Inconclusive(missing.join("; ")) }
}

/// What one seed gives the evaluation: its setting, its measurement and (for a training claim) the
/// measurement of its runs cut to step 0.
pub struct SeedInput {
    pub seed: u64,
    pub setting: Setting,
    pub m: Measurement,
    pub init: Option<Measurement>,
}

/// Evaluates one seed: checks (with their values at initialization), verdict under the file's and
/// the paper's thresholds, the recorded quantities, and whether an expected failure failed for the
/// named reasons.
/// `checks` on `m` (with their values at initialization on `init`), the verdict by the one rule,
/// and the verdict under the paper's thresholds where a check relaxes one.
fn judge(
    checks: &[Check],
    m: &Measurement,
    init: Option<&Measurement>,
) -> (Vec<CheckOutcome>, Verdict, Option<Verdict>) {
    let mut outcomes: Vec<CheckOutcome> = checks.iter().map(|c| evaluate_check(c, m)).collect();
    if let Some(init) = init {
        for (o, c) in outcomes.iter_mut().zip(checks) {
            o.at_init = evaluate_at_init(c, init);
        }
    }
    let v = verdict(m, &m.runs, &outcomes);
    let paper_verdict = outcomes.iter().any(|c| c.paper.is_some()).then(|| {
        let paper: Vec<CheckOutcome> = outcomes
            .iter()
            .map(|c| match &c.paper {
                Some(p) => CheckOutcome { outcome: p.outcome.clone(), ..c.clone() },
                None => c.clone(),
            })
            .collect();
        verdict(m, &m.runs, &paper)
    });
    (outcomes, v, paper_verdict)
}

/// With `expected = "fails"` and a failing verdict: the checks whose outcome is not the one
/// `expect_fail` names (none: `None`).
fn unexpected_failure(theorem: &Theorem, v: &Verdict, checks: &[CheckOutcome]) -> Option<String> {
    if theorem.expected != Expected::Fails || *v != Verdict::Fails {
        return None;
    }
    let wrong: Vec<String> = checks
        .iter()
        .filter(|c| (c.outcome == Outcome::True) == theorem.expect_fail.contains(&c.what))
        .map(|c| format!("`{}` is {}", c.what, c.outcome.word()))
        .collect();
    (!wrong.is_empty()).then(|| wrong.join(", "))
}

fn evaluate_seed(theorem: &Theorem, input: &SeedInput) -> (SeedResult, BTreeMap<String, String>) {
    let m = &input.m;
    let (checks, v, paper_verdict) = judge(&theorem.checks, m, input.init.as_ref());
    let unexpected = unexpected_failure(theorem, &v, &checks).map(|w| format!("seed {}: {w}", input.seed));
    let (quantities, missing) = recorded(theorem, m);
    let result = SeedResult { seed: input.seed, verdict: v, paper_verdict, checks, quantities, unexpected };
    (result, missing)
}

/// Quantities worth recording: everything the checks, the orderings and the events refer to.
fn recorded(theorem: &Theorem, m: &Measurement) -> (BTreeMap<String, f64>, BTreeMap<String, String>) {
    // A path claim's tracked quantities are per cell: the report's table along the path shows them.
    let tracked = if theorem.kind == ClaimKind::Path { &[][..] } else { &theorem.track.quantities[..] };
    let mut names: Vec<String> = tracked.to_vec();
    for c in &theorem.checks {
        names.push(c.quantity.clone());
        names.extend(c.of.clone());
    }
    // The per-seed values the statistics over the seeds are taken of.
    for c in &theorem.over_seeds {
        names.push(per_seed(&c.quantity).to_string());
        names.extend(c.of.as_deref().map(|q| per_seed(q).to_string()));
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
        match lookup(m, &n) {
            Ok(v) => {
                quantities.insert(n, v);
            }
            Err(e) => {
                missing.insert(n, e);
            }
        }
    }
    (quantities, missing)
}

/// The measurement over the seeds of a claim with `[[over_seeds]]` checks: every statistic
/// ([`STATISTICS`], [`seeds::statistics`]) of every per-seed quantity those checks read, over
/// `seeds` (`(seed, measurement)`); a quantity some seed lacks is missing, with that seed's reason.
/// Its runs are every seed's (named `<run> (seed <s>)`), so a run that diverged or never moved on
/// any seed makes the verdict inconclusive, as does a seed whose measurement could not be made.
pub fn over_seeds_measurement(theorem: &Theorem, seeds: &[(u64, &Measurement)]) -> Measurement {
    let mut out = Measurement::default();
    let mut names: Vec<&str> = Vec::new();
    for c in &theorem.over_seeds {
        names.push(per_seed(&c.quantity));
        names.extend(c.of.as_deref().map(per_seed));
    }
    names.sort_unstable();
    names.dedup();
    for q in names {
        let values: std::result::Result<Vec<f64>, String> =
            seeds.iter().map(|(seed, m)| lookup(m, q).map_err(|why| format!("seed {seed}: {why}"))).collect();
        match values {
            Ok(v) if !v.is_empty() && v.iter().all(|x| x.is_finite()) => {
                for (stat, x) in seeds::statistics(&v) {
                    out.quantities.insert(format!("{stat}.{q}"), x);
                }
            }
            Ok(v) => {
                let why = if v.is_empty() { "no seed".to_string() } else { format!("{q} is not finite on some seed") };
                for stat in STATISTICS {
                    out.missing.insert(format!("{stat}.{q}"), why.clone());
                }
            }
            Err(why) => {
                for stat in STATISTICS {
                    out.missing.insert(format!("{stat}.{q}"), why.clone());
                }
            }
        }
    }
    for (seed, m) in seeds {
        out.runs.extend(m.runs.iter().map(|r| RunInfo { name: format!("{} (seed {seed})", r.name), ..r.clone() }));
        if out.inconclusive.is_none() {
            out.inconclusive = m.inconclusive.as_ref().map(|r| format!("seed {seed}: {r}"));
        }
    }
    out
}

/// The `[[over_seeds]]` checks of a claim, judged once over all its seeds.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct OverSeeds {
    /// Every statistic the checks read (`mean.<q>`, `lower95.<q>`, ...).
    pub quantities: BTreeMap<String, f64>,
    pub missing: BTreeMap<String, String>,
    pub checks: Vec<CheckOutcome>,
    /// The one verdict rule on `checks`.
    pub verdict: Verdict,
    pub paper_verdict: Option<Verdict>,
}

/// Judges the `[[over_seeds]]` checks on the statistics over `inputs` (at initialization too, when
/// every seed has its runs cut to step 0).
fn evaluate_over_seeds(theorem: &Theorem, inputs: &[SeedInput]) -> OverSeeds {
    let m = over_seeds_measurement(theorem, &inputs.iter().map(|s| (s.seed, &s.m)).collect::<Vec<_>>());
    let init: Option<Vec<(u64, &Measurement)>> = inputs.iter().map(|s| s.init.as_ref().map(|i| (s.seed, i))).collect();
    let init = init.map(|i| over_seeds_measurement(theorem, &i));
    let (checks, verdict, paper_verdict) = judge(&theorem.over_seeds, &m, init.as_ref());
    OverSeeds { quantities: m.quantities, missing: m.missing, checks, verdict, paper_verdict }
}

/// What the evaluation of a claim's seeds gives the report.
pub struct Evaluation {
    /// Each seed's verdict, checks and recorded quantities, in seed order.
    pub seeds: Vec<SeedResult>,
    /// The quantities the first seed's checks, orderings and events refer to that it could not
    /// measure, with the reasons.
    pub missing: BTreeMap<String, String>,
    /// `(label, rendered ordering)` on the first seed.
    pub orderings: Vec<(String, String)>,
    /// The verdict over the seeds by the rule of [`super::seeds`], and its counts.
    pub summary: Summary,
    /// Why an expected failure failed for another reason (on the first seed that did).
    pub mismatch_reason: Option<String>,
    /// The first seed (its setting, runs and series: the details a report shows).
    pub first: SeedInput,
    /// A claim with `[[over_seeds]]` checks: those checks over all seeds, whose verdict is the
    /// claim's (in `summary`).
    pub over_seeds: Option<OverSeeds>,
}

/// Evaluates a measured claim on its seeds (at least one): every seed's checks and verdict, then
/// the seeds' verdict by the rule of [`super::seeds`].
pub fn evaluate(theorem: &Theorem, inputs: Vec<SeedInput>) -> Evaluation {
    let (seeds, missing): (Vec<SeedResult>, Vec<BTreeMap<String, String>>) =
        inputs.iter().map(|s| evaluate_seed(theorem, s)).unzip();
    let over_seeds = (!theorem.over_seeds.is_empty()).then(|| evaluate_over_seeds(theorem, &inputs));
    let first = inputs.into_iter().next().expect("at least one seed");
    let orderings = theorem.orderings.iter().map(|o| (o.label.clone(), render_ordering(&o.items, &first.m))).collect();
    let mut summary = seeds::summarize(&seeds);
    let mut mismatch_reason = seeds.iter().find_map(|r| r.unexpected.clone());
    if let Some(o) = &over_seeds {
        summary.verdict = o.verdict.clone();
        summary.paper_verdict = o.paper_verdict.clone();
        mismatch_reason = unexpected_failure(theorem, &o.verdict, &o.checks).map(|w| format!("over the seeds: {w}"));
    }
    Evaluation {
        missing: missing.into_iter().next().unwrap_or_default(),
        orderings,
        summary,
        mismatch_reason,
        first,
        seeds,
        over_seeds,
    }
}
