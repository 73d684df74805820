//! Training in more than binary64, and the precision audit.
//!
//! Adam's trajectory on the paper's data is chaotic at roundoff level: many weights oscillate
//! around 0, so two correct binary64 runs of the same Adam agree to about `1e-13` for a few hundred
//! steps and then part by order `eta`. Whether the headline verdicts survive more precision is
//! answered here by computation (see `docs/precision.md`):
//!
//! * [`dd`], [`functions`]: double-double numbers (about 106 bits) with the error bounds of each
//!   operation and an `exp`/`ln1p` accurate to about `2^-100`;
//! * [`big`]: 256-bit floats on the exact dyadic numbers of [`crate::exact`], for the ladder;
//! * [`real`]: the scalar trait of the generic path; [`model`], [`optim`]: the CNN and every
//!   optimizer in any such scalar, operation for operation like the binary64 kernels (at `f64` they
//!   reproduce them bit for bit); [`train`]: their runs through the crate's one loop and
//!   bookkeeping (`crate::train`);
//! * [`audit`]: binary64 against double-double, and one-ulp twins of the initialization: parting
//!   steps, growth rate, spread and agreement of the headline verdicts;
//! * [`ladder`]: binary64 and double-double against the 256-bit trajectory on a small setting;
//! * [`distance`]: the distances, parting steps and growth fits the audit and the ladder read.
//!
//! The draw (data and `W^(0)`) is always binary64; everything after it runs in the chosen
//! precision, from the same binary64 data, initialization and hyperparameters, so the precisions
//! solve exactly the same problem and differ only in rounding.

pub mod adam;
pub mod audit;
pub mod big;
pub mod dd;
pub mod distance;
pub mod functions;
pub mod kernel;
pub mod ladder;
pub mod model;
pub mod optim;
pub mod real;
pub mod report;
#[cfg(target_arch = "x86_64")]
pub mod simd;
pub mod train;

pub use big::Big;
pub use dd::Dd;
pub use real::Real;

/// The arithmetic of a training run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Precision {
    /// Binary64 through the fast kernels (the default).
    #[default]
    F64,
    /// Double-double through the generic path.
    Dd,
}

impl Precision {
    /// `f64` or `dd`.
    pub fn label(self) -> &'static str {
        match self {
            Self::F64 => "f64",
            Self::Dd => "dd",
        }
    }
}

/// Trains every optimizer of `exp` in `precision`, side by side on the current thread pool;
/// `progress(k, steps)` reports optimizer `k`'s progress in either precision.
pub fn run_all(
    exp: &crate::train::Experiment,
    precision: Precision,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Vec<crate::train::Run> {
    match precision {
        Precision::F64 => exp.run_all(progress),
        Precision::Dd => train::run_all::<Dd>(exp, progress),
    }
}
