"""The report's verdict on the models: can the forecasts be used, and how?

Three statistics the report computes on the holdout period decide it:

* the **chi-square p-value** of each model's calibration fit (how many customers
  made 0, 1, 2, ... repeat purchases, against the model's expectation;
  :func:`~retentionkit.model_comparison.period_transactions_chi_square`);
* the chosen model's **total holdout error** ``e``: predicted minus actual holdout
  purchases of the calibration customers, over the actual total;
* the chosen model's **ranking**: the share of the holdout purchases made by the
  ``top`` fraction of customers it ranked highest (by predicted holdout purchases),
  against ``top`` for a random ranking (:func:`top_share`).

The rules (thresholds below):

1. Totals. ``|e| <= 10%``: the forecast totals (expected purchases, CLV) can be
   used as they are. ``e > 10%``: they are optimistic by about ``e``; ``e < -10%``:
   conservative by about ``|e|``.
2. Ranking. The top share at least twice the random share: the ranking is usable
   (the customer lists and segments can be used to decide whom to contact first).
   Below that, the model does little better than chance at telling customers apart.
3. Fit. Every p-value at most 0.001: no model reproduces the calibration
   purchases; between 0.001 and 0.05 for the chosen model: some evidence of a
   misfit; otherwise no evidence. A misfit alone does not stop the forecasts from
   being used when the holdout shows they work (rules 1 and 2), and the test is
   sensitive on large logs, so it qualifies the verdict rather than deciding it.

The verdict's ``level`` is "good" (totals within 10% and a usable ranking),
"biased" (a usable ranking, totals off by more than 10%) or "poor" (the ranking is
not usable), or "unknown" without holdout purchases.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = ["Verdict", "top_share", "verdict"]

#: Total holdout error within which the forecast totals count as accurate.
BIAS_TOLERANCE = 0.10
#: The ranking is usable when its top share is at least this many times the random share.
RANKING_LIFT = 2.0
#: p-values: at most P_MISFIT a clear misfit, at most P_EVIDENCE some evidence of one.
P_MISFIT = 0.001
P_EVIDENCE = 0.05
#: The fraction of customers whose share of the holdout purchases measures the ranking.
TOP_FRACTION = 0.2


@dataclass(frozen=True)
class Verdict:
    """The verdict: a ``level`` and plain sentences, the first one the headline."""

    level: str
    sentences: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


def top_share(
    predicted: npt.ArrayLike, actual: npt.ArrayLike, fraction: float = TOP_FRACTION
) -> float:
    """Share of the actual total made by the ``fraction`` of rows with the largest
    predictions (ties broken by position; NaN when the actual total is 0)."""
    p = np.asarray(predicted, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    total = float(a.sum())
    if len(a) == 0 or not total > 0:
        return math.nan
    count = max(1, round(fraction * len(a)))
    order = np.argsort(-p, kind="stable")[:count]
    return float(a[order].sum() / total)


def verdict(
    p_values: Mapping[str, float],
    chosen: str,
    relative_error: float,
    share: float,
    fraction: float = TOP_FRACTION,
) -> Verdict:
    """The verdict of the rules in the module docs.

    Parameters
    ----------
    p_values : mapping of model name to float
        Chi-square p-values of the calibration fits (NaN where not computed).
    chosen : str
        The model behind the forecasts (a key of ``p_values``).
    relative_error : float
        Its total holdout error, (predicted - actual) / actual.
    share : float
        Its :func:`top_share` of the holdout purchases.
    fraction : float
        The fraction behind ``share``.
    """
    if not (math.isfinite(relative_error) and math.isfinite(share)):
        return Verdict(
            "unknown",
            [
                "The holdout period has no purchases by the calibration customers, so the "
                "forecasts could not be checked."
            ],
        )
    percent = f"{abs(relative_error):.0%}"
    usable = share >= RANKING_LIFT * fraction
    accurate = abs(relative_error) <= BIAS_TOLERANCE
    if accurate and usable:
        level = "good"
        headline = (
            f"The forecasts can be used as they are: {chosen} predicted the total holdout "
            f"purchases to within {max(abs(relative_error), 0.005):.0%}, and it ranks "
            "customers well."
        )
    elif usable:
        level = "biased"
        if relative_error > 0:
            headline = (
                f"The forecasts are optimistic by about {percent}: {chosen} over-predicted "
                f"the holdout purchases by {percent}, so read the expected purchases and "
                f"CLV totals as about {percent} too high. The ranking of customers is still "
                "usable."
            )
        else:
            headline = (
                f"The forecasts are conservative by about {percent}: {chosen} under-predicted "
                f"the holdout purchases by {percent}, so read the expected purchases and CLV "
                f"totals as about {percent} too low. The ranking of customers is still usable."
            )
    else:
        level = "poor"
        headline = (
            f"Do not rely on these forecasts to pick customers: the customers {chosen} ranked "
            "highest made hardly more of the holdout purchases than a random pick would."
        )
    ranking = (
        f"The {fraction:.0%} of customers it ranked highest made {share:.0%} of the holdout "
        f"purchases ({share / fraction:.1f} times their share)."
    )
    values = {name: p for name, p in p_values.items() if math.isfinite(p)}
    chosen_p = p_values.get(chosen, math.nan)
    if values and all(p <= P_MISFIT for p in values.values()):
        fit = (
            "No model reproduces exactly how many customers made 0, 1, 2, ... repeat "
            "purchases in the calibration period (every chi-square p-value is at most "
            f"{P_MISFIT:g}); the holdout check tells how far to trust the forecasts."
        )
    elif math.isfinite(chosen_p) and chosen_p <= P_EVIDENCE:
        fit = (
            f"The chi-square test shows some evidence that {chosen} misses the calibration "
            f"purchases (p = {chosen_p:.3f}); the holdout check is what counts."
        )
    elif math.isfinite(chosen_p):
        fit = f"The chi-square test shows no evidence of a misfit of {chosen} (p = {chosen_p:.3f})."
    else:
        fit = ""
    return Verdict(level, [s for s in (headline, ranking, fit) if s])
