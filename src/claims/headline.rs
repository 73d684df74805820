//! The headline's verdict lines (`adamgap run`: GD versus Adam from one initialization), decided by
//! the theorem files' own checks: each file's `[[headline]]` entries name the checks a line is made
//! of, and the line's verdict is the one verdict rule ([`super::evaluate::verdict`]) applied to those
//! checks on the runs `adamgap run` already has. No threshold is restated here, so `adamgap run` and
//! `adamgap check` cannot drift apart. See `docs/claims.md`.

use super::builtin;
use super::evaluate::{evaluate_check, verdict};
use super::measure::measure_runs;
use super::outcome::RunInfo;
use super::quantity::refers_to;
use super::theorem::Theorem;
use crate::train::{Experiment, Run};
use crate::verdict::VerdictLine;

/// The compiled-in theorem files of the headline ([`builtin::HEADLINE`]), parsed.
pub fn theorems() -> Vec<Theorem> {
    builtin::HEADLINE.into_iter().map(builtin::theorem).collect()
}

/// The headline's verdict lines from `runs` (trained from `exp`'s initialization), in the order of
/// their `line` numbers. A line whose checks need a run that is missing (say, no `gd` among the
/// optimizers) is inconclusive with the missing quantity named; a diverged run makes the lines that
/// use it inconclusive.
pub fn headline(exp: &Experiment, runs: &[Run]) -> Vec<VerdictLine> {
    let refs: Vec<&Run> = runs.iter().collect();
    let mut lines: Vec<(usize, VerdictLine)> = Vec::new();
    for theorem in theorems() {
        if theorem.headline.is_empty() {
            continue;
        }
        let m = measure_runs(exp, &refs, theorem.measure.feature_level);
        for h in &theorem.headline {
            let checks: Vec<_> = theorem.checks.iter().filter(|c| h.checks.contains(&c.what)).collect();
            let outcomes: Vec<_> = checks.iter().map(|c| evaluate_check(c, &m)).collect();
            let used: Vec<&RunInfo> = m
                .runs
                .iter()
                .filter(|r| {
                    checks.iter().any(|c| {
                        refers_to(&c.quantity, &r.name) || c.of.as_deref().is_some_and(|of| refers_to(of, &r.name))
                    })
                })
                .collect();
            let v = verdict(&m, used, &outcomes);
            lines.push((h.line, VerdictLine { statement: h.statement.clone(), verdict: v }));
        }
    }
    lines.sort_by_key(|(k, _)| *k);
    lines.into_iter().map(|(_, l)| l).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The compiled-in files parse, and their `[[headline]]` entries number the lines 1, 2, ...
    /// without gaps or repeats.
    #[test]
    fn headline_lines_are_numbered_without_gaps() {
        let mut numbers: Vec<usize> = theorems().iter().flat_map(|t| t.headline.iter().map(|h| h.line)).collect();
        numbers.sort_unstable();
        assert_eq!(numbers, (1..=numbers.len()).collect::<Vec<_>>());
        assert!(numbers.len() >= 5);
    }
}
