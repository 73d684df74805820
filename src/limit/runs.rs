//! The runs to the limit (`adamgap run --to-limit`, `docs/limit-points.md`): each optimizer's
//! final iterate (stopped by its gradient tolerance or its budget, as its stop reason says), its
//! Newton polish, the distance from the iterate to the polished point beside `||W_GD - W_Adam||_F`,
//! and the errors at both.

use std::fmt::Write;

use serde_json::json;

use super::basis::PatchBasis;
use super::polish::{Polish, PolishError, PolishSettings, polish};
use crate::endpoints::{EndpointOptions, PointCertificate, certify_point};
use crate::format::sig;
use crate::model::Weights;
use crate::optim::StopReason;
use crate::train::{Experiment, Run};

/// The gradient tolerance `--to-limit` sets when the setting has none: near where binary64
/// gradients of `L` stop decreasing at the defaults (Adam's reaches `~5e-19`, a polished point's
/// `~1e-17`).
pub const TO_LIMIT_GRAD_TOL: f64 = 1e-12;

/// The errors at a point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PointErrors {
    /// `||grad L||_2` (the model's binary64 gradient).
    pub grad_norm: f64,
    pub train_error: f64,
    pub test_error: f64,
    /// `||W||_F`.
    pub weight_norm: f64,
}

impl PointErrors {
    fn at(exp: &Experiment, w: &Weights) -> Self {
        let mut ws = exp.model.workspace(exp.train.patches.max(exp.test.patches));
        Self {
            grad_norm: exp.model.full_gradient(w, &exp.train).norm(),
            train_error: exp.model.error_rate(w, &exp.train, &mut ws),
            test_error: exp.model.error_rate(w, &exp.test, &mut ws),
            weight_norm: w.norm(),
        }
    }
}

/// The training pre-activations `<w_c, x_{i,p}>` that are on opposite sides of 0 at `a` and `b`,
/// both at least [`PATTERN_TOLERANCE`] away from it (a filter's component that only weight decay
/// moves leaves its pre-activations near 0, on either side by rounding), and the training margins
/// `y_i f_i` whose sign differs: a polish that changes neither kept the optimizer's activation
/// pattern and fit.
pub fn pattern_changes(exp: &Experiment, a: &Weights, b: &Weights) -> (usize, usize) {
    let data = &exp.train;
    let width = 2 * a.m();
    let mut changed = 0;
    for r in 0..data.x.rows() {
        let (idx, val) = data.x.row(r);
        for c in 0..width {
            let z = |w: &Weights| idx.iter().zip(val).map(|(&k, &v)| v * w.row(k as usize)[c]).sum::<f64>();
            let (za, zb) = (z(a), z(b));
            changed += usize::from(za * zb < 0.0 && za.abs().min(zb.abs()) >= PATTERN_TOLERANCE);
        }
    }
    let mut ws = exp.model.workspace(data.patches);
    let (fa, fb) = (exp.model.outputs(a, data, &mut ws), exp.model.outputs(b, data, &mut ws));
    let margins =
        data.y.iter().zip(fa.iter().zip(&fb)).filter(|(y, (p, q))| (*y * *p > 0.0) != (*y * *q > 0.0)).count();
    (changed, margins)
}

/// How far from 0 a pre-activation must be, at both points, for [`pattern_changes`] to count
/// its sign change (ReLU^3 of it is below `1e-27`).
pub const PATTERN_TOLERANCE: f64 = 1e-9;

/// One optimizer's limit point.
#[derive(Clone, Debug)]
pub struct LimitPoint {
    /// The optimizer.
    pub name: String,
    /// Why its run stopped (the driver's reason).
    pub stop: StopReason,
    /// At its last iterate.
    pub iterate: PointErrors,
    /// The Newton polish from it (`None`: not asked for).
    pub polish: Option<Result<Polish, PolishError>>,
    /// At the polished point, when the polish finished.
    pub polished: Option<PointErrors>,
    /// [`pattern_changes`] from the iterate to the polished point.
    pub changes: Option<(usize, usize)>,
    /// With `--certify`: the endpoint certificate (`crate::endpoints`, exact arithmetic) of the
    /// polished point: an enclosure of `||grad L||_2` there and its certified error counts. These
    /// are facts about the polished point `P`, not yet about a critical point near it.
    pub certified: Option<Result<PointCertificate, String>>,
}

/// The runs to the limit of one experiment.
#[derive(Clone, Debug)]
pub struct LimitReport {
    /// `k = dim span{training patches}`.
    pub k: usize,
    /// `2 m k`.
    pub reduced_dim: usize,
    /// The weight decay `lambda` (the Hessian's eigenvalue outside the span).
    pub lambda: f64,
    /// Seconds to build the basis.
    pub basis_seconds: f64,
    pub points: Vec<LimitPoint>,
    /// `||W_GD - W_Adam||_F` at the iterates and at the polished points, when both ran.
    pub gd_adam: Option<(f64, Option<f64>)>,
}

/// The limit points of `runs` (trained on `exp`), polished by `settings` when given.
pub fn limit_points(exp: &Experiment, runs: &[Run], settings: Option<PolishSettings>, certify: bool) -> LimitReport {
    let clock = std::time::Instant::now();
    let basis = PatchBasis::new(&exp.train);
    let basis_seconds = clock.elapsed().as_secs_f64();
    let points: Vec<LimitPoint> = runs
        .iter()
        .map(|run| {
            let polish = settings.map(|s| polish(&exp.model, &exp.train, &basis, &run.weights, s));
            let done = polish.as_ref().and_then(|p| p.as_ref().ok());
            let polished = done.map(|p| PointErrors::at(exp, &p.weights));
            let changes = done.map(|p| pattern_changes(exp, &run.weights, &p.weights));
            let certified = done.filter(|_| certify).map(|p| {
                certify_point(&exp.model, &exp.train, &exp.test, &p.weights, &EndpointOptions::default())
                    .map_err(|e| e.to_string())
            });
            LimitPoint {
                certified,
                changes,
                name: run.name.clone(),
                stop: run.stop,
                iterate: PointErrors::at(exp, &run.weights),
                polish,
                polished,
            }
        })
        .collect();
    let find = |k: &str| runs.iter().position(|r| r.name == k);
    let gd_adam = find("gd").zip(find("adam")).map(|(g, a)| {
        let polished = |i: usize| points[i].polish.as_ref().and_then(|p| p.as_ref().ok()).map(|p| &p.weights);
        (runs[g].weights.distance(&runs[a].weights), polished(g).zip(polished(a)).map(|(x, y)| x.distance(y)))
    });
    LimitReport {
        k: basis.k(),
        reduced_dim: 2 * exp.model.m * basis.k(),
        lambda: exp.model.lambda,
        basis_seconds,
        points,
        gd_adam,
    }
}

fn errors_json(e: &PointErrors) -> serde_json::Value {
    json!({
        "grad_norm_l2": e.grad_norm,
        "train_error": e.train_error,
        "test_error": e.test_error,
        "weight_norm": e.weight_norm,
    })
}

fn certified_json(c: &Result<PointCertificate, String>) -> serde_json::Value {
    match c {
        Ok(c) => json!({
            "grad_norm_l2": [c.grad_norm.lo, c.grad_norm.hi],
            "train_errors": c.train,
            "test_errors": c.test,
            "feature_max_per_class": c.coefficients.feature_max_per_class,
        }),
        Err(e) => json!({ "failed": e }),
    }
}

/// The report as JSON (`"limit"` in `adamgap run --to-limit --json`).
pub fn json(r: &LimitReport) -> serde_json::Value {
    let points: Vec<serde_json::Value> = r
        .points
        .iter()
        .map(|p| {
            let polish = match &p.polish {
                None => serde_json::Value::Null,
                Some(Ok(pol)) => json!({
                    "stop": pol.stop,
                    "steps": pol.stop.step(),
                    "grad_norms_l2": pol.grad_norms,
                    "step_norms": pol.step_norms,
                    "reduced_step_norms": pol.reduced_step_norms,
                    "distance": pol.distance,
                    "start_complement": pol.start_complement,
                    "seconds": pol.seconds,
                    "factorizations": pol.factorizations,
                    "smallest_eigenvalue_estimate": pol.smallest_eigenvalue.map(|e| e.0),
                    "smallest_eigenvalue_at_step": pol.smallest_eigenvalue.map(|e| e.1),
                    "hessian_seconds": pol.hessian_seconds,
                    "factor_seconds": pol.factor_seconds,
                    "at_polished": p.polished.as_ref().map(errors_json),
                    "preactivation_sign_changes": p.changes.map(|c| c.0),
                    "margin_sign_changes": p.changes.map(|c| c.1),
                    "certified_at_polished": p.certified.as_ref().map(certified_json),
                }),
                Some(Err(e)) => json!({ "failed": e.to_string() }),
            };
            json!({ "optimizer": p.name, "stop": p.stop, "at_iterate": errors_json(&p.iterate), "polish": polish })
        })
        .collect();
    json!({
        "span_dim": r.k,
        "reduced_dim": r.reduced_dim,
        "basis_seconds": r.basis_seconds,
        "points": points,
        "gd_adam_distance": r.gd_adam.map(|(i, _)| i),
        "gd_adam_distance_polished": r.gd_adam.and_then(|(_, p)| p),
    })
}

/// The report as text (after the run table of `adamgap run --to-limit`).
pub fn text(r: &LimitReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nlimit points (docs/limit-points.md): span of the training patches k = {}, reduced Hessian {} x {}",
        r.k, r.reduced_dim, r.reduced_dim
    );
    for p in &r.points {
        let it = &p.iterate;
        let _ = writeln!(
            out,
            "  {}: {}; at the iterate ||grad L||_2 = {}, train error {}, test error {}, ||W||_F = {}",
            p.name,
            p.stop,
            sig(it.grad_norm, 3),
            sig(it.train_error, 4),
            sig(it.test_error, 4),
            sig(it.weight_norm, 4)
        );
        match (&p.polish, &p.polished) {
            (Some(Ok(pol)), Some(at)) => {
                let _ = writeln!(
                    out,
                    "    Newton polish: {} ({} factorizations, {:.1} s: Hessians {:.1} s, Cholesky {:.1} s); ||grad L||_2 {} -> {}; distance to the iterate {} \
                     (of which {} outside the span); training pre-activations changing sign (|z| >= 1e-9) {}, training \
                     margins changing sign {}; train error {}, test error {}, ||W||_F = {}",
                    pol.stop,
                    pol.factorizations,
                    pol.seconds,
                    pol.hessian_seconds,
                    pol.factor_seconds,
                    sig(it.grad_norm, 3),
                    sig(at.grad_norm, 3),
                    sig(pol.distance, 3),
                    sig(pol.start_complement, 3),
                    p.changes.map_or(0, |c| c.0),
                    p.changes.map_or(0, |c| c.1),
                    sig(at.train_error, 4),
                    sig(at.test_error, 4),
                    sig(at.weight_norm, 4)
                );
                if let Some((mu, step)) = pol.smallest_eigenvalue {
                    let _ = writeln!(
                        out,
                        "    smallest eigenvalue of the reduced Hessian at the start of polish step {step}: about {} \
                         (inverse iteration, not certified; lambda = {})",
                        sig(mu, 3),
                        sig(r.lambda, 3)
                    );
                }
            }
            (Some(Err(e)), _) => {
                let _ = writeln!(out, "    Newton polish not done: {e}; the iterate is reported as it is");
                continue;
            }
            _ => {}
        }
        match &p.certified {
            Some(Ok(c)) => {
                let [tr_lo, tr_hi] = c.train.rate_bounds();
                let [te_lo, te_hi] = c.test.rate_bounds();
                let _ = writeln!(
                    out,
                    "    certified at the polished point (exact arithmetic): ||grad L||_2 in [{}, {}]; \
                     train error in [{}, {}], test error in [{}, {}]; max_r gamma_(j,r) = {}, {} (j = +1, -1; \
                     invariant under permutations of the filters within a class)",
                    sig(c.grad_norm.lo, 3),
                    sig(c.grad_norm.hi, 3),
                    sig(tr_lo, 4),
                    sig(tr_hi, 4),
                    sig(te_lo, 4),
                    sig(te_hi, 4),
                    sig(c.coefficients.feature_max_per_class[0], 4),
                    sig(c.coefficients.feature_max_per_class[1], 4)
                );
            }
            Some(Err(e)) => {
                let _ = writeln!(out, "    certificate of the polished point failed: {e}");
            }
            None => {}
        }
    }
    if let Some((iterates, polished)) = r.gd_adam {
        let _ = write!(out, "  ||W_GD - W_Adam||_F = {} at the iterates", sig(iterates, 4));
        match polished {
            Some(p) => {
                let _ = writeln!(out, ", {} at the polished points", sig(p, 4));
            }
            None => out.push('\n'),
        }
    }
    out
}

/// The Markdown section of the report folder (`adamgap run --to-limit --report DIR`): the text
/// report in a fenced block under its own heading.
pub fn markdown(r: &LimitReport) -> String {
    format!("\n## Limit points\n\nSee docs/limit-points.md.\n\n```text\n{}\n```\n", text(r).trim())
}
