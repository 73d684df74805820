//! Rigorous gradient enclosures, certified radii, distance lower bounds and a smoothness bound.
//!
//! **Strong convexity.** `L` is `mu`-strongly convex (`mu = lambda` in `W` space, `lambda_u` in
//! `u` space), so `<grad L(a) - grad L(b), a - b> >= mu ||a - b||^2`; with `b = W*`
//! (`grad L(W*) = 0`) and Cauchy-Schwarz, `||W - W*|| <= ||grad L(W)|| / mu` for every `W`.
//!
//! **Smoothness.** The loss Hessian in `u` is `(c^2/n) sum_i l''(z_i) x_i x_i^T` with
//! `0 < l'' <= 1/4`, so `L_u <= c^2 ||X||_2^2 / (4n) + lambda_u <= c^2 ||X||_F^2 / (4n) + lambda_u`.
//! In `W` space the loss depends on `u(W) = J W` with `||J||_2^2 = 2m`, so
//! `L_W <= 2m c^2 ||X||_F^2 / (4n) + lambda`. Then `||grad L(W)|| <= L_W ||W - W*||`, a *lower*
//! bound on the distance from any point (used for AdamW).
//!
//! **The enclosure.** From the exact values of the point (binary64, or dyadic for the Newton
//! iterates), the margins `z_i = y_i c <u, x_i>` are exact rationals; `l'(z_i) = -sigmoid(-z_i)`
//! is enclosed by [`crate::exact::logistic_loss_derivative`] at `prec` bits; every other operation
//! (products with the binary64 data, sums, the decay term) is exact ([`Dyadic`]). So each gradient
//! coordinate is enclosed as `g_k in [lo_k, hi_k] / D` with an integer `D`.
//!
//! **The norm in `W` space.** `grad_{w_{j,r}} L = j g_k + lambda w_{j,r,k}` coordinate-wise, so
//! per coordinate `k`:
//! `E_k(g) = sum_{j,r} (j g + lambda w_{j,r,k})^2 = 2m g^2 + 2 lambda g u_k + lambda^2 S_k`,
//! `S_k = sum_{j,r} w_{j,r,k}^2`, a convex quadratic in `g`: its maximum over `[lo_k, hi_k]/D` is
//! at an endpoint and its minimum at the clamped vertex (`-lambda u_k / (2m)`), both exact.

use std::cmp::Ordering;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};

use super::problem::{ConvexProblem, LogisticProblem};
use crate::error::{Error, Result};
use crate::exact::{Dyadic, Interval, Round, logistic_loss_derivative, sqrt_lower, sqrt_upper, to_f64_down, to_f64_up};

/// The exact value of a binary64 known to be finite (data values are validated).
pub(crate) fn dy(x: f64) -> Dyadic {
    Dyadic::from_f64(x).expect("finite binary64")
}

/// Exact values of a binary64 vector; errors on NaN and infinities.
pub fn exact_vec(v: &[f64], what: &str) -> Result<Vec<Dyadic>> {
    v.iter()
        .map(|&x| {
            Dyadic::from_f64(x)
                .ok_or_else(|| Error::Numerical(format!("{what} has a non-finite entry ({x}): no certificate exists")))
        })
        .collect()
}

/// A point of the optimized space, exactly: `u` and, in `W` space, `S_k = sum_{j,r} w_{j,r,k}^2`.
#[derive(Clone, Debug)]
pub struct ExactPoint {
    /// `u(W)` (or `u`), exact.
    pub u: Vec<Dyadic>,
    /// `Some((m, S))` in `W` space.
    pub w_squares: Option<(usize, Vec<Dyadic>)>,
}

impl ExactPoint {
    /// The exact point behind binary64 parameters of `problem` (layout of [`ConvexProblem::dim`]).
    pub fn of(problem: &ConvexProblem, params: &[f64]) -> Result<Self> {
        if params.len() != problem.dim() {
            return Err(Error::Shape {
                what: "point to certify".into(),
                expected: problem.dim().to_string(),
                found: params.len().to_string(),
            });
        }
        let exact = exact_vec(params, "the point")?;
        Ok(match problem.filters {
            None => Self { u: exact, w_squares: None },
            Some(m) => {
                let mut u = Vec::with_capacity(problem.reduced.d);
                let mut s = Vec::with_capacity(problem.reduced.d);
                let layout = crate::model::Layout::new(m);
                for row in layout.rows(&exact) {
                    let mut uk = Dyadic::zero();
                    let mut sk = Dyadic::zero();
                    for (c, w) in row.iter().enumerate() {
                        if layout.class_of(c) == 0 {
                            uk.add_assign(w)
                        } else {
                            uk.add_assign(&w.neg())
                        }
                        sk.add_assign(&w.square());
                    }
                    u.push(uk);
                    s.push(sk);
                }
                Self { u, w_squares: Some((m, s)) }
            }
        })
    }
}

/// `g_k in [lo_k, hi_k] / den` for the gradient of the reduced problem (decay `lambda_u` included).
#[derive(Clone, Debug)]
pub struct GradEnclosure {
    /// Lower ends of `D g_k`.
    pub lo: Vec<Dyadic>,
    /// Upper ends of `D g_k`.
    pub hi: Vec<Dyadic>,
    /// `D = scale_den n lambda_den`.
    pub den: BigInt,
}

impl GradEnclosure {
    /// The midpoint of coordinate `k` as binary64 (approximate; for Newton's corrections).
    pub fn mid_f64(&self, k: usize) -> f64 {
        let s = self.lo[k].add(&self.hi[k]).mul_pow2(-1);
        s.to_f64_approx() / self.den_f64()
    }

    fn den_f64(&self) -> f64 {
        num_traits::ToPrimitive::to_f64(&self.den).unwrap_or(f64::INFINITY)
    }
}

/// The exact margin `<u, x_i>` (no `c`, no label).
pub fn exact_dot(rows: &crate::data::SparseRows, i: usize, u: &[Dyadic]) -> Dyadic {
    let (idx, val) = rows.row(i);
    let mut acc = Dyadic::zero();
    for (&k, &v) in idx.iter().zip(val) {
        acc.add_assign(&u[k as usize].mul(&dy(v)));
    }
    acc
}

/// Enclosure of `grad L(u)` of a logistic problem at an exact point `u`, `l'` enclosed at `prec`
/// bits, everything else exact.
pub fn gradient_enclosure(p: &LogisticProblem, u: &[Dyadic], prec: u32) -> GradEnclosure {
    assert_eq!(u.len(), p.d, "a point of dimension d");
    let mut lo = vec![Dyadic::zero(); p.d];
    let mut hi = vec![Dyadic::zero(); p.d];
    let sd = BigRational::from_integer(BigInt::from(p.scale_den));
    for i in 0..p.n() {
        let dot = exact_dot(&p.x, i, u).to_rational() / &sd;
        let z = if p.y[i] < 0.0 { -dot } else { dot };
        let lp = logistic_loss_derivative(&Interval::point(z), prec);
        let a = Dyadic::from_rational_rounded(lp.lo(), prec, Round::Down);
        let b = Dyadic::from_rational_rounded(lp.hi(), prec, Round::Up);
        let (idx, val) = p.x.row(i);
        for (&k, &v) in idx.iter().zip(val) {
            let t = dy(p.y[i] * v); // exact: a sign flip
            let (l, h) = if t.is_negative() { (&b, &a) } else { (&a, &b) };
            lo[k as usize].add_assign(&l.mul(&t));
            hi[k as usize].add_assign(&h.mul(&t));
        }
    }
    // D g = lambda_den P + scale_den n lambda u.
    let ld = BigInt::from(p.lambda_den);
    let coef = dy(p.lambda).mul_int(&(BigInt::from(p.scale_den) * BigInt::from(p.n())));
    for k in 0..p.d {
        let t = u[k].mul(&coef);
        lo[k] = lo[k].mul_int(&ld).add(&t);
        hi[k] = hi[k].mul_int(&ld).add(&t);
    }
    GradEnclosure { lo, hi, den: BigInt::from(p.scale_den) * BigInt::from(p.n()) * BigInt::from(p.lambda_den) }
}

/// Rigorous bounds on `||grad L||_2^2` in the optimized space.
#[derive(Clone, Debug)]
pub struct NormSqBounds {
    /// Lower bound of `||grad L||^2`.
    pub lower: BigRational,
    /// Upper bound of `||grad L||^2`.
    pub upper: BigRational,
}

/// `||g||^2` bounds in `u` space from an enclosure.
pub fn norm_sq_u(enc: &GradEnclosure) -> NormSqBounds {
    let mut up = Dyadic::zero();
    let mut low = Dyadic::zero();
    for (l, h) in enc.lo.iter().zip(&enc.hi) {
        let (la, ha) = (l.abs(), h.abs());
        up.add_assign(&la.max_exact(&ha).square());
        if l.is_negative() == h.is_negative() && !l.is_zero() && !h.is_zero() {
            let mig = if la.cmp_exact(&ha) == Ordering::Less { la } else { ha };
            low.add_assign(&mig.square());
        }
    }
    let d2 = BigRational::from_integer(&enc.den * &enc.den);
    NormSqBounds { lower: low.to_rational() / &d2, upper: up.to_rational() / d2 }
}

/// `||grad_W L||_F^2` bounds in `W` space (`m` filters per class, decay `lambda`) from the
/// enclosure of the reduced gradient part `g` (`lambda_u` must then be left out of it: pass
/// an enclosure of the *loss* gradient, see [`certify_point`]) and the exact point.
fn norm_sq_w(enc_loss: &GradEnclosure, u: &[Dyadic], s: &[Dyadic], m: usize, lambda: f64) -> NormSqBounds {
    let two_m = BigInt::from(2 * m);
    let lam = dy(lambda);
    let lam_d = lam.mul_int(&enc_loss.den); // lambda D
    let lam2_d2 = lam_d.square();
    let mut up = Dyadic::zero();
    let mut low_2m = Dyadic::zero();
    for k in 0..u.len() {
        let lin = lam_d.mul(&u[k]).mul_pow2(1); // 2 lambda D u_k
        let cst = lam2_d2.mul(&s[k]); // lambda^2 D^2 S_k
        let e = |nn: &Dyadic| nn.square().mul_int(&two_m).add(&nn.mul(&lin)).add(&cst);
        let (el, eh) = (e(&enc_loss.lo[k]), e(&enc_loss.hi[k]));
        up.add_assign(el.max_exact(&eh));
        // Vertex N* = -lambda D u_k / (2m): inside iff 2m lo <= -lambda D u_k <= 2m hi.
        let v = lam_d.mul(&u[k]).neg();
        let inside = enc_loss.lo[k].mul_int(&two_m) <= v && v <= enc_loss.hi[k].mul_int(&two_m);
        if inside {
            // 2m D^2 E_min = lambda^2 D^2 (2m S_k - u_k^2) >= 0.
            low_2m.add_assign(&lam2_d2.mul(&s[k].mul_int(&two_m).sub(&u[k].square())));
        } else {
            let mn = if el.cmp_exact(&eh) == Ordering::Less { el } else { eh };
            low_2m.add_assign(&mn.mul_int(&two_m));
        }
    }
    let d2 = BigRational::from_integer(&enc_loss.den * &enc_loss.den);
    let lower = low_2m.to_rational() / (d2.clone() * BigRational::from_integer(two_m));
    let lower = if lower.is_negative() { BigRational::zero() } else { lower };
    NormSqBounds { lower, upper: up.to_rational() / d2 }
}

/// A certificate for one point: rigorous bounds on `||grad L||` and `||point - minimizer||`, in
/// the optimized space.
#[derive(Clone, Debug)]
pub struct Certificate {
    /// `||grad L||_2 <= grad_norm_upper`.
    pub grad_norm_upper: BigRational,
    /// `||grad L||_2 >= grad_norm_lower`.
    pub grad_norm_lower: BigRational,
    /// `||point - minimizer||_2 <= radius = grad_norm_upper / mu`.
    pub radius: BigRational,
    /// The strong-convexity constant `mu` used.
    pub mu: BigRational,
    /// Bits of the transcendental enclosures.
    pub prec: u32,
}

impl Certificate {
    pub(crate) fn from_norm_sq(b: &NormSqBounds, mu: BigRational, prec: u32) -> Self {
        let up = sqrt_upper(&b.upper, prec + 8).expect("a sum of squares is >= 0");
        let lo = sqrt_lower(&b.lower, prec + 8).expect("a sum of squares is >= 0");
        let radius = &up / &mu;
        Self { grad_norm_upper: up, grad_norm_lower: lo, radius, mu, prec }
    }

    /// The radius rounded up to binary64.
    pub fn radius_f64(&self) -> f64 {
        to_f64_up(&self.radius)
    }

    /// `grad_norm_upper` rounded up to binary64.
    pub fn grad_norm_upper_f64(&self) -> f64 {
        to_f64_up(&self.grad_norm_upper)
    }

    /// `grad_norm_lower` rounded down to binary64.
    pub fn grad_norm_lower_f64(&self) -> f64 {
        to_f64_down(&self.grad_norm_lower)
    }
}

/// `lambda_u = lambda / lambda_den` exactly.
pub fn lambda_u(p: &LogisticProblem) -> BigRational {
    dy(p.lambda).to_rational() / BigRational::from_integer(BigInt::from(p.lambda_den))
}

/// Certificate of a point `u` of a logistic problem (distance to its minimizer `u*`).
pub fn certify_u(p: &LogisticProblem, u: &[Dyadic], prec: u32) -> Certificate {
    let enc = gradient_enclosure(p, u, prec);
    Certificate::from_norm_sq(&norm_sq_u(&enc), lambda_u(p), prec)
}

/// Certificate of binary64 parameters of `problem` in its optimized space (`W` or `u`).
pub fn certify_point(problem: &ConvexProblem, params: &[f64], prec: u32) -> Result<Certificate> {
    let pt = ExactPoint::of(problem, params)?;
    Ok(certify_exact_point(problem, &pt, prec))
}

/// [`certify_point`] for an exact point.
pub fn certify_exact_point(problem: &ConvexProblem, pt: &ExactPoint, prec: u32) -> Certificate {
    match &pt.w_squares {
        None => certify_u(&problem.reduced, &pt.u, prec),
        Some((m, s)) => {
            // The loss part only: a problem with zero decay contribution. gradient_enclosure adds
            // lambda_u u; subtract it exactly again (same D), leaving D g_loss.
            let p = &problem.reduced;
            let mut enc = gradient_enclosure(p, &pt.u, prec);
            let coef = dy(p.lambda).mul_int(&(BigInt::from(p.scale_den) * BigInt::from(p.n())));
            for k in 0..p.d {
                let t = pt.u[k].mul(&coef).neg();
                enc.lo[k].add_assign(&t);
                enc.hi[k].add_assign(&t);
            }
            let b = norm_sq_w(&enc, &pt.u, s, *m, p.lambda);
            Certificate::from_norm_sq(&b, dy(p.lambda).to_rational(), prec)
        }
    }
}

/// `||X||_F^2` exactly.
pub fn frobenius_sq(p: &LogisticProblem) -> BigRational {
    Dyadic::sum(p.x.val.iter().map(|&v| dy(v).square()).collect::<Vec<_>>().iter()).to_rational()
}

/// A rigorous upper bound on the smoothness constant of the optimized objective:
/// `c^2 ||X||_F^2 / (4n) + lambda_u` in `u` space, `2m c^2 ||X||_F^2 / (4n) + lambda` in `W` space.
pub fn smoothness_upper(problem: &ConvexProblem) -> BigRational {
    let p = &problem.reduced;
    let int = |v: u64| BigRational::from_integer(BigInt::from(v));
    let loss = frobenius_sq(p) / (int(p.scale_den) * int(p.scale_den) * int(4) * int(p.n() as u64));
    match problem.filters {
        None => loss + lambda_u(p),
        Some(m) => loss * int(2 * m as u64) + dy(p.lambda).to_rational(),
    }
}

/// Rigorous bounds `[lo, hi]` on the distance in the optimized space between an exact point and
/// the point that `center` (an exact `u`) denotes: `center` itself in `u` space, its lift
/// `(center/(2m), -center/(2m))` in `W` space.
pub fn distance_to_center(pt: &ExactPoint, center: &[Dyadic], prec: u32) -> (BigRational, BigRational) {
    let sq = match &pt.w_squares {
        None => Dyadic::sum(pt.u.iter().zip(center).map(|(a, b)| a.sub(b).square()).collect::<Vec<_>>().iter())
            .to_rational(),
        Some((m, s)) => {
            // ||W - lift(c)||^2 = sum_k S_k - c_k u_k / m + c_k^2 / (2m); times 2m:
            // sum_k 2m S_k - 2 c_k u_k + c_k^2.
            let two_m = BigInt::from(2 * m);
            let mut acc = Dyadic::zero();
            for k in 0..center.len() {
                acc.add_assign(&s[k].mul_int(&two_m));
                acc.add_assign(&center[k].mul(&pt.u[k]).mul_pow2(1).neg());
                acc.add_assign(&center[k].square());
            }
            acc.to_rational() / BigRational::from_integer(two_m)
        }
    };
    let sq = if sq.is_negative() { BigRational::zero() } else { sq };
    (sqrt_lower(&sq, prec).expect(">= 0"), sqrt_upper(&sq, prec).expect(">= 0"))
}
