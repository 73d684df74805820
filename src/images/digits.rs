//! The 1,797 UCI optical-recognition digits (8 x 8, values `0..=16`), as the `smartcore` crate
//! embeds them (its `datasets` feature, compiled into the binary: no file is read). Every value is
//! checked to be an integer of its range before it is used.

use super::set::ImageSet;
use crate::error::{Error, Result};

/// The side of a digit image.
pub const SIDE: usize = 8;
/// The largest pixel value.
pub const MAX: u8 = 16;

/// Loads the digits, checked (values integers in `0..=16`, labels integers in `0..=9`).
pub fn load() -> Result<ImageSet> {
    let ds = smartcore::dataset::digits::load_dataset();
    let origin = "the embedded UCI digits (smartcore)";
    let bad = |m: String| Error::io(origin, m);
    if ds.num_features != SIDE * SIDE || ds.data.len() != ds.num_samples * ds.num_features {
        return Err(bad(format!("{} features of {} samples, expected 64 each", ds.num_features, ds.num_samples)));
    }
    if ds.target.len() != ds.num_samples {
        return Err(bad(format!("{} labels for {} samples", ds.target.len(), ds.num_samples)));
    }
    let int_in = |v: f32, hi: u8| (v.fract() == 0.0 && (0.0..=f32::from(hi)).contains(&v)).then_some(v as u8);
    let pixels = ds
        .data
        .iter()
        .enumerate()
        .map(|(k, &v)| int_in(v, MAX).ok_or_else(|| bad(format!("pixel {k} = {v}, expected an integer in 0..=16"))))
        .collect::<Result<Vec<u8>>>()?;
    let labels = ds
        .target
        .iter()
        .enumerate()
        .map(|(k, &v)| int_in(v, 9).ok_or_else(|| bad(format!("label {k} = {v}, expected an integer in 0..=9"))))
        .collect::<Result<Vec<u8>>>()?;
    Ok(ImageSet { rows: SIDE, cols: SIDE, pixels, labels, max: MAX })
}
