#!/usr/bin/env python3
"""An independent float64 NumPy implementation of the model and of GD and Adam, written from
docs/model.md, that retrains every GD and Adam run of an export from its W^(0) and data and compares
the final weights (and the objective at every checkpoint of the trace) with the crate's.

    adamgap run --steps 200 --export DIR
    python3 tools/reference_numpy.py DIR [--tol 1e-9]

Exit status 1 if a relative difference exceeds the tolerance. The relative difference of the final
weights is ||W_numpy - W_crate||_F / ||W_crate||_F (and the largest entry-wise difference over
max |W_crate| is printed too). Summation orders differ from the crate's, so the two agree to
rounding, not bit for bit.
"""
import argparse
import sys
from pathlib import Path

import numpy as np

from load_export import load, trace


class Model:
    """L(W) = (1/n) sum_i ell(y_i f(W, x_i)) + (lambda/2) ||W||_F^2 with ell(z) = log(1 + exp(-z)),
    f = F_{+1} - F_{-1}, F_j = c sum_r sum_p sigma(<w_{j,r}, x_p>) (docs/model.md, Network and
    Objective). W has the paper's shape (2, m, d); X is the (n P') x d matrix of all patches."""

    def __init__(self, setting, X, y):
        model, data = setting["model"], setting["data"]
        self.X, self.XT, self.y = X, X.T.tocsr(), y
        self.n = len(y)
        self.P = data["patches"] + (data["feature_noise"] == "separate-patch")
        self.linear = model["activation"] == "linear"
        self.q = model["q"]
        self.lam = model["lambda"]
        self.mean_over_filters = model["mean_over_filters"]

    def sigma(self, z):
        return z if self.linear else np.maximum(z, 0.0) ** self.q

    def dsigma(self, z):
        if self.linear:
            return np.ones_like(z)
        return self.q * np.maximum(z, 0.0) ** (self.q - 1) if self.q > 1 else (z > 0).astype(float)

    def loss_and_grad(self, W):
        """The loss (no decay) and the gradient of L (decay included), docs/model.md Gradient."""
        m, d = W.shape[1], W.shape[2]
        c = 1.0 / m if self.mean_over_filters else 1.0
        A = W.reshape(2 * m, d).T  # d x 2m, column j_index * m + r
        Z = self.X @ A  # (n P') x 2m
        S = self.sigma(Z)
        f = c * (S[:, :m].sum(axis=1) - S[:, m:].sum(axis=1)).reshape(self.n, self.P).sum(axis=1)
        z = self.y * f
        loss = np.mean(np.logaddexp(0.0, -z))
        a = -self.y * c / self.n / (1.0 + np.exp(z))  # ell'(y f) y c / n, ell'(z) = -1/(1+e^z)
        j = np.concatenate([np.ones(m), -np.ones(m)])
        C = np.repeat(a, self.P)[:, None] * j[None, :] * self.dsigma(Z)
        G = self.XT @ C  # d x 2m
        grad = G.T.reshape(2, m, d) + self.lam * W
        return loss, grad



class GD:
    """docs/model.md, GD: w <- w - eta g, g = grad L (decay included)."""

    def __init__(self, eta):
        self.eta = eta

    def step(self, W, g, t):
        return W - self.eta * g


class Adam:
    """docs/model.md, Adam: moments of g = grad L (coupled decay), t from 1, bias correction
    optional, eps added outside the square root."""

    def __init__(self, eta, b1, b2, eps, bias_correction):
        self.eta, self.b1, self.b2, self.eps, self.bc = eta, b1, b2, eps, bias_correction
        self.m = self.v = 0.0

    def step(self, W, g, t):
        self.m = self.b1 * self.m + (1 - self.b1) * g
        self.v = self.b2 * self.v + (1 - self.b2) * g * g
        if self.bc:
            mhat, vhat = self.m / (1 - self.b1**t), self.v / (1 - self.b2**t)
        else:
            mhat, vhat = self.m, self.v
        return W - self.eta * mhat / (np.sqrt(vhat) + self.eps)


def train(model, opt, W, steps, checkpoints):
    """W^(steps) from W = W^(0), and the objective at every step in `checkpoints`."""
    objectives = {}
    for t in range(steps + 1):
        loss, g = model.loss_and_grad(W)
        if t in checkpoints:
            objectives[t] = loss + 0.5 * model.lam * np.sum(W * W)
        if t == steps:
            return W, objectives
        W = opt.step(W, g, t + 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder")
    ap.add_argument("--tol", type=float, default=1e-9)
    args = ap.parse_args()
    manifest, data, w0 = load(args.folder)
    setting = manifest["setting"]
    X, y = data["train"]
    model = Model(setting, X, y)
    worst = 0.0
    for run in manifest["optimizers"]:
        kind, h, steps = run["kind"], run["hyperparameters"], run["steps"]
        if kind not in ("gd", "adam") or run["stop_reason"] == "diverged":
            print(f"{run['name']}: skipped (the reference implements GD and Adam runs that did not diverge)")
            continue
        rows = trace(args.folder, run["name"])
        opt = GD(h["eta"]) if kind == "gd" else Adam(h["eta"], h["b1"], h["b2"], h["eps"], h["bias_correction"])
        W, objectives = train(model, opt, w0.copy(), steps, {int(r["step"]) for r in rows})
        obj_rel = max(abs(objectives[int(r["step"])] - r["objective"]) / abs(r["objective"]) for r in rows)
        ref = np.load(Path(args.folder) / run["weights"])
        rel = np.linalg.norm(W - ref) / np.linalg.norm(ref)
        ent = np.max(np.abs(W - ref)) / np.max(np.abs(ref))
        worst = max(worst, rel, ent, obj_rel)
        print(f"{run['name']}: {steps} steps, ||W_numpy - W_crate||_F / ||W_crate||_F = {rel:.2e}, "
              f"max entry diff / max |W| = {ent:.2e}, objective at the {len(rows)} checkpoints: "
              f"largest rel. diff {obj_rel:.2e}")
    ok = worst <= args.tol
    print(f"largest relative difference {worst:.2e}: {'within' if ok else 'OUTSIDE'} {args.tol:g}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
