//! `adamgap convex`: certify that every optimizer reaches the one regularized minimizer, with
//! claim 07's verdict (`theorems/07-convex-unique-minimizer.toml`), and the text it prints.
//!
//! The computing is in [`crate::certify`]; this file resolves the flags, checks the outputs
//! before any work, writes them after, and renders the report.

use std::path::PathBuf;

use clap::Args;

use super::flags::{DataArgs, Given, MemoryArg, ThreadsArg};
use crate::certify::{self, ConvexReport, ConvexSetting, ProblemKind};
use crate::claims::commands::ConvexOutput;
use crate::error::{Error, Result};
use crate::format::{Align, Table, sig};
use crate::override_from;
use crate::verdict::Verdict;

/// Arguments of `adamgap convex`.
#[derive(Debug, Args, Clone, Default)]
#[command(after_help = "\
Defaults (docs/convex.md explains them): the paper's data (d = 1000, n = 200, s = 100, sigma_p = 0.1,
alpha = 0.2, 10,000 test points), m = 20, lambda = 0.01, 20,000 steps per run, stop at ||grad L|| <= 1e-10;
gd eta 0.25; adam and adam-no-bias-correction eta 3e-3, b1 0.9, b2 0.999, eps 1e-2 (eta/eps = 0.3: stable GD
limit); sign-gd eta 1e-2 * 0.997^t; momentum eta 0.05 beta 0.9; rmsprop eta 2.5e-4 beta 0.99 eps 1e-3;
adagrad eta 0.2 eps 1e-8; newton (float64); AdamW = adam's hyperparameters, decoupled decay, 5,000 steps.
--problem logistic: sign-gd eta 5e-2 * 0.997^t, rmsprop eta 1e-3. Exit code 0: the claim holds; 1: it fails or is
inconclusive (the text report says why).
Other hyperparameters: --config FILE (TOML with the fields of certify::ConvexSetting).")]
pub struct ConvexArgs {
    /// The convex problem: paper-linear (the paper's data, CNN with linear activation) or logistic
    /// (plain logistic regression on the patch sums xbar).
    #[arg(long, value_parser = super::flags::parse_kebab::<ProblemKind>)]
    pub problem: Option<ProblemKind>,
    /// TOML file with fields of the convex setting (problem, seed, data, m, lambda, runs, ...).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Weight decay lambda > 0 of the optimized objective [default: 0.01].
    #[arg(long)]
    pub lambda: Option<f64>,
    /// Certify the high-precision minimizer to radius <= 10^-digits, 1..=250 [default: 40].
    #[arg(long)]
    pub digits: Option<u32>,
    /// Bits of the certified enclosures for the optimizer outputs, 64..=4096 [default: 128].
    #[arg(long)]
    pub prec: Option<u32>,
    /// Step budget of every run [default: 20000].
    #[arg(long)]
    pub steps: Option<usize>,
    /// Step budget of the AdamW contrast [default: 5000].
    #[arg(long)]
    pub adamw_steps: Option<usize>,
    /// Runs stop once their float64 ||grad L||_2 <= this [default: 1e-10].
    #[arg(long)]
    pub grad_tol: Option<f64>,
    /// A run counts as certified within target when its radius <= this [default: 1e-6].
    #[arg(long)]
    pub target_radius: Option<f64>,
    #[command(flatten)]
    pub data: DataArgs,
    /// Filters per class m (paper-linear) [default: 20].
    #[arg(long)]
    pub m: Option<usize>,
    #[command(flatten)]
    pub threads: ThreadsArg,
    #[command(flatten)]
    pub memory: MemoryArg,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Write X.npy, y.npy, center.npy and manifest.json for an independent checker into DIR.
    #[arg(long, value_name = "DIR")]
    pub export: Option<PathBuf>,
    /// Also write a report folder: report.md and the figure certificate.svg (written atomically).
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
}

impl ConvexArgs {
    /// The setting: defaults, then the config file, then the flags; validated.
    pub fn resolve(&self) -> Result<ConvexSetting> {
        let mut s = match &self.config {
            Some(p) => crate::setting::read_toml_file(p).map_err(|e| e.given_by("--config"))?,
            None => ConvexSetting::default(),
        };
        let mut given = Given::default();
        self.data.apply(&mut s.base, &mut given);
        let base = &mut s.base;
        override_from!(self, base, given; lambda => model.lambda, m => model.m);
        override_from!(self, s, given;
            problem => problem,
            digits => digits,
            prec => prec,
            steps => steps,
            adamw_steps => adamw_steps,
            grad_tol => grad_tol,
            target_radius => target_radius,
        );
        // The convex config file writes the model's fields at the top level (`lambda`, `m`).
        s.validate().map_err(|e| given.name(e, |f| f.strip_prefix("model.").unwrap_or(f).to_string()))?;
        Ok(s)
    }
}

/// What `adamgap convex` prints: the JSON (`--json`) or the text report (with the export's note).
#[derive(Clone, Debug)]
pub enum Printed {
    Json(Box<ConvexOutput>),
    Text(String),
}

/// `adamgap convex`: the certificate, claim 07's verdict, the outputs; `Ok((printed, holds))`.
pub fn run(args: &ConvexArgs) -> Result<(Printed, bool)> {
    let setting = args.resolve()?;
    args.memory.check(&setting.memory_estimate())?;
    // Check every output folder before the computation, so a bad path fails before any work.
    if let Some(dir) = &args.export
        && args.report.as_ref() == Some(dir)
    {
        return Err(Error::invalid("--export", dir.display(), "a folder other than --report's"));
    }
    if let Some(dir) = &args.export {
        crate::outdir::check_target(dir, &certify::export::owned)?;
    }
    if let Some(dir) = &args.report {
        crate::outdir::check_target(dir, &crate::report_folder::convex_owned)?;
    }
    let outcome = certify::run_convex_full(&setting)?;
    if let Some(dir) = &args.export {
        certify::export::export(&outcome, dir)?;
    }
    let r = &outcome.report;
    // The verdict is claim 07's checks on the certificate (theorems/07-convex-unique-minimizer.toml).
    let verdicts = crate::claims::commands::convex(r);
    if let Some(dir) = &args.report {
        crate::report_folder::write_convex(dir, &text(r, &verdicts), r)?;
    }
    let holds = verdicts.verdict == Verdict::Holds;
    if args.json {
        return Ok((Printed::Json(Box::new(ConvexOutput { report: r.clone(), verdicts })), holds));
    }
    let mut out = text(r, &verdicts);
    if let Some(dir) = &args.export {
        out += &format!(
            "\nexported to {} (check with: python3 tools/check_certificate.py {})\n",
            dir.display(),
            dir.display()
        );
    }
    Ok((Printed::Text(out), holds))
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "NO" }
}

/// The human-readable report, with claim 07's checks and verdict.
pub fn text(r: &ConvexReport, verdicts: &crate::claims::Decision) -> String {
    let mut o = String::new();
    let space = if r.m.is_some() { "W" } else { "u" };
    o += &format!(
        "convex problem: {} (d = {}, n = {}{}, {} parameters), lambda = {}, c = {}, lambda_u = {}\n",
        r.problem,
        r.d,
        r.n,
        r.m.map(|m| format!(", m = {m}")).unwrap_or_default(),
        r.dim,
        r.lambda,
        r.scale,
        r.lambda_u
    );
    o += &format!(
        "smoothness <= {} (condition bound {}), enclosures at {} bits, target radius {:e}\n\n",
        sig(r.smoothness_upper, 4),
        sig(r.condition_bound, 4),
        r.prec,
        r.target_radius
    );
    let mut table =
        Table::new(&[Align::Left, Align::Left, Align::Right, Align::Right, Align::Right, Align::Right, Align::Right])
            .sep(" ")
            .min_width(&[24, 44, 11, 11, 11, 8, 7]);
    table.row([
        "run".to_string(),
        "stop".to_string(),
        "|grad| f64".to_string(),
        "|grad| <=".to_string(),
        format!("|{space}-{space}*| <="),
        "tests".to_string(),
        "within".to_string(),
    ]);
    for (name, run) in &r.runs {
        table.row([
            name.clone(),
            run.stop.to_string(),
            sig(run.grad_norm_f64, 3),
            sig(run.grad_norm_upper, 3),
            sig(run.radius, 3),
            run.predictions_certified.to_string(),
            yes(run.certified_within_target).to_string(),
        ]);
    }
    o += &table.render();
    let m = &r.minimizer;
    o += &format!(
        "\nhigh-precision minimizer: radius {} in {space} ({} in u), target 1e-{}: {} ({} refinement steps at {} bits, {} s)\n",
        sig(m.radius, 3),
        sig(m.radius_u, 3),
        m.digits,
        yes(m.reached),
        m.iterations,
        m.prec,
        sig(m.seconds, 2)
    );
    o += &format!(
        "  ||u*|| = {}, u*[feature] = {}, test error of W* = {}\n",
        sig(m.center_norm, 6),
        sig(m.center_feature, 6),
        sig(r.minimizer_test_error, 4)
    );
    o += &format!(
        "largest certified radius {}; every pair within r_a + r_b <= {}\n",
        sig(r.max_radius, 3),
        sig(2.0 * r.max_radius, 3)
    );
    o += &format!(
        "test predictions certified identical (all runs and W*): {} / {} (disagreements: {})\n",
        r.predictions_certified, r.test_size, r.disagreements
    );
    if let Some(a) = &r.adamw {
        o += &format!(
            "\nAdamW (decoupled decay; {}): ||grad L|| >= {}, so ||W - W*|| >= {} (smoothness) and >= {} (via the center); test error {}, {} predictions differ from W*\n",
            a.stop,
            sig(a.grad_norm_lower, 3),
            sig(a.distance_lower, 3),
            sig(a.distance_lower_via_center, 3),
            sig(a.test_error, 4),
            a.prediction_differences
        );
    }
    o += &format!("\nverdicts ({}):\n", verdicts.theorem);
    for c in &verdicts.checks {
        o += &format!("  [{}] {}: {}\n", c.mark, c.what, c.text);
    }
    o += &format!(
        "claim (every optimizer reaches the one minimizer, identical certified predictions): {}\n",
        verdicts.verdict
    );
    o += &format!("wall time {} s\n", sig(r.seconds, 3));
    o
}
