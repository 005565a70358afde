"""The GGom/NBD model of Bemmaor & Glady (2012), with the ``lifetimes`` interface.

Reference: Bemmaor, A. C. & Glady, N. (2012), "Modeling purchasing behavior with sudden
'death': a flexible customer lifetime model", Management Science 58(5), 1012-1021.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .._core import GGomNBDCovariatesModel, GGomNBDModel
from .._covariates import Covariates
from .._validation import ArrayLike, Result
from .transaction_fitter import TransactionFitter

__all__ = ["GompertzGammaNBDFitter"]

#: The GGom/NBD formulas that fill :class:`TransactionFitter`'s docstrings.
_DOCS = {
    "model": "GGom/NBD",
    "class_name": "GompertzGammaNBDFitter",
    "params": r":math:`r, \alpha` (gamma purchase rates), :math:`b` (Gompertz scale) and "
    r":math:`s, \beta` (gamma Gompertz frailty)",
    "param_tuple": "(r, alpha, b, s, beta)",
    "n_params": "5",
    "likelihood_ref": "Bemmaor & Glady (2012), eq. (9); the integral by adaptive "
    "Gauss-Kronrod quadrature, relative error 1e-10",
    "likelihood": r"""
L(r, \alpha, b, s, \beta \mid x, t_x, T) =
\frac{\Gamma(r + x)\,\alpha^r \beta^s}{\Gamma(r)} \left[
\frac{1}{(\alpha + T)^{r + x} (\beta + e^{bT} - 1)^s}
+ b s \int_{t_x}^{T} \frac{e^{by}\,dy}{(\alpha + y)^{r + x} (\beta + e^{by} - 1)^{s + 1}}
\right]
""",
    "conditional_ref": "given alive at T, lambda ~ Gamma(r + x, alpha + T) and "
    "eta ~ Gamma(s, beta + e^{bT} - 1); the integral by adaptive quadrature",
    "conditional": r"""
E[Y(t) \mid x, t_x, T] = P(\text{alive} \mid x, t_x, T)\,
\frac{r + x}{\alpha + T} \int_0^t \left(
\frac{\beta + e^{bT} - 1}{\beta + e^{b(T + u)} - 1}\right)^s du
""",
    "alive_ref": "the first term of the likelihood over the whole",
    "alive": r"""
P(\text{alive} \mid x, t_x, T) =
\frac{\Gamma(r + x)\,\alpha^r \beta^s}{\Gamma(r)\,(\alpha + T)^{r + x}
(\beta + e^{bT} - 1)^s} \Big/ L(r, \alpha, b, s, \beta \mid x, t_x, T)
""",
    "expected_ref": "the purchase rate times the expected time alive; the integral "
    "by adaptive quadrature",
    "expected": r"""
E[X(t)] = \frac{r}{\alpha} \int_0^t \left(\frac{\beta}{\beta + e^{bu} - 1}\right)^s du
""",
    "pmf_ref": "alive at t with n purchases, or gone at some time before t after n "
    "purchases (the lifetime density :math:`f`); the integral by adaptive quadrature",
    "pmf": r"""
P(X(t) = n) = \frac{\Gamma(r + n)}{\Gamma(r)\, n!} \left[
\left(\frac{\alpha}{\alpha + t}\right)^r
\left(\frac{t}{\alpha + t}\right)^n
\left(\frac{\beta}{\beta + e^{bt} - 1}\right)^s
+ \int_0^t \left(\frac{\alpha}{\alpha + \tau}\right)^r
\left(\frac{\tau}{\alpha + \tau}\right)^n f(\tau)\, d\tau \right],
\quad f(\tau) = \frac{b s \beta^s e^{b\tau}}{(\beta + e^{b\tau} - 1)^{s + 1}}
""",
    "dert": r"""
The GGom/NBD has no closed form: DERT is
:math:`\delta \int_0^\infty e^{-\delta t} E[Y(t) \mid x, t_x, T]\, dt` by
double-exponential quadrature (relative error about 1e-12).
""",
    "covariate_names": "``purchase:<column>`` (scaling alpha) and ``dropout:<column>`` "
    "(scaling beta, the rate of the Gompertz frailty)",
    "simulation": r"""
Each customer draws :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)` and
:math:`\eta \sim \mathrm{Gamma}(s, \beta)`, lives a Gompertz lifetime with
hazard :math:`b \eta e^{b\tau}` and, while alive, buys as a Poisson process of
rate :math:`\lambda`, over ``[0, T]``.
""",
    "dropout": "eta",
}


class GompertzGammaNBDFitter(TransactionFitter):
    r"""GGom/NBD model (Bemmaor & Glady 2012), fitted by maximum likelihood in the Rust core.

    While alive, customer *i* buys according to a Poisson process with rate
    :math:`\lambda_i \sim \mathrm{Gamma}(r, \alpha)`. Their lifetime is Gompertz,
    with hazard :math:`b\,\eta_i e^{b\tau}` at age :math:`\tau` and
    :math:`\eta_i \sim \mathrm{Gamma}(s, \beta)`, so the population survival is
    :math:`S(\tau) = (\beta / (\beta + e^{b\tau} - 1))^s`: the drop-out hazard of a
    customer rises with age, and that of the surviving population rises when
    :math:`\beta > 1` and falls when :math:`\beta < 1`. As :math:`b \to 0` with
    :math:`\beta / b` fixed it is the Pareto/NBD with drop-out parameters
    :math:`(s, \beta / b)` (:class:`ParetoNBDFitter`); a fit that lands there (on
    the CDNOW sample, say) reports it in ``summary`` warnings, and :math:`b` and
    :math:`\beta` are then not separately determined.

    The likelihood's integral over the time of death has no closed form; the core
    integrates it by adaptive Gauss-Kronrod quadrature in log space (relative error
    1e-10, finite for thousands of purchases and long histories), with an analytic
    gradient and Hessian. Time is in the unit of the data; :math:`\beta` has no unit.

    Time-invariant covariates (``fit(..., purchase_covariates=...,
    dropout_covariates=...)``) scale :math:`\alpha_i = \alpha
    e^{-\gamma_{\text{purchase}}^T z_i}` and :math:`\beta_i = \beta
    e^{-\gamma_{\text{dropout}}^T z_i}` (:math:`r, b, s` shared), as for the
    Pareto/NBD: a positive purchase coefficient raises the purchase rate, a positive
    drop-out coefficient the drop-out hazard; every prediction of a customer is the
    model's at their own :math:`\alpha_i, \beta_i`.

    The methods are those of :class:`BetaGeoFitter` (``generate_new_data`` reports
    the Gompertz frailty in the column ``eta``), and
    :meth:`conditional_probability_of_n_purchases_up_to_time` as for the Pareto/NBD.

    Parameters
    ----------
    penalizer_coef : float, default 0.0
        Coefficient of an L2 penalty on the parameters, as in ``lifetimes``.

    Examples
    --------
    >>> from retentionkit import GompertzGammaNBDFitter
    >>> from retentionkit.datasets import load_cdnow_summary
    >>> ggom = GompertzGammaNBDFitter().fit(load_cdnow_summary())
    >>> ggom.params_[["r", "alpha", "s"]].round(1).to_dict()
    {'r': 0.6, 'alpha': 10.6, 's': 0.6}
    >>> round(ggom.log_likelihood_, 1)
    -9595.0
    """

    _core_class: ClassVar[Any] = GGomNBDModel
    _covariate_core_class: ClassVar[Any] = GGomNBDCovariatesModel
    _dropout_column: ClassVar[str] = "eta"
    _docs: ClassVar[dict[str, str]] = _DOCS

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
        follows) or alive, with probability :math:`P(\text{alive} \mid x, t_x, T)`.
        Given alive, the likelihood :math:`\lambda^x e^{-\lambda T}
        e^{-\eta (e^{bT} - 1)}` makes the posterior :math:`\lambda \sim
        \mathrm{Gamma}(r + x, \alpha + T)` and :math:`\eta \sim \mathrm{Gamma}(s,
        \beta + e^{bT} - 1)`, independent. The remaining lifetime is then Gompertz
        with the same :math:`b` and frailty :math:`\eta e^{bT} \sim
        \mathrm{Gamma}(s, \beta')`, :math:`\beta' = 1 + (\beta - 1) e^{-bT}`, and
        the Poisson process is memoryless: from :math:`T` on the customer is a new
        GGom/NBD customer with parameters :math:`(r + x, \alpha + T, b, s, \beta')`.
        Hence

        .. math::

            P(Y(t) = n \mid x, t_x, T) = \mathbf{1}\{n = 0\}
            \bigl(1 - P(\text{alive} \mid x, t_x, T)\bigr)
            + P(\text{alive} \mid x, t_x, T)\,
            P_{r + x,\, \alpha + T,\, b,\, s,\, \beta'}(X(t) = n),

        with :math:`P_{r, \alpha, b, s, \beta}(X(t) = n)` the unconditional
        probability of :meth:`probability_of_n_purchases_up_to_time` (its lifetime
        part by adaptive Gauss-Kronrod quadrature). As :math:`b \to 0` with
        :math:`\beta / b` fixed this is the Pareto/NBD's. The arguments are in the
        order of ``lifetimes`` 0.11.3 (of its Pareto/NBD).

        Parameters
        ----------
        n : array_like
            Number of purchases (non-negative integers).
        t : array_like
            Length of the period after :math:`T`, in the time unit of the data.
        frequency, recency, T : array_like
            Customer histories :math:`(x, t_x, T)`. All inputs are broadcast together.
        purchase_covariates, dropout_covariates : pandas.DataFrame or 2-D array, optional
            Required by a model fitted with covariates (refused by one without):
            the customers' covariates, as given to :meth:`fit`; a DataFrame is
            aligned by label on the index of the histories, a single row applies
            to every customer. Customer *i*'s probability is the formula above at
            their own :math:`\alpha_i = \alpha e^{-\gamma_{\text{purchase}}^T z_i}`
            and :math:`\beta_i = \beta e^{-\gamma_{\text{dropout}}^T z_i}`. With
            covariates the inputs are one value per customer (or scalars).

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Shaped like the broadcast inputs (with covariates, one value per
            customer).

        Examples
        --------
        >>> import numpy as np
        >>> from retentionkit import GompertzGammaNBDFitter
        >>> ggom = GompertzGammaNBDFitter()
        >>> ggom.params_ = {"r": 0.55, "alpha": 10.6, "b": 0.05, "s": 0.6, "beta": 0.5}
        >>> p = ggom.conditional_probability_of_n_purchases_up_to_time(
        ...     np.arange(200), 39, 2, 30.43, 38.86
        ... )
        >>> round(float(p.sum()), 9)
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
