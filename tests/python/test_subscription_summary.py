"""subscription_summary: a subscription log to per-subscriber (periods, churned) (issue 15)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from retentionkit import InvalidDataError
from retentionkit.utils import subscription_summary


def _log(rows: list[tuple[object, str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer", "start", "end"])


def test_periods_and_churned_follow_the_anniversaries() -> None:
    log = _log(
        [
            (1, "2024-01-15", "2024-02-15"),  # ends at its first renewal: P(T = 1)
            (2, "2024-01-15", "2024-02-10"),  # ends before it: also T = 1
            (3, "2024-01-15", "2024-03-16"),  # paid for 3 months
            (4, "2024-01-15", None),  # renewed at 7 opportunities by 2024-08-20: S(7)
            (5, "2024-01-31", "2024-02-29"),  # month-end start renews on Feb 29
            (6, "2024-08-01", None),  # younger than a period: S(0)
            (7, "2024-01-15", "2024-12-01"),  # ends after observation: active
        ]
    )
    out = subscription_summary(log, "customer", "start", "end", "2024-08-20", "M")
    assert out["periods"].tolist() == [1, 1, 3, 7, 1, 0, 7]
    assert out["churned"].tolist() == [True, True, True, False, True, False, False]
    assert out.index.name == "customer"
    assert out.index.tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert str(out["cohort"].iloc[0]) == "2024-01"
    assert pd.isna(out["end"].iloc[6])


def test_days_and_weeks() -> None:
    log = _log(
        [(1, "2024-01-01", "2024-01-15"), (2, "2024-01-01", "2024-01-16"), (3, "2024-01-01", None)]
    )
    weeks = subscription_summary(log, "customer", "start", "end", "2024-01-29", "W")
    assert weeks["periods"].tolist() == [2, 3, 4]
    days = subscription_summary(log, "customer", "start", "end", "2024-01-29", "D")
    assert days["periods"].tolist() == [14, 15, 28]


def test_years_and_quarters() -> None:
    log = _log([(1, "2020-02-29", "2021-02-28"), (2, "2020-02-29", None)])
    years = subscription_summary(log, "customer", "start", "end", "2024-03-01", "Y")
    assert years["periods"].tolist() == [1, 4]
    quarters = subscription_summary(log, "customer", "start", "end", "2021-06-01", "Q")
    # Anniversaries 29 May, 29 Aug, 29 Nov, 28 Feb (clipped), 29 May.
    assert quarters["periods"].tolist() == [4, 5]


@pytest.mark.parametrize(
    ("rows", "rule", "row"),
    [
        (
            [(1, "2024-01-01", "2024-03-01"), (2, "2024-02-01", "2024-02-01")],
            "the day it starts",
            1,
        ),
        ([(1, "2024-01-01", "2023-12-01")], "ends before it starts", 0),
        ([(1, "2024-01-01", None), (2, "2025-01-01", None)], "starts after observation_end", 1),
        (
            [(1, "2024-01-01", "2024-05-01"), (2, "2024-01-01", None), (1, "2024-04-01", None)],
            "overlap",
            2,
        ),
        ([(1, None, "2024-02-01")], "start (start) is missing", 0),
    ],
)
def test_invalid_rows_are_named(rows: list, rule: str, row: int) -> None:
    log = _log(rows)
    log.index = [f"r{i}" for i in range(len(log))]
    with pytest.raises(InvalidDataError, match=re.escape(rule)) as info:
        subscription_summary(log, "customer", "start", "end", "2024-06-30")
    assert info.value.row == row
    assert info.value.label == f"r{row}"
    assert f"index label 'r{row}'" in str(info.value)
    assert "00:00:00" not in str(info.value)
    assert "np." not in str(info.value)


def test_drop_and_merge_options() -> None:
    log = _log(
        [
            (1, "2024-01-01", "2024-01-01"),  # same day: dropped
            (2, "2024-01-01", "2024-03-01"),
            (2, "2024-02-01", "2024-04-01"),  # overlaps: merged with the previous
            (2, "2024-06-01", None),  # a later, separate subscription
        ]
    )
    with pytest.raises(InvalidDataError):
        subscription_summary(log, "customer", "start", "end", "2024-07-01", invalid="drop")
    out = subscription_summary(
        log, "customer", "start", "end", "2024-07-01", invalid="drop", overlapping="merge"
    )
    assert out.attrs["dropped_subscriptions"] == 1
    assert out.index.names == ["customer", "subscription"]
    assert out.loc[(2, 1), "periods"] == 3 and out.loc[(2, 1), "churned"]
    assert out.loc[(2, 2), "periods"] == 1 and not out.loc[(2, 2), "churned"]


def test_bad_arguments() -> None:
    log = _log([(1, "2024-01-01", None)])
    with pytest.raises(ValueError, match="freq"):
        subscription_summary(log, "customer", "start", "end", "2024-06-30", "fortnight")
    with pytest.raises(ValueError, match="not a column"):
        subscription_summary(log, "id", "start", "end", "2024-06-30")
    with pytest.raises(ValueError, match="empty"):
        subscription_summary(log.iloc[:0], "customer", "start", "end", "2024-06-30")


def test_summary_feeds_the_subscriber_fit() -> None:
    from retentionkit import ShiftedBetaGeometricFitter

    rng = np.random.default_rng(3)
    n = 400
    start = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    months = rng.geometric(0.2, n)
    end = [s + pd.DateOffset(months=int(m)) for s, m in zip(start, months)]
    log = pd.DataFrame({"customer": np.arange(n), "start": start, "end": end})
    out = subscription_summary(log, "customer", "start", "end", "2023-06-30")
    sbg = ShiftedBetaGeometricFitter().fit(out["periods"], out["churned"])
    assert sbg.params_.index.tolist() == ["alpha", "beta"]
