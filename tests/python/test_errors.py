"""The exception contract: InvalidDataError and ConvergenceError carry where and
why as attributes (set from the Rust error's fields, not parsed from messages)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

import retentionkit
from retentionkit import (
    BetaGeoFitter,
    ConvergenceError,
    GammaGammaFitter,
    InvalidDataError,
    ShiftedBetaGeometricFitter,
    _core,
    utils,
)
from retentionkit._validation import invalid_data_error
from retentionkit.datasets import load_cdnow_summary
from retentionkit.utils import _Log, summary_data_from_transaction_data


def raised(call, *args, **kwargs) -> InvalidDataError:
    with pytest.raises(InvalidDataError) as info:
        call(*args, **kwargs)
    return info.value


def summary(**changes: tuple[int, float]) -> dict[str, pd.Series]:
    """Five valid (frequency, recency, T) rows, with ``column=(row, value)`` changed."""
    columns = {
        "frequency": [0.0, 1.0, 2.0, 3.0, 1.0],
        "recency": [0.0, 2.0, 4.0, 6.0, 1.0],
        "T": [10.0, 10.0, 10.0, 10.0, 10.0],
    }
    for name, (row, value) in changes.items():
        columns[name][row] = value
    return {name: pd.Series(values) for name, values in columns.items()}


def test_the_classes_are_value_errors_exported_from_the_package() -> None:
    assert issubclass(InvalidDataError, ValueError)
    assert issubclass(ConvergenceError, ValueError)
    assert retentionkit.InvalidDataError is _core.InvalidDataError is utils.InvalidDataError
    assert "InvalidDataError" in retentionkit.__all__
    for name in ("rule", "row", "label", "column", "cohort", "period"):
        assert getattr(InvalidDataError("raised from Python"), name) is None
    assert ConvergenceError("raised from Python").reason is None


def test_row_and_rule_of_a_core_error() -> None:
    err = raised(BetaGeoFitter().fit, **summary(recency=(2, 11.0)))
    assert err.row == 2
    assert err.rule == "recency must not exceed T"
    assert err.label is None  # default RangeIndex: no label, none in the message
    assert "index label" not in str(err)
    assert (err.cohort, err.period) == (None, None)
    assert str(err).startswith("invalid data: recency must not exceed T (first offending row: 2;")


def test_label_with_a_custom_index() -> None:
    data = summary(T=(3, -1.0))
    index = pd.Index(["c0", "c1", "c2", "c7", "c9"], name="customer")
    err = raised(BetaGeoFitter().fit, *(s.set_axis(index) for s in data.values()))
    assert (err.row, err.label, err.column) == (3, "c7", "T")
    assert str(err).endswith("[index label 'c7']")
    # Labels need not be strings, nor in order.
    numbers = pd.Index([40, 30, 20, 10, 0])
    err = raised(BetaGeoFitter().fit, *(s.set_axis(numbers) for s in data.values()))
    assert (err.row, err.label) == (3, 10)


@pytest.mark.parametrize(
    ("change", "column"),
    [
        ({"frequency": (1, -1.0)}, "frequency"),
        ({"frequency": (1, 1.5)}, "frequency"),
        ({"T": (4, -1.0)}, "T"),
        ({"recency": (4, np.nan)}, "recency"),  # finite rule on three columns: the bad one
        ({"T": (4, np.inf)}, "T"),
        ({"recency": (1, 11.0)}, "recency"),
        ({"recency": (0, 1.0)}, "recency"),  # recency must be 0 when frequency is 0
    ],
)
def test_column_of_a_summary_rule(change: dict[str, tuple[int, float]], column: str) -> None:
    err = raised(BetaGeoFitter().fit, **summary(**change))
    assert err.column == column, err
    assert err.row == next(iter(change.values()))[0]


def test_column_of_weights_spend_and_length() -> None:
    data = summary()
    weights = pd.Series([1.0, 1.0, -2.0, 1.0, 1.0])
    err = raised(BetaGeoFitter().fit, *data.values(), weights=weights)
    assert (err.column, err.row) == ("weights", 2)
    err = raised(GammaGammaFitter().fit, [1, 2, 3], [5.0, 0.0, 2.0])
    assert (err.column, err.row) == ("monetary_value", 1)
    x = np.array([1.0, 2.0])
    err = raised(_core.BetaGeoModel.fit, x, x, np.array([3.0]))
    assert (err.column, err.row, err.rule) == ("T", None, "all inputs must have the same length")


def test_core_and_python_rows_of_a_transaction_log() -> None:
    log = pd.DataFrame(
        {
            "id": ["a", "b", "a", "b"],
            "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-05", "2024-01-09"]),
            "value": [1.0, 2.0, 3.0, 4.0],
        },
        index=["t1", "t2", "t3", "t4"],
    )
    # Checked by the core (a transaction after the end), reported in the caller's terms.
    err = raised(
        summary_data_from_transaction_data, log, "id", "date", observation_period_end="2024-01-06"
    )
    assert (err.row, err.label, err.column) == (3, "t4", "date")
    assert err.rule == "transactions must not be after the observation end"
    # Checked by the Python layer (a missing amount).
    bad = log.assign(value=[1.0, 2.0, np.nan, 4.0])
    err = raised(summary_data_from_transaction_data, bad, "id", "date", "value")
    assert (err.row, err.label, err.column) == (2, "t3", "value")


def test_a_core_row_after_dropped_rows_is_the_callers_row() -> None:
    log = pd.DataFrame(
        {"id": list("abaab"), "date": pd.date_range("2024-01-01", periods=5), "value": 1.0},
        index=["t0", "t1", "t2", "t3", "t4"],
    )
    kept = _Log.read(log, "id", "date", "value", None)
    kept.keep(np.array([False, True, False, True, True]))  # the core sees t1, t3, t4
    core_error = invalid_data_error("invalid data: late", rule="late", row=1, column="times")
    with pytest.raises(InvalidDataError) as info, kept.rows_named():
        raise core_error
    assert (info.value.row, info.value.label, info.value.column) == (3, "t3", "date")


def test_cohort_and_period() -> None:
    cohorts = pd.DataFrame(
        {"2019": [100.0, 80.0, 60.0, 50.0], "2020": [200.0, 150.0, 160.0, 100.0]},
        index=pd.Index(["q0", "q1", "q2", "q3"], name="quarter"),
    )
    err = raised(ShiftedBetaGeometricFitter().fit, cohorts)
    assert (err.cohort, err.period, err.row) == (1, 2, 2)
    assert err.label == "q2"
    assert err.column is None
    assert str(err).endswith("[cohort '2020', period label 'q2']")
    # A default period index has no label; an empty cohort has no period.
    err = raised(ShiftedBetaGeometricFitter().fit, cohorts={"a": [100, 50], "b": [0, 0]})
    assert (err.cohort, err.period, err.label) == (1, 0, None)
    err = raised(_core.ShiftedBetaGeometricModel.fit_cohorts, [[100.0, 50.0], []])
    assert (err.cohort, err.period) == (1, None)
    # Records (durations) are rows, not cohorts.
    err = raised(ShiftedBetaGeometricFitter().fit, durations=[1, 0], churned=[True, False])
    assert (err.row, err.column, err.cohort, err.period) == (1, "durations", None, None)


def test_reason_of_a_convergence_error() -> None:
    with pytest.raises(ConvergenceError) as info:
        # Near the optimum (identified), but one Newton step short of the tolerance.
        start = [0.3, 5.0, 0.7, 2.0]
        BetaGeoFitter().fit(load_cdnow_summary(), initial_params=start, max_iterations=1)
    assert info.value.reason == "not converged"
    geometric = [2 ** (10 - t) for t in range(10)]
    with pytest.raises(ConvergenceError) as info:
        ShiftedBetaGeometricFitter().fit(geometric)
    assert info.value.reason == "not identified"


def test_errors_pickle_with_their_attributes() -> None:
    # Dask and Spark send a worker's exception to the client pickled.
    err = raised(BetaGeoFitter().fit, **summary(recency=(2, 11.0)))
    clone = pickle.loads(pickle.dumps(err))
    assert type(clone) is InvalidDataError
    assert (clone.row, clone.column, str(clone)) == (err.row, err.column, str(err))
