"""Checks of the calls an assistant message makes: ``tool_calls`` and the legacy ``function_call``.

A call names a function and passes its arguments as a JSON string holding an
object; each tool call has an id, unique in the example, that a later tool
message answers (the pairing itself is checked with the conversation, in
``_checks_messages``).
"""

from __future__ import annotations

import json
from typing import Any

from ..schema.formats import json_type_name
from ._checks_common import (
    Emit,
    MessageSummary,
    each_object,
    emit_unknown_keys,
    emit_unless_function,
    emit_wrong_type,
)

__all__ = ["check_function_call", "check_tool_calls"]

_TOOL_CALL_KEYS = frozenset({"id", "type", "function"})
_CALL_KEYS = frozenset({"name", "arguments"})


def check_tool_calls(
    calls: Any, path: str, emit: Emit, summary: MessageSummary, seen_ids: set[str]
) -> list[str]:
    """Check an assistant's ``tool_calls``; return the ids it opens."""
    if not isinstance(calls, list):
        fix = (
            "wrap the call in a list: [{...}]"
            if isinstance(calls, dict)
            else "write the calls as a JSON array, not a string holding JSON"
            if isinstance(calls, str)
            else None
        )
        wanted = "tool_calls must be an array of calls"
        emit_wrong_type(emit, "wrong_type", path, wanted, calls, fix)
        return []
    opened: list[str] = []
    for where, call in each_object(
        calls, path, emit, "invalid_tool_call", "a tool call must be an object"
    ):
        emit_unknown_keys(emit, call, _TOOL_CALL_KEYS, where, "a tool call")
        emit_unless_function(emit, call, where, "invalid_tool_call", "tool call")
        call_id = _check_call_id(call.get("id"), f"{where}.id", emit, seen_ids)
        if call_id is not None:
            opened.append(call_id)
        if "function" not in call:
            emit("invalid_tool_call", f"{where}.function", "the tool call has no function", None)
            continue
        name = check_function_call(call["function"], f"{where}.function", emit)
        if name is not None:
            summary.called_tools.append((f"{where}.function.name", name))
    return opened


def _check_call_id(call_id: Any, where: str, emit: Emit, seen_ids: set[str]) -> str | None:
    """Check a tool call's id; return it (and note it seen) when it is new and usable."""
    if call_id is None:
        emit("tool_call_missing_id", where, "the tool call has no id", None)
    elif not isinstance(call_id, str):
        emit_wrong_type(emit, "wrong_type", where, "id must be a string", call_id)
    elif call_id in seen_ids:
        emit(
            "duplicate_tool_call_id",
            where,
            f"tool call id {call_id!r} is used twice in this example",
            None,
        )
    else:
        seen_ids.add(call_id)
        return call_id
    return None


def check_function_call(call: Any, path: str, emit: Emit) -> str | None:
    """Check a ``{"name", "arguments"}`` object; return the name if usable."""
    if not isinstance(call, dict):
        wanted = "function must be an object with name and arguments"
        emit_wrong_type(emit, "invalid_tool_call", path, wanted, call)
        return None
    emit_unknown_keys(emit, call, _CALL_KEYS, path, "a function call")
    name = call.get("name")
    if name is None:
        emit("tool_call_missing_name", f"{path}.name", "the call names no function", None)
    elif not isinstance(name, str):
        emit_wrong_type(emit, "wrong_type", f"{path}.name", "name must be a string", name)
        name = None
    if "arguments" not in call:
        emit(
            "missing_field",
            f"{path}.arguments",
            "the call has no arguments",
            "use '{}' for a call without arguments",
        )
    else:
        _check_arguments(call["arguments"], f"{path}.arguments", emit)
    return name


def _check_arguments(arguments: Any, path: str, emit: Emit) -> None:
    if not isinstance(arguments, str):
        emit_wrong_type(
            emit,
            "arguments_not_string",
            path,
            "arguments must be a JSON string",
            arguments,
            'serialise them with json.dumps, e.g. \'{"city": "Oslo"}\'',
        )
        return
    try:
        value = json.loads(arguments)
    except (ValueError, RecursionError) as exc:
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else "not JSON"
        emit("arguments_invalid_json", path, f"arguments are not valid JSON ({detail})", None)
        return
    if not isinstance(value, dict):
        what = (
            "a string: the arguments were JSON-encoded twice"
            if isinstance(value, str)
            else json_type_name(value)
        )
        emit(
            "arguments_not_object",
            path,
            f"arguments decode to {what}, not an object",
            "json.dumps the arguments dict once" if isinstance(value, str) else None,
        )
