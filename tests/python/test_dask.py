"""retentionkit.dask: the distributed summary, fit and scores equal the single-machine ones.

Run on dask's local threaded scheduler (one test on the process pool, to check that
the fitted model travels to other processes).
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from transaction_logs import DATETIME_FORMAT, END, INVALID, INVALID_RULE, simulate_log, with_rows

from retentionkit import BetaGeoFitter, NotFittedError, ParetoNBDFitter
from retentionkit.utils import summary_data_from_transaction_data

dask = pytest.importorskip("dask", reason="retentionkit.dask needs dask[dataframe]")
dd = pytest.importorskip("dask.dataframe", reason="retentionkit.dask needs dask[dataframe]")

from retentionkit import dask as rkdask  # noqa: E402


@pytest.fixture(autouse=True)
def _threads():
    with dask.config.set(scheduler="threads", num_workers=2):
        yield


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return simulate_log(3000, seed=11)


@pytest.fixture(scope="module")
def log_ddf(log: pd.DataFrame):
    return dd.from_pandas(log, npartitions=6)


def test_log_spreads_customers_over_partitions(log_ddf) -> None:
    # The point of the shuffle: most repeat customers start out in several partitions.
    seen = [set(log_ddf.get_partition(i).compute()["customer"]) for i in range(log_ddf.npartitions)]
    in_two = set.union(*[a & b for i, a in enumerate(seen) for b in seen[i + 1 :]])
    assert len(in_two) > 500


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"monetary_value_col": "value"},
        {"monetary_value_col": "value", "include_first_transaction": True},
        {"freq": "W", "freq_multiplier": 1},
        {"freq": "h", "freq_multiplier": 24},
        {"observation_period_end": "2025-02-10 13:00"},
    ],
    ids=["days", "monetary", "first", "weeks", "hours", "end"],
)
def test_summary_equals_single_machine(log: pd.DataFrame, log_ddf, kwargs: dict) -> None:
    got = rkdask.summary_data_from_transaction_data(log_ddf, "customer", "when", **kwargs)
    expected = summary_data_from_transaction_data(log, "customer", "when", **kwargs)
    pd.testing.assert_frame_equal(got.compute().sort_index(), expected)


def test_summary_end_defaults_to_the_global_latest_transaction(log: pd.DataFrame, log_ddf) -> None:
    # Every partition must floor the same end: T of a customer alone in a partition
    # is still measured to the latest transaction of the whole log.
    got = rkdask.summary_data_from_transaction_data(log_ddf, "customer", "when").compute()
    last_day = log["when"].max().floor("D")
    first_day = log.groupby("customer")["when"].min().dt.floor("D")
    expected_T = ((last_day - first_day).dt.days).astype(float).rename("T")
    pd.testing.assert_series_equal(got["T"].sort_index(), expected_T, check_names=False)


def test_summary_of_string_ids_and_string_datetimes(log: pd.DataFrame) -> None:
    text = log.assign(
        customer="c" + log["customer"].astype(str),
        when=log["when"].dt.strftime("%Y-%m-%d %H:%M:%S"),
    )
    ddf = dd.from_pandas(text, npartitions=4)
    got = rkdask.summary_data_from_transaction_data(ddf, "customer", "when", "value")
    expected = summary_data_from_transaction_data(text, "customer", "when", "value")
    pd.testing.assert_frame_equal(got.compute().sort_index(), expected, check_index_type=False)


def test_summary_with_empty_partitions(log: pd.DataFrame) -> None:
    few = log[log["customer"] < 5]
    ddf = dd.from_pandas(few, npartitions=3).repartition(npartitions=12)
    got = rkdask.summary_data_from_transaction_data(ddf, "customer", "when", "value")
    expected = summary_data_from_transaction_data(few, "customer", "when", "value")
    pd.testing.assert_frame_equal(got.compute().sort_index(), expected)


def test_summary_without_shuffle_of_a_log_partitioned_by_customer(log: pd.DataFrame) -> None:
    by_customer = log.sort_values("customer").set_index("customer", drop=False)
    by_customer.index.name = None
    ddf = dd.from_pandas(by_customer, npartitions=5, sort=True)
    got = rkdask.summary_data_from_transaction_data(ddf, "customer", "when", shuffle=False)
    expected = summary_data_from_transaction_data(log, "customer", "when")
    pd.testing.assert_frame_equal(got.compute().sort_index(), expected)


def test_summary_errors(log: pd.DataFrame, log_ddf) -> None:
    with pytest.raises(ValueError, match="period frequency"):
        rkdask.summary_data_from_transaction_data(log_ddf, "customer", "when", freq="nope")
    early = rkdask.summary_data_from_transaction_data(
        log_ddf, "customer", "when", observation_period_end="2024-06-01"
    )
    with pytest.raises(ValueError, match="after the observation"):
        early.compute()
    empty = dd.from_pandas(log.iloc[:0], npartitions=1)
    with pytest.raises(ValueError, match="empty"):
        rkdask.summary_data_from_transaction_data(empty, "customer", "when")


# Not a format pandas can guess ("29092024 1956"): it must reach every part of the log.


@pytest.mark.parametrize("end", [None, "15012025 0930"], ids=["latest", "end"])
def test_summary_of_datetimes_in_a_format(log: pd.DataFrame, end: str | None) -> None:
    text = log.assign(when=log["when"].dt.strftime(DATETIME_FORMAT))
    ddf = dd.from_pandas(text, npartitions=4)
    got = rkdask.summary_data_from_transaction_data(
        ddf, "customer", "when", "value", DATETIME_FORMAT, end, freq="h"
    )
    expected = summary_data_from_transaction_data(
        text, "customer", "when", "value", DATETIME_FORMAT, end, freq="h"
    )
    pd.testing.assert_frame_equal(got.compute().sort_index(), expected)


def test_summary_drops_invalid_rows(log: pd.DataFrame) -> None:
    # "late"'s only transaction is after the end: its partition keeps no row at all.
    alone = {"customer": "late", "when": pd.Timestamp("2025-02-01"), "value": 1.0}
    dirty = with_rows(log, *INVALID.values(), alone)
    ddf = dd.from_pandas(dirty, npartitions=6)
    got = rkdask.summary_data_from_transaction_data(
        ddf, "customer", "when", "value", observation_period_end=END, drop_invalid=True
    )
    expected = summary_data_from_transaction_data(
        dirty, "customer", "when", "value", observation_period_end=END, drop_invalid=True
    )
    pd.testing.assert_frame_equal(got.compute().sort_index(), expected, check_index_type=False)
    assert "late" not in expected.index

    indexed = dirty.set_index("customer", drop=False).rename_axis(None)
    by_customer = dd.concat(
        [
            dd.from_pandas(indexed.drop(index="late"), npartitions=5, sort=True),
            dd.from_pandas(indexed.loc[["late"]], npartitions=1, sort=True),
        ]
    )
    last = by_customer.get_partition(by_customer.npartitions - 1).compute()
    assert set(last["customer"]) == {"late"}
    got = rkdask.summary_data_from_transaction_data(
        by_customer, "customer", "when", "value", None, END, drop_invalid=True, shuffle=False
    )
    pd.testing.assert_frame_equal(got.compute().sort_index(), expected, check_index_type=False)


@pytest.mark.parametrize("kind", list(INVALID))
def test_summary_refuses_invalid_rows(log: pd.DataFrame, kind: str) -> None:
    ddf = dd.from_pandas(with_rows(log, INVALID[kind]), npartitions=6)
    summary = rkdask.summary_data_from_transaction_data(
        ddf, "customer", "when", "value", observation_period_end=END
    )
    with pytest.raises(ValueError, match=f"invalid data: .*{INVALID_RULE[kind]}"):
        summary.compute()


def test_summary_end_defaults_to_the_latest_valid_transaction(log: pd.DataFrame) -> None:
    # The latest rows are dropped, so they must not set the end (T), as on one machine.
    dirty = with_rows(
        log,
        {"customer": "c4", "when": pd.Timestamp("2025-02-01"), "value": -1.0},
        {"customer": None, "when": pd.Timestamp("2025-02-02"), "value": 1.0},
    )
    ddf = dd.from_pandas(dirty, npartitions=6)
    got = rkdask.summary_data_from_transaction_data(
        ddf, "customer", "when", "value", drop_invalid=True
    )
    expected = summary_data_from_transaction_data(
        dirty, "customer", "when", "value", drop_invalid=True
    )
    pd.testing.assert_frame_equal(got.compute().sort_index(), expected, check_index_type=False)
    with pytest.raises(ValueError, match="no valid transaction is left"):
        rkdask.summary_data_from_transaction_data(
            dd.from_pandas(dirty.iloc[-2:], npartitions=1),
            "customer",
            "when",
            "value",
            drop_invalid=True,
        )


@pytest.fixture(scope="module")
def summaries(log: pd.DataFrame, log_ddf):
    summary = rkdask.summary_data_from_transaction_data(log_ddf, "customer", "when")
    return summary, summary_data_from_transaction_data(log, "customer", "when")


@pytest.mark.parametrize("fitter_class", [BetaGeoFitter, ParetoNBDFitter])
def test_fit_on_unique_rows_equals_fit_on_every_customer(summaries, fitter_class) -> None:
    summary, local = summaries
    fitted = rkdask.fit(fitter_class(), summary)
    reference = fitter_class().fit(local["frequency"], local["recency"], local["T"])
    assert len(fitted.data) < len(local)  # compressed
    assert fitted.data["weights"].sum() == len(local)
    assert fitted.n_customers_ == len(local)
    np.testing.assert_allclose(fitted.params_, reference.params_, rtol=1e-6)
    assert fitted.log_likelihood_ == pytest.approx(reference.log_likelihood_, rel=1e-10)


def test_fit_sums_a_weights_column(summaries) -> None:
    summary, local = summaries
    doubled = summary.assign(weights=2.0)
    fitted = rkdask.fit(BetaGeoFitter(), doubled, tol=1e-10)
    assert fitted.n_customers_ == 2 * len(local)


@pytest.fixture(scope="module")
def fitted(summaries) -> BetaGeoFitter:
    return rkdask.fit(BetaGeoFitter(), summaries[0])


def test_predict_equals_single_machine(summaries, fitted: BetaGeoFitter) -> None:
    summary, local = summaries
    p_alive = rkdask.predict(fitted, summary).compute().sort_index()
    expected = fitted.conditional_probability_alive(
        local["frequency"], local["recency"], local["T"]
    )
    pd.testing.assert_series_equal(p_alive, expected, check_names=False, rtol=0, atol=0)
    assert p_alive.name == "conditional_probability_alive"

    method = "conditional_expected_number_of_purchases_up_to_time"
    purchases = rkdask.predict(fitted, summary, method, t=30).compute().sort_index()
    expected = fitted.conditional_expected_number_of_purchases_up_to_time(
        30, local["frequency"], local["recency"], local["T"]
    )
    pd.testing.assert_series_equal(purchases, expected, check_names=False, rtol=0, atol=0)


def test_predict_ships_the_model_to_other_processes(summaries, fitted: BetaGeoFitter) -> None:
    summary, local = summaries
    scores = rkdask.predict(fitted, summary)
    with dask.config.set(scheduler="processes", num_workers=2):
        got = scores.compute().sort_index()
    expected = fitted.conditional_probability_alive(
        local["frequency"], local["recency"], local["T"]
    )
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())


def test_predict_errors(summaries) -> None:
    summary, _ = summaries
    with pytest.raises(NotFittedError):
        rkdask.predict(BetaGeoFitter(), summary)
    fitter = BetaGeoFitter()
    fitter.params_ = [0.25, 4.0, 0.8, 2.4]
    with pytest.raises(ValueError, match="no method 'p_alive'"):
        rkdask.predict(fitter, summary, "p_alive")


def test_missing_dask_is_a_clear_import_error(monkeypatch, log_ddf) -> None:
    monkeypatch.setitem(sys.modules, "dask.dataframe", None)
    with pytest.raises(ImportError, match=r"retentionkit\[dask\]"):
        rkdask.summary_data_from_transaction_data(log_ddf, "customer", "when")


@pytest.fixture(scope="module")
def summary_with_traits() -> pd.DataFrame:
    from retentionkit.datasets import load_cdnow_summary

    df = load_cdnow_summary().copy()
    rng = np.random.default_rng(3)
    df["early"] = (df["T"] > df["T"].median()).astype(float)
    df["noise"] = rng.normal(size=len(df))
    return df


@pytest.mark.parametrize("fitter_class", [BetaGeoFitter, ParetoNBDFitter])
def test_covariate_fit_through_partial_sums_equals_the_single_machine_fit(
    fitter_class, summary_with_traits: pd.DataFrame
) -> None:
    cols = {"purchase_covariate_cols": ["early", "noise"], "dropout_covariate_cols": ["early"]}
    single = fitter_class().fit(summary_with_traits, **cols)
    ddf = dd.from_pandas(summary_with_traits, npartitions=5)
    fitted = rkdask.fit(fitter_class(), ddf, **cols)
    assert fitted.data is None
    assert list(fitted.params_.index) == list(single.params_.index)
    np.testing.assert_allclose(fitted.params_, single.params_, rtol=1e-6, atol=1e-9)
    assert fitted.log_likelihood_ == pytest.approx(single.log_likelihood_, abs=1e-6)
    np.testing.assert_allclose(fitted.summary["se(coef)"], single.summary["se(coef)"], rtol=1e-5)
    # Scores on the partitions take each customer's traits from their columns.
    scored = rkdask.predict(fitted, ddf, "conditional_probability_alive").compute()
    expected = single.conditional_probability_alive()
    np.testing.assert_allclose(scored.sort_index(), np.asarray(expected), rtol=1e-9)


def test_categorical_traits_on_dask_equal_the_single_machine_fit(
    summary_with_traits: pd.DataFrame,
) -> None:
    """A text and a bool trait: their levels are collected before the partitions
    are encoded, with the pandas layer's dummies, names and base level (some
    partitions lack some levels)."""
    rng = np.random.default_rng(5)
    df = summary_with_traits.sort_values("T").assign(
        channel=rng.choice(["web", "email", "shop"], size=len(summary_with_traits)),
        vip=rng.random(len(summary_with_traits)) < 0.3,
    )
    df.loc[df.index[:500], "channel"] = "web"  # the first partition sees one level
    cols = {"purchase_covariate_cols": ["channel", "vip"], "dropout_covariate_cols": ["channel"]}
    single = BetaGeoFitter().fit(df, **cols)
    ddf = dd.from_pandas(df, npartitions=5, sort=False)
    fitted = rkdask.fit(BetaGeoFitter(), ddf, **cols)
    assert list(fitted.params_.index) == list(single.params_.index)
    assert "purchase:channel[shop]" in fitted.params_.index  # "email" is the base
    np.testing.assert_allclose(fitted.params_, single.params_, rtol=1e-6, atol=1e-9)
    assert fitted.log_likelihood_ == pytest.approx(single.log_likelihood_, abs=1e-6)
    np.testing.assert_allclose(fitted.summary["se(coef)"], single.summary["se(coef)"], rtol=1e-5)
    scored = rkdask.predict(fitted, ddf, "conditional_probability_alive").compute()
    expected = single.conditional_probability_alive()
    np.testing.assert_allclose(scored.loc[expected.index], np.asarray(expected), rtol=1e-9)
    with pytest.raises(ValueError, match=r"covariate 'channel' is constant"):
        rkdask.fit(BetaGeoFitter(), ddf.assign(channel="web"), purchase_covariate_cols=["channel"])
    with pytest.raises(ValueError, match=r"covariate 'channel' has a missing value"):
        rkdask.fit(
            BetaGeoFitter(),
            dd.from_pandas(df.assign(channel=df["channel"].where(df["T"] < 30)), npartitions=3),
            purchase_covariate_cols=["channel"],
        )


def test_summary_with_litt_equals_single_machine() -> None:
    log = simulate_log(600, seed=12)
    ddf = dd.from_pandas(log, npartitions=3)
    got = rkdask.summary_data_from_transaction_data(
        ddf, "customer", "when", "value", observation_period_end=END, include_litt=True
    )
    expected = summary_data_from_transaction_data(
        log, "customer", "when", "value", observation_period_end=END, include_litt=True
    )
    pd.testing.assert_frame_equal(got.compute().sort_index(), expected, check_dtype=False)
