"""The fake's judge: verdicts and grades a test can predict, for ftkit's model judges.

A Chat Completions request that ftkit's judge sent (its ``response_format`` is one of
the judge schemas, read back by :func:`~ftkit.evaluation._judge_prompts.read_judge_request`,
so the fake and the real prompt cannot drift apart) is answered here instead of by the
model's usual reply, with the JSON the schema asks for. The rules are simple enough
for a test to work out the verdict by hand:

- **pairwise**: each answer's closeness to the reference is ftkit's
  :class:`~ftkit.evaluation.TokenF1`; the closer one wins, equal (within 1e-9) is a
  tie. Without a reference shown, the longer answer wins (in characters): the fake
  judge has a *verbosity bias* on purpose, the one real judges are known for, so an
  evaluation can be seen to suffer from it when the reference is hidden;
- then two seeded flaws of real judges: ``tie_rate``, the share of pairs called a tie
  though one answer wins (its draw sorts the two answers, so both orders of ftkit's
  position swap get the same draw), and ``first_bias``, the share of verdicts that
  answer ``"A"`` whatever the answers (a position bias: its draw depends on the order,
  which is what ftkit's swap exists to catch);
- **rubric**: every criterion scores ``low + round(f1 * (high - low))`` (Python's
  ``round``) with ``f1`` the answer's token F1 against the reference; without a
  reference, the middle of the scale rounded down;
- ``malformed_rate``: the seeded share of replies that are prose instead of JSON, drawn
  on the whole request, so ftkit's re-ask (one more user message) can come out well.

The reason of every reply says what the fake did, in one sentence.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from ..evaluation._judge_prompts import JudgeRequest, Verdict
from ..evaluation._scorers import TokenF1, Turn

__all__ = ["Draw", "judge_reply", "pairwise_verdict", "rubric_grade"]

Draw = Callable[..., float]
"""A seeded number in ``[0, 1)`` for the strings given (the fake seeds it with the model)."""

_F1 = TokenF1()
_EQUAL = 1e-9


def _f1(answer: str, reference: str) -> float:
    return _F1(Turn(answer), Turn(reference))


def _decide(request: JudgeRequest) -> tuple[Verdict, str]:
    """The verdict the rules give, before the seeded flaws, and why."""
    first, second = request.answers
    if request.reference is not None:
        a, b = _f1(first, request.reference), _f1(second, request.reference)
        if abs(a - b) <= _EQUAL:
            return "tie", f"The answers are equally close to the reference (token F1 {a:.2f})."
        winner: Verdict = "A" if a > b else "B"
        high, low = max(a, b), min(a, b)
        return winner, (
            f"Answer {winner} is closer to the reference (token F1 {high:.2f} vs {low:.2f})."
        )
    a_len, b_len = len(first.strip()), len(second.strip())
    if a_len == b_len:
        return "tie", f"No reference was shown and the answers are as long ({a_len} characters)."
    winner = "A" if a_len > b_len else "B"
    return winner, (
        f"No reference was shown and answer {winner} is longer "
        f"({max(a_len, b_len)} vs {min(a_len, b_len)} characters)."
    )


def pairwise_verdict(
    request: JudgeRequest, draw: Draw, *, tie_rate: float, first_bias: float
) -> tuple[Verdict, str]:
    """``(winner, reason)`` of the fake judge for one order of one pair."""
    first, second = request.answers
    shown = request.reference if request.reference is not None else "\x00none"
    winner, reason = _decide(request)
    if (
        winner != "tie"
        and draw("judge-tie", request.conversation, shown, *sorted(request.answers)) < tie_rate
    ):
        winner, reason = "tie", reason[:-1] + ", yet the fake judge calls it a tie (its tie rate)."
    if draw("judge-first", request.conversation, shown, first, second) < first_bias:
        winner = "A"
        reason = (
            "The fake judge picks the answer shown first, whatever the answers (its first bias)."
        )
    return winner, reason


def rubric_grade(request: JudgeRequest) -> tuple[dict[str, int], str]:
    """``({criterion: score}, reason)`` of the fake judge for one answer."""
    low, high = request.scale
    if request.reference is None:
        score = (low + high) // 2
        reason = (
            f"No reference was shown, so every criterion scores the middle of the "
            f"{low}..{high} scale ({score})."
        )
    else:
        f1 = _f1(request.answers[0], request.reference)
        score = low + round(f1 * (high - low))
        reason = (
            f"Every criterion scores {score} of {low}..{high}: the answer's token F1 "
            f"against the reference is {f1:.2f}."
        )
    return dict.fromkeys(request.criteria, score), reason


def judge_reply(
    request: JudgeRequest,
    draw: Draw,
    prompt: str,
    *,
    tie_rate: float,
    first_bias: float,
    malformed_rate: float,
) -> str:
    """The text of the fake judge's reply: the JSON the schema asks for, or prose.

    Args:
        request: the judge request, read from the body.
        draw: the fake's seeded numbers.
        prompt: a digest of the whole request's messages (the draw of a malformed reply).
        tie_rate, first_bias, malformed_rate: the :class:`~ftkit.testing.ChatBehaviour`
            knobs of the same names (``judge_...``).
    """
    malformed = draw("judge-malformed", prompt) < malformed_rate
    if request.kind == "pairwise":
        winner, reason = pairwise_verdict(request, draw, tie_rate=tie_rate, first_bias=first_bias)
        if malformed:
            return (
                "Both answers are equally good."
                if winner == "tie"
                else f"Answer {winner} is better."
            )
        return json.dumps({"reason": reason, "winner": winner}, ensure_ascii=False)
    scores, reason = rubric_grade(request)
    if malformed:
        score = next(iter(scores.values()), request.scale[0])
        return f"I would give this answer {score} out of {request.scale[1]}."
    return json.dumps({"reason": reason, "scores": scores}, ensure_ascii=False)
