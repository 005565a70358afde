"""Helpers shared by the two benchmark workers (numpy and the standard library only).

Both ``_lifetimes_worker.py`` (run by ``bench/.venv-lifetimes``) and
``_retentionkit_worker.py`` (run by the interpreter that has retentionkit) import
this file from their own directory, so it must work in either environment.
"""

import argparse
import hashlib
import json
import math
import platform
import resource
import sys
import time
from importlib import metadata

import numpy as np


def parse_args(library):
    parser = argparse.ArgumentParser(description=f"Time {library} BG/NBD fit and predictions.")
    parser.add_argument("data", help=".npz file with frequency, recency, T")
    parser.add_argument("--repeats", type=int, default=1, help="best of this many runs")
    parser.add_argument("--predictions", help="write the predictions to this .npz")
    return parser.parse_args()


def load(path):
    with np.load(path) as data:
        return (
            np.ascontiguousarray(data["frequency"], dtype=np.float64),
            np.ascontiguousarray(data["recency"], dtype=np.float64),
            np.ascontiguousarray(data["T"], dtype=np.float64),
        )


def peak_mib():
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def time_runs(fit, predict, repeats, library):
    """Run ``fit()`` then ``predict(model)`` ``repeats`` times; return timings and last results.

    A fit that raises ends the worker with a JSON line ``{"error": ...}`` (exit 0),
    so the benchmark can report it in the table instead of stopping.
    """
    fit_s, expected_s, alive_s = [], [], []
    for _ in range(repeats):
        start = time.perf_counter()
        try:
            model = fit()
        except Exception as exc:  # reported in the table, not hidden
            emit({"library": library, "error": f"{type(exc).__name__}: {exc}".strip()[:300]})
            sys.exit(0)
        fit_s.append(time.perf_counter() - start)
        expected, alive, seconds = predict(model)
        expected_s.append(seconds[0])
        alive_s.append(seconds[1])
    predict_s = [e + a for e, a in zip(expected_s, alive_s)]
    timings = {
        "fit_s": min(fit_s),
        "predict_s": min(predict_s),
        "expected_s": min(expected_s),
        "alive_s": min(alive_s),
        "all_fit_s": fit_s,
        "all_predict_s": predict_s,
    }
    return model, expected, alive, timings


def timed_predictions(expected_fn, alive_fn):
    start = time.perf_counter()
    expected = expected_fn()
    mid = time.perf_counter()
    alive = alive_fn()
    end = time.perf_counter()
    return (
        np.asarray(expected, dtype=np.float64),
        np.asarray(alive, dtype=np.float64),
        (mid - start, end - mid),
    )


def bgnbd_log_likelihood(params, frequency, recency, T):
    """Total BG/NBD log-likelihood, Fader, Hardie & Lee (2005), eq. (6), in the data's time units.

    L = B(a, b+x)/B(a, b) * G(r+x) a^r / (G(r) (alpha+T)^(r+x))
        + [x > 0] B(a+1, b+x-1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))

    ``x`` is integer, so every log-gamma term is looked up in a table over 0..max(x)
    built with ``math.lgamma`` (no scipy needed).
    """
    r, alpha, a, b = (float(v) for v in params)
    x = frequency.astype(np.int64)
    k = np.arange(int(x.max()) + 1, dtype=np.float64)
    lgamma = np.vectorize(math.lgamma, otypes=[np.float64])
    lg_r_x = lgamma(r + k)[x]  # log G(r + x)
    lg_b_x = lgamma(b + k)[x]  # log G(b + x)
    lg_ab_x = lgamma(a + b + k)[x]  # log G(a + b + x)
    # log B(a, b + x) - log B(a, b) = lgG(b+x) - lgG(a+b+x) + lgG(a+b) - lgG(b)
    common = lg_r_x - math.lgamma(r) + r * math.log(alpha)
    beta_ratio = lg_b_x - lg_ab_x + math.lgamma(a + b) - math.lgamma(b)
    term_T = beta_ratio + common - (r + x) * np.log(alpha + T)
    # B(a+1, b+x-1)/B(a, b+x) = a / (b + x - 1), used only where x > 0
    term_tx = (
        beta_ratio
        + np.log(a / np.maximum(b + x - 1.0, 1e-300))
        + common
        - (r + x) * np.log(alpha + recency)
    )
    ll = np.where(x > 0, np.logaddexp(term_T, term_tx), term_T)
    return float(ll.sum())


def versions(*modules):
    out = {"python": platform.python_version(), "executable": sys.executable}
    for name in modules:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def file_digest(path):
    """Short SHA-256 of a file, to tell builds of the native module apart."""
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:12]


def emit(result):
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
