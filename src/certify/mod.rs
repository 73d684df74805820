//! Certificates for the convex case: every optimizer reaches the one regularized minimizer.
//!
//! With a convex loss and weight decay `lambda > 0` the objective is `lambda`-strongly convex, so
//! for *every* point
//!
//! ```text
//! ||W - W*|| <= ||grad L(W)|| / lambda.
//! ```
//!
//! This module turns that inequality into certificates computed from the exact values of binary64
//! points and data, with the transcendental functions enclosed by [`crate::exact`]:
//!
//! * [`setting`]: what a comparison needs ([`ConvexSetting`]: a [`crate::setting::Setting`] plus
//!   the certifier's parameters) and the default runs;
//! * [`problem`]: the convex problems (logistic regression; the CNN with the linear activation,
//!   which depends on `W` only through `u(W) = sum_r (w_{+1,r} - w_{-1,r})`), exactly specified;
//! * [`enclosure`]: gradient enclosures, certified radii, lower bounds, a smoothness bound;
//! * [`newton`]: Newton's method and the high-precision minimizer with its radius;
//! * [`runs`]: GD, Adam (with and without bias correction), sign GD, momentum, RMSProp, AdaGrad,
//!   AdamW and Newton on the same problem, through the crate's one optimization loop
//!   ([`crate::optim::minimize`]);
//! * [`predictions`]: certified test predictions;
//! * [`pipeline`]: the whole comparison ([`run_convex`]);
//! * [`report`]: what it reports, and its verdicts ([`crate::verdict::Verdict`] each);
//! * [`export`]: the files an independent checker reads (`tools/check_certificate.py`).
//!
//! The CLI (`adamgap convex`) and the claims checker both call [`run_convex`]. The mathematics and
//! the defaults are explained in `docs/convex.md`.

#![doc = include_str!("../../docs/convex.md")]

pub mod enclosure;
pub mod export;
pub mod newton;
pub mod pipeline;
pub mod predictions;
pub mod problem;
pub mod report;
pub mod runs;
pub mod setting;

pub use enclosure::{Certificate, certify_point, smoothness_upper};
pub use newton::{Minimizer, high_precision_minimizer};
pub use pipeline::{ConvexOutcome, run_convex, run_convex_full};
pub use problem::{ConvexProblem, LogisticProblem, ProblemKind};
pub use report::{AdamWReport, ConvexReport, MinimizerReport, RunReport};
pub use runs::{RunSpec, Schedule};
pub use setting::{ConvexSetting, DIGITS_RANGE, PREC_RANGE, default_adamw, default_runs};

/// The exact dyadic numbers the certificates compute with (owned by [`crate::exact`]).
pub use crate::exact::{Dyadic, Round};
