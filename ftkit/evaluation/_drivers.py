"""The two drivers of the evaluation program: a thread pool and asyncio tasks.

Each starts the requests an :class:`~._program.Exchange` asks for (``ask``
turns one into the operation that sends it, retried: the same for both),
performs them on threads (``run``) or as tasks (``arun``), waits until at
least one is back, and sends the outcomes in; the program decides the rest
(window, failures, stopping). A Ctrl-C while the thread driver waits is
thrown into the program, which then keeps the replies of the threads still
running (they cannot be stopped, and leaving the pool waits for them anyway)
and raises it once they are back. Cancelling the asyncio driver closes the
program and cancels the requests in flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping, MutableMapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from .._steps import Operation
from ._program import Exchange, Outcome, Program

__all__ = ["run_tasks", "run_threads"]

Ask = Callable[[Mapping[str, Any]], Operation]
"""The operation that sends one request's parameters (``chat.completions.create``'s)."""


def _advance(program: Program, outcomes: Sequence[Outcome] | None) -> Exchange | None:
    """Start the program (``None``) or send ``outcomes`` in; None once the program is done."""
    try:
        return next(program) if outcomes is None else program.send(outcomes)
    except StopIteration:
        return None


def _interrupt(program: Program, interrupt: BaseException) -> Exchange | None:
    """Tell the program its driver was interrupted; it asks for nothing new after that."""
    try:
        return program.throw(interrupt)
    except StopIteration:
        return None


def _collect(
    running: MutableMapping[Any, int], done: Collection[Future[Any] | asyncio.Future[Any]]
) -> list[Outcome]:
    """The outcomes of the finished futures (thread or asyncio: the same interface)."""
    outcomes = []
    for future in done:
        key = running.pop(future)
        error = future.exception()
        outcomes.append(
            Outcome(key, error=error) if error is not None else Outcome(key, future.result())
        )
    return outcomes


def run_threads(program: Program, ask: Ask, window: int) -> None:
    """Run ``program`` on a pool of ``window`` threads, each request ``ask(params).run()``."""
    running: dict[Future[Any], int] = {}
    with ThreadPoolExecutor(max_workers=window, thread_name_prefix="ftkit-eval") as pool:
        try:
            exchange = _advance(program, None)
            while exchange is not None:
                running.update({pool.submit(ask(a.request).run): a.key for a in exchange.asks})
                try:
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                except BaseException as interrupt:  # Ctrl-C: the program keeps what runs
                    exchange = _interrupt(program, interrupt)
                    continue
                exchange = _advance(program, _collect(running, done))
        finally:
            program.close()
            for future in running:
                future.cancel()


async def run_tasks(program: Program, ask: Ask) -> None:
    """Run ``program`` with one asyncio task per request, ``ask(params).arun()``.

    The program bounds how many run at once.
    """
    running: dict[asyncio.Future[Any], int] = {}
    try:
        exchange = _advance(program, None)
        while exchange is not None:
            for a in exchange.asks:
                running[asyncio.ensure_future(ask(a.request).arun())] = a.key
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            exchange = _advance(program, _collect(running, done))
    finally:
        program.close()
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
