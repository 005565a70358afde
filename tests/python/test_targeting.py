"""Per-customer table, segments and contact lists (retentionkit.targeting) on CDNOW."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from retentionkit import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
from retentionkit.datasets import load_cdnow_summary_data_with_monetary_value
from retentionkit.targeting import (
    SEGMENTS,
    SegmentThresholds,
    customer_table,
    segment_summary,
    top_at_risk,
    who_to_contact,
)


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return load_cdnow_summary_data_with_monetary_value()


@pytest.fixture(scope="module")
def models(data: pd.DataFrame) -> tuple[BetaGeoFitter, GammaGammaFitter]:
    repeat = data[data["frequency"] > 0]
    ggf = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    return BetaGeoFitter().fit(data), ggf


@pytest.fixture(scope="module")
def table(data: pd.DataFrame, models: tuple[BetaGeoFitter, GammaGammaFitter]) -> pd.DataFrame:
    bgf, ggf = models
    return customer_table(bgf, ggf, data, freq="W", level=0.9, seed=0)


COLUMNS = [
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "p_alive",
    "expected_purchases",
    "expected_spend",
    "clv",
    "clv_lower",
    "clv_upper",
    "value_at_risk",
    "segment",
]


def test_columns_index_and_values(
    table: pd.DataFrame, data: pd.DataFrame, models: tuple[BetaGeoFitter, GammaGammaFitter]
) -> None:
    bgf, ggf = models
    assert list(table.columns) == COLUMNS
    assert table.index.equals(data.index)
    f, r, T, m = (data[c] for c in ("frequency", "recency", "T", "monetary_value"))
    np.testing.assert_allclose(table["p_alive"], bgf.conditional_probability_alive(f, r, T))
    # Default horizon: the CLV's 12 months of 4.345 weeks.
    np.testing.assert_allclose(
        table["expected_purchases"],
        bgf.conditional_expected_number_of_purchases_up_to_time(12 * 4.345, f, r, T),
    )
    clv = ggf.customer_lifetime_value(bgf, f, r, T, m, time=12, discount_rate=0.01, freq="W")
    np.testing.assert_allclose(table["clv"], clv, rtol=1e-10)
    assert (table["clv_lower"] <= table["clv"] + 1e-9).all()
    assert (table["clv"] <= table["clv_upper"] + 1e-9).all()
    assert (table["clv_upper"] > table["clv_lower"]).all()


def test_expected_spend_of_one_time_buyers_is_the_population_mean(
    table: pd.DataFrame, models: tuple[BetaGeoFitter, GammaGammaFitter]
) -> None:
    _, ggf = models
    once = table[table["frequency"] == 0]
    assert len(once) > 1000
    np.testing.assert_allclose(once["expected_spend"], ggf.expected_average_profit())
    repeat = table[table["frequency"] > 0]
    np.testing.assert_allclose(
        repeat["expected_spend"],
        ggf.conditional_expected_average_profit(repeat["frequency"], repeat["monetary_value"]),
    )


def test_segments_follow_the_documented_rules(table: pd.DataFrame) -> None:
    t = SegmentThresholds()
    cutoff = table["clv"].quantile(t.high_value_quantile)
    p, value = table["p_alive"], table["clv"]
    high = (value >= cutoff) & (value > 0)
    expected = np.where(
        p < t.lost_threshold,
        "probably lost",
        np.where(
            high & (p >= t.alive_threshold),
            "high value, likely alive",
            np.where(high, "high value, at risk", "low value"),
        ),
    )
    assert (table["segment"].astype(str).to_numpy() == expected).all()
    assert list(table["segment"].cat.categories) == list(SEGMENTS)
    counts = table["segment"].value_counts()
    assert all(counts[s] > 0 for s in SEGMENTS)
    np.testing.assert_allclose(table["value_at_risk"], value * (1 - p))


def test_thresholds_are_adjustable(data: pd.DataFrame, models: tuple) -> None:
    bgf, ggf = models
    strict = SegmentThresholds(alive_threshold=0.9, lost_threshold=0.3, high_value_min=100.0)
    table = customer_table(bgf, ggf, data, interval=False, thresholds=strict)
    assert "clv_lower" not in table.columns
    high = table["segment"].isin(["high value, likely alive", "high value, at risk"])
    assert (table.loc[high, "clv"] >= 100).all()
    assert (table.loc[~high & (table["p_alive"] >= 0.3), "clv"] < 100).all()
    assert (table.loc[table["segment"] == "probably lost", "p_alive"] < 0.3).all()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"high_value_quantile": 1.0},
        {"high_value_quantile": 0.0},
        {"alive_threshold": 0.2, "lost_threshold": 0.3},
        {"lost_threshold": -0.1},
        {"high_value_min": math.inf},
    ],
)
def test_invalid_thresholds(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        SegmentThresholds(**kwargs)


def test_thresholds_are_frozen() -> None:
    with pytest.raises(AttributeError):
        SegmentThresholds().alive_threshold = 0.7  # type: ignore[misc]


def test_who_to_contact_puts_valuable_customers_at_risk_first(table: pd.DataFrame) -> None:
    at_risk = int((table["segment"] == "high value, at risk").sum())
    ranked = who_to_contact(table, n=at_risk + 10)
    assert len(ranked) == at_risk + 10
    head, tail = ranked.iloc[:at_risk], ranked.iloc[at_risk:]
    assert (head["segment"] == "high value, at risk").all()
    assert (tail["segment"] != "high value, at risk").all()
    assert head["value_at_risk"].is_monotonic_decreasing
    assert tail["value_at_risk"].is_monotonic_decreasing
    assert len(who_to_contact(table, n=10_000)) == len(table)


def test_top_at_risk(table: pd.DataFrame) -> None:
    top = top_at_risk(table, n=5)
    assert len(top) == 5
    assert (top["segment"] == "high value, at risk").all()
    assert top["value_at_risk"].is_monotonic_decreasing
    everyone = top_at_risk(table, n=10_000)
    assert len(everyone) == int((table["segment"] == "high value, at risk").sum())
    assert top.index.equals(everyone.index[:5])
    with pytest.raises(ValueError, match="non-negative"):
        top_at_risk(table, n=-1)
    with pytest.raises(ValueError, match="not a customer_table"):
        top_at_risk(table.drop(columns="segment"))


def test_segment_summary(table: pd.DataFrame) -> None:
    summary = segment_summary(table)
    assert list(summary.index) == list(SEGMENTS)
    assert summary["customers"].sum() == len(table)
    np.testing.assert_allclose(summary["share"].sum(), 1.0)
    np.testing.assert_allclose(summary["clv"].sum(), table["clv"].sum())
    np.testing.assert_allclose(summary["clv_share"].sum(), 1.0)


def test_without_a_spend_model_the_value_is_expected_purchases(data: pd.DataFrame) -> None:
    pnbd = ParetoNBDFitter().fit(data)
    table = customer_table(pnbd, None, data[["frequency", "recency", "T"]], horizon=39.0)
    assert list(table.columns) == [
        "frequency",
        "recency",
        "T",
        "p_alive",
        "expected_purchases",
        "value_at_risk",
        "segment",
    ]
    np.testing.assert_allclose(
        table["expected_purchases"], pnbd.conditional_expected_number_of_purchases_up_to_time(39)
    )
    high = table["segment"].isin(["high value, likely alive", "high value, at risk"])
    assert table.loc[high, "expected_purchases"].min() >= table["expected_purchases"].quantile(0.8)
    assert "clv" not in segment_summary(table).columns


def test_bad_inputs(data: pd.DataFrame, models: tuple) -> None:
    bgf, ggf = models
    with pytest.raises(ValueError, match="monetary_value"):
        customer_table(bgf, ggf, data.drop(columns="monetary_value"))
    with pytest.raises(ValueError, match="freq"):
        customer_table(bgf, ggf, data, freq="fortnight")
    with pytest.raises(TypeError, match="transaction_model"):
        customer_table(ggf, ggf, data)  # type: ignore[arg-type]
    broken = data.copy()
    broken.loc[broken.index[0], "monetary_value"] = 0.0  # customer 1 has repeat purchases
    with pytest.raises(ValueError, match=r"1 customer\(s\) with repeat purchases"):
        customer_table(bgf, ggf, broken)
