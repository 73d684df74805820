#!/usr/bin/env python3
"""The peer of the minibatch Adam step benchmark: a jitted JAX/optax minibatch Adam step of the paper's
network at the default setting (docs/model.md: d = 1000, n = 200, P = 2 patches, sparse noise with
s = 100, m = 20, polynomial ReLU q = 3, lambda = 1e-5 coupled into the gradient, Adam eta = 5e-5,
b1 = 0.9, b2 = 0.999, eps = 1e-8), timed on the CPU, then (unless --no-cargo) the crate's criterion
benchmark of the same step run right after it on the same machine, so the two are measured in one
run (docs/performance.md, "Minibatch step").

    pip install jax optax          # CPU wheels from PyPI
    python3 benches/jax_minibatch.py [--batch 2] [--steps 5000] [--cargo-filter minibatch]

Timing: one jitted function per step (forward, gradient of the batch's mean loss plus lambda W, the
optax Adam update), its result blocked on before the clock stops; the median over --repeats blocks of
--steps steps, after a warm-up that compiles it. The data are drawn with NumPy's PCG64 (the values do
not change the cost of a dense step); the batch of each step is the next B samples of a permutation.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

import numpy as np


def data(d, n, patches, s, sigma_p, alpha, rng):
    """Dense (n, P, d) patches: the signal patch y e_1, P - 1 noise patches with s Gaussian
    coordinates off e_1 and the feature noise -alpha y on e_1 in the first (the paper's layout)."""
    y = rng.choice([-1.0, 1.0], size=n)
    x = np.zeros((n, patches, d))
    x[:, 0, 0] = y
    for i in range(n):
        for p in range(1, patches):
            support = rng.choice(np.arange(1, d), size=s, replace=False)
            x[i, p, support] = rng.normal(0.0, sigma_p, size=s)
        x[i, 1, 0] = -alpha * y[i]
    return x, y


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5000, help="steps per timed block")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cargo-filter", default="minibatch", help="criterion filter of the crate's bench")
    ap.add_argument("--no-cargo", action="store_true", help="time the JAX step only")
    a = ap.parse_args()

    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    import jax.numpy as jnp
    import optax

    jax.config.update("jax_enable_x64", True)
    d, n, patches, s, m, q, lam = 1000, 200, 2, 100, 20, 3, 1e-5
    if not 1 <= a.batch <= n:
        sys.exit(f"--batch: {a.batch} is not in 1..={n}")
    rng = np.random.default_rng(1)
    x, y = data(d, n, patches, s, 0.1, 0.2, rng)
    w = jnp.asarray(rng.normal(0.0, 0.01, size=(2, m, d)))
    sign = jnp.array([1.0, -1.0])

    def loss(w, xb, yb):
        z = jnp.einsum("bpd,jrd->bpjr", xb, w)
        f = jnp.einsum("bpjr,j->b", jnp.maximum(z, 0.0) ** q, sign)
        return jnp.mean(jnp.logaddexp(0.0, -yb * f)) + 0.5 * lam * jnp.sum(w * w)

    opt = optax.adam(5e-5, b1=0.9, b2=0.999, eps=1e-8)

    @jax.jit
    def step(w, state, xb, yb):
        g = jax.grad(loss)(w, xb, yb)
        updates, state = opt.update(g, state, w)
        return optax.apply_updates(w, updates), state

    xs, ys = jnp.asarray(x), jnp.asarray(y)
    order = np.concatenate([rng.permutation(n) for _ in range(a.steps * a.batch // n + 2)])
    batches = [(xs[order[k:k + a.batch]], ys[order[k:k + a.batch]]) for k in range(0, a.steps * a.batch, a.batch)]
    state = opt.init(w)
    w, state = step(w, state, *batches[0])
    w.block_until_ready()
    per_step = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        for xb, yb in batches:
            w, state = step(w, state, xb, yb)
        w.block_until_ready()
        per_step.append((time.perf_counter() - t0) / len(batches))
    jax_us = float(np.median(per_step)) * 1e6
    out = {"jax": jax.__version__, "optax": optax.__version__, "batch": a.batch, "jax_step_us": jax_us,
           "jax_step_us_all": [t * 1e6 for t in per_step]}
    print(f"JAX/optax jitted minibatch Adam step, B = {a.batch}: {jax_us:.2f} us (median of {a.repeats} x {a.steps} steps)")
    if not a.no_cargo:
        cmd = ["cargo", "bench", "--bench", "bench_main", "--", a.cargo_filter]
        print("then:", " ".join(cmd), flush=True)
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=os.path.join(os.path.dirname(__file__), ".."))
        if r.returncode != 0:
            sys.exit(f"cargo bench failed:\n{r.stderr[-2000:]}")
        units = {"ns": 1e-3, "µs": 1.0, "us": 1.0, "ms": 1e3, "s": 1e6}
        rows = {}
        name = None
        for line in r.stdout.splitlines():
            head = re.match(r"^(\S+)\s*$", line) or re.match(r"^(\S+)\s+time:", line)
            if head and "/" in head.group(1):
                name = head.group(1)
            t = re.search(r"time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", line)
            if t and name:
                # An id ending `_x100/...` times 100 steps (amortized): per step here.
                per = re.search(r"_x(\d+)", name)
                rows[name] = float(t.group(1)) * units[t.group(2)] / (int(per.group(1)) if per else 1)
        out["crate_us"] = rows
        for k, v in rows.items():
            print(f"{k}: {v:.3f} us; JAX / this = {jax_us / v:.1f}x")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
