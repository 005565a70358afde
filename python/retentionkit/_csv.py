"""Writing CSV files that are safe to open in a spreadsheet.

The command line and :meth:`retentionkit.report.Report.write` write customer ids
as they were given. A text cell that begins with ``=``, ``+``, ``-`` or ``@`` (or a
tab or carriage return) is read as a formula by Excel, LibreOffice and Google
Sheets, so an id such as ``=HYPERLINK("http://evil.example", "click")`` becomes
live content in the analyst's spreadsheet (CSV or formula injection). Following
OWASP's advice, such cells are written with a leading single quote, which
spreadsheets show as text; text that is a plain number (``-3.5``) is left alone,
and so are numeric columns. A carriage return inside a cell would end the row in
a spreadsheet, so such cells are quoted (lines end with CR LF, as RFC 4180 has
it). ``raw=True`` writes every cell verbatim, as pandas does.

Files whose name ends in ``.parquet`` or ``.pq`` are Parquet instead (issue 17):
:func:`read_table` reads them and :func:`write_table` writes them with pyarrow (the
``parquet`` extra), with the index kept as pandas keeps it; Parquet cells are typed
data, never formulas, so they are written as they are.
"""

from __future__ import annotations

import os
import re
from typing import Any

import pandas as pd

__all__ = ["is_parquet", "neutralise_formulas", "read_table", "write_csv", "write_table"]

#: The first characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _safe_cell(value: Any) -> Any:
    """``value`` prefixed with ``'`` if it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        if _NUMBER.fullmatch(value) is None:
            return "'" + value
    return value


def _is_text(values: pd.Index | pd.Series) -> bool:
    """Whether ``values`` may hold text (object, string or categorical dtype)."""
    dtype = values.dtype
    return (
        pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    )


def _safe_index(index: pd.Index) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        levels = [_safe_index(index.get_level_values(i).rename(None)) for i in range(index.nlevels)]
        names = [_safe_cell(name) for name in index.names]
        return pd.MultiIndex.from_arrays(levels, names=names)
    name = _safe_cell(index.name)
    if _is_text(index):
        index = pd.Index([_safe_cell(v) for v in index], dtype=object)
    return index.rename(name)


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells, index labels and names cannot run as formulas."""
    out = frame.copy()
    out.index = _safe_index(frame.index)
    out.columns = _safe_index(frame.columns)
    for i in range(out.shape[1]):
        column = out.iloc[:, i]
        if _is_text(column):
            out.isetitem(i, column.astype(object).map(_safe_cell).to_numpy())
    return out


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str], raw: bool = False) -> None:
    """Write ``frame`` with its index as CSV; unless ``raw``, neutralise formulas first.

    Unless ``raw``, lines end with CR LF (RFC 4180), which also makes the writer
    quote every cell that holds a carriage return: unquoted, a carriage return in
    an id (``"x\r=1"``) ends the row in a spreadsheet and starts the next with a
    formula. (pandas' default ``\n`` quotes cells with a line feed, not a CR.)
    """
    if raw:
        frame.to_csv(path)
    else:
        neutralise_formulas(frame).to_csv(path, lineterminator="\r\n")


# -- Parquet (issue 17) -----------------------------------------------------------------

#: File name endings read and written as Parquet.
PARQUET_SUFFIXES = (".parquet", ".pq")

_NO_PYARROW = "{what} Parquet files needs pyarrow: pip install retentionkit[parquet]"


def is_parquet(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a Parquet file (by its ending, in any case)."""
    return os.fspath(path).lower().endswith(PARQUET_SUFFIXES)


def _pyarrow_parquet(what: str) -> Any:
    try:
        import pyarrow.parquet as pq  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        raise ImportError(_NO_PYARROW.format(what=what)) from None
    return pq


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A CSV file (:func:`pandas.read_csv`) or, by its ending, a Parquet file, as pandas."""
    if not is_parquet(path):
        return pd.read_csv(path)
    pq = _pyarrow_parquet("reading")
    return pq.read_table(path).to_pandas()


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str], raw: bool = False) -> None:
    """:func:`write_csv`, or Parquet when ``path`` ends in ``.parquet``/``.pq`` (the index
    kept, as :meth:`pandas.DataFrame.to_parquet` keeps it; ``raw`` does not apply)."""
    if not is_parquet(path):
        write_csv(frame, path, raw=raw)
        return
    pq = _pyarrow_parquet("writing")
    import pyarrow as pa  # type: ignore[import-untyped,import-not-found,unused-ignore]

    pq.write_table(pa.Table.from_pandas(frame, preserve_index=True), path)
