"""Training sets from a teacher model: its stored traffic, or answers generated now.

Distillation trains a small (or another provider's) model on a strong model's
answers. Two ways to get them:

- :func:`from_stored` (and its twin :func:`afrom_stored`) reads completions the
  teacher served with ``store=True`` (OpenAI, Azure OpenAI) back into an SFT
  :class:`~ftkit.Dataset`;
- :func:`generate` (and its twin :func:`agenerate`) asks the teacher every prompt
  now, with bounded concurrency, retries, a cost estimate before the first call
  and a hard cap, writing each kept answer to ``out`` as it arrives; a re-run
  asks only what is missing::

    result = ftkit.distill.generate(
        client, "prompts.jsonl", model="ft:gpt-4.1-mini-2025-04-14:org::abc",
        out="distilled.jsonl", max_cost_usd=5,
    )
    print(result)          # kept, dropped by reason, tokens, cost

:func:`migrate` carries a fine-tune to another provider: the teacher answers
the prompts, a student trains on them there, and the student and its base are
scored against the teacher's answers on held-out prompts (:class:`MigrationReport`).

Both drop refusals, answers cut by the length limit and empty answers by
default; any scorer can filter too (:class:`ScoreFilter`). Importing this
package does not import ``openai``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._public import lazy_exports, names_of

if TYPE_CHECKING:
    from ._filters import DEFAULT_FILTERS as DEFAULT_FILTERS
    from ._filters import ScoreFilter as ScoreFilter
    from ._generate import DistillResult as DistillResult
    from ._generate import agenerate as agenerate
    from ._generate import generate as generate
    from ._journal import JOURNAL_SUFFIX as JOURNAL_SUFFIX
    from ._migrate import MIGRATION_FILE as MIGRATION_FILE
    from ._migrate import MigrationReport as MigrationReport
    from ._migrate import migrate as migrate
    from ._stored import afrom_stored as afrom_stored
    from ._stored import from_stored as from_stored

# Names load on first use, like ftkit.evaluation's: the command line registers its
# parser without loading records, pydantic or the chat clients.
_HOMES = {
    "ftkit.distill._filters": names_of("DEFAULT_FILTERS ScoreFilter"),
    "ftkit.distill._generate": names_of("DistillResult agenerate generate"),
    "ftkit.distill._journal": names_of("JOURNAL_SUFFIX"),
    "ftkit.distill._migrate": names_of("MIGRATION_FILE MigrationReport migrate"),
    "ftkit.distill._stored": names_of("afrom_stored from_stored"),
}

if not TYPE_CHECKING:  # type checkers read the imports above, so a typo is an error
    __all__, __getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())
