"""One subcommand as data: its name, its texts, its flags and the function that runs it.

A command module declares a :class:`Command` and exposes its ``register``, so it
holds only what is its own (its texts, its flags, what it does); the parser is
built the same way for every command here. The flags several commands take
(``RUN``, ``--stage``, ``--state-dir``, ``--json``...) are declared once below,
so they are spelled, defaulted and explained alike everywhere.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ._args import METHOD_METAVAR, method, stage_name, whole_number

__all__ = [
    "FAKE",
    "NO_PROGRESS",
    "RUN",
    "STAGE",
    "STATE_DIR",
    "Command",
    "Flag",
    "count",
    "flag",
    "json_flag",
    "method_flag",
]


@dataclass(frozen=True)
class Flag:
    """One ``add_argument`` call: the flag's names (or a positional's name) and its options."""

    names: tuple[str, ...]
    options: Mapping[str, Any]


def flag(*names: str, **options: Any) -> Flag:
    """A flag, written as the ``parser.add_argument`` call it stands for."""
    return Flag(names, options)


def count(
    name: str, *, minimum: int, help: str, default: int | None = None, metavar: str | None = "N"
) -> Flag:
    """A whole number of at least ``minimum`` (``N`` in the usage line)."""
    return flag(name, type=whole_number(minimum), default=default, metavar=metavar, help=help)


def json_flag(what: str) -> Flag:
    """``--json``: print ``what`` as JSON on stdout instead of the text."""
    return flag("--json", action="store_true", help=f"print {what} as JSON")


def method_flag(help: str) -> Flag:
    """``--method sft|dpo``, with the alias ``supervised`` (see :func:`._args.method`)."""
    return flag("--method", type=method, metavar=METHOD_METAVAR, help=help)


RUN = flag("run", metavar="RUN", help="run id or manifest path")
STAGE = flag("--stage", type=stage_name, help="only this stage (sft or dpo)")
STATE_DIR = flag("--state-dir", metavar="DIR", help="where run manifests live")
NO_PROGRESS = flag(
    "--no-progress",
    action="store_true",
    help="no progress bar (it is only drawn on a terminal, never in CI)",
)
FAKE = flag(
    "--fake",
    action="store_true",
    help="use ftkit's in-process fake API (no key, no network, virtual time)",
)


@dataclass(frozen=True)
class Command:
    """A subcommand: what ``ftkit --help`` and ``ftkit NAME --help`` say, and what it runs.

    ``run`` gets the parsed arguments and returns the exit code (``ftkit.cli`` turns
    exceptions into theirs). ``formatter_class`` is for a command whose description is
    laid out by hand; the others are wrapped by the CLI's formatter.
    """

    name: str
    help: str
    description: str
    epilog: str
    flags: tuple[Flag, ...]
    run: Callable[[argparse.Namespace], int]
    formatter_class: type[argparse.HelpFormatter] | None = None

    def register(self, subparsers: Any) -> None:
        """Add this command to ``subparsers`` (``ftkit.cli``'s, which adds ``--debug``)."""
        layout = {"formatter_class": self.formatter_class} if self.formatter_class else {}
        parser: argparse.ArgumentParser = subparsers.add_parser(
            self.name, help=self.help, description=self.description, epilog=self.epilog, **layout
        )
        for each in self.flags:
            parser.add_argument(*each.names, **each.options)
        parser.set_defaults(func=self.run)
