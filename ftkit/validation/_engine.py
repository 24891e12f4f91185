"""The one streaming pass: parse, check, count tokens and gather quality signals.

:func:`scan` reads a JSONL file (or in-memory records) once and is what
:func:`ftkit.validate` and :func:`ftkit.estimate` are built on. This module
checks its arguments and the model, then hands the lines to the pass that
fits: the per-line pass (``_line_pass``) in-process for small files and items,
the process-pool scheduler (``_scheduler``) for large files; the file-level
conclusions (``_conclusions``) come last.

Memory does not grow with the file: per code only the first ``max_per_code``
findings are kept (the rest are counted), the duplicate index holds an 8-byte
hash and a line number per example, and distributions are histograms.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._exceptions import FtkitError, UsageError
from ..jsonl import iter_lines, sniff_file
from ..providers import lookup_model, providers
from ..providers._names import provider_name
from ._conclusions import ScanResult, conclude
from ._line_pass import Kind, LinePass, PassOptions
from ._near_duplicates import AUTO_MAX_BYTES as AUTO_NEAR_MAX_BYTES
from ._near_duplicates import DEFAULT_THRESHOLD as DEFAULT_NEAR_THRESHOLD
from ._near_duplicates import MIN_THRESHOLD as MIN_NEAR_THRESHOLD
from ._profiles import profile_for
from ._scheduler import scan_parallel, worker_count

if TYPE_CHECKING:
    import datetime

    from ..tokens.counting import TokenCounter

__all__ = ["DEFAULT_MAX_PER_CODE", "scan"]

DEFAULT_MAX_PER_CODE = 20
_PROGRESS_LINES = 4096  # lines between progress reports of an in-process pass
_BOM_MESSAGE = (
    "the file starts with a UTF-8 byte-order mark (EF BB BF); ftkit reads past it, but "
    "whether every provider does is not documented, and tools that read lines as plain "
    "UTF-8 fail on it (Python's json.loads on the first line; files joined with cat, "
    "where the mark lands mid-file)"
)
_METHODS: dict[str, Kind] = {"sft": "sft", "supervised": "sft", "dpo": "dpo"}


def scan(
    source: str | os.PathLike[str] | Iterable[Any],
    *,
    model: str | None = None,
    method: str | None = None,
    provider: str | None = None,
    checks: bool = True,
    workers: int | None = None,
    max_per_code: int = DEFAULT_MAX_PER_CODE,
    minimum_examples: bool = True,
    model_findings: bool = True,
    progress: Callable[[int, int], object] | None = None,
    today: datetime.date | None = None,
    inference_system_prompt: str | None = None,
    near_duplicates: float | bool | str | None = "auto",
) -> ScanResult:
    """Read a source once: structural checks, token counts and (optionally) quality checks.

    Args:
        source: a JSONL path, or an iterable of dicts, records or JSON lines.
        model: the model to train; enables model checks and token counting.
        method: ``"sft"`` (or ``"supervised"``) or ``"dpo"``; ``None`` detects it
            from the first record.
        provider: whose catalog entry of ``model`` applies (methods, features,
            limits, dates) and whose rules the records get (Together's role alternation,
            base64 images, weights); ``None``: the first provider that lists it,
            ``openai`` first.
        checks: ``False`` skips the dataset-quality checks (duplicates, system
            prompts, secrets, long responses), for a pass that only counts tokens.
        workers: processes to use for a file, the calling one included; ``None``
            chooses (one for files under 8 MiB, or 64 MiB where workers cannot be
            forked, else one per CPU), ``1`` stays in-process.
        max_per_code: findings kept per code; the rest are only counted.
        minimum_examples: check the minimum example count (off for validation files).
        model_findings: report model-level findings (unknown model, method,
            shutdown); off for a validation file, whose training file reports them.
        progress: called now and then with (bytes read, examples seen) of a file.
        today: the date a shutdown date is compared with (UTC today by default):
            a model retired by then is an error (``model_retired``).
        inference_system_prompt: the system prompt used at inference (``""``: none);
            examples trained with another are ``system_prompt_mismatch``.
        near_duplicates: the similarity (0.5 to 1) at which two examples are
            ``near_duplicate``; ``True`` for the default (0.8); ``"auto"``: 0.8 for
            in-memory items and files up to 32 MiB, no search for larger files;
            ``None``/``False``: no search. Needs ``checks``.

    Raises:
        UsageError: a missing file, an unknown method or provider, a bad ``workers``,
            ``max_per_code`` or ``near_duplicates`` value.
    """
    kind = _method(method)
    if provider is not None and provider not in providers():
        raise UsageError(
            f"unknown provider {provider!r}; the model catalog has {list(providers())} "
            "(add one with ftkit.providers.register_file)"
        )
    if isinstance(max_per_code, bool) or not isinstance(max_per_code, int) or max_per_code < 0:
        raise UsageError(f"max_per_code must be a whole number >= 0, got {max_per_code!r}")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise UsageError(f"workers must be a whole number >= 1, got {workers!r}")

    file_issues: list[tuple[str, str]] = []
    vision: bool | None = None
    counter: TokenCounter | None = None
    if model is not None:
        if not isinstance(model, str) or not model.strip():
            raise UsageError("model must be a model name such as 'gpt-4.1-mini-2025-04-14'")
        model_issues: list[tuple[str, str]] = []
        vision = _model_issues(model, model_issues, today, provider)
        counter = _make_counter(model, model_issues, provider)
        if model_findings:
            file_issues += model_issues
    if inference_system_prompt is not None and not isinstance(inference_system_prompt, str):
        raise UsageError(
            "inference_system_prompt must be a string, "
            f"got {type(inference_system_prompt).__name__}"
        )
    near, near_skipped = _near_option(near_duplicates, source)
    options = PassOptions(
        model,
        kind,
        checks,
        max_per_code,
        vision,
        inference_system_prompt,
        near_duplicates=near if checks else None,
        provider=provider,
        profile=profile_for(_rules_of(model, provider)),
    )

    if isinstance(source, (str, os.PathLike)):
        name: str | None = str(source)
        result, size, count = _read_file(Path(source), options, counter, workers, progress)
    elif isinstance(source, (bytes, bytearray)) or not isinstance(source, Iterable):
        raise UsageError(
            f"source must be a JSONL path or an iterable of records, got {type(source).__name__}"
        )
    else:
        size, count, name = None, 1, None
        result = LinePass(options, counter)
        for number, item in enumerate(source, 1):
            result.feed_item(number, item)
        result.end()
    scanned = conclude(
        result, name, size, count, options, file_issues, minimum_examples, model_findings
    )
    if near_skipped and checks:
        scanned.stats["near_duplicates"] = {
            "threshold": None,
            "skipped": f"the file is over {AUTO_NEAR_MAX_BYTES // 2**20} MiB",
        }
    return scanned


def _read_file(
    path: Path,
    options: PassOptions,
    counter: TokenCounter | None,
    workers: int | None,
    progress: Callable[[int, int], object] | None,
) -> tuple[LinePass, int, int]:
    """Pass over a file in-process or with workers; returns the pass, the size, the workers."""
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    size = path.stat().st_size
    count = worker_count(workers, size)
    sniffed = sniff_file(path)
    problem = sniffed.problem
    if problem is not None:
        # UTF-16, binary data, pretty-printed JSON: one finding, no line is checked.
        count = 1
        result = LinePass(options, counter)
        result.emit_at(problem.line, problem.code, "", problem.message)
        result.lines = _count_lines(path)
    elif count > 1:
        result = scan_parallel(path, size, options, counter, count, progress)
    else:
        result = LinePass(options, counter)
        for raw in iter_lines(path, skip_blank=False):
            result.feed_line(raw.number, raw.data)
            if progress is not None and not raw.number % _PROGRESS_LINES:
                progress(raw.offset + len(raw.data), sum(result.kind_counts.values()))
        result.end()
    if sniffed.bom and problem is None:
        # Read as UTF-8 (iter_lines drops it), but a risk outside ftkit: warned once.
        result.emit_at(1, "utf8_bom", "", _BOM_MESSAGE)
    if progress is not None:
        progress(size, sum(result.kind_counts.values()))
    return result, size, count


def _count_lines(path: Path) -> int:
    """Physical lines of a file (a last line without ``\\n`` counts), read in blocks."""
    lines = 0
    last = b"\n"
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + int(last != b"\n")


def _method(method: str | None) -> Kind | None:
    if method is None:
        return None
    kind = _METHODS.get(method) if isinstance(method, str) else None
    if kind is None:
        raise UsageError(
            f"method must be 'sft' (or 'supervised') or 'dpo', got {method!r}; "
            "reinforcement fine-tuning files are not validated by ftkit"
        )
    return kind


def _model_issues(
    model: str,
    out: list[tuple[str, str]],
    today: datetime.date | None = None,
    provider: str | None = None,
) -> bool | None:
    """Model-level findings; returns whether the model takes images (None: unknown)."""
    info = lookup_model(model, provider)
    where = f" on {provider_name(provider)}" if provider else ""
    if info is None:
        out.append(
            (
                "unknown_model",
                f"ftkit has no data about {model!r}{where}: fine-tunability, methods, vision "
                "and the per-example limit are not checked",
            )
        )
        return None
    if not info.fine_tunable:
        out.append(
            ("model_not_fine_tunable", f"{model!r} cannot be fine-tuned{where}: {info.note}")
        )
        return None
    if info.retired(today):
        # The provider refuses every new job from that day on: as an error, like ``run``.
        out.append(
            (
                "model_retired",
                f"{info.name} was shut down on {info.shutdown}: no new fine-tuning jobs "
                "can be created on it or on its fine-tunes",
            )
        )
    elif info.shutdown:
        out.append(
            (
                "model_shutdown",
                f"{info.name} and its fine-tunes are announced to shut down on {info.shutdown}",
            )
        )
    return "vision" in info.features


def _rules_of(model: str | None, provider: str | None) -> str | None:
    """Whose rules a file gets: the provider named, else the one whose catalog lists the model.

    ``validate(path, model="meta-llama/Llama-3.3-70B-Instruct-Reference")`` thus gets
    Together's rules without ``provider="together"``; a model OpenAI lists gets OpenAI's.
    """
    if provider is not None or model is None or not isinstance(model, str):
        return provider
    info = lookup_model(model)
    return info.provider if info is not None else None


def _make_counter(
    model: str, out: list[tuple[str, str]], provider: str | None = None
) -> TokenCounter | None:
    from ..tokens.counting import TokenCounter

    try:
        counter = TokenCounter(model, provider=provider)
    except FtkitError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        out.append(("tokens_unavailable", f"tokens are not counted: {first}"))
        return None
    return counter


def _near_option(value: object, source: object) -> tuple[float | None, bool]:
    """The threshold of a ``near_duplicates`` argument, and whether ``"auto"`` turned it off."""
    if value == "auto":
        if isinstance(source, (str, os.PathLike)):
            try:
                if os.path.getsize(source) > AUTO_NEAR_MAX_BYTES:
                    return None, True
            except OSError:
                pass  # scan() reports the missing file
        return DEFAULT_NEAR_THRESHOLD, False
    return _near_threshold(value), False


def _near_threshold(value: object) -> float | None:
    """A ``near_duplicates`` argument as a threshold: ``None``/``False`` off, ``True`` default."""
    if value is None or value is False:
        return None
    if value is True:
        return DEFAULT_NEAR_THRESHOLD
    if not isinstance(value, (int, float)) or not MIN_NEAR_THRESHOLD <= value <= 1:
        raise UsageError(
            f"near_duplicates must be a similarity from {MIN_NEAR_THRESHOLD} to 1 "
            f"(e.g. {DEFAULT_NEAR_THRESHOLD}), True, 'auto', or None/False for no search; "
            f"got {value!r}"
        )
    return float(value)
