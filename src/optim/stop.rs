//! How an optimization run ends ([`super::driver::minimize`] decides it).

use serde::{Deserialize, Serialize};

/// Why a run stopped. A budget stop is not convergence; a divergence names its step. In JSON:
/// `{"reason": "step-budget", "step": 500}` (the reason is [`StopReason::label`]); read back the
/// same way, an unknown reason or a missing step being an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "kebab-case", deny_unknown_fields)]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_names_its_step() {
        let reasons = [
            (StopReason::StepBudget { step: 3 }, "step-budget", "step budget reached (3 steps)"),
            (StopReason::GradTol { step: 4 }, "grad-tol", "gradient-norm tolerance reached at step 4"),
            (StopReason::Diverged { step: 5 }, "diverged", "diverged (non-finite values) at step 5"),
            (StopReason::Settled { step: 6 }, "settled", "settled above the gradient tolerance at step 6"),
        ];
        for (k, (reason, label, text)) in reasons.into_iter().enumerate() {
            assert_eq!(reason.step(), k + 3);
            assert_eq!(reason.label(), label);
            assert_eq!(reason.to_string(), text);
            let json = serde_json::to_string(&reason).expect("JSON");
            assert_eq!(json, format!("{{\"reason\":\"{label}\",\"step\":{}}}", k + 3));
            assert_eq!(serde_json::from_str::<StopReason>(&json).expect("read back"), reason);
        }
        for bad in
            [r#"{"reason":"gave-up","step":1}"#, r#"{"reason":"grad-tol"}"#, r#"{"reason":"grad-tol","step":1,"x":0}"#]
        {
            assert!(serde_json::from_str::<StopReason>(bad).is_err(), "{bad} read");
        }
    }
}
