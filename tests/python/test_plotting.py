"""Plots: each renders, has the expected series, and draws the model's own numbers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from cdnow_holdout import cdnow_calibration_holdout

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from retentionkit import (  # noqa: E402
    BetaGeoBetaBinomFitter,
    BetaGeoFitter,
    GammaGammaFitter,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
    ShiftedBetaGeometricFitter,
    plotting,
)
from retentionkit.datasets import (  # noqa: E402
    load_donations,
    load_retention_cohorts,
    load_transaction_data,
)
from retentionkit.model_comparison import period_transactions_table  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def cdnow_models(cdnow: pd.DataFrame) -> dict[str, Any]:
    return {
        "bgf": BetaGeoFitter().fit(cdnow),
        "mbgf": ModifiedBetaGeoFitter().fit(cdnow),
        "pnbd": ParetoNBDFitter().fit(cdnow),
    }


@pytest.fixture(scope="module")
def bbf() -> BetaGeoBetaBinomFitter:
    return BetaGeoBetaBinomFitter().fit(load_donations())


@pytest.fixture(scope="module")
def transactions() -> pd.DataFrame:
    return load_transaction_data()


def _render(ax: Any) -> None:
    ax.figure.canvas.draw()


# -- period transactions ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bgf", "mbgf", "pnbd"])
def test_period_transactions(cdnow_models: dict[str, Any], name: str) -> None:
    model = cdnow_models[name]
    ax = plotting.plot_period_transactions(model)
    _render(ax)
    assert len(ax.containers) == 2
    actual, expected = ([bar.get_height() for bar in c] for c in ax.containers)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Actual", "Model"]
    # Expected counts, customer by customer: sum_i P(X(T_i) = n), the rest in "7+".
    frequency, age = model.data["frequency"].to_numpy(), model.data["T"].to_numpy()
    by_customer = np.array([model.probability_of_n_purchases_up_to_time(age, n) for n in range(7)])
    counts = by_customer.sum(axis=1)
    np.testing.assert_allclose(expected[:7], counts, rtol=1e-10)
    assert expected[7] == pytest.approx(len(age) - counts.sum(), rel=1e-9)
    observed = [np.sum(frequency == n) for n in range(7)] + [np.sum(frequency >= 7)]
    np.testing.assert_array_equal(actual, observed)


def test_period_transactions_bgbb_and_given_axes(bbf: BetaGeoBetaBinomFitter) -> None:
    _, ax = plt.subplots()
    returned = plotting.plot_period_transactions(bbf, max_frequency=4, ax=ax)
    assert returned is ax
    table = period_transactions_table(bbf, 4)
    np.testing.assert_allclose([b.get_height() for b in ax.containers[0]], table["actual"])
    np.testing.assert_allclose([b.get_height() for b in ax.containers[1]], table["expected"])
    assert table["actual"].iloc[-1] == bbf.data.loc[bbf.data["frequency"] >= 4, "weights"].sum()


def test_plots_refuse_models_they_do_not_apply_to(bgf: BetaGeoFitter) -> None:
    ggf = GammaGammaFitter()
    ggf.params_ = [6.25, 3.74, 15.45]
    with pytest.raises(TypeError, match="GammaGammaFitter"):
        plotting.plot_period_transactions(ggf)
    with pytest.raises(TypeError, match="ShiftedBetaGeometricFitter"):
        plotting.plot_retention(bgf)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="BetaGeoBetaBinomFitter"):
        plotting.plot_history_alive(
            BetaGeoBetaBinomFitter(),  # type: ignore[arg-type]
            10,
            load_transaction_data().head(3),
            "date",
        )


def test_missing_matplotlib_says_how_to_install(
    bgf: BetaGeoFitter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "retentionkit\[plot\]"'):
        plotting.plot_period_transactions(bgf)


# -- calibration against holdout -------------------------------------------------------------


def test_calibration_purchases_vs_holdout_purchases() -> None:
    frame = cdnow_calibration_holdout()
    calibration = frame[["frequency_cal", "recency_cal", "T_cal"]]
    model = BetaGeoFitter().fit(calibration.set_axis(["frequency", "recency", "T"], axis=1))
    ax = plotting.plot_calibration_purchases_vs_holdout_purchases(model, frame, n=7)
    _render(ax)
    assert [line.get_label() for line in ax.lines] == ["frequency_holdout", "model_predictions"]
    predicted = model.conditional_expected_number_of_purchases_up_to_time(
        39.0, frame["frequency_cal"], frame["recency_cal"], frame["T_cal"]
    )
    for x in range(7):
        group = frame["frequency_cal"] == x
        assert ax.lines[0].get_xdata()[x] == x
        assert ax.lines[0].get_ydata()[x] == pytest.approx(
            frame.loc[group, "frequency_holdout"].mean()
        )
        assert ax.lines[1].get_ydata()[x] == pytest.approx(predicted[group].mean())
    # Grouping by time since the last purchase, as lifetimes' kind= does.
    ax = plotting.plot_calibration_purchases_vs_holdout_purchases(
        model, frame, n=3, kind="time_since_last_purchase"
    )
    gap = frame["T_cal"] - frame["recency_cal"]
    first = gap == gap.min()
    assert ax.lines[0].get_ydata()[0] == pytest.approx(frame.loc[first, "frequency_holdout"].mean())
    assert len(ax.lines[1].get_ydata()) == 3
    with pytest.raises(ValueError, match="lacks"):
        plotting.plot_calibration_purchases_vs_holdout_purchases(model, calibration)


# -- matrices --------------------------------------------------------------------------------


def _image(ax: Any) -> np.ma.MaskedArray:
    assert len(ax.images) == 1
    return np.ma.asarray(ax.images[0].get_array())


@pytest.mark.parametrize("name", ["bgf", "mbgf", "pnbd"])
def test_frequency_recency_matrix(cdnow_models: dict[str, Any], name: str) -> None:
    model = cdnow_models[name]
    ax = plotting.plot_frequency_recency_matrix(model, T=2, max_frequency=5, max_recency=8)
    _render(ax)
    image = _image(ax)
    assert image.shape == (9, 6)
    for recency in range(9):
        for frequency in range(6):
            tx = recency if frequency > 0 else 0
            value = model.conditional_expected_number_of_purchases_up_to_time(2, frequency, tx, 8)
            assert image[recency, frequency] == pytest.approx(value, rel=1e-12)


def test_frequency_recency_matrix_defaults_to_the_data(bgf: BetaGeoFitter) -> None:
    ax = plotting.plot_frequency_recency_matrix(bgf)
    _render(ax)
    image = _image(ax)
    assert image.shape == (int(bgf.data["T"].max()) + 1, int(bgf.data["frequency"].max()) + 1)
    assert "1 Unit of Time" in ax.get_title()


@pytest.mark.parametrize("name", ["bgf", "mbgf", "pnbd"])
def test_probability_alive_matrix(cdnow_models: dict[str, Any], name: str) -> None:
    model = cdnow_models[name]
    ax = plotting.plot_probability_alive_matrix(model, max_frequency=6, max_recency=10)
    _render(ax)
    image = _image(ax)
    np.testing.assert_allclose(image, model.conditional_probability_alive_matrix(6, 10))
    assert image[4, 3] == pytest.approx(model.conditional_probability_alive(3, 4, 10))


def test_bgbb_matrices(bbf: BetaGeoBetaBinomFitter) -> None:
    alive = _image(plotting.plot_probability_alive_matrix(bbf))
    expected = _image(plotting.plot_frequency_recency_matrix(bbf, T=5))
    assert alive.shape == expected.shape == (7, 7)
    for recency in range(7):
        for frequency in range(7):
            if frequency > recency:  # more transactions than opportunities
                assert alive.mask[recency, frequency] and expected.mask[recency, frequency]
                continue
            tx = recency if frequency > 0 else 0
            # Eq. (11) of FHS (2010): alive at the next opportunity.
            p = bbf.conditional_probability_alive(1, frequency, tx, 6)
            e = bbf.conditional_expected_number_of_purchases_up_to_time(5, frequency, tx, 6)
            assert alive[recency, frequency] == pytest.approx(p, rel=1e-12)
            assert expected[recency, frequency] == pytest.approx(e, rel=1e-12)


# -- calendar time ---------------------------------------------------------------------------


def test_history_alive(bgf: BetaGeoFitter, transactions: pd.DataFrame) -> None:
    # Customer 1 buys on 1997-01-01, -01-18, -08-02 and -12-12; the model is weekly,
    # so the path is weekly (pandas weeks end on Sunday: purchases in weeks 0, 2, 30, 49).
    customer = transactions[transactions["customer_id"] == 1]
    ax = plotting.plot_history_alive(bgf, 40, customer, "date", freq="W")
    _render(ax)
    assert len(ax.lines) == 1 and len(ax.collections) == 1
    path = ax.lines[0].get_ydata()
    assert len(path) == 41
    assert path[0] == pytest.approx(1.0)  # just bought: BG/NBD customers are alive
    assert path[1] == pytest.approx(1.0)  # no repeat purchase yet
    for week, (x, tx) in {2: (1, 2), 10: (1, 2), 29: (1, 2), 30: (2, 30), 40: (2, 30)}.items():
        assert path[week] == pytest.approx(bgf.conditional_probability_alive(x, tx, week))
    assert len(ax.collections[0].get_segments()) == 3  # the purchases within 40 weeks
    np.testing.assert_allclose(
        path, plotting.alive_path(bgf, 40, customer, "date", freq="W").to_numpy()
    )


def _tiny_log() -> pd.DataFrame:
    # A buys on days 0, 2 (twice: counts once), 5; B on days 3 and 4; C on day 9.
    days = {"A": [0, 2, 2, 5], "B": [3, 4], "C": [9]}
    rows = [
        (c, pd.Timestamp("2020-01-01") + pd.Timedelta(days=d)) for c, ds in days.items() for d in ds
    ]
    return pd.DataFrame(rows, columns=["id", "when"])


@pytest.mark.parametrize("multiplier", [1, 2])
def test_cumulative_and_incremental_transactions(bgf: BetaGeoFitter, multiplier: int) -> None:
    log = _tiny_log()
    ax = plotting.plot_cumulative_transactions(
        bgf, log, "when", "id", t=6, t_cal=4, freq="D", freq_multiplier=multiplier
    )
    _render(ax)
    assert [line.get_label() for line in ax.lines[:2]] == ["actual", "predicted"]
    ends = np.arange(multiplier, 7, multiplier)  # end of each model period, in days
    repeats_by_day = {1: 0, 2: 1, 3: 1, 4: 2, 5: 3, 6: 3}  # A: 2, 5; B: 4
    actual = [repeats_by_day[e] for e in ends]
    ex = bgf.expected_number_of_purchases_up_to_time
    predicted = [ex(e / multiplier) + (ex((e - 3) / multiplier) if e >= 3 else 0) for e in ends]
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), ends / multiplier)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), actual)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), predicted, rtol=1e-12)
    # The calibration boundary: a vertical line at t_cal, in model periods.
    assert len(ax.lines) == 3
    assert ax.lines[2].get_xdata()[0] == pytest.approx(4 / multiplier)

    ax = plotting.plot_incremental_transactions(
        bgf, log, "when", "id", t=6, t_cal=4, freq="D", freq_multiplier=multiplier
    )
    _render(ax)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), np.diff(actual, prepend=0))
    np.testing.assert_allclose(ax.lines[1].get_ydata(), np.diff(predicted, prepend=0), rtol=1e-12)


def test_set_index_date_labels_each_row_by_its_last_period(bgf: BetaGeoFitter) -> None:
    from retentionkit.utils import expected_cumulative_transactions

    log = _tiny_log()
    by_k = plotting.expected_cumulative_transactions(bgf, log, "when", "id", 6, freq_multiplier=2)
    by_date = expected_cumulative_transactions(
        bgf, log, "when", "id", 6, freq_multiplier=2, set_index_date=True
    )
    np.testing.assert_array_equal(by_date.to_numpy(), by_k.to_numpy())
    # Model periods of 2 days from 2020-01-01: they end on days 2, 4 and 6.
    assert list(by_date.index.astype(str)) == ["2020-01-03", "2020-01-05", "2020-01-07"]
    ax = plotting.plot_cumulative_transactions(
        bgf, log, "when", "id", 6, 4, None, "D", True, freq_multiplier=2
    )
    _render(ax)
    dates = pd.to_datetime(["2020-01-03", "2020-01-05", "2020-01-07"])
    import matplotlib.dates as mdates

    assert list(pd.to_datetime(ax.lines[0].get_xdata())) == list(dates)
    line = ax.lines[2].get_xdata()[0]  # the calibration end, day 4
    line = line if isinstance(line, float) else mdates.date2num(line)
    assert line == pytest.approx(mdates.date2num(pd.Timestamp("2020-01-05")))


def test_history_alive_start_date_sets_the_left_limit(
    bgf: BetaGeoFitter, transactions: pd.DataFrame
) -> None:
    import matplotlib.dates as mdates

    customer = transactions[transactions["customer_id"] == 1]
    ax = plotting.plot_history_alive(bgf, 40, customer, "date", "W", "1996-12-01")
    _render(ax)
    assert ax.get_xlim()[0] == pytest.approx(mdates.date2num(pd.Timestamp("1996-12-01")))


def test_cumulative_transactions_on_cdnow(bgf: BetaGeoFitter, transactions: pd.DataFrame) -> None:
    # FHL (2005), Figure 4: 78 weeks of daily data, a weekly model, calibration 39 weeks.
    frame = plotting.expected_cumulative_transactions(
        bgf, transactions, "date", "customer_id", t=546, freq="D", freq_multiplier=7
    )
    assert list(frame.index) == list(range(1, 79))
    # Repeat transactions (distinct customer-days) by day 273 (1997-10-01).
    log = transactions[["customer_id", "date"]].drop_duplicates()
    first = log.groupby("customer_id")["date"].transform("min")
    day = (log["date"] - pd.Timestamp("1997-01-01")).dt.days
    assert frame.loc[39, "actual"] == ((log["date"] > first) & (day <= 273)).sum()
    assert frame.loc[78, "actual"] == (log["date"] > first).sum()
    # The model tracks the calibration period within 2% and falls ~4% short by week 78.
    assert frame.loc[39, "predicted"] == pytest.approx(frame.loc[39, "actual"], rel=0.02)
    assert frame.loc[78, "predicted"] == pytest.approx(frame.loc[78, "actual"], rel=0.06)


# -- contractual -----------------------------------------------------------------------------


def test_retention_survival_and_rates() -> None:
    cohorts = load_retention_cohorts()
    sbg = ShiftedBetaGeometricFitter().fit(cohorts.loc[:7])
    ax = plotting.plot_retention(sbg)
    _render(ax)
    assert [line.get_label() for line in ax.lines] == ["regular", "high_end", "model"]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), cohorts["regular"].loc[:7] / 1000)
    np.testing.assert_allclose(ax.lines[2].get_xdata(), np.arange(8))
    np.testing.assert_allclose(ax.lines[2].get_ydata(), sbg.survival_function(np.arange(8)))

    ax = plotting.plot_retention(sbg, cohorts["regular"], periods=12, kind="retention")
    _render(ax)
    assert [line.get_label() for line in ax.lines] == ["regular", "model"]
    counts = cohorts["regular"].to_numpy(dtype=float)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), counts[1:] / counts[:-1])
    np.testing.assert_allclose(ax.lines[1].get_xdata(), np.arange(1, 13))
    np.testing.assert_allclose(ax.lines[1].get_ydata(), sbg.retention_rate(np.arange(1, 13)))
    with pytest.raises(ValueError, match="kind"):
        plotting.plot_retention(sbg, kind="churn")


def test_retention_of_duration_records_is_kaplan_meier() -> None:
    sbg = ShiftedBetaGeometricFitter()
    sbg.params_ = {"alpha": 0.7, "beta": 1.2}
    # Durations 1 (churned), 2 (churned), 2 (active), 3 (active): at risk 4, 3, 1.
    sbg.data = pd.DataFrame(
        {"duration": [1, 2, 2, 3], "churned": [True, True, False, False], "weights": 1.0}
    )
    ax = plotting.plot_retention(sbg)
    assert [line.get_label() for line in ax.lines] == ["actual", "model"]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [1.0, 0.75, 0.5, 0.5])
    # Without data only the model's curve, to period 12.
    bare = ShiftedBetaGeometricFitter()
    bare.params_ = {"alpha": 0.7, "beta": 1.2}
    ax = plotting.plot_retention(bare)
    assert len(ax.lines) == 1
    np.testing.assert_allclose(ax.lines[0].get_xdata(), np.arange(13))


def test_cohort_retention_heatmap() -> None:
    table = pd.DataFrame(
        [[1.0, 0.6, 0.45], [1.0, 0.7, np.nan], [1.0, np.nan, np.nan]],
        index=pd.Index(["2024-01", "2024-02", "2024-03"], name="cohort"),
        columns=pd.Index([0, 1, 2], name="period"),
    )
    ax = plotting.plot_cohort_retention(table)
    _render(ax)
    image = _image(ax)
    np.testing.assert_array_equal(image.mask, table.isna().to_numpy())
    values = table.to_numpy()
    np.testing.assert_allclose(image.compressed(), values[~np.isnan(values)])
    assert [t.get_text() for t in ax.texts] == ["100%", "60%", "45%", "100%", "70%", "100%"]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(table.index)
    assert ax.get_xlabel() == "period"
    ax = plotting.plot_cohort_retention(table, annotate=False)
    assert not ax.texts
    with pytest.raises(TypeError, match="DataFrame"):
        plotting.plot_cohort_retention(table.to_numpy())  # type: ignore[arg-type]


# -- lifetimes' plots of the fitted distributions ---------------------------------------------


@pytest.mark.parametrize("name", ["bgf", "mbgf", "pnbd"])
def test_expected_repeat_purchases(cdnow_models: dict[str, Any], name: str) -> None:
    model = cdnow_models[name]
    ax = plotting.plot_expected_repeat_purchases(model, label="model")
    _render(ax)
    fitted, extrapolated = ax.get_lines()
    max_age = model.data["T"].max()
    assert fitted.get_xdata()[-1] == pytest.approx(max_age)
    assert extrapolated.get_xdata()[-1] == pytest.approx(1.5 * max_age)
    assert extrapolated.get_linestyle() == "--"
    for line in (fitted, extrapolated):
        t = np.asarray(line.get_xdata())
        np.testing.assert_allclose(
            line.get_ydata(), model.expected_number_of_purchases_up_to_time(t), rtol=1e-12
        )


def test_heterogeneity_densities_and_their_99_percent_range(
    cdnow_models: dict[str, Any],
) -> None:
    mpmath = pytest.importorskip("mpmath")
    bgf, pnbd = cdnow_models["bgf"], cdnow_models["pnbd"]
    r, alpha, a, b = bgf.params_
    cases = [
        (plotting.plot_transaction_rate_heterogeneity(bgf), "gamma", r, alpha),
        (plotting.plot_dropout_rate_heterogeneity(bgf), "beta", a, b),
        (plotting.plot_dropout_rate_heterogeneity(pnbd), "gamma", *pnbd.params_[["s", "beta"]]),
    ]
    for ax, kind, p, q in cases:
        _render(ax)
        (line,) = ax.get_lines()
        x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        if kind == "gamma":
            pdf = [float(q**p * v ** (p - 1) * mpmath.exp(-q * v) / mpmath.gamma(p)) for v in x]
            cdf = float(mpmath.gammainc(p, 0, q * x[-1], regularized=True))
            mean, var = p / q, p / q**2
        else:
            pdf = [float(v ** (p - 1) * (1 - v) ** (q - 1) / mpmath.beta(p, q)) for v in x]
            cdf = float(mpmath.betainc(p, q, 0, x[-1], regularized=True))
            mean, var = p / (p + q), p * q / ((p + q) ** 2 * (p + q + 1))
        np.testing.assert_allclose(y, pdf, rtol=1e-9)
        assert cdf == pytest.approx(0.99, abs=1e-4)
        assert ax.get_title() == f"mean: {mean:.3f}, var: {var:.3f}"
    assert cases[2][0].get_xlabel() == "Dropout Rate mu"
