"""``retentionkit report`` end to end on the bundled CDNOW log, and the HTML in Chromium."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retentionkit.datasets import load_transaction_data
from retentionkit.report import TITLE, Progress, build_report

pytest.importorskip("matplotlib")

SECTIONS = ["glance", "verdict", "how-to-read", "contact", "segments", "models", "details"]
CSV_COLUMNS = [
    "customer_id",
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "p_alive",
    "expected_purchases",
    "expected_spend",
    "clv",
    "clv_lower",
    "clv_upper",
    "value_at_risk",
    "segment",
]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "retentionkit", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


@pytest.fixture(scope="module")
def cdnow_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """The report on the bundled log: (directory, stdout, stderr)."""
    cwd = tmp_path_factory.mktemp("report")
    result = run("report", "-o", "report.html", "--csv", "customers.csv", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return cwd, result.stdout, result.stderr


def test_html_has_the_sections_and_embedded_images(cdnow_run: tuple[Path, str, str]) -> None:
    cwd, stdout, stderr = cdnow_run
    assert "bundled CDNOW sample log" in stdout
    assert "report.html" in stdout and "customers.csv" in stdout
    assert "[7/7]" in stderr  # the progress line
    page = (cwd / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert f"<title>{TITLE}</title>" in page
    for section in SECTIONS:
        assert f'<section id="{section}">' in page
    assert "How to read this report" in page
    assert "Valuable customers at risk" in page
    images = re.findall(r'<img alt="[^"]+" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 3
    assert all(len(data) > 10_000 for data in images)
    # Self-contained: nothing fetched from elsewhere.
    assert not re.search(r'(src|href)="(https?:)?//', page)
    for name in ("BG/NBD", "MBG/NBD", "Pareto/NBD", "Gamma-Gamma"):
        assert name in page
    # The calibration/holdout split of Fader, Hardie & Lee (2005).
    assert "1997-01-01 to 1997-09-30" in page and "1997-10-01 to 1998-06-30" in page
    assert "-9,582.4" in page  # the BG/NBD log-likelihood of the paper


def test_csv_has_one_row_per_customer(cdnow_run: tuple[Path, str, str]) -> None:
    cwd, _, _ = cdnow_run
    customers = pd.read_csv(cwd / "customers.csv")
    assert list(customers.columns) == CSV_COLUMNS
    assert len(customers) == 2357
    assert customers["customer_id"].is_unique
    assert set(customers["segment"]) == {
        "high value, likely alive",
        "high value, at risk",
        "low value",
        "probably lost",
    }
    assert customers["p_alive"].between(0, 1).all()
    assert (customers["clv_lower"] <= customers["clv"] + 1e-9).all()
    # T is measured to the end of the log, 1998-06-30: 78 weeks for the first buyers.
    np.testing.assert_allclose(customers["T"].max(), 545 / 7)


def test_the_top_at_risk_customers_are_in_the_html(cdnow_run: tuple[Path, str, str]) -> None:
    cwd, _, _ = cdnow_run
    customers = pd.read_csv(cwd / "customers.csv", index_col="customer_id")
    page = (cwd / "report.html").read_text(encoding="utf-8")
    contact = page.split('<section id="contact">')[1].split("</section>")[0]
    at_risk = customers[customers["segment"] == "high value, at risk"]
    first = at_risk["value_at_risk"].idxmax()
    assert f"<td>{first}</td>" in contact
    assert contact.count("<tr") == 1 + min(20, len(at_risk))  # header + rows


@pytest.mark.slow
def test_html_opens_in_headless_chromium(cdnow_run: tuple[Path, str, str], tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium not installed: apt-get install chromium")
    cwd, _, _ = cdnow_run
    url = (cwd / "report.html").resolve().as_uri()
    flags = [browser, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars"]
    dom = subprocess.run(
        [*flags, "--enable-logging=stderr", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dom.returncode == 0, dom.stderr
    assert f"<title>{TITLE}</title>" in dom.stdout
    assert dom.stdout.count("data:image/png;base64,") == 3
    for problem in ("Uncaught", "Failed to load resource", "Not allowed to load"):
        assert problem not in dom.stderr
    shot = tmp_path / "report.png"
    screenshot = subprocess.run(
        [*flags, "--window-size=1280,4000", f"--screenshot={shot}", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert screenshot.returncode == 0, screenshot.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 50_000


def _small_log() -> pd.DataFrame:
    """The first 600 CDNOW customers, with other column names and dates as text."""
    log = load_transaction_data()
    log = log[log["customer_id"] <= 600]
    return pd.DataFrame(
        {
            "client": "c" + log["customer_id"].astype(str),
            "day": log["date"].dt.strftime("%Y%m%d"),
            "amount": log["dollar_value"],
        }
    )


def test_report_on_a_csv_file(tmp_path: Path) -> None:
    _small_log().to_csv(tmp_path / "log.csv", index=False)
    result = run(
        "report",
        "log.csv",
        "--customer-id",
        "client",
        "--datetime",
        "day",
        "--monetary-value",
        "amount",
        "--datetime-format",
        "%Y%m%d",
        "--holdout-start",
        "1997-10-01",
        "--model",
        "bgnbd",
        "--quiet",
        "-o",
        "out.html",
        "--csv",
        "out.csv",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # --quiet
    assert "(BG/NBD)" in result.stdout
    page = (tmp_path / "out.html").read_text(encoding="utf-8")
    assert "transactions from log.csv" in page
    customers = pd.read_csv(tmp_path / "out.csv")
    assert customers.columns[0] == "client"
    assert len(customers) == 600


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


GOOD = "id,when,value\na,2024-01-01,10\na,2024-02-01,12\nb,2024-01-05,5\n"


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, ["--customer-id", "id", "--datetime", "when"], "no such file"),
        (GOOD, ["--datetime", "when"], "needs --customer-id and --datetime"),
        (GOOD, ["--customer-id", "who", "--datetime", "when"], "lacks the column(s) who"),
        ("id,when\na,yesterday\n", ["--customer-id", "id", "--datetime", "when"], "dates"),
        (
            GOOD,
            ["--customer-id", "id", "--datetime", "when", "--monetary-value", "id"],
            "finite non-negative",
        ),
        (
            GOOD,
            ["--customer-id", "id", "--datetime", "when", "--holdout-start", "2030-01-01"],
            "holdout start",
        ),
        (GOOD, ["--customer-id", "id", "--datetime", "when", "--holdout-start", "x"], "date"),
        ("", ["--customer-id", "id", "--datetime", "when"], "cannot read"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, content: str | None, args: list[str], message: str
) -> None:
    if content is not None:
        _write(tmp_path / "log.csv", content)
    result = run("report", "log.csv", *args, "--quiet", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("retentionkit: error:")
    assert message in lines[0]
    assert not (tmp_path / "report.html").exists()


def test_column_options_without_a_file_exit_2(tmp_path: Path) -> None:
    result = run("report", "--customer-id", "id", cwd=tmp_path)
    assert result.returncode == 2
    assert "need(s) a TRANSACTIONS file" in result.stderr


def test_build_report_without_values() -> None:
    log = _small_log()
    report = build_report(log, "client", "day", datetime_format="%Y%m%d", freq="D")
    assert "clv" not in report.customers.columns
    assert "expected_purchases" in report.customers.columns
    assert report.model in report.comparison.index
    assert report.comparison["holdout_mae"].idxmin() == report.model
    assert "<title>" in report.html


def test_progress_lines() -> None:
    stream = io.StringIO()
    progress = Progress(2, stream=stream)
    with progress.step("one"):
        pass
    with progress.step("two"):
        pass
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("[##########..........] [1/2] one (")
    assert lines[1].startswith("[####################] [2/2] two (")
    silent = io.StringIO()
    with Progress(1, enabled=False, stream=silent).step("x"):
        pass
    assert silent.getvalue() == ""
