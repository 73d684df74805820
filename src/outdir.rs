//! Output folders written atomically: every file goes into a hidden staging folder beside the
//! target, which is moved into place only once the last file is written. A failure on the way
//! (or an error returned by the caller before [`OutDir::commit`]) removes the staging folder, so
//! the target is either the complete new folder or untouched.
//!
//! Rules (`docs/reliability.md`, "Output folders"):
//!
//! * The target is checked before any work ([`check_target`]): its parent must be a folder we can
//!   create a folder in, and the target must not exist or be a real folder (not a symbolic link)
//!   whose entries are all regular files this writer would write (the `owned` predicate, e.g.
//!   `report.md` and `*.svg` for a report). Anything else (a symbolic link, a FIFO, a regular file,
//!   a folder holding other things) is refused and left untouched.
//! * The staging folder is `.NAME.tmp<pid>` beside the target, or `.adamgap-<hash>.tmp<pid>`
//!   when the long form would exceed the file-name limit of 255 bytes. Messages name the target,
//!   never the staging folder.
//! * An existing target is replaced by one atomic exchange (`renameat2` with `RENAME_EXCHANGE`), so
//!   a reader sees the old folder or the new one, never a mixture; where the file system does not
//!   support the exchange, two renames leave a moment with no folder, still never a mixture.
//! * Live staging folders are registered; [`remove_live`] removes them (the binary calls it on
//!   SIGINT and SIGTERM before exiting). A staging folder left by a killed process (its pid not
//!   alive) is removed by the next writer of the same target.
//! * Single files (the cells and merged outputs of a sweep, where several processes on several
//!   hosts share one folder) are written by [`write_file`]: a temporary file
//!   `.NAME.<host>.<pid>.<nanos>.<serial>.tmp` beside the target, renamed over it. Live ones are
//!   registered and removed by [`remove_live`] too; [`remove_stale_files`] removes those of dead
//!   processes of this host, never another host's or a live process's.
//! * Errors while checking a target are [`Error::Io`] (bad input); errors while writing to a
//!   target that passed its checks are [`Error::Write`] (a failure of the run).
//!
//! Testing hooks: with `ADAMGAP_FAIL_AFTER_FILES=k` the `(k+1)`-th file write of an output
//! folder, or the `(k+1)`-th single file of the process, fails with a write error; with
//! `ADAMGAP_STALL_AFTER_FILES=k` the writer pauses (at most a minute) before the `(k+1)`-th file
//! of a folder, or after writing the `(k+1)`-th single file's temporary file, so tests can deliver
//! a signal while the staging folder or the temporary file exists (`ADAMGAP_STALL_SECONDS`
//! shortens the pause, e.g. to let another process claim a sweep folder meanwhile).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// The environment variable of the failure hook (see the module doc).
pub const FAIL_AFTER_ENV: &str = "ADAMGAP_FAIL_AFTER_FILES";
/// The environment variable of the stall hook (see the module doc).
pub const STALL_AFTER_ENV: &str = "ADAMGAP_STALL_AFTER_FILES";

/// The environment variable of the stall hook's length in seconds (`0..=60`, default 60).
pub const STALL_SECONDS_ENV: &str = "ADAMGAP_STALL_SECONDS";

/// How long the stall hook pauses: [`STALL_SECONDS_ENV`] seconds, at most (and by default) 60.
fn stall() -> std::time::Duration {
    let secs = std::env::var(STALL_SECONDS_ENV).ok().and_then(|v| v.parse::<u64>().ok()).unwrap_or(60);
    std::time::Duration::from_secs(secs.min(60))
}

/// The longest file name (bytes) of common Linux file systems.
const NAME_MAX: usize = 255;

/// Staging folders of this process not yet committed or dropped.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Temporary files of [`write_file`] of this process, created and not yet renamed or removed.
static LIVE_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live_files() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    LIVE_FILES.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes every live staging folder and temporary file of this process (for a signal handler
/// that then exits). A writer in the middle of a commit finishes it first (the commit holds the
/// registry).
pub fn remove_live() {
    let mut files = live_files();
    for p in files.drain(..) {
        let _ = std::fs::remove_file(&p);
    }
    // Keep the registry locked: no writer may create another temporary file.
    std::mem::forget(files);
    let mut l = live();
    for p in l.drain(..) {
        // A writer thread may add a file while the folder is being removed: try again.
        for _ in 0..3 {
            if std::fs::remove_dir_all(&p).is_ok() || !p.exists() {
                break;
            }
        }
    }
    // Keep the registry locked: the process is about to exit, and no writer may start a commit.
    std::mem::forget(l);
}

/// An output folder being written (see the module doc).
#[derive(Debug)]
pub struct OutDir {
    target: PathBuf,
    tmp: PathBuf,
    files: usize,
    fail_after: Option<usize>,
    stall_after: Option<usize>,
    committed: bool,
}

fn parent_of(target: &Path) -> &Path {
    target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// FNV-1a of the name: a short, stable tag for the staging folder of a long name.
fn tag(name: &str) -> String {
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    format!("{h:016x}")
}

/// The prefixes of hidden folders of kind `kind` (`tmp`) for the target name `name`: the long
/// form when it fits the file-name limit with any pid, the short form always (a name near the
/// limit uses it).
fn prefixes(name: &str, kind: &str) -> Vec<String> {
    let long = format!(".{name}.{kind}");
    let short = format!(".adamgap-{}.{kind}", tag(name));
    if long.len() + 10 <= NAME_MAX { vec![long, short] } else { vec![short] }
}

/// The staging folder of `target` for process `pid`.
fn staging_path(target: &Path, pid: u32) -> PathBuf {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    parent_of(target).join(format!("{}{pid}", prefixes(&name, "tmp")[0]))
}

fn pid_alive(pid: u32) -> bool {
    let Ok(p) = libc::pid_t::try_from(pid) else { return false };
    if p <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 only checks whether the process exists; it sends nothing.
    let r = unsafe { libc::kill(p, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Removes staging folders of `target` left by processes that are no longer alive. Only real
/// folders are removed (never a symbolic link or a file of that name).
fn clean_stale(target: &Path) {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let prefixes: Vec<String> = ["tmp", "old"].iter().flat_map(|k| prefixes(&name, k)).collect();
    let Ok(entries) = std::fs::read_dir(parent_of(target)) else { return };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let pid = prefixes.iter().find_map(|p| file.strip_prefix(p.as_str())).and_then(|rest| rest.parse::<u32>().ok());
        let Some(pid) = pid else { continue };
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && pid != std::process::id() && !pid_alive(pid) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Checks that `target` can receive an output folder (the rules of the module doc). Call it
/// before a long computation so a bad path fails before any work.
pub fn check_target(target: &Path, owned: &dyn Fn(&str) -> bool) -> Result<()> {
    if target.as_os_str().is_empty() || target.file_name().is_none() {
        return Err(Error::io(target, "not a folder path (give a folder name, e.g. `out`)"));
    }
    let parent = parent_of(target);
    match std::fs::metadata(parent) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(Error::io(target, format!("`{}` is not a folder", parent.display()))),
        Err(e) => return Err(Error::io(target, format!("its parent folder `{}`: {e}", parent.display()))),
    }
    match std::fs::symlink_metadata(target) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(target, e)),
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(Error::io(target, "is a symbolic link; refusing to replace it (choose another path)"));
        }
        Ok(meta) if !meta.is_dir() => {
            return Err(Error::io(target, "exists and is not a folder; refusing to replace it (choose another path)"));
        }
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
        }
    }
    // Probe: the staging folder can be created beside the target.
    let probe = staging_path(target, std::process::id());
    if !probe.exists() {
        std::fs::create_dir(&probe).map_err(|e| Error::io(target, format!("cannot create a folder beside it: {e}")))?;
        let _ = std::fs::remove_dir(&probe);
    }
    Ok(())
}

/// Exchanges `a` and `b` atomically. `Ok(false)` when the file system does not support it.
fn exchange(a: &Path, b: &Path) -> std::io::Result<bool> {
    use std::os::unix::ffi::OsStrExt as _;
    let ca = std::ffi::CString::new(a.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    let cb = std::ffi::CString::new(b.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: two valid NUL-terminated paths relative to the working directory.
    let r = unsafe { libc::renameat2(libc::AT_FDCWD, ca.as_ptr(), libc::AT_FDCWD, cb.as_ptr(), libc::RENAME_EXCHANGE) };
    if r == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EINVAL | libc::ENOSYS | libc::ENOTSUP) => Ok(false),
        _ => Err(e),
    }
}

impl OutDir {
    /// Starts an output folder for `target` (checked with [`check_target`]): removes stale
    /// staging folders of dead processes and creates this process's one beside the target.
    pub fn create(target: &Path, owned: &dyn Fn(&str) -> bool) -> Result<Self> {
        check_target(target, owned)?;
        clean_stale(target);
        let tmp = staging_path(target, std::process::id());
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp)
                .map_err(|e| Error::write(target, format!("cannot clear its staging folder: {e}")))?;
        }
        {
            let mut l = live();
            std::fs::create_dir(&tmp)
                .map_err(|e| Error::write(target, format!("cannot create a folder beside it: {e}")))?;
            l.push(tmp.clone());
        }
        let hook = |var: &str| std::env::var(var).ok().and_then(|v| v.parse().ok());
        Ok(Self {
            target: target.to_path_buf(),
            tmp,
            files: 0,
            fail_after: hook(FAIL_AFTER_ENV),
            stall_after: hook(STALL_AFTER_ENV),
            committed: false,
        })
    }

    /// The final path of the folder.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Writes the file `name` with `write` (given a buffered writer on the staged file).
    pub fn write_with(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::result::Result<(), String>,
    ) -> Result<()> {
        let shown = self.target.join(name);
        if self.fail_after.is_some_and(|k| self.files >= k) {
            return Err(Error::write(&shown, format!("write failed on purpose ({FAIL_AFTER_ENV} is set)")));
        }
        if self.stall_after.is_some_and(|k| self.files == k) {
            std::thread::sleep(stall());
        }
        let path = self.tmp.join(name);
        let file = std::fs::File::create(&path).map_err(|e| Error::write(&shown, e))?;
        let mut w = std::io::BufWriter::new(file);
        write(&mut w).map_err(|e| Error::write(&shown, e))?;
        w.flush().map_err(|e| Error::write(&shown, e))?;
        self.files += 1;
        Ok(())
    }

    /// Writes the file `name` with the given contents.
    pub fn write(&mut self, name: &str, contents: &[u8]) -> Result<()> {
        self.write_with(name, |w| w.write_all(contents).map_err(|e| e.to_string()))
    }

    /// Moves the staging folder into place (replacing an existing folder of owned files by an
    /// atomic exchange).
    pub fn commit(mut self) -> Result<()> {
        let target = self.target.clone();
        let mut l = live();
        let existing = std::fs::symlink_metadata(&target).ok();
        match existing {
            Some(m) if !m.is_dir() || m.file_type().is_symlink() => {
                return Err(Error::write(&target, "appeared during the run and is not a folder; left untouched"));
            }
            Some(_) => {
                if exchange(&self.tmp, &target).map_err(|e| Error::write(&target, e))? {
                    // The staging path now holds the old folder.
                    self.committed = true;
                    let r = std::fs::remove_dir_all(&self.tmp);
                    l.retain(|p| p != &self.tmp);
                    r.map_err(|e| Error::write(&target, format!("replaced, but the old folder stays beside it: {e}")))?;
                    return Ok(());
                }
                let name = target.file_name().expect("checked at creation").to_string_lossy().into_owned();
                let old = parent_of(&target).join(format!("{}{}", prefixes(&name, "old")[0], std::process::id()));
                std::fs::rename(&target, &old).map_err(|e| Error::write(&target, e))?;
                if let Err(e) = std::fs::rename(&self.tmp, &target) {
                    let _ = std::fs::rename(&old, &target);
                    return Err(Error::write(&target, e));
                }
                self.committed = true;
                l.retain(|p| p != &self.tmp);
                std::fs::remove_dir_all(&old)
                    .map_err(|e| Error::write(&target, format!("replaced, but the old folder stays beside it: {e}")))?;
            }
            None => {
                std::fs::rename(&self.tmp, &target).map_err(|e| Error::write(&target, e))?;
                self.committed = true;
                l.retain(|p| p != &self.tmp);
            }
        }
        Ok(())
    }
}

impl Drop for OutDir {
    fn drop(&mut self) {
        if !self.committed {
            let mut l = live();
            let _ = std::fs::remove_dir_all(&self.tmp);
            l.retain(|p| p != &self.tmp);
        }
    }
}

/// The name of this host (`gethostname`) with every character other than a letter, a digit or
/// `-` replaced by `_` (so it holds no `.` of the temporary names), `None` where it is unknown.
fn host_name() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that many bytes.
    let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name: String =
        buf[..end].iter().map(|&b| if b.is_ascii_alphanumeric() || b == b'-' { char::from(b) } else { '_' }).collect();
    (r == 0 && !name.is_empty()).then_some(name)
}

/// The process's count of single files written, for the testing hooks.
static SINGLE_FILES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Checks that a single file may be written at `path` ([`write_file`]): nothing is there, or a
/// regular file (not a symbolic link). A symbolic link, a FIFO, a device, a socket or a folder is
/// refused with an [`Error::Io`] (exit code 2) and left untouched, as an output folder is.
pub fn check_file_target(path: &Path) -> Result<()> {
    use std::os::unix::fs::FileTypeExt as _;
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(path, e)),
    };
    let t = meta.file_type();
    if t.is_file() {
        return Ok(());
    }
    let what = if t.is_symlink() {
        "a symbolic link"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_dir() {
        "a folder"
    } else {
        "not a regular file"
    };
    Err(Error::io(path, format!("{what}; this command writes only regular files and leaves it untouched (remove it)")))
}

/// Writes `contents` to `path` through a uniquely named temporary file beside it and a rename, so
/// a reader (or a crash) never sees a partial file; several processes on several hosts may write
/// into one folder (see the module doc). A target that is not a regular file is refused first
/// ([`check_file_target`], an [`Error::Io`]); a failure while writing is an [`Error::Write`].
pub fn write_file(path: &Path, contents: &[u8]) -> Result<()> {
    check_file_target(path)?;
    write_file_with(path, contents, |tmp, path| std::fs::rename(tmp, path).map(|()| true)).map(|_| ())
}

/// Creates the file `path` with `contents` only if nothing is there, atomically (complete or
/// absent, and of two processes creating it at once exactly one succeeds): the temporary file of
/// [`write_file`] is moved into place with `renameat2(RENAME_NOREPLACE)`, or hard-linked where the
/// file system has no such rename. `Ok(false)` when something was there already (left untouched).
pub fn create_file(path: &Path, contents: &[u8]) -> Result<bool> {
    write_file_with(path, contents, |tmp, path| {
        let created = match rename_noreplace(tmp, path)? {
            Some(created) => created,
            None => {
                // No RENAME_NOREPLACE here: a hard link also fails when the name exists.
                let r = std::fs::hard_link(tmp, path);
                let _ = std::fs::remove_file(tmp);
                match r {
                    Ok(()) => true,
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
                    Err(e) => return Err(e),
                }
            }
        };
        if !created {
            let _ = std::fs::remove_file(tmp);
        }
        Ok(created)
    })
}

/// `renameat2(a, b, RENAME_NOREPLACE)`: `Some(true)` when renamed, `Some(false)` when `b` exists,
/// `None` when the file system does not support it.
fn rename_noreplace(a: &Path, b: &Path) -> std::io::Result<Option<bool>> {
    use std::os::unix::ffi::OsStrExt as _;
    let ca = std::ffi::CString::new(a.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    let cb = std::ffi::CString::new(b.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: two valid NUL-terminated paths relative to the working directory.
    let r =
        unsafe { libc::renameat2(libc::AT_FDCWD, ca.as_ptr(), libc::AT_FDCWD, cb.as_ptr(), libc::RENAME_NOREPLACE) };
    if r == 0 {
        return Ok(Some(true));
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EEXIST) => Ok(Some(false)),
        Some(libc::EINVAL | libc::ENOSYS | libc::ENOTSUP) => Ok(None),
        _ => Err(e),
    }
}

/// The temporary file of [`write_file`], then `place(tmp, path)` (whether it placed the file).
fn write_file_with(
    path: &Path,
    contents: &[u8],
    place: impl FnOnce(&Path, &Path) -> std::io::Result<bool>,
) -> Result<bool> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SERIAL: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().ok_or_else(|| Error::write(path, "not a file path"))?.to_string_lossy();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let host = host_name().unwrap_or_default();
    let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
    let tmp = parent_of(path).join(format!(".{name}.{host}.{}.{nanos}.{serial}.tmp", std::process::id()));
    let hook = |var: &str| std::env::var(var).ok().and_then(|v| v.parse::<usize>().ok());
    let k = SINGLE_FILES.fetch_add(1, Ordering::Relaxed);
    if hook(FAIL_AFTER_ENV).is_some_and(|after| k >= after) {
        return Err(Error::write(path, format!("write failed on purpose ({FAIL_AFTER_ENV} is set)")));
    }
    let file = {
        // Registered while the registry is held, so a signal's cleanup sees every file created.
        let mut l = live_files();
        let file = std::fs::File::create(&tmp).map_err(|e| Error::write(path, e))?;
        l.push(tmp.clone());
        file
    };
    let unregister = |remove: bool| {
        let mut l = live_files();
        if remove {
            let _ = std::fs::remove_file(&tmp);
        }
        l.retain(|p| p != &tmp);
    };
    let mut w = std::io::BufWriter::new(file);
    if let Err(e) = w.write_all(contents).and_then(|()| w.flush()) {
        unregister(true);
        return Err(Error::write(path, e));
    }
    drop(w);
    if hook(STALL_AFTER_ENV) == Some(k) {
        std::thread::sleep(stall());
    }
    let placed = place(&tmp, path);
    unregister(placed.is_err());
    placed.map_err(|e| Error::write(path, e))
}

/// Removes the temporary files of [`write_file`] in `dir` left by processes of this host that are
/// no longer alive (a SIGKILL, a crash). Another host's files, a live process's, and anything
/// that is not a regular file of that name are left alone; nothing is removed where the host name
/// is unknown.
pub fn remove_stale_files(dir: &Path) {
    let Some(host) = host_name() else { return };
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = temp_file_pid(&file, &host) else { continue };
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && pid != std::process::id() && !pid_alive(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The pid in the name of a temporary file of [`write_file`] written on `host`
/// (`.NAME.<host>.<pid>.<nanos>.<serial>.tmp`), `None` for any other name.
fn temp_file_pid(file: &str, host: &str) -> Option<u32> {
    let rest = file.strip_prefix('.')?.strip_suffix(".tmp")?;
    let mut parts = rest.rsplitn(5, '.');
    let (serial, nanos, pid, on, name) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    serial.parse::<u64>().ok()?;
    nanos.parse::<u128>().ok()?;
    (on == host && !name.is_empty()).then_some(())?;
    pid.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_get_a_short_staging_name_in_the_same_parent() {
        let name = "a".repeat(250);
        let p = staging_path(&Path::new("/x").join(&name), u32::MAX);
        assert_eq!(p.parent(), Some(Path::new("/x")));
        assert!(p.file_name().unwrap().len() <= NAME_MAX, "{p:?}");
        let short = staging_path(Path::new("/x/out"), 42);
        assert_eq!(short, Path::new("/x/.out.tmp42"));
    }

    #[test]
    fn temporary_file_names_give_their_pid_only_for_this_host() {
        let f = ".c0001.json.node1_cluster.7.1700000000123456789.3.tmp";
        assert_eq!(temp_file_pid(f, "node1_cluster"), Some(7));
        assert_eq!(temp_file_pid(f, "cluster"), None, "another host whose name is a suffix");
        assert_eq!(temp_file_pid(f, "node2"), None);
        assert_eq!(temp_file_pid(".a.b.h.7.1.3.tmp", "h"), Some(7), "a name with dots");
        for other in ["c0001.json", ".c0001.json.node1.7.x.3.tmp", ".node1.7.1.3.tmp", ".out.tmp7"] {
            assert_eq!(temp_file_pid(other, "node1"), None, "{other}");
        }
    }
}
