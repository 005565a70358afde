"""Fitters with the ``lifetimes`` interface, backed by the Rust core."""

from .base import BaseFitter, NotFittedError
from .beta_geo_beta_binom_fitter import BetaGeoBetaBinomFitter
from .beta_geo_fitter import BetaGeoFitter
from .contractual import BetaDiscreteWeibullFitter, ShiftedBetaGeometricFitter, retention_table
from .gamma_gamma_fitter import GammaGammaFitter, spend_frequency_correlation
from .ggom_nbd_fitter import GompertzGammaNBDFitter
from .mbgcnbd_fitter import MBGCNBDkFitter, wheat_morrison_k
from .modified_beta_geo_fitter import ModifiedBetaGeoFitter
from .pareto_nbd_fitter import ParetoNBDFitter

# Pareto/NBD with time-varying covariates (issue 14).
from .time_varying import TimeVaryingParetoNBDFitter
from .transaction_fitter import TransactionFitter

__all__ = [
    "BaseFitter",
    "BetaDiscreteWeibullFitter",
    "BetaGeoBetaBinomFitter",
    "BetaGeoFitter",
    "GammaGammaFitter",
    "GompertzGammaNBDFitter",
    "MBGCNBDkFitter",
    "ModifiedBetaGeoFitter",
    "NotFittedError",
    "ParetoNBDFitter",
    "ShiftedBetaGeometricFitter",
    "TimeVaryingParetoNBDFitter",
    "TransactionFitter",
    "retention_table",
    "spend_frequency_correlation",
    "wheat_morrison_k",
]
