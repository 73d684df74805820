//! The activation `sigma` and the scalar functions of the logistic loss.

/// The activation `sigma`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// `max(0, z)^q`, `q >= 1`.
    PolyRelu(u32),
    /// `z`.
    Linear,
}

impl Activation {
    /// `sigma(z)`.
    #[inline]
    pub fn value(self, z: f64) -> f64 {
        match self {
            Self::Linear => z,
            Self::PolyRelu(q) => {
                if z <= 0.0 {
                    0.0
                } else {
                    match q {
                        1 => z,
                        2 => z * z,
                        3 => z * z * z,
                        _ => z.powi(q as i32),
                    }
                }
            }
        }
    }
    /// `sigma'(z)` (`q max(0, z)^(q-1)`; for `q = 1`, the indicator of `z > 0`).
    #[inline]
    pub fn deriv(self, z: f64) -> f64 {
        match self {
            Self::Linear => 1.0,
            Self::PolyRelu(q) => {
                if z <= 0.0 {
                    0.0
                } else {
                    match q {
                        1 => 1.0,
                        2 => 2.0 * z,
                        3 => 3.0 * z * z,
                        _ => f64::from(q) * z.powi(q as i32 - 1),
                    }
                }
            }
        }
    }
    /// `sigma''(z)` (`q (q-1) max(0, z)^(q-2)`; for `q = 2`, `2` where `z > 0`; `0` for `q = 1` and
    /// the linear activation, whose second derivative is zero away from the kink).
    #[inline]
    pub fn second(self, z: f64) -> f64 {
        match self {
            Self::Linear | Self::PolyRelu(1) => 0.0,
            Self::PolyRelu(q) => {
                if z <= 0.0 {
                    0.0
                } else {
                    match q {
                        2 => 2.0,
                        3 => 6.0 * z,
                        _ => f64::from(q * (q - 1)) * z.powi(q as i32 - 2),
                    }
                }
            }
        }
    }
}

/// `log(1 + exp(z))` without overflow: `z + log1p(exp(-z))` for `z > 0`, `log1p(exp(z))` otherwise.
#[inline]
pub fn softplus(z: f64) -> f64 {
    if z > 0.0 { z + (-z).exp().ln_1p() } else { z.exp().ln_1p() }
}

/// `1 / (1 + exp(-z))` by branch, so neither branch overflows.
#[inline]
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `(softplus(z), sigmoid(z))` sharing one `exp(-|z|)`: bit-identical to calling [`softplus`] and
/// [`sigmoid`] separately (both branch on the sign of `z` and evaluate the same exponential; at
/// `z = +-0` both use `exp(0) = 1`; a NaN gives NaN in both).
#[inline(always)]
pub(crate) fn softplus_sigmoid(z: f64) -> (f64, f64) {
    if z > 0.0 {
        let e = (-z).exp();
        (z + e.ln_1p(), 1.0 / (1.0 + e))
    } else {
        let e = z.exp();
        (e.ln_1p(), if z >= 0.0 { 1.0 / (1.0 + e) } else { e / (1.0 + e) })
    }
}

/// Runs `$body` (an expression using the activation closures `$value`, `$deriv`) with the activation
/// matched once, outside the hot loops, so the common cases compile to branch-free selects.
macro_rules! with_activation {
    ($act:expr, |$value:ident, $deriv:ident| $body:expr) => {
        match $act {
            $crate::model::Activation::PolyRelu(3) => {
                let $value = |t: f64| $crate::model::Activation::PolyRelu(3).value(t);
                let $deriv = |t: f64| $crate::model::Activation::PolyRelu(3).deriv(t);
                $body
            }
            $crate::model::Activation::Linear => {
                let $value = |t: f64| $crate::model::Activation::Linear.value(t);
                let $deriv = |t: f64| $crate::model::Activation::Linear.deriv(t);
                $body
            }
            a => {
                let $value = move |t: f64| a.value(t);
                let $deriv = move |t: f64| a.deriv(t);
                $body
            }
        }
    };
}
