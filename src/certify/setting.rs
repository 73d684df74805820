//! What one convex comparison needs: a [`Setting`] (its seed, data, and the model's `m`, `c`,
//! `sigma_0`, `lambda`) plus the certifier's own parameters. Defaults and their reasons: see
//! `docs/convex.md`.

use serde::{Deserialize, Serialize};

use super::problem::{self, ConvexProblem, LogisticProblem, ProblemKind};
use super::runs::RunSpec;
use crate::data::PatchData;
use crate::error::{Error, Result};
use crate::optim::Schedule;
use crate::setting::{DataSetting, OptimizerSetting, Setting};

/// Allowed range of `digits`: what the refinement delivers. Its corrections are computed in
/// binary64, so the gradient it resolves, about `lambda_u 10^-digits`, must stay a normal binary64
/// number with room to spare; 250 digits are reached on both problems with `lambda` down to `1e-4`
/// (`docs/convex.md`, measured), while near `10^-300` the corrections underflow.
pub const DIGITS_RANGE: std::ops::RangeInclusive<u32> = 1..=250;
/// Allowed range of `prec` (bits).
pub const PREC_RANGE: std::ops::RangeInclusive<u32> = 64..=4096;

/// Everything `adamgap convex` needs. Defaults: see `docs/convex.md` (and [`ConvexSetting::default`]).
///
/// Errors of [`ConvexSetting::validate`] name fields by their path here (`digits`, `model.lambda`,
/// `data.d`). In a TOML file the setting is flat: `seed`, `[data]`, `m`, `mean_over_filters`,
/// `sigma0`, `lambda` next to the certifier's own fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "ConvexFile", into = "ConvexFile")]
pub struct ConvexSetting {
    /// The seed (data: streams 0 and 1; initialization: stream 2), the data distribution (the
    /// paper's default: `d = 1000, n = 200, s = 100, sigma_p = 0.1, alpha = 0.2`, 10,000 test
    /// points), and the model's `m`, `mean_over_filters` (`c = 1/m`), `sigma0` and weight decay
    /// `lambda > 0` (paper-linear; the logistic problem uses only `lambda`). Its training and
    /// optimizer sections are not used.
    pub base: Setting,
    /// Which convex problem.
    pub problem: ProblemKind,
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
}

impl Default for ConvexSetting {
    fn default() -> Self {
        let mut base = Setting::default();
        base.model.m = 20;
        base.model.mean_over_filters = false;
        base.model.sigma0 = 0.01;
        base.model.lambda = 1e-2;
        Self {
            base,
            problem: ProblemKind::PaperLinear,
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
        }
    }
}

/// The flat file form of [`ConvexSetting`] (every field optional, unknown fields are errors).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ConvexFile {
    problem: ProblemKind,
    seed: u64,
    data: DataSetting,
    m: usize,
    mean_over_filters: bool,
    sigma0: f64,
    lambda: f64,
    prec: u32,
    digits: u32,
    target_radius: f64,
    grad_tol: f64,
    steps: usize,
    adamw_steps: usize,
    runs: Option<Vec<RunSpec>>,
    adamw: Option<RunSpec>,
    with_adamw: bool,
    newton_run: bool,
}

impl Default for ConvexFile {
    fn default() -> Self {
        ConvexSetting::default().into()
    }
}

impl From<ConvexSetting> for ConvexFile {
    fn from(s: ConvexSetting) -> Self {
        let ConvexSetting {
            base,
            problem,
            prec,
            digits,
            target_radius,
            grad_tol,
            steps,
            adamw_steps,
            runs,
            adamw,
            with_adamw,
            newton_run,
        } = s;
        Self {
            problem,
            seed: base.seed,
            m: base.model.m,
            mean_over_filters: base.model.mean_over_filters,
            sigma0: base.model.sigma0,
            lambda: base.model.lambda,
            data: base.data,
            prec,
            digits,
            target_radius,
            grad_tol,
            steps,
            adamw_steps,
            runs,
            adamw,
            with_adamw,
            newton_run,
        }
    }
}

impl From<ConvexFile> for ConvexSetting {
    fn from(f: ConvexFile) -> Self {
        let mut base = ConvexSetting::default().base;
        base.seed = f.seed;
        base.data = f.data;
        base.model.m = f.m;
        base.model.mean_over_filters = f.mean_over_filters;
        base.model.sigma0 = f.sigma0;
        base.model.lambda = f.lambda;
        Self {
            base,
            problem: f.problem,
            prec: f.prec,
            digits: f.digits,
            target_radius: f.target_radius,
            grad_tol: f.grad_tol,
            steps: f.steps,
            adamw_steps: f.adamw_steps,
            runs: f.runs,
            adamw: f.adamw,
            with_adamw: f.with_adamw,
            newton_run: f.newton_run,
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
    /// The convex setting of a nonconvex [`Setting`]: its seed, data, `m`, `c`, `sigma_0` and
    /// `lambda` (the claims checker's entry); runs and tolerances stay at their defaults.
    pub fn from_setting(s: &Setting) -> Self {
        Self { base: s.clone(), ..Self::default() }
    }

    /// The weight decay `lambda` of the optimized objective.
    pub fn lambda(&self) -> f64 {
        self.base.model.lambda
    }

    /// The compared runs: `runs`, or the problem's defaults.
    pub fn run_specs(&self) -> Vec<RunSpec> {
        self.runs.clone().unwrap_or_else(|| default_runs(self.problem))
    }

    /// The AdamW contrast, if it runs.
    pub fn adamw_spec(&self) -> Option<RunSpec> {
        self.with_adamw.then(|| self.adamw.clone().unwrap_or_else(default_adamw))
    }

    /// Checks every parameter; errors name the field (its path in this struct) and the allowed
    /// range.
    pub fn validate(&self) -> Result<()> {
        let lambda = self.lambda();
        if !(lambda.is_finite() && lambda > 0.0) {
            return Err(Error::invalid("model.lambda", lambda, "a finite number > 0 (strong convexity needs decay)"));
        }
        if !DIGITS_RANGE.contains(&self.digits) {
            return Err(Error::invalid(
                "digits",
                self.digits,
                format!("{}..={}", DIGITS_RANGE.start(), DIGITS_RANGE.end()),
            ));
        }
        if !PREC_RANGE.contains(&self.prec) {
            return Err(Error::invalid(
                "prec",
                self.prec,
                format!("{}..={} bits", PREC_RANGE.start(), PREC_RANGE.end()),
            ));
        }
        if !(self.target_radius.is_finite() && self.target_radius > 0.0) {
            return Err(Error::invalid("target_radius", self.target_radius, "a finite number > 0"));
        }
        if !(self.grad_tol.is_finite() && self.grad_tol >= 0.0) {
            return Err(Error::invalid("grad_tol", self.grad_tol, "a finite number >= 0"));
        }
        let max = crate::setting::MAX_STEPS;
        if !(1..=max).contains(&self.steps) {
            return Err(Error::invalid("steps", self.steps, format!("1..={max}")));
        }
        if !(1..=max).contains(&self.adamw_steps) {
            return Err(Error::invalid("adamw_steps", self.adamw_steps, format!("1..={max}")));
        }
        self.base.validate()?;
        let mut names = std::collections::BTreeSet::new();
        for r in self.run_specs().iter().chain(self.adamw_spec().iter()) {
            r.validate()?;
            if !names.insert(r.name.clone()) || r.name == "newton" {
                return Err(Error::invalid("runs", &r.name, "distinct run names, none called `newton`"));
            }
        }
        Ok(())
    }

    /// The memory of the comparison: the data, and per run (all kept to the end) the parameters,
    /// gradient and optimizer state in the optimized space.
    pub fn memory_estimate(&self) -> crate::memory::Estimate {
        use crate::memory::data_bytes;
        let (d, m) = (&self.base.data, self.base.model.m);
        let mut e = crate::memory::Estimate::default();
        let stored = self.base.stored_patches();
        e.add(format!("training set (n = {})", d.n), data_bytes(d, d.n, stored));
        e.add(format!("test set (test_size = {})", d.test_size), data_bytes(d, d.test_size, stored));
        let dim = match self.problem {
            ProblemKind::PaperLinear => 2 * m as u128 * d.d as u128,
            ProblemKind::Logistic => d.d as u128,
        };
        let runs = self.run_specs().len() as u128 + 2;
        e.add(format!("runs (d = {}, m = {m}, {runs} runs)", d.d), 8 * dim * 5 * runs);
        e
    }

    /// Builds the exactly specified problem (training data, test data) of this setting.
    pub fn problem(&self) -> Result<ConvexProblem> {
        let (data, m) = (&self.base.data, self.base.model.m);
        let (train, test) = PatchData::train_test(data, self.base.seed);
        let x = problem::patch_sums(&train);
        let (filters, scale_den, lambda_den) = match self.problem {
            ProblemKind::PaperLinear => {
                (Some(m), if self.base.model.mean_over_filters { m as u64 } else { 1 }, 2 * m as u64)
            }
            ProblemKind::Logistic => (None, 1, 1),
        };
        let reduced = LogisticProblem::new(data.d, x, train.y.clone(), scale_den, self.lambda(), lambda_den)?;
        Ok(ConvexProblem {
            kind: self.problem,
            reduced,
            filters,
            test_x: problem::patch_sums(&test),
            test_y: test.clean_y.clone(),
        })
    }

    /// The common initialization: `W^(0)` of the model (i.i.d. `N(0, sigma_0^2)`, stream 2) for
    /// paper-linear, `u = 0` for logistic.
    pub fn init(&self, problem: &ConvexProblem) -> Vec<f64> {
        match problem.filters {
            Some(m) => crate::model::Weights::init(problem.reduced.d, m, self.base.model.sigma0, self.base.seed)
                .as_slice()
                .to_vec(),
            None => vec![0.0; problem.dim()],
        }
    }
}
