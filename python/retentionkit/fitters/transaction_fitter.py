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
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._covariates import (
    Covariates,
    has_covariates,
    matrix_of,
    not_supported,
    prediction_table,
)
from .._validation import ArrayLike, FloatArray, Result, name_rows, prepare
from ._with_covariates import CovariateFitter, covariate_inputs
from .base import _interval_frame, _per_customer, _seed, _whole_number

__all__ = ["TransactionFitter"]

#: The columns of ``generate_new_data`` besides the history and the drop-out draw.
_SIMULATED = ("lambda", "alive", "customer_id")

#: The largest P(alive) matrix computed (cells), about 80 MB of float64.
MAX_MATRIX_CELLS = 10_000_000


class TransactionFitter(CovariateFitter):
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
        *,
        purchase_covariates: Covariates | None = None,
        dropout_covariates: Covariates | None = None,
        shared_covariates: Sequence[str] = (),
        covariate_penalizer: float | Sequence[float] = 0.0,
        purchase_covariate_cols: Sequence[str] | None = None,
        dropout_covariate_cols: Sequence[str] | None = None,
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
            Starting values ``$param_tuple``; with covariates, followed by the
            coefficients in the order of ``params_``.
        verbose : bool, default False
            Print the optimiser's progress.
        tol : float, default 1e-8
            Convergence tolerance of the optimiser.
        index : array_like, optional
            Index of ``data``; by default the index of the input Series/DataFrame.
        max_iterations : int, default 200
            Iteration limit of the optimiser.$fit_extra
        $fit_covariates

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
            covariates=self._covariate_request(
                frequency,
                purchase_covariates=purchase_covariates,
                dropout_covariates=dropout_covariates,
                shared_covariates=shared_covariates,
                covariate_penalizer=covariate_penalizer,
                purchase_covariate_cols=purchase_covariate_cols,
                dropout_covariate_cols=dropout_covariate_cols,
            ),
        )
        return self

    # -- covariates --------------------------------------------------------------

    def _covariate_request(
        self,
        first: Any,
        *,
        purchase_covariates: Covariates | None,
        dropout_covariates: Covariates | None,
        shared_covariates: Sequence[str],
        covariate_penalizer: float | Sequence[float],
        purchase_covariate_cols: Sequence[str] | None,
        dropout_covariate_cols: Sequence[str] | None,
    ) -> dict[str, Any] | None:
        """The covariate keywords of ``fit`` as one request (None without any)."""
        return self._request(
            first,
            {"purchase": purchase_covariates, "dropout": dropout_covariates},
            {"purchase": purchase_covariate_cols, "dropout": dropout_covariate_cols},
            shared_covariates,
            covariate_penalizer,
        )

    def _native_fit(
        self,
        arrays: tuple[FloatArray, ...],
        weights: Any,
        index: pd.Index,
        *,
        covariates: dict[str, Any] | None = None,
        **options: Any,
    ) -> Any:
        self._last_design = None
        if covariates is None:
            return super()._native_fit(arrays, weights, index, **options)
        design = self._design(covariates, index)
        options["penalizer_coef"] = 1.0 if any(design.penalties) else 0.0
        model = self._covariate_core_class.fit(
            *arrays,
            design.matrix,
            design.columns,
            design.by_process,
            design.shared,
            penalties=design.penalties,
            weights=weights,
            **options,
        )
        self._last_design = (design, covariates["penalizer"])
        return model

    def _fit(self, first: Any, rest: tuple[Any, ...], weights: Any, **options: Any) -> None:
        self._last_design = None
        super()._fit(first, rest, weights, **options)
        design, penalizer = self._last_design or (None, None)
        self._last_design = None
        self._keep_design(design, penalizer)
        if design is not None:
            assert self.data is not None
            self.data = pd.concat([self.data, design.raw.set_axis(self.data.index)], axis=1)

    def _covariates_of(
        self,
        history: tuple[Any, ...],
        purchase_covariates: Covariates | None,
        dropout_covariates: Covariates | None,
    ) -> dict[str, Any]:
        """The covariates of a prediction: those given, or the fitted data's when
        neither the histories nor covariates are given."""
        given = {"purchase": purchase_covariates, "dropout": dropout_covariates}
        fitted = self._fitted_covariates()
        if fitted is not None and all(v is None for v in (*history, *given.values())):
            return {"fitted": fitted}
        return given

    def _predict_interval(
        self,
        method: str,
        /,
        *,
        level: float,
        n_draws: int,
        seed: int | None,
        covariates: dict[str, Any] | None = None,
        **inputs: Any,
    ) -> pd.DataFrame:
        model = self._core()
        given = {g: z for g, z in (covariates or {}).items() if z is not None}
        if not has_covariates(model):
            self._refuse(given)
            return super()._predict_interval(
                method, level=level, n_draws=n_draws, seed=seed, **inputs
            )
        if not hasattr(model, method):
            raise not_supported(method)
        arrays, z, index, _ = covariate_inputs(
            model, self._encoding, given, prepare(**inputs), self._covariate_arguments()
        )
        with name_rows(index):
            bands = getattr(model, method)(
                *arrays,
                z,
                level=float(level),
                n_draws=_whole_number(n_draws, "n_draws", 0),
                seed=_seed(seed),
            )
        return _interval_frame(bands, index)

    # -- predictions -------------------------------------------------------------

    def conditional_expected_number_of_purchases_up_to_time(
        self,
        t: ArrayLike,
        frequency: ArrayLike | None = None,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        *,
        purchase_covariates: Covariates | None = None,
        dropout_covariates: Covariates | None = None,
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
        $predict_covariates

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Broadcast over the inputs; a Series with the input's index when a
            Series is given (or the fitted data is used).
        """
        return self._predict(
            "conditional_expected_number_of_purchases_up_to_time",
            covariates=self._covariates_of(
                (frequency, recency, T), purchase_covariates, dropout_covariates
            ),
            t=t,
            **self._history(frequency, recency, T),
        )

    predict = conditional_expected_number_of_purchases_up_to_time

    def conditional_probability_alive(
        self,
        frequency: ArrayLike | None = None,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        *,
        purchase_covariates: Covariates | None = None,
        dropout_covariates: Covariates | None = None,
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
        $predict_covariates

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Values in [0, 1], shaped like the inputs.
        """
        return self._predict(
            "conditional_probability_alive",
            covariates=self._covariates_of(
                (frequency, recency, T), purchase_covariates, dropout_covariates
            ),
            **self._history(frequency, recency, T),
        )

    def conditional_probability_alive_matrix(
        self,
        max_frequency: int | None = None,
        max_recency: int | None = None,
        *,
        purchase_covariates: Any = None,
        dropout_covariates: Any = None,
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
        purchase_covariates, dropout_covariates : DataFrame or 2-D array, optional
            For a model with covariates (then required): the traits of the one
            kind of customer the grid is for, one row (a DataFrame with the fit's
            column names, or an array in their order), used in every cell.

        Raises
        ------
        ValueError
            If either bound is not a non-negative whole number, or the matrix would
            have more than ten million cells.
        """
        model = self._core()
        traits = {
            "purchase_covariates": purchase_covariates,
            "dropout_covariates": dropout_covariates,
        }
        # One kind of customer: a table's row is used in every cell, whatever its label.
        given = {
            k: v.reset_index(drop=True) if isinstance(v, pd.DataFrame) else v
            for k, v in traits.items()
            if v is not None
        }
        if has_covariates(model):
            rows = {len(v) for v in given.values() if hasattr(v, "__len__")}
            if not given or rows != {1}:
                raise ValueError(
                    "conditional_probability_alive_matrix of a model with covariates is for "
                    "one kind of customer: pass one row of traits as purchase_covariates "
                    "and/or dropout_covariates"
                )
        elif given:
            raise ValueError("this model has no covariates: do not pass any")
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
        if given:
            alive = self.conditional_probability_alive(
                freq.ravel(), rec.ravel(), np.full(freq.size, age), **given
            )
        else:
            alive = model.conditional_probability_alive(
                freq.ravel(), rec.ravel(), np.full(freq.size, age)
            )
        return np.asarray(alive, dtype=np.float64).reshape(freq.shape)

    def expected_number_of_purchases_up_to_time(
        self,
        t: ArrayLike,
        *,
        purchase_covariates: Covariates | None = None,
        dropout_covariates: Covariates | None = None,
    ) -> Result:
        r"""Expected number of repeat purchases by time ``t`` of a new customer.

        Under $model ($expected_ref),
        with parameters $params:

        .. math::

            $expected

        Parameters
        ----------
        t : array_like
            Time since the first purchase.
        $new_covariates

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Shaped like ``t`` (with covariates: one value per row of covariates
            when ``t`` is a scalar, indexed like a DataFrame of covariates).
        """
        given = {"purchase": purchase_covariates, "dropout": dropout_covariates}
        return self._predict("expected_number_of_purchases_up_to_time", covariates=given, t=t)

    def probability_of_n_purchases_up_to_time(
        self,
        t: ArrayLike,
        n: ArrayLike,
        *,
        purchase_covariates: Covariates | None = None,
        dropout_covariates: Covariates | None = None,
    ) -> Result:
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
        $new_covariates

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        given = {"purchase": purchase_covariates, "dropout": dropout_covariates}
        return self._predict("probability_of_n_purchases_up_to_time", covariates=given, t=t, n=n)

    def individual_log_likelihood(
        self,
        frequency: ArrayLike | None = None,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        *,
        purchase_covariates: Covariates | None = None,
        dropout_covariates: Covariates | None = None,
    ) -> Result:
        """Log-likelihood of each customer's history under $model: the log of the
        likelihood in :meth:`fit` ($likelihood_ref), at ``params_`` ($params).

        Parameters
        ----------
        frequency, recency, T : array_like, optional
            Customer histories; all omitted means the fitted data (unweighted).
        $predict_covariates

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        return self._predict(
            "individual_log_likelihood",
            covariates=self._covariates_of(
                (frequency, recency, T), purchase_covariates, dropout_covariates
            ),
            **self._history(frequency, recency, T),
        )

    def discounted_expected_residual_transactions(
        self,
        discount_rate: ArrayLike,
        frequency: ArrayLike | None = None,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        *,
        purchase_covariates: Covariates | None = None,
        dropout_covariates: Covariates | None = None,
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
        $predict_covariates

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Non-negative, decreasing in ``discount_rate``; shaped like the inputs.
            With covariates, each customer's DERT is that of the model without
            covariates at the customer's own parameters.
        """
        return self._predict(
            "discounted_expected_residual_transactions",
            covariates=self._covariates_of(
                (frequency, recency, T), purchase_covariates, dropout_covariates
            ),
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
        *,
        purchase_covariates: Covariates | None = None,
        dropout_covariates: Covariates | None = None,
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
        purchase_covariates, dropout_covariates : pandas.DataFrame or 2-D array, optional
            Required by a model fitted with covariates, as for
            :meth:`conditional_probability_alive`; the draws then include the
            coefficients, and each customer's prediction under a draw is taken at
            the customer's parameters under that draw.

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
            covariates=self._covariates_of(
                (frequency, recency, T), purchase_covariates, dropout_covariates
            ),
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
        *,
        purchase_covariates: Covariates | None = None,
        dropout_covariates: Covariates | None = None,
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
        purchase_covariates, dropout_covariates : pandas.DataFrame or 2-D array, optional
            Required by a model fitted with covariates, as for
            :meth:`conditional_probability_alive`; the draws then include the
            coefficients, and each customer's prediction under a draw is taken at
            the customer's parameters under that draw.

        Returns
        -------
        pandas.DataFrame
            Columns ``estimate``, ``lower`` and ``upper``, in [0, 1].
        """
        return self._predict_interval(
            "conditional_probability_alive_interval",
            covariates=self._covariates_of(
                (frequency, recency, T), purchase_covariates, dropout_covariates
            ),
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
        *,
        purchase_covariates: Covariates | None = None,
        dropout_covariates: Covariates | None = None,
    ) -> pd.DataFrame:
        """DERT with an interval over the uncertainty of the estimated parameters.

        See :meth:`discounted_expected_residual_transactions` and
        :meth:`conditional_expected_number_of_purchases_up_to_time_interval`. Cheap
        for the Pareto/NBD (closed form); for BG/NBD and MBG/NBD each draw costs a
        numerical integral per customer. With covariates, pass them as to
        :meth:`discounted_expected_residual_transactions` (``purchase_covariates``,
        ``dropout_covariates``); the draws then include the coefficients.

        Returns
        -------
        pandas.DataFrame
            Columns ``estimate``, ``lower`` and ``upper``.
        """
        return self._predict_interval(
            "discounted_expected_residual_transactions_interval",
            covariates=self._covariates_of(
                (frequency, recency, T), purchase_covariates, dropout_covariates
            ),
            level=level,
            n_draws=n_draws,
            seed=seed,
            discount_rate=discount_rate,
            **self._history(frequency, recency, T),
        )

    # -- simulation -----------------------------------------------------------------

    def generate_new_data(
        self,
        size: int = 1,
        seed: int | None = None,
        T: ArrayLike | None = None,
        *,
        purchase_covariates: Covariates | None = None,
        dropout_covariates: Covariates | None = None,
    ) -> pd.DataFrame:
        r"""Simulate customers from the fitted $model.

        $simulation

        With covariates, each simulated customer has one row of traits and draws
        their parameters from the mixing distributions of those traits
        (:math:`\alpha_i = \alpha e^{-\gamma^T z_i}`, and the drop-out
        parameters likewise).

        Parameters
        ----------
        size : int, default 1
            Number of customers (ignored when ``T`` is an array, whose length
            gives the number, or with a table of several rows of covariates,
            one customer per row).
        seed : int, optional
            Seed of the core's random generator; the same seed gives the same data.
        T : float or array_like, optional
            Observation length of each customer; default 1, as ``lifetimes``'
            ``beta_geometric_nbd_model`` with a scalar ``T``.
        purchase_covariates, dropout_covariates : pandas.DataFrame or 2-D array, optional
            Required by a model with covariates (refused by one without): the
            traits of the simulated customers, one row each, as given to
            :meth:`fit` (one DataFrame holding every covariate column may be
            passed as either); a single row applies to all ``size`` customers.

        Returns
        -------
        pandas.DataFrame
            Columns ``frequency``, ``recency``, ``T``, ``lambda``, ``$dropout``, ``alive``
            (bool) and ``customer_id`` (0..size-1), like ``lifetimes``. With
            covariates, ``lambda`` and ``$dropout`` are each customer's draws,
            ``customer_id`` is the label of the customer's row of covariates (a
            DataFrame's index, else 0..size-1) and the covariate columns, as given,
            follow.
        """
        model = self._core()
        given = {"purchase": purchase_covariates, "dropout": dropout_covariates}
        if T is None:
            T = 1.0
        seed = _seed(seed)
        if not has_covariates(model):
            self._refuse(given)
            ages = _per_customer(T, size, "T")
            simulated = model.simulate(ages, int(seed))
            return self._simulated_frame(simulated, np.arange(len(ages)))
        raw, labels = prediction_table(self._encoding, model.columns, given, None, None)
        clash = [c for c in raw.columns if c in (*self._columns, *_SIMULATED, self._dropout_column)]
        if clash:
            raise ValueError(
                f"a covariate named {clash[0]!r} would hide the simulated column of that "
                "name: rename it"
            )
        if len(raw) == 1:
            ages = _per_customer(T, size, "T")
            raw = raw.iloc[np.zeros(len(ages), dtype=np.intp)].reset_index(drop=True)
            ids: Any = np.arange(len(ages))
        else:
            if _whole_number(size, "size", 0) not in (1, len(raw)):
                raise ValueError(
                    f"size={size} but the covariates have {len(raw)} rows (one simulated "
                    "customer per row): leave size out"
                )
            ages = np.asarray(T, dtype=np.float64)
            if ages.ndim == 0:
                ages = np.full(len(raw), float(ages))
            elif ages.shape != (len(raw),):
                raise ValueError(
                    f"T has shape {ages.shape} for {len(raw)} rows of covariates: give one "
                    "T, or one per row"
                )
            ids = np.arange(len(raw)) if labels is None else labels.to_numpy()
        with name_rows(None if len(raw) == 1 else labels):
            z = matrix_of(raw, self._encoding, model.columns)
            simulated = model.simulate(ages, z, int(seed))
        frame = self._simulated_frame(simulated, ids)
        return pd.concat([frame, raw.set_axis(frame.index)], axis=1)

    def _simulated_frame(self, simulated: tuple[Any, ...], ids: Any) -> pd.DataFrame:
        """The core's simulated columns as ``lifetimes``' DataFrame."""
        freq, rec, age, lam, dropout, alive = simulated
        return pd.DataFrame(
            {
                "frequency": freq,
                "recency": rec,
                "T": age,
                "lambda": lam,
                self._dropout_column: dropout,
                "alive": np.asarray(alive).astype(bool),
                "customer_id": ids,
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
    "fit_covariates": """
purchase_covariates, dropout_covariates : pandas.DataFrame or 2-D array, optional
    Time-invariant covariates of each customer's purchase and drop-out
    processes (see :mod:`retentionkit._covariates`): :math:`\\alpha_i = \\alpha
    e^{-\\gamma^T z_i}` for the purchases, the drop-out parameter(s) scaled by
    :math:`e^{\\pm\\gamma^T z_i}`. A DataFrame is aligned by label on the index
    of the histories (``index``, else the frequency Series'; a customer without
    a row is an error); an array is taken in row order, its columns named
    ``purchase_0``, ... A categorical column (``category``, ``object``,
    ``string`` or ``bool``) becomes one dummy ``<column>[<level>]`` per level
    but the first in sorted order (the reference level, with the base
    parameters). Coefficients are named $covariate_names. With all
    coefficients 0 the model is the one without covariates. ``data`` keeps
    the covariate columns as given, after the histories.
purchase_covariate_cols, dropout_covariate_cols : list of str, optional
    The same, as columns of the DataFrame given as ``frequency``.
shared_covariates : list of str, optional
    Covariates with one coefficient ``shared:<column>`` in every process (an
    equality constraint) instead of one per process.
covariate_penalizer : float or (float, float), default 0.0
    L2 penalty λ on the coefficients (not on the model's own parameters):
    the fit minimises :math:`-LL/N + \\sum_k \\lambda_k \\gamma_k^2`
    (CLVTools' ``reg.lambdas``), with one λ, or (λ_purchase, λ_dropout);
    shared coefficients take the larger. 0 is the maximum-likelihood fit.
    Kept as ``covariate_penalizer_``. Covariate fits need ``penalizer_coef = 0``.
""",
    "covariate_names": "``purchase:<column>`` and, for the drop-out parameters, "
    "``<process>:<column>``",
    "predict_covariates": """
purchase_covariates, dropout_covariates : pandas.DataFrame or 2-D array, optional
    Required by a model fitted with covariates (refused by one without): the
    customers' covariates, as given to :meth:`fit` (one DataFrame holding
    every covariate column may be passed as either); a DataFrame is aligned
    by label on the index of the histories, a single row applies to every
    customer. Omitted with the histories, the fitted data's covariates are used.
""",
    "new_covariates": """
purchase_covariates, dropout_covariates : pandas.DataFrame or 2-D array, optional
    Required by a model fitted with covariates (refused by one without): the
    traits of the new customers, one row each, as given to :meth:`fit` (one
    DataFrame holding every covariate column may be passed as either);
    broadcast with the other inputs.
""",
}


def _fill_docstrings(cls: type, docs: dict[str, str]) -> None:
    """Give ``cls`` its own copy of each templated method, with the docstring
    filled from ``docs``: math blocks indented under ``.. math::``, prose under
    the docstring's margin. The copy shares the code, defaults and annotations
    of the original; only the docstring differs."""
    values = _template_values(docs)
    for name in _TEMPLATED:
        func = getattr(cls, name)
        template = getattr(func, "__template__", func.__doc__)
        own = func if name in cls.__dict__ else _copy_function(func, cls)
        own.__template__ = template  # type: ignore[attr-defined]
        own.__doc__ = string.Template(template).substitute(values)
        setattr(cls, name, own)
    cls.predict = cls.conditional_expected_number_of_purchases_up_to_time  # type: ignore[attr-defined]


_MATH_KEYS = frozenset({"likelihood", "conditional", "alive", "expected", "pmf"})


def _template_values(docs: dict[str, str]) -> dict[str, str]:
    """The templates' values, each line after the first indented to where it goes."""
    docs = {**docs, "fit_covariates": string.Template(docs["fit_covariates"]).substitute(docs)}
    values = {key: _indent(text, 12 if key in _MATH_KEYS else 8) for key, text in docs.items()}
    if values["fit_extra"]:  # further parameters of fit, after max_iterations
        values["fit_extra"] = "\n" + " " * 8 + values["fit_extra"]
    return values


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
    # indented as for a model's own copy (unindented, the multi-line values broke the
    # docstring's sections for Sphinx)
    _method.__doc__ = string.Template(_method.__doc__).substitute(_template_values(_GENERIC_DOCS))
del _name, _method
