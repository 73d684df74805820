//! The typed results the crate writes as JSON and reads back: a run's final state
//! ([`RunResult`], each entry of `runs` in `adamgap --json`, in a sweep cell and in the precision
//! audit), the headline's summary ([`RunSummary`], `adamgap --json`) and a sweep cell ([`Cell`],
//! `DIR/results/<id>.json` and each line of `DIR/sweep.jsonl`).
//!
//! Reading is strict: every struct rejects unknown fields, and every field must be present (a
//! `null` where the doc says so) except the few added after files were written, each an explicit
//! `Option` whose doc says what its absence means. A misspelt or missing key is an error naming it,
//! never a silent default. A number that is not finite is written as `null` by JSON and read back
//! as NaN (a diverged run's objective, say), so that a reader sees a value that is not one.
//!
//! The files are written with their keys in alphabetical order ([`to_json`]), as they always were.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::data::Overlap;
use crate::optim::StopReason;
use crate::setting::{OptimizerSetting, Setting};
use crate::train::{Experiment, Run};
use crate::verdict::VerdictLine;

/// A run's final state, as every JSON output of the crate writes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunResult {
    /// The optimizer and its hyperparameters.
    pub optimizer: OptimizerSetting,
    #[serde(deserialize_with = "number")]
    pub train_error: f64,
    #[serde(deserialize_with = "number")]
    pub test_error: f64,
    /// `L(W)` (weight decay included).
    #[serde(deserialize_with = "number")]
    pub objective: f64,
    /// The mean logistic loss.
    #[serde(deserialize_with = "number")]
    pub loss: f64,
    #[serde(deserialize_with = "number")]
    pub grad_norm_l2: f64,
    #[serde(deserialize_with = "number")]
    pub grad_norm_l1: f64,
    /// `||W||_F`.
    #[serde(deserialize_with = "number")]
    pub weight_norm: f64,
    /// `max_{j,r} gamma_{j,r}`.
    #[serde(deserialize_with = "number")]
    pub feature_max: f64,
    /// `max_r gamma_{j,r}` for `j = +1, -1`.
    #[serde(deserialize_with = "numbers")]
    pub feature_max_per_class: [f64; 2],
    /// `min_i max_r rho_{i,r}`.
    #[serde(deserialize_with = "number")]
    pub noise_min_max: f64,
    /// `max_i max_r rho_{i,r}`.
    #[serde(deserialize_with = "number")]
    pub noise_max_max: f64,
    /// First step with `max_{j,r} gamma_{j,r} < 0`; `null`: the feature never reversed.
    #[serde(deserialize_with = "required")]
    pub feature_reversal_step: Option<usize>,
    pub steps: usize,
    /// [`StopReason::label`] of `stop`.
    pub stop_reason: String,
    pub stop: StopReason,
    /// Wall-clock seconds. Written by `adamgap --json` and the precision audit; a sweep cell keeps
    /// its times under [`Cell::timing`], so its runs have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    /// Whether the run left `W^(0)`. Written in sweep cells only; absent in `adamgap --json` and in
    /// cells written before adamgap recorded it (a reader of such a cell takes a run that took
    /// steps as moved: `claims::outcome::RunInfo::of_result`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved: Option<bool>,
    /// Adam's stage-I window in a sweep cell (`null`: a budget of 0 steps). Absent in
    /// `adamgap --json`, for the other optimizers, and in cells written before adamgap recorded it
    /// (a path claim reading such a cell says so and asks for a new sweep).
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub stage_one: Option<Option<StageOne>>,
}

impl RunResult {
    /// The final state of `run`, with its time; `moved` and `stage_one` are not set.
    pub fn of(run: &Run) -> Self {
        let c = &run.last;
        let co = &c.coefficients;
        Self {
            optimizer: run.optimizer.clone(),
            train_error: c.train_error,
            test_error: c.test_error,
            objective: c.objective,
            loss: c.loss,
            grad_norm_l2: c.grad_norm_l2,
            grad_norm_l1: c.grad_norm_l1,
            weight_norm: c.weight_norm,
            feature_max: co.feature_max,
            feature_max_per_class: co.feature_max_per_class,
            noise_min_max: co.noise_min_max,
            noise_max_max: co.noise_max_max,
            feature_reversal_step: run.feature_reversal_step,
            steps: run.steps,
            stop_reason: run.stop.label().to_string(),
            stop: run.stop,
            seconds: Some(run.seconds),
            moved: None,
            stage_one: None,
        }
    }
}

/// Adam's growth over the first steps of a cell's run (`sweep::run::STAGE_ONE_STEPS`), in units of
/// `eta` per step (`claims::measure::stage_one_growth`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageOne {
    /// Steps of the window.
    pub steps: usize,
    /// [`StopReason::label`] of the window's run.
    pub stop: String,
    /// Mean growth of the initially active `rho_{i,r}`; `null` when not defined (no active pair,
    /// non-finite weights).
    #[serde(deserialize_with = "required")]
    pub noise_growth_per_step: Option<f64>,
    /// Largest growth of `|gamma_{j,r}|`; `null` when not defined.
    #[serde(deserialize_with = "required")]
    pub feature_growth_per_step: Option<f64>,
    /// Their quotient; `null` when not defined or the feature did not move.
    #[serde(deserialize_with = "required")]
    pub growth_ratio: Option<f64>,
    /// `s sigma_p sqrt(2/pi)` (`claims::measure::predicted_noise_l1`).
    #[serde(deserialize_with = "number")]
    pub predicted_ratio: f64,
}

/// The headline's JSON summary (`adamgap --json`; the command adds `precision` and `certify` when
/// asked for): the setting, the overlap of the noise supports, every run's final state, the
/// distance between the GD and Adam solutions and the verdict lines.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSummary {
    pub setting: Setting,
    pub overlap: Overlap,
    pub runs: BTreeMap<String, RunResult>,
    /// `||W_GD - W_Adam||_F`; `null` without both runs.
    #[serde(deserialize_with = "required")]
    pub distance_gd_adam: Option<f64>,
    pub verdicts: Vec<VerdictLine>,
}

impl RunSummary {
    /// The summary of `runs` (trained from `exp`'s initialization) with their verdict lines.
    pub fn of(exp: &Experiment, runs: &[Run], verdicts: &[VerdictLine]) -> Self {
        let find = |k: &str| runs.iter().find(|r| r.name == k);
        Self {
            setting: exp.setting.clone(),
            overlap: exp.overlap(),
            runs: runs.iter().map(|r| (r.name.clone(), RunResult::of(r))).collect(),
            distance_gd_adam: match (find("gd"), find("adam")) {
                (Some(g), Some(a)) => Some(g.weights.distance(&a.weights)),
                _ => None,
            },
            verdicts: verdicts.to_vec(),
        }
    }
}

/// One sweep cell: the headline's summary of the cell's setting ([`RunSummary`]'s fields) with
/// the cell's id, index, axis values and grid hash, and the times.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cell {
    /// `c0000`, `c0001`, ...
    pub cell: String,
    pub index: usize,
    /// The hash of the grid the cell belongs to (`sweep::Grid::hash`).
    pub grid_hash: String,
    /// The cell's value on every axis, by key.
    pub axes: serde_json::Map<String, serde_json::Value>,
    pub setting: Setting,
    pub overlap: Overlap,
    /// Every run's final state, with `moved`, and Adam's `stage_one`.
    pub runs: BTreeMap<String, RunResult>,
    #[serde(deserialize_with = "required")]
    pub distance_gd_adam: Option<f64>,
    pub verdicts: Vec<VerdictLine>,
    /// The times, in `results/<id>.json`; the merge drops them, so `sweep.jsonl` has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
}

impl Cell {
    /// The cell of a grid whose runs gave `summary`.
    pub fn of(
        cell: String,
        index: usize,
        grid_hash: String,
        axes: serde_json::Map<String, serde_json::Value>,
        summary: RunSummary,
    ) -> Self {
        let RunSummary { setting, overlap, runs, distance_gd_adam, verdicts } = summary;
        Self { cell, index, grid_hash, axes, setting, overlap, runs, distance_gd_adam, verdicts, timing: None }
    }
}

/// A cell's times: the whole cell and each run, in seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    pub seconds: f64,
    pub runs: BTreeMap<String, f64>,
}

/// `value` as JSON with every object's keys in alphabetical order (the files' order).
pub fn to_json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("results serialize to JSON")
}

/// A required field that may be `null` (serde would otherwise read a missing `Option` as `None`):
/// `#[serde(deserialize_with = "crate::results::required")]`.
pub fn required<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

/// A field that may be absent (`None`), `null` (`Some(None)`) or a value (with `#[serde(default)]`).
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A required number; `null` (how JSON writes a value that is not finite) reads as NaN.
pub fn number<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// [`number`] for a pair.
pub fn numbers<'de, D: Deserializer<'de>>(d: D) -> Result<[f64; 2], D::Error> {
    let [a, b] = <[Option<f64>; 2]>::deserialize(d)?;
    Ok([a.unwrap_or(f64::NAN), b.unwrap_or(f64::NAN)])
}

/// [`number`] for a list.
pub fn number_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    Ok(Vec::<Option<f64>>::deserialize(d)?.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run() -> serde_json::Value {
        serde_json::json!({
            "optimizer": {"kind": "gd", "eta": 1.0}, "train_error": 0.0, "test_error": 0.25, "objective": null,
            "loss": 0.5, "grad_norm_l2": 1.0, "grad_norm_l1": 2.0, "weight_norm": 3.0, "feature_max": 1.0,
            "feature_max_per_class": [1.0, null], "noise_min_max": 0.5, "noise_max_max": 0.75,
            "feature_reversal_step": null, "steps": 10, "stop_reason": "step-budget",
            "stop": {"reason": "step-budget", "step": 10},
        })
    }

    /// A run reads back with NaN where JSON has `null` for a number; a missing field, even one that
    /// may be `null`, and an unknown or misspelt one are errors naming it; the fields added later
    /// may be absent.
    #[test]
    fn a_run_reads_back_strictly() {
        let r: RunResult = serde_json::from_value(run()).expect("reads");
        assert!(r.objective.is_nan() && r.feature_max_per_class[1].is_nan());
        assert_eq!((r.feature_reversal_step, r.seconds, r.moved, r.stage_one.clone()), (None, None, None, None));
        for key in ["test_error", "feature_reversal_step", "stop"] {
            let mut v = run();
            v.as_object_mut().unwrap().remove(key);
            let e = serde_json::from_value::<RunResult>(v).expect_err("missing").to_string();
            assert!(e.contains(&format!("missing field `{key}`")), "{e}");
        }
        let mut v = run();
        v["test_eror"] = serde_json::json!(0.5);
        let e = serde_json::from_value::<RunResult>(v).expect_err("misspelt").to_string();
        assert!(e.contains("unknown field `test_eror`"), "{e}");
        let mut v = run();
        v["stage_one"] = serde_json::Value::Null;
        v["moved"] = serde_json::json!(false);
        let r: RunResult = serde_json::from_value(v).expect("reads");
        assert_eq!((r.stage_one, r.moved), (Some(None), Some(false)));
    }
}
