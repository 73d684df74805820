//! The exact-arithmetic module: enclosures contain the true values (checked against binary64
//! libm within a few ulps, against 40-digit constants, against mpmath golden values, and through
//! identities that only rigorous enclosures satisfy), are tight, and the directed roundings and
//! conversions are correct on edge cases.

use std::collections::HashSet;
use std::time::Instant;

use adamgap::exact::{
    Dyadic, EXP_ARG_LIMIT, ExactError, Interval, Round, exp, ln, ln2, logistic_loss, logistic_loss_derivative,
    round_down, round_up, sigmoid, softplus, sqrt_lower, sqrt_upper, to_f64_down, to_f64_nearest, to_f64_up,
};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use proptest::prelude::*;

// ------------------------------------------------------------------------------------------------
// helpers
// ------------------------------------------------------------------------------------------------

/// Exact value of a finite f64.
fn q(x: f64) -> BigRational {
    BigRational::from_float(x).expect("finite test input")
}

fn pt(x: f64) -> Interval {
    Interval::from_f64(x).expect("finite test input")
}

fn int(n: i64) -> BigRational {
    BigRational::from_integer(BigInt::from(n))
}

fn pow2(k: i64) -> BigRational {
    if k >= 0 {
        BigRational::from_integer(BigInt::one() << k.unsigned_abs())
    } else {
        BigRational::new(BigInt::one(), BigInt::one() << k.unsigned_abs())
    }
}

/// Parse a decimal like `-2.5e-3` exactly.
fn dec(s: &str) -> BigRational {
    let (mant, exp10) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().expect("exponent")),
        None => (s, 0),
    };
    let (neg, mant) = match mant.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mant),
    };
    let (ip, fp) = mant.split_once('.').unwrap_or((mant, ""));
    let digits: BigInt = format!("{ip}{fp}").parse().expect("digits");
    let e = exp10 - fp.len() as i32;
    let ten = BigInt::from(10);
    let v = if e >= 0 {
        BigRational::from_integer(digits * num_traits::pow(ten, e as usize))
    } else {
        BigRational::new(digits, num_traits::pow(ten, (-e) as usize))
    };
    if neg { -v } else { v }
}

/// Spacing of binary64 at `y` (finite `y`).
fn ulp(y: f64) -> BigRational {
    let a = y.abs();
    q(a.next_up()) - q(a)
}

/// `[lo - k ulp(y), hi + k ulp(y)]` contains `y`: the enclosure agrees with a libm result up to
/// `k` ulps of libm error.
fn agrees_with_f64(iv: &Interval, y: f64, k: i64) -> bool {
    let slack = ulp(y) * int(k);
    let y = q(y);
    iv.lo() - &slack <= y && y <= iv.hi() + &slack
}

/// `width <= 2^-(p-3) |value|`, using the lower bound `mig` of `|value|`.
fn relatively_tight(iv: &Interval, p: u32) -> bool {
    iv.width() * pow2(i64::from(p) - 3) <= iv.mig()
}

fn exp_f64(x: f64) -> f64 {
    x.exp()
}

fn softplus_f64(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

fn sigmoid_f64(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Every positive finite binary64, subnormals included, uniformly in the bit pattern.
fn positive_f64() -> impl Strategy<Value = f64> {
    (1u64..0x7FF0_0000_0000_0000).prop_map(f64::from_bits)
}

/// Every finite binary64 of either sign.
fn finite_f64() -> impl Strategy<Value = f64> {
    (positive_f64(), any::<bool>()).prop_map(|(x, neg)| if neg { -x } else { x })
}

// ------------------------------------------------------------------------------------------------
// enclosures contain libm values (up to libm's own error)
// ------------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn exp_contains_libm(x in -744.0f64..709.0, p in 53u32..200) {
        let e = exp(&pt(x), p).expect("in range");
        prop_assert!(agrees_with_f64(&e, exp_f64(x), 4), "exp({x}) = {e}");
    }

    #[test]
    fn ln_contains_libm(x in positive_f64(), p in 53u32..200) {
        let l = ln(&pt(x), p).expect("positive");
        prop_assert!(agrees_with_f64(&l, x.ln(), 4), "ln({x}) = {l}");
        prop_assert!(relatively_tight(&l, p) || x == 1.0);
    }

    #[test]
    fn softplus_contains_libm(z in -800.0f64..800.0, p in 53u32..200) {
        let s = softplus(&pt(z), p);
        prop_assert!(agrees_with_f64(&s, softplus_f64(z), 4), "softplus({z}) = {s}");
        prop_assert!(relatively_tight(&s, p));
    }

    #[test]
    fn sigmoid_contains_libm(z in -800.0f64..800.0, p in 53u32..200) {
        let s = sigmoid(&pt(z), p);
        prop_assert!(agrees_with_f64(&s, sigmoid_f64(z), 4), "sigmoid({z}) = {s}");
        prop_assert!(relatively_tight(&s, p));
    }

    /// Soundness over the whole binary64 range, saturation included.
    #[test]
    fn logistic_functions_contain_libm_everywhere(z in finite_f64(), p in 53u32..130) {
        let s = sigmoid(&pt(z), p);
        prop_assert!(agrees_with_f64(&s, sigmoid_f64(z), 4), "sigmoid({z}) = {s}");
        let sp = softplus(&pt(z), p);
        prop_assert!(agrees_with_f64(&sp, softplus_f64(z), 4), "softplus({z}) = {sp}");
        let d = logistic_loss_derivative(&pt(z), p);
        prop_assert!(agrees_with_f64(&d, -sigmoid_f64(-z), 4));
        let l = logistic_loss(&pt(z), p);
        prop_assert!(agrees_with_f64(&l, softplus_f64(-z), 4));
    }
}

// ------------------------------------------------------------------------------------------------
// identities that only hold for rigorous enclosures
// ------------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn exp_of_ln_contains_the_argument(x in positive_f64(), p in 40u32..200) {
        let l = ln(&pt(x), p).expect("positive");
        let back = exp(&l, p).expect("in range");
        prop_assert!(back.contains(&q(x)), "exp(ln({x})) = {back}");
    }

    #[test]
    fn ln_of_exp_contains_the_argument(x in -740.0f64..700.0, p in 40u32..200) {
        let e = exp(&pt(x), p).expect("in range");
        let back = ln(&e, p).expect("positive");
        prop_assert!(back.contains(&q(x)), "ln(exp({x})) = {back}");
    }

    #[test]
    fn exp_is_additive(a in -300.0f64..300.0, b in -300.0f64..300.0, p in 53u32..160) {
        let lhs = exp(&(pt(a) + pt(b)), p).expect("in range");
        let rhs = exp(&pt(a), p).expect("in range") * exp(&pt(b), p).expect("in range");
        prop_assert!(lhs.overlaps(&rhs));
    }

    #[test]
    fn sigmoid_is_symmetric(z in -1100.0f64..1100.0, p in 20u32..200) {
        let sum = sigmoid(&pt(z), p) + sigmoid(&pt(-z), p);
        prop_assert!(sum.contains(&BigRational::one()), "{sum}");
    }

    #[test]
    fn softplus_difference_is_identity(z in -1100.0f64..1100.0, p in 20u32..200) {
        let diff = softplus(&pt(z), p) - softplus(&pt(-z), p);
        prop_assert!(diff.contains(&q(z)), "{diff}");
    }

    #[test]
    fn sigmoid_times_one_plus_exp_is_one(z in -700.0f64..700.0, p in 53u32..200) {
        let e = exp(&pt(-z), p).expect("in range");
        let prod = sigmoid(&pt(z), p) * (Interval::one() + e);
        prop_assert!(prod.contains(&BigRational::one()), "{prod}");
    }

    #[test]
    fn softplus_agrees_with_interval_formula(z in -700.0f64..700.0, p in 53u32..200) {
        let e = exp(&pt(z), p + 10).expect("in range");
        let via = ln(&(Interval::one() + e), p + 10).expect("positive");
        prop_assert!(softplus(&pt(z), p).overlaps(&via));
    }

    #[test]
    fn loss_derivative_plus_one_is_sigmoid(z in -800.0f64..800.0, p in 53u32..200) {
        let d = logistic_loss_derivative(&pt(z), p) + Interval::one();
        prop_assert!(d.overlaps(&sigmoid(&pt(z), p)));
        prop_assert!(logistic_loss_derivative(&pt(z), p).hi() <= &BigRational::zero());
    }

    /// Mean value theorem with a convex softplus: the difference quotient over `[z, z+h]` lies in
    /// `[sigmoid(z), sigmoid(z+h)]`.
    #[test]
    fn softplus_difference_quotient_is_between_sigmoids(
        z in -50.0f64..50.0, h in 1e-3f64..1.0, p in 53u32..160,
    ) {
        let zh = pt(z) + pt(h);
        let quotient = (softplus(&zh, p) - softplus(&pt(z), p)).checked_div(&pt(h)).expect("h > 0");
        let bracket = Interval::new(sigmoid(&pt(z), p).lo().clone(), sigmoid(&zh, p).hi().clone())
            .expect("sigmoid increasing");
        prop_assert!(quotient.overlaps(&bracket));
    }

    /// A wide input interval encloses the image of every point in it.
    #[test]
    fn wide_inputs_enclose_interior_points(
        a in -40.0f64..40.0, w in 0.0f64..20.0, f in 0.0f64..=1.0, p in 53u32..128,
    ) {
        let b = a + w;
        let t = (a + f * w).clamp(a, b);
        let x = Interval::from_f64_bounds(a, b).expect("ordered");
        let tp = pt(t);
        prop_assert!(exp(&x, p).expect("in range").overlaps(&exp(&tp, p).expect("in range")));
        prop_assert!(sigmoid(&x, p).overlaps(&sigmoid(&tp, p)));
        prop_assert!(softplus(&x, p).overlaps(&softplus(&tp, p)));
        prop_assert!(logistic_loss(&x, p).overlaps(&logistic_loss(&tp, p)));
        let xp = Interval::from_f64_bounds(a.exp(), b.exp()).expect("ordered");
        prop_assert!(ln(&xp, p).expect("positive").overlaps(&ln(&pt(t.exp()), p).expect("positive")));
    }
}

// ------------------------------------------------------------------------------------------------
// constants and golden values
// ------------------------------------------------------------------------------------------------

/// `e` and `ln 2` to 40 decimals (Euler's number and ln 2 are in every table; checked against
/// mpmath 1.3.0 at 60 digits: e = 2.71828182845904523536028747135266249775724709369995...,
/// ln 2 = 0.69314718055994530941723212145817656807550013436025...).
#[test]
fn constants_to_40_digits() {
    let tol = dec("1e-40");
    let e40 = dec("2.7182818284590452353602874713526624977572");
    let ln2_40 = dec("0.6931471805599453094172321214581765680755");
    let e = exp(&Interval::one(), 200).expect("in range");
    let l = ln2(200);
    for (iv, c) in [(&e, &e40), (&l, &ln2_40)] {
        let window = Interval::new(c - &tol, c + &tol).expect("ordered");
        assert!(window.contains_interval(iv), "{iv} not within {c} +- 1e-40");
        assert!(iv.width() < dec("1e-55"), "too wide: {iv}");
    }
    // The 39-decimal truncation of e is off by 2.47e-40, so it needs a 1e-39 window.
    let e39 = dec("2.718281828459045235360287471352662497757");
    assert!(e.lo() > &e39 && e.hi() < &(&e39 + dec("1e-39")));
    // ln 2 three ways: the constant, ln(2), and softplus(0) = ln 2.
    assert!(l.overlaps(&ln(&Interval::from_integer(2), 200).expect("positive")));
    assert!(l.overlaps(&softplus(&Interval::zero(), 200)));
}

/// Golden values from mpmath 1.3.0 (`mp.dps = 60`; softplus via `log1p(exp(z))`), 45 digits.
/// Arguments are the exact binary64 values (`0.1` is `mpf(0.1)`).
#[test]
fn golden_values_from_mpmath() {
    type F = fn(&Interval, u32) -> Interval;
    let exp_ok: F = |x, p| exp(x, p).expect("in range");
    let ln_ok: F = |x, p| ln(x, p).expect("positive");
    let cases: [(&str, F, f64, &str); 13] = [
        ("exp", exp_ok, -745.0, "2.82235073047193707635344008205978262082436306e-324"),
        ("exp", exp_ok, 700.0, "1.01423205473500450945532959523126761520467957e+304"),
        ("exp", exp_ok, 0.1, "1.10517091807564763094663882345877965774166342"),
        ("ln", ln_ok, 1e-300, "-690.775527898213705180338344570100502908613342"),
        ("ln", ln_ok, 3.0, "1.09861228866810969139524523692252570464749056"),
        ("ln", ln_ok, 1.0 + f64::EPSILON, "2.22044604925031283432823045461548792598233181e-16"),
        ("sigmoid", sigmoid, -800.0, "3.66787458417768721345549565426079821546963423e-348"),
        ("sigmoid", sigmoid, 3.0, "0.952574126822433219121151848228247798613820568"),
        ("sigmoid", sigmoid, -3.0, "0.0474258731775667808788481517717522013861794324"),
        ("softplus", softplus, -800.0, "3.66787458417768721345549565426079821546963423e-348"),
        ("softplus", softplus, 0.5, "0.974076984180106680872997355081170749755596195"),
        ("softplus", softplus, -40.0, "4.24835425529158898630497784363158218187775061e-18"),
        ("softplus", softplus, -1000.0, "5.07595889754945676529180947957e-435"),
    ];
    for (name, f, x, golden) in cases {
        let g = dec(golden);
        // 30 significant digits at least: relative 1e-29 window.
        let slack = g.abs() * dec("1e-29");
        let window = Interval::new(&g - &slack, &g + &slack).expect("ordered");
        let iv = f(&pt(x), 200);
        assert!(iv.overlaps(&window), "{name}({x}) = {iv}, golden {golden}");
        assert!(iv.width() < g.abs() * dec("1e-50"), "{name}({x}) too wide");
    }
}

#[test]
fn exact_special_points() {
    for p in [2, 53, 300] {
        assert_eq!(exp(&Interval::zero(), p).expect("in range"), Interval::one());
        assert_eq!(ln(&Interval::one(), p).expect("positive"), Interval::zero());
        let half = Interval::point(BigRational::new(BigInt::from(1), BigInt::from(2)));
        assert_eq!(sigmoid(&Interval::zero(), p), half);
    }
}

// ------------------------------------------------------------------------------------------------
// tightness
// ------------------------------------------------------------------------------------------------

#[test]
fn point_enclosures_are_tight() {
    let exp_args = [-745.0, -700.5, -1.0, -1e-10, 0.0, 1e-300, 0.5, 1.0, 10.0, 700.0, 709.7, 5000.0];
    let ln_args = [5e-324, 1e-300, 0.3, 1.0 - f64::EPSILON / 2.0, 1.0, 1.0 + f64::EPSILON, 2.0, 1e300];
    let logistic_args = [-1000.0, -700.0, -30.0, -1.0, -1e-8, 0.0, 1e-8, 1.0, 30.0, 700.0, 1000.0];
    for p in [53u32, 128, 256] {
        for x in exp_args {
            let iv = exp(&pt(x), p).expect("in range");
            assert!(relatively_tight(&iv, p), "exp({x}) at {p} bits: {iv}");
        }
        for x in ln_args {
            let iv = ln(&pt(x), p).expect("positive");
            assert!(relatively_tight(&iv, p) || x == 1.0, "ln({x}) at {p} bits: {iv}");
        }
        for z in logistic_args {
            for (name, iv) in [
                ("sigmoid", sigmoid(&pt(z), p)),
                ("softplus", softplus(&pt(z), p)),
                ("loss", logistic_loss(&pt(z), p)),
                ("loss'", logistic_loss_derivative(&pt(z), p)),
            ] {
                assert!(relatively_tight(&iv, p), "{name}({z}) at {p} bits: {iv}");
            }
        }
        // Saturated side: values near 1 (sigmoid) and near z (softplus) stay tight.
        for z in [1e4, 1e6, 1e300] {
            assert!(relatively_tight(&sigmoid(&pt(z), p), p));
            assert!(relatively_tight(&softplus(&pt(z), p), p));
        }
        let l = ln2(p);
        assert!(relatively_tight(&l, p));
    }
}

#[test]
fn saturated_and_out_of_range_arguments() {
    // Beyond LOGISTIC_SATURATION the tiny values are enclosed by [0, 2^-1477].
    for z in [-2000.0, -1e300] {
        let s = sigmoid(&pt(z), 64);
        assert!(s.lo().is_zero() && s.hi() < &pow2(-1477) && s.hi().is_positive());
        let sp = softplus(&pt(z), 64);
        assert!(sp.lo().is_zero() && sp.hi() < &pow2(-1477));
        let near_one = sigmoid(&pt(-z), 64);
        assert!(near_one.hi() == &BigRational::one() && near_one.lo() < &BigRational::one());
        let sp = softplus(&pt(-z), 64);
        assert!(sp.contains(&q(-z)) && sp.lo() == &q(-z));
    }
    // exp below -EXP_ARG_LIMIT: [0, tiny]; above: an error that names the limit.
    let tiny = exp(&pt(-1e6), 64).expect("lower side is fine");
    assert!(tiny.lo().is_zero() && tiny.hi() < &pow2(-94_548));
    let lim = f64::from(EXP_ARG_LIMIT);
    assert!(exp(&pt(lim), 64).is_ok());
    let err = exp(&Interval::from_f64_bounds(0.0, lim * 2.0).expect("ordered"), 64);
    assert_eq!(err, Err(ExactError::ExpOverflow { limit: EXP_ARG_LIMIT }));
    let msg = err.expect_err("overflow").to_string();
    assert!(msg.contains("65536") && msg.contains("exp"), "{msg}");
    // ln needs lo > 0.
    for (a, b) in [(0.0, 1.0), (-2.0, -1.0), (-1.0, 1.0)] {
        let e = ln(&Interval::from_f64_bounds(a, b).expect("ordered"), 64);
        assert_eq!(e, Err(ExactError::LogNonPositive));
    }
    assert!(ExactError::LogNonPositive.to_string().contains("lo > 0"));
}

/// Certificates evaluate these at hundreds to thousands of margins: 200 points at 128 bits must
/// take well under a second (the test profile is optimized).
#[test]
fn two_hundred_points_at_128_bits_are_fast() {
    let zs: Vec<Interval> = (0..200).map(|i| pt(-40.0 + 0.4 * f64::from(i) + 1e-3)).collect();
    let start = Instant::now();
    let mut acc = Interval::zero();
    for z in &zs {
        acc = acc + sigmoid(z, 128) + softplus(z, 128) + logistic_loss_derivative(z, 128);
    }
    let elapsed = start.elapsed();
    assert!(acc.is_positive());
    assert!(elapsed.as_secs_f64() < 1.0, "600 enclosures took {elapsed:?}");
}

// ------------------------------------------------------------------------------------------------
// directed rounding, square roots, conversions
// ------------------------------------------------------------------------------------------------

#[test]
fn round_outward_edge_cases() {
    let third = BigRational::new(BigInt::from(1), BigInt::from(3));
    assert_eq!(round_down(&third, 10), BigRational::new(BigInt::from(341), BigInt::from(1024)));
    assert_eq!(round_up(&third, 10), BigRational::new(BigInt::from(683), BigInt::from(2048)));
    assert_eq!(round_down(&-&third, 10), BigRational::new(BigInt::from(-683), BigInt::from(2048)));
    assert_eq!(round_up(&-&third, 10), BigRational::new(BigInt::from(-341), BigInt::from(1024)));
    // zero and short dyadics are fixed points
    assert!(round_down(&BigRational::zero(), 5).is_zero() && round_up(&BigRational::zero(), 5).is_zero());
    let r = dec("0.375");
    assert_eq!(round_down(&r, 2), r);
    assert_eq!(round_up(&r, 2), r);
    // one bit: 3 -> [2, 4], 5 -> [4, 8]
    assert_eq!((round_down(&int(3), 1), round_up(&int(3), 1)), (int(2), int(4)));
    assert_eq!((round_down(&int(5), 1), round_up(&int(5), 1)), (int(4), int(8)));
    assert_eq!(round_up(&int(5), 0), int(8), "prec 0 is clamped to 1");
    // huge, tiny, subnormal-sized: relative error below 2^(1-prec), bracketing holds
    let ten = BigInt::from(10);
    let huge = BigRational::from_integer(num_traits::pow(ten.clone(), 400)) + int(1);
    let tiny = BigRational::new(BigInt::from(7), num_traits::pow(ten, 400));
    let sub = q(5e-324) * dec("1.5");
    for x in [huge, tiny.clone(), -tiny, sub, q(-f64::MAX), dec("-123.456")] {
        for p in [1u32, 2, 24, 53, 113] {
            let iv = Interval::point(x.clone()).round_outward(p);
            assert!(iv.contains(&x));
            assert!(iv.width() <= x.abs() * pow2(2 - i64::from(p)), "{x} at {p}");
            // grid check: at most p significant bits
            for end in [iv.lo(), iv.hi()] {
                let (n, d) = (end.numer().clone(), end.denom().clone());
                let dbits = d.trailing_zeros().unwrap_or(0);
                assert_eq!(d, BigInt::one() << dbits, "dyadic denominator");
                let odd = &n >> n.trailing_zeros().unwrap_or(0);
                assert!(odd.bits() <= u64::from(p.max(1)), "{end} has more than {p} bits");
            }
            assert_eq!(iv.round_outward(p), iv, "idempotent");
        }
    }
    // an interval keeps its zero endpoint
    let z = Interval::new(BigRational::zero(), third.clone()).expect("ordered").round_outward(8);
    assert!(z.lo().is_zero() && z.hi() >= &third);
}

#[test]
fn square_roots_bracket() {
    let two = int(2);
    let (lo, hi) = (sqrt_lower(&two, 100).expect("nonneg"), sqrt_upper(&two, 100).expect("nonneg"));
    assert!(&lo * &lo <= two && &hi * &hi >= two);
    assert!(&hi - &lo <= pow2(-97));
    let nine_quarters = BigRational::new(BigInt::from(9), BigInt::from(4));
    let three_halves = BigRational::new(BigInt::from(3), BigInt::from(2));
    assert_eq!(sqrt_lower(&nine_quarters, 10), Some(three_halves.clone()));
    assert_eq!(sqrt_upper(&nine_quarters, 10), Some(three_halves));
    assert_eq!(sqrt_upper(&BigRational::zero(), 10), Some(BigRational::zero()));
    assert_eq!(sqrt_lower(&-&two, 10), None);
    assert_eq!(sqrt_upper(&int(-1), 10), None);
    assert_eq!(sqrt_upper(&q(5e-324), 53), Some(pow2(-537)));
    let ten = BigInt::from(10);
    for x in [
        BigRational::from_integer(num_traits::pow(ten.clone(), 601)),
        BigRational::new(BigInt::from(3), num_traits::pow(ten, 601)),
        dec("0.1"),
        q(f64::MAX),
    ] {
        for p in [1u32, 2, 53, 200] {
            let l = sqrt_lower(&x, p).expect("nonneg");
            let u = sqrt_upper(&x, p).expect("nonneg");
            assert!(&l * &l <= x && &u * &u >= x && !l.is_negative());
            assert!(&u - &l <= &u * pow2(3 - i64::from(p)), "{x} at {p}");
        }
    }
    let s = Interval::new(int(4), int(9)).expect("ordered").sqrt(20).expect("nonneg");
    assert_eq!(s, Interval::new(int(2), int(3)).expect("ordered"));
    assert_eq!(Interval::from_integer(-1).sqrt(20), Err(ExactError::SqrtNegative));
}

#[test]
fn f64_conversions_edge_cases() {
    let zero = BigRational::zero();
    for f in [to_f64_down, to_f64_up, to_f64_nearest] {
        let z = f(&zero);
        assert!(z == 0.0 && z.is_sign_positive());
    }
    let third = BigRational::new(BigInt::from(1), BigInt::from(3));
    assert_eq!(to_f64_down(&third).next_up(), to_f64_up(&third));
    assert_eq!(to_f64_nearest(&third), 1.0 / 3.0);
    assert_eq!(to_f64_nearest(&dec("0.1")), 0.1);
    assert_eq!(to_f64_nearest(&-dec("0.1")), -0.1);
    // exact binary64 values map to themselves
    for x in [5e-324, 2.2250738585072014e-308, 2.225073858507201e-308, 1.0, -0.1, f64::MAX, -f64::MAX] {
        assert_eq!(to_f64_down(&q(x)), x);
        assert_eq!(to_f64_up(&q(x)), x);
        assert_eq!(to_f64_nearest(&q(x)), x);
    }
    // below the smallest subnormal
    let below = q(5e-324) / int(3);
    assert_eq!((to_f64_down(&below), to_f64_up(&below)), (0.0, 5e-324));
    assert_eq!((to_f64_down(&-&below), to_f64_up(&-&below)), (-5e-324, 0.0));
    assert!(to_f64_up(&-&below).is_sign_positive());
    assert_eq!(to_f64_nearest(&below), 0.0);
    // beyond MAX
    let above = q(f64::MAX) + int(1);
    assert_eq!((to_f64_down(&above), to_f64_up(&above)), (f64::MAX, f64::INFINITY));
    assert_eq!((to_f64_down(&-&above), to_f64_up(&-&above)), (f64::NEG_INFINITY, -f64::MAX));
    assert_eq!(to_f64_nearest(&above), f64::MAX);
    assert_eq!(to_f64_nearest(&(q(f64::MAX) + pow2(970))), f64::INFINITY);
    assert_eq!(to_f64_nearest(&-(q(f64::MAX) + pow2(970))), f64::NEG_INFINITY);
    assert_eq!(to_f64_nearest(&(q(f64::MAX) + pow2(969))), f64::MAX);
    // ties to even
    assert_eq!(to_f64_nearest(&(int(1) + pow2(-53))), 1.0);
    assert_eq!(to_f64_nearest(&(int(1) + pow2(-53) * int(3))), 1.0 + 2.0 * f64::EPSILON);
    assert_eq!(to_f64_nearest(&pow2(-1075)), 0.0);
    assert_eq!(to_f64_nearest(&(pow2(-1075) * int(3))), 1e-323);
    // huge and tiny rationals far outside the range
    let ten = BigInt::from(10);
    let googol4 = BigRational::from_integer(num_traits::pow(ten, 400));
    assert_eq!(to_f64_up(&googol4), f64::INFINITY);
    assert_eq!(to_f64_down(&googol4.recip()), 0.0);
    assert_eq!(to_f64_up(&googol4.recip()), 5e-324);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn f64_conversions_are_directed(x in finite_f64(), num in 1i64..1000) {
        let exact = q(x);
        prop_assert_eq!(to_f64_down(&exact), x);
        prop_assert_eq!(to_f64_up(&exact), x);
        // a point strictly between x and its successor
        let y = x.next_up();
        prop_assume!(y.is_finite());
        let between = &exact + (q(y) - &exact) * BigRational::new(BigInt::from(num), BigInt::from(1001));
        prop_assert_eq!(to_f64_down(&between), if x == 0.0 { 0.0 } else { x });
        prop_assert_eq!(to_f64_up(&between), y);
        let n = to_f64_nearest(&between);
        prop_assert!(n == x || n == y);
        let (dx, dy) = (&between - &exact, q(y) - &between);
        if dx < dy { prop_assert_eq!(n, x) } else if dy < dx { prop_assert_eq!(n, y) }
    }

    #[test]
    fn sqrt_bounds_hold(x in positive_f64(), p in 1u32..120) {
        let v = q(x);
        let l = sqrt_lower(&v, p).expect("nonneg");
        let u = sqrt_upper(&v, p).expect("nonneg");
        prop_assert!(&l * &l <= v && v <= &u * &u);
        prop_assert!(&u - &l <= &u * pow2(3 - i64::from(p)));
    }
}

// ------------------------------------------------------------------------------------------------
// interval arithmetic
// ------------------------------------------------------------------------------------------------

#[test]
fn interval_arithmetic_basics() {
    let iv = |a: i64, b: i64| Interval::new(int(a), int(b)).expect("ordered");
    let a = iv(-2, 3);
    let b = iv(4, 5);
    assert_eq!(&a + &b, iv(2, 8));
    assert_eq!(&a - &b, iv(-7, -1));
    assert_eq!(-&a, iv(-3, 2));
    assert_eq!(&a * &b, iv(-10, 15));
    assert_eq!(&a * &a, iv(-6, 9));
    assert_eq!(a.square(), iv(0, 9));
    assert_eq!(iv(-5, -2).square(), iv(4, 25));
    assert_eq!(a.scale_by_rational(&int(-2)), iv(-6, 4));
    assert_eq!(Interval::sum([&a, &b, &a]), iv(0, 11));
    assert_eq!([a.clone(), b.clone()].iter().sum::<Interval>(), iv(2, 8));
    assert_eq!(b.checked_div(&iv(1, 2)).expect("nonzero"), Interval::new(int(2), int(5)).expect("ordered"));
    assert_eq!(b.checked_div(&a), Err(ExactError::DivisionByZero));
    assert_eq!(b.checked_div(&iv(-1, 0)), Err(ExactError::DivisionByZero));
    assert_eq!((a.mag(), a.mig(), b.mig()), (int(3), int(0), int(4)));
    assert_eq!(a.mid(), BigRational::new(BigInt::from(1), BigInt::from(2)));
    assert_eq!(a.width(), int(5));
    assert!(b.is_positive() && !a.is_positive() && a.contains_zero() && iv(-3, -1).is_negative());
    assert_eq!(a.intersect(&b), None);
    assert_eq!(a.hull(&b), iv(-2, 5));
    assert_eq!(a.abs(), iv(0, 3));
    assert_eq!(Interval::new(int(2), int(1)), Err(ExactError::EmptyInterval));
    let nan = Interval::from_f64(f64::NAN);
    assert!(matches!(nan, Err(ExactError::NonFinite { .. })));
    assert!(nan.expect_err("nan").to_string().contains("NaN"));
    assert!(Interval::from_f64(f64::INFINITY).is_err());
    let tenth = pt(0.1);
    assert!(tenth.contains_f64(0.1) && !tenth.contains(&dec("0.1")), "0.1 is its binary value");
    assert!(!tenth.contains_f64(f64::NAN));
    assert_eq!(format!("{}", iv(1, 2)), "[1e0, 2e0]");
}

// ------------------------------------------------------------------------------------------------
// dyadic numbers
// ------------------------------------------------------------------------------------------------

fn dy(m: i64, e: i64) -> Dyadic {
    Dyadic::new(BigInt::from(m), e)
}

/// `==`, `Hash` and `cmp` agree: two representations of one value (`3 2^-1` and `6 2^-2`, or
/// zero with two exponents) are equal, hash alike and compare `Equal` (the contract of `Eq`,
/// `Hash` and `Ord` in the standard library; a derive on the stored pair would break it).
#[test]
fn dyadic_equality_and_hash_are_by_value() {
    let pairs =
        [(dy(3, -1), dy(6, -2)), (dy(0, 7), dy(0, -3)), (dy(-5, 10), dy(-5 << 20, -10)), (dy(1, 0), dy(1 << 40, -40))];
    for (a, b) in &pairs {
        assert_eq!(a.cmp(b), std::cmp::Ordering::Equal);
        assert_eq!(a, b, "same value, different representation");
        let set: HashSet<Dyadic> = [a.clone(), b.clone()].into_iter().collect();
        assert_eq!(set.len(), 1, "equal values must hash alike: {a:?} {b:?}");
    }
    assert_ne!(dy(3, -1), dy(3, -2));
    assert_ne!(dy(3, -1), dy(-3, -1));
    let mut v = vec![dy(6, -2), dy(1, 0), dy(3, -1), dy(-1, 3), dy(0, 5)];
    v.sort();
    v.dedup();
    assert_eq!(v, vec![dy(-1, 3), dy(0, 0), dy(1, 0), dy(3, -1)]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The direct directed conversion of a dyadic to binary64 (normal, subnormal and overflowing
    /// ranges) equals the rigorous conversion of its exact rational.
    #[test]
    fn dyadic_to_f64_dir_matches_rational(m in -(1i64 << 62)..(1i64 << 62), e in -1200i64..1100) {
        let d = dy(m, e);
        let r = d.to_rational();
        prop_assert_eq!(d.to_f64_dir(Round::Down).to_bits(), to_f64_down(&r).to_bits());
        prop_assert_eq!(d.to_f64_dir(Round::Up).to_bits(), to_f64_up(&r).to_bits());
    }
}
