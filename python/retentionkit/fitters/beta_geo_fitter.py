"""The BG/NBD model of Fader, Hardie & Lee (2005), with the ``lifetimes`` interface.

Reference: Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "'Counting your
customers' the easy way: an alternative to the Pareto/NBD model", Marketing Science
24(2), 275-284. Equation numbers in :class:`TransactionFitter`'s methods refer to
that paper. The probability that a customer is alive is derived in Fader, Hardie &
Lee (2008), "Computing P(alive) using the BG/NBD model" (brucehardie.com, note 021).
"""

from __future__ import annotations

from typing import Any, ClassVar

from .._core import BetaGeoModel
from .transaction_fitter import TransactionFitter

__all__ = ["BetaGeoFitter"]


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
