//! The command line: argument parsing and printing only; all computing is in the library.
//!
//! `adamgap` with no subcommand is `adamgap run`, the headline experiment.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use adamgap::error::{Error, Result};
use adamgap::setting::{ActivationKind, FeatureNoise, NoiseKind, OptimizerSetting, Setting};

/// `override_from!(args, setting; flag => field.path, ...)`: every flag that is `Some` overwrites
/// the field (flags override the config file).
macro_rules! override_from {
    ($args:ident, $s:ident; $($flag:ident => $($target:ident).+),* $(,)?) => {
        $(
            if let Some(v) = $args.$flag.clone() {
                $s.$($target).+ = v;
            }
        )*
    };
}

pub mod check;
pub mod convex;
pub mod output;
pub mod precision;
pub mod sweep;

use output::CliResult;

/// adamgap: a proof companion for Zou, Cao, Li, Gu, "Understanding the Generalization of Adam in
/// Learning Neural Networks with Proper Regularization" (ICLR 2023).
#[derive(Debug, Parser)]
#[command(name = "adamgap", version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Arguments of `run` when no subcommand is given.
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The headline experiment: GD and Adam from one initialization on the paper's data (default).
    Run(RunArgs),
    /// The convex case: certify that every optimizer reaches the one regularized minimizer.
    Convex(convex::ConvexArgs),
    /// Check the paper's claims in theorems/*.toml and print one verdict per claim.
    Check(check::CheckArgs),
    /// Run a grid of settings (sharded, resumable; Slurm array jobs) and merge it: `sweep GRID.toml
    /// --out DIR`, `sweep --preset NAME --out DIR`, `sweep merge DIR`.
    Sweep(sweep::SweepArgs),
    /// The precision audit: f64 against double-double and one-ulp twins of W^(0), parting steps,
    /// growth of the distance, and whether every headline verdict survives.
    Precision(precision::PrecisionArgs),
}

/// Settings of the nonconvex experiment: a TOML config, then flags on top of it.
#[derive(Debug, Args, Default, Clone)]
pub struct SettingArgs {
    /// TOML config file (tables `[data]`, `[model]`, `[train]`, `[[optimizers]]`; see docs/config.md).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Seed of the ChaCha8 generator.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Patch dimension d.
    #[arg(long)]
    pub d: Option<usize>,
    /// Number of training points n.
    #[arg(long)]
    pub n: Option<usize>,
    /// Noise support size s.
    #[arg(long)]
    pub s: Option<usize>,
    /// Noise standard deviation sigma_p.
    #[arg(long)]
    pub sigma_p: Option<f64>,
    /// Feature-noise strength alpha (0 < alpha < 1).
    #[arg(long)]
    pub alpha: Option<f64>,
    /// Number of patches P (>= 2).
    #[arg(long)]
    pub patches: Option<usize>,
    /// Test-set size.
    #[arg(long)]
    pub test_size: Option<usize>,
    /// Where the feature noise goes: in-noise-patch (the paper) or separate-patch.
    #[arg(long, value_parser = parse_kebab::<FeatureNoise>)]
    pub feature_noise: Option<FeatureNoise>,
    /// Noise kind: sparse (the paper) or dense.
    #[arg(long, value_parser = parse_kebab::<NoiseKind>)]
    pub noise: Option<NoiseKind>,
    /// Probability of flipping a training label.
    #[arg(long)]
    pub label_flip: Option<f64>,
    /// Filters per class m.
    #[arg(long)]
    pub m: Option<usize>,
    /// Power q of the polynomial ReLU.
    #[arg(long)]
    pub q: Option<u32>,
    /// Activation: poly-relu (default) or linear.
    #[arg(long, value_parser = parse_kebab::<ActivationKind>)]
    pub activation: Option<ActivationKind>,
    /// Multiply F_j by 1/m.
    #[arg(long)]
    pub mean_over_filters: bool,
    /// Initialization scale sigma_0.
    #[arg(long)]
    pub sigma0: Option<f64>,
    /// Weight decay lambda.
    #[arg(long)]
    pub lambda: Option<f64>,
    /// Step budget of every optimizer.
    #[arg(long)]
    pub steps: Option<usize>,
    /// Stop once ||grad L||_2 <= this (0: never).
    #[arg(long)]
    pub grad_tol: Option<f64>,
    /// Optimizers to run, comma separated (gd, adam, sign-gd, adamw, momentum, rmsprop, adagrad).
    #[arg(long, value_delimiter = ',')]
    pub optimizers: Option<Vec<String>>,
    /// Adam's (and AdamW's, sign GD's) step size.
    #[arg(long)]
    pub adam_eta: Option<f64>,
    /// GD's step size.
    #[arg(long)]
    pub gd_eta: Option<f64>,
    /// Adam's beta_1.
    #[arg(long)]
    pub b1: Option<f64>,
    /// Adam's beta_2.
    #[arg(long)]
    pub b2: Option<f64>,
    /// Adam's epsilon.
    #[arg(long)]
    pub eps: Option<f64>,
    /// Adam without bias correction (the paper's analysis).
    #[arg(long)]
    pub no_bias_correction: bool,
}

/// Parses a flag's value by the serde name of its type (the same kebab-case spelling as in
/// TOML files); the error lists the allowed values.
pub(crate) fn parse_kebab<T: serde::de::DeserializeOwned>(s: &str) -> std::result::Result<T, String> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|e| e.to_string())
}

impl SettingArgs {
    /// The setting: defaults, then the config file, then the flags; validated.
    pub fn resolve(&self) -> Result<Setting> {
        let base = match &self.config {
            Some(p) => adamgap::setting::read_toml_file(p).map_err(|e| e.given_by("--config"))?,
            None => Setting::default(),
        };
        self.resolve_from(base)
    }

    /// The setting: `base` (e.g. an imported folder's manifest), then the flags; validated.
    pub fn resolve_from(&self, base: Setting) -> Result<Setting> {
        let mut s = base;
        override_from!(self, s;
            seed => seed,
            d => data.d,
            n => data.n,
            s => data.s,
            sigma_p => data.sigma_p,
            alpha => data.alpha,
            patches => data.patches,
            test_size => data.test_size,
            feature_noise => data.feature_noise,
            noise => data.noise,
            label_flip => data.label_flip,
            m => model.m,
            q => model.q,
            activation => model.activation,
            sigma0 => model.sigma0,
            lambda => model.lambda,
            steps => train.steps,
            grad_tol => train.grad_tol,
        );
        if self.mean_over_filters {
            s.model.mean_over_filters = true;
        }
        if let Some(names) = &self.optimizers {
            let mut opts = Vec::new();
            for name in names {
                // Keep a config file's hyperparameters for an optimizer it already lists.
                match s.optimizers.iter().find(|o| o.key() == name.as_str()) {
                    Some(o) => opts.push(o.clone()),
                    None => opts.push(OptimizerSetting::default_for(name)?),
                }
            }
            s.optimizers = opts;
        }
        for o in &mut s.optimizers {
            match o {
                OptimizerSetting::Gd { eta } => set_opt(eta, self.gd_eta),
                OptimizerSetting::Adam { eta, b1, b2, eps, bias_correction }
                | OptimizerSetting::AdamW { eta, b1, b2, eps, bias_correction } => {
                    set_opt(eta, self.adam_eta);
                    set_opt(b1, self.b1);
                    set_opt(b2, self.b2);
                    set_opt(eps, self.eps);
                    if self.no_bias_correction {
                        *bias_correction = false;
                    }
                }
                OptimizerSetting::SignGd { eta, .. } => set_opt(eta, self.adam_eta),
                _ => {}
            }
        }
        s.validate()?;
        self.validate_unused(&s)?;
        Ok(s)
    }

    /// Checks the flags whose value no part of the setting uses (Adam's flags without Adam among
    /// the optimizers, `--gd-eta` without GD, `--s` with dense noise): a value given is checked
    /// whether or not it applies. Errors name the flag.
    fn validate_unused(&self, s: &Setting) -> Result<()> {
        let adam = OptimizerSetting::Adam {
            eta: self.adam_eta.unwrap_or(1e-3),
            b1: self.b1.unwrap_or(0.9),
            b2: self.b2.unwrap_or(0.999),
            eps: self.eps.unwrap_or(1e-8),
            bias_correction: true,
        };
        let gd = OptimizerSetting::Gd { eta: self.gd_eta.unwrap_or(1.0) };
        let flag = |e: Error, eta_flag: &str| match e {
            Error::InvalidParameter { field, value, allowed } => {
                let name = field.rsplit('.').next().unwrap_or(&field).to_string();
                let field = if name == "eta" { eta_flag.to_string() } else { format!("--{name}") };
                Error::InvalidParameter { field, value, allowed }
            }
            other => other,
        };
        adam.validate("flag").map_err(|e| flag(e, "--adam-eta"))?;
        gd.validate("flag").map_err(|e| flag(e, "--gd-eta"))?;
        if let Some(sv) = self.s
            && !(1..s.data.d).contains(&sv)
        {
            return Err(Error::invalid("data.s", sv, format!("1 <= s <= d - 1 = {}", s.data.d - 1)));
        }
        Ok(())
    }
}

fn set_opt(target: &mut f64, v: Option<f64>) {
    if let Some(v) = v {
        *target = v;
    }
}

/// Arguments of `adamgap run`.
#[derive(Debug, Args, Default, Clone)]
pub struct RunArgs {
    #[command(flatten)]
    pub setting: SettingArgs,
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
    /// Threads: the optimizers run side by side and each step's passes split over them (results do
    /// not depend on this).
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Arithmetic of the training path: f64 (fast, default) or dd (double-double, ~106 bits).
    #[arg(long, default_value = "f64")]
    pub precision: String,
    /// Refuse settings whose estimated memory exceeds this (bytes, or with K/M/G/T, e.g. 8G)
    /// [default: 3/4 of the available memory].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_memory: Option<u64>,
    /// Certify the final weights of every optimizer and the initialization in exact arithmetic
    /// (training and test error, objective, gradient norm, coefficients, GD-Adam distance); see
    /// docs/certified-endpoints.md.
    #[arg(long)]
    pub certify: bool,
    /// With --certify: write the certificate's inputs and claimed bounds to this directory
    /// (`python3 tools/check_endpoints.py DIR` re-checks them independently). Implies --certify.
    #[arg(long, value_name = "DIR")]
    pub certify_export: Option<PathBuf>,
}

/// Parses a size: bytes, or a number with `K`, `M`, `G` or `T` (powers of 1024).
pub(crate) fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    let (num, unit) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (&t[..i], t[i..].trim_end_matches(['B', 'b', 'i']).to_ascii_uppercase()),
        None => (t, String::new()),
    };
    let mult: f64 = match unit.as_str() {
        "" => 1.0,
        "K" => 1024.0,
        "M" => 1024f64.powi(2),
        "G" => 1024f64.powi(3),
        "T" => 1024f64.powi(4),
        _ => return Err(format!("unknown unit in {s:?} (use bytes or K, M, G, T)")),
    };
    let x: f64 = num.trim().parse().map_err(|_| format!("{s:?} is not a size (e.g. 8G, 512M, 1000000)"))?;
    let bytes = x * mult;
    if !(bytes.is_finite() && bytes >= 1.0 && bytes < 2f64.powi(64)) {
        return Err(format!("{s:?} is out of range (1 byte to 16 EiB)"));
    }
    Ok(bytes as u64)
}

/// Checks a memory estimate against `--max-memory`, or by default 3/4 of the available memory
/// (no default check where the system does not report it).
pub(crate) fn check_memory(estimate: &adamgap::memory::Estimate, max_memory: Option<u64>) -> Result<()> {
    match max_memory {
        Some(limit) => estimate.check(limit, "--max-memory"),
        None => match adamgap::memory::available() {
            Some(avail) => estimate.check(avail / 4 * 3, "3/4 of the available memory; set --max-memory to change"),
            None => Ok(()),
        },
    }
}

/// `adamgap run`: trains every optimizer from one initialization and prints the report.
pub fn run(args: &RunArgs) -> CliResult<i32> {
    let precision = adamgap::precision::Precision::parse(&args.precision)?;
    let exp = match &args.import {
        Some(dir) => {
            let imported = adamgap::interchange::import::read(dir).map_err(|e| e.given_by("--import"))?;
            let setting = args.setting.resolve_from(imported.setting.clone())?;
            check_memory(&adamgap::memory::of_setting(&setting), args.max_memory)?;
            imported.experiment(&setting)?
        }
        None => {
            let setting = args.setting.resolve()?;
            check_memory(&adamgap::memory::of_setting(&setting), args.max_memory)?;
            adamgap::train::Experiment::new(&setting)?
        }
    };
    let setting = exp.setting.clone();
    if args.report.is_some() && args.report == args.export {
        return Err(Error::invalid(
            "--export",
            args.export.as_ref().expect("set").display(),
            "a folder other than --report's",
        )
        .into());
    }
    if let Some(dir) = &args.report {
        if dir.extension().is_some_and(|e| e == "md") {
            return Err(Error::invalid(
                "--report",
                dir.display(),
                "a folder path: the report is a folder (DIR/report.md and its SVG figures)",
            )
            .into());
        }
        adamgap::outdir::check_target(dir, &adamgap::report_folder::owned)?;
    }
    if let Some(dir) = &args.export {
        adamgap::outdir::check_target(dir, &adamgap::interchange::owned)?;
    }
    if let Some(dir) = &args.certify_export {
        if dir.exists() && !dir.is_dir() {
            return Err(Error::invalid("--certify-export", dir.display(), "a folder (or a path to create)").into());
        }
        adamgap::outdir::check_target(dir, &adamgap::endpoints::export::owned)?;
    }
    let bars = progress_bars(&setting, args.quiet || args.json);
    let runs = adamgap::precision::run_all(&exp, precision, &|k, t| {
        if let Some(b) = bars.get(k) {
            b.set_position(t as u64);
        }
    });
    for b in &bars {
        b.finish_and_clear();
    }
    let verdicts = adamgap::claims::headline(&exp, &runs);
    let run_refs: Vec<&adamgap::train::Run> = runs.iter().collect();
    let certified = (args.certify || args.certify_export.is_some()).then(|| {
        adamgap::endpoints::certify_experiment(&exp, &run_refs, &adamgap::endpoints::EndpointOptions::default())
    });
    if let (Some(c), Some(dir)) = (&certified, &args.certify_export) {
        adamgap::endpoints::export::export(&exp, &run_refs, c, dir)?;
    }
    if let Some(dir) = &args.report {
        let extra = certified.as_ref().map(adamgap::endpoints::markdown).unwrap_or_default();
        adamgap::report_folder::write_with(dir, &exp, &runs, &verdicts, &extra)?;
    }
    if let Some(dir) = &args.export {
        adamgap::interchange::export::write(dir, &exp, &runs, certified.as_ref())?;
    }
    if args.json {
        let mut v = adamgap::report::json_summary(&exp, &runs, &verdicts);
        if precision != adamgap::precision::Precision::F64 {
            v["precision"] = serde_json::json!(precision.label());
        }
        if let Some(c) = &certified {
            v["certify"] = adamgap::endpoints::json(c);
        }
        output::json(&v)?;
    } else {
        if precision != adamgap::precision::Precision::F64 {
            output::stdout(&format!(
                "precision: {} (every step after the draw)
",
                precision.label()
            ))?;
        }
        let mut text = adamgap::report::text(&exp, &runs, &verdicts);
        if let Some(c) = &certified {
            text.push_str(&adamgap::endpoints::text(c));
        }
        output::stdout(&text)?;
        if let Some(path) = &args.report {
            output::stdout(&format!("\nreport written to {}\n", path.join("report.md").display()))?;
        }
    }
    Ok(0)
}

/// One progress bar per optimizer on stderr (hidden when `hidden` or stderr is not a terminal).
pub fn progress_bars(setting: &Setting, hidden: bool) -> Vec<indicatif::ProgressBar> {
    use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
    let multi = MultiProgress::with_draw_target(if hidden {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    });
    let style = ProgressStyle::with_template("{prefix:>8} [{bar:40}] {pos}/{len} steps {elapsed}")
        .expect("valid template")
        .progress_chars("=> ");
    setting
        .optimizers
        .iter()
        .map(|o| {
            let b = multi.add(ProgressBar::new(setting.train.steps as u64));
            b.set_style(style.clone());
            b.set_prefix(o.key());
            b
        })
        .collect()
}

/// Runs `command` in the command's one thread pool of `threads` threads (`--threads`): every
/// parallel pass of the library runs on it, none builds its own.
fn in_pool(threads: usize, command: impl FnOnce() -> CliResult<i32> + Send) -> CliResult<i32> {
    let max = adamgap::parallel::MAX_THREADS;
    if !(1..=max).contains(&threads) {
        return Err(Error::invalid("--threads", threads, format!("1..={max}")).into());
    }
    adamgap::parallel::pool(threads)?.install(command)
}

/// Parses the command line and runs it; returns the process exit code (errors print `error: ...`
/// to stderr and give 2).
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return output::clap_exit(&e),
    };
    let threads = match &cli.command {
        None => cli.run.threads,
        Some(Command::Run(a)) => a.threads,
        Some(Command::Convex(a)) => a.threads,
        Some(Command::Check(a)) => a.threads,
        Some(Command::Sweep(a)) => a.threads(),
        Some(Command::Precision(a)) => a.threads,
    };
    let result = in_pool(threads, || match &cli.command {
        None => run(&cli.run),
        Some(Command::Run(a)) => run(a),
        Some(Command::Convex(a)) => convex::main(a),
        Some(Command::Check(a)) => check::main(a),
        Some(Command::Sweep(a)) => sweep::main(a),
        Some(Command::Precision(a)) => precision::main(a),
    });
    match result {
        Ok(code) => code,
        Err(failure) => output::exit_code(failure),
    }
}
