//! The command line's flag groups, shared by the commands that take them (`#[command(flatten)]`):
//! the nonconvex setting's flags ([`SettingArgs`]), the thread pool ([`ThreadsArg`]), the memory
//! limit ([`MemoryArg`]) and the value parsers they use. Each flag is declared once here; every
//! default it falls back to is the library's own (`src/setting.rs`).

use std::path::PathBuf;

use clap::Args;

use crate::error::{Error, Result};
use crate::setting::{
    ActivationKind, BATCH_SIZE_RANGE, FeatureNoise, LastBatch, NoiseKind, OptimizerSetting, Sampling, Setting,
};

/// `override_from!(args, setting, given; flag => field.path, ...)`: every flag that is `Some`
/// overwrites the field (flags override the config file) and is recorded in `given` (a
/// [`Given`]) as `(field path, --flag)`, so an error about the field can name the flag.
#[macro_export]
macro_rules! override_from {
    ($args:ident, $s:ident, $given:ident; $($flag:ident => $($target:ident).+),* $(,)?) => {
        $(
            if let Some(v) = $args.$flag.clone() {
                $s.$($target).+ = v;
                $given.set(stringify!($($target).+), stringify!($flag));
            }
        )*
    };
}

/// The fields a command's flags set, each with its flag: an invalid value is reported under the
/// flag when a flag gave it, and under the config file's field otherwise.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Given(Vec<(String, String)>);

impl Given {
    /// Records that `--flag` (its Rust name, `sigma_p`) set `field` (a path, `data.sigma_p`).
    pub fn set(&mut self, field: &str, flag: &str) {
        let field: String = field.chars().filter(|c| !c.is_whitespace()).collect();
        self.0.push((field, format!("--{}", flag.replace('_', "-"))));
    }

    /// The flag that set `field`, if one did.
    pub fn flag(&self, field: &str) -> Option<&str> {
        self.0.iter().rev().find(|(f, _)| f == field).map(|(_, flag)| flag.as_str())
    }

    /// `e`, with an invalid value's field named `--flag (field)` when a flag set it; `config_key`
    /// spells a field the way the config file does (for a field no flag set).
    pub fn name(&self, e: Error, config_key: impl Fn(&str) -> String) -> Error {
        match e {
            Error::InvalidParameter { field, value, allowed } => {
                let field = match self.flag(&field) {
                    Some(flag) => format!("{flag} ({})", config_key(&field)),
                    None => config_key(&field),
                };
                Error::InvalidParameter { field, value, allowed }
            }
            other => other,
        }
    }
}

/// The data flags (and the seed), shared by `run`, `precision` and `convex`: each overrides its
/// field of the setting's `[data]` table.
#[derive(Debug, Args, Default, Clone)]
pub struct DataArgs {
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
}

impl DataArgs {
    /// Overrides the seed and the data fields of `s` with the flags given, recorded in `given`.
    pub fn apply(&self, s: &mut Setting, given: &mut Given) {
        override_from!(self, s, given;
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
        );
    }
}

/// The size of a command's thread pool.
#[derive(Debug, Args, Clone, Copy, PartialEq, Eq)]
pub struct ThreadsArg {
    /// Threads of the command's one pool: runs go side by side and each step's passes split over
    /// them (results do not depend on this).
    #[arg(long = "threads", default_value_t = 2)]
    pub threads: usize,
}

impl Default for ThreadsArg {
    fn default() -> Self {
        Self { threads: 2 }
    }
}

/// The memory limit a command checks its estimate against before it allocates.
#[derive(Debug, Args, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryArg {
    /// Refuse settings whose estimated memory exceeds this (bytes, or with K/M/G/T, e.g. 8G)
    /// [default: 3/4 of the available memory].
    #[arg(long = "max-memory", value_name = "SIZE", value_parser = parse_size)]
    pub max_memory: Option<u64>,
}

impl MemoryArg {
    /// Checks `estimate` against `--max-memory`, or by default 3/4 of the available memory (no
    /// default check where the system does not report it).
    pub fn check(&self, estimate: &crate::memory::Estimate) -> Result<()> {
        match self.max_memory {
            Some(limit) => estimate.check(limit, "--max-memory"),
            None => match crate::memory::available() {
                Some(avail) => estimate.check(avail / 4 * 3, "3/4 of the available memory; set --max-memory to change"),
                None => Ok(()),
            },
        }
    }
}

/// Settings of the nonconvex experiment: a TOML config, then flags on top of it.
#[derive(Debug, Args, Default, Clone)]
pub struct SettingArgs {
    /// TOML config file (tables `[data]`, `[model]`, `[train]`, `[[optimizers]]`; see docs/config.md).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub data: DataArgs,
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
    /// Step budget of every optimizer (or --epochs; not both).
    #[arg(long)]
    pub steps: Option<usize>,
    /// Budget in epochs (passes over the training set) instead of --steps.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Samples per step, 1..=n [default: n, full batch].
    #[arg(long, value_parser = parse_batch_size)]
    pub batch_size: Option<usize>,
    /// How batches are drawn: reshuffle (a fresh permutation every epoch, default) or
    /// replacement (n uniform draws every epoch).
    #[arg(long, value_parser = parse_kebab::<Sampling>)]
    pub sampling: Option<Sampling>,
    /// An epoch's last partial batch: keep (default) or drop.
    #[arg(long, value_parser = parse_kebab::<LastBatch>)]
    pub last_batch: Option<LastBatch>,
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

/// Parses `--batch-size`: a positive integer (its upper bound `n` is checked with the setting).
pub fn parse_batch_size(s: &str) -> std::result::Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(b) if b >= 1 => Ok(b),
        _ => Err(format!("{s:?} is not {BATCH_SIZE_RANGE}")),
    }
}

/// Parses a flag's value by the serde name of its type (the same kebab-case spelling as in
/// TOML files); the error lists the allowed values.
pub fn parse_kebab<T: serde::de::DeserializeOwned>(s: &str) -> std::result::Result<T, String> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|e| e.to_string())
}

impl SettingArgs {
    /// The setting: defaults, then the config file, then the flags; validated.
    pub fn resolve(&self) -> Result<Setting> {
        let base = match &self.config {
            Some(p) => crate::setting::read_toml_file(p).map_err(|e| e.given_by("--config"))?,
            None => Setting::default(),
        };
        self.resolve_from(base)
    }

    /// The setting: `base` (e.g. an imported folder's manifest), then the flags; validated.
    pub fn resolve_from(&self, base: Setting) -> Result<Setting> {
        let mut s = base;
        let mut given = Given::default();
        self.data.apply(&mut s, &mut given);
        override_from!(self, s, given;
            m => model.m,
            q => model.q,
            activation => model.activation,
            sigma0 => model.sigma0,
            lambda => model.lambda,
            steps => train.steps,
            grad_tol => train.grad_tol,
            sampling => train.sampling,
            last_batch => train.last_batch,
        );
        if let Some(b) = self.batch_size {
            s.train.batch_size = Some(b);
            given.set("train.batch_size", "batch_size");
        }
        // A budget flag replaces the config file's budget of the other kind; both flags at once
        // are refused.
        match (self.steps, self.epochs) {
            (Some(st), Some(e)) => {
                return Err(Error::invalid(
                    "--steps (train.steps) and --epochs (train.epochs)",
                    format!("{st} and {e}"),
                    "one of the two: the budget in steps or in epochs",
                ));
            }
            (Some(_), None) => s.train.epochs = None,
            (None, Some(e)) => {
                s.train.epochs = Some(e);
                given.set("train.epochs", "epochs");
            }
            (None, None) => {}
        }
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
        s.validate().map_err(|e| given.name(e, str::to_string))?;
        self.validate_unused(&s)?;
        s.resolve_budget();
        Ok(s)
    }

    /// Checks the flags whose value no part of the setting uses (Adam's flags without Adam among
    /// the optimizers, `--gd-eta` without GD, `--s` with dense noise): a value given is checked
    /// whether or not it applies. Errors name the flag.
    fn validate_unused(&self, s: &Setting) -> Result<()> {
        // The flags applied to the default Adam and GD (`src/setting.rs`, the one place their
        // defaults are written), so a flag is checked by the optimizer's own rules.
        let mut adam = OptimizerSetting::default_for("adam")?;
        if let OptimizerSetting::Adam { eta, b1, b2, eps, .. } = &mut adam {
            set_opt(eta, self.adam_eta);
            set_opt(b1, self.b1);
            set_opt(b2, self.b2);
            set_opt(eps, self.eps);
        }
        let mut gd = OptimizerSetting::default_for("gd")?;
        if let OptimizerSetting::Gd { eta } = &mut gd {
            set_opt(eta, self.gd_eta);
        }
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
        if let Some(sv) = self.data.s
            && !(1..s.data.d).contains(&sv)
        {
            return Err(Error::invalid("--s (data.s)", sv, format!("1 <= s <= d - 1 = {}", s.data.d - 1)));
        }
        Ok(())
    }
}

fn set_opt(target: &mut f64, v: Option<f64>) {
    if let Some(v) = v {
        *target = v;
    }
}

/// Parses a size: bytes, or a number with `K`, `M`, `G` or `T` (powers of 1024).
pub fn parse_size(s: &str) -> std::result::Result<u64, String> {
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

/// The real-image flags of `run` (`docs/images.md`): a two-class task of Fashion-MNIST or the UCI
/// digits instead of the synthetic distribution.
#[derive(Debug, Args, Default, Clone)]
pub struct DatasetArgs {
    /// Train on real images: DATASET:A,B with DATASET fashion-mnist or digits, class A labelled +1
    /// and B -1 (fashion-mnist:shirt,t-shirt, digits:3,8); --n training images (balanced), the test
    /// split's images of A and B (at most --test-size). Not with --import or --export (an
    /// adamgap-run-1 folder describes synthetic data). See docs/images.md.
    #[arg(
        long,
        value_name = "DATASET:A,B",
        conflicts_with_all = ["import", "export", "d", "s", "sigma_p", "alpha", "patches", "feature_noise", "noise", "label_flip"]
    )]
    pub dataset: Option<String>,
    /// Folder of the Fashion-MNIST IDX files (plain or .gz) [default:
    /// /usr/share/datasets/fashion-mnist, where the Debian package dataset-fashion-mnist puts them].
    #[arg(long, value_name = "DIR", requires = "dataset")]
    pub dataset_dir: Option<PathBuf>,
    /// Side of the square tiles the images are cut into (the patches: d = tile^2) [default: 7 for
    /// fashion-mnist (16 patches of 49 pixels), 4 for digits (4 patches of 16)].
    #[arg(long, value_name = "N", requires = "dataset")]
    pub tile: Option<usize>,
}
