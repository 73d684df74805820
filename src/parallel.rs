//! Parallel maps on the current rayon thread pool. The binary builds one pool per command at its
//! entry (`--threads`) and runs the command inside it; the library never builds a pool. Inside a
//! map, the parallel passes of a training step (`model`, `optim`) split their work over the same
//! pool (work stealing), so the pool bounds every thread the computation uses. No result depends
//! on the number of threads: each `f(i)` is computed the same way wherever it runs, and the
//! parallel passes inside it only split element-wise work or sums whose order is fixed.

use rayon::prelude::*;

/// `(0..len).map(f).collect()`, computed on the current rayon pool (the global pool outside
/// [`rayon::ThreadPool::install`]), results in index order.
pub fn map_indexed<T: Send>(len: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    (0..len).into_par_iter().map(&f).collect()
}

/// The most threads a command may ask for.
pub const MAX_THREADS: usize = 1024;

/// A pool of `threads` threads (at least 1) to run a command in ([`rayon::ThreadPool::install`]).
pub fn pool(threads: usize) -> crate::Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| crate::Error::Numerical(format!("cannot start {threads} threads: {e}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn order_and_values_do_not_depend_on_threads() {
        let one = super::pool(1).unwrap().install(|| super::map_indexed(37, |i| i * i));
        for threads in [2, 3, 8, 100] {
            assert_eq!(super::pool(threads).unwrap().install(|| super::map_indexed(37, |i| i * i)), one);
        }
        assert_eq!(one[6], 36);
        assert!(super::map_indexed(0, |i| i).is_empty());
    }

    #[test]
    fn maps_run_on_the_current_pool() {
        let seen = super::pool(2).unwrap().install(|| super::map_indexed(4, |_| rayon::current_num_threads()));
        assert_eq!(seen, vec![2; 4]);
        let one = super::pool(1).unwrap().install(|| super::map_indexed(3, |_| rayon::current_num_threads()));
        assert_eq!(one, vec![1; 3]);
    }
}
