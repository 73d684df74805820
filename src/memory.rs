//! Memory estimates of a setting, checked before anything is allocated: a setting that would not
//! fit is refused with the estimate, the limit and the parameters that drive it, instead of
//! aborting in the allocator (`docs/reliability.md`).
//!
//! The estimate counts the large arrays: the training and test sets (sparse rows, their transpose,
//! the noise vectors, labels), the weights with their gradient and optimizer state per run, and the
//! per-run workspaces. It is an estimate of the peak, not a bound on every byte.

use crate::error::{Error, Result};
use crate::setting::{DataSetting, NoiseKind, Setting};

/// Bytes per stored nonzero of a sparse row (`u32` index and `f64` value).
const NONZERO: u128 = 12;

/// An estimate of the memory a computation needs, by part.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Estimate {
    /// The parts: what, driven by which parameters, and bytes.
    pub parts: Vec<(String, u128)>,
}

impl Estimate {
    /// Adds a part.
    pub fn add(&mut self, what: impl Into<String>, bytes: u128) {
        self.parts.push((what.into(), bytes));
    }

    /// The total in bytes.
    pub fn bytes(&self) -> u128 {
        self.parts.iter().map(|p| p.1).sum()
    }

    /// An error unless the estimate is at most `limit` bytes; `origin` says where the limit comes
    /// from (for the message). The message lists the parts, largest first.
    pub fn check(&self, limit: u64, origin: &str) -> Result<()> {
        if self.bytes() <= u128::from(limit) {
            return Ok(());
        }
        let mut parts = self.parts.clone();
        parts.sort_by_key(|p| std::cmp::Reverse(p.1));
        let drivers: Vec<String> = parts.iter().map(|(what, b)| format!("{what}: {}", human(*b))).collect();
        Err(Error::TooLarge {
            needed: human(self.bytes()),
            limit: format!("{} ({origin})", human(u128::from(limit))),
            parts: drivers.join("; "),
        })
    }
}

/// Stored nonzeros per sample: the signal patch, the feature noise, and `patches - 1` noise patches
/// of `s` (sparse) or `d - 1` (dense) entries.
fn nonzeros_per_sample(data: &DataSetting) -> u128 {
    let per_patch = match data.noise {
        NoiseKind::Sparse => data.s,
        NoiseKind::Dense => data.d.saturating_sub(1),
    } as u128;
    per_patch * data.patches.saturating_sub(1) as u128 + 2
}

/// Bytes of `samples` samples of `data` with `stored` patches each: the rows, their transpose and
/// the noise vectors (three copies of the nonzeros), row pointers, labels.
pub fn data_bytes(data: &DataSetting, samples: usize, stored: usize) -> u128 {
    let n = samples as u128;
    n * (3 * NONZERO * nonzeros_per_sample(data) + 8 * stored as u128 + 32) + 8 * data.d as u128
}

/// Human-readable bytes (`1.5 GiB`).
pub fn human(bytes: u128) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut x = bytes as f64;
    let mut u = 0;
    while x >= 1024.0 && u + 1 < UNITS.len() {
        x /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{bytes} B") } else { format!("{x:.1} {}", UNITS[u]) }
}

/// The memory of the nonconvex experiment of `s`: the data, `W^(0)`, and per optimizer (all run
/// side by side) the weights, the gradient, the optimizer state (at most two vectors) and the
/// workspace of pre-activations and coefficients over the training and test patches.
pub fn of_setting(s: &Setting) -> Estimate {
    let d = &s.data;
    let stored = s.stored_patches();
    let mut e = Estimate::default();
    let sparsity = match d.noise {
        NoiseKind::Sparse => format!("s = {}", d.s),
        NoiseKind::Dense => format!("dense noise, d = {}", d.d),
    };
    e.add(format!("training set (n = {}, {sparsity}, {stored} patches)", d.n), data_bytes(d, d.n, stored));
    e.add(
        format!("test set (test_size = {}, {sparsity}, {stored} patches)", d.test_size),
        data_bytes(d, d.test_size, stored),
    );
    let runs = s.optimizers.len() as u128;
    let dim = 2 * s.model.m as u128 * d.d as u128;
    e.add(
        format!("weights, gradients and optimizer state (d = {}, m = {}, {runs} optimizers)", d.d, s.model.m),
        8 * dim * (1 + 4 * runs),
    );
    let patches = (d.n as u128 + d.test_size as u128) * stored as u128;
    e.add(
        format!("workspaces (n + test_size = {}, m = {}, {runs} optimizers)", patches / stored as u128, s.model.m),
        16 * patches * 2 * s.model.m as u128 * runs,
    );
    e
}

/// The memory of `adamgap run --to-limit` with its Newton polish: [`of_setting`], and the dense
/// reduced Hessian of `docs/limit-points.md` (`(2 m k)^2` values, `k` at most `d` and the number
/// of training patches `n P'`; on the synthetic data, whose signal patches are all multiples of
/// `e_1`, at most `n (P' - 1) + 1`) with the Jacobian of the outputs (`n x 2mk`, and its scaled
/// copy) and the basis (`d x k`, the reduced patches `n P' x k`).
pub fn of_limit(s: &Setting, synthetic: bool) -> Estimate {
    let mut e = of_setting(s);
    let stored = s.stored_patches() as u128;
    let (d, n, m) = (s.data.d as u128, s.data.n as u128, s.model.m as u128);
    let patches =
        if synthetic { n.saturating_mul(stored.saturating_sub(1)).saturating_add(1) } else { n.saturating_mul(stored) };
    let k = patches.min(d);
    let dim = 2u128.saturating_mul(m).saturating_mul(k);
    e.add(
        format!("reduced Hessian of the Newton polish ({dim} x {dim}: span k <= {k}, m = {})", s.model.m),
        8u128.saturating_mul(dim).saturating_mul(dim),
    );
    e.add(
        format!("Jacobian and basis of the polish (n = {}, k <= {k})", s.data.n),
        8u128.saturating_mul(2 * n * dim + d * k + n * stored * k),
    );
    e
}

/// The memory of the precision audit of `s` with `twins` one-ulp twins on a pool of `threads`:
/// the binary64 experiment ([`of_setting`]), its double-double copy (a second binary64 footprint),
/// the twins' initializations and kept results (final weights and trace, for every optimizer), and
/// the working state of the runs that go side by side. Saturating: a count near `2^64` gives an
/// estimate no limit admits, before anything is allocated.
pub fn of_audit(s: &Setting, twins: usize, threads: usize) -> Estimate {
    let mut e = of_setting(s);
    let again = e.bytes();
    e.add("double-double copies of the training arrays (a second binary64 footprint)", again);
    let dim = 2 * s.model.m as u128 * s.data.d as u128;
    let runs = s.optimizers.len() as u128;
    let (t, twins_n) = (threads.max(1) as u128, twins as u128);
    // A kept run: its final weights twice (the run and the audit's row built from it) and its
    // trace (checkpoints plus the 1-2-5 series and the end). Measured at the defaults: about
    // 1.6 MB of peak memory per twin of two optimizers (twins 1 against 200, `steps = 100`).
    let kept = 16 * dim + 256 * (s.train.checkpoints as u128 + 64);
    e.add(
        format!(
            "{twins} twins: initializations and kept results ({runs} optimizers, d = {}, m = {})",
            s.data.d, s.model.m
        ),
        twins_n.saturating_mul(8 * dim).saturating_add(twins_n.saturating_mul(runs).saturating_mul(kept)),
    );
    let patches = (s.data.n as u128 + s.data.test_size as u128) * s.stored_patches() as u128;
    // A twin run works on its own copy of the experiment (data and `W^(0)`).
    let data =
        data_bytes(&s.data, s.data.n, s.stored_patches()) + data_bytes(&s.data, s.data.test_size, s.stored_patches());
    let working = 8 * dim * 5 + 16 * patches * 2 * s.model.m as u128 + data;
    e.add(
        format!("twin runs side by side ({} at once)", t.min(twins_n.saturating_mul(runs).max(1))),
        t.min(twins_n.saturating_mul(runs).max(1)).saturating_mul(working),
    );
    e
}

/// Memory the system reports available (`MemAvailable` of `/proc/meminfo`), if known.
pub fn available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_fits_and_huge_settings_name_their_drivers() {
        let s = Setting::default();
        assert!(of_setting(&s).bytes() < 256 << 20, "{:?}", of_setting(&s));
        let mut big = Setting::default();
        big.data.d = 1_000_000_000;
        let e = of_setting(&big);
        let msg = e.check(8 << 30, "test limit").unwrap_err().to_string();
        assert!(msg.contains("d = 1000000000") && msg.contains("8.0 GiB (test limit)"), "{msg}");
        assert!(e.bytes() > 2 << 40, "{}", human(e.bytes()));
        let mut tests = Setting::default();
        tests.data.test_size = 10_000_000_000;
        let msg = of_setting(&tests).check(8 << 30, "x").unwrap_err().to_string();
        assert!(msg.starts_with("the computation needs about") && msg.contains("test_size = 10000000000"), "{msg}");
        assert_eq!(human(1536), "1.5 KiB");
        // The audit's estimate grows with its twins, and a count near 2^64 saturates.
        let one = of_audit(&s, 1, 2).bytes();
        assert!(of_audit(&s, 1000, 2).bytes() > one + 1000 * 8 * 40_000, "{}", human(one));
        assert!(of_audit(&s, usize::MAX, 2).check(u64::MAX, "x").is_err());
    }
}
