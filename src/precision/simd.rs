//! Double-double arithmetic on `4 U` lanes at once with AVX2 and FMA (x86-64 only): [`Dv`] holds
//! the high words of `4 U` double-doubles in `U` vectors and the low words in `U` more.
//!
//! Every operation is the algorithm of the scalar [`Dd`] method of the same name
//! (`src/precision/dd.rs`), binary64 operation for binary64 operation in the same order, applied
//! to each lane: vector addition, multiplication, division and square root are the correctly
//! rounded binary64 operations, `fmsub(a, b, p)` is the correctly rounded `a b - p` of
//! [`f64::mul_add`], and the scalar branches are lane selects that pick the value the branch
//! returns. So each lane holds the bits the scalar method gives (tested against it). Each binary64
//! step is issued for all `U` vectors before the next step, so that `U` independent chains are in
//! flight: one double-double division or root is a long dependent chain, and the processor
//! overlaps the chains of neighbouring lanes only when they are interleaved in the instruction
//! stream.
//!
//! **Safety.** The intrinsics need a CPU with AVX2 and FMA. The only ways to make a value of
//! these types are the `unsafe` constructors ([`V::splat`], [`Dv::splat`], [`Dv::load`]), whose
//! callers promise that the CPU has both; the operations on existing values are then safe.

use std::arch::x86_64::*;

use super::dd::Dd;

/// `4 U` binary64 lanes.
#[derive(Clone, Copy)]
pub struct V<const U: usize>([__m256d; U]);

/// Applies a two-operand intrinsic to each of the `U` vectors.
macro_rules! lanewise {
    ($a:expr, $b:expr, $f:path) => {{
        let (a, b) = ($a, $b);
        let mut out = a.0;
        for (o, (x, y)) in out.iter_mut().zip(a.0.iter().zip(b.0.iter())) {
            // SAFETY: a value of `V` exists only where the CPU has AVX2 and FMA (module doc).
            *o = unsafe { $f(*x, *y) };
        }
        V(out)
    }};
}

#[allow(clippy::inline_always)]
impl<const U: usize> V<U> {
    /// `x` in every lane.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA.
    #[inline(always)]
    pub unsafe fn splat(x: f64) -> Self {
        // SAFETY: the caller's promise.
        V([unsafe { _mm256_set1_pd(x) }; U])
    }

    /// `x` in every lane, for a value that already proves the CPU's features.
    #[inline(always)]
    fn like(self, x: f64) -> Self {
        // SAFETY: `self` exists, so the CPU has AVX2 and FMA.
        unsafe { Self::splat(x) }
    }

    #[inline(always)]
    fn add(self, b: Self) -> Self {
        lanewise!(self, b, _mm256_add_pd)
    }

    #[inline(always)]
    fn sub(self, b: Self) -> Self {
        lanewise!(self, b, _mm256_sub_pd)
    }

    #[inline(always)]
    fn mul(self, b: Self) -> Self {
        lanewise!(self, b, _mm256_mul_pd)
    }

    #[inline(always)]
    fn div(self, b: Self) -> Self {
        lanewise!(self, b, _mm256_div_pd)
    }

    /// `-x` (the sign bit flipped, as binary64 negation does).
    #[inline(always)]
    fn neg(self) -> Self {
        lanewise!(self, self.like(-0.0), _mm256_xor_pd)
    }

    /// `a b - p` rounded once (`a.mul_add(b, -p)`).
    #[inline(always)]
    fn fmsub(self, b: Self, p: Self) -> Self {
        let mut out = self.0;
        for (o, ((x, y), z)) in out.iter_mut().zip(self.0.iter().zip(b.0.iter()).zip(p.0.iter())) {
            // SAFETY: as in `lanewise!`.
            *o = unsafe { _mm256_fmsub_pd(*x, *y, *z) };
        }
        V(out)
    }

    #[inline(always)]
    fn sqrt(self) -> Self {
        let mut out = self.0;
        for (o, x) in out.iter_mut().zip(self.0.iter()) {
            // SAFETY: as in `lanewise!`.
            *o = unsafe { _mm256_sqrt_pd(*x) };
        }
        V(out)
    }

    /// All ones in the lanes where `x <= 0` (false for NaN), zeros elsewhere.
    #[inline(always)]
    fn le_zero(self) -> Self {
        lanewise!(self, self.like(0.0), _mm256_cmp_pd::<_CMP_LE_OQ>)
    }

    /// All ones in the lanes where `x == 0` (either sign), zeros elsewhere.
    #[inline(always)]
    pub fn eq_zero(self) -> Self {
        lanewise!(self, self.like(0.0), _mm256_cmp_pd::<_CMP_EQ_OQ>)
    }

    /// All ones in the lanes where `x` is finite (`|x| < inf`, false for NaN), zeros elsewhere.
    #[inline(always)]
    fn finite(self) -> Self {
        let abs = lanewise!(self.like(-0.0), self, _mm256_andnot_pd);
        lanewise!(abs, self.like(f64::INFINITY), _mm256_cmp_pd::<_CMP_LT_OQ>)
    }

    /// `if mask { a } else { self }` lane by lane (`mask` from a comparison).
    #[inline(always)]
    pub fn select(self, a: Self, mask: Self) -> Self {
        let mut out = self.0;
        for (o, ((x, y), k)) in out.iter_mut().zip(self.0.iter().zip(a.0.iter()).zip(mask.0.iter())) {
            // SAFETY: as in `lanewise!`.
            *o = unsafe { _mm256_blendv_pd(*x, *y, *k) };
        }
        V(out)
    }
}

/// [`super::dd::two_sum`] lane by lane.
#[inline(always)]
fn two_sum<const U: usize>(a: V<U>, b: V<U>) -> (V<U>, V<U>) {
    let s = a.add(b);
    let a1 = s.sub(b);
    let b1 = s.sub(a1);
    (s, a.sub(a1).add(b.sub(b1)))
}

/// [`super::dd::fast_two_sum`] lane by lane.
#[inline(always)]
fn fast_two_sum<const U: usize>(a: V<U>, b: V<U>) -> (V<U>, V<U>) {
    let s = a.add(b);
    (s, b.sub(s.sub(a)))
}

/// [`super::dd::two_prod`] lane by lane.
#[inline(always)]
fn two_prod<const U: usize>(a: V<U>, b: V<U>) -> (V<U>, V<U>) {
    let p = a.mul(b);
    (p, a.fmsub(b, p))
}

/// `4 U` double-doubles: high words in `hi`, low words in `lo`.
#[derive(Clone, Copy)]
pub struct Dv<const U: usize> {
    /// The high words.
    pub hi: V<U>,
    /// The low words.
    pub lo: V<U>,
}

#[allow(clippy::inline_always, clippy::should_implement_trait)]
impl<const U: usize> Dv<U> {
    /// `x` in every lane.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA.
    #[inline(always)]
    pub unsafe fn splat(x: Dd) -> Self {
        // SAFETY: the caller's promise.
        unsafe { Dv { hi: V::splat(x.hi), lo: V::splat(x.lo) } }
    }

    /// The first `4 U` values of `x` (which must hold that many). The lanes are in the order
    /// `0, 2, 1, 3` within each group of four; [`Dv::store`] undoes it.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA.
    #[inline(always)]
    pub unsafe fn load(x: &[Dd]) -> Self {
        assert!(x.len() >= 4 * U, "4 U values");
        let mut hi = unsafe { V::<U>::splat(0.0) };
        let mut lo = hi;
        for u in 0..U {
            // SAFETY: `x` holds `4 U` values of two binary64 each (asserted), so the two loads of
            // four binary64 each are in bounds; the caller promises AVX2.
            unsafe {
                let p = x.as_ptr().add(4 * u).cast::<f64>();
                let (a, b) = (_mm256_loadu_pd(p), _mm256_loadu_pd(p.add(4)));
                hi.0[u] = _mm256_unpacklo_pd(a, b);
                lo.0[u] = _mm256_unpackhi_pd(a, b);
            }
        }
        Dv { hi, lo }
    }

    /// Writes the lanes back to the first `4 U` values of `x` (which must hold that many), in the
    /// order [`Dv::load`] read them.
    #[inline(always)]
    pub fn store(self, x: &mut [Dd]) {
        assert!(x.len() >= 4 * U, "4 U values");
        for u in 0..U {
            // SAFETY: in bounds as in `load`; `self` exists, so the CPU has AVX2.
            unsafe {
                let p = x.as_mut_ptr().add(4 * u).cast::<f64>();
                _mm256_storeu_pd(p, _mm256_unpacklo_pd(self.hi.0[u], self.lo.0[u]));
                _mm256_storeu_pd(p.add(4), _mm256_unpackhi_pd(self.hi.0[u], self.lo.0[u]));
            }
        }
    }

    /// [`Dd::neg`].
    #[inline(always)]
    pub fn neg(self) -> Self {
        Dv { hi: self.hi.neg(), lo: self.lo.neg() }
    }

    /// [`Dd::add`].
    #[inline(always)]
    pub fn add(self, y: Self) -> Self {
        let (sh, sl) = two_sum(self.hi, y.hi);
        let (th, tl) = two_sum(self.lo, y.lo);
        let c = sl.add(th);
        let (vh, vl) = fast_two_sum(sh, c);
        let w = tl.add(vl);
        let (zh, zl) = fast_two_sum(vh, w);
        Dv { hi: zh, lo: zl }
    }

    /// [`Dd::sub`].
    #[inline(always)]
    pub fn sub(self, y: Self) -> Self {
        self.add(y.neg())
    }

    /// [`Dd::mul_f64`] (a binary64 factor per lane).
    #[inline(always)]
    pub fn mul_f64(self, y: V<U>) -> Self {
        let (ch, cl1) = two_prod(self.hi, y);
        let cl2 = self.lo.mul(y);
        let (th, tl1) = fast_two_sum(ch, cl2);
        let tl2 = tl1.add(cl1);
        let (zh, zl) = fast_two_sum(th, tl2);
        Dv { hi: zh, lo: zl }
    }

    /// [`Dd::mul`].
    #[inline(always)]
    pub fn mul(self, y: Self) -> Self {
        let (ch, cl1) = two_prod(self.hi, y.hi);
        let tl = self.hi.mul(y.lo);
        let cl2 = tl.add(self.lo.mul(y.hi));
        let cl3 = cl1.add(cl2);
        let (zh, zl) = fast_two_sum(ch, cl3);
        Dv { hi: zh, lo: zl }
    }

    /// [`Dd::div`] (where the result's high word is not finite: the binary64 quotient, low word
    /// `+0`).
    #[inline(always)]
    pub fn div(self, y: Self) -> Self {
        let th = self.hi.div(y.hi);
        let r = y.mul_f64(th);
        let pih = self.hi.sub(r.hi);
        let dl = self.lo.sub(r.lo);
        let tl = pih.add(dl).div(y.hi);
        let (zh, zl) = fast_two_sum(th, tl);
        let fin = zh.finite();
        Dv { hi: th.select(zh, fin), lo: zl.like(0.0).select(zl, fin) }
    }

    /// [`Dd::sqrt`] (where `hi <= 0`: the binary64 root of `hi`, low word `+0`).
    #[inline(always)]
    pub fn sqrt(self) -> Self {
        let s = self.hi.sqrt();
        let (p, e) = two_prod(s, s);
        let r = self.sub(Dv { hi: p, lo: e });
        let corr = r.hi.div(s.like(2.0).mul(s));
        let (h, l) = fast_two_sum(s, corr);
        let nonpos = self.hi.le_zero();
        Dv { hi: h.select(s, nonpos), lo: l.select(l.like(0.0), nonpos) }
    }

    /// `0` in the lanes where `mask` is set, `self` elsewhere.
    #[inline(always)]
    pub fn zero_where(self, mask: V<U>) -> Self {
        let z = self.hi.like(0.0);
        Dv { hi: self.hi.select(z, mask), lo: self.lo.select(z, mask) }
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// A double-double of random sign, magnitude `2^-60 .. 2^60` and low word, or (one time in
    /// eight) a special value: zeros, a negative for the root, infinities, NaN, huge and tiny.
    fn draw(rng: &mut ChaCha8Rng) -> Dd {
        const SPECIAL: [f64; 8] = [0.0, -0.0, -2.5, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 1e300, 1e-300];
        if rng.random_range(0..8) == 0 {
            return Dd::from_f64(SPECIAL[rng.random_range(0..SPECIAL.len())]);
        }
        let hi =
            rng.random_range(1.0..2.0) * 2f64.powi(rng.random_range(-60..60)) * if rng.random() { 1.0 } else { -1.0 };
        Dd::from_parts(hi, rng.random_range(-1.0..1.0) * 0.25 * f64::EPSILON * hi.abs())
    }

    /// The same bits in both words, where a NaN matches any NaN (its sign and payload carry no
    /// value and depend on the order the compiler gives the operands).
    fn same(a: Dd, b: Dd) -> bool {
        let word = |x: f64, y: f64| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan());
        word(a.hi, b.hi) && word(a.lo, b.lo)
    }

    /// Every lane operation gives the bits of the scalar operation, special values included.
    #[test]
    fn lane_operations_match_the_scalar_ones_bit_for_bit() {
        if !crate::precision::kernel::has_fma() {
            return;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..2000 {
            let x: Vec<Dd> = (0..8).map(|_| draw(&mut rng)).collect();
            let y: Vec<Dd> = (0..8).map(|_| draw(&mut rng)).collect();
            let f: Vec<f64> = y.iter().map(|d| d.hi).collect();
            // SAFETY: the CPU has AVX2 and FMA (checked above).
            let (a, b, fv) = unsafe {
                let fd: Vec<Dd> = f.iter().map(|&v| Dd::from_f64(v)).collect();
                (Dv::<2>::load(&x), Dv::<2>::load(&y), Dv::<2>::load(&fd).hi)
            };
            type Scalar = fn(Dd, Dd, f64) -> Dd;
            let ops: [(&str, Dv<2>, Scalar); 7] = [
                ("add", a.add(b), |x, y, _| x.add(y)),
                ("sub", a.sub(b), |x, y, _| x.sub(y)),
                ("mul", a.mul(b), |x, y, _| x.mul(y)),
                ("mul_f64", a.mul_f64(fv), |x, _, v| x.mul_f64(v)),
                ("div", a.div(b), |x, y, _| x.div(y)),
                ("sqrt", a.sqrt(), |x, _, _| x.sqrt()),
                ("zero_where", a.zero_where(b.hi.eq_zero()), |x, y, _| if y.hi == 0.0 { Dd::ZERO } else { x }),
            ];
            for (name, lanes, scalar) in ops {
                let mut out = [Dd::ZERO; 8];
                lanes.store(&mut out);
                for i in 0..8 {
                    let want = scalar(x[i], y[i], f[i]);
                    assert!(same(out[i], want), "{name}({:?}, {:?}): {:?} != {want:?}", x[i], y[i], out[i]);
                }
            }
        }
    }
}
