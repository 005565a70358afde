"""Time the transaction log -> customer summary step against lifetimes, then fit.

A seeded synthetic log (default 1M customers, about 10M transactions, times to the
second over two years) is summarised at daily resolution (``freq="D"``) by
``retentionkit.utils.summary_data_from_transaction_data`` and by lifetimes 0.11.3's
function of the same name, each in a fresh subprocess (lifetimes with the
interpreter of ``bench/.venv-lifetimes``, see README.md), which reports the time of
the call and its peak memory (``ru_maxrss``). The two summaries are compared value
by value. The retentionkit worker then compresses its summary to unique
(frequency, recency, T) rows with their counts and fits BG/NBD from that table with
``weights``, and for comparison from every customer.

    python bench/bench_summary.py                      # 1M customers, ~10M transactions
    python bench/bench_summary.py --customers 100000   # quicker
    python bench/bench_summary.py --no-monetary        # without a value column

Prints a markdown table. Needs about 2 GiB of memory at the default size (lifetimes.
peak; retentionkit's is lower).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
LIFETIMES_PYTHON = HERE / ".venv-lifetimes" / "bin" / "python"
START = np.datetime64("2023-01-01T00:00:00", "ns")
DAYS = 730  # the log covers two years; customers are acquired in the first one


def simulate_log(n_customers: int, seed: int) -> dict[str, np.ndarray]:
    """A BG/NBD-like log: ``customer`` (int64), ``when`` (datetime64[ns]), ``amount``.

    Per customer: purchase rate ~ Gamma(shape 1, rate 45) per day, drop-out after
    each purchase with probability ~ Beta(1, 30), first purchase uniform over the
    first year, times to the second; about 10 transactions per customer, several
    on one day now and then. Rows are shuffled, as a log arrives.
    """
    rng = np.random.default_rng(seed)
    lam = rng.gamma(1.0, 1 / 45, n_customers)
    p = rng.beta(1.0, 30.0, n_customers)
    clock = rng.uniform(0, DAYS / 2, n_customers)
    ids, times = [np.arange(n_customers)], [clock.copy()]
    active = np.arange(n_customers)
    while active.size:
        clock[active] += rng.exponential(size=active.size) / lam[active]
        active = active[clock[active] < DAYS]
        ids.append(active)
        times.append(clock[active])
        active = active[rng.random(active.size) >= p[active]]
    customer = np.concatenate(ids)
    seconds = np.round(np.concatenate(times) * 86400).astype(np.int64)
    order = rng.permutation(len(customer))
    return {
        "customer": customer[order],
        "when": START + seconds[order].astype("timedelta64[s]"),
        "amount": np.round(rng.gamma(2.0, 15.0, len(customer)), 2),
    }


# -- workers (run in a fresh interpreter each) ------------------------------------


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def worker(library: str, data_path: str, out_path: str, monetary: bool) -> None:
    import pandas as pd

    if library == "lifetimes":
        from lifetimes.utils import summary_data_from_transaction_data
    else:
        from retentionkit.utils import summary_data_from_transaction_data

    with np.load(data_path) as data:
        log = pd.DataFrame({k: data[k] for k in ("customer", "when", "amount")})
    end = log["when"].max()
    loaded = _peak_mib()
    start = time.perf_counter()
    summary = summary_data_from_transaction_data(
        log,
        "customer",
        "when",
        monetary_value_col="amount" if monetary else None,
        observation_period_end=end,
        freq="D",
    )
    seconds = time.perf_counter() - start
    result = {
        "library": library,
        "version": __import__(library).__version__,
        "pandas": pd.__version__,
        "seconds": seconds,
        "peak_mib": _peak_mib(),
        "loaded_mib": loaded,
        "customers": len(summary),
    }
    summary = summary.sort_index()
    columns = ["frequency", "recency", "T"] + (["monetary_value"] if monetary else [])
    np.savez(
        out_path + ".npz",
        customer=summary.index.to_numpy(),
        **{c: summary[c].to_numpy(dtype=np.float64) for c in columns},
    )
    if library == "retentionkit":
        result.update(_fit(summary))
    with open(out_path, "w") as handle:
        json.dump(result, handle)


def _fit(summary) -> dict:
    from retentionkit import BetaGeoFitter

    start = time.perf_counter()
    table = summary.groupby(["frequency", "recency", "T"]).size().rename("weights").reset_index()
    compress = time.perf_counter() - start
    start = time.perf_counter()
    weighted = BetaGeoFitter().fit(
        table["frequency"], table["recency"], table["T"], weights=table["weights"]
    )
    fit_weighted = time.perf_counter() - start
    start = time.perf_counter()
    full = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    fit_full = time.perf_counter() - start
    return {
        "unique_rows": len(table),
        "compress_seconds": compress,
        "fit_weighted_seconds": fit_weighted,
        "fit_full_seconds": fit_full,
        "params_weighted": weighted.params_.tolist(),
        "params_full": full.params_.tolist(),
        "ll_weighted": weighted.log_likelihood_,
        "ll_full": full.log_likelihood_,
    }


# -- driver -------------------------------------------------------------------------


def run_worker(python: Path | str, library: str, data: str, out: str, monetary: bool) -> dict:
    cmd = [str(python), __file__, "--worker", library, "--data", data, "--out", out]
    if not monetary:
        cmd.append("--no-monetary")
    subprocess.run(cmd, check=True)
    with open(out) as handle:
        return json.load(handle)


def compare(a_path: str, b_path: str) -> float:
    """Largest absolute difference between two summaries (inf if the customers differ)."""
    with np.load(a_path) as a, np.load(b_path) as b:
        if not np.array_equal(a["customer"], b["customer"]):
            return float("inf")
        return max(float(np.max(np.abs(a[k] - b[k]))) for k in a.files if k != "customer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--no-monetary", dest="monetary", action="store_false")
    parser.add_argument("--skip-lifetimes", action="store_true")
    parser.add_argument("--worker", choices=["retentionkit", "lifetimes"], help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.data, args.out, args.monetary)
        return

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench_summary_") as tmp:
        start = time.perf_counter()
        log = simulate_log(args.customers, args.seed)
        data = os.path.join(tmp, "log.npz")
        np.savez(data, **log)
        n_tx = len(log["customer"])
        print(
            f"simulated {args.customers:,} customers, {n_tx:,} transactions "
            f"in {time.perf_counter() - start:.1f} s (seed {args.seed})",
            file=sys.stderr,
        )
        del log
        results = [
            run_worker(sys.executable, "retentionkit", data, f"{tmp}/rk.json", args.monetary)
        ]
        if not args.skip_lifetimes:
            if not LIFETIMES_PYTHON.exists():
                sys.exit(f"{LIFETIMES_PYTHON} is missing: see bench/README.md")
            results.append(
                run_worker(LIFETIMES_PYTHON, "lifetimes", data, f"{tmp}/lt.json", args.monetary)
            )
            difference = compare(f"{tmp}/rk.json.npz", f"{tmp}/lt.json.npz")
    load = (load_before, os.getloadavg()[0])
    report(args, n_tx, results, None if args.skip_lifetimes else difference, load)


def report(
    args, n_tx: int, results: list[dict], difference: float | None, load: tuple[float, float]
) -> None:
    rk = results[0]
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if "model name" in line)
    except (OSError, StopIteration):
        pass
    print(
        f"\n### Transaction log -> summary: {args.customers:,} customers, {n_tx:,} transactions, "
        f'freq="D"{", with monetary value" if args.monetary else ""}\n'
    )
    print(
        f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}; seed {args.seed}; "
        f"one run each; 1-minute load average {load[0]:.1f} before, {load[1]:.1f} after\n"
    )
    print("| library | summary time (s) | peak RSS (MiB) | RSS after loading the log (MiB) |")
    print("|---|---:|---:|---:|")
    for r in results:
        name = f"{r['library']} {r['version']} (pandas {r['pandas']})"
        print(f"| {name} | {r['seconds']:.2f} | {r['peak_mib']:.0f} | {r['loaded_mib']:.0f} |")
    if len(results) == 2:
        lt = results[1]
        print(
            f"\nSpeed-up {lt['seconds'] / rk['seconds']:.1f}x; peak memory above the loaded log "
            f"{rk['peak_mib'] - rk['loaded_mib']:.0f} MiB vs "
            f"{lt['peak_mib'] - lt['loaded_mib']:.0f} MiB. "
            f"Same {rk['customers']:,} customers; largest absolute difference between the "
            f"two summaries: {difference:.3g}."
        )
    print("\n| BG/NBD fit (retentionkit) | rows | time (s) | log-likelihood |")
    print("|---|---:|---:|---:|")
    print(
        f"| from the compressed summary (unique rows + weights; compressing took "
        f"{rk['compress_seconds']:.2f} s) | {rk['unique_rows']:,} | "
        f"{rk['fit_weighted_seconds']:.2f} | {rk['ll_weighted']:.2f} |"
    )
    print(
        f"| from every customer | {rk['customers']:,} | {rk['fit_full_seconds']:.2f} | "
        f"{rk['ll_full']:.2f} |"
    )
    gap = np.max(np.abs(np.array(rk["params_weighted"]) / np.array(rk["params_full"]) - 1))
    print(f"\nLargest relative difference between the two fits' parameters: {gap:.1e}.")


if __name__ == "__main__":
    main()
