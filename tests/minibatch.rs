//! Minibatch training (docs/model.md#minibatches): `batch_size = n` is the full-batch run bit for
//! bit for every optimizer; a 3-step minibatch Adam, AdamW and SGD run on a tiny setting against a
//! plain dense reference written here, on the batches written out; the schedule against an
//! independent Fisher-Yates on the named stream; bad input through the CLI.

mod common;

use adamgap::data::{STREAM_BATCHES, rng};
use adamgap::setting::{Decay, LastBatch, OptimizerSetting, Sampling, Setting};
use adamgap::train::{Batches, Experiment, Run};
use rand::Rng;

fn optimizers() -> Vec<OptimizerSetting> {
    vec![
        OptimizerSetting::paper_gd(),
        OptimizerSetting::paper_adam(),
        OptimizerSetting::Adam { eta: 1e-2, b1: 0.9, b2: 0.999, eps: 1e-8, bias_correction: true },
        OptimizerSetting::Adam { eta: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8, bias_correction: false },
        OptimizerSetting::AdamW { eta: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8, bias_correction: true },
        OptimizerSetting::SignGd { eta: 1e-3, decay: Decay::InvSqrt },
        OptimizerSetting::Momentum { eta: 0.1, beta: 0.9 },
        OptimizerSetting::RmsProp { eta: 1e-3, beta: 0.9, eps: 1e-8 },
        OptimizerSetting::AdaGrad { eta: 1e-2, eps: 1e-8 },
    ]
}

/// Everything a run reports, with every float as its bits, and the weights' bits (as in
/// `tests/deferred.rs`).
fn fingerprint(r: &Run) -> (String, Vec<u64>) {
    let text = format!("{} {:?} {} {:?} {} {:?}", r.name, r.stop, r.steps, r.feature_reversal_step, r.moved, r.trace);
    (text, r.weights.as_slice().iter().map(|x| x.to_bits()).collect())
}

fn small() -> Setting {
    let mut st = common::small(300, 20, 20, 200, 3);
    (st.data.sigma_p, st.model.lambda) = (0.5, 0.01);
    (st.train.steps, st.train.checkpoints) = (40, 4);
    st
}

#[test]
fn batch_size_n_is_the_full_batch_run_bit_for_bit() {
    let exp = Experiment::new(&small()).expect("a valid setting");
    let mut st = small();
    st.train.batch_size = Some(20);
    let at_n = Experiment::new(&st).expect("a valid setting");
    assert!(exp.full_batch() && at_n.full_batch());
    for opt in optimizers() {
        let full = exp.run_eager(&opt, &|_| {});
        assert!(full.moved && full.trace.len() > 6, "{}: a run that trains", opt.key());
        // The batch machinery at B = n (one batch per step, the whole set in order, each
        // checkpoint evaluating the full batch itself) against the full-batch run.
        assert_eq!(fingerprint(&exp.run_minibatch(&opt, &|_| {})), fingerprint(&full), "{}", opt.key());
        assert_eq!(fingerprint(&at_n.run(&opt, &|_| {})), fingerprint(&full), "{}", opt.key());
    }
}

/// The tiny setting of the hand-computed runs: `d = 8`, `n = 4`, `s = 2`, `m = 1`, `q = 3`,
/// batches of 2 drawn without replacement.
fn tiny() -> Setting {
    let mut st = common::small(8, 4, 2, 50, 1);
    (st.data.sigma_p, st.model.lambda, st.model.sigma0, st.seed) = (1.0, 0.05, 0.5, 3);
    (st.train.steps, st.train.checkpoints, st.train.batch_size) = (3, 0, Some(2));
    st
}

/// The batches of the tiny setting's 3 steps (seed 3, stream 6): epoch 1 is two batches, step 3
/// opens epoch 2.
const BATCHES: [[u32; 2]; 3] = [[2, 3], [0, 1], [1, 2]];

/// The schedule by an independent Fisher-Yates on the stream of docs/model.md#minibatches.
fn fisher_yates_batches(n: usize, b: usize, seed: u64, steps: usize) -> Vec<Vec<u32>> {
    let mut r = rng(seed, STREAM_BATCHES);
    let mut order: Vec<u32> = (0..n as u32).collect();
    let mut out = Vec::new();
    while out.len() < steps {
        for i in (1..n).rev() {
            let j = r.random_range(0..=i);
            order.swap(i, j);
        }
        for chunk in order.chunks(b) {
            let mut batch = chunk.to_vec();
            batch.sort_unstable();
            out.push(batch);
        }
    }
    out.truncate(steps);
    out
}

#[test]
fn the_schedule_is_the_written_out_batches() {
    let st = tiny();
    let written: Vec<Vec<u32>> = BATCHES.iter().map(|b| b.to_vec()).collect();
    assert_eq!(Batches::of(&st).take(3), written);
    assert_eq!(fisher_yates_batches(4, 2, 3, 3), written);
    // Longer and with a partial batch, against the same independent draw.
    let mut long = small();
    long.train.batch_size = Some(6);
    let ours = Batches::of(&long).take(40);
    assert_eq!(ours, fisher_yates_batches(20, 6, long.seed, 40));
    assert_eq!(ours.iter().map(Vec::len).take(4).collect::<Vec<_>>(), [6, 6, 6, 2]);
}

/// The mean loss and its gradient over `batch` by the plain formulas of docs/model.md, patch by
/// dense patch: `grad_{w_{j,r}} = (1/|S|) sum_{i in S} -sigmoid(-y_i f_i) y_i j sum_p
/// sigma'(<w_{j,r}, x_{i,p}>) x_{i,p}` with `sigma(z) = max(0, z)^3` (`m = 1`: column 0 is the
/// filter of class +1, column 1 that of class -1).
fn dense_loss_grad(exp: &Experiment, w: &[f64], batch: &[u32]) -> (f64, Vec<f64>) {
    let (d, p) = (exp.train.d, exp.train.patches);
    let mut g = vec![0.0; w.len()];
    let mut loss = 0.0;
    let b = batch.len() as f64;
    for &i in batch {
        let i = i as usize;
        let xs: Vec<Vec<f64>> = (0..p).map(|q| exp.train.x.dense_row(i * p + q, d)).collect();
        let z = |x: &[f64], c: usize| (0..d).map(|k| x[k] * w[2 * k + c]).sum::<f64>();
        let f: f64 = xs.iter().map(|x| z(x, 0).max(0.0).powi(3) - z(x, 1).max(0.0).powi(3)).sum();
        let y = exp.train.y[i];
        loss += (1.0 + (-y * f).exp()).ln() / b;
        let l = -1.0 / (1.0 + (y * f).exp());
        for x in &xs {
            for (c, j) in [(0, 1.0), (1, -1.0)] {
                let ds = 3.0 * z(x, c).max(0.0).powi(2);
                for k in 0..d {
                    g[2 * k + c] += l * y * j * ds * x[k] / b;
                }
            }
        }
    }
    (loss, g)
}

/// Three steps by hand on [`BATCHES`]: SGD `w -= eta (g + lambda w)`; Adam with `g + lambda w`
/// in its moments and bias correction; AdamW on `g` with `w -= eta lambda w` beside.
fn by_hand(exp: &Experiment, opt: &OptimizerSetting) -> Vec<f64> {
    let lambda = exp.model.lambda;
    let mut w = exp.init.as_slice().to_vec();
    let (mut m, mut v) = (vec![0.0; w.len()], vec![0.0; w.len()]);
    for (t, batch) in BATCHES.iter().enumerate() {
        let t = t as i32 + 1;
        let (_, g) = dense_loss_grad(exp, &w, batch);
        match *opt {
            OptimizerSetting::Gd { eta } => {
                for (wi, gi) in w.iter_mut().zip(&g) {
                    *wi -= eta * (gi + lambda * *wi);
                }
            }
            OptimizerSetting::Adam { eta, b1, b2, eps, .. } | OptimizerSetting::AdamW { eta, b1, b2, eps, .. } => {
                let decoupled = matches!(opt, OptimizerSetting::AdamW { .. });
                for k in 0..w.len() {
                    let gk = if decoupled { g[k] } else { g[k] + lambda * w[k] };
                    m[k] = b1 * m[k] + (1.0 - b1) * gk;
                    v[k] = b2 * v[k] + (1.0 - b2) * gk * gk;
                    let (mh, vh) = (m[k] / (1.0 - b1.powi(t)), v[k] / (1.0 - b2.powi(t)));
                    let decay = if decoupled { eta * lambda * w[k] } else { 0.0 };
                    w[k] -= eta * mh / (vh.sqrt() + eps) + decay;
                }
            }
            _ => unreachable!("the hand-computed optimizers"),
        }
    }
    w
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * (1.0 + b.abs())
}

#[test]
fn three_minibatch_steps_match_the_hand_computation() {
    let exp = Experiment::new(&tiny()).expect("a valid setting");
    assert!(!exp.full_batch() && exp.steps_per_epoch() == 2);
    let all: Vec<u32> = (0..4).collect();
    for opt in [
        OptimizerSetting::Gd { eta: 0.5 },
        OptimizerSetting::Adam { eta: 1e-2, b1: 0.9, b2: 0.999, eps: 1e-8, bias_correction: true },
        OptimizerSetting::AdamW { eta: 1e-2, b1: 0.9, b2: 0.999, eps: 1e-8, bias_correction: true },
    ] {
        let run = exp.run(&opt, &|_| {});
        let want = by_hand(&exp, &opt);
        let moved = want.iter().zip(exp.init.as_slice()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(moved > 1e-4, "{}: the steps move the weights ({moved})", opt.key());
        for (k, (a, b)) in run.weights.as_slice().iter().zip(&want).enumerate() {
            assert!(close(*a, *b), "{} weight {k}: {a} vs {b}", opt.key());
        }
        // The checkpoints record the full-batch objective and gradient norm, at steps and epochs.
        assert_eq!(
            run.trace.iter().map(|c| (c.step, c.epoch)).collect::<Vec<_>>(),
            [(0, 0.0), (1, 0.5), (2, 1.0), (3, 1.5)]
        );
        let last = &run.last;
        let (loss, g) = dense_loss_grad(&exp, &want, &all);
        let wn2: f64 = want.iter().map(|x| x * x).sum();
        let gn: f64 = g.iter().zip(&want).map(|(g, w)| (g + exp.model.lambda * w).powi(2)).sum::<f64>().sqrt();
        assert!(close(last.loss, loss) && close(last.objective, loss + 0.5 * exp.model.lambda * wn2), "{}", opt.key());
        assert!(close(last.grad_norm_l2, gn), "{}: {} vs {gn}", opt.key(), last.grad_norm_l2);
    }
}

#[test]
fn sampling_with_replacement_and_dropped_batches_train_and_count_epochs() {
    let mut st = small();
    (st.train.batch_size, st.train.epochs, st.train.last_batch) = (Some(6), Some(3), LastBatch::Drop);
    let exp = Experiment::new(&st).expect("a valid setting");
    assert_eq!((exp.setting.train.steps, exp.steps_per_epoch()), (9, 3), "3 epochs of floor(20 / 6) steps");
    let run = exp.run(&OptimizerSetting::paper_adam(), &|_| {});
    assert_eq!((run.steps, run.last.epoch), (9, 3.0));
    st.train.sampling = Sampling::Replacement;
    st.train.batch_size = Some(20);
    let exp = Experiment::new(&st).expect("a valid setting");
    assert!(!exp.full_batch(), "n draws with replacement are not the full batch");
    let full = Experiment::new(&small()).expect("a valid setting");
    let adam = OptimizerSetting::paper_adam();
    assert_ne!(fingerprint(&exp.run(&adam, &|_| {})).1, fingerprint(&full.run(&adam, &|_| {})).1);
}

/// Exit code 2, and stderr naming every one of `words`.
fn refused(args: &[&str], config: Option<&str>, words: &[&str]) {
    let (_tmp, dir) = common::scratch("minibatch");
    let mut all: Vec<String> =
        ["run", "--quiet", "--d", "50", "--n", "10", "--s", "5", "--test-size", "20", "--steps", "2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    if let Some(text) = config {
        let path = dir.join("c.toml");
        std::fs::write(&path, text).expect("write the config");
        all.retain(|a| a != "--steps" && a != "2");
        all.extend(["--config".to_string(), path.display().to_string()]);
    }
    all.extend(args.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    let out = common::adamgap(&refs);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{all:?}: {err}");
    for w in words {
        assert!(err.contains(w), "{all:?}: {w:?} not in {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn bad_batch_sizes_and_budgets_are_refused_with_the_key_and_the_range() {
    refused(&["--batch-size", "0"], None, &["--batch-size", "1..=n"]);
    refused(&["--batch-size", "11"], None, &["--batch-size", "train.batch_size", "1..=10"]);
    refused(&["--batch-size", "2.5"], None, &["--batch-size", "1..=n"]);
    refused(&["--epochs", "2"], None, &["--steps", "--epochs", "train.steps", "train.epochs"]);
    refused(&[], Some("[train]\nbatch_size = 0\n"), &["train.batch_size", "1..=10"]);
    refused(&[], Some("[train]\nbatch_size = 11\n"), &["train.batch_size", "1..=10"]);
    refused(&[], Some("[train]\nbatch_size = 2.5\n"), &["train.batch_size", "1..=n"]);
    refused(&[], Some("[train]\nbatch_size = \"two\"\n"), &["train.batch_size", "1..=n"]);
    refused(&[], Some("[train]\nsteps = 5\nepochs = 2\n"), &["train.steps", "train.epochs"]);
    refused(&[], Some("[train]\nbatch_size = 2\ngrad_tol = 0.1\n"), &["train.grad_tol"]);
}

/// `d = 2000` with batches of 2 and 3 samples of `s = 20` noise coordinates: a batch touches at
/// most 64 of the 2,000 rows (`alpha = 0.9`, so that most optimizers reverse the feature); 80 steps (more than an epoch of `n = 20`, a partial last batch at
/// `B = 3`), checkpoints in between.
fn sparse_batches(batch: usize) -> Setting {
    let mut st = common::small(2_000, 20, 20, 200, 3);
    (st.data.sigma_p, st.model.lambda) = (0.5, 0.01);
    (st.train.steps, st.train.checkpoints, st.train.batch_size) = (80, 4, Some(batch));
    st.data.alpha = 0.9;
    st
}

#[test]
fn lagging_rows_equal_the_eager_minibatch_run_bit_for_bit_on_1_and_2_threads() {
    for (batch, sampling) in [(2, Sampling::Reshuffle), (3, Sampling::Replacement)] {
        let mut st = sparse_batches(batch);
        st.train.sampling = sampling;
        let exp = Experiment::new(&st).expect("a valid setting");
        assert!(exp.defers(), "a batch touches few rows: the run lags the others");
        let mut reversals = 0;
        for opt in optimizers() {
            let eager = exp.run_minibatch(&opt, &|_| {});
            assert!(eager.moved && eager.trace.len() > 8, "{}: a run that trains, with checkpoints", opt.key());
            for threads in [1, 2] {
                let pool = adamgap::parallel::pool(threads).expect("a pool");
                let lazy = pool.install(|| exp.run_deferred(&opt, &|_| {})).expect("the lagged run applies");
                assert_eq!(fingerprint(&lazy), fingerprint(&eager), "{} B = {batch}, {threads} threads", opt.key());
            }
            reversals += usize::from(eager.feature_reversal_step.is_some());
        }
        assert!(reversals > 0, "a feature reversal compared too");
    }
}

#[test]
fn lagging_rows_stay_identical_through_a_divergence_and_long_gaps() {
    // GD with a huge step diverges between checkpoints.
    let mut st = sparse_batches(2);
    st.model.lambda = 0.0;
    let exp = Experiment::new(&st).expect("a valid setting");
    let gd = OptimizerSetting::Gd { eta: 1e4 };
    let eager = exp.run_minibatch(&gd, &|_| {});
    assert!(matches!(eager.stop, adamgap::optim::StopReason::Diverged { .. }), "{:?}", eager.stop);
    let lazy = exp.run_deferred(&gd, &|_| {});
    // The lagged run either reproduces the divergence or declines (a lagging weight beyond the
    // finiteness bound), and `run` then gives the eager run.
    if let Some(lazy) = lazy {
        assert_eq!(fingerprint(&lazy), fingerprint(&eager));
    }
    assert_eq!(fingerprint(&exp.run(&gd, &|_| {})), fingerprint(&eager));
    // 2,500 steps without evenly spaced checkpoints: 1,500 steps between the checkpoints 1000 and
    // 2500, more than one catch-up's record holds.
    (st.model.lambda, st.train.steps, st.train.checkpoints) = (0.01, 2_500, 0);
    let exp = Experiment::new(&st).expect("a valid setting");
    let adam = OptimizerSetting::paper_adam();
    let lazy = exp.run_deferred(&adam, &|_| {}).expect("the lagged run applies");
    assert_eq!(fingerprint(&lazy), fingerprint(&exp.run_minibatch(&adam, &|_| {})));
}

/// A minibatch export spells its schedule out (`batches.npy`, the manifest's `batches`), the
/// independent NumPy replay (`tools/reference_numpy.py`) reproduces its GD, Adam and AdamW runs
/// to 1e-9 from it, and training on the imported folder gives the same run.
#[test]
fn a_minibatch_export_is_replayed_by_numpy_and_by_import() {
    let (_tmp, dir) = common::scratch("minibatch-export");
    let ex = dir.join("ex");
    let ex_s = ex.display().to_string();
    let base =
        ["run", "--quiet", "--json", "--d", "200", "--n", "30", "--s", "20", "--test-size", "100", "--steps", "60"];
    let mut args: Vec<&str> = base.to_vec();
    args.extend(["--batch-size", "4", "--optimizers", "adam,adamw,gd", "--export", &ex_s]);
    let out = common::adamgap(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ex.join("manifest.json")).expect("a manifest")).expect("JSON");
    let b = &manifest["batches"];
    assert_eq!(
        (b["file"].as_str(), b["batch_size"].as_u64(), b["steps"].as_u64()),
        (Some("batches.npy"), Some(4), Some(60))
    );
    assert_eq!((b["stream"].as_u64(), b["steps_per_epoch"].as_u64()), (Some(STREAM_BATCHES), Some(8)));
    let file: ndarray::Array2<i64> = ndarray_npy::read_npy(ex.join("batches.npy")).expect("batches.npy");
    let mut st = common::small(200, 30, 20, 100, 20);
    (st.train.steps, st.train.batch_size) = (60, Some(4));
    let ours = Batches::of(&st).take(60);
    assert_eq!(file.nrows(), 60);
    for (row, batch) in file.rows().into_iter().zip(&ours) {
        let listed: Vec<u32> = row.iter().filter(|&&i| i >= 0).map(|&i| i as u32).collect();
        assert_eq!(&listed, batch);
        assert_eq!(row.iter().filter(|&&i| i < 0).count(), 4 - batch.len(), "padding only for a short batch");
    }
    assert!(ours.iter().any(|b| b.len() == 2), "30 = 7 * 4 + 2: a kept short batch");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/reference_numpy.py");
    let replay = std::process::Command::new("python3").arg(script).arg(&ex).output().expect("python3 runs");
    let text = String::from_utf8_lossy(&replay.stdout);
    assert!(replay.status.success(), "{text}{}", String::from_utf8_lossy(&replay.stderr));
    assert!(
        text.contains("minibatches: B = 4") && text.contains("adamw: 60 steps") && text.contains("within 1e-09"),
        "{text}"
    );
    // Training on the imported folder: the same runs (the JSON apart from the timings).
    let again = common::adamgap(&["run", "--quiet", "--json", "--import", &ex_s]);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    fn untimed(v: &mut serde_json::Value) {
        if let Some(o) = v.as_object_mut() {
            o.remove("seconds");
            o.values_mut().for_each(untimed);
        }
    }
    let strip = |o: &[u8]| -> serde_json::Value {
        let mut v: serde_json::Value = serde_json::from_slice(o).expect("JSON");
        untimed(&mut v);
        v
    };
    assert_eq!(strip(&again.stdout), strip(&out.stdout));
}

/// The reports say a run is minibatch: the setting line gives the batch, epochs and scheme, the
/// Markdown trace counts epochs; a full-batch report has neither (its text is as before).
#[test]
fn reports_name_the_batches_and_count_epochs() {
    let mut st = small();
    (st.train.batch_size, st.train.steps) = (Some(8), 6);
    st.optimizers = vec![OptimizerSetting::paper_adam()];
    let exp = Experiment::new(&st).expect("a valid setting");
    let runs = exp.run_all(&|_, _| {});
    let text = adamgap::report::text(&exp, &runs, &[]);
    assert!(text.contains("steps=6 batch=8 (2.000 epochs, reshuffle, last batch keep)"), "{text}");
    let md = adamgap::report::markdown(&exp, &runs, &[]);
    assert!(md.contains("| step | epoch | objective |") && md.contains("| 6 | 2.000 |"), "{md}");
    st.train.batch_size = None;
    let full = Experiment::new(&st).expect("a valid setting");
    let runs = full.run_all(&|_, _| {});
    let (text, md) = (adamgap::report::text(&full, &runs, &[]), adamgap::report::markdown(&full, &runs, &[]));
    assert!(!text.contains("batch=") && md.contains("| step | objective |") && !md.contains("epoch"), "{md}");
}

/// A double-double minibatch run steps on the same batches: its weights agree with the binary64
/// run's to rounding, and it records the same steps and epochs.
#[test]
fn a_double_double_minibatch_run_follows_the_binary64_one() {
    let mut st = small();
    (st.train.batch_size, st.train.steps, st.train.last_batch) = (Some(6), 12, LastBatch::Drop);
    let exp = Experiment::new(&st).expect("a valid setting");
    for opt in [OptimizerSetting::paper_gd(), OptimizerSetting::paper_adam()] {
        let f64_run = exp.run(&opt, &|_| {});
        let dd = adamgap::precision::train::run::<adamgap::precision::Dd>(&exp, &opt);
        let steps = |r: &Run| r.trace.iter().map(|c| (c.step, c.epoch)).collect::<Vec<_>>();
        assert_eq!(steps(&dd), steps(&f64_run));
        let (a, b) = (dd.weights.as_slice(), f64_run.weights.as_slice());
        let diff = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt();
        let norm = b.iter().map(|y| y * y).sum::<f64>().sqrt();
        let moved = a.iter().zip(exp.init.as_slice()).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
        assert!(diff <= 1e-12 * norm && moved > 1e-6, "{}: {diff} of {norm}, moved {moved}", opt.key());
        // Full batch in double-double differs: the minibatch schedule is what both follow.
        let mut full = st.clone();
        full.train.batch_size = None;
        let dd_full = adamgap::precision::train::run::<adamgap::precision::Dd>(
            &Experiment::new(&full).expect("a valid setting"),
            &opt,
        );
        assert!(dd_full.weights.as_slice() != a, "{}", opt.key());
    }
}
