//! The headline experiment at the paper's full default setting, for seeds 1 to 5. Heavy (about a
//! minute per seed in a release build), so ignored by default:
//!
//! ```sh
//! cargo test --release --test paper_scale -- --ignored --nocapture
//! ```

use adamgap::optim::StopReason;
use adamgap::setting::Setting;
use adamgap::train::Experiment;

#[test]
#[ignore = "paper scale: run with --ignored (about a minute per seed)"]
fn headline_holds_for_seeds_1_to_5() {
    for seed in 1..=5 {
        let setting = Setting { seed, ..Setting::default() };
        let exp = Experiment::new(&setting).expect("the default setting is valid");
        let runs = exp.run_all(2, &|_, _| {});
        let (gd, adam) = (&runs[0], &runs[1]);
        assert_eq!((gd.name.as_str(), adam.name.as_str()), ("gd", "adam"));
        for r in [gd, adam] {
            assert_eq!(r.stop, StopReason::StepBudget { step: 10_000 }, "seed {seed}: {} stopped early", r.name);
        }
        let (g, a) = (&gd.last, &adam.last);
        println!(
            "seed {seed}: adam test {:.4} feature {:.3} noise {:.3} | gd test {:.4} feature {:.3} noise {:.4} | distance {:.2}",
            a.test_error,
            a.coefficients.feature_max,
            a.coefficients.noise_min_max,
            g.test_error,
            g.coefficients.feature_max,
            g.coefficients.noise_min_max,
            gd.weights.distance(&adam.weights)
        );
        assert_eq!(a.train_error, 0.0, "seed {seed}: Adam training error");
        assert_eq!(g.train_error, 0.0, "seed {seed}: GD training error");
        assert!(a.test_error >= 0.5, "seed {seed}: Adam test error {}", a.test_error);
        assert!(a.coefficients.feature_max <= 0.0, "seed {seed}: Adam feature {}", a.coefficients.feature_max);
        assert!(g.test_error <= 0.02, "seed {seed}: GD test error {}", g.test_error);
        assert!(g.coefficients.feature_max >= 1.0, "seed {seed}: GD feature {}", g.coefficients.feature_max);
        assert!(g.coefficients.noise_min_max <= 0.1, "seed {seed}: GD noise {}", g.coefficients.noise_min_max);
        let verdicts = adamgap::claims::headline(&exp, &runs);
        assert!(verdicts.iter().all(|v| v.verdict == adamgap::claims::Verdict::Holds), "seed {seed}: {verdicts:?}");
    }
}
