//! Positions in a TOML file, from `toml`'s spans: the exact line of a key or of an array item, for
//! load errors that name a line (theorem files, grid files), and the line and column of a parse
//! error (every TOML file the crate reads, [`crate::setting::parse_toml`]).

use std::collections::BTreeMap;

use toml::de::{DeTable, DeValue};

use crate::error::Error;

/// One step of a path into a TOML document: a key of a table or an index into an array.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Seg {
    Key(String),
    Index(usize),
}

impl Seg {
    /// The key `k`.
    pub fn key(k: &str) -> Self {
        Self::Key(k.to_string())
    }
}

/// The path of a field as the load errors name it: keys joined by `.`, array items as `[k]`
/// (`check[3].what`, `test.seeds`, `track.quantities[0]`). A key that contains a dot cannot be
/// written this way: give its [`Seg`]s.
pub fn field(path: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, indices) = part.split_once('[').map_or((part, ""), |(k, rest)| (k, rest));
        if !key.is_empty() {
            out.push(Seg::key(key));
        }
        for index in indices.split('[').filter(|s| !s.is_empty()) {
            match index.trim_end_matches(']').parse() {
                Ok(k) => out.push(Seg::Index(k)),
                Err(_) => out.push(Seg::key(index)),
            }
        }
    }
    out
}

/// The line of every key and array item of a TOML text.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Spans {
    lines: BTreeMap<Vec<Seg>, usize>,
}

impl Spans {
    /// The positions of `text`'s keys; a text that does not parse has none (its parse error has
    /// its own position).
    pub fn parse(text: &str) -> Self {
        let mut lines = BTreeMap::new();
        if let Ok(doc) = DeTable::parse(text) {
            walk(doc.get_ref(), &mut Vec::new(), text, &mut lines);
        }
        Self { lines }
    }

    /// The 1-based line where `path` is written: a key's own line, an array item's first line.
    pub fn line(&self, path: &[Seg]) -> Option<usize> {
        self.lines.get(path).copied()
    }

    /// `origin line N` for the line of `path`, or `origin` when it is not in the file (a field
    /// left at its default).
    pub fn at(&self, origin: &str, path: &[Seg]) -> String {
        match self.line(path) {
            Some(l) => format!("{origin} line {l}"),
            None => origin.to_string(),
        }
    }
}

fn walk(table: &DeTable<'_>, prefix: &mut Vec<Seg>, text: &str, out: &mut BTreeMap<Vec<Seg>, usize>) {
    for (k, v) in table.iter() {
        prefix.push(Seg::key(k.get_ref()));
        out.insert(prefix.clone(), line_at(text, k.span().start));
        value(v.get_ref(), prefix, text, out);
        prefix.pop();
    }
}

fn value(v: &DeValue<'_>, prefix: &mut Vec<Seg>, text: &str, out: &mut BTreeMap<Vec<Seg>, usize>) {
    match v {
        DeValue::Table(t) => walk(t, prefix, text, out),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                prefix.push(Seg::Index(i));
                out.insert(prefix.clone(), line_at(text, item.span().start));
                value(item.get_ref(), prefix, text, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

/// The 1-based line of byte `offset` of `text`.
fn line_at(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|b| **b == b'\n').count() + 1
}

/// A TOML parse or type error of the file `origin` as the crate's error, with the exact line and
/// column from the error's span (`origin line 3, column 7: unknown field ...`).
pub fn toml_error(text: &str, origin: &str, e: &toml::de::Error) -> Error {
    match e.span() {
        Some(span) => {
            let start = span.start.min(text.len());
            let line_start = text[..start].rfind('\n').map_or(0, |k| k + 1);
            let column = text[line_start..start].chars().count() + 1;
            Error::Config {
                origin: format!("{origin} line {}, column {column}", line_at(text, start)),
                message: e.message().trim().to_string(),
            }
        }
        None => Error::Config { origin: origin.to_string(), message: e.to_string().trim().to_string() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_keys_and_items_in_every_kind_of_table() {
        let text = "seeds = 12\n[test]\nscale = \"reduced\"\nseeds = 2\nsetting = { data = { d = 5 } }\n\
                    [[check]]\nwhat = \"a\"\n\n[[check]]\nwhat = \"b\"\nitems = [\n  \"x\",\n  \"y\",\n]\n\
                    [axes]\n\"data.d\" = [1, 2]\n";
        let s = Spans::parse(text);
        assert_eq!(s.line(&field("seeds")), Some(1));
        assert_eq!(s.line(&field("test.seeds")), Some(4));
        assert_eq!(s.line(&field("test.setting.data.d")), Some(5));
        assert_eq!(s.line(&field("check[1].what")), Some(10));
        assert_eq!(s.line(&field("check[1].items[1]")), Some(13));
        assert_eq!(s.line(&[Seg::key("axes"), Seg::key("data.d")]), Some(16));
        assert_eq!(s.line(&field("nothing")), None);
        assert_eq!(s.at("t.toml", &field("test.scale")), "t.toml line 3");
        assert_eq!(s.at("t.toml", &field("test.note")), "t.toml");
        assert_eq!(Spans::parse("not = = toml"), Spans::default());
    }

    #[test]
    fn a_parse_error_names_its_line_and_column() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct T {
            a: u32,
        }
        let text = "a = 1\nb = 2\n";
        let e = toml::from_str::<T>(text).expect_err("unknown field");
        let e = toml_error(text, "t.toml", &e).to_string();
        assert!(e.starts_with("cannot parse t.toml line 2, column 1: unknown field `b`"), "{e}");
    }
}
