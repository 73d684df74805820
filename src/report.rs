//! Reports of the headline experiment: a text table per optimizer, the verdict lines, a JSON summary
//! and a Markdown report. Nothing here computes; it formats what [`crate::train`] measured.

use std::fmt::Write as _;

use serde_json::Value;

use crate::format::{Align, Table, sig};
use crate::train::{Experiment, Run};
use crate::verdict::VerdictLine;

/// The JSON summary of the headline (`--json`): [`crate::results::RunSummary`] (the setting, every
/// run's final state, the distance between the GD and Adam solutions, and the verdicts), keys in
/// alphabetical order.
pub fn json_summary(exp: &Experiment, runs: &[Run], verdicts: &[VerdictLine]) -> Value {
    crate::results::to_json(&crate::results::RunSummary::of(exp, runs, verdicts))
}

/// The rows of the per-optimizer table: `(label, value)`.
fn rows(r: &Run) -> Vec<(&'static str, String)> {
    let c = &r.last;
    let co = &c.coefficients;
    vec![
        ("steps", format!("{} ({})", r.steps, r.stop)),
        ("training error", sig(c.train_error, 4)),
        ("test error", sig(c.test_error, 4)),
        ("objective L(W)", sig(c.objective, 4)),
        ("||grad L||_2", sig(c.grad_norm_l2, 3)),
        ("||W||_F", sig(c.weight_norm, 4)),
        (
            "feature max_r gamma (j=+1, j=-1)",
            format!("{}, {}", sig(co.feature_max_per_class[0], 3), sig(co.feature_max_per_class[1], 3)),
        ),
        ("noise min_i max_r rho", sig(co.noise_min_max, 3)),
        ("noise max_i max_r rho", sig(co.noise_max_max, 3)),
        ("feature reversal step", r.feature_reversal_step.map_or("never".to_string(), |s| s.to_string())),
        ("seconds", format!("{:.2}", r.seconds)),
    ]
}

/// The plain-text report printed by `adamgap run`.
pub fn text(exp: &Experiment, runs: &[Run], verdicts: &[VerdictLine]) -> String {
    let s = &exp.setting;
    let mut out = String::new();
    let d = &s.data;
    let _ = writeln!(
        out,
        "adamgap: GD vs Adam from one initialization (Zou, Cao, Li, Gu, ICLR 2023)\n\
         setting: d={} n={} s={} sigma_p={} alpha={} P={} test={} | {}",
        d.d,
        d.n,
        d.s,
        d.sigma_p,
        d.alpha,
        d.patches,
        d.test_size,
        model_and_budget(s)
    );
    let ov = exp.overlap();
    let _ = writeln!(
        out,
        "training noise supports: {} of {} pairs overlap ({} samples share a coordinate with another)\n",
        ov.pairs_overlapping, ov.pairs_total, ov.samples_overlapping
    );
    out.push_str(&run_table(runs, |_| true));
    if let Some((_, dist)) = gd_adam(runs) {
        let _ = writeln!(out, "\n||W_GD - W_Adam||_F = {}", sig(dist, 4));
    }
    out.push('\n');
    for v in verdicts {
        let _ = writeln!(out, "{}: {}", v.statement, v.verdict.yes_no());
    }
    out
}

/// A Markdown report: the text report plus the trace of every run at its checkpoints.
pub fn markdown(exp: &Experiment, runs: &[Run], verdicts: &[VerdictLine]) -> String {
    let mut out = String::from("# adamgap headline report\n\n```text\n");
    out.push_str(&text(exp, runs, verdicts));
    out.push_str("```\n");
    // A minibatch run's trace also counts epochs (a full-batch step is an epoch).
    let epochs = !exp.full_batch();
    for r in runs {
        let _ = writeln!(out, "\n## Trace: {}\n", r.name);
        let (head, rule) = if epochs { ("| step | epoch ", "|---|---") } else { ("| step ", "|---") };
        let _ = writeln!(
            out,
            "{head}| objective | train err | test err | grad l2 | max gamma | min_i max_r rho | max_i max_r rho |\n{rule}|---|---|---|---|---|---|---|"
        );
        for c in &r.trace {
            let co = &c.coefficients;
            let step = if epochs { format!("{} | {}", c.step, sig(c.epoch, 4)) } else { c.step.to_string() };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                step,
                sig(c.objective, 4),
                sig(c.train_error, 3),
                sig(c.test_error, 3),
                sig(c.grad_norm_l2, 3),
                sig(co.feature_max, 3),
                sig(co.noise_min_max, 3),
                sig(co.noise_max_max, 3)
            );
        }
    }
    out
}

/// What a report on real images says instead of the synthetic coefficients.
pub const REAL_NOTE: &str = "The feature and noise coefficients (gamma, rho) are notions of the synthetic \
distribution (its feature direction v = e_1 and its noise patches): on real images they mean nothing, so they \
are not shown and the headline claims about them give no verdict. Shown instead: the training and test error \
of each optimizer and the distance ||W_GD - W_Adam||_F between the GD and Adam solutions (docs/images.md).";

/// `m=.. q=.. Activation sigma0=.. lambda=.. | steps=.. seed=..`: the model and the budget, as both
/// reports' setting lines end.
fn model_and_budget(s: &crate::setting::Setting) -> String {
    let m = &s.model;
    format!(
        "m={} q={} {:?} sigma0={} lambda={} | steps={}{} seed={}",
        m.m,
        m.q,
        m.activation,
        m.sigma0,
        m.lambda,
        s.train.steps,
        batches(s),
        s.seed
    )
}

/// ` batch=B (E epochs, sampling, last batch)` for a minibatch setting; empty for full batch.
fn batches(s: &crate::setting::Setting) -> String {
    let (t, n) = (&s.train, s.data.n);
    if t.full_batch(n) {
        return String::new();
    }
    let epochs = s.train.steps as f64 / t.steps_per_epoch(n) as f64;
    let sampling =
        serde_json::to_value(t.sampling).map(|v| v.as_str().unwrap_or_default().to_string()).unwrap_or_default();
    let last =
        serde_json::to_value(t.last_batch).map(|v| v.as_str().unwrap_or_default().to_string()).unwrap_or_default();
    format!(" batch={} ({} epochs, {sampling}, last batch {last})", t.batch(n), sig(epochs, 4))
}

/// The table of [`rows`] with one column per run, keeping the rows whose label `keep` accepts.
fn run_table(runs: &[Run], keep: impl Fn(&str) -> bool) -> String {
    let table: Vec<Vec<(&str, String)>> =
        runs.iter().map(|r| rows(r).into_iter().filter(|(k, _)| keep(k)).collect()).collect();
    let mut align = vec![Align::Left];
    align.extend(runs.iter().map(|_| Align::Right));
    let mut t = Table::new(&align);
    t.row(std::iter::once(String::new()).chain(runs.iter().map(|r| r.name.clone())));
    for i in 0..table.first().map_or(0, Vec::len) {
        t.row(std::iter::once(table[0][i].0.to_string()).chain(table.iter().map(|c| c[i].1.clone())));
    }
    t.render()
}

/// Test error of Adam minus GD's, and `||W_GD - W_Adam||_F`, when both ran.
fn gd_adam(runs: &[Run]) -> Option<(f64, f64)> {
    let find = |k: &str| runs.iter().find(|r| r.name == k);
    let (g, a) = (find("gd")?, find("adam")?);
    Some((a.last.test_error - g.last.test_error, g.weights.distance(&a.weights)))
}

/// The plain-text report of a run on real images (`adamgap run --dataset`): the task, then per
/// optimizer its steps, errors, objective, gradient and weight norms, then the GD-Adam comparison.
pub fn real_text(exp: &Experiment, runs: &[Run], t: &crate::images::TaskInfo) -> String {
    let s = &exp.setting;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "adamgap: GD vs Adam from one initialization on real images (Zou, Cao, Li, Gu, ICLR 2023)\n\
         task: {} ({} = +1, {} = -1) | {}x{} images cut into P={} tiles of {}x{} (d={}), pixel value x/{}\n\
         data: n={} training images (balanced, of {}), test={} (of {}) | {}\n",
        t.task,
        t.positive,
        t.negative,
        t.rows,
        t.cols,
        t.patches,
        t.tile,
        t.tile,
        t.d,
        t.pixel_max,
        t.n,
        t.train_available,
        t.test,
        t.test_available,
        model_and_budget(s)
    );
    let keep = ["steps", "training error", "test error", "objective L(W)", "||grad L||_2", "||W||_F", "seconds"];
    out.push_str(&run_table(runs, |k| keep.contains(&k)));
    if let Some((gap, dist)) = gd_adam(runs) {
        let _ = writeln!(out, "\n||W_GD - W_Adam||_F = {}", sig(dist, 4));
        let _ = writeln!(out, "test error, Adam minus GD = {}", sig(gap, 4));
    }
    let _ = writeln!(out, "\n{REAL_NOTE}");
    out
}

/// The `report.md` of a report folder of a run on real images: the report of [`real_text`], the
/// error figure (the only one of the three that describes real data) and each run's trace
/// without the synthetic coefficients.
pub fn real_markdown(exp: &Experiment, runs: &[Run], t: &crate::images::TaskInfo) -> String {
    let mut out = format!(
        "# adamgap report: real images ({})\n\n```text\n{}```\n\n## Figure\n\n\
         ![Training and test error against the step](errors.svg)\n\n\
         *Training error (left) and test error (right, the task's test images) against the step t (log \
         axis), one line per optimizer.*\n",
        t.task,
        real_text(exp, runs, t)
    );
    for r in runs {
        let _ = writeln!(out, "\n## Trace: {}\n", r.name);
        out.push_str("| step | objective | train err | test err | grad l2 | ||W||_F |\n|---|---|---|---|---|---|\n");
        for c in &r.trace {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                c.step,
                sig(c.objective, 4),
                sig(c.train_error, 3),
                sig(c.test_error, 3),
                sig(c.grad_norm_l2, 3),
                sig(c.weight_norm, 3)
            );
        }
    }
    out
}

/// The `dataset` object of the JSON summary of a run on real images: the task, the GD-Adam
/// comparison (`null` unless both ran) and [`REAL_NOTE`].
pub fn real_json(_exp: &Experiment, runs: &[Run], t: &crate::images::TaskInfo) -> Value {
    let mut v = serde_json::to_value(t).expect("a task serializes");
    let cmp = gd_adam(runs);
    v["test_error_adam_minus_gd"] = cmp.map_or(Value::Null, |c| serde_json::json!(c.0));
    v["distance_gd_adam"] = cmp.map_or(Value::Null, |c| serde_json::json!(c.1));
    v["note"] = serde_json::json!(REAL_NOTE);
    v
}
