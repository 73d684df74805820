//! Minibatches (docs/model.md#minibatches): the batch schedule of a run and the objective a
//! minibatch step reads.
//!
//! **The schedule.** Epoch `e = 0, 1, ...` is a sequence of `n` sample indices: a uniformly random
//! permutation of `0..n` (`reshuffle`, the default: without replacement, as PyTorch's
//! `DataLoader(shuffle=True)`), or `n` independent uniform draws from `0..n` (`replacement`).
//! It is cut into consecutive batches of `B`; when `B` does not divide `n` the last `n mod B`
//! indices make a smaller batch (`keep`, the default) or are left out of the epoch (`drop`). Step
//! `t` (`t >= 1`) uses the `t`-th batch of the concatenated epochs, its indices sorted (the batch
//! mean does not depend on their order; sorted, the pass adds the samples in index order as the
//! full-batch pass does). Every draw comes from one ChaCha8 generator of the seed on
//! [`STREAM_BATCHES`], in order: the permutation by Fisher-Yates from the last position down
//! (`j = random_range(0..=i)`, swap `i` and `j`, for `i = n - 1, ..., 1`), the draws with
//! replacement by `random_range(0..n)`. The schedule depends on the seed and the setting only,
//! never on the thread count.
//!
//! **The objective.** At point `W_t` the step `t + 1` reads the batch `S` of step `t + 1`:
//! `g = (1/|S|) sum_{i in S} grad l_i(W_t)`, the loss gradient of the batch mean, to which the
//! optimizer adds the weight decay as in the full-batch run (in the gradient, or decoupled for
//! AdamW). The loss the driver's stop decision tests for finiteness is the batch's mean loss.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::data::{PatchData, STREAM_BATCHES, rng};
use crate::model::{Cnn, Workspace};
use crate::optim::{Eval, Objective};
use crate::setting::{LastBatch, Sampling, Setting, TrainSetting};

/// The batch schedule of a run: step after step, the sorted sample indices of its batch.
#[derive(Clone, Debug)]
pub struct Batches {
    rng: ChaCha8Rng,
    n: usize,
    batch: usize,
    sampling: Sampling,
    last_batch: LastBatch,
    /// The current epoch's sequence of `n` indices.
    order: Vec<u32>,
    /// Position of the next batch in `order` (`n`: a new epoch is drawn first).
    pos: usize,
    /// The current batch, sorted.
    current: Vec<u32>,
}

impl Batches {
    /// The schedule of `train` for `n` samples and `seed`.
    pub fn new(train: &TrainSetting, n: usize, seed: u64) -> Self {
        assert!(n >= 1 && n <= u32::MAX as usize, "1 <= n < 2^32 samples");
        Self {
            rng: rng(seed, STREAM_BATCHES),
            n,
            batch: train.batch(n).clamp(1, n),
            sampling: train.sampling,
            last_batch: train.last_batch,
            order: (0..n as u32).collect(),
            pos: n,
            current: Vec::new(),
        }
    }

    /// The schedule of a setting's run.
    pub fn of(setting: &Setting) -> Self {
        Self::new(&setting.train, setting.data.n, setting.seed)
    }

    /// Draws the next epoch's sequence of indices.
    fn next_epoch(&mut self) {
        match self.sampling {
            Sampling::Reshuffle => {
                // Each epoch permutes the previous epoch's order (a uniform permutation either way).
                for i in (1..self.n).rev() {
                    let j = self.rng.random_range(0..=i);
                    self.order.swap(i, j);
                }
            }
            Sampling::Replacement => {
                for slot in &mut self.order {
                    *slot = self.rng.random_range(0..self.n as u32);
                }
            }
        }
        self.pos = 0;
    }

    /// The sorted sample indices of the next step's batch.
    pub fn next_batch(&mut self) -> &[u32] {
        let remaining = self.n - self.pos;
        if remaining == 0 || (self.last_batch == LastBatch::Drop && remaining < self.batch) {
            self.next_epoch();
        }
        let end = (self.pos + self.batch).min(self.n);
        self.current.clear();
        self.current.extend_from_slice(&self.order[self.pos..end]);
        self.current.sort_unstable();
        self.pos = end;
        &self.current
    }

    /// The batches of the first `steps` steps (the schedule an export writes).
    pub fn take(mut self, steps: usize) -> Vec<Vec<u32>> {
        (0..steps).map(|_| self.next_batch().to_vec()).collect()
    }
}

/// The objective of a minibatch run in binary64: at each point, the mean loss and its gradient
/// over the next step's batch ([`Batches`]), through the fast kernels on the batch's samples.
pub struct BatchObjective<'a> {
    model: &'a Cnn,
    data: &'a PatchData,
    batches: Batches,
    sub: PatchData,
    ws: Workspace,
}

impl<'a> BatchObjective<'a> {
    /// Batches of `data` for `model` by the schedule `batches`.
    pub fn new(model: &'a Cnn, data: &'a PatchData, batches: Batches) -> Self {
        Self { model, data, batches, sub: PatchData::empty(), ws: model.workspace(data.patches) }
    }
}

impl Objective for BatchObjective<'_> {
    type Extra = usize;
    fn lambda(&self) -> f64 {
        self.model.lambda
    }
    fn is_full(&self) -> bool {
        false
    }
    fn eval(&mut self, w: &[f64], g: &mut [f64], need_norm: bool) -> Eval<usize> {
        let batch = self.batches.next_batch();
        self.data.select_into(batch, &mut self.sub);
        let eval = self.model.loss_grad(w, &self.sub, g, &mut self.ws);
        let grad_norm2 = super::record::norm_if_needed(g, w, self.model.lambda, need_norm);
        Eval { loss: eval.loss, grad_norm2, extra: eval.errors }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn train(batch: usize, sampling: Sampling, last_batch: LastBatch) -> TrainSetting {
        TrainSetting { batch_size: Some(batch), sampling, last_batch, ..TrainSetting::default() }
    }

    /// Without replacement every epoch covers each sample once (keep) or all but `n mod B`
    /// (drop); with replacement the batches have `B` indices from `0..n`.
    #[test]
    fn epochs_cover_the_samples_as_the_scheme_says() {
        let (n, b) = (10, 3);
        let keep = Batches::new(&train(b, Sampling::Reshuffle, LastBatch::Keep), n, 7).take(8);
        let sizes: Vec<usize> = keep.iter().map(Vec::len).collect();
        assert_eq!(sizes, [3, 3, 3, 1, 3, 3, 3, 1]);
        for epoch in keep.chunks(4) {
            let mut all: Vec<u32> = epoch.concat();
            all.sort_unstable();
            assert_eq!(all, (0..10).collect::<Vec<u32>>());
        }
        assert_ne!(keep[..4], keep[4..], "a fresh permutation each epoch");
        let drop = Batches::new(&train(b, Sampling::Reshuffle, LastBatch::Drop), n, 7).take(6);
        assert!(drop.iter().all(|x| x.len() == 3));
        for epoch in drop.chunks(3) {
            let mut all: Vec<u32> = epoch.concat();
            all.sort_unstable();
            all.dedup();
            assert_eq!(all.len(), 9, "one sample left out per epoch");
        }
        let repl = Batches::new(&train(b, Sampling::Replacement, LastBatch::Keep), n, 7).take(40);
        assert!(repl.iter().all(|x| x.windows(2).all(|p| p[0] <= p[1]) && x.iter().all(|&i| i < 10)));
        assert!(repl.iter().any(|x| x.windows(2).any(|p| p[0] == p[1])), "repeats happen with replacement");
        // The same seed gives the same schedule; another seed another.
        assert_eq!(Batches::new(&train(b, Sampling::Reshuffle, LastBatch::Keep), n, 7).take(8), keep);
        assert_ne!(Batches::new(&train(b, Sampling::Reshuffle, LastBatch::Keep), n, 8).take(8), keep);
    }
}
