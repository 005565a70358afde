"""Time-invariant covariates: from the user's columns to the core's design and matrix.

A model with covariates (``retentionkit._core.*CovariatesModel``) takes a
customers x columns float64 matrix, the names of its columns, the columns of each
*process* of the model and the *shared* columns (one coefficient in every
process). This module builds those from what a fitter is given:

* one covariate table per *group* of processes: ``purchase`` and ``dropout``
  (the Pareto/NBD's ``dropout`` process; the BG family's ``dropout_a`` and
  ``dropout_b`` both take the ``dropout`` table); a process belongs to the group
  named by its name up to the first ``_``, so a model with another process (the
  Gamma-Gamma's ``spend``, keyword ``spend_covariates``) needs nothing here;
* each table a DataFrame, aligned by label on the index of the customers'
  histories (a missing label is an error), or a 2-D array in row order (its
  columns named ``<group>_0``, ``<group>_1``, ...);
* categorical columns (pandas ``category``, ``object``, ``string`` or ``bool``)
  become k - 1 dummy columns ``<column>[<level>]``: the levels are sorted and the
  first (the smallest; ``False`` for a bool) is the reference level, without a
  column, whose customers have the base parameters.

:class:`Encoding` remembers the columns, their levels and their groups; it is saved
with the model, so that predictions turn new tables into the same matrix.
Missing values, infinities, a constant column, perfectly collinear columns and
unseen levels are :class:`~retentionkit.InvalidDataError` naming the column (and
the first offending row).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np
import pandas as pd

from ._validation import FloatArray, invalid_data_error, plain

__all__ = [
    "GROUPS_ARGUMENT",
    "Encoding",
    "fit_design",
    "matrix_of",
    "prediction_matrix",
    "prediction_table",
]

Covariates = Union[pd.DataFrame, np.ndarray, Any]

#: The keyword that carries each group's table, for messages.
GROUPS_ARGUMENT = {"purchase": "purchase_covariates", "dropout": "dropout_covariates"}

_DUMMY = re.compile(r"^(?P<column>.*)\[(?P<level>.*)\]$")

#: Relative size below which a column's residual counts as a linear combination of
#: the previous columns (and a constant).
_COLLINEAR_TOL = 1e-9


def group_of(process: str) -> str:
    """The group of a process: ``dropout_a`` -> ``dropout``."""
    return process.split("_", 1)[0]


def argument(group: str) -> str:
    """The keyword of a group's covariates: ``purchase_covariates``."""
    return GROUPS_ARGUMENT.get(group, f"{group}_covariates")


@dataclass
class Encoding:
    """The raw covariate columns of a model and how they become its numeric columns.

    Attributes
    ----------
    levels : dict
        Raw column -> its sorted levels (a categorical column) or None (numeric),
        in the order the columns were given.
    groups : dict
        Group (``purchase``, ``dropout``, ``shared``) -> its raw columns.
    """

    levels: dict[str, list[Any] | None] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)

    def encoded(self, column: str) -> list[str]:
        """The model's columns for a raw column: itself, or its dummies."""
        levels = self.levels.get(column)
        if levels is None:
            return [column]
        return [f"{column}[{level}]" for level in levels[1:]]

    def to_json(self) -> dict[str, Any]:
        return {
            "levels": {
                c: None if v is None else [_json_level(x) for x in v]
                for c, v in self.levels.items()
            },
            "groups": self.groups,
        }

    @classmethod
    def from_json(cls, saved: Mapping[str, Any]) -> Encoding:
        return cls(
            dict(saved.get("levels", {})), {g: list(c) for g, c in saved.get("groups", {}).items()}
        )

    def describe(self) -> str:
        """``purchase: a, b; dropout: c`` for messages."""
        return "; ".join(f"{g}: {', '.join(cols)}" for g, cols in self.groups.items() if cols)


def _json_level(level: Any) -> Any:
    if isinstance(level, np.generic):
        return level.item()
    return level


@dataclass(frozen=True)
class Design:
    """What a covariate fit passes to the core, and what the fitter keeps."""

    matrix: FloatArray
    columns: list[str]
    by_process: list[list[int]]
    shared: list[int]
    penalties: list[float]
    encoding: Encoding
    raw: pd.DataFrame


# -- the tables, aligned on the customers ---------------------------------------------


def _table(value: Covariates, group: str, index: pd.Index | None, n: int) -> pd.DataFrame:
    """One group's covariates as a DataFrame with ``n`` rows in the customers' order.

    A DataFrame is aligned by label on ``index`` (when given), a Series is one
    column, an array is taken in row order.
    """
    name = argument(group)
    if isinstance(value, pd.Series):
        value = value.to_frame(name=str(value.name) if value.name is not None else f"{group}_0")
    if isinstance(value, pd.DataFrame):
        frame = value.rename(columns=str)
        if frame.columns.duplicated().any():
            dup = frame.columns[frame.columns.duplicated()][0]
            raise ValueError(f"{name} has the column {dup!r} twice")
        if index is None:
            if len(frame) != n:
                raise ValueError(f"{name} has {len(frame)} rows for {n} customers")
            return frame.reset_index(drop=True)
        return align_by_label(frame, index, name)
    array = np.asarray(value)
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a DataFrame or a 2-D array, got {array.ndim} dimensions")
    if len(array) != n:
        raise ValueError(f"{name} has {len(array)} rows for {n} customers")
    columns = [f"{group}_{j}" for j in range(array.shape[1])]
    return pd.DataFrame(array, columns=columns, index=index if index is not None else None)


def align_by_label(
    frame: pd.DataFrame,
    index: pd.Index,
    name: str,
    missing: Callable[[Any, int, int], str] | None = None,
    *,
    label: str = "index label",
) -> pd.DataFrame:
    """``frame``'s rows for the labels of ``index``, in its order (indexed by it).

    The one alignment of covariates by customer label, for the fitters and for
    the helpers (plots, targeting, report). ``name`` is what the user passed
    (or the fitted data), for messages; ``missing(label, row, count)`` words the
    error of labels without a row (``row`` counted from 1), by default the
    fitters' wording; ``label`` names a duplicated label ("index label",
    "customer").
    """
    if frame.index.equals(index):
        return frame
    if not frame.index.is_unique:
        dup = frame.index[frame.index.duplicated()][0]
        raise ValueError(f"{name} has the {label} {plain(dup)} more than once")
    positions = frame.index.get_indexer(index)
    absent = np.flatnonzero(positions < 0)
    if len(absent):
        row = int(absent[0])
        message = (
            f"{name} has no row for a customer (row {row + 1} of the histories; "
            f"{len(absent)} customer(s) missing): a DataFrame of covariates is aligned by "
            "label on the histories' index; pass a 2-D array to take rows in order"
            if missing is None
            else missing(index[row], row + 1, len(absent))
        )
        raise invalid_data_error(message, rule="covariates row missing", row=row)
    out = frame.iloc[positions]
    out.index = index
    return out


def _merge(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The groups' tables side by side; a column in several must be the same."""
    merged: dict[str, pd.Series] = {}
    owner: dict[str, str] = {}
    for group, frame in tables.items():
        for column in frame.columns:
            values = frame[column]
            if column in merged:
                if not merged[column].equals(values):
                    raise ValueError(
                        f"the column {column!r} differs between {argument(owner[column])} "
                        f"and {argument(group)}: one name must hold one covariate"
                    )
                continue
            merged[column], owner[column] = values, group
    index = next(iter(tables.values())).index
    return pd.DataFrame(merged, index=index)


# -- checks and encoding ------------------------------------------------------------------


def _is_categorical(values: pd.Series) -> bool:
    return bool(
        isinstance(values.dtype, pd.CategoricalDtype)
        or pd.api.types.is_bool_dtype(values.dtype)
        or pd.api.types.is_object_dtype(values.dtype)
        or pd.api.types.is_string_dtype(values.dtype)
    )


def _error(message: str, rule: str, column: str, row: int | None = None) -> Exception:
    return invalid_data_error(message, rule=rule, row=row, column=column)


def _where(row: int, index: pd.Index) -> str:
    """``row 7``: the row as the user counts; the caller's ``name_rows`` adds the
    index label (the error's ``row`` is set)."""
    del index
    return f"row {row + 1}"


def _missing(values: pd.Series, column: str) -> None:
    missing = np.flatnonzero(pd.isna(values).to_numpy())
    if len(missing):
        row = int(missing[0])
        raise _error(
            f"covariate {column!r} has a missing value ({_where(row, values.index)}; "
            f"{len(missing)} in all)",
            "covariates missing",
            column,
            row,
        )


def _numeric(values: pd.Series, column: str) -> FloatArray:
    _missing(values, column)
    try:
        array = values.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"covariate {column!r} is not numeric ({values.dtype})") from exc
    bad = np.flatnonzero(~np.isfinite(array))
    if len(bad):
        row = int(bad[0])
        raise _error(
            f"covariate {column!r} is infinite ({_where(row, values.index)}: {array[row]})",
            "covariates must be finite",
            column,
            row,
        )
    return array


def _levels(values: pd.Series, column: str) -> list[Any]:
    """The sorted observed levels of a categorical column."""
    _missing(values, column)
    seen = pd.unique(values.to_numpy(dtype=object))
    odd = next((v for v in seen if not isinstance(v, (str, bool, int, float, np.generic))), None)
    if odd is not None or any(isinstance(v, np.datetime64) for v in seen):
        raise ValueError(
            f"covariate {column!r} holds values of type {type(odd).__name__}: a categorical "
            "covariate takes strings, numbers or bools as its levels"
        )
    try:
        return sorted(seen)
    except TypeError:
        return sorted(seen, key=str)


def _dummies(values: pd.Series, column: str, levels: list[Any], *, fit: bool) -> FloatArray:
    """The k - 1 dummy columns of a categorical column (the first level dropped);
    at prediction (``fit`` false), a level the fit did not see is an error."""
    _missing(values, column)
    objects = values.to_numpy(dtype=object)
    codes = pd.Index(levels, dtype=object).get_indexer(objects)
    if not fit:
        unknown = np.flatnonzero(codes < 0)
        if len(unknown):
            row = int(unknown[0])
            raise _error(
                f"covariate {column!r} has the level {plain(objects[row])}, unseen in the "
                f"fit ({_where(row, values.index)}; known levels: "
                f"{', '.join(map(plain, levels))})",
                "covariates unknown level",
                column,
                row,
            )
    return (codes[:, None] == np.arange(1, len(levels))[None, :]).astype(np.float64)


def _encode(raw: pd.DataFrame) -> tuple[dict[str, list[Any] | None], dict[str, FloatArray]]:
    """Each raw column's levels (None if numeric) and its encoded columns, checking
    missing values, infinities and constant columns."""
    levels: dict[str, list[Any] | None] = {}
    encoded: dict[str, FloatArray] = {}
    for column in raw.columns:
        values = raw[column]
        if _is_categorical(values):
            found = _levels(values, column)
            _check_levels(found, column)
            levels[column] = found
            for name, dummy in zip(
                Encoding({column: found}).encoded(column),
                _dummies(values, column, found, fit=True).T,
            ):
                encoded[name] = dummy
        else:
            array = _numeric(values, column)
            if len(array) and np.all(array == array[0]):
                raise _error(
                    f"covariate {column!r} is constant (every customer has {array[0]:g}): "
                    "a constant column cannot be told apart from the model's own "
                    "parameters",
                    "covariates constant",
                    column,
                )
            levels[column] = None
            encoded[column] = array
    return levels, encoded


def _check_levels(found: list[Any], column: str) -> None:
    """A categorical covariate needs two levels at least."""
    if len(found) < 2:
        raise _error(
            f"covariate {column!r} is constant (every customer has "
            f"{plain(found[0]) if found else 'no value'}): a constant "
            "column cannot be told apart from the model's own parameters",
            "covariates constant",
            column,
        )


def is_categorical_dtype(dtype: Any) -> bool:
    """Whether a column of this dtype is a categorical covariate (``category``,
    ``object``, ``string`` or ``bool``), as the pandas layer treats it."""
    return _is_categorical(pd.Series([], dtype=dtype))


def distinct_levels(distinct: Sequence[Any], column: str) -> list[Any]:
    """The sorted levels of a categorical covariate from its distinct values
    (collected on a cluster before the partitions are encoded), with the checks
    of a fit on one machine: no missing value, two levels at least. The first
    level is the base level, as in :func:`fit_design`."""
    values = pd.Series(list(distinct), dtype=object)
    if pd.isna(values).any():
        raise _error(f"covariate {column!r} has a missing value", "covariates missing", column)
    found = _levels(values, column)
    _check_levels(found, column)
    return found


def _check_collinear(encoded: dict[str, FloatArray], columns: list[str], process: str) -> None:
    """Refuse a column of ``process`` that is a linear combination of the previous
    ones and a constant (its coefficient would not be identified).

    The centred columns' QR decomposition gives, in ``|R[j, j]|``, the length of
    column j's residual after projecting out the columns before it (Householder's
    QR is backward stable, so an exact combination leaves a residual at rounding
    level): one pass over the data for every column at once."""
    if not columns:
        return
    # Column-major: each column's mean and norm are contiguous passes (and LAPACK
    # takes this layout).
    centred = np.empty((len(encoded[columns[0]]), len(columns)), order="F")
    for j, c in enumerate(columns):
        np.subtract(encoded[c], encoded[c].mean(), out=centred[:, j])
    norms = np.sqrt(np.einsum("ij,ij->j", centred, centred))
    residuals = np.abs(np.diag(np.linalg.qr(centred, mode="r")))
    for j, column in enumerate(columns):
        if residuals[j] > _COLLINEAR_TOL * max(float(norms[j]), 1e-300):
            continue
        coef: Any = np.linalg.lstsq(centred[:, :j], centred[:, j], rcond=None)[0] if j else []
        names = columns[:j]
        others = [n for n, c in zip(names, coef) if abs(c) > 1e-8] or names
        raise _error(
            f"covariate {column!r} is perfectly collinear with "
            f"{', '.join(map(repr, others))} (and a constant) in the {process} "
            "process: its coefficient cannot be estimated; drop one of them",
            "covariates collinear",
            column,
        )


# -- fit and prediction ----------------------------------------------------------------


def groups_of(processes: Sequence[str]) -> list[str]:
    """The groups of a model's processes, in order, once each."""
    return list(dict.fromkeys(group_of(p) for p in processes))


def fit_design(
    processes: Sequence[str],
    given: Mapping[str, Covariates | None],
    shared: Sequence[str],
    penalizer: float | Sequence[float],
    index: pd.Index,
) -> Design:
    """The covariate matrix and design of a fit on the customers of ``index``.

    Parameters
    ----------
    processes : sequence of str
        The native model's ``PROCESSES``.
    given : mapping
        Group -> its covariates (a DataFrame, a 2-D array, or None).
    shared : sequence of str
        Columns with one coefficient ``shared:<column>`` in every process.
    penalizer : float or (float, float)
        λ of every coefficient, or λ per group (in the order of the groups).
    index : pandas.Index
        The customers' labels (the histories' index).
    """
    groups = groups_of(processes)
    unknown = sorted(set(given) - set(groups))
    if unknown:
        raise ValueError(f"this model takes no {', '.join(map(argument, unknown))}")
    n = len(index)
    tables = {g: _table(z, g, index, n) for g, z in given.items() if z is not None}
    if not tables:
        raise ValueError("no covariates given")
    raw = _merge(tables)
    shared = [str(c) for c in shared]
    for column in shared:
        if column not in raw.columns:
            raise ValueError(
                f"the shared covariate {column!r} is not a column of "
                f"{' or '.join(argument(g) for g in tables)}"
            )
    by_group = {
        g: [c for c in tables[g].columns if c not in shared] if g in tables else [] for g in groups
    }
    levels, encoded = _encode(raw)
    encoding = Encoding(levels, {**by_group, "shared": list(dict.fromkeys(shared))})
    columns = [e for c in raw.columns for e in encoding.encoded(c)]
    clash = [c for c in columns if list(columns).count(c) > 1]
    if clash:
        raise ValueError(f"two covariates are both named {clash[0]!r} once encoded; rename one")
    position = {c: i for i, c in enumerate(columns)}

    def encoded_of(raws: list[str]) -> list[str]:
        return [e for c in raws for e in encoding.encoded(c)]

    shared_cols = encoded_of(encoding.groups["shared"])
    by_process = [[position[c] for c in encoded_of(by_group[group_of(p)])] for p in processes]
    checked: set[tuple[str, ...]] = set()
    for p, cols in zip(processes, by_process):
        listed = tuple([columns[i] for i in cols] + shared_cols)
        if listed not in checked:  # processes with the same columns: one check
            _check_collinear(encoded, list(listed), p)
            checked.add(listed)
    lambdas = _penalties(penalizer, groups)
    penalties = [lambdas[group_of(p)] for p, cols in zip(processes, by_process) for _ in cols]
    penalties += [max(lambdas.values())] * len(shared_cols)
    matrix = np.ascontiguousarray(np.column_stack([encoded[c] for c in columns]), dtype=np.float64)
    return Design(
        matrix,
        columns,
        by_process,
        [position[c] for c in shared_cols],
        penalties,
        encoding,
        raw,
    )


def _penalties(penalizer: float | Sequence[float], groups: list[str]) -> dict[str, float]:
    """λ per group from a scalar or one value per group."""
    values = np.atleast_1d(np.asarray(penalizer, dtype=np.float64))
    if values.ndim != 1 or len(values) not in (1, len(groups)):
        raise ValueError(
            f"covariate_penalizer must be a number or {len(groups)} numbers "
            f"({', '.join(groups)}), got {values.tolist()}"
        )
    if not np.all(np.isfinite(values) & (values >= 0)):
        raise ValueError(
            f"covariate_penalizer must be finite and non-negative, got {values.tolist()}"
        )
    values = np.broadcast_to(values, (len(groups),))
    return {g: float(v) for g, v in zip(groups, values)}


def prediction_matrix(
    encoding: Encoding | None,
    columns: Sequence[str],
    given: Mapping[str, Covariates | None],
    index: pd.Index | None,
    n: int | None,
    arguments: Sequence[str] | None = None,
) -> tuple[FloatArray, pd.Index | None]:
    """The model's covariate matrix for customers to predict.

    Parameters
    ----------
    encoding : Encoding or None
        The fit's encoding (None for a model whose parameters were set by hand:
        then each column is looked up by name, and a dummy ``c[level]`` missing
        by name is built from a column ``c``).
    columns : sequence of str
        The model's covariate columns, in the order of its matrix.
    given : mapping
        Group -> covariates (or None), as given to the prediction method.
    index : pandas.Index or None
        The customers' labels (a DataFrame of covariates is aligned on them).
    n : int or None
        The number of customers; None when the histories are scalars (the
        covariates then give the customers).
    arguments : sequence of str, optional
        The keywords that take the model's covariates, for the message when none
        are given (default ``purchase_covariates`` and ``dropout_covariates``).

    Returns
    -------
    matrix, index
        The n x k matrix (C-contiguous float64) and the covariates' index when
        they gave the customers (``n`` None), else ``index``.
    """
    raw, out_index = prediction_table(encoding, columns, given, index, n, arguments)
    return matrix_of(raw, encoding, columns), out_index


def matrix_of(raw: pd.DataFrame, encoding: Encoding | None, columns: Sequence[str]) -> FloatArray:
    """The model's covariate matrix (C-contiguous float64) of a table of raw covariates."""
    encoded = _prediction_columns(raw, encoding, columns)
    matrix = np.column_stack([encoded[c] for c in columns])
    return np.ascontiguousarray(matrix, dtype=np.float64)


def prediction_table(
    encoding: Encoding | None,
    columns: Sequence[str],
    given: Mapping[str, Covariates | None],
    index: pd.Index | None,
    n: int | None,
    arguments: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, pd.Index | None]:
    """The covariates of a prediction as given (the groups' tables side by side,
    numbered 0..rows-1) and the index of the result; see :func:`prediction_matrix`."""
    tables: dict[str, pd.DataFrame] = {}
    for group, z in given.items():
        if z is None:
            continue
        if n is None or (_rows(z) == 1 and n != 1):
            tables[group] = _table(z, group, None, _rows(z))
        else:
            tables[group] = _table(z, group, index if index is not None else pd.RangeIndex(n), n)
    if not tables:
        described = encoding.describe() if encoding is not None else ", ".join(columns)
        described = f" ({described})"
        keywords = list(GROUPS_ARGUMENT.values()) if arguments is None else list(arguments)
        raise ValueError(
            f"this model has covariates{described}: pass them to the prediction, as "
            f"{' and/or '.join(keywords)}"
        )
    rows = {len(t) for t in tables.values()}
    if len(rows) > 1:
        raise ValueError(f"the covariate tables have different numbers of rows ({sorted(rows)})")
    raw = _merge({g: t.reset_index(drop=True) for g, t in tables.items()})
    out_index = index
    if n is None:
        first = next(iter(given[g] for g in tables))
        out_index = first.index if isinstance(first, (pd.DataFrame, pd.Series)) else None
    return raw, out_index


def _rows(value: Covariates) -> int:
    return len(value) if isinstance(value, (pd.DataFrame, pd.Series)) else len(np.asarray(value))


def _prediction_columns(
    raw: pd.DataFrame, encoding: Encoding | None, columns: Sequence[str]
) -> dict[str, FloatArray]:
    """The model's ``columns`` from the raw covariates, each raw column encoded once."""
    out: dict[str, FloatArray] = {}
    if encoding is not None:
        for source, levels in encoding.levels.items():
            names = encoding.encoded(source)
            if not any(c in columns for c in names):
                continue
            values = _need(raw, source, encoding)
            if levels is None:
                out[source] = _numeric(values, source)
            else:
                out.update(zip(names, _dummies(values, source, levels, fit=False).T))
    for column in columns:
        if column not in out:
            out[column] = _by_name(raw, column)
    return out


def _by_name(raw: pd.DataFrame, column: str) -> FloatArray:
    """A column of a model without the fit's encoding (parameters set by hand): the
    column of that name, or the dummy ``c[level]`` of a column ``c``."""
    if column in raw.columns:
        return _numeric(raw[column], column)
    match = _DUMMY.match(column)
    if match and match["column"] in raw.columns:
        values = raw[match["column"]]
        _missing(values, match["column"])
        return (values.astype(str).to_numpy() == match["level"]).astype(np.float64)
    raise ValueError(f"the covariate {column!r} is missing: the model needs it")


def _need(raw: pd.DataFrame, source: str, encoding: Encoding) -> pd.Series:
    if source in raw.columns:
        return raw[source]
    group = next((g for g, cols in encoding.groups.items() if source in cols), "")
    where = (
        "in purchase_covariates or dropout_covariates"
        if group in ("shared", "")
        else f"in {argument(group)}"
    )
    example = f"{group}_0" if group not in ("shared", "") else "purchase_0"
    raise ValueError(
        f"the covariate {source!r} is missing: pass it {where} (the covariates given "
        f"have the columns {list(map(str, raw.columns))}; an array's columns are named "
        f"{example}, ..., so pass a DataFrame with the fit's column names)"
    )


# -- models --------------------------------------------------------------------------


def has_covariates(model: Any) -> bool:
    """Whether a native model is one with covariates."""
    return model is not None and hasattr(model, "PROCESSES")


def not_supported(what: str) -> ValueError:
    """The error of a method the models with covariates do not have yet."""
    return ValueError(
        f"{what} is not yet supported with covariates; it is available for the model "
        "fitted without them"
    )


def params_design(
    cls: Any, given: Mapping[str, Any]
) -> tuple[list[float], list[str], list[list[int]], list[int]]:
    """The values (in the model's order) and the design of parameters given by name
    (``r``, ..., ``purchase:<column>``, ``shared:<column>``)."""
    base = list(cls.BASE_PARAM_NAMES)
    processes = list(cls.PROCESSES)
    columns: list[str] = []
    by_process: list[list[int]] = [[] for _ in processes]
    shared: list[int] = []
    unknown = []
    for name in given:
        if name in base:
            continue
        prefix, sep, column = name.partition(":")
        if not sep or prefix not in (*processes, "shared") or not column:
            unknown.append(name)
            continue
        if column not in columns:
            columns.append(column)
        target = shared if prefix == "shared" else by_process[processes.index(prefix)]
        target.append(columns.index(column))
    missing = [n for n in base if n not in given]
    if unknown or missing:
        raise ValueError(
            f"params_ needs the parameters {base} and coefficients named "
            f"<process>:<column> (processes: {', '.join(processes)}, shared); "
            f"missing {missing}, unknown {unknown}"
        )
    names = cls.coefficient_names_of(columns, by_process, shared)
    values = [float(given[n]) for n in (*base, *names)]
    return values, columns, by_process, shared


# -- covariate fits on Dask and Spark ---------------------------------------------------


def named_design(
    processes: Sequence[str],
    given: Mapping[str, Sequence[str]],
    shared: Sequence[str],
    penalizer: float | Sequence[float],
    levels: Mapping[str, list[Any]] | None = None,
) -> dict[str, Any]:
    """The core's design for the covariate columns named in ``given`` (group ->
    columns) and ``shared``, as :func:`fit_design` builds it from data (for
    tables that stay on a cluster: no data checks). A column in ``levels`` is
    categorical, with those sorted levels (see :func:`distinct_levels`): k - 1
    dummies ``<column>[<level>]``, the first level the base, as on one machine;
    the others are numeric. ``raw`` lists the table's columns, ``columns`` the
    model's (encoded) ones."""
    groups = groups_of(processes)
    shared = list(shared)
    by_group = {g: [c for c in given.get(g, []) if c not in shared] for g in groups}
    raw = list(dict.fromkeys([c for g in groups for c in by_group[g]] + shared))
    encoding = Encoding({c: (levels or {}).get(c) for c in raw}, {**by_group, "shared": shared})

    def encoded_of(raws: list[str]) -> list[str]:
        return [e for c in raws for e in encoding.encoded(c)]

    columns = encoded_of(raw)
    position = {c: i for i, c in enumerate(columns)}
    by_process = [[position[c] for c in encoded_of(by_group[group_of(p)])] for p in processes]
    shared_cols = encoded_of(shared)
    lambdas = _penalties(penalizer, groups)
    penalties = [lambdas[group_of(p)] for p, cols in zip(processes, by_process) for _ in cols]
    penalties += [max(lambdas.values())] * len(shared_cols)
    return {
        "raw": raw,
        "columns": columns,
        "by_process": by_process,
        "shared": [position[c] for c in shared_cols],
        "penalties": penalties,
        "n_coefficients": len(penalties),
        "encoding": encoding,
    }


def partial_sums(
    part: pd.DataFrame,
    cls: Any,
    params: list[float],
    order: int,
    columns: list[str],
    by_process: list[list[int]],
    shared: list[int],
    weighted: bool,
    encoding: Encoding | None = None,
) -> tuple[float, FloatArray, FloatArray]:
    """One partition's log-likelihood, gradient and Hessian (the native
    ``partial_sums``) from a pandas frame with the history and trait columns
    (with ``encoding``, categorical traits are encoded into the model's dummy
    ``columns`` as on one machine)."""
    arrays = [part[c].to_numpy(dtype=np.float64) for c in ("frequency", "recency", "T")]
    if encoding is not None and any(v is not None for v in encoding.levels.values()):
        z = matrix_of(part[list(encoding.levels)], encoding, columns)
    else:
        z = np.ascontiguousarray(part[columns].to_numpy(dtype=np.float64))
    weights = part["weights"].to_numpy(dtype=np.float64) if weighted else None
    result: tuple[float, FloatArray, FloatArray] = cls.partial_sums(
        params, *arrays, z, columns, by_process, shared, weights=weights, order=order
    )
    return result


def traits_of(encoding: Encoding | None, frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The covariate keywords of a prediction on ``frame``'s customers, each
    group's traits from the frame's columns (the shared ones with the purchase
    traits); none for a model without covariates."""
    if encoding is None:
        return {}
    shared = encoding.groups.get("shared", [])
    out = {}
    for group, raw in encoding.groups.items():
        extra = shared if group == "purchase" else []
        if group != "shared" and (raw or extra):
            out[argument(group)] = frame[list(dict.fromkeys([*raw, *extra]))]
    return out
