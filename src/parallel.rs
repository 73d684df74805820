//! The one way this crate starts threads: [`map_indexed`] runs `f` over `0..len` in a rayon pool of
//! `threads` threads, results in index order. Inside `f`, the parallel passes of a training step
//! (`model`, `optim`) split their work over the same pool (work stealing), so `threads` bounds every
//! thread the computation uses. No result depends on the number of threads: each `f(i)` is
//! computed the same way wherever it runs, and the parallel passes inside it only split
//! element-wise work or sums whose order is fixed.

use rayon::prelude::*;

/// `(0..len).map(f).collect()`, computed on a pool of up to `threads` threads (at least 1). If the
/// pool cannot be created, runs on the calling thread (same results).
pub fn map_indexed<T: Send>(len: usize, threads: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    match rayon::ThreadPoolBuilder::new().num_threads(threads.max(1)).build() {
        Ok(pool) => pool.install(|| (0..len).into_par_iter().map(&f).collect()),
        Err(_) => (0..len).map(f).collect(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn order_and_values_do_not_depend_on_threads() {
        let one = super::map_indexed(37, 1, |i| i * i);
        for threads in [2, 3, 8, 100] {
            assert_eq!(super::map_indexed(37, threads, |i| i * i), one);
        }
        assert_eq!(one[6], 36);
        assert!(super::map_indexed(0, 4, |i| i).is_empty());
    }

    #[test]
    fn the_pool_bounds_the_threads_of_nested_passes() {
        let seen = super::map_indexed(4, 2, |_| rayon::current_num_threads());
        assert_eq!(seen, vec![2; 4]);
        assert_eq!(super::map_indexed(3, 1, |_| rayon::current_num_threads()), vec![1; 3]);
    }
}
