"""Ask every model every test example, with bounded concurrency, retries and resume.

One preparation and one bookkeeping object are shared by two drivers:
:func:`evaluate` runs calls on a thread pool of ``concurrency`` workers (each
call wrapped in the :class:`~ftkit.RetryPolicy`, as the pipeline does), and
:func:`aevaluate` runs them as tasks under a semaphore. Only the calling
thread writes the results log, so the store needs no lock.

Failures are sorted in one place (:func:`_is_fatal`): a 401/403/404 or a usage
error stops the whole evaluation (every call would fail the same way), after
the replies already received are logged; any other failure (a 400 for one
over-long conversation, retries exhausted) is recorded on that example and
the evaluation goes on. Failed examples are asked again on resume.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import APIError, TrainingUnavailable, UsageError
from .._virtual_time import on_client_time
from .._words import plural
from ..retry import RetryPolicy
from ._chat import AsyncChatCaller, ChatAnswer, ChatCaller
from ._examples import EvalExample, TestSource, load_examples
from ._prices import InferencePrices, InferencePricesArg
from ._report import EvalReport, ExampleResult, ModelReply, ModelScore, mean_interval, pairwise
from ._scorers import ScorerArg, fit_scorer, resolve_scorer, scorer_name
from ._store import ReplyStore, StoredReply

__all__ = ["EvalProgress", "ModelsArg", "aevaluate", "evaluate"]

log = logging.getLogger("ftkit.evaluation")

ModelsArg = str | Sequence[str] | Mapping[str, str]
"""One model id, several, or ``{label: model id}`` (labels name the models in the report)."""

_FATAL_STATUSES = frozenset({401, 403, 404})


@dataclass(frozen=True)
class EvalProgress:
    """How far an evaluation is, passed to ``progress=`` callables after each answer.

    Attributes:
        done: (example, model) pairs finished, reused ones included.
        total: pairs to finish.
        reused: pairs answered from the results directory (no API call).
        errors: pairs whose call failed.
    """

    done: int
    total: int
    reused: int
    errors: int


@dataclass
class _Task:
    example: EvalExample
    label: str
    model: str
    fingerprint: str
    request: dict[str, Any]


@dataclass
class _Book:
    """The bookkeeping both drivers share: replies, errors, the log and progress."""

    tasks: list[_Task]
    store: ReplyStore | None
    on_progress: Callable[[EvalProgress], object] | None
    answers: dict[tuple[int, str], tuple[StoredReply, bool]] = field(default_factory=dict)
    errors: dict[tuple[int, str], str] = field(default_factory=dict)
    reused: int = 0
    asked: int = 0

    def todo(self) -> list[_Task]:
        """The tasks without a stored reply; stored ones are counted as done."""
        pending: list[_Task] = []
        for task in self.tasks:
            stored = self.store.get(task.model, task.fingerprint) if self.store else None
            if stored is not None:
                self.answers[(task.example.index, task.label)] = (stored, True)
                self.reused += 1
            else:
                pending.append(task)
        if self.reused:
            log.info("resuming: %d of %d replies reused", self.reused, len(self.tasks))
        self._progress()
        return pending

    def succeeded(self, task: _Task, answer: ChatAnswer) -> None:
        stored = StoredReply(
            index=task.example.index,
            model=task.model,
            fingerprint=task.fingerprint,
            reply=answer.reply,
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
            finish_reason=answer.finish_reason,
        )
        if self.store is not None:
            self.store.add(stored)
        self.answers[(task.example.index, task.label)] = (stored, False)
        self.asked += 1
        self._progress()

    def failed(self, task: _Task, exc: BaseException) -> None:
        """Record a failure, or re-raise it when no other call can do better."""
        if _is_fatal(exc):
            raise exc
        log.warning("example %d on %s failed: %s", task.example.index, task.model, exc)
        self.errors[(task.example.index, task.label)] = f"{type(exc).__name__}: {exc}"
        self._progress()

    def _progress(self) -> None:
        if self.on_progress is not None:
            self.on_progress(
                EvalProgress(
                    done=len(self.answers) + len(self.errors),
                    total=len(self.tasks),
                    reused=self.reused,
                    errors=len(self.errors),
                )
            )


def _is_fatal(exc: BaseException) -> bool:
    if isinstance(exc, (UsageError, TrainingUnavailable)):
        return True
    if isinstance(exc, APIError):
        return exc.status_code in _FATAL_STATUSES
    return True  # not an API failure: a bug or an interrupt, never hidden in a report


def _labels(models: ModelsArg) -> dict[str, str]:
    if isinstance(models, str):
        pairs = [(models, models)]
    elif isinstance(models, Mapping):
        pairs = [(str(k), v) for k, v in models.items()]
    elif isinstance(models, Sequence):
        pairs = [(m, m) for m in models]
    else:
        raise UsageError(
            "models must be a model id, a list or a {label: model} mapping, got "
            f"{type(models).__name__}"
        )
    labels: dict[str, str] = {}
    for label, model in pairs:
        if not isinstance(model, str) or not model.strip():
            raise UsageError(f"model ids must be non-empty strings, got {model!r}")
        if label in labels:
            raise UsageError(f"model {label!r} is given twice")
        labels[label] = model
    if not labels:
        raise UsageError("give at least one model to evaluate")
    return labels


@dataclass
class _Prepared:
    labels: dict[str, str]
    scorer: Any
    examples: list[EvalExample]
    skipped: int
    book: _Book
    policy: RetryPolicy
    prices: InferencePrices


def _prepare(
    models: ModelsArg,
    test_source: TestSource,
    *,
    scorer: ScorerArg,
    concurrency: int,
    max_examples: int | None,
    retry: int | RetryPolicy | None,
    out: str | os.PathLike[str] | None,
    progress: bool | Callable[[EvalProgress], object],
    prices: InferencePricesArg,
    temperature: float | None,
    max_tokens: int | None,
) -> _Prepared:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise UsageError(f"concurrency must be a positive integer, got {concurrency!r}")
    if max_tokens is not None and (isinstance(max_tokens, bool) or max_tokens < 1):
        raise UsageError(f"max_tokens must be a positive integer, got {max_tokens!r}")
    labels = _labels(models)
    resolved = resolve_scorer(scorer)
    examples, skipped = load_examples(
        test_source, target=resolved.target, max_examples=max_examples
    )
    if not examples:
        raise UsageError(
            "no test example to evaluate"
            + (
                f" ({plural(skipped, 'record')} without a turn the scorer can score)"
                if skipped
                else ""
            )
        )
    resolved = fit_scorer(resolved, [example.reference for example in examples])
    params: dict[str, Any] = {}
    if temperature is not None:
        params["temperature"] = temperature
    if max_tokens is not None:
        params["max_completion_tokens"] = max_tokens
    tasks = [
        _Task(
            example,
            label,
            model,
            example.fingerprint(params),
            example.request(model, params),
        )
        for example in examples
        for label, model in labels.items()
    ]
    store = ReplyStore(out) if out is not None else None
    return _Prepared(
        labels=labels,
        scorer=resolved,
        examples=examples,
        skipped=skipped,
        book=_Book(tasks, store, _progress_callback(progress, len(tasks))),
        policy=RetryPolicy.coerce(retry),
        prices=InferencePrices.load(prices),
    )


def _progress_callback(
    progress: bool | Callable[[EvalProgress], object], total: int
) -> Callable[[EvalProgress], object] | None:
    if progress is False or progress is None:
        return None
    if callable(progress):
        return progress
    if progress is not True:
        raise UsageError("progress must be True, False or a callable taking EvalProgress")
    from .._optional import require

    try:
        rich_progress: Any = importlib.import_module("rich.progress")
    except ImportError:
        rich_progress = None
    if rich_progress is None:
        try:
            tqdm: Any = importlib.import_module("tqdm.auto").tqdm
        except ImportError:
            # Neither is installed: the error names the extra that brings rich.
            rich_progress = require("rich.progress", extra="progress", feature="progress=True")
        else:
            bar = tqdm(total=total, desc="evaluating", unit="reply")

            def tick(p: EvalProgress) -> None:
                bar.n = p.done
                bar.set_postfix(reused=p.reused, errors=p.errors, refresh=False)
                bar.refresh()
                if p.done >= p.total:
                    bar.close()

            return tick
    display = rich_progress.Progress(transient=False)
    display.start()
    bar_id = display.add_task("evaluating", total=total)

    def advance(p: EvalProgress) -> None:
        display.update(bar_id, completed=p.done)
        if p.done >= p.total:
            display.stop()

    return advance


def _report(prepared: _Prepared) -> EvalReport:
    book, scorer = prepared.book, prepared.scorer
    results: list[ExampleResult] = []
    per_model: dict[str, list[float]] = {label: [] for label in prepared.labels}
    tokens: dict[str, list[int]] = {label: [0, 0] for label in prepared.labels}
    errors: dict[str, int] = dict.fromkeys(prepared.labels, 0)
    for example in prepared.examples:
        replies: dict[str, ModelReply] = {}
        for label in prepared.labels:
            key = (example.index, label)
            if key in book.answers:
                stored, reused = book.answers[key]
                score = float(scorer(stored.reply, example.reference))
                if not 0.0 <= score <= 1.0:
                    raise UsageError(f"scorer returned {score}, outside [0, 1]")
                per_model[label].append(score)
                tokens[label][0] += stored.prompt_tokens
                tokens[label][1] += stored.completion_tokens
                replies[label] = ModelReply(
                    reply=stored.reply,
                    score=score,
                    prompt_tokens=stored.prompt_tokens,
                    completion_tokens=stored.completion_tokens,
                    finish_reason=stored.finish_reason,
                    reused=reused,
                )
            else:
                errors[label] += 1
                replies[label] = ModelReply(
                    reply=None, score=None, error=book.errors.get(key, "not asked")
                )
        results.append(ExampleResult(example.index, example.line, example.reference, replies))
    scores: dict[str, ModelScore] = {}
    for label, model in prepared.labels.items():
        mean, low, high = mean_interval(per_model[label])
        prompt, completion = tokens[label]
        _, note = prepared.prices.lookup(model)
        scores[label] = ModelScore(
            label=label,
            model=model,
            n=len(per_model[label]),
            mean=mean,
            ci_low=low,
            ci_high=high,
            errors=errors[label],
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost_usd=prepared.prices.cost(model, prompt, completion),
            cost_note=note,
        )
    report = EvalReport(
        models=dict(prepared.labels),
        scorer=scorer_name(scorer),
        examples=results,
        scores=scores,
        pairs=pairwise(list(prepared.labels), results),
        skipped=prepared.skipped,
        prices_as_of=prepared.prices.as_of,
        results_dir=book.store.directory if book.store else None,
        asked=book.asked,
        scorer_note=getattr(scorer, "note", None),
    )
    if book.store is not None:
        book.store.write_report(report.to_dict())
    return report


def evaluate(
    models: ModelsArg,
    test_source: TestSource,
    *,
    client: Any = None,
    scorer: ScorerArg = "auto",
    concurrency: int = 4,
    max_examples: int | None = None,
    retry: int | RetryPolicy | None = None,
    out: str | os.PathLike[str] | None = None,
    progress: bool | Callable[[EvalProgress], object] = False,
    prices: InferencePricesArg = None,
    temperature: float | None = 0.0,
    max_tokens: int | None = None,
) -> EvalReport:
    """Ask each model every test example and score the replies against the references.

    For each example the conversation up to its final assistant turn (for the
    ``tool-calls`` scorer: its last tool-calling turn) goes to every model, and
    the reply is scored against that turn.

    Args:
        models: a model id, a list of ids, or ``{label: model id}``, e.g.
            ``{"base": "gpt-4.1-mini-2025-04-14", "fine-tuned": "ft:..."}``.
        test_source: a JSONL path, a :class:`~ftkit.Dataset`, or records / dicts
            (SFT, or DPO whose preferred output is the reference).
        client: an ``openai.OpenAI`` / ``openai.AzureOpenAI`` client (None: from the
            environment). It is used with ``max_retries=0``; ``retry`` decides.
        scorer: ``"auto"`` (chosen from the references: ``tool-calls``, ``json-fields``,
            ``exact`` for short answers, ``token-f1`` for free text), ``"exact"``,
            ``"json"``, ``"json-fields"``, ``"tool-calls"``, ``"token-f1"``, a scorer
            object, or any ``fn(reply, reference) -> float`` in [0, 1].
        concurrency: calls in flight at once (a thread pool of this size).
        max_examples: evaluate only the first N usable examples.
        retry: the per-call :class:`~ftkit.RetryPolicy` (or max attempts), as in the pipeline.
            With a client of :class:`ftkit.testing.FakeFineTuningAPI` it sleeps on the
            fake's virtual clock unless the policy has a ``sleep`` of its own.
        out: a results directory: replies are logged there as they arrive, the final
            report is written there, and a later call with the same ``out`` reuses
            every reply already received instead of asking again.
        progress: True shows a progress bar (rich, else tqdm); a callable receives an
            :class:`EvalProgress` after each reply.
        prices: inference price overrides, ``{model: {"input": x, "output": y}}`` (USD per 1M).
        temperature: sent with each request (0 by default, for repeatable replies;
            None sends nothing).
        max_tokens: caps each reply (sent as ``max_completion_tokens``).

    Returns:
        An :class:`~ftkit.evaluation.EvalReport`.

    Raises:
        UsageError: bad arguments, an empty test set, no client configured.
        ftkit.APIError: a failure no other call would escape (401, 403, 404 such as an
            unknown model); replies received so far are kept in ``out``.
        RecordError: a malformed line in the test file.
    """
    prepared = _prepare(
        models,
        test_source,
        scorer=scorer,
        concurrency=concurrency,
        max_examples=max_examples,
        retry=retry,
        out=out,
        progress=progress,
        prices=prices,
        temperature=temperature,
        max_tokens=max_tokens,
    )
    book = prepared.book
    todo = book.todo()
    if todo:
        chat = ChatCaller(client)
        policy = on_client_time(prepared.policy, client)
        try:
            _run_threads(todo, chat, policy, concurrency, book)
        finally:
            if book.store is not None:
                book.store.close()
    return _report(prepared)


def _run_threads(
    todo: list[_Task], chat: ChatCaller, policy: RetryPolicy, concurrency: int, book: _Book
) -> None:
    queue: Iterator[_Task] = iter(todo)
    pending: dict[Future[ChatAnswer], _Task] = {}
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="ftkit-eval") as pool:

        def refill() -> None:
            # A bounded window: memory stays flat however large the test set is.
            while len(pending) < 2 * concurrency:
                task = next(queue, None)
                if task is None:
                    return
                pending[pool.submit(policy.call, chat.complete, task.request)] = task

        try:
            refill()
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    task = pending.pop(future)
                    error = future.exception()
                    if error is None:
                        book.succeeded(task, future.result())
                    else:
                        book.failed(task, error)
                refill()
        except BaseException:
            # Stop what has not started; keep what the running calls bring back.
            for future in pending:
                future.cancel()
            for future, task in pending.items():
                if future.cancelled():
                    continue
                try:
                    answer = future.result()
                except BaseException:
                    continue
                book.succeeded(task, answer)
            raise


async def aevaluate(
    models: ModelsArg,
    test_source: TestSource,
    *,
    client: Any = None,
    scorer: ScorerArg = "auto",
    concurrency: int = 4,
    max_examples: int | None = None,
    retry: int | RetryPolicy | None = None,
    out: str | os.PathLike[str] | None = None,
    progress: bool | Callable[[EvalProgress], object] = False,
    prices: InferencePricesArg = None,
    temperature: float | None = 0.0,
    max_tokens: int | None = None,
) -> EvalReport:
    """The awaitable twin of :func:`evaluate`, over an ``openai.AsyncOpenAI`` client.

    At most ``concurrency`` requests are in flight; each is retried with
    ``retry`` (sleeping with ``asyncio.sleep`` unless the policy has a ``sleep``, or
    on the fake's virtual clock with a :class:`ftkit.testing.FakeFineTuningAPI` client).
    Arguments, result and errors are those of :func:`evaluate`.
    """
    prepared = _prepare(
        models,
        test_source,
        scorer=scorer,
        concurrency=concurrency,
        max_examples=max_examples,
        retry=retry,
        out=out,
        progress=progress,
        prices=prices,
        temperature=temperature,
        max_tokens=max_tokens,
    )
    book = prepared.book
    todo = book.todo()
    if todo:
        chat = AsyncChatCaller(client)
        policy = on_client_time(prepared.policy, client)
        try:
            await _run_tasks(todo, chat, policy, concurrency, book)
        finally:
            if book.store is not None:
                book.store.close()
    return _report(prepared)


async def _run_tasks(
    todo: list[_Task],
    chat: AsyncChatCaller,
    policy: RetryPolicy,
    concurrency: int,
    book: _Book,
) -> None:
    queue: Iterator[_Task] = iter(todo)
    pending: dict[asyncio.Task[ChatAnswer], _Task] = {}

    def refill() -> None:
        while len(pending) < concurrency:
            task = next(queue, None)
            if task is None:
                return
            pending[asyncio.ensure_future(policy.acall(chat.complete, task.request))] = task

    try:
        refill()
        while pending:
            done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for future in done:
                task = pending.pop(future)
                error = future.exception()
                if error is None:
                    book.succeeded(task, future.result())
                else:
                    book.failed(task, error)
            refill()
    finally:
        for future in pending:
            future.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
