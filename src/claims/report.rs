//! The report of a checked claim: what `adamgap check` prints and `tests/claims.rs` snapshots,
//! assembled ([`ClaimReport::of`]) from the claim's [`Evaluation`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::evaluate::{Evaluation, OverSeeds};
use super::outcome::{CheckOutcome, Outcome, RunInfo, SeedResult};
use super::path::{PathReport, position_label};
use super::quantity::{fmt_quantity, is_certified};
use super::seeds;
use super::theorem::{ClaimKind, Expected, IfFalse, Scale, Theorem};
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
    /// `(quantity, min, max)` over the seeds.
    pub spread: Vec<(String, f64, f64)>,
    /// The verdict over the seeds, by [`super::seeds::RULE`].
    pub verdict: Verdict,
    /// The verdict with the paper's thresholds, where the file relaxes some.
    pub paper_verdict: Option<Verdict>,
    /// Seeds on which the claim holds.
    pub holds_count: usize,
    /// One-sided 95% Clopper-Pearson lower bound on the probability that the claim holds for a
    /// random seed.
    pub lower_bound: f64,
    pub rule: String,
    pub seeds: Vec<SeedResult>,
    pub expected: Expected,
    pub expect_fail: Vec<String>,
    pub pending: bool,
    pub pending_reason: Option<String>,
    pub status: Status,
    /// Why the status is a mismatch although the verdict is the expected one (an expected
    /// failure that failed for another reason).
    pub mismatch_reason: Option<String>,
    pub notes: String,
    /// The same claim under the paper's reading of the setting, where the file departs from it.
    pub paper_setting: Option<PaperSettingReport>,
    /// For a path claim: its grid and the table along the path (absent for other kinds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathReport>,
    /// For a claim with `[[over_seeds]]` checks: those checks over all seeds (the claim's verdict).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub over_seeds: Option<OverSeeds>,
    /// For a claim on real images: the task's description (the first seed's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset: Option<crate::images::TaskInfo>,
}

/// The claim checked under the paper's reading of the setting (`[paper_setting]`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PaperSettingReport {
    /// The overrides, as written (`model.lambda = 0.01`).
    pub overrides: String,
    pub verdict: Verdict,
    pub holds_count: usize,
    /// Per seed: the verdict and the checks that were not true.
    pub seeds: Vec<(u64, Verdict, Vec<String>)>,
}

impl PaperSettingReport {
    /// From the report of the claim under the paper's setting.
    pub fn of(theorem: &Theorem, r: ClaimReport) -> Self {
        let mut overrides = Vec::new();
        fn flatten(prefix: &str, t: &toml::Table, out: &mut Vec<String>) {
            for (k, v) in t {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                match v {
                    toml::Value::Table(inner) => flatten(&key, inner, out),
                    v => out.push(format!("{key} = {v}")),
                }
            }
        }
        flatten("", theorem.paper_setting.as_ref().expect("a paper setting"), &mut overrides);
        let seeds = r
            .seeds
            .iter()
            .map(|s| {
                let not_true = s.checks.iter().filter(|c| c.outcome != Outcome::True).map(|c| c.what.clone()).collect();
                (s.seed, s.verdict.clone(), not_true)
            })
            .collect();
        Self { overrides: overrides.join(", "), verdict: r.verdict, holds_count: r.holds_count, seeds }
    }
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

impl ClaimReport {
    /// The report of `theorem` (from the file `origin`, checked at `scale`) from its evaluation: the
    /// details shown are the first seed's, the verdict the seeds'. The status compares the verdict
    /// with the expected one. No paper-setting reading and no path table yet (the checker adds them).
    pub fn of(theorem: &Theorem, origin: &str, scale: Scale, e: Evaluation) -> Self {
        let Evaluation { seeds: results, missing, orderings, summary, mismatch_reason, first, over_seeds } = e;
        let (m, setting) = (first.m, first.setting);
        // Steps of the tracked table: the requested ones and every run's last step.
        let mut steps: Vec<usize> =
            theorem.track.steps.clone().unwrap_or_else(|| default_track_steps(setting.train.steps));
        steps.extend(m.runs.iter().map(|r| r.steps));
        steps.sort_unstable();
        steps.dedup();
        let tracked_quantities =
            if theorem.kind == ClaimKind::Path { Vec::new() } else { theorem.track.quantities.clone() };
        let tracked = if m.runs.is_empty() || theorem.kind == ClaimKind::Path {
            Vec::new()
        } else {
            steps
                .iter()
                .map(|&step| TrackedRow {
                    step,
                    values: tracked_quantities
                        .iter()
                        .map(|q| {
                            m.series.get(q).and_then(|s| s.iter().rev().find(|(t, _)| *t <= step).map(|(_, v)| *v))
                        })
                        .collect(),
                })
                .collect()
        };
        let status = if theorem.expected.matches(&summary.verdict) && mismatch_reason.is_none() {
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
        let first_result = &results[0];
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
            checks: first_result.checks.clone(),
            orderings,
            quantities: first_result.quantities.clone(),
            missing,
            spread: seeds::spread(&results),
            verdict: summary.verdict,
            paper_verdict: summary.paper_verdict,
            holds_count: summary.holds,
            lower_bound: summary.lower_bound,
            rule: if over_seeds.is_some() { seeds::OVER_SEEDS_RULE } else { seeds::RULE }.to_string(),
            seeds: results,
            expected: theorem.expected,
            expect_fail: theorem.expect_fail.clone(),
            pending: theorem.pending,
            pending_reason: theorem.pending_reason.clone(),
            status,
            mismatch_reason,
            notes: theorem.notes.trim().to_string(),
            paper_setting: None,
            path: None,
            over_seeds,
            dataset: None,
        }
    }

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
    /// When some checks are certified (`certified.*` quantities, proved in exact arithmetic about
    /// the final weights): which checks the verdict rests on as proofs and which as float
    /// observations of the binary64 run.
    fn basis_lines(&self, o: &mut String) {
        let (proved, observed): (Vec<&CheckOutcome>, Vec<&CheckOutcome>) =
            self.checks.iter().partition(|c| is_certified(&c.quantity));
        if proved.is_empty() {
            return;
        }
        let whats = |cs: &[&CheckOutcome]| {
            cs.iter().map(|c| c.what.trim_start_matches("certified: ")).collect::<Vec<_>>().join("; ")
        };
        let _ = writeln!(o, "    certified (exact arithmetic on the final weights): {}", whats(&proved));
        let _ = writeln!(o, "    float observations (binary64 run): {}", whats(&observed));
    }

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
        if let Some(t) = &self.dataset {
            let _ = writeln!(
                o,
                "dataset: {} ({} +1, {} -1), {}x{} images cut into {} tiles of {}x{} (d = {}), {} of {} training \
                 images, {} of {} test images (the first seed's draw)",
                t.task,
                t.positive,
                t.negative,
                t.rows,
                t.cols,
                t.patches,
                t.tile,
                t.tile,
                t.d,
                t.n,
                t.train_available,
                t.test,
                t.test_available
            );
        }
        match &self.path {
            Some(p) => {
                let _ = writeln!(o, "grid: {}, along `{}`", p.grid, p.axis);
                for line in &p.description {
                    let _ = writeln!(o, "    {line}");
                }
                let _ = writeln!(o, "results: {}", p.source);
                let _ =
                    writeln!(o, "setting of the first cell (seed {}, the smallest `{}`):", self.seeds[0].seed, p.axis);
            }
            None => {
                let _ = writeln!(o, "setting:");
            }
        }
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
        if let Some(p) = &self.path {
            let _ = writeln!(o, "along the path (2 significant digits):");
            let mut table = Table::new(&vec![Align::Right; p.columns.len() + 2]).indent("    ");
            table.row(["seed".to_string(), p.axis.clone()].into_iter().chain(p.columns.iter().cloned()));
            for r in &p.rows {
                let values = r.values.iter().map(|v| v.map_or("-".to_string(), |v| sig(v, 2)));
                table.row([r.seed.to_string(), position_label(r.position)].into_iter().chain(values));
            }
            o.push_str(&table.render());
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
            check_lines(&mut o, &self.checks, "    ");
        }
        if let Some(over) = &self.over_seeds {
            let _ = writeln!(
                o,
                "over the {} seeds (3 significant digits; lower95, upper95: one-sided 95% Student-t bounds on the mean):",
                self.seeds.len()
            );
            for q in over_seeds_quantities(over) {
                let stat = |s: &str| over.quantities.get(&format!("{s}.{q}")).map_or("-".to_string(), |v| sig(*v, 3));
                match over.missing.get(&format!("mean.{q}")) {
                    Some(why) => {
                        let _ = writeln!(o, "    {q}: not measured ({why})");
                    }
                    None => {
                        let _ = writeln!(
                            o,
                            "    {q}: mean {}, sd {}, lower95 {}, upper95 {}, min {}, max {}",
                            stat("mean"),
                            stat("sd"),
                            stat("lower95"),
                            stat("upper95"),
                            stat("min"),
                            stat("max")
                        );
                    }
                }
            }
            let _ = writeln!(o, "  checks over the seeds:");
            check_lines(&mut o, &over.checks, "    ");
        }
        if !self.orderings.is_empty() {
            let _ = writeln!(o, "ordering:");
            for (label, text) in &self.orderings {
                let _ = writeln!(o, "    {label}: {text}");
            }
        }
        self.seeds_section(&mut o);
        let n = self.seeds.len();
        let _ = writeln!(o, "rule: {}", self.rule);
        if self.over_seeds.is_some() {
            let _ = writeln!(o, "verdict: {} (the checks over the {n} seeds)", self.verdict);
        } else {
            let _ = writeln!(
                o,
                "verdict: {} (holds on {}/{n} seeds; one-sided 95% Clopper-Pearson lower bound {})",
                self.verdict,
                self.holds_count,
                sig(self.lower_bound, 2)
            );
        }
        self.basis_lines(&mut o);
        if let Some(p) = &self.paper_verdict {
            let _ = writeln!(o, "verdict under the paper's thresholds: {p}");
        }
        if let Some(p) = &self.paper_setting {
            let _ = writeln!(
                o,
                "verdict under the paper's setting ({}): {} (holds on {}/{n} seeds)",
                p.overrides, p.verdict, p.holds_count
            );
            for (seed, v, not_true) in &p.seeds {
                let _ = write!(o, "    seed {seed}: {}", v.label());
                if !not_true.is_empty() {
                    let _ = write!(o, " (not true: {})", not_true.join("; "));
                }
                o.push('\n');
            }
        }
        let _ = write!(o, "expected: {}", self.expected.label());
        if !self.expect_fail.is_empty() {
            let _ = write!(o, " (false: {})", self.expect_fail.join("; "));
        }
        if self.pending {
            let _ = write!(o, " (pending{})", self.pending_reason.as_ref().map_or(String::new(), |r| format!(": {r}")));
        }
        o.push('\n');
        let _ = write!(o, "status: {}", self.status.label());
        if let Some(why) = &self.mismatch_reason {
            let _ = write!(o, " (expected failure, but {why})");
        }
        o.push('\n');
        o
    }

    /// `seeds 1, 2, 3: holds, holds, fails (holds on 2/3; 95% lower bound 0.14)`; for a claim with
    /// `[[over_seeds]]` checks, the seeds and the outcome of each of those checks.
    pub fn seeds_line(&self) -> String {
        let seeds: Vec<String> = self.seeds.iter().map(|s| s.seed.to_string()).collect();
        if let Some(over) = &self.over_seeds {
            let checks: Vec<String> = over.checks.iter().map(|c| format!("{} [{}]", c.text, c.mark())).collect();
            return format!("seeds {}: over the seeds {}", seeds.join(", "), checks.join("; "));
        }
        let verdicts: Vec<&str> = self.seeds.iter().map(|s| s.verdict.label()).collect();
        format!(
            "seeds {}: {} (holds on {}/{}; one-sided 95% Clopper-Pearson lower bound {})",
            seeds.join(", "),
            verdicts.join(", "),
            self.holds_count,
            self.seeds.len(),
            sig(self.lower_bound, 2)
        )
    }

    /// Per-seed verdicts with each check's left-hand side, and the spread of every recorded quantity.
    fn seeds_section(&self, o: &mut String) {
        let seeds: Vec<String> = self.seeds.iter().map(|s| s.seed.to_string()).collect();
        let _ = writeln!(o, "seeds: {} (the details above are seed {}'s)", seeds.join(", "), seeds[0]);
        if let Some(over) = &self.over_seeds {
            self.over_seeds_table(o, over);
            return;
        }
        let mut align = vec![Align::Right, Align::Left];
        align.extend(self.checks.iter().map(|_| Align::Right));
        let mut table = Table::new(&align).indent("    ");
        let head = ["seed".to_string(), "verdict".to_string()];
        table.row(head.into_iter().chain(self.checks.iter().enumerate().map(|(k, _)| format!("check {}", k + 1))));
        for s in &self.seeds {
            let verdict = if s.paper_verdict.as_ref().is_some_and(|p| p != &s.verdict) {
                format!("{} (paper: {})", s.verdict.label(), s.paper_verdict.as_ref().map_or("", |p| p.label()))
            } else {
                s.verdict.label().to_string()
            };
            let cells = s.checks.iter().map(|c| {
                let v = c.lhs.map_or("-".to_string(), |v| fmt_quantity(&c.quantity, v));
                format!("{v} {}", mark(c))
            });
            table.row([s.seed.to_string(), verdict].into_iter().chain(cells));
        }
        o.push_str(&table.render());
        if self.seeds.len() > 1 && !self.spread.is_empty() {
            let _ = writeln!(o, "spread over seeds (min .. max):");
            for (k, lo, hi) in &self.spread {
                let _ = writeln!(o, "    {k}: {} .. {}", fmt_quantity(k, *lo), fmt_quantity(k, *hi));
            }
        }
    }

    /// A claim with `[[over_seeds]]` checks: each seed's value of every quantity the statistics are
    /// taken of (3 significant digits), and whether its runs trained (the per-seed verdict).
    fn over_seeds_table(&self, o: &mut String, over: &OverSeeds) {
        let names = over_seeds_quantities(over);
        let mut align = vec![Align::Right, Align::Left];
        align.extend(names.iter().map(|_| Align::Right));
        let mut table = Table::new(&align).indent("    ");
        table.row(["seed".to_string(), "runs".to_string()].into_iter().chain(names.iter().map(|n| n.to_string())));
        for s in &self.seeds {
            let runs = match &s.verdict {
                Verdict::Inconclusive(_) => "diverged or untrained",
                _ => "trained",
            };
            let cells = names.iter().map(|n| s.quantities.get(*n).map_or("-".to_string(), |v| sig(*v, 3)));
            table.row([s.seed.to_string(), runs.to_string()].into_iter().chain(cells));
        }
        o.push_str(&table.render());
    }

    /// The JSON of `adamgap check --json`: `id`, `verdict` (`holds`, `fails`, `inconclusive`),
    /// `reason`, `expected`, `status` (`ok` when the verdict is the expected one), `seeds` (each
    /// `seed` and `verdict`), `rule`, `lower_bound`, `checks` (each `what`, `text`, `outcome`,
    /// `at_init` with `value` and `passes`, and `paper` where the file relaxes a threshold), and
    /// the full report under `report`; for a claim over seeds, `over_seeds` (its statistics and checks).
    pub fn json(&self) -> serde_json::Value {
        let reason = |v: &Verdict| match v {
            Verdict::Inconclusive(r) => serde_json::Value::String(r.clone()),
            _ => serde_json::Value::Null,
        };
        let checks: Vec<_> = self
            .checks
            .iter()
            .map(|c| {
                serde_json::json!({
                    "what": c.what,
                    "text": c.text,
                    "outcome": c.outcome.word(),
                    "at_init": c.at_init,
                    "holds_at_init": c.holds_at_init,
                    "paper": c.paper.as_ref().map(|p| serde_json::json!({"value": p.value, "outcome": p.outcome.word()})),
                })
            })
            .collect();
        let mut v = serde_json::json!({
            "id": self.id,
            "verdict": self.verdict.label(),
            "reason": reason(&self.verdict),
            "paper_verdict": self.paper_verdict.as_ref().map(Verdict::label),
            "paper_setting_verdict": self.paper_setting.as_ref().map(|p| p.verdict.label()),
            "expected": self.expected.label(),
            "status": self.status.label().to_lowercase(),
            "mismatch_reason": self.mismatch_reason,
            "seeds": self.seeds.iter().map(|s| serde_json::json!({
                "seed": s.seed,
                "verdict": s.verdict.label(),
                "reason": reason(&s.verdict),
                "paper_verdict": s.paper_verdict.as_ref().map(Verdict::label),
            })).collect::<Vec<_>>(),
            "rule": self.rule,
            "holds": self.holds_count,
            "lower_bound": self.lower_bound,
            "checks": checks,
            "report": self,
        });
        // A claim over seeds: its checks on the statistics, which give its verdict.
        if let Some(over) = &self.over_seeds {
            v["over_seeds"] = serde_json::json!({
                "quantities": over.quantities,
                "checks": over.checks.iter().map(|c| serde_json::json!({
                    "what": c.what, "text": c.text, "outcome": c.outcome.word(), "at_init": c.at_init,
                })).collect::<Vec<_>>(),
            });
        }
        v
    }
}

/// The per-seed quantities whose statistics a claim's `[[over_seeds]]` checks read, sorted.
fn over_seeds_quantities(over: &OverSeeds) -> Vec<&str> {
    let mut names: Vec<&str> =
        over.quantities.keys().chain(over.missing.keys()).map(|k| super::quantity::per_seed(k)).collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Each check's mark, `what` and comparison, its paper reading and its value at initialization.
fn check_lines(o: &mut String, checks: &[CheckOutcome], indent: &str) {
    for c in checks {
        let _ = writeln!(o, "{indent}[{}] {}: {}", c.mark(), c.what, c.text);
        if let Some(p) = &c.paper {
            let _ = writeln!(o, "{indent}    paper's threshold {}: {}", p.value, p.outcome.word());
        }
        if let Some(a) = &c.at_init {
            let value = a.value.map_or("not defined".to_string(), |v| fmt_quantity(&c.quantity, v));
            let _ = write!(
                o,
                "{indent}    at initialization: {value}, {}",
                if a.passes { "passes" } else { "does not pass" }
            );
            if let (Some(why), true) = (&c.holds_at_init, a.passes) {
                let _ = write!(o, " ({})", why.split_whitespace().collect::<Vec<_>>().join(" "));
            }
            o.push('\n');
        }
    }
}

/// A one-character mark of a check's outcome for the per-seed table.
fn mark(c: &CheckOutcome) -> &'static str {
    match (&c.outcome, c.if_false) {
        (Outcome::True, _) => "ok",
        (Outcome::False, IfFalse::Fails) => "FALSE",
        (Outcome::False, IfFalse::Inconclusive) => "not-reached",
        (Outcome::Missing(_), _) => "n/m",
    }
}
