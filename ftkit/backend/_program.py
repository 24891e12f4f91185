"""The operations of the backend's programs, on the shared drivers of :mod:`ftkit._steps`.

A *program* is a generator that decides and yields operations instead of
performing them: send this request (a backend method builds it: a
:class:`~ftkit.backend.Request` is an operation itself), retry it, do this
write exactly once, run these sub-programs side by side, read this file, call
this callback (and :class:`Sleep`). ``run`` performs each operation blocking
and ``arun`` awaits it (both re-exported here from :mod:`ftkit._steps`, so a
program's author imports one module).
Uploads, exactly-once creation, polling, event following, cancelling and the
pipeline are programs; their public sync and async functions are one-line
drivers, so the two can never decide differently.

Retrying stays :class:`~ftkit.RetryPolicy`'s: :class:`Retried` runs an
operation through ``policy.call`` / ``policy.acall``, :class:`CallOnce` through
their ``call_once`` forms.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._steps import Operation, Program, Sleep, arun, run, settled

if TYPE_CHECKING:
    from ..retry import RetryPolicy

__all__ = [
    "Call",
    "CallOnce",
    "Concurrently",
    "Local",
    "Nested",
    "Operation",
    "Program",
    "Retried",
    "Sleep",
    "arun",
    "run",
]


@dataclass(frozen=True)
class Call:
    """Call ``fn(*args, **kwargs)``: a caller's callback, or a callable it passed in.

    Awaited, an awaitable result is awaited and a plain one taken as is, so
    callbacks may be either. (A backend's requests are operations themselves.)
    """

    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def run(self) -> Any:
        return self.fn(*self.args, **self.kwargs)

    async def arun(self) -> Any:
        return await settled(self.fn(*self.args, **self.kwargs))


@dataclass(frozen=True)
class Retried:
    """Perform ``op`` under ``retry``: ``retry.call(op.run)`` / ``retry.acall(op.arun)``.

    Each attempt performs ``op`` afresh (a request is sent again, a
    :class:`Nested` program started again).
    """

    op: Operation
    retry: RetryPolicy

    def run(self) -> Any:
        return self.retry.call(self.op.run)

    async def arun(self) -> Any:
        return await self.retry.acall(self.op.arun)


@dataclass(frozen=True)
class CallOnce:
    """A write that must happen at most once (:meth:`ftkit.RetryPolicy.call_once`).

    ``create`` is the operation that writes (a request, or a :class:`Nested`
    program that also checks the answer: an error it raises counts as the
    write's); ``find`` the one that looks for the result of an earlier,
    ambiguous, attempt.
    """

    create: Operation
    find: Operation
    retry: RetryPolicy

    def run(self) -> Any:
        return self.retry.call_once(self.create.run, self.find.run)

    async def arun(self) -> Any:
        return await self.retry.acall_once(self.create.arun, self.find.arun)


@dataclass(frozen=True)
class Nested:
    """The program ``make()`` builds, as one operation: started afresh each time it is performed."""

    make: Callable[[], Program[Any]]

    def run(self) -> Any:
        return run(self.make())

    async def arun(self) -> Any:
        return await arun(self.make())


@dataclass(frozen=True)
class Local:
    """Blocking local work (hashing or reading a file): in a thread when awaited."""

    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()

    def run(self) -> Any:
        return self.fn(*self.args)

    async def arun(self) -> Any:
        return await asyncio.to_thread(self.fn, *self.args)


@dataclass(frozen=True)
class Concurrently:
    """Run the programs side by side, at most ``limit`` at once; the first failure wins.

    Blocking, each program runs on a thread of a pool; parts not started when
    one fails are dropped (running ones finish). Awaited, each is a task, and
    a failure cancels the others. Results are not collected: programs report
    through their own side effects.
    """

    programs: Sequence[Callable[[], Program[Any]]]
    limit: int

    def run(self) -> None:
        if not self.programs:
            return
        workers = min(self.limit, len(self.programs))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_run_made, make) for make in self.programs]
            try:
                wait(futures, return_when=FIRST_EXCEPTION)
            finally:  # a failure, or Ctrl-C while waiting: the parts not started are dropped
                for future in futures:
                    future.cancel()
            for future in futures:
                if not future.cancelled() and (error := future.exception()) is not None:
                    raise error

    async def arun(self) -> None:
        gate = asyncio.Semaphore(self.limit)

        async def one(make: Callable[[], Program[Any]]) -> None:
            async with gate:
                await arun(make())

        tasks = [asyncio.ensure_future(one(make)) for make in self.programs]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise


def _run_made(make: Callable[[], Program[Any]]) -> Any:
    return run(make())
