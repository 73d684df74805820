//! A sweep folder read back for the merge and its figures: the manifest (`DIR/grid.json`, a
//! [`Manifest`]) and every cell of its grid (`DIR/results/<id>.json`, a [`crate::results::Cell`]),
//! and the run quantities the tables and figures show ([`RunQuantity`]).

use std::path::Path;

use serde_json::Value;

use super::grid::Manifest;
use super::run::cell_path;
use crate::error::{Error, Result};
use crate::format::sig;
use crate::results::{Cell, RunResult};

/// A run quantity of the tables and figures: its key (figure file names), its label and how it is
/// read from a cell's run (`None`: not there, e.g. a stage-I ratio of a run without one).
pub struct RunQuantity {
    pub key: &'static str,
    pub label: &'static str,
    pub get: fn(&RunResult) -> Option<f64>,
}

/// The merged data: the manifest's axes and cells, and each cell's result (timing dropped).
pub struct Merged {
    pub manifest: Manifest,
    pub axes: Vec<(String, Vec<Value>)>,
    /// `(id, axis value indices, result)`, in cell order.
    pub cells: Vec<(String, Vec<usize>, Option<Cell>)>,
    pub optimizers: Vec<String>,
    /// `(id, grid hash)` of each cell whose file was written by another grid (counted missing).
    pub foreign: Vec<(String, String)>,
}

impl Merged {
    /// Reads `DIR/grid.json` and every `DIR/results/<id>.json` of this grid. A cell without a file,
    /// or with one of another grid, is missing; a cell file that is not a cell (a field missing or
    /// unknown) is an error naming the file and the field.
    pub fn read(dir: &Path) -> Result<Self> {
        let mpath = dir.join("grid.json");
        let manifest: Manifest = super::run::read_manifest(dir)?
            .ok_or_else(|| Error::io(&mpath, "no such file (not a sweep folder? `adamgap sweep` writes it)"))?;
        let axes: Vec<(String, Vec<Value>)> = manifest.axes.iter().map(|a| (a.key.clone(), a.values.clone())).collect();
        let mut cells = Vec::new();
        let mut optimizers: Vec<String> = Vec::new();
        let mut foreign = Vec::new();
        for c in &manifest.cells {
            let coords =
                axes.iter().map(|(k, vals)| vals.iter().position(|v| Some(v) == c.axes.get(k)).unwrap_or(0)).collect();
            let path = cell_path(dir, &c.id);
            let result = match super::run::read_cell_text(&path)? {
                None => None,
                Some(t) => {
                    let cell: Cell = serde_json::from_str(t.trim_end()).map_err(|e| Error::io(&path, e))?;
                    if cell.grid_hash != manifest.grid_hash {
                        foreign.push((c.id.clone(), cell.grid_hash.clone()));
                    }
                    (cell.grid_hash == manifest.grid_hash).then_some(Cell { timing: None, ..cell })
                }
            };
            if let Some(r) = &result {
                for k in r.runs.keys() {
                    if !optimizers.contains(k) {
                        optimizers.push(k.clone());
                    }
                }
            }
            cells.push((c.id.clone(), coords, result));
        }
        Ok(Merged { manifest, axes, cells, optimizers, foreign })
    }

    /// A run quantity of a cell (`None` if the cell or the run is missing, or the value is not a
    /// finite number).
    pub fn value(&self, cell: usize, opt: &str, q: &RunQuantity) -> Option<f64> {
        let run = self.cells[cell].2.as_ref()?.runs.get(opt)?;
        (q.get)(run).filter(|v| v.is_finite())
    }

    pub(super) fn axis_index(&self, key: &str) -> Result<usize> {
        self.axes.iter().position(|(k, _)| k == key).ok_or_else(|| {
            let keys: Vec<&str> = self.axes.iter().map(|(k, _)| k.as_str()).collect();
            Error::invalid("--x/--y", key, format!("an axis of this grid: {}", keys.join(", ")))
        })
    }

    /// Mean, min and max of a quantity over the cells at `coords` (`None` entries free), with
    /// the number of cells that had a value and the number expected.
    pub fn stats(&self, fixed: &[(usize, usize)], opt: &str, q: &RunQuantity) -> Stats {
        let mut s = Stats::default();
        for (i, (_, coords, _)) in self.cells.iter().enumerate() {
            if fixed.iter().all(|&(a, v)| coords[a] == v) {
                s.expected += 1;
                if let Some(x) = self.value(i, opt, q) {
                    s.push(x);
                }
            }
        }
        s
    }
}

/// Mean and range of a group of values, summed in cell order.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stats {
    pub count: usize,
    pub expected: usize,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
}

impl Stats {
    fn push(&mut self, x: f64) {
        if self.count == 0 {
            (self.min, self.max) = (x, x);
        }
        self.count += 1;
        self.sum += x;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
    }

    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }

    /// `mean [min, max]` to 3 significant digits, the mean alone for one value, `-` for none.
    pub fn cell(&self) -> String {
        match self.mean() {
            None => "-".into(),
            Some(m) if self.count == 1 => sig(m, 3),
            Some(m) => format!("{} [{}, {}]", sig(m, 3), sig(self.min, 3), sig(self.max, 3)),
        }
    }
}

/// A JSON axis value as a short label (`1e-5`, `1000`, `"sparse"` without quotes).
pub fn label(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            if x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e6) { format!("{x:e}") } else { format!("{x}") }
        }
        other => other.to_string(),
    }
}
