//! The error type of the exact-arithmetic module (used by `interval` and `functions`).

/// Errors of the exact-arithmetic module; each message says how to fix the call.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ExactError {
    /// A NaN or infinity was given where an exact value is needed.
    #[error(
        "non-finite f64 {value}: only finite binary64 values have an exact rational value; \
         filter NaN and infinities before building an Interval"
    )]
    NonFinite {
        /// The offending value.
        value: f64,
    },
    /// `Interval::new(lo, hi)` with `lo > hi`.
    #[error("interval bounds out of order (lo > hi): pass lo <= hi")]
    EmptyInterval,
    /// Division by an interval that contains zero.
    #[error(
        "division by an interval that contains 0: the quotient is unbounded; \
         bound the divisor away from 0 (or split it) before dividing"
    )]
    DivisionByZero,
    /// `ln` of an interval that is not strictly positive.
    #[error("ln of an interval with lo <= 0: ln needs an interval with lo > 0")]
    LogNonPositive,
    /// `exp` of an interval reaching above the supported range.
    #[error(
        "exp of an interval with hi > {limit}: the result would exceed 2^94549; \
         rescale the problem or bound the argument by {limit}"
    )]
    ExpOverflow {
        /// The supported upper bound of the argument.
        limit: u32,
    },
    /// Square root of an interval with a negative lower end.
    #[error("sqrt of an interval with lo < 0: pass an interval with lo >= 0")]
    SqrtNegative,
}
