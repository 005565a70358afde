"""The conversion layer between user inputs and the core, and properties of the model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retentionkit import BetaGeoFitter
from retentionkit._validation import as_float_array, prepare


def test_contiguous_float64_is_not_copied() -> None:
    array = np.arange(10, dtype=np.float64)
    assert as_float_array(array, "x") is array
    series = pd.Series(array)
    prepared = prepare(frequency=series, recency=array, T=5.0)
    assert np.shares_memory(prepared.arrays[0], series.to_numpy())
    assert np.shares_memory(prepared.arrays[1], array)
    assert all(a.flags.c_contiguous and a.dtype == np.float64 for a in prepared.arrays)


def test_other_inputs_are_converted() -> None:
    assert as_float_array([1, 2], "x").dtype == np.float64
    strided = np.arange(10.0)[::2]
    converted = as_float_array(strided, "x")
    assert converted.flags.c_contiguous and converted.tolist() == strided.tolist()
    nullable = pd.Series([1, None, 3], dtype="Int64")
    assert np.isnan(as_float_array(nullable, "x")[1])
    assert as_float_array(3, "x").shape == ()


def test_prepare_shapes_and_index() -> None:
    scalar = prepare(a=1.0, b=2)
    assert scalar.shape == () and scalar.wrap(np.array([7.0])) == 7.0
    series = pd.Series([1.0, 2.0, 3.0], index=list("xyz"))
    out = prepare(t=2.0, f=series).wrap(np.array([4.0, 5.0, 6.0]))
    assert isinstance(out, pd.Series) and out.index.tolist() == ["x", "y", "z"]
    grid = prepare(t=np.ones((2, 1)), f=series)
    assert grid.shape == (2, 3) and grid.index is None
    assert all(a.shape == (6,) for a in grid.arrays)


def test_prepare_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="numeric"):
        prepare(f=["a"])
    with pytest.raises(ValueError, match="DataFrame"):
        prepare(f=pd.DataFrame({"a": [1.0]}))
    with pytest.raises(ValueError, match=r"f: \(2,\), g: \(3,\)"):
        prepare(f=[1.0, 2.0], g=[1.0, 2.0, 3.0])


# -- properties over random parameters and histories (hypothesis) -----------------------

positive = st.floats(min_value=0.05, max_value=20.0, allow_nan=False)


@st.composite
def histories(draw: st.DrawFn) -> tuple[float, float, float]:
    T = draw(st.floats(min_value=0.5, max_value=200.0))
    x = draw(st.integers(min_value=0, max_value=100))
    t_x = 0.0 if x == 0 else draw(st.floats(min_value=0.0, max_value=1.0)) * T
    return float(x), t_x, T


def _fitter(r: float, alpha: float, a: float, b: float) -> BetaGeoFitter:
    fitter = BetaGeoFitter()
    fitter.params_ = [r, alpha, a, b]
    return fitter


@settings(max_examples=200, deadline=None)
@given(positive, positive, positive, positive, histories())
def test_probability_alive_is_in_unit_interval(
    r: float, alpha: float, a: float, b: float, history: tuple[float, float, float]
) -> None:
    p = _fitter(r, alpha, a, b).conditional_probability_alive(*history)
    assert 0.0 <= p <= 1.0
    if history[0] == 0:
        assert p == 1.0


@settings(max_examples=200, deadline=None)
@given(
    positive,
    positive,
    st.floats(min_value=1.05, max_value=20.0),
    positive,
    histories(),
)
def test_conditional_expectation_grows_with_horizon(
    r: float, alpha: float, a: float, b: float, history: tuple[float, float, float]
) -> None:
    horizons = np.array([0.0, 0.5, 1.0, 5.0, 20.0, 100.0])
    values = _fitter(r, alpha, a, b).conditional_expected_number_of_purchases_up_to_time(
        horizons, *history
    )
    assert np.isfinite(values).all()
    assert values[0] == 0.0
    assert (np.diff(values) >= -1e-9 * np.maximum(values[1:], 1)).all()
