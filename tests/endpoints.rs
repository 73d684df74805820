//! Certified endpoints (`adamgap run --certify`): the enclosures contain the binary64 values and
//! are tight, a margin near 0 is reported as undecided rather than guessed, the independent checker
//! accepts the export and rejects wrong claims, and a 0-step run certifies as the initialization.
//! Small settings; the default scale belongs to the binary and its report.

mod common;

use std::path::PathBuf;

use adamgap::data::{PatchData, SparseRows};
use adamgap::endpoints::{self, EndpointOptions, Sign};
use adamgap::model::{Activation, Cnn, Weights};
use adamgap::setting::Setting;
use adamgap::train::{Experiment, Run};
use common::{adamgap, scratch_path as temp_dir};

fn small_setting(steps: usize) -> Setting {
    let mut s = common::small(200, 30, 20, 300, 4);
    s.train.steps = steps;
    s
}

fn refs(runs: &[Run]) -> Vec<&Run> {
    runs.iter().collect()
}

fn small_runs(steps: usize) -> (Experiment, Vec<Run>) {
    let exp = Experiment::new(&small_setting(steps)).expect("valid setting");
    let runs = exp.run_all(&|_, _| {});
    (exp, runs)
}

fn rel_width(lo: f64, hi: f64) -> f64 {
    (hi - lo) / lo.abs().max(hi.abs())
}

#[test]
fn enclosures_contain_the_f64_values_and_are_tight() {
    let (exp, runs) = small_runs(300);
    let report = endpoints::certify_experiment(&exp, &refs(&runs), &EndpointOptions::default());
    for r in &runs {
        let c = report.point(&r.name).expect("certified");
        let last = &r.last;
        let (g, o) = (c.grad_norm, c.objective.expect("bounded"));
        assert!(g.lo <= g.hi && o.lo <= o.hi);
        assert!(rel_width(g.lo, g.hi) <= 1e-10, "{}: grad norm {g:?}", r.name);
        assert!(rel_width(o.lo, o.hi) <= 1e-10, "{}: objective {o:?}", r.name);
        // The binary64 values of the run lie in the enclosures up to their own rounding error
        // (a few ulps of sums of a few thousand terms).
        let near = |x: f64, lo: f64, hi: f64| lo - 1e-12 * x.abs() <= x && x <= hi + 1e-12 * x.abs();
        assert!(near(last.grad_norm_l2, g.lo, g.hi), "{}: {} not in {g:?}", r.name, last.grad_norm_l2);
        assert!(near(last.objective, o.lo, o.hi), "{}: {} not in {o:?}", r.name, last.objective);
        // Error counts: every sign certified, and equal to the binary64 counts here.
        assert_eq!(c.train.exact_rate(), Some(last.train_error), "{}", r.name);
        assert_eq!(c.test.exact_rate(), Some(last.test_error), "{}", r.name);
        let co = &c.coefficients;
        assert_eq!(co.feature_max_per_class, last.coefficients.feature_max_per_class);
        let rho = co.noise_min_max.as_ref().expect("samples").to_f64_approx();
        assert!((rho - last.coefficients.noise_min_max).abs() <= 1e-12 * rho.abs());
    }
    let d = report.distance.as_ref().expect("gd and adam").2;
    let f = runs[0].weights.distance(&runs[1].weights);
    assert!(d.lo <= d.hi && rel_width(d.lo, d.hi) <= 1e-15, "{d:?}");
    assert!((f - d.lo).abs() <= 1e-13 * f, "{f} vs {d:?}");
}

/// Three one-patch samples in `d = 3`, `m = 1`, `q = 3`: `f = max(0, <w_+, x>)^3 - max(0, <w_-, x>)^3`.
/// Sample 0 has margin `1 - 1/8 > 0`; sample 1 margin exactly 0; sample 2, with `w_-` perturbed by
/// one ulp, margin `1 - (1 + 2^-52)^3 < 0`, far below the binary64 enclosure's width.
fn near_zero_case() -> (Cnn, PatchData, Weights) {
    let mut x = SparseRows { ptr: vec![0], idx: Vec::new(), val: Vec::new() };
    for k in 0..3u32 {
        x.push_row(vec![(k, 1.0)]);
    }
    let noise = x.clone();
    let data = PatchData {
        d: 3,
        patches: 1,
        y: vec![1.0; 3],
        clean_y: vec![1.0; 3],
        xt: x.transpose(3),
        x,
        noise,
        signal_patch: vec![0; 3],
    };
    let model = Cnn { d: 3, m: 1, activation: Activation::PolyRelu(3), scale: 1.0, lambda: 1e-3 };
    let mut w = Weights::zeros(3, 1);
    for (k, (plus, minus)) in [(1.0, 0.5), (1.0, 1.0), (1.0, 1.0f64.next_up())].into_iter().enumerate() {
        w.row_mut(k).copy_from_slice(&[plus, minus]);
    }
    (model, data, w)
}

#[test]
fn a_margin_near_zero_is_undecided_not_counted() {
    let (model, data, w) = near_zero_case();
    // Without the exact fallback the binary64 enclosures decide only sample 0.
    let none = EndpointOptions { fallback_limit: 0 };
    let c = endpoints::certify_point(&model, &data, &data, &w, &none).expect("finite");
    assert_eq!(c.train_signs, vec![Sign::Positive, Sign::Undecided, Sign::Undecided]);
    assert_eq!((c.train.errors, c.train.undecided, c.train.resolved_exactly), (0, 2, 0));
    assert_eq!(c.train.exact_rate(), None);
    assert_eq!(c.train.rate_bounds(), [0.0, 2.0 / 3.0]);
    // The exact margins decide both: 0 and a negative number are errors (y f <= 0).
    let c = endpoints::certify_point(&model, &data, &data, &w, &EndpointOptions::default()).expect("finite");
    assert_eq!(c.train_signs, vec![Sign::Positive, Sign::NonPositive, Sign::NonPositive]);
    assert_eq!((c.train.errors, c.train.undecided, c.train.resolved_exactly), (2, 0, 2));
    assert_eq!(c.test.exact_rate(), Some(2.0 / 3.0));
    // Without the perturbation sample 2 has margin exactly 0 too; with the opposite one it is > 0.
    let mut w2 = w.clone();
    w2.row_mut(2)[1] = 1.0f64.next_down();
    let c = endpoints::certify_point(&model, &data, &data, &w2, &EndpointOptions::default()).expect("finite");
    assert_eq!(c.train_signs[2], Sign::Positive);
}

/// One sample whose pre-activation `1e16 + 1 - 1e16 = 1` is computed as 0 in binary64: the margin
/// is 1, and only the dot product's error bound keeps the enclosure from certifying `<= 0`.
#[test]
fn cancellation_inside_a_dot_product_is_enclosed() {
    let mut x = SparseRows { ptr: vec![0], idx: Vec::new(), val: Vec::new() };
    x.push_row(vec![(0, 1.0), (1, 1.0), (2, -1.0)]);
    let data = PatchData {
        d: 3,
        patches: 1,
        y: vec![1.0],
        clean_y: vec![1.0],
        xt: x.transpose(3),
        noise: x.clone(),
        x,
        signal_patch: vec![0],
    };
    let model = Cnn { d: 3, m: 1, activation: Activation::PolyRelu(3), scale: 1.0, lambda: 0.0 };
    let mut w = Weights::zeros(3, 1);
    for (k, v) in [1e16, 1.0, 1e16].into_iter().enumerate() {
        w.row_mut(k)[0] = v;
    }
    assert_eq!(1e16 + 1.0 - 1e16, 0.0, "the binary64 dot product loses the 1");
    let c = endpoints::certify_point(&model, &data, &data, &w, &EndpointOptions::default()).expect("finite");
    assert_eq!(c.train_signs, vec![Sign::Positive]);
    assert_eq!(c.train.resolved_exactly, 1, "the enclosure must leave this sign open");
    let o = c.objective.expect("bounded");
    let l1 = (1.0 + (-1.0f64).exp()).ln();
    assert!(o.lo <= l1 && l1 <= o.hi, "{o:?} must contain log(1 + 1/e)");
}

fn run_checker(dir: &PathBuf) -> (Option<i32>, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/check_endpoints.py");
    let out =
        std::process::Command::new("python3").arg(script).arg(dir).output().unwrap_or_else(|e| {
            panic!("python3 is needed to run tools/check_endpoints.py (the independent checker): {e}")
        });
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

#[test]
fn the_independent_checker_accepts_the_export_and_rejects_wrong_claims() {
    let (exp, runs) = small_runs(100);
    let report = endpoints::certify_experiment(&exp, &refs(&runs), &EndpointOptions::default());
    let (_tmp, dir) = temp_dir("export");
    endpoints::export::export(&exp, &refs(&runs), &report, &dir).expect("export");
    let (code, text) = run_checker(&dir);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("VERIFIED"), "{text}");
    let path = dir.join(endpoints::export::CERTIFICATE);
    let original: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let write = |v: &serde_json::Value| std::fs::write(&path, serde_json::to_string(v).unwrap()).unwrap();

    // A gradient bound ten times too small.
    let mut bad = original.clone();
    let g = bad["points"]["gd"]["grad_norm_upper"].as_f64().unwrap() / 10.0;
    bad["points"]["gd"]["grad_norm_upper_exact"] =
        serde_json::json!(num_rational::BigRational::from_float(g).unwrap().to_string());
    write(&bad);
    let (code, text) = run_checker(&dir);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("above the claimed bound"), "{text}");

    // One training margin's sign flipped.
    let mut bad = original.clone();
    let s = bad["points"]["adam"]["train_signs"][0].as_i64().unwrap();
    assert_ne!(s, 0);
    bad["points"]["adam"]["train_signs"][0] = serde_json::json!(-s);
    write(&bad);
    let (code, text) = run_checker(&dir);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("training margin 0"), "{text}");

    // A distance bound above the true distance.
    let mut bad = original.clone();
    let d = bad["distance"]["lower"].as_f64().unwrap() * 1.000001;
    bad["distance"]["lower_exact"] = serde_json::json!(num_rational::BigRational::from_float(d).unwrap().to_string());
    write(&bad);
    let (code, text) = run_checker(&dir);
    assert_eq!(code, Some(1), "{text}");
}

#[test]
fn a_zero_step_run_certifies_as_the_initialization() {
    let mut exp = Experiment::new(&small_setting(1)).expect("valid setting");
    exp.setting.train.steps = 0;
    let runs = exp.run_all(&|_, _| {});
    assert!(runs.iter().all(|r| r.steps == 0 && r.weights == exp.init));
    let report = endpoints::certify_experiment(&exp, &refs(&runs), &EndpointOptions::default());
    let init = report.point("init").expect("certified");
    for r in &runs {
        assert_eq!(report.point(&r.name), Some(init), "{}", r.name);
    }
    assert_eq!(report.distance_lower(), Some(0.0));
}

const SMALL: [&str; 14] =
    ["--d", "100", "--n", "12", "--s", "10", "--test-size", "50", "--m", "2", "--steps", "20", "--quiet", "--json"];

#[test]
fn run_certify_json_has_the_certify_section_and_bad_export_paths_are_refused() {
    let out = adamgap(&[&SMALL[..], &["--certify"]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let c = &v["certify"];
    for run in ["gd", "adam"] {
        let r = &c["runs"][run];
        assert!(r["train_error"].is_number() || r["train_undecided"].as_u64() > Some(0), "{r}");
        for key in ["test_error", "grad_norm", "objective", "train_error_bounds"] {
            let b = r[key].as_array().unwrap_or_else(|| panic!("{run}.{key} is [lower, upper]: {r}"));
            assert!(b.len() == 2 && b[0].as_f64() <= b[1].as_f64(), "{run}.{key}: {r}");
        }
    }
    assert!(c["init"]["grad_norm"].is_array());
    assert!(c["distance_lower"].as_f64().is_some_and(|d| d > 0.0));
    // Without --certify there is no such section.
    let plain: serde_json::Value = serde_json::from_slice(&adamgap(&SMALL).stdout).expect("JSON");
    assert!(plain.get("certify").is_none());

    // An export path that is a file: refused before training, exit 2, the file untouched.
    let (_tmp, file) = temp_dir("not-a-dir");
    std::fs::write(&file, "keep").unwrap();
    let out = adamgap(&[&SMALL[..], &["--certify-export", file.to_str().unwrap()]].concat());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--certify-export"));
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep");
}

#[test]
fn a_run_export_with_certify_carries_the_certificate_and_passes_the_checker() {
    let (_tmp, dir) = temp_dir("run-export-certify");
    let out = adamgap(&[&SMALL[..], &["--certify", "--export", dir.to_str().unwrap()]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let text = std::fs::read_to_string(dir.join("manifest.json")).expect("manifest");
    let manifest: serde_json::Value = serde_json::from_str(&text).expect("manifest JSON");
    // The manifest holds the same claimed bounds as the printed certificate (timing aside).
    for run in ["gd", "adam"] {
        assert_eq!(manifest["certify"]["runs"][run]["grad_norm"], printed["certify"]["runs"][run]["grad_norm"]);
    }
    assert_eq!(manifest["certify"]["distance_lower"], printed["certify"]["distance_lower"]);
    let (code, log) = run_checker(&dir);
    assert_eq!(code, Some(0), "{log}");
    // The export still imports (the certificate's files are the export's own).
    let again = adamgap(&[&SMALL[..], &["--import", dir.to_str().unwrap()]].concat());
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
}

/// A certificate about the weights of a diverged run says so in every output: the text (a note),
/// `--json`'s `certify.diverged`, and `certificate.json`'s `run_diverged` of that point.
#[test]
fn a_certificate_of_diverged_weights_says_so() {
    let (_tmp, dir) = temp_dir("diverged-export");
    let diverge = ["--gd-eta", "1e300", "--certify-export", dir.to_str().unwrap()];
    let out = adamgap(&[&SMALL[..], &diverge].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(v["certify"]["diverged"]["gd"].as_str().is_some_and(|w| w.contains("diverged")), "{}", v["certify"]);
    assert!(v["certify"]["diverged"].get("adam").is_none());
    let cert: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("certificate.json")).unwrap()).unwrap();
    assert!(cert["points"]["gd"]["run_diverged"].as_str().is_some_and(|w| w.contains("diverged")));
    assert!(cert["points"]["adam"]["run_diverged"].is_null());
    let text = adamgap(&[&SMALL[..SMALL.len() - 1], &["--gd-eta", "1e300", "--certify"]].concat());
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("note: gd's weights come from a run that diverged"), "{text}");
}
