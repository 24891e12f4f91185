"""The ``ftkit`` command line: a thin argparse layer over the public API.

Each subcommand lives in ``ftkit/_commands/<name>.py`` and exposes
``register(subparsers)``; this module only assembles them, turns errors into
one clear sentence plus a hint on stderr (``--debug`` adds the traceback and
debug logs, never changing the exit code) and maps them to exit codes:

- 0: success;
- 1: the work ran and found a problem (a dataset with errors, a failed or
  timed-out job, an API error), or ftkit itself failed unexpectedly;
- 2: usage error (bad flags, a missing file, an unknown run);
- 130: interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import traceback
from collections.abc import Sequence

from ._commands._args import flag_text
from ._exceptions import (
    APIError,
    DatasetInvalid,
    DeploymentFailed,
    FtkitError,
    JobFailed,
    RunConflict,
    TrainingUnavailable,
    UsageError,
    WaitTimeout,
)

__all__ = ["COMMANDS", "build_parser", "main"]

# Order is the order of ``ftkit --help``.
COMMANDS: tuple[str, ...] = (
    "validate",
    "estimate",
    "export",
    "import_data",
    "runs",
    "events",
    "metrics",
    "evaluate",
    "distill",
    "deploy",
    "fake_server",
)

EXIT_OK = 0
EXIT_PROBLEM = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

_EPILOG = """examples:
  ftkit validate train.jsonl --model gpt-4.1-mini-2025-04-14
  ftkit estimate train.jsonl --model gpt-4.1-mini-2025-04-14 --json
  ftkit run --fake --model gpt-4.1-mini-2025-04-14 --sft train.jsonl --dpo prefs.jsonl
  ftkit metrics ftr-20261126T101500-3f9a1c2e --plot loss.png

exit codes: 0 ok, 1 problem found (invalid data, failed job, API error),
2 usage error, 130 interrupted; --debug adds tracebacks and keeps these codes. Every
command takes --json for machine-readable output on stdout. Reference: docs/cli.md;
validation codes: docs/validation.md.
"""


class HelpFormatter(argparse.HelpFormatter):
    """Wraps prose paragraphs; keeps example blocks (indented lines, ``examples:``) as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        import textwrap

        out = []
        for paragraph in text.strip("\n").split("\n\n"):
            lines = paragraph.splitlines()
            if any(line.startswith(" ") for line in lines) or lines[0].endswith(":"):
                out.append("\n".join(indent + line for line in lines))
            else:
                out.append(
                    textwrap.fill(
                        " ".join(paragraph.split()),
                        width,
                        initial_indent=indent,
                        subsequent_indent=indent,
                    )
                )
        return "\n\n".join(out)


def debug_parent() -> argparse.ArgumentParser:
    """``--debug`` for every subcommand, so it works before or after the command name."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show tracebacks and debug logs on stderr",
    )
    return parent


class _Subparsers:
    """Wraps argparse's subparsers so every command gets ``--debug`` and example epilogs."""

    def __init__(self, inner: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        self._inner = inner
        self._parent = debug_parent()

    def add_parser(self, name: str, **kwargs: object) -> argparse.ArgumentParser:
        parents = [*list(kwargs.pop("parents", []) or []), self._parent]  # type: ignore[call-overload]
        kwargs.setdefault("formatter_class", HelpFormatter)
        return self._inner.add_parser(name, parents=parents, **kwargs)  # type: ignore[arg-type]


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every registered subcommand."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="ftkit",
        description="Validate, estimate and run OpenAI-format chat fine-tuning.",
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ftkit {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks and debug logs on stderr"
    )
    sub = _Subparsers(parser.add_subparsers(dest="command", metavar="COMMAND"))
    for name in COMMANDS:
        module = importlib.import_module(f"ftkit._commands.{name}")
        module.register(sub)
    return parser


def hint_for(exc: BaseException) -> str:
    """The next step to suggest after ``exc`` (one short sentence)."""
    run_id = getattr(exc, "run_id", None)
    if isinstance(exc, DatasetInvalid):
        return "run `ftkit validate FILE` to see every problem with its line and fix"
    if isinstance(exc, JobFailed):
        if run_id:
            return f"see what the job reported with `ftkit events {run_id}`"
        return "see the job's events for what went wrong"
    if isinstance(exc, DeploymentFailed):
        return "Azure's portal shows the deployment's history; deploying again provisions it anew"
    if isinstance(exc, WaitTimeout):
        if run_id:
            return f"the job keeps running; `ftkit resume {run_id}` waits again"
        return "the job keeps running; wait again later"
    if isinstance(exc, RunConflict):
        return "`ftkit runs` lists runs and their status"
    if isinstance(exc, TrainingUnavailable):
        return exc.hint  # a refusal, not a connection problem
    if isinstance(exc, APIError):
        return "check the API key, the endpoint and the network; --debug shows the details"
    if isinstance(exc, UsageError):
        return "see `ftkit COMMAND --help`"
    if isinstance(exc, OSError):
        return "check the path and its permissions"
    return "run again with --debug for the traceback"


def _say(message: str, hint: str) -> None:
    print(f"ftkit: error: {message}", file=sys.stderr)
    print(f"  hint: {hint}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = bool(getattr(args, "debug", False))
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    # The library only logs; on a terminal its warnings (a resume hint after Ctrl-C, an
    # unknown job status) are part of the conversation, so the CLI shows them.
    handler = logging.StreamHandler(sys.stderr)
    if debug:
        handler.setLevel(logging.DEBUG)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    else:
        handler.setLevel(logging.WARNING)
        handler.setFormatter(logging.Formatter("ftkit: %(levelname)s: %(message)s"))
    library = logging.getLogger("ftkit")
    previous_level = library.level
    library.addHandler(handler)
    if debug:
        library.setLevel(logging.DEBUG)
    try:
        return _dispatch(args, debug)
    finally:
        library.removeHandler(handler)
        library.setLevel(previous_level)


def _dispatch(args: argparse.Namespace, debug: bool) -> int:
    """Run the command; an error becomes one sentence, a hint and its exit code.

    ``--debug`` adds the traceback before the sentence and never changes the exit code.
    """
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        _trace(debug)
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: not an error of ours. Silence the
        # interpreter's second complaint when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except UsageError as exc:
        _trace(debug)
        # The API's messages name Python parameters; a terminal user types flags.
        _say(flag_text(str(exc)), hint_for(exc))
        return EXIT_USAGE
    except FtkitError as exc:
        _trace(debug)
        _say(f"{type(exc).__name__}: {exc}", hint_for(exc))
        return EXIT_PROBLEM
    except OSError as exc:
        _trace(debug)
        where = f"{exc.filename}: " if exc.filename else ""
        _say(f"{where}{exc.strerror or exc}", hint_for(exc))
        return EXIT_USAGE if exc.filename else EXIT_PROBLEM
    except Exception as exc:  # a bug of ours: one line, and how to see the rest
        _trace(debug)
        _say(f"unexpected {type(exc).__name__}: {exc}", hint_for(exc))
        return EXIT_PROBLEM
    return code


def _trace(debug: bool) -> None:
    """Under ``--debug``, the traceback of the exception being handled, on stderr."""
    if debug:
        traceback.print_exc(file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
