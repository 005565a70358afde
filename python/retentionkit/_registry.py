"""The one list of the models: names, fitter classes, display names, kinds.

The command line (``--model``), the report, the plots, the targeting table, the
model comparison and the error messages that name the fitters a function accepts
all read it here, so a new model is added in one place: its fitter module and one
entry of :data:`MODELS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .fitters.base import BaseFitter
from .fitters.beta_geo_beta_binom_fitter import BetaGeoBetaBinomFitter
from .fitters.beta_geo_fitter import BetaGeoFitter
from .fitters.contractual import (
    BetaDiscreteWeibullFitter,
    ShiftedBetaGeometricFitter,
    _ContractualFitter,
)
from .fitters.gamma_gamma_fitter import GammaGammaFitter
from .fitters.ggom_nbd_fitter import GompertzGammaNBDFitter
from .fitters.mbgcnbd_fitter import MBGCNBDkFitter
from .fitters.modified_beta_geo_fitter import ModifiedBetaGeoFitter
from .fitters.pareto_nbd_fitter import ParetoNBDFitter
from .fitters.time_varying import TimeVaryingParetoNBDFitter
from .fitters.transaction_fitter import TransactionFitter

__all__ = ["KINDS", "MODELS", "Model", "by_name", "fitter_names", "models", "require"]


@dataclass(frozen=True)
class Model:
    """One model of the package.

    Attributes
    ----------
    name : str
        Short name, as ``retentionkit fit --model`` and the report take it.
    fitter : type
        The fitter class.
    label : str
        Display name, in reports and printed output.
    kind : str
        One of :data:`KINDS`: ``"transaction"`` (purchases in continuous time,
        histories ``frequency, recency, T``), ``"discrete"`` (purchases at discrete
        opportunities), ``"spend"`` (value per transaction), ``"contractual"``
        (subscription retention), ``"regular"`` (continuous time, histories
        ``frequency, recency, T, litt``) or ``"time_varying"`` (continuous time, a
        transaction log plus a covariate table per customer and period).
    reference : str
        The paper that introduced the model.
    """

    name: str
    fitter: type[BaseFitter]
    label: str
    kind: str
    reference: str

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns of a customer's history, in the order ``fit`` takes them."""
        return self.fitter._columns


#: The base class of each kind: what ``isinstance`` checks accept.
KINDS: dict[str, type[BaseFitter]] = {
    "transaction": TransactionFitter,
    "discrete": BetaGeoBetaBinomFitter,
    "spend": GammaGammaFitter,
    "contractual": _ContractualFitter,
    # Purchases in continuous time whose fits also need litt (the sum of the logs of
    # the inter-purchase times); their predictions, CLV and targeting take (x, t_x, T).
    "regular": MBGCNBDkFitter,
    # Purchases in continuous time with covariates that change from period to period:
    # fitted on a transaction log plus a covariate table (one row per customer and
    # period), which the CLI, report, compare_models and targeting do not take.
    "time_varying": TimeVaryingParetoNBDFitter,
}

#: Every model, in the order they are listed to users.
MODELS: tuple[Model, ...] = (
    Model("bgnbd", BetaGeoFitter, "BG/NBD", "transaction", "Fader, Hardie & Lee 2005"),
    Model(
        "mbgnbd",
        ModifiedBetaGeoFitter,
        "MBG/NBD",
        "transaction",
        "Batislam, Denizel & Filiztekin 2007",
    ),
    Model(
        "pnbd", ParetoNBDFitter, "Pareto/NBD", "transaction", "Schmittlein, Morrison & Colombo 1987"
    ),
    Model(
        "ggomnbd",
        GompertzGammaNBDFitter,
        "GGom/NBD",
        "transaction",
        "Bemmaor & Glady 2012",
    ),
    Model("bgbb", BetaGeoBetaBinomFitter, "BG/BB", "discrete", "Fader, Hardie & Shang 2010"),
    Model("gg", GammaGammaFitter, "Gamma-Gamma", "spend", "Fader & Hardie 2013"),
    Model("sbg", ShiftedBetaGeometricFitter, "sBG", "contractual", "Fader & Hardie 2007"),
    Model("bdw", BetaDiscreteWeibullFitter, "BdW", "contractual", "Fader et al. 2018"),
    Model("mbgcnbd", MBGCNBDkFitter, "MBG/CNBD-k", "regular", "Platzer & Reutterer 2016"),
    Model(
        "tvpnbd",
        TimeVaryingParetoNBDFitter,
        "Pareto/NBD (time-varying covariates)",
        "time_varying",
        "Bachmann, Meierer & Näf 2021",
    ),
)


def models(*kinds: str) -> tuple[Model, ...]:
    """The models of the given kinds, in :data:`MODELS` order."""
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown model kind(s) {sorted(unknown)}; the kinds are {list(KINDS)}")
    return tuple(m for m in MODELS if m.kind in kinds)


def by_name(*kinds: str) -> dict[str, tuple[Any, str]]:
    """``name -> (fitter class, label)`` of the models of the given kinds."""
    return {m.name: (m.fitter, m.label) for m in models(*kinds)}


def fitter_names(*kinds: str) -> str:
    """The fitter classes of the given kinds, for a message: ``"A, B or C"``."""
    names = [m.fitter.__name__ for m in models(*kinds)]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def require(model: Any, *kinds: str, needs: str) -> None:
    """Raise ``TypeError("{needs} {fitters}, got {type}")`` unless ``model`` is of a kind.

    ``needs`` starts the message, e.g. ``"this plot needs a"``.
    """
    if not isinstance(model, tuple(KINDS[k] for k in kinds)):
        raise TypeError(f"{needs} {fitter_names(*kinds)}, got {type(model).__name__}")
