//! Running the cells of a grid: sharded, resumable, in parallel, one atomic JSON file per cell
//! ([`crate::outdir::write_file`]).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use rayon::prelude::*;

use super::grid::{Cell, Grid, Manifest};
use crate::error::{Error, Result};
use crate::results::{StageOne, Timing};
use crate::setting::OptimizerSetting;
use crate::train::Experiment;

/// Which cells one process runs: those with `index % count == index_k`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// `K` in `K/N`, `0 <= K < N`.
    pub k: usize,
    /// `N` in `K/N`.
    pub n: usize,
}

impl Shard {
    /// The whole grid.
    pub const ALL: Shard = Shard { k: 0, n: 1 };

    /// Parses `K/N` (`0 <= K < N`); `field` names the flag in the error.
    pub fn parse(text: &str, field: &str) -> Result<Self> {
        let bad = || Error::invalid(field, text, "K/N with 0 <= K < N, e.g. 0/4");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let (k, n): (usize, usize) = (k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if n == 0 || k >= n { Err(bad()) } else { Ok(Shard { k, n }) }
    }

    /// The shard of a Slurm array task: `SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN` of
    /// `SLURM_ARRAY_TASK_COUNT` (`MIN` is 0 when unset). `None` outside an array job.
    pub fn from_slurm(var: &dyn Fn(&str) -> Option<String>) -> Result<Option<Self>> {
        let (Some(id), Some(count)) = (var("SLURM_ARRAY_TASK_ID"), var("SLURM_ARRAY_TASK_COUNT")) else {
            return Ok(None);
        };
        let num =
            |name: &str, v: &str| v.trim().parse::<usize>().map_err(|_| Error::invalid(name, v, "a whole number >= 0"));
        let id = num("SLURM_ARRAY_TASK_ID", &id)?;
        let min = var("SLURM_ARRAY_TASK_MIN").map(|m| num("SLURM_ARRAY_TASK_MIN", &m)).transpose()?.unwrap_or(0);
        let n = num("SLURM_ARRAY_TASK_COUNT", &count)?;
        let k = id
            .checked_sub(min)
            .ok_or_else(|| Error::invalid("SLURM_ARRAY_TASK_ID", id, format!(">= SLURM_ARRAY_TASK_MIN = {min}")))?;
        if n == 0 || k >= n {
            return Err(Error::invalid(
                "SLURM_ARRAY_TASK_ID",
                id,
                format!("a contiguous array: ID - MIN < COUNT = {n} (use --array=0-{})", n.max(1) - 1),
            ));
        }
        Ok(Some(Shard { k, n }))
    }

    /// Whether cell `index` belongs to this shard.
    pub fn has(&self, index: usize) -> bool {
        index % self.n == self.k
    }
}

/// How to run a sweep.
#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    pub shard: Shard,
    /// Testing aid: after this many cells are written, the next finished cell is dropped and the
    /// run stops with an error, as if killed before its file was renamed into place.
    pub fail_after: Option<usize>,
}

/// What a run did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSummary {
    /// Cells of this shard.
    pub in_shard: usize,
    /// Cells computed and written now.
    pub ran: Vec<String>,
    /// Cells skipped because their file exists with this grid's hash.
    pub skipped: usize,
    /// Cells whose file existed with another grid's hash (recomputed).
    pub stale: usize,
}

/// `DIR/results/<id>.json`.
pub fn cell_path(dir: &Path, id: &str) -> PathBuf {
    dir.join("results").join(format!("{id}.json"))
}

/// The most bytes read from a cell file: a cell holds a few kilobytes of results per run and its
/// axis values, which a grid file of at most 1 MiB bounds.
pub const MAX_CELL_BYTES: u64 = 4 << 20;

/// The most bytes read from a sweep folder's `grid.json`: the manifest lists every cell (at most
/// [`super::grid::MAX_CELLS`]) with its axis values.
pub const MAX_MANIFEST_BYTES: u64 = 256 << 20;

/// The text of a cell file through the one input reader ([`crate::input::read_output_text`]:
/// a regular file of at most [`MAX_CELL_BYTES`]); `Ok(None)` when there is none. A FIFO, a
/// device, a folder or a file too large is an error naming it.
pub fn read_cell_text(path: &Path) -> Result<Option<String>> {
    crate::input::read_output_text(path, MAX_CELL_BYTES)
}

/// A cell file: the cell, if the file exists and reads as one ([`crate::results::Cell`]); `None`
/// when there is none, or for a file of an older or broken format (run again). A file that cannot
/// be a cell file (see [`read_cell_text`]) is an error.
pub fn read_cell(path: &Path) -> Result<Option<crate::results::Cell>> {
    Ok(read_cell_text(path)?.and_then(|text| serde_json::from_str(text.trim_end()).ok()))
}

/// The grid hash recorded in a cell file, if the file exists and reads as a cell.
pub fn recorded_hash(path: &Path) -> Result<Option<String>> {
    Ok(read_cell(path)?.map(|c| c.grid_hash))
}

/// A sweep folder's `grid.json`, read through the one input reader; `Ok(None)` when there is
/// none. A file there that cannot be read or is not a manifest is an error (never taken for an
/// empty folder).
pub fn read_manifest(dir: &Path) -> Result<Option<Manifest>> {
    let path = dir.join("grid.json");
    let Some(text) = crate::input::read_output_text(&path, MAX_MANIFEST_BYTES)? else { return Ok(None) };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| Error::io(&path, format!("not the manifest of a sweep folder: {e}")))
}

/// Removes the temporary files that killed processes of this host left in the sweep folder `dir`
/// and its `results/` ([`crate::outdir::remove_stale_files`]); other hosts' and live processes'
/// files stay.
pub fn remove_stale_temp_files(dir: &Path) {
    crate::outdir::remove_stale_files(dir);
    crate::outdir::remove_stale_files(&dir.join("results"));
}

/// Claims the sweep folder `dir` for `grid`: creates `DIR/grid.json` atomically if there is none
/// ([`crate::outdir::create_file`]: of two processes starting at once, exactly one creates it),
/// then checks that the one there is this grid's. A `grid.json` that cannot be read or parsed is
/// an error, never taken for an unclaimed folder.
fn write_manifest(dir: &Path, grid: &Grid) -> Result<()> {
    let path = dir.join("grid.json");
    crate::outdir::check_file_target(&path)?;
    if read_manifest(dir)?.is_none() {
        let text = grid.manifest_text();
        if crate::outdir::create_file(&path, text.as_bytes())? {
            return Ok(());
        }
    }
    let old = read_manifest(dir)?.ok_or_else(|| Error::io(&path, "disappeared while the sweep claimed the folder"))?;
    let old_hash = old.grid_hash;
    if old_hash == grid.hash {
        return Ok(());
    }
    Err(Error::invalid(
        "--out",
        dir.display(),
        format!("a folder of this grid; it holds grid {old_hash}, this grid is {} (use a new folder)", grid.hash),
    ))
}

/// Steps of the stage-I window: Adam's growth rates are measured over its first
/// `STAGE_ONE_STEPS` steps (the whole budget if shorter), well inside its first stage on the
/// presets (`T_0 ~ 1/(eta s sigma_p)` = 500 steps on `path-d`, 2,000 at the default setting).
pub const STAGE_ONE_STEPS: usize = 50;

/// Runs one cell: the headline's summary ([`crate::results::RunSummary`]) with the cell's id, index, axis values
/// and the grid hash; per run also `moved` (whether it left `W^(0)`) and, for Adam, `stage_one`
/// (the private function of that name in this file); timings go to `timing`, which the merge drops.
pub fn run_cell(grid: &Grid, cell: &Cell) -> Result<crate::results::Cell> {
    run_cell_steps(grid, cell, cell.setting.train.steps)
}

/// [`run_cell`] with a budget of `steps` instead of the cell's (0: every run cut to `W^(0)`, the
/// baselines at initialization of a path claim).
pub fn run_cell_steps(grid: &Grid, cell: &Cell, steps: usize) -> Result<crate::results::Cell> {
    let start = Instant::now();
    let mut exp = Experiment::new(&cell.setting)?;
    exp.setting.train.steps = steps;
    let runs: Vec<_> = exp.setting.optimizers.par_iter().map(|o| exp.run(o, &|_| {})).collect();
    let verdicts = crate::claims::headline(&exp, &runs);
    let mut summary = crate::results::RunSummary::of(&exp, &runs, &verdicts);
    let mut times = std::collections::BTreeMap::new();
    for r in &runs {
        let result = summary.runs.get_mut(&r.name).expect("a result per run");
        if let Some(s) = result.seconds.take() {
            times.insert(r.name.clone(), s);
        }
        result.moved = Some(r.moved);
    }
    for o in cell.setting.optimizers.iter().filter(|o| o.key() == "adam") {
        let window = stage_one(&mut exp, o);
        summary.runs.get_mut(o.key()).expect("adam's result").stage_one = Some(window);
    }
    let mut out =
        crate::results::Cell::of(cell.id.clone(), cell.index, grid.hash.clone(), grid.axis_values(cell), summary);
    out.timing = Some(Timing { seconds: start.elapsed().as_secs_f64(), runs: times });
    Ok(out)
}

/// Adam's stage-I growth on the cell: a second run of `opt` from the same `W^(0)` for the first
/// `min(STAGE_ONE_STEPS, train.steps)` steps (the same steps as the first ones of the full run:
/// the update does not depend on the budget), measured by `claims::measure::stage_one_growth`:
/// `steps`, `stop` (its stop reason), `noise_growth_per_step`, `feature_growth_per_step` (in units
/// of `eta` per step), `growth_ratio` (their quotient) and `predicted_ratio` = `s sigma_p sqrt(2/pi)`
/// (`claims::measure::predicted_noise_l1`). `null` when the budget is 0 steps; the rates are `null`
/// when not defined (no active filter, non-finite weights, no feature movement).
fn stage_one(exp: &mut Experiment, opt: &OptimizerSetting) -> Option<StageOne> {
    let budget = exp.setting.train.steps;
    let window = STAGE_ONE_STEPS.min(budget);
    if window == 0 {
        return None;
    }
    exp.setting.train.steps = window;
    let run = exp.run(opt, &|_| {});
    let growth = crate::claims::measure::stage_one_growth(exp, &run);
    exp.setting.train.steps = budget;
    Some(StageOne {
        steps: run.steps,
        stop: run.stop.label().to_string(),
        noise_growth_per_step: growth.map(|g| g.0),
        feature_growth_per_step: growth.map(|g| g.1),
        growth_ratio: growth.filter(|g| g.1 > 0.0).map(|(n, f)| n / f),
        predicted_ratio: crate::claims::measure::predicted_noise_l1(&exp.setting),
    })
}

/// Runs this shard's cells of `grid` into `dir`, skipping cells already done for this grid. The
/// cells run side by side on the current rayon pool, each cell's optimizers and passes on the same
/// pool (results do not depend on its size).
/// `on_cell(id, seconds, written, total)` is called after each cell is written.
pub fn run(
    grid: &Grid,
    dir: &Path,
    opts: &RunOptions,
    on_cell: &(dyn Fn(&str, f64, usize, usize) + Sync),
) -> Result<RunSummary> {
    std::fs::create_dir_all(dir.join("results")).map_err(|e| Error::io(dir.join("results"), e))?;
    remove_stale_temp_files(dir);
    write_manifest(dir, grid)?;
    let mine: Vec<&Cell> = grid.cells.iter().filter(|c| opts.shard.has(c.index)).collect();
    let (mut todo, mut skipped, mut stale) = (Vec::new(), 0, 0);
    for c in &mine {
        let path = cell_path(dir, &c.id);
        // Before any cell runs: a cell file that is a symbolic link, a FIFO or a device is refused.
        crate::outdir::check_file_target(&path)?;
        match recorded_hash(&path)? {
            Some(h) if h == grid.hash => skipped += 1,
            Some(_) => {
                stale += 1;
                todo.push(*c);
            }
            None => todo.push(*c),
        }
    }
    let written = Mutex::new(Vec::new());
    let interrupted = Mutex::new(false);
    let total = todo.len();
    let results = crate::parallel::map_indexed(todo.len(), |i| -> Result<()> {
        let cell = todo[i];
        let budget_left = |w: &Vec<String>| opts.fail_after.is_none_or(|k| w.len() < k);
        if *interrupted.lock().expect("lock") {
            return Ok(());
        }
        let start = Instant::now();
        let v = run_cell(grid, cell)?;
        let mut w = written.lock().expect("lock");
        if !budget_left(&w) {
            *interrupted.lock().expect("lock") = true;
            return Ok(());
        }
        let line = serde_json::to_string(&crate::results::to_json(&v)).expect("JSON of plain data") + "\n";
        crate::outdir::write_file(&cell_path(dir, &cell.id), line.as_bytes())?;
        w.push(cell.id.clone());
        on_cell(&cell.id, start.elapsed().as_secs_f64(), w.len(), total);
        Ok(())
    });
    results.into_iter().collect::<Result<Vec<()>>>()?;
    let ran = written.into_inner().expect("lock");
    if *interrupted.lock().expect("lock") {
        return Err(Error::Numerical(format!(
            "sweep interrupted on purpose after {} cells (ADAMGAP_SWEEP_FAIL_AFTER); rerun to resume",
            ran.len()
        )));
    }
    Ok(RunSummary { in_shard: mine.len(), ran, skipped, stale })
}

#[cfg(test)]
mod tests {
    use super::Shard;

    #[test]
    fn shards_parse_and_partition() {
        assert_eq!(Shard::parse("1/3", "--shard").expect("valid"), Shard { k: 1, n: 3 });
        for bad in ["3/3", "1", "a/2", "0/0", "-1/2"] {
            assert!(Shard::parse(bad, "--shard").is_err(), "{bad} accepted");
        }
        let s = Shard { k: 1, n: 3 };
        assert_eq!((0..8).filter(|&i| s.has(i)).collect::<Vec<_>>(), [1, 4, 7]);
        let env = |id: &'static str, min: Option<&'static str>| {
            move |k: &str| match k {
                "SLURM_ARRAY_TASK_ID" => Some(id.to_string()),
                "SLURM_ARRAY_TASK_COUNT" => Some("4".to_string()),
                "SLURM_ARRAY_TASK_MIN" => min.map(String::from),
                _ => None,
            }
        };
        assert_eq!(Shard::from_slurm(&env("2", None)).expect("valid"), Some(Shard { k: 2, n: 4 }));
        assert_eq!(Shard::from_slurm(&env("4", Some("1"))).expect("valid"), Some(Shard { k: 3, n: 4 }));
        assert!(Shard::from_slurm(&env("4", None)).is_err());
        assert_eq!(Shard::from_slurm(&|_| None).expect("no array"), None);
    }
}
