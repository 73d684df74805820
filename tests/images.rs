//! Real images (`docs/images.md`): the IDX reader against the installed Fashion-MNIST (skipped,
//! with a printed reason, when the Debian package is absent), the embedded digits against known
//! values, truncated and corrupted files rejected, the task's balanced subsample, and a digits run
//! through the binary.

mod common;

use std::io::Write as _;
use std::path::Path;

use adamgap::images::{self, Task, idx};
use adamgap::setting::Setting;
use common::{adamgap, scratch};

fn idx_bytes(magic: u32, dims: &[u32], values: &[u8]) -> Vec<u8> {
    let mut b = magic.to_be_bytes().to_vec();
    for d in dims {
        b.extend(d.to_be_bytes());
    }
    b.extend(values);
    b
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A Fashion-MNIST folder of `k` 28 x 28 images per split (image `i` all `i`, label `i % 10`).
fn write_fashion(dir: &Path, k: u32, compress: bool) {
    for split in ["train", "t10k"] {
        let pixels: Vec<u8> = (0..k).flat_map(|i| std::iter::repeat_n(i as u8, 784)).collect();
        let labels: Vec<u8> = (0..k).map(|i| (i % 10) as u8).collect();
        let files = [
            (format!("{split}-images-idx3-ubyte"), idx_bytes(idx::MAGIC_IMAGES, &[k, 28, 28], &pixels)),
            (format!("{split}-labels-idx1-ubyte"), idx_bytes(idx::MAGIC_LABELS, &[k], &labels)),
        ];
        for (name, b) in files {
            if compress {
                std::fs::write(dir.join(format!("{name}.gz")), gz(&b)).unwrap();
            } else {
                std::fs::write(dir.join(name), b).unwrap();
            }
        }
    }
}

/// The installed Fashion-MNIST: 60,000 and 10,000 images of 28 x 28, 6,000 of each class in the
/// training split; the first training image is an ankle boot (label 9) whose pixels sum to 76,247
/// with maximum 255, and the first test labels are 9, 2, 1 (values read with Python's gzip module).
#[test]
fn fashion_mnist_as_installed() {
    let dir = Path::new(images::DEFAULT_DIR);
    if !dir.join("train-images-idx3-ubyte.gz").exists() {
        println!("skipped: {} has no Fashion-MNIST (apt-get install dataset-fashion-mnist)", dir.display());
        return;
    }
    let train = images::read_fashion(dir, "train").unwrap();
    assert_eq!((train.len(), train.rows, train.cols, train.max), (60_000, 28, 28, 255));
    assert_eq!(train.labels[0], 9);
    let first = train.image(0);
    assert_eq!(first.iter().map(|&v| u64::from(v)).sum::<u64>(), 76_247);
    assert_eq!(first.iter().max(), Some(&255));
    for c in 0..10 {
        assert_eq!(train.labels.iter().filter(|&&l| l == c).count(), 6000, "class {c}");
    }
    let test = images::read_fashion(dir, "t10k").unwrap();
    assert_eq!(test.len(), 10_000);
    assert_eq!(&test.labels[..3], &[9, 2, 1]);
}

/// The embedded digits are the real UCI set: 1,797 images, the class counts of scikit-learn's
/// copy, the first image a 0 whose first row is 0 0 5 13 9 1 0 0 and whose pixels sum to 294.
#[test]
fn digits_are_the_uci_set() {
    let d = images::digits::load().unwrap();
    assert_eq!((d.len(), d.rows, d.cols, d.max), (1797, 8, 8, 16));
    assert_eq!(d.labels[0], 0);
    assert_eq!(&d.image(0)[..8], &[0, 0, 5, 13, 9, 1, 0, 0]);
    assert_eq!(d.image(0).iter().map(|&v| u32::from(v)).sum::<u32>(), 294);
    let counts: Vec<usize> = (0..10).map(|c| d.labels.iter().filter(|&&l| l == c).count()).collect();
    assert_eq!(counts, vec![178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
}

/// Plain and gzipped folders read the same; truncated, corrupted and mismatched files are refused
/// with the file and the problem named.
#[test]
fn truncated_and_corrupted_files_are_rejected() {
    let (_a, plain) = scratch("idx-plain");
    let (_b, zipped) = scratch("idx-gz");
    write_fashion(&plain, 4, false);
    write_fashion(&zipped, 4, true);
    let p = images::read_fashion(&plain, "train").unwrap();
    assert_eq!(p, images::read_fashion(&zipped, "train").unwrap());
    assert_eq!((p.len(), p.labels.clone(), p.image(3)[783]), (4, vec![0, 1, 2, 3], 3));

    let err = |dir: &Path| images::read_fashion(dir, "train").unwrap_err().to_string();
    let images_gz = zipped.join("train-images-idx3-ubyte.gz");
    let full = std::fs::read(&images_gz).unwrap();
    std::fs::write(&images_gz, &full[..full.len() / 2]).unwrap();
    let e = err(&zipped);
    assert!(e.contains("train-images-idx3-ubyte.gz") && e.contains("not a valid gzip file"), "{e}");

    let images_plain = plain.join("train-images-idx3-ubyte");
    let raw = std::fs::read(&images_plain).unwrap();
    std::fs::write(&images_plain, &raw[..raw.len() - 1]).unwrap();
    let e = err(&plain);
    assert!(e.contains("train-images-idx3-ubyte") && e.contains("(truncated)"), "{e}");

    let mut wrong = raw.clone();
    wrong[3] = 0x01;
    std::fs::write(&images_plain, &wrong).unwrap();
    assert!(err(&plain).contains("magic number 0x00000801, expected 0x00000803"), "{}", err(&plain));

    std::fs::write(&images_plain, &raw).unwrap();
    let labels = plain.join("train-labels-idx1-ubyte");
    std::fs::write(&labels, idx_bytes(idx::MAGIC_LABELS, &[3], &[0, 1, 2])).unwrap();
    assert!(err(&plain).contains("3 labels, but"), "{}", err(&plain));
    std::fs::write(&labels, idx_bytes(idx::MAGIC_LABELS, &[4], &[0, 1, 12, 3])).unwrap();
    assert!(err(&plain).contains("label 12 at index 2"), "{}", err(&plain));
}

/// The training subsample is balanced, drawn from the seed (the same seed the same images,
/// another seed others); the digits' test images are the rest of the two classes.
#[test]
fn the_subsample_is_balanced_and_seeded() {
    let task = Task::parse("digits:3,8", "--dataset").unwrap();
    let mut s = Setting::default();
    s.data.n = 101;
    let (a, info) = images::experiment(&task, &s, Path::new("/nonexistent"), 4).unwrap();
    let positives = a.train.y.iter().filter(|&&y| y == 1.0).count();
    assert_eq!((positives, a.train.len() - positives), (51, 50));
    assert_eq!((info.train_available, info.test, a.test.len()), (183 + 174, 357 - 101, 357 - 101));
    assert_eq!((a.setting.data.d, a.setting.data.patches, a.train.d, a.train.patches), (16, 4, 16, 4));
    assert_eq!(a.setting.data.test_size, a.test.len());
    let (b, _) = images::experiment(&task, &s, Path::new("/nonexistent"), 4).unwrap();
    assert_eq!(a.train, b.train);
    s.seed += 1;
    let (c, _) = images::experiment(&task, &s, Path::new("/nonexistent"), 4).unwrap();
    assert!(a.train.x != c.train.x, "another seed drew the same training images");
    s.data.test_size = 10;
    let (t, _) = images::experiment(&task, &s, Path::new("/nonexistent"), 4).unwrap();
    assert_eq!(t.test.y.iter().filter(|&&y| y == 1.0).count(), 5);
    s.data.n = 349;
    assert!(images::experiment(&task, &s, Path::new("/nonexistent"), 4).is_ok());
    s.data.n = 350;
    let e = images::experiment(&task, &s, Path::new("/nonexistent"), 4).unwrap_err().to_string();
    assert!(e.contains("data.n") && e.contains("at most 349"), "{e}");
}

/// A digits run through the binary: the JSON names the task and its shapes, both optimizers ran
/// and the GD-Adam comparison is there; bad values exit 2 with the flag named.
#[test]
fn digits_run_through_the_binary() {
    let (_r, rep) = scratch("images-report");
    let report = rep.join("out");
    let out = adamgap(&[
        "run",
        "--dataset",
        "digits:3,8",
        "--n",
        "60",
        "--steps",
        "40",
        "--quiet",
        "--json",
        "--certify",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ds = &v["dataset"];
    assert_eq!(ds["task"], "digits:3,8");
    assert_eq!(
        (ds["n"].as_u64(), ds["test"].as_u64(), ds["d"].as_u64(), ds["patches"].as_u64()),
        (Some(60), Some(297), Some(16), Some(4))
    );
    assert!(ds["distance_gd_adam"].as_f64().is_some_and(|x| x > 0.0));
    assert!(v["certify"].is_object(), "--certify works on real images");
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(md.starts_with("# adamgap report: real images (digits:3,8)") && md.contains("task: digits:3,8"), "{md}");
    let (own, certified) = md.split_once("\n## Certified endpoints\n").expect("the certificate's section");
    assert!(
        !own.contains("max gamma") && !own.contains("max_r rho") && own.contains("| step | objective |"),
        "no synthetic coefficient in the traces: {own}"
    );
    assert!(certified.contains("test error"), "{certified}");
    let mut files: Vec<String> =
        std::fs::read_dir(&report).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    files.sort();
    assert_eq!(files, ["errors.svg", "report.md"], "only the figure that describes real data");
    for k in ["gd", "adam"] {
        let e = v["runs"][k]["test_error"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&e), "{k}: {e}");
    }
    let text = adamgap(&["run", "--dataset", "digits:3,8", "--n", "60", "--steps", "40", "--quiet"]);
    let t = String::from_utf8_lossy(&text.stdout);
    assert!(t.contains("task: digits:3,8 (3 = +1, 8 = -1)") && t.contains("test error, Adam minus GD"), "{t}");
    assert!(!t.contains("gamma (j=+1"), "{t}");

    let fail = |args: &[&str], want: &[&str]| {
        let o = adamgap(args);
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        for w in want {
            assert!(e.contains(w), "{args:?}: {e}");
        }
    };
    fail(&["run", "--dataset", "digits:3,8", "--tile", "3", "--quiet"], &["--tile", "2, 4"]);
    fail(&["run", "--dataset", "digits:3,3", "--quiet"], &["--dataset", "digits:3,3"]);
    fail(&["run", "--dataset", "mnist:3,8", "--quiet"], &["--dataset", "fashion-mnist"]);
    fail(&["run", "--dataset", "digits:3,8", "--d", "10", "--quiet"], &["--d"]);
    let export = rep.join("export");
    fail(&["run", "--dataset", "digits:3,8", "--export", export.to_str().unwrap(), "--quiet"], &["--export"]);
    assert!(!export.exists(), "a refused --export wrote nothing");
    let (_t, empty) = scratch("no-fashion");
    let dir = empty.to_str().unwrap();
    fail(
        &["run", "--dataset", "fashion-mnist:shirt,t-shirt", "--dataset-dir", dir, "--quiet"],
        &["dataset-fashion-mnist", "train-images-idx3-ubyte"],
    );
}
