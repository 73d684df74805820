//! Claims and verdicts. A verdict is `holds`, `fails`, or `inconclusive` with the reason (a
//! diverged run, a missing run, a tolerance not reached): an inconclusive run never reads as a
//! confirmation.
//!
//! The paper's claims as data, in layers (each file imports only files above it in this list;
//! `tests/architecture.rs` checks that there is no circle):
//!
//! 1. [`quantity`]: the vocabulary, one table of every quantity a check can name.
//! 2. [`theorem`]: the types of a theorem file (`theorems/*.toml`), [`theorem::PathSpec`] included.
//! 3. [`outcome`]: the values passed between the layers ([`Measurement`], [`CheckOutcome`], ...).
//! 4. `validate`: the loader ([`Theorem::from_toml_str`]) with its rules and exact error lines.
//! 5. [`seeds`]: the rule that combines the seeds' verdicts, and the Clopper-Pearson bound.
//! 6. [`measure`]: the quantities of training runs, the convex certificate and the precision audit.
//! 7. [`path`]: the quantities of a path claim's sweep cells ([`path::PathSource`]).
//! 8. [`evaluate`]: the checks against a measurement and the one verdict rule
//!    ([`evaluate::verdict`]).
//! 9. [`builtin`]: the theorem files compiled in; [`headline()`]: `adamgap run`'s verdict lines;
//!    [`commands`]: the verdicts of `adamgap convex`, `adamgap precision` and `adamgap sweep merge`.
//! 10. [`report`]: the [`ClaimReport`] that `adamgap check` prints and `tests/claims.rs` snapshots.
//! 11. [`checker`]: measures a claim on its seeds (one match arm per [`ClaimKind`]), evaluates it
//!     and assembles the report.
//!
//! See `docs/claims.md` and `docs/methodology.md`.

pub mod builtin;
pub mod checker;
pub mod commands;
pub mod evaluate;
pub mod headline;
pub mod measure;
pub mod outcome;
pub mod path;
pub mod quantity;
pub mod report;
pub mod seeds;
pub mod theorem;
pub mod validate;

pub use checker::Checker;
pub use headline::headline;
pub use outcome::{CheckOutcome, Decision, Measurement, Outcome, RunInfo};
pub use report::{ClaimReport, Status};
pub use theorem::{ClaimKind, Expected, Scale, Theorem};

pub use crate::verdict::{Verdict, VerdictLine};
