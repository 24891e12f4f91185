"""Ask every model every test example, with bounded concurrency, retries and resume.

:func:`evaluate` and :func:`aevaluate` share everything but the driver: the
arguments are checked and the tasks prepared here once (:func:`_prepare`), the
requests are run by the one sans-IO program of :mod:`._program` (its docstring
has the rules: the window, which failures stop the evaluation, what is kept
when it stops), performed by a thread pool or by asyncio tasks
(:mod:`._drivers`), each request under the :class:`~ftkit.RetryPolicy` as in
the pipeline, and the report is built here once (:func:`_report`).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._exceptions import UsageError
from .._twins import parameters_of
from .._virtual_time import on_client_time
from .._words import plural
from ..backend._chat import ChatBackend, resolve_chat
from ..backend._program import Operation, Retried
from ..retry import RetryPolicy
from ._choosing import ScorerArg, fit_scorer, resolve_scorer, scorer_name
from ._drivers import run_tasks, run_threads
from ._examples import EvalExample, TestSource, load_examples
from ._prices import InferencePrices, InferencePricesArg
from ._program import Book, EvalProgress, Program, Task, program
from ._report import EvalReport, ExampleResult, ModelReply, ModelScore, mean_interval, pairwise
from ._store import ReplyStore

__all__ = ["EvalProgress", "ModelsArg", "aevaluate", "evaluate"]

ModelsArg = str | Sequence[str] | Mapping[str, str]
"""One model id, several, or ``{label: model id}`` (labels name the models in the report)."""


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
    """Everything an evaluation needs before its first request, shared by both drivers."""

    labels: dict[str, str]
    scorer: Any
    examples: list[EvalExample]
    skipped: int
    book: Book
    todo: list[Task]
    policy: RetryPolicy
    prices: InferencePrices
    window: int

    def program(self) -> Program:
        """The requests still to ask, as one program (see :mod:`._program`)."""
        return program(self.book, self.todo, self.window)

    def asking(self, chat: ChatBackend) -> Callable[[Mapping[str, Any]], Operation]:
        """What asking one request is, for either driver: ``chat``'s request, retried."""
        return lambda params: Retried(chat.complete(params), self.policy)


def _prepare(
    models: ModelsArg,
    test_source: TestSource,
    *,
    client: Any,
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
    """Check the arguments of :func:`evaluate` (they are :func:`aevaluate`'s too) and plan."""
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
        Task(
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
    book = Book(tasks, store, _progress_callback(progress, len(tasks)))
    return _Prepared(
        labels=labels,
        scorer=resolved,
        examples=examples,
        skipped=skipped,
        book=book,
        todo=book.todo(),
        policy=on_client_time(RetryPolicy.coerce(retry), client),
        prices=InferencePrices.load(prices),
        window=concurrency,
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
        concurrency: requests in flight at once, the window of both drivers (here a
            thread pool of this size); one starts only when one has finished.
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
            unknown model). No new request starts; the replies already received and
            those of the requests in flight are kept in ``out``, then it is raised. An
            exception from ``progress`` stops the evaluation the same way.
        RecordError: a malformed line in the test file.
    """
    prepared = _prepare(**locals())  # exactly the parameters above (aevaluate's too)
    if prepared.todo:
        chat = resolve_chat(client, asynchronous=False, twin="ftkit.aevaluate")
        run_threads(prepared.program(), prepared.asking(chat), concurrency)
    return _report(prepared)


@parameters_of(evaluate)
async def aevaluate(**arguments: Any) -> EvalReport:
    """The awaitable twin of :func:`evaluate`, over an ``openai.AsyncOpenAI`` client.

    The same program runs the requests, as asyncio tasks: the same window of
    ``concurrency``, the same failures, the same replies kept when it stops. Each is
    retried with ``retry`` (sleeping with ``asyncio.sleep`` unless the policy has a
    ``sleep``, or on the fake's virtual clock with a
    :class:`ftkit.testing.FakeFineTuningAPI` client). Arguments (the very parameter
    list of :func:`evaluate`), result and errors are those of :func:`evaluate`;
    cancelling the task cancels the requests in flight.
    """
    prepared = _prepare(**arguments)
    if prepared.todo:
        chat = resolve_chat(arguments["client"], asynchronous=True, twin="ftkit.evaluate")
        await run_tasks(prepared.program(), prepared.asking(chat))
    return _report(prepared)
