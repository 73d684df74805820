//! The bench modules and the fixtures they share.

pub mod certify;
pub mod common;
pub mod eval;
pub mod ladder;
pub mod large_d;
pub mod limit;
pub mod minibatch;
pub mod precision;
pub mod probe;
pub mod step;
