"""The Pareto/NBD model of Schmittlein, Morrison & Colombo (1987), with the ``lifetimes`` interface.

References: Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987), "Counting your
customers: who are they and what will they do next?", Management Science 33(1), 1-24;
Fader, P. S. & Hardie, B. G. S. (2005), "A note on deriving the Pareto/NBD model and
related expressions" (equation numbers below); Fader, Hardie & Lee (2006), "Deriving
an expression for P(X(t) = x) under the Pareto/NBD model".
"""

from __future__ import annotations

from typing import Any, ClassVar

from .._core import ParetoNBDModel
from .transaction_fitter import TransactionFitter

__all__ = ["ParetoNBDFitter"]


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
    _dropout_column: ClassVar[str] = "mu"
