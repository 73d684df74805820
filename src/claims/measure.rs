//! Measurements: the named quantities a claim's checks read, from training runs ([`measure_runs`])
//! or from the convex certificate ([`measure_convex`]). The names are documented in
//! `docs/methodology.md`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::Result;
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
pub fn measure_convex(setting: &Setting) -> Result<Measurement> {
    if setting.model.activation != crate::setting::ActivationKind::Linear {
        return Ok(Measurement::unavailable("the convex certificate needs model.activation = \"linear\""));
    }
    let convex = crate::certify::ConvexSetting::from_setting(setting);
    let report = match crate::certify::run_convex(&convex) {
        Ok(r) => r,
        Err(crate::Error::Numerical(why)) => {
            return Ok(Measurement::unavailable(format!("certificate not computed: {why}")));
        }
        Err(e) => return Err(e),
    };
    let mut m = Measurement::default();
    let q = &mut m.quantities;
    q.insert("certificate.max_radius".into(), report.max_radius);
    q.insert("certificate.uncertified_predictions".into(), (report.test_size - report.predictions_certified) as f64);
    q.insert("certificate.disagreements".into(), report.disagreements as f64);
    let inconsistent = report.runs.values().filter(|r| !r.consistent).count();
    q.insert("certificate.inconsistent_runs".into(), inconsistent as f64);
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
                moved: r.steps > 0,
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

/// The number of nonzero coordinates of a noise vector besides coordinate 1: `s` for sparse noise,
/// `d - 1` for dense.
fn noise_support(s: &Setting) -> f64 {
    match s.data.noise {
        NoiseKind::Sparse => s.data.s as f64,
        NoiseKind::Dense => (s.data.d - 1) as f64,
    }
}

/// `predicted.noise_l1`: `E ||xi||_1` without coordinate 1, `s sigma_p sqrt(2/pi)` for sparse noise
/// (`(d - 1) sigma_p sqrt(2/pi)` for dense): the per-step noise growth of Adam's stage I in units of
/// `eta`, and the predicted stage-I ratio of noise to feature growth.
pub fn predicted_noise_l1(s: &Setting) -> f64 {
    noise_support(s) * s.data.sigma_p * (2.0 / std::f64::consts::PI).sqrt()
}

/// `data.supports_per_coordinate` = `n s / (d - 1)` (`n` for dense noise): the mean number of
/// training noise supports a coordinate lies in.
pub fn supports_per_coordinate(s: &Setting) -> f64 {
    s.data.n as f64 * noise_support(s) / (s.data.d - 1) as f64
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
/// `Delta rho_{i,r} / (T eta)`, and max over `(j, r)` of `|Delta gamma_{j,r}| / (T eta)`. `None`
/// for a run of zero steps, with non-finite weights, or without an initially active `(i, r)`.
pub fn stage_one_growth(exp: &Experiment, run: &Run) -> Option<(f64, f64)> {
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

/// Measures the runs of a training claim (or of the headline): every quantity of
/// `docs/methodology.md` that the runs give; `feature_level` adds the feature crossing.
pub fn measure_runs(exp: &Experiment, runs: &[&Run], feature_level: Option<f64>) -> Measurement {
    let mut m = Measurement::default();
    let s = &exp.setting;
    let q = &mut m.quantities;
    let put = |q: &mut BTreeMap<String, f64>, k: String, v: f64| {
        q.insert(k, v);
    };
    // The setting's predictions.
    let support = noise_support(s);
    put(q, "predicted.noise_l1".into(), predicted_noise_l1(s));
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
        let peak = run.trace.iter().map(|c| c.grad_norm_l2).fold(f64::NEG_INFINITY, f64::max);
        put(q, format!("{k}.grad_norm_max"), peak);
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
        if let Some(level) = feature_level {
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
        m.runs.push(RunInfo::of(run));
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

/// Whether a quantity changes with training (`<run>.*`, `distance.*`, `convex_radius.*`), as opposed
/// to a property of the setting, the data or the initialization (`predicted.*`, `data.*`, `init.*`)
/// or the convex certificate. A path claim's quantity (`last.<name>`, ...) is judged by its cell quantity `<name>`.
pub fn is_training_quantity(name: &str) -> bool {
    if let Some((pos, rest)) = name.split_once('.')
        && super::path::POSITIONS.contains(&pos)
    {
        return is_training_quantity(rest);
    }
    !["predicted.", "data.", "init.", "certificate."].iter().any(|p| name.starts_with(p))
}

/// Per-run quantity fields beyond [`checkpoint_fields`].
const RUN_FIELDS: [&str; 14] = [
    "steps",
    "grad_norm_max",
    "diverged",
    "distance_from_init",
    "reversed",
    "reversal_step",
    "noise_growth_per_step",
    "feature_growth_per_step",
    "growth_ratio",
    "feature_reach_step",
    "feature_reach_after_step",
    "noise_max_at_reach",
    "noise_growth_at_reach",
    "radius",
];

const CERTIFICATE: [&str; 8] = [
    "max_radius",
    "uncertified_predictions",
    "disagreements",
    "inconsistent_runs",
    "minimizer_radius",
    "test_size",
    "runs_not_converged",
    "adamw_distance_lower",
];

/// The quantities of a precision claim, for each optimizer `<run>` of the setting.
const PRECISION: [&str; 1] = ["verdicts_agree"];
const PRECISION_RUN: [&str; 5] =
    ["verdicts_agree", "final_distance", "max_distance", "twin_test_error_spread", "twin_final_distance"];

/// The precision audit of `setting` (4 one-ulp twins): `precision.verdicts_agree` (1 when every
/// headline verdict is the same at binary64, double-double and in every twin), and per optimizer
/// `precision.<run>.{verdicts_agree, final_distance, max_distance, twin_test_error_spread,
/// twin_final_distance}` (relative distances `||W_f64 - W_dd|| / ||W_dd||` at the end and over the
/// run; the twins' test-error range and their largest relative distance to the binary64 run).
pub fn measure_precision(setting: &Setting) -> Result<Measurement> {
    let a = crate::precision::audit::audit(&crate::precision::audit::AuditSetting {
        setting: setting.clone(),
        headline: super::headline,
        twins: 4,
        ladder: None,
    })?;
    let mut m = Measurement::default();
    m.quantities.insert("precision.verdicts_agree".into(), f64::from(u8::from(a.verdicts_agree)));
    for o in &a.optimizers {
        let q = |f: &str| format!("precision.{}.{f}", o.name);
        let fold = |v: &mut dyn Iterator<Item = f64>, f: fn(f64, f64) -> f64, init: f64| v.fold(init, f);
        let test: Vec<f64> = o.twins.iter().map(|r| r.last.test_error).collect();
        let spread = fold(&mut test.iter().copied(), f64::max, f64::NEG_INFINITY)
            - fold(&mut test.iter().copied(), f64::min, f64::INFINITY);
        let twin_distance =
            o.twins.iter().map(|r| r.weights.distance(&o.f64.weights) / o.f64.weights.norm()).fold(0.0, f64::max);
        m.quantities.insert(q("verdicts_agree"), f64::from(u8::from(o.verdicts_agree)));
        m.quantities.insert(q("final_distance"), *o.distance.last().unwrap_or(&f64::NAN));
        m.quantities.insert(q("max_distance"), o.distance.iter().copied().fold(0.0, f64::max));
        m.quantities.insert(q("twin_test_error_spread"), spread);
        m.quantities.insert(q("twin_final_distance"), twin_distance);
        for (r, label) in [(&o.f64, "f64"), (&o.dd, "dd")] {
            m.runs.push(RunInfo { name: format!("{} ({label})", r.name), ..RunInfo::of(r) });
        }
    }
    Ok(m)
}

/// `Ok` when `name` is a quantity a claim of `kind` with these run names can measure; otherwise the
/// allowed forms, for the load error.
pub fn known_quantity(kind: super::ClaimKind, runs: &[String], name: &str) -> std::result::Result<(), String> {
    let fields: Vec<&str> = checkpoint_fields_names().into_iter().chain(RUN_FIELDS[..13].iter().copied()).collect();
    let ok = match kind {
        super::ClaimKind::Path => return super::path::known_quantity(name),
        super::ClaimKind::ConvexCertificate => match name.strip_prefix("certificate.") {
            Some(rest) => CERTIFICATE.contains(&rest) || rest.strip_suffix(".radius").is_some_and(|r| !r.is_empty()),
            None => false,
        },
        super::ClaimKind::Precision => match name.split('.').collect::<Vec<_>>().as_slice() {
            ["precision", f] => PRECISION.contains(f),
            ["precision", run, f] => runs.iter().any(|r| r == run) && PRECISION_RUN.contains(f),
            _ => false,
        },
        super::ClaimKind::Training => {
            let parts: Vec<&str> = name.split('.').collect();
            match parts.as_slice() {
                ["predicted", f] => ["noise_l1", "noise_init_scale"].contains(f),
                ["data", f] => ["noise_l1_mean", "overlapping_pairs", "supports_per_coordinate"].contains(f),
                ["init", f] => checkpoint_fields_names().contains(f),
                ["certified", "distance_lower", a, b] => {
                    (*a, *b) == ("gd", "adam") && runs.iter().any(|r| r == a) && runs.iter().any(|r| r == b)
                }
                ["certified", run, f] => {
                    (*run == "init" || runs.iter().any(|r| r == run)) && crate::endpoints::CERTIFIED_FIELDS.contains(f)
                }
                ["distance" | "convex_radius", a, b] => runs.iter().any(|r| r == a) && runs.iter().any(|r| r == b),
                [run, f] => runs.iter().any(|r| r == run) && fields.contains(f),
                _ => false,
            }
        }
    };
    if ok {
        return Ok(());
    }
    Err(match kind {
        super::ClaimKind::Path => unreachable!("returned above"),
        super::ClaimKind::ConvexCertificate => {
            format!("certificate.{{{}}}, certificate.<run>.radius", CERTIFICATE.join(","))
        }
        super::ClaimKind::Precision => format!(
            "precision.{{{}}}, precision.<run>.{{{}}} with <run> one of {{{}}}",
            PRECISION.join(","),
            PRECISION_RUN.join(","),
            runs.join(",")
        ),
        super::ClaimKind::Training => format!(
            "<run>.{{{}}} with <run> one of {{{}}}; init.<checkpoint field>; predicted.{{noise_l1,noise_init_scale}}; \
             data.{{noise_l1_mean,overlapping_pairs,supports_per_coordinate}}; distance.<run>.<run>; convex_radius.<run>.<run>; \
             certified.<run or init>.{{{}}}; certified.distance_lower.gd.adam",
            fields.join(","),
            runs.join(","),
            crate::endpoints::CERTIFIED_FIELDS.join(",")
        ),
    })
}

/// The names of the per-checkpoint fields.
fn checkpoint_fields_names() -> Vec<&'static str> {
    vec![
        "train_error",
        "test_error",
        "objective",
        "loss",
        "grad_norm",
        "grad_norm_l1",
        "weight_norm",
        "feature_max",
        "feature_max_plus",
        "feature_max_minus",
        "noise_min_max",
        "noise_max_max",
    ]
}
