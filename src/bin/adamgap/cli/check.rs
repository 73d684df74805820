//! `adamgap check [FILES...]`: checks the paper's claims in `theorems/*.toml` and prints one verdict
//! per claim. Exit code 0 when every verdict is the expected one (a pending claim may differ), 1
//! when some verdict differs from its expected one, 2 on an unreadable or invalid theorem file
//! (the error names the file and the field).

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use adamgap::claims::theorem::files_in;
use adamgap::claims::{Checker, Scale, Status};
use adamgap::error::Error;

use super::output::{self, CliResult, json, stdout};

/// Which setting of each theorem file to run.
#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum ScaleArg {
    /// `[setting]`, the paper-scale setting.
    #[default]
    Full,
    /// `[setting]` with the `[test.setting]` overrides (the snapshot test's reduced scale).
    Test,
}

/// Arguments of `adamgap check`.
#[derive(Debug, Args, Clone, Default)]
pub struct CheckArgs {
    /// Theorem files (default: every `*.toml` of the --theorems folder, sorted).
    #[arg(value_name = "FILES")]
    pub files: Vec<PathBuf>,
    /// The folder of theorem files to check when no FILES are given [default: ./theorems].
    #[arg(long, value_name = "DIR")]
    pub theorems: Option<PathBuf>,
    /// Print the reports as JSON (`{"claims": [...]}`, one object per claim) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Print each claim's full summary (setting, tracked quantities, checks, orderings).
    #[arg(long, short)]
    pub verbose: bool,
    /// Which setting to run: full (the paper's) or test (the reduced one of tests/claims.rs).
    #[arg(long, value_enum, default_value_t = ScaleArg::Full)]
    pub scale: ScaleArg,
    #[command(flatten)]
    pub threads: adamgap::app::flags::ThreadsArg,
    // --max-memory: each claim's estimate (every seed's data and runs are kept until measured) is
    // checked before its file's preflight draws anything.
    #[command(flatten)]
    pub memory: adamgap::app::flags::MemoryArg,
    /// No progress lines on stderr.
    #[arg(long)]
    pub quiet: bool,
    /// Also write a report folder: report.md (every claim's summary) and one figure per claim,
    /// `claim-<id>.svg` (tracked quantities against the step, thresholds dashed). Written
    /// atomically; the path is checked before any work.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Path claims (`kind = "path"`) read their cells from this merged sweep folder of their whole
    /// preset grid (`adamgap sweep --preset path-d --out DIR`, then `adamgap sweep merge DIR`)
    /// instead of running their shorter `[path.check]` grid. A folder of another grid is refused.
    #[arg(long, value_name = "DIR")]
    pub path_results: Option<PathBuf>,
    /// Where claims on Fashion-MNIST (`dataset` in their theorem file) read its IDX files
    /// [default: /usr/share/datasets/fashion-mnist, the Debian package dataset-fashion-mnist].
    #[arg(long, value_name = "DIR")]
    pub dataset_dir: Option<PathBuf>,
}

/// Runs `adamgap check`.
pub fn main(args: &CheckArgs) -> CliResult<i32> {
    if let Some(dir) = &args.report {
        adamgap::outdir::check_target(dir, &adamgap::report_folder::claims_owned)?;
    }
    if !args.files.is_empty() && args.theorems.is_some() {
        return Err(Error::invalid("--theorems", "given with FILES", "either FILES or --theorems DIR, not both").into());
    }
    let files = if args.files.is_empty() {
        let dir = args.theorems.clone().unwrap_or_else(|| PathBuf::from("theorems"));
        if !dir.is_dir() {
            let allowed = match (&args.theorems, dir.exists()) {
                (Some(_), true) => "a folder of theorem files, not a file (pass a theorem file as FILES instead)",
                (Some(_), false) => "a folder of theorem files (this path does not exist)",
                (None, _) => {
                    "a folder of theorem files (the default ./theorems does not exist here: run from the crate's root or pass --theorems DIR)"
                }
            };
            return Err(Error::invalid("--theorems", dir.display(), allowed).into());
        }
        if !args.quiet && !args.json {
            // Best effort, like the progress lines.
            let _ = output::stderr(&format!("reading theorem files from {}\n", dir.display()));
        }
        let files = files_in(&dir).map_err(|e| e.given_by("--theorems"))?;
        if files.is_empty() {
            return Err(
                Error::invalid("--theorems", dir.display(), "a folder with at least one *.toml theorem file").into()
            );
        }
        files
    } else {
        args.files.clone()
    };
    let scale = match args.scale {
        ScaleArg::Full => Scale::Full,
        ScaleArg::Test => Scale::Test,
    };
    // Parse every file first, so a bad file is reported before minutes of training.
    let given_by = |e: Error| if args.files.is_empty() { e.given_by("--theorems") } else { e };
    // Two claims with one id are refused (their reports and figures would collide).
    let theorems = adamgap::claims::Theorem::load_files(&files).map_err(given_by)?;
    if let Some(dir) = &args.path_results {
        if matches!(scale, Scale::Test) {
            return Err(Error::invalid(
                "--path-results",
                dir.display(),
                "only at the full scale (not with --scale test)",
            )
            .into());
        }
        if !theorems.iter().any(|(_, t)| t.kind == adamgap::claims::ClaimKind::Path) {
            return Err(Error::invalid(
                "--path-results",
                dir.display(),
                "given with a path claim (kind = \"path\") among the theorem files",
            )
            .into());
        }
    }
    let source = adamgap::sweep::claim::GridSource { results: args.path_results.clone() };
    let mut checker = Checker::new().with_paths(Box::new(source));
    if let Some(dir) = &args.dataset_dir {
        checker = checker.with_dataset_dir(dir.clone());
    }
    for (p, t) in &theorems {
        let origin = p.display().to_string();
        if let Some(e) = Checker::memory_estimate(t, &origin, scale)? {
            args.memory.check(&e).map_err(|e| match e {
                Error::TooLarge { needed, limit, parts } => {
                    Error::TooLarge { needed, limit, parts: format!("{parts} (claim {origin})") }
                }
                other => other,
            })?;
        }
    }
    for (p, t) in &theorems {
        checker.preflight(t, &p.display().to_string(), scale)?;
    }
    if !(args.quiet || args.json) {
        // Progress is best effort: a closed or full stderr does not stop the check.
        checker.progress = Box::new(|line| {
            let _ = output::stderr(&format!("{line}\n"));
        });
    }
    let mut reports = Vec::new();
    for (p, t) in &theorems {
        let r = checker.check(t, &p.display().to_string(), scale)?;
        if !args.json {
            if args.verbose {
                stdout(&format!("{}\n", r.summary()))?;
            } else {
                stdout(&format!("{}\n", r.line()))?;
                for c in &r.checks {
                    stdout(&format!("    {}: {}\n", c.what, c.text))?;
                }
                stdout(&format!("    {}\n", r.seeds_line()))?;
                for (label, text) in &r.orderings {
                    stdout(&format!("    {label}: {text}\n"))?;
                }
                if let adamgap::claims::Verdict::Inconclusive(why) = &r.verdict {
                    stdout(&format!("    inconclusive: {why}\n"))?;
                }
            }
        }
        reports.push(r);
    }
    if let Some(dir) = &args.report {
        adamgap::report_folder::write_claims(dir, &reports)?;
    }
    let count = |s: Status| reports.iter().filter(|r| r.status == s).count();
    let (ok, mismatch, pending) = (count(Status::AsExpected), count(Status::Mismatch), count(Status::Pending));
    if args.json {
        let claims: Vec<serde_json::Value> = reports.iter().map(|r| r.json()).collect();
        json(&serde_json::json!({ "claims": claims }))?;
    } else {
        stdout(&format!("\n{} claims: {ok} as expected, {mismatch} mismatched, {pending} pending\n", reports.len()))?;
        for r in reports.iter().filter(|r| r.status != Status::AsExpected) {
            stdout(&format!(
                "    {} {}: verdict {}, expected {}\n",
                r.status.label(),
                r.id,
                r.verdict,
                r.expected.label()
            ))?;
            if let Some(why) = &r.mismatch_reason {
                stdout(&format!("        expected failure, but {why}\n"))?;
            }
        }
    }
    Ok(if mismatch > 0 { 1 } else { 0 })
}
