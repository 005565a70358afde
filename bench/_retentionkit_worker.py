"""Time retentionkit's BetaGeoFitter on one data set; print one JSON line.

Run by ``bench_bgnbd.py`` with the interpreter that has retentionkit installed, in
a fresh process per data set so that the peak memory (``ru_maxrss``) is
retentionkit's own. The call sequence is the one a lifetimes user writes.
"""

import _worker_common as common


def main():
    args = common.parse_args("retentionkit")
    frequency, recency, T = common.load(args.data)

    import retentionkit._core
    from retentionkit import BetaGeoFitter

    def fit():
        return BetaGeoFitter().fit(frequency, recency, T)

    def predict(model):
        return common.timed_predictions(
            lambda: model.conditional_expected_number_of_purchases_up_to_time(
                39, frequency, recency, T
            ),
            lambda: model.conditional_probability_alive(frequency, recency, T),
        )

    model, expected, alive, timings = common.time_runs(fit, predict, args.repeats, "retentionkit")
    peak = common.peak_mib()  # before the log-likelihood check allocates anything

    params = [float(model.params_[name]) for name in ("r", "alpha", "a", "b")]
    result = {
        "library": "retentionkit",
        "n": int(frequency.size),
        "repeats": args.repeats,
        **timings,
        "peak_mib": peak,
        "params": params,
        "ll": float(model.log_likelihood_),
        "ll_eq6": common.bgnbd_log_likelihood(params, frequency, recency, T),
        "versions": common.versions("retentionkit", "numpy", "pandas"),
        "build": common.file_digest(retentionkit._core.__file__),
    }
    if args.predictions:
        common.np.savez(args.predictions, expected=expected, alive=alive)
    common.emit(result)


if __name__ == "__main__":
    main()
