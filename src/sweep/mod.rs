//! Parameter sweeps: a grid of settings run cell by cell on one machine or as a Slurm job array,
//! then merged into one file, tables and figures (`adamgap sweep`, `docs/cluster.md`).
//!
//! - [`grid`]: a grid file (base setting, `[fixed]`, `[axes]`, `[derived]`) expanded into cells,
//!   each a validated [`crate::setting::Setting`]; [`expr`] is the expression language of
//!   derived keys.
//! - [`run`]: runs a shard of the cells in parallel; each cell writes `DIR/results/<id>.json`
//!   atomically; cells done for the same grid are skipped, so a run resumes where it stopped.
//! - [`folder`]: a sweep folder read back (its manifest and typed cells, [`crate::results::Cell`]).
//! - [`merge`]: `DIR/sweep.jsonl` (cells in order, timing dropped: the bytes do not depend on
//!   how the cells were sharded or on the thread count), `DIR/sweep.md` with the gap check (claim
//!   12's checks on the test errors), and [`plot`]'s SVGs.
//!
//! - [`claim`]: the cells of path claims (`kind = "path"` theorem files), run with [`run`]'s
//!   cell runner or read from a merged folder.
//!
//! The presets are grid files in `sweeps/`, embedded in the binary.

pub mod claim;
pub mod expr;
pub mod folder;
pub mod grid;
pub mod merge;
pub mod plot;
pub mod run;

pub use grid::Grid;

/// The preset grids: `(name, grid file text)`.
pub const PRESETS: &[(&str, &str)] = &[
    ("phase-lambda-alpha", include_str!("../../sweeps/phase-lambda-alpha.toml")),
    ("path-d", include_str!("../../sweeps/path-d.toml")),
    ("seeds", include_str!("../../sweeps/seeds.toml")),
];

/// The grid of a preset; the error lists the names.
pub fn preset(name: &str) -> crate::Result<Grid> {
    let (_, text) = PRESETS.iter().find(|(n, _)| *n == name).ok_or_else(|| {
        let names: Vec<&str> = PRESETS.iter().map(|(n, _)| *n).collect();
        crate::Error::invalid("--preset", name, names.join(", "))
    })?;
    Grid::from_toml_str(text, &format!("preset {name} (sweeps/{name}.toml)"), None)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_preset_expands() {
        for (name, _) in super::PRESETS {
            let g = super::preset(name).expect("a valid preset");
            assert!(g.cells.len() >= 18, "{name}: {} cells", g.cells.len());
        }
        assert!(super::preset("nope").is_err());
    }
}
