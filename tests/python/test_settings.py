"""Bad settings are reported as bad settings, as a ValueError naming the setting.

Before: a negative ``max_iterations`` or ``seed`` raised OverflowError, ``tol=inf``
stopped the optimiser at once and was reported as "the data do not identify the
model", ``initial_params`` errors did not say they were about the starting values,
``conditional_probability_alive_matrix(2.5, 5)`` ran, NaN gave numpy's "arange:
cannot compute length", ``calibration_and_holdout_data`` refused tz-aware logs with
naive ends (TypeError) and compared wall clocks across timezones, and
``retentionkit fit --horizon nan`` fitted and wrote NaN.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest

from retentionkit import (
    BetaGeoBetaBinomFitter,
    BetaGeoFitter,
    GammaGammaFitter,
    ParetoNBDFitter,
    ShiftedBetaGeometricFitter,
)
from retentionkit.utils import calibration_and_holdout_data, summary_data_from_transaction_data

SMALL = pd.DataFrame(
    {"frequency": [0, 1, 2, 3, 0, 5], "recency": [0, 2, 5, 7, 0, 9], "T": [10.0] * 6}
)
SPEND = ([1, 2, 3, 4], [5.0, 6.0, 7.5, 4.0])


def _fit_calls() -> list[tuple[str, Callable[..., Any]]]:
    return [
        ("BG/NBD", lambda **kw: BetaGeoFitter().fit(SMALL, **kw)),
        ("Pareto/NBD", lambda **kw: ParetoNBDFitter().fit(SMALL, **kw)),
        ("Gamma-Gamma", lambda **kw: GammaGammaFitter().fit(*SPEND, **kw)),
        ("sBG", lambda **kw: ShiftedBetaGeometricFitter().fit([100, 80, 65, 55], **kw)),
        ("BG/BB", lambda **kw: BetaGeoBetaBinomFitter().fit([0, 1, 2], [0, 2, 3], [4, 4, 4], **kw)),
    ]


@pytest.mark.parametrize(("model", "fit"), _fit_calls())
@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"max_iterations": -1}, "max_iterations must be a positive integer, got -1"),
        ({"max_iterations": 0}, "max_iterations must be a positive integer, got 0"),
        ({"max_iterations": 2.5}, "max_iterations must be a positive integer, got 2.5"),
        ({"max_iterations": "10"}, "max_iterations must be a positive integer, got '10'"),
        ({"tol": float("inf")}, "tol must be positive and finite, got inf"),
        ({"tol": float("nan")}, "tol must be positive and finite, got nan"),
        ({"tol": 0.0}, "tol must be positive and finite, got 0.0"),
        ({"tol": -1e-6}, "tol must be positive and finite"),
        ({"initial_params": [1.0]}, "initial_params has 1 values; it needs"),
        ({"initial_params": "1234"}, "initial_params must be a sequence of"),
        ({"initial_params": 3.0}, "initial_params must be a sequence of"),
    ],
)
def test_bad_fit_settings_are_value_errors_naming_the_setting(
    model: str, fit: Callable[..., Any], settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        fit(**settings)


@pytest.mark.parametrize("bad", [-1.0, 0.0, float("nan"), float("inf")])
def test_absurd_starting_values_are_named(bad: float) -> None:
    with pytest.raises(ValueError, match=r"initial_params: alpha = (-1|0|nan|inf); every"):
        BetaGeoFitter().fit(SMALL, initial_params=[1.0, bad, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"initial_params: q = "):
        GammaGammaFitter().fit(*SPEND, initial_params=[1.0, bad, 1.0])


def test_good_settings_still_fit(cdnow: pd.DataFrame) -> None:
    start = np.array([0.5, 2.0, 1.0, 1.0])
    fitter = BetaGeoFitter().fit(cdnow, initial_params=start, tol=1e-6, max_iterations=np.int64(50))
    assert np.isfinite(fitter.params_).all()
    assert BetaGeoFitter().fit(cdnow, max_iterations=100.0).params_.notna().all()


@pytest.fixture(scope="module")
def bgf() -> BetaGeoFitter:
    fitter = BetaGeoFitter()
    fitter.params_ = [0.243, 4.414, 0.793, 2.426]
    return fitter


@pytest.mark.parametrize("seed", [-1, 2**64, 2.5, float("nan"), "7"])
def test_bad_seeds(bgf: BetaGeoFitter, seed: Any) -> None:
    sbg = ShiftedBetaGeometricFitter()
    sbg.params_ = [1.0, 2.0]
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        bgf.generate_new_data(size=3, seed=seed)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        bgf.conditional_probability_alive_interval(1, 2.0, 5.0, seed=seed)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        sbg.generate_new_data(size=3, seed=seed)


def test_largest_seed_is_fine(bgf: BetaGeoFitter) -> None:
    assert len(bgf.generate_new_data(size=3, seed=2**64 - 1)) == 3


def test_bad_n_draws(bgf: BetaGeoFitter) -> None:
    with pytest.raises(ValueError, match="n_draws must be a non-negative integer, got -1"):
        bgf.conditional_probability_alive_interval(1, 2.0, 5.0, n_draws=-1)


def test_n_draws_is_bounded(bgf: BetaGeoFitter) -> None:
    # 1e10 draws used to be attempted: memory runs out, which aborts the process.
    with pytest.raises(ValueError, match=r"n_draws = 10000000000 \(at most 50,000"):
        bgf.conditional_probability_alive_interval(1, 2.0, 5.0, n_draws=10**10)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((2.5, 5), "max_frequency must be a non-negative integer, got 2.5"),
        ((5, 2.5), "max_recency must be a non-negative integer, got 2.5"),
        ((float("nan"), 5), "max_frequency must be a non-negative integer, got nan"),
        ((5, float("inf")), "max_recency must be a non-negative integer, got inf"),
        ((-1, 5), "max_frequency must be a non-negative integer, got -1"),
        ((10**5, 10**5), "at most 10,000,000 are computed"),
    ],
)
def test_alive_matrix_bounds(bgf: BetaGeoFitter, args: tuple[Any, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        bgf.conditional_probability_alive_matrix(*args)


def test_alive_matrix_accepts_whole_floats(bgf: BetaGeoFitter) -> None:
    assert bgf.conditional_probability_alive_matrix(3.0, np.int32(4)).shape == (5, 4)


# -- timezones ----------------------------------------------------------------------

PARIS = pd.DataFrame(
    {
        "id": [1, 1, 2, 2, 3],
        "when": pd.to_datetime(
            [
                "2024-01-01 10:00",
                "2024-01-05 00:00",
                "2024-01-03 00:00",
                "2024-01-20 00:00",
                "2024-01-02 00:00",
            ]
        ).tz_localize("Europe/Paris"),
    }
)


def test_calibration_accepts_a_tz_aware_log_with_naive_ends() -> None:
    naive = PARIS.assign(when=PARIS["when"].dt.tz_localize(None))
    expected = calibration_and_holdout_data(naive, "id", "when", "2024-01-10", "2024-01-25")
    got = calibration_and_holdout_data(PARIS, "id", "when", "2024-01-10", "2024-01-25")
    pd.testing.assert_frame_equal(got, expected)


def test_calibration_compares_instants_across_timezones() -> None:
    # 2024-01-04 23:30 UTC is 2024-01-05 00:30 in Paris: after customer 1's second
    # purchase (2024-01-05 00:00 Paris), which a wall-clock comparison would miss.
    end = pd.Timestamp("2024-01-04 23:30", tz="UTC")
    out = calibration_and_holdout_data(PARIS, "id", "when", end, "2024-01-25")
    assert out.loc[1, "frequency_cal"] == 1
    assert out.loc[1, "T_cal"] == 4  # days 2024-01-01 .. 2024-01-05 (Paris)
    text_end = calibration_and_holdout_data(PARIS, "id", "when", "2024-01-04T23:30+00:00")
    assert text_end.loc[1, "frequency_cal"] == 1
    obs = pd.Timestamp("2024-01-24 23:30", tz="UTC")  # 2024-01-25 00:30 in Paris
    out = calibration_and_holdout_data(PARIS, "id", "when", "2024-01-10", obs)
    assert out["duration_holdout"].iloc[0] == 15


def test_the_summary_compares_instants_too() -> None:
    obs = pd.Timestamp("2024-01-24 23:30", tz="UTC")  # 2024-01-25 00:30 in Paris
    summary = summary_data_from_transaction_data(PARIS, "id", "when", observation_period_end=obs)
    assert summary.loc[1, "T"] == 24


def test_a_timezone_on_the_end_only_is_refused() -> None:
    naive = PARIS.assign(when=PARIS["when"].dt.tz_localize(None))
    with pytest.raises(ValueError, match=r"calibration_period_end .* has a timezone but"):
        calibration_and_holdout_data(naive, "id", "when", pd.Timestamp("2024-01-10", tz="UTC"))


# -- the command line -----------------------------------------------------------------


@pytest.mark.parametrize("horizon", ["nan", "inf", "-1"])
def test_cli_refuses_a_bad_horizon_before_fitting(tmp_path: Path, horizon: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "retentionkit", "fit", "--horizon", horizon],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--horizon must be a non-negative, finite number" in result.stderr
    assert "fitted" not in result.stdout and "CDNOW" not in result.stdout
