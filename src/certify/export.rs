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
//! The folder is written atomically by [`crate::outdir::OutDir`]: an error leaves no partial
//! output, and an existing folder is replaced only when it holds nothing but these files.

use std::io::Write as _;
use std::path::Path;

use ndarray::{Array1, Array2};
use ndarray_npy::WriteNpyExt as _;

use super::ConvexOutcome;
use crate::error::Result;
use crate::outdir::OutDir;

/// File names of the export.
pub const FILES: [&str; 4] = ["X.npy", "y.npy", "center.npy", "manifest.json"];

/// True for the names an export folder holds (an existing folder of only these may be replaced).
pub fn owned(name: &str) -> bool {
    FILES.contains(&name)
}

/// Writes the export of `outcome` into the folder `dir` (see the module doc).
pub fn export(outcome: &ConvexOutcome, dir: &Path) -> Result<()> {
    let mut out = OutDir::create(dir, &owned)?;
    let p = &outcome.problem.reduced;
    let (n, d) = (p.n(), p.d);
    let mut x = Array2::<f64>::zeros((n, d));
    for i in 0..n {
        let (idx, val) = p.x.row(i);
        for (&k, &v) in idx.iter().zip(val) {
            x[[i, k as usize]] += v;
        }
    }
    out.write_with("X.npy", |w| x.write_npy(w).map_err(|e| e.to_string()))?;
    out.write_with("y.npy", |w| Array1::from(p.y.clone()).write_npy(w).map_err(|e| e.to_string()))?;
    let center = Array1::from(outcome.center_f64.clone());
    out.write_with("center.npy", |w| center.write_npy(w).map_err(|e| e.to_string()))?;
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
    out.write_with("manifest.json", |w| w.write_all(text.as_bytes()).map_err(|e| e.to_string()))?;
    out.commit()
}
