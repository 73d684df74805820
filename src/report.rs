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
    let m = &s.model;
    let _ = writeln!(
        out,
        "adamgap: GD vs Adam from one initialization (Zou, Cao, Li, Gu, ICLR 2023)\n\
         setting: d={} n={} s={} sigma_p={} alpha={} P={} test={} | m={} q={} {:?} sigma0={} lambda={} | steps={} seed={}",
        d.d,
        d.n,
        d.s,
        d.sigma_p,
        d.alpha,
        d.patches,
        d.test_size,
        m.m,
        m.q,
        m.activation,
        m.sigma0,
        m.lambda,
        s.train.steps,
        s.seed
    );
    let ov = exp.overlap();
    let _ = writeln!(
        out,
        "training noise supports: {} of {} pairs overlap ({} samples share a coordinate with another)\n",
        ov.pairs_overlapping, ov.pairs_total, ov.samples_overlapping
    );
    let table: Vec<Vec<(&str, String)>> = runs.iter().map(rows).collect();
    let mut align = vec![Align::Left];
    align.extend(runs.iter().map(|_| Align::Right));
    let mut t = Table::new(&align);
    t.row(std::iter::once(String::new()).chain(runs.iter().map(|r| r.name.clone())));
    for i in 0..table.first().map_or(0, Vec::len) {
        t.row(std::iter::once(table[0][i].0.to_string()).chain(table.iter().map(|c| c[i].1.clone())));
    }
    out.push_str(&t.render());
    let find = |k: &str| runs.iter().find(|r| r.name == k);
    if let (Some(g), Some(a)) = (find("gd"), find("adam")) {
        let _ = writeln!(out, "\n||W_GD - W_Adam||_F = {}", sig(g.weights.distance(&a.weights), 4));
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
    for r in runs {
        let _ = writeln!(out, "\n## Trace: {}\n", r.name);
        out.push_str("| step | objective | train err | test err | grad l2 | max gamma | min_i max_r rho | max_i max_r rho |\n|---|---|---|---|---|---|---|---|\n");
        for c in &r.trace {
            let co = &c.coefficients;
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                c.step,
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
