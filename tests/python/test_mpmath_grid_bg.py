"""Every prediction of the BG/NBD, MBG/NBD and Gamma-Gamma against 40-digit mpmath
values over the whole parameter box a fit can return (issue 12).

The fixture ``tests/fixtures/mpmath_grid_bg.json`` comes from
``scripts/make_mpmath_grid_bg.py``, which evaluates each prediction from the
models' stories (integrals over the drop-out probability, Beta moments, the
Gamma-Gamma posterior) independently of the package. A prediction must agree to
1e-8 relative (1e-300 absolute where the true value is below that), or raise a
ValueError that says why; never 0, inf or NaN for a value that is not. Where the
true value is infinite (Gamma-Gamma with q <= 1) the fixture holds null and the
prediction must raise.

One test per (model, point, prediction), so that a fix shows exactly which
values flip; the open findings are listed in ``KNOWN`` as strict xfails
(``python tests/python/test_mpmath_grid_bg.py`` prints the list for the installed
build).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from retentionkit import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter

GRID = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures/mpmath_grid_bg.json").read_text()
)
RTOL = 1e-8
TINY = 1e-300


def _check(expected: float | None, call: Callable[[], Any]) -> str | None:
    """None when ``call()`` matches ``expected`` or raises a ValueError, else why not."""
    try:
        got = float(call())
    except ValueError as err:
        return None if str(err) else "a ValueError without a message"
    if expected is None:
        return f"{got!r} where the true value is infinite (expected a ValueError)"
    if abs(expected) < TINY:
        return None if math.isfinite(got) and abs(got) < TINY else f"{got!r} for {expected!r}"
    if math.isfinite(got) and abs(got - expected) <= RTOL * abs(expected):
        return None
    if got == 0 or not math.isfinite(got):
        return f"{got!r} instead of {expected!r}"
    return f"{got!r} for {expected!r} (relative error {abs(got / expected - 1):.1e})"


def _bg_family(cls: type) -> Callable[[dict[str, Any]], dict[str, Callable[[], Any]]]:
    def calls(p: dict[str, Any]) -> dict[str, Callable[[], Any]]:
        f = cls()
        f.params_ = dict(zip(["r", "alpha", "a", "b"], p["params"]))
        x, tx, T, t, n, delta = p["x"], p["tx"], p["T"], p["t"], p["n"], p["delta"]
        return {
            "p_alive": lambda: f.conditional_probability_alive(x, tx, T),
            "log_likelihood": lambda: f.individual_log_likelihood(x, tx, T),
            "expected": lambda: f.expected_number_of_purchases_up_to_time(t),
            "conditional_expected": lambda: f.conditional_expected_number_of_purchases_up_to_time(
                t, x, tx, T
            ),
            "pmf": lambda: f.probability_of_n_purchases_up_to_time(t, n),
            "dert": lambda: f.discounted_expected_residual_transactions(delta, x, tx, T),
        }

    return calls


def _gamma_gamma(p: dict[str, Any]) -> dict[str, Callable[[], Any]]:
    f = GammaGammaFitter()
    f.params_ = dict(zip(["p", "q", "v"], p["params"]))
    x, m = p["x"], p["m"]
    return {
        "expected_average_profit": lambda: f.expected_average_profit(),
        "conditional_expected_average_profit": lambda: f.conditional_expected_average_profit(x, m),
        "log_likelihood": lambda: f.individual_log_likelihood(x, m),
    }


CASES = {
    "BetaGeo": _bg_family(BetaGeoFitter),
    "ModifiedBetaGeo": _bg_family(ModifiedBetaGeoFitter),
    "GammaGamma": _gamma_gamma,
}

# Open findings of the grid (issue 12), one per (model, point, prediction), kept
# visible rather than hidden: strict, so an entry must go when its value is fixed.
# On main when the grid was added, 199 of 890 values missed 1e-8:
# - E[X(t)], E[Y(t) | .] and DERT of both models collapse to 0.0 where a and b are
#   large, or overflow (BetaGeo 42, ModifiedBetaGeo 23 and 25: 1e39 to 1e182);
# - DERT is off by up to 100% where a or b is tiny, and by 40% at a = b = 1e7
#   (references confirmed by a nested direct quadrature over p and lambda at
#   BetaGeo 2, 21 and 51, and by the bound E[1/(1+cp)] >= 1 - c E[p] at BetaGeo 39);
# - the MBG/NBD log-likelihood loses its relative accuracy near 0 (ModifiedBetaGeo
#   4 and 46: ln(1 - small) formed by cancellation);
# - P(X(t) = n) and a few E[X(t)] are off by 1e-8 to 3e-8 where r, a or b are in
#   the millions (differences of ln Gamma values of size 1e8).
# After the robust BG-family expectations (the quadrature over p when the series
# cancels, P(n) in log space) 8 remained, all log-likelihoods of customers without
# repeat purchases, formed with cancellation; with their own form (-r ln(1 + T/alpha),
# and for MBG/NBD ln(1 - b/(a+b) (1 - (alpha/(alpha+T))^r))) none remain.
# Values that raise a ValueError pass by the rules above: BetaGeo 1, 31, 46, 49 and
# ModifiedBetaGeo 13, 38, 54 ("cannot be evaluated accurately"), and Gamma-Gamma
# with q <= 1, also for x > 0, where p(v + x m)/(px + q - 1) is finite.
KNOWN: dict[tuple[str, int, str], str] = {}


def _params() -> list[Any]:
    out = []
    for model in sorted(CASES):
        for i, point in enumerate(GRID[model]):
            for name in point["values"]:
                key = (model, i, name)
                marks = [pytest.mark.xfail(strict=True, reason=KNOWN[key])] if key in KNOWN else []
                out.append(pytest.param(model, i, name, id=f"{model}-{i}-{name}", marks=marks))
    return out


@pytest.mark.parametrize(("model", "index", "name"), _params())
def test_prediction_matches_mpmath(model: str, index: int, name: str) -> None:
    point = GRID[model][index]
    problem = _check(point["values"][name], CASES[model](point)[name])
    inputs = {k: v for k, v in point.items() if k != "values"}
    assert problem is None, f"{model} point {index} {name} {inputs}: {problem}"


def test_known_findings_name_existing_values() -> None:
    for model, index, name in KNOWN:
        assert name in GRID[model][index]["values"], (model, index, name)


if __name__ == "__main__":  # the KNOWN entries for the installed build, to paste above
    for model in sorted(CASES):
        for i, point in enumerate(GRID[model]):
            calls = CASES[model](point)
            for name, expected in point["values"].items():
                problem = _check(expected, calls[name])
                if problem is not None:
                    print(f'    ("{model}", {i}, "{name}"): "{problem}",')
