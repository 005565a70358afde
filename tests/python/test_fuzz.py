"""Fuzzing: any input gives a valid, finite answer or a ValueError.

Never a panic (pyo3's ``PanicException`` is a BaseException that ``except
Exception`` misses; the bindings now turn one into a RuntimeError, which fails
here too), never another exception type, never a hang (a hard time limit per
call, on top of hypothesis' ``deadline``), never NaN or infinity in a result.
The inputs: fit data and settings, prediction inputs and parameters (valid and
invalid, extremes included), and saved models with mutated fields or text.
"""

from __future__ import annotations

import json
import math
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from retentionkit import (
    BetaGeoFitter,
    GammaGammaFitter,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
)

#: Seconds one call may take before the test fails as a hang.
HARD_LIMIT = 10.0

COMMON = settings(
    deadline=timedelta(seconds=HARD_LIMIT),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,
)


class Hang(Exception):
    """A call ran past HARD_LIMIT."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise Hang in the main thread after ``seconds`` (the bindings check Python's
    signals while the core works, so this interrupts native work too)."""

    def expire(signum: int, frame: Any) -> None:
        raise Hang(f"no answer after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def answer(call: Callable[[], Any]) -> np.ndarray | None:
    """The result of ``call`` as floats (asserted finite), or None after a ValueError;
    any other exception propagates and fails the test."""
    with time_limit(HARD_LIMIT):
        try:
            result = call()
        except ValueError:
            return None
    if isinstance(result, pd.DataFrame):
        result = result.select_dtypes("number").to_numpy()
    values = np.asarray(result, dtype=np.float64)
    assert np.isfinite(values).all(), f"non-finite result {values}"
    return values


# -- strategies ----------------------------------------------------------------------

EXTREMES = [0.0, -0.0, 1.0, 2.0, -1.0, 0.5, 1e-300, 5e-324, 1e300, 2.0**53, 1e10, 1e15]
#: Any float, with the edges drawn often.
anything = st.one_of(
    st.sampled_from([*EXTREMES, math.nan, math.inf, -math.inf]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-5, 500).map(float),
)
#: Positive parameters over the whole box a fit can return (1e-3 to 1e7).
positive = st.floats(-3.0, 7.0).map(lambda e: float(10.0**e))
#: A parameter: mostly in the box, sometimes anything (then a ValueError is fine).
parameter = st.one_of(positive, positive, positive, anything)
#: A customer history: mostly valid, sometimes anything.
history = st.one_of(
    st.tuples(
        st.integers(0, 10**5).map(float),
        st.floats(0.0, 1.0),
        st.floats(0.0, 1e6),
    ).map(lambda h: (h[0], h[1] * h[2], h[2])),
    st.tuples(anything, anything, anything),
)
horizon = st.one_of(st.floats(0.0, 1e4), anything)

TRANSACTION_FITTERS = [BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter]


def _with_params(cls: type, params: list[float]) -> Any:
    fitter = cls()
    try:
        fitter.params_ = params
    except ValueError:
        return None
    return fitter


@pytest.mark.parametrize("cls", TRANSACTION_FITTERS, ids=lambda c: c.__name__)
@COMMON
@given(
    params=st.lists(parameter, min_size=4, max_size=4),
    customer=history,
    t=horizon,
    n=st.one_of(st.integers(0, 50), st.sampled_from([-1, 10**6])),
)
# Found by this test: the MBG/NBD's P(N(3) = 1) at r = 1.7e-64 was -3.7e-15 (the
# incomplete beta function's complement rounded below 0).
@example(params=[1.7041603949547814e-64, 1.0, 1.0, 1.0], customer=(0.0, 0.0, 0.0), t=3.0, n=1)
def test_predictions(
    cls: type, params: list[float], customer: tuple[float, float, float], t: float, n: int
) -> None:
    fitter = _with_params(cls, params)
    if fitter is None:
        return
    x, t_x, age = customer
    alive = answer(lambda: fitter.conditional_probability_alive(x, t_x, age))
    if alive is not None:
        assert 0.0 <= alive <= 1.0
    expected = answer(
        lambda: fitter.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, age)
    )
    if expected is not None:
        assert expected >= 0.0
    new = answer(lambda: fitter.expected_number_of_purchases_up_to_time(t))
    if new is not None:
        assert new >= 0.0
    pmf = answer(lambda: fitter.probability_of_n_purchases_up_to_time(t, n))
    if pmf is not None:
        assert 0.0 <= pmf <= 1.0 + 1e-12


@COMMON
@given(params=st.lists(parameter, min_size=3, max_size=3), x=anything, m=anything)
def test_spend_predictions(params: list[float], x: float, m: float) -> None:
    fitter = _with_params(GammaGammaFitter, params)
    if fitter is not None:
        answer(lambda: fitter.conditional_expected_average_profit(x, m))


#: Small data sets, valid or not.
rows = st.lists(history, min_size=1, max_size=8)


@pytest.mark.parametrize("cls", TRANSACTION_FITTERS, ids=lambda c: c.__name__)
@settings(COMMON, max_examples=40)
@given(
    data=rows,
    penalizer=st.one_of(st.just(0.0), st.floats(0.0, 10.0), anything),
    tol=st.one_of(st.just(1e-8), anything),
    max_iterations=st.one_of(st.just(100), st.integers(-2, 300)),
)
def test_fits(
    cls: type,
    data: list[tuple[float, float, float]],
    penalizer: float,
    tol: float,
    max_iterations: int,
) -> None:
    frame = pd.DataFrame(data, columns=["frequency", "recency", "T"])
    fitter = cls(penalizer_coef=penalizer)
    params = answer(lambda: fitter.fit(frame, tol=tol, max_iterations=max_iterations).params_)
    if params is not None:
        assert (params > 0).all()
        answer(
            lambda: fitter.conditional_probability_alive(
                frame["frequency"], frame["recency"], frame["T"]
            )
        )


@settings(COMMON, max_examples=40)
@given(
    spend=st.lists(st.tuples(anything, anything), min_size=1, max_size=8),
    valid=st.lists(
        st.tuples(st.integers(1, 20).map(float), st.floats(0.01, 1e6)), min_size=2, max_size=8
    ),
    use_valid=st.booleans(),
)
def test_spend_fits(
    spend: list[tuple[float, float]], valid: list[tuple[float, float]], use_valid: bool
) -> None:
    x, m = zip(*(valid if use_valid else spend))
    params = answer(lambda: GammaGammaFitter().fit(list(x), list(m)).params_)
    if params is not None:
        assert (params > 0).all()


# -- saved models ----------------------------------------------------------------------

json_value = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=8),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=20), st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)

FIELDS = [
    ("format",),
    ("version",),
    ("model",),
    ("params",),
    ("params", "r"),
    ("params", "alpha"),
    ("params", "a"),
    ("params", "b"),
    ("params", "extra"),
    ("fit",),
    ("fit", "log_likelihood"),
    ("fit", "iterations"),
    ("fit", "converged"),
    ("fit", "termination"),
    ("fit", "covariance"),
    ("fit", "n_customers"),
    ("fit", "n_unique"),
    ("fit", "penalizer_coef"),
    ("time_unit",),
]


@pytest.fixture(scope="module")
def saved(cdnow: pd.DataFrame) -> dict[str, Any]:
    fitter = BetaGeoFitter().fit(cdnow)
    fitter.time_unit_ = "W"
    model: dict[str, Any] = json.loads(fitter._model_json())
    return model


def _mutate(saved: dict[str, Any], field: tuple[str, ...], how: str, value: Any) -> dict[str, Any]:
    copy = json.loads(json.dumps(saved))
    parent = copy
    for key in field[:-1]:
        if not isinstance(parent.get(key), dict):
            return copy
        parent = parent[key]
    key = field[-1]
    if how == "delete":
        parent.pop(key, None)
    elif how == "scale" and isinstance(parent.get(key), (int, float)):
        parent[key] = parent[key] * value if isinstance(value, float) else -parent[key]
    elif how == "truncate" and isinstance(copy.get("fit"), dict):
        cov = copy["fit"].get("covariance")
        if isinstance(cov, list):
            keep = (
                int(abs(value)) % 20
                if isinstance(value, (int, float)) and math.isfinite(value)
                else 3
            )
            copy["fit"]["covariance"] = (cov * 2)[:keep]
    elif how == "covariance" and isinstance(copy.get("fit"), dict):
        cov = copy["fit"].get("covariance")
        if isinstance(cov, list) and cov:
            index = (
                int(abs(value) % len(cov))
                if isinstance(value, float) and math.isfinite(value)
                else 0
            )
            cov[index] = value
    else:
        parent[key] = value
    return copy


def _loads(fitter: BetaGeoFitter, text: str) -> bool:
    """Whether ``text`` loads into ``fitter`` (a ValueError says it does not)."""
    with time_limit(HARD_LIMIT):
        try:
            fitter._set_model_json(text)
        except ValueError:
            return False
    return True


def _use(fitter: BetaGeoFitter) -> None:
    """Whatever loaded must predict, with intervals, finitely or refuse."""
    answer(lambda: fitter.conditional_probability_alive([0, 2, 10], [0, 30.0, 38.0], [39.0] * 3))
    answer(lambda: fitter.conditional_expected_number_of_purchases_up_to_time(10, 2, 30.0, 39.0))
    answer(lambda: fitter.conditional_probability_alive_interval(2, 30.0, 39.0, n_draws=20))
    summary = answer(lambda: fitter.summary["coef"])
    del summary


@settings(COMMON, max_examples=150)
@given(
    mutations=st.lists(
        st.tuples(
            st.sampled_from(FIELDS),
            st.sampled_from(["set", "set", "delete", "scale", "covariance", "truncate"]),
            st.one_of(anything, json_value),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_saved_models_with_mutated_fields(
    saved: dict[str, Any], mutations: list[tuple[tuple[str, ...], str, Any]]
) -> None:
    model = saved
    for field, how, value in mutations:
        model = _mutate(model, field, how, value)
    text = json.dumps(model)  # NaN and Infinity written as Python writes them
    fitter = BetaGeoFitter()
    if _loads(fitter, text):
        _use(fitter)


@settings(COMMON, max_examples=100)
@given(
    cut=st.integers(0, 2000),
    flips=st.lists(st.tuples(st.integers(0, 2000), st.characters()), max_size=3),
)
def test_saved_model_text_damaged(
    saved: dict[str, Any], cut: int, flips: list[tuple[int, str]]
) -> None:
    chars = list(json.dumps(saved, indent=2))
    for position, char in flips:
        if position < len(chars):
            chars[position] = char
    text = "".join(chars)[: len(chars) - cut % 50] if cut % 3 else "".join(chars)
    fitter = BetaGeoFitter()
    if _loads(fitter, text):
        _use(fitter)


# -- simulation --------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [BetaGeoFitter, ModifiedBetaGeoFitter], ids=lambda c: c.__name__)
def test_simulating_huge_purchase_rates_is_fast_and_right(cls: type) -> None:
    # The fuzz's first find: rates of ~1e5 per time unit and drop-out
    # probabilities of ~1e-4 were simulated one purchase at a time (r = 1e5,
    # alpha = 1e-3: 17 s for 5 customers); past 10,000 purchases the rest of a
    # history is now drawn at once. The mean must still match E[X(t)].
    fitter = cls()
    fitter.params_ = [100.0, 1e-3, 1.0, 1e4]
    with time_limit(HARD_LIMIT):
        sims = fitter.generate_new_data(size=4000, T=1.0, seed=7)
    expected = fitter.expected_number_of_purchases_up_to_time(1.0)
    assert abs(sims["frequency"].mean() / expected - 1) < 0.05
    assert (sims["recency"] <= 1.0).all() and (sims["frequency"] >= 0).all()
    assert (sims["frequency"] > 10_000).mean() > 0.3  # many went past the one-by-one part
    fitter.params_ = [1e5, 1e-3, 1e-3, 1e5]
    with time_limit(3.0):
        fast = fitter.generate_new_data(size=5, T=1.0, seed=1)
    assert np.isfinite(fast.select_dtypes("number").to_numpy()).all()
