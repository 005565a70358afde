"""High-precision reference values of the GGom/NBD (Bemmaor & Glady 2012).

Writes ``tests/fixtures/ggom_mpmath.json`` for ``tests/ggom_nbd.rs``:

- ``integral``: ln I(t_x, T) = ln ∫_{t_x}^{T} e^{by} (α+y)^{−(r+x)} (β + e^{by} − 1)^{−(s+1)} dy,
  the death integral of the likelihood, at 64 points: CDNOW-like parameters, large x
  (up to 5000) and T (up to 2000), b near 0 (1e-8) and bT in the hundreds, β far
  below and far above 1;
- ``loglik``: ln L of the same points (ln C + ln(E₁ + b s I));
- ``predictions``: P(alive | x, t_x, T), E[Y(t) | x, t_x, T], E[X(t)] and P(X(t) = n) at
  a few points (the formulas of the module documentation of ``src/models/ggom_nbd.rs``).

Every integral is computed twice, by mpmath's tanh-sinh and Gauss–Legendre rules on 40
sub-intervals at 40 digits, and the script stops if the two differ beyond 1e-20
(relative). Run once from the repository root::

    python scripts/make_ggom_fixture.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import mpmath as mp

mp.mp.dps = 40


def quad(f, a, b, power=0.0, alpha=1.0, rate=0.0, scale=None):
    """∫_a^b f by two rules, checked against each other.

    The pieces are uniform in y and in ln(alpha + y), fine enough that neither a factor
    (alpha + y)^-power nor e^{-rate y} falls by more than e^3 across one, and graded
    geometrically from ``a`` at the integrand's own ``scale`` there (the width of a
    near-singularity such as (beta + b y)^-(s+1) with beta/b small). The integrand is
    divided by its largest value at those points, because mpmath's convergence test is
    absolute.
    """
    a, b = mp.mpf(a), mp.mpf(b)
    n_y = int(min(3000, max(40, mp.ceil(rate * (b - a) / 3))))
    pts = {a + (b - a) * k / n_y for k in range(n_y + 1)}
    va, vb = mp.log(alpha + a), mp.log(alpha + b)
    n_v = int(min(3000, max(40, mp.ceil(power * (vb - va) / 3))))
    pts |= {mp.exp(va + (vb - va) * k / n_v) - alpha for k in range(1, n_v)}
    if scale is not None:
        width = mp.mpf(scale) / 8
        while width < b - a:
            pts.add(a + width)
            width *= mp.mpf(1.5)
    pts = sorted(p for p in pts if a <= p <= b)
    ref = max(f(p) for p in pts[1:-1] + [(pts[0] + pts[1]) / 2])

    def g(y):
        return f(y) / ref

    one = mp.quad(g, pts, method="tanh-sinh")
    two = mp.quad(g, pts, method="gauss-legendre")
    if abs(one - two) > mp.mpf("1e-20") * abs(one):
        raise RuntimeError(f"quadrature disagrees: {one} vs {two}")
    return one * ref


def local_scale(alpha, b, beta, y):
    """min(alpha + y, D(y)/D'(y)): the width of the integrand's features at y."""
    alpha, b, beta, y = map(mp.mpf, (alpha, b, beta, y))
    d = beta + mp.expm1(b * y)
    return min(alpha + y, d / (b * mp.exp(b * y)))


def integral(r, alpha, b, s, beta, x, tx, T):
    r, alpha, b, s, beta, x = map(mp.mpf, (r, alpha, b, s, beta, x))
    return quad(
        lambda y: mp.exp(b * y) * (alpha + y) ** (-(r + x)) * (beta + mp.expm1(b * y)) ** (-(s + 1)),
        tx,
        T,
        power=float(r + x),
        alpha=float(alpha),
        rate=float(s * b),
        scale=local_scale(alpha, b, beta, tx),
    )


def loglik(r, alpha, b, s, beta, x, tx, T):
    rm, am, bm, sm, betam, xm, Tm = map(mp.mpf, (r, alpha, b, s, beta, x, T))
    c = mp.loggamma(rm + xm) - mp.loggamma(rm) + rm * mp.log(am) + sm * mp.log(betam)
    alive = (am + Tm) ** (-(rm + xm)) * (betam + mp.expm1(bm * Tm)) ** (-sm)
    dead = bm * sm * integral(r, alpha, b, s, beta, x, tx, T) if tx < T else mp.mpf(0)
    return c + mp.log(alive + dead), alive, dead


def time_alive(b, s, q, t):
    b, s, q = map(mp.mpf, (b, s, q))
    return quad(
        lambda u: (1 + q * mp.expm1(b * u)) ** (-s), 0, t, rate=float(s * b), scale=1 / (b * q)
    )


def predictions(r, alpha, b, s, beta, x, tx, T, t, n):
    _, alive, dead = loglik(r, alpha, b, s, beta, x, tx, T)
    p_alive = alive / (alive + dead)
    bm, betam, Tm = mp.mpf(b), mp.mpf(beta), mp.mpf(T)
    q = mp.exp(bm * Tm) / (betam + mp.expm1(bm * Tm))
    cond = p_alive * (mp.mpf(r) + x) / (mp.mpf(alpha) + T) * time_alive(b, s, q, t)
    expected = mp.mpf(r) / alpha * time_alive(b, s, 1 / betam, t)
    rm, am, sm, nm, tm = map(mp.mpf, (r, alpha, s, n, t))
    nb = mp.exp(mp.loggamma(rm + nm) - mp.loggamma(rm) - mp.loggamma(nm + 1))

    def poisson(tau):
        return (am / (am + tau)) ** rm * (tau / (am + tau)) ** nm

    def density(tau):
        return bm * sm * betam**sm * mp.exp(bm * tau) * (betam + mp.expm1(bm * tau)) ** (-(sm + 1))

    survival = (betam / (betam + mp.expm1(bm * tm))) ** sm
    pmf = nb * (poisson(tm) * survival + quad(
        lambda tau: poisson(tau) * density(tau), 0, t, power=float(r + n), alpha=float(alpha),
        rate=float(s * b), scale=local_scale(alpha, b, beta, 0)
    ))
    return {
        "probability_alive": float(p_alive),
        "conditional_expected_purchases": float(cond),
        "expected_purchases": float(expected),
        "probability_of_purchases": float(pmf),
    }


def points():
    """(r, alpha, b, s, beta, x, t_x, T): hand-picked extremes, then a seeded spread."""
    fixed = [
        (0.553, 10.578, 0.0002, 0.603, 0.0026, 2, 30.43, 38.86),
        (0.553, 10.578, 0.0002, 0.603, 0.0026, 0, 0.0, 38.86),
        (0.553, 10.57, 9.98187005215e-06, 0.606, 1.16483112539e-04, 1, 1.0, 39.0),
        (0.553, 10.57, 1e-8, 0.606, 1.1669e-07, 5, 12.0, 39.0),
        (0.553, 10.57, 1e-8, 0.606, 1.1669e-07, 0, 0.0, 39.0),
        (0.8, 2.0, 0.5, 0.9, 40.0, 300, 10.0, 60.0),
        (0.8, 2.0, 0.5, 0.9, 40.0, 5000, 1.0, 2000.0),
        (2.0, 50.0, 1.0, 0.4, 1e-4, 0, 0.0, 400.0),
        (2.0, 50.0, 3.0, 0.4, 1e6, 10, 5.0, 300.0),
        (1.0, 1.0, 0.01, 2.0, 0.01, 1000, 100.0, 1500.0),
        (0.2, 100.0, 0.05, 5.0, 100.0, 3, 0.5, 1.0),
        (0.2, 100.0, 0.05, 5.0, 100.0, 3, 0.999, 1.0),
        (50.0, 0.5, 0.001, 0.1, 0.5, 2000, 30.0, 500.0),
        (0.5, 10.0, 2.0, 1.0, 1e-3, 1, 0.0, 50.0),
    ]
    rng = random.Random(16)
    spread = []
    while len(fixed) + len(spread) < 64:
        r = 10 ** rng.uniform(-1, 1)
        alpha = 10 ** rng.uniform(-1, 2.5)
        b = 10 ** rng.uniform(-7, 0.3)
        s = 10 ** rng.uniform(-1, 1)
        beta = 10 ** rng.uniform(-5, 4)
        T = 10 ** rng.uniform(-0.5, 3)
        x = rng.choice([0, 1, 2, 5, 20, 100, 700, 3000])
        tx = 0.0 if x == 0 else T * rng.uniform(0, 1)
        spread.append((r, alpha, b, s, beta, x, round(tx, 6), round(T, 6)))
    return fixed + spread


def main() -> None:
    out = {"integral": [], "loglik": [], "predictions": []}
    for p in points():
        r, alpha, b, s, beta, x, tx, T = p
        if tx < T:
            out["integral"].append(
                {"params": [r, alpha, b, s, beta], "history": [x, tx, T], "ln_integral": float(mp.log(integral(*p)))}
            )
        out["loglik"].append({"params": [r, alpha, b, s, beta], "history": [x, tx, T], "loglik": float(loglik(*p)[0])})
    pred_points = [
        ((0.553, 10.578, 0.0002, 0.603, 0.0026), (2, 30.43, 38.86), 39.0, 0),
        ((0.553, 10.578, 0.0002, 0.603, 0.0026), (0, 0.0, 38.86), 39.0, 1),
        ((0.55, 10.6, 0.05, 0.6, 0.5), (2, 30.43, 38.86), 20.0, 2),
        ((0.55, 10.6, 0.05, 0.6, 0.5), (7, 38.0, 38.86), 52.0, 5),
        ((1.2, 4.0, 0.3, 0.8, 5.0), (0, 0.0, 12.0), 10.0, 0),
        ((1.2, 4.0, 0.3, 0.8, 5.0), (40, 11.0, 12.0), 100.0, 30),
        ((0.8, 2.0, 0.02, 2.5, 0.05), (3, 1.0, 80.0), 5.0, 1),
        ((0.8, 2.0, 0.02, 2.5, 0.05), (300, 79.0, 80.0), 300.0, 200),
    ]
    for params, (x, tx, T), t, n in pred_points:
        values = predictions(*params, x, tx, T, t, n)
        out["predictions"].append({"params": list(params), "history": [x, tx, T], "t": t, "n": n, **values})
    path = Path(__file__).resolve().parent.parent / "tests/fixtures/ggom_mpmath.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {len(out['integral'])} integrals, {len(out['loglik'])} log-likelihoods, "
          f"{len(out['predictions'])} prediction points to {path}")


if __name__ == "__main__":
    main()
