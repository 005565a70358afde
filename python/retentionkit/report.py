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

matplotlib is needed (``pip install "retentionkit[plot]"``).
"""

from __future__ import annotations

import base64
import html
import io
import math
import sys
import time as _time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import __version__
from .datasets import load_transaction_data
from .fitters import (
    BetaGeoFitter,
    GammaGammaFitter,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
    TransactionFitter,
    spend_frequency_correlation,
)
from .model_comparison import compare_models, period_transactions_chi_square
from .plotting import (
    plot_calibration_purchases_vs_holdout_purchases,
    plot_cumulative_transactions,
    plot_incremental_transactions,
    plot_period_transactions,
)
from .targeting import (
    HIGH_VALUE_AT_RISK,
    SEGMENTS,
    SegmentThresholds,
    customer_table,
    segment_summary,
    top_at_risk,
)
from .utils import calibration_and_holdout_data, summary_data_from_transaction_data

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["MODELS", "TIME_UNITS", "Progress", "Report", "build_report", "cdnow_report"]

TITLE = "Customer retention report"


@dataclass(frozen=True)
class TimeUnit:
    """How a model time unit is measured on the log."""

    period: str  # pandas period of the summaries (purchases in one period count once)
    multiplier: int  # periods per time unit
    clv_freq: str  # the CLV's name of the unit
    name: str  # plural, for the text


#: ``--freq``: weeks are counted in days / 7 (as Fader, Hardie & Lee 2005: purchases
#: on different days of a week are distinct), months are calendar months.
TIME_UNITS: dict[str, TimeUnit] = {
    "D": TimeUnit("D", 1, "D", "days"),
    "W": TimeUnit("D", 7, "W", "weeks"),
    "M": TimeUnit("M", 1, "M", "months"),
}

#: ``model=``: key -> (fitter class, display name).
MODELS: dict[str, tuple[type[TransactionFitter], str]] = {
    "bgnbd": (BetaGeoFitter, "BG/NBD"),
    "mbgnbd": (ModifiedBetaGeoFitter, "MBG/NBD"),
    "pnbd": (ParetoNBDFitter, "Pareto/NBD"),
}

#: The CDNOW split of Fader, Hardie & Lee (2005): 39 + 39 weeks.
CDNOW_HOLDOUT_START = pd.Timestamp("1997-10-01")
CDNOW_OBSERVATION_END = pd.Timestamp("1998-06-30")

_SEGMENT_COLOURS = {
    "high value, at risk": "#d62728",
    "high value, likely alive": "#2ca02c",
    "low value": "#7f7f7f",
    "probably lost": "#1f77b4",
}


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

    def write(self, html_path: str | Path, csv_path: str | Path | None = None) -> None:
        """Write the HTML file and, with ``csv_path``, the customer table as CSV."""
        Path(html_path).write_text(self.html, encoding="utf-8")
        if csv_path is not None:
            self.customers.to_csv(csv_path)


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
    freq: str = "W",
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
    freq : {"D", "W", "M"}, default "W"
        Time unit of the models: days, weeks (counted as days / 7, so purchases on
        different days are distinct, as in Fader, Hardie & Lee 2005) or calendar
        months (purchases in one month count once).
    holdout_start : datetime-like, optional
        First moment of the holdout period; the calibration period is everything
        before. Default: the day halfway between the first and the last
        transaction.
    observation_end : datetime-like, optional
        End of the observation (of the holdout, and the date the customers are
        scored at); default the last transaction.
    model : {"best", "bgnbd", "mbgnbd", "pnbd"}, default "best"
        The model behind the customer table; ``"best"`` takes the one with the
        smallest mean absolute error of the holdout purchases.
    time, discount_rate, level, seed, thresholds
        As for :func:`~retentionkit.targeting.customer_table` (CLV horizon in
        months, monthly discount rate, interval coverage and seed, segments).
    top : int, default 20
        Number of valuable customers at risk listed in the report.
    source : str, optional
        A description of the data for the report's header.
    progress : bool or Progress, default False
        Show a progress line on stderr.

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
    _figure_class()  # fail early without matplotlib
    unit = TIME_UNITS[freq]
    thresholds = SegmentThresholds() if thresholds is None else thresholds
    bar = progress if isinstance(progress, Progress) else Progress(7, enabled=bool(progress))
    notes: list[str] = []

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

    with bar.step("calibration/holdout split"):
        periods: dict[str, Any] = {"freq": unit.period, "freq_multiplier": unit.multiplier}
        calibration = calibration_and_holdout_data(
            log, customer_id_col, datetime_col, cal_end, obs_end, **periods
        )
        history = calibration[["frequency_cal", "recency_cal", "T_cal"]].set_axis(
            ["frequency", "recency", "T"], axis=1
        )

    with bar.step("fitting BG/NBD, MBG/NBD, Pareto/NBD on the calibration period"):
        fitted: dict[str, TransactionFitter] = {}
        for fitter_class, name in MODELS.values():
            try:
                fitted[name] = fitter_class().fit(history)
            except ValueError as exc:  # includes ConvergenceError
                notes.append(f"{name} could not be fitted on the calibration period: {exc}")
        if not fitted:
            raise ValueError("no model could be fitted: " + "; ".join(notes))

    with bar.step("comparing the models on the holdout"):
        comparison = compare_models(fitted, calibration)
        if model == "best":
            chosen = str(comparison["holdout_mae"].idxmin())
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
        fitter_class = next(c for c, n in MODELS.values() if n == chosen)
        final = fitter_class().fit(summary[["frequency", "recency", "T"]])
        spend: GammaGammaFitter | None = None
        correlation = math.nan
        if monetary_value_col is not None:
            spend, correlation = _fit_spend(summary, notes)

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
        )
        customers.index.name = customer_id_col

    with bar.step("drawing the plots and writing the HTML"):
        context = _Context(
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
        )
        document = _render(context)
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
        raise ValueError(f"the datetime ({datetime_col}) is missing (first offending row: {row})")
    if monetary_value_col is not None:
        log["_value"] = pd.to_numeric(transactions[monetary_value_col], errors="coerce")
        bad = ~np.isfinite(log["_value"].to_numpy(dtype=np.float64)) | (log["_value"] < 0)
        if bad.any():
            row = int(np.argmax(np.asarray(bad)))
            raise ValueError(
                f"the value ({monetary_value_col}) must be a finite non-negative number "
                f"(first offending row: {row}: {transactions[monetary_value_col].iloc[row]!r})"
            )
    return log


def _fit_spend(summary: pd.DataFrame, notes: list[str]) -> tuple[GammaGammaFitter | None, float]:
    """The Gamma-Gamma fit on the repeat customers, or None (with a note) if impossible."""
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
        spend = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
        spend.expected_average_profit()  # q <= 1: infinite expected spend
    except ValueError as exc:
        notes.append(f"the Gamma-Gamma spend model could not be used ({exc}): no CLV")
        return None, correlation
    return spend, correlation


# -- rendering -------------------------------------------------------------------------------


@dataclass
class _Context:
    source: str
    unit: TimeUnit
    log: pd.DataFrame
    customer_id_col: str
    datetime_col: str
    first: pd.Timestamp
    cal_end: pd.Timestamp
    holdout_start: pd.Timestamp
    obs_end: pd.Timestamp
    calibration: pd.DataFrame
    fitted: dict[str, TransactionFitter]
    comparison: pd.DataFrame
    chosen: str
    why: str
    final: TransactionFitter
    spend: GammaGammaFitter | None
    correlation: float
    customers: pd.DataFrame
    thresholds: SegmentThresholds
    time: float
    discount_rate: float
    level: float
    top: int
    notes: list[str]

    @property
    def has_clv(self) -> bool:
        return "clv" in self.customers.columns


_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222;
       max-width: 1100px; margin: 2em auto; padding: 0 1.5em; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2em;
     margin-top: 2em; }
.meta { color: #666; margin-top: 0; }
nav a { margin-right: 1.2em; }
.cards { display: flex; flex-wrap: wrap; gap: 1em; }
.card { background: #f5f7fa; border-radius: 6px; padding: 0.7em 1.1em; min-width: 11em; }
.card b { display: block; font-size: 1.5em; }
table.data { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
table.data th, table.data td { padding: 0.3em 0.7em; border-bottom: 1px solid #e3e3e3;
                               text-align: right; }
table.data th { background: #f0f2f5; }
table.data td:first-child, table.data th:first-child { text-align: left; }
img { max-width: 100%; height: auto; display: block; margin: 0.8em 0; }
.note { background: #fff6e0; border-left: 4px solid #f0b400; padding: 0.4em 0.8em; }
.seg-at-risk { color: #b00; font-weight: bold; }
footer { color: #777; font-size: 0.85em; margin-top: 3em; }
"""


def _render(c: _Context) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{TITLE}</title><style>{_CSS}</style></head><body>",
        f"<h1>{TITLE}</h1>",
        f'<p class="meta">{_e(c.source) + "<br>" if c.source else ""}'
        f"Customers scored as of {c.obs_end:%Y-%m-%d}; generated by retentionkit "
        f"{__version__} on {pd.Timestamp.now():%Y-%m-%d %H:%M}.</p>",
        '<nav><a href="#glance">At a glance</a><a href="#how-to-read">How to read this</a>'
        '<a href="#contact">Who to contact</a><a href="#segments">Segments</a>'
        '<a href="#models">Model check</a><a href="#details">Details</a></nav>',
        *(f'<p class="note">{_e(note)}</p>' for note in c.notes),
        _glance(c),
        _how_to_read(c),
        _contact(c),
        _segments(c),
        _models(c),
        _details(c),
        "<footer>Models: BG/NBD (Fader, Hardie &amp; Lee 2005), MBG/NBD (Batislam, Denizel "
        "&amp; Filiztekin 2007), Pareto/NBD (Schmittlein, Morrison &amp; Colombo 1987), "
        "Gamma-Gamma spend (Fader &amp; Hardie 2013).</footer>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _glance(c: _Context) -> str:
    table = c.customers
    segments = table["segment"].value_counts()
    cards = [
        ("customers", f"{len(table):,}"),
        ("transactions", f"{len(c.log):,}"),
        ("likely still active (mean P(alive))", f"{table['p_alive'].mean():.0%}"),
        (
            f"expected purchases, next {_months(c.time)}",
            f"{table['expected_purchases'].sum():,.0f}",
        ),
    ]
    if c.has_clv:
        cards.append((f"total CLV, next {_months(c.time)}", f"{table['clv'].sum():,.0f}"))
    cards.append(("high-value customers at risk", f"{int(segments.get(HIGH_VALUE_AT_RISK, 0)):,}"))
    items = "".join(f'<div class="card"><b>{v}</b>{_e(k)}</div>' for k, v in cards)
    return f'<section id="glance"><h2>At a glance</h2><div class="cards">{items}</div></section>'


def _how_to_read(c: _Context) -> str:
    t = c.thresholds
    value = "CLV" if c.has_clv else "expected purchases"
    cutoff = t.value_cutoff(c.customers["clv" if c.has_clv else "expected_purchases"])
    rule = (
        f"at least {t.high_value_min:,.2f}"
        if t.high_value_min is not None
        else f"in the top {1 - t.high_value_quantile:.0%} (at least {cutoff:,.2f})"
    )
    clv_text = (
        f"<li><b>CLV</b> (customer lifetime value): the value of the purchases we expect "
        f"from the customer over the next {_months(c.time)}, in the units of the data's "
        f"values, discounted by {c.discount_rate:.1%} a month. The range beside it "
        f"({c.level:.0%} interval) shows how precisely the models know it; it is not a "
        "range for what the customer will actually spend.</li>"
        if c.has_clv
        else "<li>No values were given, so customers are ranked by expected purchases.</li>"
    )
    return f"""<section id="how-to-read"><h2>How to read this report</h2>
<p>Customers do not tell us when they stop buying. The models learn, from everyone's
purchase history, how often people buy and how likely they are to drop out, and then
give each customer:</p>
<ul>
<li><b>P(alive)</b>: the probability that the customer is still an active buyer. Someone
who used to buy often but has not bought for a long time gets a low P(alive).</li>
<li><b>Expected purchases</b>: how many purchases to expect from the customer in the next
{_months(c.time)}.</li>
{clv_text}
</ul>
<p>Each customer is in one <b>segment</b> (the thresholds can be changed):</p>
<ul>
<li><b>probably lost</b>: P(alive) below {t.lost_threshold:.0%};</li>
<li><b>high value, likely alive</b>: {value} {rule} and P(alive) at least
{t.alive_threshold:.0%}: keep them happy;</li>
<li><span class="seg-at-risk">high value, at risk</span>: {value} {rule} but P(alive)
between {t.lost_threshold:.0%} and {t.alive_threshold:.0%}: <b>contact these first</b>;</li>
<li><b>low value</b>: everyone else.</li>
</ul>
<p>The list of customers to contact ranks the high-value customers at risk by their
<b>value at risk</b>, {value} &times; (1 &minus; P(alive)): what is lost if they have
in fact gone. The model check below shows how well the models predicted a period they
had not seen: if the predicted and actual curves are close, the numbers can be trusted.
The CSV file has every customer.</p></section>"""


def _contact(c: _Context) -> str:
    rows = top_at_risk(c.customers, c.top)
    if rows.empty:
        body = "<p>No customer is in the segment &ldquo;high value, at risk&rdquo;.</p>"
    else:
        body = _table(_display(rows, c), index=True)
    total = int((c.customers["segment"] == HIGH_VALUE_AT_RISK).sum())
    return (
        '<section id="contact"><h2>Valuable customers at risk: contact first</h2>'
        f"<p>The {min(c.top, total)} of {total} high-value customers at risk with the "
        f"largest value at risk. &ldquo;Since last purchase&rdquo; is in {c.unit.name}.</p>"
        f"{body}</section>"
    )


def _display(rows: pd.DataFrame, c: _Context) -> pd.DataFrame:
    out = pd.DataFrame(index=rows.index)
    out["repeat purchases"] = rows["frequency"].map("{:.0f}".format)
    out["since last purchase"] = (rows["T"] - rows["recency"]).map("{:.1f}".format)
    out["P(alive)"] = rows["p_alive"].map("{:.0%}".format)
    out["expected purchases"] = rows["expected_purchases"].map("{:.2f}".format)
    if c.has_clv:
        out["expected spend"] = rows["expected_spend"].map("{:,.2f}".format)
        out["CLV"] = rows["clv"].map("{:,.2f}".format)
        if "clv_lower" in rows.columns:
            out[f"CLV {c.level:.0%} interval"] = [
                f"{low:,.2f} \u2013 {high:,.2f}"
                for low, high in zip(rows["clv_lower"], rows["clv_upper"])
            ]
    out["value at risk"] = rows["value_at_risk"].map("{:,.2f}".format)
    return out


def _segments(c: _Context) -> str:
    summary = segment_summary(c.customers)
    shown = pd.DataFrame(index=summary.index)
    shown["customers"] = summary["customers"].map("{:,}".format)
    shown["share"] = summary["share"].map("{:.1%}".format)
    shown["mean P(alive)"] = summary["mean_p_alive"].map(_percent)
    shown["expected purchases"] = summary["expected_purchases"].map("{:,.0f}".format)
    if "clv" in summary.columns:
        shown["total CLV"] = summary["clv"].map("{:,.0f}".format)
        shown["share of CLV"] = summary["clv_share"].map(_percent)
    image = _image(_segment_figure(c), "Customers per segment and P(alive) against value")
    return (
        '<section id="segments"><h2>Customer segments</h2>'
        f"{_table(shown, index=True)}{image}</section>"
    )


def _models(c: _Context) -> str:
    comparison = c.comparison
    shown = pd.DataFrame(index=comparison.index)
    shown["log-likelihood"] = comparison["log_likelihood"].map("{:,.1f}".format)
    shown["BIC"] = comparison["bic"].map("{:,.1f}".format)
    shown["chi-square (p-value)"] = [
        f"{s:.1f} ({p:.3f})"
        for s, p in zip(comparison["chi_square"], comparison["chi_square_p_value"])
    ]
    shown["holdout MAE"] = comparison["holdout_mae"].map("{:.3f}".format)
    shown["holdout RMSE"] = comparison["holdout_rmse"].map("{:.3f}".format)
    shown["total holdout error"] = comparison["holdout_relative_error"].map("{:+.1%}".format)
    model = c.fitted[c.chosen]
    holdout = c.calibration
    actual = float(holdout["frequency_holdout"].sum())
    predicted = float(
        np.sum(
            model.conditional_expected_number_of_purchases_up_to_time(
                holdout["duration_holdout"],
                holdout["frequency_cal"],
                holdout["recency_cal"],
                holdout["T_cal"],
            )
        )
    )
    test = period_transactions_chi_square(model)
    images = [
        _image(_tracking_figure(c), "Tracking repeat transactions, cumulative and per period"),
        _image(_fit_figure(c), "Calibration fit and holdout predictions"),
    ]
    unit = c.unit.name
    heading = "Model check: predicting a period the models had not seen"
    return f"""<section id="models"><h2>{heading}</h2>
<p>The models were fitted on the <b>calibration period</b>
({c.first:%Y-%m-%d} to {c.cal_end:%Y-%m-%d}) and asked to predict each customer's purchases
in the <b>holdout period</b> ({c.holdout_start:%Y-%m-%d} to {c.obs_end:%Y-%m-%d}).
The customer table uses
<b>{_e(c.chosen)}</b> ({_e(c.why)}), refitted on the whole log. {_e(c.chosen)} predicted
{predicted:,.0f} repeat purchases in the holdout by the customers of the calibration period;
they made {actual:,.0f} ({_relative(predicted, actual)}).</p>
{_table(shown, index=True)}
<p>MAE/RMSE: mean absolute / root mean square error of each customer's predicted holdout
purchases (smaller is better). Chi-square: how well the model reproduces how many customers
made 0, 1, 2, ... repeat purchases in the calibration period
({_e(c.chosen)}: p = {test.p_value:.3f}; above 0.05 means no evidence of a misfit).
Time unit: {unit}.</p>
{"".join(images)}</section>"""


def _details(c: _Context) -> str:
    blocks = []
    for name, model in c.fitted.items():
        blocks.append(f"<h3>{_e(name)}, calibration period</h3>{_summary_table(model)}")
    blocks.append(
        f"<h3>{_e(c.chosen)}, whole log (behind the customer table)</h3>{_summary_table(c.final)}"
    )
    if c.spend is not None:
        blocks.append(
            "<h3>Gamma-Gamma spend model, whole log</h3>"
            f"{_summary_table(c.spend)}<p>Mean spend per transaction of a new customer: "
            f"{c.spend.expected_average_profit():,.2f}. The model assumes that how much a "
            "customer spends per purchase does not depend on how often they buy: the "
            "correlation of the two among repeat customers is "
            f"{c.correlation:.2f} (near 0 supports the assumption).</p>"
        )
    n_cal = len(c.calibration)
    return f"""<section id="details"><h2>Details</h2>
<p>Log: {len(c.log):,} transactions of {len(c.customers):,} customers from
{c.first:%Y-%m-%d} to {c.obs_end:%Y-%m-%d}; {n_cal:,} customers bought in the calibration
period. Time unit: {c.unit.name}. CLV horizon {_months(c.time)}, monthly discount rate
{c.discount_rate:.1%}, intervals at {c.level:.0%} from the parameters' estimated
uncertainty.</p>
{"".join(blocks)}</section>"""


def _summary_table(model: Any) -> str:
    summary = model.summary.copy()
    return _table(summary.apply(lambda column: column.map("{:.4g}".format)), index=True)


def _table(frame: pd.DataFrame, index: bool) -> str:
    if index and frame.index.name is not None:  # one header row, the index name in it
        frame, index = frame.reset_index(), False
    return str(frame.to_html(classes="data", border=0, index=index, escape=True))


# -- figures ---------------------------------------------------------------------------------


def _figure_class() -> type[Figure]:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError('the report needs matplotlib: pip install "retentionkit[plot]"') from exc
    return Figure


def _image(figure: Figure, alt: str) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{data}">'


def _segment_figure(c: _Context) -> Figure:
    figure = _figure_class()(figsize=(11, 4.2))
    left, right = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.3]})
    counts = c.customers["segment"].value_counts().reindex(list(SEGMENTS), fill_value=0)
    colours = [_SEGMENT_COLOURS[s] for s in SEGMENTS]
    left.barh(list(SEGMENTS)[::-1], counts.to_numpy()[::-1], color=colours[::-1])
    for y, count in enumerate(counts.to_numpy()[::-1]):
        left.annotate(f" {count:,}", (count, y), va="center")
    left.set_xlabel("Customers")
    left.set_title("Customers per segment")
    left.margins(x=0.18)
    value_column = "clv" if c.has_clv else "expected_purchases"
    for segment in SEGMENTS:
        rows = c.customers[c.customers["segment"] == segment]
        right.scatter(
            rows["p_alive"],
            rows[value_column],
            s=9,
            alpha=0.6,
            color=_SEGMENT_COLOURS[segment],
            label=segment,
        )
    t = c.thresholds
    right.axvline(t.lost_threshold, color="#444", linestyle=":", linewidth=1)
    right.axvline(t.alive_threshold, color="#444", linestyle=":", linewidth=1)
    right.axhline(t.value_cutoff(c.customers[value_column]), color="#444", linestyle=":")
    right.set_yscale("symlog", linthresh=1.0)
    right.set_ylim(bottom=0.0)
    right.set_xlabel("P(alive)")
    right.set_ylabel("CLV" if c.has_clv else "expected purchases")
    right.set_title(f"Value over the next {_months(c.time)} against P(alive)")
    right.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    return figure


def _tracking_figure(c: _Context) -> Figure:
    figure = _figure_class()(figsize=(11, 4))
    left, right = figure.subplots(1, 2)
    period = c.unit.period
    start = c.first.to_period(period).ordinal
    t = int(c.obs_end.to_period(period).ordinal - start + 1)
    t_cal = float(c.cal_end.to_period(period).ordinal - start + 1)
    args = (
        c.fitted[c.chosen],
        c.log,
        c.datetime_col,
        c.customer_id_col,
        t,
        t_cal,
    )
    kwargs: dict[str, Any] = {"freq": period, "freq_multiplier": c.unit.multiplier}
    plot_cumulative_transactions(*args, ax=left, **kwargs)
    plot_incremental_transactions(*args, ax=right, **kwargs)
    for ax in (left, right):
        ax.set_xlabel(f"{c.unit.name.capitalize()} since {c.first:%Y-%m-%d}")
        ax.annotate(
            "calibration | holdout",
            (t_cal / c.unit.multiplier, 1.0),
            xycoords=("data", "axes fraction"),
            ha="center",
            va="bottom",
            fontsize=8,
            color="r",
        )
        ax.set_title(ax.get_title() + f" ({c.chosen})", pad=14)
    figure.tight_layout()
    return figure


def _fit_figure(c: _Context) -> Figure:
    figure = _figure_class()(figsize=(11, 4))
    left, right = figure.subplots(1, 2)
    model = c.fitted[c.chosen]
    plot_period_transactions(model, ax=left)
    test = period_transactions_chi_square(model)
    left.set_title(
        f"Repeat purchases in the calibration period ({c.chosen})\n"
        f"chi-square {test.statistic:.1f}, {test.dof} dof, p = {test.p_value:.3f}",
        fontsize=10,
    )
    plot_calibration_purchases_vs_holdout_purchases(model, c.calibration, ax=right)
    right.set_title(f"Holdout purchases by calibration purchases ({c.chosen})", fontsize=10)
    figure.tight_layout()
    return figure


# -- text helpers ----------------------------------------------------------------------------


def _e(text: str) -> str:
    return html.escape(str(text), quote=True)


def _months(time: float) -> str:
    return f"{time:g} month" + ("" if time == 1 else "s")


def _percent(value: float) -> str:
    return "\u2013" if not math.isfinite(value) else f"{value:.0%}"


def _relative(predicted: float, actual: float) -> str:
    if actual <= 0:
        return "no actual purchases to compare with"
    error = (predicted - actual) / actual
    return f"the prediction was {abs(error):.1%} too {'high' if error > 0 else 'low'}"
