//! Exact arithmetic (in progress).
