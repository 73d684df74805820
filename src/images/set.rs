//! A set of images of one size with their labels.

/// Images of one size with their labels (`0..=9`); a pixel's value is `x / max`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageSet {
    pub rows: usize,
    pub cols: usize,
    /// Image `i` is `pixels[i * rows * cols..(i + 1) * rows * cols]`, row-major.
    pub pixels: Vec<u8>,
    pub labels: Vec<u8>,
    /// The largest pixel value (255 for Fashion-MNIST, 16 for the digits).
    pub max: u8,
}

impl ImageSet {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    /// Whether there is no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    /// The pixels of image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        let k = self.rows * self.cols;
        &self.pixels[i * k..(i + 1) * k]
    }
}
