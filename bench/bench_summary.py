"""Time the transaction log -> customer summary step against lifetimes, then fit.

Seeded synthetic logs (about 10 transactions per customer, times to the second over
two years) of each size in ``--sizes`` (number of transactions, default 100k to 10M)
are summarised at daily resolution (``freq="D"``) by
``retentionkit.utils.summary_data_from_transaction_data`` and by lifetimes 0.11.3's
function of the same name, each in a fresh subprocess (lifetimes with the
interpreter of ``bench/.venv-lifetimes``, see README.md), which reports the best time
of ``--repeats`` calls and its peak memory (``VmHWM``, see ``_memory.py``). Before each measurement
the driver waits (up to ``--wait-idle`` seconds) until other processes use less than
5% of the CPUs, measures the CPU time other processes took while the worker ran, and
repeats a disturbed measurement (up to ``--attempts`` runs). The two summaries are
compared value by value. At the largest size the retentionkit worker also compresses
its summary to unique (frequency, recency, T) rows with their counts and fits BG/NBD
from that table with ``weights``, and for comparison from every customer.

    python bench/bench_summary.py                          # 100k ... 10M transactions
    python bench/bench_summary.py --sizes 100k,1M          # quicker
    python bench/bench_summary.py --no-monetary            # without a value column
    python bench/bench_summary.py --lifetimes-python /path/to/venv/bin/python
    python bench/bench_summary.py --frames --sizes 10M     # polars/pyarrow vs pandas

With ``--frames`` (issue 17) the same log is summarised by retentionkit from a pandas
DataFrame (the pandas route), from a polars DataFrame and a pyarrow Table (the Arrow
route: Rust reads the Arrow buffers), and from polars converted with ``to_pandas()``
first (what a polars user did before); ``--string-ids`` gives the customers text ids
("c123"), where the pandas round trip costs most.

Prints markdown tables. Needs about 2 GiB of memory at 10M transactions (lifetimes'
peak; retentionkit's is lower).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _memory import peak_mib

HERE = Path(__file__).resolve().parent
LIFETIMES_PYTHON = HERE / ".venv-lifetimes" / "bin" / "python"
TRANSACTIONS_PER_CUSTOMER = 10.2  # of simulate_log, on average
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


#: --frames workers: name -> (library whose version is reported, how the log is held).
FRAME_WORKERS = {
    "polars": "polars",
    "pyarrow": "pyarrow",
    "polars-to-pandas": "polars",
}


def frame_worker(
    name: str, data_path: str, out_path: str, monetary: bool, repeats: int, string_ids: bool
) -> None:
    """The summary of a polars or pyarrow log (see the module docstring)."""
    import pandas as pd

    from retentionkit.utils import summary_data_from_transaction_data

    with np.load(data_path) as data:
        columns = {k: data[k] for k in ("customer", "when", "amount")}
    if string_ids:
        columns["customer"] = np.char.add("c", columns["customer"].astype(str)).astype(object)
    end = pd.Timestamp(columns["when"].max())
    if name == "pyarrow":
        import pyarrow as pa

        log = pa.table(columns)
    else:
        import polars as pl

        log = pl.DataFrame(columns)
    del columns
    loaded = peak_mib()
    times = []
    for _ in range(max(repeats, 1)):
        start = time.perf_counter()
        source = log.to_pandas() if name == "polars-to-pandas" else log
        summary = summary_data_from_transaction_data(
            source,
            "customer",
            "when",
            monetary_value_col="amount" if monetary else None,
            observation_period_end=end,
            freq="D",
        )
        times.append(time.perf_counter() - start)
        del source
    if not isinstance(summary, pd.DataFrame):
        summary = summary.to_pandas().set_index("customer")
    library = FRAME_WORKERS[name]
    result = {
        "library": name,
        "version": __import__(library).__version__,
        "pandas": pd.__version__,
        "seconds": min(times),
        "all_seconds": times,
        "peak_mib": peak_mib(),
        "loaded_mib": loaded,
        "customers": len(summary),
    }
    _save(summary, out_path, monetary)
    with open(out_path, "w") as handle:
        json.dump(result, handle)


def _save(summary, out_path: str, monetary: bool) -> None:
    summary = summary.sort_index()
    columns = ["frequency", "recency", "T"] + (["monetary_value"] if monetary else [])
    np.savez(
        out_path + ".npz",
        customer=summary.index.to_numpy(),
        **{c: summary[c].to_numpy(dtype=np.float64) for c in columns},
    )


def worker(
    library: str,
    data_path: str,
    out_path: str,
    monetary: bool,
    repeats: int,
    fit: bool,
    string_ids: bool = False,
) -> None:
    import pandas as pd

    if library in FRAME_WORKERS:
        frame_worker(library, data_path, out_path, monetary, repeats, string_ids)
        return
    if library == "lifetimes":
        from lifetimes.utils import summary_data_from_transaction_data
    else:
        from retentionkit.utils import summary_data_from_transaction_data

    with np.load(data_path) as data:
        log = pd.DataFrame({k: data[k] for k in ("customer", "when", "amount")})
    if string_ids:
        log["customer"] = np.char.add("c", log["customer"].to_numpy().astype(str)).astype(object)
    end = log["when"].max()
    loaded = peak_mib()
    times = []
    for _ in range(max(repeats, 1)):
        start = time.perf_counter()
        summary = summary_data_from_transaction_data(
            log,
            "customer",
            "when",
            monetary_value_col="amount" if monetary else None,
            observation_period_end=end,
            freq="D",
        )
        times.append(time.perf_counter() - start)
    result = {
        "library": library,
        "version": __import__(library).__version__,
        "pandas": pd.__version__,
        "seconds": min(times),
        "all_seconds": times,
        "peak_mib": peak_mib(),
        "loaded_mib": loaded,
        "customers": len(summary),
    }
    _save(summary, out_path, monetary)
    if library == "retentionkit" and fit:
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


def _idle_tools():
    """bench_models' idle wait and CPU accounting (same directory)."""
    sys.path.insert(0, str(HERE))
    import bench_models

    return bench_models


def run_worker(
    python: Path | str,
    library: str,
    data: str,
    out: str,
    args: argparse.Namespace,
    repeats: int,
    fit: bool,
) -> dict:
    """One measurement, repeated while other processes disturb it (see the docs)."""
    tools = _idle_tools()
    cmd = [str(python), __file__, "--worker", library, "--data", data, "--out", out]
    cmd += ["--repeats", str(repeats)]
    if not args.monetary:
        cmd.append("--no-monetary")
    if fit:
        cmd.append("--fit")
    if args.string_ids:
        cmd.append("--string-ids")
    best: dict | None = None
    for _ in range(max(args.attempts, 1)):
        tools.wait_until_idle(args.wait_idle)
        busy0, own0 = tools.busy_cpu_seconds(), tools.children_cpu_seconds()
        wall0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        busy1, own1 = tools.busy_cpu_seconds(), tools.children_cpu_seconds()
        wall1 = time.perf_counter()
        with open(out) as handle:
            result = json.load(handle)
        result["contention"] = 0.0
        if busy0 is not None and busy1 is not None:
            others = max((busy1 - busy0) - (own1 - own0), 0.0)
            result["contention"] = others / ((wall1 - wall0) * (os.cpu_count() or 1))
        if best is None or result["contention"] < best["contention"]:
            best = result
            os.replace(out + ".npz", out + ".best.npz")
        if result["contention"] <= tools.CONTENTION_WARN:
            break
    assert best is not None
    return best


def compare(a_path: str, b_path: str) -> float:
    """Largest absolute difference between two summaries (inf if the customers differ)."""
    with np.load(a_path, allow_pickle=True) as a, np.load(b_path, allow_pickle=True) as b:
        if not np.array_equal(a["customer"].astype(str), b["customer"].astype(str)):
            return float("inf")
        return max(float(np.max(np.abs(a[k] - b[k]))) for k in a.files if k != "customer")


def parse_size(text: str) -> int:
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * scale)


def label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return f"{n:,}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="100k,300k,1M,2M,3M,10M",
        help="numbers of transactions (about; the log has whole customers)",
    )
    parser.add_argument("--customers", type=int, help="one log of this many customers instead")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--no-monetary", dest="monetary", action="store_false")
    parser.add_argument("--skip-lifetimes", action="store_true")
    parser.add_argument("--repeats", type=int, default=5, help="best of R calls (retentionkit)")
    parser.add_argument(
        "--lifetimes-repeats",
        type=int,
        default=3,
        help="best of R calls (lifetimes; 1 from 3M transactions)",
    )
    parser.add_argument("--wait-idle", type=float, default=120.0)
    parser.add_argument("--attempts", type=int, default=3)
    parser.add_argument("--lifetimes-python", default=str(LIFETIMES_PYTHON))
    parser.add_argument(
        "--frames",
        action="store_true",
        help="pandas vs polars/pyarrow (the Arrow route) instead of lifetimes",
    )
    parser.add_argument("--string-ids", action="store_true", help="text customer ids")
    parser.add_argument(
        "--worker",
        choices=["retentionkit", "lifetimes", *FRAME_WORKERS],
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--fit", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(
            args.worker, args.data, args.out, args.monetary, args.repeats, args.fit, args.string_ids
        )
        return
    if args.frames:
        args.skip_lifetimes = True

    if args.customers:
        customers = [args.customers]
    else:
        customers = [
            max(1, round(parse_size(s) / TRANSACTIONS_PER_CUSTOMER)) for s in args.sizes.split(",")
        ]
    lifetimes_python = Path(args.lifetimes_python)
    if not args.skip_lifetimes and not lifetimes_python.exists():
        sys.exit(f"{lifetimes_python} is missing: see bench/README.md")
    rows = []
    load_before = os.getloadavg()[0]
    for i, n_customers in enumerate(customers):
        last = i == len(customers) - 1
        with tempfile.TemporaryDirectory(prefix="bench_summary_") as tmp:
            start = time.perf_counter()
            log = simulate_log(n_customers, args.seed)
            data = os.path.join(tmp, "log.npz")
            np.savez(data, **log)
            n_tx = len(log["customer"])
            print(
                f"simulated {n_customers:,} customers, {n_tx:,} transactions "
                f"in {time.perf_counter() - start:.1f} s (seed {args.seed})",
                file=sys.stderr,
            )
            del log
            row: dict = {"customers": n_customers, "transactions": n_tx}
            row["rk"] = run_worker(
                sys.executable,
                "retentionkit",
                data,
                f"{tmp}/rk.json",
                args,
                args.repeats,
                last and not args.frames,
            )
            if args.frames:
                for name in FRAME_WORKERS:
                    out = f"{tmp}/{name}.json"
                    row[name] = run_worker(
                        sys.executable, name, data, out, args, args.repeats, False
                    )
                    row[name]["difference"] = compare(f"{tmp}/rk.json.best.npz", out + ".best.npz")
                    print(
                        f"  {name}: {row[name]['seconds']:.3f} s, peak "
                        f"{row[name]['peak_mib']:.0f} MiB",
                        file=sys.stderr,
                        flush=True,
                    )
            if not args.skip_lifetimes:
                repeats = args.lifetimes_repeats if n_tx < 3_000_000 else 1
                row["lt"] = run_worker(
                    lifetimes_python, "lifetimes", data, f"{tmp}/lt.json", args, repeats, False
                )
                row["difference"] = compare(f"{tmp}/rk.json.best.npz", f"{tmp}/lt.json.best.npz")
            print(
                f"  {n_tx:,} transactions: retentionkit {row['rk']['seconds']:.3f} s "
                f"(others used {row['rk']['contention']:.0%} of the CPUs)"
                + (
                    f", lifetimes {row['lt']['seconds']:.3f} s "
                    f"({row['lt']['contention']:.0%}), speed-up "
                    f"{row['lt']['seconds'] / row['rk']['seconds']:.1f}x"
                    if "lt" in row
                    else ""
                ),
                file=sys.stderr,
                flush=True,
            )
            rows.append(row)
    load = (load_before, os.getloadavg()[0])
    if args.frames:
        report_frames(args, rows, load)
    else:
        report(args, rows, load)


def _cpu() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if "model name" in line)
    except (OSError, StopIteration):
        pass
    return cpu


def report_frames(args, rows: list[dict], load: tuple[float, float]) -> None:
    """The --frames table: one row per (size, route)."""
    rk0 = rows[0]["rk"]
    ids = "text ids" if args.string_ids else "integer ids"
    print(
        f'\n### Transaction log -> summary from pandas, polars and pyarrow, freq="D", {ids}'
        f"{', with monetary value' if args.monetary else ''}\n"
    )
    print(
        f"{os.cpu_count()} cores, {_cpu()}, Python {platform.python_version()}; retentionkit "
        f"{rk0['version']} (pandas {rk0['pandas']}, polars {rows[0]['polars']['version']}, "
        f"pyarrow {rows[0]['pyarrow']['version']}); seed {args.seed}; best of {args.repeats} "
        f"calls; 1-minute load average {load[0]:.1f} before, {load[1]:.1f} after\n"
    )
    print(
        "| transactions | customers | route | s | peak MiB (log loaded) | vs pandas | "
        "max abs diff | others' CPU |"
    )
    print("|---:|---:|---|---:|---:|---:|---:|---:|")
    names = {
        "rk": "pandas DataFrame",
        "polars": "polars DataFrame (Arrow route)",
        "pyarrow": "pyarrow Table (Arrow route)",
        "polars-to-pandas": "polars .to_pandas() then pandas",
    }
    for row in rows:
        base = row["rk"]["seconds"]
        for key, name in names.items():
            r = row[key]
            diff = "-" if key == "rk" else f"{r['difference']:.2g}"
            print(
                f"| {row['transactions']:,} | {r['customers']:,} | {name} | {r['seconds']:.3f} | "
                f"{r['peak_mib']:.0f} ({r['loaded_mib']:.0f}) | {base / r['seconds']:.2f}x | "
                f"{diff} | {r['contention']:.0%} |"
            )


def report(args, rows: list[dict], load: tuple[float, float]) -> None:
    rk0 = rows[0]["rk"]
    lt0 = rows[0].get("lt")
    print(
        '\n### Transaction log -> summary, freq="D"'
        f"{', with monetary value' if args.monetary else ''}\n"
    )
    versions = f"retentionkit {rk0['version']} (pandas {rk0['pandas']})"
    if lt0:
        versions += f"; lifetimes {lt0['version']} (pandas {lt0['pandas']})"
    print(
        f"{os.cpu_count()} cores, {_cpu()}, Python {platform.python_version()}; {versions}; "
        f"seed {args.seed}; best of {args.repeats} calls for retentionkit, of "
        f"{args.lifetimes_repeats} for lifetimes (1 from 3M transactions); waited for "
        f"other processes to use < 5% of the CPUs (up to {args.wait_idle:g} s) before each "
        f"worker; 1-minute load average {load[0]:.1f} before, {load[1]:.1f} after\n"
    )
    print(
        "| transactions | customers | retentionkit s | lifetimes s | speed-up | "
        "rk peak MiB | lt peak MiB | max abs diff | others' CPU (rk / lt) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        rk, lt = row["rk"], row.get("lt")
        lt_s = f"{lt['seconds']:.3f}" if lt else "-"
        ratio = f"{lt['seconds'] / rk['seconds']:.1f}x" if lt else "-"
        lt_mem = f"{lt['peak_mib']:.0f}" if lt else "-"
        diff = f"{row['difference']:.2g}" if lt else "-"
        busy = f"{rk['contention']:.0%}" + (f" / {lt['contention']:.0%}" if lt else "")
        print(
            f"| {row['transactions']:,} | {row['customers']:,} | {rk['seconds']:.3f} | {lt_s} | "
            f"{ratio} | {rk['peak_mib']:.0f} | {lt_mem} | {diff} | {busy} |"
        )
    rk = rows[-1]["rk"]
    if "unique_rows" not in rk:
        return
    print(
        f"\n| BG/NBD fit (retentionkit, {rows[-1]['transactions']:,} transactions) "
        "| rows | time (s) | log-likelihood |"
    )
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
