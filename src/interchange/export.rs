//! Writes an `adamgap-run-1` folder (`adamgap run --export DIR`), atomically ([`crate::outdir`]).

use std::io::Write as _;
use std::path::Path;

use ndarray::{Array1, Array2, Array3};
use ndarray_npy::WriteNpyExt;
use serde_json::{Value, json};

use super::{
    BATCHES_FILE, FORMAT, Shapes, TRACE_HEADER, data_files, shortest, trace_file, weights_file, weights_lo_file,
};
use crate::data::PatchData;
use crate::endpoints::EndpointReport;
use crate::error::Result;
use crate::outdir::OutDir;
use crate::train::{Batches, Experiment, Run};

/// The precision of every run of this version (double-double runs will say `dd`).
pub const PRECISION_F64: &str = "f64";
/// The precision of a double-double run.
pub const PRECISION_DD: &str = "dd";

/// The shapes of an experiment.
pub fn shapes(exp: &Experiment) -> Shapes {
    Shapes {
        n: exp.train.len(),
        test_size: exp.test.len(),
        patches: exp.train.patches,
        d: exp.train.d,
        m: exp.init.m(),
        train_nnz: exp.train.x.nnz(),
        test_nnz: exp.test.x.nnz(),
    }
}

/// The manifest of an export: format, setting, shapes and one record per optimizer run.
pub fn manifest(exp: &Experiment, runs: &[Run]) -> Value {
    let optimizers: Vec<Value> = runs
        .iter()
        .map(|r| {
            let mut hyper = serde_json::to_value(&r.optimizer).expect("an optimizer setting is plain data");
            if let Some(obj) = hyper.as_object_mut() {
                obj.remove("kind");
            }
            json!({
                "name": r.name,
                "kind": r.optimizer.key(),
                "hyperparameters": hyper,
                "steps": r.steps,
                "stop_reason": r.stop.label(),
                "stop": r.stop,
                "feature_reversal_step": r.feature_reversal_step,
                "precision": if r.weights_lo.is_some() { PRECISION_DD } else { PRECISION_F64 },
                "weights": weights_file(&r.name),
                "weights_lo": r.weights_lo.as_ref().map(|_| weights_lo_file(&r.name)),
                "trace": trace_file(&r.name),
            })
        })
        .collect();
    let mut manifest = json!({
        "format": FORMAT,
        "setting": exp.setting,
        "shapes": shapes(exp),
        "optimizers": optimizers,
    });
    if !exp.full_batch() {
        let t = &exp.setting.train;
        manifest["batches"] = json!({
            "file": BATCHES_FILE,
            "batch_size": t.batch(exp.train.len()),
            "sampling": t.sampling,
            "last_batch": t.last_batch,
            "steps_per_epoch": exp.steps_per_epoch(),
            "steps": schedule_steps(runs),
            "seed": exp.setting.seed,
            "stream": crate::data::STREAM_BATCHES,
            "padding": -1,
        });
    }
    manifest
}

/// Steps of the schedule an export writes: the longest run's.
fn schedule_steps(runs: &[Run]) -> usize {
    runs.iter().map(|r| r.steps).max().unwrap_or(0)
}

/// The batch schedule of a minibatch export ([`BATCHES_FILE`]).
fn schedule(exp: &Experiment, steps: usize) -> Array2<i64> {
    let b = exp.setting.train.batch(exp.train.len());
    let batches = Batches::new(&exp.setting.train, exp.train.len(), exp.setting.seed).take(steps);
    let mut a = Array2::from_elem((steps, b), -1i64);
    for (mut row, batch) in a.rows_mut().into_iter().zip(&batches) {
        for (slot, &i) in row.iter_mut().zip(batch) {
            *slot = i64::from(i);
        }
    }
    a
}

/// The trace of a run as CSV ([`TRACE_HEADER`]; every number in its shortest round-trip form).
pub fn trace_csv(r: &Run) -> String {
    let mut out = String::from(TRACE_HEADER);
    out.push('\n');
    for c in &r.trace {
        let co = &c.coefficients;
        let cols = [c.objective, c.loss, c.train_error, c.test_error, c.grad_norm_l2, co.feature_max, co.noise_min_max];
        out.push_str(&c.step.to_string());
        for v in cols {
            out.push(',');
            out.push_str(&shortest(v));
        }
        out.push('\n');
    }
    out
}

fn npy<A: WriteNpyExt>(out: &mut OutDir, name: &str, a: &A) -> Result<()> {
    out.write_with(name, |w| a.write_npy(w).map_err(|e| e.to_string()))
}

fn write_data(out: &mut OutDir, prefix: &str, data: &PatchData) -> Result<()> {
    let [indptr, indices, values, y] = data_files(prefix);
    let to_i64 = |v: usize| i64::try_from(v).expect("an index fits in i64");
    npy(out, &indptr, &Array1::from_iter(data.x.ptr.iter().map(|&p| to_i64(p))))?;
    npy(out, &indices, &Array1::from_iter(data.x.idx.iter().map(|&k| i64::from(k))))?;
    npy(out, &values, &Array1::from_vec(data.x.val.clone()))?;
    npy(out, &y, &Array1::from_vec(data.y.clone()))
}

fn weights(w: &crate::model::Weights) -> Array3<f64> {
    w.to_paper_layout()
}

/// Writes the folder `dir`: nothing at `dir` changes unless every file is written.
/// With `certified` (`run --certify`), the manifest gets the certificate's claimed bounds (key
/// `certify`) and the folder the certificate's files (`crate::endpoints::export`).
pub fn write(dir: &Path, exp: &Experiment, runs: &[Run], certified: Option<&EndpointReport>) -> Result<()> {
    let mut out = OutDir::create(dir, &super::owned)?;
    let mut manifest = manifest(exp, runs);
    if let Some(report) = certified {
        manifest["certify"] = crate::endpoints::json(report);
        let run_refs: Vec<&Run> = runs.iter().collect();
        crate::endpoints::export::write_into(&mut out, exp, &run_refs, report)?;
    }
    let text = serde_json::to_string_pretty(&manifest).expect("JSON of plain data");
    out.write_with("manifest.json", |w| writeln!(w, "{text}").map_err(|e| e.to_string()))?;
    write_data(&mut out, "train", &exp.train)?;
    write_data(&mut out, "test", &exp.test)?;
    npy(&mut out, "w_init.npy", &weights(&exp.init))?;
    if !exp.full_batch() {
        npy(&mut out, BATCHES_FILE, &schedule(exp, schedule_steps(runs)))?;
    }
    for r in runs {
        npy(&mut out, &weights_file(&r.name), &weights(&r.weights))?;
        if let Some(lo) = &r.weights_lo {
            npy(&mut out, &weights_lo_file(&r.name), &weights(lo))?;
        }
        out.write(&trace_file(&r.name), trace_csv(r).as_bytes())?;
    }
    out.commit()
}
