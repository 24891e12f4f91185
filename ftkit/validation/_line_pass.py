"""The per-line pass: decode each line, check it, feed the quality stats, count its tokens.

:class:`LinePass` is the loop body of validation, run once per line of a file
(or per in-memory item), so it is written for speed: a line is decoded with
the stdlib JSON decoder and checked as a plain dict, the raw-byte prefilters
decide whether the slower text scans run at all, and token counts wait in
small batches (see :meth:`LinePass.flush`). A pass covers one stream: a whole
file, a worker's chunk of one (lines numbered from 1 within the chunk until
:meth:`LinePass.shift`) or in-memory items; :meth:`LinePass.merge` appends the
pass of the chunk that follows. Per code only the first ``max_per_code``
findings are kept (the rest are counted), so memory does not grow with the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ..jsonl import utf8_error
from ..schema.formats import describe_foreign, detect_kind, json_type_name
from ._checks_common import DEFAULT_PROFILE, CheckContext, MessageSummary, Profile
from ._checks_dpo import check_dpo
from ._checks_sft import check_sft
from ._codes import ERROR_CODES
from ._decoding import UNDECODED, fast_decoder
from ._multiline import DECODER, OpenRecord, shift_span
from ._near_duplicates import NearDuplicateIndex
from ._profiles import SampleWeights
from ._quality import QualityStats
from ._text_scans import (
    line_has_secret,
    line_has_special_token,
    line_has_surrogate_escape,
    report_lone_surrogates,
    report_secrets,
    report_special_tokens,
)

if TYPE_CHECKING:
    from ..tokens.counting import TokenCounter
    from ..tokens.stats import TokenStats

__all__ = ["Kind", "LinePass", "PassOptions", "Sample"]

Kind = Literal["sft", "dpo"]
Sample = tuple["int | None", str, str, "str | None"]
"""A kept finding: ``(line, path, message, hint)``."""

_COUNT_BATCH = 8
_COUNT_BATCH_BYTES = 1 << 20
"""Examples wait for their token count until this many (or this many bytes) are decoded."""
_WHITESPACE = b" \t\r\n\f\v"
_decode = DECODER.decode

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


@dataclass(frozen=True)
class PassOptions:
    """What a pass checks: the same for every chunk of a file, so workers receive it."""

    model: str | None
    method: Kind | None
    checks: bool
    max_per_code: int
    vision: bool | None
    inference_system_prompt: str | None = None
    near_duplicates: float | None = None
    """The similarity threshold of near-duplicate search (``None``: no search)."""
    provider: str | None = None
    """The provider whose catalog entry of ``model`` applies (``None``: any, ``openai`` first)."""
    profile: Profile = DEFAULT_PROFILE
    """The rules of the provider that trains it (:func:`._profiles.profile_for`)."""


class LinePass:
    """Accumulates the findings and stats of one stream: a file, a chunk, or items.

    Picklable without its token counter, so a worker can send it back.
    """

    def __init__(self, options: PassOptions, counter: TokenCounter | None) -> None:
        self.options = options
        self._fast = fast_decoder()  # msgspec first where installed (see ._decoding)
        self.ctx = CheckContext(vision=options.vision, model=options.model, profile=options.profile)
        self.counter = counter
        self.counts: dict[str, int] = {}
        self.samples: dict[str, list[Sample]] = {}
        self.kind_counts: dict[str, int] = {"sft": 0, "dpo": 0}
        self.kind_lines: dict[str, list[int]] = {"sft": [], "dpo": []}
        self.kind_first: dict[str, int] = {}
        self.lines = 0
        self.blank = 0
        self.quality: QualityStats | None = QualityStats() if options.checks else None
        if self.quality is not None and options.near_duplicates is not None:
            self.quality.near = NearDuplicateIndex()
        self.sample_weights: SampleWeights | None = (
            SampleWeights() if options.profile.sample_weight_everywhere else None
        )
        """Which SFT records carry a sample weight, where the profile wants all or none."""
        self.tokens: TokenStats | None = None
        if counter is not None:
            from ..tokens.stats import TokenStats

            self.tokens = TokenStats()
        self._line: int | None = None
        self._errors = 0
        self._waiting: list[tuple[int, dict[str, Any]]] = []
        self._waiting_bytes = 0
        self._open: OpenRecord | None = None

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
        """Record a finding on ``line`` (``None``: the whole file)."""
        counts = self.counts
        counts[code] = counts.get(code, 0) + 1
        if code in ERROR_CODES:
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
        if self._fast is not None:
            obj = self._fast(data)
            if obj is not UNDECODED:
                self.feed_object(number, obj, data)
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
                self._open = OpenRecord(number, message, [(number, data)], len(data))
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
            verdict = opened.add(number, data)
            self.lines = number
            if verdict == "open":
                continue
            if verdict == "record":  # lines after the record's end are read again
                self._open = None
                self.emit_at(opened.start, "multiline_json", "", opened.finding())
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
            message = f"each line must be a JSON object, got {json_type_name(obj)}"
            self.emit("not_an_object", "", message, None)
            return
        kind = detect_kind(obj)
        if kind is None:
            self.emit(
                "unknown_format", "", describe_foreign(obj, expected=self.options.method), None
            )
            return
        self.kind_counts[kind] += 1
        self.kind_first.setdefault(kind, number)
        if kind == "sft" and self.sample_weights is not None:
            self.sample_weights.add(number, obj)
        if len(self.kind_lines[kind]) < self.options.max_per_code:
            self.kind_lines[kind].append(number)
        errors = self._errors
        summary = (check_sft if kind == "sft" else check_dpo)(obj, self.emit, self.ctx)
        # A JSON escape of an ASCII character (``\u002d``, ``\u003c``) hides text from the
        # raw-byte pre-filters: such lines get the decoded scans too. Escapes of other
        # characters (``\u00fc``) cannot spell a key or a special token.
        escaped = b"\\u00" in data and _ASCII_ESCAPE.search(data) is not None
        if escaped or line_has_special_token(data):
            report_special_tokens(obj, self.emit)
        if line_has_surrogate_escape(data):
            report_lone_surrogates(obj, self.emit)
        quality = self.quality
        if quality is not None:
            if escaped or line_has_secret(data):
                report_secrets(obj, self.emit)
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
                (line, path, shift_span(message, offset), hint)
                for line, path, message, hint in spread
            ]
        for kind, lines in self.kind_lines.items():
            self.kind_lines[kind] = [line + offset for line in lines]
        self.kind_first = {kind: line + offset for kind, line in self.kind_first.items()}
        if self.sample_weights is not None:
            self.sample_weights.shift(offset)
        if self.quality is not None:
            self.quality.shift(offset)

    def merge(self, other: LinePass) -> None:
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
        if self.sample_weights is not None and other.sample_weights is not None:
            self.sample_weights.merge(other.sample_weights)
        if self.quality is not None and other.quality is not None:
            self.quality.merge(other.quality)
        if self.tokens is not None and other.tokens is not None:
            self.tokens.merge(other.tokens)
