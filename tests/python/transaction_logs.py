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
