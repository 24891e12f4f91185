"""Strict, frozen pydantic models of the fine-tuning file formats (depends on pydantic only).

The models load on first use: the validator's fast path needs only
:mod:`ftkit.schema.formats`, and importing pydantic would cost it ~0.2 s per process.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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

_MESSAGES = (
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
)
_RECORDS = (
    "DPOInput",
    "DPORecord",
    "FunctionDefinition",
    "Record",
    "RecordKind",
    "SFTRecord",
    "ToolDefinition",
    "parse_record",
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
    if name in _MESSAGES:
        module = "ftkit.schema.messages"
    elif name in _RECORDS:
        module = "ftkit.schema.records"
    else:
        raise AttributeError(f"module 'ftkit.schema' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
