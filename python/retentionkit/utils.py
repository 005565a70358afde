"""From a transaction log to customer summaries, as ``lifetimes.utils`` does.

:func:`summary_data_from_transaction_data` and :func:`calibration_and_holdout_data`
take ``lifetimes``' arguments in ``lifetimes``' order and return the same frames
(checked value for value against ``lifetimes`` 0.11.3 on the CDNOW log), computed
in Rust: integer customer ids are factorised by the core (other ids with pandas),
datetimes converted to pandas
period ordinals (so weeks end on Sunday and months are calendar months, as with
``Series.dt.to_period``), and the grouping is done in parallel without the GIL.

Unlike ``lifetimes``, nothing is dropped silently: a missing customer id or
datetime, a transaction after the observation end, or (with
``monetary_value_col``) a negative or missing amount raises ``ValueError``
naming the first offending row, unless ``drop_invalid=True`` asks to leave such
rows out. :func:`cohort_table` adds acquisition-cohort tables.

A customer whose first purchase falls in the last period (of the log, or of the
calibration) gets ``frequency = recency = T = 0``. Such a customer is valid and kept
(``drop_invalid`` does not drop it): every fitter, prediction, plot and report accepts
it; it carries no information for a fit (its likelihood is 1, so it changes no estimate)
and is predicted as a customer who has just made a first purchase.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from . import _core
from ._core import InvalidDataError
from ._validation import as_float_array, index_label, invalid_data_error, plain
from .fitters._discounting import TIME_UNIT_ATTR, summary_time_unit

__all__ = [
    "CohortTable",
    "InvalidDataError",
    "calculate_alive_path",
    "calibration_and_holdout_data",
    "cohort_table",
    "expected_cumulative_transactions",
    "subscription_summary",
    "summary_data_from_transaction_data",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_NO_HOLDOUT = (
    "There is no data available. Check the `observation_period_end` and "
    "`calibration_period_end` and confirm that values in `transactions` occur prior to "
    "those dates."
)


def summary_data_from_transaction_data(
    transactions: pd.DataFrame,
    customer_id_col: str,
    datetime_col: str,
    monetary_value_col: str | None = None,
    datetime_format: str | None = None,
    observation_period_end: Any = None,
    freq: str = "D",
    freq_multiplier: float = 1,
    include_first_transaction: bool = False,
    *,
    drop_invalid: bool = False,
    include_litt: bool = False,
) -> pd.DataFrame:
    """Summarise a transaction log: frequency, recency, T (and monetary value).

    Datetimes are floored to periods of ``freq`` (pandas' ``to_period``); all
    transactions of a customer in one period count as one purchase, with their
    values summed. With ``p_1 < ... < p_k`` the distinct periods of a customer's
    purchases and ``p_end`` the period of ``observation_period_end``:

    .. math::

        x = k - 1, \\quad t_x = (p_k - p_1) / m, \\quad T = (p_{end} - p_1) / m,

    where ``m`` is ``freq_multiplier``; the monetary value is the mean of the
    per-period sums of periods ``p_2..p_k`` (0 when ``k = 1``). With
    ``include_first_transaction`` the frequency is ``k`` and the mean is over all
    ``k`` periods.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per transaction.
    customer_id_col : str
        Column of customer ids (any hashable dtype).
    datetime_col : str
        Column of purchase datetimes (or strings pandas can parse).
    monetary_value_col : str, optional
        Column of transaction values; adds a ``monetary_value`` column.
    datetime_format : str, optional
        Passed to :func:`pandas.to_datetime`.
    observation_period_end : datetime-like, optional
        End of observation; defaults to the latest transaction. A transaction in
        a later period is an error (``lifetimes`` drops it silently).
    freq : str, default "D"
        A pandas period frequency with multiple 1: "D", "W" (calendar weeks
        ending on Sunday: all purchases in one such week count as one, and times
        are whole weeks, as in ``lifetimes``), "M", "h", ...
    freq_multiplier : float, default 1
        Divides recency and T (e.g. ``freq="h", freq_multiplier=24`` gives days
        at hour resolution; ``freq="D", freq_multiplier=7`` gives weeks counted
        exactly as days / 7, where purchases on different days are distinct).
    include_first_transaction : bool, default False
        Count the first purchase in frequency and monetary value (leave False
        for the models, which count repeat purchases).
    drop_invalid : bool, default False
        Leave out, instead of refusing, rows with a missing id or datetime, a
        missing, infinite or negative value (with ``monetary_value_col``), or a
        datetime in a period after ``observation_period_end``.
    include_litt : bool, default False
        Add a ``litt`` column, the sum of the logs of the customer's
        inter-purchase times, :math:`\\sum_{j=1}^{k-1} \\ln((p_{j+1} - p_j) / m)`,
        in the time unit of recency and T (the statistic MBG/CNBD-k needs
        besides x, t_x and T; see :class:`retentionkit.MBGCNBDkFitter`).
        Purchases in one period are merged into one, as for the frequency, so
        every gap is at least one period and its log finite; 0 for a customer
        with one purchase period.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id (named ``customer_id_col``, sorted), float columns
        ``frequency``, ``recency``, ``T``, with ``monetary_value_col``
        ``monetary_value``, and with ``include_litt`` ``litt``.
        ``attrs["time_unit"]`` holds the time unit of recency
        and T as the CLV names it ("H", "D", "W" or "M") when it is one of them:
        "D" for ``freq="D"`` (or ``"h"`` with multiplier 24), "W" for ``freq="W"``
        (calendar weeks) and for ``freq="D", freq_multiplier=7`` (days / 7), "M"
        for ``freq="M"``. Fitters fitted on the summary record it (``time_unit_``)
        and the CLV uses it when no ``freq`` is given.

    Raises
    ------
    ValueError
        Naming the first offending row (position and index label) for a missing
        id or datetime, a transaction after the observation end or a negative or
        missing value; or for an empty log or an unsupported ``freq``.

    Examples
    --------
    >>> import pandas as pd
    >>> from retentionkit.utils import summary_data_from_transaction_data
    >>> log = pd.DataFrame({
    ...     "id": ["a", "a", "a", "b"],
    ...     "date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-08", "2024-01-03"]),
    ...     "value": [10.0, 5.0, 20.0, 7.0],
    ... })
    >>> summary_data_from_transaction_data(log, "id", "date", "value",
    ...                                    observation_period_end="2024-01-10")
        frequency  recency    T  monetary_value
    id
    a         1.0      7.0  9.0            20.0
    b         0.0      0.0  7.0             0.0
    """
    log = _Log.read(
        transactions, customer_id_col, datetime_col, monetary_value_col, datetime_format
    )
    log.refuse_or_drop_missing(drop_invalid)
    _period_dtype(freq)
    tz = log.to_wall_clock()
    if observation_period_end is None:
        end = log.times.max()
    else:
        end = _to_datetime(observation_period_end, datetime_format, "observation_period_end")
        end = _in_log_time(end, tz, "observation_period_end")
    end_ordinal = _period_ordinal(end, freq)
    ordinals = _period_ordinals(log.times, freq)
    if drop_invalid:
        keep = ordinals <= end_ordinal
        ordinals = ordinals[keep]
        log.keep(keep)
    codes, ids = log.factorize()
    litt = None
    with log.rows_named():
        if include_litt:
            (customer, x, t_x, age, monetary), litt = _core.summarize_transactions_litt(
                codes,
                ordinals,
                end_ordinal,
                amounts=log.amounts,
                freq_multiplier=float(freq_multiplier),
                include_first_transaction=include_first_transaction,
            )
        else:
            customer, x, t_x, age, monetary = _core.summarize_transactions(
                codes,
                ordinals,
                end_ordinal,
                amounts=log.amounts,
                freq_multiplier=float(freq_multiplier),
                include_first_transaction=include_first_transaction,
            )
    columns = {"frequency": x, "recency": t_x, "T": age}
    if monetary is not None:
        columns["monetary_value"] = monetary
    if litt is not None:
        columns["litt"] = litt
    summary = pd.DataFrame(
        columns, index=_customer_index(ids, customer, customer_id_col), copy=False
    )
    return _with_time_unit(summary, freq, freq_multiplier)


def calibration_and_holdout_data(
    transactions: pd.DataFrame,
    customer_id_col: str,
    datetime_col: str,
    calibration_period_end: Any,
    observation_period_end: Any = None,
    freq: str = "D",
    freq_multiplier: float = 1,
    datetime_format: str | None = None,
    monetary_value_col: str | None = None,
    include_first_transaction: bool = False,
    *,
    drop_invalid: bool = False,
) -> pd.DataFrame:
    """Summarise a calibration period and count each customer's holdout purchases.

    Transactions up to ``calibration_period_end`` (inclusive, compared as
    datetimes) are summarised as by :func:`summary_data_from_transaction_data`
    with ``observation_period_end=calibration_period_end``; the later ones, up to
    ``observation_period_end``, form the holdout. As in ``lifetimes``:

    * only customers with a calibration purchase appear (customers first seen in
      the holdout are left out);
    * ``frequency_holdout`` is the number of distinct holdout periods with a
      purchase;
    * ``monetary_value_holdout`` is the mean value of the holdout *transactions*
      (not of per-period sums, unlike the calibration monetary value), 0 without
      holdout purchases;
    * ``duration_holdout`` = (period of ``observation_period_end`` - period of
      ``calibration_period_end``) / ``freq_multiplier``.

    Parameters
    ----------
    transactions, customer_id_col, datetime_col
        As for :func:`summary_data_from_transaction_data`.
    calibration_period_end : datetime-like
        Last moment of the calibration period.
    observation_period_end : datetime-like, optional
        Last moment of the holdout; defaults to the latest transaction. A later
        transaction is an error (``lifetimes`` drops it silently).
    freq, freq_multiplier, datetime_format, monetary_value_col, include_first_transaction
        As for :func:`summary_data_from_transaction_data` (
        ``include_first_transaction`` affects the calibration columns only).
    drop_invalid : bool, default False
        Leave out, instead of refusing, rows with a missing id or datetime, a
        missing, infinite or negative value, or a datetime after
        ``observation_period_end``.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id, float columns ``frequency_cal``, ``recency_cal``,
        ``T_cal``, [``monetary_value_cal``], ``frequency_holdout``,
        [``monetary_value_holdout``], ``duration_holdout``; ``attrs["time_unit"]``
        as for :func:`summary_data_from_transaction_data`.

    Raises
    ------
    ValueError
        As :func:`summary_data_from_transaction_data`; and when the calibration
        or the holdout period has no transaction, or the calibration end is after
        the observation end.
    """
    log = _Log.read(
        transactions, customer_id_col, datetime_col, monetary_value_col, datetime_format
    )
    log.refuse_or_drop_missing(drop_invalid)
    _period_dtype(freq)
    tz = log.to_wall_clock()
    if observation_period_end is None:
        obs_end = log.times.max()
    else:
        obs_end = _to_datetime(observation_period_end, datetime_format, "observation_period_end")
        obs_end = _in_log_time(obs_end, tz, "observation_period_end")
    cal_end = _to_datetime(calibration_period_end, datetime_format, "calibration_period_end")
    cal_end = _in_log_time(cal_end, tz, "calibration_period_end")
    if cal_end > obs_end:
        raise ValueError(
            f"calibration_period_end ({cal_end}) is after observation_period_end ({obs_end})"
        )
    after = (log.times > obs_end).to_numpy()
    if drop_invalid:
        log.keep(~after)
    elif after.any():
        log.raise_for_row(
            int(np.argmax(after)),
            "transactions must not be after observation_period_end",
            datetime_col,
        )
    holdout = (log.times > cal_end).to_numpy()
    if not holdout.any():
        raise ValueError(_NO_HOLDOUT)
    if holdout.all():
        raise ValueError(
            "There is no calibration data: no transaction on or before "
            f"calibration_period_end ({cal_end})."
        )
    ordinals = _period_ordinals(log.times, freq)
    codes, ids = log.factorize()
    with log.rows_named():
        (customer, x, t_x, age, monetary), x_holdout, monetary_holdout, duration = (
            _core.calibration_and_holdout(
                codes,
                ordinals,
                _period_ordinal(cal_end, freq),
                _period_ordinal(obs_end, freq),
                holdout=holdout,
                amounts=log.amounts,
                freq_multiplier=float(freq_multiplier),
                include_first_transaction=include_first_transaction,
            )
        )
    columns = {"frequency_cal": x, "recency_cal": t_x, "T_cal": age}
    if monetary is not None:
        columns["monetary_value_cal"] = monetary
    columns["frequency_holdout"] = x_holdout
    if monetary_holdout is not None:
        columns["monetary_value_holdout"] = monetary_holdout
    columns["duration_holdout"] = np.full(len(x), duration)
    summary = pd.DataFrame(columns, index=_customer_index(ids, customer, customer_id_col))
    return _with_time_unit(summary, freq, freq_multiplier)


def calculate_alive_path(
    model: Any, transactions: pd.DataFrame, datetime_col: str, t: int, freq: str = "D"
) -> pd.Series:
    """P(alive) of one customer at the end of each period since the first purchase.

    ``lifetimes.utils.calculate_alive_path``, with its argument order; the same
    as :func:`retentionkit.plotting.alive_path` (see there).
    """
    from .plotting import alive_path

    return alive_path(model, t, transactions, datetime_col, freq)


def expected_cumulative_transactions(
    model: Any,
    transactions: pd.DataFrame,
    datetime_col: str,
    customer_id_col: str,
    t: int,
    datetime_format: str | None = None,
    freq: str = "D",
    freq_multiplier: int = 1,
    set_index_date: bool = False,
) -> pd.DataFrame:
    """Actual and expected cumulative repeat transactions over calendar time.

    ``lifetimes.utils.expected_cumulative_transactions``; the same as
    :func:`retentionkit.plotting.expected_cumulative_transactions` (see there).
    """
    from . import plotting

    return plotting.expected_cumulative_transactions(
        model,
        transactions,
        datetime_col,
        customer_id_col,
        t,
        datetime_format,
        freq,
        freq_multiplier,
        set_index_date,
    )


@dataclass(frozen=True)
class CohortTable:
    """Acquisition-cohort tables of a transaction log (see :func:`cohort_table`).

    Attributes
    ----------
    active : pandas.DataFrame
        Rows: acquisition cohorts (``PeriodIndex`` named ``cohort``: the period
        of each customer's first purchase; only periods in which someone was
        acquired). Columns: periods since acquisition 0, 1, ... (named
        ``periods_since_acquisition``). Values: number of the cohort's customers
        with a purchase in that period; column 0 is the cohort size. NaN where
        the cohort has not reached that age by the last period of the log.
    retention : pandas.DataFrame
        ``active`` divided by the cohort size: the share of the cohort buying in
        each period since acquisition.
    churn_rate : pandas.Series
        Indexed by calendar period (from the second period of the log): the
        share of the customers buying in the previous period who do not buy in
        this one; NaN after a period without purchases.
    repeat_purchase_rate : pandas.Series
        Indexed by cohort: the share of the cohort's customers who bought in at
        least two distinct periods (a repeat purchase in a later period).
    """

    active: pd.DataFrame
    retention: pd.DataFrame
    churn_rate: pd.Series
    repeat_purchase_rate: pd.Series


def cohort_table(
    transactions: pd.DataFrame,
    customer_id_col: str,
    datetime_col: str,
    period: str = "M",
    *,
    datetime_format: str | None = None,
    drop_invalid: bool = False,
) -> CohortTable:
    """Active customers and retention by acquisition cohort.

    Each customer belongs to the cohort of the period (``period``, a pandas
    period frequency: "M" months, "W" weeks ending on Sunday, "D", "Q", ...) of
    their first purchase, and is *active* in a period when they buy in it.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per transaction.
    customer_id_col, datetime_col : str
        Columns of customer ids and purchase datetimes.
    period : str, default "M"
        Period frequency of the cohorts and of the columns.
    datetime_format : str, optional
        Passed to :func:`pandas.to_datetime`.
    drop_invalid : bool, default False
        Leave out rows with a missing id or datetime instead of refusing them.

    Returns
    -------
    CohortTable
        ``active`` and ``retention`` (cohort by periods since acquisition),
        ``churn_rate`` per calendar period and ``repeat_purchase_rate`` per
        cohort; see :class:`CohortTable`.

    Examples
    --------
    >>> import pandas as pd
    >>> from retentionkit.utils import cohort_table
    >>> log = pd.DataFrame({
    ...     "id": [1, 1, 2, 2, 3],
    ...     "date": pd.to_datetime(
    ...         ["2024-01-05", "2024-02-01", "2024-01-20", "2024-03-02", "2024-02-11"]),
    ... })
    >>> table = cohort_table(log, "id", "date")
    >>> table.active
    periods_since_acquisition    0    1    2
    cohort
    2024-01                    2.0  1.0  1.0
    2024-02                    1.0  0.0  NaN
    >>> table.retention
    periods_since_acquisition    0    1    2
    cohort
    2024-01                    1.0  0.5  0.5
    2024-02                    1.0  0.0  NaN
    >>> table.churn_rate  # of January's 2 buyers, 1 buys in February; of February's 2, 2 stop
    2024-02    0.5
    2024-03    1.0
    Freq: M, Name: churn_rate, dtype: float64
    """
    log = _Log.read(transactions, customer_id_col, datetime_col, None, datetime_format)
    log.refuse_or_drop_missing(drop_invalid)
    ordinals = _period_ordinals(log.times, period)
    codes, _ = pd.factorize(log.ids)
    o_min, o_max = int(ordinals.min()), int(ordinals.max())
    span = o_max - o_min + 1
    # Distinct (customer, period) pairs as sorted keys: by customer, then period.
    keys = np.unique(codes.astype(np.int64) * span + (ordinals - o_min))
    customer, offset = np.divmod(keys, span)
    starts = np.flatnonzero(np.r_[True, customer[1:] != customer[:-1]])
    first = np.repeat(offset[starts], np.diff(np.r_[starts, len(keys)]))
    age = offset - first
    cohorts, cohort_of_pair = np.unique(first, return_inverse=True)
    n_ages = span - int(cohorts[0])
    counts = np.bincount(cohort_of_pair * n_ages + age, minlength=len(cohorts) * n_ages)
    active = counts.reshape(len(cohorts), n_ages).astype(np.float64)
    observable = np.arange(n_ages)[None, :] <= (span - 1 - cohorts)[:, None]
    active[~observable] = np.nan
    periods = pd.period_range(start=pd.Period(ordinal=o_min, freq=period), periods=span)
    cohort_index = pd.PeriodIndex(periods[cohorts], name="cohort")
    columns = pd.RangeIndex(n_ages, name="periods_since_acquisition")
    active_df = pd.DataFrame(active, index=cohort_index, columns=columns)
    retention = active_df.div(active_df[0], axis=0)

    # Churn: of the customers buying in period t - 1, the share not buying in t.
    following = np.searchsorted(keys, keys + 1)
    following = np.minimum(following, len(keys) - 1)
    stays = (keys[following] == keys + 1) & (offset < span - 1)
    buyers = np.bincount(offset, minlength=span).astype(np.float64)
    stayers = np.bincount(offset[stays], minlength=span).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        churn = 1.0 - stayers[:-1] / buyers[:-1]
    churn[buyers[:-1] == 0] = np.nan
    churn_rate = pd.Series(churn, index=periods[1:], name="churn_rate")

    periods_per_customer = np.diff(np.r_[starts, len(keys)])
    cohort_of_customer = cohort_of_pair[starts]
    repeaters = np.bincount(
        cohort_of_customer, weights=(periods_per_customer > 1), minlength=len(cohorts)
    )
    repeat_rate = pd.Series(
        repeaters / active[:, 0], index=cohort_index, name="repeat_purchase_rate"
    )
    return CohortTable(active_df, retention, churn_rate, repeat_rate)


_NONE_LEFT = "no valid transaction is left"


def _latest_valid_time(
    transactions: pd.DataFrame,
    customer_id_col: str,
    datetime_col: str,
    monetary_value_col: str | None,
    datetime_format: str | None,
    drop_invalid: bool,
) -> pd.Timestamp | None:
    """The default ``observation_period_end`` of
    :func:`summary_data_from_transaction_data` on this part of a log, or None.

    That is the latest datetime (parsed with ``datetime_format``) of the rows the
    summary keeps: with ``drop_invalid``, rows left out for a missing id or
    datetime or an invalid value do not count. Without it, missing datetimes are
    skipped (the summary itself refuses them). None when no row counts. The
    distributed summaries take the latest over all parts of the log.
    """
    if len(transactions) == 0:
        return None
    value_col = monetary_value_col if drop_invalid else None
    log = _Log.read(transactions, customer_id_col, datetime_col, value_col, datetime_format)
    if drop_invalid:
        try:
            log.refuse_or_drop_missing(True)
        except ValueError as exc:
            if str(exc) != _NONE_LEFT:
                raise
            return None
    latest = log.times.max()
    return None if pd.isna(latest) else latest


def _summary_of_part(
    transactions: pd.DataFrame,
    customer_id_col: str,
    datetime_col: str,
    monetary_value_col: str | None = None,
    *,
    drop_invalid: bool = False,
    **kwargs: Any,
) -> pd.DataFrame:
    """:func:`summary_data_from_transaction_data` of one part of a log (a
    partition or bucket holding all the transactions of its customers).

    An empty part, or with ``drop_invalid`` a part without a valid transaction,
    gives an empty summary instead of an error: other parts may have some.
    """
    if len(transactions) > 0:
        try:
            return summary_data_from_transaction_data(
                transactions,
                customer_id_col,
                datetime_col,
                monetary_value_col,
                drop_invalid=drop_invalid,
                **kwargs,
            )
        except ValueError as exc:
            if not (drop_invalid and str(exc) == _NONE_LEFT):
                raise
    return _empty_summary(
        transactions,
        customer_id_col,
        monetary_value_col,
        include_litt=bool(kwargs.get("include_litt", False)),
    )


def _empty_summary(
    transactions: pd.DataFrame,
    customer_id_col: str,
    monetary_value_col: str | None,
    *,
    include_litt: bool = False,
) -> pd.DataFrame:
    """A summary without customers, with the columns and index type of one of
    ``transactions``."""
    columns = ["frequency", "recency", "T"]
    if monetary_value_col is not None:
        columns.append("monetary_value")
    if include_litt:
        columns.append("litt")
    index = pd.Index(transactions[customer_id_col].iloc[:0], name=customer_id_col)
    return pd.DataFrame({c: np.empty(0) for c in columns}, index=index)


class _Log:
    """The columns of a transaction log, with the positions of the kept rows."""

    def __init__(
        self,
        ids: pd.Series,
        times: pd.Series,
        amounts: npt.NDArray[np.float64] | None,
        index: pd.Index,
        names: tuple[str, str, str | None],
    ) -> None:
        self.ids = ids
        self.times = times
        self.amounts = amounts
        self.index = index
        self.names = names
        self.positions: IntArray | None = None  # None: all rows, in order

    @classmethod
    def read(
        cls,
        transactions: pd.DataFrame,
        customer_id_col: str,
        datetime_col: str,
        monetary_value_col: str | None,
        datetime_format: str | None,
    ) -> _Log:
        if not isinstance(transactions, pd.DataFrame):
            raise TypeError(
                f"transactions must be a pandas DataFrame, got {type(transactions).__name__}"
            )
        columns = {"customer_id_col": customer_id_col, "datetime_col": datetime_col}
        if monetary_value_col is not None:
            columns["monetary_value_col"] = monetary_value_col
        for argument, column in columns.items():
            if column not in transactions.columns:
                present = ", ".join(plain(c) for c in transactions.columns)
                raise ValueError(
                    f"{argument}={plain(column)} is not a column of transactions; "
                    f"its columns are {present}"
                )
        if len(transactions) == 0:
            raise ValueError("the transaction log is empty")
        times = _to_datetime(
            transactions[datetime_col], datetime_format, f"the column {plain(datetime_col)}"
        )
        amounts = None
        if monetary_value_col is not None:
            amounts = as_float_array(transactions[monetary_value_col], monetary_value_col)
        return cls(
            transactions[customer_id_col],
            times,
            amounts,
            transactions.index,
            (customer_id_col, datetime_col, monetary_value_col),
        )

    def to_wall_clock(self) -> Any:
        """Make tz-aware datetimes naive, as wall-clock times of their timezone
        (periods are calendar days, weeks, months of that timezone, as
        ``to_period`` counts them); returns the timezone (None if naive)."""
        tz = getattr(self.times.dt, "tz", None)
        if tz is not None:
            self.times = self.times.dt.tz_localize(None)
        return tz

    def refuse_or_drop_missing(self, drop: bool) -> None:
        """Refuse (or with ``drop``, leave out) rows with a missing id, datetime
        or value, and negative values."""
        id_col, time_col, value_col = self.names
        ids_dtype = self.ids.dtype
        # numpy integer ids cannot be missing: skip the scan.
        ids_missing = (
            np.zeros(len(self.ids), dtype=bool)
            if isinstance(ids_dtype, np.dtype) and ids_dtype.kind in "iu"
            else self.ids.isna().to_numpy()
        )
        checks: list[tuple[str, str | None, BoolArray]] = [
            (f"the customer id ({id_col}) is missing", id_col, ids_missing),
            (f"the datetime ({time_col}) is missing", time_col, self.times.isna().to_numpy()),
        ]
        if self.amounts is not None:
            checks.append(
                (
                    f"the value ({value_col}) must be a finite non-negative number",
                    value_col,
                    ~(np.isfinite(self.amounts) & (self.amounts >= 0)),
                )
            )
        bad = np.zeros(len(self.ids), dtype=bool)
        for rule, column, rows in checks:
            if not drop and rows.any():
                self.raise_for_row(int(np.argmax(rows)), rule, column)
            bad |= rows
        if bad.any():
            self.keep(~bad)
        if len(self.ids) == 0:
            raise ValueError(_NONE_LEFT)

    def keep(self, mask: BoolArray) -> None:
        """Keep the rows where ``mask`` holds."""
        if mask.all():
            return
        positions = np.flatnonzero(mask) if self.positions is None else self.positions[mask]
        self.positions = positions
        self.ids = self.ids[mask]
        self.times = self.times[mask]
        if self.amounts is not None:
            self.amounts = np.ascontiguousarray(self.amounts[mask])
        if len(self.ids) == 0:
            raise ValueError(_NONE_LEFT)

    def factorize(self) -> tuple[npt.NDArray[np.uint32] | IntArray, pd.Index]:
        """Dense codes of the ids, in sorted id order when ids sort.

        Integer ids (numpy dtypes that fit in int64) are factorised by the core,
        in parallel (``_core.factorize_int64``: a table over the id range, or a
        hash map for sparse ids); other ids (strings, objects, extension dtypes)
        by :func:`pandas.factorize`.
        """
        dtype = self.ids.dtype
        if isinstance(dtype, np.dtype) and (
            dtype.kind == "i" or (dtype.kind == "u" and dtype.itemsize < 8)
        ):
            values = np.ascontiguousarray(self.ids.to_numpy(), dtype=np.int64)
            codes, uniques = _core.factorize_int64(values)
            return codes, pd.Index(uniques.astype(dtype, copy=False))
        try:
            pandas_codes, pandas_uniques = pd.factorize(self.ids, sort=True)
        except TypeError:  # ids of mixed types: keep the order of appearance
            pandas_codes, pandas_uniques = pd.factorize(self.ids)
        return np.ascontiguousarray(pandas_codes, dtype=np.int64), pd.Index(pandas_uniques)

    def original_position(self, row: int) -> int:
        return row if self.positions is None else int(self.positions[row])

    def label(self, position: int) -> Any:
        """The caller's index label of a row, None for a default RangeIndex."""
        return index_label(self.index, position)

    def describe(self, row: int) -> str:
        """'first offending row: <position>' plus the index label if informative."""
        position = self.original_position(row)
        text = f"first offending row: {position}"
        label = self.label(position)
        if label is not None:
            text += f" [index label {plain(label)}]"
        return text

    def detail(self, row: int) -> str:
        """The caller's values of a row (``row`` counts the kept rows)."""
        id_col, time_col, value_col = self.names
        text = f"{id_col}={plain(self.ids.iloc[row])}, {time_col}={self.times.iloc[row]}"
        if self.amounts is not None:
            text += f", {value_col}={plain(self.amounts[row])}"
        return text

    def message(self, row: int, rule: str) -> str:
        return f"invalid data: {rule} ({self.describe(row)}; {self.detail(row)})"

    def raise_for_row(self, row: int, rule: str, column: str | None) -> None:
        position = self.original_position(row)
        raise invalid_data_error(
            self.message(row, rule),
            rule=rule,
            row=position,
            label=self.label(position),
            column=column,
        )

    @contextmanager
    def rows_named(self) -> Iterator[None]:
        """Translate a row named by the core (codes, ordinals) into the caller's
        row position, index label, column and values."""
        try:
            yield
        except InvalidDataError as exc:
            row = exc.row
            if row is not None and exc.rule is not None and row < len(self.ids):
                id_col, time_col, value_col = self.names
                columns = {"customers": id_col, "times": time_col, "amounts": value_col}
                exc.args = (self.message(row, exc.rule),)
                exc.row = self.original_position(row)
                exc.label = self.label(exc.row)
                exc.column = columns.get(exc.column or "", exc.column)
            raise


def _to_datetime(value: Any, datetime_format: str | None, what: str) -> Any:
    """``pd.to_datetime(value, format=datetime_format)``, with a message that points
    to this module's ``datetime_format`` argument (pandas' own advice names
    arguments of ``pd.to_datetime`` that these functions do not have)."""
    if (
        datetime_format is None
        and isinstance(value, pd.Series)
        and isinstance(value.dtype, (np.dtype, pd.DatetimeTZDtype))
        and value.dtype.kind == "M"
    ):
        return value  # already datetimes: nothing to parse
    try:
        return pd.to_datetime(value, format=datetime_format)
    except (ValueError, TypeError, OverflowError) as exc:
        reason = str(exc).split("You might want to try")[0].strip().rstrip(".,;")
        if datetime_format is None:
            hint = (
                'give datetime_format= (e.g. datetime_format="%d/%m/%Y") if the dates '
                "are not in ISO form (2024-01-31)"
            )
        else:
            hint = f"check datetime_format={plain(datetime_format)}"
        raise ValueError(f"could not read {what} as datetimes: {reason}; {hint}") from None


def _in_log_time(moment: Any, tz: Any, what: str) -> Any:
    """``moment`` as a naive wall-clock time of the log's timezone ``tz``
    (see ``_Log.to_wall_clock``).

    A moment with a timezone is converted to ``tz``, so that the same instant is
    compared, whatever timezone it was written in; a naive moment is read as a
    wall-clock time of the log's timezone. A moment with a timezone cannot be
    placed on a log without one.
    """
    if pd.isna(moment):
        return moment
    moment = pd.Timestamp(moment)
    if moment.tz is None:
        return moment
    if tz is None:
        raise ValueError(
            f"{what} ({moment}) has a timezone but the datetimes of the log have none: "
            "give both a timezone (the same instant is then compared whatever the "
            "timezones) or neither"
        )
    return moment.tz_convert(tz).tz_localize(None)


def _period_dtype(freq: str) -> pd.PeriodDtype:
    try:
        dtype = pd.PeriodDtype(freq)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"freq={plain(freq)} is not a pandas period frequency: {exc}") from None
    if dtype.freq.n != 1:
        raise ValueError(
            f"freq={plain(freq)} has a multiple; use the base frequency with freq_multiplier "
            "(as lifetimes, whose freq must be a numpy time unit)"
        )
    return dtype


# numpy datetime units that equal the pandas period of the same name.
_NUMPY_UNITS = {"period[D]": "D", "period[h]": "h", "period[H]": "h", "period[M]": "M"}


def _period_ordinals(times: pd.Series, freq: str) -> IntArray:
    """Pandas period ordinals of the datetimes (as ``times.dt.to_period(freq)``).

    Days, hours, months and weeks ending on Sunday of timezone-naive datetimes
    are computed with numpy's flooring casts (about 6x faster than
    ``to_period``; equal to it, which the tests check); the rest goes through
    ``to_period``.
    """
    dtype = _period_dtype(freq)
    values = times.to_numpy()
    if values.dtype.kind == "M":
        unit = _NUMPY_UNITS.get(str(dtype))
        if unit is not None:
            return np.ascontiguousarray(values.astype(f"datetime64[{unit}]").view(np.int64))
        if str(dtype) == "period[W-SUN]":
            days = values.astype("datetime64[D]").view(np.int64)
            # Pandas' W-SUN ordinal 1 is the week ending Sunday 1970-01-04.
            return (days + 3) // 7 + 1
    index = pd.DatetimeIndex(times).to_period(freq)
    return np.ascontiguousarray(index.asi8, dtype=np.int64)


def _period_ordinal(moment: Any, freq: str) -> int:
    if pd.isna(moment):
        raise ValueError("the observation or calibration end is missing (NaT)")
    return int(pd.Timestamp(moment).to_period(freq).ordinal)


def _with_time_unit(summary: pd.DataFrame, freq: str, freq_multiplier: float) -> pd.DataFrame:
    """Record the summary's time unit in ``attrs`` (see the Returns of
    :func:`summary_data_from_transaction_data`)."""
    unit = summary_time_unit(freq, freq_multiplier)
    if unit is not None:
        summary.attrs[TIME_UNIT_ATTR] = unit
    return summary


def _customer_index(ids: pd.Index, customer: npt.NDArray[Any], name: str) -> pd.Index:
    index = ids.take(customer.astype(np.intp, copy=False))
    index.name = name
    return index


# -- subscription logs (issue 15) ----------------------------------------------------------
#
# subscription_summary turns one row per subscription into the per-subscriber
# (periods, churned) of the subscriber-level contractual fits: time in billing periods
# of freq from each subscription's own start (anniversaries); an ended subscription
# paid for ceil((end - start) / period) periods, an active one reached the whole
# periods from its start to observation_end.

#: freq -> (months per period, or None for a fixed length; the fixed length; the
#: pandas period alias of the cohort column).
_SUBSCRIPTION_FREQS: dict[str, tuple[int | None, pd.Timedelta | None, str]] = {
    "D": (None, pd.Timedelta(days=1), "D"),
    "W": (None, pd.Timedelta(weeks=1), "W"),
    "M": (1, None, "M"),
    "ME": (1, None, "M"),
    "MS": (1, None, "M"),
    "Q": (3, None, "Q"),
    "QE": (3, None, "Q"),
    "QS": (3, None, "Q"),
    "Y": (12, None, "Y"),
    "YE": (12, None, "Y"),
    "YS": (12, None, "Y"),
    "A": (12, None, "Y"),
}

_ONE_DAY = np.timedelta64(1, "D")


def _anniversaries(
    start: npt.NDArray[np.datetime64], moment: npt.NDArray[np.datetime64], freq: str
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """The number of whole periods from ``start`` to ``moment`` (anniversaries at or
    before it; ``moment >= start``) and whether ``moment`` is exactly one."""
    months, length, _ = _SUBSCRIPTION_FREQS[freq]
    if months is None:
        assert length is not None
        step = np.timedelta64(length.value, "ns")
        elapsed = (moment - start).astype("timedelta64[ns]")
        whole = (elapsed // step).astype(np.int64)
        exact = (elapsed % step) == np.timedelta64(0, "ns")
        return whole, exact
    start_month = start.astype("datetime64[M]")
    moment_month = moment.astype("datetime64[M]")
    month_gap = (moment_month - start_month).astype(np.int64)
    whole = month_gap // months
    # The anniversary in the moment's month (when the gap is a whole number of
    # periods): the start's day of the month, clipped to the month's last day, and
    # the start's time of day.
    start_day = start.astype("datetime64[D]")
    day_of_month = (start_day - start_month.astype("datetime64[D]")).astype(np.int64)
    time_of_day = start - start_day.astype(start.dtype)
    month_start = moment_month.astype("datetime64[D]")
    month_length = ((moment_month + 1).astype("datetime64[D]") - month_start).astype(np.int64)
    clipped = np.minimum(day_of_month, month_length - 1)
    anniversary = (month_start + clipped * _ONE_DAY).astype(start.dtype) + time_of_day
    on_boundary = month_gap % months == 0
    before = on_boundary & (moment < anniversary)
    whole = whole - before.astype(np.int64)
    exact = on_boundary & (moment == anniversary)
    return whole.astype(np.int64), exact


def _subscription_datetimes(values: Any, what: str, datetime_format: str | None) -> pd.Series:
    try:
        out = pd.to_datetime(values, format=datetime_format)
    except (ValueError, TypeError, OverflowError) as exc:
        reason = str(exc).split("You might want to try")[0].strip().rstrip(".,;")
        raise ValueError(
            f"could not read {what} as datetimes: {reason}; give datetime_format= if the "
            "dates are not in ISO form (2024-01-31)"
        ) from None
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)
    return out


def subscription_summary(
    log: pd.DataFrame,
    customer_id_col: str,
    start_col: str,
    end_col: str,
    observation_end: Any,
    freq: str = "M",
    *,
    invalid: Literal["raise", "drop"] = "raise",
    overlapping: Literal["raise", "merge"] = "raise",
    datetime_format: str | None = None,
) -> pd.DataFrame:
    r"""Summarise a subscription log into per-subscriber ``periods`` and ``churned``.

    Each row of ``log`` is one subscription: a customer, its start and its end (empty
    -- NaN, NaT, None -- for a subscription still active). Time is counted in
    periods of ``freq`` from the subscription's own start, renewing on its
    anniversaries (15 January, 15 February, ...; a start on the 31st renews on the
    last day of shorter months).

    * A subscription whose end is observed (``end <= observation_end``) has
      ``churned = True`` and ``periods`` the number of periods paid for,
      :math:`\lceil (\text{end} - \text{start}) / \text{period} \rceil \ge 1`: one that
      ends at (or before) its first renewal has ``periods = 1`` and contributes
      :math:`P(T = 1)` to the likelihood.
    * One still active at ``observation_end`` (no end, or an end after it) has
      ``churned = False`` and ``periods`` the renewal opportunities it has reached
      (and renewed at), the whole periods from its start to ``observation_end``: one
      that renewed at 7 of them contributes :math:`S(7)`. A subscriber younger than
      one period has ``periods = 0`` and adds nothing to the likelihood.

    The result goes straight to the subscriber-level fit::

        summary = subscription_summary(log, "customer", "start", "end", "2024-12-31")
        ShiftedBetaGeometricFitter().fit(summary["periods"], summary["churned"])

    Parameters
    ----------
    log : pandas.DataFrame
        One row per subscription.
    customer_id_col, start_col, end_col : str
        The columns of the customer id, the start and the end (empty: active).
    observation_end : datetime-like
        The end of observation; ends after it are not yet observed.
    freq : str, default "M"
        The billing period: "D" (days), "W" (weeks), "M" (months), "Q" (quarters) or
        "Y" (years); "ME", "QE", "YE", "MS", "QS", "YS" and "A" are read as the same.
    invalid : {"raise", "drop"}, default "raise"
        What to do with a subscription that cannot be placed: one that ends the day
        it starts, ends before it starts, starts after ``observation_end``, or lacks
        a customer id or a start. ``"raise"``: an
        :class:`~retentionkit.InvalidDataError` naming the rule and the first
        offending row; ``"drop"``: leave such rows out (their number is in
        ``attrs["dropped_subscriptions"]``).
    overlapping : {"raise", "merge"}, default "raise"
        Two subscriptions of one customer that overlap (the later starts before the
        earlier ends, or while it is still active): ``"raise"`` names the later
        one's row; ``"merge"`` joins overlapping (and back-to-back) subscriptions
        of a customer into one, from the first start to the last end (active if
        any of them is).
    datetime_format : str, optional
        The format of the start and end columns, if they are not in ISO form.

    Returns
    -------
    pandas.DataFrame
        Columns ``periods`` (int), ``churned`` (bool), ``cohort`` (the start's
        period of ``freq``, a pandas ``Period``), ``start`` and ``end`` (NaT when
        active). Indexed by the customer id, one row per customer when no customer
        has more than one subscription; otherwise by (customer id,
        ``subscription``: 1, 2, ... by start), a customer who returned after
        cancelling being a new subscriber.

    Raises
    ------
    retentionkit.InvalidDataError
        Under ``invalid="raise"`` or ``overlapping="raise"``, naming the rule, the
        first offending row (its position and index label) and its values; a
        ``ValueError``.
    ValueError
        For a missing column, an unknown ``freq``, an empty log or unreadable dates.

    Examples
    --------
    >>> import pandas as pd
    >>> from retentionkit.utils import subscription_summary
    >>> log = pd.DataFrame({
    ...     "customer": [1, 2, 3],
    ...     "start": ["2024-01-15", "2024-01-15", "2024-03-01"],
    ...     "end": ["2024-02-15", None, "2024-05-10"],
    ... })
    >>> summary = subscription_summary(log, "customer", "start", "end", "2024-08-31")
    >>> summary[["periods", "churned"]].to_dict("list")
    {'periods': [1, 7, 3], 'churned': [True, False, True]}
    """
    if not isinstance(log, pd.DataFrame):
        raise TypeError(f"log must be a pandas DataFrame, got {type(log).__name__}")
    for argument, column in (
        ("customer_id_col", customer_id_col),
        ("start_col", start_col),
        ("end_col", end_col),
    ):
        if column not in log.columns:
            present = ", ".join(plain(c) for c in log.columns)
            raise ValueError(
                f"{argument}={plain(column)} is not a column of the log; its columns are {present}"
            )
    if invalid not in ("raise", "drop"):
        raise ValueError(f'invalid must be "raise" or "drop", got {plain(invalid)}')
    if overlapping not in ("raise", "merge"):
        raise ValueError(f'overlapping must be "raise" or "merge", got {plain(overlapping)}')
    key = str(freq).upper() if str(freq).upper() in _SUBSCRIPTION_FREQS else str(freq)
    if key not in _SUBSCRIPTION_FREQS:
        raise ValueError(
            f"freq={plain(freq)} is not a billing period this function knows: give "
            '"D", "W", "M", "Q" or "Y"'
        )
    if len(log) == 0:
        raise ValueError("the subscription log is empty")
    starts = _subscription_datetimes(
        log[start_col], f"the column {plain(start_col)}", datetime_format
    )
    ends = _subscription_datetimes(log[end_col], f"the column {plain(end_col)}", datetime_format)
    try:
        end_of_observation = pd.Timestamp(observation_end)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"could not read observation_end as a datetime: {exc}") from None
    if pd.isna(end_of_observation):
        raise ValueError("observation_end is missing (NaT)")
    if end_of_observation.tz is not None:
        end_of_observation = end_of_observation.tz_localize(None)
    ids = log[customer_id_col]
    index = log.index
    start = starts.to_numpy(dtype="datetime64[ns]")
    end = ends.to_numpy(dtype="datetime64[ns]")
    observed_end = end_of_observation.to_datetime64().astype("datetime64[ns]")
    has_end = ~np.isnat(end)

    def when(moment: Any) -> str:
        if pd.isna(moment):
            return "(missing)"
        moment = pd.Timestamp(moment)
        return str(moment.date()) if moment == moment.normalize() else str(moment)

    def values(row: int) -> str:
        end_text = "(active)" if not has_end[row] else when(ends.iloc[row])
        return (
            f"{customer_id_col}={plain(ids.iloc[row])}, {start_col}={when(starts.iloc[row])}, "
            f"{end_col}={end_text}"
        )

    def fail(row: int, rule: str, column: str | None, advice: str) -> None:
        label = index_label(index, row)
        where = f"first offending row: {row}"
        if label is not None:
            where += f" [index label {plain(label)}]"
        raise invalid_data_error(
            f"invalid data: {rule} ({where}; {values(row)}); {advice}",
            rule=rule,
            row=row,
            label=label,
            column=column,
        )

    drop_advice = 'pass invalid="drop" to leave such subscriptions out'
    checks: list[tuple[str, str | None, npt.NDArray[np.bool_]]] = [
        (f"the customer id ({customer_id_col}) is missing", customer_id_col, ids.isna().to_numpy()),
        (f"the start ({start_col}) is missing", start_col, np.isnat(start)),
        (
            "the subscription starts after observation_end",
            start_col,
            ~np.isnat(start) & (start > observed_end),
        ),
        (
            "the subscription ends before it starts",
            end_col,
            has_end & ~np.isnat(start) & (end < start),
        ),
        (
            "the subscription ends the day it starts",
            end_col,
            has_end
            & ~np.isnat(start)
            & (end >= start)
            & (end.astype("datetime64[D]") == start.astype("datetime64[D]")),
        ),
    ]
    bad = np.zeros(len(log), dtype=bool)
    for rule, column_name, rows in checks:
        if invalid == "raise" and rows.any():
            fail(int(np.argmax(rows)), rule, column_name, drop_advice)
        bad |= rows
    keep = np.flatnonzero(~bad)
    if keep.size == 0:
        raise ValueError("no subscription is left once the invalid ones are dropped")

    frame = pd.DataFrame(
        {
            "customer": ids.to_numpy()[keep],
            "start": start[keep],
            # An active subscription ends at +infinity for the overlap checks.
            "end": np.where(has_end[keep], end[keep], np.datetime64("NaT", "ns")),
            "row": keep,
        }
    )
    frame = frame.sort_values(["customer", "start", "row"], kind="stable").reset_index(drop=True)
    far = pd.Timestamp.max.to_datetime64().astype("datetime64[ns]")
    span_end = np.where(np.isnat(frame["end"].to_numpy()), far, frame["end"].to_numpy())
    customer = frame["customer"].to_numpy()
    same = np.zeros(len(frame), dtype=bool)
    same[1:] = customer[1:] == customer[:-1]
    # The latest end of the customer's earlier subscriptions.
    latest = pd.Series(span_end).groupby(pd.Series(customer).to_numpy()).cummax().to_numpy()
    previous_end = np.empty_like(latest)
    previous_end[1:] = latest[:-1]
    frame_start = frame["start"].to_numpy()
    if overlapping == "raise":
        clash = same.copy()
        clash[1:] &= frame_start[1:] < previous_end[1:]
        if clash.any():
            at = int(np.argmax(clash))
            fail(
                int(frame["row"].iloc[at]),
                "two subscriptions of one customer overlap (this one starts before the "
                "customer's previous one ends)",
                start_col,
                'pass overlapping="merge" to join them into one subscription',
            )
        spells = frame
    else:
        joins = same.copy()
        joins[1:] &= frame_start[1:] <= previous_end[1:]
        spell = np.cumsum(~joins) - 1
        grouped = pd.DataFrame(
            {
                "customer": customer,
                "start": frame_start,
                "span_end": span_end,
                "row": frame["row"].to_numpy(),
                "spell": spell,
            }
        ).groupby("spell", sort=True)
        merged_end = grouped["span_end"].max().to_numpy()
        spells = pd.DataFrame(
            {
                "customer": grouped["customer"].first().to_numpy(),
                "start": grouped["start"].min().to_numpy(),
                "end": np.where(merged_end == far, np.datetime64("NaT", "ns"), merged_end),
                "row": grouped["row"].min().to_numpy(),
            }
        )
    s = spells["start"].to_numpy(dtype="datetime64[ns]")
    e = spells["end"].to_numpy(dtype="datetime64[ns]")
    ended = ~np.isnat(e) & (e <= observed_end)
    moment = np.where(ended, e, observed_end)
    whole, exact = _anniversaries(s, moment, key)
    periods = np.where(ended, whole + (~exact).astype(np.int64), whole)
    cohort = pd.PeriodIndex(pd.DatetimeIndex(s), freq=_SUBSCRIPTION_FREQS[key][2])
    customer_ids = spells["customer"].to_numpy()
    counts = pd.Series(customer_ids).groupby(customer_ids).cumcount().to_numpy() + 1
    if (counts > 1).any():
        out_index: pd.Index = pd.MultiIndex.from_arrays(
            [customer_ids, counts], names=[customer_id_col, "subscription"]
        )
    else:
        out_index = pd.Index(customer_ids, name=customer_id_col)
    out = pd.DataFrame(
        {
            "periods": periods.astype(np.int64),
            "churned": ended,
            "cohort": cohort,
            "start": s,
            "end": np.where(ended, e, np.datetime64("NaT", "ns")),
        },
        index=out_index,
    )
    if invalid == "drop":
        out.attrs["dropped_subscriptions"] = int(bad.sum())
    return out


# polars/pyarrow arguments in, results in their library (see retentionkit._frames).
from ._frames import accept_frames_in_module  # noqa: E402

accept_frames_in_module(globals(), __all__, skip=("summary_data_from_transaction_data",))
