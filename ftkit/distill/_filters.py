"""What keeps a teacher's answer out of the training file, each reason counted by name.

An answer is dropped, before anything is written to ``out``, by the first filter
it fails, in this order of the built-ins:

- ``"refusal"``: the API says the model refused (the message's ``refusal`` field);
- ``"length"``: the answer was cut by the length limit (``finish_reason == "length"``),
  so training on it would teach the student to stop mid-sentence;
- ``"empty"``: no text and no tool call, nothing to learn;
- ``"json"``: the answer's text is not JSON (:class:`~ftkit.evaluation.JsonValid`);
- a :class:`ScoreFilter`: any ftkit scorer, or any ``fn(reply, reference) -> float``,
  under a minimum score; its name is the reason.

A call that failed (retries exhausted, a 400) has no answer; the result counts it
as ``"error"`` whatever the filters are. An answer that passes every filter but
cannot be a training turn (a refusal kept by ``filters=[]``: no content) is
counted as ``"invalid"``. No filter may take either name.

A scorer is called as the evaluation calls it, ``scorer(reply, reference)`` with two
:class:`~ftkit.evaluation.Turn` objects. The reference is the assistant turn the
prompt record ended with (removed before asking), or an empty turn when the record
had none: :class:`~ftkit.evaluation.JsonValid` ignores it, a comparing scorer
(``json-fields``, ``token-f1``) then keeps only answers close to the reference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .._exceptions import UsageError
from ..backend import ChatAnswer
from ..evaluation._choosing import scorer_name
from ..evaluation._scorers import JsonValid, ToolCallData, Turn

__all__ = [
    "DEFAULT_FILTERS",
    "FilterArg",
    "Resolved",
    "ScoreFilter",
    "names",
    "resolve_filters",
    "verdict",
]

BUILT_IN = ("refusal", "length", "empty", "json")
RESERVED = ("error", "invalid")
"""Reasons no filter may take: a failed call, and an answer that is not a valid record."""
DEFAULT_FILTERS: tuple[str, ...] = ("refusal", "length", "empty")
"""What ``generate`` and ``from_stored`` drop unless told otherwise."""


@dataclass(frozen=True)
class ScoreFilter:
    """Drop answers that ``scorer`` scores under ``minimum``.

    Args:
        scorer: ``fn(reply: Turn, reference: Turn) -> float`` in [0, 1] (any ftkit scorer).
        minimum: the lowest score kept (1.0: only answers the scorer fully accepts).
        name: the drop reason (default: the scorer's name, e.g. ``"json"``).
    """

    scorer: Callable[[Turn, Turn], float]
    minimum: float = 1.0
    name: str = ""

    def __post_init__(self) -> None:
        if not callable(self.scorer):
            raise UsageError(f"ScoreFilter needs a scorer, got {type(self.scorer).__name__}")
        minimum = self.minimum
        if isinstance(minimum, bool) or not isinstance(minimum, (int, float)):
            raise UsageError(f"ScoreFilter minimum must be a number, got {minimum!r}")
        if not isinstance(self.name, str):
            raise UsageError(f"ScoreFilter name must be a string, got {self.name!r}")

    @property
    def reason(self) -> str:
        return self.name or scorer_name(self.scorer)

    def keeps(self, reply: Turn, reference: Turn) -> bool:
        score = float(self.scorer(reply, reference))
        if not 0.0 <= score <= 1.0:
            raise UsageError(f"filter {self.reason!r} scored {score}, outside [0, 1]")
        return score >= self.minimum


FilterArg = str | ScoreFilter | Callable[[Turn, Turn], float]
"""A built-in's name, a :class:`ScoreFilter`, or a scorer (kept at a score of 1)."""

Resolved = tuple[str | ScoreFilter, ...]


def resolve_filters(filters: Sequence[FilterArg] | None) -> Resolved:
    """The filters, checked: names known, scorers wrapped, each reason once.

    Raises:
        UsageError: an unknown name, something that is not a scorer, a reason twice.
    """
    if filters is None:
        return ()
    if isinstance(filters, str) or not isinstance(filters, Sequence):
        raise UsageError(f"filters must be a list (e.g. ['refusal', 'length']), got {filters!r}")
    resolved: list[str | ScoreFilter] = []
    for item in filters:
        if isinstance(item, str):
            if item not in BUILT_IN:
                raise UsageError(
                    f"unknown filter {item!r}; use one of {', '.join(BUILT_IN)} or a scorer"
                )
            resolved.append(item)
        elif isinstance(item, ScoreFilter):
            resolved.append(item)
        elif callable(item):
            resolved.append(ScoreFilter(item))
        else:
            raise UsageError(f"a filter must be a name or a scorer, got {type(item).__name__}")
    reasons = [reason_of(f) for f in resolved]
    twice = sorted({r for r in reasons if reasons.count(r) > 1})
    taken = sorted(set(reasons) & set(RESERVED))
    if twice or taken:
        raise UsageError(
            f"filter reasons must be distinct and none of {', '.join(RESERVED)}: "
            + ", ".join(twice + taken)
        )
    return tuple(resolved)


def reason_of(item: str | ScoreFilter) -> str:
    return item if isinstance(item, str) else item.reason


def names(filters: Resolved) -> list[str]:
    """What the journal records of the filters in force, in order.

    A built-in's name; a :class:`ScoreFilter`'s reason and minimum (``"json-fields>=0.5"``),
    so a re-run with another minimum is refused like one with other filters: the answers
    the stricter minimum dropped are journaled and would not be asked again.
    """
    return [f if isinstance(f, str) else f"{f.reason}>={f.minimum:g}" for f in filters]


def turn_of(answer: ChatAnswer) -> Turn:
    return Turn(answer.content, tuple(ToolCallData(n, a) for n, a in answer.tool_calls))


_JSON = JsonValid()


def verdict(filters: Resolved, answer: ChatAnswer, reference: Turn | None) -> str | None:
    """The reason ``answer`` is dropped, or None to keep it."""
    reply = turn_of(answer)
    for item in filters:
        if item == "refusal":
            failed = answer.refusal is not None
        elif item == "length":
            failed = answer.finish_reason == "length"
        elif item == "empty":
            failed = not reply.text.strip() and not reply.tool_calls
        elif item == "json":
            failed = not _JSON(reply, Turn())
        else:
            assert isinstance(item, ScoreFilter)
            failed = not item.keeps(reply, reference or Turn())
        if failed:
            return reason_of(item)
    return None
