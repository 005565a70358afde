"""``retentionkit report --covariates`` (issue 13) on the bundled CDNOW log: the
models are fitted with the covariates in both processes, the per-customer results
use each customer's covariates, and the report reads the coefficients in plain
language (HTML-escaped).

The covariates: log_first_spend = ln(1 + dollars of the first purchase day) and a
made-up three-level channel, in a per-customer CSV; and the log's own
dollar_value on each customer's first transaction.
"""

from __future__ import annotations

import html
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retentionkit import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
from retentionkit.datasets import load_transaction_data
from retentionkit.report import build_report, cdnow_report
from retentionkit.utils import summary_data_from_transaction_data

pytest.importorskip("matplotlib")

HISTORY = ["frequency", "recency", "T"]
#: A level that must come out escaped.
ODD_LEVEL = "<i>web</i> & co"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "retentionkit", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


def _traits() -> pd.DataFrame:
    log = load_transaction_data()
    daily = log.groupby(["customer_id", "date"], as_index=False)["dollar_value"].sum()
    first = daily.sort_values("date").groupby("customer_id")["dollar_value"].first()
    ids = first.index.to_numpy()
    channel = np.array(["email", "shop", ODD_LEVEL])[ids % 3]
    return pd.DataFrame(
        {"customer_id": ids, "log_first_spend": np.log1p(first.to_numpy()), "channel": channel}
    )


def _summary() -> pd.DataFrame:
    """The whole-log summary the report scores (weeks of 7 days, to 1998-06-30)."""
    return summary_data_from_transaction_data(
        load_transaction_data(),
        "customer_id",
        "date",
        observation_period_end="1998-06-30",
        freq="D",
        freq_multiplier=7,
    )


@pytest.fixture(scope="module")
def file_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    cwd = tmp_path_factory.mktemp("covariates_report")
    traits = _traits()
    traits.sample(frac=1.0, random_state=2).to_csv(cwd / "customers.csv", index=False)
    result = run(
        "report",
        "--covariates",
        "log_first_spend, channel",
        "--covariates-file",
        "customers.csv",
        "--model",
        "bgnbd",
        "-q",
        "-o",
        "report.html",
        "--csv",
        "out.csv",
        cwd=cwd,
    )
    assert result.returncode == 0, result.stderr
    assert "(BG/NBD)" in result.stdout
    return cwd, traits.set_index("customer_id")


@pytest.fixture(scope="module")
def independent_fit(file_run: tuple[Path, pd.DataFrame]) -> tuple[BetaGeoFitter, pd.DataFrame]:
    _, traits = file_run
    summary = _summary()
    z = traits.loc[summary.index]
    model = BetaGeoFitter().fit(summary[HISTORY], purchase_covariates=z, dropout_covariates=z)
    return model, summary


def _rows(page: str) -> list[list[str]]:
    """The cells of the covariates section's table, unescaped."""
    section = page[page.index('<section id="covariates">') :]
    section = section[: section.index("</section>")]
    rows = re.findall(r"<tr>(.*?)</tr>", section, flags=re.S)
    return [[html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", r, flags=re.S)] for r in rows]


def test_per_customer_results_use_each_customers_covariates(
    file_run: tuple[Path, pd.DataFrame], independent_fit: tuple[BetaGeoFitter, pd.DataFrame]
) -> None:
    cwd, traits = file_run
    model, summary = independent_fit
    customers = pd.read_csv(cwd / "out.csv", index_col="customer_id")
    z = traits.loc[summary.index]
    alive = model.conditional_probability_alive(
        *(summary[c] for c in HISTORY), purchase_covariates=z
    )
    np.testing.assert_allclose(customers.loc[summary.index, "p_alive"], alive, rtol=1e-6)
    # The CLV interval with covariates brackets the CLV.
    assert (customers["clv_lower"] <= customers["clv"]).all()
    assert (customers["clv"] <= customers["clv_upper"]).all()
    plain = BetaGeoFitter().fit(summary[HISTORY])
    assert not np.allclose(
        customers.loc[summary.index, "p_alive"],
        plain.conditional_probability_alive(*(summary[c] for c in HISTORY)),
        rtol=1e-3,
    )


def test_coefficient_table_reads_in_plain_language(
    file_run: tuple[Path, pd.DataFrame], independent_fit: tuple[BetaGeoFitter, pd.DataFrame]
) -> None:
    cwd, _ = file_run
    model, _ = independent_fit
    page = (cwd / "report.html").read_text(encoding="utf-8")
    assert '<a href="#covariates">' in page
    flat = " ".join(page.split())
    assert "taken from the per-customer table, joined on the customer id" in flat
    rows = {(r[0], r[1]): r for r in _rows(page)}
    params = model.params_
    names = [n for n in params.index if ":" in n]
    assert set(rows) == {tuple(n.split(":", 1)) for n in names}
    gamma = params["purchase:log_first_spend"]
    row = rows[("purchase", "log_first_spend")]
    assert float(row[2]) == pytest.approx(gamma, rel=1e-3)
    assert float(row[4]) == pytest.approx(math.exp(gamma), rel=1e-3)
    assert row[5] == f"a one-unit higher log_first_spend: buys {math.exp(gamma):.3g}\u00d7 as often"
    # dummies against the base level (the first in sorted order: "<i>web..." sorts first)
    odd = rows[("purchase", "channel[email]")]
    assert odd[5].startswith(f"channel=email vs channel={ODD_LEVEL} (the base level): buys ")
    # the drop-out probability after a purchase, from a and b together
    a, b = params["a"], params["b"]
    ga, gb = params["dropout_a:log_first_spend"], params["dropout_b:log_first_spend"]
    ratio = (a * math.exp(ga) / (a * math.exp(ga) + b * math.exp(gb))) / (a / (a + b))
    assert (
        f"drops out after a purchase {ratio:.3g}\u00d7 as often"
        in rows[("dropout_a", "log_first_spend")][5]
    )
    assert "likelihood-ratio test" in page


def test_everything_is_escaped(file_run: tuple[Path, pd.DataFrame]) -> None:
    cwd, _ = file_run
    page = (cwd / "report.html").read_text(encoding="utf-8")
    assert "<i>web</i>" not in page
    assert html.escape(ODD_LEVEL, quote=True) in page


def test_covariates_from_the_log_are_each_customers_first_transaction() -> None:
    report = cdnow_report(covariates=["dollar_value"], model="pnbd")
    log = load_transaction_data()
    first = log.sort_values("date", kind="stable").drop_duplicates("customer_id")
    z = first.set_index("customer_id")[["dollar_value"]]
    summary = _summary()
    model = ParetoNBDFitter().fit(summary[HISTORY], purchase_covariates=z, dropout_covariates=z)
    alive = model.conditional_probability_alive(
        *(summary[c] for c in HISTORY), purchase_covariates=z.loc[summary.index]
    )
    np.testing.assert_allclose(report.customers.loc[summary.index, "p_alive"], alive, rtol=1e-6)
    assert "each customer&#x27;s first transaction in the log" in " ".join(report.html.split())
    assert not any("no interval" in note for note in report.notes)
    assert "clv_upper" in report.customers.columns


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--covariates-file", "customers.csv"], "--covariates-file needs --covariates"),
        (["--covariates", "nope"], "the log lacks the covariate column(s) nope"),
        (["--covariates", "a,,b"], "an empty covariate name"),
        (
            ["--covariates", "log_first_spend", "--covariates-file", "customers.csv"],
            "the customer table has no row for the customer 17 of the log",
        ),
        (
            ["--covariates", "x", "--covariates-file", "customers.csv"],
            "the customer table lacks the covariate column(s) x",
        ),
    ],
)
def test_bad_covariates_are_clear_errors(tmp_path: Path, args: list[str], message: str) -> None:
    traits = _traits()
    traits[traits["customer_id"] != 17].to_csv(tmp_path / "customers.csv", index=False)
    result = run("report", *args, "-q", cwd=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_covariate_names_the_customer_once(tmp_path: Path) -> None:
    traits = _traits()
    traits.loc[traits["customer_id"] == 5, "log_first_spend"] = np.nan
    traits.to_csv(tmp_path / "customers.csv", index=False)
    result = run(
        "report",
        "--covariates",
        "log_first_spend",
        "--covariates-file",
        "customers.csv",
        "-q",
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert (
        "the covariate log_first_spend is missing in the customer table for the customer 5 "
        "(1 customer(s) in all)" in result.stderr
    )
    assert result.stderr.count("missing") == 1  # once, not once per model


def test_spend_covariates_feed_the_spend_model(tmp_path: Path) -> None:
    """``--spend-covariates`` alone: the transaction model has none, the spend model
    is fitted with them on the repeat customers, the customer table uses each
    customer's own expected spend, and the report reads the ``spend:`` rows."""
    traits = _traits()
    traits.to_csv(tmp_path / "customers.csv", index=False)
    result = run(
        "report",
        "--spend-covariates",
        "log_first_spend,channel",
        "--covariates-file",
        "customers.csv",
        "--model",
        "pnbd",
        "-q",
        "--csv",
        "out.csv",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    summary = summary_data_from_transaction_data(
        load_transaction_data(),
        "customer_id",
        "date",
        "dollar_value",
        observation_period_end="1998-06-30",
        freq="D",
        freq_multiplier=7,
    )
    z = traits.set_index("customer_id").loc[summary.index]
    repeat = summary["frequency"] > 0
    spend = GammaGammaFitter().fit(
        summary.loc[repeat, "frequency"],
        summary.loc[repeat, "monetary_value"],
        spend_covariates=z[repeat],
    )
    customers = pd.read_csv(tmp_path / "out.csv", index_col="customer_id")
    money = summary["monetary_value"].where(repeat, 1.0)
    expected = spend.conditional_expected_average_profit(
        summary["frequency"], money, spend_covariates=z
    )
    np.testing.assert_allclose(customers.loc[summary.index, "expected_spend"], expected, rtol=1e-6)
    assert (customers["clv_lower"] <= customers["clv"]).all()
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    rows = {(r[0], r[1]): r for r in _rows(page)}
    assert set(rows) == {tuple(n.split(":", 1)) for n in spend.params_.index if ":" in n}
    gamma = spend.params_["spend:log_first_spend"]
    assert rows[("spend", "log_first_spend")][5] == (
        f"a one-unit higher log_first_spend: spends {math.exp(gamma):.3g}\u00d7 as much "
        "per transaction"
    )
    flat = " ".join(page.split())
    assert "The Gamma-Gamma spend model was fitted with the covariates" in flat
    assert "Every transaction model was fitted" not in flat
    assert "The table shows the Gamma-Gamma spend model on the whole log" in flat
    # Spend covariates need the values.
    with pytest.raises(ValueError, match="spend covariates need the transaction values"):
        build_report(
            load_transaction_data(), "customer_id", "date", spend_covariates="dollar_value"
        )
