"""Strict, frozen pydantic models of the fine-tuning file formats (depends on pydantic only)."""

from .formats import describe_foreign, detect_kind
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
