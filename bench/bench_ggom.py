"""GGom/NBD fit time and memory at 100k and 1M customers (issue 16).

Customers are simulated from a GGom/NBD with a rising drop-out hazard (r = 0.8,
alpha = 6, b = 0.04, s = 1.2, beta = 4; weeks, ages spread over [30, 80)), in two
flavours: ``continuous`` (every history distinct) and ``daily`` (recency and T
rounded to days, as a summary from a transaction log gives them, so that compression
shares the likelihood's integral between customers with the same (x, t_x, T)). Each
run is a fresh process (peak memory is the process's own). No other library fits the
GGom/NBD in Python, so there is no comparison column. Run from the repository root::

    python bench/bench_ggom.py            # 100k and 1M
    python bench/bench_ggom.py --n 100k   # one size
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

TRUTH = [0.8, 6.0, 0.04, 1.2, 4.0]


def _cpu_seconds() -> float:
    """CPU time of this process, every thread, user and system: on a machine
    shared with other jobs it tells the work done better than the wall clock."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def worker(n: int, flavour: str) -> dict[str, float]:
    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _memory import peak_mib

    import retentionkit as rk
    from retentionkit._core import GGomNBDModel

    ages = np.linspace(30.0, 80.0, n, endpoint=False)
    x, tx, t, *_ = GGomNBDModel.from_params(TRUTH).simulate(ages, 16)
    if flavour == "daily":
        tx, t = np.round(tx * 7) / 7, np.round(t * 7) / 7
    start, cpu = time.perf_counter(), _cpu_seconds()
    fitter = rk.GompertzGammaNBDFitter().fit(x, tx, t)
    fit_s, fit_cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    start = time.perf_counter()
    fitter.conditional_expected_number_of_purchases_up_to_time(39.0, x, tx, t)
    predict_s = time.perf_counter() - start
    return {
        "fit_s": fit_s,
        "fit_cpu": fit_cpu,
        "predict_s": predict_s,
        "peak_mib": peak_mib(),
        "unique": float(len(set(zip(x.tolist(), tx.tolist(), t.tolist(), strict=True)))),
        "ll": fitter.log_likelihood_,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", default="100k,1M", help="sizes, e.g. 100k,1M")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(int(args.worker[0]), args.worker[1])))
        return
    sizes = [int(float(s[:-1]) * {"k": 1e3, "M": 1e6}[s[-1]]) for s in args.n.split(",")]
    print("| flavour | N | unique rows | fit s | fit CPU s | predict E[Y(39)] s | peak MiB | LL |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        for flavour in ("continuous", "daily"):
            out = subprocess.run(
                [sys.executable, __file__, "--worker", str(n), flavour],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            r = json.loads(out.strip().splitlines()[-1])
            label = f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"
            print(
                f"| {flavour} | {label} | {int(r['unique']):,} | {r['fit_s']:.2f} | "
                f"{r['fit_cpu']:.2f} | "
                f"{r['predict_s']:.2f} | {r['peak_mib']:.0f} | {r['ll']:.6f} |"
            )


if __name__ == "__main__":
    main()
