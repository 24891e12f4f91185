"""Evaluate fine-tuned models against their base on a held-out test set.

:func:`evaluate` sends each test example's conversation (up to its reference
assistant turn) to every model through Chat Completions, scores each reply
against the reference, and returns an :class:`EvalReport`: per-example replies
and scores, each model's mean score with a 95 % interval, pairwise
win/tie/loss, tokens and their cost. Calls run with bounded concurrency under
the pipeline's :class:`~ftkit.RetryPolicy`; with ``out=`` replies are logged as
they arrive, so an interrupted evaluation resumes without asking again::

    report = ftkit.evaluate(
        {"base": "gpt-4.1-mini-2025-04-14", "fine-tuned": result.fine_tuned_model},
        "test.jsonl",
        out="eval-results",  # scorer="auto": chosen from the references
    )
    print(report)

Importing this package does not import ``openai``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._examples import EvalExample, TestSource, load_examples
    from ._prices import InferencePrices
    from ._report import (
        EvalReport,
        ExampleResult,
        ModelReply,
        ModelScore,
        PairwiseResult,
        mean_interval,
    )
    from ._runner import EvalProgress, ModelsArg, aevaluate, evaluate
    from ._scorers import (
        SCORERS,
        AutoScorer,
        ExactMatch,
        JsonFields,
        JsonValid,
        Scorer,
        TokenF1,
        ToolCallData,
        ToolCallMatch,
        Turn,
        choose_scorer,
        resolve_scorer,
    )
    from ._store import REPLIES_FILE, REPORT_FILE, ReplyStore

# Names load on first use: the command line builds its parser from the scorer names
# alone, and the rest (records, pydantic, asyncio) would cost every command ~0.3 s.
_HOMES = {
    "_examples": ("EvalExample", "TestSource", "load_examples"),
    "_prices": ("InferencePrices",),
    "_report": (
        "EvalReport",
        "ExampleResult",
        "ModelReply",
        "ModelScore",
        "PairwiseResult",
        "mean_interval",
    ),
    "_runner": ("EvalProgress", "ModelsArg", "aevaluate", "evaluate"),
    "_scorers": (
        "SCORERS",
        "AutoScorer",
        "ExactMatch",
        "JsonFields",
        "JsonValid",
        "Scorer",
        "TokenF1",
        "ToolCallData",
        "ToolCallMatch",
        "Turn",
        "choose_scorer",
        "resolve_scorer",
    ),
    "_store": ("REPLIES_FILE", "REPORT_FILE", "ReplyStore"),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "REPLIES_FILE",
    "REPORT_FILE",
    "SCORERS",
    "AutoScorer",
    "EvalExample",
    "EvalProgress",
    "EvalReport",
    "ExactMatch",
    "ExampleResult",
    "InferencePrices",
    "JsonFields",
    "JsonValid",
    "ModelReply",
    "ModelScore",
    "ModelsArg",
    "PairwiseResult",
    "ReplyStore",
    "Scorer",
    "TestSource",
    "TokenF1",
    "ToolCallData",
    "ToolCallMatch",
    "Turn",
    "aevaluate",
    "choose_scorer",
    "evaluate",
    "load_examples",
    "mean_interval",
    "resolve_scorer",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'ftkit.evaluation' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"ftkit.evaluation.{module}"), name)
    globals()[name] = value
    return value
