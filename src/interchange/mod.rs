//! Runs that move to and from Python: the folder format `adamgap-run-1` of `adamgap run --export
//! DIR` and `adamgap run --import DIR` (documented in `docs/interchange.md`).
//!
//! A folder holds `manifest.json` (the format name, the full setting with the keys of a config
//! file, the shapes, and per optimizer its kind, hyperparameters, steps, stop reason and
//! precision), the training and test data as SciPy CSR triplets of the `(n P) x d` patch matrix
//! (row `i P + p` is patch `p` of sample `i`) with their labels, `W^(0)` in the paper's `(2, m, d)`
//! layout (index 0 the class `+1` filters), and per optimizer its final weights and its trace at
//! every checkpoint. [`export`] writes such a folder atomically; [`import`] reads one (possibly
//! written by Python), checks every array, and rebuilds the experiment it describes, so that
//! training on it reproduces the exported run bit for bit.

pub mod export;
pub mod import;

use serde::{Deserialize, Serialize};

/// The format name written to and required in `manifest.json`.
pub const FORMAT: &str = "adamgap-run-1";

/// The header of every `trace_<name>.csv`.
pub const TRACE_HEADER: &str = "step,objective,loss,train_error,test_error,grad_norm,feature_max,noise_min_max";

/// The four CSR files of a data set with prefix `prefix` (`train` or `test`):
/// `indptr`, `indices`, `data`, `y`.
pub fn data_files(prefix: &str) -> [String; 4] {
    ["indptr", "indices", "data", "y"].map(|k| format!("{prefix}_{k}.npy"))
}

/// The file of an optimizer's final weights.
pub fn weights_file(name: &str) -> String {
    format!("w_{name}.npy")
}

/// The file of the low parts of a double-double run's final weights.
pub fn weights_lo_file(name: &str) -> String {
    format!("w_{name}_lo.npy")
}

/// The batch schedule of a minibatch run (every optimizer of an export steps on the same
/// batches): `<i8`, `(steps, B)`, row `t - 1` the sorted sample indices of step `t`, a short
/// (kept last) batch padded with `-1`.
pub const BATCHES_FILE: &str = "batches.npy";

/// The file of an optimizer's trace.
pub fn trace_file(name: &str) -> String {
    format!("trace_{name}.csv")
}

/// True for the names an export folder holds (an existing folder of only these may be replaced):
/// its own files and, with `--certify`, the certificate's (`crate::endpoints::export::owned`).
pub fn owned(name: &str) -> bool {
    let data = ["train", "test"].iter().any(|p| data_files(p).iter().any(|f| f == name));
    data || name == "manifest.json"
        || name == "w_init.npy"
        || name == BATCHES_FILE
        || (name.starts_with("w_") && name.ends_with(".npy"))
        || (name.starts_with("trace_") && name.ends_with(".csv"))
        || crate::endpoints::export::owned(name)
}

/// The array shapes of a folder, as recorded in its manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shapes {
    /// Training points.
    pub n: usize,
    /// Test points.
    pub test_size: usize,
    /// Patches per sample as stored (`P`; one more than `data.patches` with a separate
    /// feature-noise patch).
    pub patches: usize,
    /// Patch dimension.
    pub d: usize,
    /// Filters per class.
    pub m: usize,
    /// Stored entries of the training matrix.
    pub train_nnz: usize,
    /// Stored entries of the test matrix.
    pub test_nnz: usize,
}

/// A number in the shortest decimal form that reads back to the same binary64 value (plain
/// notation for moderate magnitudes, exponent notation otherwise; `NaN`, `inf`, `-inf`).
pub fn shortest(x: f64) -> String {
    if x == 0.0 || (1e-4..1e16).contains(&x.abs()) { format!("{x}") } else { format!("{x:e}") }
}
