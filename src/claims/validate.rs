//! The loader of theorem files: parsing ([`Theorem::from_toml_str`], [`Theorem::from_file`]) and the
//! rules serde cannot check (right-hand sides, known quantities, expected failures, seed counts,
//! the rules of a path claim). Every error names the file, the exact line of the field it is about
//! (from `toml`'s spans, [`crate::spans`]), the field and the allowed values.

use serde::Deserialize;

use super::quantity;
use super::theorem::{ClaimKind, Expected, FULL_SEEDS, IfFalse, MAX_SEEDS, Op, Scale, TEST_SEEDS, Theorem};
use crate::error::{Error, Result};
use crate::setting::Setting;
use crate::spans::Spans;

impl Theorem {
    /// Parses a theorem file's text; `origin` names it in errors.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self> {
        let mut t: Self = crate::setting::parse_toml(text, origin)?;
        // The setting tables, each alone in the shape of a config file: an unknown or mistyped key
        // there is an error at its own line (the merged tables have no positions).
        crate::setting::parse_toml::<SettingTables>(text, origin)?;
        t.spans = Spans::parse(text);
        t.validate(origin)?;
        Ok(t)
    }

    /// Reads and parses a theorem file, and builds its settings at both scales
    /// ([`Theorem::validate_settings`]).
    pub fn from_file(path: &std::path::Path) -> Result<Self> {
        let text = crate::setting::read_text_file(path)?;
        let origin = path.display().to_string();
        let t = Self::from_toml_str(&text, &origin)?;
        t.validate_settings(&origin)?;
        Ok(t)
    }

    /// Checks what serde cannot: every check has a right-hand side, `within` where needed, ids
    /// non-empty. Errors name the file, the line and the field.
    fn validate(&self, origin: &str) -> Result<()> {
        // `at` is where the error is written (a field path as `self.at` reads it); `field` what it names.
        let bad = |at: &str, field: &str, message: &str| Error::Config {
            origin: self.at(origin, at),
            message: format!("field `{field}`: {message}"),
        };
        // Every check by its place in the file: `check[k]`, then `over_seeds[k]`.
        let places: Vec<String> = (0..self.checks.len())
            .map(|k| format!("check[{k}]"))
            .chain((0..self.over_seeds.len()).map(|k| format!("over_seeds[{k}]")))
            .collect();
        let whats: Vec<&str> = self.all_checks().map(|c| c.what.as_str()).collect();
        for (k, w) in whats.iter().enumerate() {
            if let Some(first) = whats[..k].iter().position(|v| v == w) {
                let at = format!("{}.what", places[k]);
                return Err(bad(
                    &at,
                    &at,
                    &format!("{w:?} is also the `what` of {}; every check needs its own `what`", places[first]),
                ));
            }
        }
        for (k, name) in self.expect_fail.iter().enumerate() {
            if self.expect_fail[..k].contains(name) {
                return Err(bad(&format!("expect_fail[{k}]"), "expect_fail", &format!("{name:?} is listed twice")));
            }
        }
        for (field, n) in [("seeds", self.seeds), ("test.seeds", self.test.as_ref().and_then(|t| t.seeds))] {
            if n.is_some_and(|n| n > MAX_SEEDS) {
                return Err(bad(field, field, &format!("at most {MAX_SEEDS}")));
            }
        }
        if (self.expected == Expected::Fails) == self.expect_fail.is_empty() {
            return Err(bad(
                if self.expect_fail.is_empty() { "expected" } else { "expect_fail" },
                "expect_fail",
                "`expected = \"fails\"` needs `expect_fail` (the `what` of every check that must be false), and only then",
            ));
        }
        for (k, name) in self.expect_fail.iter().enumerate() {
            if !whats.contains(&name.as_str()) {
                return Err(bad(
                    &format!("expect_fail[{k}]"),
                    "expect_fail",
                    &format!("no [[check]] or [[over_seeds]] has what = {name:?}"),
                ));
            }
        }
        if self.kind == ClaimKind::Training {
            let (full, test) = (self.seeds.unwrap_or(FULL_SEEDS), self.test.as_ref().and_then(|t| t.seeds));
            if full < FULL_SEEDS {
                return Err(bad("seeds", "seeds", &format!("a training claim needs >= {FULL_SEEDS} seeds")));
            }
            if test.is_some_and(|n| n < TEST_SEEDS) {
                return Err(bad("test.seeds", "test.seeds", &format!("a training claim needs >= {TEST_SEEDS} seeds")));
            }
        }
        if self.seeds == Some(0) {
            return Err(bad("seeds", "seeds", ">= 1"));
        }
        if self.test.as_ref().and_then(|t| t.seeds) == Some(0) {
            return Err(bad("test.seeds", "test.seeds", ">= 1"));
        }
        if self.id.trim().is_empty() {
            return Err(bad("id", "id", "must not be empty"));
        }
        if self.kind == ClaimKind::Training && self.checks.is_empty() && self.over_seeds.is_empty() {
            return Err(bad("kind", "check", "a training claim needs at least one [[check]] or [[over_seeds]] check"));
        }
        if !self.checks.is_empty() && !self.over_seeds.is_empty() {
            return Err(bad(
                "over_seeds[0]",
                "over_seeds",
                "a claim checks every seed ([[check]]) or statistics over the seeds ([[over_seeds]]), not both",
            ));
        }
        if self.kind != ClaimKind::Training {
            let given = [("over_seeds", !self.over_seeds.is_empty()), ("dataset", self.dataset.is_some())]
                .into_iter()
                .chain(std::iter::once(("test.dataset", self.test.as_ref().is_some_and(|t| t.dataset.is_some()))));
            for (field, _) in given.filter(|(_, g)| *g) {
                let at = if field == "over_seeds" { "over_seeds[0]" } else { field };
                return Err(bad(at, field, "only in a training claim (kind = \"training\")"));
            }
        }
        if self.test.as_ref().is_some_and(|t| t.dataset.is_some()) && self.dataset.is_none() {
            return Err(bad("test.dataset", "test.dataset", "only with a top-level `dataset` (the claim's task)"));
        }
        for (field, d) in
            [("dataset", self.dataset.as_ref()), ("test.dataset", self.test.as_ref().and_then(|t| t.dataset.as_ref()))]
        {
            if let Some(d) = d {
                crate::images::Task::parse(&d.task, &format!("{field}.task")).map_err(|e| Error::Config {
                    origin: self.at(origin, &format!("{field}.task")),
                    message: e.to_string(),
                })?;
            }
        }
        if !self.headline.is_empty() && self.dataset.is_some() {
            return Err(bad(
                "headline[0]",
                "headline",
                "the headline's lines are about the synthetic data, not a `dataset`",
            ));
        }
        self.validate_path(origin)?;
        let optimizers = self.optimizer_keys();
        for (k, c) in self.all_checks().enumerate() {
            let place = &places[k];
            let f = |name: &str| format!("{place}.{name}");
            let item = place.clone();
            match (&c.value, &c.of) {
                (None, None) => return Err(bad(&item, &f("value"), "give `value` (a number) or `of` (a quantity)")),
                (Some(_), Some(_)) => return Err(bad(&f("of"), &f("of"), "give either `value` or `of`, not both")),
                _ => {}
            }
            if c.op == Op::WithinFactor {
                match c.within {
                    Some(w) if w.is_finite() && w > 1.0 => {}
                    Some(_) => {
                        return Err(bad(
                            &f("within"),
                            &f("within"),
                            "`within-factor` needs `within`, a finite number > 1",
                        ));
                    }
                    None => {
                        return Err(bad(&f("op"), &f("within"), "`within-factor` needs `within`, a finite number > 1"));
                    }
                }
            } else if c.within.is_some() {
                return Err(bad(&f("within"), &f("within"), "only used with op = \"within-factor\""));
            }
            let numbers = [
                ("value", c.value),
                ("factor", Some(c.factor)),
                ("offset", Some(c.offset)),
                ("paper_value", c.paper_value),
            ];
            for (name, v) in numbers {
                if let Some(v) = v.filter(|v| !v.is_finite()) {
                    return Err(bad(&f(name), &f(name), &format!("{v} is not a finite number")));
                }
            }
            if c.if_false == IfFalse::Inconclusive && c.reason.is_none() {
                return Err(bad(
                    &f("if_false"),
                    &f("reason"),
                    "an `if_false = \"inconclusive\"` check needs a `reason`",
                ));
            }
            if c.paper_value.is_some() && c.value.is_none() {
                return Err(bad(
                    &f("paper_value"),
                    &f("paper_value"),
                    "only with a constant `value` (the relaxed threshold)",
                ));
            }
            for (side, name) in std::iter::once(("quantity", &c.quantity)).chain(c.of.iter().map(|o| ("of", o))) {
                let known = if k < self.checks.len() {
                    known_quantity(self.kind, &optimizers, name)
                } else {
                    quantity::known_over_seeds(&optimizers, name)
                };
                if let Err(allowed) = known {
                    return Err(bad(&f(side), &f(side), &format!("unknown quantity `{name}` (allowed: {allowed})")));
                }
            }
        }
        for (k, h) in self.headline.iter().enumerate() {
            let field = format!("headline[{k}].checks");
            if h.checks.is_empty() {
                return Err(bad(&field, &field, "list at least one check (its `what`)"));
            }
            for (i, name) in h.checks.iter().enumerate() {
                if !self.checks.iter().any(|c| &c.what == name) {
                    return Err(bad(
                        &format!("{field}[{i}]"),
                        &field,
                        &format!("no [[check]] has what = {name:?}; give the `what` of a check of this file"),
                    ));
                }
            }
        }
        for (k, o) in self.orderings.iter().enumerate() {
            let field = format!("ordering[{k}].items");
            if o.items.len() < 2 {
                return Err(bad(&field, &field, "list at least two items"));
            }
            for (i, item) in o.items.iter().enumerate() {
                // As the report reads it: `label = quantity`, a bare quantity, or a number.
                let name = item.split_once('=').map_or(item.as_str(), |(_, n)| n).trim();
                if let Ok(v) = name.parse::<f64>() {
                    if !v.is_finite() {
                        return Err(bad(&format!("{field}[{i}]"), &field, &format!("{v} is not a finite number")));
                    }
                } else if let Err(allowed) = known_quantity(self.kind, &optimizers, name) {
                    return Err(bad(
                        &format!("{field}[{i}]"),
                        &field,
                        &format!("unknown quantity `{name}` in {item:?} (allowed: a number, or {allowed})"),
                    ));
                }
            }
        }
        self.validate_track(origin, &optimizers)?;
        if let Some(t) = &self.test
            && t.scale != "full"
            && t.scale != "reduced"
        {
            return Err(bad("test.scale", "test.scale", "\"full\" or \"reduced\""));
        }
        Ok(())
    }

    /// Builds every setting the file can run, at both scales (`[setting]`, with `[test.setting]`,
    /// with `[paper_setting]`), so a bad `[test.setting]` is refused when the file is loaded, not
    /// only under `--scale test`. [`Theorem::from_file`] calls it; a path claim's settings are its
    /// grid's cells.
    pub fn validate_settings(&self, origin: &str) -> Result<()> {
        if self.kind != ClaimKind::Path {
            for scale in [Scale::Full, Scale::Test] {
                self.setting(scale, origin)?;
                self.paper_setting(scale, origin).transpose()?;
            }
        }
        Ok(())
    }

    /// `[track] quantities` of a training claim: per-checkpoint fields of its runs
    /// (`<run>.<field>`, the series the report tabulates); other kinds but path claims have no
    /// series. A path claim's are checked by [`Self::validate_path`].
    fn validate_track(&self, origin: &str, runs: &[String]) -> Result<()> {
        let fields = quantity::names(quantity::Form::Checkpoint);
        for (k, q) in self.track.quantities.iter().enumerate() {
            let field = format!("track.quantities[{k}]");
            let bad = |message: String| Error::Config {
                origin: self.at(origin, &field),
                message: format!("field `{field}`: {message}"),
            };
            match self.kind {
                ClaimKind::Path => {}
                ClaimKind::Training => {
                    let ok = q.split_once('.').is_some_and(|(r, f)| runs.iter().any(|x| x == r) && fields.contains(&f));
                    if !ok {
                        return Err(bad(format!(
                            "unknown tracked quantity `{q}` (allowed: <run>.{{{}}} with <run> one of {{{}}})",
                            fields.join(","),
                            runs.join(",")
                        )));
                    }
                }
                kind => {
                    return Err(bad(format!(
                        "`{q}`: a {} claim has no per-checkpoint series to track; remove [track] quantities",
                        kind.name()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Reads and parses several theorem files, refusing two claims with the same `id` (their
    /// reports and figures would collide); errors name both files.
    pub fn load_files(paths: &[std::path::PathBuf]) -> Result<Vec<(std::path::PathBuf, Self)>> {
        let mut out: Vec<(std::path::PathBuf, Self)> = Vec::new();
        for p in paths {
            let t = Self::from_file(p)?;
            if let Some((q, _)) = out.iter().find(|(_, u)| u.id == t.id) {
                return Err(Error::Config {
                    origin: t.at(&p.display().to_string(), "id"),
                    message: format!(
                        "field `id`: {:?} is also the id of {}; every claim needs its own id",
                        t.id,
                        q.display()
                    ),
                });
            }
            out.push((p.clone(), t));
        }
        Ok(out)
    }

    /// The rules of a path claim: `[path]` present (and only then), the grid gives the settings and
    /// seeds (no `[setting]`, `seeds`, `[paper_setting]`, `[test.setting]`, `[measure]`,
    /// `[[headline]]`, `[track] steps`), `[track] quantities` are per-cell quantities.
    fn validate_path(&self, origin: &str) -> Result<()> {
        let bad = |at: &str, field: &str, message: String| Error::Config {
            origin: self.at(origin, at),
            message: format!("field `{field}`: {message}"),
        };
        let is_path = self.kind == ClaimKind::Path;
        if !is_path {
            if self.path.is_some() {
                return Err(bad("path", "path", "only for kind = \"path\"".into()));
            }
            if self.test.as_ref().is_some_and(|t| !t.grid.is_empty()) {
                return Err(bad("test.grid", "test.grid", "only for kind = \"path\"".into()));
            }
            return Ok(());
        }
        if self.path.is_none() {
            return Err(bad(
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
            return Err(bad(field, field, from_grid.into()));
        }
        if self.checks.is_empty() {
            return Err(bad("kind", "check", "a path claim needs at least one [[check]]".into()));
        }
        for (k, q) in self.track.quantities.iter().enumerate() {
            if !quantity::known_cell_quantity(q) {
                let field = format!("track.quantities[{k}]");
                return Err(bad(
                    &field,
                    &field,
                    format!("unknown cell quantity `{q}` (allowed: {})", quantity::cell_quantity_forms()),
                ));
            }
        }
        Ok(())
    }
}

/// `Ok` when `name` is a quantity a claim of `kind` with these run names can measure; otherwise the
/// allowed forms, for the load error ([`quantity`]).
pub fn known_quantity(kind: ClaimKind, runs: &[String], name: &str) -> std::result::Result<(), String> {
    match kind {
        ClaimKind::Training => quantity::known_training(runs, name),
        ClaimKind::ConvexCertificate => quantity::known_certificate(name),
        ClaimKind::Precision => quantity::known_precision(runs, name),
        ClaimKind::Path => quantity::known_path(name),
    }
}

/// The setting tables of a theorem file, each read alone as a config file (every other key is
/// [`Theorem`]'s to check).
#[derive(Deserialize)]
struct SettingTables {
    #[serde(default)]
    #[allow(dead_code)]
    setting: Option<Setting>,
    #[serde(default)]
    #[allow(dead_code)]
    paper_setting: Option<Setting>,
    #[serde(default)]
    #[allow(dead_code)]
    test: Option<TestSetting>,
}

#[derive(Deserialize)]
struct TestSetting {
    #[serde(default)]
    #[allow(dead_code)]
    setting: Option<Setting>,
}
