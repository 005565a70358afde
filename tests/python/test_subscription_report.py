"""``retentionkit report --subscriptions`` (issue 15)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retentionkit.cli import main


def _log(n: int = 600, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    plan = rng.choice(["basic", "pro"], n)
    start = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 360, n), unit="D")
    churn = rng.beta(1.5, 6.0, n) * np.where(plan == "pro", 0.5, 1.0)
    months = np.minimum(rng.geometric(churn), 120)
    end = pd.Series(
        [s + pd.DateOffset(months=int(m)) for s, m in zip(start, months)], dtype="datetime64[ns]"
    )
    end[end > pd.Timestamp("2024-06-30")] = pd.NaT
    price = np.where(plan == "pro", 30.0, 10.0)
    return pd.DataFrame(
        {"customer": np.arange(n), "start": start, "end": end, "plan": plan, "price": price}
    )


def test_subscription_report_from_the_command_line(tmp_path: Path, capsys) -> None:
    path = tmp_path / "subs.csv"
    _log().to_csv(path, index=False)
    html, table = tmp_path / "r.html", tmp_path / "r.csv"
    status = main(
        [
            "report",
            "--subscriptions",
            str(path),
            "--customer-id",
            "customer",
            "--start",
            "start",
            "--end",
            "end",
            "--covariates",
            "plan",
            "--monetary-value",
            "price",
            "--observation-end",
            "2024-06-30",
            "-o",
            str(html),
            "--csv",
            str(table),
            "-q",
        ]
    )
    assert status == 0, capsys.readouterr().err
    text = html.read_text()
    for heading in ("Retention by cohort", "What drives churn", "most at risk"):
        assert heading in text
    # pro subscribers churn less: the driver reads so.
    assert "plan[pro]" in text and "lowers the chance of cancelling" in text
    assert "clear (p &lt; 0.05)" in text  # the joint Wald test of alpha:/beta:plan[pro]
    rows = pd.read_csv(table)
    assert len(rows) == 600
    assert rows["p_cancel"].between(0, 1).all()
    pro = rows.groupby("plan")["p_cancel"].mean()
    assert pro["pro"] < pro["basic"]
    # Valued in money: price times DERL.
    assert "times the price per period" in text
    value = rows.groupby("plan")["discounted_value"].mean()
    assert (rows["discounted_value"] > 0).all() and value["pro"] > 3 * value["basic"]


def test_subscription_report_needs_its_columns(tmp_path: Path, capsys) -> None:
    path = tmp_path / "subs.csv"
    _log(50).to_csv(path, index=False)
    status = main(["report", "--subscriptions", str(path), "--customer-id", "customer"])
    assert status != 0
    assert "--start, --end" in capsys.readouterr().err


def test_invalid_subscription_names_the_file_line(tmp_path: Path, capsys) -> None:
    log = _log(20)
    log.loc[3, "end"] = log.loc[3, "start"] - pd.Timedelta(days=3)
    path = tmp_path / "subs.csv"
    log.to_csv(path, index=False)
    status = main(
        [
            "report",
            "--subscriptions",
            str(path),
            "--customer-id",
            "customer",
            "--start",
            "start",
            "--end",
            "end",
            "-o",
            str(tmp_path / "r.html"),
        ]
    )
    assert status != 0
    err = capsys.readouterr().err
    assert "ends before it starts" in err


@pytest.mark.parametrize("model", ["sbg", "bdw"])
def test_build_subscription_report_without_covariates(model: str) -> None:
    from retentionkit._report_subscriptions import build_subscription_report

    report = build_subscription_report(
        _log(300), "customer", "start", "end", observation_end="2024-06-30", model=model
    )
    assert "No covariates given" in report.html
    assert report.customers["discounted_value"].ge(0).all()


def test_transaction_only_flags_are_refused(tmp_path: Path, capsys) -> None:
    path = tmp_path / "subs.csv"
    _log(30).to_csv(path, index=False)
    status = main(
        [
            "report",
            "--subscriptions",
            str(path),
            "--customer-id",
            "customer",
            "--start",
            "start",
            "--end",
            "end",
            "--holdout-start",
            "2024-01-01",
        ]
    )
    assert status != 0
    assert "--holdout-start belong(s) to the transaction report" in capsys.readouterr().err


def test_dates_in_another_format(tmp_path: Path) -> None:
    from retentionkit._report_subscriptions import build_subscription_report

    log = _log(300)
    for column in ("start", "end"):
        log[column] = log[column].dt.strftime("%d/%m/%Y")
    report = build_subscription_report(log, "customer", "start", "end", datetime_format="%d/%m/%Y")
    assert len(report.customers) == 300


def test_overlapping_subscriptions_are_merged_with_a_note() -> None:
    from retentionkit._report_subscriptions import build_subscription_report

    log = _log(200)
    extra = log.iloc[[0]].copy()
    extra["start"] = extra["start"] + pd.Timedelta(days=1)
    report = build_subscription_report(
        pd.concat([log, extra], ignore_index=True),
        "customer",
        "start",
        "end",
        observation_end="2024-06-30",
    )
    assert len(report.customers) == 200
    assert any("merged" in note for note in report.notes)
