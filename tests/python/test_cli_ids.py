"""``retentionkit fit``: customer ids kept, options documented, errors naming file lines."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from retentionkit.cli import build_parser
from retentionkit.datasets import load_cdnow_summary


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "retentionkit", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def _fit(tmp_path: Path, text: str, *args: str) -> pd.DataFrame:
    (tmp_path / "data.csv").write_text(text)
    result = run("fit", "data.csv", "--output", "out.csv", *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return pd.read_csv(tmp_path / "out.csv", dtype={0: str})


# 600 CDNOW customers with ids as text (enough data for every fit)
_CDNOW = load_cdnow_summary().head(600)
ROWS = [f"c{i},{f:g},{r:g},{t:g}" for i, (f, r, t) in _CDNOW.iterrows()]
IDS = [f"c{i}" for i in _CDNOW.index]


def test_an_unnamed_first_column_is_the_id_and_comes_back_unnamed(tmp_path: Path) -> None:
    out = _fit(tmp_path, ",frequency,recency,T\n" + "\n".join(ROWS) + "\n")
    assert out.columns[0] == "Unnamed: 0"  # an empty header cell, as in the input
    assert out.iloc[:, 0].tolist() == IDS


@pytest.mark.parametrize("name", ["customer_id", "Customer ID", "CUST", "id", "client_id"])
def test_a_column_named_like_an_id_is_the_id(tmp_path: Path, name: str) -> None:
    out = _fit(tmp_path, f"{name},frequency,recency,T\n" + "\n".join(ROWS) + "\n")
    assert out.columns[0] == name
    assert out[name].tolist() == IDS


def test_the_id_column_may_come_anywhere_and_be_named(tmp_path: Path) -> None:
    rows = [",".join([*r.split(",")[1:], r.split(",")[0]]) for r in ROWS]
    out = _fit(tmp_path, "frequency,recency,T,who\n" + "\n".join(rows) + "\n", "--id-col", "who")
    assert out.columns[0] == "who" and out["who"].tolist() == IDS
    named_like_id = "frequency,recency,T,Customer\n" + "\n".join(rows) + "\n"
    assert _fit(tmp_path, named_like_id).columns[0] == "Customer"


def test_without_an_id_rows_are_numbered(tmp_path: Path) -> None:
    rows = [r.split(",", 1)[1] for r in ROWS]
    out = _fit(tmp_path, "frequency,recency,T\n" + "\n".join(rows) + "\n")
    assert out.iloc[:, 0].tolist() == [str(i) for i in range(len(IDS))]


def test_fit_help_documents_every_option_with_its_default() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    fit = sub.choices["fit"]
    for action in fit._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help, f"{action.dest} has no help"
        if action.option_strings and action.default is not None:
            assert "default" in action.help, f"{action.dest}: default not documented"
    text = fit.format_help()
    assert "line" in text and "header" in text  # how errors count lines
    assert "unit" in text  # --horizon's unit


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("ID,frequency,recency,T\nA,1,2,5\nB,0,0,5\nC,3,9,5\n", 4),
        # a blank line and a quoted field spanning two lines still count as the user sees
        ('ID,frequency,recency,T\nA,1,2,5\n\n"B\nb",0,0,5\nC,3,9,5\n', 6),
        ("frequency,recency,T\n1,2,5\nx,0,5\n", 3),
        ("frequency,recency,T\n1,2,5\n1,2,5\n-1,0,5\n", 4),
        ("frequency,recency,T\n1,2,5\n1,,5\n", 3),
    ],
)
def test_errors_name_the_file_line(tmp_path: Path, text: str, line: int) -> None:
    (tmp_path / "data.csv").write_text(text)
    result = run("fit", "data.csv", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"data.csv line {line} " in lines[0], lines[0]
    assert "row:" not in lines[0] and "np." not in lines[0]


def test_report_errors_name_the_file_line(tmp_path: Path) -> None:
    log = "id,when,value\na,2024-01-01,10\na,2024-02-01,-12\nb,2024-01-05,5\n"
    (tmp_path / "log.csv").write_text(log)
    args = ["--customer-id", "id", "--datetime", "when", "--monetary-value", "value", "-q"]
    result = run("report", "log.csv", *args, cwd=tmp_path)
    assert result.returncode == 2
    assert "log.csv line 3 " in result.stderr, result.stderr
    assert "-12" in result.stderr


def test_report_bad_dates_name_the_file_line(tmp_path: Path) -> None:
    log = "id,when\na,2024-01-01\nb,2024-02-01\nb,someday\n"
    (tmp_path / "log.csv").write_text(log)
    result = run("report", "log.csv", "--customer-id", "id", "--datetime", "when", cwd=tmp_path)
    assert result.returncode == 2
    assert "log.csv line 4 " in result.stderr and "'someday'" in result.stderr, result.stderr
    assert "--datetime-format" in result.stderr
