"""The judging phase: the judge's calls, in rounds, over the models' replies.

Once every model has answered (:mod:`._runner`'s first phase), :func:`judging`
builds the judge's requests from the replies and hands them out as rounds, each
one program of :mod:`._program` (the same window, retry policy, results log and
spending cap as the models' calls), which the caller's driver runs:

1. **Round 0** asks every verdict: for a :class:`~._judges.PairwiseJudge` both
   orders of every pair on every example (a pair whose two replies are the same
   text is a tie without asking); for a :class:`~._judges.RubricJudge` one grade
   per reply.
2. A reply that cannot be read (:class:`~._judge_prompts.Malformed`) is asked
   again in the next round, shown back to the judge with a message saying what
   was wrong (every earlier attempt's, so each attempt is a new request), up to the
   judge's ``attempts``; then it is a judge error. Those replies are logged like
   any other, so a rerun with the same results directory reuses them and gets
   the same error without a call; a rerun with more ``attempts`` asks on from
   where they stopped.
3. A call that failed (after the retry policy) is a judge error now and is
   asked again on resume, like a model's failed call.

Judge replies are logged in the results directory beside the models' (keyed by
the judge model and a digest of the whole request), so a resumed or re-scored
evaluation asks the judge only what it has not answered.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .._words import plural
from ._budget import CallEstimate, prompt_tokens, text_tokens
from ._examples import EvalExample
from ._judge_prompts import Malformed
from ._judges import Judge, PairwiseJudge, RubricJudge, fingerprint
from ._program import Book, Program, Task, program
from ._scorers import Turn
from ._store import ReplyStore, StoredReply

__all__ = [
    "GradeResult",
    "JudgeSummary",
    "Judged",
    "PairVerdict",
    "judge_estimates",
    "judging",
]

log = logging.getLogger("ftkit.evaluation")

Side = Literal["a", "b", "tie"]
Outcome = Literal["win", "tie", "loss"]

# Guesses at a judge's answer length, for the estimate before any call.
_VERDICT_TOKENS = 80
_GRADE_TOKENS = 40
_GRADE_TOKENS_PER_CRITERION = 12


@dataclass(frozen=True)
class PairVerdict:
    """The judge's verdict on one example for models ``a`` and ``b``.

    Attributes:
        a, b: the labels compared (``outcome`` is ``a``'s).
        outcome: ``"win"`` (both orders prefer ``a``), ``"loss"`` (both prefer ``b``),
            ``"tie"`` (a tie, a split verdict, or identical replies), or None when
            there is no verdict (a reply or the judge missing: ``error``).
        first: the verdict with ``a`` shown first (``"a"``, ``"b"`` or ``"tie"``).
        second: the verdict with ``b`` shown first.
        reasons: the judge's one-line reasons, in that order.
        identical: the replies were the same text; the judge was not asked.
        error: why there is no verdict.
        no_reply: there is no verdict because a model has no reply (not the judge's failing).
    """

    a: str
    b: str
    outcome: Outcome | None
    first: Side | None = None
    second: Side | None = None
    reasons: tuple[str, ...] = ()
    identical: bool = False
    error: str | None = None
    no_reply: bool = False

    @property
    def split(self) -> bool:
        """The two orders preferred different models (the judge's position bias)."""
        return {self.first, self.second} == {"a", "b"}

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"a": self.a, "b": self.b, "outcome": self.outcome}
        if self.first is not None or self.second is not None:
            data["orders"] = [self.first, self.second]
            data["reasons"] = list(self.reasons)
        if self.identical:
            data["identical"] = True
        if self.error:
            data["error"] = self.error
        return data


@dataclass(frozen=True)
class GradeResult:
    """A rubric judge's grade of one reply: ``{criterion: grade}`` and its reason, or an error."""

    grades: Mapping[str, int] | None
    reason: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class JudgeSummary:
    """What the judge did: its model, calls, tokens, cost and the verdicts it could not give.

    Attributes:
        kind: ``"pairwise"`` or ``"rubric"``.
        model: the judge model.
        criteria: the standard (pairwise) or the criteria's names (rubric).
        scale: a rubric's ``(low, high)``.
        calls: judge calls that answered in this run (reused ones excluded).
        reused: judge replies taken from the results directory.
        prompt_tokens, completion_tokens: the judge's tokens (reused included).
        cost_usd: what they cost at the dated inference prices, or None.
        cost_note: why there is no cost.
        malformed: replies that could not be read (each asked again, up to ``attempts``).
        errors: verdicts or grades the judge never gave (failed calls, malformed to the end).
        unreadable: those of ``errors`` whose every reply was malformed (no call failed):
            a rerun reuses those replies, so only more ``attempts`` asks them again.
        first_position_share: of the decisive pairwise verdicts (A or B), the share
            that picked the answer shown first; an unbiased judge is near 0.5.
        swapped: whether each pair was asked in both orders (pairwise: always).
    """

    kind: str
    model: str
    criteria: tuple[str, ...]
    scale: tuple[int, int] | None
    calls: int
    reused: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    cost_note: str | None
    malformed: int
    errors: int
    first_position_share: float | None = None
    swapped: bool = False
    unreadable: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["criteria"] = list(self.criteria)
        data["scale"] = list(self.scale) if self.scale else None
        return data


@dataclass
class Judged:
    """Everything the judging phase produced, for the report."""

    judge: Judge
    model: str
    verdicts: dict[int, list[PairVerdict]] = field(default_factory=dict)
    grades: dict[tuple[int, str], GradeResult] = field(default_factory=dict)
    summary: JudgeSummary | None = None


@dataclass(frozen=True)
class _Ask:
    """One judge question: which example, which verdict or grade, which attempt."""

    example: EvalExample
    key: str
    """``"<a>\\x00<b>\\x00<order>"`` for a pairwise order, ``"<label>"`` for a grade."""
    attempt: int
    problem: str | None = None
    history: tuple[tuple[str | None, str], ...] = ()
    """The earlier unreadable replies to this question and what was wrong, oldest first."""


def _reply(
    book_answers: Mapping[tuple[int, str], tuple[StoredReply, bool]], index: int, label: str
) -> Turn | None:
    found = book_answers.get((index, label))
    return found[0].reply if found is not None else None


def _same(first: Turn, second: Turn) -> bool:
    return str(first).strip() == str(second).strip()


def _request(judge: Judge, model: str, ask: _Ask, replies: Mapping[str, Turn]) -> dict[str, Any]:
    example = ask.example
    if isinstance(judge, PairwiseJudge):
        a, b, order = ask.key.split("\x00")
        first, second = (replies[a], replies[b]) if order == "0" else (replies[b], replies[a])
        return judge.request(
            model,
            example.messages,
            example.reference,
            first,
            second,
            attempt=ask.attempt,
            problem=ask.problem,
            history=ask.history,
        )
    return judge.request(
        model,
        example.messages,
        example.reference,
        replies[ask.key],
        attempt=ask.attempt,
        problem=ask.problem,
        history=ask.history,
    )


def _first_asks(
    judge: Judge, examples: Sequence[EvalExample], labels: Sequence[str]
) -> list[tuple[EvalExample, str]]:
    """Every (example, key) the judge is to answer, in a fixed order."""
    if isinstance(judge, PairwiseJudge):
        pairs = judge.label_pairs(labels)
        return [
            (example, f"{a}\x00{b}\x00{order}")
            for example in examples
            for a, b in pairs
            for order in ("0", "1")
        ]
    return [(example, label) for example in examples for label in labels]


def judge_estimates(
    judge: Judge,
    model: str,
    examples: Sequence[EvalExample],
    labels: Sequence[str],
    answers: Mapping[tuple[int, str], tuple[StoredReply, bool]],
    store: ReplyStore | None,
    reply_guess: Mapping[int, int],
    *,
    answered: bool = False,
) -> list[CallEstimate]:
    """The judge calls still to make, each estimated; before or after the models answered.

    A question whose replies are known is built as it will be sent (and skipped when
    the results directory already has its answer, or its replies are identical);
    one whose replies are not known yet is built with the reference standing in for
    each reply, plus ``reply_guess[example]`` tokens per reply shown. Once the models
    have ``answered``, a missing reply is a failed call: its questions are not asked.
    """
    calls: list[CallEstimate] = []
    answer_tokens = (
        _VERDICT_TOKENS
        if isinstance(judge, PairwiseJudge)
        else _GRADE_TOKENS + _GRADE_TOKENS_PER_CRITERION * len(judge.criterion_names)
    )
    for example, key in _first_asks(judge, examples, labels):
        shown = key.split("\x00")[:2] if isinstance(judge, PairwiseJudge) else [key]
        known = {label: _reply(answers, example.index, label) for label in shown}
        extra = 0
        if all(turn is not None for turn in known.values()):
            replies: dict[str, Turn] = {k: v for k, v in known.items() if v is not None}
            if isinstance(judge, PairwiseJudge) and _same(*replies.values()):
                continue
        elif answered:
            continue
        else:
            replies = {label: turn or example.reference for label, turn in known.items()}
            reference_tokens, _ = text_tokens(model, str(example.reference))
            missing = sum(1 for turn in known.values() if turn is None)
            extra = missing * max(0, reply_guess.get(example.index, 0) - reference_tokens)
        request = _request(judge, model, _Ask(example, key, 0), replies)
        if store is not None and store.get(model, fingerprint(request)) is not None:
            continue
        tokens, exact = prompt_tokens(model, request["messages"])
        calls.append(CallEstimate(model, tokens + extra, answer_tokens, exact))
    return calls


def _side(verdict: str, order: str) -> Side:
    """A verdict on answer A/B as the pair's side: ``a`` or ``b`` (or a tie)."""
    if verdict == "tie":
        return "tie"
    shown_first_is_a = order == "0"
    return "a" if (verdict == "A") == shown_first_is_a else "b"


def _combine(first: Side, second: Side) -> Outcome:
    if first == second == "a":
        return "win"
    if first == second == "b":
        return "loss"
    return "tie"


def judging(
    judge: Judge,
    model: str,
    examples: Sequence[EvalExample],
    labels: Sequence[str],
    answers: Mapping[tuple[int, str], tuple[StoredReply, bool]],
    make_book: Any,
    window: int,
) -> Generator[Program, None, Judged]:
    """The judge's rounds as programs to run; returns what they judged (module docstring).

    Args:
        judge: the judge.
        model: the judge model (resolved).
        examples: the evaluation's examples.
        labels: the models' labels, in order.
        answers: the models' replies, by ``(example index, label)``.
        make_book: ``make_book(tasks, first_round) -> Book`` (the evaluation's store,
            spending and progress).
        window: requests in flight at once.
    """
    judged = Judged(judge, model)
    pending: list[_Ask] = []
    identical: dict[tuple[int, str, str], bool] = {}
    for example, key in _first_asks(judge, examples, labels):
        shown = key.split("\x00")[:2] if isinstance(judge, PairwiseJudge) else [key]
        if any(_reply(answers, example.index, label) is None for label in shown):
            continue  # a model has no reply here: nothing to judge
        if isinstance(judge, PairwiseJudge):
            a, b = shown
            turns = [_reply(answers, example.index, label) for label in shown]
            if _same(turns[0], turns[1]):  # type: ignore[arg-type]
                identical[(example.index, a, b)] = True
                continue
        pending.append(_Ask(example, key, 0))
    read: dict[tuple[int, str], tuple[Any, str]] = {}
    failed: dict[tuple[int, str], str] = {}
    unread: set[tuple[int, str]] = set()  # of ``failed``: malformed to the end, no call failed
    malformed = calls = reused = prompt = completion = 0
    round_number = 0
    while pending:
        tasks = []
        for ask in pending:
            replies = {}
            shown = ask.key.split("\x00")[:2] if isinstance(judge, PairwiseJudge) else [ask.key]
            for label in shown:
                turn = _reply(answers, ask.example.index, label)
                assert turn is not None
                replies[label] = turn
            request = _request(judge, model, ask, replies)
            tasks.append(
                Task(
                    ask.example, f"{ask.key}\x00{ask.attempt}", model, fingerprint(request), request
                )
            )
        book: Book = make_book(tasks, round_number == 0)
        todo = book.todo()
        if round_number:
            log.info(
                "asking the judge again: %s",
                plural(len(pending), "malformed reply", "malformed replies"),
            )
        if todo:
            yield program(book, todo, window)
        calls += book.asked
        reused += book.reused
        retry: list[_Ask] = []
        for ask, task in zip(pending, tasks, strict=True):
            where = (ask.example.index, ask.key)
            found = book.answers.get((ask.example.index, task.label))
            if found is None:
                failed[where] = book.errors.get((ask.example.index, task.label), "not asked")
                continue
            stored = found[0]
            prompt += stored.prompt_tokens
            completion += stored.completion_tokens
            try:
                read[where] = judge.read(stored.reply.content)
            except Malformed as problem:
                malformed += 1
                if ask.attempt + 1 < judge.attempts:
                    history = (*ask.history, (stored.reply.content, str(problem)))
                    retry.append(_Ask(ask.example, ask.key, ask.attempt + 1, str(problem), history))
                else:
                    unread.add(where)
                    failed[where] = (
                        f"the judge's reply could not be read after "
                        f"{plural(judge.attempts, 'attempt')}: {problem}"
                    )
        pending = retry
        round_number += 1
    errors, unreadable = _collect(
        judge, judged, examples, labels, answers, read, failed, unread, identical
    )
    first_share = _first_position_share(judge, read)
    judged.summary = JudgeSummary(
        kind=judge.kind,
        model=model,
        criteria=(
            (judge.criteria_text(bool(examples) and judge.reference),)
            if isinstance(judge, PairwiseJudge)
            else judge.criterion_names
        ),
        scale=judge.scale if isinstance(judge, RubricJudge) else None,
        calls=calls,
        reused=reused,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cost_usd=None,
        cost_note=None,
        malformed=malformed,
        errors=errors,
        first_position_share=first_share,
        swapped=isinstance(judge, PairwiseJudge),
        unreadable=unreadable,
    )
    return judged


def _first_position_share(
    judge: Judge, read: Mapping[tuple[int, str], tuple[Any, str]]
) -> float | None:
    if not isinstance(judge, PairwiseJudge):
        return None
    decisive = [winner for winner, _ in read.values() if winner in ("A", "B")]
    return sum(1 for w in decisive if w == "A") / len(decisive) if decisive else None


def _collect(
    judge: Judge,
    judged: Judged,
    examples: Sequence[EvalExample],
    labels: Sequence[str],
    answers: Mapping[tuple[int, str], tuple[StoredReply, bool]],
    read: Mapping[tuple[int, str], tuple[Any, str]],
    failed: Mapping[tuple[int, str], str],
    unread: set[tuple[int, str]],
    identical: Mapping[tuple[int, str, str], bool],
) -> tuple[int, int]:
    """Turn the judge's answers into verdicts or grades.

    Returns how many are missing, and how many of those only for unreadable replies.
    """
    errors = unreadable = 0
    if isinstance(judge, RubricJudge):
        for example in examples:
            for label in labels:
                where = (example.index, label)
                if where in read:
                    grades, reason = read[where]
                    judged.grades[where] = GradeResult(grades, reason)
                elif where in failed:
                    errors += 1
                    unreadable += where in unread
                    judged.grades[where] = GradeResult(None, error=failed[where])
        return errors, unreadable
    for example in examples:
        verdicts: list[PairVerdict] = []
        for a, b in judge.label_pairs(labels):
            if identical.get((example.index, a, b)):
                verdicts.append(PairVerdict(a, b, "tie", identical=True))
                continue
            missing = [m for m in (a, b) if _reply(answers, example.index, m) is None]
            if missing:
                verdicts.append(
                    PairVerdict(
                        a, b, None, error=f"no reply from {', '.join(missing)}", no_reply=True
                    )
                )
                continue
            orders = [(example.index, f"{a}\x00{b}\x00{o}") for o in ("0", "1")]
            problems = [failed[w] for w in orders if w in failed]
            if problems or not all(w in read for w in orders):
                errors += 1
                # Unreadable: no order's call failed, some order's replies were all malformed.
                unreadable += any(w in unread for w in orders) and all(
                    w in read or w in unread for w in orders
                )
                verdicts.append(
                    PairVerdict(a, b, None, error=problems[0] if problems else "not asked")
                )
                continue
            (first, reason_1), (second, reason_2) = read[orders[0]], read[orders[1]]
            side_1, side_2 = _side(first, "0"), _side(second, "1")
            verdicts.append(
                PairVerdict(a, b, _combine(side_1, side_2), side_1, side_2, (reason_1, reason_2))
            )
        judged.verdicts[example.index] = verdicts
    return errors, unreadable
