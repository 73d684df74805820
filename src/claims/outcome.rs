//! The values passed between the layers of `claims`: a [`Measurement`] (what the measuring gives
//! the checks), the runs behind it ([`RunInfo`]), each check's [`CheckOutcome`], a seed's
//! [`SeedResult`], and a [`Decision`] (a command's verdict from a compiled-in theorem file). Plain
//! data: nothing here measures or judges.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::theorem::IfFalse;
use crate::optim::StopReason;
use crate::results::RunResult;
use crate::setting::OptimizerSetting;
use crate::train::Run;
use crate::verdict::{Label, Verdict};

/// What a measurement gives the checks: named quantities, the reasons some could not be measured,
/// per-checkpoint series of the tracked quantities, and the runs behind them.
#[derive(Clone, Debug, Default)]
pub struct Measurement {
    /// Measured values by name (see `docs/methodology.md` and [`super::quantity`]).
    pub quantities: BTreeMap<String, f64>,
    /// Quantities that exist but have no value, with the reason (e.g. "the feature never reversed").
    pub missing: BTreeMap<String, String>,
    /// `(step, value)` series of per-checkpoint quantities (`<optimizer>.<field>`).
    pub series: BTreeMap<String, Vec<(usize, f64)>>,
    /// The runs measured.
    pub runs: Vec<RunInfo>,
    /// Set when the measurement itself cannot give an answer: the claim is inconclusive with this
    /// reason, whatever the checks say.
    pub inconclusive: Option<String>,
}

impl Measurement {
    /// A measurement that cannot be made, with the reason.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Self { inconclusive: Some(reason.into()), ..Self::default() }
    }
}

/// One run behind a measurement.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunInfo {
    pub name: String,
    pub optimizer: OptimizerSetting,
    pub steps: usize,
    pub stop: StopReason,
    /// Wall-clock seconds (not part of the summary text; it varies).
    pub seconds: f64,
    /// Whether the run moved away from its initialization ([`Run::moved`]).
    #[serde(skip)]
    pub moved: bool,
}

impl RunInfo {
    /// The run's name, optimizer, steps, stop reason and time.
    pub fn of(run: &Run) -> Self {
        Self {
            name: run.name.clone(),
            optimizer: run.optimizer.clone(),
            steps: run.steps,
            stop: run.stop,
            seconds: run.seconds,
            moved: run.moved,
        }
    }

    /// A run read from a sweep cell, named `name`. A cell written before adamgap recorded `moved`
    /// has none: such a run counts as moved when it took steps.
    pub fn of_result(name: String, r: &RunResult) -> Self {
        Self {
            name,
            optimizer: r.optimizer.clone(),
            steps: r.steps,
            stop: r.stop,
            seconds: 0.0,
            moved: r.moved.unwrap_or(r.steps > 0),
        }
    }
}

/// The outcome of one check.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", content = "reason", rename_all = "kebab-case")]
pub enum Outcome {
    True,
    False,
    /// A quantity it needs was not measured, with the reason.
    Missing(String),
}

impl Outcome {
    /// `true`, `false`, `not measured`.
    pub fn word(&self) -> &'static str {
        match self {
            Self::True => "true",
            Self::False => "false",
            Self::Missing(_) => "not measured",
        }
    }
}

/// A check with its measured sides.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckOutcome {
    pub what: String,
    /// The left-hand side's quantity.
    pub quantity: String,
    /// The comparison with the measured values, e.g. `adam.test_error = 0.89 >= 0.5`.
    pub text: String,
    pub lhs: Option<f64>,
    pub rhs: Option<f64>,
    pub outcome: Outcome,
    pub if_false: IfFalse,
    /// The reason an `if_false = "inconclusive"` check gives when false.
    pub reason: Option<String>,
    /// The same check at initialization (`W^(0)`, no step taken), for a check on a training
    /// quantity.
    pub at_init: Option<AtInit>,
    /// Why passing at initialization is right, from the theorem file.
    pub holds_at_init: Option<String>,
    /// The check under the paper's own threshold when the file's threshold relaxes it.
    pub paper: Option<PaperReading>,
}

impl CheckOutcome {
    /// `ok`, `FALSE` (a check that fails the claim), `not reached` (an inconclusive one) or
    /// `not measured`: the mark a report prints before the check.
    pub fn mark(&self) -> &'static str {
        match (&self.outcome, self.if_false) {
            (Outcome::True, _) => "ok",
            (Outcome::False, IfFalse::Fails) => "FALSE",
            (Outcome::False, IfFalse::Inconclusive) => "not reached",
            (Outcome::Missing(_), _) => "not measured",
        }
    }
}

/// A check evaluated at initialization.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AtInit {
    /// The left-hand side at initialization (`None`: not defined there, e.g. a rate over 0 steps).
    pub value: Option<f64>,
    pub passes: bool,
}

/// A check under the paper's threshold.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PaperReading {
    pub value: f64,
    pub outcome: Outcome,
}

/// One seed's verdict and what it rests on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeedResult {
    pub seed: u64,
    pub verdict: Verdict,
    /// The verdict with the paper's thresholds where the file relaxes them.
    pub paper_verdict: Option<Verdict>,
    pub checks: Vec<CheckOutcome>,
    /// The quantities the checks and orderings read.
    pub quantities: BTreeMap<String, f64>,
    /// For an expected failure: the checks that failed (or held) against `expect_fail`.
    pub unexpected: Option<String>,
}

/// A command's verdict decided by a compiled-in theorem file's checks on the command's own
/// measurement, by the one verdict rule (`super::commands`): what `adamgap convex` and
/// `adamgap precision` print. In JSON `{"theorem": ..., "verdict": "holds", "checks": [...]}`, with
/// `reason` when inconclusive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DecisionFile")]
pub struct Decision {
    /// The theorem file whose checks decide it (`theorems/07-convex-unique-minimizer.toml`).
    pub theorem: String,
    #[serde(flatten)]
    pub verdict: Verdict,
    pub checks: Vec<DecidedCheck>,
}

/// One check of a [`Decision`]: its `what`, the comparison with the measured values and the
/// outcome's word (`true`, `false`, `not measured`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecidedCheck {
    pub what: String,
    pub text: String,
    pub outcome: String,
    /// [`CheckOutcome::mark`].
    pub mark: String,
}

impl Decision {
    /// The decision of `checks` with the verdict the rule gave them.
    pub fn of(theorem: &str, verdict: Verdict, checks: &[CheckOutcome]) -> Self {
        let checks = checks
            .iter()
            .map(|c| DecidedCheck {
                what: c.what.clone(),
                text: c.text.clone(),
                outcome: c.outcome.word().to_string(),
                mark: c.mark().to_string(),
            })
            .collect();
        Self { theorem: theorem.to_string(), verdict, checks }
    }
}

/// A [`Decision`] as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionFile {
    theorem: String,
    verdict: Label,
    #[serde(default)]
    reason: Option<String>,
    checks: Vec<DecidedCheck>,
}

impl TryFrom<DecisionFile> for Decision {
    type Error = String;
    fn try_from(f: DecisionFile) -> Result<Self, String> {
        Ok(Self { theorem: f.theorem, verdict: Verdict::from_parts(f.verdict, f.reason)?, checks: f.checks })
    }
}
