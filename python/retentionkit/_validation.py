"""Turn user inputs into what the native core takes, and results back into pandas.

The core takes contiguous one-dimensional float64 arrays of equal length. Users pass
pandas Series, numpy arrays, lists or scalars. :func:`prepare` converts (without a
copy when the input already is contiguous float64), broadcasts, flattens and
remembers how to shape the result: a float for scalar inputs, a Series with the
index of the first Series input, otherwise an array of the broadcast shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Union

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._core import InvalidDataError

FloatArray = npt.NDArray[np.float64]
ArrayLike = Union[pd.Series, npt.ArrayLike]
Result = Union[float, FloatArray, pd.Series]


def as_float_array(value: Any, name: str) -> FloatArray:
    """Return ``value`` as a contiguous float64 array, copying only if needed.

    Raises
    ------
    ValueError
        If ``value`` cannot be read as numbers.
    """
    if isinstance(value, pd.DataFrame):
        raise ValueError(f"{name} must be one-dimensional, got a DataFrame")
    if not isinstance(value, (pd.Series, pd.Index, np.ndarray)):
        try:  # lists and scalars: see what numpy makes of them
            value = np.asarray(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric: {exc}") from exc
    _refuse_odd_dtype(value.dtype, name)
    if isinstance(value, (pd.Series, pd.Index)):
        if value.dtype == np.float64:
            value = value.to_numpy()
        else:
            try:
                value = value.to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{name} must be numeric, got dtype {value.dtype}") from exc
    try:
        # Like np.ascontiguousarray (no copy for contiguous float64) but keeps 0-d.
        return np.asarray(value, dtype=np.float64, order="C")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from exc


def _refuse_odd_dtype(dtype: Any, name: str) -> None:
    """Refuse dates, time spans, complex numbers and True/False as numbers.

    numpy converts each of them to float64 without a word: a timedelta T becomes
    nanoseconds (P(alive) of 4.5e-14 for a customer seen last week), a date the
    nanoseconds since 1970, a complex number loses its imaginary part and True
    becomes 1. Where a flag is meant (``churned``) the caller reads it itself.
    """
    kind = getattr(dtype, "kind", "O")
    what = {
        "M": "dates",
        "m": "time spans",
        "c": "complex numbers",
        "b": "True/False values",
    }.get(kind)
    if what is None:
        return
    if kind in "Mm":
        advice = (
            "convert to a number of time units (for example a timedelta in weeks: "
            "span / pd.Timedelta(weeks=1)), or use summary_data_from_transaction_data, "
            "which computes frequency, recency and T from a transaction log"
        )
    elif kind == "c":
        advice = "pass real numbers"
    else:
        advice = "pass numbers (counts, times in one unit, amounts)"
    rule = f"{name} must be numbers, not {what}"
    raise invalid_data_error(
        f"invalid data: {name} holds {what} (dtype {dtype}), which would be silently "
        f"converted to numbers: {advice}",
        rule=rule,
        column=name,
    )


@dataclass(frozen=True)
class Prepared:
    """Flattened float64 inputs and how to shape the core's result."""

    arrays: tuple[FloatArray, ...]
    shape: tuple[int, ...]
    index: pd.Index | None

    def wrap(self, values: FloatArray, name: str | None = None) -> Result:
        """Give ``values`` (flat, as returned by the core) the caller's shape."""
        if self.shape == ():
            return float(values[0])
        out = np.asarray(values).reshape(self.shape)
        if self.index is not None:
            return pd.Series(out, index=self.index, name=name)
        return out


def prepare(**inputs: Any) -> Prepared:
    """Convert and broadcast keyword inputs, in order, for one core call.

    The index of the first pandas Series is kept when the broadcast result is
    one-dimensional and as long as that index. Two Series with different indexes
    are refused rather than silently misaligned.

    Raises
    ------
    ValueError
        If an input is not numeric, if the inputs cannot be broadcast together
        (the message gives each shape), or if Series indexes differ.
    """
    index: pd.Index | None = None
    index_owner = ""
    arrays = []
    for name, value in inputs.items():
        if isinstance(value, pd.Series):
            if index is None:
                index, index_owner = value.index, name
            elif not value.index.equals(index):
                raise ValueError(
                    f"the Series {index_owner} and {name} have different indexes; "
                    "align them first (e.g. take both from one DataFrame)"
                )
        arrays.append(as_float_array(value, name))
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        shapes = ", ".join(f"{n}: {a.shape}" for n, a in zip(inputs, arrays))
        raise ValueError(f"inputs have incompatible shapes ({shapes})") from None
    flat = tuple(np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1) for a in arrays)
    if index is not None and (len(shape) != 1 or shape[0] != len(index)):
        index = None
    return Prepared(flat, shape, index)


@contextmanager
def name_rows(index: pd.Index | None) -> Iterator[None]:
    """Add the index label to a core error that names a (zero-based) row.

    The core reports positions (:attr:`InvalidDataError.row`); a user whose data
    has its own index (customer ids) wants the label as well: it is set as
    ``label`` and appended to the message. The exception keeps its type.
    """
    try:
        yield
    except InvalidDataError as exc:
        row = exc.row
        if index is not None and row is not None and row < len(index):
            exc.label = index_label(index, row)
            if exc.label is not None:
                exc.args = (f"{exc} [index label {plain(exc.label)}]",)
        raise


def plain(value: Any) -> str:
    """``repr(value)`` as a person would write it in a message: numpy scalars as the
    Python number or string they hold (``2``, not ``np.int64(2)``), datetimes as
    ``2024-01-31 00:00:00``."""
    if isinstance(value, np.datetime64):
        return str(pd.Timestamp(value))
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (pd.Timestamp, pd.Period)):
        return str(value)
    return repr(value)


def python_scalar(value: Any) -> Any:
    """A numpy scalar as the Python scalar it holds; anything else unchanged."""
    if isinstance(value, np.generic) and not isinstance(value, np.datetime64):
        return value.item()
    return value


def invalid_data_error(
    message: str,
    *,
    rule: str,
    row: int | None = None,
    label: Any = None,
    column: str | None = None,
) -> InvalidDataError:
    """An :class:`InvalidDataError` raised by the Python layer, with the
    attributes the core would set."""
    exc = InvalidDataError(message)
    exc.rule, exc.row, exc.label, exc.column = rule, row, label, column
    return exc


def index_label(index: pd.Index, row: int) -> Any:
    """The label of position ``row`` (a Python scalar, not a numpy one), None for a
    default RangeIndex (0, 1, ...)."""
    return None if _is_default_index(index) else python_scalar(index[row])


def _is_default_index(index: pd.Index) -> bool:
    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
