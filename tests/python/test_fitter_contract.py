"""The contract every fitter class keeps, whatever its model.

Parameters assignable as a Series, dict or sequence and read back; the summary
table; log-likelihood, AIC and BIC after fit; save_model/load_model and pickling
round trips; ``fit`` returns the fitter; bad input is an ``InvalidDataError`` (a
``ValueError``) naming the rule and the row. Every model of the registry has a case.
Model-specific behaviour stays in the per-model test files.
"""

from __future__ import annotations

import functools
import math
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from reference_values import params

import retentionkit
from retentionkit import (
    BetaDiscreteWeibullFitter,
    BetaGeoBetaBinomFitter,
    BetaGeoFitter,
    GammaGammaFitter,
    GompertzGammaNBDFitter,
    ModifiedBetaGeoFitter,
    NotFittedError,
    ParetoNBDFitter,
    ShiftedBetaGeometricFitter,
    _registry,
)
from retentionkit.datasets import (
    load_cdnow_summary,
    load_cdnow_summary_data_with_monetary_value,
    load_donations,
    load_retention_cohorts,
)
from retentionkit.fitters import BaseFitter

InvalidDataError = retentionkit.InvalidDataError

SUMMARY_COLUMNS = ["coef", "se(coef)", "lower 95% bound", "upper 95% bound"]


def _cdnow(fitter: Any) -> Any:
    data = load_cdnow_summary()
    return fitter.fit(data["frequency"], data["recency"], data["T"])


def _ggom(fitter: Any) -> Any:
    # CDNOW puts the GGom/NBD on its Pareto/NBD limit (b -> 0), where b and beta have no
    # standard errors: a base simulated with a rising drop-out hazard instead.
    from retentionkit._core import GGomNBDModel

    truth = GGomNBDModel.from_params([0.8, 6.0, 0.04, 1.2, 4.0])
    x, tx, t, *_ = truth.simulate(np.linspace(30.0, 80.0, 5000), 16)
    return fitter.fit(x, tx, t)


def _donations(fitter: Any) -> Any:
    return fitter.fit(load_donations())


def _spend(fitter: Any) -> Any:
    data = load_cdnow_summary_data_with_monetary_value()
    repeat = data[data["frequency"] > 0]
    return fitter.fit(repeat["frequency"], repeat["monetary_value"])


def _cohort(fitter: Any) -> Any:
    return fitter.fit(load_retention_cohorts()["regular"].loc[:7])


def _cdnow_litt(fitter: Any) -> Any:
    from retentionkit.datasets import load_transaction_data
    from retentionkit.utils import summary_data_from_transaction_data

    log = load_transaction_data()
    summary = summary_data_from_transaction_data(
        log[log["date"] <= "1997-09-30"],
        "customer_id",
        "date",
        observation_period_end="1997-09-30",
        freq_multiplier=7,
        include_litt=True,
    )
    return fitter.fit(summary)


@dataclass(frozen=True)
class Case:
    """How to fit one fitter class, known parameters, and one bad input."""

    fitter_class: type[BaseFitter]
    fit: Callable[[Any], Any]
    params: dict[str, float]
    #: Calls ``fit`` on data with one bad row.
    bad_fit: Callable[[Any], Any]
    #: Part of the rule the bad row breaks, and the row.
    bad_rule: str
    bad_row: int
    #: Names after the model's base parameters that depend on the data (the
    #: coefficients of a model whose covariates come with the data).
    coefficients: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.fitter_class.__name__


CASES = [
    Case(
        BetaGeoFitter,
        _cdnow,
        params("bgnbd_cdnow_fhl2005"),
        lambda f: f.fit([0, 1, -1], [0.0, 1.0, 0.0], [6.0, 6.0, 6.0]),
        "frequency must be a non-negative integer",
        2,
    ),
    Case(
        ModifiedBetaGeoFitter,
        _cdnow,
        params("mbgnbd_cdnow_lifetimes"),
        lambda f: f.fit([0, -1, 2], [0.0, 1.0, 3.0], [6.0, 6.0, 6.0]),
        "frequency must be a non-negative integer",
        1,
    ),
    Case(
        ParetoNBDFitter,
        _cdnow,
        params("pnbd_cdnow_fh2005"),
        lambda f: f.fit([-1, 1, 2], [0.0, 1.0, 3.0], [6.0, 6.0, 6.0]),
        "frequency must be a non-negative integer",
        0,
    ),
    Case(
        BetaGeoBetaBinomFitter,
        _donations,
        params("bgbb_donations_fhs2010"),
        lambda f: f.fit([0, 1, -1], [0, 1, 0], [6, 6, 6]),
        "frequency must be non-negative",
        2,
    ),
    Case(
        GammaGammaFitter,
        _spend,
        params("gamma_gamma_cdnow_fh2013"),
        lambda f: f.fit([1, 2, -1, 3], [3.0, 4.0, 5.0, 6.0]),
        "frequency must be a non-negative integer",
        2,
    ),
    Case(
        ShiftedBetaGeometricFitter,
        _cohort,
        params("sbg_regular_fh2007"),
        lambda f: f.fit(durations=[1, -2, 3], churned=[True, False, True]),
        "durations must be positive integers",
        1,
    ),
    Case(
        BetaDiscreteWeibullFitter,
        _cohort,
        {"alpha": 0.8, "beta": 2.0, "c": 0.7},
        lambda f: f.fit(durations=[1, 2, 0], churned=[True, False, True]),
        "durations must be positive integers",
        2,
    ),
    Case(
        retentionkit.MBGCNBDkFitter,
        _cdnow_litt,
        {"r": 0.5, "alpha": 3.0, "a": 0.8, "b": 2.5},
        lambda f: f.fit([0, 1, -1], [0.0, 1.0, 0.0], [6.0, 6.0, 6.0], [0.0, 0.0, 0.0]),
        "frequency must be a non-negative integer",
        2,
    ),
    Case(
        GompertzGammaNBDFitter,
        _ggom,
        {"r": 0.8, "alpha": 6.0, "b": 0.04, "s": 1.2, "beta": 4.0},
        lambda f: f.fit([0, -1, 2], [0.0, 1.0, 3.0], [6.0, 6.0, 6.0]),
        "frequency must be a non-negative integer",
        1,
    ),
]


# -- the time-varying Pareto/NBD: a transaction log plus a covariate table ----------

_TIME_VARYING_TRUTH = {
    "r": 0.8,
    "alpha": 6.0,
    "s": 0.6,
    "beta": 15.0,
    "purchase:campaign": 0.7,
    "purchase:season": 0.5,
    "dropout:campaign": 0.8,
    "dropout:season": -0.4,
}


@functools.lru_cache(maxsize=1)
def _seasonal_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """1,500 customers simulated over 70 weeks with a yearly sine and a campaign."""
    rng = np.random.default_rng(0)
    weeks = pd.date_range("2020-01-05", periods=70, freq="7D")
    ids = np.arange(1500)
    first = pd.Series(
        pd.Timestamp("2020-01-05") + pd.to_timedelta(rng.integers(0, 84, len(ids)), unit="D"),
        index=ids,
    )
    cov = pd.DataFrame({"id": np.repeat(ids, len(weeks)), "start": np.tile(weeks, len(ids))})
    w = np.tile(np.arange(len(weeks)), len(ids))
    cov["season"] = np.sin(2 * np.pi * w / 52)
    cov["campaign"] = ((w >= 20) & (w < 26)).astype(float)
    truth = retentionkit.TimeVaryingParetoNBDFitter()
    truth.params_ = _TIME_VARYING_TRUTH
    log = truth.simulate_transactions(cov, "id", "start", first, "2020-12-31", seed=1)
    return log, cov


def _time_varying(fitter: Any, cov: pd.DataFrame | None = None) -> Any:
    log, table = _seasonal_tables()
    cols = ["season", "campaign"]
    return fitter.fit(
        log, table if cov is None else cov, "id", "date", "start", cols, cols, "2020-12-31"
    )


def _time_varying_bad(fitter: Any) -> Any:
    cov = _seasonal_tables()[1].copy()
    cov.loc[2, "start"] = pd.NaT
    return _time_varying(fitter, cov)


CASES.append(
    Case(
        retentionkit.TimeVaryingParetoNBDFitter,
        _time_varying,
        _TIME_VARYING_TRUTH,
        _time_varying_bad,
        "dates must be given",
        2,
        coefficients=("purchase:campaign", "purchase:season", "dropout:campaign", "dropout:season"),
    )
)


def test_every_model_of_the_registry_has_a_case() -> None:
    assert {c.fitter_class for c in CASES} == {m.fitter for m in _registry.MODELS}


@pytest.fixture(scope="module", params=CASES, ids=str)
def case(request: pytest.FixtureRequest) -> Case:
    return request.param


@pytest.fixture(scope="module")
def _fitted(case: Case) -> Any:
    return case.fit(case.fitter_class())


@pytest.fixture
def fitted(case: Case, _fitted: Any) -> Any:
    """The fit of ``case``, as a fresh copy so a test may change it."""
    return pickle.loads(pickle.dumps(_fitted))


def _names(case: Case) -> list[str]:
    return [*_base_names(case), *case.coefficients]


def _base_names(case: Case) -> list[str]:
    return list(case.fitter_class._core_class.PARAM_NAMES)


def test_every_fitter_class_is_covered() -> None:
    exported = {
        value
        for value in vars(retentionkit).values()
        if isinstance(value, type) and issubclass(value, BaseFitter)
    }
    assert exported == {c.fitter_class for c in CASES}


def test_fit_returns_the_fitter(case: Case) -> None:
    fitter = case.fitter_class()
    assert case.fit(fitter) is fitter


def test_params_are_a_series_in_the_model_order(case: Case, fitted: Any) -> None:
    names = _names(case)
    assert list(case.params) == names
    p = fitted.params_
    assert isinstance(p, pd.Series)
    assert list(p.index) == names
    assert p.dtype == np.float64
    assert np.isfinite(p).all() and (p[_base_names(case)] > 0).all()


@pytest.mark.parametrize("form", ["series", "dict", "reversed dict", "list", "array"])
def test_params_can_be_assigned_and_read_back(case: Case, form: str) -> None:
    given = case.params
    value: Any = {
        "series": pd.Series(given),
        "dict": dict(given),
        "reversed dict": dict(reversed(list(given.items()))),
        "list": list(given.values()),
        "array": np.array(list(given.values())),
    }[form]
    fitter = case.fitter_class()
    if case.coefficients and form in ("list", "array"):
        # Values in order need the coefficients' names, which come with the data:
        # refused until the model has them (from a fit or from names).
        with pytest.raises(ValueError, match="keyed by name"):
            fitter.params_ = value
        fitter.params_ = dict(given)
    fitter.params_ = value
    expected = pd.Series(given, dtype=float)
    pd.testing.assert_series_equal(fitter.params_, expected)
    # Set by hand: no fit statistics.
    with pytest.raises(NotFittedError):
        _ = fitter.log_likelihood_
    assert fitter.summary["se(coef)"].isna().all()


def test_bad_params_are_refused(case: Case) -> None:
    names = _names(case)
    fitter = case.fitter_class()
    missing = _base_names(case)[-1]
    with pytest.raises(ValueError, match=missing):
        fitter.params_ = {n: 1.0 for n in names if n != missing}
    with pytest.raises(ValueError):
        fitter.params_ = [1.0] * (len(names) - 1)
    with pytest.raises(ValueError):
        fitter.params_ = [-1.0] + [1.0] * (len(names) - 1)
    assert not hasattr(fitter, "params_")


def test_summary(case: Case, fitted: Any) -> None:
    summary = fitted.summary
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert list(summary.index) == _names(case)
    pd.testing.assert_series_equal(summary["coef"], fitted.params_, check_names=False)
    se = summary["se(coef)"]
    assert (se > 0).all() and np.isfinite(se).all()
    lower, upper = summary["lower 95% bound"], summary["upper 95% bound"]
    # coef ± z se with z the normal 97.5% quantile (a bound may be negative).
    np.testing.assert_allclose((lower + upper) / 2, summary["coef"], rtol=1e-12)
    np.testing.assert_allclose((upper - lower) / (2 * se), 1.959964, rtol=1e-6)


def test_log_likelihood_and_information_criteria(case: Case, fitted: Any) -> None:
    ll = fitted.log_likelihood_
    assert isinstance(ll, float) and math.isfinite(ll)
    k = len(_names(case))
    n = fitted.n_customers_
    assert n > 0
    assert fitted.aic == pytest.approx(2 * k - 2 * ll, rel=1e-12)
    assert fitted.bic == pytest.approx(k * math.log(n) - 2 * ll, rel=1e-12)


def test_save_and_load_round_trip(case: Case, fitted: Any, tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    fitted.save_model(path)
    loaded = case.fitter_class().load_model(path)
    assert type(loaded) is case.fitter_class
    pd.testing.assert_series_equal(loaded.params_, fitted.params_)
    assert loaded.log_likelihood_ == fitted.log_likelihood_
    assert loaded.n_customers_ == fitted.n_customers_
    pd.testing.assert_frame_equal(loaded.summary, fitted.summary)
    assert repr(loaded) == repr(fitted)
    assert loaded.data is None  # the file holds the model, not the data


def test_pickle_round_trip(case: Case, fitted: Any) -> None:
    clone = pickle.loads(pickle.dumps(fitted))
    assert type(clone) is case.fitter_class
    pd.testing.assert_series_equal(clone.params_, fitted.params_)
    assert clone.log_likelihood_ == fitted.log_likelihood_
    pd.testing.assert_frame_equal(clone.summary, fitted.summary)
    assert repr(clone) == repr(fitted)
    assert clone.data is not None and fitted.data is not None
    pd.testing.assert_frame_equal(clone.data, fitted.data)
    unfitted = pickle.loads(pickle.dumps(case.fitter_class()))
    assert repr(unfitted) == f"<retentionkit.{case.fitter_class.__name__}>"


def test_bad_input_names_the_rule_and_the_row(case: Case) -> None:
    with pytest.raises(InvalidDataError, match=case.bad_rule) as info:
        case.bad_fit(case.fitter_class())
    assert f"row: {case.bad_row}" in str(info.value)
    error = info.value
    assert isinstance(error, ValueError)
    assert error.row == case.bad_row
    assert case.bad_rule in error.rule
