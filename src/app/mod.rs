//! What each command does, without its command line: the library side of the binary
//! (`src/bin/adamgap/`), callable from tests without spawning a process.
//!
//! | file | what |
//! |---|---|
//! | `flags.rs` | the flag groups the commands share ([`flags::SettingArgs`], threads, memory limit) and their parsers |
//! | `convex.rs` | `adamgap convex`: the convex setting's flags, the certificate with claim 07's verdict, its outputs and its text |
//! | `run.rs` | `adamgap run`: import or create, the output checks, training in the chosen precision, the headline, the endpoint certificate, report, export and JSON |
//!
//! The binary parses arguments into these types, draws the progress bars and prints what the
//! functions here return; it computes nothing.

pub mod convex;
pub mod flags;
pub mod run;
