"""retentionkit: Buy 'Til You Die customer-base models with a Rust core.

A faster drop-in for the ``lifetimes`` package: the same fitter classes, method
names and return shapes, with the likelihood, its gradient and the predictions
computed in Rust.

For logs past one machine, :mod:`retentionkit.dask` and :mod:`retentionkit.spark`
build the summary, fit and score on Dask or Spark DataFrames; they are not imported
here (``import retentionkit.dask``; extras ``[dask]``, ``[spark]``).

>>> from retentionkit import BetaGeoFitter
>>> from retentionkit.datasets import load_cdnow_summary
>>> bgf = BetaGeoFitter().fit(load_cdnow_summary())
"""

from . import datasets, generate_data, model_comparison, plotting, targeting, utils
from ._core import ConvergenceError, InvalidDataError, __version__
from .fitters import (
    BetaDiscreteWeibullFitter,
    BetaGeoBetaBinomFitter,
    BetaGeoFitter,
    GammaGammaFitter,
    GompertzGammaNBDFitter,
    MBGCNBDkFitter,
    ModifiedBetaGeoFitter,
    NotFittedError,
    ParetoNBDFitter,
    ShiftedBetaGeometricFitter,
    retention_table,
    spend_frequency_correlation,
)
from .fitters.time_varying import TimeVaryingParetoNBDFitter
from .model_comparison import compare_models

__all__ = [
    "BetaDiscreteWeibullFitter",
    "BetaGeoBetaBinomFitter",
    "BetaGeoFitter",
    "ConvergenceError",
    "GammaGammaFitter",
    "GompertzGammaNBDFitter",
    "InvalidDataError",
    "MBGCNBDkFitter",
    "ModifiedBetaGeoFitter",
    "NotFittedError",
    "ParetoNBDFitter",
    "ShiftedBetaGeometricFitter",
    "TimeVaryingParetoNBDFitter",
    "__version__",
    "compare_models",
    "datasets",
    "generate_data",
    "model_comparison",
    "plotting",
    "retention_table",
    "spend_frequency_correlation",
    "targeting",
    "utils",
]
