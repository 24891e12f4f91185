"""Strict, frozen pydantic models of the fine-tuning file formats (depends on pydantic only).

The models load on first use: the validator's fast path needs only
:mod:`ftkit.schema.formats`, and importing pydantic would cost it ~0.2 s per process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._public import publish
from .formats import describe_foreign, detect_kind

if TYPE_CHECKING:
    from .messages import (
        AssistantMessage,
        ContentPart,
        DeveloperMessage,
        FunctionCall,
        FunctionMessage,
        ImagePart,
        ImageURL,
        Message,
        SystemMessage,
        TextPart,
        ToolCall,
        ToolMessage,
        UserMessage,
    )
    from .records import (
        DPOInput,
        DPORecord,
        FunctionDefinition,
        Record,
        RecordKind,
        SFTRecord,
        ToolDefinition,
        parse_record,
    )

__all__ = [
    "AssistantMessage",
    "ContentPart",
    "DPOInput",
    "DPORecord",
    "DeveloperMessage",
    "FunctionCall",
    "FunctionDefinition",
    "FunctionMessage",
    "ImagePart",
    "ImageURL",
    "Message",
    "Record",
    "RecordKind",
    "SFTRecord",
    "SystemMessage",
    "TextPart",
    "ToolCall",
    "ToolDefinition",
    "ToolMessage",
    "UserMessage",
    "describe_foreign",
    "detect_kind",
    "parse_record",
]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'ftkit.schema' has no attribute {name!r}")
    # The models load together (records import messages); each module's ``__all__``
    # says which names are its own, so they are not listed a second time here.
    from . import messages, records

    value = getattr(records if name in records.__all__ else messages, name)
    globals()[name] = value
    return value


# The models publish themselves as they load (records.py, messages.py).
publish(__name__, globals(), __all__)
