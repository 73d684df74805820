//! `adamgap run`, the headline experiment: GD and Adam (and any other optimizers of the setting)
//! from one initialization, every output the run can write, and what it prints.
//!
//! The order is the reliability rule of `docs/reliability.md`: the setting is resolved and its
//! memory estimated, and every output folder is checked, before any training; the folders are
//! written (atomically, through `crate::outdir`) only after every run has finished.

use std::path::PathBuf;

use clap::Args;

use super::flags::{DatasetArgs, MemoryArg, SettingArgs, ThreadsArg};
use crate::error::{Error, Result};
use crate::precision::Precision;
use crate::setting::Setting;
use crate::train::{Experiment, Run};

/// Arguments of `adamgap run`.
#[derive(Debug, Args, Default, Clone)]
pub struct RunArgs {
    #[command(flatten)]
    pub setting: SettingArgs,
    #[command(flatten)]
    pub dataset: DatasetArgs,
    /// Print a machine-readable JSON summary to stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Also write a report folder: report.md (tables, verdicts, full trace) and the SVG figures
    /// dynamics.svg, errors.svg, filters.svg (written atomically).
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Also export the run for Python (format adamgap-run-1, docs/interchange.md): manifest.json,
    /// the data as CSR .npy files, W^(0), final weights and traces (written atomically).
    #[arg(long, value_name = "DIR")]
    pub export: Option<PathBuf>,
    /// Train on the data and W^(0) of an exported folder (its manifest's setting is the default;
    /// flags override what does not describe the data or W^(0)).
    #[arg(long, value_name = "DIR", conflicts_with = "config")]
    pub import: Option<PathBuf>,
    #[command(flatten)]
    pub threads: ThreadsArg,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Arithmetic of the training path: f64 (fast, default) or dd (double-double, ~106 bits).
    #[arg(long, value_enum, default_value_t = Precision::F64)]
    pub precision: Precision,
    #[command(flatten)]
    pub memory: MemoryArg,
    /// Certify the final weights of every optimizer and the initialization in exact arithmetic
    /// (training and test error, objective, gradient norm, coefficients, GD-Adam distance); see
    /// docs/certified-endpoints.md.
    #[arg(long)]
    pub certify: bool,
    /// With --certify: write the certificate's inputs and claimed bounds to this directory
    /// (`python3 tools/check_endpoints.py DIR` re-checks them independently). Implies --certify.
    #[arg(long, value_name = "DIR")]
    pub certify_export: Option<PathBuf>,
    /// Run each optimizer to its limit: until its gradient tolerance (--grad-tol; 1e-12 when the
    /// setting has none) or its step budget (--steps), as its stop reason says; then polish each
    /// final iterate by Newton's method in the span of the training patches and report the
    /// distance moved beside ||W_GD - W_Adam||_F (docs/limit-points.md).
    #[arg(long)]
    pub to_limit: bool,
    /// With --to-limit: no Newton polish.
    #[arg(long, requires = "to_limit")]
    pub no_polish: bool,
    /// With --to-limit: at most this many Newton steps (1 to 1000).
    #[arg(long, default_value_t = 50, requires = "to_limit")]
    pub polish_steps: usize,
    /// With --to-limit: the longest Newton step allowed in the span of the training patches
    /// (finite, > 0); a longer one stops the polish (it could leave the optimizer's basin).
    #[arg(long, default_value_t = 1.0, requires = "to_limit")]
    pub polish_max_step: f64,
}

impl RunArgs {
    /// The polish `--to-limit` asks for (`None`: no polish), its flags checked.
    pub fn polish_settings(&self) -> Result<Option<crate::limit::PolishSettings>> {
        if !(1..=1000).contains(&self.polish_steps) {
            return Err(Error::invalid("--polish-steps", self.polish_steps, "1 to 1000"));
        }
        if !(self.polish_max_step.is_finite() && self.polish_max_step > 0.0) {
            return Err(Error::invalid("--polish-max-step", self.polish_max_step, "finite and > 0"));
        }
        Ok((self.to_limit && !self.no_polish).then(|| crate::limit::PolishSettings {
            max_steps: self.polish_steps,
            max_step: self.polish_max_step,
            ..crate::limit::PolishSettings::default()
        }))
    }
}

/// What a caller sees of a run as it goes (the binary's progress bars; `()` sees nothing).
pub trait Progress: Sync {
    /// Once, before training, with the resolved setting (its optimizers and step budget).
    fn begin(&self, _setting: &Setting) {}
    /// Optimizer `k` (its index in the setting) has made step `t`.
    fn step(&self, _k: usize, _t: usize) {}
}

impl Progress for () {}

/// What `adamgap run` prints: the JSON summary (`--json`) or the text report.
#[derive(Clone, Debug, PartialEq)]
pub enum RunOutput {
    Json(serde_json::Value),
    Text(String),
}

/// The experiment `args` describe: the imported folder's data and `W^(0)` with the flags on its
/// manifest's setting, a real-image task (`--dataset`), or a new draw from the config file and
/// the flags; the memory estimate is checked before anything is drawn.
pub fn experiment(args: &RunArgs) -> Result<Experiment> {
    experiment_and_task(args).map(|(e, _)| e)
}

/// [`experiment`], with what a real-image experiment was made of (`None` for synthetic or
/// imported data). A real-image task is estimated from its source's image size before any file is read.
pub fn experiment_and_task(args: &RunArgs) -> Result<(Experiment, Option<crate::images::TaskInfo>)> {
    if let Some(spec) = &args.dataset.dataset {
        let task = crate::images::Task::parse(spec, "--dataset")?;
        let base = args.setting.resolve()?;
        let tile = args.dataset.tile.unwrap_or(task.source.default_tile());
        let dir = args.dataset.dataset_dir.clone().unwrap_or_else(|| crate::images::DEFAULT_DIR.into());
        // Estimated before any file is read.
        args.memory.check(&crate::images::estimate(&task, &base, tile))?;
        let (exp, info) = crate::images::experiment(&task, &base, &dir, tile)?;
        return Ok((exp, Some(info)));
    }
    match &args.import {
        Some(dir) => {
            // The manifest's setting with the flags is estimated before the arrays are read.
            let mut setting = None;
            let imported = crate::interchange::import::read_then(dir, |described| {
                let s = args.setting.resolve_from(described.clone())?;
                args.memory.check(&crate::memory::of_setting(&s))?;
                setting = Some(s);
                Ok(())
            })
            .map_err(|e| e.given_by("--import"))?;
            let setting = setting.expect("set before the arrays are read");
            Ok((imported.experiment(&setting)?, None))
        }
        None => {
            let setting = args.setting.resolve()?;
            args.memory.check(&crate::memory::of_setting(&setting))?;
            Ok((Experiment::new(&setting)?, None))
        }
    }
}

/// Checks every output folder of `args` before any work: distinct, folder paths, and each either
/// absent, empty or a folder the same output wrote before (`crate::outdir::check_target`).
pub fn check_outputs(args: &RunArgs) -> Result<()> {
    if args.report.is_some() && args.report == args.export {
        return Err(Error::invalid(
            "--export",
            args.export.as_ref().expect("set").display(),
            "a folder other than --report's",
        ));
    }
    if let Some(dir) = &args.report {
        if dir.extension().is_some_and(|e| e == "md") {
            return Err(Error::invalid(
                "--report",
                dir.display(),
                "a folder path: the report is a folder (DIR/report.md and its SVG figures)",
            ));
        }
        crate::outdir::check_target(dir, &crate::report_folder::owned)?;
    }
    if let Some(dir) = &args.export {
        crate::outdir::check_target(dir, &crate::interchange::owned)?;
    }
    if let Some(dir) = &args.certify_export {
        if dir.exists() && !dir.is_dir() {
            return Err(Error::invalid("--certify-export", dir.display(), "a folder (or a path to create)"));
        }
        crate::outdir::check_target(dir, &crate::endpoints::export::owned)?;
    }
    Ok(())
}

/// `adamgap run`: the experiment, its outputs and what to print; `progress` sees the setting
/// and the steps as the runs go.
pub fn run(args: &RunArgs, progress: &dyn Progress) -> Result<RunOutput> {
    let polish = args.polish_settings()?;
    let (mut exp, task) = experiment_and_task(args)?;
    check_outputs(args)?;
    if args.to_limit {
        if exp.setting.train.grad_tol == 0.0 {
            exp.setting.train.grad_tol = crate::limit::TO_LIMIT_GRAD_TOL;
        }
        if polish.is_some() {
            args.memory.check(&crate::memory::of_limit(&exp.setting, task.is_none()))?;
        }
    }
    progress.begin(&exp.setting);
    let runs = crate::precision::run_all(&exp, args.precision, &|k, t| progress.step(k, t));
    // The headline claims are about the synthetic distribution's feature and noise coefficients:
    // on real images there is no verdict to give (the report says what is shown instead).
    let verdicts = if task.is_some() { Vec::new() } else { crate::claims::headline(&exp, &runs) };
    let run_refs: Vec<&Run> = runs.iter().collect();
    let certified = (args.certify || args.certify_export.is_some())
        .then(|| crate::endpoints::certify_experiment(&exp, &run_refs, &crate::endpoints::EndpointOptions::default()));
    let limit = args
        .to_limit
        .then(|| crate::limit::limit_points(&exp, &runs, polish, args.certify || args.certify_export.is_some()));
    if let (Some(c), Some(dir)) = (&certified, &args.certify_export) {
        crate::endpoints::export::export(&exp, &run_refs, c, dir)?;
    }
    if let Some(dir) = &args.report {
        let mut extra = certified.as_ref().map(crate::endpoints::markdown).unwrap_or_default();
        extra += &limit.as_ref().map(crate::limit::markdown).unwrap_or_default();
        match &task {
            Some(t) => crate::report_folder::write_real(dir, &exp, &runs, t, &extra)?,
            None => crate::report_folder::write_with(dir, &exp, &runs, &verdicts, &extra, args.to_limit)?,
        }
    }
    if let Some(dir) = &args.export {
        crate::interchange::export::write(dir, &exp, &runs, certified.as_ref())?;
    }
    if args.json {
        let mut v = crate::report::json_summary(&exp, &runs, &verdicts);
        if args.precision != Precision::F64 {
            v["precision"] = serde_json::json!(args.precision.label());
        }
        if let Some(c) = &certified {
            v["certify"] = crate::endpoints::json(c);
        }
        if let Some(l) = &limit {
            v["limit"] = crate::limit::json(l);
        }
        if let Some(t) = &task {
            v["dataset"] = crate::report::real_json(&exp, &runs, t);
        }
        return Ok(RunOutput::Json(v));
    }
    let mut text = String::new();
    if args.precision != Precision::F64 {
        text += &format!("precision: {} (every step after the draw)\n", args.precision.label());
    }
    text += &match &task {
        Some(t) => crate::report::real_text(&exp, &runs, t),
        None => crate::report::text(&exp, &runs, &verdicts),
    };
    if let Some(c) = &certified {
        text.push_str(&crate::endpoints::text(c));
    }
    if let Some(l) = &limit {
        text.push_str(&crate::limit::text(l));
    }
    if let Some(path) = &args.report {
        text += &format!("\nreport written to {}\n", path.join("report.md").display());
    }
    Ok(RunOutput::Text(text))
}
