//! The endpoint certificate's inputs and claimed bounds, for an independent checker
//! (`tools/check_endpoints.py`).
//!
//! `adamgap run --certify-export DIR` writes
//!
//! * `X_train.npy` (`n x P x d`, float64): the training patches, dense; `y_train.npy` (`n`): the
//!   labels the model is trained on;
//! * `W_<name>.npy` (`d x 2m`, float64) for `init` and every certified run: the weights in the
//!   crate's layout (row `k` holds coordinate `k` of every filter, column `j_index * m + r`, with
//!   `j_index = 0` for `j = +1`);
//! * `certificate.json`: the model's constants (binary64 values and their exact fractions), and
//!   per point the claimed sign of every training margin (`1`: `> 0`, `-1`: `<= 0`, `0`:
//!   undecided), the error counts, and the enclosures of `L(W)` and `||grad L(W)||_2`; the claimed
//!   lower bound on `||W_gd - W_adam||_F`.
//!
//! `adamgap run --export DIR --certify` writes the same files into the run export, and the
//! certificate's claimed bounds into its `manifest.json` (key `certify`). Everything goes into a
//! temporary folder first and is moved into place at the end ([`OutDir`]), so an error leaves no
//! partial output.

use std::path::Path;

use ndarray::{Array1, Array2, Array3};
use ndarray_npy::WriteNpyExt;
use num_rational::BigRational;
use serde_json::{Value, json};

use super::{EndpointReport, Sign};
use crate::error::Result;
use crate::model::Activation;
use crate::outdir::OutDir;
use crate::train::{Experiment, Run};

/// The certificate's file name.
pub const CERTIFICATE: &str = "certificate.json";

fn exact(x: f64) -> Value {
    BigRational::from_float(x).map_or(Value::Null, |q| Value::String(q.to_string()))
}

fn sign_code(s: Sign) -> i8 {
    match s {
        Sign::Positive => 1,
        Sign::NonPositive => -1,
        Sign::Undecided => 0,
    }
}

/// `certificate.json` of the report (the weights files are named `W_<name>.npy`).
pub fn certificate_json(exp: &Experiment, report: &EndpointReport) -> Value {
    let model = &exp.model;
    let (activation, q) = match model.activation {
        Activation::PolyRelu(q) => ("poly-relu", q),
        Activation::Linear => ("linear", 1),
    };
    let mut points = serde_json::Map::new();
    for (name, c) in &report.points {
        let Ok(c) = c else { continue };
        points.insert(
            name.clone(),
            json!({
                "weights_file": format!("W_{name}.npy"),
                "train_signs": c.train_signs.iter().map(|&s| sign_code(s)).collect::<Vec<_>>(),
                "train_errors": c.train.errors,
                "train_undecided": c.train.undecided,
                "grad_norm": [c.grad_norm.lo, c.grad_norm.hi],
                "grad_norm_upper": c.grad_norm.hi,
                "grad_norm_upper_exact": exact(c.grad_norm.hi),
                "objective": c.objective.map(|f| [f.lo, f.hi]),
                "test_error": c.test.rate_bounds(),
                "run_diverged": report.diverged(name),
            }),
        );
    }
    json!({
        "format": "adamgap-endpoint-certificate-1",
        "model": {
            "activation": activation,
            "q": q,
            "m": model.m,
            "d": model.d,
            "patches": exp.train.patches,
            "n": exp.train.len(),
            "scale": model.scale,
            "scale_exact": exact(model.scale),
            "lambda": model.lambda,
            "lambda_exact": exact(model.lambda),
            "margin": "y_i f(W, x_i), f = scale * sum_{j,r,p} j sigma(<w_{j,r}, x_{i,p}>), sigma(z) = max(0, z)^q (linear: z)",
            "objective": "L(W) = (1/n) sum_i log(1 + exp(-y_i f(W, x_i))) + (lambda/2) ||W||_F^2",
            "weights_layout": "d x 2m: W[k, j_index * m + r] = w_{j,r}[k], j_index 0 for j = +1, 1 for j = -1",
        },
        "x_file": "X_train.npy",
        "y_file": "y_train.npy",
        "points": points,
        "distance": report.distance.as_ref().map(|(a, b, d)| json!({
            "a": a, "b": b, "lower": d.lo, "lower_exact": exact(d.lo),
        })),
    })
}

/// True for the names the certificate's files take (an existing folder of only these, or of an
/// export's files as well, may be replaced).
pub fn owned(name: &str) -> bool {
    name == CERTIFICATE
        || name == "X_train.npy"
        || name == "y_train.npy"
        || (name.starts_with("W_") && name.ends_with(".npy"))
}

/// Writes the certificate into `dir` (`run --certify-export DIR`), atomically: nothing at `dir`
/// changes unless every file is written ([`OutDir`]).
pub fn export(exp: &Experiment, runs: &[&Run], report: &EndpointReport, dir: &Path) -> Result<()> {
    let mut out = OutDir::create(dir, &owned)?;
    write_into(&mut out, exp, runs, report)?;
    out.commit()
}

fn npy<A: WriteNpyExt>(out: &mut OutDir, name: &str, a: &A) -> Result<()> {
    out.write_with(name, |w| a.write_npy(w).map_err(|e| e.to_string()))
}

/// Writes the certificate's files into an output folder: its own, or a run export
/// (`run --export DIR --certify`, docs/interchange.md).
pub fn write_into(out: &mut OutDir, exp: &Experiment, runs: &[&Run], report: &EndpointReport) -> Result<()> {
    let data = &exp.train;
    let (n, p, d) = (data.len(), data.patches, data.d);
    let mut x = Array3::<f64>::zeros((n, p, d));
    for i in 0..n {
        for q in 0..p {
            let (idx, val) = data.x.row(i * p + q);
            for (&k, &v) in idx.iter().zip(val) {
                x[[i, q, k as usize]] = v;
            }
        }
    }
    npy(out, "X_train.npy", &x)?;
    npy(out, "y_train.npy", &Array1::from(data.y.clone()))?;
    for (name, c) in &report.points {
        if c.is_err() {
            continue;
        }
        let w = if name == "init" { &exp.init } else { &runs.iter().find(|r| &r.name == name).expect("a run").weights };
        let a = Array2::from_shape_vec((w.d(), 2 * w.m()), w.as_slice().to_vec()).expect("d x 2m weights");
        npy(out, &format!("W_{name}.npy"), &a)?;
    }
    let text = serde_json::to_string_pretty(&certificate_json(exp, report)).expect("plain JSON") + "\n";
    out.write(CERTIFICATE, text.as_bytes())
}
