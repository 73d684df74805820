//! The SVG figures of the report folder: valid XML, one line per series and panel with as many
//! points as the trace has checkpoints on the log axis, the axis labels, and the feature-reversal
//! marker in Adam's panel only. (No byte snapshots: what is checked is what a reader looks for.)

use adamgap::figures::{self, REVERSAL_LABEL, WIDTH};
use adamgap::setting::Setting;
use adamgap::train::{Experiment, Run};

/// The paper's data and model with a shorter budget and test set: Adam reverses its feature
/// (at step 960 for seed 1) and GD does not, in a few seconds.
fn runs() -> (Experiment, Vec<Run>) {
    let mut s = Setting::default();
    s.train.steps = 1200;
    s.data.test_size = 500;
    let exp = Experiment::new(&s).expect("valid setting");
    let runs = exp.run_all(&|_, _| {});
    (exp, runs)
}

fn texts(doc: &roxmltree::Document) -> Vec<String> {
    doc.descendants().filter(|n| n.has_tag_name("text")).map(|n| n.text().unwrap_or("").trim().to_string()).collect()
}

fn count(texts: &[String], t: &str) -> usize {
    texts.iter().filter(|x| x.as_str() == t).count()
}

/// `(stroke, stroke-width, points)` of a polyline.
type Polyline = (String, String, Vec<(f64, f64)>);

/// Every polyline of the figure.
fn polylines(doc: &roxmltree::Document) -> Vec<Polyline> {
    doc.descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .map(|n| {
            let pts = n
                .attribute("points")
                .unwrap_or("")
                .split_whitespace()
                .map(|p| {
                    let (x, y) = p.split_once(',').expect("x,y");
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect();
            (
                n.attribute("stroke").unwrap_or("").to_string(),
                n.attribute("stroke-width").unwrap_or("").to_string(),
                pts,
            )
        })
        .collect()
}

fn parse(svg: &str) -> roxmltree::Document<'_> {
    let doc = roxmltree::Document::parse(svg).expect("the figure is valid XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    assert_eq!(doc.root_element().attribute("width"), Some(WIDTH.to_string().as_str()));
    doc
}

#[test]
fn figures_show_what_the_runs_measured() {
    let (exp, runs) = runs();
    let (gd, adam) = (&runs[0], &runs[1]);
    assert_eq!((gd.name.as_str(), adam.name.as_str()), ("gd", "adam"));
    let reversal = adam.feature_reversal_step.expect("Adam reverses its feature in this setting");
    assert!(gd.feature_reversal_step.is_none());
    let on_log_axis = |r: &Run| r.trace.iter().filter(|c| c.step >= 1).count();

    // dynamics.svg: two panels (GD left, Adam right), four series each, the reversal on Adam's.
    let svg = figures::dynamics_svg(&runs).unwrap();
    let doc = parse(&svg);
    let t = texts(&doc);
    for label in ["max_r γ_{+1,r}", "max_r γ_{−1,r}", "min_i max_r ρ_{i,r}", "max_i max_r ρ_{i,r}"] {
        assert_eq!(count(&t, label), 1, "one shared legend entry {label:?}");
    }
    assert_eq!(count(&t, "step t (log scale)"), 2);
    assert_eq!(count(&t, "coefficient"), 2);
    assert_eq!(count(&t, "GD (η = 1)") + count(&t, "Adam (η = 5e-5)"), 2);
    assert_eq!(count(&t, REVERSAL_LABEL), 1, "the marker in the legend");
    let half = f64::from(WIDTH) / 2.0;
    let marks: Vec<f64> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text") && n.text().is_some_and(|x| x.trim() == format!("t = {reversal}")))
        .map(|n| n.attribute("x").unwrap().parse().unwrap())
        .collect();
    assert!(marks.len() == 1 && marks[0] > half, "one reversal step label, in Adam's panel: {marks:?}");
    let lines = polylines(&doc);
    let series: Vec<_> = lines.iter().filter(|l| l.1 == "3").collect();
    // 4 series lines per panel, and 4 legend samples (2 points each) under the panels.
    assert_eq!(series.len(), 2 * 4 + 4);
    let long: Vec<_> = series.iter().filter(|l| l.2.len() > 2).collect();
    assert_eq!(long.len(), 8, "four series per panel");
    for l in &long {
        let in_adam = l.2[0].0 > half;
        let expected = on_log_axis(if in_adam { adam } else { gd });
        assert_eq!(l.2.len(), expected, "one point per checkpoint with step >= 1");
    }
    // The marker: vertical dashed black segments, all at one x, only in Adam's (right) panel.
    let dashes: Vec<_> =
        lines.iter().filter(|l| l.0 == "#000000" && l.1 == "2" && l.2.len() == 2 && l.2[0].0 == l.2[1].0).collect();
    assert!(dashes.len() >= 3, "a dashed vertical marker");
    assert!(dashes.iter().all(|l| l.2[0].0 > half && l.2[0].0 == dashes[0].2[0].0), "Adam's panel, one x");

    // errors.svg: training and test error, one line per optimizer in each.
    let svg = figures::errors_svg(&runs).unwrap();
    let doc = parse(&svg);
    let t = texts(&doc);
    for label in ["training error", "test error"] {
        assert_eq!(count(&t, label), 1, "{label}");
    }
    assert_eq!(count(&t, "fraction with y f(W, x) ≤ 0"), 2);
    assert_eq!(count(&t, "GD (η = 1)"), 1, "one shared legend");
    assert_eq!(count(&t, "Adam (η = 5e-5)"), 1);
    let lines = polylines(&doc);
    assert_eq!(lines.iter().filter(|l| l.1 == "3" && l.2.len() > 2).count(), 2 * runs.len());
    assert_eq!(lines.iter().filter(|l| l.1 == "3" && l.2.len() == 2).count(), runs.len(), "legend samples");

    // filters.svg: per optimizer one bar per filter for gamma and for the noise level.
    let svg = figures::filters_svg(&exp, &runs).unwrap();
    let doc = parse(&svg);
    let t = texts(&doc);
    assert_eq!(count(&t, "γ_{j,r} (feature)"), 2);
    assert_eq!(count(&t, "max_{i: y_i = j} ρ_{i,r} (noise)"), 2);
    assert_eq!(count(&t, "GD (η = 1): final filters") + count(&t, "Adam (η = 5e-5): final filters"), 2);
    let rects =
        |fill: &str| doc.descendants().filter(|n| n.has_tag_name("rect") && n.attribute("fill") == Some(fill)).count();
    let m = exp.setting.model.m;
    assert_eq!(rects("#1F77B4"), runs.len() * (2 * m + 1), "gamma bars and the legend swatch");
    assert_eq!(rects("#FF7F0E"), runs.len() * (2 * m + 1), "noise bars and the legend swatch");
}

/// The per-filter levels behind filters.svg: GD has a filter per class with a large feature
/// coefficient; at Adam's end every feature coefficient is below 0.
#[test]
fn filter_levels_separate_feature_from_noise() {
    let (exp, runs) = runs();
    let (g_gamma, _) = figures::filter_levels(&exp, &runs[0]);
    let (a_gamma, a_noise) = figures::filter_levels(&exp, &runs[1]);
    let m = exp.setting.model.m;
    let max = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert!(max(&g_gamma[..m]) > 1.0 && max(&g_gamma[m..]) > 1.0, "GD: {g_gamma:?}");
    assert!(max(&a_gamma) < 0.0, "Adam: {a_gamma:?}");
    assert!(max(&a_noise) > max(&a_gamma), "Adam's noise above its feature");
}

/// `adamgap convex --report DIR` on a small problem: `report.md` embeds `certificate.svg`, which has
/// one labelled bar per certified run and for the center, every one ending left of the dashed
/// target-radius line, and AdamW's lower-bound bar starting right of it.
#[test]
fn convex_certificate_figure() {
    let tmp = tempfile::Builder::new().prefix("adamgap-figures-convex-").tempdir().expect("temp dir");
    let dir = tmp.path().join("report");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_adamgap"))
        .args(["convex", "--d", "100", "--n", "20", "--s", "10", "--m", "2", "--test-size", "100", "--digits", "20"])
        .args(["--json", "--report", dir.to_str().expect("utf-8 path")])
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let runs = report["runs"].as_object().expect("runs");
    let md = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
    assert!(md.contains("](certificate.svg)"));
    let svg = std::fs::read_to_string(dir.join("certificate.svg")).expect("certificate.svg");
    let doc = parse(&svg);
    let t = texts(&doc);
    for name in runs.keys() {
        assert_eq!(t.iter().filter(|x| x.starts_with(&format!("{name} (≤ "))).count(), 1, "a row for {name}");
    }
    assert_eq!(t.iter().filter(|x| x.starts_with("center (≤ ")).count(), 1);
    assert_eq!(t.iter().filter(|x| x.starts_with("adamw (≥ ")).count(), 1);
    assert_eq!(count(&t, "certified ||W − W*||_F (log scale)"), 1);
    assert_eq!(count(&t, &format!("{} 1e-6", adamgap::figures::convex::TARGET_LABEL)), 1);
    let rect = |fill: &str| -> Vec<(f64, f64)> {
        doc.descendants()
            .filter(|n| n.has_tag_name("rect") && n.attribute("fill") == Some(fill))
            .map(|n| {
                let x: f64 = n.attribute("x").unwrap().parse().unwrap();
                (x, x + n.attribute("width").unwrap().parse::<f64>().unwrap())
            })
            .collect()
    };
    let (green, red) = (rect("#2CA02C"), rect("#D62728"));
    assert_eq!(green.len(), runs.len() + 1, "every run and the center certified within the target");
    assert_eq!(red.len(), 1, "AdamW's lower bound");
    let target = polylines(&doc)
        .into_iter()
        .find(|l| l.0 == "#000000" && l.1 == "2" && l.2.len() == 2 && l.2[0].0 == l.2[1].0)
        .expect("the dashed target line")
        .2[0]
        .0;
    assert!(green.iter().all(|g| g.1 < target), "a certified bar ends right of the target: {green:?} {target}");
    assert!(red[0].0 > target, "AdamW's bound starts left of the target");
}

/// `adamgap check --report DIR`: `report.md` and one figure per claim, with a panel per tracked
/// quantity (its caption), one series per panel and a dashed threshold in the panels of the
/// quantities the checks read; a report path that is a file is refused before any work.
#[test]
fn check_report_has_one_figure_per_claim_with_thresholds() {
    let tmp = tempfile::Builder::new().prefix("adamgap-check-report-").tempdir().expect("temp dir");
    let dir = tmp.path().join("report");
    let theorem = concat!(env!("CARGO_MANIFEST_DIR"), "/theorems/09-large-weight-decay.toml");
    let bin = env!("CARGO_BIN_EXE_adamgap");
    let out = std::process::Command::new(bin)
        .args(["check", "--scale", "test", "--quiet", theorem, "--report", dir.to_str().unwrap()])
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let md = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
    assert!(md.contains("## 09-large-weight-decay") && md.contains("(claim-09-large-weight-decay.svg)"), "{md}");
    let svg = std::fs::read_to_string(dir.join("claim-09-large-weight-decay.svg")).expect("the claim's figure");
    let doc = parse(&svg);
    let t = texts(&doc);
    let tracked = ["adam.weight_norm", "adam.feature_max", "adam.noise_max_max", "adam.train_error", "adam.loss"];
    for q in tracked {
        assert_eq!(count(&t, q), 1, "one panel captioned {q}: {t:?}");
    }
    assert_eq!(count(&t, adamgap::figures::claims::THRESHOLD_LABEL), 1);
    let lines = polylines(&doc);
    let series = lines.iter().filter(|l| l.1 == "3" && l.2.len() > 2).count();
    assert_eq!(series, tracked.len(), "one series per tracked quantity");
    // Every tracked quantity of claim 09 is read by a check except the training error.
    let dashes = lines.iter().filter(|l| l.1 == "2" && l.2.len() == 2).count();
    assert!(dashes >= 4 * 3, "dashed thresholds in four panels: {dashes} segments");

    let file = tmp.path().join("file");
    std::fs::write(&file, "keep").unwrap();
    let out = std::process::Command::new(bin)
        .args(["check", "--scale", "test", "--quiet", theorem, "--report", file.to_str().unwrap()])
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "refused before any work");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep");
}
