"""Pareto/NBD with time-varying covariates (Bachmann, Meierer & Näf 2021).

The fitter takes the transaction log and a covariate table with one row per
customer and period; see :class:`TimeVaryingParetoNBDFitter`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from .. import _core
from .._validation import index_label, invalid_data_error, plain
from .base import BaseFitter, ParamsLike, _seed

__all__ = ["TimeVaryingParetoNBDFitter"]

#: The time units the fitter takes (periods of fixed length), and how finely
#: purchases at the same moment are merged into one transaction.
_UNITS = {
    "W": (pd.Timedelta(days=7), "D"),
    "D": (pd.Timedelta(days=1), "D"),
    "H": (pd.Timedelta(hours=1), "h"),
}

#: Nanoseconds per tick of each datetime64 resolution the covariate dates may have.
_TICKS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}

#: Calendar periods of unequal length, refused with the reason (see ``build_panel``).
_CALENDAR = {
    "M": "months (28 to 31 days)",
    "Q": "quarters (90 to 92 days)",
    "Y": "years (365 or 366 days)",
    "A": "years (365 or 366 days)",
}


@dataclass
class _Panel:
    """The fit's customers, in order of their ids, and their native panel."""

    index: pd.Index
    frequency: np.ndarray
    recency: np.ndarray
    T: np.ndarray
    purchase_sums: np.ndarray
    first_period_start: np.ndarray
    period_counts: np.ndarray
    columns: list[str]
    by_process: list[list[int]]
    #: End of each customer's last covariate period.
    periods_end: pd.Series
    calibration_period_end: pd.Timestamp
    unit: pd.Timedelta
    #: The ``_core.TimeVaryingPanel``: the only copy of the covariate rows.
    native: Any

    @property
    def covariates(self) -> np.ndarray:
        """The covariate rows the panel keeps (periods x columns), a copy."""
        return cast(np.ndarray, self.native.covariates)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["native"] = None
        state["covariates"] = self.covariates
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        covariates = state.pop("covariates")
        self.__dict__.update(state)
        self.native = _core.TimeVaryingPanel(
            self.frequency,
            self.recency,
            self.T,
            self.purchase_sums,
            self.first_period_start,
            self.period_counts,
            covariates,
            self.columns,
            self.by_process,
            [],
        )


def _names(cols: str | Sequence[str] | None) -> list[str]:
    if cols is None:
        return []
    return [cols] if isinstance(cols, str) else list(cols)


def _dates(frame: pd.DataFrame, column: str, table: str) -> pd.Series:
    """``frame[column]`` as datetimes, refusing values that are not dates."""
    try:
        dates = pd.to_datetime(frame[column])
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{table}[{column!r}] must hold dates: {exc}") from None
    bad = np.flatnonzero(dates.isna().to_numpy())
    if len(bad):
        raise _missing_date(frame, column, table, int(bad[0]))
    return dates


def _missing_date(frame: pd.DataFrame, column: str, table: str, row: int) -> Exception:
    """The error for a missing date, naming the row as the core names rows."""
    label = index_label(frame.index, row)
    where = f"first offending row: {row}"
    if label is not None:
        where += f" [index label {plain(label)}]"
    rule = "dates must be given"
    return invalid_data_error(
        f"invalid data: {rule} ({where}; {table}[{column!r}] is empty there)",
        rule=rule,
        row=row,
        label=label,
        column=column,
    )


def _when(t: pd.Timestamp) -> str:
    """A date as a person writes it (no time of day at midnight)."""
    return str(t.date()) if t == t.normalize() else str(t)


def _customer_error(customer: Any, message: str, rule: str, column: str | None = None) -> Exception:
    sep = " " if message.startswith("has ") else ": "
    return invalid_data_error(
        f"customer {customer}{sep}{message}", rule=rule, label=customer, column=column
    )


def build_panel(
    transactions: pd.DataFrame,
    covariates: pd.DataFrame,
    customer_id_col: str,
    datetime_col: str,
    covariate_datetime_col: str,
    purchase_covariate_cols: str | Sequence[str] | None,
    dropout_covariate_cols: str | Sequence[str] | None,
    calibration_period_end: Any,
    freq: str = "W",
    resolution: str | None = None,
) -> _Panel:
    """Check the two tables and turn them into the native panel's arrays."""
    if freq not in _UNITS:
        if isinstance(freq, str) and freq.upper().rstrip("SE") in _CALENDAR:
            raise ValueError(
                f"freq={freq!r} is not supported: each covariate row starts a period of "
                f"exactly one time unit (CLVTools' convention), and calendar "
                f"{_CALENDAR[freq.upper().rstrip('SE')]} vary in length, so no fixed unit "
                "(not even their mean length) makes consecutive rows one unit apart. Give "
                "one row per customer and day with freq='D' (each day carrying its "
                "period's values): the fit is then exact, with rates per day"
            )
        raise ValueError(
            f"freq must be one of {sorted(_UNITS)} (a fixed period length), got {freq!r}"
        )
    unit, same_moment = _UNITS[freq]
    if resolution is not None:
        try:
            finest = pd.Timedelta(cast(Any, pd.tseries.frequencies.to_offset(resolution)))
        except (ValueError, TypeError):
            finest = None
        if finest is None or not pd.Timedelta(0) < finest <= unit:
            raise ValueError(
                f"resolution must be a fixed length of time up to one period ({freq}), such "
                f"as 'D', 'h', 's' or 'ns', got {resolution!r}"
            )
        same_moment = resolution
    purchase, dropout = _names(purchase_covariate_cols), _names(dropout_covariate_cols)
    columns = list(dict.fromkeys(purchase + dropout))
    if not columns:
        raise ValueError(
            "give at least one covariate (purchase_covariate_cols or dropout_covariate_cols)"
        )
    for table, frame, needed in (
        ("transactions", transactions, [customer_id_col, datetime_col]),
        ("covariates", covariates, [customer_id_col, covariate_datetime_col, *columns]),
    ):
        if not isinstance(frame, pd.DataFrame):
            raise ValueError(f"{table} must be a pandas DataFrame")
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise ValueError(f"{table} lacks the column(s) {missing}")
    end = pd.Timestamp(calibration_period_end)

    # -- the transactions: one per customer and moment, up to the end ---------------
    moments = _dates(transactions, datetime_col, "transactions").dt.floor(same_moment)
    log = pd.DataFrame(
        {"customer": transactions[customer_id_col].to_numpy(), "t": moments.to_numpy()}
    )
    log = log.drop_duplicates()
    birth = log.groupby("customer")["t"].min()
    birth = birth[birth <= end]
    if birth.empty:
        raise ValueError(
            f"no customer made a first purchase by calibration_period_end={_when(end)}"
        )
    log = log[log["customer"].isin(birth.index) & (log["t"] <= end)]
    grouped = log.groupby("customer")["t"]
    index = birth.index
    frequency: np.ndarray = (grouped.count() - 1).reindex(index).to_numpy(dtype=np.float64)
    u = unit.to_timedelta64()
    births = birth.to_numpy()
    recency = (grouped.max().reindex(index).to_numpy() - births) / u
    age = (end - birth).to_numpy(dtype="timedelta64[ns]") / u

    # -- the covariates: one row per customer and period ------------------------------
    # The table is the largest input (customers x periods rows): it is read through
    # integer codes and views of its own columns, sorted only when it is not already in
    # (customer, date) order, and copied once, by the native panel, into the rows it
    # keeps. No intermediate frame or matrix of it is built.
    n = len(index)
    values = _covariate_columns(covariates, columns)
    dates = _date_values(covariates, covariate_datetime_col, "covariates")
    res = np.datetime_data(dates.dtype)[0]
    step = unit.value // _TICKS[res]
    stamp = np.dtype(f"datetime64[{res}]")
    birth_t = births.astype(stamp).view(np.int64)
    ns = dates.view(np.int64)
    del dates
    codes = index.get_indexer(pd.Index(covariates[customer_id_col], copy=False))
    mine = codes >= 0
    rows: np.ndarray | None = None
    if not mine.all():
        rows = np.flatnonzero(mine)
        codes, ns = codes[rows], ns[rows]
    del mine
    if not _in_order(codes, ns):
        order = np.lexsort((ns, codes))
        codes, ns = codes[order], ns[order]
        rows = order if rows is None else rows[order]
        del order
    wrong = _first_bad_step(codes, ns, step)
    if wrong >= 0:
        row = wrong
        previous, now = _stamp(ns[row - 1], res), _stamp(ns[row], res)
        who = index[codes[row]]
        if now == previous:
            raise _customer_error(
                who,
                f"the period starting {_when(now)} is given twice in covariates",
                rule="one covariate row per customer and period",
            )
        gap = now - previous
        if gap % unit == pd.Timedelta(0):
            raise _customer_error(
                who,
                f"the covariate period starting {_when(previous + unit)} is missing "
                f"(rows jump from {_when(previous)} to {_when(now)})",
                rule="covariate periods must follow one another",
            )
        raise _customer_error(
            who,
            f"covariate dates {_when(previous)} and {_when(now)} are not one period "
            f"({freq}) apart: periods must be evenly spaced",
            rule="covariate periods must be evenly spaced",
        )
    first_row = np.searchsorted(codes, np.arange(n))
    counts = np.diff(np.append(first_row, len(codes)))
    without = np.flatnonzero(counts == 0)
    if len(without):
        raise _customer_error(
            index[without[0]],
            "has no rows in covariates (every customer needs one row per period from the "
            "period of the first purchase on)",
            rule="every customer needs covariate rows",
        )
    starts_t = ns[first_row]
    last_t = ns[first_row + counts - 1]
    late = np.flatnonzero(starts_t > birth_t)
    if len(late):
        i = int(late[0])
        gap = -((birth_t[i] - starts_t[i]) // step)
        raise _customer_error(
            index[i],
            f"no covariate period holds the first purchase on {_when(birth.iloc[i])}: the "
            f"period starting {_when(_stamp(starts_t[i], res) - int(gap) * unit)} is missing",
            rule="covariate periods must start with the period of the first purchase",
        )
    periods_end = pd.Series(
        (last_t + step).view(stamp), index=pd.Index(index, name=customer_id_col)
    )
    short = np.flatnonzero((periods_end < end).to_numpy())
    if len(short):
        i = int(short[0])
        raise _customer_error(
            index[i],
            f"the covariate period starting {_when(periods_end.iloc[i])} is missing (the "
            f"calibration period ends {_when(end)})",
            rule="covariate periods must reach the end of the calibration period",
        )
    # Periods before the one of the first purchase play no part: drop them.
    skip = (birth_t - starts_t) // step
    if skip.any():
        edges = np.zeros(len(codes) + 1, dtype=np.int32)
        np.add.at(edges, first_row, 1)
        np.add.at(edges, first_row + skip, -1)
        kept = np.flatnonzero(np.cumsum(edges[:-1], dtype=np.int32) == 0)
        del edges
        rows = kept if rows is None else rows[kept]
        del kept
    first_t = starts_t + skip * step
    first_period_start = ((first_t - birth_t) / step).astype(np.float64)
    counts = counts - skip
    offsets = np.concatenate([[0], np.cumsum(counts)])
    del codes, ns
    _check_finite(values, rows, offsets, first_t, step, res, index, columns)

    # -- the covariates of the periods of the repeat purchases -----------------------
    position = pd.Series(np.arange(n), index=index)
    repeat = log[log["t"] > log["customer"].map(birth)]
    who = position.reindex(repeat["customer"]).to_numpy()
    moment = repeat["t"].to_numpy().astype(stamp).view(np.int64)
    # A purchase at the very end of the last period counts in that period.
    period = np.minimum((moment - first_t[who]) // step, counts[who] - 1)
    at = offsets[who] + period
    if rows is not None:
        at = rows[at]
    sums = np.empty((n, len(columns)))
    for j, column in enumerate(values):
        sums[:, j] = np.bincount(who, weights=column[at], minlength=n)

    by_process = [[columns.index(c) for c in purchase], [columns.index(c) for c in dropout]]
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    native = _core.TimeVaryingPanel.from_columns(
        frequency,
        recency,
        age,
        sums,
        first_period_start,
        counts,
        values,
        None if rows is None else np.ascontiguousarray(rows, dtype=np.int64),
        columns,
        by_process,
        [],
    )
    return _Panel(
        index=pd.Index(index, name=customer_id_col),
        frequency=frequency,
        recency=recency,
        T=age,
        purchase_sums=sums,
        first_period_start=first_period_start,
        period_counts=counts,
        columns=columns,
        by_process=by_process,
        periods_end=periods_end,
        calibration_period_end=end,
        unit=unit,
        native=native,
    )


#: Rows per slice when comparing neighbouring rows of the covariate table, so that the
#: comparisons' temporaries stay small beside the table.
_CHUNK = 1 << 16


def _in_order(codes: np.ndarray, ns: np.ndarray) -> bool:
    """Whether the rows are sorted by customer code, then date."""
    for lo in range(1, len(codes), _CHUNK):
        hi = min(lo + _CHUNK, len(codes))
        now, before = codes[lo:hi], codes[lo - 1 : hi - 1]
        later = ns[lo:hi] >= ns[lo - 1 : hi - 1]
        if not np.all((now > before) | ((now == before) & later)):
            return False
    return True


def _first_bad_step(codes: np.ndarray, ns: np.ndarray, step: int) -> int:
    """The first row (sorted by customer, then date) whose date is not one ``step``
    after the previous row of the same customer, or -1."""
    for lo in range(1, len(codes), _CHUNK):
        hi = min(lo + _CHUNK, len(codes))
        same = codes[lo:hi] == codes[lo - 1 : hi - 1]
        bad = np.flatnonzero(same & (ns[lo:hi] - ns[lo - 1 : hi - 1] != step))
        if len(bad):
            return lo + int(bad[0])
    return -1


def _stamp(value: Any, res: str) -> pd.Timestamp:
    """An integer date in units of ``res`` as a Timestamp."""
    return pd.Timestamp(int(value) * _TICKS[res])


def _covariate_columns(covariates: pd.DataFrame, columns: list[str]) -> list[np.ndarray]:
    """The covariate columns as contiguous float64 arrays: views of the table's own
    columns when they are float64 already, converted copies otherwise."""
    values = []
    for c in columns:
        column = covariates[c]
        if column.dtype == np.float64:
            array = column.to_numpy()
        else:
            try:
                array = pd.to_numeric(column).to_numpy(dtype=np.float64, na_value=np.nan)
            except (ValueError, TypeError):
                raise ValueError(f"covariates[{c!r}] must be numeric") from None
        values.append(np.ascontiguousarray(array, dtype=np.float64))
    return values


def _date_values(frame: pd.DataFrame, column: str, table: str) -> np.ndarray:
    """``frame[column]`` as a datetime64 array: a view of the column when it holds
    dates already (any resolution), refusing missing dates and values that are not."""
    series = frame[column]
    if not (isinstance(series.dtype, np.dtype) and series.dtype.kind == "M"):
        series = _dates(frame, column, table)
    values = series.to_numpy()
    if values.dtype.kind != "M":
        raise ValueError(f"{table}[{column!r}] must hold dates without a time zone")
    if np.datetime_data(values.dtype)[0] not in ("s", "ms", "us", "ns"):
        values = values.astype("datetime64[s]")
    missing = np.flatnonzero(np.isnat(values))
    if len(missing):
        raise _missing_date(frame, column, table, int(missing[0]))
    return values


def _check_finite(
    values: list[np.ndarray],
    rows: np.ndarray | None,
    offsets: np.ndarray,
    first_t: np.ndarray,
    u: int,
    res: str,
    index: pd.Index,
    columns: list[str],
) -> None:
    """Refuse a non-finite covariate in a period the panel keeps, naming the first
    (in customer and date order) with its customer, column and period."""
    first: tuple[int, int] | None = None
    for j, column in enumerate(values):
        if np.isfinite(column).all():
            continue
        kept = column if rows is None else column[rows]
        bad = np.flatnonzero(~np.isfinite(kept))
        if len(bad) and (first is None or int(bad[0]) < first[0]):
            first = (int(bad[0]), j)
    if first is None:
        return
    at, j = first
    i = int(np.searchsorted(offsets, at, side="right")) - 1
    start = _stamp(first_t[i] + (at - offsets[i]) * u, res)
    value = values[j][at if rows is None else rows[at]]
    raise _customer_error(
        index[i],
        f"covariate {columns[j]!r} is {value} in the period starting {_when(start)} "
        "(covariates must be finite numbers)",
        rule="covariates must be finite numbers",
        column=columns[j],
    )


class TimeVaryingParetoNBDFitter(BaseFitter):
    r"""Pareto/NBD with covariates that change from period to period.

    While alive, customer *i* buys as a Poisson process with intensity
    :math:`\lambda_i e^{\gamma_p^\top z_i(t)}` and drops out at rate
    :math:`\mu_i e^{\gamma_d^\top z_i(t)}`, with :math:`\lambda_i \sim
    \mathrm{Gamma}(r, \alpha)` and :math:`\mu_i \sim \mathrm{Gamma}(s, \beta)`
    and covariates :math:`z_i(t)` constant within each period (one time unit)
    (Bachmann, Meierer & Näf 2021, Marketing Science 40(4)). With
    :math:`A(t) = \int_0^t e^{\gamma_p^\top z(u)} du` and :math:`B(t)` likewise,
    the likelihood of *x* repeat purchases at :math:`t_1, \dots, t_x` is

    .. math::

        L = \frac{\Gamma(r+x)\alpha^r\beta^s}{\Gamma(r)}
        e^{\gamma_p^\top \sum_j z(t_j)} \Big[(\alpha+A(T))^{-(r+x)}(\beta+B(T))^{-s}
        + s\int_{t_x}^T e^{\gamma_d^\top z(\tau)}(\alpha+A(\tau))^{-(r+x)}
        (\beta+B(\tau))^{-(s+1)} d\tau\Big],

    integrated in closed form period by period. With coefficients 0 it is the
    Pareto/NBD; with covariates constant over time, the Pareto/NBD with
    time-invariant covariates (``ParetoNBDFitter().fit(...,
    purchase_covariates=...)``), whose parameterisation it shares: a positive
    ``purchase:<col>`` raises the purchase rate, a positive ``dropout:<col>``
    the drop-out rate.

    Parameters: ``r``, ``alpha``, ``s``, ``beta``, then ``purchase:<col>`` and
    ``dropout:<col>`` (each process's columns in order of their names).
    """

    _core_class = _core.TimeVaryingParetoNBDModel
    _columns = ("frequency", "recency", "T")

    def __init__(self) -> None:
        super().__init__(0.0)
        self._panel: _Panel | None = None

    # -- fit ------------------------------------------------------------------

    def fit(
        self,
        transactions: pd.DataFrame,
        covariates: pd.DataFrame,
        customer_id_col: str,
        datetime_col: str,
        covariate_datetime_col: str,
        purchase_covariate_cols: str | Sequence[str] | None,
        dropout_covariate_cols: str | Sequence[str] | None,
        calibration_period_end: Any,
        freq: str = "W",
        *,
        resolution: str | None = None,
        initial_params: Any = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
    ) -> TimeVaryingParetoNBDFitter:
        """Fit on a transaction log and a covariate table.

        Parameters
        ----------
        transactions : pandas.DataFrame
            One row per transaction: ``customer_id_col`` and ``datetime_col``.
            Transactions on the same day (the same hour for ``freq="H"``; see
            ``resolution``) are one; those after ``calibration_period_end`` are left
            out.
        covariates : pandas.DataFrame
            One row per customer and period: ``customer_id_col``,
            ``covariate_datetime_col`` (the period's start; a period lasts one
            ``freq``) and the covariate columns, from the period holding the
            customer's first purchase (earlier rows are ignored) through the end
            of the prediction horizon, without gaps or duplicates.
        purchase_covariate_cols, dropout_covariate_cols : str or list of str
            The covariates of the purchase and the drop-out process.
        calibration_period_end : date
            The end of the calibration period (T is measured to it).
        freq : {"W", "D", "H"}
            The time unit: a week, day or hour. Calendar months (quarters, years)
            are refused: their lengths vary (28 to 31 days), so monthly rows cannot
            each start a period of one fixed unit, as this model's periods do (and
            CLVTools', which has no monthly unit either); the mean month would
            misplace period boundaries by up to 2.4 days. For monthly
            covariates give daily rows (each day with its month's values) and
            ``freq="D"``.
        resolution : str, optional
            How finely purchase times are told apart: transactions within the same
            ``resolution`` (a pandas frequency of fixed length up to one period, e.g.
            ``"D"``, ``"h"``, ``"s"``, ``"ns"``) are one. Default: a day (an hour for
            ``freq="H"``), as transaction logs are usually recorded. The model is in
            continuous time, so logs with exact times (e.g. simulated ones) are fitted
            exactly with ``"ns"``; merging same-day purchases shrinks the purchase
            coefficients where rates are high (``bench/refit_time_varying.py``).
        initial_params, tol, max_iterations, verbose
            As for the other fitters.

        Returns
        -------
        TimeVaryingParetoNBDFitter
            self, fitted.
        """
        panel = build_panel(
            transactions,
            covariates,
            customer_id_col,
            datetime_col,
            covariate_datetime_col,
            purchase_covariate_cols,
            dropout_covariate_cols,
            calibration_period_end,
            freq,
            resolution,
        )
        native = panel.native
        start = None
        if initial_params is not None:
            names = ["r", "alpha", "s", "beta", *native.coefficient_names]
            if isinstance(initial_params, (pd.Series, dict)):
                start = [float(initial_params[n]) for n in names]
            else:
                start = [float(v) for v in np.asarray(initial_params, dtype=np.float64).reshape(-1)]
        self._model = self._core_class.fit(
            native,
            initial_params=start,
            tol=float(tol),
            max_iterations=int(max_iterations),
            verbose=bool(verbose),
        )
        self._panel = panel
        self.data = pd.DataFrame(
            {
                "frequency": panel.frequency,
                "recency": panel.recency,
                "T": panel.T,
                "weights": np.ones(len(panel.index)),
            },
            index=panel.index,
        )
        self.time_unit_ = freq
        return self

    # -- parameters -----------------------------------------------------------

    @property
    def _param_names(self) -> list[str]:
        if self._model is None:
            return list(self._core_class.BASE_PARAM_NAMES)
        return list(cast(Any, self._model).param_names)

    def _set_params(self, value: ParamsLike) -> None:
        if isinstance(value, (pd.Series, dict)):
            given = {str(k): float(v) for k, v in value.items()}
        else:
            # In order: those of the current model (fitted or set by name), or, before
            # any, the four base parameters alone (a model without covariates).
            names = self._param_names
            flat = np.asarray(value, dtype=np.float64).reshape(-1)
            if len(flat) != len(names):
                raise ValueError(
                    f"params_ needs a Series or dict keyed by name (r, alpha, s, beta, "
                    f"purchase:<col>, dropout:<col>), or {len(names)} values in the "
                    f"order {names}"
                )
            given = dict(zip(names, (float(v) for v in flat)))
        self._model = self._core_class.from_params(given)

    params_ = property(BaseFitter.params_.fget, _set_params, doc=BaseFitter.params_.__doc__)  # type: ignore[attr-defined]

    def _native_class_of(self, text: str) -> Any:
        return self._core_class

    # -- predictions ----------------------------------------------------------

    def _fitted_panel(self) -> tuple[Any, _Panel]:
        model = self._core()
        if self._panel is None:
            raise ValueError(
                "predictions are for the customers of a fit, whose covariate periods this "
                "fitter no longer has (it was loaded from a file): call fit() first"
            )
        return model, self._panel

    def _horizon(self, t: float) -> float:
        t = float(t)
        if not (np.isfinite(t) and t >= 0):
            raise ValueError(f"t must be a finite, non-negative number of time units, got {t}")
        _, panel = self._fitted_panel()
        horizon = panel.calibration_period_end + t * panel.unit
        short = np.flatnonzero((panel.periods_end < horizon).to_numpy())
        if len(short):
            i = int(short[0])
            raise _customer_error(
                panel.index[i],
                f"the covariate period starting {_when(panel.periods_end.iloc[i])} is missing "
                f"(the horizon of {t:g} time units ends {_when(horizon)})",
                rule="covariate periods must reach the end of the prediction horizon",
            )
        return t

    def conditional_probability_alive(self) -> pd.Series:
        """P(alive at the end of calibration | history), per customer of the fit."""
        model, panel = self._fitted_panel()
        values = model.conditional_probability_alive(panel.native)
        return pd.Series(values, index=panel.index)

    def conditional_expected_number_of_purchases_up_to_time(self, t: float) -> pd.Series:
        r"""Expected purchases in :math:`(T, T+t]` per customer of the fit, with the
        covariates of the periods after the calibration end:

        .. math::

            E[Y(t)] = P(\text{alive}) \frac{r+x}{\alpha+A(T)} \int_T^{T+t}
            e^{\gamma_p^\top z(\tau)} \Big(\frac{\beta+B(T)}{\beta+B(\tau)}\Big)^s d\tau.
        """
        t = self._horizon(t)
        model, panel = self._fitted_panel()
        values = model.conditional_expected_number_of_purchases_up_to_time(panel.native, t)
        return pd.Series(values, index=panel.index)

    def discounted_expected_conditional_transactions(
        self, t: float, discount_rate: float
    ) -> pd.Series:
        r"""DECT: the purchases in :math:`(T, T+t]` discounted continuously at
        ``discount_rate`` (δ) per time unit, per customer of the fit: the integral
        above with the factor :math:`e^{-\delta(\tau-T)}`.
        """
        t = self._horizon(t)
        model, panel = self._fitted_panel()
        values = model.discounted_expected_conditional_transactions(
            panel.native, t, float(discount_rate)
        )
        return pd.Series(values, index=panel.index)

    def individual_log_likelihood(self) -> pd.Series:
        """ln L of each customer of the fit at ``params_``."""
        model, panel = self._fitted_panel()
        return pd.Series(model.individual_log_likelihood(panel.native), index=panel.index)

    # -- simulation -----------------------------------------------------------

    def simulate_transactions(
        self,
        covariates: pd.DataFrame,
        customer_id_col: str,
        covariate_datetime_col: str,
        first_purchase: pd.Series,
        observation_end: Any,
        freq: str = "W",
        seed: int | None = None,
    ) -> pd.DataFrame:
        """A transaction log simulated at ``params_``.

        Each customer of ``first_purchase`` (a Series: customer id -> date of the
        first purchase) draws λ ~ Gamma(r, alpha) and μ ~ Gamma(s, beta), dies when
        μ B(τ) reaches a unit exponential and buys, while alive, at the times where
        λ A(t) passes the arrivals of a unit Poisson process (exact for rates
        constant within periods), until ``observation_end``. ``covariates`` is
        laid out as for :meth:`fit`.

        Returns
        -------
        pandas.DataFrame
            Columns ``customer_id_col`` and ``"date"``, the first purchase included;
            ``attrs["rate"]``, ``attrs["dropout"]`` and ``attrs["death"]`` (the
            date, NaT when alive at the end) are Series by customer.
        """
        model = self._core()
        names = list(model.param_names)[4:]
        purchase = [n.split(":", 1)[1] for n in names if n.startswith("purchase:")]
        dropout = [n.split(":", 1)[1] for n in names if n.startswith("dropout:")]
        first = pd.Series(first_purchase)
        log = pd.DataFrame({customer_id_col: first.index, "date": pd.to_datetime(first.to_numpy())})
        panel = build_panel(
            log,
            covariates,
            customer_id_col,
            "date",
            covariate_datetime_col,
            purchase,
            dropout,
            observation_end,
            freq,
        )
        order = [panel.columns.index(c) for c in model.columns]
        z = panel.covariates
        if order != list(range(len(order))):
            z = np.ascontiguousarray(z[:, order])
        panel.native = None  # the panel's own copy of the rows is not needed any more
        who, when, rate, mu, death = model.simulate(
            panel.first_period_start, panel.period_counts, z, panel.T, _seed(seed)
        )
        birth = pd.to_datetime(first.reindex(panel.index)).to_numpy()
        ns = panel.unit.value
        position = who.astype(np.int64)
        dates = birth[position] + (np.round(when * ns)).astype("timedelta64[ns]")
        ids = np.asarray(panel.index)
        out = pd.concat(
            [
                pd.DataFrame({customer_id_col: ids, "date": birth}),
                pd.DataFrame({customer_id_col: ids[position], "date": dates}),
            ],
            ignore_index=True,
        )
        out = out.sort_values([customer_id_col, "date"], kind="mergesort", ignore_index=True)
        finite = np.isfinite(death)
        death_dates = np.full(len(death), np.datetime64("NaT"), dtype="datetime64[ns]")
        death_dates[finite] = birth[finite] + np.round(death[finite] * ns).astype("timedelta64[ns]")
        out.attrs["rate"] = pd.Series(rate, index=panel.index)
        out.attrs["dropout"] = pd.Series(mu, index=panel.index)
        out.attrs["death"] = pd.Series(death_dates, index=panel.index)
        return out

    # -- persistence ----------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["panel"] = self._panel
        state["time_unit"] = self.time_unit_
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._panel = state.get("panel")
        self.time_unit_ = state.get("time_unit")

    def _set_model_json(self, text: str) -> None:
        super()._set_model_json(text)
        # A saved file holds no covariate periods: predictions need a new fit.
        self._panel = None
