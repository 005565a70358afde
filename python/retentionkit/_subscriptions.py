r"""From a subscription log to per-subscriber renewal histories (issue 15).

:func:`subscription_summary` turns one row per subscription (customer, start, end;
an empty end is a subscription still active) into what the contractual models fit
at the subscriber level: ``periods`` and ``churned``, with the cohort (the start
period).

Time is counted in billing periods of ``freq`` from each subscription's own start
(anniversaries: a monthly subscription that starts on 15 January renews on 15
February, 15 March, ...; one that starts on 31 January renews on the last day of
the shorter months). With :math:`a(t)` the number of anniversaries from the start up
to and including :math:`t`:

* a subscription that ended at :math:`e` (at or before ``observation_end``) paid for
  ``periods`` :math:`= \lceil (e - s) / \text{period} \rceil` periods: it ended at or
  before its ``periods``-th renewal opportunity, having renewed at the previous
  ones, and contributes :math:`P(T = \text{periods})`;
* one still active at ``observation_end`` (no end, or an end after it) has reached
  ``periods`` :math:`= a(\text{observation\_end})` renewal opportunities and renewed
  at each, and contributes :math:`S(\text{periods})` (0 for a subscriber younger
  than one period, who adds nothing to the likelihood).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._validation import index_label, invalid_data_error, plain

__all__ = ["subscription_summary"]

#: freq -> (months per period, or None for a fixed length; the fixed length; the
#: pandas period alias of the cohort column).
_FREQS: dict[str, tuple[int | None, pd.Timedelta | None, str]] = {
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
    months, length, _ = _FREQS[freq]
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


def _datetimes(values: Any, what: str, datetime_format: str | None) -> pd.Series:
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
    key = str(freq).upper() if str(freq).upper() in _FREQS else str(freq)
    if key not in _FREQS:
        raise ValueError(
            f"freq={plain(freq)} is not a billing period this function knows: give "
            '"D", "W", "M", "Q" or "Y"'
        )
    if len(log) == 0:
        raise ValueError("the subscription log is empty")
    starts = _datetimes(log[start_col], f"the column {plain(start_col)}", datetime_format)
    ends = _datetimes(log[end_col], f"the column {plain(end_col)}", datetime_format)
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
    observed_end = np.datetime64(end_of_observation.to_datetime64(), "ns")
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
    for rule, column, rows in checks:
        if invalid == "raise" and rows.any():
            fail(int(np.argmax(rows)), rule, column, drop_advice)
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
    far = np.datetime64(pd.Timestamp.max.to_datetime64(), "ns")
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
    cohort = pd.PeriodIndex(pd.DatetimeIndex(s), freq=_FREQS[key][2])
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
