"""Model comparison: published log-likelihoods, the chi-square test, holdout errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from cdnow_holdout import cdnow_calibration_holdout
from hypothesis import given
from hypothesis import strategies as st
from reference_values import FHL2005_LOG_LIKELIHOOD, reference

from retentionkit import (
    BetaDiscreteWeibullFitter,
    BetaGeoBetaBinomFitter,
    BetaGeoFitter,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
    ShiftedBetaGeometricFitter,
    compare_models,
)
from retentionkit.datasets import load_donations, load_retention_cohorts
from retentionkit.model_comparison import (
    chi_square,
    chi_square_sf,
    period_transactions_chi_square,
    period_transactions_table,
)

#: Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing
#: Science 24(2), section 4: the Pareto/NBD log-likelihood on the CDNOW sample,
#: beside the BG/NBD's -9582.4.
FHL2005_PARETO_NBD_LOG_LIKELIHOOD = reference("pnbd_cdnow_fh2005")["log_likelihood"]

COLUMNS = [
    "log_likelihood",
    "n_params",
    "aic",
    "bic",
    "chi_square",
    "chi_square_dof",
    "chi_square_p_value",
]
HOLDOUT_COLUMNS = ["holdout_mae", "holdout_rmse", "holdout_relative_error"]


@pytest.fixture(scope="module")
def holdout_frame() -> pd.DataFrame:
    return cdnow_calibration_holdout()


@pytest.fixture(scope="module")
def calibration(holdout_frame: pd.DataFrame) -> pd.DataFrame:
    cal = holdout_frame[["frequency_cal", "recency_cal", "T_cal"]]
    return cal.set_axis(["frequency", "recency", "T"], axis=1)


@pytest.fixture(scope="module")
def models(calibration: pd.DataFrame) -> dict[str, BetaGeoFitter | ParetoNBDFitter]:
    return {
        "BG/NBD": BetaGeoFitter().fit(calibration),
        "Pareto/NBD": ParetoNBDFitter().fit(calibration),
    }


# -- published values ------------------------------------------------------------------------


def test_cdnow_log_likelihoods_match_fhl2005(cdnow: pd.DataFrame) -> None:
    table = compare_models(
        {"BG/NBD": BetaGeoFitter().fit(cdnow), "Pareto/NBD": ParetoNBDFitter().fit(cdnow)}
    )
    assert list(table.columns) == COLUMNS
    assert list(table.index) == ["BG/NBD", "Pareto/NBD"]
    assert table.index.name == "model"
    assert table.loc["BG/NBD", "log_likelihood"] == pytest.approx(FHL2005_LOG_LIKELIHOOD, abs=0.05)
    assert table.loc["Pareto/NBD", "log_likelihood"] == pytest.approx(
        FHL2005_PARETO_NBD_LOG_LIKELIHOOD, abs=0.05
    )
    # "Close": the two models fit CDNOW about equally well (FHL 2005).
    difference = table.loc["BG/NBD", "log_likelihood"] - table.loc["Pareto/NBD", "log_likelihood"]
    assert 0 < difference < 20


def test_criteria_follow_the_log_likelihood(cdnow: pd.DataFrame) -> None:
    fitted = {
        "BG/NBD": BetaGeoFitter().fit(cdnow),
        "MBG/NBD": ModifiedBetaGeoFitter().fit(cdnow),
        "Pareto/NBD": ParetoNBDFitter().fit(cdnow),
    }
    table = compare_models(fitted)
    assert (table["n_params"] == 4).all()
    assert table["n_params"].dtype == np.int64
    ll = table["log_likelihood"]
    np.testing.assert_allclose(table["aic"], 2 * 4 - 2 * ll)
    np.testing.assert_allclose(table["bic"], 4 * math.log(len(cdnow)) - 2 * ll)
    # Equal parameter counts: the AIC and BIC order the models as the likelihood does.
    by_ll = list(ll.sort_values(ascending=False).index)
    assert list(table["aic"].sort_values().index) == by_ll
    assert list(table["bic"].sort_values().index) == by_ll
    for name, model in fitted.items():
        assert table.loc[name, "log_likelihood"] == model.log_likelihood_
        assert table.loc[name, "aic"] == pytest.approx(model.aic)


# -- chi-square -------------------------------------------------------------------------------


def test_chi_square_hand_checked() -> None:
    # (10 - 15)^2 / 15 + (20 - 15)^2 / 15 + 0 = 10/3 on 3 - 1 = 2 dof, whose survival
    # function is exp(-x / 2).
    result = chi_square([10, 20, 30], [15, 15, 30])
    assert result.statistic == pytest.approx(10 / 3, rel=1e-14)
    assert result.dof == 2
    assert result.p_value == pytest.approx(math.exp(-5 / 3), rel=1e-12)
    # One estimated parameter: 1 dof, survival function erfc(sqrt(x / 2)).
    one = chi_square([10, 20, 30], [15, 15, 30], n_params=1)
    assert one.dof == 1
    assert one.p_value == pytest.approx(math.erfc(math.sqrt(5 / 3)), rel=1e-12)
    statistic, dof, p_value = chi_square([10, 20, 30], [15, 15, 30], n_params=2)
    assert (statistic, dof) == (pytest.approx(10 / 3), 0)
    assert math.isnan(p_value)


def test_chi_square_empty_bins() -> None:
    assert chi_square([5, 0], [5, 0]).statistic == 0
    assert chi_square([4, 1], [5, 0]).statistic == math.inf
    with pytest.raises(ValueError, match="same length"):
        chi_square([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="non-negative"):
        chi_square([1, -2], [1, 2])


@pytest.mark.parametrize(
    ("statistic", "dof", "expected"),
    [
        # Critical values of the chi-square tables.
        (3.841458820694124, 1, 0.05),
        (5.991464547107979, 2, 0.05),
        (7.814727903251178, 3, 0.05),
        (6.634896601021214, 1, 0.01),
        (11.344866730144373, 3, 0.01),
        (18.307038053275146, 10, 0.05),
        (124.34211340400407, 100, 0.05),
        (0.0, 4, 1.0),
    ],
)
def test_chi_square_sf_critical_values(statistic: float, dof: int, expected: float) -> None:
    assert chi_square_sf(statistic, dof) == pytest.approx(expected, rel=1e-9)


def _poisson_tail(dof: int, x: float) -> float:
    """P(chi2_dof > x) for even dof: P(Poisson(x/2) < dof/2)."""
    half = x / 2
    return math.exp(-half) * sum(half**j / math.factorial(j) for j in range(dof // 2))


@given(
    half_dof=st.integers(min_value=1, max_value=40),
    x=st.floats(min_value=1e-3, max_value=200.0),
)
def test_chi_square_sf_even_dof_matches_poisson_sum(half_dof: int, x: float) -> None:
    expected = _poisson_tail(2 * half_dof, x)
    assert chi_square_sf(x, 2 * half_dof) == pytest.approx(expected, rel=1e-10, abs=1e-300)


@given(x=st.floats(min_value=1e-6, max_value=400.0))
def test_chi_square_sf_odd_dof_matches_erfc_recurrence(x: float) -> None:
    # Q(1/2, y) = erfc(sqrt(y)); Q(a + 1, y) = Q(a, y) + y^a e^-y / Gamma(a + 1).
    y = x / 2
    q1 = math.erfc(math.sqrt(y))
    q3 = q1 + math.exp(0.5 * math.log(y) - y - math.lgamma(1.5))
    assert chi_square_sf(x, 1) == pytest.approx(q1, rel=1e-10, abs=1e-300)
    assert chi_square_sf(x, 3) == pytest.approx(q3, rel=1e-10, abs=1e-300)


def test_period_transactions_chi_square_on_cdnow(bgf: BetaGeoFitter) -> None:
    table = period_transactions_table(bgf, 7)
    assert list(table.index) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert table["actual"].tolist() == [1411, 439, 214, 100, 62, 38, 29, 64]
    assert table["actual"].sum() == pytest.approx(2357)
    assert table["expected"].sum() == pytest.approx(2357)
    test = period_transactions_chi_square(bgf, 7)
    by_hand = ((table["actual"] - table["expected"]) ** 2 / table["expected"]).sum()
    assert test.statistic == pytest.approx(by_hand, rel=1e-12)
    assert test.dof == 8 - 1 - 4
    # The BG/NBD is not rejected on CDNOW (FHL 2005, Figure 3).
    assert test.p_value > 0.05


def test_bgbb_period_transactions_match_expected_counts() -> None:
    bbf = BetaGeoBetaBinomFitter().fit(load_donations())
    table = period_transactions_table(bbf, 7)
    # At most 6 donations in 6 opportunities: the last bin is "6+" = exactly 6.
    assert list(table.index) == ["0", "1", "2", "3", "4", "5", "6+"]
    expected = bbf.expected_number_of_transactions_in_first_n_periods(6)["model"]
    np.testing.assert_allclose(table["expected"], expected, rtol=1e-10)
    actual = bbf.data.groupby("frequency")["weights"].sum()
    np.testing.assert_allclose(table["actual"], actual)
    row = compare_models({"BG/BB": bbf}).loc["BG/BB"]
    assert row["chi_square_dof"] == 7 - 1 - 4


# -- holdout ---------------------------------------------------------------------------------


def test_holdout_errors(
    models: dict[str, BetaGeoFitter | ParetoNBDFitter], holdout_frame: pd.DataFrame
) -> None:
    table = compare_models(models, holdout=holdout_frame)
    assert list(table.columns) == COLUMNS + HOLDOUT_COLUMNS
    actual = holdout_frame["frequency_holdout"]
    # FHL (2005): 1,882 repeat purchases in weeks 40-78.
    assert actual.sum() == 1882
    for name, model in models.items():
        predicted = model.predict(
            holdout_frame["duration_holdout"],
            holdout_frame["frequency_cal"],
            holdout_frame["recency_cal"],
            holdout_frame["T_cal"],
        )
        error = predicted - actual
        row = table.loc[name]
        assert row["holdout_mae"] == pytest.approx(error.abs().mean())
        assert row["holdout_rmse"] == pytest.approx(math.sqrt((error**2).mean()))
        assert row["holdout_relative_error"] == pytest.approx(error.sum() / actual.sum())
        # Both models under-forecast the holdout weeks by about a tenth.
        assert -0.2 < row["holdout_relative_error"] < 0


def test_calibration_and_holdout_given_separately(
    models: dict[str, BetaGeoFitter | ParetoNBDFitter],
    holdout_frame: pd.DataFrame,
    calibration: pd.DataFrame,
) -> None:
    combined = compare_models(models, holdout=holdout_frame)
    split = compare_models(
        models,
        calibration=calibration,
        holdout=holdout_frame[["frequency_holdout", "duration_holdout"]],
    )
    pd.testing.assert_frame_equal(split, combined)
    as_calibration = compare_models(models, calibration=holdout_frame)
    pd.testing.assert_frame_equal(as_calibration, combined)
    without_holdout = compare_models(models, calibration=calibration)
    assert list(without_holdout.columns) == COLUMNS


def test_models_must_share_the_calibration_data(
    models: dict[str, BetaGeoFitter | ParetoNBDFitter],
    calibration: pd.DataFrame,
    cdnow: pd.DataFrame,
    holdout_frame: pd.DataFrame,
) -> None:
    other = BetaGeoFitter().fit(calibration.iloc[:1000])
    with pytest.raises(ValueError, match="not fitted on the same data"):
        compare_models({"all": models["BG/NBD"], "first 1000": other})
    # load_cdnow_summary rounds recency and T to two decimals: not the same data.
    rounded = BetaGeoFitter().fit(cdnow)
    with pytest.raises(ValueError, match="calibration data given"):
        compare_models({"rounded": rounded}, holdout=holdout_frame)
    holdout_only = holdout_frame[["frequency_holdout", "duration_holdout"]]
    with pytest.raises(ValueError, match="calibration histories"):
        compare_models(models, holdout=holdout_only)
    with pytest.raises(ValueError, match="no models"):
        compare_models({})


def test_same_data_in_another_order_or_weighted(calibration: pd.DataFrame) -> None:
    reordered = calibration.sample(frac=1.0, random_state=1)
    compressed = (
        calibration.groupby(["frequency", "recency", "T"]).size().rename("weights").reset_index()
    )
    table = compare_models(
        {
            "plain": BetaGeoFitter().fit(calibration),
            "reordered": BetaGeoFitter().fit(reordered),
            "weighted": BetaGeoFitter().fit(compressed),
        }
    )
    np.testing.assert_allclose(table["log_likelihood"], table["log_likelihood"].iloc[0], rtol=1e-8)


def test_contractual_models_have_no_chi_square() -> None:
    cohorts = load_retention_cohorts().loc[:7]
    table = compare_models(
        {
            "sBG": ShiftedBetaGeometricFitter().fit(cohorts),
            "BdW": BetaDiscreteWeibullFitter().fit(cohorts),
        }
    )
    assert table["n_params"].tolist() == [2, 3]
    assert table["chi_square"].isna().all()
    # Nested models: the BdW's extra parameter cannot lower the likelihood.
    assert table.loc["BdW", "log_likelihood"] >= table.loc["sBG", "log_likelihood"] - 1e-6
    with pytest.raises(ValueError, match="not fitted on the same data"):
        compare_models(
            {
                "all": ShiftedBetaGeometricFitter().fit(cohorts),
                "regular": ShiftedBetaGeometricFitter().fit(cohorts["regular"]),
            }
        )
