"""ftkit: OpenAI-format chat fine-tuning, from JSONL files to a fine-tuned model.

The public names below are loaded on first use, so ``import ftkit`` stays
cheap and never imports ``openai``: a validator or analyzer user does not
pay for the client, and a service can import ftkit at start-up for free.
"""

from __future__ import annotations

import importlib
import logging
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

# A library logs and lets the application decide where logs go: without this,
# Python's last-resort handler would print ftkit's warnings to stderr.
logging.getLogger("ftkit").addHandler(logging.NullHandler())

if TYPE_CHECKING:
    from .cost import CostEstimate
    from .dataset import Dataset, read_jsonl
    from .evaluation import (
        EvalReport,
        ExactMatch,
        JsonFields,
        JsonValid,
        ToolCallMatch,
        aevaluate,
        evaluate,
    )
    from .pipeline import (
        AsyncFineTune,
        AsyncRun,
        FineTune,
        Plan,
        Run,
        RunEvent,
        RunResult,
        RunStatus,
        StageResult,
    )
    from .polling import JobEvent, MessageEvent, MetricsEvent, PollPolicy
    from .retry import RetryPolicy
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
    from .tokens import count_tokens, encoding_for_model
    from .validation import CODES, Issue, Severity, ValidationReport, validate

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
    # analysis
    "CODES": "ftkit.validation",
    "CostEstimate": "ftkit.cost",
    "Issue": "ftkit.validation",
    "Severity": "ftkit.validation",
    "ValidationReport": "ftkit.validation",
    "count_tokens": "ftkit.tokens",
    "estimate": "ftkit.validation",
    "validate": "ftkit.validation",
    "EvalReport": "ftkit.evaluation",
    "ExactMatch": "ftkit.evaluation",
    "JsonFields": "ftkit.evaluation",
    "JsonValid": "ftkit.evaluation",
    "ToolCallMatch": "ftkit.evaluation",
    "aevaluate": "ftkit.evaluation",
    "evaluate": "ftkit.evaluation",
    # policies
    "JobEvent": "ftkit.polling",
    "MessageEvent": "ftkit.polling",
    "MetricsEvent": "ftkit.polling",
    "PollPolicy": "ftkit.polling",
    "RetryPolicy": "ftkit.retry",
    # pipeline
    "AsyncFineTune": "ftkit.pipeline",
    "AsyncRun": "ftkit.pipeline",
    "FineTune": "ftkit.pipeline",
    "Plan": "ftkit.pipeline",
    "Run": "ftkit.pipeline",
    "RunEvent": "ftkit.pipeline",
    "RunResult": "ftkit.pipeline",
    "RunStatus": "ftkit.pipeline",
    "StageResult": "ftkit.pipeline",
}

__all__ = [
    "CODES",
    "APIError",
    "AssistantMessage",
    "AsyncFineTune",
    "AsyncRun",
    "CostEstimate",
    "DPOInput",
    "DPORecord",
    "Dataset",
    "DatasetError",
    "DatasetInvalid",
    "DeveloperMessage",
    "EvalReport",
    "ExactMatch",
    "FineTune",
    "FtkitError",
    "FunctionCall",
    "FunctionDefinition",
    "FunctionMessage",
    "ImagePart",
    "ImageURL",
    "Issue",
    "JobEvent",
    "JobFailed",
    "JsonFields",
    "JsonValid",
    "MessageEvent",
    "MetricsEvent",
    "Plan",
    "PollPolicy",
    "RecordError",
    "RetryExhausted",
    "RetryPolicy",
    "Run",
    "RunConflict",
    "RunEvent",
    "RunResult",
    "RunStatus",
    "SFTRecord",
    "Severity",
    "StageResult",
    "SystemMessage",
    "TextPart",
    "TokenizerUnavailable",
    "ToolCall",
    "ToolCallMatch",
    "ToolDefinition",
    "ToolMessage",
    "TrainingUnavailable",
    "UsageError",
    "UserMessage",
    "ValidationReport",
    "WaitTimeout",
    "__version__",
    "aevaluate",
    "count_tokens",
    "encoding_for_model",
    "estimate",
    "evaluate",
    "read_jsonl",
    "validate",
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
