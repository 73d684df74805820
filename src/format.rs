//! Number formatting shared by every table and report (claims, headline, convex): one place, so
//! that a snapshot and a report print a quantity the same way.

/// `x` rounded to `digits` significant digits, in a compact form (`0.00012`, `-1.9e-7`, `2.3`).
pub fn sig(x: f64, digits: usize) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x == 0.0 {
        return "0".into();
    }
    let digits = digits.max(1);
    let e = format!("{:.*e}", digits - 1, x);
    let (mant, exp) = e.split_once('e').expect("exponent form");
    let exp: i32 = exp.parse().expect("integer exponent");
    if (-4..6).contains(&exp) {
        let decimals = (digits as i32 - 1 - exp).max(0) as usize;
        let v: f64 = e.parse().expect("float");
        format!("{v:.decimals$}")
    } else {
        let mant = mant.trim_end_matches('0').trim_end_matches('.');
        format!("{mant}e{exp}")
    }
}
