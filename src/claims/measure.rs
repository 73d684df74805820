//! Measurements: the named quantities a claim's checks read ([`super::quantity`]), from training
//! runs ([`measure_runs`]), the convex certificate ([`measure_convex`], [`measure_certificate`]) or
//! the precision audit ([`measure_precision`], [`measure_audit`]). The names are documented in
//! `docs/methodology.md`.

use std::collections::BTreeMap;

use super::outcome::{Measurement, RunInfo};
use super::quantity::{Form, QUANTITIES};
use crate::certify::ConvexReport;
use crate::error::Result;
use crate::model::Coefficients;
use crate::optim::StopReason;
use crate::precision::audit::{Audit, Headline};
use crate::setting::{NoiseKind, Setting};
use crate::train::{Experiment, Run};

pub use super::quantity::checkpoint_fields;

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
    match crate::certify::run_convex(&convex) {
        Ok(report) => Ok(measure_certificate(&report)),
        Err(crate::Error::Numerical(why)) => Ok(Measurement::unavailable(format!("certificate not computed: {why}"))),
        Err(e) => Err(e),
    }
}

/// The quantities `certificate.*` of a convex certificate (see [`measure_convex`]), its runs (not
/// Newton's), and the reason a run diverged.
pub fn measure_certificate(report: &ConvexReport) -> Measurement {
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
        m.quantities.insert(format!("certificate.{name}.radius"), r.radius);
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
    m
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
        for field in QUANTITIES.iter().filter(|q| q.form == Form::Checkpoint) {
            let at = field.checkpoint.expect("a checkpoint field");
            let series = run.trace.iter().map(|c| (c.step, at(c))).collect();
            m.series.insert(format!("{k}.{}", field.names[0]), series);
        }
        m.runs.push(RunInfo::of(run));
    }
    let lambda = s.model.lambda;
    for (a, ra) in runs.iter().enumerate() {
        for rb in &runs[a + 1..] {
            let pair = format!("{}.{}", ra.name, rb.name);
            let dist = ra.weights.distance(&rb.weights);
            m.quantities.insert(format!("distance.{pair}"), dist);
            m.quantities.insert(format!("test_error_gap.{pair}"), rb.last.test_error - ra.last.test_error);
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

/// The precision audit of `setting` (4 one-ulp twins, the headline's verdict lines by `headline`,
/// [`crate::claims::headline()`]), measured by [`measure_audit`].
pub fn measure_precision(setting: &Setting, headline: Headline) -> Result<Measurement> {
    let a = crate::precision::audit::audit(&crate::precision::audit::AuditSetting {
        setting: setting.clone(),
        headline,
        twins: 4,
        ladder: None,
    })?;
    Ok(measure_audit(&a))
}

/// The quantities of a precision audit: `precision.verdicts_agree` (1 when every headline verdict
/// is the same at binary64, double-double and in every twin), and per optimizer
/// `precision.<run>.{verdicts_agree, final_distance, max_distance, twin_test_error_spread,
/// twin_final_distance}` (relative distances `||W_f64 - W_dd|| / ||W_dd||` at the end and over the
/// run; the twins' test-error range and their largest relative distance to the binary64 run); the
/// binary64 and double-double runs.
pub fn measure_audit(a: &Audit) -> Measurement {
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
    m
}
