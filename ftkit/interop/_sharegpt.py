"""ShareGPT lines -> OpenAI chat records.

ShareGPT keeps a conversation as ``conversations``: a list of ``{"from", "value"}``
turns. The ``from`` names vary by the tool that wrote the file; the ones read here
are those of the original ShareGPT dumps (``human``, ``gpt``), of FastChat and Axolotl
(``user``, ``assistant``, ``system``) and of LLaMA-Factory's tool-use layout
(``function_call`` turns holding ``{"name", "arguments"}`` JSON, answered by
``observation`` turns, with ``tools`` as a JSON string of function definitions).
A top-level ``system`` field becomes the first message. LLaMA-Factory's preference
layout (``conversations`` plus ``chosen``/``rejected`` turns) becomes a DPO record.

ShareGPT has no tool-call ids, so the calls of a conversation are numbered
``call_1``, ``call_2``...; each ``observation`` answers the oldest unanswered call.
"""

from __future__ import annotations

import json
from typing import Any

from .._exceptions import RecordError
from ._fields import CallIds, LineNotes, convert_tools

__all__ = ["ROLE_NAMES", "convert_sharegpt"]

#: ShareGPT ``from`` value -> the OpenAI role it becomes (``function_call`` is an
#: assistant message with ``tool_calls``; ``observation``/``tool`` a tool result).
ROLE_NAMES: dict[str, str] = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "chatgpt": "assistant",
    "assistant": "assistant",
    "system": "system",
    "function_call": "assistant",
    "observation": "tool",
    "tool": "tool",
}

_FROM_NOTE = (
    "from became role: human/user -> user, gpt/chatgpt/assistant -> assistant, "
    "system -> system, function_call -> assistant tool_calls, observation/tool -> tool"
)
_CALL_NOTE = (
    "each became an assistant message with tool_calls; ShareGPT has no call ids, so they "
    "are numbered call_1, call_2... within a conversation"
)
_OBSERVATION_NOTE = "each became a tool message answering the oldest unanswered call"
_TURN_KEYS = frozenset({"from", "value", "role", "content", "weight"})
_RECORD_KEYS = frozenset({"conversations", "messages", "system", "tools", "chosen", "rejected"})
_MEDIA = ("images", "videos", "audios")


def convert_sharegpt(obj: dict[str, Any], notes: LineNotes) -> dict[str, Any]:
    """The OpenAI record (SFT, or DPO with ``chosen``/``rejected``) of one ShareGPT line.

    Raises:
        RecordError: a turn this format cannot read, located by its JSON path.
    """
    key = "conversations" if "conversations" in obj else "messages"
    if key not in obj:
        raise RecordError(
            "a ShareGPT line needs a conversations list of from/value turns",
            code="missing_field",
        )
    calls = CallIds()
    messages: list[dict[str, Any]] = []
    system = obj.get("system")
    if system is not None:
        if not isinstance(system, str):
            raise RecordError("system must be a string", path="system", code="wrong_type")
        if system:
            messages.append({"role": "system", "content": system})
            notes.mapped("system", 1, "the top-level system field became the first message")
    messages += _turns(obj[key], notes, key, calls)
    tools = convert_tools(obj["tools"], notes) if obj.get("tools") else None
    for name in obj:
        if name in _MEDIA:
            count = len(obj[name]) if isinstance(obj[name], list) else 1
            notes.dropped(
                name,
                count,
                "media file paths are not converted: an OpenAI image is an image_url "
                "content part (a URL or base64 data)",
            )
        elif name not in _RECORD_KEYS:
            notes.unknown(name)
    if "chosen" in obj or "rejected" in obj:
        prompt: dict[str, Any] = {"messages": messages}
        if tools:
            prompt["tools"] = tools
        preferred = _reply(obj.get("chosen"), "chosen", notes, calls)
        other = _reply(obj.get("rejected"), "rejected", notes, calls)
        notes.mapped("chosen", 1, "became preferred_output")
        notes.mapped("rejected", 1, "became non_preferred_output")
        return {"input": prompt, "preferred_output": preferred, "non_preferred_output": other}
    record: dict[str, Any] = {"messages": messages}
    if tools:
        record["tools"] = tools
    return record


def _reply(value: Any, path: str, notes: LineNotes, calls: CallIds) -> list[dict[str, Any]]:
    """A preference side: one turn (or a list of one) that must become an assistant message."""
    if value is None:
        raise RecordError(f"a preference line needs {path}", path=path, code="missing_field")
    turns = value if isinstance(value, list) else [value]
    messages = _turns(turns, notes, path, calls)
    if len(messages) != 1 or messages[0]["role"] != "assistant":
        raise RecordError(
            f"{path} must be one gpt/assistant turn (OpenAI DPO compares one assistant reply)",
            path=path,
            code="invalid_preference",
        )
    return messages


def _turns(value: Any, notes: LineNotes, path: str, calls: CallIds) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise RecordError(f"{path} must be a list of turns", path=path, code="wrong_type")
    messages: list[dict[str, Any]] = []
    for index, turn in enumerate(value):
        where = f"{path}[{index}]"
        if not isinstance(turn, dict):
            raise RecordError("each turn must be an object", path=where, code="wrong_type")
        messages += _turn(turn, notes, where, calls)
        for key in turn:
            if key not in _TURN_KEYS:
                notes.unknown(f"{path}[].{key}")
    return messages


def _turn(
    turn: dict[str, Any], notes: LineNotes, where: str, calls: CallIds
) -> list[dict[str, Any]]:
    if "from" in turn:
        source, text, text_key = turn["from"], turn.get("value"), "value"
        notes.mapped("from", 1, _FROM_NOTE)
        notes.mapped("value", 1, "value became content")
    elif "role" in turn:
        source, text, text_key = turn["role"], turn.get("content"), "content"
        notes.kept("role/content turns", 1, "turns already in OpenAI's role/content shape")
    else:
        raise RecordError("a turn needs from (or role)", path=f"{where}.from", code="missing_field")
    role = ROLE_NAMES.get(source) if isinstance(source, str) else None
    if role is None:
        raise RecordError(
            f"unknown speaker {source!r}; expected one of {sorted(ROLE_NAMES)}",
            path=f"{where}.from" if text_key == "value" else f"{where}.role",
            code="unknown_role",
        )
    if text is None or (text_key == "value" and not isinstance(text, str)):
        raise RecordError(
            f"{text_key} must be a string", path=f"{where}.{text_key}", code="wrong_type"
        )
    if source == "function_call":
        message = _call_message(text, notes, f"{where}.{text_key}", calls)
    elif role == "tool":
        # Read before returning: a weight on a tool result is counted, never skipped.
        _weight(turn, None, notes)
        return _tool_results(text, notes, f"{where}.{text_key}", calls)
    else:
        message = {"role": role, "content": text}
    _weight(turn, message if role == "assistant" else None, notes)
    return [message]


def _weight(turn: dict[str, Any], message: dict[str, Any] | None, notes: LineNotes) -> None:
    """Carry a turn's ``weight`` onto the assistant ``message`` it became (a tool call's
    too: a weight-0 call stays untrained), or count it dropped on any other turn."""
    if "weight" not in turn:
        return
    if message is not None:
        message["weight"] = turn["weight"]
        notes.kept("message weights")
    else:
        notes.dropped("weights on non-assistant turns", 1, "OpenAI trains only assistant turns")


def _call_message(text: Any, notes: LineNotes, where: str, calls: CallIds) -> dict[str, Any]:
    """A ``function_call`` turn: one call (or a list of calls) as JSON with name and arguments."""
    try:
        parsed = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        parsed = None
    items = parsed if isinstance(parsed, list) else [parsed]
    tool_calls = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise RecordError(
                'a function_call turn must hold JSON {"name": ..., "arguments": {...}}',
                path=where,
                code="invalid_tool_call",
            )
        arguments = item.get("arguments", {})
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments, ensure_ascii=False)
        tool_calls.append(
            {
                "id": calls.new(),
                "type": "function",
                "function": {"name": item["name"], "arguments": arguments},
            }
        )
    notes.mapped("function_call turns", 1, _CALL_NOTE)
    return {"role": "assistant", "tool_calls": tool_calls}


def _tool_results(text: Any, notes: LineNotes, where: str, calls: CallIds) -> list[dict[str, Any]]:
    """An ``observation`` turn: the result of the oldest unanswered call (or one per call)."""
    if not calls.pending:
        raise RecordError(
            "an observation (tool result) turn answers no function_call before it",
            path=where,
            code="unanswered_tool_result",
        )
    results: list[Any] = [text]
    if len(calls.pending) > 1 and isinstance(text, str):
        # Parallel calls: LLaMA-Factory writes their results as one JSON list.
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and len(parsed) == len(calls.pending):
            results = [
                r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in parsed
            ]
    notes.mapped("observation turns", 1, _OBSERVATION_NOTE)
    return [
        {"role": "tool", "tool_call_id": calls.pending.pop(0), "content": result}
        for result in results
    ]
