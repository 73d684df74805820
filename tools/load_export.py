#!/usr/bin/env python3
"""Load an `adamgap run --export DIR` folder (format adamgap-run-1, docs/interchange.md) with NumPy
and SciPy, recompute the objective L(W) at W^(0) and at one optimizer's final weights and its final
test error, and compare them with the manifest and the trace.

    python3 tools/load_export.py DIR [OPTIMIZER]      (OPTIMIZER defaults to adam)

The model (docs/model.md): F_j(W, x) = c sum_r sum_p sigma(<w_{j,r}, x_p>), f = F_{+1} - F_{-1},
L(W) = (1/n) sum_i log(1 + exp(-y_i f(W, x_i))) + (lambda/2) ||W||_F^2, an error is y f <= 0.
"""
import csv
import json
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp


def load(folder):
    """The manifest, the data sets {prefix: (X, y)} with X the (n P) x d CSR patch matrix, W^(0)."""
    folder = Path(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["format"] == "adamgap-run-1", manifest["format"]
    sh = manifest["shapes"]
    data = {}
    for prefix, n in (("train", sh["n"]), ("test", sh["test_size"])):
        arr = {k: np.load(folder / f"{prefix}_{k}.npy") for k in ("indptr", "indices", "data", "y")}
        X = sp.csr_matrix((arr["data"], arr["indices"], arr["indptr"]), shape=(n * sh["patches"], sh["d"]))
        data[prefix] = (X, arr["y"])
    return manifest, data, np.load(folder / "w_init.npy")


def outputs(W, X, setting):
    """f(W, x_i) for every sample; W has the paper's shape (2, m, d), X is (n P) x d."""
    model, m = setting["model"], W.shape[1]
    P = setting["data"]["patches"] + (setting["data"]["feature_noise"] == "separate-patch")
    Z = X @ W.reshape(2 * m, -1).T  # (n P) x 2m pre-activations
    S = Z if model["activation"] == "linear" else np.maximum(Z, 0.0) ** model["q"]
    c = 1.0 / m if model["mean_over_filters"] else 1.0
    return c * (S[:, :m].sum(axis=1) - S[:, m:].sum(axis=1)).reshape(-1, P).sum(axis=1)


def objective(W, X, y, setting):
    f = outputs(W, X, setting)
    loss = np.mean(np.logaddexp(0.0, -y * f))
    return loss + 0.5 * setting["model"]["lambda"] * np.sum(W * W)


def error(W, X, y, setting):
    return np.mean(y * outputs(W, X, setting) <= 0.0)


def trace(folder, name):
    with open(Path(folder) / f"trace_{name}.csv") as fh:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def main():
    folder, name = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "adam")
    manifest, data, w0 = load(folder)
    setting, (X, y), (Xt, yt) = manifest["setting"], data["train"], data["test"]
    run = next(o for o in manifest["optimizers"] if o["name"] == name)
    w = np.load(Path(folder) / run["weights"])
    tr = trace(folder, name)
    print(f"{folder}: d={X.shape[1]} n={len(y)} test={len(yt)} P={X.shape[0] // len(y)} m={w0.shape[1]}; "
          f"{name}: {run['steps']} steps, stop {run['stop_reason']}, precision {run['precision']}")
    assert tr[-1]["step"] == run["steps"], "the last trace row is the last step"
    rows = [("objective at W^(0)", objective(w0, X, y, setting), tr[0]["objective"]),
            (f"objective at W_{name}", objective(w, X, y, setting), tr[-1]["objective"]),
            (f"test error of W_{name}", error(w, Xt, yt, setting), tr[-1]["test_error"])]
    for label, ours, theirs in rows:
        rel = abs(ours - theirs) / max(abs(theirs), 1e-300)
        print(f"{label:28} numpy {ours:.17g}  trace {theirs:.17g}  rel. diff {rel:.1e}")
        assert rel <= 1e-12, label


if __name__ == "__main__":
    main()
