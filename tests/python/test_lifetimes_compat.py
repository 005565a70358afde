"""Agreement with ``lifetimes`` where it is installed (it rarely is: it needs old scipy)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retentionkit import BetaGeoFitter

lifetimes = pytest.importorskip(
    "lifetimes", reason="lifetimes is not installed; the comparison with it is skipped"
)


def test_same_fit_and_predictions(cdnow: pd.DataFrame, bgf: BetaGeoFitter) -> None:
    theirs = lifetimes.BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    np.testing.assert_allclose(theirs.params_[bgf.params_.index], bgf.params_, rtol=1e-3)

    theirs.params_ = bgf.params_.copy()  # compare the formulas at identical parameters
    f, r, T = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    np.testing.assert_allclose(
        bgf.conditional_expected_number_of_purchases_up_to_time(39, f, r, T),
        theirs.conditional_expected_number_of_purchases_up_to_time(39, f, r, T),
        rtol=1e-8,
    )
    np.testing.assert_allclose(
        bgf.conditional_probability_alive(f, r, T),
        theirs.conditional_probability_alive(f, r, T),
        rtol=1e-8,
    )
    t = np.array([1.0, 10.0, 39.0, 78.0])
    np.testing.assert_allclose(
        bgf.expected_number_of_purchases_up_to_time(t),
        theirs.expected_number_of_purchases_up_to_time(t),
        rtol=1e-8,
    )
    for n in range(6):
        assert bgf.probability_of_n_purchases_up_to_time(39, n) == pytest.approx(
            theirs.probability_of_n_purchases_up_to_time(39, n), rel=1e-8
        )
    np.testing.assert_allclose(
        bgf.conditional_probability_alive_matrix(),
        theirs.conditional_probability_alive_matrix(),
        rtol=1e-8,
    )
