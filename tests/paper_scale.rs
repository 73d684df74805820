//! The headline experiment at the paper's full default setting, for seeds 1 to 5 (about 20 s in
//! the test profile on 2 threads): every run uses its whole budget, and every verdict line of the
//! headline (the theorem files' checks, `claims::headline`) holds on every seed.

use adamgap::claims::Verdict;
use adamgap::optim::StopReason;
use adamgap::setting::Setting;
use adamgap::train::Experiment;

#[test]
fn headline_holds_for_seeds_1_to_5() {
    let seeds: Vec<u64> = (1..=5).collect();
    let pool = adamgap::parallel::pool(2).expect("a pool of 2 threads");
    let results = pool.install(|| {
        adamgap::parallel::map_indexed(seeds.len(), |k| {
            let setting = Setting { seed: seeds[k], ..Setting::default() };
            let exp = Experiment::new(&setting).expect("the default setting is valid");
            let runs: Vec<_> = setting.optimizers.iter().map(|o| exp.run(o, &|_| {})).collect();
            (runs.iter().map(|r| (r.name.clone(), r.stop)).collect::<Vec<_>>(), adamgap::claims::headline(&exp, &runs))
        })
    });
    for (seed, (stops, verdicts)) in seeds.iter().zip(results) {
        for (name, stop) in stops {
            assert_eq!(stop, StopReason::StepBudget { step: 10_000 }, "seed {seed}: {name} stopped early");
        }
        assert_eq!(verdicts.len(), 6);
        for v in &verdicts {
            println!("seed {seed}: {}: {}", v.statement, v.verdict.yes_no());
        }
        assert!(verdicts.iter().all(|v| v.verdict == Verdict::Holds), "seed {seed}: {verdicts:?}");
    }
}
