//! `adamgap precision`: the precision audit (binary64 against double-double and one-ulp twins).

use clap::Args;

use adamgap::error::Error;
use adamgap::precision::audit::{AuditSetting, audit};
use adamgap::precision::ladder::LadderSetting;

use adamgap::app::flags::{MemoryArg, SettingArgs, ThreadsArg};

use super::output::{self, CliResult};

/// Arguments of `adamgap precision`.
#[derive(Debug, Args, Clone)]
pub struct PrecisionArgs {
    #[command(flatten)]
    pub setting: SettingArgs,
    /// Number of one-ulp twins of W^(0) (>= 1).
    #[arg(long, default_value_t = 4)]
    pub twins: usize,
    #[command(flatten)]
    pub threads: ThreadsArg,
    /// Also run the ladder: f64 and dd against a 256-bit trajectory on a small setting.
    #[arg(long)]
    pub ladder: bool,
    /// Steps of the ladder (default 300).
    #[arg(long)]
    pub ladder_steps: Option<usize>,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub memory: MemoryArg,
}

/// Runs the audit and prints it.
pub fn main(args: &PrecisionArgs) -> CliResult<i32> {
    if args.twins == 0 {
        return Err(Error::invalid("--twins", 0, ">= 1").into());
    }
    let setting = args.setting.resolve()?;
    // The estimate counts the double-double copy and every twin, before anything is allocated.
    args.memory.check(&adamgap::memory::of_audit(&setting, args.twins, args.threads.threads))?;
    let ladder = if args.ladder || args.ladder_steps.is_some() {
        let mut l = LadderSetting::small();
        if let Some(s) = args.ladder_steps {
            let max = adamgap::setting::MAX_STEPS;
            if !(1..=max).contains(&s) {
                return Err(Error::invalid("--ladder-steps", s, format!("1..={max}")).into());
            }
            l.setting.train.steps = s;
        }
        Some(l)
    } else {
        None
    };
    let a = audit(&AuditSetting { setting, headline: adamgap::claims::headline, twins: args.twins, ladder })?;
    // The agreement line is claim 11's checks on the audit (theorems/11-precision-robust.toml).
    let agreement = adamgap::claims::commands::precision(&a).verdict;
    if args.json {
        output::json(&adamgap::precision::report::json(&a, &agreement))?;
    } else {
        output::stdout(&adamgap::precision::report::text(&a, &agreement))?;
    }
    Ok(0)
}
