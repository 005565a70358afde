"""Command-line interface: ``retentionkit fit [CSV]``.

Fits a model to a CSV of customer summaries (one row per customer with frequency,
recency and T), prints the parameter table and fit statistics, and gives each
customer's probability of being alive and expected purchases over a horizon.
Invalid input ends with a one-line message on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import pandas as pd

from . import __version__
from ._core import ConvergenceError
from .datasets import load_cdnow_summary
from .fitters import BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter, TransactionFitter

__all__ = ["main"]

EXIT_BAD_INPUT = 2
EXIT_NOT_CONVERGED = 1


#: The models ``--model`` accepts: name -> (fitter class, display name).
MODELS: dict[str, tuple[type[TransactionFitter], str]] = {
    "bgnbd": (BetaGeoFitter, "BG/NBD"),
    "mbgnbd": (ModifiedBetaGeoFitter, "MBG/NBD"),
    "pnbd": (ParetoNBDFitter, "Pareto/NBD"),
}


class InputError(Exception):
    """The user's file or options cannot be used."""


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
            "Fit a model to a CSV of customer summaries (one row per customer) and "
            "predict, per customer, P(alive) and the expected number of purchases "
            "over the horizon. Without CSV, the bundled CDNOW summary is used."
        ),
    )
    fit.add_argument("csv", nargs="?", help="CSV file of customer summaries")
    fit.add_argument(
        "--model", choices=sorted(MODELS), default="bgnbd", help="model (default bgnbd)"
    )
    fit.add_argument(
        "--horizon", type=float, default=39.0, help="prediction horizon, in the unit of T"
    )
    fit.add_argument("--output", help="write the per-customer predictions to this CSV")
    fit.add_argument("--frequency-col", default="frequency")
    fit.add_argument("--recency-col", default="recency")
    fit.add_argument("--T-col", dest="T_col", default="T")
    fit.add_argument("--id-col", default=None, help="customer id column (default: ID if present)")
    fit.add_argument("--weights-col", default=None, help="number of customers per row")
    return parser


def _read_summary(args: argparse.Namespace) -> pd.DataFrame:
    """The customer summaries with columns frequency, recency, T (and weights)."""
    if args.csv is None:
        print("no CSV given: using the bundled CDNOW summary (2357 customers, weeks)")
        df = load_cdnow_summary()
        return df.rename_axis("ID")
    try:
        df = pd.read_csv(args.csv)
    except FileNotFoundError:
        raise InputError(f"no such file: {args.csv}") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"cannot read {args.csv} as CSV: {exc}") from None

    wanted = {
        "frequency": args.frequency_col,
        "recency": args.recency_col,
        "T": args.T_col,
    }
    if args.weights_col is not None:
        wanted["weights"] = args.weights_col
    id_col = args.id_col
    if id_col is None and "ID" in df.columns:
        id_col = "ID"
    needed = [*wanted.values(), *([id_col] if id_col else [])]
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise InputError(
            f"{args.csv} lacks the column(s) {', '.join(missing)} "
            f"(it has: {', '.join(map(str, df.columns))}); see --frequency-col and friends"
        )
    out = pd.DataFrame({name: df[col] for name, col in wanted.items()})
    if id_col:
        out.index = pd.Index(df[id_col], name=id_col)
    return out


def _fit(args: argparse.Namespace) -> int:
    data = _read_summary(args)
    if args.horizon < 0:
        raise InputError(f"--horizon must be non-negative, got {args.horizon:g}")
    fitter_class, model_name = MODELS[args.model]
    fitter = fitter_class().fit(data)

    print(f"{model_name} fitted on {fitter.n_customers_:.0f} customers")
    with pd.option_context("display.float_format", "{:.4f}".format):
        print(fitter.summary.to_string())
    print(f"log-likelihood  {fitter.log_likelihood_:.4f}")
    print(f"AIC             {fitter.aic:.4f}")
    print(f"BIC             {fitter.bic:.4f}")

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
            predictions.to_csv(args.output)
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
    except ConvergenceError as exc:
        _error(f"the fit did not converge: {exc}")
        return EXIT_NOT_CONVERGED
    except BrokenPipeError:  # e.g. `retentionkit fit | head`
        sys.stderr.close()
        return 0
    except (InputError, ValueError) as exc:
        _error(str(exc))
        return EXIT_BAD_INPUT
    parser.error(f"unknown command {args.command}")
    return EXIT_BAD_INPUT  # not reached: parser.error exits


def _error(message: str) -> None:
    one_line = " ".join(message.split())
    print(f"retentionkit: error: {one_line}", file=sys.stderr)
