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
//! runs its cells with the sweep's own cell runner, or reads a merged sweep folder. A cell's result
//! is the typed [`crate::results::Cell`] the sweep writes, so this file reads it without the sweep
//! module, which depends on `claims`, not the reverse: the source is handed to the checker
//! ([`super::Checker::with_paths`]).

use std::collections::BTreeMap;

use serde::Serialize;

use super::measure::{predicted_noise_l1, supports_per_coordinate};
use super::outcome::{Measurement, RunInfo};
use super::quantity::{self, Form};
use super::theorem::{Scale, Theorem};
use crate::error::Result;
use crate::format::sig;
use crate::results::{Cell, RunResult, StageOne};
use crate::setting::Setting;

/// Seeds of a path claim (its grid's `seed` axis) at either scale, at least.
pub const MIN_SEEDS: usize = 3;

/// One cell of a path claim's grid.
#[derive(Clone, Debug)]
pub struct PathCell {
    pub id: String,
    pub seed: u64,
    /// The cell's value on the path axis.
    pub position: f64,
    pub setting: Setting,
    /// The cell's result (a sweep cell), `None` when there is none.
    pub result: Option<Cell>,
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

/// `x` as a short label: whole numbers exactly, others to 3 significant digits.
pub fn position_label(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { sig(x, 3) }
}

/// What one cell gives: its per-cell quantities, the reasons for those it lacks, and its runs.
struct CellMeasure {
    quantities: BTreeMap<String, f64>,
    missing: BTreeMap<String, String>,
    runs: Vec<RunInfo>,
}

/// Reads one cell's quantities from its result; `names` are the per-cell quantities the claim
/// reads (a name the result does not give is missing with the reason).
fn measure_cell(cell: &PathCell, axis: &str, names: &[String]) -> CellMeasure {
    let at = format!("cell {} ({axis} = {}, seed {})", cell.id, position_label(cell.position), cell.seed);
    let mut out = CellMeasure { quantities: BTreeMap::new(), missing: BTreeMap::new(), runs: Vec::new() };
    let Some(result) = &cell.result else {
        for n in names {
            out.missing.insert(n.clone(), format!("{at} has no result"));
        }
        return out;
    };
    let s = &cell.setting;
    out.quantities.insert("predicted.noise_l1".into(), predicted_noise_l1(s));
    out.quantities.insert("data.supports_per_coordinate".into(), supports_per_coordinate(s));
    let overlap = &result.overlap;
    if overlap.pairs_total > 0 {
        out.quantities
            .insert("data.overlapping_pairs".into(), overlap.pairs_overlapping as f64 / overlap.pairs_total as f64);
    }
    for (name, r) in &result.runs {
        for (f, v) in quantity::cell_fields(r) {
            // JSON writes a number that is not finite as `null`; the cell reads it back as NaN.
            if v.is_nan() {
                out.missing.insert(format!("{name}.{f}"), format!("{at}: `{name}.{f}` is not a finite number"));
            } else {
                out.quantities.insert(format!("{name}.{f}"), v);
            }
        }
        if name == "adam" {
            stage_one(&mut out, r, s, &at);
        }
        out.runs.push(RunInfo::of_result(format!("{name} ({axis} = {})", position_label(cell.position)), r));
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
fn stage_one(out: &mut CellMeasure, r: &RunResult, s: &Setting, at: &str) {
    let fields = quantity::names(Form::StageOne);
    let mut missing = |f: &str, why: String| {
        out.missing.insert(format!("adam.{f}"), why);
    };
    let so: &StageOne = match &r.stage_one {
        None => {
            for f in &fields {
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
        Some(None) => {
            for f in &fields {
                missing(f, format!("{at}: a growth rate over 0 steps is not defined"));
            }
            return;
        }
        Some(Some(so)) => so,
    };
    let rates = [
        ("noise_growth_per_step", so.noise_growth_per_step),
        ("feature_growth_per_step", so.feature_growth_per_step),
        ("growth_ratio", so.growth_ratio),
    ];
    for (f, v) in rates {
        match v {
            Some(v) => {
                out.quantities.insert(format!("adam.{f}"), v);
            }
            None => missing(f, format!("{at}: stage-I {f} not defined")),
        }
    }
    let predicted = predicted_noise_l1(s);
    match so.growth_ratio.filter(|r| *r > 0.0 && predicted > 0.0) {
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
