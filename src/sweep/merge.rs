//! Merging a sweep folder: `sweep.jsonl` (cells in order, timing dropped), `sweep.md` (tables with
//! Adam's stage-I ratio where the cells have it, and the gap check) and SVG figures (heat maps over
//! two axes, or curves along one). The gap check is claim 12's checks on the test errors
//! (`theorems/12-gap-opens-with-d.toml`, [`crate::claims::commands::gap`]).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::folder::{Merged, RunQuantity, label};
use super::run::remove_stale_temp_files;
use crate::claims::commands;
use crate::error::{Error, Result};
use crate::format::sig;
use crate::verdict::Verdict;

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
}

/// What a merge found and wrote.
#[derive(Clone, Debug, Default)]
pub struct MergeOutcome {
    /// Cells without a result for this grid (absent, or written by another grid).
    pub missing: Vec<String>,
    /// `(id, grid hash)` of the missing cells whose file another grid wrote.
    pub foreign: Vec<(String, String)>,
    pub cells: usize,
    /// Files written (none when cells are missing and `allow_missing` is off).
    pub written: Vec<PathBuf>,
    /// The gap check's lines (empty without the runs its checks read, Adam and GD).
    pub gap: Vec<String>,
    /// The gap check's verdict at the largest `x` (`None`: no check).
    pub gap_verdict: Option<Verdict>,
}

/// The quantities tabulated, per optimizer.
pub const QUANTITIES: &[RunQuantity] = &[
    RunQuantity { key: "test_error", label: "test error", get: |r| Some(r.test_error) },
    RunQuantity { key: "train_error", label: "train error", get: |r| Some(r.train_error) },
    RunQuantity { key: "feature_max", label: "max gamma", get: |r| Some(r.feature_max) },
    RunQuantity { key: "noise_min_max", label: "min_i max_r rho", get: |r| Some(r.noise_min_max) },
];

/// Adam's stage-I growth in a cell (`runs.<opt>.stage_one`, [`super::run::run_cell`]): columns
/// shown for the optimizers that have it.
pub const STAGE_ONE: &[RunQuantity] = &[
    RunQuantity {
        key: "stage_one.growth_ratio",
        label: "stage-I ratio",
        get: |r| r.stage_one.as_ref().and_then(Option::as_ref).and_then(|s| s.growth_ratio),
    },
    RunQuantity {
        key: "stage_one.predicted_ratio",
        label: "predicted s sigma_p sqrt(2/pi)",
        get: |r| r.stage_one.as_ref().and_then(Option::as_ref).map(|s| s.predicted_ratio),
    },
];

/// Merges `dir`: see the module docs.
pub fn merge(dir: &Path, opts: &MergeOptions) -> Result<MergeOutcome> {
    let m = Merged::read(dir)?;
    remove_stale_temp_files(dir);
    let mut out = MergeOutcome {
        missing: m.cells.iter().filter(|c| c.2.is_none()).map(|c| c.0.clone()).collect(),
        foreign: m.foreign.clone(),
        cells: m.cells.len(),
        ..Default::default()
    };
    let plot_axis = |given: &Option<String>, key: &str, skip: Option<usize>| -> Result<Option<usize>> {
        let planned = if key == "x" { &m.manifest.plot.x } else { &m.manifest.plot.y };
        if let Some(k) = given.as_ref().or(planned.as_ref()) {
            return m.axis_index(k).map(Some);
        }
        Ok(m.axes.iter().enumerate().position(|(i, (k, v))| k != "seed" && v.len() > 1 && Some(i) != skip))
    };
    let x = plot_axis(&opts.x, "x", None)?;
    let y = if opts.x.is_some() && opts.y.is_none() { None } else { plot_axis(&opts.y, "y", x)? };
    if y.is_some() && y == x {
        return Err(Error::invalid("--y", m.axes[x.unwrap_or(0)].0.as_str(), "an axis other than --x"));
    }
    gap_check(&m, x, &mut out);
    if !out.missing.is_empty() && !opts.allow_missing {
        return Ok(out);
    }
    let mut jsonl = String::new();
    for (_, _, r) in &m.cells {
        if let Some(v) = r {
            jsonl.push_str(&serde_json::to_string(&crate::results::to_json(v)).expect("JSON of plain data"));
            jsonl.push('\n');
        }
    }
    let mut files: Vec<(PathBuf, Vec<u8>)> =
        vec![(dir.join("sweep.jsonl"), jsonl.into_bytes()), (dir.join("sweep.md"), markdown(&m, x, &out).into_bytes())];
    if let Some(xi) = x {
        files.extend(super::plot::figures(&m, xi, y, dir)?);
    }
    // Every output checked before the first is written: a symbolic link, a FIFO or a device among
    // them leaves all of them untouched.
    for (path, _) in &files {
        crate::outdir::check_file_target(path)?;
    }
    for (path, bytes) in files {
        crate::outdir::write_file(&path, &bytes)?;
        out.written.push(path);
    }
    Ok(out)
}

/// The gap check at every value of axis `xi` (over all cells when there is no such axis): claim
/// 12's checks on Adam's and GD's test error ([`commands::gap_checks`]), each read at the group's
/// worst cell, by the one verdict rule ([`commands::gap`]); the verdict at the largest value.
fn gap_check(m: &Merged, xi: Option<usize>, out: &mut MergeOutcome) {
    let checks = commands::gap_checks();
    if !checks.iter().all(|c| m.optimizers.iter().any(|k| k == commands::gap_run(c))) {
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
        let members: Vec<_> =
            m.cells.iter().filter(|(_, coords, _)| fixed.iter().all(|&(a, v)| coords[a] == v)).collect();
        let present: Vec<&crate::results::Cell> = members.iter().filter_map(|(_, _, r)| r.as_ref()).collect();
        let (outcomes, verdict) = commands::gap(&checks, &present, members.len());
        let count = present.iter().filter(|c| checks.iter().all(|k| c.runs.contains_key(commands::gap_run(k)))).count();
        let sides: Vec<String> = checks
            .iter()
            .zip(&outcomes)
            .map(|(c, o)| {
                let run = commands::gap_run(c);
                let who = match run {
                    "adam" => "Adam".to_string(),
                    "gd" => "GD".to_string(),
                    other => other.to_string(),
                };
                let worst = if matches!(c.op, crate::claims::theorem::Op::Ge | crate::claims::theorem::Op::Gt) {
                    "min"
                } else {
                    "max"
                };
                let value = c.value.map_or(String::new(), |v| format!("{v}"));
                format!(
                    "{who} test error {worst} {} ({} {value})",
                    o.lhs.map_or("-".into(), |v| sig(v, 3)),
                    c.op.symbol()
                )
            })
            .collect();
        out.gap.push(format!(
            "{name}: {} over {count} cells: {}",
            sides.join(", "),
            match &verdict {
                Verdict::Holds => "gap holds".to_string(),
                Verdict::Fails => "gap does not hold".to_string(),
                Verdict::Inconclusive(why) => format!("inconclusive ({why})"),
            }
        ));
        if i == last {
            out.gap_verdict = Some(verdict);
        }
    }
}

fn markdown(m: &Merged, x: Option<usize>, out: &MergeOutcome) -> String {
    let mf = &m.manifest;
    let mut s = String::from("# adamgap sweep\n\n");
    if !mf.description.is_empty() {
        let _ = writeln!(s, "{}\n", mf.description.trim());
    }
    let _ = writeln!(s, "- grid hash: `{}`; base: `{}`", mf.grid_hash, mf.base);
    for (k, v) in &m.axes {
        let _ = writeln!(s, "- axis `{k}`: {}", v.iter().map(label).collect::<Vec<_>>().join(", "));
    }
    for (key, expr) in &mf.derived {
        let _ = writeln!(s, "- derived `{key}` = `{expr}`");
    }
    let _ = writeln!(s, "- cells: {} of {} present", out.cells - out.missing.len(), out.cells);
    if !out.missing.is_empty() {
        let _ = writeln!(s, "- **missing cells**: {}", out.missing.join(", "));
    }
    if !out.foreign.is_empty() {
        let list: Vec<String> = out.foreign.iter().map(|(id, hash)| format!("{id} (grid {hash})")).collect();
        let _ = writeln!(s, "- of those, written by another grid: {}", list.join(", "));
    }
    if !out.gap.is_empty() {
        s.push_str("\n## Gap check\n\n");
        for l in &out.gap {
            let _ = writeln!(s, "- {l}");
        }
        let _ = writeln!(
            s,
            "\nAt the largest value: {}.",
            match &out.gap_verdict {
                Some(Verdict::Holds) => "the gap holds in every cell".to_string(),
                Some(Verdict::Fails) => "the gap does not hold in every cell".to_string(),
                Some(Verdict::Inconclusive(why)) => format!("inconclusive ({why})"),
                None => "no gap check".to_string(),
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
        for q in QUANTITIES {
            head.push(format!("{o} {}", q.label));
        }
    }
    let staged: Vec<&String> =
        m.optimizers.iter().filter(|o| (0..m.cells.len()).any(|c| m.value(c, o, &STAGE_ONE[0]).is_some())).collect();
    for o in &staged {
        for q in STAGE_ONE {
            head.push(format!("{o} {}", q.label));
        }
    }
    let _ = writeln!(s, "| {} |\n|{}", head.join(" | "), "---|".repeat(head.len()));
    for row in rows {
        let mut cols: Vec<String> = row.iter().map(|&(a, v)| label(&m.axes[a].1[v])).collect();
        for o in &m.optimizers {
            for q in QUANTITIES {
                cols.push(m.stats(row, o, q).cell());
            }
        }
        for o in &staged {
            for q in STAGE_ONE {
                cols.push(m.stats(row, o, q).cell());
            }
        }
        let _ = writeln!(s, "| {} |", cols.join(" | "));
    }
}
