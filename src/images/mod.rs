//! Real images, offline (`docs/images.md`): Fashion-MNIST from its IDX files (the Debian package
//! `dataset-fashion-mnist`) and the UCI 8 x 8 digits (embedded by the `smartcore` crate), turned
//! into a binary task of two named classes in the paper's patch layout. The result is an ordinary
//! [`Experiment`]: the network, the optimizers, checkpoints and certificates do not learn where
//! the data came from.
//!
//! The task `DATASET:A,B` labels class `A` `+1` and class `B` `-1`. The `n` training images are a
//! balanced subsample (`ceil(n/2)` of `A`, `floor(n/2)` of `B`, without replacement) drawn with
//! the ChaCha8 stream [`STREAM_SUBSAMPLE`] of the seed; the test images are every image of the two
//! classes in the test split (Fashion-MNIST's `t10k` files; for the digits, which have no split,
//! every image of the two classes not drawn for training), or a balanced subsample of `test_size`
//! of them (stream [`STREAM_TEST_SUBSAMPLE`]) when there are more.

pub mod digits;
pub mod idx;
pub mod patches;
pub mod set;

pub use set::ImageSet;

use std::path::{Path, PathBuf};

use rand::seq::index::sample;

use crate::data::rng;
use crate::error::{Error, Result};
use crate::model::{Cnn, Weights};
use crate::setting::{FeatureNoise, NoiseKind, Setting};
use crate::train::Experiment;

/// The ChaCha8 stream of the training subsample (after the streams of `crate::data`).
pub const STREAM_SUBSAMPLE: u64 = 4;
/// The ChaCha8 stream of the test subsample (used only when `test_size` is smaller than the test
/// images of the two classes).
pub const STREAM_TEST_SUBSAMPLE: u64 = 5;

/// Where the Debian package `dataset-fashion-mnist` puts the files.
pub const DEFAULT_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// Fashion-MNIST's class names, by label.
pub const FASHION_CLASSES: [&str; 10] =
    ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"];

/// A source of images.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// Fashion-MNIST (28 x 28, pixels `0..=255`), from IDX files.
    FashionMnist,
    /// The UCI optical digits (8 x 8, pixels `0..=16`), embedded.
    Digits,
}

impl Source {
    /// The name in a `--dataset` value.
    pub fn name(self) -> &'static str {
        match self {
            Source::FashionMnist => "fashion-mnist",
            Source::Digits => "digits",
        }
    }
    /// The class names, by label.
    pub fn classes(self) -> [&'static str; 10] {
        match self {
            Source::FashionMnist => FASHION_CLASSES,
            Source::Digits => ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
        }
    }
}

/// A binary task: class `classes[0]` labelled `+1`, `classes[1]` labelled `-1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Task {
    pub source: Source,
    pub classes: [u8; 2],
}

impl Task {
    /// Parses `DATASET:A,B` (`fashion-mnist:shirt,t-shirt`, `digits:3,8`); errors name `flag`.
    pub fn parse(text: &str, flag: &str) -> Result<Self> {
        let form = "DATASET:A,B with DATASET fashion-mnist or digits and two different classes of it \
                    (fashion-mnist: t-shirt, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag, \
                    ankle-boot; digits: 0 to 9), e.g. fashion-mnist:shirt,t-shirt";
        let bad = || Error::invalid(flag, text, form);
        let (name, classes) = text.split_once(':').ok_or_else(bad)?;
        let source = match name.trim() {
            "fashion-mnist" => Source::FashionMnist,
            "digits" => Source::Digits,
            _ => return Err(bad()),
        };
        let (a, b) = classes.split_once(',').ok_or_else(bad)?;
        let find = |c: &str| source.classes().iter().position(|k| *k == c.trim()).map(|k| k as u8).ok_or_else(bad);
        let (a, b) = (find(a)?, find(b)?);
        if a == b {
            return Err(bad());
        }
        Ok(Self { source, classes: [a, b] })
    }

    /// The task's name, `fashion-mnist:shirt,t-shirt`.
    pub fn label(&self) -> String {
        let c = self.source.classes();
        format!("{}:{},{}", self.source.name(), c[self.classes[0] as usize], c[self.classes[1] as usize])
    }
}

/// What a real-image experiment was made of (printed with its report).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TaskInfo {
    /// `fashion-mnist:shirt,t-shirt`.
    pub task: String,
    /// The class labelled `+1`, and the one labelled `-1`.
    pub positive: String,
    pub negative: String,
    /// Image size.
    pub rows: usize,
    pub cols: usize,
    /// Tile side; `d = tile^2`, `P` tiles per image.
    pub tile: usize,
    pub d: usize,
    pub patches: usize,
    /// A pixel's value is `x / pixel_max`.
    pub pixel_max: u8,
    /// Training images drawn, of the training images of the two classes.
    pub n: usize,
    pub train_available: usize,
    /// Test images used, of the test images of the two classes.
    pub test: usize,
    pub test_available: usize,
}

/// The IDX file `dir/name`, or `dir/name.gz`; a clear error naming the Debian package when
/// neither is there.
fn locate(dir: &Path, name: &str) -> Result<PathBuf> {
    let plain = dir.join(name);
    let gz = dir.join(format!("{name}.gz"));
    if plain.exists() {
        Ok(plain)
    } else if gz.exists() {
        Ok(gz)
    } else {
        Err(Error::io(
            &gz,
            format!(
                "no Fashion-MNIST file {name} or {name}.gz in {} (install the Debian package \
                 dataset-fashion-mnist: apt-get install dataset-fashion-mnist, or pass --dataset-dir)",
                dir.display()
            ),
        ))
    }
}

/// Reads one split (`train` or `t10k`) of Fashion-MNIST from `dir`, checked: the counts of images
/// and labels agree, labels in `0..=9`.
pub fn read_fashion(dir: &Path, split: &str) -> Result<ImageSet> {
    let ip = locate(dir, &format!("{split}-images-idx3-ubyte"))?;
    let lp = locate(dir, &format!("{split}-labels-idx1-ubyte"))?;
    let images = idx::read(&ip, idx::MAGIC_IMAGES)?;
    let labels = idx::read(&lp, idx::MAGIC_LABELS)?;
    if images.dims[0] != labels.dims[0] {
        return Err(Error::io(
            &lp,
            format!("{} labels, but {} holds {} images", labels.dims[0], ip.display(), images.dims[0]),
        ));
    }
    if let Some(k) = labels.data.iter().position(|&l| l > 9) {
        return Err(Error::io(&lp, format!("label {} at index {k}, expected 0..=9", labels.data[k])));
    }
    Ok(ImageSet { rows: images.dims[1], cols: images.dims[2], pixels: images.data, labels: labels.data, max: 255 })
}

impl Source {
    /// Rows and columns of every image.
    pub fn side(self) -> usize {
        match self {
            Source::FashionMnist => 28,
            Source::Digits => digits::SIDE,
        }
    }

    /// The most test images two classes can have: Fashion-MNIST's test split holds 1,000 of each
    /// class; the digits have no split, at most 183 images a class (`docs/images.md`).
    fn most_test_images(self) -> usize {
        match self {
            Source::FashionMnist => 2_000,
            Source::Digits => 2 * 183,
        }
    }

    /// The default tile side: 7 for Fashion-MNIST (16 tiles of 49 pixels), 4 for the digits.
    pub fn default_tile(self) -> usize {
        match self {
            Source::FashionMnist => 7,
            Source::Digits => 4,
        }
    }
}

/// The memory [`experiment`] of `task` under `base` with tiles of side `tile` needs, estimated
/// before any file is read: the images as read and decompressed (Fashion-MNIST: both splits'
/// files, at most [`idx::MAX_BYTES`] each), and the experiment's own (`memory::of_setting` of
/// the setting `experiment` builds, with at most all of the two classes' test images).
pub fn estimate(task: &Task, base: &Setting, tile: usize) -> crate::memory::Estimate {
    let side = task.source.side();
    let mut s = base.clone();
    let tile = tile.clamp(1, side);
    s.data.d = tile * tile;
    s.data.patches = (side / tile) * (side / tile);
    s.data.test_size = s.data.test_size.min(task.source.most_test_images());
    s.data.noise = NoiseKind::Dense;
    s.data.feature_noise = FeatureNoise::InNoisePatch;
    let mut e = crate::memory::of_setting(&s);
    if let Some((what, bytes)) = files_estimate(task) {
        e.add(what, bytes);
    }
    e
}

/// The part of [`estimate`] that lasts only while the files are read: Fashion-MNIST's 70,000
/// images of 28 x 28 bytes and their labels, the compressed files read first (`None` for the
/// embedded digits). A checker keeps the loaded images for all its experiments: it needs it once.
pub fn files_estimate(task: &Task) -> Option<(&'static str, u128)> {
    (task.source == Source::FashionMnist)
        .then(|| ("Fashion-MNIST files as read and decompressed (both splits)", 2 * (70_000u128 * 28 * 28 + 70_000)))
}

/// `k` of `pool`, drawn without replacement by `r`, in increasing order.
fn draw(pool: &[usize], k: usize, r: &mut rand_chacha::ChaCha8Rng) -> Vec<usize> {
    let mut v: Vec<usize> = sample(r, pool.len(), k).into_iter().map(|j| pool[j]).collect();
    v.sort_unstable();
    v
}

/// A balanced subsample of `k` of the images of `pools` (`ceil(k/2)` of the first, `floor(k/2)`
/// of the second), in increasing order; `field` names the count in an error.
fn balanced(pools: &[Vec<usize>; 2], k: usize, r: &mut rand_chacha::ChaCha8Rng, field: &str) -> Result<Vec<usize>> {
    let want = [k - k / 2, k / 2];
    let (a, b) = (pools[0].len(), pools[1].len());
    if want[0] > a || want[1] > b {
        let most = if a > b { 2 * b + 1 } else { 2 * a };
        return Err(Error::invalid(
            field,
            k,
            format!("at most {most} (ceil(n/2) of the first class's {a} images, floor(n/2) of the second's {b})"),
        ));
    }
    let mut v = draw(&pools[0], want[0], r);
    v.extend(draw(&pools[1], want[1], r));
    v.sort_unstable();
    Ok(v)
}

/// The experiment of `task` under `base` (the model, training and optimizers of the setting; its
/// seed; `data.n` training images; at most `data.test_size` test images), tiles of side `tile`,
/// Fashion-MNIST read from `dir`. The setting's data fields are set to what the images are: `d =
/// tile^2`, `P` tiles, dense inputs; `data.label_flip` must be 0.
pub fn experiment(task: &Task, base: &Setting, dir: &Path, tile: usize) -> Result<(Experiment, TaskInfo)> {
    check_labels(base)?;
    experiment_on(task, base, &load(task.source, dir)?, tile)
}

/// The images of a source: its training split and, for Fashion-MNIST, its test split (the digits
/// have no split). Fashion-MNIST is read from `dir`.
pub type Splits = (ImageSet, Option<ImageSet>);

/// Reads (Fashion-MNIST) or decodes (the digits) every image of `source`; the two splits' images
/// must have the same size.
pub fn load(source: Source, dir: &Path) -> Result<Splits> {
    let splits = match source {
        Source::FashionMnist => (read_fashion(dir, "train")?, Some(read_fashion(dir, "t10k")?)),
        Source::Digits => (digits::load()?, None),
    };
    let (rows, cols) = (splits.0.rows, splits.0.cols);
    if let Some(t) = &splits.1
        && (t.rows, t.cols) != (rows, cols)
    {
        return Err(Error::io(dir, format!("test images are {}x{}, training images {rows}x{cols}", t.rows, t.cols)));
    }
    Ok(splits)
}

/// Real labels are not flipped: `data.label_flip` must be 0.
fn check_labels(base: &Setting) -> Result<()> {
    if base.data.label_flip != 0.0 {
        return Err(Error::invalid(
            "data.label_flip",
            base.data.label_flip,
            "0 with --dataset (real labels are not flipped)",
        ));
    }
    Ok(())
}

/// [`experiment`] on images already loaded ([`load`]): a checker that builds one experiment per
/// seed reads the files once.
pub fn experiment_on(task: &Task, base: &Setting, splits: &Splits, tile: usize) -> Result<(Experiment, TaskInfo)> {
    check_labels(base)?;
    let (train_set, test_set) = (&splits.0, splits.1.as_ref());
    let (rows, cols) = (train_set.rows, train_set.cols);
    let tiles_ok = |t: usize| {
        t >= 2 && rows.is_multiple_of(t) && cols.is_multiple_of(t) && (2..=64).contains(&((rows / t) * (cols / t)))
    };
    if !tiles_ok(tile) {
        let ok: Vec<String> = (1..=rows.max(cols)).filter(|&t| tiles_ok(t)).map(|t| t.to_string()).collect();
        return Err(Error::invalid(
            "--tile",
            tile,
            format!("a side dividing the {rows}x{cols} images into 2 to 64 tiles: one of {}", ok.join(", ")),
        ));
    }
    let pools = |set: &ImageSet, skip: &[usize]| -> [Vec<usize>; 2] {
        let keep = |i: &usize| skip.binary_search(i).is_err();
        task.classes.map(|c| (0..set.len()).filter(|&i| set.labels[i] == c).filter(keep).collect())
    };
    let train_pools = pools(&train_set, &[]);
    let train_available = train_pools[0].len() + train_pools[1].len();
    let n = base.data.n;
    let chosen = balanced(&train_pools, n, &mut rng(base.seed, STREAM_SUBSAMPLE), "data.n")?;
    let (test_src, test_pools) = match &test_set {
        Some(t) => (t, pools(t, &[])),
        None => (&train_set, pools(&train_set, &chosen)),
    };
    let test_available = test_pools[0].len() + test_pools[1].len();
    if test_available == 0 {
        return Err(Error::invalid("data.n", n, "fewer than all images of the two classes (none is left to test on)"));
    }
    let test_idx = if base.data.test_size >= test_available {
        let mut v: Vec<usize> = test_pools.concat();
        v.sort_unstable();
        v
    } else {
        balanced(&test_pools, base.data.test_size, &mut rng(base.seed, STREAM_TEST_SUBSAMPLE), "data.test_size")?
    };
    let positive = task.classes[0];
    let train = patches::patch_data(&train_set, &chosen, positive, tile);
    let test = patches::patch_data(test_src, &test_idx, positive, tile);
    let mut setting = base.clone();
    let d = &mut setting.data;
    d.d = tile * tile;
    d.patches = train.patches;
    d.n = train.len();
    d.test_size = test.len();
    d.noise = NoiseKind::Dense;
    d.feature_noise = FeatureNoise::InNoisePatch;
    setting.validate()?;
    let init = Weights::init(setting.data.d, setting.model.m, setting.model.sigma0, setting.seed);
    let model = Cnn::from_setting(&setting.model, setting.data.d);
    let names = task.source.classes();
    let info = TaskInfo {
        task: task.label(),
        positive: names[task.classes[0] as usize].to_string(),
        negative: names[task.classes[1] as usize].to_string(),
        rows,
        cols,
        tile,
        d: setting.data.d,
        patches: train.patches,
        pixel_max: train_set.max,
        n: train.len(),
        train_available,
        test: test.len(),
        test_available,
    };
    Ok((Experiment { setting, train, test, model, init }, info))
}
