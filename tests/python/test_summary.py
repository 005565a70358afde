"""Transaction log -> customer summaries: equal to lifetimes 0.11.3 on the CDNOW log.

The expected frames were computed once with lifetimes by
``scripts/make_summary_fixture.py`` (lifetimes is not importable here).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from retentionkit._validation import invalid_data_error
from retentionkit.datasets import load_transaction_data
from retentionkit.utils import (
    _Log,
    _period_ordinals,
    calibration_and_holdout_data,
    cohort_table,
    summary_data_from_transaction_data,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CASES = json.loads((FIXTURES / "summary_lifetimes_cases.json").read_text())


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return load_transaction_data()


def expected(filename: str, case: str) -> pd.DataFrame:
    frame = pd.read_csv(FIXTURES / filename, index_col="customer_id")
    kind = "summary" if filename.startswith("summary") else "holdout"
    frame = frame[frame["case"] == case][CASES[kind][case]["columns"]]
    return frame.astype(float)


def assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(want.columns)
    assert got.index.name == want.index.name
    assert got.index.equals(want.index)
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12, atol=1e-12)


def lifetimes_call(kwargs: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The case's arguments and whether it relied on lifetimes dropping late rows."""
    truncated = "observation_period_end" in kwargs and kwargs["observation_period_end"] < (
        "1998-06-30"
    )
    return dict(kwargs), truncated


@pytest.mark.parametrize("case", list(CASES["summary"]))
def test_summary_equals_lifetimes_on_cdnow(log: pd.DataFrame, case: str) -> None:
    kwargs, truncated = lifetimes_call(CASES["summary"][case]["kwargs"])
    if truncated:
        with pytest.raises(ValueError, match="after the observation end"):
            summary_data_from_transaction_data(log, "customer_id", "date", **kwargs)
        kwargs["drop_invalid"] = True
    got = summary_data_from_transaction_data(log, "customer_id", "date", **kwargs)
    assert_same(got, expected("summary_lifetimes.csv.gz", case))


@pytest.mark.parametrize("case", list(CASES["holdout"]))
def test_calibration_and_holdout_equal_lifetimes_on_cdnow(log: pd.DataFrame, case: str) -> None:
    kwargs, truncated = lifetimes_call(CASES["holdout"][case]["kwargs"])
    if truncated:
        with pytest.raises(ValueError, match="after observation_period_end"):
            calibration_and_holdout_data(log, "customer_id", "date", **kwargs)
        kwargs["drop_invalid"] = True
    got = calibration_and_holdout_data(log, "customer_id", "date", **kwargs)
    assert_same(got, expected("calibration_holdout_lifetimes.csv.gz", case))


def test_row_order_and_id_type_do_not_matter(log: pd.DataFrame) -> None:
    want = summary_data_from_transaction_data(log, "customer_id", "date", "dollar_value", freq="W")
    shuffled = log.sample(frac=1.0, random_state=7)
    shuffled["customer_id"] = "c" + shuffled["customer_id"].astype(str).str.zfill(5)
    got = summary_data_from_transaction_data(
        shuffled, "customer_id", "date", "dollar_value", freq="W"
    )
    assert list(got.index[:2]) == ["c00001", "c00002"]
    got.index = got.index.str[1:].astype(int)
    got.index.name = "customer_id"
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12)


def test_string_dates_with_a_format(log: pd.DataFrame) -> None:
    as_text = log.assign(date=log["date"].dt.strftime("%d/%m/%Y"))
    got = summary_data_from_transaction_data(
        as_text, "customer_id", "date", datetime_format="%d/%m/%Y", freq="W"
    )
    assert_same(got, expected("summary_lifetimes.csv.gz", "W"))


def small_log() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["b", "a", "a", "a", "b"],
            "date": pd.to_datetime(
                ["2024-01-03", "2024-01-01", "2024-01-01 18:00", "2024-01-08", "2024-01-03"],
                format="ISO8601",
            ),
            "value": [7.0, 10.0, 5.0, 20.0, 1.0],
        },
        index=["t1", "t2", "t3", "t4", "t5"],
    )


def test_a_hand_made_log() -> None:
    got = summary_data_from_transaction_data(
        small_log(), "id", "date", "value", observation_period_end="2024-01-10"
    )
    want = pd.DataFrame(
        {
            "frequency": [1.0, 0.0],
            "recency": [7.0, 0.0],
            "T": [9.0, 7.0],
            "monetary_value": [20.0, 0.0],
        },
        index=pd.Index(["a", "b"], name="id"),
    )
    pd.testing.assert_frame_equal(got, want)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("id", None, "customer id"),
        ("date", pd.NaT, "datetime"),
        ("value", np.nan, "value"),
        ("value", -1.0, "value"),
    ],
)
def test_missing_or_bad_values_name_the_row(column: str, value: Any, message: str) -> None:
    bad = small_log()
    bad[column] = bad[column].astype(object) if value is None else bad[column]
    bad.loc["t4", column] = value
    with pytest.raises(ValueError, match=rf"{message}.*row: 3 \[index label 't4'\]"):
        summary_data_from_transaction_data(bad, "id", "date", "value")
    # drop_invalid leaves the row out, and says so in its name only.
    got = summary_data_from_transaction_data(
        bad, "id", "date", "value", observation_period_end="2024-01-10", drop_invalid=True
    )
    assert got.loc["a", "frequency"] == 0.0


def test_a_late_transaction_is_refused_not_dropped() -> None:
    late = r"after the observation end.*row: 3 \[index label 't4'\]; id='a', date=2024-01-08"
    with pytest.raises(ValueError, match=late):
        summary_data_from_transaction_data(
            small_log(), "id", "date", observation_period_end="2024-01-07"
        )
    # A purchase later on the end's own day is in the last period: kept, as in
    # lifetimes (t3, 18:00, adds 5.0 to t2's 10.0).
    got = summary_data_from_transaction_data(
        small_log(),
        "id",
        "date",
        "value",
        observation_period_end="2024-01-01 12:00",
        include_first_transaction=True,
        drop_invalid=True,
    )
    assert list(got.index) == ["a"]
    assert got.loc["a"].tolist() == [1.0, 0.0, 0.0, 15.0]


def test_rows_named_by_the_core_after_dropping_are_the_callers_rows() -> None:
    log = _Log.read(small_log(), "id", "date", "value", None)
    log.keep(np.array([False, True, False, True, True]))
    named = r"rule \(first offending row: 3 \[index label 't4'\]; id='a'"
    with pytest.raises(ValueError, match=named):
        with log.rows_named():
            raise invalid_data_error(
                "invalid data: a rule (first offending row: 1; customer=0)", rule="a rule", row=1
            )


def test_calibration_and_holdout_on_a_hand_made_log() -> None:
    got = calibration_and_holdout_data(
        small_log(), "id", "date", "2024-01-01 12:00", "2024-01-09", monetary_value_col="value"
    )
    # a: calibration 10.0 on day 0; holdout 5.0 later on day 0 and 20.0 on day 7.
    # b is first seen in the holdout and left out.
    want = pd.DataFrame(
        {
            "frequency_cal": [0.0],
            "recency_cal": [0.0],
            "T_cal": [0.0],
            "monetary_value_cal": [0.0],
            "frequency_holdout": [2.0],
            "monetary_value_holdout": [12.5],
            "duration_holdout": [8.0],
        },
        index=pd.Index(["a"], name="id"),
    )
    pd.testing.assert_frame_equal(got, want)


def test_calibration_and_holdout_refuse_empty_periods() -> None:
    with pytest.raises(ValueError, match="There is no data available"):
        calibration_and_holdout_data(small_log(), "id", "date", "2024-02-01", "2024-02-01")
    with pytest.raises(ValueError, match="no calibration data"):
        calibration_and_holdout_data(small_log(), "id", "date", "2023-12-01")
    with pytest.raises(ValueError, match="is after observation_period_end"):
        calibration_and_holdout_data(small_log(), "id", "date", "2024-01-05", "2024-01-04")


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="freq_multiplier"):
        summary_data_from_transaction_data(small_log(), "id", "date", freq="2D")
    with pytest.raises(ValueError, match="period frequency"):
        summary_data_from_transaction_data(small_log(), "id", "date", freq="nonsense")
    with pytest.raises(ValueError, match="empty"):
        summary_data_from_transaction_data(small_log().iloc[:0], "id", "date")
    with pytest.raises(ValueError, match="freq_multiplier"):
        summary_data_from_transaction_data(small_log(), "id", "date", freq_multiplier=0)


@pytest.mark.parametrize("freq", ["D", "W", "W-SUN", "M", "h", "Q", "min"])
def test_fast_period_ordinals_equal_to_period(freq: str) -> None:
    rng = np.random.default_rng(3)
    ns = rng.integers(-(2**62), 2**62, 50_000)
    ns[:6] = [-1, 0, 1, -86_400 * 10**9, -86_400 * 10**9 - 1, 3 * 86_400 * 10**9]
    times = pd.Series(ns.view("datetime64[ns]"))
    want = pd.DatetimeIndex(times).to_period(freq).asi8
    np.testing.assert_array_equal(_period_ordinals(times, freq), want)
    seconds = pd.Series(times.to_numpy().astype("datetime64[s]"))
    np.testing.assert_array_equal(_period_ordinals(seconds, freq), want)


def test_cohort_table_on_a_hand_made_log() -> None:
    log = pd.DataFrame(
        {
            "customer": [1, 1, 1, 2, 2, 3, 4, 4, 5],
            "date": pd.to_datetime(
                [
                    "2024-01-05",
                    "2024-01-20",  # same month: one active period
                    "2024-03-01",
                    "2024-01-31",
                    "2024-02-29",
                    "2024-02-10",
                    "2024-02-01",
                    "2024-03-31",
                    "2024-04-15",
                ]
            ),
        }
    )
    table = cohort_table(log, "customer", "date")
    cohorts = pd.PeriodIndex(["2024-01", "2024-02", "2024-04"], freq="M", name="cohort")
    columns = pd.RangeIndex(4, name="periods_since_acquisition")
    nan = np.nan
    active = pd.DataFrame(
        [[2.0, 1.0, 1.0, 0.0], [2.0, 1.0, 0.0, nan], [1.0, nan, nan, nan]],
        index=cohorts,
        columns=columns,
    )
    pd.testing.assert_frame_equal(table.active, active)
    pd.testing.assert_frame_equal(table.retention, active.div(active[0], axis=0))
    # Buyers: Jan {1, 2}; Feb {2, 3, 4}; Mar {1, 4}; Apr {5}.
    churn = pd.Series(
        [0.5, 2 / 3, 1.0],
        index=pd.period_range("2024-02", periods=3, freq="M"),
        name="churn_rate",
    )
    pd.testing.assert_series_equal(table.churn_rate, churn)
    # Repeat buyers (two distinct months): 1 and 2 of January's, 4 of February's.
    repeat = pd.Series([1.0, 0.5, 0.0], index=cohorts, name="repeat_purchase_rate")
    pd.testing.assert_series_equal(table.repeat_purchase_rate, repeat)


def test_cohort_table_weeks_and_missing_values() -> None:
    log = pd.DataFrame(
        {
            "customer": ["x", "x", None],
            "date": pd.to_datetime(["2024-01-07", "2024-01-08", "2024-01-08"]),
        }
    )
    with pytest.raises(ValueError, match=r"customer id .* row: 2"):
        cohort_table(log, "customer", "date", period="W")
    table = cohort_table(log, "customer", "date", period="W", drop_invalid=True)
    # Sunday 7 January ends a week; Monday 8 January starts the next.
    assert table.active.to_numpy().tolist() == [[1.0, 1.0]]
    assert str(table.active.index[0]) == "2024-01-01/2024-01-07"
