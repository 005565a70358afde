"""sBG and BdW fitters: published reference values, input forms, predictions, persistence."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_values import params

from retentionkit import (
    BetaDiscreteWeibullFitter,
    ConvergenceError,
    NotFittedError,
    ShiftedBetaGeometricFitter,
    retention_table,
)
from retentionkit.datasets import load_retention_cohorts

#: Fader & Hardie (2007), "How to project customer retention", Journal of
#: Interactive Marketing 21(1): sBG fitted to years 0..7 of each cohort.
FH2007 = {name: tuple(params(f"sbg_{name}_fh2007").values()) for name in ("regular", "high_end")}


@pytest.fixture(scope="module")
def cohorts() -> pd.DataFrame:
    return load_retention_cohorts()


@pytest.fixture(scope="module")
def regular_fit(cohorts: pd.DataFrame) -> ShiftedBetaGeometricFitter:
    return ShiftedBetaGeometricFitter().fit(cohorts["regular"].loc[:7])


def test_dataset(cohorts: pd.DataFrame) -> None:
    assert cohorts.shape == (13, 2)
    assert list(cohorts.columns) == ["regular", "high_end"]
    assert cohorts.index.name == "period"
    assert cohorts.loc[0].tolist() == [1000, 1000]
    assert cohorts.loc[12].tolist() == [173, 394]


@pytest.mark.parametrize("name", sorted(FH2007))
def test_fader_hardie_2007_estimates_and_projections(cohorts: pd.DataFrame, name: str) -> None:
    fitter = ShiftedBetaGeometricFitter().fit(cohorts[name].loc[:7].tolist())
    alpha, beta = FH2007[name]
    assert fitter.params_["alpha"] == pytest.approx(alpha, abs=5e-4)
    assert fitter.params_["beta"] == pytest.approx(beta, abs=5e-4)
    # Figure 4 of the paper: years 8..12 projected slightly below the actual
    # counts, within 5%.
    projected = 1000 * fitter.survival_function(np.arange(8, 13))
    actual = cohorts[name].loc[8:].to_numpy()
    assert np.all(projected < actual)
    assert np.all(projected / actual > 0.95)


def test_fit_statistics(regular_fit: ShiftedBetaGeometricFitter) -> None:
    ll = regular_fit.log_likelihood_
    assert regular_fit.aic == pytest.approx(4 - 2 * ll)
    assert regular_fit.bic == pytest.approx(2 * math.log(1000) - 2 * ll)
    summary = regular_fit.summary
    assert list(summary.index) == ["alpha", "beta"]
    assert list(summary.columns) == ["coef", "se(coef)", "lower 95% bound", "upper 95% bound"]
    assert (summary["se(coef)"] > 0).all()
    assert regular_fit.n_customers_ == 1000
    assert "1000 subjects" in repr(regular_fit)


def test_input_forms_agree(cohorts: pd.DataFrame) -> None:
    first = cohorts.loc[:7]
    frame = ShiftedBetaGeometricFitter().fit(first).params_
    as_cohorts = ShiftedBetaGeometricFitter().fit(cohorts=first).params_
    as_dict = ShiftedBetaGeometricFitter().fit(cohorts={k: v.tolist() for k, v in first.items()})
    as_list = ShiftedBetaGeometricFitter().fit(cohorts=[first["regular"], first["high_end"]])
    for other in (as_cohorts, as_dict.params_, as_list.params_):
        pd.testing.assert_series_equal(other, frame)
    # A younger cohort ends with NaN: the same as passing it shorter.
    young = cohorts.copy().astype(float)
    young.loc[9:, "high_end"] = np.nan
    padded = ShiftedBetaGeometricFitter().fit(young).params_
    short = (
        ShiftedBetaGeometricFitter()
        .fit(cohorts=[cohorts["regular"].tolist(), cohorts["high_end"].loc[:8].tolist()])
        .params_
    )
    pd.testing.assert_series_equal(padded, short)


def test_records_equal_counts(cohorts: pd.DataFrame) -> None:
    counts = cohorts["high_end"].loc[:7].to_numpy()
    churned_at = -np.diff(counts)
    durations = np.concatenate([np.arange(1, 8), [7]]).astype(float)
    churned = np.array([True] * 7 + [False])
    weights = np.concatenate([churned_at, [counts[-1]]]).astype(float)
    by_records = ShiftedBetaGeometricFitter().fit(
        durations=durations, churned=churned, weights=weights
    )
    by_counts = ShiftedBetaGeometricFitter().fit(counts)
    pd.testing.assert_series_equal(by_records.params_, by_counts.params_)
    assert by_records.log_likelihood_ == pytest.approx(by_counts.log_likelihood_, rel=1e-12)
    # churned as 0/1 numbers.
    as_numbers = ShiftedBetaGeometricFitter().fit(
        durations=durations, churned=churned.astype(int), weights=weights
    )
    pd.testing.assert_series_equal(as_numbers.params_, by_counts.params_)
    assert list(by_records.data.columns) == ["duration", "churned", "weights"]


@pytest.mark.parametrize(
    ("fitter_class", "params", "n_periods"),
    [
        (ShiftedBetaGeometricFitter, params("sbg_regular_fh2007"), 12),
        (BetaDiscreteWeibullFitter, {"alpha": 0.8, "beta": 2.0, "c": 0.7}, 24),
    ],
)
def test_simulate_then_refit(fitter_class: type, params: dict[str, float], n_periods: int) -> None:
    truth = fitter_class()
    truth.params_ = params
    sim = truth.generate_new_data(20_000, n_periods=n_periods, seed=5)
    assert list(sim.columns) == ["duration", "churned", "theta", "customer_id"]
    assert sim["churned"].dtype == bool
    pd.testing.assert_frame_equal(sim, truth.generate_new_data(20_000, n_periods=n_periods, seed=5))
    fitted = fitter_class().fit(durations=sim["duration"], churned=sim["churned"])
    se = fitted.standard_errors_
    for name, value in params.items():
        assert abs(fitted.params_[name] - value) < 4 * se[name], (name, fitted.summary)


def test_bad_counts_name_period_and_cohort(cohorts: pd.DataFrame) -> None:
    bad = cohorts.copy()
    bad.loc[3, "high_end"] = 900
    with pytest.raises(ValueError, match=r"must not increase.*period 3.*'high_end'"):
        ShiftedBetaGeometricFitter().fit(bad)
    with pytest.raises(ValueError, match=r"non-negative integers.*period 1"):
        ShiftedBetaGeometricFitter().fit([100, -5, 3])
    with pytest.raises(ValueError, match="positive number of customers"):
        ShiftedBetaGeometricFitter().fit(cohorts={"a": [100, 50], "b": [0, 0]})
    gap = cohorts.astype(float)
    gap.loc[4, "regular"] = np.nan
    with pytest.raises(ValueError, match=r"'regular'.*period 4.*only allowed at the end"):
        ShiftedBetaGeometricFitter().fit(gap)
    with pytest.raises(ValueError, match="durations must be positive integers"):
        ShiftedBetaGeometricFitter().fit(durations=[1, 0], churned=[True, False])
    with pytest.raises(ValueError, match=r"churned must be True/False or 1/0.*row: 1"):
        ShiftedBetaGeometricFitter().fit(durations=[1, 2], churned=[1, 2])
    with pytest.raises(ValueError, match="exactly one"):
        ShiftedBetaGeometricFitter().fit()
    with pytest.raises(ValueError, match="exactly one"):
        ShiftedBetaGeometricFitter().fit([10, 5], durations=[1])
    with pytest.raises(ValueError, match="need churned"):
        ShiftedBetaGeometricFitter().fit(durations=[1, 2])


def test_no_heterogeneity_is_unidentified() -> None:
    # Exactly geometric counts: alpha and beta run off to infinity together.
    counts = [2 ** (10 - t) for t in range(10)]
    with pytest.raises(ConvergenceError, match="do not identify"):
        ShiftedBetaGeometricFitter().fit(counts)


def test_predictions(regular_fit: ShiftedBetaGeometricFitter) -> None:
    alpha, beta = regular_fit.params_
    t = np.arange(1, 40)
    s = regular_fit.survival_function(t)
    r = regular_fit.retention_rate(t)
    np.testing.assert_allclose(r, (beta + t - 1) / (alpha + beta + t - 1), rtol=1e-12)
    assert np.all(np.diff(r) > 0) and np.all((r > 0) & (r < 1))
    np.testing.assert_allclose(s, np.cumprod(r), rtol=1e-12)
    p = regular_fit.probability_of_churn_at(t)
    np.testing.assert_allclose(1 - np.cumsum(p), s, atol=1e-12)
    assert regular_fit.survival_function(0) == 1.0
    series = regular_fit.survival_function(pd.Series([1, 2], index=["a", "b"]))
    assert list(series.index) == ["a", "b"]
    assert math.isinf(regular_fit.expected_lifetime)  # alpha < 1
    with pytest.raises(ValueError, match="at least 1"):
        regular_fit.retention_rate(0)
    with pytest.raises(ValueError, match="non-negative integer"):
        regular_fit.survival_function(1.5)


def test_expected_lifetime() -> None:
    sbg = ShiftedBetaGeometricFitter()
    sbg.params_ = [2.5, 3.0]
    assert sbg.expected_lifetime == pytest.approx(4.5 / 1.5)
    bdw = BetaDiscreteWeibullFitter()
    bdw.params_ = [2.5, 3.0, 1.0]
    assert bdw.expected_lifetime == pytest.approx(3.0, rel=1e-8)
    bdw.params_ = [2.5, 3.0, 0.3]
    assert math.isinf(bdw.expected_lifetime)


@pytest.mark.parametrize("fitter_class", [ShiftedBetaGeometricFitter, BetaDiscreteWeibullFitter])
def test_discounted_lifetimes_equal_direct_sums(fitter_class: type) -> None:
    fitter = fitter_class()
    sbg = fitter_class is ShiftedBetaGeometricFitter
    fitter.params_ = list(FH2007["high_end"]) if sbg else [0.9, 2.5, 0.6]
    t = np.arange(0, 6000)
    s = fitter.survival_function(t)
    for d in (0.1, 0.25):
        discount = (1 + d) ** -t.astype(float)
        assert fitter.discounted_expected_lifetime(d) == pytest.approx(np.sum(s * discount))
        for n in (0, 2, 10):
            derl = np.sum(s[n + 1 :] / s[n] * discount[: len(s) - n - 1])
            assert fitter.discounted_expected_residual_lifetime(n, d) == pytest.approx(derl)
    values = fitter.discounted_expected_residual_lifetime([0, 1, 5], 0.1)
    assert values.shape == (3,) and np.all(np.diff(values) > 0)
    with pytest.raises(ValueError, match="discount rate must be positive"):
        fitter.discounted_expected_lifetime(0.0)


def test_bdw_with_c_one_is_sbg(regular_fit: ShiftedBetaGeometricFitter) -> None:
    bdw = BetaDiscreteWeibullFitter()
    bdw.params_ = [*regular_fit.params_, 1.0]
    t = np.arange(1, 30)
    np.testing.assert_allclose(
        bdw.survival_function(t), regular_fit.survival_function(t), rtol=1e-11
    )
    np.testing.assert_allclose(bdw.retention_rate(t), regular_fit.retention_rate(t), rtol=1e-11)
    assert bdw.discounted_expected_residual_lifetime(3, 0.1) == pytest.approx(
        regular_fit.discounted_expected_residual_lifetime(3, 0.1), rel=1e-10
    )


def test_bdw_fit(cohorts: pd.DataFrame) -> None:
    bdw = BetaDiscreteWeibullFitter().fit(cohorts["regular"].loc[:7])
    sbg = ShiftedBetaGeometricFitter().fit(cohorts["regular"].loc[:7])
    assert list(bdw.params_.index) == ["alpha", "beta", "c"]
    # One more parameter: at least as good a fit.
    assert bdw.log_likelihood_ >= sbg.log_likelihood_ - 1e-6
    assert bdw.aic == pytest.approx(6 - 2 * bdw.log_likelihood_)


def test_retention_table(cohorts: pd.DataFrame, regular_fit: ShiftedBetaGeometricFitter) -> None:
    table = regular_fit.retention_table(cohorts["regular"])
    assert list(table.columns) == [
        "survivors",
        "retention_rate",
        "churn_rate",
        "projected_survivors",
        "projected_retention_rate",
        "projected_churn_rate",
    ]
    assert table.index.equals(cohorts.index)
    assert math.isnan(table.loc[0, "retention_rate"])
    assert table.loc[1, "retention_rate"] == pytest.approx(0.631)
    assert table.loc[1, "churn_rate"] == pytest.approx(0.369)
    assert table.loc[0, "projected_survivors"] == 1000
    np.testing.assert_allclose(
        table["projected_survivors"].loc[1:], 1000 * regular_fit.survival_function(np.arange(1, 13))
    )
    plain = retention_table([100, 80, np.nan])
    assert list(plain.columns) == ["survivors", "retention_rate", "churn_rate"]
    assert plain.index.name == "period"
    with pytest.raises(NotFittedError):
        ShiftedBetaGeometricFitter().retention_table([100, 80])


def test_persistence(tmp_path: Path, regular_fit: ShiftedBetaGeometricFitter) -> None:
    path = tmp_path / "sbg.json"
    regular_fit.save_model(path)
    loaded = ShiftedBetaGeometricFitter().load_model(path)
    pd.testing.assert_series_equal(loaded.params_, regular_fit.params_)
    assert loaded.log_likelihood_ == regular_fit.log_likelihood_
    clone = pickle.loads(pickle.dumps(regular_fit))
    pd.testing.assert_series_equal(clone.params_, regular_fit.params_)
    with pytest.raises(ValueError, match="ShiftedBetaGeometric"):
        BetaDiscreteWeibullFitter().load_model(path)


@settings(max_examples=50, deadline=None)
@given(
    alpha=st.floats(0.05, 30.0),
    beta=st.floats(0.05, 30.0),
    c=st.floats(0.2, 2.5),
)
def test_survival_shapes(alpha: float, beta: float, c: float) -> None:
    t = np.arange(0, 60)
    sbg = ShiftedBetaGeometricFitter()
    sbg.params_ = [alpha, beta]
    s = sbg.survival_function(t)
    r = sbg.retention_rate(t[1:])
    assert s[0] == 1.0 and np.all(np.diff(s) <= 0)
    assert np.all((r > 0) & (r < 1)) and np.all(np.diff(r) > 0)
    bdw = BetaDiscreteWeibullFitter()
    bdw.params_ = [alpha, beta, c]
    sb = bdw.survival_function(t)
    assert sb[0] == 1.0 and np.all(np.diff(sb) <= 1e-15)
