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
//! Everything goes into a temporary directory first and is moved into place at the end, so an error
//! leaves no partial output.

use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2, Array3};
use num_rational::BigRational;
use serde_json::{Value, json};

use super::{EndpointReport, Sign};
use crate::error::{Error, Result};
use crate::model::Activation;
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

/// Writes the export of `report` into `dir` (created if missing; existing files of the same names
/// are replaced), atomically per file set: a temporary directory first, then renames.
pub fn export(exp: &Experiment, runs: &[&Run], report: &EndpointReport, dir: &Path) -> Result<()> {
    let (tmp, rename_dir) = staging_dir(dir)?;
    let result = write_all(exp, runs, report, &tmp).and_then(|files| {
        if rename_dir {
            std::fs::rename(&tmp, dir).map_err(|e| Error::io(dir, e))
        } else {
            for f in &files {
                std::fs::rename(tmp.join(f), dir.join(f)).map_err(|e| Error::io(dir.join(f), e))?;
            }
            let _ = std::fs::remove_dir(&tmp);
            Ok(())
        }
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

/// The temporary directory, and whether it is renamed to `dir` (which does not exist yet).
fn staging_dir(dir: &Path) -> Result<(PathBuf, bool)> {
    let pid = std::process::id();
    let flag = "--certify-export";
    let (tmp, rename) = if dir.exists() {
        if !dir.is_dir() {
            return Err(Error::invalid(flag, dir.display(), "a directory (or a path to create)"));
        }
        (dir.join(format!(".adamgap-endpoints.tmp{pid}")), false)
    } else {
        let name = dir.file_name().ok_or_else(|| Error::invalid(flag, dir.display(), "a directory path"))?;
        let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        (parent.join(format!(".{}.tmp{pid}", name.to_string_lossy())), true)
    };
    std::fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, format!("{flag} directory not writable: {e}")))?;
    Ok((tmp, rename))
}

/// Writes every file into `tmp`; returns their names.
fn write_all(exp: &Experiment, runs: &[&Run], report: &EndpointReport, tmp: &Path) -> Result<Vec<String>> {
    let npy_err = |name: &str, e: ndarray_npy::WriteNpyError| Error::io(tmp.join(name), e);
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
    let mut files = vec!["X_train.npy".to_string(), "y_train.npy".to_string()];
    ndarray_npy::write_npy(tmp.join(&files[0]), &x).map_err(|e| npy_err(&files[0], e))?;
    ndarray_npy::write_npy(tmp.join(&files[1]), &Array1::from(data.y.clone())).map_err(|e| npy_err(&files[1], e))?;
    for (name, c) in &report.points {
        if c.is_err() {
            continue;
        }
        let w = if name == "init" { &exp.init } else { &runs.iter().find(|r| &r.name == name).expect("a run").weights };
        let file = format!("W_{name}.npy");
        let a = Array2::from_shape_vec((w.d(), 2 * w.m()), w.as_slice().to_vec()).expect("d x 2m weights");
        ndarray_npy::write_npy(tmp.join(&file), &a).map_err(|e| npy_err(&file, e))?;
        files.push(file);
    }
    let text = serde_json::to_string_pretty(&certificate_json(exp, report)).expect("plain JSON") + "\n";
    std::fs::write(tmp.join(CERTIFICATE), text).map_err(|e| Error::io(tmp.join(CERTIFICATE), e))?;
    files.push(CERTIFICATE.to_string());
    Ok(files)
}
