"""TRL preference lines -> OpenAI DPO records.

TRL's DPO data has ``prompt``/``chosen``/``rejected`` in two types: *standard*
(strings) and *conversational* (message lists), and an *implicit-prompt* form with
only ``chosen``/``rejected``, whose shared beginning is the prompt. OpenAI's DPO
record is ``input.messages`` plus exactly one assistant message per side, so:

- a string prompt becomes one user message, each string reply an assistant message;
- messages ``chosen`` and ``rejected`` share at the start move into the prompt (that is
  how TRL itself reads the implicit form: ``trl.data_utils.extract_prompt``), and what
  is left on each side must be one assistant message;
- the implicit standard form is split as ``extract_prompt`` splits it: the longest
  shared prefix of the two strings, with a space just before the point they differ
  left to the replies;
- ``tools`` becomes ``input.tools``;
- Axolotl's DPO layout (``chat_template.default``, what ftkit's Axolotl export writes)
  is the conversational form with the prompt in ``messages`` and each side one message
  (not a list); TRL's image placeholders take their URLs from the ``images`` column,
  and tool calls written as chat templates read them (object arguments, no ids) are
  rewritten as OpenAI's (see :func:`._fields.pair_tool_calls`).

A *standard* prompt is one string: in Anthropic's HH-RLHF (implicit) it is the whole
``Human: ... Assistant:`` transcript before the last reply, and it becomes **one user
message** holding that transcript (as TRL reads it); the report says so, since a
multi-turn chat read this way is not split into turns.
"""

from __future__ import annotations

import re
from typing import Any

from .._exceptions import RecordError
from ._fields import (
    CallIds,
    LineNotes,
    clean_messages,
    convert_tools,
    pair_tool_calls,
    place_images,
)

__all__ = ["convert_trl", "extract_prompt"]

_KNOWN = frozenset({"prompt", "chosen", "rejected", "tools", "images"})
_SCORES = ("score_chosen", "score_rejected")


def extract_prompt(chosen: Any, rejected: Any) -> int:
    """Where the shared prompt of ``chosen`` and ``rejected`` ends (strings or lists).

    TRL's rule: the first index where they differ, one earlier when a string has a
    space just before it (the space belongs to the reply).
    """
    index = 0
    for index in range(min(len(chosen), len(rejected))):
        if chosen[index] != rejected[index]:
            if isinstance(chosen, str) and index and chosen[index - 1] == " ":
                index -= 1
            return index
    return min(len(chosen), len(rejected))


def convert_trl(obj: dict[str, Any], notes: LineNotes) -> dict[str, Any]:
    """The OpenAI DPO record of one TRL preference line.

    Raises:
        RecordError: a missing side, a mix of strings and lists, or replies that are not
            one assistant message each.
    """
    for key in ("chosen", "rejected"):
        if key not in obj:
            raise RecordError(
                f"a TRL preference line needs {key} (with chosen, rejected and an optional prompt)",
                path=key,
                code="missing_field",
            )
    chosen, rejected, prompt = obj["chosen"], obj["rejected"], obj.get("prompt")
    axolotl = "prompt" not in obj and "messages" in obj
    if axolotl:
        # Axolotl's DPO layout: the prompt in messages, each side one message.
        prompt = obj["messages"]
        chosen, rejected = _one_message(chosen, notes), _one_message(rejected, notes)
    if any(key in obj for key in _SCORES):
        notes.dropped("preference scores", 1, "OpenAI DPO keeps which reply won, not scores")
    for key in obj:
        if key not in _KNOWN and key not in _SCORES and not (axolotl and key == "messages"):
            notes.unknown(key)
    if isinstance(chosen, str) and isinstance(rejected, str):
        messages, preferred, other = _standard(prompt, chosen, rejected, notes)
    elif isinstance(chosen, list) and isinstance(rejected, list):
        messages, preferred, other = _conversational(prompt, chosen, rejected, notes)
        place_images(messages, obj.get("images"), notes, path="prompt")
    else:
        raise RecordError(
            "chosen and rejected must both be strings (standard) or both message lists "
            "(conversational)",
            path="chosen",
            code="wrong_type",
        )
    if "images" in obj and not isinstance(chosen, list):
        raise RecordError(
            "an images column needs conversational data ({'type': 'image'} placeholders in "
            "prompt messages)",
            path="images",
            code="invalid_images",
        )
    prompt_side: dict[str, Any] = {"messages": messages}
    if obj.get("tools"):
        prompt_side["tools"] = convert_tools(obj["tools"], notes)
    return {"input": prompt_side, "preferred_output": preferred, "non_preferred_output": other}


_TRANSCRIPT = re.compile(r"(^|\n)Human: .*\n\nAssistant:", re.DOTALL)
_TRANSCRIPT_NOTE = (
    "an Anthropic HH-style prompt (Human:/Assistant: turns in one string) became one user "
    "message holding the whole transcript, as TRL reads it; its turns are not split into "
    "messages"
)


def _one_message(side: Any, notes: LineNotes) -> Any:
    """An Axolotl DPO side: one message object, read as a list of one."""
    if isinstance(side, dict):
        notes.mapped(
            "Axolotl DPO sides", 1, "a chosen/rejected message object read as a list of one"
        )
        return [side]
    return side


def _standard(
    prompt: Any, chosen: str, rejected: str, notes: LineNotes
) -> tuple[list[Any], list[Any], list[Any]]:
    if prompt is None:
        cut = extract_prompt(chosen, rejected)
        if cut == 0:
            raise RecordError(
                "no prompt: the line has no prompt field and chosen and rejected share no "
                "beginning",
                path="prompt",
                code="missing_field",
            )
        prompt, chosen, rejected = chosen[:cut], chosen[cut:], rejected[cut:]
        notes.mapped(
            "implicit prompt", 1, "the shared beginning of chosen and rejected became the prompt"
        )
    elif not isinstance(prompt, str):
        raise RecordError(
            "with string replies, prompt must be a string", path="prompt", code="wrong_type"
        )
    notes.mapped("prompt", 1, "a string prompt became one user message")
    if _TRANSCRIPT.search(prompt):
        notes.mapped("Human:/Assistant: transcripts", 1, _TRANSCRIPT_NOTE)
    notes.mapped("chosen", 1, "became preferred_output")
    notes.mapped("rejected", 1, "became non_preferred_output")
    return (
        [{"role": "user", "content": prompt}],
        [{"role": "assistant", "content": chosen}],
        [{"role": "assistant", "content": rejected}],
    )


def _conversational(
    prompt: Any, chosen: list[Any], rejected: list[Any], notes: LineNotes
) -> tuple[list[Any], list[Any], list[Any]]:
    if prompt is None:
        messages: list[Any] = []
    elif isinstance(prompt, list):
        messages = clean_messages(prompt, notes, path="prompt")
        notes.kept("prompt", 1, "the prompt messages became input.messages")
    else:
        raise RecordError(
            "with message-list replies, prompt must be a message list too",
            path="prompt",
            code="wrong_type",
        )
    chosen = clean_messages(chosen, notes, path="chosen")
    rejected = clean_messages(rejected, notes, path="rejected")
    calls = CallIds()
    pair_tool_calls(messages, notes, calls, path="prompt")
    # Each side continues the prompt: the same ids for what the two sides share.
    pair_tool_calls(chosen, notes, calls.copy(), path="chosen")
    pair_tool_calls(rejected, notes, calls.copy(), path="rejected")
    cut = extract_prompt(chosen, rejected)
    if cut:
        messages += chosen[:cut]
        chosen, rejected = chosen[cut:], rejected[cut:]
        notes.mapped(
            "implicit prompt",
            1,
            "the messages chosen and rejected share at the start moved to input.messages",
        )
    for side, rest in (("chosen", chosen), ("rejected", rejected)):
        if len(rest) != 1 or not isinstance(rest[0], dict) or rest[0].get("role") != "assistant":
            raise RecordError(
                f"{side} must end in exactly one assistant message after what it shares with "
                f"the other side (it has {len(rest)} messages there); OpenAI DPO compares one "
                "assistant reply",
                path=side,
                code="invalid_preference",
            )
    if not messages:
        raise RecordError(
            "no prompt: the line has no prompt and chosen and rejected share no messages",
            path="prompt",
            code="missing_field",
        )
    notes.kept("chosen", 1, "became preferred_output")
    notes.kept("rejected", 1, "became non_preferred_output")
    return messages, chosen, rejected
