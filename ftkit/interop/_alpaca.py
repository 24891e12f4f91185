"""Alpaca lines -> OpenAI chat records.

An Alpaca line is ``{"instruction", "input", "output"}``: the instruction and its
optional input make the user message, the output the assistant's. LLaMA-Factory's
extensions are read too: ``system`` (the first message), ``history`` (earlier
``[question, answer]`` pairs, in order, before the last exchange) and, for preference
data, ``chosen``/``rejected`` instead of ``output`` (a DPO record).

The input follows the instruction after a blank line, the layout of the Alpaca
prompt template (``### Instruction:`` ... ``### Input:``) without its headers: the
headers are a prompt format of their own, not part of the data.
"""

from __future__ import annotations

from typing import Any

from .._exceptions import RecordError
from ._fields import LineNotes

__all__ = ["convert_alpaca"]

_KNOWN = frozenset({"instruction", "input", "output", "system", "history", "chosen", "rejected"})


def _text(obj: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        what = "missing" if value is None else "not a string"
        raise RecordError(
            f"{key} is {what}; an Alpaca line holds instruction, input and output strings",
            path=key,
            code="missing_field" if value is None else "wrong_type",
        )
    return value


def convert_alpaca(obj: dict[str, Any], notes: LineNotes) -> dict[str, Any]:
    """The OpenAI record (SFT, or DPO with ``chosen``/``rejected``) of one Alpaca line.

    Raises:
        RecordError: a missing or ill-typed field, by name.
    """
    instruction = _text(obj, "instruction")
    assert instruction is not None
    extra = _text(obj, "input", required=False)
    messages: list[dict[str, Any]] = []
    system = _text(obj, "system", required=False)
    if system:
        messages.append({"role": "system", "content": system})
        notes.mapped("system", 1, "became the first (system) message")
    messages += _history(obj.get("history"), notes)
    user = instruction
    notes.mapped("instruction", 1, "became the user message")
    if extra:
        user = f"{instruction}\n\n{extra}" if instruction else extra
        notes.mapped("input", 1, "appended to the instruction after a blank line")
    messages.append({"role": "user", "content": user})
    for key in obj:
        if key not in _KNOWN:
            notes.unknown(key)
    if "chosen" in obj or "rejected" in obj:
        chosen, rejected = _text(obj, "chosen"), _text(obj, "rejected")
        if "output" in obj:
            notes.unknown("output")  # a preference line's output is neither side
        notes.mapped("chosen", 1, "became preferred_output")
        notes.mapped("rejected", 1, "became non_preferred_output")
        return {
            "input": {"messages": messages},
            "preferred_output": [{"role": "assistant", "content": chosen}],
            "non_preferred_output": [{"role": "assistant", "content": rejected}],
        }
    output = _text(obj, "output")
    notes.mapped("output", 1, "became the assistant message")
    messages.append({"role": "assistant", "content": output})
    return {"messages": messages}


def _history(value: Any, notes: LineNotes) -> list[dict[str, Any]]:
    """``history``: ``[[question, answer], ...]`` -> alternating user/assistant messages."""
    if value is None or value == []:
        return []
    if not isinstance(value, list):
        raise RecordError(
            "history must be a list of [question, answer] pairs", path="history", code="wrong_type"
        )
    messages: list[dict[str, Any]] = []
    for index, pair in enumerate(value):
        if not (
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(s, str) for s in pair)
        ):
            raise RecordError(
                "each history item must be a [question, answer] pair of strings",
                path=f"history[{index}]",
                code="wrong_type",
            )
        messages += [
            {"role": "user", "content": pair[0]},
            {"role": "assistant", "content": pair[1]},
        ]
    notes.mapped(
        "history", len(value), "each [question, answer] pair became a user and an assistant turn"
    )
    return messages
