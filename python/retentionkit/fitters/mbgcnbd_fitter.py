"""MBG/CNBD-k (Platzer & Reutterer 2016), with the ``lifetimes`` interface.

Reference: Platzer, M. & Reutterer, T. (2016), "Ticking Away the Moments: Timing
Regularity Helps to Better Predict Customer Activity", Marketing Science 35(5),
779-799. The formulas are derived in ``src/models/mbgcnbd.rs``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._core import MBGCNBDkModel
from .._validation import ArrayLike, Result
from ._with_covariates import CovariateFitter
from .base import BaseFitter, ParamsLike, _per_customer, _seed, _whole_number

__all__ = ["MBGCNBDkFitter", "first_two_gaps", "wheat_morrison_k"]


class MBGCNBDkFitter(BaseFitter):
    r"""MBG/CNBD-k: MBG/NBD with Erlang-k inter-purchase times (regular buyers).

    While alive, a customer's purchases are every k-th event of a Poisson process of
    rate :math:`\lambda` ("ticks"), so the inter-purchase times are Erlang-k with mean
    :math:`k/\lambda`; :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)`. Right at the
    first purchase and after each repeat purchase the customer drops out with
    probability :math:`p \sim \mathrm{Beta}(a, b)`. With ``k = 1`` this is MBG/NBD
    (:class:`ModifiedBetaGeoFitter`) with the same parameters. Regular buyers
    (``k > 1``) are recognised as overdue sooner.

    The likelihood of a customer with ``x`` repeat purchases, the last at
    :math:`t_x`, observed for ``T``, with ``litt`` the sum of the logs of the
    inter-purchase times, is

    .. math::

        L = e^{(k-1)\,\mathrm{litt}} (k-1)!^{-x} \Big[
          \frac{B(a+1, b+x)}{B(a, b)} \frac{\Gamma(r+kx)\,\alpha^r}{\Gamma(r)(\alpha+t_x)^{r+kx}}
          + \frac{B(a, b+x+1)}{B(a, b)} \sum_{i=0}^{k-1}
            \frac{\Gamma(r+kx+i)\,\alpha^r\,(T-t_x)^i}{\Gamma(r)\,i!\,(\alpha+T)^{r+kx+i}}
          \Big],

    the first term "gone right after the last purchase", the second "alive, with
    fewer than k ticks since it". :math:`P(\text{alive})` is the second term over
    the sum (closed form). The conditional expected purchases are the exact series
    over the ticks since the last purchase and the future purchases (not the
    approximation of the original software; see ``src/models/mbgcnbd.rs``).

    Parameters
    ----------
    k : int, optional
        The k of the Erlang-k inter-purchase times. None (default) chooses it: fits
        k = 1, 2, ... up to ``max_k``, keeping the best log-likelihood, and stops
        once the log-likelihood has fallen twice in a row.
    max_k : int, default 12
        Largest k tried when ``k`` is None.
    penalizer_coef : float, default 0.0
        Coefficient of an L2 penalty on the parameters, as in ``lifetimes``.

    Attributes
    ----------
    k_ : int
        The k of the fitted (or given) model.
    k_profile_ : pandas.Series
        The log-likelihood of each k tried (index ``k``), when k was chosen; a
        single entry when k was fixed.

    Examples
    --------
    Four purchases every 2 weeks, then 12 weeks of silence: a regular buyer (k = 4)
    is almost surely gone, a Poisson buyer (k = 1, the same mean gap) may be alive.

    >>> from retentionkit import MBGCNBDkFitter
    >>> regular, poisson = MBGCNBDkFitter(k=4), MBGCNBDkFitter(k=1)
    >>> regular.params_ = {"r": 2.0, "alpha": 2.0, "a": 0.8, "b": 3.0}
    >>> poisson.params_ = {"r": 2.0, "alpha": 8.0, "a": 0.8, "b": 3.0}
    >>> round(float(regular.conditional_probability_alive(4, 8.0, 20.0)), 4)
    0.0015
    >>> round(float(poisson.conditional_probability_alive(4, 8.0, 20.0)), 4)
    0.2335
    """

    _core_class = MBGCNBDkModel
    _columns: ClassVar[tuple[str, ...]] = ("frequency", "recency", "T", "litt")

    def __init__(self, k: int | None = None, max_k: int = 12, penalizer_coef: float = 0.0) -> None:
        super().__init__(penalizer_coef)
        self.k = None if k is None else _whole_number(k, "k", 1)
        self.max_k = _whole_number(max_k, "max_k", 1)

    # -- fit ---------------------------------------------------------------------

    def fit(
        self,
        frequency: ArrayLike | pd.DataFrame,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        litt: ArrayLike | None = None,
        weights: ArrayLike | None = None,
        initial_params: Any | None = None,
        verbose: bool = False,
        tol: float = 1e-8,
        index: Any | None = None,
        max_iterations: int = 200,
    ) -> MBGCNBDkFitter:
        """Fit MBG/CNBD-k by maximum likelihood, for the fixed ``k`` or choosing it.

        Parameters
        ----------
        frequency : array_like or pandas.DataFrame
            Repeat purchases ``x``; or a DataFrame with columns ``frequency``,
            ``recency``, ``T``, ``litt`` (and optionally ``weights``), as
            ``summary_data_from_transaction_data(..., include_litt=True)`` makes.
        recency, T : array_like
            Time of the last repeat purchase and age, in one time unit.
        litt : array_like
            Sum of the logs of the inter-purchase times, in the same unit (0 when
            ``x = 0``).
        weights : array_like, optional
            Number of customers with each history.
        initial_params : sequence of 4 floats, optional
            Starting values ``(r, alpha, a, b)``.
        verbose, tol, index, max_iterations
            As for :meth:`BetaGeoFitter.fit`.

        Returns
        -------
        MBGCNBDkFitter
            ``self``, fitted; ``k_`` and ``k_profile_`` are set.

        Raises
        ------
        ValueError
            On invalid data (the message names the rule, the column and the first
            offending row), e.g. a ``litt`` larger than ``x ln(t_x / x)``.
        retentionkit.ConvergenceError
            If the optimiser does not converge for a fixed ``k``.
        """
        self._fit(
            frequency,
            (recency, T, litt),
            weights,
            index=index,
            initial_params=initial_params,
            tol=tol,
            max_iterations=max_iterations,
            verbose=verbose,
            k=None if self.k is None else float(self.k),
            max_k=float(self.max_k),
        )
        return self

    # -- k -----------------------------------------------------------------------

    @property
    def k_(self) -> int:
        """The k of the fitted (or given) model."""
        return int(self._core().k)

    @property
    def k_profile_(self) -> pd.Series:
        """Log-likelihood by k (index ``k``) of the fits tried when choosing k."""
        model = self._core()
        rows = model.k_profile
        if not rows:
            ll = model.log_likelihood
            rows = [(model.k, np.nan if ll is None else ll)]
        return pd.Series(
            [float(ll) for _, ll in rows],
            index=pd.Index([int(k) for k, _ in rows], name="k"),
            name="log_likelihood",
            dtype=float,
        )

    @property
    def params_(self) -> pd.Series:
        """The parameters ``r, alpha, a, b`` as a Series (k is ``k_``).

        Assigning them (Series, dict or sequence) builds a model with the fitter's
        ``k`` (or the fitted ``k_``, else 1) and no fit statistics.
        """
        return BaseFitter.params_.fget(self)  # type: ignore[attr-defined,no-any-return]

    @params_.setter
    def params_(self, value: ParamsLike) -> None:
        model: Any = self._model
        k = self.k if self.k is not None else (1 if model is None else model.k)
        BaseFitter.params_.fset(self, value)  # type: ignore[attr-defined]
        self._model = self._core().with_k(float(k))

    # -- predictions -----------------------------------------------------------

    def conditional_probability_alive(
        self,
        frequency: ArrayLike | None = None,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> Result:
        """P(alive at T | x, t_x, T): the "alive" term of the likelihood over the
        likelihood (closed form; litt cancels). Without arguments, for ``data``."""
        h = self._history3(frequency, recency, T)
        return self._predict("conditional_probability_alive", **h)

    def conditional_expected_number_of_purchases_up_to_time(
        self,
        t: ArrayLike,
        frequency: ArrayLike | None = None,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> Result:
        r"""E[Y(t) | x, t_x, T]: expected purchases in (T, T + t].

        .. math::

            P(\text{alive}) \sum_i w_i \sum_{m \ge 1}
            E\big[(1-p)^{m-1}\big] \, P\big(N_i(t) \ge mk - i\big),

        with :math:`w_i` the posterior probability of i ticks since the last
        purchase, :math:`p \sim \mathrm{Beta}(a, b+x+1)` and :math:`N_i(t)` the
        negative binomial number of ticks in t, summed exactly.
        """
        h = self._history3(frequency, recency, T)
        return self._predict("conditional_expected_number_of_purchases_up_to_time", t=t, **h)

    def expected_number_of_purchases_up_to_time(self, t: ArrayLike) -> Result:
        """E[X(t)]: expected repeat purchases of a new customer in (0, t]."""
        return self._predict("expected_number_of_purchases_up_to_time", t=t)

    def probability_of_n_purchases_up_to_time(self, t: ArrayLike, n: ArrayLike) -> Result:
        r"""P(X(t) = n) for a new customer.

        .. math::

            \frac{B(a, b+n+1)}{B(a, b)} \sum_{j=nk}^{(n+1)k-1} P(N(t) = j)
            + \frac{B(a+1, b+n)}{B(a, b)} P(N(t) \ge nk),

        alive after n purchases, or gone right after the n-th (at the first purchase
        when n = 0); :math:`N(t)` is the negative binomial number of ticks in t.
        """
        return self._predict("probability_of_n_purchases_up_to_time", t=t, n=n)

    predict = conditional_expected_number_of_purchases_up_to_time

    def discounted_expected_residual_transactions(
        self,
        discount_rate: ArrayLike,
        frequency: ArrayLike | None = None,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> Result:
        r"""Discounted expected residual transactions (DERT) after ``T``.

        Every future purchase discounted continuously at rate :math:`\delta` per
        time unit (Fader, Hardie & Lee 2005, JMR 42(4), eq. (1)):

        .. math::

            \mathrm{DERT}(\delta \mid x, t_x, T)
            = \delta \int_0^\infty e^{-\delta t}\, E[Y(t) \mid x, t_x, T]\, dt,

        integrated numerically (a double-exponential rule, about 1e-12 relative)
        over the exact series of
        :meth:`conditional_expected_number_of_purchases_up_to_time`. litt is not
        needed: it cancels from every prediction. Multiplied by the expected value
        of a transaction this is the customer's lifetime value under continuous
        discounting (:meth:`GammaGammaFitter.customer_lifetime_value` with
        ``discounting="continuous"``).

        Parameters
        ----------
        discount_rate : float or array_like
            Continuous discount rate :math:`\delta > 0` per time unit of the data.
        frequency, recency, T : array_like, optional
            Customer histories; all omitted means the fitted data.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Non-negative, decreasing in ``discount_rate``.
        """
        h = self._history3(frequency, recency, T)
        return self._predict(
            "discounted_expected_residual_transactions", discount_rate=discount_rate, **h
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

        ``n_draws`` vectors :math:`(r, \alpha, a, b)` are drawn from the asymptotic
        normal distribution of the log-parameters (the fit's covariance, by the
        delta method), k fixed at ``k_``; each customer's
        :meth:`conditional_expected_number_of_purchases_up_to_time` is computed
        under every draw and the :math:`(1 \mp \text{level})/2` quantiles are the
        bounds (how well the expectation is known, not the spread of purchases).
        The uncertainty of the choice of k is not included.

        Returns
        -------
        pandas.DataFrame
            Columns ``estimate``, ``lower`` and ``upper``, indexed like the input
            Series (else 0..n-1).
        """
        h = self._history3(frequency, recency, T)
        return self._predict_interval(
            "conditional_expected_number_of_purchases_up_to_time_interval",
            level=level,
            n_draws=n_draws,
            seed=seed,
            t=t,
            **h,
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
        """P(alive) with an interval over the parameter uncertainty (k fixed), as
        :meth:`conditional_expected_number_of_purchases_up_to_time_interval`.

        Returns
        -------
        pandas.DataFrame
            Columns ``estimate``, ``lower`` and ``upper``, in [0, 1].
        """
        h = self._history3(frequency, recency, T)
        return self._predict_interval(
            "conditional_probability_alive_interval",
            level=level,
            n_draws=n_draws,
            seed=seed,
            **h,
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
        """DERT with an interval over the parameter uncertainty (k fixed); each
        draw costs a numerical integral per customer.

        Returns
        -------
        pandas.DataFrame
            Columns ``estimate``, ``lower`` and ``upper``.
        """
        h = self._history3(frequency, recency, T)
        return self._predict_interval(
            "discounted_expected_residual_transactions_interval",
            level=level,
            n_draws=n_draws,
            seed=seed,
            discount_rate=discount_rate,
            **h,
        )

    #: The error of covariates given to this model (it has none), for the CLV.
    _refuse = CovariateFitter._refuse

    def individual_log_likelihood(
        self,
        frequency: ArrayLike | None = None,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        litt: ArrayLike | None = None,
    ) -> Result:
        """ln L of each history (x, t_x, T, litt); without arguments, of ``data``."""
        h = self._history(frequency, recency, T, litt)
        return self._predict("individual_log_likelihood", **h)

    def generate_new_data(
        self, size: int = 1, seed: int | None = None, T: ArrayLike | None = None
    ) -> pd.DataFrame:
        """Simulate customers: draws of λ and p, Erlang-k gaps, drop-out at the first
        purchase and after each repeat purchase, over ``[0, T]``.

        Returns
        -------
        pandas.DataFrame
            Columns ``frequency``, ``recency``, ``T``, ``litt``, ``lambda``, ``p``,
            ``alive`` (bool), ``customer_id``.
        """
        ages = _per_customer(1.0 if T is None else T, size, "T")
        (freq, rec, age, lam, p, alive), litt = self._core().simulate(ages, int(_seed(seed)))
        return pd.DataFrame(
            {
                "frequency": freq,
                "recency": rec,
                "T": age,
                "litt": litt,
                "lambda": lam,
                "p": p,
                "alive": np.asarray(alive).astype(bool),
                "customer_id": np.arange(len(ages)),
            }
        )

    def _history3(self, *given: ArrayLike | None) -> dict[str, Any]:
        """(frequency, recency, T) given, or those of ``data``."""
        if all(v is None for v in given):
            h = self._history(None, None, None, None)
            return {c: h[c] for c in ("frequency", "recency", "T")}
        if any(v is None for v in given):
            raise ValueError(
                "give all of frequency, recency and T, or none (to use the fitted data)"
            )
        return dict(zip(("frequency", "recency", "T"), given))

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["k"] = self.k
        state["max_k"] = self.max_k
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self.k = state.get("k")
        self.max_k = int(state.get("max_k", 12))


def wheat_morrison_k(first_gap: ArrayLike, second_gap: ArrayLike) -> tuple[float, pd.Series]:
    r"""Wheat & Morrison's (1990) estimate of the regularity k from two gaps per customer.

    For each customer with two consecutive inter-purchase times :math:`t_1, t_2`,
    :math:`M = t_1 / (t_1 + t_2)`. If the gaps are Erlang-k with the same rate,
    :math:`M \sim \mathrm{Beta}(k, k)`, whose variance is :math:`1 / (4(2k + 1))`,
    so :math:`\hat k = (1 / (4 \widehat{\mathrm{Var}}(M)) - 1) / 2`. Poisson buying
    (k = 1) gives M uniform (variance 1/12); regular buying concentrates M near 1/2.

    Parameters
    ----------
    first_gap, second_gap : array_like
        The first and second inter-purchase time of each customer (positive).

    Returns
    -------
    (float, pandas.Series)
        The estimate of k (a real number, not rounded; NaN with fewer than two
        customers), and each customer's M.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> g = rng.gamma(3.0, 1.0, size=(2, 20000))
    >>> round(wheat_morrison_k(g[0], g[1])[0])
    3
    """
    t1 = np.asarray(first_gap, dtype=np.float64).reshape(-1)
    t2 = np.asarray(second_gap, dtype=np.float64).reshape(-1)
    if t1.shape != t2.shape:
        raise ValueError(
            f"first_gap has {t1.size} values and second_gap {t2.size}: give one pair per customer"
        )
    bad = ~((t1 > 0) & (t2 > 0) & np.isfinite(t1) & np.isfinite(t2))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"inter-purchase times must be positive and finite: row {row + 1} has "
            f"first_gap = {float(t1[row])}, second_gap = {float(t2[row])}"
        )
    index = first_gap.index if isinstance(first_gap, pd.Series) else None
    m = pd.Series(t1 / (t1 + t2), index=index, name="M")
    if len(m) < 2:
        return float("nan"), m
    variance = float(np.var(m.to_numpy(), ddof=1))
    return (1.0 / (4.0 * variance) - 1.0) / 2.0, m


def first_two_gaps(
    transactions: pd.DataFrame,
    customer_id_col: str,
    datetime_col: str,
    freq: str = "D",
    freq_multiplier: float = 1.0,
) -> pd.DataFrame:
    """The first two inter-purchase times of each customer with at least three purchases.

    Purchases are floored to periods of ``freq`` and merged within a period, as in
    :func:`~retentionkit.utils.summary_data_from_transaction_data`; the gaps are in
    periods divided by ``freq_multiplier`` (the summary's time unit).

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id, columns ``first_gap`` and ``second_gap``: the input
        of :func:`wheat_morrison_k`.
    """
    times = pd.to_datetime(transactions[datetime_col])
    periods = pd.DataFrame(
        {
            "id": transactions[customer_id_col].to_numpy(),
            "p": times.dt.to_period(freq).astype("int64").to_numpy(),
        }
    ).drop_duplicates()
    periods = periods.sort_values(["id", "p"], kind="stable")
    periods["gap"] = periods.groupby("id")["p"].diff() / float(freq_multiplier)
    periods["n"] = periods.groupby("id").cumcount()
    first = periods[periods["n"] == 1].set_index("id")["gap"]
    second = periods[periods["n"] == 2].set_index("id")["gap"]
    both = pd.DataFrame({"first_gap": first, "second_gap": second}).dropna()
    both.index.name = customer_id_col
    return both


# polars/pyarrow arguments in, results in their library (see retentionkit._frames).
from .._frames import accept_frames_in_module  # noqa: E402

accept_frames_in_module(globals(), __all__)
