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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn factors_are_one_or_a_geometric_decay_down_to_the_floor() {
        assert_eq!(Schedule::Constant.factor(7), 1.0);
        let g = Schedule::Geometric { rate: 0.5, floor: 0.2 };
        assert_eq!([1, 2, 3, 10].map(|t| g.factor(t)), [0.5, 0.25, 0.2, 0.2]);
    }

    /// The field named in the error, or `None` for a valid schedule.
    fn rejected(rate: f64, floor: f64) -> Option<String> {
        match (Schedule::Geometric { rate, floor }).validate("s") {
            Ok(()) => None,
            Err(Error::InvalidParameter { field, .. }) => Some(field),
            Err(e) => panic!("unexpected error {e}"),
        }
    }

    #[test]
    fn validation_accepts_exactly_0_lt_rate_le_1_and_0_le_floor_le_1() {
        assert_eq!(Schedule::Constant.validate("s").ok(), Some(()));
        for (rate, floor) in [(1.0, 0.0), (0.5, 1.0), (1e-300, 0.5)] {
            assert_eq!(rejected(rate, floor), None, "rate {rate}, floor {floor}");
        }
        for rate in [0.0, -0.5, 1.5, f64::NAN] {
            assert_eq!(rejected(rate, 0.0).as_deref(), Some("s.rate"), "rate {rate}");
        }
        for floor in [-0.1, 1.5, f64::NAN] {
            assert_eq!(rejected(0.5, floor).as_deref(), Some("s.floor"), "floor {floor}");
        }
    }

    #[test]
    fn descriptions() {
        assert_eq!(Schedule::Constant.describe(), "constant");
        assert_eq!(Schedule::Geometric { rate: 0.997, floor: 0.0 }.describe(), "eta * max(0.997^t, 0e0)");
    }
}
