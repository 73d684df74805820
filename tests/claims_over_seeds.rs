//! Claims over seeds (`[[over_seeds]]`: checks on the mean of a per-seed quantity and its one-sided
//! 95% Student-t bounds) and claims on real images (`dataset`): the loader's rules, the statistics
//! and the verdict on hand-made measurements (milliseconds), and the checker on the embedded digits.

mod common;

use adamgap::claims::evaluate::SeedInput;
use adamgap::claims::{Scale, Theorem, Verdict};
use adamgap::optim::StopReason;
use adamgap::setting::Setting;
use common::claims::{checker, load_error, loads, measured, report, run_info};

/// A claim over seeds: a precondition on Adam's training error, the gap's lower bound.
const OVER: &str = r#"
id = "over"
title = "Adam's test error exceeds GD's on average"
reference = "test"
statement = "the mean gap is positive"
kind = "training"
expected = "holds"

[setting]
optimizers = [{ kind = "gd", eta = 0.03 }, { kind = "adam", eta = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8, bias_correction = true }]

[[over_seeds]]
what = "Adam learned"
quantity = "max.adam.train_error"
op = "<="
value = 0.2
if_false = "inconclusive"
reason = "Adam did not learn"

[[over_seeds]]
what = "the gap is positive"
quantity = "lower95.test_error_gap.gd.adam"
op = ">"
value = 0.0
"#;

/// Seed `seed` with these test errors (GD's, Adam's), Adam's training error and both runs trained.
fn seed(seed: u64, gd: f64, adam: f64, adam_train: f64) -> SeedInput {
    let mut m = measured(&[
        ("gd.test_error", gd),
        ("adam.test_error", adam),
        ("adam.train_error", adam_train),
        ("test_error_gap.gd.adam", adam - gd),
    ]);
    m.runs = vec![
        run_info("gd", 100, StopReason::StepBudget { step: 100 }, true),
        run_info("adam", 100, StopReason::StepBudget { step: 100 }, true),
    ];
    SeedInput { seed, setting: Setting::default(), m, init: None }
}

fn verdict_of(t: &Theorem, inputs: Vec<SeedInput>) -> Verdict {
    report(t, "over.toml", Scale::Full, inputs).verdict
}

#[test]
fn the_statistics_and_the_verdict_over_seeds() {
    let t = loads(OVER);
    // Gaps 0.02, 0.03, 0.04: mean 0.03, sd 0.01, lower bound 0.03 - 2.919986 * 0.01 / sqrt(3).
    let r = report(
        &t,
        "over.toml",
        Scale::Full,
        vec![seed(1, 0.1, 0.12, 0.0), seed(2, 0.1, 0.13, 0.0), seed(3, 0.1, 0.14, 0.1)],
    );
    assert_eq!(r.verdict, Verdict::Holds, "{}", r.summary());
    let over = r.over_seeds.as_ref().expect("over seeds");
    let lower = over.quantities["lower95.test_error_gap.gd.adam"];
    assert!((lower - (0.03 - 2.919_986 * 0.01 / 3f64.sqrt())).abs() < 1e-6, "{lower}");
    assert!((over.quantities["mean.test_error_gap.gd.adam"] - 0.03).abs() < 1e-15);
    assert_eq!(over.quantities["max.adam.train_error"], 0.1);
    let text = r.summary();
    assert!(text.contains("test_error_gap.gd.adam: mean 0.0300, sd 0.0100, lower95 0.0131"), "{text}");
    assert!(text.contains("verdict: holds (the checks over the 3 seeds)"), "{text}");
    assert!(
        r.seeds_line().contains(
            "over the seeds max.adam.train_error = 0.10 <= 0.2 [ok]; lower95.test_error_gap.gd.adam = 0.013 > 0 [ok]"
        ),
        "{}",
        r.seeds_line()
    );
    // Every seed's gap positive but too spread to bound the mean away from 0: fails.
    let spread = vec![seed(1, 0.1, 0.101, 0.0), seed(2, 0.1, 0.2, 0.0), seed(3, 0.1, 0.102, 0.0)];
    assert_eq!(verdict_of(&t, spread), Verdict::Fails);
    // The precondition false: inconclusive with its reason, although the gap check is false too.
    let unlearned = vec![seed(1, 0.1, 0.05, 0.5), seed(2, 0.1, 0.05, 0.0), seed(3, 0.1, 0.05, 0.0)];
    assert!(matches!(verdict_of(&t, unlearned), Verdict::Inconclusive(r) if r.contains("Adam did not learn")));
}

#[test]
fn a_seed_that_diverged_or_lacks_a_quantity_makes_it_inconclusive() {
    let t = loads(OVER);
    let mut diverged = seed(2, 0.1, 0.2, 0.0);
    diverged.m.runs[1].stop = StopReason::Diverged { step: 7 };
    let v = verdict_of(&t, vec![seed(1, 0.1, 0.2, 0.0), diverged, seed(3, 0.1, 0.2, 0.0)]);
    assert!(matches!(&v, Verdict::Inconclusive(r) if r.contains("adam (seed 2) diverged at step 7")), "{v:?}");
    let mut lacking = seed(3, 0.1, 0.2, 0.0);
    lacking.m.quantities.remove("test_error_gap.gd.adam");
    let v = verdict_of(&t, vec![seed(1, 0.1, 0.2, 0.0), seed(2, 0.1, 0.21, 0.0), lacking]);
    assert!(matches!(&v, Verdict::Inconclusive(r) if r.contains("seed 3: no quantity named")), "{v:?}");
}

#[test]
fn the_loader_refuses_what_over_seeds_cannot_mean() {
    let both = format!("{OVER}\n[[check]]\nwhat = \"x\"\nquantity = \"gd.test_error\"\nop = \"<=\"\nvalue = 1.0\n");
    assert!(load_error(&both).contains("not both"), "{}", load_error(&both));
    let median = OVER.replace("lower95.test_error_gap", "median.test_error_gap");
    let e = load_error(&median);
    assert!(e.contains("over_seeds[1].quantity") && e.contains("{mean,sd,lower95,upper95,min,max}"), "{e}");
    let unknown_run = OVER.replace("lower95.test_error_gap.gd.adam", "lower95.test_error_gap.gd.sgd");
    assert!(load_error(&unknown_run).contains("unknown quantity `lower95.test_error_gap.gd.sgd`"));
    let twice = OVER.replace("what = \"Adam learned\"", "what = \"the gap is positive\"");
    assert!(load_error(&twice).contains("is also the `what` of over_seeds[0]"), "{}", load_error(&twice));
    let bad_task = OVER.replace("[setting]", "dataset = { task = \"digits:3,3\" }\n\n[setting]");
    let e = load_error(&bad_task);
    assert!(e.contains("dataset.task") && e.contains("two different classes"), "{e}");
    let test_only =
        OVER.replace("[setting]", "[test]\nscale = \"reduced\"\ndataset = { task = \"digits:3,8\" }\n\n[setting]");
    assert!(load_error(&test_only).contains("only with a top-level `dataset`"), "{}", load_error(&test_only));
    let unknown_key = OVER.replace("[setting]", "dataset = { task = \"digits:3,8\", side = 4 }\n\n[setting]");
    assert!(load_error(&unknown_key).contains("side"), "{}", load_error(&unknown_key));
}

/// The claim file on the embedded digits, 3 seeds, a short budget.
fn digits_claim(check: &str) -> String {
    OVER.replace("[setting]", "dataset = { task = \"digits:3,8\", tile = 4 }\nseeds = 10\n\n[setting]")
        .replace("optimizers =", "data = { n = 100 }\ntrain = { steps = 300 }\noptimizers =")
        .replace("lower95.test_error_gap.gd.adam\"\nop = \">\"", check)
}

#[test]
fn the_checker_trains_on_the_digits_and_judges_over_the_seeds() {
    let text = digits_claim("lower95.test_error_gap.gd.adam\"\nop = \">\"");
    let t = loads(&text);
    let mut c = checker();
    c.preflight(&t, "digits.toml", Scale::Full).expect("preflight");
    let r = c.check(&t, "digits.toml", Scale::Full).expect("checked");
    assert_eq!(r.seeds.len(), 10);
    let d = r.dataset.as_ref().expect("the task is reported");
    assert_eq!((d.task.as_str(), d.d, d.patches, d.n), ("digits:3,8", 16, 4, 100));
    assert_eq!((r.setting.data.d, r.setting.data.patches), (16, 4), "the setting is what the images became");
    let over = r.over_seeds.as_ref().expect("over seeds");
    let gaps: Vec<f64> = r.seeds.iter().map(|s| s.quantities["test_error_gap.gd.adam"]).collect();
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    assert!((over.quantities["mean.test_error_gap.gd.adam"] - mean).abs() < 1e-12);
    // Seeds differ: each its own subsample and initialization.
    assert!(gaps.iter().any(|g| *g != gaps[0]), "{gaps:?}");
    assert!(r.summary().contains("dataset: digits:3,8 (3 +1, 8 -1), 8x8 images cut into 4 tiles of 4x4 (d = 16)"));
}

#[test]
fn a_check_over_seeds_that_passes_at_initialization_is_refused() {
    // At W^(0) both runs are the same network: every gap is 0, so `upper95 >= 0` passes there.
    let t = loads(&digits_claim("upper95.test_error_gap.gd.adam\"\nop = \">=\""));
    let e = checker().preflight(&t, "digits.toml", Scale::Full).expect_err("passes at init").to_string();
    assert!(e.contains("over_seeds[1]") && e.contains("already passes at initialization (over the seeds)"), "{e}");
}
