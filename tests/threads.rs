//! The parallel passes of a step (forward over blocks of patches, activation over blocks of
//! samples, backward over blocks of gradient rows, the update over blocks of parameters, the test
//! error over blocks of test points) give bit-identical results whatever the number of threads,
//! at sizes that leave partial blocks everywhere.

use adamgap::data::{PatchData, STREAM_TEST, STREAM_TRAIN, rng};
use adamgap::model::{Cnn, Weights};
use adamgap::optim;
use adamgap::setting::{OptimizerSetting, Setting};
use adamgap::train::Experiment;

/// What one pool computes: the first loss and gradient, the weights after 25 Adam and 25 GD steps,
/// the losses and training errors along the way, and the test errors at the end (all as bits).
fn trajectory(threads: usize) -> Vec<u64> {
    let mut st = Setting::default();
    st.data.d = 1_000; // 1000 gradient rows: 15 full blocks of 64 and one of 40
    st.data.n = 203; // 406 patches: 12 blocks of 32 and one of 22; 203 samples: 12 of 16 and one of 11
    st.data.s = 50;
    st.model.m = 7; // 14 columns: 14,000 parameters, 3 update blocks of 4096 and one of 1712
    st.model.sigma0 = 0.05;
    let train = PatchData::generate(&st.data, st.data.n, &mut rng(3, STREAM_TRAIN), None);
    let test = PatchData::generate(&st.data, 1_000, &mut rng(3, STREAM_TEST), None);
    let model = Cnn::from_setting(&st.model, st.data.d);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a pool");
    pool.install(|| {
        let mut out = Vec::new();
        let mut w = Weights::init(st.data.d, st.model.m, st.model.sigma0, 3);
        let mut g = vec![0.0; w.as_slice().len()];
        let mut ws = model.workspace(train.patches);
        for setting in [
            OptimizerSetting::Adam { eta: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8, bias_correction: true },
            OptimizerSetting::Gd { eta: 0.5 },
        ] {
            let mut opt = optim::build(&setting, g.len());
            for _ in 0..25 {
                let eval = model.loss_grad(w.as_slice(), &train, &mut g, &mut ws);
                out.push(eval.loss.to_bits());
                out.push(eval.errors as u64);
                opt.step(w.as_mut_slice(), &g, model.lambda);
            }
        }
        out.extend(g.iter().map(|x| x.to_bits()));
        out.extend(w.as_slice().iter().map(|x| x.to_bits()));
        out.push(model.errors(&w, &test, &mut ws) as u64);
        out
    })
}

#[test]
fn steps_do_not_depend_on_the_number_of_threads() {
    let one = trajectory(1);
    for threads in [2, 3, 5] {
        assert!(trajectory(threads) == one, "{threads} threads differ from one");
    }
}

#[test]
fn runs_do_not_depend_on_the_number_of_threads() {
    let mut st = Setting::default();
    st.data.d = 300;
    st.data.n = 50;
    st.data.s = 30;
    st.data.test_size = 500;
    st.model.m = 5;
    st.train.steps = 60;
    let exp = Experiment::new(&st).expect("a valid setting");
    let in_pool = |threads| adamgap::parallel::pool(threads).expect("a pool").install(|| exp.run_all(&|_, _| {}));
    let one = in_pool(1);
    let three = in_pool(3);
    for (a, b) in one.iter().zip(&three) {
        assert_eq!(a.trace, b.trace, "{}", a.name);
        assert!(a.weights.as_slice().iter().zip(b.weights.as_slice()).all(|(x, y)| x.to_bits() == y.to_bits()));
    }
}
