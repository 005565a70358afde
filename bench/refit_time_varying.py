"""Simulate-then-refit of the Pareto/NBD with time-varying covariates at 50,000
customers (issue 14): a yearly seasonal covariate and a six-week campaign dummy in both
processes, simulated at known parameters over 104 weeks and refitted; every estimate
should lie within 3 standard errors of the truth. The fit on the exact simulated times is
the check; a second fit on the same log recorded by day (the fitter's default) shows what
merging same-day purchases does to a continuous-time model at these rates.

CI runs the same check at 2,000 customers (``tests/python/test_time_varying.py::
test_simulate_then_refit``); this is the issue's size.

    python bench/refit_time_varying.py                   # 50,000 customers, seed 1
    python bench/refit_time_varying.py --customers 5000 --seed 2

Prints markdown tables: truth, estimate, standard error and z = (estimate - truth) / se.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from retentionkit.fitters import TimeVaryingParetoNBDFitter

TRUTH = {
    "r": 0.8,
    "alpha": 6.0,
    "s": 0.6,
    "beta": 15.0,
    "purchase:campaign": 0.7,
    "purchase:season": 0.5,
    "dropout:campaign": 0.8,
    "dropout:season": -0.4,
}


def tables(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """n customers born over the first half year, 104 weekly periods from Sunday
    2020-01-05: ``season`` = sin(2 pi week / 52), ``campaign`` = 1 in weeks 20-25 of
    each year; the log simulated at TRUTH to the end of 2021."""
    rng = np.random.default_rng(seed)
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
    truth = TimeVaryingParetoNBDFitter()
    truth.params_ = TRUTH
    end = "2021-12-31"
    log = truth.simulate_transactions(cov, "customer", "start", first, end, seed=seed)
    return log, cov, end


def report(fit: TimeVaryingParetoNBDFitter, title: str, seconds: float) -> float:
    """Print one markdown table; return the largest |z|."""
    truth = pd.Series(TRUTH)
    z = (fit.params_ - truth) / fit.standard_errors_
    print(f"{title}: LL {fit.log_likelihood_:.4f}, fit {seconds:.1f} s")
    print()
    print("| parameter | truth | estimate | se | z |")
    print("|---|---:|---:|---:|---:|")
    for name in fit.params_.index:
        print(
            f"| {name} | {truth[name]:g} | {fit.params_[name]:.4f} "
            f"| {fit.standard_errors_[name]:.4f} | {z[name]:+.2f} |"
        )
    worst = float(z.abs().max())
    print()
    print(f"largest |z| = {worst:.2f}: {'within' if worst < 3 else 'NOT within'} 3 standard errors")
    print()
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    log, cov, end = tables(args.customers, args.seed)
    cols = ["season", "campaign"]
    print(f"{args.customers:,} customers, 104 weeks, seed {args.seed}: {len(log):,} purchases")
    print()
    # The simulated log holds exact (continuous) times: told apart to the nanosecond,
    # the data are the model's own; recorded by day (the fitter's default, as logs
    # usually are), purchases on the same day merge.
    for resolution, title in [
        ("ns", "exact purchase times (resolution='ns'): the model's own data"),
        (None, "purchases recorded by day (the default): same-day purchases merged"),
    ]:
        start = time.perf_counter()
        fit = TimeVaryingParetoNBDFitter().fit(
            log, cov, "customer", "date", "start", cols, cols, end, resolution=resolution
        )
        report(fit, title, time.perf_counter() - start)


if __name__ == "__main__":
    main()
