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

/// The longest `.npy` header read (its `HEADER_LEN` field), NumPy's own default limit.
pub const MAX_NPY_HEADER: usize = 10_000;

/// The deepest bracket nesting of a `.npy` header's dictionary (`{'shape': (2, 3)}` is 2).
const MAX_NPY_NESTING: usize = 4;

/// The most bytes read from `manifest.json`: a setting, shapes and a few lines per optimizer.
pub const MAX_MANIFEST_BYTES: u64 = crate::setting::MAX_FILE_BYTES;

/// Checks the header of the `.npy` file `bytes` (8-byte elements) before anything is allocated
/// from it, and parses it: the magic string, version 1, 2 or 3, a header length of at most
/// [`MAX_NPY_HEADER`] that fits in the file, a dictionary nested at most 4 brackets deep, and,
/// for a plain numeric type (`<f8`, `<i4`), a shape whose element count times the element size
/// (checked arithmetic) is exactly the number of bytes after the header. So a header that declares `(10**12,)` over a 2 KB file, or a length of
/// `0xFFFFFFFF`, is refused without allocating.
pub fn npy_header(bytes: &[u8]) -> std::result::Result<ndarray_npy::npy::header::Header, String> {
    const MAGIC: &[u8] = b"\x93NUMPY";
    if bytes.len() < MAGIC.len() + 2 || &bytes[..MAGIC.len()] != MAGIC {
        return Err("not a .npy file (no \\x93NUMPY magic string)".into());
    }
    let (major, minor) = (bytes[6], bytes[7]);
    let (len_bytes, header_len) = match major {
        1 if bytes.len() >= 10 => (2, usize::from(u16::from_le_bytes([bytes[8], bytes[9]]))),
        2 | 3 if bytes.len() >= 12 => (4, u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize),
        1..=3 => return Err("truncated .npy header".into()),
        _ => return Err(format!("unsupported .npy version {major}.{minor} (1.0, 2.0 or 3.0)")),
    };
    let start = 8 + len_bytes;
    if header_len > MAX_NPY_HEADER {
        return Err(format!("a .npy header of {header_len} bytes, more than the {MAX_NPY_HEADER} read"));
    }
    let end = start + header_len;
    if end > bytes.len() {
        return Err(format!("a .npy header of {header_len} bytes in a file of {} bytes", bytes.len()));
    }
    let mut depth = 0usize;
    for &b in &bytes[start..end] {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NPY_NESTING {
                    return Err(format!("a .npy header nested deeper than {MAX_NPY_NESTING} brackets"));
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    let header = ndarray_npy::npy::header::Header::from_reader(&mut &bytes[..end])
        .map_err(|e| format!("not a .npy file: {e}"))?;
    let data = bytes.len() - end;
    // The element size of a plain numeric type (`<f8`, `<i4`, `|u1`); another type is refused by
    // the caller's dtype check before anything is allocated.
    let descr = header.type_descriptor.as_string().cloned().unwrap_or_default();
    let plain = descr.strip_prefix(['<', '>', '|', '=']).unwrap_or(&descr);
    let size = plain.strip_prefix(['f', 'i', 'u', 'c', 'b']).and_then(|n| n.parse::<usize>().ok());
    let Some(size) = size else { return Ok(header) };
    let needed = header.shape.iter().try_fold(size, |n, &k| n.checked_mul(k));
    match needed {
        Some(n) if n == data => Ok(header),
        Some(n) => Err(format!("shape {:?} needs {n} bytes of data, the file holds {data}", header.shape)),
        None => Err(format!("shape {:?} is too large (its size overflows)", header.shape)),
    }
}

/// The most bytes of a `.npy` file of `count` 8-byte elements (header included); `None` when
/// that does not fit in 64 bits.
fn npy_cap(count: Option<usize>) -> Option<u64> {
    (count? as u64).checked_mul(8)?.checked_add((12 + MAX_NPY_HEADER) as u64)
}

/// Reads `dir/name` as an array of rank `D::NDIM` with the little-endian descriptor `descr`
/// (`<f8` or `<i8`), C or Fortran order (returned in standard layout). `count` is the number of
/// elements the manifest gives it (`None`: too many to count): the file is read up to that size
/// and its header checked by [`npy_header`] before the array is allocated.
fn read_npy<T: ReadableElement + Clone, D: Dimension>(
    dir: &Path,
    name: &str,
    descr: &str,
    count: Option<usize>,
) -> Result<Array<T, D>> {
    let path = dir.join(name);
    let cap =
        npy_cap(count).ok_or_else(|| bad(&path, "the manifest's shapes give it more elements than can be counted"))?;
    let bytes = crate::input::read_bytes(&path, cap)?;
    let header = npy_header(&bytes).map_err(|e| bad(&path, e))?;
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
fn read_data(
    dir: &Path,
    prefix: &str,
    samples: usize,
    sh: &Shapes,
    nnz: usize,
    data: &crate::setting::DataSetting,
) -> Result<(SparseRows, Vec<f64>)> {
    let [f_ptr, f_idx, f_val, f_y] = data_files(prefix);
    let (p_ptr, p_idx, p_val, p_y) = (dir.join(&f_ptr), dir.join(&f_idx), dir.join(&f_val), dir.join(&f_y));
    let rows = samples.checked_mul(sh.patches).ok_or_else(|| bad(&p_ptr, "n P overflows"))?;
    let indptr: Array1<i64> = read_npy(dir, &f_ptr, "<i8", rows.checked_add(1))?;
    check_len(
        &p_ptr,
        indptr.len(),
        rows + 1,
        &format!("n P + 1 with n = {samples}, P = {} from the manifest", sh.patches),
    )?;
    // The entry count against the setting before the entries are read (a file of the manifest's
    // size is read, so the count must be the setting's).
    check_nnz(dir, data, &format!("{prefix}_nnz"), samples, nnz)?;
    let indices: Array1<i64> = read_npy(dir, &f_idx, "<i8", Some(nnz))?;
    check_len(&p_idx, indices.len(), nnz, &format!("{prefix}_nnz in manifest.json"))?;
    let values: Array1<f64> = read_npy(dir, &f_val, "<f8", Some(nnz))?;
    check_len(&p_val, values.len(), nnz, &format!("{prefix}_nnz in manifest.json"))?;
    let y: Array1<f64> = read_npy(dir, &f_y, "<f8", Some(samples))?;
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
    data: &crate::setting::DataSetting,
) -> Result<PatchData> {
    let fnoise = data.feature_noise;
    let path = dir.join(data_files(prefix)[0].replace("indptr", "data"));
    let p = sh.patches;
    let per_patch = noise_per_patch(data);
    let (noise_name, setting_s) = (noise_label(data.noise), data.s);
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
        // The noise patches as the manifest's setting draws them: `s` coordinates of 1..d each
        // (sparse noise) or all `d - 1` (dense), plus at most one feature-noise entry in column 0.
        let mut in_column_0 = 0;
        for &q in &others {
            let (ki, _) = x.row(i * p + q);
            let zero = usize::from(ki.first() == Some(&0));
            in_column_0 += zero;
            if ki.len() - zero != per_patch || in_column_0 > 1 {
                let what = if in_column_0 > 1 {
                    "a second entry in column 0 (only one feature-noise entry per sample)".to_string()
                } else {
                    format!("{} entries in columns 1..d", ki.len() - zero)
                };
                return Err(bad(
                    &path,
                    format!(
                        "sample {i}, patch {q}: {what}, but the manifest's setting (noise = {}, s = {}) draws {per_patch} \
                         per noise patch",
                        noise_name, setting_s
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

/// Entries of a noise patch in columns `1..d` under `data`: `s` (sparse noise) or `d - 1`.
fn noise_per_patch(data: &crate::setting::DataSetting) -> usize {
    match data.noise {
        crate::setting::NoiseKind::Sparse => data.s,
        crate::setting::NoiseKind::Dense => data.d - 1,
    }
}

fn noise_label(kind: crate::setting::NoiseKind) -> &'static str {
    match kind {
        crate::setting::NoiseKind::Sparse => "sparse",
        crate::setting::NoiseKind::Dense => "dense",
    }
}

/// Checks the manifest's entry count `nnz` (`shapes.<key>`) of `samples` samples against the noise
/// the setting draws: per sample a signal entry, `s` (sparse) or `d - 1` (dense) entries per noise
/// patch, and the feature-noise entry (always there in its own patch; in a noise patch, possibly
/// left out when it is zero).
fn check_nnz(dir: &Path, data: &crate::setting::DataSetting, key: &str, samples: usize, nnz: usize) -> Result<()> {
    let path = dir.join("manifest.json");
    let separate = usize::from(data.feature_noise == FeatureNoise::SeparatePatch);
    let least = (data.patches - 1).checked_mul(noise_per_patch(data)).and_then(|k| k.checked_add(1 + separate));
    let lo = least.and_then(|l| l.checked_mul(samples));
    let hi = least.and_then(|l| l.checked_add(1 - separate)).and_then(|h| h.checked_mul(samples));
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return Err(bad(&path, format!("shapes.{key}: the setting's entry count overflows")));
    };
    if (lo..=hi).contains(&nnz) {
        return Ok(());
    }
    let range = if lo == hi { format!("{lo}") } else { format!("{lo} to {hi}") };
    Err(bad(
        &path,
        format!(
            "shapes.{key} = {nnz} disagrees with the setting (noise = {}, s = {}, d = {}, patches = {}): {range} entries",
            noise_label(data.noise),
            data.s,
            data.d,
            data.patches
        ),
    ))
}

/// Reads and checks `manifest.json` (at most [`MAX_MANIFEST_BYTES`]): the format version, the
/// setting (validated) and the shapes against the setting. Public so a command can estimate the
/// memory of the setting before [`read`] allocates the arrays.
pub fn read_manifest(dir: &Path) -> Result<(Setting, Shapes)> {
    let path = dir.join("manifest.json");
    let text = crate::input::read_text(&path, MAX_MANIFEST_BYTES)?;
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
    read_then(dir, |_| Ok(()))
}

/// [`read`], calling `before_arrays` with the manifest's setting once the manifest is read and
/// before any array is (the memory estimate of what the folder describes goes there).
pub fn read_then(dir: &Path, before_arrays: impl FnOnce(&Setting) -> Result<()>) -> Result<Imported> {
    if !dir.is_dir() {
        return Err(Error::io(dir, "not a folder (expected an adamgap-run-1 export)"));
    }
    let (setting, sh) = read_manifest(dir)?;
    before_arrays(&setting)?;
    // `W^(0)` first: its file must hold `2 m d` numbers, so a `d` that the manifest inflates is
    // refused before the data's transposes are sized by it.
    let path = dir.join("w_init.npy");
    let count = sh.m.checked_mul(sh.d).and_then(|k| k.checked_mul(2));
    let w: Array3<f64> = read_npy(dir, "w_init.npy", "<f8", count)?;
    if w.dim() != (2, sh.m, sh.d) {
        return Err(bad(&path, format!("shape {:?}, expected (2, m, d) = (2, {}, {})", w.shape(), sh.m, sh.d)));
    }
    if let Some(pos) = w.iter().position(|v| !v.is_finite()) {
        return Err(bad(&path, format!("non-finite value at flat position {pos}")));
    }
    let (x, y) = read_data(dir, "train", sh.n, &sh, sh.train_nnz, &setting.data)?;
    let train = patch_data(dir, "train", x, y, &sh, &setting.data)?;
    let (x, y) = read_data(dir, "test", sh.test_size, &sh, sh.test_nnz, &setting.data)?;
    let test = patch_data(dir, "test", x, y, &sh, &setting.data)?;
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
        let mut setting = setting.clone();
        setting.resolve_budget();
        Ok(Experiment {
            setting: setting.clone(),
            train: self.train.clone(),
            test: self.test.clone(),
            model: Cnn::from_setting(&setting.model, self.shapes.d),
            init: self.init.clone(),
        })
    }
}
