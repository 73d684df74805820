//! The reduced gradient and Hessian of `docs/limit-points.md` against the model's gradient and a
//! dense Hessian by central differences of it, the blocked Cholesky factorization, and the Newton
//! polish, on tiny settings.

mod common;

use adamgap::limit::{
    Cholesky, PatchBasis, PolishError, PolishSettings, ReducedProblem, polish, quadratic_form, unflatten,
};
use adamgap::model::Weights;
use adamgap::setting::{OptimizerSetting, Setting};
use adamgap::train::Experiment;
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// d = 8, n = 4, m = 2, with weights and noise large enough that most filters are active.
fn tiny() -> Setting {
    let mut s = common::small(8, 4, 3, 50, 2);
    (s.data.sigma_p, s.data.alpha, s.model.sigma0, s.model.lambda) = (0.7, 0.4, 0.6, 0.03);
    s
}

/// Smallest `|<w_c, x_{i,p}>|` (where ReLU^3's third derivative jumps).
fn min_abs_preactivation(w: &Weights, e: &Experiment) -> f64 {
    let mut best = f64::INFINITY;
    for r in 0..e.train.x.rows() {
        let x = e.train.x.dense_row(r, e.train.d);
        for c in 0..2 * w.m() {
            let z: f64 = (0..e.train.d).map(|k| w.row(k)[c] * x[k]).sum();
            best = best.min(z.abs());
        }
    }
    best
}

/// The flat index of reduced coordinate `c k + t` mapped through `Q`: `Q_big` (`2md x 2mk`).
fn q_big(basis: &PatchBasis, m: usize) -> Array2<f64> {
    let (d, k, m2) = (basis.d(), basis.k(), 2 * m);
    let q = basis.q();
    let mut big = Array2::zeros((d * m2, m2 * k));
    for c in 0..m2 {
        for row in 0..d {
            for t in 0..k {
                big[[row * m2 + c, c * k + t]] = q[[row, t]];
            }
        }
    }
    big
}

/// The dense Hessian of `L` by central differences of the model's analytic gradient, symmetrized.
fn fd_hessian(e: &Experiment, w: &Weights, h: f64) -> Array2<f64> {
    let dim = w.as_slice().len();
    let mut hess = Array2::zeros((dim, dim));
    for t in 0..dim {
        let (mut plus, mut minus) = (w.clone(), w.clone());
        plus.as_mut_slice()[t] += h;
        minus.as_mut_slice()[t] -= h;
        let (gp, gm) = (e.model.full_gradient(&plus, &e.train), e.model.full_gradient(&minus, &e.train));
        for s in 0..dim {
            hess[[s, t]] = (gp.as_slice()[s] - gm.as_slice()[s]) / (2.0 * h);
        }
    }
    (&hess + &hess.t()) / 2.0
}

#[test]
fn the_basis_spans_the_training_patches_orthonormally() {
    let e = Experiment::new(&tiny()).expect("setting");
    let basis = PatchBasis::new(&e.train);
    // Two patches per sample, the signal patch a multiple of e_1: at most n + 1 directions.
    assert_eq!(basis.k(), e.train.len() + 1, "k");
    assert!(basis.k() < basis.d(), "a complement to test");
    assert!(basis.orthonormality_defect() < 1e-14, "Q^T Q - I: {:e}", basis.orthonormality_defect());
    assert!(basis.span_residual(&e.train) < 1e-14, "patches outside the span: {:e}", basis.span_residual(&e.train));
    // A test patch is (almost surely) outside the training span.
    assert!(basis.span_residual(&e.test) > 1e-3, "test patches in the training span");
}

#[test]
fn the_reduced_gradient_lifts_to_the_models_gradient() {
    let e = Experiment::new(&tiny()).expect("setting");
    let basis = PatchBasis::new(&e.train);
    let problem = ReducedProblem::new(e.model, &basis, &e.train);
    let w = &e.init;
    let eval = problem.eval(&basis.reduce(w));
    // grad_W L = Q grad_a L + lambda W^perp.
    let mut lifted = basis.lift(&unflatten(&eval.grad, basis.k()));
    let back = basis.lift(&basis.reduce(w));
    for ((g, &wi), &bi) in lifted.as_mut_slice().iter_mut().zip(w.as_slice()).zip(back.as_slice()) {
        *g += e.model.lambda * (wi - bi);
    }
    let model = e.model.full_gradient(w, &e.train);
    let scale = model.norm();
    assert!(scale > 1e-3, "a gradient to compare");
    assert!(lifted.distance(&model) < 1e-13 * scale, "lifted gradient off by {:e}", lifted.distance(&model));
    let loss = e.model.objective(w, &e.train, &mut e.model.workspace(e.train.patches))
        - 0.5 * e.model.lambda * w.norm().powi(2);
    assert!((eval.loss - loss).abs() < 1e-13 * loss.abs(), "loss {} vs {}", eval.loss, loss);
}

#[test]
fn the_reduced_hessian_matches_central_differences_of_the_gradient() {
    let e = Experiment::new(&tiny()).expect("setting");
    let w = &e.init;
    assert!(min_abs_preactivation(w, &e) > 1e-3, "a pre-activation near the kink");
    let basis = PatchBasis::new(&e.train);
    let problem = ReducedProblem::new(e.model, &basis, &e.train);
    let h_red = problem.hessian(&problem.eval(&basis.reduce(w)));
    let dim = w.as_slice().len();
    assert_eq!(h_red.nrows(), problem.dim());
    let qb = q_big(&basis, e.model.m);
    // Q_big H Q_big^T + lambda (I - Q_big Q_big^T).
    let mut model = qb.dot(&h_red).dot(&qb.t()) - e.model.lambda * qb.dot(&qb.t());
    for t in 0..dim {
        model[[t, t]] += e.model.lambda;
    }
    let fd = fd_hessian(&e, w, 1e-5);
    let scale = fd.iter().fold(0.0f64, |a, &b| a.max(b.abs()));
    let worst = (&fd - &model).iter().fold(0.0f64, |a, &b| a.max(b.abs()));
    assert!(scale > 1e-2, "a Hessian with data terms: max entry {scale:e}");
    assert!(worst < 1e-8 * scale, "dense vs reduced Hessian: {worst:e} (max entry {scale:e})");
    // The complement: H v = lambda v for v orthogonal to the span in every filter.
    let mut rng = ChaCha8Rng::seed_from_u64(20);
    for _ in 0..8 {
        let v: Vec<f64> = (0..dim).map(|_| rng.random_range(-1.0..1.0)).collect();
        let vv = ndarray::Array1::from(v.clone());
        let red = qb.t().dot(&vv);
        let perp = &vv - &qb.dot(&red);
        let form = quadratic_form(h_red.view(), red.as_slice().expect("contiguous")) + e.model.lambda * perp.dot(&perp);
        let dense = quadratic_form(fd.view(), &v);
        assert!((form - dense).abs() < 1e-8 * scale * vv.dot(&vv), "v^T H v: {form} vs {dense}");
    }
}

/// A random symmetric matrix `Q diag(eig) Q^T`.
fn with_eigenvalues(eig: &[f64], seed: u64) -> Array2<f64> {
    let n = eig.len();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut q = Array2::<f64>::zeros((n, n));
    for j in 0..n {
        let mut v: ndarray::Array1<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
        for _ in 0..2 {
            for i in 0..j {
                let t = q.column(i).dot(&v);
                v.scaled_add(-t, &q.column(i));
            }
        }
        let norm = v.dot(&v).sqrt();
        q.column_mut(j).assign(&(v / norm));
    }
    let d = Array2::from_diag(&ndarray::Array1::from(eig.to_vec()));
    q.dot(&d).dot(&q.t())
}

#[test]
fn cholesky_reproduces_the_matrix_and_fails_where_it_is_not_positive_definite() {
    // 300 rows: three block columns of the blocked factorization.
    let n = 300;
    let eig: Vec<f64> = (0..n).map(|i| 1e-3 + i as f64 / n as f64).collect();
    let a = with_eigenvalues(&eig, 1);
    let chol = Cholesky::factor(a.clone()).expect("positive definite");
    let l = chol.factor_matrix();
    let worst = (&l.dot(&l.t()) - &a).iter().fold(0.0f64, |x, &y| x.max(y.abs()));
    assert!(worst < 1e-13, "L L^T - A: {worst:e}");
    let b: Vec<f64> = (0..n).map(|i| (i as f64).sin()).collect();
    let x = chol.solve(&b);
    let r = a.dot(&ndarray::Array1::from(x));
    let res = r.iter().zip(&b).fold(0.0f64, |m, (p, q)| m.max((p - q).abs()));
    assert!(res < 1e-10, "solve residual {res:e}");
    // Inverse iteration finds the smallest eigenvalue, 1e-3 (the next is 1e-3 + 1/300).
    let lowest = chol.smallest_eigenvalue_estimate(adamgap::limit::EIGEN_ITERATIONS);
    assert!((lowest - 1e-3).abs() < 1e-12, "smallest eigenvalue estimate {lowest:e}");
    // One eigenvalue -1e-6: not positive definite.
    let mut bad = eig.clone();
    bad[n / 2] = -1e-6;
    let err = Cholesky::factor(with_eigenvalues(&bad, 1)).expect_err("an indefinite matrix factored");
    assert!(err.pivot <= 0.0, "pivot {}", err.pivot);
}

/// GD on the tiny setting for `steps` steps: a point near GD's limit.
fn gd_iterate(e: &Experiment, steps: usize) -> Weights {
    let mut setting = e.setting.clone();
    setting.train.steps = steps;
    let e = Experiment::new(&setting).expect("setting");
    e.run_eager(&OptimizerSetting::Gd { eta: 1.0 }, &|_| {}).weights
}

#[test]
fn the_newton_polish_reaches_a_critical_point_nearby_and_refuses_big_steps() {
    let mut setting = tiny();
    setting.model.lambda = 1e-2;
    setting.model.sigma0 = 0.1;
    let e = Experiment::new(&setting).expect("setting");
    let basis = PatchBasis::new(&e.train);
    let start = gd_iterate(&e, 600);
    let g0 = e.model.full_gradient(&start, &e.train).norm();
    let p = polish(&e.model, &e.train, &basis, &start, PolishSettings::default()).expect("polish");
    let g1 = e.model.full_gradient(&p.weights, &e.train).norm();
    assert!(g1 < 1e-13 && g1 < 1e-6 * g0, "polish: ||grad|| {g0:e} -> {g1:e} ({})", p.stop);
    assert_eq!(p.grad_norms.len(), p.step_norms.len() + 1);
    // The steps after the first cut the gradient fast enough to reuse its factor (chord steps).
    assert!(p.factorizations >= 1 && p.factorizations < p.step_norms.len(), "{} factorizations", p.factorizations);
    assert!(p.distance < 0.1 && p.distance > 0.0, "distance {}", p.distance);
    assert!(basis.complement_norm(&p.weights) < 1e-14, "complement left: {:e}", basis.complement_norm(&p.weights));
    assert!(p.start_complement > 0.0, "GD's iterate has a complement component");
    // The polished point is a fixed point of the polish.
    let again = polish(&e.model, &e.train, &basis, &p.weights, PolishSettings::default()).expect("polish");
    assert!(again.distance < 1e-12, "a second polish moved {:e}", again.distance);
    // A step limit below the first step's length: refused.
    let tight = PolishSettings { max_step: p.reduced_step_norms[0] / 2.0, ..PolishSettings::default() };
    match polish(&e.model, &e.train, &basis, &start, tight) {
        Err(PolishError::StepTooLarge { step: 1, norm }) => assert!(norm > tight.max_step),
        other => panic!("expected a refused step, got {other:?}"),
    }
}

const TINY_RUN: [&str; 12] =
    ["--d", "60", "--n", "12", "--s", "8", "--test-size", "200", "--m", "3", "--steps", "20000"];

#[test]
fn to_limit_flags_out_of_range_are_refused_before_any_output() {
    let (_tmp, dir) = common::scratch("limit-flags");
    let report = dir.join("report");
    let cases: [(&[&str], &[&str]); 5] = [
        (&["--to-limit", "--polish-steps", "0"], &["--polish-steps", "1 to 1000"]),
        (&["--to-limit", "--polish-steps", "1001"], &["--polish-steps", "1 to 1000"]),
        (&["--to-limit", "--polish-max-step", "0"], &["--polish-max-step", "finite and > 0"]),
        (&["--to-limit", "--polish-max-step", "inf"], &["--polish-max-step", "finite and > 0"]),
        (&["--polish-steps", "3"], &["--to-limit"]),
    ];
    for (args, needles) in cases {
        let mut a = vec!["run", "--quiet", "--steps", "1", "--d", "20", "--n", "4", "--s", "3", "--test-size", "10"];
        a.extend(args);
        a.extend(["--report", report.to_str().expect("utf-8 path")]);
        let out = common::adamgap(&a);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        for needle in needles {
            assert!(err.contains(needle), "{args:?}: {err} does not name {needle}");
        }
        assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
        assert!(out.stdout.is_empty(), "{args:?} printed output");
        assert!(!report.exists(), "{args:?} wrote a report");
    }
    // The reduced Hessian of the defaults (8040 x 8040, 517 MB) does not fit in 200 MB.
    let out = common::adamgap(&["run", "--quiet", "--to-limit", "--max-memory", "200M"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--max-memory") && err.contains("reduced Hessian"), "{err}");
}

#[test]
fn to_limit_polishes_gd_to_a_nearby_critical_point_and_reports_each_outcome() {
    let mut args = vec!["run", "--quiet", "--json", "--to-limit", "--certify"];
    args.extend(TINY_RUN);
    let out = common::adamgap(&args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let limit = &v["limit"];
    // n + 1 directions: the 12 noise patches and e_1.
    assert_eq!(limit["span_dim"], 13, "{limit}");
    assert_eq!(limit["reduced_dim"], 2 * 3 * 13);
    let points = limit["points"].as_array().expect("points");
    assert_eq!(points.len(), 2);
    for p in points {
        let stop = p["stop"]["reason"].as_str().expect("a stop reason");
        assert!(stop == "grad-tol" || stop == "step-budget", "{p}");
        let at = p["at_iterate"]["grad_norm_l2"].as_f64().expect("gradient norm");
        if stop == "grad-tol" {
            assert!(at <= adamgap::limit::TO_LIMIT_GRAD_TOL, "{p}");
        }
        let polish = &p["polish"];
        match polish.get("failed") {
            Some(why) => {
                let why = why.as_str().expect("a reason");
                assert!(why.contains("not positive definite") || why.contains("more than the polish allows"), "{why}");
            }
            None => {
                let g = polish["at_polished"]["grad_norm_l2"].as_f64().expect("gradient norm");
                assert!(g < 1e-15 && g < at, "{p}");
                assert_eq!(polish["margin_sign_changes"], 0, "{p}");
                // The exact enclosure of ||grad L|| at the polished point (not at the iterate).
                let c = &polish["certified_at_polished"];
                let (lo, hi) = (c["grad_norm_l2"][0].as_f64().expect("lo"), c["grad_norm_l2"][1].as_f64().expect("hi"));
                assert!(0.0 <= lo && lo <= hi && hi < 1e-15, "{c}");
                // max_r gamma at the polished point: the model's own feature coefficients there.
                let gamma = c["feature_max_per_class"].as_array().expect("two classes");
                assert!(gamma.len() == 2 && gamma.iter().all(|g| g.as_f64().is_some_and(f64::is_finite)), "{c}");
                let train = &c["train_errors"];
                assert_eq!(train["undecided"], 0, "{c}");
                assert_eq!(
                    train["errors"].as_f64(),
                    Some(polish["at_polished"]["train_error"].as_f64().unwrap() * 12.0)
                );
            }
        }
    }
    // GD's iterate at 20,000 steps: polished, moving its weight-decay-only components.
    let gd = points.iter().find(|p| p["optimizer"] == "gd").expect("gd");
    let polish = &gd["polish"];
    assert!(polish.get("failed").is_none(), "GD's polish failed: {polish}");
    let (distance, outside) = (polish["distance"].as_f64().unwrap(), polish["start_complement"].as_f64().unwrap());
    assert!(distance >= outside && outside > 0.0, "{polish}");
    assert_eq!(polish["at_polished"]["train_error"], 0.0);
    let polished = limit["gd_adam_distance_polished"].as_f64();
    // The report folder carries the same section.
    let (_tmp, dir) = common::scratch("limit-report");
    let report = dir.join("report");
    let mut args = vec!["run", "--quiet", "--to-limit", "--report", report.to_str().expect("utf-8 path")];
    args.extend(TINY_RUN);
    let out = common::adamgap(&args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let md = std::fs::read_to_string(report.join("report.md")).expect("report.md");
    assert!(md.contains("## Limit points") && md.contains("Newton polish: gradient-norm tolerance"), "{md}");
    assert!(md.contains("](convergence.svg)"), "{md}");
    let svg = std::fs::read_to_string(report.join("convergence.svg")).expect("convergence.svg");
    let doc = roxmltree::Document::parse(&svg).expect("an SVG");
    let lines = doc.descendants().filter(|n| n.has_tag_name("polyline")).count();
    assert!(lines >= 2, "one line per optimizer: {lines} polylines");
    let adam_ok = points.iter().any(|p| p["optimizer"] == "adam" && p["polish"].get("failed").is_none());
    assert_eq!(polished.is_some(), adam_ok, "{limit}");
}

#[test]
fn the_polish_refuses_a_point_whose_hessian_has_negative_curvature() {
    let e = Experiment::new(&tiny()).expect("setting");
    let basis = PatchBasis::new(&e.train);
    // Scale W^(0) until the dense difference-quotient Hessian has a negative diagonal entry: the
    // activation's curvature of a filter on its own class's samples outweighs weight decay and
    // the loss' curvature, so the Hessian is indefinite there (proved by that entry alone).
    let found = [0.25, 0.5, 1.0, 2.0, 4.0].into_iter().find_map(|t| {
        let mut w = e.init.clone();
        w.as_mut_slice().iter_mut().for_each(|x| *x *= t);
        if min_abs_preactivation(&w, &e) < 1e-3 {
            return None;
        }
        let fd = fd_hessian(&e, &w, 1e-5);
        let lowest = (0..fd.nrows()).map(|i| fd[[i, i]]).fold(f64::INFINITY, f64::min);
        (lowest < -1e-3).then_some((w, lowest))
    });
    let (w, lowest) = found.expect("a point with negative curvature among the scalings");
    match polish(&e.model, &e.train, &basis, &w, PolishSettings::default()) {
        Err(PolishError::NotPositiveDefinite { step: 1, pivot }) => assert!(pivot.pivot <= 0.0),
        other => panic!("negative curvature {lowest:e} polished: {other:?}"),
    }
}

#[test]
fn the_polish_does_not_depend_on_the_thread_count() {
    let polished = |threads: &str| {
        let mut args = vec!["run", "--quiet", "--json", "--to-limit", "--threads", threads];
        args.extend(TINY_RUN);
        let out = common::adamgap(&args);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let points = v["limit"]["points"].as_array().expect("points").clone();
        points
            .iter()
            .map(|p| {
                let pol = &p["polish"];
                (
                    pol["grad_norms_l2"].clone(),
                    pol["step_norms"].clone(),
                    pol["distance"].clone(),
                    pol["failed"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    let (one, two) = (polished("1"), polished("2"));
    assert!(one.iter().any(|p| p.0.is_array()), "no polish to compare");
    assert_eq!(one, two);
}
