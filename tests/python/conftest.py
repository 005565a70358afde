"""Shared fixtures: the CDNOW calibration summary and a BG/NBD fit on it."""

from __future__ import annotations

import pandas as pd
import pytest

from retentionkit import BetaGeoFitter
from retentionkit.datasets import load_cdnow_summary


@pytest.fixture(scope="session")
def cdnow() -> pd.DataFrame:
    return load_cdnow_summary()


@pytest.fixture(scope="session")
def _cdnow_fit(cdnow: pd.DataFrame) -> BetaGeoFitter:
    return BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


@pytest.fixture
def bgf(_cdnow_fit: BetaGeoFitter) -> BetaGeoFitter:
    """The CDNOW fit, as a fresh copy so a test may change it."""
    fitter = BetaGeoFitter()
    fitter.__setstate__(_cdnow_fit.__getstate__())
    return fitter
