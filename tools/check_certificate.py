#!/usr/bin/env python3
"""Independent check of an `adamgap convex --export DIR` certificate (Python 3 standard library only).

Reads X.npy (n x d), y.npy (n), center.npy (d) and manifest.json from DIR, and checks

    ||grad L(center)||_2 / lambda <= radius

for the exported problem

    L(u) = (1/n) sum_i log(1 + exp(-y_i * scale * <u, X_i>)) + (lambda/2) ||u||^2,

with every float64 taken at its exact binary value (fractions.Fraction), `lambda` and `scale`
exact rationals from the manifest (`lambda_exact`, `scale`), and the sigmoid evaluated with
`decimal` at 60 significant digits. Since L is lambda-strongly convex, this bound on the gradient
proves ||center - u*|| <= radius for the unique minimizer u*.

Rigour: the only inexact step is the sigmoid s_i = 1/(1 + exp(z_i)) in `decimal` (60 digits).
Its error is below 1e-50 (relative and hence absolute, since 0 < s_i < 1) with a large margin;
that error, propagated through the gradient sum, is added to every coordinate before the norm is
bounded, and the final comparison is exact (squared, in Fraction).

Usage: python3 tools/check_certificate.py DIR     (exit 0: certificate verified; 1: not; 2: bad input)

This program shares no code with adamgap (different language, different arithmetic): it parses
the .npy files by hand with `struct`.
"""

import ast
import json
import struct
import sys
from decimal import Decimal, localcontext
from fractions import Fraction
from pathlib import Path

SIGMOID_DIGITS = 60
SIGMOID_ERROR = Fraction(1, 10**50)


def read_npy(path):
    """Returns (shape, list of floats) of a little-endian float64 C-order .npy file."""
    data = Path(path).read_bytes()
    if data[:6] != b"\x93NUMPY":
        raise ValueError(f"{path}: not a .npy file")
    major = data[6]
    if major == 1:
        (hlen,) = struct.unpack("<H", data[8:10])
        start = 10
    elif major in (2, 3):
        (hlen,) = struct.unpack("<I", data[8:12])
        start = 12
    else:
        raise ValueError(f"{path}: unsupported .npy version {major}")
    header = ast.literal_eval(data[start : start + hlen].decode("latin1"))
    if header["descr"] not in ("<f8", "float64") or header["fortran_order"]:
        raise ValueError(f"{path}: expected little-endian float64 in C order, got {header}")
    shape = tuple(header["shape"])
    count = 1
    for s in shape:
        count *= s
    body = data[start + hlen :]
    if len(body) != 8 * count:
        raise ValueError(f"{path}: {len(body)} data bytes for shape {shape}")
    return shape, list(struct.unpack(f"<{count}d", body))


def sigmoid_neg(z):
    """1 / (1 + exp(z)) for an exact Fraction z, as a Fraction, with error < SIGMOID_ERROR."""
    with localcontext() as ctx:
        ctx.prec = SIGMOID_DIGITS
        zd = Decimal(z.numerator) / Decimal(z.denominator)
        s = Decimal(1) / (Decimal(1) + zd.exp())
        return Fraction(s)


def check(directory):
    d = Path(directory)
    manifest = json.loads((d / "manifest.json").read_text())
    (n, dim), xs = read_npy(d / manifest.get("x_file", "X.npy"))
    (ny,), ys = read_npy(d / manifest.get("y_file", "y.npy"))
    (dc,), cs = read_npy(d / manifest["center_file"])
    if ny != n or dc != dim:
        raise ValueError(f"shapes do not fit: X {n}x{dim}, y {ny}, center {dc}")
    lam = Fraction(manifest["lambda_exact"]) if "lambda_exact" in manifest else Fraction(manifest["lambda"])
    scale = Fraction(manifest.get("scale", "1"))
    radius = Fraction(manifest["radius_exact"]) if "radius_exact" in manifest else Fraction(manifest["radius"])
    if lam <= 0:
        raise ValueError("lambda must be > 0")
    u = [Fraction(c) for c in cs]
    rows = []
    for i in range(n):
        row = [(k, Fraction(v)) for k, v in enumerate(xs[i * dim : (i + 1) * dim]) if v != 0.0]
        rows.append(row)
    y = [Fraction(v) for v in ys]
    if any(v not in (1, -1) for v in y):
        raise ValueError("labels must be +1 or -1")
    # grad_k = -(scale/n) sum_i s_i y_i X_ik + lambda u_k, s_i = sigmoid(-z_i), z_i = y_i scale <u, X_i>.
    grad = [lam * uk for uk in u]
    err = [Fraction(0)] * dim
    coef = scale / n
    for i, row in enumerate(rows):
        z = y[i] * scale * sum(v * u[k] for k, v in row)
        s = sigmoid_neg(z)
        for k, v in row:
            grad[k] -= coef * s * y[i] * v
            err[k] += abs(coef * v) * SIGMOID_ERROR
    norm_sq_upper = sum((abs(g) + e) ** 2 for g, e in zip(grad, err))
    ok = norm_sq_upper <= (lam * radius) ** 2
    approx = float(norm_sq_upper) ** 0.5
    return ok, approx, float(lam), float(radius), n, dim


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[0])
        print("usage: python3 tools/check_certificate.py DIR")
        return 2
    try:
        ok, gnorm, lam, radius, n, dim = check(argv[1])
    except (OSError, ValueError, KeyError) as e:
        print(f"error: {e}")
        return 2
    print(f"problem: n = {n}, d = {dim}, lambda = {lam:.6g}")
    print(f"||grad L(center)|| <= {gnorm:.6e}, so ||center - u*|| <= {gnorm / lam:.6e}")
    print(f"claimed radius {radius:.6e}")
    if ok:
        print("VERIFIED: ||grad L(center)|| / lambda <= radius")
        return 0
    print("FAILED: the gradient bound exceeds lambda * radius")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
