"""Covariates for the helpers that call a fitted model's predictions: the plots,
:func:`~retentionkit.model_comparison.compare_models`, the targeting table and the
report.

A helper scores either *known customers* (rows of a summary, a calibration/holdout
frame, the customers of a log) or *a kind of customer* (a grid of histories, a new
customer). For a model with covariates:

* known customers take the covariates the caller gives (a DataFrame aligned by
  label on the customers, or an array in row order, as the fitters take them), else
  the fitted data's, looked up by customer label;
* a kind of customer takes one row of traits (a dict, a Series or a one-row
  DataFrame), required.

The covariates are handed to the prediction methods as one DataFrame holding every
covariate column, as ``purchase_covariates`` (the fitters accept that: each
column is looked up by name).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ._covariates import align_by_label, has_covariates
from ._validation import plain


def model_has_covariates(model: Any) -> bool:
    """Whether a fitter's native model is one with covariates."""
    return has_covariates(getattr(model, "_model", None))


def fitted_covariates(model: Any) -> pd.DataFrame | None:
    """The raw covariate columns of the data ``model`` was fitted on (None when the
    model has no covariates, was not fitted, or had its coefficients set by hand)."""
    encoding = getattr(model, "_encoding", None)
    data = getattr(model, "data", None)
    if encoding is None or data is None:
        return None
    columns = [c for c in encoding.levels if c in data.columns]
    return data[columns] if len(columns) == len(encoding.levels) else None


def covariate_columns(model: Any) -> list[str]:
    """The raw covariate columns a model needs, for messages."""
    encoding = getattr(model, "_encoding", None)
    if encoding is not None:
        return list(encoding.levels)
    return list(getattr(model._model, "columns", []))


def for_customers(
    model: Any, covariates: Any, index: pd.Index, what: str, keyword: str = "covariates"
) -> pd.DataFrame | None:
    """The covariates of the customers ``index`` (one row each, in that order, with a
    ``RangeIndex``), or None for a model without covariates.

    ``covariates`` (given by the caller) is a DataFrame aligned by label on ``index``
    or an array in row order (its columns the model's raw covariate columns, in
    order); without it the fitted data's covariates are looked up
    by label. ``what`` names the customers, ``keyword`` the argument, for messages.
    """
    if not model_has_covariates(model):
        if covariates is not None:
            raise ValueError(
                f"{keyword} given, but this {type(model).__name__} has no covariates "
                "(it was fitted without them)"
            )
        return None
    n = len(index)
    if covariates is None:
        fitted = fitted_covariates(model)
        if fitted is None:
            raise ValueError(
                f"this {type(model).__name__} has covariates "
                f"({', '.join(covariate_columns(model))}) but no fitted data to take them "
                f"from: pass {keyword}= for {what}"
            )
        table = _by_label(fitted, index, what, "the fitted data", keyword)
    elif isinstance(covariates, (pd.DataFrame, pd.Series)):
        frame = covariates.to_frame() if isinstance(covariates, pd.Series) else covariates
        table = _by_label(frame, index, what, keyword, keyword)
    else:
        array = np.asarray(covariates)
        if array.ndim == 1:
            array = array.reshape(-1, 1)
        if array.ndim != 2 or len(array) != n:
            raise ValueError(
                f"{keyword} must be a DataFrame or a 2-D array with one row per customer "
                f"of {what} ({n}), got shape {array.shape}"
            )
        names = covariate_columns(model)
        if array.shape[1] != len(names):
            raise ValueError(
                f"{keyword} has {array.shape[1]} column(s), but the model's covariates are "
                f"{names}: an array gives them in that order (or pass a DataFrame)"
            )
        table = pd.DataFrame(array, columns=names)
    return table.reset_index(drop=True)


def _by_label(
    frame: pd.DataFrame, index: pd.Index, what: str, source: str, keyword: str
) -> pd.DataFrame:
    """``frame``'s rows for the labels of ``index``, in its order
    (:func:`~retentionkit._covariates.align_by_label` with the helpers' wording)."""

    def missing(label: Any, row: int, count: int) -> str:
        return (
            f"{source} has no covariates for the customer {plain(label)} of {what} "
            f"(row {row}; {count} customer(s) missing): covariates are looked up by "
            f"customer label; pass {keyword}= with a row for each customer"
        )

    return align_by_label(frame, index, source, missing, label="customer")


def one_row(model: Any, covariates: Any, what: str) -> pd.DataFrame | None:
    """One customer's traits as a one-row DataFrame, or None for a model without
    covariates (which refuses traits)."""
    if not model_has_covariates(model):
        if covariates is not None:
            raise ValueError(
                f"covariates given, but this {type(model).__name__} has no covariates "
                "(it was fitted without them)"
            )
        return None
    if covariates is None:
        raise ValueError(
            f"this {type(model).__name__} has covariates "
            f"({', '.join(covariate_columns(model))}): {what} is drawn for one kind of "
            "customer, so pass covariates= with one row of traits, e.g. "
            f"covariates={{{covariate_columns(model)[0]!r}: ...}}"
        )
    if isinstance(covariates, pd.Series):
        frame = covariates.to_frame().T
    elif isinstance(covariates, Mapping):
        frame = pd.DataFrame({str(k): [v] for k, v in covariates.items()})
    elif isinstance(covariates, pd.DataFrame):
        frame = covariates
    else:
        raise ValueError(
            "covariates must be one row of traits: a dict, a Series or a one-row "
            f"DataFrame, got {type(covariates).__name__}"
        )
    if len(frame) != 1:
        raise ValueError(f"covariates must be one row of traits for {what}, got {len(frame)} rows")
    return frame.reset_index(drop=True).infer_objects()


def unique_rows(table: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The distinct rows of ``table`` and, for each row, the position of its
    distinct row (so predictions per kind of customer are computed once)."""
    codes, _ = pd.factorize(pd.MultiIndex.from_frame(table.astype(object)))
    first = pd.Series(np.arange(len(codes))).groupby(codes).first().to_numpy()
    return table.iloc[first].reset_index(drop=True), np.asarray(codes)


def kwargs(table: pd.DataFrame | None) -> dict[str, Any]:
    """The prediction keywords of a covariate table (none without one)."""
    return {} if table is None else {"purchase_covariates": table}
