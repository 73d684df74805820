//! Loading theorem files: every rule serde cannot check, at its boundary, with the error naming the
//! file, the exact line (from `toml`'s spans) and the field; the quantity names each claim kind
//! accepts; seeds, settings and labels; the rules of a path claim.

mod common;

use adamgap::claims::theorem::Op;
use adamgap::claims::{Checker, Scale, Theorem, Verdict};
use adamgap::setting::Setting;
use common::claims::{CONVEX, SYNTHETIC, line_with, load_error, loads, synthetic_with};
use common::scratch;

/// Every rule of a theorem file that serde cannot check, at its boundary: the error names the
/// file, the field and (where it can be found) the line.
#[test]
fn theorem_file_rules_at_their_boundaries() {
    let holds = "expected = \"holds\"";
    let err = |from: &str, to: &str| load_error(&synthetic_with(from, to));
    let ok = |from: &str, to: &str| loads(&synthetic_with(from, to));
    // Expected failures name their failing checks, and only they do.
    assert!(err(holds, "expected = \"fails\"").contains("field `expect_fail`"));
    assert!(err(holds, "expected = \"holds\"\nexpect_fail = [\"gd converges\"]").contains("field `expect_fail`"));
    ok(holds, "expected = \"fails\"\nexpect_fail = [\"gd converges\"]");
    let e = err(holds, "expected = \"fails\"\nexpect_fail = [\"gd divergs\"]");
    assert!(
        e.contains("t.toml line 8") && e.contains("no [[check]] or [[over_seeds]] has what = \"gd divergs\""),
        "{e}"
    );
    // Seeds of a training claim: at least 10, and 3 at the test scale.
    let e = err(holds, "expected = \"holds\"\nseeds = 9");
    assert!(e.contains("t.toml line 8") && e.contains("field `seeds`") && e.contains(">= 10 seeds"), "{e}");
    assert_eq!(ok(holds, "expected = \"holds\"\nseeds = 10").seeds, Some(10));
    let e = err("scale = \"reduced\"", "scale = \"reduced\"\nseeds = 2");
    assert!(e.contains("t.toml line 12") && e.contains("field `test.seeds`") && e.contains(">= 3 seeds"), "{e}");
    ok("scale = \"reduced\"", "scale = \"reduced\"\nseeds = 3");
    // Every check has one right-hand side.
    assert!(err("value = 0.5\n", "").contains("field `check[0].value`"));
    assert!(err("value = 0.5\n", "value = 0.5\nof = \"adam.loss\"\n").contains("field `check[0].of`"));
    // `within` with `within-factor` only, finite and above 1.
    let within = |w: &str| synthetic_with("op = \">=\"", &format!("op = \"within-factor\"\nwithin = {w}"));
    loads(&within("1.5"));
    for w in ["1.0", "inf", "nan", "0.5"] {
        assert!(load_error(&within(w)).contains("field `check[1].within`"), "within = {w}");
    }
    assert!(err("op = \">=\"", "op = \"within-factor\"").contains("field `check[1].within`"));
    assert!(err("op = \">=\"", "op = \">=\"\nwithin = 2.0").contains("only used with"));
    // An inconclusive check gives its reason.
    assert!(err("op = \">=\"", "op = \">=\"\nif_false = \"inconclusive\"").contains("field `check[1].reason`"));
    ok("op = \">=\"", "op = \">=\"\nif_false = \"inconclusive\"\nreason = \"slow\"");
    ok("op = \">=\"", "op = \">=\"\nif_false = \"fails\"");
    // The paper's threshold relaxes a constant one only.
    assert!(err("of = \"gd.loss\"", "of = \"gd.loss\"\npaper_value = 1.0").contains("field `check[1].paper_value`"));
    // Unknown quantities, on either side, with the line.
    let e = err("quantity = \"gd.loss\"", "quantity = \"gd.los\"");
    assert!(e.contains("t.toml line 17") && e.contains("field `check[0].quantity`") && e.contains("allowed:"), "{e}");
    let e = err("of = \"gd.loss\"", "of = \"gd.los\"");
    assert!(e.contains("field `check[1].of`") && e.contains("unknown quantity `gd.los`"), "{e}");
    // The run names are the setting's optimizers.
    let sign = "train = { steps = 1000 }\noptimizers = [{ kind = \"sign-gd\", eta = 0.001, decay = \"constant\" }]";
    let e = load_error(&synthetic_with("train = { steps = 1000 }", sign));
    assert!(e.contains("unknown quantity `gd.loss`") && e.contains("<run> one of {sign-gd}"), "{e}");
    // Headline lines name checks of the file.
    let headline = |checks: &str| format!("{SYNTHETIC}[[headline]]\nline = 1\nstatement = \"s\"\nchecks = {checks}\n");
    loads(&headline("[\"gd converges\"]"));
    assert!(load_error(&headline("[]")).contains("field `headline[0].checks`: list at least one"));
    assert!(load_error(&headline("[\"gd diverges\"]")).contains("no [[check]] has what = \"gd diverges\""));
    // Orderings of at least two items; a known test scale; an id.
    let two = ok("\"0.45\", \"gd = gd.loss\"", "\"gd = gd.loss\"");
    assert_eq!(two.orderings[0].items.len(), 2);
    assert!(err("\"0.45\", \"gd = gd.loss\"", "").contains("field `ordering[0].items`"));
    assert!(err("scale = \"reduced\"", "scale = \"tiny\"").contains("field `test.scale`"));
    assert_eq!(ok("scale = \"reduced\"", "scale = \"full\"").scale_label(Scale::Test), "full");
    assert!(err("id = \"synthetic\"", "id = \" \"").contains("field `id`"));
    assert!(err("[[check]]\nwhat = \"gd converges\"", "[[nocheck]]\nwhat = \"gd converges\"").contains("t.toml"));
}

#[test]
fn non_training_claims_need_one_seed_and_no_check() {
    let t = loads(CONVEX);
    assert_eq!((t.seed_list(Scale::Full), t.seed_list(Scale::Test)), (vec![1], vec![1]));
    assert!(t.checks.is_empty());
    assert!(load_error(&CONVEX.replacen("seeds = 1", "seeds = 0", 1)).contains("field `seeds`: >= 1"));
    let test_zero = CONVEX.replacen("scale = \"full\"\nseeds = 1", "scale = \"full\"\nseeds = 0", 1);
    assert!(load_error(&test_zero).contains("t.toml line 11: field `test.seeds`: >= 1"), "{}", load_error(&test_zero));
    // A training claim needs a check.
    let training = CONVEX.replacen("convex-certificate", "training", 1).replace("seeds = 1", "seeds = 10");
    let training = training.replacen("scale = \"full\"\nseeds = 10", "scale = \"full\"\nseeds = 3", 1);
    assert!(load_error(&training).contains("field `check`: a training claim needs at least one"));
    // Certificate quantities only.
    let check = "[[check]]\nwhat = \"w\"\nquantity = \"certificate.max_radius\"\nop = \"<=\"\nvalue = 1e-6\n";
    loads(&format!("{CONVEX}{check}"));
    assert!(load_error(&format!("{CONVEX}{}", check.replace("max_radius", "radius"))).contains("unknown quantity"));
}

#[test]
fn seeds_settings_and_labels_of_a_theorem_file() {
    let t = loads(SYNTHETIC);
    let base = Setting::default().seed;
    assert_eq!(t.seed_list(Scale::Full), (base..base + 10).collect::<Vec<_>>());
    assert_eq!(t.seed_list(Scale::Test), (base..base + 3).collect::<Vec<_>>());
    assert_eq!((t.scale_label(Scale::Test), t.scale_label(Scale::Full)), ("reduced", "full"));
    assert_eq!(t.checks[1].factor, 1.0, "the default factor");
    let text = synthetic_with("[setting]\n", "seeds = 12\n[setting]\nseed = 5\ndata = { d = 300, n = 40 }\n").replacen(
        "note = \"hand-made measurements\"",
        "seeds = 4\nsetting = { data = { d = 200 } }",
        1,
    ) + "[paper_setting]\nmodel = { lambda = 0.01 }\n";
    let t = loads(&text);
    assert_eq!((t.seed_list(Scale::Full), t.seed_list(Scale::Test)), ((5..17).collect(), (5..9).collect()));
    // [test.setting] merges into [setting] (keeping `n`) at the test scale only; [paper_setting]
    // goes on top of both.
    let dims = |s: Setting| (s.data.d, s.data.n, s.model.lambda);
    let lambda = Setting::default().model.lambda;
    assert_eq!(dims(t.setting(Scale::Test, "t.toml").unwrap()), (200, 40, lambda));
    assert_eq!(dims(t.setting(Scale::Full, "t.toml").unwrap()), (300, 40, lambda));
    assert_eq!(dims(t.paper_setting(Scale::Test, "t.toml").unwrap().unwrap()), (200, 40, 0.01));
    assert_eq!(dims(t.paper_setting(Scale::Full, "t.toml").unwrap().unwrap()), (300, 40, 0.01));
    assert!(loads(SYNTHETIC).paper_setting(Scale::Full, "t.toml").is_none());
    // A setting error names the tables it came from, and the line of the topmost one that gives
    // the field.
    let bad = |text: &str, scale: Scale, paper: bool| {
        let t = loads(text);
        let r = if paper { t.paper_setting(scale, "t.toml").unwrap() } else { t.setting(scale, "t.toml") };
        r.expect_err("an invalid setting").to_string()
    };
    let bad_test = text.replacen("d = 200", "d = 0", 1);
    let at = |text: &str, needle: &str| format!("t.toml line {}: ", line_with(text, needle));
    let e = bad(&bad_test, Scale::Test, false);
    assert!(e.contains(&format!("{}[setting] with [test.setting]:", at(&bad_test, "d = 0"))), "{e}");
    let e = bad(&bad_test, Scale::Test, true);
    assert!(
        e.contains(&format!("{}[setting] with [test.setting] and [paper_setting]:", at(&bad_test, "d = 0"))),
        "{e}"
    );
    let bad_full = text.replacen("d = 300", "d = 0", 1).replacen("d = 200", "d = 0", 1);
    let e = bad(&bad_full, Scale::Full, false);
    assert!(e.contains(&format!("{}[setting]: ", at(&bad_full, "d = 0, n = 40"))), "{e}");
    let e = bad(&bad_full, Scale::Full, true);
    assert!(e.contains(&format!("{}[setting] with [paper_setting]:", at(&bad_full, "d = 0, n = 40"))), "{e}");
    // Lines of the file: a field's own line, the file alone for a field it does not give.
    assert_eq!(t.at("t.toml", "paper_setting"), format!("t.toml line {}", line_with(&text, "[paper_setting]")));
    assert_eq!(t.at("t.toml", "test.setting.data.d"), format!("t.toml line {}", line_with(&text, "d = 200")));
    assert_eq!(t.at("t.toml", "no_such_field"), "t.toml");
    assert_eq!(loads(SYNTHETIC).at("t.toml", "id"), "t.toml line 2");
}

#[test]
fn certified_quantities_make_the_checker_certify() {
    use adamgap::claims::quantity::is_certified;
    assert!(is_certified("certified.gd.test_error") && !is_certified("gd.test_error"));
    assert!(!loads(SYNTHETIC).uses_certified());
    let on = |from: &str, to: &str| loads(&synthetic_with(from, to)).uses_certified();
    assert!(on("quantity = \"gd.loss\"", "quantity = \"certified.gd.test_error_upper\""));
    assert!(on("of = \"gd.loss\"", "of = \"certified.gd.test_error_upper\""));
}

#[test]
fn names_labels_and_expected_verdicts() {
    use adamgap::claims::{ClaimKind, Expected};
    assert_eq!(
        [ClaimKind::Training, ClaimKind::ConvexCertificate, ClaimKind::Precision].map(ClaimKind::name),
        ["training", "convex-certificate", "precision"]
    );
    let expected = [Expected::Holds, Expected::Fails, Expected::Inconclusive];
    assert_eq!(expected.map(Expected::label), ["holds", "fails", "inconclusive"]);
    let verdicts = [Verdict::Holds, Verdict::Fails, Verdict::Inconclusive("why".into())];
    for (i, e) in expected.iter().enumerate() {
        for (j, v) in verdicts.iter().enumerate() {
            assert_eq!(e.matches(v), i == j, "{e:?} {v:?}");
        }
    }
    assert_eq!(
        [Op::Le, Op::Lt, Op::Ge, Op::Gt, Op::Eq, Op::WithinFactor].map(Op::symbol),
        ["<=", "<", ">=", ">", "==", "within-factor"]
    );
}

#[test]
fn the_theorem_files_of_a_folder() {
    let (_tmp, dir) = scratch("files");
    for f in ["b.toml", "a.toml", "c.txt", "d.toml.bak"] {
        std::fs::write(dir.join(f), "").expect("write");
    }
    let files = adamgap::claims::theorem::files_in(&dir).expect("listed");
    assert_eq!(files, [dir.join("a.toml"), dir.join("b.toml")]);
    assert!(adamgap::claims::theorem::files_in(&dir.join("nowhere")).is_err());
}

/// The quantity names each claim kind accepts, and the allowed forms it lists otherwise.
#[test]
fn known_quantities_by_claim_kind() {
    use adamgap::claims::ClaimKind::{ConvexCertificate, Precision, Training};
    use adamgap::claims::validate::known_quantity;
    let runs = ["gd".to_string(), "sign-gd".to_string()];
    let ok = |kind, name: &str| known_quantity(kind, &runs, name).is_ok();
    for name in [
        "gd.test_error",
        "sign-gd.steps",
        "gd.feature_reach_step",
        "init.loss",
        "predicted.noise_l1",
        "predicted.noise_init_scale",
        "data.noise_l1_mean",
        "data.overlapping_pairs",
        "distance.gd.sign-gd",
        "convex_radius.sign-gd.gd",
        "certified.gd.test_error_upper",
        "certified.init.objective_lower",
    ] {
        assert!(ok(Training, name), "{name}");
    }
    for name in [
        "adam.test_error",
        "gd.radius",
        "gd.tets_error",
        "init.steps",
        "predicted.noise",
        "data.loss",
        "distance.gd.adam",
        "distance.adam.gd",
        "convex_radius.gd",
        "certified.adam.test_error_upper",
        "certified.gd.test_error",
        "certified.distance_lower.gd.sign-gd",
        "certificate.max_radius",
        "precision.verdicts_agree",
        "gd",
        "a.b.c.d.e",
    ] {
        assert!(!ok(Training, name), "{name}");
    }
    let gd_adam = ["gd".to_string(), "adam".to_string()];
    assert!(known_quantity(Training, &gd_adam, "certified.distance_lower.gd.adam").is_ok());
    assert!(known_quantity(Training, &gd_adam, "certified.distance_lower.adam.gd").is_err());
    assert!(known_quantity(Training, &["gd".to_string()], "certified.distance_lower.gd.adam").is_err());
    assert!(known_quantity(Training, &["adam".to_string()], "certified.distance_lower.gd.adam").is_err());
    for name in ["certificate.max_radius", "certificate.adamw_distance_lower", "certificate.gd.radius"] {
        assert!(ok(ConvexCertificate, name), "{name}");
    }
    for name in ["certificate..radius", "certificate.radius", "gd.test_error", "certificate"] {
        assert!(!ok(ConvexCertificate, name), "{name}");
    }
    for name in ["precision.verdicts_agree", "precision.gd.final_distance", "precision.sign-gd.verdicts_agree"] {
        assert!(ok(Precision, name), "{name}");
    }
    for name in ["precision.final_distance", "precision.adam.final_distance", "precision.gd.loss", "gd.loss"] {
        assert!(!ok(Precision, name), "{name}");
    }
    let allowed = |kind, name: &str| known_quantity(kind, &runs, name).expect_err("unknown");
    let t = allowed(Training, "x.y");
    assert!(
        t.contains("<run>.{train_error,test_error,")
            && t.contains("noise_growth_at_reach}")
            && t.contains("{gd,sign-gd}")
    );
    assert!(!t.contains("radius}"), "a training run has no radius: {t}");
    assert!(allowed(ConvexCertificate, "x").starts_with("certificate.{max_radius,"));
    assert!(allowed(Precision, "x").contains("with <run> one of {gd,sign-gd}"));
}

#[test]
fn training_quantities_are_those_that_change_with_training() {
    use adamgap::claims::quantity::is_training_quantity;
    for name in ["gd.loss", "distance.gd.adam", "convex_radius.gd.adam", "certified.gd.test_error_upper"] {
        assert!(is_training_quantity(name), "{name}");
    }
    for name in ["predicted.noise_l1", "data.noise_l1_mean", "init.loss", "certificate.max_radius"] {
        assert!(!is_training_quantity(name), "{name}");
    }
}

/// The load-time rules of a path claim: `[path]` only with `kind = "path"` and required there,
/// no `[setting]` (the grid gives it), quantities named by their place on the path.
#[test]
fn path_claim_files_are_checked_at_load() {
    let text = std::fs::read_to_string("theorems/12-gap-opens-with-d.toml").expect("theorem file");
    let err = |t: &str| Theorem::from_toml_str(t, "12.toml").expect_err("rejected").to_string();
    assert!(Theorem::from_toml_str(&text, "12.toml").is_ok());
    let e = err(&text.replace("quantity = \"last.gd.test_error\"", "quantity = \"gd.test_error\""));
    assert!(e.contains("unknown quantity `gd.test_error`") && e.contains("{first,last,min,max}"), "{e}");
    let e = err(&text.replace("quantity = \"last.gd.test_error\"", "quantity = \"last.gd.growth_ratio\""));
    assert!(e.contains("last.gd.growth_ratio"), "{e}");
    let e = err(&text.replace("[path]\n", "[setting]\nseed = 1\n\n[path]\n"));
    assert!(e.contains("field `setting`") && e.contains("not used by a path claim"), "{e}");
    let e = err(&text.replace("kind = \"path\"", "kind = \"training\""));
    assert!(e.contains("field `path`: only for kind = \"path\""), "{e}");
    let e = err(&text.replace("\"adam.growth_ratio\",", "\"adam.growth_rate\","));
    assert!(e.contains("track.quantities") && e.contains("adam.growth_rate"), "{e}");
    // Without a path source the checker says how to get one.
    let t = Theorem::from_toml_str(&text, "12.toml").expect("valid");
    let e = Checker::new().preflight(&t, "12.toml", Scale::Test).expect_err("no source").to_string();
    assert!(e.contains("with_paths"), "{e}");
}

/// Load errors point at the exact line of the field, from `toml`'s spans, also where the text
/// search that gave the lines before pointed elsewhere: the same key in two tables (`seeds` at the
/// top and in `[test]`), a quantity named first in `[track]`, a setting's field in
/// `[test.setting]`, and an unknown key in a setting table (a parse error, with its column).
#[test]
fn load_errors_point_at_the_exact_line() {
    let both = synthetic_with("[setting]\n", "seeds = 12\n[setting]\n").replacen(
        "scale = \"reduced\"",
        "scale = \"reduced\"\nseeds = 2",
        1,
    );
    let e = load_error(&both);
    assert!(e.contains(&format!("t.toml line {}: field `test.seeds`", line_with(&both, "seeds = 2"))), "{e}");
    assert_ne!(line_with(&both, "seeds"), line_with(&both, "seeds = 2"), "the text search found the other seeds");

    let tracked = synthetic_with("quantities = [\"gd.loss\"]", "quantities = [\"gd.los\"]").replacen(
        "quantity = \"gd.loss\"",
        "quantity = \"gd.los\"",
        1,
    );
    let e = load_error(&tracked);
    let line = line_with(&tracked, "quantity = \"gd.los\"");
    assert!(e.contains(&format!("t.toml line {line}: field `check[0].quantity`")), "{e}");
    assert_ne!(line_with(&tracked, "\"gd.los\""), line, "the text search found the track");

    let zero = synthetic_with("note = \"hand-made measurements\"", "setting = { data = { d = 0 } }");
    let e = loads(&zero).setting(Scale::Test, "t.toml").expect_err("d = 0").to_string();
    assert!(e.contains(&format!("t.toml line {}: [setting] with [test.setting]", line_with(&zero, "d = 0"))), "{e}");
    assert!(e.contains("data.d"), "{e}");

    let unknown = synthetic_with("train = { steps = 1000 }", "train = { steps = 1000, stepz = 3 }");
    let e = load_error(&unknown);
    let line = line_with(&unknown, "stepz");
    let column = unknown.lines().nth(line - 1).unwrap().find("stepz").unwrap() + 1;
    assert!(e.contains(&format!("t.toml line {line}, column {column}: unknown field `stepz`")), "{e}");
}
