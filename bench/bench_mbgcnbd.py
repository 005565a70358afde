"""MBG/CNBD-k at scale (issue 16): fit time and peak memory at 100k and 1M customers.

Customers are simulated by the core from MBG/CNBD-k with k = 3 (seeded). Two fits are
timed, each in a fresh process: k fixed at 3, and k chosen (k = 1, 2, ... up to 12,
stopping after two falls of the log-likelihood, so k = 1..5 here). Target (issue 16):
the 1M fit with k <= 12 under 5 s on 2 cores.

    python bench/bench_mbgcnbd.py [--sizes 100000 1000000]

Also, with ``--grocery PATH`` (a transaction log CSV with columns cust, date, as the
grocery log of the BTYD literature; not shipped: pass its path), compares MBG/CNBD-k
with BG/NBD on a holdout: the calibration summary up to ``--calibration-end``,
weeks as time unit, and the mean absolute error of the holdout purchases.

With ``--recovery``, the issue's simulate-then-refit at 50k customers: k = 1, 2, 3
simulated (the same mean inter-purchase time), k chosen by the fit.

Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

WORKER = r"""
import json, sys, time
sys.path.insert(0, {bench!r})
from _memory import peak_mib
import numpy as np
import retentionkit as rk

n, k_fixed = {n}, {k}
truth = rk.MBGCNBDkFitter(k=3)
truth.params_ = {{"r": 3.0, "alpha": 2.0, "a": 0.7, "b": 8.0}}
sim = truth.generate_new_data(size=n, seed=11, T=np.linspace(20.0, 40.0, n))
data = sim[["frequency", "recency", "T", "litt"]]
start, cpu = time.perf_counter(), time.process_time()
fitter = rk.MBGCNBDkFitter(k=k_fixed).fit(data)
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({{"seconds": seconds, "cpu": cpu, "k": fitter.k_,
                  "tried": len(fitter.k_profile_), "mib": peak_mib()}}))
"""

RECOVERY = r"""
import json
import numpy as np
import retentionkit as rk

rows = []
for k in (1, 2, 3):
    truth = rk.MBGCNBDkFitter(k=k)
    truth.params_ = {{"r": 3.0, "alpha": 6.0 / k, "a": 0.7, "b": 8.0}}
    sim = truth.generate_new_data(size=50_000, seed=100 + k, T=np.linspace(20.0, 40.0, 50_000))
    fitter = rk.MBGCNBDkFitter().fit(sim[["frequency", "recency", "T", "litt"]])
    rows.append({{"k": k, "chosen": fitter.k_, "params": fitter.params_.round(3).to_dict()}})
print(json.dumps(rows))
"""

GROCERY = r"""
import json, sys
import numpy as np
import pandas as pd
import retentionkit as rk
from retentionkit.utils import calibration_and_holdout_data, summary_data_from_transaction_data

path, end = {path!r}, {end!r}
log = pd.read_csv(path)
log["date"] = pd.to_datetime(log["date"])
cal = log[log["date"] <= end]
summary = summary_data_from_transaction_data(
    cal, "cust", "date", observation_period_end=end, freq_multiplier=7, include_litt=True
)
holdout = calibration_and_holdout_data(
    log, "cust", "date", calibration_period_end=end, freq_multiplier=7
)
t = float(holdout["duration_holdout"].iloc[0])
actual = holdout["frequency_holdout"].reindex(summary.index)
out = {{}}
for name, fitter, cols in (
    ("BG/NBD", rk.BetaGeoFitter(), ["frequency", "recency", "T"]),
    ("MBG/CNBD-k", rk.MBGCNBDkFitter(), ["frequency", "recency", "T", "litt"]),
):
    fitter.fit(summary[cols])
    pred = fitter.conditional_expected_number_of_purchases_up_to_time(
        t, summary["frequency"], summary["recency"], summary["T"]
    )
    out[name] = {{"ll": fitter.log_likelihood_, "mae": float(np.abs(pred - actual).mean()),
                 "k": getattr(fitter, "k_", None)}}
print(json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--grocery", type=Path, default=None)
    parser.add_argument("--calibration-end", default="2006-12-31")
    parser.add_argument("--recovery", action="store_true")
    args = parser.parse_args()
    bench = str(Path(__file__).resolve().parent)
    print("| customers | k | fit (s) | CPU (s, all threads) | k chosen | k tried | peak MiB |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        for k in (3, None):
            code = WORKER.format(bench=bench, n=n, k=k)
            out = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            label = "fixed 3" if k is not None else "chosen (max 12)"
            print(
                f"| {n:,} | {label} | {r['seconds']:.2f} | {r['cpu']:.2f} | {r['k']} "
                f"| {r['tried']} | {r['mib']:.0f} |"
            )
    if args.recovery:
        out = subprocess.run(
            [sys.executable, "-c", RECOVERY.format()], capture_output=True, text=True, check=True
        )
        print("\n| k simulated | k chosen | r, alpha, a, b (truth 3, 6/k, 0.7, 8) |")
        print("|---:|---:|---|")
        for row in json.loads(out.stdout.strip().splitlines()[-1]):
            p = row["params"]
            print(f"| {row['k']} | {row['chosen']} | {p['r']}, {p['alpha']}, {p['a']}, {p['b']} |")
    if args.grocery is not None:
        code = GROCERY.format(path=str(args.grocery), end=args.calibration_end)
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        print(out.stdout)


if __name__ == "__main__":
    main()
