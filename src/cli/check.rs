//! `adamgap check` (in progress: see the claims issue).

use clap::Args;

use crate::error::{Error, Result};

/// Arguments of `adamgap check`.
#[derive(Debug, Args, Clone)]
pub struct CheckArgs {}

/// Runs `adamgap check`.
pub fn main(_args: &CheckArgs) -> Result<i32> {
    Err(Error::Numerical("`adamgap check` is not built yet".into()))
}
