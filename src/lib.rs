//! # adamgap
//!
//! A proof companion for Zou, Cao, Li, Gu, "Understanding the Generalization of Adam in Learning
//! Neural Networks with Proper Regularization" (ICLR 2023, arXiv 2108.11371).
//!
//! The paper proves two things, and this crate checks both by computation:
//!
//! 1. **Nonconvex case.** On sparse patch data (Definition 3.1), a two-layer CNN with polynomial
//!    ReLU, trained from the same initialization with weight decay, reaches zero training error
//!    under Adam and under GD; GD learns the feature and generalizes, Adam memorizes the noise and
//!    does not. [`data`] draws the data, [`model`] is the CNN with its exact gradient, [`optim`]
//!    the optimizers, [`train`] the loop with its trace and stop reasons.
//! 2. **Convex case.** With a convex loss and weight decay the objective is `lambda`-strongly
//!    convex, so `||W - W*|| <= ||grad L(W)|| / lambda` for every `W`: [`exact`] gives
//!    outward-rounded rational enclosures, [`certify`] turns them into certificates.
//!
//! [`claims`] turns measurements into verdicts (`holds`, `fails`, `inconclusive` with a reason) and
//! [`report`] prints them. Data flows one way: setting -> data -> model -> optim/train -> claims ->
//! report, with exact/certify beside the model for the convex case.

pub mod app;
pub mod certify;
pub mod claims;
pub mod data;
pub mod endpoints;
pub mod error;
pub mod exact;
pub mod figures;
pub mod format;
pub mod images;
pub mod input;
pub mod interchange;
pub mod limit;
pub mod memory;
pub mod model;
pub mod optim;
pub mod outdir;
pub mod parallel;
pub mod precision;
pub mod report;
pub mod report_folder;
pub mod results;
pub mod setting;
pub mod spans;
pub mod sweep;
pub mod train;
pub mod verdict;

pub use error::{Error, Result};
