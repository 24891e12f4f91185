"""Compact HTML tables for notebooks: one look for every ``_repr_html_`` in ftkit.

Every value is escaped here, once, so no dataset text (file names, messages,
model names) can inject markup into a notebook.

The look is decided here too, from the values and the column names, so every
table reads the same way:

- numbers (and money, percentages) are right-aligned in tabular figures, so
  digits line up from row to row;
- ids and model names (``ftjob-…``, ``file-…``, ``ft:…``, ``ftr-…``,
  ``gpt-4.1-mini-2025-04-14``) are ``<code>`` and never wrap, so one can be
  read and copied whole;
- a ``status``, ``severity`` or ``data`` column is coloured by its value:
  red for errors and failed or cancelled jobs, amber for warnings, green for
  success; a fact row counting ``errors`` is red when the count is not zero.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from html import escape

__all__ = ["cell", "html_block", "html_table"]

_PAD = "padding:2px 8px;vertical-align:top"
_TH = "text-align:left;padding:2px 8px;border-bottom:1px solid #999;white-space:nowrap"
_TD = f"text-align:left;{_PAD}"
_NUMERIC = f"text-align:right;{_PAD};font-variant-numeric:tabular-nums;white-space:nowrap"
_CODE = "white-space:nowrap"

RED = "#c62828"
AMBER = "#b26a00"
GREEN = "#2e7d32"

# Column headers whose values are a state to colour.
_STATE_COLUMNS = frozenset({"status", "severity", "data"})
_TONES = {
    "error": RED,
    "errors": RED,
    "failed": RED,
    "cancelled": RED,
    "blocked": RED,
    "warning": AMBER,
    "warnings": AMBER,
    "cancelling": AMBER,
    "succeeded": GREEN,
    "ok": GREEN,
}
# Fact labels (first cell of a two-column table) that are bad news when non-zero.
_BAD_COUNTS = {"errors": RED, "over the limit": RED, "warnings": AMBER}

# Money, counts with separators, decimals, percentages, "12 / 50" pairs: aligned as numbers.
_NUMBER_TEXT = re.compile(r"^[-+]?\$?\d[\d,]*(\.\d+)?%?( / [-+]?\$?\d[\d,]*(\.\d+)?%?)*$")
# An id or a model name: one word with a digit and a separator (``-``, ``_``, ``:``).
_ID_TEXT = re.compile(r"^(?=[^\s]*\d)(?=[^\s]*[-_:])[A-Za-z][\w.:\-/]{4,}$")


def cell(value: object) -> str:
    """A value as table text: ``None`` is empty, ints get thousands separators."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}"
    return str(value)


def html_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A table; numbers are right-aligned, ids kept whole, states coloured, all escaped."""
    head = "".join(f"<th style='{_TH}'>{escape(h)}</th>" for h in headers)
    states = [h.strip().lower() in _STATE_COLUMNS for h in headers]
    facts = len(headers) == 2 and not any(h.strip() for h in headers)
    body = []
    for row in rows:
        tone_of_row = _BAD_COUNTS.get(str(row[0]).lower()) if facts and row else None
        cells = []
        for index, value in enumerate(row):
            tone = None
            if index < len(states) and states[index] and isinstance(value, str):
                tone = _TONES.get(value.strip().lower())
            elif index == 1 and tone_of_row and _is_number(value) and value:
                tone = tone_of_row
            cells.append(_td(value, tone))
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def html_block(title: str, summary: str = "", *parts: str) -> str:
    """A titled block: bold ``title``, a plain ``summary`` line, then ready-made HTML ``parts``.

    ``title`` and ``summary`` are escaped (ids in them kept whole); a summary
    that is just a state (``"failed"``) is coloured. ``parts`` must already be
    HTML built here.
    """
    line = f"<strong>{_words(title)}</strong>"
    if summary:
        tone = _TONES.get(summary.strip().lower())
        text = _words(summary)
        line += " " + (f"<span style='color:{tone}'>{text}</span>" if tone else text)
    return f"<div class='ftkit'><div>{line}</div>{''.join(parts)}</div>"


def _td(value: object, tone: str | None) -> str:
    text = escape(cell(value))
    if _is_number(value) or (isinstance(value, str) and _NUMBER_TEXT.match(value.strip())):
        style = _NUMERIC
    else:
        style = _TD
        if isinstance(value, str) and _ID_TEXT.match(value):
            text = f"<code style='{_CODE}'>{text}</code>"
    if tone:
        style += f";color:{tone}"
        if tone == RED:
            style += ";font-weight:600"
    return f"<td style='{style}'>{text}</td>"


def _words(text: str) -> str:
    """Escape ``text``, putting each id-like word in a ``<code>`` that does not wrap."""
    out = []
    for word in text.split(" "):
        core = word.rstrip(",;.")
        if core.endswith(":") and not core.startswith("ft:"):
            core = core[:-1]  # "for gpt-4.1-mini-2025-04-14: ready" keeps its colon outside
        tail = word[len(core) :]
        if _ID_TEXT.match(core):
            out.append(f"<code style='{_CODE}'>{escape(core)}</code>{escape(tail)}")
        else:
            out.append(escape(word))
    return " ".join(out)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
