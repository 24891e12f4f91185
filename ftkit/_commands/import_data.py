"""``ftkit import``: ShareGPT, Alpaca or TRL preference data -> an OpenAI-format JSONL file.

Exit codes: 0 when every line was imported, 1 when some lines could not be (each is
listed with its line number; the others are still written unless ``--strict``), 2 on
usage errors (a missing file, a format that cannot be told, a bad flag).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._exceptions import RecordError, UsageError
from ._args import check_data_file, flag_text
from ._command import Command, flag, json_flag

if TYPE_CHECKING:
    from ..interop._import import ImportResult

__all__ = ["register"]

_EPILOG = """examples:
  ftkit import conversations.jsonl --out train.jsonl
  ftkit import alpaca.jsonl --out train.jsonl --from alpaca
  ftkit import prefs_trl.jsonl --out dpo.jsonl --json

The format is detected from the first lines (and named); --from gives it. The report
says what each field became and names every field that was not mapped, with its lines.
Exit status: 0 every line imported, 1 some lines not imported (listed; the others are
written unless --strict), 2 usage error.
"""


def _run(args: argparse.Namespace) -> int:
    try:
        result, written = _import(args)
    except (UsageError, RecordError, OSError) as exc:
        if not args.json:
            raise
        # --json promises JSON on stdout on every path, a refusal included.
        json.dump({"ok": False, "error": _error(exc, args.out)}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 1 if isinstance(exc, RecordError) else 2
    ok = result.ok and written is not None
    if args.json:
        json.dump({"ok": ok, **result.to_dict(), "written": written}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(result)
        if written is None:
            print("nothing written: no line could be imported")
        else:
            print(f"wrote {len(result.dataset)} {result.dataset.kind} records to {written}")
    return 0 if ok else 1


def _import(args: argparse.Namespace) -> tuple[ImportResult, str | None]:
    """Import FILE and write OUT: the result and the file written (``None``: no record)."""
    from ..interop._import import check_output
    from ..interop._importing import import_dataset

    if args.file == "-":
        raise UsageError("FILE: standard input (-) cannot be imported; give a file")
    check_data_file(args.file)
    check_output(args.file, args.out)  # before reading: never replace the source
    result = import_dataset(args.file, format=args.source_format, strict=args.strict)
    written = str(result.write(args.out)) if len(result.dataset) else None
    return result, written


def _error(exc: BaseException, out: str) -> dict[str, Any]:
    """A refusal as JSON: its kind, its message (in flags) and, for a bad line, where.

    A write that failed is named by the output asked for, not by the temporary file
    the atomic write was filling.
    """
    if isinstance(exc, RecordError):
        return {
            "type": "RecordError",
            "message": str(exc),
            "line": exc.line,
            "path": exc.path,
            "code": exc.code,
        }
    if isinstance(exc, OSError):
        named = str(exc.filename) if exc.filename else ""
        temporary = Path(named).name.startswith(".") and named.endswith(".tmp")
        where = f"{out if temporary else named}: " if named else ""
        return {"type": "OSError", "message": f"{where}{exc.strerror or exc}"}
    return {"type": type(exc).__name__, "message": flag_text(str(exc))}


register = Command(
    "import",
    help="convert ShareGPT, Alpaca or TRL preference data to OpenAI-format JSONL",
    description=(
        "Convert a ShareGPT (conversations of from/value turns), Alpaca (instruction/input/"
        "output) or TRL preference (prompt/chosen/rejected) JSONL file to OpenAI-format SFT or "
        "DPO records, each checked. Prints the detected format and a report of what every "
        "field became; lines that cannot be imported are listed with their line numbers. "
        "Exit status: 0 every line imported, 1 some lines not imported, 2 usage error."
    ),
    epilog=_EPILOG,
    flags=(
        flag("file", metavar="FILE", help="the file to import (.jsonl)"),
        flag(
            "--out",
            required=True,
            metavar="OUT.jsonl",
            help="where to write the records (written atomically: never a partial file)",
        ),
        flag(
            "--from",
            dest="source_format",
            choices=("sharegpt", "alpaca", "trl", "openai"),
            help="the source format (default: detected from the first lines)",
        ),
        flag(
            "--strict",
            action="store_true",
            help="stop at the first line that cannot be imported and write nothing",
        ),
        json_flag("the detected format, the report and the errors"),
    ),
    run=_run,
).register
