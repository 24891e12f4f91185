"""The evaluation's requests as one sans-IO program, run by a thread or an asyncio driver.

:func:`program` decides everything: which request starts when, how many are in
flight, what a failure means, what is logged, when the evaluation stops. It
yields an :class:`Exchange` (requests to start) and is sent back the
:class:`Outcome` of the requests that finished; :mod:`._drivers` only performs
the requests (threads or tasks). So :func:`~ftkit.evaluate` and
:func:`~ftkit.aevaluate` behave the same by construction.

Rules, written once:

- **Window:** at most ``window`` (the ``concurrency`` argument) requests are
  started and not yet handed back; one starts only when one has finished.
  Nothing waits in a queue, so memory stays flat for any test-set size, and
  when the evaluation stops nothing queued is left to cancel.
- **Failures** are sorted by :func:`is_fatal`: a 401/403/404 or a usage error
  stops the evaluation (every other call would fail the same way); any other
  failure (a 400 for one over-long conversation, retries exhausted) is recorded
  on its example, which is asked again on resume, and the evaluation goes on.
- **Stopping** (a fatal failure, the spending cap reached, or ``progress=`` /
  the results log raising, e.g. ``KeyboardInterrupt`` from a callback): no new
  request starts, the
  requests already in flight are waited for and *their replies are kept* in the
  results log, then the error is raised. Those calls are sent and paid for;
  dropping their replies would only make a resume ask them again, while the
  wait is bounded by ``window`` calls.
- **Interrupting the driver** (Ctrl-C while :func:`~ftkit.evaluate` waits) is a
  stop too: a running thread cannot be stopped, so its reply is waited for and
  kept, then the interrupt is raised.
  Cancelling the :func:`~ftkit.aevaluate` task cancels its requests in flight
  at once and keeps what was handed back.

The results log is written here, by whichever thread runs the program (the
caller's), so the store needs no lock.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from .._exceptions import APIError, TrainingUnavailable, UsageError
from ..backend import ChatAnswer
from ._budget import Spending
from ._examples import EvalExample
from ._scorers import ToolCallData, Turn
from ._store import ReplyStore, StoredReply

__all__ = [
    "Ask",
    "Book",
    "EvalProgress",
    "Exchange",
    "Ledger",
    "Outcome",
    "Task",
    "is_fatal",
    "program",
]

log = logging.getLogger("ftkit.evaluation")

_FATAL_STATUSES = frozenset({401, 403, 404})


@dataclass(frozen=True)
class EvalProgress:
    """How far an evaluation is, passed to ``progress=`` callables after each answer.

    Attributes:
        done: (example, model) pairs finished, reused ones included.
        total: pairs to finish.
        reused: pairs answered from the results directory (no API call).
        errors: pairs whose call failed.
        phase: ``"replies"`` (the models answering) or ``"judge"`` (a judge's verdicts;
            ``done`` and ``total`` then count judge calls).
    """

    done: int
    total: int
    reused: int
    errors: int
    phase: str = "replies"


@dataclass(frozen=True)
class Task:
    """One (example, model) pair and the request that asks it."""

    example: EvalExample
    label: str
    model: str
    fingerprint: str
    request: dict[str, Any]


@dataclass(frozen=True)
class Ask:
    """Start ``request`` (under the retry policy); its outcome comes back by ``key``."""

    key: int
    request: dict[str, Any]


@dataclass(frozen=True)
class Exchange:
    """Operation: start ``asks``, then send back the outcomes of the requests that finished.

    At least one request is in flight whenever the program yields.
    """

    asks: tuple[Ask, ...]


@dataclass(frozen=True)
class Outcome:
    """What one request brought back: its answer, or the error it ended with."""

    key: int
    answer: ChatAnswer | None = None
    error: BaseException | None = None


Program = Generator[Exchange, Sequence[Outcome], None]


def is_fatal(exc: BaseException) -> bool:
    """Whether no other request can succeed where this one failed."""
    if isinstance(exc, (UsageError, TrainingUnavailable)):
        return True
    if isinstance(exc, APIError):
        return exc.status_code in _FATAL_STATUSES
    return True  # not an API failure: a bug or an interrupt, never hidden in a report


def _turn(answer: ChatAnswer) -> Turn:
    return Turn(answer.content, tuple(ToolCallData(n, a) for n, a in answer.tool_calls))


@dataclass
class Book:
    """What the evaluation has so far: replies, errors, the results log and progress."""

    tasks: list[Task]
    store: ReplyStore | None
    on_progress: Callable[[EvalProgress], object] | None
    spending: Spending | None = None
    """Charged with every answer's usage; reaching its cap stops the program."""
    phase: str = "replies"
    answers: dict[tuple[int, str], tuple[StoredReply, bool]] = field(default_factory=dict)
    errors: dict[tuple[int, str], str] = field(default_factory=dict)
    reused: int = 0
    asked: int = 0

    def todo(self) -> list[Task]:
        """The tasks without a stored reply; stored ones are counted as done."""
        pending: list[Task] = []
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

    def keep(self, task: Task, answer: ChatAnswer) -> None:
        """Log a reply and count it (no progress report)."""
        stored = StoredReply(
            index=task.example.index,
            model=task.model,
            fingerprint=task.fingerprint,
            reply=_turn(answer),
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
            finish_reason=answer.finish_reason,
        )
        if self.store is not None:
            self.store.add(stored)
        self.answers[(task.example.index, task.label)] = (stored, False)
        self.asked += 1
        if self.spending is not None:
            self.spending.charge(task.model, answer.prompt_tokens, answer.completion_tokens)

    def record(self, task: Task, outcome: Outcome) -> None:
        """Keep a reply or note a failure, and report progress.

        Raises:
            BaseException: the failure, when no other request can do better (:func:`is_fatal`).
            CostLimitExceeded: what was billed reached the spending cap.
        """
        if outcome.error is None:
            assert outcome.answer is not None
            self.keep(task, outcome.answer)
            reached = self.spending.reached() if self.spending is not None else None
            if reached is not None:
                self._progress()
                raise reached
        elif is_fatal(outcome.error):
            raise outcome.error
        else:
            log.warning(
                "example %d on %s failed: %s", task.example.index, task.model, outcome.error
            )
            self.errors[(task.example.index, task.label)] = (
                f"{type(outcome.error).__name__}: {outcome.error}"
            )
        self._progress()

    def close(self) -> None:
        if self.store is not None:
            self.store.close()

    def _progress(self) -> None:
        if self.on_progress is not None:
            self.on_progress(
                EvalProgress(
                    done=len(self.answers) + len(self.errors),
                    total=len(self.tasks),
                    reused=self.reused,
                    errors=len(self.errors),
                    phase=self.phase,
                )
            )


class Asked(Protocol):
    """What the program needs of a task: the request that asks it."""

    @property
    def request(self) -> dict[str, Any]: ...


T = TypeVar("T", bound=Asked)
T_contra = TypeVar("T_contra", bound=Asked, contravariant=True)


class Ledger(Protocol[T_contra]):
    """Where the program puts what comes back: :class:`Book` for the evaluation's replies.

    Any caller with its own record of answers (the judge's verdicts, a distillation's
    output file) runs the same program by implementing these three.
    """

    def record(self, task: T_contra, outcome: Outcome, /) -> None:
        """Keep an answer or note a failure; raising stops the program (module docstring)."""
        ...

    def keep(self, task: T_contra, answer: ChatAnswer, /) -> None:
        """Keep an answer that came back after the program decided to stop."""
        ...

    def close(self) -> None:
        """Called once, however the program ends."""
        ...


def program(book: Ledger[T], todo: Sequence[T], window: int) -> Program:
    """Ask every task of ``todo``, at most ``window`` at a time (the rules: module docstring).

    Raises:
        BaseException: what stopped the evaluation, once the requests in flight are back.
    """
    queue: Iterator[int] = iter(range(len(todo)))

    def take(n: int) -> tuple[Ask, ...]:
        return tuple(Ask(key, todo[key].request) for key in itertools.islice(queue, n))

    in_flight = 0
    stop: BaseException | None = None
    asks = take(window)
    try:
        while asks or in_flight:
            in_flight += len(asks)
            try:
                outcomes = yield Exchange(asks)
            except GeneratorExit:
                # The driver is closing the program (an asyncio task cancelled, a driver
                # dying): it cancels what is in flight itself, so nothing is waited for.
                raise
            except BaseException as exc:  # the driver was interrupted while it waited
                stop = stop or exc
                log.warning(
                    "evaluation interrupted (%s): no new request; waiting for the %d in flight",
                    type(exc).__name__,
                    in_flight,
                )
                asks = ()
                continue
            in_flight -= len(outcomes)
            for outcome in sorted(outcomes, key=lambda o: o.key):  # a fixed order per batch
                task = todo[outcome.key]
                if stop is not None:
                    if outcome.answer is not None:
                        book.keep(task, outcome.answer)
                    continue
                try:
                    book.record(task, outcome)
                except BaseException as exc:  # what stops the evaluation, interrupts included
                    stop = exc
                    if in_flight:
                        log.warning(
                            "evaluation stopping (%s: %s): no new request; waiting for the %d "
                            "in flight",
                            type(exc).__name__,
                            exc,
                            in_flight,
                        )
            asks = () if stop is not None else take(len(outcomes))
    finally:
        book.close()
    if stop is not None:
        raise stop
