"""Every prediction of the Pareto/NBD, BG/BB, sBG and BdW against 50-digit mpmath
values over the whole parameter box a fit can return (issue 12).

The fixture ``tests/fixtures/mpmath_grid_other.json`` comes from
``scripts/make_mpmath_grid_other.py``, which evaluates each model's defining
formulas independently of the package. A prediction must agree to 1e-8 relative
(1e-300 absolute where the true value is below that), or raise a ValueError that
says why; never 0, inf or NaN for a value that is not.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from retentionkit import (
    BetaDiscreteWeibullFitter,
    BetaGeoBetaBinomFitter,
    ParetoNBDFitter,
    ShiftedBetaGeometricFitter,
)

GRID = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures/mpmath_grid_other.json").read_text()
)
RTOL = 1e-8
TINY = 1e-300


def _check(expected: float, call: Callable[[], Any]) -> str | None:
    """None when ``call()`` matches ``expected`` or raises a ValueError, else why not."""
    try:
        got = float(call())
    except ValueError as err:
        return None if str(err) else "a ValueError without a message"
    if abs(expected) < TINY:
        return None if math.isfinite(got) and abs(got) < TINY else f"{got!r} for {expected!r}"
    if math.isfinite(got) and abs(got - expected) <= RTOL * abs(expected):
        return None
    return f"{got!r} for {expected!r} (relative error {abs(got / expected - 1):.1e})"


def _failures(
    model: str, calls: Callable[[Any, dict[str, Any]], dict[str, Callable[[], Any]]]
) -> list[str]:
    failures = []
    for i, point in enumerate(GRID[model]):
        fitter_calls = calls(None, point)
        for name, expected in point["values"].items():
            problem = _check(expected, fitter_calls[name])
            if problem is not None:
                inputs = {k: v for k, v in point.items() if k != "values"}
                failures.append(f"point {i} {name} {inputs}: {problem}")
    return failures


def _pareto(_: Any, p: dict[str, Any]) -> dict[str, Callable[[], Any]]:
    f = ParetoNBDFitter()
    f.params_ = dict(zip(["r", "alpha", "s", "beta"], p["params"]))
    x, tx, T, t, n, delta = p["x"], p["tx"], p["T"], p["t"], p["n"], p["delta"]
    return {
        "p_alive": lambda: f.conditional_probability_alive(x, tx, T),
        "expected": lambda: f.expected_number_of_purchases_up_to_time(t),
        "conditional_expected": lambda: f.conditional_expected_number_of_purchases_up_to_time(
            t, x, tx, T
        ),
        "pmf": lambda: f.probability_of_n_purchases_up_to_time(t, n),
        "conditional_pmf": lambda: f.conditional_probability_of_n_purchases_up_to_time(
            n, t, x, tx, T
        ),
        "dert": lambda: f.discounted_expected_residual_transactions(delta, x, tx, T),
    }


def _bgbb(_: Any, p: dict[str, Any]) -> dict[str, Callable[[], Any]]:
    f = BetaGeoBetaBinomFitter()
    f.params_ = dict(zip(["alpha", "beta", "gamma", "delta"], p["params"]))
    x, tx, n = p["x"], p["tx"], p["n"]
    return {
        "log_likelihood": lambda: f.individual_log_likelihood(x, tx, n),
        "p_alive_m": lambda: f.conditional_probability_alive(p["m"], x, tx, n),
        "conditional_expected": lambda: f.conditional_expected_number_of_purchases_up_to_time(
            p["n_star"], x, tx, n
        ),
        "expected": lambda: f.expected_number_of_purchases_up_to_time(n),
        "pmf": lambda: f.probability_of_n_purchases_up_to_time(n, p["k"]),
    }


def _retention(
    cls: type, names: list[str]
) -> Callable[[Any, dict[str, Any]], dict[str, Callable[[], Any]]]:
    def calls(_: Any, p: dict[str, Any]) -> dict[str, Callable[[], Any]]:
        f = cls()
        f.params_ = dict(zip(names, p["params"]))
        t, n, d = p["t"], p["n"], p["d"]
        return {
            "survival": lambda: f.survival_function(t),
            "retention": lambda: f.retention_rate(t),
            "churn": lambda: f.probability_of_churn_at(t),
            "derl": lambda: f.discounted_expected_residual_lifetime(n, d),
            "del": lambda: f.discounted_expected_lifetime(d),
        }

    return calls


CASES = {
    "ParetoNBD": _pareto,
    "BetaGeoBetaBinom": _bgbb,
    "ShiftedBetaGeometric": _retention(ShiftedBetaGeometricFitter, ["alpha", "beta"]),
    "BetaDiscreteWeibull": _retention(BetaDiscreteWeibullFitter, ["alpha", "beta", "c"]),
}


# Every model passes (issue 12). The last findings were BG/BB expectations
# off by up to 4e-3 for parameters in the millions, BdW and sBG churn, survival
# and DEL/DERL losing 1e-8 to 1e-5 where alpha or beta is in the millions (all
# from ln-gamma values of size a ln a cancelling; now one step of ln-gamma
# ratios, special::ln_gamma_ratio_step), BG/BB ln L near 0 for x = 0 (now
# ln1p of minus the probability of a transaction) and two bad references (BdW
# point 52: the generator's ln B(alpha, beta + t^c) at 50 digits lost every digit
# for t^c beyond 1e50; it now raises the precision with the size of the terms).
# The Pareto/NBD's 34 earlier findings were P(X(t)=n) returning 1.0 or no
# value for large parameters, fixed by a quadrature, and 15 wrong DERT
# references, now b e^(b delta) E_s(b delta).
# Strict: a model that regresses must be listed outside PASSING, with a reason.
KNOWN_FAILURES = pytest.mark.xfail(
    strict=True, reason="open findings of the mpmath grid, see the comment above"
)


PASSING = {"BetaDiscreteWeibull", "BetaGeoBetaBinom", "ParetoNBD", "ShiftedBetaGeometric"}


@pytest.mark.parametrize(
    "model",
    [pytest.param(m, marks=[] if m in PASSING else KNOWN_FAILURES) for m in sorted(CASES)],
)
def test_predictions_match_mpmath_over_the_parameter_box(model: str) -> None:
    failures = _failures(model, CASES[model])
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:40])
