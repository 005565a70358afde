"""``summary_data_from_transaction_data`` on a polars or pyarrow log, in Rust on the
Arrow buffers (no pandas round trip).

The log's id, datetime (and value) columns are exported through the Arrow PyCapsule
interface (``__arrow_c_stream__``, which polars and pyarrow both implement) and read by
``_core.summarize_arrow_stream`` (``src/data/arrow_summary.rs``): ids factorised in the
order the pandas route gives them, datetimes turned into pandas period ordinals, then
the same Rust summary as the pandas route, so both return the same numbers. The result
comes back in the caller's library (polars in, polars out; pyarrow in, a pyarrow Table
out), the customer id column first, in its own type.

The pandas route is taken instead (the log converted with ``to_pandas()``) where the Rust
route would have to reimplement pandas: ``drop_invalid=True``, ``datetime_format`` or
datetimes stored as strings, a time zone with daylight-saving rules (only naive, UTC and
fixed-offset datetimes are read in Rust: named zones need the tz database), a ``freq``
other than s, min, h, D, W (W-SUN), M, Q (Q-DEC) and Y (Y-DEC), and id or value types
other than integers, strings and dictionary-encoded strings (ids) or numbers (values).
A log with a bad row (a missing id, datetime or value; a transaction after the
observation end; a negative value) is also passed to the pandas route, which raises the
same error, naming the column and the row (counted from 0, as the user counts rows of a
polars or pyarrow frame) with its values, as it does for a pandas log.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Callable

import numpy as np
import pandas as pd

from . import _core
from ._core import InvalidDataError
from ._validation import plain

#: The pandas period frequencies the Rust route computes (by the period dtype's name).
_RUST_PERIODS = frozenset(
    {
        "period[s]",
        "period[min]",
        "period[h]",
        "period[D]",
        "period[W-SUN]",
        "period[M]",
        "period[Q-DEC]",
        "period[Y-DEC]",
    }
)

_FIXED_OFFSET = re.compile(r"^([+-])(\d\d):(\d\d)$")


def frame_library(transactions: Any) -> str | None:
    """ "polars" for a polars DataFrame or LazyFrame, "pyarrow" for a pyarrow Table or
    RecordBatch, None otherwise (checked by type name: neither library is imported)."""
    kind = type(transactions)
    module = kind.__module__.split(".")[0]
    if module == "polars" and kind.__name__ in ("DataFrame", "LazyFrame"):
        return "polars"
    if module == "pyarrow" and kind.__name__ in ("Table", "RecordBatch"):
        return "pyarrow"
    return None


def _column_names(transactions: Any, library: str) -> list[str]:
    if library == "polars" and type(transactions).__name__ == "LazyFrame":
        return list(transactions.collect_schema().names())
    if library == "polars":
        return list(transactions.columns)
    return list(transactions.schema.names)


def _select(transactions: Any, library: str, arguments: dict[str, str]) -> Any:
    """The log's columns of ``arguments`` (argument -> column), in that order, as a
    polars DataFrame or a pyarrow Table; a missing column is refused with the pandas
    route's message."""
    names = _column_names(transactions, library)
    for argument, column in arguments.items():
        if column not in names:
            present = ", ".join(plain(c) for c in names)
            raise ValueError(
                f"{argument}={plain(column)} is not a column of transactions; "
                f"its columns are {present}"
            )
    columns = list(arguments.values())
    if library == "polars":
        selected = transactions.select(columns)
        return selected.collect() if type(selected).__name__ == "LazyFrame" else selected
    import pyarrow as pa  # type: ignore[import-untyped,import-not-found,unused-ignore]

    if isinstance(transactions, pa.RecordBatch):
        transactions = pa.Table.from_batches([transactions])
    return transactions.select(columns)


def _time_zone(table: Any, library: str, column: str) -> tuple[bool, Any]:
    """(whether the Rust route reads the datetime column, its time zone as pandas takes
    it: None when naive)."""
    if library == "polars":
        import polars as pl  # type: ignore[import-untyped,import-not-found,unused-ignore]

        dtype = table.schema[column]
        if isinstance(dtype, pl.Date):
            return True, None
        if not isinstance(dtype, pl.Datetime):
            return False, None
        tz = dtype.time_zone
    else:
        import pyarrow as pa  # type: ignore[import-untyped,import-not-found,unused-ignore]

        arrow_type = table.schema.field(column).type
        if pa.types.is_date(arrow_type):
            return True, None
        if not pa.types.is_timestamp(arrow_type):
            return False, None
        tz = arrow_type.tz
    if tz is None:
        return True, None
    if tz in ("UTC", "Etc/UTC"):
        return True, "UTC"
    match = _FIXED_OFFSET.match(tz)
    if match is None:
        return False, tz  # a named zone: its offsets need the tz database
    sign = -1 if match.group(1) == "-" else 1
    offset = _dt.timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
    return True, _dt.timezone(sign * offset)


def _in_user_terms(exc: InvalidDataError, arguments: dict[str, str]) -> InvalidDataError:
    """The core's error on a row of the Arrow log, with the user's column name (for a
    log the pandas route cannot take to name it itself)."""
    columns = {
        "customers": "customer_id_col",
        "times": "datetime_col",
        "amounts": "monetary_value_col",
    }
    column = arguments.get(columns.get(exc.column or "", ""), exc.column)
    rule = exc.rule or str(exc)
    exc.args = (f"invalid data: {rule} ({plain(column)}; first offending row: {exc.row})",)
    exc.column = column
    return exc


def _to_pandas(table: Any) -> pd.DataFrame:
    return table.to_pandas()


def _from_pandas(summary: pd.DataFrame, library: str) -> Any:
    frame = summary.reset_index()
    if library == "polars":
        import polars as pl  # type: ignore[import-untyped,import-not-found,unused-ignore]

        return pl.from_pandas(frame)
    import pyarrow as pa  # type: ignore[import-untyped,import-not-found,unused-ignore]

    return pa.Table.from_pandas(frame, preserve_index=False)


def summarize(
    transactions: Any,
    library: str,
    customer_id_col: str,
    datetime_col: str,
    monetary_value_col: str | None,
    datetime_format: str | None,
    observation_period_end: Any,
    freq: str,
    freq_multiplier: float,
    include_first_transaction: bool,
    drop_invalid: bool,
    include_litt: bool,
    pandas_summary: Callable[..., pd.DataFrame],
) -> Any:
    """``summary_data_from_transaction_data`` of a polars or pyarrow log (see the module
    docstring); ``pandas_summary`` is the pandas route."""
    from . import utils

    arguments = {"customer_id_col": customer_id_col, "datetime_col": datetime_col}
    if monetary_value_col is not None:
        arguments["monetary_value_col"] = monetary_value_col
    table = _select(transactions, library, arguments)

    def via_pandas() -> Any:
        summary = pandas_summary(
            _to_pandas(table),
            customer_id_col,
            datetime_col,
            monetary_value_col,
            datetime_format,
            observation_period_end,
            freq,
            freq_multiplier,
            include_first_transaction,
            drop_invalid=drop_invalid,
            include_litt=include_litt,
        )
        return _from_pandas(summary, library)

    if (table.num_rows if library == "pyarrow" else table.height) == 0:
        raise ValueError("the transaction log is empty")
    dtype = utils._period_dtype(freq)
    readable, tz = _time_zone(table, library, datetime_col)
    if (
        drop_invalid
        or datetime_format is not None
        or not readable
        or str(dtype) not in _RUST_PERIODS
    ):
        # Dropping rows, parsing strings, named time zones and the other pandas
        # frequencies are the pandas route's (see the module docstring).
        return via_pandas()
    end_ordinal = None
    if observation_period_end is not None:
        end = utils._to_datetime(observation_period_end, None, "observation_period_end")
        end = utils._in_log_time(end, tz, "observation_period_end")
        end_ordinal = utils._period_ordinal(end, freq)
    try:
        first, x, t_x, age, monetary, litt = _core.summarize_arrow_stream(
            table.__arrow_c_stream__(),
            str(dtype),
            end_ordinal,
            has_amounts=monetary_value_col is not None,
            freq_multiplier=float(freq_multiplier),
            include_first_transaction=include_first_transaction,
            include_litt=include_litt,
        )
    except NotImplementedError:
        return via_pandas()  # an id or value type the Rust route does not read
    except InvalidDataError as exc:
        # The pandas route names the row, its column and values as for a pandas log.
        try:
            via_pandas()
        except InvalidDataError:
            raise
        except Exception:  # pandas cannot take the log (e.g. a null category)
            pass
        raise _in_user_terms(exc, arguments) from None
    rows = first.astype(np.int64, copy=False)
    columns: dict[str, Any] = {"frequency": x, "recency": t_x, "T": age}
    if monetary is not None:
        columns["monetary_value"] = monetary
    if litt is not None:
        columns["litt"] = litt
    if library == "polars":
        import polars as pl  # type: ignore[import-untyped,import-not-found,unused-ignore]

        ids = table.get_column(customer_id_col).gather(rows)
        return pl.DataFrame([ids, *(pl.Series(k, v) for k, v in columns.items())])
    import pyarrow as pa  # type: ignore[import-untyped,import-not-found,unused-ignore]

    column = table.column(customer_id_col)
    try:
        ids = column.take(pa.array(rows))
    except pa.ArrowNotImplementedError:  # no take kernel for string_view in some versions
        ids = column.cast(pa.large_string()).take(pa.array(rows)).cast(column.type)
    return pa.table({customer_id_col: ids, **columns})
