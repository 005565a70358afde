"""Time lifetimes' BetaGeoFitter on one data set; print one JSON line.

Run by ``bench_bgnbd.py`` with ``bench/.venv-lifetimes/bin/python`` (lifetimes 0.11.3
needs pandas < 3), in a fresh process per data set so that the peak memory
(``ru_maxrss``) is lifetimes' own.

lifetimes reports ``_negative_log_likelihood_`` as a mean per customer with time
rescaled so that max(T) == 1; for comparison we recompute the total log-likelihood
of its fitted parameters in the original time units (FHL 2005, eq. 6).
"""

import warnings

import _worker_common as common

warnings.simplefilter("ignore")


def main():
    args = common.parse_args("lifetimes")
    frequency, recency, T = common.load(args.data)

    from lifetimes import BetaGeoFitter

    def fit():
        return BetaGeoFitter().fit(frequency, recency, T)

    def predict(model):
        return common.timed_predictions(
            lambda: model.conditional_expected_number_of_purchases_up_to_time(
                39, frequency, recency, T
            ),
            lambda: model.conditional_probability_alive(frequency, recency, T),
        )

    model, expected, alive, timings = common.time_runs(fit, predict, args.repeats, "lifetimes")
    peak = common.peak_mib()  # before the log-likelihood check allocates anything

    params = [float(model.params_[name]) for name in ("r", "alpha", "a", "b")]
    result = {
        "library": "lifetimes",
        "n": int(frequency.size),
        "repeats": args.repeats,
        **timings,
        "peak_mib": peak,
        "params": params,
        "ll": common.bgnbd_log_likelihood(params, frequency, recency, T),
        # lifetimes' own value, undone: it is a mean over customers, with time divided by
        # max(T), which multiplies each customer's density by max(T) ** x.
        "ll_from_reported": -float(model._negative_log_likelihood_) * frequency.size
        - float(frequency.sum()) * common.math.log(float(T.max())),
        "versions": common.versions("lifetimes", "numpy", "pandas", "scipy", "autograd"),
    }
    if args.predictions:
        common.np.savez(args.predictions, expected=expected, alive=alive)
    common.emit(result)


if __name__ == "__main__":
    main()
