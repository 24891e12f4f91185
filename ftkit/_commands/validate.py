"""``ftkit validate``: every problem of one or more training files, before anything is uploaded.

Exit codes: 0 when no file has errors (warnings are fine), 1 when any file
has errors, 2 on usage errors (a missing file, a bad flag). ``-`` reads
standard input (its report is named ``<stdin>``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from .._exceptions import UsageError
from ._args import check_data_file, data_source
from ._command import NO_PROGRESS, Command, count, flag, json_flag, method_flag

__all__ = ["register"]

_EPILOG = """examples:
  ftkit validate train.jsonl
  ftkit validate train.jsonl --model gpt-4.1-mini-2025-04-14 --validation val.jsonl
  ftkit validate prefs.jsonl --method dpo --json | jq '.reports[0].counts'
  cat train.jsonl | ftkit validate - --model gpt-4.1-mini-2025-04-14

--system-prompt FILE holds the system prompt your application sends at inference
(one final line break is ignored; an empty file: it sends none): examples trained
without it or with another are reported (system_prompt_mismatch).

On a terminal a progress bar shows bytes and examples read (never in CI or a pipe;
--no-progress turns it off). Exit status: 0 no errors, 1 errors found, 2 usage error.
"""


class _FileProgress:
    """Feeds the validator's (bytes, examples) reports to one bar per file read."""

    def __init__(self, files: list[Path]) -> None:
        self._files = files
        self._next = 0
        self._bar: Any = None
        self._total = 0

    def __call__(self, done: int, examples: int) -> None:
        from .._progress import progress_bar

        if self._bar is None or self._total <= 0:
            # The validator reports each file's end; what follows is the next file.
            self.close()
            path = self._files[min(self._next, len(self._files) - 1)]
            self._next += 1
            self._bar = progress_bar(f"validating {path.name}", unit="B", enabled=True)
            self._total = path.stat().st_size
        self._bar.update(done, total=self._total, info=f"{examples:,} examples")
        if done >= self._total:
            self._total = 0

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _run(args: argparse.Namespace) -> int:
    from ..validation import validate

    names: list[str] = list(args.files)
    if args.validation is not None and len(names) != 1:
        raise UsageError("--validation needs exactly one training FILE")
    if [*names, args.validation].count("-") > 1:
        raise UsageError("standard input (-) can be read once; give the other data as files")
    for name in names:
        check_data_file(name)
    if args.validation is not None:
        check_data_file(args.validation, "--validation")
    prompt = _system_prompt(args.system_prompt)

    from .._progress import progress_wanted

    show = not args.no_progress and progress_wanted(sys.stderr)
    reports = []
    for name in names:
        source, label = data_source(name)
        validation, validation_label = (
            data_source(args.validation) if args.validation else (None, None)
        )
        # Streams (stdin, pipes) have no size to draw a bar against.
        files = [Path(name)] + ([Path(args.validation)] if args.validation else [])
        streamed = label is not None or validation_label is not None
        progress = _FileProgress(files) if show and not streamed else None
        try:
            report = validate(
                source,
                model=args.model,
                method=args.method,
                validation=validation,
                max_per_code=args.max_per_code,
                workers=args.workers,
                progress=progress,
                inference_system_prompt=prompt,
                near_duplicates=args.near_duplicates,
            )
        finally:
            if progress is not None:
                progress.close()
        _name(report, label)
        if report.validation is not None:
            _name(report.validation, validation_label)
        reports.append(report)
    ok = all(report.ok for report in reports)
    if args.json:
        json.dump({"ok": ok, "reports": [r.to_dict() for r in reports]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print("\n\n".join(str(report) for report in reports))
    return 0 if ok else 1


def _near_duplicates(value: str) -> float | bool | str:
    """``--near-duplicates``: a threshold from 0.5 to 1, ``off``, or ``auto``."""
    if value.strip().lower() in ("off", "no", "none", "false"):
        return False
    if value == "auto":  # the default: 0.8 up to 32 MiB
        return "auto"
    try:
        threshold = float(value)
    except ValueError:
        threshold = -1.0
    if not 0.5 <= threshold <= 1:
        raise argparse.ArgumentTypeError(
            f"expected a similarity from 0.5 to 1 (e.g. 0.8) or off, got {value!r}"
        )
    return threshold


def _system_prompt(value: str | None) -> str | None:
    """The text of ``--system-prompt FILE``, without the line break editors end a file with.

    Raises:
        UsageError: the file cannot be read, or is not UTF-8 text.
    """
    if value is None:
        return None
    try:
        text = Path(value).read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"--system-prompt: no such file: {value}") from None
    except IsADirectoryError:
        raise UsageError(f"--system-prompt: {value} is a directory, not a text file") from None
    except OSError as exc:
        raise UsageError(f"--system-prompt: cannot read {value}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"--system-prompt: {value} is not UTF-8 text") from None
    for ending in ("\r\n", "\n"):
        if text.endswith(ending):
            return text[: -len(ending)]
    return text


def _name(report: Any, label: str | None) -> None:
    """Give a streamed source's report its name (the API names only paths)."""
    if label is None:
        return
    report.source = label
    # The API calls an empty stream "no items were given"; for stdin or a pipe it is a file.
    report.issues = tuple(
        dataclasses.replace(issue, message="the file has no examples")
        if issue.code == "empty_file"
        else issue
        for issue in report.issues
    )


register = Command(
    "validate",
    help="check JSONL training files for every problem, with line numbers and fixes",
    description=(
        "Check SFT or DPO training files in one streaming pass: format, structure, tool "
        "calls, images, the model's limits and dataset quality. Every finding has a code "
        "(documented in docs/validation.md), a line, a JSON path and a fix. Exit status: "
        "0 no errors, 1 errors found, 2 usage error."
    ),
    epilog=_EPILOG,
    flags=(
        flag(
            "files",
            nargs="+",
            metavar="FILE",
            help="training file(s) (.jsonl); - reads standard input",
        ),
        flag(
            "--model",
            help="the model to train, e.g. gpt-4.1-mini-2025-04-14: checks the model and counts "
            "tokens and cost",
        ),
        method_flag(
            "the training method, sft (or supervised) or dpo (default: the kind of each "
            "file's first record)"
        ),
        flag(
            "--validation",
            metavar="FILE",
            help="a validation file for the (single) training file: checked too, with overlap",
        ),
        flag(
            "--system-prompt",
            metavar="FILE",
            help="a file holding the system prompt used at inference: examples trained without "
            "it or with another are reported (an empty file: inference sends none)",
        ),
        flag(
            "--near-duplicates",
            type=_near_duplicates,
            default="auto",
            metavar="T|off",
            help="report examples whose estimated text similarity is at least T, from 0.5 to 1; "
            "off skips the search (default: 0.8 for files up to 32 MiB, none for larger ones)",
        ),
        json_flag("the reports"),
        count(
            "--max-per-code",
            minimum=0,
            default=20,
            help="findings shown per code; the rest are counted (default 20)",
        ),
        count(
            "--workers",
            minimum=1,
            help="processes for large files (default: automatic; 1 stays in-process)",
        ),
        NO_PROGRESS,
    ),
    run=_run,
).register
