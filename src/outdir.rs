//! Output folders written atomically: every file goes into a hidden temporary folder beside the
//! target, which is renamed into place only once the last file is written. A failure on the way
//! (or an error returned by the caller before [`OutDir::commit`]) removes the temporary folder, so
//! the target is either the complete new folder or untouched.
//!
//! An existing target is replaced only when every entry in it is a file this writer would write
//! (the `owned` predicate, e.g. `report.md` and `*.svg` for a report): a folder holding anything
//! else is refused, never deleted.
//!
//! Testing hook: with the environment variable `ADAMGAP_FAIL_AFTER_FILES=k`, the `(k+1)`-th file
//! write fails with an I/O error, so tests can check that an interrupted writer leaves nothing.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The environment variable of the testing hook (see the module doc).
pub const FAIL_AFTER_ENV: &str = "ADAMGAP_FAIL_AFTER_FILES";

/// An output folder being written (see the module doc).
#[derive(Debug)]
pub struct OutDir {
    target: PathBuf,
    tmp: PathBuf,
    files: usize,
    fail_after: Option<usize>,
    committed: bool,
}

/// Checks that `target` can receive an output folder: it does not exist, or it is a folder whose
/// entries all satisfy `owned`. Call it before a long computation so a bad path fails early.
pub fn check_target(target: &Path, owned: &dyn Fn(&str) -> bool) -> Result<()> {
    if target.as_os_str().is_empty() || target.file_name().is_none() {
        return Err(Error::io(target, "not a folder path (give a folder name, e.g. `out`)"));
    }
    match std::fs::symlink_metadata(target) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(target, e)),
        Ok(meta) if !meta.is_dir() => Err(Error::io(target, "exists and is not a folder; choose another path")),
        Ok(_) => {
            for entry in std::fs::read_dir(target).map_err(|e| Error::io(target, e))? {
                let entry = entry.map_err(|e| Error::io(target, e))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let is_file = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
                if !is_file || !owned(&name) {
                    return Err(Error::io(
                        target,
                        format!(
                            "exists and holds `{name}`, which this command does not write; \
                             remove the folder or choose another path"
                        ),
                    ));
                }
            }
            Ok(())
        }
    }
}

impl OutDir {
    /// Starts an output folder for `target` (checked with [`check_target`]): creates the hidden
    /// temporary folder beside it.
    pub fn create(target: &Path, owned: &dyn Fn(&str) -> bool) -> Result<Self> {
        check_target(target, owned)?;
        let parent = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = target.file_name().expect("checked above").to_string_lossy();
        let tmp = parent.join(format!(".{name}.tmp{}", std::process::id()));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        }
        std::fs::create_dir(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let fail_after = std::env::var(FAIL_AFTER_ENV).ok().and_then(|v| v.parse().ok());
        Ok(Self { target: target.to_path_buf(), tmp, files: 0, fail_after, committed: false })
    }

    /// The final path of the folder.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Writes the file `name` with `write` (given a buffered writer on the temporary file).
    pub fn write_with(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::result::Result<(), String>,
    ) -> Result<()> {
        let shown = self.target.join(name);
        if self.fail_after.is_some_and(|k| self.files >= k) {
            return Err(Error::io(&shown, format!("write failed on purpose ({FAIL_AFTER_ENV} is set)")));
        }
        let path = self.tmp.join(name);
        let file = std::fs::File::create(&path).map_err(|e| Error::io(&shown, e))?;
        let mut w = std::io::BufWriter::new(file);
        write(&mut w).map_err(|e| Error::io(&shown, e))?;
        w.flush().map_err(|e| Error::io(&shown, e))?;
        self.files += 1;
        Ok(())
    }

    /// Writes the file `name` with the given contents.
    pub fn write(&mut self, name: &str, contents: &[u8]) -> Result<()> {
        self.write_with(name, |w| w.write_all(contents).map_err(|e| e.to_string()))
    }

    /// Renames the temporary folder into place (replacing an existing folder of owned files).
    pub fn commit(mut self) -> Result<()> {
        let target = self.target.clone();
        if target.exists() {
            let parent = self.tmp.parent().expect("the temporary folder has a parent").to_path_buf();
            let name = target.file_name().expect("checked at creation").to_string_lossy().into_owned();
            let old = parent.join(format!(".{name}.old{}", std::process::id()));
            std::fs::rename(&target, &old).map_err(|e| Error::io(&target, e))?;
            if let Err(e) = std::fs::rename(&self.tmp, &target) {
                let _ = std::fs::rename(&old, &target);
                return Err(Error::io(&target, e));
            }
            self.committed = true;
            std::fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
        } else {
            std::fs::rename(&self.tmp, &target).map_err(|e| Error::io(&target, e))?;
            self.committed = true;
        }
        Ok(())
    }
}

impl Drop for OutDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}
