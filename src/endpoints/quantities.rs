//! The certified quantities by name, for the claims' checks (`theorems/*.toml`).
//!
//! For the initialization (`init`) and every run `<k>` whose weights were certified:
//! `certified.<k>.train_error_lower` / `_upper` (the training error lies in between; `upper == 0`
//! proves training error exactly 0), `certified.<k>.test_error_lower` / `_upper`,
//! `certified.<k>.grad_norm_lower` / `_upper`, `certified.<k>.objective_lower` / `_upper`,
//! `certified.<k>.undecided_margins` (training and test); and `certified.distance_lower.gd.adam`.
//! A run that could not be certified gives its quantities as missing, with the reason.

use super::EndpointReport;

/// The fields of `certified.<point>.<field>`, `<point>` being `init` or a run's name.
pub const CERTIFIED_FIELDS: [&str; 9] = [
    "train_error_lower",
    "train_error_upper",
    "test_error_lower",
    "test_error_upper",
    "grad_norm_lower",
    "grad_norm_upper",
    "objective_lower",
    "objective_upper",
    "undecided_margins",
];
const NAMES: [&str; 9] = CERTIFIED_FIELDS;

/// `(name, value)` pairs.
pub type Named<T> = Vec<(String, T)>;

/// `(quantities, missing)`: every certified quantity of `report` by name, and the names that have
/// no value with the reason (see the module doc).
pub fn certified_quantities(report: &EndpointReport) -> (Named<f64>, Named<String>) {
    let (mut q, mut missing) = (Vec::new(), Vec::new());
    for (name, c) in &report.points {
        match c {
            Ok(c) => {
                let (tr, te) = (c.train.rate_bounds(), c.test.rate_bounds());
                let obj = c.objective.map_or([f64::NAN, f64::NAN], |o| [o.lo, o.hi]);
                let values = [
                    tr[0],
                    tr[1],
                    te[0],
                    te[1],
                    c.grad_norm.lo,
                    c.grad_norm.hi,
                    obj[0],
                    obj[1],
                    (c.train.undecided + c.test.undecided) as f64,
                ];
                q.extend(NAMES.iter().zip(values).map(|(f, v)| (format!("certified.{name}.{f}"), v)));
            }
            Err(why) => {
                missing.extend(NAMES.iter().map(|f| (format!("certified.{name}.{f}"), format!("{name}: {why}"))));
            }
        }
    }
    match &report.distance {
        Some((a, b, d)) => q.push((format!("certified.distance_lower.{a}.{b}"), d.lo)),
        None => missing.push(("certified.distance_lower.gd.adam".into(), "needs finite gd and adam runs".into())),
    }
    (q, missing)
}
