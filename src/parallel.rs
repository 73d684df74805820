//! The one way this crate uses threads: map `f` over `0..len` on up to `threads` scoped threads,
//! results in index order. Each `f(i)` runs sequentially in one thread, so no result depends on the
//! number of threads (no reduction crosses threads).

/// `(0..len).map(f).collect()`, with the indices dealt round-robin over up to `threads` threads.
pub fn map_indexed<T: Send>(len: usize, threads: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = threads.clamp(1, len.max(1));
    if threads == 1 {
        return (0..len).map(f).collect();
    }
    let f = &f;
    let mut out: Vec<Option<T>> = (0..len).map(|_| None).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|k| scope.spawn(move || (k..len).step_by(threads).map(|i| (i, f(i))).collect::<Vec<_>>()))
            .collect();
        for h in handles {
            for (i, v) in h.join().expect("a worker thread panicked") {
                out[i] = Some(v);
            }
        }
    });
    out.into_iter().map(|v| v.expect("every index was mapped")).collect()
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
}
