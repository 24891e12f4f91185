"""Checks of chat messages and SFT records, on the plain dicts ``json.loads`` returns.

The pydantic models in :mod:`ftkit.schema` define what a record *is*; these
checks are the fast path of the validator (no model is built per line) and
go further: every problem of a line is reported, not only the first, with a
code of its own and the rules the service applies beyond the JSON shape
(tool-call pairing, weights, images, trailing turns).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._words import plural
from ..schema.formats import json_type_name as _type_name
from ..tokens._images import (
    MAX_IMAGE_BYTES,
    TRAINING_FORMATS,
    TRAINING_MODES,
    InvalidImageData,
    inspect_data_url,
)

__all__ = [
    "CheckContext",
    "Emit",
    "MessageSummary",
    "check_messages",
    "check_sft",
    "check_tools",
    "content_text",
]

Emit = Callable[[str, str, str, "str | None"], None]
"""``emit(code, path, message, hint)``: report one finding on the current line."""

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
_PLAIN_ROLES = frozenset({"system", "user", "assistant"})
_SFT_KEYS = frozenset({"messages", "tools", "parallel_tool_calls", "functions"})
_TOOL_CALL_KEYS = frozenset({"id", "type", "function"})
_CALL_KEYS = frozenset({"name", "arguments"})
_TOOL_KEYS = frozenset({"type", "function"})
_FUNCTION_KEYS = frozenset({"name", "description", "parameters", "strict"})
_TEXT_PART_KEYS = frozenset({"type", "text"})
_IMAGE_PART_KEYS = frozenset({"type", "image_url"})
_IMAGE_URL_KEYS = frozenset({"url", "detail"})
_DETAILS = frozenset({"low", "high", "auto"})
_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_DATA_URL = re.compile(r"data:image/(?:jpeg|jpg|png|webp);base64,")
MAX_IMAGES = 10
MAX_FUNCTIONS = 128

_RFT_HINT = (
    "it looks like a reinforcement fine-tuning (RFT) prompt: it has only system/user turns. "
    "SFT needs the reference reply as an assistant message; RFT files cannot train with SFT or DPO"
)


@dataclass(frozen=True)
class CheckContext:
    """What the checks know about the target, beyond the record itself."""

    vision: bool | None = None
    """Whether the model takes images: ``None`` when no (known) model was given."""
    model: str | None = None


@dataclass
class MessageSummary:
    """What the record-level checks and the quality stats need from a message list."""

    roles: list[str] = field(default_factory=list)
    assistants: int = 0
    trained: int = 0
    images: int = 0
    system_prompt: str | None = None
    responses: list[int] = field(default_factory=list)
    """Character lengths of trained assistant responses."""
    called_tools: list[tuple[str, str]] = field(default_factory=list)
    """``(path, name)`` of every tool or function call."""


# Optional fields of a function definition: (key, type, how the message names it).
_DEFINITION_FIELDS: tuple[tuple[str, type, str], ...] = (
    ("description", str, "a string"),
    ("parameters", dict, "a JSON Schema object"),
    ("strict", bool, "true or false"),
)


def _shown(value: Any) -> str:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def content_text(content: Any) -> str:
    """The text of a content value (a string or text parts), ignoring other parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


# ---------------------------------------------------------------- content


def _check_content(content: Any, role: str, path: str, emit: Emit, summary: MessageSummary) -> int:
    """Check a ``content`` value; return its text length (-1 when not text)."""
    if isinstance(content, str):
        return len(content)
    if not isinstance(content, list):
        emit(
            "invalid_content",
            path,
            f"content must be a string or a list of parts, got {_type_name(content)}",
            None,
        )
        return -1
    if not content:
        emit(
            "invalid_content",
            path,
            "content is an empty list; the API takes a string or at least one part",
            None,
        )
        return 0
    length = 0
    for index, part in enumerate(content):
        where = f"{path}[{index}]"
        if not isinstance(part, dict):
            emit(
                "invalid_content",
                where,
                f"a content part must be an object, got {_type_name(part)}",
                None,
            )
            continue
        kind = part.get("type")
        if kind == "text":
            text = part.get("text")
            if not isinstance(text, str):
                emit(
                    "invalid_content",
                    f"{where}.text",
                    "a text part needs a string text"
                    if text is None
                    else f"text must be a string, got {_type_name(text)}",
                    None,
                )
            else:
                length += len(text)
            for key in part:
                if key not in _TEXT_PART_KEYS:
                    emit(
                        "unknown_key", f"{where}.{key}", f"unknown key {key!r} in a text part", None
                    )
        elif kind == "image_url":
            summary.images += 1
            if role == "assistant":
                emit(
                    "image_in_assistant",
                    where,
                    "images are not allowed in assistant messages",
                    None,
                )
            elif role == "tool":
                emit("invalid_content", where, "tool results may only hold text parts", None)
            elif role == "system" or role == "developer":
                emit(
                    "image_in_system",
                    where,
                    f"images are not allowed in {role} messages, only in user messages",
                    None,
                )
            _check_image(part, where, emit)
        else:
            shown = "no type" if kind is None else f"type {kind!r}"
            emit(
                "invalid_content",
                f"{where}.type",
                f"unsupported content part ({shown}); fine-tuning takes text and image_url "
                "parts only (no audio, file or refusal parts)",
                None,
            )
    return length


def _check_image(part: dict[str, Any], where: str, emit: Emit) -> None:
    for key in part:
        if key not in _IMAGE_PART_KEYS:
            emit("unknown_key", f"{where}.{key}", f"unknown key {key!r} in an image part", None)
    image = part.get("image_url")
    if not isinstance(image, dict):
        emit(
            "invalid_image_url",
            f"{where}.image_url",
            f'image_url must be an object like {{"url": "https://..."}}, got {_type_name(image)}',
            None,
        )
        return
    for key in image:
        if key not in _IMAGE_URL_KEYS:
            emit(
                "unknown_key", f"{where}.image_url.{key}", f"unknown key {key!r} in image_url", None
            )
    url = image.get("url")
    if not isinstance(url, str):
        emit(
            "invalid_image_url",
            f"{where}.image_url.url",
            f"the image url must be a string, got {_type_name(url)}",
            None,
        )
    elif url.startswith("data:"):
        head = _DATA_URL.match(url)
        if head is None or head.end() == len(url):
            emit(
                "invalid_image_url",
                f"{where}.image_url.url",
                "a data URL must be data:image/jpeg, png or webp with ;base64, data",
                None,
            )
        else:
            _check_image_data(url, f"{where}.image_url.url", emit)
    elif not url.startswith("https://") or len(url) <= len("https://"):
        shown = url[:40] + ("..." if len(url) > 40 else "")
        emit(
            "invalid_image_url",
            f"{where}.image_url.url",
            f"image url {shown!r} is not an https:// URL or a base64 data URL",
            None,
        )
    detail = image.get("detail")
    if detail is not None and not (isinstance(detail, str) and detail in _DETAILS):
        emit(
            "invalid_image_detail",
            f"{where}.image_url.detail",
            f"detail must be low, high or auto, got {_shown(detail)}",
            None,
        )


def _check_image_data(url: str, where: str, emit: Emit) -> None:
    """An embedded image against the vision limits; remote https images cannot be read."""
    try:
        header = inspect_data_url(url)
    except InvalidImageData as exc:
        emit("invalid_image_data", where, str(exc), None)
        return
    name = header.format.upper()
    if header.format not in TRAINING_FORMATS:
        emit(
            "invalid_image_data",
            where,
            f"the data is a {name} image; vision fine-tuning takes JPEG, PNG or WEBP",
            "convert the image to PNG or JPEG",
        )
    if header.nbytes > MAX_IMAGE_BYTES:
        emit(
            "image_too_large",
            where,
            f"the image is {header.nbytes / 2**20:.1f} MiB ({header.nbytes:,} bytes, "
            f"{header.width}x{header.height}); the limit is 10 MB per image",
            None,
        )
    if header.mode is not None and header.mode not in TRAINING_MODES:
        emit(
            "image_mode_not_rgb",
            where,
            f"the {name} image is in {header.mode} mode; vision fine-tuning takes RGB or RGBA",
            None,
        )


# ---------------------------------------------------------------- calls


def _check_arguments(arguments: Any, path: str, emit: Emit) -> None:
    if not isinstance(arguments, str):
        emit(
            "arguments_not_string",
            path,
            f"arguments must be a JSON string, got {_type_name(arguments)}",
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
            else _type_name(value)
        )
        emit(
            "arguments_not_object",
            path,
            f"arguments decode to {what}, not an object",
            "json.dumps the arguments dict once" if isinstance(value, str) else None,
        )


def _check_function_call(call: Any, path: str, emit: Emit) -> str | None:
    """Check a ``{"name", "arguments"}`` object; return the name if usable."""
    if not isinstance(call, dict):
        emit(
            "invalid_tool_call",
            path,
            f"function must be an object with name and arguments, got {_type_name(call)}",
            None,
        )
        return None
    for key in call:
        if key not in _CALL_KEYS:
            emit("unknown_key", f"{path}.{key}", f"unknown key {key!r} in a function call", None)
    name = call.get("name")
    if name is None:
        emit("tool_call_missing_name", f"{path}.name", "the call names no function", None)
        name = None
    elif not isinstance(name, str):
        emit("wrong_type", f"{path}.name", f"name must be a string, got {_type_name(name)}", None)
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


def _check_tool_calls(
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
        emit(
            "wrong_type",
            path,
            f"tool_calls must be an array of calls, got {_type_name(calls)}",
            fix,
        )
        return []
    opened: list[str] = []
    for index, call in enumerate(calls):
        where = f"{path}[{index}]"
        if not isinstance(call, dict):
            emit(
                "invalid_tool_call",
                where,
                f"a tool call must be an object, got {_type_name(call)}",
                None,
            )
            continue
        for key in call:
            if key not in _TOOL_CALL_KEYS:
                emit("unknown_key", f"{where}.{key}", f"unknown key {key!r} in a tool call", None)
        kind = call.get("type", "function")
        if kind != "function":
            emit(
                "invalid_tool_call",
                f"{where}.type",
                f"tool call type must be 'function', got {kind!r}",
                None,
            )
        call_id = call.get("id")
        if call_id is None:
            emit("tool_call_missing_id", f"{where}.id", "the tool call has no id", None)
        elif not isinstance(call_id, str):
            emit(
                "wrong_type", f"{where}.id", f"id must be a string, got {_type_name(call_id)}", None
            )
        elif call_id in seen_ids:
            emit(
                "duplicate_tool_call_id",
                f"{where}.id",
                f"tool call id {call_id!r} is used twice in this example",
                None,
            )
        else:
            seen_ids.add(call_id)
            opened.append(call_id)
        if "function" not in call:
            emit("invalid_tool_call", f"{where}.function", "the tool call has no function", None)
            continue
        name = _check_function_call(call["function"], f"{where}.function", emit)
        if name is not None:
            summary.called_tools.append((f"{where}.function.name", name))
    return opened


# ---------------------------------------------------------------- messages


def check_messages(
    messages: Any,
    path: str,
    emit: Emit,
    *,
    declared: set[str] | None = None,
    check_declared: bool = True,
    refusal_warning: bool = False,
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

    Returns:
        What was learned about the conversation, or ``None`` if ``messages``
        is not a non-empty array.
    """
    if not isinstance(messages, list):
        emit("wrong_type", path, f"messages must be an array, got {_type_name(messages)}", None)
        return None
    if not messages:
        emit("empty_messages", path, "messages is empty", None)
        return None
    summary = MessageSummary()
    roles = summary.roles
    responses = summary.responses
    seen_ids: set[str] = set()
    pending: dict[str, str] = {}  # open tool-call id -> path of the call
    unreadable_calls = False  # tool_calls that are not an array: their ids are unknown
    for index, message in enumerate(messages):
        # Fast path for the shape of nearly every message: a known role and non-blank string
        # content, plus a 0/1 weight on an assistant turn. It finds nothing to report, so it
        # builds no paths; anything else takes the general path below.
        if type(message) is dict and len(message) <= 3:
            role = message.get("role")
            content = message.get("content")
            weight = message.get("weight", 1)
            if (
                type(content) is str
                and type(role) is str
                and role in _PLAIN_ROLES
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
                if pending:
                    _unanswered(pending, emit, role)
                roles.append(role)
                if role == "assistant":
                    summary.assistants += 1
                    if weight:
                        summary.trained += 1
                        responses.append(len(content))
                elif index == 0 and role == "system":
                    summary.system_prompt = content
                continue
        where = f"{path}[{index}]"
        if not isinstance(message, dict):
            emit(
                "wrong_type", where, f"a message must be an object, got {_type_name(message)}", None
            )
            summary.roles.append("?")
            continue
        role = message.get("role")
        allowed = _ALLOWED.get(role) if isinstance(role, str) else None
        if allowed is None:
            if role is None:
                emit("unknown_role", f"{where}.role", "the message has no role", None)
            else:
                emit(
                    "unknown_role",
                    f"{where}.role",
                    f"unknown role {role!r}; use one of {', '.join(ROLES[:1] + ROLES[2:])}",
                    None,
                )
            summary.roles.append("?")
            continue
        assert isinstance(role, str)
        summary.roles.append(role)
        if role == "developer":
            emit(
                "developer_role",
                f"{where}.role",
                "role 'developer' is not part of the fine-tuning format",
                None,
            )
        for key in message:
            if key not in allowed and key != "weight":
                emit(
                    "unknown_key",
                    f"{where}.{key}",
                    f"unknown key {key!r} in a {role} message",
                    None,
                )
        if "weight" in message and role != "assistant":
            emit(
                "weight_not_allowed",
                f"{where}.weight",
                f"weight is only allowed on assistant messages, not on a {role} message",
                None,
            )
        name = message.get("name")
        if name is not None and not isinstance(name, str):
            emit(
                "wrong_type",
                f"{where}.name",
                f"name must be a string, got {_type_name(name)}",
                None,
            )
        elif name is not None and not _FUNCTION_NAME.fullmatch(name):
            emit("invalid_name", f"{where}.name", _name_problem(name), None)

        if pending and role != "tool":
            _unanswered(pending, emit, role)

        has_call = False
        trained_turn = False
        if role == "assistant":
            summary.assistants += 1
            weight = message.get("weight")
            trained_turn = True
            if weight is not None:
                if isinstance(weight, bool) or not isinstance(weight, int) or weight not in (0, 1):
                    emit(
                        "invalid_weight",
                        f"{where}.weight",
                        _weight_problem(weight),
                        None,
                    )
                elif weight == 0:
                    trained_turn = False
            if trained_turn:
                summary.trained += 1
            calls = message.get("tool_calls")
            if calls is not None:
                for call_id in _check_tool_calls(
                    calls, f"{where}.tool_calls", emit, summary, seen_ids
                ):
                    pending[call_id] = f"{where}.tool_calls"
                # tool_calls of the wrong type were meant as calls: no missing_content, and
                # the tool results that answer them are not "unknown" (one finding, not three).
                has_call = bool(calls) if isinstance(calls, list) else True
                unreadable_calls = unreadable_calls or not isinstance(calls, list)
            function_call = message.get("function_call")
            if function_call is not None:
                emit(
                    "legacy_function_call",
                    f"{where}.function_call",
                    "function_call is the deprecated form of tool_calls",
                    None,
                )
                fname = _check_function_call(function_call, f"{where}.function_call", emit)
                if fname is not None:
                    summary.called_tools.append((f"{where}.function_call.name", fname))
                has_call = True
            refusal = message.get("refusal")
            if refusal is not None and not isinstance(refusal, str):
                emit(
                    "wrong_type",
                    f"{where}.refusal",
                    f"refusal must be a string, got {_type_name(refusal)}",
                    None,
                )
            elif refusal is not None and refusal_warning:
                emit(
                    "refusal_not_trained",
                    f"{where}.refusal",
                    "refusal is not a training target: its text is neither trained nor "
                    "counted in the tokens",
                    None,
                )
        elif role == "tool":
            answer_id = message.get("tool_call_id")
            if answer_id is None:
                emit(
                    "missing_field",
                    f"{where}.tool_call_id",
                    "a tool message needs the tool_call_id of the call it answers",
                    None,
                )
            elif not isinstance(answer_id, str):
                emit(
                    "wrong_type",
                    f"{where}.tool_call_id",
                    f"tool_call_id must be a string, got {_type_name(answer_id)}",
                    None,
                )
            elif answer_id in pending:
                del pending[answer_id]
            elif not unreadable_calls:
                emit(
                    "unknown_tool_call_id",
                    f"{where}.tool_call_id",
                    f"tool_call_id {answer_id!r} matches no earlier tool call"
                    + (" (that call was already answered)" if answer_id in seen_ids else ""),
                    None,
                )
        elif role == "function" and name is None:
            emit(
                "missing_field",
                f"{where}.name",
                "a function message needs the name of the function",
                None,
            )

        # content
        if "content" not in message or message["content"] is None:
            if role == "assistant":
                if not has_call:
                    emit(
                        "missing_content",
                        f"{where}.content",
                        "the assistant message has no content and no tool_calls",
                        None,
                    )
            elif role == "function":
                if "content" not in message:
                    emit(
                        "missing_field",
                        f"{where}.content",
                        "a function message needs content (null is allowed)",
                        None,
                    )
            else:
                emit(
                    "missing_content",
                    f"{where}.content",
                    f"the {role} message has no content",
                    None,
                )
            length = 0
        else:
            content = message["content"]
            if role == "function" and not isinstance(content, str):
                emit(
                    "invalid_content",
                    f"{where}.content",
                    f"function content must be a string, got {_type_name(content)}",
                    None,
                )
                length = -1
            else:
                length = _check_content(content, role, f"{where}.content", emit, summary)
            if not has_call and _is_empty(content):
                emit(
                    "empty_content",
                    f"{where}.content",
                    (
                        f"the {role} message is empty"
                        if not content
                        else f"the {role} message holds only whitespace"
                    )
                    + (
                        ": a trained empty reply teaches the model to answer with nothing "
                        "(the format allows it)"
                        if trained_turn
                        else ""
                    ),
                    None,
                )
        if trained_turn and length >= 0 and message.get("content") is not None:
            summary.responses.append(length)
        if index == 0 and role in ("system", "developer"):
            summary.system_prompt = content_text(message.get("content"))

    # A call left open by the last message is the training target (the model learns to
    # call the tool); a call left open earlier was reported when the conversation moved on.
    if check_declared:
        for where, name in summary.called_tools:
            if declared is None:
                emit(
                    "undeclared_tool",
                    where,
                    f"the example calls {name!r} but declares no tools",
                    None,
                )
            elif name not in declared:
                emit(
                    "undeclared_tool",
                    where,
                    f"{name!r} is not among the declared tools "
                    f"({', '.join(sorted(declared)) or 'none'})",
                    None,
                )
    return summary


def _name_problem(name: str) -> str:
    """Why a message ``name`` fails the API's pattern, in plain words."""
    if not name:
        return "name is empty; omit it or give 1-64 letters, digits, _ or -"
    if len(name) > 64:
        return f"name is {len(name)} characters long; the API takes at most 64"
    bad = sorted({c for c in name if not _FUNCTION_NAME.fullmatch(c)})
    shown = ", ".join("a space" if c == " " else repr(c) for c in bad[:5])
    return (
        f"name {name[:70]!r} has {shown}; the API takes only letters, digits, _ and - "
        "(pattern ^[a-zA-Z0-9_-]{1,64}$)"
    )


def _weight_problem(weight: Any) -> str:
    """The ``invalid_weight`` message; a float such as 1.0 is told what to write instead."""
    if isinstance(weight, float) and weight in (0, 1):
        return f"weight must be 0 or 1 written as an integer, not {weight!r}: write {int(weight)}"
    return f"weight must be 0 or 1, got {_shown(weight)}"


def _is_empty(content: Any) -> bool:
    """No text and no image: an empty string, whitespace, empty text parts.

    An empty list is not "empty text" but invalid content (the API wants at least one part).
    """
    if isinstance(content, str):
        return not content.strip()
    if isinstance(content, list) and content:
        return all(
            isinstance(part, dict)
            and part.get("type") == "text"
            and isinstance(part.get("text"), str)
            and not part["text"].strip()
            for part in content
        )
    return False


def _unanswered(pending: dict[str, str], emit: Emit, role: str) -> None:
    for call_id, where in pending.items():
        emit(
            "unanswered_tool_call",
            where,
            f"tool call {call_id!r} gets no tool result before the next {role} message",
            None,
        )
    pending.clear()


# ---------------------------------------------------------------- tools


def check_tools(record: dict[str, Any], path: str, emit: Emit) -> set[str] | None:
    """Check ``tools``, ``functions`` and ``parallel_tool_calls``; return declared names."""
    declared: set[str] | None = None
    tools = record.get("tools")
    if tools is not None:
        declared = set()
        if not isinstance(tools, list):
            emit(
                "invalid_tool_definition",
                f"{path}tools",
                f"tools must be an array, got {_type_name(tools)}",
                None,
            )
        else:
            for index, tool in enumerate(tools):
                where = f"{path}tools[{index}]"
                if not isinstance(tool, dict):
                    emit(
                        "invalid_tool_definition",
                        where,
                        f"a tool must be an object, got {_type_name(tool)}",
                        None,
                    )
                    continue
                for key in tool:
                    if key not in _TOOL_KEYS:
                        emit(
                            "invalid_tool_definition",
                            f"{where}.{key}",
                            f"unknown key {key!r} in a tool definition",
                            None,
                        )
                kind = tool.get("type", "function")
                if kind != "function":
                    emit(
                        "invalid_tool_definition",
                        f"{where}.type",
                        f"tool type must be 'function', got {kind!r}",
                        None,
                    )
                if "function" not in tool:
                    emit(
                        "invalid_tool_definition",
                        f"{where}.function",
                        "the tool has no function definition",
                        None,
                    )
                    continue
                name = _check_function_definition(tool["function"], f"{where}.function", emit)
                if name is not None:
                    if name in declared:
                        emit(
                            "duplicate_tool_name",
                            f"{where}.function.name",
                            f"tool {name!r} is declared twice",
                            None,
                        )
                    declared.add(name)
    functions = record.get("functions")
    if functions is not None:
        declared = declared if declared is not None else set()
        if not isinstance(functions, list):
            emit(
                "invalid_tool_definition",
                f"{path}functions",
                f"functions must be an array, got {_type_name(functions)}",
                None,
            )
        else:
            emit(
                "legacy_function_call",
                f"{path}functions",
                "functions is the deprecated form of tools",
                None,
            )
            if len(functions) > MAX_FUNCTIONS:
                emit(
                    "too_many_functions",
                    f"{path}functions",
                    f"{len(functions)} functions are declared; the maximum is {MAX_FUNCTIONS}",
                    None,
                )
            for index, function in enumerate(functions):
                name = _check_function_definition(function, f"{path}functions[{index}]", emit)
                if name is not None:
                    declared.add(name)
    parallel = record.get("parallel_tool_calls")
    if parallel is not None and not isinstance(parallel, bool):
        emit(
            "wrong_type",
            f"{path}parallel_tool_calls",
            f"parallel_tool_calls must be true or false, got {_type_name(parallel)}",
            None,
        )
    return declared


def _check_function_definition(function: Any, where: str, emit: Emit) -> str | None:
    if not isinstance(function, dict):
        emit(
            "invalid_tool_definition",
            where,
            f"a function definition must be an object, got {_type_name(function)}",
            None,
        )
        return None
    for key in function:
        if key not in _FUNCTION_KEYS:
            emit(
                "invalid_tool_definition",
                f"{where}.{key}",
                f"unknown key {key!r} in a function definition",
                None,
            )
    name = function.get("name")
    result: str | None = None
    if not isinstance(name, str):
        emit(
            "invalid_tool_definition",
            f"{where}.name",
            "the function has no name"
            if name is None
            else f"name must be a string, got {_type_name(name)}",
            None,
        )
    elif not _FUNCTION_NAME.fullmatch(name):
        emit(
            "invalid_tool_definition",
            f"{where}.name",
            f"function name {name[:70]!r} must be 1-64 letters, digits, _ or -",
            None,
        )
        result = name
    else:
        result = name
    for key, kind, wanted in _DEFINITION_FIELDS:
        value = function.get(key)
        if value is not None and not isinstance(value, kind):
            emit(
                "invalid_tool_definition",
                f"{where}.{key}",
                f"{key} must be {wanted}, got {_type_name(value)}",
                None,
            )
    return result


# ---------------------------------------------------------------- SFT records


def check_sft(record: dict[str, Any], emit: Emit, ctx: CheckContext) -> MessageSummary | None:
    """Check one SFT record; return its summary when ``messages`` could be read."""
    unknown = [key for key in record if key not in _SFT_KEYS]
    declared = check_tools(record, "", emit)
    summary = check_messages(
        record.get("messages"), "messages", emit, declared=declared, refusal_warning=True
    )
    # A prompt with keys beside messages (the fields RFT graders read) is an RFT record; a
    # prompt without them is an SFT example that lacks its reply (the file may still be a set
    # of RFT prompts: the engine says so when no example of the file has an assistant reply).
    looks_rft = (
        bool(unknown)
        and summary is not None
        and not summary.assistants
        and set(summary.roles) <= {"system", "developer", "user"}
    )
    for key in unknown:
        emit(
            "unknown_key",
            str(key),
            f"unknown top-level key {key!r}",
            "extra keys beside messages are reinforcement fine-tuning (RFT) grader fields; "
            "SFT records only take messages, tools, parallel_tool_calls and functions"
            if looks_rft
            else None,
        )
    if summary is None:
        return None
    if not summary.assistants:
        message = "messages has no assistant message, so there is nothing to train"
        emit(
            "no_assistant_message",
            "messages",
            f"{message}; with its extra keys ({', '.join(map(str, unknown[:3]))}) {_RFT_HINT}"
            if looks_rft
            else message,
            None,
        )
    elif not summary.trained:
        emit(
            "nothing_to_train",
            "messages",
            f"all {summary.assistants} assistant messages have weight 0",
            None,
        )
    elif summary.roles[-1] != "assistant":
        emit(
            "ends_on_non_assistant",
            f"messages[{len(summary.roles) - 1}]",
            f"the example ends on a {summary.roles[-1]} message after the last assistant reply",
            None,
        )
    if "user" not in summary.roles and "?" not in summary.roles and summary.assistants:
        emit(
            "no_user_message",
            "messages",
            "the example has no user message: the assistant replies to nothing",
            None,
        )
    check_images(summary, "messages", emit, ctx)
    return summary


def check_images(summary: MessageSummary, path: str, emit: Emit, ctx: CheckContext) -> None:
    """Per-example image rules: the count, and whether the model takes images at all."""
    if not summary.images:
        return
    if summary.images > MAX_IMAGES:
        emit(
            "too_many_images",
            path,
            f"{summary.images} images in one example; the maximum is {MAX_IMAGES}",
            None,
        )
    if ctx.vision is False:
        emit(
            "images_not_supported",
            path,
            f"the example has {plural(summary.images, 'image')} but {ctx.model} has no vision "
            "fine-tuning",
            None,
        )
