//! Reliability on the command-line surfaces of `check` and `precision` (`docs/reliability.md`):
//! every command that trains estimates its memory before it allocates (`check` per claim, every
//! seed kept; `precision` with its twins), counts near `2^64` are refused by the estimate, and an
//! error names the flag that gave the value.

mod common;

use common::{adamgap, scratch};

/// Exit 2, nothing on stdout, and every needle on stderr.
fn refused(args: &[&str], needles: &[&str]) {
    let out = adamgap(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "{args:?} printed {}", String::from_utf8_lossy(&out.stdout));
    for n in needles {
        assert!(err.contains(n), "{args:?}: {n:?} not in {err}");
    }
}

#[test]
fn check_estimates_each_claim_before_drawing_anything() {
    let (_tmp, dir) = scratch("check-memory");
    std::fs::copy("theorems/01-adam-nonconvex.toml", dir.join("01.toml")).unwrap();
    let d = dir.to_str().unwrap();
    // Ten seeds of the paper's setting are about 500 MiB: refused under 10 MiB, naming the claim,
    // the seeds kept and the limit's origin.
    refused(
        &["check", "--theorems", d, "--max-memory", "10M", "--quiet"],
        &["--max-memory", "10 seeds kept", "01.toml"],
    );
    // A huge `d` in a theorem file is refused by the default limit, before the preflight's draw.
    let text = std::fs::read_to_string("theorems/01-adam-nonconvex.toml").unwrap();
    std::fs::write(dir.join("01.toml"), text.replacen("[setting]", "[setting]\ndata = { d = 4000000000 }", 1)).unwrap();
    let out = adamgap(&["check", "--theorems", d, "--quiet"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("needs about") || err.contains("data"), "{err}");
}

#[test]
fn precision_counts_its_twins_and_names_its_flags() {
    // The estimate grows with the twins: on a small setting 20,000 twins (about 1 GiB of kept
    // results) do not fit in 500 MiB, 1 twin does.
    let small = ["precision", "--d", "100", "--n", "12", "--s", "10", "--m", "2", "--test-size", "50", "--steps", "5"];
    refused(&[&small[..], &["--twins", "20000", "--max-memory", "500M"]].concat(), &["20000 twins", "--max-memory"]);
    let out = adamgap(&[&small[..], &["--twins", "1", "--max-memory", "500M", "--json"]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Near 2^64 or 10^12: the estimate refuses it (no capacity overflow, no allocator abort).
    for twins in ["18446744073709551615", "1000000000000"] {
        refused(&["precision", "--twins", twins], &["needs about", "twins"]);
    }
    refused(&["precision", "--ladder-steps", "1000000000000"], &["--ladder-steps", "1..=1000000000"]);
}

#[test]
fn check_theorems_names_what_is_wrong_with_the_path() {
    let (_tmp, dir) = scratch("check-theorems-path");
    let file = dir.join("one.toml");
    std::fs::copy("theorems/01-adam-nonconvex.toml", &file).unwrap();
    let out = adamgap(&["check", "--theorems", file.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not a file") && !err.contains("default ./theorems"), "{err}");
    let out = adamgap(&["check", "--theorems", dir.join("absent").to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not exist") && !err.contains("default ./theorems"), "{err}");
}

#[test]
fn two_theorem_files_with_one_id_are_refused() {
    let (_tmp, dir) = scratch("check-duplicate-ids");
    std::fs::copy("theorems/01-adam-nonconvex.toml", dir.join("a.toml")).unwrap();
    std::fs::copy("theorems/01-adam-nonconvex.toml", dir.join("b.toml")).unwrap();
    refused(&["check", "--theorems", dir.to_str().unwrap(), "--quiet"], &["`id`", "a.toml", "b.toml"]);
}
