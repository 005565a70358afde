"""Reference outputs of ``lifetimes`` 0.11.3 summaries of the CDNOW transaction log.

Writes, for ``tests/python/test_summary.py``:

- ``tests/fixtures/summary_lifetimes.csv.gz``: the output of
  ``lifetimes.utils.summary_data_from_transaction_data`` for each case of
  ``SUMMARY_CASES``, stacked, with a ``case`` column;
- ``tests/fixtures/calibration_holdout_lifetimes.csv.gz``: the same for
  ``lifetimes.utils.calibration_and_holdout_data`` and ``HOLDOUT_CASES``;
- ``tests/fixtures/summary_lifetimes_cases.json``: the arguments of each case and
  the columns ``lifetimes`` returned, in order.

The log is the 1/10th CDNOW sample shipped in
``python/retentionkit/datasets/data/CDNOW_sample.txt`` (6,919 transactions of
2,357 customers), read here exactly as ``retentionkit.datasets.load_transaction_data``
reads it. Floats are written with 17 significant digits, so they read back
exactly. Run once from the repository root with the interpreter that has
``lifetimes`` (it is not importable in the main environment)::

    bench/.venv-lifetimes/bin/python scripts/make_summary_fixture.py
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
from lifetimes.utils import calibration_and_holdout_data, summary_data_from_transaction_data

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "python" / "retentionkit" / "datasets" / "data" / "CDNOW_sample.txt"
OUT = ROOT / "tests" / "fixtures"

# name -> keyword arguments (besides the log and its column names). Cases with an
# observation end before the last transaction rely on lifetimes' silent
# truncation; retentionkit reproduces them with drop_invalid=True.
SUMMARY_CASES: dict[str, dict[str, Any]] = {
    "D": {"freq": "D"},
    "D_value": {"freq": "D", "monetary_value_col": "dollar_value"},
    "W": {"freq": "W"},
    "W_value": {"freq": "W", "monetary_value_col": "dollar_value"},
    "W_value_first": {
        "freq": "W",
        "monetary_value_col": "dollar_value",
        "include_first_transaction": True,
    },
    "h_per_day_value": {"freq": "h", "freq_multiplier": 24, "monetary_value_col": "dollar_value"},
    "D_value_truncated": {
        "freq": "D",
        "monetary_value_col": "dollar_value",
        "observation_period_end": "1997-09-30",
    },
}

HOLDOUT_CASES: dict[str, dict[str, Any]] = {
    "D": {"freq": "D", "calibration_period_end": "1997-09-30"},
    "D_value": {
        "freq": "D",
        "calibration_period_end": "1997-09-30",
        "observation_period_end": "1998-06-30",
        "monetary_value_col": "dollar_value",
    },
    "W": {"freq": "W", "calibration_period_end": "1997-09-30"},
    "W_value_first": {
        "freq": "W",
        "calibration_period_end": "1997-09-30",
        "monetary_value_col": "dollar_value",
        "include_first_transaction": True,
    },
    "D_value_truncated": {
        "freq": "D",
        "calibration_period_end": "1997-06-30",
        "observation_period_end": "1998-01-31",
        "monetary_value_col": "dollar_value",
    },
}


def read_log() -> pd.DataFrame:
    df = pd.read_csv(
        LOG,
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "dollar_value"],
        dtype={"date": str},
    )
    df["date"] = pd.to_datetime(df["date"], format="%Y%m%d")
    return df[["customer_id", "date", "cds", "dollar_value"]]


def stack(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    parts = []
    for name, frame in frames.items():
        part = frame.reset_index()
        part.insert(0, "case", name)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def main() -> None:
    log = read_log()
    warnings.simplefilter("ignore", FutureWarning)
    summaries = {
        name: summary_data_from_transaction_data(log, "customer_id", "date", **kwargs)
        for name, kwargs in SUMMARY_CASES.items()
    }
    holdouts = {
        name: calibration_and_holdout_data(log, "customer_id", "date", **kwargs)
        for name, kwargs in HOLDOUT_CASES.items()
    }
    OUT.mkdir(parents=True, exist_ok=True)
    for filename, frames in [
        ("summary_lifetimes.csv.gz", summaries),
        ("calibration_holdout_lifetimes.csv.gz", holdouts),
    ]:
        path = OUT / filename
        stack(frames).to_csv(
            path,
            index=False,
            float_format="%.17g",
            compression={"method": "gzip", "mtime": 0},
        )
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size / 1024:.0f} KiB")
    # The cases and lifetimes' column order, for the test to read back.
    cases = {
        kind: {
            name: {"kwargs": kwargs, "columns": list(frames[name].columns)}
            for name, kwargs in spec.items()
        }
        for kind, spec, frames in [
            ("summary", SUMMARY_CASES, summaries),
            ("holdout", HOLDOUT_CASES, holdouts),
        ]
    }
    (OUT / "summary_lifetimes_cases.json").write_text(json.dumps(cases, indent=2) + "\n")


if __name__ == "__main__":
    main()
