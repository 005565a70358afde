"""High-precision reference grid for the BG/NBD, MBG/NBD and Gamma-Gamma (issue 12).

Writes ``tests/fixtures/mpmath_grid_bg.json`` for ``tests/python/test_mpmath_grid_bg.py``,
the companion of ``scripts/make_mpmath_grid_other.py`` (same JSON shape): points spread
over the whole box a fit can return (each parameter log-uniform in [1e-3, 1e7], plus
the corners; histories with x up to 1e5, T up to 1e6; horizons up to 1e4), and for
each point every prediction of the model, evaluated with mpmath at 40 digits from the
models' stories, derived here independently of the package's code (no 2F1 series):

BG/NBD (Fader, Hardie & Lee 2005): while alive a customer buys as a Poisson process
    with rate λ ~ Gamma(r, α) and after each repeat purchase drops out with
    probability p ~ Beta(a, b). Given (λ, p), E[X(t)] = (1 − e^{−λpt})/p, so
    E[X(t)] = E_p[(1 − (α/(α+pt))^r)/p], a 1-D integral over p ~ Beta(a, b).
    The likelihood of (x, t_x, T) has two terms, alive at T and gone after the x-th
    purchase at t_x,
        A = B(a, b+x)/B(a, b) · Γ(r+x)αʳ/(Γ(r)(α+T)^{r+x}),
        D = 1{x>0} B(a+1, b+x−1)/B(a, b) · Γ(r+x)αʳ/(Γ(r)(α+t_x)^{r+x}),
    P(alive) = A/(A+D). Given alive at T, λ ~ Gamma(r+x, α+T) and p ~ Beta(a, b+x)
    independently, and from T on the customer is a new one with those parameters:
        E[Y(t) | ·] = P(alive) · E_p[(1 − ((α+T)/(α+T+pt))^{r+x})/p],
        DERT(δ) = P(alive) · E_{λ,p}[λ/(δ+pλ)]        (continuous discounting),
    where E_λ[λ/(δ+pλ)] = (R/p) e^z E_{R+1}(z), z = (α+T)δ/p, R = r+x (the λ
    integral of ∫_0^∞ λ e^{−u(δ+pλ)} du; E_n is the generalised exponential integral).
    P(X(t)=n) = B(a, b+n)/B(a, b) NB_t(n) + 1{n>0} B(a+1, b+n−1)/B(a, b) P(N_t ≥ n),
    N_t ~ NB with NB_t(j) = Γ(r+j)/(Γ(r) j!) (α/(α+t))^r (t/(α+t))^j (closed forms:
    Beta moments of (1−p)^n and p(1−p)^{n−1}).
MBG/NBD (Batislam, Denizel & Filiztekin 2007): one more drop-out opportunity, at the
    first purchase. E[X(t)] = E_p[(1−p)(1 − (α/(α+pt))^r)/p];
        A = B(a, b+x+1)/B(a, b) · Γ(r+x)αʳ/(Γ(r)(α+T)^{r+x}),
        D = B(a+1, b+x)/B(a, b) · Γ(r+x)αʳ/(Γ(r)(α+t_x)^{r+x})      (also for x = 0);
    given alive p ~ Beta(a, b+x+1), and the conditional expectation and DERT are the
    BG/NBD's with that posterior;
    P(X(t)=n) = B(a, b+n+1)/B(a, b) NB_t(n) + B(a+1, b+n)/B(a, b) P(N_t ≥ n).
Gamma-Gamma (Fader & Hardie 2013): given ν the mean m_x of x transactions is
    Gamma(px, νx), ν ~ Gamma(q, v); the posterior of ν is Gamma(q+px, v+x m_x), so
    E[M | x, m_x] = p E[1/ν | ·] = p(v + x m_x)/(px + q − 1) (finite when px+q > 1;
    null in the fixture where it is infinite), E[M] = pv/(q−1), and the density of
    m_x is Γ(px+q)/(Γ(px)Γ(q)) v^q m_x^{px−1} x^{px}/(v + x m_x)^{px+q}.

The integrals over p ~ Beta(A, B) are taken in the logit z = ln(p/(1−p)), where
the Beta density is p^A (1−p)^B: smooth at the scale of its peak for any A, B in
the box. The breakpoints are where the log-integrand has fallen by 0.5, 2, 8, 32,
100 and 160 from its maximum on each side (found by bisection), so the quadrature
sees the peak whether it is 1e-4 wide (a = b = 1e7) or 1e5 wide (a = 1e-3), and
nothing beyond e^{-160}. The work per point is capped (tanh-sinh degree 8); a
value whose quadrature error estimate exceeds 1e-15 relative is left out of the
fixture (and reported). Cross-checks before the run: E[X(t)] of both models at
moderate points against mpmath's 2F1 forms (FHL 2005 eq. (7) and its MBG/NBD
analogue), and e^z E_n(z) against a direct quadrature of ∫_0^∞ e^{−zv}(1+v)^{−n} dv.

Run from the repository root (11 minutes on a busy two-core machine, two processes)::

    nice python scripts/make_mpmath_grid_bg.py
"""

from __future__ import annotations

import json
import math
import multiprocessing
import random
import sys
import time
from pathlib import Path
from typing import Any

import mpmath as mp

DPS = 40
OUT = Path(__file__).resolve().parent.parent / "tests/fixtures/mpmath_grid_bg.json"
POINTS = 60
QUAD_RTOL = mp.mpf("1e-15")
LEVELS = (0.5, 2, 8, 32, 100, 160)


def log_uniform(rng: random.Random, lo: float, hi: float) -> float:
    return float(f"{10 ** rng.uniform(math.log10(lo), math.log10(hi)):.6g}")


# ---------------------------------------------------------------------------
# Integrals over p ~ Beta(A, B)
# ---------------------------------------------------------------------------


def softplus(y):
    return y + mp.log1p(mp.exp(-y)) if y > 0 else mp.log1p(mp.exp(y))


def lbeta(a, b):
    return mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)


class QuadratureError(ArithmeticError):
    pass


def _bisect(f, inside, outside, target, steps=20):
    """A point between ``inside`` (f ≥ target) and ``outside`` (f < target)."""
    for _ in range(steps):
        mid = (inside + outside) / 2
        if f(mid) >= target:
            inside = mid
        else:
            outside = mid
    return (inside + outside) / 2


def beta_expectation(A, B, ln_h):
    """E[h(p)], p ~ Beta(A, B), for h > 0 given as ln h(p, 1 − p, ln p, ln(1 − p))."""
    A, B = mp.mpf(A), mp.mpf(B)

    def f(z):
        lp, lq = -softplus(-z), -softplus(z)
        return A * lp + B * lq + ln_h(mp.exp(lp), mp.exp(lq), lp, lq)

    z0 = mp.log(A / B)
    cands = sorted({z0} | {z0 + s * mp.mpf(2) ** k for k in range(-24, 21) for s in (-1, 1)})
    vals = [f(z) for z in cands]
    im = max(range(len(cands)), key=lambda i: vals[i])
    fm = vals[im]
    pts = [cands[im]]
    for step in (-1, 1):
        i = im
        for level in LEVELS:
            target = fm - level
            while 0 <= i + step < len(cands) and vals[i + step] >= target:
                i += step
            if not 0 <= i + step < len(cands):
                pts.append(step * mp.inf)
                break
            pts.append(_bisect(f, cands[i], cands[i + step], target))
    pts = sorted(set(pts))

    def g(z):
        return mp.exp(f(z) - fm)

    value, err = mp.quad(g, pts, error=True, maxdegree=8)
    if not value > 0 or err > QUAD_RTOL * value:
        raise QuadratureError(f"quadrature error {mp.nstr(err / value, 3)}")
    return mp.exp(fm - lbeta(A, B)) * value


def exp_expint(n, z):
    """e^z E_n(z) = ∫_0^∞ e^{−zv} (1+v)^{−n} dv, n ≥ 1, z > 0."""
    if z > 1e4 * (n + 1) + 1e4:  # asymptotic series, terms fall by (n+k)/z < 1e-4
        total, term, k = mp.mpf(0), 1 / z, 0
        while abs(term) > total * mp.mpf(10) ** (-DPS - 5) or k == 0:
            total += term
            term *= -(n + k) / z
            k += 1
        return total
    if z < 1 and n < 1000:  # the series region, where mpmath's E_n is reliable
        return mp.exp(z) * mp.expint(n, z)
    # The continued fraction 1/(z+n − 1·n/(z+n+2 − 2(n+1)/(z+n+4 − …))), by
    # modified Lentz; converges for every z > 0, fast when z ≥ 1 or n is large.
    tiny = mp.mpf(10) ** (-DPS * 3)
    eps = mp.mpf(10) ** (-DPS - 3)
    b = z + n
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 200000):
        a = -i * (n + i - 1)
        b += 2
        d = 1 / (a * d + b) if a * d + b != 0 else 1 / tiny
        c = b + a / c if c != 0 else tiny
        delta = c * d
        h *= delta
        if abs(delta - 1) < eps:
            return h
    raise QuadratureError(f"E_n continued fraction did not converge (n={n}, z={z})")


# ---------------------------------------------------------------------------
# BG/NBD and MBG/NBD
# ---------------------------------------------------------------------------


def ln_nb(r, alpha, t, j):
    """ln P(N_t = j), N_t ~ NB: λ ~ Gamma(r, α), N_t | λ ~ Poisson(λt)."""
    ln_t = j * (mp.log(t) - mp.log(alpha + t)) if j > 0 else 0
    return mp.loggamma(r + j) - mp.loggamma(r) - mp.loggamma(j + 1) - r * mp.log1p(t / alpha) + ln_t


def nb_tail(r, alpha, t, n):
    """P(N_t ≥ n), from the terms below n (60 more digits) or, when that cancels, above."""
    if n == 0:
        return mp.mpf(1)
    with mp.workdps(DPS + 60):
        head = mp.fsum(mp.exp(ln_nb(r, alpha, t, j)) for j in range(int(n)))
        tail = 1 - head
    if tail > mp.mpf(10) ** (-50):
        return +tail
    # Sum the tail: term ratio (r+j)/(j+1) · t/(α+t), eventually < 1.
    term = mp.exp(ln_nb(r, alpha, t, n))
    total = mp.mpf(0)
    j = mp.mpf(n)
    q = t / (alpha + t)
    for _ in range(10**6):
        total += term
        ratio = (r + j) / (j + 1) * q
        term *= ratio
        j += 1
        if ratio < 0.9 and term < total * mp.mpf(10) ** (-DPS - 5):
            return total
    raise QuadratureError("negative binomial tail did not converge")


def bg_parts(model, r, alpha, a, b, x, tx, T):
    """(ln A, ln D or None, posterior b of p given alive) of the likelihood."""
    common = mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(alpha) - lbeta(a, b)
    extra = 1 if model == "ModifiedBetaGeo" else 0
    ln_a = common + lbeta(a, b + x + extra) - (r + x) * mp.log(alpha + T)
    if model == "BetaGeo" and x == 0:
        ln_d = None
    else:
        ln_d = common + lbeta(a + 1, b + x - 1 + extra) - (r + x) * mp.log(alpha + tx)
    return ln_a, ln_d, b + x + extra


def expectation_integrand(r, alpha, t, mbg):
    """ln of (1−p)^{mbg} (1 − (α/(α+pt))^r)/p."""

    def ln_h(p, q, lp, lq):
        v = mp.log(-mp.expm1(-r * mp.log1p(p * t / alpha))) - lp
        return v + lq if mbg else v

    return ln_h


def dert_integrand(R, Alam, delta):
    """ln E_λ[λ/(δ+pλ)] = ln((R/p) e^z E_{R+1}(z)), z = A_λ δ/p, λ ~ Gamma(R, A_λ)."""

    def ln_h(p, q, lp, lq):
        z = Alam * delta / p
        return mp.log(R) - lp + mp.log(exp_expint(R + 1, z))

    return ln_h


def bg_values(model, pt: dict[str, Any]) -> tuple[dict[str, float], list[str]]:
    r, alpha, a, b = map(mp.mpf, pt["params"])
    x, tx, T, t, n, delta = (mp.mpf(pt[k]) for k in ("x", "tx", "T", "t", "n", "delta"))
    mbg = model == "ModifiedBetaGeo"
    values: dict[str, float] = {}
    skipped: list[str] = []
    ln_a, ln_d, b_post = bg_parts(model, r, alpha, a, b, x, tx, T)
    if ln_d is None:
        p_alive, ln_like = mp.mpf(1), ln_a
    else:
        p_alive = 1 / (1 + mp.exp(ln_d - ln_a))
        top = max(ln_a, ln_d)
        ln_like = top + mp.log(mp.exp(ln_a - top) + mp.exp(ln_d - top))
    values["p_alive"] = float(p_alive)
    values["log_likelihood"] = float(ln_like)
    # P(X(t) = n), closed form.
    extra = 1 if mbg else 0
    pmf = mp.exp(lbeta(a, b + n + extra) - lbeta(a, b) + ln_nb(r, alpha, t, n))
    if n > 0 or mbg:
        pmf += mp.exp(lbeta(a + 1, b + n - 1 + extra) - lbeta(a, b)) * nb_tail(r, alpha, t, n)
    values["pmf"] = float(pmf)
    jobs = {
        "expected": lambda: beta_expectation(a, b, expectation_integrand(r, alpha, t, mbg)),
        "conditional_expected": lambda: (
            p_alive * beta_expectation(a, b_post, expectation_integrand(r + x, alpha + T, t, False))
        ),
        "dert": lambda: (
            p_alive * beta_expectation(a, b_post, dert_integrand(r + x, alpha + T, delta))
        ),
    }
    for name, job in jobs.items():
        try:
            values[name] = float(job())
        except (QuadratureError, mp.libmp.NoConvergence, ValueError, ZeroDivisionError) as err:
            skipped.append(f"{name}: {err}")
    return values, skipped


def bg_points(rng: random.Random) -> list[dict[str, Any]]:
    corners = [
        # r, alpha, a, b, x, tx, T, t, n, delta
        (1e-3, 1e-3, 1e7, 1e7, 1e5, 999995, 1e6, 1e4, 7, 1e-4),
        (1e7, 1e7, 1e-3, 1e-3, 1e5, 999999, 1e6, 1e4, 2, 1e-2),
        (1.0, 1.0, 1e7, 1e7, 3, 20, 39, 52, 1, 0.01),
        (0.243, 4.41, 0.793, 2.43, 2, 30.43, 38.86, 39, 0, 0.01),
        (1e-3, 1e7, 1e7, 1e-3, 0, 0, 1e6, 1e-2, 0, 1.0),
        (1e7, 1e-3, 1e-3, 1e7, 1e5, 1e6, 1e6, 1e4, 7, 1e-4),
        (5.0, 2.0, 1e6, 3e6, 10, 30, 50, 100, 2, 0.1),
        (0.5, 10.0, 2e5, 1e7, 1, 5, 10, 1e4, 1, 1e-3),
        (2.0, 50.0, 1e7, 2e6, 50, 80, 100, 52, 7, 0.01),
        (1e-3, 1e-3, 1e-3, 1e-3, 1, 1e-2, 1e6, 1e-2, 1, 1.0),
    ]
    out = []
    for i in range(POINTS):
        if i < len(corners):
            r, alpha, a, b, x, tx, T, t, n, delta = map(float, corners[i])
        else:
            r, alpha, a, b = (log_uniform(rng, 1e-3, 1e7) for _ in range(4))
            if i % 4 == 0:  # many points where a and b are both large
                a, b = log_uniform(rng, 1e4, 1e7), log_uniform(rng, 1e4, 1e7)
            T = log_uniform(rng, 1e-2, 1e6)
            x = float(rng.choice([0, 1, 3, int(log_uniform(rng, 1, 1e5))]))
            if x == 0:
                tx = 0.0
            elif rng.random() < 0.5:
                tx = min(T, float(f"{rng.uniform(0, T):.6g}"))
            else:  # a recent last purchase, where P(alive) is not negligible
                gap = min(1.0, log_uniform(rng, 1e-2, 10) / (x + 1))
                tx = min(T, float(f"{T * (1 - gap):.6g}"))
            t = log_uniform(rng, 1e-2, 1e4)
            n = float(rng.choice([0, 1, 2, 7, int(log_uniform(rng, 1, 1e3))]))
            delta = log_uniform(rng, 1e-4, 1)
        out.append(
            {
                "params": [r, alpha, a, b],
                "x": x,
                "tx": tx,
                "T": T,
                "t": t,
                "n": n,
                "delta": delta,
            }
        )
    return out


# ---------------------------------------------------------------------------
# Gamma-Gamma
# ---------------------------------------------------------------------------


def gg_values(pt: dict[str, Any]) -> tuple[dict[str, float | None], list[str]]:
    p, q, v = map(mp.mpf, pt["params"])
    x, m = mp.mpf(pt["x"]), mp.mpf(pt["m"])
    values: dict[str, float | None] = {}
    values["expected_average_profit"] = float(p * v / (q - 1)) if q > 1 else None
    if x == 0:
        values["conditional_expected_average_profit"] = values["expected_average_profit"]
    else:
        den = p * x + q - 1
        values["conditional_expected_average_profit"] = (
            float(p * (v + x * m) / den) if den > 0 else None
        )
        px = p * x
        values["log_likelihood"] = float(
            mp.loggamma(px + q)
            - mp.loggamma(px)
            - mp.loggamma(q)
            + q * mp.log(v)
            + (px - 1) * mp.log(m)
            + px * mp.log(x)
            - (px + q) * mp.log(v + m * x)
        )
    return values, []


def gg_points(rng: random.Random) -> list[dict[str, Any]]:
    corners = [
        (6.25, 3.74, 15.44, 2, 22.35),
        (1e7, 1e7, 1e7, 1e5, 1e6),
        (1e-3, 1e7, 1e-3, 1e5, 1e-2),
        (1e7, 1.001, 1e-3, 1, 1e6),
        (1e-3, 1e-3, 1e7, 1e5, 1e6),
        (1e-3, 1.5, 1e7, 0, 0),
    ]
    out = []
    for i in range(POINTS):
        if i < len(corners):
            p, q, v, x, m = map(float, corners[i])
        else:
            p, q, v = (log_uniform(rng, 1e-3, 1e7) for _ in range(3))
            x = float(rng.choice([0, 1, 3, int(log_uniform(rng, 1, 1e5))]))
            m = 0.0 if x == 0 else log_uniform(rng, 1e-2, 1e6)
        out.append({"params": [p, q, v], "x": x, "m": m})
    return out


# ---------------------------------------------------------------------------
# Cross-checks and driver
# ---------------------------------------------------------------------------


def cross_checks() -> None:
    """The quadratures against mpmath's closed forms where those converge."""
    for n, z in [
        (1.001, 1e-7),
        (1.001, 1.5),
        (2.5, 3.0),
        (1e5, 1e-3),
        (1e5, 2e5),
        (1e7 + 1, 5.0),
        (3.0, 1e9),
        (1.2, 1e5),
    ]:
        n, z = mp.mpf(n), mp.mpf(z)
        quad = mp.quad(
            lambda u, n=n, z=z: mp.exp(-z * u - n * mp.log1p(u)),
            [0, 1 / (z + n), 10 / (z + n), 100 / (z + n), mp.inf],
        )
        assert abs(exp_expint(n, z) / quad - 1) < 1e-25, (n, z)
    for r, alpha, a, b, t in [
        (0.243, 4.41, 0.793, 2.43, 39),
        (2, 3, 5, 7, 100),
        (0.5, 1, 3, 0.2, 1),
    ]:
        r, alpha, a, b, t = map(mp.mpf, (r, alpha, a, b, t))
        z = t / (alpha + t)
        with mp.workdps(60):
            closed = (
                (a + b - 1)
                / (a - 1)
                * (1 - (alpha / (alpha + t)) ** r * mp.hyp2f1(r, b, a + b - 1, z))
            )
            closed_mbg = (
                b / (a - 1) * (1 - (alpha / (alpha + t)) ** r * mp.hyp2f1(r, b + 1, a + b, z))
            )
        quad = beta_expectation(a, b, expectation_integrand(r, alpha, t, False))
        quad_mbg = beta_expectation(a, b, expectation_integrand(r, alpha, t, True))
        assert abs(quad / closed - 1) < 1e-25, (r, alpha, a, b, t, quad, closed)
        assert abs(quad_mbg / closed_mbg - 1) < 1e-25, (r, alpha, a, b, t, quad_mbg, closed_mbg)


def work(job: tuple[str, int, dict[str, Any]]) -> tuple[str, int, dict[str, Any], list[str], float]:
    mp.mp.dps = DPS
    model, i, pt = job
    start = time.time()
    if model == "GammaGamma":
        values, skipped = gg_values(pt)
    else:
        values, skipped = bg_values(model, pt)
    return model, i, values, skipped, time.time() - start


def main() -> None:
    mp.mp.dps = DPS
    cross_checks()
    rng = random.Random(20261129)
    grid: dict[str, list[dict[str, Any]]] = {
        "BetaGeo": bg_points(rng),
        "ModifiedBetaGeo": bg_points(rng),
        "GammaGamma": gg_points(rng),
    }
    only = int(sys.argv[1]) if len(sys.argv) > 1 else None  # a quick run on the first points
    if only is not None:
        grid = {k: v[:only] for k, v in grid.items()}
    jobs = [(model, i, pt) for model, pts in grid.items() for i, pt in enumerate(pts)]
    start = time.time()
    with multiprocessing.Pool(2) as pool:
        for model, i, values, skipped, secs in pool.imap_unordered(work, jobs):
            grid[model][i]["values"] = values
            note = f" skipped {skipped}" if skipped else ""
            print(f"{model} {i}: {secs:.1f} s{note}", flush=True)
    if only is None:
        OUT.write_text(json.dumps(grid, indent=1) + "\n")
    else:
        print(json.dumps(grid, indent=1))
    print({k: len(v) for k, v in grid.items()}, f"{time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
