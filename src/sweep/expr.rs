//! The small expression language of derived grid keys (`"data.s" = "round(sqrt(data.d))"`).
//!
//! Everything is a float64. Grammar, loosest binding first:
//!
//! ```text
//! expr   := term (('+' | '-') term)*
//! term   := unary (('*' | '/') unary)*
//! unary  := '-' unary | power
//! power  := atom ('^' unary)?          (right associative: 2^3^2 = 2^9)
//! atom   := number | name | name '(' expr (',' expr)* ')' | '(' expr ')'
//! ```
//!
//! Numbers are decimal with an optional exponent (`1e-3`). A name is a setting key, dotted
//! (`data.d`, `model.sigma0`, `optimizers.adam.eta`, `seed`), or the bare field name when it is
//! unambiguous (`d`, `n`, `s`, `sigma_p`, `alpha`, `sigma0`, `lambda`, `m`, `q`, `steps`); the
//! caller resolves names. Functions: `sqrt`, `ln`, `log10`, `exp`, `abs`, `round`, `floor`, `ceil`
//! (one argument) and `min`, `max` (two or more). `pi` is a constant.
//!
//! Depth is bounded ([`MAX_DEPTH`]): the parser refuses an expression nested deeper (parentheses,
//! unary minus signs, powers, function calls) or whose tree is deeper (a chain of operators such
//! as `1 + 1 + ... + 1`), so no recursion over the expression, in parsing, evaluating or dropping
//! it, can exhaust the stack (`docs/reliability.md`, "Recursion depth").

/// The deepest expression the parser accepts: nesting levels while parsing, and the height of the
/// tree it builds.
pub const MAX_DEPTH: usize = 100;

/// A parsed expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Num(f64),
    Var(String),
    Neg(Box<Expr>),
    Bin(char, Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
}

const FUNCTIONS: &[&str] = &["sqrt", "ln", "log10", "exp", "abs", "round", "floor", "ceil", "min", "max"];

impl Expr {
    /// Parses `text`; the error says what was expected and where.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let mut p = Parser { s: text.as_bytes(), i: 0, depth: 0 };
        let (e, _) = p.expr()?;
        p.ws();
        if p.i < p.s.len() {
            return Err(format!("unexpected `{}` at position {}", &text[p.i..], p.i + 1));
        }
        Ok(e)
    }

    /// The names the expression reads, in order of appearance (with repeats).
    pub fn names(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Num(_) => {}
            Expr::Var(v) => out.push(v),
            Expr::Neg(a) => a.collect(out),
            Expr::Bin(_, a, b) => {
                a.collect(out);
                b.collect(out);
            }
            Expr::Call(_, args) => args.iter().for_each(|a| a.collect(out)),
        }
    }

    /// The value, with `var` giving each name's value (`None`: unknown name, an error).
    pub fn eval(&self, var: &dyn Fn(&str) -> Option<f64>) -> std::result::Result<f64, String> {
        Ok(match self {
            Expr::Num(x) => *x,
            Expr::Var(v) if v == "pi" => std::f64::consts::PI,
            Expr::Var(v) => var(v).ok_or_else(|| format!("unknown name `{v}`"))?,
            Expr::Neg(a) => -a.eval(var)?,
            Expr::Bin(op, a, b) => {
                let (x, y) = (a.eval(var)?, b.eval(var)?);
                match op {
                    '+' => x + y,
                    '-' => x - y,
                    '*' => x * y,
                    '/' => x / y,
                    _ => x.powf(y),
                }
            }
            Expr::Call(f, args) => {
                let v = args.iter().map(|a| a.eval(var)).collect::<std::result::Result<Vec<_>, _>>()?;
                let one = |g: fn(f64) -> f64| {
                    if v.len() == 1 { Ok(g(v[0])) } else { Err(format!("`{f}` takes one argument, got {}", v.len())) }
                };
                match f.as_str() {
                    "sqrt" => one(f64::sqrt)?,
                    "ln" => one(f64::ln)?,
                    "log10" => one(f64::log10)?,
                    "exp" => one(f64::exp)?,
                    "abs" => one(f64::abs)?,
                    "round" => one(f64::round)?,
                    "floor" => one(f64::floor)?,
                    "ceil" => one(f64::ceil)?,
                    "min" | "max" if v.len() >= 2 => {
                        let pick = if f == "min" { f64::min } else { f64::max };
                        v[1..].iter().fold(v[0], |a, &b| pick(a, b))
                    }
                    _ => return Err(format!("`{f}` takes two or more arguments")),
                }
            }
        })
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    /// Nesting of [`Parser::unary`] calls in progress (every recursion passes through it).
    depth: usize,
}

/// An expression and the height of its tree (a number or a name is 1).
type Parsed = std::result::Result<(Expr, usize), String>;

fn too_deep(at: usize) -> String {
    format!(
        "nested deeper than {MAX_DEPTH} levels at position {at} (parentheses, minus signs, powers, \
         function calls, or a chain of operators); write a simpler expression"
    )
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    /// `Bin(op, a, b)` with its height, refused above [`MAX_DEPTH`].
    fn bin(&self, op: char, (a, ha): (Expr, usize), (b, hb): (Expr, usize)) -> Parsed {
        let h = ha.max(hb) + 1;
        if h > MAX_DEPTH {
            return Err(too_deep(self.i));
        }
        Ok((Expr::Bin(op, Box::new(a), Box::new(b)), h))
    }

    fn expr(&mut self) -> Parsed {
        let mut e = self.term()?;
        while let Some(c @ (b'+' | b'-')) = self.peek() {
            self.i += 1;
            let rhs = self.term()?;
            e = self.bin(c as char, e, rhs)?;
        }
        Ok(e)
    }

    fn term(&mut self) -> Parsed {
        let mut e = self.unary()?;
        while let Some(c @ (b'*' | b'/')) = self.peek() {
            self.i += 1;
            let rhs = self.unary()?;
            e = self.bin(c as char, e, rhs)?;
        }
        Ok(e)
    }

    fn unary(&mut self) -> Parsed {
        if self.depth >= MAX_DEPTH {
            return Err(too_deep(self.i + 1));
        }
        self.depth += 1;
        let r = self.unary_inner();
        self.depth -= 1;
        r
    }

    fn unary_inner(&mut self) -> Parsed {
        if self.peek() == Some(b'-') {
            self.i += 1;
            let (a, h) = self.unary()?;
            if h + 1 > MAX_DEPTH {
                return Err(too_deep(self.i));
            }
            return Ok((Expr::Neg(Box::new(a)), h + 1));
        }
        let base = self.atom()?;
        if self.peek() == Some(b'^') {
            self.i += 1;
            let exponent = self.unary()?;
            return self.bin('^', base, exponent);
        }
        Ok(base)
    }

    fn atom(&mut self) -> Parsed {
        let at = self.i + 1;
        match self.peek() {
            None => Err("unexpected end of expression".into()),
            Some(b'(') => {
                self.i += 1;
                let e = self.expr()?;
                if self.peek() != Some(b')') {
                    return Err(format!("missing `)` for the `(` at position {at}"));
                }
                self.i += 1;
                Ok(e)
            }
            Some(c) if c.is_ascii_digit() || c == b'.' => {
                let start = self.i;
                while self.i < self.s.len() && (self.s[self.i].is_ascii_digit() || self.s[self.i] == b'.') {
                    self.i += 1;
                }
                if self.i < self.s.len() && matches!(self.s[self.i], b'e' | b'E') {
                    let save = self.i;
                    self.i += 1;
                    if self.i < self.s.len() && matches!(self.s[self.i], b'+' | b'-') {
                        self.i += 1;
                    }
                    let digits = self.i;
                    while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                        self.i += 1;
                    }
                    if self.i == digits {
                        self.i = save;
                    }
                }
                let text = std::str::from_utf8(&self.s[start..self.i]).expect("ASCII");
                text.parse().map(|x| (Expr::Num(x), 1)).map_err(|_| format!("bad number `{text}` at position {at}"))
            }
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                let start = self.i;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_alphanumeric() || b"_.".contains(&self.s[self.i]))
                {
                    self.i += 1;
                }
                let name = std::str::from_utf8(&self.s[start..self.i]).expect("ASCII").to_string();
                if self.peek() != Some(b'(') {
                    return Ok((Expr::Var(name), 1));
                }
                if !FUNCTIONS.contains(&name.as_str()) {
                    return Err(format!("unknown function `{name}` (known: {})", FUNCTIONS.join(", ")));
                }
                self.i += 1;
                let (first, mut h) = self.expr()?;
                let mut args = vec![first];
                while self.peek() == Some(b',') {
                    self.i += 1;
                    let (a, ha) = self.expr()?;
                    h = h.max(ha);
                    args.push(a);
                }
                if self.peek() != Some(b')') {
                    return Err(format!("missing `)` after the arguments of `{name}`"));
                }
                self.i += 1;
                if h + 1 > MAX_DEPTH {
                    return Err(too_deep(self.i));
                }
                Ok((Expr::Call(name, args), h + 1))
            }
            Some(c) => Err(format!("unexpected `{}` at position {at}", c as char)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Expr;

    fn eval(text: &str) -> f64 {
        let vars = |n: &str| match n {
            "data.d" | "d" => Some(10_000.0),
            "n" => Some(50.0),
            _ => None,
        };
        Expr::parse(text).expect("parses").eval(&vars).expect("evaluates")
    }

    #[test]
    fn precedence_associativity_and_functions() {
        assert_eq!(eval("1 + 2 * 3"), 7.0);
        assert_eq!(eval("(1 + 2) * 3"), 9.0);
        assert_eq!(eval("2^3^2"), 512.0);
        assert_eq!(eval("-2^2"), -4.0);
        assert_eq!(eval("8 / 4 / 2"), 1.0);
        assert_eq!(eval("10 - 4 - 3"), 3.0);
        assert_eq!(eval("round(sqrt(data.d))"), 100.0);
        assert_eq!(eval("0.01 * (d / 1000)^(-0.25)"), 0.01 * 10f64.powf(-0.25));
        assert_eq!(eval("max(1, n, 3)"), 50.0);
        assert_eq!(eval("1e-3 * 2E2"), 0.2);
        assert!((eval("ln(exp(2))") - 2.0).abs() < 1e-15);
        assert_eq!(Expr::parse("sqrt(d) * n + d").expect("parses").names(), ["d", "n", "d"]);
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let err = |t: &str| Expr::parse(t).and_then(|e| e.eval(&|_| None)).expect_err("rejected");
        assert!(err("sqrt(").contains("end of expression"));
        assert!(err("2 +* 3").contains("unexpected `*`"));
        assert!(err("foo(2)").contains("unknown function `foo`"));
        assert!(err("(1 + 2").contains("missing `)`"));
        assert!(err("1 2").contains("unexpected `2`"));
        assert!(err("dd * 2").contains("unknown name `dd`"));
        assert!(err("sqrt(1, 2)").contains("one argument"));
    }

    #[test]
    fn depth_is_bounded_in_nesting_and_in_chains() {
        let deep =
            |n: usize, open: &str, close: &str, core: &str| format!("{}{core}{}", open.repeat(n), close.repeat(n));
        let ok = super::MAX_DEPTH - 1;
        assert_eq!(eval(&deep(ok, "(", ")", "2")), 2.0);
        assert_eq!(eval(&deep(ok - 1, "-", "", "2")), if (ok - 1).is_multiple_of(2) { 2.0 } else { -2.0 });
        for bad in [
            deep(3000, "(", ")", "1"),
            deep(500_000, "-", "", "1"),
            deep(3000, "sqrt(", ")", "1"),
            vec!["2"; 3000].join("^"),
            vec!["1"; 500_000].join("+"),
            vec!["1"; 3000].join("*"),
            format!("max({})", vec!["1"; 300].join("+")),
        ] {
            let e = Expr::parse(&bad).expect_err("too deep");
            assert!(e.contains("nested deeper than 100 levels"), "{e}");
        }
        // A long flat call is not deep.
        assert_eq!(eval(&format!("max({})", vec!["1"; 10_000].join(", "))), 1.0);
    }
}
