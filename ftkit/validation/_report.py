"""The validation report: findings, counts, stats, tokens and cost, in every form a user reads.

One object serves a script (``report.ok``, ``raise_for_errors()``), a CI job
(``to_dict()``, JSON-safe with stable keys), a terminal (``str(report)``) and
a notebook (``_repr_html_``). Every form lists the findings in one order
(:func:`~ftkit.validation._issues.issue_order`: errors, then warnings, then
infos; by line, then code), and the text and HTML forms show a finding repeated
on many lines once, with its lines as ranges.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._exceptions import DatasetInvalid, UsageError
from .._plain import attributes
from .._words import plural
from ..providers import example_limit
from ._issues import Issue, Severity, issue_order
from ._report_stats import (
    near_duplicate_lines,
    near_duplicate_tables,
    quality_lines,
    quality_tables,
)

if TYPE_CHECKING:
    from ..cost import CostEstimate
    from ..tokens import TokenStats
    from ._conclusions import ScanResult

__all__ = ["ValidationReport"]


class ValidationReport:
    """What :func:`ftkit.validate` found in a dataset.

    Attributes:
        source: the file validated (``None`` for in-memory data).
        kind: ``"sft"``, ``"dpo"``, or ``None`` when no record could be recognised.
        examples: records of the file's kind.
        lines: physical lines (or items) read.
        issues: the findings kept (at most ``max_per_code`` per code): errors, then
            warnings, then infos; within a severity, whole-file findings first, then
            by line, then by code.
        counts: every finding counted per code, kept or not.
        stats: distributions: roles, messages per example, assistant response lengths;
            and, where the data has them, ``labels`` (classification-like answers),
            ``json_answers`` (the shapes of JSON answers) and ``inference_system_prompt``
            (examples matching the prompt used at inference, when one was given).
        tokens: token stats of the valid examples, when a model was given; lines left
            out are in ``tokens.skipped``, by reason.
        notes: what the report did not check, and why (e.g. no model was given).
        cost: the training cost estimate, when a model with a known price was given.
        validation: the report of the validation file, when one was given.
        max_per_code: how many findings per code are kept.
    """

    def __init__(
        self,
        result: ScanResult,
        *,
        cost: CostEstimate | None = None,
        validation: ValidationReport | None = None,
        max_per_code: int = 20,
    ) -> None:
        self.source = result.source
        self.kind = result.kind
        self.examples = result.examples
        self.lines = result.lines
        self.blank_lines = result.blank_lines
        self.size_bytes = result.size_bytes
        self.model = result.model
        self.method = result.method
        self.issues: tuple[Issue, ...] = tuple(sorted(result.issues, key=issue_order))
        self.counts: Mapping[str, int] = dict(result.counts)
        self.stats: Mapping[str, Any] = result.stats
        self.tokens: TokenStats | None = result.tokens
        self.cost = cost
        self.validation = validation
        self.max_per_code = max_per_code
        self._severity = {issue.code: issue.severity for issue in self.issues}
        self._nested = False
        if validation is not None:
            validation._nested = True  # its training report says the notes once

    def _apart(self) -> tuple[ValidationReport, ValidationReport | None]:
        """This report without its validation file's, and that one on its own."""
        training = copy.copy(self)
        training.validation = None
        validation = copy.copy(self.validation)
        if validation is not None:
            validation._nested = False
        return training, validation

    @property
    def notes(self) -> tuple[str, ...]:
        """What was not checked, and why: one line each, never one per example."""
        if self.model is None:
            return (_NO_MODEL,)
        return ()

    # -- verdict
    @property
    def ok(self) -> bool:
        """True when no error was found (warnings and infos do not count)."""
        return self.error_count == 0 and (self.validation is None or self.validation.ok)

    @property
    def errors(self) -> list[Issue]:
        """Error findings kept in the report."""
        return [i for i in self.issues if i.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Issue]:
        """Warning findings kept in the report."""
        return [i for i in self.issues if i.severity is Severity.WARNING]

    @property
    def infos(self) -> list[Issue]:
        """Informational findings kept in the report."""
        return [i for i in self.issues if i.severity is Severity.INFO]

    def _count(self, severity: Severity) -> int:
        from ._codes import CODES

        return sum(n for code, n in self.counts.items() if CODES[code].severity is severity)

    @property
    def error_count(self) -> int:
        """All error findings of this file, including those not kept."""
        return self._count(Severity.ERROR)

    @property
    def warning_count(self) -> int:
        """All warning findings of this file, including those not kept."""
        return self._count(Severity.WARNING)

    @property
    def info_count(self) -> int:
        """All informational findings of this file, including those not kept."""
        return self._count(Severity.INFO)

    def by_code(self, code: str) -> list[Issue]:
        """The kept findings with ``code``."""
        return [i for i in self.issues if i.code == code]

    def omitted(self, code: str) -> int:
        """How many findings with ``code`` were counted but not kept."""
        return self.counts.get(code, 0) - len(self.by_code(code))

    def raise_for_errors(self) -> ValidationReport:
        """Raise :class:`ftkit.DatasetInvalid` (carrying this report) if there are errors.

        Returns:
            The report itself, so ``validate(...).raise_for_errors()`` chains.

        Raises:
            DatasetInvalid: the dataset (or its validation file) has errors.
        """
        if self.ok:
            return self
        reports = [self] + ([self.validation] if self.validation is not None else [])
        parts = []
        for report in reports:
            if report.error_count:
                first = report.errors[0] if report.errors else None
                where = report.source or "the dataset"
                parts.append(
                    f"{where}: {plural(report.error_count, 'error')}"
                    + (f", first: {first}" if first else "")
                )
        raise DatasetInvalid("; ".join(parts), report=self)

    # -- forms
    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-safe data with stable keys (the CLI's ``--json``)."""
        return {
            **attributes(
                self,
                "source",
                "ok",
                "kind",
                "examples",
                "lines",
                "blank_lines",
                "size_bytes",
                "model",
                "method",
                "error_count",
                "warning_count",
                "info_count",
            ),
            "counts": dict(self.counts),
            "omitted": {code: self.omitted(code) for code in self.counts if self.omitted(code)},
            "max_per_code": self.max_per_code,
            "issues": [issue.to_dict() for issue in self.issues],
            "stats": _plain(self.stats),
            "tokens": _tokens_dict(self.tokens),
            "notes": list(self.notes),
            "cost": self.cost.to_dict() if self.cost is not None else None,
            "validation": self.validation.to_dict() if self.validation is not None else None,
        }

    def summary_line(self) -> str:
        """One line: verdict, kind, examples and counts."""
        verdict = "OK" if self.error_count == 0 else "INVALID"
        kind = self.kind.upper() if self.kind else "unrecognised"
        name = self.source or "dataset"
        return (
            f"{name}: {verdict} - {kind}, {plural(self.examples, 'example')}; "
            f"{plural(self.error_count, 'error')}, {plural(self.warning_count, 'warning')}, "
            f"{plural(self.info_count, 'info')}"
        )

    def __str__(self) -> str:
        out = [self.summary_line()]
        shown_codes: set[str] = set()
        for lines, issue in _grouped(self.issues):
            out.append(f"  {_located(issue, lines)}")
            out.append(f"      fix: {issue.hint}")
            shown_codes.add(issue.code)
        for code in sorted(shown_codes):
            hidden = self.omitted(code)
            if hidden:
                out.append(
                    f"  ... and {hidden:,} more [{code}] "
                    "(raise max_per_code, or --max-per-code, to see them)"
                )
        stats = self.stats
        if stats.get("roles"):
            roles = ", ".join(f"{role} {n:,}" for role, n in stats["roles"].items())
            out.append(f"  messages by role: {roles}")
        responses = stats.get("assistant_response_chars") or {}
        if responses.get("count"):
            out.append(
                f"  assistant response chars: min {responses['min']:,}, p10 {responses['p10']:,}, "
                f"median {responses['p50']:,}, p90 {responses['p90']:,}, max {responses['max']:,}"
            )
        out += quality_lines(stats)
        out += near_duplicate_lines(stats)
        if self.tokens is not None and self.tokens.examples:
            t = self.tokens
            out.append(
                f"  tokens: {t.total_tokens:,} total, {t.trained_tokens:,} trained, "
                f"{t.billed_tokens:,} billed per epoch; per example min {t.min:,}, "
                f"median {t.p50:,.0f}, max {t.max:,}"
                + (" (approximate)" if t.approximate else "")
                + (f"; {t.skipped_text()}" if t.skipped else "")
            )
        elif self.tokens is not None and self.tokens.skipped:
            out.append(f"  tokens: none counted; {self.tokens.skipped_text()}")
        if not self._nested:
            out += [f"  note: {note}" for note in self.notes]
        if self.cost is not None:
            if self.cost.cost_usd is not None:
                out.append(
                    f"  estimated cost: ${self.cost.cost_usd:,.2f} "
                    f"({self.cost.epochs} epochs, {self.cost.billed_tokens:,} tokens)"
                )
            else:
                out.append(f"  estimated cost: unknown ({self.cost.cost_reason})")
        text = "\n".join(out)
        if self.validation is not None:
            text += "\n" + str(self.validation)
        return text

    def __repr__(self) -> str:
        return (
            f"ValidationReport(source={self.source!r}, kind={self.kind!r}, "
            f"examples={self.examples}, errors={self.error_count}, "
            f"warnings={self.warning_count})"
        )

    def _repr_html_(self) -> str:
        from .._html import html_block, html_table

        facts: list[tuple[str, object]] = [
            ("examples", self.examples),
            ("lines", self.lines),
            ("errors", self.error_count),
            ("warnings", self.warning_count),
            ("infos", self.info_count),
        ]
        if self.tokens is not None and self.tokens.examples:
            t = self.tokens
            facts += [
                (
                    "tokens (total)",
                    f"{t.total_tokens:,} (approximate)" if t.approximate else t.total_tokens,
                ),
                ("tokens per example (median / max)", f"{t.p50:,.0f} / {t.max:,}"),
                ("over the limit", t.over_limit),
            ]
        if self.tokens is not None and self.tokens.skipped:
            facts.append(("tokens", self.tokens.skipped_text()))
        if not self._nested:
            facts += [("note", note) for note in self.notes]
        if self.cost is not None:
            cost = self.cost.cost_usd
            facts.append(
                (
                    "estimated cost",
                    f"${cost:,.2f} ({self.cost.epochs} epochs)"
                    if cost is not None
                    else f"unknown ({self.cost.cost_reason})",
                )
            )
        parts = [html_table(("", ""), facts)]
        if self.issues:
            parts.append(
                html_table(
                    ("line", "severity", "code", "path", "message", "fix"),
                    (
                        (
                            _line_ranges(lines) if len(lines) > 1 else i.line,
                            i.severity.value,
                            i.code,
                            i.path,
                            i.message,
                            i.hint,
                        )
                        for lines, i in _grouped(self.issues)
                    ),
                )
            )
        hidden = [(code, self.omitted(code)) for code in sorted(self.counts) if self.omitted(code)]
        if hidden:
            parts.append(html_table(("code", "more findings not shown"), hidden))
        parts += quality_tables(self.stats)
        parts += near_duplicate_tables(self.stats)
        body = html_block("ftkit validation", self.summary_line(), *parts)
        if self.validation is not None:
            body += self.validation._repr_html_()
        return body

    def to_pandas(self) -> Any:
        """The kept findings as a ``pandas.DataFrame`` (needs the ``pandas`` extra).

        Columns: ``source, line, severity, code, path, message, hint``; one row per
        finding kept (the validation file's findings follow the training file's).

        Raises:
            MissingExtra: pandas is not installed.
        """
        from .._optional import require

        pd = require("pandas", extra="pandas", feature="ValidationReport.to_pandas()")
        reports = [self] + ([self.validation] if self.validation is not None else [])
        rows = [
            {
                "source": issue.file if issue.file is not None else report.source,
                "line": issue.line,
                "severity": issue.severity.value,
                "code": issue.code,
                "path": issue.path,
                "message": issue.message,
                "hint": issue.hint,
            }
            for report in reports
            for issue in report.issues
        ]
        columns = ["source", "line", "severity", "code", "path", "message", "hint"]
        return pd.DataFrame(rows, columns=columns)

    def token_lengths(self, bins: int = 30) -> tuple[tuple[Any, ...], int | None, int | None, str]:
        """``(histogram, over_limit, limit, title)`` for :func:`ftkit.plots.plot_token_lengths`.

        Plain data, so that the plotting module needs no domain type (layers point down).
        """
        if self.tokens is None:
            raise UsageError(
                "this report has no token counts; validate with a model, e.g. "
                "ftkit.validate(path, model='gpt-4.1-mini-2025-04-14')"
            )
        limit = example_limit(self.model) if self.model is not None else None
        histogram = self.tokens.histogram(bins) if self.tokens.examples else ()
        return (
            histogram,
            self.tokens.over_limit,
            limit,
            f"{self.source or 'dataset'} ({self.model})",
        )

    def plot(self, limit: int | None = None) -> Any:
        """The token length distribution with the model's limit marked (``ftkit.plots``)."""
        from ..plots import plot_token_lengths

        return plot_token_lengths(self, limit=limit)


_NO_MODEL = (
    "no model given: tokens, cost, the token limit per example and the model's rules "
    "were not checked"
)


def _grouped(issues: Sequence[Issue]) -> list[tuple[list[int], Issue]]:
    """Findings that differ only in their line, as ``(lines, first finding)``, in order.

    A file with one systematic mistake repeats the same finding on every line; the
    text shows it once with its lines instead of a paragraph per line.
    """
    groups: dict[tuple[object, ...], tuple[list[int], Issue]] = {}
    for index, issue in enumerate(issues):
        key: tuple[object, ...] = (
            (issue.code, issue.path, issue.message, issue.hint, issue.file)
            if issue.line is not None
            else (index,)
        )
        group = groups.setdefault(key, ([], issue))
        if issue.line is not None:
            group[0].append(issue.line)
    return list(groups.values())


def _line_ranges(lines: list[int]) -> str:
    """``[1, 2, 3, 7, 9, 10]`` -> ``1-3, 7, 9-10``."""
    spans: list[str] = []
    start = previous = lines[0]
    for line in [*lines[1:], None]:
        if line is not None and previous <= line <= previous + 1:
            previous = line
            continue
        spans.append(str(start) if start == previous else f"{start}-{previous}")
        if line is not None:
            start = previous = line
    return ", ".join(spans)


def _located(issue: Issue, lines: list[int] | None = None) -> str:
    where = []
    if lines is not None and len(lines) > 1:
        where.append(f"lines {_line_ranges(lines)}")
    elif issue.line is not None:
        where.append(f"line {issue.line}")
    if issue.path:
        where.append(issue.path)
    prefix = ", ".join(where)
    return f"{prefix + ': ' if prefix else ''}{issue.severity.value} [{issue.code}] {issue.message}"


def _tokens_dict(tokens: TokenStats | None) -> dict[str, Any] | None:
    if tokens is None:
        return None
    return {
        **attributes(
            tokens,
            "examples",
            "total_tokens",
            "trained_tokens",
            "billed_tokens",
            "over_limit",
            "trained_lost",
            "min",
            "max",
        ),
        "mean": round(tokens.mean, 2),
        **attributes(tokens, "p5", "p50", "p95"),
        "skipped": tokens.skipped_total,
        "skipped_reasons": dict(tokens.skipped),
        "approximate": tokens.approximate,
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
