"""The one streaming pass: parse, check, count tokens and gather quality signals.

:func:`scan` reads a JSONL file (or in-memory records) once. Each line is
decoded with the stdlib JSON decoder and checked as a plain dict; when a
model is given, every structurally valid example is counted with the
analyzer's :class:`~ftkit.tokens.counting.TokenCounter` into a
:class:`~ftkit.tokens.TokenStats`. :func:`ftkit.validate` and
:func:`ftkit.estimate` are both built on it.

Large files are split into byte ranges that start on line boundaries and are
scanned by worker processes, the calling process being one of them; a worker
numbers lines from 1 within its chunk and the parent shifts them when it
merges, so no worker needs to know where its chunk sits in the file. The
tokenizer is loaded before the workers are forked, so they share it instead
of loading their own. Small files stay in-process.

Memory does not grow with the file: per code only the first ``max_per_code``
findings are kept (the rest are counted), the duplicate index holds an 8-byte
hash and a line number per example, and distributions are histograms.
"""

from __future__ import annotations

import itertools
import json
import logging
import multiprocessing
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .._exceptions import FtkitError, UsageError
from ..jsonl import iter_lines, sniff_file, utf8_error
from ..schema.formats import describe_foreign, detect_kind
from ._checks_dpo import check_dpo
from ._checks_sft import CheckContext, MessageSummary, check_sft
from ._issues import CODES, Issue, Severity, issue_order
from ._models import lookup_model
from ._near_duplicates import AUTO_MAX_BYTES as AUTO_NEAR_MAX_BYTES
from ._near_duplicates import DEFAULT_THRESHOLD as DEFAULT_NEAR_THRESHOLD
from ._near_duplicates import MIN_THRESHOLD as MIN_NEAR_THRESHOLD
from ._near_duplicates import NearDuplicateIndex
from ._near_duplicates import find_pairs as find_near_pairs
from ._near_duplicates import summary as near_summary
from ._quality import (
    NO_SYSTEM,
    QualityStats,
    find_secrets,
    find_special_tokens,
    line_has_secret,
    line_has_special_token,
    line_has_surrogate_escape,
    walk_strings,
)

if TYPE_CHECKING:
    import datetime

    from ..tokens.counting import TokenCounter
    from ..tokens.stats import TokenStats

__all__ = ["ScanResult", "scan"]

logger = logging.getLogger("ftkit.validation")

Kind = Literal["sft", "dpo"]

MIN_EXAMPLES = 10
"""OpenAI's minimum number of training examples."""
RECOMMENDED_EXAMPLES = 50
FILES_API_LIMIT = 512 * 1024 * 1024
UPLOADS_API_LIMIT = 8 * 1024 * 1024 * 1024
DEFAULT_MAX_PER_CODE = 20
_PROGRESS_LINES = 4096  # lines between progress reports of an in-process pass

PARALLEL_MIN_BYTES = 8 * 1024 * 1024
"""Files smaller than this are scanned in-process unless ``workers`` asks otherwise.

Forked workers start in milliseconds and inherit the loaded tokenizer, so a few
megabytes already pay for them."""
SPAWN_PARALLEL_MIN_BYTES = 64 * 1024 * 1024
"""The same where workers must be spawned (no fork): each imports ftkit and loads a tokenizer."""
_CHUNK_MIN = 512 * 1024
_CHUNK_MAX = 64 * 1024 * 1024
_CHUNKS_PER_WORKER = 8
_SYSTEM_SHARE = 0.8
"""A system prompt used by this share of examples is "the" prompt; others are flagged."""
_COUNT_BATCH = 8
_COUNT_BATCH_BYTES = 1 << 20
"""Examples wait for their token count until this many (or this many bytes) are decoded."""
_LONG_FACTOR = 20
_LONG_MIN_CHARS = 2000
_OPEN_MAX_LINES = 10_000
_OPEN_MAX_BYTES = 8 * 1024 * 1024
"""A record spread over more lines (or bytes) than this is reported line by line."""
_ALIGN_MAX_BYTES = 1024 * 1024
"""How far a chunk start moves forward to reach a line that opens a record."""
_FILE_CODES = frozenset({"utf16_file", "binary_file", "multiline_json"})
"""Codes :func:`~ftkit.jsonl.sniff` reports for a whole file."""

_RFT_FILE = (
    "no example of the file has one, so it looks like a file of reinforcement fine-tuning "
    "(RFT) prompts: SFT needs the reference reply as an assistant message, and RFT files "
    "cannot train with SFT or DPO"
)
_BOM_MESSAGE = (
    "the file starts with a UTF-8 byte-order mark (EF BB BF); ftkit reads past it, but "
    "whether every provider does is not documented, and tools that read lines as plain "
    "UTF-8 fail on it (Python's json.loads on the first line; files joined with cat, "
    "where the mark lands mid-file)"
)
_ERROR_CODES = frozenset(code for code, info in CODES.items() if info.severity is Severity.ERROR)
_METHODS: dict[str, Kind] = {"sft": "sft", "supervised": "sft", "dpo": "dpo"}
_WHITESPACE = b" \t\r\n\f\v"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (use null or a number)")


_decode = json.JSONDecoder(parse_constant=_reject_constant).decode
_raw_decode = json.JSONDecoder(parse_constant=_reject_constant).raw_decode

_Sample = tuple["int | None", str, str, "str | None"]  # line, path, message, hint


_ASCII_ESCAPE = re.compile(rb"\\u00[0-7][0-9a-fA-F]")
_FLOOD_MIN_BYTES = 1 << 20
_FLOOD_MAX_SEPARATORS = 200_000


def _value_flood(data: bytes) -> int:
    """The separator count of a huge line with more values than any example (else 0).

    Same bounds as the record reader: a maximal 65,536-token conversation has a few
    thousand values; base64 images are long strings without commas.
    """
    if len(data) < _FLOOD_MIN_BYTES:
        return 0
    separators = data.count(b",") + data.count(b":")
    return separators if separators > _FLOOD_MAX_SEPARATORS else 0


@dataclass
class _Open:
    """Lines that may be one JSON record spread over several lines (pretty-printed).

    Opened by a line that starts a JSON value in column 0 and ends before the value
    does; the lines are held, not reported, until they complete a value (one
    ``multiline_json`` finding) or cannot (each is then read again as a line of its own).
    """

    start: int
    message: str
    """The first line's ``invalid_json`` message, reported if no record completes."""
    lines: list[tuple[int, bytes]]
    size: int
    taken: int = 0
    """Lines of the completed record (the rest followed it)."""


@dataclass(frozen=True)
class _Options:
    model: str | None
    method: Kind | None
    checks: bool
    max_per_code: int
    vision: bool | None
    inference_system_prompt: str | None = None
    near_duplicates: float | None = None
    """The similarity threshold of near-duplicate search (``None``: no search)."""


class _Pass:
    """Accumulates the findings and stats of one stream: a file, a chunk, or items.

    Picklable without its token counter, so a worker can send it back.
    """

    def __init__(self, options: _Options, counter: TokenCounter | None) -> None:
        self.options = options
        self.ctx = CheckContext(vision=options.vision, model=options.model)
        self.counter = counter
        self.counts: dict[str, int] = {}
        self.samples: dict[str, list[_Sample]] = {}
        self.kind_counts: dict[str, int] = {"sft": 0, "dpo": 0}
        self.kind_lines: dict[str, list[int]] = {"sft": [], "dpo": []}
        self.kind_first: dict[str, int] = {}
        self.lines = 0
        self.blank = 0
        self.quality: QualityStats | None = QualityStats() if options.checks else None
        if self.quality is not None and options.near_duplicates is not None:
            self.quality.near = NearDuplicateIndex()
        self.tokens: TokenStats | None = None
        if counter is not None:
            from ..tokens.stats import TokenStats

            self.tokens = TokenStats()
        self._line: int | None = None
        self._errors = 0
        self._waiting: list[tuple[int, dict[str, Any]]] = []
        self._waiting_bytes = 0
        self._open: _Open | None = None

    def __getstate__(self) -> dict[str, Any]:
        assert not self._waiting and self._open is None, "end() before sending a pass"
        state = dict(self.__dict__)
        state["counter"] = None
        return state

    # -- findings
    def emit(self, code: str, path: str, message: str, hint: str | None) -> None:
        """Record a finding on the current line (the signature checks call)."""
        self.emit_at(self._line, code, path, message, hint)

    def emit_at(
        self, line: int | None, code: str, path: str, message: str, hint: str | None = None
    ) -> None:
        counts = self.counts
        counts[code] = counts.get(code, 0) + 1
        if code in _ERROR_CODES:
            self._errors += 1
        bucket = self.samples.get(code)
        if bucket is None:
            bucket = self.samples[code] = []
        if len(bucket) < self.options.max_per_code:
            bucket.append((line, path, message, hint))

    # -- input
    def feed_line(self, number: int, data: bytes, may_open: bool = True) -> None:
        """Check one physical line of a file (without its line ending)."""
        if self._open is not None:
            self._replay([(number, data, may_open)])
            return
        self.lines = number
        self._line = number
        if not data.strip(_WHITESPACE):
            self.blank += 1
            self.emit("blank_line", "", "the line is blank", None)
            return
        separators = _value_flood(data)
        if separators:
            # Parsing would build every value first: gigabytes for a 100 MB line of numbers.
            self.emit(
                "line_too_complex",
                "",
                f"the line holds about {separators:,} JSON values ({len(data):,} bytes); "
                "it was not parsed",
                None,
            )
            return
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            self.emit("invalid_utf8", "", utf8_error(data) or "not valid UTF-8", None)
            return
        try:
            obj = _decode(text)
        except json.JSONDecodeError as exc:
            message = f"invalid JSON at column {exc.colno}: {exc.msg}"
            if text.startswith("\ufeff"):
                message = (
                    "the line starts with a byte-order mark (U+FEFF), as when files saved "
                    "with one are joined: remove it"
                )
            if may_open and text[:1] in ("{", "[") and exc.pos >= len(text.rstrip()):
                # A value opened in column 0 goes on past the line's end: maybe a record
                # spread over several lines (an indented one is a fragment of something).
                self._open = _Open(number, message, [(number, data)], len(data))
                return
            self.emit("invalid_json", "", message, None)
            return
        except RecursionError:
            self.emit("invalid_json", "", "the JSON is nested too deeply to read", None)
            return
        except ValueError as exc:
            self.emit("invalid_json", "", f"invalid JSON: {exc}", None)
            return
        self.feed_object(number, obj, data)

    def end(self) -> None:
        """Finish a stream: settle a record left open by the last lines, count waiting tokens."""
        while self._open is not None:
            self._replay(self._give_up())
        self.flush()

    def _replay(self, lines: list[tuple[int, bytes, bool]]) -> None:
        """Feed lines while a multi-line candidate is open (iteratively, never recursing)."""
        pending = lines[::-1]
        while pending:
            number, data, opens = pending.pop()
            opened = self._open
            if opened is None:
                self.feed_line(number, data, opens)
                continue
            verdict = self._extend(opened, number, data)
            if verdict == "open":
                continue
            if verdict == "record":  # lines after the record's end are read again
                pending.extend((n, d, True) for n, d in reversed(opened.lines[opened.taken :]))
                continue
            # No record: report the first line, read the others again as lines of their own
            # (after a candidate that only outgrew the caps, without opening new ones).
            again = verdict != "capped"
            pending.extend((n, d, again) for n, d, _ in reversed(self._give_up()))

    def _give_up(self) -> list[tuple[int, bytes, bool]]:
        opened = self._open
        assert opened is not None
        self._open = None
        self.emit_at(opened.start, "invalid_json", "", opened.message)
        return [(n, d, True) for n, d in opened.lines[1:]]

    def _extend(
        self, opened: _Open, number: int, data: bytes
    ) -> Literal["open", "record", "none", "capped"]:
        """Add a line to the open candidate and say what the lines now are.

        ``open``: they may still become one record; ``record``: they hold one (reported,
        the candidate is closed; lines past its end are ``opened.lines[opened.taken:]``);
        ``none``/``capped``: they cannot, or grew past the caps (the candidate stays
        open for :meth:`_give_up`).
        """
        opened.lines.append((number, data))
        opened.size += len(data) + 1
        self.lines = number
        # Only the second line (which drops a truncated line at once) and lines in column 0
        # that open or close a value can settle it: a pretty-printed record is decoded a
        # few times, not once per line.
        stripped = data.rstrip(_WHITESPACE)
        in_column_0 = data[:1] not in (b" ", b"\t")
        opens_or_closes = data[:1] in (b"{", b"[", b"}", b"]") or stripped[-1:] in (b"}", b"]")
        deciding = len(opened.lines) == 2 or (in_column_0 and opens_or_closes)
        capped = len(opened.lines) > _OPEN_MAX_LINES or opened.size > _OPEN_MAX_BYTES
        if not deciding:
            return "capped" if capped else "open"
        try:
            text = b"\n".join(line for _, line in opened.lines).decode("utf-8")
            value, stop = _raw_decode(text)
        except json.JSONDecodeError as exc:
            if exc.pos < len(text.rstrip()):
                return "none"
            return "capped" if capped else "open"
        except (ValueError, RecursionError):  # not UTF-8, NaN, nesting
            return "none"
        if text[stop:].split("\n", 1)[0].strip():
            return "none"  # the value ends inside a line: not a record of whole lines
        opened.taken = text.count("\n", 0, stop) + 1
        self._open = None
        self.emit_at(
            opened.start,
            "multiline_json",
            "",
            # A worker's line numbers are chunk-relative: shift() moves the span in the text.
            f"a JSON {'record' if isinstance(value, dict) else 'value'} spans lines "
            f"{opened.start}-{opened.start + opened.taken - 1} ({opened.taken:,} lines): "
            "write one JSON object per line",
        )
        return "record"

    def feed_item(self, number: int, item: Any) -> None:
        """Check one in-memory item: a dict, a record model, or a JSON line."""
        self.lines = number
        self._line = number
        if isinstance(item, (str, bytes)):
            # Items are values, not lines of a file: none continues another.
            self.feed_line(
                number,
                item.encode("utf-8", "surrogatepass") if isinstance(item, str) else item,
                may_open=False,
            )
            return
        to_dict = getattr(item, "to_dict", None)
        if not isinstance(item, Mapping) and to_dict is not None and hasattr(item, "kind"):
            item = to_dict()
        if not isinstance(item, Mapping):
            self.emit(
                "not_an_object",
                "",
                f"item {number} is a {type(item).__name__}, not a record or a dict",
                None,
            )
            return
        try:
            data = json.dumps(item, ensure_ascii=True, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as exc:
            self.emit("invalid_json", "", f"item {number} is not JSON data: {exc}", None)
            return
        # Round-trip to plain JSON values: the checks expect exactly what a file would hold.
        self.feed_object(number, json.loads(data), data.encode("ascii"))

    def feed_object(self, number: int, obj: Any, data: bytes) -> None:
        """Check one decoded JSON value; ``data`` is its serialised form."""
        self._line = number
        if not isinstance(obj, dict):
            self.emit(
                "not_an_object", "", f"each line must be a JSON object, got {_json_kind(obj)}", None
            )
            return
        kind = detect_kind(obj)
        if kind is None:
            self.emit(
                "unknown_format", "", describe_foreign(obj, expected=self.options.method), None
            )
            return
        self.kind_counts[kind] += 1
        self.kind_first.setdefault(kind, number)
        if len(self.kind_lines[kind]) < self.options.max_per_code:
            self.kind_lines[kind].append(number)
        errors = self._errors
        summary = (check_sft if kind == "sft" else check_dpo)(obj, self.emit, self.ctx)
        # A JSON escape of an ASCII character (``\u002d``, ``\u003c``) hides text from the
        # raw-byte pre-filters: such lines get the decoded scans too. Escapes of other
        # characters (``\u00fc``) cannot spell a key or a special token.
        escaped = b"\\u00" in data and _ASCII_ESCAPE.search(data) is not None
        if escaped or line_has_special_token(data):
            self._special_tokens(obj)
        if line_has_surrogate_escape(data):
            self._lone_surrogates(obj)
        quality = self.quality
        if quality is not None:
            if escaped or line_has_secret(data):
                self._secrets(obj)
            quality.add_example(number, data.strip(_WHITESPACE))
            if summary is not None:
                self._add_summary(quality, number, summary)
                if kind == "sft":
                    quality.add_final_answer(number, obj["messages"])
                near = quality.near
                if near is not None and self._errors == errors:
                    near.add(number, obj, kind)
        if (
            self.counter is not None
            and self._errors == errors
            and kind == (self.options.method or kind)
        ):
            waiting = self._waiting
            waiting.append((number, obj))
            self._waiting_bytes += len(data)
            if len(waiting) >= _COUNT_BATCH or self._waiting_bytes >= _COUNT_BATCH_BYTES:
                self.flush()
        elif self.tokens is not None:
            self.tokens.skip("invalid_record" if self._errors != errors else "other_kind")

    def flush(self) -> None:
        """Count the tokens of the examples that wait for it (call at the end of a stream).

        Examples are counted in small batches rather than one by one: the tokenizer's
        tables then stay in the CPU caches between texts, which the checks of the
        lines in between would otherwise evict.
        """
        counter = self.counter
        waiting = self._waiting
        if counter is None or not waiting:
            return
        stats = self.tokens
        assert stats is not None
        count = counter.count
        for number, obj in waiting:
            tokens = count(obj)
            stats.add(tokens)
            if tokens.over_limit:
                self.emit_at(
                    number,
                    "example_too_long",
                    "",
                    f"the example has {tokens.total:,} tokens, over the {counter.limit:,} "
                    f"limit of {self.options.model}; truncation from the end drops "
                    f"{tokens.trained_lost:,} of its {tokens.trained:,} trained tokens",
                )
        waiting.clear()
        self._waiting_bytes = 0

    def _add_summary(self, quality: QualityStats, number: int, summary: MessageSummary) -> None:
        quality.roles.update(summary.roles)
        quality.messages_per_example.add(len(summary.roles))
        quality.add_system_prompt(number, summary.system_prompt)
        for chars in summary.responses:
            quality.add_response(number, chars)

    def _special_tokens(self, obj: dict[str, Any]) -> None:
        for path, text in walk_strings(obj):
            if "<|" in text:
                found = find_special_tokens(text)
                if found:
                    self.emit(
                        "special_token",
                        path,
                        f"the text contains {', '.join(found)}, which the service rejects",
                        None,
                    )

    def _lone_surrogates(self, obj: dict[str, Any]) -> None:
        for path, text in walk_strings(obj):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                self.emit(
                    "invalid_unicode",
                    path,
                    "the text contains an unpaired surrogate escape (\\ud800-\\udfff)",
                    None,
                )

    def _secrets(self, obj: dict[str, Any]) -> None:
        for path, text in walk_strings(obj):
            labels = find_secrets(text)
            if labels:
                self.emit(
                    "possible_secret",
                    path,
                    f"the text contains what looks like {' and '.join(labels)}",
                    None,
                )

    # -- combining chunks
    def shift(self, offset: int) -> None:
        """Make chunk-relative line numbers absolute."""
        if not offset:
            return
        for code, bucket in self.samples.items():
            self.samples[code] = [
                (line + offset if line is not None else None, path, message, hint)
                for line, path, message, hint in bucket
            ]
        spread = self.samples.get("multiline_json")
        if spread:
            self.samples["multiline_json"] = [
                (line, path, _shift_span(message, offset), hint)
                for line, path, message, hint in spread
            ]
        for kind, lines in self.kind_lines.items():
            self.kind_lines[kind] = [line + offset for line in lines]
        self.kind_first = {kind: line + offset for kind, line in self.kind_first.items()}
        if self.quality is not None:
            self.quality.shift(offset)

    def merge(self, other: _Pass) -> None:
        """Append the results of the chunk that follows this one."""
        for code, count in other.counts.items():
            self.counts[code] = self.counts.get(code, 0) + count
        limit = self.options.max_per_code
        for code, bucket in other.samples.items():
            mine = self.samples.setdefault(code, [])
            mine.extend(bucket[: max(0, limit - len(mine))])
        for kind in ("sft", "dpo"):
            self.kind_counts[kind] += other.kind_counts[kind]
            mine_lines = self.kind_lines[kind]
            mine_lines.extend(other.kind_lines[kind][: max(0, limit - len(mine_lines))])
            if kind in other.kind_first:
                self.kind_first.setdefault(kind, other.kind_first[kind])
        self.lines += other.lines
        self.blank += other.blank
        self._errors += other._errors
        if self.quality is not None and other.quality is not None:
            self.quality.merge(other.quality)
        if self.tokens is not None and other.tokens is not None:
            self.tokens.merge(other.tokens)


_SPAN = re.compile(r"spans lines (\d+)-(\d+)")


def _shift_span(message: str, offset: int) -> str:
    """A ``multiline_json`` message with its chunk-relative line span made absolute."""
    return _SPAN.sub(
        lambda m: f"spans lines {int(m[1]) + offset}-{int(m[2]) + offset}", message, count=1
    )


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)


# ---------------------------------------------------------------- results


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
        return sum(n for code, n in self.counts.items() if code in _ERROR_CODES)


# ---------------------------------------------------------------- the pass


def scan(
    source: str | os.PathLike[str] | Iterable[Any],
    *,
    model: str | None = None,
    method: str | None = None,
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
        UsageError: a missing file, an unknown method, a bad ``workers``,
            ``max_per_code`` or ``near_duplicates`` value.
    """
    kind = _method(method)
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
        vision = _model_issues(model, model_issues, today)
        counter = _make_counter(model, model_issues)
        if model_findings:
            file_issues += model_issues
    if inference_system_prompt is not None and not isinstance(inference_system_prompt, str):
        raise UsageError(
            "inference_system_prompt must be a string, "
            f"got {type(inference_system_prompt).__name__}"
        )
    near, near_skipped = _near_option(near_duplicates, source)
    options = _Options(
        model,
        kind,
        checks,
        max_per_code,
        vision,
        inference_system_prompt,
        near_duplicates=near if checks else None,
    )

    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise UsageError(f"no such file: {path}")
        size = path.stat().st_size
        count = _workers(workers, size)
        sniffed = sniff_file(path)
        problem = sniffed.problem
        if problem is not None:
            # UTF-16, binary data, pretty-printed JSON: one finding, no line is checked.
            count = 1
            result = _Pass(options, counter)
            result.emit_at(problem.line, problem.code, "", problem.message)
            result.lines = _count_lines(path)
        elif count > 1:
            result = _scan_parallel(path, size, options, counter, count, progress)
        else:
            result = _Pass(options, counter)
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
        name: str | None = str(source)
    elif isinstance(source, (bytes, bytearray)) or not isinstance(source, Iterable):
        raise UsageError(
            f"source must be a JSONL path or an iterable of records, got {type(source).__name__}"
        )
    else:
        size, count, name = None, 1, None
        result = _Pass(options, counter)
        for number, item in enumerate(source, 1):
            result.feed_item(number, item)
        result.end()
    scanned = _finish(
        result, name, size, count, options, file_issues, minimum_examples, model_findings
    )
    if near_skipped and checks:
        scanned.stats["near_duplicates"] = {
            "threshold": None,
            "skipped": f"the file is over {AUTO_NEAR_MAX_BYTES // 2**20} MiB",
        }
    return scanned


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
    model: str, out: list[tuple[str, str]], today: datetime.date | None = None
) -> bool | None:
    """Model-level findings; returns whether the model takes images (None: unknown)."""
    info = lookup_model(model)
    if info is None:
        out.append(
            (
                "unknown_model",
                f"ftkit has no data about {model!r}: fine-tunability, methods, vision and "
                "the per-example limit are not checked",
            )
        )
        return None
    if not info.fine_tunable:
        out.append(("model_not_fine_tunable", f"{model!r} cannot be fine-tuned: {info.note}"))
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
    return info.vision


def _make_counter(model: str, out: list[tuple[str, str]]) -> TokenCounter | None:
    from ..tokens.counting import TokenCounter

    try:
        counter = TokenCounter(model)
    except FtkitError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        out.append(("tokens_unavailable", f"tokens are not counted: {first}"))
        return None
    _COUNTERS[model] = counter
    return counter


def _workers(requested: int | None, size: int) -> int:
    if requested is not None:
        return requested
    threshold = PARALLEL_MIN_BYTES if _can_fork() else SPAWN_PARALLEL_MIN_BYTES
    if size < threshold:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        cpus = os.cpu_count() or 1
    return max(1, cpus)


# ---------------------------------------------------------------- parallel

_COUNTERS: dict[str, TokenCounter] = {}
"""Token counters of this process, by model (workers build one each, once)."""


def _chunk_bounds(path: Path, size: int, parts: int, workers: int = 1) -> list[tuple[int, int]]:
    """Byte ranges of about ``size / parts`` bytes, each starting at a line start.

    The last ones shrink (to a ``2 * workers``-th of what remains, down to the minimum
    size), so the workers run out of work at nearly the same time: a worker never
    waits long for the one that took the last big chunk.
    """
    target = min(_CHUNK_MAX, max(_CHUNK_MIN, size // max(1, parts)))
    bounds = [0]
    with open(path, "rb") as handle:
        position = min(target, max(_CHUNK_MIN, size // (2 * workers)))
        while position < size:
            handle.seek(position - 1)
            handle.readline()  # to the end of the line holding byte position-1
            start = _record_start(handle, handle.tell(), size)
            if start >= size:
                break
            bounds.append(start)
            position = start + min(target, max(_CHUNK_MIN, (size - start) // (2 * workers)))
    bounds.append(size)
    return list(itertools.pairwise(bounds))


def _record_start(handle: Any, start: int, size: int) -> int:
    """The first line start at or after ``start`` that opens a record (``{`` in column 0).

    A chunk that starts inside a record pretty-printed over several lines would see
    only its tail; moving to the next line that opens a record keeps the record in one
    chunk. In a JSONL file that is the line at ``start`` itself (one byte is read).
    """
    position = start
    while position < size and position - start < _ALIGN_MAX_BYTES:
        handle.seek(position)
        if handle.read(1) == b"{":
            return position
        handle.seek(position)
        line = handle.readline()
        if not line:
            break
        position += len(line)
    return position if position < size and position - start < _ALIGN_MAX_BYTES else start


def _scan_chunk(task: tuple[str, int, int, _Options]) -> _Pass:
    path, start, end, options = task
    counter = None
    if options.model is not None:
        counter = _COUNTERS.get(options.model)
        if counter is None:
            from ..tokens.counting import TokenCounter

            try:
                counter = _COUNTERS[options.model] = TokenCounter(options.model)
            except FtkitError:
                counter = None
    result = _Pass(options, counter)
    for raw in iter_lines(path, start=start, end=end, first_line=1, skip_blank=False):
        result.feed_line(raw.number, raw.data)
    result.end()
    return result


def _can_fork() -> bool:
    # fork starts workers instantly and shares the loaded tokenizer, but is only safe in a
    # single-threaded process; anything else gets spawn (each worker loads its own).
    return sys.platform == "linux" and threading.active_count() == 1


def _context() -> Any:
    return multiprocessing.get_context("fork" if _can_fork() else "spawn")


def _scan_parallel(
    path: Path,
    size: int,
    options: _Options,
    counter: TokenCounter | None,
    workers: int,
    progress: Callable[[int, int], object] | None = None,
) -> _Pass:
    """Scan the chunks of a file with ``workers`` processes, the calling one included.

    The parent is one of the workers: it takes the next chunk itself whenever every
    worker has work queued, so no core idles and one fork fewer is paid. Chunks are
    small (several per worker) so that the last ones even out the finishing times;
    their results are merged in file order. ``progress`` hears of each finished chunk.
    """
    chunks = _chunk_bounds(path, size, workers * _CHUNKS_PER_WORKER, workers)
    tasks = [(str(path), start, end, options) for start, end in chunks]
    lengths = [end - start for start, end in chunks]
    children = min(workers, len(tasks)) - 1
    logger.debug(
        "scanning %s in %d chunks with %d worker processes", path, len(tasks), max(children, 0)
    )
    parts: dict[int, _Pass] = {}
    total = _Pass(options, counter)
    merged = offset = done_bytes = done_examples = 0

    def finished(index: int, part: _Pass) -> None:
        # Merge in file order as soon as the next chunk is in, so finished chunks are not
        # all held at once (their duplicate index is the bulk of their size).
        nonlocal merged, offset, done_bytes, done_examples
        parts[index] = part
        while merged in parts:
            ready = parts.pop(merged)
            ready.shift(offset)
            offset += ready.lines
            total.merge(ready)
            merged += 1
        if progress is not None:
            done_bytes += chunks[index][1] - chunks[index][0]
            done_examples += sum(part.kind_counts.values())
            progress(done_bytes, done_examples)

    if children < 1:
        for index, task in enumerate(tasks):
            finished(index, _scan_chunk(task))
    else:
        with ProcessPoolExecutor(max_workers=children, mp_context=_context()) as pool:
            pending: dict[Future[_Pass], int] = {}
            following = 0
            while following < len(tasks) or pending:
                # Keep two chunks in hand per worker, and at least twice the bytes of the
                # chunk this process takes next (chunks shrink towards the end), then take it.
                while following < len(tasks) and (
                    len(pending) < 2 * children
                    or sum(lengths[i] for i in pending.values()) < 2 * children * lengths[following]
                ):
                    pending[pool.submit(_scan_chunk, tasks[following])] = following
                    following += 1
                if following < len(tasks):
                    finished(following, _scan_chunk(tasks[following]))
                    following += 1
                    done, _ = wait(pending, timeout=0, return_when=FIRST_COMPLETED)
                else:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    finished(pending.pop(future), future.result())
    assert merged == len(tasks)
    return total


# ---------------------------------------------------------------- conclusions


def _finish(
    result: _Pass,
    name: str | None,
    size: int | None,
    workers: int,
    options: _Options,
    file_issues: list[tuple[str, str]],
    minimum_examples: bool,
    model_findings: bool,
) -> ScanResult:
    emit = result.emit_at
    for code, message in file_issues:
        emit(None, code, "", message)

    counts = result.kind_counts
    kind: Kind | None = options.method
    if kind is None and result.kind_first:
        firsts = result.kind_first
        kind = "sft" if firsts.get("sft", sys.maxsize) < firsts.get("dpo", sys.maxsize) else "dpo"
    examples = counts[kind] if kind is not None else 0
    if kind == "sft" and examples > 1 and result.counts.get("no_assistant_message") == examples:
        # Not one example has a reply: a file of prompts (RFT's shape), not missing replies.
        result.samples["no_assistant_message"] = [
            (line, path, message if "(RFT)" in message else f"{message}; {_RFT_FILE}", hint)
            for line, path, message, hint in result.samples["no_assistant_message"]
        ]

    if kind is not None:
        other: Kind = "dpo" if kind == "sft" else "sft"
        code = "method_mismatch" if options.method else "mixed_kinds"
        first_line = result.kind_first.get(kind)
        reason = (
            f"the method is {kind.upper()}"
            if options.method
            else f"the file is {kind.upper()} (first record on line {first_line})"
        )
        for line in result.kind_lines[other]:
            emit(line, code, "", f"this line is a {other.upper()} record but {reason}")
        hidden = counts[other] - len(result.kind_lines[other])
        if hidden > 0:
            result.counts[code] = result.counts.get(code, 0) + hidden

    if model_findings and options.model is not None and kind is not None:
        info = lookup_model(options.model)
        if info is not None and info.fine_tunable and kind not in info.methods:
            emit(
                None,
                "method_not_supported",
                "",
                f"{options.model!r} does not support {kind.upper()} fine-tuning (it supports "
                f"{', '.join(sorted(m.upper() for m in info.methods))})",
            )

    if result.lines - result.blank == 0 and not _FILE_CODES.intersection(result.counts):
        emit(None, "empty_file", "", "the file has no examples" if name else "no items were given")
    elif minimum_examples and examples:
        if examples < MIN_EXAMPLES:
            emit(
                None,
                "too_few_examples",
                "",
                f"{examples} example{'' if examples == 1 else 's'}; the minimum for "
                f"fine-tuning is {MIN_EXAMPLES}",
            )
        elif examples < RECOMMENDED_EXAMPLES:
            emit(
                None,
                "few_examples",
                "",
                f"{examples} examples; at least {RECOMMENDED_EXAMPLES} are recommended",
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

    stats: dict[str, Any] = {}
    quality = result.quality
    if quality is not None:
        exact = _duplicates(result, quality)
        near = _near_duplicates(result, quality, options.near_duplicates, exact)
        if options.inference_system_prompt is None:  # else system_prompt_mismatch says it
            _system_prompts(result, quality)
        _long_responses(result, quality)
        for at, code, path, message in quality.findings(options.inference_system_prompt):
            emit(at, code, path, message)
        stats = quality.summary(options.inference_system_prompt)
        if near is not None:
            stats["near_duplicates"] = near
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


def _duplicates(result: _Pass, quality: QualityStats) -> set[int]:
    """Report exact repeats; returns their lines (near-duplicate search leaves them out)."""
    lines: set[int] = set()
    for line, first in quality.duplicates():
        result.emit_at(line, "duplicate_example", "", f"this example repeats line {first}")
        lines.add(line)
    return lines


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
    return near_threshold(value), False


def near_threshold(value: object) -> float | None:
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


def _near_duplicates(
    result: _Pass, quality: QualityStats, threshold: float | None, exact: set[int]
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


def _system_prompts(result: _Pass, quality: QualityStats) -> None:
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


def _long_responses(result: _Pass, quality: QualityStats) -> None:
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
