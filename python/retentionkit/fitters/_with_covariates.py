"""What the fitters with time-invariant covariates share (the transaction models'
and the Gamma-Gamma's): the covariate keywords of ``fit``, the fit of the native
model with covariates, ``params_`` with coefficient names, and persistence.

A fitter using :class:`CovariateFitter` sets ``_covariate_core_class`` to the
native model with covariates (``retentionkit._core.*CovariatesModel``); its
processes (``PROCESSES``) give the groups of covariates it takes (see
:mod:`retentionkit._covariates`): ``purchase`` and ``dropout`` for the
transaction models, ``spend`` for the Gamma-Gamma.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, cast

import numpy as np
import pandas as pd

from .._covariates import (
    Covariates,
    Design,
    Encoding,
    argument,
    fit_design,
    groups_of,
    has_covariates,
    not_supported,
    params_design,
    prediction_matrix,
)
from .._validation import FloatArray, Prepared, Result, name_rows, prepare
from .base import BaseFitter, ParamsLike

__all__ = ["COVARIATES_ATTR", "CovariateFitter"]

#: The key of a saved model that holds its covariates' encoding (the Rust crate
#: ignores it).
COVARIATES_ATTR = "covariates"

#: ``BaseFitter.params_``, whose setter the mixin extends to coefficients.
_BASE_PARAMS = cast(property, BaseFitter.__dict__["params_"])


class CovariateFitter(BaseFitter):
    """Base class of the fitters whose models take covariates; not used directly."""

    #: The native model with covariates (``retentionkit._core.*CovariatesModel``).
    _covariate_core_class: ClassVar[Any] = None
    #: How the covariates of the fit become the model's columns (None without
    #: covariates, or when the coefficients were set through ``params_``).
    _encoding: Encoding | None = None
    #: The ``covariate_penalizer`` of the last fit with covariates.
    covariate_penalizer_: Any = None
    #: The design of the covariate fit under way (set by ``_native_fit``).
    _last_design: Any = None

    # -- fit -----------------------------------------------------------------------

    def _covariate_groups(self) -> list[str]:
        cls = self._covariate_core_class
        return [] if cls is None else groups_of(cls.PROCESSES)

    def _request(
        self,
        first: Any,
        given: dict[str, Covariates | None],
        cols: Mapping[str, Sequence[str] | None],
        shared_covariates: Sequence[str],
        covariate_penalizer: float | Sequence[float],
    ) -> dict[str, Any] | None:
        """The covariate keywords of ``fit`` as one request (None without any):
        ``given`` group -> table, ``cols`` group -> columns of the DataFrame
        ``first``."""
        for group, names in cols.items():
            if names is None:
                continue
            if given[group] is not None:
                raise ValueError(
                    f"pass either {argument(group)} or {group}_covariate_cols, not both"
                )
            if not isinstance(first, pd.DataFrame):
                raise ValueError(
                    f"{group}_covariate_cols names columns of the DataFrame given to fit; "
                    f"without one, pass {argument(group)}"
                )
            names = [names] if isinstance(names, str) else list(names)
            missing = [c for c in names if c not in first.columns]
            if missing:
                raise ValueError(f"the DataFrame lacks the covariate column(s) {missing}")
            given[group] = first[names]
        needs = " or ".join(argument(g) for g in given)
        if all(z is None for z in given.values()):
            if list(shared_covariates):
                raise ValueError(f"shared_covariates needs {needs}")
            if np.any(np.asarray(covariate_penalizer, dtype=np.float64) != 0):
                raise ValueError(f"covariate_penalizer needs {needs}")
            return None
        if self._covariate_core_class is None:
            raise ValueError(f"{type(self).__name__} does not take covariates")
        if self.penalizer_coef != 0:
            raise ValueError(
                "penalizer_coef (lifetimes' penalty on the model's own parameters) is not "
                "available with covariates; penalise the coefficients with "
                "covariate_penalizer, or set penalizer_coef=0"
            )
        shared = [shared_covariates] if isinstance(shared_covariates, str) else shared_covariates
        return {"given": given, "shared": list(shared), "penalizer": covariate_penalizer}

    def _design(self, covariates: dict[str, Any], index: pd.Index) -> Design:
        """The design of a covariate fit on the customers of ``index``."""
        design = fit_design(
            self._covariate_core_class.PROCESSES,
            covariates["given"],
            covariates["shared"],
            covariates["penalizer"],
            index,
        )
        reserved = [c for c in design.raw.columns if c in (*self._columns, "weights")]
        if reserved:
            raise ValueError(f"a covariate may not be named {reserved[0]!r}: rename it")
        return design

    def _keep_design(self, design: Design | None, penalizer: Any) -> None:
        """Remember the encoding of the fit just made (None: a fit without covariates)."""
        if design is None:
            self._encoding, self.covariate_penalizer_ = None, None
            return
        self._encoding = design.encoding
        self.covariate_penalizer_ = _plain_penalizer(penalizer)

    def _adopt_covariate_model(self, model: Any, encoding: Encoding, penalizer: Any) -> None:
        """Keep a covariate model fitted elsewhere (``retentionkit.dask`` and
        ``retentionkit.spark``): its rows are not here, so ``data`` is None."""
        self._model, self._encoding, self.data = model, encoding, None
        self.covariate_penalizer_ = _plain_penalizer(penalizer)
        self.penalizer_coef = 0.0

    # -- predictions ---------------------------------------------------------------

    def _predict(
        self,
        method: str,
        /,
        *,
        order: tuple[int, ...] | None = None,
        covariates: dict[str, Any] | None = None,
        **inputs: Any,
    ) -> Result:
        """:meth:`BaseFitter._predict`, with the customers' covariates (group ->
        table) when the model has them: the native ``method`` then takes the
        covariate matrix after the inputs."""
        model = self._core()
        given = {g: z for g, z in (covariates or {}).items() if z is not None}
        if not has_covariates(model):
            self._refuse(given)
            return super()._predict(method, order=order, **inputs)
        if not hasattr(model, method):
            raise not_supported(method)
        arrays, z, index, scalar = covariate_inputs(
            model, self._encoding, given, prepare(**inputs), self._covariate_arguments()
        )
        with name_rows(index):
            values = np.asarray(getattr(model, method)(*arrays, z))
        if scalar:
            return float(values[0])
        return values if index is None else pd.Series(values, index=index)

    def _refuse(self, given: Mapping[str, Any]) -> None:
        """The error of covariates given to a model without them."""
        groups = [g for g, z in given.items() if z is not None]
        if groups:
            raise ValueError(
                f"this {type(self).__name__} has no covariates (it was fitted, or its "
                f"params_ set, without them): do not pass "
                f"{' and '.join(argument(g) for g in groups)}"
            )

    def _covariate_arguments(self) -> list[str]:
        """The keywords of the covariates of this fitter's predictions."""
        return [argument(g) for g in self._covariate_groups()]

    # -- parameters ----------------------------------------------------------------

    @property
    def _param_names(self) -> list[str]:
        names = getattr(self._model, "param_names", None)
        return list(self._core_class.PARAM_NAMES) if names is None else list(names)

    def _set_params(self, value: ParamsLike) -> None:
        cls = self._covariate_core_class
        current: Any = self._model if has_covariates(self._model) else None
        by_name = isinstance(value, (pd.Series, dict))
        named = by_name and any(":" in str(k) for k in value.keys())  # type: ignore[union-attr]
        if cls is None or (not named and (by_name or current is None)):
            previous, self._model = self._model, None  # the plain model's names
            try:
                _BASE_PARAMS.fset(self, value)  # type: ignore[misc]
            except BaseException:
                self._model = previous
                raise
            self._encoding = None
            return
        if isinstance(value, (pd.Series, dict)):
            given = {str(k): v for k, v in value.items()}
        else:
            flat = np.asarray(value, dtype=np.float64).reshape(-1)
            names = list(current.param_names)
            if len(flat) != len(names):
                raise ValueError(f"params_ needs {len(names)} values, in the order {names}")
            given = dict(zip(names, flat))
        values, columns, by_process, shared = params_design(cls, given)
        self._model = cls.from_params(values, columns, by_process, shared)
        if self._encoding is not None and set(columns) != {
            e for c in self._encoding.levels for e in self._encoding.encoded(c)
        }:
            self._encoding = None

    params_ = property(_BASE_PARAMS.fget, _set_params, doc=_BASE_PARAMS.__doc__)

    # -- persistence ------------------------------------------------------------

    def _native_class_of(self, text: str) -> Any:
        cls = self._covariate_core_class
        if cls is not None and json.loads(text).get("model") == cls.MODEL_NAME:
            return cls
        return self._core_class

    def _model_json(self) -> str:
        text = super()._model_json()
        if not has_covariates(self._model):
            return text
        saved = json.loads(text)
        saved[COVARIATES_ATTR] = {
            "encoding": None if self._encoding is None else self._encoding.to_json(),
            "penalizer": self.covariate_penalizer_,
        }
        return json.dumps(saved, indent=2)

    def _set_model_json(self, text: str) -> None:
        super()._set_model_json(text)
        self._encoding, self.covariate_penalizer_ = None, None
        if has_covariates(self._model):
            self.penalizer_coef = 0.0
            extra = json.loads(text).get(COVARIATES_ATTR) or {}
            if extra.get("encoding") is not None:
                self._encoding = Encoding.from_json(extra["encoding"])
            self.covariate_penalizer_ = extra.get("penalizer")

    def _fitted_covariates(self) -> pd.DataFrame | None:
        """The covariate columns of the fitted data (None without them)."""
        if self._encoding is None or self.data is None:
            return None
        return self.data[[c for c in self._encoding.levels if c in self.data.columns]]


def covariate_inputs(
    model: Any,
    encoding: Encoding | None,
    given: Mapping[str, Covariates],
    p: Prepared,
    arguments: Sequence[str],
) -> tuple[tuple[FloatArray, ...], FloatArray, pd.Index | None, bool]:
    """The inputs of a native method with covariates, one row per customer.

    Returns the prepared arrays, the covariate matrix (``model.columns``), the
    customers' labels and whether the result is one number. Scalar inputs with
    covariates of several rows are one customer per row (labelled like a
    DataFrame of covariates); one row of covariates applies to every customer.
    """
    if len(p.shape) > 1:
        raise ValueError(
            f"with covariates, the inputs must be one value per customer, got shape {p.shape}"
        )
    n = None if p.shape == () else p.shape[0]
    # Rows of errors in the covariates: the customers' (the covariates' own
    # when they alone give the customers, or one row is broadcast).
    first = next(iter(given.values()), None)
    own = n is None or (n != 1 and all(len(np.asarray(z)) == 1 for z in given.values()))
    rows_index = getattr(first, "index", None) if own else p.index
    with name_rows(rows_index):
        z, index = prediction_matrix(encoding, model.columns, given, p.index, n, arguments)
    rows = len(z)
    if n is None:
        arrays = tuple(np.full(rows, a[0]) for a in p.arrays)
    else:
        arrays = p.arrays
        if rows != n:
            z = np.ascontiguousarray(np.repeat(z, n, axis=0))
    return arrays, z, index, n is None and rows == 1 and index is None


def _plain_penalizer(penalizer: Any) -> Any:
    """A penalizer as JSON-friendly floats."""
    values = np.asarray(penalizer, dtype=np.float64)
    return float(values) if values.ndim == 0 else [float(v) for v in values.reshape(-1)]
