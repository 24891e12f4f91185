"""How a model's reply is compared with the reference assistant message.

A scorer is any callable ``scorer(reply, reference) -> float`` (``bool`` is
accepted) returning a score in ``[0, 1]``; both arguments are :class:`Turn`
objects (``.text`` is the reply text, ``.tool_calls`` the calls). The built-ins:

- :class:`ExactMatch` (``"exact"``): the same text, optionally after collapsing
  whitespace and ignoring case;
- :class:`JsonValid` (``"json"``): the reply parses as JSON, whatever it says;
- :class:`JsonFields` (``"json-fields"``): the fraction of the reference object's
  fields the reply's object gets right, for structured-output fine-tunes;
- :class:`ToolCallMatch` (``"tool-calls"``): the same function names with the same
  arguments (compared as JSON, key order ignored); it is scored at the assistant
  turn that makes tool calls, not the final text answer;
- :class:`TokenF1` (``"token-f1"``): the overlap of the reply's and the reference's
  words (F1), for free-text references that no reply repeats word for word;
- :class:`EditSimilarity` (``"similarity"``): one minus the word-level edit distance
  over the longer text's length, which also counts word order; like ``token-f1``
  a rough, cheap signal of closeness to the reference, not of quality;
- :class:`~._judges.PairwiseJudge` (``"pairwise"``) and :class:`~._judges.RubricJudge`
  (``"rubric"``): a judge model's preference or grades, for style, tone and open
  answers (see :mod:`._judges`);
- :class:`~._choosing.AutoScorer` (``"auto"``, the default): one of the above, chosen from the
  test set's references by :func:`~._choosing.choose_scorer` (tool calls, JSON objects, short
  answers or free text).

A scorer that cannot fit the references (``exact`` on long free text, ``json`` on
references that are not JSON) is kept, with a warning logged before any call and
shown in the report (:func:`~._choosing.fit_scorer`).

A scorer may carry a ``target`` attribute: ``"final"`` (default) scores the last
assistant turn of each test example, ``"tool_call"`` the last turn that calls a tool.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from .._exceptions import UsageError

__all__ = [
    "NOT_JSON",
    "EditSimilarity",
    "ExactMatch",
    "JsonFields",
    "JsonValid",
    "Scorer",
    "Target",
    "TokenF1",
    "ToolCallData",
    "ToolCallMatch",
    "Turn",
    "json_value",
    "word_list",
]

log = logging.getLogger("ftkit.evaluation")

Target = Literal["final", "tool_call"]
_SPACES = re.compile(r"\s+")
_WORDS = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class ToolCallData:
    """One function call in a turn: its name and its arguments as a JSON string."""

    name: str
    arguments: str

    def parsed_arguments(self) -> Any:
        """The arguments as JSON values, or the raw string if they are not valid JSON."""
        try:
            return json.loads(self.arguments)
        except ValueError:
            return self.arguments


@dataclass(frozen=True)
class Turn:
    """One assistant turn, as a scorer sees it (a reply or a reference)."""

    content: str | None = None
    """The text of the turn (parts joined), or None for a turn that only calls tools."""
    tool_calls: tuple[ToolCallData, ...] = ()
    """The function calls of the turn, in order."""

    @property
    def text(self) -> str:
        """``content``, or ``""`` when there is none."""
        return self.content or ""

    def __str__(self) -> str:
        if self.tool_calls and not self.content:
            return "; ".join(f"{c.name}({c.arguments})" for c in self.tool_calls)
        return self.text

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``{"content": ..., "tool_calls": [{"name", "arguments"}]}``."""
        data: dict[str, Any] = {"content": self.content}
        if self.tool_calls:
            data["tool_calls"] = [
                {"name": c.name, "arguments": c.arguments} for c in self.tool_calls
            ]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Turn:
        """Read :meth:`to_dict` output back."""
        calls = tuple(
            ToolCallData(str(c.get("name", "")), str(c.get("arguments", "")))
            for c in data.get("tool_calls") or []
        )
        content = data.get("content")
        return cls(content if isinstance(content, str) else None, calls)

    @classmethod
    def from_message(cls, message: Mapping[str, Any]) -> Turn:
        """Build from an assistant message dict (a record's or the API's)."""
        content = message.get("content")
        if isinstance(content, list):
            content = "".join(
                str(p.get("text", ""))
                for p in content
                if isinstance(p, Mapping) and p.get("type") == "text"
            )
        calls: list[ToolCallData] = []
        for call in message.get("tool_calls") or []:
            function = call.get("function") if isinstance(call, Mapping) else None
            if isinstance(function, Mapping):
                calls.append(
                    ToolCallData(str(function.get("name", "")), str(function.get("arguments", "")))
                )
        legacy = message.get("function_call")
        if not calls and isinstance(legacy, Mapping):
            calls.append(
                ToolCallData(str(legacy.get("name", "")), str(legacy.get("arguments", "")))
            )
        return cls(content if isinstance(content, str) else None, tuple(calls))


@runtime_checkable
class Scorer(Protocol):
    """Scores one reply against its reference: a number in ``[0, 1]`` (1 = as good as it gets)."""

    def __call__(self, reply: Turn, reference: Turn, /) -> float: ...


def _normalise(text: str, *, whitespace: bool, case: bool) -> str:
    if whitespace:
        text = _SPACES.sub(" ", text).strip()
    if case:
        text = text.casefold()
    return text


NOT_JSON: Any = object()
"""What :func:`json_value` returns for text that is not JSON (``None`` is JSON's ``null``)."""


def json_value(text: str) -> Any:
    """``text`` parsed as JSON, or :data:`NOT_JSON`."""
    try:
        return json.loads(text)
    except ValueError:
        return NOT_JSON


@dataclass(frozen=True)
class ExactMatch:
    """1 when the reply's text equals the reference's, else 0.

    Attributes:
        normalize_whitespace: collapse runs of whitespace and strip the ends first.
        ignore_case: compare case-insensitively (Unicode casefold).
    """

    normalize_whitespace: bool = True
    ignore_case: bool = False
    name: str = "exact"
    target: Target = "final"

    def __call__(self, reply: Turn, reference: Turn, /) -> float:
        options = {"whitespace": self.normalize_whitespace, "case": self.ignore_case}
        return float(_normalise(reply.text, **options) == _normalise(reference.text, **options))


@dataclass(frozen=True)
class JsonValid:
    """1 when the reply's text parses as JSON (an object, if ``require_object``), else 0.

    The reference is not looked at: this measures whether the model keeps the format.
    """

    require_object: bool = False
    name: str = "json"
    target: Target = "final"

    def __call__(self, reply: Turn, reference: Turn, /) -> float:
        value = json_value(reply.text)
        return float(value is not NOT_JSON and (isinstance(value, dict) or not self.require_object))


@dataclass(frozen=True)
class JsonFields:
    """The fraction of the reference JSON object's fields that the reply's object matches.

    A reply that is not a JSON object scores 0. Values compare as JSON values
    (``1`` equals ``1.0``, key order is ignored in nested objects).

    Attributes:
        fields: only these top-level keys count (default: every key of the reference).
        ignore_case: compare string values case-insensitively, after trimming spaces.
        penalize_extra: count keys the reply adds beyond the reference as misses.
    """

    fields: tuple[str, ...] | None = None
    ignore_case: bool = False
    penalize_extra: bool = False
    name: str = "json-fields"
    target: Target = "final"

    def __call__(self, reply: Turn, reference: Turn, /) -> float:
        expected = json_value(reference.text)
        if expected is NOT_JSON:
            raise UsageError(
                f"the json-fields scorer needs JSON references; got {reference.text[:60]!r}"
            )
        if not isinstance(expected, dict):
            raise UsageError("the json-fields scorer needs a JSON object as reference")
        got = json_value(reply.text)
        if not isinstance(got, dict):  # not JSON, or not an object
            return 0.0
        keys = list(self.fields) if self.fields is not None else list(expected)
        if not keys:
            return float(got == expected)
        hits = sum(
            1 for k in keys if k in got and k in expected and self._same(got[k], expected[k])
        )
        total = len(keys)
        if self.penalize_extra and self.fields is None:
            total += len(set(got) - set(expected))
        return hits / total

    def _same(self, a: Any, b: Any) -> bool:
        if self.ignore_case and isinstance(a, str) and isinstance(b, str):
            return a.strip().casefold() == b.strip().casefold()
        return bool(a == b)


@dataclass(frozen=True)
class ToolCallMatch:
    """The share of calls that match: same function name and same arguments (as JSON).

    Calls are matched regardless of order (parallel calls have none); the score
    is ``matched / max(len(reply calls), len(reference calls))``. A reference
    without calls is scored like :class:`ExactMatch` on the text (with 0 for a
    reply that calls a tool).
    """

    name: str = "tool-calls"
    target: Target = "tool_call"

    def __call__(self, reply: Turn, reference: Turn, /) -> float:
        if not reference.tool_calls:
            if reply.tool_calls:
                return 0.0
            return ExactMatch()(reply, reference)
        remaining = [(c.name, _canonical(c.parsed_arguments())) for c in reply.tool_calls]
        matched = 0
        for call in reference.tool_calls:
            wanted = (call.name, _canonical(call.parsed_arguments()))
            if wanted in remaining:
                remaining.remove(wanted)
                matched += 1
        return matched / max(len(reply.tool_calls), len(reference.tool_calls))


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def word_list(text: str, *, case: bool) -> list[str]:
    return _WORDS.findall(text.casefold() if case else text)


@dataclass(frozen=True)
class TokenF1:
    """Word overlap between the reply and the reference: the F1 of their words.

    Words are runs of letters and digits (punctuation is ignored), counted with
    repeats: precision is the share of the reply's words found in the reference,
    recall the share of the reference's words found in the reply, and the score
    their harmonic mean (SQuAD's token F1). A reply that says the same thing in
    other words scores low: this measures closeness to the reference, not truth.

    Attributes:
        ignore_case: compare words case-insensitively (Unicode casefold).
    """

    ignore_case: bool = True
    name: str = "token-f1"
    target: Target = "final"

    def __call__(self, reply: Turn, reference: Turn, /) -> float:
        got = word_list(reply.text, case=self.ignore_case)
        wanted = word_list(reference.text, case=self.ignore_case)
        if not got or not wanted:
            return float(got == wanted)
        common = sum((Counter(got) & Counter(wanted)).values())
        if not common:
            return 0.0
        precision, recall = common / len(got), common / len(wanted)
        return 2 * precision * recall / (precision + recall)


def _edit_distance(a: list[str], b: list[str]) -> int:
    """Levenshtein distance between two word lists (insert, delete, substitute: 1 each)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, word in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != other))
            )
        previous = current
    return previous[-1]


def _distance_function() -> Any:
    """rapidfuzz's Levenshtein distance when installed (the same numbers, in C), else ours."""
    try:
        from rapidfuzz.distance import Levenshtein
    except ImportError:
        return _edit_distance
    return Levenshtein.distance


@dataclass(frozen=True)
class EditSimilarity:
    """How little editing turns the reply into the reference: ``1 - distance / longer length``.

    The distance is Levenshtein's over words (runs of letters and digits; one
    insertion, deletion or substitution of a word costs 1), so unlike
    :class:`TokenF1` it also counts word order. Two empty texts score 1. It is a
    rough signal of closeness to the reference, cheap and without a judge: a
    reply that says the same in other words scores low. With ``rapidfuzz``
    installed (``pip install 'ftkit[similarity]'``) the distance is computed in C;
    without it, in Python, with the same result.

    Attributes:
        ignore_case: compare words case-insensitively (Unicode casefold).
    """

    ignore_case: bool = True
    name: str = "similarity"
    target: Target = "final"

    def __call__(self, reply: Turn, reference: Turn, /) -> float:
        got = word_list(reply.text, case=self.ignore_case)
        wanted = word_list(reference.text, case=self.ignore_case)
        longer = max(len(got), len(wanted))
        if not longer:
            return 1.0
        return 1.0 - float(_DISTANCE(got, wanted)) / longer


_DISTANCE = _distance_function()
