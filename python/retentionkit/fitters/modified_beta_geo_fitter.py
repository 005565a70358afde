"""The MBG/NBD model of Batislam, Denizel & Filiztekin (2007), with the ``lifetimes`` interface.

Reference: Batislam, E. P., Denizel, M. & Filiztekin, A. (2007), "Empirical validation
and comparison of models for customer base analysis", International Journal of
Research in Marketing 24(3), 201-209.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .._core import ModifiedBetaGeoCovariatesModel, ModifiedBetaGeoModel
from .beta_geo_fitter import BetaGeoFitter

__all__ = ["ModifiedBetaGeoFitter"]

# The formulas follow from BG/NBD's with one more drop-out opportunity, at the first
# purchase: alive after x repeat purchases means x + 1 survivals, so the posterior
# of p given alive is Beta(a, b + x + 1); a new customer is gone at once with
# probability a / (a + b).

#: The MBG/NBD formulas that fill :class:`TransactionFitter`'s docstrings.
_DOCS = {
    "model": "MBG/NBD",
    "class_name": "ModifiedBetaGeoFitter",
    "params": r":math:`r, \alpha` (gamma purchase rates) and :math:`a, b` (beta drop-out "
    "probabilities, also at the first purchase)",
    "param_tuple": "(r, alpha, a, b)",
    "n_params": "4",
    "likelihood_ref": "Batislam, Denizel & Filiztekin (2007)",
    "likelihood": r"""
L(r, \alpha, a, b \mid x, t_x, T) =
\frac{B(a, b + x + 1)}{B(a, b)}
\frac{\Gamma(r + x)\,\alpha^r}{\Gamma(r)\,(\alpha + T)^{r + x}}
+ \frac{B(a + 1, b + x)}{B(a, b)}
\frac{\Gamma(r + x)\,\alpha^r}{\Gamma(r)\,(\alpha + t_x)^{r + x}}
""",
    "conditional_ref": "Batislam, Denizel & Filiztekin (2007)",
    "conditional": r"""
E[Y(t) \mid x, t_x, T] =
\frac{\frac{a + b + x}{a - 1}\left[1 -
\left(\frac{\alpha + T}{\alpha + T + t}\right)^{r + x}
{}_2F_1\!\left(r + x, b + x + 1; a + b + x; \frac{t}{\alpha + T + t}\right)\right]}
{1 + \frac{a}{b + x}
\left(\frac{\alpha + T}{\alpha + t_x}\right)^{r + x}}
""",
    "alive_ref": "Batislam, Denizel & Filiztekin (2007); below 1 even when x = 0",
    "alive": r"""
P(\text{alive} \mid x, t_x, T) = \left[1 + \frac{a}{b + x}
\left(\frac{\alpha + T}{\alpha + t_x}\right)^{r + x}\right]^{-1}
""",
    "expected_ref": "Batislam, Denizel & Filiztekin (2007)",
    "expected": r"""
E[X(t)] = \frac{b}{a - 1}\left[1 -
\left(\frac{\alpha}{\alpha + t}\right)^r
{}_2F_1\!\left(r, b + 1; a + b; \frac{t}{\alpha + t}\right)\right]
""",
    "pmf_ref": "alive with n purchases, or gone right after the n-th (the first purchase "
    "when n = 0)",
    "pmf": r"""
P(X(t) = n) = \frac{B(a, b + n + 1)}{B(a, b)}
\frac{\Gamma(r + n)}{\Gamma(r)\, n!}
\left(\frac{\alpha}{\alpha + t}\right)^r
\left(\frac{t}{\alpha + t}\right)^n
+ \frac{B(a + 1, b + n)}{B(a, b)}
\left[1 - \left(\frac{\alpha}{\alpha + t}\right)^r
\sum_{j=0}^{n-1} \frac{\Gamma(r + j)}{\Gamma(r)\, j!}
\left(\frac{t}{\alpha + t}\right)^j\right]
""",
    "dert": r"""
Under MBG/NBD, a customer alive with purchase rate :math:`\lambda` and drop-out probability
:math:`p` contributes :math:`\lambda / (\delta + p\lambda)`; its expectation
over the posterior gamma distribution of :math:`\lambda` is a confluent
hypergeometric :math:`U` function, and the one over the posterior
:math:`\mathrm{Beta}(a, b + x + 1)` of :math:`p` is integrated numerically
(tanh-sinh; relative error about 1e-12), weighted by P(alive).
""",
    "covariate_names": "``purchase:<column>`` (scaling alpha), ``dropout_a:<column>`` and "
    "``dropout_b:<column>`` (the drop-out covariates scale a and b, each with its own "
    "coefficient)",
    "simulation": r"""
Each customer draws :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)` and
:math:`p \sim \mathrm{Beta}(a, b)`, then buys as a Poisson process,
dropping out right after the first purchase and after each repeat purchase with
probability ``p``, over ``[0, T]``.
""",
}


class ModifiedBetaGeoFitter(BetaGeoFitter):
    r"""MBG/NBD model, fitted by maximum likelihood in the Rust core.

    As BG/NBD (:class:`BetaGeoFitter`), except that a customer can also become
    inactive right after the first purchase, with the same probability :math:`p_i`
    as after every repeat purchase. A customer with no repeat purchase is then not
    certainly alive. The likelihood is

    .. math::

        L = \frac{B(a, b+x+1)}{B(a, b)} \frac{\Gamma(r+x)\,\alpha^r}{\Gamma(r)(\alpha+T)^{r+x}}
          + \frac{B(a+1, b+x)}{B(a, b)} \frac{\Gamma(r+x)\,\alpha^r}{\Gamma(r)(\alpha+t_x)^{r+x}}

    and :math:`P(\text{alive}) = 1 / (1 + \frac{a}{b+x} (\frac{\alpha+T}{\alpha+t_x})^{r+x})`.
    Every method of :class:`BetaGeoFitter` is available with the same signature.

    Parameters
    ----------
    penalizer_coef : float, default 0.0
        Coefficient of an L2 penalty on the parameters, as in ``lifetimes``.

    Examples
    --------
    >>> from retentionkit import ModifiedBetaGeoFitter
    >>> from retentionkit.datasets import load_cdnow_summary
    >>> mbgf = ModifiedBetaGeoFitter().fit(load_cdnow_summary())
    >>> round(float(mbgf.conditional_probability_alive(0, 0, 38.86)), 3)
    0.39
    """

    _core_class = ModifiedBetaGeoModel
    _covariate_core_class: ClassVar[Any] = ModifiedBetaGeoCovariatesModel
    _docs: ClassVar[dict[str, str]] = _DOCS
