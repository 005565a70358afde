"""Silent wrong numbers at extreme values outside the BG family (issue 12)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from retentionkit import GammaGammaFitter, InvalidDataError, ShiftedBetaGeometricFitter


def test_sbg_refuses_counts_it_cannot_count() -> None:
    """fit([1e300, 5e299]) used to return its starting values (1, 1) without error."""
    with pytest.raises(InvalidDataError, match="2\\^53"):
        ShiftedBetaGeometricFitter().fit([1e300, 5e299])


def test_gamma_gamma_huge_parameters_give_finite_spend() -> None:
    """params_ = [1e300]*3 used to give inf: pv overflowed before the division."""
    f = GammaGammaFitter()
    f.params_ = [1e300, 1e300, 1e300]
    out = np.asarray(
        f.conditional_expected_average_profit(
            np.array([0.0, 1.0, 4.0]), np.array([0.0, 20.0, 35.0])
        )
    )
    expected = [1e300, (1e300 + 20.0) / 2.0, (1e300 / 4.0 + 35.0) / 1.25]
    for got, want in zip(out, expected):
        assert math.isfinite(got) and got == pytest.approx(want, rel=1e-14)


def test_gamma_gamma_spend_beyond_doubles_is_an_error() -> None:
    f = GammaGammaFitter()
    f.params_ = [1e300, 2.0, 1e300]
    with pytest.raises(ValueError, match="exceeds the largest double"):
        f.conditional_expected_average_profit(np.array([0.0]), np.array([0.0]))
