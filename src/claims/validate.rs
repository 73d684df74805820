//! Load-time validation of a theorem file: what serde cannot check (right-hand sides, known
//! quantities, expected failures, seed counts). Errors name the file, the line where it can be
//! found, the field and the allowed values.

use super::theorem::{ClaimKind, Expected, FULL_SEEDS, IfFalse, Op, TEST_SEEDS, Theorem};
use crate::error::{Error, Result};

impl Theorem {
    /// Checks what serde cannot: every check has a right-hand side, `within` where needed, ids
    /// non-empty. Errors name the file and the field.
    pub(super) fn validate(&self, text: &str, origin: &str) -> Result<()> {
        let bad = |field: String, message: &str| Error::Config {
            origin: origin.to_string(),
            message: format!("field `{field}`: {message}"),
        };
        let bad_at = |needle: &str, field: String, message: &str| Error::Config {
            origin: format!("{origin}{}", line_of(text, needle).map_or(String::new(), |l| format!(" line {l}"))),
            message: format!("field `{field}`: {message}"),
        };
        let whats: Vec<&str> = self.checks.iter().map(|c| c.what.as_str()).collect();
        if (self.expected == Expected::Fails) == self.expect_fail.is_empty() {
            return Err(bad(
                "expect_fail".into(),
                "`expected = \"fails\"` needs `expect_fail` (the `what` of every check that must be false), and only then",
            ));
        }
        for name in &self.expect_fail {
            if !whats.contains(&name.as_str()) {
                return Err(bad_at(name, "expect_fail".into(), &format!("no [[check]] has what = {name:?}")));
            }
        }
        if self.kind == ClaimKind::Training {
            let (full, test) = (self.seeds.unwrap_or(FULL_SEEDS), self.test.as_ref().and_then(|t| t.seeds));
            if full < FULL_SEEDS {
                return Err(bad_at("seeds", "seeds".into(), &format!("a training claim needs >= {FULL_SEEDS} seeds")));
            }
            if test.is_some_and(|n| n < TEST_SEEDS) {
                return Err(bad_at(
                    "seeds",
                    "test.seeds".into(),
                    &format!("a training claim needs >= {TEST_SEEDS} seeds"),
                ));
            }
        }
        if self.seeds == Some(0) || self.test.as_ref().and_then(|t| t.seeds) == Some(0) {
            return Err(bad_at("seeds", "seeds".into(), ">= 1"));
        }
        if self.id.trim().is_empty() {
            return Err(bad("id".into(), "must not be empty"));
        }
        if self.kind == ClaimKind::Training && self.checks.is_empty() {
            return Err(bad("check".into(), "a training claim needs at least one [[check]]"));
        }
        self.validate_path(text, origin)?;
        for (k, c) in self.checks.iter().enumerate() {
            let f = |name: &str| format!("check[{k}].{name}");
            match (&c.value, &c.of) {
                (None, None) => return Err(bad(f("value"), "give `value` (a number) or `of` (a quantity)")),
                (Some(_), Some(_)) => return Err(bad(f("of"), "give either `value` or `of`, not both")),
                _ => {}
            }
            if c.op == Op::WithinFactor {
                match c.within {
                    Some(w) if w.is_finite() && w > 1.0 => {}
                    _ => return Err(bad(f("within"), "`within-factor` needs `within`, a finite number > 1")),
                }
            } else if c.within.is_some() {
                return Err(bad(f("within"), "only used with op = \"within-factor\""));
            }
            if c.if_false == IfFalse::Inconclusive && c.reason.is_none() {
                return Err(bad(f("reason"), "an `if_false = \"inconclusive\"` check needs a `reason`"));
            }
            if c.paper_value.is_some() && c.value.is_none() {
                return Err(bad(f("paper_value"), "only with a constant `value` (the relaxed threshold)"));
            }
            let optimizers = self.optimizer_keys();
            for name in std::iter::once(&c.quantity).chain(c.of.iter()) {
                if let Err(allowed) = super::measure::known_quantity(self.kind, &optimizers, name) {
                    return Err(bad_at(
                        &format!("\"{name}\""),
                        f(if name == &c.quantity { "quantity" } else { "of" }),
                        &format!("unknown quantity `{name}` (allowed: {allowed})"),
                    ));
                }
            }
        }
        for (k, h) in self.headline.iter().enumerate() {
            if h.checks.is_empty() {
                return Err(bad(format!("headline[{k}].checks"), "list at least one check (its `what`)"));
            }
            for name in &h.checks {
                if !self.checks.iter().any(|c| &c.what == name) {
                    return Err(bad(
                        format!("headline[{k}].checks"),
                        &format!("no [[check]] has what = {name:?}; give the `what` of a check of this file"),
                    ));
                }
            }
        }
        for (k, o) in self.orderings.iter().enumerate() {
            if o.items.len() < 2 {
                return Err(bad(format!("ordering[{k}].items"), "list at least two items"));
            }
        }
        if let Some(t) = &self.test
            && t.scale != "full"
            && t.scale != "reduced"
        {
            return Err(bad("test.scale".into(), "\"full\" or \"reduced\""));
        }
        Ok(())
    }
}

impl Theorem {
    /// The rules of a path claim: `[path]` present (and only then), the grid gives the settings and
    /// seeds (no `[setting]`, `seeds`, `[paper_setting]`, `[test.setting]`, `[measure]`,
    /// `[[headline]]`, `[track] steps`), `[track] quantities` are per-cell quantities.
    fn validate_path(&self, text: &str, origin: &str) -> Result<()> {
        let bad_at = |needle: &str, field: &str, message: String| Error::Config {
            origin: format!("{origin}{}", line_of(text, needle).map_or(String::new(), |l| format!(" line {l}"))),
            message: format!("field `{field}`: {message}"),
        };
        let is_path = self.kind == ClaimKind::Path;
        if !is_path {
            if self.path.is_some() {
                return Err(bad_at("[path]", "path", "only for kind = \"path\"".into()));
            }
            if self.test.as_ref().is_some_and(|t| !t.grid.is_empty()) {
                return Err(bad_at("grid", "test.grid", "only for kind = \"path\"".into()));
            }
            return Ok(());
        }
        if self.path.is_none() {
            return Err(bad_at(
                "kind",
                "path",
                "a path claim needs [path] with `grid` (a preset of sweeps/, e.g. \"path-d\")".into(),
            ));
        }
        let from_grid = "not used by a path claim: its settings and seeds are its grid's cells ([path])";
        let unused = [
            ("setting", !self.setting.is_empty()),
            ("paper_setting", self.paper_setting.is_some()),
            ("seeds", self.seeds.is_some()),
            ("test.setting", self.test.as_ref().is_some_and(|t| !t.setting.is_empty())),
            ("test.seeds", self.test.as_ref().is_some_and(|t| t.seeds.is_some())),
            ("measure", self.measure.feature_level.is_some()),
            ("headline", !self.headline.is_empty()),
            ("track.steps", self.track.steps.is_some()),
        ];
        if let Some((field, _)) = unused.iter().find(|(_, given)| *given) {
            let needle = field.rsplit('.').next().unwrap_or(field);
            return Err(bad_at(needle, field, from_grid.into()));
        }
        if self.checks.is_empty() {
            return Err(bad_at("kind", "check", "a path claim needs at least one [[check]]".into()));
        }
        for (k, q) in self.track.quantities.iter().enumerate() {
            if !super::path::known_cell_quantity(q) {
                return Err(bad_at(
                    &format!("\"{q}\""),
                    &format!("track.quantities[{k}]"),
                    format!("unknown cell quantity `{q}` (allowed: {})", super::path::cell_quantity_forms()),
                ));
            }
        }
        Ok(())
    }
}

/// The 1-based line of the first occurrence of `needle` in `text`.
pub(super) fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.find(needle).map(|at| text[..at].matches('\n').count() + 1)
}
