"""retentionkit.spark: the Spark summary, fit and scores equal the single-machine ones.

One local Spark session (``local[2]``, session time zone UTC) for the module, on a
small log. Skipped, with the reason, when PySpark or Java 17+ is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from transaction_logs import DATETIME_FORMAT, END, INVALID, INVALID_RULE, simulate_log, with_rows

from retentionkit import BetaGeoFitter, NotFittedError
from retentionkit.utils import summary_data_from_transaction_data

pytest.importorskip("pyspark", reason="retentionkit.spark needs pyspark")

from retentionkit import spark as rkspark

# PySpark 4.3 warns about pandas 3 on every conversion; the results are checked here.
pytestmark = [
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]


def _java_problem() -> str | None:
    """Why Spark cannot start here (no java, or older than 17), or None."""
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if java is None or not os.path.exists(java):
        return f"PySpark needs Java 17 or later: no `java` ({java or 'not on PATH'})"
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"PySpark needs Java 17 or later: `java -version` failed ({exc})"
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if match is None:
        return f"PySpark needs Java 17 or later: cannot read `java -version`: {out.stderr!r}"
    major = int(match.group(1)) if match.group(1) != "1" else int(match.group(2) or 0)
    if major < 17:
        return f"PySpark needs Java 17 or later, found Java {major}"
    return None


@pytest.fixture(scope="module")
def spark():
    problem = _java_problem()
    if problem is not None:
        pytest.skip(problem)
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("retentionkit-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.pyspark.python", sys.executable)
        .config("spark.pyspark.driver.python", sys.executable)
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return simulate_log(1500, seed=5)


@pytest.fixture(scope="module")
def log_sdf(spark, log: pd.DataFrame):
    return spark.createDataFrame(log).repartition(3).cache()


def _local(sdf, customer_id_col: str = "customer") -> pd.DataFrame:
    return sdf.toPandas().set_index(customer_id_col).sort_index()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"monetary_value_col": "value"},
        {"freq": "W", "include_first_transaction": True},
        {"freq": "h", "freq_multiplier": 24, "observation_period_end": "2025-01-03 10:30"},
    ],
    ids=["days-monetary", "weeks-first", "hours-end"],
)
def test_summary_equals_single_machine(log: pd.DataFrame, log_sdf, kwargs: dict) -> None:
    got = rkspark.summary_data_from_transaction_data(log_sdf, "customer", "when", **kwargs)
    expected = summary_data_from_transaction_data(log, "customer", "when", **kwargs)
    pd.testing.assert_frame_equal(_local(got), expected)


def test_summary_of_string_ids(spark, log: pd.DataFrame) -> None:
    text = log.assign(customer="c" + log["customer"].astype(str))
    sdf = spark.createDataFrame(text)
    got = rkspark.summary_data_from_transaction_data(sdf, "customer", "when", n_buckets=3)
    expected = summary_data_from_transaction_data(text, "customer", "when")
    pd.testing.assert_frame_equal(_local(got), expected, check_index_type=False)


def test_summary_errors(spark, log: pd.DataFrame, log_sdf) -> None:
    with pytest.raises(ValueError, match="period frequency"):
        rkspark.summary_data_from_transaction_data(log_sdf, "customer", "when", freq="nope")
    strings = log_sdf.withColumn("when", log_sdf["when"].cast("string"))
    with pytest.raises(TypeError, match="to_timestamp"):
        rkspark.summary_data_from_transaction_data(strings, "customer", "when")
    with pytest.raises(ValueError, match="empty"):
        rkspark.summary_data_from_transaction_data(log_sdf.limit(0), "customer", "when")


# Not a format pandas can guess ("29092024 1956"): it must reach every part of the log.


@pytest.mark.parametrize("end", [None, "15012025 0930"], ids=["latest", "end"])
def test_summary_of_datetimes_in_a_format(spark, log: pd.DataFrame, end: str | None) -> None:
    text = log.assign(when=log["when"].dt.strftime(DATETIME_FORMAT))
    sdf = spark.createDataFrame(text)
    got = rkspark.summary_data_from_transaction_data(
        sdf, "customer", "when", "value", DATETIME_FORMAT, end, freq="h"
    )
    expected = summary_data_from_transaction_data(
        text, "customer", "when", "value", DATETIME_FORMAT, end, freq="h"
    )
    pd.testing.assert_frame_equal(_local(got), expected)


def test_summary_drops_invalid_rows(spark, log: pd.DataFrame) -> None:
    from pyspark.sql import functions

    alone = {"customer": "late", "when": pd.Timestamp("2025-02-01"), "value": 1.0}
    dirty = with_rows(log, *INVALID.values(), alone)
    sdf = spark.createDataFrame(dirty)
    expected = summary_data_from_transaction_data(
        dirty, "customer", "when", "value", observation_period_end=END, drop_invalid=True
    )
    assert "late" not in expected.index
    # With 10_000 buckets "late", whose only transaction is after the end, has a
    # bucket of its own (as retentionkit.spark hashes): a bucket left without rows.
    bucket = functions.pmod(functions.hash("customer"), functions.lit(10_000))
    buckets = sdf.select("customer", bucket.alias("bucket")).distinct().toPandas()
    own = buckets.loc[buckets["customer"] == "late", "bucket"].item()
    assert buckets.loc[buckets["bucket"] == own, "customer"].tolist() == ["late"]
    for n_buckets in (3, 10_000):
        got = rkspark.summary_data_from_transaction_data(
            sdf,
            "customer",
            "when",
            "value",
            observation_period_end=END,
            drop_invalid=True,
            n_buckets=n_buckets,
        )
        pd.testing.assert_frame_equal(_local(got), expected, check_index_type=False)


@pytest.mark.parametrize("kind", list(INVALID))
def test_summary_refuses_invalid_rows(spark, log: pd.DataFrame, kind: str) -> None:
    from pyspark.errors import PythonException

    sdf = spark.createDataFrame(with_rows(log, INVALID[kind]))
    summary = rkspark.summary_data_from_transaction_data(
        sdf, "customer", "when", "value", observation_period_end=END
    )
    # Spark reports the InvalidDataError (a ValueError) of the executor as a
    # PythonException.
    invalid = f"InvalidDataError: invalid data: .*{INVALID_RULE[kind]}"
    with pytest.raises(PythonException, match=invalid):
        summary.collect()


def test_summary_end_defaults_to_the_latest_valid_transaction(spark, log: pd.DataFrame) -> None:
    # The latest rows are dropped, so they must not set the end (T), as on one machine.
    dirty = with_rows(
        log,
        {"customer": "c4", "when": pd.Timestamp("2025-02-01"), "value": -1.0},
        {"customer": None, "when": pd.Timestamp("2025-02-02"), "value": 1.0},
    )
    sdf = spark.createDataFrame(dirty)
    got = rkspark.summary_data_from_transaction_data(
        sdf, "customer", "when", "value", drop_invalid=True
    )
    expected = summary_data_from_transaction_data(
        dirty, "customer", "when", "value", drop_invalid=True
    )
    pd.testing.assert_frame_equal(_local(got), expected, check_index_type=False)
    with pytest.raises(ValueError, match="no valid transaction is left"):
        rkspark.summary_data_from_transaction_data(
            spark.createDataFrame(dirty.iloc[-2:]),
            "customer",
            "when",
            "value",
            drop_invalid=True,
        )


@pytest.fixture(scope="module")
def summaries(log: pd.DataFrame, log_sdf):
    summary = rkspark.summary_data_from_transaction_data(log_sdf, "customer", "when").cache()
    return summary, summary_data_from_transaction_data(log, "customer", "when")


def test_fit_and_predict_equal_single_machine(summaries) -> None:
    summary, local = summaries
    fitted = rkspark.fit(BetaGeoFitter(), summary)
    reference = BetaGeoFitter().fit(local["frequency"], local["recency"], local["T"])
    assert len(fitted.data) < len(local)
    assert fitted.n_customers_ == len(local)
    np.testing.assert_allclose(fitted.params_, reference.params_, rtol=1e-6)
    assert fitted.log_likelihood_ == pytest.approx(reference.log_likelihood_, rel=1e-10)

    scored = rkspark.predict(fitted, summary, output_col="p_alive")
    scored = rkspark.predict(
        fitted, scored, "conditional_expected_number_of_purchases_up_to_time", t=30
    )
    got = _local(scored)
    expected = fitted.conditional_probability_alive(
        local["frequency"], local["recency"], local["T"]
    )
    np.testing.assert_array_equal(got["p_alive"].to_numpy(), expected.to_numpy())
    expected = fitted.conditional_expected_number_of_purchases_up_to_time(
        30, local["frequency"], local["recency"], local["T"]
    )
    np.testing.assert_array_equal(
        got["conditional_expected_number_of_purchases_up_to_time"].to_numpy(),
        expected.to_numpy(),
    )


def test_fit_and_predict_with_new_customers(spark, summaries) -> None:
    """Customers first seen at the end of observation (T = 0) change no fit and are
    scored like new customers."""
    _, local = summaries
    new = pd.DataFrame(0.0, index=pd.Index([-1, -2], name=local.index.name), columns=local.columns)
    extended = spark.createDataFrame(pd.concat([local, new]).reset_index())
    fitted = rkspark.fit(BetaGeoFitter(), extended)
    reference = BetaGeoFitter().fit(local["frequency"], local["recency"], local["T"])
    np.testing.assert_allclose(fitted.params_, reference.params_, rtol=1e-10)
    scored = _local(rkspark.predict(fitted, extended, output_col="p_alive"))
    assert (scored.loc[[-2, -1], "p_alive"] == 1.0).all()


def test_predict_errors(summaries) -> None:
    summary, _ = summaries
    with pytest.raises(NotFittedError):
        rkspark.predict(BetaGeoFitter(), summary)
    fitter = BetaGeoFitter()
    fitter.params_ = [0.25, 4.0, 0.8, 2.4]
    with pytest.raises(ValueError, match="already has a column 'frequency'"):
        rkspark.predict(fitter, summary, output_col="frequency")


def test_missing_pyspark_is_a_clear_import_error(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(ImportError, match=r"retentionkit\[spark\]"):
        rkspark.fit(BetaGeoFitter(), None)


def test_covariate_fit_through_partial_sums_equals_the_single_machine_fit(spark) -> None:
    from retentionkit.datasets import load_cdnow_summary

    df = load_cdnow_summary().copy()
    df["early"] = (df["T"] > df["T"].median()).astype(float)
    df["noise"] = np.random.default_rng(3).normal(size=len(df))
    cols = {"purchase_covariate_cols": ["early", "noise"], "dropout_covariate_cols": ["early"]}
    single = BetaGeoFitter().fit(df, **cols)
    sdf = spark.createDataFrame(df.reset_index()).repartition(3).cache()
    fitted = rkspark.fit(BetaGeoFitter(), sdf, **cols)
    assert fitted.data is None
    np.testing.assert_allclose(fitted.params_, single.params_, rtol=1e-6, atol=1e-9)
    assert fitted.log_likelihood_ == pytest.approx(single.log_likelihood_, abs=1e-6)
    scored = rkspark.predict(fitted, sdf).toPandas().set_index("ID").sort_index()
    expected = single.conditional_probability_alive()
    np.testing.assert_allclose(
        scored["conditional_probability_alive"], np.asarray(expected), rtol=1e-9
    )
    # A text and a bool trait: the levels are collected before the partitions
    # are encoded, with the pandas layer's dummies, names and base level.
    rng = np.random.default_rng(5)
    traits = df.assign(
        channel=rng.choice(["web", "email", "shop"], size=len(df)),
        vip=rng.random(len(df)) < 0.3,
    )
    cols = {"purchase_covariate_cols": ["channel", "vip"], "dropout_covariate_cols": ["channel"]}
    single = BetaGeoFitter().fit(traits, **cols)
    sdf = spark.createDataFrame(traits.reset_index()).repartition(3).cache()
    fitted = rkspark.fit(BetaGeoFitter(), sdf, **cols)
    assert list(fitted.params_.index) == list(single.params_.index)
    np.testing.assert_allclose(fitted.params_, single.params_, rtol=1e-6, atol=1e-9)
    assert fitted.log_likelihood_ == pytest.approx(single.log_likelihood_, abs=1e-6)
    scored = rkspark.predict(fitted, sdf).toPandas().set_index("ID").sort_index()
    np.testing.assert_allclose(
        scored["conditional_probability_alive"],
        np.asarray(single.conditional_probability_alive()),
        rtol=1e-9,
    )
    with pytest.raises(ValueError, match=r"'when' is neither numeric nor categorical"):
        rkspark.fit(
            BetaGeoFitter(),
            sdf.withColumn("when", sdf["ID"].cast("timestamp")),
            purchase_covariate_cols=["when"],
        )


def test_summary_with_litt_equals_single_machine(log: pd.DataFrame, log_sdf) -> None:
    got = rkspark.summary_data_from_transaction_data(
        log_sdf, "customer", "when", observation_period_end=END, include_litt=True, n_buckets=3
    )
    expected = summary_data_from_transaction_data(
        log, "customer", "when", observation_period_end=END, include_litt=True
    )
    pd.testing.assert_frame_equal(_local(got), expected, check_dtype=False, check_index_type=False)
