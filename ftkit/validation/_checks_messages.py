"""Checks of a ``messages`` array: each message, and the pairing of tool calls across them.

:func:`check_messages` runs once per record, so it has two paths. The fast path
takes the shape of nearly every message (a system, user or assistant role,
non-blank string content, and on an assistant turn a 0/1 ``weight``): it has
nothing to report, so it builds no JSON paths and only updates the summary. Every
other message takes the general path, a few named steps that report each problem
with its path: the role and keys, the assistant's weight, calls and refusal, the
tool result's call id, then the content. The two paths must agree on every
message the fast one takes; a property test holds them to it, with the fast path
switched off through :data:`_FAST_ROLES`.
"""

from __future__ import annotations

from typing import Any

from ..providers._names import provider_name
from ._checks_calls import check_function_call, check_tool_calls
from ._checks_common import (
    DEFAULT_PROFILE,
    FUNCTION_NAME,
    Emit,
    MessageSummary,
    Profile,
    emit_unknown_keys,
    emit_wrong_type,
    shown,
)
from ._checks_content import check_content, content_text, is_empty

__all__ = ["ROLES", "check_messages"]

ROLES = ("system", "developer", "user", "assistant", "tool", "function")
_TEXT_KEYS = frozenset({"role", "content", "name"})
_ALLOWED: dict[str, frozenset[str]] = {
    "system": _TEXT_KEYS,
    "developer": _TEXT_KEYS,
    "user": _TEXT_KEYS,
    "assistant": frozenset(
        {"role", "content", "name", "tool_calls", "function_call", "refusal", "weight"}
    ),
    "tool": frozenset({"role", "content", "tool_call_id"}),
    "function": frozenset({"role", "content", "name"}),
}
_ALLOWED_OR_WEIGHT = {role: keys | {"weight"} for role, keys in _ALLOWED.items()}
_REASONING = ("reasoning", "reasoning_content")
"""An assistant's reasoning beside its content, where the profile takes it (Together)."""
_WITH_REASONING = {
    **_ALLOWED_OR_WEIGHT,
    "assistant": _ALLOWED_OR_WEIGHT["assistant"] | {*_REASONING},
}
_FAST_ROLES = frozenset({"system", "user", "assistant"})
"""The roles the fast path takes (empty: every message takes the general path)."""


class _ToolCalls:
    """The tool calls of one conversation, as its messages are read in order."""

    __slots__ = ("pending", "seen", "unreadable")

    def __init__(self) -> None:
        self.seen: set[str] = set()
        """Every call id so far (a second use is ``duplicate_tool_call_id``)."""
        self.pending: dict[str, str] = {}
        """Open call id -> path of its ``tool_calls``: calls no tool result answered yet."""
        self.unreadable = False
        """A ``tool_calls`` was not an array: its ids, and what answers them, are unknown."""

    def unanswered(self, emit: Emit, role: str) -> None:
        """The conversation moved on to a ``role`` message: the open calls stay unanswered."""
        for call_id, where in self.pending.items():
            emit(
                "unanswered_tool_call",
                where,
                f"tool call {call_id!r} gets no tool result before the next {role} message",
                None,
            )
        self.pending.clear()


def check_messages(
    messages: Any,
    path: str,
    emit: Emit,
    *,
    declared: set[str] | None = None,
    check_declared: bool = True,
    refusal_warning: bool = False,
    profile: Profile = DEFAULT_PROFILE,
) -> MessageSummary | None:
    """Check a ``messages`` array: every message, and the pairing of tool calls.

    Args:
        messages: the value of ``messages``.
        path: its JSON path (``messages`` or ``input.messages``).
        emit: receives the findings.
        declared: names of the tools/functions the record declares (for
            ``undeclared_tool``), ``None`` when it declares none.
        check_declared: whether calls must name declared tools.
        refusal_warning: report ``refusal_not_trained`` on assistant messages with a
            ``refusal`` (SFT messages; DPO outputs report refusals as their own finding).
        profile: the provider's rules (which roles take a weight, reasoning, images).

    Returns:
        What was learned about the conversation, or ``None`` if ``messages``
        is not a non-empty array.
    """
    if not isinstance(messages, list):
        emit_wrong_type(emit, "wrong_type", path, "messages must be an array", messages)
        return None
    if not messages:
        emit("empty_messages", path, "messages is empty", None)
        return None
    summary = MessageSummary()
    roles = summary.roles
    responses = summary.responses
    calls: _ToolCalls | None = None  # made by the first message of the general path
    for index, message in enumerate(messages):
        # The fast path: the checks of the general path would find nothing to report.
        if type(message) is dict and len(message) <= 3:
            role = message.get("role")
            content = message.get("content")
            weight = message.get("weight", 1)
            if (
                type(content) is str
                and type(role) is str
                and role in _FAST_ROLES
                and content
                and not content.isspace()
                and (
                    len(message) == 2
                    or (
                        role == "assistant"
                        and type(weight) is int
                        and 0 <= weight <= 1
                        and "weight" in message
                    )
                )
            ):
                if calls is not None and calls.pending:
                    calls.unanswered(emit, role)
                roles.append(role)
                if role == "assistant":
                    summary.assistants += 1
                    if weight:
                        summary.trained += 1
                        responses.append(len(content))
                elif index == 0 and role == "system":
                    summary.system_prompt = content
                continue
        if calls is None:
            calls = _ToolCalls()
        _check_message(
            message, f"{path}[{index}]", index, emit, summary, calls, refusal_warning, profile
        )
    # A call left open by the last message is the training target (the model learns to
    # call the tool); a call left open earlier was reported when the conversation moved on.
    if check_declared:
        _check_declared(summary.called_tools, declared, emit)
    return summary


# ---------------------------------------------------------------- the general path


def _check_message(
    message: Any,
    where: str,
    index: int,
    emit: Emit,
    summary: MessageSummary,
    calls: _ToolCalls,
    refusal_warning: bool,
    profile: Profile,
) -> None:
    """Check one message at ``where`` and add it to the summary."""
    role = _check_role(message, where, emit)
    summary.roles.append(role if role is not None else "?")
    if role is None:
        return
    _check_fields(message, role, where, emit, profile)
    if role != "assistant" and "weight" in message and role in profile.weight_roles:
        # A weighted user turn (Together): 0 or 1 as on an assistant turn; 1 trains it.
        weight = message["weight"]
        if isinstance(weight, bool) or not isinstance(weight, int) or weight not in (0, 1):
            emit("invalid_weight", f"{where}.weight", _weight_problem(weight), None)
        elif weight == 1:
            summary.trained += 1
    if calls.pending and role != "tool":
        calls.unanswered(emit, role)
    has_call = trained = False
    if role == "assistant":
        has_call, trained = _check_assistant(message, where, emit, summary, calls, refusal_warning)
    elif role == "tool":
        _check_tool_result(message.get("tool_call_id"), f"{where}.tool_call_id", emit, calls)
    elif role == "function" and message.get("name") is None:
        emit(
            "missing_field",
            f"{where}.name",
            "a function message needs the name of the function",
            None,
        )
    length = _check_message_content(message, role, where, emit, summary, has_call, trained, profile)
    if trained and length >= 0 and message.get("content") is not None:
        summary.responses.append(length)
    if index == 0 and role in ("system", "developer"):
        summary.system_prompt = content_text(message.get("content"))


def _check_role(message: Any, where: str, emit: Emit) -> str | None:
    """The message's role, or ``None`` (reported) when it is no object or has no known role."""
    if not isinstance(message, dict):
        emit_wrong_type(emit, "wrong_type", where, "a message must be an object", message)
        return None
    role = message.get("role")
    if isinstance(role, str) and role in _ALLOWED:
        return role
    if role is None:
        emit("unknown_role", f"{where}.role", "the message has no role", None)
    else:
        emit(
            "unknown_role",
            f"{where}.role",
            f"unknown role {role!r}; use one of {', '.join(ROLES[:1] + ROLES[2:])}",
            None,
        )
    return None


def _check_fields(
    message: dict[str, Any], role: str, where: str, emit: Emit, profile: Profile
) -> None:
    """The keys a message of ``role`` may have, its ``name`` and (where taken) reasoning."""
    if role == "developer":
        emit(
            "developer_role",
            f"{where}.role",
            "role 'developer' is not part of the fine-tuning format",
            None,
        )
    # weight on another role is weight_not_allowed, not an unknown key
    allowed = (_WITH_REASONING if profile.reasoning else _ALLOWED_OR_WEIGHT)[role]
    emit_unknown_keys(emit, message, allowed, where, f"a {role} message")
    if "weight" in message and role not in profile.weight_roles:
        emit(
            "weight_not_allowed",
            f"{where}.weight",
            f"weight is only allowed on {_weighted_roles(profile)}, not on a {role} message",
            None,
        )
    if profile.reasoning and role == "assistant":
        for key in _REASONING:
            value = message.get(key)
            if value is not None and not isinstance(value, str):
                emit_wrong_type(
                    emit, "wrong_type", f"{where}.{key}", f"{key} must be a string", value
                )
    name = message.get("name")
    if name is not None and not isinstance(name, str):
        emit_wrong_type(emit, "wrong_type", f"{where}.name", "name must be a string", name)
    elif name is not None and not FUNCTION_NAME.fullmatch(name):
        emit("invalid_name", f"{where}.name", _name_problem(name), None)


def _check_assistant(
    message: dict[str, Any],
    where: str,
    emit: Emit,
    summary: MessageSummary,
    calls: _ToolCalls,
    refusal_warning: bool,
) -> tuple[bool, bool]:
    """An assistant's weight, calls and refusal; returns (makes a call, is trained)."""
    summary.assistants += 1
    weight = message.get("weight")
    trained = True
    if weight is not None:
        if isinstance(weight, bool) or not isinstance(weight, int) or weight not in (0, 1):
            emit("invalid_weight", f"{where}.weight", _weight_problem(weight), None)
        elif weight == 0:
            trained = False
    if trained:
        summary.trained += 1
    has_call = False
    tool_calls = message.get("tool_calls")
    if tool_calls is not None:
        for call_id in check_tool_calls(
            tool_calls, f"{where}.tool_calls", emit, summary, calls.seen
        ):
            calls.pending[call_id] = f"{where}.tool_calls"
        # tool_calls of the wrong type were meant as calls: no missing_content, and
        # the tool results that answer them are not "unknown" (one finding, not three).
        has_call = bool(tool_calls) if isinstance(tool_calls, list) else True
        calls.unreadable = calls.unreadable or not isinstance(tool_calls, list)
    function_call = message.get("function_call")
    if function_call is not None:
        emit(
            "legacy_function_call",
            f"{where}.function_call",
            "function_call is the deprecated form of tool_calls",
            None,
        )
        name = check_function_call(function_call, f"{where}.function_call", emit)
        if name is not None:
            summary.called_tools.append((f"{where}.function_call.name", name))
        has_call = True
    refusal = message.get("refusal")
    if refusal is not None and not isinstance(refusal, str):
        emit_wrong_type(emit, "wrong_type", f"{where}.refusal", "refusal must be a string", refusal)
    elif refusal is not None and refusal_warning:
        emit(
            "refusal_not_trained",
            f"{where}.refusal",
            "refusal is not a training target: its text is neither trained nor "
            "counted in the tokens",
            None,
        )
    return has_call, trained


def _check_tool_result(answer_id: Any, where: str, emit: Emit, calls: _ToolCalls) -> None:
    """A tool message's ``tool_call_id`` must answer an open call."""
    if answer_id is None:
        emit(
            "missing_field",
            where,
            "a tool message needs the tool_call_id of the call it answers",
            None,
        )
    elif not isinstance(answer_id, str):
        emit_wrong_type(emit, "wrong_type", where, "tool_call_id must be a string", answer_id)
    elif answer_id in calls.pending:
        del calls.pending[answer_id]
    elif not calls.unreadable:
        emit(
            "unknown_tool_call_id",
            where,
            f"tool_call_id {answer_id!r} matches no earlier tool call"
            + (" (that call was already answered)" if answer_id in calls.seen else ""),
            None,
        )


def _check_message_content(
    message: dict[str, Any],
    role: str,
    where: str,
    emit: Emit,
    summary: MessageSummary,
    has_call: bool,
    trained: bool,
    profile: Profile,
) -> int:
    """Check ``content``; return its text length (-1 when not text, 0 when absent)."""
    path = f"{where}.content"
    content = message.get("content")
    if content is None:
        if role == "assistant":
            if not has_call:
                emit(
                    "missing_content",
                    path,
                    "the assistant message has no content and no tool_calls",
                    None,
                )
        elif role == "function":
            if "content" not in message:
                emit(
                    "missing_field",
                    path,
                    "a function message needs content (null is allowed)",
                    None,
                )
        else:
            emit("missing_content", path, f"the {role} message has no content", None)
        return 0
    if role == "function" and not isinstance(content, str):
        emit_wrong_type(emit, "invalid_content", path, "function content must be a string", content)
        length = -1
    else:
        length = check_content(content, role, path, emit, summary, profile)
    if not has_call and is_empty(content):
        emit(
            "empty_content",
            path,
            (
                f"the {role} message is empty"
                if not content
                else f"the {role} message holds only whitespace"
            )
            + (
                ": a trained empty reply teaches the model to answer with nothing "
                "(the format allows it)"
                if trained
                else ""
            ),
            None,
        )
    return length


def _check_declared(called: list[tuple[str, str]], declared: set[str] | None, emit: Emit) -> None:
    """Every call must name a declared tool (``called``: ``(path, name)`` of each call)."""
    for where, name in called:
        if declared is None:
            message = f"the example calls {name!r} but declares no tools"
            emit("undeclared_tool", where, message, None)
        elif name not in declared:
            emit(
                "undeclared_tool",
                where,
                f"{name!r} is not among the declared tools "
                f"({', '.join(sorted(declared)) or 'none'})",
                None,
            )


def _weighted_roles(profile: Profile) -> str:
    """Where a weight may be, for ``weight_not_allowed``: "assistant messages" (OpenAI)."""
    if profile.weight_roles == DEFAULT_PROFILE.weight_roles:
        return "assistant messages"
    roles = " and ".join(sorted(profile.weight_roles))
    return f"{roles} messages on {provider_name(profile.provider)}"


def _name_problem(name: str) -> str:
    """Why a message ``name`` fails the API's pattern, in plain words."""
    if not name:
        return "name is empty; omit it or give 1-64 letters, digits, _ or -"
    if len(name) > 64:
        return f"name is {len(name)} characters long; the API takes at most 64"
    bad = sorted({c for c in name if not FUNCTION_NAME.fullmatch(c)})
    listed = ", ".join("a space" if c == " " else repr(c) for c in bad[:5])
    return (
        f"name {name[:70]!r} has {listed}; the API takes only letters, digits, _ and - "
        "(pattern ^[a-zA-Z0-9_-]{1,64}$)"
    )


def _weight_problem(weight: Any) -> str:
    """The ``invalid_weight`` message; a float such as 1.0 is told what to write instead."""
    if isinstance(weight, float) and weight in (0, 1):
        return f"weight must be 0 or 1 written as an integer, not {weight!r}: write {int(weight)}"
    return f"weight must be 0 or 1, got {shown(weight)}"
