//! The one reader of the files a command is given: config, theorem and grid files, and the files of
//! an `--import` folder. It bounds the size read and never waits silently on a FIFO
//! (`docs/reliability.md`, "Input files").
//!
//! A plain `open` of a FIFO (named pipe) blocks until some process opens it for writing, forever if
//! none does. The reader opens every file with `O_NONBLOCK`, which never blocks, and then:
//!
//! * a file that is not a FIFO (or pipe) is read as usual (blocking again);
//! * a FIFO or pipe is read without blocking, which on Linux tells the states apart: data; end of
//!   file (`0`) when no process has it open for writing; `EAGAIN` when a writer has it open but has
//!   not written yet. A pipe whose writer has left (`--config <(cat file)` after `cat` exited)
//!   reports `POLLHUP` at once and is read to its end. With no writer, the reader waits for one
//!   at most [`wait_bound`] (10 s, or [`WAIT_ENV`] seconds), telling the user on stderr what it
//!   waits for, then fails naming the path. With a writer, it waits for the writer's data and end
//!   of file as `cat` does, saying so once if that takes longer than the bound.
//!
//! The files of adamgap's own output folders (a sweep folder's `grid.json`, cells and merged
//! `sweep.jsonl`) are read by [`read_output_file`]: a regular file only, capped, refused at once
//! when it is a FIFO or a device.
//!
//! Messages to the user go through [`set_notice`] (the binary prints them on stderr); a library
//! caller that sets nothing gets no messages.

use std::io::Read as _;
use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
use std::os::unix::io::AsRawFd as _;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// The environment variable that sets how long to wait for the writer of a FIFO (seconds).
pub const WAIT_ENV: &str = "ADAMGAP_FIFO_WAIT";

/// How long to wait for the writer of a FIFO when [`WAIT_ENV`] is not set.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// The longest wait [`WAIT_ENV`] may ask for (a day).
const MAX_WAIT_SECONDS: f64 = 86_400.0;

/// How often the reader looks for a writer of a FIFO that has none (opening a FIFO for writing
/// wakes no `poll` of its reader).
const SLICE: Duration = Duration::from_millis(50);

static NOTICE: OnceLock<fn(&str)> = OnceLock::new();

/// Sets where the reader's messages go (a line without its newline; once per process).
pub fn set_notice(notice: fn(&str)) {
    let _ = NOTICE.set(notice);
}

fn notice(text: &str) {
    if let Some(f) = NOTICE.get() {
        f(text);
    }
}

/// How long to wait for the writer of a FIFO: [`WAIT_ENV`] seconds (`0..=86400`), else
/// [`DEFAULT_WAIT`].
pub fn wait_bound() -> Result<Duration> {
    let Ok(v) = std::env::var(WAIT_ENV) else { return Ok(DEFAULT_WAIT) };
    match v.trim().parse::<f64>() {
        Ok(s) if (0.0..=MAX_WAIT_SECONDS).contains(&s) => Ok(Duration::from_secs_f64(s)),
        _ => Err(Error::invalid(WAIT_ENV, &v, format!("a number of seconds from 0 to {MAX_WAIT_SECONDS}"))),
    }
}

/// Reads the file at `path`, at most `max_bytes` (a larger file is refused without being read to
/// the end). See the module doc for FIFOs and pipes.
pub fn read_bytes(path: &Path, max_bytes: u64) -> Result<Vec<u8>> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    let kind = file.metadata().map_err(|e| Error::io(path, e))?.file_type();
    let bytes = if kind.is_fifo() {
        read_fifo(&mut file, path, max_bytes)?
    } else {
        set_blocking(&file).map_err(|e| Error::io(path, e))?;
        let mut bytes = Vec::new();
        file.take(max_bytes.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| Error::io(path, e))?;
        bytes
    };
    if bytes.len() as u64 > max_bytes {
        return Err(Error::io(path, format!("larger than {max_bytes} bytes, the most read from such a file")));
    }
    Ok(bytes)
}

/// What a file that is not a regular file is, in words (`a FIFO`, `a character device`, ...).
fn kind_of(kind: std::fs::FileType) -> &'static str {
    if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_dir() {
        "a folder"
    } else {
        "not a regular file"
    }
}

/// Reads a file of one of adamgap's output folders (a sweep folder's `grid.json`, cell files and
/// `sweep.jsonl`): at most `max_bytes`, and only a regular file (a symbolic link to one is
/// followed). A FIFO, a device, a socket or a folder is refused at once, without waiting for a
/// writer or reading anything: such a folder holds only files adamgap wrote. `Ok(None)` when
/// nothing is at `path`.
pub fn read_output_file(path: &Path, max_bytes: u64) -> Result<Option<Vec<u8>>> {
    let mut file = match std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::io(
            path,
            format!(
                "{}, not a regular file; only files adamgap wrote belong here (remove it)",
                kind_of(meta.file_type())
            ),
        ));
    }
    let too_large = || Error::io(path, format!("larger than {max_bytes} bytes, the most read from such a file"));
    if meta.len() > max_bytes {
        return Err(too_large());
    }
    set_blocking(&file).map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::new();
    (&mut file).take(max_bytes.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large());
    }
    Ok(Some(bytes))
}

/// [`read_output_file`] of a UTF-8 text file.
pub fn read_output_text(path: &Path, max_bytes: u64) -> Result<Option<String>> {
    read_output_file(path, max_bytes)?
        .map(|b| String::from_utf8(b).map_err(|e| Error::io(path, format!("not UTF-8 text: {e}"))))
        .transpose()
}

/// Reads a UTF-8 text file of at most `max_bytes` with [`read_bytes`].
pub fn read_text(path: &Path, max_bytes: u64) -> Result<String> {
    String::from_utf8(read_bytes(path, max_bytes)?).map_err(|e| Error::io(path, format!("not UTF-8 text: {e}")))
}

/// Clears `O_NONBLOCK` (a terminal or a device reads as it always did).
fn set_blocking(file: &std::fs::File) -> std::io::Result<()> {
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor this function's caller owns; F_GETFL/F_SETFL touch only its flags.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Waits at most `timeout` (`None`: without limit) for data or a hang-up on `file`; whether one
/// came. An interrupted wait counts as nothing come yet.
fn poll(file: &std::fs::File, timeout: Option<Duration>) -> std::io::Result<bool> {
    let mut fds = libc::pollfd { fd: file.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    let ms = timeout.map_or(-1, |t| i32::try_from(t.as_millis()).unwrap_or(i32::MAX));
    // SAFETY: one valid pollfd for the duration of the call.
    let r = unsafe { libc::poll(&mut fds, 1, ms) };
    if r < 0 {
        let e = std::io::Error::last_os_error();
        return if e.kind() == std::io::ErrorKind::Interrupted { Ok(false) } else { Err(e) };
    }
    Ok(r > 0)
}

/// Reads a FIFO or pipe opened with `O_NONBLOCK` (see the module doc).
fn read_fifo(file: &mut std::fs::File, path: &Path, max_bytes: u64) -> Result<Vec<u8>> {
    let io = |e: std::io::Error| Error::io(path, e);
    let start = Instant::now();
    let mut bound: Option<Duration> = None;
    let mut bytes = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    // Whether a writer has been seen (data, EAGAIN, or a hang-up): from then on, `0` is the end.
    let mut writer_seen = false;
    let (mut told_waiting, mut told_slow) = (false, false);
    loop {
        match file.read(&mut buf) {
            Ok(0) if writer_seen => return Ok(bytes),
            Ok(0) => {
                // No writer now. A pipe whose writer has left, or a FIFO whose writer came and
                // went since it was opened, reports a hang-up at once.
                if poll(file, Some(Duration::ZERO)).map_err(io)? {
                    writer_seen = true;
                    continue;
                }
                let b = match bound {
                    Some(b) => b,
                    None => *bound.insert(wait_bound()?),
                };
                let left = b.saturating_sub(start.elapsed());
                if left.is_zero() {
                    return Err(Error::io(
                        path,
                        format!(
                            "a FIFO that no process opened for writing within {} s (start its writer \
                             first, or set {WAIT_ENV} to wait longer)",
                            b.as_secs_f64()
                        ),
                    ));
                }
                if !told_waiting {
                    told_waiting = true;
                    notice(&format!(
                        "waiting up to {} s for a process to write to the FIFO {}",
                        b.as_secs_f64(),
                        path.display()
                    ));
                }
                // A writer that opens the FIFO wakes no poll: look again after a short while.
                if poll(file, Some(left.min(SLICE))).map_err(io)? {
                    writer_seen = true;
                }
            }
            Ok(n) => {
                writer_seen = true;
                bytes.extend_from_slice(&buf[..n]);
                if bytes.len() as u64 > max_bytes {
                    return Ok(bytes);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                // A writer has it open and has not written yet: wait for it as `cat` would.
                writer_seen = true;
                if told_slow {
                    poll(file, None).map_err(io)?;
                    continue;
                }
                let b = match bound {
                    Some(b) => b,
                    None => *bound.insert(wait_bound()?),
                };
                let left = b.saturating_sub(start.elapsed());
                if !poll(file, Some(left)).map_err(io)? && start.elapsed() >= b {
                    told_slow = true;
                    notice(&format!(
                        "still reading {}: the process writing to it has not finished after {} s",
                        path.display(),
                        b.as_secs_f64()
                    ));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
}
