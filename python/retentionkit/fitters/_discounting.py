"""The Python side of the CLV's time units and discounting (``src/value/clv.rs``).

The core validates ``freq``, ``discounting`` and ``time`` wherever it receives
them (``customer_lifetime_value``, ``customer_lifetime_value_interval``). Python
needs them itself in two places only, and reads them here: the point CLV with
continuous discounting, whose core function takes the rate per time unit, and
the targeting table's horizon in time units. The time units per month are the
core's (``TimeUnit::periods_per_month``, ``lifetimes``' ``factor`` table), and
so are the messages.
"""

from __future__ import annotations

import math

from .._core import periods_per_month
from .._validation import plain

__all__ = ["FREQ_CODES", "check_discounting", "continuous_rate", "periods_per_month"]

#: The ``freq`` codes the CLV understands (hours, days, weeks, months).
FREQ_CODES = ("H", "D", "W", "M")


def check_discounting(discounting: str, time: float | None) -> None:
    """``"discrete"`` needs a horizon ``time``; ``"continuous"`` needs ``time=None``."""
    if discounting == "discrete":
        if time is None:
            raise ValueError("discounting='discrete' sums over a horizon: give time in months")
    elif discounting == "continuous":
        if time is not None:
            raise ValueError(
                "discounting='continuous' values the whole remaining lifetime: pass time=None"
            )
    else:
        raise ValueError(
            f"discounting must be 'discrete' or 'continuous', got {plain(discounting)}"
        )


def continuous_rate(discount_rate: float, freq: str) -> float:
    """ln(1 + d) / f: the continuous rate per time unit equivalent to a monthly d."""
    per_month = periods_per_month(freq)
    if not float(discount_rate) > 0.0:
        raise ValueError(
            "discounting='continuous' needs a positive discount_rate (the value of an "
            f"undiscounted lifetime can be infinite), got {discount_rate}"
        )
    return math.log1p(float(discount_rate)) / per_month
