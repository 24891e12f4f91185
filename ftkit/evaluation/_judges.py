"""Model judges: a pairwise preference or a rubric grade, asked of a judge model.

Exact match and word overlap cannot say whether a reply is sarcastic, polite or
right in other words; a strong model asked to judge can, with known biases that
ftkit counters where it can:

- **Position bias** (judges favour the answer shown first, or second): a
  :class:`PairwiseJudge` asks both orders and counts a split verdict as a tie;
  the report shows how often the judge picked the first position.
- **Verbosity bias** (longer answers win): the instructions say length is no
  merit; the report keeps each reply's tokens, so a win bought by length shows.
- **Self-preference** (a judge favours its own family's answers): use a judge
  from another family than the models compared when you can (``client=`` may be
  another provider's).
- **Unreadable verdicts**: replies are asked as JSON under a schema, read
  strictly, and a malformed one is asked again (``attempts``), then counted as a
  judge error, never guessed at.

A judge object is passed as ``scorer=`` (or built from ``scorer="pairwise"`` /
``"rubric"`` and ``judge="MODEL"``); its calls go through the same program,
retry policy, results directory and cost cap as the models' own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .._exceptions import UsageError
from ._judge_prompts import (
    Malformed,
    pairwise_messages,
    pairwise_schema,
    read_grade,
    read_verdict,
    render_conversation,
    rubric_messages,
    rubric_schema,
)
from ._scorers import Target, Turn

__all__ = [
    "DEFAULT_JUDGE_MODEL",
    "Judge",
    "Malformed",
    "PairwiseJudge",
    "RubricJudge",
    "fingerprint",
    "is_judge",
]

DEFAULT_JUDGE_MODEL = "gpt-4.1-2025-04-14"
"""The judge used with an OpenAI client when none is named (a strong, priced snapshot)."""

_PAIRWISE_CRITERIA_WITH_REFERENCE = (
    "the better answer does what the last message asks, says what the reference answer says "
    "(in other words if need be), and matches the reference's style and tone"
)
_PAIRWISE_CRITERIA = "the better answer is more helpful, correct and appropriate"
_RUBRIC_CRITERIA: Mapping[str, str] = {
    "correct": "says what the reference answer says (in other words if need be)",
    "style": "matches the reference answer's style and tone",
}
_REASK = (
    "Your previous reply could not be read ({problem}). Reply again with only the JSON "
    "object described, nothing before or after it."
)


def fingerprint(request: Mapping[str, Any]) -> str:
    """The digest a judge's stored reply is found by (the request without its model)."""
    body = {k: v for k, v in request.items() if k != "model"}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _reask(
    messages: list[dict[str, Any]],
    attempt: int,
    problem: str | None,
    history: Sequence[tuple[str | None, str]],
) -> None:
    """Append the re-ask: each unreadable reply shown back with what was wrong with it.

    With the whole history every attempt is a request of its own: a third attempt
    that repeated the second's messages would get the second's reply (from the
    results directory, or from a judge at temperature 0) and ask nothing new.
    """
    if history:
        for reply, why in history:
            messages.append({"role": "assistant", "content": reply or "(an empty reply)"})
            messages.append({"role": "user", "content": _REASK.format(problem=why)})
    elif attempt:
        messages.append({"role": "user", "content": _REASK.format(problem=problem or "malformed")})


@dataclass(frozen=True)
class _JudgeBase:
    model: str | None = None
    client: Any = field(default=None, repr=False, compare=False)
    reference: bool = True
    attempts: int = 3
    temperature: float | None = 0.0
    max_tokens: int | None = 400
    structured: bool = True

    def _check(self) -> None:
        if self.model is not None and (not isinstance(self.model, str) or not self.model.strip()):
            raise UsageError(f"the judge's model must be a model id, got {self.model!r}")
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int):
            raise UsageError(f"attempts must be a positive integer, got {self.attempts!r}")
        if self.attempts < 1:
            raise UsageError(f"attempts must be a positive integer, got {self.attempts!r}")

    def _request(
        self, messages: list[dict[str, Any]], schema: dict[str, Any], model: str
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"model": model, "messages": messages}
        if self.structured:
            body["response_format"] = schema
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if self.max_tokens is not None:
            body["max_completion_tokens"] = self.max_tokens
        return body

    def _shown_reference(self, reference: Turn) -> str | None:
        text = str(reference)
        return text if self.reference and text.strip() else None


@dataclass(frozen=True)
class PairwiseJudge(_JudgeBase):
    """A judge model picks the better of two replies, asked in both orders.

    For each test example and each pair of models, the judge sees the
    conversation, the reference answer (unless ``reference=False``) and the two
    replies as answers A and B, and returns ``{"reason", "winner": A|B|tie}``. It
    is asked again with the replies swapped: the pair is a win only when both
    orders prefer the same model, a tie otherwise (a split verdict is the
    judge's position bias, not a preference). Identical replies are a tie
    without asking.

    Attributes:
        model: the judge model (None: ``judge=`` of the evaluation, else
            :data:`DEFAULT_JUDGE_MODEL` with an OpenAI client, not an Azure one).
        client: the judge's own client (any provider ftkit speaks; None: the
            evaluation's client). It is used with ``max_retries=0``.
        criteria: what "better" means, one sentence (default: closer to what the
            reference says and how it says it; without a reference, more helpful,
            correct and appropriate).
        reference: show the judge the reference answer.
        pairs: which ``(a, b)`` label pairs to judge, each pair once (default: each
            model against every model listed before it, like the score comparison).
        attempts: how many times a malformed verdict is asked (the first included).
        temperature: sent to the judge (0: repeatable verdicts; None: not sent,
            for models that refuse it).
        max_tokens: caps the judge's reply (sent as ``max_completion_tokens``).
        structured: send the JSON schema as ``response_format`` (turn off for a
            judge model without structured outputs; the reply is read the same).
    """

    criteria: str | None = None
    pairs: Sequence[tuple[str, str]] | None = None
    name: str = "pairwise"
    target: Target = "final"
    kind: Literal["pairwise"] = "pairwise"

    def __post_init__(self) -> None:
        self._check()
        if self.criteria is not None and (
            not isinstance(self.criteria, str) or not self.criteria.strip()
        ):
            raise UsageError("criteria must be a sentence saying what makes an answer better")
        if self.pairs is not None:
            pairs = tuple(tuple(p) for p in self.pairs)
            if not all(len(p) == 2 and all(isinstance(x, str) for x in p) for p in pairs):
                raise UsageError("pairs must be (label, label) tuples, e.g. [('sft', 'base')]")
            object.__setattr__(self, "pairs", pairs)

    def criteria_text(self, with_reference: bool) -> str:
        """The standard the judge applies."""
        if self.criteria:
            return self.criteria.strip()
        return _PAIRWISE_CRITERIA_WITH_REFERENCE if with_reference else _PAIRWISE_CRITERIA

    def request(
        self,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        reference: Turn,
        first: Turn,
        second: Turn,
        *,
        attempt: int = 0,
        problem: str | None = None,
        history: Sequence[tuple[str | None, str]] = (),
    ) -> dict[str, Any]:
        """The judge request for one order (``first`` shown as answer A).

        ``history``: the earlier replies to this question that could not be read, each
        with what was wrong, oldest first; they are shown back to the judge (without
        it, ``attempt`` > 0 adds one note saying ``problem``).
        """
        shown = self._shown_reference(reference)
        judged = pairwise_messages(
            render_conversation(messages),
            shown,
            str(first),
            str(second),
            self.criteria_text(shown is not None),
        )
        _reask(judged, attempt, problem, history)
        return self._request(judged, pairwise_schema(), model)

    @staticmethod
    def read(text: str | None) -> tuple[str, str]:
        """``(winner, reason)``; raises :class:`~._judge_prompts.Malformed`."""
        return read_verdict(text)

    def label_pairs(self, labels: Sequence[str]) -> list[tuple[str, str]]:
        """The ``(a, b)`` pairs to judge, checked against the evaluation's labels."""
        if self.pairs is None:
            return [(labels[j], labels[i]) for j in range(len(labels)) for i in range(j)]
        if not self.pairs:
            raise UsageError("pairs names no pair to judge; leave it out to judge every pair")
        known = set(labels)
        seen: set[frozenset[str]] = set()
        for a, b in self.pairs:
            for label in (a, b):
                if label not in known:
                    raise UsageError(
                        f"pairs names {label!r}, which is not a model of this evaluation "
                        f"({', '.join(labels)})"
                    )
            if a == b:
                raise UsageError(f"pair ({a!r}, {b!r}) compares a model with itself")
            # (a, b) and (b, a) are one question asked in both orders already: judged
            # twice, each example would count twice in the win rate and its interval.
            if frozenset((a, b)) in seen:
                raise UsageError(f"pair ({a!r}, {b!r}) is given twice (in either order)")
            seen.add(frozenset((a, b)))
        return list(self.pairs)


@dataclass(frozen=True)
class RubricJudge(_JudgeBase):
    """A judge model grades each reply on named criteria, on an integer scale.

    The judge sees the conversation, the reference answer (unless
    ``reference=False``) and one reply, and returns an integer per criterion in
    ``scale`` (``{"reason", "scores": {criterion: n}}``, under a JSON schema).
    A reply's score is the mean of its criteria mapped onto [0, 1], so the
    models' means, intervals and win/tie/loss work as for any scorer; the report
    also gives each criterion's mean on the scale.

    Attributes:
        criteria: the criteria: names (``["sarcastic", "under 40 words"]``, the name
            is the instruction) or ``{name: what it means}``. Default: ``correct``
            and ``style`` against the reference.
        scale: ``(lowest, highest)`` integer grades, e.g. ``(1, 5)``; ``(0, 1)`` makes
            each criterion a yes/no check ("contains the fact").
        model, client, reference, attempts, temperature, max_tokens, structured: as
            for :class:`PairwiseJudge`.
    """

    criteria: Sequence[str] | Mapping[str, str] | None = None
    scale: tuple[int, int] = (1, 5)
    name: str = "rubric"
    target: Target = "final"
    kind: Literal["rubric"] = "rubric"

    def __post_init__(self) -> None:
        self._check()
        object.__setattr__(self, "criteria", dict(self._criteria()))
        low, high = self.scale if len(self.scale) == 2 else (None, None)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)):
            raise UsageError(f"scale must be two integers (low, high), got {self.scale!r}")
        if not low < high:
            raise UsageError(f"scale must go up: low < high, got {self.scale!r}")
        object.__setattr__(self, "scale", (low, high))

    def _criteria(self) -> Mapping[str, str]:
        given = self.criteria
        if given is None:
            return _RUBRIC_CRITERIA
        if isinstance(given, str):
            given = [given]
        named: dict[str, str] = {}
        items = given.items() if isinstance(given, Mapping) else ((c, c) for c in given)
        for name, text in items:
            if not isinstance(name, str) or not name.strip():
                raise UsageError(f"a criterion needs a non-empty name, got {name!r}")
            if not isinstance(text, str) or not text.strip():
                raise UsageError(f"criterion {name!r} needs a description")
            if name.strip() in named:
                raise UsageError(f"criterion {name!r} is given twice")
            named[name.strip()] = text.strip()
        if not named:
            raise UsageError("give at least one criterion")
        return named

    @property
    def criterion_names(self) -> tuple[str, ...]:
        """The criteria's names, in order."""
        return tuple(self.criteria)  # type: ignore[arg-type]

    def request(
        self,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        reference: Turn,
        answer: Turn,
        *,
        attempt: int = 0,
        problem: str | None = None,
        history: Sequence[tuple[str | None, str]] = (),
    ) -> dict[str, Any]:
        """The judge request that grades ``answer`` (``history``: as for pairwise)."""
        criteria: Mapping[str, str] = self.criteria  # type: ignore[assignment]
        judged = rubric_messages(
            render_conversation(messages),
            self._shown_reference(reference),
            str(answer),
            criteria,
            self.scale,
        )
        _reask(judged, attempt, problem, history)
        return self._request(judged, rubric_schema(self.criterion_names, self.scale), model)

    def read(self, text: str | None) -> tuple[dict[str, int], str]:
        """``({criterion: grade}, reason)``; raises :class:`~._judge_prompts.Malformed`."""
        return read_grade(text, self.criterion_names, self.scale)

    def score(self, grades: Mapping[str, int]) -> float:
        """The grades' mean, mapped onto [0, 1]."""
        low, high = self.scale
        return sum((g - low) / (high - low) for g in grades.values()) / len(grades)


Judge = PairwiseJudge | RubricJudge


def is_judge(scorer: object) -> bool:
    """Whether ``scorer`` asks a judge model (and so needs the judging phase)."""
    return isinstance(scorer, (PairwiseJudge, RubricJudge))
