"""Fitters of the non-contractual (x, t_x, T) models, with the ``lifetimes`` interface.

:class:`TransactionFitter` holds everything BG/NBD, MBG/NBD and Pareto/NBD share:
fitting, the predictions (computed in the Rust core, in parallel, without the GIL)
and simulation. Each model's class names its native model and documents its
formulas. Equation numbers in the method docstrings refer to BG/NBD (Fader, Hardie
& Lee 2005); the other models' counterparts are in their class docstrings.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._validation import ArrayLike, FloatArray, Result
from .base import BaseFitter, _fresh_seed, _per_customer

__all__ = ["TransactionFitter"]


class TransactionFitter(BaseFitter):
    """Base class of the (frequency, recency, T) models; not used directly.

    Subclasses set ``_core_class`` to the native model and ``_dropout_column`` to
    the name of the simulated drop-out parameter (``p`` or ``mu``).
    """

    _columns: ClassVar[tuple[str, ...]] = ("frequency", "recency", "T")
    _dropout_column: ClassVar[str] = "p"

    def fit(
        self,
        frequency: ArrayLike | pd.DataFrame,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        weights: ArrayLike | None = None,
        initial_params: Any | None = None,
        verbose: bool = False,
        tol: float = 1e-8,
        index: Any | None = None,
        max_iterations: int = 200,
    ) -> TransactionFitter:
        r"""Fit the model by maximising the log-likelihood, eq. (6) of FHL (2005).

        .. math::

            L(r, \alpha, a, b \mid x, t_x, T) =
            \frac{B(a, b + x)}{B(a, b)}
            \frac{\Gamma(r + x)\,\alpha^r}{\Gamma(r)\,(\alpha + T)^{r + x}}
            + \delta_{x > 0} \frac{B(a + 1, b + x - 1)}{B(a, b)}
            \frac{\Gamma(r + x)\,\alpha^r}{\Gamma(r)\,(\alpha + t_x)^{r + x}}

        Parameters
        ----------
        frequency : array_like or pandas.DataFrame
            Number of repeat purchases :math:`x`; or a DataFrame with columns
            ``frequency``, ``recency``, ``T`` and optionally ``weights``.
        recency : array_like
            Time of the last repeat purchase :math:`t_x` (0 when ``x == 0``).
        T : array_like
            Time since the first purchase. Scalars are broadcast.
        weights : array_like, optional
            Number of customers with each history (default 1 each).
        initial_params : sequence of 4 floats, optional
            Starting values ``(r, alpha, a, b)``.
        verbose : bool, default False
            Print the optimiser's progress.
        tol : float, default 1e-8
            Convergence tolerance of the optimiser.
        index : array_like, optional
            Index of ``data``; by default the index of the input Series/DataFrame.
        max_iterations : int, default 200
            Iteration limit of the optimiser.

        Returns
        -------
        TransactionFitter
            ``self``, fitted.

        Raises
        ------
        ValueError
            On invalid data; the message names the rule and the first offending row.
        retentionkit.ConvergenceError
            If the optimiser does not converge (a ``ValueError`` subclass).
        """
        self._fit(
            frequency,
            (recency, T),
            weights,
            index=index,
            initial_params=initial_params,
            tol=tol,
            max_iterations=max_iterations,
            verbose=verbose,
        )
        return self

    # -- predictions -------------------------------------------------------------

    def conditional_expected_number_of_purchases_up_to_time(
        self,
        t: ArrayLike,
        frequency: ArrayLike | None = None,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> Result:
        r"""Expected number of purchases in the next ``t`` periods, given the history.

        Eq. (10) of FHL (2005):

        .. math::

            E[Y(t) \mid x, t_x, T] =
            \frac{\frac{a + b + x - 1}{a - 1}\left[1 -
            \left(\frac{\alpha + T}{\alpha + T + t}\right)^{r + x}
            {}_2F_1\!\left(r + x, b + x; a + b + x - 1; \frac{t}{\alpha + T + t}\right)\right]}
            {1 + \delta_{x > 0} \frac{a}{b + x - 1}
            \left(\frac{\alpha + T}{\alpha + t_x}\right)^{r + x}}

        Parameters
        ----------
        t : array_like
            Length of the horizon.
        frequency, recency, T : array_like, optional
            Customer histories; all omitted means the fitted data.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Broadcast over the inputs; a Series with the input's index when a
            Series is given (or the fitted data is used).
        """
        return self._predict(
            "conditional_expected_number_of_purchases_up_to_time",
            t=t,
            **self._history(frequency, recency, T),
        )

    predict = conditional_expected_number_of_purchases_up_to_time

    def conditional_probability_alive(
        self,
        frequency: ArrayLike | None = None,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> Result:
        r"""Probability that a customer with the given history is still active.

        From Fader, Hardie & Lee (2008), "Computing P(alive) using the BG/NBD
        model" (note 021):

        .. math::

            P(\text{alive} \mid x, t_x, T) = \left[1 + \delta_{x > 0}
            \frac{a}{b + x - 1}
            \left(\frac{\alpha + T}{\alpha + t_x}\right)^{r + x}\right]^{-1}

        Parameters
        ----------
        frequency, recency, T : array_like, optional
            Customer histories; all omitted means the fitted data.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Values in [0, 1], shaped like the inputs.
        """
        return self._predict(
            "conditional_probability_alive",
            **self._history(frequency, recency, T),
        )

    def conditional_probability_alive_matrix(
        self, max_frequency: int | None = None, max_recency: int | None = None
    ) -> FloatArray:
        """P(alive) on a grid of histories, as in ``lifetimes``.

        Parameters
        ----------
        max_frequency : int, optional
            Largest frequency; default the largest in the fitted data.
        max_recency : int, optional
            Largest recency, also used as every customer's ``T``; default the
            largest ``T`` in the fitted data.

        Returns
        -------
        numpy.ndarray
            Shape ``(max_recency + 1, max_frequency + 1)``; entry ``[t_x, x]`` is
            P(alive) of a customer with frequency ``x``, recency ``t_x`` and
            ``T = max_recency``. Column 0 (no repeat purchase, so recency 0) is
            P(alive | 0, 0, T) in every row: 1 for BG/NBD, where customers only drop
            out right after a purchase.
        """
        model = self._core()
        if max_frequency is None or max_recency is None:
            if self.data is None:
                raise ValueError("give max_frequency and max_recency, or fit the model first")
            if max_frequency is None:
                max_frequency = int(self.data["frequency"].max())
            if max_recency is None:
                max_recency = int(self.data["T"].max())
        if max_frequency < 0 or max_recency < 0:
            raise ValueError("max_frequency and max_recency must be non-negative")
        age = float(max_recency)  # T = 0 is valid (first purchase at the end)
        rec, freq = np.meshgrid(
            np.arange(max_recency + 1, dtype=np.float64),
            np.arange(1, max_frequency + 1, dtype=np.float64),
            indexing="ij",
        )
        matrix = np.empty((max_recency + 1, max_frequency + 1))
        # Without repeat purchases the recency is 0 whatever the row: column 0
        # repeats P(alive | 0, 0, T) (1 for BG/NBD, below 1 for MBG/NBD and
        # Pareto/NBD).
        matrix[:, 0] = model.conditional_probability_alive(
            np.zeros(1), np.zeros(1), np.full(1, age)
        )[0]
        if max_frequency > 0:
            alive = model.conditional_probability_alive(
                freq.ravel(), rec.ravel(), np.full(freq.size, age)
            )
            matrix[:, 1:] = np.asarray(alive).reshape(freq.shape)
        return matrix

    def expected_number_of_purchases_up_to_time(self, t: ArrayLike) -> Result:
        r"""Expected number of repeat purchases by time ``t`` of a new customer.

        Eq. (7) of FHL (2005):

        .. math::

            E[X(t)] = \frac{a + b - 1}{a - 1}\left[1 -
            \left(\frac{\alpha}{\alpha + t}\right)^r
            {}_2F_1\!\left(r, b; a + b - 1; \frac{t}{\alpha + t}\right)\right]

        Parameters
        ----------
        t : array_like
            Time since the first purchase.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Shaped like ``t``.
        """
        return self._predict("expected_number_of_purchases_up_to_time", t=t)

    def probability_of_n_purchases_up_to_time(self, t: ArrayLike, n: ArrayLike) -> Result:
        r"""Probability that a new customer makes exactly ``n`` repeat purchases by ``t``.

        Eq. (8) of FHL (2005):

        .. math::

            P(X(t) = n) = \frac{B(a, b + n)}{B(a, b)}
            \frac{\Gamma(r + n)}{\Gamma(r)\, n!}
            \left(\frac{\alpha}{\alpha + t}\right)^r
            \left(\frac{t}{\alpha + t}\right)^n
            + \delta_{n > 0} \frac{B(a + 1, b + n - 1)}{B(a, b)}
            \left[1 - \left(\frac{\alpha}{\alpha + t}\right)^r
            \sum_{j=0}^{n-1} \frac{\Gamma(r + j)}{\Gamma(r)\, j!}
            \left(\frac{t}{\alpha + t}\right)^j\right]

        Parameters
        ----------
        t : array_like
            Time since the first purchase.
        n : array_like
            Number of repeat purchases (non-negative integers). Broadcast with ``t``.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        return self._predict("probability_of_n_purchases_up_to_time", t=t, n=n)

    def individual_log_likelihood(
        self,
        frequency: ArrayLike | None = None,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> Result:
        """Log-likelihood of each customer's history, the log of eq. (6) of FHL (2005).

        Parameters
        ----------
        frequency, recency, T : array_like, optional
            Customer histories; all omitted means the fitted data (unweighted).

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        return self._predict("individual_log_likelihood", **self._history(frequency, recency, T))

    def discounted_expected_residual_transactions(
        self,
        discount_rate: ArrayLike,
        frequency: ArrayLike | None = None,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> Result:
        r"""Discounted expected residual transactions (DERT) after ``T``.

        Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for
        Customer Base Analysis", JMR 42(4), eq. (1): every future purchase is
        discounted continuously at rate :math:`\delta` per time unit,

        .. math::

            \mathrm{DERT}(\delta \mid x, t_x, T) =
            \int_T^\infty E[\text{purchase rate at } \tau \mid x, t_x, T]\,
            e^{-\delta(\tau - T)}\, d\tau
            = \delta \int_0^\infty e^{-\delta t}\, E[Y(t) \mid x, t_x, T]\, dt.

        The Pareto/NBD has a closed form (the paper's eq. (2), with the confluent
        hypergeometric function :math:`U(s, s; \delta(\beta + T))`). For BG/NBD
        and MBG/NBD, a customer alive with purchase rate :math:`\lambda` and
        drop-out probability :math:`p` contributes
        :math:`\lambda / (\delta + p\lambda)`; its expectation over the
        posterior gamma distribution of :math:`\lambda` is again a :math:`U`
        function, and the one over the posterior beta distribution of :math:`p`
        is integrated numerically (tanh-sinh; relative error about 1e-12).
        Multiplied by the expected value of a transaction this is the customer's
        lifetime value under continuous discounting.

        Parameters
        ----------
        discount_rate : float or array_like
            Continuous discount rate :math:`\delta > 0` per time unit of the data;
            for an annual rate ``d`` and weekly data, ``log(1 + d) / 52``.
        frequency, recency, T : array_like, optional
            Customer histories; all omitted means the fitted data.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Non-negative, decreasing in ``discount_rate``; shaped like the inputs.
        """
        return self._predict(
            "discounted_expected_residual_transactions",
            discount_rate=discount_rate,
            **self._history(frequency, recency, T),
        )

    # -- intervals over the parameter uncertainty -------------------------------------

    def conditional_expected_number_of_purchases_up_to_time_interval(
        self,
        t: ArrayLike,
        frequency: ArrayLike | None = None,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int | None = None,
    ) -> pd.DataFrame:
        r"""Conditional expected purchases with an interval over the parameter uncertainty.

        The expectation is that of
        :meth:`conditional_expected_number_of_purchases_up_to_time`. ``n_draws``
        parameter vectors are drawn from the asymptotic normal distribution of the
        log-parameters, :math:`\ln\hat\theta` with covariance
        :math:`D^{-1} \Sigma D^{-1}` (:math:`\Sigma` = ``variance_matrix_``,
        :math:`D = \mathrm{diag}(\hat\theta)`, the delta method), so every draw is
        positive. Each customer's prediction is computed under every draw, and the
        :math:`(1 \mp \text{level})/2` quantiles of those values are the bounds.
        This describes how well the model's *expected* purchases are known, not
        the spread of a customer's actual purchases.

        Parameters
        ----------
        t : array_like
            Length of the horizon.
        frequency, recency, T : array_like, optional
            Customer histories; all omitted means the fitted data.
        level : float, default 0.95
            Coverage of the interval, in (0, 1).
        n_draws : int, default 200
            Number of parameter draws (at least 2).
        seed : int, optional
            Seed of the core's ChaCha8 generator: the same seed gives the same
            intervals.

        Returns
        -------
        pandas.DataFrame
            Columns ``estimate`` (at the maximum-likelihood parameters), ``lower``
            and ``upper``, indexed like the input Series (else 0..n-1).

        Raises
        ------
        ValueError
            If the model has no covariance (parameters set by hand, or a singular
            information matrix) or the inputs are invalid.
        """
        return self._predict_interval(
            "conditional_expected_number_of_purchases_up_to_time_interval",
            level=level,
            n_draws=n_draws,
            seed=seed,
            t=t,
            **self._history(frequency, recency, T),
        )

    def conditional_probability_alive_interval(
        self,
        frequency: ArrayLike | None = None,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int | None = None,
    ) -> pd.DataFrame:
        """P(alive) with an interval over the uncertainty of the estimated parameters.

        The method is that of
        :meth:`conditional_expected_number_of_purchases_up_to_time_interval`.

        Parameters
        ----------
        frequency, recency, T : array_like, optional
            Customer histories; all omitted means the fitted data.
        level : float, default 0.95
            Coverage of the interval, in (0, 1).
        n_draws : int, default 200
            Number of parameter draws (at least 2).
        seed : int, optional
            Seed of the core's random generator.

        Returns
        -------
        pandas.DataFrame
            Columns ``estimate``, ``lower`` and ``upper``, in [0, 1].
        """
        return self._predict_interval(
            "conditional_probability_alive_interval",
            level=level,
            n_draws=n_draws,
            seed=seed,
            **self._history(frequency, recency, T),
        )

    def discounted_expected_residual_transactions_interval(
        self,
        discount_rate: ArrayLike,
        frequency: ArrayLike | None = None,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int | None = None,
    ) -> pd.DataFrame:
        """DERT with an interval over the uncertainty of the estimated parameters.

        See :meth:`discounted_expected_residual_transactions` and
        :meth:`conditional_expected_number_of_purchases_up_to_time_interval`. Cheap
        for the Pareto/NBD (closed form); for BG/NBD and MBG/NBD each draw costs a
        numerical integral per customer.

        Returns
        -------
        pandas.DataFrame
            Columns ``estimate``, ``lower`` and ``upper``.
        """
        return self._predict_interval(
            "discounted_expected_residual_transactions_interval",
            level=level,
            n_draws=n_draws,
            seed=seed,
            discount_rate=discount_rate,
            **self._history(frequency, recency, T),
        )

    # -- simulation -----------------------------------------------------------------

    def generate_new_data(
        self, size: int = 1, seed: int | None = None, T: ArrayLike | None = None
    ) -> pd.DataFrame:
        """Simulate customers from the fitted model.

        Each customer draws :math:`\\lambda \\sim \\mathrm{Gamma}(r, \\alpha)` and
        :math:`p \\sim \\mathrm{Beta}(a, b)`, then buys as a Poisson process,
        dropping out after each purchase with probability ``p``, over ``[0, T]``.

        Parameters
        ----------
        size : int, default 1
            Number of customers (ignored when ``T`` is an array, whose length
            gives the number).
        seed : int, optional
            Seed of the core's random generator; the same seed gives the same data.
        T : float or array_like, optional
            Observation length of each customer; default 1, as ``lifetimes``'
            ``beta_geometric_nbd_model`` with a scalar ``T``.

        Returns
        -------
        pandas.DataFrame
            Columns ``frequency``, ``recency``, ``T``, ``lambda``, ``p``, ``alive``
            (bool) and ``customer_id`` (0..size-1), like ``lifetimes``.
        """
        model = self._core()
        if T is None:
            T = 1.0
        ages = _per_customer(T, size, "T")
        if seed is None:
            seed = _fresh_seed()
        freq, rec, age, lam, p, alive = model.simulate(ages, int(seed))
        return pd.DataFrame(
            {
                "frequency": freq,
                "recency": rec,
                "T": age,
                "lambda": lam,
                self._dropout_column: p,
                "alive": np.asarray(alive).astype(bool),
                "customer_id": np.arange(len(ages)),
            }
        )
