//! The theorem files compiled into the library, so that the verdicts of the other commands come
//! from the same checks as `adamgap check` and do not depend on the working directory: the
//! headline's (`adamgap run`), claim 07's (`adamgap convex`), claim 11's (`adamgap precision`) and
//! claim 12's (`adamgap sweep merge`).

use super::theorem::Theorem;

/// A compiled-in theorem file: `(path, text)`.
pub type Source = (&'static str, &'static str);

/// The theorem files with `[[headline]]` entries.
pub const HEADLINE: [Source; 5] = [
    ("theorems/01-adam-nonconvex.toml", include_str!("../../theorems/01-adam-nonconvex.toml")),
    ("theorems/02-gd-nonconvex.toml", include_str!("../../theorems/02-gd-nonconvex.toml")),
    ("theorems/03-different-global-solutions.toml", include_str!("../../theorems/03-different-global-solutions.toml")),
    ("theorems/05-adam-feature-reversal.toml", include_str!("../../theorems/05-adam-feature-reversal.toml")),
    ("theorems/06-gd-feature-first.toml", include_str!("../../theorems/06-gd-feature-first.toml")),
];

/// The convex claim: its checks are `adamgap convex`'s verdict.
pub const CONVEX: Source =
    ("theorems/07-convex-unique-minimizer.toml", include_str!("../../theorems/07-convex-unique-minimizer.toml"));

/// The precision claim: its checks are `adamgap precision`'s agreement line.
pub const PRECISION: Source =
    ("theorems/11-precision-robust.toml", include_str!("../../theorems/11-precision-robust.toml"));

/// The path claim along `d`: its checks on the test errors are `adamgap sweep merge`'s gap check.
pub const GAP: Source = ("theorems/12-gap-opens-with-d.toml", include_str!("../../theorems/12-gap-opens-with-d.toml"));

/// A compiled-in file, parsed (a file that does not load is a bug of the build, caught by the
/// tests).
pub fn theorem((origin, text): Source) -> Theorem {
    Theorem::from_toml_str(text, origin).unwrap_or_else(|e| panic!("compiled-in {e}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_compiled_in_file_loads() {
        for source in super::HEADLINE.into_iter().chain([super::CONVEX, super::PRECISION, super::GAP]) {
            assert!(super::theorem(source).id.len() > 2, "{}", source.0);
        }
    }
}
