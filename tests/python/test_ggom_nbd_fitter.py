"""GompertzGammaNBDFitter: the GGom/NBD of Bemmaor & Glady (2012) on CDNOW, in the CLI,
the model comparison and the value functions. The numerics are tested in tests/ggom_nbd.rs
(mpmath fixture, Pareto/NBD limit, simulate-then-refit)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from retentionkit import (
    GammaGammaFitter,
    GompertzGammaNBDFitter,
    ParetoNBDFitter,
    compare_models,
)
from retentionkit.datasets import load_cdnow_summary, load_cdnow_summary_data_with_monetary_value


@pytest.fixture(scope="module")
def fitted() -> GompertzGammaNBDFitter:
    with pytest.warns(UserWarning, match="Pareto/NBD limit"):
        return GompertzGammaNBDFitter().fit(load_cdnow_summary())


def test_cdnow_against_bemmaor_glady_and_clvtools(fitted: GompertzGammaNBDFitter) -> None:
    """Bemmaor & Glady (2012) Table 2 and CLVTools 0.12.1 (r, alpha, s and the LL; the
    likelihood is flat in b and beta, which run to the Pareto/NBD limit)."""
    p = fitted.params_
    assert list(p.index) == ["r", "alpha", "b", "s", "beta"]
    assert p["r"] == pytest.approx(0.553039208493, abs=2e-3)
    assert p["alpha"] == pytest.approx(10.5726995701, abs=2e-2)
    assert p["s"] == pytest.approx(0.606123090764, abs=5e-3)
    assert fitted.log_likelihood_ >= -9594.976269
    assert fitted.log_likelihood_ >= -9594.98


def test_limit_predictions_are_the_pareto_nbd(fitted: GompertzGammaNBDFitter) -> None:
    d = load_cdnow_summary()
    pnbd = ParetoNBDFitter().fit(d)
    args = (d["frequency"], d["recency"], d["T"])
    np.testing.assert_allclose(
        fitted.conditional_probability_alive(*args),
        pnbd.conditional_probability_alive(*args),
        rtol=2e-3,
    )
    np.testing.assert_allclose(
        fitted.conditional_expected_number_of_purchases_up_to_time(39, *args),
        pnbd.conditional_expected_number_of_purchases_up_to_time(39, *args),
        rtol=2e-3,
    )


def test_value_and_comparison(fitted: GompertzGammaNBDFitter) -> None:
    d = load_cdnow_summary_data_with_monetary_value()
    repeat = d[d["frequency"] > 0]
    gg = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    clv = gg.customer_lifetime_value(
        fitted, d["frequency"], d["recency"], d["T"], d["monetary_value"]
    )
    assert (clv >= 0).all() and np.isfinite(clv).all()
    dert = fitted.discounted_expected_residual_transactions(0.01, 2, 30.43, 38.86)
    assert float(dert) > 0
    table = compare_models({"GGom/NBD": fitted, "Pareto/NBD": ParetoNBDFitter().fit(d)}, d)
    assert "GGom/NBD" in table.index


def test_bad_input_names_the_row() -> None:
    with pytest.raises(ValueError, match="frequency must be a non-negative integer"):
        GompertzGammaNBDFitter().fit([0, 1, -2], [0.0, 1.0, 2.0], [5.0, 5.0, 5.0])


def test_cli_model_option() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "retentionkit", "fit", "--model", "ggomnbd"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "GGom/NBD fitted on 2357 customers" in out
