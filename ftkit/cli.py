"""The ``ftkit`` command line: a thin argparse layer over the public API.

Each subcommand lives in ``ftkit/_commands/<name>.py`` and exposes
``register(subparsers)``; this module only assembles them, maps ftkit errors
to one clear sentence on stderr (``--debug`` shows the traceback) and turns
them into exit codes:

- 0: success;
- 1: the work ran and found a problem (a dataset with errors, a failed job);
- 2: usage error (bad flags, missing file);
- 130: interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from ._exceptions import FtkitError, UsageError

__all__ = ["main"]

# Order is the order of ``ftkit --help``.
COMMANDS: tuple[str, ...] = ("validate", "estimate", "runs", "fake_server")

EXIT_OK = 0
EXIT_PROBLEM = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every registered subcommand."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="ftkit",
        description="Validate, estimate and run OpenAI-format chat fine-tuning.",
        epilog="Validation codes: docs/validation.md. Exit codes: 0 ok, 1 problem found, "
        "2 usage error, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"ftkit {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks and debug logs on stderr"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"ftkit._commands.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.debug:
        logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: not an error of ours. Silence the
        # interpreter's second complaint when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except UsageError as exc:
        if args.debug:
            raise
        print(f"ftkit: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except FtkitError as exc:
        if args.debug:
            raise
        print(f"ftkit: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_PROBLEM
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
