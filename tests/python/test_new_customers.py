"""Customers first seen at the end of observation (T = 0) are valid everywhere, and
predictions accept ``frequency = 0`` with ``recency > 0`` as ``lifetimes`` does.

A T = 0 customer (x = t_x = T = 0) has likelihood exactly 1: adding any number of them
changes neither the estimates nor the log-likelihood; its predictions are those of a
customer who has just made a first purchase.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retentionkit import (
    BetaGeoBetaBinomFitter,
    BetaGeoFitter,
    GammaGammaFitter,
    InvalidDataError,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
)
from retentionkit.datasets import load_cdnow_summary_data_with_monetary_value, load_donations
from retentionkit.utils import calibration_and_holdout_data, summary_data_from_transaction_data

FITTERS = [BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter]
HISTORY = ["frequency", "recency", "T"]


def with_new_customers(summary: pd.DataFrame, k: int) -> pd.DataFrame:
    """``summary`` with ``k`` customers of T = 0 (labels ``new0``, ...) spread through it."""
    new = pd.DataFrame(0.0, index=[f"new{j}" for j in range(k)], columns=summary.columns)
    out = pd.concat([summary.set_axis(summary.index.astype(str)), new])
    order = np.random.default_rng(k).permutation(len(out))
    return out.iloc[order]


@pytest.fixture(scope="module")
def plain_fits(cdnow: pd.DataFrame) -> dict[tuple[type, float], object]:
    return {
        (cls, penalizer): cls(penalizer_coef=penalizer).fit(cdnow[HISTORY])
        for cls in FITTERS
        for penalizer in (0.0, 0.05)
    }


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    k=st.integers(min_value=1, max_value=500),
    cls=st.sampled_from(FITTERS),
    penalizer=st.sampled_from([0.0, 0.05]),
)
def test_appending_new_customers_never_changes_a_fit(
    cdnow: pd.DataFrame, plain_fits: dict, k: int, cls: type, penalizer: float
) -> None:
    plain = plain_fits[(cls, penalizer)]
    extended = cls(penalizer_coef=penalizer).fit(with_new_customers(cdnow[HISTORY], k))
    np.testing.assert_allclose(extended.params_, plain.params_, rtol=1e-12)
    assert extended.log_likelihood_ == pytest.approx(plain.log_likelihood_, rel=1e-13)
    assert extended.bic == pytest.approx(plain.bic, rel=1e-13)
    assert extended.n_customers_ == plain.n_customers_
    assert f"fitted with {len(cdnow) + k} subjects" in repr(extended)


def test_new_customer_log_likelihood_is_exactly_zero(cdnow: pd.DataFrame) -> None:
    for cls in FITTERS:
        fitter = cls().fit(cdnow[HISTORY])
        assert fitter.individual_log_likelihood(0, 0, 0) == 0.0


def test_bgbb_accepts_customers_without_opportunities() -> None:
    donations = load_donations()
    plain = BetaGeoBetaBinomFitter().fit(
        donations["frequency"], donations["recency"], donations["periods"], donations["weights"]
    )
    extra = pd.DataFrame({"frequency": [0], "recency": [0], "periods": [0], "weights": [500]})
    both = pd.concat([donations, extra], ignore_index=True)
    extended = BetaGeoBetaBinomFitter().fit(
        both["frequency"], both["recency"], both["periods"], both["weights"]
    )
    np.testing.assert_allclose(extended.params_, plain.params_, rtol=1e-12)
    assert extended.log_likelihood_ == pytest.approx(plain.log_likelihood_, rel=1e-13)
    gamma, delta = plain.params_["gamma"], plain.params_["delta"]
    assert plain.conditional_probability_alive(1, 0, 0, 0) == pytest.approx(delta / (gamma + delta))


def test_predictions_for_new_customers(cdnow: pd.DataFrame) -> None:
    bgf, mbgf, pnbd = (cls().fit(cdnow[HISTORY]) for cls in FITTERS)
    a, b = mbgf.params_["a"], mbgf.params_["b"]
    assert bgf.conditional_probability_alive(0, 0, 0) == 1.0
    assert pnbd.conditional_probability_alive(0, 0, 0) == 1.0
    assert mbgf.conditional_probability_alive(0, 0, 0) == pytest.approx(b / (a + b), rel=1e-15)
    t = np.array([1.0, 10.0, 52.0])
    for fitter in (bgf, mbgf, pnbd):
        np.testing.assert_allclose(
            fitter.conditional_expected_number_of_purchases_up_to_time(t, 0, 0, 0),
            fitter.expected_number_of_purchases_up_to_time(t),
            rtol=1e-12,
        )
        dert = fitter.discounted_expected_residual_transactions(0.003, 0, 0, 0)
        assert np.isfinite(dert) and dert > 0
        interval = fitter.conditional_probability_alive_interval(0, 0, 0, n_draws=50, seed=1)
        assert np.isfinite(np.asarray(interval, dtype=float)).all()
        simulated = fitter.generate_new_data(T=np.zeros(5), seed=1)
        assert (simulated["frequency"] == 0).all() and (simulated["T"] == 0).all()


def test_clv_and_customer_table_with_new_customers() -> None:
    from retentionkit.targeting import customer_table

    summary = load_cdnow_summary_data_with_monetary_value()
    bgf = BetaGeoFitter().fit(summary[HISTORY])
    repeat = summary[summary["frequency"] > 0]
    ggf = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    extended = with_new_customers(summary, 3)
    clv = ggf.customer_lifetime_value(
        bgf,
        extended["frequency"],
        extended["recency"],
        extended["T"],
        extended["monetary_value"],
        freq="W",
    )
    assert np.isfinite(clv).all()
    table = customer_table(bgf, ggf, extended, n_draws=20)
    assert table.loc["new0", "p_alive"] == 1.0
    assert len(table) == len(extended)


def _log_with_last_day_customers() -> pd.DataFrame:
    """Three customers over March, two of them first seen on its last day."""
    return pd.DataFrame(
        {
            "id": ["a", "a", "a", "b", "b", "c", "d", "d"],
            "date": pd.to_datetime(
                [
                    "2024-03-01",
                    "2024-03-05",
                    "2024-03-20",
                    "2024-03-02",
                    "2024-03-03",
                    "2024-03-31",
                    "2024-03-31",
                    "2024-03-31",
                ]
            ),
        }
    )


def test_summaries_produce_new_customers_and_fits_take_them(cdnow: pd.DataFrame) -> None:
    log = _log_with_last_day_customers()
    summary = summary_data_from_transaction_data(
        log, "id", "date", observation_period_end="2024-03-31"
    )
    assert summary.loc[["c", "d"], HISTORY].eq(0).all().all()
    same = summary_data_from_transaction_data(
        log, "id", "date", observation_period_end="2024-03-31", drop_invalid=True
    )
    pd.testing.assert_frame_equal(same, summary)  # valid customers are not dropped
    holdout = calibration_and_holdout_data(
        log, "id", "date", calibration_period_end="2024-03-20", observation_period_end="2024-03-31"
    )
    assert holdout.loc["a", "T_cal"] == 19 and holdout.loc["a", "frequency_cal"] == 2
    combined = pd.concat([cdnow[HISTORY], summary[HISTORY]])
    for cls in FITTERS:
        fitter = cls().fit(combined)
        p = fitter.conditional_probability_alive(
            summary["frequency"], summary["recency"], summary["T"]
        )
        assert list(p.index) == list(summary.index)


def test_plots_with_new_customers(cdnow: pd.DataFrame) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from retentionkit import plotting

    bgf = BetaGeoFitter().fit(with_new_customers(cdnow[HISTORY], 20))
    plotting.plot_period_transactions(bgf)
    matrix = bgf.conditional_probability_alive_matrix(max_frequency=3, max_recency=0)
    assert matrix.shape == (1, 4) and matrix[0, 0] == 1.0
    path = plotting.alive_path(
        bgf, 3, pd.DataFrame({"date": pd.to_datetime(["2024-01-01"])}), "date"
    )
    assert path.iloc[0] == 1.0
    import matplotlib.pyplot as plt

    plt.close("all")


def test_report_counts_new_customers() -> None:
    pytest.importorskip("matplotlib")
    from retentionkit.datasets import load_transaction_data
    from retentionkit.report import build_report

    log = load_transaction_data()
    last = log["date"].max()
    extra = log.iloc[:2].assign(customer_id=[900_001, 900_002], master_id=[0, 0], date=last)
    report = build_report(
        pd.concat([log, extra], ignore_index=True),
        "customer_id",
        "date",
        "dollar_value",
        freq="W",
        top=5,
    )
    new = int((report.customers["T"] == 0).sum())
    assert new >= 2
    notes = [n for n in report.notes if n.startswith("New customers")]
    assert len(notes) == 1
    assert f"New customers: {new:,} of the {len(report.customers):,} customers scored" in notes[0]
    assert notes[0].split(":")[0] in report.html


def test_dask_fits_and_scores_new_customers(cdnow: pd.DataFrame) -> None:
    dd = pytest.importorskip("dask.dataframe")
    from retentionkit import dask as rkdask

    summary = with_new_customers(cdnow[HISTORY], 7)
    fitted = rkdask.fit(BetaGeoFitter(), dd.from_pandas(summary, npartitions=3))
    reference = BetaGeoFitter().fit(cdnow[HISTORY])
    np.testing.assert_allclose(fitted.params_, reference.params_, rtol=1e-10)
    scored = rkdask.predict(fitted, dd.from_pandas(summary, npartitions=3)).compute()
    assert (scored.loc[[f"new{j}" for j in range(7)]] == 1.0).all()


def test_predictions_accept_frequency_zero_with_recency(cdnow: pd.DataFrame) -> None:
    bgf, mbgf, pnbd = (cls().fit(cdnow[HISTORY]) for cls in FITTERS)
    recency = np.array([0.0, 5.0, 20.0])
    assert (bgf.conditional_probability_alive(0, recency, 30) == 1.0).all()
    mbg = mbgf.conditional_probability_alive(0, recency, 30)
    assert mbg[0] == mbg[1] == mbg[2]
    p = pnbd.conditional_probability_alive(0, recency, 30)
    assert p[0] < p[1] < p[2] < 1
    for fitter in (bgf, mbgf, pnbd):
        with pytest.raises(InvalidDataError, match="recency must be 0 when frequency is 0") as info:
            fitter.fit(pd.DataFrame({"frequency": [1, 0], "recency": [3, 5], "T": [10, 10]}))
        assert info.value.column == "recency" and info.value.row == 1


def test_fit_refuses_only_new_customers() -> None:
    with pytest.raises(InvalidDataError, match="at least one customer must have T > 0"):
        BetaGeoFitter().fit(pd.DataFrame(0.0, index=range(3), columns=HISTORY))


@pytest.mark.parametrize("fitter_class", FITTERS)
def test_log_likelihood_of_only_new_customers_is_zero(
    fitter_class: type, cdnow: pd.DataFrame
) -> None:
    """Data holding only T = 0 customers carries no information: log-likelihood 0
    (a fit refuses such data, an evaluation of a fitted model does not)."""
    fitter = fitter_class().fit(cdnow[HISTORY])
    zeros = np.zeros(3)
    assert fitter._core().log_likelihood_of(zeros, zeros, zeros) == 0.0
    with pytest.raises(InvalidDataError, match="T > 0"):
        fitter_class().fit(zeros, zeros, zeros)
