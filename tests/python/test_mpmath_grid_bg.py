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
# Values that raise a ValueError pass by the rules above: BetaGeo 1, 31, 46, 49 and
# ModifiedBetaGeo 13, 38, 54 ("cannot be evaluated accurately"), and Gamma-Gamma
# with q <= 1, also for x > 0, where p(v + x m)/(px + q - 1) is finite.
KNOWN: dict[tuple[str, int, str], str] = {
    ("BetaGeo", 0, "pmf"): "0.000107162 for 0.000107162 (relative error 1.4e-08)",
    ("BetaGeo", 0, "expected"): "0.0 instead of 0.0306132",
    ("BetaGeo", 0, "conditional_expected"): "0.0 instead of 0.763562",
    ("BetaGeo", 0, "dert"): "0.477857 for 0.76203 (relative error 3.7e-01)",
    ("BetaGeo", 1, "dert"): "0.0894566 for 91.8181 (relative error 1.0e+00)",
    ("BetaGeo", 2, "expected"): "0.0 instead of 1.92593",
    ("BetaGeo", 2, "conditional_expected"): "0.0 instead of 0.122159",
    ("BetaGeo", 2, "dert"): "0.155809 for 0.113231 (relative error 3.8e-01)",
    ("BetaGeo", 4, "expected"): "9.99997e-13 for 1e-12 (relative error 2.8e-06)",
    ("BetaGeo", 4, "conditional_expected"): "9.09089e-13 for 9.09091e-13 (relative error 2.1e-06)",
    ("BetaGeo", 4, "dert"): "0.0 instead of 9.09091e-11",
    ("BetaGeo", 5, "pmf"): "9.99999e-11 for 9.99999e-11 (relative error 1.7e-08)",
    ("BetaGeo", 5, "dert"): "0.0 instead of 100999",
    ("BetaGeo", 6, "expected"): "0.0 instead of 3.99999",
    ("BetaGeo", 6, "conditional_expected"): "0.0 instead of 0.00820887",
    ("BetaGeo", 6, "dert"): "0.0 instead of 0.0033942",
    ("BetaGeo", 7, "expected"): "0.0 instead of 39.7656",
    ("BetaGeo", 7, "conditional_expected"): "0.0 instead of 48.0835",
    ("BetaGeo", 7, "dert"): "0.0 instead of 25.3108",
    ("BetaGeo", 8, "pmf"): "7.69854e-07 for 7.69854e-07 (relative error 2.8e-08)",
    ("BetaGeo", 8, "expected"): "0.0 instead of 0.855612",
    ("BetaGeo", 8, "conditional_expected"): "0.0 instead of 0.00014076",
    ("BetaGeo", 8, "dert"): "0.000140982 for 0.000135965 (relative error 3.7e-02)",
    ("BetaGeo", 9, "dert"): "1.07111e-14 for 1.08111e-14 (relative error 9.2e-03)",
    ("BetaGeo", 10, "expected"): "2.56945e-06 for 2.56945e-06 (relative error 1.8e-07)",
    ("BetaGeo", 10, "dert"): "0.0 instead of 0.0144815",
    ("BetaGeo", 11, "expected"): "0.0 instead of 2.44071e-05",
    ("BetaGeo", 11, "conditional_expected"): "0.0 instead of 2.43894e-05",
    ("BetaGeo", 11, "dert"): "0.0 instead of 7.3246e-06",
    ("BetaGeo", 12, "expected"): "0.0 instead of 21.6267",
    ("BetaGeo", 12, "conditional_expected"): "0.0 instead of 21.6267",
    ("BetaGeo", 12, "dert"): "0.0 instead of 21.6164",
    ("BetaGeo", 14, "expected"): "0.0 instead of 0.10974",
    ("BetaGeo", 14, "conditional_expected"): "0.0 instead of 0.280618",
    ("BetaGeo", 14, "dert"): "0.0 instead of 0.162347",
    ("BetaGeo", 16, "expected"): "0.0 instead of 1.32902",
    ("BetaGeo", 17, "expected"): "0.0 instead of 0.823192",
    ("BetaGeo", 17, "conditional_expected"): "0.0 instead of 1.06642",
    ("BetaGeo", 18, "expected"): "0.0 instead of 1.00736",
    ("BetaGeo", 20, "expected"): "0.0 instead of 1.00554",
    ("BetaGeo", 20, "conditional_expected"): "0.0 instead of 0.00516284",
    ("BetaGeo", 20, "dert"): "9.02727e-191 for 0.00498258 (relative error 1.0e+00)",
    ("BetaGeo", 21, "expected"): "0.0 instead of 1",
    ("BetaGeo", 21, "dert"): "0.690318 for 0.690334 (relative error 2.3e-05)",
    ("BetaGeo", 22, "expected"): "1.44096e-07 for 1.44096e-07 (relative error 6.1e-07)",
    ("BetaGeo", 22, "dert"): "0.0 instead of 0.00508812",
    ("BetaGeo", 23, "expected"): "0.0 instead of 3.53742",
    ("BetaGeo", 23, "conditional_expected"): "0.0 instead of 3.53742",
    ("BetaGeo", 23, "dert"): "0.0 instead of 3.53712",
    ("BetaGeo", 24, "expected"): "0.0 instead of 16.9853",
    ("BetaGeo", 24, "dert"): "0.0 instead of 16.8956",
    ("BetaGeo", 25, "expected"): "0.0 instead of 1",
    ("BetaGeo", 26, "dert"): "6.20584e-10 for 6.34878e-07 (relative error 1.0e+00)",
    ("BetaGeo", 27, "expected"): "0.0 instead of 1.0002",
    ("BetaGeo", 27, "conditional_expected"): "0.0 instead of 1.0002",
    ("BetaGeo", 28, "expected"): "0.0 instead of 1.71852",
    ("BetaGeo", 28, "conditional_expected"): "0.0 instead of 1.71726",
    ("BetaGeo", 28, "dert"): "0.0 instead of 1.71429",
    ("BetaGeo", 29, "dert"): "4.62913e-81 for 0.406488 (relative error 1.0e+00)",
    ("BetaGeo", 32, "expected"): "0.0 instead of 0.0745194",
    ("BetaGeo", 32, "conditional_expected"): "0.0 instead of 0.153589",
    ("BetaGeo", 32, "dert"): "0.0 instead of 0.740477",
    ("BetaGeo", 33, "dert"): "7.21745e-09 for 909.465 (relative error 1.0e+00)",
    ("BetaGeo", 35, "expected"): "0.0 instead of 0.979795",
    ("BetaGeo", 35, "conditional_expected"): "0.0 instead of 1.04838e-06",
    ("BetaGeo", 35, "dert"): "0.0 instead of 1.0361e-06",
    ("BetaGeo", 37, "expected"): "0.0 instead of 1.00013",
    ("BetaGeo", 37, "conditional_expected"): "0.0 instead of 3.13149e-170",
    ("BetaGeo", 37, "dert"): "0.0 instead of 2.43301e-170",
    ("BetaGeo", 39, "dert"): "17.4811 for 17.6368 (relative error 8.8e-03)",
    ("BetaGeo", 40, "pmf"): "0.000474726 for 0.000474726 (relative error 1.3e-08)",
    ("BetaGeo", 40, "expected"): "0.0 instead of 0.00722758",
    ("BetaGeo", 40, "conditional_expected"): "0.0 instead of 0.00722756",
    ("BetaGeo", 40, "dert"): "0.0 instead of 3.14865e-05",
    ("BetaGeo", 41, "expected"): "0.0 instead of 1.23896",
    ("BetaGeo", 41, "conditional_expected"): "0.0 instead of 1.25148",
    ("BetaGeo", 42, "expected"): "1.89476e+182 for 57.17 (relative error 3.3e+180)",
    ("BetaGeo", 43, "dert"): "6.18264e-33 for 1.10965e-26 (relative error 1.0e+00)",
    ("BetaGeo", 44, "pmf"): "1.33415e-31 for 1.33415e-31 (relative error 1.0e-08)",
    ("BetaGeo", 44, "dert"): "0.0 instead of 1.11837e-08",
    ("BetaGeo", 45, "expected"): "0.0 instead of 0.147543",
    ("BetaGeo", 45, "conditional_expected"): "0.0 instead of 4.99358e-17",
    ("BetaGeo", 45, "dert"): "0.0 instead of 1.08264e-19",
    ("BetaGeo", 47, "expected"): "0.0 instead of 1.0007",
    ("BetaGeo", 47, "dert"): "0.000589148 for 0.99387 (relative error 1.0e+00)",
    ("BetaGeo", 48, "dert"): "0.0 instead of 0.000718763",
    ("BetaGeo", 49, "expected"): "0.0 instead of 1.01254",
    ("BetaGeo", 50, "pmf"): "8.45083e-58 for 8.45083e-58 (relative error 1.8e-08)",
    ("BetaGeo", 50, "dert"): "0.0 instead of 0.0959962",
    ("BetaGeo", 51, "dert"): "7.03529 for 7.03534 (relative error 7.2e-06)",
    ("BetaGeo", 52, "expected"): "4.41891e-09 for 4.41891e-09 (relative error 1.6e-08)",
    ("BetaGeo", 52, "dert"): "0.0 instead of 3.17564e-05",
    ("BetaGeo", 53, "pmf"): "0.0104593 for 0.0104593 (relative error 3.2e-08)",
    ("BetaGeo", 53, "expected"): "0.0 instead of 0.0104593",
    ("BetaGeo", 53, "conditional_expected"): "0.0 instead of 2.11188e-11",
    ("BetaGeo", 53, "dert"): "0.0 instead of 9.45912e-12",
    ("BetaGeo", 54, "log_likelihood"): "-0.000310004 for -0.000310004 (relative error 9.4e-08)",
    ("BetaGeo", 54, "dert"): "9.21324e-08 for 0.000124186 (relative error 1.0e+00)",
    ("BetaGeo", 55, "expected"): "0.0 instead of 5.79046",
    ("BetaGeo", 56, "expected"): "0.0 instead of 1.06188",
    ("BetaGeo", 57, "expected"): "0.0 instead of 0.0291546",
    ("BetaGeo", 57, "conditional_expected"): "0.0 instead of 0.00228739",
    ("BetaGeo", 57, "dert"): "6.34204e-12 for 0.00228671 (relative error 1.0e+00)",
    ("BetaGeo", 58, "expected"): "0.0 instead of 0.991155",
    ("BetaGeo", 58, "conditional_expected"): "0.0 instead of 0.984651",
    ("BetaGeo", 59, "dert"): "0.0 instead of 0.00120525",
    ("ModifiedBetaGeo", 0, "expected"): "0.0 instead of 0.0153066",
    ("ModifiedBetaGeo", 0, "conditional_expected"): "0.0 instead of 0.763562",
    ("ModifiedBetaGeo", 0, "dert"): "0.477847 for 0.76203 (relative error 3.7e-01)",
    ("ModifiedBetaGeo", 1, "expected"): "0.0 instead of 4956.27",
    ("ModifiedBetaGeo", 1, "dert"): "0.0894566 for 91.8181 (relative error 1.0e+00)",
    ("ModifiedBetaGeo", 2, "pmf"): "0.249911 for 0.249911 (relative error 1.3e-08)",
    ("ModifiedBetaGeo", 2, "expected"): "0.0 instead of 0.962963",
    ("ModifiedBetaGeo", 2, "conditional_expected"): "0.0 instead of 0.122159",
    ("ModifiedBetaGeo", 2, "dert"): "0.155809 for 0.113231 (relative error 3.8e-01)",
    (
        "ModifiedBetaGeo",
        4,
        "log_likelihood",
    ): "-2.16312e-08 for -9.53056e-15 (relative error 2.3e+06)",
    ("ModifiedBetaGeo", 4, "pmf"): "1 for 1 (relative error 3.0e-08)",
    ("ModifiedBetaGeo", 4, "expected"): "9.99995e-23 for 1e-22 (relative error 4.8e-06)",
    (
        "ModifiedBetaGeo",
        4,
        "conditional_expected",
    ): "9.09004e-23 for 9.09004e-23 (relative error 2.5e-07)",
    ("ModifiedBetaGeo", 4, "dert"): "0.0 instead of 9.09004e-21",
    ("ModifiedBetaGeo", 5, "dert"): "0.0 instead of 100999",
    ("ModifiedBetaGeo", 6, "expected"): "0.0 instead of 3",
    ("ModifiedBetaGeo", 6, "conditional_expected"): "0.0 instead of 0.00820888",
    ("ModifiedBetaGeo", 6, "dert"): "0.0 instead of 0.0033942",
    ("ModifiedBetaGeo", 7, "pmf"): "0.0337904 for 0.0337904 (relative error 1.9e-08)",
    ("ModifiedBetaGeo", 7, "expected"): "0.0 instead of 38.9859",
    ("ModifiedBetaGeo", 7, "conditional_expected"): "0.0 instead of 48.0835",
    ("ModifiedBetaGeo", 7, "dert"): "0.0 instead of 25.3108",
    ("ModifiedBetaGeo", 8, "pmf"): "1.28309e-07 for 1.28309e-07 (relative error 2.7e-08)",
    ("ModifiedBetaGeo", 8, "expected"): "0.0 instead of 0.142602",
    ("ModifiedBetaGeo", 8, "conditional_expected"): "0.0 instead of 0.000140761",
    ("ModifiedBetaGeo", 8, "dert"): "0.000140981 for 0.000135965 (relative error 3.7e-02)",
    ("ModifiedBetaGeo", 9, "dert"): "1.07216e-11 for 1.08218e-11 (relative error 9.3e-03)",
    ("ModifiedBetaGeo", 12, "expected"): "0.0 instead of 0.0833786",
    ("ModifiedBetaGeo", 12, "conditional_expected"): "0.0 instead of 1.0099e-11",
    ("ModifiedBetaGeo", 12, "dert"): "0.0 instead of 9.53378e-12",
    ("ModifiedBetaGeo", 15, "dert"): "1.81991 for 6009.76 (relative error 1.0e+00)",
    ("ModifiedBetaGeo", 16, "expected"): "0.0 instead of 1.19409",
    ("ModifiedBetaGeo", 17, "expected"): "0.0 instead of 22.4798",
    ("ModifiedBetaGeo", 17, "dert"): "0.0 instead of 4.01284e-22",
    ("ModifiedBetaGeo", 19, "expected"): "0.0 instead of 0.00148894",
    ("ModifiedBetaGeo", 20, "log_likelihood"): "-0.0166027 for -0.0166027 (relative error 2.0e-07)",
    ("ModifiedBetaGeo", 20, "pmf"): "0.000266656 for 0.000266656 (relative error 1.2e-08)",
    ("ModifiedBetaGeo", 20, "expected"): "0.0 instead of 0.0167413",
    ("ModifiedBetaGeo", 20, "conditional_expected"): "0.0 instead of 1.02669e-18",
    ("ModifiedBetaGeo", 20, "dert"): "0.0 instead of 9.88183e-19",
    ("ModifiedBetaGeo", 21, "expected"): "0.0 instead of 0.0135946",
    ("ModifiedBetaGeo", 22, "dert"): "48.1389 for 123386 (relative error 1.0e+00)",
    ("ModifiedBetaGeo", 23, "expected"): "2.35961e+173 for 7131.18 (relative error 3.3e+169)",
    (
        "ModifiedBetaGeo",
        23,
        "conditional_expected",
    ): "1.99722e+138 for 1.11547e-24 (relative error 1.8e+162)",
    ("ModifiedBetaGeo", 24, "expected"): "0.0 instead of 5.01765",
    ("ModifiedBetaGeo", 24, "conditional_expected"): "0.0 instead of 2.4309e-187",
    ("ModifiedBetaGeo", 25, "expected"): "4.81225e+39 for 0.000171787 (relative error 2.8e+43)",
    (
        "ModifiedBetaGeo",
        26,
        "log_likelihood",
    ): "-1.84402e-07 for -1.84127e-07 (relative error 1.5e-03)",
    ("ModifiedBetaGeo", 26, "expected"): "0.0 instead of 1.84144e-07",
    (
        "ModifiedBetaGeo",
        27,
        "log_likelihood",
    ): "-2.74815e-06 for -2.74812e-06 (relative error 1.4e-05)",
    ("ModifiedBetaGeo", 27, "dert"): "0.000184905 for 0.188585 (relative error 1.0e+00)",
    ("ModifiedBetaGeo", 28, "expected"): "0.0 instead of 2.58468",
    ("ModifiedBetaGeo", 28, "conditional_expected"): "0.0 instead of 1.58679",
    ("ModifiedBetaGeo", 29, "expected"): "0.0 instead of 0.0634467",
    ("ModifiedBetaGeo", 29, "conditional_expected"): "0.0 instead of 2.0676e-26",
    ("ModifiedBetaGeo", 31, "expected"): "0.0 instead of 22.8398",
    ("ModifiedBetaGeo", 32, "expected"): "0.0 instead of 0.0183014",
    ("ModifiedBetaGeo", 33, "expected"): "0.0 instead of 0.0211418",
    ("ModifiedBetaGeo", 34, "expected"): "0.0 instead of 3.58661e-07",
    ("ModifiedBetaGeo", 36, "expected"): "0.0 instead of 0.137908",
    ("ModifiedBetaGeo", 37, "log_likelihood"): "-2.95345 for -2.95345 (relative error 1.7e-08)",
    ("ModifiedBetaGeo", 37, "pmf"): "1.22272e-07 for 1.22272e-07 (relative error 1.7e-08)",
    ("ModifiedBetaGeo", 37, "expected"): "0.0 instead of 18.172",
    ("ModifiedBetaGeo", 38, "expected"): "0.0 instead of 1.93645",
    ("ModifiedBetaGeo", 40, "expected"): "0.0 instead of 7.04678",
    ("ModifiedBetaGeo", 40, "conditional_expected"): "0.0 instead of 7.05846",
    ("ModifiedBetaGeo", 40, "dert"): "0.0 instead of 0.209463",
    ("ModifiedBetaGeo", 41, "expected"): "0.0 instead of 3.1623e-05",
    ("ModifiedBetaGeo", 42, "expected"): "0.0 instead of 0.0151377",
    ("ModifiedBetaGeo", 43, "dert"): "0.46724 for 149.499 (relative error 1.0e+00)",
    ("ModifiedBetaGeo", 44, "expected"): "0.0 instead of 0.0402301",
    ("ModifiedBetaGeo", 44, "dert"): "0.0 instead of 1.73611e-07",
    ("ModifiedBetaGeo", 45, "expected"): "0.0 instead of 0.00124578",
    ("ModifiedBetaGeo", 45, "conditional_expected"): "0.0 instead of 7.36102e-08",
    ("ModifiedBetaGeo", 45, "dert"): "3.98743e-10 for 5.47316e-08 (relative error 9.9e-01)",
    (
        "ModifiedBetaGeo",
        46,
        "log_likelihood",
    ): "-6.62271e-09 for -1.22038e-09 (relative error 4.4e+00)",
    ("ModifiedBetaGeo", 46, "expected"): "0.0 instead of 4.28833e-08",
    ("ModifiedBetaGeo", 46, "conditional_expected"): "0.0 instead of 4.26609e-08",
    ("ModifiedBetaGeo", 46, "dert"): "0.0 instead of 1.19264e-09",
    ("ModifiedBetaGeo", 48, "log_likelihood"): "-0.0228858 for -0.0228858 (relative error 8.0e-07)",
    ("ModifiedBetaGeo", 48, "expected"): "9.94119e-06 for 9.94119e-06 (relative error 6.6e-08)",
    ("ModifiedBetaGeo", 48, "dert"): "0.0 instead of 5.89962e-05",
    ("ModifiedBetaGeo", 50, "expected"): "0.0 instead of 114.11",
    ("ModifiedBetaGeo", 50, "dert"): "4.01066e-20 for 4.01067e-20 (relative error 2.8e-06)",
    ("ModifiedBetaGeo", 51, "dert"): "0.0038456 for 2.42552 (relative error 1.0e+00)",
    ("ModifiedBetaGeo", 52, "expected"): "0.0 instead of 1.60828",
    ("ModifiedBetaGeo", 54, "expected"): "0.0 instead of 1.50058e+06",
    ("ModifiedBetaGeo", 56, "expected"): "0.0 instead of 0.0344966",
    ("ModifiedBetaGeo", 56, "conditional_expected"): "0.0 instead of 0.385969",
    ("ModifiedBetaGeo", 57, "expected"): "0.0 instead of 4.60921",
    ("ModifiedBetaGeo", 57, "conditional_expected"): "0.0 instead of 4.11331e-22",
    ("ModifiedBetaGeo", 57, "dert"): "1.75485e-21 for 1.75485e-21 (relative error 2.1e-06)",
    ("ModifiedBetaGeo", 58, "expected"): "0.0 instead of 1.133",
}


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
