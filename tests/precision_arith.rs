//! Double-double arithmetic against exact dyadic arithmetic, and its functions against the
//! certified enclosures of `adamgap::exact`: every basic operation within `2^-100` relative (the
//! dot-product accumulations within `2^-100 (|x| + |y|)` absolute), `exp`, `ln1p`, `softplus` and
//! `sigmoid` within `2^-100` relative of the enclosed value.

use adamgap::exact::{self, Dyadic, Interval};
use adamgap::precision::{Big, Dd, Real, kernel};
use num_rational::BigRational;
use num_traits::Signed;
use proptest::prelude::*;

/// The exact value of a double-double.
fn exact(x: Dd) -> Dyadic {
    Dyadic::from_f64(x.hi).unwrap().add(&Dyadic::from_f64(x.lo).unwrap())
}

/// `|a - b| <= 2^-bits * scale` exactly.
fn within(a: &Dyadic, b: &Dyadic, scale: &Dyadic, bits: i64) -> bool {
    a.sub(b).abs().mul_pow2(bits).cmp_exact(&scale.abs()) != std::cmp::Ordering::Greater
}

/// A normalized double-double with `hi` of magnitude `2^e` (random mantissa and sign) and a
/// random `lo` within half an ulp of `hi`.
fn dd() -> impl Strategy<Value = Dd> {
    (any::<bool>(), 1.0f64..2.0, -60i32..60, -1.0f64..1.0).prop_map(|(neg, m, e, l)| {
        let hi = if neg { -m } else { m } * 2f64.powi(e);
        let lo = l * 0.5 * f64::EPSILON * hi.abs() * 0.5;
        Dd::from_parts(hi, lo)
    })
}

/// Arguments of the functions: magnitudes from `2^-40` to `2^7`, both signs, nonzero low words.
fn arg() -> impl Strategy<Value = Dd> {
    (any::<bool>(), 1.0f64..2.0, -40i32..7, -1.0f64..1.0).prop_map(|(neg, m, e, l)| {
        let hi = if neg { -m } else { m } * 2f64.powi(e);
        Dd::from_parts(hi, l * 0.25 * f64::EPSILON * hi.abs())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn basic_operations_are_within_2_pow_minus_100(x in dd(), y in dd(), v in -1e3f64..1e3) {
        let (ex, ey, ev) = (exact(x), exact(y), Dyadic::from_f64(v).unwrap());
        let sum = ex.add(&ey);
        prop_assert!(within(&exact(x.add(y)), &sum, &sum, 100), "add {x:?} {y:?}");
        let diff = ex.sub(&ey);
        prop_assert!(within(&exact(x.sub(y)), &diff, &diff, 100), "sub {x:?} {y:?}");
        let prod = ex.mul(&ey);
        prop_assert!(within(&exact(x.mul(y)), &prod, &prod, 100), "mul {x:?} {y:?}");
        let pv = ex.mul(&ev);
        prop_assert!(within(&exact(x.mul_f64(v)), &pv, &pv, 100), "mul_f64 {x:?} {v}");
        let sv = ex.add(&ev);
        prop_assert!(within(&exact(x.add_f64(v)), &sv, &sv, 100), "add_f64 {x:?} {v}");
        // Division: |q y - x| <= 2^-100 |x| is |q - x/y| <= 2^-100 |x / y|.
        let q = exact(x.div(y));
        prop_assert!(within(&q.mul(&ey), &ex, &ex, 100), "div {x:?} {y:?}");
        // Root: |r^2 - a| <= 2^-99 a is |r - sqrt a| <= about 2^-100 sqrt a.
        let a = x.abs();
        let r = exact(a.sqrt());
        prop_assert!(within(&r.square(), &exact(a), &exact(a), 99), "sqrt {a:?}");
        // The accumulations of the dot products: absolute, against |x| + |y|.
        let scale = ex.abs().add(&ey.abs());
        prop_assert!(within(&exact(x.add_sloppy(y)), &sum, &scale, 100), "add_sloppy {x:?} {y:?}");
        let fused = ex.add(&ey.mul(&ev));
        let fscale = ex.abs().add(&ey.mul(&ev).abs());
        prop_assert!(within(&exact(x.mul_f64_add(y, v)), &fused, &fscale, 100), "mul_f64_add {x:?} {y:?} {v}");
    }

    #[test]
    fn functions_are_within_2_pow_minus_100_of_the_certified_enclosures(z in arg()) {
        let q = exact(z).to_rational();
        let point = Interval::point(q.clone());
        let check = |name: &str, got: Dd, enc: Interval| -> Result<(), TestCaseError> {
            let g = exact(got).to_rational();
            let tol = enc.mag() / BigRational::from_integer(num_bigint::BigInt::from(2).pow(100u32));
            prop_assert!(
                g >= enc.lo() - &tol && g <= enc.hi() + &tol,
                "{name}({z:?}) = {got:?} outside {} +- 2^-100", enc
            );
            Ok(())
        };
        check("exp", z.exp(), exact::exp(&point, 200).unwrap())?;
        let (sp, sg) = z.softplus_sigmoid();
        check("softplus", sp, exact::softplus(&point, 200))?;
        check("sigmoid", sg, exact::sigmoid(&point, 200))?;
        if z.hi > -0.9 {
            let one_plus = Interval::point(q + BigRational::from_integer(1.into()));
            check("ln1p", z.ln1p(), exact::ln(&one_plus, 200).unwrap())?;
        }
        if z.hi.abs() < 1.0 {
            let e = exact::exp(&point, 200).unwrap();
            let em1 = Interval::new(e.lo() - BigRational::from_integer(1.into()), e.hi() - BigRational::from_integer(1.into())).unwrap();
            check("expm1", z.expm1(), em1)?;
        }
    }
}

/// `LN2`'s three words are `ln 2` to `2^-159`.
#[test]
fn ln2_words_match_the_certified_value() {
    let l = exact::ln2(200);
    let words = adamgap::precision::functions::LN2;
    let sum = words.iter().map(|&w| Dyadic::from_f64(w).unwrap()).fold(Dyadic::zero(), |a, b| a.add(&b)).to_rational();
    let tol = BigRational::from_integer(1.into()) / BigRational::from_integer(num_bigint::BigInt::from(2).pow(158u32));
    assert!((&sum - l.lo()).abs() <= tol && (&sum - l.hi()).abs() <= tol);
}

/// The gather kernel (FMA copy and baseline copy) gives the bits of the plain generic loop.
#[test]
fn gather_kernel_matches_the_plain_loop_bit_for_bit() {
    let mut st = adamgap::setting::Setting::default();
    st.data.d = 50;
    st.data.n = 7;
    st.data.s = 9;
    st.model.m = 13; // 26 columns: blocks of 20, 4, 1 and 1
    let (train, _) = adamgap::data::PatchData::train_test(&st.data, 5);
    let w0 = adamgap::model::Weights::init(50, 13, 0.3, 5);
    // Weights with nonzero low words.
    let w: Vec<Dd> = w0.as_slice().iter().map(|&x| Dd::from_f64(x).div(Dd::from_f64(3.0))).collect();
    let rows = train.x.rows();
    let mut plain = vec![Dd::ZERO; rows * 26];
    for (j, o) in plain.chunks_exact_mut(26).enumerate() {
        let (idx, val) = train.x.row(j);
        for (c, oc) in o.iter_mut().enumerate() {
            let mut acc = Dd::ZERO;
            for (&k, &v) in idx.iter().zip(val) {
                acc = acc.dot_acc(&w[k as usize * 26 + c], v);
            }
            *oc = acc;
        }
    }
    for fma in [true, false] {
        let mut out = vec![Dd::ZERO; rows * 26];
        kernel::gather_rows(&w, 26, &train.x, 0, &mut out, fma);
        assert!(
            out.iter().zip(&plain).all(|(a, b)| a.hi.to_bits() == b.hi.to_bits() && a.lo.to_bits() == b.lo.to_bits()),
            "fma={fma}"
        );
    }
}

/// Adam's double-double kernel (on vectors and one parameter after the other) gives the bits of
/// the generic formula, spelled out here with the `Real` operations, over several steps of Adam
/// and AdamW, with zero gradients and, at `eps = 0`, zero denominators among the inputs.
#[test]
fn adam_kernel_matches_the_generic_formula_bit_for_bit() {
    use adamgap::precision::adam::{AdamStep, adam_dd};
    let n = 16 * 40 + 7; // whole groups of 16 and a remainder
    let w0: Vec<Dd> =
        (0..n).map(|i| Dd::from_f64(((i * 37 % 101) as f64 - 50.0) * 1e-3).div(Dd::from_f64(3.0))).collect();
    let grad = |t: usize| -> Vec<Dd> {
        (0..n)
            .map(|i| {
                if (i + t).is_multiple_of(5) {
                    Dd::ZERO
                } else {
                    Dd::from_f64(((i * 13 + t) % 29) as f64 - 14.0).div(Dd::from_f64(7e4))
                }
            })
            .collect()
    };
    let one = Dd::ONE;
    for (eps, coupled, decay) in
        [(1e-8, 1e-5, Dd::ZERO), (1e-8, 0.0, Dd::from_f64(5e-5).mul_f64(1e-5)), (0.0, 0.0, Dd::ZERO)]
    {
        let mut runs = vec![(w0.clone(), vec![Dd::ZERO; n], vec![Dd::ZERO; n]); 3];
        for t in 1..=4 {
            let g = grad(t);
            let p = AdamStep {
                b1: 0.9,
                b2: 0.999,
                omb1: one.sub(Dd::from_f64(0.9)),
                omb2: one.sub(Dd::from_f64(0.999)),
                c1: one.sub(Dd::from_f64(0.9).powi(t as u32)),
                c2: one.sub(Dd::from_f64(0.999).powi(t as u32)),
                eps: Dd::from_f64(eps),
                eta: 5e-5,
                coupled,
                decay,
            };
            for (k, (w, m, v)) in runs.iter_mut().enumerate() {
                if k < 2 {
                    adam_dd(w, &g, m, v, &p, k == 0);
                    continue;
                }
                for (((wi, gl), mi), vi) in w.iter_mut().zip(&g).zip(m.iter_mut()).zip(v.iter_mut()) {
                    let g = Real::add(gl, &Real::mul_f64(wi, p.coupled));
                    let mn = Real::add(&Real::mul_f64(mi, p.b1), &Real::mul(&p.omb1, &g));
                    let vn = Real::add(&Real::mul_f64(vi, p.b2), &Real::mul(&Real::mul(&p.omb2, &g), &g));
                    let (mhat, vhat) = (Real::div(&mn, &p.c1), Real::div(&vn, &p.c2));
                    (*mi, *vi) = (mn, vn);
                    let den = Real::add(&Real::sqrt(&vhat), &p.eps);
                    let upd = if den.is_zero() { Dd::ZERO } else { Real::div(&mhat, &den) };
                    *wi = Real::sub(wi, &Real::add(&Real::mul_f64(&upd, p.eta), &Real::mul(wi, &p.decay)));
                }
            }
        }
        let same = |a: &Dd, b: &Dd| a.hi.to_bits() == b.hi.to_bits() && a.lo.to_bits() == b.lo.to_bits();
        for k in 0..2 {
            for (name, a, b) in
                [("w", &runs[k].0, &runs[2].0), ("m", &runs[k].1, &runs[2].1), ("v", &runs[k].2, &runs[2].2)]
            {
                let first = a.iter().zip(b).position(|(x, y)| !same(x, y));
                assert!(
                    first.is_none(),
                    "eps={eps} coupled={coupled} vectors={}: {name} differs first at {first:?}",
                    k == 0
                );
            }
        }
        assert!(runs[2].0.iter().zip(&w0).any(|(a, b)| a != b), "the weights moved");
    }
}

/// The 256-bit floats: a double-double round trip is exact and the operations agree with
/// double-double to its precision.
#[test]
fn big_floats_agree_with_double_double() {
    let x = Dd::from_f64(2.0).sqrt();
    let b = Big::from_dd(x);
    assert_eq!(b.dyadic().to_rational(), exact(x).to_rational());
    let (bs, bg) = b.softplus_sigmoid();
    let (ds, dg) = x.softplus_sigmoid();
    for (p, q) in [(bs, ds), (bg, dg)] {
        let diff = p.sub(&Big::from_dd(q)).to_f64().abs();
        assert!(diff <= 1e-30 * q.hi.abs(), "{diff}");
    }
    assert!((Big::sqrt(&b).to_f64() - 2f64.powf(0.25)).abs() < 1e-15);
}
