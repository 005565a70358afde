"""BG/NBD and MBG/NBD at extreme parameters against mpmath (issue 12).

Values from ``tests/fixtures/bg_extremes_mpmath.json`` (made by
``scripts/make_bg_extremes_fixture.py`` from the models' definitions at 50 digits):
expected and conditional expected purchases, P(X(t) = n), DERT and discrete CLV, with
a and b from 1e-3 to 1e7 and the issue's examples (0.0 instead of 0.8357, 5.7e139
instead of 0.00282).
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from retentionkit import BetaGeoFitter, ModifiedBetaGeoFitter, _core

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "bg_extremes_mpmath.json"


@functools.cache
def _cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(FIXTURE.read_text())["cases"]
    return cases


FITTERS = {"bgnbd": BetaGeoFitter, "mbgnbd": ModifiedBetaGeoFitter}
TOL = 1e-8


def _fitter(case: dict[str, Any]) -> BetaGeoFitter | ModifiedBetaGeoFitter:
    fitter = FITTERS[case["model"]]()
    fitter.params_ = case["params"]
    return fitter


def _value(case: dict[str, Any]) -> float:
    f = _fitter(case)
    a = case["args"]
    kind = case["kind"]
    if kind == "expected":
        return float(np.asarray(f.expected_number_of_purchases_up_to_time(a["t"])))
    if kind == "conditional":
        out = f.conditional_expected_number_of_purchases_up_to_time(
            a["t"], a["x"], a["t_x"], a["T"]
        )
        return float(np.asarray(out))
    if kind == "pmf":
        return float(np.asarray(f.probability_of_n_purchases_up_to_time(a["t"], a["n"])))
    if kind == "dert":
        out = f.discounted_expected_residual_transactions(a["delta"], a["x"], a["t_x"], a["T"])
        return float(np.asarray(out))
    if kind == "clv":
        assert a["per_month"] == 4.345  # lifetimes' weeks per month
        values = _core.customer_lifetime_value(
            f._model,
            np.array([a["x"]], dtype=float),
            np.array([a["t_x"]], dtype=float),
            np.array([a["T"]], dtype=float),
            np.array([a["monetary"]], dtype=float),
            time=float(a["months"]),
            discount_rate=a["rate"],
            freq="W",
        )
        return float(values[0])
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["expected", "conditional", "pmf", "dert", "clv"])
def test_predictions_match_mpmath(kind: str) -> None:
    cases = [c for c in _cases() if c["kind"] == kind]
    assert cases
    failures = []
    for case in cases:
        got, want = _value(case), case["value"]
        ok = abs(got - want) <= TOL * abs(want) if want != 0 else abs(got) < 1e-300
        if not (math.isfinite(got) and ok):
            failures.append(f"{case['model']} {case['params']} {case['args']}: {got!r} vs {want!r}")
    assert not failures, f"{len(failures)} of {len(cases)}:\n" + "\n".join(failures)


def test_issue_examples() -> None:
    f = BetaGeoFitter()
    f.params_ = [0.5, 10, 1000, 1000]
    assert float(f.expected_number_of_purchases_up_to_time(39)) == pytest.approx(
        0.8356849346696433, rel=TOL
    )
    f.params_ = [1000, 1000, 2, 3]
    got = float(f.conditional_expected_number_of_purchases_up_to_time(1000, 3, 30, 39))
    assert got == pytest.approx(0.0028216793707025863, rel=TOL)


@pytest.mark.parametrize("fitter_class", [BetaGeoFitter, ModifiedBetaGeoFitter])
def test_probability_of_n_purchases_at_huge_t_and_n(fitter_class: type) -> None:
    """t = 1e300 gives the limit B(a+1, b+n-1+s)/B(a, b) (every purchase made), n = 1e300
    gives 0 (below the smallest double); neither is NaN or an error."""
    f = fitter_class()
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    f.params_ = [r, alpha, a, b]
    s = 1.0 if fitter_class is ModifiedBetaGeoFitter else 0.0
    n = 10
    limit = math.exp(
        math.lgamma(a + 1)
        + math.lgamma(b + n - 1 + s)
        - math.lgamma(a + b + n + s)
        - (math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b))
    )
    # The remaining mass P(N(1e300) < 10) is of order (alpha/t)^r = 1e-73.
    assert float(f.probability_of_n_purchases_up_to_time(1e300, n)) == pytest.approx(
        limit, rel=1e-12
    )
    assert float(f.probability_of_n_purchases_up_to_time(10, 1e300)) == 0.0


def _limit_expected(r: float, alpha: float, p: float, t: float) -> float:
    """E[X(t)] of the BG/NBD with one drop-out probability p for everyone:
    E_lambda[(1 - exp(-lambda p t))/p] with lambda ~ Gamma(r, alpha)."""
    return (1.0 - (alpha / (alpha + p * t)) ** r) / p


def _limit_conditional(
    r: float, alpha: float, p: float, t: float, x: float, t_x: float, T: float
) -> float:
    alive = (
        1.0 if x == 0 else 1.0 / (1.0 + p / (1.0 - p) * ((alpha + T) / (alpha + t_x)) ** (r + x))
    )
    return alive * (1.0 - ((alpha + T) / (alpha + T + p * t)) ** (r + x)) / p


@pytest.fixture(scope="module")
def collapsed_fit() -> tuple[BetaGeoFitter, Any]:
    """Data from r=0.8, alpha=5, a=300, b=3000 (drop-out probability 0.0909 for nearly
    everyone), 50,000 customers over 52 weeks: the fit runs off to a, b -> infinity."""
    truth = BetaGeoFitter()
    truth.params_ = [0.8, 5.0, 300.0, 3000.0]
    data = truth.generate_new_data(size=50_000, seed=12, T=np.full(50_000, 52.0))
    fitter = BetaGeoFitter()
    with pytest.warns(UserWarning, match="drop-out heterogeneity not identified") as record:
        fitter.fit(data["frequency"], data["recency"], data["T"])
    return fitter, (data, record)


def test_collapsed_fit_warns_and_names_the_limit_model(
    collapsed_fit: tuple[BetaGeoFitter, Any],
) -> None:
    fitter, (_, record) = collapsed_fit
    a, b = float(fitter.params_["a"]), float(fitter.params_["b"])
    assert a + b > 1e4
    message = str(record[0].message)
    assert f"common p = a/(a+b) = {a / (a + b):.4g}" in message
    assert fitter._model.fit_warnings == [message]
    # Saved with the model and back.
    again = BetaGeoFitter()
    again._model = type(fitter._model).from_json(fitter._model.to_json())
    assert again._model.fit_warnings == [message]


def test_collapsed_fit_predicts_like_the_data_and_the_limit_model(
    collapsed_fit: tuple[BetaGeoFitter, Any],
) -> None:
    fitter, (data, _) = collapsed_fit
    r, alpha, a, b = (float(fitter.params_[k]) for k in ("r", "alpha", "a", "b"))
    p = a / (a + b)
    # Everything used to be 0.0 here.
    expected = float(fitter.expected_number_of_purchases_up_to_time(52.0))
    mean = float(data["frequency"].mean())
    assert abs(expected - mean) < 0.05 * mean, (expected, mean)
    assert expected == pytest.approx(_limit_expected(r, alpha, p, 52.0), rel=1e-5)
    for x, t_x, T in ((0, 0, 52), (3, 30, 52), (12, 50, 52)):
        got = float(fitter.conditional_expected_number_of_purchases_up_to_time(39, x, t_x, T))
        assert got == pytest.approx(_limit_conditional(r, alpha, p, 39, x, t_x, T), rel=1e-5)
        dert = float(fitter.discounted_expected_residual_transactions(0.01, x, t_x, T))
        assert math.isfinite(dert) and dert > 0


def test_ordinary_fit_does_not_warn() -> None:
    import warnings

    from retentionkit.datasets import load_cdnow_summary

    df = load_cdnow_summary()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fitter = BetaGeoFitter().fit(df["frequency"], df["recency"], df["T"])
    assert fitter._model.fit_warnings == []
