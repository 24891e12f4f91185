"""Line-level JSONL access: numbered raw lines in, atomic files out.

Everything above this module (the record reader, the validator, the
analyzer) sees a file as a stream of :class:`RawLine` values, so the rules
for the awkward parts of real files live in one place:

- a UTF-8 byte-order mark on the first line is dropped;
- ``\\r\\n`` endings are accepted, and a missing final newline is fine;
- blank (whitespace-only) lines keep their number and are skipped or
  surfaced, at the caller's choice;
- bytes are never decoded here, so invalid UTF-8 is reported by the caller
  with its line number instead of crashing the iteration.

Files are read in binary, line by line, so memory does not grow with the file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, NamedTuple

__all__ = ["BOM", "RawLine", "atomic_write", "atomic_write_bytes", "iter_lines", "utf8_error"]

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
