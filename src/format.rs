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

/// How a table column aligns its cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A plain-text table: every column as wide as its widest cell (or its minimum width), cells
/// aligned per column and joined by `sep`, each line prefixed by `indent` and without trailing
/// spaces. The one table renderer of the headline report, the claim summaries and the convex report.
#[derive(Clone, Debug)]
pub struct Table {
    align: Vec<Align>,
    min_width: Vec<usize>,
    sep: &'static str,
    indent: &'static str,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table whose columns align as `align`, joined by two spaces, not indented.
    pub fn new(align: &[Align]) -> Self {
        Self { align: align.to_vec(), min_width: vec![0; align.len()], sep: "  ", indent: "", rows: Vec::new() }
    }

    /// Joins cells with `sep` instead of two spaces.
    pub fn sep(mut self, sep: &'static str) -> Self {
        self.sep = sep;
        self
    }

    /// Prefixes every line with `indent`.
    pub fn indent(mut self, indent: &'static str) -> Self {
        self.indent = indent;
        self
    }

    /// Columns at least these widths (missing entries: 0).
    pub fn min_width(mut self, widths: &[usize]) -> Self {
        for (m, w) in self.min_width.iter_mut().zip(widths) {
            *m = *w;
        }
        self
    }

    /// Appends a row (one cell per column; missing cells print empty).
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Self {
        self.rows.push(cells.into_iter().map(Into::into).collect());
        self
    }

    /// The rendered lines, each ending in `\n`.
    pub fn render(&self) -> String {
        let cols = self.align.len();
        let width = |c: usize| {
            let widest = self.rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0);
            widest.max(self.min_width[c])
        };
        let widths: Vec<usize> = (0..cols).map(width).collect();
        let mut out = String::new();
        for row in &self.rows {
            let mut line = String::from(self.indent);
            for (c, (&w, &a)) in widths.iter().zip(&self.align).enumerate() {
                if c > 0 {
                    line.push_str(self.sep);
                }
                let cell = row.get(c).map_or("", String::as_str);
                match a {
                    Align::Left => line.push_str(&format!("{cell:<w$}")),
                    Align::Right => line.push_str(&format!("{cell:>w$}")),
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns_and_trims_lines() {
        let mut t = Table::new(&[Align::Left, Align::Right]).indent("  ");
        t.row(["a", "1"]).row(["long", "12345"]).row(["", ""]);
        assert_eq!(t.render(), "  a         1\n  long  12345\n\n");
        let mut t = Table::new(&[Align::Left, Align::Right]).sep(" ").min_width(&[3, 4]);
        t.row(["x", "y"]);
        assert_eq!(t.render(), "x      y\n");
    }

    #[test]
    fn sig_rounds_to_significant_digits() {
        assert_eq!(sig(0.000123456, 2), "0.00012");
        assert_eq!(sig(-1.94e-7, 2), "-1.9e-7");
        assert_eq!(sig(2.345, 2), "2.3");
        assert_eq!(sig(0.0, 3), "0");
    }
}
