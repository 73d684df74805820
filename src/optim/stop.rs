//! How an optimization run ends.

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
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::StepBudget { step } => write!(f, "step budget reached ({step} steps)"),
            Self::GradTol { step } => write!(f, "gradient-norm tolerance reached at step {step}"),
            Self::Diverged { step } => write!(f, "diverged (non-finite values) at step {step}"),
        }
    }
}

impl StopReason {
    /// A short machine-readable label: `step-budget`, `grad-tol`, `diverged`.
    pub fn label(&self) -> &'static str {
        match self {
            Self::StepBudget { .. } => "step-budget",
            Self::GradTol { .. } => "grad-tol",
            Self::Diverged { .. } => "diverged",
        }
    }
}
