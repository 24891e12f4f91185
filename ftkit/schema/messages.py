"""Chat messages exactly as the fine-tuning file formats define them.

One model per ``role``, joined in :data:`Message`, a union discriminated on
``role``. Content is a string or a list of parts (text, and images outside
assistant turns). The models are strict and frozen: they describe what a
training line *is*, so an ill-typed value is an error here, not a guess.
Rules that are about training quality (a call never answered, a conversation
ending on a user turn) belong to the validator, not to these types.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, Field, field_validator, model_validator

from .._public import publish
from ._base import StrictModel

__all__ = [
    "AssistantMessage",
    "ContentPart",
    "DeveloperMessage",
    "FunctionCall",
    "FunctionMessage",
    "ImagePart",
    "ImageURL",
    "Message",
    "SystemMessage",
    "TextPart",
    "ToolCall",
    "ToolMessage",
    "UserMessage",
]


class TextPart(StrictModel):
    """A text content part."""

    type: Literal["text"] = "text"
    text: str


class ImageURL(StrictModel):
    """Where an image is and how closely the model should look at it."""

    url: str
    """An ``https://`` URL or a ``data:image/...;base64,`` URL."""
    detail: Literal["low", "high", "auto"] | None = None
    """``low`` costs a fixed 85 tokens (512x512); omitted means ``auto``."""


class ImagePart(StrictModel):
    """An image content part (vision fine-tuning); not allowed in assistant turns."""

    type: Literal["image_url"] = "image_url"
    image_url: ImageURL


ContentPart = Annotated[Union[TextPart, ImagePart], Field(discriminator="type")]  # noqa: UP007
"""A content part, discriminated on ``type``."""


def _at_least_one_part(parts: list[Any]) -> list[Any]:
    if not parts:
        raise ValueError("content is an empty list; the API takes a string or at least one part")
    return parts


Content = Union[str, Annotated[list[ContentPart], AfterValidator(_at_least_one_part)]]  # noqa: UP007
"""A string, or at least one part (the API's ``minItems: 1``)."""

_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


class _Named(StrictModel):
    """A message whose optional ``name`` must match the API's ``^[a-zA-Z0-9_-]{1,64}$``."""

    @field_validator("name", check_fields=False)
    @classmethod
    def _name_pattern(cls, value: Any) -> Any:
        if isinstance(value, str) and not _NAME.fullmatch(value):
            raise ValueError(
                f"name {value[:70]!r} must be 1-64 letters, digits, _ or - (no spaces or dots)"
            )
        return value


class _ContextMessage(_Named):
    """A turn the model reads but never learns to write: it may not carry a ``weight``."""

    @model_validator(mode="before")
    @classmethod
    def _no_weight(cls, data: Any) -> Any:
        if isinstance(data, dict) and "weight" in data:
            role = cls.model_fields["role"].default
            raise ValueError(
                f"weight is only allowed on assistant messages, not on a {role} message; "
                "remove it (every non-assistant turn is context, never trained)"
            )
        return data


class SystemMessage(_ContextMessage):
    """Instructions that frame the conversation."""

    role: Literal["system"] = "system"
    content: Content
    name: str | None = None


class DeveloperMessage(_ContextMessage):
    """The newer name for system instructions; not in the fine-tuning spec (validator warns)."""

    role: Literal["developer"] = "developer"
    content: Content
    name: str | None = None


class UserMessage(_ContextMessage):
    """A user turn; may hold images."""

    role: Literal["user"] = "user"
    content: Content
    name: str | None = None


class FunctionCall(StrictModel):
    """A function name and its arguments, serialised as a JSON string."""

    name: str
    arguments: str
    """The call's arguments as a JSON *string* (``json.dumps({...})``), as the API sends them."""

    @field_validator("arguments", mode="before")
    @classmethod
    def _arguments_are_a_string(cls, value: Any) -> Any:
        if not isinstance(value, str):
            kind = type(value).__name__ if not isinstance(value, dict) else "an object"
            raise ValueError(
                f'arguments must be a JSON string such as \'{{"city": "Oslo"}}\', got {kind}; '
                "serialise it with json.dumps"
            )
        return value


class ToolCall(StrictModel):
    """A tool call made by the assistant."""

    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class AssistantMessage(_Named):
    """An assistant turn: the text the model learns to produce, or a tool call.

    ``content`` may be absent or null only when ``tool_calls`` or the legacy
    ``function_call`` is present. ``weight`` (0 or 1) switches training of this
    turn off or on in multi-turn examples; omitted means trained.
    """

    role: Literal["assistant"] = "assistant"
    content: Content | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    function_call: FunctionCall | None = None
    refusal: str | None = None
    weight: Literal[0, 1] | None = None
    """1 (or omitted) trains on this turn; 0 keeps it as context only."""

    @field_validator("weight", mode="before")
    @classmethod
    def _weight_is_zero_or_one(cls, value: Any) -> Any:
        if value is None:
            return value
        if isinstance(value, float) and value in (0, 1):
            raise ValueError(
                f"weight must be 0 or 1 written as an integer, not {value!r}: write {int(value)}"
            )
        if isinstance(value, bool) or not isinstance(value, int) or value not in (0, 1):
            raise ValueError(f"weight must be 0 or 1, got {value!r}")
        return value

    @model_validator(mode="after")
    def _check(self) -> AssistantMessage:
        has_call = bool(self.tool_calls) or self.function_call is not None
        if self.content is None and not has_call:
            raise ValueError(
                "an assistant message needs content, or tool_calls / function_call; "
                "add the reply text"
            )
        if isinstance(self.content, list):
            for part in self.content:
                if isinstance(part, ImagePart):
                    raise ValueError(
                        "images are not allowed in assistant messages; move the image to a "
                        "user message"
                    )
        return self

    @property
    def trained(self) -> bool:
        """Whether this turn is a training target (weight omitted or 1)."""
        return self.weight != 0


class ToolMessage(_ContextMessage):
    """The result of a tool call, answering the call with the same id."""

    role: Literal["tool"] = "tool"
    content: Union[str, Annotated[list[TextPart], AfterValidator(_at_least_one_part)]]  # noqa: UP007
    tool_call_id: str


class FunctionMessage(_ContextMessage):
    """The legacy result of a ``function_call``."""

    role: Literal["function"] = "function"
    name: str
    content: str | None


Message = Annotated[
    Union[  # noqa: UP007
        SystemMessage,
        DeveloperMessage,
        UserMessage,
        AssistantMessage,
        ToolMessage,
        FunctionMessage,
    ],
    Field(discriminator="role"),
]
"""Any chat message, discriminated on ``role``."""


publish("ftkit.schema", globals(), __all__)
