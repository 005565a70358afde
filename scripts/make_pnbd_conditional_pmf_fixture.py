"""Reference values of ``lifetimes`` 0.11.3's Pareto/NBD conditional PMF.

Writes ``tests/fixtures/pnbd_conditional_pmf_lifetimes.csv`` for
``tests/python/test_new_customers_and_pmf.py``: the output of
``ParetoNBDFitter.conditional_probability_of_n_purchases_up_to_time(n, t, frequency,
recency, T)`` at Fader & Hardie's CDNOW estimates (weeks), for a few histories (repeat
buyers, a customer without repeat purchases, one with ``recency > 0`` and
``frequency = 0`` as ``lifetimes`` accepts it) and counts n. Floats are written with 17
significant digits. Run once from the repository root with the interpreter that has
``lifetimes`` (it is not importable in the main environment)::

    bench/.venv-lifetimes/bin/python scripts/make_pnbd_conditional_pmf_fixture.py
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
from lifetimes import ParetoNBDFitter

PARAMS = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
HISTORIES = [
    # (frequency, recency, T)
    (2.0, 30.43, 38.86),
    (0.0, 0.0, 38.86),
    (0.0, 10.0, 38.86),
    (7.0, 35.0, 36.0),
    (1.0, 2.0, 20.0),
]
HORIZONS = [1.0, 13.0, 39.0]
COUNTS = [0, 1, 2, 5]


def main() -> None:
    fitter = ParetoNBDFitter()
    fitter.params_ = pd.Series(PARAMS)
    out = (
        Path(__file__).resolve().parent.parent / "tests/fixtures/pnbd_conditional_pmf_lifetimes.csv"
    )
    with out.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["n", "t", "frequency", "recency", "T", "p"])
        for x, t_x, age in HISTORIES:
            for t in HORIZONS:
                for n in COUNTS:
                    p = fitter.conditional_probability_of_n_purchases_up_to_time(n, t, x, t_x, age)
                    writer.writerow([n, t, x, t_x, age, f"{float(p):.17g}"])
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
