"""Benchmark retentionkit's BetaGeoFitter against lifetimes 0.11.3 on simulated BG/NBD data.

Usage (from the repository root, with retentionkit installed in the current interpreter)::

    python bench/bench_bgnbd.py                   # 10k, 100k, 1M; and 10M retentionkit alone
    python bench/bench_bgnbd.py --quick           # 10k and 100k only
    python bench/bench_bgnbd.py --skip-lifetimes  # retentionkit only
    python bench/bench_bgnbd.py --output BENCHMARKS.md

lifetimes runs in its own virtualenv, ``bench/.venv-lifetimes`` (created on first use
from ``bench/requirements-lifetimes.txt``). Every measurement runs in a fresh
subprocess (``_lifetimes_worker.py`` / ``_retentionkit_worker.py``) so that the peak
memory reported is that library's alone.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
VENV_DIR = BENCH_DIR / ".venv-lifetimes"
REQUIREMENTS = BENCH_DIR / "requirements-lifetimes.txt"
RESULTS_DIR = BENCH_DIR / "results"

# Population parameters: FHL (2005) estimates for the CDNOW sample, time in weeks.
TRUE_PARAMS = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
T_RANGE = (27.0, 39.0)
LL_RTOL = 1e-6
CONTENTION_WARN = 0.05

BEGIN_MARK = "<!-- bench_bgnbd:begin -->"
END_MARK = "<!-- bench_bgnbd:end -->"


# --------------------------------------------------------------------------- data


def simulate_bgnbd(n, seed, r, alpha, a, b, t_range=T_RANGE):
    """Draw ``n`` BG/NBD customers; return (frequency, recency, T) as float64 arrays.

    lambda ~ Gamma(shape r, rate alpha), p ~ Beta(a, b), T ~ Uniform(t_range).
    Repeat purchases follow a Poisson process with rate lambda; after each repeat
    purchase the customer becomes inactive with probability p. frequency is the
    number of repeat purchases in (0, T], recency the time of the last one (0 if none).

    Vectorised over customers: the loop runs over the purchase index, on the
    shrinking set of customers who are still alive and inside their window.
    """
    rng = np.random.default_rng(seed)
    lam = rng.gamma(shape=r, scale=1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    T = rng.uniform(*t_range, size=n)
    frequency = np.zeros(n)
    recency = np.zeros(n)

    active = np.arange(n)  # alive and last purchase inside (0, T]
    clock = np.zeros(n)
    while active.size:
        clock[active] += rng.exponential(size=active.size) / lam[active]
        inside = clock[active] <= T[active]
        active = active[inside]
        frequency[active] += 1.0
        recency[active] = clock[active]
        survives = rng.random(active.size) >= p[active]
        active = active[survives]
    return frequency, recency, T


def to_daily(recency, T):
    """Round recency and T (weeks) to whole days, keeping recency <= T."""
    T_daily = np.round(T * 7.0) / 7.0
    recency_daily = np.minimum(np.round(recency * 7.0) / 7.0, T_daily)
    return recency_daily, T_daily


def count_unique_rows(frequency, recency, T):
    order = np.lexsort((T, recency, frequency))
    f, r, t = frequency[order], recency[order], T[order]
    new = np.ones(f.size, dtype=bool)
    new[1:] = (f[1:] != f[:-1]) | (r[1:] != r[:-1]) | (t[1:] != t[:-1])
    return int(new.sum())


# ----------------------------------------------------------------- environment


def venv_python():
    return VENV_DIR / "bin" / "python"


def ensure_lifetimes_venv():
    """Create bench/.venv-lifetimes once; check that lifetimes imports."""
    python = venv_python()
    check = [str(python), "-c", "import lifetimes; from lifetimes import BetaGeoFitter"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"creating {VENV_DIR} (lifetimes 0.11.3) ...", file=sys.stderr, flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(VENV_DIR)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
    subprocess.run(check, check=True)
    return python


def machine_description():
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "?"
    mem_gib = float("nan")
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = int(line.split()[1]) / 1024**2
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cores": cores, "cpu": cpu, "memory_gib": mem_gib, "os": platform.platform()}


def interpreter_versions(python, *packages):
    """Python and package versions of another interpreter, asked in a subprocess."""
    code = f"import json, _worker_common as c; print(json.dumps(c.versions(*{list(packages)!r})))"
    proc = subprocess.run([str(python), "-c", code], capture_output=True, text=True, cwd=BENCH_DIR)
    return json.loads(proc.stdout) if proc.returncode == 0 else None


def describe_versions(versions):
    """One line per library, from ``{library: versions dict}``."""
    lines = []
    for library, v in versions.items():
        if v is None:
            lines.append(f"{library}: not importable")
            continue
        others = ", ".join(
            f"{k} {val}" for k, val in v.items() if k not in ("executable", library, "python")
        )
        lines.append(f"{library} {v.get(library)} (Python {v['python']}; {others})")
    return lines


# ------------------------------------------------------------------ measuring


def busy_cpu_seconds():
    """CPU seconds spent by all processes on the machine since boot (/proc/stat), or None."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def other_load(seconds=3.0):
    """Share of the machine's CPU used by other processes over the next ``seconds``."""
    before = busy_cpu_seconds()
    time.sleep(seconds)
    after = busy_cpu_seconds()
    if before is None or after is None:
        return 0.0
    return (after - before) / (seconds * (os.cpu_count() or 1))


def wait_until_idle(max_wait, threshold=0.05):
    """Wait (up to ``max_wait`` s) until other processes use under ``threshold`` of the CPUs."""
    deadline = time.monotonic() + max_wait
    waited = False
    while True:
        load = other_load()
        if load < threshold or time.monotonic() >= deadline:
            return load
        if not waited:
            print(f" [busy: others use {load:.0%} of the CPUs; waiting]", end="", flush=True)
            waited = True


def run_worker(python, worker, data_path, repeats, predictions_path):
    """Run one worker; its JSON result gets ``contention``: the share of CPU time that
    other processes used while it ran (0 on a quiet machine)."""
    cmd = [str(python), str(BENCH_DIR / worker), str(data_path), "--repeats", str(repeats)]
    cmd += ["--predictions", str(predictions_path)]
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    busy0, own0, wall0 = busy_cpu_seconds(), children_cpu_seconds(), time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=BENCH_DIR)
    busy1, own1, wall1 = busy_cpu_seconds(), children_cpu_seconds(), time.perf_counter()
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        last = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        library = "lifetimes" if "lifetimes" in worker else "retentionkit"
        return {"library": library, "error": f"worker crashed: {last}"[:300]}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if busy0 is not None:
        others = max((busy1 - busy0) - (own1 - own0), 0.0)
        result["contention"] = others / ((wall1 - wall0) * (os.cpu_count() or 1))
    return result


def measure(python, worker, data_path, repeats, predictions_path, wait_idle, attempts=3):
    """Run a worker, again (up to ``attempts`` times) while other processes disturb it.

    Keeps the least disturbed run; the predictions file is that of the last run, which
    is fine because the fitted parameters do not depend on timing.
    """
    best = None
    for _ in range(attempts):
        wait_until_idle(wait_idle)
        result = run_worker(python, worker, data_path, repeats, predictions_path)
        if best is None or result.get("contention", 0.0) < best.get("contention", 0.0):
            best = result
        if "error" in result or result.get("contention", 0.0) <= CONTENTION_WARN:
            break
    return best


def record(row, result):
    """Store a worker's result in the row (or its error) and print a progress note."""
    library = result["library"]
    if "error" in result:
        row.setdefault("errors", {})[library] = result["error"]
        print(f"; {library} FAILED", end="", flush=True)
    else:
        row[library] = result
        print(
            f"; {library} fit {result['fit_s']:.3f}s predict {result['predict_s']:.3f}s",
            end="",
            flush=True,
        )


def compare_predictions(path_a, path_b):
    with np.load(path_a) as a, np.load(path_b) as b:
        out = {}
        for key in ("expected", "alive"):
            x, y = a[key], b[key]
            out[key] = float(np.max(np.abs(x - y) / np.maximum(np.abs(y), 1e-12)))
        return out


def parse_size(text):
    text = text.strip().lower().replace("_", "")
    for suffix, factor in (("k", 10**3), ("m", 10**6)):
        if text.endswith(suffix):
            return int(float(text[:-1]) * factor)
    return int(text)


def label(n):
    for factor, suffix in ((10**6, "M"), (10**3, "k")):
        if n >= factor and n % factor == 0:
            return f"{n // factor}{suffix}"
    return str(n)


def plan(sizes, lifetimes_max_n):
    """(flavour, n, with_lifetimes) in run order.

    Sizes above ``lifetimes_max_n`` run retentionkit alone, continuous flavour only.
    """
    cases = []
    for n in sizes:
        flavours = ("continuous", "daily") if n <= lifetimes_max_n else ("continuous",)
        for flavour in flavours:
            cases.append((flavour, n, n <= lifetimes_max_n))
    return cases


# ------------------------------------------------------------------ reporting


def fmt_s(x):
    if x is None:
        return "-"
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def fmt_ratio(num, den):
    if num is None or den is None or den <= 0:
        return "-"
    return f"{num / den:.0f}x" if num / den >= 10 else f"{num / den:.1f}x"


def fmt_ll(x):
    return "-" if x is None else f"{x:.6f}"


def ll_rel_diff(row):
    rk, lt = row.get("retentionkit"), row.get("lifetimes")
    if not rk or not lt:
        return None
    return (rk["ll"] - lt["ll"]) / abs(lt["ll"])


HEADER = [
    "flavour",
    "N",
    "unique rows",
    "rk fit s",
    "lt fit s",
    "fit ratio",
    "rk predict s",
    "lt predict s",
    "predict ratio",
    "rk peak MiB",
    "lt peak MiB",
    "rk LL",
    "lt LL",
    "LL rel diff",
]


def table_rows(results):
    rows = []
    for row in results:
        rk, lt = row.get("retentionkit") or {}, row.get("lifetimes") or {}
        errors = row.get("errors", {})
        diff = ll_rel_diff(row)
        if diff is None:
            diff_text = "-"
        else:
            diff_text = f"{diff:+.1e}"
            if abs(diff) > LL_RTOL:
                diff_text += " **!**"
        rows.append(
            [
                row["flavour"],
                label(row["n"]),
                f"{row['unique']:,}",
                "failed" if "retentionkit" in errors else fmt_s(rk.get("fit_s")),
                "failed" if "lifetimes" in errors else fmt_s(lt.get("fit_s")),
                fmt_ratio(lt.get("fit_s"), rk.get("fit_s")),
                fmt_s(rk.get("predict_s")),
                fmt_s(lt.get("predict_s")),
                fmt_ratio(lt.get("predict_s"), rk.get("predict_s")),
                f"{rk['peak_mib']:.0f}" if rk else "-",
                f"{lt['peak_mib']:.0f}" if lt else "-",
                fmt_ll(rk.get("ll")),
                fmt_ll(lt.get("ll")),
                diff_text,
            ]
        )
    return rows


def markdown_table(results):
    align = ["---", "---"] + ["---:"] * (len(HEADER) - 2)
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in table_rows(results)]
    return "\n".join(lines)


def text_table(results):
    rows = [HEADER, *table_rows(results)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows)


def notes(results):
    """Findings worth a line under the table: LL disagreements, self-checks, prediction diffs."""
    out = []
    for row in results:
        name = f"{row['flavour']} {label(row['n'])}"
        for library in ("retentionkit", "lifetimes"):
            share = (row.get(library) or {}).get("contention", 0.0)
            if share > CONTENTION_WARN:
                out.append(
                    f"{name}: other processes used {share:.0%} of the CPUs while {library} "
                    f"ran; its times are less reliable."
                )
        for library, error in row.get("errors", {}).items():
            out.append(f"{name}: {library} failed: {error}")
        rk, lt = row.get("retentionkit"), row.get("lifetimes")
        diff = ll_rel_diff(row)
        if diff is not None and abs(diff) > LL_RTOL:
            better = "retentionkit" if diff > 0 else "lifetimes"
            out.append(
                f"{name}: log-likelihoods differ by {diff:+.2e} relative "
                f"({better} found the higher one); params rk {fmt_params(rk)}, lt {fmt_params(lt)}."
            )
        if rk and abs(rk["ll"] - rk["ll_eq6"]) > LL_RTOL * abs(rk["ll_eq6"]):
            out.append(
                f"{name}: retentionkit's log_likelihood_ {rk['ll']:.6f} differs from FHL eq. (6) "
                f"at its own params, {rk['ll_eq6']:.6f}."
            )
        if lt and abs(lt["ll"] - lt["ll_from_reported"]) > LL_RTOL * abs(lt["ll"]):
            out.append(
                f"{name}: FHL eq. (6) at lifetimes' params, {lt['ll']:.6f}, differs from "
                f"lifetimes' own value converted to a total in the original time units, "
                f"{lt['ll_from_reported']:.6f}."
            )
        pred = row.get("prediction_max_rel_diff")
        if pred and max(pred.values()) > 1e-4:
            out.append(
                f"{name}: predictions differ: max relative difference {pred['expected']:.1e} "
                f"(expected purchases), {pred['alive']:.1e} (P(alive))."
            )
    builds = {row["retentionkit"]["build"] for row in results if row.get("retentionkit")}
    if len(builds) > 1:
        out.append(
            f"retentionkit's native module changed during the run ({len(builds)} builds: "
            f"{', '.join(sorted(builds))}); rerun for consistent numbers."
        )
    return out


def fmt_params(lib):
    return "(" + ", ".join(f"{v:.5g}" for v in lib["params"]) + ")"


def report(machine, versions, results, args):
    lines = [
        f"Machine: {machine['cores']} cores, {machine['cpu']}, "
        f"{machine['memory_gib']:.1f} GiB RAM; {machine['os']}",
    ]
    lines += [f"  {v}" for v in describe_versions(versions)]
    builds = sorted({row["retentionkit"]["build"] for row in results if row.get("retentionkit")})
    if builds:
        lines.append(f"  retentionkit native module sha256 {', '.join(builds)}")
    lines.append(
        f"Timings: best of {args.repeats} (retentionkit), best of {args.lifetimes_repeats} "
        f"(lifetimes; 1 for N >= 1M); seed {args.seed}."
    )
    return lines


def write_markdown(path, machine_lines, results, finding_lines):
    date = time.strftime("%Y-%m-%d")
    command = " ".join(["python bench/bench_bgnbd.py", *sys.argv[1:]])
    body = [
        BEGIN_MARK,
        f"Measured {date} with `{command}`.",
        "",
        *[f"- {line.strip()}" for line in machine_lines],
        "",
        "rk = retentionkit, lt = lifetimes; times in seconds.",
        "",
        markdown_table(results),
        "",
    ]
    if finding_lines:
        body += ["Notes from this run:", "", *[f"- {line}" for line in finding_lines], ""]
    body.append(END_MARK)
    section = "\n".join(body)
    path = Path(path)
    text = path.read_text() if path.exists() else ""
    if BEGIN_MARK in text and END_MARK in text:
        head, rest = text.split(BEGIN_MARK, 1)
        tail = rest.split(END_MARK, 1)[1]
        text = head + section + tail
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + section + "\n"
    path.write_text(text)


# ----------------------------------------------------------------------- main


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes", help="comma-separated N, e.g. 10k,100k,1M,10M (default: all four)"
    )
    parser.add_argument("--quick", action="store_true", help="10k and 100k only")
    parser.add_argument("--skip-lifetimes", action="store_true", help="time retentionkit only")
    parser.add_argument("--skip-retentionkit", action="store_true", help="time lifetimes only")
    parser.add_argument(
        "--output", help="rewrite the results section of this markdown file (BENCHMARKS.md)"
    )
    parser.add_argument("--seed", type=int, default=20050501)
    parser.add_argument(
        "--repeats", type=int, default=3, help="best of R for retentionkit (default 3)"
    )
    parser.add_argument(
        "--lifetimes-repeats",
        type=int,
        default=3,
        help="best of R for lifetimes below 1M (default 3; 1 at >= 1M)",
    )
    parser.add_argument(
        "--lifetimes-max-n",
        type=parse_size,
        default=10**6,
        help="larger sizes run retentionkit alone, continuous flavour only (default 1M)",
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="before each measurement, wait up to this long for other processes to go quiet",
    )
    args = parser.parse_args(argv)

    if args.sizes:
        sizes = [parse_size(s) for s in args.sizes.split(",")]
    elif args.quick:
        sizes = [10**4, 10**5]
    else:
        sizes = [10**4, 10**5, 10**6, 10**7]

    with_lifetimes = not args.skip_lifetimes
    with_retentionkit = not args.skip_retentionkit
    lt_python = ensure_lifetimes_venv() if with_lifetimes else None

    machine = machine_description()
    versions = {}
    if with_retentionkit:
        versions["retentionkit"] = interpreter_versions(
            sys.executable, "retentionkit", "numpy", "pandas"
        )
    if with_lifetimes:
        versions["lifetimes"] = interpreter_versions(
            lt_python, "lifetimes", "numpy", "pandas", "scipy", "autograd"
        )
    print("\n".join(report(machine, versions, [], args)), flush=True)

    results = []
    with tempfile.TemporaryDirectory(prefix="bench_bgnbd_") as tmp:
        tmp = Path(tmp)
        for flavour, n, lifetimes_here in plan(sizes, args.lifetimes_max_n):
            frequency, recency, T = simulate_bgnbd(n, args.seed + n, **TRUE_PARAMS)
            if flavour == "daily":
                recency, T = to_daily(recency, T)
            data_path = tmp / f"{flavour}_{n}.npz"
            np.savez(data_path, frequency=frequency, recency=recency, T=T)
            row = {"flavour": flavour, "n": n, "unique": count_unique_rows(frequency, recency, T)}
            del frequency, recency, T
            print(f"{flavour:>10} {label(n):>4}: {row['unique']:,} unique rows", end="", flush=True)
            if with_retentionkit:
                rk = measure(
                    sys.executable,
                    "_retentionkit_worker.py",
                    data_path,
                    args.repeats,
                    tmp / "rk.npz",
                    args.wait_idle,
                )
                record(row, rk)
            if with_lifetimes and lifetimes_here:
                repeats = 1 if n >= 10**6 else args.lifetimes_repeats
                lt = measure(
                    lt_python,
                    "_lifetimes_worker.py",
                    data_path,
                    repeats,
                    tmp / "lt.npz",
                    args.wait_idle,
                )
                record(row, lt)
                if "retentionkit" in row and "lifetimes" in row:
                    row["prediction_max_rel_diff"] = compare_predictions(
                        tmp / "rk.npz", tmp / "lt.npz"
                    )
            print(flush=True)
            results.append(row)
            data_path.unlink()

    machine_lines = report(machine, versions, results, args)
    finding_lines = notes(results)
    print()
    print("\n".join(machine_lines))
    print()
    print(text_table(results))
    if finding_lines:
        print()
        print("\n".join(finding_lines))

    RESULTS_DIR.mkdir(exist_ok=True)
    raw = RESULTS_DIR / f"bgnbd-{time.strftime('%Y%m%dT%H%M%S')}.json"
    raw.write_text(
        json.dumps(
            {
                "machine": machine,
                "versions": versions,
                "args": vars(args),
                "driver_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "results": results,
            },
            indent=1,
        )
    )
    print(f"\nraw results: {raw.relative_to(BENCH_DIR.parent)}")
    if args.output:
        write_markdown(args.output, machine_lines, results, finding_lines)
        print(f"rewrote the results section of {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
