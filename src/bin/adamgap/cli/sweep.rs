//! `adamgap sweep`: run a grid of settings (sharded, resumable) and `adamgap sweep merge`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use adamgap::error::Error;

use adamgap::app::flags::{MemoryArg, ThreadsArg};

use super::output::{CliResult, stderr, stdout};
use adamgap::sweep::{self, Grid, merge, run};

/// Arguments of `adamgap sweep` (see docs/cluster.md).
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SweepArgs {
    #[command(subcommand)]
    pub command: Option<SweepCommand>,
    #[command(flatten)]
    pub run: SweepRunArgs,
}

#[derive(Debug, Subcommand)]
pub enum SweepCommand {
    /// Merge a sweep folder: DIR/sweep.jsonl (cells in order), DIR/sweep.md and SVG figures;
    /// exit 1 if cells are missing (unless --allow-missing).
    Merge(MergeArgs),
}

/// Running a grid.
#[derive(Debug, Args)]
pub struct SweepRunArgs {
    /// The grid file (TOML: base, [fixed], [axes], [derived], [plot]; see docs/cluster.md).
    #[arg(value_name = "GRID.toml", required_unless_present = "preset", conflicts_with = "preset")]
    pub grid: Option<PathBuf>,
    /// A preset grid from sweeps/: phase-lambda-alpha, path-d, seeds.
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,
    /// The sweep folder (grid.json, results/<cell>.json).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Run every N-th cell starting at K (0 <= K < N). Default: from SLURM_ARRAY_TASK_ID and
    /// SLURM_ARRAY_TASK_COUNT in a Slurm array job, else all cells.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    // --threads: cells run side by side.
    #[command(flatten)]
    pub threads: ThreadsArg,
    /// No line per finished cell on stderr.
    #[arg(long)]
    pub quiet: bool,
    /// Only expand and validate the grid, print its cells, run nothing.
    #[arg(long)]
    pub dry_run: bool,
    // --max-memory: the estimate is of the largest cell times the cells running side by side.
    #[command(flatten)]
    pub memory: MemoryArg,
}

/// Merging a sweep folder.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The sweep folder.
    pub dir: PathBuf,
    /// Write the outputs even if cells are missing (listed in sweep.md); exit 0.
    #[arg(long)]
    pub allow_missing: bool,
    /// Horizontal axis of the figures (default: the grid's [plot] x, else its first axis other than seed).
    #[arg(long, value_name = "KEY")]
    pub x: Option<String>,
    /// Vertical axis of the heat maps (default: [plot] y, else the next axis other than seed; with
    /// --x alone, or no such axis: curves along x).
    #[arg(long, value_name = "KEY")]
    pub y: Option<String>,
}

impl SweepArgs {
    /// The size of the command's thread pool.
    pub fn threads(&self) -> usize {
        match &self.command {
            Some(SweepCommand::Merge(_)) => 1,
            None => self.run.threads.threads,
        }
    }
}

pub fn main(args: &SweepArgs) -> CliResult<i32> {
    match &args.command {
        Some(SweepCommand::Merge(m)) => merge_main(m),
        None => run_main(&args.run),
    }
}

fn run_main(a: &SweepRunArgs) -> CliResult<i32> {
    let grid = match (&a.grid, &a.preset) {
        (Some(path), _) => Grid::from_file(path)?,
        (None, Some(name)) => sweep::preset(name)?,
        (None, None) => return Err(Error::invalid("GRID.toml", "none", "a grid file or --preset NAME").into()),
    };
    if a.dry_run {
        let mut text = format!("grid {}: {} cells\n", grid.hash, grid.cells.len());
        for c in &grid.cells {
            text += &format!("{} {}\n", c.id, serde_json::Value::Object(grid.axis_values(c)));
        }
        stdout(&text)?;
        return Ok(0);
    }
    let dir =
        a.out.as_ref().ok_or_else(|| Error::invalid("--out", "none", "the sweep folder, e.g. --out runs/my-sweep"))?;
    let shard = match &a.shard {
        Some(s) => run::Shard::parse(s, "--shard")?,
        None => run::Shard::from_slurm(&|k| std::env::var(k).ok())?.unwrap_or(run::Shard::ALL),
    };
    let fail_after = match std::env::var("ADAMGAP_SWEEP_FAIL_AFTER") {
        Ok(v) => {
            Some(v.parse::<usize>().map_err(|_| Error::invalid("ADAMGAP_SWEEP_FAIL_AFTER", &v, "a whole number"))?)
        }
        Err(_) => None,
    };
    // The largest cell, times the cells that run side by side.
    let in_shard = grid.cells.iter().filter(|c| shard.has(c.index)).count();
    let side = a.threads.threads.min(in_shard).max(1) as u128;
    if let Some(big) = grid.cells.iter().max_by_key(|c| adamgap::memory::of_setting(&c.setting).bytes()) {
        let mut e = adamgap::memory::Estimate::default();
        for (what, bytes) in adamgap::memory::of_setting(&big.setting).parts {
            e.add(format!("{side} cells side by side like {}: {what}", big.id), side * bytes);
        }
        a.memory.check(&e)?;
    }
    let opts = run::RunOptions { shard, fail_after };
    let start = std::time::Instant::now();
    let quiet = a.quiet;
    let s = run::run(&grid, dir, &opts, &|id, secs, done, total| {
        if !quiet {
            // A progress line that cannot be written is not worth stopping the sweep for.
            let _ = stderr(&format!("[sweep] {id} done in {secs:.1} s ({done}/{total})\n"));
        }
    })?;
    stdout(&format!(
        "sweep {}: grid {}, {} cells; shard {}/{}: {} cells, ran {}, skipped {} (done), {} stale recomputed; {:.1} s\n",
        dir.display(),
        grid.hash,
        grid.cells.len(),
        shard.k,
        shard.n,
        s.in_shard,
        s.ran.len(),
        s.skipped,
        s.stale,
        start.elapsed().as_secs_f64()
    ))?;
    stdout(&format!("ran: {}\n", if s.ran.is_empty() { "-".to_string() } else { s.ran.join(" ") }))?;
    Ok(0)
}

fn merge_main(a: &MergeArgs) -> CliResult<i32> {
    let opts = merge::MergeOptions { allow_missing: a.allow_missing, x: a.x.clone(), y: a.y.clone() };
    let out = merge::merge(&a.dir, &opts)?;
    let mut text = String::new();
    for l in &out.gap {
        text += &format!("gap check: {l}\n");
    }
    stdout(&text)?;
    if !out.missing.is_empty() {
        stderr(&format!("missing cells ({} of {}): {}\n", out.missing.len(), out.cells, out.missing.join(", ")))?;
        for (id, hash) in &out.foreign {
            stderr(&format!("  cell {id}: its file was written by another grid ({hash}), not this one\n"))?;
        }
        if !a.allow_missing {
            stderr("nothing written; run the missing cells or pass --allow-missing\n")?;
            return Ok(1);
        }
    }
    let mut text = format!("merged {} of {} cells:\n", out.cells - out.missing.len(), out.cells);
    for p in &out.written {
        text += &format!("  {}\n", p.display());
    }
    stdout(&text)?;
    Ok(0)
}
