"""Covariates in the plots and in ``compare_models`` (issue 13): the plots of known
customers use each customer's covariates (the fitted data's by default, or those
given), the plots of one kind of customer take one row of traits, and
``compare_models`` puts covariate models beside plain ones.

The covariate is CDNOW's log_first_spend = ln(1 + dollars of the first purchase
day), built from the bundled log as in ``test_covariates_core.py``.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from retentionkit import (
    BetaGeoFitter,
    InvalidDataError,
    ParetoNBDFitter,
)
from retentionkit.datasets import load_transaction_data
from retentionkit.model_comparison import (
    compare_models,
    period_transactions_chi_square,
    period_transactions_table,
)
from retentionkit.plotting import (
    expected_cumulative_transactions,
    frequency_recency_matrix,
    plot_calibration_purchases_vs_holdout_purchases,
    plot_cumulative_transactions,
    plot_dropout_rate_heterogeneity,
    plot_expected_repeat_purchases,
    plot_frequency_recency_matrix,
    plot_history_alive,
    plot_incremental_transactions,
    plot_period_transactions,
    plot_probability_alive_matrix,
    plot_transaction_rate_heterogeneity,
    probability_alive_matrix,
)
from retentionkit.utils import calibration_and_holdout_data

HISTORY = ["frequency", "recency", "T"]
COV = ["log_first_spend"]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return load_transaction_data()


@pytest.fixture(scope="module")
def cal_holdout(log: pd.DataFrame) -> pd.DataFrame:
    """CDNOW in weeks of 7 days, 39 + 39 weeks, with log_first_spend per customer."""
    frame = calibration_and_holdout_data(
        log,
        "customer_id",
        "date",
        calibration_period_end="1997-09-30",
        observation_period_end="1998-06-30",
        freq="D",
        freq_multiplier=7,
    )
    daily = log.groupby(["customer_id", "date"], as_index=False)["dollar_value"].sum()
    first = daily.sort_values("date").groupby("customer_id")["dollar_value"].first()
    frame["log_first_spend"] = np.log1p(first.reindex(frame.index).to_numpy())
    return frame


@pytest.fixture(scope="module")
def history(cal_holdout: pd.DataFrame) -> pd.DataFrame:
    out = cal_holdout[["frequency_cal", "recency_cal", "T_cal", *COV]]
    return out.set_axis([*HISTORY, *COV], axis=1)


@pytest.fixture(scope="module")
def covariate_fit(history: pd.DataFrame) -> BetaGeoFitter:
    return BetaGeoFitter().fit(history, purchase_covariate_cols=COV, dropout_covariate_cols=COV)


@pytest.fixture(scope="module")
def plain_fit(history: pd.DataFrame) -> BetaGeoFitter:
    return BetaGeoFitter().fit(history[HISTORY])


def _zero_coefficients(plain: BetaGeoFitter) -> BetaGeoFitter:
    """The plain fit's parameters in a covariate model with every coefficient 0
    (no fitted data: its covariates must be given)."""
    model = BetaGeoFitter()
    model.params_ = {
        **plain.params_.to_dict(),
        "purchase:log_first_spend": 0.0,
        "dropout_a:log_first_spend": 0.0,
        "dropout_b:log_first_spend": 0.0,
    }
    return model


# -- period transactions -------------------------------------------------------------------


def test_period_table_sums_each_customers_own_probabilities(
    covariate_fit: BetaGeoFitter, history: pd.DataFrame
) -> None:
    table = period_transactions_table(covariate_fit, 7)
    z = history[COV]
    manual = [
        covariate_fit.probability_of_n_purchases_up_to_time(
            history["T"], float(n), purchase_covariates=z
        ).sum()
        for n in range(7)
    ]
    np.testing.assert_allclose(table["expected"].to_numpy()[:7], manual, rtol=1e-10)
    assert table["expected"].sum() == pytest.approx(len(history))
    # and not the table of every customer at log_first_spend = 0
    zero_traits = period_transactions_table(covariate_fit, 7, z * 0.0)
    assert not np.allclose(zero_traits["expected"], table["expected"])


def test_period_table_with_zero_coefficients_is_the_plain_models(
    plain_fit: BetaGeoFitter, history: pd.DataFrame
) -> None:
    zero = _zero_coefficients(plain_fit)
    zero.data = plain_fit.data  # the table counts the fitted histories
    with_covariates = period_transactions_table(zero, 7, covariates=history[COV])
    expected = period_transactions_table(plain_fit, 7)
    np.testing.assert_allclose(with_covariates["expected"], expected["expected"], rtol=1e-10)


def test_period_table_of_a_model_without_data_needs_covariates(
    plain_fit: BetaGeoFitter,
) -> None:
    zero = _zero_coefficients(plain_fit)
    zero.data = plain_fit.data
    with pytest.raises(ValueError, match="no fitted data to take them from: pass covariates="):
        period_transactions_table(zero, 7)


def test_plot_period_transactions_with_covariates(covariate_fit: BetaGeoFitter) -> None:
    ax = plot_period_transactions(covariate_fit)
    model = [bar.get_height() for bar in ax.containers[1]]
    np.testing.assert_allclose(model, period_transactions_table(covariate_fit)["expected"])


def test_chi_square_counts_the_coefficients(covariate_fit: BetaGeoFitter) -> None:
    test = period_transactions_chi_square(covariate_fit, 7)
    assert test.dof == 8 - 1 - 7  # r, alpha, a, b and three coefficients


def test_plain_model_refuses_covariates(plain_fit: BetaGeoFitter, history: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="has no covariates"):
        period_transactions_table(plain_fit, 7, covariates=history[COV])


# -- holdout ---------------------------------------------------------------------------------


def test_holdout_plot_uses_each_customers_covariates(
    covariate_fit: BetaGeoFitter, cal_holdout: pd.DataFrame
) -> None:
    ax = plot_calibration_purchases_vs_holdout_purchases(covariate_fit, cal_holdout, n=5)
    predicted = covariate_fit.conditional_expected_number_of_purchases_up_to_time(
        cal_holdout["duration_holdout"],
        cal_holdout["frequency_cal"],
        cal_holdout["recency_cal"],
        cal_holdout["T_cal"],
        purchase_covariates=cal_holdout[COV],
    )
    means = predicted.groupby(cal_holdout["frequency_cal"]).mean().iloc[:5]
    np.testing.assert_allclose(ax.lines[1].get_ydata(), means.to_numpy(), rtol=1e-12)


def test_holdout_plot_aligns_given_covariates_by_label(
    covariate_fit: BetaGeoFitter, cal_holdout: pd.DataFrame
) -> None:
    fitted = plot_calibration_purchases_vs_holdout_purchases(covariate_fit, cal_holdout, n=5)
    shuffled = cal_holdout[COV].sample(frac=1.0, random_state=3)
    given = plot_calibration_purchases_vs_holdout_purchases(
        covariate_fit, cal_holdout, n=5, covariates=shuffled
    )
    np.testing.assert_allclose(given.lines[1].get_ydata(), fitted.lines[1].get_ydata())


def test_holdout_plot_names_a_customer_without_covariates(
    covariate_fit: BetaGeoFitter, cal_holdout: pd.DataFrame
) -> None:
    partial = cal_holdout[COV].drop(index=cal_holdout.index[4])
    with pytest.raises(InvalidDataError, match=r"customer 5 of calibration_holdout_matrix \(row 5"):
        plot_calibration_purchases_vs_holdout_purchases(
            covariate_fit, cal_holdout, covariates=partial
        )


# -- one kind of customer ------------------------------------------------------------------


@pytest.mark.parametrize("matrix", [frequency_recency_matrix, probability_alive_matrix])
def test_matrices_need_one_row_of_traits(covariate_fit: BetaGeoFitter, matrix) -> None:
    with pytest.raises(ValueError, match="pass covariates= with one row of traits"):
        matrix(covariate_fit, max_frequency=3, max_recency=5)
    with pytest.raises(ValueError, match=r"one row of traits for .*, got 2 rows"):
        matrix(
            covariate_fit,
            max_frequency=3,
            max_recency=5,
            covariates=pd.DataFrame({"log_first_spend": [1.0, 2.0]}),
        )


def test_probability_alive_matrix_with_zero_coefficients_is_the_plain_one(
    plain_fit: BetaGeoFitter,
) -> None:
    zero = _zero_coefficients(plain_fit)
    grid = probability_alive_matrix(zero, 6, 10, covariates={"log_first_spend": 3.0})
    np.testing.assert_allclose(
        grid, plain_fit.conditional_probability_alive_matrix(6, 10), rtol=1e-12
    )


def test_matrix_plots_with_traits(covariate_fit: BetaGeoFitter) -> None:
    traits = pd.Series({"log_first_spend": 4.0})
    ax = plot_probability_alive_matrix(covariate_fit, 5, 8, covariates=traits)
    drawn = np.asarray(ax.images[0].get_array())
    rec, freq = np.meshgrid(np.arange(9.0), np.arange(6.0), indexing="ij")
    direct = covariate_fit.conditional_probability_alive(
        freq.ravel(), rec.ravel(), np.full(freq.size, 8.0), purchase_covariates=traits.to_frame().T
    )
    np.testing.assert_allclose(drawn, np.asarray(direct).reshape(freq.shape), rtol=1e-12)
    other = probability_alive_matrix(covariate_fit, 5, 8, covariates={"log_first_spend": 2.0})
    assert not np.allclose(drawn, other)

    ax = plot_frequency_recency_matrix(covariate_fit, 4, 5, 8, covariates=traits)
    drawn = np.asarray(ax.images[0].get_array())
    x, tx = freq[:, 1:].ravel(), rec[:, 1:].ravel()
    direct = covariate_fit.conditional_expected_number_of_purchases_up_to_time(
        4.0, x, tx, np.full(x.size, 8.0), purchase_covariates=traits.to_frame().T
    )
    np.testing.assert_allclose(drawn[:, 1:].ravel(), np.asarray(direct), rtol=1e-12)


def test_history_alive_with_traits(covariate_fit: BetaGeoFitter, log: pd.DataFrame) -> None:
    one = log[log["customer_id"] == 9]  # five purchases
    with pytest.raises(ValueError, match="pass covariates= with one row of traits"):
        plot_history_alive(covariate_fit, 100, one, "date", freq="W")
    ax = plot_history_alive(covariate_fit, 100, one, "date", freq="W", covariates={COV[0]: 3.5})
    low = plot_history_alive(covariate_fit, 100, one, "date", freq="W", covariates={COV[0]: 1.0})
    assert not np.allclose(ax.lines[0].get_ydata(), low.lines[0].get_ydata())


def _title_mean(ax) -> float:
    return float(ax.get_title().split(",")[0].removeprefix("mean: "))


def test_heterogeneity_plots_of_one_kind_of_customer(
    covariate_fit: BetaGeoFitter, plain_fit: BetaGeoFitter, history: pd.DataFrame
) -> None:
    with pytest.raises(ValueError, match="pass covariates= with one row of traits"):
        plot_transaction_rate_heterogeneity(covariate_fit)
    p = covariate_fit.params_
    z = 3.0
    ax = plot_transaction_rate_heterogeneity(covariate_fit, covariates={COV[0]: z})
    alpha = p["alpha"] * np.exp(-p["purchase:log_first_spend"] * z)
    assert _title_mean(ax) == pytest.approx(p["r"] / alpha, abs=5e-4)
    ax = plot_dropout_rate_heterogeneity(covariate_fit, covariates={COV[0]: z})
    a = p["a"] * np.exp(p["dropout_a:log_first_spend"] * z)
    b = p["b"] * np.exp(p["dropout_b:log_first_spend"] * z)
    assert _title_mean(ax) == pytest.approx(a / (a + b), abs=5e-4)
    assert _title_mean(ax) != pytest.approx(p["a"] / (p["a"] + p["b"]), abs=5e-3)
    # a Pareto/NBD: beta scaled by exp(-gamma z); a shared coefficient scales both
    pareto = ParetoNBDFitter()
    pareto.params_ = {"r": 0.5, "alpha": 10.0, "s": 0.6, "beta": 12.0, "shared:x": 0.5}
    ax = plot_dropout_rate_heterogeneity(pareto, covariates={"x": 2.0})
    assert _title_mean(ax) == pytest.approx(0.6 / (12.0 * np.exp(-1.0)), abs=5e-4)
    ax = plot_transaction_rate_heterogeneity(pareto, covariates={"x": 2.0})
    assert _title_mean(ax) == pytest.approx(0.5 / (10.0 * np.exp(-1.0)), abs=5e-4)


# -- calendar time ---------------------------------------------------------------------------


def test_cumulative_transactions_use_each_customers_covariates(
    covariate_fit: BetaGeoFitter, cal_holdout: pd.DataFrame, log: pd.DataFrame
) -> None:
    frame = expected_cumulative_transactions(
        covariate_fit, log, "date", "customer_id", t=546, freq="D", freq_multiplier=7
    )
    first = log.groupby("customer_id")["date"].min()
    birth = ((first - log["date"].min()).dt.days).to_numpy(dtype=float)
    z = cal_holdout.loc[first.index, COV].reset_index(drop=True)
    for k in (5, 40, 78):
        age = np.maximum(k * 7 - birth, 0.0) / 7
        values = covariate_fit.expected_number_of_purchases_up_to_time(age, purchase_covariates=z)
        assert frame.loc[k, "predicted"] == pytest.approx(float(np.sum(values)), rel=1e-10)
    ax = plot_cumulative_transactions(
        covariate_fit, log, "date", "customer_id", 546, 273, freq_multiplier=7
    )
    np.testing.assert_allclose(ax.lines[1].get_ydata(), frame["predicted"])
    ax = plot_incremental_transactions(
        covariate_fit, log, "date", "customer_id", 546, 273, freq_multiplier=7
    )
    assert ax.lines[1].get_ydata()[0] == pytest.approx(frame["predicted"].iloc[0])


def test_cumulative_transactions_with_zero_coefficients_are_the_plain_ones(
    plain_fit: BetaGeoFitter, cal_holdout: pd.DataFrame, log: pd.DataFrame
) -> None:
    zero = _zero_coefficients(plain_fit)
    given = cal_holdout[COV]
    args = (log, "date", "customer_id", 546)
    with_covariates = expected_cumulative_transactions(
        zero, *args, freq_multiplier=7, covariates=given
    )
    plain = expected_cumulative_transactions(plain_fit, *args, freq_multiplier=7)
    np.testing.assert_allclose(with_covariates["predicted"], plain["predicted"], rtol=1e-10)


def test_expected_repeat_purchases_mean_over_fitted_customers(
    covariate_fit: BetaGeoFitter, history: pd.DataFrame
) -> None:
    ax = plot_expected_repeat_purchases(covariate_fit)
    t = ax.lines[0].get_xdata()[[10, 60, 99]]
    mean = [
        covariate_fit.expected_number_of_purchases_up_to_time(
            float(v), purchase_covariates=history[COV]
        ).mean()
        for v in t
    ]
    np.testing.assert_allclose(ax.lines[0].get_ydata()[[10, 60, 99]], mean, rtol=1e-10)
    one = plot_expected_repeat_purchases(covariate_fit, covariates={COV[0]: 2.0})
    direct = covariate_fit.expected_number_of_purchases_up_to_time(
        one.lines[0].get_xdata(), purchase_covariates=pd.DataFrame({COV[0]: [2.0]})
    )
    np.testing.assert_allclose(one.lines[0].get_ydata(), np.asarray(direct), rtol=1e-12)


# -- compare_models --------------------------------------------------------------------------


def test_compare_models_with_and_without_covariates(
    covariate_fit: BetaGeoFitter,
    plain_fit: BetaGeoFitter,
    history: pd.DataFrame,
    cal_holdout: pd.DataFrame,
) -> None:
    pareto = ParetoNBDFitter().fit(history, purchase_covariate_cols=COV)
    table = compare_models(
        {"BG/NBD": plain_fit, "BG/NBD + spend": covariate_fit, "Pareto/NBD + spend": pareto},
        holdout=cal_holdout,
    )
    assert table["n_params"].tolist() == [4, 7, 5]
    row = table.loc["BG/NBD + spend"]
    assert row["log_likelihood"] == pytest.approx(covariate_fit.log_likelihood_)
    n = len(history)
    assert row["aic"] == pytest.approx(2 * 7 - 2 * covariate_fit.log_likelihood_)
    assert row["bic"] == pytest.approx(7 * np.log(n) - 2 * covariate_fit.log_likelihood_)
    assert row["chi_square_dof"] == 0
    predicted = covariate_fit.conditional_expected_number_of_purchases_up_to_time(
        cal_holdout["duration_holdout"],
        cal_holdout["frequency_cal"],
        cal_holdout["recency_cal"],
        cal_holdout["T_cal"],
        purchase_covariates=cal_holdout[COV],
    )
    mae = float(np.mean(np.abs(predicted - cal_holdout["frequency_holdout"])))
    assert row["holdout_mae"] == pytest.approx(mae, rel=1e-12)
    assert table.loc["BG/NBD", "holdout_mae"] != pytest.approx(mae)


def test_compare_models_takes_given_covariates(
    covariate_fit: BetaGeoFitter, cal_holdout: pd.DataFrame
) -> None:
    models = {"BG/NBD + spend": covariate_fit}
    fitted = compare_models(models, holdout=cal_holdout)
    shuffled = cal_holdout[COV].sample(frac=1.0, random_state=5)
    given = compare_models(models, holdout=cal_holdout, covariates=shuffled)
    pd.testing.assert_frame_equal(given, fitted)
    other = compare_models(models, holdout=cal_holdout, covariates=cal_holdout[COV] + 1.0)
    assert other.loc["BG/NBD + spend", "holdout_mae"] != pytest.approx(
        fitted.loc["BG/NBD + spend", "holdout_mae"]
    )
