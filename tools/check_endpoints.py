#!/usr/bin/env python3
"""Independent check of an `adamgap run --certify-export DIR` endpoint certificate (Python 3 standard library only).

Reads certificate.json, X_train.npy (n x P x d), y_train.npy (n) and one W_<name>.npy (d x 2m) per
certified point from DIR, and re-verifies, with every float64 taken at its exact binary value:

  1. every claimed sign of a training margin M_i = y_i f(W, x_i) (1: M_i > 0, -1: M_i <= 0,
     0: undecided, not checked), and the claimed training error count;
  2. the claimed upper bound on ||grad L(W)||_2 for
        L(W) = (1/n) sum_i log(1 + exp(-M_i)) + (lambda/2) ||W||_F^2,
        f(W, x) = scale * sum_{j,r,p} j max(0, <w_{j,r}, x_p>)^q   (linear activation: q = 1, no max);
  3. the claimed lower bound on ||W_a - W_b||_F.

Arithmetic: margins, pre-activations and the distance are exact integers (every float64 is an
integer times a power of two, so all values are scaled to a common power of two); the gradient is
exact except for the sigmoid s_i = 1/(1 + exp(M_i)), evaluated with `decimal` at 60 significant
digits (error below 1e-50 while |M_i| < 1e6, which is checked); that error, propagated through the
gradient sum, is added to every entry before the norm is bounded, and the final comparison is
exact (squared, in Fraction).

Usage: python3 tools/check_endpoints.py DIR     (exit 0: verified; 1: a claim fails; 2: bad input)

This program shares no code with adamgap: it parses the .npy files by hand with `struct` (the reader
of tools/check_certificate.py, imported from beside it).
"""

import json
import sys
from fractions import Fraction
from pathlib import Path

# The .npy reader and the decimal sigmoid are the convex checker's (same folder, standard library only).
from check_certificate import SIGMOID_ERROR, read_npy
from check_certificate import sigmoid_neg as sigmoid_neg_unchecked

MAX_MARGIN = 10**6


def to_scaled_ints(values):
    """(ints, e) with values[k] == ints[k] / 2^e exactly, for finite floats."""
    ratios = []
    e = 0
    for v in values:
        num, den = v.as_integer_ratio()  # den is a power of two
        ratios.append((num, den))
        e = max(e, den.bit_length() - 1)
    return [num << (e - (den.bit_length() - 1)) for num, den in ratios], e


def sigmoid_neg(mg):
    """1 / (1 + exp(mg)) for an exact Fraction mg, with error < SIGMOID_ERROR (the convex checker's
    evaluation), refused outside |mg| < MAX_MARGIN, where that error bound is checked."""
    if abs(mg) >= MAX_MARGIN:
        # A margin of a diverged run can exceed the range of a binary64: describe it without one.
        raise ValueError(
            f"a margin of magnitude >= {MAX_MARGIN} (about 2^{abs(mg.numerator).bit_length() - mg.denominator.bit_length()}), "
            "outside the range where the sigmoid error bound is checked"
        )
    return sigmoid_neg_unchecked(mg)


def check_point(name, claim, model, x_rows, ex, y, directory, w_cache):
    """Returns a list of failure messages for one certified point."""
    n, patches, d, m, q = model["n"], model["patches"], model["d"], model["m"], model["q"]
    linear = model["activation"] == "linear"
    scale = Fraction(model["scale_exact"])
    lam = Fraction(model["lambda_exact"])
    w2 = 2 * m
    (dw, cw), wf = read_npy(directory / claim["weights_file"])
    if (dw, cw) != (d, w2):
        raise ValueError(f"{claim['weights_file']}: shape {(dw, cw)}, expected {(d, w2)}")
    w_cache[name] = wf
    wi, ew = to_scaled_ints(wf)
    ez = ew + ex  # z = Z / 2^ez
    failures = []
    signs = claim["train_signs"]
    if len(signs) != n:
        raise ValueError(f"{name}: {len(signs)} train_signs for n = {n}")
    # Loss part of the gradient: G_loss[k, c] = (scale/n) sum_{i,p} l'(M_i) y_i j_c sigma'(z) x_{i,p,k},
    # l'(M_i) = -s_i, s_i = sigmoid(-M_i). With S_i = round(s_i 2^K) (|S_i / 2^K - s_i| < eps, below),
    # sigma'(z) = q Z^(q-1) / 2^((q-1) ez) and x = X / 2^ex, every term is an integer over
    # 2^(K + (q-1) ez + ex): A[k, c] sums the terms, B[k, c] the |sigma'(z) x| for the error.
    qq = 1 if linear else q
    big_k = 200
    acc = [0] * (d * w2)
    err = [0] * (d * w2)
    errors = 0
    for i in range(n):
        zs = []
        f = 0
        for p in range(patches):
            row = x_rows[i][p]
            zp = []
            for c in range(w2):
                zint = sum(v * wi[k * w2 + c] for k, v in row)
                zp.append(zint)
                s = zint if linear else (max(zint, 0) ** q)
                f += s if c < m else -s
            zs.append(zp)
        # M_i = y_i scale f / 2^(q ez)
        mg = y[i] * scale * Fraction(f, 1 << (qq * ez))
        true_sign = 1 if mg > 0 else -1
        if true_sign == -1:
            errors += 1
        if signs[i] != 0 and signs[i] != true_sign:
            failures.append(f"{name}: training margin {i} has sign {true_sign}, certificate claims {signs[i]}")
        s_int = round(sigmoid_neg(mg) * (1 << big_k))
        for p in range(patches):
            row = x_rows[i][p]
            for c in range(w2):
                zint = zs[p][c]
                if linear:
                    dv = 1
                elif zint <= 0:
                    continue
                else:
                    dv = q * zint ** (q - 1)
                t = -s_int * dv if (y[i] > 0) == (c < m) else s_int * dv
                for k, v in row:
                    acc[k * w2 + c] += t * v
                    err[k * w2 + c] += abs(dv * v)
    undecided = sum(1 for s in signs if s == 0)
    if errors != claim["train_errors"] and undecided == 0:
        failures.append(f"{name}: {errors} training errors, certificate claims {claim['train_errors']}")
    coef = scale / n
    den = 1 << (big_k + (qq - 1) * ez + ex)
    eps = SIGMOID_ERROR + Fraction(1, 1 << big_k)  # sigmoid error plus rounding of S_i
    norm_sq_upper = Fraction(0)
    for idx in range(d * w2):
        g = coef * Fraction(acc[idx], den) + lam * Fraction(wf[idx])
        e = coef * eps * Fraction(err[idx], den) * (1 << big_k)
        norm_sq_upper += (abs(g) + e) ** 2
    upper = Fraction(claim["grad_norm_upper_exact"])
    if norm_sq_upper > upper * upper:
        failures.append(
            f"{name}: ||grad L|| is up to {float(norm_sq_upper) ** 0.5:.6e}, above the claimed bound {float(upper):.6e}"
        )
    return failures, errors, float(norm_sq_upper) ** 0.5


def check(directory):
    directory = Path(directory)
    cert = json.loads((directory / "certificate.json").read_text())
    if cert.get("format") != "adamgap-endpoint-certificate-1":
        raise ValueError(f"unknown certificate format {cert.get('format')!r}")
    model = cert["model"]
    (n, patches, d), xs = read_npy(directory / cert["x_file"])
    (ny,), ys = read_npy(directory / cert["y_file"])
    if (n, patches, d) != (model["n"], model["patches"], model["d"]) or ny != n:
        raise ValueError(f"shapes do not fit: X {(n, patches, d)}, y {ny}, model {model}")
    if any(v not in (1.0, -1.0) for v in ys):
        raise ValueError("labels must be +1 or -1")
    nonzero = [v for v in xs if v != 0.0]
    ints, ex = to_scaled_ints(nonzero)
    scaled = iter(ints)
    x_rows = []
    for i in range(n):
        sample = []
        for p in range(patches):
            base = (i * patches + p) * d
            sample.append([(k, next(scaled)) for k in range(d) if xs[base + k] != 0.0])
        x_rows.append(sample)
    y = [int(v) for v in ys]
    failures = []
    w_cache = {}
    lines = []
    for name, claim in cert["points"].items():
        f, errors, gnorm = check_point(name, claim, model, x_rows, ex, y, directory, w_cache)
        failures += f
        lines.append(
            f"{name}: {errors} training errors of {n}; ||grad L|| <= {gnorm:.9e} (claimed <= {claim['grad_norm_upper']:.9e})"
        )
        if claim.get("run_diverged"):
            lines.append(f"{name}: note: these weights come from a run that {claim['run_diverged']}, not a trained solution")
    dist = cert.get("distance")
    if dist:
        a, b = w_cache[dist["a"]], w_cache[dist["b"]]
        sq = sum((Fraction(u) - Fraction(v)) ** 2 for u, v in zip(a, b))
        lower = Fraction(dist["lower_exact"])
        if lower > 0 and lower * lower > sq:
            failures.append(f"distance: ||W_{dist['a']} - W_{dist['b']}||_F = {float(sq) ** 0.5:.9e} < claimed {float(lower):.9e}")
        lines.append(f"||W_{dist['a']} - W_{dist['b']}||_F = {float(sq) ** 0.5:.9e} (claimed >= {float(lower):.9e})")
    return failures, lines


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[0])
        print("usage: python3 tools/check_endpoints.py DIR")
        return 2
    try:
        failures, lines = check(argv[1])
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"error: {e}")
        return 2
    for line in lines:
        print(line)
    if failures:
        for f in failures:
            print(f"FAILED: {f}")
        return 1
    print("VERIFIED: training margin signs, gradient-norm upper bounds and the distance bound")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
