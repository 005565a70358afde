"""polars and pyarrow in, the same library out (issue 17, "DataFrames beyond pandas").

Each public entry point is called at least once with polars and with pyarrow input;
the result must equal the pandas path's to rounding, be of the caller's library, and
keep the customer ids (the ``customer_id`` column, see retentionkit._frames).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

from retentionkit import (  # noqa: E402  # noqa: E402
    BetaGeoBetaBinomFitter,
    BetaGeoFitter,
    GammaGammaFitter,
    GompertzGammaNBDFitter,
    InvalidDataError,
    MBGCNBDkFitter,
    ParetoNBDFitter,
    ShiftedBetaGeometricFitter,
    _frames,
    _validation,
    compare_models,
)
from retentionkit.datasets import (  # noqa: E402
    load_cdnow_summary_data_with_monetary_value,
    load_donations,
)
from retentionkit.fitters.contractual import retention_table  # noqa: E402
from retentionkit.fitters.mbgcnbd_fitter import first_two_gaps, wheat_morrison_k  # noqa: E402
from retentionkit.fitters.time_varying import TimeVaryingParetoNBDFitter  # noqa: E402
from retentionkit.model_comparison import chi_square, period_transactions_table  # noqa: E402
from retentionkit.plotting import (  # noqa: E402
    plot_calibration_purchases_vs_holdout_purchases,
    plot_period_transactions,
    probability_alive_matrix,
)
from retentionkit.targeting import (  # noqa: E402
    SegmentThresholds,
    customer_table,
    segment_summary,
    who_to_contact,
)
from retentionkit.utils import (  # noqa: E402
    calibration_and_holdout_data,
    cohort_table,
    expected_cumulative_transactions,
    subscription_summary,
)


def _to_pandas(native: Any) -> Any:
    """A polars/pyarrow result as pandas, ``customer_id`` back as the index."""
    if isinstance(native, (pl.Series, pa.ChunkedArray, pa.Array)):
        return pd.Series(np.asarray(native.to_numpy() if isinstance(native, pl.Series) else native))
    frame = native.to_pandas()
    return frame.set_index("customer_id") if "customer_id" in frame.columns else frame


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    data = load_cdnow_summary_data_with_monetary_value()
    data.index = data.index.astype(np.int64)
    return data.iloc[:600]


@pytest.fixture(scope="module")
def summary_pl(summary: pd.DataFrame) -> Any:
    return pl.from_pandas(summary.reset_index())


@pytest.fixture(scope="module")
def summary_pa(summary: pd.DataFrame) -> Any:
    return pa.Table.from_pandas(summary.reset_index(), preserve_index=False)


@pytest.fixture(scope="module")
def bgf(summary: pd.DataFrame) -> BetaGeoFitter:
    return BetaGeoFitter().fit(summary)


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 400
    return pd.DataFrame(
        {
            "customer": rng.integers(0, 80, n),
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), "D"),
            "value": np.round(rng.gamma(2.0, 10.0, n), 2),
        }
    )


# -- fitters ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["polars", "lazy", "arrow", "batch"])
def test_fit_on_native_frames_matches_pandas(
    kind: str, summary: pd.DataFrame, summary_pl: Any, summary_pa: Any, bgf: BetaGeoFitter
) -> None:
    native = {
        "polars": summary_pl,
        "lazy": summary_pl.lazy(),
        "arrow": summary_pa,
        "batch": summary_pa.to_batches(max_chunksize=10_000)[0],
    }[kind]
    fitted = BetaGeoFitter().fit(native)
    np.testing.assert_allclose(fitted.params_, bgf.params_, rtol=1e-10)
    assert fitted.log_likelihood_ == pytest.approx(bgf.log_likelihood_, rel=1e-12)
    # the ids of the customer_id column became the fitted data's index
    assert fitted.data.index.equals(summary.index)
    assert fitted.data.index.name == "customer_id"


def test_predictions_come_back_as_polars_series(summary: pd.DataFrame, bgf: BetaGeoFitter) -> None:
    df = pl.from_pandas(summary.reset_index())
    expected = bgf.conditional_expected_number_of_purchases_up_to_time(
        10, summary["frequency"], summary["recency"], summary["T"]
    )
    got = bgf.conditional_expected_number_of_purchases_up_to_time(
        10, df["frequency"], df["recency"], df["T"]
    )
    assert isinstance(got, pl.Series)
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-12)
    alive = bgf.conditional_probability_alive(df["frequency"], df["recency"], df["T"])
    assert isinstance(alive, pl.Series)
    assert ((alive >= 0) & (alive <= 1)).all()
    interval = bgf.conditional_probability_alive_interval(
        df["frequency"][:20], df["recency"][:20], df["T"][:20], n_draws=20, seed=1
    )
    assert isinstance(interval, pl.DataFrame)
    assert interval.columns == ["estimate", "lower", "upper"]


def test_predictions_come_back_as_arrow(summary: pd.DataFrame, bgf: BetaGeoFitter) -> None:
    table = pa.Table.from_pandas(summary.reset_index(), preserve_index=False)
    expected = bgf.conditional_probability_alive(
        summary["frequency"], summary["recency"], summary["T"]
    )
    chunked = bgf.conditional_probability_alive(table["frequency"], table["recency"], table["T"])
    assert isinstance(chunked, pa.ChunkedArray)
    np.testing.assert_allclose(chunked.to_numpy(), expected.to_numpy(), rtol=1e-12)
    array = bgf.conditional_probability_alive(
        table["frequency"].combine_chunks(), table["recency"].combine_chunks(), table["T"]
    )
    assert isinstance(array, pa.Array)
    np.testing.assert_allclose(array.to_numpy(), expected.to_numpy(), rtol=1e-12)


def test_covariates_as_polars_frames_are_aligned_on_customer_id(summary: pd.DataFrame) -> None:
    rng = np.random.default_rng(3)
    traits = pd.DataFrame(
        {
            "spend": np.log1p(summary["monetary_value"]),
            "channel": rng.choice(["web", "shop"], len(summary)),
        },
        index=summary.index,
    )
    expected = BetaGeoFitter().fit(summary, purchase_covariates=traits)
    # shuffled rows: the covariates must be matched by customer_id, not by position
    shuffled = pl.from_pandas(traits.reset_index()).sample(fraction=1.0, shuffle=True, seed=5)
    fitted = BetaGeoFitter().fit(
        pl.from_pandas(summary.reset_index()), purchase_covariates=shuffled
    )
    np.testing.assert_allclose(fitted.params_, expected.params_, rtol=1e-8)
    # predictions with native covariates: a polars Series in the histories' order
    alive = fitted.conditional_probability_alive(
        pl.Series(summary["frequency"].to_numpy()),
        pl.Series(summary["recency"].to_numpy()),
        pl.Series(summary["T"].to_numpy()),
        purchase_covariates=pl.from_pandas(traits.reset_index(drop=True)),
    )
    assert isinstance(alive, pl.Series)
    np.testing.assert_allclose(
        alive.to_numpy(),
        expected.conditional_probability_alive(purchase_covariates=traits),
        rtol=1e-8,
    )


def test_gamma_gamma_and_clv(
    summary: pd.DataFrame, summary_pl: Any, summary_pa: Any, bgf: BetaGeoFitter
) -> None:
    buyers = summary[summary["frequency"] > 0]
    expected = GammaGammaFitter().fit(buyers["frequency"], buyers["monetary_value"])
    buyers_pl = summary_pl.filter(pl.col("frequency") > 0)
    ggf = GammaGammaFitter().fit(buyers_pl)
    np.testing.assert_allclose(ggf.params_, expected.params_, rtol=1e-10)
    profit = ggf.conditional_expected_average_profit(
        buyers_pl["frequency"], buyers_pl["monetary_value"]
    )
    assert isinstance(profit, pl.Series)
    np.testing.assert_allclose(
        profit.to_numpy(),
        expected.conditional_expected_average_profit(buyers["frequency"], buyers["monetary_value"]),
        rtol=1e-12,
    )
    args = ("frequency", "recency", "T", "monetary_value")
    clv = ggf.customer_lifetime_value(
        bgf, *(summary_pa[c] for c in args), time=6, discount_rate=0.01
    )
    assert isinstance(clv, pa.ChunkedArray)
    np.testing.assert_allclose(
        clv.to_numpy(),
        expected.customer_lifetime_value(
            bgf, *(summary[c] for c in args), time=6, discount_rate=0.01
        ),
        rtol=1e-10,
    )


def test_bgbb_on_an_arrow_table() -> None:
    data = load_donations()
    expected = BetaGeoBetaBinomFitter().fit(data)
    fitted = BetaGeoBetaBinomFitter().fit(pa.Table.from_pandas(data))
    np.testing.assert_allclose(fitted.params_, expected.params_, rtol=1e-10)
    table = fitted.expected_number_of_transactions_in_first_n_periods(6)
    assert isinstance(table, pd.DataFrame)  # no native input in this call: pandas


def test_contractual_fitters() -> None:
    survivors = [1000, 631, 468, 382, 326, 289, 262, 241]
    expected = ShiftedBetaGeometricFitter().fit(survivors)
    fitted = ShiftedBetaGeometricFitter().fit(pl.Series("regular", survivors))
    np.testing.assert_allclose(fitted.params_, expected.params_, rtol=1e-10)
    table = fitted.retention_table(pa.array(survivors))
    assert isinstance(table, pa.Table)
    pd.testing.assert_frame_equal(
        table.to_pandas(),
        expected.retention_table(survivors).reset_index(drop=True),
        check_dtype=False,
    )
    plain = retention_table(pl.Series(survivors))
    assert isinstance(plain, pl.DataFrame)
    # subscribers with covariates, ids in customer_id
    rng = np.random.default_rng(2)
    n = 2000
    plan = rng.choice(["a", "b"], n)
    churn = rng.beta(np.where(plan == "b", 1.5, 0.8), 3.0)
    lifetime = rng.geometric(churn)
    cap = rng.integers(3, 13, n)
    subs = pd.DataFrame(
        {"periods": np.minimum(lifetime, cap), "churned": lifetime <= cap, "plan": plan},
        index=pd.Index(np.arange(100, 100 + n), name="customer_id"),
    )
    expected = ShiftedBetaGeometricFitter().fit(
        periods=subs["periods"], churned=subs["churned"], covariates=subs[["plan"]]
    )
    subs_pl = pl.from_pandas(subs.reset_index())
    fitted = ShiftedBetaGeometricFitter().fit(
        periods=subs_pl["periods"], churned=subs_pl["churned"], covariates=subs_pl.select("plan")
    )
    np.testing.assert_allclose(fitted.params_, expected.params_, rtol=1e-8)


# -- utilities ---------------------------------------------------------------------------


def test_calibration_and_holdout_cohorts_and_tracking(
    log: pd.DataFrame, bgf: BetaGeoFitter
) -> None:
    args = ("customer", "date", "2024-08-01", "2024-10-27")
    expected = calibration_and_holdout_data(log, *args, freq="W")
    got = calibration_and_holdout_data(pl.from_pandas(log), *args, freq="W")
    assert isinstance(got, pl.DataFrame)
    assert got.columns[0] == "customer"  # the ids, first, under the log's name
    pd.testing.assert_frame_equal(
        got.to_pandas().set_index("customer"), expected, check_dtype=False, check_index_type=False
    )
    cohorts = cohort_table(pa.Table.from_pandas(log), "customer", "date")
    reference = cohort_table(log, "customer", "date")
    assert isinstance(cohorts.active, pa.Table) and isinstance(cohorts.churn_rate, pa.Table)
    assert cohorts.active.column_names[0] == "cohort"
    assert cohorts.active["cohort"].to_pylist() == [str(p) for p in reference.active.index]
    np.testing.assert_allclose(
        cohorts.retention.drop(["cohort"]).to_pandas().to_numpy(dtype=float),
        reference.retention.to_numpy(dtype=float),
    )
    cum = expected_cumulative_transactions(
        bgf, pl.from_pandas(log), "date", "customer", 30, freq="W"
    )
    ref = expected_cumulative_transactions(bgf, log, "date", "customer", 30, freq="W")
    assert isinstance(cum, pl.DataFrame)
    np.testing.assert_allclose(
        cum.select(ref.columns.tolist()).to_numpy(), ref.to_numpy(), rtol=1e-12
    )


def test_subscription_summary_from_polars() -> None:
    log = pd.DataFrame(
        {
            "customer": ["a", "b", "c"],
            "start": ["2024-01-15", "2024-02-01", "2024-03-31"],
            "end": ["2024-05-20", None, None],
        }
    )
    expected = subscription_summary(log, "customer", "start", "end", "2024-08-20", "M")
    got = subscription_summary(pl.from_pandas(log), "customer", "start", "end", "2024-08-20", "M")
    assert isinstance(got, pl.DataFrame)
    expected["cohort"] = expected["cohort"].astype(str)  # periods come as their text
    pd.testing.assert_frame_equal(
        got.to_pandas().set_index("customer"), expected, check_dtype=False
    )


def test_targeting_and_model_comparison(
    summary: pd.DataFrame, summary_pl: Any, summary_pa: Any, bgf: BetaGeoFitter
) -> None:
    expected = customer_table(bgf, None, summary[["frequency", "recency", "T"]], interval=False)
    table = customer_table(
        bgf, None, summary_pl.select("customer_id", "frequency", "recency", "T"), interval=False
    )
    assert isinstance(table, pl.DataFrame)
    assert table.columns[0] == "customer_id"
    pd.testing.assert_frame_equal(
        _to_pandas(table), expected, check_dtype=False, check_categorical=False
    )
    top = who_to_contact(table, n=5)
    assert isinstance(top, pl.DataFrame)
    assert top["customer_id"].to_list() == who_to_contact(expected, n=5).index.tolist()
    assert isinstance(segment_summary(table), pl.DataFrame)
    thresholds = SegmentThresholds()
    value = expected["clv"] if "clv" in expected else expected["expected_purchases"]
    p_alive = expected["p_alive"]
    segments = thresholds.segment(
        pl.Series("value", value.to_numpy()), pl.Series(p_alive.to_numpy())
    )
    assert isinstance(segments, pl.Series)
    assert (
        segments.to_list()
        == thresholds.segment(value.reset_index(drop=True), p_alive.reset_index(drop=True))
        .astype(str)
        .tolist()
    )
    assert thresholds.value_cutoff(pa.chunked_array([value.to_numpy()])) == pytest.approx(
        thresholds.value_cutoff(value)
    )
    models = {"bg": bgf, "pareto": ParetoNBDFitter().fit(summary)}
    compared = compare_models(models, calibration=summary_pa)
    reference = compare_models(models, calibration=summary)
    assert isinstance(compared, pa.Table)
    np.testing.assert_allclose(
        compared.drop([compared.column_names[0]]).to_pandas().to_numpy(dtype=float),
        reference.to_numpy(dtype=float),
        rtol=1e-10,
    )
    periods = period_transactions_table(bgf, max_frequency=5)
    assert isinstance(periods, pd.DataFrame)
    actual, fitted = (
        periods["actual"],
        periods["model"] if "model" in periods else periods.iloc[:, 1],
    )
    result = chi_square(pl.Series(actual.to_numpy()), pl.Series(fitted.to_numpy()), 4)
    assert result == chi_square(actual, fitted, 4)


def test_plotting_takes_native_data(
    log: pd.DataFrame, summary: pd.DataFrame, bgf: BetaGeoFitter
) -> None:
    import matplotlib.pyplot as plt

    holdout = calibration_and_holdout_data(
        log, "customer", "date", "2024-08-01", "2024-10-27", freq="W"
    )
    native = pl.from_pandas(holdout.reset_index())
    ax = plot_calibration_purchases_vs_holdout_purchases(bgf, native, n=4)
    reference = plot_calibration_purchases_vs_holdout_purchases(bgf, holdout, n=4)
    for line, expected in zip(ax.get_lines(), reference.get_lines()):
        np.testing.assert_allclose(line.get_ydata(), expected.get_ydata())
    assert ax.get_lines()
    ax = plot_period_transactions(bgf)
    assert ax is not None
    plt.close("all")
    matrix = probability_alive_matrix(bgf, max_frequency=5, max_recency=5)
    assert np.all((np.asarray(matrix) >= 0) & (np.asarray(matrix) <= 1))


# -- missing values, ids in errors, zero copy -------------------------------------------


def test_null_is_refused_like_nan(summary: pd.DataFrame) -> None:
    frame = summary[["frequency", "recency", "T"]].copy()
    frame.iloc[3, 1] = np.nan
    with pytest.raises(InvalidDataError) as pandas_error:
        BetaGeoFitter().fit(frame)
    with_null = pl.from_pandas(frame.reset_index(), nan_to_null=True)
    assert with_null["recency"].null_count() == 1
    with pytest.raises(InvalidDataError) as polars_error:
        BetaGeoFitter().fit(with_null)
    assert str(polars_error.value) == str(pandas_error.value)
    assert polars_error.value.column == pandas_error.value.column == "recency"
    assert polars_error.value.label == summary.index[3]
    arrow = pa.Table.from_pandas(frame.reset_index(), preserve_index=False)
    assert arrow["recency"].null_count == 1
    with pytest.raises(InvalidDataError) as arrow_error:
        BetaGeoFitter().fit(arrow)
    assert str(arrow_error.value) == str(pandas_error.value)
    # an integer column with a null: float64 NaN, the same error
    ints = pl.DataFrame(
        {"frequency": [1, None, 2], "recency": [1.0, 2.0, 3.0], "T": [4.0, 4.0, 4.0]}
    )
    with pytest.raises(InvalidDataError, match="frequency"):
        BetaGeoFitter().fit(ints)


def test_float64_columns_reach_the_core_without_a_copy() -> None:
    values = np.linspace(0.0, 5.0, 50)
    series = pl.Series("frequency", values)
    buffer = series.to_numpy()  # polars' own memory (read-only view)
    handed = _validation.prepare(frequency=_frames.to_pandas(series)).arrays[0]
    assert np.shares_memory(handed, buffer)
    native = pl.DataFrame({"customer_id": np.arange(50), "T": values, "x": values + 1})
    frame = _frames.to_pandas(native)
    handed = _validation.as_float_array(frame["T"], "T")
    assert np.shares_memory(handed, native["T"].to_numpy())
    chunked = pa.chunked_array([values])
    handed = _validation.as_float_array(_frames.to_pandas(chunked), "T")
    assert np.shares_memory(handed, chunked.chunk(0).to_numpy())
    # an integer column is converted (a copy, unavoidable)
    ints = _frames.to_pandas(pl.Series("x", np.arange(5)))
    assert _validation.as_float_array(ints, "x").dtype == np.float64


def test_arrow_tables_from_pandas_keep_the_pandas_index(summary: pd.DataFrame) -> None:
    ids = summary.set_axis(summary.index.rename("ID"))
    fitted = BetaGeoFitter().fit(pa.Table.from_pandas(ids))
    assert fitted.data.index.equals(ids.index) and fitted.data.index.name == "ID"
    labelled = summary.set_axis(pd.Index([f"c{i}" for i in range(len(summary))]))
    table = customer_table(fitted, None, pa.Table.from_pandas(labelled), interval=False)
    assert table.column_names[0] == "customer_id"  # an unnamed index: the default name
    assert table["customer_id"].to_pylist() == labelled.index.tolist()
    ranged = pa.Table.from_pandas(summary.reset_index(drop=True).set_axis(pd.RangeIndex(1, 601)))
    assert BetaGeoFitter().fit(ranged).data.index.equals(pd.RangeIndex(1, 601))


class _ArrowStream:
    """Any object that exports the Arrow PyCapsule stream interface."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self.table.__arrow_c_stream__(requested_schema)


def test_arrow_pycapsule_objects_are_read_with_pyarrow(
    summary: pd.DataFrame, summary_pa: Any, bgf: BetaGeoFitter
) -> None:
    fitted = BetaGeoFitter().fit(_ArrowStream(summary_pa))
    np.testing.assert_allclose(fitted.params_, bgf.params_, rtol=1e-10)
    table = customer_table(bgf, None, _ArrowStream(summary_pa), interval=False)
    assert isinstance(table, pa.Table)
    assert table.column_names[0] == "customer_id"
    assert table["customer_id"].to_pylist() == summary.index.tolist()


def test_pandas_and_plain_inputs_are_untouched(summary: pd.DataFrame, bgf: BetaGeoFitter) -> None:
    assert _frames.to_pandas(summary) is summary
    assert _frames.native_input(np.arange(3.0)) is None
    got = bgf.conditional_probability_alive(summary["frequency"], summary["recency"], summary["T"])
    assert isinstance(got, pd.Series) and got.index.equals(summary.index)
    assert isinstance(bgf.conditional_probability_alive(1, 2, 3), float)


def test_arrow_metadata_carries_the_time_unit(summary: pd.DataFrame) -> None:
    frame = summary.copy()
    frame.attrs["time_unit"] = "W"
    table = _frames.to_native(frame, _frames.Origin(_frames.nw.Implementation.PYARROW))
    assert table.schema.metadata[b"retentionkit.time_unit"] == b"W"
    assert BetaGeoFitter().fit(table).time_unit_ == "W"


@pytest.mark.filterwarnings("ignore:beta = .* is below")
def test_mbgcnbd_ggom_and_regularity_helpers(log: pd.DataFrame) -> None:
    truth = MBGCNBDkFitter(k=2)
    truth.params_ = {"r": 3.0, "alpha": 2.0, "a": 0.7, "b": 8.0}
    sim = truth.generate_new_data(size=400, seed=4, T=np.linspace(20, 40, 400))
    columns = ["frequency", "recency", "T", "litt"]
    expected = MBGCNBDkFitter(k=2).fit(sim[columns])
    fitted = MBGCNBDkFitter(k=2).fit(pl.from_pandas(sim[columns]).lazy())
    np.testing.assert_allclose(fitted.params_, expected.params_, rtol=1e-10)
    ggom = GompertzGammaNBDFitter().fit(pa.Table.from_pandas(sim[columns[:3]]))
    reference = GompertzGammaNBDFitter().fit(sim[columns[:3]])
    np.testing.assert_allclose(ggom.params_, reference.params_, rtol=1e-8)
    gaps = first_two_gaps(pl.from_pandas(log), "customer", "date")
    assert isinstance(gaps, pl.DataFrame)
    assert gaps.columns[0] == "customer"
    reference_gaps = first_two_gaps(log, "customer", "date")
    np.testing.assert_allclose(gaps.drop("customer").to_numpy(), reference_gaps.to_numpy())
    k, m = wheat_morrison_k(gaps[reference_gaps.columns[0]], gaps[reference_gaps.columns[1]])
    k_ref, _ = wheat_morrison_k(reference_gaps.iloc[:, 0], reference_gaps.iloc[:, 1])
    assert k == pytest.approx(k_ref) and isinstance(m, pl.Series)


def test_time_varying_fitter_reads_native_logs() -> None:
    rng = np.random.default_rng(0)
    rows, cov = [], []
    weeks = pd.date_range("2020-01-05", periods=40, freq="7D")
    for c in range(60):
        birth = pd.Timestamp("2020-01-05") + pd.Timedelta(days=int(rng.integers(0, 100)))
        rows.append((f"c{c}", birth))
        for _ in range(int(rng.integers(0, 6))):
            rows.append((f"c{c}", birth + pd.Timedelta(days=int(rng.integers(1, 200)))))
        for w in weeks:
            cov.append((f"c{c}", w, float(w.month in (6, 7, 8)), float(rng.normal())))
    log = pd.DataFrame(rows, columns=["id", "when"])
    covariates = pd.DataFrame(cov, columns=["id", "start", "season", "promo"])
    args = ("id", "when", "start", ["season", "promo"], ["season"], "2020-07-31")
    expected = TimeVaryingParetoNBDFitter().fit(log, covariates, *args)
    native_log, native_cov = pl.from_pandas(log), pa.Table.from_pandas(covariates)
    fitted = TimeVaryingParetoNBDFitter().fit(native_log, native_cov, *args)
    np.testing.assert_allclose(fitted.params_, expected.params_, rtol=1e-10)
