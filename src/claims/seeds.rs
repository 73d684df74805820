//! Verdicts over seeds: the rule that turns per-seed verdicts into a claim's verdict (written out
//! in `docs/methodology.md`, "Seeds"), the one-sided Clopper-Pearson lower bound on the probability
//! that the claim holds for a random seed, the spread of each recorded quantity, and the statistics
//! over seeds that `[[over_seeds]]` checks read (the mean, its one-sided Student-t bounds).

use super::outcome::SeedResult;
use crate::verdict::Verdict;

/// The rule, as printed in every report.
pub const RULE: &str = "holds: every seed holds; fails: every seed fails; otherwise inconclusive";

/// The rule of a claim with `[[over_seeds]]` checks.
pub const OVER_SEEDS_RULE: &str = "over seeds: the one verdict rule applied once to the checks of statistics over \
                                   all seeds (lower95/upper95: one-sided 95% Student-t bounds on the mean)";

/// Confidence of the lower bound (one-sided).
pub const CONFIDENCE: f64 = 0.95;

/// The claim's verdict over its seeds.
pub struct Summary {
    pub verdict: Verdict,
    pub paper_verdict: Option<Verdict>,
    /// Seeds on which the claim holds.
    pub holds: usize,
    /// One-sided [`CONFIDENCE`] Clopper-Pearson lower bound on the probability that it holds.
    pub lower_bound: f64,
}

/// Applies [`RULE`] to verdicts.
pub fn combine<'a>(verdicts: impl IntoIterator<Item = (u64, &'a Verdict)>) -> Verdict {
    let all: Vec<(u64, &Verdict)> = verdicts.into_iter().collect();
    let n = all.len();
    if n == 1 {
        return all[0].1.clone();
    }
    let holds = all.iter().filter(|(_, v)| **v == Verdict::Holds).count();
    let fails = all.iter().filter(|(_, v)| **v == Verdict::Fails).count();
    if holds == n {
        return Verdict::Holds;
    }
    if fails == n {
        return Verdict::Fails;
    }
    let mut why =
        format!("holds on {holds}/{n} seeds, fails on {fails}/{n}, inconclusive on {}/{n}", n - holds - fails);
    if let Some((seed, Verdict::Inconclusive(r))) = all.iter().find(|(_, v)| matches!(v, Verdict::Inconclusive(_))) {
        why.push_str(&format!(" (seed {seed}: {r})"));
    }
    Verdict::Inconclusive(why)
}

/// The claim's verdict, the paper-reading verdict and the lower bound.
pub fn summarize(results: &[SeedResult]) -> Summary {
    let verdict = combine(results.iter().map(|r| (r.seed, &r.verdict)));
    let paper_verdict = results
        .iter()
        .all(|r| r.paper_verdict.is_some())
        .then(|| combine(results.iter().filter_map(|r| r.paper_verdict.as_ref().map(|v| (r.seed, v)))))
        .filter(|_| !results.is_empty());
    let holds = results.iter().filter(|r| r.verdict == Verdict::Holds).count();
    Summary { verdict, paper_verdict, holds, lower_bound: clopper_pearson_lower(holds, results.len(), CONFIDENCE) }
}

/// `(name, min, max)` over seeds of every quantity recorded on every seed.
pub fn spread(results: &[SeedResult]) -> Vec<(String, f64, f64)> {
    let Some(first) = results.first() else { return Vec::new() };
    first
        .quantities
        .keys()
        .filter_map(|k| {
            let vals: Option<Vec<f64>> = results.iter().map(|r| r.quantities.get(k).copied()).collect();
            let vals = vals?;
            let min = vals.iter().copied().fold(f64::INFINITY, f64::min);
            let max = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            Some((k.clone(), min, max))
        })
        .collect()
}

/// `(statistic, value)` of [`super::quantity::STATISTICS`] over `values` (at least one, every one finite): the mean,
/// the sample standard deviation (0 for one value), the one-sided [`CONFIDENCE`] Student-t
/// bounds on the mean, `mean -+ t_{0.95, k-1} sd / sqrt(k)` (infinite for one value, where no
/// bound exists), the smallest and the largest.
pub fn statistics(values: &[f64]) -> Vec<(&'static str, f64)> {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    let k = values.len();
    assert!(k > 0 && values.iter().all(|v| v.is_finite()), "statistics of finite values");
    let mean = values.iter().sum::<f64>() / k as f64;
    let sd =
        if k > 1 { (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (k - 1) as f64).sqrt() } else { 0.0 };
    let half = if k > 1 {
        let t = StudentsT::new(0.0, 1.0, (k - 1) as f64).expect("k - 1 > 0 degrees of freedom").inverse_cdf(CONFIDENCE);
        t * sd / (k as f64).sqrt()
    } else {
        f64::INFINITY
    };
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    vec![("mean", mean), ("sd", sd), ("lower95", mean - half), ("upper95", mean + half), ("min", min), ("max", max)]
}

/// `P(X >= k)` for `X ~ Binomial(n, p)`.
fn upper_tail(k: usize, n: usize, p: f64) -> f64 {
    // Terms by the ratio C(n, i + 1) / C(n, i) = (n - i) / (i + 1), in logs to stay finite.
    let ln_choose = |i: usize| -> f64 { (1..=i).map(|j| ((n - i + j) as f64 / j as f64).ln()).sum() };
    (k..=n).map(|i| (ln_choose(i) + i as f64 * p.ln() + (n - i) as f64 * (1.0 - p).ln()).exp()).sum()
}

/// The one-sided Clopper-Pearson lower confidence bound for a binomial proportion: the `p` with
/// `P(X >= k | p) = 1 - confidence` (0 when `k = 0`; `(1 - confidence)^(1/n)` when `k = n`).
pub fn clopper_pearson_lower(k: usize, n: usize, confidence: f64) -> f64 {
    let alpha = 1.0 - confidence;
    if k == 0 || n == 0 {
        return 0.0;
    }
    if k == n {
        return alpha.powf(1.0 / n as f64);
    }
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if upper_tail(k, n, mid) < alpha { lo = mid } else { hi = mid }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clopper_pearson_matches_known_values() {
        // k = n: alpha^(1/n); 10/10 at 95%: 0.7411.
        assert!((clopper_pearson_lower(10, 10, 0.95) - 0.741_134).abs() < 1e-5);
        assert!((clopper_pearson_lower(3, 3, 0.95) - 0.368_403).abs() < 1e-5);
        // 9/10 at one-sided 95%: 0.6058 (beta quantile B(0.05; 9, 2)).
        assert!((clopper_pearson_lower(9, 10, 0.95) - 0.605_823).abs() < 1e-4);
        assert_eq!(clopper_pearson_lower(0, 10, 0.95), 0.0);
    }

    #[test]
    fn student_t_bounds_match_known_quantiles() {
        // t_{0.95, 4} = 2.131847, t_{0.95, 19} = 1.729133 (tables of the Student-t distribution).
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        let s: std::collections::BTreeMap<_, _> = statistics(&v).into_iter().collect();
        let sd = 2.5f64.sqrt();
        assert_eq!((s["mean"], s["min"], s["max"]), (3.0, 1.0, 5.0));
        assert!((s["sd"] - sd).abs() < 1e-15);
        assert!((s["lower95"] - (3.0 - 2.131_847 * sd / 5f64.sqrt())).abs() < 1e-5);
        assert!((s["upper95"] - (3.0 + 2.131_847 * sd / 5f64.sqrt())).abs() < 1e-5);
        let twenty: Vec<f64> = (0..20).map(|i| i as f64).collect();
        let s: std::collections::BTreeMap<_, _> = statistics(&twenty).into_iter().collect();
        let sd = (35.0f64).sqrt();
        assert!((s["lower95"] - (9.5 - 1.729_133 * sd / 20f64.sqrt())).abs() < 1e-5);
        let one: std::collections::BTreeMap<_, _> = statistics(&[2.0]).into_iter().collect();
        assert_eq!((one["sd"], one["lower95"], one["upper95"]), (0.0, f64::NEG_INFINITY, f64::INFINITY));
    }

    #[test]
    fn the_rule_needs_every_seed() {
        let (h, f, i) = (Verdict::Holds, Verdict::Fails, Verdict::Inconclusive("x".into()));
        assert_eq!(combine([(1, &h), (2, &h), (3, &h)]), Verdict::Holds);
        assert_eq!(combine([(1, &f), (2, &f), (3, &f)]), Verdict::Fails);
        let mixed = combine([(1, &h), (2, &f), (3, &h)]);
        assert_eq!(mixed, Verdict::Inconclusive("holds on 2/3 seeds, fails on 1/3, inconclusive on 0/3".into()));
        assert!(matches!(combine([(1, &h), (2, &i)]), Verdict::Inconclusive(r) if r.contains("seed 2: x")));
    }
}
