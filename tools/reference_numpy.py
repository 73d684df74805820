#!/usr/bin/env python3
"""An independent float64 NumPy implementation of the model and of GD, Adam and AdamW, written from
docs/model.md, that retrains every GD, Adam and AdamW run of an export from its W^(0) and data and
compares the final weights (and the objective at every checkpoint of the trace) with the crate's.
A minibatch export (docs/model.md, Minibatches) is replayed on its batches, batches.npy: step t
takes the mean loss gradient over row t - 1's samples (-1 entries are padding), the checkpoints
the full-batch objective.

    adamgap run --steps 200 --export DIR
    adamgap run --steps 200 --batch-size 2 --optimizers adam,adamw,gd --export DIR
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

    def loss_and_grad(self, W, batch=None):
        """The loss (no decay) and the loss gradient G (no decay), docs/model.md Gradient; over
        the samples `batch` (their mean, a sample listed twice counting twice) when given."""
        m, d = W.shape[1], W.shape[2]
        c = 1.0 / m if self.mean_over_filters else 1.0
        if batch is None:
            X, XT, y = self.X, self.XT, self.y
        else:
            rows = (np.asarray(batch)[:, None] * self.P + np.arange(self.P)[None, :]).ravel()
            X = self.X[rows]
            XT, y = X.T.tocsr(), self.y[batch]
        n = len(y)
        A = W.reshape(2 * m, d).T  # d x 2m, column j_index * m + r
        Z = X @ A  # (n P') x 2m
        S = self.sigma(Z)
        f = c * (S[:, :m].sum(axis=1) - S[:, m:].sum(axis=1)).reshape(n, self.P).sum(axis=1)
        z = y * f
        loss = np.mean(np.logaddexp(0.0, -z))
        a = -y * c / n / (1.0 + np.exp(z))  # ell'(y f) y c / n, ell'(z) = -1/(1+e^z)
        j = np.concatenate([np.ones(m), -np.ones(m)])
        C = np.repeat(a, self.P)[:, None] * j[None, :] * self.dsigma(Z)
        G = XT @ C  # d x 2m
        return loss, G.T.reshape(2, m, d)



class GD:
    """docs/model.md, GD: w <- w - eta g, g = G + lambda w (coupled decay)."""

    def __init__(self, eta, lam):
        self.eta, self.lam = eta, lam

    def step(self, W, G, t):
        return W - self.eta * (G + self.lam * W)


class Adam:
    """docs/model.md, Adam: moments of g = G + lambda w (coupled decay), t from 1, bias correction
    optional, eps added outside the square root; AdamW (decoupled): moments of g = G, and
    eta lambda w subtracted beside the step."""

    def __init__(self, eta, b1, b2, eps, bias_correction, lam, decoupled):
        self.eta, self.b1, self.b2, self.eps, self.bc = eta, b1, b2, eps, bias_correction
        self.lam, self.decoupled = lam, decoupled
        self.m = self.v = 0.0

    def step(self, W, G, t):
        g = G if self.decoupled else G + self.lam * W
        self.m = self.b1 * self.m + (1 - self.b1) * g
        self.v = self.b2 * self.v + (1 - self.b2) * g * g
        if self.bc:
            mhat, vhat = self.m / (1 - self.b1**t), self.v / (1 - self.b2**t)
        else:
            mhat, vhat = self.m, self.v
        decay = self.eta * self.lam * W if self.decoupled else 0.0
        return W - (self.eta * mhat / (np.sqrt(vhat) + self.eps) + decay)


def train(model, opt, W, steps, checkpoints, batches=None):
    """W^(steps) from W = W^(0), and the full-batch objective at every step in `checkpoints`; step
    t on the samples of batches[t - 1] (padding -1 removed) when given, else on all."""
    objectives = {}
    for t in range(steps + 1):
        if t in checkpoints:
            loss, _ = model.loss_and_grad(W)
            objectives[t] = loss + 0.5 * model.lam * np.sum(W * W)
        if t == steps:
            return W, objectives
        batch = None if batches is None else batches[t][batches[t] >= 0]
        _, G = model.loss_and_grad(W, batch)
        W = opt.step(W, G, t + 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder")
    ap.add_argument("--tol", type=float, default=1e-9)
    args = ap.parse_args()
    manifest, data, w0 = load(args.folder)
    setting = manifest["setting"]
    X, y = data["train"]
    model = Model(setting, X, y)
    batches = None
    if "batches" in manifest:
        b = manifest["batches"]
        batches = np.load(Path(args.folder) / b["file"])
        print(f"minibatches: B = {b['batch_size']}, {b['sampling']}, last batch {b['last_batch']}, "
              f"{b['steps_per_epoch']} steps per epoch, {batches.shape[0]} batches from {b['file']}")
    worst = 0.0
    for run in manifest["optimizers"]:
        kind, h, steps = run["kind"], run["hyperparameters"], run["steps"]
        if kind not in ("gd", "adam", "adamw") or run["stop_reason"] == "diverged":
            print(f"{run['name']}: skipped (the reference implements GD, Adam and AdamW runs that did not diverge)")
            continue
        rows = trace(args.folder, run["name"])
        lam = model.lam
        if kind == "gd":
            opt = GD(h["eta"], lam)
        else:
            opt = Adam(h["eta"], h["b1"], h["b2"], h["eps"], h["bias_correction"], lam, kind == "adamw")
        W, objectives = train(model, opt, w0.copy(), steps, {int(r["step"]) for r in rows}, batches)
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
