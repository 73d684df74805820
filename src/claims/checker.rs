//! The checker: reads a claim's setting, measures it (one match arm per [`ClaimKind`]), and hands
//! the measurement to [`super::evaluate`]. Runs with the same setting and optimizer are trained once
//! and shared between claims.
//!
//! Every run is computed the same way whatever the thread count (see [`crate::parallel`]) and
//! results are keyed by `BTreeMap`s, so a report is identical across runs and thread counts.

use std::collections::BTreeMap;
use std::path::Path;

use super::evaluate::evaluate;
use super::measure::{Measurement, measure_convex, measure_runs};
use super::report::ClaimReport;
use super::theorem::{ClaimKind, Scale, Theorem};
use crate::error::Result;
use crate::setting::{OptimizerSetting, Setting};
use crate::train::{Experiment, Run};

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
        let mut m = measure_runs(&cached.exp, &runs, theorem.measure.feature_level);
        if theorem.uses_certified() {
            // The checks on `certified.*` quantities: the final weights' certificate (src/endpoints/).
            let opts = crate::endpoints::EndpointOptions::default();
            let report = crate::endpoints::certify_experiment(&cached.exp, &runs, self.threads, &opts);
            let (quantities, missing) = crate::endpoints::certified_quantities(&report);
            m.quantities.extend(quantities);
            m.missing.extend(missing);
        }
        Ok(m)
    }
}
