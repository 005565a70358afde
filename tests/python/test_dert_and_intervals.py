"""DERT, continuous-discounting CLV and intervals over parameter uncertainty.

Reference value: the Pareto/NBD DERT of Fader, Hardie & Lee (2005, JMR, eq. (2))
computed with 50-digit mpmath (scripts/make_hyperu_fixture.py); tests/dert.rs and
tests/intervals.rs check the Rust core in more depth.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_values import FHL2005_PARAMS, reference

from retentionkit import (
    BetaGeoFitter,
    GammaGammaFitter,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
)
from retentionkit.datasets import load_cdnow_summary, load_cdnow_summary_data_with_monetary_value

PNBD_REFERENCE = reference("pnbd_cdnow_fh2005")
CDNOW_PNBD = PNBD_REFERENCE["params"]
WEEKLY_15_PERCENT = math.log(1.15) / 52


@pytest.fixture(scope="module")
def cdnow_money() -> pd.DataFrame:
    return load_cdnow_summary_data_with_monetary_value()


@pytest.fixture(scope="module")
def pnbd() -> ParetoNBDFitter:
    return ParetoNBDFitter().fit(load_cdnow_summary())


@pytest.fixture(scope="module")
def mbgf() -> ModifiedBetaGeoFitter:
    return ModifiedBetaGeoFitter().fit(load_cdnow_summary())


@pytest.fixture(scope="module")
def ggf(cdnow_money: pd.DataFrame) -> GammaGammaFitter:
    repeat = cdnow_money[cdnow_money["frequency"] > 0]
    return GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])


# -- DERT ----------------------------------------------------------------------------


def test_pareto_nbd_dert_matches_mpmath() -> None:
    fitter = ParetoNBDFitter()
    fitter.params_ = CDNOW_PNBD
    case = PNBD_REFERENCE["predictions"]["DERT(15% a year | 2, 30.43, 38.86)"]
    args = case["args"]
    assert args["annual_rate"] == 0.15  # WEEKLY_15_PERCENT
    value = fitter.discounted_expected_residual_transactions(
        WEEKLY_15_PERCENT, args["frequency"], args["recency"], args["T"]
    )
    assert isinstance(value, float)
    assert value == pytest.approx(case["value"], rel=1e-10)


def test_dert_keeps_the_index_and_decreases_in_the_rate(pnbd: ParetoNBDFitter) -> None:
    low = pnbd.discounted_expected_residual_transactions(0.001)
    high = pnbd.discounted_expected_residual_transactions(0.01)
    assert isinstance(low, pd.Series)
    assert low.index.equals(pnbd.data.index)
    assert (high >= 0).all()
    assert (high < low).all()


def test_bg_dert_matches_a_brute_force_stieltjes_sum(bgf: BetaGeoFitter) -> None:
    # DERT = integral of e^(-delta t) dE[Y(t)], as a midpoint sum on a fine grid.
    delta, x, t_x, age = 0.02, 3.0, 25.0, 38.0
    grid = np.concatenate([[0.0], np.geomspace(1e-6, 60 / delta, 200_000)])
    expected = bgf.conditional_expected_number_of_purchases_up_to_time(grid, x, t_x, age)
    weights = np.exp(-delta * 0.5 * (grid[1:] + grid[:-1]))
    brute = float(np.sum(np.diff(expected) * weights))
    dert = bgf.discounted_expected_residual_transactions(delta, x, t_x, age)
    assert dert == pytest.approx(brute, rel=1e-7)


def test_dert_rejects_a_non_positive_rate(pnbd: ParetoNBDFitter) -> None:
    with pytest.raises(ValueError, match="discount rate must be positive"):
        pnbd.discounted_expected_residual_transactions(0.0, 1, 1.0, 2.0)


@settings(max_examples=60, deadline=None)
@given(
    x=st.integers(0, 50),
    recency_share=st.floats(0.0, 1.0),
    age=st.floats(0.5, 300.0),
    rate=st.floats(1e-4, 0.5),
    factor=st.floats(1.01, 20.0),
)
def test_dert_is_non_negative_and_decreasing(
    x: int, recency_share: float, age: float, rate: float, factor: float
) -> None:
    recency = 0.0 if x == 0 else recency_share * age
    for fitter in (ParetoNBDFitter(), BetaGeoFitter()):
        fitter.params_ = CDNOW_PNBD if isinstance(fitter, ParetoNBDFitter) else FHL2005_PARAMS
        low = fitter.discounted_expected_residual_transactions(rate, x, recency, age)
        high = fitter.discounted_expected_residual_transactions(rate * factor, x, recency, age)
        assert 0.0 <= high <= low * (1 + 1e-10)


# -- continuous-discounting CLV --------------------------------------------------------


def test_continuous_clv_is_dert_times_expected_spend(
    pnbd: ParetoNBDFitter, ggf: GammaGammaFitter, cdnow_money: pd.DataFrame
) -> None:
    df = cdnow_money
    clv = ggf.customer_lifetime_value(
        pnbd,
        df["frequency"],
        df["recency"],
        df["T"],
        df["monetary_value"],
        time=None,
        discount_rate=0.01,
        freq="W",
        discounting="continuous",
    )
    dert = pnbd.discounted_expected_residual_transactions(
        math.log1p(0.01) / 4.345, df["frequency"], df["recency"], df["T"]
    )
    spend = ggf.conditional_expected_average_profit(df["frequency"], df["monetary_value"])
    np.testing.assert_allclose(clv, dert * spend, rtol=1e-12)
    # Over the whole lifetime it exceeds the 12-month value.
    twelve = ggf.customer_lifetime_value(
        pnbd, df["frequency"], df["recency"], df["T"], df["monetary_value"], freq="W"
    )
    assert (clv > twelve).all()


def test_discounting_and_time_must_agree(
    pnbd: ParetoNBDFitter, ggf: GammaGammaFitter, cdnow_money: pd.DataFrame
) -> None:
    df = cdnow_money.head(5)
    args = (pnbd, df["frequency"], df["recency"], df["T"], df["monetary_value"])
    with pytest.raises(ValueError, match="time=None"):
        ggf.customer_lifetime_value(*args, discounting="continuous")
    with pytest.raises(ValueError, match="give time"):
        ggf.customer_lifetime_value(*args, time=None)
    with pytest.raises(ValueError, match="'discrete' or 'continuous'"):
        ggf.customer_lifetime_value(*args, discounting="yearly")
    with pytest.raises(ValueError, match="time=None"):
        ggf.customer_lifetime_value_interval(*args, discounting="continuous")


# -- intervals -----------------------------------------------------------------------------


def test_intervals_contain_the_estimate_and_are_reproducible(mbgf: ModifiedBetaGeoFitter) -> None:
    band = mbgf.conditional_expected_number_of_purchases_up_to_time_interval(52, seed=3)
    assert list(band.columns) == ["estimate", "lower", "upper"]
    assert band.index.equals(mbgf.data.index)
    point = mbgf.conditional_expected_number_of_purchases_up_to_time(52)
    np.testing.assert_array_equal(band["estimate"], point)
    assert (band["lower"] <= band["estimate"]).all()
    assert (band["estimate"] <= band["upper"]).all()
    again = mbgf.conditional_expected_number_of_purchases_up_to_time_interval(52, seed=3)
    pd.testing.assert_frame_equal(band, again)
    other = mbgf.conditional_expected_number_of_purchases_up_to_time_interval(52, seed=4)
    assert not np.array_equal(band["lower"], other["lower"])

    alive = mbgf.conditional_probability_alive_interval(level=0.9, n_draws=100, seed=3)
    assert (alive["lower"] <= alive["estimate"]).all()
    assert (alive["estimate"] <= alive["upper"]).all()
    assert ((alive["lower"] >= 0) & (alive["upper"] <= 1)).all()
    wider = mbgf.conditional_probability_alive_interval(level=0.99, n_draws=100, seed=3)
    assert (wider["upper"] - wider["lower"] >= alive["upper"] - alive["lower"]).all()


def test_intervals_for_given_customers(bgf: BetaGeoFitter) -> None:
    band = bgf.conditional_expected_number_of_purchases_up_to_time_interval(
        [10.0, 52.0], [2, 2], [30.43, 30.43], 38.86, seed=0
    )
    assert isinstance(band.index, pd.RangeIndex) and len(band) == 2
    assert band.loc[0, "upper"] < band.loc[1, "upper"]
    single = bgf.conditional_probability_alive_interval(0, 0, 38.86, seed=0)
    assert single.iloc[0].tolist() == [1.0, 1.0, 1.0]  # BG/NBD: alive for sure


def test_intervals_widen_with_fewer_customers() -> None:
    data = load_cdnow_summary()
    full = ParetoNBDFitter().fit(data)
    few = ParetoNBDFitter().fit(data.iloc[::5])
    customers = {"frequency": [0, 2, 7], "recency": [0.0, 30.43, 35.0], "T": [38.86] * 3}
    wide = few.conditional_expected_number_of_purchases_up_to_time_interval(52, **customers, seed=1)
    narrow = full.conditional_expected_number_of_purchases_up_to_time_interval(
        52, **customers, seed=1
    )
    ratio = (wide["upper"] - wide["lower"]) / (narrow["upper"] - narrow["lower"])
    assert (ratio > 1.5).all()  # about sqrt(5) in theory


def test_clv_interval_combines_both_models(
    mbgf: ModifiedBetaGeoFitter, ggf: GammaGammaFitter, cdnow_money: pd.DataFrame
) -> None:
    df = cdnow_money
    args = (mbgf, df["frequency"], df["recency"], df["T"], df["monetary_value"])
    band = ggf.customer_lifetime_value_interval(*args, freq="W", seed=5)
    point = ggf.customer_lifetime_value(*args, freq="W")
    np.testing.assert_allclose(band["estimate"], point, rtol=1e-12)
    assert band.index.equals(df.index)
    assert (band["lower"] <= band["estimate"]).all()
    assert (band["estimate"] <= band["upper"]).all()
    assert (band["lower"] < band["upper"]).all()
    pd.testing.assert_frame_equal(
        band, ggf.customer_lifetime_value_interval(*args, freq="W", seed=5)
    )


def test_continuous_clv_interval(
    pnbd: ParetoNBDFitter, ggf: GammaGammaFitter, cdnow_money: pd.DataFrame
) -> None:
    df = cdnow_money.head(200)
    args = (pnbd, df["frequency"], df["recency"], df["T"], df["monetary_value"])
    band = ggf.customer_lifetime_value_interval(
        *args, time=None, freq="W", discounting="continuous", seed=2
    )
    point = ggf.customer_lifetime_value(*args, time=None, freq="W", discounting="continuous")
    np.testing.assert_allclose(band["estimate"], point, rtol=1e-12)
    assert (band["lower"] <= band["estimate"]).all()
    assert (band["estimate"] <= band["upper"]).all()


def test_intervals_need_a_covariance() -> None:
    fitter = ParetoNBDFitter()
    fitter.params_ = CDNOW_PNBD
    with pytest.raises(ValueError, match="covariance"):
        fitter.conditional_probability_alive_interval(1, 1.0, 2.0)
    with pytest.raises(ValueError, match="level"):
        ParetoNBDFitter().fit(load_cdnow_summary()).conditional_probability_alive_interval(
            level=1.5
        )
