"""Time the Pareto/NBD with time-varying covariates (issue 14's speed targets: the
CDNOW fit with a time-varying ``Summer`` and a constant ``log_first_spend`` under
0.5 s, CLVTools about 60 s; a 100k-customer, 104-week, 3-covariate simulated panel
under 20 s with peak memory below 4x the covariate table).

Each case runs in a fresh process, which reports the fit time (best of
``--repeats``, table preparation included), the log-likelihood and the peak memory
(``VmHWM``, see ``_memory.py``) against the size of the covariate table: the user's
DataFrame of covariates, ``memory_usage(deep=True)``. The high-water mark is reset
once the two tables are made (the simulation of the panel is not the fit), so the
peak is that of the fit: the interpreter, both input tables and all the fit adds.

    python bench/bench_time_varying.py                      # CDNOW and 100k customers
    python bench/bench_time_varying.py --customers 10000    # quicker

Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _memory import peak_mib, reset_peak


def cdnow() -> tuple[pd.DataFrame, pd.DataFrame, list[str], str]:
    from retentionkit.datasets import load_dataset

    log = load_dataset(
        "CDNOW_sample.txt",
        header=None,
        sep=r"\s+",
        names=["master", "customer", "date", "cds", "dollars"],
        dtype={"date": str},
    )
    log["date"] = pd.to_datetime(log["date"], format="%Y%m%d")
    daily = log.groupby(["customer", "date"], as_index=False)["dollars"].sum()
    spend = np.log1p(daily.sort_values("date").groupby("customer")["dollars"].first())
    weeks = pd.date_range("1996-12-29", "1998-07-05", freq="7D")
    cov = pd.DataFrame(
        {"customer": np.repeat(spend.index, len(weeks)), "start": np.tile(weeks, len(spend))}
    )
    cov["Summer"] = cov["start"].dt.month.isin([6, 7, 8]).astype(float)
    cov["log_first_spend"] = cov["customer"].map(spend)
    return log, cov, ["Summer", "log_first_spend"], "1997-09-30"


def panel(n: int) -> tuple[pd.DataFrame, pd.DataFrame, list[str], str]:
    """n customers, 104 weekly periods, a yearly sine, a campaign dummy and a
    customer-level normal trait, simulated at known parameters."""
    from retentionkit.fitters import TimeVaryingParetoNBDFitter

    rng = np.random.default_rng(0)
    weeks = pd.date_range("2020-01-05", periods=104, freq="7D")
    ids = np.arange(n)
    first = pd.Series(
        pd.Timestamp("2020-01-05") + pd.to_timedelta(rng.integers(0, 182, n), unit="D"),
        index=ids,
    )
    w = np.tile(np.arange(len(weeks)), n)
    cov = pd.DataFrame({"customer": np.repeat(ids, len(weeks)), "start": np.tile(weeks, n)})
    cov["season"] = np.sin(2 * np.pi * w / 52)
    cov["campaign"] = ((w % 52 >= 20) & (w % 52 < 26)).astype(float)
    cov["trait"] = np.repeat(rng.normal(size=n), len(weeks))
    truth = TimeVaryingParetoNBDFitter()
    truth.params_ = {
        "r": 0.8,
        "alpha": 6.0,
        "s": 0.6,
        "beta": 15.0,
        "purchase:campaign": 0.7,
        "purchase:season": 0.5,
        "purchase:trait": 0.2,
        "dropout:campaign": 0.8,
        "dropout:season": -0.4,
        "dropout:trait": 0.1,
    }
    end = "2021-12-31"
    log = truth.simulate_transactions(cov, "customer", "start", first, end, seed=1)
    return log, cov, ["season", "campaign", "trait"], end


def worker(case: str, customers: int, repeats: int) -> dict[str, float | str]:
    from retentionkit.fitters import TimeVaryingParetoNBDFitter

    log, cov, cols, end = cdnow() if case == "cdnow" else panel(customers)
    table = float(cov.memory_usage(deep=True).sum()) / 2**20
    date_col = "date"
    reset = reset_peak()
    best = float("inf")
    fit = None
    for _ in range(repeats):
        fit = None  # the previous fit is freed first: one fit at a time in memory
        start = time.perf_counter()
        fit = TimeVaryingParetoNBDFitter().fit(
            log, cov, "customer", date_col, "start", cols, cols, end
        )
        best = min(best, time.perf_counter() - start)
    assert fit is not None
    return {
        "case": case,
        "customers": fit.n_customers_,
        "periods": float(len(cov) / cov["customer"].nunique()),
        "fit_s": best,
        "log_likelihood": fit.log_likelihood_,
        "peak_mib": peak_mib(),
        "table_mib": table,
        "peak_reset": str(reset),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", choices=["cdnow", "panel"])
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.customers, args.repeats)))
        return
    rows = []
    for case in ["cdnow", "panel"]:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--worker",
                case,
                "--customers",
                str(args.customers),
                "--repeats",
                str(args.repeats),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(
        "| case | customers | periods | fit (s) | LL | peak MiB | covariate table MiB "
        "| peak / table |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['case']} | {r['customers']:.0f} | {r['periods']:.0f} | {r['fit_s']:.3f} "
            f"| {r['log_likelihood']:.4f} | {r['peak_mib']:.0f} | {r['table_mib']:.0f} "
            f"| {r['peak_mib'] / r['table_mib']:.2f} |"
        )
    if any(r["peak_reset"] != "True" for r in rows):
        print("(peak not reset on this system: it includes making the tables)")


if __name__ == "__main__":
    main()
