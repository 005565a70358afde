"""Diagnostic plots of fitted models, with the names and semantics of ``lifetimes.plotting``.

matplotlib is an optional dependency (``pip install "retentionkit[plot]"``), imported
only when a function draws. Every function draws on ``ax`` when one is given (a new
figure otherwise) and returns the Axes; the numbers drawn are the model's own
predictions, computed in the Rust core, so a test can read them back from the Axes.

Differences from ``lifetimes``:

* :func:`plot_period_transactions` draws the *expected* numbers of customers (from
  :math:`P(X(T_i) = n)`), not one simulated sample, and labels the last bin ``k+``
  (Fader, Hardie & Lee 2005, Figure 3); the numbers and the chi-square test are in
  :func:`~retentionkit.model_comparison.period_transactions_table` and
  :func:`~retentionkit.model_comparison.period_transactions_chi_square`.
* :func:`plot_cumulative_transactions` and :func:`plot_incremental_transactions`
  count ``t`` and ``t_cal`` in periods of ``freq`` and put the points at the end of
  each model period (x = 1, 2, ... model periods), without ``lifetimes``' one-period
  shift between the actual and the predicted curves.
* The frequency/recency and P(alive) matrices also accept the BG/BB.
* Models with covariates: the plots of known customers (period transactions,
  holdout purchases, cumulative and incremental transactions) use each
  customer's covariates, by default the fitted data's (looked up by customer
  label), else those passed as ``covariates=``; the plots of one kind of customer
  (the matrices, a customer's P(alive) history, the heterogeneity densities) need
  ``covariates=`` with one row of traits (a dict, a Series or a one-row
  DataFrame); :func:`plot_expected_repeat_purchases` draws the mean over the
  fitted customers unless given one row.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import _covariate_inputs as cov
from ._covariates import prediction_matrix
from ._registry import require
from ._validation import FloatArray, plain
from .fitters.beta_geo_beta_binom_fitter import BetaGeoBetaBinomFitter
from .fitters.contractual import _ContractualFitter
from .fitters.transaction_fitter import TransactionFitter
from .model_comparison import (
    PurchaseModel,
    chi_square,
    period_transactions_chi_square,
    period_transactions_table,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.image import AxesImage

__all__ = [
    "alive_path",
    "chi_square",
    "expected_cumulative_transactions",
    "frequency_recency_matrix",
    "period_transactions_chi_square",
    "period_transactions_table",
    "plot_calibration_purchases_vs_holdout_purchases",
    "plot_cohort_retention",
    "plot_cumulative_transactions",
    "plot_dropout_rate_heterogeneity",
    "plot_expected_repeat_purchases",
    "plot_frequency_recency_matrix",
    "plot_history_alive",
    "plot_incremental_transactions",
    "plot_interpurchase_regularity",
    "plot_period_transactions",
    "plot_probability_alive_matrix",
    "plot_retention",
    "plot_transaction_rate_heterogeneity",
    "probability_alive_matrix",
]


def _pyplot() -> Any:
    """``matplotlib.pyplot``, or an ImportError that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            'retentionkit.plotting needs matplotlib: pip install "retentionkit[plot]"'
        ) from exc
    return plt


def _axes(ax: Axes | None) -> Axes:
    """``ax``, or the Axes of a new figure."""
    if ax is not None:
        return ax
    _, new_ax = _pyplot().subplots()
    axes: Axes = new_ax
    return axes


def _purchase_model(model: Any) -> PurchaseModel:
    require(model, "transaction", "discrete", "regular", needs="this plot needs a")
    return model


def _as_array(values: Any) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


# -- calibration fit ---------------------------------------------------------------------


def plot_period_transactions(
    model: PurchaseModel,
    max_frequency: int = 7,
    title: str = "Frequency of Repeat Transactions",
    xlabel: str = "Number of Calibration Period Transactions",
    ylabel: str = "Customers",
    ax: Axes | None = None,
    covariates: Any = None,
    **kwargs: Any,
) -> Axes:
    """Bar chart of actual and expected customers by number of repeat purchases.

    Bins 0, 1, ..., ``max_frequency - 1`` and ``max_frequency+`` of the calibration
    data; the expected counts sum :math:`P(X(T_i) = n)` over the customers (see
    :func:`~retentionkit.model_comparison.period_transactions_table`). The chi-square
    statistic of the two columns is
    :func:`~retentionkit.model_comparison.period_transactions_chi_square`.

    Parameters
    ----------
    model : BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter or BetaGeoBetaBinomFitter
        A fitted model with its calibration data.
    max_frequency : int, default 7
        First frequency pooled into the last bin.
    title, xlabel, ylabel : str, optional
        Labels of the axes (defaults as in ``lifetimes``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    covariates : pandas.DataFrame or 2-D array, optional
        For a model with covariates, the fitted customers' covariates; default
        those of the fitted data (see
        :func:`~retentionkit.model_comparison.period_transactions_table`).
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.bar` (both series).

    Returns
    -------
    matplotlib.axes.Axes
        With two bar containers, ``Actual`` and ``Model``.
    """
    table = period_transactions_table(_purchase_model(model), max_frequency, covariates)
    ax = _axes(ax)
    positions = np.arange(len(table))
    width = 0.4
    ax.bar(positions - width / 2, table["actual"], width, label="Actual", **kwargs)
    ax.bar(positions + width / 2, table["expected"], width, label="Model", **kwargs)
    ax.set_xticks(positions)
    ax.set_xticklabels(list(table.index))
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax


def _holdout_summary(
    model: PurchaseModel,
    calibration_holdout_matrix: pd.DataFrame,
    kind: str,
    n: int,
    covariates: Any = None,
) -> pd.DataFrame:
    """Mean actual and predicted holdout purchases per value of ``kind`` (first ``n``)."""
    needed = ["frequency_cal", "recency_cal", "T_cal", "frequency_holdout", "duration_holdout"]
    missing = [c for c in needed if c not in calibration_holdout_matrix.columns]
    if missing:
        raise ValueError(f"calibration_holdout_matrix lacks the column(s) {missing}")
    summary = calibration_holdout_matrix[needed].astype(np.float64)
    traits = cov.for_customers(
        model, covariates, calibration_holdout_matrix.index, "calibration_holdout_matrix"
    )
    summary["model_predictions"] = _as_array(
        model.conditional_expected_number_of_purchases_up_to_time(
            summary["duration_holdout"].to_numpy(),
            summary["frequency_cal"].to_numpy(),
            summary["recency_cal"].to_numpy(),
            summary["T_cal"].to_numpy(),
            **cov.kwargs(traits),
        )
    )
    if kind == "time_since_last_purchase":
        summary[kind] = summary["T_cal"] - summary["recency_cal"]
    elif kind not in ("frequency_cal", "recency_cal", "T_cal"):
        raise ValueError(
            "kind must be frequency_cal, recency_cal, T_cal or time_since_last_purchase, "
            f"got {plain(kind)}"
        )
    means = summary.groupby(kind)[["frequency_holdout", "model_predictions"]].mean()
    return means.iloc[:n]


def plot_calibration_purchases_vs_holdout_purchases(
    model: PurchaseModel,
    calibration_holdout_matrix: pd.DataFrame,
    kind: str = "frequency_cal",
    n: int = 7,
    ax: Axes | None = None,
    covariates: Any = None,
    **kwargs: Any,
) -> Axes:
    r"""Mean holdout purchases by calibration frequency: actual against predicted.

    As in ``lifetimes``: the customers are grouped by ``kind`` (by default their
    calibration frequency), and for the first ``n`` groups the mean of
    ``frequency_holdout`` is drawn beside the mean of
    :math:`E[Y(t) \mid x, t_x, T]` with :math:`t` = ``duration_holdout`` (each
    customer's own; ``lifetimes`` takes the first row's for everyone).

    Parameters
    ----------
    model : BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter or BetaGeoBetaBinomFitter
        A fitted model.
    calibration_holdout_matrix : pandas.DataFrame
        Columns ``frequency_cal``, ``recency_cal``, ``T_cal``, ``frequency_holdout``
        and ``duration_holdout``, as ``lifetimes.utils.calibration_and_holdout_data``
        returns.
    kind : str, default "frequency_cal"
        Grouping: ``frequency_cal``, ``recency_cal``, ``T_cal`` or
        ``time_since_last_purchase`` (``T_cal - recency_cal``).
    n : int, default 7
        Number of groups drawn (the smallest values of ``kind``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    covariates : pandas.DataFrame or 2-D array, optional
        For a model with covariates, the customers' covariates: a DataFrame
        aligned by label on ``calibration_holdout_matrix``, or an array in its row
        order; default the fitted data's, by customer label.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot` (both lines).

    Returns
    -------
    matplotlib.axes.Axes
        With two lines, ``frequency_holdout`` and ``model_predictions``.
    """
    means = _holdout_summary(
        _purchase_model(model), calibration_holdout_matrix, kind, n, covariates
    )
    ax = _axes(ax)
    x = means.index.to_numpy(dtype=np.float64)
    ax.plot(x, means["frequency_holdout"], marker="o", label="frequency_holdout", **kwargs)
    ax.plot(x, means["model_predictions"], marker="o", label="model_predictions", **kwargs)
    labels = {
        "frequency_cal": "Purchases in calibration period",
        "recency_cal": "Age of customer at last purchase",
        "T_cal": "Age of customer at the end of calibration period",
        "time_since_last_purchase": "Time since user made last purchase",
    }
    ax.set_title("Actual Purchases in Holdout Period vs Predicted Purchases")
    ax.set_xlabel(labels[kind])
    ax.set_ylabel("Average of Purchases in Holdout Period")
    ax.legend()
    return ax


# -- frequency/recency matrices ----------------------------------------------------------


def _grid_limits(
    model: PurchaseModel, max_frequency: int | None, max_recency: int | None
) -> tuple[int, int]:
    age_column = "T" if isinstance(model, TransactionFitter) else "n_periods"
    if max_frequency is None or max_recency is None:
        if model.data is None:
            raise ValueError("give max_frequency and max_recency, or fit the model first")
        if max_frequency is None:
            max_frequency = int(model.data["frequency"].max())
        if max_recency is None:
            max_recency = int(model.data[age_column].max())
    if max_frequency < 0 or max_recency < 0:
        raise ValueError("max_frequency and max_recency must be non-negative")
    if isinstance(model, BetaGeoBetaBinomFitter) and max_recency < 1:
        raise ValueError("the BG/BB needs max_recency (the number of opportunities) >= 1")
    return int(max_frequency), int(max_recency)


def _history_grid(
    model: PurchaseModel, max_frequency: int, max_recency: int, predict: Any
) -> FloatArray:
    """``predict(x, t_x, T)`` on the grid rows = recency 0..R, columns = frequency 0..F.

    Every customer has ``T = R``. Column 0 (no repeat purchase, so recency 0) repeats
    the value of the history (0, 0, R) in every row, as ``conditional_probability_alive
    _matrix`` does; for the BG/BB the impossible cells with more transactions than
    opportunities (:math:`x > t_x`) are NaN.
    """
    age = float(max_recency)  # 0 is valid: customers first seen at the end
    matrix = np.full((max_recency + 1, max_frequency + 1), np.nan)
    matrix[:, 0] = _as_array(predict(np.zeros(1), np.zeros(1), np.full(1, age)))[0]
    if max_frequency > 0:
        rec, freq = np.meshgrid(
            np.arange(max_recency + 1, dtype=np.float64),
            np.arange(1, max_frequency + 1, dtype=np.float64),
            indexing="ij",
        )
        valid = np.ones(freq.shape, dtype=bool)
        if isinstance(model, BetaGeoBetaBinomFitter):
            valid = freq <= rec
        values = np.full(freq.shape, np.nan)
        if valid.any():
            values[valid] = _as_array(
                predict(freq[valid], rec[valid], np.full(int(valid.sum()), age))
            )
        matrix[:, 1:] = values
    return matrix


def frequency_recency_matrix(
    model: PurchaseModel,
    T: float = 1,
    max_frequency: int | None = None,
    max_recency: int | None = None,
    covariates: Any = None,
) -> FloatArray:
    r"""Expected purchases in the next ``T`` periods on a grid of histories.

    Entry ``[t_x, x]`` is :math:`E[Y(T) \mid x, t_x, R]` with :math:`R` =
    ``max_recency`` the age of every customer (the number of opportunities for the
    BG/BB, with ``T`` future opportunities). Column 0 is the history (0, 0, R) in
    every row; BG/BB cells with :math:`x > t_x` are NaN. A model with covariates
    needs ``covariates``, one row of traits (a dict, Series or one-row
    DataFrame): the grid is that kind of customer's.

    Returns
    -------
    numpy.ndarray
        Shape ``(max_recency + 1, max_frequency + 1)``.
    """
    model = _purchase_model(model)
    max_frequency, max_recency = _grid_limits(model, max_frequency, max_recency)
    traits = cov.one_row(model, covariates, "the frequency/recency matrix")

    def predict(x: FloatArray, tx: FloatArray, age: FloatArray) -> Any:
        horizon = np.full(x.size, float(T))
        return model.conditional_expected_number_of_purchases_up_to_time(
            horizon, x, tx, age, **cov.kwargs(traits)
        )

    return _history_grid(model, max_frequency, max_recency, predict)


def probability_alive_matrix(
    model: PurchaseModel,
    max_frequency: int | None = None,
    max_recency: int | None = None,
    covariates: Any = None,
) -> FloatArray:
    """P(alive) on a grid of histories, laid out as :func:`frequency_recency_matrix`.

    For the (frequency, recency, T) models this is
    ``model.conditional_probability_alive_matrix``; for the BG/BB it is eq. (11) of
    Fader, Hardie & Shang (2010), the probability of being alive at the next
    opportunity ``R + 1``. A model with covariates needs ``covariates``, one row of
    traits: the matrix is then that kind of customer's, with the same layout as
    ``conditional_probability_alive_matrix``.

    Returns
    -------
    numpy.ndarray
        Shape ``(max_recency + 1, max_frequency + 1)``.
    """
    model = _purchase_model(model)
    max_frequency, max_recency = _grid_limits(model, max_frequency, max_recency)
    traits = cov.one_row(model, covariates, "the P(alive) matrix")
    if isinstance(model, TransactionFitter) and traits is not None:
        return model.conditional_probability_alive_matrix(
            max_frequency, max_recency, **cov.kwargs(traits)
        )
    if isinstance(model, TransactionFitter):
        return model.conditional_probability_alive_matrix(max_frequency, max_recency)
    bgbb = model

    def predict(x: FloatArray, tx: FloatArray, n: FloatArray) -> Any:
        return bgbb.conditional_probability_alive(np.ones(x.size), x, tx, n)

    return _history_grid(model, max_frequency, max_recency, predict)


def _heatmap(ax: Axes, matrix: FloatArray, **kwargs: Any) -> AxesImage:
    kwargs.setdefault("interpolation", "none")
    kwargs.setdefault("aspect", "auto")
    image = ax.imshow(np.ma.masked_invalid(matrix), **kwargs)
    ax.set_box_aspect(1)
    ax.figure.colorbar(image, ax=ax)
    return image


def plot_frequency_recency_matrix(
    model: PurchaseModel,
    T: float = 1,
    max_frequency: int | None = None,
    max_recency: int | None = None,
    title: str | None = None,
    xlabel: str = "Customer's Historical Frequency",
    ylabel: str = "Customer's Recency",
    ax: Axes | None = None,
    covariates: Any = None,
    **kwargs: Any,
) -> Axes:
    """Heatmap of expected purchases in the next ``T`` periods by frequency and recency.

    The matrix is :func:`frequency_recency_matrix`: rows are recency 0..``max_recency``
    (top to bottom), columns frequency 0..``max_frequency``, every customer aged
    ``max_recency`` (defaults: the largest frequency and age in the fitted data).

    Parameters
    ----------
    model : BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter or BetaGeoBetaBinomFitter
        A fitted model.
    T : float, default 1
        Length of the future period.
    max_frequency, max_recency : int, optional
        Size of the grid.
    title : str, optional
        Title; by default it names ``T``.
    xlabel, ylabel : str, optional
        Labels of the axes (defaults as in ``lifetimes``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    covariates : dict, pandas.Series or one-row pandas.DataFrame, optional
        A model with covariates needs the traits of the kind of customer drawn.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.imshow`.

    Returns
    -------
    matplotlib.axes.Axes
        With one image (and a colorbar beside it).
    """
    matrix = frequency_recency_matrix(model, T, max_frequency, max_recency, covariates)
    ax = _axes(ax)
    _heatmap(ax, matrix, **kwargs)
    if title is None:
        unit = "" if T == 1 else "s"
        title = (
            f"Expected Number of Future Purchases for {T} Unit{unit} of Time,\n"
            "by Frequency and Recency of a Customer"
        )
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def plot_probability_alive_matrix(
    model: PurchaseModel,
    max_frequency: int | None = None,
    max_recency: int | None = None,
    title: str = "Probability Customer is Alive,\nby Frequency and Recency of a Customer",
    xlabel: str = "Customer's Historical Frequency",
    ylabel: str = "Customer's Recency",
    ax: Axes | None = None,
    covariates: Any = None,
    **kwargs: Any,
) -> Axes:
    """Heatmap of P(alive) by frequency and recency (:func:`probability_alive_matrix`).

    Parameters
    ----------
    model : BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter or BetaGeoBetaBinomFitter
        A fitted model.
    max_frequency, max_recency : int, optional
        Size of the grid; default the largest frequency and age in the fitted data.
    title, xlabel, ylabel : str, optional
        Labels of the axes (defaults as in ``lifetimes``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    covariates : dict, pandas.Series or one-row pandas.DataFrame, optional
        A model with covariates needs the traits of the kind of customer drawn.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.imshow`.

    Returns
    -------
    matplotlib.axes.Axes
        With one image (and a colorbar beside it).
    """
    matrix = probability_alive_matrix(model, max_frequency, max_recency, covariates)
    ax = _axes(ax)
    _heatmap(ax, matrix, **kwargs)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


# -- calendar time -------------------------------------------------------------------------


def _period_offsets(
    dates: pd.Series, freq: str, datetime_format: str | None
) -> tuple[np.ndarray, pd.Period]:
    """Each date's number of ``freq`` periods after the first date's period."""
    periods = pd.to_datetime(dates, format=datetime_format).dt.to_period(freq)
    if periods.isna().any():
        raise ValueError("the transaction dates contain missing values")
    if len(periods) == 0:
        raise ValueError("no transactions given")
    index = pd.PeriodIndex(periods)
    start = index.min()
    return np.asarray(index.asi8, dtype=np.int64) - start.ordinal, start


def alive_path(
    model: TransactionFitter,
    t: int,
    transactions: pd.DataFrame,
    datetime_col: str,
    freq: str = "D",
    covariates: Any = None,
) -> pd.Series:
    r"""P(alive) of one customer at the end of each period since the first purchase.

    As ``lifetimes.utils.calculate_alive_path``: at period :math:`k = 0, \ldots, t`
    the history is ``frequency`` = periods with a purchase up to :math:`k`, minus 1;
    ``recency`` = the last such period; ``T`` = :math:`k`, in periods of ``freq``
    (the model's time unit). A model with covariates needs the customer's
    ``covariates`` (one row of traits: a dict, a Series or a one-row DataFrame).

    Returns
    -------
    pandas.Series
        Indexed by the start of each period (timestamps), ``t + 1`` values.
    """
    require(model, "transaction", needs="plot_history_alive needs a")
    traits = cov.one_row(model, covariates, "the P(alive) history")
    if t < 0:
        raise ValueError(f"t must be non-negative, got {t}")
    offsets, start = _period_offsets(transactions[datetime_col], freq, None)
    k = np.arange(int(t) + 1)
    purchased = np.zeros(k.size, dtype=bool)
    inside = offsets[offsets <= t]
    purchased[np.unique(inside)] = True
    frequency = np.cumsum(purchased) - 1.0
    last = np.where(purchased, k, 0)
    recency = np.maximum.accumulate(last).astype(np.float64)
    age = k.astype(np.float64)  # T = 0 on the day of the first purchase
    alive = _as_array(
        model.conditional_probability_alive(frequency, recency, age, **cov.kwargs(traits))
    )
    index = pd.period_range(start, periods=k.size).to_timestamp()
    return pd.Series(alive, index=index, name="P_alive")


def plot_history_alive(
    model: TransactionFitter,
    t: int,
    transactions: pd.DataFrame,
    datetime_col: str,
    freq: str = "D",
    start_date: Any = None,
    ax: Axes | None = None,
    covariates: Any = None,
    **kwargs: Any,
) -> Axes:
    """P(alive) over one customer's history, with the purchases marked.

    Parameters
    ----------
    model : transaction fitter
        A BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter,
        GompertzGammaNBDFitter or MBGCNBDkFitter.
        A fitted model whose time unit is ``freq``.
    t : int
        Number of periods after the first purchase to draw.
    transactions : pandas.DataFrame
        The customer's transactions (one customer only).
    datetime_col : str
        Column of the transaction dates.
    freq : str, default "D"
        The period (a pandas frequency); several purchases in one period count once.
    start_date : datetime-like, optional
        Left end of the x axis, as in ``lifetimes`` (the path itself always starts
        at the first purchase); default the first purchase.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    covariates : dict, pandas.Series or one-row pandas.DataFrame, optional
        The customer's traits; needed by a model with covariates.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot`.

    Returns
    -------
    matplotlib.axes.Axes
        With one line (``P_alive``, from :func:`alive_path`) and one collection of
        dashed vertical lines at the purchase periods.
    """
    path = alive_path(model, t, transactions, datetime_col, freq, covariates)
    offsets, _ = _period_offsets(transactions[datetime_col], freq, None)
    purchase_dates = path.index[np.unique(offsets[offsets <= t])]
    ax = _axes(ax)
    ax.plot(path.index, path.to_numpy(), "-", label="P_alive", **kwargs)
    ax.vlines(purchase_dates, ymin=0, ymax=1, colors="r", linestyles="dashed", label="purchases")
    ax.set_ylim(0, 1.0)
    ax.set_yticks(np.arange(0, 1.1, 0.1))
    left: Any = path.index[0] if start_date is None else pd.Timestamp(start_date)
    ax.set_xlim(left, path.index[-1])
    ax.set_ylabel("P_alive")
    ax.set_title("History of P_alive")
    ax.legend(loc=3)
    return ax


def expected_cumulative_transactions(
    model: PurchaseModel,
    transactions: pd.DataFrame,
    datetime_col: str,
    customer_id_col: str,
    t: int,
    datetime_format: str | None = None,
    freq: str = "D",
    freq_multiplier: int = 1,
    set_index_date: bool = False,
    covariates: Any = None,
) -> pd.DataFrame:
    r"""Actual and expected cumulative repeat transactions over calendar time.

    The log is cut into periods of ``freq`` from the first transaction's period;
    several transactions of a customer in one period count once (as in the summary
    data), and the first period of each customer (their "birth" :math:`b_i`) is not a
    repeat transaction. At the end of model period :math:`k = 1, \ldots,`
    ``t // freq_multiplier``, i.e. period :math:`E = k m` with
    :math:`m` = ``freq_multiplier``,

    .. math::

        \text{actual}_k = \#\{\text{repeat transactions in periods} \le E\}, \qquad
        \text{predicted}_k = \sum_{i:\, b_i \le E} E[X((E - b_i) / m)],

    with :math:`E[X(t)]` the model's expected repeat purchases of a new customer
    (Fader, Hardie & Lee 2005, Figure 4). With covariates each customer's
    :math:`E[X(t) \mid z_i]` uses their own covariates.

    Parameters
    ----------
    model : BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter or BetaGeoBetaBinomFitter
        A fitted model whose time unit is ``freq_multiplier`` periods of ``freq``.
    transactions : pandas.DataFrame
        The transaction log.
    datetime_col, customer_id_col : str
        Columns of the dates and of the customer ids.
    t : int
        Length of the window, in periods of ``freq``.
    datetime_format : str, optional
        Passed to :func:`pandas.to_datetime`.
    freq : str, default "D"
        The period.
    freq_multiplier : int, default 1
        Periods of ``freq`` per model time unit (7 for a weekly model on daily data).
    set_index_date : bool, default False
        Index the rows by the last period each counts (a pandas ``PeriodIndex`` of
        ``freq``: the first transaction's period plus :math:`E`) instead of by
        :math:`k`.
    covariates : pandas.DataFrame or 2-D array, optional
        For a model with covariates, the customers' covariates: a DataFrame
        indexed by customer id, or an array in the order of the sorted ids;
        default those of the fitted data, by customer id.

    Returns
    -------
    pandas.DataFrame
        Columns ``actual`` and ``predicted``, indexed by :math:`k` (model periods),
        or by period with ``set_index_date``.
    """
    model = _purchase_model(model)
    m = int(freq_multiplier)
    if m < 1:
        raise ValueError(
            f"freq_multiplier must be a positive integer, got {plain(freq_multiplier)}"
        )
    if t < m:
        raise ValueError(f"t = {t} is shorter than one model period ({m} periods of {freq})")
    offsets, start = _period_offsets(transactions[datetime_col], freq, datetime_format)
    log = pd.DataFrame({"customer": transactions[customer_id_col].to_numpy(), "offset": offsets})
    log = log.drop_duplicates()
    birth = log.groupby("customer")["offset"].transform("min")
    repeats = np.sort(log.loc[log["offset"] > birth, "offset"].to_numpy())
    first_offset = log.groupby("customer")["offset"].min()
    traits = cov.for_customers(model, covariates, first_offset.index, "the log")
    k = np.arange(1, int(t) // m + 1)
    ends = k * m
    actual = np.searchsorted(repeats, ends, side="right").astype(np.float64)
    if traits is None:
        births, born = np.unique(first_offset.to_numpy(), return_counts=True)
        ages = (ends[:, None] - births[None, :]).astype(np.float64)
        alive = ages >= 0
        expected = np.zeros(ages.shape)
        expected[alive] = _as_array(model.expected_number_of_purchases_up_to_time(ages[alive] / m))
        predicted = expected @ born.astype(np.float64)
    else:
        predicted = _cumulative_with_covariates(model, first_offset, traits, ends, m)
    index: pd.Index
    if set_index_date:
        index = pd.PeriodIndex([start + int(e) for e in ends], name=datetime_col)
    else:
        index = pd.Index(k, name="t")
    return pd.DataFrame({"actual": actual, "predicted": predicted}, index=index)


def _cumulative_with_covariates(
    model: Any, first_offset: pd.Series, traits: pd.DataFrame, ends: np.ndarray, m: int
) -> FloatArray:
    r"""Sum over the customers born by each end of :math:`E[X((E - b_i)/m) \mid z_i]`,
    once per distinct (birth, covariates)."""
    keyed = traits.assign(_birth=first_offset.to_numpy(dtype=np.float64))
    distinct, code = cov.unique_rows(keyed)
    born = np.bincount(code, minlength=len(distinct)).astype(np.float64)
    births = distinct["_birth"].to_numpy(dtype=np.float64)
    z = distinct.drop(columns="_birth")
    predicted = np.zeros(len(ends))
    for j, end in enumerate(ends):
        alive = np.flatnonzero(births <= end)
        if len(alive) == 0:
            continue
        values = model.expected_number_of_purchases_up_to_time(
            (end - births[alive]) / m, **cov.kwargs(z.iloc[alive].reset_index(drop=True))
        )
        predicted[j] = float(_as_array(values) @ born[alive])
    return predicted


def _plot_tracking(
    frame: pd.DataFrame, t_cal: float, freq_multiplier: int, ax: Axes | None, **kwargs: Any
) -> Axes:
    ax = _axes(ax)
    if isinstance(frame.index, pd.PeriodIndex):  # set_index_date: x in dates
        first = frame.index[0] - int(freq_multiplier)  # the first transaction's period
        x: Any = frame.index.to_timestamp()
        calibration_end: Any = (first + round(t_cal)).to_timestamp()
    else:
        x = frame.index.to_numpy(dtype=np.float64)
        calibration_end = t_cal / freq_multiplier
    ax.plot(x, frame["actual"].to_numpy(), label="actual", **kwargs)
    ax.plot(x, frame["predicted"].to_numpy(), label="predicted", **kwargs)
    ax.axvline(x=calibration_end, color="r", linestyle="--")
    ax.legend()
    return ax


def plot_cumulative_transactions(
    model: PurchaseModel,
    transactions: pd.DataFrame,
    datetime_col: str,
    customer_id_col: str,
    t: int,
    t_cal: float,
    datetime_format: str | None = None,
    freq: str = "D",
    set_index_date: bool = False,
    title: str = "Tracking Cumulative Transactions",
    xlabel: str = "Time (model periods)",
    ylabel: str = "Cumulative Transactions",
    ax: Axes | None = None,
    freq_multiplier: int = 1,
    covariates: Any = None,
    **kwargs: Any,
) -> Axes:
    """Actual and expected cumulative repeat transactions, calibration end marked.

    The curves are :func:`expected_cumulative_transactions`; a dashed vertical line
    marks the end of the calibration period.

    Parameters
    ----------
    model : BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter or BetaGeoBetaBinomFitter
        A fitted model whose time unit is ``freq_multiplier`` periods of ``freq``.
    transactions : pandas.DataFrame
        The transaction log.
    datetime_col, customer_id_col : str
        Columns of the dates and of the customer ids.
    t : int
        Length of the window, in periods of ``freq``.
    t_cal : float
        End of the calibration period, in periods of ``freq`` from the first
        transaction (``lifetimes`` counts it in model periods).
    datetime_format : str, optional
        Passed to :func:`pandas.to_datetime`.
    freq : str, default "D"
        The period.
    set_index_date : bool, default False
        Put dates on the x axis (the last period each point counts) instead of
        model periods; see :func:`expected_cumulative_transactions`.
    title, xlabel, ylabel : str, optional
        Labels of the axes (defaults as in ``lifetimes``, except the x axis, which
        counts model periods).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    freq_multiplier : int, default 1
        Periods of ``freq`` per model time unit.
    covariates : pandas.DataFrame or 2-D array, optional
        For a model with covariates; see :func:`expected_cumulative_transactions`.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot`.

    Returns
    -------
    matplotlib.axes.Axes
        With the lines ``actual`` and ``predicted`` (x in model periods) and the
        vertical calibration line.
    """
    frame = expected_cumulative_transactions(
        model,
        transactions,
        datetime_col,
        customer_id_col,
        t,
        datetime_format,
        freq,
        freq_multiplier,
        set_index_date,
        covariates,
    )
    ax = _plot_tracking(frame, t_cal, freq_multiplier, ax, **kwargs)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def plot_incremental_transactions(
    model: PurchaseModel,
    transactions: pd.DataFrame,
    datetime_col: str,
    customer_id_col: str,
    t: int,
    t_cal: float,
    datetime_format: str | None = None,
    freq: str = "D",
    set_index_date: bool = False,
    title: str = "Tracking Incremental Transactions",
    xlabel: str = "Time (model periods)",
    ylabel: str = "Transactions",
    ax: Axes | None = None,
    freq_multiplier: int = 1,
    covariates: Any = None,
    **kwargs: Any,
) -> Axes:
    """Actual and expected repeat transactions per model period, calibration end marked.

    The differences of :func:`expected_cumulative_transactions` (the first model
    period's value is its cumulative value). Parameters as
    :func:`plot_cumulative_transactions`.

    Returns
    -------
    matplotlib.axes.Axes
        With the lines ``actual`` and ``predicted`` and the vertical calibration line.
    """
    cumulative = expected_cumulative_transactions(
        model,
        transactions,
        datetime_col,
        customer_id_col,
        t,
        datetime_format,
        freq,
        freq_multiplier,
        set_index_date,
        covariates,
    )
    incremental = cumulative.diff()
    incremental.iloc[0] = cumulative.iloc[0]
    ax = _plot_tracking(incremental, t_cal, freq_multiplier, ax, **kwargs)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


# -- the fitted mixing distributions ---------------------------------------------------------


def plot_expected_repeat_purchases(
    model: TransactionFitter,
    title: str = "Expected Number of Repeat Purchases per Customer",
    xlabel: str = "Time Since First Purchase",
    ax: Axes | None = None,
    label: str | None = None,
    covariates: Any = None,
    **kwargs: Any,
) -> Axes:
    r"""A new customer's expected repeat purchases :math:`E[X(t)]` against time.

    Solid over ``[0, max T]`` of the fitted data, dashed from there to 1.5 times
    that (the extrapolation), as in ``lifetimes``. For a model with covariates the
    curve is that of the traits in ``covariates`` (one row), by default the mean
    of :math:`E[X(t) \mid z_i]` over the fitted customers (weighted).

    Parameters
    ----------
    model : transaction fitter
        A BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter,
        GompertzGammaNBDFitter or MBGCNBDkFitter.
        A fitted model with its data.
    title, xlabel : str, optional
        Title and label of the x axis.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    label : str, optional
        Legend label of the solid line.
    covariates : dict, pandas.Series or one-row pandas.DataFrame, optional
        The traits of the new customer, for a model with covariates.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot` (both lines).

    Returns
    -------
    matplotlib.axes.Axes
        With two lines: the fitted range and its extrapolation.
    """
    require(model, "transaction", needs="plot_expected_repeat_purchases needs a")
    if model.data is None:
        raise ValueError("plot_expected_repeat_purchases needs the fitted data: fit the model")
    max_age = float(model.data["T"].max())
    curve = _new_customer_curve(model, covariates)
    ax = _axes(ax)
    inside = np.linspace(0.0, max_age, 100)
    beyond = np.linspace(max_age, 1.5 * max_age, 100)
    (line,) = ax.plot(inside, curve(inside), label=label, **kwargs)
    ax.plot(
        beyond,
        curve(beyond),
        linestyle="--",
        color=line.get_color(),
        **kwargs,
    )
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    if label is not None:
        ax.legend(loc="lower right")
    return ax


def _new_customer_curve(model: TransactionFitter, covariates: Any) -> Any:
    r""":math:`t \mapsto E[X(t)]` of a new customer: the plain model's, one row of
    traits', or the weighted mean over the fitted customers' covariates."""
    if not cov.model_has_covariates(model) or covariates is not None:
        traits = cov.one_row(model, covariates, "the expected repeat purchases")

        def single(t: FloatArray) -> FloatArray:
            values = model.expected_number_of_purchases_up_to_time(t, **cov.kwargs(traits))
            return _as_array(values)

        return single
    assert model.data is not None
    table = cov.for_customers(model, None, model.data.index, "the fitted data")
    assert table is not None
    distinct, code = cov.unique_rows(table)
    weights = np.bincount(
        code, weights=model.data["weights"].to_numpy(dtype=np.float64), minlength=len(distinct)
    )
    weights = weights / weights.sum()

    def mean(t: FloatArray) -> FloatArray:
        out = np.empty(len(t))
        for j, v in enumerate(t):
            values = model.expected_number_of_purchases_up_to_time(float(v), **cov.kwargs(distinct))
            out[j] = float(_as_array(values) @ weights)
        return out

    return mean


def _gamma_density(shape: float, rate: float) -> tuple[FloatArray, FloatArray, float, float]:
    """100 points of the Gamma(shape, rate) density up to its 99% quantile, its mean
    and variance."""
    from .model_comparison import _regularized_gamma_q

    lo, hi = 0.0, (shape + 10.0 * math.sqrt(shape) + 10.0) / rate
    for _ in range(200):  # bisection for P(X <= x) = 0.99
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _regularized_gamma_q(shape, rate * mid) > 0.01 else (lo, mid)
    x = np.linspace(0.0, hi, 100)
    with np.errstate(divide="ignore"):
        log = shape * math.log(rate) + (shape - 1) * np.log(x) - rate * x - math.lgamma(shape)
    return x, np.exp(log), shape / rate, shape / rate**2


def _beta_density(a: float, b: float) -> tuple[FloatArray, FloatArray, float, float]:
    """100 points of the Beta(a, b) density up to its 99% quantile (found on a fine
    grid), its mean and variance."""
    log_norm = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)

    def density(x: FloatArray) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            values: FloatArray = np.exp(log_norm + (a - 1) * np.log(x) + (b - 1) * np.log1p(-x))
        return values

    # The CDF on a grid fine near 0 and 1, where the density may be unbounded.
    u = np.linspace(0.0, 1.0, 20001)[1:-1]
    grid = (1 - np.cos(np.pi * u)) / 2
    cdf = np.concatenate(
        ([0.0], np.cumsum(np.diff(grid) * (density(grid[1:]) + density(grid[:-1])) / 2))
    )
    cdf /= cdf[-1]
    limit = float(grid[min(int(np.searchsorted(cdf, 0.99)), len(grid) - 1)])
    x = np.linspace(0.0, limit, 100)
    mean = a / (a + b)
    return x, density(x), mean, a * b / ((a + b) ** 2 * (a + b + 1))


def _plot_density(
    x: FloatArray,
    y: FloatArray,
    mean: float,
    variance: float,
    suptitle: str,
    xlabel: str,
    ylabel: str,
    suptitle_fontsize: float,
    ax: Axes | None,
    **kwargs: Any,
) -> Axes:
    ax = _axes(ax)
    ax.figure.suptitle(suptitle, fontsize=suptitle_fontsize, fontweight="bold")
    finite = np.isfinite(y)
    ax.plot(x[finite], y[finite], **kwargs)
    ax.set_title(f"mean: {mean:.3f}, var: {variance:.3f}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


#: How a process's coefficients scale a base parameter: (parameter, sign of
#: gamma'z in the exponent); ARCHITECTURE.md, "Customers with covariates".
_SCALED = {
    "purchase": ("alpha", -1.0),
    "dropout": ("beta", -1.0),
    "dropout_a": ("a", 1.0),
    "dropout_b": ("b", 1.0),
}


def _individual_params(model: TransactionFitter, covariates: Any, what: str) -> pd.Series:
    """``params_`` without coefficients: the model's own, or (with covariates) the
    individual parameters of the customers with the traits ``covariates``."""
    params = model.params_
    traits = cov.one_row(model, covariates, what)
    if traits is None:
        return params
    native = model._core()
    z, _ = prediction_matrix(model._encoding, native.columns, {"purchase": traits}, None, None)
    value = dict(zip(native.columns, z[0]))
    out = params[[n for n in params.index if ":" not in str(n)]].astype(np.float64)
    for name, gamma in params.items():
        process, sep, column = str(name).partition(":")
        if not sep:
            continue
        for target in native.PROCESSES if process == "shared" else [process]:
            base, sign = _SCALED[target]
            out[base] *= math.exp(sign * float(gamma) * value[column])
    return out


def plot_transaction_rate_heterogeneity(
    model: TransactionFitter,
    suptitle: str = "Heterogeneity in Transaction Rate",
    xlabel: str = "Transaction Rate",
    ylabel: str = "Density",
    suptitle_fontsize: float = 14,
    ax: Axes | None = None,
    covariates: Any = None,
    **kwargs: Any,
) -> Axes:
    r"""The fitted distribution of purchase rates, :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)`.

    The density up to its 99% quantile, with the mean :math:`r / \alpha` and variance
    :math:`r / \alpha^2` in the title, as in ``lifetimes``.

    Parameters
    ----------
    model : transaction fitter
        A BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter,
        GompertzGammaNBDFitter or MBGCNBDkFitter.
        A model with parameters.
    suptitle, xlabel, ylabel : str, optional
        Figure title and axis labels.
    suptitle_fontsize : float, default 14
        Font size of the figure title.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    covariates : dict, pandas.Series or one-row pandas.DataFrame, optional
        Needed by a model with covariates: the traits of the customers whose
        distribution is drawn (their individual parameters, e.g.
        :math:`\alpha_i = \alpha e^{-\gamma^T z}`).
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    require(model, "transaction", needs="plot_transaction_rate_heterogeneity needs a")
    params = _individual_params(model, covariates, "the transaction rate distribution")
    x, y, mean, variance = _gamma_density(float(params["r"]), float(params["alpha"]))
    return _plot_density(
        x, y, mean, variance, suptitle, xlabel, ylabel, suptitle_fontsize, ax, **kwargs
    )


def plot_dropout_rate_heterogeneity(
    model: TransactionFitter,
    suptitle: str = "Heterogeneity in Dropout Probability",
    xlabel: str = "Dropout Probability p",
    ylabel: str = "Density",
    suptitle_fontsize: float = 14,
    ax: Axes | None = None,
    covariates: Any = None,
    **kwargs: Any,
) -> Axes:
    r"""The fitted distribution of drop-out: :math:`p \sim \mathrm{Beta}(a, b)` for
    BG/NBD and MBG/NBD, the rate :math:`\mu \sim \mathrm{Gamma}(s, \beta)` for
    Pareto/NBD (``lifetimes`` has the former only).

    The density up to its 99% quantile, with its mean and variance in the title.
    Parameters as :func:`plot_transaction_rate_heterogeneity`; for the Pareto/NBD
    the default ``xlabel`` is replaced by "Dropout Rate mu" unless given.

    Returns
    -------
    matplotlib.axes.Axes
    """
    require(model, "transaction", needs="plot_dropout_rate_heterogeneity needs a")
    params = _individual_params(model, covariates, "the drop-out distribution")
    if "s" in params.index:
        x, y, mean, variance = _gamma_density(float(params["s"]), float(params["beta"]))
        if xlabel == "Dropout Probability p":
            xlabel = "Dropout Rate mu"
    else:
        x, y, mean, variance = _beta_density(float(params["a"]), float(params["b"]))
    return _plot_density(
        x, y, mean, variance, suptitle, xlabel, ylabel, suptitle_fontsize, ax, **kwargs
    )


# -- contractual retention -----------------------------------------------------------------


def _empirical_survival(model: _ContractualFitter, survivors: Any) -> dict[str, FloatArray]:
    """Observed survival shares S(t), t = 0, 1, ..., per cohort."""
    if survivors is not None:
        if isinstance(survivors, pd.DataFrame):
            columns = {str(c): survivors[c].to_numpy(dtype=np.float64) for c in survivors}
        else:
            name = getattr(survivors, "name", None)
            label = "actual" if name is None else str(name)
            columns = {label: np.asarray(survivors, dtype=np.float64).reshape(-1)}
    elif model.data is None:
        return {}
    elif "duration" in model.data.columns:
        return {"actual": _kaplan_meier(model.data)}
    else:
        columns = {str(c): model.data[c].to_numpy(dtype=np.float64) for c in model.data}
    shares = {}
    for label, counts in columns.items():
        counts = counts[~np.isnan(counts)]
        if counts.size == 0 or not counts[0] > 0:
            raise ValueError(f"cohort {plain(label)} needs a positive count at period 0")
        shares[label] = counts / counts[0]
    return shares


def _kaplan_meier(data: pd.DataFrame) -> FloatArray:
    r"""Kaplan-Meier survival :math:`S(0), \ldots, S(\max d)` of (duration, churned) records.

    Of the customers still at risk at the end of period :math:`t` (duration
    :math:`\ge t`), those who churned after exactly :math:`t` periods leave;
    customers still active with duration :math:`t` are censored after period
    :math:`t`.
    """
    duration = data["duration"].to_numpy(dtype=np.int64)
    churned = data["churned"].to_numpy(dtype=bool)
    weights = data["weights"].to_numpy(dtype=np.float64)
    horizon = int(duration.max())
    ended = np.bincount(duration, weights=weights, minlength=horizon + 1)
    churns = np.bincount(duration[churned], weights=weights[churned], minlength=horizon + 1)
    at_risk = weights.sum() - np.concatenate([[0.0], np.cumsum(ended)[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(at_risk > 0, churns / at_risk, 0.0)
    hazard[0] = 0.0
    return np.asarray(np.cumprod(1.0 - hazard), dtype=np.float64)


def plot_retention(
    model: _ContractualFitter,
    survivors: Any = None,
    periods: int | None = None,
    kind: str = "survival",
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    r"""Survival or retention-rate curve of an sBG/BdW model beside the data.

    ``kind="survival"`` draws :math:`S(t)` for :math:`t = 0, \ldots,` ``periods``
    and each cohort's share still active, :math:`n_t / n_0`;
    ``kind="retention"`` draws :math:`r(t) = S(t) / S(t - 1)` for
    :math:`t = 1, \ldots,` ``periods`` and the observed :math:`n_t / n_{t-1}`
    (Fader & Hardie 2007, Figures 2 and 5).

    Parameters
    ----------
    model : ShiftedBetaGeometricFitter or BetaDiscreteWeibullFitter
        A fitted model (or one with parameters set).
    survivors : array_like, pandas.Series or pandas.DataFrame, optional
        Survivor counts, period 0 first (a DataFrame: one column per cohort;
        trailing NaN allowed). By default the fitted data: its cohorts, or the
        Kaplan-Meier estimate of (duration, churned) records.
    periods : int, optional
        Last period of the projection; default the last observed period, or 12
        without data.
    kind : {"survival", "retention"}, default "survival"
        Which curve.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot` for the model's line.

    Returns
    -------
    matplotlib.axes.Axes
        With one marked line per cohort (labelled with the cohort) and the model's
        line, labelled ``model``, last.
    """
    require(model, "contractual", needs="plot_retention needs a")
    if kind not in ("survival", "retention"):
        raise ValueError(f"kind must be 'survival' or 'retention', got {plain(kind)}")
    observed = _empirical_survival(model, survivors)
    if periods is None:
        periods = max((s.size - 1 for s in observed.values()), default=12)
        periods = max(periods, 1)
    if periods < 1:
        raise ValueError(f"periods must be at least 1, got {periods}")
    ax = _axes(ax)
    first = 0 if kind == "survival" else 1
    for label, share in observed.items():
        t = np.arange(share.size, dtype=np.float64)
        if kind == "survival":
            ax.plot(t, share, marker="o", linestyle="none", label=label)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                rate = share[1:] / share[:-1]
            ax.plot(t[1:], rate, marker="o", linestyle="none", label=label)
    t = np.arange(first, periods + 1, dtype=np.float64)
    curve = model.survival_function(t) if kind == "survival" else model.retention_rate(t)
    ax.plot(t, _as_array(curve), label="model", **kwargs)
    if kind == "survival":
        ax.set_title("Share of the Cohort Still Active")
        ax.set_ylabel("S(t)")
    else:
        ax.set_title("Retention Rate")
        ax.set_ylabel("r(t)")
    ax.set_xlabel("Period")
    ax.legend()
    return ax


def plot_cohort_retention(
    cohort_table: pd.DataFrame,
    ax: Axes | None = None,
    annotate: bool = True,
    fmt: str = "{:.0%}",
    **kwargs: Any,
) -> Axes:
    """Heatmap of a cohort retention table: cohorts down, periods since acquisition across.

    Parameters
    ----------
    cohort_table : pandas.DataFrame
        Shares (numbers, typically in [0, 1]) with one row per cohort and one column
        per period since acquisition; NaN (periods not yet observed) is left blank.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    annotate : bool, default True
        Write each share in its cell.
    fmt : str, default "{:.0%}"
        Format of the annotations.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.imshow`.

    Returns
    -------
    matplotlib.axes.Axes
        With one image whose data is the table, and a colorbar.
    """
    if not isinstance(cohort_table, pd.DataFrame):
        raise TypeError(f"cohort_table must be a DataFrame, got {type(cohort_table).__name__}")
    try:
        values = cohort_table.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError("cohort_table must hold numbers (shares)") from exc
    ax = _axes(ax)
    kwargs.setdefault("cmap", "Blues")
    _heatmap(ax, values, **kwargs)
    ax.set_box_aspect(None)
    rows, columns = values.shape
    ax.set_xticks(np.arange(columns))
    ax.set_xticklabels([str(c) for c in cohort_table.columns])
    ax.set_yticks(np.arange(rows))
    ax.set_yticklabels([str(i) for i in cohort_table.index])
    if annotate:
        finite = values[np.isfinite(values)]
        middle = (finite.min() + finite.max()) / 2 if finite.size else 0.0
        for (i, j), value in np.ndenumerate(values):
            if np.isfinite(value):
                color = "white" if value > middle else "black"
                ax.text(j, i, fmt.format(value), ha="center", va="center", color=color)
    ax.set_title("Retention by Cohort")
    ax.set_xlabel(str(cohort_table.columns.name or "Periods since acquisition"))
    ax.set_ylabel(str(cohort_table.index.name or "Cohort"))
    return ax


def plot_interpurchase_regularity(
    transactions: pd.DataFrame,
    customer_id_col: str,
    datetime_col: str,
    freq: str = "D",
    freq_multiplier: float = 1.0,
    bins: int = 20,
    ax: Axes | None = None,
) -> Axes:
    r"""The distribution of inter-purchase-time regularity, with Wheat & Morrison's k.

    For each customer with at least three purchase periods,
    :math:`M = t_1 / (t_1 + t_2)` from the first two inter-purchase times
    (:func:`~retentionkit.fitters.mbgcnbd_fitter.first_two_gaps`): a histogram of M
    (density), with the :math:`\mathrm{Beta}(\hat k, \hat k)` density of Erlang-k
    gaps at Wheat & Morrison's estimate :math:`\hat k`
    (:func:`~retentionkit.fitters.wheat_morrison_k`) and the uniform density of
    Poisson buying (k = 1). Regular buyers pile up around 1/2; the MBG/CNBD-k
    (:class:`~retentionkit.MBGCNBDkFitter`) models them.

    Parameters
    ----------
    transactions, customer_id_col, datetime_col, freq, freq_multiplier
        The transaction log, as for
        :func:`~retentionkit.utils.summary_data_from_transaction_data`.
    bins : int, default 20
        Histogram bins on [0, 1].
    ax : matplotlib.axes.Axes, optional
        Where to draw (a new figure otherwise).

    Returns
    -------
    matplotlib.axes.Axes
        The histogram is the first container; the two curves are ``ax.lines``
        (Beta(k, k) first).
    """
    from .fitters.mbgcnbd_fitter import first_two_gaps, wheat_morrison_k

    gaps = first_two_gaps(transactions, customer_id_col, datetime_col, freq, freq_multiplier)
    if len(gaps) < 2:
        raise ValueError(
            f"{len(gaps)} customer(s) with two inter-purchase times: at least 2 are needed"
        )
    k_hat, m = wheat_morrison_k(gaps["first_gap"], gaps["second_gap"])
    ax = _axes(ax)
    ax.hist(m.to_numpy(), bins=int(bins), range=(0.0, 1.0), density=True, alpha=0.5, label="M")
    grid = np.linspace(0.0025, 0.9975, 399)
    k = max(k_hat, 1e-3)
    log_norm = math.lgamma(2 * k) - 2 * math.lgamma(k)
    density = np.exp(log_norm + (k - 1) * (np.log(grid) + np.log1p(-grid)))
    ax.plot(grid, density, label=f"Beta(k, k), Wheat & Morrison k = {k_hat:.2f}")
    ax.plot(grid, np.ones_like(grid), linestyle="--", label="k = 1 (Poisson)")
    ax.set_xlabel("M = t1 / (t1 + t2)")
    ax.set_ylabel("density")
    ax.set_title(f"Inter-purchase regularity ({len(m)} customers)")
    ax.legend()
    return ax


# polars/pyarrow arguments in, results in their library (see retentionkit._frames).
from ._frames import accept_frames_in_module  # noqa: E402

accept_frames_in_module(globals(), __all__)
