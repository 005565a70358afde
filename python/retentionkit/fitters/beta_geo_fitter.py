"""The BG/NBD model of Fader, Hardie & Lee (2005), with the ``lifetimes`` interface.

Reference: Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "'Counting your
customers' the easy way: an alternative to the Pareto/NBD model", Marketing Science
24(2), 275-284. Equation numbers in :class:`TransactionFitter`'s methods refer to
that paper. The probability that a customer is alive is derived in Fader, Hardie &
Lee (2008), "Computing P(alive) using the BG/NBD model" (brucehardie.com, note 021).
"""

from __future__ import annotations

from typing import Any, ClassVar

from .._core import BetaGeoCovariatesModel, BetaGeoModel
from .transaction_fitter import TransactionFitter

__all__ = ["BetaGeoFitter"]

#: The BG/NBD formulas that fill :class:`TransactionFitter`'s docstrings.
_DOCS = {
    "model": "BG/NBD",
    "class_name": "BetaGeoFitter",
    "params": r":math:`r, \alpha` (gamma purchase rates) and :math:`a, b` (beta drop-out "
    "probabilities)",
    "param_tuple": "(r, alpha, a, b)",
    "n_params": "4",
    "likelihood_ref": "eq. (6) of Fader, Hardie & Lee (2005)",
    "likelihood": r"""
L(r, \alpha, a, b \mid x, t_x, T) =
\frac{B(a, b + x)}{B(a, b)}
\frac{\Gamma(r + x)\,\alpha^r}{\Gamma(r)\,(\alpha + T)^{r + x}}
+ \delta_{x > 0} \frac{B(a + 1, b + x - 1)}{B(a, b)}
\frac{\Gamma(r + x)\,\alpha^r}{\Gamma(r)\,(\alpha + t_x)^{r + x}}
""",
    "conditional_ref": "eq. (10) of Fader, Hardie & Lee (2005)",
    "conditional": r"""
E[Y(t) \mid x, t_x, T] =
\frac{\frac{a + b + x - 1}{a - 1}\left[1 -
\left(\frac{\alpha + T}{\alpha + T + t}\right)^{r + x}
{}_2F_1\!\left(r + x, b + x; a + b + x - 1; \frac{t}{\alpha + T + t}\right)\right]}
{1 + \delta_{x > 0} \frac{a}{b + x - 1}
\left(\frac{\alpha + T}{\alpha + t_x}\right)^{r + x}}
""",
    "alive_ref": 'Fader, Hardie & Lee (2008), "Computing P(alive) using the BG/NBD model"',
    "alive": r"""
P(\text{alive} \mid x, t_x, T) = \left[1 + \delta_{x > 0}
\frac{a}{b + x - 1}
\left(\frac{\alpha + T}{\alpha + t_x}\right)^{r + x}\right]^{-1}
""",
    "expected_ref": "eq. (7) of Fader, Hardie & Lee (2005)",
    "expected": r"""
E[X(t)] = \frac{a + b - 1}{a - 1}\left[1 -
\left(\frac{\alpha}{\alpha + t}\right)^r
{}_2F_1\!\left(r, b; a + b - 1; \frac{t}{\alpha + t}\right)\right]
""",
    "pmf_ref": "eq. (8) of Fader, Hardie & Lee (2005)",
    "pmf": r"""
P(X(t) = n) = \frac{B(a, b + n)}{B(a, b)}
\frac{\Gamma(r + n)}{\Gamma(r)\, n!}
\left(\frac{\alpha}{\alpha + t}\right)^r
\left(\frac{t}{\alpha + t}\right)^n
+ \delta_{n > 0} \frac{B(a + 1, b + n - 1)}{B(a, b)}
\left[1 - \left(\frac{\alpha}{\alpha + t}\right)^r
\sum_{j=0}^{n-1} \frac{\Gamma(r + j)}{\Gamma(r)\, j!}
\left(\frac{t}{\alpha + t}\right)^j\right]
""",
    "dert": r"""
Under BG/NBD, a customer alive with purchase rate :math:`\lambda` and drop-out probability
:math:`p` contributes :math:`\lambda / (\delta + p\lambda)`; its expectation
over the posterior gamma distribution of :math:`\lambda` is a confluent
hypergeometric :math:`U` function, and the one over the posterior beta
distribution of :math:`p` is integrated numerically (tanh-sinh; relative error
about 1e-12), weighted by P(alive).
""",
    "covariate_names": "``purchase:<column>`` (scaling alpha), ``dropout_a:<column>`` and "
    "``dropout_b:<column>`` (the drop-out covariates scale a and b, each with its own "
    "coefficient)",
    "simulation": r"""
Each customer draws :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)` and
:math:`p \sim \mathrm{Beta}(a, b)`, then buys as a Poisson process,
dropping out after each repeat purchase with probability ``p``, over ``[0, T]``.
""",
}


class BetaGeoFitter(TransactionFitter):
    r"""BG/NBD model, fitted by maximum likelihood in the Rust core.

    While active, customer *i* buys according to a Poisson process with rate
    :math:`\lambda_i`; after each purchase they become inactive with probability
    :math:`p_i`. Across customers :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)` and
    :math:`p \sim \mathrm{Beta}(a, b)`. A customer's history is summarised by
    ``frequency`` :math:`x` (number of repeat purchases), ``recency`` :math:`t_x`
    (time of the last repeat purchase, 0 if none) and ``T`` (time since the first
    purchase).

    Parameters
    ----------
    penalizer_coef : float, default 0.0
        Coefficient of an L2 penalty on the parameters, as in ``lifetimes``.

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha``, ``a``, ``b``.
    summary : pandas.DataFrame
        Estimates with standard errors and 95% bounds.
    log_likelihood_, aic, bic : float
        Fit statistics on the fitted data.
    data : pandas.DataFrame
        The data of the last fit.

    References
    ----------
    Fader, Hardie & Lee (2005), Marketing Science 24(2), 275-284.

    Examples
    --------
    >>> from retentionkit import BetaGeoFitter
    >>> from retentionkit.datasets import load_cdnow_summary
    >>> df = load_cdnow_summary()
    >>> bgf = BetaGeoFitter().fit(df["frequency"], df["recency"], df["T"])
    >>> bgf.params_.round(3).to_dict()
    {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426}
    """

    _core_class: ClassVar[Any] = BetaGeoModel
    _covariate_core_class: ClassVar[Any] = BetaGeoCovariatesModel
    _docs: ClassVar[dict[str, str]] = _DOCS
