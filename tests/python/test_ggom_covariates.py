"""GompertzGammaNBDFitter with time-invariant covariates (issue 16) and its conditional
P(n purchases): alpha_i = alpha exp(-purchase'z_i), beta_i = beta exp(-dropout'z_i), on
the covariate machinery of the Pareto/NBD. The numerics are tested in
tests/ggom_nbd_covariates.rs; here the pandas surface and the house's covariate paths.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_covariates_core import cdnow_first_spend  # noqa: F401  (a fixture)

from retentionkit import (
    GammaGammaFitter,
    GompertzGammaNBDFitter,
    InvalidDataError,
    ParetoNBDFitter,
)
from retentionkit._report_covariates import coefficient_table
from retentionkit.datasets import load_cdnow_summary_data_with_monetary_value

#: CLVTools 0.12.1, Pareto/NBD with log_first_spend in both processes: the GGom/NBD
#: nests it (b -> 0), so its optimum is at least this high.
CLV_PNBD_LL = -9571.98206262848
NAMES = ["r", "alpha", "b", "s", "beta", "purchase:log_first_spend", "dropout:log_first_spend"]
HISTORY = ["frequency", "recency", "T"]


@pytest.fixture(scope="module")
def fitted(cdnow_first_spend: pd.DataFrame) -> GompertzGammaNBDFitter:  # noqa: F811
    with pytest.warns(UserWarning, match="Pareto/NBD limit"):
        return GompertzGammaNBDFitter().fit(
            cdnow_first_spend,
            purchase_covariate_cols=["log_first_spend"],
            dropout_covariate_cols=["log_first_spend"],
        )


def _own_model(fitter: GompertzGammaNBDFitter, z: float) -> GompertzGammaNBDFitter:
    """The plain GGom/NBD at one customer's alpha_i and beta_i."""
    p = fitter.params_
    own = GompertzGammaNBDFitter()
    own.params_ = {
        "r": p["r"],
        "alpha": p["alpha"] * np.exp(-p["purchase:log_first_spend"] * z),
        "b": p["b"],
        "s": p["s"],
        "beta": p["beta"] * np.exp(-p["dropout:log_first_spend"] * z),
    }
    return own


def test_cdnow_fit_with_first_spend(
    fitted: GompertzGammaNBDFitter,
    cdnow_first_spend: pd.DataFrame,  # noqa: F811
) -> None:
    assert list(fitted.params_.index) == NAMES
    plain = load_cdnow_plain(cdnow_first_spend)
    assert fitted.log_likelihood_ >= plain.log_likelihood_
    assert fitted.log_likelihood_ >= CLV_PNBD_LL - 1e-3
    # On the Pareto/NBD limit the purchase coefficient is CLVTools' Pareto/NBD one.
    assert fitted.params_["purchase:log_first_spend"] == pytest.approx(0.3645, abs=0.02)
    summary = fitted.summary
    assert list(summary.index) == NAMES
    assert np.isfinite(fitted.aic) and np.isfinite(fitted.bic)
    assert "log_first_spend" in fitted.data.columns
    # The report's reading of the coefficients.
    table = coefficient_table(fitted)
    assert table["process"].tolist() == ["purchase", "dropout"]
    assert "buys 1.4" in table["reading"][0] and "drops out" in table["reading"][1]


def load_cdnow_plain(df: pd.DataFrame) -> GompertzGammaNBDFitter:
    with pytest.warns(UserWarning, match="Pareto/NBD limit"):
        return GompertzGammaNBDFitter().fit(df[HISTORY])


def test_predictions_are_the_plain_models_at_each_customers_parameters(
    fitted: GompertzGammaNBDFitter,
    cdnow_first_spend: pd.DataFrame,  # noqa: F811
) -> None:
    d = cdnow_first_spend.iloc[:40]
    z = d[["log_first_spend"]]
    h = [d[c] for c in HISTORY]
    alive = fitted.conditional_probability_alive(*h, purchase_covariates=z)
    expected = fitted.conditional_expected_number_of_purchases_up_to_time(
        39, *h, purchase_covariates=z
    )
    pmf = fitted.conditional_probability_of_n_purchases_up_to_time(1, 39, *h, purchase_covariates=z)
    dert = fitted.discounted_expected_residual_transactions(0.01, *h, purchase_covariates=z)
    for i, (label, row) in enumerate(d.iterrows()):
        own = _own_model(fitted, row["log_first_spend"])
        x, tx, t = row["frequency"], row["recency"], row["T"]
        assert alive[label] == pytest.approx(own.conditional_probability_alive(x, tx, t), 1e-12)
        assert expected[label] == pytest.approx(
            own.conditional_expected_number_of_purchases_up_to_time(39, x, tx, t), 1e-12
        )
        assert pmf[label] == pytest.approx(
            own.conditional_probability_of_n_purchases_up_to_time(1, 39, x, tx, t), 1e-12
        )
        assert dert[label] == pytest.approx(
            own.discounted_expected_residual_transactions(0.01, x, tx, t), 1e-10
        )
        if i > 10:
            break


def test_clv_with_covariates_is_the_plain_models_at_each_customers_parameters(
    fitted: GompertzGammaNBDFitter,
    cdnow_first_spend: pd.DataFrame,  # noqa: F811
) -> None:
    spend = load_cdnow_summary_data_with_monetary_value()
    repeat = spend[spend["frequency"] > 0]
    gg = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    d = cdnow_first_spend.iloc[:6].copy()
    d["monetary_value"] = spend["monetary_value"].to_numpy()[:6]
    z = d[["log_first_spend"]]
    h = [d[c] for c in HISTORY]
    clv = gg.customer_lifetime_value(fitted, *h, d["monetary_value"], purchase_covariates=z)
    for label, row in d.iterrows():
        own = _own_model(fitted, row["log_first_spend"])
        theirs = gg.customer_lifetime_value(
            own, row["frequency"], row["recency"], row["T"], row["monetary_value"]
        )
        assert clv[label] == pytest.approx(float(theirs), rel=1e-10)
    # On the Pareto/NBD limit the information is singular: no interval, said so.
    with pytest.raises(ValueError, match="covariance"):
        gg.customer_lifetime_value_interval(
            fitted, *h, d["monetary_value"], purchase_covariates=z, n_draws=20
        )


@pytest.fixture(scope="module")
def simulated() -> tuple[GompertzGammaNBDFitter, pd.DataFrame]:
    """A fit to 4,000 customers simulated with a rising hazard (b = 0.05) and a binary
    and a normal trait in each process."""
    rng = np.random.default_rng(7)
    n = 4000
    traits = pd.DataFrame(
        {"binary": (np.arange(n) % 2).astype(float), "normal": rng.normal(size=n)}
    )
    truth = GompertzGammaNBDFitter()
    truth.params_ = {
        "r": 0.8,
        "alpha": 8.0,
        "b": 0.05,
        "s": 1.0,
        "beta": 2.0,
        "purchase:binary": 0.5,
        "purchase:normal": -0.3,
        "dropout:binary": 0.4,
        "dropout:normal": 0.25,
    }
    sims = truth.generate_new_data(seed=3, T=np.linspace(27, 39, n), purchase_covariates=traits)
    data = pd.concat([sims[HISTORY], traits], axis=1)
    fitter = GompertzGammaNBDFitter().fit(
        data,
        purchase_covariate_cols=["binary", "normal"],
        dropout_covariate_cols=["binary", "normal"],
    )
    return fitter, data


def test_simulated_fit_recovers_the_truth_and_gives_intervals(
    simulated: tuple[GompertzGammaNBDFitter, pd.DataFrame],
) -> None:
    fitter, data = simulated
    truth = [0.8, 8.0, 0.05, 1.0, 2.0, 0.5, -0.3, 0.4, 0.25]
    summary = fitter.summary
    assert (np.abs(summary["coef"] - truth) < 4 * summary["se(coef)"]).all(), summary
    spend = load_cdnow_summary_data_with_monetary_value()
    repeat = spend[spend["frequency"] > 0]
    gg = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    rows = data.iloc[:5]
    money = pd.Series(30.0, index=rows.index)
    traits = rows[["binary", "normal"]]
    h = [rows[c] for c in HISTORY]
    bands = gg.customer_lifetime_value_interval(
        fitter, *h, money, purchase_covariates=traits, n_draws=30
    )
    assert (bands["lower"] <= bands["upper"]).all()
    alive = fitter.conditional_probability_alive_interval(
        *h, purchase_covariates=traits, n_draws=30
    )
    assert ((alive["lower"] >= 0) & (alive["upper"] <= 1)).all()


def test_zero_coefficients_are_the_plain_model(
    cdnow_first_spend: pd.DataFrame,  # noqa: F811
) -> None:
    base = {"r": 0.55, "alpha": 10.6, "b": 0.05, "s": 0.6, "beta": 0.5}
    plain = GompertzGammaNBDFitter()
    plain.params_ = base
    with_zero = GompertzGammaNBDFitter()
    with_zero.params_ = {**base, "purchase:log_first_spend": 0.0, "dropout:log_first_spend": 0.0}
    d = cdnow_first_spend.iloc[:30]
    h = [d[c] for c in HISTORY]
    z = d[["log_first_spend"]]
    for method, args in [
        ("conditional_probability_alive", ()),
        ("conditional_expected_number_of_purchases_up_to_time", (39,)),
        ("conditional_probability_of_n_purchases_up_to_time", (2, 39)),
    ]:
        ours = getattr(with_zero, method)(*args, *h, purchase_covariates=z)
        theirs = getattr(plain, method)(*args, *h)
        np.testing.assert_array_equal(ours.to_numpy(), np.asarray(theirs))


def test_persistence_and_pickling(fitted: GompertzGammaNBDFitter, tmp_path: Path) -> None:
    path = tmp_path / "ggom.json"
    fitted.save_model(path)
    loaded = GompertzGammaNBDFitter()
    loaded.load_model(path)
    pd.testing.assert_series_equal(loaded.params_, fitted.params_)
    copy = pickle.loads(pickle.dumps(fitted))
    pd.testing.assert_series_equal(copy.params_, fitted.params_)
    row = fitted.data.iloc[:3]
    np.testing.assert_array_equal(
        copy.conditional_probability_alive(
            *[row[c] for c in HISTORY], purchase_covariates=row[["log_first_spend"]]
        ).to_numpy(),
        fitted.conditional_probability_alive(
            *[row[c] for c in HISTORY], purchase_covariates=row[["log_first_spend"]]
        ).to_numpy(),
    )


def test_keywords_and_errors(cdnow_first_spend: pd.DataFrame) -> None:  # noqa: F811
    d = cdnow_first_spend.iloc[:400].copy()
    d["noise"] = np.random.default_rng(3).normal(size=len(d))
    # Shared coefficients and the penalty, as for the Pareto/NBD.
    f = GompertzGammaNBDFitter().fit(
        d[HISTORY],
        purchase_covariates=d[["noise"]],
        dropout_covariates=d[["log_first_spend"]],
        shared_covariates=["log_first_spend"],
        covariate_penalizer=0.5,
    )
    assert list(f.params_.index[5:]) == ["purchase:noise", "shared:log_first_spend"]
    assert f.covariate_penalizer_ == 0.5
    # A bad covariate names the column and the customer's row label.
    bad = d[["noise"]].copy()
    bad.iloc[7, 0] = np.nan
    with pytest.raises(InvalidDataError, match="noise") as info:
        GompertzGammaNBDFitter().fit(d[HISTORY], purchase_covariates=bad)
    assert str(d.index[7]) in str(info.value)
    # Covariates given to a model without them are refused.
    plain = GompertzGammaNBDFitter()
    plain.params_ = {"r": 0.55, "alpha": 10.6, "b": 0.05, "s": 0.6, "beta": 0.5}
    with pytest.raises(ValueError, match="has no covariates"):
        plain.conditional_probability_alive(1, 5.0, 10.0, purchase_covariates=d[["noise"]])


def test_conditional_pmf_sums_to_one() -> None:
    ggom = GompertzGammaNBDFitter()
    ggom.params_ = {"r": 0.55, "alpha": 10.6, "b": 0.05, "s": 0.6, "beta": 0.5}
    n = np.arange(300)
    p = ggom.conditional_probability_of_n_purchases_up_to_time(n, 39, 2, 30.43, 38.86)
    assert float(p.sum()) == pytest.approx(1.0, abs=1e-9)
    mean = float((n * p).sum())
    assert mean == pytest.approx(
        ggom.conditional_expected_number_of_purchases_up_to_time(39, 2, 30.43, 38.86), 1e-8
    )
    with pytest.raises(InvalidDataError, match="n must be a non-negative integer"):
        ggom.conditional_probability_of_n_purchases_up_to_time([0, 1.5], 39, 2, 30.43, 38.86)


def test_on_the_pareto_limit_the_conditional_pmf_is_the_pareto_nbds() -> None:
    b = 1e-9
    ggom = GompertzGammaNBDFitter()
    ggom.params_ = {"r": 0.553, "alpha": 10.578, "b": b, "s": 0.606, "beta": 11.669 * b}
    pnbd = ParetoNBDFitter()
    pnbd.params_ = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    n = np.arange(6)
    np.testing.assert_allclose(
        ggom.conditional_probability_of_n_purchases_up_to_time(n, 39, 2, 30.43, 38.86),
        pnbd.conditional_probability_of_n_purchases_up_to_time(n, 39, 2, 30.43, 38.86),
        rtol=1e-6,
    )


def test_dask_fit_through_partial_sums_equals_the_single_machine_fit(
    fitted: GompertzGammaNBDFitter,
    cdnow_first_spend: pd.DataFrame,  # noqa: F811
) -> None:
    # On CDNOW's Pareto/NBD limit too: the partitioned fit keeps the limit's warning.
    dd = pytest.importorskip("dask.dataframe", reason="retentionkit.dask needs dask[dataframe]")
    import retentionkit.dask as rkdask

    ddf = dd.from_pandas(cdnow_first_spend, npartitions=3)
    with pytest.warns(UserWarning, match="Pareto/NBD limit"):
        distributed = rkdask.fit(
            GompertzGammaNBDFitter(),
            ddf,
            purchase_covariate_cols=["log_first_spend"],
            dropout_covariate_cols=["log_first_spend"],
        )
    assert list(distributed.params_.index) == NAMES
    assert distributed.log_likelihood_ == pytest.approx(fitted.log_likelihood_, abs=1e-6)
    for name in ["r", "alpha", "s", "purchase:log_first_spend"]:
        assert distributed.params_[name] == pytest.approx(fitted.params_[name], rel=1e-4)


def test_the_report_fits_the_ggom_nbd_with_covariates() -> None:
    pytest.importorskip("matplotlib")
    from retentionkit.report import cdnow_report

    report = cdnow_report(covariates=["dollar_value"], model="ggomnbd")
    table = report.comparison
    assert "GGom/NBD" in table.index
    assert not any("GGom/NBD takes no covariates" in note for note in report.notes), report.notes
    # On CDNOW the GGom/NBD with covariates is on its Pareto/NBD limit: the same optimum.
    assert (
        table.loc["GGom/NBD", "log_likelihood"] >= table.loc["Pareto/NBD", "log_likelihood"] - 1e-3
    )
    assert any("Pareto/NBD limit" in note for note in report.notes)
