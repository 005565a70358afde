"""Customer lifetime value intervals for every transaction fitter with a
Gamma-Gamma spend model, with and without covariates on either side (issue 13).

The combination MBG/CNBD-k x Gamma-Gamma with spend covariates raised a
TypeError (the covariate interval took plain transaction models from a hand list
without MBGCNBDkModel) while the point CLV worked. For each combination the
interval's estimate is the point ``customer_lifetime_value`` with the same inputs,
its bounds bracket it, and the same seed gives the same interval; at k = 1 the
MBG/CNBD-k is the MBG/NBD, fits the same parameters and covariance, and so draws
the same parameters and gives the MBG/NBD's interval.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from retentionkit import (
    BetaGeoFitter,
    GammaGammaFitter,
    GompertzGammaNBDFitter,
    MBGCNBDkFitter,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
)
from retentionkit.datasets import load_transaction_data
from retentionkit.report import build_report
from retentionkit.targeting import customer_table
from retentionkit.utils import summary_data_from_transaction_data

HISTORY = ["frequency", "recency", "T"]
COVARIATE = ["log_first_spend"]
#: The transaction fitters that take covariates, and those that do not.
WITH_COVARIATES = {
    "bgnbd": BetaGeoFitter,
    "mbgnbd": ModifiedBetaGeoFitter,
    "pnbd": ParetoNBDFitter,
    "ggom": GompertzGammaNBDFitter,
}
TRANSACTIONS = [
    *[(name, False) for name in [*WITH_COVARIATES, "mbgcnbd"]],
    *[(name, True) for name in WITH_COVARIATES],
]
#: Both discountings, with the number of draws of each interval: the whole
#: lifetime of an MBG/CNBD-k with k > 1 is a quadrature per customer and draw.
DISCOUNTING: list[tuple[dict[str, Any], int]] = [
    ({"time": 12}, 40),
    ({"time": None, "discounting": "continuous"}, 10),
]


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    """The CDNOW sample's 78-week summary in weeks (with spend and litt), and
    log_first_spend = ln(1 + dollars of the first transaction)."""
    log = load_transaction_data()
    out = summary_data_from_transaction_data(
        log,
        "customer_id",
        "date",
        "dollar_value",
        observation_period_end="1998-06-30",
        freq_multiplier=7,
        include_litt=True,
    )
    first = log.sort_values("date").groupby("customer_id")["dollar_value"].first()
    out["log_first_spend"] = np.log1p(first.reindex(out.index))
    return out


@pytest.fixture(scope="module")
def spend_models(summary: pd.DataFrame) -> dict[bool, GammaGammaFitter]:
    """Gamma-Gamma without (False) and with (True) the spend covariate."""
    repeat = summary[summary["frequency"] > 0]
    return {
        False: GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"]),
        True: GammaGammaFitter().fit(repeat, spend_covariate_cols=COVARIATE),
    }


@pytest.fixture(scope="module")
def transaction_models(summary: pd.DataFrame) -> dict[tuple[str, bool], Any]:
    models: dict[tuple[str, bool], Any] = {
        ("mbgcnbd", False): MBGCNBDkFitter(k=2).fit(summary[[*HISTORY, "litt"]])
    }
    with warnings.catch_warnings():
        # The GGom/NBD meets its Pareto/NBD limit on CDNOW (tested elsewhere).
        warnings.filterwarnings("ignore", "Pareto/NBD limit", UserWarning)
        for name, fitter in WITH_COVARIATES.items():
            models[name, False] = fitter().fit(summary[HISTORY])
            models[name, True] = fitter().fit(
                summary, purchase_covariate_cols=COVARIATE, dropout_covariate_cols=COVARIATE
            )
    return models


def _inputs(summary: pd.DataFrame) -> tuple[tuple[pd.Series, ...], pd.DataFrame]:
    """Every 40th customer's history and spend, and their covariates."""
    h = summary.iloc[::40]
    return tuple(h[c] for c in [*HISTORY, "monetary_value"]), h[COVARIATE]


@pytest.mark.parametrize("spend_covariates", [True, False], ids=["spend_cov", "spend_plain"])
@pytest.mark.parametrize(
    ("name", "transaction_covariates"),
    TRANSACTIONS,
    ids=[f"{n}{'_cov' if c else ''}" for n, c in TRANSACTIONS],
)
def test_interval_estimate_is_the_point_clv_and_bracketed(
    summary: pd.DataFrame,
    spend_models: dict[bool, GammaGammaFitter],
    transaction_models: dict[tuple[str, bool], Any],
    name: str,
    transaction_covariates: bool,
    spend_covariates: bool,
) -> None:
    model = transaction_models[name, transaction_covariates]
    spend = spend_models[spend_covariates]
    args, z = _inputs(summary)
    covariates: dict[str, pd.DataFrame] = {}
    if transaction_covariates:
        covariates |= {"purchase_covariates": z, "dropout_covariates": z}
    if spend_covariates:
        covariates["spend_covariates"] = z
    for options, n_draws in DISCOUNTING:
        point = spend.customer_lifetime_value(model, *args, freq="W", **covariates, **options)
        bands = spend.customer_lifetime_value_interval(
            model, *args, freq="W", n_draws=n_draws, seed=5, **covariates, **options
        )
        assert list(bands.columns) == ["estimate", "lower", "upper"]
        assert bands.index.equals(args[0].index)
        np.testing.assert_allclose(bands["estimate"], point, rtol=1e-12)
        assert np.isfinite(bands.to_numpy()).all()
        assert (bands["lower"] <= bands["estimate"]).all()
        assert (bands["estimate"] <= bands["upper"]).all()
        assert (bands["lower"] < bands["upper"]).any()
        again = spend.customer_lifetime_value_interval(
            model, *args, freq="W", n_draws=n_draws, seed=5, **covariates, **options
        )
        pd.testing.assert_frame_equal(again, bands, check_exact=True)
        other = spend.customer_lifetime_value_interval(
            model, *args, freq="W", n_draws=n_draws, seed=6, **covariates, **options
        )
        assert not other["lower"].equals(bands["lower"])


def test_mbgcnbd_k1_with_spend_covariates_gives_the_mbgnbd_interval(
    summary: pd.DataFrame, spend_models: dict[bool, GammaGammaFitter]
) -> None:
    """At k = 1 the MBG/CNBD-k fits MBG/NBD's parameters and covariance (the same
    likelihood, the same solver), so the interval machinery draws the same
    parameters for the same seed and the intervals agree to rounding."""
    k1 = MBGCNBDkFitter(k=1).fit(summary[[*HISTORY, "litt"]])
    mbg = ModifiedBetaGeoFitter().fit(summary[HISTORY])
    np.testing.assert_allclose(k1.params_.to_numpy(), mbg.params_.to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(
        np.asarray(k1.variance_matrix_), np.asarray(mbg.variance_matrix_), rtol=1e-8
    )
    spend = spend_models[True]
    args, z = _inputs(summary)
    for options, n_draws in DISCOUNTING:
        ours, theirs = (
            spend.customer_lifetime_value_interval(
                m, *args, freq="W", n_draws=n_draws, seed=9, spend_covariates=z, **options
            )
            for m in (k1, mbg)
        )
        pd.testing.assert_frame_equal(ours, theirs, check_exact=False, rtol=1e-8)


def test_mbgcnbd_with_spend_covariates_refuses_transaction_covariates(
    summary: pd.DataFrame,
    spend_models: dict[bool, GammaGammaFitter],
    transaction_models: dict[tuple[str, bool], Any],
) -> None:
    """The MBG/CNBD-k has no covariates: given some, the interval says so (a
    ValueError, as the point CLV), and the spend covariates stay required."""
    model, spend = transaction_models["mbgcnbd", False], spend_models[True]
    args, z = _inputs(summary)
    for method in (spend.customer_lifetime_value, spend.customer_lifetime_value_interval):
        with pytest.raises(ValueError, match=r"has no covariates.*do not pass purchase_covariates"):
            method(model, *args, freq="W", spend_covariates=z, purchase_covariates=z)
        with pytest.raises(ValueError, match="pass them to the prediction, as spend_covariates"):
            method(model, *args, freq="W")


def test_targeting_and_report_value_mbgcnbd_with_spend_covariates(
    summary: pd.DataFrame,
    spend_models: dict[bool, GammaGammaFitter],
    transaction_models: dict[tuple[str, bool], Any],
) -> None:
    """The users of the interval: the targeting table and the report with
    ``--model mbgcnbd`` and spend covariates (both raised the TypeError)."""
    model, spend = transaction_models["mbgcnbd", False], spend_models[True]
    h = summary.iloc[::40]
    table = customer_table(
        model, spend, h, freq="W", n_draws=20, seed=2, spend_covariates=h[COVARIATE]
    )
    point = spend.customer_lifetime_value(
        model,
        *(h[c] for c in [*HISTORY, "monetary_value"]),
        freq="W",
        spend_covariates=h[COVARIATE],
    )
    np.testing.assert_allclose(table["clv"], point, rtol=1e-12)
    assert (table["clv_lower"] <= table["clv"]).all() and (table["clv"] <= table["clv_upper"]).all()

    log = load_transaction_data()
    small = log[log["customer_id"] % 8 == 0]
    report = build_report(
        small,
        "customer_id",
        "date",
        "dollar_value",
        model="mbgcnbd",
        spend_covariates="dollar_value",
    )
    customers = report.customers
    assert np.isfinite(customers[["clv", "clv_lower", "clv_upper"]].to_numpy()).all()
    assert (customers["clv_lower"] <= customers["clv"]).all()
    assert (customers["clv"] <= customers["clv_upper"]).all()
