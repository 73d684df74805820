//! Certificates for the convex case: every optimizer reaches the one regularized minimizer.
//!
//! PAPER.md, "The convex claim, made checkable": with a convex loss and weight decay `lambda > 0`
//! the objective is `lambda`-strongly convex, so for *every* point
//!
//! ```text
//! ||W - W*|| <= ||grad L(W)|| / lambda.
//! ```
//!
//! This module turns that inequality into certificates computed from the exact values of binary64
//! points and data, with the transcendental functions enclosed by [`crate::exact`]:
//!
//! * [`problem`]: the convex problems (logistic regression; the CNN with the linear activation,
//!   which depends on `W` only through `u(W) = sum_r (w_{+1,r} - w_{-1,r})`), exactly specified;
//! * [`enclosure`]: gradient enclosures, certified radii, lower bounds, a smoothness bound;
//! * [`newton`]: a high-precision minimizer (Newton with exact gradients) and its radius;
//! * [`runs`]: GD, Adam (with and without bias correction), sign GD, momentum, RMSProp, AdaGrad,
//!   AdamW and Newton on the same problem, with honest stop reasons;
//! * [`export`]: the files an independent checker reads (`tools/check_certificate.py`).
//!
//! [`run_convex`] does all of it for one [`ConvexSetting`] and returns a [`ConvexReport`]; the
//! CLI (`adamgap convex`) and the claims checker both call it. The mathematics and the defaults
//! are explained in `docs/convex.md`.

#![doc = include_str!("../../docs/convex.md")]

pub mod enclosure;
pub mod export;
pub mod newton;
pub mod problem;
pub mod runs;

use std::collections::BTreeMap;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::Signed;
use serde::{Deserialize, Serialize};

pub use enclosure::{Certificate, certify_point, smoothness_upper};
pub use newton::{Minimizer, high_precision_minimizer};
pub use problem::{ConvexProblem, LogisticProblem, ProblemKind};
pub use runs::{RunSpec, Schedule};

/// The exact dyadic numbers the certificates compute with (owned by [`crate::exact`]).
pub use crate::exact::{Dyadic, Round};

use crate::data::PatchData;
use crate::error::{Error, Result};
use crate::exact::{sqrt_lower, sqrt_upper, to_f64_down, to_f64_up};
use crate::setting::{DataSetting, OptimizerSetting};
use crate::optim::StopReason;

/// Allowed range of `digits`.
pub const DIGITS_RANGE: std::ops::RangeInclusive<u32> = 1..=300;
/// Allowed range of `prec` (bits).
pub const PREC_RANGE: std::ops::RangeInclusive<u32> = 64..=4096;

/// Everything `adamgap convex` needs. Defaults: see `docs/convex.md` (and [`ConvexSetting::default`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConvexSetting {
    /// Which convex problem.
    pub problem: ProblemKind,
    /// Seed of the data (streams 0 and 1) and of the initialization (stream 2).
    pub seed: u64,
    /// The data distribution (the paper's default: `d = 1000, n = 200, s = 100, sigma_p = 0.1,
    /// alpha = 0.2`, 10,000 test points).
    pub data: DataSetting,
    /// Filters per class `m` (paper-linear).
    pub m: usize,
    /// `c = 1/m` instead of `c = 1` (paper-linear).
    pub mean_over_filters: bool,
    /// Initialization scale `sigma_0` of `W` (paper-linear; `u` starts at 0 for logistic).
    pub sigma0: f64,
    /// Weight decay `lambda > 0` of the optimized objective.
    pub lambda: f64,
    /// Bits of the transcendental enclosures when certifying optimizer outputs.
    pub prec: u32,
    /// The high-precision minimizer is certified to radius `<= 10^-digits` (in `u` space).
    pub digits: u32,
    /// A run is "certified within target" when its radius is `<=` this.
    pub target_radius: f64,
    /// Runs stop once their binary64 `||grad L||_2 <=` this.
    pub grad_tol: f64,
    /// Step budget of every compared run.
    pub steps: usize,
    /// Step budget of the AdamW contrast (it never meets the gradient tolerance).
    pub adamw_steps: usize,
    /// The runs compared (all must reach the minimizer); `None`: [`default_runs`] of the problem.
    pub runs: Option<Vec<RunSpec>>,
    /// The AdamW contrast (decoupled decay; not expected to reach the minimizer); `None`:
    /// [`default_adamw`] (run only when `with_adamw`).
    pub adamw: Option<RunSpec>,
    /// Run the AdamW contrast.
    pub with_adamw: bool,
    /// Also run Newton's method in binary64 as one of the compared runs.
    pub newton_run: bool,
    /// Threads for the runs (results do not depend on it).
    pub threads: usize,
}

impl Default for ConvexSetting {
    fn default() -> Self {
        Self {
            problem: ProblemKind::PaperLinear,
            seed: 1,
            data: DataSetting::default(),
            m: 20,
            mean_over_filters: false,
            sigma0: 0.01,
            lambda: 1e-2,
            prec: 128,
            digits: 40,
            target_radius: 1e-6,
            grad_tol: 1e-10,
            steps: 20_000,
            adamw_steps: 5_000,
            runs: None,
            adamw: None,
            with_adamw: true,
            newton_run: true,
            threads: 2,
        }
    }
}

/// The compared runs of the default setting (see `docs/convex.md` for the choices).
///
/// Adam and RMSProp use `eps` large enough (`eta / eps = 0.3`) that their small-gradient limit,
/// GD with step `eta / eps`, is stable: with the paper's `eps = 1e-8` the gradient hovers where
/// `eta / sqrt(v)` meets the stability edge and never reaches the tolerance.
///
/// In `u` space (`logistic`) the coordinates are `2m` times larger and the smoothness constant
/// smaller, so sign GD starts at `eta = 5e-2` (its steps must add up to the distance to travel)
/// and RMSProp uses `eta / eps = 1`.
pub fn default_runs(kind: ProblemKind) -> Vec<RunSpec> {
    let logistic = kind == ProblemKind::Logistic;
    let c = Schedule::Constant;
    let adam = |bias_correction| OptimizerSetting::Adam { eta: 3e-3, b1: 0.9, b2: 0.999, eps: 1e-2, bias_correction };
    let run = |name: &str, optimizer, schedule| RunSpec { name: name.into(), optimizer, schedule };
    vec![
        run("gd", OptimizerSetting::Gd { eta: 0.25 }, c),
        run("adam", adam(true), c),
        run("adam-no-bias-correction", adam(false), c),
        run(
            "sign-gd",
            OptimizerSetting::SignGd {
                eta: if logistic { 5e-2 } else { 1e-2 },
                decay: crate::setting::Decay::Constant,
            },
            Schedule::Geometric { rate: 0.997, floor: 0.0 },
        ),
        run("momentum", OptimizerSetting::Momentum { eta: 0.05, beta: 0.9 }, c),
        run(
            "rmsprop",
            OptimizerSetting::RmsProp { eta: if logistic { 1e-3 } else { 2.5e-4 }, beta: 0.99, eps: 1e-3 },
            c,
        ),
        run("adagrad", OptimizerSetting::AdaGrad { eta: 0.2, eps: 1e-8 }, c),
    ]
}

/// The AdamW contrast of the default setting: the `adam` run's hyperparameters, decay decoupled.
pub fn default_adamw() -> RunSpec {
    RunSpec {
        name: "adamw".into(),
        optimizer: OptimizerSetting::AdamW { eta: 3e-3, b1: 0.9, b2: 0.999, eps: 1e-2, bias_correction: true },
        schedule: Schedule::Constant,
    }
}

impl ConvexSetting {
    /// The convex setting matching a nonconvex [`crate::setting::Setting`]'s data, seed, `m`,
    /// `c`, `sigma_0` and `lambda` (the claims checker's entry); runs and tolerances stay at
    /// their defaults.
    pub fn from_setting(s: &crate::setting::Setting) -> Self {
        Self {
            seed: s.seed,
            data: s.data.clone(),
            m: s.model.m,
            mean_over_filters: s.model.mean_over_filters,
            sigma0: s.model.sigma0,
            lambda: s.model.lambda,
            ..Self::default()
        }
    }

    /// The compared runs: `runs`, or the problem's defaults.
    pub fn run_specs(&self) -> Vec<RunSpec> {
        self.runs.clone().unwrap_or_else(|| default_runs(self.problem))
    }

    /// The AdamW contrast, if it runs.
    pub fn adamw_spec(&self) -> Option<RunSpec> {
        self.with_adamw.then(|| self.adamw.clone().unwrap_or_else(default_adamw))
    }

    /// Checks every parameter; errors name the field (as the CLI flag) and the allowed range.
    pub fn validate(&self) -> Result<()> {
        if !(self.lambda.is_finite() && self.lambda > 0.0) {
            return Err(Error::invalid("--lambda", self.lambda, "a finite number > 0 (strong convexity needs decay)"));
        }
        if !DIGITS_RANGE.contains(&self.digits) {
            return Err(Error::invalid(
                "--digits",
                self.digits,
                format!("{}..={}", DIGITS_RANGE.start(), DIGITS_RANGE.end()),
            ));
        }
        if !PREC_RANGE.contains(&self.prec) {
            return Err(Error::invalid(
                "--prec",
                self.prec,
                format!("{}..={} bits", PREC_RANGE.start(), PREC_RANGE.end()),
            ));
        }
        if !(self.target_radius.is_finite() && self.target_radius > 0.0) {
            return Err(Error::invalid("--target-radius", self.target_radius, "a finite number > 0"));
        }
        if !(self.grad_tol.is_finite() && self.grad_tol >= 0.0) {
            return Err(Error::invalid("--grad-tol", self.grad_tol, "a finite number >= 0"));
        }
        if self.steps == 0 {
            return Err(Error::invalid("--steps", 0, ">= 1"));
        }
        if self.adamw_steps == 0 {
            return Err(Error::invalid("--adamw-steps", 0, ">= 1"));
        }
        if self.threads == 0 {
            return Err(Error::invalid("--threads", 0, ">= 1"));
        }
        if !(self.sigma0.is_finite() && self.sigma0 >= 0.0) {
            return Err(Error::invalid("--sigma0", self.sigma0, "a finite number >= 0"));
        }
        let mut s = crate::setting::Setting { data: self.data.clone(), ..Default::default() };
        s.model.m = self.m;
        s.validate().map_err(|e| match e {
            Error::InvalidParameter { field, value, allowed } => {
                let flag = format!("--{}", field.rsplit('.').next().unwrap_or(&field).replace('_', "-"));
                Error::InvalidParameter { field: flag, value, allowed }
            }
            other => other,
        })?;
        let mut names = std::collections::BTreeSet::new();
        for r in self.run_specs().iter().chain(self.adamw_spec().iter()) {
            r.validate()?;
            if !names.insert(r.name.clone()) || r.name == "newton" {
                return Err(Error::invalid("runs", &r.name, "distinct run names, none called `newton`"));
            }
        }
        Ok(())
    }

    /// Builds the exactly specified problem (training data, test data) of this setting.
    pub fn problem(&self) -> Result<ConvexProblem> {
        let (train, test) = PatchData::train_test(&self.data, self.seed);
        let x = problem::patch_sums(&train);
        let (filters, scale_den, lambda_den) = match self.problem {
            ProblemKind::PaperLinear => {
                (Some(self.m), if self.mean_over_filters { self.m as u64 } else { 1 }, 2 * self.m as u64)
            }
            ProblemKind::Logistic => (None, 1, 1),
        };
        let reduced = LogisticProblem::new(self.data.d, x, train.y.clone(), scale_den, self.lambda, lambda_den)?;
        Ok(ConvexProblem {
            kind: self.problem,
            reduced,
            filters,
            test_x: problem::patch_sums(&test),
            test_y: test.clean_y.clone(),
        })
    }

    /// The common initialization: `W^(0)` of the paper (i.i.d. `N(0, sigma_0^2)`, stream 2) for
    /// paper-linear, `u = 0` for logistic.
    pub fn init(&self, problem: &ConvexProblem) -> Vec<f64> {
        match problem.filters {
            Some(m) => crate::model::Weights::init(problem.reduced.d, m, self.sigma0, self.seed).as_slice().to_vec(),
            None => vec![0.0; problem.dim()],
        }
    }
}

/// One compared run in the report.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// The optimizer and its hyperparameters (`None` for Newton).
    pub optimizer: Option<OptimizerSetting>,
    /// Step-size schedule.
    pub schedule: String,
    /// Why it stopped.
    pub stop: StopReason,
    /// Steps taken.
    pub steps: usize,
    /// `||grad L||_2` in binary64 at the output (indicative only).
    pub grad_norm_f64: f64,
    /// Certified upper bound of `||grad L||_2` at the output (rounded up).
    pub grad_norm_upper: f64,
    /// Certified lower bound of `||grad L||_2` at the output (rounded down).
    pub grad_norm_lower: f64,
    /// Certified `||output - W*||_2 <= radius` (rounded up).
    pub radius: f64,
    /// `radius <= target_radius` and the run stopped at the gradient tolerance.
    pub certified_within_target: bool,
    /// Rigorous bounds on the distance from the output to the high-precision center.
    pub distance_to_center: [f64; 2],
    /// The certificate is consistent with the high-precision minimizer: the distance to `W*`
    /// (at least `distance_to_center[0] - minimizer radius`) does not exceed `radius`.
    pub consistent: bool,
    /// Test points whose prediction by this output is certified equal to `W*`'s.
    pub predictions_certified: usize,
    /// Test error of this output (binary64 outputs, clean labels).
    pub test_error: f64,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// The high-precision minimizer in the report.
#[derive(Clone, Debug, Serialize)]
pub struct MinimizerReport {
    /// Certified distance from the center to the minimizer in the optimized space (rounded up).
    pub radius: f64,
    /// The same in `u` space (the reduced problem; equal to `radius` for logistic).
    pub radius_u: f64,
    /// Requested digits: `radius_u <= 10^-digits` is the target.
    pub digits: u32,
    /// Whether the target was reached.
    pub reached: bool,
    /// Refinement steps with exact gradients.
    pub iterations: usize,
    /// Working precision (bits).
    pub prec: u32,
    /// `||u*||_2` (binary64, indicative).
    pub center_norm: f64,
    /// `u*[0]`, the feature coordinate (binary64, indicative).
    pub center_feature: f64,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// The AdamW contrast in the report.
#[derive(Clone, Debug, Serialize)]
pub struct AdamWReport {
    /// Its hyperparameters.
    pub optimizer: OptimizerSetting,
    /// Why it stopped.
    pub stop: StopReason,
    /// Steps taken.
    pub steps: usize,
    /// Certified lower bound of `||grad L||_2` at its output.
    pub grad_norm_lower: f64,
    /// The smoothness bound `L_smooth` used.
    pub smoothness_upper: f64,
    /// Certified `||W_adamw - W*|| >= grad_norm_lower / L_smooth` (rounded down).
    pub distance_lower: f64,
    /// Certified `||W_adamw - W*|| >=` distance to the high-precision center minus its radius.
    pub distance_lower_via_center: f64,
    /// Certified upper bound on the same distance (strong convexity).
    pub radius: f64,
    /// Test error (binary64).
    pub test_error: f64,
    /// Test points where its binary64 prediction differs from the certified prediction of `W*`.
    pub prediction_differences: usize,
}

/// Verdicts, each a plain boolean with its meaning in the field doc.
#[derive(Clone, Debug, Serialize)]
pub struct Verdicts {
    /// Every compared run stopped at the gradient tolerance and is certified within the target.
    pub all_certified_within_target: bool,
    /// The high-precision minimizer reached `10^-digits`.
    pub minimizer_reached: bool,
    /// Every certificate agrees with the high-precision minimizer.
    pub consistent: bool,
    /// Every test prediction is certified identical across all compared runs and `W*`.
    pub all_predictions_certified: bool,
    /// AdamW's output is certified away from `W*` (`distance_lower > 0`).
    pub adamw_separated: bool,
    /// The claim: all of the above except the AdamW contrast.
    pub holds: bool,
}

/// Everything `adamgap convex` measured and certified.
#[derive(Clone, Debug, Serialize)]
pub struct ConvexReport {
    /// `paper-linear` or `logistic`.
    pub problem: String,
    /// The decay of the optimized objective.
    pub lambda: f64,
    /// The decay of the reduced problem in `u`, exactly (`p/q`).
    pub lambda_u: String,
    /// `c` exactly (`1` or `1/m`).
    pub scale: String,
    /// Dimension `d`, samples `n`, filters `m` (paper-linear) and optimized dimension.
    pub d: usize,
    pub n: usize,
    pub m: Option<usize>,
    pub dim: usize,
    /// Certified upper bound on the smoothness constant in the optimized space.
    pub smoothness_upper: f64,
    /// Condition-number bound `smoothness_upper / lambda`.
    pub condition_bound: f64,
    /// Bits of the enclosures for the runs.
    pub prec: u32,
    /// The target radius of the runs.
    pub target_radius: f64,
    /// The runs, by name.
    pub runs: BTreeMap<String, RunReport>,
    /// The largest radius over the compared runs.
    pub max_radius: f64,
    /// Pairwise bounds `||W_a - W_b|| <= r_a + r_b`, by `a/b`.
    pub pair_bounds: BTreeMap<String, f64>,
    /// The high-precision minimizer.
    pub minimizer: MinimizerReport,
    /// Every compared run certified within the target (so every pair within `2 target`) and
    /// no certified prediction differs.
    pub agree: bool,
    /// Test points whose predictions are certified identical for every compared run and `W*`.
    pub predictions_certified: usize,
    /// Test points where two certified predictions differ (0 unless a certificate is wrong).
    pub disagreements: usize,
    /// Test-set size.
    pub test_size: usize,
    /// Test error of `W*` (certified signs; uncertified points counted with binary64 signs).
    pub minimizer_test_error: f64,
    /// The AdamW contrast.
    pub adamw: Option<AdamWReport>,
    /// The verdicts.
    pub verdicts: Verdicts,
    /// Wall time of the whole computation in seconds.
    pub seconds: f64,
}

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
    /// The runs (compared ones, then AdamW).
    pub runs: Vec<runs::RunOutcome>,
    /// The report.
    pub report: ConvexReport,
}

/// Runs the whole convex comparison (see the module doc) and returns the report.
pub fn run_convex(setting: &ConvexSetting) -> Result<ConvexReport> {
    Ok(run_convex_full(setting)?.report)
}

fn rat(x: f64) -> BigRational {
    BigRational::from_float(x).expect("finite")
}

fn int(v: u64) -> BigRational {
    BigRational::from_integer(BigInt::from(v))
}

/// [`run_convex`], also returning the points (for [`export`]).
pub fn run_convex_full(setting: &ConvexSetting) -> Result<ConvexOutcome> {
    let start = std::time::Instant::now();
    setting.validate()?;
    let problem = setting.problem()?;
    let p = &problem.reduced;
    let init = setting.init(&problem);

    // 1. The high-precision minimizer (u space), its W-space radius, and its binary64 rounding.
    let t0 = std::time::Instant::now();
    let minimizer = high_precision_minimizer(p, setting.digits, setting.prec, 12)?;
    let min_seconds = t0.elapsed().as_secs_f64();
    let lift = |r_u: &BigRational| -> BigRational {
        match problem.filters {
            None => r_u.clone(),
            // ||lift(a) - lift(b)|| = ||a - b|| / sqrt(2m): divide by a lower bound of sqrt(2m).
            Some(m) => r_u / sqrt_lower(&int(2 * m as u64), 64).expect(">= 0"),
        }
    };
    let r_star_u = minimizer.certificate.radius.clone();
    let r_star = lift(&r_star_u);
    let center_f64: Vec<f64> =
        minimizer.center.iter().map(|c| crate::exact::to_f64_nearest(&c.to_rational())).collect();
    let center_f64_exact = enclosure::exact_vec(&center_f64, "the rounded center")?;
    let center_f64_certificate = enclosure::certify_u(p, &center_f64_exact, setting.prec);

    // 2. The runs (compared ones, then AdamW), all from the same initialization.
    let run_specs = setting.run_specs();
    let adamw_spec = setting.adamw_spec();
    let mut specs: Vec<(RunSpec, usize)> = run_specs.iter().map(|r| (r.clone(), setting.steps)).collect();
    if let Some(a) = &adamw_spec {
        specs.push((a.clone(), setting.adamw_steps));
    }
    let mut outcomes = runs::run_all(&problem, &specs, &init, setting.grad_tol, setting.threads);
    if setting.newton_run {
        let t = std::time::Instant::now();
        let (u, newton_steps) = newton::newton_f64(p, 100)?;
        let params = match problem.filters {
            None => u,
            Some(m) => crate::model::Layout::new(m).lift(&u),
        };
        let mut g = vec![0.0; problem.dim()];
        problem.loss_grad_f64(&params, &mut g, &mut Vec::new());
        let lam = problem.lambda_space();
        let gn = g.iter().zip(&params).map(|(a, b)| (a + lam * b).powi(2)).sum::<f64>().sqrt();
        // Newton's own stop is its step size; against the shared tolerance it either met it or,
        // after at most 100 steps, ran out of budget.
        let stop = if gn <= setting.grad_tol {
            StopReason::GradTol { step: newton_steps }
        } else {
            StopReason::StepBudget { step: newton_steps }
        };
        let spec = RunSpec {
            name: "newton".into(),
            optimizer: OptimizerSetting::Gd { eta: 1.0 },
            schedule: Schedule::Constant,
        };
        outcomes.insert(
            run_specs.len(),
            runs::RunOutcome { spec, params, stop, grad_norm_f64: gn, seconds: t.elapsed().as_secs_f64() },
        );
    }

    // 3. Certificates of every output, and their consistency with the minimizer.
    type Certified = (Certificate, [BigRational; 2]);
    let certs: Vec<Certified> = crate::parallel::map_indexed(outcomes.len(), setting.threads, |i| {
        let pt = enclosure::ExactPoint::of(&problem, &outcomes[i].params)?;
        let c = enclosure::certify_exact_point(&problem, &pt, setting.prec);
        let (lo, hi) = enclosure::distance_to_center(&pt, &minimizer.center, setting.prec);
        Ok((c, [lo, hi]))
    })
    .into_iter()
    .collect::<Result<Vec<_>>>()?;
    let is_adamw = |i: usize| adamw_spec.is_some() && i == outcomes.len() - 1;

    // 4. Test predictions. For test point t, with u_c the binary64 center (radius r_c in u space):
    //    rho_t = |<u_c, x_t>| / ||x_t|| - r_c bounds |<u*, x_t>| / ||x_t|| from below, and a run
    //    whose u is within R_a of u* predicts sign(<u*, x_t>) wherever R_a < rho_t.
    let r_c_u = center_f64_certificate.radius.clone();
    let to_u_radius = |r: &BigRational| -> BigRational {
        match problem.filters {
            None => r.clone(),
            Some(m) => r * sqrt_upper(&int(2 * m as u64), 64).expect(">= 0"),
        }
    };
    let test_n = problem.test_y.len();
    let (rho, star_sign) = test_margins(&problem, &center_f64_exact, to_f64_up(&r_c_u), setting.threads);
    let mut run_reports = BTreeMap::new();
    let mut max_r_u = 0.0f64;
    let mut all_within = true;
    let mut all_consistent = true;
    let mut max_radius = 0.0f64;
    let mut radii = Vec::new();
    let mut adamw_report = None;
    let smooth = smoothness_upper(&problem);
    for (i, (o, (c, dist))) in outcomes.iter().zip(&certs).enumerate() {
        let steps = match o.stop {
            StopReason::GradTol { step } | StopReason::StepBudget { step } | StopReason::Diverged { step } => step,
        };
        let u = problem.u_of(&o.params);
        let test_errors = (0..test_n).filter(|&t| problem.test_output_f64(&u, t) * problem.test_y[t] <= 0.0).count();
        let test_error = test_errors as f64 / test_n as f64;
        if is_adamw(i) {
            let lower = &c.grad_norm_lower / &smooth;
            let via_center = &dist[0] - &r_star;
            let differences =
                (0..test_n).filter(|&t| rho[t] > 0.0 && problem.test_output_f64(&u, t) * star_sign[t] <= 0.0).count();
            adamw_report = Some(AdamWReport {
                optimizer: o.spec.optimizer.clone(),
                stop: o.stop,
                steps,
                grad_norm_lower: c.grad_norm_lower_f64(),
                smoothness_upper: to_f64_up(&smooth),
                distance_lower: to_f64_down(&lower),
                distance_lower_via_center: if via_center.is_positive() { to_f64_down(&via_center) } else { 0.0 },
                radius: c.radius_f64(),
                test_error,
                prediction_differences: differences,
            });
            continue;
        }
        let radius = c.radius_f64();
        let converged = matches!(o.stop, StopReason::GradTol { .. });
        let within = converged && radius <= setting.target_radius;
        // Consistency: dist(output, center) - r_star <= ||output - W*|| <= radius.
        let consistent = &dist[0] - &r_star <= c.radius;
        let r_u = to_f64_up(&to_u_radius(&c.radius));
        let certified = rho.iter().filter(|&&r| r > r_u).count();
        max_r_u = max_r_u.max(r_u);
        all_within &= within;
        all_consistent &= consistent;
        max_radius = max_radius.max(radius);
        radii.push((o.spec.name.clone(), radius));
        run_reports.insert(
            o.spec.name.clone(),
            RunReport {
                optimizer: if o.spec.name == "newton" { None } else { Some(o.spec.optimizer.clone()) },
                schedule: o.spec.schedule.describe(),
                stop: o.stop,
                steps,
                grad_norm_f64: o.grad_norm_f64,
                grad_norm_upper: c.grad_norm_upper_f64(),
                grad_norm_lower: c.grad_norm_lower_f64(),
                radius,
                certified_within_target: within,
                distance_to_center: [to_f64_down(&dist[0]), to_f64_up(&dist[1])],
                consistent,
                predictions_certified: certified,
                test_error,
                seconds: o.seconds,
            },
        );
    }
    let predictions_certified = rho.iter().filter(|&&r| r > max_r_u).count();
    // Certified predictions all equal sign(<u*, x_t>), so two can never differ; counted anyway from
    // the runs' binary64 outputs at the certified points, as a check of the whole chain.
    let us: Vec<Vec<f64>> =
        outcomes.iter().enumerate().filter(|(i, _)| !is_adamw(*i)).map(|(_, o)| problem.u_of(&o.params)).collect();
    let disagreements = (0..test_n)
        .filter(|&t| rho[t] > max_r_u && us.iter().any(|u| problem.test_output_f64(u, t) * star_sign[t] <= 0.0))
        .count();
    let minimizer_test_error =
        (0..test_n).filter(|&t| star_sign[t] * problem.test_y[t] <= 0.0).count() as f64 / test_n as f64;
    let mut pair_bounds = BTreeMap::new();
    for a in 0..radii.len() {
        for b in a + 1..radii.len() {
            let s = (rat(radii[a].1) + rat(radii[b].1)).clone();
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
    let all_predictions = predictions_certified == test_n;
    let adamw_separated = adamw_report.as_ref().is_some_and(|a| a.distance_lower > 0.0);
    let verdicts = Verdicts {
        all_certified_within_target: all_within,
        minimizer_reached: minimizer.reached,
        consistent: all_consistent,
        all_predictions_certified: all_predictions,
        adamw_separated,
        holds: all_within && minimizer.reached && all_consistent && all_predictions && disagreements == 0,
    };
    let report = ConvexReport {
        problem: problem.kind.name().into(),
        lambda: setting.lambda,
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
        minimizer_test_error,
        adamw: adamw_report,
        verdicts,
        seconds: start.elapsed().as_secs_f64(),
    };
    Ok(ConvexOutcome { problem, minimizer, center_f64, center_f64_certificate, runs: outcomes, report })
}

/// For every test point `t`: a rigorous lower bound `rho_t` of `|<u*, x_t>| / ||x_t||` (from the
/// binary64 center `u_c` with `||u_c - u*|| <= r_c`: `rho_t = |<u_c, x_t>| / ||x_t|| - r_c`, with the
/// dot product exact and every later binary64 operation widened by one ulp in the safe direction),
/// and the sign of `<u_c, x_t>` (that of `<u*, x_t>` wherever `rho_t > 0`).
fn test_margins(problem: &ConvexProblem, center: &[Dyadic], r_c_up: f64, threads: usize) -> (Vec<f64>, Vec<f64>) {
    let test_n = problem.test_y.len();
    let one = |t: usize| -> (f64, f64) {
        let dot = enclosure::exact_dot(&problem.test_x, t, center);
        let (_, val) = problem.test_x.row(t);
        let mut nsq = Dyadic::zero();
        for &v in val {
            nsq.add_assign(&enclosure::dy(v).square());
        }
        let sign = if dot.is_zero() {
            0.0
        } else if dot.is_negative() {
            -1.0
        } else {
            1.0
        };
        let num = dot.abs().to_f64_dir(Round::Down);
        let nx = nsq.to_f64_dir(Round::Up).sqrt().next_up();
        let q = (num / nx).next_down();
        let rho = (q - r_c_up).next_down();
        (if rho.is_finite() && nx.is_finite() && nx > 0.0 { rho } else { f64::NEG_INFINITY }, sign)
    };
    crate::parallel::map_indexed(test_n, threads, one).into_iter().unzip()
}
