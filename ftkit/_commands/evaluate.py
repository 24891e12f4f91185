"""``ftkit eval``: score models on a held-out test file and compare them.

``--fake`` evaluates against ftkit's in-process fake API; ``--fake-train FILE``
first fine-tunes the first ``--model`` on FILE there, so the whole loop (train,
then compare the fine-tune with its base) runs offline in seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .._exceptions import UsageError
from .._words import plural
from ..evaluation import SCORERS
from ._args import read_json_object
from ._command import FAKE, Command, count, flag, json_flag
from ._inference import progress_lines, train_on_fake

__all__ = ["register"]

_EPILOG = """examples:
  ftkit eval test.jsonl --model gpt-4.1-mini-2025-04-14 --model ft:gpt-4.1-mini-2025-04-14:org::abc
  ftkit eval test.jsonl --model base=gpt-4.1-mini-2025-04-14 --model tuned=ft:... \\
             --scorer json-fields --out eval-results
  ftkit eval test.jsonl --fake-train train.jsonl --model gpt-4.1-mini-2025-04-14 \\
             --scorer json-fields
  ftkit eval val.jsonl --fake-train train.jsonl --model gpt-4.1-mini-2025-04-14 \\
             --scorer pairwise --judge gpt-4.1-2025-04-14 --max-cost-usd 2
  ftkit eval val.jsonl --fake-train train.jsonl --model gpt-4.1-mini-2025-04-14 \\
             --scorer rubric --criterion sarcastic --criterion "under 40 words" --scale 1 5
"""


def _scorer(args: argparse.Namespace) -> Any:
    """``--scorer`` with the judge's flags: a judge object, or the scorer's name."""
    judged = args.scorer in ("pairwise", "rubric")
    if not judged:
        for name, given in (
            ("--judge", args.judge),
            ("--criterion", args.criterion),
            ("--scale", args.scale),
            ("--no-reference", args.no_reference),
        ):
            if given:
                raise UsageError(f"{name} is for --scorer pairwise or rubric")
        return args.scorer
    from ..evaluation import PairwiseJudge, RubricJudge

    options: dict[str, Any] = {"reference": not args.no_reference}
    if args.scorer == "pairwise":
        if args.scale:
            raise UsageError("--scale is for --scorer rubric")
        if len(args.criterion) > 1:
            raise UsageError("a pairwise judge takes one --criterion: what makes an answer better")
        return PairwiseJudge(criteria=args.criterion[0] if args.criterion else None, **options)
    scale = tuple(args.scale) if args.scale else (1, 5)
    return RubricJudge(criteria=args.criterion or None, scale=scale, **options)


def _models(values: list[str]) -> dict[str, str]:
    models: dict[str, str] = {}
    for value in values:
        label, sep, model = value.partition("=")
        if not sep:
            label, model = value, value
        if not label or not model:
            raise UsageError(f"--model {value!r}: expected MODEL or LABEL=MODEL")
        if label in models:
            raise UsageError(f"--model {label!r} is given twice")
        models[label] = model
    return models


def _run(args: argparse.Namespace) -> int:
    from ..evaluation import evaluate
    from ..retry import RetryPolicy

    models = _models(args.model)
    stream = sys.stderr if args.json else sys.stdout
    client: Any = None
    retry = RetryPolicy(max_attempts=args.retries)
    if args.fake or args.fake_train:
        from ..testing import FakeFineTuningAPI

        fake = FakeFineTuningAPI()
        client = fake.client(max_retries=0)
        retry = RetryPolicy(max_attempts=args.retries, sleep=fake.clock.sleep, clock=fake.clock.now)
        if args.fake_train:
            if not models:
                raise UsageError("--fake-train needs the base model to train: --model MODEL")
            first_label, base = next(iter(models.items()))
            tuned = train_on_fake(fake, client, base, args.fake_train, stream)
            if first_label == base:
                models = {"base": base, **{k: v for k, v in models.items() if k != base}}
            models["fine-tuned"] = tuned
    if not models:
        raise UsageError("give at least one --model")
    report = evaluate(
        models,
        args.file,
        client=client,
        scorer=_scorer(args),
        judge=args.judge,
        max_cost_usd=args.max_cost_usd,
        concurrency=args.concurrency,
        max_examples=args.max_examples,
        max_tokens=args.max_tokens,
        retry=retry,
        out=args.out,
        progress=False if args.quiet else progress_lines(sys.stderr, "evaluated"),
        prices=read_json_object(args.prices, "--prices"),
    )
    if args.json:
        json.dump(report.to_dict(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(report)
    if args.plot:
        report.plot().savefig(args.plot)
        print(f"  plot written to {args.plot}", file=stream)
    failed = sum(s.errors for s in report.scores.values())
    unjudged = report.judge.errors if report.judge is not None else 0
    # Unreadable verdicts are logged replies: a rerun reuses them, it does not retry them.
    unreadable = report.judge.unreadable if report.judge is not None else 0
    retried = unjudged - unreadable
    if failed or retried:
        what = [plural(failed, "request")] if failed else []
        what += [plural(retried, "verdict") + " of the judge"] if retried else []
        print(
            f"ftkit: {' and '.join(what)} failed; rerun with the same --out to retry them",
            file=sys.stderr,
        )
    if unreadable:
        print(
            f"ftkit: the judge's replies for {plural(unreadable, 'verdict')} could not be read "
            "after every attempt; a rerun with the same --out reuses them (try another --judge)",
            file=sys.stderr,
        )
    return 1 if failed or unjudged else 0


register = Command(
    "eval",
    help="score models on a test file and compare them (e.g. a fine-tune with its base)",
    description=(
        "Send each test example's conversation, up to its reference assistant turn, to "
        "every model through Chat Completions, score the replies against the reference, "
        "and report each model's mean score with a 95% interval, win/tie/loss between "
        "models, tokens and cost. For style, tone and open answers, --scorer pairwise "
        "(a judge model picks the better reply, asked in both orders) or rubric (a judge "
        "grades each reply per --criterion) with --judge MODEL. With --out, replies and "
        "verdicts are logged as they arrive and a rerun with the same --out asks only "
        "what is missing."
    ),
    epilog=_EPILOG,
    formatter_class=argparse.RawDescriptionHelpFormatter,
    flags=(
        flag("file", help="the test file (.jsonl, SFT or DPO records)"),
        flag(
            "--model",
            action="append",
            default=[],
            metavar="[LABEL=]MODEL",
            help="a model to evaluate; repeat it to compare models (optional LABEL= names it)",
        ),
        flag(
            "--scorer",
            choices=tuple(SCORERS),
            default="auto",
            help=(
                "how replies are scored (default auto: tool-calls, json-fields, exact for short "
                "answers or token-f1 for free text, from the references; the report says which)"
            ),
        ),
        # metavar=None: argparse names each value after its flag (CONCURRENCY, ...).
        count(
            "--concurrency",
            minimum=1,
            default=4,
            metavar=None,
            help="requests in flight (default 4)",
        ),
        count("--max-examples", minimum=1, metavar=None, help="evaluate only the first N"),
        count("--max-tokens", minimum=1, metavar=None, help="cap on each reply's tokens"),
        count("--retries", minimum=1, metavar=None, help="attempts per request (default 5)"),
        flag(
            "--out", metavar="DIR", help="results directory: replies log and report.json; resumable"
        ),
        flag(
            "--prices",
            metavar="FILE",
            help='inference price overrides, a JSON file or inline JSON: {"model": {"input": '
            'USD/1M, "output": USD/1M}}',
        ),
        flag(
            "--judge",
            metavar="MODEL",
            help=(
                "the judge model of --scorer pairwise or rubric (default with an OpenAI "
                "client: gpt-4.1-2025-04-14)"
            ),
        ),
        flag(
            "--criterion",
            action="append",
            default=[],
            metavar="TEXT",
            help=(
                "rubric: a criterion to grade, repeatable (default: correct, style); "
                "pairwise: what makes an answer better"
            ),
        ),
        flag(
            "--scale",
            nargs=2,
            type=int,
            metavar=("LOW", "HIGH"),
            help="rubric: the integer grades (default 1 5; 0 1 for yes/no checks)",
        ),
        flag(
            "--no-reference",
            action="store_true",
            help="do not show the judge the reference answer",
        ),
        flag(
            "--max-cost-usd",
            type=float,
            metavar="USD",
            help=(
                "refuse to start if the estimated cost of every call (replies and judge) is "
                "over this, and stop when what was billed reaches it"
            ),
        ),
        flag(
            "--plot",
            metavar="PNG",
            help=(
                "save a bar chart (mean scores; win rates per pair with a pairwise judge, "
                "mean grades per criterion with a rubric)"
            ),
        ),
        json_flag("the report"),
        FAKE,
        flag(
            "--fake-train",
            metavar="FILE",
            help="with the fake: first fine-tune the first --model on FILE, then compare the two",
        ),
        flag("--quiet", action="store_true", help="no progress lines on stderr"),
    ),
    run=_run,
).register
