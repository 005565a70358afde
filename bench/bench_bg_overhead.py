"""Cost of the robust BG/NBD expectations (issue 12) on the BG/NBD prediction benchmark.

The prediction benchmark of ``bench_models.py`` (conditional expected purchases 39 weeks
ahead plus ``conditional_probability_alive`` for every customer, FHL 2005's CDNOW
parameters) timed for two builds in one run: BEFORE and AFTER are two Python
interpreters whose ``retentionkit`` differ (e.g. the main wheel and this tree's
``maturin develop --release``). The two run alternately, each measurement in a fresh
process, so that a change in the machine's load hits both alike; the table gives the
best of ``--rounds`` for each, and their ratio.

    python bench/bench_bg_overhead.py --before /usr/bin/python3 --after .venv/bin/python

Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

WORKER = r"""
import hashlib, json, sys, time
sys.path.insert(0, {bench!r})
import _simulate
import numpy as np
import retentionkit as rk
import retentionkit._core as core

n, repeats, seed = {n}, {repeats}, {seed}
f, r, T = _simulate.bgnbd(n, seed, **_simulate.BGNBD_PARAMS)
model = rk.BetaGeoFitter()
model.params_ = [_simulate.BGNBD_PARAMS[k] for k in ("r", "alpha", "a", "b")]
best = float("inf")
for _ in range(repeats):
    start = time.perf_counter()
    e = model.conditional_expected_number_of_purchases_up_to_time(39.0, f, r, T)
    p = model.conditional_probability_alive(f, r, T)
    best = min(best, time.perf_counter() - start)
digest = hashlib.sha256(open(core.__file__, "rb").read()).hexdigest()[:12]
print(json.dumps({{"seconds": best, "sum": float(np.sum(e)) + float(np.sum(p)), "sha": digest}}))
"""


def run(python: str, n: int, repeats: int, seed: int) -> dict:
    code = WORKER.format(
        bench=str(Path(__file__).resolve().parent), n=n, repeats=repeats, seed=seed
    )
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True, cwd="/")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="interpreter with the old build")
    parser.add_argument("--after", default=sys.executable, help="interpreter with the new build")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument(
        "--rounds", type=int, default=5, help="alternating fresh processes per build"
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="timed calls per process (best kept)"
    )
    parser.add_argument("--seed", type=int, default=20050501)
    args = parser.parse_args()
    print(
        "| N | before s | after s | after / before | before build | after build "
        "| max rel diff of sums |"
    )
    print("|---:|---:|---:|---:|---|---|---:|")
    for n in (int(s) for s in args.sizes.split(",")):
        before, after = [], []
        for _ in range(args.rounds):
            before.append(run(args.before, n, args.repeats, args.seed))
            after.append(run(args.after, n, args.repeats, args.seed))
        b = min(x["seconds"] for x in before)
        a = min(x["seconds"] for x in after)
        diff = abs(before[0]["sum"] - after[0]["sum"]) / abs(before[0]["sum"])
        shas = f"{before[0]['sha']} | {after[0]['sha']}"
        print(f"| {n:,} | {b:.4f} | {a:.4f} | {a / b:.3f} | {shas} | {diff:.1e} |")


if __name__ == "__main__":
    main()
