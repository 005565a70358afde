"""Command-line interface: ``retentionkit fit [CSV]`` and ``retentionkit report [CSV]``.

``fit`` fits a model to a CSV of customer summaries (one row per customer with
frequency, recency and T), prints the parameter table and fit statistics, and gives
each customer's probability of being alive and expected purchases over a horizon.
``report`` turns a transaction log into one self-contained HTML report and a CSV of
per-customer results (see :mod:`retentionkit.report`). Invalid input ends with a
one-line message on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import csv
import math
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd

from . import __version__
from ._core import ConvergenceError, InvalidDataError
from ._csv import write_csv
from ._registry import by_name, models
from .datasets import load_cdnow_summary
from .fitters import TransactionFitter
from .report import TIME_UNITS, build_report, cdnow_report

__all__ = ["main"]

EXIT_BAD_INPUT = 2
EXIT_NOT_CONVERGED = 1


#: The models ``--model`` accepts: name -> (fitter class, display name).
MODELS: dict[str, tuple[type[TransactionFitter], str]] = by_name("transaction")
#: The models whose summaries also need litt (for ``fit``; the report computes it).
LITT_MODELS: dict[str, tuple[Any, str]] = by_name("regular")


class InputError(Exception):
    """The user's file or options cannot be used."""


#: Column names taken as the customer id when ``--id-col`` is not given, compared
#: case-insensitively after removing spaces, "_", "-" and ".".
ID_NAMES = (
    "id",
    "customerid",
    "customer",
    "cust",
    "custid",
    "customerno",
    "customernumber",
    "clientid",
    "client",
    "userid",
    "user",
)


_RAW_CSV_HELP = (
    "write customer ids to the CSV verbatim; by default an id that a spreadsheet "
    "would run as a formula (text beginning with =, +, -, @, a tab or a carriage "
    "return) is written with a leading ' so that it shows as text"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="retentionkit", description="Buy 'Til You Die customer-base models."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    fit = commands.add_parser(
        "fit",
        help="fit a model to customer summaries and predict per customer",
        description=(
            "Fit a model to a CSV of customer summaries (one row per customer: the "
            "number of repeat purchases, the time of the last one and the time since "
            "the first one, all times in one unit, e.g. weeks) and predict, per "
            "customer, P(alive) and the expected number of purchases over the "
            "horizon. The customer ids are kept: the column given by --id-col, else "
            "an unnamed first column or a column named like an id (ID, id, "
            "customer_id, customer, cust, client_id, user_id, ..., in any case). "
            "Without CSV, the bundled CDNOW summary (weeks) is used. Errors name the "
            "line of the file (the header is line 1)."
        ),
    )
    fit.add_argument("csv", nargs="?", help="CSV file of customer summaries, with a header line")
    fit.add_argument(
        "--model",
        choices=sorted({**MODELS, **LITT_MODELS}),
        default="bgnbd",
        help="model: "
        + ", ".join(
            f"{key} ({name})" for key, (_, name) in sorted({**MODELS, **LITT_MODELS}.items())
        )
        + " (default bgnbd; mbgcnbd also needs the litt column and chooses k)",
    )
    fit.add_argument(
        "--horizon",
        type=float,
        default=39.0,
        help="prediction horizon of the expected purchases, in the time unit of the "
        "recency and T columns (default 39, e.g. 39 weeks)",
    )
    fit.add_argument(
        "--output",
        metavar="FILE",
        help="write every customer's P(alive) and expected purchases to this CSV "
        "(default: print the first rows)",
    )
    fit.add_argument("--raw-csv", action="store_true", help=_RAW_CSV_HELP)
    fit.add_argument(
        "--frequency-col",
        default="frequency",
        metavar="NAME",
        help="column of the number of repeat purchases (default frequency)",
    )
    fit.add_argument(
        "--recency-col",
        default="recency",
        metavar="NAME",
        help="column of the time from the first to the last purchase (default recency)",
    )
    fit.add_argument(
        "--T-col",
        dest="T_col",
        default="T",
        metavar="NAME",
        help="column of the time from the first purchase to the end of observation (default T)",
    )
    fit.add_argument(
        "--litt-col",
        default="litt",
        metavar="NAME",
        help="column of the sum of the logs of the inter-purchase times, for --model "
        "mbgcnbd (default litt; summary_data_from_transaction_data(..., include_litt=True))",
    )
    fit.add_argument(
        "--id-col",
        default=None,
        metavar="NAME",
        help="column of the customer ids, written back in the output (default: an "
        "unnamed first column, else the first column named like an id; none: rows "
        "are numbered from 0)",
    )
    fit.add_argument(
        "--weights-col",
        default=None,
        metavar="NAME",
        help="column of the number of customers with each row's history (default: "
        "one customer per row)",
    )
    _add_report_parser(commands)
    return parser


def _add_report_parser(commands: Any) -> None:
    report = commands.add_parser(
        "report",
        help="HTML report and per-customer CSV from a transaction log",
        description=(
            "Split a transaction log into calibration and holdout periods, fit "
            f"{', '.join(m.label for m in models('transaction'))} and the "
            f"{models('spend')[0].label} spend model, compare the models on "
            "the holdout and write one self-contained HTML report (plots embedded) and, "
            "with --csv, every customer's P(alive), expected purchases, CLV and segment. "
            "Without TRANSACTIONS, the bundled CDNOW sample log is used (calibration to "
            "1997-09-30, holdout to 1998-06-30)."
        ),
    )
    report.add_argument("transactions", nargs="?", help="CSV file of transactions")
    report.add_argument("--customer-id", help="column of the customer ids")
    report.add_argument("--datetime", help="column of the purchase dates")
    report.add_argument("--monetary-value", help="column of the transaction values (for CLV)")
    report.add_argument("--datetime-format", help="strftime format of the dates, e.g. %%Y%%m%%d")
    report.add_argument(
        "--freq",
        choices=list(TIME_UNITS),
        default="D7",
        help="time unit of the models, with the meaning of the same name in "
        "summary_data_from_transaction_data: D days; D7 (default) weeks of exactly 7 "
        "days, times in days / 7, so purchases on different days are distinct (freq='D', "
        "freq_multiplier=7 there); W calendar weeks ending on Sunday, purchases in one "
        "week count once and times are whole weeks (freq='W', as in lifetimes); "
        "M calendar months (freq='M')",
    )
    report.add_argument(
        "--holdout-start",
        help="first day of the holdout period (default: halfway through the log)",
    )
    report.add_argument(
        "--observation-end", help="end of the observation (default: the last transaction)"
    )
    report.add_argument(
        "--model",
        choices=["best", *sorted({**MODELS, **LITT_MODELS})],
        default="best",
        help="model behind the customer table (default: smallest holdout error)",
    )
    report.add_argument(
        "--top", type=int, default=20, help="valuable customers at risk listed (default 20)"
    )
    report.add_argument(
        "-o", "--output", default="report.html", help="HTML file (default report.html)"
    )
    report.add_argument("--csv", help="write the per-customer table to this CSV file")
    report.add_argument("--raw-csv", action="store_true", help=_RAW_CSV_HELP)
    report.add_argument("-q", "--quiet", action="store_true", help="no progress line")
    report.add_argument(
        "--covariates",
        metavar="COL,COL",
        help="customer traits used as covariates of the purchase and drop-out processes "
        "of every model (text columns are categories); taken from --covariates-file, "
        "else from each customer's first transaction in the log",
    )
    # Subscription logs (issue 15): a subscription report instead of the transaction one.
    report.add_argument(
        "--subscriptions",
        metavar="LOG.csv",
        help="CSV of subscriptions (one row each: --customer-id, --start, --end; an empty "
        "end is a subscription still active): write a subscription report (retention by "
        "cohort with the sBG projection, churn drivers from --covariates, subscribers most "
        "at risk, valued with --monetary-value as the price per period if given) instead "
        "of the transaction report",
    )
    report.add_argument("--start", help="with --subscriptions: column of the start dates")
    report.add_argument("--end", help="with --subscriptions: column of the end dates")
    report.add_argument(
        "--billing-period",
        choices=["D", "W", "M", "Q", "Y"],
        default="M",
        help="with --subscriptions: the billing period (default M, months)",
    )
    report.add_argument(
        "--covariates-file",
        metavar="CSV",
        help="CSV with one row per customer: the --customer-id column (customer_id for the "
        "bundled sample) and the --covariates columns, joined on the customer id",
    )
    report.add_argument(
        "--spend-covariates",
        metavar="COL,COL",
        help="customer traits used as covariates of the Gamma-Gamma spend model (separate "
        "from --covariates, which feed the transaction models only; name a column in both "
        "for both); taken from the same place as --covariates",
    )


def _read_summary(args: argparse.Namespace) -> pd.DataFrame:
    """The customer summaries with columns frequency, recency, T (and weights),
    indexed by the customer ids when the file has them."""
    if args.csv is None:
        print("no CSV given: using the bundled CDNOW summary (2357 customers, weeks)")
        df = load_cdnow_summary()
        return df.rename_axis("ID")
    df = _read_csv(args.csv)

    wanted = {
        "frequency": args.frequency_col,
        "recency": args.recency_col,
        "T": args.T_col,
    }
    if getattr(args, "model", None) in LITT_MODELS:
        wanted["litt"] = args.litt_col
    if args.weights_col is not None:
        wanted["weights"] = args.weights_col
    id_col = args.id_col if args.id_col is not None else _id_column(df, wanted.values())
    needed = [*wanted.values(), *([id_col] if id_col is not None else [])]
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise InputError(
            f"{args.csv} lacks the column(s) {', '.join(missing)} "
            f"(it has: {', '.join(map(str, df.columns))}); see --frequency-col and friends"
        )
    for column in wanted.values():
        _check_numeric(df, column, args.csv)
    out = pd.DataFrame({name: df[col] for name, col in wanted.items()})
    if id_col is not None:
        name = None if _unnamed(id_col) else id_col
        out.index = pd.Index(df[id_col], name=name)
    return out


def _unnamed(column: Any) -> bool:
    """Whether pandas made up this column's name (an empty header cell)."""
    return isinstance(column, str) and re.fullmatch(r"Unnamed: \d+", column) is not None


def _id_column(df: pd.DataFrame, used: Any) -> Any:
    """The customer id column of a summary file: an unnamed first column, else the
    first column named like an id (:data:`ID_NAMES`), else None."""
    used = set(used)
    columns = [c for c in df.columns if c not in used]
    if len(df.columns) > 0 and _unnamed(df.columns[0]) and df.columns[0] in columns:
        return df.columns[0]
    for column in columns:
        key = re.sub(r"[\s_\-.]", "", str(column)).lower()
        if key in ID_NAMES:
            return column
    return None


def _check_numeric(df: pd.DataFrame, column: str, path: str) -> None:
    """Refuse a column with a value that is not a number, naming its line."""
    values = df[column]
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return
    numbers = pd.to_numeric(values, errors="coerce")
    bad = (numbers.isna() & values.notna()).to_numpy()
    if bad.any():
        row = int(bad.argmax())
        raise InputError(
            f"{_where(path, row)}: {column} must be a number, got {values.iloc[row]!r}"
        )
    df[column] = numbers


def _where(path: str, row: int) -> str:
    """``"FILE line N"`` for data row ``row`` (0-based, as pandas read it), with the
    line's text; the header is line 1."""
    found = _file_line(path, row)
    if found is None:
        return f"{path} (data row {row + 1})"
    number, text = found
    text = text.rstrip("\r\n")
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{path} line {number} ({text!r})"


def _file_line(path: str, row: int) -> tuple[int, str] | None:
    """The line number (1-based) where data row ``row`` of a CSV starts, and that
    line, counting as :func:`pandas.read_csv` reads: blank lines skipped, quoted
    fields may span lines."""
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as handle:
            lines = handle.readlines()
    except OSError:
        return None
    reader = csv.reader(iter(lines))
    seen_header = False
    data_row = -1
    start = 1
    for record in reader:
        if not record:
            start = reader.line_num + 1
            continue
        if not seen_header:
            seen_header = True
        else:
            data_row += 1
            if data_row == row:
                return start, lines[start - 1] if start - 1 < len(lines) else ""
        start = reader.line_num + 1
    return None


@contextmanager
def _lines_of(path: str | None, columns: Sequence[str] | None = None) -> Iterator[None]:
    """Name the file line of an invalid row of ``path`` (the rows of the DataFrame
    read from it, in order). With ``columns``, only errors about those columns are
    about the file's rows (others are about rows derived from it, e.g. customers)."""
    try:
        yield
    except InvalidDataError as exc:
        row = getattr(exc, "row", None)
        column = getattr(exc, "column", None)
        if path is None or row is None or (columns is not None and column not in columns):
            raise
        rule = getattr(exc, "rule", None) or str(exc)
        where = _where(path, int(row))
        detail = f" (column {column})" if column and str(column) not in rule else ""
        raise InputError(f"{where}: {rule}{detail}") from None


def _parse_dates(log: pd.DataFrame, column: str, datetime_format: str | None, path: str) -> None:
    """Parse the date column in place; a date that cannot be read is an error naming
    its line (missing dates are left to the report, which refuses them)."""
    if column not in log.columns:
        return  # the report names the missing column
    values = log[column]
    try:
        log[column] = pd.to_datetime(values, format=datetime_format)
        return
    except (ValueError, TypeError, OverflowError) as exc:
        reason = str(exc).split("\n")[0]
    parsed = pd.to_datetime(values, format=datetime_format, errors="coerce")
    bad = (parsed.isna() & values.notna()).to_numpy()
    hint = ""
    if not datetime_format:
        hint = "; give the dates' format with --datetime-format, e.g. %Y%m%d"
    if not bad.any():
        raise InputError(f"cannot read the dates in column {column} of {path}: {reason}{hint}")
    row = int(bad.argmax())
    raise InputError(
        f"{_where(path, row)}: cannot read {values.iloc[row]!r} in column {column} as a date{hint}"
    )


def _read_csv(path: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except FileNotFoundError:
        raise InputError(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"cannot read {path} as CSV: {exc}") from None


def _subscription_report(args: argparse.Namespace) -> int:
    """``report --subscriptions``: the subscription report (issue 15)."""
    from ._report_subscriptions import build_subscription_report

    needed = [
        flag
        for flag, value in (
            ("--customer-id", args.customer_id),
            ("--start", args.start),
            ("--end", args.end),
        )
        if value is None
    ]
    if needed:
        raise InputError(f"--subscriptions needs {', '.join(needed)}: the columns of the log")
    if args.transactions is not None:
        raise InputError("give either TRANSACTIONS or --subscriptions, not both")
    unused = [
        flag
        for flag, value in (
            ("--datetime", args.datetime),
            ("--holdout-start", args.holdout_start),
            ("--covariates-file", args.covariates_file),
        )
        if value is not None
    ]
    if unused:
        raise InputError(
            f"{', '.join(unused)} belong(s) to the transaction report; with --subscriptions "
            "the dates are --start and --end and the covariates are columns of the log"
        )
    observation_end = None
    if args.observation_end is not None:
        try:
            observation_end = pd.Timestamp(args.observation_end)
        except ValueError:
            raise InputError(f"--observation-end: cannot read {args.observation_end!r}") from None
    log = _read_csv(args.subscriptions)
    with _lines_of(args.subscriptions, [args.customer_id, args.start, args.end]):
        report = build_subscription_report(
            log,
            args.customer_id,
            args.start,
            args.end,
            observation_end=observation_end,
            freq=args.billing_period,
            covariates=args.covariates,
            top=args.top,
            source=f"subscriptions from {args.subscriptions}",
            price_col=args.monetary_value,
            datetime_format=args.datetime_format,
        )
    try:
        report.write(args.output, args.csv, raw_csv=args.raw_csv)
    except OSError as exc:
        raise InputError(f"cannot write {exc.filename}: {exc.strerror or exc}") from None
    print(
        f"wrote the report on {len(report.customers)} subscribers ({report.model}) to {args.output}"
    )
    if args.csv:
        print(f"wrote one row per subscriber to {args.csv}")
    for note in report.notes:
        print(f"note: {note}")
    return 0


def _report(args: argparse.Namespace) -> int:
    if args.subscriptions is not None:
        return _subscription_report(args)
    options: dict[str, Any] = {
        "freq": args.freq,
        "model": args.model,
        "top": args.top,
        "progress": not args.quiet,
    }
    if args.top < 0:
        raise InputError(f"--top must be non-negative, got {args.top}")
    named = args.covariates is not None or args.spend_covariates is not None
    if args.covariates_file is not None and not named:
        raise InputError(
            "--covariates-file needs --covariates (or --spend-covariates): the columns to use"
        )
    if args.covariates is not None:
        options["covariates"] = args.covariates
    if args.spend_covariates is not None:
        options["spend_covariates"] = args.spend_covariates
    if named and args.covariates_file is not None:
        options["customer_data"] = _read_csv(args.covariates_file)
    for name in ("holdout_start", "observation_end"):
        value = getattr(args, name)
        if value is not None:
            try:
                options[name] = pd.Timestamp(value)
            except ValueError:
                flag = "--" + name.replace("_", "-")
                raise InputError(f"{flag}: cannot read {value!r} as a date") from None
    if args.transactions is None:
        given = [
            flag
            for flag, value in (
                ("--customer-id", args.customer_id),
                ("--datetime", args.datetime),
                ("--monetary-value", args.monetary_value),
                ("--datetime-format", args.datetime_format),
            )
            if value is not None
        ]
        if given:
            raise InputError(f"{', '.join(given)} need(s) a TRANSACTIONS file")
        print("no TRANSACTIONS given: using the bundled CDNOW sample log (2357 customers)")
        report = cdnow_report(**options)
    else:
        if args.customer_id is None or args.datetime is None:
            raise InputError(
                "report needs --customer-id and --datetime: the columns of "
                f"{args.transactions} with the customer ids and the purchase dates"
            )
        log = _read_csv(args.transactions)
        _parse_dates(log, args.datetime, args.datetime_format, args.transactions)
        columns = [args.customer_id, args.datetime, args.monetary_value]
        with _lines_of(args.transactions, [c for c in columns if c is not None]):
            report = build_report(
                log,
                args.customer_id,
                args.datetime,
                args.monetary_value,
                source=f"transactions from {args.transactions}",
                **options,
            )
    try:
        report.write(args.output, args.csv, raw_csv=args.raw_csv)
    except OSError as exc:
        raise InputError(f"cannot write {exc.filename}: {exc.strerror or exc}") from None
    n_customers = len(report.customers)
    print(f"wrote the report on {n_customers} customers ({report.model}) to {args.output}")
    if args.csv:
        print(f"wrote one row per customer to {args.csv}")
    for note in report.notes:
        print(f"note: {note}")
    return 0


def _fit(args: argparse.Namespace) -> int:
    if not (math.isfinite(args.horizon) and args.horizon >= 0):
        raise InputError(
            f"--horizon must be a non-negative, finite number of time units, got {args.horizon:g}"
        )
    data = _read_summary(args)
    if args.model in LITT_MODELS and args.csv is None:
        raise InputError(
            f"--model {args.model} needs a CSV with a litt column (the bundled CDNOW "
            "summary has none): summary_data_from_transaction_data(..., include_litt=True)"
        )
    fitter_class, model_name = {**MODELS, **LITT_MODELS}[args.model]
    with _lines_of(args.csv):
        fitter = fitter_class().fit(data)

    line = f"{model_name} fitted on {fitter.n_customers_:.0f} customers"
    new_customers = int((data["T"] == 0).sum()) if "T" in data else 0
    if new_customers:
        line += (
            f", plus {new_customers} new customers first seen on the last day (T = 0),"
            " who carry no information for the fit and are predicted as fresh customers"
        )
    print(line)
    with pd.option_context("display.float_format", "{:.4f}".format):
        print(fitter.summary.to_string())
    print(f"log-likelihood  {fitter.log_likelihood_:.4f}")
    print(f"AIC             {fitter.aic:.4f}")
    print(f"BIC             {fitter.bic:.4f}")
    if args.model in LITT_MODELS:
        profile = ", ".join(f"{k}: {ll:.2f}" for k, ll in fitter.k_profile_.items())
        print(f"k               {fitter.k_} (log-likelihood by k: {profile})")

    frequency, recency, T = data["frequency"], data["recency"], data["T"]
    predictions = pd.DataFrame(
        {
            "frequency": frequency,
            "recency": recency,
            "T": T,
            "p_alive": fitter.conditional_probability_alive(frequency, recency, T),
            "expected_purchases": fitter.conditional_expected_number_of_purchases_up_to_time(
                args.horizon, frequency, recency, T
            ),
        },
        index=data.index,
    )
    horizon = f"{args.horizon:g}"
    if args.output:
        try:
            write_csv(predictions, args.output, raw=args.raw_csv)
        except OSError as exc:
            raise InputError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        print(
            f"wrote P(alive) and expected purchases over a horizon of {horizon} "
            f"for {len(predictions)} rows to {args.output}"
        )
    else:
        print(f"\nP(alive) and expected purchases over a horizon of {horizon} (first rows;")
        print("use --output FILE to write all):")
        with pd.option_context("display.float_format", "{:.4f}".format):
            print(predictions.head(10).to_string())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "fit":
            return _fit(args)
        if args.command == "report":
            return _report(args)
    except ConvergenceError as exc:
        _error(f"the fit did not converge: {exc}")
        return EXIT_NOT_CONVERGED
    except BrokenPipeError:  # e.g. `retentionkit fit | head`
        sys.stderr.close()
        return 0
    except (InputError, ValueError, ImportError) as exc:
        _error(str(exc))
        return EXIT_BAD_INPUT
    parser.error(f"unknown command {args.command}")
    return EXIT_BAD_INPUT  # not reached: parser.error exits


def _error(message: str) -> None:
    one_line = " ".join(message.split())
    print(f"retentionkit: error: {one_line}", file=sys.stderr)
