"""Reference datasets from the customer-base-analysis literature.

The CDNOW data (a 1/10th sample of the customers who made their first purchase at
the online retailer CDNOW in the first quarter of 1997, observed to the end of June
1998) and the donations data (Fader, Hardie & Shang 2010) were published by Peter
Fader and Bruce Hardie with their papers and notes. The copies shipped here were
taken, unchanged, from the MIT-licensed ``lifetimes`` package, which redistributes
them. The loaders keep ``lifetimes``' names and shapes.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import pandas as pd

__all__ = [
    "load_cdnow_master",
    "load_cdnow_summary",
    "load_cdnow_summary_data_with_monetary_value",
    "load_dataset",
    "load_donations",
    "load_retention_cohorts",
    "load_transaction_data",
]

_LOG_COLUMNS = ["customer_id", "date", "cds", "dollar_value"]


def load_dataset(filename: str, **kwargs: Any) -> pd.DataFrame:
    """Read one of the bundled CSV files with :func:`pandas.read_csv`.

    Parameters
    ----------
    filename : str
        Name of a file in ``retentionkit/datasets/data``.
    **kwargs
        Passed to :func:`pandas.read_csv`.
    """
    resource = resources.files(__name__).joinpath("data").joinpath(filename)
    with resource.open("rb") as handle:
        frame: pd.DataFrame = pd.read_csv(handle, **kwargs)
    return frame


def load_cdnow_summary(**kwargs: Any) -> pd.DataFrame:
    """CDNOW calibration summary used by Fader, Hardie & Lee (2005).

    One row per customer of the 1/10th CDNOW sample (2,357 customers), summarising
    the first 39 weeks (1997-01-01 to 1997-09-30), time in weeks.

    Parameters
    ----------
    **kwargs
        Passed to :func:`pandas.read_csv`; by default the ``ID`` column is the index.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``ID`` with columns ``frequency`` (number of repeat purchases),
        ``recency`` (time of the last repeat purchase) and ``T`` (time since the
        first purchase).

    Notes
    -----
    Published by Fader and Hardie with "Counting your customers the easy way"
    (Marketing Science 24(2), 2005); redistributed by ``lifetimes`` (MIT licence).
    """
    kwargs.setdefault("index_col", "ID")
    return load_dataset("cdnow_customers_summary.csv", **kwargs)


def load_cdnow_summary_data_with_monetary_value(**kwargs: Any) -> pd.DataFrame:
    """CDNOW calibration summary with the mean repeat-transaction value.

    Returns
    -------
    pandas.DataFrame
        2,357 rows indexed by ``customer_id`` with columns ``frequency``,
        ``recency``, ``T`` (weeks) and ``monetary_value`` (mean value in dollars of
        the repeat transactions; 0 for customers without repeat purchases).

    Notes
    -----
    The file (columns ``ID, x, t_x, T, zbar``) comes from Fader & Hardie's note
    on the Gamma-Gamma spend model; redistributed by ``lifetimes`` (MIT licence).
    """
    df = load_dataset("cdnow_customers_summary_with_transactions.csv", **kwargs)
    df.columns = pd.Index(["customer_id", "frequency", "recency", "T", "monetary_value"])
    return df.set_index("customer_id")


def _read_log(filename: str, names: list[str], header: int | None) -> pd.DataFrame:
    df = load_dataset(
        filename,
        sep=r"\s+",
        header=header,
        names=names,
        dtype={"date": str},
    )
    df["date"] = pd.to_datetime(df["date"], format="%Y%m%d")
    return df


def load_transaction_data() -> pd.DataFrame:
    """Transaction log of the 1/10th CDNOW sample (Fader, Hardie & Lee 2005).

    Returns
    -------
    pandas.DataFrame
        6,919 transactions of 2,357 customers with columns ``customer_id`` (the
        sample id, 1..2357, the ``ID`` of :func:`load_cdnow_summary`), ``date``
        (``datetime64``), ``cds`` (number of CDs bought), ``dollar_value`` and
        ``master_id`` (the customer's id in :func:`load_cdnow_master`).

    Notes
    -----
    Published by Fader and Hardie; redistributed by ``lifetimes`` (MIT licence).
    Unlike ``lifetimes.datasets.load_transaction_data``, which returns a small
    synthetic log, this is the CDNOW sample the BG/NBD paper is built on.
    """
    df = _read_log(
        "CDNOW_sample.txt",
        ["master_id", "customer_id", "date", "cds", "dollar_value"],
        header=None,
    )
    return df[[*_LOG_COLUMNS, "master_id"]]


def load_cdnow_master() -> pd.DataFrame:
    """Full CDNOW transaction log.

    All customers who made their first purchase at CDNOW in the first quarter of
    1997, with their purchases to the end of June 1998.

    Returns
    -------
    pandas.DataFrame
        69,659 transactions of 23,570 customers with columns ``customer_id``,
        ``date`` (``datetime64``), ``cds`` (number of CDs) and ``dollar_value``.

    Notes
    -----
    Published by Fader and Hardie; redistributed by ``lifetimes`` (MIT licence).
    """
    return _read_log("CDNOW_master.txt", _LOG_COLUMNS, header=0)


def load_donations(**kwargs: Any) -> pd.DataFrame:
    """Annual donations to a non-profit by its 1995 cohort (11,104 donors).

    Returns
    -------
    pandas.DataFrame
        22 rows, one per distinct history over the 6 opportunities of 1996-2001,
        with columns ``frequency``, ``recency``, ``periods`` and ``weights`` (the
        number of donors with that history).

    Notes
    -----
    From Fader, Hardie & Shang (2010), "Customer-base analysis in a
    discrete-time noncontractual setting", Marketing Science 29(6); redistributed
    by ``lifetimes`` (MIT licence).
    """
    return load_dataset("donations.csv", **kwargs)


def load_retention_cohorts(**kwargs: Any) -> pd.DataFrame:
    """Two cohorts of subscribers, the data of Fader & Hardie (2007).

    Customers still active at the start of each of years 0..12, out of 1,000
    acquired at the start of year 0, for a "regular" and a "high end" cohort.

    Parameters
    ----------
    **kwargs
        Passed to :func:`pandas.read_csv`; by default ``period`` is the index.

    Returns
    -------
    pandas.DataFrame
        13 rows indexed by ``period`` (0..12) with integer columns ``regular`` and
        ``high_end``: the survivor counts that
        :class:`~retentionkit.ShiftedBetaGeometricFitter` takes. The paper fits
        years 0..7 and projects years 8..12.

    Notes
    -----
    From Fader, P. S. & Hardie, B. G. S. (2007), "How to project customer
    retention", Journal of Interactive Marketing 21(1), 76-90.
    """
    kwargs.setdefault("index_col", "period")
    return load_dataset("retention_cohorts.csv", **kwargs)
