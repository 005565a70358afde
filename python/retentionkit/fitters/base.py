"""What every fitter shares: parameters, fit statistics, persistence, ``repr``.

A fitter holds one object of the native module (for instance
``retentionkit._core.BetaGeoModel``) that carries the parameters and, after a fit,
the log-likelihood, the covariance of the estimates and the number of customers.
This module turns those into the pandas objects ``lifetimes`` users know.
"""

from __future__ import annotations

import functools
import json
import math
import os
import types
import warnings
from typing import Any, ClassVar, Protocol, Union

import numpy as np
import numpy.typing as npt
import pandas as pd

from .._frames import accept_frames_in_methods
from .._validation import ArrayLike, FloatArray, Result, name_rows, plain, prepare
from ._discounting import FREQ_CODES, TIME_UNIT_ATTR, time_unit_of

__all__ = ["BaseFitter", "NotFittedError"]

#: Two-sided 95% quantile of the standard normal, as in ``lifetimes``' summary.
_Z95 = 1.959963984540054

ParamsLike = Union[pd.Series, dict[str, float], npt.ArrayLike]


class NotFittedError(ValueError, AttributeError):
    """A fitter was asked for something that needs ``fit`` (or ``params_``) first."""


class CoreModel(Protocol):
    """The part of a native model class that :class:`BaseFitter` uses."""

    PARAM_NAMES: list[str]
    MODEL_NAME: str

    @property
    def params(self) -> FloatArray: ...
    @property
    def log_likelihood(self) -> float | None: ...
    @property
    def covariance(self) -> FloatArray | None: ...
    @property
    def n_customers(self) -> float | None: ...
    @property
    def penalizer_coef(self) -> float: ...
    def to_json(self) -> str: ...


def _parse_saved_model(text: str) -> dict[str, Any]:
    """The JSON object of a saved model, or a ValueError that says what is wrong.

    The native reader checks every field; this catches what it cannot name:
    text that is not JSON, and the ``NaN`` and ``Infinity`` that Python's
    ``json`` writes but JSON does not have (reported with the field's path).
    """
    try:
        saved = json.loads(text)
    except ValueError as error:
        raise ValueError(f"cannot read model: the text is not JSON ({error})") from None
    if not isinstance(saved, dict):
        raise ValueError(f"cannot read model: expected a JSON object, got {type(saved).__name__}")

    def check(value: Any, path: str) -> None:
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(
                f'cannot read model: "{path}" is {value}; a saved model holds finite numbers'
            )
        if isinstance(value, dict):
            for key, item in value.items():
                check(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                check(item, f"{path}[{i}]")

    check(saved, "")
    return saved


class _class_or_instance_method:
    """A method that, called on the class, runs on a new instance (``cls()``).

    ``BetaGeoFitter.load_model(path)`` and ``BetaGeoFitter().load_model(path)``
    both work, as ``lifetimes`` users write either.
    """

    def __init__(self, func: Any) -> None:
        self.func = func
        functools.update_wrapper(self, func)  # type: ignore[arg-type]

    def __get__(self, obj: Any, cls: Any = None) -> Any:
        target = cls() if obj is None else obj
        return types.MethodType(self.func, target)


class BaseFitter:
    """Base class of the fitters; not used directly.

    Subclasses set ``_core_class`` to the native model class, which provides
    ``PARAM_NAMES``, ``from_params`` and ``from_json``.

    Attributes
    ----------
    penalizer_coef : float
        Coefficient of the L2 penalty on the parameters used by ``fit``.
    data : pandas.DataFrame or None
        The data of the last ``fit`` (columns ``frequency``, ``recency``, ``T``,
        ``weights``), indexed like the input.
    time_unit_ : str or None
        The time unit of the data of the last ``fit`` ("H", "D", "W" or "M"), when
        it was fitted on a summary that records it in ``attrs["time_unit"]`` (as
        :func:`~retentionkit.utils.summary_data_from_transaction_data` does);
        None when unknown. Kept by ``save_model`` and pickling.
    """

    _core_class: ClassVar[Any]
    #: The columns of a customer's history (of ``data``, of a DataFrame given to
    #: ``fit``), in the order the native ``fit`` and predictions take them.
    _columns: ClassVar[tuple[str, ...]] = ()
    #: Other names a DataFrame given to ``fit`` may use for a column, in order of
    #: preference after the column's own name.
    _column_aliases: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # polars/pyarrow arguments in, results in their library (retentionkit._frames)
        accept_frames_in_methods(cls)

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        self.penalizer_coef = float(penalizer_coef)
        self.data: pd.DataFrame | None = None
        self._model: CoreModel | None = None
        self.time_unit_: str | None = None

    # -- the native model -------------------------------------------------------

    def _core(self) -> Any:
        """The native model; raises :class:`NotFittedError` when there is none."""
        if self._model is None:
            raise NotFittedError(
                f"this {type(self).__name__} has no parameters yet: call fit() first, "
                "or set params_ to known values"
            )
        return self._model

    def _fit_statistic(self, value: Any, name: str) -> Any:
        if value is None:
            raise NotFittedError(
                f"{name} is only available after fit(); the parameters of this "
                f"{type(self).__name__} were set by hand or loaded without fit statistics"
            )
        return value

    @property
    def _param_names(self) -> list[str]:
        return list(self._core_class.PARAM_NAMES)

    # -- the generic routines behind fit and the predictions ---------------------

    def _fit_inputs(
        self, first: Any, rest: tuple[Any, ...], weights: Any
    ) -> tuple[dict[str, Any], Any]:
        """The ``_columns`` given to ``fit``, one by one or as one DataFrame.

        Returns the columns by name and the weights (a DataFrame's ``weights``
        column unless they are given).
        """
        names = _and(self._columns)
        if isinstance(first, pd.DataFrame):
            frame = first
            if any(v is not None for v in rest):
                raise ValueError(f"pass either a DataFrame or {names}, not both")
            found = {c: self._frame_column(frame, c) for c in self._columns}
            missing = [
                _column_label(c, self._column_aliases) for c, f in found.items() if f is None
            ]
            if missing:
                raise ValueError(f"the DataFrame lacks the column(s) {missing}")
            if weights is None and "weights" in frame.columns:
                weights = frame["weights"]
            return {c: frame[f] for c, f in found.items()}, weights
        if any(v is None for v in rest):
            raise ValueError(f"fit needs {names} (or one DataFrame)")
        return dict(zip(self._columns, (first, *rest))), weights

    def _frame_column(self, frame: pd.DataFrame, column: str) -> str | None:
        """The name under which ``frame`` holds ``column``, or None."""
        names = (column, *self._column_aliases.get(column, ()))
        return next((n for n in names if n in frame.columns), None)

    def _history(self, *given: ArrayLike | None) -> dict[str, Any]:
        """The given history (values of ``_columns``), or the fitted data's when
        none is given."""
        names = _and(self._columns)
        if all(v is not None for v in given):
            return dict(zip(self._columns, given))
        if any(v is not None for v in given):
            raise ValueError(f"give all of {names}, or none (to use the fitted data)")
        if self.data is None:
            raise ValueError(f"no {names} given and no fitted data to use: pass them explicitly")
        return {c: self.data[c] for c in self._columns}

    def _predict(
        self, method: str, /, *, order: tuple[int, ...] | None = None, **inputs: Any
    ) -> Result:
        """Call the native ``method`` on ``inputs``, shaped back like the inputs.

        The inputs are converted and broadcast by :func:`prepare` (the first
        Series gives the result's index) and passed in the order given, or in
        ``order`` (positions in the keywords' order) when the native method
        takes them otherwise. Errors naming a row get its index label.
        """
        model = self._core()
        p = prepare(**inputs)
        arrays = p.arrays if order is None else tuple(p.arrays[i] for i in order)
        with name_rows(p.index):
            values = getattr(model, method)(*arrays)
        return p.wrap(values)

    def _predict_interval(
        self, method: str, /, *, level: float, n_draws: int, seed: int | None, **inputs: Any
    ) -> pd.DataFrame:
        """Call the native interval ``method`` on ``inputs``, as :meth:`_predict`.

        Returns the core's (estimate, lower, upper) as a DataFrame indexed like
        the input Series (else 0..n-1).
        """
        model = self._core()
        p = prepare(**inputs)
        with name_rows(p.index):
            bands = getattr(model, method)(
                *p.arrays,
                level=float(level),
                n_draws=_whole_number(n_draws, "n_draws", 0),
                seed=_seed(seed),
            )
        return _interval_frame(bands, p.index)

    # -- parameters and fit statistics ------------------------------------------

    @property
    def params_(self) -> pd.Series:
        """The parameters as a Series indexed by their names.

        Assigning a Series or dict (keyed by name) or a sequence (in the order of
        the names) builds a model with those parameters and no fit statistics, so
        that known parameters can be used for prediction, as with ``lifetimes``.
        """
        return pd.Series(np.array(self._core().params), index=self._param_names, dtype=float)

    @params_.setter
    def params_(self, value: ParamsLike) -> None:
        names = self._param_names
        if isinstance(value, (pd.Series, dict)):
            given = dict(value.items())
            unknown = sorted(set(map(str, given)) - set(names))
            missing = [n for n in names if n not in given]
            if unknown or missing:
                raise ValueError(
                    f"params_ needs exactly the parameters {names}; "
                    f"missing {missing}, unknown {unknown}"
                )
            values = [float(given[n]) for n in names]
        else:
            values = [float(v) for v in np.asarray(value, dtype=np.float64).reshape(-1)]
        self._model = self._core_class.from_params(values)

    @property
    def log_likelihood_(self) -> float:
        """Total log-likelihood of the fitted data at ``params_`` (sum over customers)."""
        return float(self._fit_statistic(self._core().log_likelihood, "log_likelihood_"))

    @property
    def n_customers_(self) -> float:
        """Number of customers in the likelihood (the sum of their weights).

        Customers first seen at the end of observation (``T = 0``) carry no information
        (their likelihood is 1 whatever the parameters) and are not counted, so adding
        them changes neither the estimates, nor the log-likelihood, nor the BIC.
        """
        return float(self._fit_statistic(self._core().n_customers, "n_customers_"))

    @property
    def variance_matrix_(self) -> pd.DataFrame:
        """Estimated covariance of the parameters (inverse observed information).

        All NaN when the core could not compute it (singular information matrix)
        or the parameters were set by hand.
        """
        cov = self._core().covariance
        names = self._param_names
        if cov is None:
            cov = np.full((len(names), len(names)), np.nan)
        return pd.DataFrame(np.array(cov, dtype=float), index=names, columns=names)

    @property
    def standard_errors_(self) -> pd.Series:
        """Standard errors of the parameters (NaN when there is no covariance)."""
        variances = np.diag(self.variance_matrix_.to_numpy())
        with np.errstate(invalid="ignore"):
            se = np.sqrt(variances)
        return pd.Series(se, index=self._param_names, dtype=float)

    @property
    def confidence_intervals_(self) -> pd.DataFrame:
        """Normal-approximation 95% intervals: ``coef ± 1.96 se``."""
        return self.summary[["lower 95% bound", "upper 95% bound"]]

    @property
    def summary(self) -> pd.DataFrame:
        """Parameter table with columns ``coef``, ``se(coef)`` and 95% bounds."""
        coef = self.params_
        se = self.standard_errors_
        return pd.DataFrame(
            {
                "coef": coef,
                "se(coef)": se,
                "lower 95% bound": coef - _Z95 * se,
                "upper 95% bound": coef + _Z95 * se,
            },
            index=coef.index,
        )

    @property
    def aic(self) -> float:
        """Akaike information criterion, ``2k - 2 LL`` with k the number of parameters."""
        return 2.0 * len(self._param_names) - 2.0 * self.log_likelihood_

    @property
    def bic(self) -> float:
        """Bayesian information criterion, ``k ln(n) - 2 LL``, n = :attr:`n_customers_`."""
        k = len(self._param_names)
        return k * math.log(self.n_customers_) - 2.0 * self.log_likelihood_

    # -- persistence -----------------------------------------------------------

    def _fit(self, first: Any, rest: tuple[Any, ...], weights: Any, **options: Any) -> None:
        """Fit the native model on the ``_columns`` given to ``fit`` (see
        :meth:`_fit_inputs`) and keep them, with the weights, as ``data``."""
        columns, weights = self._fit_inputs(first, rest, weights)
        self._model, self.data = self._fit_native(columns, weights, **options)
        self.time_unit_ = time_unit_of(first, *rest)
        # What the core says about a usable but questionable estimate (e.g. the
        # BG/NBD's drop-out heterogeneity not identified), as UserWarnings.
        for message in getattr(self._model, "fit_warnings", ()):
            warnings.warn(message, UserWarning, stacklevel=3)

    def _fit_native(
        self,
        columns: dict[str, Any],
        weights: Any,
        *,
        index: Any,
        initial_params: Any,
        tol: float,
        max_iterations: int,
        verbose: bool,
        **options: Any,
    ) -> tuple[Any, pd.DataFrame]:
        """The native model fitted on one-dimensional columns (in the order the
        native ``fit`` takes them, then further native ``options``), and the
        columns with the weights as a DataFrame; neither is kept."""
        inputs = dict(columns)
        if weights is not None:
            inputs["weights"] = weights
        prepared = prepare(**inputs)
        if len(prepared.shape) != 1:
            raise ValueError(
                f"fit needs one-dimensional data, got inputs of shape {prepared.shape}"
            )
        arrays = prepared.arrays[: len(columns)]
        w = prepared.arrays[len(columns)] if weights is not None else None
        data_index = _data_index(index, prepared.index, len(arrays[0]))
        start, tol, max_iterations = _fit_settings(
            initial_params, tol, max_iterations, self._param_names
        )
        with name_rows(data_index):
            model = self._native_fit(
                arrays,
                w,
                data_index,
                penalizer_coef=self.penalizer_coef,
                initial_params=start,
                tol=tol,
                max_iterations=max_iterations,
                verbose=verbose,
                **options,
            )
        frame = dict(zip(columns, arrays))
        frame["weights"] = np.ones_like(arrays[0]) if w is None else w
        return model, pd.DataFrame(frame, index=data_index, copy=True)

    def _native_fit(
        self, arrays: tuple[FloatArray, ...], weights: Any, index: pd.Index, **options: Any
    ) -> Any:
        """The native ``fit`` on the prepared columns of customers labelled ``index``
        (a subclass may fit another native class, e.g. one with covariates)."""
        return self._core_class.fit(*arrays, weights, **options)

    def save_model(
        self,
        path: str | os.PathLike[str],
        save_data: bool = True,
        save_generate_data_method: bool = True,
        values_to_save: Any = None,
    ) -> None:
        """Write the model as JSON, the format the Rust crate reads and writes.

        The file holds the parameters and fit statistics, never the data, and it
        is text, not ``lifetimes``' dill pickle: it can be read without running
        code, by Python or by Rust.

        Parameters
        ----------
        path : str or os.PathLike
            Where to write.
        save_data, save_generate_data_method, values_to_save
            Accepted for ``lifetimes`` compatibility; they have no effect here,
            since the file never holds the data or methods.
        """
        text = self._model_json()
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)

    @_class_or_instance_method
    def load_model(self, path: str | os.PathLike[str]) -> Any:
        """Read a model written by :meth:`save_model` (or by Rust).

        Called on a fitter, loads into it; called on the class
        (``BetaGeoFitter.load_model(path)``), loads into a new fitter. Either way
        returns the fitter. ``data`` is cleared: the file does not contain it.
        """
        # utf-8-sig: a file saved by an editor with a byte order mark reads too.
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read()
        self._set_model_json(text)
        self.data = None
        return self

    def _model_json(self) -> str:
        """The core's JSON, plus the time unit (a key the Rust crate ignores)."""
        text: str = self._core().to_json()
        if self.time_unit_ is None:
            return text
        saved = json.loads(text)
        saved[TIME_UNIT_ATTR] = self.time_unit_
        return json.dumps(saved, indent=2)

    def _set_model_json(self, text: str) -> None:
        text = text.removeprefix("\ufeff")
        saved = _parse_saved_model(text)
        model = self._native_class_of(text).from_json(text)
        self._model = model
        self.penalizer_coef = float(getattr(model, "penalizer_coef", 0.0))
        unit = saved.get(TIME_UNIT_ATTR)
        self.time_unit_ = unit if unit in FREQ_CODES else None

    def _native_class_of(self, text: str) -> Any:
        """The native class that reads the saved ``text``."""
        return self._core_class

    def __getstate__(self) -> dict[str, Any]:
        return {
            "penalizer_coef": self.penalizer_coef,
            "model": None if self._model is None else self._model_json(),
            "data": self.data,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.penalizer_coef = float(state["penalizer_coef"])
        self.data = state["data"]
        self._model = None
        self.time_unit_ = None
        if state["model"] is not None:
            self._set_model_json(state["model"])
            self.penalizer_coef = float(state["penalizer_coef"])

    def _subjects(self) -> float | None:
        """Number of customers fitted on, those with ``T = 0`` included: the weights of
        ``data``, else the fit's count."""
        if self.data is not None and "weights" in self.data:
            return float(self.data["weights"].sum())
        n: float | None = self._core().n_customers
        return n

    def __repr__(self) -> str:
        name = f"retentionkit.{type(self).__name__}"
        if self._model is None:
            return f"<{name}>"
        n = self._subjects()
        subjects = "" if n is None else f" fitted with {n:.0f} subjects,"
        params = ", ".join(f"{k}: {v:.2f}" for k, v in sorted(self.params_.items()))
        return f"<{name}:{subjects} {params}>"


def _data_index(index: Any, series_index: pd.Index | None, n: int) -> pd.Index:
    if index is not None:
        result: pd.Index = pd.Index(index)
        if len(result) != n:
            raise ValueError(f"index has length {len(result)}, expected {n}")
        return result
    if series_index is not None:
        return series_index
    return pd.RangeIndex(n)


def _and(names: Any) -> str:
    """``"a, b and c"``."""
    names = list(names)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _column_label(column: str, aliases: dict[str, tuple[str, ...]]) -> str:
    """``column``, with its aliases: ``"n_periods (or periods)"``."""
    others = aliases.get(column, ())
    return f"{column} (or {', '.join(others)})" if others else column


def _per_customer(value: Any, size: int, name: str, *, check_size: bool = True) -> FloatArray:
    """``value`` for each simulated customer: a scalar repeated ``size`` times, or
    one value per customer (then ``size`` must be 1 or their number, unless
    ``check_size`` is false)."""
    values = np.asarray(value, dtype=np.float64)
    if values.ndim == 0:
        if size < 0:
            raise ValueError(f"size must be non-negative, got {size}")
        return np.full(int(size), float(values))
    if values.ndim == 1:
        if check_size and size not in (1, len(values)):
            raise ValueError(f"size={size} but {name} has {len(values)} values")
        return np.ascontiguousarray(values)
    raise ValueError(f"{name} must be a scalar or one-dimensional")


def _fresh_seed() -> int:
    """A seed for the core's random generator, from numpy's entropy."""
    return int(np.random.default_rng().integers(0, 2**63 - 1))


def _seed(seed: int | None) -> int:
    """The given seed (a whole number in [0, 2**64)), or a fresh one from numpy's
    entropy."""
    if seed is None:
        return _fresh_seed()
    number = _whole_number(seed, "seed", 0)
    if number >= 2**64:
        raise ValueError(f"seed must be a non-negative integer below 2**64, got {number}")
    return number


def _whole_number(value: Any, name: str, minimum: int) -> int:
    """``value`` as an int of at least ``minimum`` (0 or 1), or a ValueError naming
    the setting (not the OverflowError or TypeError of the native conversion)."""
    kind = "non-negative" if minimum == 0 else "positive"
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise ValueError(f"{name} must be a {kind} integer, got {plain(value)}")
    if isinstance(value, (float, np.floating)) and not (
        math.isfinite(value) and float(value).is_integer()
    ):
        raise ValueError(f"{name} must be a {kind} integer, got {plain(value)}")
    number = int(value)
    if number < minimum:
        raise ValueError(f"{name} must be a {kind} integer, got {number}")
    return number


def _fit_settings(
    initial_params: Any, tol: Any, max_iterations: Any, names: list[str]
) -> tuple[list[float] | None, float, int]:
    """The optimiser's settings, checked: starting values (one positive finite
    number per parameter: every model without covariates has positive
    parameters), a positive finite tolerance and a positive iteration limit.

    Bad settings are reported as such here, not by the optimiser as data that
    "do not identify the model" (``tol=inf`` stopped at once) or as an
    OverflowError (a negative ``max_iterations``).
    """
    if isinstance(tol, (bool, np.bool_)) or not isinstance(tol, (int, float, np.number)):
        raise ValueError(f"tol must be a positive number, got {plain(tol)}")
    if not (math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be positive and finite, got {plain(tol)} (the default is 1e-8)")
    iterations = _whole_number(max_iterations, "max_iterations", 1)
    if initial_params is None:
        return None, float(tol), iterations
    if isinstance(initial_params, (str, bytes, dict)) or np.ndim(initial_params) != 1:
        raise ValueError(
            f"initial_params must be a sequence of {len(names)} numbers "
            f"({', '.join(names)}), got {plain(initial_params)}"
        )
    try:
        start = [float(v) for v in initial_params]
    except (TypeError, ValueError):
        raise ValueError(
            f"initial_params must be numbers ({', '.join(names)}), got {list(initial_params)}"
        ) from None
    if len(start) != len(names):
        raise ValueError(
            f"initial_params has {len(start)} values; it needs {len(names)}, one per "
            f"parameter ({', '.join(names)})"
        )
    for name, value in zip(names, start):
        if not (math.isfinite(value) and value > 0):
            raise ValueError(
                f"initial_params: {name} = {value:g}; every starting value must be "
                "positive and finite"
            )
    return start, float(tol), iterations


def _interval_frame(bands: tuple[Any, Any, Any], index: pd.Index | None) -> pd.DataFrame:
    """The core's (estimate, lower, upper) as a DataFrame indexed like the input."""
    estimate, lower, upper = (np.asarray(b, dtype=np.float64) for b in bands)
    return pd.DataFrame(
        {"estimate": estimate, "lower": lower, "upper": upper},
        index=index if index is not None else pd.RangeIndex(len(estimate)),
    )
