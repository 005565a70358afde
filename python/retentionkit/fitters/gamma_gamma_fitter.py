"""The Gamma-Gamma model of monetary value, and customer lifetime value.

References: Fader, P. S. & Hardie, B. G. S. (2013), "The Gamma-Gamma Model of
Monetary Value" (brucehardie.com, note 025; equation numbers below); Colombo, R. &
Jiang, W. (1999), "A stochastic RFM model", Journal of Interactive Marketing 13(3),
2-12; Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for customer
base analysis", Journal of Marketing Research 42(4), 415-430.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._core import GammaGammaCovariatesModel, GammaGammaModel
from .._core import customer_lifetime_value as _core_customer_lifetime_value
from .._core import customer_lifetime_value_continuous as _core_clv_continuous
from .._core import customer_lifetime_value_interval as _core_clv_interval
from .._core import (
    customer_lifetime_value_interval_covariates as _core_clv_interval_covariates,
)
from .._core import spend_frequency_correlation as _core_spend_frequency_correlation
from .._covariates import Covariates, has_covariates
from .._validation import ArrayLike, FloatArray, Prepared, Result, name_rows, prepare
from ._discounting import check_discounting, clv_freq, continuous_rate
from ._with_covariates import CovariateFitter, covariate_inputs
from .base import _interval_frame, _seed, _whole_number
from .transaction_fitter import TransactionFitter

__all__ = ["GammaGammaFitter", "spend_frequency_correlation"]


class GammaGammaFitter(CovariateFitter):
    r"""Gamma-Gamma model of the average transaction value, fitted in the Rust core.

    The value of each of a customer's repeat transactions is
    :math:`\mathrm{Gamma}(p, \nu)` (shape :math:`p`, rate :math:`\nu`), and across
    customers :math:`\nu \sim \mathrm{Gamma}(q, v)`; the note calls :math:`v`
    :math:`\gamma`. Only the mean :math:`m_x` of a customer's :math:`x` repeat
    transactions is used. The model assumes that spend does not depend on the number
    of transactions: check it with :func:`spend_frequency_correlation`.

    With covariates (``fit(..., spend_covariates=Z)``), customer *i* has
    :math:`\nu_i \sim \mathrm{Gamma}(q, v e^{\gamma^T z_i})`: a positive
    coefficient ``spend:<column>`` raises the expected spend
    :math:`p v e^{\gamma^T z_i} / (q - 1)` by the factor :math:`e^{\gamma}` per
    unit of the covariate. With all coefficients 0 the model is the one without
    covariates.

    Parameters
    ----------
    penalizer_coef : float, default 0.0
        Coefficient of an L2 penalty on ``(p, q, v)``, as in ``lifetimes``.

    Attributes
    ----------
    params_ : pandas.Series
        ``p``, ``q``, ``v`` (and ``spend:<column>`` with covariates).
    summary : pandas.DataFrame
        Estimates with standard errors and 95% bounds.
    log_likelihood_, aic, bic : float
        Fit statistics on the fitted (repeat) customers.
    data : pandas.DataFrame
        The data of the last fit: ``monetary_value``, ``frequency``, ``weights``.

    References
    ----------
    Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value".

    Examples
    --------
    >>> from retentionkit import GammaGammaFitter
    >>> from retentionkit.datasets import load_cdnow_summary_data_with_monetary_value
    >>> df = load_cdnow_summary_data_with_monetary_value()
    >>> returning = df[df["frequency"] > 0]
    >>> ggf = GammaGammaFitter().fit(returning["frequency"], returning["monetary_value"])
    >>> ggf.params_.round(2).to_dict()
    {'p': 6.25, 'q': 3.74, 'v': 15.45}
    """

    _core_class: ClassVar[Any] = GammaGammaModel
    _covariate_core_class: ClassVar[Any] = GammaGammaCovariatesModel
    _columns: ClassVar[tuple[str, ...]] = ("frequency", "monetary_value")

    def fit(
        self,
        frequency: ArrayLike | pd.DataFrame,
        monetary_value: ArrayLike | None = None,
        weights: ArrayLike | None = None,
        initial_params: Any | None = None,
        verbose: bool = False,
        tol: float = 1e-8,
        index: Any | None = None,
        q_constraint: bool = False,
        exclude_zero_frequency: bool = False,
        max_iterations: int = 200,
        *,
        spend_covariates: Covariates | None = None,
        covariate_penalizer: float = 0.0,
        spend_covariate_cols: Sequence[str] | None = None,
    ) -> GammaGammaFitter:
        r"""Fit ``(p, q, v)`` by maximising the likelihood of eq. (1a).

        .. math::

            f(m_x \mid p, q, v; x) =
            \frac{\Gamma(px + q)}{\Gamma(px)\,\Gamma(q)}
            \frac{v^q\, m_x^{px - 1}\, x^{px}}{(v + m_x x)^{px + q}}

        With covariates, :math:`v` is :math:`v_i = v e^{\gamma^T z_i}` for
        customer *i*.

        Parameters
        ----------
        frequency : array_like or pandas.DataFrame
            Number of repeat transactions :math:`x` (positive integers); or a
            DataFrame with columns ``frequency``, ``monetary_value`` and optionally
            ``weights``.
        monetary_value : array_like
            Mean value :math:`m_x` of the repeat transactions (positive).
        weights : array_like, optional
            Number of customers with each ``(frequency, monetary_value)``.
        initial_params : sequence of 3 floats, optional
            Starting values ``(p, q, v)``.
        verbose : bool, default False
            Print the optimiser's progress.
        tol : float, default 1e-8
            Convergence tolerance of the optimiser.
        index : array_like, optional
            Index of ``data``; by default the index of the input Series.
        q_constraint : bool, default False
            Require :math:`q > 1`, without which the expected spend is infinite. As
            in ``lifetimes``, this changes nothing when the maximum likelihood
            estimate already has :math:`q > 1`; when it does not, a ``ValueError``
            is raised instead of returning the boundary value :math:`q = 1`
            (where the expected spend is still infinite).
        exclude_zero_frequency : bool, default False
            Customers without repeat purchases have no spend to model. By default
            they are an error (``lifetimes`` users select ``frequency > 0``);
            ``True`` leaves them out of the fit. They stay in ``data``.
        max_iterations : int, default 200
            Iteration limit of the optimiser.
        spend_covariates : pandas.DataFrame or 2-D array, optional
            Time-invariant covariates of each customer's spend (see
            :mod:`retentionkit._covariates`): a DataFrame is aligned by label on
            the index of the data (a customer without a row is an error), an
            array is taken in row order (columns ``spend_0``, ...); categorical
            columns become dummies ``<column>[<level>]`` (the first level in
            sorted order is the reference). The coefficients are named
            ``spend:<column>``; ``data`` keeps the covariate columns as given.
        spend_covariate_cols : list of str, optional
            The same, as columns of the DataFrame given as ``frequency``.
        covariate_penalizer : float, default 0.0
            L2 penalty λ on the coefficients (not on ``p, q, v``): the fit
            minimises :math:`-LL/N + \lambda \sum_k \gamma_k^2`. Kept as
            ``covariate_penalizer_``. Covariate fits need ``penalizer_coef = 0``.

        Returns
        -------
        GammaGammaFitter
            ``self``, fitted.

        Raises
        ------
        ValueError
            On invalid data (the message names the rule and the first offending
            row), or with ``q_constraint=True`` when the estimate has ``q <= 1``.
        retentionkit.ConvergenceError
            If the optimiser does not converge (a ``ValueError`` subclass).
        """
        covariates = self._request(
            frequency,
            {"spend": spend_covariates},
            {"spend": spend_covariate_cols},
            (),
            covariate_penalizer,
        )
        columns, weights = self._fit_inputs(frequency, (monetary_value,), weights)
        self._last_design = None
        model, data = self._fit_native(
            columns,
            weights,
            index=index,
            initial_params=initial_params,
            tol=tol,
            max_iterations=max_iterations,
            verbose=verbose,
            exclude_zero_frequency=exclude_zero_frequency,
            covariates=covariates,
        )
        design, penalizer = self._last_design or (None, None)
        self._last_design = None
        q = float(model.params[1])
        if q_constraint and not q > 1.0:
            raise ValueError(
                f"q_constraint=True: the maximum likelihood estimate has q = {q:.6g} <= 1, "
                "where the expected spend p*v/(q-1) is infinite (the spend distribution is "
                "too heavy-tailed for this model); lifetimes would return q = 1, which is "
                "no better. Check the data for extreme monetary values."
            )
        self._model = model
        self._keep_design(design, penalizer)
        self.data = data[["monetary_value", "frequency", "weights"]]
        if design is not None:
            self.data = pd.concat([self.data, design.raw.set_axis(self.data.index)], axis=1)
        return self

    def _native_fit(
        self,
        arrays: tuple[FloatArray, ...],
        weights: Any,
        index: pd.Index,
        *,
        covariates: dict[str, Any] | None = None,
        exclude_zero_frequency: bool = False,
        **options: Any,
    ) -> Any:
        if covariates is None:
            return super()._native_fit(
                arrays, weights, index, exclude_zero_frequency=exclude_zero_frequency, **options
            )
        design = self._design(covariates, index)
        options["penalizer_coef"] = 1.0 if any(design.penalties) else 0.0
        model = self._covariate_core_class.fit(
            *arrays,
            design.matrix,
            design.columns,
            design.by_process,
            design.shared,
            penalties=design.penalties,
            weights=weights,
            exclude_zero=exclude_zero_frequency,
            **options,
        )
        self._last_design = (design, covariates["penalizer"])
        return model

    def conditional_expected_average_profit(
        self,
        frequency: ArrayLike | None = None,
        monetary_value: ArrayLike | None = None,
        *,
        spend_covariates: Covariates | None = None,
    ) -> Result:
        r"""Expected average value of a customer's future transactions, eq. (5).

        .. math::

            E[M \mid p, q, v; m_x, x] =
            \frac{q - 1}{px + q - 1} \frac{pv}{q - 1}
            + \frac{px}{px + q - 1} m_x

        A weighted average of the population mean :math:`pv/(q-1)` and the
        customer's own mean; customers with ``frequency == 0`` get the population
        mean (their ``monetary_value`` is ignored).

        Parameters
        ----------
        frequency : array_like, optional
            Number of repeat transactions; default the fitted data's.
        monetary_value : array_like, optional
            Mean value of the repeat transactions (positive when ``frequency > 0``);
            default the fitted data's.
        spend_covariates : pandas.DataFrame or 2-D array, optional
            Required by a model fitted with covariates (refused by one without):
            the customers' covariates, as given to :meth:`fit`, which make
            :math:`v` the customer's :math:`v_i = v e^{\gamma^T z_i}`; a DataFrame
            is aligned by label on the index of the inputs, a single row applies
            to every customer. Omitted with the inputs, the fitted data's are used.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Shaped like the inputs, a Series with the input's index for Series input.

        Raises
        ------
        ValueError
            On invalid input, or when ``q <= 1`` (the expectation is infinite).
        """
        fitted = self._fitted_covariates()
        if frequency is None and monetary_value is None and spend_covariates is None:
            spend_covariates = fitted
        if frequency is None or monetary_value is None:
            if self.data is None:
                raise ValueError(
                    "no frequency and monetary_value given and no fitted data to use: "
                    "pass them explicitly"
                )
            if frequency is None:
                frequency = self.data["frequency"]
            if monetary_value is None:
                monetary_value = self.data["monetary_value"]
        return self._predict(
            "conditional_expected_average_profit",
            covariates={"spend": spend_covariates},
            frequency=frequency,
            monetary_value=monetary_value,
        )

    def expected_average_profit(self, *, spend_covariates: Covariates | None = None) -> Result:
        r"""Expected average transaction value of a new customer, :math:`pv/(q-1)`, eq. (4).

        Parameters
        ----------
        spend_covariates : pandas.DataFrame or 2-D array, optional
            Required by a model fitted with covariates (refused by one without):
            the traits of new customers, one row each, as given to :meth:`fit`;
            each gets :math:`p v_i / (q - 1)` with :math:`v_i = v e^{\gamma^T z_i}`.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            A float without covariates; with them, one value per row of
            covariates (a Series indexed like a DataFrame of covariates; a float
            for a single row of an array).

        Raises
        ------
        ValueError
            When ``q <= 1`` (the expectation is infinite).
        """
        if not has_covariates(self._core()):
            self._refuse({"spend": spend_covariates})
            return float(self._core().expected_average_profit())
        return self._predict("expected_average_profit", covariates={"spend": spend_covariates})

    def customer_lifetime_value(
        self,
        transaction_prediction_model: TransactionFitter,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        monetary_value: ArrayLike,
        time: float | None = 12,
        discount_rate: float = 0.01,
        freq: str | None = None,
        discounting: str = "discrete",
        *,
        spend_covariates: Covariates | None = None,
        purchase_covariates: Covariates | None = None,
        dropout_covariates: Covariates | None = None,
    ) -> Result:
        r"""Discounted expected spend over the next ``time`` months, as in ``lifetimes``.

        With :math:`f` the number of time units per month (``freq``: 30 for days,
        4.345 for weeks, 1 for months, 720 for hours),

        .. math::

            \mathrm{CLV} = \sum_{k=1}^{\lceil \mathrm{time} \rceil}
            E[M \mid x, m_x]\,
            \frac{E[Y(kf) \mid x, t_x, T] - E[Y((k-1)f) \mid x, t_x, T]}{(1 + d)^k}

        where :math:`E[Y(t) \mid \cdot]` are the transaction model's conditional
        expected purchases and :math:`d` is the monthly discount rate. This is
        ``lifetimes.GammaGammaFitter.customer_lifetime_value`` (which counts a
        fractional last month as a whole one), computed in the Rust core.

        With ``discounting="continuous"`` (and ``time=None``) the value is that of
        the customer's whole remaining lifetime with continuous discounting, as in
        Fader, Hardie & Lee (2005, JMR):

        .. math::

            \mathrm{CLV} = E[M \mid x, m_x]\; \mathrm{DERT}(\delta \mid x, t_x, T),
            \qquad \delta = \ln(1 + d) / f,

        the rate per time unit that discounts like :math:`(1 + d)^{-t/f}` (see
        :meth:`TransactionFitter.discounted_expected_residual_transactions`).

        Parameters
        ----------
        transaction_prediction_model : fitter
            A fitted model of the number of transactions: BetaGeoFitter,
            ModifiedBetaGeoFitter, ParetoNBDFitter, GompertzGammaNBDFitter or
            MBGCNBDkFitter.
        frequency, recency, T : array_like
            Customer histories, in the time unit of the transaction model.
        monetary_value : array_like
            Mean value of the repeat transactions (any finite value when
            ``frequency == 0``).
        time : float, default 12
            Horizon in months.
        discount_rate : float, default 0.01
            Monthly discount rate (greater than -1).
        freq : {"D", "W", "M", "H"}, optional
            Time unit of ``recency``, ``T`` and the transaction model. Default: the
            unit the transaction model was fitted in (its ``time_unit_``, known when
            it was fitted on a summary made by
            :func:`~retentionkit.utils.summary_data_from_transaction_data` or
            :func:`~retentionkit.utils.calibration_and_holdout_data`), else "D", the
            default of ``lifetimes`` (which never knows the unit: weekly data valued
            with "D" gives a CLV about 4 times too large). A ``freq`` that disagrees
            with the model's known unit gives a ``UserWarning``.
        discounting : {"discrete", "continuous"}, default "discrete"
            ``"discrete"``: the monthly sum above (``lifetimes``). ``"continuous"``:
            the whole remaining lifetime, discounted continuously; needs
            ``time=None``.
        spend_covariates : pandas.DataFrame or 2-D array, optional
            The customers' covariates of this spend model, required when it
            was fitted with covariates (see
            :meth:`conditional_expected_average_profit`).
        purchase_covariates, dropout_covariates : pandas.DataFrame or 2-D array, optional
            The customers' covariates of the transaction model, required when
            it was fitted with covariates (see its
            :meth:`~TransactionFitter.conditional_expected_number_of_purchases_up_to_time`).
            Either model, both or neither may have covariates; each customer's
            value is the formula above at the customer's own parameters of both
            models. A DataFrame is aligned by label on the index of the
            histories; a single row applies to every customer.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            A Series named ``clv`` with the input's index for Series input (with
            covariates and scalar histories, one value per row of covariates).

        Raises
        ------
        TypeError
            If ``transaction_prediction_model`` is not one of the supported fitters.
        ValueError
            On invalid input, or when ``q <= 1``.
        """
        transactions = _transaction_core(transaction_prediction_model)
        freq = clv_freq(freq, transaction_prediction_model)
        check_discounting(discounting, time)
        model = self._core()
        p = prepare(frequency=frequency, recency=recency, T=T, monetary_value=monetary_value)
        spend = {"spend": spend_covariates}
        purchases = {"purchase": purchase_covariates, "dropout": dropout_covariates}
        if not has_covariates(model):
            self._refuse(spend)
        if not has_covariates(transactions):
            transaction_prediction_model._refuse(purchases)
        if has_covariates(model) or has_covariates(transactions):
            return self._clv_with_covariates(
                transaction_prediction_model,
                p,
                spend,
                purchases,
                time=time,
                discount_rate=discount_rate,
                freq=freq,
                discounting=discounting,
            )
        x, tx, age, money = p.arrays
        with name_rows(p.index):
            profit = model.conditional_expected_average_profit(x, money)
            values = _clv(transactions, (x, tx, age, profit), None, time, discount_rate, freq)
        return p.wrap(values, name="clv")

    def _clv_with_covariates(
        self,
        transaction_prediction_model: Any,
        p: Prepared,
        spend: dict[str, Any],
        purchases: dict[str, Any],
        **options: Any,
    ) -> Result:
        """:meth:`customer_lifetime_value` when either model has covariates: each
        model's covariate matrix (one row per customer), then the core's CLV of
        the transaction model with the spend model's expected profit."""
        model, transactions = self._core(), transaction_prediction_model._core()
        arrays, matrices, index, scalar = self._clv_covariate_inputs(
            transaction_prediction_model, p, spend, purchases
        )
        x, tx, age, money = arrays
        with name_rows(index):
            z_spend, z_transactions = matrices["spend"], matrices["transactions"]
            if z_spend is None:
                profit = model.conditional_expected_average_profit(x, money)
            else:
                profit = model.conditional_expected_average_profit(x, money, z_spend)
            values = np.asarray(
                _clv(
                    transactions,
                    (x, tx, age, np.ascontiguousarray(profit, dtype=np.float64)),
                    z_transactions,
                    options["time"],
                    options["discount_rate"],
                    options["freq"],
                )
            )
        if scalar:
            return float(values[0])
        return values if index is None else pd.Series(values, index=index, name="clv")

    def _clv_covariate_inputs(
        self,
        transaction_prediction_model: Any,
        p: Prepared,
        spend: dict[str, Any],
        purchases: dict[str, Any],
    ) -> tuple[tuple[FloatArray, ...], dict[str, FloatArray | None], pd.Index | None, bool]:
        """The inputs of a CLV when either model has covariates: the histories
        and spend (one row per customer), each model's covariate matrix (None
        for a model without covariates), the customers' labels and whether the
        result is one number."""
        model, transactions = self._core(), transaction_prediction_model._core()
        found = {}  # model -> (arrays, its covariate matrix, labels, scalar)
        for key, native, fitter, given in (
            ("spend", model, self, spend),
            ("transactions", transactions, transaction_prediction_model, purchases),
        ):
            if has_covariates(native):
                given = {g: z for g, z in given.items() if z is not None}
                arguments = fitter._covariate_arguments()
                found[key] = covariate_inputs(native, fitter._encoding, given, p, arguments)
        # Scalar histories: one customer per row of covariates (one row applies to all).
        rows = max(len(f[1]) for f in found.values())
        bad = [len(f[1]) for f in found.values() if len(f[1]) not in (1, rows)]
        if bad:
            raise ValueError(
                f"the spend and transaction covariates have different numbers of rows "
                f"({bad[0]} and {rows})"
            )
        arrays, _, index, scalar = next(f for f in found.values() if len(f[1]) == rows)
        if index is None:
            index = next((f[2] for f in found.values() if f[2] is not None), None)
        matrices: dict[str, FloatArray | None] = {
            key: (
                None
                if key not in found
                else np.ascontiguousarray(np.repeat(found[key][1], rows // len(found[key][1]), 0))
            )
            for key in ("spend", "transactions")
        }
        return arrays, matrices, index, scalar

    def customer_lifetime_value_interval(
        self,
        transaction_prediction_model: TransactionFitter,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        monetary_value: ArrayLike,
        time: float | None = 12,
        discount_rate: float = 0.01,
        freq: str | None = None,
        discounting: str = "discrete",
        level: float = 0.95,
        n_draws: int = 200,
        seed: int | None = None,
        *,
        spend_covariates: Covariates | None = None,
        purchase_covariates: Covariates | None = None,
        dropout_covariates: Covariates | None = None,
    ) -> pd.DataFrame:
        r"""Customer lifetime value with an interval over the parameter uncertainty.

        The value is that of :meth:`customer_lifetime_value`. ``n_draws`` parameter
        vectors of the transaction model and, independently, of this spend model
        are drawn from the asymptotic normal distributions of their
        log-parameters (covariance :math:`D^{-1} \Sigma D^{-1}` with
        :math:`\Sigma` the ``variance_matrix_`` and :math:`D` the diagonal of the
        estimates); each customer's value is computed under every pair, and the
        :math:`(1 \mp \text{level})/2` quantiles are the bounds. A spend draw with
        :math:`q \le 1` has an infinite expected spend.

        Parameters
        ----------
        transaction_prediction_model : fitter
            A fitted model of the number of transactions (with its covariance):
            BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter,
            GompertzGammaNBDFitter or MBGCNBDkFitter.
        frequency, recency, T, monetary_value, time, discount_rate, freq, discounting
            As for :meth:`customer_lifetime_value`.
        level : float, default 0.95
            Coverage of the interval, in (0, 1).
        n_draws : int, default 200
            Number of parameter draws of each model (at least 2).
        seed : int, optional
            Seed of the core's ChaCha8 generator: the same seed gives the same
            intervals.
        spend_covariates, purchase_covariates, dropout_covariates : DataFrame or 2-D array, optional
            The customers' covariates of each model that was fitted with them,
            as in :meth:`customer_lifetime_value`. A model with covariates is
            drawn with its coefficients (all parameters from the joint
            asymptotic normal distribution: base parameters on the log scale,
            coefficients as they are), and each customer's value under a draw
            is the formula at the customer's own parameters under that draw.
            The base parameters are drawn from the same random numbers as a
            model without covariates, so coefficients that are 0 with no
            uncertainty give the plain models' interval for the same seed.

        Returns
        -------
        pandas.DataFrame
            Columns ``estimate`` (at both models' estimates), ``lower`` and
            ``upper``, indexed like the input Series (else 0..n-1; with
            covariates and scalar histories, like the rows of covariates).

        Raises
        ------
        TypeError
            If ``transaction_prediction_model`` is not one of the supported fitters.
        ValueError
            On invalid input, when ``q <= 1``, when either model has no
            covariance (parameters set by hand), or when a model's covariates
            are missing (or given to a model without them).
        """
        transactions = _transaction_core(transaction_prediction_model)
        freq = clv_freq(freq, transaction_prediction_model)
        model = self._core()
        p = prepare(frequency=frequency, recency=recency, T=T, monetary_value=monetary_value)
        spend = {"spend": spend_covariates}
        purchases = {"purchase": purchase_covariates, "dropout": dropout_covariates}
        if not has_covariates(model):
            self._refuse(spend)
        if not has_covariates(transactions):
            transaction_prediction_model._refuse(purchases)
        if has_covariates(model) or has_covariates(transactions):
            arrays, matrices, index, _ = self._clv_covariate_inputs(
                transaction_prediction_model, p, spend, purchases
            )
            x, tx, age, money = arrays
            with name_rows(index):
                bands = _core_clv_interval_covariates(
                    transactions,
                    model,
                    x,
                    tx,
                    age,
                    money,
                    matrices["transactions"],
                    matrices["spend"],
                    time=None if time is None else float(time),
                    discount_rate=float(discount_rate),
                    freq=freq,
                    discounting=discounting,
                    level=float(level),
                    n_draws=_whole_number(n_draws, "n_draws", 0),
                    seed=_seed(seed),
                )
            return _interval_frame(bands, index)
        x, tx, age, money = p.arrays
        with name_rows(p.index):
            bands = _core_clv_interval(
                transactions,
                model,
                x,
                tx,
                age,
                money,
                time=None if time is None else float(time),
                discount_rate=float(discount_rate),
                freq=freq,
                discounting=discounting,
                level=float(level),
                n_draws=_whole_number(n_draws, "n_draws", 0),
                seed=_seed(seed),
            )
        return _interval_frame(bands, p.index)

    def individual_log_likelihood(
        self,
        frequency: ArrayLike | None = None,
        monetary_value: ArrayLike | None = None,
        *,
        spend_covariates: Covariates | None = None,
    ) -> Result:
        """Log-likelihood of each customer's mean spend, the log of eq. (1a).

        Parameters
        ----------
        frequency, monetary_value : array_like, optional
            Repeat customers (``frequency > 0``); both omitted means the fitted
            data's repeat customers.
        spend_covariates : pandas.DataFrame or 2-D array, optional
            The customers' covariates, required by a model fitted with them (as
            in :meth:`conditional_expected_average_profit`); omitted with the
            data, the fitted data's.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        if frequency is None and monetary_value is None:
            if self.data is None:
                raise ValueError("no data given and no fitted data to use: pass them explicitly")
            rows = (self.data["frequency"] > 0).to_numpy()
            repeat = self.data[rows]
            frequency, monetary_value = repeat["frequency"], repeat["monetary_value"]
            fitted = self._fitted_covariates()
            if spend_covariates is None and fitted is not None:
                spend_covariates = fitted[rows]
        elif frequency is None or monetary_value is None:
            raise ValueError("give both frequency and monetary_value, or neither")
        return self._predict(
            "individual_log_likelihood",
            covariates={"spend": spend_covariates},
            frequency=frequency,
            monetary_value=monetary_value,
        )


def _clv(
    transactions: Any,
    arrays: tuple[FloatArray, ...],
    covariates: FloatArray | None,
    time: float | None,
    discount_rate: float,
    freq: str,
) -> FloatArray:
    """The core's CLV of the transaction model (with its covariate matrix when
    given) for the histories and expected profits ``arrays`` (x, t_x, T,
    E[M]): continuous discounting of the whole lifetime when ``time`` is None,
    else lifetimes' monthly sum."""
    x, tx, age, profit = arrays
    if time is None:
        rate = continuous_rate(discount_rate, freq)
        if covariates is None:
            return _core_clv_continuous(transactions, x, tx, age, profit, discount_rate=rate)
        return transactions.customer_lifetime_value_continuous(
            x, tx, age, profit, covariates, discount_rate=rate
        )
    if covariates is None:
        return _core_customer_lifetime_value(
            transactions,
            x,
            tx,
            age,
            profit,
            time=float(time),
            discount_rate=float(discount_rate),
            freq=freq,
        )
    return transactions.customer_lifetime_value(
        x,
        tx,
        age,
        profit,
        covariates,
        time=float(time),
        discount_rate=float(discount_rate),
        freq=freq,
    )


def _transaction_core(transaction_prediction_model: Any) -> Any:
    from .._registry import require  # the registry imports this module

    require(
        transaction_prediction_model,
        "transaction",
        "regular",
        needs="transaction_prediction_model must be a fitted retentionkit",
    )
    return transaction_prediction_model._core()


def spend_frequency_correlation(
    frequency: ArrayLike, monetary_value: ArrayLike, weights: ArrayLike | None = None
) -> float:
    """Pearson correlation of frequency and mean spend over the repeat customers.

    The Gamma-Gamma model assumes that how much a customer spends per transaction
    does not depend on how often they buy. Fader & Hardie check this with the
    correlation of ``frequency`` and ``monetary_value`` among customers with
    ``frequency > 0`` (0.11 on CDNOW); a value far from 0 argues against the model.

    Parameters
    ----------
    frequency, monetary_value : array_like
        Customer summaries; rows with ``frequency == 0`` are left out.
    weights : array_like, optional
        Number of customers with each row.

    Returns
    -------
    float
        NaN when frequency or spend is constant over the repeat customers.

    Examples
    --------
    >>> from retentionkit.datasets import load_cdnow_summary_data_with_monetary_value
    >>> df = load_cdnow_summary_data_with_monetary_value()
    >>> round(spend_frequency_correlation(df["frequency"], df["monetary_value"]), 4)
    0.1139
    """
    inputs: dict[str, Any] = {"frequency": frequency, "monetary_value": monetary_value}
    if weights is not None:
        inputs["weights"] = weights
    p = prepare(**inputs)
    w = p.arrays[2] if weights is not None else None
    with name_rows(p.index):
        return float(_core_spend_frequency_correlation(p.arrays[0], p.arrays[1], w))


# polars/pyarrow arguments in, results in their library (see retentionkit._frames).
from .._frames import accept_frames_in_module  # noqa: E402

accept_frames_in_module(globals(), __all__)
