//! The fast sparse pass against slow, obviously-correct references:
//!
//! - the dense reference step ([`DenseReference`]: plain matrix products on the dense `(n P) x d`
//!   patch matrix) gives the same loss and gradient to `1e-12` relative;
//! - the plain per-sample loops the kernels replaced (copied below) give bit-identical results, for
//!   filter counts that exercise every column-block width, and the AVX and baseline code paths
//!   agree bit for bit;
//! - the fused optimizer kernels are bit-identical to the plain update formulas.

use adamgap::data::{PatchData, STREAM_TRAIN, rng};
use adamgap::model::{Activation, Cnn, DenseReference, LossEval, Weights, sigmoid, softplus};
use adamgap::optim;
use adamgap::setting::{Decay, OptimizerSetting, Setting};

fn fixture(d: usize, n: usize, s: usize, m: usize, sigma0: f64) -> (Cnn, PatchData, Weights) {
    let mut st = Setting::default();
    st.data.d = d;
    st.data.n = n;
    st.data.s = s;
    st.model.m = m;
    let data = PatchData::generate(&st.data, n, &mut rng(7, STREAM_TRAIN), None);
    let model = Cnn::from_setting(&st.model, d);
    // A larger initialization than the paper's so that the loss is far from log 2 and the
    // derivatives are not tiny.
    let w = Weights::init(d, m, sigma0, 7);
    (model, data, w)
}

/// `f(W, x_i)` and the pre-activations `z[p * 2m + c]`, by the original plain loops.
fn plain_forward(model: &Cnn, w: &[f64], data: &PatchData, i: usize) -> (f64, Vec<f64>) {
    let m = model.m;
    let w2 = 2 * m;
    let mut z = vec![0.0; data.patches * w2];
    for p in 0..data.patches {
        let zp = &mut z[p * w2..(p + 1) * w2];
        let (idx, val) = data.x.row(i * data.patches + p);
        for (&k, &v) in idx.iter().zip(val) {
            let row = &w[k as usize * w2..(k as usize + 1) * w2];
            for (zc, wc) in zp.iter_mut().zip(row) {
                *zc += v * wc;
            }
        }
    }
    let (mut fp, mut fm) = (0.0, 0.0);
    for zp in z.chunks_exact(w2) {
        let (plus, minus) = zp.split_at(m);
        fp += plus.iter().map(|&t| model.activation.value(t)).sum::<f64>();
        fm += minus.iter().map(|&t| model.activation.value(t)).sum::<f64>();
    }
    (model.scale * (fp - fm), z)
}

/// The per-sample loops of the original implementation (before the kernels), kept verbatim as the
/// reference the fast pass must reproduce bit for bit.
fn plain_loss_grad(model: &Cnn, w: &[f64], data: &PatchData, grad: &mut [f64]) -> LossEval {
    let m = model.m;
    let w2 = 2 * m;
    let mut coef = vec![0.0; w2];
    grad.fill(0.0);
    let n = data.len() as f64;
    let (mut loss, mut errors) = (0.0, 0usize);
    for i in 0..data.len() {
        let (f, z) = plain_forward(model, w, data, i);
        let y = data.y[i];
        let margin = y * f;
        loss += softplus(-margin);
        errors += usize::from(margin <= 0.0);
        let a = -sigmoid(-margin) * y * model.scale / n;
        for p in 0..data.patches {
            let zp = &z[p * w2..(p + 1) * w2];
            let mut active = false;
            for (c, (co, &zc)) in coef.iter_mut().zip(zp).enumerate() {
                let dv = model.activation.deriv(zc);
                active |= dv != 0.0;
                *co = if c < m { a * dv } else { -a * dv };
            }
            if !active {
                continue;
            }
            let (idx, val) = data.x.row(i * data.patches + p);
            for (&k, &v) in idx.iter().zip(val) {
                let row = &mut grad[k as usize * w2..(k as usize + 1) * w2];
                for (g, &co) in row.iter_mut().zip(coef.iter()) {
                    *g += v * co;
                }
            }
        }
    }
    LossEval { loss: loss / n, errors }
}

fn bits(x: &[f64]) -> Vec<u64> {
    x.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn dense_reference_matches_sparse_gradient_to_1e_12() {
    for (sigma0, m) in [(0.01, 20), (0.3, 20), (0.3, 7)] {
        let (model, data, w) = fixture(1000, 200, 100, m, sigma0);
        let mut g_sparse = vec![0.0; w.as_slice().len()];
        let mut ws = model.workspace(data.patches);
        let sparse = model.loss_grad(w.as_slice(), &data, &mut g_sparse, &mut ws);
        let mut dense = DenseReference::new(&model, &data);
        let mut g_dense = vec![0.0; g_sparse.len()];
        let dense_eval = dense.loss_grad(&model, w.as_slice(), &mut g_dense);

        let scale = g_sparse.iter().fold(0.0f64, |a, &b| a.max(b.abs()));
        assert!(scale > 0.0, "a nonzero gradient");
        let max_diff = g_sparse.iter().zip(&g_dense).fold(0.0f64, |a, (&s, &d)| a.max((s - d).abs()));
        assert!(
            max_diff <= 1e-12 * scale,
            "sigma0 = {sigma0}, m = {m}: max |g_sparse - g_dense| = {max_diff:e}, max |g| = {scale:e}"
        );
        assert!(
            (sparse.loss - dense_eval.loss).abs() <= 1e-12 * sparse.loss,
            "loss {} vs {}",
            sparse.loss,
            dense_eval.loss
        );
        assert_eq!(sparse.errors, dense_eval.errors);
    }
}

#[test]
fn kernels_are_bit_identical_to_the_plain_loops() {
    // 2m = 10, 14, 26, 40, 80, 98: every block width of both code paths is used.
    for (m, activation, mean) in [
        (5, Activation::PolyRelu(3), false),
        (7, Activation::PolyRelu(3), true),
        (13, Activation::PolyRelu(2), false),
        (20, Activation::PolyRelu(3), false),
        (40, Activation::Linear, false),
        (49, Activation::PolyRelu(5), false),
    ] {
        let (mut model, data, w) = fixture(300, 60, 40, m, 0.2);
        model.activation = activation;
        if mean {
            model.scale = 1.0 / m as f64;
        }
        let mut g_plain = vec![0.0; w.as_slice().len()];
        let plain = plain_loss_grad(&model, w.as_slice(), &data, &mut g_plain);
        let mut ws = model.workspace(data.patches);
        for pass in 0..2 {
            // Twice with one workspace: the second call reuses the grown scratch space.
            let mut g = vec![f64::NAN; g_plain.len()];
            let fast = model.loss_grad(w.as_slice(), &data, &mut g, &mut ws);
            assert_eq!(fast.loss.to_bits(), plain.loss.to_bits(), "m = {m}, pass {pass}");
            assert_eq!(fast.errors, plain.errors);
            assert_eq!(bits(&g), bits(&g_plain), "m = {m}, pass {pass}: gradient bits");
            let mut g_portable = vec![f64::NAN; g_plain.len()];
            let portable = model.loss_grad_portable(w.as_slice(), &data, &mut g_portable, &mut ws);
            assert_eq!(portable.loss.to_bits(), plain.loss.to_bits());
            assert_eq!(bits(&g_portable), bits(&g_plain), "m = {m}: baseline path bits");
        }
        // The forward-only passes agree with the plain forward too.
        let mut ws = model.workspace(data.patches);
        let outputs = model.outputs(&w, &data, &mut ws);
        let plain_outputs: Vec<f64> =
            (0..data.len()).map(|i| plain_forward(&model, w.as_slice(), &data, i).0).collect();
        assert_eq!(bits(&outputs), bits(&plain_outputs), "m = {m}: outputs");
        let expected = plain_outputs.iter().zip(&data.clean_y).filter(|&(&f, &y)| y * f <= 0.0).count();
        assert_eq!(model.errors(&w, &data, &mut ws), expected, "m = {m}: errors");
    }
}

/// The plain update formulas of the optimizer table, one element at a time.
fn plain_adam(
    w: &mut [f64],
    g_loss: &[f64],
    m: &mut [f64],
    v: &mut [f64],
    t: i32,
    s: (f64, f64, f64, f64, bool),
    lambda: f64,
) {
    let (eta, b1, b2, eps, bias) = s;
    let (c1, c2) = if bias { (1.0 - b1.powi(t), 1.0 - b2.powi(t)) } else { (1.0, 1.0) };
    for i in 0..w.len() {
        let g = g_loss[i] + lambda * w[i];
        m[i] = b1 * m[i] + (1.0 - b1) * g;
        v[i] = b2 * v[i] + (1.0 - b2) * g * g;
        let den = (v[i] / c2).sqrt() + eps;
        let upd = if den == 0.0 { 0.0 } else { (m[i] / c1) / den };
        w[i] -= eta * upd + 0.0 * w[i];
    }
}

#[test]
fn update_kernels_are_bit_identical_to_the_plain_formulas() {
    let dim = 1001; // not a multiple of any vector width
    let g: Vec<f64> =
        (0..dim).map(|k| ((k * 7919 % 2003) as f64 - 1001.0) * 1e-4 * if k % 17 == 0 { 0.0 } else { 1.0 }).collect();
    let w0: Vec<f64> = (0..dim).map(|k| ((k * 104729 % 1009) as f64 - 504.0) * 1e-3).collect();
    let lambda = 1e-3;
    for (eta, b1, b2, eps, bias) in
        [(5e-5, 0.9, 0.999, 1e-8, true), (1e-3, 0.9, 0.999, 1e-8, false), (1e-3, 0.0, 0.0, 0.0, false)]
    {
        let mut opt = optim::build(&OptimizerSetting::Adam { eta, b1, b2, eps, bias_correction: bias }, dim);
        let (mut w, mut wp) = (w0.clone(), w0.clone());
        let (mut m, mut v) = (vec![0.0; dim], vec![0.0; dim]);
        // Past t = 350, where 1 - 0.9^t rounds to 1 and the kernel skips that division.
        for t in 1..=400 {
            let gt: Vec<f64> = g.iter().map(|&x| x * (1.0 + (t % 5) as f64)).collect();
            opt.step(&mut w, &gt, lambda);
            plain_adam(&mut wp, &gt, &mut m, &mut v, t, (eta, b1, b2, eps, bias), lambda);
            assert_eq!(bits(&w), bits(&wp), "Adam({eta}, {b1}, {b2}, {eps}, {bias}) step {t}");
        }
    }
    // GD and sign GD.
    let mut gd = optim::build(&OptimizerSetting::Gd { eta: 0.5 }, dim);
    let mut sign = optim::build(&OptimizerSetting::SignGd { eta: 1e-3, decay: Decay::InvSqrt }, dim);
    let (mut w_gd, mut w_gd_plain, mut w_s, mut w_s_plain) = (w0.clone(), w0.clone(), w0.clone(), w0.clone());
    for t in 1..=5u32 {
        gd.step(&mut w_gd, &g, lambda);
        sign.step(&mut w_s, &g, 0.0);
        let eta_t = 1e-3 / f64::from(t).sqrt();
        for i in 0..dim {
            w_gd_plain[i] -= 0.5 * (g[i] + lambda * w_gd_plain[i]);
            let gi = g[i] + 0.0 * w_s_plain[i];
            let s = if gi > 0.0 {
                1.0
            } else if gi < 0.0 {
                -1.0
            } else {
                0.0
            };
            w_s_plain[i] -= eta_t * s;
        }
        assert_eq!(bits(&w_gd), bits(&w_gd_plain), "GD step {t}");
        assert_eq!(bits(&w_s), bits(&w_s_plain), "sign GD step {t}");
    }
}
