"""The pandas API of time-invariant covariates (issue 13): ``fit(...,
purchase_covariates=..., dropout_covariates=...)`` on the BG/NBD, MBG/NBD and
Pareto/NBD fitters, the fitted-model surface and the predictions.

Reference values: CLVTools 0.12.1 on CDNOW with ``log_first_spend``
(``../shared/reference/covariates_cdnow.md``); the native classes are checked
against them in ``test_covariates_core.py``.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_covariates_core import cdnow_first_spend  # noqa: F401  (a fixture)

from retentionkit import (
    BetaGeoFitter,
    InvalidDataError,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
    _core,
)
from retentionkit.model_comparison import likelihood_ratio_test

FITTERS = [ParetoNBDFitter, BetaGeoFitter, ModifiedBetaGeoFitter]
HISTORY = ["frequency", "recency", "T"]

#: CLVTools 0.12.1, Pareto/NBD with log_first_spend in both processes.
CLV_LL = -9571.98206262848
CLV_ESTIMATES = {
    "r": (0.572935325339591, 0.0496898632488943),
    "alpha": (36.8716471200374, 7.89853634017095),
    "s": (0.612989709595729, 0.19536354565176),
    "beta": (12.3445499661293, 10.1773820416689),
    "purchase:log_first_spend": (0.364454361636481, 0.0613730458781769),
    "dropout:log_first_spend": (0.00869821437825145, 0.14974874122163),
}


def _history(df: pd.DataFrame) -> list[pd.Series]:
    return [df[c] for c in HISTORY]


@pytest.fixture(scope="module")
def cdnow_traits(cdnow_first_spend: pd.DataFrame) -> pd.DataFrame:  # noqa: F811
    """CDNOW with log_first_spend, a continuous noise column and a 3-level channel."""
    rng = np.random.default_rng(13)
    df = cdnow_first_spend.copy()
    df["noise"] = rng.normal(size=len(df))
    df["channel"] = pd.Categorical(rng.choice(["web", "phone", "store"], size=len(df)))
    return df


@pytest.fixture(scope="module")
def pnbd_first_spend(cdnow_first_spend: pd.DataFrame) -> ParetoNBDFitter:  # noqa: F811
    return ParetoNBDFitter().fit(
        cdnow_first_spend,
        purchase_covariate_cols=["log_first_spend"],
        dropout_covariate_cols=["log_first_spend"],
    )


# -- CDNOW against CLVTools --------------------------------------------------------


def test_pareto_nbd_matches_clvtools_on_cdnow(pnbd_first_spend: ParetoNBDFitter) -> None:
    fitter = pnbd_first_spend
    assert list(fitter.params_.index) == list(CLV_ESTIMATES)
    # Our optimum is 7e-5 above CLVTools' (which stops earlier).
    assert CLV_LL <= fitter.log_likelihood_ <= CLV_LL + 1e-3
    summary = fitter.summary
    for name, (estimate, se) in CLV_ESTIMATES.items():
        # The likelihood is flat around the optimum (a change of 7e-5 in LL moves
        # beta by 0.8%), so the printed digits are not reproducible: the estimates
        # agree to 2% of a standard error, the standard errors to 1e-2.
        assert abs(summary.loc[name, "coef"] - estimate) < 0.02 * se, name
        assert summary.loc[name, "se(coef)"] == pytest.approx(se, rel=1e-2), name
    assert fitter.aic == pytest.approx(2 * 6 - 2 * fitter.log_likelihood_)
    assert fitter.bic == pytest.approx(6 * np.log(2357) - 2 * fitter.log_likelihood_)


def test_predictions_at_clvtools_estimates(
    cdnow_first_spend: pd.DataFrame,  # noqa: F811
) -> None:
    fitter = ParetoNBDFitter()
    fitter.params_ = {name: estimate for name, (estimate, _) in CLV_ESTIMATES.items()}
    rows = cdnow_first_spend.loc[[1, 10, 100, 1000]]
    # The covariates come as one DataFrame of the whole base, aligned by label.
    traits = cdnow_first_spend[["log_first_spend"]]
    alive = fitter.conditional_probability_alive(
        *_history(rows), purchase_covariates=traits, dropout_covariates=traits
    )
    assert list(alive.index) == [1, 10, 100, 1000]
    np.testing.assert_allclose(
        alive,
        [0.868430237539447, 0.292027406097153, 0.766381557176691, 0.801784309987469],
        rtol=1e-8,
    )
    expected = fitter.conditional_expected_number_of_purchases_up_to_time(
        39, *_history(rows), purchase_covariates=traits, dropout_covariates=traits
    )
    np.testing.assert_allclose(
        expected,
        [1.46204844593519, 0.109751398386115, 0.762031036658857, 2.38412266871474],
        rtol=1e-8,
    )


@pytest.mark.parametrize("fitter_class", [BetaGeoFitter, ModifiedBetaGeoFitter])
def test_bg_family_fits_cdnow_with_first_spend(
    fitter_class: Any,
    cdnow_first_spend: pd.DataFrame,  # noqa: F811
    pnbd_first_spend: ParetoNBDFitter,
) -> None:
    # CLVTools' BG/NBD (one coefficient for a and b) fails here; with separate
    # coefficients the fit converges, close to the Pareto/NBD's likelihood.
    fitter = fitter_class().fit(
        cdnow_first_spend,
        purchase_covariate_cols=["log_first_spend"],
        dropout_covariate_cols=["log_first_spend"],
    )
    assert list(fitter.params_.index)[4:] == [
        "purchase:log_first_spend",
        "dropout_a:log_first_spend",
        "dropout_b:log_first_spend",
    ]
    assert fitter.log_likelihood_ >= pnbd_first_spend.log_likelihood_ - 5
    assert np.isfinite(fitter.summary["se(coef)"]).all()
    assert fitter.summary.loc["purchase:log_first_spend", "coef"] > 0


# -- zero coefficients, penalties, shared --------------------------------------------


@pytest.mark.parametrize("fitter_class", FITTERS)
def test_zero_coefficients_are_the_plain_model(
    fitter_class: Any, cdnow_traits: pd.DataFrame
) -> None:
    plain = fitter_class().fit(*_history(cdnow_traits))
    names = ["log_first_spend", "channel"]
    with_cov = fitter_class()
    coefficients = fitter_class().fit(
        cdnow_traits, purchase_covariate_cols=names, dropout_covariate_cols=names
    )
    with_cov.params_ = {
        **plain.params_.to_dict(),
        **{n: 0.0 for n in coefficients.params_.index[4:]},
    }
    z = {"purchase_covariates": cdnow_traits[names], "dropout_covariates": cdnow_traits}
    hist = _history(cdnow_traits)
    for method, args in [
        ("conditional_probability_alive", hist),
        ("conditional_expected_number_of_purchases_up_to_time", [10.0, *hist]),
        ("individual_log_likelihood", hist),
    ]:
        np.testing.assert_allclose(
            getattr(with_cov, method)(*args, **z),
            getattr(plain, method)(*args),
            rtol=1e-12,
            err_msg=method,
        )
    new_customers = with_cov.expected_number_of_purchases_up_to_time(20.0, **z)
    assert list(new_customers.index) == list(cdnow_traits.index)
    np.testing.assert_allclose(
        new_customers, plain.expected_number_of_purchases_up_to_time(20.0), rtol=1e-12
    )
    t, n = np.full(3, 20.0), np.arange(3.0)
    np.testing.assert_allclose(
        with_cov.probability_of_n_purchases_up_to_time(
            t, n, **{k: v.iloc[[7]] for k, v in z.items()}
        ),
        plain.probability_of_n_purchases_up_to_time(t, n),
        rtol=1e-12,
    )
    # The log-likelihood of the covariate fit is at least the plain one.
    assert coefficients.log_likelihood_ >= plain.log_likelihood_ - 1e-6


def test_zero_penalty_is_the_unpenalised_fit(cdnow_traits: pd.DataFrame) -> None:
    names = ["log_first_spend", "noise"]
    free = BetaGeoFitter().fit(
        cdnow_traits, purchase_covariate_cols=names, dropout_covariate_cols=names
    )
    zero = BetaGeoFitter().fit(
        cdnow_traits,
        purchase_covariate_cols=names,
        dropout_covariate_cols=names,
        covariate_penalizer=(0.0, 0.0),
    )
    pd.testing.assert_series_equal(zero.params_, free.params_, rtol=1e-10)
    heavy = BetaGeoFitter().fit(
        cdnow_traits,
        purchase_covariate_cols=names,
        dropout_covariate_cols=names,
        covariate_penalizer=(1.0, 0.0),
    )
    # A penalty on the purchase coefficients shrinks them, not the drop-out ones.
    assert abs(heavy.params_["purchase:log_first_spend"]) < 0.5 * abs(
        free.params_["purchase:log_first_spend"]
    )
    assert heavy.covariate_penalizer_ == [1.0, 0.0]
    assert heavy.penalizer_coef == 0.0


def test_shared_covariate_has_one_coefficient(cdnow_traits: pd.DataFrame) -> None:
    free = ParetoNBDFitter().fit(
        cdnow_traits,
        purchase_covariate_cols=["log_first_spend", "noise"],
        dropout_covariate_cols=["log_first_spend", "noise"],
    )
    shared = ParetoNBDFitter().fit(
        cdnow_traits,
        purchase_covariate_cols=["log_first_spend", "noise"],
        dropout_covariate_cols=["log_first_spend", "noise"],
        shared_covariates=["noise"],
    )
    assert list(shared.params_.index)[4:] == [
        "purchase:log_first_spend",
        "dropout:log_first_spend",
        "shared:noise",
    ]
    assert shared.log_likelihood_ <= free.log_likelihood_ + 1e-6
    with pytest.raises(ValueError, match="shared covariate 'region' is not a column"):
        ParetoNBDFitter().fit(
            cdnow_traits, purchase_covariate_cols=["noise"], shared_covariates=["region"]
        )


# -- the ways of giving covariates ---------------------------------------------------------


def test_dataframe_array_and_columns_give_the_same_fit(cdnow_traits: pd.DataFrame) -> None:
    z = cdnow_traits[["log_first_spend"]]
    by_frame = BetaGeoFitter().fit(*_history(cdnow_traits), purchase_covariates=z)
    # Shuffled, with customers the histories do not have: aligned by label.
    extra = pd.DataFrame({"log_first_spend": [1.0, 2.0]}, index=[-1, -2])
    shuffled = pd.concat([z, extra]).sample(frac=1.0, random_state=1)
    by_label = BetaGeoFitter().fit(*_history(cdnow_traits), purchase_covariates=shuffled)
    by_cols = BetaGeoFitter().fit(cdnow_traits, purchase_covariate_cols=["log_first_spend"])
    by_array = BetaGeoFitter().fit(
        *(s.to_numpy() for s in _history(cdnow_traits)), purchase_covariates=z.to_numpy()
    )
    # Arrays with index= take the covariates by that index's labels.
    by_index = BetaGeoFitter().fit(
        *(s.to_numpy() for s in _history(cdnow_traits)),
        index=cdnow_traits.index,
        purchase_covariates=shuffled,
    )
    for other in (by_label, by_cols, by_index):
        pd.testing.assert_series_equal(other.params_, by_frame.params_, rtol=1e-12)
    np.testing.assert_allclose(by_array.params_, by_frame.params_, rtol=1e-12)
    assert list(by_array.params_.index)[4:] == ["purchase:purchase_0"]
    assert list(by_frame.data.columns) == [*HISTORY, "weights", "log_first_spend"]
    pd.testing.assert_series_equal(
        by_label.data["log_first_spend"], z["log_first_spend"], check_names=False
    )
    # Refitted without covariates, the fitter is the plain one again.
    by_label.fit(*_history(cdnow_traits))
    assert list(by_label.params_.index) == ["r", "alpha", "a", "b"]
    assert list(by_label.data.columns) == [*HISTORY, "weights"]
    assert by_label.covariate_penalizer_ is None


def test_a_customer_without_covariates_is_named(cdnow_traits: pd.DataFrame) -> None:
    z = cdnow_traits[["log_first_spend"]].drop(index=[17, 40])
    with pytest.raises(InvalidDataError, match="no row for a customer") as e:
        ParetoNBDFitter().fit(*_history(cdnow_traits), purchase_covariates=z)
    assert (e.value.row, e.value.label) == (16, 17)
    assert "(row 17 of the histories; 2 customer(s) missing)" in str(e.value)
    assert str(e.value).endswith("to take rows in order [index label 17]")


def test_categorical_columns_become_dummies(cdnow_traits: pd.DataFrame) -> None:
    df = cdnow_traits.copy()
    df["vip"] = df["noise"] > 1.0
    df["region"] = np.where(df["log_first_spend"] > 3.0, "north", "east")  # object
    fitter = BetaGeoFitter().fit(
        df, purchase_covariate_cols=["channel", "vip", "region"], dropout_covariate_cols=["vip"]
    )
    # Levels sorted, the first dropped: phone (channel), False (vip), east (region).
    assert list(fitter.params_.index)[4:] == [
        "purchase:channel[store]",
        "purchase:channel[web]",
        "purchase:region[north]",
        "purchase:vip[True]",
        "dropout_a:vip[True]",
        "dropout_b:vip[True]",
    ]
    # The same as the dummies made by hand.
    manual = pd.DataFrame(
        {
            "channel[store]": (df["channel"] == "store").astype(float),
            "channel[web]": (df["channel"] == "web").astype(float),
            "region[north]": (df["region"] == "north").astype(float),
            "vip[True]": df["vip"].astype(float),
        }
    )
    by_hand = BetaGeoFitter().fit(
        *_history(df), purchase_covariates=manual, dropout_covariates=manual[["vip[True]"]]
    )
    np.testing.assert_allclose(by_hand.params_, fitter.params_, rtol=1e-10)
    assert fitter.log_likelihood_ == pytest.approx(by_hand.log_likelihood_, rel=1e-12)
    # Predictions encode new data the same way; an unseen level is an error.
    new = df.iloc[:3][["channel", "vip", "region"]]
    p = fitter.conditional_probability_alive(
        *_history(df.iloc[:3]), purchase_covariates=new, dropout_covariates=new
    )
    q = by_hand.conditional_probability_alive(
        *_history(df.iloc[:3]), purchase_covariates=manual.iloc[:3]
    )
    np.testing.assert_allclose(p, q, rtol=1e-12)
    bad = new.astype({"channel": object})
    bad.iloc[1, 0] = "fax"
    with pytest.raises(InvalidDataError, match="level 'fax', unseen in the fit") as e:
        fitter.conditional_probability_alive(*_history(df.iloc[:3]), purchase_covariates=bad)
    assert (e.value.column, e.value.row, e.value.label) == ("channel", 1, 2)
    assert str(e.value).endswith("[index label 2]")
    # New customers given by their traits alone: rows and labels are the traits'.
    traits = new.set_axis(["a", "b", "c"]).astype({"vip": object})
    traits.loc["c", "vip"] = None
    with pytest.raises(InvalidDataError, match=r"'vip' has a missing value \(row 3") as e:
        fitter.expected_number_of_purchases_up_to_time(
            10.0, purchase_covariates=traits, dropout_covariates=traits
        )
    assert (e.value.row, e.value.label) == (2, "c")
    # One row of traits for several customers: the row is the traits'.
    with pytest.raises(InvalidDataError, match=r"\(row 1; 1 in all\) \[index label 'c'\]$"):
        fitter.conditional_probability_alive(
            *_history(df.iloc[:3]),
            purchase_covariates=traits.iloc[[2]],
            dropout_covariates=traits.iloc[[2]],
        )


# -- bad input ----------------------------------------------------------------------------


def _fit_with(df: pd.DataFrame, z: pd.DataFrame) -> Any:
    return ParetoNBDFitter().fit(*_history(df), purchase_covariates=z)


@pytest.mark.parametrize(
    ("value", "message", "rule"),
    [
        (
            np.nan,
            r"^covariate 'x' has a missing value \(row 6; 1 in all\) \[index label 6\]$",
            "missing",
        ),
        (np.inf, r"^covariate 'x' is infinite \(row 6: inf\) \[index label 6\]$", "finite"),
    ],
)
def test_missing_and_infinite_values_name_column_and_row(
    cdnow_traits: pd.DataFrame, value: float, message: str, rule: str
) -> None:
    z = pd.DataFrame({"x": cdnow_traits["noise"]})
    z.loc[6, "x"] = value
    with pytest.raises(InvalidDataError, match=message) as e:
        _fit_with(cdnow_traits, z)
    assert (e.value.column, e.value.row, e.value.label) == ("x", 5, 6)
    assert rule in e.value.rule


def test_missing_category_names_column_and_row(cdnow_traits: pd.DataFrame) -> None:
    z = pd.DataFrame({"ch": cdnow_traits["channel"].astype(object)})
    z.loc[3, "ch"] = None
    with pytest.raises(InvalidDataError, match="'ch' has a missing value \\(row 3") as e:
        _fit_with(cdnow_traits, z)
    assert e.value.row == 2


@pytest.mark.parametrize("kind", ["numeric", "categorical"])
def test_constant_column_is_refused(cdnow_traits: pd.DataFrame, kind: str) -> None:
    value: Any = 2.5 if kind == "numeric" else "web"
    z = pd.DataFrame({"noise": cdnow_traits["noise"], "flat": value}, index=cdnow_traits.index)
    with pytest.raises(InvalidDataError, match="covariate 'flat' is constant") as e:
        _fit_with(cdnow_traits, z)
    assert e.value.column == "flat"


def test_collinear_columns_are_refused(cdnow_traits: pd.DataFrame) -> None:
    z = pd.DataFrame(
        {
            "spend": cdnow_traits["log_first_spend"],
            "noise": cdnow_traits["noise"],
            "spend_scaled": 2.0 * cdnow_traits["log_first_spend"] + 1.0,
        }
    )
    with pytest.raises(
        InvalidDataError, match="'spend_scaled' is perfectly collinear with 'spend'"
    ) as e:
        _fit_with(cdnow_traits, z)
    assert e.value.column == "spend_scaled"
    # Dummies of a categorical against a column that repeats one of them.
    z = pd.DataFrame(
        {"channel": cdnow_traits["channel"], "web": (cdnow_traits["channel"] == "web") * 1.0}
    )
    with pytest.raises(
        InvalidDataError, match="'web' is perfectly collinear with 'channel\\[web\\]'"
    ):
        _fit_with(cdnow_traits, z)
    # Collinear only across processes is fine (each process has its own coefficients).
    ParetoNBDFitter().fit(
        *_history(cdnow_traits),
        purchase_covariates=z[["channel"]],
        dropout_covariates=z[["web"]],
    )


def test_other_bad_arguments(cdnow_traits: pd.DataFrame) -> None:
    hist = _history(cdnow_traits)
    z = cdnow_traits[["noise"]]
    with pytest.raises(ValueError, match="covariate_penalizer must be finite and non-negative"):
        BetaGeoFitter().fit(*hist, purchase_covariates=z, covariate_penalizer=-1.0)
    with pytest.raises(ValueError, match="covariate_penalizer must be a number or 2 numbers"):
        BetaGeoFitter().fit(*hist, purchase_covariates=z, covariate_penalizer=(1.0, 2.0, 3.0))
    with pytest.raises(ValueError, match=r"penalizer_coef .* is not available with covariates"):
        BetaGeoFitter(penalizer_coef=0.1).fit(*hist, purchase_covariates=z)
    with pytest.raises(ValueError, match="may not be named 'T'"):
        BetaGeoFitter().fit(*hist, purchase_covariates=z.rename(columns={"noise": "T"}))
    with pytest.raises(
        ValueError, match="the DataFrame lacks the covariate column\\(s\\) \\['nope'\\]"
    ):
        BetaGeoFitter().fit(cdnow_traits, purchase_covariate_cols=["nope"])
    with pytest.raises(
        ValueError, match="pass either purchase_covariates or purchase_covariate_cols"
    ):
        BetaGeoFitter().fit(cdnow_traits, purchase_covariates=z, purchase_covariate_cols=["noise"])
    with pytest.raises(ValueError, match="has 10 rows for 2357 customers"):
        BetaGeoFitter().fit(*hist, purchase_covariates=z.to_numpy()[:10])
    different = z.assign(noise=z["noise"] + 1.0)
    with pytest.raises(ValueError, match="'noise' differs between purchase_covariates and"):
        BetaGeoFitter().fit(*hist, purchase_covariates=z, dropout_covariates=different)
    days = [pd.Timestamp("1997-01-01"), pd.Timestamp("1997-02-01")] * len(z)
    when = pd.DataFrame({"when": days[: len(z)]}, dtype=object)
    with pytest.raises(ValueError, match="'when' holds values of type Timestamp"):
        BetaGeoFitter().fit(*hist, purchase_covariates=when.set_index(z.index))
    with pytest.raises(
        ValueError, match="covariate_penalizer needs purchase_covariates or dropout_covariates"
    ):
        BetaGeoFitter().fit(*hist, covariate_penalizer=1.0)


# -- the fitted model ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def bgf_traits(cdnow_traits: pd.DataFrame) -> BetaGeoFitter:
    return BetaGeoFitter().fit(
        cdnow_traits,
        purchase_covariate_cols=["log_first_spend", "channel"],
        dropout_covariate_cols=["log_first_spend"],
        covariate_penalizer=0.01,
    )


def _same_fitter(a: Any, b: Any, df: pd.DataFrame) -> None:
    pd.testing.assert_series_equal(a.params_, b.params_)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    assert a.log_likelihood_ == b.log_likelihood_
    assert (a.aic, a.bic) == (b.aic, b.bic)
    assert a.covariate_penalizer_ == b.covariate_penalizer_
    z = df[["log_first_spend", "channel"]]
    kw = {"purchase_covariates": z, "dropout_covariates": z}
    pd.testing.assert_series_equal(
        a.conditional_probability_alive(*_history(df), **kw),
        b.conditional_probability_alive(*_history(df), **kw),
    )


def test_save_load_and_pickle_keep_coefficients_and_levels(
    bgf_traits: BetaGeoFitter, cdnow_traits: pd.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "bgnbd_covariates.json"
    bgf_traits.save_model(path)
    loaded = BetaGeoFitter.load_model(path)
    _same_fitter(loaded, bgf_traits, cdnow_traits)
    assert loaded.data is None
    assert loaded.penalizer_coef == 0.0
    # The levels came from the file: an unseen level is still caught.
    bad = cdnow_traits[["log_first_spend"]].assign(channel="fax")
    with pytest.raises(InvalidDataError, match="unseen in the fit"):
        loaded.conditional_probability_alive(*_history(cdnow_traits), purchase_covariates=bad)
    # The file names the model with covariates: the plain class refuses it.
    with pytest.raises(ValueError, match="BetaGeoCovariates"):
        _core.BetaGeoModel.from_json(path.read_text())
    restored = pickle.loads(pickle.dumps(bgf_traits))
    _same_fitter(restored, bgf_traits, cdnow_traits)
    pd.testing.assert_frame_equal(restored.data, bgf_traits.data)


def test_params_assignment_with_coefficient_names(
    bgf_traits: BetaGeoFitter, cdnow_traits: pd.DataFrame
) -> None:
    fitter = BetaGeoFitter()
    fitter.params_ = bgf_traits.params_.sample(frac=1.0, random_state=2)  # any order
    pd.testing.assert_series_equal(fitter.params_, bgf_traits.params_)
    z = cdnow_traits[["log_first_spend", "channel"]]
    kw = {"purchase_covariates": z, "dropout_covariates": z}
    # Without the fit's levels, a dummy channel[web] is read from the column channel.
    pd.testing.assert_series_equal(
        fitter.conditional_probability_alive(*_history(cdnow_traits), **kw),
        bgf_traits.conditional_probability_alive(*_history(cdnow_traits), **kw),
    )
    # A sequence in the order of params_ keeps the coefficients' names.
    fitter.params_ = bgf_traits.params_.to_numpy() * 1.01
    assert list(fitter.params_.index) == list(bgf_traits.params_.index)
    # The plain parameters by name give the plain model back.
    fitter.params_ = bgf_traits.params_.iloc[:4].to_dict()
    assert list(fitter.params_.index) == ["r", "alpha", "a", "b"]
    with pytest.raises(ValueError, match="unknown \\['dropout:x'\\]"):
        fitter.params_ = {**bgf_traits.params_.iloc[:4].to_dict(), "dropout:x": 0.1}
    # Parameters set by hand have no fit statistics but standard errors are NaN.
    fitter.params_ = bgf_traits.params_
    assert fitter.summary["se(coef)"].isna().all()


def test_predictions_need_covariates_and_refuse_them_without(
    bgf_traits: BetaGeoFitter, cdnow_traits: pd.DataFrame
) -> None:
    hist = _history(cdnow_traits)
    with pytest.raises(ValueError, match="this model has covariates \\(purchase: log_first_spend"):
        bgf_traits.conditional_probability_alive(*hist)
    with pytest.raises(ValueError, match="this model has covariates"):
        bgf_traits.expected_number_of_purchases_up_to_time(10)
    plain = BetaGeoFitter().fit(*hist)
    with pytest.raises(ValueError, match=r"has no covariates .*: do not pass dropout_covariates"):
        plain.conditional_probability_alive(*hist, dropout_covariates=cdnow_traits)
    with pytest.raises(ValueError, match="the covariate 'channel' is missing: pass it in purchase"):
        bgf_traits.conditional_probability_alive(
            *hist, purchase_covariates=cdnow_traits[["log_first_spend"]]
        )


def test_alive_matrix_is_for_one_kind_of_customer(
    bgf_traits: BetaGeoFitter, cdnow_traits: pd.DataFrame
) -> None:
    """The P(alive) grid of a covariate model takes one row of traits for every cell,
    and is then that customer's P(alive) at each (frequency, recency)."""
    row = cdnow_traits[["log_first_spend", "channel"]].iloc[[7]]
    matrix = bgf_traits.conditional_probability_alive_matrix(
        4, 6, purchase_covariates=row, dropout_covariates=row
    )
    assert matrix.shape == (7, 5)
    for t_x, x in [(0, 0), (3, 2), (6, 4)]:
        same = row.reset_index(drop=True)  # aligned on the one history's label, 0
        one = bgf_traits.conditional_probability_alive(
            [float(x)], [float(t_x)], [6.0], purchase_covariates=same, dropout_covariates=same
        )
        assert matrix[t_x, x] == pytest.approx(float(np.asarray(one)[0]), rel=1e-14)
    other = cdnow_traits[["log_first_spend", "channel"]].iloc[[8]]
    assert not np.allclose(
        matrix,
        bgf_traits.conditional_probability_alive_matrix(
            4, 6, purchase_covariates=other, dropout_covariates=other
        ),
    )
    with pytest.raises(ValueError, match="one kind of customer: pass one row of traits"):
        bgf_traits.conditional_probability_alive_matrix(3, 3)
    with pytest.raises(ValueError, match="one kind of customer"):
        bgf_traits.conditional_probability_alive_matrix(
            3, 3, purchase_covariates=cdnow_traits.iloc[:2], dropout_covariates=row
        )
    plain = BetaGeoFitter().fit(
        cdnow_traits["frequency"], cdnow_traits["recency"], cdnow_traits["T"]
    )
    with pytest.raises(ValueError, match="has no covariates"):
        plain.conditional_probability_alive_matrix(3, 3, purchase_covariates=row)


def test_pareto_conditional_pmf_with_zero_coefficients_is_the_plain_one(
    cdnow_first_spend: pd.DataFrame,  # noqa: F811
) -> None:
    df = cdnow_first_spend
    plain = ParetoNBDFitter().fit(*_history(df))
    zero = ParetoNBDFitter()
    zero.params_ = {
        **plain.params_.to_dict(),
        "purchase:log_first_spend": 0.0,
        "dropout:log_first_spend": 0.0,
    }
    z = df[["log_first_spend"]]
    for n in (0, 1, 4):
        with_cov = zero.conditional_probability_of_n_purchases_up_to_time(
            n, 39.0, *_history(df), purchase_covariates=z, dropout_covariates=z
        )
        expected = plain.conditional_probability_of_n_purchases_up_to_time(n, 39.0, *_history(df))
        pd.testing.assert_series_equal(with_cov, expected, rtol=1e-13)


def test_pareto_conditional_pmf_with_covariates_is_each_customers_own(
    pnbd_first_spend: ParetoNBDFitter,
    cdnow_first_spend: pd.DataFrame,  # noqa: F811
) -> None:
    rows = cdnow_first_spend.iloc[[0, 5, 17, 40]]
    z = rows[["log_first_spend"]]
    kw = {"purchase_covariates": z, "dropout_covariates": z}
    params = pnbd_first_spend.params_
    for label, row in rows.iterrows():
        own = ParetoNBDFitter()
        spend = row["log_first_spend"]
        own.params_ = {
            "r": params["r"],
            "alpha": params["alpha"] * np.exp(-params["purchase:log_first_spend"] * spend),
            "s": params["s"],
            "beta": params["beta"] * np.exp(-params["dropout:log_first_spend"] * spend),
        }
        history = [row[c] for c in HISTORY]
        n = np.arange(400.0)
        # One customer per row: their history and traits repeated for each n.
        repeated = z.loc[[label] * len(n)].reset_index(drop=True)
        pmf = pnbd_first_spend.conditional_probability_of_n_purchases_up_to_time(
            n,
            52.0,
            *(np.full(len(n), h) for h in history),
            purchase_covariates=repeated,
            dropout_covariates=repeated,
        )
        np.testing.assert_allclose(
            pmf,
            own.conditional_probability_of_n_purchases_up_to_time(n, 52.0, *history),
            rtol=1e-12,
        )
        assert ((pmf >= 0) & (pmf <= 1)).all()
        assert pmf.sum() == pytest.approx(1.0, abs=1e-10)
    # Series in, Series out (indexed like the histories).
    out = pnbd_first_spend.conditional_probability_of_n_purchases_up_to_time(
        2, 39.0, *_history(rows), **kw
    )
    assert list(out.index) == list(rows.index)
    with pytest.raises(ValueError, match=r"this model has covariates \(purchase: log_first_spend"):
        pnbd_first_spend.conditional_probability_of_n_purchases_up_to_time(1, 2.0, 1.0, 2.0, 3.0)
    plain = ParetoNBDFitter().fit(*_history(cdnow_first_spend))
    with pytest.raises(ValueError, match=r"has no covariates .*do not pass purchase_covariates"):
        plain.conditional_probability_of_n_purchases_up_to_time(
            1, 2.0, 1.0, 2.0, 3.0, purchase_covariates=z.iloc[[0]]
        )


def test_predictions_on_the_fitted_data_and_for_new_customers(
    bgf_traits: BetaGeoFitter, cdnow_traits: pd.DataFrame
) -> None:
    z = cdnow_traits[["log_first_spend", "channel"]]
    kw = {"purchase_covariates": z, "dropout_covariates": z}
    hist = _history(cdnow_traits)
    # All omitted: the fitted histories with their covariates.
    pd.testing.assert_series_equal(
        bgf_traits.conditional_probability_alive(),
        bgf_traits.conditional_probability_alive(*hist, **kw),
    )
    pd.testing.assert_series_equal(
        bgf_traits.predict(39),
        bgf_traits.conditional_expected_number_of_purchases_up_to_time(39, *hist, **kw),
    )
    # New customers: one value per row of traits, indexed like them.
    traits = pd.DataFrame(
        {"log_first_spend": [2.0, 4.0], "channel": ["web", "store"]}, index=["a", "b"]
    )
    new = bgf_traits.expected_number_of_purchases_up_to_time(
        52, purchase_covariates=traits, dropout_covariates=traits
    )
    assert list(new.index) == ["a", "b"]
    assert new["b"] > new["a"]  # log_first_spend raises the purchase rate
    # One row of traits applies to every horizon.
    curve = bgf_traits.expected_number_of_purchases_up_to_time(
        np.array([13.0, 52.0]),
        purchase_covariates=traits.iloc[[1]],
        dropout_covariates=traits.iloc[[1]],
    )
    assert curve[1] == pytest.approx(new["b"], rel=1e-14)
    pmf = bgf_traits.probability_of_n_purchases_up_to_time(
        52,
        np.arange(200.0),
        purchase_covariates=traits.iloc[[0]],
        dropout_covariates=traits.iloc[[0]],
    )
    assert pmf.sum() == pytest.approx(1.0, abs=1e-8)
    # Scalar histories with an array of one row of traits give a float.
    one = bgf_traits.conditional_probability_alive(
        2.0, 30.0, 38.0, purchase_covariates=traits.iloc[[0]], dropout_covariates=traits.iloc[[0]]
    )
    assert isinstance(one, pd.Series) and list(one.index) == ["a"]


def test_weights_count_customers(cdnow_traits: pd.DataFrame) -> None:
    # Each customer twice equals each customer once with weight 2.
    z = cdnow_traits[["log_first_spend"]]
    twice = pd.concat([cdnow_traits, cdnow_traits], ignore_index=True)
    doubled = BetaGeoFitter().fit(*_history(twice), purchase_covariates=twice[["log_first_spend"]])
    weighted = BetaGeoFitter().fit(
        *_history(cdnow_traits), weights=np.full(len(z), 2.0), purchase_covariates=z
    )
    np.testing.assert_allclose(weighted.params_, doubled.params_, rtol=1e-8)
    assert weighted.log_likelihood_ == pytest.approx(doubled.log_likelihood_, rel=1e-12)


def test_readme_covariates_example_runs(tmp_path: Path, monkeypatch: Any) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Covariates\n", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md (Covariates)", "exec"), namespace)
    fitter = namespace["pnbd"]
    assert fitter.log_likelihood_ == pytest.approx(-9571.98, abs=0.01)
    assert namespace["data"]["p_alive"].between(0, 1).all()
    assert list(namespace["ggf"].params_.index) == ["p", "q", "v", "spend:log_first_spend"]
    clv = namespace["data"]["clv"]
    assert np.isfinite(clv).all() and (clv > 0).all()


def test_likelihood_ratio_test_against_the_plain_model(
    pnbd_first_spend: ParetoNBDFitter,
    cdnow_first_spend: pd.DataFrame,  # noqa: F811
) -> None:
    plain = ParetoNBDFitter().fit(*_history(cdnow_first_spend))
    result = likelihood_ratio_test(plain, pnbd_first_spend)
    # CLVTools: -9594.976181 without, -9571.982063 with log_first_spend.
    assert result.dof == 2
    assert result.statistic == pytest.approx(2 * (-9571.982063 + 9594.976181), abs=2e-3)
    assert result.p_value == pytest.approx(np.exp(-result.statistic / 2), rel=1e-10)
    with pytest.raises(ValueError, match="not nested"):
        likelihood_ratio_test(pnbd_first_spend, plain)
    with pytest.raises(ValueError, match="not nested"):
        likelihood_ratio_test(BetaGeoFitter().fit(*_history(cdnow_first_spend)), pnbd_first_spend)
    penalised = ParetoNBDFitter().fit(
        cdnow_first_spend, purchase_covariate_cols=["log_first_spend"], covariate_penalizer=0.1
    )
    with pytest.raises(ValueError, match="full model was fitted with a penalty"):
        likelihood_ratio_test(plain, penalised)
    fewer = ParetoNBDFitter().fit(*_history(cdnow_first_spend.iloc[:-10]))
    with pytest.raises(ValueError, match="not fitted on the same customers"):
        likelihood_ratio_test(fewer, pnbd_first_spend)


# -- the encoding, as a property ---------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    levels=st.lists(st.sampled_from(["b", "a", "c", "z", "m"]), min_size=8, max_size=40),
    numbers=st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=40, max_size=40),
)
def test_encoding_round_trip(levels: list[str], numbers: list[float]) -> None:
    from retentionkit._covariates import Encoding, fit_design, prediction_matrix

    n = len(levels)
    raw = pd.DataFrame(
        {"channel": pd.Categorical(levels), "spend": numbers[:n]},
        index=pd.Index(range(100, 100 + n), name="id"),
    )
    assume(raw["channel"].nunique() >= 2 and raw["spend"].nunique() >= 2)
    try:
        design = fit_design(("purchase", "dropout"), {"purchase": raw}, [], 0.0, raw.index)
    except InvalidDataError as exc:  # spend a linear combination of the dummies
        assert exc.rule == "covariates collinear"
        return
    seen = sorted(set(levels))
    dummies = [f"channel[{level}]" for level in seen[1:]]
    assert design.columns == [*dummies, "spend"]
    expected = np.column_stack(
        [*(np.array(levels) == level for level in seen[1:]), np.array(numbers[:n])]
    ).astype(float)
    np.testing.assert_array_equal(design.matrix, expected)
    # The saved encoding rebuilds the same matrix from the raw columns, in any order.
    encoding = Encoding.from_json(design.encoding.to_json())
    shuffled = raw.iloc[::-1]
    again, index = prediction_matrix(encoding, design.columns, {"dropout": shuffled}, raw.index, n)
    np.testing.assert_array_equal(again, design.matrix)
    assert index is raw.index
