//! The endpoint certificate as JSON (the `certify` section of `adamgap run --certify --json`), as a
//! text table and as a Markdown section. Nothing here computes.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{EndpointReport, Fi, PointCertificate, Shown};
use crate::format::sig;

fn pair(f: Fi) -> Value {
    json!([f.lo, f.hi])
}

fn shown(x: &Option<crate::exact::Dyadic>) -> Value {
    x.as_ref().map_or(Value::Null, |d| {
        let s = Shown::of(d);
        json!([s.lo, s.hi])
    })
}

/// One point's JSON object.
fn point_json(c: &PointCertificate) -> Value {
    let co = &c.coefficients;
    json!({
        "train_error": c.train.exact_rate(),
        "train_error_bounds": c.train.rate_bounds(),
        "train_errors": c.train.errors,
        "train_undecided": c.train.undecided,
        "train_total": c.train.total,
        "test_error": c.test.rate_bounds(),
        "test_errors": c.test.errors,
        "test_undecided": c.test.undecided,
        "test_total": c.test.total,
        "resolved_exactly": {"train": c.train.resolved_exactly, "test": c.test.resolved_exactly},
        "objective": c.objective.map_or(Value::Null, pair),
        "grad_norm": pair(c.grad_norm),
        "feature_max_per_class": co.feature_max_per_class,
        "noise_min_max": shown(&co.noise_min_max),
        "noise_max_max": shown(&co.noise_max_max),
    })
}

/// The `certify` section: `init`, `runs.<name>`, `distance_lower` (GD vs Adam), and how.
pub fn json(r: &EndpointReport) -> Value {
    let mut runs = serde_json::Map::new();
    let mut init = Value::Null;
    for (name, c) in &r.points {
        let v = match c {
            Ok(c) => point_json(c),
            Err(reason) => json!({ "certified": false, "reason": reason }),
        };
        if name == "init" {
            init = v;
        } else {
            runs.insert(name.clone(), v);
        }
    }
    json!({
        "init": init,
        "runs": runs,
        "distance_lower": r.distance_lower(),
        "diverged": r.diverged.iter().map(|(n, why)| (n.clone(), Value::String(why.clone()))).collect::<serde_json::Map<_, _>>(),
        "distance": r.distance.as_ref().map(|(a, b, d)| json!({ "pair": [a, b], "bounds": [d.lo, d.hi] })),
        "fallback_limit": r.options.fallback_limit,
        "intervals": "[lower, upper] in binary64, rounded outward: the exact value lies in between",
        "seconds": r.seconds,
    })
}

fn range(f: Fi, digits: usize) -> String {
    format!("[{}, {}]", sig(f.lo, digits), sig(f.hi, digits))
}

/// `(label, one cell per point)` rows of the table.
fn rows(r: &EndpointReport) -> Vec<(String, Vec<String>)> {
    let cell = |f: &dyn Fn(&PointCertificate) -> String| -> Vec<String> {
        r.points.iter().map(|(_, c)| c.as_ref().map_or_else(|e| format!("not certified: {e}"), f)).collect()
    };
    let rate = |e: &super::ErrorCount| match e.exact_rate() {
        Some(x) => sig(x, 4),
        None => format!("[{}, {}]", sig(e.rate_bounds()[0], 4), sig(e.rate_bounds()[1], 4)),
    };
    let exact = |x: &Option<crate::exact::Dyadic>| x.as_ref().map_or("-".into(), |d| sig(d.to_f64_approx(), 4));
    vec![
        ("training error (exact)".into(), cell(&|c| rate(&c.train))),
        (
            "  undecided / resolved exactly".into(),
            cell(&|c| format!("{} / {}", c.train.undecided, c.train.resolved_exactly)),
        ),
        ("test error (exact)".into(), cell(&|c| rate(&c.test))),
        (
            "  undecided / resolved exactly".into(),
            cell(&|c| format!("{} / {}", c.test.undecided, c.test.resolved_exactly)),
        ),
        ("objective L(W) in".into(), cell(&|c| c.objective.map_or("unbounded".into(), |f| range(f, 6)))),
        ("||grad L||_2 in".into(), cell(&|c| range(c.grad_norm, 6))),
        (
            "feature max_r gamma (j=+1, j=-1)".into(),
            cell(&|c| {
                let g = c.coefficients.feature_max_per_class;
                format!("{}, {}", sig(g[0], 3), sig(g[1], 3))
            }),
        ),
        ("noise min_i max_r rho".into(), cell(&|c| exact(&c.coefficients.noise_min_max))),
        ("noise max_i max_r rho".into(), cell(&|c| exact(&c.coefficients.noise_max_max))),
    ]
}

fn distance_line(r: &EndpointReport) -> Option<String> {
    r.distance.as_ref().map(|(a, b, d)| format!("||W_{a} - W_{b}||_F >= {} (certified lower bound)", sig(d.lo, 6)))
}

/// The plain-text table printed by `adamgap run --certify`.
pub fn text(r: &EndpointReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\ncertified endpoints (exact arithmetic, outward rounding; {:.2} s)", r.seconds);
    let rows = rows(r);
    let width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    let cols: Vec<usize> = (0..r.points.len())
        .map(|k| rows.iter().map(|(_, c)| c[k].len()).chain([r.points[k].0.len()]).max().unwrap_or(0))
        .collect();
    let _ = write!(out, "{:width$}", "");
    for (k, (name, _)) in r.points.iter().enumerate() {
        let _ = write!(out, "  {:>w$}", name, w = cols[k]);
    }
    out.push('\n');
    for (label, cells) in &rows {
        let _ = write!(out, "{label:width$}");
        for (k, c) in cells.iter().enumerate() {
            let _ = write!(out, "  {:>w$}", c, w = cols[k]);
        }
        out.push('\n');
    }
    if let Some(l) = distance_line(r) {
        let _ = writeln!(out, "{l}");
    }
    for n in r.diverged_notes() {
        let _ = writeln!(out, "note: {n}");
    }
    out
}

/// The Markdown section of the report (`--report FILE` with `--certify`).
pub fn markdown(r: &EndpointReport) -> String {
    let mut out = String::from("\n## Certified endpoints\n\n");
    let _ = writeln!(
        out,
        "Proved facts about the binary64 weights and data (exact arithmetic with outward rounding; \
         see `docs/certified-endpoints.md`), computed in {:.2} s. Intervals contain the exact value; \
         an error rate is a single number when every margin's sign is certified.\n",
        r.seconds
    );
    let _ = write!(out, "| |");
    for (name, _) in &r.points {
        let _ = write!(out, " {name} |");
    }
    let _ = write!(out, "\n|---|");
    for _ in &r.points {
        let _ = write!(out, "---|");
    }
    out.push('\n');
    for (label, cells) in rows(r) {
        let _ = writeln!(out, "| {} | {} |", label.trim(), cells.join(" | "));
    }
    if let Some(l) = distance_line(r) {
        let _ = writeln!(out, "\n`{l}`");
    }
    for n in r.diverged_notes() {
        let _ = writeln!(out, "\n**Note:** {n}.");
    }
    out
}
