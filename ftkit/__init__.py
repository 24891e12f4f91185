"""ftkit: OpenAI-format chat fine-tuning, from JSONL files to a fine-tuned model.

The public names below are loaded on first use, so ``import ftkit`` stays
cheap and never imports ``openai``: a validator or analyzer user does not
pay for the client, and a service can import ftkit at start-up for free.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._exceptions import (
    APIError,
    DatasetError,
    DatasetInvalid,
    FtkitError,
    JobFailed,
    RecordError,
    RetryExhausted,
    RunConflict,
    TokenizerUnavailable,
    TrainingUnavailable,
    UsageError,
    WaitTimeout,
)
from ._version import __version__

if TYPE_CHECKING:
    from .dataset import Dataset, read_jsonl
    from .schema import (
        AssistantMessage,
        DeveloperMessage,
        DPOInput,
        DPORecord,
        FunctionCall,
        FunctionDefinition,
        FunctionMessage,
        ImagePart,
        ImageURL,
        SFTRecord,
        SystemMessage,
        TextPart,
        ToolCall,
        ToolDefinition,
        ToolMessage,
        UserMessage,
    )
    from .tokens import encoding_for_model

# public name -> module that defines it
_LAZY: dict[str, str] = {
    "AssistantMessage": "ftkit.schema",
    "DPOInput": "ftkit.schema",
    "DPORecord": "ftkit.schema",
    "Dataset": "ftkit.dataset",
    "DeveloperMessage": "ftkit.schema",
    "FunctionCall": "ftkit.schema",
    "FunctionDefinition": "ftkit.schema",
    "FunctionMessage": "ftkit.schema",
    "ImagePart": "ftkit.schema",
    "ImageURL": "ftkit.schema",
    "SFTRecord": "ftkit.schema",
    "SystemMessage": "ftkit.schema",
    "TextPart": "ftkit.schema",
    "ToolCall": "ftkit.schema",
    "ToolDefinition": "ftkit.schema",
    "ToolMessage": "ftkit.schema",
    "UserMessage": "ftkit.schema",
    "encoding_for_model": "ftkit.tokens",
    "read_jsonl": "ftkit.dataset",
}

__all__ = [
    "APIError",
    "AssistantMessage",
    "DPOInput",
    "DPORecord",
    "Dataset",
    "DatasetError",
    "DatasetInvalid",
    "DeveloperMessage",
    "FtkitError",
    "FunctionCall",
    "FunctionDefinition",
    "FunctionMessage",
    "ImagePart",
    "ImageURL",
    "JobFailed",
    "RecordError",
    "RetryExhausted",
    "RunConflict",
    "SFTRecord",
    "SystemMessage",
    "TextPart",
    "TokenizerUnavailable",
    "ToolCall",
    "ToolDefinition",
    "ToolMessage",
    "TrainingUnavailable",
    "UsageError",
    "UserMessage",
    "WaitTimeout",
    "__version__",
    "encoding_for_model",
    "read_jsonl",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ftkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
