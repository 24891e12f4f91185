"""What a judge model is shown and how its reply is read: the one contract of judging.

A judge request is a system message (the task, the criteria, the reply's form) and
one user message whose parts are set apart by tags on lines of their own::

    <conversation>
    [system] ...
    [user] ...
    </conversation>
    <reference>
    ...                      (only when the judge is shown the reference answer)
    </reference>
    <answer_a>
    ...
    </answer_a>
    <answer_b>               (pairwise; a rubric grade shows one <answer>)
    ...
    </answer_b>

The reply is a JSON object under a JSON schema sent as ``response_format`` (OpenAI,
Azure, Together and Fireworks all take ``{"type": "json_schema", ...}``), with the
``reason`` before the verdict so the model explains before it decides. A reply is
read strictly (:func:`read_verdict`, :func:`read_grade`): anything else is
*malformed* and asked again, never guessed at.

:func:`read_judge_request` reads a request back into its parts; ftkit's fake judge
(:mod:`ftkit.testing`) uses it, so the fake and the real prompt cannot drift apart.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "PAIRWISE_SCHEMA_NAME",
    "RUBRIC_SCHEMA_NAME",
    "JudgeRequest",
    "Malformed",
    "Verdict",
    "pairwise_messages",
    "pairwise_schema",
    "read_grade",
    "read_judge_request",
    "read_verdict",
    "render_conversation",
    "rubric_messages",
    "rubric_schema",
]

PAIRWISE_SCHEMA_NAME = "ftkit_pairwise_verdict"
RUBRIC_SCHEMA_NAME = "ftkit_rubric_grade"

Verdict = Literal["A", "B", "tie"]
_VERDICTS: tuple[Verdict, ...] = ("A", "B", "tie")
_TAGS = ("conversation", "reference", "answer", "answer_a", "answer_b")
_SECTION = re.compile(r"^<(" + "|".join(_TAGS) + r")>\n(.*?)\n</\1>$", re.DOTALL | re.MULTILINE)


class Malformed(ValueError):
    """A judge reply that does not follow the schema (the message says how)."""


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, Mapping) and part.get("type") == "text":
                parts.append(str(part.get("text", "")))
            elif isinstance(part, Mapping):
                parts.append(f"[{part.get('type', 'part')}]")
        return " ".join(parts)
    return ""


def _escape(text: str) -> str:
    """Keep a closing tag inside a message from ending its section early."""
    return re.sub(r"^(</?)(" + "|".join(_TAGS) + r")>", r"\1\\\2>", text, flags=re.MULTILINE)


def render_conversation(messages: Sequence[Mapping[str, Any]]) -> str:
    """The conversation as the judge reads it: one ``[role] text`` block per message.

    Tool calls are shown as ``name(arguments)``; images and audio as a ``[type]`` mark
    (a text judge cannot see them).
    """
    blocks = []
    for message in messages:
        role = str(message.get("role", "?"))
        text = _text(message.get("content"))
        tool_calls = message.get("tool_calls") or []
        functions = [c.get("function") or {} for c in tool_calls if isinstance(c, Mapping)]
        calls = [f"{f.get('name', '')}({f.get('arguments', '')})" for f in functions]
        if calls:
            text = (text + "\n" if text else "") + "calls " + "; ".join(calls)
        blocks.append(f"[{role}] {text}")
    return _escape("\n".join(blocks))


def _section(tag: str, body: str) -> str:
    return f"<{tag}>\n{_escape(body)}\n</{tag}>"


def _user(conversation: str, reference: str | None, answers: Sequence[tuple[str, str]]) -> str:
    parts = [f"<conversation>\n{conversation}\n</conversation>"]
    if reference is not None:
        parts.append(_section("reference", reference))
    parts.extend(_section(tag, text) for tag, text in answers)
    return "\n".join(parts)


def _schema(name: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {
            "name": name,
            "strict": True,
            "schema": {
                "type": "object",
                "properties": properties,
                "required": list(properties),
                "additionalProperties": False,
            },
        },
    }


def pairwise_schema() -> dict[str, Any]:
    """``response_format`` of a pairwise verdict: ``{"reason": str, "winner": A|B|tie}``."""
    return _schema(
        PAIRWISE_SCHEMA_NAME,
        {
            "reason": {"type": "string", "description": "one sentence: why"},
            "winner": {"type": "string", "enum": list(_VERDICTS)},
        },
    )


def rubric_schema(criteria: Sequence[str], scale: tuple[int, int]) -> dict[str, Any]:
    """``response_format`` of a rubric grade: a reason and an integer per criterion."""
    low, high = scale
    scores = {
        "type": "object",
        "properties": {
            name: {"type": "integer", "minimum": low, "maximum": high} for name in criteria
        },
        "required": list(criteria),
        "additionalProperties": False,
    }
    return _schema(
        RUBRIC_SCHEMA_NAME,
        {"reason": {"type": "string", "description": "one sentence: why"}, "scores": scores},
    )


def pairwise_messages(
    conversation: str, reference: str | None, first: str, second: str, criteria: str
) -> list[dict[str, Any]]:
    """The judge's messages for one order of one pair (``first`` is shown as answer A)."""
    shown = (
        "the conversation so far, a reference answer written by a person, and two "
        "candidate answers to the conversation's last message"
        if reference is not None
        else "the conversation so far and two candidate answers to its last message"
    )
    system = (
        f"You are an impartial judge. You are shown {shown}. Decide which candidate is "
        f"better by this standard: {criteria}\n"
        "The order in which the candidates are shown means nothing, and a longer answer is "
        "not better for being longer. If neither is better, answer tie.\n"
        'Reply with a JSON object: {"reason": one sentence, "winner": "A", "B" or "tie"}.'
    )
    user = _user(conversation, reference, (("answer_a", first), ("answer_b", second)))
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def rubric_messages(
    conversation: str,
    reference: str | None,
    answer: str,
    criteria: Mapping[str, str],
    scale: tuple[int, int],
) -> list[dict[str, Any]]:
    """The judge's messages to grade one answer on each criterion."""
    low, high = scale
    listed = "\n".join(f"- {name}: {text}" for name, text in criteria.items())
    shown = (
        "the conversation so far, a reference answer written by a person, and a candidate "
        "answer to the conversation's last message"
        if reference is not None
        else "the conversation so far and a candidate answer to its last message"
    )
    system = (
        f"You are a strict grader. You are shown {shown}. Grade the candidate on each "
        f"criterion with an integer from {low} (not at all) to {high} (fully):\n{listed}\n"
        "Grade each criterion on its own; a longer answer is not better for being longer.\n"
        'Reply with a JSON object: {"reason": one sentence, "scores": {criterion: integer}}.'
    )
    user = _user(conversation, reference, (("answer", answer),))
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def _object(text: str | None) -> dict[str, Any]:
    if not text or not text.strip():
        raise Malformed("the reply is empty")
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise Malformed(f"the reply is not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise Malformed(f"the reply is a JSON {type(value).__name__}, not an object")
    return value


def _reason(value: Mapping[str, Any]) -> str:
    reason = value.get("reason")
    if not isinstance(reason, str):
        raise Malformed('the reply has no "reason" string')
    return reason.strip()


def read_verdict(text: str | None) -> tuple[Verdict, str]:
    """``(winner, reason)`` from a pairwise judge's reply.

    Raises:
        Malformed: not a JSON object with a ``reason`` string and a ``winner`` of
            ``"A"``, ``"B"`` or ``"tie"`` (case and spaces forgiven, nothing else).
    """
    value = _object(text)
    winner = value.get("winner")
    if isinstance(winner, str):
        spelled = {"a": "A", "b": "B", "tie": "tie"}.get(winner.strip().casefold())
        if spelled is not None:
            return spelled, _reason(value)  # type: ignore[return-value]
    raise Malformed(f'"winner" must be "A", "B" or "tie", got {winner!r}')


def read_grade(
    text: str | None, criteria: Sequence[str], scale: tuple[int, int]
) -> tuple[dict[str, int], str]:
    """``({criterion: score}, reason)`` from a rubric judge's reply.

    Raises:
        Malformed: not a JSON object with a ``reason`` and an integer in the scale for
            every criterion (a missing, extra, fractional or out-of-range score).
    """
    value = _object(text)
    scores = value.get("scores")
    if not isinstance(scores, dict):
        raise Malformed('the reply has no "scores" object')
    low, high = scale
    read: dict[str, int] = {}
    for name in criteria:
        score = scores.get(name)
        if isinstance(score, float) and score.is_integer():
            score = int(score)
        if isinstance(score, bool) or not isinstance(score, int):
            raise Malformed(f"criterion {name!r} has no integer score (got {score!r})")
        if not low <= score <= high:
            raise Malformed(f"criterion {name!r} scored {score}, outside {low}..{high}")
        read[name] = score
    extra = sorted(set(scores) - set(criteria))
    if extra:
        raise Malformed(f"scores for unknown criteria: {', '.join(map(repr, extra))}")
    return read, _reason(value)


@dataclass(frozen=True)
class JudgeRequest:
    """A judge request read back into its parts (what :func:`read_judge_request` returns).

    Attributes:
        kind: ``"pairwise"`` or ``"rubric"`` (from the schema's name).
        conversation: the rendered conversation.
        reference: the reference answer, when shown.
        answers: the candidates in the order shown (two for pairwise, one for a rubric).
        criteria: a rubric's criterion names (empty for pairwise).
        scale: a rubric's ``(low, high)``.
    """

    kind: Literal["pairwise", "rubric"]
    conversation: str
    reference: str | None
    answers: tuple[str, ...]
    criteria: tuple[str, ...] = ()
    scale: tuple[int, int] = (1, 5)


def _unescape(text: str) -> str:
    return re.sub(r"^(</?)\\(" + "|".join(_TAGS) + r")>", r"\1\2>", text, flags=re.MULTILINE)


def read_judge_request(body: Mapping[str, Any]) -> JudgeRequest | None:
    """The parts of a Chat Completions body that ftkit's judge sent, or None for any other.

    A body is a judge's when its ``response_format`` is one of ftkit's judge schemas.
    """
    response_format = body.get("response_format")
    if not isinstance(response_format, Mapping):
        return None
    schema = response_format.get("json_schema")
    if not isinstance(schema, Mapping):
        return None
    name = schema.get("name")
    if name not in (PAIRWISE_SCHEMA_NAME, RUBRIC_SCHEMA_NAME):
        return None
    users = [
        _text(m.get("content"))
        for m in body.get("messages") or []
        if isinstance(m, Mapping) and m.get("role") == "user"
    ]
    user = next((text for text in users if "<conversation>" in text), "")
    sections = {tag: _unescape(text) for tag, text in _SECTION.findall(user)}
    if name == PAIRWISE_SCHEMA_NAME:
        return JudgeRequest(
            "pairwise",
            sections.get("conversation", ""),
            sections.get("reference"),
            (sections.get("answer_a", ""), sections.get("answer_b", "")),
        )
    scores = (schema.get("schema") or {}).get("properties", {}).get("scores", {})
    criteria = tuple(scores.get("properties", {}))
    first: Mapping[str, Any] = next(iter(scores.get("properties", {}).values()), {})
    scale = (int(first.get("minimum", 1)), int(first.get("maximum", 5)))
    return JudgeRequest(
        "rubric",
        sections.get("conversation", ""),
        sections.get("reference"),
        (sections.get("answer", ""),),
        criteria,
        scale,
    )
