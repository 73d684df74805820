//! The high-precision minimizer: Newton's method in binary64, then iterative refinement with the
//! gradient evaluated exactly.
//!
//! 1. Damped Newton in binary64 from `u = 0` (backtracking on `L`) to about 15 digits, through
//!    the crate's one optimization loop ([`Newton`], [`crate::optim::minimize`]).
//! 2. Refinement: `u_{k+1} = u_k - H^{-1} g(u_k)`, `u_k` a dyadic vector at working precision,
//!    `g(u_k)` the midpoint of the exact enclosure ([`gradient_enclosure`]) converted to binary64,
//!    and `H^{-1}` applied in binary64 (Hessian at `fl(u_k)`). The contraction factor per step is
//!    about `||I - H_f64^{-1} H||`, near `kappa 2^-52`, so each step gains about 13 digits; the
//!    iteration stops as soon as the certified radius `||grad L(u_k)|| / lambda_u` is below
//!    `10^-digits`, or reports that it did not get there.
//!
//! Structure: when `n < d` (the paper's data: `n = 200`, `d = 1000`) the Hessian
//! `lambda_u I + A^T A` (`A = diag(sqrt(c^2 l''_i / n)) X`) is inverted through the `n x n` matrix
//! `K = lambda_u I + A A^T` (Woodbury: `H^{-1} g = (g - A^T K^{-1} A g) / lambda_u`); otherwise
//! the `d x d` Hessian is factored directly. Both by a hand-written Cholesky.

use ndarray::Array2;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Pow};

use super::enclosure::{Certificate, gradient_enclosure, lambda_u, norm_sq_u};
use super::problem::LogisticProblem;
use crate::error::{Error, Result};
use crate::exact::{Dyadic, Round};
use crate::optim::{Budget, Eval, Method, Objective, StopReason, minimize};

/// In-place Cholesky `A = L L^T` of a symmetric positive definite matrix (lower triangle used and
/// overwritten by `L`); errors if a pivot is not positive.
#[allow(clippy::needless_range_loop)]
pub fn cholesky(a: &mut Array2<f64>) -> Result<()> {
    let n = a.nrows();
    for j in 0..n {
        let mut s = a[[j, j]];
        for k in 0..j {
            s -= a[[j, k]] * a[[j, k]];
        }
        if s.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) || !s.is_finite() {
            return Err(Error::Numerical(format!("Hessian not positive definite in binary64 (pivot {j}: {s})")));
        }
        let l = s.sqrt();
        a[[j, j]] = l;
        for i in j + 1..n {
            let mut t = a[[i, j]];
            for k in 0..j {
                t -= a[[i, k]] * a[[j, k]];
            }
            a[[i, j]] = t / l;
        }
    }
    Ok(())
}

/// Solves `L L^T x = b` with the factor from [`cholesky`].
pub fn cholesky_solve(l: &Array2<f64>, b: &[f64]) -> Vec<f64> {
    let n = l.nrows();
    let mut y = b.to_vec();
    for i in 0..n {
        let mut t = y[i];
        for k in 0..i {
            t -= l[[i, k]] * y[k];
        }
        y[i] = t / l[[i, i]];
    }
    for i in (0..n).rev() {
        let mut t = y[i];
        for k in i + 1..n {
            t -= l[[k, i]] * y[k];
        }
        y[i] = t / l[[i, i]];
    }
    y
}

/// `H^{-1}` of the logistic objective at a binary64 point, factored once.
pub struct HessianSolver {
    lambda: f64,
    /// `sqrt(c^2 l''_i / n)` per sample.
    s: Vec<f64>,
    /// Cholesky factor of `K` (n x n, Woodbury form) or of `H` (d x d).
    chol: Array2<f64>,
    woodbury: bool,
}

impl HessianSolver {
    /// Factors the Hessian of `p` at `u`.
    #[allow(clippy::needless_range_loop)]
    pub fn new(p: &LogisticProblem, u: &[f64]) -> Result<Self> {
        let (n, d) = (p.n(), p.d);
        let c = p.scale_f64();
        let lambda = p.lambda_u_f64();
        let s: Vec<f64> = (0..n)
            .map(|i| {
                let z = p.y[i] * c * p.dot(i, u);
                // l''(z) = sigmoid(z) sigmoid(-z), both factors computed without cancellation.
                (c * c * crate::model::sigmoid(z) * crate::model::sigmoid(-z) / n as f64).sqrt()
            })
            .collect();
        let woodbury = n < d;
        let mut chol = if woodbury {
            let mut k = Array2::<f64>::zeros((n, n));
            let mut dense = vec![0.0; d];
            for i in 0..n {
                let (idx, val) = p.x.row(i);
                for (&kk, &v) in idx.iter().zip(val) {
                    dense[kk as usize] = v;
                }
                for j in 0..=i {
                    let (jdx, jval) = p.x.row(j);
                    let dot: f64 = jdx.iter().zip(jval).map(|(&kk, &v)| v * dense[kk as usize]).sum();
                    k[[i, j]] = s[i] * s[j] * dot;
                }
                k[[i, i]] += lambda;
                for &kk in idx {
                    dense[kk as usize] = 0.0;
                }
            }
            k
        } else {
            let mut h = Array2::<f64>::zeros((d, d));
            for i in 0..n {
                let (idx, val) = p.x.row(i);
                let w = s[i] * s[i];
                for (&a, &va) in idx.iter().zip(val) {
                    for (&b, &vb) in idx.iter().zip(val) {
                        if b <= a {
                            h[[a as usize, b as usize]] += w * va * vb;
                        }
                    }
                }
            }
            for k in 0..d {
                h[[k, k]] += lambda;
            }
            h
        };
        cholesky(&mut chol)?;
        Ok(Self { lambda, s, chol, woodbury })
    }

    /// `H^{-1} g`.
    #[allow(clippy::needless_range_loop)]
    pub fn solve(&self, p: &LogisticProblem, g: &[f64]) -> Vec<f64> {
        if !self.woodbury {
            return cholesky_solve(&self.chol, g);
        }
        let ag: Vec<f64> = (0..p.n()).map(|i| self.s[i] * p.dot(i, g)).collect();
        let z = cholesky_solve(&self.chol, &ag);
        let mut h = g.to_vec();
        for i in 0..p.n() {
            let (idx, val) = p.x.row(i);
            let f = self.s[i] * z[i];
            for (&k, &v) in idx.iter().zip(val) {
                h[k as usize] -= f * v;
            }
        }
        h.iter_mut().for_each(|x| *x /= self.lambda);
        h
    }
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Damped Newton in binary64 as a [`Method`] of the one loop: step `u <- u - s H^{-1} g` with
/// `g = g_loss + lambda_u u`, `s` halved from 1 until `L` decreases by `1e-4 s <g, H^{-1} g>`
/// (backtracking; `s >= 1e-12`, and the full step once `||g|| < 1e-8`). It settles once a step
/// moves `u` by at most `1e-15 (1 + ||u||)`, binary64 resolution.
pub struct Newton<'a> {
    p: &'a LogisticProblem,
    settled: bool,
}

impl<'a> Newton<'a> {
    /// Newton's method on `p` (the loop's objective must have `p`'s decay `lambda_u`).
    pub fn new(p: &'a LogisticProblem) -> Self {
        Self { p, settled: false }
    }
}

impl Method for Newton<'_> {
    type Error = Error;
    fn step(&mut self, _t: usize, u: &mut [f64], g_loss: &[f64], lambda: f64) -> Result<()> {
        let p = self.p;
        let g: Vec<f64> = g_loss.iter().zip(u.iter()).map(|(gi, ui)| gi + lambda * ui).collect();
        let gn = norm(&g);
        let step = HessianSolver::new(p, u)?.solve(p, &g);
        let f0 = p.objective_f64(u);
        let slope: f64 = g.iter().zip(&step).map(|(a, b)| a * b).sum();
        let mut t = 1.0;
        let mut trial: Vec<f64>;
        loop {
            trial = u.iter().zip(&step).map(|(a, b)| a - t * b).collect();
            if p.objective_f64(&trial) <= f0 - 1e-4 * t * slope || t < 1e-12 || gn < 1e-8 {
                break;
            }
            t *= 0.5;
        }
        let moved = norm(&step) * t;
        u.copy_from_slice(&trial);
        self.settled = moved <= 1e-15 * (1.0 + norm(u));
        Ok(())
    }
    fn settled(&self) -> bool {
        self.settled
    }
    fn stops_at_tolerance(&self) -> bool {
        false
    }
}

/// The reduced problem in `u` as the loop's objective (loss, gradient, and the `u`-space norm).
struct Reduced<'a>(&'a LogisticProblem);

impl Objective for Reduced<'_> {
    type Extra = ();
    fn lambda(&self) -> f64 {
        self.0.lambda_u_f64()
    }
    fn eval(&mut self, u: &[f64], g: &mut [f64], _need_norm: bool) -> Eval<()> {
        let loss = self.0.loss_grad_f64(u, g);
        let lam = self.0.lambda_u_f64();
        let gn2 = g.iter().zip(u).map(|(gi, ui)| (gi + lam * ui) * (gi + lam * ui)).sum::<f64>();
        Eval { loss, grad_norm2: Some(gn2), extra: () }
    }
}

/// [`Newton`] from `u = 0` through the one loop: returns `u` with a gradient near binary64
/// resolution and the number of Newton steps taken (at most `max_iter`); an error if it met a
/// non-finite value.
pub fn newton_f64(p: &LogisticProblem, max_iter: usize) -> Result<(Vec<f64>, usize)> {
    let mut u = vec![0.0; p.d];
    let budget = Budget { steps: max_iter, grad_tol: 0.0 };
    let stop = minimize(&mut Reduced(p), &mut Newton::new(p), &mut u, budget, &mut ())?;
    if let StopReason::Diverged { step } = stop.reason {
        return Err(Error::Numerical(format!("Newton's method met a non-finite value at step {step}")));
    }
    Ok((u, stop.steps()))
}

/// The high-precision minimizer of a logistic problem, with its certificate.
#[derive(Clone, Debug)]
pub struct Minimizer {
    /// The center `u` (dyadic, `prec` significant bits per coordinate).
    pub center: Vec<Dyadic>,
    /// Its certificate in `u` space (`||center - u*|| <= certificate.radius`).
    pub certificate: Certificate,
    /// Refinement steps taken.
    pub iterations: usize,
    /// Working precision (bits).
    pub prec: u32,
    /// Whether `certificate.radius <= 10^-digits`.
    pub reached: bool,
}

/// The working precision for `digits` decimal digits on `p`.
pub fn working_precision(p: &LogisticProblem, digits: u32, prec_min: u32) -> u32 {
    let log2_inv_lambda = (1.0 / p.lambda_u_f64()).log2().max(0.0).ceil() as u32;
    let log2_n = (p.n() as f64).log2().ceil() as u32;
    prec_min.max((f64::from(digits) * std::f64::consts::LOG2_10).ceil() as u32 + 48 + log2_inv_lambda + log2_n)
}

/// The refinement budget for `digits` digits: each step gains about 13 digits on the default
/// problem (`docs/convex.md`), so `digits / 8 + 4` steps leave room for worse conditioning; at
/// least 12.
pub fn refinement_steps(digits: u32) -> usize {
    12.max(digits as usize / 8 + 4)
}

/// `10^-digits` exactly.
pub fn ten_to_minus(digits: u32) -> BigRational {
    BigRational::new(BigInt::one(), Pow::pow(BigInt::from(10), digits))
}

/// Newton's method with exact gradients to a certified radius `<= 10^-digits` in `u` space
/// (`max_iter` refinement steps at most; `reached` says whether it got there).
pub fn high_precision_minimizer(p: &LogisticProblem, digits: u32, prec_min: u32, max_iter: usize) -> Result<Minimizer> {
    let wp = working_precision(p, digits, prec_min);
    let target = ten_to_minus(digits);
    let (u0, _) = newton_f64(p, 100)?;
    let mut u = super::enclosure::exact_vec(&u0, "Newton's binary64 iterate")?;
    let mu = lambda_u(p);
    let mut it = 0;
    loop {
        let enc = gradient_enclosure(p, &u, wp);
        let cert = Certificate::from_norm_sq(&norm_sq_u(&enc), mu.clone(), wp);
        if cert.radius <= target || it >= max_iter {
            let reached = cert.radius <= target;
            return Ok(Minimizer { center: u, certificate: cert, iterations: it, prec: wp, reached });
        }
        let g: Vec<f64> = (0..p.d).map(|k| enc.mid_f64(k)).collect();
        let uf: Vec<f64> = u.iter().map(Dyadic::to_f64_approx).collect();
        let s = HessianSolver::new(p, &uf)?.solve(p, &g);
        for (uk, sk) in u.iter_mut().zip(&s) {
            *uk = uk.sub(&super::enclosure::dy(*sk)).round(wp, Round::Nearest);
        }
        it += 1;
    }
}
