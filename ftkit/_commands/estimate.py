"""``ftkit estimate``: tokens and cost of a training file, before anything is uploaded.

Exit codes: 0 estimated, 1 the file holds no valid record (empty, or every line
invalid), 2 on usage errors. ``-`` reads standard input.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from .._exceptions import UsageError
from ._args import check_data_file, data_source, epochs, flag_text, read_training_prices
from ._command import Command, flag, json_flag, method_flag

__all__ = ["register"]

_EPILOG = """examples:
  ftkit estimate train.jsonl --model gpt-4.1-mini-2025-04-14
  ftkit estimate prefs.jsonl --model gpt-4.1-mini-2025-04-14 --method dpo --epochs 2
  ftkit estimate train.jsonl --model my-model --prices prices.json --json
  ftkit estimate train.jsonl --model gpt-4.1-mini --prices '{"gpt-4.1-mini-2025-04-14": 4}'
  cat train.jsonl | ftkit estimate - --model gpt-4.1-mini-2025-04-14

--prices takes a FILE or inline JSON (a value starting with {): {"model": USD per 1M
tokens}, or entries {"model": {"per_1m_tokens": USD, "base_model": "gpt-4.1-..."}}.
A model ftkit does not know (my-model above) is estimable once priced: it is counted
as its entry's base_model, or else as gpt-4.1-mini-2025-04-14 (o200k_base, 65,536
tokens per example) with a warning.

Exit status: 0 estimated, 1 the file holds no valid record, 2 usage error.
"""


def _run(args: argparse.Namespace) -> int:
    from ..tokens.stats import skip_reasons_text
    from ..validation import estimate

    check_data_file(args.file)
    prices = read_training_prices(args.prices)
    source, label = data_source(args.file)
    name = label or args.file
    try:
        result = estimate(
            source, model=args.model, epochs=args.epochs, prices=prices, method=args.method
        )
    except UsageError as exc:
        if "cannot choose a tokenizer" not in str(exc):
            raise
        # A model ftkit does not know is estimable once priced (see --help).
        more = (
            "or give its price with --prices to estimate it anyway"
            if prices is None
            else "or add its price to --prices to estimate it anyway"
        )
        raise UsageError(f"{exc}, {more}") from exc
    if result.cost_reason:
        # The reason is advice for Python callers ("pass prices=..."): say it in flags.
        result = dataclasses.replace(result, cost_reason=flag_text(result.cost_reason))
    if args.json:
        json.dump(result.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(result)
    why = skip_reasons_text(result.skipped, result.skipped_reasons)
    why = f" ({why})" if why else ""
    if not result.examples:
        # Nothing countable at all is a problem with the file, not a $0 run.
        what = (
            f"{_not_counted(result.skipped)}{why}"
            if result.skipped
            else "it holds no record (it is empty or blank)"
        )
        print(f"ftkit: error: nothing to estimate in {name}: {what}", file=sys.stderr)
        print(f"  hint: run `ftkit validate {args.file}` to see why", file=sys.stderr)
        return 1
    if result.skipped:
        print(
            f"ftkit: warning: {_not_counted(result.skipped)}{why}; "
            f"run 'ftkit validate {args.file}' to see each one",
            file=sys.stderr,
        )
    return 0


def _not_counted(n: int) -> str:
    """``"3 lines are not valid records and were not counted"`` (singular for one)."""
    from .._words import plural

    if n == 1:
        return "1 line is not a valid record and was not counted"
    return f"{plural(n, 'line')} are not valid records and were not counted"


register = Command(
    "estimate",
    help="count tokens and estimate the training cost of a JSONL file",
    description=(
        "Count the tokens of an SFT or DPO training file with the model's tokenizer, "
        "find examples over the per-example limit, and price the run from ftkit's dated "
        "price table (or --prices). Nothing is uploaded."
    ),
    epilog=_EPILOG,
    flags=(
        flag("file", metavar="FILE", help="the training file (.jsonl); - reads stdin"),
        flag("--model", required=True, help="the model to train, e.g. gpt-4.1-mini-2025-04-14"),
        flag(
            "--epochs",
            type=epochs,
            default="auto",
            help="epochs to train (default 'auto': the documented default rule)",
        ),
        method_flag(
            "training method, sft (or supervised) or dpo (default: from the file's records)"
        ),
        flag(
            "--prices",
            metavar="FILE",
            help='prices overriding the defaults, as a JSON file or inline JSON: {"model": USD '
            "per 1M tokens}",
        ),
        json_flag("the estimate"),
    ),
    run=_run,
).register
