"""High-precision reference values for retentionkit's ₂F₁ and Pareto/NBD likelihood.

Writes, next to the Rust integration tests:

- ``tests/fixtures/hyp2f1_mpmath.csv``: a, b, c, z, ln|₂F₁(a, b; c; z)|, sign
  (log scale, since values with parameters in the thousands overflow doubles);
- ``tests/fixtures/pnbd_loglik_mpmath.csv``: r, alpha, s, beta, x, t_x, T, ln L
  for the Pareto/NBD (Fader & Hardie 2005 note, eq. (22)), including customers
  for which ``lifetimes`` returns NaN or inf.

Inputs are doubles (printed with ``repr``) and are converted exactly to mpmath
numbers; values are computed with 50 significant digits. Deterministic: run
``python scripts/make_hyp2f1_fixture.py`` from the repository root (needs
``pip install mpmath``).
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import mpmath as mp

mp.mp.dps = 50
OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def log_f(a: float, b: float, c: float, z: float) -> tuple[str, int]:
    v = mp.hyp2f1(mp.mpf(a), mp.mpf(b), mp.mpf(c), mp.mpf(z), maxterms=10**7)
    sign = 1 if v > 0 else (-1 if v < 0 else 0)
    return mp.nstr(mp.log(abs(v)), 25, strip_zeros=False), sign


def hyp2f1_points(rng: random.Random) -> list[tuple[float, float, float, float]]:
    pts: list[tuple[float, float, float, float]] = []
    zs_pos = [0.0, 1e-8, 0.01, 0.2, 0.5, 0.75, 0.9, 0.97, 0.99, 0.999, 0.9999, 0.99999, 0.999999]
    zs_neg = [-1e-6, -0.3, -1.0, -5.0, -80.0, -3000.0, -1e5, -1e6]
    # The Pareto/NBD likelihood: a = r+s+x, b = s+1 or r+x, c = a+1.
    for _ in range(140):
        r = 10 ** rng.uniform(-2, 1.3)
        s = 10 ** rng.uniform(-2, 1.3)
        x = rng.choice([0, 0, 1, 2, 7, 40, 300, 2500, 10000])
        b = rng.choice([s + 1, r + x])
        a = r + s + x
        z = rng.choice([*zs_pos, rng.random()])
        pts.append((a, b, a + 1.0, z))
    # The same family at negative arguments (the other branch of eq. (22)).
    for _ in range(40):
        r = 10 ** rng.uniform(-2, 1.3)
        s = 10 ** rng.uniform(-2, 1.3)
        x = rng.choice([0, 1, 5, 60, 3000])
        a = r + s + x
        pts.append((a, s + 1.0, a + 1.0, rng.choice(zs_neg)))
    # General positive parameters up to 1e4 on [0, 1).
    for _ in range(120):
        a, b, c = (10 ** rng.uniform(-1.5, 4) for _ in range(3))
        pts.append((a, b, c, rng.choice([*zs_pos, rng.random()])))
    # Negative z where a Pfaff form has positive terms: c > min(a, b).
    for _ in range(60):
        a, b = (10 ** rng.uniform(-1.5, 3.5) for _ in range(2))
        c = min(a, b) + 10 ** rng.uniform(-1.5, 3.5)
        pts.append((a, b, c, rng.choice([*zs_neg, -rng.random()])))
    # c - a - b an integer (degenerate 1 - z formulas), and close to one.
    for m in [-3, -2, -1, 0, 1, 2, 3, 5]:
        for z in [0.97, 0.999, 0.99999, 0.999999]:
            a = rng.uniform(0.1, 3.0)
            b = rng.uniform(0.1, 3.0)
            pts.append((a, b, a + b + m, z))
            pts.append((a, b, a + b + m + 1e-3, z))
    return pts


def pnbd_loglik(r, alpha, s, beta, x, t_x, T) -> str:
    r, alpha, s, beta, x, t_x, T = map(mp.mpf, (r, alpha, s, beta, x, t_x, T))
    # Fader & Hardie (2005 note), eq. (22), with the branch for alpha >= beta
    # and its mirror image; mpmath's precision absorbs the cancellation.
    if alpha >= beta:
        big, b = alpha, s + 1
    else:
        big, b = beta, r + x
    a = r + s + x

    def term(u):
        zz = abs(alpha - beta) / (big + u)
        return mp.hyp2f1(a, b, a + 1, zz, maxterms=10**7) / (big + u) ** a

    a0 = term(t_x) - term(T)
    log_c = mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(alpha) + s * mp.log(beta)
    first = 1 / ((alpha + T) ** (r + x) * (beta + T) ** s)
    return mp.nstr(log_c + mp.log(first + s / (r + s + x) * a0), 25, strip_zeros=False)


def pnbd_points(rng: random.Random):
    pts = [
        # Fader & Hardie's CDNOW estimates and typical customers.
        (0.553, 10.578, 0.606, 11.669, 0, 0.0, 38.86),
        (0.553, 10.578, 0.606, 11.669, 2, 30.43, 38.86),
        (0.553, 10.578, 0.606, 11.669, 29, 34.0, 38.0),
        # alpha == beta and alpha close to beta.
        (0.7, 12.0, 0.9, 12.0, 3, 10.0, 40.0),
        (0.7, 12.0, 0.9, 12.0 * (1 + 1e-12), 3, 10.0, 40.0),
        # Where lifetimes' hyp2f1-based log-likelihood overflows.
        (0.553, 10.578, 0.606, 11.669, 3000, 29000.0, 30000.0),
        (0.553, 10.578, 0.606, 11.669, 5000, 39990.0, 40000.0),
        (2.0, 0.5, 0.3, 500.0, 8000, 19999.0, 20000.0),
        (0.05, 300.0, 5.0, 0.2, 1500, 1.0, 52000.0),
        (1.0, 1.0, 1.0, 1.0, 12000, 50000.0, 50000.0),
        # Extreme ratios alpha/beta: the argument of 2F1 near 1.
        (0.5, 1e5, 0.6, 1.0, 0, 0.0, 10.0),
        (0.5, 1.0, 0.6, 1e5, 0, 0.0, 10.0),
        (0.5, 1.0, 0.6, 1e6, 2, 0.01, 10.0),
    ]
    for _ in range(60):
        r = 10 ** rng.uniform(-1.5, 1.5)
        s = 10 ** rng.uniform(-1.5, 1.5)
        alpha = 10 ** rng.uniform(-1, 3)
        beta = 10 ** rng.uniform(-1, 3)
        x = rng.choice([0, 1, 3, 20, 400, 4000])
        T = 10 ** rng.uniform(0, 4.5)
        t_x = 0.0 if x == 0 else T * rng.random()
        pts.append((r, alpha, s, beta, x, t_x, T))
    return pts


def main() -> None:
    rng = random.Random(20240611)
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / "hyp2f1_mpmath.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["a", "b", "c", "z", "ln_abs", "sign"])
        for a, b, c, z in hyp2f1_points(rng):
            ln_abs, sign = log_f(a, b, c, z)
            w.writerow([repr(a), repr(b), repr(c), repr(z), ln_abs, sign])
    with open(OUT / "pnbd_loglik_mpmath.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["r", "alpha", "s", "beta", "x", "t_x", "T", "log_lik"])
        for p in pnbd_points(rng):
            w.writerow([repr(float(v)) for v in p] + [pnbd_loglik(*p)])


if __name__ == "__main__":
    main()
