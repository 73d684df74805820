//! The checker: reads a claim's setting, measures it on every seed (one match arm per
//! [`ClaimKind`]), and hands the measurements to [`super::evaluate`]. Runs with the same setting,
//! seed and optimizer are trained once and shared between claims; the runs of all seeds of a claim
//! train side by side on the pool.
//!
//! Every run is computed the same way whatever the thread count (see [`crate::parallel`]) and
//! results are keyed by `BTreeMap`s, so a report is identical across runs and thread counts.

use std::collections::BTreeMap;
use std::path::Path;

use super::evaluate::{SeedInput, evaluate, evaluate_at_init};
use super::measure::{measure_convex, measure_precision, measure_runs};
use super::outcome::Measurement;
use super::path::{self, PathSource};
use super::report::{ClaimReport, PaperSettingReport};
use super::theorem::{ClaimKind, DatasetSpec, Scale, Theorem};
use crate::error::{Error, Result};
use crate::optim::StopReason;
use crate::setting::{OptimizerSetting, Setting};
use crate::train::{Experiment, Run};

/// Checks claims, reusing runs across claims with the same setting and optimizer. The runs of one
/// claim (all seeds and optimizers) go side by side on the current rayon pool
/// ([`crate::parallel`]); results do not depend on its size.
pub struct Checker {
    /// Called with a line of progress (`checking ...`, `training ...`).
    pub progress: Box<dyn Fn(&str) + Sync>,
    cache: BTreeMap<String, Cached>,
    /// Where the cells of path claims come from ([`Checker::with_paths`]).
    paths: Option<Box<dyn PathSource>>,
    /// A path claim's seeds at initialization from its preflight, by file and scale.
    path_init: BTreeMap<(String, Scale), Vec<SeedInput>>,
    /// Where a claim on Fashion-MNIST reads its files ([`crate::images::DEFAULT_DIR`] unless
    /// [`Checker::with_dataset_dir`]).
    dataset_dir: std::path::PathBuf,
    /// The images of every real-image source read so far (read once, for every seed and claim).
    images: BTreeMap<&'static str, crate::images::Splits>,
}

struct Cached {
    exp: Experiment,
    /// What a real-image experiment was made of (`None` for synthetic data).
    task: Option<crate::images::TaskInfo>,
    /// The state at initialization, as a run of zero steps.
    zero: Run,
    runs: BTreeMap<String, Run>,
}

impl Default for Checker {
    fn default() -> Self {
        Self::new()
    }
}

/// The cache key of a setting without its optimizers, and of the real-image task it runs on.
fn base_key(setting: &Setting, dataset: Option<&DatasetSpec>) -> String {
    let mut base = setting.clone();
    base.optimizers.clear();
    let mut key = serde_json::to_string(&base).expect("a setting serializes");
    if let Some(d) = dataset {
        key.push_str(&format!(" on {} tile {:?}", d.task, d.tile));
    }
    key
}

fn opt_key(o: &OptimizerSetting) -> String {
    serde_json::to_string(o).expect("an optimizer serializes")
}

impl Checker {
    /// A checker with no cached runs, silent.
    pub fn new() -> Self {
        Self {
            progress: Box::new(|_| {}),
            cache: BTreeMap::new(),
            paths: None,
            path_init: BTreeMap::new(),
            dataset_dir: crate::images::DEFAULT_DIR.into(),
            images: BTreeMap::new(),
        }
    }

    /// The checker reading Fashion-MNIST from `dir` (`adamgap check --dataset-dir`).
    pub fn with_dataset_dir(mut self, dir: std::path::PathBuf) -> Self {
        self.dataset_dir = dir;
        self
    }

    /// The checker with a source for the cells of path claims (`kind = "path"`):
    /// `adamgap::sweep::claim::GridSource`. Without one, a path claim is an error.
    pub fn with_paths(mut self, source: Box<dyn PathSource>) -> Self {
        self.paths = Some(source);
        self
    }

    fn path_source(&self, theorem: &Theorem, origin: &str) -> Result<&dyn PathSource> {
        self.paths.as_deref().ok_or_else(|| Error::Config {
            origin: theorem.at(origin, "kind"),
            message: "a path claim needs the cells of its grid: build the checker with \
                      Checker::with_paths(Box::new(adamgap::sweep::claim::GridSource::default()))"
                .into(),
        })
    }

    /// Reads and checks one theorem file at `scale`.
    pub fn check_file(&mut self, path: &Path, scale: Scale) -> Result<ClaimReport> {
        let theorem = Theorem::from_file(path)?;
        let origin = path.display().to_string();
        self.preflight(&theorem, &origin, scale)?;
        self.check(&theorem, &origin, scale)
    }

    /// The settings of a claim at `scale`, one per seed.
    fn settings(theorem: &Theorem, origin: &str, scale: Scale, paper: bool) -> Result<Vec<Setting>> {
        let base = match (paper, theorem.paper_setting(scale, origin)) {
            (false, _) => theorem.setting(scale, origin)?,
            (true, Some(s)) => s?,
            (true, None) => return Ok(Vec::new()),
        };
        Ok(theorem.seed_list(scale).into_iter().map(|seed| Setting { seed, ..base.clone() }).collect())
    }

    /// The memory `theorem` needs at `scale`, estimated before anything is drawn: a training
    /// claim keeps every seed's data and runs until it is measured (and the paper setting's, if
    /// it has one), so its estimate is one seed's ([`crate::memory::of_setting`]) times the seeds;
    /// a convex claim's is its certificate's, a precision claim's the audit's with its 4 twins on
    /// the current pool. `None` for a path claim: its cells are sweep cells, run one at a time.
    pub fn memory_estimate(theorem: &Theorem, origin: &str, scale: Scale) -> Result<Option<crate::memory::Estimate>> {
        let base = theorem.setting(scale, origin)?;
        let mut e = crate::memory::Estimate::default();
        match theorem.kind {
            ClaimKind::Path => return Ok(None),
            ClaimKind::ConvexCertificate => {
                e = crate::certify::ConvexSetting::from_setting(&base).memory_estimate();
            }
            ClaimKind::Precision => {
                e = crate::memory::of_audit(&base, 4, rayon::current_num_threads());
            }
            ClaimKind::Training => {
                let mut bases = vec![("", base)];
                if let Some(p) = theorem.paper_setting(scale, origin) {
                    bases.push(("paper setting, ", p?));
                }
                for (label, b) in bases {
                    let seeds = theorem.seed_list(scale).len() as u128;
                    let one = match theorem.dataset(scale) {
                        Some(d) => {
                            // The files are read one experiment at a time: their part counts once.
                            let (task, tile) = resolve_dataset(theorem, origin, d)?;
                            let mut one = crate::images::estimate(&task, &b, tile);
                            if let Some((what, bytes)) = crate::images::files_estimate(&task) {
                                one.parts.retain(|(w, _)| w != what);
                                e.add(format!("{label}{what}"), bytes);
                            }
                            one
                        }
                        None => crate::memory::of_setting(&b),
                    };
                    for (what, bytes) in one.parts {
                        e.add(format!("{label}{seeds} seeds kept: {what}"), bytes.saturating_mul(seeds));
                    }
                }
            }
        }
        Ok(Some(e))
    }

    /// What must hold before any training: the settings are valid, and every check on a training
    /// quantity that already passes at initialization (on any seed) says why that is right
    /// (`holds_at_init`). Cheap: it draws the data and evaluates `W^(0)` only.
    /// For a path claim: the cells of its grid at `scale` (computed, or read with `--path-results`)
    /// cut to zero steps, and the seeds they give.
    pub fn preflight(&mut self, theorem: &Theorem, origin: &str, scale: Scale) -> Result<()> {
        if theorem.kind == ClaimKind::Path {
            let (_, init) = self.path_seeds(theorem, origin, scale, true)?;
            for input in &init {
                reject_passing_at_init(
                    theorem,
                    "check",
                    &theorem.checks,
                    origin,
                    &format!("seed {}", input.seed),
                    &input.m,
                )?;
            }
            self.path_init.insert((origin.to_string(), scale), init);
            return Ok(());
        }
        let mut settings = Self::settings(theorem, origin, scale, false)?;
        settings.extend(Self::settings(theorem, origin, scale, true)?);
        if theorem.kind != ClaimKind::Training {
            return Ok(());
        }
        let dataset = theorem.dataset(scale);
        let mut inits = Vec::new();
        for s in &settings {
            let init = self.init_measurement(theorem, origin, s, dataset)?;
            reject_passing_at_init(theorem, "check", &theorem.checks, origin, &format!("seed {}", s.seed), &init)?;
            inits.push((s.seed, init));
        }
        if !theorem.over_seeds.is_empty() {
            // The statistics at initialization, over the seeds of `[setting]` (not the paper's).
            let own: Vec<(u64, &Measurement)> =
                inits.iter().take(theorem.seed_list(scale).len()).map(|(k, m)| (*k, m)).collect();
            let init = super::evaluate::over_seeds_measurement(theorem, &own);
            reject_passing_at_init(theorem, "over_seeds", &theorem.over_seeds, origin, "over the seeds", &init)?;
        }
        Ok(())
    }

    /// A path claim's cells at `scale` (cut to zero steps with `at_init`), measured per seed.
    fn path_seeds(
        &self,
        theorem: &Theorem,
        origin: &str,
        scale: Scale,
        at_init: bool,
    ) -> Result<(path::PathCells, Vec<SeedInput>)> {
        let cells = self.path_source(theorem, origin)?.cells(theorem, origin, scale, at_init, &*self.progress)?;
        let bad = |message: String| Error::Config { origin: theorem.at(origin, "path"), message };
        let seeds = path::check_shape(&cells).map_err(bad)?;
        if seeds.len() < path::MIN_SEEDS {
            return Err(bad(format!(
                "the grid ({}) has {} seed(s) on its `seed` axis; a path claim needs >= {}",
                cells.grid,
                seeds.len(),
                path::MIN_SEEDS
            )));
        }
        let inputs = seeds
            .iter()
            .map(|&seed| {
                let mut mine: Vec<&path::PathCell> = cells.cells.iter().filter(|c| c.seed == seed).collect();
                mine.sort_by(|a, b| a.position.total_cmp(&b.position));
                let m = path::measure_seed(theorem, &cells.axis, &mine);
                SeedInput { seed, setting: mine[0].setting.clone(), m, init: None }
            })
            .collect();
        Ok((cells, inputs))
    }

    /// Checks a path claim: its cells cut to zero steps (the baselines), then computed or read.
    fn check_path(&mut self, theorem: &Theorem, origin: &str, scale: Scale) -> Result<ClaimReport> {
        let init = match self.path_init.remove(&(origin.to_string(), scale)) {
            Some(init) => init,
            None => self.path_seeds(theorem, origin, scale, true)?.1,
        };
        (self.progress)(&format!(
            "checking {} ({} scale, {} seeds along a path)",
            theorem.id,
            theorem.scale_label(scale),
            init.len()
        ));
        let (cells, mut inputs) = self.path_seeds(theorem, origin, scale, false)?;
        for (input, zero) in inputs.iter_mut().zip(init) {
            input.init = Some(zero.m);
        }
        let mut report = ClaimReport::of(theorem, origin, scale, evaluate(theorem, inputs));
        report.path = Some(path::report(theorem, &cells));
        Ok(report)
    }

    /// Checks one claim at `scale` on each of its seeds; `origin` names its file in errors. Call
    /// [`Checker::preflight`] first (as [`Checker::check_file`] does).
    pub fn check(&mut self, theorem: &Theorem, origin: &str, scale: Scale) -> Result<ClaimReport> {
        if theorem.kind == ClaimKind::Path {
            return self.check_path(theorem, origin, scale);
        }
        let settings = Self::settings(theorem, origin, scale, false)?;
        let seeds = settings.len();
        (self.progress)(&format!("checking {} ({} scale, {seeds} seeds)", theorem.id, theorem.scale_label(scale)));
        let dataset = theorem.dataset(scale);
        let first_key = settings.first().map(|s| base_key(s, dataset));
        let mut report = ClaimReport::of(
            theorem,
            origin,
            scale,
            evaluate(theorem, self.measure_all(theorem, origin, settings, dataset)?),
        );
        report.dataset = first_key.and_then(|k| self.cache.get(&k)).and_then(|c| c.task.clone());
        let paper = Self::settings(theorem, origin, scale, true)?;
        if !paper.is_empty() {
            (self.progress)("  and under the paper's setting");
            let r = ClaimReport::of(
                theorem,
                origin,
                scale,
                evaluate(theorem, self.measure_all(theorem, origin, paper, dataset)?),
            );
            report.paper_setting = Some(PaperSettingReport::of(theorem, r));
        }
        Ok(report)
    }

    /// Measures every seed's setting.
    fn measure_all(
        &mut self,
        theorem: &Theorem,
        origin: &str,
        settings: Vec<Setting>,
        dataset: Option<&DatasetSpec>,
    ) -> Result<Vec<SeedInput>> {
        match theorem.kind {
            ClaimKind::Training => self.measure_training(theorem, origin, &settings, dataset),
            ClaimKind::ConvexCertificate => settings
                .into_iter()
                .map(|s| Ok(SeedInput { seed: s.seed, m: measure_convex(&s)?, setting: s, init: None }))
                .collect(),
            ClaimKind::Precision => settings
                .into_iter()
                .map(|s| {
                    Ok(SeedInput { seed: s.seed, m: measure_precision(&s, super::headline)?, setting: s, init: None })
                })
                .collect(),
            ClaimKind::Path => unreachable!("a path claim is checked by check_path"),
        }
    }

    /// The cached experiment of `setting` (drawn on first use, with its zero-step run), on the
    /// real-image task `dataset` when given (`origin` names the file in its errors).
    fn experiment(
        &mut self,
        theorem: &Theorem,
        origin: &str,
        setting: &Setting,
        dataset: Option<&DatasetSpec>,
    ) -> Result<&mut Cached> {
        let key = base_key(setting, dataset);
        if !self.cache.contains_key(&key) {
            let (exp, task) = match dataset {
                None => (Experiment::new(setting)?, None),
                Some(d) => {
                    let (task, tile) = resolve_dataset(theorem, origin, d)?;
                    let splits = match self.images.entry(task.source.name()) {
                        std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                        std::collections::btree_map::Entry::Vacant(e) => {
                            e.insert(crate::images::load(task.source, &self.dataset_dir)?)
                        }
                    };
                    let (exp, info) = crate::images::experiment_on(&task, setting, splits, tile)?;
                    (exp, Some(info))
                }
            };
            let mut e0 = exp.clone();
            e0.setting.train.steps = 0;
            let first = setting.optimizers.first().cloned().unwrap_or_else(OptimizerSetting::paper_gd);
            let zero = e0.run(&first, &|_| {});
            self.cache.insert(key.clone(), Cached { exp, task, zero, runs: BTreeMap::new() });
        }
        Ok(self.cache.get_mut(&key).expect("inserted above"))
    }

    /// The claim's quantities at initialization on `setting`'s seed: its runs cut to step 0.
    fn init_measurement(
        &mut self,
        theorem: &Theorem,
        origin: &str,
        setting: &Setting,
        dataset: Option<&DatasetSpec>,
    ) -> Result<Measurement> {
        let cached = self.experiment(theorem, origin, setting, dataset)?;
        let zero_runs: Vec<Run> = setting
            .optimizers
            .iter()
            .map(|o| Run {
                name: o.key().to_string(),
                optimizer: o.clone(),
                stop: StopReason::StepBudget { step: 0 },
                ..cached.zero.clone()
            })
            .collect();
        let refs: Vec<&Run> = zero_runs.iter().collect();
        let mut m = measure_runs(&cached.exp, &refs, theorem.measure.feature_level);
        add_certified(theorem, &cached.exp, &refs, &mut m);
        Ok(m)
    }

    /// Trains (or reuses) every optimizer of every seed's setting from its initialization, all
    /// runs side by side, and measures each seed.
    fn measure_training(
        &mut self,
        theorem: &Theorem,
        origin: &str,
        settings: &[Setting],
        dataset: Option<&DatasetSpec>,
    ) -> Result<Vec<SeedInput>> {
        for s in settings {
            self.experiment(theorem, origin, s, dataset)?;
        }
        let todo: Vec<(String, &OptimizerSetting)> = settings
            .iter()
            .flat_map(|s| {
                let key = base_key(s, dataset);
                let cached = &self.cache[&key];
                s.optimizers.iter().filter(|o| !cached.runs.contains_key(&opt_key(o))).map(move |o| (key.clone(), o))
            })
            .collect();
        if !todo.is_empty() {
            let steps = settings[0].train.steps;
            (self.progress)(&format!("  training {} runs for {steps} steps", todo.len()));
            let cache = &self.cache;
            let done = crate::parallel::map_indexed(todo.len(), |i| cache[&todo[i].0].exp.run(todo[i].1, &|_| {}));
            for ((key, o), r) in todo.iter().zip(done) {
                self.cache.get_mut(key).expect("cached").runs.insert(opt_key(o), r);
            }
        }
        let mut inputs = Vec::new();
        for s in settings {
            let init = self.init_measurement(theorem, origin, s, dataset)?;
            let cached = &self.cache[&base_key(s, dataset)];
            let runs: Vec<&Run> = s.optimizers.iter().map(|o| &cached.runs[&opt_key(o)]).collect();
            let mut m = measure_runs(&cached.exp, &runs, theorem.measure.feature_level);
            add_certified(theorem, &cached.exp, &runs, &mut m);
            // On real images the experiment's setting says what the data became (d, P, counts).
            let setting = if dataset.is_some() { cached.exp.setting.clone() } else { s.clone() };
            inputs.push(SeedInput { seed: s.seed, setting, m, init: Some(init) });
        }
        Ok(inputs)
    }
}

/// Rejects a check of `checks` (the file's `list`: `check` or `over_seeds`) that already passes at
/// initialization (`on`: the seed, or "over the seeds") without `holds_at_init`.
fn reject_passing_at_init(
    theorem: &Theorem,
    list: &str,
    checks: &[super::theorem::Check],
    origin: &str,
    on: &str,
    init: &Measurement,
) -> Result<()> {
    for (k, c) in checks.iter().enumerate() {
        let passes = evaluate_at_init(c, init).is_some_and(|a| a.passes);
        if passes && c.holds_at_init.is_none() {
            return Err(Error::Config {
                origin: theorem.at(origin, &format!("{list}[{k}].what")),
                message: format!(
                    "{list}[{k}] ({:?}) already passes at initialization ({on}): it cannot tell a trained \
                     network from an untrained one. Compare with the initial value, or say why that is right \
                     with `holds_at_init = \"...\"`",
                    c.what
                ),
            });
        }
    }
    Ok(())
}

/// A theorem file's real-image task and tile side (the data set's default tile when not given).
fn resolve_dataset(theorem: &Theorem, origin: &str, d: &DatasetSpec) -> Result<(crate::images::Task, usize)> {
    let task = crate::images::Task::parse(&d.task, "dataset.task")
        .map_err(|e| Error::Config { origin: theorem.at(origin, "dataset.task"), message: e.to_string() })?;
    Ok((task, d.tile.unwrap_or(task.source.default_tile())))
}

/// For a claim with checks on `certified.*` quantities: certifies the runs' final weights (and
/// `W^(0)`) in exact arithmetic (`src/endpoints/`) and adds the certified quantities to `m`.
fn add_certified(theorem: &Theorem, exp: &Experiment, runs: &[&Run], m: &mut Measurement) {
    if !theorem.uses_certified() {
        return;
    }
    let report = crate::endpoints::certify_experiment(exp, runs, &crate::endpoints::EndpointOptions::default());
    let (quantities, missing) = crate::endpoints::certified_quantities(&report);
    m.quantities.extend(quantities);
    m.missing.extend(missing);
}
