"""Time DERT, the discounted expected residual transactions, for every customer.

``discounted_expected_residual_transactions`` (Fader, Hardie & Lee 2005, "RFM and
CLV") has no counterpart in lifetimes, so this times retentionkit alone: the BG/NBD
and Pareto/NBD fitters on simulated customers (the same simulation and seed as
``bench_models.py``), 15% a year discounted continuously on weekly data. Pareto/NBD
has a closed form; BG/NBD integrates over the drop-out probability (tanh-sinh,
about a hundred evaluations of U per customer).

    python bench/bench_dert.py                  # 100k and 1M customers
    python bench/bench_dert.py --sizes 100000

Prints a markdown table (best of ``--repeats`` runs).
"""

from __future__ import annotations

import argparse
import time

import _simulate
import numpy as np

import retentionkit as rk


def best_time(call, args, repeats):
    """The shortest of ``repeats`` timed ``call(*args)``, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = call(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated N")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20050501)
    args = parser.parse_args()
    delta = np.log(1.15) / 52
    models = {
        "BG/NBD": (rk.BetaGeoFitter, _simulate.bgnbd, _simulate.BGNBD_PARAMS),
        "Pareto/NBD": (rk.ParetoNBDFitter, _simulate.pnbd, _simulate.PNBD_PARAMS),
    }
    print(f"retentionkit {rk.__version__}; delta = ln(1.15)/52 per week; best of {args.repeats}")
    print()
    print("| model | N | DERT s | mean DERT |")
    print("|---|---:|---:|---:|")
    for name, (fitter, simulate, params) in models.items():
        for n in (int(s) for s in args.sizes.split(",")):
            f, r, T = simulate(n, args.seed + n, **params)
            model = fitter().fit(f, r, T)
            seconds, dert = best_time(
                model.discounted_expected_residual_transactions, (delta, f, r, T), args.repeats
            )
            print(f"| {name} | {n:,} | {seconds:.3f} | {float(np.mean(dert)):.4f} |")


if __name__ == "__main__":
    main()
