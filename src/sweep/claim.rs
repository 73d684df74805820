//! The cells of path claims (`kind = "path"`, [`crate::claims::path`]): the claim's preset grid
//! with its overrides (`[path.check]` at the full scale of `adamgap check`, `[test.grid]` on top
//! at the test scale), expanded by [`Grid`] and run cell by cell by [`run_cell`], exactly as
//! `adamgap sweep` runs them; or the whole preset read from a merged sweep folder
//! (`adamgap check --path-results DIR`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::grid::{Grid, Manifest};
use super::run::{run_cell, run_cell_steps};
use crate::claims::path::{PathCell, PathCells, PathSource, position_label};
use crate::claims::{Scale, Theorem};
use crate::error::{Error, Result};
use crate::results::Cell;

/// Gives a path claim its cells: computed, or read from a merged sweep folder.
#[derive(Clone, Debug, Default)]
pub struct GridSource {
    /// A merged sweep folder (`DIR/grid.json`, `DIR/sweep.jsonl`) of the claim's whole preset
    /// grid: its cells are read instead of computed (the full scale only; a folder of another grid
    /// is refused).
    pub results: Option<PathBuf>,
}

impl GridSource {
    /// Reads the cells from the merged sweep folder `dir`.
    pub fn from_folder(dir: impl Into<PathBuf>) -> Self {
        Self { results: Some(dir.into()) }
    }

    /// The claim's grid at `scale` and its description.
    fn grid(&self, theorem: &Theorem, origin: &str, scale: Scale) -> Result<(Grid, String)> {
        let spec = theorem.path.as_ref().ok_or_else(|| Error::Config {
            origin: origin.to_string(),
            message: "field `path`: a path claim needs [path] with `grid`".into(),
        })?;
        let Some((name, text)) = super::PRESETS.iter().find(|(n, _)| *n == spec.grid) else {
            let names: Vec<&str> = super::PRESETS.iter().map(|(n, _)| *n).collect();
            return Err(Error::Config {
                origin: theorem.at(origin, "path.grid"),
                message: format!("field `path.grid`: unknown preset `{}` (allowed: {})", spec.grid, names.join(", ")),
            });
        };
        let mut table: toml::Table = toml::from_str(text).expect("a preset parses");
        let label = match (&self.results, scale) {
            (Some(dir), Scale::Test) => {
                return Err(Error::invalid(
                    "--path-results",
                    dir.display(),
                    "only at the full scale (a folder holds the whole preset); drop --scale test",
                ));
            }
            (Some(_), Scale::Full) => format!("preset {name} (sweeps/{name}.toml), the whole grid"),
            (None, Scale::Full) => {
                crate::claims::theorem::merge(&mut table, &spec.check);
                format!("preset {name} (sweeps/{name}.toml) with [path.check]")
            }
            (None, Scale::Test) => {
                crate::claims::theorem::merge(&mut table, &spec.check);
                if let Some(t) = &theorem.test {
                    crate::claims::theorem::merge(&mut table, &t.grid);
                }
                format!("preset {name} (sweeps/{name}.toml) with [path.check] and [test.grid]")
            }
        };
        let grid = Grid::from_table(table, &format!("{} ([path] grid, {label})", theorem.at(origin, "path")))?;
        Ok((grid, label))
    }
}

/// The path axis: `along`, else the grid's `[plot] x`, else its first axis other than `seed` with
/// more than one value.
fn path_axis(grid: &Grid, along: Option<&str>, origin: &str) -> Result<usize> {
    let bad = |message: String| Error::Config { origin: origin.to_string(), message };
    let key = along
        .map(String::from)
        .or_else(|| grid.plot.x.clone())
        .or_else(|| grid.axes.iter().find(|a| a.key != "seed" && a.values.len() > 1).map(|a| a.key.clone()));
    let keys: Vec<&str> = grid.axes.iter().map(|a| a.key.as_str()).filter(|k| *k != "seed").collect();
    let key =
        key.ok_or_else(|| bad(format!("field `path.along`: the grid has no path axis (axes: {})", keys.join(", "))))?;
    let k = grid.axes.iter().position(|a| a.key == key && key != "seed").ok_or_else(|| {
        bad(format!("field `path.along`: `{key}` is not an axis of the grid (allowed: {})", keys.join(", ")))
    })?;
    if grid.axes[k].values.iter().any(|v| !v.is_number()) {
        return Err(bad(format!("field `path.along`: the axis `{key}` has a value that is not a number")));
    }
    if !grid.axes.iter().any(|a| a.key == "seed") {
        return Err(bad("the grid has no `seed` axis: a path claim's trials are its seeds".into()));
    }
    Ok(k)
}

/// Every run a path claim reads (`last.sign-gd.test_error` reads `sign-gd`) is run by every cell
/// of its grid: checked before any cell is computed, naming the field.
fn runs_in_grid(theorem: &Theorem, origin: &str, grid: &Grid) -> Result<()> {
    let mut names: Vec<(String, &str)> = Vec::new();
    for (k, c) in theorem.checks.iter().enumerate() {
        names.push((format!("check[{k}].quantity"), &c.quantity));
        if let Some(of) = &c.of {
            names.push((format!("check[{k}].of"), of));
        }
    }
    for (k, o) in theorem.orderings.iter().enumerate() {
        for (i, item) in o.items.iter().enumerate() {
            let name = item.split_once('=').map_or(item.as_str(), |(_, n)| n).trim();
            names.push((format!("ordering[{k}].items[{i}]"), name));
        }
    }
    for (k, q) in theorem.track.quantities.iter().enumerate() {
        names.push((format!("track.quantities[{k}]"), q));
    }
    for (field, name) in names {
        // `<position>.<run>.<field>`, or a tracked `<run>.<field>`; `predicted.*` and `data.*` read no run.
        let parts: Vec<&str> = name.split('.').collect();
        let run = match parts.as_slice() {
            [pos, run, _] if crate::claims::quantity::POSITIONS.contains(pos) => *run,
            [run, _] if field.starts_with("track") => *run,
            _ => continue,
        };
        if matches!(run, "predicted" | "data") {
            continue;
        }
        if let Some(cell) = grid.cells.iter().find(|c| !c.setting.optimizers.iter().any(|o| o.key() == run)) {
            let runs: Vec<&str> = cell.setting.optimizers.iter().map(|o| o.key()).collect();
            return Err(Error::Config {
                origin: theorem.at(origin, &field),
                message: format!(
                    "field `{field}`: `{name}` reads the run `{run}`, but cell {} of the grid runs only {}",
                    cell.id,
                    runs.join(", ")
                ),
            });
        }
    }
    Ok(())
}

/// The cells of a merged sweep folder of `grid`, in cell order (`None`: a cell without a result).
/// A line of `sweep.jsonl` that is not a cell is an error naming the line and the field.
fn read_folder(dir: &Path, grid: &Grid, name: &str) -> Result<Vec<Option<Cell>>> {
    let refuse = |what: String| Error::invalid("--path-results", dir.display(), what);
    let manifest: Manifest = super::run::read_manifest(dir)?
        .ok_or_else(|| refuse(format!("a merged sweep folder of the preset `{name}` (no grid.json)")))?;
    let hash = manifest.grid_hash.as_str();
    if hash != grid.hash {
        return Err(refuse(format!(
            "a sweep folder of the preset `{name}` (grid hash {}); this folder holds grid {hash}",
            grid.hash
        )));
    }
    // One line per cell of the grid, each at most a cell file's size.
    let cap = (grid.cells.len() as u64).saturating_mul(super::run::MAX_CELL_BYTES + 1);
    let text = crate::input::read_output_text(&dir.join("sweep.jsonl"), cap)?
        .ok_or_else(|| refuse("a merged folder: run `adamgap sweep merge DIR` first (no sweep.jsonl)".into()))?;
    let mut by_id: BTreeMap<String, Cell> = BTreeMap::new();
    for (k, line) in text.lines().enumerate() {
        let cell: Cell = serde_json::from_str(line)
            .map_err(|e| Error::io(dir.join("sweep.jsonl"), format!("line {}: {e}", k + 1)))?;
        if cell.grid_hash == grid.hash {
            by_id.insert(cell.cell.clone(), cell);
        }
    }
    Ok(grid.cells.iter().map(|c| by_id.remove(&c.id)).collect())
}

impl PathSource for GridSource {
    fn cells(
        &self,
        theorem: &Theorem,
        origin: &str,
        scale: Scale,
        at_init: bool,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<PathCells> {
        let (grid, label) = self.grid(theorem, origin, scale)?;
        runs_in_grid(theorem, origin, &grid)?;
        let spec = theorem.path.as_ref().expect("checked by grid()");
        let k = path_axis(&grid, spec.along.as_deref(), &theorem.at(origin, "path"))?;
        // A folder of another grid is refused before any cell is computed, the baselines included.
        let read = self.results.as_ref().map(|dir| read_folder(dir, &grid, &spec.grid)).transpose()?;
        let (results, source) = match (at_init, read) {
            (true, _) => {
                let zero = |i: usize| run_cell_steps(&grid, &grid.cells[i], 0).map(Some);
                let r = crate::parallel::map_indexed(grid.cells.len(), zero).into_iter().collect::<Result<_>>()?;
                (r, "every cell cut to 0 steps (W^(0))".to_string())
            }
            (false, Some(read)) => (read, "read from a merged sweep folder".to_string()),
            (false, None) => {
                progress(&format!("  running {} cells of {label}", grid.cells.len()));
                let run = |i: usize| run_cell(&grid, &grid.cells[i]).map(Some);
                let r = crate::parallel::map_indexed(grid.cells.len(), run).into_iter().collect::<Result<_>>()?;
                (r, format!("computed ({} cells, as `adamgap sweep` runs them)", grid.cells.len()))
            }
        };
        let axis = &grid.axes[k];
        let mut description = vec![format!(
            "{}: {}",
            axis.key,
            axis.values.iter().map(|v| position_label(v.as_f64().unwrap_or(f64::NAN))).collect::<Vec<_>>().join(", ")
        )];
        for a in grid.axes.iter().filter(|a| a.key != axis.key) {
            let values: Vec<String> = a.values.iter().map(|v| v.to_string()).collect();
            description.push(format!("{}: {}", a.key, values.join(", ")));
        }
        description.extend(grid.derived.iter().map(|(key, expr)| format!("{key} = {expr}")));
        let cells = grid
            .cells
            .iter()
            .zip(results)
            .map(|(c, result)| PathCell {
                id: c.id.clone(),
                seed: c.setting.seed,
                position: axis.values[c.coords[k]].as_f64().unwrap_or(f64::NAN),
                setting: c.setting.clone(),
                result,
            })
            .collect();
        Ok(PathCells { grid: label, grid_hash: grid.hash.clone(), axis: axis.key.clone(), description, source, cells })
    }
}
