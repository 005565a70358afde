"""MBG/NBD (Batislam, Denizel & Filiztekin 2007) through the Python layer.

Reference values: lifetimes 0.11.3's ModifiedBetaGeoFitter fitted on the same CDNOW
summary (the paper uses other data), from tests/fixtures/reference_values.json, which
tests/mbgnbd.rs reads as well.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from reference_values import reference

from retentionkit import BetaGeoFitter, ModifiedBetaGeoFitter
from retentionkit.datasets import load_cdnow_summary

LIFETIMES = reference("mbgnbd_cdnow_lifetimes")
LIFETIMES_PARAMS = LIFETIMES["params"]


@pytest.fixture(scope="module")
def fitted() -> ModifiedBetaGeoFitter:
    return ModifiedBetaGeoFitter().fit(load_cdnow_summary())


def test_cdnow_fit_matches_lifetimes(fitted: ModifiedBetaGeoFitter) -> None:
    expected = pd.Series(LIFETIMES_PARAMS)
    np.testing.assert_allclose(fitted.params_[expected.index], expected, rtol=2e-3)
    assert fitted.log_likelihood_ == pytest.approx(LIFETIMES["log_likelihood"], abs=0.01)
    assert fitted.log_likelihood_ >= LIFETIMES["log_likelihood"] - 1e-6


def test_predictions_match_lifetimes() -> None:
    m = ModifiedBetaGeoFitter()
    m.params_ = pd.Series(LIFETIMES_PARAMS)
    predictions = LIFETIMES["predictions"]
    case = predictions["E[Y(39) | 2, 30.43, 38.86]"]
    t, f, r, T = (case["args"][k] for k in ("t", "frequency", "recency", "T"))
    assert m.conditional_expected_number_of_purchases_up_to_time(t, f, r, T) == pytest.approx(
        case["value"], rel=1e-7
    )
    case = predictions["P(alive | 0, 0, 38.86)"]
    f, r, T = (case["args"][k] for k in ("frequency", "recency", "T"))
    assert m.conditional_probability_alive(f, r, T) == pytest.approx(case["value"], rel=1e-6)
    case = predictions["E[X(39)]"]
    assert m.expected_number_of_purchases_up_to_time(case["args"]["t"]) == pytest.approx(
        case["value"]
    )


def test_differs_from_bgnbd(fitted: ModifiedBetaGeoFitter) -> None:
    bg = BetaGeoFitter().fit(load_cdnow_summary())
    assert not np.allclose(bg.params_, fitted.params_)
    # Customers without repeat purchases are not certainly alive under MBG/NBD.
    assert fitted.conditional_probability_alive(0, 0, 38.86) < 1.0
    assert bg.conditional_probability_alive(0, 0, 38.86) == 1.0


def test_save_load_keeps_the_model_type(fitted: ModifiedBetaGeoFitter, tmp_path) -> None:
    path = tmp_path / "mbg.json"
    fitted.save_model(path)
    loaded = ModifiedBetaGeoFitter().load_model(path)
    pd.testing.assert_series_equal(loaded.params_, fitted.params_)
    with pytest.raises(ValueError, match="ModifiedBetaGeo"):
        BetaGeoFitter().load_model(path)


def test_cli_model_option() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "retentionkit", "fit", "--model", "mbgnbd"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "MBG/NBD fitted on 2357 customers" in out
