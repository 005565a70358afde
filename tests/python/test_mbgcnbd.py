"""MBGCNBDkFitter (MBG/CNBD-k, Platzer & Reutterer 2016): the pandas layer.

The model's formulas are checked in the Rust tests (tests/mbgcnbd.rs: k = 1
identity, quadrature, gradient, k recovery, predictions vs simulation); here the
fitter: CDNOW chooses k = 1 (Poisson-like data) and then equals MBG/NBD, the
likelihood against mpmath for k = 2, 3, simulate-then-refit through the fitter,
k_profile_, persistence of k, bad input, Wheat & Morrison's estimator.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import mpmath
import numpy as np
import pandas as pd
import pytest

from retentionkit import InvalidDataError, MBGCNBDkFitter, ModifiedBetaGeoFitter
from retentionkit.datasets import load_transaction_data
from retentionkit.fitters import wheat_morrison_k
from retentionkit.utils import summary_data_from_transaction_data


@pytest.fixture(scope="module")
def cdnow_litt() -> pd.DataFrame:
    """The CDNOW sample's 39-week calibration summary in weeks, with litt."""
    log = load_transaction_data()
    return summary_data_from_transaction_data(
        log[log["date"] <= "1997-09-30"],
        "customer_id",
        "date",
        observation_period_end="1997-09-30",
        freq_multiplier=7,
        include_litt=True,
    )


def test_cdnow_chooses_k_1_and_equals_mbgnbd(cdnow_litt: pd.DataFrame) -> None:
    fitter = MBGCNBDkFitter().fit(cdnow_litt)
    assert fitter.k_ == 1
    profile = fitter.k_profile_
    assert list(profile.index[:3]) == [1, 2, 3]
    assert profile.idxmax() == 1
    mbg = ModifiedBetaGeoFitter().fit(cdnow_litt[["frequency", "recency", "T"]])
    assert fitter.log_likelihood_ == pytest.approx(mbg.log_likelihood_, rel=1e-9)
    pd.testing.assert_series_equal(fitter.params_, mbg.params_, rtol=1e-5)
    x, tx, t = cdnow_litt["frequency"], cdnow_litt["recency"], cdnow_litt["T"]
    np.testing.assert_allclose(
        fitter.conditional_probability_alive(x, tx, t),
        mbg.conditional_probability_alive(x, tx, t),
        rtol=1e-5,
    )
    np.testing.assert_allclose(
        fitter.conditional_expected_number_of_purchases_up_to_time(39.0, x, tx, t),
        mbg.conditional_expected_number_of_purchases_up_to_time(39.0, x, tx, t),
        rtol=1e-4,
    )


def _mp_likelihood(r, alpha, a, b, k, x, tx, t, litt) -> float:
    """The likelihood integrated over λ and p by mpmath from the model's assumptions."""
    mpmath.mp.dps = 30
    r, alpha, a, b = map(mpmath.mpf, (r, alpha, a, b))
    x, tx, t, litt = map(mpmath.mpf, (x, tx, t, litt))

    def gamma_pdf(lam):
        return alpha**r * lam ** (r - 1) * mpmath.exp(-alpha * lam) / mpmath.gamma(r)

    def survival(lam, u):
        return sum(mpmath.exp(-lam * u) * (lam * u) ** i / mpmath.factorial(i) for i in range(k))

    def purchases(lam):
        return lam ** (k * x) * mpmath.exp(-lam * tx)

    dropped = mpmath.quad(lambda lam: purchases(lam) * gamma_pdf(lam), [0, 1, mpmath.inf])
    alive = mpmath.quad(
        lambda lam: purchases(lam) * survival(lam, t - tx) * gamma_pdf(lam), [0, 1, mpmath.inf]
    )
    beta = mpmath.beta(a, b)

    def beta_mean(f):
        return mpmath.quad(lambda p: f(p) * p ** (a - 1) * (1 - p) ** (b - 1), [0, 1]) / beta

    e_drop = beta_mean(lambda p: p * (1 - p) ** x)
    e_stay = beta_mean(lambda p: (1 - p) ** (x + 1))
    c = mpmath.exp((k - 1) * litt) / mpmath.factorial(k - 1) ** x
    return float(mpmath.log(c * (e_drop * dropped + e_stay * alive)))


@pytest.mark.parametrize("k", [2, 3])
def test_likelihood_matches_mpmath(k: int) -> None:
    params = {"r": 0.9, "alpha": 3.0, "a": 1.2, "b": 2.5}
    fitter = MBGCNBDkFitter(k=k)
    fitter.params_ = params
    rows = [(0, 0.0, 8.0, 0.0), (1, 2.5, 9.0, np.log(2.5)), (4, 10.0, 15.0, 4 * np.log(2.5) - 0.4)]
    x, tx, t, litt = (np.array(c, dtype=float) for c in zip(*rows))
    ours = fitter.individual_log_likelihood(x, tx, t, litt)
    expected = [_mp_likelihood(*params.values(), k, *row) for row in rows]
    np.testing.assert_allclose(ours, expected, rtol=1e-10)


def test_simulate_then_refit_recovers_k() -> None:
    truth = MBGCNBDkFitter(k=3)
    truth.params_ = {"r": 3.0, "alpha": 2.0, "a": 0.7, "b": 8.0}
    sim = truth.generate_new_data(size=3000, seed=4, T=np.linspace(20, 40, 3000))
    fitter = MBGCNBDkFitter().fit(sim[["frequency", "recency", "T", "litt"]])
    assert fitter.k_ == 3
    profile = fitter.k_profile_
    assert profile.idxmax() == 3
    # Stopped after two falls in a row.
    assert list(profile.index) == [1, 2, 3, 4, 5]
    fixed = MBGCNBDkFitter(k=2).fit(sim["frequency"], sim["recency"], sim["T"], sim["litt"])
    assert fixed.k_ == 2
    assert list(fixed.k_profile_.index) == [2]
    assert fixed.log_likelihood_ == pytest.approx(profile[2], rel=1e-8)


def test_k_survives_save_load_and_pickle(tmp_path: Path) -> None:
    truth = MBGCNBDkFitter(k=2)
    truth.params_ = {"r": 2.0, "alpha": 2.0, "a": 0.7, "b": 6.0}
    sim = truth.generate_new_data(size=800, seed=1, T=30.0)
    fitted = MBGCNBDkFitter(max_k=4).fit(sim)
    path = tmp_path / "m.json"
    fitted.save_model(path)
    loaded = MBGCNBDkFitter.load_model(path)
    assert loaded.k_ == fitted.k_
    pd.testing.assert_series_equal(loaded.k_profile_, fitted.k_profile_)
    x, tx, t = sim["frequency"], sim["recency"], sim["T"]
    np.testing.assert_allclose(
        loaded.conditional_probability_alive(x, tx, t),
        fitted.conditional_probability_alive(x, tx, t),
    )
    clone = pickle.loads(pickle.dumps(fitted))
    assert clone.k_ == fitted.k_ and clone.max_k == 4


def test_predictions_are_probabilities_and_monotone() -> None:
    fitter = MBGCNBDkFitter(k=4)
    fitter.params_ = {"r": 1.5, "alpha": 1.0, "a": 0.8, "b": 4.0}
    alive = fitter.conditional_probability_alive(
        np.full(5, 3.0), np.full(5, 10.0), np.array([10.0, 12.0, 15.0, 20.0, 40.0])
    )
    assert ((alive >= 0) & (alive <= 1)).all()
    assert (np.diff(alive) <= 0).all()  # longer silence: less likely alive
    expected = fitter.expected_number_of_purchases_up_to_time(np.array([1.0, 5.0, 20.0, 80.0]))
    assert (np.diff(expected) > 0).all() and (expected >= 0).all()


def test_bad_litt_names_the_column_and_row() -> None:
    with pytest.raises(InvalidDataError, match="litt") as info:
        MBGCNBDkFitter(k=2).fit([0, 2, 3], [0.0, 4.0, 6.0], [8.0, 8.0, 8.0], [0.0, 1.0, 9.0])
    assert info.value.row == 2
    with pytest.raises(ValueError, match="k"):
        MBGCNBDkFitter(k=0)


def test_wheat_morrison() -> None:
    rng = np.random.default_rng(3)
    for k in (1, 2, 5):
        gaps = rng.gamma(k, 1.0, size=(2, 40_000))
        estimate, m = wheat_morrison_k(gaps[0], gaps[1])
        assert estimate == pytest.approx(k, rel=0.08)
        assert ((m > 0) & (m < 1)).all()
    with pytest.raises(ValueError, match="row 2"):
        wheat_morrison_k([1.0, 0.0], [1.0, 1.0])


def test_regularity_plot_reads_back() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from retentionkit.plotting import plot_interpurchase_regularity

    rng = np.random.default_rng(8)
    n = 3000
    gaps = rng.gamma(4.0, 2.0, size=(n, 3)).round() + 1  # whole days, at least one
    days = np.cumsum(np.column_stack([np.zeros(n), gaps]), axis=1)
    log = pd.DataFrame(
        {
            "id": np.repeat(np.arange(n), 4),
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(days.reshape(-1), "D"),
        }
    )
    ax = plot_interpurchase_regularity(log, "id", "when")
    beta_curve, uniform = ax.lines
    assert "Wheat & Morrison" in beta_curve.get_label()
    k_hat = float(beta_curve.get_label().rsplit("= ", 1)[1])
    assert k_hat > 2.5  # regular: far from Poisson's 1
    np.testing.assert_allclose(uniform.get_ydata(), 1.0)
    heights = [p.get_height() for p in ax.patches]
    assert sum(heights) * (1 / 20) == pytest.approx(1.0)


def test_compare_models_with_holdout(cdnow_litt: pd.DataFrame) -> None:
    from retentionkit import compare_models
    from retentionkit.utils import calibration_and_holdout_data

    log = load_transaction_data()
    holdout = calibration_and_holdout_data(
        log, "customer_id", "date", "1997-09-30", "1998-06-30", freq_multiplier=7
    )
    mbg = ModifiedBetaGeoFitter().fit(cdnow_litt[["frequency", "recency", "T"]])
    cnbd = MBGCNBDkFitter(k=2).fit(cdnow_litt)
    table = compare_models({"MBG/NBD": mbg, "MBG/CNBD-2": cnbd}, holdout=holdout)
    assert table.loc["MBG/CNBD-2", "log_likelihood"] == cnbd.log_likelihood_
    assert table.loc["MBG/CNBD-2", "n_params"] == 4
    # CDNOW is Poisson-like: k = 2 fits worse and predicts the holdout no better.
    assert table.loc["MBG/CNBD-2", "aic"] > table.loc["MBG/NBD", "aic"]
    assert np.isfinite(table.loc["MBG/CNBD-2", "holdout_mae"])
    assert np.isfinite(table.loc["MBG/CNBD-2", "chi_square"])
    assert table.loc["MBG/CNBD-2", "chi_square"] > table.loc["MBG/NBD", "chi_square"]


def test_probability_of_n_purchases() -> None:
    params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    one = MBGCNBDkFitter(k=1)
    one.params_ = params
    mbg = ModifiedBetaGeoFitter()
    mbg.params_ = params
    t, n = np.full(8, 38.0), np.arange(8.0)
    np.testing.assert_allclose(
        one.probability_of_n_purchases_up_to_time(t, n),
        mbg.probability_of_n_purchases_up_to_time(t, n),
        rtol=1e-10,
    )
    three = MBGCNBDkFitter(k=3)
    three.params_ = {"r": 3.0, "alpha": 2.0, "a": 0.7, "b": 8.0}
    pmf = three.probability_of_n_purchases_up_to_time(np.full(600, 30.0), np.arange(600.0))
    assert pmf.sum() == pytest.approx(1.0, abs=1e-10)
    sim = three.generate_new_data(size=20_000, seed=9, T=30.0)
    observed = np.bincount(sim["frequency"].astype(int), minlength=600)[:600] / 20_000
    np.testing.assert_allclose(observed[:8], pmf[:8], atol=4 * np.sqrt(0.25 / 20_000))


def test_cli_fits_mbgcnbd_on_a_summary_with_litt(tmp_path: Path) -> None:
    import subprocess
    import sys

    truth = MBGCNBDkFitter(k=2)
    truth.params_ = {"r": 2.0, "alpha": 2.0, "a": 0.7, "b": 6.0}
    sim = truth.generate_new_data(size=1500, seed=2, T=30.0)
    sim[["frequency", "recency", "T", "litt"]].to_csv(tmp_path / "s.csv", index_label="id")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "retentionkit", "fit", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
        )

    result = run("s.csv", "--model", "mbgcnbd", "--output", "p.csv")
    assert result.returncode == 0, result.stderr
    assert "MBG/CNBD-k fitted on 1500 customers" in result.stdout
    assert "k               2 (log-likelihood by k: 1: " in result.stdout
    predictions = pd.read_csv(tmp_path / "p.csv", index_col=0)
    assert ((predictions["p_alive"] >= 0) & (predictions["p_alive"] <= 1)).all()
    without = run("--model", "mbgcnbd")
    assert without.returncode == 2 and "litt" in without.stderr
