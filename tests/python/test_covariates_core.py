"""The native covariate models (``retentionkit._core.*CovariatesModel``) against
CLVTools 0.12.1 on CDNOW (``../shared/reference/covariates_cdnow.md``).

The pandas-level API (``fit(..., purchase_covariates=...)``) builds on these
classes; here the core is checked directly.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from retentionkit import InvalidDataError, _core
from retentionkit.datasets import load_dataset


@pytest.fixture(scope="module")
def cdnow_first_spend() -> pd.DataFrame:
    """The CDNOW sample in weeks, calibration to 1997-09-30, with
    log_first_spend = ln(1 + dollars on the first purchase day)."""
    log = load_dataset(
        "CDNOW_sample.txt",
        header=None,
        sep=r"\s+",
        names=["master", "customer", "date", "cds", "dollars"],
        dtype={"date": str},
    )
    log["date"] = pd.to_datetime(log["date"], format="%Y%m%d")
    daily = log.groupby(["customer", "date"], as_index=False)["dollars"].sum()
    end = pd.Timestamp("1997-09-30")
    first = daily.groupby("customer")["date"].min()
    first_spend = daily.sort_values("date").groupby("customer")["dollars"].first()
    cal = daily[daily["date"] <= end]
    grouped = cal.groupby("customer")["date"]
    return pd.DataFrame(
        {
            "frequency": grouped.count() - 1.0,
            "recency": (grouped.max() - first).dt.days / 7.0,
            "T": (end - first).dt.days / 7.0,
            "log_first_spend": np.log1p(first_spend),
        }
    )


def _arrays(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    z = np.ascontiguousarray(df[["log_first_spend"]].to_numpy(dtype=float))
    return (
        df["frequency"].to_numpy(float),
        df["recency"].to_numpy(float),
        df["T"].to_numpy(float),
        z,
    )


def test_pareto_nbd_fit_matches_clvtools(cdnow_first_spend: pd.DataFrame) -> None:
    x, tx, t, z = _arrays(cdnow_first_spend)
    assert len(x) == 2357
    assert z[0, 0] == pytest.approx(3.41213732170049, rel=1e-13)
    model = _core.ParetoNBDCovariatesModel.fit(x, tx, t, z, ["log_first_spend"], [[0], [0]], [])
    assert model.param_names == [
        "r",
        "alpha",
        "s",
        "beta",
        "purchase:log_first_spend",
        "dropout:log_first_spend",
    ]
    # Our optimum is 7e-5 above CLVTools' (which stops earlier).
    assert -9571.98206262848 <= model.log_likelihood <= -9571.98206262848 + 1e-3
    se = np.sqrt(np.diag(model.covariance))
    np.testing.assert_allclose(se[4], 0.0613730458781769, rtol=1e-2)
    restored = _core.ParetoNBDCovariatesModel.from_json(model.to_json())
    np.testing.assert_array_equal(restored.params, model.params)
    assert json.loads(model.to_json())["model"] == "ParetoNBDCovariates"


def test_pareto_nbd_predictions_match_clvtools(cdnow_first_spend: pd.DataFrame) -> None:
    model = _core.ParetoNBDCovariatesModel.from_params(
        [
            0.572935325339591,
            36.8716471200374,
            0.612989709595729,
            12.3445499661293,
            0.364454361636481,
            0.00869821437825145,
        ],
        ["log_first_spend"],
        [[0], [0]],
        [],
    )
    rows = cdnow_first_spend.loc[[1, 10, 100, 1000]]
    x, tx, t, z = _arrays(rows)
    np.testing.assert_allclose(
        model.conditional_probability_alive(x, tx, t, z),
        [0.868430237539447, 0.292027406097153, 0.766381557176691, 0.801784309987469],
        rtol=1e-8,
    )
    np.testing.assert_allclose(
        model.conditional_expected_number_of_purchases_up_to_time(np.full(4, 39.0), x, tx, t, z),
        [1.46204844593519, 0.109751398386115, 0.762031036658857, 2.38412266871474],
        rtol=1e-8,
    )


def test_zero_coefficients_predict_as_the_plain_model(cdnow_first_spend: pd.DataFrame) -> None:
    x, tx, t, z = _arrays(cdnow_first_spend)
    base = [0.243, 4.414, 0.793, 2.426]
    plain = _core.BetaGeoModel.from_params(base)
    with_cov = _core.BetaGeoCovariatesModel.from_params(
        [*base, 0.0, 0.0, 0.0], ["log_first_spend"], [[0], [0], [0]], []
    )
    np.testing.assert_allclose(
        with_cov.conditional_probability_alive(x, tx, t, z),
        plain.conditional_probability_alive(x, tx, t),
        rtol=1e-14,
    )
    horizon = np.linspace(0.0, 52.0, len(x))
    np.testing.assert_allclose(
        with_cov.expected_number_of_purchases_up_to_time(horizon, z),
        plain.expected_number_of_purchases_up_to_time(horizon),
        rtol=1e-14,
    )


def test_bad_covariates_are_refused(cdnow_first_spend: pd.DataFrame) -> None:
    x, tx, t, z = _arrays(cdnow_first_spend)
    bad = z.copy()
    bad[5, 0] = np.nan
    with pytest.raises(InvalidDataError, match="covariates must be finite") as info:
        _core.BetaGeoCovariatesModel.fit(x, tx, t, bad, ["log_first_spend"], [[0], [0], [0]], [])
    assert info.value.row == 5
    with pytest.raises(ValueError, match="2 columns; the model takes 1"):
        _core.BetaGeoCovariatesModel.fit(
            x, tx, t, np.hstack([z, z]), ["log_first_spend"], [[0], [0], [0]], []
        )
    with pytest.raises(ValueError, match="invalid covariates"):
        _core.BetaGeoCovariatesModel.fit(x, tx, t, z, ["log_first_spend"], [[0], [0]], [])
