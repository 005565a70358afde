"""Customer summaries, fits and scores on PySpark DataFrames.

The same three steps as :mod:`retentionkit.dask`:

1. :func:`summary_data_from_transaction_data` hashes customers into buckets and
   runs :func:`retentionkit.utils.summary_data_from_transaction_data` once per
   bucket (``groupBy(bucket).applyInPandas``), so every customer's transactions
   are summarised together, with one global ``observation_period_end``.
2. :func:`fit` counts customers per (frequency, recency, T) with
   ``groupBy(...).count()``, collects that small table and fits it with
   ``weights``.
3. :func:`predict` scores every customer with ``mapInPandas``, shipping the
   fitted model (which pickles as its JSON) to the executors.

Datetimes travel between Spark and pandas in the session time zone
(``spark.sql.session.timeZone``); the periods are those of the wall-clock times
in that zone. Set it to ``UTC`` to avoid daylight-saving gaps.

PySpark is imported on first use; install it with ``pip install
"retentionkit[spark]"`` (it needs Java 17 or later).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import utils
from ._covariates import distinct_levels, named_design, partial_sums, traits_of

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["fit", "predict", "summary_data_from_transaction_data"]

HISTORY = ("frequency", "recency", "T")
_BUCKET = "__retentionkit_bucket"


def _pyspark_sql() -> Any:
    try:
        import pyspark.sql
        import pyspark.sql.functions
        import pyspark.sql.types
    except ImportError as exc:
        raise ImportError(
            "retentionkit.spark needs PySpark (and Java 17 or later): "
            'pip install "retentionkit[spark]" (or "pyspark")'
        ) from exc
    return pyspark.sql


def summary_data_from_transaction_data(
    sdf: DataFrame,
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
    n_buckets: int | None = None,
    include_litt: bool = False,
) -> DataFrame:
    """Summarise a Spark transaction log: frequency, recency, T (and monetary value).

    The same summary as :func:`retentionkit.utils.summary_data_from_transaction_data`
    (see there for the definitions), one bucket of customers at a time; the
    arguments are that function's, in its order.

    Parameters
    ----------
    sdf : pyspark.sql.DataFrame
        One row per transaction; ``datetime_col`` a timestamp or date column, or
        a string column with ``datetime_format``.
    customer_id_col, datetime_col, monetary_value_col
        Columns of customer ids, purchase datetimes and, optionally, values.
    datetime_format : str, optional
        Passed to :func:`pandas.to_datetime` (a ``strftime`` format, not a Spark
        pattern) for a string ``datetime_col`` (in each bucket) and for
        ``observation_period_end``.
    observation_period_end : datetime-like, optional
        End of observation (a wall-clock time in the session time zone);
        defaults to the latest transaction of the whole log, as the
        single-machine function: parsed with ``datetime_format`` and, with
        ``drop_invalid``, among the rows kept (then one pass over the log in
        pandas).
    freq, freq_multiplier, include_first_transaction
        As for the single-machine function.
    drop_invalid : bool, default False
        Leave out, instead of refusing, rows with a missing id or datetime, a
        missing, infinite or negative value (with ``monetary_value_col``), or a
        datetime in a period after ``observation_period_end``.
    n_buckets : int, optional
        Number of customer buckets, each summarised in one pandas call (its
        transactions must fit in an executor's memory); default
        ``spark.sql.shuffle.partitions``.
    include_litt : bool, default False
        Add ``litt``, the sum of the logs of the inter-purchase times, as the
        single-machine function does.

    Returns
    -------
    pyspark.sql.DataFrame
        Columns ``customer_id_col`` (the input's type), ``frequency``,
        ``recency``, ``T``, with ``monetary_value_col`` ``monetary_value`` and
        with ``include_litt`` ``litt`` (doubles); one row per customer, in no particular order.

    Raises
    ------
    ValueError
        For an unsupported ``freq`` or, without ``observation_period_end``, a
        log without a (valid) transaction. When the result is computed, as the
        single-machine function (a missing id or datetime, a transaction after
        the observation end, a negative or missing value, unless
        ``drop_invalid``; Spark reports it as a ``PythonException`` whose
        message holds the ``ValueError``; the row named is the row's position
        within its bucket). With ``drop_invalid`` and an
        ``observation_period_end`` before every transaction the summary is
        empty, where the single-machine function raises.
    TypeError
        If ``datetime_col`` is not a timestamp or date column, nor a string
        column with ``datetime_format``.
    """
    sql = _pyspark_sql()
    functions, types = sql.functions, sql.types
    utils._period_dtype(freq)
    time_type = sdf.schema[datetime_col].dataType
    strings = datetime_format is not None and isinstance(time_type, types.StringType)
    if not strings and not isinstance(
        time_type, (types.TimestampType, types.TimestampNTZType, types.DateType)
    ):
        raise TypeError(
            f"{datetime_col} must be a timestamp or date column, got {time_type.simpleString()}; "
            "convert it with pyspark.sql.functions.to_timestamp (or pass datetime_format "
            "for strings)"
        )
    if observation_period_end is None and (strings or drop_invalid):
        observation_period_end = _latest_transaction(
            sdf,
            customer_id_col,
            datetime_col,
            monetary_value_col,
            datetime_format,
            drop_invalid,
        )
    elif observation_period_end is None:
        # As a string, the latest time is the wall-clock time in the session time
        # zone: the one pandas sees in applyInPandas.
        row = sdf.agg(functions.max(datetime_col).cast("string")).first()
        latest = None if row is None else row[0]
        if latest is None:
            raise ValueError("the transaction log is empty")
        observation_period_end = pd.Timestamp(latest)
    if n_buckets is None:
        n_buckets = int(sdf.sparkSession.conf.get("spark.sql.shuffle.partitions") or 200)

    fields = [types.StructField(customer_id_col, sdf.schema[customer_id_col].dataType)]
    columns = [*HISTORY] + (["monetary_value"] if monetary_value_col is not None else [])
    columns += ["litt"] if include_litt else []
    fields += [types.StructField(c, types.DoubleType(), nullable=False) for c in columns]
    options = {
        "customer_id_col": customer_id_col,
        "datetime_col": datetime_col,
        "monetary_value_col": monetary_value_col,
        "datetime_format": datetime_format,
        "observation_period_end": observation_period_end,
        "freq": freq,
        "freq_multiplier": freq_multiplier,
        "include_first_transaction": include_first_transaction,
        "drop_invalid": drop_invalid,
        "include_litt": include_litt,
    }

    def summarize_bucket(part: pd.DataFrame) -> pd.DataFrame:
        part = part.drop(columns=_BUCKET)
        summary = utils._summary_of_part(part, **options)
        return summary.reset_index()

    keep = [customer_id_col, datetime_col] + (
        [monetary_value_col] if monetary_value_col is not None else []
    )
    bucket = functions.pmod(functions.hash(customer_id_col), functions.lit(n_buckets))
    return (
        sdf.select(*keep)
        .withColumn(_BUCKET, bucket)
        .groupBy(_BUCKET)
        .applyInPandas(summarize_bucket, schema=types.StructType(fields))
    )


def _latest_transaction(
    sdf: DataFrame,
    customer_id_col: str,
    datetime_col: str,
    monetary_value_col: str | None,
    datetime_format: str | None,
    drop_invalid: bool,
) -> pd.Timestamp:
    """The single-machine default ``observation_period_end`` of the whole log:
    the latest over the Arrow batches (see ``utils._latest_valid_time``), which
    see the datetimes as ``applyInPandas`` does."""
    used = [customer_id_col, datetime_col]
    if monetary_value_col is not None and drop_invalid:
        used.append(monetary_value_col)
    args = (customer_id_col, datetime_col, monetary_value_col, datetime_format, drop_invalid)

    def latest_in_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            latest = utils._latest_valid_time(batch, *args)
            # As text, which keeps the pandas value (and its time zone, if any).
            text = None if latest is None else latest.isoformat()
            yield pd.DataFrame(
                {"rows": np.array([len(batch)]), "latest": pd.Series([text], dtype=object)}
            )

    found = (
        sdf.select(*dict.fromkeys(used))
        .mapInPandas(latest_in_batches, schema="rows long, latest string")
        .collect()
    )
    latest = [pd.Timestamp(row["latest"]) for row in found if row["latest"] is not None]
    if latest:
        return max(latest)
    if sum(row["rows"] for row in found) == 0:
        raise ValueError("the transaction log is empty")
    if drop_invalid:
        raise ValueError(utils._NONE_LEFT)
    raise ValueError(f"the transaction log has no datetime ({datetime_col} is missing)")


def fit(
    fitter: Any,
    summary_sdf: DataFrame,
    columns: Sequence[str] = HISTORY,
    *,
    purchase_covariate_cols: Sequence[str] = (),
    dropout_covariate_cols: Sequence[str] = (),
    shared_covariates: Sequence[str] = (),
    covariate_penalizer: float | Sequence[float] = 0.0,
    **fit_kwargs: Any,
) -> Any:
    """Fit ``fitter`` to a Spark customer summary through its table of unique rows.

    ``summary_sdf.groupBy(*columns).count()`` (or the sum of a ``weights``
    column, if present) is collected to the driver and fitted with ``weights``;
    the fit equals the fit on every customer (identical rows contribute
    identical terms to the log-likelihood).

    Parameters
    ----------
    fitter : fitter
        A fitter whose ``fit`` takes the ``columns`` positionally and
        ``weights=``, e.g. :class:`~retentionkit.BetaGeoFitter`.
    summary_sdf : pyspark.sql.DataFrame
        Customer summary, e.g. from :func:`summary_data_from_transaction_data`.
    columns : sequence of str, default ("frequency", "recency", "T")
        The columns the fitter's ``fit`` takes, in its order.
    purchase_covariate_cols, dropout_covariate_cols : sequence of str, optional
        Columns of ``summary_sdf`` with each customer's traits, as in the
        fitters' ``fit``: numeric, or categorical (string or boolean), whose
        distinct levels are collected first and encoded on every partition as
        k - 1 dummies ``<column>[<level>]``, the first level in sorted order
        the base, as on one machine. With covariates the rows are not
        collected: each Newton step sends the parameters to the executors
        and sums their log-likelihood, gradient and Hessian (a handful of
        passes; ``cache()`` the summary first). The fit equals the
        single-machine fit; the starting point is the plain model, fitted
        first through the table of unique rows.
    shared_covariates, covariate_penalizer
        As in the fitters' ``fit``.
    **fit_kwargs
        Passed to ``fitter.fit``; with covariates only ``tol``,
        ``max_iterations`` and ``verbose``.

    Returns
    -------
    fitter
        ``fitter``, fitted; its ``data`` is the weighted table of unique rows
        (None with covariates: pass the covariates to predictions, or score
        with :func:`predict`).
    """
    functions = _pyspark_sql().functions
    if purchase_covariate_cols or dropout_covariate_cols:
        return _fit_with_covariates(
            fitter,
            summary_sdf,
            list(columns),
            {"purchase": list(purchase_covariate_cols), "dropout": list(dropout_covariate_cols)},
            [str(c) for c in shared_covariates],
            covariate_penalizer,
            fit_kwargs,
        )
    keys = list(columns)
    grouped = summary_sdf.groupBy(*keys)
    if "weights" in summary_sdf.columns:
        counts = grouped.agg(functions.sum("weights").alias("weights"))
    else:
        counts = grouped.agg(functions.count(functions.lit(1)).alias("weights"))
    table = counts.toPandas()
    if len(table) == 0:
        raise ValueError("the customer summary is empty")
    table = table.sort_values(keys, ignore_index=True)
    args = [table[c].astype(np.float64) for c in keys]
    return fitter.fit(*args, weights=table["weights"].astype(np.float64), **fit_kwargs)


def _fit_with_covariates(
    fitter: Any,
    summary_sdf: DataFrame,
    history: list[str],
    given: dict[str, list[str]],
    shared: list[str],
    penalizer: float | Sequence[float],
    options: dict[str, Any],
) -> Any:
    """:func:`fit` with covariates, through the partitions' partial sums."""
    sql = _pyspark_sql()
    functions, types = sql.functions, sql.types
    cls = getattr(fitter, "_covariate_core_class", None)
    if cls is None or history != list(HISTORY):
        raise ValueError(f"{type(fitter).__name__} takes no covariates")
    unknown = sorted(set(options) - {"tol", "max_iterations", "verbose"})
    if unknown:
        raise ValueError(f"a covariate fit on Spark takes no {', '.join(unknown)}")
    raw = named_design(cls.PROCESSES, given, shared, penalizer)["raw"]
    fields = {f.name: f.dataType for f in summary_sdf.schema.fields}
    categorical = []
    for column in raw:
        if column not in fields:
            raise ValueError(f"the summary has no covariate column {column!r}")
        if isinstance(fields[column], (types.StringType, types.BooleanType)):
            categorical.append(column)
        elif not isinstance(fields[column], types.NumericType):
            raise ValueError(
                f"the covariate {column!r} is neither numeric nor categorical (string or "
                f"boolean): {fields[column].simpleString()}"
            )
    # Categorical traits: their levels are collected (a distributed distinct)
    # before the partitions are encoded, so every partition has the same dummies.
    levels = {
        c: distinct_levels([r[0] for r in summary_sdf.select(c).distinct().collect()], c)
        for c in categorical
    }
    design = named_design(cls.PROCESSES, given, shared, penalizer, levels)
    weighted = "weights" in fields
    needed = [*HISTORY, *design["raw"], *(["weights"] if weighted else [])]
    table = summary_sdf.select(*needed)
    weight = functions.col("weights") if weighted else functions.lit(1.0)
    counts = table.agg(
        functions.sum(functions.when(functions.col("T") > 0, weight).otherwise(0.0)).alias("n"),
        functions.count(functions.lit(1)).alias("rows"),
    ).collect()[0]
    plain = fit(copy.deepcopy(fitter), table, **options)
    start = [*np.asarray(plain.params_, dtype=np.float64), *([0.0] * design["n_coefficients"])]
    arguments = (
        design["columns"],
        design["by_process"],
        design["shared"],
        weighted,
        design["encoding"],
    )
    schema = types.StructType(
        [
            types.StructField("value", types.DoubleType()),
            types.StructField("gradient", types.ArrayType(types.DoubleType())),
            types.StructField("hessian", types.ArrayType(types.DoubleType())),
        ]
    )

    def sums(params: np.ndarray, order: int) -> tuple[float, np.ndarray, np.ndarray]:
        at = [float(v) for v in params]

        def batch_sums(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
            for batch in batches:
                value, gradient, hessian = partial_sums(batch, cls, at, order, *arguments)
                yield pd.DataFrame(
                    {"value": [value], "gradient": [list(gradient)], "hessian": [list(hessian)]}
                )

        rows = table.mapInPandas(batch_sums, schema=schema).collect()
        k = len(at)
        gradient = np.zeros(k if order >= 1 else 0)
        hessian = np.zeros(k * k if order >= 2 else 0)
        for row in rows:
            if order >= 1:
                gradient += np.asarray(row["gradient"], dtype=np.float64)
            if order >= 2:
                hessian += np.asarray(row["hessian"], dtype=np.float64)
        return float(sum(row["value"] for row in rows)), gradient, hessian

    model = cls.fit_partitioned(
        sums,
        start,
        design["columns"],
        design["by_process"],
        design["shared"],
        float(counts["n"]),
        int(counts["rows"]),
        penalties=design["penalties"],
        **options,
    )
    fitter._adopt_covariate_model(model, design["encoding"], penalizer)
    return fitter


def predict(
    fitter: Any,
    summary_sdf: DataFrame,
    method: str = "conditional_probability_alive",
    columns: Sequence[str] = HISTORY,
    output_col: str | None = None,
    **kwargs: Any,
) -> DataFrame:
    """Score every customer of a Spark summary with a fitted model.

    Calls ``getattr(fitter, method)(**kwargs, frequency=..., recency=..., T=...)``
    on each Arrow batch (``mapInPandas``), with a copy of the fitter without its
    ``data``, so only the parameters travel to the executors.

    Parameters
    ----------
    fitter : fitter
        A fitted fitter (or one with ``params_`` set).
    summary_sdf : pyspark.sql.DataFrame
        Customer summary with the ``columns``.
    method : str, default "conditional_probability_alive"
        A prediction method of the fitter, e.g.
        ``"conditional_expected_number_of_purchases_up_to_time"`` with ``t=``.
    columns : sequence of str, default ("frequency", "recency", "T")
        Summary columns passed to the method, as keywords of the same names.
    output_col : str, optional
        Name of the new column; default ``method``.
    **kwargs
        Further keyword arguments of the method (``t=39``, ...).

    Returns
    -------
    pyspark.sql.DataFrame
        ``summary_sdf`` with a double column ``output_col`` added.
    """
    types = _pyspark_sql().types
    score = getattr(fitter, method, None)
    if not callable(score):
        raise ValueError(f"{type(fitter).__name__} has no method {method!r}")
    light = copy.copy(fitter)
    light.data = None
    light.params_  # noqa: B018 -- raises NotFittedError now rather than on the executors
    name = method if output_col is None else output_col
    if name in summary_sdf.columns:
        raise ValueError(f"summary_sdf already has a column {name!r}; pass output_col")
    keys = list(columns)
    schema = types.StructType(
        [*summary_sdf.schema.fields, types.StructField(name, types.DoubleType())]
    )

    def score_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            history = {c: batch[c].astype(np.float64) for c in keys}
            traits = traits_of(getattr(light, "_encoding", None), batch)
            values = getattr(light, method)(**kwargs, **traits, **history)
            yield batch.assign(**{name: np.asarray(values, dtype=np.float64)})

    return summary_sdf.mapInPandas(score_batches, schema=schema)
