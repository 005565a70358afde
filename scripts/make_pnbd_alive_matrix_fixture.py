"""Reference values of ``lifetimes`` 0.11.3's Pareto/NBD P(alive) matrix.

Writes ``tests/fixtures/pnbd_alive_matrix_lifetimes.csv`` for
``tests/python/test_pareto_nbd_fitter.py``: the output of
``ParetoNBDFitter.conditional_probability_alive_matrix(max_frequency=4,
max_recency=12)`` at Fader & Hardie's CDNOW estimates (weeks), one row per grid
row (recency 0..12) and one column per frequency (0..4). Column 0 holds customers
without repeat purchases at each row's recency, which the Pareto/NBD's P(alive)
depends on. Floats are written with 17 significant digits. Run once from the
repository root with the interpreter that has ``lifetimes`` (it is not importable
in the main environment)::

    bench/.venv-lifetimes/bin/python scripts/make_pnbd_alive_matrix_fixture.py
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
from lifetimes import ParetoNBDFitter

PARAMS = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
MAX_FREQUENCY = 4
MAX_RECENCY = 12


def main() -> None:
    fitter = ParetoNBDFitter()
    fitter.params_ = pd.Series(PARAMS)
    matrix = fitter.conditional_probability_alive_matrix(
        max_frequency=MAX_FREQUENCY, max_recency=MAX_RECENCY
    )
    out = Path(__file__).resolve().parent.parent / "tests/fixtures/pnbd_alive_matrix_lifetimes.csv"
    with out.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([f"frequency_{x}" for x in range(MAX_FREQUENCY + 1)])
        for row in matrix:
            writer.writerow([f"{float(v):.17g}" for v in row])
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
