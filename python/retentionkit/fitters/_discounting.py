"""The Python side of the CLV's time units and discounting (``src/value/clv.rs``).

The core validates ``freq``, ``discounting`` and ``time`` wherever it receives
them (``customer_lifetime_value``, ``customer_lifetime_value_interval``). Python
needs them itself in two places only, and reads them here: the point CLV with
continuous discounting, whose core function takes the rate per time unit, and
the targeting table's horizon in time units. The time units per month are the
core's (``TimeUnit::periods_per_month``, ``lifetimes``' ``factor`` table), and
so are the messages.

It also keeps the summaries' time unit:
:func:`~retentionkit.utils.summary_data_from_transaction_data` and
:func:`~retentionkit.utils.calibration_and_holdout_data` record it in the
DataFrame's ``attrs["time_unit"]`` (one of :data:`FREQ_CODES`, when the unit is one of
them), a fitter fitted on such a summary records it as ``time_unit_``, and the CLV
uses it when no ``freq`` is given (:func:`clv_freq`).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from .._core import periods_per_month
from .._validation import plain

__all__ = [
    "FREQ_CODES",
    "TIME_UNIT_ATTR",
    "check_discounting",
    "clv_freq",
    "continuous_rate",
    "periods_per_month",
    "summary_time_unit",
    "time_unit_of",
]

#: The ``freq`` codes the CLV understands (hours, days, weeks, months).
FREQ_CODES = ("H", "D", "W", "M")

#: The key of a summary DataFrame's ``attrs`` that holds its time unit.
TIME_UNIT_ATTR = "time_unit"

_UNIT_NAMES = {"H": "hours", "D": "days", "W": "weeks", "M": "months"}

# (pandas period, freq_multiplier) -> the CLV code of the resulting time unit. Weeks
# are weeks whether counted as calendar weeks ("W") or as days / 7; months are calendar
# months.
_SUMMARY_UNITS = {
    ("h", 1): "H",
    ("h", 24): "D",
    ("h", 168): "W",
    ("D", 1): "D",
    ("D", 7): "W",
    ("W", 1): "W",
    ("M", 1): "M",
}


def summary_time_unit(freq: str, freq_multiplier: float) -> str | None:
    """The CLV code of a summary's time unit, or None when it is none of them."""
    try:
        import pandas as pd

        name = str(pd.PeriodDtype(freq))  # "period[D]", "period[W-SUN]", ...
    except (TypeError, ValueError):
        return None
    base = name.removeprefix("period[").removesuffix("]").split("-")[0]
    multiplier = float(freq_multiplier)
    if not multiplier.is_integer():
        return None
    return _SUMMARY_UNITS.get((base, int(multiplier)))


def time_unit_of(*data: Any) -> str | None:
    """The time unit recorded in the ``attrs`` of the first pandas object that has one."""
    for item in data:
        unit = getattr(item, "attrs", {}).get(TIME_UNIT_ATTR)
        if unit in FREQ_CODES:
            return str(unit)
    return None


def clv_freq(freq: str | None, model: Any) -> str:
    """The CLV's time unit: ``freq`` if given, else the transaction model's, else "D".

    Warns when ``freq`` is given and disagrees with the unit the model was fitted in
    (its ``time_unit_``): a CLV computed with the wrong unit is off by the ratio of
    the units (about 4.3 for weekly data valued with ``freq="D"``).
    """
    fitted = getattr(model, "time_unit_", None)
    if freq is None:
        return fitted if fitted in FREQ_CODES else "D"
    if fitted in FREQ_CODES and freq != fitted:
        warnings.warn(
            f"freq={freq!r} ({_UNIT_NAMES.get(freq, freq)}) but the transaction model was "
            f"fitted on a summary in {_UNIT_NAMES[fitted]} (time_unit_={fitted!r}): the CLV "
            f"treats its recency and T as {_UNIT_NAMES.get(freq, freq)}; "
            f"leave freq out (or pass freq={fitted!r}) to use the model's unit",
            UserWarning,
            stacklevel=3,
        )
    return freq


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
