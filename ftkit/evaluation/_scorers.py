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
- :class:`AutoScorer` (``"auto"``, the default): one of the above, chosen from the
  test set's references by :func:`choose_scorer` (tool calls, JSON objects, short
  answers or free text).

A scorer that cannot fit the references (``exact`` on long free text, ``json`` on
references that are not JSON) is kept, with a warning logged before any call and
shown in the report (:func:`fit_scorer`).

A scorer may carry a ``target`` attribute: ``"final"`` (default) scores the last
assistant turn of each test example, ``"tool_call"`` the last turn that calls a tool.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from .._exceptions import UsageError

__all__ = [
    "SCORERS",
    "AutoScorer",
    "ExactMatch",
    "JsonFields",
    "JsonValid",
    "Scorer",
    "ScorerArg",
    "Target",
    "TokenF1",
    "ToolCallData",
    "ToolCallMatch",
    "Turn",
    "choose_scorer",
    "fit_scorer",
    "resolve_scorer",
]

log = logging.getLogger("ftkit.evaluation")

Target = Literal["final", "tool_call"]
_SPACES = re.compile(r"\s+")
_WORDS = re.compile(r"\w+", re.UNICODE)
# A reference of at most this many words, on one line, is a short answer (a label, a
# number, a name) that a good reply can match exactly; a longer one is free text.
SHORT_ANSWER_WORDS = 5


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
        try:
            value = json.loads(reply.text)
        except ValueError:
            return 0.0
        return float(isinstance(value, dict) or not self.require_object)


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
        try:
            expected = json.loads(reference.text)
        except ValueError:
            raise UsageError(
                f"the json-fields scorer needs JSON references; got {reference.text[:60]!r}"
            ) from None
        if not isinstance(expected, dict):
            raise UsageError("the json-fields scorer needs a JSON object as reference")
        try:
            got = json.loads(reply.text)
        except ValueError:
            return 0.0
        if not isinstance(got, dict):
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


def _words(text: str, *, case: bool) -> list[str]:
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
        got = _words(reply.text, case=self.ignore_case)
        wanted = _words(reference.text, case=self.ignore_case)
        if not got or not wanted:
            return float(got == wanted)
        common = sum((Counter(got) & Counter(wanted)).values())
        if not common:
            return 0.0
        precision, recall = common / len(got), common / len(wanted)
        return 2 * precision * recall / (precision + recall)


def _json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _short(turn: Turn) -> bool:
    words = _words(turn.text, case=False)
    return "\n" not in turn.text.strip() and len(words) <= SHORT_ANSWER_WORDS


def _median_words(references: Sequence[Turn]) -> int:
    # By hand: `statistics` imports `random` and `fractions`, and the CLI imports this module.
    counts = sorted(len(_words(r.text, case=False)) for r in references)
    middle = len(counts) // 2
    return counts[middle] if len(counts) % 2 else round((counts[middle - 1] + counts[middle]) / 2)


def choose_scorer(references: Sequence[Turn]) -> tuple[Scorer, str]:
    """The built-in scorer that fits these references, and why (what ``"auto"`` uses).

    The first rule that every reference meets wins:

    1. every reference calls tools: ``tool-calls``;
    2. every reference is a JSON object: ``json-fields``;
    3. every reference is a short answer (one line of at most
       :data:`SHORT_ANSWER_WORDS` words): ``exact``;
    4. otherwise the references are free text: ``token-f1`` (word overlap), since
       exact match would give 0 to any reply that is not the reference word for word.
    """
    if not references:
        return ExactMatch(), "no references"
    if all(r.tool_calls for r in references):
        return ToolCallMatch(), "the references call tools"
    if all(_json_object(r.text) for r in references):
        return JsonFields(), "the references are JSON objects"
    if all(_short(r) for r in references):
        return (
            ExactMatch(),
            f"the references are short answers (at most {SHORT_ANSWER_WORDS} words)",
        )
    return TokenF1(), (
        f"the references are free text (median {_median_words(references)} words), "
        "which exact match scores 0 unless a reply repeats them word for word"
    )


@dataclass(frozen=True)
class AutoScorer:
    """Chooses a built-in scorer from the test set's references (:func:`choose_scorer`).

    :func:`ftkit.evaluate` fits it to the whole test set before asking any model
    (:func:`fit_scorer`); the report names the scorer chosen and why. Called
    directly on one pair, it chooses from that one reference.
    """

    name: str = "auto"
    target: Target = "final"

    def __call__(self, reply: Turn, reference: Turn, /) -> float:
        chosen, _ = choose_scorer([reference])
        return float(chosen(reply, reference))


@dataclass(frozen=True)
class _Fitted:
    """A scorer with a note for the report: what ``auto`` chose, or why it may not fit."""

    scorer: Any
    note: str

    @property
    def name(self) -> str:
        return scorer_name(self.scorer)

    @property
    def target(self) -> Target:
        target: Target = getattr(self.scorer, "target", "final")
        return target

    def __call__(self, reply: Turn, reference: Turn, /) -> float:
        return float(self.scorer(reply, reference))


def fit_scorer(scorer: Any, references: Sequence[Turn]) -> Any:
    """Settle the scorer for a test set, before any model is asked.

    ``auto`` becomes the scorer :func:`choose_scorer` picks, with a ``note`` saying
    which and why. A built-in that cannot fit the references gets a ``note`` and a
    logged warning naming the scorer to use instead: ``exact`` on free text (every
    model would score about 0) and ``json`` on references that are not JSON. Any
    other scorer is returned as it is.

    Args:
        scorer: what :func:`resolve_scorer` returned.
        references: the test examples' reference turns.
    """
    if isinstance(scorer, AutoScorer):
        chosen, reason = choose_scorer(references)
        note = f"scorer auto chose {scorer_name(chosen)}: {reason}"
        log.info("scorer %s", note)
        return _Fitted(chosen, note)
    warning = None
    if not references:
        return scorer
    if isinstance(scorer, ExactMatch) and isinstance(choose_scorer(references)[0], TokenF1):
        warning = (
            f"the references are free text (median {_median_words(references)} words), "
            "so every model scores about 0 unless a reply repeats them word for word; "
            "use scorer='token-f1' (word overlap; ftkit eval --scorer token-f1) or 'auto', "
            "or a function fn(reply, reference) -> float"
        )
    elif isinstance(scorer, JsonValid) and not any(_parses(r.text) for r in references):
        chosen, _ = choose_scorer(references)
        warning = (
            "the references are not JSON, so it only checks that a reply parses as JSON; "
            f"use scorer={scorer_name(chosen)!r} or 'auto'"
        )
    if warning is None:
        return scorer
    message = f"scorer {scorer_name(scorer)} does not fit this test set: {warning}"
    log.warning("%s", message)
    return _Fitted(scorer, f"warning: {message}")


@dataclass(frozen=True)
class _Callable:
    """A user's function, named, with its score checked."""

    function: Callable[[Turn, Turn], float | bool]
    name: str
    target: Target = "final"

    def __call__(self, reply: Turn, reference: Turn, /) -> float:
        value = self.function(reply, reference)
        if isinstance(value, bool):
            return float(value)
        if not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
            raise UsageError(f"scorer {self.name!r} must return a number in [0, 1], got {value!r}")
        return float(value)


SCORERS: Mapping[str, Callable[[], Scorer]] = {
    "auto": AutoScorer,
    "exact": ExactMatch,
    "json": JsonValid,
    "json-fields": JsonFields,
    "tool-calls": ToolCallMatch,
    "token-f1": TokenF1,
}
"""The built-in scorers by name (what ``scorer="..."`` and ``ftkit eval --scorer`` accept)."""

ScorerArg = str | Callable[[Turn, Turn], "float | bool"]
"""What ``scorer=`` accepts: a built-in's name, a scorer object, or any ``fn(reply, reference)``."""


def scorer_name(scorer: Any) -> str:
    """The name a report shows for a scorer."""
    name = getattr(scorer, "name", None)
    if isinstance(name, str) and name:
        return name
    return str(getattr(scorer, "__name__", type(scorer).__name__))


def resolve_scorer(scorer: ScorerArg) -> Any:
    """Turn ``scorer=`` into a callable with ``name`` and ``target``.

    Raises:
        UsageError: an unknown name or something that is not callable.
    """
    if isinstance(scorer, str):
        factory = SCORERS.get(scorer)
        if factory is None:
            raise UsageError(
                f"unknown scorer {scorer!r}; use one of {', '.join(SCORERS)} or pass a function "
                "fn(reply, reference) -> float"
            )
        return factory()
    if not callable(scorer):
        raise UsageError(f"scorer must be a name or a callable, got {type(scorer).__name__}")
    if isinstance(
        scorer,
        (AutoScorer, ExactMatch, JsonValid, JsonFields, ToolCallMatch, TokenF1, _Callable, _Fitted),
    ):
        return scorer
    target = getattr(scorer, "target", "final")
    if target == "final":
        return _Callable(scorer, scorer_name(scorer), "final")
    if target == "tool_call":
        return _Callable(scorer, scorer_name(scorer), "tool_call")
    raise UsageError(f"scorer target must be 'final' or 'tool_call', got {target!r}")


def scorer_names() -> Sequence[str]:
    """The names of the built-in scorers."""
    return tuple(SCORERS)
