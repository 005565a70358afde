"""``python -m retentionkit fit`` end to end, in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retentionkit import BetaGeoFitter


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "retentionkit", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_fit_on_the_bundled_data(tmp_path: Path) -> None:
    result = run("fit", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "bundled CDNOW summary" in out
    assert "2357 customers" in out
    for needle in ("coef", "se(coef)", "0.2426", "4.4135", "0.7929", "2.4258", "-9582.4"):
        assert needle in out
    assert "AIC" in out and "BIC" in out
    assert list(tmp_path.iterdir()) == []  # nothing written without --output


def test_fit_counts_new_customers_apart(tmp_path: Path, cdnow: pd.DataFrame) -> None:
    new = pd.DataFrame({"frequency": [0, 0], "recency": [0.0, 0.0], "T": [0.0, 0.0]})
    pd.concat([cdnow, new], ignore_index=True).to_csv(tmp_path / "summary.csv", index=False)
    result = run("fit", "summary.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "fitted on 2357 customers, plus 2 new customers" in result.stdout
    assert "-9582.4" in result.stdout  # the T = 0 rows change nothing


def test_fit_a_csv_and_write_predictions(
    tmp_path: Path, cdnow: pd.DataFrame, bgf: BetaGeoFitter
) -> None:
    source = cdnow.rename(columns={"frequency": "x", "recency": "t_x", "T": "age"})
    source.index.name = "customer"
    source.to_csv(tmp_path / "summary.csv")
    result = run(
        "fit",
        "summary.csv",
        "--horizon",
        "52",
        "--output",
        "predictions.csv",
        "--frequency-col",
        "x",
        "--recency-col",
        "t_x",
        "--T-col",
        "age",
        "--id-col",
        "customer",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "predictions.csv" in result.stdout
    predictions = pd.read_csv(tmp_path / "predictions.csv", index_col="customer")
    assert predictions.index.tolist() == cdnow.index.tolist()
    assert {"p_alive", "expected_purchases"} <= set(predictions.columns)
    np.testing.assert_allclose(
        predictions["expected_purchases"],
        bgf.conditional_expected_number_of_purchases_up_to_time(52),
        rtol=1e-9,
    )
    np.testing.assert_allclose(
        predictions["p_alive"], bgf.conditional_probability_alive(), rtol=1e-9
    )


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("frequency,recency\n1,2\n", "lacks the column(s) T"),
        ("frequency,recency,T\n1,2,5\n0,0,5\n2,3,5\n3,9,5\n", "recency must not exceed T"),
        ("frequency,recency,T\n1,2,5\n-1,0,5\n", "frequency"),
        ("frequency,recency,T\n1,2,5\nx,0,5\n", "must be a number"),
        ("", "cannot read"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, content: str | None, message: str) -> None:
    if content is not None:
        _write(tmp_path / "data.csv", content)
    result = run("fit", "data.csv", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("retentionkit: error:")
    assert message in lines[0]


def test_invalid_row_names_the_customer(tmp_path: Path) -> None:
    _write(tmp_path / "data.csv", "ID,frequency,recency,T\nA,1,2,5\nB,0,0,5\nC,3,9,5\n")
    result = run("fit", "data.csv", cwd=tmp_path)
    assert result.returncode == 2
    assert "data.csv line 4 ('C,3,9,5')" in result.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    result = run("fit", "--model", "nope", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert run("--version", cwd=tmp_path).stdout.startswith("retentionkit 0.1.0")
