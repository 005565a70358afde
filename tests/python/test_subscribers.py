"""Churn per subscriber (issue 15): subscriber-level sBG/BdW fits with covariates and
their per-subscriber predictions, through the pandas layer."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from retentionkit import (
    BetaDiscreteWeibullFitter,
    InvalidDataError,
    ShiftedBetaGeometricFitter,
)
from retentionkit.datasets import load_retention_cohorts


def _expand(counts: np.ndarray) -> pd.DataFrame:
    """A cohort's survivor counts as one row per subscriber."""
    periods, churned = [], []
    for t in range(1, len(counts)):
        lost = int(counts[t - 1] - counts[t])
        periods += [t] * lost
        churned += [True] * lost
    periods += [len(counts) - 1] * int(counts[-1])
    churned += [False] * int(counts[-1])
    return pd.DataFrame({"periods": periods, "churned": churned})


@pytest.mark.parametrize(
    ("cohort", "published"), [("regular", (0.704, 1.182)), ("high_end", (0.668, 3.806))]
)
def test_fader_hardie_cohorts_expanded_to_subscribers(cohort: str, published: tuple) -> None:
    counts = load_retention_cohorts()[cohort].loc[:7].to_numpy()
    subscribers = _expand(counts)
    by_subscriber = ShiftedBetaGeometricFitter().fit(subscribers["periods"], subscribers["churned"])
    by_cohort = ShiftedBetaGeometricFitter().fit(counts)
    assert by_subscriber.params_.round(3).tolist() == list(published)
    np.testing.assert_allclose(by_subscriber.params_, by_cohort.params_, rtol=1e-9)
    np.testing.assert_allclose(by_subscriber.log_likelihood_, by_cohort.log_likelihood_, rtol=1e-12)
    # The keyword form is the same fit.
    keyword = ShiftedBetaGeometricFitter().fit(
        periods=subscribers["periods"], churned=subscribers["churned"]
    )
    np.testing.assert_allclose(keyword.params_, by_subscriber.params_, rtol=1e-12)


def _simulated(n: int, seed: int, model: type = ShiftedBetaGeometricFitter) -> pd.DataFrame:
    """Subscribers with a plan (categorical) and a price (numeric), simulated from a
    model with known coefficients."""
    rng = np.random.default_rng(seed)
    traits = pd.DataFrame(
        {
            "plan": rng.choice(["basic", "pro"], n),
            "price": rng.choice([-1.0, 0.0, 1.0], n),
        }
    )
    truth = model()
    params = {"alpha": 1.2, "beta": 2.5}
    if model is BetaDiscreteWeibullFitter:
        params["c"] = 0.6
    params.update(
        {
            "alpha:plan[pro]": 0.5,
            "alpha:price": -0.3,
            "beta:plan[pro]": -0.4,
            "beta:price": 0.2,
        }
    )
    truth.params_ = params
    sims = truth.generate_new_data(n_periods=rng.integers(3, 13, n), seed=seed, covariates=traits)
    sims.index = pd.Index([f"s{i}" for i in range(n)], name="subscriber")
    return sims


def test_covariate_fit_recovers_the_coefficients() -> None:
    sims = _simulated(30_000, 1)
    sbg = ShiftedBetaGeometricFitter().fit(
        sims["duration"], sims["churned"], covariates=sims[["plan", "price"]]
    )
    assert sbg.params_.index.tolist() == [
        "alpha",
        "beta",
        "alpha:plan[pro]",
        "alpha:price",
        "beta:plan[pro]",
        "beta:price",
    ]
    truth = [1.2, 2.5, 0.5, -0.3, -0.4, 0.2]
    se = sbg.standard_errors_.to_numpy()
    assert np.all(np.abs(sbg.params_.to_numpy() - truth) < 3 * se), sbg.summary
    assert np.isfinite(sbg.aic) and np.isfinite(sbg.bic)
    assert sbg.summary.shape[0] == 6
    assert set(sbg.data.columns) >= {"periods", "churned", "plan", "price"}


def test_bdw_covariate_fit_recovers_c() -> None:
    sims = _simulated(20_000, 2, BetaDiscreteWeibullFitter)
    bdw = BetaDiscreteWeibullFitter().fit(
        sims["duration"], sims["churned"], covariates=sims[["plan", "price"]]
    )
    se = bdw.standard_errors_
    assert abs(bdw.params_["c"] - 0.6) < 3 * se["c"]
    assert abs(bdw.params_["beta:plan[pro]"] + 0.4) < 3 * se["beta:plan[pro]"]


def test_predictions_are_series_aligned_and_in_range() -> None:
    sims = _simulated(3000, 3).iloc[:2000]
    sbg = ShiftedBetaGeometricFitter().fit(
        sims["duration"], sims["churned"], covariates=sims[["plan", "price"]]
    )
    periods = sims["duration"]
    traits = sims[["plan", "price"]]
    renew = sbg.conditional_probability_of_renewal(periods, covariates=traits)
    assert isinstance(renew, pd.Series) and renew.index.equals(sims.index)
    assert renew.between(0, 1).all()
    survive = sbg.conditional_survival_function(3, periods, covariates=traits)
    assert (survive <= renew + 1e-15).all() and (survive >= 0).all()
    erl = sbg.expected_residual_lifetime(periods, covariates=traits)
    derl = sbg.discounted_expected_residual_lifetime(periods, 0.1, covariates=traits)
    assert (derl >= 0).all() and (derl <= erl + 1e-9).all()
    # A subscriber's renewal probability is the sBG's at their own alpha_i, beta_i.
    p = sbg.params_
    pro, price = traits.iloc[0]["plan"] == "pro", traits.iloc[0]["price"]
    a = p["alpha"] * np.exp(p["alpha:plan[pro]"] * pro + p["alpha:price"] * price)
    b = p["beta"] * np.exp(p["beta:plan[pro]"] * pro + p["beta:price"] * price)
    n = periods.iloc[0]
    assert renew.iloc[0] == pytest.approx((b + n) / (a + b + n), rel=1e-12)
    assert erl.iloc[0] == pytest.approx((b + n) / (a - 1) if a > 1 else np.inf, rel=1e-12)
    # Renewal rises with tenure for one kind of subscriber (heterogeneity sorts).
    one = traits.iloc[[0]]
    curve = sbg.conditional_probability_of_renewal(np.arange(10.0), covariates=one)
    assert np.all(np.diff(curve) > 0)
    # Omitted inputs: the fitted subscribers.
    pd.testing.assert_series_equal(sbg.conditional_probability_of_renewal(), renew)
    band = sbg.conditional_probability_of_renewal_interval(
        periods.iloc[:50], covariates=traits.iloc[:50], n_draws=50, seed=1
    )
    assert list(band.columns) == ["estimate", "lower", "upper"]
    assert ((band["lower"] <= band["estimate"]) & (band["estimate"] <= band["upper"])).all()
    curves = sbg.retention_rate_by_segment(
        range(1, 6),
        pd.DataFrame({"plan": ["basic", "pro"], "price": [0.0, 0.0]}, index=["basic", "pro"]),
    )
    assert curves.shape == (5, 2) and list(curves.columns) == ["basic", "pro"]


def test_plain_predictions_match_the_formulas() -> None:
    sbg = ShiftedBetaGeometricFitter()
    sbg.params_ = {"alpha": 2.0, "beta": 3.0}
    n = pd.Series([0.0, 4.0], index=["a", "b"])
    renew = sbg.conditional_probability_of_renewal(n)
    np.testing.assert_allclose(renew, (3 + n) / (5 + n), rtol=1e-14)
    assert renew.index.tolist() == ["a", "b"]
    np.testing.assert_allclose(sbg.expected_residual_lifetime(n), 3 + n, rtol=1e-14)
    survive = sbg.conditional_survival_function(2, n)
    np.testing.assert_allclose(survive, (3 + n) / (5 + n) * (4 + n) / (6 + n), rtol=1e-13)
    # Discounted: direct summation of the discounted survival series.
    d = 0.1
    direct = [
        sum(
            np.prod([(3 + m + j) / (5 + m + j) for j in range(t)]) / (1 + d) ** (t - 1)
            for t in range(1, 3000)
        )
        for m in n
    ]
    np.testing.assert_allclose(sbg.discounted_expected_residual_lifetime(n, d), direct, rtol=1e-9)
    np.testing.assert_allclose(
        sbg.discounted_expected_residual_lifetime(n_renewals=n, discount_rate=d), direct, rtol=1e-9
    )
    with pytest.raises(ValueError, match="no covariates"):
        sbg.conditional_probability_of_renewal(n, covariates=pd.DataFrame({"x": [1, 2]}))


def test_zero_coefficients_reproduce_the_plain_model() -> None:
    plain = BetaDiscreteWeibullFitter()
    plain.params_ = {"alpha": 1.3, "beta": 2.0, "c": 0.8}
    with_zero = BetaDiscreteWeibullFitter()
    with_zero.params_ = {"alpha": 1.3, "beta": 2.0, "c": 0.8, "alpha:x": 0.0, "beta:x": 0.0}
    n = np.arange(6.0)
    traits = pd.DataFrame({"x": np.linspace(-2, 2, 6)})
    for method in ("conditional_probability_of_renewal", "expected_residual_lifetime"):
        np.testing.assert_array_equal(
            getattr(with_zero, method)(n, covariates=traits), getattr(plain, method)(n)
        )


def test_invalid_subscribers_are_named() -> None:
    periods = pd.Series([1, 0, 3], index=["a", "b", "c"])
    churned = pd.Series([True, True, False], index=["a", "b", "c"])
    with pytest.raises(InvalidDataError, match="at least one period") as info:
        ShiftedBetaGeometricFitter().fit(periods, churned)
    assert info.value.label == "b"
    traits = pd.DataFrame({"x": [1.0, np.nan, 2.0]}, index=["a", "b", "c"])
    with pytest.raises(InvalidDataError, match="missing"):
        ShiftedBetaGeometricFitter().fit(
            pd.Series([1, 2, 3], index=["a", "b", "c"]), churned, covariates=traits
        )
    with pytest.raises(ValueError, match="survivor counts"):
        ShiftedBetaGeometricFitter().fit([100, 60, 40], covariates=traits)


def test_save_load_and_pickle_keep_the_coefficients(tmp_path) -> None:
    sims = _simulated(2000, 4)
    sbg = ShiftedBetaGeometricFitter().fit(
        sims["duration"], sims["churned"], covariates=sims[["plan", "price"]]
    )
    path = tmp_path / "sbg.json"
    sbg.save_model(path)
    loaded = ShiftedBetaGeometricFitter()
    loaded.load_model(path)
    pd.testing.assert_series_equal(loaded.params_, sbg.params_)
    traits = sims[["plan", "price"]].iloc[:5]
    expected = sbg.conditional_probability_of_renewal(sims["duration"].iloc[:5], covariates=traits)
    pd.testing.assert_series_equal(
        loaded.conditional_probability_of_renewal(sims["duration"].iloc[:5], covariates=traits),
        expected,
    )
    again = pickle.loads(pickle.dumps(sbg))
    pd.testing.assert_series_equal(again.params_, sbg.params_)
    # The plain model does not load a file with coefficients as itself.
    assert "ShiftedBetaGeometricCovariates" in path.read_text()


def test_readme_subscriber_example_runs() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Churn per subscriber\n", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(code, "README.md (Churn per subscriber)", "exec"), namespace)
    assert namespace["subscribers"]["periods"].tolist() == [1, 7, 4, 7, 1, 3, 6, 6]


def test_cohort_as_a_covariate_fits_many_cohorts_in_one_model() -> None:
    from retentionkit.utils import subscription_summary

    rng = np.random.default_rng(8)
    n = 4000
    start = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 90, n), unit="D")
    later = start >= pd.Timestamp("2023-02-01")
    theta = rng.beta(1.2, 4.0, n) * np.where(later, 0.6, 1.0)
    months = np.minimum(rng.geometric(theta), 120)  # ends past 2262 overflow pandas 2
    end = pd.Series([s + pd.DateOffset(months=int(m)) for s, m in zip(start, months)])
    end[end > pd.Timestamp("2024-01-31")] = pd.NaT
    log = pd.DataFrame({"customer": np.arange(n), "start": start, "end": end})
    subs = subscription_summary(log, "customer", "start", "end", "2024-01-31")
    sbg = ShiftedBetaGeometricFitter().fit(
        subs["periods"], subs["churned"], covariates=subs[["cohort"]]
    )
    assert "alpha:cohort[2023-02]" in sbg.params_.index
    renew = sbg.conditional_probability_of_renewal(
        [0, 0], covariates=pd.DataFrame({"cohort": ["2023-01", "2023-03"]})
    )
    assert renew[1] > renew[0]  # the later cohorts churn less
    with pytest.raises(ValueError, match="not yet supported"):
        _ = sbg.expected_lifetime
    with pytest.raises(ValueError, match="without covariates"):
        sbg.retention_table([100, 50])


def test_plain_and_bdw_intervals() -> None:
    sims = BetaDiscreteWeibullFitter()
    sims.params_ = {"alpha": 1.5, "beta": 3.0, "c": 0.8}
    data = sims.generate_new_data(5000, n_periods=10, seed=3)
    bdw = BetaDiscreteWeibullFitter().fit(data["duration"], data["churned"])
    band = bdw.discounted_expected_residual_lifetime_interval([0, 4], 0.05, n_draws=60, seed=2)
    assert (band["lower"] < band["estimate"]).all() and (band["estimate"] < band["upper"]).all()
    again = bdw.discounted_expected_residual_lifetime_interval([0, 4], 0.05, n_draws=60, seed=2)
    pd.testing.assert_frame_equal(band, again)
    point = bdw.discounted_expected_residual_lifetime([0, 4], 0.05)
    np.testing.assert_allclose(band["estimate"], point, rtol=1e-14)
    survival = bdw.conditional_survival_function_interval(3, [2], n_draws=40, seed=1)
    assert 0 <= survival["lower"].iloc[0] <= survival["upper"].iloc[0] <= 1


try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - hypothesis is a test dependency
    given = None


if given is not None:

    @settings(max_examples=60, deadline=None)
    @given(
        alpha=st.floats(1e-3, 1e3),
        beta=st.floats(1e-3, 1e3),
        c=st.floats(0.2, 3.0),
        n=st.integers(0, 10_000),
        d=st.floats(1e-4, 1.0),
    )
    def test_subscriber_predictions_stay_in_their_domain(
        alpha: float, beta: float, c: float, n: int, d: float
    ) -> None:
        bdw = BetaDiscreteWeibullFitter()
        bdw.params_ = {"alpha": alpha, "beta": beta, "c": c}
        periods = np.array([n, n + 1], dtype=float)
        renew = bdw.conditional_probability_of_renewal(periods)
        assert np.all((renew >= 0) & (renew <= 1))
        survive = bdw.conditional_survival_function(5, periods)
        assert np.all((survive >= 0) & (survive <= renew * (1 + 1e-12)))
        derl = bdw.discounted_expected_residual_lifetime(periods, d)
        assert np.all(np.isfinite(derl) & (derl >= 0))
        # A DERL is at most the undiscounted residual lifetime and at most 1/d + 1.
        erl = bdw.expected_residual_lifetime(periods)
        assert np.all(derl <= erl * (1 + 1e-9) + 1e-12)
        assert np.all(derl <= (1 + d) / d * (1 + 1e-9))


def test_fit_takes_the_subscription_summary_table() -> None:
    from retentionkit.utils import subscription_summary

    log = pd.DataFrame(
        {
            "customer": range(6),
            "start": ["2024-01-01"] * 6,
            "end": ["2024-02-01", "2024-03-15", None, "2024-02-01", None, "2024-05-02"],
        }
    )
    table = subscription_summary(log, "customer", "start", "end", "2024-09-01")
    by_table = ShiftedBetaGeometricFitter().fit(table)
    by_columns = ShiftedBetaGeometricFitter().fit(table["periods"], table["churned"])
    pd.testing.assert_series_equal(by_table.params_, by_columns.params_)
    # Subscribers younger than one period count as customers, with covariates too.
    young = pd.concat(
        [table, pd.DataFrame({"periods": [0, 0], "churned": [False, False]}, index=[10, 11])]
    )
    traits = pd.DataFrame({"x": np.linspace(-1, 1, len(young))}, index=young.index)
    plain = ShiftedBetaGeometricFitter().fit(young)
    with_traits = ShiftedBetaGeometricFitter().fit(young, covariates=traits)
    assert plain.n_customers_ == with_traits.n_customers_ == 8
