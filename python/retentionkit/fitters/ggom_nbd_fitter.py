"""The GGom/NBD model of Bemmaor & Glady (2012), with the ``lifetimes`` interface.

Reference: Bemmaor, A. C. & Glady, N. (2012), "Modeling purchasing behavior with sudden
'death': a flexible customer lifetime model", Management Science 58(5), 1012-1021.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .._core import GGomNBDModel
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
    "fit_covariates": """
purchase_covariates, dropout_covariates, shared_covariates, covariate_penalizer
    Not available for the GGom/NBD yet: passing covariates raises ``ValueError``.
""",
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

    The methods are those of :class:`BetaGeoFitter` (``generate_new_data`` reports
    the Gompertz frailty in the column ``eta``).

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
    _dropout_column: ClassVar[str] = "eta"
    _docs: ClassVar[dict[str, str]] = _DOCS
