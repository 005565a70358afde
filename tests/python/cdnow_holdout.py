"""The CDNOW sample split into calibration and holdout periods, built with pandas only.

Fader, Hardie & Lee (2005): the 39 weeks 1997-01-01..1997-09-30 calibrate, the 39
weeks 1997-10-01..1998-06-30 are held out; time in weeks, several purchases on one
day count once (which reproduces ``load_cdnow_summary`` exactly).
"""

from __future__ import annotations

import pandas as pd

from retentionkit.datasets import load_transaction_data

CALIBRATION_END = pd.Timestamp("1997-09-30")
OBSERVATION_END = pd.Timestamp("1998-06-30")


def cdnow_calibration_holdout() -> pd.DataFrame:
    """Columns of ``lifetimes.utils.calibration_and_holdout_data``, indexed by customer id."""
    log = load_transaction_data()[["customer_id", "date"]].drop_duplicates()
    cal = log[log["date"] <= CALIBRATION_END]
    by_customer = cal.groupby("customer_id")["date"]
    first, last = by_customer.min(), by_customer.max()
    holdout = log[log["date"] > CALIBRATION_END].groupby("customer_id").size()
    week = pd.Timedelta(days=7)
    frame = pd.DataFrame(
        {
            "frequency_cal": (by_customer.size() - 1).astype(float),
            "recency_cal": (last - first) / week,
            "T_cal": (CALIBRATION_END - first) / week,
            "frequency_holdout": holdout.reindex(first.index, fill_value=0).astype(float),
            "duration_holdout": (OBSERVATION_END - CALIBRATION_END) / week,
        }
    )
    frame.index.name = "customer_id"
    return frame
