"""The Pareto/NBD model of Schmittlein, Morrison & Colombo (1987), with the ``lifetimes`` interface.

References: Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987), "Counting your
customers: who are they and what will they do next?", Management Science 33(1), 1-24;
Fader, P. S. & Hardie, B. G. S. (2005), "A note on deriving the Pareto/NBD model and
related expressions" (equation numbers below); Fader, Hardie & Lee (2006), "Deriving
an expression for P(X(t) = x) under the Pareto/NBD model".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import pandas as pd

from .._core import ParetoNBDCovariatesModel, ParetoNBDModel
from .._covariates import Covariates
from .._validation import ArrayLike, Result
from .transaction_fitter import TransactionFitter

__all__ = ["ParetoNBDFitter"]

#: The Pareto/NBD formulas that fill :class:`TransactionFitter`'s docstrings.
_DOCS = {
    "model": "Pareto/NBD",
    "class_name": "ParetoNBDFitter",
    "params": r":math:`r, \alpha` (gamma purchase rates) and :math:`s, \beta` (gamma "
    "drop-out rates)",
    "param_tuple": "(r, alpha, s, beta)",
    "n_params": "4",
    "likelihood_ref": "eq. (19)-(22) of Fader & Hardie's note (2005)",
    "likelihood": r"""
L(r, \alpha, s, \beta \mid x, t_x, T) =
\frac{\Gamma(r + x)\,\alpha^r \beta^s}{\Gamma(r)} \left[
\frac{1}{(\alpha + T)^{r + x} (\beta + T)^s}
+ s \int_{t_x}^{T} \frac{d\tau}{(\alpha + \tau)^{r + x} (\beta + \tau)^{s + 1}}
\right]
""",
    "conditional_ref": "eq. (24) of Fader & Hardie's note (2005)",
    "conditional": r"""
E[Y(t) \mid x, t_x, T] =
\frac{(r + x)(\beta + T)}{(\alpha + T)(s - 1)}
\left[1 - \left(\frac{\beta + T}{\beta + T + t}\right)^{s - 1}\right]
P(\text{alive} \mid x, t_x, T)
""",
    "alive_ref": "eq. (18) of Fader & Hardie's note (2005); below 1 even when x = 0",
    "alive": r"""
P(\text{alive} \mid x, t_x, T) =
\frac{\Gamma(r + x)\,\alpha^r \beta^s}{\Gamma(r)\,(\alpha + T)^{r + x} (\beta + T)^s}
\Big/ L(r, \alpha, s, \beta \mid x, t_x, T)
""",
    "expected_ref": "eq. (17) of Fader & Hardie's note (2005)",
    "expected": r"""
E[X(t)] = \frac{r \beta}{\alpha (s - 1)}
\left[1 - \left(\frac{\beta}{\beta + t}\right)^{s - 1}\right]
\qquad (\tfrac{r \beta}{\alpha} \ln(1 + t / \beta) \text{ at } s = 1)
""",
    "pmf_ref": "Fader, Hardie & Lee (2006), eq. (9): alive at t with n purchases, or "
    "gone at some time before t after n purchases",
    "pmf": r"""
P(X(t) = n) = \frac{\Gamma(r + n)}{\Gamma(r)\, n!} \left[
\left(\frac{\alpha}{\alpha + t}\right)^r
\left(\frac{t}{\alpha + t}\right)^n
\left(\frac{\beta}{\beta + t}\right)^s
+ \int_0^t \frac{s \beta^s}{(\beta + \tau)^{s + 1}}
\left(\frac{\alpha}{\alpha + \tau}\right)^r
\left(\frac{\tau}{\alpha + \tau}\right)^n d\tau \right]
""",
    "dert": r"""
The Pareto/NBD has a closed form, eq. (2) of Fader, Hardie & Lee (2005,
JMR), with the confluent hypergeometric function
:math:`U(s, s; \delta(\beta + T))`.
""",
    "covariate_names": "``purchase:<column>`` (scaling alpha) and ``dropout:<column>`` "
    "(scaling beta)",
    "simulation": r"""
Each customer draws :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)` and
:math:`\mu \sim \mathrm{Gamma}(s, \beta)`, lives an exponential lifetime of
rate :math:`\mu` and, while alive, buys as a Poisson process of rate
:math:`\lambda`, over ``[0, T]``.
""",
    "dropout": "mu",
    "fit_extra": """
iterative_fitting, fit_method, maxiter
    Accepted for ``lifetimes`` compatibility (they configure its scipy
    optimiser); they have no effect here: the core's Newton method needs no
    restarts, and its iteration limit is ``max_iterations``.
""",
}


class ParetoNBDFitter(TransactionFitter):
    r"""Pareto/NBD model, fitted by maximum likelihood in the Rust core.

    While alive, customer *i* buys according to a Poisson process with rate
    :math:`\lambda_i \sim \mathrm{Gamma}(r, \alpha)`; their lifetime is exponential
    with rate :math:`\mu_i \sim \mathrm{Gamma}(s, \beta)`. The likelihood (Fader &
    Hardie's note, eq. (19)-(22)) involves a Gauss hypergeometric function, which the
    core evaluates after Euler's transformation as a series of positive terms: it stays
    finite and accurate for customers with thousands of purchases, ages in the tens of
    thousands and :math:`\alpha \approx \beta`, where ``lifetimes`` returns NaN or inf.

    Predictions: :math:`E[X(t)]` eq. (17); P(alive) eq. (18); the conditional
    expectation eq. (24); :math:`P(X(t) = n)` Fader, Hardie & Lee (2006) eq. (9).
    The methods are those of :class:`BetaGeoFitter` (``generate_new_data`` reports
    the drop-out rate in the column ``mu``).

    Parameters
    ----------
    penalizer_coef : float, default 0.0
        Coefficient of an L2 penalty on the parameters, as in ``lifetimes``.

    Examples
    --------
    >>> from retentionkit import ParetoNBDFitter
    >>> from retentionkit.datasets import load_cdnow_summary
    >>> pnbd = ParetoNBDFitter().fit(load_cdnow_summary())
    >>> pnbd.params_.round(3).to_dict()
    {'r': 0.553, 'alpha': 10.578, 's': 0.606, 'beta': 11.668}
    """

    _core_class: ClassVar[Any] = ParetoNBDModel
    _covariate_core_class: ClassVar[Any] = ParetoNBDCovariatesModel
    _dropout_column: ClassVar[str] = "mu"
    _docs: ClassVar[dict[str, str]] = _DOCS

    def fit(  # type: ignore[override]  # lifetimes' extra keywords, in its order
        self,
        frequency: ArrayLike | pd.DataFrame,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        weights: ArrayLike | None = None,
        iterative_fitting: int = 1,
        initial_params: Any | None = None,
        verbose: bool = False,
        tol: float = 1e-8,
        index: Any | None = None,
        fit_method: str = "Nelder-Mead",
        maxiter: int = 2000,
        max_iterations: int = 200,
        *,
        purchase_covariates: Covariates | None = None,
        dropout_covariates: Covariates | None = None,
        shared_covariates: Sequence[str] = (),
        covariate_penalizer: float | Sequence[float] = 0.0,
        purchase_covariate_cols: Sequence[str] | None = None,
        dropout_covariate_cols: Sequence[str] | None = None,
    ) -> ParetoNBDFitter:
        # lifetimes' positional order; iterative_fitting, fit_method and maxiter
        # configure lifetimes' scipy optimiser and have no counterpart here.
        del iterative_fitting, fit_method, maxiter
        self._fit(
            frequency,
            (recency, T),
            weights,
            index=index,
            initial_params=initial_params,
            tol=tol,
            max_iterations=max_iterations,
            verbose=verbose,
            covariates=self._covariate_request(
                frequency,
                purchase_covariates=purchase_covariates,
                dropout_covariates=dropout_covariates,
                shared_covariates=shared_covariates,
                covariate_penalizer=covariate_penalizer,
                purchase_covariate_cols=purchase_covariate_cols,
                dropout_covariate_cols=dropout_covariate_cols,
            ),
        )
        return self

    fit.__doc__ = TransactionFitter.fit.__template__  # type: ignore[attr-defined]

    def conditional_probability_of_n_purchases_up_to_time(
        self,
        n: ArrayLike,
        t: ArrayLike,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        *,
        purchase_covariates: Covariates | None = None,
        dropout_covariates: Covariates | None = None,
    ) -> Result:
        r"""Probability of exactly ``n`` purchases in :math:`(T, T + t]` given the history.

        Given :math:`(x, t_x, T)` the customer is dead at :math:`T` (then no purchase
        follows) or alive, with probability :math:`P(\text{alive} \mid x, t_x, T)`
        (eq. (18)). Given alive, the likelihood :math:`\lambda^x e^{-\lambda T}
        e^{-\mu T}` makes the posterior :math:`\lambda \sim \mathrm{Gamma}(r + x,
        \alpha + T)` and :math:`\mu \sim \mathrm{Gamma}(s, \beta + T)`,
        independent, and by memorylessness the customer then behaves as a new
        Pareto/NBD customer with those parameters. Hence

        .. math::

            P(Y(t) = n \mid x, t_x, T) = \mathbf{1}\{n = 0\}
            \bigl(1 - P(\text{alive} \mid x, t_x, T)\bigr)
            + P(\text{alive} \mid x, t_x, T)\,
            P_{r + x,\, \alpha + T,\, s,\, \beta + T}(X(t) = n),

        with :math:`P_{r, \alpha, s, \beta}(X(t) = n)` the unconditional probability
        of Fader, Hardie & Lee (2006), eq. (9) (see
        :meth:`probability_of_n_purchases_up_to_time`). The arguments are in the order
        of ``lifetimes`` 0.11.3.

        Parameters
        ----------
        n : array_like
            Number of purchases (non-negative integers).
        t : array_like
            Length of the period after :math:`T`, in the time unit of the data.
        frequency, recency, T : array_like
            Customer histories :math:`(x, t_x, T)`; ``T = 0`` (first purchase at the end
            of observation) is allowed, and so is ``frequency = 0`` with
            ``recency > 0``, as in ``lifetimes``. All inputs are broadcast together.
        purchase_covariates, dropout_covariates : pandas.DataFrame or 2-D array, optional
            Required by a model fitted with covariates (refused by one without):
            the customers' covariates, as given to :meth:`fit`; a DataFrame is
            aligned by label on the index of the histories, a single row applies
            to every customer. Customer *i*'s probability is the formula above at
            their own :math:`\alpha_i = \alpha e^{-\gamma_{\text{purchase}}^T z_i}`
            and :math:`\beta_i = \beta e^{-\gamma_{\text{dropout}}^T z_i}`
            (``r`` and ``s`` are shared). With covariates the inputs are one value
            per customer (or scalars).

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Shaped like the broadcast inputs (with covariates, one value per
            customer).

        Examples
        --------
        >>> import numpy as np
        >>> from retentionkit import ParetoNBDFitter
        >>> pnbd = ParetoNBDFitter()
        >>> pnbd.params_ = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
        >>> n = np.arange(200)
        >>> p = pnbd.conditional_probability_of_n_purchases_up_to_time(n, 39, 2, 30.43, 38.86)
        >>> round(float(p.sum()), 10)
        1.0
        """
        return self._predict(
            "conditional_probability_of_n_purchases_up_to_time",
            covariates={"purchase": purchase_covariates, "dropout": dropout_covariates},
            n=n,
            t=t,
            frequency=frequency,
            recency=recency,
            T=T,
        )
