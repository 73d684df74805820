//! The double-double hot loops: the gather of the training passes, register-blocked like the
//! binary64 kernel of [`crate::model`], and `fma_dispatch!`, which runs a function (the gather, the
//! optimizers' update loops) through a copy compiled with AVX2 and FMA when the CPU has both.
//!
//! The gather: `out[j 2m + c] = 0 + sum_t val[t] W[idx[t], c]` over the nonzeros of row
//! `first + j`, each term `W[idx[t], c] * val[t]` multiplied and accumulated by
//! [`Dd::mul_f64_add`], in storage order: exactly [`Real::dot_acc`](super::Real::dot_acc) of
//! [`Dd`] in the plain loop, so the result is bit-identical to the generic loop (tested).
//!
//! The only instruction the FMA copies change is the exact product's error term
//! ([`super::dd::two_prod`]), which is the correctly rounded `fma` either way: both copies give the
//! same bits.

use crate::data::SparseRows;

use super::dd::Dd;

/// Output columns per register block.
const BLOCK: usize = 20;

/// One block of `L` output columns starting at `off`.
#[inline(always)]
fn block<const L: usize>(w: &[Dd], w2: usize, off: usize, idx: &[u32], val: &[f64], out: &mut [Dd]) {
    let mut acc = [Dd::ZERO; L];
    for (&k, &v) in idx.iter().zip(val) {
        let base = k as usize * w2 + off;
        let row: &[Dd; L] = w[base..base + L].try_into().expect("a block of L columns");
        for (a, x) in acc.iter_mut().zip(row) {
            *a = a.mul_f64_add(*x, v);
        }
    }
    out[off..off + L].copy_from_slice(&acc);
}

#[inline(always)]
fn body(w: &[Dd], w2: usize, rows: &SparseRows, first: usize, out: &mut [Dd]) {
    for (j, o) in out.chunks_exact_mut(w2).enumerate() {
        let (idx, val) = rows.row(first + j);
        let mut off = 0;
        while off + BLOCK <= w2 {
            block::<BLOCK>(w, w2, off, idx, val, o);
            off += BLOCK;
        }
        while off + 8 <= w2 {
            block::<8>(w, w2, off, idx, val, o);
            off += 8;
        }
        while off + 4 <= w2 {
            block::<4>(w, w2, off, idx, val, o);
            off += 4;
        }
        while off < w2 {
            block::<1>(w, w2, off, idx, val, o);
            off += 1;
        }
    }
}

/// True when the CPU has AVX2 and FMA (then the FMA copies run).
pub fn has_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Defines `$name(args..)`, which runs `$body(args..)` (an `#[inline(always)]` function) through a
/// copy compiled with AVX2 and FMA when the CPU has both, else directly (same results).
#[macro_export]
#[doc(hidden)]
macro_rules! fma_dispatch {
    ($(#[$doc:meta])* $vis:vis fn $name:ident$(<$g:ident: $b:path>)?($($arg:ident: $ty:ty),*) $(-> $ret:ty)? => $body:path) => {
        $(#[$doc])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name$(<$g: $b>)?($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                fn fma$(<$g: $b>)?($($arg: $ty),*) $(-> $ret)? {
                    $body($($arg),*)
                }
                if $crate::precision::kernel::has_fma() {
                    // SAFETY: the CPU has AVX2 and FMA (checked just above).
                    return unsafe { fma($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
}

fma_dispatch! {
    /// [`body`] through the FMA copy when the CPU has it.
    fn body_dispatch(w: &[Dd], w2: usize, rows: &SparseRows, first: usize, out: &mut [Dd]) => body
}

/// The gather over rows `first..first + out.len() / w2` (see the module doc); `fma` allows the
/// FMA copy (taken only when the CPU has it).
pub fn gather_rows(w: &[Dd], w2: usize, rows: &SparseRows, first: usize, out: &mut [Dd], fma: bool) {
    if fma { body_dispatch(w, w2, rows, first, out) } else { body(w, w2, rows, first, out) }
}
