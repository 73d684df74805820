//! The paper's claims, checked at test scale: one named insta snapshot per `theorems/*.toml`
//! (`claims__claim@<file>.snap`) holding the summary a reviewer reads, and a failure naming every
//! claim whose verdict differs from its expected one (pending claims excepted).
//!
//! Everything runs sequentially (one thread), so the snapshots do not depend on the machine's
//! thread count. Runs with the same setting and optimizer are shared between claims.

use adamgap::claims::{Checker, Scale, Status};

#[test]
fn claim() {
    let mut checker = Checker::new(1);
    let mut mismatches: Vec<String> = Vec::new();
    insta::glob!("../theorems", "*.toml", |path| {
        let report = checker.check_file(path, Scale::Test).unwrap_or_else(|e| panic!("{e}"));
        if report.status == Status::Mismatch {
            let msg = format!(
                "claim {} ({}): verdict `{}` but the theorem file expects `{}`",
                report.id,
                path.file_name().unwrap().to_string_lossy(),
                report.verdict,
                report.expected.label()
            );
            eprintln!("{msg}");
            mismatches.push(msg);
            // The verdict is the failure to report; the snapshot would only repeat it.
            return;
        }
        insta::assert_snapshot!("claim", report.summary());
    });
    assert!(mismatches.is_empty(), "verdicts differ from the expected ones:\n{}", mismatches.join("\n"));
}
