//! Claims and verdicts. A verdict is `holds`, `fails`, or `inconclusive` with the reason (a
//! diverged run, a missing run, a tolerance not reached): an inconclusive run never reads as a
//! confirmation.
//!
//! The paper's claims as data: [`theorem`] reads `theorems/*.toml` (one claim per file, with its
//! setting, checks and expected verdict); [`checker`] measures a claim (one match arm per
//! [`ClaimKind`]) through [`measure`]; [`evaluate`] turns the checks into a [`Verdict`] by the one
//! verdict rule ([`evaluate::verdict`]); [`report`] renders the [`ClaimReport`] that `adamgap check`
//! prints and `tests/claims.rs` snapshots. [`path`] measures a claim on the cells of a sweep grid
//! along one axis (`kind = "path"`), the cells coming from a [`path::PathSource`]. [`headline()`] gives the verdict lines of `adamgap run`
//! from the same theorem files' checks. See `docs/claims.md` and `docs/methodology.md`.

pub mod checker;
pub mod evaluate;
pub mod headline;
pub mod measure;
pub mod path;
pub mod report;
pub mod seeds;
pub mod theorem;
mod validate;

pub use checker::Checker;
pub use evaluate::{CheckOutcome, Outcome};
pub use headline::headline;
pub use measure::{Measurement, RunInfo};
pub use report::{ClaimReport, Status};
pub use theorem::{ClaimKind, Expected, Scale, Theorem};

pub use crate::verdict::{Verdict, VerdictLine};
