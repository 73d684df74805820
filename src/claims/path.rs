//! Path claims (`kind = "path"`): a claim checked on the cells of a sweep grid along one axis, such
//! as `data.d` on the `path-d` preset (`docs/methodology.md`, "Path claims").
//!
//! Each seed of the grid's `seed` axis is one trial: its checks read quantities of that seed's
//! cells, named by where on the path they are taken (`first.`, `last.`: the cells with the smallest
//! and largest value of the path axis; `min.`, `max.`: over every cell of the seed), followed by a
//! per-cell name (`adam.test_error`, `adam.growth_ratio`, `predicted.noise_l1`, ...). The seeds'
//! verdicts combine by the one rule of [`super::seeds`], as for a training claim.
//!
//! The cells come from a [`PathSource`]: `crate::sweep::claim::GridSource` expands the grid and
//! runs its cells with the sweep's own cell runner, or reads a merged sweep folder. The sweep module
//! depends on this one, not the reverse, so the source is handed to the checker
//! ([`super::Checker::with_paths`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::measure::{Measurement, RunInfo, predicted_noise_l1, supports_per_coordinate};
use super::theorem::{Scale, Theorem};
use crate::error::Result;
use crate::format::sig;
use crate::optim::StopReason;
use crate::setting::{OptimizerSetting, Setting};

/// `[path]` of a theorem file.
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

/// Seeds of a path claim (its grid's `seed` axis) at either scale, at least.
pub const MIN_SEEDS: usize = 3;

/// Where a path's quantities are taken: the first or last cell along the axis, or the smallest or
/// largest value over the seed's cells.
pub const POSITIONS: [&str; 4] = ["first", "last", "min", "max"];

/// Per-run fields of a cell (from the sweep cell's `runs.<run>`; `grad_norm` is its
/// `grad_norm_l2`, `reversed` whether `feature_reversal_step` is set).
const RUN_FIELDS: [&str; 12] = [
    "test_error",
    "train_error",
    "objective",
    "loss",
    "grad_norm",
    "grad_norm_l1",
    "weight_norm",
    "feature_max",
    "noise_min_max",
    "noise_max_max",
    "steps",
    "reversed",
];

/// Adam's stage-I fields of a cell (`runs.adam.stage_one`), and `growth_ratio_log_error` =
/// `|ln(growth_ratio / predicted.noise_l1)|`.
const STAGE_ONE_FIELDS: [&str; 4] =
    ["noise_growth_per_step", "feature_growth_per_step", "growth_ratio", "growth_ratio_log_error"];

/// One cell of a path claim's grid.
#[derive(Clone, Debug)]
pub struct PathCell {
    pub id: String,
    pub seed: u64,
    /// The cell's value on the path axis.
    pub position: f64,
    pub setting: Setting,
    /// The cell's result (a sweep cell's JSON), `None` when there is none.
    pub result: Option<Value>,
}

/// The cells of a path claim at one scale, with what the report says about them.
#[derive(Clone, Debug)]
pub struct PathCells {
    /// The grid in words, e.g. `preset path-d with [path.check]`.
    pub grid: String,
    pub grid_hash: String,
    /// The path axis.
    pub axis: String,
    /// The axes and derived keys, one line each.
    pub description: Vec<String>,
    /// Where the results come from (computed now, or read from a merged sweep folder).
    pub source: String,
    pub cells: Vec<PathCell>,
}

/// Gives the cells of a path claim: `crate::sweep::claim::GridSource`.
pub trait PathSource: Send + Sync {
    /// The cells of `theorem`'s grid at `scale` with their results; `at_init`: every cell cut to
    /// zero steps (`W^(0)`), for the baselines at initialization. `progress` takes a line.
    fn cells(
        &self,
        theorem: &Theorem,
        origin: &str,
        scale: Scale,
        at_init: bool,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<PathCells>;
}

/// The report's table along the path: per seed and cell, the `[track]` quantities.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PathReport {
    pub grid: String,
    pub grid_hash: String,
    pub axis: String,
    pub description: Vec<String>,
    pub source: String,
    pub columns: Vec<String>,
    pub rows: Vec<PathRow>,
}

/// One cell in the report's table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PathRow {
    pub seed: u64,
    pub cell: String,
    pub position: f64,
    pub values: Vec<Option<f64>>,
}

/// `Ok` when `name` is a quantity of a path claim (`<position>.<cell quantity>`); otherwise the
/// allowed forms.
pub fn known_quantity(name: &str) -> std::result::Result<(), String> {
    match name.split_once('.') {
        Some((pos, rest)) if POSITIONS.contains(&pos) && known_cell_quantity(rest) => Ok(()),
        _ => {
            Err(format!("{{{}}}.<cell quantity>, a cell quantity being {}", POSITIONS.join(","), cell_quantity_forms()))
        }
    }
}

/// Whether `name` is a per-cell quantity (the `[track]` columns of a path claim).
pub fn known_cell_quantity(name: &str) -> bool {
    match name.split('.').collect::<Vec<_>>().as_slice() {
        ["predicted", "noise_l1"] => true,
        ["data", f] => ["supports_per_coordinate", "overlapping_pairs"].contains(f),
        ["adam", f] if STAGE_ONE_FIELDS.contains(f) => true,
        [run, f] => OptimizerSetting::default_for(run).is_ok() && RUN_FIELDS.contains(f),
        _ => false,
    }
}

/// The allowed per-cell quantities, for errors.
pub fn cell_quantity_forms() -> String {
    format!(
        "<run>.{{{}}}, adam.{{{}}}, predicted.noise_l1, data.{{supports_per_coordinate,overlapping_pairs}}",
        RUN_FIELDS.join(","),
        STAGE_ONE_FIELDS.join(",")
    )
}

/// `x` as a short label: whole numbers exactly, others to 3 significant digits.
pub fn position_label(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { sig(x, 3) }
}

/// A stop reason as a sweep cell writes it (`{"reason": "step-budget", "step": 500}`).
fn stop_of(v: &Value) -> Option<StopReason> {
    let step = v["step"].as_u64()? as usize;
    Some(match v["reason"].as_str()? {
        "step-budget" => StopReason::StepBudget { step },
        "grad-tol" => StopReason::GradTol { step },
        "diverged" => StopReason::Diverged { step },
        "settled" => StopReason::Settled { step },
        _ => return None,
    })
}

/// What one cell gives: its per-cell quantities, the reasons for those it lacks, and its runs.
struct CellMeasure {
    quantities: BTreeMap<String, f64>,
    missing: BTreeMap<String, String>,
    runs: Vec<RunInfo>,
    unreadable: Option<String>,
}

/// Reads one cell's quantities from its result; `names` are the per-cell quantities the claim
/// reads (a name absent from the result is missing with the reason).
fn measure_cell(cell: &PathCell, axis: &str, names: &[String]) -> CellMeasure {
    let at = format!("cell {} ({axis} = {}, seed {})", cell.id, position_label(cell.position), cell.seed);
    let mut out =
        CellMeasure { quantities: BTreeMap::new(), missing: BTreeMap::new(), runs: Vec::new(), unreadable: None };
    let Some(result) = &cell.result else {
        for n in names {
            out.missing.insert(n.clone(), format!("{at} has no result"));
        }
        return out;
    };
    let s = &cell.setting;
    out.quantities.insert("predicted.noise_l1".into(), predicted_noise_l1(s));
    out.quantities.insert("data.supports_per_coordinate".into(), supports_per_coordinate(s));
    let overlap = &result["overlap"];
    if let (Some(k), Some(total)) = (overlap["pairs_overlapping"].as_f64(), overlap["pairs_total"].as_f64())
        && total > 0.0
    {
        out.quantities.insert("data.overlapping_pairs".into(), k / total);
    }
    for (name, r) in result["runs"].as_object().into_iter().flatten() {
        let put = |q: &mut BTreeMap<String, f64>, f: &str, v: Option<f64>| {
            if let Some(v) = v {
                q.insert(format!("{name}.{f}"), v);
            }
        };
        for f in RUN_FIELDS {
            let key = match f {
                "grad_norm" => "grad_norm_l2",
                other => other,
            };
            let v = match f {
                "reversed" => Some(f64::from(u8::from(!r["feature_reversal_step"].is_null()))),
                _ => r[key].as_f64(),
            };
            put(&mut out.quantities, f, v);
        }
        if name == "adam" {
            stage_one(&mut out, r, s, &at);
        }
        let optimizer = serde_json::from_value::<OptimizerSetting>(r["optimizer"].clone());
        match (optimizer, stop_of(&r["stop"]), r["steps"].as_u64()) {
            (Ok(optimizer), Some(stop), Some(steps)) => out.runs.push(RunInfo {
                name: format!("{name} ({axis} = {})", position_label(cell.position)),
                optimizer,
                steps: steps as usize,
                stop,
                seconds: 0.0,
                // Results written before adamgap recorded `moved`: a run that took steps.
                moved: r["moved"].as_bool().unwrap_or(steps > 0),
            }),
            _ => out.unreadable = Some(format!("{at}: run `{name}` has no readable optimizer, stop or steps")),
        }
    }
    for n in names {
        if !out.quantities.contains_key(n) && !out.missing.contains_key(n) {
            out.missing.insert(n.clone(), format!("{at} has no `{n}`"));
        }
    }
    out
}

/// Adam's stage-I quantities of a cell from `runs.adam.stage_one` (absent: results written before
/// adamgap recorded it; `null`: a budget of 0 steps).
fn stage_one(out: &mut CellMeasure, r: &Value, s: &Setting, at: &str) {
    let mut missing = |f: &str, why: String| {
        out.missing.insert(format!("adam.{f}"), why);
    };
    let so = match r.get("stage_one") {
        None => {
            for f in STAGE_ONE_FIELDS {
                missing(
                    f,
                    format!(
                        "{at} has no stage-I measurement (`runs.adam.stage_one`: results written before adamgap \
                         recorded it; rerun the sweep into a new folder)"
                    ),
                );
            }
            return;
        }
        Some(Value::Null) => {
            for f in STAGE_ONE_FIELDS {
                missing(f, format!("{at}: a growth rate over 0 steps is not defined"));
            }
            return;
        }
        Some(so) => so,
    };
    for f in &STAGE_ONE_FIELDS[..3] {
        match so[*f].as_f64() {
            Some(v) => {
                out.quantities.insert(format!("adam.{f}"), v);
            }
            None => missing(f, format!("{at}: stage-I {f} not defined")),
        }
    }
    let predicted = predicted_noise_l1(s);
    match so["growth_ratio"].as_f64().filter(|r| *r > 0.0 && predicted > 0.0) {
        Some(ratio) => {
            out.quantities.insert("adam.growth_ratio_log_error".into(), (ratio / predicted).ln().abs());
        }
        None => missing("growth_ratio_log_error", format!("{at}: no positive stage-I growth ratio")),
    }
}

/// The per-cell names a set of path quantities reads.
fn cell_names<'a>(names: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    let mut out: Vec<String> =
        names.into_iter().filter_map(|n| n.split_once('.').map(|(_, r)| r.to_string())).collect();
    out.sort();
    out.dedup();
    out
}

/// The quantity names of a theorem's checks and orderings (the ones a path measurement must give).
fn claim_names(theorem: &Theorem) -> Vec<String> {
    let mut names: Vec<String> =
        theorem.checks.iter().flat_map(|c| std::iter::once(c.quantity.clone()).chain(c.of.clone())).collect();
    for o in &theorem.orderings {
        for item in &o.items {
            let name = item.split_once('=').map_or(item.as_str(), |(_, n)| n).trim();
            if name.parse::<f64>().is_err() {
                names.push(name.to_string());
            }
        }
    }
    names
}

/// The measurement of one seed from its cells (in any order; [`check_shape`] makes sure there is
/// one per value of the path axis): every quantity the claim's checks and orderings read, and the
/// cells' runs (named `<run> (<axis> = <value>)`) for the verdict rule.
pub fn measure_seed(theorem: &Theorem, axis: &str, cells: &[&PathCell]) -> Measurement {
    let mut m = Measurement::default();
    let mut order: Vec<&PathCell> = cells.to_vec();
    order.sort_by(|a, b| a.position.total_cmp(&b.position));
    if order.is_empty() {
        return Measurement::unavailable("the seed has no cells");
    }
    let names = cell_names(&claim_names(theorem));
    let measured: Vec<CellMeasure> = order.iter().map(|c| measure_cell(c, axis, &names)).collect();
    if let Some(why) = measured.iter().find_map(|c| c.unreadable.clone()) {
        m.inconclusive = Some(why);
    }
    let lookup = |c: &CellMeasure, n: &str| -> std::result::Result<f64, String> {
        match (c.quantities.get(n), c.missing.get(n)) {
            (Some(v), _) => Ok(*v),
            (None, Some(why)) => Err(why.clone()),
            (None, None) => Err(format!("no quantity named `{n}`")),
        }
    };
    for n in &names {
        let (first, last) = (&measured[0], &measured[measured.len() - 1]);
        for (pos, value) in [("first", lookup(first, n)), ("last", lookup(last, n))] {
            match value {
                Ok(v) => {
                    m.quantities.insert(format!("{pos}.{n}"), v);
                }
                Err(why) => {
                    m.missing.insert(format!("{pos}.{n}"), why);
                }
            }
        }
        let all: std::result::Result<Vec<f64>, String> = measured.iter().map(|c| lookup(c, n)).collect();
        match all {
            Ok(vals) => {
                m.quantities.insert(format!("min.{n}"), vals.iter().copied().fold(f64::INFINITY, f64::min));
                m.quantities.insert(format!("max.{n}"), vals.iter().copied().fold(f64::NEG_INFINITY, f64::max));
            }
            Err(why) => {
                m.missing.insert(format!("min.{n}"), why.clone());
                m.missing.insert(format!("max.{n}"), why);
            }
        }
    }
    m.runs = measured.into_iter().flat_map(|c| c.runs).collect();
    m
}

/// Checks that the cells form a path: at least one cell per seed and one per seed and value of
/// the path axis. The error says what is wrong.
pub fn check_shape(cells: &PathCells) -> std::result::Result<Vec<u64>, String> {
    let mut seeds: Vec<u64> = cells.cells.iter().map(|c| c.seed).collect();
    seeds.sort_unstable();
    seeds.dedup();
    for s in &seeds {
        let mut at: Vec<f64> = cells.cells.iter().filter(|c| c.seed == *s).map(|c| c.position).collect();
        at.sort_by(f64::total_cmp);
        if at.windows(2).any(|w| w[0] == w[1]) {
            return Err(format!(
                "seed {s} has two cells at one value of the path axis `{}`: a path grid has one cell per seed and \
                 value of its axis (no other axis with more than one value)",
                cells.axis
            ));
        }
    }
    Ok(seeds)
}

/// The report's table along the path: every cell's `[track]` quantities, by seed then position.
pub fn report(theorem: &Theorem, cells: &PathCells) -> PathReport {
    let columns = theorem.track.quantities.clone();
    let mut order: Vec<&PathCell> = cells.cells.iter().collect();
    order.sort_by(|a, b| a.seed.cmp(&b.seed).then(a.position.total_cmp(&b.position)));
    let rows = order
        .into_iter()
        .map(|c| {
            let m = measure_cell(c, &cells.axis, &columns);
            PathRow {
                seed: c.seed,
                cell: c.id.clone(),
                position: c.position,
                values: columns.iter().map(|n| m.quantities.get(n).copied()).collect(),
            }
        })
        .collect();
    PathReport {
        grid: cells.grid.clone(),
        grid_hash: cells.grid_hash.clone(),
        axis: cells.axis.clone(),
        description: cells.description.clone(),
        source: cells.source.clone(),
        columns,
        rows,
    }
}
