"""Run a teacher model over prompts and keep its answers as SFT records, resumably.

:func:`generate` and :func:`agenerate` share everything but the driver, like
:func:`ftkit.evaluate` and :func:`ftkit.aevaluate`: the prompts are read, the
calls still to make found in the journal and estimated here once
(:func:`_prepare`); the calls run through the evaluation's one sans-IO program
(:mod:`ftkit.evaluation._program`: the window of ``concurrency``, which
failures stop the run, what is kept when it stops), performed by a thread pool
or asyncio tasks, each request under the :class:`~ftkit.RetryPolicy`. What
comes back goes to :class:`_Book`, this module's ledger: filtered, journaled,
written, charged against the cap.

``n`` samples of a prompt are ``n`` requests (each its own record, its own
journal entry): the chat backends read the first choice of a completion, and
one request per sample keeps a crash from losing a paid batch. Each sample pays
for its prompt; the estimate counts it so. The fake answers a prompt the same
way every time, so its ``n`` samples are identical; a real teacher at a
temperature above 0 varies them.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._exceptions import CostLimitExceeded, UsageError
from .._twins import parameters_of
from .._virtual_time import on_client_time
from .._words import plural
from ..backend import ChatAnswer
from ..backend._chat import ChatBackend, resolve_chat
from ..backend._program import Operation, Retried
from ..dataset import Dataset
from ..evaluation._bars import progress_callback
from ..evaluation._budget import (
    CallEstimate,
    SpendEstimate,
    Spending,
    estimate,
    prompt_tokens,
    text_tokens,
)
from ..evaluation._drivers import run_tasks, run_threads
from ..evaluation._prices import InferencePrices, InferencePricesArg
from ..evaluation._program import EvalProgress, Outcome, Program, is_fatal, program
from ..retry import RetryPolicy
from ..schema import SFTRecord
from ._filters import DEFAULT_FILTERS, FilterArg, Resolved, names, resolve_filters, verdict
from ._journal import Entry, Journal
from ._prompts import Prompt, PromptSource, load_prompts

__all__ = ["DistillResult", "agenerate", "generate"]

log = logging.getLogger("ftkit.distill")

ANSWER_GUESS = 256
"""Tokens guessed for an answer when the prompt has no reference turn and no max_tokens."""


@dataclass(frozen=True)
class DistillResult:
    """What a distillation produced: the training set, and what was dropped and why.

    Counts and tokens cover every answer behind ``out``, earlier runs included
    (``reused`` of them came from earlier runs); ``dropped["error"]`` counts this
    run's failed calls, which a re-run asks again.

    Attributes:
        dataset: the kept SFT records, as in ``out``.
        out: the training file; ``journal``: its journal (see :mod:`._journal`).
        prompts: distinct prompts; ``duplicates``: repeated prompts asked once.
        samples: answers wanted per prompt (``n``).
        kept: records in ``out``.
        dropped: answers (or failed calls) left out, by reason.
        asked: calls of this run that were answered (those that failed are
            ``dropped["error"]``); ``reused``: answers taken from the journal.
        prompt_tokens, completion_tokens: billed for every journaled answer.
        cost_usd: their cost at ``prices_as_of`` (None: the model has no price).
        estimate: this run's estimate, made before its first call.
    """

    dataset: Dataset
    out: Path
    journal: Path
    model: str
    prompts: int
    duplicates: int
    samples: int
    kept: int
    dropped: Mapping[str, int]
    asked: int
    reused: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    estimate: SpendEstimate
    prices_as_of: str | None = None

    def __str__(self) -> str:
        lines = [
            f"distilled {self.model} into {self.out}: {plural(self.kept, 'record')} kept "
            f"of {plural(self.prompts * self.samples, 'answer')} wanted "
            f"({plural(self.prompts, 'prompt')} x {self.samples})",
            f"  asked {plural(self.asked, 'call')} now, {self.reused} answers reused",
        ]
        if self.dropped:
            reasons = sorted(self.dropped.items())
            dropped = ", ".join(f"{reason} {count}" for reason, count in reasons)
            lines.append(f"  dropped: {dropped}")
        cost = "cost unknown" if self.cost_usd is None else f"${self.cost_usd:,.4f}"
        lines.append(
            f"  tokens: {self.prompt_tokens:,} prompt, {self.completion_tokens:,} completion; "
            f"{cost}" + (f" (prices as of {self.prices_as_of})" if self.prices_as_of else "")
        )
        if self.duplicates:
            lines.append(f"  {plural(self.duplicates, 'repeated prompt')} asked once")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "journal": str(self.journal),
            "model": self.model,
            "prompts": self.prompts,
            "duplicates": self.duplicates,
            "samples": self.samples,
            "kept": self.kept,
            "dropped": dict(self.dropped),
            "asked": self.asked,
            "reused": self.reused,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": self.cost_usd,
            "estimate": self.estimate.to_dict(),
            "prices_as_of": self.prices_as_of,
        }


@dataclass(frozen=True)
class _Task:
    """One sample of one prompt, and the request that asks it."""

    prompt: Prompt
    key: str
    sample: int
    request: dict[str, Any]


@dataclass
class _Book:
    """The program's ledger for a distillation: filter, journal, write, charge, report."""

    journal: Journal
    model: str
    filters: Resolved
    spending: Spending
    total: int
    reused: int
    on_progress: Callable[[EvalProgress], object] | None
    asked: int = 0
    errors: int = 0
    answered: int = 0

    def keep(self, task: _Task, answer: ChatAnswer, /) -> None:
        """Filter one answer, journal it and write its record when kept; charge it."""
        self.asked += 1
        self.answered += 1
        self.spending.charge(self.model, answer.prompt_tokens, answer.completion_tokens)
        reason = verdict(self.filters, answer, task.prompt.reference)
        record: str | None = None
        if reason is None:
            data = task.prompt.record(answer, call_prefix=f"{task.key[:12]}_{task.sample}")
            try:
                record = SFTRecord.model_validate(data).to_json()
            except ValueError as exc:  # the answer cannot be a training turn
                reason = "invalid"
                log.warning("prompt %d: not a valid record: %s", task.prompt.index, exc)
        self.journal.add(
            Entry(
                key=task.key,
                sample=task.sample,
                outcome=reason or "kept",
                prompt_tokens=answer.prompt_tokens,
                completion_tokens=answer.completion_tokens,
                record=record,
            )
        )

    def record(self, task: _Task, outcome: Outcome, /) -> None:
        """Keep an answer or count a failure, and report progress.

        Raises:
            BaseException: a failure no other call would escape (:func:`is_fatal`).
            CostLimitExceeded: what was billed reached ``max_cost_usd``.
        """
        if outcome.error is None:
            assert outcome.answer is not None
            self.keep(task, outcome.answer)
            reached = self.spending.reached()
            if reached is not None:
                self._progress()
                raise reached
        elif is_fatal(outcome.error):
            raise outcome.error
        else:
            self.errors += 1
            log.warning(
                "prompt %d (sample %d) failed: %s", task.prompt.index, task.sample, outcome.error
            )
        self._progress()

    def close(self) -> None:
        self.journal.close()

    def _progress(self) -> None:
        if self.on_progress is not None:
            self.on_progress(
                EvalProgress(
                    done=self.reused + self.answered + self.errors,
                    total=self.total,
                    reused=self.reused,
                    errors=self.errors,
                )
            )


@dataclass
class _Prepared:
    """Everything a distillation needs before its first call, shared by both drivers."""

    book: _Book
    todo: list[_Task]
    prompts: int
    duplicates: int
    samples: int
    policy: RetryPolicy
    prices: InferencePrices
    expected: SpendEstimate
    window: int
    settings: dict[str, Any] = field(default_factory=dict)

    def program(self) -> Program:
        return program(self.book, self.todo, self.window)

    def asking(self, chat: ChatBackend) -> Callable[[Mapping[str, Any]], Operation]:
        return lambda params: Retried(chat.complete(params), self.policy)

    def result(self) -> DistillResult:
        book = self.book
        journal = book.journal
        dropped: Counter[str] = Counter()
        prompt = completion = 0
        for entry in journal.entries.values():
            prompt += entry.prompt_tokens
            completion += entry.completion_tokens
            if entry.outcome != "kept":
                dropped[entry.outcome] += 1
        if book.errors:
            dropped["error"] += book.errors
        records = journal.records
        return DistillResult(
            dataset=Dataset(SFTRecord.from_json(line) for line in records),
            out=journal.out,
            journal=journal.path,
            model=book.model,
            prompts=self.prompts,
            duplicates=self.duplicates,
            samples=self.samples,
            kept=len(records),
            dropped=dict(dropped),
            asked=book.asked,
            reused=book.reused,
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost_usd=self.prices.cost(book.model, prompt, completion),
            estimate=self.expected,
            prices_as_of=self.prices.as_of,
        )


def _positive(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"{name} must be a positive integer, got {value!r}")


def _guess(model: str, prompt: Prompt, max_tokens: int | None) -> int:
    """The answer's tokens: the removed reference's, capped by max_tokens; else a default."""
    if prompt.reference is not None:
        tokens, _ = text_tokens(model, str(prompt.reference))
        return min(tokens, max_tokens) if max_tokens else tokens
    return max_tokens or ANSWER_GUESS


def _prepare(
    client: Any,
    prompts: PromptSource,
    *,
    model: str,
    out: str | os.PathLike[str],
    concurrency: int,
    temperature: float | None,
    max_cost_usd: float | None,
    n: int,
    max_tokens: int | None,
    filters: Sequence[FilterArg] | None,
    retry: int | RetryPolicy | None,
    progress: bool | Callable[[EvalProgress], object],
    prices: InferencePricesArg,
) -> _Prepared:
    """Check the arguments of :func:`generate` (:func:`agenerate`'s too) and plan the calls."""
    if not isinstance(model, str) or not model.strip():
        raise UsageError(f"model must be a non-empty model id, got {model!r}")
    _positive("concurrency", concurrency)
    _positive("n", n)
    if max_tokens is not None:
        _positive("max_tokens", max_tokens)
    if temperature is not None and (
        isinstance(temperature, bool) or not isinstance(temperature, (int, float))
    ):
        raise UsageError(f"temperature must be a number or None, got {temperature!r}")
    resolved = resolve_filters(filters)
    loaded = load_prompts(prompts)
    if not loaded:
        raise UsageError("no prompt to ask")
    distinct: dict[str, Prompt] = {}
    for prompt in loaded:
        distinct.setdefault(prompt.fingerprint, prompt)
    duplicates = len(loaded) - len(distinct)
    if duplicates:
        log.info("%s asked once", plural(duplicates, "repeated prompt"))
    params: dict[str, Any] = {}
    if temperature is not None:
        params["temperature"] = temperature
    if max_tokens is not None:
        params["max_completion_tokens"] = max_tokens
    settings = {
        "model": model,
        "temperature": temperature,
        "max_tokens": max_tokens,
        "n": n,
        "filters": names(resolved),
    }
    journal = Journal(out, settings)
    # Locked until closed: generate's finally closes it, or the except below when the
    # cost check (or anything else before the first call) refuses.
    try:
        todo: list[_Task] = []
        reused = 0
        for key, prompt in distinct.items():
            for sample in range(n):
                if journal.get(key, sample) is not None:
                    reused += 1
                else:
                    todo.append(_Task(prompt, key, sample, prompt.request(model, params)))
        if reused:
            log.info("resuming: %d of %d answers reused", reused, len(distinct) * n)
        price_table = InferencePrices.load(prices)
        spending = Spending(max_cost_usd, price_table)
        expected = estimate(
            (
                CallEstimate(model, tokens, _guess(model, task.prompt, max_tokens), exact)
                for task in todo
                for tokens, exact in [prompt_tokens(model, task.prompt.messages, task.prompt.tools)]
            ),
            price_table,
        )
        try:
            spending.check(expected, "teacher calls")  # before the first call: nothing asked
        except CostLimitExceeded as exc:  # the same refusal, with this function's remedy
            raise CostLimitExceeded(
                f"the teacher calls ({expected}) would cost more than max_cost_usd="
                f"${exc.limit_usd:,.4f}; nothing was asked. Raise the cap, or ask fewer prompts "
                "(or fewer samples, n=)",
                limit_usd=exc.limit_usd,
                estimate_usd=exc.estimate_usd,
            ) from None
        total = len(distinct) * n
        book = _Book(
            journal=journal,
            model=model,
            filters=resolved,
            spending=spending,
            total=total,
            reused=reused,
            on_progress=progress_callback(progress, total, description="distilling", unit="answer"),
        )
        book._progress()
        return _Prepared(
            book=book,
            todo=todo,
            prompts=len(distinct),
            duplicates=duplicates,
            samples=n,
            policy=on_client_time(RetryPolicy.coerce(retry), client),
            prices=price_table,
            expected=expected,
            window=concurrency,
            settings=settings,
        )

    except BaseException:
        journal.close()
        raise


def generate(
    client: Any,
    prompts: PromptSource,
    *,
    model: str,
    out: str | os.PathLike[str],
    concurrency: int = 8,
    temperature: float | None = None,
    max_cost_usd: float | None = None,
    n: int = 1,
    max_tokens: int | None = None,
    filters: Sequence[FilterArg] | None = DEFAULT_FILTERS,
    retry: int | RetryPolicy | None = None,
    progress: bool | Callable[[EvalProgress], object] = False,
    prices: InferencePricesArg = None,
) -> DistillResult:
    """Ask a teacher model every prompt and write its answers to ``out`` as SFT records.

    Each answer is filtered, journaled and appended to ``out`` as it arrives, so an
    interrupted run (a crash, Ctrl-C, the cap) loses nothing it paid for, and a
    re-run with the same ``out`` asks only what is missing: no prompt is answered
    twice, kept or dropped.

    Args:
        client: the teacher's client: ``openai.OpenAI`` / ``openai.AzureOpenAI``,
            ``together.Together``, ``fireworks.Fireworks`` (None: OpenAI from the
            environment). It is used without its own retries; ``retry`` decides.
        prompts: a JSONL path, a :class:`~ftkit.Dataset`, or records / dicts. A
            record's final assistant turn is removed, so a test split works as is.
        model: the teacher (a base model, an ``ft:`` model, a deployment).
        out: the training file to write; ``<out>.journal`` is kept beside it. A re-run
            with other ``model``, ``temperature``, ``max_tokens``, ``n`` or ``filters``
            is refused rather than mixing answers.
        concurrency: calls in flight at once.
        temperature: sent with each call (None: the teacher's default, as its traffic had).
        max_cost_usd: a hard cap on this run's calls: their estimate is checked before
            the first call (over it, nothing is asked), and no call starts once what this
            run was billed reaches it. Answers journaled by earlier runs cost nothing now
            and are not counted against it (``cost_usd`` of the result counts them).
        n: answers wanted per prompt, each its own request and record.
        max_tokens: caps each answer (``max_completion_tokens``); a cut answer is
            dropped by the ``"length"`` filter.
        filters: what keeps an answer out (:mod:`ftkit.distill._filters`): ``"refusal"``,
            ``"length"``, ``"empty"`` (the default three), ``"json"``, a
            :class:`ScoreFilter` or any scorer ``fn(reply, reference) -> float``. An
            answer that is not a valid training turn is dropped as ``"invalid"``.
        retry: the per-call :class:`~ftkit.RetryPolicy` (or max attempts).
        progress: True draws a bar; a callable receives an
            :class:`~ftkit.evaluation.EvalProgress` after each answer.
        prices: inference price overrides, ``{model: {"input": x, "output": y}}`` (USD/1M).

    Returns:
        A :class:`DistillResult`: the dataset, the counts by drop reason, tokens, cost.

    Raises:
        UsageError: bad arguments, no prompt, other settings on an existing ``out``,
            a cap with a model of unknown price.
        CostLimitExceeded: the estimate is over ``max_cost_usd`` (nothing was asked), or
            the answers billed reached it (those received are kept; run again with a
            higher cap).
        ftkit.APIError: a failure every other call would share (401, 403, 404); the
            answers received and those in flight are kept first.
        RecordError: a prompt file line that is not a JSON object.
    """
    prepared = _prepare(**locals())  # exactly the parameters above (agenerate's too)
    try:
        if prepared.todo:
            chat = resolve_chat(client, asynchronous=False, twin="ftkit.distill.agenerate")
            run_threads(prepared.program(), prepared.asking(chat), concurrency)
    finally:
        prepared.book.close()  # the files synced, the lock on out released
    return prepared.result()


@parameters_of(generate)
async def agenerate(**arguments: Any) -> DistillResult:
    """The awaitable twin of :func:`generate`, over an async client (``openai.AsyncOpenAI``...).

    The same program runs the calls as asyncio tasks, with the same window, failures,
    journal and cap; arguments, result and errors are :func:`generate`'s. Cancelling
    the task cancels the calls in flight and keeps what came back.
    """
    prepared = _prepare(**arguments)
    try:
        if prepared.todo:
            chat = resolve_chat(
                arguments["client"], asynchronous=True, twin="ftkit.distill.generate"
            )
            await run_tasks(prepared.program(), prepared.asking(chat))
    finally:
        prepared.book.close()
    return prepared.result()
