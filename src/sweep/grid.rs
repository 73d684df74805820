//! Grid files: a base setting, fixed keys, axes and derived keys, expanded into cells.
//!
//! Keys are the config file's keys, dotted (`data.d`, `model.lambda`, `train.steps`, `seed`;
//! `optimizers.adam.eta` reaches the hyperparameter of the optimizer of that kind). Each cell's
//! setting is the base with `[fixed]`, the cell's axis values and the `[derived]` expressions
//! applied in that order, then read by the same serde types and [`Setting::validate`] as a config
//! file, so a bad key or value is reported with its field.

use std::io::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::expr::Expr;
use crate::error::{Error, Result};
use crate::setting::{OptimizerSetting, Setting};

/// A grid file as written (see `docs/cluster.md` for the format).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GridFile {
    /// `paper` (the default setting) or a config file, relative to the grid file.
    base: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    fixed: toml::Table,
    axes: toml::Table,
    #[serde(default)]
    derived: toml::Table,
    #[serde(default)]
    plot: PlotAxes,
}

/// The axes the merge plots by default (`[plot]` of a grid file).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlotAxes {
    pub x: Option<String>,
    pub y: Option<String>,
}

/// One axis: a key and its values, in file order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Axis {
    pub key: String,
    pub values: Vec<serde_json::Value>,
}

/// One cell of the grid: its id, its axis values and its full setting.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    /// `c0000`, `c0001`, ...: the cell's position in the cartesian product (first axis slowest).
    pub id: String,
    pub index: usize,
    /// Index into each axis's values.
    pub coords: Vec<usize>,
    pub setting: Setting,
}

/// A grid expanded into validated cells.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    pub description: String,
    pub base: String,
    pub axes: Vec<Axis>,
    pub derived: Vec<(String, String)>,
    pub plot: PlotAxes,
    pub cells: Vec<Cell>,
    /// FNV-1a 64 of every cell's id and full setting: two grids with the same hash run the same
    /// cells.
    pub hash: String,
}

impl Grid {
    /// Reads a grid file; a config-file base is relative to the grid file's folder.
    pub fn from_file(path: &std::path::Path) -> Result<Self> {
        let text = crate::setting::read_text_file(path)?;
        Self::from_toml_str(&text, &path.display().to_string(), path.parent())
    }

    /// Parses and expands a grid; `dir` resolves a config-file base (`None`: only `paper`).
    pub fn from_toml_str(text: &str, origin: &str, dir: Option<&std::path::Path>) -> Result<Self> {
        Self::expand(crate::setting::parse_toml(text, origin)?, origin, dir)
    }

    /// A grid from a TOML table in the shape of a grid file (a preset with overrides merged in);
    /// errors name `origin` and the field.
    pub fn from_table(table: toml::Table, origin: &str) -> Result<Self> {
        let file = GridFile::deserialize(toml::Value::Table(table))
            .map_err(|e| Error::Config { origin: origin.to_string(), message: e.to_string().trim().to_string() })?;
        Self::expand(file, origin, None)
    }

    fn expand(file: GridFile, origin: &str, dir: Option<&std::path::Path>) -> Result<Self> {
        let bad = |field: &str, message: String| Error::Config {
            origin: origin.to_string(),
            message: format!("field `{field}`: {message}"),
        };
        let base = match file.base.as_str() {
            "paper" => Setting::default(),
            path => match dir {
                Some(d) => crate::setting::read_toml_file(&d.join(path))?,
                None => return Err(bad("base", format!("`{path}`: only `paper` is allowed here"))),
            },
        };
        let mut tree = match toml::Value::try_from(&base) {
            Ok(toml::Value::Table(t)) => t,
            _ => unreachable!("a setting serializes to a TOML table"),
        };
        for (key, value) in &file.fixed {
            if file.axes.contains_key(key) {
                return Err(bad(&format!("fixed.{key}"), "also an axis; a key is either fixed or an axis".into()));
            }
            set(&mut tree, key, value.clone()).map_err(|m| bad(&format!("fixed.{key}"), m))?;
        }
        if file.axes.is_empty() {
            return Err(bad("axes", "no axes; give at least one, e.g. seed = [1, 2, 3]".into()));
        }
        let mut axes = Vec::new();
        for (key, values) in &file.axes {
            let field = format!("axes.{key}");
            let list = values.as_array().ok_or_else(|| bad(&field, "must be a list of values".into()))?;
            if list.is_empty() {
                return Err(bad(&field, "empty list; give at least one value".into()));
            }
            // Check every value against the base once, so the error names the axis; two values that
            // set the key alike (`1` and `1.0`, `1e-3` and `0.001`) would run the same cells twice.
            // Keyed by the value as set, written out (`1e-3` and `0.001` write alike): a long axis is
            // checked in one pass.
            let mut seen: std::collections::HashMap<String, &toml::Value> = std::collections::HashMap::new();
            for v in list {
                let mut t = tree.clone();
                set(&mut t, key, v.clone()).map_err(|m| bad(&field, m))?;
                let as_set = if key == "optimizers" {
                    t["optimizers"].clone()
                } else {
                    lookup(&t, key).map_err(|m| bad(&field, m))?
                };
                if let Some(first) = seen.get(&as_set.to_string()) {
                    return Err(bad(
                        &field,
                        format!("the values {first} and {v} are the same value; give each value once"),
                    ));
                }
                seen.insert(as_set.to_string(), v);
            }
            axes.push((key.clone(), list.clone()));
        }
        let mut derived = Vec::new();
        for (i, (key, value)) in file.derived.iter().enumerate() {
            let field = format!("derived.{key}");
            if file.axes.contains_key(key) || file.fixed.contains_key(key) {
                return Err(bad(&field, "also fixed or an axis; a key is set in one place".into()));
            }
            let text = value.as_str().ok_or_else(|| bad(&field, "must be an expression in a string".into()))?;
            let expr = Expr::parse(text).map_err(|m| bad(&field, format!("{}: {m}", quoted(text))))?;
            for name in expr.names() {
                let later = file.derived.keys().skip(i).any(|k| resolve_name(&tree, name).as_deref() == Some(k));
                if later {
                    return Err(bad(
                        &field,
                        format!(
                            "{} reads `{name}`, derived here or below; derive keys in the order they are used",
                            quoted(text)
                        ),
                    ));
                }
                if name != "pi" && resolve_name(&tree, name).is_none() {
                    return Err(bad(&field, format!("{}: unknown name `{name}`", quoted(text))));
                }
            }
            lookup(&tree, key).map_err(|m| bad(&field, m))?;
            derived.push((key.clone(), text.to_string(), expr));
        }
        // The product is checked, so a grid of 2^64 + 418 cells is not run as 418.
        let lengths: Vec<String> = axes.iter().map(|(k, v)| format!("{k}: {}", v.len())).collect();
        let total = axes
            .iter()
            .try_fold(1usize, |t, (_, v)| t.checked_mul(v.len()).filter(|&t| t <= MAX_CELLS))
            .ok_or_else(|| {
                bad(
                    "axes",
                    format!("more than {MAX_CELLS} cells (axis lengths {}); at most {MAX_CELLS}", lengths.join(", ")),
                )
            })?;
        for (which, key) in [("x", &file.plot.x), ("y", &file.plot.y)] {
            if let Some(k) = key
                && !axes.iter().any(|(a, _)| a == k)
            {
                let keys: Vec<&str> = axes.iter().map(|(a, _)| a.as_str()).collect();
                return Err(bad(
                    &format!("plot.{which}"),
                    format!("`{k}` is not an axis (allowed: {})", keys.join(", ")),
                ));
            }
        }
        if file.plot.x.is_some() && file.plot.x == file.plot.y {
            return Err(bad("plot.y", "the same axis as `plot.x`; give another axis or leave `y` out".into()));
        }
        let sets_optimizers = file.fixed.contains_key("optimizers") || file.axes.contains_key("optimizers");
        let width = (total.saturating_sub(1)).to_string().len().max(4);
        let mut cells = Vec::with_capacity(total);
        for index in 0..total {
            let mut coords = vec![0; axes.len()];
            let mut rest = index;
            for (k, (_, values)) in axes.iter().enumerate().rev() {
                coords[k] = rest % values.len();
                rest /= values.len();
            }
            let id = format!("c{index:0width$}");
            let mut t = tree.clone();
            for ((key, values), &c) in axes.iter().zip(&coords) {
                set(&mut t, key, values[c].clone()).map_err(|m| bad(&format!("axes.{key}"), m))?;
            }
            let describe =
                || axes.iter().zip(&coords).map(|((k, v), &c)| format!("{k}={}", v[c])).collect::<Vec<_>>().join(", ");
            for (key, text, expr) in &derived {
                let x = expr
                    .eval(&|name| resolve_name(&t, name).and_then(|k| lookup(&t, &k).ok()).and_then(|v| as_f64(&v)))
                    .map_err(|m| bad(&format!("derived.{key}"), format!("{}: {m}", quoted(text))))?;
                let v = number_for(&t, key, x).map_err(|m| {
                    bad(&format!("derived.{key}"), format!("{} in cell {id} ({}): {m}", quoted(text), describe()))
                })?;
                set(&mut t, key, v).map_err(|m| bad(&format!("derived.{key}"), m))?;
            }
            // A key set above must still be there: `optimizers` (an axis or fixed) may have dropped
            // the optimizer an earlier key set a value of.
            let set_keys =
                file.fixed.keys().map(|k| format!("fixed.{k}")).chain(axes.iter().map(|(k, _)| format!("axes.{k}")));
            for field in set_keys.filter(|_| sets_optimizers) {
                let key = field.split_once('.').map_or("", |(_, k)| k);
                if key != "optimizers" && lookup(&t, key).is_err() {
                    let runs = t["optimizers"]
                        .as_array()
                        .map(|l| {
                            l.iter()
                                .filter_map(|o| o.get("kind").and_then(|k| k.as_str()))
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .unwrap_or_default();
                    return Err(bad(
                        &field,
                        format!(
                            "cell {id} ({}) does not run the optimizer of `{key}` (its optimizers: {runs})",
                            describe()
                        ),
                    ));
                }
            }
            let mut setting = Setting::deserialize(toml::Value::Table(t))
                .map_err(|e| bad("axes", format!("cell {id} ({}): {}", describe(), e.to_string().trim())))?;
            setting.validate().map_err(|e| Error::Config {
                origin: origin.to_string(),
                message: format!("cell {id} ({}): {e}", describe()),
            })?;
            // An epoch budget becomes its steps here: a cell's `train.steps` is its budget.
            setting.resolve_budget();
            cells.push(Cell { id, index, coords, setting });
        }
        let hash = grid_hash(&cells);
        Ok(Grid {
            description: file.description,
            base: file.base,
            axes: axes
                .into_iter()
                .map(|(key, values)| Axis {
                    key,
                    values: values.iter().map(|v| serde_json::to_value(v).expect("TOML scalar as JSON")).collect(),
                })
                .collect(),
            derived: derived.into_iter().map(|(k, t, _)| (k, t)).collect(),
            plot: file.plot,
            cells,
            hash: format!("{hash:016x}"),
        })
    }

    /// The cell's axis values as a JSON object `{key: value}` (in axis order).
    pub fn axis_values(&self, cell: &Cell) -> serde_json::Map<String, serde_json::Value> {
        self.axes.iter().zip(&cell.coords).map(|(a, &c)| (a.key.clone(), a.values[c].clone())).collect()
    }

    /// The text of `DIR/grid.json` ([`Grid::manifest`] as pretty JSON, keys sorted, a final newline),
    /// built cell by cell: the JSON value of the whole manifest never exists (a million cells would
    /// take gigabytes).
    pub fn manifest_text(&self) -> String {
        let mut m = self.manifest();
        let cells = std::mem::take(&mut m.cells);
        let head = serde_json::to_string_pretty(&crate::results::to_json(&m)).expect("JSON of plain data");
        let mut body = String::new();
        for (k, c) in cells.iter().enumerate() {
            if k > 0 {
                body.push_str(",\n");
            }
            let one = serde_json::to_string_pretty(&crate::results::to_json(c)).expect("JSON of plain data");
            for (i, line) in one.lines().enumerate() {
                if i > 0 {
                    body.push('\n');
                }
                body.push_str("    ");
                body.push_str(line);
            }
        }
        let list = if cells.is_empty() { "[]".to_string() } else { format!("[\n{body}\n  ]") };
        // Strings are escaped in JSON (no raw quote or newline), so this is the top-level key.
        head.replacen("\n  \"cells\": []", &format!("\n  \"cells\": {list}"), 1) + "\n"
    }

    /// The description written to `DIR/grid.json`: hash, axes, derived keys, plot axes, cell ids.
    pub fn manifest(&self) -> Manifest {
        Manifest {
            format: "adamgap-sweep-1".into(),
            grid_hash: self.hash.clone(),
            description: self.description.clone(),
            base: self.base.clone(),
            axes: self.axes.clone(),
            derived: self.derived.clone(),
            plot: self.plot.clone(),
            cells: self.cells.iter().map(|c| ManifestCell { id: c.id.clone(), axes: self.axis_values(c) }).collect(),
        }
    }
}

/// `DIR/grid.json` of a sweep folder ([`Grid::manifest`]), read back strictly (unknown or missing
/// fields are errors).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// `adamgap-sweep-1`.
    pub format: String,
    pub grid_hash: String,
    pub description: String,
    pub base: String,
    pub axes: Vec<Axis>,
    /// `(key, expression)` of each derived key.
    pub derived: Vec<(String, String)>,
    pub plot: PlotAxes,
    pub cells: Vec<ManifestCell>,
}

/// A cell of a [`Manifest`]: its id and axis values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestCell {
    pub id: String,
    pub axes: serde_json::Map<String, serde_json::Value>,
}

/// FNV-1a 64 of the compact JSON `["adamgap-sweep-1",[[id,setting],...]]` (each setting as a JSON
/// value, its keys sorted), written cell by cell into the hash: the bytes of the whole array
/// never exist at once (a million cells would take gigabytes).
fn grid_hash(cells: &[Cell]) -> u64 {
    let mut h = Fnv(FNV_OFFSET);
    let mut put = |bytes: &[u8]| h.write_all(bytes).expect("hashing cannot fail");
    put(b"[\"adamgap-sweep-1\",[");
    for (k, c) in cells.iter().enumerate() {
        if k > 0 {
            put(b",");
        }
        let cell = json!([c.id, c.setting]);
        put(serde_json::to_string(&cell).expect("JSON of plain data").as_bytes());
    }
    put(b"]]");
    h.0
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// An FNV-1a 64 state that bytes are written into.
struct Fnv(u64);

impl std::io::Write for Fnv {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 = buf.iter().fold(self.0, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// FNV-1a, 64 bits: a stable hash (the standard library's may change between releases).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FNV_OFFSET, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// An expression as quoted in a message, in backquotes: whole when short, else its start and its
/// length.
fn quoted(text: &str) -> String {
    const SHOWN: usize = 60;
    match text.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("`{}...` ({} characters)", &text[..end], text.chars().count()),
        None => format!("`{text}`"),
    }
}

/// The most cells a grid may have.
pub const MAX_CELLS: usize = 1_000_000;

const KEY_HELP: &str =
    "a setting key such as seed, data.d, model.lambda, train.steps or optimizers.adam.eta (docs/config.md)";

/// The dotted key a name in an expression stands for: itself if it is a key, else the one
/// `data.NAME`, `model.NAME` or `train.NAME` that exists.
fn resolve_name(tree: &toml::Table, name: &str) -> Option<String> {
    if lookup(tree, name).is_ok() {
        return Some(name.to_string());
    }
    if name.contains('.') {
        return None;
    }
    let found: Vec<String> =
        ["data", "model", "train"].iter().map(|t| format!("{t}.{name}")).filter(|k| lookup(tree, k).is_ok()).collect();
    if found.len() == 1 { found.into_iter().next() } else { None }
}

fn as_f64(v: &toml::Value) -> Option<f64> {
    match v {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(x) => Some(*x),
        _ => None,
    }
}

/// The table path of a key: `optimizers.KIND.field` goes into the optimizer of that kind.
fn locate<'a>(tree: &'a mut toml::Table, key: &str) -> std::result::Result<(&'a mut toml::Table, String), String> {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!("`{key}` is not a key; expected {KEY_HELP}"));
    }
    let (mut table, rest) = if parts[0] == "optimizers" && parts.len() >= 3 {
        let list = tree.get_mut("optimizers").and_then(toml::Value::as_array_mut).expect("optimizers is a list");
        let kinds: Vec<String> =
            list.iter().filter_map(|o| o.get("kind").and_then(|k| k.as_str()).map(String::from)).collect();
        let found = list.iter_mut().find(|o| o.get("kind").and_then(|k| k.as_str()) == Some(parts[1]));
        let opt = found
            .ok_or_else(|| format!("no optimizer `{}` in this setting (it has {})", parts[1], kinds.join(", ")))?;
        if parts[2] == "kind" {
            return Err("an optimizer's kind cannot be set; list the optimizers with `optimizers`".into());
        }
        (opt.as_table_mut().expect("an optimizer is a table"), &parts[2..])
    } else {
        (tree, &parts[..])
    };
    for p in &rest[..rest.len() - 1] {
        table = match table.get_mut(*p) {
            Some(toml::Value::Table(t)) => t,
            _ => return Err(format!("unknown key `{key}`; expected {KEY_HELP}")),
        };
    }
    let last = rest[rest.len() - 1].to_string();
    if !table.contains_key(&last) {
        return Err(format!("unknown key `{key}`; expected {KEY_HELP}"));
    }
    Ok((table, last))
}

/// The `[train]` keys a serialized setting leaves out while they hold their defaults
/// (`batch_size`, `epochs`, `sampling`, `last_batch`; `steps` while the budget is in epochs), as
/// values of their type; setting one budget key removes the other (a setting has one budget).
fn with_optional_key(tree: &mut toml::Table, key: &str) {
    let (name, placeholder) = match key {
        "train.batch_size" | "train.epochs" | "train.steps" => (&key[6..], toml::Value::Integer(1)),
        "train.sampling" => ("sampling", toml::Value::String("reshuffle".into())),
        "train.last_batch" => ("last_batch", toml::Value::String("keep".into())),
        _ => return,
    };
    let train = tree.entry("train").or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let Some(train) = train.as_table_mut() else { return };
    train.entry(name).or_insert(placeholder);
    match name {
        "epochs" => drop(train.remove("steps")),
        "steps" => drop(train.remove("epochs")),
        _ => {}
    }
}

/// The current value of a key.
fn lookup(tree: &toml::Table, key: &str) -> std::result::Result<toml::Value, String> {
    let mut t = tree.clone();
    with_optional_key(&mut t, key);
    let (table, last) = locate(&mut t, key)?;
    Ok(table[&last].clone())
}

/// A derived number in the key's type: integer keys take integral values only.
fn number_for(tree: &toml::Table, key: &str, x: f64) -> std::result::Result<toml::Value, String> {
    if !x.is_finite() {
        return Err(format!("gives {x}, not a finite number"));
    }
    match lookup(tree, key)? {
        toml::Value::Float(_) => Ok(toml::Value::Float(x)),
        toml::Value::Integer(_) => {
            let r = x.round();
            if (x - r).abs() > 1e-9 * r.abs().max(1.0) || r < 0.0 || r > i64::MAX as f64 {
                return Err(format!("gives {x}, but the key takes a whole number >= 0; wrap it in round(...)"));
            }
            Ok(toml::Value::Integer(r as i64))
        }
        other => Err(format!("the key holds {}, not a number", other.type_str())),
    }
}

/// Sets `key` to `value`, checking that the key exists and the value has its type (an integral
/// float is accepted for an integer key, an integer for a float key).
fn set(tree: &mut toml::Table, key: &str, value: toml::Value) -> std::result::Result<(), String> {
    if key == "optimizers" {
        return set_optimizers(tree, &value);
    }
    with_optional_key(tree, key);
    let (table, last) = locate(tree, key)?;
    let current = &table[&last];
    let v = match (current, value) {
        (toml::Value::Float(_), toml::Value::Integer(i)) => toml::Value::Float(i as f64),
        (toml::Value::Integer(_), toml::Value::Float(x)) if x.fract() == 0.0 && (0.0..9.2e18).contains(&x) => {
            toml::Value::Integer(x as i64)
        }
        (c, v) if std::mem::discriminant(c) == std::mem::discriminant(&v) => v,
        (c, v) => return Err(format!("{v} is {}, but `{key}` takes {}", v.type_str(), c.type_str())),
    };
    table.insert(last, v);
    Ok(())
}

/// `optimizers = ["gd", "adam", ...]`: the optimizers to run (the base's hyperparameters for one
/// it already lists, defaults otherwise), as `--optimizers` does.
fn set_optimizers(tree: &mut toml::Table, value: &toml::Value) -> std::result::Result<(), String> {
    let names = value
        .as_array()
        .and_then(|a| a.iter().map(|v| v.as_str()).collect::<Option<Vec<_>>>())
        .ok_or("`optimizers` takes a list of optimizer names, e.g. [\"gd\", \"adam\"]")?;
    let current = tree["optimizers"].as_array().expect("optimizers is a list").clone();
    let mut list = Vec::new();
    for name in names {
        match current.iter().find(|o| o.get("kind").and_then(|k| k.as_str()) == Some(name)) {
            Some(o) => list.push(o.clone()),
            None => {
                let o = OptimizerSetting::default_for(name).map_err(|e| e.to_string())?;
                list.push(toml::Value::try_from(&o).expect("an optimizer serializes"));
            }
        }
    }
    tree.insert("optimizers".into(), toml::Value::Array(list));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Grid;

    const EXAMPLE: &str = r#"
base = "paper"
[fixed]
"train.steps" = 300
"data.test_size" = 1000
[axes]
seed = [1, 2, 3]
"model.lambda" = [1e-5, 1e-3]
"#;

    fn err(text: &str) -> String {
        Grid::from_toml_str(text, "g.toml", None).expect_err("rejected").to_string()
    }

    #[test]
    fn the_example_expands_in_file_order() {
        let g = Grid::from_toml_str(EXAMPLE, "g.toml", None).expect("valid");
        assert_eq!(g.cells.len(), 6);
        assert_eq!(g.axes[0].key, "seed");
        let c = &g.cells[3];
        assert_eq!((c.id.as_str(), c.setting.seed, c.setting.model.lambda), ("c0003", 2, 1e-3));
        assert_eq!((c.setting.train.steps, c.setting.data.test_size, c.setting.data.d), (300, 1000, 1000));
        assert_eq!(g.hash, Grid::from_toml_str(EXAMPLE, "other", None).expect("valid").hash);
        let changed = Grid::from_toml_str(&EXAMPLE.replace("300", "301"), "g", None).expect("valid");
        assert_ne!(g.hash, changed.hash);
    }

    #[test]
    fn minibatch_keys_are_grid_keys() {
        let text = r#"
base = "paper"
[fixed]
"train.epochs" = 3
"train.sampling" = "replacement"
[axes]
"train.batch_size" = [2, 100]
"#;
        let g = Grid::from_toml_str(text, "g.toml", None).expect("valid");
        let t: Vec<_> = g.cells.iter().map(|c| &c.setting.train).collect();
        // 3 epochs: of 100 steps at B = 2, of 2 steps at B = 100.
        assert_eq!((t[0].batch_size, t[1].batch_size, t[0].steps, t[1].steps), (Some(2), Some(100), 300, 6));
        assert_eq!(t[1].sampling, crate::setting::Sampling::Replacement);
        assert!(err(&text.replace("[2, 100]", "[0, 2]")).contains("train.batch_size"));
    }

    #[test]
    fn derived_keys_and_optimizer_keys() {
        let text = r#"
base = "paper"
[axes]
"data.d" = [1e3, 1e4]
[derived]
"data.s" = "round(sqrt(d))"
"data.sigma_p" = "1 / sqrt(s)"
"optimizers.adam.eta" = "1e-3 / (data.s * sigma_p)"
"#;
        let g = Grid::from_toml_str(text, "g.toml", None).expect("valid");
        let s = &g.cells[1].setting;
        assert_eq!((s.data.d, s.data.s), (10_000, 100));
        assert_eq!(s.data.sigma_p, 0.1);
        assert_eq!(s.optimizers[1].eta(), 1e-3 / (100.0 * 0.1));
    }

    #[test]
    fn the_streamed_hash_is_the_hash_of_the_whole_array() {
        let g = Grid::from_toml_str(EXAMPLE, "g.toml", None).expect("valid");
        let whole = serde_json::json!([
            "adamgap-sweep-1",
            g.cells.iter().map(|c| serde_json::json!([c.id, c.setting])).collect::<Vec<_>>()
        ]);
        let text = serde_json::to_string(&whole).expect("JSON");
        assert_eq!(g.hash, format!("{:016x}", super::fnv1a64(text.as_bytes())));
    }

    #[test]
    fn the_manifest_text_is_the_whole_manifest_pretty() {
        let derived = "base = \"paper\"\ndescription = \"a \\\"cells\\\": [] b\\n c\"\n[axes]\n\"data.d\" = [1e3, 1e4]\n\
                       optimizers = [[\"gd\"], [\"gd\", \"adam\"]]\n[derived]\n\"data.s\" = \"round(sqrt(d))\"\n[plot]\nx = \"data.d\"\n";
        for text in [EXAMPLE, derived] {
            let g = Grid::from_toml_str(text, "g.toml", None).expect("valid");
            let whole = serde_json::to_string_pretty(&crate::results::to_json(&g.manifest())).expect("JSON") + "\n";
            assert_eq!(g.manifest_text(), whole);
        }
    }

    #[test]
    fn bad_grids_name_the_field() {
        assert!(err(&EXAMPLE.replace("\"model.lambda\"", "\"model.lamda\"")).contains("axes.model.lamda"));
        assert!(err(&EXAMPLE.replace("[1, 2, 3]", "[]")).contains("field `axes.seed`: empty list"));
        assert!(err(&EXAMPLE.replace("300", "\"many\"")).contains("fixed.train.steps"));
        let derived = |e: &str| err(&format!("{EXAMPLE}[derived]\n\"data.s\" = \"{e}\"\n"));
        assert!(derived("sqrt(d").contains("field `derived.data.s`"));
        assert!(derived("sqrt(dd)").contains("unknown name `dd`"));
        assert!(derived("sqrt(d)").contains("round(...)"));
        assert!(derived("2 * d").contains("data.s"), "validation names the field: {}", derived("2 * d"));
        assert!(err(&EXAMPLE.replace("1e-3]", "-1.0]")).contains("model.lambda"));
    }
}
