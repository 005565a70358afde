"""The fit-information accessors of every native model class (``retentionkit._core``).

``MODEL_NAME``, ``params``, ``is_fitted``, ``log_likelihood``, ``covariance``,
``iterations``, ``converged``, ``n_customers`` and, where a class has them, ``n_unique``,
``penalizer_coef`` and ``fit_warnings`` come from one macro (``fit_info_accessors!`` in
``src/python/mod.rs``); ``from_json``/``to_json`` from another. Each is checked here
against the saved JSON, which the core writes from the same fit without going through
them, on a model given its parameters (no fit information) and on a fitted one, and
again after a round trip through the JSON. Nothing else in the suite reads
``iterations``, ``converged``, ``n_unique`` or ``is_fitted``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from retentionkit import _core as core

N = 1000
COLUMNS = ["u", "v"]
RNG = np.random.default_rng(11)
AGES = RNG.uniform(30.0, 60.0, N)
FREQUENCY = RNG.integers(1, 8, N).astype(float)
Z = np.ascontiguousarray(RNG.normal(size=(N, 2)))
#: The penalty of the fits that take one (read back by ``penalizer_coef``). The accessors,
#: not the estimates, are under test: the seeds are ones whose small samples identify
#: every model (the GGom/NBD's and the time-varying drop-out heterogeneity can drift to
#: the boundary on others).
PENALTY = 0.1

#: The statistics beyond the common ones, by class family; the differences are on
#: purpose (see the comments at the macro's calls): a model with covariates has no
#: ``penalizer_coef`` (its fit's penalty switch is not lifetimes' penalizer, and the
#: pandas layer reads the attribute when it loads a model), the time-varying model has
#: neither ``n_unique`` nor ``fit_warnings``.
PLAIN = {"n_unique", "penalizer_coef", "fit_warnings"}
COVARIATES = {"fit_warnings"}
TIME_VARYING = {"penalizer_coef"}


def _transaction(name: str, params: list[float]) -> tuple[Callable[[], Any], Callable[[], Any]]:
    cls = getattr(core, name)

    def fitted() -> Any:
        f, r, t, *_ = cls.from_params(params).simulate(AGES, 3)
        return cls.fit(f, r, t, penalizer_coef=PENALTY)

    return lambda: cls.from_params(params), fitted


def _contractual(name: str, params: list[float]) -> tuple[Callable[[], Any], Callable[[], Any]]:
    cls = getattr(core, name)

    def fitted() -> Any:
        d, churned, _ = cls.from_params(params).simulate(np.full(N, 8.0), 6)
        return cls.fit_durations(d, churned, penalizer_coef=PENALTY)

    return lambda: cls.from_params(params), fitted


def _bgbb() -> Any:
    model = core.BetaGeoBetaBinomModel.from_params([1.2, 0.75, 0.66, 2.8])
    f, r, n, *_ = model.simulate(np.full(N, 6.0), 4)
    return core.BetaGeoBetaBinomModel.fit(f, r, n, penalizer_coef=PENALTY)


def _gamma_gamma() -> Any:
    spend = core.GammaGammaModel.from_params([6.0, 4.0, 15.0]).simulate_spend(FREQUENCY, 5)
    return core.GammaGammaModel.fit(FREQUENCY, spend, penalizer_coef=PENALTY)


def _mbgcnbd() -> Any:
    model = core.MBGCNBDkModel.from_params([1.0, 3.0, 0.5, 2.0], 2.0)
    (f, r, t, *_), litt = model.simulate(AGES, 7)
    return core.MBGCNBDkModel.fit(f, r, t, litt, k=2.0, penalizer_coef=PENALTY)


def _covariates(
    name: str, base: list[float], contractual: bool = False
) -> tuple[Callable[[], Any], Callable[[], Any]]:
    cls = getattr(core, name)
    by_process = [[0] for _ in cls.PROCESSES]
    coefficients = cls.coefficient_names_of(COLUMNS, by_process, [1])
    params = base + [0.1] * len(coefficients)

    def given() -> Any:
        return cls.from_params(params, COLUMNS, by_process, [1])

    def fitted() -> Any:
        if contractual:
            d, churned, _ = given().simulate(np.full(N, 8.0), Z, 9)
            return cls.fit(d, churned, Z, COLUMNS, by_process, [1], penalizer_coef=PENALTY)
        f, r, t, *_ = given().simulate(AGES, Z, 8)
        return cls.fit(f, r, t, Z, COLUMNS, by_process, [1], penalizer_coef=PENALTY)

    return given, fitted


def _gamma_gamma_covariates() -> Any:
    spend = core.GammaGammaModel.from_params([6.0, 4.0, 15.0]).simulate_spend(FREQUENCY, 5)
    return core.GammaGammaCovariatesModel.fit(
        FREQUENCY, spend, Z, COLUMNS, [[0, 1]], [], penalties=[0.5, 0.5]
    )


TV_PARAMS = {
    "r": 0.6,
    "alpha": 8.0,
    "s": 0.7,
    "beta": 10.0,
    "purchase:u": 0.2,
    "purchase:v": 0.0,
    "dropout:u": 0.0,
    "dropout:v": -0.2,
}


def _time_varying() -> Any:
    """Customers observed for 40 unit periods, covariates constant per customer."""
    rng = np.random.default_rng(13)
    m, periods = 200, 41
    counts = np.full(m, periods, dtype=np.int64)
    starts, ages = np.zeros(m), np.full(m, 40.0)
    z = rng.normal(size=(m, 2))
    rows = np.ascontiguousarray(np.repeat(z, periods, axis=0))
    model = core.TimeVaryingParetoNBDModel.from_params(TV_PARAMS)
    who, when, *_ = model.simulate(starts, counts, rows, ages, 10)
    who = who.astype(np.int64)
    x = np.bincount(who, minlength=m).astype(float)
    tx = np.zeros(m)
    np.maximum.at(tx, who, when)
    sums = np.ascontiguousarray(x[:, None] * z)
    panel = core.TimeVaryingPanel(
        x, tx, ages, sums, starts, counts, rows, COLUMNS, [[0, 1], [0, 1]], []
    )
    return core.TimeVaryingParetoNBDModel.fit(panel, penalizer_coef=PENALTY)


CASES: dict[str, tuple[Callable[[], Any], Callable[[], Any], set[str]]] = {
    "BetaGeoModel": (*_transaction("BetaGeoModel", [0.5, 5.0, 0.8, 2.5]), PLAIN),
    "ModifiedBetaGeoModel": (*_transaction("ModifiedBetaGeoModel", [0.5, 5.0, 0.8, 2.5]), PLAIN),
    "ParetoNBDModel": (*_transaction("ParetoNBDModel", [0.6, 8.0, 0.7, 10.0]), PLAIN),
    "GGomNBDModel": (*_transaction("GGomNBDModel", [0.6, 8.0, 0.1, 0.7, 10.0]), PLAIN),
    "BetaGeoBetaBinomModel": (
        lambda: core.BetaGeoBetaBinomModel.from_params([1.2, 0.75, 0.66, 2.8]),
        _bgbb,
        PLAIN,
    ),
    "GammaGammaModel": (
        lambda: core.GammaGammaModel.from_params([6.0, 4.0, 15.0]),
        _gamma_gamma,
        PLAIN,
    ),
    "MBGCNBDkModel": (
        lambda: core.MBGCNBDkModel.from_params([1.0, 3.0, 0.5, 2.0], 2.0),
        _mbgcnbd,
        PLAIN,
    ),
    "ShiftedBetaGeometricModel": (*_contractual("ShiftedBetaGeometricModel", [0.7, 3.0]), PLAIN),
    "BetaDiscreteWeibullModel": (
        *_contractual("BetaDiscreteWeibullModel", [0.7, 3.0, 1.2]),
        PLAIN,
    ),
    "ParetoNBDCovariatesModel": (
        *_covariates("ParetoNBDCovariatesModel", [0.6, 8.0, 0.7, 10.0]),
        COVARIATES,
    ),
    "BetaGeoCovariatesModel": (
        *_covariates("BetaGeoCovariatesModel", [0.5, 5.0, 0.8, 2.5]),
        COVARIATES,
    ),
    "ModifiedBetaGeoCovariatesModel": (
        *_covariates("ModifiedBetaGeoCovariatesModel", [0.5, 5.0, 0.8, 2.5]),
        COVARIATES,
    ),
    "GGomNBDCovariatesModel": (
        *_covariates("GGomNBDCovariatesModel", [0.6, 8.0, 0.1, 0.7, 10.0]),
        COVARIATES,
    ),
    "GammaGammaCovariatesModel": (
        lambda: core.GammaGammaCovariatesModel.from_params(
            [6.0, 4.0, 15.0, 0.1, 0.0], COLUMNS, [[0, 1]], []
        ),
        _gamma_gamma_covariates,
        COVARIATES,
    ),
    "ShiftedBetaGeometricCovariatesModel": (
        *_covariates("ShiftedBetaGeometricCovariatesModel", [0.7, 3.0], contractual=True),
        COVARIATES,
    ),
    "BetaDiscreteWeibullCovariatesModel": (
        *_covariates("BetaDiscreteWeibullCovariatesModel", [0.7, 3.0, 1.2], contractual=True),
        COVARIATES,
    ),
    "TimeVaryingParetoNBDModel": (
        lambda: core.TimeVaryingParetoNBDModel.from_params(TV_PARAMS),
        _time_varying,
        TIME_VARYING,
    ),
}

OPTIONAL = PLAIN | COVARIATES | TIME_VARYING


def test_every_model_class_is_covered() -> None:
    native = {
        name
        for name in dir(core)
        if name.endswith("Model") and isinstance(getattr(core, name), type)
    }
    assert native == set(CASES)


def _names(model: Any) -> list[str]:
    names = getattr(model, "param_names", None)
    return list(model.PARAM_NAMES if names is None else names)


def _check_against_json(model: Any, extras: set[str]) -> None:
    """Every accessor against the saved JSON (written by the core from the same fit)."""
    saved = json.loads(model.to_json())
    assert model.MODEL_NAME == saved["model"]
    # The saved parameters are keyed by name (in name order).
    assert dict(zip(_names(model), model.params.tolist())) == saved["params"]
    assert len(model.params) == len(saved["params"])
    assert {name for name in OPTIONAL if hasattr(model, name)} == extras
    fit = saved["fit"]
    assert model.is_fitted is (fit is not None)
    if fit is None:
        for name in ("log_likelihood", "covariance", "iterations", "converged", "n_customers"):
            assert getattr(model, name) is None, name
        if "n_unique" in extras:
            assert model.n_unique is None
        if "penalizer_coef" in extras:
            assert model.penalizer_coef == 0.0
        if "fit_warnings" in extras:
            assert model.fit_warnings == []
        return
    assert model.log_likelihood == fit["log_likelihood"]
    assert model.iterations == fit["iterations"]
    assert model.converged is fit["converged"]
    assert model.n_customers == fit["n_customers"]
    p = len(model.params)
    np.testing.assert_array_equal(model.covariance, np.reshape(fit["covariance"], (p, p)))
    if "n_unique" in extras:
        assert model.n_unique == fit["n_unique"]
    if "penalizer_coef" in extras:
        assert model.penalizer_coef == fit["penalizer_coef"]
    if "fit_warnings" in extras:
        assert model.fit_warnings == fit.get("warnings", [])


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_given_model_has_no_fit_information(name: str) -> None:
    given, _, extras = CASES[name]
    model = given()
    assert json.loads(model.to_json())["fit"] is None
    # None (is_fitted False) for every statistic, checked with the JSON's "fit": null.
    _check_against_json(model, extras)
    assert type(model).from_json(model.to_json()).to_json() == model.to_json()


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_fitted_model_reads_its_fit(name: str) -> None:
    _, fitted, extras = CASES[name]
    model = fitted()
    assert model.is_fitted is True
    assert model.converged is True
    assert isinstance(model.iterations, int) and model.iterations >= 1
    assert isinstance(model.log_likelihood, float) and np.isfinite(model.log_likelihood)
    assert model.n_customers > 0
    p = len(model.params)
    assert model.covariance.shape == (p, p)
    np.testing.assert_allclose(model.covariance, model.covariance.T, rtol=1e-10)
    assert np.all(np.diag(model.covariance) > 0)
    if "n_unique" in extras:
        assert isinstance(model.n_unique, int) and 1 <= model.n_unique <= model.n_customers
    if "penalizer_coef" in extras:
        assert model.penalizer_coef == PENALTY
    _check_against_json(model, extras)
    again = type(model).from_json(model.to_json())
    assert again.to_json() == model.to_json()
    _check_against_json(again, extras)
    assert repr(again) == repr(model)
