//! Certified endpoints: what the headline states about the final weights, proved.
//!
//! The nonconvex trajectory is chaotic at roundoff level, but its end points are not fuzzy: `W_GD`
//! and `W_Adam` are two matrices of binary64 numbers, and so are the data. The network is a
//! polynomial in `W` (`max(0, z)^q` needs only the exact sign of `z`), and the only transcendental
//! functions, the logistic loss and its derivative, have rigorous enclosures in [`crate::exact`].
//! So for any given weights this module certifies, with outward rounding throughout:
//!
//! * the training and test error **exactly**: every margin `y_i f(W, x_i)` gets a certified sign
//!   (module `margins`); a margin whose enclosure contains 0 is resolved by the exact dyadic margin, or,
//!   beyond [`EndpointOptions::fallback_limit`], reported as undecided (never guessed), and the
//!   error rate is then a bound `[lower, upper]`;
//! * enclosures of the objective `L(W)` and of `||grad L(W)||_2` (module `objective`);
//! * the coefficient summaries `max_r gamma` per class, `min_i max_r rho`, `max_i max_r rho` as
//!   exact numbers ([`ExactCoefficients`]);
//! * a lower bound on `||W_a - W_b||_F` ([`distance`]).
//!
//! What is certified is a fact about the given binary64 matrices and data, not about the training
//! run that produced them (see `docs/certified-endpoints.md`). Arithmetic per quantity: binary64
//! enclosures where they fix a sign or give a tight enclosure, exact dyadic arithmetic for the
//! undecided margins, the noise coefficients, the squared norms and the distance.

mod coefficients;
mod enclose;
pub mod export;
mod margins;
mod objective;
mod quantities;
mod render;

use std::time::Instant;

pub use coefficients::{ExactCoefficients, Shown, distance};
pub use enclose::{Fi, Sign};
pub use margins::ErrorCount;
pub use quantities::{CERTIFIED_FIELDS, certified_quantities};
pub use render::{json, markdown, text};

use crate::data::PatchData;
use crate::error::{Error, Result};
use crate::model::{Cnn, Weights};
use crate::train::{Experiment, Run};

/// How much exact work a certificate may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EndpointOptions {
    /// Per data set and weights: how many margins left open by the binary64 enclosures are decided
    /// by the exact dyadic margin (each costs about `P 2m (s + 1)` big-number products); the rest
    /// are reported as undecided.
    pub fallback_limit: usize,
}

impl Default for EndpointOptions {
    fn default() -> Self {
        Self { fallback_limit: 1000 }
    }
}

/// Everything certified about one weight matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct PointCertificate {
    /// Training error (labels the model is trained on).
    pub train: ErrorCount,
    /// Test error (clean labels).
    pub test: ErrorCount,
    /// The certified sign of every training margin (what an independent checker re-verifies).
    pub train_signs: Vec<Sign>,
    /// An enclosure of `L(W)` (`None` if a margin enclosure is not finite).
    pub objective: Option<Fi>,
    /// An enclosure of `||grad L(W)||_2` (`hi = inf` if some gradient entry is not bounded).
    pub grad_norm: Fi,
    /// The coefficient summaries, exact.
    pub coefficients: ExactCoefficients,
}

/// Certifies the weights `w` of `model` on the training and the test data.
///
/// Errors with [`Error::Numerical`] if a weight (or datum) is not finite: such a point has no
/// exact value to certify.
pub fn certify_point(
    model: &Cnn,
    train: &PatchData,
    test: &PatchData,
    w: &Weights,
    opts: &EndpointOptions,
) -> Result<PointCertificate> {
    if !w.is_finite() {
        return Err(Error::Numerical("weights with non-finite entries have no exact value to certify".into()));
    }
    let flat = w.as_slice();
    let (z, train_margins) = margins::enclose_all(model, flat, train, &train.y, true);
    let (train_count, train_signs) =
        margins::certify_signs(model, flat, train, &train.y, &train_margins, opts.fallback_limit);
    let (_, test_margins) = margins::enclose_all(model, flat, test, &test.clean_y, false);
    let (test_count, _) = margins::certify_signs(model, flat, test, &test.clean_y, &test_margins, opts.fallback_limit);
    let objective = objective::objective(model, flat, &train_margins).map(|iv| {
        let (lo, hi) = iv.to_f64_bounds();
        Fi { lo, hi }
    });
    let grad = objective::gradient(model, flat, train, &train.y, &z, &train_margins);
    let grad_norm = objective::norm(&grad);
    let coefficients = ExactCoefficients::of(w, train)
        .ok_or_else(|| Error::Numerical("noise vectors with non-finite entries".into()))?;
    Ok(PointCertificate { train: train_count, test: test_count, train_signs, objective, grad_norm, coefficients })
}

/// The certificates of one experiment: the initialization, every run's final weights, and the
/// distance between the GD and Adam solutions.
#[derive(Clone, Debug)]
pub struct EndpointReport {
    /// `("init", ...)` first, then the runs in order; a run whose weights cannot be certified
    /// carries the reason.
    pub points: Vec<(String, std::result::Result<PointCertificate, String>)>,
    /// `(a, b, enclosure of ||W_a - W_b||_F)` for `a = gd`, `b = adam` when both ran.
    pub distance: Option<(String, String, Fi)>,
    /// The runs whose weights come from a diverged run, with their stop reason: the certificate
    /// states facts about those weights, never that training found a solution, and every output
    /// says so.
    pub diverged: Vec<(String, String)>,
    /// Wall-clock seconds of the whole certification.
    pub seconds: f64,
    /// The options used.
    pub options: EndpointOptions,
}

impl EndpointReport {
    /// The certificate of the point `name` (`"init"` or a run's name), if it was certified.
    pub fn point(&self, name: &str) -> Option<&PointCertificate> {
        self.points.iter().find(|(n, _)| n == name).and_then(|(_, c)| c.as_ref().ok())
    }

    /// The stop reason of `name`'s run if it diverged.
    pub fn diverged(&self, name: &str) -> Option<&str> {
        self.diverged.iter().find(|(n, _)| n == name).map(|(_, why)| why.as_str())
    }

    /// One line per diverged run: what its certificate is about.
    pub fn diverged_notes(&self) -> Vec<String> {
        self.diverged
            .iter()
            .map(|(n, why)| {
                format!("{n}'s weights come from a run that {why}: what is certified holds for these weights, not for a trained solution")
            })
            .collect()
    }

    /// The certified lower bound on `||W_gd - W_adam||_F`, if both ran and are finite.
    pub fn distance_lower(&self) -> Option<f64> {
        self.distance.as_ref().map(|d| d.2.lo)
    }
}

/// Certifies `W^(0)` and the final weights of every run, on the current thread pool (results do
/// not depend on its size).
pub fn certify_experiment(exp: &Experiment, runs: &[&Run], opts: &EndpointOptions) -> EndpointReport {
    let start = Instant::now();
    let mut named: Vec<(&str, &Weights)> = vec![("init", &exp.init)];
    named.extend(runs.iter().map(|r| (r.name.as_str(), &r.weights)));
    let certs = crate::parallel::map_indexed(named.len(), |k| {
        certify_point(&exp.model, &exp.train, &exp.test, named[k].1, opts).map_err(|e| e.to_string())
    });
    let points = named.iter().map(|(n, _)| n.to_string()).zip(certs).collect();
    let find = |k: &str| runs.iter().find(|r| r.name == k);
    let distance = match (find("gd"), find("adam")) {
        (Some(g), Some(a)) => distance(&g.weights, &a.weights).map(|d| ("gd".to_string(), "adam".to_string(), d)),
        _ => None,
    };
    let diverged = runs
        .iter()
        .filter(|r| matches!(r.stop, crate::optim::StopReason::Diverged { .. }))
        .map(|r| (r.name.clone(), r.stop.to_string()))
        .collect();
    EndpointReport { points, distance, diverged, seconds: start.elapsed().as_secs_f64(), options: *opts }
}
