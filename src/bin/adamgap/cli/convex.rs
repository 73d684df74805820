//! `adamgap convex`: prints what [`adamgap::app::convex::run`] returns; exit code 0 when the
//! claim holds, 1 when it fails or is inconclusive.

use adamgap::app::convex::{ConvexArgs, Printed};

use super::output::{self, CliResult};

/// Runs `adamgap convex`.
pub fn main(args: &ConvexArgs) -> CliResult<i32> {
    let (printed, holds) = adamgap::app::convex::run(args)?;
    match printed {
        Printed::Json(v) => output::json(&v)?,
        Printed::Text(t) => output::stdout(&t)?,
    }
    Ok(if holds { 0 } else { 1 })
}
