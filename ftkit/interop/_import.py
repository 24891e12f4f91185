"""Import ShareGPT, Alpaca, TRL preference and OpenAI-like files as ftkit records.

:func:`import_dataset` reads a file line by line, converts each line with its format's
converter (``_sharegpt``, ``_alpaca``, ``_trl_prefs``, ``_openai_like``) and checks the
result as a strict :class:`~ftkit.SFTRecord` or :class:`~ftkit.DPORecord`. A bad line
becomes a :class:`~ftkit.RecordError` with its line number in :attr:`ImportResult.errors`
and the import goes on, so one broken line in a large download does not cost the rest;
``strict=True`` raises the first instead. The :class:`~ftkit.interop.LossReport` says
how every field was mapped, and names every field that was not, with its lines.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._exceptions import RecordError, UsageError
from ..dataset import Dataset
from ..jsonl import iter_lines, sniff, utf8_error
from ..schema import DPORecord, RecordKind, SFTRecord, parse_record
from ..schema.formats import json_type_name
from ._alpaca import convert_alpaca
from ._detect import FORMATS, detect_format
from ._fields import ImportTally, LineNotes
from ._loss import LossReport
from ._openai_like import convert_openai
from ._sharegpt import convert_sharegpt
from ._trl_prefs import convert_trl

__all__ = ["ImportResult", "check_output", "import_file", "import_objects"]

Converter = Callable[[dict[str, Any], LineNotes], dict[str, Any]]

_CONVERTERS: dict[str, Converter] = {
    "sharegpt": convert_sharegpt,
    "alpaca": convert_alpaca,
    "trl": convert_trl,
    "openai": convert_openai,
}


@dataclass(frozen=True)
class ImportResult:
    """What an import produced: the records, what was lost, and the lines that failed.

    Attributes:
        source: the file read.
        format: the format read (detected, or given).
        detection: one sentence on what was detected ("TRL preference data:
            conversational, explicit prompt"), or that the format was given.
        dataset: the imported records, every one a valid SFT or DPO record.
        report: what each field became, and every field that was not mapped.
        errors: one :class:`~ftkit.RecordError` per line that could not be imported.
    """

    source: str
    format: str
    detection: str
    dataset: Dataset
    report: LossReport
    errors: tuple[RecordError, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Whether every line was imported."""
        return not self.errors

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the imported records as JSONL, atomically (a failure leaves no partial file).

        Raises:
            UsageError: ``path`` is the file imported (it would be replaced) or a folder.
        """
        check_output(self.source, path)
        return self.dataset.write(path)

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON values (what ``ftkit import --json`` prints)."""
        return {
            "source": self.source,
            "format": self.format,
            "detection": self.detection,
            "kind": self.dataset.kind,
            "records": len(self.dataset),
            "report": self.report.to_dict(),
            "errors": [
                {"line": e.line, "path": e.path, "code": e.code, "message": e.reason}
                for e in self.errors
            ],
        }

    def __str__(self) -> str:
        lines = [f"format: {self.format} ({self.detection})", str(self.report)]
        if self.errors:
            lines.append(f"{len(self.errors)} line(s) not imported:")
            lines += [f"  {_where(e)}: {e.reason}" for e in self.errors]
        return "\n".join(lines)


def check_output(source: str | os.PathLike[str], out: str | os.PathLike[str]) -> None:
    """Refuse an output that would replace the file imported, or that is a folder.

    Checked before anything is read or written: the records go to a temporary file
    renamed over ``out``, so writing onto the source would replace the only copy of the
    data, and a folder would fail with the temporary file's name instead of ``out``'s.

    Raises:
        UsageError: ``out`` is ``source`` (by any path to it) or an existing folder.
    """
    target, origin = Path(out), Path(source)
    if target.is_dir():
        raise UsageError(
            f"the output {target} is a folder; give the file to write, such as "
            f"{target / 'train.jsonl'}"
        )
    if origin.is_file() and target.exists() and os.path.samefile(origin, target):
        raise UsageError(
            f"the output {target} is the file being imported; writing it would replace "
            "the source: give another file"
        )


def _where(error: RecordError) -> str:
    where = f"line {error.line}" if error.line is not None else "file"
    return f"{where}, {error.path}" if error.path else where


def import_file(
    path: str | os.PathLike[str], *, format: str | None = None, strict: bool = False
) -> ImportResult:
    """Read a ShareGPT, Alpaca, TRL preference or OpenAI-like JSONL file as ftkit records.

    The file half of :func:`ftkit.interop.import_dataset` (which also reads Hugging Face
    datasets); see it for the arguments and errors.
    """
    source = Path(path)
    if not source.is_file():
        raise UsageError(f"no such file: {source}")
    problem = sniff(source)
    if problem is not None:
        raise RecordError(
            problem.message, line=problem.line or 1, code=problem.code, source=str(source)
        )
    if format is None:
        format, detection = detect_format(source)
    else:
        detection = "given, not detected"
    lines = ((raw.number, raw.data) for raw in iter_lines(source))
    return import_objects(lines, str(source), format, detection, strict=strict)


def import_objects(
    objects: Iterable[tuple[int, bytes | dict[str, Any] | RecordError]],
    source: str,
    format: str,
    detection: str,
    *,
    strict: bool,
) -> ImportResult:
    """Convert numbered lines (raw bytes, objects already parsed, or the error of one that
    could not be read) in ``format``.

    Raises:
        UsageError: an unknown ``format``.
        RecordError: with ``strict=True``, the first bad line.
    """
    if format not in _CONVERTERS:
        raise UsageError(f"format={format!r} is not one of {', '.join(FORMATS)}")
    convert = _CONVERTERS[format]
    tally = ImportTally(source, "openai")
    records: list[SFTRecord | DPORecord] = []
    errors: list[RecordError] = []
    kind: RecordKind | None = None
    for number, data in objects:
        notes = LineNotes()
        try:
            if isinstance(data, RecordError):
                raise data
            obj = _parse_line(data) if isinstance(data, bytes) else data
            record = _import_object(obj, number, convert, notes, kind)
        except RecordError as exc:
            exc.line, exc.source = number, source
            exc.args = (exc._render(),)
            if strict:
                raise
            errors.append(exc)
            continue
        kind = kind or record.kind
        tally.commit(notes, number)
        records.append(record)
    return ImportResult(source, format, detection, Dataset(records), tally.report(), tuple(errors))


def _parse_line(data: bytes) -> Any:
    problem = utf8_error(data)
    if problem is not None:
        raise RecordError(problem, code="invalid_utf8")
    try:
        return json.loads(data)
    except ValueError as exc:
        raise RecordError(f"invalid JSON: {exc}", code="invalid_json") from None


def _import_object(
    obj: Any, number: int, convert: Converter, notes: LineNotes, kind: RecordKind | None
) -> SFTRecord | DPORecord:
    if not isinstance(obj, dict):
        raise RecordError(
            f"each line must be a JSON object, got {json_type_name(obj)}", code="not_an_object"
        )
    converted = convert(obj, notes)
    try:
        return parse_record(json.dumps(converted, ensure_ascii=False), kind=kind, line_no=number)
    except RecordError as exc:
        # The path is the converted record's, not the source line's: say so in the reason.
        at = f" at {exc.path}" if exc.path else ""
        raise RecordError(
            f"the converted record is not valid{at}: {exc.reason}", code=exc.code
        ) from None
