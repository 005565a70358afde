"""A small simulated transaction log shared by the Dask and Spark tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def simulate_log(n_customers: int, seed: int) -> pd.DataFrame:
    """A BG/NBD-like transaction log over 2024, rows in random order.

    Purchase rate ~ Gamma(0.8, rate 8) per day, drop-out after each purchase with
    probability ~ Beta(1, 12), first purchase in the first half of the year;
    times to the second, several purchases of a customer on one day are common.
    """
    rng = np.random.default_rng(seed)
    lam = rng.gamma(0.8, 1 / 8, n_customers)
    p = rng.beta(1.0, 12.0, n_customers)
    clock = rng.uniform(0, 183, n_customers)
    ids, times = [np.arange(n_customers)], [clock.copy()]
    active = np.arange(n_customers)
    while active.size:
        clock[active] += rng.exponential(size=active.size) / lam[active]
        active = active[clock[active] < 366]
        ids.append(active)
        times.append(clock[active])
        active = active[rng.random(active.size) >= p[active]]
    customer = np.concatenate(ids)
    day = np.concatenate(times)
    order = rng.permutation(len(customer))
    return pd.DataFrame(
        {
            "customer": customer[order],
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.round(day[order] * 86400), "s"),
            "value": np.round(rng.gamma(2.0, 10.0, len(customer)), 2),
        }
    )


DATETIME_FORMAT = "%d%m%Y %H%M"  # not guessable: a parser must be told

#: One invalid transaction of each kind, by the name of the rule it breaks.
INVALID = {
    "no-datetime": {"customer": "c1", "when": pd.NaT, "value": 10.0},
    "negative": {"customer": "c2", "when": pd.Timestamp("2024-06-01"), "value": -5.0},
    "after-end": {"customer": "c3", "when": pd.Timestamp("2025-03-01"), "value": 10.0},
}
INVALID_RULE = {
    "no-datetime": "the datetime \\(when\\) is missing",
    "negative": "must be a finite non-negative number",
    "after-end": "after the observation",
}
END = "2025-01-31"  # after every transaction of the simulated log


def with_rows(log: pd.DataFrame, *rows: dict) -> pd.DataFrame:
    """``log`` with text customer ids ("c17") and ``rows`` appended."""
    text_ids = log.assign(customer="c" + log["customer"].astype(str))
    return pd.concat([text_ids, pd.DataFrame(list(rows))], ignore_index=True)
