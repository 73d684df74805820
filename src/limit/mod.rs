//! Limit points of the optimizers: the span of the training patches, the reduced gradient and
//! Hessian of `L` there, their Cholesky factorization, and the Newton polish of an optimizer's
//! last iterate (the mathematics in `docs/limit-points.md`).
//!
//! Every data term of the gradient and the Hessian of `L` lies, filter by filter, in the span `S`
//! of the training patches; on the orthogonal complement `L` is `(lambda/2) ||W^perp||^2`. So the
//! second-order structure of `L` at a point is a dense `2mk x 2mk` matrix (`k = dim S`, at most
//! `n + 1` at the defaults) plus `lambda I`.
//!
//! | file | what |
//! |---|---|
//! | `basis.rs` | [`PatchBasis`]: `Q`, the reduced patches, `a = Q^T W` and the lift back |
//! | `hessian.rs` | [`ReducedProblem`]: the reduced gradient and the dense reduced Hessian |
//! | `cholesky.rs` | [`Cholesky`]: the blocked factorization and its solves |
//! | `polish.rs` | [`polish`]: Newton's method on `L` from an iterate, through the one loop |
//! | `runs.rs` | [`limit_points`]: the runs' iterates, their polish and the report of `--to-limit` |

mod basis;
mod cholesky;
mod hessian;
mod polish;
mod runs;

pub use basis::{PatchBasis, RANK_TOLERANCE, flatten, unflatten, weights_view};
pub use cholesky::{BLOCK, Cholesky, NotPositiveDefinite};
pub use hessian::{ReducedEval, ReducedProblem, quadratic_form};
pub use polish::{EIGEN_ITERATIONS, Polish, PolishError, PolishSettings, REUSE_FACTOR_BELOW, polish};
pub use runs::{
    LimitPoint, LimitReport, PointErrors, TO_LIMIT_GRAD_TOL, json, limit_points, markdown, pattern_changes, text,
};
