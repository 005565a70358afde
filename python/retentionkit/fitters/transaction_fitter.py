"""Fitters of the non-contractual (x, t_x, T) models, with the ``lifetimes`` interface.

:class:`TransactionFitter` holds everything BG/NBD, MBG/NBD and Pareto/NBD share:
fitting, the predictions (computed in the Rust core, in parallel, without the GIL)
and simulation. Each model's class names its native model and a table of its
formulas (``_docs``); the method docstrings below are templates that
:meth:`TransactionFitter.__init_subclass__` fills from that table, so that
``help(ParetoNBDFitter.fit)`` shows the Pareto/NBD likelihood and parameters, not
BG/NBD's, while the method bodies are shared.
"""

from __future__ import annotations

import string
import types
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._validation import ArrayLike, FloatArray, Result
from .base import BaseFitter, _per_customer, _seed, _whole_number

__all__ = ["TransactionFitter"]

#: The largest P(alive) matrix computed (cells), about 80 MB of float64.
MAX_MATRIX_CELLS = 10_000_000


class TransactionFitter(BaseFitter):
    """Base class of the (frequency, recency, T) models; not used directly.

    Subclasses set ``_core_class`` to the native model, ``_dropout_column`` to
    the name of the simulated drop-out parameter (``p`` or ``mu``) and ``_docs``
    to the table of their formulas that fills the methods' docstrings (keys: see
    ``_GENERIC_DOCS``).
    """

    _columns: ClassVar[tuple[str, ...]] = ("frequency", "recency", "T")
    _dropout_column: ClassVar[str] = "p"
    _docs: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "_docs" in cls.__dict__:
            _fill_docstrings(cls, {**_GENERIC_DOCS, **cls._docs})

    def fit(
        self,
        frequency: ArrayLike | pd.DataFrame,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        weights: ArrayLike | None = None,
        initial_params: Any | None = None,
        verbose: bool = False,
        tol: float = 1e-8,
        index: Any | None = None,
        max_iterations: int = 200,
    ) -> TransactionFitter:
        r"""Fit $model by maximising its log-likelihood ($likelihood_ref).

        .. math::

            $likelihood

        Parameters
        ----------
        frequency : array_like or pandas.DataFrame
            Number of repeat purchases :math:`x`; or a DataFrame with columns
            ``frequency``, ``recency``, ``T`` and optionally ``weights``.
        recency : array_like
            Time of the last repeat purchase :math:`t_x` (0 when ``x == 0``).
        T : array_like
            Time since the first purchase. Scalars are broadcast.
        weights : array_like, optional
            Number of customers with each history (default 1 each).
        initial_params : sequence of $n_params floats, optional
            Starting values ``$param_tuple``.
        verbose : bool, default False
            Print the optimiser's progress.
        tol : float, default 1e-8
            Convergence tolerance of the optimiser.
        index : array_like, optional
            Index of ``data``; by default the index of the input Series/DataFrame.
        max_iterations : int, default 200
            Iteration limit of the optimiser.$fit_extra

        Returns
        -------
        $class_name
            ``self``, fitted.

        Raises
        ------
        ValueError
            On invalid data; the message names the rule and the first offending row.
        retentionkit.ConvergenceError
            If the optimiser does not converge (a ``ValueError`` subclass).
        """
        self._fit(
            frequency,
            (recency, T),
            weights,
            index=index,
            initial_params=initial_params,
            tol=tol,
            max_iterations=max_iterations,
            verbose=verbose,
        )
        return self

    # -- predictions -------------------------------------------------------------

    def conditional_expected_number_of_purchases_up_to_time(
        self,
        t: ArrayLike,
        frequency: ArrayLike | None = None,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> Result:
        r"""Expected number of purchases in the next ``t`` periods, given the history.

        Under $model ($conditional_ref),
        with parameters $params:

        .. math::

            $conditional

        Parameters
        ----------
        t : array_like
            Length of the horizon.
        frequency, recency, T : array_like, optional
            Customer histories; all omitted means the fitted data.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Broadcast over the inputs; a Series with the input's index when a
            Series is given (or the fitted data is used).
        """
        return self._predict(
            "conditional_expected_number_of_purchases_up_to_time",
            t=t,
            **self._history(frequency, recency, T),
        )

    predict = conditional_expected_number_of_purchases_up_to_time

    def conditional_probability_alive(
        self,
        frequency: ArrayLike | None = None,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> Result:
        r"""Probability that a customer with the given history is still active.

        Under $model ($alive_ref),
        with parameters $params:

        .. math::

            $alive

        Parameters
        ----------
        frequency, recency, T : array_like, optional
            Customer histories; all omitted means the fitted data.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Values in [0, 1], shaped like the inputs.
        """
        return self._predict(
            "conditional_probability_alive",
            **self._history(frequency, recency, T),
        )

    def conditional_probability_alive_matrix(
        self, max_frequency: int | None = None, max_recency: int | None = None
    ) -> FloatArray:
        """P(alive) on a grid of histories, as in ``lifetimes``.

        Parameters
        ----------
        max_frequency : int, optional
            Largest frequency; default the largest in the fitted data.
        max_recency : int, optional
            Largest recency, also used as every customer's ``T``; default the
            largest ``T`` in the fitted data.

        Returns
        -------
        numpy.ndarray
            Shape ``(max_recency + 1, max_frequency + 1)``; entry ``[t_x, x]`` is
            P(alive) of a customer with frequency ``x``, recency ``t_x`` and
            ``T = max_recency``, as in ``lifetimes``, including column 0 (x = 0
            with the row's recency): the BG family ignores the recency when x = 0
            (1 for BG/NBD in every row), the Pareto/NBD's formula uses it.

        Raises
        ------
        ValueError
            If either bound is not a non-negative whole number, or the matrix would
            have more than ten million cells.
        """
        model = self._core()
        if max_frequency is None or max_recency is None:
            if self.data is None:
                raise ValueError("give max_frequency and max_recency, or fit the model first")
            if max_frequency is None:
                max_frequency = int(self.data["frequency"].max())
            if max_recency is None:
                max_recency = int(self.data["T"].max())
        max_frequency = _whole_number(max_frequency, "max_frequency", 0)
        max_recency = _whole_number(max_recency, "max_recency", 0)
        cells = (max_frequency + 1) * (max_recency + 1)
        if cells > MAX_MATRIX_CELLS:
            raise ValueError(
                f"max_frequency={max_frequency} and max_recency={max_recency} ask for a "
                f"matrix of {cells:,} cells; at most {MAX_MATRIX_CELLS:,} are computed"
            )
        age = float(max_recency)  # T = 0 is valid (first purchase at the end)
        rec, freq = np.meshgrid(
            np.arange(max_recency + 1, dtype=np.float64),
            np.arange(max_frequency + 1, dtype=np.float64),
            indexing="ij",
        )
        alive = model.conditional_probability_alive(
            freq.ravel(), rec.ravel(), np.full(freq.size, age)
        )
        matrix = np.asarray(alive).reshape(freq.shape)
        return matrix

    def expected_number_of_purchases_up_to_time(self, t: ArrayLike) -> Result:
        r"""Expected number of repeat purchases by time ``t`` of a new customer.

        Under $model ($expected_ref),
        with parameters $params:

        .. math::

            $expected

        Parameters
        ----------
        t : array_like
            Time since the first purchase.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Shaped like ``t``.
        """
        return self._predict("expected_number_of_purchases_up_to_time", t=t)

    def probability_of_n_purchases_up_to_time(self, t: ArrayLike, n: ArrayLike) -> Result:
        r"""Probability that a new customer makes exactly ``n`` repeat purchases by ``t``.

        Under $model ($pmf_ref),
        with parameters $params:

        .. math::

            $pmf

        Parameters
        ----------
        t : array_like
            Time since the first purchase.
        n : array_like
            Number of repeat purchases (non-negative integers). Broadcast with ``t``.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        return self._predict("probability_of_n_purchases_up_to_time", t=t, n=n)

    def individual_log_likelihood(
        self,
        frequency: ArrayLike | None = None,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> Result:
        """Log-likelihood of each customer's history under $model: the log of the
        likelihood in :meth:`fit` ($likelihood_ref), at ``params_`` ($params).

        Parameters
        ----------
        frequency, recency, T : array_like, optional
            Customer histories; all omitted means the fitted data (unweighted).

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        return self._predict("individual_log_likelihood", **self._history(frequency, recency, T))

    def discounted_expected_residual_transactions(
        self,
        discount_rate: ArrayLike,
        frequency: ArrayLike | None = None,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> Result:
        r"""Discounted expected residual transactions (DERT) after ``T``.

        Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for
        Customer Base Analysis", JMR 42(4), eq. (1): every future purchase is
        discounted continuously at rate :math:`\delta` per time unit,

        .. math::

            \mathrm{DERT}(\delta \mid x, t_x, T) =
            \int_T^\infty E[\text{purchase rate at } \tau \mid x, t_x, T]\,
            e^{-\delta(\tau - T)}\, d\tau
            = \delta \int_0^\infty e^{-\delta t}\, E[Y(t) \mid x, t_x, T]\, dt.

        $dert
        Multiplied by the expected value of a transaction this is the customer's
        lifetime value under continuous discounting.

        Parameters
        ----------
        discount_rate : float or array_like
            Continuous discount rate :math:`\delta > 0` per time unit of the data;
            for an annual rate ``d`` and weekly data, ``log(1 + d) / 52``.
        frequency, recency, T : array_like, optional
            Customer histories; all omitted means the fitted data.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Non-negative, decreasing in ``discount_rate``; shaped like the inputs.
        """
        return self._predict(
            "discounted_expected_residual_transactions",
            discount_rate=discount_rate,
            **self._history(frequency, recency, T),
        )

    # -- intervals over the parameter uncertainty -------------------------------------

    def conditional_expected_number_of_purchases_up_to_time_interval(
        self,
        t: ArrayLike,
        frequency: ArrayLike | None = None,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int | None = None,
    ) -> pd.DataFrame:
        r"""Conditional expected purchases with an interval over the parameter uncertainty.

        The expectation is that of
        :meth:`conditional_expected_number_of_purchases_up_to_time`. ``n_draws``
        parameter vectors are drawn from the asymptotic normal distribution of the
        log-parameters, :math:`\ln\hat\theta` with covariance
        :math:`D^{-1} \Sigma D^{-1}` (:math:`\Sigma` = ``variance_matrix_``,
        :math:`D = \mathrm{diag}(\hat\theta)`, the delta method), so every draw is
        positive. Each customer's prediction is computed under every draw, and the
        :math:`(1 \mp \text{level})/2` quantiles of those values are the bounds.
        This describes how well the model's *expected* purchases are known, not
        the spread of a customer's actual purchases.

        Parameters
        ----------
        t : array_like
            Length of the horizon.
        frequency, recency, T : array_like, optional
            Customer histories; all omitted means the fitted data.
        level : float, default 0.95
            Coverage of the interval, in (0, 1).
        n_draws : int, default 200
            Number of parameter draws (at least 2).
        seed : int, optional
            Seed of the core's ChaCha8 generator: the same seed gives the same
            intervals.

        Returns
        -------
        pandas.DataFrame
            Columns ``estimate`` (at the maximum-likelihood parameters), ``lower``
            and ``upper``, indexed like the input Series (else 0..n-1).

        Raises
        ------
        ValueError
            If the model has no covariance (parameters set by hand, or a singular
            information matrix) or the inputs are invalid.
        """
        return self._predict_interval(
            "conditional_expected_number_of_purchases_up_to_time_interval",
            level=level,
            n_draws=n_draws,
            seed=seed,
            t=t,
            **self._history(frequency, recency, T),
        )

    def conditional_probability_alive_interval(
        self,
        frequency: ArrayLike | None = None,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int | None = None,
    ) -> pd.DataFrame:
        """P(alive) with an interval over the uncertainty of the estimated parameters.

        The method is that of
        :meth:`conditional_expected_number_of_purchases_up_to_time_interval`.

        Parameters
        ----------
        frequency, recency, T : array_like, optional
            Customer histories; all omitted means the fitted data.
        level : float, default 0.95
            Coverage of the interval, in (0, 1).
        n_draws : int, default 200
            Number of parameter draws (at least 2).
        seed : int, optional
            Seed of the core's random generator.

        Returns
        -------
        pandas.DataFrame
            Columns ``estimate``, ``lower`` and ``upper``, in [0, 1].
        """
        return self._predict_interval(
            "conditional_probability_alive_interval",
            level=level,
            n_draws=n_draws,
            seed=seed,
            **self._history(frequency, recency, T),
        )

    def discounted_expected_residual_transactions_interval(
        self,
        discount_rate: ArrayLike,
        frequency: ArrayLike | None = None,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int | None = None,
    ) -> pd.DataFrame:
        """DERT with an interval over the uncertainty of the estimated parameters.

        See :meth:`discounted_expected_residual_transactions` and
        :meth:`conditional_expected_number_of_purchases_up_to_time_interval`. Cheap
        for the Pareto/NBD (closed form); for BG/NBD and MBG/NBD each draw costs a
        numerical integral per customer.

        Returns
        -------
        pandas.DataFrame
            Columns ``estimate``, ``lower`` and ``upper``.
        """
        return self._predict_interval(
            "discounted_expected_residual_transactions_interval",
            level=level,
            n_draws=n_draws,
            seed=seed,
            discount_rate=discount_rate,
            **self._history(frequency, recency, T),
        )

    # -- simulation -----------------------------------------------------------------

    def generate_new_data(
        self, size: int = 1, seed: int | None = None, T: ArrayLike | None = None
    ) -> pd.DataFrame:
        r"""Simulate customers from the fitted $model.

        $simulation

        Parameters
        ----------
        size : int, default 1
            Number of customers (ignored when ``T`` is an array, whose length
            gives the number).
        seed : int, optional
            Seed of the core's random generator; the same seed gives the same data.
        T : float or array_like, optional
            Observation length of each customer; default 1, as ``lifetimes``'
            ``beta_geometric_nbd_model`` with a scalar ``T``.

        Returns
        -------
        pandas.DataFrame
            Columns ``frequency``, ``recency``, ``T``, ``lambda``, ``$dropout``, ``alive``
            (bool) and ``customer_id`` (0..size-1), like ``lifetimes``.
        """
        model = self._core()
        if T is None:
            T = 1.0
        ages = _per_customer(T, size, "T")
        seed = _seed(seed)
        freq, rec, age, lam, p, alive = model.simulate(ages, int(seed))
        return pd.DataFrame(
            {
                "frequency": freq,
                "recency": rec,
                "T": age,
                "lambda": lam,
                self._dropout_column: p,
                "alive": np.asarray(alive).astype(bool),
                "customer_id": np.arange(len(ages)),
            }
        )


#: The methods whose docstrings are templates filled from a model's ``_docs``.
_TEMPLATED = (
    "fit",
    "conditional_expected_number_of_purchases_up_to_time",
    "conditional_probability_alive",
    "expected_number_of_purchases_up_to_time",
    "probability_of_n_purchases_up_to_time",
    "individual_log_likelihood",
    "discounted_expected_residual_transactions",
    "generate_new_data",
)

#: What the templates say when no model is named (TransactionFitter itself), and
#: the defaults of the optional keys.
_GENERIC_DOCS: dict[str, str] = {
    "model": "the model",
    "class_name": "TransactionFitter",
    "params": "those of the model",
    "param_tuple": "parameters in the order of params_",
    "n_params": "k",
    "likelihood_ref": "see the model's class docstring",
    "likelihood": r"L(\theta \mid x, t_x, T)",
    "conditional_ref": "see the model's class docstring",
    "conditional": r"E[Y(t) \mid x, t_x, T]",
    "alive_ref": "see the model's class docstring",
    "alive": r"P(\text{alive} \mid x, t_x, T)",
    "expected_ref": "see the model's class docstring",
    "expected": r"E[X(t)]",
    "pmf_ref": "see the model's class docstring",
    "pmf": r"P(X(t) = n)",
    "dert": "Each model's class describes how its DERT is computed.",
    "simulation": "Each customer draws their parameters from the fitted mixing "
    "distributions and buys as the model says, over ``[0, T]``.",
    "dropout": "p",
    "fit_extra": "",
}


def _fill_docstrings(cls: type, docs: dict[str, str]) -> None:
    """Give ``cls`` its own copy of each templated method, with the docstring
    filled from ``docs``: math blocks indented under ``.. math::``, prose under
    the docstring's margin. The copy shares the code, defaults and annotations
    of the original; only the docstring differs."""
    values = {key: _indent(text, 12 if key in _MATH_KEYS else 8) for key, text in docs.items()}
    if values["fit_extra"]:  # further parameters of fit, after max_iterations
        values["fit_extra"] = "\n" + " " * 8 + values["fit_extra"]
    for name in _TEMPLATED:
        func = getattr(cls, name)
        template = getattr(func, "__template__", func.__doc__)
        own = func if name in cls.__dict__ else _copy_function(func, cls)
        own.__template__ = template  # type: ignore[attr-defined]
        own.__doc__ = string.Template(template).substitute(values)
        setattr(cls, name, own)
    cls.predict = cls.conditional_expected_number_of_purchases_up_to_time  # type: ignore[attr-defined]


_MATH_KEYS = frozenset({"likelihood", "conditional", "alive", "expected", "pmf"})


def _indent(text: str, width: int) -> str:
    """``text`` with every line after the first indented by ``width`` spaces."""
    first, *rest = text.strip("\n").split("\n")
    return "\n".join([first, *((" " * width + line) if line else "" for line in rest)])


def _copy_function(func: Any, cls: type) -> Any:
    copy = types.FunctionType(
        func.__code__, func.__globals__, func.__name__, func.__defaults__, func.__closure__
    )
    copy.__kwdefaults__ = func.__kwdefaults__
    copy.__annotations__ = dict(func.__annotations__)
    copy.__dict__.update(func.__dict__)
    copy.__module__ = cls.__module__
    copy.__qualname__ = f"{cls.__name__}.{func.__name__}"
    return copy


for _name in _TEMPLATED:
    _method = getattr(TransactionFitter, _name)
    _method.__template__ = _method.__doc__
    _method.__doc__ = string.Template(_method.__doc__).substitute(_GENERIC_DOCS)
del _name, _method
