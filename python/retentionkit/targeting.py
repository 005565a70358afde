"""Per-customer value, risk and segments, and who to contact first.

:func:`customer_table` puts one row per customer together from a fitted
transaction model (BG/NBD, MBG/NBD or Pareto/NBD) and a fitted Gamma-Gamma spend
model: the probability of being alive, the expected purchases and spend, the
customer lifetime value (CLV) with an interval over the parameter uncertainty, a
score of the value at risk and a segment. :func:`who_to_contact` and
:func:`top_at_risk` rank that table; :func:`segment_summary` counts the segments.

The CLV is that of :meth:`GammaGammaFitter.customer_lifetime_value` (discrete
monthly discounting over ``time`` months, as in ``lifetimes``); the spend is the
conditional expectation of Fader & Hardie (2013), eq. (5).

A transaction model with covariates scores each customer with their own
covariates: by default those of the data it was fitted on (looked up by customer
label), else the ``covariates`` given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import _covariate_inputs as cov
from ._registry import require
from ._validation import plain
from .fitters._discounting import periods_per_month
from .fitters.gamma_gamma_fitter import GammaGammaFitter
from .fitters.transaction_fitter import TransactionFitter

__all__ = [
    "SEGMENTS",
    "SegmentThresholds",
    "customer_table",
    "segment_summary",
    "top_at_risk",
    "who_to_contact",
]

HIGH_VALUE_ALIVE = "high value, likely alive"
HIGH_VALUE_AT_RISK = "high value, at risk"
LOW_VALUE = "low value"
PROBABLY_LOST = "probably lost"

#: The segments, in the order of :func:`who_to_contact`'s priority.
SEGMENTS: tuple[str, ...] = (HIGH_VALUE_AT_RISK, HIGH_VALUE_ALIVE, LOW_VALUE, PROBABLY_LOST)


@dataclass(frozen=True)
class SegmentThresholds:
    """The thresholds that put each customer in one segment.

    With ``value`` a customer's CLV (or, without a spend model, their expected
    purchases over the horizon) and ``p`` their probability of being alive,
    the segments are tried in this order:

    1. ``"probably lost"``: ``p < lost_threshold``;
    2. ``"high value, likely alive"``: ``value >= cutoff`` and ``p >= alive_threshold``;
    3. ``"high value, at risk"``: ``value >= cutoff`` (so
       ``lost_threshold <= p < alive_threshold``);
    4. ``"low value"``: everyone else.

    The ``cutoff`` is ``high_value_min`` when given, else the
    ``high_value_quantile`` quantile of ``value`` over the table's customers
    (0.8: the top 20% are high value); a value of 0 is never high.

    Attributes
    ----------
    high_value_quantile : float, default 0.8
        Quantile of the value above which a customer is high value, in (0, 1).
    alive_threshold : float, default 0.5
        P(alive) from which a customer counts as likely alive.
    lost_threshold : float, default 0.1
        P(alive) below which a customer counts as probably lost; at most
        ``alive_threshold``.
    high_value_min : float, optional
        A fixed value cutoff (e.g. in dollars of CLV) instead of the quantile.
    """

    high_value_quantile: float = 0.8
    alive_threshold: float = 0.5
    lost_threshold: float = 0.1
    high_value_min: float | None = None

    def __post_init__(self) -> None:
        if not 0.0 < self.high_value_quantile < 1.0:
            raise ValueError(
                f"high_value_quantile must be in (0, 1), got {plain(self.high_value_quantile)}"
            )
        if not 0.0 <= self.lost_threshold <= self.alive_threshold <= 1.0:
            raise ValueError(
                "need 0 <= lost_threshold <= alive_threshold <= 1, got "
                f"lost_threshold={plain(self.lost_threshold)}, "
                f"alive_threshold={plain(self.alive_threshold)}"
            )
        if self.high_value_min is not None and not math.isfinite(self.high_value_min):
            raise ValueError(f"high_value_min must be finite, got {plain(self.high_value_min)}")

    def value_cutoff(self, value: pd.Series) -> float:
        """The value from which a customer is high value (see the class docstring)."""
        if self.high_value_min is not None:
            return float(self.high_value_min)
        return float(value.quantile(self.high_value_quantile))

    def segment(self, value: pd.Series, p_alive: pd.Series) -> pd.Series:
        """Each customer's segment, an ordered categorical in :data:`SEGMENTS` order."""
        cutoff = self.value_cutoff(value)
        high = (value >= cutoff) & (value > 0)
        labels = np.select(
            [
                p_alive < self.lost_threshold,
                high & (p_alive >= self.alive_threshold),
                high,
            ],
            [PROBABLY_LOST, HIGH_VALUE_ALIVE, HIGH_VALUE_AT_RISK],
            default=LOW_VALUE,
        )
        return pd.Series(
            pd.Categorical(labels, categories=list(SEGMENTS), ordered=True),
            index=value.index,
            name="segment",
        )


def customer_table(
    transaction_model: TransactionFitter,
    spend_model: GammaGammaFitter | None,
    summary: pd.DataFrame,
    horizon: float | None = None,
    time: float = 12,
    discount_rate: float = 0.01,
    freq: str = "W",
    interval: bool = True,
    level: float = 0.90,
    seed: int | None = 0,
    thresholds: SegmentThresholds | None = None,
    n_draws: int = 200,
    covariates: Any = None,
    spend_covariates: Any = None,
) -> pd.DataFrame:
    r"""One row per customer: P(alive), expected purchases and spend, CLV and segment.

    Parameters
    ----------
    transaction_model : transaction fitter
        A BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter,
        GompertzGammaNBDFitter or MBGCNBDkFitter.
        Fitted on the customers' histories (its time unit is ``freq``).
    spend_model : GammaGammaFitter or None
        Fitted on the repeat customers' mean spend. ``None`` leaves out the
        spend and CLV columns; the value is then the expected purchases.
    summary : pandas.DataFrame
        One row per customer with ``frequency``, ``recency``, ``T`` and, with a
        spend model, ``monetary_value`` (mean value of the repeat purchases;
        ignored when ``frequency == 0``), as
        :func:`~retentionkit.utils.summary_data_from_transaction_data` returns.
    horizon : float, optional
        Horizon of ``expected_purchases`` in the time unit of the data; default
        the CLV horizon, ``time`` months (``ceil(time)`` times 30 days, 4.345
        weeks, 1 month or 720 hours, as the CLV counts them).
    time : float, default 12
        CLV horizon in months.
    discount_rate : float, default 0.01
        Monthly discount rate of the CLV.
    freq : {"D", "W", "M", "H"}, default "W"
        Time unit of ``recency``, ``T`` and the transaction model.
    interval : bool, default True
        Add ``clv_lower`` and ``clv_upper`` (with a spend model), from
        :meth:`GammaGammaFitter.customer_lifetime_value_interval`: quantiles of
        the CLV over ``n_draws`` draws of both models' parameters from their
        asymptotic distributions. They describe how well the CLV is known, not
        how much the customer will actually spend.
    level : float, default 0.90
        Coverage of the interval.
    seed : int, optional
        Seed of the parameter draws (the same seed gives the same interval).
    thresholds : SegmentThresholds, optional
        The segment thresholds; default ``SegmentThresholds()``.
    n_draws : int, default 200
        Number of parameter draws of the interval.
    covariates : pandas.DataFrame or 2-D array, optional
        For a transaction model with covariates: the customers' covariates (every
        column the model uses), a DataFrame aligned by label on ``summary`` or an
        array in its row order; by default those of the model's fitted data, by
        customer label.
    spend_covariates : pandas.DataFrame or 2-D array, optional
        For a spend model with covariates: the customers' covariates of the spend
        model, as ``covariates`` (a DataFrame aligned by label on ``summary``, or
        an array in its row order); by default those of the spend model's
        fitted data, by customer label, which has only the repeat customers:
        with customers without repeat purchases in ``summary``, pass them.
        ``expected_spend`` and the CLV (and its interval) then use each
        customer's own spend parameters.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``summary``, with the columns ``frequency``, ``recency``,
        ``T``, [``monetary_value``], ``p_alive``, ``expected_purchases``
        (:math:`E[Y(\text{horizon}) \mid x, t_x, T]`), and with a spend model
        ``expected_spend`` (:math:`E[M \mid x, m_x]`: for ``frequency == 0`` the
        population mean :math:`pv/(q-1)`), ``clv`` [``clv_lower``,
        ``clv_upper``]; then ``value_at_risk`` (the value, ``clv`` or
        ``expected_purchases``, times :math:`1 - P(\text{alive})`: a score,
        large for customers both valuable and in doubt, that ranks them; not an
        amount that will be lost or that contacting them would save) and
        ``segment`` (an ordered categorical; see :class:`SegmentThresholds`).

    Raises
    ------
    ValueError
        For missing columns, an unknown ``freq``, customers with repeat
        purchases but a mean spend that is not positive (the Gamma-Gamma model
        needs positive values), or when the spend model has ``q <= 1``.

    Examples
    --------
    >>> from retentionkit import BetaGeoFitter, GammaGammaFitter
    >>> from retentionkit.datasets import load_cdnow_summary_data_with_monetary_value
    >>> from retentionkit.targeting import customer_table
    >>> data = load_cdnow_summary_data_with_monetary_value()
    >>> bgf = BetaGeoFitter().fit(data)
    >>> repeat = data[data["frequency"] > 0]
    >>> ggf = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    >>> table = customer_table(bgf, ggf, data, freq="W", interval=False)
    >>> table["segment"].value_counts(sort=False)
    segment
    high value, at risk           69
    high value, likely alive     401
    low value                   1850
    probably lost                 37
    Name: count, dtype: int64
    """
    require(transaction_model, "transaction", "regular", needs="transaction_model must be a fitted")
    per_month = periods_per_month(freq)
    thresholds = SegmentThresholds() if thresholds is None else thresholds
    needed = ["frequency", "recency", "T"]
    if spend_model is not None:
        needed.append("monetary_value")
    missing = [c for c in needed if c not in summary.columns]
    if missing:
        raise ValueError(
            f"summary lacks the column(s) {', '.join(missing)} (it has: "
            f"{', '.join(map(str, summary.columns))})"
        )
    if horizon is None:
        horizon = math.ceil(time) * per_month
    if not horizon >= 0:
        raise ValueError(f"horizon must be non-negative, got {plain(horizon)}")

    traits = cov.for_customers(transaction_model, covariates, summary.index, "summary")
    spend_traits = None
    if spend_model is not None:
        spend_traits = cov.for_customers(
            spend_model, spend_covariates, summary.index, "summary", keyword="spend_covariates"
        )
    elif spend_covariates is not None:
        raise ValueError("spend_covariates given without a spend model")
    frequency = summary["frequency"].astype(np.float64)
    recency = summary["recency"].astype(np.float64)
    T = summary["T"].astype(np.float64)
    table = pd.DataFrame({"frequency": frequency, "recency": recency, "T": T})
    # With covariates, the histories go in as arrays: the covariates are in their order.
    history = (frequency, recency, T)
    if traits is not None or spend_traits is not None:
        history = tuple(c.to_numpy() for c in history)  # type: ignore[assignment]
    z = cov.kwargs(traits)
    table["p_alive"] = _series(
        transaction_model.conditional_probability_alive(*history, **z), summary.index
    )
    table["expected_purchases"] = _series(
        transaction_model.conditional_expected_number_of_purchases_up_to_time(
            horizon, *history, **z
        ),
        summary.index,
    )
    if spend_model is None:
        value = table["expected_purchases"]
    else:
        money = summary["monetary_value"].astype(np.float64)
        repeat = frequency > 0
        bad = repeat & ~(money > 0)
        if bad.any():
            first = summary.index[np.flatnonzero(bad.to_numpy())[0]]
            raise ValueError(
                f"{int(bad.sum())} customer(s) with repeat purchases have a mean spend that is "
                f"not positive (first: {plain(first)}); the Gamma-Gamma spend model needs positive "
                "values: remove or correct them"
            )
        # Customers without repeat purchases get the population mean: their mean
        # spend is unused, so any positive placeholder keeps the core's checks happy.
        money = money.where(repeat, 1.0)
        table.insert(3, "monetary_value", summary["monetary_value"].astype(np.float64))
        if traits is not None or spend_traits is not None:  # in the covariates' order
            money = money.to_numpy()  # type: ignore[assignment]
        spend_z = {} if spend_traits is None else {"spend_covariates": spend_traits}
        table["expected_spend"] = _series(
            spend_model.conditional_expected_average_profit(history[0], money, **spend_z),
            summary.index,
        )
        clv_args = (transaction_model, *history, money)
        clv_options: dict[str, Any] = {
            "time": time,
            "discount_rate": discount_rate,
            "freq": freq,
            **z,
            **spend_z,
        }
        if interval:
            bands = spend_model.customer_lifetime_value_interval(
                *clv_args, level=level, n_draws=n_draws, seed=seed, **clv_options
            )
            table["clv"] = bands["estimate"].to_numpy()
            table["clv_lower"] = bands["lower"].to_numpy()
            table["clv_upper"] = bands["upper"].to_numpy()
        else:
            table["clv"] = _series(
                spend_model.customer_lifetime_value(*clv_args, **clv_options), summary.index
            )
        value = table["clv"]
    table["value_at_risk"] = value * (1.0 - table["p_alive"])
    table["segment"] = thresholds.segment(value, table["p_alive"])
    return table


def who_to_contact(table: pd.DataFrame, n: int = 100) -> pd.DataFrame:
    """The ``n`` customers to contact first: high value at risk, then the rest.

    Customers of the segment ``"high value, at risk"`` come first, then all
    others; within each group, by ``value_at_risk`` (value times
    :math:`1 - P(\\text{alive})`), largest first.

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`customer_table`.
    n : int, default 100
        Number of customers returned (fewer if the table is smaller).

    Returns
    -------
    pandas.DataFrame
        The first ``n`` rows of ``table`` in that order.
    """
    _check_table(table, n)
    order = pd.DataFrame(
        {
            "not_at_risk": (table["segment"] != HIGH_VALUE_AT_RISK).to_numpy(),
            "score": -table["value_at_risk"].to_numpy(dtype=np.float64),
            "position": np.arange(len(table)),
        }
    ).sort_values(["not_at_risk", "score", "position"], kind="mergesort")
    return table.iloc[order["position"].to_numpy()[:n]]


def top_at_risk(table: pd.DataFrame, n: int = 20) -> pd.DataFrame:
    """The ``n`` high-value customers at risk with the largest ``value_at_risk``.

    Only the segment ``"high value, at risk"``, so possibly fewer than ``n`` rows.

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`customer_table`.
    n : int, default 20
        Largest number of customers returned.

    Returns
    -------
    pandas.DataFrame
        Rows of ``table``, by ``value_at_risk``, largest first (ties in table order).
    """
    _check_table(table, n)
    at_risk = table[table["segment"] == HIGH_VALUE_AT_RISK]
    return at_risk.sort_values("value_at_risk", ascending=False, kind="mergesort").head(n)


def segment_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Customers, mean P(alive) and total value per segment of a :func:`customer_table`.

    Returns
    -------
    pandas.DataFrame
        Indexed by the segments (all four, in :data:`SEGMENTS` order) with
        columns ``customers``, ``share`` (of all customers), ``mean_p_alive``,
        ``expected_purchases`` (total) and, when the table has them, ``clv``
        (total) and ``clv_share`` (of the total CLV).
    """
    _check_table(table, 0)
    segment = pd.Series(
        pd.Categorical(table["segment"], categories=list(SEGMENTS), ordered=True),
        index=table.index,
    )
    grouped = table.groupby(segment, observed=False)
    summary = pd.DataFrame(
        {
            "customers": grouped.size().astype(np.int64),
            "mean_p_alive": grouped["p_alive"].mean(),
            "expected_purchases": grouped["expected_purchases"].sum(),
        }
    )
    summary.insert(1, "share", summary["customers"] / max(len(table), 1))
    if "clv" in table.columns:
        summary["clv"] = grouped["clv"].sum()
        total = float(table["clv"].sum())
        summary["clv_share"] = summary["clv"] / total if total > 0 else math.nan
    summary.index = pd.Index(list(SEGMENTS), name="segment")
    return summary


def _check_table(table: pd.DataFrame, n: int) -> None:
    missing = [c for c in ("p_alive", "value_at_risk", "segment") if c not in table.columns]
    if missing:
        raise ValueError(f"not a customer_table: it lacks the column(s) {', '.join(missing)}")
    if not (isinstance(n, (int, np.integer)) and n >= 0):
        raise ValueError(f"n must be a non-negative integer, got {plain(n)}")


def _series(values: object, index: pd.Index) -> pd.Series:
    """A prediction as a Series on ``index`` (the inputs were Series on it)."""
    return pd.Series(np.asarray(values, dtype=np.float64), index=index)


# polars/pyarrow arguments in, results in their library (see retentionkit._frames).
from ._frames import accept_frames_in_methods, accept_frames_in_module  # noqa: E402

accept_frames_in_module(globals(), __all__)
accept_frames_in_methods(SegmentThresholds)
