"""Line-level JSONL access: numbered raw lines in, atomic files out.

Everything above this module (the record reader, the validator, the
analyzer) sees a file as a stream of :class:`RawLine` values, so the rules
for the awkward parts of real files live in one place:

- a UTF-8 byte-order mark on the first line is dropped (:func:`sniff_file` says
  whether there was one, so the validator can warn once per file);
- ``\\r\\n`` endings are accepted, and a missing final newline is fine;
- blank (whitespace-only) lines keep their number and are skipped or
  surfaced, at the caller's choice;
- bytes are never decoded here, so invalid UTF-8 is reported by the caller
  with its line number instead of crashing the iteration;
- a file that is not JSONL text at all (UTF-16, binary data, JSON spread over
  several lines) is recognised once from its first bytes by :func:`sniff`, so
  callers report one problem instead of one per line.

Files are read in binary, line by line, so memory does not grow with the file.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, NamedTuple

__all__ = [
    "BOM",
    "FileProblem",
    "RawLine",
    "Sniffed",
    "atomic_write",
    "atomic_write_bytes",
    "iter_lines",
    "sniff",
    "sniff_file",
    "utf8_error",
]

BOM = b"\xef\xbb\xbf"
_WHITESPACE = b" \t\r\n\f\v"


class RawLine(NamedTuple):
    """One physical line of a file, without its line ending."""

    number: int
    """1-based line number (counted from ``first_line``)."""
    data: bytes
    """The line's bytes: no ``\\n``/``\\r\\n`` ending, no leading BOM."""
    offset: int
    """Byte offset of the line's start in the file."""

    @property
    def blank(self) -> bool:
        """Whether the line holds only whitespace."""
        return not self.data.strip(_WHITESPACE)


def iter_lines(
    path: str | os.PathLike[str],
    *,
    start: int = 0,
    end: int | None = None,
    first_line: int = 1,
    skip_blank: bool = True,
) -> Iterator[RawLine]:
    """Yield the numbered lines of a file, streaming.

    Args:
        path: the JSONL file.
        start: byte offset to start at; must be the start of a line (0, or just
            after a ``\\n``). Used to split a file into chunks for parallel passes.
        end: stop before the line that starts at or after this offset.
        first_line: the number of the line at ``start``.
        skip_blank: skip whitespace-only lines (their numbers are still counted).
    """
    number = first_line - 1
    offset = start
    with open(path, "rb") as handle:
        if start:
            handle.seek(start)
        for raw in handle:
            if end is not None and offset >= end:
                break
            number += 1
            line_start = offset
            offset += len(raw)
            data = raw
            if data.endswith(b"\n"):
                data = data[:-1]
                if data.endswith(b"\r"):
                    data = data[:-1]
            if line_start == 0 and data.startswith(BOM):
                data = data[len(BOM) :]
            line = RawLine(number, data, line_start)
            if skip_blank and line.blank:
                continue
            yield line


def utf8_error(data: bytes) -> str | None:
    """``None`` if ``data`` is valid UTF-8, else a sentence naming the first bad byte."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        return (
            f"not valid UTF-8 (byte 0x{bad} at column {exc.start + 1}); re-save the file as UTF-8"
        )
    return None


class FileProblem(NamedTuple):
    """Why a whole file cannot be read as JSONL: one finding, not one per line."""

    code: str
    """``utf16_file``, ``binary_file`` or ``multiline_json`` (validation codes)."""
    message: str
    """What the file is, in plain words."""
    line: int | None = None
    """The line the problem starts on, when it has one."""


SNIFF_BYTES = 64 * 1024
"""How much of a file :func:`sniff` reads."""
_TEXT_PROBE = 8000  # bytes searched for NUL (as git does to tell binary from text)
_UTF16_PROBE = 4096

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "a gzip archive"),
    (b"PK\x03\x04", "a zip archive (or an Office document)"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"RIFF", "a RIFF file (WebP, WAV, AVI)"),
    (b"%PDF-", "a PDF document"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"(\xb5/\xfd", "a zstd archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"PAR1", "a Parquet file"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x7fELF", "an executable"),
)


class Sniffed(NamedTuple):
    """What the first bytes of a file say about it as a whole."""

    problem: FileProblem | None
    """Why the file cannot be read as JSONL at all (see :func:`sniff`), or ``None``."""
    bom: bool
    """Whether the file starts with a UTF-8 byte-order mark (readable, but a risk elsewhere)."""


def sniff_file(path: str | os.PathLike[str]) -> Sniffed:
    """:func:`sniff`, and whether the file starts with a UTF-8 byte-order mark, in one read."""
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
        truncated = bool(handle.read(1))
    found = _sniff_head(head, truncated)
    problem = _with_record_count(path, found) if isinstance(found, _Spread) else found
    return Sniffed(problem, head.startswith(BOM))


def sniff(path: str | os.PathLike[str]) -> FileProblem | None:
    """Recognise, from its first bytes, a file that is not JSONL text at all.

    ``None`` for anything that may be JSONL, however broken its lines: those
    are reported line by line. Otherwise the one problem of the whole file:

    - ``utf16_file``: UTF-16 or UTF-32 text (with a byte-order mark, or ASCII
      interleaved with NUL bytes);
    - ``binary_file``: a compressed archive, an image or other binary data
      (a known signature, or NUL bytes before the first valid line);
    - ``multiline_json``: the first record is a JSON object or array spread
      over several lines (pretty-printed JSON, or a ``.json`` array).

    Reads at most :data:`SNIFF_BYTES`; costs microseconds on a JSONL file (a file of
    JSON spread over lines, up to :data:`COUNT_MAX_BYTES`, is read whole once more to
    count its records).
    """
    return sniff_file(path).problem


def _sniff_head(head: bytes, truncated: bool) -> FileProblem | _Spread | None:
    if not head:
        return None
    encoding = _utf16(head)
    if encoding is not None:
        return FileProblem(
            "utf16_file", f"the file is {encoding} text, not UTF-8: save it as UTF-8"
        )
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return FileProblem("binary_file", f"the file is not text: it looks like {what}")
    if head.startswith(b"BZh") and head[3:4].isdigit():
        return FileProblem("binary_file", "the file is not text: it looks like a bzip2 archive")
    nul = head.find(b"\x00", 0, _TEXT_PROBE)
    if nul >= 0:
        # A stray NUL after a valid first line is that line's problem; before it, the file's.
        begin = len(head) - len(head.lstrip(_WHITESPACE))
        stop = head.find(b"\n", begin)
        first = head[begin:stop].removeprefix(BOM)
        if stop < 0 or nul < stop or not _is_json(first):
            return FileProblem(
                "binary_file",
                f"the file is not text: it holds NUL bytes (the first at byte {nul:,}), "
                "which JSONL text never does",
            )
    text = head.removeprefix(BOM).decode("utf-8", "replace")
    start = len(text) - len(text.lstrip())
    return _multiline(text, start, text.find("\n", start), truncated)


def _utf16(head: bytes) -> str | None:
    """``"UTF-16 (little-endian)"`` and the like, or ``None`` for other files."""
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "UTF-32"
    if head.startswith(b"\xff\xfe"):
        return "UTF-16 (little-endian)"
    if head.startswith(b"\xfe\xff"):
        return "UTF-16 (big-endian)"
    # Without a byte-order mark: JSON is mostly ASCII, so one byte of each pair is NUL.
    probe = head[: _UTF16_PROBE & ~1]
    pairs = len(probe) // 2
    if pairs < 2:
        return None
    even, odd = probe[0::2].count(0), probe[1::2].count(0)
    if odd > 0.3 * pairs and even < 0.05 * pairs:
        return "UTF-16 (little-endian)"
    if even > 0.3 * pairs and odd < 0.05 * pairs:
        return "UTF-16 (big-endian)"
    return None


def _is_json(text: bytes) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


class _Spread(NamedTuple):
    """The first record of a file that holds JSON spread over several lines."""

    first: int
    """The line the record starts on."""
    last: int | None
    """The line it ends on; ``None`` when it goes on past the bytes read."""
    lines_read: int
    """Lines read by then (the record takes more than this when ``last`` is ``None``)."""
    array: bool
    """Whether the file is one JSON array (of records) rather than records one after another."""


def _multiline(text: str, start: int, end: int, truncated: bool) -> _Spread | None:
    """The file's first record, if it continues past its first line."""
    line = text[start:end].rstrip() if end >= 0 else ""
    if not line or line[0] not in "{[":
        return None  # one line longer than the head, or not an object at all
    try:
        json.loads(line)
    except json.JSONDecodeError as exc:
        if exc.pos < len(line):
            return None  # broken within the line: reported as that line's invalid_json
    except (ValueError, RecursionError):
        return None
    else:
        return None  # a complete value on the first line: JSONL-shaped
    first = text.count("\n", 0, start) + 1
    array = line[0] == "["
    try:
        _, stop = json.JSONDecoder().raw_decode(text, start)
    except json.JSONDecodeError as exc:
        # The value is still open where the head ends: it spans more lines than were read.
        if truncated and exc.pos > text.rfind("\n"):
            return _Spread(first, None, text.count("\n", start), array)
        return None  # a truncated record, then something else: reported line by line
    except (ValueError, RecursionError):
        return None
    last = first + text.count("\n", start, stop)
    return _Spread(first, last, last - first + 1, array)


COUNT_MAX_BYTES = 64 * 1024 * 1024
"""Files of JSON spread over lines up to this size are read whole to count their records."""
_SPACE = re.compile(r"[ \t\r\n]*")


def _skip_space(text: str, position: int) -> int:
    match = _SPACE.match(text, position)
    return match.end() if match is not None else position


def _count_records(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    """``(records, lines)`` of a file of JSON spread over lines, or ``None`` if unknown.

    Records are the file's top-level values, or the items of its one top-level array.
    ``None`` for a file over :data:`COUNT_MAX_BYTES` or one that is not JSON to the end.
    """
    if os.path.getsize(path) > COUNT_MAX_BYTES:
        return None
    with open(path, "rb") as handle:
        text = handle.read().removeprefix(BOM).decode("utf-8", "replace")
    lines = text.count("\n") + (not text.endswith("\n"))
    decode = json.JSONDecoder().raw_decode
    position = _skip_space(text, 0)
    count = 0
    try:
        while position < len(text):
            value, position = decode(text, position)
            count += len(value) if isinstance(value, list) else 1
            position = _skip_space(text, position)
    except (ValueError, RecursionError):
        return None
    return count, lines


def _with_record_count(path: str | os.PathLike[str], spread: _Spread) -> FileProblem:
    """The ``multiline_json`` finding: where the first record is, and how many there are."""
    counted = _count_records(path)
    if spread.array:
        what = "a JSON array"
        if counted is not None:
            records, lines = counted
            what += f" of {records:,} record{'' if records == 1 else 's'}"
            where = f"lines {spread.first}-{lines}"
        elif spread.last is not None:
            where = f"lines {spread.first}-{spread.last}"
        else:
            where = f"more than {spread.lines_read:,} lines from line {spread.first}"
        message = (
            f"the file is {what} spread over {where}: write one JSON object per line, not an array"
        )
        return FileProblem("multiline_json", message, spread.first)
    if spread.last is not None:
        where = f"its first record spans lines {spread.first}-{spread.last}"
    else:
        where = (
            f"its first record starts on line {spread.first} and takes more than "
            f"{spread.lines_read:,} lines"
        )
    if counted is not None:
        records, lines = counted
        where += f"; it holds {records:,} record{'' if records == 1 else 's'} in {lines:,} lines"
    message = (
        f"the file is JSON spread over several lines ({where}): write one JSON object per line"
    )
    return FileProblem("multiline_json", message, spread.first)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], *, mode: int = 0o644) -> Iterator[IO[str]]:
    """Write a UTF-8 text file completely or not at all.

    The content goes to a temporary file in the same folder, is flushed and
    fsynced, gets its permission bits, then replaces ``path`` in one rename. If
    the block raises, the temporary file is removed and ``path`` is untouched:
    no reader ever sees half a file.
    """
    with _atomic(path, mode) as fd, os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())


@contextlib.contextmanager
def atomic_write_bytes(path: str | os.PathLike[str], *, mode: int = 0o644) -> Iterator[IO[bytes]]:
    """Binary twin of :func:`atomic_write`."""
    with _atomic(path, mode) as fd, os.fdopen(fd, "wb") as handle:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())


@contextlib.contextmanager
def _atomic(path: str | os.PathLike[str], mode: int) -> Iterator[int]:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.chmod(tmp_name, mode)
        yield fd
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
