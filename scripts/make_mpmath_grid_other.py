"""High-precision reference grid for the Pareto/NBD, BG/BB, sBG and BdW (issue 12).

Writes ``tests/fixtures/mpmath_grid_other.json`` for
``tests/python/test_mpmath_grid_other.py``: points spread over the whole box a fit
can return (each parameter log-uniform in [1e-3, 1e7]; histories with x up to 1e5,
T up to 1e6; horizons up to 1e4), and for each point every prediction of the model,
evaluated with mpmath at 50 digits from the model's defining formulas, derived
here independently of the package's code:

Pareto/NBD (Schmittlein, Morrison & Colombo 1987; the story, not the 2F1 forms):
    a customer alive at T with history (x, t_x, T) has joint likelihood
    A = Γ(r+x)/Γ(r) αʳ βˢ (α+T)^{-(r+x)} (β+T)^{-s}; one who died at τ ∈ (t_x, T]
    contributes D = Γ(r+x)/Γ(r) αʳ βˢ s ∫_{t_x}^{T} (α+τ)^{-(r+x)} (β+τ)^{-(s+1)} dτ
    (λ integrated out against Gamma(r, α), μ against Gamma(s, β)).
    P(alive) = A/(A+D). Given alive at T, λ ~ Gamma(r+x, α+T), μ ~ Gamma(s, β+T)
    independently, and from T on the customer is a new customer with those
    parameters, so E[Y(t)|·] = P(alive) · E'[X(t)] and
    P(Y(t)=n|·) = 1{n=0}(1−P(alive)) + P(alive) P'(X(t)=n);
    E[X(t)] = E[λ] E[min(lifetime, t)] = (r/α) ∫_0^t (β/(β+τ))^s dτ;
    P(X(t)=n) = NB_t(n) (β/(β+t))^s + ∫_0^t s βˢ (β+τ)^{-s-1} NB_τ(n) dτ with
    NB_τ(n) = Γ(r+n)/(Γ(r) n!) (α/(α+τ))^r (τ/(α+τ))^n;
    DERT(δ) = P(alive) · (r+x)/(α+T) · E[1/(μ+δ)], μ ~ Gamma(s, β+T), where
    E[1/(μ+δ)] = b e^{bδ} E_s(bδ), b = β+T (E_s the generalised exponential
    integral, from ``make_mpmath_grid_bg.exp_expint``: continued fraction or mpmath).
BG/BB (Fader, Hardie & Shang 2010), opportunities 1..n after the first:
    L = B(α+x, β+n−x)/B(α,β) B(γ, δ+n)/B(γ,δ)
        + Σ_{i=0}^{n−t_x−1} B(α+x, β+t_x−x+i)/B(α,β) B(γ+1, δ+t_x+i)/B(γ,δ);
    P(alive at n+m | ·) = B(α+x, β+n−x)/B(α,β) B(γ, δ+n+m)/B(γ,δ) / L;
    E[X(n, n+n*) | ·] = P(alive at n | ·) (α+x)/(α+β+n) Σ_{k=1}^{n*} B(γ, δ+n+k)/B(γ, δ+n);
    E[X(n)] = α/(α+β) Σ_{k=1}^{n} B(γ, δ+k)/B(γ, δ);
    P(X(n)=x) = C(n,x) B(α+x, β+n−x)/B(α,β) B(γ, δ+n)/B(γ,δ)
                + Σ_{i=x}^{n−1} C(i,x) B(α+x, β+i−x)/B(α,β) B(γ+1, δ+i)/B(γ,δ).
sBG and BdW (Fader & Hardie 2007, 2010; Fader et al. 2018): S(t) = B(α, β+t^c)/B(α, β)
    (c = 1 for the sBG), r(t) = S(t)/S(t−1), P(T=t) = S(t−1) − S(t),
    DERL(d, n) = Σ_{j≥1} S(n+j)/S(n) (1+d)^{-(j-1)}, DEL(d) = 1 + DERL(d, 0)/(1+d):
    summed directly for 4000 terms, the rest by the Euler–Maclaurin formula with
    mpmath's quadrature and derivatives (five correction terms); for the sBG also
    the closed form of FH (2010) eq. (6) as a cross-check.

Run from the repository root (about a minute)::

    python scripts/make_mpmath_grid_other.py
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import mpmath as mp
from make_mpmath_grid_bg import exp_expint

mp.mp.dps = 50
OUT = Path(__file__).resolve().parent.parent / "tests/fixtures/mpmath_grid_other.json"
POINTS = 60


def log_uniform(rng: random.Random, lo: float, hi: float) -> float:
    return float(f"{10 ** rng.uniform(math.log10(lo), math.log10(hi)):.6g}")


def params(rng: random.Random, k: int) -> list[float]:
    return [log_uniform(rng, 1e-3, 1e7) for _ in range(k)]


def as_float(v: mp.mpf) -> float:
    return float(v)


# ---------------------------------------------------------------------------
# Pareto/NBD
# ---------------------------------------------------------------------------


def pnbd_alive(r, alpha, s, beta, x, tx, T):
    r, alpha, s, beta = map(mp.mpf, (r, alpha, s, beta))
    ln_a = -(r + x) * mp.log(alpha + T) - s * mp.log(beta + T)

    def ln_integrand(tau):
        return -(r + x) * mp.log(alpha + tau) - (s + 1) * mp.log(beta + tau)

    if T == tx:
        return mp.mpf(1)
    ref = ln_integrand(mp.mpf(tx))
    # Breakpoints on the scales the integrand falls over.
    scale = 1 / ((r + x) / (alpha + tx) + (s + 1) / (beta + tx))
    pts = [mp.mpf(tx)]
    k = mp.mpf(1)
    while tx + k * scale < T:
        pts.append(tx + k * scale)
        k *= 8
    pts.append(mp.mpf(T))
    integral = mp.quad(lambda tau: mp.exp(ln_integrand(tau) - ref), pts)
    ln_d = mp.log(s) + ref + mp.log(integral)
    return 1 / (1 + mp.exp(ln_d - ln_a))


def pnbd_expected(r, alpha, s, beta, t):
    r, alpha, s, beta = map(mp.mpf, (r, alpha, s, beta))
    # ∫_0^t (β/(β+τ))^s dτ in closed form (s ≠ 1 almost surely on the grid).
    if abs(s - 1) < mp.mpf("1e-30"):
        life = beta * mp.log1p(t / beta)
    else:
        life = beta / (s - 1) * (1 - (beta / (beta + t)) ** (s - 1))
    return r / alpha * life


def nb(r, alpha, n, tau):
    return mp.exp(
        mp.loggamma(r + n)
        - mp.loggamma(r)
        - mp.loggamma(n + 1)
        + r * mp.log(alpha / (alpha + tau))
        + (n * mp.log(tau / (alpha + tau)) if n > 0 else 0)
    )


def pnbd_pmf(r, alpha, s, beta, t, n):
    r, alpha, s, beta = map(mp.mpf, (r, alpha, s, beta))
    alive = nb(r, alpha, n, t) * (beta / (beta + t)) ** s
    pts = [mp.mpf(0)] + [p for p in (alpha / 100, alpha, beta, 10 * alpha) if p < t] + [mp.mpf(t)]
    pts = sorted(set(pts))
    dead = mp.quad(lambda tau: s * beta**s * (beta + tau) ** (-s - 1) * nb(r, alpha, n, tau), pts)
    return alive + dead


def pnbd_dert(r, alpha, s, beta, x, tx, T, delta, p_alive):
    r, alpha, s, beta = map(mp.mpf, (r, alpha, s, beta))
    b = beta + T
    # E[1/(μ+δ)], μ ~ Gamma(s, b): ∫_0^∞ e^{−uδ} E[e^{−uμ}] du = ∫_0^∞ e^{−uδ} (b/(b+u))^s du
    # = b e^{bδ} E_s(bδ). (A quadrature of v^{s−1} e^{−v}/(v + bδ) missed the mass
    # of v^{s−1} below 1e-50 for s near 1e-3, and failed for s in the thousands.)
    mean_inv = b * exp_expint(s, b * delta)
    return p_alive * (r + x) / (alpha + T) * mean_inv


def pareto_points(rng: random.Random) -> list[dict]:
    out = []
    for _ in range(POINTS):
        r, alpha, s, beta = params(rng, 4)
        T = log_uniform(rng, 1e-2, 1e6)
        x = float(rng.choice([0, 1, 3, int(log_uniform(rng, 1, 1e5))]))
        tx = 0.0 if x == 0 else float(f"{rng.uniform(0, T):.6g}")
        tx = min(tx, T)
        t = log_uniform(rng, 1e-2, 1e4)
        n = float(rng.choice([0, 1, 2, 7]))
        delta = log_uniform(rng, 1e-4, 1)
        p_alive = pnbd_alive(r, alpha, s, beta, x, tx, T)
        post = (r + x, alpha + T, s, beta + T)
        cond_pmf = pnbd_pmf(*post, t, n) * p_alive + ((1 - p_alive) if n == 0 else 0)
        out.append(
            {
                "params": [r, alpha, s, beta],
                "x": x,
                "tx": tx,
                "T": T,
                "t": t,
                "n": n,
                "delta": delta,
                "values": {
                    "p_alive": as_float(p_alive),
                    "expected": as_float(pnbd_expected(r, alpha, s, beta, t)),
                    "conditional_expected": as_float(p_alive * pnbd_expected(*post, t)),
                    "pmf": as_float(pnbd_pmf(r, alpha, s, beta, t, n)),
                    "conditional_pmf": as_float(cond_pmf),
                    "dert": as_float(pnbd_dert(r, alpha, s, beta, x, tx, T, delta, p_alive)),
                },
            }
        )
    return out


# ---------------------------------------------------------------------------
# BG/BB
# ---------------------------------------------------------------------------


def lbeta(a, b):
    return mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)


def bgbb_likelihood_parts(al, be, ga, de, x, tx, n):
    """(alive-at-n term, L) of eq. (5)."""
    lab, lgd = lbeta(al, be), lbeta(ga, de)
    alive = mp.exp(lbeta(al + x, be + n - x) - lab + lbeta(ga, de + n) - lgd)
    if tx >= n:
        return alive, alive
    # i = 0 term, then the ratio of consecutive terms.
    term = mp.exp(lbeta(al + x, be + tx - x) - lab + lbeta(ga + 1, de + tx) - lgd)
    total = mp.mpf(0)
    m = mp.mpf(tx)
    for _ in range(int(n - tx)):
        total += term
        term *= (be + m - x) / (al + be + m) * (de + m) / (ga + de + 1 + m)
        m += 1
    return alive, alive + total


def bgbb_points(rng: random.Random) -> list[dict]:
    out = []
    for _ in range(POINTS):
        al, be, ga, de = map(mp.mpf, params(rng, 4))
        n = float(int(log_uniform(rng, 1, 2e4)))
        x = float(rng.randint(0, int(min(n, 50))))
        tx = 0.0 if x == 0 else float(rng.randint(int(x), int(n)))
        m = float(rng.choice([0, 1, 5]))
        n_star = float(int(log_uniform(rng, 1, 1e4)))
        k = float(rng.randint(0, int(min(n, 20))))
        alive, like = bgbb_likelihood_parts(al, be, ga, de, x, tx, n)
        lgd = lbeta(ga, de)
        p_alive_m = alive * mp.exp(lbeta(ga, de + n + m) - lbeta(ga, de + n)) / like
        p_alive_0 = alive / like
        # Σ_{k=1}^{n*} B(γ, δ+n+k)/B(γ, δ+n) by ratios (δ+n+k−1)/(γ+δ+n+k−1).
        surv, ratio = mp.mpf(0), mp.mpf(1)
        for j in range(int(n_star)):
            ratio *= (de + n + j) / (ga + de + n + j)
            surv += ratio
        cond = p_alive_0 * (al + x) / (al + be + n) * surv
        surv0, ratio = mp.mpf(0), mp.mpf(1)
        for j in range(int(n)):
            ratio *= (de + j) / (ga + de + j)
            surv0 += ratio
        expected = al / (al + be) * surv0
        # P(X(n) = k).
        lab = lbeta(al, be)
        pmf = mp.exp(
            mp.log(mp.binomial(n, k)) + lbeta(al + k, be + n - k) - lab + lbeta(ga, de + n) - lgd
        )
        if k < n:
            term = mp.exp(lbeta(al + k, be) - lab + lbeta(ga + 1, de + k) - lgd)  # i = k
            i = mp.mpf(k)
            for _ in range(int(n - k)):
                pmf += term
                term *= (
                    (i + 1)
                    / (i + 1 - k)
                    * (be + i - k)
                    / (al + be + i)
                    * (de + i)
                    / (ga + de + 1 + i)
                )
                i += 1
        out.append(
            {
                "params": [float(al), float(be), float(ga), float(de)],
                "x": x,
                "tx": tx,
                "n": n,
                "m": m,
                "n_star": n_star,
                "k": k,
                "values": {
                    "log_likelihood": as_float(mp.log(like)),
                    "p_alive_m": as_float(p_alive_m),
                    "conditional_expected": as_float(cond),
                    "expected": as_float(expected),
                    "pmf": as_float(pmf),
                },
            }
        )
    return out


# ---------------------------------------------------------------------------
# sBG and BdW
# ---------------------------------------------------------------------------


def discounted_sum(f, lam):
    """Σ_{j≥1} f(j) e^{−λ(j−1)} for a smooth decreasing f: 4000 terms, then Euler–Maclaurin."""
    head = mp.mpf(0)
    z = mp.exp(-lam)
    w = mp.mpf(1)
    for j in range(1, 4001):
        term = f(j) * w
        head += term
        if term == 0 or term * z / (1 - z) < head * mp.mpf("1e-40"):
            return head
        w *= z

    def g(t):
        return f(t) * mp.exp(-lam * (t - 1))

    a = mp.mpf(4001)
    pts = [a]
    p = a
    while p < a + 200 / lam and p < mp.mpf("1e300"):
        p *= 4
        pts.append(p)
    pts.append(mp.inf)
    integral = mp.quad(g, pts)
    corr = g(a) / 2
    bern = [mp.bernoulli(2 * k) / mp.factorial(2 * k) for k in range(1, 6)]
    for k, b in enumerate(bern, start=1):
        corr -= b * mp.diff(g, a, 2 * k - 1)
    return head + integral + corr


def retention_points(rng: random.Random, weibull: bool) -> list[dict]:
    out = []
    rates = [1e-1, 1e-2, 1e-3, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12]
    for i in range(POINTS if weibull else POINTS):
        al, be = params(rng, 2)
        c = log_uniform(rng, 1e-3, 1e1) if weibull else 1.0
        if i < 24:  # moderate parameters for every rate
            al, be = log_uniform(rng, 0.1, 10), log_uniform(rng, 0.1, 10)
            c = log_uniform(rng, 0.3, 3) if weibull else 1.0
        A, B, C = mp.mpf(al), mp.mpf(be), mp.mpf(c)
        t = float(int(log_uniform(rng, 1, 1e4)))
        n = float(rng.choice([0, 1, 5, int(log_uniform(rng, 1, 1e4))]))
        d = rates[i % len(rates)] if i < 48 else log_uniform(rng, 1e-12, 1)

        def ln_surv(u):
            # ln B(α, β+x) − ln B(α, β) subtracts ln Γ values of size x ln x:
            # at 50 digits that leaves nothing for x = u^c beyond about 1e50
            # (BdW with c near 10 and the tail out to 1e12), so the working
            # precision grows by the bits of that size.
            if u <= 0:
                return mp.mpf(0)
            x = mp.mpf(u) ** C
            extra = int(mp.log(1 + (B + x) * abs(mp.log(B + x)), 2)) + 10
            with mp.extraprec(extra):
                x = mp.mpf(u) ** C
                value = lbeta(A, B + x) - lbeta(A, B)
            return +value

        s_t, s_prev = mp.exp(ln_surv(t)), mp.exp(ln_surv(t - 1))
        ln_sn = ln_surv(n)
        derl = discounted_sum(lambda j: mp.exp(ln_surv(n + j) - ln_sn), mp.log1p(d))
        derl0 = discounted_sum(lambda j: mp.exp(ln_surv(j)), mp.log1p(d))
        values = {
            "survival": as_float(s_t),
            "retention": as_float(mp.exp(ln_surv(t) - ln_surv(t - 1))),
            "churn": as_float(s_prev - s_t),
            "derl": as_float(derl),
            "del": as_float(1 + derl0 / (1 + d)),
        }
        if not weibull:
            try:
                z = 1 / (1 + mp.mpf(d))
                closed = (B + n) / (A + B + n) * mp.hyp2f1(1, B + n + 1, A + B + n + 1, z)
            except Exception:  # mpmath cannot evaluate its 2F1 there: no cross-check
                closed = derl
            assert abs(closed / derl - 1) < mp.mpf("1e-20"), (al, be, n, d, closed, derl)
        out.append(
            {
                "params": [al, be] + ([c] if weibull else []),
                "t": t,
                "n": n,
                "d": d,
                "values": values,
            }
        )
    return out


def main() -> None:
    rng = random.Random(20261128)
    grid = {
        "ShiftedBetaGeometric": retention_points(rng, weibull=False),
        "BetaDiscreteWeibull": retention_points(rng, weibull=True),
        "BetaGeoBetaBinom": bgbb_points(rng),
        "ParetoNBD": pareto_points(rng),
    }
    OUT.write_text(json.dumps(grid, indent=1) + "\n")
    print({k: len(v) for k, v in grid.items()})


if __name__ == "__main__":
    main()
