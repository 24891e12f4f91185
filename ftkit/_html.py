"""Compact HTML tables for notebooks: one look for every ``_repr_html_`` in ftkit.

Every value is escaped here, once, so no dataset text (file names, messages,
model names) can inject markup into a notebook.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

__all__ = ["cell", "html_block", "html_table"]

_TH = "text-align:left;padding:2px 8px;border-bottom:1px solid #999"
_TD = "text-align:left;padding:2px 8px;vertical-align:top"
_NUMERIC = "text-align:right;padding:2px 8px;vertical-align:top"


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
    """A table; numbers are right-aligned, everything is escaped."""
    head = "".join(f"<th style='{_TH}'>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td style='{_NUMERIC if _is_number(v) else _TD}'>{escape(cell(v))}</td>" for v in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_block(title: str, summary: str = "", *parts: str) -> str:
    """A titled block: bold ``title``, a plain ``summary`` line, then ready-made HTML ``parts``.

    ``title`` and ``summary`` are escaped; ``parts`` must already be HTML built here.
    """
    line = f"<strong>{escape(title)}</strong>"
    if summary:
        line += f" {escape(summary)}"
    return f"<div class='ftkit'><div>{line}</div>{''.join(parts)}</div>"


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
