//! From images to the paper's patches: each image cut into non-overlapping `tile x tile` tiles,
//! in row-major order of the tiles, each tile flattened row by row and scaled by `1 / max`.

use super::set::ImageSet;
use crate::data::{PatchData, SparseRows};

/// The tiles of the `rows x cols` image `pixels` (row-major), each flattened row by row: tile
/// `(a, b)` (its row `a`, column `b` among the tiles) is entry `a * (cols / tile) + b`. `tile`
/// must divide `rows` and `cols`.
pub fn tiles(pixels: &[u8], rows: usize, cols: usize, tile: usize) -> Vec<Vec<u8>> {
    assert!(tile > 0 && rows.is_multiple_of(tile) && cols.is_multiple_of(tile) && pixels.len() == rows * cols);
    let (ta, tb) = (rows / tile, cols / tile);
    let mut out = Vec::with_capacity(ta * tb);
    for a in 0..ta {
        for b in 0..tb {
            let mut t = Vec::with_capacity(tile * tile);
            for r in 0..tile {
                let start = (a * tile + r) * cols + b * tile;
                t.extend_from_slice(&pixels[start..start + tile]);
            }
            out.push(t);
        }
    }
    out
}

/// The images `which` of `set`, labelled `+1` (label `positive`) or `-1`, as patch data: `d =
/// tile^2`, `P = (rows / tile) (cols / tile)` patches, the value of a pixel `x / set.max` (zero
/// pixels are not stored). The synthetic notions of the data have no meaning here: no noise
/// vectors are stored (empty rows) and the signal patch is recorded as patch 0.
pub fn patch_data(set: &ImageSet, which: &[usize], positive: u8, tile: usize) -> PatchData {
    let d = tile * tile;
    let p = (set.rows / tile) * (set.cols / tile);
    let scale = 1.0 / f64::from(set.max);
    let mut x = SparseRows { ptr: vec![0], idx: Vec::new(), val: Vec::new() };
    let mut y = Vec::with_capacity(which.len());
    for &i in which {
        for t in tiles(set.image(i), set.rows, set.cols, tile) {
            let entries = t.iter().enumerate().filter(|e| *e.1 != 0).map(|(k, &v)| (k as u32, f64::from(v) * scale));
            x.push_row(entries.collect());
        }
        y.push(if set.labels[i] == positive { 1.0 } else { -1.0 });
    }
    let n = which.len();
    let noise = SparseRows { ptr: vec![0; n + 1], idx: Vec::new(), val: Vec::new() };
    let xt = x.transpose(d);
    PatchData { d, patches: p, clean_y: y.clone(), y, x, xt, noise, signal_patch: vec![0; n] }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_by_four_into_four_tiles() {
        let img: Vec<u8> = (1..=16).collect();
        let t = tiles(&img, 4, 4, 2);
        assert_eq!(t, vec![vec![1, 2, 5, 6], vec![3, 4, 7, 8], vec![9, 10, 13, 14], vec![11, 12, 15, 16]]);
        assert_eq!(tiles(&img, 4, 4, 4), vec![img.clone()]);
    }

    #[test]
    fn patch_data_scales_and_labels() {
        let mut pixels: Vec<u8> = (0..16).collect();
        pixels.extend((0..16).map(|v| 15 - v));
        let set = ImageSet { rows: 4, cols: 4, pixels, labels: vec![3, 8], max: 15 };
        let pd = patch_data(&set, &[1, 0], 3, 2);
        assert_eq!((pd.d, pd.patches, pd.len()), (4, 4, 2));
        assert_eq!(pd.y, vec![-1.0, 1.0]);
        // Image 1's first tile holds 15, 14, 11, 10; image 0's first tile 0, 1, 4, 5 (0 not stored).
        assert_eq!(pd.x.dense_row(0, 4), vec![1.0, 14.0 / 15.0, 11.0 / 15.0, 10.0 / 15.0]);
        assert_eq!(pd.x.row(4), (&[1u32, 2, 3][..], &[1.0 / 15.0, 4.0 / 15.0, 5.0 / 15.0][..]));
        assert_eq!(pd.xt, pd.x.transpose(4));
    }
}
