//! The paper's claims, checked at test scale: one named insta snapshot per `theorems/*.toml`
//! (`claims__claim@<file>.snap`) holding the summary a reviewer reads, and a failure naming every
//! claim whose verdict differs from its expected one (pending claims excepted); and the layout of a
//! report, pinned on hand-made measurements (`claims__report_*.snap`).
//!
//! Everything runs sequentially (one thread), so the snapshots do not depend on the machine's
//! thread count. Runs with the same setting and optimizer are shared between claims. The CLI of
//! `adamgap check` is tested in `claims_check.rs`, the checker's measurements in
//! `claims_checker.rs` and `claims_measure.rs`, the evaluation in `claims_evaluate.rs`, the loading of
//! theorem files in `claims_load.rs`.

mod common;

use adamgap::claims::evaluate::SeedInput;
use adamgap::claims::{Measurement, Scale, Status, Theorem};
use adamgap::setting::Setting;
use common::claims::{CONVEX, SYNTHETIC, checker, measured, report, synthetic_seed};

#[test]
fn claim() {
    let mut checker = checker();
    let mut mismatches: Vec<String> = Vec::new();
    insta::glob!("../theorems", "*.toml", |path| {
        let report = checker.check_file(path, Scale::Test).unwrap_or_else(|e| panic!("{e}"));
        if report.status == Status::Mismatch {
            let msg = format!(
                "claim {} ({}): verdict `{}` but the theorem file expects `{}`{}",
                report.id,
                path.file_name().unwrap().to_string_lossy(),
                report.verdict,
                report.expected.label(),
                report.mismatch_reason.as_deref().map_or(String::new(), |r| format!(" ({r})"))
            );
            eprintln!("{msg}");
            mismatches.push(msg);
            // The verdict is the failure to report; the snapshot would only repeat it.
            return;
        }
        insta::assert_snapshot!("claim", report.summary());
    });
    assert!(mismatches.is_empty(), "verdicts differ from the expected ones:\n{}", mismatches.join("\n"));
}

/// Everything a reviewer reads of a report, one part after another: the line, the seeds line, the
/// summary and the JSON of `adamgap check --json`.
fn reading(r: &adamgap::claims::report::ClaimReport) -> String {
    let json = serde_json::to_string_pretty(&r.json()).expect("json");
    format!("{}\n---\n{}\n---\n{}\n---\n{json}", r.line(), r.seeds_line(), r.summary())
}

/// What a reviewer reads, on hand-made measurements (no training, so every line of the report's
/// layout is pinned in milliseconds): the summary, the one-line form, the seeds line and the JSON
/// of `adamgap check --json`. Two reports: the synthetic claim (holds, and fails under the paper's
/// threshold), and an expected failure that fails for another reason on one seed, is inconclusive
/// on another whose precondition (an `if_false = "inconclusive"` check) is false although a `fails`
/// check is false too, with a quantity not measured, values at initialization and a
/// `holds_at_init` reason.
#[test]
fn the_report_of_hand_made_measurements_reads() {
    let t = Theorem::from_toml_str(SYNTHETIC, "synthetic.toml").expect("valid");
    let r =
        report(&t, "synthetic.toml", Scale::Test, vec![synthetic_seed(1, 0.45, 0.45), synthetic_seed(2, 0.375, 0.5)]);
    insta::assert_snapshot!("report_synthetic", reading(&r));

    let text = SYNTHETIC.replace("expected = \"holds\"", "expected = \"fails\"\nexpect_fail = [\"gd converges\"]")
        + "[[check]]\nwhat = \"adam gets below 0.4\"\nquantity = \"adam.loss\"\nop = \"<=\"\nvalue = 0.4\n\
           if_false = \"inconclusive\"\nreason = \"adam did not get there in the budget\"\n\
           holds_at_init = \"a made-up reason, printed only where the check passes at initialization\"\n\
           [[check]]\nwhat = \"gd reaches the feature\"\nquantity = \"gd.feature_reach_step\"\nop = \"<=\"\nvalue = 1000.0\n";
    let t = Theorem::from_toml_str(&text, "synthetic.toml").expect("valid");
    let seed = |seed, gd, adam, init_loss| {
        let mut s = synthetic_seed(seed, gd, adam);
        s.init = Some(measured(&[("gd.loss", init_loss), ("adam.loss", init_loss)]));
        s
    };
    let mut r = report(
        &t,
        "synthetic.toml",
        Scale::Test,
        vec![seed(3, 0.75, 0.35, 0.3), seed(4, 0.25, 0.25, 0.7), seed(5, 0.75, 0.5, 0.3)],
    );
    insta::assert_snapshot!("report_synthetic_mismatch", reading(&r));

    // The same claim also read under the paper's setting (a nested override), one check certified
    // in exact arithmetic (the report says which checks are proofs and which float observations),
    // no tracked quantity and nothing missing.
    let text = text
        .replace("[track]\nquantities = [\"gd.loss\"]\n", "")
        .replace("[test]", "[paper_setting]\nmodel = { lambda = 0.01 }\ntrain = { steps = 2000 }\n[test]")
        + "[[check]]\nwhat = \"certified: gd fits\"\nquantity = \"certified.gd.train_error_upper\"\nop = \"==\"\nvalue = 0.0\n";
    let t = Theorem::from_toml_str(&text, "synthetic.toml").expect("valid");
    let with_certified = |seed_no, gd, adam, init_loss| {
        let mut s = seed(seed_no, gd, adam, init_loss);
        s.m.quantities.insert("certified.gd.train_error_upper".into(), 0.0);
        s.m.missing.clear();
        s.m.quantities.insert("gd.feature_reach_step".into(), 500.0);
        s
    };
    r = report(&t, "synthetic.toml", Scale::Test, vec![with_certified(3, 0.75, 0.35, 0.3)]);
    let paper = report(&t, "synthetic.toml", Scale::Test, vec![with_certified(3, 0.25, 0.25, 0.3)]);
    r.paper_setting = Some(adamgap::claims::report::PaperSettingReport::of(&t, paper));
    insta::assert_snapshot!("report_synthetic_paper_setting", reading(&r));

    // A claim with no check (a certificate claim may have none) measured nothing: the report has
    // no quantities section at all.
    let t = Theorem::from_toml_str(CONVEX, "convex.toml").expect("valid");
    let r = report(
        &t,
        "convex.toml",
        Scale::Full,
        vec![SeedInput { seed: 1, setting: Setting::default(), m: Measurement::default(), init: None }],
    );
    insta::assert_snapshot!("report_no_checks", r.summary());
}
