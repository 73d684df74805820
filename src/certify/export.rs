//! What an independent checker needs: the exactly specified problem in `u` and a certified center.
//!
//! `adamgap convex --export DIR` writes
//!
//! * `X.npy` (`n x d`, float64): the rows `x_i` of the reduced logistic problem (the binary64 patch
//!   sums `xbar_i` for paper-linear), `y.npy` (`n`, float64, `+-1`);
//! * `center.npy` (`d`, float64): the high-precision minimizer rounded to binary64;
//! * `manifest.json`: `lambda` (the decay `lambda_u` of the exported problem, binary64 nearest),
//!   `lambda_exact` (`"p/q"`, the exact decay: `lambda / (2m)` is not a binary64 number for
//!   paper-linear), `scale` (`"1"` or `"1/m"`: the problem uses `c x_i`), `center_file`, `radius`
//!   (a certified bound on `||center - u*||_2`, rounded up to binary64) and `radius_exact` (that
//!   binary64 as an exact `"p/q"`, for readers whose JSON parser does not round-trip floats), the objective in words, and
//!   how the problem relates to the CNN.
//!
//! The exported problem: `L(u) = (1/n) sum_i log(1 + exp(-y_i c <u, x_i>)) + (lambda_u/2) ||u||^2`.
//!
//! Everything is written into a temporary directory first and moved into place at the end, so an
//! error leaves no partial output ([`Staging`]).

use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};

use super::ConvexOutcome;
use crate::error::{Error, Result};

/// File names of the export.
pub const FILES: [&str; 4] = ["X.npy", "y.npy", "center.npy", "manifest.json"];

/// A temporary directory next to (or inside) the target, removed unless committed.
pub struct Staging {
    target: PathBuf,
    tmp: PathBuf,
    /// The target did not exist: the temporary directory is renamed to it.
    rename_dir: bool,
    committed: bool,
}

impl Staging {
    /// Prepares an export into `dir` (created if missing): checks that it can be written before
    /// any computation starts.
    pub fn new(dir: &Path) -> Result<Self> {
        let pid = std::process::id();
        if dir.exists() {
            if !dir.is_dir() {
                return Err(Error::invalid("--export", dir.display(), "a directory (or a path to create)"));
            }
            let tmp = dir.join(format!(".adamgap-export.tmp{pid}"));
            std::fs::create_dir_all(&tmp)
                .map_err(|e| Error::io(&tmp, format!("--export directory not writable: {e}")))?;
            Ok(Self { target: dir.to_path_buf(), tmp, rename_dir: false, committed: false })
        } else {
            let name = dir.file_name().ok_or_else(|| Error::invalid("--export", dir.display(), "a directory path"))?;
            let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let tmp = parent.join(format!(".{}.tmp{pid}", name.to_string_lossy()));
            std::fs::create_dir_all(&tmp)
                .map_err(|e| Error::io(&tmp, format!("--export directory not writable: {e}")))?;
            Ok(Self { target: dir.to_path_buf(), tmp, rename_dir: true, committed: false })
        }
    }

    /// Writes every file into the temporary directory.
    pub fn write(&self, outcome: &ConvexOutcome) -> Result<()> {
        let p = &outcome.problem.reduced;
        let (n, d) = (p.n(), p.d);
        let mut x = Array2::<f64>::zeros((n, d));
        for i in 0..n {
            let (idx, val) = p.x.row(i);
            for (&k, &v) in idx.iter().zip(val) {
                x[[i, k as usize]] += v;
            }
        }
        let npy = |name: &str, r: std::result::Result<(), ndarray_npy::WriteNpyError>| {
            r.map_err(|e| Error::io(self.tmp.join(name), e))
        };
        npy("X.npy", ndarray_npy::write_npy(self.tmp.join("X.npy"), &x))?;
        npy("y.npy", ndarray_npy::write_npy(self.tmp.join("y.npy"), &Array1::from(p.y.clone())))?;
        npy(
            "center.npy",
            ndarray_npy::write_npy(self.tmp.join("center.npy"), &Array1::from(outcome.center_f64.clone())),
        )?;
        let lambda_exact = super::enclosure::lambda_u(p);
        let manifest = serde_json::json!({
            "format": "adamgap-convex-certificate-1",
            "problem": outcome.problem.kind.name(),
            "objective": "L(u) = (1/n) sum_i log(1 + exp(-y_i * scale * <u, X_i>)) + (lambda/2) ||u||^2",
            "n": n,
            "d": d,
            "lambda": crate::exact::to_f64_nearest(&lambda_exact),
            "lambda_exact": lambda_exact.to_string(),
            "scale": if p.scale_den == 1 { "1".to_string() } else { format!("1/{}", p.scale_den) },
            "x_file": "X.npy",
            "y_file": "y.npy",
            "center_file": "center.npy",
            "radius": outcome.center_f64_certificate.radius_f64(),
            "radius_exact": num_rational::BigRational::from_float(outcome.center_f64_certificate.radius_f64())
                .expect("a finite radius")
                .to_string(),
            "radius_meaning": "certified upper bound on ||center - u*||_2, u* the unique minimizer of L (exact values of the float64 files, lambda_exact)",
            "grad_norm_upper": outcome.center_f64_certificate.grad_norm_upper_f64(),
            "minimizer_radius_high_precision": outcome.minimizer.certificate.radius_f64(),
            "relation": match outcome.problem.filters {
                Some(m) => format!(
                    "the CNN with the linear activation, m = {m}, weight decay lambda_W = {} on W: \
                     W* = (u*/(2m), -u*/(2m)) per filter, lambda = lambda_W/(2m), X = the float64 patch sums xbar_i",
                    p.lambda
                ),
                None => "plain L2-regularized logistic regression on the float64 patch sums".to_string(),
            },
        });
        let text = serde_json::to_string_pretty(&manifest).expect("plain JSON") + "\n";
        let path = self.tmp.join("manifest.json");
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))
    }

    /// Moves the files into place.
    pub fn commit(mut self) -> Result<()> {
        if self.rename_dir {
            std::fs::rename(&self.tmp, &self.target).map_err(|e| Error::io(&self.target, e))?;
        } else {
            for f in FILES {
                let (from, to) = (self.tmp.join(f), self.target.join(f));
                std::fs::rename(&from, &to).map_err(|e| Error::io(&to, e))?;
            }
            let _ = std::fs::remove_dir(&self.tmp);
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

/// Writes the export of `outcome` into `dir` (see the module doc).
pub fn export(outcome: &ConvexOutcome, dir: &Path) -> Result<()> {
    let s = Staging::new(dir)?;
    s.write(outcome)?;
    s.commit()
}
