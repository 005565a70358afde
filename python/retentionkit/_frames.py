"""polars and pyarrow in, the same library out: the adapter at the public entry points.

The pandas layer (:mod:`retentionkit._validation`, the fitters, the utilities) works on
pandas objects and numpy arrays. This module lets every public function and fitter
method take polars (``DataFrame``, ``Series``, ``LazyFrame``, collected first) and
pyarrow (``Table``, ``RecordBatch``, ``ChunkedArray``, ``Array``) objects as well, and
any object that exports the Arrow PyCapsule stream interface (read with pyarrow). It
works in three steps, each one function:

1. :func:`native_input` recognises such an object, through `narwhals
   <https://narwhals-dev.github.io/narwhals/>`_ (no test of each library's types here
   beyond pyarrow's ``Array``/``RecordBatch``, which narwhals does not take);
2. :func:`to_pandas` turns it into the pandas object the existing code takes, column
   by column: a float64 column without nulls becomes a pandas column that *shares the
   memory* of the polars/Arrow buffer (numpy view, no copy), which the validation
   hands to the core as it is (so such a column reaches Rust without a copy); other
   columns are converted (an integer column becomes int64, and later float64: a copy;
   a column with nulls is copied with the nulls as NaN, so that they are refused as
   missing values exactly like NaN in pandas; a pyarrow column of several chunks is
   joined: a copy);
3. :func:`to_native` turns each pandas result back into the caller's library.

**The customer id.** polars and pyarrow frames have no index: the customer id is a
column. In a frame given to a function that reads histories, covariates or a
customer table (``fit(df)``, ``customer_table(...)``, ``purchase_covariates=``...),
the column named :data:`ID_COLUMN` (``"customer_id"``) holds the ids: it becomes the
pandas index (so errors name the customer, covariates are aligned on it, and the
results keep it); any other column name is an ordinary column. A pyarrow table made
from a pandas frame (``pa.Table.from_pandas``) gets that frame's index back, as pandas
metadata records it, unless it has a ``customer_id`` column. A function that takes
a ``customer_id_col`` argument (a transaction or subscription log) reads the ids from
that column itself and the frame is passed as it is. In results, a pandas index that
is not the default 0..n-1 becomes the *first column*, named like the index (or
``customer_id`` when unnamed): a Series indexed by customer becomes a two-column
frame (id, values); a Series on the default index becomes a polars Series or a
pyarrow ``ChunkedArray`` (an ``Array`` when an ``Array`` was given). Periods (cohort
tables) become their text (``"2024-01"``).

The result follows the first polars/pyarrow argument of the call; a call without one
(for instance a prediction on the fitted data) returns pandas, as before. What a
fitter keeps (``data``, ``params_``, ``summary``) stays pandas.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import narwhals as nw
import numpy as np
import pandas as pd

__all__ = [
    "ID_COLUMN",
    "Origin",
    "accept_frames_in_methods",
    "accept_frames_in_module",
    "accepts_frames",
    "native_input",
    "to_native",
    "to_pandas",
]

#: The column of a polars/pyarrow frame that holds the customer ids.
ID_COLUMN = "customer_id"

#: Prefix of the pyarrow schema metadata keys that carry a pandas frame's ``attrs``
#: (such as ``time_unit``) through a pyarrow table and back.
_META_PREFIX = "retentionkit."

_SUPPORTED = frozenset({nw.Implementation.POLARS, nw.Implementation.PYARROW})
#: Modules whose objects never need a look: the fast path of every call.
_PLAIN_MODULES = frozenset({"builtins", "numpy", "pandas", "retentionkit"})

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Origin:
    """Where an input came from: the library results go back to."""

    implementation: nw.Implementation
    #: A pyarrow ``Array`` was given (a one-dimensional result is then an ``Array``).
    arrow_array: bool = False


def _pyarrow() -> Any:
    """The pyarrow module (optional: ``retentionkit[arrow]``; it has no type stubs)."""
    return importlib.import_module("pyarrow")


def native_input(value: Any) -> tuple[Any, Origin] | None:
    """``value`` as an eager narwhals DataFrame or Series, with its origin; None when
    it is not a polars/pyarrow (or Arrow PyCapsule) object, pandas included."""
    module = type(value).__module__.partition(".")[0]
    if module in _PLAIN_MODULES or value is None:
        return None
    arrow_array = False
    if module == "pyarrow":
        pa = _pyarrow()
        if isinstance(value, pa.Array):
            value, arrow_array = pa.chunked_array([value]), True
        elif isinstance(value, pa.RecordBatch):
            value = pa.Table.from_batches([value])
    elif module not in ("polars", "narwhals") and hasattr(value, "__arrow_c_stream__"):
        try:
            value = _pyarrow().table(value)
        except ImportError:  # pragma: no cover - nothing to read it with
            return None
    wrapped = nw.from_native(value, pass_through=True, allow_series=True)
    if wrapped is value:
        return None
    if getattr(wrapped, "implementation", None) not in _SUPPORTED:
        return None  # pandas, and libraries with their own path (Dask, Spark)
    if isinstance(wrapped, nw.LazyFrame):
        wrapped = wrapped.collect()
    if not isinstance(wrapped, (nw.DataFrame, nw.Series)):
        return None
    return wrapped, Origin(wrapped.implementation, arrow_array)


def _column(series: Any) -> Any:
    """One narwhals column as numpy values: a view of a float64 column without nulls
    (polars, and single-chunk pyarrow), otherwise converted, nulls as NaN (numeric) or
    None (text, flags)."""
    values = series.to_numpy()
    dtype = series.dtype
    if isinstance(dtype, nw.Datetime) and dtype.time_zone is not None:
        return pd.DatetimeIndex(values).tz_localize("UTC").tz_convert(dtype.time_zone).array
    return values


def to_pandas(value: Any, *, id_column: str | None = ID_COLUMN) -> Any:
    """A polars/pyarrow object (see :func:`native_input`) as pandas; anything else
    unchanged.

    A frame's ``id_column`` (when it has one; None: none) becomes the index. Columns
    are not copied where the layout allows (float64 without nulls): see the module
    docstring.
    """
    found = native_input(value)
    if found is None:
        return value
    return _as_pandas(found[0], id_column)


def _as_pandas(wrapped: Any, id_column: str | None) -> Any:
    if isinstance(wrapped, nw.Series):
        return pd.Series(_column(wrapped), name=wrapped.name or None, copy=False)
    columns = {name: _column(wrapped.get_column(name)) for name in wrapped.columns}
    native = wrapped.to_native()
    index = None
    if id_column is not None and id_column in columns:
        index = pd.Index(columns.pop(id_column), name=id_column)
    else:
        index = _pandas_index(native, columns, len(wrapped))
    frame = pd.DataFrame(columns, index=index, copy=False)
    if not columns:  # pandas makes a RangeIndex of an empty dict
        frame = pd.DataFrame(index=index if index is not None else pd.RangeIndex(len(wrapped)))
    metadata = getattr(getattr(native, "schema", None), "metadata", None) or {}
    for key, text in metadata.items():
        name = key.decode(errors="replace")
        if name.startswith(_META_PREFIX):
            frame.attrs[name[len(_META_PREFIX) :]] = text.decode(errors="replace")
    return frame


def _pandas_index(native: Any, columns: dict[str, Any], n_rows: int) -> pd.Index | None:
    """The index of a pyarrow table made from a pandas frame (``pa.Table.from_pandas``
    records it in the schema's pandas metadata), taken out of ``columns``; None
    without one."""
    metadata = getattr(getattr(native, "schema", None), "pandas_metadata", None)
    specs = (metadata or {}).get("index_columns") or []
    if len(specs) != 1:
        return None
    spec = specs[0]
    if isinstance(spec, dict):  # a RangeIndex is stored as its bounds
        if spec.get("kind") != "range":
            return None
        index = pd.RangeIndex(spec["start"], spec["stop"], spec["step"], name=spec.get("name"))
        return index if len(index) == n_rows else None
    if spec not in columns:
        return None
    fields = (metadata or {}).get("columns") or []
    name = next((f.get("name") for f in fields if f.get("field_name") == spec), spec)
    return pd.Index(columns.pop(spec), name=name)


def _is_default_index(index: pd.Index) -> bool:
    return (
        isinstance(index, pd.RangeIndex)
        and index.start == 0
        and index.step == 1
        and index.name is None
    )


def _values(series: pd.Series) -> Any:
    """A pandas column as values the other libraries take."""
    dtype = series.dtype
    if isinstance(dtype, pd.PeriodDtype):
        return series.astype(str).to_numpy(dtype=object)
    if isinstance(dtype, pd.CategoricalDtype) or (
        isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.kind in "OSU"
    ):
        return series.astype(object).where(series.notna(), None).to_numpy(dtype=object)
    if isinstance(dtype, pd.DatetimeTZDtype):
        return series
    if isinstance(dtype, pd.api.extensions.ExtensionDtype):  # nullable ints, floats
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    return series.to_numpy()


def _frame_to_native(frame: pd.DataFrame, origin: Origin) -> Any:
    if not _is_default_index(frame.index):
        names = [
            n if n is not None else (ID_COLUMN if frame.index.nlevels == 1 else f"level_{i}")
            for i, n in enumerate(frame.index.names)
        ]
        index = frame.index.set_names(names)
        if isinstance(index, pd.PeriodIndex):
            index = pd.Index(index.astype(str), name=names[0], dtype=object)
        # a column of the index's name already there (the ids, as a column) wins
        frame = frame.set_axis(index).reset_index(drop=any(n in frame.columns for n in names))
    data = {str(name): _values(frame.iloc[:, i]) for i, name in enumerate(frame.columns)}
    data = {
        k: (
            v.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
            if isinstance(v, pd.Series)
            else v
        )
        for k, v in data.items()
    }
    if origin.implementation is nw.Implementation.PYARROW:
        pa = _pyarrow()
        metadata = {
            f"{_META_PREFIX}{k}": str(v)
            for k, v in frame.attrs.items()
            if isinstance(v, (str, int, float))
        }
        return pa.table(data, metadata=metadata or None)
    return nw.from_dict(data, backend="polars").to_native()


def _series_to_native(series: pd.Series, origin: Origin) -> Any:
    name = "" if series.name is None else str(series.name)
    if origin.implementation is nw.Implementation.PYARROW:
        native = nw.new_series(name, _values(series), backend="pyarrow").to_native()
    else:
        native = nw.new_series(name, _values(series), backend="polars").to_native()
    if origin.arrow_array:
        return native.combine_chunks()
    return native


def to_native(result: Any, origin: Origin | None) -> Any:
    """``result`` with each pandas Series/DataFrame in it (itself, the items of a
    plain tuple, the fields of a dataclass) in the library of ``origin``; None:
    unchanged."""
    if origin is None:
        return result
    if isinstance(result, pd.DataFrame):
        return _frame_to_native(result, origin)
    if isinstance(result, pd.Series):
        if _is_default_index(result.index):
            return _series_to_native(result, origin)
        name = "value" if result.name is None else str(result.name)
        return _frame_to_native(result.to_frame(name), origin)
    if type(result) is tuple:
        return tuple(to_native(item, origin) for item in result)
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        changes = {
            f.name: to_native(getattr(result, f.name), origin)
            for f in dataclasses.fields(result)
            if isinstance(getattr(result, f.name), (pd.Series, pd.DataFrame))
        }
        return dataclasses.replace(result, **changes) if changes else result
    return result


def accepts_frames(func: F | None = None, *, logs: bool | None = None) -> Any:
    """Let ``func`` take polars/pyarrow arguments and answer in their library.

    Every positional and keyword argument that is a polars/pyarrow object is
    converted by :func:`to_pandas` before the call; when there was one, the result
    goes through :func:`to_native` (following the first such argument). With
    ``logs`` (by default: when ``func`` has a ``customer_id_col`` parameter) frames
    keep every column, the id column included; otherwise a frame's ``customer_id``
    column becomes its index.
    """

    def decorate(f: F) -> F:
        if getattr(f, "__accepts_frames__", False):
            return f
        keep = logs
        if keep is None:
            keep = "customer_id_col" in inspect.signature(f).parameters
        id_column = None if keep else ID_COLUMN

        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            origin: Origin | None = None

            def convert(value: Any) -> Any:
                nonlocal origin
                found = native_input(value)
                if found is None:
                    return value
                if origin is None:
                    origin = found[1]
                return _as_pandas(found[0], id_column)

            args = tuple(convert(a) for a in args)
            kwargs = {k: convert(v) for k, v in kwargs.items()}
            result = f(*args, **kwargs)
            return to_native(result, origin)

        wrapper.__accepts_frames__ = True  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate if func is None else decorate(func)


def accept_frames_in_methods(cls: type) -> None:
    """Wrap each public method defined in ``cls`` itself with :func:`accepts_frames`
    (called by the fitters' base class for every subclass)."""
    for name, attr in list(vars(cls).items()):
        if name.startswith("_") or not inspect.isfunction(attr):
            continue
        if not getattr(attr, "__accepts_frames__", False):
            setattr(cls, name, accepts_frames(attr))


def accept_frames_in_module(namespace: dict[str, Any], names: Any, *, skip: Any = ()) -> None:
    """Wrap the public functions ``names`` of a module (its ``globals()``) defined in
    that module with :func:`accepts_frames`, except those in ``skip`` (one line at the
    end of each public module; internal calls then go through the wrapper too, which
    passes pandas through untouched)."""
    for name in names:
        obj = namespace.get(name)
        if name in skip or not inspect.isfunction(obj):
            continue
        if obj.__module__ == namespace.get("__name__"):
            namespace[name] = accepts_frames(obj)
