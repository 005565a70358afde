r"""Contractual (subscription) retention: the sBG and BdW models, and retention tables.

References
----------
Fader, P. S. & Hardie, B. G. S. (2007), "How to project customer retention",
Journal of Interactive Marketing 21(1), 76-90 (the shifted-beta-geometric model).

Fader, P. S., Hardie, B. G. S., Liu, Y., Davin, J. & Steenburgh, T. (2018), "'How to
project customer retention' revisited: the role of duration dependence", Journal of
Interactive Marketing 43, 1-16 (the beta-discrete-Weibull model).

Fader, P. S. & Hardie, B. G. S. (2010), "Customer-base valuation in a contractual
setting: the perils of ignoring heterogeneity", Marketing Science 29(1), 85-93
(discounted expected (residual) lifetimes).

Time is counted in renewal periods. A cohort acquired at the start of period 0 has
:math:`n_t` customers still active at the start of period :math:`t`; a customer's
lifetime :math:`T \ge 1` is the number of periods paid for, :math:`S(t) = P(T > t)`
and the retention rate of period :math:`t` is :math:`r(t) = S(t) / S(t - 1)`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, TypeVar

import numpy as np
import pandas as pd

from .._core import (
    BetaDiscreteWeibullCovariatesModel,
    BetaDiscreteWeibullModel,
    InvalidDataError,
    ShiftedBetaGeometricCovariatesModel,
    ShiftedBetaGeometricModel,
)
from .._covariates import Covariates, has_covariates, not_supported
from .._validation import (
    ArrayLike,
    FloatArray,
    Result,
    as_float_array,
    index_label,
    invalid_data_error,
    name_rows,
    plain,
    prepare,
)
from ._with_covariates import CovariateFitter, covariate_inputs
from .base import _fit_settings, _interval_frame, _per_customer, _seed, _whole_number

__all__ = ["BetaDiscreteWeibullFitter", "ShiftedBetaGeometricFitter", "retention_table"]

_F = TypeVar("_F", bound="_ContractualFitter")


def _cohort_columns(cohorts: Any) -> tuple[list[FloatArray], list[Any], list[pd.Index]]:
    """Each cohort's survivor counts (trailing NaN removed), its label and its index."""
    if isinstance(cohorts, pd.DataFrame):
        items: list[tuple[Any, Any]] = list(cohorts.items())
    elif isinstance(cohorts, Mapping):
        items = list(cohorts.items())
    elif isinstance(cohorts, np.ndarray) and cohorts.ndim == 2:
        items = [(i, cohorts[:, i]) for i in range(cohorts.shape[1])]
    elif isinstance(cohorts, Sequence) and not isinstance(cohorts, str):
        items = list(enumerate(cohorts))
    else:
        raise ValueError(
            "cohorts must be a DataFrame (one column per cohort), a dict or a list of "
            f"survivor-count sequences, got {type(cohorts).__name__}"
        )
    if not items:
        raise ValueError("no cohorts given")
    counts, labels, indexes = [], [], []
    for label, column in items:
        index = column.index if isinstance(column, pd.Series) else None
        values = as_float_array(column, f"cohort {plain(label)}").reshape(-1)
        if index is None:
            index = pd.RangeIndex(len(values))
        observed = np.flatnonzero(~np.isnan(values))
        end = observed[-1] + 1 if observed.size else 0
        gaps = np.flatnonzero(np.isnan(values[:end]))
        if gaps.size:
            raise ValueError(
                f"invalid data: cohort {plain(label)} has a missing count at period "
                f"{plain(index[gaps[0]])} before later counts; NaN is only allowed at the end "
                "of a cohort (periods not yet observed)"
            )
        counts.append(np.ascontiguousarray(values[:end]))
        labels.append(label)
        indexes.append(index)
    return counts, labels, indexes


@contextmanager
def _name_cohorts(labels: list[Any], indexes: list[pd.Index]) -> Iterator[None]:
    """Add the cohort's label and the period's index label to a core error
    (and the period's label as ``label``, None for a default RangeIndex)."""
    try:
        yield
    except InvalidDataError as exc:
        cohort, period = exc.cohort, exc.period
        if cohort is not None and period is not None and cohort < len(labels):
            index = indexes[cohort]
            if period < len(index):
                exc.label = index_label(index, period)
                exc.args = (
                    f"{exc} [cohort {plain(labels[cohort])}, period label {plain(index[period])}]",
                )
        raise


def _as_churned(churned: Any, n: int) -> np.ndarray:
    """``churned`` as a contiguous bool array; numbers must be 0 or 1."""
    if isinstance(churned, pd.Series):
        churned = churned.to_numpy()
    array = np.asarray(churned)
    if array.dtype != np.bool_:
        numbers = as_float_array(array, "churned").reshape(-1)
        bad = np.flatnonzero(~np.isin(numbers, (0.0, 1.0)))
        if bad.size:
            raise invalid_data_error(
                "invalid data: churned must be True/False or 1/0 "
                f"(first offending row: {bad[0]}; churned={numbers[bad[0]]})",
                rule="churned must be True/False or 1/0",
                row=int(bad[0]),
                column="churned",
            )
        array = numbers == 1.0
    array = np.ascontiguousarray(array, dtype=np.bool_).reshape(-1)
    if array.size != n:
        raise ValueError(
            f"invalid data: churned has length {array.size}, expected {n} "
            "(all inputs must have the same length)"
        )
    return array


def _periods_as_levels(table: Any) -> Any:
    """Period columns (such as ``subscription_summary``'s ``cohort``) as categories
    labelled like ``2024-01``, so that a cohort is a covariate."""
    if isinstance(table, pd.Series):
        table = table.to_frame()
    if not isinstance(table, pd.DataFrame):
        return table
    periods = [c for c in table.columns if isinstance(table[c].dtype, pd.PeriodDtype)]
    if not periods:
        return table
    return table.assign(**{str(c): table[c].astype(str) for c in periods})


def _one_of(periods: Any, n_renewals: Any) -> Any:
    """``periods``, or its older name ``n_renewals``."""
    if n_renewals is not None:
        if periods is not None:
            raise ValueError("give periods or n_renewals (its older name), not both")
        return n_renewals
    return periods


def _interval_settings(level: float, n_draws: int, seed: int | None) -> dict[str, Any]:
    return {
        "level": float(level),
        "n_draws": _whole_number(n_draws, "n_draws", 0),
        "seed": _seed(seed),
    }


def retention_table(survivors: ArrayLike, model: _ContractualFitter | None = None) -> pd.DataFrame:
    r"""Empirical retention and churn rates of one cohort, beside a model's projection.

    For survivor counts :math:`n_0, n_1, \ldots` (customers still active at the start
    of each period), the empirical retention rate of period :math:`t \ge 1` is
    :math:`n_t / n_{t-1}` and the churn rate is one minus it. With a fitted model, the
    projection is :math:`n_0 S(t)` survivors and the model's :math:`r(t)` and
    :math:`1 - r(t)`.

    Parameters
    ----------
    survivors : array_like or pandas.Series
        One cohort's counts, period 0 first. Trailing NaN marks periods not yet
        observed: they get projections only.
    model : ShiftedBetaGeometricFitter or BetaDiscreteWeibullFitter, optional
        A fitted model, for the ``projected_*`` columns.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``survivors`` (by ``period`` 0, 1, ... for a list), with columns
        ``survivors``, ``retention_rate`` and ``churn_rate`` and, given a model,
        ``projected_survivors``, ``projected_retention_rate`` and
        ``projected_churn_rate``. The rates of period 0 are NaN.

    Examples
    --------
    >>> from retentionkit import retention_table
    >>> table = retention_table([1000, 631, 468, 382])
    >>> table["retention_rate"].round(3).tolist()
    [nan, 0.631, 0.742, 0.816]
    """
    counts = as_float_array(survivors, "survivors").reshape(-1)
    if counts.size == 0:
        raise ValueError("survivors is empty")
    if isinstance(survivors, pd.Series):
        index = survivors.index
    else:
        index = pd.RangeIndex(counts.size, name="period")
    with np.errstate(divide="ignore", invalid="ignore"):
        retention = np.concatenate([[np.nan], counts[1:] / counts[:-1]])
    table = pd.DataFrame(
        {"survivors": counts, "retention_rate": retention, "churn_rate": 1.0 - retention},
        index=index,
    )
    if model is not None:
        periods = np.arange(counts.size, dtype=np.float64)
        core = model._core()
        projected_rate = np.concatenate([[np.nan], np.asarray(core.retention_rate(periods[1:]))])
        table["projected_survivors"] = counts[0] * np.asarray(core.survival(periods))
        table["projected_retention_rate"] = projected_rate
        table["projected_churn_rate"] = 1.0 - projected_rate
    return table


class _ContractualFitter(CovariateFitter):
    """What the sBG and BdW fitters share; not used directly."""

    def fit(
        self: _F,
        survivors: Any | None = None,
        churned: ArrayLike | None = None,
        *,
        periods: ArrayLike | None = None,
        cohorts: Any | None = None,
        durations: ArrayLike | None = None,
        weights: ArrayLike | None = None,
        covariates: Covariates | None = None,
        alpha_covariates: Covariates | None = None,
        beta_covariates: Covariates | None = None,
        covariate_penalizer: float | Sequence[float] = 0.0,
        initial_params: Any | None = None,
        verbose: bool = False,
        tol: float = 1e-8,
        max_iterations: int = 200,
    ) -> _F:
        r"""Fit the model by maximum likelihood, to cohorts or to individual subscribers.

        Give exactly one of: ``survivors`` (one cohort's counts, or a DataFrame of
        cohorts), ``cohorts``, ``periods`` with ``churned`` (subscribers; also
        ``fit(periods, churned)`` positionally), or ``durations`` with ``churned``.
        A cohort :math:`n_0, \ldots, n_k` contributes (Fader & Hardie 2007)

        .. math::

            LL = \sum_{t=1}^{k} (n_{t-1} - n_t) \ln P(T = t) + n_k \ln S(k);

        a subscriber who churned after paying for ``periods`` periods contributes
        :math:`\ln P(T = \text{periods})`, one still active after ``periods``
        renewals :math:`\ln S(\text{periods})`. A cohort expanded to its subscribers
        gives the same estimates.

        With ``covariates`` (subscribers only), subscriber :math:`i`'s shapes are

        .. math::

            \alpha_i = \alpha\, e^{\gamma_\alpha^\top z_i}, \qquad
            \beta_i = \beta\, e^{\gamma_\beta^\top z_i}

        (the BdW's :math:`c` is common), with coefficients named ``alpha:<column>``
        and ``beta:<column>``. A subscriber's mean churn probability is
        :math:`\alpha_i / (\alpha_i + \beta_i)`: a positive ``alpha:`` coefficient
        raises it, a positive ``beta:`` coefficient lowers it. All coefficients 0 is
        the model without covariates. Categorical columns become dummies (the first
        level the reference); a cohort column makes one model of many cohorts.

        Parameters
        ----------
        survivors : array_like, pandas.Series or pandas.DataFrame, optional
            Customers still active at the start of periods 0, 1, ..., k of one cohort
            (non-negative integers, non-increasing, the first positive); a DataFrame
            is read as ``cohorts``, unless it has the columns ``periods`` and
            ``churned`` (the table of :func:`retentionkit.utils.subscription_summary`):
            then it is the subscribers. Given with ``churned``, it is ``periods``.
        churned : array_like of bool, optional
            Whether each subscriber has churned (True/False or 1/0).
        periods : array_like, optional
            Per subscriber: periods paid for (churned; at least 1) or renewal
            opportunities reached and taken (active; 0 for a subscriber younger than
            one period), as :func:`retentionkit.utils.subscription_summary` gives.
        cohorts : pandas.DataFrame, dict or list, optional
            Several cohorts: one column (dict entry, list item) per cohort, rows =
            periods from 0; younger cohorts end with NaN.
        durations : array_like, optional
            As ``periods``, positive integers (the older name).
        weights : array_like, optional
            Number of subscribers with each record.
        covariates : pandas.DataFrame or 2-D array, optional
            Subscribers' time-invariant traits, entering both :math:`\alpha` and
            :math:`\beta`; a DataFrame is aligned by label on the index of
            ``periods``.
        alpha_covariates, beta_covariates : pandas.DataFrame or 2-D array, optional
            Traits entering only :math:`\alpha` (resp. :math:`\beta`), instead of
            ``covariates``.
        covariate_penalizer : float or (float, float), default 0.0
            L2 penalty :math:`\lambda` on the coefficients (one value, or one for the
            alpha and one for the beta coefficients).
        initial_params : sequence of floats, optional
            Starting values, in the order of ``params_``.
        verbose : bool, default False
            Print the optimiser's progress.
        tol : float, default 1e-8
            Convergence tolerance of the optimiser.
        max_iterations : int, default 200
            Iteration limit of the optimiser.

        Returns
        -------
        self
            Fitted. ``data`` holds the survivor counts (one column per cohort,
            indexed by ``period``, NaN-padded) or the records (columns ``periods``
            -- ``duration`` for ``durations`` --, ``churned``, ``weights`` and the
            raw covariates).

        Raises
        ------
        ValueError
            On invalid data; the message names the rule, the cohort and the period
            (or the first offending row of the records).
        retentionkit.ConvergenceError
            If the optimiser does not converge (a ``ValueError`` subclass).
        """
        if (
            isinstance(survivors, pd.DataFrame)
            and churned is None
            and periods is None
            and {"periods", "churned"} <= set(survivors.columns)
        ):
            # subscription_summary's table: one row per subscriber.
            periods, churned, survivors = survivors["periods"], survivors["churned"], None
        if churned is not None and survivors is not None:
            if periods is not None or durations is not None:
                raise ValueError("give the subscribers' periods once (periods= or positionally)")
            periods, survivors = survivors, None
        start, tol, max_iterations = _fit_settings(
            initial_params, tol, max_iterations, list(self._core_class.PARAM_NAMES)
        )
        options: dict[str, Any] = {
            "penalizer_coef": self.penalizer_coef,
            "initial_params": start,
            "tol": tol,
            "max_iterations": max_iterations,
            "verbose": verbose,
        }
        given = [
            survivors is not None,
            cohorts is not None,
            durations is not None,
            periods is not None,
        ]
        if sum(given) != 1:
            raise ValueError(
                "give exactly one of survivors, cohorts, or periods (or durations) with churned"
            )
        request = self._request(
            None,
            self._subscriber_covariates(covariates, alpha_covariates, beta_covariates),
            {},
            [],
            covariate_penalizer,
        )
        if request is not None and initial_params is not None:
            raise ValueError(
                "initial_params is not available with covariates (the fit starts from the "
                "model without them and coefficients 0)"
            )
        records = periods if periods is not None else durations
        if records is not None:
            name = "periods" if periods is not None else "durations"
            if churned is None:
                raise ValueError(f"{name} need churned (whether each subscriber has churned)")
            inputs: dict[str, Any] = {name: records}
            if weights is not None:
                inputs["weights"] = weights
            prepared = prepare(**inputs)
            if len(prepared.shape) != 1:
                raise ValueError(f"{name} must be one-dimensional, got shape {prepared.shape}")
            d = prepared.arrays[0]
            w = prepared.arrays[1] if weights is not None else None
            flags = _as_churned(churned, d.size)
            design = None
            with name_rows(prepared.index):
                if request is not None:
                    index = prepared.index
                    if index is None:
                        index = pd.RangeIndex(d.size)
                    design = self._design(request, index)
                    options["penalizer_coef"] = 1.0 if any(design.penalties) else 0.0
                    model = self._covariate_core_class.fit(
                        d,
                        flags,
                        design.matrix,
                        design.columns,
                        design.by_process,
                        design.shared,
                        penalties=design.penalties,
                        weights=w,
                        **options,
                    )
                elif periods is not None:
                    model = self._core_class.fit_subscribers(d, flags, w, **options)
                else:
                    model = self._core_class.fit_durations(d, flags, w, **options)
            data = pd.DataFrame(
                {
                    "periods" if periods is not None else "duration": d,
                    "churned": flags,
                    "weights": np.ones_like(d) if w is None else w,
                },
                index=prepared.index,
                copy=True,
            )
            if design is not None:
                data = pd.concat([data, design.raw.set_axis(data.index)], axis=1)
            self._keep_design(design, request["penalizer"] if request else None)
        else:
            if churned is not None or weights is not None:
                raise ValueError("churned and weights go with periods, not with survivor counts")
            if request is not None:
                raise ValueError(
                    "covariates are per subscriber: fit periods and churned (see "
                    "retentionkit.utils.subscription_summary), not survivor counts"
                )
            many = cohorts is not None or isinstance(survivors, (pd.DataFrame, Mapping))
            if isinstance(survivors, np.ndarray) and survivors.ndim == 2:
                many = True
            if many:
                counts, labels, indexes = _cohort_columns(
                    cohorts if cohorts is not None else survivors
                )
            else:
                counts, labels, indexes = _cohort_columns([survivors])
                if isinstance(survivors, pd.Series) and survivors.name is not None:
                    labels = [survivors.name]
            with _name_cohorts(labels, indexes):
                model = self._core_class.fit_cohorts([c.tolist() for c in counts], **options)
            longest = max(c.size for c in counts)
            data = pd.DataFrame(
                {
                    label: np.pad(c, (0, longest - c.size), constant_values=np.nan)
                    for label, c in zip(labels, counts)
                },
                index=pd.RangeIndex(longest, name="period"),
            )
            self._keep_design(None, None)
        self._model = model
        self.data = data
        return self

    # -- predictions ---------------------------------------------------------------

    def survival_function(
        self,
        t: ArrayLike,
        *,
        covariates: Covariates | None = None,
        alpha_covariates: Covariates | None = None,
        beta_covariates: Covariates | None = None,
    ) -> Result:
        r"""Share of a cohort still active at the start of period ``t``: :math:`S(t) = P(T > t)`.

        Parameters
        ----------
        t : array_like
            Periods (non-negative integers); :math:`S(0) = 1`.
        covariates, alpha_covariates, beta_covariates : pandas.DataFrame, optional
            Required by a model fitted with covariates: the segment (one row, for
            every ``t``) or one row per ``t``, as given to :meth:`fit`.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Shaped like ``t``.
        """
        return self._predict(
            "survival",
            covariates=self._subscriber_covariates(covariates, alpha_covariates, beta_covariates),
            t=t,
        )

    def retention_rate(
        self,
        t: ArrayLike,
        *,
        covariates: Covariates | None = None,
        alpha_covariates: Covariates | None = None,
        beta_covariates: Covariates | None = None,
    ) -> Result:
        r"""Retention rate of period ``t``: :math:`r(t) = S(t) / S(t - 1)`.

        The share of the customers active in period :math:`t - 1` who renew for
        period :math:`t`; for the sBG (Fader & Hardie 2007)
        :math:`r(t) = (\beta + t - 1) / (\alpha + \beta + t - 1)`. With covariates,
        the curve of a segment: :math:`\alpha_i, \beta_i` in place of
        :math:`\alpha, \beta` (see :meth:`retention_rate_by_segment`).

        Parameters
        ----------
        t : array_like
            Periods (integers of at least 1).
        covariates, alpha_covariates, beta_covariates : pandas.DataFrame, optional
            Required by a model fitted with covariates: the segment (one row, for
            every ``t``) or one row per ``t``.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        return self._predict(
            "retention_rate",
            covariates=self._subscriber_covariates(covariates, alpha_covariates, beta_covariates),
            t=t,
        )

    def probability_of_churn_at(self, t: ArrayLike) -> Result:
        r"""Probability that a new customer churns after exactly ``t`` periods.

        :math:`P(T = t) = S(t - 1) - S(t)`; for the sBG (Fader & Hardie 2007)
        :math:`B(\alpha + 1, \beta + t - 1) / B(\alpha, \beta)`.

        Parameters
        ----------
        t : array_like
            Periods (integers of at least 1).

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        return self._predict("probability_of_churn_at", t=t)

    @property
    def expected_lifetime(self) -> float:
        r"""Expected lifetime of a new customer in periods, :math:`E[T] = \sum_{t \ge 0} S(t)`.

        ``inf`` when the mean does not exist: for the sBG when :math:`\alpha \le 1`
        (then :math:`E[T] = E[1/\theta]` diverges; otherwise it is
        :math:`(\alpha + \beta - 1) / (\alpha - 1)`), for the BdW when
        :math:`c \alpha \le 1`.
        """
        model = self._core()
        if has_covariates(model):
            raise not_supported("expected_lifetime")
        return float(model.expected_lifetime())

    def discounted_expected_lifetime(self, discount_rate: ArrayLike) -> Result:
        r"""Discounted expected lifetime of a new customer, in payments.

        Fader & Hardie (2010), with one payment at the start of each period and
        per-period discount rate :math:`d`:

        .. math::

            DEL(d) = \sum_{t=0}^{\infty} \frac{S(t)}{(1 + d)^t}
                   = {}_2F_1\left(1, \beta; \alpha + \beta; \tfrac{1}{1 + d}\right)
                   \quad\text{(sBG)}.

        Multiplied by the margin per period it is the expected CLV of a customer
        about to make the first payment. For the BdW the series is summed.

        Parameters
        ----------
        discount_rate : array_like
            Per-period discount rates :math:`d > 0`.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        return self._predict("discounted_expected_lifetime", discount_rate=discount_rate)

    def discounted_expected_residual_lifetime(
        self,
        periods: ArrayLike | None = None,
        discount_rate: ArrayLike | None = None,
        *,
        n_renewals: ArrayLike | None = None,
        covariates: Covariates | None = None,
        alpha_covariates: Covariates | None = None,
        beta_covariates: Covariates | None = None,
    ) -> Result:
        r"""Discounted expected residual lifetime of a subscriber who has made ``periods`` renewals.

        Eq. (6) of Fader & Hardie (2010): the subscriber is valued at the end of
        period :math:`n`, just before her next renewal decision, so the next payment
        (if she renews) is not discounted:

        .. math::

            DERL(d, n) = \sum_{t=n+1}^{\infty} \frac{S(t)}{S(n)} \frac{1}{(1 + d)^{t-n-1}}
            = \frac{\beta + n}{\alpha + \beta + n}\,
              {}_2F_1\left(1, \beta + n + 1; \alpha + \beta + n + 1; \tfrac{1}{1 + d}\right)
            \quad\text{(sBG)}.

        Hence :math:`DEL(d) = 1 + DERL(d, 0) / (1 + d)`. For the BdW the series is
        summed. Multiplied by the margin per period, it is the subscriber's
        expected residual value. With covariates, each subscriber's
        :math:`\alpha_i, \beta_i` replace :math:`\alpha, \beta`.

        Parameters
        ----------
        periods : array_like
            Renewals made so far (non-negative integers), as
            :func:`retentionkit.utils.subscription_summary` gives for an active
            subscriber. ``n_renewals`` is the older name.
        discount_rate : array_like
            Per-period discount rates :math:`d > 0`; broadcast with ``periods``.
        covariates, alpha_covariates, beta_covariates : pandas.DataFrame, optional
            Required by a model fitted with covariates (as given to :meth:`fit`).

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Aligned to the input (a Series indexed like a Series given).
        """
        periods = _one_of(periods, n_renewals)
        if discount_rate is None:
            raise ValueError("discount_rate is required (the per-period discount rate d > 0)")
        return self._subscriber_values(
            "discounted_residual_lifetime",
            periods,
            ("discount_rate", discount_rate),
            self._subscriber_covariates(covariates, alpha_covariates, beta_covariates),
        )

    # -- per subscriber (issue 15) ------------------------------------------------------

    def conditional_probability_of_renewal(
        self,
        periods: ArrayLike | None = None,
        *,
        covariates: Covariates | None = None,
        alpha_covariates: Covariates | None = None,
        beta_covariates: Covariates | None = None,
    ) -> Result:
        r"""Probability that an active subscriber renews at the next opportunity.

        For a subscriber who has made :math:`n` renewals (so :math:`T > n`),

        .. math::

            P(T > n + 1 \mid T > n) = \frac{S(n + 1)}{S(n)} = r(n + 1)
            = \frac{\beta + n}{\alpha + \beta + n} \quad\text{(sBG)},

        at the subscriber's own :math:`\alpha_i, \beta_i` with covariates. One minus
        it is the probability of cancelling next period.

        Parameters
        ----------
        periods : array_like, optional
            Renewals made (non-negative integers); omitted, the fitted subscribers'.
        covariates, alpha_covariates, beta_covariates : pandas.DataFrame, optional
            Required by a model fitted with covariates (omitted with ``periods``
            too: the fitted subscribers').

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Aligned to the input.
        """
        return self._subscriber_values(
            "renewal",
            periods,
            None,
            self._subscriber_covariates(covariates, alpha_covariates, beta_covariates),
        )

    def conditional_survival_function(
        self,
        k: ArrayLike,
        periods: ArrayLike | None = None,
        *,
        covariates: Covariates | None = None,
        alpha_covariates: Covariates | None = None,
        beta_covariates: Covariates | None = None,
    ) -> Result:
        r"""Probability that an active subscriber is still active ``k`` periods ahead.

        .. math::

            P(T > n + k \mid T > n) = \frac{S(n + k)}{S(n)}
            = \frac{B(\alpha, \beta + n + k)}{B(\alpha, \beta + n)} \quad\text{(sBG)},

        with :math:`\beta + (n+k)^c` and :math:`\beta + n^c` for the BdW.

        Parameters
        ----------
        k : array_like
            Periods ahead (non-negative integers); broadcast with ``periods``.
        periods : array_like, optional
            Renewals made; omitted, the fitted subscribers'.
        covariates, alpha_covariates, beta_covariates : pandas.DataFrame, optional
            Required by a model fitted with covariates.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        return self._subscriber_values(
            "survival",
            periods,
            ("k", k),
            self._subscriber_covariates(covariates, alpha_covariates, beta_covariates),
        )

    def expected_residual_lifetime(
        self,
        periods: ArrayLike | None = None,
        *,
        covariates: Covariates | None = None,
        alpha_covariates: Covariates | None = None,
        beta_covariates: Covariates | None = None,
    ) -> Result:
        r"""Expected number of renewals still to come of an active subscriber.

        .. math::

            E[T - n - 1 \mid T > n] = \sum_{t > n} \frac{S(t)}{S(n)}
            = \frac{\beta + n}{\alpha - 1} \quad\text{(sBG, } \alpha > 1\text{)},

        the undiscounted :meth:`discounted_expected_residual_lifetime`. ``inf`` when
        the series diverges (sBG :math:`\alpha \le 1`, BdW :math:`c\alpha \le 1`):
        then use the discounted form.

        Parameters
        ----------
        periods : array_like, optional
            Renewals made; omitted, the fitted subscribers'.
        covariates, alpha_covariates, beta_covariates : pandas.DataFrame, optional
            Required by a model fitted with covariates.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        return self._subscriber_values(
            "residual_lifetime",
            periods,
            None,
            self._subscriber_covariates(covariates, alpha_covariates, beta_covariates),
        )

    def conditional_probability_of_renewal_interval(
        self,
        periods: ArrayLike | None = None,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int | None = None,
        *,
        covariates: Covariates | None = None,
        alpha_covariates: Covariates | None = None,
        beta_covariates: Covariates | None = None,
    ) -> pd.DataFrame:
        r""":meth:`conditional_probability_of_renewal` with an interval over the
        uncertainty of the estimates.

        ``n_draws`` parameter vectors (coefficients included) are drawn from the
        asymptotic normal distribution of the estimates (log scale for
        :math:`\alpha, \beta, c`); each subscriber's prediction is computed under
        every draw and the :math:`(1 \mp \text{level})/2` quantiles are the bounds,
        as for the transaction models' intervals.

        Returns
        -------
        pandas.DataFrame
            Columns ``estimate``, ``lower``, ``upper``.
        """
        return self._subscriber_values(
            "renewal",
            periods,
            None,
            self._subscriber_covariates(covariates, alpha_covariates, beta_covariates),
            interval=_interval_settings(level, n_draws, seed),
        )

    def conditional_survival_function_interval(
        self,
        k: ArrayLike,
        periods: ArrayLike | None = None,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int | None = None,
        *,
        covariates: Covariates | None = None,
        alpha_covariates: Covariates | None = None,
        beta_covariates: Covariates | None = None,
    ) -> pd.DataFrame:
        """:meth:`conditional_survival_function` with an interval (see
        :meth:`conditional_probability_of_renewal_interval`)."""
        return self._subscriber_values(
            "survival",
            periods,
            ("k", k),
            self._subscriber_covariates(covariates, alpha_covariates, beta_covariates),
            interval=_interval_settings(level, n_draws, seed),
        )

    def expected_residual_lifetime_interval(
        self,
        periods: ArrayLike | None = None,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int | None = None,
        *,
        covariates: Covariates | None = None,
        alpha_covariates: Covariates | None = None,
        beta_covariates: Covariates | None = None,
    ) -> pd.DataFrame:
        """:meth:`expected_residual_lifetime` with an interval (see
        :meth:`conditional_probability_of_renewal_interval`)."""
        return self._subscriber_values(
            "residual_lifetime",
            periods,
            None,
            self._subscriber_covariates(covariates, alpha_covariates, beta_covariates),
            interval=_interval_settings(level, n_draws, seed),
        )

    def discounted_expected_residual_lifetime_interval(
        self,
        periods: ArrayLike | None = None,
        discount_rate: ArrayLike | None = None,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int | None = None,
        *,
        covariates: Covariates | None = None,
        alpha_covariates: Covariates | None = None,
        beta_covariates: Covariates | None = None,
    ) -> pd.DataFrame:
        """:meth:`discounted_expected_residual_lifetime` with an interval (see
        :meth:`conditional_probability_of_renewal_interval`)."""
        if discount_rate is None:
            raise ValueError("discount_rate is required (the per-period discount rate d > 0)")
        return self._subscriber_values(
            "discounted_residual_lifetime",
            periods,
            ("discount_rate", discount_rate),
            self._subscriber_covariates(covariates, alpha_covariates, beta_covariates),
            interval=_interval_settings(level, n_draws, seed),
        )

    def retention_rate_by_segment(self, t: ArrayLike, segments: pd.DataFrame) -> pd.DataFrame:
        r"""The retention-rate curve :math:`r(t)` of each segment.

        Parameters
        ----------
        t : array_like
            Periods (integers of at least 1).
        segments : pandas.DataFrame
            One row per segment, with the covariate columns of the fit.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``t`` (named ``period``), one column per segment (labelled
            by ``segments``' index).
        """
        periods = np.asarray(t, dtype=np.float64).reshape(-1)
        if not isinstance(segments, pd.DataFrame):
            raise ValueError("segments must be a DataFrame with one row per segment")
        columns = {}
        for label in segments.index:
            row = segments.loc[[label]]
            columns[label] = np.asarray(
                self.retention_rate(periods, covariates=row.reset_index(drop=True))
            )
        return pd.DataFrame(columns, index=pd.Index(periods.astype(np.int64), name="period"))

    def _subscriber_covariates(
        self,
        covariates: Covariates | None,
        alpha_covariates: Covariates | None,
        beta_covariates: Covariates | None,
    ) -> dict[str, Any]:
        """The covariate keywords as the model's groups (``covariates`` enters both)."""
        if covariates is not None and (alpha_covariates is not None or beta_covariates is not None):
            raise ValueError(
                "pass covariates (entering both alpha and beta) or alpha_covariates / "
                "beta_covariates, not both"
            )
        if covariates is not None:
            covariates = _periods_as_levels(covariates)
            return {"alpha": covariates, "beta": covariates}
        return {
            "alpha": _periods_as_levels(alpha_covariates),
            "beta": _periods_as_levels(beta_covariates),
        }

    def _covariate_arguments(self) -> list[str]:
        return ["covariates", "alpha_covariates", "beta_covariates"]

    def _refuse(self, given: Mapping[str, Any]) -> None:
        if any(z is not None for z in given.values()):
            raise ValueError(
                f"this {type(self).__name__} has no covariates (it was fitted, or its "
                "params_ set, without them): do not pass covariates"
            )

    def _subscriber_values(
        self,
        what: str,
        periods: ArrayLike | None,
        extra: tuple[str, ArrayLike] | None,
        given: dict[str, Any],
        interval: dict[str, Any] | None = None,
    ) -> Any:
        """The native per-subscriber prediction ``what`` (with an interval when
        ``interval`` holds its settings), shaped like the inputs."""
        model = self._core()
        given = {g: z for g, z in given.items() if z is not None}
        if periods is None:
            if self.data is None or "periods" not in self.data.columns:
                raise ValueError(
                    "no periods given and the model was not fitted to subscribers: pass periods"
                )
            periods = self.data["periods"]
            fitted = self._fitted_covariates()
            if not given and fitted is not None:
                given = {"fitted": fitted}
        inputs: dict[str, Any] = {"periods": periods}
        if extra is not None:
            inputs[extra[0]] = extra[1]
        p = prepare(**inputs)
        if not has_covariates(model):
            self._refuse(given)
            if len(p.shape) > 1:
                raise ValueError(f"periods must be one-dimensional, got shape {p.shape}")
            arrays, z, index, scalar = p.arrays, None, p.index, p.shape == ()
        else:
            arrays, z, index, scalar = covariate_inputs(
                model, self._encoding, given, p, self._covariate_arguments()
            )
        args: list[Any] = [what, arrays[0], arrays[1] if extra is not None else None]
        if z is not None:
            args.append(z)
        with name_rows(index):
            if interval is not None:
                return _interval_frame(
                    model.subscriber_prediction_interval(*args, **interval), index
                )
            values = np.asarray(model.subscriber_prediction(*args))
        if scalar:
            return float(values[0])
        return values if index is None else pd.Series(values, index=index)

    def retention_table(self, survivors: ArrayLike) -> pd.DataFrame:
        """Empirical retention and churn rates beside this model's projection.

        See :func:`retentionkit.retention_table`.
        """
        if has_covariates(self._core()):
            raise ValueError(
                "retention_table projects the model without covariates; for a segment use "
                "retention_rate(t, covariates=...) or retention_rate_by_segment"
            )
        return retention_table(survivors, self)

    def _subjects(self) -> float | None:
        """Number of customers fitted on, from the fit only (``data`` may be cohorts)."""
        n: float | None = self._core().n_customers
        return n

    # -- simulation --------------------------------------------------------------------

    def generate_new_data(
        self,
        size: int = 1,
        n_periods: ArrayLike = 12,
        seed: int | None = None,
        *,
        covariates: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        r"""Simulate customers from the model.

        Each customer draws :math:`\theta \sim \mathrm{Beta}(\alpha, \beta)` and, in
        each period :math:`t = 1, \ldots,` ``n_periods``, churns with probability
        :math:`\theta` (sBG) or :math:`1 - (1 - \theta)^{t^c - (t-1)^c}` (BdW).

        Parameters
        ----------
        size : int, default 1
            Number of customers (ignored when ``n_periods`` is an array).
        n_periods : int or array_like, default 12
            Periods each customer is observed for (positive integers).
        seed : int, optional
            Seed of the random generator; the same seed gives the same data.
        covariates : pandas.DataFrame, optional
            Required by a model with covariates: one row per subscriber (its length
            gives the number of subscribers), each drawn at its own
            :math:`\alpha_i, \beta_i`.

        Returns
        -------
        pandas.DataFrame
            Columns ``duration``, ``churned`` (bool), ``theta`` and ``customer_id``
            (and the covariates); ``duration`` and ``churned`` can be passed back to
            :meth:`fit` as ``periods`` and ``churned``.
        """
        model = self._core()
        seed = _seed(seed)
        if has_covariates(model):
            if covariates is None:
                raise ValueError(
                    "this model has covariates: pass covariates=, one row per subscriber"
                )
            table = covariates.reset_index(drop=True)
            periods = _per_customer(n_periods, len(table), "n_periods")
            arrays, z, _, _ = covariate_inputs(
                model,
                self._encoding,
                {"alpha": table, "beta": table},
                prepare(n_periods=periods),
                self._covariate_arguments(),
            )
            duration, churned, theta = model.simulate(arrays[0], z, int(seed))
            out = pd.DataFrame(
                {
                    "duration": duration,
                    "churned": np.asarray(churned, dtype=bool),
                    "theta": theta,
                    "customer_id": np.arange(len(periods)),
                }
            )
            return pd.concat([out, table], axis=1)
        self._refuse({"covariates": covariates})
        # As documented, an array of n_periods overrides size.
        periods = _per_customer(n_periods, size, "n_periods", check_size=False)
        duration, churned, theta = model.simulate(periods, int(seed))
        return pd.DataFrame(
            {
                "duration": duration,
                "churned": np.asarray(churned, dtype=bool),
                "theta": theta,
                "customer_id": np.arange(len(periods)),
            }
        )


class ShiftedBetaGeometricFitter(_ContractualFitter):
    r"""Shifted-beta-geometric (sBG) model of contractual retention (Fader & Hardie 2007).

    At the end of each period a customer churns with probability :math:`\theta`,
    constant over her lifetime; across customers :math:`\theta \sim
    \mathrm{Beta}(\alpha, \beta)`. Retention rates of a cohort rise over time only
    because the customers most likely to churn leave first:

    .. math::

        P(T = t) = \frac{B(\alpha + 1, \beta + t - 1)}{B(\alpha, \beta)}, \qquad
        S(t) = \frac{B(\alpha, \beta + t)}{B(\alpha, \beta)}, \qquad
        r(t) = \frac{\beta + t - 1}{\alpha + \beta + t - 1}.

    Parameters
    ----------
    penalizer_coef : float, default 0.0
        Coefficient of an L2 penalty on the parameters.

    Attributes
    ----------
    params_ : pandas.Series
        ``alpha``, ``beta`` (then ``alpha:<column>``, ``beta:<column>`` when fitted
        with covariates: :math:`\alpha_i = \alpha e^{\gamma_\alpha^\top z_i}`,
        :math:`\beta_i = \beta e^{\gamma_\beta^\top z_i}`).
    summary : pandas.DataFrame
        Estimates with standard errors and 95% bounds.
    log_likelihood_, aic, bic : float
        Fit statistics.

    Examples
    --------
    Fader & Hardie (2007), regular customers, years 0-7:

    >>> from retentionkit import ShiftedBetaGeometricFitter
    >>> from retentionkit.datasets import load_retention_cohorts
    >>> cohorts = load_retention_cohorts()
    >>> sbg = ShiftedBetaGeometricFitter().fit(cohorts["regular"].loc[:7])
    >>> sbg.params_.round(3).to_dict()
    {'alpha': 0.704, 'beta': 1.182}
    >>> round(1000 * sbg.survival_function(12))  # 173 customers were still active
    170

    A subscriber who has renewed 3 times renews again with probability
    :math:`(\beta + 3) / (\alpha + \beta + 3)`, and is worth 5.44 payments at 10% a
    period (DERL):

    >>> round(sbg.conditional_probability_of_renewal(3), 3)
    0.856
    >>> round(sbg.discounted_expected_residual_lifetime(3, 0.1), 2)
    5.44
    """

    _core_class: ClassVar[Any] = ShiftedBetaGeometricModel
    _covariate_core_class: ClassVar[Any] = ShiftedBetaGeometricCovariatesModel


class BetaDiscreteWeibullFitter(_ContractualFitter):
    r"""Beta-discrete-Weibull (BdW) model of contractual retention (Fader et al. 2018).

    The sBG with duration dependence: a customer's survival is discrete Weibull,
    :math:`P(T > t \mid \theta) = (1 - \theta)^{t^c}`, with :math:`\theta \sim
    \mathrm{Beta}(\alpha, \beta)`, so

    .. math::

        S(t) = \frac{B(\alpha, \beta + t^c)}{B(\alpha, \beta)}, \qquad
        P(T = t) = S(t - 1) - S(t).

    :math:`c < 1` means individual churn probabilities that fall with tenure,
    :math:`c > 1` rising ones; :math:`c = 1` is the sBG.

    Parameters
    ----------
    penalizer_coef : float, default 0.0
        Coefficient of an L2 penalty on the parameters.

    Attributes
    ----------
    params_ : pandas.Series
        ``alpha``, ``beta``, ``c`` (then ``alpha:<column>``, ``beta:<column>`` when
        fitted with covariates; :math:`c` is common to every subscriber).
    summary : pandas.DataFrame
        Estimates with standard errors and 95% bounds.
    log_likelihood_, aic, bic : float
        Fit statistics.

    Examples
    --------
    >>> from retentionkit import BetaDiscreteWeibullFitter
    >>> bdw = BetaDiscreteWeibullFitter()
    >>> bdw.params_ = {"alpha": 0.704, "beta": 1.182, "c": 1.0}
    >>> round(bdw.retention_rate(1), 4)  # beta / (alpha + beta) when c = 1
    0.6267
    """

    _core_class: ClassVar[Any] = BetaDiscreteWeibullModel
    _covariate_core_class: ClassVar[Any] = BetaDiscreteWeibullCovariatesModel


# polars/pyarrow arguments in, results in their library (see retentionkit._frames).
from .._frames import accept_frames_in_module  # noqa: E402

accept_frames_in_module(globals(), __all__)
