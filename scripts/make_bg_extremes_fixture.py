"""High-precision reference values for the BG/NBD and MBG/NBD at extreme parameters.

Writes ``tests/fixtures/bg_extremes_mpmath.json`` for ``tests/bg_extremes.rs`` and
``tests/python/test_bg_extremes.py`` (issue 12: expectations that collapsed to 0 or
overflowed when a or b is large). Every value is computed with mpmath at 50 digits
from the model's definition, independently of the package's code:

- a customer has a purchase rate λ ~ Gamma(r, α) and a drop-out probability
  p ~ Beta(a, b); while alive, purchases are Poisson(λ); after each purchase (for
  the MBG/NBD also at time 0) the customer drops out with probability p;
- given alive at T after x purchases, λ ~ Gamma(r+x, α+T) and p ~ Beta(a, b+x+s)
  (s = 1 for the MBG/NBD, which also survived time 0); alive, the number of
  purchases in the next t is min(N, G) with N ~ Poisson(λt) and G ~ Geometric(p),
  whose mean is (1 − e^{−λpt})/p, so
  E[Y(t) | alive] = E_p[(1 − (1 + p t/(α+T))^{−(r+x)})/p];
- P(alive | x, t_x, T) = 1/(1 + a/(b+x−1+s) ((α+T)/(α+t_x))^{r+x}) (for the
  BG/NBD and x = 0, 1), from the likelihoods of "alive at T" and "dropped out
  after the purchase at t_x";
- E[X(t)] is E[Y(t) | 0, 0, 0] (for the MBG/NBD that includes P(alive at 0) =
  b/(a+b));
- P(X(t) = n) = B(a, b+n+s)/B(a, b) NB_n(t) + B(a+1, b+n−1+s)/B(a, b) P(N(t) ≥ n)
  (no second term for the BG/NBD and n = 0), NB_n the negative binomial
  probabilities of N(t) ~ Poisson-Gamma(r, α) (for n = 1e300, 0: Markov's
  inequality bounds the value below 1e-330);
- DERT(δ) = P(alive) E_p[(1/p) E_λ[pλ/(δ+pλ)]], with s = pλ/δ ~ Gamma(r+x, rate
  z = (α+T)δ/p) and E[s/(1+s)] = (r+x) z^{r+x} U(r+x+1, r+x+1, z);
- discrete CLV (lifetimes' definition) = m Σ_{k=1}^{K} (E[Y(kf)] − E[Y((k−1)f)])/(1+d)^k.

The expectation over p is integrated in logit space (y = ln(p/(1−p)), where the
beta density p^a (1−p)^b is log-concave and smooth) with breakpoints around the
mode ln(a/b) at multiples of its width (1/a + 1/b)^{1/2}; where mpmath's 2F1 is
quick it is checked against the closed form of FHL (2005) eq. (10).

Run from the repository root (a few minutes)::

    python scripts/make_bg_extremes_fixture.py
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import mpmath as mp

mp.mp.dps = 50
OUT = Path(__file__).resolve().parent.parent / "tests/fixtures/bg_extremes_mpmath.json"


def beta_expectation(a, b, g):
    """E[g(p)] for p ~ Beta(a, b), integrated over y = logit(p)."""
    a, b = mp.mpf(a), mp.mpf(b)
    ln_beta = mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)

    def integrand(y):
        ln_p = -mp.log1p(mp.exp(-y))
        ln_q = -mp.log1p(mp.exp(y))
        return mp.exp(a * ln_p + b * ln_q - ln_beta) * g(mp.exp(ln_p))

    y0 = mp.log(a / b)
    s = mp.sqrt(1 / a + 1 / b)
    steps = [-1e4, -300, -60, -20, -6, -2, 0, 2, 6, 20, 60, 300, 1e4]
    points = sorted({y0 + s * k for k in steps} | {mp.mpf(0)})
    value, error = mp.quad(integrand, [-mp.inf, *points, mp.inf], maxdegree=10, error=True)
    assert error <= mp.mpf(10) ** (-(mp.mp.dps // 2)) * abs(value), (a, b, value, error)
    return value


def p_alive(model, r, alpha, a, b, x, t_x, age):
    sh = 1 if model == "mbgnbd" else 0
    if x == 0 and sh == 0:
        return mp.mpf(1)
    if x == 0:
        t_x = 0
    odds = a / (b + x - 1 + sh) * ((alpha + age) / (alpha + t_x)) ** (r + x)
    return 1 / (1 + odds)


def expected_if_alive(model, r, alpha, a, b, t, x, age):
    sh = 1 if model == "mbgnbd" else 0
    m = r + x
    kappa = t / (alpha + age)

    def g(p):
        return -mp.expm1(-m * mp.log1p(p * kappa)) / p

    return beta_expectation(a, b + x + sh, g)


def closed_form_if_alive(model, r, alpha, a, b, t, x, age):
    """FHL (2005) eq. (10)'s bracket: the cross-check."""
    sh = 1 if model == "mbgnbd" else 0
    b1 = b + x + sh
    c = a + b1 - 1
    z = t / (alpha + age + t)
    f = mp.hyp2f1(r + x, b1, c, z)
    return c / (a - 1) * (1 - ((alpha + age) / (alpha + age + t)) ** (r + x) * f)


def conditional(model, params, t, x, t_x, age):
    r, alpha, a, b = (mp.mpf(v) for v in params)
    t, x, t_x, age = (mp.mpf(v) for v in (t, x, t_x, age))
    alive = p_alive(model, r, alpha, a, b, x, t_x, age)
    inner = expected_if_alive(model, r, alpha, a, b, t, x, age)
    moderate = all(mp.mpf(1e-2) <= v <= 100 for v in (r, a, b)) and abs(a - 1) > 0.05
    if moderate and x <= 100 and t / (alpha + age) < 100:
        check = closed_form_if_alive(model, r, alpha, a, b, t, x, age)
        assert abs(check - inner) <= mp.mpf(1e-25) * abs(inner), (params, t, x, check, inner)
    return alive * inner


def pmf(model, params, t, n):
    if n > 1e100:
        # ln Γ(n) ~ 7e302: its digits must reach below 1 for the differences.
        with mp.workdps(700):
            return +pmf_at_precision(model, params, t, n)
    return pmf_at_precision(model, params, t, n)


def pmf_at_precision(model, params, t, n):
    sh = 1 if model == "mbgnbd" else 0
    r, alpha, a, b = (mp.mpf(v) for v in params)
    t, n = mp.mpf(t), mp.mpf(n)

    def ln_b(p, q):
        return mp.loggamma(p) + mp.loggamma(q) - mp.loggamma(p + q)

    p0 = alpha / (alpha + t)  # exact in mpmath, also for t = 1e300
    ln_nb = (
        mp.loggamma(r + n)
        - mp.loggamma(r)
        - mp.loggamma(n + 1)
        + r * mp.log(p0)
        + n * mp.log(t / (alpha + t))
    )
    first = mp.exp(ln_b(a, b + n + sh) - ln_b(a, b) + ln_nb)
    if n == 0 and sh == 0:
        return first
    weight = mp.exp(ln_b(a + 1, b + n - 1 + sh) - ln_b(a, b))
    if n > 1e100:
        # mpmath's betainc does not finish for such n; Markov's inequality
        # P(N(t) >= n) <= E[N(t)]/n = r t/(alpha n) bounds the value instead.
        bound = first + weight * r * t / (alpha * n)
        assert bound < mp.mpf(10) ** -330, bound
        return mp.mpf(0)
    # P(N(t) >= n) = 1 - I_{p0}(r, n), and for n = 0 it is 1.
    q0 = t / (alpha + t)
    if n == 0:
        tail = mp.mpf(1)
    elif n >= 1000 and q0 < 0.9:
        # Far in the tail: sum NB_j upwards from j = n (ratio (r+j)/(j+1) q0 < 1).
        term = mp.exp(ln_nb)
        tail, j = mp.mpf(0), n
        while term > mp.mpf(10) ** -60 * tail or tail == 0:
            tail += term
            term *= (r + j) / (j + 1) * q0
            j += 1
    else:
        tail = 1 - mp.betainc(r, n, 0, p0, regularized=True)
    return first + weight * tail


def dert(model, params, delta, x, t_x, age):
    sh = 1 if model == "mbgnbd" else 0
    r, alpha, a, b = (mp.mpf(v) for v in params)
    delta, x, t_x, age = (mp.mpf(v) for v in (delta, x, t_x, age))
    m = r + x
    alive = p_alive(model, r, alpha, a, b, x, t_x, age)

    def g(p):
        z = (alpha + age) * delta / p
        try:
            return m * z**m * mp.hyperu(m + 1, m + 1, z) / p
        except (mp.libmp.NoConvergence, ValueError):
            # E[s/(1+s)] = ∫_0^∞ e^{-v} (1 − (1 + v/z)^{-m}) dv, positive terms.
            inner = mp.quad(lambda v: mp.exp(-v) * -mp.expm1(-m * mp.log1p(v / z)), [0, 1, mp.inf])
            return inner / p

    return alive * beta_expectation(a, b + x + sh, g)


def clv(model, params, x, t_x, age, monetary, months, rate, per_month):
    total = mp.mpf(0)
    previous = mp.mpf(0)
    for k in range(1, months + 1):
        now = conditional(model, params, k * per_month, x, t_x, age)
        total += (now - previous) / (1 + mp.mpf(rate)) ** k
        previous = now
    return monetary * total


def main() -> None:
    cases: list[dict] = []

    def add(kind: str, model: str, params, args: dict, value) -> None:
        v = float(value)
        assert math.isfinite(v) and v >= 0, (kind, model, params, args, value)
        cases.append(
            {"kind": kind, "model": model, "params": list(params), "args": args, "value": v}
        )
        print(len(cases), kind, model, params, args, v, flush=True)

    models = ("bgnbd", "mbgnbd")
    # The issue's two cases.
    add(
        "expected",
        "bgnbd",
        (0.5, 10, 1000, 1000),
        {"t": 39},
        conditional("bgnbd", (0.5, 10, 1000, 1000), 39, 0, 0, 0),
    )
    p = (1000, 1000, 2, 3)
    add(
        "conditional",
        "bgnbd",
        p,
        {"t": 1000, "x": 3, "t_x": 30, "T": 39},
        conditional("bgnbd", p, 1000, 3, 30, 39),
    )
    # A full grid of a, b with ordinary (r, alpha) and history.
    shapes = (1e-3, 0.1, 1.0, 10.0, 1e3, 1e5, 1e7)
    for model in models:
        for a in shapes:
            for b in shapes:
                params = (0.5, 10.0, a, b)
                add("expected", model, params, {"t": 39}, conditional(model, params, 39, 0, 0, 0))
                args = {"t": 39, "x": 3, "t_x": 30, "T": 39}
                add("conditional", model, params, args, conditional(model, params, 39, 3, 30, 39))
    # Random points over the whole box a fit can return.
    rng = random.Random(20261129)

    def lu(lo: float, hi: float) -> float:
        return float(f"{10 ** rng.uniform(math.log10(lo), math.log10(hi)):.6g}")

    for i in range(60):
        model = models[i % 2]
        params = (lu(1e-3, 1e7), lu(1e-3, 1e7), lu(1e-3, 1e7), lu(1e-3, 1e7))
        age = lu(1e-2, 1e6)
        x = float(rng.choice([0, 1, 2, 5, 30, 1000, 100000]))
        t_x = 0.0 if x == 0 else float(f"{age * rng.uniform(0.05, 1):.6g}")
        t = lu(1e-2, 1e4)
        args = {"t": t, "x": x, "t_x": t_x, "T": age}
        add("conditional", model, params, args, conditional(model, params, t, x, t_x, age))
        add("expected", model, params, {"t": t}, conditional(model, params, t, 0, 0, 0))
    # P(X(t) = n), including huge t and huge n.
    for model in models:
        for params in ((0.243, 4.414, 0.793, 2.426), (0.5, 10, 1e6, 1e7), (2.0, 3.0, 1e-3, 5e4)):
            for t, n in (
                (39, 0),
                (39, 3),
                (1e4, 40),
                (1e300, 0),
                (1e300, 1),
                (1e300, 10),
                (10, 1e300),
                (10, 1e5),
            ):
                add("pmf", model, params, {"t": t, "n": n}, pmf(model, params, t, n))
    # DERT.
    mp.mp.dps = 30
    delta = math.log(1.15) / 52
    for model in models:
        for params in (
            (0.243, 4.414, 0.793, 2.426),
            (0.8, 5.0, 3.5e6, 3.5e7),
            (0.5, 10, 1000, 1000),
        ):
            for x, t_x, age in ((0, 0, 39), (3, 30, 39)):
                args = {"delta": delta, "x": x, "t_x": t_x, "T": age}
                add("dert", model, params, args, dert(model, params, delta, x, t_x, age))
    # Discrete CLV over 12 months (weeks: 4.345 per month), monetary value 10.
    for model in models:
        for params in ((0.8, 5.0, 3.5e6, 3.5e7), (0.5, 10, 1000, 1000), (1000, 1000, 2, 3)):
            args = {
                "x": 3,
                "t_x": 30,
                "T": 39,
                "monetary": 10,
                "months": 12,
                "rate": 0.01,
                "per_month": 4.345,
            }
            add("clv", model, params, args, clv(model, params, 3, 30, 39, 10, 12, 0.01, 4.345))
    OUT.write_text(
        json.dumps({"generator": "scripts/make_bg_extremes_fixture.py", "cases": cases}, indent=1)
        + "\n"
    )
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
