r"""Compare fitted models: likelihood criteria, a chi-square test of fit, holdout errors.

The chi-square test is the one Fader, Hardie & Lee (2005, section 4) use for the
BG/NBD on CDNOW: the customers are binned by their number of repeat purchases in the
calibration period (0, 1, ..., k - 1 and "k+"), and the observed counts are compared
with the counts the model expects,

.. math::

    E_n = \sum_i w_i\, P(X(T_i) = n), \qquad n = 0, \ldots, k - 1, \qquad
    E_{k+} = \sum_i w_i - \sum_{n < k} E_n,

where :math:`T_i` is customer *i*'s time since the first purchase (the number of
transaction opportunities for the BG/BB) and :math:`w_i` the weight. The statistic
:math:`\sum (O - E)^2 / E` is referred to a chi-square distribution with
``bins - 1 - n_params`` degrees of freedom.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple, Union

import numpy as np
import pandas as pd

from . import _covariate_inputs as cov
from ._registry import require
from ._validation import ArrayLike, FloatArray, as_float_array
from ._validation import plain as _plain
from .fitters.base import BaseFitter
from .fitters.beta_geo_beta_binom_fitter import BetaGeoBetaBinomFitter
from .fitters.mbgcnbd_fitter import MBGCNBDkFitter
from .fitters.transaction_fitter import TransactionFitter

__all__ = [
    "ChiSquareResult",
    "chi_square",
    "chi_square_sf",
    "compare_models",
    "likelihood_ratio_test",
    "period_transactions_chi_square",
    "period_transactions_table",
]

#: The models whose calibration data is a (frequency, recency, age) summary.
PurchaseModel = Union[TransactionFitter, BetaGeoBetaBinomFitter]

_HOLDOUT_COLUMNS = ("frequency_holdout", "duration_holdout")
_CAL_COLUMNS = ("frequency_cal", "recency_cal", "T_cal")


class ChiSquareResult(NamedTuple):
    """A chi-square goodness-of-fit test."""

    statistic: float
    dof: int
    p_value: float


# -- the chi-square distribution, without scipy ------------------------------------------


def _regularized_gamma_q(a: float, x: float) -> float:
    r"""Upper regularised incomplete gamma function :math:`Q(a, x) = \Gamma(a, x) / \Gamma(a)`.

    Numerical Recipes (Press et al. 2007, section 6.2): the series of :math:`P(a, x)`
    for :math:`x < a + 1`, otherwise the continued fraction of :math:`Q(a, x)`,
    evaluated with the modified Lentz method. Relative accuracy about 1e-14.
    """
    if not a > 0.0:
        raise ValueError(f"a must be positive, got {a}")
    if math.isnan(x):
        return math.nan
    if x <= 0.0:
        return 1.0
    if math.isinf(x):
        return 0.0
    log_prefactor = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1.0:
        term = 1.0 / a
        total = term
        denominator = a
        for _ in range(100_000):
            denominator += 1.0
            term *= x / denominator
            total += term
            if abs(term) < abs(total) * 1e-16:
                break
        return max(0.0, 1.0 - total * math.exp(log_prefactor))
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 100_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        if abs(d) < tiny:
            d = tiny
        c = b + an / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return math.exp(log_prefactor) * h


def chi_square_sf(statistic: float, dof: int) -> float:
    r"""Survival function of the chi-square distribution, :math:`P(\chi^2_k > x)`.

    Equal to :math:`Q(k/2, x/2)`, the upper regularised incomplete gamma function,
    computed without scipy (see :func:`_regularized_gamma_q`).

    Parameters
    ----------
    statistic : float
        The value :math:`x` (non-negative).
    dof : int
        Degrees of freedom :math:`k`; NaN is returned when it is not positive.

    Returns
    -------
    float
    """
    if dof <= 0:
        return math.nan
    return _regularized_gamma_q(dof / 2.0, float(statistic) / 2.0)


def chi_square(actual: ArrayLike, expected: ArrayLike, n_params: int = 0) -> ChiSquareResult:
    r"""Pearson's chi-square test of observed against expected counts.

    .. math::

        \chi^2 = \sum_j \frac{(O_j - E_j)^2}{E_j}, \qquad
        \text{dof} = \text{bins} - 1 - \text{n\_params}

    A bin with :math:`O_j = E_j = 0` adds nothing; one with :math:`E_j = 0 < O_j`
    makes the statistic infinite.

    Parameters
    ----------
    actual, expected : array_like
        Observed and expected counts, one per bin.
    n_params : int, default 0
        Number of parameters estimated from the data.

    Returns
    -------
    ChiSquareResult
        ``(statistic, dof, p_value)``; the p-value is NaN when ``dof < 1``.

    Examples
    --------
    >>> from retentionkit.model_comparison import chi_square
    >>> result = chi_square([10, 20, 30], [15, 15, 30])
    >>> round(result.statistic, 4), result.dof, round(result.p_value, 4)
    (3.3333, 2, 0.1889)
    """
    observed = as_float_array(actual, "actual").reshape(-1)
    model = as_float_array(expected, "expected").reshape(-1)
    if observed.shape != model.shape:
        raise ValueError(
            f"actual and expected must have the same length, got {observed.size} and {model.size}"
        )
    if np.any(model < 0) or np.any(observed < 0):
        raise ValueError("counts must be non-negative")
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where((observed == 0) & (model == 0), 0.0, (observed - model) ** 2 / model)
    statistic = float(terms.sum())
    dof = int(observed.size - 1 - n_params)
    return ChiSquareResult(statistic, dof, chi_square_sf(statistic, dof))


# -- period transactions -------------------------------------------------------------------


def _age_column(model: Any) -> str:
    """The column of ``model.data`` holding each customer's observation length.

    It is the last history column: ``T``, or ``n_periods`` for the BG/BB
    (``T`` for the MBG/CNBD-k, whose last history column is ``litt``).
    """
    if isinstance(model, MBGCNBDkFitter):
        return "T"
    require(model, "transaction", "discrete", needs="this needs a")
    return str(model._columns[-1])


def _fitted_data(model: BaseFitter) -> pd.DataFrame:
    if model.data is None:
        raise ValueError(
            f"this {type(model).__name__} has no data: it needs the data of a fit "
            "(parameters set by hand or loaded from a file carry none)"
        )
    return model.data


def period_transactions_table(
    model: PurchaseModel, max_frequency: int = 7, covariates: Any = None
) -> pd.DataFrame:
    r"""Actual and expected numbers of customers by number of repeat purchases.

    The bins are 0, 1, ..., ``max_frequency - 1`` and ``max_frequency+``; the
    expected count of bin :math:`n` is :math:`\sum_i w_i P(X(T_i) = n)` over the
    fitted customers, and the last bin takes the remainder, so both columns sum to
    the number of customers. This is the table behind Figure 3 of Fader, Hardie &
    Lee (2005) and behind ``lifetimes``' ``plot_period_transactions`` (which
    simulates the expected counts instead of computing them).

    Parameters
    ----------
    model : BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter or BetaGeoBetaBinomFitter
        A fitted model with its calibration data in ``model.data``.
    max_frequency : int, default 7
        First frequency pooled into the last bin. For the BG/BB it is lowered to the
        largest number of opportunities, above which no customer can go.
    covariates : pandas.DataFrame or 2-D array, optional
        For a model with covariates: the fitted customers' covariates (a DataFrame
        aligned by label on ``model.data``, an array in its row order); by default
        those of the fitted data. Each customer's :math:`P(X(T_i) = n)` then uses
        their own covariates.

    Returns
    -------
    pandas.DataFrame
        Columns ``actual`` and ``expected``, indexed by the bin labels ``"0"``,
        ``"1"``, ..., ``"k+"`` (index name ``frequency``).
    """
    age_column = _age_column(model)
    data = _fitted_data(model)
    if not (float(max_frequency).is_integer() and max_frequency >= 1):
        raise ValueError(f"max_frequency must be a positive integer, got {_plain(max_frequency)}")
    k = int(max_frequency)
    if isinstance(model, BetaGeoBetaBinomFitter):
        k = max(1, min(k, int(data["n_periods"].max())))
    frequency = data["frequency"].to_numpy(dtype=np.float64)
    weights = data["weights"].to_numpy(dtype=np.float64)
    total = float(weights.sum())

    bins = np.minimum(frequency, k).astype(np.int64)
    actual = np.bincount(bins, weights=weights, minlength=k + 1)

    traits = cov.for_customers(model, covariates, data.index, "the fitted data")
    expected = np.empty(k + 1)
    if traits is None:
        ages, inverse = np.unique(data[age_column].to_numpy(dtype=np.float64), return_inverse=True)
        weight_by_age = np.bincount(inverse.reshape(-1), weights=weights, minlength=ages.size)
        n = np.arange(k, dtype=np.float64)
        probabilities = np.asarray(
            model.probability_of_n_purchases_up_to_time(np.repeat(ages, k), np.tile(n, ages.size)),
            dtype=np.float64,
        ).reshape(ages.size, k)
        expected[:k] = weight_by_age @ probabilities
    else:
        expected[:k] = _expected_counts_with_covariates(model, data[age_column], weights, traits, k)
    expected[k] = max(0.0, total - expected[:k].sum())

    labels = [str(i) for i in range(k)] + [f"{k}+"]
    return pd.DataFrame(
        {"actual": actual, "expected": expected},
        index=pd.Index(labels, name="frequency"),
    )


def _expected_counts_with_covariates(
    model: Any, ages: pd.Series, weights: FloatArray, traits: pd.DataFrame, k: int
) -> FloatArray:
    """:math:`\\sum_i w_i P(X(T_i) = n \\mid z_i)` for n < k, once per distinct
    (age, covariates) pair."""
    keyed = traits.assign(_age=ages.to_numpy(dtype=np.float64))
    distinct, code = cov.unique_rows(keyed)
    weight = np.bincount(code, weights=weights, minlength=len(distinct))
    z = distinct.drop(columns="_age")
    t = distinct["_age"].to_numpy(dtype=np.float64)
    probabilities = np.column_stack(
        [
            np.asarray(
                model.probability_of_n_purchases_up_to_time(t, float(n), **cov.kwargs(z)),
                dtype=np.float64,
            )
            for n in range(k)
        ]
    )
    return np.asarray(weight @ probabilities, dtype=np.float64)


def period_transactions_chi_square(
    model: PurchaseModel, max_frequency: int = 7, covariates: Any = None
) -> ChiSquareResult:
    """Chi-square test of :func:`period_transactions_table`, with the model's parameters.

    Degrees of freedom: ``max_frequency + 1`` bins, minus 1, minus the number of
    parameters (FHL 2005 report 8 bins and 4 parameters for the BG/NBD: 3 dof),
    coefficients of a model with covariates included.

    Returns
    -------
    ChiSquareResult
    """
    table = period_transactions_table(model, max_frequency, covariates)
    return chi_square(table["actual"], table["expected"], n_params=len(model.params_))


# -- model comparison ----------------------------------------------------------------------


def _summary_signature(data: pd.DataFrame) -> pd.DataFrame | None:
    """Distinct (frequency, recency, age) histories with summed weights, sorted."""
    age = next((c for c in ("T", "n_periods") if c in data.columns), None)
    if age is None or not {"frequency", "recency"} <= set(data.columns):
        return None
    weights = data["weights"] if "weights" in data.columns else pd.Series(1.0, index=data.index)
    frame = pd.DataFrame(
        {
            "frequency": data["frequency"].to_numpy(dtype=np.float64),
            "recency": data["recency"].to_numpy(dtype=np.float64),
            "age": data[age].to_numpy(dtype=np.float64),
            "weights": weights.to_numpy(dtype=np.float64),
        }
    )
    grouped = frame.groupby(["frequency", "recency", "age"], sort=True)["weights"].sum()
    return grouped[grouped > 0].reset_index()


def _same_data(first: pd.DataFrame, second: pd.DataFrame) -> bool:
    a, b = _summary_signature(first), _summary_signature(second)
    if a is None or b is None:
        if a is not None or b is not None:
            return False
        if list(first.columns) != list(second.columns) or first.shape != second.shape:
            return False
        left = first.to_numpy(dtype=np.float64, na_value=np.nan)
        right = second.to_numpy(dtype=np.float64, na_value=np.nan)
        return bool(np.allclose(left, right, rtol=1e-12, atol=0.0, equal_nan=True))
    if a.shape != b.shape:
        return False
    return bool(np.allclose(a.to_numpy(), b.to_numpy(), rtol=1e-9, atol=1e-12))


def _calibration_holdout(
    calibration: pd.DataFrame | None, holdout: pd.DataFrame | None
) -> pd.DataFrame | None:
    """One frame with the calibration (``*_cal``) and holdout columns, if any."""
    if calibration is None and holdout is None:
        return None
    frames = []
    if calibration is not None:
        cal = calibration
        if not set(_CAL_COLUMNS) <= set(cal.columns):
            plain = ("frequency", "recency", "T")
            if not set(plain) <= set(cal.columns):
                raise ValueError(
                    "calibration needs the columns frequency_cal, recency_cal, T_cal "
                    f"(or frequency, recency, T); it has {list(cal.columns)}"
                )
            cal = cal.rename(columns=dict(zip(plain, _CAL_COLUMNS)))
        frames.append(cal)
    if holdout is not None and holdout is not calibration:
        frames.append(holdout)
    combined = frames[0]
    if len(frames) == 2:
        if not frames[0].index.equals(frames[1].index):
            raise ValueError("calibration and holdout must have the same index (customers)")
        extra = [c for c in frames[1].columns if c not in combined.columns]
        combined = pd.concat([combined, frames[1][extra]], axis=1)
    return combined


def _holdout_errors(
    model: BaseFitter, frame: pd.DataFrame, covariates: Any = None
) -> tuple[float, float, float]:
    """MAE, RMSE and relative aggregate error of the predicted holdout purchases."""
    if not isinstance(model, (TransactionFitter, BetaGeoBetaBinomFitter, MBGCNBDkFitter)):
        return math.nan, math.nan, math.nan
    traits = cov.for_customers(model, covariates, frame.index, "the holdout frame")
    predicted = np.asarray(
        model.conditional_expected_number_of_purchases_up_to_time(
            frame["duration_holdout"].to_numpy(dtype=np.float64),
            frame["frequency_cal"].to_numpy(dtype=np.float64),
            frame["recency_cal"].to_numpy(dtype=np.float64),
            frame["T_cal"].to_numpy(dtype=np.float64),
            **cov.kwargs(traits),
        ),
        dtype=np.float64,
    )
    actual = frame["frequency_holdout"].to_numpy(dtype=np.float64)
    error = predicted - actual
    total = actual.sum()
    relative = (predicted.sum() - total) / total if total > 0 else math.nan
    return (
        float(np.mean(np.abs(error))),
        float(np.sqrt(np.mean(error**2))),
        float(relative),
    )


def compare_models(
    models: Mapping[str, BaseFitter],
    calibration: pd.DataFrame | None = None,
    holdout: pd.DataFrame | None = None,
    max_frequency: int = 7,
    covariates: Any = None,
) -> pd.DataFrame:
    r"""Table of fit statistics of models fitted on the same calibration data.

    Models with covariates may be compared with models without them (a model
    without covariates is the same model with every coefficient 0): their
    ``n_params`` counts the coefficients, so AIC and BIC charge for them, and
    every prediction (the chi-square's expected counts, the holdout purchases)
    uses each customer's own covariates.

    Parameters
    ----------
    models : dict of str to fitter
        Fitted models keyed by the name to show; all must have been fitted on the
        same data (the same customer histories, in any order or weighting), or a
        ``ValueError`` is raised.
    calibration : pandas.DataFrame, optional
        The calibration summary, with columns ``frequency_cal``, ``recency_cal``,
        ``T_cal`` (as ``lifetimes``' ``calibration_and_holdout_data``) or
        ``frequency``, ``recency``, ``T``. The models must have been fitted on it.
        It may also hold the holdout columns.
    holdout : pandas.DataFrame, optional
        ``frequency_holdout`` (purchases in the holdout period) and
        ``duration_holdout`` (its length), indexed like ``calibration``. A single
        ``calibration_and_holdout_data`` frame may be passed as ``holdout`` alone.
    max_frequency : int, default 7
        Bins of the period-transactions chi-square (see
        :func:`period_transactions_table`).
    covariates : pandas.DataFrame or 2-D array, optional
        The customers' covariates for the models with covariates (every column
        any of them uses; ignored by the others): a DataFrame aligned by
        customer label, or an array in the customers' order. By default each
        model takes those of its fitted data, by customer label (the holdout
        frame's customers must then be the fitted ones).

    Returns
    -------
    pandas.DataFrame
        One row per model (index ``model``) with columns ``log_likelihood``,
        ``n_params`` (coefficients included), ``aic`` (:math:`2k - 2LL`), ``bic``
        (:math:`k \ln n - 2LL`),
        ``chi_square``, ``chi_square_dof``, ``chi_square_p_value`` (NaN for models
        without a period-transactions table, such as the sBG) and, with holdout
        data, ``holdout_mae`` and ``holdout_rmse`` (per-customer errors of the
        predicted holdout purchases :math:`E[Y(t) \mid x, t_x, T]`) and
        ``holdout_relative_error`` (predicted minus actual total holdout purchases,
        over the actual total).

    Examples
    --------
    >>> from retentionkit import BetaGeoFitter, ParetoNBDFitter
    >>> from retentionkit.datasets import load_cdnow_summary
    >>> from retentionkit.model_comparison import compare_models
    >>> data = load_cdnow_summary()
    >>> table = compare_models(
    ...     {"BG/NBD": BetaGeoFitter().fit(data), "Pareto/NBD": ParetoNBDFitter().fit(data)}
    ... )
    >>> table["log_likelihood"].round(1).to_dict()
    {'BG/NBD': -9582.4, 'Pareto/NBD': -9595.0}
    """
    if not models:
        raise ValueError("no models given")
    names = list(models)
    reference = _fitted_data(models[names[0]])
    for name in names[1:]:
        if not _same_data(reference, _fitted_data(models[name])):
            raise ValueError(
                f"the models {names[0]!r} and {name!r} were not fitted on the same data; "
                "their likelihoods cannot be compared"
            )
    frame = _calibration_holdout(calibration, holdout)
    if frame is not None and set(_CAL_COLUMNS) <= set(frame.columns):
        plain = frame[list(_CAL_COLUMNS)].set_axis(["frequency", "recency", "T"], axis=1)
        if not _same_data(reference, plain):
            raise ValueError(
                f"the models were not fitted on the calibration data given (checked "
                f"with {names[0]!r}); fit them on it first"
            )
    with_holdout = frame is not None and set(_HOLDOUT_COLUMNS) <= set(frame.columns)
    if with_holdout and frame is not None and not set(_CAL_COLUMNS) <= set(frame.columns):
        raise ValueError(
            "the holdout errors need the calibration histories: give calibration, or "
            "a holdout frame with frequency_cal, recency_cal and T_cal"
        )

    rows = []
    for name in names:
        model = models[name]
        row: dict[str, Any] = {
            "log_likelihood": model.log_likelihood_,
            "n_params": len(model.params_),
            "aic": model.aic,
            "bic": model.bic,
        }
        if isinstance(model, (TransactionFitter, BetaGeoBetaBinomFitter, MBGCNBDkFitter)):
            own = covariates if cov.model_has_covariates(model) else None
            # The MBG/CNBD-k has every method the table uses (its P(X(t) = n)).
            purchases: Any = model
            test = period_transactions_chi_square(purchases, max_frequency, own)
            row.update(
                chi_square=test.statistic, chi_square_dof=test.dof, chi_square_p_value=test.p_value
            )
        else:
            row.update(chi_square=math.nan, chi_square_dof=math.nan, chi_square_p_value=math.nan)
        if with_holdout and frame is not None:
            own = covariates if cov.model_has_covariates(model) else None
            mae, rmse, relative = _holdout_errors(model, frame, own)
            row.update(holdout_mae=mae, holdout_rmse=rmse, holdout_relative_error=relative)
        rows.append(row)
    table = pd.DataFrame(rows, index=pd.Index(names, name="model"))
    table["n_params"] = table["n_params"].astype(np.int64)
    return table


def likelihood_ratio_test(restricted: BaseFitter, full: BaseFitter) -> ChiSquareResult:
    r"""Likelihood-ratio test of a model against a larger one it is nested in.

    ``restricted`` is ``full`` with some parameters fixed (typically a model without
    covariates against the same model with them: all coefficients 0). Under the
    restricted model, :math:`2(\ln L_{full} - \ln L_{restricted})` is asymptotically
    chi-square with as many degrees of freedom as ``full`` has more parameters.

    Parameters
    ----------
    restricted, full : fitted fitters
        Maximum-likelihood fits (no penalty) on the same customers; ``full``'s
        parameters include every parameter name of ``restricted``.

    Returns
    -------
    ChiSquareResult
        ``statistic``, ``dof`` and ``p_value``.

    Raises
    ------
    ValueError
        If the models are not nested, not fitted on the same data, penalised, or
        ``full``'s log-likelihood is below ``restricted``'s (a fit that did not
        reach its optimum).

    Examples
    --------
    >>> from retentionkit import ParetoNBDFitter
    >>> from retentionkit.datasets import load_cdnow_summary
    >>> from retentionkit.model_comparison import likelihood_ratio_test
    >>> df = load_cdnow_summary()
    >>> df["noise"] = (df.index % 7) / 7.0
    >>> plain = ParetoNBDFitter().fit(df)
    >>> full = ParetoNBDFitter().fit(df, purchase_covariate_cols=["noise"])
    >>> likelihood_ratio_test(plain, full).dof
    1
    """
    for model, name in ((restricted, "restricted"), (full, "full")):
        if not isinstance(model, BaseFitter):
            raise ValueError(f"{name} must be a fitted retentionkit fitter, got {type(model)}")
        penalised = model.penalizer_coef != 0 or np.any(
            np.asarray(getattr(model, "covariate_penalizer_", None) or 0.0) != 0
        )
        if penalised:
            raise ValueError(
                f"the {name} model was fitted with a penalty: the likelihood-ratio test "
                "needs maximum-likelihood fits"
            )
    small, large = list(restricted.params_.index), list(full.params_.index)
    extra = [n for n in small if n not in large]
    if type(restricted) is not type(full) or extra:
        raise ValueError(
            f"the models are not nested: {type(restricted).__name__} with "
            f"{small} is not {type(full).__name__} with {large} with some parameters fixed"
        )
    dof = len(large) - len(small)
    if dof <= 0:
        raise ValueError("the full model must have more parameters than the restricted one")
    if (
        restricted.data is not None
        and full.data is not None
        and not _same_data(restricted.data, full.data)
    ) or restricted.n_customers_ != full.n_customers_:
        raise ValueError("the two models were not fitted on the same customers")
    statistic = 2.0 * (full.log_likelihood_ - restricted.log_likelihood_)
    if statistic < -1e-6:
        raise ValueError(
            f"the full model's log-likelihood ({full.log_likelihood_:.6f}) is below the "
            f"restricted one's ({restricted.log_likelihood_:.6f}): a fit did not reach "
            "its maximum"
        )
    statistic = max(statistic, 0.0)
    return ChiSquareResult(statistic, dof, chi_square_sf(statistic, dof))


# polars/pyarrow arguments in, results in their library (see retentionkit._frames).
from ._frames import accept_frames_in_module  # noqa: E402

accept_frames_in_module(globals(), __all__)
