"""``include_litt``: the sum of the logs of the inter-purchase times (MBG/CNBD-k).

Checked against a direct pandas computation: purchases floored to periods,
one purchase per customer and period, gaps between consecutive periods divided
by ``freq_multiplier`` (the time unit of recency and T), logs summed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from transaction_logs import simulate_log

from retentionkit.utils import summary_data_from_transaction_data


def _direct_litt(log: pd.DataFrame, freq: str, freq_multiplier: float) -> pd.Series:
    periods = log["when"].dt.to_period(freq).astype("int64")
    per_customer = (
        pd.DataFrame({"customer": log["customer"], "p": periods})
        .drop_duplicates()
        .sort_values(["customer", "p"])
    )
    gaps = per_customer.groupby("customer")["p"].diff().dropna() / freq_multiplier
    litt = np.log(gaps).groupby(per_customer.loc[gaps.index, "customer"]).sum()
    ids = per_customer["customer"].unique()
    return litt.reindex(ids, fill_value=0.0).sort_index()


@pytest.mark.parametrize(("freq", "multiplier"), [("D", 1.0), ("D", 7.0), ("h", 24.0), ("W", 1.0)])
def test_litt_matches_direct_pandas(freq: str, multiplier: float) -> None:
    log = simulate_log(800, seed=11)
    summary = summary_data_from_transaction_data(
        log, "customer", "when", freq=freq, freq_multiplier=multiplier, include_litt=True
    )
    expected = _direct_litt(log, freq, multiplier)
    assert list(summary.columns) == ["frequency", "recency", "T", "litt"]
    np.testing.assert_allclose(
        summary["litt"].to_numpy(), expected.to_numpy(), rtol=1e-12, atol=1e-12
    )
    # The other columns are those of the summary without litt.
    plain = summary_data_from_transaction_data(
        log, "customer", "when", freq=freq, freq_multiplier=multiplier
    )
    pd.testing.assert_frame_equal(summary.drop(columns="litt"), plain)


def test_same_period_purchases_merge_and_units() -> None:
    log = pd.DataFrame(
        {
            "id": ["a", "a", "a", "a", "b", "c", "c"],
            "when": pd.to_datetime(
                [
                    "2024-01-01 09:00",
                    "2024-01-01 17:00",  # same day as the first: merged
                    "2024-01-03 00:00",
                    "2024-01-07 00:00",
                    "2024-01-02 00:00",
                    "2024-01-02 00:00",
                    "2024-01-09 00:00",
                ]
            ),
            "value": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        }
    )
    days = summary_data_from_transaction_data(
        log, "id", "when", "value", observation_period_end="2024-01-10", include_litt=True
    )
    assert list(days.columns) == ["frequency", "recency", "T", "monetary_value", "litt"]
    assert days.loc["a", "litt"] == pytest.approx(np.log(2.0) + np.log(4.0), rel=1e-15)
    assert days.loc["b", "litt"] == 0.0  # one purchase: no gap
    assert days.loc["c", "litt"] == pytest.approx(np.log(7.0), rel=1e-15)
    # In weeks counted as days / 7, each gap is divided by 7.
    weeks = summary_data_from_transaction_data(
        log,
        "id",
        "when",
        observation_period_end="2024-01-10",
        freq_multiplier=7,
        include_litt=True,
    )
    assert weeks.loc["a", "litt"] == pytest.approx(np.log(2 / 7) + np.log(4 / 7), rel=1e-14)
    assert np.isfinite(weeks["litt"]).all()
