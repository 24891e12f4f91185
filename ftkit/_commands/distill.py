"""``ftkit distill stored | generate | migrate``: training sets from a teacher model.

``stored`` reads completions the teacher served with ``store=True`` back into an
SFT file; ``generate`` asks the teacher every prompt of a file now, writing each
kept answer as it arrives (a re-run with the same ``--out`` asks only what is
missing); ``migrate`` carries the teacher to another provider
(:func:`ftkit.distill.migrate`: answers, a student trained there, its closeness
to the teacher on held-out prompts; a re-run with the same ``--workdir``
resumes). ``--fake`` runs any of them against ftkit's in-process fakes; with
``stored --fake``, ``--fake-traffic FILE`` first sends FILE's prompts to
``--model`` with ``store=True``, so there is traffic to read back, and with
``migrate --fake``, ``--fake-train FILE`` first fine-tunes ``--teacher`` on FILE,
so the teacher is a fine-tune, as a real migration's is.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from typing import Any

from .._exceptions import UsageError
from .._words import plural
from ._args import number, read_json_object, whole_number
from ._inference import progress_lines, train_on_fake

__all__ = ["register"]

MODEL = "gpt-4.1-mini-2025-04-14"
STUDENT = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
PROVIDERS = ("together", "fireworks", "openai")  # Azure: ftkit.distill.migrate(serve=...)

_EPILOG = f"""examples:
  ftkit distill generate test.jsonl --model {MODEL} --out distilled.jsonl --fake
  ftkit distill generate test.jsonl --model {MODEL} --out json-only.jsonl --fake \\
                --filter json --max-tokens 200 --max-cost-usd 0.50 --json
  ftkit distill stored --model {MODEL} --metadata task=headlines --out stored.jsonl \\
                --fake --fake-traffic test.jsonl
  ftkit distill migrate test.jsonl --teacher {MODEL} --to together \\
                --student-model {STUDENT} --workdir migration --holdout 0.25 \\
                --fake --fake-train test.jsonl

The teacher's client comes from the environment (OPENAI_API_KEY, or Azure OpenAI's
variables); migrate's student client from --to's (TOGETHER_API_KEY, FIREWORKS_API_KEY...).
`ftkit distill MODE --help` lists every flag of a mode.
"""

_FILTERS = ("refusal", "length", "empty", "json")
DEFAULTS = ("refusal", "length", "empty")  # ftkit.distill.DEFAULT_FILTERS, without loading it


def _debug(parser: argparse.ArgumentParser) -> None:
    # Like every command's (ftkit.cli adds it to the first level): after the subcommand too.
    parser.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show tracebacks and debug logs on stderr",
    )


def _moment(value: str) -> float:
    """``--since`` / ``--until``: an ISO date or time (UTC unless it says), or Unix seconds."""
    try:
        return float(value)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO date/time (2026-11-30, 2026-11-30T12:00Z) or Unix seconds, "
            f"got {value!r}"
        ) from None
    # A time without a zone is UTC, as the API's ``created`` is (not the local time).
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()


def _filters(args: argparse.Namespace) -> list[str]:
    """``--filter`` (repeated) replaces the default filters; ``--no-filter`` keeps all."""
    if args.filter is not None:
        return list(args.filter)
    return [] if args.no_filter else list(DEFAULTS)


def _metadata(values: list[str]) -> dict[str, str] | None:
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key:
            raise UsageError(f"--metadata {value!r}: expected KEY=VALUE")
        pairs[key] = text
    return pairs or None


def _fake(args: argparse.Namespace) -> tuple[Any, Any]:
    """The fake, its client, and a retry policy on its virtual clock."""
    from ..retry import RetryPolicy
    from ..testing import FakeFineTuningAPI

    fake = FakeFineTuningAPI()
    retry = RetryPolicy(max_attempts=args.retries, sleep=fake.clock.sleep, clock=fake.clock.now)
    return fake, retry


def _send_traffic(fake: Any, client: Any, args: argparse.Namespace) -> None:
    """With the fake: ask ``--model`` each prompt of ``--fake-traffic`` with store=True."""
    from ..distill._prompts import load_prompts

    metadata = _metadata(args.metadata)
    prompts = load_prompts(args.fake_traffic)
    for prompt in prompts:
        body = prompt.request(args.model or MODEL, {})
        if metadata:
            body["metadata"] = metadata
        client.chat.completions.create(**body, store=True)
        fake.advance(1.0)
    print(
        f"  sent {plural(len(prompts), 'prompt')} to the fake with store=True", file=_stream(args)
    )


def _stream(args: argparse.Namespace) -> Any:
    return sys.stderr if args.json else sys.stdout


def _stored(args: argparse.Namespace) -> int:
    from ..distill import from_stored
    from ..retry import RetryPolicy

    client: Any = None
    retry: Any = RetryPolicy(max_attempts=args.retries)
    if args.fake_traffic and not args.fake:
        raise UsageError("--fake-traffic needs --fake")
    if args.fake:
        fake, retry = _fake(args)
        client = fake.client(max_retries=0)
        if args.fake_traffic:
            _send_traffic(fake, client, args)
    tools = None
    if args.tools:
        from pathlib import Path

        try:
            tools = json.loads(Path(args.tools).read_text("utf-8"))
        except ValueError as exc:
            raise UsageError(f"--tools {args.tools}: not JSON ({exc})") from None
        if not isinstance(tools, list):
            raise UsageError(f"--tools {args.tools}: expected a JSON list of tool definitions")
    dataset = from_stored(
        client,
        model=args.model,
        metadata=_metadata(args.metadata),
        since=args.since,
        until=args.until,
        limit=args.limit,
        tools=tools,
        filters=_filters(args),
        retry=retry,
    )
    path = dataset.write(args.out)
    if args.json:
        json.dump({"out": str(path), "records": len(dataset)}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(f"wrote {plural(len(dataset), 'record')} from stored completions to {path}")
    return 0


def _generate(args: argparse.Namespace) -> int:
    from ..distill import generate
    from ..retry import RetryPolicy

    client: Any = None
    retry: Any = RetryPolicy(max_attempts=args.retries)
    if args.fake:
        fake, retry = _fake(args)
        client = fake.client(max_retries=0)
    result = generate(
        client,
        args.prompts,
        model=args.model,
        out=args.out,
        concurrency=args.concurrency,
        temperature=args.temperature,
        max_cost_usd=args.max_cost_usd,
        n=args.n,
        max_tokens=args.max_tokens,
        filters=_filters(args),
        retry=retry,
        progress=False if args.quiet else progress_lines(sys.stderr, "answered"),
        prices=read_json_object(args.prices, "--prices"),
    )
    if args.json:
        json.dump(result.to_dict(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(result)
    failed = result.dropped.get("error", 0)
    if failed:
        print(
            f"ftkit: {plural(failed, 'call')} failed; rerun with the same --out to ask them again",
            file=sys.stderr,
        )
    return 1 if failed else 0


def _migrate(args: argparse.Namespace) -> int:
    from ..distill import migrate
    from ..pipeline import FineTune
    from ..retry import RetryPolicy

    teacher: Any = None
    teacher_model = args.teacher
    retry: Any = RetryPolicy(max_attempts=args.retries)
    if args.fake_train and not args.fake:
        raise UsageError("--fake-train needs --fake")
    if args.deploy != (args.to == "fireworks"):
        raise UsageError(
            "--to fireworks needs --deploy (a fine-tune there answers only on a deployment, "
            "which the evaluation calls), and --deploy is for --to fireworks only"
        )
    if args.fake:
        from ..testing import FakeFineTuningAPI

        fake, retry = _fake(args)
        teacher = fake.client(max_retries=0)
        if args.fake_train:
            teacher_model = train_on_fake(fake, teacher, args.teacher, args.fake_train, sys.stderr)
        # The student's fake runs on a virtual clock of its own, which its run follows.
        student = FineTune(FakeFineTuningAPI(provider=args.to).client(max_retries=0))
    else:
        student = FineTune(provider=args.to)
    if args.suffix:
        student = student.suffix(args.suffix)
    report = migrate(
        student.model(args.student_model),
        workdir=args.workdir,
        prompts=args.prompts,
        teacher_client=teacher,
        teacher=teacher_model,
        holdout=args.holdout,
        seed=args.seed,
        teacher_max_cost_usd=args.teacher_max_cost_usd,
        max_cost_usd=args.max_cost_usd,
        scorer=args.scorer,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        filters=_filters(args),
        concurrency=args.concurrency,
        retry=retry,
        progress=False if args.quiet else progress_lines(sys.stderr, "answered"),
        prices=read_json_object(args.prices, "--prices"),
        serve=_deploying(retry) if args.deploy else None,
    )
    if args.json:
        json.dump(report.to_dict(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(report)
    return 0


def _deploying(retry: Any) -> Any:
    """``--deploy``: the student's Fireworks deployment (scale-to-zero, one replica at most)."""

    def serve(run: Any) -> str:
        deployment = run.deploy(retry=retry)
        print(f"  deployed {run.fine_tuned_model}: {deployment.hosting_note}", file=sys.stderr)
        return str(deployment.call_as)

    return serve


def _holdout(value: str) -> float | int:
    """``--holdout``: a fraction in (0, 1) or a whole number of records."""
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a fraction (0.1) or a number of records (20), got {value!r}"
        ) from None


def _teacher_flags(parser: argparse.ArgumentParser) -> None:
    """The flags of a teacher's generation, shared by ``generate`` and ``migrate``."""
    parser.add_argument(
        "--concurrency", type=whole_number(1), default=8, metavar="N", help="calls in flight"
    )
    parser.add_argument("--temperature", type=number, help="sent with each teacher call")
    parser.add_argument(
        "--max-tokens", type=whole_number(1), metavar="N", help="cap on each answer"
    )
    parser.add_argument(
        "--prices",
        metavar="FILE",
        help='inference price overrides, a JSON file or inline JSON: {"model": {"input": '
        'USD/1M, "output": USD/1M}}',
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def _common(parser: argparse.ArgumentParser) -> None:
    chosen = parser.add_mutually_exclusive_group()  # --filter and --no-filter contradict
    chosen.add_argument(
        "--filter",
        action="append",
        choices=_FILTERS,
        default=None,
        help="drop answers that fail it; repeatable; given, it replaces the default "
        "(refusal, length, empty)",
    )
    chosen.add_argument("--no-filter", action="store_true", help="keep every answer")
    parser.add_argument(
        "--retries",
        type=whole_number(1),
        default=None,
        metavar="N",
        help="attempts per request (default 5)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument(
        "--fake",
        action="store_true",
        help="use ftkit's in-process fake API (no key, no network, virtual time)",
    )
    _debug(parser)


def register(subparsers: Any) -> None:
    """Add ``ftkit distill`` and its subcommands."""
    distill = subparsers.add_parser(
        "distill",
        help="build a training set from a teacher model: stored traffic or new answers",
        description=(
            "Build an SFT training file from a teacher model's answers: `stored` reads "
            "completions it served with store=True (tool definitions are not returned by "
            "the API: pass --tools); `generate` asks it every prompt of a file now, with "
            "retries, a cost estimate before the first call, a hard cap (--max-cost-usd) "
            "and filters, writing each kept answer as it arrives; a rerun with the same "
            "--out asks only what is missing; `migrate` trains a student on another "
            "provider from the teacher's answers and reports how close it came."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    distill.set_defaults(func=lambda _args: _missing(distill))
    modes = distill.add_subparsers(dest="mode", metavar="MODE")
    layout = argparse.RawDescriptionHelpFormatter

    stored = modes.add_parser(
        "stored",
        help="stored completions -> an SFT file",
        description=(
            "Page through stored chat completions (filtered by --model and --metadata on "
            "the server; --since/--until here, by creation time), read each one's input "
            "messages and write {messages: inputs + [answer]} records to --out."
        ),
        formatter_class=layout,
    )
    stored.add_argument("--model", help="only completions of this model")
    stored.add_argument(
        "--metadata",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="only completions with this metadata pair; repeatable",
    )
    stored.add_argument("--since", type=_moment, help="created at or after (ISO, UTC)")
    stored.add_argument("--until", type=_moment, help="created at or before (ISO, UTC)")
    stored.add_argument("--limit", type=whole_number(1), metavar="N", help="at most N records")
    stored.add_argument(
        "--tools",
        metavar="FILE",
        help="a JSON list of the tool definitions the traffic used (the API does not "
        "return them); added to every record",
    )
    stored.add_argument("--out", required=True, metavar="FILE", help="the SFT file to write")
    stored.add_argument(
        "--fake-traffic",
        metavar="FILE",
        help="with --fake: first send FILE's prompts to --model with store=True",
    )
    _common(stored)
    stored.set_defaults(func=_stored)

    gen = modes.add_parser(
        "generate",
        help="ask a teacher every prompt -> an SFT file, resumably",
        description=(
            "Ask --model every prompt of PROMPTS (records; a final assistant turn is "
            "removed, so a test split works) and append each kept answer to --out as it "
            "arrives, with a journal beside it (--out + .journal) so a rerun asks only "
            "what is missing. The cost is estimated before the first call; over "
            "--max-cost-usd nothing is asked."
        ),
        formatter_class=layout,
    )
    gen.add_argument("prompts", metavar="PROMPTS", help="the prompt file (.jsonl records)")
    gen.add_argument("--model", required=True, help="the teacher model")
    gen.add_argument("--out", required=True, metavar="FILE", help="the SFT file to write")
    gen.add_argument("--n", type=whole_number(1), default=1, help="answers per prompt")
    gen.add_argument(
        "--max-cost-usd",
        "--max-cost",
        dest="max_cost_usd",
        type=number,
        metavar="USD",
        help="hard cap on what the calls cost: over the estimate nothing is asked",
    )
    _teacher_flags(gen)
    _common(gen)
    gen.set_defaults(func=_generate)

    from ..evaluation import SCORERS

    mig = modes.add_parser(
        "migrate",
        help="carry a teacher to another provider: answers -> SFT there -> closeness",
        description=(
            "Ask --teacher every prompt of PROMPTS, split the answers into training and "
            "held-out records (by a hash of each conversation), fine-tune --student-model "
            "on --to with the training records, then score the student and its base "
            "against the teacher's held-out answers. Every file lives in --workdir "
            "(teacher.jsonl and its journal, train.jsonl, holdout.jsonl, state/, eval/, "
            "migration.json); a rerun with the same --workdir resumes each step and "
            "never trains twice."
        ),
        formatter_class=layout,
    )
    mig.add_argument("prompts", metavar="PROMPTS", help="the prompt file (.jsonl records)")
    mig.add_argument("--teacher", required=True, help="the teacher model (an ft: model...)")
    mig.add_argument("--to", required=True, choices=PROVIDERS, help="where the student trains")
    mig.add_argument("--student-model", required=True, help="the student's base model there")
    mig.add_argument("--workdir", required=True, metavar="DIR", help="the migration's folder")
    mig.add_argument(
        "--holdout",
        type=_holdout,
        default=0.1,
        metavar="SHARE|N",
        help="held-out share of the records, or their number (default 0.1)",
    )
    mig.add_argument("--seed", type=int, default=0, help="picks the held-out records")
    mig.add_argument("--suffix", help="the student model's suffix")
    mig.add_argument(
        "--deploy",
        action="store_true",
        help="--to fireworks: deploy the student (scale-to-zero, billed per GPU-second "
        "while a replica runs) so it can be evaluated; required there",
    )
    mig.add_argument(
        "--teacher-max-cost-usd",
        type=number,
        metavar="USD",
        help="hard cap on the teacher's answers: over the estimate nothing is asked",
    )
    mig.add_argument(
        "--max-cost-usd",
        "--max-cost",
        dest="max_cost_usd",
        type=number,
        metavar="USD",
        help="cap on the training run's estimate",
    )
    mig.add_argument(
        "--scorer",
        # The judges need a judge model and criteria: ftkit.distill.migrate(scorer=...) takes them.
        choices=sorted(set(SCORERS) - {"pairwise", "rubric"}),
        default="auto",
        help="how a reply is scored against the teacher's (default auto)",
    )
    mig.add_argument(
        "--fake-train",
        metavar="FILE",
        help="with --fake: first fine-tune --teacher on FILE in the fake, and migrate "
        "that fine-tune (a stand-in for yours)",
    )
    _teacher_flags(mig)
    _common(mig)
    mig.set_defaults(func=_migrate)


def _missing(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2
