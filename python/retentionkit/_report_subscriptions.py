"""The subscription report (``retentionkit report --subscriptions``, issue 15).

From a subscription log (one row per subscription: customer, start, end; an empty end
is a subscription still active) to one self-contained HTML page:

* the retention curve of each cohort (start period) beside the model's projection;
* the churn drivers: each covariate's coefficients read as the change in a new
  subscriber's chance of cancelling at the first renewal;
* the active subscribers most at risk of cancelling at their next renewal, ranked by
  the expected value lost (the probability of cancelling times the discounted
  expected residual lifetime, in payments).

and, with ``--csv``, one row per subscriber.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import __version__
from ._csv import write_table
from ._report_html import _CSS, _e, _image, _table, figure_class
from .fitters import BetaDiscreteWeibullFitter, ShiftedBetaGeometricFitter
from .utils import subscription_summary

__all__ = ["SubscriptionReport", "build_subscription_report"]

TITLE = "Subscription retention report"

#: Per-period discount rate of the residual value (10% a year, per period of freq).
_ANNUAL_DISCOUNT = 0.10
_PERIODS_PER_YEAR = {"D": 365.0, "W": 52.0, "M": 12.0, "Q": 4.0, "Y": 1.0}


@dataclass
class SubscriptionReport:
    """The result of :func:`build_subscription_report`.

    Attributes
    ----------
    html : str
        The self-contained HTML document.
    customers : pandas.DataFrame
        One row per subscriber: ``periods``, ``churned``, ``cohort``, the covariates,
        ``p_renew`` (next renewal), ``p_cancel``, ``expected_renewals`` and
        ``discounted_value`` (DERL, payments).
    model : str
        The model behind the predictions.
    notes : list of str
        Warnings met on the way.
    """

    html: str
    customers: pd.DataFrame
    model: str
    notes: list[str] = field(default_factory=list)

    def write(
        self, html_path: str | Path, csv_path: str | Path | None = None, raw_csv: bool = False
    ) -> None:
        """Write the HTML file and, with ``csv_path``, the subscriber table as CSV
        (Parquet when ``csv_path`` ends in ``.parquet`` or ``.pq``)."""
        Path(html_path).write_text(self.html, encoding="utf-8")
        if csv_path is not None:
            write_table(self.customers, csv_path, raw=raw_csv)


def build_subscription_report(
    log: pd.DataFrame,
    customer_id_col: str,
    start_col: str,
    end_col: str,
    *,
    observation_end: Any = None,
    freq: str = "M",
    covariates: Sequence[str] | str | None = None,
    model: str = "sbg",
    top: int = 20,
    source: str = "",
    price_col: str | None = None,
    datetime_format: str | None = None,
) -> SubscriptionReport:
    """Fit a subscriber-level model to a subscription log and build the report.

    Parameters
    ----------
    log : pandas.DataFrame
        One row per subscription.
    customer_id_col, start_col, end_col : str
        Columns of the customer id, the start and the end (empty: still active).
    observation_end : datetime-like, optional
        End of observation (default: the latest start or end in the log).
    freq : str, default "M"
        Billing period (see :func:`retentionkit.utils.subscription_summary`).
    covariates : list of str or "a,b", optional
        Columns of the log used as covariates (the first subscription's value per
        subscriber; text columns are categories).
    model : {"sbg", "bdw"}, default "sbg"
        The model.
    top : int, default 20
        Subscribers listed as most at risk.
    source : str, optional
        Where the log came from, for the header.
    price_col : str, optional
        Column of the price (or margin) per billing period: the value at risk is then
        in money (price times DERL), else in payments.
    datetime_format : str, optional
        The format of the start and end dates, if they are not in ISO form.
    """
    notes: list[str] = []
    names = _names(covariates)
    missing = [c for c in [*names, *([price_col] if price_col else [])] if c not in log.columns]
    if missing:
        raise ValueError(
            f"the log has no column(s) {', '.join(map(repr, missing))}; its "
            f"columns are {', '.join(map(str, log.columns))}"
        )
    log = log.copy()
    for column in (start_col, end_col):
        if column in log.columns:
            try:
                log[column] = pd.to_datetime(log[column], format=datetime_format)
            except (ValueError, TypeError) as exc:
                raise ValueError(
                    f"could not read the column {column!r} as dates: {exc}; give the format "
                    "(--datetime-format) if they are not in ISO form (2024-01-31)"
                ) from None
    if observation_end is None:
        dates = pd.concat([log[start_col], log[end_col]], ignore_index=True)
        observation_end = dates.max()
    summary = subscription_summary(
        log, customer_id_col, start_col, end_col, observation_end, freq, overlapping="merge"
    )
    if len(summary) < len(log):
        notes.append(
            f"{len(log) - len(summary)} subscription(s) overlapping (or continuing) an "
            "earlier one of the same customer were merged into it"
        )
    if summary.index.nlevels > 1:
        notes.append("some customers subscribed more than once: each subscription is a subscriber")
    fitter: ShiftedBetaGeometricFitter | BetaDiscreteWeibullFitter
    fitter = BetaDiscreteWeibullFitter() if model == "bdw" else ShiftedBetaGeometricFitter()
    label = "BdW" if model == "bdw" else "sBG"
    traits = _traits(log, summary, customer_id_col, start_col, names)
    periods = summary["periods"].astype(np.float64)
    if traits is None:
        fitter.fit(periods, summary["churned"])
    else:
        fitter.fit(periods, summary["churned"], covariates=traits)
    given = {} if traits is None else {"covariates": traits}
    key = str(freq).upper()[:1]
    discount = (1.0 + _ANNUAL_DISCOUNT) ** (1.0 / _PERIODS_PER_YEAR.get(key, 12.0)) - 1.0
    p_renew = fitter.conditional_probability_of_renewal(periods, **given)
    derl = fitter.discounted_expected_residual_lifetime(periods, discount, **given)
    erl = fitter.expected_residual_lifetime(periods, **given)
    customers = summary.copy()
    if traits is not None:
        for column in traits.columns:
            customers[column] = traits[column].to_numpy()
    customers["p_renew"] = np.asarray(p_renew)
    customers["p_cancel"] = 1.0 - customers["p_renew"]
    customers["expected_renewals"] = np.asarray(erl)
    customers["discounted_value"] = np.asarray(derl)
    if price_col is not None:
        price = _traits(log, summary, customer_id_col, start_col, [price_col])
        assert price is not None
        values = pd.to_numeric(price[price_col], errors="coerce").to_numpy(dtype=np.float64)
        bad = np.flatnonzero(~(np.isfinite(values) & (values >= 0)))
        if bad.size:
            raise ValueError(
                f"the price ({price_col}) must be a non-negative number: subscriber "
                f"{summary.index[bad[0]]!r} has {price[price_col].iloc[bad[0]]!r}"
            )
        customers["price"] = values
        customers["discounted_value"] = customers["discounted_value"] * values
    customers["value_at_risk"] = customers["p_cancel"] * customers["discounted_value"]
    active = customers[~customers["churned"]]
    at_risk = active.sort_values("value_at_risk", ascending=False).head(max(top, 0))
    curves, projected = _cohort_curves(summary, fitter, traits)
    html = _render(
        source=source,
        observation_end=pd.Timestamp(observation_end),
        freq=freq,
        label=label,
        fitter=fitter,
        summary=summary,
        curves=curves,
        projected=projected,
        drivers=_drivers(fitter, traits),
        at_risk=at_risk,
        discount=discount,
        notes=notes,
        in_money=price_col is not None,
    )
    return SubscriptionReport(html, customers, label, notes)


def _names(covariates: Sequence[str] | str | None) -> list[str]:
    if covariates is None:
        return []
    if isinstance(covariates, str):
        return [c.strip() for c in covariates.split(",") if c.strip()]
    return list(covariates)


def _traits(
    log: pd.DataFrame,
    summary: pd.DataFrame,
    customer_id_col: str,
    start_col: str,
    names: list[str],
) -> pd.DataFrame | None:
    """Each subscriber's covariates: the row of the log with its customer and start
    (a merged subscription takes its first row's)."""
    if not names:
        return None
    rows = log[[customer_id_col, start_col, *names]].copy()
    rows["_start"] = pd.to_datetime(rows[start_col]).dt.tz_localize(None)
    rows = rows.sort_values([customer_id_col, "_start"], kind="stable")
    rows = rows.drop_duplicates([customer_id_col, "_start"])
    ids = summary.index.get_level_values(0)
    keys = pd.MultiIndex.from_arrays([ids, summary["start"]])
    found = rows.set_index([customer_id_col, "_start"])[names].reindex(keys)
    found.index = summary.index
    return found


def _cohort_curves(
    summary: pd.DataFrame, fitter: Any, traits: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each cohort's share still active at the start of tenure t (observed while
    every subscriber of the cohort could be seen that long) and the model's
    projection (the mean of the subscribers' S(t) with covariates)."""
    observed: dict[str, pd.Series] = {}
    projected: dict[str, pd.Series] = {}
    longest = int(summary["periods"].max()) if len(summary) else 0
    horizon = np.arange(longest + 1, dtype=np.float64)
    for cohort, rows in summary.groupby("cohort", sort=True):
        active = rows[~rows["churned"]]
        seen = int(active["periods"].min()) if len(active) else int(rows["periods"].max())
        t = np.arange(seen + 1)
        periods = rows["periods"].to_numpy()
        alive = ~rows["churned"].to_numpy()
        share = [float(np.mean((periods > k) | (alive & (periods >= k)))) if k else 1.0 for k in t]
        observed[str(cohort)] = pd.Series(share, index=t)
        if traits is None:
            projected[str(cohort)] = pd.Series(
                np.asarray(fitter.survival_function(horizon)), index=horizon.astype(int)
            )
        else:
            segment = traits.loc[rows.index]
            values = np.zeros_like(horizon)
            for _, group in segment.groupby(list(segment.columns), dropna=False, sort=False):
                curve = np.asarray(
                    fitter.survival_function(
                        horizon, covariates=group.iloc[[0]].reset_index(drop=True)
                    )
                )
                values += curve * len(group)
            projected[str(cohort)] = pd.Series(values / len(segment), index=horizon.astype(int))
    return pd.DataFrame(observed), pd.DataFrame(projected)


def _drivers(fitter: Any, traits: pd.DataFrame | None) -> pd.DataFrame | None:
    """Each covariate column's effect on a new subscriber's chance of cancelling at
    the first renewal, E[theta] = alpha/(alpha+beta), against the reference."""
    if traits is None:
        return None
    params = fitter.params_
    base_a, base_b = params["alpha"], params["beta"]
    base = base_a / (base_a + base_b)
    columns = [name.split(":", 1)[1] for name in params.index if name.startswith("alpha:")]
    rows = []
    for column in columns:
        ga = params.get(f"alpha:{column}", 0.0)
        gb = params.get(f"beta:{column}", 0.0)
        numeric = "[" not in column
        step = 1.0
        if numeric and column in traits.columns:
            step = float(np.nanstd(traits[column].to_numpy(dtype=np.float64))) or 1.0
        a = base_a * np.exp(ga * step)
        b = base_b * np.exp(gb * step)
        churn = a / (a + b)
        wald = _wald(fitter, [f"alpha:{column}", f"beta:{column}"])
        what = f"{column} one standard deviation ({step:.3g}) higher" if numeric else column
        change = "raises" if churn > base else "lowers"
        rows.append(
            {
                "trait": what,
                "first-renewal churn": f"{100 * churn:.1f}% (reference {100 * base:.1f}%)",
                "reading": f"{change} the chance of cancelling at the first renewal by "
                f"{abs(100 * (churn - base)):.1f} points",
                "evidence": "clear (p < 0.05)" if wald < 0.05 else f"weak (p = {wald:.2f})",
            }
        )
    return pd.DataFrame(rows)


def _wald(fitter: Any, names: list[str]) -> float:
    """The p-value of the Wald test that the coefficients ``names`` are all 0."""
    names = [n for n in names if n in fitter.params_.index]
    gamma = fitter.params_[names].to_numpy(dtype=np.float64)
    covariance = fitter.variance_matrix_.loc[names, names].to_numpy(dtype=np.float64)
    try:
        statistic = float(gamma @ np.linalg.solve(covariance, gamma))
    except np.linalg.LinAlgError:
        return float("nan")
    # Chi-square survival function with len(names) degrees of freedom (1 or 2).
    if len(names) == 2:
        return float(np.exp(-statistic / 2.0))
    return float(math.erfc(math.sqrt(statistic / 2.0)))


def _render(
    *,
    source: str,
    observation_end: pd.Timestamp,
    freq: str,
    label: str,
    fitter: Any,
    summary: pd.DataFrame,
    curves: pd.DataFrame,
    projected: pd.DataFrame,
    drivers: pd.DataFrame | None,
    at_risk: pd.DataFrame,
    discount: float,
    notes: list[str],
    in_money: bool = False,
) -> str:
    n = len(summary)
    churned = int(summary["churned"].sum())
    figure = figure_class()(figsize=(9, 4.2))
    ax = figure.subplots()
    colors = [f"C{i % 10}" for i in range(len(curves.columns))]
    for color, cohort in zip(colors, curves.columns):
        seen = curves[cohort].dropna()
        ax.plot(seen.index, seen.to_numpy(), "o", color=color, ms=3, label=f"{cohort} observed")
        ax.plot(projected.index, projected[cohort].to_numpy(), "-", color=color, lw=1)
    ax.set_xlabel(f"tenure (billing periods of {freq})")
    ax.set_ylabel("share still subscribed")
    ax.set_ylim(0, 1.02)
    if len(curves.columns) <= 12:
        ax.legend(fontsize=7, ncol=2)
    ax.set_title(f"Retention by cohort: observed (dots) and {label} projection (lines)")
    shown = at_risk.drop(columns=["churned", "end"]).reset_index()
    for column in ("p_renew", "p_cancel", "expected_renewals", "discounted_value", "value_at_risk"):
        if column in shown:
            shown[column] = shown[column].map("{:.3g}".format)
    for column in ("start",):
        if column in shown:
            shown[column] = shown[column].dt.strftime("%Y-%m-%d").fillna("")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{TITLE}</title><style>{_CSS}</style></head><body>",
        f"<h1>{TITLE}</h1>",
        f'<p class="meta">{_e(source) + "<br>" if source else ""}'
        f"Subscribers observed to {observation_end:%Y-%m-%d}; generated by retentionkit "
        f"{__version__}.</p>",
        *(f'<p class="note">{_e(note)}</p>' for note in notes),
        "<h2>At a glance</h2>",
        f"<p>{n} subscribers, {churned} of whom cancelled ({100 * churned / max(n, 1):.1f}%); "
        f"the {label} model fitted per subscriber"
        + (" with covariates" if drivers is not None else "")
        + ".</p>",
        "<h2>Retention by cohort</h2>",
        _image(figure, "retention by cohort, observed and projected"),
        "<h2>What drives churn</h2>",
        "<p>No covariates given (--covariates).</p>"
        if drivers is None
        else "<p>Each trait's effect on a new subscriber's chance of cancelling at the "
        "first renewal, the others at their reference level (the first category, or "
        "0); the evidence is the Wald test that both of the trait's coefficients "
        "(alpha and beta) are 0.</p>" + _table(drivers, index=False),
        "<h2>Subscribers most at risk</h2>",
        "<p>Active subscribers ranked by value at risk: the probability of cancelling at "
        "the next renewal times the discounted expected number of payments still to "
        f"come (DERL, discount rate {100 * discount:.2f}% per period)"
        + (", times the price per period" if in_money else "")
        + ".</p>",
        _table(shown, index=False),
        "<h2>Model</h2>",
        _table(fitter.summary.apply(lambda c: c.map("{:.4g}".format)), index=True),
        "<footer>Fader &amp; Hardie (2007, 2010); Fader, Hardie, Liu, Davin &amp; "
        "Steenburgh (2018).</footer>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
