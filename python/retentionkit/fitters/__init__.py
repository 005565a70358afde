"""Fitters with the ``lifetimes`` interface, backed by the Rust core."""

from .base import BaseFitter, NotFittedError
from .beta_geo_beta_binom_fitter import BetaGeoBetaBinomFitter
from .beta_geo_fitter import BetaGeoFitter
from .contractual import BetaDiscreteWeibullFitter, ShiftedBetaGeometricFitter, retention_table
from .gamma_gamma_fitter import GammaGammaFitter, spend_frequency_correlation
from .ggom_nbd_fitter import GompertzGammaNBDFitter
from .modified_beta_geo_fitter import ModifiedBetaGeoFitter
from .pareto_nbd_fitter import ParetoNBDFitter
from .transaction_fitter import TransactionFitter

__all__ = [
    "BaseFitter",
    "BetaDiscreteWeibullFitter",
    "BetaGeoBetaBinomFitter",
    "BetaGeoFitter",
    "GammaGammaFitter",
    "GompertzGammaNBDFitter",
    "ModifiedBetaGeoFitter",
    "NotFittedError",
    "ParetoNBDFitter",
    "ShiftedBetaGeometricFitter",
    "TransactionFitter",
    "retention_table",
    "spend_frequency_correlation",
]
