"""Time subscriber-level sBG and BdW fits and predictions with three categorical
covariates (issue 15's benchmark: 1M subscribers, fit under 1 s on 2 cores thanks to
compression on (periods, churned, covariates)).

Subscribers are simulated from the model with covariates itself (the native
``simulate``): a plan (3 levels), a channel (4 levels) and a region (2 levels), as
dummy columns entering both alpha and beta, observed for 1 to 24 monthly periods.
Each measurement runs in a fresh process, which reports the fit time, the time of two
per-subscriber predictions (probability of renewal and DERL at 1% per period) and its
peak memory (``VmHWM``, see ``_memory.py``).

    python bench/bench_subscribers.py                  # 100k and 1M subscribers
    python bench/bench_subscribers.py --sizes 100k     # quicker

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

#: Dummy columns of plan (b, c), channel (b, c, d) and region (b).
COLUMNS = ["plan[b]", "plan[c]", "channel[b]", "channel[c]", "channel[d]", "region[b]"]
ALPHA = [0.4, -0.3, 0.2, 0.1, -0.2, 0.3]
BETA = [-0.2, 0.4, 0.0, -0.3, 0.2, 0.1]
BASE = {"ShiftedBetaGeometric": [1.2, 3.0], "BetaDiscreteWeibull": [1.2, 3.0, 0.7]}


def design() -> tuple[list[str], list[list[int]], list[int]]:
    k = len(COLUMNS)
    return COLUMNS, [list(range(k)), list(range(k))], []


def simulate(model: str, n: int, seed: int) -> dict[str, np.ndarray]:
    from retentionkit import _core

    rng = np.random.default_rng(seed)
    plan = rng.integers(0, 3, n)
    channel = rng.integers(0, 4, n)
    region = rng.integers(0, 2, n)
    z = np.column_stack(
        [
            plan == 1,
            plan == 2,
            channel == 1,
            channel == 2,
            channel == 3,
            region == 1,
        ]
    ).astype(np.float64)
    cls = getattr(_core, f"{model}CovariatesModel")
    truth = cls.from_params(BASE[model] + ALPHA + BETA, *design())
    horizons = rng.integers(1, 25, n).astype(np.float64)
    periods, churned, _ = truth.simulate(horizons, np.ascontiguousarray(z), seed)
    return {"periods": periods, "churned": churned, "z": np.ascontiguousarray(z)}


def worker(path: str, model: str, repeats: int) -> None:
    from retentionkit import _core

    data = np.load(path)
    periods, churned, z = data["periods"], data["churned"], data["z"]
    cls = getattr(_core, f"{model}CovariatesModel")
    fits, predictions = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        fitted = cls.fit(periods, churned, z, *design())
        fits.append(time.perf_counter() - start)
        start = time.perf_counter()
        fitted.subscriber_prediction("renewal", periods, None, z)
        fitted.subscriber_prediction(
            "discounted_residual_lifetime", periods, np.full(len(periods), 0.01), z
        )
        predictions.append(time.perf_counter() - start)
    print(
        json.dumps(
            {
                "fit": min(fits),
                "predict": min(predictions),
                "peak": peak_mib(),
                "params": [float(v) for v in fitted.params],
                "converged": bool(fitted.converged),
            }
        )
    )


def recovery(model: str, n: int, seed: int) -> list[str]:
    """Simulate-then-refit with two covariates (a binary, a standard normal) at ``n``
    subscribers: each estimate against the truth, in standard errors."""
    from retentionkit import _core

    rng = np.random.default_rng(seed)
    z = np.ascontiguousarray(
        np.column_stack([(rng.random(n) < 0.5).astype(float), rng.standard_normal(n)])
    )
    columns, by_process = ["binary", "normal"], [[0, 1], [0, 1]]
    truth = BASE[model] + [0.5, -0.3, -0.4, 0.2]
    cls = getattr(_core, f"{model}CovariatesModel")
    horizons = rng.integers(1, 25, n).astype(np.float64)
    periods, churned, _ = cls.from_params(truth, columns, by_process, []).simulate(
        horizons, z, seed
    )
    fitted = cls.fit(periods, churned, z, columns, by_process, [])
    se = np.sqrt(np.diag(fitted.covariance))
    return [
        f"| {name} | {t:g} | {e:.4f} | {s:.4f} | {(e - t) / s:+.2f} |"
        for name, t, e, s in zip(fitted.param_names, truth, fitted.params, se)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100k,1M")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], int(args.worker[2]))
        return
    sizes = [
        int(float(s.lower().replace("k", "e3").replace("m", "e6"))) for s in args.sizes.split(",")
    ]
    print(
        f"`python bench/bench_subscribers.py --sizes {args.sizes} --repeats {args.repeats}` "
        f"({os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}; "
        f"seed {args.seed})\n"
    )
    print("| model | subscribers | fit s | predictions s (renewal + DERL) | peak MiB | converged |")
    print("|---|---:|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for model in ("ShiftedBetaGeometric", "BetaDiscreteWeibull"):
            for n in sizes:
                path = str(Path(tmp) / f"{model}_{n}.npz")
                np.savez(path, **simulate(model, n, args.seed))
                out = subprocess.run(
                    [sys.executable, __file__, "--worker", path, model, str(args.repeats)],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                result = json.loads(out.strip().splitlines()[-1])
                label = "sBG" if model == "ShiftedBetaGeometric" else "BdW"
                print(
                    f"| {label} | {n:,} | {result['fit']:.3f} | {result['predict']:.3f} | "
                    f"{result['peak']:.0f} | {result['converged']} |"
                )
    for model in ("ShiftedBetaGeometric", "BetaDiscreteWeibull"):
        print(f"\nSimulate-then-refit, {model}, 100,000 subscribers, two covariates:\n")
        print("| parameter | truth | estimate | se | (estimate - truth) / se |")
        print("|---|---:|---:|---:|---:|")
        print("\n".join(recovery(model, 100_000, args.seed)))


if __name__ == "__main__":
    main()
