"""``ftkit estimate``: tokens and cost of a training file, before anything is uploaded."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .._exceptions import UsageError
from ._args import epochs

__all__ = ["register"]

_EPILOG = """examples:
  ftkit estimate train.jsonl --model gpt-4.1-mini-2025-04-14
  ftkit estimate prefs.jsonl --model gpt-4.1-mini-2025-04-14 --method dpo --epochs 2
  ftkit estimate train.jsonl --model my-model --prices prices.json --json

Exit status: 0 estimated, 1 no line of the file is a valid record, 2 usage error.
"""


def register(subparsers: Any) -> None:
    """Add the ``estimate`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "estimate",
        help="count tokens and estimate the training cost of a JSONL file",
        description=(
            "Count the tokens of an SFT or DPO training file with the model's tokenizer, "
            "find examples over the per-example limit, and price the run from ftkit's dated "
            "price table (or --prices). Nothing is uploaded."
        ),
        epilog=_EPILOG,
    )
    parser.add_argument("file", help="the training file (.jsonl)")
    parser.add_argument(
        "--model", required=True, help="the model to train, e.g. gpt-4.1-mini-2025-04-14"
    )
    parser.add_argument(
        "--epochs",
        type=epochs,
        default="auto",
        help="epochs to train (default 'auto': the documented default rule)",
    )
    parser.add_argument(
        "--method",
        choices=("supervised", "dpo"),
        default=None,
        help="training method (default: from the file's records)",
    )
    parser.add_argument(
        "--prices",
        metavar="JSON",
        default=None,
        help='a JSON file of prices overriding the defaults: {"model": USD per 1M tokens}',
    )
    parser.add_argument("--json", action="store_true", help="print the estimate as JSON")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ..cost.estimate import estimate

    try:
        result = estimate(
            args.file,
            model=args.model,
            epochs=args.epochs,
            prices=args.prices,
            method=args.method,
        )
    except FileNotFoundError as exc:
        raise UsageError(f"no such file: {exc.filename or args.file}") from None
    if args.json:
        json.dump(result.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(result)
    if result.skipped:
        print(
            f"ftkit: warning: {result.skipped:,} line(s) were not counted because they are not "
            f"valid records; run 'ftkit validate {args.file}' to see why",
            file=sys.stderr,
        )
    # Nothing countable at all is a problem with the file, not a $0 run.
    return 1 if result.skipped and not result.examples else 0
