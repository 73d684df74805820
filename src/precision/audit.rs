//! The precision audit: does any headline verdict depend on rounding?
//!
//! For each optimizer of the setting it runs, from the same binary64 data and `W^(0)`:
//! (a) binary64 through the fast kernels; (b) double-double through the generic path, in lockstep
//! with a second binary64 copy of (a), so that the relative distance
//! `||W_f64 - W_dd||_F / ||W_dd||_F` is known at every step; (c) `twins` binary64 runs whose
//! initial weights are each moved by one ulp up or down, the direction drawn from the ChaCha8
//! stream `TWIN_STREAM + j` of the seed for twin `j` (the same twin initialization for every
//! optimizer, so that each twin has its own headline).
//!
//! It reports the parting steps (first step whose relative distance exceeds `1e-9`, `1e-6`,
//! `1e-3`), the growth rate of the distance (least-squares slope of `ln distance` per step, over
//! the stretch where it grows: from its first nonzero value to its maximum; and separately over the
//! stretch from its first crossing of [`FIT_FLOOR`] to that of [`FIT_CEILING`], the exponential
//! regime of a chaotic trajectory if there is one), the twins' spread, and whether every headline
//! verdict is the same in (a), (b) and every twin (the verdict function is given by the caller:
//! `crate::claims::headline`).

use std::time::Instant;

use rand::Rng;

use crate::data::rng;
use crate::model::Weights;
use crate::optim;
use crate::setting::Setting;
use crate::train::{Experiment, Run, TrainObjective};
use crate::verdict::VerdictLine;

use super::dd::Dd;
pub use super::distance::{
    FIT_CEILING, FIT_FLOOR, Growth, growth, growth_between, growth_to_max, parting_steps, relative_distance,
};
use super::ladder::{Ladder, LadderSetting};

/// The thresholds of the parting steps.
pub const THRESHOLDS: [f64; 3] = [1e-9, 1e-6, 1e-3];
/// ChaCha8 stream of twin 0 (twin `j` uses `TWIN_STREAM + j`; data and `W^(0)` use 0, 1, 2).
pub const TWIN_STREAM: u64 = 16;

/// The headline's verdict lines for a set of runs of one experiment (the caller passes
/// `crate::claims::headline`; taking it as a parameter keeps `precision` free of `claims`, which
/// measures its precision claim through this audit).
pub type Headline = fn(&Experiment, &[Run]) -> Vec<VerdictLine>;

/// What to audit.
#[derive(Clone, Debug)]
pub struct AuditSetting {
    pub setting: Setting,
    /// The headline verdicts compared across precisions and twins.
    pub headline: Headline,
    /// Number of one-ulp twins (at least 1).
    pub twins: usize,
    /// The precision ladder on its small setting, if wanted.
    pub ladder: Option<LadderSetting>,
}

/// The audit of one optimizer.
#[derive(Clone, Debug)]
pub struct OptimizerAudit {
    pub name: String,
    pub f64: Run,
    pub dd: Run,
    pub twins: Vec<Run>,
    /// `||W_f64 - W_dd||_F / ||W_dd||_F` at every step `0..=steps` of the lockstep run.
    pub distance: Vec<f64>,
    /// First step above each of [`THRESHOLDS`].
    pub parting: [Option<usize>; 3],
    /// [`growth_to_max`] of the distance.
    pub growth: Option<Growth>,
    /// [`growth`] of the distance (the regime above the roundoff floor).
    pub growth_above_floor: Option<Growth>,
    /// Every headline verdict is the same when this optimizer's run is replaced by its `dd` run
    /// or any twin's (the other optimizers' runs at binary64).
    pub verdicts_agree: bool,
}

/// One headline verdict line in every variant.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerdictRow {
    pub statement: String,
    pub f64: String,
    pub dd: String,
    pub twins: Vec<String>,
    pub agree: bool,
}

/// The whole audit.
#[derive(Clone, Debug)]
pub struct Audit {
    pub exp: Experiment,
    pub optimizers: Vec<OptimizerAudit>,
    pub verdicts: Vec<VerdictRow>,
    /// Every headline verdict is the same at binary64, double-double and in every twin.
    pub verdicts_agree: bool,
    pub ladder: Option<Ladder>,
    pub seconds: f64,
}

/// `W^(0)` with every weight moved one ulp up or down, the direction drawn from the ChaCha8 stream
/// `TWIN_STREAM + j` of `seed`.
pub fn twin_init(init: &Weights, seed: u64, j: usize) -> Weights {
    let mut r = rng(seed, TWIN_STREAM + j as u64);
    let mut w = init.clone();
    for x in w.as_mut_slice() {
        *x = if r.random::<bool>() { x.next_up() } else { x.next_down() };
    }
    w
}

/// The double-double run of `opt`, with a binary64 copy (fast kernels) stepped in lockstep
/// ([`optim::Lockstep`]): returns the run and the relative distance at every step.
fn lockstep(exp: &Experiment, opt: &crate::setting::OptimizerSetting) -> (Run, Vec<f64>) {
    let objective = TrainObjective::new(&exp.model, &exp.train);
    let method = optim::FirstOrder::new(opt, optim::Schedule::Constant, exp.init.as_slice().len());
    let mut copy =
        optim::Lockstep::new(objective, method, exp.init.clone(), |w: &[Dd], f: &[f64]| relative_distance(w, f));
    let run = super::train::run_with::<Dd, _>(exp, opt, &exp.init, &|_| {}, &mut copy);
    (run, copy.distances)
}

/// The headline's verdict labels for a set of runs.
fn labels(lines: &[VerdictLine]) -> Vec<&'static str> {
    lines.iter().map(|l| l.verdict.label()).collect()
}

/// One task of the audit.
enum Task {
    Lockstep(usize),
    F64(usize),
    Twin(usize, usize),
}

enum Done {
    Lockstep(Run, Vec<f64>),
    Run(Run),
}

/// Runs the audit (see the module doc).
pub fn audit(a: &AuditSetting) -> crate::Result<Audit> {
    a.setting.require_full_batch("the precision audit (its lockstep copies step on the full batch)")?;
    let start = Instant::now();
    let exp = Experiment::new(&a.setting)?;
    let opts = &exp.setting.optimizers;
    let headline = a.headline;
    let twins = a.twins.max(1);
    let inits: Vec<Weights> = (0..twins).map(|j| twin_init(&exp.init, exp.setting.seed, j)).collect();
    let mut tasks: Vec<Task> = (0..opts.len()).map(Task::Lockstep).collect();
    tasks.extend((0..opts.len()).map(Task::F64));
    for k in 0..opts.len() {
        tasks.extend((0..twins).map(|j| Task::Twin(k, j)));
    }
    let ladder_task = a.ladder.clone();
    let mut done =
        crate::parallel::map_indexed(tasks.len() + usize::from(ladder_task.is_some()), |i| match tasks.get(i) {
            Some(Task::Lockstep(k)) => {
                let (run, d) = lockstep(&exp, &opts[*k]);
                (Some(Done::Lockstep(run, d)), None)
            }
            Some(Task::F64(k)) => (Some(Done::Run(exp.run(&opts[*k], &|_| {}))), None),
            Some(Task::Twin(k, j)) => {
                let mut twin = exp.clone();
                twin.init = inits[*j].clone();
                (Some(Done::Run(twin.run(&opts[*k], &|_| {}))), None)
            }
            None => (None, ladder_task.as_ref().map(super::ladder::ladder)),
        });
    let ladder = done.iter_mut().find_map(|d| d.1.take()).transpose()?;
    let mut it = done.into_iter().filter_map(|d| d.0);
    let mut lock: Vec<(Run, Vec<f64>)> = Vec::new();
    for _ in 0..opts.len() {
        match it.next() {
            Some(Done::Lockstep(r, d)) => lock.push((r, d)),
            _ => unreachable!("lockstep tasks come first"),
        }
    }
    let mut next_run = || match it.next() {
        Some(Done::Run(r)) => r,
        _ => unreachable!("one run per task"),
    };
    let f64_runs: Vec<Run> = (0..opts.len()).map(|_| next_run()).collect();
    let twin_runs: Vec<Vec<Run>> = (0..opts.len()).map(|_| (0..twins).map(|_| next_run()).collect()).collect();
    let dd_runs: Vec<Run> = lock.iter().map(|l| l.0.clone()).collect();

    // Verdicts of every variant: all optimizers at f64, at dd, and in twin j.
    let base = headline(&exp, &f64_runs);
    let dd_lines = headline(&exp, &dd_runs);
    let twin_lines: Vec<Vec<VerdictLine>> =
        (0..twins).map(|j| headline(&exp, &twin_runs.iter().map(|t| t[j].clone()).collect::<Vec<_>>())).collect();
    let verdicts: Vec<VerdictRow> = base
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let f = l.verdict.label();
            let dd = dd_lines[i].verdict.label();
            let tw: Vec<String> = twin_lines.iter().map(|t| t[i].verdict.label().to_string()).collect();
            let agree = dd == f && tw.iter().all(|t| t == f);
            VerdictRow { statement: l.statement.clone(), f64: f.into(), dd: dd.into(), twins: tw, agree }
        })
        .collect();
    let verdicts_agree = verdicts.iter().all(|v| v.agree);

    let optimizers = lock
        .into_iter()
        .enumerate()
        .map(|(k, (dd, distance))| {
            let swapped = |r: &Run| {
                let mut runs = f64_runs.clone();
                runs[k] = r.clone();
                labels(&headline(&exp, &runs))
            };
            let agree = std::iter::once(&dd).chain(&twin_runs[k]).all(|r| swapped(r) == labels(&base));
            let p = parting_steps(&distance, &THRESHOLDS);
            OptimizerAudit {
                name: opts[k].key().to_string(),
                f64: f64_runs[k].clone(),
                dd,
                twins: twin_runs[k].clone(),
                parting: [p[0], p[1], p[2]],
                growth: growth_to_max(&distance),
                growth_above_floor: growth(&distance),
                distance,
                verdicts_agree: agree,
            }
        })
        .collect();
    Ok(Audit { exp, optimizers, verdicts, verdicts_agree, ladder, seconds: start.elapsed().as_secs_f64() })
}
