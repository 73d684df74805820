//! The checker on small training claims: a diverged run makes every seed inconclusive, an expected
//! failure failing for another reason is a mismatch, every seed and optimizer is its own run (at
//! initialization too), certified checks are measured, the runs at initialization took no step; and
//! the headline's verdict lines come from the theorem files' checks.

mod common;

use adamgap::claims::{Checker, Scale, Status, Theorem, Verdict};
use adamgap::train::Experiment;
use common::claims::{SMALL_CLAIM, mutated};

/// A run that diverges makes the claim inconclusive, naming the run and the step, on every seed.
#[test]
fn forced_divergence_reads_inconclusive() {
    let t = Theorem::from_toml_str(SMALL_CLAIM, "small.toml").expect("valid");
    let mut checker = Checker::new();
    checker.preflight(&t, "small.toml", Scale::Test).expect("preflight");
    let r = checker.check(&t, "small.toml", Scale::Test).expect("checked");
    assert_eq!(r.seeds.len(), 3);
    for s in &r.seeds {
        assert!(matches!(&s.verdict, Verdict::Inconclusive(why) if why.contains("gd diverged at step")), "{s:?}");
    }
    assert!(matches!(&r.verdict, Verdict::Inconclusive(_)));
    assert_eq!(r.status, Status::Mismatch);
}

/// An expected failure whose named failing check holds (while another fails) is a mismatch.
#[test]
fn expected_failure_with_the_wrong_check_failing_is_caught() {
    let file = "04b-adam-stage-one-default-size.toml";
    let text = mutated(
        file,
        "    \"noise outgrows the feature by about s sigma_p sqrt(2/pi)\",\n]",
        "    \"the feature moves at most about eta per step\",\n]",
    );
    let t = Theorem::from_toml_str(&text, file).expect("valid");
    let mut checker = Checker::new();
    checker.preflight(&t, file, Scale::Test).expect("preflight");
    let r = checker.check(&t, file, Scale::Test).expect("checked");
    assert_eq!(r.verdict, Verdict::Fails);
    assert_eq!(r.status, Status::Mismatch);
    let why = r.mismatch_reason.expect("a reason");
    assert!(why.contains("`the feature moves at most about eta per step` is true"), "{why}");
}

/// Two optimizers on three seeds: every seed is its own experiment and every optimizer its own
/// run (the checker's cache is keyed by both), at initialization too.
#[test]
fn each_seed_and_optimizer_is_its_own_run() {
    let text = SMALL_CLAIM.replace(
        "optimizers = [{ kind = \"gd\", eta = 1e9 }]",
        "optimizers = [{ kind = \"gd\", eta = 1.0 }, { kind = \"sign-gd\", eta = 0.001, decay = \"constant\" }]",
    ) + "[[check]]\nwhat = \"the runs part\"\nquantity = \"distance.gd.sign-gd\"\nop = \">\"\nvalue = 0.0\n"
        + "[[check]]\nwhat = \"sign GD moves\"\nquantity = \"sign-gd.weight_norm\"\nop = \">\"\nof = \"init.weight_norm\"\n";
    let t = Theorem::from_toml_str(&text, "small.toml").expect("valid");
    let r = Checker::new().check(&t, "small.toml", Scale::Test).expect("checked");
    let init: Vec<f64> = r.seeds.iter().map(|s| s.quantities["init.weight_norm"]).collect();
    assert!(init[0] != init[1] && init[1] != init[2] && init[0] != init[2], "one initialization per seed: {init:?}");
    for s in &r.seeds {
        assert!(s.quantities["distance.gd.sign-gd"] > 0.0, "{:?}", s.quantities);
        // At initialization every run is W^(0): no distance, and sign GD's weight norm is the initial one.
        let [_, apart, moves] = &s.checks[..] else { panic!("three checks") };
        assert_eq!(apart.at_init.as_ref().and_then(|a| a.value), Some(0.0));
        assert_eq!(moves.at_init.as_ref().and_then(|a| a.value), Some(s.quantities["init.weight_norm"]));
    }
}

/// A check on a certified quantity makes the checker certify the final weights (and `W^(0)`).
#[test]
fn certified_checks_are_measured() {
    let text = SMALL_CLAIM.replace("eta = 1e9", "eta = 1.0")
        + "[[check]]\nwhat = \"certified\"\nquantity = \"certified.gd.train_error_upper\"\nop = \"<=\"\nvalue = 1.0\n"
        + "holds_at_init = \"an upper bound of at most 1 holds for any weights\"\n";
    let t = Theorem::from_toml_str(&text, "small.toml").expect("valid");
    let r = Checker::new().check(&t, "small.toml", Scale::Test).expect("checked");
    for s in &r.seeds {
        let upper = s.quantities.get("certified.gd.train_error_upper").copied();
        assert!(upper.is_some_and(|u| (0.0..=1.0).contains(&u)), "{:?}", s.quantities);
        let at_init = s.checks[1].at_init.as_ref().and_then(|a| a.value);
        assert!(at_init.is_some_and(|u| (0.0..=1.0).contains(&u)), "{:?}", s.checks[1]);
    }
}

/// The measurement at initialization is every run cut to step 0 with a step-budget stop, even
/// where `W^(0)` itself is not finite: there no run has diverged yet (the trained runs report the
/// divergence, at step 0).
#[test]
fn the_runs_at_initialization_took_no_step() {
    let text = SMALL_CLAIM.replace("model = { m = 4 }", "model = { m = 4, sigma0 = 1e200 }")
        + "[[check]]\nwhat = \"no divergence\"\nquantity = \"gd.diverged\"\nop = \"==\"\nvalue = 0.0\n";
    let t = Theorem::from_toml_str(&text, "small.toml").expect("valid");
    let r = Checker::new().check(&t, "small.toml", Scale::Test).expect("checked");
    for s in &r.seeds {
        assert_eq!(s.quantities["gd.diverged"], 1.0);
        assert_eq!(s.checks[1].at_init.as_ref().and_then(|a| a.value), Some(0.0), "{:?}", s.checks[1]);
    }
}

/// The headline's verdict lines on a small setting: the statements of the theorem files, in order;
/// and a diverged GD makes exactly the lines that read GD inconclusive.
#[test]
fn headline_verdict_lines_come_from_the_theorem_files() {
    let mut s = common::small(300, 40, 30, 500, 8);
    s.train.steps = 400;
    let exp = Experiment::new(&s).expect("valid");
    let runs = exp.run_all(&|_, _| {});
    let lines = adamgap::claims::headline(&exp, &runs);
    let statements: Vec<&str> = lines.iter().map(|l| l.statement.as_str()).collect();
    assert_eq!(statements.len(), 6);
    assert_eq!(statements[0], "Both reach training error 0");
    assert!(statements[2].starts_with("Adam does not generalize"));
    // Each line's verdict is its theorem's checks on these runs: Adam's test error decides line 3.
    let adam = runs.iter().find(|r| r.name == "adam").unwrap();
    assert_eq!(lines[2].verdict, Verdict::from_bool(adam.last.test_error >= 0.5));
    let gd = runs.iter().find(|r| r.name == "gd").unwrap();
    assert_eq!(lines[4].verdict, Verdict::from_bool(gd.last.test_error <= 0.02));

    if let Some(adamgap::setting::OptimizerSetting::Gd { eta }) = s.optimizers.iter_mut().find(|o| o.key() == "gd") {
        *eta = 1e9;
    }
    let exp = Experiment::new(&s).expect("valid");
    let runs = exp.run_all(&|_, _| {});
    let lines = adamgap::claims::headline(&exp, &runs);
    for (k, l) in lines.iter().enumerate() {
        let reads_gd = [0, 3, 4, 5].contains(&k);
        let diverged = matches!(&l.verdict, Verdict::Inconclusive(why) if why.contains("gd diverged"));
        assert_eq!(diverged, reads_gd, "line {}: {:?}", k + 1, l);
    }
}
