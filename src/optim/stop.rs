//! How an optimization run ends ([`super::driver::minimize`] decides it).

use serde::Serialize;

/// Why a run stopped. A budget stop is not convergence; a divergence names its step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum StopReason {
    /// The step budget was used up (no convergence test passed).
    StepBudget { step: usize },
    /// `||grad L||_2 <= grad_tol` at this step.
    GradTol { step: usize },
    /// A non-finite objective, gradient or weight appeared at this step.
    Diverged { step: usize },
    /// The method's own convergence test passed at this step (Newton's method: its step fell
    /// below binary64 resolution) while the gradient tolerance was not met.
    Settled { step: usize },
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::StepBudget { step } => write!(f, "step budget reached ({step} steps)"),
            Self::GradTol { step } => write!(f, "gradient-norm tolerance reached at step {step}"),
            Self::Diverged { step } => write!(f, "diverged (non-finite values) at step {step}"),
            Self::Settled { step } => write!(f, "settled above the gradient tolerance at step {step}"),
        }
    }
}

impl StopReason {
    /// The step at which the run stopped (= steps taken).
    pub fn step(&self) -> usize {
        match *self {
            Self::StepBudget { step } | Self::GradTol { step } | Self::Diverged { step } | Self::Settled { step } => {
                step
            }
        }
    }

    /// A short machine-readable label: `step-budget`, `grad-tol`, `diverged`, `settled`.
    pub fn label(&self) -> &'static str {
        match self {
            Self::StepBudget { .. } => "step-budget",
            Self::GradTol { .. } => "grad-tol",
            Self::Diverged { .. } => "diverged",
            Self::Settled { .. } => "settled",
        }
    }
}
