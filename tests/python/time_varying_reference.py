"""An independent Pareto/NBD likelihood with time-varying covariates, by
quadrature, for the tests of ``TimeVaryingParetoNBDFitter``.

Given λ and μ, a customer born at 0 who buys at t₁ < … < t_x ≤ T has

    L(λ, μ) = Πⱼ λ a(tⱼ) · e^{-λ A(T)} e^{-μ B(T)}                     (alive at T)
            + ∫_{t_x}^T Πⱼ λ a(tⱼ) · e^{-λ A(τ)} μ b(τ) e^{-μ B(τ)} dτ   (died at τ)

with a(t) = exp(g_pᵀ z(t)), b(t) = exp(g_dᵀ z(t)), A(t) = ∫₀ᵗ a, B(t) = ∫₀ᵗ b
(Bachmann, Meierer & Näf 2021). Integrating λ ~ Gamma(r, alpha) and μ ~ Gamma(s, β)
in closed form (gamma integrals, no hypergeometric function) leaves

    L = Γ(r+x)/Γ(r) alphaʳ βˢ e^{g_pᵀ Σⱼ z(tⱼ)} [ (alpha+A(T))^{-(r+x)} (β+B(T))^{-s}
        + s ∫_{t_x}^T b(τ) (alpha+A(τ))^{-(r+x)} (β+B(τ))^{-(s+1)} dτ ],

whose last integral is taken here numerically, period by period (mpmath or
Gauss-Legendre), independently of the closed-form 2F1 terms of the Rust core.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import mpmath
import numpy as np


def segments(starts: Sequence[float], t_x: float, age: float) -> list[tuple[float, float, int]]:
    """(from, to, period index) covering [0, T], split at t_x; ``starts`` are the
    period start times relative to birth (the first ≤ 0), each lasting until
    the next."""
    cuts = sorted({0.0, t_x, age, *[s for s in starts if 0.0 < s < age]})
    out = []
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        k = max(i for i, s in enumerate(starts) if s <= lo)
        out.append((lo, hi, k))
    return out


def log_likelihood(
    params: dict[str, float],
    z: np.ndarray,
    starts: Sequence[float],
    purchases: Sequence[float],
    age: float,
    purchase_cols: Sequence[int],
    dropout_cols: Sequence[int],
    gp: Sequence[float],
    gd: Sequence[float],
    use_mpmath: bool = False,
) -> float:
    """ln L of one customer: ``z`` rows = periods (columns = covariates),
    ``starts`` their start times relative to birth, ``purchases`` the repeat
    purchase times in (0, T]."""
    r, alpha, s, beta = (params[k] for k in ("r", "alpha", "s", "beta"))
    eta_p = z[:, list(purchase_cols)] @ np.asarray(gp, float)
    eta_d = z[:, list(dropout_cols)] @ np.asarray(gd, float)
    a, b = np.exp(eta_p), np.exp(eta_d)
    x = len(purchases)
    t_x = max(purchases) if x else 0.0

    def period_of(t: float) -> int:
        return max(i for i, st in enumerate(starts) if st <= t)

    ln_c = (
        math.lgamma(r + x)
        - math.lgamma(r)
        + r * math.log(alpha)
        + s * math.log(beta)
        + sum(eta_p[period_of(t)] for t in purchases)
    )
    segs = segments(starts, t_x, age)
    big_a = big_b = 0.0
    death = 0.0
    for lo, hi, k in segs:
        if lo >= t_x:
            a0, b0, ak, bk = big_a, big_b, a[k], b[k]

            def f(u: float, a0=a0, b0=b0, ak=ak, bk=bk) -> float:
                return bk * (alpha + a0 + ak * u) ** (-(r + x)) * (beta + b0 + bk * u) ** (-(s + 1))

            if use_mpmath:
                death += float(mpmath.quad(lambda u: f(float(u)), [0.0, hi - lo]))
            else:
                nodes, weights = np.polynomial.legendre.leggauss(40)
                u = 0.5 * (hi - lo) * (nodes + 1.0)
                death += 0.5 * (hi - lo) * float(np.sum(weights * f(u)))  # type: ignore[arg-type]
        big_a += a[k] * (hi - lo)
        big_b += b[k] * (hi - lo)
    alive = (alpha + big_a) ** (-(r + x)) * (beta + big_b) ** (-s)
    return ln_c + math.log(alive + s * death)
