"""One meaning per name for weeks, and the CLV's time unit carried from the summary."""

from __future__ import annotations

import json
import pickle
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retentionkit import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
from retentionkit.datasets import load_transaction_data
from retentionkit.report import build_report
from retentionkit.utils import calibration_and_holdout_data, summary_data_from_transaction_data


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return load_transaction_data()


@pytest.mark.parametrize(
    ("freq", "multiplier", "unit"),
    [("D", 1, "D"), ("D", 7, "W"), ("W", 1, "W"), ("M", 1, "M"), ("h", 24, "D"), ("h", 1, "H")],
)
def test_summaries_record_their_time_unit(
    log: pd.DataFrame, freq: str, multiplier: float, unit: str
) -> None:
    small = log[log["customer_id"] <= 200]
    summary = summary_data_from_transaction_data(
        small, "customer_id", "date", freq=freq, freq_multiplier=multiplier
    )
    assert summary.attrs["time_unit"] == unit
    split = calibration_and_holdout_data(
        small, "customer_id", "date", "1997-09-30", freq=freq, freq_multiplier=multiplier
    )
    assert split.attrs["time_unit"] == unit


def test_no_unit_is_recorded_when_the_clv_has_none(log: pd.DataFrame) -> None:
    summary = summary_data_from_transaction_data(log, "customer_id", "date", freq="Q")
    assert "time_unit" not in summary.attrs
    days30 = summary_data_from_transaction_data(
        log, "customer_id", "date", freq="D", freq_multiplier=30
    )
    assert "time_unit" not in days30.attrs


@pytest.fixture(scope="module")
def weekly(log: pd.DataFrame) -> pd.DataFrame:
    return summary_data_from_transaction_data(
        log, "customer_id", "date", "dollar_value", freq="W", observation_period_end="1998-06-30"
    )


@pytest.fixture(scope="module")
def models(weekly: pd.DataFrame) -> tuple[BetaGeoFitter, GammaGammaFitter]:
    bgf = BetaGeoFitter().fit(weekly)
    repeat = weekly[weekly["frequency"] > 0]
    ggf = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    return bgf, ggf


def test_fitters_record_the_unit_from_a_frame_or_its_columns(weekly: pd.DataFrame) -> None:
    assert BetaGeoFitter().fit(weekly).time_unit_ == "W"
    columns = ParetoNBDFitter().fit(weekly["frequency"], weekly["recency"], weekly["T"])
    assert columns.time_unit_ == "W"
    arrays = BetaGeoFitter().fit(*(weekly[c].to_numpy() for c in ("frequency", "recency", "T")))
    assert arrays.time_unit_ is None


def test_clv_uses_the_models_unit_and_warns_on_a_different_freq(
    weekly: pd.DataFrame, models: tuple[BetaGeoFitter, GammaGammaFitter]
) -> None:
    bgf, ggf = models
    args = (bgf, weekly["frequency"], weekly["recency"], weekly["T"], weekly["monetary_value"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        default = ggf.customer_lifetime_value(*args)
        weeks = ggf.customer_lifetime_value(*args, freq="W")
    np.testing.assert_allclose(default, weeks, rtol=1e-12)
    with pytest.warns(UserWarning, match=r"fitted on a summary in weeks"):
        days = ggf.customer_lifetime_value(*args, freq="D")
    # lifetimes' silent default on weekly data: several times too large
    assert days.sum() > 3 * weeks.sum()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        band = ggf.customer_lifetime_value_interval(*args, n_draws=20, seed=1)
    np.testing.assert_allclose(band["estimate"], weeks, rtol=1e-9)
    with pytest.warns(UserWarning, match="time_unit_='W'"):
        ggf.customer_lifetime_value_interval(*args, freq="M", n_draws=20, seed=1)


def test_without_a_known_unit_the_default_stays_days(
    weekly: pd.DataFrame, models: tuple[BetaGeoFitter, GammaGammaFitter]
) -> None:
    _, ggf = models
    plain = BetaGeoFitter().fit(*(weekly[c].to_numpy() for c in ("frequency", "recency", "T")))
    args = (plain, weekly["frequency"], weekly["recency"], weekly["T"], weekly["monetary_value"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        default = ggf.customer_lifetime_value(*args)
        both = (default, ggf.customer_lifetime_value(*args, freq="D"))
    np.testing.assert_allclose(*both, rtol=1e-12)


def test_the_unit_survives_save_load_and_pickle(
    tmp_path: Path, models: tuple[BetaGeoFitter, GammaGammaFitter]
) -> None:
    bgf, _ = models
    path = tmp_path / "model.json"
    bgf.save_model(path)
    assert json.loads(path.read_text())["time_unit"] == "W"
    assert BetaGeoFitter().load_model(path).time_unit_ == "W"
    assert pickle.loads(pickle.dumps(bgf)).time_unit_ == "W"
    unknown = BetaGeoFitter()
    unknown.params_ = bgf.params_
    unknown.save_model(path)
    assert "time_unit" not in json.loads(path.read_text())
    assert BetaGeoFitter().load_model(path).time_unit_ is None


# -- weeks: one meaning per name in the report and the summary ----------------------------


@pytest.mark.parametrize(("name", "freq", "multiplier"), [("W", "W", 1), ("D7", "D", 7)])
def test_the_report_and_the_summary_agree_on_weeks(name: str, freq: str, multiplier: int) -> None:
    pytest.importorskip("matplotlib")
    log = load_transaction_data()
    log = log[log["customer_id"] <= 800]
    report = build_report(
        log,
        "customer_id",
        "date",
        "dollar_value",
        freq=name,
        holdout_start="1997-10-01",
        observation_end="1998-06-30",
    )
    summary = summary_data_from_transaction_data(
        log,
        "customer_id",
        "date",
        "dollar_value",
        observation_period_end="1998-06-30",
        freq=freq,
        freq_multiplier=multiplier,
    )
    columns = ["frequency", "recency", "T", "monetary_value"]
    pd.testing.assert_frame_equal(report.customers[columns], summary[columns])
