"""A JSON record pretty-printed over several lines, told apart from lines that are just broken.

A line that opens a JSON value in column 0 and ends before the value does may be
the first line of a record spread over several lines. The line pass then holds
the lines in an :class:`OpenRecord` instead of reporting them, until they complete
a value (one ``multiline_json`` finding for the whole record) or cannot (each is
read again as a line of its own). The caps keep a truncated file from holding
everything that follows it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["DECODER", "OpenRecord", "Verdict", "shift_span"]

_OPEN_MAX_LINES = 10_000
_OPEN_MAX_BYTES = 8 * 1024 * 1024
"""A record spread over more lines (or bytes) than this is reported line by line."""
_WHITESPACE = b" \t\r\n\f\v"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (use null or a number)")


DECODER = json.JSONDecoder(parse_constant=_reject_constant)
"""JSON as the service reads it: ``NaN`` and ``Infinity`` are not numbers."""

Verdict = Literal["open", "record", "none", "capped"]
"""What the held lines are after one more: see :meth:`OpenRecord.add`."""


@dataclass
class OpenRecord:
    """Lines that may be one JSON record spread over several lines (pretty-printed)."""

    start: int
    message: str
    """The first line's ``invalid_json`` message, reported if no record completes."""
    lines: list[tuple[int, bytes]]
    size: int
    taken: int = 0
    """Lines of the completed record (the rest followed it)."""
    value: str = "record"
    """What the completed lines hold: a ``record`` (an object) or another JSON ``value``."""

    def add(self, number: int, data: bytes) -> Verdict:
        """Add a line and say what the lines now are.

        ``open``: they may still become one record; ``record``: they hold one (lines
        past its end are ``lines[taken:]``); ``none``/``capped``: they cannot, or grew
        past the caps.
        """
        self.lines.append((number, data))
        self.size += len(data) + 1
        # Only the second line (which drops a truncated line at once) and lines in column 0
        # that open or close a value can settle it: a pretty-printed record is decoded a
        # few times, not once per line.
        stripped = data.rstrip(_WHITESPACE)
        in_column_0 = data[:1] not in (b" ", b"\t")
        opens_or_closes = data[:1] in (b"{", b"[", b"}", b"]") or stripped[-1:] in (b"}", b"]")
        deciding = len(self.lines) == 2 or (in_column_0 and opens_or_closes)
        capped = len(self.lines) > _OPEN_MAX_LINES or self.size > _OPEN_MAX_BYTES
        if not deciding:
            return "capped" if capped else "open"
        try:
            text = b"\n".join(line for _, line in self.lines).decode("utf-8")
            value, stop = DECODER.raw_decode(text)
        except json.JSONDecodeError as exc:
            if exc.pos < len(text.rstrip()):
                return "none"
            return "capped" if capped else "open"
        except (ValueError, RecursionError):  # not UTF-8, NaN, nesting
            return "none"
        if text[stop:].split("\n", 1)[0].strip():
            return "none"  # the value ends inside a line: not a record of whole lines
        self.taken = text.count("\n", 0, stop) + 1
        self.value = "record" if isinstance(value, dict) else "value"
        return "record"

    def finding(self) -> str:
        """The ``multiline_json`` message of a completed record."""
        # A worker's line numbers are chunk-relative: shift_span() moves the span in the text.
        return (
            f"a JSON {self.value} spans lines {self.start}-{self.start + self.taken - 1} "
            f"({self.taken:,} lines): write one JSON object per line"
        )


_SPAN = re.compile(r"spans lines (\d+)-(\d+)")


def shift_span(message: str, offset: int) -> str:
    """A ``multiline_json`` message with its chunk-relative line span made absolute."""
    return _SPAN.sub(
        lambda m: f"spans lines {int(m[1]) + offset}-{int(m[2]) + offset}", message, count=1
    )
