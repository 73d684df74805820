//! The checker: measure a claim (one match arm per [`ClaimKind`]), evaluate its checks, give a
//! verdict, and render the summary a reviewer reads.
//!
//! Every run is computed the same way whatever the thread count (see [`crate::parallel`]) and
//! results are keyed by `BTreeMap`s, so a report is identical across runs and thread counts.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::Verdict;
use super::theorem::{Check, ClaimKind, Expected, IfFalse, Op, Scale, Theorem};
use crate::error::Result;
use crate::format::sig;
use crate::model::Coefficients;
use crate::optim::StopReason;
use crate::setting::{NoiseKind, OptimizerSetting, Setting};
use crate::train::{Checkpoint, Experiment, Run};

/// What a measurement gives the checks: named quantities, the reasons some could not be measured,
/// per-checkpoint series of the tracked quantities, and the runs behind them.
#[derive(Clone, Debug, Default)]
pub struct Measurement {
    /// Measured values by name (see `docs/methodology.md`).
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

/// Checks claims, reusing runs across claims with the same setting and optimizer.
pub struct Checker {
    /// Threads for the optimizers of one claim and their steps (results do not depend on it).
    pub threads: usize,
    /// Called with a line of progress (`checking ...`, `training ...`).
    pub progress: Box<dyn Fn(&str) + Sync>,
    cache: BTreeMap<String, Cached>,
}

struct Cached {
    exp: Experiment,
    runs: BTreeMap<String, Run>,
}

impl Default for Checker {
    fn default() -> Self {
        Self::new(1)
    }
}

impl Checker {
    /// A checker with no cached runs, running up to `threads` optimizers at once, silent.
    pub fn new(threads: usize) -> Self {
        Self { threads: threads.max(1), progress: Box::new(|_| {}), cache: BTreeMap::new() }
    }

    /// Reads and checks one theorem file at `scale`.
    pub fn check_file(&mut self, path: &Path, scale: Scale) -> Result<ClaimReport> {
        let theorem = Theorem::from_file(path)?;
        self.check(&theorem, &path.display().to_string(), scale)
    }

    /// Checks one claim at `scale`; `origin` names its file in errors.
    pub fn check(&mut self, theorem: &Theorem, origin: &str, scale: Scale) -> Result<ClaimReport> {
        let setting = theorem.setting(scale, origin)?;
        (self.progress)(&format!("checking {} ({} scale)", theorem.id, theorem.scale_label(scale)));
        let m = self.measure(theorem, &setting)?;
        Ok(evaluate(theorem, origin, scale, setting, m))
    }

    /// Measures a claim: one match arm per kind.
    pub fn measure(&mut self, theorem: &Theorem, setting: &Setting) -> Result<Measurement> {
        Ok(match theorem.kind {
            ClaimKind::Training => self.measure_training(theorem, setting)?,
            ClaimKind::ConvexCertificate => measure_convex(setting)?,
        })
    }

    /// Trains (or reuses) every optimizer of `setting` from its one initialization and measures.
    fn measure_training(&mut self, theorem: &Theorem, setting: &Setting) -> Result<Measurement> {
        let mut base = setting.clone();
        base.optimizers.clear();
        let key = serde_json::to_string(&base).expect("a setting serializes");
        if !self.cache.contains_key(&key) {
            let exp = Experiment::new(setting)?;
            self.cache.insert(key.clone(), Cached { exp, runs: BTreeMap::new() });
        }
        let cached = self.cache.get_mut(&key).expect("inserted above");
        let opt_key = |o: &OptimizerSetting| serde_json::to_string(o).expect("an optimizer serializes");
        let todo: Vec<&OptimizerSetting> =
            setting.optimizers.iter().filter(|o| !cached.runs.contains_key(&opt_key(o))).collect();
        if !todo.is_empty() {
            let names: Vec<&str> = todo.iter().map(|o| o.key()).collect();
            (self.progress)(&format!("  training {} for {} steps", names.join(", "), setting.train.steps));
            let exp = &cached.exp;
            let done = crate::parallel::map_indexed(todo.len(), self.threads, |i| exp.run(todo[i], &|_| {}));
            for (o, r) in todo.iter().zip(done) {
                cached.runs.insert(opt_key(o), r);
            }
        }
        let runs: Vec<&Run> = setting.optimizers.iter().map(|o| &cached.runs[&opt_key(o)]).collect();
        Ok(measure_runs(theorem, &cached.exp, &runs))
    }
}

/// The convex case: the data, `m`, `sigma_0` and `lambda` of `setting` (its activation must be
/// linear), the certifier's documented default runs ([`crate::certify::default_runs`]), and the
/// certified quantities `certificate.*`:
/// `max_radius` (largest certified `||W_k - W*||` over the runs), `uncertified_predictions` (test
/// points whose prediction is not certified identical for every run and `W*`), `disagreements`
/// (test points where the runs' binary64 predictions differ), `minimizer_radius` (the
/// high-precision center's certified radius in `W`), `adamw_distance_lower` (certified lower bound
/// on AdamW's distance from `W*`), `runs_not_converged` (runs that did not stop on the gradient
/// tolerance).
fn measure_convex(setting: &Setting) -> Result<Measurement> {
    if setting.model.activation != crate::setting::ActivationKind::Linear {
        return Ok(Measurement::unavailable("the convex certificate needs model.activation = \"linear\""));
    }
    let convex = crate::certify::ConvexSetting { threads: 1, ..crate::certify::ConvexSetting::from_setting(setting) };
    let report = crate::certify::run_convex(&convex)?;
    let mut m = Measurement::default();
    let q = &mut m.quantities;
    q.insert("certificate.max_radius".into(), report.max_radius);
    q.insert("certificate.uncertified_predictions".into(), (report.test_size - report.predictions_certified) as f64);
    q.insert("certificate.disagreements".into(), report.disagreements as f64);
    q.insert("certificate.minimizer_radius".into(), report.minimizer.radius);
    q.insert("certificate.test_size".into(), report.test_size as f64);
    let not_converged = report.runs.values().filter(|r| !matches!(r.stop, StopReason::GradTol { .. })).count();
    q.insert("certificate.runs_not_converged".into(), not_converged as f64);
    match &report.adamw {
        Some(a) => {
            q.insert("certificate.adamw_distance_lower".into(), a.distance_lower);
        }
        None => {
            m.missing.insert("certificate.adamw_distance_lower".into(), "AdamW contrast not run".into());
        }
    }
    for (name, r) in &report.runs {
        q.insert(format!("certificate.{name}.radius"), r.radius);
        if let Some(optimizer) = &r.optimizer {
            m.runs.push(RunInfo {
                name: name.clone(),
                optimizer: optimizer.clone(),
                steps: r.steps,
                stop: r.stop,
                seconds: r.seconds,
            });
        }
    }
    if let Some(r) = report.runs.values().find(|r| matches!(r.stop, StopReason::Diverged { .. })) {
        m.inconclusive = Some(format!("a convex run diverged ({})", r.stop));
    }
    Ok(m)
}

/// `(field, value)` of a checkpoint: the names of per-checkpoint quantities.
pub fn checkpoint_fields(c: &Checkpoint) -> [(&'static str, f64); 12] {
    let co = &c.coefficients;
    [
        ("train_error", c.train_error),
        ("test_error", c.test_error),
        ("objective", c.objective),
        ("loss", c.loss),
        ("grad_norm", c.grad_norm_l2),
        ("grad_norm_l1", c.grad_norm_l1),
        ("weight_norm", c.weight_norm),
        ("feature_max", co.feature_max),
        ("feature_max_plus", co.feature_max_per_class[0]),
        ("feature_max_minus", co.feature_max_per_class[1]),
        ("noise_min_max", co.noise_min_max),
        ("noise_max_max", co.noise_max_max),
    ]
}

/// Mean `l1` norm of the training noise vectors without coordinate 1 (the feature noise).
fn mean_noise_l1(exp: &Experiment) -> f64 {
    let data = &exp.train;
    let total: f64 = (0..data.len())
        .map(|i| {
            let (idx, val) = data.noise.row(i);
            idx.iter().zip(val).filter(|(k, _)| **k != 0).map(|(_, v)| v.abs()).sum::<f64>()
        })
        .sum();
    total / data.len() as f64
}

/// Stage-I growth of one run, in units of `eta` per step, from `W^(0)` to the run's last weights:
/// `(noise, feature)` = mean over initially active `(i, r)` (`rho_{i,r}(0) > 0`) of
/// `Delta rho_{i,r} / (T eta)`, and max over `(j, r)` of `|Delta gamma_{j,r}| / (T eta)`.
fn stage_one_growth(exp: &Experiment, run: &Run) -> Option<(f64, f64)> {
    let t = run.steps as f64;
    let eta = run.optimizer.eta();
    if run.steps == 0 || !run.weights.is_finite() {
        return None;
    }
    let c0 = Coefficients::of(&exp.init, &exp.train);
    let c1 = Coefficients::of(&run.weights, &exp.train);
    let (mut sum, mut count) = (0.0, 0usize);
    for (r0, r1) in c0.rho.iter().zip(c1.rho.iter()) {
        if *r0 > 0.0 {
            sum += r1 - r0;
            count += 1;
        }
    }
    let feature = c0.gamma.iter().zip(c1.gamma.iter()).map(|(g0, g1)| (g1 - g0).abs()).fold(0.0, f64::max);
    (count > 0).then(|| (sum / count as f64 / (t * eta), feature / (t * eta)))
}

/// Measures the runs of a training claim.
fn measure_runs(theorem: &Theorem, exp: &Experiment, runs: &[&Run]) -> Measurement {
    let mut m = Measurement::default();
    let s = &exp.setting;
    let q = &mut m.quantities;
    let put = |q: &mut BTreeMap<String, f64>, k: String, v: f64| {
        q.insert(k, v);
    };
    // The setting's predictions.
    let sqrt_2_pi = (2.0 / std::f64::consts::PI).sqrt();
    let support = match s.data.noise {
        NoiseKind::Sparse => s.data.s as f64,
        NoiseKind::Dense => (s.data.d - 1) as f64,
    };
    put(q, "predicted.noise_l1".into(), support * s.data.sigma_p * sqrt_2_pi);
    put(q, "predicted.noise_init_scale".into(), s.model.sigma0 * support.sqrt() * s.data.sigma_p);
    put(q, "data.noise_l1_mean".into(), mean_noise_l1(exp));
    let overlap = exp.overlap();
    if overlap.pairs_total > 0 {
        put(q, "data.overlapping_pairs".into(), overlap.pairs_overlapping as f64 / overlap.pairs_total as f64);
    }
    put(q, "data.supports_per_coordinate".into(), exp.train.len() as f64 * support / (s.data.d - 1) as f64);
    if let Some(first) = runs.first() {
        for (f, v) in checkpoint_fields(&first.trace[0]) {
            put(q, format!("init.{f}"), v);
        }
    }
    for run in runs {
        let k = &run.name;
        for (f, v) in checkpoint_fields(&run.last) {
            put(q, format!("{k}.{f}"), v);
        }
        put(q, format!("{k}.steps"), run.steps as f64);
        put(q, format!("{k}.diverged"), f64::from(u8::from(matches!(run.stop, StopReason::Diverged { .. }))));
        put(q, format!("{k}.distance_from_init"), run.weights.distance(&exp.init));
        put(q, format!("{k}.reversed"), f64::from(u8::from(run.feature_reversal_step.is_some())));
        match run.feature_reversal_step {
            Some(step) => put(q, format!("{k}.reversal_step"), step as f64),
            None => {
                m.missing.insert(
                    format!("{k}.reversal_step"),
                    format!("{k}'s feature never reversed in {} steps", run.steps),
                );
            }
        }
        if let Some((noise, feature)) = stage_one_growth(exp, run) {
            put(q, format!("{k}.noise_growth_per_step"), noise);
            put(q, format!("{k}.feature_growth_per_step"), feature);
            if feature > 0.0 {
                put(q, format!("{k}.growth_ratio"), noise / feature);
            }
        }
        if let Some(level) = theorem.measure.feature_level {
            let init_noise = run.trace[0].coefficients.noise_max_max;
            match run.trace.iter().position(|c| c.coefficients.feature_max >= level) {
                Some(p) => {
                    let c = &run.trace[p];
                    put(q, format!("{k}.feature_reach_step"), c.step as f64);
                    if p > 0 {
                        put(q, format!("{k}.feature_reach_after_step"), run.trace[p - 1].step as f64);
                    }
                    put(q, format!("{k}.noise_max_at_reach"), c.coefficients.noise_max_max);
                    put(q, format!("{k}.noise_growth_at_reach"), c.coefficients.noise_max_max / init_noise);
                }
                None => {
                    let why = format!("{k}'s feature_max never reached {level} in {} steps", run.steps);
                    for f in ["feature_reach_step", "noise_max_at_reach", "noise_growth_at_reach"] {
                        m.missing.insert(format!("{k}.{f}"), why.clone());
                    }
                }
            }
        }
        for (f, _) in checkpoint_fields(&run.last) {
            let series = run
                .trace
                .iter()
                .map(|c| (c.step, checkpoint_fields(c).iter().find(|(g, _)| *g == f).expect("field").1))
                .collect();
            m.series.insert(format!("{k}.{f}"), series);
        }
        m.runs.push(RunInfo {
            name: run.name.clone(),
            optimizer: run.optimizer.clone(),
            steps: run.steps,
            stop: run.stop,
            seconds: run.seconds,
        });
    }
    let lambda = s.model.lambda;
    for (a, ra) in runs.iter().enumerate() {
        for rb in &runs[a + 1..] {
            let pair = format!("{}.{}", ra.name, rb.name);
            let dist = ra.weights.distance(&rb.weights);
            m.quantities.insert(format!("distance.{pair}"), dist);
            if lambda > 0.0 {
                // If L were lambda-strongly convex, two points with these gradient norms would be at
                // most this far apart.
                let radius = (ra.last.grad_norm_l2 + rb.last.grad_norm_l2) / lambda;
                m.quantities.insert(format!("convex_radius.{pair}"), radius);
            }
        }
    }
    m
}

/// The value of an ordering item or a check side: a number, or a quantity.
fn lookup(m: &Measurement, name: &str) -> std::result::Result<f64, String> {
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

fn evaluate_check(c: &Check, m: &Measurement) -> CheckOutcome {
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

/// The verdict from the measurement and the check outcomes.
fn verdict_of(m: &Measurement, checks: &[CheckOutcome]) -> Verdict {
    if let Some(r) = &m.inconclusive {
        return Verdict::Inconclusive(r.clone());
    }
    let diverged: Vec<String> = m
        .runs
        .iter()
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
    let verdict = verdict_of(&m, &checks);
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
    let status = if verdict.label() == theorem.expected.label() {
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

/// Step counts and flags print exactly; everything else to 2 significant digits.
fn fmt_quantity(name: &str, v: f64) -> String {
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
            let mut header = vec!["step".to_string()];
            header.extend(self.tracked_quantities.iter().cloned());
            let mut rows = vec![header];
            for r in &self.tracked {
                let mut row = vec![r.step.to_string()];
                row.extend(r.values.iter().map(|v| v.map_or("-".to_string(), |v| sig(v, 2))));
                rows.push(row);
            }
            let widths: Vec<usize> =
                (0..rows[0].len()).map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0)).collect();
            for row in rows {
                let cells: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:>w$}")).collect();
                let _ = writeln!(o, "    {}", cells.join("  ").trim_end());
            }
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
        let _ = write!(o, "expected: {}", self.expected.label());
        if self.pending {
            let _ = write!(o, " (pending{})", self.pending_reason.as_ref().map_or(String::new(), |r| format!(": {r}")));
        }
        o.push('\n');
        let _ = writeln!(o, "status: {}", self.status.label());
        o
    }
}
