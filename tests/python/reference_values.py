"""Published and pinned reference values, read from tests/fixtures/reference_values.json.

The Rust tests read the same file (tests/common/reference.rs). Each entry names its
model, source and data; ``params`` are keyed by parameter name in the model's order,
``predictions`` by a label, each with its ``quantity``, ``args`` and ``value``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

REFERENCE_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "reference_values.json"
_FILE: dict[str, Any] = json.loads(REFERENCE_FILE.read_text(encoding="utf-8"))


def reference(name: str) -> dict[str, Any]:
    """A copy of the entry ``name`` (a test may change it)."""
    try:
        return copy.deepcopy(_FILE["entries"][name])
    except KeyError:
        raise KeyError(f"reference_values.json has no entry {name!r}") from None


def params(name: str) -> dict[str, float]:
    """The parameters of the entry ``name``, in the model's order."""
    return reference(name)["params"]


def prediction(name: str, label: str) -> dict[str, Any]:
    """The prediction ``label`` of the entry ``name``: quantity, args and value."""
    return reference(name)["predictions"][label]


def clv_cdnow_lifetimes() -> dict[str, Any]:
    """lifetimes' customer lifetime values on CDNOW: customer_ids and cases."""
    return copy.deepcopy(_FILE["clv_cdnow_lifetimes"])


#: Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing
#: Science 24(2): the BG/NBD estimates and log-likelihood for the CDNOW sample
#: (2,357 customers, 39-week calibration period) reported in the paper.
FHL2005_PARAMS = params("bgnbd_cdnow_fhl2005")
FHL2005_LOG_LIKELIHOOD = reference("bgnbd_cdnow_fhl2005")["log_likelihood"]
#: FHL (2005): E[Y(39) | x = 2, t_x = 30.43, T = 38.86] (quantity, args, value).
FHL2005_CUSTOMER = prediction("bgnbd_cdnow_fhl2005", "E[Y(39) | 2, 30.43, 38.86]")
