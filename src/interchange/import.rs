//! Reads an `adamgap-run-1` folder (`adamgap run --import DIR`), possibly written by Python, and
//! rebuilds the experiment it describes.
//!
//! Every array is checked before anything runs: dtype and byte order (`<f8` or `<i8`, nothing
//! converted silently), rank and shape against the manifest, `indptr` starting at 0, monotone and
//! ending at the number of entries, indices in `0..d` and strictly increasing within a row, labels
//! `+1` or `-1`, every value finite, the manifest's format version and its shapes against its
//! setting. A failure names the file and the problem.
//!
//! What the files do not store is derived by the rule of `docs/interchange.md`: the signal patch of
//! a sample is its first patch equal to `+e_1` or `-e_1` (its sign is the clean label); the noise
//! vector `xi_i` is the sum of the other patches (without the last of them, the feature-noise
//! patch, when the setting puts the feature noise in a separate patch), summed in patch order as
//! [`crate::data::PatchData::generate`] does, so an exported folder reads back bit for bit.

use std::path::Path;

use ndarray::{Array, Array1, Array3, Dimension};
use ndarray_npy::{ReadNpyExt, ReadableElement};
use serde_json::Value;

use super::{FORMAT, Shapes, data_files};
use crate::data::{PatchData, SparseRows};
use crate::error::{Error, Result};
use crate::model::{Cnn, Weights};
use crate::setting::{FeatureNoise, Setting};
use crate::train::Experiment;

/// The contents of an imported folder.
#[derive(Clone, Debug)]
pub struct Imported {
    /// The manifest's setting (the default of the run; flags may override what does not describe
    /// the data or `W^(0)`).
    pub setting: Setting,
    pub shapes: Shapes,
    pub train: PatchData,
    pub test: PatchData,
    pub init: Weights,
}

/// A problem with the file `path`.
fn bad(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::Config { origin: path.display().to_string(), message: message.to_string() }
}

/// Reads `dir/name` as an array of rank `D::NDIM` with the little-endian descriptor `descr`
/// (`<f8` or `<i8`), C or Fortran order (returned in standard layout).
fn read_npy<T: ReadableElement + Clone, D: Dimension>(dir: &Path, name: &str, descr: &str) -> Result<Array<T, D>> {
    let path = dir.join(name);
    let bytes = crate::input::read_bytes(&path, u64::MAX)?;
    let header = ndarray_npy::npy::header::Header::from_reader(&mut &bytes[..])
        .map_err(|e| bad(&path, format!("not a .npy file: {e}")))?;
    let found = header.type_descriptor.as_string().cloned().unwrap_or_else(|| header.type_descriptor.to_string());
    let kind = if descr.ends_with("f8") { "float64" } else { "int64" };
    if found != descr {
        let swapped = found.len() == descr.len() && found.starts_with('>') && found[1..] == descr[1..];
        return Err(if swapped {
            bad(
                &path,
                format!(
                    "byte order: found big-endian '{found}', expected little-endian '{descr}' (write arr.astype('{descr}'))"
                ),
            )
        } else {
            bad(&path, format!("dtype: found '{found}', expected '{descr}' ({kind}; write arr.astype(np.{kind}))"))
        });
    }
    if let Some(nd) = D::NDIM
        && header.shape.len() != nd
    {
        return Err(bad(&path, format!("rank {} (shape {:?}), expected rank {nd}", header.shape.len(), header.shape)));
    }
    let a = Array::<T, D>::read_npy(&bytes[..]).map_err(|e| bad(&path, e))?;
    Ok(a.as_standard_layout().into_owned())
}

fn check_len(path: &Path, found: usize, expected: usize, what: &str) -> Result<()> {
    if found == expected { Ok(()) } else { Err(bad(path, format!("length {found}, expected {expected} ({what})"))) }
}

/// Reads and checks the CSR triplet and labels with prefix `prefix`: `samples` samples of
/// `patches` patches in `R^d`, `nnz` entries.
fn read_data(dir: &Path, prefix: &str, samples: usize, sh: &Shapes, nnz: usize) -> Result<(SparseRows, Vec<f64>)> {
    let [f_ptr, f_idx, f_val, f_y] = data_files(prefix);
    let (p_ptr, p_idx, p_val, p_y) = (dir.join(&f_ptr), dir.join(&f_idx), dir.join(&f_val), dir.join(&f_y));
    let rows = samples * sh.patches;
    let indptr: Array1<i64> = read_npy(dir, &f_ptr, "<i8")?;
    check_len(
        &p_ptr,
        indptr.len(),
        rows + 1,
        &format!("n P + 1 with n = {samples}, P = {} from the manifest", sh.patches),
    )?;
    let indices: Array1<i64> = read_npy(dir, &f_idx, "<i8")?;
    check_len(&p_idx, indices.len(), nnz, &format!("{prefix}_nnz in manifest.json"))?;
    let values: Array1<f64> = read_npy(dir, &f_val, "<f8")?;
    check_len(&p_val, values.len(), nnz, &format!("{prefix}_nnz in manifest.json"))?;
    let y: Array1<f64> = read_npy(dir, &f_y, "<f8")?;
    check_len(&p_y, y.len(), samples, "the number of samples in manifest.json")?;

    if indptr[0] != 0 {
        return Err(bad(&p_ptr, format!("indptr[0] = {}, expected 0", indptr[0])));
    }
    for k in 0..rows {
        if indptr[k + 1] < indptr[k] {
            return Err(bad(
                &p_ptr,
                format!("indptr is not monotone: indptr[{k}] = {} > indptr[{}] = {}", indptr[k], k + 1, indptr[k + 1]),
            ));
        }
    }
    if indptr[rows] != nnz as i64 {
        return Err(bad(&p_ptr, format!("indptr[{rows}] = {}, expected the number of entries {nnz}", indptr[rows])));
    }
    let mut idx = Vec::with_capacity(nnz);
    for (pos, &k) in indices.iter().enumerate() {
        if !(0..sh.d as i64).contains(&k) {
            return Err(bad(&p_idx, format!("index {k} at position {pos} out of range 0..d = 0..{}", sh.d)));
        }
        idx.push(k as u32);
    }
    for row in 0..rows {
        let (a, b) = (indptr[row] as usize, indptr[row + 1] as usize);
        if let Some(w) = idx[a..b].windows(2).position(|w| w[0] >= w[1]) {
            return Err(bad(
                &p_idx,
                format!(
                    "indices not sorted within row {row} (sample {}, patch {}): {} then {} at positions {} and {}",
                    row / sh.patches,
                    row % sh.patches,
                    idx[a + w],
                    idx[a + w + 1],
                    a + w,
                    a + w + 1
                ),
            ));
        }
    }
    if let Some(pos) = values.iter().position(|v| !v.is_finite()) {
        return Err(bad(&p_val, format!("non-finite value {} at position {pos}", values[pos])));
    }
    if let Some(pos) = y.iter().position(|&v| v != 1.0 && v != -1.0) {
        return Err(bad(&p_y, format!("label {} at index {pos}; labels must be +1 or -1", y[pos])));
    }
    let ptr = indptr.iter().map(|&p| p as usize).collect();
    Ok((SparseRows { ptr, idx, val: values.to_vec() }, y.to_vec()))
}

/// Rebuilds a [`PatchData`] from checked rows and labels (signal patch, clean labels and noise
/// vectors by the rule of the module doc).
fn patch_data(
    dir: &Path,
    prefix: &str,
    x: SparseRows,
    y: Vec<f64>,
    sh: &Shapes,
    fnoise: FeatureNoise,
) -> Result<PatchData> {
    let path = dir.join(data_files(prefix)[0].replace("indptr", "data"));
    let p = sh.patches;
    let (mut noise, mut clean_y, mut signal_patch) = (SparseRows::default(), Vec::new(), Vec::new());
    noise.ptr.push(0);
    for i in 0..y.len() {
        let signal = (0..p).find_map(|q| match x.row(i * p + q) {
            ([0], [v]) if v.abs() == 1.0 => Some((q, *v)),
            _ => None,
        });
        let Some((sp, label)) = signal else {
            return Err(bad(&path, format!("sample {i} has no signal patch (a patch equal to +e_1 or -e_1)")));
        };
        let mut others: Vec<usize> = (0..p).filter(|&q| q != sp).collect();
        if fnoise == FeatureNoise::SeparatePatch {
            let last = others.pop().filter(|&q| x.row(i * p + q).0 == [0]);
            if last.is_none() {
                return Err(bad(
                    &path,
                    format!(
                        "sample {i}: with feature_noise = separate-patch its last non-signal patch must be a multiple of e_1"
                    ),
                ));
            }
        }
        let mut entries: Vec<(u32, f64)> = Vec::new();
        for q in others {
            let (ki, kv) = x.row(i * p + q);
            entries.extend(ki.iter().copied().zip(kv.iter().copied()));
        }
        entries.sort_by_key(|e| e.0);
        let mut merged: Vec<(u32, f64)> = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            match merged.last_mut() {
                Some(last) if last.0 == k => last.1 += v,
                _ => merged.push((k, v)),
            }
        }
        noise.push_row(merged);
        clean_y.push(label);
        signal_patch.push(sp);
    }
    let xt = x.transpose(sh.d);
    Ok(PatchData { d: sh.d, patches: p, y, clean_y, x, xt, noise, signal_patch })
}

/// Reads and checks `manifest.json`: the format version, the setting (validated) and the shapes
/// against the setting.
fn read_manifest(dir: &Path) -> Result<(Setting, Shapes)> {
    let path = dir.join("manifest.json");
    let text = crate::input::read_text(&path, u64::MAX)?;
    let v: Value = serde_json::from_str(&text).map_err(|e| bad(&path, format!("not JSON: {e}")))?;
    match v.get("format") {
        Some(Value::String(f)) if f == FORMAT => {}
        Some(Value::String(f)) => {
            return Err(bad(&path, format!("unknown format `{f}` (this version of adamgap reads `{FORMAT}`)")));
        }
        _ => return Err(bad(&path, format!("no `format` field (expected \"format\": \"{FORMAT}\")"))),
    }
    let field = |k: &str| v.get(k).cloned().ok_or_else(|| bad(&path, format!("missing field `{k}`")));
    let setting: Setting =
        serde_json::from_value(field("setting")?).map_err(|e| bad(&path, format!("setting: {e}")))?;
    setting.validate()?;
    let shapes: Shapes = serde_json::from_value(field("shapes")?).map_err(|e| bad(&path, format!("shapes: {e}")))?;
    let expect = [
        ("n", shapes.n, "setting.data.n", setting.data.n),
        ("test_size", shapes.test_size, "setting.data.test_size", setting.data.test_size),
        ("patches", shapes.patches, "the stored patches of the setting", setting.stored_patches()),
        ("d", shapes.d, "setting.data.d", setting.data.d),
        ("m", shapes.m, "setting.model.m", setting.model.m),
    ];
    for (k, found, what, wanted) in expect {
        if found != wanted {
            return Err(bad(&path, format!("shapes.{k} = {found} disagrees with {what} = {wanted}")));
        }
    }
    Ok((setting, shapes))
}

/// Reads the folder `dir` and checks everything (see the module doc).
pub fn read(dir: &Path) -> Result<Imported> {
    if !dir.is_dir() {
        return Err(Error::io(dir, "not a folder (expected an adamgap-run-1 export)"));
    }
    let (setting, sh) = read_manifest(dir)?;
    let fnoise = setting.data.feature_noise;
    let (x, y) = read_data(dir, "train", sh.n, &sh, sh.train_nnz)?;
    let train = patch_data(dir, "train", x, y, &sh, fnoise)?;
    let (x, y) = read_data(dir, "test", sh.test_size, &sh, sh.test_nnz)?;
    let test = patch_data(dir, "test", x, y, &sh, fnoise)?;
    let path = dir.join("w_init.npy");
    let w: Array3<f64> = read_npy(dir, "w_init.npy", "<f8")?;
    if w.dim() != (2, sh.m, sh.d) {
        return Err(bad(&path, format!("shape {:?}, expected (2, m, d) = (2, {}, {})", w.shape(), sh.m, sh.d)));
    }
    if let Some(pos) = w.iter().position(|v| !v.is_finite()) {
        return Err(bad(&path, format!("non-finite value at flat position {pos}")));
    }
    let mut init = Weights::zeros(sh.d, sh.m);
    let layout = init.layout();
    for ((j, r, k), &v) in w.indexed_iter() {
        init.row_mut(k)[layout.column(j, r)] = v;
    }
    Ok(Imported { setting, shapes: sh, train, test, init })
}

impl Imported {
    /// The experiment to run: the imported data and `W^(0)` under `setting` (the manifest's
    /// setting with the command line's overrides), which must keep every value that describes the
    /// data or `W^(0)`.
    pub fn experiment(&self, setting: &Setting) -> Result<Experiment> {
        let (a, b) = (&self.setting, setting);
        let fixed: [(&str, String, String); 13] = [
            ("seed", a.seed.to_string(), b.seed.to_string()),
            ("data.d", a.data.d.to_string(), b.data.d.to_string()),
            ("data.n", a.data.n.to_string(), b.data.n.to_string()),
            ("data.s", a.data.s.to_string(), b.data.s.to_string()),
            ("data.sigma_p", a.data.sigma_p.to_string(), b.data.sigma_p.to_string()),
            ("data.alpha", a.data.alpha.to_string(), b.data.alpha.to_string()),
            ("data.patches", a.data.patches.to_string(), b.data.patches.to_string()),
            ("data.test_size", a.data.test_size.to_string(), b.data.test_size.to_string()),
            ("data.feature_noise", format!("{:?}", a.data.feature_noise), format!("{:?}", b.data.feature_noise)),
            ("data.noise", format!("{:?}", a.data.noise), format!("{:?}", b.data.noise)),
            ("data.label_flip", a.data.label_flip.to_string(), b.data.label_flip.to_string()),
            ("model.m", a.model.m.to_string(), b.model.m.to_string()),
            ("model.sigma0", a.model.sigma0.to_string(), b.model.sigma0.to_string()),
        ];
        for (field, theirs, ours) in fixed {
            if theirs != ours {
                return Err(Error::invalid(
                    field,
                    ours,
                    format!("{theirs}, the imported folder's value (its data and W^(0) cannot change)"),
                ));
            }
        }
        setting.validate()?;
        Ok(Experiment {
            setting: setting.clone(),
            train: self.train.clone(),
            test: self.test.clone(),
            model: Cnn::from_setting(&setting.model, self.shapes.d),
            init: self.init.clone(),
        })
    }
}
