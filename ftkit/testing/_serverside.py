"""What the service decides about a training file once a job starts validating it.

Two seams, each one function, so the fake judges a file with ftkit's own
rules and bills it with ftkit's own counts:

- :func:`inspect_training_file` is the server-side file validation: ftkit's
  validator, through :func:`ftkit.validation.scan_file`, the same rules per
  file role (training or validation file) that ``ftkit.validate`` and
  ``FineTune.plan()`` apply. A bad file makes the job fail with the error
  code, message and param the real service reports, instead of failing at upload;
- :func:`count_example_tokens` is the token count behind ``trained_tokens``
  (ftkit's analyzer).

The defaults the service picks for ``"auto"`` hyperparameters live here too.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import tempfile
from dataclasses import dataclass
from typing import Any, Literal

from .._exceptions import FtkitError, RecordError
from ..providers import ModelInfo

__all__ = [
    "FileReport",
    "auto_batch_size",
    "auto_epochs",
    "count_example_tokens",
    "inspect_training_file",
]

log = logging.getLogger("ftkit.testing")

MethodType = Literal["supervised", "dpo", "reinforcement"]


@dataclass(frozen=True)
class FileReport:
    """The verdict on one file: its size in examples and tokens, or why it is unusable.

    Attributes:
        examples: number of examples (non-blank lines).
        tokens: total tokens of one pass over the file (one epoch).
        truncated: examples longer than the model's context limit (trained truncated).
        error_message: the reason the job must fail, or None if the file is usable.
    """

    examples: int
    tokens: int
    truncated: int = 0
    error_message: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_message is None


# Findings about the model, not the file: the fake decides those itself at job creation,
# from its own models (the catalog's, which tests may extend), vision from ModelInfo.features.
_MODEL_CODES = frozenset(
    {
        "unknown_model",
        "model_not_fine_tunable",
        "method_not_supported",
        "model_retired",
        "model_shutdown",
        "images_not_supported",
        "tokens_unavailable",
    }
)


def inspect_training_file(
    content: bytes, *, method: MethodType, model: ModelInfo, is_validation_file: bool = False
) -> FileReport:
    """Validate a training (or validation) file the way the service does before training.

    SFT and DPO files go through :func:`ftkit.validation.scan_file` with the
    file's role, reading the uploaded bytes as ``ftkit validate FILE`` reads a
    file: its first error is what the job reports. Model findings are left to
    the fake's own catalogue (checked at job creation). Reinforcement lines need
    ``messages`` and may carry grader keys. Images need a vision model.

    Args:
        content: the raw bytes of the uploaded file.
        method: the job's method type.
        model: the base model being trained.
        is_validation_file: the job's validation file (no minimum count).

    Returns:
        A :class:`FileReport`; ``error_message`` is set when the job must fail.
    """
    if method == "reinforcement":
        try:
            lines = content.decode("utf-8").splitlines()
        except UnicodeDecodeError as exc:
            return FileReport(
                0, 0, error_message=f"Invalid file format. The file is not UTF-8 ({exc})."
            )
        return _inspect_reinforcement(lines, model, is_validation_file)
    result = _scan_bytes(
        content, model=model.name, method=method, is_validation_file=is_validation_file
    )
    from ..validation import Severity

    examples = result.examples
    for issue in result.issues:
        if issue.severity is not Severity.ERROR or issue.code in _MODEL_CODES:
            continue
        if issue.code == "too_few_examples":
            return FileReport(examples, 0, error_message=_too_few(examples))
        where = f"Line {issue.line}" if issue.line is not None else "File"
        if issue.path:
            where += f", key {issue.path!r}"
        return FileReport(
            examples, 0, error_message=f"Invalid file format. {where}: {issue.message}"
        )
    lines = _text_lines(content)
    if "vision" not in model.features and b'"image_url"' in content:
        for line_no, line in enumerate(lines, start=1):
            if line.strip() and _has_image(_loads(line)):
                return FileReport(examples, 0, error_message=_no_vision(line_no, model))
    stats = result.tokens
    if stats is not None and stats.examples:
        return FileReport(examples, stats.billed_tokens, stats.over_limit)
    # The validator could not count (a model it has no tokenizer for): count here.
    return _count_lines(lines, model, is_validation_file)


def _scan_bytes(content: bytes, *, model: str, method: MethodType, is_validation_file: bool) -> Any:
    """The validator's verdict on an uploaded file, read from disk like any JSONL file.

    A temporary file (not a list of lines) so the bytes meet the very reader
    ``ftkit validate`` uses: line endings, a BOM, encodings and all.
    """
    from ..validation import scan_file

    handle, name = tempfile.mkstemp(prefix="ftkit-fake-", suffix=".jsonl")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        return scan_file(
            name,
            model=model,
            method="dpo" if method == "dpo" else "sft",
            validation_file=is_validation_file,
            workers=1,
            max_per_code=1,
        )
    finally:
        os.unlink(name)


def _text_lines(content: bytes) -> list[str]:
    """The lines of a file the validator accepted, split as its reader splits them (on LF)."""
    text = content.decode("utf-8-sig", errors="replace")
    return [line.removesuffix("\r") for line in text.split("\n")]


def _loads(line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return None


def _min_examples() -> int:
    from ..validation import MIN_EXAMPLES

    return MIN_EXAMPLES


def _too_few(examples: int) -> str:
    return (
        f"Training file has {examples} example(s), but must have at least "
        f"{_min_examples()} examples."
    )


def _no_vision(line_no: int, model: ModelInfo) -> str:
    return (
        f"Invalid file format. Line {line_no}: images are not supported for fine-tuning "
        f"{model.name}; vision fine-tuning needs a vision model such as gpt-4o-2024-08-06."
    )


def _inspect_reinforcement(
    lines: list[str], model: ModelInfo, is_validation_file: bool
) -> FileReport:
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            _reinforcement_line(line, line_no)
        except RecordError as exc:
            where = f"Line {exc.line}" + (f", key {exc.path!r}" if exc.path else "")
            return FileReport(0, 0, error_message=f"Invalid file format. {where}: {exc.reason}")
    return _count_lines(lines, model, is_validation_file)


def _count_lines(lines: list[str], model: ModelInfo, is_validation_file: bool) -> FileReport:
    examples = tokens = truncated = 0
    for line in lines:
        if not line.strip():
            continue
        examples += 1
        example = _loads(line)
        count = count_example_tokens(example if isinstance(example, dict) else {}, model=model.name)
        limit = model.limit()
        if limit is not None and count > limit:
            truncated += 1
            count = limit
        tokens += count
    if not is_validation_file and examples < _min_examples():
        return FileReport(examples, tokens, truncated, error_message=_too_few(examples))
    if examples == 0:
        return FileReport(0, 0, error_message="Invalid file format. The file has no examples.")
    return FileReport(examples, tokens, truncated)


def _reinforcement_line(line: str, line_no: int) -> dict[str, Any]:
    try:
        obj = json.loads(line)
    except ValueError as exc:
        raise RecordError(f"invalid JSON: {exc}", line=line_no, code="invalid_json") from None
    if not isinstance(obj, dict):
        raise RecordError("each line must be a JSON object", line=line_no, code="not_an_object")
    messages = obj.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RecordError(
            "a reinforcement example needs a non-empty messages list",
            line=line_no,
            path="messages",
            code="missing_field",
        )
    return obj


def _has_image(obj: Any) -> bool:
    if isinstance(obj, dict):
        if obj.get("type") == "image_url":
            return True
        return any(_has_image(v) for v in obj.values())
    if isinstance(obj, list):
        return any(_has_image(v) for v in obj)
    return False


def count_example_tokens(example: dict[str, Any], *, model: str) -> int:
    """Tokens one example is billed for per epoch: the count behind ``trained_tokens``.

    Uses ftkit's analyzer (:class:`ftkit.tokens.counting.TokenCounter`, OpenAI's
    chat counting rules, capped at the model's per-example limit). For a model
    the analyzer cannot tokenize, a rough estimate (4 bytes a token) keeps the
    fake running, with a warning.
    """
    counter = _counter(model)
    if counter is None:
        return math.ceil(len(json.dumps(example).encode()) / 4)
    return int(counter.count(example).billed)


@functools.lru_cache(maxsize=32)
def _counter(model: str) -> Any:
    from ..tokens.counting import TokenCounter

    try:
        return TokenCounter(model)
    except FtkitError as exc:
        log.warning("no tokenizer for %s (%s); trained_tokens is estimated from bytes", model, exc)
        return None


def auto_epochs(examples: int) -> int:
    """The epoch count the service picks for ``n_epochs="auto"`` (the cookbook's rule, facts §6)."""
    n = max(1, examples)
    if 3 * n < 100:
        return min(25, 100 // n)
    if 3 * n > 25_000:
        return max(1, 25_000 // n)
    return 3


def auto_batch_size(examples: int) -> int:
    """The batch size picked for ``batch_size="auto"``: about 0.2 % of the examples, 1 to 256."""
    return min(256, max(1, round(examples * 0.002)))
