"""MBG/NBD (Batislam, Denizel & Filiztekin 2007) through the Python layer.

Reference values: lifetimes 0.11.3's ModifiedBetaGeoFitter fitted on the same CDNOW
summary (the paper uses other data); pinned in tests/mbgnbd.rs as well.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from retentionkit import BetaGeoFitter, ModifiedBetaGeoFitter
from retentionkit.datasets import load_cdnow_summary

LIFETIMES_PARAMS = {
    "r": 0.5248377255676637,
    "alpha": 6.1829884791339715,
    "a": 0.8913562809311422,
    "b": 1.6140000256721438,
}


@pytest.fixture(scope="module")
def fitted() -> ModifiedBetaGeoFitter:
    return ModifiedBetaGeoFitter().fit(load_cdnow_summary())


def test_cdnow_fit_matches_lifetimes(fitted: ModifiedBetaGeoFitter) -> None:
    expected = pd.Series(LIFETIMES_PARAMS)
    np.testing.assert_allclose(fitted.params_[expected.index], expected, rtol=2e-3)
    assert fitted.log_likelihood_ == pytest.approx(-9582.1327, abs=0.01)
    assert fitted.log_likelihood_ >= -9582.1327 - 1e-6


def test_predictions_match_lifetimes() -> None:
    m = ModifiedBetaGeoFitter()
    m.params_ = pd.Series(LIFETIMES_PARAMS)
    assert m.conditional_expected_number_of_purchases_up_to_time(
        39, 2, 30.43, 38.86
    ) == pytest.approx(1.2626707787139533, rel=1e-7)
    assert m.conditional_probability_alive(0, 0, 38.86) == pytest.approx(0.38971644, rel=1e-6)
    assert m.expected_number_of_purchases_up_to_time(39) == pytest.approx(1.1822837952882739)


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
