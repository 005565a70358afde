"""The report's verdict rules on constructed cases, and its words (legends, labels)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from retentionkit import _report_html
from retentionkit._report_verdict import top_share, verdict
from retentionkit.datasets import load_transaction_data
from retentionkit.report import build_report

pytest.importorskip("matplotlib")

MISFIT = {"BG/NBD": 1e-9, "MBG/NBD": 2e-6, "Pareto/NBD": 0.0008}


def test_top_share() -> None:
    predicted = np.array([5.0, 1.0, 4.0, 0.0, 3.0, 2.0, 0.5, 0.1, 0.2, 0.3])
    actual = np.array([4.0, 0.0, 2.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0])
    assert top_share(predicted, actual) == pytest.approx(6 / 10)  # the top 2 rows: 4 + 2
    assert top_share(predicted, actual, 0.5) == pytest.approx(8 / 10)
    assert math.isnan(top_share(predicted, np.zeros(10)))


def test_misfit_and_over_prediction_say_optimistic_and_ranking_usable() -> None:
    v = verdict(MISFIT, "BG/NBD", 0.18, 0.62)
    assert v.level == "biased"
    assert "optimistic by about 18%" in v.text
    assert "ranking of customers is still usable" in v.text
    assert "every chi-square p-value is at most 0.001" in v.text
    assert "made 62% of the holdout purchases (3.1 times" in v.text


def test_under_prediction_is_conservative() -> None:
    v = verdict({"BG/NBD": 0.2}, "BG/NBD", -0.25, 0.5)
    assert v.level == "biased"
    assert "conservative by about 25%" in v.text
    assert "no evidence of a misfit" in v.text


def test_accurate_totals_and_a_good_ranking_are_good_even_with_a_misfit() -> None:
    v = verdict(MISFIT, "Pareto/NBD", -0.04, 0.55)
    assert v.level == "good"
    assert v.sentences[0].startswith("The forecasts can be used as they are")
    assert "within 4%" in v.text
    assert "at most 0.001" in v.text


def test_a_ranking_no_better_than_twice_chance_is_poor() -> None:
    v = verdict({"BG/NBD": 0.5}, "BG/NBD", 0.02, 0.39)
    assert v.level == "poor"
    assert "Do not rely on these forecasts" in v.text
    assert verdict({"BG/NBD": 0.5}, "BG/NBD", 0.02, 0.40).level == "good"  # the boundary


def test_the_bias_boundary_and_some_evidence() -> None:
    assert verdict({"BG/NBD": 0.5}, "BG/NBD", 0.10, 0.5).level == "good"
    assert verdict({"BG/NBD": 0.5}, "BG/NBD", 0.11, 0.5).level == "biased"
    v = verdict({"BG/NBD": 0.01, "Pareto/NBD": 0.3}, "BG/NBD", 0.0, 0.5)
    assert "some evidence" in v.text and "p = 0.010" in v.text


def test_no_holdout_purchases_is_unknown() -> None:
    assert verdict({"BG/NBD": 0.5}, "BG/NBD", math.nan, math.nan).level == "unknown"


def _small_log() -> pd.DataFrame:
    log = load_transaction_data()
    return log[log["customer_id"] <= 800]


@pytest.fixture(scope="module")
def drawn() -> tuple[Any, list[Any]]:
    """A report on a part of CDNOW, and the figures it drew."""
    figures: list[Any] = []
    original = _report_html._image

    def keep(figure: Any, alt: str) -> str:
        figures.append(figure)
        return original(figure, alt)

    _report_html._image = keep  # type: ignore[assignment]
    try:
        report = build_report(
            _small_log(),
            "customer_id",
            "date",
            "dollar_value",
            holdout_start="1997-10-01",
            observation_end="1998-06-30",
        )
    finally:
        _report_html._image = original  # type: ignore[assignment]
    return report, figures


def test_the_report_has_a_verdict_and_words(drawn: tuple[Any, list[Any]]) -> None:
    report, _ = drawn
    page = report.html
    assert 'id="verdict"' in page and "Can the forecasts be used?" in page
    assert "average order value" in page and "expected spend" not in page
    assert "not an amount that will" in page and "what is lost" not in page


def test_legends_and_axes_are_in_words(drawn: tuple[Any, list[Any]]) -> None:
    _, figures = drawn
    texts = []
    for figure in figures:
        for ax in figure.axes:
            texts += [ax.get_xlabel(), ax.get_ylabel()]
            legend = ax.get_legend()
            if legend is not None:
                texts += [t.get_text() for t in legend.get_texts()]
    assert texts
    for text in texts:
        assert "_" not in text, text  # no column names (frequency_holdout, ...)
    assert "P(alive): probability that the customer is still active" in texts
