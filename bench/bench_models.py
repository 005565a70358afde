"""Benchmark retentionkit's fitters against lifetimes 0.11.3 on simulated customers.

Usage (from the repository root, with retentionkit installed in the current interpreter)::

    python bench/bench_models.py --model bgnbd            # BG/NBD, 10k..1M; 10M retentionkit alone
    python bench/bench_models.py --model pnbd,mbgnbd --quick
    python bench/bench_models.py --model all --output BENCHMARKS.md

Models: ``bgnbd`` (BetaGeoFitter), ``mbgnbd`` (ModifiedBetaGeoFitter), ``pnbd``
(ParetoNBDFitter), ``bgbb`` (BetaGeoBetaBinomFitter) and ``clv`` (BetaGeoFitter +
GammaGammaFitter.customer_lifetime_value). lifetimes runs in its own virtualenv,
``bench/.venv-lifetimes`` (created on first use from ``bench/requirements-lifetimes.txt``).
Every measurement runs in a fresh subprocess (``_worker.py``) so that the peak memory
reported is that library's alone.
"""

import argparse
import dataclasses
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

import _simulate
import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
VENV_DIR = BENCH_DIR / ".venv-lifetimes"
REQUIREMENTS = BENCH_DIR / "requirements-lifetimes.txt"
RESULTS_DIR = BENCH_DIR / "results"
WORKER = BENCH_DIR / "_worker.py"

LL_RTOL = 1e-6
CONTENTION_WARN = 0.05
K, M = 10**3, 10**6


@dataclasses.dataclass(frozen=True)
class Model:
    """What to run for one model."""

    title: str
    flavours: tuple  # data variants, each a row per size
    sizes: tuple  # default sizes; those above 1M run retentionkit alone, first flavour only
    lifetimes_max_n: int  # lifetimes is measured up to this size
    lifetimes_single_from: int  # lifetimes runs once (not best of R) from this size
    extrapolate: bool = False  # above lifetimes_max_n, estimate lifetimes' time linearly
    predictions: str = "predict"  # heading of the prediction columns


MODELS = {
    "bgnbd": Model("BG/NBD", ("continuous", "daily"), (10 * K, 100 * K, M, 10 * M), M, M),
    "mbgnbd": Model("MBG/NBD", ("continuous", "daily"), (10 * K, 100 * K, M), M, M),
    "pnbd": Model(
        "Pareto/NBD", ("continuous", "daily"), (10 * K, 100 * K, M), 100 * K, 100 * K, True
    ),
    "bgbb": Model("BG/BB", ("n=6", "n=52"), (10 * K, 100 * K, M), M, M),
    "clv": Model("CLV", ("weekly",), (M,), M, M, predictions="CLV"),
}


# --------------------------------------------------------------------------- data


def simulate(model, flavour, n, seed):
    """The columns the worker loads for (model, flavour), as float64 arrays."""
    if model == "bgbb":
        n_periods = int(flavour.split("=")[1])
        f, r, t = _simulate.bgbb(n, seed, **_simulate.BGBB_PARAMS, n_periods=n_periods)
        return {"frequency": f, "recency": r, "T": t}
    if model == "pnbd":
        f, r, t = _simulate.pnbd(n, seed, **_simulate.PNBD_PARAMS)
    elif model == "mbgnbd":
        f, r, t = _simulate.mbgnbd(n, seed, **_simulate.BGNBD_PARAMS)
    else:
        f, r, t = _simulate.bgnbd(n, seed, **_simulate.BGNBD_PARAMS)
    if flavour == "daily":
        r, t = _simulate.to_daily(r, t)
    data = {"frequency": f, "recency": r, "T": t}
    if model == "clv":
        data["monetary_value"] = _simulate.gamma_gamma_spend(
            f, seed + 1, **_simulate.GAMMA_GAMMA_PARAMS
        )
    return data


def log_likelihood_at(model, params, data):
    """Total log-likelihood of ``data`` at ``params``, evaluated by retentionkit.

    Both libraries' parameters are scored by the same code, so the comparison is of
    optima, not of implementations (lifetimes' own value is a separate cross-check).
    """
    import retentionkit

    if model == "clv":
        model, params = "bgnbd", params["bgnbd"]
    fitter = {
        "bgnbd": retentionkit.BetaGeoFitter,
        "mbgnbd": retentionkit.ModifiedBetaGeoFitter,
        "pnbd": retentionkit.ParetoNBDFitter,
        "bgbb": retentionkit.BetaGeoBetaBinomFitter,
    }[model]()
    try:
        fitter.params_ = params
        ll = fitter.individual_log_likelihood(data["frequency"], data["recency"], data["T"])
    except ValueError:  # parameters outside the model's domain
        return float("nan")
    return float(np.sum(ll))


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
    code = f"import json, _worker as w; print(json.dumps(w.versions(*{list(packages)!r})))"
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


def run_worker(python, args, timeout):
    """Run ``_worker.py`` with ``args``; its JSON result gets ``contention``: the share
    of CPU time that other processes used while it ran (0 on a quiet machine)."""
    cmd = [str(python), str(WORKER), *map(str, args)]
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    library = args[0]
    busy0, own0, wall0 = busy_cpu_seconds(), children_cpu_seconds(), time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=env, cwd=BENCH_DIR, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"library": library, "error": f"stopped after {timeout:.0f} s (--timeout)"}
    busy1, own1, wall1 = busy_cpu_seconds(), children_cpu_seconds(), time.perf_counter()
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        last = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        return {"library": library, "error": f"worker crashed: {last}"[:300]}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if busy0 is not None:
        others = max((busy1 - busy0) - (own1 - own0), 0.0)
        result["contention"] = others / ((wall1 - wall0) * (os.cpu_count() or 1))
    return result


def measure(python, args, wait_idle, timeout, attempts):
    """Run a worker, again (up to ``attempts`` times) while other processes disturb it.

    Keeps the least disturbed run; the predictions file is that of the last run, which
    is fine because the fitted parameters do not depend on timing.
    """
    best = None
    for _ in range(attempts):
        wait_until_idle(wait_idle)
        result = run_worker(python, args, timeout)
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
        row.setdefault("warnings", {})[library] = result.get("warnings", [])
        print(f"; {library} FAILED", end="", flush=True)
    else:
        row[library] = result
        row.setdefault("warnings", {})[library] = result.get("warnings", [])
        print(
            f"; {library} fit {result['fit_s']:.3f}s predict {result['predict_s']:.3f}s",
            end="",
            flush=True,
        )


def compare_predictions(path_a, path_b):
    """Largest relative difference of each prediction, a against b."""
    with np.load(path_a) as a, np.load(path_b) as b:
        out = {}
        for key in a.files:
            x, y = a[key], b[key]
            with np.errstate(invalid="ignore"):
                rel = np.abs(x - y) / np.maximum(np.abs(y), 1e-12)
            out[key] = float(np.nanmax(rel)) if np.isfinite(rel).any() else float("nan")
        return out


def extrapolate(row, measured, factor):
    """lifetimes' times for ``row`` estimated as ``factor`` x those of ``measured``."""
    row["lifetimes"] = {
        "library": "lifetimes",
        "fit_s": measured["fit_s"] * factor,
        "predict_s": measured["predict_s"] * factor,
        "extrapolated_from": measured["n"],
    }


def parse_size(text):
    text = text.strip().lower().replace("_", "")
    for suffix, factor in (("k", K), ("m", M)):
        if text.endswith(suffix):
            return int(float(text[:-1]) * factor)
    return int(text)


def label(n):
    for factor, suffix in ((M, "M"), (K, "k")):
        if n >= factor and n % factor == 0:
            return f"{n // factor}{suffix}"
    return str(n)


def plan(model, sizes, lifetimes_max_n):
    """(flavour, n, lifetimes) in run order; lifetimes is "run", "extrapolate" or None.

    Sizes above 1M run retentionkit alone, first flavour only.
    """
    spec = MODELS[model]
    cases = []
    for n in sizes:
        flavours = spec.flavours if n <= M else spec.flavours[:1]
        if n <= lifetimes_max_n:
            lifetimes = "run"
        elif spec.extrapolate and n <= M:
            lifetimes = "extrapolate"
        else:
            lifetimes = None
        cases += [(flavour, n, lifetimes) for flavour in flavours]
    return cases


# ------------------------------------------------------------------ reporting


def fmt_s(x, estimated=False):
    if x is None:
        return "-"
    text = f"{x:.3f}" if x < 10 else f"{x:.1f}"
    return f"~{text} (est.)" if estimated else text


def fmt_ratio(num, den, estimated=False):
    if num is None or den is None or den <= 0:
        return "-"
    text = f"{num / den:.0f}x" if num / den >= 10 else f"{num / den:.1f}x"
    return f"~{text}" if estimated else text


def fmt_ll(x):
    if x is None:
        return "-"
    return f"{x:.6f}" if math.isfinite(x) else str(x)


def ll_rel_diff(row):
    rk, lt = row.get("retentionkit"), row.get("lifetimes")
    if not rk or not lt or "ll" not in lt:
        return None
    return (rk["ll"] - lt["ll"]) / abs(lt["ll"])


def header(model):
    p = MODELS[model].predictions
    return [
        "flavour",
        "N",
        "unique rows",
        "rk fit s",
        "lt fit s",
        "fit ratio",
        f"rk {p} s",
        f"lt {p} s",
        f"{p} ratio",
        "rk peak MiB",
        "lt peak MiB",
        "rk LL",
        "lt LL",
        "LL rel diff",
        f"{p} max rel diff",
    ]


def table_rows(results):
    rows = []
    for row in results:
        rk, lt = row.get("retentionkit") or {}, row.get("lifetimes") or {}
        errors = row.get("errors", {})
        est = "extrapolated_from" in lt
        diff = ll_rel_diff(row)
        if diff is None or not math.isfinite(diff):
            diff_text = "-"
        else:
            diff_text = f"{diff:+.1e}"
            if diff < -LL_RTOL:  # lifetimes found a higher optimum
                diff_text += " **!**"
        pred = row.get("prediction_max_rel_diff")
        rows.append(
            [
                row["flavour"],
                label(row["n"]),
                f"{row['unique']:,}",
                "failed" if "retentionkit" in errors else fmt_s(rk.get("fit_s")),
                "failed" if "lifetimes" in errors else fmt_s(lt.get("fit_s"), est),
                fmt_ratio(lt.get("fit_s"), rk.get("fit_s"), est),
                fmt_s(rk.get("predict_s")),
                "-" if "lifetimes" in errors else fmt_s(lt.get("predict_s"), est),
                fmt_ratio(lt.get("predict_s"), rk.get("predict_s"), est),
                f"{rk['peak_mib']:.0f}" if rk else "-",
                f"{lt['peak_mib']:.0f}" if "peak_mib" in lt else "-",
                fmt_ll(rk.get("ll")),
                fmt_ll(lt.get("ll")),
                diff_text,
                f"{max(pred.values()):.1e}" if pred else "-",
            ]
        )
    return rows


def markdown_table(model, results):
    head = header(model)
    align = ["---", "---"] + ["---:"] * (len(head) - 2)
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in table_rows(results)]
    return "\n".join(lines)


def text_table(model, results):
    rows = [header(model), *table_rows(results)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows)


def notes(model, results):
    """Findings worth a line under the table: failures, warnings, LL checks, predictions."""
    out = []
    for row in results:
        name = f"{row['flavour']} {label(row['n'])}"
        rk, lt = row.get("retentionkit"), row.get("lifetimes")
        if lt and "extrapolated_from" in lt:
            out.append(
                f"{name}: lifetimes not run; its times are those measured at "
                f"{label(lt['extrapolated_from'])} (same flavour) x "
                f"{row['n'] / lt['extrapolated_from']:.0f}."
            )
        for library in ("retentionkit", "lifetimes"):
            share = (row.get(library) or {}).get("contention", 0.0)
            if share > CONTENTION_WARN:
                out.append(
                    f"{name}: other processes used {share:.0%} of the CPUs while {library} "
                    f"ran; its times are less reliable."
                )
        for library, error in row.get("errors", {}).items():
            out.append(f"{name}: {library} failed: {error}")
        for library, caught in row.get("warnings", {}).items():
            if caught:
                out.append(f"{name}: {library} warned: {'; '.join(caught[:4])}.")
        diff = ll_rel_diff(row)
        if rk and lt and "ll" in lt:
            if math.isfinite(lt["ll"]) and not math.isfinite(rk["ll"]):
                out.append(
                    f"{name}: retentionkit's log-likelihood is {rk['ll']}, lifetimes' finite."
                )
            elif diff is not None and abs(diff) > LL_RTOL:
                better = "retentionkit" if diff > 0 else "lifetimes"
                out.append(
                    f"{name}: log-likelihoods differ by {diff:+.2e} relative "
                    f"({better} found the higher one); params rk {fmt_params(rk)}, "
                    f"lt {fmt_params(lt)}."
                )
            own = lt.get("ll_own")
            if own is not None and not (abs(own - lt["ll"]) <= LL_RTOL * abs(lt["ll"])):
                out.append(
                    f"{name}: lifetimes' own log-likelihood (converted to a total in weeks) is "
                    f"{fmt_ll(own)}; retentionkit evaluates lifetimes' parameters at "
                    f"{fmt_ll(lt['ll'])}."
                )
        if rk and not (abs(rk["ll"] - rk["ll_own"]) <= LL_RTOL * abs(rk["ll_own"])):
            out.append(
                f"{name}: retentionkit's log_likelihood_ {fmt_ll(rk['ll_own'])} differs from the "
                f"sum of individual_log_likelihood at its params, {fmt_ll(rk['ll'])}."
            )
        for library in ("retentionkit", "lifetimes"):
            bad = {
                k: v
                for k, v in (row.get(library) or {}).get("nonfinite_predictions", {}).items()
                if v
            }
            if bad:
                out.append(f"{name}: {library} returned non-finite predictions: {bad}.")
        pred = row.get("prediction_max_rel_diff")
        threshold = LL_RTOL if model == "clv" else 1e-4
        if pred and not max(pred.values()) <= threshold:
            parts = ", ".join(f"{v:.1e} ({k})" for k, v in pred.items())
            out.append(
                f"{name}: predictions differ by more than {threshold:g}: max relative {parts}."
            )
    builds = {row["retentionkit"]["build"] for row in results if row.get("retentionkit")}
    if len(builds) > 1:
        out.append(
            f"retentionkit's native module changed during the run ({len(builds)} builds: "
            f"{', '.join(sorted(builds))}); rerun for consistent numbers."
        )
    return out


def fmt_params(lib):
    params = lib["params"]
    if isinstance(params, dict):
        params = params["bgnbd"]
    return "(" + ", ".join(f"{v:.5g}" for v in params) + ")"


def report(machine, versions, results, args, model):
    lines = [
        f"Machine: {machine['cores']} cores, {machine['cpu']}, "
        f"{machine['memory_gib']:.1f} GiB RAM; {machine['os']}",
    ]
    lines += [f"  {v}" for v in describe_versions(versions)]
    builds = sorted({row["retentionkit"]["build"] for row in results if row.get("retentionkit")})
    if builds:
        lines.append(f"  retentionkit native module sha256 {', '.join(builds)}")
    single = label(MODELS[model].lifetimes_single_from)
    small = label(SMALL_N)
    lines.append(
        f"Timings: best of {args.repeats} (retentionkit; best of {rk_repeats(args, SMALL_N)} "
        f"for N <= {small}), best of {args.lifetimes_repeats} "
        f"(lifetimes; 1 for N >= {single}); seed {args.seed}."
    )
    return lines


#: Up to this many customers a retentionkit run takes milliseconds, where
#: scheduling noise (waking the thread pool) is as large as the time itself.
SMALL_N = 100_000


def rk_repeats(args, n):
    """Best of how many runs for retentionkit: more for millisecond-scale runs."""
    return max(args.repeats, 15) if n <= SMALL_N else args.repeats


def markers(model):
    return f"<!-- bench:{model}:begin -->", f"<!-- bench:{model}:end -->"


def write_markdown(path, model, machine_lines, results, finding_lines):
    begin, end = markers(model)
    command = " ".join(["python bench/bench_models.py", *sys.argv[1:]])
    body = [
        begin,
        f"Measured {time.strftime('%Y-%m-%d')} with `{command}`.",
        "",
        *[f"- {line.strip()}" for line in machine_lines],
        "",
        markdown_table(model, results),
        "",
    ]
    if finding_lines:
        body += ["Notes from this run:", "", *[f"- {line}" for line in finding_lines], ""]
    body.append(end)
    section = "\n".join(body)
    path = Path(path)
    text = path.read_text() if path.exists() else ""
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + section + "\n"
    path.write_text(text)


# ----------------------------------------------------------------------- main


def run_model(model, sizes, args, lt_python, tmp):
    """Measure every (flavour, size) of one model; return the rows."""
    spec = MODELS[model]
    lifetimes_max_n = args.lifetimes_max_n or spec.lifetimes_max_n
    results = []
    for flavour, n, lifetimes in plan(model, sizes, lifetimes_max_n):
        data = simulate(model, flavour, n, args.seed + n)
        data_path = tmp / f"{model}_{flavour}_{n}.npz"
        np.savez(data_path, **data)
        unique = _simulate.count_unique_rows(data["frequency"], data["recency"], data["T"])
        row = {"model": model, "flavour": flavour, "n": n, "unique": unique}
        print(f"{model:>6} {flavour:>10} {label(n):>4}: {unique:,} unique rows", end="", flush=True)
        rk_out, lt_out = tmp / "rk.npz", tmp / "lt.npz"
        lt_json = tmp / "lt.json"
        if lt_python and lifetimes == "run":
            repeats = 1 if n >= spec.lifetimes_single_from else args.lifetimes_repeats
            argv = ["lifetimes", model, data_path, "--repeats", repeats, "--predictions", lt_out]
            lt = measure(lt_python, argv, args.wait_idle, args.timeout, args.attempts)
            record(row, lt)
            lt_json.write_text(json.dumps(lt))
        if not args.skip_retentionkit:
            argv = ["retentionkit", model, data_path, "--repeats", rk_repeats(args, n)]
            argv += ["--predictions", rk_out]
            if model == "clv" and "lifetimes" in row:
                argv += ["--params-from", lt_json]  # predict with lifetimes' parameters
            record(row, measure(sys.executable, argv, args.wait_idle, args.timeout, args.attempts))
        if lt_python and lifetimes == "extrapolate":
            measured = [
                r for r in results if r["flavour"] == flavour and "n" in (r.get("lifetimes") or {})
            ]
            if measured:
                source = max(measured, key=lambda r: r["n"])["lifetimes"]
                extrapolate(row, source, n / source["n"])
        for library in ("retentionkit", "lifetimes"):
            result = row.get(library)
            if result and "params" in result:
                result["ll"] = log_likelihood_at(model, result["params"], data)
        if "ll" in (row.get("retentionkit") or {}) and "peak_mib" in (row.get("lifetimes") or {}):
            row["prediction_max_rel_diff"] = compare_predictions(rk_out, lt_out)
        print(flush=True)
        results.append(row)
        data_path.unlink()
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--model",
        default="bgnbd",
        help=f"comma-separated, from {', '.join(MODELS)}; or 'all' (default bgnbd)",
    )
    parser.add_argument("--sizes", help="comma-separated N, e.g. 10k,100k,1M (default per model)")
    parser.add_argument("--quick", action="store_true", help="10k and 100k only")
    parser.add_argument("--skip-lifetimes", action="store_true", help="time retentionkit only")
    parser.add_argument("--skip-retentionkit", action="store_true", help="time lifetimes only")
    parser.add_argument(
        "--output", help="rewrite each model's results section of this markdown file"
    )
    parser.add_argument("--seed", type=int, default=20050501)
    parser.add_argument(
        "--repeats", type=int, default=3, help="best of R for retentionkit (default 3)"
    )
    parser.add_argument(
        "--lifetimes-repeats",
        type=int,
        default=3,
        help="best of R for lifetimes at small sizes (default 3; 1 from a per-model size)",
    )
    parser.add_argument(
        "--lifetimes-max-n",
        type=parse_size,
        help="run lifetimes up to this size (default per model: 1M; 100k for pnbd)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="stop a worker after this long and report it as failed (default 3600)",
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="before each measurement, wait up to this long for other processes to go quiet",
    )
    parser.add_argument(
        "--attempts",
        type=int,
        default=3,
        help="run a measurement up to this many times while others disturb it (default 3)",
    )
    args = parser.parse_args(argv)
    models = list(MODELS) if args.model == "all" else args.model.split(",")
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from {', '.join(MODELS)}")

    lt_python = None if args.skip_lifetimes else ensure_lifetimes_venv()
    machine = machine_description()
    versions = {}
    if not args.skip_retentionkit:
        versions["retentionkit"] = interpreter_versions(
            sys.executable, "retentionkit", "numpy", "pandas"
        )
    if lt_python:
        versions["lifetimes"] = interpreter_versions(
            lt_python, "lifetimes", "numpy", "pandas", "scipy", "autograd"
        )
    print("\n".join(report(machine, versions, [], args, models[0])[:-1]), flush=True)

    RESULTS_DIR.mkdir(exist_ok=True)
    for model in models:
        if args.sizes:
            sizes = [parse_size(s) for s in args.sizes.split(",")]
        elif args.quick:
            sizes = [n for n in MODELS[model].sizes if n <= 100 * K] or [10 * K]
        else:
            sizes = list(MODELS[model].sizes)
        with tempfile.TemporaryDirectory(prefix="bench_models_") as tmp:
            results = run_model(model, sizes, args, lt_python, Path(tmp))

        machine_lines = report(machine, versions, results, args, model)
        finding_lines = notes(model, results)
        print(f"\n{MODELS[model].title}\n")
        print(text_table(model, results))
        if finding_lines:
            print()
            print("\n".join(finding_lines))
        raw = RESULTS_DIR / f"{model}-{time.strftime('%Y%m%dT%H%M%S')}.json"
        raw.write_text(
            json.dumps(
                {
                    "model": model,
                    "machine": machine,
                    "versions": versions,
                    "args": vars(args),
                    "driver_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                    "results": results,
                },
                indent=1,
            )
        )
        print(f"\nraw results: {raw.relative_to(BENCH_DIR.parent)}\n")
        if args.output:
            write_markdown(args.output, model, machine_lines, results, finding_lines)
            print(f"rewrote the {model} section of {args.output}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
