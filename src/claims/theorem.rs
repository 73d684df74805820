//! The theorem files: one TOML file per claim of the paper, in the spirit of rebar's benchmark
//! definitions (each experiment carries the answer it must produce).
//!
//! A file names the claim (`id`, `title`, `reference`, `statement`), how it is measured (`kind`,
//! the `[setting]` in the shape of [`Setting`] on top of a named `preset`, the optional `[measure]`
//! parameters), how it is judged (`[[check]]`: a measured quantity, a comparison, a threshold),
//! what a reviewer reads (`[track]`, `[[ordering]]`), and the verdict it must produce
//! (`expected`, `pending`). `[test]` gives the reduced-scale overrides used by `tests/claims.rs`.
//! The format is documented field by field in `docs/methodology.md`; every table rejects unknown
//! fields. This file holds the types (read by the loader, [`super::validate`], and by every
//! measurement); parsing and the rules serde cannot check are the loader's.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::quantity::is_certified;
use crate::error::{Error, Result};
use crate::setting::Setting;
use crate::spans::Spans;

/// What a claim measures; the checker dispatches on it (one match arm per kind in
/// `Checker::measure_all` in `checker.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClaimKind {
    /// Train every optimizer of the setting from one initialization and measure the runs
    /// (final state, trace, coefficients, distances, stage-I growth, events).
    Training,
    /// The convex case: certify every optimizer's output against the unique minimizer
    /// (needs `adamgap::certify`; inconclusive until it exists).
    ConvexCertificate,
    /// The precision audit (`adamgap precision`): binary64 against double-double and one-ulp twins
    /// of the initialization; whether the headline verdicts depend on rounding.
    Precision,
    /// The cells of a sweep grid along one axis (`[path]`, [`PathSpec`]): each seed of the grid's
    /// seed axis is one trial, its checks read that seed's cells.
    Path,
}

impl ClaimKind {
    /// The kebab-case name used in theorem files.
    pub fn name(self) -> &'static str {
        match self {
            Self::Training => "training",
            Self::ConvexCertificate => "convex-certificate",
            Self::Precision => "precision",
            Self::Path => "path",
        }
    }
}

/// The verdict a theorem file says its claim must get.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expected {
    Holds,
    Fails,
    Inconclusive,
}

impl Expected {
    /// Whether `verdict` is this one.
    pub fn matches(self, verdict: &crate::verdict::Verdict) -> bool {
        use crate::verdict::Verdict;
        matches!(
            (self, verdict),
            (Self::Holds, Verdict::Holds)
                | (Self::Fails, Verdict::Fails)
                | (Self::Inconclusive, Verdict::Inconclusive(_))
        )
    }

    /// `holds`, `fails`, `inconclusive`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Holds => "holds",
            Self::Fails => "fails",
            Self::Inconclusive => "inconclusive",
        }
    }
}

/// A named base setting that `[setting]` overrides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// The paper's finite-size default setting ([`Setting::default`]).
    #[default]
    Paper,
}

/// The comparison of a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = "==")]
    Eq,
    /// `rhs / within <= lhs <= rhs * within` (both sides positive).
    #[serde(rename = "within-factor")]
    WithinFactor,
}

impl Op {
    /// The operator as written in a theorem file.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Le => "<=",
            Self::Lt => "<",
            Self::Ge => ">=",
            Self::Gt => ">",
            Self::Eq => "==",
            Self::WithinFactor => "within-factor",
        }
    }
}

/// What a failed check means for the verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum IfFalse {
    /// The claim fails.
    #[default]
    Fails,
    /// The claim is inconclusive (a tolerance not reached within the budget, say), unless another
    /// check fails outright.
    Inconclusive,
}

/// One comparison: `quantity op rhs`, where `rhs = value`, or `rhs = factor * of + offset` when `of`
/// names another quantity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// What the check means, in words.
    pub what: String,
    /// The measured quantity (see `docs/methodology.md` for the names).
    pub quantity: String,
    pub op: Op,
    /// A constant right-hand side.
    #[serde(default)]
    pub value: Option<f64>,
    /// A quantity as right-hand side (`factor * of + offset`).
    #[serde(default)]
    pub of: Option<String>,
    #[serde(default = "one")]
    pub factor: f64,
    #[serde(default)]
    pub offset: f64,
    /// The factor of `within-factor` (> 1).
    #[serde(default)]
    pub within: Option<f64>,
    /// `fails` (default) or `inconclusive`.
    #[serde(default)]
    pub if_false: IfFalse,
    /// The reason given when an `inconclusive` check is false (e.g. "tolerance not reached within
    /// the step budget").
    #[serde(default)]
    pub reason: Option<String>,
    /// Why it is right that this check already passes at initialization (a check on a training
    /// quantity that passes at `W^(0)` without it is rejected when the claim is checked).
    #[serde(default)]
    pub holds_at_init: Option<String>,
    /// The paper's own threshold when `value` is a documented relaxation of it: the report prints
    /// the verdict under both readings; the claim's verdict uses `value`.
    #[serde(default)]
    pub paper_value: Option<f64>,
    /// For a "never" check: the steps every run must have taken for the check to mean anything
    /// ("no reversal within 10,000 steps"); a run that stopped earlier leaves the check not measured.
    #[serde(default)]
    pub horizon: Option<usize>,
}

fn one() -> f64 {
    1.0
}

/// Quantities listed in a reviewer's ordering: `"label = quantity"`, a bare quantity name, or a
/// number. Rendered sorted by measured value, e.g. `noise 1.1 > 0 > feature -0.17`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ordering {
    pub label: String,
    pub items: Vec<String>,
}

/// The quantities tracked over the trace (per-checkpoint fields of a run, `<optimizer>.<field>`) and
/// the steps shown. The final step of each run is always shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Track {
    #[serde(default)]
    pub quantities: Vec<String>,
    /// Steps to show (default: 0 and the powers of 10 up to the budget). A step that is not a
    /// checkpoint shows the last checkpoint before it.
    #[serde(default)]
    pub steps: Option<Vec<usize>>,
}

/// Parameters of the measurement beyond the setting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MeasureParams {
    /// Measure the first checkpoint at which `max_{j,r} gamma_{j,r}` reaches this level
    /// (`<opt>.feature_reach_step`, `<opt>.noise_max_at_reach`, `<opt>.noise_growth_at_reach`).
    #[serde(default)]
    pub feature_level: Option<f64>,
}

/// One verdict line of the headline (`adamgap run`) that this file's checks decide: the line's
/// position, its statement and the `what` of each check it is made of. The verdict is the one
/// verdict rule applied to those checks on the headline's runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadlineLine {
    /// Position among the headline's verdict lines (1 is printed first).
    pub line: usize,
    pub statement: String,
    /// The `what` of each `[[check]]` the line is made of.
    pub checks: Vec<String>,
}

/// `[path]` of a theorem file (a path claim, `super::path`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathSpec {
    /// The preset grid (`sweeps/<grid>.toml`); `adamgap check --path-results DIR` reads a merged
    /// sweep folder of exactly this grid.
    pub grid: String,
    /// The axis the path runs along (default: the grid's `[plot] x`, else its first axis other
    /// than `seed` with more than one value).
    #[serde(default)]
    pub along: Option<String>,
    /// Overrides of the grid file at the full scale of `adamgap check` (tables `fixed`, `axes`,
    /// `derived` merge key by key; a list replaces): a shorter path or budget that keeps
    /// `adamgap check` within its time.
    #[serde(default)]
    pub check: toml::Table,
}

/// `dataset` of a theorem file (and of `[test]`): the claim trains on real images instead of the
/// synthetic distribution, as `adamgap run --dataset TASK --tile TILE` does (`docs/images.md`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSpec {
    /// `DATASET:A,B` (`fashion-mnist:shirt,t-shirt`, `digits:3,8`).
    pub task: String,
    /// Tile side (default: the data set's, 7 for Fashion-MNIST, 4 for the digits).
    #[serde(default)]
    pub tile: Option<usize>,
}

/// The reduced-scale overrides used by the snapshot test.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestScale {
    /// `full` (the test runs `[setting]` unchanged) or `reduced`.
    pub scale: String,
    /// Why the reduced setting still shows the claim.
    #[serde(default)]
    pub note: String,
    /// Overrides merged on top of `[setting]` (same shape; tables merge, arrays replace).
    #[serde(default)]
    pub setting: toml::Table,
    /// Seeds at this scale (default [`TEST_SEEDS`], at least that many for a training claim).
    #[serde(default)]
    pub seeds: Option<usize>,
    /// For a path claim: overrides of its grid merged on top of `[path.check]` (same shape).
    #[serde(default)]
    pub grid: toml::Table,
    /// The real-image task at this scale, in place of the file's `dataset` (a claim on real
    /// images only).
    #[serde(default)]
    pub dataset: Option<DatasetSpec>,
}

/// Seeds of a training claim at the full scale, by default and at least.
pub const FULL_SEEDS: usize = 10;
/// Seeds of a training claim at the test scale, by default and at least.
pub const TEST_SEEDS: usize = 3;
/// The most seeds a claim may ask for at either scale (`seeds`, `test.seeds`): the seed list is
/// built before anything is estimated or trained.
pub const MAX_SEEDS: usize = 10_000;

/// One theorem file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Theorem {
    /// Short stable id (the file stem, e.g. `01-adam-nonconvex`).
    pub id: String,
    pub title: String,
    /// Where the paper states or proves it (theorem, lemma, section).
    pub reference: String,
    /// The claim in words.
    pub statement: String,
    pub kind: ClaimKind,
    /// The verdict the checker must give.
    pub expected: Expected,
    /// With `expected = "fails"`: the `what` of every check that must be false on every seed (all
    /// other checks must hold); a claim that fails for another reason is a mismatch.
    #[serde(default)]
    pub expect_fail: Vec<String>,
    /// Seeds at the full scale (default [`FULL_SEEDS`], at least that many for a training claim):
    /// `[setting].seed`, `seed + 1`, ...
    #[serde(default)]
    pub seeds: Option<usize>,
    /// A pending claim is checked and reported, but a verdict that differs from `expected` does not
    /// fail `adamgap check` or the test: the report says PENDING.
    #[serde(default)]
    pub pending: bool,
    /// Why the claim is pending.
    #[serde(default)]
    pub pending_reason: Option<String>,
    #[serde(default)]
    pub preset: Preset,
    /// Overrides of the preset, in the shape of [`Setting`] (`seed`, `[setting.data]`, ...).
    #[serde(default)]
    pub setting: toml::Table,
    #[serde(default)]
    pub test: Option<TestScale>,
    /// The paper's reading of the setting, where `[setting]` departs from it by a documented choice
    /// (same shape, merged on top at both scales): the claim is checked there too and the report
    /// shows that verdict beside the claim's; the status uses `[setting]`.
    #[serde(default)]
    pub paper_setting: Option<toml::Table>,
    #[serde(default)]
    pub measure: MeasureParams,
    /// For a path claim: the grid and the path axis.
    #[serde(default)]
    pub path: Option<PathSpec>,
    /// A training claim on real images: the task (`docs/images.md`); the setting's data fields
    /// other than `n`, `test_size` and `label_flip` then do not apply.
    #[serde(default)]
    pub dataset: Option<DatasetSpec>,
    #[serde(default, rename = "check")]
    pub checks: Vec<Check>,
    /// Checks on statistics over the seeds (`mean.<q>`, `lower95.<q>`, ...: [`super::quantity::STATISTICS`]),
    /// in place of per-seed `[[check]]`s: the claim's verdict is the one verdict rule applied to
    /// them once, over all seeds (`docs/methodology.md`, "Checks over seeds").
    #[serde(default)]
    pub over_seeds: Vec<Check>,
    #[serde(default, rename = "ordering")]
    pub orderings: Vec<Ordering>,
    /// Verdict lines of the headline decided by this file's checks.
    #[serde(default)]
    pub headline: Vec<HeadlineLine>,
    #[serde(default)]
    pub track: Track,
    /// Free text: what the numbers mean, what was chosen and why.
    #[serde(default)]
    pub notes: String,
    /// The line of every key of the file, for errors that name a line (not part of the format).
    #[serde(skip)]
    pub spans: Spans,
}

/// Which setting of a theorem file to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Scale {
    /// `[setting]`: the paper-scale setting.
    #[default]
    Full,
    /// `[setting]` with `[test.setting]` on top (the snapshot test's scale).
    Test,
}

impl Theorem {
    /// The setting to run at `scale`: the preset, `[setting]`, then (at the test scale)
    /// `[test.setting]`; validated. Errors name the file and the field.
    pub fn setting(&self, scale: Scale, origin: &str) -> Result<Setting> {
        self.setting_with(scale, origin, None)
    }

    /// The setting at `scale` with `[paper_setting]` on top, if the file has one.
    pub fn paper_setting(&self, scale: Scale, origin: &str) -> Option<Result<Setting>> {
        self.paper_setting.as_ref().map(|p| self.setting_with(scale, origin, Some(p)))
    }

    fn setting_with(&self, scale: Scale, origin: &str, paper: Option<&toml::Table>) -> Result<Setting> {
        let mut table = self.setting.clone();
        if scale == Scale::Test
            && let Some(t) = &self.test
        {
            merge(&mut table, &t.setting);
        }
        if let Some(p) = paper {
            merge(&mut table, p);
        }
        let Preset::Paper = self.preset;
        let tables = match (scale == Scale::Test && self.test.is_some(), paper.is_some()) {
            (true, false) => "[setting] with [test.setting]",
            (true, true) => "[setting] with [test.setting] and [paper_setting]",
            (false, true) => "[setting] with [paper_setting]",
            (false, false) => "[setting]",
        };
        let err = |at: String, message: String| Error::Config { origin: at, message: format!("{tables}: {message}") };
        let mut s = Setting::deserialize(toml::Value::Table(table))
            .map_err(|e| err(origin.to_string(), e.to_string().trim().to_string()))?;
        s.validate().map_err(|e| {
            let at = match &e {
                Error::InvalidParameter { field, .. } => self.setting_line(scale, paper, field),
                _ => None,
            };
            err(at.map_or(origin.to_string(), |l| format!("{origin} line {l}")), e.to_string())
        })?;
        s.resolve_budget();
        Ok(s)
    }

    /// The line of a setting's field (`data.d`, `optimizers.adam.eta`) in the topmost of the tables
    /// merged at `scale` that gives it.
    fn setting_line(&self, scale: Scale, paper: Option<&toml::Table>, field: &str) -> Option<usize> {
        use crate::spans::Seg;
        let mut tables: Vec<(Vec<Seg>, &toml::Table)> = Vec::new();
        if let Some(p) = paper {
            tables.push((vec![Seg::key("paper_setting")], p));
        }
        if scale == Scale::Test
            && let Some(t) = &self.test
        {
            tables.push((vec![Seg::key("test"), Seg::key("setting")], &t.setting));
        }
        tables.push((vec![Seg::key("setting")], &self.setting));
        let parts: Vec<&str> = field.split('.').collect();
        tables.into_iter().find_map(|(mut path, table)| {
            match parts.as_slice() {
                // `optimizers.<kind>.<field>`: the list item of that kind.
                ["optimizers", kind, rest @ ..] => {
                    let list = table.get("optimizers")?.as_array()?;
                    let k = list.iter().position(|o| o.get("kind").and_then(toml::Value::as_str) == Some(*kind))?;
                    path.extend([Seg::key("optimizers"), Seg::Index(k)]);
                    path.extend(rest.iter().map(|r| Seg::key(r)));
                }
                _ => path.extend(parts.iter().map(|p| Seg::key(p))),
            }
            self.spans.line(&path)
        })
    }

    /// The seeds to check at `scale`: `[setting].seed` and the next ones.
    pub fn seed_list(&self, scale: Scale) -> Vec<u64> {
        let base =
            self.setting.get("seed").and_then(toml::Value::as_integer).map_or(Setting::default().seed, |s| s as u64);
        let default = if self.kind == ClaimKind::Training {
            if scale == Scale::Test { TEST_SEEDS } else { FULL_SEEDS }
        } else {
            1
        };
        let n = match scale {
            Scale::Test => self.test.as_ref().and_then(|t| t.seeds).unwrap_or(default),
            Scale::Full => self.seeds.unwrap_or(default),
        };
        (0..n as u64).map(|k| base + k).collect()
    }

    /// The real-image task at `scale` (`[test] dataset` at the test scale, if given), `None` for a
    /// claim on the synthetic distribution.
    pub fn dataset(&self, scale: Scale) -> Option<&DatasetSpec> {
        match (scale, self.test.as_ref().and_then(|t| t.dataset.as_ref())) {
            (Scale::Test, Some(d)) => Some(d),
            _ => self.dataset.as_ref(),
        }
    }

    /// Every check of the file: the per-seed `[[check]]`s, then the `[[over_seeds]]` ones.
    pub fn all_checks(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().chain(&self.over_seeds)
    }

    /// The optimizer keys of `[setting].optimizers` (the run names of a training claim).
    pub fn optimizer_keys(&self) -> Vec<String> {
        let list = self.setting.get("optimizers").and_then(toml::Value::as_array);
        let keys = list
            .map(|a| a.iter().filter_map(|o| o.get("kind").and_then(toml::Value::as_str)).map(String::from).collect());
        keys.unwrap_or_else(|| Setting::default().optimizers.iter().map(|o| o.key().to_string()).collect())
    }

    /// Whether a check reads a `certified.*` quantity (the final weights' certificate, see
    /// `docs/certified-endpoints.md`), so the checker must certify the runs.
    pub fn uses_certified(&self) -> bool {
        let certified = |q: &str| is_certified(q);
        let over_seeds = |q: &str| is_certified(super::quantity::per_seed(q));
        self.checks.iter().any(|c| certified(&c.quantity) || c.of.as_deref().is_some_and(certified))
            || self.over_seeds.iter().any(|c| over_seeds(&c.quantity) || c.of.as_deref().is_some_and(over_seeds))
    }

    /// `origin`, with the line where `field` (`check[3].what`, `path.grid`) is written, when the
    /// file gives it.
    pub fn at(&self, origin: &str, field: &str) -> String {
        self.spans.at(origin, &crate::spans::field(field))
    }

    /// `full` or `reduced` at `scale`.
    pub fn scale_label(&self, scale: Scale) -> &str {
        match (scale, &self.test) {
            (Scale::Test, Some(t)) => &t.scale,
            _ => "full",
        }
    }
}

/// Merges `over` into `base`: tables merge recursively, everything else (arrays included) replaces.
pub fn merge(base: &mut toml::Table, over: &toml::Table) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// The theorem files of a directory (`*.toml`), sorted by file name.
pub fn files_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
}
