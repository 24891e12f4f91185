"""ftkit's messages as the plain chat dicts open-source trainers read, every change counted.

TRL and Axolotl hand a conversation's messages to the model's chat template, which
reads the OpenAI shape (``role``, ``content``, ``tool_calls``, ``tool_call_id``...)
minus what only the fine-tuning API knows. One conversion serves both targets so
they agree on everything but what differs (images, weights): the caller says how
images and weights are written, and each feature's fate goes to a
:class:`~ftkit.interop._loss.LossTally` where the decision is made.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..schema import (
    AssistantMessage,
    DeveloperMessage,
    FunctionDefinition,
    FunctionMessage,
    ImagePart,
    TextPart,
    ToolDefinition,
    ToolMessage,
)
from ._loss import LossTally

__all__ = [
    "DEVELOPER",
    "FUNCTIONS",
    "IMAGES",
    "NAMES",
    "PARALLEL",
    "REFUSALS",
    "TOOLS",
    "TOOL_CALLS",
    "WEIGHTS",
    "ImageWriter",
    "WeightWriter",
    "chat_message",
    "legacy_call_id",
    "text_of",
    "tool_definitions",
]

WEIGHTS = "message weights"
TOOLS = "tools"
TOOL_CALLS = "tool calls"
IMAGES = "images"
PARALLEL = "parallel_tool_calls"
NAMES = "names"
REFUSALS = "refusals"
DEVELOPER = "developer role"
FUNCTIONS = "legacy functions"

ImageWriter = Callable[[ImagePart, LossTally], dict[str, Any]]
"""Writes one image part in the target's shape, counting it."""
WeightWriter = Callable[[AssistantMessage, dict[str, Any], LossTally], None]
"""Writes (or not) an assistant turn's ``weight`` into its dict, counting it."""


def legacy_call_id(index: int) -> str:
    """The id given to the ``index``-th legacy ``function_call`` of a conversation.

    Chat templates pair a result with its call by id; the legacy format had none.
    """
    return f"call_legacy_{index}"


def tool_definitions(
    tools: Sequence[ToolDefinition] | None,
    functions: Sequence[FunctionDefinition] | None,
    tally: LossTally,
) -> list[dict[str, Any]] | None:
    """The ``tools`` column: the tools as given, legacy ``functions`` as function tools."""
    found: list[dict[str, Any]] = []
    if tools:
        found += [tool.model_dump(mode="json", exclude_unset=True) for tool in tools]
        tally.kept(TOOLS, len(tools))
    if functions:
        found += [
            {"type": "function", "function": f.model_dump(mode="json", exclude_unset=True)}
            for f in functions
        ]
        tally.mapped(
            FUNCTIONS,
            len(functions),
            "legacy functions written as tools (function_call as tool_calls)",
        )
    return found or None


def chat_message(
    message: Any,
    tally: LossTally,
    *,
    image: ImageWriter,
    weight: WeightWriter,
    legacy_calls: list[int],
) -> dict[str, Any]:
    """``message`` as a chat template reads it.

    Args:
        message: one of :mod:`ftkit.schema`'s message models.
        tally: where each feature met is counted.
        image: how an image part is written.
        weight: how an assistant turn's weight is written.
        legacy_calls: a one-item counter of the conversation's legacy calls (their ids).
    """
    out: dict[str, Any] = {"role": message.role}
    if isinstance(message, DeveloperMessage):
        out["role"] = "system"
        tally.mapped(DEVELOPER, note="developer messages written as system messages")
    if isinstance(message, FunctionMessage):
        # A legacy function result answers the latest legacy call, as a tool result.
        out = {
            "role": "tool",
            "tool_call_id": legacy_call_id(max(legacy_calls[0] - 1, 0)),
            "name": message.name,
            "content": message.content or "",
        }
        tally.mapped(FUNCTIONS)
        return out
    out["content"] = _content(message.content, tally, image)
    name = getattr(message, "name", None)
    if name is not None:
        out["name"] = name
        tally.kept(NAMES, note="kept as each message's name; only templates that write one use it")
    if isinstance(message, ToolMessage):
        out["tool_call_id"] = message.tool_call_id
    if isinstance(message, AssistantMessage):
        calls: list[dict[str, Any]] = []
        if message.tool_calls:
            calls += [
                call.model_dump(mode="json", exclude_unset=True) for call in message.tool_calls
            ]
            tally.kept(TOOL_CALLS, len(message.tool_calls))
        if message.function_call is not None:
            calls.append(
                {
                    "id": legacy_call_id(legacy_calls[0]),
                    "type": "function",
                    "function": message.function_call.model_dump(mode="json"),
                }
            )
            legacy_calls[0] += 1
            tally.mapped(FUNCTIONS)
        if calls:
            out["tool_calls"] = calls
        if message.refusal is not None:
            tally.dropped(REFUSALS, note="no trainer field for a refusal; the content stays")
        weight(message, out, tally)
    return out


def _content(content: Any, tally: LossTally, image: ImageWriter) -> Any:
    if content is None or isinstance(content, str):
        return content
    parts: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, TextPart):
            parts.append({"type": "text", "text": part.text})
        else:
            parts.append(image(part, tally))
    return parts


def text_of(content: Any) -> str:
    """A content's text: the string, or its text parts joined (images have none)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(part.text for part in content if isinstance(part, TextPart))
