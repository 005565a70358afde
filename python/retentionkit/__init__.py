"""retentionkit: Buy 'Til You Die customer-base models with a Rust core.

A faster drop-in for the ``lifetimes`` package: the same fitter classes, method
names and return shapes, with the likelihood, its gradient and the predictions
computed in Rust.

>>> from retentionkit import BetaGeoFitter
>>> from retentionkit.datasets import load_cdnow_summary
>>> bgf = BetaGeoFitter().fit(load_cdnow_summary())
"""

from . import datasets
from ._core import ConvergenceError, __version__
from .fitters import (
    BetaGeoBetaBinomFitter,
    BetaGeoFitter,
    ModifiedBetaGeoFitter,
    NotFittedError,
    ParetoNBDFitter,
)

__all__ = [
    "BetaGeoBetaBinomFitter",
    "BetaGeoFitter",
    "ConvergenceError",
    "ModifiedBetaGeoFitter",
    "NotFittedError",
    "ParetoNBDFitter",
    "__version__",
    "datasets",
]
