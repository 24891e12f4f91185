"""The file-level conclusions: what a whole pass says that no single line can.

Once the lines are read (and the chunks of a parallel scan merged), :func:`conclude`
decides the file's kind and example count and adds the findings about the file
as a whole: kinds mixed or against the method, too few or too many examples, a
sample weight on some examples only (a profile's rule), a file over the
Files API limit, exact and near duplicates, a system prompt that varies, responses
far longer than the median, and the label, JSON-shape and inference-prompt findings
of the quality stats. It turns the kept samples into :class:`Issue` objects and
returns the :class:`ScanResult` that :func:`ftkit.validate` and :func:`ftkit.estimate`
build on.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..providers import lookup_model
from ..providers._names import provider_name
from ._checks_common import DEFAULT_PROFILE, Profile
from ._codes import CODES, ERROR_CODES
from ._issues import Issue, issue_order
from ._line_pass import Kind, LinePass, PassOptions
from ._near_duplicates import find_pairs as find_near_pairs
from ._near_duplicates import summary as near_summary
from ._quality import NO_SYSTEM, QualityStats

if TYPE_CHECKING:
    from ..tokens.stats import TokenStats

__all__ = ["MIN_EXAMPLES", "ScanResult", "conclude"]

MIN_EXAMPLES = DEFAULT_PROFILE.min_examples
"""OpenAI's minimum number of training examples (a provider's own is its profile's
``min_examples``: :func:`ftkit.validation._profiles.profile_for`)."""
RECOMMENDED_EXAMPLES = 50
FILES_API_LIMIT = 512 * 1024 * 1024
UPLOADS_API_LIMIT = 8 * 1024 * 1024 * 1024
_SYSTEM_SHARE = 0.8
"""A system prompt used by this share of examples is "the" prompt; others are flagged."""
_LONG_FACTOR = 20
_LONG_MIN_CHARS = 2000
_FILE_CODES = frozenset({"utf16_file", "binary_file", "multiline_json"})
"""Codes :func:`~ftkit.jsonl.sniff` reports for a whole file."""
_RFT_FILE = (
    "no example of the file has one, so it looks like a file of reinforcement fine-tuning "
    "(RFT) prompts: SFT needs the reference reply as an assistant message, and RFT files "
    "cannot train with SFT or DPO"
)


@dataclass
class ScanResult:
    """Everything one pass over a source learned.

    This is the internal result :func:`ftkit.validate` and :func:`ftkit.estimate`
    build on; ``issues`` holds at most ``max_per_code`` findings per code, while
    ``counts`` counts them all.
    """

    source: str | None
    """The file's path as given, or ``None`` for in-memory items."""
    kind: Kind | None
    """The file's kind: the method asked for, else the kind of its first record."""
    examples: int
    """Records of the file's kind (what the provider counts as training examples)."""
    lines: int
    """Physical lines (or items), blank ones included (counted, not checked, in a file
    that is not JSONL text at all)."""
    blank_lines: int
    size_bytes: int | None
    counts: dict[str, int]
    issues: list[Issue]
    stats: dict[str, Any]
    tokens: TokenStats | None
    """Token figures of the structurally valid examples, when a model was given."""
    model: str | None
    method: Kind | None
    workers: int
    """Processes that scanned the source (1: in-process)."""
    quality: QualityStats | None = field(default=None, repr=False)

    @property
    def error_count(self) -> int:
        """Error-severity findings, all of them (not only the kept samples)."""
        return sum(n for code, n in self.counts.items() if code in ERROR_CODES)


def conclude(
    result: LinePass,
    name: str | None,
    size: int | None,
    workers: int,
    options: PassOptions,
    file_issues: list[tuple[str, str]],
    minimum_examples: bool,
    model_findings: bool,
) -> ScanResult:
    """Add the findings about the whole file to a finished pass, and build its result.

    Args:
        result: the pass, ended (and merged, for a parallel scan).
        name: the file's path as given (``None`` for in-memory items).
        size: the file's size in bytes (``None`` for in-memory items).
        workers: the processes that scanned it.
        options: what the pass checked.
        file_issues: ``(code, message)`` findings found before the pass (the model's).
        minimum_examples: check the minimum example count (not for validation files).
        model_findings: report whether the model supports the file's method.
    """
    for code, message in file_issues:
        result.emit_at(None, code, "", message)
    kind = _kind(result, options.method)
    examples = result.kind_counts[kind] if kind is not None else 0
    if kind is not None:
        _kind_findings(result, kind, examples, options.method)
        if model_findings and options.model is not None:
            _method_support(result, options.model, kind, options.provider)
    weights = result.sample_weights
    if kind == "sft" and weights is not None:
        missing = weights.finding(options.profile)
        if missing is not None:
            result.emit_at(None, "sample_weight_missing", "", missing)
    _size_findings(result, name, size, examples, minimum_examples, options.profile)
    stats: dict[str, Any] = {}
    quality = result.quality
    if quality is not None:
        stats = _quality_findings(result, quality, options)
    if result.tokens is not None:
        result.tokens.explain_skipped(result.lines - result.blank, result.counts)

    issues = [
        Issue(code, CODES[code].severity, line, path, message, hint or CODES[code].hint, name)
        for code, bucket in result.samples.items()
        for line, path, message, hint in bucket
    ]
    issues.sort(key=issue_order)
    return ScanResult(
        source=name,
        kind=kind,
        examples=examples,
        lines=result.lines,
        blank_lines=result.blank,
        size_bytes=size,
        counts=dict(sorted(result.counts.items())),
        issues=issues,
        stats=stats,
        tokens=result.tokens,
        model=options.model,
        method=options.method,
        workers=workers,
        quality=quality,
    )


def _kind(result: LinePass, method: Kind | None) -> Kind | None:
    """The file's kind: the method asked for, else the kind of its first record."""
    if method is not None or not result.kind_first:
        return method
    firsts = result.kind_first
    return "sft" if firsts.get("sft", sys.maxsize) < firsts.get("dpo", sys.maxsize) else "dpo"


def _kind_findings(result: LinePass, kind: Kind, examples: int, method: Kind | None) -> None:
    """A file of prompts only (RFT's shape), and records of the other kind."""
    if kind == "sft" and examples > 1 and result.counts.get("no_assistant_message") == examples:
        # Not one example has a reply: a file of prompts (RFT's shape), not missing replies.
        result.samples["no_assistant_message"] = [
            (line, path, message if "(RFT)" in message else f"{message}; {_RFT_FILE}", hint)
            for line, path, message, hint in result.samples["no_assistant_message"]
        ]
    other: Kind = "dpo" if kind == "sft" else "sft"
    code = "method_mismatch" if method else "mixed_kinds"
    reason = (
        f"the method is {kind.upper()}"
        if method
        else f"the file is {kind.upper()} (first record on line {result.kind_first.get(kind)})"
    )
    for line in result.kind_lines[other]:
        result.emit_at(line, code, "", f"this line is a {other.upper()} record but {reason}")
    hidden = result.kind_counts[other] - len(result.kind_lines[other])
    if hidden > 0:
        result.counts[code] = result.counts.get(code, 0) + hidden


def _method_support(result: LinePass, model: str, kind: Kind, provider: str | None) -> None:
    info = lookup_model(model, provider)
    if info is not None and info.fine_tunable and kind not in info.methods:
        where = f" on {provider_name(provider)}" if provider else ""
        result.emit_at(
            None,
            "method_not_supported",
            "",
            f"{model!r} does not support {kind.upper()} fine-tuning{where} (it supports "
            f"{', '.join(sorted(m.upper() for m in info.methods))})",
        )


def _size_findings(
    result: LinePass,
    name: str | None,
    size: int | None,
    examples: int,
    minimum: bool,
    profile: Profile,
) -> None:
    """An empty file, too few or too many examples for the provider (its profile's bounds),
    a file too large for the Files or Uploads API."""
    emit = result.emit_at
    where = provider_name(profile.provider)
    if result.lines - result.blank == 0 and not _FILE_CODES.intersection(result.counts):
        emit(None, "empty_file", "", "the file has no examples" if name else "no items were given")
    elif minimum and examples:
        least = profile.min_examples
        if examples < least:
            # A profile with a minimum of its own (Fireworks: 3) names its provider; the
            # shared one keeps OpenAI's words and the code's own hint.
            shared = least == DEFAULT_PROFILE.min_examples
            emit(
                None,
                "too_few_examples",
                "",
                f"{examples} example{'' if examples == 1 else 's'}; the minimum for "
                f"fine-tuning{'' if shared else f' on {where}'} is {least}",
                None if shared else f"add examples: {where} requires at least {least}",
            )
        elif examples < RECOMMENDED_EXAMPLES:
            emit(
                None,
                "few_examples",
                "",
                f"{examples} examples; at least {RECOMMENDED_EXAMPLES} are recommended",
            )
    most = profile.max_examples
    if most is not None and examples > most:
        emit(
            None,
            "too_many_examples",
            "",
            f"{examples:,} examples; {where} takes at most {most:,} per file",
        )
    if size is not None and size > UPLOADS_API_LIMIT:
        emit(
            None,
            "file_too_large",
            "",
            f"the file is {size / 2**30:.1f} GiB; the Uploads API takes at most 8 GB",
        )
    elif size is not None and size > FILES_API_LIMIT:
        emit(
            None,
            "uses_uploads_api",
            "",
            f"the file is {size / 2**20:,.0f} MiB, over the 512 MB Files API limit",
        )


def _quality_findings(
    result: LinePass, quality: QualityStats, options: PassOptions
) -> dict[str, Any]:
    """Duplicates, prompts, long responses and the stats' own findings; returns the stats."""
    exact = _duplicates(result, quality)
    near = _near_duplicates(result, quality, options.near_duplicates, exact)
    if options.inference_system_prompt is None:  # else system_prompt_mismatch says it
        _system_prompts(result, quality)
    _long_responses(result, quality)
    for at, code, path, message in quality.findings(options.inference_system_prompt):
        result.emit_at(at, code, path, message)
    stats = quality.summary(options.inference_system_prompt)
    if near is not None:
        stats["near_duplicates"] = near
    return stats


def _duplicates(result: LinePass, quality: QualityStats) -> set[int]:
    """Report exact repeats; returns their lines (near-duplicate search leaves them out)."""
    lines: set[int] = set()
    for line, first in quality.duplicates():
        result.emit_at(line, "duplicate_example", "", f"this example repeats line {first}")
        lines.add(line)
    return lines


def _near_duplicates(
    result: LinePass, quality: QualityStats, threshold: float | None, exact: set[int]
) -> dict[str, Any] | None:
    """Report near-duplicate pairs; returns the report's ``stats["near_duplicates"]``."""
    index = quality.near
    if index is None or threshold is None:
        return None
    pairs = find_near_pairs(index, threshold, exact)
    for line, other, score in pairs:
        result.emit_at(
            line,
            "near_duplicate",
            "",
            f"this example nearly repeats line {other} (estimated similarity {score:.2f})",
        )
    return near_summary(index, threshold, pairs)


def _system_prompts(result: LinePass, quality: QualityStats) -> None:
    prompts = quality.prompts
    if len(prompts) < 2:
        return
    total = sum(count for count, _ in prompts.values()) + quality.prompts_dropped
    key, (top, top_line) = max(prompts.items(), key=lambda item: (item[1][0], -item[1][1]))
    if top < _SYSTEM_SHARE * total:
        return  # prompts vary by design (no dominant prompt): nothing unexpected
    shared = (
        f"{top} of {total} examples have no system prompt"
        if key == NO_SYSTEM
        else f"{top} of {total} examples share the system prompt on line {top_line}"
    )
    variants = sorted(
        (first, count, other) for other, (count, first) in prompts.items() if other != key
    )
    for first, count, other in variants:
        what = (
            "has no system prompt"
            if other == NO_SYSTEM
            else "has a different system prompt"
            if key != NO_SYSTEM
            else "has a system prompt"
        )
        more = f" ({count} examples like it)" if count > 1 else ""
        result.emit_at(
            first,
            "system_prompt_varies",
            "messages[0]" if other != NO_SYSTEM else "",
            f"this example {what}{more}, while {shared}",
        )


def _long_responses(result: LinePass, quality: QualityStats) -> None:
    histogram = quality.response_chars
    median = histogram.quantile(0.5)
    if median is None or histogram.count < 5:
        return
    threshold = max(_LONG_MIN_CHARS, _LONG_FACTOR * max(1, median))
    for line, chars in sorted(quality.longest_responses()):
        if chars >= threshold:
            result.emit_at(
                line,
                "long_response",
                "",
                f"an assistant response of {chars:,} characters; the median is {median:,}",
            )
