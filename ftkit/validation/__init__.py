"""Find every problem of a fine-tuning dataset in one streaming pass, before any upload.

``ftkit.validate(path)`` reads the file once and reports each finding as an
:class:`Issue` with a stable code, the line, the JSON path, a message and a
fix. Every code is listed in :data:`CODES` and documented in
``docs/validation.md``. Give a model to also check it and count tokens and
cost; give a validation file to also check it and its overlap with training.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from ._engine import DEFAULT_MAX_PER_CODE, ScanResult, scan
from ._issues import CODES, CodeInfo, Issue, Severity
from ._report import ValidationReport

__all__ = ["CODES", "CodeInfo", "Issue", "ScanResult", "Severity", "ValidationReport", "validate"]

Source = str | os.PathLike[str] | Iterable[Any]


def validate(
    source: Source,
    model: str | None = None,
    method: str | None = None,
    *,
    validation: Source | None = None,
    epochs: int | str | None = None,
    max_per_code: int = DEFAULT_MAX_PER_CODE,
    workers: int | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> ValidationReport:
    """Validate a training file (and optionally its validation file) in one pass each.

    Never raises on the content of the data: every problem becomes an issue.

    Args:
        source: a JSONL path, or an iterable of dicts, records or JSON lines
            (their 1-based position stands in for the line number).
        model: the model to train, e.g. ``"gpt-4.1-mini-2025-04-14"`` (``ft:``
            names allowed); enables model checks, token counts and the cost.
        method: ``"sft"`` (or ``"supervised"``) or ``"dpo"``; ``None`` takes the
            kind of the first record.
        validation: a validation file; it is checked too, and its examples
            that also appear in ``source`` are reported.
        epochs: epochs for the cost estimate (``None``/``"auto"``: the default rule).
        max_per_code: findings kept per code (the rest are counted).
        workers: processes for large files; ``None`` decides, ``1`` stays in-process.
        progress: called now and then with (bytes read, examples seen) while a
            file is read (the training file, then the validation file).

    Returns:
        The report; ``report.ok`` is false when any error was found.

    Raises:
        UsageError: a missing file, an unknown method, or invalid arguments.
    """
    result = scan(
        source,
        model=model,
        method=method,
        workers=workers,
        max_per_code=max_per_code,
        progress=progress,
    )
    checked: ValidationReport | None = None
    if validation is not None:
        val = scan(
            validation,
            model=model,
            method=method or result.kind,
            workers=workers,
            max_per_code=max_per_code,
            minimum_examples=False,
            model_findings=False,
            progress=progress,
        )
        _overlap(result, val, max_per_code)
        checked = ValidationReport(val, max_per_code=max_per_code)
    return ValidationReport(
        result, cost=_cost(result, model, epochs), validation=checked, max_per_code=max_per_code
    )


def _overlap(train: ScanResult, val: ScanResult, max_per_code: int) -> None:
    if train.quality is None or val.quality is None:
        return
    code = "train_validation_overlap"
    info = CODES[code]
    kept = 0
    for line, train_line in train.quality.overlap(val.quality):
        val.counts[code] = val.counts.get(code, 0) + 1
        if kept < max_per_code:
            where = (
                f"line {train_line} of {train.source}"
                if train.source
                else f"item {train_line} of the training data"
            )
            val.issues.append(
                Issue(
                    code,
                    info.severity,
                    line,
                    "",
                    f"this validation example is also {where}",
                    info.hint,
                    val.source,
                )
            )
            kept += 1
    val.counts = dict(sorted(val.counts.items()))
    val.issues.sort(key=lambda i: (i.line is not None, i.line or 0))


def _cost(result: ScanResult, model: str | None, epochs: int | str | None) -> Any:
    if model is None or result.tokens is None or not result.tokens.examples:
        return None
    from ..cost import CostEstimate

    return CostEstimate.from_stats(
        result.tokens,
        model=model,
        epochs=epochs,  # type: ignore[arg-type]
        method="dpo" if result.kind == "dpo" else "supervised",
    )
