"""The Gamma-Gamma model of monetary value, and customer lifetime value.

References: Fader, P. S. & Hardie, B. G. S. (2013), "The Gamma-Gamma Model of
Monetary Value" (brucehardie.com, note 025; equation numbers below); Colombo, R. &
Jiang, W. (1999), "A stochastic RFM model", Journal of Interactive Marketing 13(3),
2-12; Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for customer
base analysis", Journal of Marketing Research 42(4), 415-430.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd

from .._core import GammaGammaModel
from .._core import customer_lifetime_value as _core_customer_lifetime_value
from .._core import customer_lifetime_value_continuous as _core_clv_continuous
from .._core import customer_lifetime_value_interval as _core_clv_interval
from .._core import spend_frequency_correlation as _core_spend_frequency_correlation
from .._covariates import has_covariates, not_supported
from .._validation import ArrayLike, Result, name_rows, prepare
from ._discounting import check_discounting, clv_freq, continuous_rate
from .base import BaseFitter, _interval_frame, _seed, _whole_number
from .transaction_fitter import TransactionFitter

__all__ = ["GammaGammaFitter", "spend_frequency_correlation"]


class GammaGammaFitter(BaseFitter):
    r"""Gamma-Gamma model of the average transaction value, fitted in the Rust core.

    The value of each of a customer's repeat transactions is
    :math:`\mathrm{Gamma}(p, \nu)` (shape :math:`p`, rate :math:`\nu`), and across
    customers :math:`\nu \sim \mathrm{Gamma}(q, v)`; the note calls :math:`v`
    :math:`\gamma`. Only the mean :math:`m_x` of a customer's :math:`x` repeat
    transactions is used. The model assumes that spend does not depend on the number
    of transactions: check it with :func:`spend_frequency_correlation`.

    Parameters
    ----------
    penalizer_coef : float, default 0.0
        Coefficient of an L2 penalty on ``(p, q, v)``, as in ``lifetimes``.

    Attributes
    ----------
    params_ : pandas.Series
        ``p``, ``q``, ``v``.
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
    _columns: ClassVar[tuple[str, ...]] = ("frequency", "monetary_value")

    def fit(
        self,
        frequency: ArrayLike,
        monetary_value: ArrayLike,
        weights: ArrayLike | None = None,
        initial_params: Any | None = None,
        verbose: bool = False,
        tol: float = 1e-8,
        index: Any | None = None,
        q_constraint: bool = False,
        exclude_zero_frequency: bool = False,
        max_iterations: int = 200,
    ) -> GammaGammaFitter:
        r"""Fit ``(p, q, v)`` by maximising the likelihood of eq. (1a).

        .. math::

            f(m_x \mid p, q, v; x) =
            \frac{\Gamma(px + q)}{\Gamma(px)\,\Gamma(q)}
            \frac{v^q\, m_x^{px - 1}\, x^{px}}{(v + m_x x)^{px + q}}

        Parameters
        ----------
        frequency : array_like
            Number of repeat transactions :math:`x` (positive integers).
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
        model, data = self._fit_native(
            {"frequency": frequency, "monetary_value": monetary_value},
            weights,
            index=index,
            initial_params=initial_params,
            tol=tol,
            max_iterations=max_iterations,
            verbose=verbose,
            exclude_zero_frequency=exclude_zero_frequency,
        )
        q = float(model.params[1])
        if q_constraint and not q > 1.0:
            raise ValueError(
                f"q_constraint=True: the maximum likelihood estimate has q = {q:.6g} <= 1, "
                "where the expected spend p*v/(q-1) is infinite (the spend distribution is "
                "too heavy-tailed for this model); lifetimes would return q = 1, which is "
                "no better. Check the data for extreme monetary values."
            )
        self._model = model
        self.data = data[["monetary_value", "frequency", "weights"]]
        return self

    def conditional_expected_average_profit(
        self,
        frequency: ArrayLike | None = None,
        monetary_value: ArrayLike | None = None,
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

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Shaped like the inputs, a Series with the input's index for Series input.

        Raises
        ------
        ValueError
            On invalid input, or when ``q <= 1`` (the expectation is infinite).
        """
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
            frequency=frequency,
            monetary_value=monetary_value,
        )

    def expected_average_profit(self) -> float:
        r"""Expected average transaction value of a new customer, :math:`pv/(q-1)`, eq. (4).

        Raises
        ------
        ValueError
            When ``q <= 1`` (the expectation is infinite).
        """
        return float(self._core().expected_average_profit())

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
        transaction_prediction_model : BetaGeoFitter, ModifiedBetaGeoFitter or ParetoNBDFitter
            A fitted model of the number of transactions.
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

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            A Series named ``clv`` with the input's index for Series input.

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
        x, tx, age, money = p.arrays
        with name_rows(p.index):
            profit = model.conditional_expected_average_profit(x, money)
            if discounting == "continuous":
                values = _core_clv_continuous(
                    transactions,
                    x,
                    tx,
                    age,
                    profit,
                    discount_rate=continuous_rate(discount_rate, freq),
                )
            else:
                assert time is not None  # checked by check_discounting
                values = _core_customer_lifetime_value(
                    transactions,
                    x,
                    tx,
                    age,
                    profit,
                    time=float(time),
                    discount_rate=float(discount_rate),
                    freq=freq,
                )
        return p.wrap(values, name="clv")

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
        transaction_prediction_model : BetaGeoFitter, ModifiedBetaGeoFitter or ParetoNBDFitter
            A fitted model of the number of transactions (with its covariance).
        frequency, recency, T, monetary_value, time, discount_rate, freq, discounting
            As for :meth:`customer_lifetime_value`.
        level : float, default 0.95
            Coverage of the interval, in (0, 1).
        n_draws : int, default 200
            Number of parameter draws of each model (at least 2).
        seed : int, optional
            Seed of the core's ChaCha8 generator: the same seed gives the same
            intervals.

        Returns
        -------
        pandas.DataFrame
            Columns ``estimate`` (at both models' estimates), ``lower`` and
            ``upper``, indexed like the input Series (else 0..n-1).

        Raises
        ------
        TypeError
            If ``transaction_prediction_model`` is not one of the supported fitters.
        ValueError
            On invalid input, when ``q <= 1``, or when either model has no
            covariance (parameters set by hand).
        """
        transactions = _transaction_core(transaction_prediction_model)
        freq = clv_freq(freq, transaction_prediction_model)
        model = self._core()
        p = prepare(frequency=frequency, recency=recency, T=T, monetary_value=monetary_value)
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
    ) -> Result:
        """Log-likelihood of each customer's mean spend, the log of eq. (1a).

        Parameters
        ----------
        frequency, monetary_value : array_like, optional
            Repeat customers (``frequency > 0``); both omitted means the fitted
            data's repeat customers.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        if frequency is None and monetary_value is None:
            if self.data is None:
                raise ValueError("no data given and no fitted data to use: pass them explicitly")
            repeat = self.data[self.data["frequency"] > 0]
            frequency, monetary_value = repeat["frequency"], repeat["monetary_value"]
        elif frequency is None or monetary_value is None:
            raise ValueError("give both frequency and monetary_value, or neither")
        return self._predict(
            "individual_log_likelihood", frequency=frequency, monetary_value=monetary_value
        )


def _transaction_core(transaction_prediction_model: Any) -> Any:
    from .._registry import require  # the registry imports this module

    require(
        transaction_prediction_model,
        "transaction",
        needs="transaction_prediction_model must be a fitted retentionkit",
    )
    model = transaction_prediction_model._core()
    if has_covariates(model):
        raise not_supported("customer_lifetime_value")
    return model


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
