//! Fuzzing smoke (`docs/reliability.md`, "Fuzzing smoke"): random and near-valid input to the
//! config parser, the theorem loader and the `.npy` reader of `run --import` never panics; every
//! answer is `Ok` or an error naming the file or the field.

mod common;

use std::path::{Path, PathBuf};

use adamgap::claims::Scale;
use adamgap::claims::Theorem;
use adamgap::setting::Setting;
use common::scratch;
use proptest::prelude::*;

/// An error names the origin or a field (in backquotes).
fn named(e: &adamgap::Error, origin: &str) -> bool {
    let m = e.to_string();
    m.contains(origin) || m.contains('`')
}

const KEYS: [&str; 12] =
    ["d", "n", "s", "m", "patches", "sigma_p", "alpha", "test_size", "lambda", "sigma0", "steps", "seed"];
const SECTIONS: [&str; 4] = ["data", "model", "train", ""];

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|v| v.to_string()),
        any::<u64>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| format!("{v:?}")),
        Just("nan".to_string()),
        Just("-inf".to_string()),
        Just("1e400".to_string()),
        "[a-z\"\\[\\]{}=., 0-9]{0,12}",
    ]
}

/// Lines of a near-valid config: a section header, then `key = value`.
fn near_valid_config() -> impl Strategy<Value = String> {
    prop::collection::vec((0..SECTIONS.len(), 0..KEYS.len(), value()), 0..6).prop_map(|lines| {
        lines
            .into_iter()
            .map(|(s, k, v)| {
                let header = if SECTIONS[s].is_empty() { String::new() } else { format!("[{}]\n", SECTIONS[s]) };
                format!("{header}{} = {v}\n", KEYS[k])
            })
            .collect()
    })
}

fn check_config_text(text: &str) {
    match Setting::from_toml_str(text, "fuzz.toml") {
        Ok(s) => {
            if let Err(e) = s.validate() {
                assert!(named(&e, "fuzz.toml"), "unnamed error {e} for\n{text}");
            } else {
                let _ = adamgap::memory::of_setting(&s);
            }
        }
        Err(e) => assert!(e.to_string().contains("fuzz.toml"), "{e}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn config_files_of_random_bytes_are_errors_naming_the_file(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let (_tmp, dir) = scratch("bytes");
        let path = dir.join("c.toml");
        std::fs::write(&path, &bytes).unwrap();
        match adamgap::setting::read_toml_file::<Setting>(&path) {
            Ok(s) => { let _ = s.validate(); }
            Err(e) => prop_assert!(e.to_string().contains(path.to_str().unwrap()), "{}", e),
        }
    }

    #[test]
    fn near_valid_configs_are_ok_or_name_the_field(text in near_valid_config()) {
        check_config_text(&text);
    }
}

fn theorem_text() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/theorems/01-adam-nonconvex.toml")).unwrap()
}

/// A mutation of a text: delete a range, insert a string, or replace a run of digits.
fn mutate(text: &str, kind: u8, at: usize, len: usize, insert: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = at % (chars.len() + 1);
    let end = (at + len).min(chars.len());
    let (head, tail): (String, String) = (chars[..at].iter().collect(), chars[end..].iter().collect());
    match kind % 3 {
        0 => format!("{head}{tail}"),
        1 => format!("{head}{insert}{}", chars[at..].iter().collect::<String>()),
        _ => format!("{head}{insert}{tail}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_theorem_files_are_ok_or_name_the_file(
        kind in any::<u8>(), at in any::<usize>(), len in 0usize..40,
        insert in prop_oneof![value(), "[\\[\\]=\"\n#a-z_.]{0,10}"],
    ) {
        let text = mutate(&theorem_text(), kind, at, len, &insert);
        match Theorem::from_toml_str(&text, "fuzz.toml") {
            Ok(t) => {
                for scale in [Scale::Full, Scale::Test] {
                    if let Err(e) = t.setting(scale, "fuzz.toml") {
                        prop_assert!(named(&e, "fuzz.toml"), "{}", e);
                    }
                }
            }
            Err(e) => prop_assert!(e.to_string().contains("fuzz.toml"), "{}", e),
        }
    }
}

/// A real export folder of a tiny run, in a scratch folder removed when the guard drops.
fn export_folder() -> (tempfile::TempDir, PathBuf) {
    let (tmp, dir) = scratch("export");
    let dir = dir.join("run");
    let mut s = Setting::default();
    (s.data.d, s.data.n, s.data.s, s.data.test_size, s.model.m, s.train.steps) = (30, 6, 3, 10, 2, 3);
    let exp = adamgap::train::Experiment::new(&s).unwrap();
    let runs = exp.run_all(&|_, _| {});
    adamgap::interchange::export::write(&dir, &exp, &runs, None).unwrap();
    (tmp, dir)
}

fn import_error_names_file(dir: &Path, file: &Path) -> Result<(), String> {
    match adamgap::interchange::import::read(dir) {
        Ok(_) => Ok(()),
        Err(e) if e.to_string().contains(file.to_str().unwrap()) => Ok(()),
        Err(e) => Err(format!("{e} does not name {}", file.display())),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// The `.npy` reader of `run --import`: random bytes, or a real file with bytes of its header
    /// overwritten, give an error naming the file.
    #[test]
    fn npy_files_with_random_headers_are_errors_naming_the_file(
        which in 0usize..3, random in any::<bool>(),
        edits in prop::collection::vec((0usize..128, any::<u8>()), 1..6),
        bytes in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let (_tmp, dir) = export_folder();
        let name = ["w_init.npy", "train_indptr.npy", "test_y.npy"][which];
        let path = dir.join(name);
        let mut content = std::fs::read(&path).unwrap();
        if random {
            content = bytes;
        } else {
            for (at, b) in edits {
                if at < content.len() {
                    content[at] = b;
                }
            }
        }
        std::fs::write(&path, &content).unwrap();
        let r = import_error_names_file(&dir, &path);
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
    }
}
