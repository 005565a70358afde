"""summary_data_from_transaction_data on polars and pyarrow logs (issue 17): computed in
Rust on the Arrow buffers, equal to the pandas route value for value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retentionkit import InvalidDataError, _arrow_summary
from retentionkit.utils import summary_data_from_transaction_data

pa = pytest.importorskip("pyarrow")
pl = pytest.importorskip("polars")


def _log(n: int = 600, seed: int = 1, customers: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2023-12-20T00:00:00", "s")
    seconds = rng.integers(0, 400 * 86_400, n)
    return pd.DataFrame(
        {
            "id": rng.integers(0, customers, n) * 7 + 3,
            "t": (start + seconds.astype("timedelta64[s]")).astype("datetime64[us]"),
            "value": rng.gamma(2.0, 10.0, n).round(2),
        }
    )


@pytest.fixture(autouse=True)
def _no_pandas_round_trip(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):
    """The Rust route must not convert to pandas (the tests that take the pandas route,
    named ``..._pandas_route``, opt out)."""
    if "pandas_route" in request.node.name:
        return

    def refuse(table):
        raise AssertionError("converted to pandas")

    monkeypatch.setattr(_arrow_summary, "_to_pandas", refuse)


def _as_pandas(summary) -> pd.DataFrame:
    frame = summary.to_pandas()
    return frame.set_index(frame.columns[0])


def _check(summary, expected: pd.DataFrame) -> None:
    got = _as_pandas(summary)
    assert list(got.columns) == list(expected.columns)
    assert got.index.tolist() == expected.index.tolist()
    for column in expected.columns:
        np.testing.assert_array_equal(got[column].to_numpy(), expected[column].to_numpy())


def _frames(log: pd.DataFrame):
    table = pa.Table.from_pandas(log, preserve_index=False)
    return {
        "pyarrow": table,
        "polars": pl.from_arrow(table),
        "lazy": pl.from_arrow(table).lazy(),
        "batch": pa.RecordBatch.from_pandas(log, preserve_index=False),
    }


@pytest.mark.parametrize("freq", ["D", "W", "h", "M", "Q", "Y", "min", "s"])
def test_every_frequency_equals_pandas(freq: str) -> None:
    log = _log()
    expected = summary_data_from_transaction_data(log, "id", "t", "value", freq=freq)
    for name, frame in _frames(log).items():
        summary = summary_data_from_transaction_data(frame, "id", "t", "value", freq=freq)
        assert type(summary).__module__.split(".")[0] == (
            "pyarrow" if name in ("pyarrow", "batch") else "polars"
        )
        _check(summary, expected)


@pytest.mark.parametrize(
    "options",
    [
        {"include_litt": True},
        {"include_first_transaction": True, "freq_multiplier": 7},
        {"observation_period_end": "2025-03-01", "freq": "W"},
        {
            "observation_period_end": pd.Timestamp("2025-03-01 13:00"),
            "freq": "h",
            "freq_multiplier": 24,
        },
    ],
)
def test_options_equal_pandas(options: dict) -> None:
    log = _log(seed=2)
    expected = summary_data_from_transaction_data(log, "id", "t", "value", **options)
    for frame in _frames(log).values():
        _check(summary_data_from_transaction_data(frame, "id", "t", "value", **options), expected)
    # Without values: no monetary_value column.
    expected = summary_data_from_transaction_data(log, "id", "t", **options)
    _check(
        summary_data_from_transaction_data(_frames(log)["polars"], "id", "t", **options), expected
    )


def test_id_types_and_orders() -> None:
    log = _log(seed=3)
    names = np.array(["zoë", "anna", "Émile", "bo", "a much longer customer name", ""])
    strings = log.assign(id=names[log["id"].to_numpy() % 6])
    expected = summary_data_from_transaction_data(strings, "id", "t", "value")
    # (without pandas' metadata, which would turn any id column back into text)
    table = pa.Table.from_pandas(strings, preserve_index=False).replace_schema_metadata(None)
    for frame in (
        table,
        table.cast(table.schema.set(0, pa.field("id", pa.large_string()))),
        table.cast(table.schema.set(0, pa.field("id", pa.string_view()))),
        pl.from_arrow(table),
    ):
        _check(summary_data_from_transaction_data(frame, "id", "t", "value"), expected)
    # Dictionary-encoded (categorical) ids: in the order of the categories, as pandas.
    encoded = table.set_column(0, "id", table.column("id").dictionary_encode())
    expected = summary_data_from_transaction_data(encoded.to_pandas(), "id", "t", "value")
    _check(summary_data_from_transaction_data(encoded, "id", "t", "value"), expected)
    categorical = pl.from_arrow(table).with_columns(pl.col("id").cast(pl.Categorical))
    summary = summary_data_from_transaction_data(categorical, "id", "t", "value")
    assert summary.schema["id"] == pl.Categorical
    expected = summary_data_from_transaction_data(categorical.to_pandas(), "id", "t", "value")
    _check(summary, expected)
    # Integer ids of every width, including uint64 beyond int64.
    for arrow_type in (pa.int8(), pa.uint16(), pa.int32(), pa.uint32(), pa.int64()):
        small = table.set_column(0, "id", pa.array(log["id"].to_numpy() % 100).cast(arrow_type))
        expected = summary_data_from_transaction_data(small.to_pandas(), "id", "t", "value")
        got = summary_data_from_transaction_data(small, "id", "t", "value")
        assert got.schema.field("id").type == arrow_type
        _check(got, expected)
    big = (log["id"].to_numpy().astype(np.uint64) * np.uint64(2**58)) + np.uint64(5)
    wide = table.set_column(0, "id", pa.array(big, pa.uint64()))
    expected = summary_data_from_transaction_data(wide.to_pandas(), "id", "t", "value")
    _check(summary_data_from_transaction_data(wide, "id", "t", "value"), expected)


def test_time_types_and_zones() -> None:
    log = _log(seed=4)
    table = pa.Table.from_pandas(log, preserve_index=False)
    times = table.column("t")
    for arrow_type in (
        pa.timestamp("s"),
        pa.timestamp("ms"),
        pa.timestamp("ns"),
        pa.timestamp("us", tz="UTC"),
        pa.timestamp("us", tz="+05:30"),
        pa.timestamp("ms", tz="-08:00"),
    ):
        typed = table.set_column(1, "t", times.cast(arrow_type))
        expected = summary_data_from_transaction_data(typed.to_pandas(), "id", "t", "value")
        _check(summary_data_from_transaction_data(typed, "id", "t", "value"), expected)
    for arrow_type in (pa.date32(), pa.date64()):
        typed = table.set_column(1, "t", times.cast(pa.timestamp("ms")).cast(arrow_type))
        expected = summary_data_from_transaction_data(typed.to_pandas(), "id", "t", "value")
        _check(
            summary_data_from_transaction_data(typed, "id", "t", "value", freq="W"),
            summary_data_from_transaction_data(typed.to_pandas(), "id", "t", "value", freq="W"),
        )
        _check(summary_data_from_transaction_data(typed, "id", "t", "value"), expected)
    # An aware observation end is compared as the same instant.
    aware = table.set_column(1, "t", times.cast(pa.timestamp("us", tz="+05:30")))
    end = pd.Timestamp("2025-02-01 03:00", tz="UTC")
    expected = summary_data_from_transaction_data(
        aware.to_pandas(), "id", "t", "value", observation_period_end=end, freq="h"
    )
    _check(
        summary_data_from_transaction_data(
            aware, "id", "t", "value", observation_period_end=end, freq="h"
        ),
        expected,
    )
    # Polars dates and datetimes.
    frame = pl.from_arrow(table).with_columns(pl.col("t").dt.date().alias("t"))
    expected = summary_data_from_transaction_data(frame.to_pandas(), "id", "t", "value")
    _check(summary_data_from_transaction_data(frame, "id", "t", "value"), expected)


def test_chunks_and_slices() -> None:
    log = _log(seed=5, n=900)
    table = pa.Table.from_pandas(log, preserve_index=False)
    chunked = pa.Table.from_batches(table.to_batches(max_chunksize=100))
    assert chunked.column("id").num_chunks == 9
    expected = summary_data_from_transaction_data(log, "id", "t", "value")
    _check(summary_data_from_transaction_data(chunked, "id", "t", "value"), expected)
    sliced = table.slice(123, 500)
    expected = summary_data_from_transaction_data(
        log.iloc[123:623].reset_index(drop=True), "id", "t", "value"
    )
    _check(summary_data_from_transaction_data(sliced, "id", "t", "value"), expected)
    frame = pl.concat(
        [pl.from_arrow(table.slice(0, 400)), pl.from_arrow(table.slice(400))], rechunk=False
    )
    assert frame.n_chunks() == 2
    _check(
        summary_data_from_transaction_data(frame, "id", "t", "value"),
        summary_data_from_transaction_data(log, "id", "t", "value"),
    )


@pytest.mark.parametrize("column", ["id", "t", "value"])
def test_nulls_named_by_the_pandas_route(column: str) -> None:
    log = _log(seed=6, n=50)
    table = pa.Table.from_pandas(log, preserve_index=False)
    values = table.column(column).to_pylist()
    values[17] = None
    values[30] = None
    broken = table.set_column(
        table.schema.get_field_index(column),
        column,
        pa.array(values, table.schema.field(column).type),
    )
    with pytest.raises(InvalidDataError) as expected:
        summary_data_from_transaction_data(broken.to_pandas(), "id", "t", "value")
    for frame in (broken, pl.from_arrow(broken)):
        with pytest.raises(InvalidDataError) as got:
            summary_data_from_transaction_data(frame, "id", "t", "value")
        assert str(got.value) == str(expected.value)
        assert (got.value.row, got.value.column) == (17, column)
        assert "first offending row: 17" in str(got.value)


def test_after_the_end_and_negative_values_named_by_the_pandas_route() -> None:
    log = _log(seed=7, n=50)
    frame = pl.from_pandas(log)
    with pytest.raises(InvalidDataError, match="after the observation end") as got:
        summary_data_from_transaction_data(
            frame, "id", "t", "value", observation_period_end="2024-01-01"
        )
    assert got.value.column == "t"
    negative = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 9).then(-1.0).otherwise(pl.col("value")).alias("value")
    )
    with pytest.raises(InvalidDataError, match="first offending row: 9") as got:
        summary_data_from_transaction_data(negative, "id", "t", "value")
    assert got.value.column == "value"


def test_empty_logs_and_missing_columns() -> None:
    log = _log(n=10)
    for frame in _frames(log.iloc[:0]).values():
        with pytest.raises(ValueError, match="the transaction log is empty"):
            summary_data_from_transaction_data(frame, "id", "t", "value")
    with pytest.raises(ValueError, match="datetime_col='when' is not a column of transactions"):
        summary_data_from_transaction_data(pl.from_pandas(log), "id", "when")


def test_what_rust_does_not_read_takes_the_pandas_route() -> None:
    log = _log(seed=8, n=80)
    table = pa.Table.from_pandas(log, preserve_index=False)
    cases = [
        ({"freq": "W-MON"}, table),
        (
            {"freq": "D"},
            table.set_column(1, "t", table.column("t").cast(pa.timestamp("us", tz="Europe/Paris"))),
        ),
        (
            {"datetime_format": "%Y-%m-%d"},
            table.set_column(1, "t", pa.array(log["t"].dt.strftime("%Y-%m-%d"))),
        ),
        ({"drop_invalid": True}, table),
        ({"freq": "D"}, table.set_column(0, "id", table.column("id").cast(pa.float64()))),
    ]
    for options, frame in cases:
        expected = summary_data_from_transaction_data(
            frame.to_pandas(), "id", "t", "value", **options
        )
        for typed in (frame, pl.from_arrow(frame)):
            _check(
                summary_data_from_transaction_data(typed, "id", "t", "value", **options), expected
            )


def test_datetime_before_1970_and_month_ends() -> None:
    times = pd.to_datetime(
        [
            "1969-12-31 23:59:59",
            "1970-01-01",
            "1968-02-29 12:00",
            "2000-02-29",
            "2000-03-01",
            "1999-12-31 23:00",
            "2024-12-29",
            "2024-12-30",
        ],
        format="ISO8601",
    )
    log = pd.DataFrame({"id": [1, 1, 2, 2, 2, 3, 3, 3], "t": times})
    for freq in ("D", "W", "M", "Q", "Y", "h"):
        expected = summary_data_from_transaction_data(log, "id", "t", freq=freq)
        _check(
            summary_data_from_transaction_data(pl.from_pandas(log), "id", "t", freq=freq), expected
        )


def test_null_category_named_by_the_pandas_route() -> None:
    ids = pa.DictionaryArray.from_arrays(pa.array([0, 0, 1, 0], pa.int32()), pa.array(["a", None]))
    times = pa.array(pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-04", "2024-01-05"]))
    table = pa.table({"id": ids, "t": times})
    # (pandas refuses a null category: the core's error, in the user's terms)
    with pytest.raises(InvalidDataError) as got:
        summary_data_from_transaction_data(table, "id", "t")
    assert str(got.value) == (
        "invalid data: the customer id is missing ('id'; first offending row: 2)"
    )
    assert (got.value.row, got.value.column) == (2, "id")
