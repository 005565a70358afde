"""Reference values of tests/bounded.rs (issue 12), printed as Rust table rows.

BdW discounted expected residual lifetimes at rates 1e-1 … 1e-12, BG/BB at
100,000 opportunities, and ₂F₁ with parameters near 1e14 whose c − a − b is
close to (but not) an integer. Uses the definitions of
scripts/make_mpmath_grid_other.py (50 digits). Run from the repository root::

    python scripts/make_bounded_reference.py
"""

from __future__ import annotations

import mpmath as mp

from make_mpmath_grid_other import bgbb_likelihood_parts, discounted_sum, lbeta

mp.mp.dps = 50


def bdw_rows() -> None:
    print("// (alpha, beta, c, n, d, DERL)")
    for al, be, c in [(0.704, 1.182, 1.0), (0.5, 2.0, 0.6), (3.0, 40.0, 1.7), (1e-3, 1e7, 0.2)]:
        A, B, C = mp.mpf(al), mp.mpf(be), mp.mpf(c)

        def ln_surv(u):
            return lbeta(A, B + mp.mpf(u) ** C) - lbeta(A, B) if u > 0 else mp.mpf(0)

        for n in [0, 7]:
            ln_sn = ln_surv(n)
            for d in [1e-1, 1e-2, 1e-4, 1e-6, 1e-9, 1e-12]:
                v = discounted_sum(lambda j: mp.exp(ln_surv(n + j) - ln_sn), mp.log1p(d))
                print(f"({al!r}, {be!r}, {c!r}, {n}.0, {d:e}, {mp.nstr(v, 17)}),")


def bgbb_rows() -> None:
    print("// (alpha, beta, gamma, delta, x, t_x, n, ln L, P(alive at n+1))")
    for al, be, ga, de in [(1.204, 0.750, 0.657, 2.783), (0.3, 5.0, 0.05, 40.0)]:
        for x, tx in [(0, 0), (3, 6), (40, 90_000)]:
            n = 100_000
            alive, like = bgbb_likelihood_parts(*map(mp.mpf, (al, be, ga, de)), x, tx, n)
            p = alive * mp.exp(lbeta(ga, de + n + 1) - lbeta(ga, de + n)) / like
            print(
                f"({al}, {be}, {ga}, {de}, {x}.0, {tx}.0, {n}.0, "
                f"{mp.nstr(mp.log(like), 17)}, {mp.nstr(p, 17)}),"
            )


def hyp2f1_rows() -> None:
    print("// (a, b, c, 1 - z, ln 2F1)")
    for a, b, c, y in [
        (1.0, 1e14, 1e14 + 1.75, 1e-15),
        (1.0, 1e14, 1e14 + 2.3, 5e-15),
        (0.5, 2e13, 2e13 + 1.2, 2e-14),
    ]:
        v = mp.hyp2f1(a, b, mp.mpf(c), mp.mpf(1.0 - y))  # the double the test passes
        print(f"({a}, {b:e}, {c!r}, {y:e}, {mp.nstr(mp.log(v), 17)}),")


if __name__ == "__main__":
    bdw_rows()
    bgbb_rows()
    hyp2f1_rows()
