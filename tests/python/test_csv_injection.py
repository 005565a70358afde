"""CSV files written by the command line and the report cannot inject formulas.

A customer id such as ``=HYPERLINK("http://evil.example","x")`` used to be written
verbatim, and a spreadsheet opening the CSV runs it. Text cells beginning with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return now get a leading ``'``
(OWASP); numbers are left alone; ``--raw-csv`` writes verbatim.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from retentionkit._csv import neutralise_formulas, write_csv
from retentionkit.datasets import load_cdnow_summary, load_transaction_data
from retentionkit.report import Report

HOSTILE = [
    '=HYPERLINK("http://evil.example","x")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1",
    "\r=1",
    "=1;2",
]
HARMLESS = ["-3.5", "+7", "-1e3", "plain", "a=b", "", "'=already quoted"]


def _cells(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "retentionkit", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_text_cells_that_start_a_formula_are_quoted() -> None:
    ids = HOSTILE + HARMLESS
    frame = pd.DataFrame(
        {"segment": ids, "value": [-3.5] * len(ids), "count": range(len(ids))},
        index=pd.Index(ids, name="=name"),
    )
    out = neutralise_formulas(frame)
    assert out.index.tolist() == ["'" + i for i in HOSTILE] + HARMLESS
    assert out["segment"].tolist() == out.index.tolist()
    assert out.index.name == "'=name"
    assert out["value"].tolist() == [-3.5] * len(ids)  # numbers are not text
    assert out["count"].tolist() == list(range(len(ids)))
    assert frame.index.tolist() == ids  # the input is not changed


def test_numeric_and_categorical_ids() -> None:
    numbers = pd.DataFrame({"p": [0.5, 0.25]}, index=pd.Index([-3, -4], name="id"))
    assert neutralise_formulas(numbers).index.tolist() == [-3, -4]
    categories = pd.DataFrame({"p": [0.5, 0.25]}, index=pd.CategoricalIndex(["=a", "b"]))
    assert neutralise_formulas(categories).index.tolist() == ["'=a", "b"]
    levels = pd.MultiIndex.from_arrays([["=a", "b"], [-1, 2]], names=["who", "-k"])
    out = neutralise_formulas(pd.DataFrame({"p": [1, 2]}, index=levels))
    assert out.index.tolist() == [("'=a", -1), ("b", 2)]
    assert list(out.index.names) == ["who", "'-k"]


def test_report_write_quotes_unless_raw(tmp_path: Path) -> None:
    customers = pd.DataFrame({"p_alive": [0.9, 0.1]}, index=pd.Index(HOSTILE[:2], name="id"))
    report = Report(html="<html></html>", customers=customers, comparison=pd.DataFrame(), model="m")
    report.write(tmp_path / "r.html", tmp_path / "safe.csv")
    report.write(tmp_path / "r.html", tmp_path / "raw.csv", raw_csv=True)
    assert [row[0] for row in _cells(tmp_path / "safe.csv")] == [
        "id",
        *("'" + i for i in HOSTILE[:2]),
    ]
    assert [row[0] for row in _cells(tmp_path / "raw.csv")] == ["id", *HOSTILE[:2]]


def _summary_with_ids(ids: list[str]) -> str:
    cdnow = load_cdnow_summary().head(600)
    lines = ["id,frequency,recency,T"]
    for i, (_, row) in enumerate(cdnow.iterrows()):
        name = ids[i] if i < len(ids) else f"c{i}"
        quoted = '"' + name.replace('"', '""') + '"'
        lines.append(f"{quoted},{row['frequency']:g},{row['recency']:g},{row['T']:g}")
    return "\n".join(lines) + "\n"


def test_fit_output_quotes_formulas_and_raw_csv_does_not(tmp_path: Path) -> None:
    ids = HOSTILE + HARMLESS[:4]
    (tmp_path / "data.csv").write_text(_summary_with_ids(ids), newline="")
    result = run("fit", "data.csv", "--output", "safe.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    cells = _cells(tmp_path / "safe.csv")
    assert cells[0][:2] == ["id", "frequency"]
    written = [row[0] for row in cells[1 : len(ids) + 1]]
    assert written == ["'" + i for i in HOSTILE] + HARMLESS[:4]
    assert all(float(row[1]) >= 0 for row in cells[1:])  # numbers as numbers
    result = run("fit", "data.csv", "--output", "raw.csv", "--raw-csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    raw = _cells(tmp_path / "raw.csv")
    assert [row[0] for row in raw[1:5]] == ids[:4]
    assert "\r=1," in (tmp_path / "raw.csv").read_bytes().decode()  # verbatim, unquoted


def test_fit_output_keeps_negative_numeric_ids(tmp_path: Path) -> None:
    cdnow = load_cdnow_summary().head(600)
    frame = cdnow.set_index(-cdnow.index.to_numpy() - 1)
    frame.index.name = "id"
    frame.to_csv(tmp_path / "data.csv")
    result = run("fit", "data.csv", "--output", "out.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    expected = [str(i) for i in frame.index[:3]]
    assert expected[0].startswith("-")
    assert [row[0] for row in _cells(tmp_path / "out.csv")[1:4]] == expected


@pytest.mark.slow
def test_report_csv_quotes_formulas(tmp_path: Path) -> None:
    log = load_transaction_data()
    log = log[log["customer_id"] <= 400]
    hostile = {1: HOSTILE[0], 2: HOSTILE[2], 3: "-3.5"}
    clients = [hostile.get(c, f"c{c}") for c in log["customer_id"]]
    pd.DataFrame({"client": clients, "day": log["date"].dt.strftime("%Y-%m-%d")}).to_csv(
        tmp_path / "log.csv", index=False
    )
    args = ["report", "log.csv", "--customer-id", "client", "--datetime", "day", "--quiet"]
    args += ["--holdout-start", "1997-10-01", "--model", "bgnbd", "-o", "r.html", "--csv"]
    result = run(*args, "safe.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = {row[0] for row in _cells(tmp_path / "safe.csv")[1:]}
    assert {"'" + HOSTILE[0], "'" + HOSTILE[2], "-3.5"} <= written
    result = run(*args, "raw.csv", "--raw-csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert {HOSTILE[0], HOSTILE[2]} <= {row[0] for row in _cells(tmp_path / "raw.csv")[1:]}


def test_write_csv_writes_the_index(tmp_path: Path) -> None:
    write_csv(pd.DataFrame({"x": [1]}, index=pd.Index(["=a"], name="id")), tmp_path / "o.csv")
    assert _cells(tmp_path / "o.csv") == [["id", "x"], ["'=a", "1"]]


def test_a_carriage_return_inside_an_id_cannot_start_a_row(tmp_path: Path) -> None:
    ids = ["x\r=1+1", "y\n=2", "\r=3"]
    write_csv(
        pd.DataFrame({"p": [0.5, 0.5, 0.5]}, index=pd.Index(ids, name="id")), tmp_path / "o.csv"
    )
    # quoted, so a reader keeps each id in its row (pandas' default writer does not
    # quote a lone CR, and "x\r=1+1" became a row "x" and a row starting "=1+1")
    rows = _cells(tmp_path / "o.csv")
    assert [row[0] for row in rows] == ["id", "x\r=1+1", "y\n=2", "'\r=3"]
