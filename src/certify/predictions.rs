//! Test predictions of the convex comparison. For test point `t`, with `u_c` the binary64 center
//! (radius `r_c` in `u` space): `rho_t = |<u_c, x_t>| / ||x_t|| - r_c` bounds `|<u*, x_t>| / ||x_t||`
//! from below, and a run whose `u` is within `R_a` of `u*` predicts `sign(<u*, x_t>)` wherever
//! `R_a < rho_t` (`docs/convex.md`).

use super::enclosure;
use super::problem::ConvexProblem;
use crate::exact::{Dyadic, Round};
use crate::model::misclassified;

/// The certified margins of the test points and the signs of `W*`'s predictions.
pub struct Predictions<'a> {
    problem: &'a ConvexProblem,
    /// `rho_t` (`-inf` where nothing is certified).
    rho: Vec<f64>,
    /// `sign(<u_c, x_t>)`: that of `<u*, x_t>` wherever `rho_t > 0`.
    star_sign: Vec<f64>,
}

impl<'a> Predictions<'a> {
    /// For every test point: a rigorous lower bound `rho_t` of `|<u*, x_t>| / ||x_t||` (from the
    /// binary64 center `u_c` with `||u_c - u*|| <= r_c`: `rho_t = |<u_c, x_t>| / ||x_t|| - r_c`,
    /// with the dot product exact and every later binary64 operation widened by one ulp in the
    /// safe direction), and the sign of `<u_c, x_t>`. Parallel over test points on the current pool.
    pub fn new(problem: &'a ConvexProblem, center: &[Dyadic], r_c_up: f64) -> Self {
        let test_n = problem.test_y.len();
        let one = |t: usize| -> (f64, f64) {
            let dot = enclosure::exact_dot(&problem.test_x, t, center);
            let (_, val) = problem.test_x.row(t);
            let mut nsq = Dyadic::zero();
            for &v in val {
                nsq.add_assign(&enclosure::dy(v).square());
            }
            let sign = if dot.is_zero() {
                0.0
            } else if dot.is_negative() {
                -1.0
            } else {
                1.0
            };
            let num = dot.abs().to_f64_dir(Round::Down);
            let nx = nsq.to_f64_dir(Round::Up).sqrt().next_up();
            let q = (num / nx).next_down();
            let rho = (q - r_c_up).next_down();
            (if rho.is_finite() && nx.is_finite() && nx > 0.0 { rho } else { f64::NEG_INFINITY }, sign)
        };
        let (rho, star_sign) = crate::parallel::map_indexed(test_n, one).into_iter().unzip();
        Self { problem, rho, star_sign }
    }

    /// Number of test points.
    pub fn len(&self) -> usize {
        self.rho.len()
    }

    /// Whether there are no test points.
    pub fn is_empty(&self) -> bool {
        self.rho.is_empty()
    }

    /// Test points whose prediction is certified for every `u` within `r_u` of `u*`.
    pub fn certified(&self, r_u: f64) -> usize {
        self.rho.iter().filter(|&&r| r > r_u).count()
    }

    /// Test error of the binary64 outputs at `u` (clean labels; a zero or non-finite output counts as
    /// an error).
    pub fn test_error(&self, u: &[f64]) -> f64 {
        let p = self.problem;
        let errors = (0..self.len()).filter(|&t| misclassified(p.test_output_f64(u, t) * p.test_y[t])).count();
        errors as f64 / self.len() as f64
    }

    /// Test points where `u`'s binary64 prediction differs from the certified prediction of `W*`.
    pub fn differences(&self, u: &[f64]) -> usize {
        let p = self.problem;
        (0..self.len())
            .filter(|&t| self.rho[t] > 0.0 && misclassified(p.test_output_f64(u, t) * self.star_sign[t]))
            .count()
    }

    /// Test points certified for radius `r_u` where one of `us` predicts differently from `W*` in
    /// binary64 (0 unless a certificate is wrong: a check of the whole chain).
    pub fn disagreements(&self, us: &[Vec<f64>], r_u: f64) -> usize {
        let p = self.problem;
        (0..self.len())
            .filter(|&t| {
                self.rho[t] > r_u && us.iter().any(|u| misclassified(p.test_output_f64(u, t) * self.star_sign[t]))
            })
            .count()
    }

    /// Test error of `W*` (certified signs; uncertified points counted with binary64 signs).
    pub fn minimizer_test_error(&self) -> f64 {
        let p = self.problem;
        (0..self.len()).filter(|&t| misclassified(self.star_sign[t] * p.test_y[t])).count() as f64 / self.len() as f64
    }
}
