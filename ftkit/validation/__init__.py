"""Find every problem of a fine-tuning dataset in one streaming pass, before any upload.

``ftkit.validate(path)`` reads the file once and reports each finding as an
:class:`Issue` with a stable code, the line, the JSON path, a message and a
fix. Every code is listed in :data:`CODES` and documented in
``docs/validation.md``. Give a model to also check it and count tokens and
cost; give a validation file to also check it and its overlap with training.

:func:`scan_file` is the one place that decides which rules a file gets from
its role in a job (training or validation file); ``validate``, the pipeline's
``plan()`` and the fake API's server-side file check all go through it, so
they accept and reject the same files.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypedDict

from .._exceptions import UsageError
from .._public import publish
from ._codes import CODES
from ._conclusions import MIN_EXAMPLES, ScanResult
from ._engine import DEFAULT_MAX_PER_CODE, scan
from ._estimate import estimate
from ._issues import CodeInfo, Issue, Severity
from ._near_duplicates import find_overlap, top_pairs
from ._report import ValidationReport

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "CODES",
    "MIN_EXAMPLES",
    "CodeInfo",
    "Issue",
    "Severity",
    "ValidationReport",
    "estimate",
    "validate",
    "validate_files",
]

Source = str | os.PathLike[str] | Iterable[Any]


def validate(
    source: Source,
    model: str | None = None,
    method: str | None = None,
    *,
    provider: str | None = None,
    validation: Source | None = None,
    epochs: int | str | None = None,
    max_per_code: int = DEFAULT_MAX_PER_CODE,
    workers: int | None = None,
    progress: Callable[[int, int], object] | None = None,
    today: datetime.date | None = None,
    inference_system_prompt: str | None = None,
    near_duplicates: float | bool | str | None = "auto",
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
        provider: the provider that will train it (``"openai"``, ``"azure"``,
            ``"together"``, ``"fireworks"``): its catalog says which models and methods
            it trains, their per-example limits, vision, dates and prices, and its
            profile adds its own rules (Together's, Fireworks': see
            ``docs/validation.md``). ``None``:
            the first provider whose catalog lists the model (``openai`` first).
        validation: a validation file; it is checked too, and its examples
            that also appear in ``source`` are reported.
        epochs: epochs for the cost estimate (``None``/``"auto"``: the default rule).
        max_per_code: findings kept per code (the rest are counted).
        workers: processes for large files; ``None`` decides, ``1`` stays in-process.
        progress: called now and then with (bytes read, examples seen) while a
            file is read (the training file, then the validation file).
        today: the date the model's shutdown date is compared with (UTC today
            by default); a model retired by then is a ``model_retired`` error.
        inference_system_prompt: the system prompt your application sends at
            inference (``""`` if it sends none): examples trained without it or with
            another are reported (``system_prompt_mismatch``), in both files.
        near_duplicates: the estimated similarity (0.5 to 1) at which two examples
            are reported as ``near_duplicate`` (and a validation example near a
            training one as ``train_validation_near_overlap``); ``True`` is 0.8;
            ``"auto"`` (the default) is 0.8 for in-memory data and files up to
            32 MiB and no search for larger files (the search adds a third to a half
            to the pass); ``None`` or ``False`` skips it.

    Returns:
        The report; ``report.ok`` is false when any error was found.

    Raises:
        UsageError: a missing file, an unknown method or provider, or invalid arguments.
    """
    options: _RuleOptions = {
        "provider": provider,
        "workers": workers,
        "max_per_code": max_per_code,
        "today": today,
        "inference_system_prompt": inference_system_prompt,
        "near_duplicates": near_duplicates,
    }
    result = scan_file(source, model=model, method=method, progress=progress, **options)
    checked: ValidationReport | None = None
    if validation is not None:
        val = scan_file(
            validation,
            model=model,
            method=method or result.kind,
            validation_file=True,
            progress=progress,
            **options,
        )
        _overlap(result, val, max_per_code)
        checked = ValidationReport(val, max_per_code=max_per_code)
    cost = _cost(result, model, epochs, provider)
    return ValidationReport(result, cost=cost, validation=checked, max_per_code=max_per_code)


class _RuleOptions(TypedDict, total=False):
    """The keyword arguments of :func:`validate` that each file's scan takes as they are."""

    provider: str | None
    max_per_code: int
    workers: int | None
    today: datetime.date | None
    inference_system_prompt: str | None
    near_duplicates: float | bool | str | None


class _FileOptions(_RuleOptions, total=False):
    """The keyword arguments :func:`validate_files` takes: those of :func:`validate`."""

    validation: Source | None
    epochs: int | str | None


def validate_files(
    source: Source,
    model: str | None = None,
    method: str | None = None,
    **options: Unpack[_FileOptions],
) -> tuple[ValidationReport, ValidationReport | None]:
    """:func:`validate`, with the two files' reports apart: ``(training, validation)``.

    Takes the arguments of :func:`validate` (but ``progress``) and runs the same
    passes and rules as ``validate(source, validation=...)`` (the validation report
    holds the overlap findings); the training report's ``ok`` covers its own file
    only. ``FineTune.plan()`` reports stages this way.
    """
    return validate(source, model, method, **options)._apart()


def scan_file(
    source: Source,
    *,
    model: str | None = None,
    method: str | None = None,
    validation_file: bool = False,
    progress: Callable[[int, int], object] | None = None,
    **options: Unpack[_RuleOptions],
) -> ScanResult:
    """Scan one file with the rules of its role in a fine-tuning job.

    A training file must hold the provider's minimum of examples (OpenAI's is
    :data:`MIN_EXAMPLES`; a profile's ``min_examples``) and carries the model
    findings. A validation file has no minimum (OpenAI documents none; a small
    held-out set is normal) and leaves the model findings to its training file.
    Everything else is the same for both.

    Args:
        source: a JSONL path, or an iterable of dicts, records or JSON lines.
        model: the model to train (model checks and token counts).
        method: ``"sft"``/``"supervised"`` or ``"dpo"``; ``None`` detects it.
        validation_file: the file is a job's ``validation_file``.
        progress: called with (bytes read, examples seen) while the file is read.
        **options: the rest of :func:`validate`'s options (``provider``,
            ``max_per_code``, ``workers``, ``today``, ``inference_system_prompt``,
            ``near_duplicates``).

    Raises:
        UsageError: a missing file, an unknown method, or invalid arguments.
    """
    today = options.get("today")
    if today is not None and not isinstance(today, datetime.date):
        raise UsageError(f"today must be a datetime.date, got {today!r}")
    return scan(
        source,
        model=model,
        method=method,
        minimum_examples=not validation_file,
        model_findings=not validation_file,
        progress=progress,
        **options,
    )


def _overlap(train: ScanResult, val: ScanResult, max_per_code: int) -> None:
    if train.quality is None or val.quality is None:
        return
    exact: set[int] = set()
    for line, train_line in train.quality.overlap(val.quality):
        exact.add(line)
        _add_overlap(train, val, max_per_code, "train_validation_overlap", line, train_line)
    near_train, near_val = train.quality.near, val.quality.near
    stats = val.stats.get("near_duplicates")
    threshold = stats.get("threshold") if isinstance(stats, dict) else None
    if threshold is not None and near_train is not None and near_val is not None:
        pairs = find_overlap(near_train, near_val, threshold, exact)
        for line, train_line, score in pairs:
            _add_overlap(
                train,
                val,
                max_per_code,
                "train_validation_near_overlap",
                line,
                train_line,
                f" (estimated similarity {score:.2f})",
            )
        assert isinstance(stats, dict)
        stats["training_pairs"] = len(pairs)
        stats["training_top"] = top_pairs(pairs)
    val.counts = dict(sorted(val.counts.items()))
    val.issues.sort(key=lambda i: (i.line is not None, i.line or 0))


def _add_overlap(
    train: ScanResult,
    val: ScanResult,
    max_per_code: int,
    code: str,
    line: int,
    train_line: int,
    detail: str = "",
) -> None:
    val.counts[code] = val.counts.get(code, 0) + 1
    if val.counts[code] > max_per_code:  # only this function reports these codes
        return
    where = (
        f"line {train_line} of {train.source}"
        if train.source
        else f"item {train_line} of the training data"
    )
    message = (
        f"this validation example nearly repeats {where}{detail}"
        if code == "train_validation_near_overlap"
        else f"this validation example is also {where}"
    )
    info = CODES[code]
    val.issues.append(Issue(code, info.severity, line, "", message, info.hint, val.source))


def _cost(
    result: ScanResult, model: str | None, epochs: int | str | None, provider: str | None
) -> Any:
    if model is None or result.tokens is None or not result.tokens.examples:
        return None
    from ..cost import CostEstimate

    return CostEstimate.from_stats(
        result.tokens,
        model=model,
        epochs=epochs,  # type: ignore[arg-type]
        method="dpo" if result.kind == "dpo" else "supervised",
        provider=provider,
    )


publish(__name__, globals(), __all__)
