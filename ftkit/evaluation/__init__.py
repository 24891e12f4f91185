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

from typing import TYPE_CHECKING

from .._public import lazy_exports, names_of

if TYPE_CHECKING:
    from ._budget import SpendEstimate as SpendEstimate
    from ._choosing import SCORERS as SCORERS
    from ._choosing import AutoScorer as AutoScorer
    from ._choosing import choose_scorer as choose_scorer
    from ._judges import DEFAULT_JUDGE_MODEL as DEFAULT_JUDGE_MODEL
    from ._judges import PairwiseJudge as PairwiseJudge
    from ._judges import RubricJudge as RubricJudge
    from ._judging import GradeResult as GradeResult
    from ._judging import JudgeSummary as JudgeSummary
    from ._judging import PairVerdict as PairVerdict
    from ._prices import InferencePrices as InferencePrices
    from ._program import EvalProgress as EvalProgress
    from ._report import EvalReport as EvalReport
    from ._report import ExampleResult as ExampleResult
    from ._report import ModelReply as ModelReply
    from ._report import ModelScore as ModelScore
    from ._report import PairwiseResult as PairwiseResult
    from ._runner import aevaluate as aevaluate
    from ._runner import evaluate as evaluate
    from ._scorers import EditSimilarity as EditSimilarity
    from ._scorers import ExactMatch as ExactMatch
    from ._scorers import JsonFields as JsonFields
    from ._scorers import JsonValid as JsonValid
    from ._scorers import Scorer as Scorer
    from ._scorers import TokenF1 as TokenF1
    from ._scorers import ToolCallData as ToolCallData
    from ._scorers import ToolCallMatch as ToolCallMatch
    from ._scorers import Turn as Turn
    from ._store import REPLIES_FILE as REPLIES_FILE
    from ._store import REPORT_FILE as REPORT_FILE

# Names load on first use: the command line builds its parser from the scorer names
# alone, and the rest (records, pydantic, asyncio) would cost every command ~0.3 s.
_HOMES = {
    "ftkit.evaluation._budget": names_of("SpendEstimate"),
    "ftkit.evaluation._judges": names_of("DEFAULT_JUDGE_MODEL PairwiseJudge RubricJudge"),
    "ftkit.evaluation._judging": names_of("GradeResult JudgeSummary PairVerdict"),
    "ftkit.evaluation._prices": names_of("InferencePrices"),
    "ftkit.evaluation._program": names_of("EvalProgress"),
    "ftkit.evaluation._report": names_of(
        "EvalReport ExampleResult ModelReply ModelScore PairwiseResult"
    ),
    "ftkit.evaluation._runner": names_of("aevaluate evaluate"),
    "ftkit.evaluation._choosing": names_of("SCORERS AutoScorer choose_scorer"),
    "ftkit.evaluation._scorers": names_of(
        "EditSimilarity ExactMatch JsonFields JsonValid Scorer TokenF1 ToolCallData "
        "ToolCallMatch Turn"
    ),
    "ftkit.evaluation._store": names_of("REPLIES_FILE REPORT_FILE"),
}

if not TYPE_CHECKING:  # type checkers read the imports above, so a typo is an error
    __all__, __getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())
