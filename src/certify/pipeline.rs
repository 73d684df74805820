//! The whole convex comparison for one [`ConvexSetting`]: the high-precision minimizer, the runs
//! from one initialization, the certificate of every output, the test predictions
//! (`docs/convex.md`). The verdict is claim 07's checks on this report
//! (`claims::commands::convex`).

use std::collections::BTreeMap;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::Signed;

use super::enclosure::{self, Certificate, smoothness_upper};
use super::newton::{Minimizer, high_precision_minimizer};
use super::predictions::Predictions;
use super::problem::ConvexProblem;
use super::report::{AdamWReport, ConvexReport, MinimizerReport, RunReport};
use super::runs::{self, RunMethod, RunOutcome, RunSpec};
use super::setting::ConvexSetting;
use crate::error::Result;
use crate::exact::{sqrt_lower, sqrt_upper, to_f64_down, to_f64_up};
use crate::optim::StopReason;

/// Everything [`run_convex`] computed, for the export and for callers that need the points.
pub struct ConvexOutcome {
    /// The problem.
    pub problem: ConvexProblem,
    /// The high-precision minimizer (in `u`).
    pub minimizer: Minimizer,
    /// The minimizer's center rounded to binary64 and its certificate (the exported pair).
    pub center_f64: Vec<f64>,
    /// Certificate of `center_f64` in `u` space.
    pub center_f64_certificate: Certificate,
    /// The runs (compared ones, Newton's among them, then AdamW).
    pub runs: Vec<RunOutcome>,
    /// The report.
    pub report: ConvexReport,
}

/// Runs the whole convex comparison and returns the report. Parallel passes run on the current
/// thread pool; no result depends on its size.
pub fn run_convex(setting: &ConvexSetting) -> Result<ConvexReport> {
    Ok(run_convex_full(setting)?.report)
}

fn rat(x: f64) -> BigRational {
    BigRational::from_float(x).expect("finite")
}

fn int(v: u64) -> BigRational {
    BigRational::from_integer(BigInt::from(v))
}

/// [`run_convex`], also returning the points (for [`super::export`]).
pub fn run_convex_full(setting: &ConvexSetting) -> Result<ConvexOutcome> {
    let start = std::time::Instant::now();
    setting.validate()?;
    let problem = setting.problem()?;
    let p = &problem.reduced;
    let init = setting.init(&problem);

    // 1. The high-precision minimizer (u space), its W-space radius, and its binary64 rounding.
    let t0 = std::time::Instant::now();
    let minimizer =
        high_precision_minimizer(p, setting.digits, setting.prec, super::newton::refinement_steps(setting.digits))?;
    let min_seconds = t0.elapsed().as_secs_f64();
    let lift = |r_u: &BigRational| -> BigRational {
        match problem.filters {
            None => r_u.clone(),
            // ||lift(a) - lift(b)|| = ||a - b|| / sqrt(2m): divide by a lower bound of sqrt(2m).
            Some(m) => r_u / sqrt_lower(&int(2 * m as u64), 64).expect(">= 0"),
        }
    };
    let r_star = lift(&minimizer.certificate.radius);
    let center_f64: Vec<f64> =
        minimizer.center.iter().map(|c| crate::exact::to_f64_nearest(&c.to_rational())).collect();
    let center_f64_exact = enclosure::exact_vec(&center_f64, "the rounded center")?;
    let center_f64_certificate = enclosure::certify_u(p, &center_f64_exact, setting.prec);

    // 2. The runs (compared ones, then AdamW), all from the same initialization; Newton's run
    //    after the compared first-order runs.
    let run_specs = setting.run_specs();
    let adamw_spec = setting.adamw_spec();
    let mut specs: Vec<(RunSpec, usize)> = run_specs.iter().map(|r| (r.clone(), setting.steps)).collect();
    if let Some(a) = &adamw_spec {
        specs.push((a.clone(), setting.adamw_steps));
    }
    let mut outcomes = runs::run_all(&problem, &specs, &init, setting.grad_tol);
    if setting.newton_run {
        outcomes.insert(run_specs.len(), runs::run_newton(&problem, setting.grad_tol)?);
    }

    // 3. Certificates of every output, and their consistency with the minimizer.
    type Certified = (Certificate, [BigRational; 2]);
    let certs: Vec<Certified> = crate::parallel::map_indexed(outcomes.len(), |i| {
        let pt = enclosure::ExactPoint::of(&problem, &outcomes[i].params)?;
        let c = enclosure::certify_exact_point(&problem, &pt, setting.prec);
        let (lo, hi) = enclosure::distance_to_center(&pt, &minimizer.center, setting.prec);
        Ok((c, [lo, hi]))
    })
    .into_iter()
    .collect::<Result<Vec<_>>>()?;
    let is_adamw = |i: usize| adamw_spec.is_some() && i == outcomes.len() - 1;

    // 4. Test predictions (see `predictions`).
    let to_u_radius = |r: &BigRational| -> BigRational {
        match problem.filters {
            None => r.clone(),
            Some(m) => r * sqrt_upper(&int(2 * m as u64), 64).expect(">= 0"),
        }
    };
    let predictions = Predictions::new(&problem, &center_f64_exact, to_f64_up(&center_f64_certificate.radius));
    let test_n = predictions.len();
    let mut run_reports = BTreeMap::new();
    let mut max_r_u = 0.0f64;
    let mut max_radius = 0.0f64;
    let mut radii = Vec::new();
    let mut adamw_report = None;
    let smooth = smoothness_upper(&problem);
    for (i, (o, (c, dist))) in outcomes.iter().zip(&certs).enumerate() {
        let u = problem.u_of(&o.params);
        let test_error = predictions.test_error(&u);
        if is_adamw(i) {
            let lower = &c.grad_norm_lower / &smooth;
            let via_center = &dist[0] - &r_star;
            let RunMethod::FirstOrder(spec) = &o.method else { unreachable!("the AdamW contrast is first-order") };
            adamw_report = Some(AdamWReport {
                optimizer: spec.optimizer.clone(),
                stop: o.stop,
                steps: o.stop.step(),
                grad_norm_lower: c.grad_norm_lower_f64(),
                smoothness_upper: to_f64_up(&smooth),
                distance_lower: to_f64_down(&lower),
                distance_lower_via_center: if via_center.is_positive() { to_f64_down(&via_center) } else { 0.0 },
                radius: c.radius_f64(),
                test_error,
                prediction_differences: predictions.differences(&u),
            });
            continue;
        }
        let radius = c.radius_f64();
        let converged = matches!(o.stop, StopReason::GradTol { .. });
        // Consistency: dist(output, center) - r_star <= ||output - W*|| <= radius.
        let consistent = &dist[0] - &r_star <= c.radius;
        let r_u = to_f64_up(&to_u_radius(&c.radius));
        max_r_u = max_r_u.max(r_u);
        max_radius = max_radius.max(radius);
        radii.push((o.name.clone(), radius));
        let (optimizer, schedule) = match &o.method {
            RunMethod::FirstOrder(spec) => (Some(spec.optimizer.clone()), spec.schedule.describe()),
            // Newton's step has no schedule: the report's `schedule` reads `constant` for it.
            RunMethod::Newton => (None, crate::optim::Schedule::Constant.describe()),
        };
        run_reports.insert(
            o.name.clone(),
            RunReport {
                optimizer,
                schedule,
                stop: o.stop,
                steps: o.stop.step(),
                grad_norm_f64: o.grad_norm_f64,
                grad_norm_upper: c.grad_norm_upper_f64(),
                grad_norm_lower: c.grad_norm_lower_f64(),
                radius,
                certified_within_target: converged && radius <= setting.target_radius,
                distance_to_center: [to_f64_down(&dist[0]), to_f64_up(&dist[1])],
                consistent,
                predictions_certified: predictions.certified(r_u),
                test_error,
                seconds: o.seconds,
            },
        );
    }
    let predictions_certified = predictions.certified(max_r_u);
    // Certified predictions all equal sign(<u*, x_t>), so two can never differ; counted anyway from
    // the runs' binary64 outputs at the certified points, as a check of the whole chain.
    let us: Vec<Vec<f64>> =
        outcomes.iter().enumerate().filter(|(i, _)| !is_adamw(*i)).map(|(_, o)| problem.u_of(&o.params)).collect();
    let disagreements = predictions.disagreements(&us, max_r_u);
    let mut pair_bounds = BTreeMap::new();
    for a in 0..radii.len() {
        for b in a + 1..radii.len() {
            let s = rat(radii[a].1) + rat(radii[b].1);
            pair_bounds.insert(format!("{}/{}", radii[a].0, radii[b].0), to_f64_up(&s));
        }
    }
    let minimizer_report = MinimizerReport {
        radius: to_f64_up(&r_star),
        radius_u: minimizer.certificate.radius_f64(),
        digits: setting.digits,
        reached: minimizer.reached,
        iterations: minimizer.iterations,
        prec: minimizer.prec,
        center_norm: center_f64.iter().map(|x| x * x).sum::<f64>().sqrt(),
        center_feature: center_f64[0],
        seconds: min_seconds,
    };
    let all_within = run_reports.values().all(|r| r.certified_within_target);
    let report = ConvexReport {
        problem: problem.kind.name().into(),
        lambda: setting.lambda(),
        lambda_u: enclosure::lambda_u(p).to_string(),
        scale: if p.scale_den == 1 { "1".into() } else { format!("1/{}", p.scale_den) },
        d: p.d,
        n: p.n(),
        m: problem.filters,
        dim: problem.dim(),
        smoothness_upper: to_f64_up(&smooth),
        condition_bound: to_f64_up(&(smooth.clone() / rat(problem.lambda_space()))),
        prec: setting.prec,
        target_radius: setting.target_radius,
        runs: run_reports,
        max_radius,
        pair_bounds,
        minimizer: minimizer_report,
        agree: all_within && disagreements == 0,
        predictions_certified,
        disagreements,
        test_size: test_n,
        minimizer_test_error: predictions.minimizer_test_error(),
        adamw: adamw_report,
        seconds: start.elapsed().as_secs_f64(),
    };
    Ok(ConvexOutcome { problem, minimizer, center_f64, center_f64_certificate, runs: outcomes, report })
}
