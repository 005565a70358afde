"""The bundled datasets: shapes, types and integrity of the shipped files."""

from __future__ import annotations

import hashlib
from importlib import resources

import pandas as pd
import pytest

from retentionkit import datasets

#: Copied from shared/datasets/SHA256SUMS: the files must ship unchanged.
SHA256 = {
    "CDNOW_master.txt": "eff6889ed364c5199d6eacbbeb7a6d559971df4406ac876f322c373f00a072ef",
    "CDNOW_sample.txt": "6fae10155c0b0ba363c2c386e30f77990d22328220efd862a5edd1443420d94a",
    "cdnow_customers_summary.csv": (
        "09d92ca80daaabe8be0f997d4c539f9c9606106baa5b199081fe01cbce5fa9f6"
    ),
    "cdnow_customers_summary_with_transactions.csv": (
        "7ddd11b55be3227edfc1d58675154e96971b0de3ad37ddd9280d1dba154b8b2f"
    ),
    "donations.csv": "82c25f26a201ff047e1cd5fe3d7967a45db92a025ecedee72ff8940e50104544",
    # Typed in from Fader & Hardie (2007), as listed in shared/datasets/README.md.
    "retention_cohorts.csv": "40d1d6e62129c8db8446c5dc476315f32bcf206c819b4a6ebb14ae09723c2154",
}


@pytest.mark.parametrize("filename", sorted(SHA256))
def test_shipped_file_is_unchanged(filename: str) -> None:
    data = resources.files("retentionkit.datasets").joinpath("data").joinpath(filename).read_bytes()
    assert hashlib.sha256(data).hexdigest() == SHA256[filename]


def test_only_the_listed_files_ship() -> None:
    shipped = {
        p.name
        for p in resources.files("retentionkit.datasets").joinpath("data").iterdir()
        if not p.name.startswith(".")
    }
    assert shipped == set(SHA256)  # in particular no GPL grocery log


def test_cdnow_summary() -> None:
    df = datasets.load_cdnow_summary()
    assert df.shape == (2357, 3)
    assert list(df.columns) == ["frequency", "recency", "T"]
    assert df.index.name == "ID"
    assert df.loc[1].tolist() == [2, 30.43, 38.86]
    assert (df["recency"] <= df["T"]).all()


def test_cdnow_summary_passes_read_csv_options() -> None:
    df = datasets.load_cdnow_summary(index_col=None, nrows=5)
    assert list(df.columns) == ["ID", "frequency", "recency", "T"]
    assert len(df) == 5


def test_cdnow_summary_with_monetary_value() -> None:
    df = datasets.load_cdnow_summary_data_with_monetary_value()
    assert df.shape == (2357, 4)
    assert list(df.columns) == ["frequency", "recency", "T", "monetary_value"]
    assert (df["frequency"] > 0).sum() == 946
    summary = datasets.load_cdnow_summary()
    assert (df["frequency"].to_numpy() == summary["frequency"].to_numpy()).all()


def test_transaction_data_is_the_cdnow_sample() -> None:
    df = datasets.load_transaction_data()
    assert df.shape == (6919, 5)
    assert list(df.columns) == ["customer_id", "date", "cds", "dollar_value", "master_id"]
    assert pd.api.types.is_datetime64_any_dtype(df["date"])
    assert df["customer_id"].nunique() == 2357
    assert df["customer_id"].min() == 1 and df["customer_id"].max() == 2357
    assert df["date"].min() == pd.Timestamp("1997-01-01")
    assert df["date"].max() <= pd.Timestamp("1998-06-30")
    first = df.iloc[0]
    assert (first["customer_id"], first["master_id"], first["cds"]) == (1, 4, 2)
    assert first["dollar_value"] == pytest.approx(29.33)


def test_transaction_data_agrees_with_the_summary() -> None:
    """Repeat purchases in the first 39 weeks (to 1997-09-30) give the summary's x."""
    log = datasets.load_transaction_data()
    calibration = log[log["date"] <= pd.Timestamp("1997-09-30")]
    days = calibration.groupby("customer_id")["date"].nunique()
    summary = datasets.load_cdnow_summary()
    assert ((days - 1).reindex(summary.index) == summary["frequency"]).all()


def test_cdnow_master() -> None:
    df = datasets.load_cdnow_master()
    assert df.shape == (69659, 4)
    assert list(df.columns) == ["customer_id", "date", "cds", "dollar_value"]
    assert pd.api.types.is_datetime64_any_dtype(df["date"])
    assert df["customer_id"].nunique() == 23570


def test_donations() -> None:
    df = datasets.load_donations()
    assert df.shape == (22, 4)
    assert list(df.columns) == ["frequency", "recency", "periods", "weights"]
    assert df["weights"].sum() == 11104
    assert (df["periods"] == 6).all()
