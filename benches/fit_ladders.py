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


main()
