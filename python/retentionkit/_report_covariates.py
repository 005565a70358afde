"""The report's table of covariate coefficients, each with a plain-language reading.

How a coefficient :math:`\\gamma` of a covariate :math:`z` reads, for a one-unit
higher :math:`z` (a numeric covariate) or for a level against the base level (a
dummy ``column[level]``), all else equal:

* ``purchase`` (every model): :math:`\\alpha_i = \\alpha e^{-\\gamma z}`, so the
  mean purchase rate :math:`r / \\alpha_i` is :math:`e^{\\gamma}` times as large:
  "buys 1.43x as often";
* ``dropout`` (Pareto/NBD, GGom/NBD): :math:`\\beta_i = \\beta e^{-\\gamma z}`, the
  mean drop-out rate :math:`s / \\beta_i` (GGom/NBD: the mean Gompertz frailty, which
  scales the hazard at every age) is :math:`e^{\\gamma}` times as large: "drops out
  0.80x as fast";
* ``dropout_a`` and ``dropout_b`` (BG/NBD, MBG/NBD): :math:`a_i = a e^{\\gamma_a z}`,
  :math:`b_i = b e^{\\gamma_b z}`; the two read together, as the mean probability
  of dropping out after a purchase, :math:`a_i / (a_i + b_i)`, against the base's
  :math:`a / (a + b)`: "drops out after a purchase 1.2x as often" (on the
  ``dropout_a`` row; the ``dropout_b`` row refers to it);
* ``shared`` (one coefficient in every process): both readings at once;
* ``spend`` (Gamma-Gamma): :math:`\\nu_i = \\nu e^{-\\gamma z}`, so the expected
  spend per transaction :math:`p v e^{\\gamma z} / (q - 1)` is :math:`e^{\\gamma}`
  times as large: "spends 1.2x as much per transaction".
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

_DUMMY = re.compile(r"^(?P<column>.*)\[(?P<level>.*)\]$")


def _times(factor: float) -> str:
    """``1.43\u00d7``."""
    if not math.isfinite(factor):
        return "∞\u00d7"
    if factor >= 10:
        return f"{factor:,.0f}\u00d7"
    if abs(factor - 1.0) < 0.01:  # show that it is not exactly 1
        return f"{factor:.4f}\u00d7"
    return f"{factor:.3g}\u00d7"


def _who(column: str, encoding: Any) -> str:
    """``a one-unit higher x`` or ``ch=web vs ch=email (the base level)``."""
    match = _DUMMY.match(column)
    if match and encoding is not None:
        levels = encoding.levels.get(match["column"])
        if levels:
            base = levels[0]
            return (
                f"{match['column']}={match['level']} vs {match['column']}={base} (the base level)"
            )
    return f"a one-unit higher {column}"


def coefficient_table(model: Any) -> pd.DataFrame:
    """One row per coefficient of a fitted model with covariates (a transaction
    model, or the Gamma-Gamma spend model): ``process``, ``covariate``,
    ``estimate``, ``std_error``, ``exp_estimate`` and ``reading``."""
    summary = model.summary
    params = model.params_
    encoding = getattr(model, "_encoding", None)
    pareto = "s" in params.index
    rows = []
    for name in summary.index:
        process, sep, column = str(name).partition(":")
        if not sep:
            continue
        gamma = float(summary.loc[name, "coef"])
        who = _who(column, encoding)
        buys = f"buys {_times(math.exp(gamma))} as often"
        if process == "purchase":
            reading = f"{who}: {buys}"
        elif process == "dropout":
            reading = f"{who}: drops out {_times(math.exp(gamma))} as fast"
        elif process in ("dropout_a", "dropout_b", "shared") and not pareto:
            ga = _coef(params, "dropout_a", column) + _coef(params, "shared", column)
            gb = _coef(params, "dropout_b", column) + _coef(params, "shared", column)
            ratio = _dropout_ratio(float(params["a"]), float(params["b"]), ga, gb)
            drops = f"drops out after a purchase {_times(ratio)} as often"
            if process == "dropout_a":
                reading = f"{who}: {drops} (with the dropout_b coefficient)"
            elif process == "dropout_b":
                reading = f"{who}: read with the dropout_a row (b is {_times(math.exp(gamma))})"
            else:
                reading = f"{who}: {buys}; {drops}"
        elif process == "shared":
            reading = f"{who}: {buys}; drops out {_times(math.exp(gamma))} as fast"
        elif process == "spend":
            reading = f"{who}: spends {_times(math.exp(gamma))} as much per transaction"
        else:
            reading = f"{who}: the {process} parameter is scaled by {_times(math.exp(gamma))}"
        rows.append(
            {
                "process": process,
                "covariate": column,
                "estimate": gamma,
                "std_error": float(summary.loc[name, "se(coef)"]),
                "exp_estimate": math.exp(gamma),
                "reading": reading,
            }
        )
    return pd.DataFrame(rows)


def _coef(params: pd.Series, process: str, column: str) -> float:
    value = params.get(f"{process}:{column}")
    return 0.0 if value is None else float(value)


def _dropout_ratio(a: float, b: float, ga: float, gb: float) -> float:
    """Mean drop-out probability after a purchase, a/(a+b), with the covariate one
    unit higher (a and b scaled by e^ga and e^gb) over the base's."""
    base = a / (a + b)
    ai, bi = a * np.exp(ga), b * np.exp(gb)
    return float(ai / (ai + bi) / base)
