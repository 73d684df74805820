//! The precision ladder: binary64 and double-double against a 256-bit trajectory ([`Big`]) on a
//! small setting, a few hundred steps. It shows how long double-double tracks the high-precision
//! trajectory, as the audit shows how long binary64 tracks double-double.
//!
//! All three start from the same binary64 data and `W^(0)` and step in lockstep; binary64 runs
//! through the fast kernels, double-double and 256 bits through the generic path. At every step
//! the relative distances `||W_p - W_256||_F / ||W_256||_F` (`p` = f64, dd) are computed in 256
//! bits.

use std::time::Instant;

use crate::optim::{FirstOrder, Lockstep, Schedule};
use crate::setting::{OptimizerSetting, Setting};
use crate::train::{Experiment, TrainObjective};

use super::big::Big;
use super::dd::Dd;
use super::distance::{Growth, growth_to_max, parting_steps};
use super::optim::GenericOptimizer;
use super::train::{GenericObjective, init_in, run_with};

/// Thresholds of the ladder's parting steps.
pub const LADDER_THRESHOLDS: [f64; 6] = [1e-25, 1e-20, 1e-15, 1e-9, 1e-6, 1e-3];

/// The ladder's setting.
#[derive(Clone, Debug)]
pub struct LadderSetting {
    pub setting: Setting,
}

impl LadderSetting {
    /// The reduced default: `d = 100, n = 20, s = 8, m = 4`, the paper's other parameters, GD and
    /// Adam, 300 steps.
    pub fn small() -> Self {
        let mut s = Setting::default();
        s.data.d = 100;
        s.data.n = 20;
        s.data.s = 8;
        s.data.test_size = 200;
        s.model.m = 4;
        s.train.steps = 300;
        s.train.checkpoints = 3;
        Self { setting: s }
    }
}

/// One optimizer on the ladder.
#[derive(Clone, Debug)]
pub struct LadderRow {
    pub name: String,
    /// `||W_f64 - W_256|| / ||W_256||` at steps `0..=steps`.
    pub f64_distance: Vec<f64>,
    /// `||W_dd - W_256|| / ||W_256||` at steps `0..=steps`.
    pub dd_distance: Vec<f64>,
    /// First step above each of [`LADDER_THRESHOLDS`].
    pub f64_parting: Vec<Option<usize>>,
    pub dd_parting: Vec<Option<usize>>,
    /// [`growth_to_max`] of each distance.
    pub f64_growth: Option<Growth>,
    pub dd_growth: Option<Growth>,
}

/// The ladder's result.
#[derive(Clone, Debug)]
pub struct Ladder {
    pub setting: Setting,
    pub rows: Vec<LadderRow>,
    pub seconds: f64,
}

/// `||a - w|| / ||w||` in 256 bits (`a` exact in 256 bits).
fn big_distance(w: &[Big], a: impl Iterator<Item = Big>) -> f64 {
    let (mut num, mut den) = (Big::default(), Big::default());
    for (x, y) in w.iter().zip(a) {
        let d = y.sub(x);
        num = num.add(&d.mul(&d));
        den = den.add(&x.mul(x));
    }
    let r = (num.to_f64() / den.to_f64()).sqrt();
    if r.is_nan() { f64::INFINITY } else { r }
}

/// One optimizer: the 256-bit run with binary64 and double-double copies stepped in lockstep
/// ([`Lockstep`]).
pub fn ladder_row(exp: &Experiment, opt: &OptimizerSetting) -> LadderRow {
    let dim = exp.init.as_slice().len();
    let f64_objective = TrainObjective::new(&exp.model, &exp.train);
    let mut f = Lockstep::new(
        f64_objective,
        FirstOrder::new(opt, Schedule::Constant, dim),
        exp.init.clone(),
        |w: &[Big], a: &[f64]| big_distance(w, a.iter().map(|&x| Big::from_f64(x))),
    );
    let mut dd = Lockstep::new(
        GenericObjective::new(&exp.model, &exp.train),
        GenericOptimizer::<Dd>::new(opt, dim),
        init_in::<Dd>(&exp.init),
        |w: &[Big], a: &[Dd]| big_distance(w, a.iter().map(|&x| Big::from_dd(x))),
    );
    run_with::<Big, _>(exp, opt, &exp.init, &|_| {}, &mut (&mut f, &mut dd));
    let (fdist, ddist) = (f.distances, dd.distances);
    LadderRow {
        name: opt.key().to_string(),
        f64_parting: parting_steps(&fdist, &LADDER_THRESHOLDS),
        dd_parting: parting_steps(&ddist, &LADDER_THRESHOLDS),
        f64_growth: growth_to_max(&fdist),
        dd_growth: growth_to_max(&ddist),
        f64_distance: fdist,
        dd_distance: ddist,
    }
}

/// Runs the ladder for every optimizer of its setting (one after the other).
pub fn ladder(l: &LadderSetting) -> crate::Result<Ladder> {
    let start = Instant::now();
    let exp = Experiment::new(&l.setting)?;
    let rows = exp.setting.optimizers.iter().map(|o| ladder_row(&exp, o)).collect();
    Ok(Ladder { setting: l.setting.clone(), rows, seconds: start.elapsed().as_secs_f64() })
}
