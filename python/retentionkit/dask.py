"""Customer summaries, fits and scores on Dask DataFrames, for logs past one machine.

Three steps, each the single-machine function run where the data is:

1. :func:`summary_data_from_transaction_data` shuffles the transaction log so that
   every customer's transactions are in one partition, then runs
   :func:`retentionkit.utils.summary_data_from_transaction_data` on each
   partition with one global ``observation_period_end`` (computed first when not
   given), so every partition floors it to the same period and the result equals
   the single-machine summary row for row.
2. :func:`fit` counts the customers sharing each (frequency, recency, T) on the
   cluster (``groupby().size()``), brings that small weighted table to the
   client and fits it there with ``weights``: the likelihood of identical rows is
   the same, so the fit equals a fit on every customer.
3. :func:`predict` scores every customer with ``map_partitions``, shipping the
   fitted model (which pickles as its JSON) to the workers.

Dask is imported on first use; install it with ``pip install "retentionkit[dask]"``.

Examples
--------
>>> import dask.dataframe as dd
>>> from retentionkit import BetaGeoFitter
>>> from retentionkit import dask as rkdask
>>> log = dd.read_parquet("transactions/")                    # doctest: +SKIP
>>> summary = rkdask.summary_data_from_transaction_data(log, "id", "date")  # doctest: +SKIP
>>> bgf = rkdask.fit(BetaGeoFitter(), summary)                 # doctest: +SKIP
>>> p_alive = rkdask.predict(bgf, summary, "conditional_probability_alive")  # doctest: +SKIP
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import utils
from ._covariates import (
    distinct_levels,
    is_categorical_dtype,
    named_design,
    partial_sums,
    traits_of,
)

if TYPE_CHECKING:
    import dask.dataframe as dd

__all__ = ["fit", "predict", "summary_data_from_transaction_data"]

HISTORY = ("frequency", "recency", "T")


def _dask_dataframe() -> Any:
    try:
        import dask.dataframe
    except ImportError as exc:
        raise ImportError(
            "retentionkit.dask needs dask with its DataFrame support: "
            'pip install "retentionkit[dask]" (or "dask[dataframe]")'
        ) from exc
    return dask.dataframe


def summary_data_from_transaction_data(
    ddf: dd.DataFrame,
    customer_id_col: str,
    datetime_col: str,
    monetary_value_col: str | None = None,
    datetime_format: str | None = None,
    observation_period_end: Any = None,
    freq: str = "D",
    freq_multiplier: float = 1,
    include_first_transaction: bool = False,
    *,
    drop_invalid: bool = False,
    shuffle: bool = True,
    include_litt: bool = False,
) -> dd.DataFrame:
    """Summarise a Dask transaction log: frequency, recency, T (and monetary value).

    The same summary as :func:`retentionkit.utils.summary_data_from_transaction_data`
    (see there for the definitions), computed partition by partition; the
    arguments are that function's, in its order.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        One row per transaction.
    customer_id_col, datetime_col, monetary_value_col
        Columns of customer ids, purchase datetimes (or strings pandas parses)
        and, optionally, transaction values.
    datetime_format : str, optional
        Passed to :func:`pandas.to_datetime` for ``datetime_col`` (in each
        partition) and for ``observation_period_end``.
    observation_period_end : datetime-like, optional
        End of observation; defaults to the latest transaction of the whole log
        (one extra pass over the log), as the single-machine function: parsed
        with ``datetime_format`` and, with ``drop_invalid``, among the rows kept.
    freq, freq_multiplier, include_first_transaction
        As for the single-machine function.
    drop_invalid : bool, default False
        Leave out, instead of refusing, rows with a missing id or datetime, a
        missing, infinite or negative value (with ``monetary_value_col``), or a
        datetime in a period after ``observation_period_end``.
    shuffle : bool, default True
        Shuffle the log by ``customer_id_col`` first. Pass False only when every
        customer's transactions are already in a single partition (for instance
        a log written partitioned by customer); otherwise a customer split over
        partitions gets one summary row per partition.
    include_litt : bool, default False
        Add ``litt``, the sum of the logs of the inter-purchase times, as the
        single-machine function does.

    Returns
    -------
    dask.dataframe.DataFrame
        Indexed by customer id (named ``customer_id_col``; sorted within each
        partition, not across partitions, with unknown divisions), float columns
        ``frequency``, ``recency``, ``T``, with ``monetary_value_col``
        ``monetary_value``, and with ``include_litt`` ``litt``.
        ``.compute().sort_index()`` equals the single-machine
        summary of the same log.

    Raises
    ------
    ValueError
        When computed, as the single-machine function (a missing id or datetime,
        a transaction after the observation end, a negative or missing value,
        unless ``drop_invalid``); the row named is the row's position within its
        partition. Raised now for an unsupported ``freq`` or, without
        ``observation_period_end``, a log without a (valid) transaction. With
        ``drop_invalid`` and an ``observation_period_end`` before every
        transaction the summary is empty, where the single-machine function
        raises.
    """
    _dask_dataframe()
    utils._period_dtype(freq)
    if observation_period_end is None:
        observation_period_end = _latest_transaction(
            ddf,
            customer_id_col,
            datetime_col,
            monetary_value_col,
            datetime_format,
            drop_invalid,
        )
    if shuffle:
        ddf = ddf.shuffle(on=customer_id_col)
    meta = utils._empty_summary(
        ddf._meta, customer_id_col, monetary_value_col, include_litt=include_litt
    )
    return ddf.map_partitions(
        utils._summary_of_part,
        customer_id_col=customer_id_col,
        datetime_col=datetime_col,
        monetary_value_col=monetary_value_col,
        datetime_format=datetime_format,
        observation_period_end=observation_period_end,
        freq=freq,
        freq_multiplier=freq_multiplier,
        include_first_transaction=include_first_transaction,
        drop_invalid=drop_invalid,
        include_litt=include_litt,
        meta=meta,
        align_dataframes=False,
    )


def _latest_transaction(
    ddf: dd.DataFrame,
    customer_id_col: str,
    datetime_col: str,
    monetary_value_col: str | None,
    datetime_format: str | None,
    drop_invalid: bool,
) -> pd.Timestamp:
    """The single-machine default ``observation_period_end`` of the whole log:
    the latest over the partitions (see ``utils._latest_valid_time``)."""
    import dask

    used = [customer_id_col, datetime_col]
    if monetary_value_col is not None and drop_invalid:
        used.append(monetary_value_col)
    latest_of = dask.delayed(_latest_in_partition, pure=True)
    parts = ddf[list(dict.fromkeys(used))].to_delayed()
    found = dask.compute(
        *[
            latest_of(
                part,
                customer_id_col,
                datetime_col,
                monetary_value_col,
                datetime_format,
                drop_invalid,
            )
            for part in parts
        ]
    )
    latest = [time for _, time in found if time is not None]
    if latest:
        return max(latest)
    if sum(rows for rows, _ in found) == 0:
        raise ValueError("the transaction log is empty")
    if drop_invalid:
        raise ValueError(utils._NONE_LEFT)
    raise ValueError(f"the transaction log has no datetime ({datetime_col} is missing)")


def _latest_in_partition(part: pd.DataFrame, *args: Any) -> tuple[int, pd.Timestamp | None]:
    return len(part), utils._latest_valid_time(part, *args)


def fit(
    fitter: Any,
    summary_ddf: dd.DataFrame,
    columns: Sequence[str] = HISTORY,
    *,
    purchase_covariate_cols: Sequence[str] = (),
    dropout_covariate_cols: Sequence[str] = (),
    shared_covariates: Sequence[str] = (),
    covariate_penalizer: float | Sequence[float] = 0.0,
    **fit_kwargs: Any,
) -> Any:
    """Fit ``fitter`` to a Dask customer summary through its table of unique rows.

    Customers with the same ``columns`` values are counted on the cluster; the
    table of unique rows and their counts (small when times are in whole
    periods: a few hundred thousand rows for millions of customers at daily
    resolution) is computed to the client and fitted there with ``weights``.
    The fit is the one on every customer: its log-likelihood is a sum over
    customers, in which identical rows contribute identical terms.

    Parameters
    ----------
    fitter : fitter
        An unfitted (or to be refitted) fitter whose ``fit`` takes the
        ``columns`` positionally and ``weights=``, e.g.
        :class:`~retentionkit.BetaGeoFitter`, :class:`~retentionkit.ParetoNBDFitter`.
    summary_ddf : dask.dataframe.DataFrame
        Customer summary, e.g. from :func:`summary_data_from_transaction_data`.
        A ``weights`` column, if present, is summed instead of counting rows.
    columns : sequence of str, default ("frequency", "recency", "T")
        The columns the fitter's ``fit`` takes, in its order.
    purchase_covariate_cols, dropout_covariate_cols : sequence of str, optional
        Columns of ``summary_ddf`` with each customer's traits, as in the
        fitters' ``fit``: numeric, or categorical (``category``, ``object``,
        ``string`` or ``bool``), whose distinct levels are collected first
        and encoded on every partition as k - 1 dummies ``<column>[<level>]``,
        the first level in sorted order the base, as on one machine. With
        covariates the rows are not
        collected: each Newton step sends the parameters to the partitions and
        sums their log-likelihood, gradient and Hessian (a handful of passes;
        persist ``summary_ddf`` first so they do not recompute it). The fit
        equals the single-machine fit; the starting point is the plain model,
        fitted first through the table of unique rows.
    shared_covariates, covariate_penalizer
        As in the fitters' ``fit``.
    **fit_kwargs
        Passed to ``fitter.fit`` (``initial_params``, ``tol``, ...); with
        covariates only ``tol``, ``max_iterations`` and ``verbose``.

    Returns
    -------
    fitter
        ``fitter``, fitted; its ``data`` is the weighted table of unique rows
        (None with covariates, whose rows stay on the cluster: pass the
        covariates to predictions, or score with :func:`predict`).
    """
    _dask_dataframe()
    if purchase_covariate_cols or dropout_covariate_cols:
        return _fit_with_covariates(
            fitter,
            summary_ddf,
            list(columns),
            {"purchase": list(purchase_covariate_cols), "dropout": list(dropout_covariate_cols)},
            [str(c) for c in shared_covariates],
            covariate_penalizer,
            fit_kwargs,
        )
    keys = list(columns)
    grouped = summary_ddf.groupby(keys, sort=False)
    if "weights" in summary_ddf.columns:
        counts = grouped["weights"].sum()
    else:
        counts = grouped.size()
    table = counts.compute().rename("weights").reset_index()
    if len(table) == 0:
        raise ValueError("the customer summary is empty")
    table = table.sort_values(keys, ignore_index=True)
    args = [table[c] for c in keys]
    return fitter.fit(*args, weights=table["weights"].astype(np.float64), **fit_kwargs)


def _fit_with_covariates(
    fitter: Any,
    summary_ddf: dd.DataFrame,
    history: list[str],
    given: dict[str, list[str]],
    shared: list[str],
    penalizer: float | Sequence[float],
    options: dict[str, Any],
) -> Any:
    """:func:`fit` with covariates, through the partitions' partial sums."""
    import dask

    cls = getattr(fitter, "_covariate_core_class", None)
    if cls is None or history != list(HISTORY):
        raise ValueError(f"{type(fitter).__name__} takes no covariates")
    unknown = sorted(set(options) - {"tol", "max_iterations", "verbose"})
    if unknown:
        raise ValueError(f"a covariate fit on Dask takes no {', '.join(unknown)}")
    raw = named_design(cls.PROCESSES, given, shared, penalizer)["raw"]
    missing = [c for c in raw if c not in summary_ddf.columns]
    if missing:
        raise ValueError(f"the summary has no covariate column {missing[0]!r}")
    # Categorical traits: their levels are collected (a distributed distinct)
    # before the partitions are encoded, so every partition has the same dummies.
    categorical = [c for c in raw if is_categorical_dtype(summary_ddf[c].dtype)]
    for column in raw:
        if column not in categorical and not pd.api.types.is_numeric_dtype(
            summary_ddf[column].dtype
        ):
            raise ValueError(
                f"the covariate {column!r} is neither numeric nor categorical "
                f"({summary_ddf[column].dtype})"
            )
    distinct = dask.compute(*(summary_ddf[c].drop_duplicates() for c in categorical))
    levels = {c: distinct_levels(d.tolist(), c) for c, d in zip(categorical, distinct)}
    design = named_design(cls.PROCESSES, given, shared, penalizer, levels)
    weighted = "weights" in summary_ddf.columns
    needed = [*HISTORY, *design["raw"], *(["weights"] if weighted else [])]
    table = summary_ddf[needed]
    informative = table["T"] > 0
    n_customers, n_rows = dask.compute(
        (table["weights"] if weighted else informative.astype("float64"))[informative].sum(),
        table.shape[0],
    )
    plain = fit(copy.deepcopy(fitter), table, **options)
    start = [*np.asarray(plain.params_, dtype=np.float64), *([0.0] * design["n_coefficients"])]
    parts = table.to_delayed()
    arguments = (
        design["columns"],
        design["by_process"],
        design["shared"],
        weighted,
        design["encoding"],
    )

    def sums(params: np.ndarray, order: int) -> tuple[float, np.ndarray, np.ndarray]:
        tasks = [
            dask.delayed(partial_sums)(part, cls, list(params), order, *arguments) for part in parts
        ]
        results = dask.compute(*tasks)
        value = float(sum(r[0] for r in results))
        gradient = np.sum([r[1] for r in results], axis=0)
        hessian = np.sum([r[2] for r in results], axis=0)
        return value, gradient, hessian

    model = cls.fit_partitioned(
        sums,
        start,
        design["columns"],
        design["by_process"],
        design["shared"],
        float(n_customers),
        int(n_rows),
        penalties=design["penalties"],
        **options,
    )
    fitter._adopt_covariate_model(model, design["encoding"], penalizer)
    return fitter


def predict(
    fitter: Any,
    summary_ddf: dd.DataFrame,
    method: str = "conditional_probability_alive",
    columns: Sequence[str] = HISTORY,
    **kwargs: Any,
) -> dd.Series:
    """Score every customer of a Dask summary with a fitted model.

    Calls ``getattr(fitter, method)(**kwargs, frequency=..., recency=..., T=...)``
    on each partition (the ``columns`` are passed by name), with a copy of the
    fitter without its ``data``, so only the parameters travel to the workers.

    Parameters
    ----------
    fitter : fitter
        A fitted fitter (or one with ``params_`` set).
    summary_ddf : dask.dataframe.DataFrame
        Customer summary with the ``columns``.
    method : str, default "conditional_probability_alive"
        A prediction method of the fitter, e.g.
        ``"conditional_expected_number_of_purchases_up_to_time"`` with ``t=``.
    columns : sequence of str, default ("frequency", "recency", "T")
        Summary columns passed to the method, as keywords of the same names.
    **kwargs
        Further keyword arguments of the method (``t=39``, ...).

    Returns
    -------
    dask.dataframe.Series
        Float64, indexed like ``summary_ddf``, named ``method``.
    """
    _dask_dataframe()
    score = getattr(fitter, method, None)
    if not callable(score):
        raise ValueError(f"{type(fitter).__name__} has no method {method!r}")
    light = copy.copy(fitter)
    light.data = None
    light.params_  # noqa: B018 -- raises NotFittedError now rather than on the workers
    meta = pd.Series(np.empty(0), index=summary_ddf._meta.index, name=method)
    return summary_ddf.map_partitions(
        _score_partition,
        light,
        method,
        list(columns),
        kwargs,
        meta=meta,
        align_dataframes=False,
    )


def _score_partition(
    part: pd.DataFrame, fitter: Any, method: str, columns: list[str], kwargs: dict[str, Any]
) -> pd.Series:
    history = {c: part[c] for c in columns}
    traits = traits_of(getattr(fitter, "_encoding", None), part)
    values = getattr(fitter, method)(**kwargs, **traits, **history)
    return pd.Series(np.asarray(values, dtype=np.float64), index=part.index, name=method)
