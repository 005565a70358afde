"""Covariates in the targeting table (issue 13): a transaction model with covariates
scores each customer with their own covariates (the fitted data's by default, or
those given), CLV included.

The covariate is CDNOW's log_first_spend = ln(1 + dollars of the first purchase
day), from the bundled log.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from retentionkit import (
    BetaGeoFitter,
    GammaGammaFitter,
    InvalidDataError,
    ParetoNBDFitter,
)
from retentionkit.datasets import (
    load_cdnow_summary_data_with_monetary_value,
    load_transaction_data,
)
from retentionkit.targeting import customer_table

COV = ["log_first_spend"]
HISTORY = ["frequency", "recency", "T"]


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    summary = load_cdnow_summary_data_with_monetary_value()
    log = load_transaction_data()
    daily = log.groupby(["customer_id", "date"], as_index=False)["dollar_value"].sum()
    first = daily.sort_values("date").groupby("customer_id")["dollar_value"].first()
    summary["log_first_spend"] = np.log1p(first.reindex(summary.index).to_numpy())
    return summary


@pytest.fixture(scope="module")
def spend(data: pd.DataFrame) -> GammaGammaFitter:
    repeat = data[data["frequency"] > 0]
    return GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])


@pytest.fixture(scope="module")
def plain_fit(data: pd.DataFrame) -> BetaGeoFitter:
    return BetaGeoFitter().fit(data[HISTORY])


@pytest.fixture(scope="module")
def covariate_fit(data: pd.DataFrame) -> ParetoNBDFitter:
    return ParetoNBDFitter().fit(
        data[[*HISTORY, *COV]], purchase_covariate_cols=COV, dropout_covariate_cols=COV
    )


def test_zero_coefficients_give_the_plain_table(
    plain_fit: BetaGeoFitter, spend: GammaGammaFitter, data: pd.DataFrame
) -> None:
    zero = BetaGeoFitter()
    zero.params_ = {
        **plain_fit.params_.to_dict(),
        "purchase:log_first_spend": 0.0,
        "dropout_a:log_first_spend": 0.0,
        "dropout_b:log_first_spend": 0.0,
    }
    given = data[COV].sample(frac=1.0, random_state=1)  # aligned by label
    table = customer_table(zero, spend, data, interval=False, covariates=given)
    expected = customer_table(plain_fit, spend, data, interval=False)
    pd.testing.assert_frame_equal(table, expected, rtol=1e-10)


def test_each_customer_is_scored_with_their_own_covariates(
    covariate_fit: ParetoNBDFitter, spend: GammaGammaFitter, data: pd.DataFrame
) -> None:
    table = customer_table(covariate_fit, spend, data, interval=False, time=6, freq="W")
    z = data[COV]
    history = [data[c] for c in HISTORY]
    alive = covariate_fit.conditional_probability_alive(*history, purchase_covariates=z)
    np.testing.assert_allclose(table["p_alive"], alive, rtol=1e-12)
    horizon = 6 * 4.345
    purchases = covariate_fit.conditional_expected_number_of_purchases_up_to_time(
        horizon, *history, purchase_covariates=z
    )
    np.testing.assert_allclose(table["expected_purchases"], purchases, rtol=1e-12)
    # the discrete CLV, month by month, from the fitter's own predictions
    clv = np.zeros(len(data))
    previous = 0.0
    for k in range(1, 7):
        now = covariate_fit.conditional_expected_number_of_purchases_up_to_time(
            k * 4.345, *history, purchase_covariates=z
        ).to_numpy()
        clv += (now - previous) / 1.01**k
        previous = now
    clv *= table["expected_spend"].to_numpy()
    np.testing.assert_allclose(table["clv"], clv, rtol=1e-8)
    # not what the customers at log_first_spend = 0 would be worth
    zero = customer_table(
        covariate_fit, spend, data, interval=False, time=6, freq="W", covariates=z * 0.0
    )
    assert not np.allclose(zero["clv"], table["clv"])


def test_without_spend_model(covariate_fit: ParetoNBDFitter, data: pd.DataFrame) -> None:
    table = customer_table(covariate_fit, None, data[HISTORY], freq="W")
    assert "clv" not in table.columns
    assert table["value_at_risk"].notna().all()
    assert math.isclose(
        table["expected_purchases"].iloc[0],
        float(
            covariate_fit.conditional_expected_number_of_purchases_up_to_time(
                12 * 4.345, 2.0, 30.43, 38.86, purchase_covariates=data[COV].iloc[[0]]
            ).iloc[0]
        ),
        rel_tol=1e-12,
    )


def test_interval_with_covariates_is_the_clv_interval(
    covariate_fit: ParetoNBDFitter, spend: GammaGammaFitter, data: pd.DataFrame
) -> None:
    rows = data.iloc[:200]
    table = customer_table(covariate_fit, spend, rows, n_draws=50, seed=3, freq="W")
    hist = [rows[c].to_numpy() for c in HISTORY]
    money = rows["monetary_value"].where(rows["frequency"] > 0, 1.0).to_numpy()
    bands = spend.customer_lifetime_value_interval(
        covariate_fit,
        *hist,
        money,
        level=0.9,
        n_draws=50,
        seed=3,
        freq="W",
        purchase_covariates=rows[COV].reset_index(drop=True),
    )
    np.testing.assert_allclose(table["clv"], bands["estimate"], rtol=1e-12)
    np.testing.assert_allclose(table["clv_lower"], bands["lower"], rtol=1e-12)
    np.testing.assert_allclose(table["clv_upper"], bands["upper"], rtol=1e-12)
    assert (table["clv_lower"] <= table["clv"]).all() and (table["clv"] <= table["clv_upper"]).all()


def test_customer_without_covariates_is_named(
    covariate_fit: ParetoNBDFitter, data: pd.DataFrame
) -> None:
    newcomers = data.rename(index={3: 9999})
    with pytest.raises(InvalidDataError, match=r"customer 9999 of summary \(row 3"):
        customer_table(covariate_fit, None, newcomers)
    table = customer_table(covariate_fit, None, newcomers, covariates=newcomers[COV].to_numpy())
    assert len(table) == len(data)


def test_spend_model_with_covariates_scores_each_customer(
    covariate_fit: ParetoNBDFitter, data: pd.DataFrame
) -> None:
    repeat = data[data["frequency"] > 0]
    spend = GammaGammaFitter().fit(
        repeat["frequency"], repeat["monetary_value"], spend_covariates=repeat[COV]
    )
    rows = data.iloc[:200]
    z = rows[COV]
    table = customer_table(
        covariate_fit, spend, rows, n_draws=40, seed=1, freq="W", spend_covariates=z
    )
    money = rows["monetary_value"].where(rows["frequency"] > 0, 1.0)
    expected_spend = spend.conditional_expected_average_profit(
        rows["frequency"], money, spend_covariates=z
    )
    np.testing.assert_allclose(table["expected_spend"], expected_spend, rtol=1e-12)
    clv = spend.customer_lifetime_value(
        covariate_fit,
        *(rows[c] for c in HISTORY),
        money,
        freq="W",
        spend_covariates=z,
        purchase_covariates=z,
    )
    np.testing.assert_allclose(table["clv"], clv, rtol=1e-12)
    assert (table["clv_lower"] <= table["clv"]).all() and (table["clv"] <= table["clv_upper"]).all()
    # By default the spend model's fitted data, which has only repeat customers.
    with pytest.raises(InvalidDataError, match="pass spend_covariates= with a row"):
        customer_table(covariate_fit, spend, rows, interval=False)
    on_repeat = customer_table(covariate_fit, spend, repeat.iloc[:50], interval=False)
    np.testing.assert_allclose(
        on_repeat["expected_spend"],
        spend.conditional_expected_average_profit(
            repeat["frequency"].iloc[:50],
            repeat["monetary_value"].iloc[:50],
            spend_covariates=repeat[COV].iloc[:50],
        ),
        rtol=1e-12,
    )
    with pytest.raises(ValueError, match="spend_covariates given, but this GammaGammaFitter"):
        customer_table(
            covariate_fit,
            GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"]),
            rows,
            spend_covariates=z,
        )


def test_alignment_by_label_keeps_both_wordings(
    covariate_fit: ParetoNBDFitter, data: pd.DataFrame
) -> None:
    """One alignment helper for the fitters and the helpers, each with its wording."""
    hist = [data[c] for c in HISTORY]
    twice = pd.concat([data[COV], data[COV].iloc[[0]]])
    with pytest.raises(ValueError, match=r"^covariates has the customer 1 more than once"):
        customer_table(covariate_fit, None, data, covariates=twice)
    with pytest.raises(ValueError, match=r"^purchase_covariates has the index label 1 more than"):
        covariate_fit.conditional_probability_alive(*hist, purchase_covariates=twice)
    gap = data[COV].drop(index=3)
    with pytest.raises(InvalidDataError, match=r"^covariates has no covariates for the customer 3"):
        customer_table(covariate_fit, None, data, covariates=gap)
    with pytest.raises(
        InvalidDataError, match=r"^purchase_covariates has no row for a customer \(row 3 of the"
    ):
        covariate_fit.conditional_probability_alive(*hist, purchase_covariates=gap)
