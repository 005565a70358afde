"""Time fits and predictions with time-invariant covariates against the same model
without them, in the same run (issue 13's speed targets: a covariate fit at most 5x
the plain fit, predictions with covariates at most 2x those without, at 1M customers).

Customers are simulated from a Pareto/NBD at daily resolution (purchase rates
Gamma(0.6, 70 days), drop-out rates Gamma(0.8, 400 days), ages uniform over one to
365 days, times rounded to whole days) with two covariates per process, one binary
and one standard normal, that move alpha and beta (coefficients 0.5, -0.3 and 0.4,
0.2). Each model (Pareto/NBD and BG/NBD) is fitted with and without the covariates
through the native classes (``retentionkit._core``), each measurement in a fresh
process, which reports its time (best of ``--repeats``) and peak memory
(``VmHWM``, see ``_memory.py``). "pandas prep" is the time the pandas layer adds to
a fitter's covariate fit before the native one (the covariate DataFrames turned into
the matrix and design), measured apart.

    python bench/bench_covariates.py                       # 100k and 1M customers
    python bench/bench_covariates.py --sizes 100k          # quicker

Prints a markdown table.
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

HORIZON_DAYS = 90.0


def simulate(n: int, seed: int) -> dict[str, np.ndarray]:
    """Pareto/NBD customers with covariates (see the module docstring)."""
    rng = np.random.default_rng(seed)
    binary = (rng.random(n) < 0.5).astype(float)
    normal = rng.standard_normal(n)
    z = np.column_stack([binary, normal])
    alpha_i = 70.0 * np.exp(-(z @ np.array([0.5, -0.3])))
    beta_i = 400.0 * np.exp(-(z @ np.array([0.4, 0.2])))
    lam = rng.gamma(0.6, 1.0 / alpha_i)
    mu = rng.gamma(0.8, 1.0 / beta_i)
    age = rng.integers(1, 366, n).astype(float)
    lifetime = rng.exponential(1.0 / mu)
    active = np.minimum(lifetime, age)
    x = rng.poisson(lam * active).astype(float)
    # The last of x uniform purchase times in (0, active), rounded down to days.
    last = active * rng.random(n) ** (1.0 / np.maximum(x, 1.0))
    recency = np.where(x > 0, np.floor(last), 0.0)
    x = np.where((x > 0) & (recency == 0), 0.0, x)  # same day as the first purchase
    return {"frequency": x, "recency": recency, "T": age, "z": np.ascontiguousarray(z)}


def worker(path: str, model: str, covariates: bool, repeats: int) -> None:
    """Fit (and predict) once per repeat; print one JSON line."""
    from retentionkit import _core

    data = np.load(path)
    x, tx, t, z = data["frequency"], data["recency"], data["T"], data["z"]
    horizon = np.full(len(x), HORIZON_DAYS)
    fits, predictions = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        if covariates:
            cls = getattr(_core, f"{model}CovariatesModel")
            processes = len(cls.PROCESSES)
            fitted = cls.fit(x, tx, t, z, ["binary", "normal"], [[0, 1]] * processes, [])
        else:
            fitted = getattr(_core, f"{model}Model").fit(x, tx, t)
        fits.append(time.perf_counter() - start)
        start = time.perf_counter()
        if covariates:
            fitted.conditional_expected_number_of_purchases_up_to_time(horizon, x, tx, t, z)
        else:
            fitted.conditional_expected_number_of_purchases_up_to_time(horizon, x, tx, t)
        predictions.append(time.perf_counter() - start)
    out = {
        "prep_s": python_preparation(model, z, repeats) if covariates else 0.0,
        "fit_s": min(fits),
        "predict_s": min(predictions),
        "log_likelihood": fitted.log_likelihood,
        "params": dict(
            zip(fitted.param_names if covariates else fitted.PARAM_NAMES, map(float, fitted.params))
        ),
        "peak_mib": peak_mib(),
    }
    if not covariates:
        out["distinct_rows"] = fitted.n_unique
    print(json.dumps(out))


def python_preparation(model: str, z: np.ndarray, repeats: int) -> float:
    """Best time of the pandas layer's part of a covariate fit: from the DataFrames
    of covariates a fitter is given to the matrix and design the native fit takes
    (``retentionkit._covariates.fit_design``: alignment, checks, encoding,
    collinearity)."""
    import pandas as pd

    from retentionkit import _core
    from retentionkit._covariates import fit_design

    processes = getattr(_core, f"{model}CovariatesModel").PROCESSES
    frame = pd.DataFrame({"binary": z[:, 0], "normal": z[:, 1]})
    given = {"purchase": frame, "dropout": frame}
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fit_design(processes, given, [], 0.0, frame.index)
        times.append(time.perf_counter() - start)
    return min(times)


def parse_size(text: str) -> int:
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * factor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100k,1M", help="numbers of customers")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        path, model, covariates = args.worker
        worker(path, model, covariates == "1", args.repeats)
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in map(parse_size, args.sizes.split(",")):
            path = os.path.join(tmp, f"customers_{size}.npz")
            np.savez(path, **simulate(size, args.seed))
            for model, label in (("ParetoNBD", "Pareto/NBD"), ("BetaGeo", "BG/NBD")):
                result = {}
                for covariates in ("0", "1"):
                    command = [
                        sys.executable,
                        str(Path(__file__).resolve()),
                        "--repeats",
                        str(args.repeats),
                        "--worker",
                        path,
                        model,
                        covariates,
                    ]
                    line = subprocess.run(command, check=True, capture_output=True, text=True)
                    result[covariates] = json.loads(line.stdout.strip().splitlines()[-1])
                    print(
                        f"  {label} {size:,} customers, covariates={covariates}: "
                        f"{result[covariates]}",
                        file=sys.stderr,
                    )
                plain, cov = result["0"], result["1"]
                rows.append(
                    f"| {label} | {size:,} | {plain['distinct_rows']:,} | {plain['fit_s']:.2f} | "
                    f"{cov['fit_s']:.2f} | {cov['fit_s'] / plain['fit_s']:.1f}x | "
                    f"{cov['prep_s']:.2f} | "
                    f"{plain['predict_s']:.3f} | {cov['predict_s']:.3f} | "
                    f"{cov['predict_s'] / plain['predict_s']:.1f}x | "
                    f"{plain['peak_mib']:.0f} / {cov['peak_mib']:.0f} |"
                )
    print(
        f"\n{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}; best of {args.repeats}; seed {args.seed}\n"
    )
    print(
        "| model | customers | distinct rows (plain) | fit s, plain | fit s, covariates | "
        "ratio | pandas prep s | predict s, plain | predict s, covariates | ratio | "
        "peak MiB plain / cov |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
