//! The IDX format of MNIST and Fashion-MNIST (`docs/images.md`): a big-endian header, then the
//! values, unsigned bytes in row-major order.
//!
//! The header is two zero bytes, a type byte (`0x08`: unsigned byte, the only type read here), the
//! number of dimensions, then one big-endian `u32` per dimension. Labels are rank 1 (magic
//! `0x00000801`), images rank 3 (`0x00000803`: count, rows, columns). The header's sizes are
//! multiplied with checked arithmetic and compared with the file's real length before any array is
//! allocated. A file whose name ends in `.gz` is gunzipped first, its output bounded by
//! [`MAX_BYTES`].

use std::io::Read as _;
use std::path::Path;

use crate::error::{Error, Result};

/// The magic number of a label file (unsigned bytes, rank 1).
pub const MAGIC_LABELS: u32 = 0x0000_0801;
/// The magic number of an image file (unsigned bytes, rank 3).
pub const MAGIC_IMAGES: u32 = 0x0000_0803;
/// The most bytes read from an IDX file, before and after decompression (Fashion-MNIST's
/// training images take 47,040,016).
pub const MAX_BYTES: u64 = 256 << 20;

/// An IDX array of unsigned bytes: its dimensions and its values in row-major order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Idx {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

fn bad(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::io(path, message)
}

/// Parses the bytes `bytes` of the IDX file `path` (named in every error), which must carry the
/// magic number `magic`.
pub fn parse(path: &Path, bytes: &[u8], magic: u32) -> Result<Idx> {
    let want_rank = (magic & 0xff) as usize;
    if bytes.len() < 4 {
        return Err(bad(path, format!("{} bytes, too short for the IDX magic number (4 bytes)", bytes.len())));
    }
    let found = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    if found != magic {
        return Err(bad(
            path,
            format!(
                "magic number 0x{found:08x}, expected 0x{magic:08x} (IDX unsigned bytes of rank {want_rank}: {})",
                if magic == MAGIC_LABELS { "a label file" } else { "an image file" }
            ),
        ));
    }
    let header = 4 + 4 * want_rank;
    if bytes.len() < header {
        return Err(bad(
            path,
            format!("{} bytes, too short for the header of a rank-{want_rank} IDX file ({header} bytes)", bytes.len()),
        ));
    }
    let dims: Vec<usize> = (0..want_rank)
        .map(|k| {
            let o = 4 + 4 * k;
            u32::from_be_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]) as usize
        })
        .collect();
    let values = dims.iter().try_fold(1usize, |acc, &n| acc.checked_mul(n));
    let total = values.and_then(|v| v.checked_add(header));
    let Some(total) = total else {
        return Err(bad(path, format!("header dimensions {dims:?} overflow the size of an array")));
    };
    if total != bytes.len() {
        return Err(bad(
            path,
            format!(
                "header dimensions {dims:?} need {total} bytes ({header} of header and {} values), the file has {}{}",
                total - header,
                bytes.len(),
                if bytes.len() < total { " (truncated)" } else { " (trailing bytes)" }
            ),
        ));
    }
    if dims.contains(&0) {
        return Err(bad(path, format!("header dimensions {dims:?}: every dimension must be at least 1")));
    }
    Ok(Idx { dims, data: bytes[header..].to_vec() })
}

/// Reads the IDX file `path` through `crate::input` (gunzipped when its name ends in `.gz`) and
/// parses it with [`parse`].
pub fn read(path: &Path, magic: u32) -> Result<Idx> {
    let raw = crate::input::read_bytes(path, MAX_BYTES)?;
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .take(MAX_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| bad(path, format!("not a valid gzip file: {e}")))?;
        if out.len() as u64 > MAX_BYTES {
            return Err(bad(
                path,
                format!("decompresses to more than {MAX_BYTES} bytes, the most read from an IDX file"),
            ));
        }
        parse(path, &out, magic)
    } else {
        parse(path, &raw, magic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(magic: u32, dims: &[u32], values: &[u8]) -> Vec<u8> {
        let mut b = magic.to_be_bytes().to_vec();
        for d in dims {
            b.extend(d.to_be_bytes());
        }
        b.extend(values);
        b
    }

    #[test]
    fn reads_labels_and_images() {
        let p = Path::new("x");
        let l = parse(p, &file(MAGIC_LABELS, &[3], &[7, 0, 9]), MAGIC_LABELS).unwrap();
        assert_eq!(l, Idx { dims: vec![3], data: vec![7, 0, 9] });
        let v: Vec<u8> = (0..12).collect();
        let i = parse(p, &file(MAGIC_IMAGES, &[3, 2, 2], &v), MAGIC_IMAGES).unwrap();
        assert_eq!(i.dims, vec![3, 2, 2]);
        assert_eq!(i.data, v);
    }

    #[test]
    fn rejects_bad_headers() {
        let p = Path::new("f.idx");
        let msg = |b: &[u8], m| parse(p, b, m).unwrap_err().to_string();
        assert!(msg(&file(MAGIC_LABELS, &[3], &[1, 2, 3]), MAGIC_IMAGES).contains("magic number 0x00000801"));
        assert!(msg(&file(MAGIC_LABELS, &[4], &[1, 2, 3]), MAGIC_LABELS).contains("(truncated)"));
        assert!(msg(&file(MAGIC_LABELS, &[2], &[1, 2, 3]), MAGIC_LABELS).contains("(trailing bytes)"));
        assert!(msg(&[0, 0, 8], MAGIC_LABELS).contains("too short for the IDX magic"));
        assert!(msg(&file(MAGIC_IMAGES, &[1], &[]), MAGIC_IMAGES).contains("too short for the header"));
        let huge = file(MAGIC_IMAGES, &[u32::MAX, u32::MAX, u32::MAX], &[]);
        assert!(msg(&huge, MAGIC_IMAGES).contains("overflow"));
        assert!(msg(&file(MAGIC_IMAGES, &[0, 2, 2], &[]), MAGIC_IMAGES).contains("at least 1"));
    }
}
