#!/usr/bin/env python3
"""Summarize a `cargo bench` run: median time per benchmark and log-log slopes along the ladders.

Usage (after `cargo bench`): python3 benches/fit_ladders.py [CRITERION_DIR]
CRITERION_DIR defaults to $CARGO_TARGET_DIR/criterion or target/criterion. Prints the figures
docs/performance.md quotes; writes nothing.
"""
import json
import math
import os
import re
import sys


def load(root):
    out = {}
    for dirpath, _, files in os.walk(root):
        if dirpath.endswith(os.path.join("new")) and "estimates.json" in files and "benchmark.json" in files:
            bench = json.load(open(os.path.join(dirpath, "benchmark.json")))
            est = json.load(open(os.path.join(dirpath, "estimates.json")))
            out[bench["full_id"]] = est["median"]["point_estimate"] * 1e-9  # seconds
    return out


def sizes(label):
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", label)}


def slope(xs, ys):
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "criterion")
    t = load(root)
    for k in sorted(t):
        print(f"{k:70s} {t[k] * 1e6:12.2f} us")
    print()
    fits = []
    for ladder, var in [("ladder_d", "d"), ("ladder_n", "n"), ("ladder_m", "m"), ("ladder_s", "s")]:
        pts = sorted((sizes(k.split("/")[-1]), v) for k, v in t.items() if k.startswith(ladder + "/")) if False else None
        rows = [(sizes(k.split("/")[-1]), v) for k, v in t.items() if k.startswith(ladder + "/")]
        if len(rows) < 2:
            continue
        rows.sort(key=lambda r: r[0][var])
        # Cost model: n (s + 2) m (the passes) + m d (the update), up to constants.
        cost = [r[0]["n"] * (r[0]["s"] + 2) * r[0]["m"] + r[0]["m"] * r[0]["d"] for r in rows]
        times = [r[1] for r in rows]
        xs = [r[0][var] for r in rows]
        print(f"{ladder}: {var} = {xs}")
        print(f"  times (us)       = {[round(x * 1e6, 1) for x in times]}")
        print(f"  slope in {var}       = {slope(xs, times):.3f}")
        print(f"  slope in n s m + m d = {slope(cost, times):.3f}")
        fits.append((ladder, var, rows))
    if not fits:
        return
    # Two-constant model T = a * (passes' multiply-adds, 2 nnz 2m) + b * (parameters, 2m d), fitted
    # over every ladder point by least squares on the relative error; then each ladder's slope
    # against it (1 = time linear in that model's work).
    pts = {}
    for _, _, rows in fits:
        for sz, t_ in rows:
            pts[(sz["d"], sz["n"], sz["s"], sz["m"])] = t_
    x1 = [2 * n * (s + 2) * 2 * m for (d, n, s, m) in pts]
    x2 = [2 * m * d for (d, n, s, m) in pts]
    ts = list(pts.values())
    a11 = sum((p / t) ** 2 for p, t in zip(x1, ts))
    a22 = sum((q / t) ** 2 for q, t in zip(x2, ts))
    a12 = sum(p * q / t**2 for p, q, t in zip(x1, x2, ts))
    r1 = sum(p / t for p, t in zip(x1, ts))
    r2 = sum(q / t for q, t in zip(x2, ts))
    det = a11 * a22 - a12 * a12
    a, b = (r1 * a22 - r2 * a12) / det, (r2 * a11 - r1 * a12) / det
    print(f"\ntwo-constant fit over all ladder points: a = {a * 1e9:.3f} ns per multiply-add, b = {b * 1e9:.3f} ns per parameter")
    for ladder, var, rows in fits:
        model = [a * 2 * r[0]["n"] * (r[0]["s"] + 2) * 2 * r[0]["m"] + b * 2 * r[0]["m"] * r[0]["d"] for r in rows]
        print(f"  {ladder}: slope against the fitted model = {slope(model, [r[1] for r in rows]):.3f}")


main()
