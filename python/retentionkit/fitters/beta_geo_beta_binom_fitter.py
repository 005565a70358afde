"""The BG/BB model of Fader, Hardie & Shang (2010), with the ``lifetimes`` interface.

Reference: Fader, P. S., Hardie, B. G. S. & Shang, J. (2010), "Customer-base
analysis in a discrete-time noncontractual setting", Marketing Science 29(6),
1086-1108. Equation numbers below refer to that paper, as in ``src/bgbb.rs``
(and as cited by the ``lifetimes`` and ``BTYD`` implementations).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._core import BetaGeoBetaBinomModel
from .._validation import ArrayLike, Result, plain
from .base import BaseFitter, _per_customer, _seed

__all__ = ["BetaGeoBetaBinomFitter"]


class BetaGeoBetaBinomFitter(BaseFitter):
    r"""BG/BB model of discrete-time purchasing, fitted by maximum likelihood in Rust.

    A customer has ``n`` transaction opportunities after the first transaction
    (a year, a mailing, an event). At the beginning of each opportunity a customer
    who is still alive dies (becomes permanently inactive) with probability
    :math:`\theta_i`; a customer alive at an opportunity transacts at it with
    probability :math:`p_i`. Across customers :math:`p \sim \mathrm{Beta}(\alpha,
    \beta)` and :math:`\theta \sim \mathrm{Beta}(\gamma, \delta)`. A history is
    summarised by ``frequency`` :math:`x` (number of transactions in opportunities
    1..n), ``recency`` :math:`t_x` (the opportunity of the last one, 0 if none) and
    ``n_periods`` :math:`n`, with :math:`0 \le x \le t_x \le n`.

    Parameters
    ----------
    penalizer_coef : float, default 0.0
        Coefficient of an L2 penalty on the parameters, as in ``lifetimes``.

    Attributes
    ----------
    params_ : pandas.Series
        ``alpha``, ``beta``, ``gamma``, ``delta``.
    summary : pandas.DataFrame
        Estimates with standard errors and 95% bounds.
    log_likelihood_, aic, bic : float
        Fit statistics on the fitted data.
    data : pandas.DataFrame
        The data of the last fit (columns ``frequency``, ``recency``,
        ``n_periods``, ``weights``).

    References
    ----------
    Fader, Hardie & Shang (2010), Marketing Science 29(6), 1086-1108.

    Examples
    --------
    >>> from retentionkit import BetaGeoBetaBinomFitter
    >>> from retentionkit.datasets import load_donations
    >>> bbf = BetaGeoBetaBinomFitter().fit(load_donations())
    >>> bbf.params_.round(3).to_dict()
    {'alpha': 1.204, 'beta': 0.75, 'gamma': 0.657, 'delta': 2.783}
    """

    _core_class: ClassVar[Any] = BetaGeoBetaBinomModel
    _columns: ClassVar[tuple[str, ...]] = ("frequency", "recency", "n_periods")
    #: ``periods`` is the column of ``load_donations``.
    _column_aliases: ClassVar[dict[str, tuple[str, ...]]] = {"n_periods": ("periods",)}

    def fit(
        self,
        frequency: ArrayLike | pd.DataFrame,
        recency: ArrayLike | None = None,
        n_periods: ArrayLike | None = None,
        weights: ArrayLike | None = None,
        initial_params: Any | None = None,
        verbose: bool = False,
        tol: float = 1e-8,
        index: Any | None = None,
        max_iterations: int = 200,
    ) -> BetaGeoBetaBinomFitter:
        r"""Fit the model by maximising the log-likelihood, eq. (5) of FHS (2010).

        .. math::

            L(\alpha, \beta, \gamma, \delta \mid x, t_x, n) =
            \frac{B(\alpha + x, \beta + n - x)}{B(\alpha, \beta)}
            \frac{B(\gamma, \delta + n)}{B(\gamma, \delta)}
            + \sum_{i=0}^{n - t_x - 1}
            \frac{B(\alpha + x, \beta + t_x - x + i)}{B(\alpha, \beta)}
            \frac{B(\gamma + 1, \delta + t_x + i)}{B(\gamma, \delta)}

        Parameters
        ----------
        frequency : array_like or pandas.DataFrame
            Number of transactions :math:`x` in opportunities 1..n; or a DataFrame
            with columns ``frequency``, ``recency``, ``n_periods`` (or ``periods``,
            as in :func:`retentionkit.datasets.load_donations`) and optionally
            ``weights``.
        recency : array_like
            Opportunity of the last transaction :math:`t_x` (0 when ``x == 0``).
        n_periods : array_like
            Number of transaction opportunities :math:`n`. Scalars are broadcast.
            At most 100,000: the likelihood has one term per opportunity, so larger
            ``n`` are refused with an ``InvalidDataError`` (aggregate to coarser
            periods) rather than running for hours or exhausting memory.
        weights : array_like, optional
            Number of customers with each history (default 1 each).
        initial_params : sequence of 4 floats, optional
            Starting values ``(alpha, beta, gamma, delta)``.
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
        BetaGeoBetaBinomFitter
            ``self``, fitted.

        Raises
        ------
        ValueError
            On invalid data (not integers, :math:`x > t_x`, :math:`t_x > n`,
            :math:`n < 1`, ...); the message names the rule and the first
            offending row.
        retentionkit.ConvergenceError
            If the optimiser does not converge (a ``ValueError`` subclass).
        """
        self._fit(
            frequency,
            (recency, n_periods),
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
        m_periods_in_future: ArrayLike,
        frequency: ArrayLike | None = None,
        recency: ArrayLike | None = None,
        n_periods: ArrayLike | None = None,
    ) -> Result:
        r"""Expected number of transactions in the next opportunities, given the history.

        Eq. (13) of FHS (2010), the expected number of transactions in
        opportunities :math:`n + 1, \ldots, n + n^*` with
        :math:`n^* =` ``m_periods_in_future``:

        .. math::

            E[X(n, n + n^*) \mid x, t_x, n] =
            \frac{1}{L}\,
            \frac{B(\alpha + x + 1, \beta + n - x)}{B(\alpha, \beta)}
            \frac{\delta}{\gamma - 1}
            \frac{\Gamma(\gamma + \delta)}{\Gamma(1 + \delta)}
            \left[\frac{\Gamma(1 + \delta + n)}{\Gamma(\gamma + \delta + n)}
            - \frac{\Gamma(1 + \delta + n + n^*)}{\Gamma(\gamma + \delta + n + n^*)}\right]

        with :math:`L` the likelihood of eq. (5). The core evaluates it in a form
        that stays accurate near :math:`\gamma = 1`, where this one is 0/0.

        Parameters
        ----------
        m_periods_in_future : array_like
            Number of future opportunities :math:`n^*` (non-negative integers).
        frequency, recency, n_periods : array_like, optional
            Customer histories; all omitted means the fitted data.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Broadcast over the inputs; a Series with the input's index when a
            Series is given (or the fitted data is used).
        """
        return self._predict(
            "conditional_expected_number_of_purchases_up_to_time",
            m_periods_in_future=m_periods_in_future,
            **self._history(frequency, recency, n_periods),
        )

    predict = conditional_expected_number_of_purchases_up_to_time

    def conditional_probability_alive(
        self,
        m_periods_in_future: ArrayLike,
        frequency: ArrayLike | None = None,
        recency: ArrayLike | None = None,
        n_periods: ArrayLike | None = None,
    ) -> Result:
        r"""Probability of being alive at opportunity ``n + m_periods_in_future``.

        Eq. (11) of FHS (2010) is the case :math:`m = 1` (alive at the next
        opportunity); as in ``lifetimes``, general :math:`m` survives :math:`m`
        more drop-out draws:

        .. math::

            P(\text{alive at } n + m \mid x, t_x, n) =
            \frac{B(\alpha + x, \beta + n - x)}{B(\alpha, \beta)}
            \frac{B(\gamma, \delta + n + m)}{B(\gamma, \delta)} \Big/ L

        with :math:`L` the likelihood of eq. (5). :math:`m = 0` gives the
        probability of having been alive at the last observed opportunity.

        Parameters
        ----------
        m_periods_in_future : array_like
            Number of opportunities ahead :math:`m` (non-negative integers).
        frequency, recency, n_periods : array_like, optional
            Customer histories; all omitted means the fitted data.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Values in [0, 1], shaped like the inputs.
        """
        return self._predict(
            "conditional_probability_alive",
            m_periods_in_future=m_periods_in_future,
            **self._history(frequency, recency, n_periods),
        )

    def expected_number_of_purchases_up_to_time(self, n_periods: ArrayLike) -> Result:
        r"""Expected number of transactions of a new customer in the first ``n`` opportunities.

        Eq. (8) of FHS (2010):

        .. math::

            E[X(n)] = \frac{\alpha}{\alpha + \beta} \frac{\delta}{\gamma - 1}
            \left[1 - \frac{\Gamma(\gamma + \delta)\,\Gamma(1 + \delta + n)}
            {\Gamma(1 + \delta)\,\Gamma(\gamma + \delta + n)}\right]

        Parameters
        ----------
        n_periods : array_like
            Number of opportunities :math:`n` (non-negative integers).

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Shaped like ``n_periods``.
        """
        return self._predict("expected_number_of_transactions", n_periods=n_periods)

    def probability_of_n_purchases_up_to_time(self, n_periods: ArrayLike, n: ArrayLike) -> Result:
        r"""Probability that a new customer makes exactly ``n`` transactions in ``n_periods``.

        Eq. (7) of FHS (2010), with :math:`n` opportunities and :math:`x`
        transactions:

        .. math::

            P(X(n) = x) = \binom{n}{x}
            \frac{B(\alpha + x, \beta + n - x)}{B(\alpha, \beta)}
            \frac{B(\gamma, \delta + n)}{B(\gamma, \delta)}
            + \sum_{i=x}^{n-1} \binom{i}{x}
            \frac{B(\alpha + x, \beta + i - x)}{B(\alpha, \beta)}
            \frac{B(\gamma + 1, \delta + i)}{B(\gamma, \delta)}

        Parameters
        ----------
        n_periods : array_like
            Number of opportunities (non-negative integers).
        n : array_like
            Number of transactions (non-negative integers; 0 probability above
            ``n_periods``). Broadcast with ``n_periods``.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        # The core takes (x, n_periods); the index is that of n_periods if a Series.
        return self._predict(
            "probability_of_n_transactions", order=(1, 0), n_periods=n_periods, n=n
        )

    def expected_number_of_transactions_in_first_n_periods(self, n: int) -> pd.DataFrame:
        r"""Expected number of customers with each number of transactions in ``n`` opportunities.

        :math:`P(X(n) = x)` of eq. (7) of FHS (2010), times the number of fitted
        customers (the sum of the weights), for :math:`x = 0, \ldots, n`; compared
        with the observed counts this is FHS's check of the in-sample fit.

        Parameters
        ----------
        n : int
            Number of transaction opportunities.

        Returns
        -------
        pandas.DataFrame
            One column ``model``, indexed by ``frequency`` 0..n; it sums to the
            number of customers.

        Notes
        -----
        ``lifetimes`` indexes the result by the frequencies present in the fitted
        data only; here every frequency from 0 to ``n`` is listed.
        """
        numeric = isinstance(n, (int, float, np.integer, np.floating)) and not isinstance(n, bool)
        if not (numeric and float(n).is_integer() and n >= 0):
            raise ValueError(f"n must be a non-negative integer, got {plain(n)}")
        periods = int(n)
        customers = self._n_customers()
        x = np.arange(periods + 1, dtype=np.float64)
        probabilities = self._core().probability_of_n_transactions(
            x, np.full(x.size, float(periods))
        )
        return pd.DataFrame(
            {"model": np.asarray(probabilities) * customers},
            index=pd.Index(np.arange(periods + 1), name="frequency"),
        )

    def _n_customers(self) -> float:
        """Number of fitted customers: from the fit, else from ``data``."""
        return float(self._fit_statistic(self._subjects(), "the number of fitted customers"))

    def individual_log_likelihood(
        self,
        frequency: ArrayLike | None = None,
        recency: ArrayLike | None = None,
        n_periods: ArrayLike | None = None,
    ) -> Result:
        """Log-likelihood of each customer's history, the log of eq. (5) of FHS (2010).

        Parameters
        ----------
        frequency, recency, n_periods : array_like, optional
            Customer histories; all omitted means the fitted data (unweighted).

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        return self._predict(
            "individual_log_likelihood", **self._history(frequency, recency, n_periods)
        )

    # -- simulation -----------------------------------------------------------------

    def generate_new_data(
        self, size: int = 1, seed: int | None = None, n_periods: ArrayLike | None = None
    ) -> pd.DataFrame:
        r"""Simulate customers from the fitted BG/BB model.

        Each customer draws :math:`p \sim \mathrm{Beta}(\alpha, \beta)` and
        :math:`\theta \sim \mathrm{Beta}(\gamma, \delta)`; at the beginning of each
        opportunity :math:`t = 1, \ldots, n` a living customer dies with
        probability :math:`\theta`, and one still alive transacts with probability
        :math:`p` (section 3 of FHS 2010).

        Parameters
        ----------
        size : int, default 1
            Number of customers (ignored when ``n_periods`` is an array, whose
            length gives the number).
        seed : int, optional
            Seed of the random generator; the same seed gives the same data.
        n_periods : int or array_like, optional
            Number of transaction opportunities of each customer. By default each
            customer's is drawn from the fitted data's ``n_periods`` in proportion
            to the weights (as ``lifetimes`` replicates them); without fitted data
            it must be given.

        Returns
        -------
        pandas.DataFrame
            Columns ``frequency``, ``recency``, ``n_periods``, ``p``, ``theta``,
            ``alive`` (bool) and ``customer_id`` (0..size-1), like ``lifetimes``.
            ``alive`` says whether the customer was alive at opportunity ``n``
            (``lifetimes`` draws one more drop-out, giving "alive at ``n + 1``").
        """
        model = self._core()
        seed = _seed(seed)
        periods = self._simulation_periods(size, int(seed), n_periods)
        freq, rec, n, p, theta, alive = model.simulate(periods, int(seed))
        return pd.DataFrame(
            {
                "frequency": freq,
                "recency": rec,
                "n_periods": n,
                "p": p,
                "theta": theta,
                "alive": np.asarray(alive).astype(bool),
                "customer_id": np.arange(len(periods)),
            }
        )

    def _simulation_periods(self, size: int, seed: int, n_periods: ArrayLike | None) -> Any:
        """The number of opportunities of each simulated customer, as float64."""
        if n_periods is None:
            if size < 0:
                raise ValueError(f"size must be non-negative, got {size}")
            if self.data is None:
                raise ValueError(
                    "give n_periods: there is no fitted data to take the numbers of "
                    "transaction opportunities from"
                )
            counts = self.data.groupby("n_periods")["weights"].sum()
            counts = counts[counts > 0]
            rng = np.random.default_rng(seed)
            probabilities = counts.to_numpy(dtype=np.float64) / counts.sum()
            return rng.choice(counts.index.to_numpy(dtype=np.float64), size=size, p=probabilities)
        return _per_customer(n_periods, size, "n_periods")
