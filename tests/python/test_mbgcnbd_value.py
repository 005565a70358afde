"""MBGCNBDkFitter as a transaction model: DERT, CLV with Gamma-Gamma, intervals,
targeting, the report and ``report --model mbgcnbd``, and save/load of k.

At k = 1 the MBG/CNBD-k is MBG/NBD, so every value must equal MBG/NBD's with the
same parameters (to rounding); the DERT quadrature itself is checked against a
direct integral in tests/mbgcnbd_value.rs.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retentionkit import GammaGammaFitter, MBGCNBDkFitter, ModifiedBetaGeoFitter
from retentionkit.datasets import load_transaction_data
from retentionkit.targeting import customer_table, who_to_contact
from retentionkit.utils import summary_data_from_transaction_data

PARAMS = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    """The CDNOW sample's 78-week summary in weeks, with spend and litt."""
    return summary_data_from_transaction_data(
        load_transaction_data(),
        "customer_id",
        "date",
        "dollar_value",
        observation_period_end="1998-06-30",
        freq_multiplier=7,
        include_litt=True,
    )


@pytest.fixture(scope="module")
def spend(summary: pd.DataFrame) -> GammaGammaFitter:
    repeat = summary[summary["frequency"] > 0]
    return GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])


def pair() -> tuple[MBGCNBDkFitter, ModifiedBetaGeoFitter]:
    ours, mbg = MBGCNBDkFitter(k=1), ModifiedBetaGeoFitter()
    ours.params_ = PARAMS
    mbg.params_ = PARAMS
    return ours, mbg


def test_dert_k1_equals_mbgnbd_and_falls_with_k_for_the_overdue(summary: pd.DataFrame) -> None:
    ours, mbg = pair()
    h = summary[["frequency", "recency", "T"]].iloc[:200]
    args = (h["frequency"], h["recency"], h["T"])
    delta = np.log(1.15) / 52
    mine = ours.discounted_expected_residual_transactions(delta, *args)
    assert isinstance(mine, pd.Series) and mine.index.equals(h.index)
    np.testing.assert_allclose(
        mine, mbg.discounted_expected_residual_transactions(delta, *args), rtol=1e-9
    )
    # A regular buyer long overdue (k = 4) is worth less than a Poisson buyer.
    regular = MBGCNBDkFitter(k=4)
    regular.params_ = {**PARAMS, "alpha": PARAMS["alpha"] / 4}
    overdue = (4.0, 10.0, 38.0)
    assert regular.discounted_expected_residual_transactions(
        delta, *overdue
    ) < ours.discounted_expected_residual_transactions(delta, *overdue)


def test_clv_k1_equals_mbgnbd(summary: pd.DataFrame, spend: GammaGammaFitter) -> None:
    ours, mbg = pair()
    columns = [summary[c] for c in ("frequency", "recency", "T", "monetary_value")]
    for options in ({"time": 12}, {"time": None, "discounting": "continuous"}):
        a = spend.customer_lifetime_value(ours, *columns, freq="W", **options)
        b = spend.customer_lifetime_value(mbg, *columns, freq="W", **options)
        np.testing.assert_allclose(a, b, rtol=1e-9)
    with pytest.raises(ValueError, match="no covariates"):
        spend.customer_lifetime_value(ours, *columns, freq="W", purchase_covariates=summary)


@pytest.fixture(scope="module")
def fitted_k2(summary: pd.DataFrame) -> MBGCNBDkFitter:
    return MBGCNBDkFitter(k=2).fit(summary)


def test_intervals(summary: pd.DataFrame, spend: GammaGammaFitter, fitted_k2) -> None:
    h = summary.iloc[:50]
    args = (h["frequency"], h["recency"], h["T"])
    for bands in (
        fitted_k2.conditional_probability_alive_interval(*args, n_draws=50, seed=1),
        fitted_k2.conditional_expected_number_of_purchases_up_to_time_interval(
            10.0, *args, n_draws=50, seed=1
        ),
        fitted_k2.discounted_expected_residual_transactions_interval(
            0.01, *args, n_draws=20, seed=1
        ),
        spend.customer_lifetime_value_interval(
            fitted_k2, *args, h["monetary_value"], freq="W", n_draws=20, seed=1
        ),
    ):
        assert list(bands.columns) == ["estimate", "lower", "upper"]
        assert bands.index.equals(h.index)
        assert (bands["lower"] <= bands["estimate"] + 1e-12).all()
        assert (bands["estimate"] <= bands["upper"] + 1e-12).all()
    alive = fitted_k2.conditional_probability_alive(*args)
    np.testing.assert_allclose(
        fitted_k2.conditional_probability_alive_interval(*args, n_draws=10)["estimate"],
        alive,
        rtol=1e-12,
    )


def test_targeting_k1_equals_mbgnbd_and_ranks(
    summary: pd.DataFrame, spend: GammaGammaFitter, fitted_k2: MBGCNBDkFitter
) -> None:
    ours, mbg = pair()
    a = customer_table(ours, spend, summary, freq="W", interval=False)
    b = customer_table(mbg, spend, summary, freq="W", interval=False)
    pd.testing.assert_series_equal(a["segment"], b["segment"])
    np.testing.assert_allclose(a["clv"], b["clv"], rtol=1e-9)
    table = customer_table(fitted_k2, spend, summary, freq="W", n_draws=20)
    assert {"clv", "clv_lower", "clv_upper", "segment"} <= set(table.columns)
    contact = who_to_contact(table, n=30)
    at_risk = contact["segment"] == "high value, at risk"
    assert not (at_risk.to_numpy()[:-1] < at_risk.to_numpy()[1:]).any()  # at risk first
    first = contact[at_risk]["value_at_risk"].to_numpy()
    assert (np.diff(first) <= 0).all()


def test_save_load_keeps_k(tmp_path: Path, fitted_k2: MBGCNBDkFitter, summary) -> None:
    path = tmp_path / "cnbd.json"
    fitted_k2.save_model(path)
    loaded = MBGCNBDkFitter().load_model(path)
    assert loaded.k_ == 2
    h = summary.iloc[:20]
    args = (h["frequency"], h["recency"], h["T"])
    np.testing.assert_array_equal(
        loaded.conditional_expected_number_of_purchases_up_to_time(5.0, *args),
        fitted_k2.conditional_expected_number_of_purchases_up_to_time(5.0, *args),
    )
    again = pickle.loads(pickle.dumps(fitted_k2))
    assert again.k_ == 2
    assert again.discounted_expected_residual_transactions(0.01, 2, 20.0, 40.0) == (
        fitted_k2.discounted_expected_residual_transactions(0.01, 2, 20.0, 40.0)
    )


def test_report_with_mbgcnbd() -> None:
    pytest.importorskip("matplotlib")
    from retentionkit.report import cdnow_report

    report = cdnow_report(model="mbgcnbd")
    assert report.model == "MBG/CNBD-k"
    assert "MBG/CNBD-k" in report.comparison.index
    assert np.isfinite(report.comparison.loc["MBG/CNBD-k", "holdout_mae"])
    assert "Log-likelihood by k" in report.html
    assert "Erlang-" in report.html
    assert report.customers["clv"].notna().all()


def test_best_model_is_not_chosen_on_rounding() -> None:
    from retentionkit.report import _smallest

    errors = pd.Series({"BG/NBD": 0.7, "MBG/NBD": 0.6, "MBG/CNBD-k": 0.6 * (1 - 1e-12)})
    assert _smallest(errors) == "MBG/NBD"  # k = 1 is MBG/NBD: not better on rounding
    errors["MBG/CNBD-k"] = 0.59
    assert _smallest(errors) == "MBG/CNBD-k"


def test_cli_report_accepts_mbgcnbd() -> None:
    from retentionkit.cli import build_parser

    args = build_parser().parse_args(["report", "--model", "mbgcnbd"])
    assert args.model == "mbgcnbd"


def test_a_file_without_k_is_refused(tmp_path: Path, fitted_k2: MBGCNBDkFitter) -> None:
    import json

    from retentionkit._core import MBGCNBDkModel

    saved = json.loads(fitted_k2._core().to_json())
    assert saved["k"] == 2
    del saved["k"]
    with pytest.raises(ValueError, match='"k" is missing'):
        MBGCNBDkModel.from_json(json.dumps(saved))
    saved["k"] = 0
    with pytest.raises(ValueError, match='"k" is 0'):
        MBGCNBDkModel.from_json(json.dumps(saved))
