//! The audit's text table and JSON (`adamgap precision`, `--json`).

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::format::sig;
use crate::train::{Experiment, Run};

use super::audit::{Audit, Growth, OptimizerAudit, THRESHOLDS};
use super::ladder::{LADDER_THRESHOLDS, Ladder};

/// A run's final quantities with the keys of the headline's `runs.*` in `adamgap --json`.
pub fn run_json(exp: &Experiment, run: &Run) -> Value {
    crate::report::json_summary(exp, std::slice::from_ref(run), &[])["runs"][&run.name].clone()
}

fn parting_json(thresholds: &[f64], steps: &[Option<usize>]) -> Value {
    let mut o = serde_json::Map::new();
    for (h, s) in thresholds.iter().zip(steps) {
        o.insert(format!("{h:e}"), json!(s));
    }
    Value::Object(o)
}

/// Steps `0, 1, 2, 5, 10, ...` and the last, with the distance there.
fn sampled(distance: &[f64]) -> Value {
    let mut o = serde_json::Map::new();
    let mut base = 1usize;
    o.insert("0".into(), json!(distance.first()));
    while base < distance.len() {
        for k in [1, 2, 5] {
            if let Some(d) = distance.get(base * k) {
                o.insert((base * k).to_string(), json!(d));
            }
        }
        base *= 10;
    }
    if let Some(d) = distance.last() {
        o.insert((distance.len() - 1).to_string(), json!(d));
    }
    Value::Object(o)
}

/// `[min, max]` of `f` over the twins.
fn spread(runs: &[Run], f: impl Fn(&Run) -> Option<f64>) -> Value {
    let v: Vec<f64> = runs.iter().filter_map(f).collect();
    if v.len() < runs.len() {
        // Some twin has no value (e.g. no reversal): say so instead of a range.
        return json!({ "min": v.iter().copied().reduce(f64::min), "max": v.iter().copied().reduce(f64::max), "missing": runs.len() - v.len() });
    }
    json!({ "min": v.iter().copied().reduce(f64::min), "max": v.iter().copied().reduce(f64::max) })
}

fn optimizer_json(exp: &Experiment, o: &OptimizerAudit) -> Value {
    let twins: Vec<Value> = o.twins.iter().map(|r| run_json(exp, r)).collect();
    let twin_distance: Vec<f64> =
        o.twins.iter().map(|r| r.weights.distance(&o.f64.weights) / o.f64.weights.norm()).collect();
    json!({
        "parting_step": parting_json(&THRESHOLDS, &o.parting),
        "growth_rate": o.growth.map(|g| g.rate),
        "growth_fit": o.growth,
        "growth_above_floor": o.growth_above_floor,
        "distance": sampled(&o.distance),
        "f64": run_json(exp, &o.f64),
        "dd": run_json(exp, &o.dd),
        "twins": twins,
        "twins_final_distance_to_f64": twin_distance,
        "twins_spread": {
            "test_error": spread(&o.twins, |r| Some(r.last.test_error)),
            "feature_max": spread(&o.twins, |r| Some(r.last.coefficients.feature_max)),
            "noise_min_max": spread(&o.twins, |r| Some(r.last.coefficients.noise_min_max)),
            "feature_reversal_step": spread(&o.twins, |r| r.feature_reversal_step.map(|s| s as f64)),
        },
        "verdicts_agree": o.verdicts_agree,
    })
}

/// The ladder as JSON.
pub fn ladder_json(l: &Ladder) -> Value {
    let mut rows = serde_json::Map::new();
    for r in &l.rows {
        rows.insert(
            r.name.clone(),
            json!({
                "f64_parting_step": parting_json(&LADDER_THRESHOLDS, &r.f64_parting),
                "dd_parting_step": parting_json(&LADDER_THRESHOLDS, &r.dd_parting),
                "f64_growth": r.f64_growth,
                "dd_growth": r.dd_growth,
                "f64_distance": sampled(&r.f64_distance),
                "dd_distance": sampled(&r.dd_distance),
            }),
        );
    }
    json!({ "setting": l.setting, "runs": rows, "seconds": l.seconds })
}

/// The audit as JSON.
pub fn json(a: &Audit) -> Value {
    let mut runs = serde_json::Map::new();
    for o in &a.optimizers {
        runs.insert(o.name.clone(), optimizer_json(&a.exp, o));
    }
    json!({
        "setting": a.exp.setting,
        "thresholds": THRESHOLDS,
        "runs": runs,
        "verdicts": a.verdicts,
        "verdicts_agree": a.verdicts_agree,
        "ladder": a.ladder.as_ref().map(ladder_json),
        "seconds": a.seconds,
    })
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

/// The audit as a text table.
pub fn text(a: &Audit) -> String {
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
    let _ = writeln!(
        out,
        "every headline verdict the same in f64, dd and every twin: {}",
        if a.verdicts_agree { "yes" } else { "no" }
    );
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
