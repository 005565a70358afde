"""Covariates in the value predictions of the pandas layer (issue 13): DERT and
simulation of the transaction models, the Gamma-Gamma spend model with
``spend_covariates``, and customer lifetime value with either or both models'
covariates.

Two identities carry most tests: with all coefficients 0 a model is the plain
one (to rounding), and a customer's prediction is the plain model's at the
customer's own parameters (``alpha_i = alpha exp(-purchase'z_i)``, ``beta_i =
beta exp(-dropout'z_i)``, ``a_i = a exp(dropout_a'z_i)``, ``b_i = b
exp(dropout_b'z_i)``, ``v_i = v exp(spend'z_i)``), computed here from
``params_``.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from retentionkit import (
    BetaGeoFitter,
    GammaGammaFitter,
    InvalidDataError,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
    _core,
)
from retentionkit.datasets import load_cdnow_summary_data_with_monetary_value

FITTERS = [ParetoNBDFitter, BetaGeoFitter, ModifiedBetaGeoFitter]
HISTORY = ["frequency", "recency", "T"]

#: The parameter each process scales, and the sign of the exponent.
SCALES = {
    "purchase": ("alpha", -1.0),
    "dropout": ("beta", -1.0),
    "dropout_a": ("a", 1.0),
    "dropout_b": ("b", 1.0),
    "spend": ("v", 1.0),
}


def _history(df: pd.DataFrame) -> list[pd.Series]:
    return [df[c] for c in HISTORY]


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    """CDNOW with spend, a binary ``vip`` and a continuous ``score`` (a fixed seed)."""
    rng = np.random.default_rng(2013)
    df = load_cdnow_summary_data_with_monetary_value()
    df["vip"] = rng.integers(0, 2, size=len(df)).astype(float)
    df["score"] = rng.normal(size=len(df))
    df["region"] = pd.Categorical(rng.choice(["north", "south", "west"], size=len(df)))
    return df


@pytest.fixture(scope="module")
def repeat(cdnow: pd.DataFrame) -> pd.DataFrame:
    return cdnow[cdnow["frequency"] > 0]


def _own_params(fitter: Any, traits: pd.Series) -> dict[str, float]:
    """The plain model's parameters of a customer with ``traits`` (raw numeric
    columns by name)."""
    params = fitter.params_
    base = {k: float(v) for k, v in params.items() if ":" not in k}
    for name, coef in params.items():
        if ":" not in name:
            continue
        process, column = name.split(":", 1)
        target, sign = SCALES[process]
        base[target] *= float(np.exp(sign * coef * traits[column]))
    return base


def _with_coefficients(fitter_class: Any, plain: Any, coefficients: dict[str, float]) -> Any:
    fitter = fitter_class()
    fitter.params_ = {**plain.params_.to_dict(), **coefficients}
    return fitter


def _zero(fitter_class: Any, columns: list[str]) -> dict[str, float]:
    processes = list(fitter_class._covariate_core_class.PROCESSES)
    return {f"{p}:{c}": 0.0 for p in processes for c in columns}


def _some(fitter_class: Any, columns: list[str]) -> dict[str, float]:
    """Non-zero coefficients, different per process and column."""
    processes = list(fitter_class._covariate_core_class.PROCESSES)
    return {
        f"{p}:{c}": 0.3 * (i + 1) * (-1) ** j
        for i, p in enumerate(processes)
        for j, c in enumerate(columns)
    }


@pytest.fixture(scope="module")
def plain_fits(cdnow: pd.DataFrame, repeat: pd.DataFrame) -> dict[str, Any]:
    fits: dict[str, Any] = {c.__name__: c().fit(*_history(cdnow)) for c in FITTERS}
    fits["spend"] = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    return fits


@pytest.fixture(scope="module")
def ggf_traits(repeat: pd.DataFrame) -> GammaGammaFitter:
    return GammaGammaFitter().fit(repeat, spend_covariate_cols=["vip", "region"])


# -- DERT --------------------------------------------------------------------------


@pytest.mark.parametrize("fitter_class", FITTERS)
def test_dert_with_zero_coefficients_is_the_plain_dert(
    fitter_class: Any, cdnow: pd.DataFrame, plain_fits: dict[str, Any]
) -> None:
    plain = plain_fits[fitter_class.__name__]
    zero = _with_coefficients(fitter_class, plain, _zero(fitter_class, ["vip", "score"]))
    rows = cdnow.iloc[:300]
    z = rows[["vip", "score"]]
    ours = zero.discounted_expected_residual_transactions(
        0.01, *_history(rows), purchase_covariates=z, dropout_covariates=z
    )
    assert list(ours.index) == list(rows.index)
    np.testing.assert_allclose(
        ours, plain.discounted_expected_residual_transactions(0.01, *_history(rows)), rtol=1e-12
    )


@pytest.mark.parametrize("fitter_class", FITTERS)
def test_dert_of_a_customer_is_the_plain_dert_at_their_parameters(
    fitter_class: Any, cdnow: pd.DataFrame, plain_fits: dict[str, Any]
) -> None:
    fitter = _with_coefficients(
        fitter_class, plain_fits[fitter_class.__name__], _some(fitter_class, ["vip", "score"])
    )
    rows = cdnow.iloc[[0, 5, 17, 1000]]
    z = rows[["vip", "score"]]
    ours = fitter.discounted_expected_residual_transactions(
        0.02, *_history(rows), purchase_covariates=z, dropout_covariates=z
    )
    for label in rows.index:
        alone = fitter_class()
        alone.params_ = _own_params(fitter, rows.loc[label])
        expected = alone.discounted_expected_residual_transactions(
            0.02, *(rows.loc[label, c] for c in HISTORY)
        )
        assert ours[label] == pytest.approx(expected, rel=1e-12), label


def test_dert_needs_covariates_and_uses_the_fitted_ones(cdnow: pd.DataFrame) -> None:
    fitter = ParetoNBDFitter().fit(cdnow, purchase_covariate_cols=["vip"])
    with pytest.raises(ValueError, match=r"this model has covariates \(purchase: vip"):
        fitter.discounted_expected_residual_transactions(0.01, 1.0, 2.0, 3.0)
    pd.testing.assert_series_equal(
        fitter.discounted_expected_residual_transactions(0.01),
        fitter.discounted_expected_residual_transactions(
            0.01, *_history(cdnow), purchase_covariates=cdnow[["vip"]]
        ),
    )
    plain = ParetoNBDFitter().fit(*_history(cdnow))
    with pytest.raises(ValueError, match=r"has no covariates .*do not pass purchase_covariates"):
        plain.discounted_expected_residual_transactions(
            0.01, 1.0, 2.0, 3.0, purchase_covariates=[[1.0]]
        )


# -- simulation --------------------------------------------------------------------


@pytest.mark.parametrize("fitter_class", FITTERS)
def test_simulation_draws_each_customers_parameters(fitter_class: Any) -> None:
    # A purchase coefficient ln 2 on vip doubles the mean purchase rate r/alpha_i.
    fitter = fitter_class()
    base = (
        {"r": 2.0, "alpha": 4.0, "s": 1.5, "beta": 8.0}
        if fitter_class is ParetoNBDFitter
        else {"r": 2.0, "alpha": 4.0, "a": 1.0, "b": 3.0}
    )
    fitter.params_ = {**base, **_zero(fitter_class, ["vip"]), "purchase:vip": np.log(2.0)}
    n = 40_000
    traits = pd.DataFrame({"vip": np.tile([0.0, 1.0], n // 2)}, index=[f"c{i}" for i in range(n)])
    sim = fitter.generate_new_data(seed=3, T=30.0, purchase_covariates=traits)
    assert list(sim.columns)[-1] == "vip" and len(sim) == n
    assert list(sim["customer_id"][:2]) == ["c0", "c1"]
    assert (sim["T"] == 30.0).all()
    means = sim.groupby("vip")["lambda"].mean()
    assert means[1.0] / means[0.0] == pytest.approx(2.0, rel=0.05)
    # The same seed gives the same customers.
    again = fitter.generate_new_data(seed=3, T=30.0, purchase_covariates=traits)
    pd.testing.assert_frame_equal(sim, again)


def test_simulation_with_zero_coefficients_is_the_plain_distribution() -> None:
    plain = BetaGeoFitter()
    plain.params_ = {"r": 0.25, "alpha": 4.4, "a": 0.8, "b": 2.4}
    zero = BetaGeoFitter()
    zero.params_ = {**plain.params_.to_dict(), **_zero(BetaGeoFitter, ["vip"])}
    n = 40_000
    ours = zero.generate_new_data(
        seed=1, T=39.0, purchase_covariates=pd.DataFrame({"vip": np.zeros(n)})
    )
    theirs = plain.generate_new_data(size=n, seed=1, T=39.0)
    expected = plain.expected_number_of_purchases_up_to_time(39.0)
    for sim in (ours, theirs):
        se = sim["frequency"].std() / np.sqrt(n)
        assert abs(sim["frequency"].mean() - expected) < 4 * se


def test_simulation_with_one_row_of_traits_and_errors(cdnow: pd.DataFrame) -> None:
    fitter = BetaGeoFitter().fit(
        cdnow, purchase_covariate_cols=["region"], dropout_covariate_cols=["score"]
    )
    one = pd.DataFrame({"region": ["west"], "score": [0.5]})
    sim = fitter.generate_new_data(
        size=5, seed=2, T=[1.0, 2.0, 3.0, 4.0, 5.0], dropout_covariates=one
    )
    assert list(sim["customer_id"]) == [0, 1, 2, 3, 4]
    assert list(sim["region"]) == ["west"] * 5 and list(sim["T"]) == [1.0, 2.0, 3.0, 4.0, 5.0]
    many = cdnow[["region", "score"]].iloc[:4]
    with pytest.raises(ValueError, match="size=3 but the covariates have 4 rows"):
        fitter.generate_new_data(size=3, purchase_covariates=many)
    with pytest.raises(ValueError, match=r"T has shape \(2,\) for 4 rows of covariates"):
        fitter.generate_new_data(T=[1.0, 2.0], purchase_covariates=many)
    with pytest.raises(ValueError, match="this model has covariates"):
        fitter.generate_new_data(size=3)
    bad = many.assign(region=["west", "east", "west", "west"])
    with pytest.raises(InvalidDataError, match=r"unseen in the fit \(row 2") as info:
        fitter.generate_new_data(purchase_covariates=bad)
    assert info.value.label == many.index[1]
    with pytest.raises(ValueError, match="'lambda' would hide the simulated column"):
        hand = BetaGeoFitter()
        hand.params_ = {"r": 1.0, "alpha": 1.0, "a": 1.0, "b": 1.0, "purchase:lambda": 0.1}
        hand.generate_new_data(purchase_covariates=pd.DataFrame({"lambda": [1.0, 2.0]}))
    plain = BetaGeoFitter()
    plain.params_ = {"r": 1.0, "alpha": 1.0, "a": 1.0, "b": 1.0}
    with pytest.raises(ValueError, match="do not pass dropout_covariates"):
        plain.generate_new_data(size=2, dropout_covariates=one)


# -- Gamma-Gamma with spend covariates ---------------------------------------------


def test_gamma_gamma_fit_with_spend_covariates(
    ggf_traits: GammaGammaFitter, repeat: pd.DataFrame, plain_fits: dict[str, Any]
) -> None:
    fitter = ggf_traits
    names = ["p", "q", "v", "spend:region[south]", "spend:region[west]", "spend:vip"]
    assert list(fitter.params_.index) == names
    assert list(fitter.summary.index) == names
    assert np.isfinite(fitter.summary["se(coef)"]).all()
    assert fitter.log_likelihood_ >= plain_fits["spend"].log_likelihood_ - 1e-6
    assert fitter.aic == pytest.approx(2 * 6 - 2 * fitter.log_likelihood_)
    assert list(fitter.data.columns) == ["monetary_value", "frequency", "weights", "vip", "region"]
    # Columns, a DataFrame and an array give the same fit; the core's too.
    z = repeat[["vip", "region"]]
    by_frame = GammaGammaFitter().fit(
        repeat["frequency"], repeat["monetary_value"], spend_covariates=z
    )
    pd.testing.assert_series_equal(by_frame.params_, fitter.params_)
    dummies = np.column_stack(
        [repeat["vip"], repeat["region"] == "south", repeat["region"] == "west"]
    ).astype(float)
    core = _core.GammaGammaCovariatesModel.fit(
        repeat["frequency"].to_numpy(float),
        repeat["monetary_value"].to_numpy(float),
        dummies,
        ["vip", "region[south]", "region[west]"],
        [[0, 1, 2]],
        [],
    )
    np.testing.assert_allclose(fitter.params_.to_numpy(), core.params, rtol=1e-10)


def test_gamma_gamma_zero_coefficients_and_own_parameters(
    repeat: pd.DataFrame, plain_fits: dict[str, Any]
) -> None:
    plain = plain_fits["spend"]
    z = repeat[["vip", "score"]]
    zero = _with_coefficients(GammaGammaFitter, plain, _zero(GammaGammaFitter, ["vip", "score"]))
    args = (repeat["frequency"], repeat["monetary_value"])
    np.testing.assert_allclose(
        zero.conditional_expected_average_profit(*args, spend_covariates=z),
        plain.conditional_expected_average_profit(*args),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        zero.individual_log_likelihood(*args, spend_covariates=z),
        plain.individual_log_likelihood(*args),
        rtol=1e-12,
    )
    fitter = _with_coefficients(GammaGammaFitter, plain, {"spend:vip": 0.4, "spend:score": -0.2})
    ours = fitter.conditional_expected_average_profit(*args, spend_covariates=z)
    for label in repeat.index[:5]:
        alone = GammaGammaFitter()
        alone.params_ = _own_params(fitter, repeat.loc[label])
        expected = alone.conditional_expected_average_profit(
            repeat.loc[label, "frequency"], repeat.loc[label, "monetary_value"]
        )
        assert ours[label] == pytest.approx(expected, rel=1e-12)


def test_expected_average_profit_of_new_customers(ggf_traits: GammaGammaFitter) -> None:
    traits = pd.DataFrame({"vip": [0.0, 1.0], "region": ["north", "north"]}, index=["a", "b"])
    new = ggf_traits.expected_average_profit(spend_covariates=traits)
    assert list(new.index) == ["a", "b"]
    gamma = ggf_traits.params_["spend:vip"]
    assert new["b"] / new["a"] == pytest.approx(np.exp(gamma), rel=1e-12)
    p, q, v = ggf_traits.params_[["p", "q", "v"]]
    assert new["a"] == pytest.approx(p * v / (q - 1), rel=1e-12)
    one = ggf_traits.expected_average_profit(spend_covariates=traits.iloc[[0]])
    assert list(one.index) == ["a"]
    with pytest.raises(ValueError, match=r"this model has covariates \(spend: vip, region\)"):
        ggf_traits.expected_average_profit()
    with pytest.raises(ValueError, match=r"pass them to the prediction, as spend_covariates$"):
        ggf_traits.conditional_expected_average_profit(2.0, 30.0)


def test_gamma_gamma_on_the_fitted_data(ggf_traits: GammaGammaFitter, repeat: pd.DataFrame) -> None:
    z = repeat[["vip", "region"]]
    pd.testing.assert_series_equal(
        ggf_traits.conditional_expected_average_profit(),
        ggf_traits.conditional_expected_average_profit(
            repeat["frequency"], repeat["monetary_value"], spend_covariates=z
        ),
    )
    assert ggf_traits.individual_log_likelihood().sum() == pytest.approx(
        ggf_traits.log_likelihood_, rel=1e-12
    )


def test_gamma_gamma_persistence(
    ggf_traits: GammaGammaFitter, repeat: pd.DataFrame, tmp_path: Path
) -> None:
    z = repeat[["vip", "region"]]
    args = (repeat["frequency"], repeat["monetary_value"])
    expected = ggf_traits.conditional_expected_average_profit(*args, spend_covariates=z)
    path = tmp_path / "gg_covariates.json"
    ggf_traits.save_model(path)
    loaded = GammaGammaFitter.load_model(path)
    pd.testing.assert_series_equal(loaded.params_, ggf_traits.params_)
    pd.testing.assert_frame_equal(loaded.summary, ggf_traits.summary)
    pd.testing.assert_series_equal(
        loaded.conditional_expected_average_profit(*args, spend_covariates=z), expected
    )
    # The levels came from the file: an unseen level is caught.
    with pytest.raises(InvalidDataError, match="'region' has the level 'east', unseen"):
        loaded.conditional_expected_average_profit(*args, spend_covariates=z.assign(region="east"))
    restored = pickle.loads(pickle.dumps(ggf_traits))
    pd.testing.assert_series_equal(restored.params_, ggf_traits.params_)
    pd.testing.assert_frame_equal(restored.data, ggf_traits.data)
    # params_ by name (any order), then back to the plain model.
    hand = GammaGammaFitter()
    hand.params_ = ggf_traits.params_.sample(frac=1.0, random_state=1)
    pd.testing.assert_series_equal(hand.params_, ggf_traits.params_)
    pd.testing.assert_series_equal(
        hand.conditional_expected_average_profit(*args, spend_covariates=z), expected
    )
    hand.params_ = ggf_traits.params_.iloc[:3].to_dict()
    assert list(hand.params_.index) == ["p", "q", "v"]


def test_gamma_gamma_covariate_errors(repeat: pd.DataFrame, cdnow: pd.DataFrame) -> None:
    args = (repeat["frequency"], repeat["monetary_value"])
    with pytest.raises(InvalidDataError, match=r"covariate 'score' has a missing value \(row 4"):
        GammaGammaFitter().fit(
            *args,
            spend_covariates=repeat[["score"]].assign(
                score=lambda d: d["score"].where(np.arange(len(d)) != 3)
            ),
        )
    with pytest.raises(ValueError, match=r"penalizer_coef .* is not available with covariates"):
        GammaGammaFitter(penalizer_coef=0.1).fit(*args, spend_covariates=repeat[["vip"]])
    with pytest.raises(ValueError, match="covariate_penalizer needs spend_covariates"):
        GammaGammaFitter().fit(*args, covariate_penalizer=1.0)
    with pytest.raises(ValueError, match="pass either spend_covariates or spend_covariate_cols"):
        GammaGammaFitter().fit(
            repeat, spend_covariates=repeat[["vip"]], spend_covariate_cols=["vip"]
        )
    # Customers without repeat purchases are left out with their covariates.
    fitted = GammaGammaFitter().fit(
        cdnow, spend_covariate_cols=["vip"], exclude_zero_frequency=True
    )
    only = GammaGammaFitter().fit(repeat, spend_covariate_cols=["vip"])
    np.testing.assert_allclose(fitted.params_, only.params_, rtol=1e-10)
    # A penalty shrinks the coefficient.
    free = GammaGammaFitter().fit(repeat, spend_covariate_cols=["score"])
    shrunk = GammaGammaFitter().fit(repeat, spend_covariate_cols=["score"], covariate_penalizer=1.0)
    assert abs(shrunk.params_["spend:score"]) < abs(free.params_["spend:score"])
    assert shrunk.covariate_penalizer_ == 1.0
    plain = GammaGammaFitter().fit(*args)
    with pytest.raises(ValueError, match=r"has no covariates .*do not pass spend_covariates"):
        plain.expected_average_profit(spend_covariates=repeat[["vip"]])


# -- customer lifetime value -------------------------------------------------------


@pytest.mark.parametrize("fitter_class", FITTERS)
@pytest.mark.parametrize("discounting", ["discrete", "continuous"])
def test_clv_with_zero_coefficients_is_the_plain_clv(
    fitter_class: Any, discounting: str, cdnow: pd.DataFrame, plain_fits: dict[str, Any]
) -> None:
    plain_t, plain_s = plain_fits[fitter_class.__name__], plain_fits["spend"]
    cols = ["vip", "score"]
    zero_t = _with_coefficients(fitter_class, plain_t, _zero(fitter_class, cols))
    zero_s = _with_coefficients(GammaGammaFitter, plain_s, _zero(GammaGammaFitter, cols))
    rows = cdnow.iloc[:200]
    z = rows[cols]
    args = (*_history(rows), rows["monetary_value"])
    time = 12 if discounting == "discrete" else None
    kw = {"time": time, "discounting": discounting, "freq": "W", "discount_rate": 0.01}
    expected = plain_s.customer_lifetime_value(plain_t, *args, **kw)
    for spend, transactions, given in [
        (zero_s, plain_t, {"spend_covariates": z}),
        (plain_s, zero_t, {"purchase_covariates": z, "dropout_covariates": z}),
        (zero_s, zero_t, {"spend_covariates": z, "purchase_covariates": z}),
    ]:
        ours = spend.customer_lifetime_value(transactions, *args, **kw, **given)
        assert isinstance(ours, pd.Series) and ours.name == "clv"
        np.testing.assert_allclose(ours, expected, rtol=1e-12)
        pd.testing.assert_index_equal(ours.index, rows.index)


@pytest.mark.parametrize("fitter_class", FITTERS)
@pytest.mark.parametrize("discounting", ["discrete", "continuous"])
def test_clv_of_a_customer_is_the_plain_clv_at_their_parameters(
    fitter_class: Any, discounting: str, cdnow: pd.DataFrame, plain_fits: dict[str, Any]
) -> None:
    cols = ["vip", "score"]
    transactions = _with_coefficients(
        fitter_class, plain_fits[fitter_class.__name__], _some(fitter_class, cols)
    )
    spend = _with_coefficients(
        GammaGammaFitter, plain_fits["spend"], {"spend:vip": 0.3, "spend:score": -0.25}
    )
    rows = cdnow.iloc[[1, 8, 40, 2000]]
    time = 6 if discounting == "discrete" else None
    kw = {"time": time, "discounting": discounting, "freq": "W", "discount_rate": 0.02}
    ours = spend.customer_lifetime_value(
        transactions,
        *_history(rows),
        rows["monetary_value"],
        **kw,
        spend_covariates=rows[["vip", "score"]],
        purchase_covariates=rows[["vip", "score"]],
    )
    for label in rows.index:
        row = rows.loc[label]
        alone_t, alone_s = fitter_class(), GammaGammaFitter()
        alone_t.params_ = _own_params(transactions, row)
        alone_s.params_ = _own_params(spend, row)
        expected = alone_s.customer_lifetime_value(
            alone_t, *(row[c] for c in HISTORY), row["monetary_value"], **kw
        )
        assert ours[label] == pytest.approx(expected, rel=1e-12), label


def test_clv_new_customers_and_errors(cdnow: pd.DataFrame, plain_fits: dict[str, Any]) -> None:
    pnbd = ParetoNBDFitter().fit(cdnow, purchase_covariate_cols=["vip"])
    ggf = GammaGammaFitter().fit(cdnow, spend_covariate_cols=["vip"], exclude_zero_frequency=True)
    rows = cdnow.iloc[:10]
    args = (*_history(rows), rows["monetary_value"])
    z = rows[["vip"]]
    with pytest.raises(ValueError, match=r"\(spend: vip\): pass them .* as spend_covariates"):
        ggf.customer_lifetime_value(pnbd, *args, purchase_covariates=z)
    with pytest.raises(ValueError, match=r"\(purchase: vip\): pass them .* purchase_covariates"):
        ggf.customer_lifetime_value(pnbd, *args, spend_covariates=z)
    with pytest.raises(ValueError, match=r"has no covariates .*do not pass spend_covariates"):
        plain_fits["spend"].customer_lifetime_value(
            pnbd, *args, spend_covariates=z, purchase_covariates=z
        )
    with pytest.raises(ValueError, match=r"has no covariates .*do not pass purchase_covariates"):
        ggf.customer_lifetime_value(
            plain_fits["ParetoNBDFitter"], *args, spend_covariates=z, purchase_covariates=z
        )
    both = ggf.customer_lifetime_value(
        pnbd, *args, spend_covariates=z, purchase_covariates=z, freq="W"
    )
    # Scalar histories with rows of traits: one value per row, labelled like them.
    traits = pd.DataFrame({"vip": [0.0, 1.0]}, index=["a", "b"])
    new = ggf.customer_lifetime_value(
        pnbd, 0, 0, 0, 0, spend_covariates=traits, purchase_covariates=traits, freq="W"
    )
    assert list(new.index) == ["a", "b"] and new["b"] != new["a"]
    one = ggf.customer_lifetime_value(
        pnbd,
        *(rows.iloc[0][c] for c in HISTORY),
        rows.iloc[0]["monetary_value"],
        spend_covariates=z.iloc[[0]],
        purchase_covariates=z.iloc[[0]],
        freq="W",
    )
    assert list(one.index) == [rows.index[0]]
    assert one.iloc[0] == pytest.approx(both.iloc[0], rel=1e-12)
    with pytest.raises(ValueError, match=r"'vip' is missing: .* named spend_0, \.\.\."):
        ggf.customer_lifetime_value(pnbd, *args, spend_covariates=z.to_numpy())
    with pytest.raises(ValueError, match=r"different numbers of rows \(2 and 3\)"):
        ggf.customer_lifetime_value(
            pnbd,
            0,
            0,
            0,
            0,
            spend_covariates=traits,
            purchase_covariates=pd.DataFrame({"vip": [0.0, 1.0, 1.0]}),
            freq="W",
        )


# -- intervals over the uncertainty of every estimate ------------------------------


@pytest.fixture(scope="module")
def pnbd_vip(cdnow: pd.DataFrame) -> ParetoNBDFitter:
    return ParetoNBDFitter().fit(
        cdnow, purchase_covariate_cols=["vip", "score"], dropout_covariate_cols=["vip"]
    )


def _draw_own_params(fitter: Any, traits: pd.Series, n: int, seed: int) -> list[dict[str, float]]:
    """``n`` draws of a customer's own parameters from the asymptotic normal
    distribution of the estimates (log scale for the base parameters, the
    coefficients as they are), independently of the core."""
    params = fitter.params_
    base = [":" not in k for k in params.index]
    slope = np.where(base, params.to_numpy(), 1.0)
    cov = fitter.variance_matrix_.to_numpy() / np.outer(slope, slope)
    centre = params.to_numpy().copy()
    centre[base] = np.log(centre[base])
    draws = np.random.default_rng(seed).multivariate_normal(centre, cov, size=n)
    draws[:, base] = np.exp(draws[:, base])
    out = []
    for values in draws:
        drawn = type(fitter)()
        drawn.params_ = pd.Series(values, index=params.index)
        out.append(_own_params(drawn, traits))
    return out


@pytest.mark.parametrize(
    "method",
    [
        "conditional_probability_alive_interval",
        "conditional_expected_number_of_purchases_up_to_time_interval",
        "discounted_expected_residual_transactions_interval",
    ],
)
def test_intervals_with_covariates_agree_with_an_independent_simulation(
    method: str, pnbd_vip: ParetoNBDFitter, cdnow: pd.DataFrame
) -> None:
    # Far from the mean traits, where the coefficients' uncertainty matters.
    rows = cdnow.iloc[[0, 9]].assign(vip=[1.0, 0.0], score=[8.0, -8.0])
    z = rows[["vip", "score"]]
    lead = {
        "conditional_probability_alive_interval": (),
        "conditional_expected_number_of_purchases_up_to_time_interval": (26.0,),
        "discounted_expected_residual_transactions_interval": (0.01,),
    }[method]
    kw = {"purchase_covariates": z, "dropout_covariates": z}
    band = getattr(pnbd_vip, method)(*lead, *_history(rows), n_draws=2000, seed=4, **kw)
    assert list(band.columns) == ["estimate", "lower", "upper"]
    assert list(band.index) == list(rows.index)
    point = method.removesuffix("_interval")
    np.testing.assert_allclose(
        band["estimate"], getattr(pnbd_vip, point)(*lead, *_history(rows), **kw), rtol=1e-12
    )
    assert (band["lower"] < band["estimate"]).all() and (band["estimate"] < band["upper"]).all()
    # The same seed, the same bounds.
    again = getattr(pnbd_vip, method)(*lead, *_history(rows), n_draws=2000, seed=4, **kw)
    pd.testing.assert_frame_equal(band, again)
    # Quantiles of the customer's prediction under parameters drawn here.
    for label in rows.index:
        row = rows.loc[label]
        values = []
        for own in _draw_own_params(pnbd_vip, row, 2000, seed=11):
            alone = ParetoNBDFitter()
            alone.params_ = own
            values.append(getattr(alone, point)(*lead, *(row[c] for c in HISTORY)))
        lower, upper = np.quantile(values, [0.025, 0.975])
        width = upper - lower
        assert band.loc[label, "lower"] == pytest.approx(lower, abs=0.1 * width), label
        assert band.loc[label, "upper"] == pytest.approx(upper, abs=0.1 * width), label


def test_intervals_with_covariates_need_them_and_a_covariance(
    pnbd_vip: ParetoNBDFitter, cdnow: pd.DataFrame
) -> None:
    with pytest.raises(ValueError, match=r"this model has covariates \(purchase: vip, score"):
        pnbd_vip.conditional_probability_alive_interval(1.0, 2.0, 3.0)
    # Omitted with the histories: the fitted data's covariates.
    pd.testing.assert_frame_equal(
        pnbd_vip.conditional_probability_alive_interval(seed=1, n_draws=50),
        pnbd_vip.conditional_probability_alive_interval(
            *_history(cdnow), seed=1, n_draws=50, purchase_covariates=cdnow[["vip", "score"]]
        ),
    )
    hand = ParetoNBDFitter()
    hand.params_ = pnbd_vip.params_
    with pytest.raises(ValueError, match="intervals need the covariance"):
        hand.conditional_probability_alive_interval(
            1.0, 2.0, 3.0, purchase_covariates=cdnow[["vip", "score"]].iloc[[0]]
        )
    plain = ParetoNBDFitter().fit(*_history(cdnow))
    with pytest.raises(ValueError, match=r"has no covariates .*do not pass purchase_covariates"):
        plain.conditional_probability_alive_interval(
            1.0, 2.0, 3.0, purchase_covariates=cdnow[["vip"]]
        )


def _with_covariance(fitter: Any, coefficients: dict[str, float], variance: float) -> Any:
    """A fitter with covariates made from the fitted plain ``fitter``: its
    estimates and covariance, plus ``coefficients`` uncorrelated with them,
    each with ``variance`` (a block-diagonal covariance, as a saved file)."""
    saved = json.loads(fitter._model_json())
    names = list(fitter.params_.index)
    k, n = len(names), len(coefficients)
    cov = np.zeros((k + n, k + n))
    cov[:k, :k] = np.asarray(saved["fit"]["covariance"]).reshape(k, k)
    cov[k:, k:] = variance * np.eye(n)
    saved["model"] = type(fitter)._covariate_core_class.MODEL_NAME
    saved["params"].update(coefficients)
    saved["fit"]["covariance"] = cov.reshape(-1).tolist()
    out = type(fitter)()
    out._set_model_json(json.dumps(saved))
    assert list(out.params_.index)[:k] == names  # equal variances: any order of the rest
    return out


def _scaled(fitter: Any, factor: float) -> Any:
    """``fitter`` (saved and loaded) with its covariance times ``factor``."""
    saved = json.loads(fitter._model_json())
    saved["fit"]["covariance"] = [factor * v for v in saved["fit"]["covariance"]]
    out = type(fitter)()
    out._set_model_json(json.dumps(saved))
    return out


def _clv_interval_args(rows: pd.DataFrame) -> tuple[pd.Series, ...]:
    return (*_history(rows), rows["monetary_value"])


@pytest.mark.parametrize("fitter_class", FITTERS)
@pytest.mark.parametrize("discounting", ["discrete", "continuous"])
def test_clv_interval_at_zero_coefficients_is_the_plain_interval(
    fitter_class: Any, discounting: str, cdnow: pd.DataFrame, plain_fits: dict[str, Any]
) -> None:
    """Coefficients 0 with (next to) no uncertainty: the plain models' interval
    with the same seed, whichever model has the covariates."""
    rows = cdnow.iloc[:300]
    plain, spend = plain_fits[fitter_class.__name__], plain_fits["spend"]
    zero = _with_covariance(plain, _zero(fitter_class, ["vip", "score"]), 1e-30)
    spend_zero = _with_covariance(spend, {"spend:score": 0.0, "spend:vip": 0.0}, 1e-30)
    z = rows[["vip", "score"]]
    kw: dict[str, Any] = {
        "n_draws": 60,
        "seed": 7,
        "freq": "W",
        "discounting": discounting,
        "time": None if discounting == "continuous" else 6,
    }
    expected = spend.customer_lifetime_value_interval(plain, *_clv_interval_args(rows), **kw)
    transaction_z = {"purchase_covariates": z, "dropout_covariates": z}
    for spend_model, transactions, given in [
        (spend, zero, transaction_z),
        (spend_zero, plain, {"spend_covariates": z}),
        (spend_zero, zero, {**transaction_z, "spend_covariates": z}),
    ]:
        band = spend_model.customer_lifetime_value_interval(
            transactions, *_clv_interval_args(rows), **kw, **given
        )
        assert list(band.index) == list(rows.index)
        np.testing.assert_allclose(band.to_numpy(), expected.to_numpy(), rtol=1e-10)
    assert (expected["lower"] < expected["upper"]).all()


def test_clv_interval_with_covariates_brackets_the_point_clv(
    pnbd_vip: ParetoNBDFitter, ggf_traits: GammaGammaFitter, cdnow: pd.DataFrame
) -> None:
    rows = cdnow.iloc[[0, 3, 9, 20]]
    kw = {
        "purchase_covariates": rows[["vip", "score"]],
        "dropout_covariates": rows[["vip"]],
        "spend_covariates": rows[["vip", "region"]],
        "freq": "W",
    }
    band = ggf_traits.customer_lifetime_value_interval(
        pnbd_vip, *_clv_interval_args(rows), n_draws=300, seed=2, **kw
    )
    point = ggf_traits.customer_lifetime_value(pnbd_vip, *_clv_interval_args(rows), **kw)
    np.testing.assert_allclose(band["estimate"], point, rtol=1e-12)
    assert (band["lower"] < band["estimate"]).all() and (band["estimate"] < band["upper"]).all()
    again = ggf_traits.customer_lifetime_value_interval(
        pnbd_vip, *_clv_interval_args(rows), n_draws=300, seed=2, **kw
    )
    pd.testing.assert_frame_equal(band, again)
    # Next to no uncertainty (covariances scaled by 1e-24): the bounds close
    # on the estimate.
    narrow = _scaled(ggf_traits, 1e-24).customer_lifetime_value_interval(
        _scaled(pnbd_vip, 1e-24), *_clv_interval_args(rows), n_draws=50, seed=2, **kw
    )
    np.testing.assert_allclose(narrow["estimate"], point, rtol=1e-12)
    np.testing.assert_allclose(narrow["lower"], point, rtol=1e-9)
    np.testing.assert_allclose(narrow["upper"], point, rtol=1e-9)


def test_clv_interval_with_covariates_needs_them(
    pnbd_vip: ParetoNBDFitter, ggf_traits: GammaGammaFitter, plain_fits: dict[str, Any]
) -> None:
    args = (1.0, 2.0, 3.0, 20.0)
    with pytest.raises(ValueError, match=r"this model has covariates \(purchase: vip, score"):
        plain_fits["spend"].customer_lifetime_value_interval(pnbd_vip, *args, freq="W")
    with pytest.raises(ValueError, match=r"this model has covariates \(spend: vip, region"):
        ggf_traits.customer_lifetime_value_interval(plain_fits["ParetoNBDFitter"], *args, freq="W")
    with pytest.raises(ValueError, match=r"has no covariates .*do not pass spend_covariates"):
        plain_fits["spend"].customer_lifetime_value_interval(
            pnbd_vip,
            *args,
            freq="W",
            purchase_covariates=pd.DataFrame({"vip": [1.0], "score": [0.0]}),
            spend_covariates=pd.DataFrame({"vip": [1.0]}),
        )
    hand = ParetoNBDFitter()
    hand.params_ = pnbd_vip.params_
    with pytest.raises(ValueError, match="intervals need the covariance"):
        plain_fits["spend"].customer_lifetime_value_interval(
            hand,
            *args,
            freq="W",
            purchase_covariates=pd.DataFrame({"vip": [1.0], "score": [0.0]}),
        )
