"""Lines already in OpenAI's chat layout, with the keys ftkit cannot hold set aside.

Many Hugging Face datasets and ShareGPT variants use ``messages`` of ``role``/
``content`` (TRL's conversational SFT data is exactly that, with ``tools``); they add
their own keys (``id``, ``source``, ``category``...). Reading them strictly would
refuse every line; importing keeps the record and names each extra key in the report.

TRL's documented tool-calling shape differs from OpenAI's in three ways, each mapped
and counted: ``arguments`` as a JSON object (serialised), calls without ``id`` (made
up, each result paired with the oldest unanswered call) and ``tools`` as a JSON string
(parsed). TRL's vision layout (``{"type": "image"}`` placeholders and an ``images``
column) and Axolotl's image parts become ``image_url`` parts.
"""

from __future__ import annotations

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

__all__ = ["convert_openai"]

_SFT_KEYS = frozenset({"messages", "tools", "parallel_tool_calls", "functions"})
_DPO_KEYS = frozenset({"input", "preferred_output", "non_preferred_output"})
_INPUT_KEYS = frozenset({"messages", "tools", "parallel_tool_calls"})


def convert_openai(obj: dict[str, Any], notes: LineNotes) -> dict[str, Any]:
    """The line without the keys the fine-tuning format does not have (each reported).

    Raises:
        RecordError: the line is neither an SFT (``messages``) nor a DPO (``input``) line.
    """
    if "messages" in obj:
        record = {k: v for k, v in obj.items() if k in _SFT_KEYS}
        record["messages"] = clean_messages(obj["messages"], notes, path="messages")
        pair_tool_calls(record["messages"], notes, CallIds(), path="messages")
        place_images(record["messages"], obj.get("images"), notes, path="messages")
        if record.get("tools"):
            record["tools"] = convert_tools(record["tools"], notes)
        _count(record["messages"], notes)
        for key in obj:
            if key not in _SFT_KEYS and key != "images":
                notes.unknown(key)
        return record
    if isinstance(obj.get("input"), dict):
        record = {k: v for k, v in obj.items() if k in _DPO_KEYS}
        prompt = {k: v for k, v in obj["input"].items() if k in _INPUT_KEYS}
        calls = CallIds()
        if "messages" in prompt:
            prompt["messages"] = clean_messages(prompt["messages"], notes, path="input.messages")
            pair_tool_calls(prompt["messages"], notes, calls, path="input.messages")
        if prompt.get("tools"):
            prompt["tools"] = convert_tools(prompt["tools"], notes, path="input.tools")
        record["input"] = prompt
        for side in ("preferred_output", "non_preferred_output"):
            if side in record:
                record[side] = clean_messages(record[side], notes, path=side)
                pair_tool_calls(record[side], notes, calls.copy(), path=side)
        _count(prompt.get("messages", []), notes)
        for key in obj:
            if key not in _DPO_KEYS:
                notes.unknown(key)
        for key in obj["input"]:
            if key not in _INPUT_KEYS:
                notes.unknown(f"input.{key}")
        return record
    raise RecordError(
        "an OpenAI-format line needs messages (SFT) or input/preferred_output/"
        "non_preferred_output (DPO)",
        code="unknown_format",
    )


def _count(messages: list[Any], notes: LineNotes) -> None:
    notes.kept("messages", len(messages))
    weights = sum(1 for m in messages if isinstance(m, dict) and "weight" in m)
    notes.kept("message weights", weights)
