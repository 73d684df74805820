//! Every parameter of an experiment, its defaults (the paper's finite-size setting) and its validation.
//!
//! A [`Setting`] is plain data: it deserializes from TOML (every table and field optional, unknown
//! fields rejected), is overridden by command-line flags, and is checked once by [`Setting::validate`]
//! before anything runs. A failed check names the field, the value and the allowed range.
//!
//! Defaults (the paper's finite-size setting, docs/model.md#parameters): `d = 1000, n = 200, s = 100, sigma_p = 0.1,
//! alpha = 0.2, sigma_0 = 0.01, m = 20, q = 3, lambda = 1e-5`, test set of 10,000; Adam
//! `eta = 5e-5, b1 = 0.9, b2 = 0.999, eps = 1e-8`, bias-corrected, 10,000 steps; GD `eta = 1`
//! (GD needs a far larger step to move at this initialization scale).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Where the feature noise `-alpha y v` goes (docs/model.md#variants).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FeatureNoise {
    /// Inside the noise patch: `xi[1] = -alpha y` (the paper's definition).
    InNoisePatch,
    /// As its own patch `[y v, -alpha y v, xi]` (one more patch than `patches` says).
    SeparatePatch,
}

/// The distribution of the noise patch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoiseKind {
    /// `s` coordinates drawn from `{2..d}`, i.i.d. `N(0, sigma_p^2)` there (the paper's definition).
    Sparse,
    /// Every coordinate `2..d` i.i.d. `N(0, sigma_p^2)` (`s` is ignored).
    Dense,
}

/// Parameters of the data distribution (Definition 3.1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataSetting {
    /// Dimension of a patch.
    pub d: usize,
    /// Number of training points.
    pub n: usize,
    /// Size of the noise support.
    pub s: usize,
    /// Standard deviation of a noise coordinate.
    pub sigma_p: f64,
    /// Strength of the feature noise, `0 < alpha < 1`.
    pub alpha: f64,
    /// Number of patches `P` (1 signal patch, `P - 1` noise patches), `P >= 2`.
    pub patches: usize,
    /// Number of fresh test points.
    pub test_size: usize,
    /// Where the feature noise goes.
    pub feature_noise: FeatureNoise,
    /// Sparse (the paper) or dense noise.
    pub noise: NoiseKind,
    /// Probability that a training label is flipped (test labels stay clean).
    pub label_flip: f64,
}

impl Default for DataSetting {
    fn default() -> Self {
        Self {
            d: 1000,
            n: 200,
            s: 100,
            sigma_p: 0.1,
            alpha: 0.2,
            patches: 2,
            test_size: 10_000,
            feature_noise: FeatureNoise::InNoisePatch,
            noise: NoiseKind::Sparse,
            label_flip: 0.0,
        }
    }
}

/// The activation `sigma`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActivationKind {
    /// `sigma(z) = max(0, z)^q`.
    PolyRelu,
    /// `sigma(z) = z`: the objective is convex in `W` (strongly convex with weight decay).
    Linear,
}

/// Parameters of the two-layer CNN and its objective.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSetting {
    /// Filters per class.
    pub m: usize,
    /// The activation.
    pub activation: ActivationKind,
    /// Power of the polynomial ReLU (ignored for the linear activation).
    pub q: u32,
    /// Multiply `F_j` by `1/m` (the paper's default has no such factor).
    pub mean_over_filters: bool,
    /// Standard deviation of every initial weight.
    pub sigma0: f64,
    /// Weight decay `lambda` in `(lambda/2) ||W||_F^2`.
    pub lambda: f64,
}

impl Default for ModelSetting {
    fn default() -> Self {
        Self { m: 20, activation: ActivationKind::PolyRelu, q: 3, mean_over_filters: false, sigma0: 0.01, lambda: 1e-5 }
    }
}

/// Step-size schedule (used by sign GD in the convex case, where a constant step cannot converge).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Decay {
    /// `eta_t = eta`.
    #[default]
    Constant,
    /// `eta_t = eta / sqrt(t)`.
    InvSqrt,
    /// `eta_t = eta / t`.
    Inv,
}

/// An optimizer and its hyperparameters. Each runs full batch or on minibatches
/// ([`TrainSetting::batch_size`]); weight decay is in the gradient except for AdamW (decoupled).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum OptimizerSetting {
    /// `W <- W - eta grad L(W)`.
    Gd { eta: f64 },
    /// Adam with the weight decay inside `g`; `bias_correction` selects the library convention.
    Adam { eta: f64, b1: f64, b2: f64, eps: f64, bias_correction: bool },
    /// `W <- W - eta_t sign(grad L(W))`, `sign(0) = 0`.
    SignGd { eta: f64, decay: Decay },
    /// Adam on the loss gradient only, then `W <- W - eta lambda W` (decoupled weight decay).
    #[serde(rename = "adamw")]
    AdamW { eta: f64, b1: f64, b2: f64, eps: f64, bias_correction: bool },
    /// Heavy ball: `u <- beta u + g`, `W <- W - eta u`.
    Momentum { eta: f64, beta: f64 },
    /// `v <- beta v + (1 - beta) g^2`, `W <- W - eta g / (sqrt(v) + eps)`.
    #[serde(rename = "rmsprop")]
    RmsProp { eta: f64, beta: f64, eps: f64 },
    /// `v <- v + g^2`, `W <- W - eta g / (sqrt(v) + eps)`.
    #[serde(rename = "adagrad")]
    AdaGrad { eta: f64, eps: f64 },
}

impl OptimizerSetting {
    /// The paper's Adam: `eta = 5e-5, b1 = 0.9, b2 = 0.999, eps = 1e-8`, bias-corrected.
    pub fn paper_adam() -> Self {
        Self::Adam { eta: 5e-5, b1: 0.9, b2: 0.999, eps: 1e-8, bias_correction: true }
    }
    /// GD with `eta = 1`, the step size that moves at the paper's initialization scale.
    pub fn paper_gd() -> Self {
        Self::Gd { eta: 1.0 }
    }
    /// Short stable name used as a key in reports and JSON (`gd`, `adam`, `sign-gd`, ...); the
    /// same as the `kind` of the TOML form.
    pub fn key(&self) -> &'static str {
        match self {
            Self::Gd { .. } => "gd",
            Self::Adam { .. } => "adam",
            Self::SignGd { .. } => "sign-gd",
            Self::AdamW { .. } => "adamw",
            Self::Momentum { .. } => "momentum",
            Self::RmsProp { .. } => "rmsprop",
            Self::AdaGrad { .. } => "adagrad",
        }
    }
    /// Default hyperparameters for an optimizer named by its key, for the nonconvex setting.
    pub fn default_for(key: &str) -> Result<Self> {
        Ok(match key {
            "gd" => Self::paper_gd(),
            "adam" => Self::paper_adam(),
            // AdamW: the paper's Adam hyperparameters with decoupled decay.
            "adamw" => match Self::paper_adam() {
                Self::Adam { eta, b1, b2, eps, bias_correction } => Self::AdamW { eta, b1, b2, eps, bias_correction },
                _ => unreachable!("paper_adam is Adam"),
            },
            "sign-gd" => Self::SignGd { eta: 5e-5, decay: Decay::Constant },
            "momentum" => Self::Momentum { eta: 0.1, beta: 0.9 },
            "rmsprop" => Self::RmsProp { eta: 5e-5, beta: 0.999, eps: 1e-8 },
            "adagrad" => Self::AdaGrad { eta: 1e-2, eps: 1e-8 },
            other => {
                return Err(Error::invalid(
                    "optimizers",
                    other,
                    "one of gd, adam, sign-gd, adamw, momentum, rmsprop, adagrad",
                ));
            }
        })
    }
    /// The base step size.
    pub fn eta(&self) -> f64 {
        match *self {
            Self::Gd { eta }
            | Self::Adam { eta, .. }
            | Self::SignGd { eta, .. }
            | Self::AdamW { eta, .. }
            | Self::Momentum { eta, .. }
            | Self::RmsProp { eta, .. }
            | Self::AdaGrad { eta, .. } => eta,
        }
    }

    /// Checks the hyperparameters; `field` prefixes the names in the error (e.g. `optimizer.adam`).
    pub fn validate(&self, field: &str) -> Result<()> {
        let f = |name: &str| format!("{field}.{name}");
        positive_finite(&f("eta"), self.eta())?;
        match *self {
            Self::Adam { b1, b2, eps, .. } | Self::AdamW { b1, b2, eps, .. } => {
                in_unit_interval(&f("b1"), b1)?;
                in_unit_interval(&f("b2"), b2)?;
                nonneg_finite(&f("eps"), eps)?;
            }
            Self::Momentum { beta, .. } => in_unit_interval(&f("beta"), beta)?,
            Self::RmsProp { beta, eps, .. } => {
                in_unit_interval(&f("beta"), beta)?;
                nonneg_finite(&f("eps"), eps)?;
            }
            Self::AdaGrad { eps, .. } => nonneg_finite(&f("eps"), eps)?,
            Self::Gd { .. } | Self::SignGd { .. } => {}
        }
        Ok(())
    }
}

/// How a minibatch run draws its batches (docs/model.md#minibatches).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Sampling {
    /// Every epoch is a fresh uniformly random permutation of the `n` samples (without
    /// replacement), cut into batches: what PyTorch's `DataLoader(shuffle=True)` does.
    #[default]
    Reshuffle,
    /// Every epoch is `n` independent uniform draws of a sample (with replacement), cut into
    /// batches.
    Replacement,
}

/// What happens to an epoch's last batch when `batch_size` does not divide `n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum LastBatch {
    /// The last `n mod batch_size` samples make a smaller batch (`ceil(n / B)` steps per epoch).
    #[default]
    Keep,
    /// They are left out of that epoch (`floor(n / B)` steps per epoch).
    Drop,
}

/// How long to train and what to record.
///
/// The budget is `steps`, or `epochs` (passes over the training set, `epochs * steps_per_epoch`
/// steps); a config giving both is an error naming the two keys. [`Setting::resolve_budget`]
/// turns an epoch budget into its steps once the setting is validated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TrainToml", into = "TrainToml")]
pub struct TrainSetting {
    /// Step budget of every optimizer (ignored while `epochs` is set).
    pub steps: usize,
    /// The budget in epochs instead of steps (`None`: the budget is `steps`).
    pub epochs: Option<usize>,
    /// Samples per step (`None`: all `n`, full batch).
    pub batch_size: Option<usize>,
    /// How batches are drawn.
    pub sampling: Sampling,
    /// An epoch's last partial batch.
    pub last_batch: LastBatch,
    /// Stop early once `||grad L||_2 <= grad_tol` (0 disables the check).
    pub grad_tol: f64,
    /// Number of evenly spaced checkpoints (besides the 1-2-5 series of early steps and the end).
    pub checkpoints: usize,
}

impl Default for TrainSetting {
    fn default() -> Self {
        Self {
            steps: 10_000,
            epochs: None,
            batch_size: None,
            sampling: Sampling::Reshuffle,
            last_batch: LastBatch::Keep,
            grad_tol: 0.0,
            checkpoints: 10,
        }
    }
}

impl TrainSetting {
    /// The batch size for `n` training samples (`n` when not set).
    pub fn batch(&self, n: usize) -> usize {
        self.batch_size.unwrap_or(n)
    }

    /// Whether a step sees every sample once, in order (the full-batch run): `batch_size = n`
    /// without replacement.
    pub fn full_batch(&self, n: usize) -> bool {
        self.batch(n) >= n && self.sampling == Sampling::Reshuffle
    }

    /// Steps per epoch for `n` samples: `ceil(n / B)`, or `floor(n / B)` when the last partial
    /// batch is dropped.
    pub fn steps_per_epoch(&self, n: usize) -> usize {
        let b = self.batch(n).max(1);
        match self.last_batch {
            LastBatch::Keep => n.div_ceil(b),
            LastBatch::Drop => (n / b).max(1),
        }
    }
}

/// The `[train]` table as written: `steps` and `epochs` both optional, so that a file giving both
/// is refused; `batch_size` as any number, so that a non-integer one is refused with its range.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct TrainToml {
    #[serde(skip_serializing_if = "Option::is_none")]
    steps: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    epochs: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    batch_size: Option<Count>,
    #[serde(skip_serializing_if = "is_default")]
    sampling: Sampling,
    #[serde(skip_serializing_if = "is_default")]
    last_batch: LastBatch,
    grad_tol: Option<f64>,
    checkpoints: Option<usize>,
}

fn is_default<T: Default + PartialEq>(x: &T) -> bool {
    *x == T::default()
}

/// A count as written in a file: a non-negative integer, or any other value (kept as text, refused
/// with the range).
#[derive(Clone, Debug)]
enum Count {
    Int(u64),
    Other(String),
}

impl Serialize for Count {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Self::Int(v) => s.serialize_u64(*v),
            Self::Other(t) => s.serialize_str(t),
        }
    }
}

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Count;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(BATCH_SIZE_RANGE)
            }
            fn visit_u64<E>(self, v: u64) -> std::result::Result<Count, E> {
                Ok(Count::Int(v))
            }
            fn visit_i64<E>(self, v: i64) -> std::result::Result<Count, E> {
                Ok(u64::try_from(v).map_or_else(|_| Count::Other(v.to_string()), Count::Int))
            }
            fn visit_f64<E>(self, v: f64) -> std::result::Result<Count, E> {
                Ok(Count::Other(v.to_string()))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<Count, E> {
                Ok(Count::Other(format!("{v:?}")))
            }
            fn visit_bool<E>(self, v: bool) -> std::result::Result<Count, E> {
                Ok(Count::Other(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// The allowed range of `train.batch_size`, in words.
pub const BATCH_SIZE_RANGE: &str = "an integer in 1..=n (n = data.n)";

impl TryFrom<TrainToml> for TrainSetting {
    type Error = String;
    fn try_from(t: TrainToml) -> std::result::Result<Self, String> {
        if let (Some(s), Some(e)) = (t.steps, t.epochs) {
            return Err(format!(
                "train.steps = {s} and train.epochs = {e} are both given: the budget is one of them (steps, or epochs of steps_per_epoch steps)"
            ));
        }
        let batch_size = match t.batch_size {
            None => None,
            Some(Count::Int(b)) => {
                Some(usize::try_from(b).map_err(|_| format!("train.batch_size = {b}: {BATCH_SIZE_RANGE}"))?)
            }
            Some(Count::Other(x)) => {
                return Err(format!("invalid value for `train.batch_size`: {x} (allowed: {BATCH_SIZE_RANGE})"));
            }
        };
        let d = TrainSetting::default();
        Ok(Self {
            steps: t.steps.unwrap_or(d.steps),
            epochs: t.epochs,
            batch_size,
            sampling: t.sampling,
            last_batch: t.last_batch,
            grad_tol: t.grad_tol.unwrap_or(d.grad_tol),
            checkpoints: t.checkpoints.unwrap_or(d.checkpoints),
        })
    }
}

impl From<TrainSetting> for TrainToml {
    fn from(t: TrainSetting) -> Self {
        Self {
            steps: if t.epochs.is_none() { Some(t.steps) } else { None },
            epochs: t.epochs,
            batch_size: t.batch_size.map(|b| Count::Int(b as u64)),
            sampling: t.sampling,
            last_batch: t.last_batch,
            grad_tol: Some(t.grad_tol),
            checkpoints: Some(t.checkpoints),
        }
    }
}

/// A whole experiment: data, model, training and the optimizers to compare (all from one `W^(0)`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Setting {
    /// Seed of the ChaCha8 generator (training data, test data and initialization use streams 0, 1, 2).
    pub seed: u64,
    pub data: DataSetting,
    pub model: ModelSetting,
    pub train: TrainSetting,
    /// The optimizers, keyed by name; each is trained from the same initialization.
    pub optimizers: Vec<OptimizerSetting>,
}

impl Default for Setting {
    fn default() -> Self {
        Self {
            seed: 1,
            data: DataSetting::default(),
            model: ModelSetting::default(),
            train: TrainSetting::default(),
            optimizers: vec![OptimizerSetting::paper_gd(), OptimizerSetting::paper_adam()],
        }
    }
}

impl Setting {
    /// Parses a TOML config; every field is optional and unknown fields are errors.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self> {
        parse_toml(text, origin)
    }

    /// Reads and parses a TOML config file.
    pub fn from_toml_file(path: &std::path::Path) -> Result<Self> {
        read_toml_file(path)
    }

    /// Number of patches actually stored per sample (one more with a separate feature-noise patch).
    pub fn stored_patches(&self) -> usize {
        match self.data.feature_noise {
            FeatureNoise::InNoisePatch => self.data.patches,
            FeatureNoise::SeparatePatch => self.data.patches + 1,
        }
    }

    /// An epoch budget turned into its steps (`train.steps = epochs * steps_per_epoch`,
    /// `train.epochs = None`); a step budget is left alone. Call after [`Setting::validate`].
    pub fn resolve_budget(&mut self) {
        if let Some(e) = self.train.epochs.take() {
            self.train.steps = e * self.train.steps_per_epoch(self.data.n);
        }
    }

    /// Refuses a minibatch setting where only full-batch runs exist (`what`: the command or flag
    /// that needs them, e.g. `--precision dd`).
    pub fn require_full_batch(&self, what: &str) -> Result<()> {
        if self.train.full_batch(self.data.n) {
            return Ok(());
        }
        Err(Error::invalid(
            "train.batch_size",
            self.train.batch(self.data.n),
            format!("n = {} with sampling = \"reshuffle\" (full batch) for {what}", self.data.n),
        ))
    }

    /// Checks every parameter once; the error names the field and the allowed range.
    pub fn validate(&self) -> Result<()> {
        let d = &self.data;
        at_least("data.d", d.d, 2)?;
        at_most("data.d", d.d, u32::MAX as usize)?;
        at_least("data.n", d.n, 1)?;
        if d.noise == NoiseKind::Sparse && (d.s < 1 || d.s > d.d - 1) {
            return Err(Error::invalid("data.s", d.s, format!("1 <= s <= d - 1 = {}", d.d - 1)));
        }
        nonneg_finite("data.sigma_p", d.sigma_p)?;
        if !(d.alpha > 0.0 && d.alpha < 1.0) {
            return Err(Error::invalid("data.alpha", d.alpha, "0 < alpha < 1"));
        }
        if d.patches < 2 || d.patches > 64 {
            return Err(Error::invalid("data.patches", d.patches, "2 <= patches <= 64"));
        }
        at_least("data.test_size", d.test_size, 1)?;
        if !(0.0..0.5).contains(&d.label_flip) {
            return Err(Error::invalid("data.label_flip", d.label_flip, "0 <= label_flip < 0.5"));
        }
        let m = &self.model;
        if m.m < 1 || m.m > 4096 {
            return Err(Error::invalid("model.m", m.m, "1 <= m <= 4096"));
        }
        if m.activation == ActivationKind::PolyRelu && !(1..=8).contains(&m.q) {
            return Err(Error::invalid("model.q", m.q, "1 <= q <= 8"));
        }
        nonneg_finite("model.sigma0", m.sigma0)?;
        nonneg_finite("model.lambda", m.lambda)?;
        let t = &self.train;
        if let Some(b) = t.batch_size
            && !(1..=d.n).contains(&b)
        {
            return Err(Error::invalid("train.batch_size", b, format!("1..=n = 1..={} (n = data.n)", d.n)));
        }
        match t.epochs {
            Some(e) => {
                let per = t.steps_per_epoch(d.n);
                at_least("train.epochs", e, 1)?;
                at_most("train.epochs", e, MAX_STEPS / per)?;
            }
            None => {
                at_least("train.steps", t.steps, 1)?;
                at_most("train.steps", t.steps, MAX_STEPS)?;
            }
        }
        nonneg_finite("train.grad_tol", self.train.grad_tol)?;
        if !t.full_batch(d.n) && t.grad_tol != 0.0 {
            return Err(Error::invalid(
                "train.grad_tol",
                t.grad_tol,
                "0 with minibatches (train.batch_size < data.n or sampling = \"replacement\"): the tolerance reads the full gradient, which a minibatch step does not compute",
            ));
        }
        at_most("train.checkpoints", self.train.checkpoints, 10_000)?;
        if self.optimizers.is_empty() {
            return Err(Error::invalid("optimizers", "[]", "at least one optimizer"));
        }
        let mut seen = std::collections::BTreeSet::new();
        for o in &self.optimizers {
            if !seen.insert(o.key()) {
                return Err(Error::invalid("optimizers", o.key(), "each optimizer at most once"));
            }
            o.validate(&format!("optimizers.{}", o.key()))?;
        }
        Ok(())
    }
}

/// Parses TOML text into `T`; errors name `origin` with the exact line and column of the offending
/// field (`toml`'s span, [`crate::spans::toml_error`]).
pub fn parse_toml<T: serde::de::DeserializeOwned>(text: &str, origin: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| crate::spans::toml_error(text, origin, &e))
}

/// The largest step budget of a run: `10^9` (days of computation at the default size; every step
/// count below it is exact in the step arithmetic).
pub const MAX_STEPS: usize = 1_000_000_000;

/// The largest config or theorem file read (1 MiB; the files of this crate are a few KiB).
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// Reads and parses a TOML file into `T` (a [`Setting`], a convex setting, a theorem file); files
/// larger than [`MAX_FILE_BYTES`] are refused without being read to the end.
pub fn read_toml_file<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> Result<T> {
    parse_toml(&read_text_file(path)?, &path.display().to_string())
}

/// Reads a UTF-8 text file of at most [`MAX_FILE_BYTES`] (a larger one is refused without being
/// read to the end) with the one input reader, [`crate::input`] (a FIFO without a writer is not
/// waited on forever).
pub fn read_text_file(path: &std::path::Path) -> Result<String> {
    crate::input::read_text(path, MAX_FILE_BYTES)
}

fn at_least(field: &str, v: usize, lo: usize) -> Result<()> {
    if v < lo { Err(Error::invalid(field, v, format!(">= {lo}"))) } else { Ok(()) }
}

fn at_most(field: &str, v: usize, hi: usize) -> Result<()> {
    if v > hi { Err(Error::invalid(field, v, format!("<= {hi}"))) } else { Ok(()) }
}

fn nonneg_finite(field: &str, v: f64) -> Result<()> {
    if v.is_finite() && v >= 0.0 { Ok(()) } else { Err(Error::invalid(field, v, "a finite number >= 0")) }
}

fn positive_finite(field: &str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 { Ok(()) } else { Err(Error::invalid(field, v, "a finite number > 0")) }
}

fn in_unit_interval(field: &str, v: f64) -> Result<()> {
    if (0.0..1.0).contains(&v) { Ok(()) } else { Err(Error::invalid(field, v, "0 <= value < 1")) }
}
