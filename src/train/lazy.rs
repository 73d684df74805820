//! The deferred training run: the rows of `W` that no training patch touches wait, and catch up in
//! bulk where something reads them.
//!
//! A row `k` that no training patch holds (the transposed patches `xt` have no entry there) gets
//! the loss gradient `+0.0` at every step: the backward pass's gather starts from `+0.0` and adds
//! nothing. No loss reads it either, since the forward pass gathers only the rows its patches
//! hold. So the step runs on the *active* rows only (the touched rows, and the feature row the
//! feature-reversal test reads after every step): a copy of the training data with coordinates
//! renumbered in the active rows' order, the model on those rows, and the optimizer on their
//! parameters. Each step's constants go to the untouched rows' [`Deferred`], which replays them
//! with `g_loss = +0.0` through the same element-wise kernels, block by block in cache, wherever
//! the full weights are read: checkpoints, the stop, an exact gradient norm, and every
//! [`MAX_PENDING`] steps. Every value the run computes and records is bit-identical to the eager
//! run's:
//!
//! - the loss, the training errors and the gradient of the active rows: the renumbering keeps
//!   every patch's entries in order and every coordinate's patches in order, so the gathers add the
//!   same products in the same order;
//! - the untouched rows: the same operations on the same values (`optim::deferred`);
//! - the stop decision ([`decide`]): the eager run sums `||grad L||_2^2` exactly only where
//!   its finiteness test fails (no tolerance is set here). The test over the active rows is done at
//!   every step, and where it fails the weights are caught up and the exact sum taken in index
//!   order; the untouched rows' part (`g_loss = 0`, their weights within the bound) is checked at
//!   every replayed step. If an untouched weight ever exceeds the bound, the eager run might have
//!   decided differently, and the caller reruns eagerly.

use super::batches::Batches;
use super::experiment::Experiment;
use super::record::{TrainObserver, TrainPoint, feature_max, finite_bound, grad_norm2, within};
use crate::data::{PatchData, SparseRows};
use crate::model::{Cnn, FEATURE_ROW, LossEval, Weights, Workspace};
use crate::optim::driver::decide;
use crate::optim::{Budget, Deferred, Eval, FirstOrder, LaggedRows, Schedule, StopReason};
use crate::setting::OptimizerSetting;

/// Most steps recorded before the untouched rows catch up (bounds the record of a long run
/// between checkpoints; a catch-up over this many steps costs about as much as the steps).
pub const MAX_PENDING: usize = 1024;

/// Marks an untouched row in [`Active::pos`].
const UNTOUCHED: u32 = u32::MAX;

/// Rows of `W` that no patch of `data` touches.
pub(super) fn untouched_rows(data: &PatchData) -> usize {
    data.xt.ptr.windows(2).filter(|p| p[0] == p[1]).count()
}

/// The training problem on the active rows.
struct Active {
    /// The active rows, increasing: every touched row, and [`FEATURE_ROW`].
    rows: Vec<u32>,
    /// The other rows, increasing.
    untouched: Vec<u32>,
    /// For each row of `W`, its position in `rows`, or [`UNTOUCHED`].
    pos: Vec<u32>,
    /// The training data with coordinate `k` renumbered `pos[k]` (noise vectors left empty: the
    /// loss does not read them).
    data: PatchData,
    /// The model on the active rows.
    model: Cnn,
    /// The position of [`FEATURE_ROW`] in `rows`.
    feature: usize,
}

impl Active {
    fn new(model: &Cnn, data: &PatchData) -> Self {
        let (mut rows, mut untouched, mut pos) = (Vec::new(), Vec::new(), vec![UNTOUCHED; data.d]);
        for (k, p) in data.xt.ptr.windows(2).enumerate() {
            let row = u32::try_from(k).expect("fewer than 2^32 rows");
            if p[0] < p[1] || k == FEATURE_ROW {
                pos[k] = u32::try_from(rows.len()).expect("fewer than 2^32 rows");
                rows.push(row);
            } else {
                untouched.push(row);
            }
        }
        let x = SparseRows {
            ptr: data.x.ptr.clone(),
            idx: data.x.idx.iter().map(|&k| pos[k as usize]).collect(),
            val: data.x.val.clone(),
        };
        let xt = x.transpose(rows.len());
        let noise = SparseRows { ptr: vec![0; data.len() + 1], idx: Vec::new(), val: Vec::new() };
        let d = rows.len();
        let data = PatchData {
            d,
            patches: data.patches,
            y: data.y.clone(),
            clean_y: data.clean_y.clone(),
            x,
            xt,
            noise,
            signal_patch: data.signal_patch.clone(),
        };
        let feature = pos[FEATURE_ROW] as usize;
        Self { rows, untouched, pos, data, model: Cnn { d, ..*model }, feature }
    }

    /// The active rows of `w`, in order.
    fn gather(&self, w: &Weights) -> Vec<f64> {
        self.rows.iter().flat_map(|&k| w.row(k as usize).iter().copied()).collect()
    }

    /// The full loss gradient in index order: `ga`'s rows for the active rows, `+0.0` (the backward
    /// pass's value) for the others; `zero_row` holds `width` zeros.
    fn gradient<'a>(&'a self, ga: &'a [f64], zero_row: &'a [f64]) -> impl Iterator<Item = f64> + 'a {
        let width = zero_row.len();
        self.pos
            .iter()
            .flat_map(move |&p| if p == UNTOUCHED { zero_row.iter() } else { ga[p as usize * width..][..width].iter() })
            .copied()
    }
}

/// A run's state with the untouched rows deferred, stepped by hand: what the deferred training
/// loop steps, and what the benches time (docs/performance.md).
pub struct DeferredSteps {
    active: Active,
    /// The full weights: the untouched rows as far as they have caught up, the active rows as of
    /// the last [`DeferredSteps::weights`].
    w: Weights,
    /// The active rows' weights and loss gradient, in `active.rows` order.
    wa: Vec<f64>,
    ga: Vec<f64>,
    ws: Workspace,
    method: FirstOrder,
    deferred: Deferred,
    lambda: f64,
    /// The finiteness test's bound for the full gradient.
    bound: f64,
    /// Steps taken.
    t: usize,
    /// Whether `w` holds the current weights.
    current: bool,
    /// `2m` zeros: an untouched row's loss gradient.
    zero_row: Vec<f64>,
}

impl DeferredSteps {
    /// `opt` from `init` on the training `data` of `model`.
    pub fn new(model: &Cnn, data: &PatchData, init: &Weights, opt: &OptimizerSetting) -> Self {
        let active = Active::new(model, data);
        let width = init.layout().width();
        let bound = finite_bound(init.as_slice().len(), model.lambda);
        let wa = active.gather(init);
        let deferred = Deferred::new(init.as_slice(), active.untouched.clone(), width, bound);
        Self {
            ga: vec![0.0; wa.len()],
            ws: active.model.workspace(active.data.patches),
            method: FirstOrder::new(opt, Schedule::Constant, wa.len()),
            w: init.clone(),
            wa,
            deferred,
            lambda: model.lambda,
            bound,
            t: 0,
            current: true,
            zero_row: vec![0.0; width],
            active,
        }
    }

    /// The loss and training errors at the current point; the active rows' loss gradient is kept
    /// for the next step.
    pub fn eval(&mut self) -> LossEval {
        self.active.model.loss_grad(&self.wa, &self.active.data, &mut self.ga, &mut self.ws)
    }

    /// The next step from the gradient of the last [`DeferredSteps::eval`]: the active rows move, the
    /// step's constants are recorded for the untouched rows (which catch up at once after
    /// [`MAX_PENDING`] recorded steps).
    pub fn step(&mut self) {
        self.t += 1;
        let mut update = self.method.begin_step(self.t, self.lambda);
        self.deferred.push(update.consts());
        update.par_apply(&mut self.wa, &self.ga);
        self.current = false;
        if self.deferred.pending() >= MAX_PENDING {
            self.deferred.catch_up(self.w.as_mut_slice());
        }
    }

    /// Steps taken.
    pub fn steps(&self) -> usize {
        self.t
    }

    /// The current weights, the untouched rows caught up. `None` if an untouched weight has ever
    /// exceeded the finiteness test's bound (see the module doc).
    pub fn weights(&mut self) -> Option<&Weights> {
        if !self.deferred.catch_up(self.w.as_mut_slice()) {
            return None;
        }
        if !self.current {
            let width = self.zero_row.len();
            for (&k, row) in self.active.rows.iter().zip(self.wa.chunks_exact(width)) {
                self.w.row_mut(k as usize).copy_from_slice(row);
            }
            self.current = true;
        }
        Some(&self.w)
    }

    /// The finiteness test of the eager run over the active rows.
    fn active_within(&self) -> bool {
        within(self.bound, &self.ga) && within(self.bound, &self.wa)
    }

    /// The full loss gradient of the last evaluation, in index order.
    fn gradient(&self) -> impl Iterator<Item = f64> + '_ {
        self.active.gradient(&self.ga, &self.zero_row)
    }

    /// The row [`FEATURE_ROW`] of the current weights.
    fn feature_row(&self) -> &[f64] {
        let width = self.zero_row.len();
        &self.wa[self.active.feature * width..][..width]
    }
}

/// The run of `opt` from `W^(0)` with the untouched rows deferred (see the module doc): its stop,
/// final weights and observer, or `None` where the eager run must decide (a gradient tolerance, a
/// bound that is not finite, an untouched weight beyond the bound).
pub(super) fn run<'a>(
    exp: &'a Experiment,
    opt: &OptimizerSetting,
    progress: &'a (dyn Fn(usize) + Sync),
) -> Option<(StopReason, Weights, TrainObserver<'a>)> {
    let budget = Budget { steps: exp.setting.train.steps, grad_tol: exp.setting.train.grad_tol };
    if budget.grad_tol != 0.0 || !finite_bound(exp.init.as_slice().len(), exp.model.lambda).is_finite() {
        return None;
    }
    let mut s = DeferredSteps::new(&exp.model, &exp.train, &exp.init, opt);
    let mut observer = TrainObserver::new(exp, progress, true);
    loop {
        let t = s.steps();
        let e = s.eval();
        // Where the test fails over the active rows it fails over all, and the eager run sums the
        // whole gradient exactly.
        let grad_norm2 = if s.active_within() {
            None
        } else {
            s.weights()?;
            Some(grad_norm2(s.gradient(), s.w.as_slice(), s.lambda))
        };
        let eval = Eval { loss: e.loss, grad_norm2, extra: e.errors };
        let stop = decide(t, budget, &eval, false, true);
        let records = observer.records(t, stop);
        if records || stop.is_some() {
            s.weights()?;
        }
        if records {
            observer.record(exp.checkpoint(t, &s.w, s.gradient(), eval.loss, eval.extra));
        }
        if let Some(reason) = stop {
            return Some((reason, s.w, observer));
        }
        s.step();
        observer.stepped(t + 1, |layout| feature_max(layout, s.feature_row()));
    }
}

/// A minibatch run's state with the rows its batch does not touch lagging ([`LaggedRows`]),
/// stepped by hand: what the deferred minibatch loop steps, and what the benches time
/// (docs/performance.md).
///
/// At each point the next batch's rows (the rows its samples' patches hold, and [`FEATURE_ROW`])
/// are brought up to date, gathered in increasing order with the batch's patches renumbered
/// to them, and the loss and gradient taken there; the step moves those rows and records its
/// constants for the others. The renumbering keeps every patch's entries and every row's patches
/// in order, so the loss, the errors and the gradient rows are the eager minibatch pass's bit for
/// bit, and the lagging rows receive the eager run's updates with `g_loss = +0.0`.
pub struct LaggedSteps<'a> {
    model: Cnn,
    data: &'a PatchData,
    batches: Batches,
    /// The full weights, every row at its own step.
    w: Weights,
    lagged: LaggedRows,
    /// The current batch's rows, increasing.
    rows: Vec<u32>,
    /// For each row of `W`, its position in `rows`, or [`UNTOUCHED`].
    pos: Vec<u32>,
    /// The batch with its coordinates renumbered to `rows`.
    sub: PatchData,
    wa: Vec<f64>,
    ga: Vec<f64>,
    ws: Workspace,
    method: FirstOrder,
    lambda: f64,
    bound: f64,
    t: usize,
    zero_row: Vec<f64>,
}

impl<'a> LaggedSteps<'a> {
    /// `opt` from `init` on the training `data` of `model`, on the batches `batches`.
    pub fn new(model: &Cnn, data: &'a PatchData, init: &Weights, opt: &OptimizerSetting, batches: Batches) -> Self {
        let width = init.layout().width();
        let bound = finite_bound(init.as_slice().len(), model.lambda);
        Self {
            model: *model,
            data,
            batches,
            w: init.clone(),
            lagged: LaggedRows::new(init.as_slice(), width, bound),
            rows: Vec::new(),
            pos: vec![UNTOUCHED; data.d],
            sub: PatchData::empty(),
            wa: Vec::new(),
            ga: Vec::new(),
            ws: model.workspace(data.patches),
            // Only the step's constants are taken from it: the state lives in `lagged`.
            method: FirstOrder::new(opt, Schedule::Constant, 0),
            lambda: model.lambda,
            bound,
            t: 0,
            zero_row: vec![0.0; width],
        }
    }

    /// Draws the next step's batch, brings its rows up to date, and returns the batch's mean loss
    /// and errors at the current point; the rows' loss gradient is kept for the next step.
    pub fn eval(&mut self) -> LossEval {
        for &k in &self.rows {
            self.pos[k as usize] = UNTOUCHED;
        }
        let batch = self.batches.next_batch();
        let data = self.data;
        self.rows.clear();
        self.rows.push(FEATURE_ROW as u32);
        for &i in batch {
            for p in 0..data.patches {
                self.rows.extend_from_slice(data.x.row(i as usize * data.patches + p).0);
            }
        }
        self.rows.sort_unstable();
        self.rows.dedup();
        for (j, &k) in self.rows.iter().enumerate() {
            self.pos[k as usize] = j as u32;
        }
        let pos = &self.pos;
        data.select_mapped_into(batch, &mut self.sub, self.rows.len(), |k| pos[k as usize]);
        self.lagged.bring(self.w.as_mut_slice(), &self.rows);
        self.wa.clear();
        for &k in &self.rows {
            self.wa.extend_from_slice(self.w.row(k as usize));
        }
        self.ga.resize(self.wa.len(), 0.0);
        let model = Cnn { d: self.rows.len(), ..self.model };
        model.loss_grad(&self.wa, &self.sub, &mut self.ga, &mut self.ws)
    }

    /// The next step from the gradient of the last [`LaggedSteps::eval`]: the batch's rows move,
    /// the others lag (and catch up at once after [`MAX_PENDING`] recorded steps).
    pub fn step(&mut self) {
        self.t += 1;
        let consts = self.method.begin_step(self.t, self.lambda).consts();
        self.lagged.step(self.w.as_mut_slice(), &self.rows, &self.ga, consts);
        if self.lagged.pending() >= MAX_PENDING {
            self.lagged.catch_up(self.w.as_mut_slice());
        }
    }

    /// Steps taken.
    pub fn steps(&self) -> usize {
        self.t
    }

    /// The current weights, every row brought up to date. `None` if a lagging weight has ever
    /// exceeded the finiteness test's bound (see the module doc).
    pub fn weights(&mut self) -> Option<&Weights> {
        self.lagged.catch_up(self.w.as_mut_slice()).then_some(&self.w)
    }

    /// The finiteness test of the eager minibatch run over the batch's rows.
    fn active_within(&self) -> bool {
        within(self.bound, &self.ga) && within(self.bound, &self.wa)
    }

    /// The batch's full loss gradient of the last evaluation, in index order.
    fn gradient(&self) -> impl Iterator<Item = f64> + '_ {
        let width = self.zero_row.len();
        self.pos
            .iter()
            .flat_map(
                move |&p| {
                    if p == UNTOUCHED { self.zero_row.iter() } else { self.ga[p as usize * width..][..width].iter() }
                },
            )
            .copied()
    }
}

/// The minibatch run of `opt` from `W^(0)` with the rows each batch does not touch lagging (see
/// [`LaggedSteps`]): its stop, final weights and observer, bit-identical to the eager minibatch
/// run (`Experiment::run_minibatch`), or `None` where that cannot be shown (a bound that is not
/// finite, a lagging weight beyond it).
pub(super) fn run_batches<'a>(
    exp: &'a Experiment,
    opt: &OptimizerSetting,
    progress: &'a (dyn Fn(usize) + Sync),
) -> Option<(StopReason, Weights, TrainObserver<'a>)> {
    let budget = Budget { steps: exp.setting.train.steps, grad_tol: exp.setting.train.grad_tol };
    if budget.grad_tol != 0.0 || !finite_bound(exp.init.as_slice().len(), exp.model.lambda).is_finite() {
        return None;
    }
    let batches = Batches::new(&exp.setting.train, exp.train.len(), exp.setting.seed);
    let mut s = LaggedSteps::new(&exp.model, &exp.train, &exp.init, opt, batches);
    let mut observer = TrainObserver::new(exp, progress, false);
    loop {
        let t = s.steps();
        let e = s.eval();
        let grad_norm2 = if s.active_within() {
            None
        } else {
            s.weights()?;
            Some(grad_norm2(s.gradient(), s.w.as_slice(), s.lambda))
        };
        let eval = Eval { loss: e.loss, grad_norm2, extra: e.errors };
        let stop = decide(t, budget, &eval, false, true);
        let records = observer.records(t, stop);
        if records || stop.is_some() {
            s.weights()?;
        }
        if records {
            observer.record(s.w.checkpoint_full_batch(exp, t));
        }
        if let Some(reason) = stop {
            return Some((reason, s.w, observer));
        }
        s.step();
        observer.stepped(t + 1, |layout| feature_max(layout, s.w.feature_row()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setting::Setting;

    /// The renumbered problem gives the full problem's loss, errors and active gradient rows bit for
    /// bit, and the full backward pass gives `+0.0` (not `-0.0`) in every untouched row.
    #[test]
    fn the_active_rows_carry_the_whole_loss_and_gradient() {
        let mut st = Setting::default();
        (st.data.d, st.data.n, st.data.s, st.model.m) = (2_000, 20, 30, 3);
        let exp = Experiment::new(&st).expect("a valid setting");
        let active = Active::new(&exp.model, &exp.train);
        assert!(active.untouched.len() > 1_000 && active.rows.len() + active.untouched.len() == 2_000);
        assert_eq!(untouched_rows(&exp.train), active.untouched.len());
        let w = Weights::init(2_000, 3, 0.5, 9);
        let mut g = vec![1.0; w.as_slice().len()];
        let full = exp.model.loss_grad(w.as_slice(), &exp.train, &mut g, &mut exp.model.workspace(exp.train.patches));
        let wa = active.gather(&w);
        let mut ga = vec![1.0; wa.len()];
        let part = active.model.loss_grad(&wa, &active.data, &mut ga, &mut active.model.workspace(active.data.patches));
        assert_eq!((full.loss.to_bits(), full.errors), (part.loss.to_bits(), part.errors));
        let zero_row = vec![0.0; 6];
        let bits = |x: f64| x.to_bits();
        assert!(active.gradient(&ga, &zero_row).map(bits).eq(g.iter().copied().map(bits)));
        for &k in &active.untouched {
            assert!(g[k as usize * 6..][..6].iter().all(|x| x.to_bits() == 0), "row {k}");
        }
    }
}
