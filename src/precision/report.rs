//! The audit's text table and JSON (`adamgap precision`, `--json`). The JSON is [`AuditReport`],
//! read back strictly (unknown or missing fields are errors). Its agreement (`verdicts_agree`, and
//! the text's last verdict line) is claim 11's checks on the audit by the one verdict rule
//! (`claims::commands::precision`), which the caller passes in: `precision` does not import
//! `claims`, which measures its precision claim through this audit.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::format::sig;
use crate::results::{RunResult, number_list, required};
use crate::setting::Setting;
use crate::train::Run;
use crate::verdict::Verdict;

use super::audit::{Audit, Growth, OptimizerAudit, THRESHOLDS, VerdictRow};
use super::ladder::{LADDER_THRESHOLDS, Ladder};

/// The audit as JSON (`adamgap precision --json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditReport {
    pub setting: Setting,
    /// The relative distances whose first crossing is a parting step.
    pub thresholds: Vec<f64>,
    pub runs: BTreeMap<String, OptimizerReport>,
    /// Every headline verdict line in every variant.
    pub verdicts: Vec<VerdictRow>,
    /// `true` exactly when claim 11's checks hold on this audit (`theorems/11-precision-robust.toml`).
    pub verdicts_agree: bool,
    /// The ladder, when asked for.
    #[serde(deserialize_with = "required")]
    pub ladder: Option<LadderReport>,
    pub seconds: f64,
}

/// One optimizer's audit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimizerReport {
    /// First step above each threshold (`"1e-9"`, ...), `null`: never.
    pub parting_step: BTreeMap<String, Option<usize>>,
    /// [`Growth::rate`] of `growth_fit`.
    #[serde(deserialize_with = "required")]
    pub growth_rate: Option<f64>,
    /// The growth of the distance from its first value to its maximum.
    #[serde(deserialize_with = "required")]
    pub growth_fit: Option<Growth>,
    /// The growth above the roundoff floor.
    #[serde(deserialize_with = "required")]
    pub growth_above_floor: Option<Growth>,
    /// `||W_f64 - W_dd|| / ||W_dd||` at steps 0, 1, 2, 5, 10, ... and the last, by step.
    pub distance: BTreeMap<String, Option<f64>>,
    pub f64: RunResult,
    pub dd: RunResult,
    pub twins: Vec<RunResult>,
    /// Each twin's final relative distance to the binary64 run.
    #[serde(deserialize_with = "number_list")]
    pub twins_final_distance_to_f64: Vec<f64>,
    pub twins_spread: TwinsSpread,
    /// Every headline verdict is the same with this optimizer's run replaced by its `dd` run or any
    /// twin's.
    pub verdicts_agree: bool,
}

/// The range of final quantities over the twins.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwinsSpread {
    pub test_error: Spread,
    pub feature_max: Spread,
    pub noise_min_max: Spread,
    pub feature_reversal_step: Spread,
}

/// `[min, max]` of a quantity over the twins.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spread {
    #[serde(deserialize_with = "required")]
    pub min: Option<f64>,
    #[serde(deserialize_with = "required")]
    pub max: Option<f64>,
    /// Twins without a value (a feature that never reversed); written only when there are some.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<usize>,
}

/// The ladder as JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LadderReport {
    pub setting: Setting,
    pub runs: BTreeMap<String, LadderRowReport>,
    pub seconds: f64,
}

/// One optimizer of the ladder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LadderRowReport {
    pub f64_parting_step: BTreeMap<String, Option<usize>>,
    pub dd_parting_step: BTreeMap<String, Option<usize>>,
    #[serde(deserialize_with = "required")]
    pub f64_growth: Option<Growth>,
    #[serde(deserialize_with = "required")]
    pub dd_growth: Option<Growth>,
    pub f64_distance: BTreeMap<String, Option<f64>>,
    pub dd_distance: BTreeMap<String, Option<f64>>,
}

/// A run's final quantities with the keys of the headline's `runs.*` in `adamgap --json`.
pub fn run_json(run: &Run) -> RunResult {
    RunResult::of(run)
}

fn parting(thresholds: &[f64], steps: &[Option<usize>]) -> BTreeMap<String, Option<usize>> {
    thresholds.iter().zip(steps).map(|(h, s)| (format!("{h:e}"), *s)).collect()
}

/// Steps `0, 1, 2, 5, 10, ...` and the last, with the distance there.
fn sampled(distance: &[f64]) -> BTreeMap<String, Option<f64>> {
    let mut o = BTreeMap::new();
    let mut base = 1usize;
    o.insert("0".into(), distance.first().copied());
    while base < distance.len() {
        for k in [1, 2, 5] {
            if let Some(d) = distance.get(base * k) {
                o.insert((base * k).to_string(), Some(*d));
            }
        }
        base *= 10;
    }
    if let Some(d) = distance.last() {
        o.insert((distance.len() - 1).to_string(), Some(*d));
    }
    o
}

/// `[min, max]` of `f` over the twins.
fn spread(runs: &[Run], f: impl Fn(&Run) -> Option<f64>) -> Spread {
    let v: Vec<f64> = runs.iter().filter_map(f).collect();
    Spread {
        min: v.iter().copied().reduce(f64::min),
        max: v.iter().copied().reduce(f64::max),
        // Some twin has no value (e.g. no reversal): say so beside the range.
        missing: (v.len() < runs.len()).then(|| runs.len() - v.len()),
    }
}

fn optimizer_report(o: &OptimizerAudit) -> OptimizerReport {
    OptimizerReport {
        parting_step: parting(&THRESHOLDS, &o.parting),
        growth_rate: o.growth.map(|g| g.rate),
        growth_fit: o.growth,
        growth_above_floor: o.growth_above_floor,
        distance: sampled(&o.distance),
        f64: run_json(&o.f64),
        dd: run_json(&o.dd),
        twins: o.twins.iter().map(run_json).collect(),
        twins_final_distance_to_f64: o
            .twins
            .iter()
            .map(|r| r.weights.distance(&o.f64.weights) / o.f64.weights.norm())
            .collect(),
        twins_spread: TwinsSpread {
            test_error: spread(&o.twins, |r| Some(r.last.test_error)),
            feature_max: spread(&o.twins, |r| Some(r.last.coefficients.feature_max)),
            noise_min_max: spread(&o.twins, |r| Some(r.last.coefficients.noise_min_max)),
            feature_reversal_step: spread(&o.twins, |r| r.feature_reversal_step.map(|s| s as f64)),
        },
        verdicts_agree: o.verdicts_agree,
    }
}

/// The ladder as JSON.
pub fn ladder_json(l: &Ladder) -> LadderReport {
    let runs = l
        .rows
        .iter()
        .map(|r| {
            let row = LadderRowReport {
                f64_parting_step: parting(&LADDER_THRESHOLDS, &r.f64_parting),
                dd_parting_step: parting(&LADDER_THRESHOLDS, &r.dd_parting),
                f64_growth: r.f64_growth,
                dd_growth: r.dd_growth,
                f64_distance: sampled(&r.f64_distance),
                dd_distance: sampled(&r.dd_distance),
            };
            (r.name.clone(), row)
        })
        .collect();
    LadderReport { setting: l.setting.clone(), runs, seconds: l.seconds }
}

impl AuditReport {
    /// The report of an audit; `agreement` is claim 11's verdict on it
    /// (`claims::commands::precision`).
    pub fn of(a: &Audit, agreement: &Verdict) -> Self {
        Self {
            setting: a.exp.setting.clone(),
            thresholds: THRESHOLDS.to_vec(),
            runs: a.optimizers.iter().map(|o| (o.name.clone(), optimizer_report(o))).collect(),
            verdicts: a.verdicts.clone(),
            verdicts_agree: *agreement == Verdict::Holds,
            ladder: a.ladder.as_ref().map(ladder_json),
            seconds: a.seconds,
        }
    }
}

/// The audit as JSON ([`AuditReport`], keys in alphabetical order).
pub fn json(a: &Audit, agreement: &Verdict) -> serde_json::Value {
    crate::results::to_json(&AuditReport::of(a, agreement))
}

fn step(s: Option<usize>) -> String {
    s.map_or("never".into(), |s| s.to_string())
}

fn growth_text(g: Option<Growth>) -> String {
    g.map_or("none".into(), |g| {
        format!("{} /step (x10 per {} steps; fit {}..{})", sig(g.rate, 3), sig(g.steps_per_decade, 3), g.from, g.to)
    })
}

/// `f64 | dd | twins min..max` of a quantity.
fn triple(o: &OptimizerAudit, f: impl Fn(&Run) -> f64) -> String {
    let t: Vec<f64> = o.twins.iter().map(&f).collect();
    let (lo, hi) =
        (t.iter().copied().fold(f64::INFINITY, f64::min), t.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    format!("{} | {} | {}..{}", sig(f(&o.f64), 4), sig(f(&o.dd), 4), sig(lo, 4), sig(hi, 4))
}

/// The audit as a text table; `agreement` is claim 11's verdict on it (the last verdict line).
pub fn text(a: &Audit, agreement: &Verdict) -> String {
    let s = &a.exp.setting;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "adamgap precision: binary64 (f64) against double-double (dd) and {} one-ulp twins of W^(0)\n\
         setting: d={} n={} s={} m={} lambda={} steps={} seed={}\n",
        a.optimizers.first().map_or(0, |o| o.twins.len()),
        s.data.d,
        s.data.n,
        s.data.s,
        s.model.m,
        s.model.lambda,
        s.train.steps,
        s.seed
    );
    for o in &a.optimizers {
        let _ = writeln!(out, "{}:", o.name);
        for (h, p) in THRESHOLDS.iter().zip(&o.parting) {
            let _ = writeln!(out, "  parting step ||W_f64 - W_dd|| / ||W_dd|| > {h:e}: {}", step(*p));
        }
        let _ = writeln!(out, "  growth of the distance (first value to maximum): {}", growth_text(o.growth));
        let _ = writeln!(out, "  growth above {:e}: {}", super::audit::FIT_FLOOR, growth_text(o.growth_above_floor));
        let _ = writeln!(out, "  final distance: {}", sig(*o.distance.last().unwrap_or(&f64::NAN), 3));
        let _ = writeln!(out, "  {:<28} f64 | dd | twins min..max", "");
        let _ = writeln!(out, "  {:<28} {}", "test error", triple(o, |r| r.last.test_error));
        let _ = writeln!(out, "  {:<28} {}", "training error", triple(o, |r| r.last.train_error));
        let _ = writeln!(out, "  {:<28} {}", "feature max gamma", triple(o, |r| r.last.coefficients.feature_max));
        let _ = writeln!(out, "  {:<28} {}", "noise min_i max_r rho", triple(o, |r| r.last.coefficients.noise_min_max));
        let rev = |r: &Run| step(r.feature_reversal_step);
        let twins: Vec<String> = o.twins.iter().map(rev).collect();
        let _ =
            writeln!(out, "  {:<28} {} | {} | {}", "feature reversal step", rev(&o.f64), rev(&o.dd), twins.join(", "));
        let _ = writeln!(out, "  {:<28} {} | {}", "stop", o.f64.stop, o.dd.stop);
        let _ = writeln!(out, "  verdicts agree: {}\n", if o.verdicts_agree { "yes" } else { "no" });
    }
    let _ = writeln!(out, "headline verdicts (f64 | dd | twins):");
    for v in &a.verdicts {
        let _ = writeln!(
            out,
            "  {}: {} | {} | {}{}",
            v.statement,
            v.f64,
            v.dd,
            v.twins.join(", "),
            if v.agree { "" } else { "  <- differs" }
        );
    }
    let _ = writeln!(out, "every headline verdict the same in f64, dd and every twin: {}", agreement.yes_no());
    if let Some(l) = &a.ladder {
        let ls = &l.setting;
        let _ = writeln!(
            out,
            "\nladder (256-bit reference; d={} n={} s={} m={}, {} steps):",
            ls.data.d, ls.data.n, ls.data.s, ls.model.m, ls.train.steps
        );
        for r in &l.rows {
            let _ = writeln!(out, "  {}: parting steps from the 256-bit trajectory", r.name);
            for (i, h) in LADDER_THRESHOLDS.iter().enumerate() {
                let _ = writeln!(out, "    > {h:e}: f64 {}, dd {}", step(r.f64_parting[i]), step(r.dd_parting[i]));
            }
            let _ = writeln!(out, "    growth f64: {}", growth_text(r.f64_growth));
            let _ = writeln!(out, "    growth dd:  {}", growth_text(r.dd_growth));
        }
    }
    let _ = writeln!(out, "\nseconds: {:.1}", a.seconds);
    out
}
