"""Dataset-quality signals gathered during the pass, in bounded, mergeable form.

Everything here is built to be filled by one chunk of a file in a worker
process and merged in the parent afterwards, with memory that does not grow
with the size of the examples:

- the duplicate index stores an 8-byte hash and a line number per example
  (two flat arrays), never the records;
- length distributions are log-bucket histograms (about 5 % precision);
- system prompts are tracked by hash, for a bounded number of distinct prompts
  (with the first characters of each, to say where one differs);
- the longest responses are a small top-k list;
- final assistant answers are looked at only when short (label balance: a
  counter of at most ``_LABELS_TRACKED`` distinct answers, dropped when the
  answers are too varied to be labels) or when they start with ``{``
  (structured outputs: a table of at most ``_SHAPES_TRACKED`` key/type shapes).

:meth:`QualityStats.findings` turns the label, JSON-shape and inference-prompt
signals into findings once the pass is merged; the thresholds are the
module's constants, documented in ``docs/validation.md``. The module is over 500
lines because each signal touches every method of :class:`QualityStats` (feed,
shift, merge, summary, findings): kept in one class, a signal changes in one place.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from array import array
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from ._histogram import Histogram

if TYPE_CHECKING:
    from ._near_duplicates import NearDuplicateIndex

__all__ = ["NO_SYSTEM", "Finding", "QualityStats", "stable_hash"]


def stable_hash(data: bytes) -> int:
    """An 8-byte hash equal in every process (``hash()`` is salted per process).

    SHA-256 is used for speed, not security: CPUs with SHA instructions hash a line
    two to three times faster with it than with BLAKE2b.
    """
    return int.from_bytes(_sha256(data).digest()[:8], "little")


_sha256 = hashlib.sha256

_MAX_PROMPTS = 256
_TOP_LONG = 10
_PROMPT_PREFIX = 200
"""Characters kept of each distinct system prompt, to show where it differs."""
_SAMPLE_LINES = 5
"""Lines named in a finding about many examples."""

# Label balance. The final answers are labels when at most _LABELS_SHOWN distinct short
# answers (<= _LABEL_MAX_CHARS characters) cover _LABEL_COVERAGE of at least
# _LABEL_MIN_EXAMPLES answers, with _LABEL_MIN_AVERAGE examples per label on average
# (so 20 examples with 20 different one-word answers are not "20 labels"), and at least
# two of them (one answer everywhere is a constant).
_LABEL_MAX_CHARS = 64
_LABELS_TRACKED = 64
"""Distinct short answers counted at most; one more and the answers are not labels."""
_LABELS_SHOWN = 20
_LABEL_COVERAGE = 0.95
_LABEL_MIN_EXAMPLES = 20
_LABEL_MIN_AVERAGE = 5
_MAJORITY_SHARE = 0.8
"""A label with more than this share of the examples is a heavy imbalance."""
_RARE_SHARE = 0.01
"""A label with less than this share is rare (too few to learn, or a typo)."""

# Structured outputs: the answers are JSON data when at least _JSON_MIN_ANSWERS of them
# start with "{" and they are at least _JSON_SHARE of the answers.
_JSON_MIN_ANSWERS = 5
_JSON_SHARE = 0.5
_SHAPES_TRACKED = 32
"""Distinct key/type shapes counted at most; the others are counted as dropped."""
_SHAPE_KEYS = 64
_SHAPE_KEY_CHARS = 100
_SHAPES_SHOWN = 10

_Shape = tuple[tuple[str, str], ...]
_K = TypeVar("_K")
Finding = tuple["int | None", str, str, str]
"""``(line, code, path, message)`` of a finding about the whole pass."""


def _json_type(value: Any) -> str:
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return "object" if isinstance(value, dict) else "array"


def _share(count: int, total: int) -> str:
    percent = 100 * count / total if total else 0.0
    return f"{percent:.0f}%" if percent >= 1 or percent == 0 else f"{percent:.1f}%"


def _lines(lines: list[int]) -> str:
    """``line 4`` or ``lines 4, 9, 17`` (the first few)."""
    shown = sorted(lines)[:_SAMPLE_LINES]
    return f"line{'s' if len(shown) > 1 else ''} " + ", ".join(str(line) for line in shown)


def _like_it(count: int, total: int) -> str:
    if count == total:
        return f" (all {total:,} examples)" if total > 1 else ""
    return f" ({count:,} of {total:,} examples like it)" if count > 1 else ""


def _quoted(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _tally(
    table: dict[_K, list[int]], key: _K, count: int, first: int, cap: int | None = None
) -> bool:
    """Add ``count`` examples, the first on line ``first``, to ``table[key]`` = [count, first].

    Returns ``False`` (and adds nothing) when ``key`` is new and the table holds ``cap`` keys.
    """
    entry = table.get(key)
    if entry is not None:
        entry[0] += count
        entry[1] = min(entry[1], first)
    elif cap is None or len(table) < cap:
        table[key] = [count, first]
    else:
        return False
    return True


def _keep_longest(heap: list[tuple[int, int]], item: tuple[int, int]) -> None:
    """Keep ``item`` (``(chars, -line)``) if it is among the ``_TOP_LONG`` largest."""
    if len(heap) < _TOP_LONG:
        heapq.heappush(heap, item)
    elif item > heap[0]:
        heapq.heapreplace(heap, item)


NO_SYSTEM = 0
"""Key of "no system prompt" in the system-prompt table (real hashes are never 0 in practice)."""
_prompt_keys: dict[str, int] = {}
"""Hashes of recent system prompts, shared by the passes of a process (a pure cache)."""


class QualityStats:
    """Balance, diversity and consistency signals of one pass (or one chunk of it).

    Line numbers are relative to the chunk until :meth:`shift` makes them absolute.
    """

    def __init__(self) -> None:
        self.roles: Counter[str] = Counter()
        self.messages_per_example = Histogram()
        self.response_chars = Histogram()
        self.hashes: array[int] = array("Q")
        self.hash_lines: array[int] = array("Q")
        self.near: NearDuplicateIndex | None = None
        """Signatures for near-duplicate search, when the pass looks for them."""
        # system prompt hash -> [count, first line]; NO_SYSTEM for examples without one
        self.prompts: dict[int, list[int]] = {}
        self.prompts_dropped = 0
        # prompt hash -> (its first _PROMPT_PREFIX characters, its length)
        self.prompt_texts: dict[int, tuple[str, int]] = {}
        self.longest: list[tuple[int, int]] = []  # min-heap of (chars, -line)
        # final trained assistant answers (SFT): how many, the short ones by text
        # ([count, first line]; None once too varied to be labels), and JSON-object shapes
        self.answers = 0
        self.labels: dict[str, list[int]] | None = {}
        self.json_answers = 0
        self.json_invalid = 0
        self.json_invalid_lines: list[int] = []
        self.json_invalid_reason = ""
        self.shapes: dict[_Shape, list[int]] = {}  # shape -> [count, first line]
        self.shape_lines: dict[_Shape, list[int]] = {}  # shape -> its first few lines
        self.shapes_dropped = 0

    # -- feeding
    def add_example(self, line: int, data: bytes) -> None:
        """Index an example for duplicate detection."""
        self.hashes.append(stable_hash(data))
        self.hash_lines.append(line)

    def add_system_prompt(self, line: int, text: str | None) -> None:
        """Record the example's system prompt (``None``: the example has none)."""
        if text is None:
            key = NO_SYSTEM
        else:
            # The same few prompts recur on most lines: hash each once.
            key = _prompt_keys.get(text, 0)
            if not key:
                key = stable_hash(text.encode("utf-8", "surrogatepass"))
                if len(_prompt_keys) >= _MAX_PROMPTS:
                    _prompt_keys.clear()
                _prompt_keys[text] = key
        entry = self.prompts.get(key)
        if entry is not None:
            entry[0] += 1
        elif len(self.prompts) < _MAX_PROMPTS:
            self.prompts[key] = [1, line]
            if text is not None:
                self.prompt_texts[key] = (text[:_PROMPT_PREFIX], len(text))
        else:
            self.prompts_dropped += 1

    def add_final_answer(self, line: int, messages: list[Any]) -> None:
        """Look at an SFT example's last message when it is a trained assistant answer.

        Costs a few lookups unless the answer is short (a label candidate) or
        starts with ``{`` (a structured output), the only answers analysed.
        """
        last = messages[-1]
        if type(last) is not dict or last.get("role") != "assistant" or last.get("weight") == 0:
            return
        text = last.get("content")
        if type(text) is not str:
            return
        self.answers += 1
        labels = self.labels
        if labels is not None and len(text) <= _LABEL_MAX_CHARS:
            entry = labels.get(text)
            if entry is not None:
                entry[0] += 1
            elif len(labels) < _LABELS_TRACKED:
                labels[text] = [1, line]
            else:
                self.labels = None  # too many distinct answers: not classification data
        first = text[:1]
        if first == "{" or (first.isspace() and text.lstrip()[:1] == "{"):
            self._add_json_answer(line, text)

    def _add_json_answer(self, line: int, text: str) -> None:
        try:
            value = json.loads(text)
        except (ValueError, RecursionError) as exc:
            value = exc
        if not isinstance(value, dict):
            self.json_invalid += 1
            if len(self.json_invalid_lines) < _SAMPLE_LINES:
                self.json_invalid_lines.append(line)
            if not self.json_invalid_reason:
                self.json_invalid_reason = (
                    str(value).split(": line ")[0]
                    if isinstance(value, Exception)
                    else "not an object"
                )
            return
        self.json_answers += 1
        shape = tuple(
            sorted((str(key)[:_SHAPE_KEY_CHARS], _json_type(item)) for key, item in value.items())
        )[:_SHAPE_KEYS]
        entry = self.shapes.get(shape)
        if entry is not None:
            entry[0] += 1
            lines = self.shape_lines[shape]
            if len(lines) < _SAMPLE_LINES:
                lines.append(line)
        elif len(self.shapes) < _SHAPES_TRACKED:
            self.shapes[shape] = [1, line]
            self.shape_lines[shape] = [line]
        else:
            self.shapes_dropped += 1

    def add_response(self, line: int, chars: int) -> None:
        """Record the length of one trained assistant response."""
        self.response_chars.add(chars)
        item = (chars, -line)  # inline, not _keep_longest(): this runs once per response
        if len(self.longest) < _TOP_LONG:
            heapq.heappush(self.longest, item)
        elif item > self.longest[0]:
            heapq.heapreplace(self.longest, item)

    # -- combining
    def shift(self, offset: int) -> None:
        """Turn chunk-relative line numbers into file line numbers."""
        if not offset:
            return
        self.hash_lines = array("Q", (line + offset for line in self.hash_lines))
        if self.near is not None:
            self.near.shift(offset)
        for entry in self.prompts.values():
            entry[1] += offset
        for entries in (self.labels or {}).values(), self.shapes.values():
            for entry in entries:
                entry[1] += offset
        self.json_invalid_lines = [line + offset for line in self.json_invalid_lines]
        for shape, lines in self.shape_lines.items():
            self.shape_lines[shape] = [line + offset for line in lines]
        self.longest = [(chars, neg - offset) for chars, neg in self.longest]
        heapq.heapify(self.longest)

    def merge(self, other: QualityStats) -> None:
        """Append a later chunk's stats (its lines must already be absolute)."""
        self.roles.update(other.roles)
        self.messages_per_example.merge(other.messages_per_example)
        self.response_chars.merge(other.response_chars)
        self.hashes.extend(other.hashes)
        self.hash_lines.extend(other.hash_lines)
        if self.near is not None and other.near is not None:
            self.near.merge(other.near)
        for key, (count, first) in other.prompts.items():
            if not _tally(self.prompts, key, count, first, _MAX_PROMPTS):
                self.prompts_dropped += count
        self.prompts_dropped += other.prompts_dropped
        for key, text in other.prompt_texts.items():
            if key in self.prompts:
                self.prompt_texts.setdefault(key, text)
        self._merge_answers(other)
        for item in other.longest:
            _keep_longest(self.longest, item)

    # -- conclusions
    def duplicates(self) -> Iterator[tuple[int, int]]:
        """``(line, first_line)`` for every example that repeats an earlier one, by line.

        The hashes are sorted once to find the values that occur more than once
        (usually few); one pass in file order then pairs each repeat with the first
        line of its value. Transient memory is one sorted list of the hashes, with
        no dictionary of records and no per-example tuples.
        """
        ordered = sorted(self.hashes)
        repeated: set[int] = set()
        previous: int | None = None
        for value in ordered:
            if value == previous:
                repeated.add(value)
            previous = value
        del ordered
        first: dict[int, int] = {}
        pairs: list[tuple[int, int]] = []
        for value, line in zip(self.hashes, self.hash_lines, strict=True):
            if value in repeated:
                seen = first.get(value)
                if seen is None:
                    first[value] = line
                else:
                    pairs.append((line, seen))
        pairs.sort()
        yield from pairs

    def overlap(self, validation: QualityStats) -> Iterator[tuple[int, int]]:
        """``(validation_line, training_line)`` for validation examples found in training."""
        wanted: dict[int, int] = {}
        for value, line in zip(validation.hashes, validation.hash_lines, strict=True):
            wanted.setdefault(value, line)
        found: dict[int, int] = {}
        for value, line in zip(self.hashes, self.hash_lines, strict=True):
            if value in wanted and value not in found:
                found[value] = line
        for value, line in zip(validation.hashes, validation.hash_lines, strict=True):
            if value in found:
                yield line, found[value]

    def _merge_answers(self, other: QualityStats) -> None:
        self.answers += other.answers
        labels, theirs = self.labels, other.labels
        if labels is not None and theirs is not None:
            for text, (count, first) in theirs.items():
                _tally(labels, text, count, first)
            # The same verdict as one pass over both chunks: too many distinct answers overall.
            if len(labels) > _LABELS_TRACKED:
                self.labels = None
        else:
            self.labels = None
        self.json_answers += other.json_answers
        self.json_invalid += other.json_invalid
        room = _SAMPLE_LINES - len(self.json_invalid_lines)
        self.json_invalid_lines.extend(other.json_invalid_lines[: max(0, room)])
        self.json_invalid_reason = self.json_invalid_reason or other.json_invalid_reason
        for shape, (count, first) in other.shapes.items():
            if not _tally(self.shapes, shape, count, first, _SHAPES_TRACKED):
                self.shapes_dropped += count
                continue
            lines = self.shape_lines.setdefault(shape, [])
            lines.extend(other.shape_lines.get(shape, [])[: max(0, _SAMPLE_LINES - len(lines))])
        self.shapes_dropped += other.shapes_dropped

    def longest_responses(self) -> list[tuple[int, int]]:
        """``(line, chars)`` of the longest trained responses, longest first."""
        return [(-neg, chars) for chars, neg in sorted(self.longest, reverse=True)]

    def summary(self, inference_system_prompt: str | None = None) -> dict[str, Any]:
        """Distributions for the report: roles, messages per example, response lengths.

        Also, when the data has them: ``labels`` (the label distribution of
        classification-like data), ``json_answers`` (the shapes of JSON answers) and
        ``inference_system_prompt`` (how many examples match the prompt used at inference).
        """
        out: dict[str, Any] = {
            "roles": dict(sorted(self.roles.items())),
            "messages_per_example": self.messages_per_example.summary(),
            "assistant_response_chars": self.response_chars.summary(),
            "distinct_system_prompts": sum(1 for key in self.prompts if key != NO_SYSTEM)
            + (1 if self.prompts_dropped else 0),
        }
        labels = self.label_distribution()
        if labels is not None:
            covered = sum(count for _, count, _ in labels)
            out["labels"] = {
                "examples": self.answers,
                "distinct": len(labels),
                "counts": {text: count for text, count, _ in labels},
                "other": self.answers - covered,
            }
        if self._is_json_data():
            shapes = sorted(self.shapes.items(), key=lambda item: (-item[1][0], item[1][1]))
            out["json_answers"] = {
                "answers": self.json_answers,
                "invalid": self.json_invalid,
                "shapes": [
                    {"keys": dict(shape), "count": count, "first_line": first}
                    for shape, (count, first) in shapes[:_SHAPES_SHOWN]
                ],
                "more_shapes": max(0, len(shapes) - _SHAPES_SHOWN)
                + (1 if self.shapes_dropped else 0),
            }
        if inference_system_prompt is not None:
            key = _inference_key(inference_system_prompt)
            total = sum(count for count, _ in self.prompts.values()) + self.prompts_dropped
            matching = self.prompts.get(key, [0])[0]
            missing = self.prompts.get(NO_SYSTEM, [0])[0] if key != NO_SYSTEM else 0
            out["inference_system_prompt"] = {
                "examples": total,
                "matching": matching,
                "different": total - matching - missing,
                "missing": missing,
            }
        return out

    # -- findings
    def label_distribution(self) -> list[tuple[str, int, int]] | None:
        """``(answer, count, first line)`` of the labels, most frequent first, or ``None``.

        ``None`` unless the final answers look like classification labels (see the
        module constants): few distinct short answers covering nearly every example.
        """
        labels = self.labels
        if labels is None or self.answers < _LABEL_MIN_EXAMPLES or len(labels) < 2:
            return None  # one answer for every example is a constant, not a choice of labels
        ranked = sorted(labels.items(), key=lambda item: (-item[1][0], item[1][1]))
        top = ranked[:_LABELS_SHOWN]
        covered = sum(count for _, (count, _) in top)
        if covered < _LABEL_COVERAGE * self.answers or covered < _LABEL_MIN_AVERAGE * len(top):
            return None
        return [(text, count, first) for text, (count, first) in top]

    def _is_json_data(self) -> bool:
        started = self.json_answers + self.json_invalid
        return started >= _JSON_MIN_ANSWERS and started >= _JSON_SHARE * self.answers

    def findings(self, inference_system_prompt: str | None = None) -> Iterator[Finding]:
        """Label balance, JSON answer shapes and inference-prompt parity, as findings."""
        yield from self._label_findings()
        if self._is_json_data():
            yield from self._json_findings()
        if inference_system_prompt is not None:
            yield from self._parity_findings(inference_system_prompt)

    def _label_findings(self) -> Iterator[Finding]:
        labels = self.label_distribution()
        if labels is None:
            return
        total = self.answers
        top, top_count, _ = labels[0]
        if top_count > _MAJORITY_SHARE * total:
            others = ", ".join(
                f"{_quoted(text)} {count:,} ({_share(count, total)})"
                for text, count, _ in labels[1:6]
            )
            yield (
                None,
                "label_imbalance",
                "",
                f"the final answer is {_quoted(top)} in {top_count:,} of {total:,} examples "
                f"({_share(top_count, total)})" + f"; the other labels: {others}",
            )
        for text, count, first in labels[1:]:
            if count < _RARE_SHARE * total:
                yield (
                    first,
                    "label_imbalance",
                    "",
                    f"the label {_quoted(text)} is the final answer of only {count:,} of "
                    f"{total:,} examples ({_share(count, total)}); {_quoted(top)} has "
                    f"{top_count:,}",
                )

    def _json_findings(self) -> Iterator[Finding]:
        total = self.json_answers + self.json_invalid
        if self.json_invalid:
            yield (
                min(self.json_invalid_lines),
                "inconsistent_json_answers",
                "",
                f"{self.json_invalid:,} of {total:,} final answers start with '{{' but are not "
                f"a JSON object ({self.json_invalid_reason}); {_lines(self.json_invalid_lines)}",
            )
        shapes = self.shapes
        answers = self.json_answers
        if len(shapes) < 2 or not answers:
            return
        keys: dict[str, dict[str, list[int]]] = {}  # key -> type -> [count, first line]
        for shape, (count, first) in shapes.items():
            for key, kind in shape:
                _tally(keys.setdefault(key, {}), kind, count, first)
        tracked = answers - self.shapes_dropped
        for key in sorted(keys, key=lambda k: (-sum(e[0] for e in keys[k].values()), k)):
            kinds = keys[key]
            having = sum(count for count, _ in kinds.values())
            if having < tracked:
                without = sorted(
                    line
                    for shape in shapes
                    if key not in dict(shape)
                    for line in self.shape_lines.get(shape, ())
                )
                yield (
                    without[0],
                    "inconsistent_json_answers",
                    "",
                    f"the key {_quoted(key)} is missing from {tracked - having:,} of {tracked:,} "
                    f"JSON answers ({_lines(without)}); the others have it",
                )
            typed = {kind: entry for kind, entry in kinds.items() if kind != "null"}
            if len(typed) > 1:
                ranked = sorted(typed.items(), key=lambda item: (-item[1][0], item[1][1]))
                main, (main_count, _) = ranked[0]
                rest = ", ".join(
                    f"a{'n' if kind[0] in 'ao' else ''} {kind} in {count:,} (first on line {first})"
                    for kind, (count, first) in ranked[1:]
                )
                yield (
                    min(first for _, (_, first) in ranked[1:]),
                    "inconsistent_json_answers",
                    "",
                    f"the key {_quoted(key)} is a{'n' if main[0] in 'ao' else ''} {main} in "
                    f"{main_count:,} JSON answers but {rest}",
                )

    def _parity_findings(self, prompt: str) -> Iterator[Finding]:
        key = _inference_key(prompt)
        total = sum(count for count, _ in self.prompts.values()) + self.prompts_dropped
        code = "system_prompt_mismatch"
        for other, (count, first) in sorted(self.prompts.items(), key=lambda item: item[1][1]):
            if other == key:
                continue
            more = _like_it(count, total)
            if other == NO_SYSTEM:
                yield (
                    first,
                    code,
                    "messages",
                    f"this example has no system prompt{more}, but inference sends one",
                )
            elif key == NO_SYSTEM:
                yield (
                    first,
                    code,
                    "messages[0]",
                    f"this example has a system prompt{more}, but inference sends none",
                )
            else:
                text, length = self.prompt_texts.get(other, ("", 0))
                yield (first, code, "messages[0]", _prompt_difference(text, length, prompt, more))
        if self.prompts_dropped:
            yield (
                None,
                code,
                "",
                f"{self.prompts_dropped:,} more examples have system prompts that were not "
                f"tracked (over {_MAX_PROMPTS} distinct prompts) and differ from the inference one",
            )


def _inference_key(prompt: str) -> int:
    """The system-prompt table's key of the prompt used at inference (``""``: none)."""
    if not prompt:
        return NO_SYSTEM
    return stable_hash(prompt.encode("utf-8", "surrogatepass"))


def _prompt_difference(text: str, length: int, prompt: str, more: str) -> str:
    """Where a training system prompt (its first characters and length) leaves ``prompt``."""
    at = next(
        (i for i, (mine, theirs) in enumerate(zip(text, prompt, strict=False)) if mine != theirs),
        min(len(text), len(prompt)),
    )
    if at >= len(text) and length > len(text):
        where = f"after its first {len(text):,} characters"
    elif text.strip() == prompt.strip() and length == len(text):
        where = "only in the whitespace at its start or end"
    elif at >= min(length, len(prompt)):
        where = f"in length: it has {length:,} characters, the inference prompt {len(prompt):,}"
    else:
        start = max(0, at - 15)
        where = (
            f"from character {at + 1:,}: {_quoted(text[start : at + 25], 60)} "
            f"vs {_quoted(prompt[start : at + 25], 60)}"
        )
    return f"this example's system prompt differs from the inference prompt {where}{more}"
