//! The command line: argument parsing, progress bars and printing only; every command's work is
//! a library function (`adamgap::app` for `run`, the library modules each file names).
//!
//! `adamgap` with no subcommand is `adamgap run`, the headline experiment.

use clap::{Parser, Subcommand};

use std::sync::OnceLock;

use adamgap::app::run::{Progress, RunArgs, RunOutput};
use adamgap::error::Error;
use adamgap::setting::Setting;

pub mod check;
pub mod convex;
pub mod output;
pub mod precision;
pub mod sweep;

use output::CliResult;

/// adamgap: a proof companion for Zou, Cao, Li, Gu, "Understanding the Generalization of Adam in
/// Learning Neural Networks with Proper Regularization" (ICLR 2023).
#[derive(Debug, Parser)]
#[command(name = "adamgap", version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Arguments of `run` when no subcommand is given.
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The headline experiment: GD and Adam from one initialization on the paper's data (default).
    Run(RunArgs),
    /// The convex case: certify that every optimizer reaches the one regularized minimizer.
    Convex(adamgap::app::convex::ConvexArgs),
    /// Check the paper's claims in theorems/*.toml and print one verdict per claim.
    Check(check::CheckArgs),
    /// Run a grid of settings (sharded, resumable; Slurm array jobs) and merge it: `sweep GRID.toml
    /// --out DIR`, `sweep --preset NAME --out DIR`, `sweep merge DIR`.
    Sweep(sweep::SweepArgs),
    /// The precision audit: f64 against double-double and one-ulp twins of W^(0), parting steps,
    /// growth of the distance, and whether every headline verdict survives.
    Precision(precision::PrecisionArgs),
}

/// `adamgap run`: trains every optimizer from one initialization and prints the report.
pub fn run(args: &RunArgs) -> CliResult<i32> {
    // No bars for --json or --quiet.
    let bars = Bars { hidden: args.quiet || args.json, bars: OnceLock::new() };
    let out = adamgap::app::run::run(args, &bars);
    for b in bars.bars.get().into_iter().flatten() {
        b.finish_and_clear();
    }
    match out? {
        RunOutput::Json(v) => output::json(&v)?,
        RunOutput::Text(t) => output::stdout(&t)?,
    }
    Ok(0)
}

/// One progress bar per optimizer on stderr, made once the setting is known.
struct Bars {
    hidden: bool,
    bars: OnceLock<Vec<indicatif::ProgressBar>>,
}

impl Progress for Bars {
    fn begin(&self, setting: &Setting) {
        let _ = self.bars.set(progress_bars(setting, self.hidden));
    }
    fn step(&self, k: usize, t: usize) {
        if let Some(b) = self.bars.get().and_then(|b| b.get(k)) {
            b.set_position(t as u64);
        }
    }
}

/// One progress bar per optimizer on stderr (hidden when `hidden` or stderr is not a terminal).
fn progress_bars(setting: &Setting, hidden: bool) -> Vec<indicatif::ProgressBar> {
    use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
    let multi = MultiProgress::with_draw_target(if hidden {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    });
    let style = ProgressStyle::with_template("{prefix:>8} [{bar:40}] {pos}/{len} steps {elapsed}")
        .expect("valid template")
        .progress_chars("=> ");
    setting
        .optimizers
        .iter()
        .map(|o| {
            let b = multi.add(ProgressBar::new(setting.train.steps as u64));
            b.set_style(style.clone());
            b.set_prefix(o.key());
            b
        })
        .collect()
}

/// Runs `command` in the command's one thread pool of `threads` threads (`--threads`): every
/// parallel pass of the library runs on it, none builds its own.
fn in_pool(threads: usize, command: impl FnOnce() -> CliResult<i32> + Send) -> CliResult<i32> {
    let max = adamgap::parallel::MAX_THREADS;
    if !(1..=max).contains(&threads) {
        return Err(Error::invalid("--threads", threads, format!("1..={max}")).into());
    }
    adamgap::parallel::pool(threads)?.install(command)
}

/// Parses the command line and runs it; returns the process exit code (errors print `error: ...`
/// to stderr and give 2).
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return output::clap_exit(&e),
    };
    let threads = match &cli.command {
        None => cli.run.threads.threads,
        Some(Command::Run(a)) => a.threads.threads,
        Some(Command::Convex(a)) => a.threads.threads,
        Some(Command::Check(a)) => a.threads.threads,
        Some(Command::Sweep(a)) => a.threads(),
        Some(Command::Precision(a)) => a.threads.threads,
    };
    let result = in_pool(threads, || match &cli.command {
        None => run(&cli.run),
        Some(Command::Run(a)) => run(a),
        Some(Command::Convex(a)) => convex::main(a),
        Some(Command::Check(a)) => check::main(a),
        Some(Command::Sweep(a)) => sweep::main(a),
        Some(Command::Precision(a)) => precision::main(a),
    });
    match result {
        Ok(code) => code,
        Err(failure) => output::exit_code(failure),
    }
}
