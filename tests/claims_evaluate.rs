//! The evaluation rules on hand-made measurements (no training, milliseconds): each comparison at
//! its boundary, the printed thresholds, the verdict rule's every branch, the seeds' rule, and the
//! report assembled from an evaluation (tracked steps, recorded quantities, orderings, spreads,
//! expected failures).

mod common;

use adamgap::claims::evaluate::{SeedInput, evaluate_at_init, evaluate_check, verdict};
use adamgap::claims::theorem::{Check, IfFalse, Op};
use adamgap::claims::{CheckOutcome, Measurement, Outcome, RunInfo, Scale, Status, Theorem, Verdict};
use adamgap::optim::StopReason;
use adamgap::setting::Setting;
use common::claims::{SMALL_CLAIM, SYNTHETIC, check, measured, outcome, report, run_info, synthetic_seed};

/// A NaN quantity is never compared: the check reads "not measured" and the claim inconclusive.
#[test]
fn nan_quantity_reads_inconclusive() {
    let t = Theorem::from_toml_str(SMALL_CLAIM, "small.toml").expect("valid");
    let mut m = Measurement::default();
    m.quantities.insert("gd.weight_norm".into(), f64::NAN);
    m.quantities.insert("init.weight_norm".into(), 1.0);
    let input = SeedInput { seed: 1, setting: Setting::default(), m, init: None };
    let r = report(&t, "small.toml", Scale::Test, vec![input]);
    assert!(
        matches!(&r.verdict, Verdict::Inconclusive(why) if why.contains("gd.weight_norm is NaN")),
        "{:?}",
        r.verdict
    );
}

#[test]
fn thresholds_print_exactly() {
    let m = measured(&[("gd.loss", 0.25)]);
    let cases = [
        (0.5, "0.5"),
        (0.0, "0"),
        (1e-4, "0.0001"),
        (9e-5, "9e-5"),
        (1e-8, "1e-8"),
        (1e6, "1e6"),
        (999999.0, "999999"),
    ];
    for (value, text) in cases {
        let o = evaluate_check(&check("gd.loss", Op::Le, value), &m);
        assert_eq!(o.text, format!("gd.loss = 0.25 <= {text}"));
        assert_eq!((o.lhs, o.rhs), (Some(0.25), Some(value)));
    }
    assert_eq!(evaluate_check(&check("gd.loss", Op::Gt, -2e-5), &m).text, "gd.loss = 0.25 > -2e-5");
}

#[test]
fn every_comparison_at_its_boundary() {
    let m = measured(&[("gd.loss", 0.25)]);
    let outcome = |op, value| evaluate_check(&check("gd.loss", op, value), &m).outcome == Outcome::True;
    // (op, below, equal, above): lhs 0.25 against 0.5, 0.25, 0.125.
    for (op, below, equal, above) in [
        (Op::Le, true, true, false),
        (Op::Lt, true, false, false),
        (Op::Ge, false, true, true),
        (Op::Gt, false, false, true),
        (Op::Eq, false, true, false),
    ] {
        assert_eq!([outcome(op, 0.5), outcome(op, 0.25), outcome(op, 0.125)], [below, equal, above], "{op:?}");
    }
}

#[test]
fn within_a_factor_is_inclusive_and_needs_both_sides_positive() {
    let within = |l: f64, r: f64| {
        let m = measured(&[("gd.loss", l), ("adam.loss", r)]);
        let c = Check {
            within: Some(2.0),
            of: Some("adam.loss".into()),
            value: None,
            ..check("gd.loss", Op::WithinFactor, 0.0)
        };
        evaluate_check(&c, &m).outcome == Outcome::True
    };
    assert!(within(0.5, 1.0) && within(2.0, 1.0) && within(1.0, 1.0));
    assert!(!within(0.49, 1.0) && !within(2.5, 1.0));
    assert!(!within(-1.0, -1.0) && !within(0.0, 0.0) && !within(1.0, 0.0));
    // Zero is within no factor of anything, even where `r / within` rounds to 0.
    assert!(!within(0.0, 5e-324));
    let m = measured(&[("gd.loss", 3.0)]);
    let c = Check { within: Some(1.5), ..check("gd.loss", Op::WithinFactor, 2.0) };
    assert_eq!(evaluate_check(&c, &m).text, "gd.loss = 3.0 within a factor 1.5 of 2");
}

#[test]
fn a_quantity_right_hand_side_is_factor_times_it_plus_offset() {
    let m = measured(&[("gd.loss", 1.0), ("adam.loss", 2.0)]);
    let of = |factor: f64, offset: f64| {
        let c = Check { of: Some("adam.loss".into()), value: None, factor, offset, ..check("gd.loss", Op::Le, 0.0) };
        evaluate_check(&c, &m)
    };
    let o = of(0.5, 0.25);
    assert_eq!((o.rhs, o.text.as_str()), (Some(1.25), "gd.loss = 1.0 <= 0.5 * adam.loss + 0.25 = 1.2"));
    assert_eq!(o.outcome, Outcome::True);
    let o = of(1.0, -0.25);
    assert_eq!((o.rhs, o.text.as_str()), (Some(1.75), "gd.loss = 1.0 <= adam.loss - 0.25 = 1.8"));
    assert_eq!(of(1.0, 0.0).text, "gd.loss = 1.0 <= adam.loss = 2.0");
}

#[test]
fn a_horizon_needs_the_run_to_reach_it() {
    let c = Check { horizon: Some(100), ..check("gd.reversed", Op::Eq, 0.0) };
    let at = |steps: f64| evaluate_check(&c, &measured(&[("gd.reversed", 0.0), ("gd.steps", steps)]));
    let reached = at(100.0);
    assert_eq!((reached.outcome, reached.text.as_str()), (Outcome::True, "gd.reversed = 0 == 0 within 100 steps"));
    assert_eq!(at(99.0).outcome, Outcome::Missing("gd stopped at step 99, before the horizon of 100 steps".into()));
    assert_eq!(
        evaluate_check(&c, &measured(&[("gd.reversed", 0.0)])).outcome,
        Outcome::Missing("no quantity named `gd.steps` was measured".into())
    );
}

#[test]
fn looked_up_values_numbers_and_missing_quantities() {
    let mut m = measured(&[("gd.loss", 0.25), ("adam.loss", f64::NAN)]);
    m.missing.insert("gd.reversal_step".into(), "never reversed".into());
    let c = Check { of: Some(" 0.75 ".into()), value: None, ..check("gd.loss", Op::Le, 0.0) };
    assert_eq!(evaluate_check(&c, &m).rhs, Some(0.75));
    let missing = |q: &str| evaluate_check(&check(q, Op::Le, 1.0), &m).outcome;
    assert_eq!(missing("gd.reversal_step"), Outcome::Missing("never reversed".into()));
    assert_eq!(missing("adam.loss"), Outcome::Missing("adam.loss is NaN".into()));
    assert_eq!(missing("gd.objective"), Outcome::Missing("no quantity named `gd.objective` was measured".into()));
}

#[test]
fn a_check_at_initialization_only_for_training_quantities() {
    let init = measured(&[("gd.loss", 0.25), ("init.loss", 0.25), ("data.noise_l1_mean", 1.0)]);
    let at = evaluate_at_init(&check("gd.loss", Op::Le, 0.5), &init).expect("a training quantity");
    assert_eq!((at.value, at.passes), (Some(0.25), true));
    let at = evaluate_at_init(&check("gd.loss", Op::Ge, 0.5), &init).expect("a training quantity");
    assert_eq!((at.value, at.passes), (Some(0.25), false));
    // A constant of the setting against a training quantity is a training check too.
    let c = Check { of: Some("gd.loss".into()), value: None, ..check("init.loss", Op::Le, 0.0) };
    assert!(evaluate_at_init(&c, &init).is_some());
    assert!(evaluate_at_init(&check("init.loss", Op::Le, 0.5), &init).is_none());
    assert!(evaluate_at_init(&check("data.noise_l1_mean", Op::Le, 0.5), &init).is_none());
}

#[test]
fn the_verdict_rule_branch_by_branch() {
    let m = Measurement::default();
    let trained = [run_info("gd", 10, StopReason::StepBudget { step: 10 }, true)];
    let ok = outcome(Outcome::True, IfFalse::Fails, None);
    let v = |runs: &[RunInfo], checks: &[CheckOutcome]| verdict(&m, runs, checks);
    assert_eq!(v(&trained, &[ok.clone()]), Verdict::Holds);
    assert_eq!(v(&trained, &[]), Verdict::Holds);
    // A false precondition (`if_false = "inconclusive"`) makes the verdict inconclusive, whatever a
    // false `fails` check says; a false `fails` check fails the claim before a missing quantity.
    let false_fails = outcome(Outcome::False, IfFalse::Fails, None);
    let not_reached = outcome(Outcome::False, IfFalse::Inconclusive, Some("tolerance not reached"));
    let missing = outcome(Outcome::Missing("why".into()), IfFalse::Fails, None);
    let unmet = Verdict::Inconclusive("tolerance not reached: gd.loss <= (gd.loss = 0.50 <= 1)".into());
    assert_eq!(v(&trained, &[not_reached.clone(), false_fails.clone(), missing.clone()]), unmet);
    assert_eq!(v(&trained, &[false_fails.clone(), not_reached.clone()]), unmet);
    assert_eq!(v(&trained, &[false_fails.clone(), missing.clone()]), Verdict::Fails);
    assert_eq!(v(&trained, &[ok.clone(), not_reached.clone(), missing.clone()]), unmet);
    assert_eq!(v(&trained, &[ok.clone(), missing.clone()]), Verdict::Inconclusive("not measured: why".into()));
    let mut unexplained = not_reached.clone();
    unexplained.reason = None;
    assert_eq!(v(&trained, &[unexplained]), Verdict::Inconclusive("gd.loss <= (gd.loss = 0.50 <= 1)".into()));
    // The runs: divergence, no step, no movement; each named, and before the checks.
    let diverged = run_info("adam", 3, StopReason::Diverged { step: 3 }, true);
    assert_eq!(
        v(&[trained[0].clone(), diverged], &[false_fails.clone()]),
        Verdict::Inconclusive("divergence: adam diverged at step 3".into())
    );
    let idle = run_info("adam", 0, StopReason::GradTol { step: 0 }, false);
    let stuck = run_info("sign-gd", 5, StopReason::StepBudget { step: 5 }, false);
    assert_eq!(
        v(&[trained[0].clone(), idle, stuck], &[false_fails.clone()]),
        Verdict::Inconclusive(
            "not trained: adam took no step (gradient-norm tolerance reached at step 0); sign-gd never left its \
             initialization in 5 steps"
                .into()
        )
    );
    // A zero-step run that (impossibly) moved is still untrained.
    let zero = run_info("adam", 0, StopReason::StepBudget { step: 0 }, true);
    assert!(matches!(v(&[zero], &[ok.clone()]), Verdict::Inconclusive(r) if r.starts_with("not trained")));
    let unavailable = Measurement::unavailable("no certificate");
    assert_eq!(verdict(&unavailable, &trained, &[ok]), Verdict::Inconclusive("no certificate".into()));
}

#[test]
fn a_report_from_hand_made_measurements() {
    let t = Theorem::from_toml_str(SYNTHETIC, "synthetic.toml").expect("valid");
    let r =
        report(&t, "synthetic.toml", Scale::Test, vec![synthetic_seed(1, 0.45, 0.45), synthetic_seed(2, 0.375, 0.5)]);
    assert_eq!((r.scale.as_str(), r.scale_note.as_str()), ("reduced", "hand-made measurements"));
    // The tracked steps: 0, the powers of 10 below the budget, each run's last step; each shows the
    // last checkpoint at or before it.
    let tracked: Vec<(usize, Option<f64>)> = r.tracked.iter().map(|row| (row.step, row.values[0])).collect();
    assert_eq!(tracked, [(0, Some(1.0)), (10, Some(0.75)), (37, Some(0.45)), (100, Some(0.45)), (500, Some(0.45))]);
    assert_eq!(r.orderings, [("loss".to_string(), "adam 0.45 = 0.45 = gd 0.45".to_string())]);
    // Recorded: what the checks, the track and the ordering read, the reversal that happened and
    // the feature crossings (measured or not); not the unread `gd.objective`.
    let recorded: Vec<&str> = r.quantities.keys().map(String::as_str).collect();
    assert_eq!(recorded, ["adam.feature_reach_after_step", "adam.loss", "gd.loss", "gd.reversal_step"]);
    let missing: Vec<&str> = r.missing.keys().map(String::as_str).collect();
    assert_eq!(missing, ["gd.feature_reach_step"]);
    // Both seeds hold under the file's threshold; seed 1 fails the paper's (0.45 > 0.25).
    assert_eq!(r.verdict, Verdict::Holds);
    assert_eq!(
        r.seeds.iter().map(|s| s.paper_verdict.clone()).collect::<Vec<_>>(),
        [Some(Verdict::Fails), Some(Verdict::Fails)]
    );
    assert_eq!(r.paper_verdict, Some(Verdict::Fails));
    assert_eq!((r.holds_count, r.status, r.mismatch_reason.as_deref()), (2, Status::AsExpected, None));
    assert_eq!(
        r.spread,
        [
            ("adam.feature_reach_after_step".to_string(), 30.0, 30.0),
            ("adam.loss".to_string(), 0.45, 0.5),
            ("gd.loss".to_string(), 0.375, 0.45),
            ("gd.reversal_step".to_string(), 20.0, 20.0),
        ]
    );
    // A tie broken: the ordering sorts by value, largest first.
    let r = report(&t, "synthetic.toml", Scale::Full, vec![synthetic_seed(1, 0.25, 0.5)]);
    assert_eq!(r.orderings[0].1, "adam 0.50 > 0.45 > gd 0.25");
    assert_eq!((r.scale.as_str(), r.paper_verdict.clone()), ("full", Some(Verdict::Holds)));
    // A verdict other than the expected one is a mismatch (no reason needed beyond the verdict).
    let r = report(&t, "synthetic.toml", Scale::Test, vec![synthetic_seed(1, 0.75, 0.75)]);
    assert_eq!((r.verdict.clone(), r.status, r.mismatch_reason), (Verdict::Fails, Status::Mismatch, None));
}

/// An expected failure must fail for the named checks only, on every seed.
#[test]
fn an_expected_failure_names_the_checks_that_failed_otherwise() {
    let text = SYNTHETIC.replace("expected = \"holds\"", "expected = \"fails\"\nexpect_fail = [\"gd converges\"]");
    let t = Theorem::from_toml_str(&text, "synthetic.toml").expect("valid");
    // gd does not converge, adam stays above: the expected failure.
    let r = report(&t, "synthetic.toml", Scale::Test, vec![synthetic_seed(1, 0.75, 1.0), synthetic_seed(2, 0.75, 1.0)]);
    assert_eq!((r.verdict.clone(), r.status, r.mismatch_reason.clone()), (Verdict::Fails, Status::AsExpected, None));
    // Seed 2 also fails the other check: a failure, but not the expected one.
    let r = report(&t, "synthetic.toml", Scale::Test, vec![synthetic_seed(1, 0.75, 1.0), synthetic_seed(2, 0.75, 0.5)]);
    assert_eq!(r.verdict, Verdict::Fails);
    assert_eq!(r.status, Status::Mismatch);
    assert_eq!(r.mismatch_reason.as_deref(), Some("seed 2: `adam stays above gd` is false"));
    // A claim that holds is no expected failure, and names no checks.
    let r = report(&t, "synthetic.toml", Scale::Test, vec![synthetic_seed(1, 0.25, 1.0)]);
    assert_eq!((r.verdict.clone(), r.status, r.mismatch_reason.clone()), (Verdict::Holds, Status::Mismatch, None));
}

#[test]
fn one_seed_s_verdict_is_the_claim_s() {
    use adamgap::claims::seeds::combine;
    let why = Verdict::Inconclusive("why".into());
    assert_eq!(combine([(1, &why)]), why);
    assert_eq!(combine([(1, &Verdict::Fails)]), Verdict::Fails);
}

/// A tracked quantity that no check reads is still recorded (with its spread); a measurement with
/// no run behind it has no tracked table (there is no checkpoint to show).
#[test]
fn tracked_quantities_are_recorded_and_need_runs() {
    let text = SYNTHETIC.replace("quantities = [\"gd.loss\"]", "quantities = [\"gd.loss\", \"gd.objective\"]");
    let t = Theorem::from_toml_str(&text, "synthetic.toml").expect("valid");
    let r = report(&t, "synthetic.toml", Scale::Test, vec![synthetic_seed(1, 0.45, 0.45)]);
    assert_eq!(r.quantities.get("gd.objective"), Some(&1.0));
    assert!(!r.tracked.is_empty());
    let mut seed = synthetic_seed(1, 0.45, 0.45);
    seed.m.runs.clear();
    let r = report(&t, "synthetic.toml", Scale::Test, vec![seed]);
    assert!(r.tracked.is_empty(), "{:?}", r.tracked);
}
