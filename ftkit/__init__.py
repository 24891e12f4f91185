"""ftkit: OpenAI-format chat fine-tuning, from JSONL files to a fine-tuned model.

The public names are listed once, in :data:`ftkit._public.TOP_LEVEL`, which
gives both ``__all__`` and the loader below. They load on first use, so
``import ftkit`` stays cheap and never imports ``openai``: a validator or
analyzer user does not pay for the client, and a service can import ftkit at
start-up for free. The ``TYPE_CHECKING`` imports name the same names for type
checkers (``X as X`` marks a re-export); a test keeps them equal to the table.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

# Light, and raised or read from every layer: bound now, so an error raised
# anywhere already reports itself as ``ftkit.UsageError``.
from . import _exceptions, _optional, _public, _version  # noqa: F401

# A library logs and lets the application decide where logs go: without this,
# Python's last-resort handler would print ftkit's warnings to stderr.
logging.getLogger("ftkit").addHandler(logging.NullHandler())

if TYPE_CHECKING:
    from ._exceptions import APIError as APIError
    from ._exceptions import CostLimitExceeded as CostLimitExceeded
    from ._exceptions import DatasetError as DatasetError
    from ._exceptions import DatasetInvalid as DatasetInvalid
    from ._exceptions import DeploymentFailed as DeploymentFailed
    from ._exceptions import FtkitError as FtkitError
    from ._exceptions import JobFailed as JobFailed
    from ._exceptions import RecordError as RecordError
    from ._exceptions import RetryExhausted as RetryExhausted
    from ._exceptions import RunConflict as RunConflict
    from ._exceptions import TokenizerUnavailable as TokenizerUnavailable
    from ._exceptions import TrainingUnavailable as TrainingUnavailable
    from ._exceptions import UsageError as UsageError
    from ._exceptions import WaitTimeout as WaitTimeout
    from ._optional import MissingExtra as MissingExtra
    from ._version import __version__ as __version__
    from .backend import JobEvent as JobEvent
    from .backend import MessageEvent as MessageEvent
    from .backend import MetricsEvent as MetricsEvent
    from .cost import CostEstimate as CostEstimate
    from .dataset import Dataset as Dataset
    from .dataset import read_jsonl as read_jsonl
    from .evaluation import EvalReport as EvalReport
    from .evaluation import ExactMatch as ExactMatch
    from .evaluation import JsonFields as JsonFields
    from .evaluation import JsonValid as JsonValid
    from .evaluation import ToolCallMatch as ToolCallMatch
    from .evaluation import aevaluate as aevaluate
    from .evaluation import evaluate as evaluate
    from .interop import export as export
    from .interop import import_dataset as import_dataset
    from .pipeline import AsyncFineTune as AsyncFineTune
    from .pipeline import AsyncRun as AsyncRun
    from .pipeline import Deployment as Deployment
    from .pipeline import FineTune as FineTune
    from .pipeline import Plan as Plan
    from .pipeline import Run as Run
    from .pipeline import RunEvent as RunEvent
    from .pipeline import RunResult as RunResult
    from .pipeline import RunStatus as RunStatus
    from .pipeline import StageResult as StageResult
    from .polling import PollPolicy as PollPolicy
    from .providers import ModelInfo as ModelInfo
    from .providers import model_info as model_info
    from .retry import RetryPolicy as RetryPolicy
    from .schema import AssistantMessage as AssistantMessage
    from .schema import DeveloperMessage as DeveloperMessage
    from .schema import DPOInput as DPOInput
    from .schema import DPORecord as DPORecord
    from .schema import FunctionCall as FunctionCall
    from .schema import FunctionDefinition as FunctionDefinition
    from .schema import FunctionMessage as FunctionMessage
    from .schema import ImagePart as ImagePart
    from .schema import ImageURL as ImageURL
    from .schema import SFTRecord as SFTRecord
    from .schema import SystemMessage as SystemMessage
    from .schema import TextPart as TextPart
    from .schema import ToolCall as ToolCall
    from .schema import ToolDefinition as ToolDefinition
    from .schema import ToolMessage as ToolMessage
    from .schema import UserMessage as UserMessage
    from .tokens import count_tokens as count_tokens
    from .tokens import encoding_for_model as encoding_for_model
    from .validation import CODES as CODES
    from .validation import Issue as Issue
    from .validation import Severity as Severity
    from .validation import ValidationReport as ValidationReport
    from .validation import estimate as estimate
    from .validation import validate as validate

if not TYPE_CHECKING:  # type checkers read the imports above, so a typo is an error
    __all__, __getattr__, __dir__ = _public.lazy_exports(__name__, _public.TOP_LEVEL, globals())
