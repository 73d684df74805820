//! The quantity vocabulary: one table ([`QUANTITIES`]) of every quantity a theorem file's checks,
//! orderings and tracked tables can name, with what it means, where it is measured, whether it
//! changes with training and how it prints. The loader's allowed names, the per-checkpoint fields,
//! a sweep cell's fields and the report's formatting are all read from it, so adding a quantity is
//! one row here plus its measurement (`docs/methodology.md`, "The quantities").
//!
//! This file is the bottom of `claims`: it imports no other file of the folder.

use crate::results::RunResult;
use crate::train::Checkpoint;

/// How a quantity's full name is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// A field of every checkpoint: `<run>.<name>` (the run's last checkpoint; also the series of
    /// `[track]`) and `init.<name>` (step 0).
    Checkpoint,
    /// `<run>.<name>`: a measurement of a whole run.
    Run,
    /// `predicted.<name>`: a prediction from the setting alone.
    Predicted,
    /// `data.<name>`: a statistic of the drawn training data.
    Data,
    /// `<name>.<a>.<b>`: a pair of runs, in setting order.
    Pair,
    /// `certified.<run or init>.<name>`: proved in exact arithmetic about the final weights.
    Certified,
    /// `certified.<name>.gd.adam`.
    CertifiedPair,
    /// `certificate.<name>`: the convex certificate.
    Certificate,
    /// `certificate.<run>.<name>`.
    CertificateRun,
    /// `precision.<name>`: the precision audit.
    Precision,
    /// `precision.<run>.<name>`.
    PrecisionRun,
    /// `adam.<name>` in a path claim's cell: Adam's stage-I window of the cell.
    StageOne,
}

/// One row of the vocabulary.
pub struct Quantity {
    pub form: Form,
    /// The names after the form's prefix (one, or a family measured together).
    pub names: &'static [&'static str],
    pub meaning: &'static str,
    /// The function that measures it.
    pub measured: &'static str,
    /// Whether it changes with training (a check on it is also evaluated at `W^(0)`); `init.*` of a
    /// checkpoint field never does.
    pub training: bool,
    /// Printed exactly (step counts and flags) rather than to 2 significant digits.
    pub exact: bool,
    /// The field of a checkpoint ([`Form::Checkpoint`] rows).
    pub checkpoint: Option<fn(&Checkpoint) -> f64>,
    /// The value in a sweep cell's run, for a path claim's `<run>.<name>` (the rows a cell carries).
    pub cell: Option<fn(&RunResult) -> f64>,
}

const CHECKPOINT: &str = "train::Experiment (every checkpoint of a run)";
const RUNS: &str = "claims::measure::measure_runs";
const SETTING: &str = "claims::measure::measure_runs (and a path claim's cells) from the setting";

/// A checkpoint field read from a checkpoint and from a sweep cell's run.
const fn field(
    name: &'static [&'static str],
    meaning: &'static str,
    checkpoint: fn(&Checkpoint) -> f64,
    cell: Option<fn(&RunResult) -> f64>,
) -> Quantity {
    Quantity {
        form: Form::Checkpoint,
        names: name,
        meaning,
        measured: CHECKPOINT,
        training: true,
        exact: false,
        checkpoint: Some(checkpoint),
        cell,
    }
}

/// A measurement of a whole run.
const fn run(names: &'static [&'static str], meaning: &'static str, exact: bool) -> Quantity {
    Quantity { form: Form::Run, names, meaning, measured: RUNS, training: true, exact, checkpoint: None, cell: None }
}

/// A quantity that is not a run's or a checkpoint's field.
const fn other(form: Form, names: &'static [&'static str], meaning: &'static str, measured: &'static str) -> Quantity {
    let training = !matches!(form, Form::Predicted | Form::Data | Form::Certificate | Form::CertificateRun);
    Quantity { form, names, meaning, measured, training, exact: false, checkpoint: None, cell: None }
}

/// Every quantity, in the order the load errors list them.
pub static QUANTITIES: &[Quantity] = &[
    field(
        &["train_error"],
        "fraction of training points with y f(W, x) <= 0 (labels as trained on)",
        |c| c.train_error,
        Some(|r| r.train_error),
    ),
    field(
        &["test_error"],
        "fraction of the fresh test points with y f(W, x) <= 0 (clean labels)",
        |c| c.test_error,
        Some(|r| r.test_error),
    ),
    field(&["objective"], "L(W), weight decay included", |c| c.objective, Some(|r| r.objective)),
    field(&["loss"], "the mean logistic loss, without weight decay", |c| c.loss, Some(|r| r.loss)),
    field(&["grad_norm"], "||grad L(W)||_2, weight decay included", |c| c.grad_norm_l2, Some(|r| r.grad_norm_l2)),
    field(&["grad_norm_l1"], "||grad L(W)||_1", |c| c.grad_norm_l1, Some(|r| r.grad_norm_l1)),
    field(&["weight_norm"], "||W||_F", |c| c.weight_norm, Some(|r| r.weight_norm)),
    field(&["feature_max"], "max_{j,r} gamma_{j,r}", |c| c.coefficients.feature_max, Some(|r| r.feature_max)),
    field(&["feature_max_plus"], "max_r gamma_{+1,r}", |c| c.coefficients.feature_max_per_class[0], None),
    field(&["feature_max_minus"], "max_r gamma_{-1,r}", |c| c.coefficients.feature_max_per_class[1], None),
    field(&["noise_min_max"], "min_i max_r rho_{i,r}", |c| c.coefficients.noise_min_max, Some(|r| r.noise_min_max)),
    field(&["noise_max_max"], "max_i max_r rho_{i,r}", |c| c.coefficients.noise_max_max, Some(|r| r.noise_max_max)),
    Quantity { cell: Some(|r| r.steps as f64), ..run(&["steps"], "steps taken", true) },
    run(&["grad_norm_max"], "the largest ||grad L||_2 at the run's checkpoints", false),
    run(&["diverged"], "1 when the run diverged (a non-finite objective, gradient or weight)", true),
    run(&["distance_from_init"], "||W - W^(0)||_F", false),
    Quantity {
        cell: Some(|r| f64::from(u8::from(r.feature_reversal_step.is_some()))),
        ..run(&["reversed"], "1 when max_{j,r} gamma_{j,r} fell below 0 (tested after every step)", true)
    },
    run(&["reversal_step"], "the first step after which max_{j,r} gamma_{j,r} < 0 (missing when never)", true),
    run(
        &["noise_growth_per_step", "feature_growth_per_step", "growth_ratio"],
        "stage-I growth from W^(0) to the last weights per step in units of eta: the mean growth of the \
         initially active rho_{i,r}, the largest growth of |gamma_{j,r}|, and their quotient",
        false,
    ),
    run(
        &["feature_reach_step", "feature_reach_after_step"],
        "with [measure] feature_level: the first checkpoint with feature_max >= level, and the one before",
        true,
    ),
    run(
        &["noise_max_at_reach", "noise_growth_at_reach"],
        "noise_max_max at the feature crossing, and that over init.noise_max_max",
        false,
    ),
    other(
        Form::Predicted,
        &["noise_l1"],
        "s sigma_p sqrt(2/pi) (E ||xi||_1 without coordinate 1; (d - 1) sigma_p sqrt(2/pi) for dense noise)",
        SETTING,
    ),
    other(Form::Predicted, &["noise_init_scale"], "sigma_0 sqrt(s) sigma_p", RUNS),
    other(Form::Data, &["noise_l1_mean"], "the drawn mean ||xi||_1 without coordinate 1", RUNS),
    other(
        Form::Data,
        &["overlapping_pairs"],
        "fraction of training pairs whose noise supports share a coordinate",
        SETTING,
    ),
    other(
        Form::Data,
        &["supports_per_coordinate"],
        "n s / (d - 1): the mean number of supports a coordinate lies in",
        SETTING,
    ),
    other(Form::Pair, &["distance"], "||W_a - W_b||_F", RUNS),
    other(Form::Pair, &["test_error_gap"], "test error of run b minus run a's (at the end)", RUNS),
    other(
        Form::Pair,
        &["convex_radius"],
        "(||grad L(W_a)|| + ||grad L(W_b)||) / lambda: the farthest two such points of a lambda-strongly convex L lie apart",
        RUNS,
    ),
    other(
        Form::Certified,
        &crate::endpoints::CERTIFIED_FIELDS,
        "bounds proved in exact arithmetic about the final binary64 weights (docs/certified-endpoints.md)",
        "endpoints::certified_quantities",
    ),
    other(
        Form::CertifiedPair,
        &["distance_lower"],
        "a certified lower bound on ||W_gd - W_adam||_F",
        "endpoints::certified_quantities",
    ),
    other(
        Form::Certificate,
        &[
            "max_radius",
            "uncertified_predictions",
            "disagreements",
            "inconsistent_runs",
            "minimizer_radius",
            "test_size",
            "runs_not_converged",
            "adamw_distance_lower",
        ],
        "the convex certificate (docs/convex.md): largest certified ||W_k - W*||, test points not certified \
         identical, binary64 prediction differences, runs inconsistent with the high-precision minimizer, that \
         minimizer's radius, test points, runs not stopped on the gradient tolerance, AdamW's certified distance",
        "claims::measure::measure_certificate",
    ),
    other(Form::CertificateRun, &["radius"], "a run's certified ||W - W*||", "claims::measure::measure_certificate"),
    other(
        Form::Precision,
        &["verdicts_agree"],
        "1 when every headline verdict is the same at binary64, double-double and in every one-ulp twin",
        "claims::measure::measure_audit",
    ),
    other(
        Form::PrecisionRun,
        &["verdicts_agree", "final_distance", "max_distance", "twin_test_error_spread", "twin_final_distance"],
        "per optimizer (docs/precision.md): verdicts survive replacing its run; ||W_f64 - W_dd|| / ||W_dd|| at \
         the end and at most; the twins' test-error range and largest relative distance to the binary64 run",
        "claims::measure::measure_audit",
    ),
    other(
        Form::StageOne,
        &["noise_growth_per_step", "feature_growth_per_step", "growth_ratio"],
        "a path cell's stage-I growth of Adam over its first steps (sweep::run::STAGE_ONE_STEPS)",
        "sweep::run::run_cell (runs.adam.stage_one)",
    ),
    other(
        Form::StageOne,
        &["growth_ratio_log_error"],
        "|ln(growth_ratio / predicted.noise_l1)|: the distance of a cell's stage-I ratio from its prediction",
        "claims::path (from runs.adam.stage_one)",
    ),
];

/// Where a path claim's quantities are taken: the first or last cell along the axis, or the
/// smallest or largest value over the seed's cells.
pub const POSITIONS: [&str; 4] = ["first", "last", "min", "max"];

/// The rows of `form`.
/// The statistics over seeds an `[[over_seeds]]` check reads, as `<statistic>.<quantity>` of a
/// per-seed quantity (`claims::seeds::statistics`; `docs/methodology.md`, "Checks over seeds").
pub const STATISTICS: [&str; 6] = ["mean", "sd", "lower95", "upper95", "min", "max"];

/// The per-seed quantity a statistic over seeds is taken of (`mean.gd.test_error` ->
/// `gd.test_error`); any other name unchanged.
pub fn per_seed(name: &str) -> &str {
    match name.split_once('.') {
        Some((stat, rest)) if STATISTICS.contains(&stat) => rest,
        _ => name,
    }
}

/// `Ok` when `name` is `<statistic>.<q>` with `q` a quantity of a training claim with these run
/// names; otherwise the allowed forms.
pub fn known_over_seeds(runs: &[String], name: &str) -> Result<(), String> {
    let form = || format!("{{{}}}.<a per-seed quantity>", STATISTICS.join(","));
    match name.split_once('.') {
        Some((stat, rest)) if STATISTICS.contains(&stat) => {
            known_training(runs, rest).map_err(|allowed| format!("{}, a per-seed quantity being {allowed}", form()))
        }
        _ => Err(form()),
    }
}

fn rows(form: Form) -> impl Iterator<Item = &'static Quantity> {
    QUANTITIES.iter().filter(move |q| q.form == form)
}

/// The names of `form`'s rows, in table order.
pub fn names(form: Form) -> Vec<&'static str> {
    rows(form).flat_map(|q| q.names.iter().copied()).collect()
}

fn has(form: Form, name: &str) -> bool {
    rows(form).any(|q| q.names.contains(&name))
}

/// `(field, value)` of a checkpoint: the per-checkpoint quantities.
pub fn checkpoint_fields(c: &Checkpoint) -> Vec<(&'static str, f64)> {
    rows(Form::Checkpoint).map(|q| (q.names[0], (q.checkpoint.expect("a checkpoint field"))(c))).collect()
}

/// The per-run quantities a sweep cell carries, with their values in `run`.
pub fn cell_fields(run: &RunResult) -> Vec<(&'static str, f64)> {
    QUANTITIES.iter().filter_map(|q| q.cell.map(|f| (q.names[0], f(run)))).collect()
}

/// Whether `run` is one of the runs a quantity name refers to (`adam.test_error`,
/// `distance.gd.adam`).
pub fn refers_to(quantity: &str, run: &str) -> bool {
    quantity.split('.').any(|part| part == run)
}

/// Whether a quantity name is a certified one (`certified.*`: proved in exact arithmetic from the
/// final weights, not a binary64 observation).
pub fn is_certified(quantity: &str) -> bool {
    quantity.starts_with("certified.")
}

/// The row a full name belongs to (`None` for a name not in the table).
fn row_of(name: &str) -> Option<&'static Quantity> {
    let parts: Vec<&str> = name.split('.').collect();
    let find = |form: Form, n: &str| rows(form).find(|q| q.names.contains(&n));
    match parts.as_slice() {
        [pos, rest @ ..] if POSITIONS.contains(pos) && !rest.is_empty() => row_of(&rest.join(".")),
        ["predicted", f] => find(Form::Predicted, f),
        ["data", f] => find(Form::Data, f),
        ["certificate", f] => find(Form::Certificate, f),
        ["certificate", _, f] => find(Form::CertificateRun, f),
        ["precision", f] => find(Form::Precision, f),
        ["precision", _, f] => find(Form::PrecisionRun, f),
        ["certified", f, _, _] => find(Form::CertifiedPair, f),
        ["certified", _, f] => find(Form::Certified, f),
        [f, _, _] => find(Form::Pair, f),
        [_, f] => find(Form::Checkpoint, f).or_else(|| find(Form::Run, f)).or_else(|| find(Form::StageOne, f)),
        _ => None,
    }
}

/// Whether a quantity changes with training (`<run>.*`, `distance.*`, `convex_radius.*`,
/// `certified.*`), as opposed to a property of the setting, the data or the initialization
/// (`predicted.*`, `data.*`, `init.*`) or the convex certificate. A path claim's quantity
/// (`last.<name>`, ...) is judged by its cell quantity `<name>`; a name not in the table counts as
/// a training quantity.
pub fn is_training_quantity(name: &str) -> bool {
    if let Some((pos, rest)) = name.split_once('.')
        && POSITIONS.contains(&pos)
    {
        return is_training_quantity(rest);
    }
    if name.starts_with("init.") {
        return false;
    }
    row_of(name).is_none_or(|q| q.training)
}

/// A quantity's value as printed: step counts and flags exactly, everything else to 2 significant
/// digits.
pub fn fmt_quantity(name: &str, v: f64) -> String {
    let last = name.rsplit('.').next().unwrap_or(name);
    let exact = QUANTITIES.iter().any(|q| q.exact && q.names.contains(&last));
    if exact { format!("{v}") } else { crate::format::sig(v, 2) }
}

/// `Ok` when `name` is a quantity of a training claim with these run names; otherwise the allowed
/// forms, for the load error.
pub fn known_training(runs: &[String], name: &str) -> Result<(), String> {
    let run = |r: &str| runs.iter().any(|x| x == r);
    let ok = match name.split('.').collect::<Vec<_>>().as_slice() {
        ["predicted", f] => has(Form::Predicted, f),
        ["data", f] => has(Form::Data, f),
        ["init", f] => has(Form::Checkpoint, f),
        ["certified", f, a, b] => has(Form::CertifiedPair, f) && (*a, *b) == ("gd", "adam") && run(a) && run(b),
        ["certified", r, f] => (*r == "init" || run(r)) && has(Form::Certified, f),
        [f, a, b] => has(Form::Pair, f) && run(a) && run(b),
        [r, f] => run(r) && (has(Form::Checkpoint, f) || has(Form::Run, f)),
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let fields: Vec<&str> = names(Form::Checkpoint).into_iter().chain(names(Form::Run)).collect();
    Err(format!(
        "<run>.{{{}}} with <run> one of {{{}}}; init.<checkpoint field>; predicted.{{{}}}; data.{{{}}}; {}; \
         certified.<run or init>.{{{}}}; certified.distance_lower.gd.adam",
        fields.join(","),
        runs.join(","),
        names(Form::Predicted).join(","),
        names(Form::Data).join(","),
        names(Form::Pair).iter().map(|p| format!("{p}.<run>.<run>")).collect::<Vec<_>>().join("; "),
        names(Form::Certified).join(",")
    ))
}

/// `Ok` when `name` is a quantity of a convex-certificate claim; otherwise the allowed forms.
pub fn known_certificate(name: &str) -> Result<(), String> {
    let ok = match name.split('.').collect::<Vec<_>>().as_slice() {
        ["certificate", f] => has(Form::Certificate, f),
        ["certificate", run, f] => !run.is_empty() && has(Form::CertificateRun, f),
        _ => false,
    };
    if ok {
        return Ok(());
    }
    Err(format!("certificate.{{{}}}, certificate.<run>.radius", names(Form::Certificate).join(",")))
}

/// `Ok` when `name` is a quantity of a precision claim with these run names; otherwise the
/// allowed forms.
pub fn known_precision(runs: &[String], name: &str) -> Result<(), String> {
    let ok = match name.split('.').collect::<Vec<_>>().as_slice() {
        ["precision", f] => has(Form::Precision, f),
        ["precision", run, f] => runs.iter().any(|r| r == run) && has(Form::PrecisionRun, f),
        _ => false,
    };
    if ok {
        return Ok(());
    }
    Err(format!(
        "precision.{{{}}}, precision.<run>.{{{}}} with <run> one of {{{}}}",
        names(Form::Precision).join(","),
        names(Form::PrecisionRun).join(","),
        runs.join(",")
    ))
}

/// `Ok` when `name` is a quantity of a path claim (`<position>.<cell quantity>`); otherwise the
/// allowed forms.
pub fn known_path(name: &str) -> Result<(), String> {
    match name.split_once('.') {
        Some((pos, rest)) if POSITIONS.contains(&pos) && known_cell_quantity(rest) => Ok(()),
        _ => {
            Err(format!("{{{}}}.<cell quantity>, a cell quantity being {}", POSITIONS.join(","), cell_quantity_forms()))
        }
    }
}

/// The per-cell quantities of the setting and the data (a cell has no other of their forms).
const CELL_SETTING: [&str; 3] = ["predicted.noise_l1", "data.supports_per_coordinate", "data.overlapping_pairs"];

/// Whether `name` is a per-cell quantity (the `[track]` columns of a path claim): a run's field
/// that a cell carries, Adam's stage-I window, or one of the setting's and the data's.
pub fn known_cell_quantity(name: &str) -> bool {
    let cell_run = |f: &str| QUANTITIES.iter().any(|q| q.cell.is_some() && q.names.contains(&f));
    match name.split('.').collect::<Vec<_>>().as_slice() {
        ["adam", f] if has(Form::StageOne, f) => true,
        [_, _] if CELL_SETTING.contains(&name) => true,
        ["predicted" | "data", _] => false,
        [run, f] => crate::setting::OptimizerSetting::default_for(run).is_ok() && cell_run(f),
        _ => false,
    }
}

/// The allowed per-cell quantities, for errors.
pub fn cell_quantity_forms() -> String {
    let fields: Vec<&str> = QUANTITIES.iter().filter(|q| q.cell.is_some()).map(|q| q.names[0]).collect();
    format!(
        "<run>.{{{}}}, adam.{{{}}}, predicted.noise_l1, data.{{supports_per_coordinate,overlapping_pairs}}",
        fields.join(","),
        names(Form::StageOne).join(",")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row has a name, a meaning and a place where it is measured; a name is in one row of
    /// its form; only checkpoint rows read a checkpoint.
    #[test]
    fn the_table_is_well_formed() {
        for q in QUANTITIES {
            assert!(!q.names.is_empty() && !q.meaning.is_empty() && !q.measured.is_empty());
            assert_eq!(q.checkpoint.is_some(), q.form == Form::Checkpoint, "{:?}", q.names);
            assert!(q.cell.is_none() || matches!(q.form, Form::Checkpoint | Form::Run), "{:?}", q.names);
        }
        for form in [Form::Checkpoint, Form::Run, Form::Certificate, Form::StageOne, Form::PrecisionRun] {
            let mut all = names(form);
            let n = all.len();
            all.sort_unstable();
            all.dedup();
            assert_eq!(all.len(), n, "{form:?}");
        }
        assert_eq!(names(Form::Checkpoint).len(), 12);
        assert_eq!(
            ["last.adam.steps", "gd.reversed", "gd.diverged", "adam.reversal_step", "gd.feature_reach_after_step"]
                .map(|n| fmt_quantity(n, 3.0)),
            ["3", "3", "3", "3", "3"]
        );
        assert_eq!(fmt_quantity("gd.test_error", 0.123_456), "0.12");
    }
}
