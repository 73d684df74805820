//! Machine probe: the rates the per-step floor of `docs/performance.md` is built from.
//!
//! - `madd_l1/{portable,avx}`: packed multiply-add throughput of the forward kernel's shape
//!   (16 accumulators, `acc += v * row`, rows drawn from a 15 KiB table that stays in L1), as
//!   compiled for the baseline x86-64 target (SSE2) and with AVX enabled;
//! - `scatter_l1/{portable,avx}`: the backward kernel's shape (`row += v * coef`, a load and a store
//!   per element) on the same table;
//! - `bandwidth/read` and `bandwidth/triad`: streaming over 64 MiB arrays (far beyond L3);
//! - `adam_update_l1`: the library's Adam update on 512 parameters (16 KiB of state, in L1), i.e.
//!   the divider- and square-root-bound cost per parameter.

use std::hint::black_box;

use adamgap::optim;
use adamgap::setting::OptimizerSetting;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};

use super::common::config;

const W2: usize = 40;
const ROWS: usize = 48;
const NNZ: usize = 4096;

/// `ROWS x W2` table and a pseudo-random row sequence (a fixed LCG, so the run is reproducible).
fn table() -> (Vec<f64>, Vec<u32>, Vec<f64>) {
    let t: Vec<f64> = (0..ROWS * W2).map(|k| ((k * 7919) % 1000) as f64 * 1e-3).collect();
    let mut state = 12345u64;
    let (mut idx, mut val) = (Vec::with_capacity(NNZ), Vec::with_capacity(NNZ));
    for _ in 0..NNZ {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        idx.push(((state >> 33) % ROWS as u64) as u32);
        val.push(((state >> 11) % 1000) as f64 * 1e-3 - 0.5);
    }
    (t, idx, val)
}

#[inline(always)]
fn gather(t: &[f64], idx: &[u32], val: &[f64], out: &mut [f64; W2]) {
    for off in [0, 16] {
        let mut acc = [0.0f64; 16];
        for (&k, &v) in idx.iter().zip(val) {
            let base = k as usize * W2 + off;
            let row: &[f64; 16] = t[base..base + 16].try_into().unwrap();
            for (a, &x) in acc.iter_mut().zip(row) {
                *a += v * x;
            }
        }
        out[off..off + 16].copy_from_slice(&acc);
    }
    let mut acc = [0.0f64; 8];
    for (&k, &v) in idx.iter().zip(val) {
        let base = k as usize * W2 + 32;
        let row: &[f64; 8] = t[base..base + 8].try_into().unwrap();
        for (a, &x) in acc.iter_mut().zip(row) {
            *a += v * x;
        }
    }
    out[32..].copy_from_slice(&acc);
}

#[inline(always)]
fn scatter(t: &mut [f64], idx: &[u32], val: &[f64], coef: &[f64; W2]) {
    for off in [0, 16] {
        let c: [f64; 16] = coef[off..off + 16].try_into().unwrap();
        for (&k, &v) in idx.iter().zip(val) {
            let base = k as usize * W2 + off;
            let row: &mut [f64; 16] = (&mut t[base..base + 16]).try_into().unwrap();
            for (r, &x) in row.iter_mut().zip(&c) {
                *r += v * x;
            }
        }
    }
    let c: [f64; 8] = coef[32..].try_into().unwrap();
    for (&k, &v) in idx.iter().zip(val) {
        let base = k as usize * W2 + 32;
        let row: &mut [f64; 8] = (&mut t[base..base + 8]).try_into().unwrap();
        for (r, &x) in row.iter_mut().zip(&c) {
            *r += v * x;
        }
    }
}

fn gather_portable(t: &[f64], idx: &[u32], val: &[f64], out: &mut [f64; W2]) {
    gather(t, idx, val, out)
}

fn scatter_portable(t: &mut [f64], idx: &[u32], val: &[f64], coef: &[f64; W2]) {
    scatter(t, idx, val, coef)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn gather_avx(t: &[f64], idx: &[u32], val: &[f64], out: &mut [f64; W2]) {
    gather(t, idx, val, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn scatter_avx(t: &mut [f64], idx: &[u32], val: &[f64], coef: &[f64; W2]) {
    scatter(t, idx, val, coef)
}

fn kernels(c: &mut Criterion) {
    let (mut t, idx, val) = table();
    let mut group = c.benchmark_group("probe");
    group.throughput(Throughput::Elements((NNZ * W2) as u64));
    let mut out = [0.0; W2];
    group.bench_function(BenchmarkId::new("madd_l1", "portable"), |b| {
        b.iter(|| gather_portable(black_box(&t), &idx, &val, &mut out))
    });
    let coef = [1e-9; W2];
    group.bench_function(BenchmarkId::new("scatter_l1", "portable"), |b| {
        b.iter(|| scatter_portable(black_box(&mut t), &idx, &val, &coef))
    });
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY (both calls): the CPU has AVX, checked just above.
        group.bench_function(BenchmarkId::new("madd_l1", "avx"), |b| {
            b.iter(|| unsafe { gather_avx(black_box(&t), &idx, &val, &mut out) })
        });
        group.bench_function(BenchmarkId::new("scatter_l1", "avx"), |b| {
            b.iter(|| unsafe { scatter_avx(black_box(&mut t), &idx, &val, &coef) })
        });
    }
    black_box(out);

    // Adam's update, compute-bound: 512 parameters, state in L1.
    let dim = 512;
    let mut w: Vec<f64> = (0..dim).map(|k| k as f64 * 1e-3).collect();
    let g: Vec<f64> = (0..dim).map(|k| (k as f64 - 256.0) * 1e-4).collect();
    let mut opt = optim::build(&OptimizerSetting::paper_adam(), dim);
    group.throughput(Throughput::Elements(dim as u64));
    group.bench_function(BenchmarkId::new("adam_update_l1", dim), |b| {
        b.iter(|| opt.step(black_box(&mut w), black_box(&g), 1e-5))
    });
    group.finish();
}

fn bandwidth(c: &mut Criterion) {
    let len = 8 << 20; // 8 Mi f64 = 64 MiB per array
    let a: Vec<f64> = vec![1.0; len];
    let b: Vec<f64> = vec![2.0; len];
    let mut out: Vec<f64> = vec![0.0; len];
    let mut group = c.benchmark_group("probe");
    group.sample_size(10);
    group.throughput(Throughput::Bytes((8 * len) as u64));
    group.bench_function(BenchmarkId::new("bandwidth", "read_64MiB"), |bch| {
        bch.iter(|| {
            let mut acc = [0.0f64; 8];
            for ch in black_box(&a).chunks_exact(8) {
                for (s, &x) in acc.iter_mut().zip(ch) {
                    *s += x;
                }
            }
            black_box(acc)
        })
    });
    group.throughput(Throughput::Bytes((3 * 8 * len) as u64));
    group.bench_function(BenchmarkId::new("bandwidth", "triad_3x64MiB"), |bch| {
        bch.iter(|| {
            for ((o, &x), &y) in out.iter_mut().zip(black_box(&a)).zip(black_box(&b)) {
                *o = x + 0.5 * y;
            }
            black_box(&out);
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = kernels, bandwidth
}
