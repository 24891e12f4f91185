"""Which scorer an evaluation uses: the automatic choice, the fit check, ``scorer=`` resolved.

:func:`choose_scorer` picks a built-in scorer (:mod:`._scorers`) from the test
set's references (tool calls, JSON objects, short answers or free text);
:class:`AutoScorer` is that choice as a scorer; :func:`fit_scorer` keeps a
scorer that cannot fit the references but logs (and the report shows) why;
:func:`resolve_scorer` turns the ``scorer=`` argument, a name or a function,
into a named, targeted callable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._exceptions import UsageError
from ._judges import PairwiseJudge, RubricJudge
from ._scorers import (
    NOT_JSON,
    EditSimilarity,
    ExactMatch,
    JsonFields,
    JsonValid,
    Scorer,
    Target,
    TokenF1,
    ToolCallMatch,
    Turn,
    json_value,
    word_list,
)

__all__ = [
    "SCORERS",
    "AutoScorer",
    "ScorerArg",
    "choose_scorer",
    "fit_scorer",
    "resolve_scorer",
    "scorer_name",
]

log = logging.getLogger("ftkit.evaluation")

# A reference of at most this many words, on one line, is a short answer (a label, a
# number, a name) that a good reply can match exactly; a longer one is free text.
SHORT_ANSWER_WORDS = 5


def _json_object(text: str) -> bool:
    return isinstance(json_value(text), dict)


def _parses(text: str) -> bool:
    return json_value(text) is not NOT_JSON


def _short(turn: Turn) -> bool:
    words = word_list(turn.text, case=False)
    return "\n" not in turn.text.strip() and len(words) <= SHORT_ANSWER_WORDS


def _median_words(references: Sequence[Turn]) -> int:
    # By hand: `statistics` imports `random` and `fractions`, and the CLI imports this module.
    counts = sorted(len(word_list(r.text, case=False)) for r in references)
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
            "for style, tone or open answers use a model judge: scorer='pairwise' or "
            "'rubric' with judge='MODEL' (ftkit eval --scorer pairwise --judge MODEL); "
            "for a rough signal without one, 'token-f1' (word overlap) or 'similarity'"
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


SCORERS: Mapping[str, Callable[[], Scorer | PairwiseJudge | RubricJudge]] = {
    "auto": AutoScorer,
    "exact": ExactMatch,
    "json": JsonValid,
    "json-fields": JsonFields,
    "tool-calls": ToolCallMatch,
    "token-f1": TokenF1,
    "similarity": EditSimilarity,
    "pairwise": PairwiseJudge,
    "rubric": RubricJudge,
}
"""The built-in scorers by name (what ``scorer="..."`` and ``ftkit eval --scorer`` accept).

``pairwise`` and ``rubric`` ask a judge model (``judge=``); see :mod:`._judges`."""

ScorerArg = str | PairwiseJudge | RubricJudge | Callable[[Turn, Turn], "float | bool"]
"""What ``scorer=`` accepts: a built-in's name, a scorer or judge object, or any
``fn(reply, reference)``."""


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
    if isinstance(scorer, (PairwiseJudge, RubricJudge)):
        return scorer
    if not callable(scorer):
        raise UsageError(
            f"scorer must be a name, a judge or a callable, got {type(scorer).__name__}"
        )
    if isinstance(
        scorer,
        (
            AutoScorer,
            ExactMatch,
            JsonValid,
            JsonFields,
            ToolCallMatch,
            TokenF1,
            EditSimilarity,
            _Callable,
            _Fitted,
        ),
    ):
        return scorer
    target = getattr(scorer, "target", "final")
    if target == "final":
        return _Callable(scorer, scorer_name(scorer), "final")
    if target == "tool_call":
        return _Callable(scorer, scorer_name(scorer), "tool_call")
    raise UsageError(f"scorer target must be 'final' or 'tool_call', got {target!r}")
