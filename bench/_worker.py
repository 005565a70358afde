"""Time one library's fitter on one data set; print one JSON line.

Run by ``bench_models.py`` in a fresh process per measurement, so that the peak memory
(``VmHWM``, see ``_memory.py``) is that library's alone::

    python _worker.py LIBRARY MODEL DATA.npz [--repeats R] [--predictions OUT.npz]

LIBRARY is ``retentionkit`` (run with the interpreter that has it) or ``lifetimes``
(run with ``bench/.venv-lifetimes/bin/python``: lifetimes 0.11.3 needs pandas < 3).
Both libraries have the same class names and call signatures, so one file times both.
Only numpy, pandas and the standard library are imported besides the library.

The JSON line has the timings (best of R), the fitted parameters, the library's own
log-likelihood as a total in the data's time units, the warnings the library raised
and the versions. A fit that raises gives ``{"error": ...}`` instead (exit status 0).
"""

import argparse
import contextlib
import hashlib
import importlib
import io
import json
import math
import platform
import sys
import time
import warnings
from importlib import metadata

import numpy as np
from _memory import peak_mib

HORIZON_WEEKS = 39  # conditional expected purchases, (frequency, recency, T) models
HORIZON_OPPORTUNITIES = 10  # conditional expected purchases and P(alive), BG/BB
CLASSES = {
    "bgnbd": "BetaGeoFitter",
    "mbgnbd": "ModifiedBetaGeoFitter",
    "pnbd": "ParetoNBDFitter",
    "bgbb": "BetaGeoBetaBinomFitter",
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("library", choices=["retentionkit", "lifetimes"])
    parser.add_argument("model", choices=[*CLASSES, "clv"])
    parser.add_argument("data", help=".npz file with the model's columns")
    parser.add_argument("--repeats", type=int, default=1, help="best of this many runs")
    parser.add_argument("--predictions", help="write the predictions to this .npz")
    parser.add_argument(
        "--params-from",
        help="clv: JSON line of another worker; its fitted parameters are assigned to the "
        "fitted models before the timed CLV call, so both libraries predict alike",
    )
    return parser.parse_args()


# ------------------------------------------------------------------------ tasks
# Each task returns (fit, adopt, predict, describe):
#   fit() -> fitted model(s); timed.
#   adopt(model) -> model used for predict (untimed; the identity except for clv).
#   predict(model) -> [(name, call)]; each call is timed, in order.
#   describe(model) -> (params, own log-likelihood as a total in the data's units).


def transactions_task(lib, model_name, data, library):
    cls = getattr(lib, CLASSES[model_name])
    f, r, T = data["frequency"], data["recency"], data["T"]

    def fit():
        return cls().fit(f, r, T)

    def predict(m):
        return [
            (
                "expected",
                lambda: m.conditional_expected_number_of_purchases_up_to_time(
                    HORIZON_WEEKS, f, r, T
                ),
            ),
            ("alive", lambda: m.conditional_probability_alive(f, r, T)),
        ]

    def describe(m):
        params = [float(v) for v in m.params_]
        if library == "retentionkit":
            return params, float(m.log_likelihood_)
        # lifetimes fits with time divided by max(T), which multiplies each customer's
        # density by max(T) ** x; BG/NBD and MBG/NBD report the mean over customers,
        # Pareto/NBD the sum (it divides by the mean weight, 1).
        nll = float(m._negative_log_likelihood_)
        total = nll if model_name == "pnbd" else nll * f.size
        return params, -total - float(f.sum()) * math.log(float(T.max()))

    return fit, lambda m: m, predict, describe


def bgbb_task(lib, data, library):
    cls = lib.BetaGeoBetaBinomFitter
    f, r, n = data["frequency"], data["recency"], data["T"]
    h = HORIZON_OPPORTUNITIES

    def predict(m):
        return [
            ("expected", lambda: m.conditional_expected_number_of_purchases_up_to_time(h, f, r, n)),
            ("alive", lambda: m.conditional_probability_alive(h, f, r, n)),
        ]

    def describe(m):
        params = [float(v) for v in m.params_]
        if library == "retentionkit":
            return params, float(m.log_likelihood_)
        return params, -float(m._negative_log_likelihood_) * f.size  # a mean per customer

    return lambda: cls().fit(f, r, n), lambda m: m, predict, describe


def clv_task(lib, data, library, params_from):
    """BG/NBD + Gamma-Gamma fit, then 12 months of CLV in weeks (lifetimes' call)."""
    import pandas as pd

    f, r, T, money = data["frequency"], data["recency"], data["T"], data["monetary_value"]
    repeat = f > 0
    # lifetimes' customer_lifetime_value needs Series (it reads frequency.index).
    series = [pd.Series(v) for v in (f, r, T, money)]

    def fit():
        bgf = lib.BetaGeoFitter().fit(f, r, T)
        ggf = lib.GammaGammaFitter().fit(f[repeat], money[repeat])
        return bgf, ggf

    def adopt(models):
        if params_from is None:
            return models
        bgf, ggf = lib.BetaGeoFitter(), lib.GammaGammaFitter()
        bgf.params_ = pd.Series(params_from["bgnbd"], index=["r", "alpha", "a", "b"])
        ggf.params_ = pd.Series(params_from["gamma_gamma"], index=["p", "q", "v"])
        return bgf, ggf

    def predict(models):
        bgf, ggf = models
        return [
            (
                "clv",
                lambda: ggf.customer_lifetime_value(
                    bgf, *series, time=12, discount_rate=0.01, freq="W"
                ),
            )
        ]

    def describe(models):
        bgf, ggf = models
        bg_params = [float(v) for v in bgf.params_]
        gg_params = [float(v) for v in ggf.params_]
        if library == "retentionkit":
            ll = float(bgf.log_likelihood_)
        else:
            nll = float(bgf._negative_log_likelihood_)
            ll = -nll * f.size - float(f.sum()) * math.log(float(T.max()))
        return {"bgnbd": bg_params, "gamma_gamma": gg_params}, ll

    return fit, adopt, predict, describe


# ----------------------------------------------------------------------- timing


def time_runs(fit, adopt, predict, repeats):
    """``repeats`` x (timed fit, untimed adopt, timed predictions); best times, last results."""
    fit_s, predict_s, parts = [], [], {}
    for _ in range(repeats):
        start = time.perf_counter()
        fitted = fit()
        fit_s.append(time.perf_counter() - start)
        used = adopt(fitted)
        start = time.perf_counter()
        predictions = {}
        for name, compute in predict(used):
            t0 = time.perf_counter()
            predictions[name] = np.asarray(compute(), dtype=np.float64)
            parts.setdefault(f"{name}_s", []).append(time.perf_counter() - t0)
        predict_s.append(time.perf_counter() - start)
    timings = {
        "fit_s": min(fit_s),
        "predict_s": min(predict_s),
        **{k: min(v) for k, v in parts.items()},
        "all_fit_s": fit_s,
        "all_predict_s": predict_s,
    }
    return fitted, predictions, timings


# ------------------------------------------------------------------------ helpers


def load(path):
    with np.load(path) as data:
        return {k: np.ascontiguousarray(data[k], dtype=np.float64) for k in data.files}


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


def summarise_warnings(caught):
    """Distinct warnings as "Category: message (N times)", most frequent first."""
    counts = {}
    for w in caught:
        text = f"{w.category.__name__}: {str(w.message).strip().splitlines()[0][:160]}"
        counts[text] = counts.get(text, 0) + 1
    return [f"{t} ({c}x)" for t, c in sorted(counts.items(), key=lambda kv: -kv[1])]


def emit(result):
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


def main():
    args = parse_args()
    data = load(args.data)
    lib = importlib.import_module(args.library)
    if args.model == "clv":
        params_from = None
        if args.params_from:
            with open(args.params_from) as f:
                params_from = json.loads(f.read().strip().splitlines()[-1])["params"]
        fit, adopt, predict, describe = clv_task(lib, data, args.library, params_from)
    elif args.model == "bgbb":
        fit, adopt, predict, describe = bgbb_task(lib, data, args.library)
    else:
        fit, adopt, predict, describe = transactions_task(lib, args.model, data, args.library)

    printed = io.StringIO()  # lifetimes prints scipy's result when it does not converge
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(printed):
        warnings.simplefilter("always")
        try:
            fitted, predictions, timings = time_runs(fit, adopt, predict, args.repeats)
        except Exception as exc:  # reported in the table, not hidden
            failure = exc
        else:
            failure = None
    if failure is not None:
        message = f"{type(failure).__name__}: {' '.join(str(failure).split())}"[:240]
        optimum = [ln.strip() for ln in printed.getvalue().splitlines() if ln.strip()[:4] == "fun:"]
        if optimum:
            message += f" (optimiser's last {optimum[0]})"
        emit({"library": args.library, "error": message, "warnings": summarise_warnings(caught)})
        return
    peak = peak_mib()
    params, ll = describe(fitted)
    n = int(next(iter(data.values())).size)
    result = {
        "library": args.library,
        "model": args.model,
        "n": n,
        "repeats": args.repeats,
        **timings,
        "peak_mib": peak,
        "params": params,
        "ll_own": ll,
        "warnings": summarise_warnings(caught),
        "nonfinite_predictions": {k: int(np.sum(~np.isfinite(v))) for k, v in predictions.items()},
    }
    if args.library == "retentionkit":
        import retentionkit._core

        result["versions"] = versions("retentionkit", "numpy", "pandas")
        result["build"] = file_digest(retentionkit._core.__file__)
    else:
        result["versions"] = versions("lifetimes", "numpy", "pandas", "scipy", "autograd")
    if args.predictions:
        np.savez(args.predictions, **predictions)
    emit(result)


if __name__ == "__main__":
    main()
