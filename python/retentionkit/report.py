"""A self-contained HTML report on a transaction log, for ``retentionkit report``.

:func:`build_report` runs the whole analysis of Fader, Hardie & Lee (2005) on a
log of transactions:

1. split the log into a calibration period and a holdout period
   (:func:`~retentionkit.utils.calibration_and_holdout_data`);
2. fit BG/NBD, MBG/NBD and Pareto/NBD on the calibration period and compare how
   well each predicts the holdout purchases
   (:func:`~retentionkit.model_comparison.compare_models`);
3. refit the chosen model (by default the one with the smallest holdout error)
   and the Gamma-Gamma spend model on the whole log, and score every customer as
   of its end (:func:`~retentionkit.targeting.customer_table`);
4. write one HTML file, with the plots embedded as base64 PNG images (drawn with
   matplotlib's Agg canvas, without touching pyplot's state), and the
   per-customer table as CSV.

With ``covariates`` (time-invariant traits of each customer, from a per-customer
table joined on the customer id or, without one, each customer's values on their
first transaction in the log), every transaction model is fitted with those
covariates in both its purchase and its drop-out process, every prediction uses
each customer's own covariates, and the report shows the coefficients with a
plain-language reading.

matplotlib is needed (``pip install "retentionkit[plot]"``).
"""

from __future__ import annotations

import math
import sys
import time as _time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._csv import write_csv
from ._new_customers import new_customers_notes
from ._registry import by_name
from ._report_html import TITLE, ReportContext, figure_class, render_html
from ._validation import index_label, invalid_data_error, plain
from .datasets import load_transaction_data
from .fitters import GammaGammaFitter, TransactionFitter, spend_frequency_correlation
from .model_comparison import compare_models, likelihood_ratio_test
from .targeting import (
    SegmentThresholds,
    customer_table,
)
from .utils import calibration_and_holdout_data, summary_data_from_transaction_data

if TYPE_CHECKING:
    pass

__all__ = [
    "MODELS",
    "TIME_UNITS",
    "TITLE",
    "Progress",
    "Report",
    "build_report",
    "cdnow_report",
]


@dataclass(frozen=True)
class TimeUnit:
    """How a model time unit is measured on the log."""

    period: str  # pandas period of the summaries (purchases in one period count once)
    multiplier: int  # periods per time unit
    clv_freq: str  # the CLV's name of the unit
    name: str  # plural, for the text
    meaning: str = ""  # how times are counted, for the report's details


#: ``freq``: each name means what the same ``freq`` (with ``freq_multiplier``) means
#: in :func:`~retentionkit.utils.summary_data_from_transaction_data`. "D7" (the
#: default) counts weeks as days / 7, as Fader, Hardie & Lee (2005) do: purchases on
#: different days of a week are distinct; "W" counts calendar weeks ending on Sunday
#: (purchases in one such week count once), as ``freq="W"`` there and in lifetimes.
TIME_UNITS: dict[str, TimeUnit] = {
    "D": TimeUnit("D", 1, "D", "days", "days"),
    "D7": TimeUnit(
        "D", 7, "W", "weeks", "weeks of 7 days (days / 7; purchases on different days count apart)"
    ),
    "W": TimeUnit(
        "W", 1, "W", "weeks", "calendar weeks ending on Sunday (purchases in one week count once)"
    ),
    "M": TimeUnit("M", 1, "M", "months", "calendar months (purchases in one month count once)"),
}

#: ``model=``: key -> (fitter class, display name): the transaction models, and the
#: MBG/CNBD-k, whose fits also need litt (computed from the log, see :func:`_with_litt`).
MODELS: dict[str, tuple[Any, str]] = by_name("transaction", "regular")

#: The CDNOW split of Fader, Hardie & Lee (2005): 39 + 39 weeks.
CDNOW_HOLDOUT_START = pd.Timestamp("1997-10-01")
CDNOW_OBSERVATION_END = pd.Timestamp("1998-06-30")


class Progress:
    """A progress line on a stream (stderr by default), one step at a time.

    On a terminal the line is rewritten in place; otherwise each finished step
    prints one line. ``enabled=False`` prints nothing.
    """

    def __init__(self, total: int, enabled: bool = True, stream: IO[str] | None = None) -> None:
        self.total = total
        self.done = 0
        self.enabled = enabled
        self.stream = sys.stderr if stream is None else stream

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        """Show ``label`` while the block runs, then its duration."""
        number = self.done + 1
        interactive = self.enabled and self.stream.isatty()
        if interactive:
            self._write(f"\r{self._bar(self.done)} [{number}/{self.total}] {label} ...\x1b[K")
        start = _time.perf_counter()
        yield
        self.done = number
        seconds = _time.perf_counter() - start
        line = f"{self._bar(self.done)} [{number}/{self.total}] {label} ({seconds:.1f} s)"
        if interactive:
            end = "\n" if self.done >= self.total else ""
            self._write(f"\r{line}\x1b[K{end}")
        elif self.enabled:
            self._write(line + "\n")

    def _bar(self, done: int, width: int = 20) -> str:
        filled = round(width * done / max(self.total, 1))
        return "[" + "#" * filled + "." * (width - filled) + "]"

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


@dataclass
class Report:
    """The result of :func:`build_report`.

    Attributes
    ----------
    html : str
        The self-contained HTML document.
    customers : pandas.DataFrame
        The per-customer :func:`~retentionkit.targeting.customer_table`.
    comparison : pandas.DataFrame
        :func:`~retentionkit.model_comparison.compare_models` of the calibration fits.
    model : str
        Display name of the model behind ``customers``.
    notes : list of str
        Warnings met on the way (a model that did not converge, ...).
    """

    html: str
    customers: pd.DataFrame
    comparison: pd.DataFrame
    model: str
    notes: list[str] = field(default_factory=list)

    def write(
        self, html_path: str | Path, csv_path: str | Path | None = None, raw_csv: bool = False
    ) -> None:
        """Write the HTML file and, with ``csv_path``, the customer table as CSV.

        Customer ids that a spreadsheet would read as formulas (text beginning with
        ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, such as
        ``=HYPERLINK(...)``) are written with a leading ``'``, which spreadsheets show
        as text; numbers are left alone. ``raw_csv=True`` writes them verbatim.
        """
        Path(html_path).write_text(self.html, encoding="utf-8")
        if csv_path is not None:
            write_csv(self.customers, csv_path, raw=raw_csv)


def cdnow_report(**kwargs: Any) -> Report:
    """:func:`build_report` on the bundled CDNOW sample, split as Fader, Hardie & Lee (2005).

    Calibration 1997-01-01..1997-09-30, holdout to 1998-06-30 (39 + 39 weeks);
    keyword arguments override :func:`build_report`'s.
    """
    kwargs.setdefault("holdout_start", CDNOW_HOLDOUT_START)
    kwargs.setdefault("observation_end", CDNOW_OBSERVATION_END)
    kwargs.setdefault(
        "source",
        "the bundled CDNOW sample (Fader, Hardie & Lee 2005): 1/10th of the customers "
        "who first bought at CDNOW in the first quarter of 1997, values in US dollars",
    )
    return build_report(load_transaction_data(), "customer_id", "date", "dollar_value", **kwargs)


def build_report(
    transactions: pd.DataFrame,
    customer_id_col: str,
    datetime_col: str,
    monetary_value_col: str | None = None,
    *,
    datetime_format: str | None = None,
    freq: str = "D7",
    holdout_start: Any = None,
    observation_end: Any = None,
    model: str = "best",
    time: float = 12,
    discount_rate: float = 0.01,
    level: float = 0.90,
    seed: int = 0,
    thresholds: SegmentThresholds | None = None,
    top: int = 20,
    source: str = "",
    progress: bool | Progress = False,
    covariates: Sequence[str] | str | None = None,
    customer_data: pd.DataFrame | None = None,
    spend_covariates: Sequence[str] | str | None = None,
) -> Report:
    """Fit, compare and score a transaction log; return the HTML report and tables.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per transaction.
    customer_id_col, datetime_col : str
        Columns of the customer ids and of the purchase datetimes.
    monetary_value_col : str, optional
        Column of the transaction values. Without it there is no spend model and
        no CLV: customers are valued by their expected purchases.
    datetime_format : str, optional
        Passed to :func:`pandas.to_datetime`.
    freq : {"D", "D7", "W", "M"}, default "D7"
        Time unit of the models, each name with the meaning it has in
        :func:`~retentionkit.utils.summary_data_from_transaction_data`: "D" days;
        "D7" weeks of 7 days (``freq="D", freq_multiplier=7`` there: times in days
        / 7, purchases on different days distinct, as in Fader, Hardie & Lee
        2005); "W" calendar weeks ending on Sunday (``freq="W"``, as in
        ``lifetimes``: purchases in one week count once, times in whole weeks);
        "M" calendar months.
    holdout_start : datetime-like, optional
        First moment of the holdout period; the calibration period is everything
        before. Default: the day halfway between the first and the last
        transaction.
    observation_end : datetime-like, optional
        End of the observation (of the holdout, and the date the customers are
        scored at); default the last transaction.
    model : {"best", "bgnbd", "mbgnbd", "pnbd", "ggomnbd", "mbgcnbd"}, default "best"
        The model behind the customer table; ``"best"`` takes the one with the
        smallest mean absolute error of the holdout purchases (of two within a
        relative 1e-9 of each other, the one listed first: MBG/CNBD-k with k = 1
        is MBG/NBD).
    time, discount_rate, level, seed, thresholds
        As for :func:`~retentionkit.targeting.customer_table` (CLV horizon in
        months, monthly discount rate, interval coverage and seed, segments).
    top : int, default 20
        Number of valuable customers at risk listed in the report.
    source : str, optional
        A description of the data for the report's header.
    progress : bool or Progress, default False
        Show a progress line on stderr.
    covariates : list of str or str, optional
        Columns of time-invariant customer traits (a comma-separated string is
        split), used as covariates of both the purchase and the drop-out process
        of every model. Numeric columns are used as they are; text columns are
        categorical (one dummy per level but the first in sorted order, the base
        level).
    customer_data : pandas.DataFrame, optional
        One row per customer with the ``covariates`` columns, with the customer
        ids in the column ``customer_id_col`` or as its index; joined on the
        customer id (every customer of the log needs a row). Without it, each
        customer's covariates are their values on their first transaction in
        the log (the earliest date; the first such row of the log on a tie).
    spend_covariates : list of str or str, optional
        Columns of customer traits used as covariates of the Gamma-Gamma spend
        model (needs ``monetary_value_col``), taken from the same place as
        ``covariates`` (``customer_data``, else each customer's first
        transaction); they may be the same columns as ``covariates``, others,
        or given alone. ``covariates`` does not feed the spend model: a trait
        that should move both purchases and spend is named in both. The
        customers' expected spend and CLV (with its interval) then use their
        own spend parameters, and the report reads the ``spend:`` coefficients.

    Returns
    -------
    Report

    Raises
    ------
    ValueError
        On a missing column, unparsable dates, invalid rows (named by position),
        a holdout start outside the log, or when no model could be fitted.
    ImportError
        Without matplotlib.
    """
    if freq not in TIME_UNITS:
        raise ValueError(f"freq must be one of {', '.join(TIME_UNITS)}, got {freq!r}")
    if model != "best" and model not in MODELS:
        raise ValueError(f"model must be 'best' or one of {', '.join(MODELS)}, got {model!r}")
    if not (isinstance(top, int) and top >= 0):
        raise ValueError(f"top must be a non-negative integer, got {top!r}")
    figure_class()  # fail early without matplotlib
    unit = TIME_UNITS[freq]
    thresholds = SegmentThresholds() if thresholds is None else thresholds
    bar = progress if isinstance(progress, Progress) else Progress(7, enabled=bool(progress))
    notes: list[str] = []
    covariate_cols = _covariate_names(covariates)
    spend_cols = _covariate_names(spend_covariates)
    if spend_cols and monetary_value_col is None:
        raise ValueError(
            "spend covariates need the transaction values: give the monetary value column"
        )

    with bar.step("reading the log"):
        log = _read_log(
            transactions, customer_id_col, datetime_col, monetary_value_col, datetime_format
        )
        dates = log[datetime_col]
        first, last = dates.min(), dates.max()
        obs_end = last if observation_end is None else pd.Timestamp(observation_end)
        if obs_end < last:
            raise ValueError(
                f"the observation end ({obs_end:%Y-%m-%d}) is before the last transaction "
                f"({last:%Y-%m-%d})"
            )
        if holdout_start is None:
            start = (first + (last - first) / 2).normalize()
        else:
            start = pd.Timestamp(holdout_start)
        if not first < start <= last:
            raise ValueError(
                f"the holdout start ({start:%Y-%m-%d}) must be after the first transaction "
                f"({first:%Y-%m-%d}) and not after the last ({last:%Y-%m-%d})"
            )
        cal_end = start - pd.Timedelta(1, "ns")
        traits: pd.DataFrame | None = None
        spend_traits: pd.DataFrame | None = None
        every = list(dict.fromkeys([*covariate_cols, *spend_cols]))
        if every:
            all_traits = _customer_traits(
                transactions, log, customer_id_col, datetime_col, every, customer_data
            )
            traits = all_traits[covariate_cols] if covariate_cols else None
            spend_traits = all_traits[spend_cols] if spend_cols else None
        elif customer_data is not None:
            raise ValueError("customer_data is given without covariates: name its columns")
        with_traits: dict[str, Any] = (
            {} if traits is None else {"purchase_covariates": traits, "dropout_covariates": traits}
        )

    with bar.step("calibration/holdout split"):
        periods: dict[str, Any] = {"freq": unit.period, "freq_multiplier": unit.multiplier}
        calibration = calibration_and_holdout_data(
            log, customer_id_col, datetime_col, cal_end, obs_end, **periods
        )
        history = calibration[["frequency_cal", "recency_cal", "T_cal"]].set_axis(
            ["frequency", "recency", "T"], axis=1
        )

    labels = ", ".join(name for _, name in MODELS.values())
    with bar.step(f"fitting {labels} on the calibration period"):
        fitted: dict[str, TransactionFitter] = {}
        for fitter_class, name in MODELS.values():
            if with_traits and getattr(fitter_class, "_covariate_core_class", None) is None:
                notes.append(f"{name} takes no covariates: left out of the comparison")
                continue
            try:
                data = history
                if _needs_litt(fitter_class):
                    data = _with_litt(history, log, customer_id_col, datetime_col, cal_end, periods)
                fitted[name] = _fit_noting(fitter_class, name, notes, data, **with_traits)
            except ValueError as exc:  # includes ConvergenceError
                notes.append(f"{name} could not be fitted on the calibration period: {exc}")
        if not fitted:
            raise ValueError("no model could be fitted: " + "; ".join(notes))

    with bar.step("comparing the models on the holdout"):
        comparison = compare_models(fitted, calibration)
        if model == "best":
            chosen = _smallest(comparison["holdout_mae"])
            why = "the smallest mean absolute error of the holdout purchases"
        else:
            chosen = MODELS[model][1]
            why = "chosen with --model"
            if chosen not in fitted:
                raise ValueError(f"{chosen} could not be fitted: " + "; ".join(notes))

    with bar.step(f"refitting {chosen} and the spend model on the whole log"):
        summary = summary_data_from_transaction_data(
            log,
            customer_id_col,
            datetime_col,
            "_value" if monetary_value_col is not None else None,
            observation_period_end=obs_end,
            **periods,
        )
        notes.extend(new_customers_notes(calibration["T_cal"], summary["T"]))
        fitter_class = next(c for c, n in MODELS.values() if n == chosen)
        whole = summary[["frequency", "recency", "T"]]
        if _needs_litt(fitter_class):
            whole = _with_litt(whole, log, customer_id_col, datetime_col, obs_end, periods)
        final = _fit_noting(fitter_class, chosen, notes, whole, **with_traits)
        covariate_test = None
        if traits is not None:
            try:
                plain = fitter_class().fit(summary[["frequency", "recency", "T"]])
                covariate_test = likelihood_ratio_test(plain, final)
            except ValueError as exc:
                notes.append(f"no likelihood-ratio test of the covariates: {exc}")
        spend: GammaGammaFitter | None = None
        correlation = math.nan
        if monetary_value_col is not None:
            spend, correlation = _fit_spend(summary, notes, spend_traits)

    with bar.step("customer values with intervals"):
        customers = customer_table(
            final,
            spend,
            summary,
            time=time,
            discount_rate=discount_rate,
            freq=unit.clv_freq,
            level=level,
            seed=seed,
            thresholds=thresholds,
            spend_covariates=(
                None if spend is None or spend_traits is None else spend_traits.loc[summary.index]
            ),
        )
        customers.index.name = customer_id_col

    with bar.step("drawing the plots and writing the HTML"):
        context = ReportContext(
            source=source,
            unit=unit,
            log=log,
            customer_id_col=customer_id_col,
            datetime_col=datetime_col,
            first=first,
            cal_end=cal_end,
            holdout_start=start,
            obs_end=obs_end,
            calibration=calibration,
            fitted=fitted,
            comparison=comparison,
            chosen=chosen,
            why=why,
            final=final,
            spend=spend,
            correlation=correlation,
            customers=customers,
            thresholds=thresholds,
            time=time,
            discount_rate=discount_rate,
            level=level,
            top=top,
            notes=notes,
            covariates=traits,
            spend_covariates=None if spend is None else spend_traits,
            covariate_source=(
                "the per-customer table, joined on the customer id"
                if customer_data is not None
                else "each customer's first transaction in the log"
            ),
            covariate_test=covariate_test,
        )
        document = render_html(context)
    return Report(document, customers, comparison, chosen, notes)


# -- steps -----------------------------------------------------------------------------------


def _read_log(
    transactions: pd.DataFrame,
    customer_id_col: str,
    datetime_col: str,
    monetary_value_col: str | None,
    datetime_format: str | None,
) -> pd.DataFrame:
    """The id and datetime columns (parsed) and the value as ``_value``."""
    if not isinstance(transactions, pd.DataFrame):
        raise TypeError(f"transactions must be a DataFrame, got {type(transactions).__name__}")
    wanted = [customer_id_col, datetime_col]
    if monetary_value_col is not None:
        wanted.append(monetary_value_col)
    missing = [c for c in wanted if c not in transactions.columns]
    if missing:
        raise ValueError(
            f"the log lacks the column(s) {', '.join(missing)} "
            f"(it has: {', '.join(map(str, transactions.columns))})"
        )
    if len(transactions) == 0:
        raise ValueError("the transaction log is empty")
    log = pd.DataFrame({customer_id_col: transactions[customer_id_col]})
    try:
        log[datetime_col] = pd.to_datetime(transactions[datetime_col], format=datetime_format)
    except (ValueError, TypeError) as exc:
        hint = "" if datetime_format else " (give the format, e.g. --datetime-format %Y%m%d)"
        raise ValueError(f"cannot read the dates in column {datetime_col}: {exc}{hint}") from None
    if log[datetime_col].isna().any():
        row = int(np.argmax(log[datetime_col].isna().to_numpy()))
        rule = f"the datetime ({datetime_col}) is missing"
        raise invalid_data_error(
            f"{rule} (first offending row: {row})",
            rule=rule,
            row=row,
            label=index_label(transactions.index, row),
            column=datetime_col,
        )
    if monetary_value_col is not None:
        log["_value"] = pd.to_numeric(transactions[monetary_value_col], errors="coerce")
        bad = ~np.isfinite(log["_value"].to_numpy(dtype=np.float64)) | (log["_value"] < 0)
        if bad.any():
            row = int(np.argmax(np.asarray(bad)))
            rule = f"the value ({monetary_value_col}) must be a finite non-negative number"
            raise invalid_data_error(
                f"{rule} "
                f"(first offending row: {row}: {transactions[monetary_value_col].iloc[row]!r})",
                rule=rule,
                row=row,
                label=index_label(transactions.index, row),
                column=monetary_value_col,
            )
    return log


def _covariate_names(covariates: Sequence[str] | str | None) -> list[str]:
    """The covariate columns, a comma-separated string split; no name twice."""
    if covariates is None:
        return []
    names = covariates.split(",") if isinstance(covariates, str) else list(covariates)
    names = [str(n).strip() for n in names]
    if any(not n for n in names):
        raise ValueError(f"an empty covariate name in {covariates!r}")
    twice = [n for n in names if names.count(n) > 1]
    if twice:
        raise ValueError(f"the covariate {twice[0]!r} is named twice")
    return names


def _customer_traits(
    transactions: pd.DataFrame,
    log: pd.DataFrame,
    customer_id_col: str,
    datetime_col: str,
    columns: list[str],
    customer_data: pd.DataFrame | None,
) -> pd.DataFrame:
    """One row of covariates per customer of the log, indexed by customer id; a
    missing value is an error naming the customer."""
    traits = _customer_rows(
        transactions, log, customer_id_col, datetime_col, columns, customer_data
    )
    for column in columns:
        missing = np.flatnonzero(traits[column].isna().to_numpy())
        if len(missing):
            where = "the customer table" if customer_data is not None else "the log"
            raise invalid_data_error(
                f"the covariate {column} is missing in {where} for the customer "
                f"{plain(traits.index[missing[0]])} ({len(missing)} customer(s) in all)",
                rule="covariates missing",
                column=column,
            )
    return traits


def _customer_rows(
    transactions: pd.DataFrame,
    log: pd.DataFrame,
    customer_id_col: str,
    datetime_col: str,
    columns: list[str],
    customer_data: pd.DataFrame | None,
) -> pd.DataFrame:
    """One row of covariates per customer of the log, indexed by customer id."""
    reserved = [c for c in columns if c in (customer_id_col, datetime_col)]
    if reserved:
        raise ValueError(f"the covariate {reserved[0]!r} is the customer id or date column")
    if customer_data is None:
        missing = [c for c in columns if c not in transactions.columns]
        if missing:
            raise ValueError(
                f"the log lacks the covariate column(s) {', '.join(missing)} (it has: "
                f"{', '.join(map(str, transactions.columns))}); give a per-customer table "
                "for covariates that are not in the log"
            )
        rows = pd.concat(
            [
                log[[customer_id_col, datetime_col]].reset_index(drop=True),
                transactions[columns].reset_index(drop=True),
            ],
            axis=1,
        ).sort_values(datetime_col, kind="stable")
        first = rows.drop_duplicates(customer_id_col, keep="first")
        return first.set_index(customer_id_col)[columns].sort_index()
    table = customer_data
    if customer_id_col in table.columns:
        table = table.set_index(customer_id_col)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(
            f"the customer table lacks the covariate column(s) {', '.join(missing)} (it "
            f"has: {', '.join(map(str, table.columns))})"
        )
    if not table.index.is_unique:
        dup = table.index[table.index.duplicated()][0]
        raise ValueError(f"the customer table has the customer {plain(dup)} more than once")
    ids = pd.Index(pd.unique(log[customer_id_col]))
    positions = table.index.get_indexer(ids)
    absent = np.flatnonzero(positions < 0)
    if len(absent):
        raise invalid_data_error(
            f"the customer table has no row for the customer {plain(ids[absent[0]])} of "
            f"the log ({len(absent)} customer(s) missing; the table is joined on "
            f"{customer_id_col})",
            rule="covariates row missing",
            column=customer_id_col,
        )
    return table.iloc[positions][columns].sort_index()


def _needs_litt(fitter_class: Any) -> bool:
    """Whether the model's fit also takes litt (the MBG/CNBD-k)."""
    return "litt" in fitter_class._columns


def _with_litt(
    history: pd.DataFrame,
    log: pd.DataFrame,
    customer_id_col: str,
    datetime_col: str,
    end: pd.Timestamp,
    periods: dict[str, Any],
) -> pd.DataFrame:
    """``history`` (frequency, recency, T of the purchases up to ``end``, by customer)
    with ``litt``, the sum of the logs of each customer's inter-purchase times, from
    the same purchases counted in the same periods."""
    before = log[log[datetime_col] <= end]
    summary = summary_data_from_transaction_data(
        before,
        customer_id_col,
        datetime_col,
        observation_period_end=end,
        include_litt=True,
        **periods,
    )
    summary = summary.reindex(history.index)
    columns = ["frequency", "recency", "T"]
    same = np.allclose(
        summary[columns].to_numpy(dtype=np.float64),
        history[columns].to_numpy(dtype=np.float64),
        rtol=1e-9,
        atol=1e-9,
    )
    if not same:  # the two summaries of one log disagree: a bug, not bad input
        raise RuntimeError("the summary with litt does not match the calibration summary")
    return history.assign(litt=summary["litt"].to_numpy(dtype=np.float64))


def _smallest(errors: pd.Series) -> str:
    """The first model whose error is within a relative 1e-9 of the smallest: a model
    that reduces to another (MBG/CNBD-k with k = 1 is MBG/NBD) does not win on
    rounding."""
    least = float(errors.min())
    close = errors[errors <= least + 1e-9 * abs(least)]
    return str(close.index[0])


def _fit_noting(fitter_class: Any, name: str, notes: list[str], *args: Any, **kwargs: Any) -> Any:
    """``fitter_class().fit(*args, **kwargs)`` with its warnings (e.g. a fit on a model's
    limit) kept as notes of the report instead of printed on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = fitter_class().fit(*args, **kwargs)
    for warning in caught:
        note = f"{name}: {warning.message}"
        if note not in notes:
            notes.append(note)
    return fitted


def _fit_spend(
    summary: pd.DataFrame, notes: list[str], traits: pd.DataFrame | None = None
) -> tuple[GammaGammaFitter | None, float]:
    """The Gamma-Gamma fit on the repeat customers (with the covariates ``traits``,
    indexed by customer id, when given), or None (with a note) if impossible."""
    repeat = summary[summary["frequency"] > 0]
    correlation = math.nan
    if len(repeat) < 3:
        notes.append("too few repeat customers to fit the spend model: no CLV")
        return None, correlation
    zero = repeat["monetary_value"] <= 0
    if zero.any():
        notes.append(
            f"{int(zero.sum())} repeat customer(s) whose repeat purchases are worth 0 in total: "
            "the Gamma-Gamma spend model needs positive values, so there is no CLV"
        )
        return None, correlation
    correlation = spend_frequency_correlation(repeat["frequency"], repeat["monetary_value"])
    try:
        spend = GammaGammaFitter().fit(
            repeat["frequency"],
            repeat["monetary_value"],
            spend_covariates=None if traits is None else traits.loc[repeat.index],
        )
        # q <= 1: infinite expected spend
        spend.expected_average_profit(
            **({} if traits is None else {"spend_covariates": traits.loc[repeat.index[:1]]})
        )
    except ValueError as exc:
        notes.append(f"the Gamma-Gamma spend model could not be used ({exc}): no CLV")
        return None, correlation
    return spend, correlation
