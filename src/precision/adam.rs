//! Adam's per-step constants, and Adam's update of one block of double-double parameters on
//! vectors.
//!
//! The update of one parameter is a long dependent chain (products, sums, two double-double
//! divisions, a root, a third division). Run one parameter after the other, the processor waits on
//! that chain; [`adam_dd`] runs it on `4 GROUP` parameters at a time with the lane arithmetic of
//! [`super::simd`], which interleaves `GROUP` independent chains. Every parameter gets the
//! operations of the generic loop of [`super::optim`] in their order, so the bits are the same
//! (tested).

use super::dd::Dd;

/// Adam's per-step constants in the scalar `R` (binary64 where the hyperparameter enters as its
/// binary64 value).
pub struct AdamStep<R> {
    /// `beta_1`.
    pub b1: f64,
    /// `beta_2`.
    pub b2: f64,
    /// `1 - beta_1`.
    pub omb1: R,
    /// `1 - beta_2`.
    pub omb2: R,
    /// The bias correction `1 - beta_1^t` (or 1).
    pub c1: R,
    /// The bias correction `1 - beta_2^t` (or 1).
    pub c2: R,
    /// `epsilon`.
    pub eps: R,
    /// The step size.
    pub eta: f64,
    /// The weight decay added to the gradient (Adam's `lambda`, 0 for AdamW).
    pub coupled: f64,
    /// The decoupled decay `eta lambda` (AdamW; 0 for Adam).
    pub decay: R,
}

/// `(m_new, v_new, m_hat)` of one parameter: `g = g_loss + coupled w`, `m_new = b1 m + (1 - b1) g`,
/// `v_new = b2 v + ((1 - b2) g) g`, `m_hat = m_new / c1`.
#[inline(always)]
fn moments(w: Dd, g_loss: Dd, m: Dd, v: Dd, p: &AdamStep<Dd>) -> (Dd, Dd, Dd) {
    let g = g_loss.add(w.mul_f64(p.coupled));
    let mn = m.mul_f64(p.b1).add(p.omb1.mul(g));
    let vn = v.mul_f64(p.b2).add(p.omb2.mul(g).mul(g));
    (mn, vn, mn.div(p.c1))
}

/// The new weight `w - (eta u + w decay)`, `u = m_hat / (sqrt(v_new / c2) + eps)` (`0` where the
/// denominator is 0, the binary64 `ratio_select`).
#[inline(always)]
fn weight(w: Dd, mhat: Dd, vn: Dd, p: &AdamStep<Dd>) -> Dd {
    let den = vn.div(p.c2).sqrt().add(p.eps);
    let upd = if den.hi == 0.0 { Dd::ZERO } else { mhat.div(den) };
    w.sub(upd.mul_f64(p.eta).add(w.mul(p.decay)))
}

/// The update one parameter after the other.
#[inline(always)]
fn adam_scalar(w: &mut [Dd], g: &[Dd], m: &mut [Dd], v: &mut [Dd], p: &AdamStep<Dd>) {
    for (((wi, gi), mi), vi) in w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        let (mn, vn, mh) = moments(*wi, *gi, *mi, *vi, p);
        (*mi, *vi) = (mn, vn);
        *wi = weight(*wi, mh, vn, p);
    }
}

/// Vectors per group of [`adam_avx2`]: `4 GROUP` parameters at a time.
#[cfg(target_arch = "x86_64")]
const GROUP: usize = 4;

/// The update on `4 GROUP` lanes at a time ([`super::simd`]), the rest one after the other.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn adam_avx2(w: &mut [Dd], g: &[Dd], m: &mut [Dd], v: &mut [Dd], p: &AdamStep<Dd>) {
    use super::simd::{Dv, V};
    const L: usize = 4 * GROUP;
    // SAFETY: this function runs only on a CPU with AVX2 and FMA (its target features).
    let (b1, b2, eta, coupled) =
        unsafe { (V::<GROUP>::splat(p.b1), V::splat(p.b2), V::splat(p.eta), V::splat(p.coupled)) };
    // SAFETY: as above.
    let (omb1, omb2, c1, c2, eps, decay) = unsafe {
        (
            Dv::<GROUP>::splat(p.omb1),
            Dv::splat(p.omb2),
            Dv::splat(p.c1),
            Dv::splat(p.c2),
            Dv::splat(p.eps),
            Dv::splat(p.decay),
        )
    };
    let full = w.len() - w.len() % L;
    let (w, wt) = w.split_at_mut(full);
    let (m, mt) = m.split_at_mut(full);
    let (v, vt) = v.split_at_mut(full);
    let (g, gt) = g.split_at(full);
    let chunks = w.chunks_exact_mut(L).zip(g.chunks_exact(L));
    for ((wc, gc), (mc, vc)) in chunks.zip(m.chunks_exact_mut(L).zip(v.chunks_exact_mut(L))) {
        // SAFETY: as above.
        let (wl, gl, ml, vl) = unsafe { (Dv::<GROUP>::load(wc), Dv::load(gc), Dv::load(mc), Dv::load(vc)) };
        // The operations of `moments` and `weight`, in their order.
        let gg = gl.add(wl.mul_f64(coupled));
        let mn = ml.mul_f64(b1).add(omb1.mul(gg));
        let vn = vl.mul_f64(b2).add(omb2.mul(gg).mul(gg));
        let mhat = mn.div(c1);
        let den = vn.div(c2).sqrt().add(eps);
        let upd = mhat.div(den).zero_where(den.hi.eq_zero());
        let wn = wl.sub(upd.mul_f64(eta).add(wl.mul(decay)));
        mn.store(mc);
        vn.store(vc);
        wn.store(wc);
    }
    adam_scalar(wt, gt, mt, vt, p);
}

/// Adam's update of one block of double-double parameters (`w`, `m`, `v` from the loss gradient
/// `g`, all of one length), with the bits of the generic loop of [`super::optim`]: on `4 GROUP`
/// lanes at a time when `vectors` is set and the CPU has AVX2 and FMA, else one parameter after
/// the other (through the FMA copy when the CPU has it). Both give the same bits; the training path
/// sets `vectors`.
pub fn adam_dd(w: &mut [Dd], g: &[Dd], m: &mut [Dd], v: &mut [Dd], p: &AdamStep<Dd>, vectors: bool) {
    let n = w.len();
    assert!(g.len() == n && m.len() == n && v.len() == n, "one length");
    #[cfg(target_arch = "x86_64")]
    if vectors && super::kernel::has_fma() {
        // SAFETY: the CPU has AVX2 and FMA (checked just above).
        unsafe { adam_avx2(w, g, m, v, p) };
        return;
    }
    let _ = vectors;
    adam_scalar_dispatch(w, g, m, v, p);
}

crate::fma_dispatch! {
    /// [`adam_scalar`] through the FMA copy when the CPU has it.
    fn adam_scalar_dispatch(w: &mut [Dd], g: &[Dd], m: &mut [Dd], v: &mut [Dd], p: &AdamStep<Dd>) => adam_scalar
}
