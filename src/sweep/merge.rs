//! Merging a sweep folder: `sweep.jsonl` (cells in order, timing dropped), `sweep.md` (tables with
//! Adam's stage-I ratio where the cells have it, and the gap check) and SVG figures (heat maps over two axes, or curves along one).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::run::{cell_path, remove_stale_temp_files};
use crate::error::{Error, Result};
use crate::format::sig;

/// What to merge and plot.
#[derive(Clone, Debug, Default)]
pub struct MergeOptions {
    /// Write the outputs even when cells are missing (they are listed in `sweep.md`).
    pub allow_missing: bool,
    /// Horizontal axis of the figures (default: the grid's `[plot] x`, else its first axis with
    /// more than one value other than `seed`).
    pub x: Option<String>,
    /// Vertical axis of the heat maps (default: `[plot] y`, else the next such axis; none: curves).
    pub y: Option<String>,
    /// Gap check at the largest `x` (over all cells without an `x`): Adam's test error at least
    /// this in every cell ...
    pub adam_min: f64,
    /// ... and GD's at most this.
    pub gd_max: f64,
}

/// What a merge found and wrote.
#[derive(Clone, Debug, Default)]
pub struct MergeOutcome {
    /// Cells without a result for this grid (absent, or written by another grid).
    pub missing: Vec<String>,
    pub cells: usize,
    /// Files written (none when cells are missing and `allow_missing` is off).
    pub written: Vec<PathBuf>,
    /// The gap check's lines (empty without both Adam and GD).
    pub gap: Vec<String>,
    /// Whether the gap check holds at the largest `x` (`None`: no check, or cells missing there).
    pub gap_holds: Option<bool>,
}

/// The quantities tabulated and plotted, per optimizer: `(JSON key, label)`.
pub const QUANTITIES: &[(&str, &str)] = &[
    ("test_error", "test error"),
    ("train_error", "train error"),
    ("feature_max", "max gamma"),
    ("noise_min_max", "min_i max_r rho"),
];

/// Adam's stage-I growth in a cell (`runs.<opt>.stage_one`, [`super::run::run_cell`]): columns
/// shown for the optimizers that have it, `(key path, label)`.
pub const STAGE_ONE: &[(&str, &str)] =
    &[("stage_one.growth_ratio", "stage-I ratio"), ("stage_one.predicted_ratio", "predicted s sigma_p sqrt(2/pi)")];

/// The merged data: the manifest's axes and cells, and each cell's result (timing dropped).
pub struct Merged {
    pub manifest: Value,
    pub axes: Vec<(String, Vec<Value>)>,
    /// `(id, axis value indices, result)`, in cell order.
    pub cells: Vec<(String, Vec<usize>, Option<Value>)>,
    pub optimizers: Vec<String>,
}

impl Merged {
    /// Reads `DIR/grid.json` and every `DIR/results/<id>.json` of this grid.
    pub fn read(dir: &Path) -> Result<Self> {
        let mpath = dir.join("grid.json");
        let text = std::fs::read_to_string(&mpath)
            .map_err(|e| Error::io(&mpath, format!("{e} (not a sweep folder? `adamgap sweep` writes it)")))?;
        let manifest: Value = serde_json::from_str(&text).map_err(|e| Error::io(&mpath, e))?;
        let hash = manifest["grid_hash"].as_str().unwrap_or_default().to_string();
        let axes: Vec<(String, Vec<Value>)> = manifest["axes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| {
                (a["key"].as_str().unwrap_or_default().to_string(), a["values"].as_array().cloned().unwrap_or_default())
            })
            .collect();
        let mut cells = Vec::new();
        let mut optimizers: Vec<String> = Vec::new();
        for c in manifest["cells"].as_array().into_iter().flatten() {
            let id = c["id"].as_str().unwrap_or_default().to_string();
            let coords =
                axes.iter().map(|(k, vals)| vals.iter().position(|v| *v == c["axes"][k]).unwrap_or(0)).collect();
            let result = std::fs::read_to_string(cell_path(dir, &id))
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(t.trim_end()).ok())
                .filter(|v| v["grid_hash"] == hash.as_str())
                .map(|mut v| {
                    v.as_object_mut().expect("a cell is an object").remove("timing");
                    v
                });
            if let Some(r) = &result {
                for k in r["runs"].as_object().into_iter().flatten().map(|(k, _)| k) {
                    if !optimizers.contains(k) {
                        optimizers.push(k.clone());
                    }
                }
            }
            cells.push((id, coords, result));
        }
        Ok(Merged { manifest, axes, cells, optimizers })
    }

    /// A run quantity of a cell (`None` if the cell is missing or the value is not a number); a
    /// dotted key reaches into an object (`stage_one.growth_ratio`).
    pub fn value(&self, cell: usize, opt: &str, key: &str) -> Option<f64> {
        let run = &self.cells[cell].2.as_ref()?["runs"][opt];
        key.split('.').fold(run, |v, k| &v[k]).as_f64()
    }

    fn axis_index(&self, key: &str) -> Result<usize> {
        self.axes.iter().position(|(k, _)| k == key).ok_or_else(|| {
            let keys: Vec<&str> = self.axes.iter().map(|(k, _)| k.as_str()).collect();
            Error::invalid("--x/--y", key, format!("an axis of this grid: {}", keys.join(", ")))
        })
    }

    /// Mean, min and max of a quantity over the cells at `coords` (`None` entries free), with
    /// the number of cells that had a value and the number expected.
    pub fn stats(&self, fixed: &[(usize, usize)], opt: &str, key: &str) -> Stats {
        let mut s = Stats::default();
        for (i, (_, coords, _)) in self.cells.iter().enumerate() {
            if fixed.iter().all(|&(a, v)| coords[a] == v) {
                s.expected += 1;
                if let Some(x) = self.value(i, opt, key) {
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

    fn cell(&self) -> String {
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

/// Merges `dir`: see the module docs.
pub fn merge(dir: &Path, opts: &MergeOptions) -> Result<MergeOutcome> {
    let m = Merged::read(dir)?;
    remove_stale_temp_files(dir);
    let mut out = MergeOutcome {
        missing: m.cells.iter().filter(|c| c.2.is_none()).map(|c| c.0.clone()).collect(),
        cells: m.cells.len(),
        ..Default::default()
    };
    let plot_axis = |given: &Option<String>, key: &str, skip: Option<usize>| -> Result<Option<usize>> {
        if let Some(k) = given.as_ref().or(m.manifest["plot"][key].as_str().map(String::from).as_ref()) {
            return m.axis_index(k).map(Some);
        }
        Ok(m.axes.iter().enumerate().position(|(i, (k, v))| k != "seed" && v.len() > 1 && Some(i) != skip))
    };
    let x = plot_axis(&opts.x, "x", None)?;
    let y = if opts.x.is_some() && opts.y.is_none() { None } else { plot_axis(&opts.y, "y", x)? };
    if y.is_some() && y == x {
        return Err(Error::invalid("--y", m.axes[x.unwrap_or(0)].0.as_str(), "an axis other than --x"));
    }
    gap_check(&m, x, opts, &mut out);
    if !out.missing.is_empty() && !opts.allow_missing {
        return Ok(out);
    }
    let mut jsonl = String::new();
    for (_, _, r) in &m.cells {
        if let Some(v) = r {
            jsonl.push_str(&serde_json::to_string(v).expect("JSON of plain data"));
            jsonl.push('\n');
        }
    }
    let mut files: Vec<(PathBuf, Vec<u8>)> =
        vec![(dir.join("sweep.jsonl"), jsonl.into_bytes()), (dir.join("sweep.md"), markdown(&m, x, &out).into_bytes())];
    if let Some(xi) = x {
        files.extend(super::plot::figures(&m, xi, y, dir)?);
    }
    for (path, bytes) in files {
        crate::outdir::write_file(&path, &bytes)?;
        out.written.push(path);
    }
    Ok(out)
}

/// Adam's smallest and GD's largest test error at every value of axis `xi` (over all cells when
/// there is no such axis), and the verdict at the largest value.
fn gap_check(m: &Merged, xi: Option<usize>, opts: &MergeOptions, out: &mut MergeOutcome) {
    let has = |o: &str| m.optimizers.iter().any(|k| k == o);
    if !has("adam") || !has("gd") {
        return;
    }
    let groups: Vec<(String, Vec<(usize, usize)>)> = match xi {
        Some(xi) => {
            let (key, values) = &m.axes[xi];
            values.iter().enumerate().map(|(v, value)| (format!("{key} = {}", label(value)), vec![(xi, v)])).collect()
        }
        None => vec![("all cells".to_string(), vec![])],
    };
    let last = groups.len() - 1;
    for (i, (name, fixed)) in groups.into_iter().enumerate() {
        let a = m.stats(&fixed, "adam", "test_error");
        let g = m.stats(&fixed, "gd", "test_error");
        let complete = a.count == a.expected && g.count == g.expected && a.count > 0;
        let holds = complete.then_some(a.min >= opts.adam_min && g.max <= opts.gd_max);
        out.gap.push(format!(
            "{name}: Adam test error min {} (>= {}), GD test error max {} (<= {}) over {} cells: {}",
            a.mean().map_or("-".into(), |_| sig(a.min, 3)),
            opts.adam_min,
            g.mean().map_or("-".into(), |_| sig(g.max, 3)),
            opts.gd_max,
            a.count,
            match holds {
                Some(true) => "gap holds".to_string(),
                Some(false) => "gap does not hold".to_string(),
                None => format!("inconclusive ({} of {} cells missing)", a.expected - a.count.min(g.count), a.expected),
            }
        ));
        if i == last {
            out.gap_holds = holds;
        }
    }
}

fn markdown(m: &Merged, x: Option<usize>, out: &MergeOutcome) -> String {
    let mf = &m.manifest;
    let mut s = String::from("# adamgap sweep\n\n");
    if let Some(d) = mf["description"].as_str().filter(|d| !d.is_empty()) {
        let _ = writeln!(s, "{}\n", d.trim());
    }
    let _ = writeln!(
        s,
        "- grid hash: `{}`; base: `{}`",
        mf["grid_hash"].as_str().unwrap_or(""),
        mf["base"].as_str().unwrap_or("")
    );
    for (k, v) in &m.axes {
        let _ = writeln!(s, "- axis `{k}`: {}", v.iter().map(label).collect::<Vec<_>>().join(", "));
    }
    for d in mf["derived"].as_array().into_iter().flatten() {
        let _ = writeln!(s, "- derived `{}` = `{}`", d[0].as_str().unwrap_or(""), d[1].as_str().unwrap_or(""));
    }
    let _ = writeln!(s, "- cells: {} of {} present", out.cells - out.missing.len(), out.cells);
    if !out.missing.is_empty() {
        let _ = writeln!(s, "- **missing cells**: {}", out.missing.join(", "));
    }
    if !out.gap.is_empty() {
        s.push_str("\n## Gap check\n\n");
        for l in &out.gap {
            let _ = writeln!(s, "- {l}");
        }
        let _ = writeln!(
            s,
            "\nAt the largest value: {}.",
            match out.gap_holds {
                Some(true) => "the gap holds in every cell",
                Some(false) => "the gap does not hold in every cell",
                None => "inconclusive (cells missing)",
            }
        );
    }
    // Mean over the seeds (and over every axis not shown) per value of the other axes.
    let shown: Vec<usize> = (0..m.axes.len()).filter(|&i| m.axes[i].0 != "seed" || Some(i) == x).collect();
    if shown.len() < m.axes.len() {
        s.push_str("\n## Mean over seeds [min, max]\n\n");
        table(&mut s, m, &shown, &combos(m, &shown));
    }
    s.push_str("\n## Every cell\n\n");
    let all: Vec<usize> = (0..m.axes.len()).collect();
    table(&mut s, m, &all, &combos(m, &all));
    s
}

/// Every combination of values of the axes `shown`, in cell order.
fn combos(m: &Merged, shown: &[usize]) -> Vec<Vec<(usize, usize)>> {
    let mut seen: Vec<Vec<(usize, usize)>> = Vec::new();
    for (_, coords, _) in &m.cells {
        let key: Vec<(usize, usize)> = shown.iter().map(|&a| (a, coords[a])).collect();
        if !seen.contains(&key) {
            seen.push(key);
        }
    }
    seen
}

fn table(s: &mut String, m: &Merged, shown: &[usize], rows: &[Vec<(usize, usize)>]) {
    let mut head: Vec<String> = shown.iter().map(|&a| format!("`{}`", m.axes[a].0)).collect();
    for o in &m.optimizers {
        for (_, l) in QUANTITIES {
            head.push(format!("{o} {l}"));
        }
    }
    let staged: Vec<&String> =
        m.optimizers.iter().filter(|o| (0..m.cells.len()).any(|c| m.value(c, o, STAGE_ONE[0].0).is_some())).collect();
    for o in &staged {
        for (_, l) in STAGE_ONE {
            head.push(format!("{o} {l}"));
        }
    }
    let _ = writeln!(s, "| {} |\n|{}", head.join(" | "), "---|".repeat(head.len()));
    for row in rows {
        let mut cols: Vec<String> = row.iter().map(|&(a, v)| label(&m.axes[a].1[v])).collect();
        for o in &m.optimizers {
            for (k, _) in QUANTITIES {
                cols.push(m.stats(row, o, k).cell());
            }
        }
        for o in &staged {
            for (k, _) in STAGE_ONE {
                cols.push(m.stats(row, o, k).cell());
            }
        }
        let _ = writeln!(s, "| {} |", cols.join(" | "));
    }
}
