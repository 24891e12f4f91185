"""Argument types shared by the subcommands, so every flag reads and fails the same way.

Also the CLI's edge toward the Python API: :func:`flag_text` rewrites the API's
parameter names (``max_cost_usd=``) into the flags a terminal user types
(``--max-cost``), and :func:`data_source` turns a data-file argument (a path,
``-`` for stdin, a pipe) into what :func:`ftkit.validate` and
:func:`ftkit.estimate` read, with the name reports show.
"""

from __future__ import annotations

import argparse
import json
import re
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "METHOD_METAVAR",
    "STDIN",
    "check_data_file",
    "check_upload_file",
    "data_source",
    "epochs",
    "flag_text",
    "method",
    "number",
    "read_json_object",
    "read_training_prices",
    "stage_name",
    "whole_number",
]

METHOD_METAVAR = "sft|dpo"
"""How every command spells the training methods (``supervised`` is accepted for ``sft``)."""

STDIN = "<stdin>"
"""The name reports give to data read from standard input (``-``)."""


def whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse type for an integer of at least ``minimum``."""

    def parse(value: str) -> int:
        try:
            parsed = int(value)
        except ValueError:
            parsed = minimum - 1
        if parsed < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, got {value!r}")
        return parsed

    return parse


def number(value: str) -> float:
    """A float; ranges are checked by the API objects that take it, with their own message."""
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None


def epochs(value: str) -> int | str:
    """``auto`` or a whole number (the range 1-50 is checked where epochs are used)."""
    if value == "auto":
        return value
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected 'auto' or a whole number from 1 to 50, got {value!r}"
        ) from None


def method(value: str) -> str:
    """``sft`` or ``dpo``, normalised by the rule the Python API uses (``supervised`` = ``sft``)."""
    from .._exceptions import UsageError
    from ..validation._engine import _method

    try:
        kind = _method(value)
    except UsageError:
        kind = None
    if kind is None:
        raise argparse.ArgumentTypeError(
            f"expected {METHOD_METAVAR} ('supervised' is accepted for sft), got {value!r}"
        )
    return kind


def stage_name(value: str) -> str:
    """A stage name (``sft`` or ``dpo``); the method's other spelling ``supervised`` means ``sft``.

    Other names pass through: the command names the stages the run has.
    """
    try:
        return method(value)
    except argparse.ArgumentTypeError:
        return value


# -- data files and JSON values (checked when the command runs: one sentence, a hint, exit 2) --


def _file_problem(value: str, what: str = "a data file (.jsonl)") -> str | None:
    """Why ``value`` cannot be read as ``what``, or ``None`` if it can be opened."""
    try:
        mode = Path(value).stat().st_mode
    except FileNotFoundError:
        return f"no such file: {value}"
    except OSError as exc:
        return f"cannot read {value}: {exc.strerror or exc}"
    if stat.S_ISDIR(mode):
        return f"{value} is a directory, not {what}"
    return None


def check_data_file(value: str, flag: str | None = None) -> None:
    """A JSONL file to read: a path, ``-`` for standard input, or a pipe such as ``<(...)``.

    Raises:
        UsageError: no such file, or a directory (named with ``flag`` when it is one's value).
    """
    from .._exceptions import UsageError

    problem = None if value == "-" else _file_problem(value)
    if problem:
        raise UsageError(f"{flag}: {problem}" if flag else problem)


def check_upload_file(value: str | None, flag: str) -> None:
    """A JSONL file to upload: a regular file (standard input and pipes cannot be re-read).

    Raises:
        UsageError: ``-``, no such file, a directory or another non-regular file.
    """
    from .._exceptions import UsageError

    if value is None:
        return
    if value == "-":
        raise UsageError(f"{flag}: standard input (-) cannot be uploaded; give a file")
    problem = _file_problem(value) or (
        None if Path(value).is_file() else f"{value} is not a regular file"
    )
    if problem:
        raise UsageError(f"{flag}: {problem}")


def data_source(value: str) -> tuple[Any, str | None]:
    """What the API reads for a data-file argument, and the name to give its report.

    A regular file is passed as its path (the API streams it, in parallel when large).
    Standard input (``-``, named :data:`STDIN`) and other non-regular files (``/dev/null``,
    a pipe) are streamed once as numbered lines, their line endings and byte-order mark
    removed as for a path; the name is then the one to show (``None`` for a path: the
    API names it itself).
    """
    if value != "-" and Path(value).is_file():
        return value, None
    if value == "-":
        return _lines(sys.stdin.buffer), STDIN
    handle = open(value, "rb")  # noqa: SIM115 - closed by the generator when it is exhausted
    return _lines(handle, close=True), value


def _lines(handle: Any, *, close: bool = False) -> Iterator[bytes]:
    try:
        for number, raw in enumerate(handle):
            data = raw[:-1] if raw.endswith(b"\n") else raw
            if data.endswith(b"\r"):
                data = data[:-1]
            if number == 0 and data.startswith(b"\xef\xbb\xbf"):
                data = data[3:]
            yield data
    finally:
        if close:
            handle.close()


def read_json_object(value: str | None, flag: str) -> dict[str, Any] | None:
    """A JSON object given inline (a value starting with ``{``) or as a FILE; ``None`` stays.

    Raises:
        UsageError: naming ``flag``: the file cannot be read, the JSON is bad, or it is
            not an object.
    """
    from .._exceptions import UsageError
    from ..schema.formats import json_type_name

    if value is None:
        return None
    if value.lstrip().startswith("{"):
        where, text = "the inline JSON", value
    else:
        where = value
        problem = _file_problem(value, "a JSON file")
        if problem:
            raise UsageError(f"{flag}: {problem}")
        try:
            text = Path(value).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
            raise UsageError(f"{flag}: cannot read {value}: {reason}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{flag}: {where} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{flag}: {where} must hold a JSON object, got {json_type_name(data)}")
    return data


def read_training_prices(value: str | None) -> dict[str, Any] | None:
    """``--prices FILE|JSON`` of training prices, checked against the price-table format.

    Raises:
        UsageError: naming ``--prices``, as :func:`read_json_object`, or a malformed price.
    """
    from .._exceptions import UsageError
    from ..cost.prices import PriceTable

    data = read_json_object(value, "--prices")
    if data is not None:
        try:
            PriceTable.from_dict(data)
        except UsageError as exc:
            raise UsageError(f"--prices: {exc}") from None
    return data


# -- the API's words, in flags -------------------------------------------------------------

FLAGS: dict[str, str] = {
    "max_cost_usd": "--max-cost",
    "epochs": "--epochs",
    "beta": "--beta",
    "suffix": "--suffix",
    "seed": "--seed",
    "model": "--model",
    "method": "--method",
    "prices": "--prices",
    "state_dir": "--state-dir",
    "workers": "--workers",
    "max_per_code": "--max-per-code",
    "max_examples": "--max-examples",
    "max_tokens": "--max-tokens",
    "concurrency": "--concurrency",
}
"""The Python API's parameter names -> the CLI flag that sets them."""

# Advice that only makes sense in Python, and what to say on the command line instead.
_PHRASES: tuple[tuple[str, str], ...] = (("pass prices or drop the cap", "drop --max-cost"),)
_NAMES = "|".join(sorted(map(re.escape, FLAGS), key=len, reverse=True))
# ``name=`` anywhere; a bare ``name`` where a sentence uses it as the parameter: at the start,
# or after "set"/"pass" (``set state_dir``), or before "must"/"is set".
_ASSIGNED = re.compile(rf"(?<![\w-])({_NAMES})=")
_BARE = re.compile(
    rf"(?:^|(?<=\bset )|(?<=\bpass ))({_NAMES})\b(?![-=])"
    rf"|(?<![\w-])({_NAMES})(?= must\b| is set\b)"
)


def flag_text(message: str) -> str:
    """``message`` with the Python API's parameter names replaced by the CLI's flags.

    ``over max_cost_usd=$5.00`` becomes ``over --max-cost $5.00``; ``epochs must be``
    becomes ``--epochs must be``. Other words are left alone.
    """
    for python, cli in _PHRASES:
        message = message.replace(python, cli)
    message = _ASSIGNED.sub(lambda m: f"{FLAGS[m.group(1)]} ", message)
    return _BARE.sub(lambda m: FLAGS[m.group(1) or m.group(2)], message)
