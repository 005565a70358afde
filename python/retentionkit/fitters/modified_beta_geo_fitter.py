"""The MBG/NBD model of Batislam, Denizel & Filiztekin (2007), with the ``lifetimes`` interface.

Reference: Batislam, E. P., Denizel, M. & Filiztekin, A. (2007), "Empirical validation
and comparison of models for customer base analysis", International Journal of
Research in Marketing 24(3), 201-209.
"""

from __future__ import annotations

from .._core import ModifiedBetaGeoModel
from .beta_geo_fitter import BetaGeoFitter

__all__ = ["ModifiedBetaGeoFitter"]


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
