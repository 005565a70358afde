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
from .._validation import ArrayLike, Result
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

    def conditional_probability_of_n_purchases_up_to_time(
        self,
        n: ArrayLike,
        t: ArrayLike,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
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

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Shaped like the broadcast inputs.

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
            n=n,
            t=t,
            frequency=frequency,
            recency=recency,
            T=T,
        )
