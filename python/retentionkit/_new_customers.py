"""Customers first seen at the end of observation (T = 0), as the report describes them.

Such a customer has made one purchase, on the last day (period) of the data: frequency,
recency and T are all 0. The models accept them: their likelihood is exactly 1 (they
carry no information on the parameters, so a fit leaves them out of the objective), and
their predictions are those of a customer who has just made a first purchase.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def count_new_customers(T: pd.Series) -> int:
    """Number of customers with ``T == 0``."""
    return int(np.count_nonzero(T.to_numpy(dtype=np.float64) == 0.0))


def new_customers_notes(calibration_T: pd.Series, T: pd.Series) -> list[str]:
    """The report's sentence on customers first seen at the end of each period (none if
    there are none)."""
    calibration, scored = count_new_customers(calibration_T), count_new_customers(T)
    if calibration == 0 and scored == 0:
        return []
    return [
        f"New customers: {scored:,} of the {len(T):,} customers scored made their first "
        "purchase in the last period of the log, and "
        f"{calibration:,} of {len(calibration_T):,} in the last period of the calibration "
        "(T = 0). They are kept: with no history yet, the models predict for them what they "
        "predict for any customer who has just made a first purchase."
    ]
