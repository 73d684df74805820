//! `adamgap precision`: the precision audit (binary64 against double-double and one-ulp twins).

use clap::Args;

use adamgap::error::{Error, Result};
use adamgap::precision::audit::{AuditSetting, audit};
use adamgap::precision::ladder::LadderSetting;

use super::SettingArgs;

/// Arguments of `adamgap precision`.
#[derive(Debug, Args, Clone)]
pub struct PrecisionArgs {
    #[command(flatten)]
    pub setting: SettingArgs,
    /// Number of one-ulp twins of W^(0) (>= 1).
    #[arg(long, default_value_t = 4)]
    pub twins: usize,
    /// Threads (results do not depend on this).
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Also run the ladder: f64 and dd against a 256-bit trajectory on a small setting.
    #[arg(long)]
    pub ladder: bool,
    /// Steps of the ladder (default 300).
    #[arg(long)]
    pub ladder_steps: Option<usize>,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Runs the audit and prints it.
pub fn main(args: &PrecisionArgs) -> Result<i32> {
    if args.threads == 0 {
        return Err(Error::invalid("--threads", 0, ">= 1"));
    }
    if args.twins == 0 {
        return Err(Error::invalid("--twins", 0, ">= 1"));
    }
    let setting = args.setting.resolve()?;
    let ladder = if args.ladder || args.ladder_steps.is_some() {
        let mut l = LadderSetting::small();
        if let Some(s) = args.ladder_steps {
            if s == 0 {
                return Err(Error::invalid("--ladder-steps", 0, ">= 1"));
            }
            l.setting.train.steps = s;
        }
        Some(l)
    } else {
        None
    };
    let a = audit(&AuditSetting { setting, twins: args.twins, threads: args.threads, ladder })?;
    if args.json {
        let v = adamgap::precision::report::json(&a);
        println!("{}", serde_json::to_string_pretty(&v).expect("JSON of plain data"));
    } else {
        print!("{}", adamgap::precision::report::text(&a));
    }
    Ok(0)
}
