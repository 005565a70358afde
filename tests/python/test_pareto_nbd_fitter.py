"""Pareto/NBD through the Python layer.

Reference: Fader & Hardie's CDNOW fit (FHL 2005, section 5 and Fader & Hardie's
Pareto/NBD note; entry pnbd_cdnow_fh2005 of tests/fixtures/reference_values.json).
The likelihood is very flat along beta (standard error about 6): our optimum,
beta = 11.668, has a log-likelihood 8e-5 higher than the printed point, so beta is
checked to 2e-3 (see tests/pnbd.rs).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reference_values import reference

from retentionkit import BetaGeoFitter, ParetoNBDFitter
from retentionkit.datasets import load_cdnow_summary


@pytest.fixture(scope="module")
def fitted() -> ParetoNBDFitter:
    return ParetoNBDFitter().fit(load_cdnow_summary())


def test_cdnow_reference(fitted: ParetoNBDFitter) -> None:
    published = reference("pnbd_cdnow_fh2005")
    p, expected = fitted.params_, published["params"]
    assert list(expected) == ["r", "alpha", "s", "beta"]
    assert p["r"] == pytest.approx(expected["r"], abs=5e-4)
    assert p["alpha"] == pytest.approx(expected["alpha"], abs=5e-4)
    assert p["s"] == pytest.approx(expected["s"], abs=5e-4)
    assert p["beta"] == pytest.approx(expected["beta"], abs=2e-3)
    assert fitted.log_likelihood_ == pytest.approx(published["log_likelihood"], abs=0.05)
    assert list(fitted.summary.columns) == [
        "coef",
        "se(coef)",
        "lower 95% bound",
        "upper 95% bound",
    ]


def test_predictions_are_sane(fitted: ParetoNBDFitter) -> None:
    data = fitted.data
    p_alive = fitted.conditional_probability_alive()
    assert isinstance(p_alive, pd.Series) and p_alive.index.equals(data.index)
    assert ((p_alive >= 0) & (p_alive <= 1)).all()
    e = [
        fitted.conditional_expected_number_of_purchases_up_to_time(t, 2, 30.43, 38.86)
        for t in (0, 10, 39, 78)
    ]
    assert e[0] == 0 and all(np.diff(e) > 0)
    n = np.arange(200)
    probs = fitted.probability_of_n_purchases_up_to_time(39, n)
    assert probs.sum() == pytest.approx(1.0, abs=1e-8)
    assert (n * probs).sum() == pytest.approx(
        fitted.expected_number_of_purchases_up_to_time(39), rel=1e-6
    )
    matrix = fitted.conditional_probability_alive_matrix(max_frequency=5, max_recency=10)
    assert matrix.shape == (11, 6)
    assert matrix[0, 0] < 1.0  # without repeat purchases a Pareto/NBD customer may be gone


def test_extreme_customers_are_finite(fitted: ParetoNBDFitter) -> None:
    """Histories where lifetimes' Pareto/NBD returns NaN or inf."""
    x = np.array([5000.0, 12000.0, 300.0])
    t_x = np.array([29000.0, 49000.0, 10.0])
    T = np.array([30000.0, 50000.0, 40000.0])
    for values in (
        fitted.conditional_probability_alive(x, t_x, T),
        fitted.conditional_expected_number_of_purchases_up_to_time(52, x, t_x, T),
        fitted.individual_log_likelihood(x, t_x, T),
    ):
        assert np.isfinite(values).all()


def test_simulate_refit_and_model_comparison(fitted: ParetoNBDFitter) -> None:
    sim = fitted.generate_new_data(size=30_000, T=np.full(30_000, 39.0), seed=5)
    assert "mu" in sim.columns and "p" not in sim.columns
    refit = ParetoNBDFitter().fit(sim["frequency"], sim["recency"], sim["T"])
    z = (refit.params_ - fitted.params_) / refit.standard_errors_
    assert (z.abs() < 4).all(), z
    # AIC/BIC let the models be compared on the same data.
    bg = BetaGeoFitter().fit(load_cdnow_summary())
    assert fitted.aic == pytest.approx(8 - 2 * fitted.log_likelihood_)
    assert abs(fitted.log_likelihood_ - bg.log_likelihood_) < 20


def test_save_load(fitted: ParetoNBDFitter, tmp_path) -> None:
    path = tmp_path / "pnbd.json"
    fitted.save_model(path)
    loaded = ParetoNBDFitter().load_model(path)
    pd.testing.assert_series_equal(loaded.params_, fitted.params_)


def test_cli_model_option() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "retentionkit", "fit", "--model", "pnbd"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Pareto/NBD fitted on 2357 customers" in out


# -- conditional_probability_of_n_purchases_up_to_time ------------------------------------

PMF_FIXTURE = (
    Path(__file__).resolve().parents[1] / "fixtures" / "pnbd_conditional_pmf_lifetimes.csv"
)
CDNOW_PARAMS = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}


def _cdnow_pnbd() -> ParetoNBDFitter:
    fitter = ParetoNBDFitter()
    fitter.params_ = CDNOW_PARAMS
    return fitter


def test_conditional_pmf_agrees_with_lifetimes() -> None:
    """Against lifetimes 0.11.3 (scripts/make_pnbd_conditional_pmf_fixture.py), in
    lifetimes' argument order (n, t, frequency, recency, T)."""
    cases = pd.read_csv(PMF_FIXTURE)
    ours = _cdnow_pnbd().conditional_probability_of_n_purchases_up_to_time(
        cases["n"], cases["t"], cases["frequency"], cases["recency"], cases["T"]
    )
    np.testing.assert_allclose(ours.to_numpy(), cases["p"].to_numpy(), rtol=1e-7, atol=1e-12)


ALIVE_MATRIX_FIXTURE = (
    Path(__file__).resolve().parents[1] / "fixtures" / "pnbd_alive_matrix_lifetimes.csv"
)


def test_alive_matrix_agrees_with_lifetimes() -> None:
    """Against lifetimes 0.11.3 (scripts/make_pnbd_alive_matrix_fixture.py): column 0
    (no repeat purchase) uses each row's recency, which the Pareto/NBD depends on."""
    theirs = pd.read_csv(ALIVE_MATRIX_FIXTURE).to_numpy()
    ours = _cdnow_pnbd().conditional_probability_alive_matrix(max_frequency=4, max_recency=12)
    np.testing.assert_allclose(ours, theirs, rtol=1e-8)
    assert ours[0, 0] < ours[-1, 0]  # a later last purchase: more likely alive


@pytest.mark.parametrize(
    "history", [(2, 30.43, 38.86), (0, 0, 38.86), (0, 0, 0), (0, 12, 38.86), (30, 38, 38.5)]
)
def test_conditional_pmf_sums_to_one(history: tuple[float, float, float]) -> None:
    n = np.arange(3000)
    p = _cdnow_pnbd().conditional_probability_of_n_purchases_up_to_time(n, 52, *history)
    assert (p >= 0).all()
    assert p.sum() == pytest.approx(1.0, abs=1e-10)


def test_conditional_pmf_of_a_new_customer_is_the_unconditional_one() -> None:
    fitter = _cdnow_pnbd()
    n = np.arange(6)
    np.testing.assert_allclose(
        fitter.conditional_probability_of_n_purchases_up_to_time(n, 39, 0, 0, 0),
        fitter.probability_of_n_purchases_up_to_time(39, n),
        rtol=1e-13,
    )


def test_conditional_pmf_shape_and_errors() -> None:
    fitter = _cdnow_pnbd()
    frame = pd.DataFrame({"x": [1, 2], "tx": [3.0, 4.0], "T": [5.0, 6.0]}, index=["u", "v"])
    p = fitter.conditional_probability_of_n_purchases_up_to_time(
        1, 10, frame["x"], frame["tx"], frame["T"]
    )
    assert list(p.index) == ["u", "v"]
    assert isinstance(
        fitter.conditional_probability_of_n_purchases_up_to_time(0, 1, 1, 1, 2), float
    )
    with pytest.raises(ValueError, match="n must be a non-negative integer"):
        fitter.conditional_probability_of_n_purchases_up_to_time(0.5, 10, 1, 3, 5)
