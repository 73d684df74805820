//! Deferred updates: parameters whose loss gradient is exactly `+0.0` at every step (the rows of `W`
//! that no training patch touches) advance by their own element-wise recurrence (weight decay
//! only), which no loss reads. [`Deferred`] holds their optimizer state and the constants of every
//! step not yet applied to them ([`StepConsts`], taken from the step's [`Update`]), and replays the
//! pending steps when something reads them ([`Deferred::catch_up`]): block by block, every pending
//! step on a block while it sits in cache, through the same element-wise kernels with
//! `g_loss = +0.0`. Every element receives the operations of the eager run in the same order, so
//! the result is bit-identical to updating these parameters at every step (docs/performance.md).

use rayon::prelude::*;

use super::{AdamConsts, Update};

/// Parameters per block of [`Deferred::catch_up`] (at least one row): the block's weights, its
/// state and the zero gradient stay in L1 while every pending step runs over them.
pub const PARAMS_PER_BLOCK: usize = 512;

/// The constants of one step's element-wise update: an [`Update`] without its per-parameter state.
#[derive(Clone, Copy, Debug)]
pub enum StepConsts {
    Gd { eta: f64, lambda: f64 },
    Adam(AdamConsts),
    SignGd { eta: f64, lambda: f64 },
    Momentum { eta: f64, beta: f64, lambda: f64 },
    Adaptive { keep: f64, add: f64, eta: f64, eps: f64, lambda: f64 },
}

impl StepConsts {
    /// Per-parameter state arrays the update reads and writes: Adam's `m` and `v`, momentum's `u`,
    /// RMSProp's and AdaGrad's `v`; none for GD and sign GD.
    pub fn state_arrays(&self) -> usize {
        match self {
            Self::Adam(_) => 2,
            Self::Momentum { .. } | Self::Adaptive { .. } => 1,
            Self::Gd { .. } | Self::SignGd { .. } => 0,
        }
    }

    /// The update with these constants on the state `a` (and `b`, Adam's `v`) of `dim` parameters.
    fn with_state<'a>(self, a: &'a mut [f64], b: &'a mut [f64], dim: usize) -> Update<'a> {
        match self {
            Self::Gd { eta, lambda } => Update::Gd { eta, lambda, dim },
            Self::Adam(p) => Update::Adam { p, m: a, v: b },
            Self::SignGd { eta, lambda } => Update::SignGd { eta, lambda, dim },
            Self::Momentum { eta, beta, lambda } => Update::Momentum { eta, beta, lambda, u: a },
            Self::Adaptive { keep, add, eta, eps, lambda } => Update::Adaptive { keep, add, eta, eps, lambda, v: a },
        }
    }
}

impl Update<'_> {
    /// This step's constants, without the state.
    pub fn consts(&self) -> StepConsts {
        match *self {
            Self::Gd { eta, lambda, .. } => StepConsts::Gd { eta, lambda },
            Self::Adam { p, .. } => StepConsts::Adam(p),
            Self::SignGd { eta, lambda, .. } => StepConsts::SignGd { eta, lambda },
            Self::Momentum { eta, beta, lambda, .. } => StepConsts::Momentum { eta, beta, lambda },
            Self::Adaptive { keep, add, eta, eps, lambda, .. } => StepConsts::Adaptive { keep, add, eta, eps, lambda },
        }
    }
}

/// The rows of a `rows x width` row-major parameter matrix whose updates are deferred, with their
/// optimizer state (from zero, as a fresh optimizer's) and the steps not yet applied to them.
///
/// Besides the values, [`Deferred::catch_up`] reports whether every value of the deferred rows, at
/// every point so far (the initial values included), was at most `bound` in absolute value (`false`
/// for a NaN): the training loop's finiteness test (`train`) needs it at every point.
#[derive(Clone, Debug)]
pub struct Deferred {
    rows: Vec<u32>,
    width: usize,
    bound: f64,
    /// Up to two state arrays, `rows.len() * width` each, allocated at the first step.
    state: [Vec<f64>; 2],
    pending: Vec<StepConsts>,
    within: bool,
}

impl Deferred {
    /// Defers `rows` (increasing) of the parameters `w` (`width` per row), whose current values are
    /// their starting point.
    pub fn new(w: &[f64], rows: Vec<u32>, width: usize, bound: f64) -> Self {
        assert!(rows.windows(2).all(|p| p[0] < p[1]), "deferred rows in increasing order");
        assert!(rows.last().is_none_or(|&k| (k as usize + 1) * width <= w.len()), "deferred rows inside the weights");
        let within = rows.iter().all(|&k| within(bound, &w[k as usize * width..][..width]));
        Self { rows, width, bound, state: [Vec::new(), Vec::new()], pending: Vec::new(), within }
    }

    /// Steps not yet applied to the deferred rows.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Records a step the other parameters just made (its constants, [`Update::consts`]).
    pub fn push(&mut self, step: StepConsts) {
        if let Some(first) = self.pending.first() {
            assert_eq!(first.state_arrays(), step.state_arrays(), "steps of one optimizer");
        }
        let len = self.rows.len() * self.width;
        for s in &mut self.state[..step.state_arrays()] {
            if s.len() != len {
                s.resize(len, 0.0);
            }
        }
        self.pending.push(step);
    }

    /// Applies every pending step to the deferred rows of `w` (the whole `rows x width` matrix),
    /// with the loss gradient `+0.0`, in order. In parallel over blocks of about
    /// 512 parameters (`PARAMS_PER_BLOCK`); a block runs all pending steps while it sits in cache,
    /// through the AVX copy of the kernels when the CPU has AVX. Every element receives the
    /// operations of the eager steps in the same order, so the values are bit-identical to them,
    /// whatever the number of threads. Returns whether every value so far was within the bound
    /// (see the type's doc).
    pub fn catch_up(&mut self, w: &mut [f64]) -> bool {
        if self.pending.is_empty() || self.rows.is_empty() {
            self.pending.clear();
            return self.within;
        }
        let width = self.width;
        let per_block = (PARAMS_PER_BLOCK / width).max(1);
        let zeros = vec![0.0; per_block * width];
        let (steps, bound) = (&self.pending[..], self.bound);
        // Disjoint pieces of `w` and of the state, one per block of deferred rows.
        let mut tasks = Vec::with_capacity(self.rows.len().div_ceil(per_block));
        let (mut rest, mut rest_start) = (w, 0usize);
        let [a, b] = &mut self.state;
        let (mut a, mut b) = (a.as_mut_slice(), b.as_mut_slice());
        for block in self.rows.chunks(per_block) {
            let (first, last) = (block[0] as usize, block[block.len() - 1] as usize);
            let (_, tail) = std::mem::take(&mut rest).split_at_mut((first - rest_start) * width);
            let (region, tail) = tail.split_at_mut((last + 1 - first) * width);
            (rest, rest_start) = (tail, last + 1);
            let len = block.len() * width;
            tasks.push((block, first, region, split_off(&mut a, len), split_off(&mut b, len)));
        }
        let ok = tasks
            .into_par_iter()
            .map(|(block, first, region, a, b)| {
                let mut ok = true;
                dispatch!(ok = replay_block(steps, bound, width, block, first, region, a, b, &zeros));
                ok
            })
            .reduce(|| true, |x, y| x & y);
        self.pending.clear();
        self.within &= ok;
        self.within
    }
}

/// The first `len` values of `s` (all of them if fewer), leaving the rest in `s`.
fn split_off<'a>(s: &mut &'a mut [f64], len: usize) -> &'a mut [f64] {
    let all = std::mem::take(s);
    let (head, tail) = all.split_at_mut(len.min(all.len()));
    *s = tail;
    head
}

/// Every value of `x` is at most `b` in absolute value (`false` for a NaN).
#[inline(always)]
fn within(b: f64, x: &[f64]) -> bool {
    x.iter().fold(true, |ok, x| ok & (x.abs() <= b))
}

/// Replays `steps` on the rows `block` of `region` (which starts at row `first`), with state `a`,
/// `b` of those rows: gathers the rows into a buffer, runs every step on it, tests the bound after
/// each, writes the rows back. Inlined into the AVX copy `dispatch!` makes.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn replay_block(
    steps: &[StepConsts],
    bound: f64,
    width: usize,
    block: &[u32],
    first: usize,
    region: &mut [f64],
    a: &mut [f64],
    b: &mut [f64],
    zeros: &[f64],
) -> bool {
    let len = block.len() * width;
    let mut buf = Vec::with_capacity(len);
    for &k in block {
        buf.extend_from_slice(&region[(k as usize - first) * width..][..width]);
    }
    let zeros = &zeros[..len];
    let mut ok = true;
    for &step in steps {
        step.with_state(a, b, len).apply(&mut buf, zeros);
        ok &= within(bound, &buf);
    }
    for (&k, row) in block.iter().zip(buf.chunks_exact(width)) {
        region[(k as usize - first) * width..][..width].copy_from_slice(row);
    }
    ok
}

/// Every row of a `rows x width` row-major parameter matrix, each at its own step: a row that a
/// step does not touch (its loss gradient is `+0.0` at that step) lags, and is brought up to date,
/// by the steps it missed with `g_loss = +0.0`, just before a step reads or moves it
/// ([`LaggedRows::bring`]) or wherever the whole matrix is read ([`LaggedRows::catch_up`]). The
/// optimizer state of every row lives here (from zero, as a fresh optimizer's). Every element
/// receives the operations of the eager steps in the same order, so the values are bit-identical
/// to updating every row at every step (the deferred minibatch run, `train/lazy.rs`).
///
/// As [`Deferred::catch_up`], [`LaggedRows::within`] reports whether every value of a row brought
/// up to date by replayed steps, at every such step (and every initial value), was at most the
/// bound in absolute value.
#[derive(Clone, Debug)]
pub struct LaggedRows {
    width: usize,
    bound: f64,
    /// Up to two state arrays of the whole matrix, allocated at the first step.
    state: [Vec<f64>; 2],
    /// Steps applied to each row.
    done: Vec<usize>,
    /// The constants of steps `base + 1 ..= base + log.len()`.
    log: Vec<StepConsts>,
    base: usize,
    within: bool,
    /// `width` zeros: a lagging row's loss gradient.
    zeros: Vec<f64>,
}

impl LaggedRows {
    /// Every row of `w` (`width` per row) at step 0.
    pub fn new(w: &[f64], width: usize, bound: f64) -> Self {
        assert!(width > 0 && w.len().is_multiple_of(width), "whole rows");
        let within = within(bound, w);
        Self {
            width,
            bound,
            state: [Vec::new(), Vec::new()],
            done: vec![0; w.len() / width],
            log: Vec::new(),
            base: 0,
            within,
            zeros: vec![0.0; width],
        }
    }

    /// Steps recorded since the last [`LaggedRows::catch_up`].
    pub fn pending(&self) -> usize {
        self.log.len()
    }

    /// Whether every replayed value so far was within the bound (see the type's doc).
    pub fn within(&self) -> bool {
        self.within
    }

    /// Brings `rows` (increasing) of `w` up to the last recorded step.
    pub fn bring(&mut self, w: &mut [f64], rows: &[u32]) {
        let mut ok = true;
        dispatch!(ok = self.bring_rows(w, rows));
        self.within &= ok;
    }

    /// [`LaggedRows::bring`], inlined into the AVX copy `dispatch!` makes.
    #[inline(always)]
    fn bring_rows(&mut self, w: &mut [f64], rows: &[u32]) -> bool {
        let Self { width, bound, state, done, log, base, zeros, .. } = self;
        let (width, bound, now) = (*width, *bound, *base + log.len());
        let mut ok = true;
        for &k in rows {
            let k = k as usize;
            if done[k] == now {
                continue;
            }
            let row = &mut w[k * width..][..width];
            let [a, b] = state;
            let (a, b) = (slice_row(a, k, width), slice_row(b, k, width));
            for &step in &log[done[k] - *base..] {
                step.with_state(a, b, width).apply(row, zeros);
                ok &= within(bound, row);
            }
            done[k] = now;
        }
        ok
    }

    /// Records step `consts` and applies it to `rows` (increasing, brought up to date before)
    /// with their loss gradient `g_rows` (`width` per row, in the order of `rows`); the other
    /// rows lag by one more step.
    pub fn step(&mut self, w: &mut [f64], rows: &[u32], g_rows: &[f64], consts: StepConsts) {
        assert_eq!(g_rows.len(), rows.len() * self.width, "a gradient row per row");
        if let Some(first) = self.log.first() {
            assert_eq!(first.state_arrays(), consts.state_arrays(), "steps of one optimizer");
        }
        let len = self.done.len() * self.width;
        for s in &mut self.state[..consts.state_arrays()] {
            if s.len() != len {
                s.resize(len, 0.0);
            }
        }
        let now = self.base + self.log.len();
        self.log.push(consts);
        dispatch!(self.step_rows(w, rows, g_rows, consts, now));
    }

    /// [`LaggedRows::step`]'s updates, inlined into the AVX copy `dispatch!` makes.
    #[inline(always)]
    fn step_rows(&mut self, w: &mut [f64], rows: &[u32], g_rows: &[f64], consts: StepConsts, now: usize) {
        let width = self.width;
        for (&k, g) in rows.iter().zip(g_rows.chunks_exact(width)) {
            let k = k as usize;
            assert_eq!(self.done[k], now, "row {k} brought up to date before its step");
            let [a, b] = &mut self.state;
            let (a, b) = (slice_row(a, k, width), slice_row(b, k, width));
            consts.with_state(a, b, width).apply(&mut w[k * width..][..width], g);
            self.done[k] = now + 1;
        }
    }

    /// Brings every row of `w` up to date and clears the record; returns [`LaggedRows::within`].
    pub fn catch_up(&mut self, w: &mut [f64]) -> bool {
        let now = self.base + self.log.len();
        let behind: Vec<u32> = (0..self.done.len()).filter(|&k| self.done[k] < now).map(|k| k as u32).collect();
        self.bring(w, &behind);
        self.base = now;
        self.log.clear();
        self.within
    }
}

/// Row `k` (`width` values) of a state array, or an empty slice where the optimizer has none.
fn slice_row(s: &mut [f64], k: usize, width: usize) -> &mut [f64] {
    if s.is_empty() { &mut [] } else { &mut s[k * width..][..width] }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::build;
    use crate::setting::{Decay, OptimizerSetting};

    fn settings() -> Vec<OptimizerSetting> {
        vec![
            OptimizerSetting::Gd { eta: 0.3 },
            OptimizerSetting::Adam { eta: 1e-2, b1: 0.9, b2: 0.999, eps: 1e-8, bias_correction: true },
            OptimizerSetting::AdamW { eta: 1e-2, b1: 0.9, b2: 0.99, eps: 1e-8, bias_correction: true },
            OptimizerSetting::Adam { eta: 1e-2, b1: 0.9, b2: 0.999, eps: 0.0, bias_correction: false },
            OptimizerSetting::SignGd { eta: 1e-2, decay: Decay::InvSqrt },
            OptimizerSetting::Momentum { eta: 0.1, beta: 0.9 },
            OptimizerSetting::RmsProp { eta: 1e-2, beta: 0.9, eps: 1e-8 },
            OptimizerSetting::AdaGrad { eta: 1e-1, eps: 1e-8 },
        ]
    }

    /// Rows 1, 2, 4, 5, 6 and 9 of a 10 x 3 matrix take a zero loss gradient; the others a varying
    /// one. Updating everything eagerly, and updating the other rows while the zero rows wait
    /// (caught up after irregular numbers of steps, in blocks of one row and partial blocks at
    /// `width = 3`), give the same bits for every optimizer.
    #[test]
    fn deferred_rows_match_the_eager_updates_bit_for_bit() {
        let (rows, width, lambda) = (10usize, 3usize, 0.05);
        let zero_rows = [1u32, 2, 4, 5, 6, 9];
        let active: Vec<usize> = (0..rows).filter(|k| !zero_rows.contains(&(*k as u32))).collect();
        let w0: Vec<f64> = (0..rows * width).map(|i| ((i * 37 % 11) as f64 - 5.0) * 0.1).collect();
        for setting in settings() {
            let mut eager = w0.clone();
            let mut opt = build(&setting, eager.len());
            let mut lazy = w0.clone();
            let mut wa: Vec<f64> = active.iter().flat_map(|&k| w0[k * width..][..width].to_vec()).collect();
            let mut opt_a = build(&setting, wa.len());
            let mut deferred = Deferred::new(&lazy, zero_rows.to_vec(), width, 1e10);
            for t in 1..=40usize {
                let grad = |k: usize, c: usize| ((k * width + c) * t % 7) as f64 * 0.05 - 0.15;
                let g: Vec<f64> = (0..rows * width)
                    .map(|i| if active.contains(&(i / width)) { grad(i / width, i % width) } else { 0.0 })
                    .collect();
                opt.step(&mut eager, &g, lambda);
                let ga: Vec<f64> = active.iter().flat_map(|&k| (0..width).map(move |c| grad(k, c))).collect();
                let mut update = opt_a.begin_step(lambda);
                deferred.push(update.consts());
                update.par_apply(&mut wa, &ga);
                assert_eq!(deferred.pending(), t - 7 * ((t - 1) / 7), "steps since the last catch-up");
                if t % 7 == 0 || t == 40 {
                    assert!(deferred.catch_up(&mut lazy));
                    assert_eq!(deferred.pending(), 0);
                    for (j, &k) in active.iter().enumerate() {
                        lazy[k * width..][..width].copy_from_slice(&wa[j * width..][..width]);
                    }
                    let same = eager.iter().zip(&lazy).all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "{} at step {t}", setting.key());
                }
            }
        }
    }

    /// The bound: values above it (or NaN), initially or after a replayed step, are reported.
    #[test]
    fn catch_up_reports_values_beyond_the_bound() {
        let w = vec![1.0, 2.0, 3.0, 4.0];
        let mut d = Deferred::new(&w, vec![0, 1], 2, 3.5);
        assert!(!d.catch_up(&mut w.clone()), "4.0 > 3.5 at the start");
        let mut w = vec![1.0, 2.0, 3.0, 3.5];
        let mut d = Deferred::new(&w, vec![0, 1], 2, 3.5);
        assert!(d.catch_up(&mut w));
        // GD on a zero loss gradient with negative decay grows the weights: 3.5 (1 + 0.5) > 3.5.
        d.push(StepConsts::Gd { eta: 1.0, lambda: -0.5 });
        assert!(!d.catch_up(&mut w));
        assert_eq!(w, [1.5, 3.0, 4.5, 5.25]);
        assert!(!d.catch_up(&mut w), "once beyond, always reported");
    }
}
