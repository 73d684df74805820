//! `adamgap convex` (in progress: see the convex-certificate issue).

use clap::Args;

use crate::error::{Error, Result};

/// Arguments of `adamgap convex`.
#[derive(Debug, Args, Clone)]
pub struct ConvexArgs {}

/// Runs `adamgap convex`.
pub fn main(_args: &ConvexArgs) -> Result<i32> {
    Err(Error::Numerical("`adamgap convex` is not built yet".into()))
}
