//! Step-size schedules: the base step of a first-order method at step `t`.

use serde::{Deserialize, Serialize};

/// A step-size multiplier `eta_t = eta * factor(t)`, `t = 1, 2, ...`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Schedule {
    /// `factor = 1`.
    #[default]
    Constant,
    /// `factor = max(rate^t, floor)`: geometric decay down to a floor.
    Geometric { rate: f64, floor: f64 },
}

impl Schedule {
    /// The multiplier at step `t`.
    pub fn factor(&self, t: usize) -> f64 {
        match *self {
            Self::Constant => 1.0,
            Self::Geometric { rate, floor } => rate.powf(t as f64).max(floor),
        }
    }

    /// Checks the schedule's parameters; errors name `field`.
    pub fn validate(&self, field: &str) -> crate::Result<()> {
        if let Self::Geometric { rate, floor } = *self {
            if !(rate > 0.0 && rate <= 1.0) {
                return Err(crate::Error::invalid(&format!("{field}.rate"), rate, "0 < rate <= 1"));
            }
            if !(0.0..=1.0).contains(&floor) {
                return Err(crate::Error::invalid(&format!("{field}.floor"), floor, "0 <= floor <= 1"));
            }
        }
        Ok(())
    }

    /// Short description (`constant`, `eta * max(0.997^t, 0e0)`).
    pub fn describe(&self) -> String {
        match *self {
            Self::Constant => "constant".into(),
            Self::Geometric { rate, floor } => format!("eta * max({rate}^t, {floor:e})"),
        }
    }
}
