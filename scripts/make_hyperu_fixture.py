"""High-precision reference values for retentionkit's U(a, a; z) and Pareto/NBD DERT.

Writes, next to the Rust integration tests:

- ``tests/fixtures/hyperu_mpmath.csv``: a, z, ln U(a, a; z), where U is the
  confluent hypergeometric function of the second kind (Tricomi's U, Fader,
  Hardie & Lee's Psi). Log scale, since U overflows doubles for large a and
  small z. Each value is computed twice, as ``mpmath.hyperu(a, a, z)`` and as
  ``exp(z) * gammainc(1 - a, z)`` (the identity U(a, a; z) = e^z Gamma(1 - a, z),
  DLMF 8.5.3, that the Rust code uses), and the script stops if they differ.
- ``tests/fixtures/dert_pnbd_mpmath.csv``: r, alpha, s, beta, x, t_x, T, delta,
  ln DERT for the Pareto/NBD, computed literally from eq. (2) of Fader, Hardie &
  Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis",
  JMR 42(4):
  DERT = alpha^r beta^s delta^(s-1) Gamma(r+x+1) U(s, s; delta (beta+T))
  / (Gamma(r) (alpha+T)^(r+x+1) L(r, alpha, s, beta | x, t_x, T)),
  with L the Pareto/NBD likelihood (Fader & Hardie 2005 note, eq. (22)).

Inputs are doubles (printed with ``repr``) and converted exactly to mpmath numbers;
values are computed with 50 significant digits. Deterministic: run
``python scripts/make_hyperu_fixture.py`` from the repository root (needs
``pip install mpmath``).
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import mpmath as mp

mp.mp.dps = 50
OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def ln_hyperu_equal(a: float, z: float) -> str:
    a_, z_ = mp.mpf(a), mp.mpf(z)
    direct = mp.hyperu(a_, a_, z_)
    via_gamma = mp.exp(z_) * mp.gammainc(1 - a_, z_)
    if abs(direct / via_gamma - 1) > mp.mpf(10) ** -35:
        raise SystemExit(f"U({a}, {a}; {z}): hyperu {direct} but e^z Gamma(1-a, z) {via_gamma}")
    return mp.nstr(mp.log(via_gamma), 25, strip_zeros=False)


def hyperu_points(rng: random.Random) -> list[tuple[float, float]]:
    special_a = [
        1e-6,
        1e-3,
        0.05,
        0.5,
        0.606,
        1.0 - 1e-9,
        1.0,
        1.0 + 1e-9,
        1.0 + 1e-6,
        1.4999,
        1.5,
        1.5001,
        2.0,
        2.0 + 1e-10,
        2.5,
        3.0,
        7.0,
        12.5,
        40.0,
        150.0,
        1000.0,
    ]
    special_z = [
        1e-12, 1e-8, 1e-4, 0.01, 0.1, 0.5, 0.999, 1.0, 1.5, 2.0, 2.5, 4.0, 10.0, 35.0,
        700.0, 800.0, 1e4,
    ]  # fmt: skip
    pts = [(a, z) for a in special_a for z in special_z]
    for _ in range(250):
        a = 10 ** rng.uniform(-3, 2.5)
        z = 10 ** rng.uniform(-10, 4)
        pts.append((a, z))
    # The region of DERT: s in the Pareto/NBD's range, z = delta (beta + T).
    for _ in range(150):
        a = 10 ** rng.uniform(-1.5, 1.2)
        z = 10 ** rng.uniform(-4, 1)
        pts.append((a, z))
    return pts


def pnbd_likelihood(r, alpha, s, beta, x, t_x, T):
    # Fader & Hardie (2005 note), eq. (22), both branches; mpmath's precision
    # absorbs the cancellation of the difference.
    if alpha >= beta:
        big, b = alpha, s + 1
    else:
        big, b = beta, r + x
    a = r + s + x

    def term(u):
        zz = abs(alpha - beta) / (big + u)
        return mp.hyp2f1(a, b, a + 1, zz, maxterms=10**7) / (big + u) ** a

    a0 = term(t_x) - term(T)
    c = mp.exp(mp.loggamma(r + x) - mp.loggamma(r)) * alpha**r * beta**s
    first = 1 / ((alpha + T) ** (r + x) * (beta + T) ** s)
    return c * (first + s / (r + s + x) * a0)


def ln_dert(r, alpha, s, beta, x, t_x, T, delta) -> str:
    r, alpha, s, beta, x, t_x, T, delta = map(mp.mpf, (r, alpha, s, beta, x, t_x, T, delta))
    likelihood = pnbd_likelihood(r, alpha, s, beta, x, t_x, T)
    numerator = (
        alpha**r
        * beta**s
        * delta ** (s - 1)
        * mp.gamma(r + x + 1)
        * mp.hyperu(s, s, delta * (beta + T))
    )
    denominator = mp.gamma(r) * (alpha + T) ** (r + x + 1) * likelihood
    return mp.nstr(mp.log(numerator / denominator), 25, strip_zeros=False)


def dert_points(rng: random.Random):
    cdnow = (0.553, 10.578, 0.606, 11.669)
    # 15% a year, continuously compounded, in weeks (FHL 2005 use 15%).
    weekly = 0.1397619423751587 / 52
    pts = [
        (*cdnow, 0, 0.0, 38.86, weekly),
        (*cdnow, 2, 30.43, 38.86, weekly),
        (*cdnow, 29, 34.0, 38.0, weekly),
        (*cdnow, 2, 30.43, 38.86, 0.1),
        (*cdnow, 2, 30.43, 38.86, 1e-6),
        (*cdnow, 200, 38.0, 38.86, weekly),
        # s = 1 exactly and near it, s > 1, alpha == beta.
        (0.7, 12.0, 1.0, 12.0, 3, 10.0, 40.0, weekly),
        (0.7, 12.0, 1.0 + 1e-9, 15.0, 3, 10.0, 40.0, weekly),
        (0.7, 12.0, 2.5, 30.0, 3, 39.0, 40.0, 0.01),
        (1.3, 3.0, 0.2, 40.0, 0, 0.0, 5.0, 0.002),
    ]
    for _ in range(50):
        r = 10 ** rng.uniform(-1, 1)
        s = 10 ** rng.uniform(-1, 0.8)
        alpha = 10 ** rng.uniform(0, 2.5)
        beta = 10 ** rng.uniform(0, 2.5)
        x = rng.choice([0, 1, 3, 20, 150])
        T = 10 ** rng.uniform(0.5, 3)
        t_x = 0.0 if x == 0 else T * rng.random()
        delta = 10 ** rng.uniform(-4.5, -0.5)
        pts.append((r, alpha, s, beta, x, t_x, T, delta))
    return pts


def main() -> None:
    rng = random.Random(20240905)
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / "hyperu_mpmath.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["a", "z", "ln_u"])
        for a, z in hyperu_points(rng):
            w.writerow([repr(a), repr(z), ln_hyperu_equal(a, z)])
    with open(OUT / "dert_pnbd_mpmath.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["r", "alpha", "s", "beta", "x", "t_x", "T", "delta", "ln_dert"])
        for p in dert_points(rng):
            w.writerow([repr(float(v)) for v in p] + [ln_dert(*p)])


if __name__ == "__main__":
    main()
