"""Findings of the validator: :class:`Issue`, :class:`Severity`, :class:`CodeInfo`.

Codes (listed in :mod:`ftkit.validation._codes`) are public API. Scripts filter
on them, CI jobs allow-list them and ``docs/validation.md`` documents each with
an example and a fix, so a code is never renamed or reused for another meaning;
new problems get new codes. Every code has one fixed severity, so counting per
code and per severity never disagree.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from .._plain import attributes

__all__ = ["CodeInfo", "Issue", "Severity", "issue_order"]


class Severity(str, enum.Enum):
    """How bad a finding is.

    - ``error``: the provider rejects the file or the line cannot train;
    - ``warning``: the file is accepted but money or quality is likely lost;
    - ``info``: worth knowing, nothing to fix.
    """

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class CodeInfo:
    """What a code means, how bad it is, and the default fix."""

    code: str
    severity: Severity
    title: str
    """A short description of the problem."""
    hint: str
    """The usual fix; an :class:`Issue` may carry a more specific one."""


@dataclass(frozen=True)
class Issue:
    """One finding, located to the line and JSON path a person can open.

    Attributes:
        code: stable snake_case code (a key of :data:`CODES`).
        severity: ``error``, ``warning`` or ``info``.
        line: 1-based line number in the file (the 1-based position for
            in-memory data); ``None`` for findings about the whole file.
        path: JSON path inside the record, e.g. ``messages[3].weight``
            (``""`` for the whole line or file).
        message: what is wrong, in plain words.
        hint: how to fix it.
        file: the file the finding is about, when a report covers several
            (a training and a validation file).
    """

    code: str
    severity: Severity
    line: int | None
    path: str
    message: str
    hint: str
    file: str | None = None

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.path:
            where.append(self.path)
        prefix = ", ".join(where)
        head = f"{prefix}: " if prefix else ""
        return f"{head}{self.severity.value} [{self.code}] {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form with a stable key order."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            **attributes(self, "line", "path", "message", "hint", "file"),
        }


_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def issue_order(issue: Issue) -> tuple[int, int, str]:
    """The order findings are shown in, in every form of a report.

    Errors first, then warnings, then infos; within a severity, findings about the
    whole file first, then by line, then by code. Sorting is stable, so findings of
    one code on one line keep the order they were found in (their paths in record order).
    """
    return (_RANK[issue.severity], -1 if issue.line is None else issue.line, issue.code)
