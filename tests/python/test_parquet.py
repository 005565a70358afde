"""The command line and the report read Parquet and write Parquet (issue 17): the same
results as from CSV."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retentionkit import _csv, cli
from retentionkit.datasets import load_cdnow_summary, load_transaction_data

pq = pytest.importorskip("pyarrow.parquet")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "retentionkit", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def _summary_files(tmp_path: Path) -> None:
    summary = load_cdnow_summary().rename_axis("ID").reset_index()
    summary.to_csv(tmp_path / "summary.csv", index=False)
    summary.to_parquet(tmp_path / "summary.parquet", index=False)


def test_fit_from_parquet_equals_csv_and_writes_parquet(tmp_path: Path) -> None:
    _summary_files(tmp_path)
    from_csv = run("fit", "summary.csv", "--output", "out.csv", cwd=tmp_path)
    assert from_csv.returncode == 0, from_csv.stderr
    from_parquet = run("fit", "summary.parquet", "--output", "out.parquet", cwd=tmp_path)
    assert from_parquet.returncode == 0, from_parquet.stderr
    # The same fit (the printed table and statistics), written to the other file.
    assert from_parquet.stdout.replace("out.parquet", "out.csv") == from_csv.stdout
    csv_out = pd.read_csv(tmp_path / "out.csv", index_col=0)
    parquet_out = pd.read_parquet(tmp_path / "out.parquet")
    assert parquet_out.index.name == "ID"
    assert parquet_out.index.tolist() == csv_out.index.tolist()
    for column in csv_out.columns:
        # CSV holds the shortest repr of each float: equal to the last bit.
        np.testing.assert_array_equal(parquet_out[column].to_numpy(), csv_out[column].to_numpy())
    # .pq is Parquet too, in any case of the ending.
    again = run("fit", "summary.parquet", "--output", "OUT.PQ", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert pq.read_table(tmp_path / "OUT.PQ").num_rows == len(csv_out)


def _small_log() -> pd.DataFrame:
    log = load_transaction_data()
    log = log[log["customer_id"] <= 300]
    return pd.DataFrame(
        {
            "client": log["customer_id"].astype(str).radd("c"),
            "day": log["date"],
            "amount": log["dollar_value"],
        }
    )


def test_report_from_parquet_equals_csv(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    log = _small_log()
    log.to_csv(tmp_path / "log.csv", index=False)
    log.to_parquet(tmp_path / "log.parquet", index=False)  # dates stored as timestamps
    common = [
        "--customer-id",
        "client",
        "--datetime",
        "day",
        "--monetary-value",
        "amount",
        "--holdout-start",
        "1997-10-01",
        "--model",
        "bgnbd",
        "--quiet",
    ]
    a = run("report", "log.csv", *common, "-o", "a.html", "--csv", "a.csv", cwd=tmp_path)
    assert a.returncode == 0, a.stderr
    b = run("report", "log.parquet", *common, "-o", "b.html", "--csv", "b.parquet", cwd=tmp_path)
    assert b.returncode == 0, b.stderr
    from_csv = pd.read_csv(tmp_path / "a.csv", index_col=0)
    from_parquet = pd.read_parquet(tmp_path / "b.parquet")
    assert from_parquet.index.name == "client"
    assert from_parquet.index.tolist() == from_csv.index.tolist()
    assert list(from_parquet.columns) == list(from_csv.columns)
    for column in from_csv.columns:
        if pd.api.types.is_numeric_dtype(from_csv[column]):
            np.testing.assert_allclose(from_parquet[column], from_csv[column], rtol=1e-12)
        else:  # the segment: categorical in Parquet, text in CSV
            assert from_parquet[column].astype(str).tolist() == from_csv[column].tolist()
    assert "transactions from log.parquet" in (tmp_path / "b.html").read_text(encoding="utf-8")


def test_parquet_output_round_trips_and_keeps_formulas_as_data(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"p_alive": [0.5, 1.0], "label": ["=1+1", "plain"]},
        index=pd.Index(["=HYPERLINK(1)", "b"], name="customer"),
    )
    _csv.write_table(frame, tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), frame)
    # CSV still neutralises formulas.
    _csv.write_table(frame, tmp_path / "t.csv")
    assert "'=HYPERLINK(1)" in (tmp_path / "t.csv").read_text()


def test_broken_parquet_and_missing_pyarrow_are_one_line_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "broken.parquet").write_text("id,frequency\n1,2\n")
    assert cli.main(["fit", str(tmp_path / "broken.parquet")]) == cli.EXIT_BAD_INPUT
    assert "cannot read" in capsys.readouterr().err
    assert cli.main(["fit", str(tmp_path / "absent.parquet")]) == cli.EXIT_BAD_INPUT
    assert "no such file" in capsys.readouterr().err
    # Without pyarrow: say which extra to install.
    _summary_files(tmp_path)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    assert cli.main(["fit", str(tmp_path / "summary.parquet")]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "pip install retentionkit[parquet]" in err
    assert (
        cli.main(["fit", str(tmp_path / "summary.csv"), "--output", str(tmp_path / "o.parquet")])
        == cli.EXIT_BAD_INPUT
    )
    assert "pip install retentionkit[parquet]" in capsys.readouterr().err


def test_invalid_parquet_row_is_named_by_row(tmp_path: Path) -> None:
    summary = load_cdnow_summary().rename_axis("ID").reset_index()
    summary.loc[4, "recency"] = summary.loc[4, "T"] + 1
    summary.to_parquet(tmp_path / "bad.parquet", index=False)
    result = run("fit", "bad.parquet", cwd=tmp_path)
    assert result.returncode == 2
    assert "bad.parquet (data row 5)" in result.stderr
