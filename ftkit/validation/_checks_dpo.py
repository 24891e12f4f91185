"""Checks of DPO preference pairs, on plain dicts.

A pair is ``input`` (a conversation, checked like SFT messages) plus two
outputs, each exactly one text-only assistant message: the final turn the
model learns to prefer. Only single-turn preference is trained, so the input
should end on the user turn both outputs answer.
"""

from __future__ import annotations

from typing import Any

from ..schema.formats import json_type_name as _type_name
from ._checks_common import (
    CheckContext,
    Emit,
    MessageSummary,
    Profile,
    emit_unknown_keys,
    emit_wrong_type,
)
from ._checks_content import check_images, content_text
from ._checks_messages import check_messages
from ._checks_tools import check_tools
from ._profiles import check_alternation, check_dpo_turns, check_system_first

__all__ = ["check_dpo"]

_DPO_KEYS = frozenset({"input", "preferred_output", "non_preferred_output"})
_INPUT_KEYS = frozenset({"messages", "tools", "parallel_tool_calls"})
_LEGACY = {
    "preferred_completion": "preferred_output",
    "non_preferred_completion": "non_preferred_output",
}


def check_dpo(record: dict[str, Any], emit: Emit, ctx: CheckContext) -> MessageSummary | None:
    """Check one DPO record; return the input's summary, with the preferred reply's length."""
    for key in record:
        if key in _LEGACY:
            emit(
                "legacy_dpo_key",
                str(key),
                f"{key!r} is the old name of {_LEGACY[key]!r}; rename the key",
                None,
            )
        elif key not in _DPO_KEYS:
            emit("unknown_key", str(key), f"unknown top-level key {key!r} in a DPO record", None)

    summary: MessageSummary | None = None
    data = record.get("input")
    if data is None:
        emit(
            "missing_field",
            "input",
            "the pair has no input (the conversation both outputs answer)",
            None,
        )
    elif not isinstance(data, dict):
        emit_wrong_type(
            emit, "wrong_type", "input", 'input must be an object like {"messages": [...]}', data
        )
    else:
        emit_unknown_keys(emit, data, _INPUT_KEYS, "input", "input")
        declared = check_tools(data, "input.", emit)
        if "messages" not in data:
            emit("missing_field", "input.messages", "input has no messages", None)
        else:
            summary = check_messages(
                data["messages"], "input.messages", emit, declared=declared, profile=ctx.profile
            )
            if ctx.profile.alternation and summary is not None:
                # The input is a conversation like an SFT one: Together checks its turns alike.
                check_alternation(data["messages"], "input.messages", emit, ctx.profile)
            if ctx.profile.system_first and summary is not None:
                check_system_first(data["messages"], "input.messages", emit, ctx.profile)
            if ctx.profile.dpo_single_turn and summary is not None:
                check_dpo_turns(data["messages"], emit, ctx.profile)
        if summary is not None:
            if summary.roles[-1] == "assistant":
                emit(
                    "input_ends_on_assistant",
                    f"input.messages[{len(summary.roles) - 1}]",
                    "the input ends on an assistant turn; only the final reply is compared",
                    None,
                )
            if "user" not in summary.roles and "?" not in summary.roles:
                emit(
                    "no_user_message",
                    "input.messages",
                    "the input has no user message: the outputs answer nothing",
                    None,
                )
            check_images(summary, "input.messages", emit, ctx)
            summary.responses.clear()  # input turns are context; outputs are what trains

    outputs = []
    for key in ("preferred_output", "non_preferred_output"):
        message = _check_output(record, key, emit, ctx.profile)
        outputs.append(message)
    preferred, non_preferred = outputs
    if preferred is not None and non_preferred is not None and preferred == non_preferred:
        emit(
            "identical_outputs",
            "non_preferred_output",
            "preferred_output and non_preferred_output are the same",
            None,
        )
    if summary is not None and preferred is not None:
        summary.responses.append(len(content_text(preferred.get("content"))))
    return summary


def _check_output(
    record: dict[str, Any], key: str, emit: Emit, profile: Profile
) -> dict[str, Any] | None:
    """Check one output array; return its message when it is one assistant message."""
    if key not in record:
        legacy = key.replace("_output", "_completion")
        if legacy not in record:
            emit("missing_field", key, f"the pair has no {key}", None)
        return None
    value = record[key]
    if not isinstance(value, list):
        emit_wrong_type(
            emit,
            "invalid_dpo_output",
            key,
            f"{key} must be an array holding one assistant message",
            value,
        )
        return None
    if len(value) != 1:
        emit(
            "invalid_dpo_output",
            key,
            f"{key} must hold exactly one assistant message, it holds {len(value)}",
            None,
        )
        if not value:
            return None
    message = value[0]
    if not isinstance(message, dict) or message.get("role") != "assistant":
        role = message.get("role") if isinstance(message, dict) else None
        what = f"a {role} message" if isinstance(role, str) else _type_name(message)
        emit(
            "invalid_dpo_output",
            f"{key}[0]",
            f"the output must be an assistant message, got {what}",
            None,
        )
        return None
    summary = check_messages(value[:1], key, emit, check_declared=False, profile=profile)
    if summary is None:
        return None
    for field_name in ("tool_calls", "function_call"):
        if message.get(field_name) is not None:
            emit(
                "dpo_non_text_output",
                f"{key}[0].{field_name}",
                f"DPO outputs are compared as text; {field_name} is not allowed",
                None,
            )
    if message.get("refusal") is not None:
        emit(
            "dpo_non_text_output",
            f"{key}[0].refusal",
            "DPO outputs are compared as text; put the refusal in content",
            None,
        )
    return message if len(value) == 1 else None
