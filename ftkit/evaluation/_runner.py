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

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .._exceptions import UsageError
from .._twins import parameters_of
from .._virtual_time import on_client_time
from .._words import plural
from ..backend._chat import ChatBackend, resolve_chat
from ..backend._clients import provider_of
from ..backend._program import Operation, Retried
from ..retry import RetryPolicy
from ._bars import progress_callback
from ._budget import CallEstimate, SpendEstimate, Spending, estimate, prompt_tokens, text_tokens
from ._choosing import ScorerArg, fit_scorer, resolve_scorer, scorer_name
from ._drivers import run_tasks, run_threads
from ._examples import EvalExample, TestSource, load_examples
from ._judges import DEFAULT_JUDGE_MODEL, Judge, PairwiseJudge, is_judge
from ._judging import Judged, judge_estimates, judging
from ._prices import InferencePrices, InferencePricesArg
from ._program import Book, EvalProgress, Program, Task, program
from ._report import (
    EvalReport,
    ExampleResult,
    ModelReply,
    ModelScore,
    mean_interval,
    pairwise,
    pairwise_verdicts,
)
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


# The guess at a reply's length, for the estimate before any call: twice its
# reference's tokens (at least this many), or max_tokens when that is smaller.
_MIN_REPLY_GUESS = 16


@dataclass(frozen=True)
class _Phase:
    """One program to run, and whose client runs it (the models' or the judge's)."""

    program: Program
    judge: bool


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
    client: Any
    spending: Spending
    progress: bool | Callable[[EvalProgress], object]
    reply_guess: dict[int, int]
    estimates: dict[str, SpendEstimate] = field(default_factory=dict)
    judged: Judged | None = None

    @property
    def judge(self) -> Judge | None:
        return self.scorer if is_judge(self.scorer) else None

    def phases(self) -> Iterator[_Phase]:
        """The programs to run, in order: the models' replies, then the judge's rounds.

        Each is built when the one before it has run (the judge's questions are made
        of the replies), so iterate and run each before asking for the next.
        """
        if self.todo:
            yield _Phase(program(self.book, self.todo, self.window), judge=False)
        judge = self.judge
        if judge is None:
            return
        assert judge.model is not None
        # The replies are known now: the judge's calls are estimated as they will be sent.
        calls = self._judge_calls(judge, answered=True)
        self.estimates["judge"] = estimate(calls, self.prices)
        self.spending.check(self.estimates["judge"], "judge calls")
        steps = judging(
            judge,
            judge.model,
            self.examples,
            list(self.labels),
            self.book.answers,
            self._judge_book,
            self.window,
        )
        while True:
            try:
                step = next(steps)
            except StopIteration as done:
                self.judged = done.value
                return
            yield _Phase(step, judge=True)

    def _judge_calls(self, judge: Judge, *, answered: bool = False) -> list[CallEstimate]:
        assert judge.model is not None
        return judge_estimates(
            judge,
            judge.model,
            self.examples,
            list(self.labels),
            self.book.answers,
            self.book.store,
            self.reply_guess,
            answered=answered,
        )

    def _judge_book(self, tasks: list[Task], first_round: bool) -> Book:
        shown = (
            progress_callback(self.progress, len(tasks), description="judging", unit="verdict")
            if first_round
            else None
        )
        return Book(tasks, self.book.store, shown, self.spending, phase="judge")

    def backends(self, *, asynchronous: bool, twin: str) -> Callable[[_Phase], ChatBackend]:
        """The chat backend each phase's requests go through, for either driver.

        A judge's own client is resolved now, before any request: one of the wrong
        kind (an async client for :func:`evaluate`) is refused before the models are
        asked and paid for, not after. The evaluation's client is resolved when a
        phase first needs it (re-scoring stored replies needs none).
        """
        judge = self.judge
        own = judge.client if judge is not None else None
        judge_chat = (
            resolve_chat(own, asynchronous=asynchronous, twin=twin) if own is not None else None
        )
        models_chat: list[ChatBackend] = []

        def backend(phase: _Phase) -> ChatBackend:
            if phase.judge and judge_chat is not None:
                return judge_chat
            if not models_chat:
                models_chat.append(resolve_chat(self.client, asynchronous=asynchronous, twin=twin))
            return models_chat[0]

        return backend

    def asking(self, chat: ChatBackend) -> Callable[[Mapping[str, Any]], Operation]:
        """What asking one request is, for either driver: ``chat``'s request, retried."""
        return lambda params: Retried(chat.complete(params), self.policy)


def _with_judge_model(scorer: Any, judge: str | None, client: Any) -> Any:
    """The scorer with its judge model settled: ``judge=``, its own, or the default."""
    if not is_judge(scorer):
        if judge is not None:
            raise UsageError(
                "judge= names the judge model of scorer='pairwise' or 'rubric'; "
                f"the scorer here is {scorer_name(scorer)!r}"
            )
        return scorer
    if judge is not None:
        if not isinstance(judge, str) or not judge.strip():
            raise UsageError(f"judge must be a model id, got {judge!r}")
        if scorer.model is not None and scorer.model != judge:
            raise UsageError(
                f"the judge's model is given twice: judge={judge!r} and {scorer.model!r}"
            )
        return replace(scorer, model=judge.strip())
    if scorer.model is not None:
        return scorer
    judge_client = scorer.client if scorer.client is not None else client
    provider = provider_of(judge_client)
    if provider == "azure":
        # Azure's chat requests name a deployment, never a model snapshot.
        raise UsageError(
            "name the judge's deployment for an Azure OpenAI client: judge='DEPLOYMENT' "
            "(ftkit has no default judge there)"
        )
    if provider != "openai":
        raise UsageError(
            f"name the judge model for a {provider} client: judge='MODEL' "
            "(ftkit has no default judge there)"
        )
    return replace(scorer, model=DEFAULT_JUDGE_MODEL)


def _reply_guess(example: EvalExample, model: str, max_tokens: int | None) -> int:
    tokens, _ = text_tokens(model, str(example.reference))
    guess = max(_MIN_REPLY_GUESS, 2 * tokens)
    return min(guess, max_tokens) if max_tokens is not None else guess


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
    judge: str | None,
    max_cost_usd: float | None,
) -> _Prepared:
    """Check the arguments of :func:`evaluate` (they are :func:`aevaluate`'s too) and plan.

    With a judge or a cap, the calls still to make are estimated here, before the
    first (:mod:`._budget`), and a cap under the estimate stops the evaluation now.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise UsageError(f"concurrency must be a positive integer, got {concurrency!r}")
    if max_tokens is not None and (isinstance(max_tokens, bool) or max_tokens < 1):
        raise UsageError(f"max_tokens must be a positive integer, got {max_tokens!r}")
    labels = _labels(models)
    resolved = _with_judge_model(resolve_scorer(scorer), judge, client)
    if isinstance(resolved, PairwiseJudge):
        resolved.label_pairs(list(labels))  # checked now, before any call
        if len(labels) < 2:
            raise UsageError(
                "a pairwise judge compares models: it needs at least two models "
                "(or use scorer='rubric' to grade one)"
            )
    spending = Spending(max_cost_usd, InferencePrices.load(prices))
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
    book = Book(
        tasks, store, progress_callback(progress, len(tasks), description="evaluating"), spending
    )
    todo = book.todo()
    prepared = _Prepared(
        labels=labels,
        scorer=resolved,
        examples=examples,
        skipped=skipped,
        book=book,
        todo=todo,
        policy=on_client_time(RetryPolicy.coerce(retry), client),
        prices=spending.prices,
        window=concurrency,
        client=client,
        spending=spending,
        progress=progress,
        reply_guess={},
    )
    if is_judge(resolved) or max_cost_usd is not None:
        _estimate_before_calls(prepared, max_tokens)
    return prepared


def _estimate_before_calls(prepared: _Prepared, max_tokens: int | None) -> None:
    """Estimate every call still to make and refuse to start over the cap."""
    guess_model = next(iter(prepared.labels.values()))
    prepared.reply_guess = {
        e.index: _reply_guess(e, guess_model, max_tokens) for e in prepared.examples
    }
    replies = []
    for task in prepared.todo:
        request = task.request
        tokens, exact = prompt_tokens(task.model, request["messages"], request.get("tools"))
        replies.append(
            CallEstimate(task.model, tokens, prepared.reply_guess[task.example.index], exact)
        )
    prepared.estimates["replies"] = estimate(replies, prepared.prices)
    judge = prepared.judge
    judged = prepared._judge_calls(judge) if judge is not None else []
    if judge is not None:
        prepared.estimates["judge"] = estimate(judged, prepared.prices)
    what = "models' replies and the judge's calls" if judge is not None else "models' replies"
    prepared.spending.check(estimate([*replies, *judged], prepared.prices), what)


def _report(prepared: _Prepared) -> EvalReport:
    book, scorer, judged = prepared.book, prepared.scorer, prepared.judged
    rubric = judged is not None and judged.judge.kind == "rubric"
    pairwise_judge = judged is not None and judged.judge.kind == "pairwise"
    results: list[ExampleResult] = []
    per_model: dict[str, list[float]] = {label: [] for label in prepared.labels}
    grades: dict[str, dict[str, list[int]]] = {label: {} for label in prepared.labels}
    tokens: dict[str, list[int]] = {label: [0, 0] for label in prepared.labels}
    errors: dict[str, int] = dict.fromkeys(prepared.labels, 0)
    judge_errors: dict[str, int] = dict.fromkeys(prepared.labels, 0)
    for example in prepared.examples:
        replies: dict[str, ModelReply] = {}
        for label in prepared.labels:
            key = (example.index, label)
            if key not in book.answers:
                errors[label] += 1
                replies[label] = ModelReply(
                    reply=None, score=None, error=book.errors.get(key, "not asked")
                )
                continue
            stored, reused = book.answers[key]
            extra: dict[str, Any] = {}
            score: float | None = None
            if rubric:
                assert judged is not None
                grade = judged.grades.get(key)
                if grade is not None and grade.grades is not None:
                    score = scorer.score(grade.grades)
                    for name, value in grade.grades.items():
                        grades[label].setdefault(name, []).append(value)
                    extra = {"grades": dict(grade.grades), "judge_reason": grade.reason}
                else:
                    judge_errors[label] += 1
                    extra = {"judge_error": grade.error if grade else "not judged"}
            elif not pairwise_judge:
                score = float(scorer(stored.reply, example.reference))
                if not 0.0 <= score <= 1.0:
                    raise UsageError(f"scorer returned {score}, outside [0, 1]")
            if score is not None:
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
                **extra,
            )
        verdicts = tuple(judged.verdicts.get(example.index, ())) if judged else ()
        results.append(
            ExampleResult(example.index, example.line, example.reference, replies, verdicts)
        )
    scores: dict[str, ModelScore] = {}
    for label, model in prepared.labels.items():
        mean, low, high = mean_interval(per_model[label])
        prompt, completion = tokens[label]
        _, note = prepared.prices.lookup(model)
        criteria = None
        if rubric:
            assert judged is not None
            criteria = {
                name: (sum(grades[label][name]) / len(grades[label][name]))
                if grades[label].get(name)
                else None
                for name in judged.judge.criterion_names  # type: ignore[union-attr]
            }
        scores[label] = ModelScore(
            label=label,
            model=model,
            n=len(per_model[label])
            if not pairwise_judge
            else len(prepared.examples) - errors[label],
            mean=mean,
            ci_low=low,
            ci_high=high,
            errors=errors[label],
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost_usd=prepared.prices.cost(model, prompt, completion),
            cost_note=note,
            criteria=criteria,
            judge_errors=judge_errors[label],
        )
    summary = None
    if judged is not None and judged.summary is not None:
        _, note = prepared.prices.lookup(judged.model)
        summary = replace(
            judged.summary,
            cost_usd=prepared.prices.cost(
                judged.model, judged.summary.prompt_tokens, judged.summary.completion_tokens
            ),
            cost_note=note,
        )
    report = EvalReport(
        models=dict(prepared.labels),
        scorer=scorer_name(scorer),
        examples=results,
        scores=scores,
        pairs=(
            pairwise_verdicts(judged.model, results)
            if pairwise_judge and judged is not None
            else pairwise(list(prepared.labels), results)
        ),
        skipped=prepared.skipped,
        prices_as_of=prepared.prices.as_of,
        results_dir=book.store.directory if book.store else None,
        asked=book.asked,
        scorer_note=getattr(scorer, "note", None),
        judge=summary,
        estimates=dict(prepared.estimates),
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
    judge: str | None = None,
    max_cost_usd: float | None = None,
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
            ``"json"``, ``"json-fields"``, ``"tool-calls"``, ``"token-f1"``,
            ``"similarity"``, a scorer object, or any ``fn(reply, reference) -> float``
            in [0, 1]; or a model judge for style, tone and open answers:
            ``"pairwise"`` / :class:`~ftkit.evaluation.PairwiseJudge` (win rates, both
            orders asked) or ``"rubric"`` / :class:`~ftkit.evaluation.RubricJudge`
            (grades per criterion).
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
        judge: the judge model of ``scorer="pairwise"`` or ``"rubric"`` (default with an
            OpenAI client: :data:`~ftkit.evaluation.DEFAULT_JUDGE_MODEL`; an Azure
            client's, another provider's: none, name it; on Azure, the deployment).
        max_cost_usd: a cap on the cost of every call still to make (replies and
            judge), estimated before the first call; the billed usage stops new calls
            once it reaches the cap. Every model called then needs a price.

    Returns:
        An :class:`~ftkit.evaluation.EvalReport`.

    Raises:
        UsageError: bad arguments, an empty test set, no client configured.
        ftkit.APIError: a failure no other call would escape (401, 403, 404 such as an
            unknown model). No new request starts; the replies already received and
            those of the requests in flight are kept in ``out``, then it is raised. An
            exception from ``progress`` stops the evaluation the same way.
        RecordError: a malformed line in the test file.
        CostLimitExceeded: the estimate is over ``max_cost_usd`` (nothing was asked), or
            the billed usage reached it (the replies received are kept in ``out``).
    """
    prepared = _prepare(**locals())  # exactly the parameters above (aevaluate's too)
    backend = prepared.backends(asynchronous=False, twin="ftkit.aevaluate")
    for phase in prepared.phases():
        run_threads(phase.program, prepared.asking(backend(phase)), concurrency)
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
    backend = prepared.backends(asynchronous=True, twin="ftkit.evaluate")
    for phase in prepared.phases():
        await run_tasks(phase.program, prepared.asking(backend(phase)))
    return _report(prepared)
