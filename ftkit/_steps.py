"""The two drivers every sans-IO program shares: one blocking, one awaited.

A *program* is a generator that yields operations instead of performing them
and is sent each outcome back (a result, or the error thrown in). An
operation knows how to perform itself both ways (``run`` / ``arun``), so
:func:`run` and :func:`arun` are the same loop, differing only in ``await``,
and a program cannot decide differently under the two.

It sits at the root, below every layer, because the retry policy's attempt
program (:mod:`ftkit.retry`) and the backend's programs both run on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

__all__ = ["Operation", "Program", "Sleep", "arun", "run", "settled"]

T = TypeVar("T")


class Operation(Protocol):
    """Something a program asks for, performed blocking or awaited."""

    def run(self) -> Any: ...

    async def arun(self) -> Any: ...


Program = Generator[Operation, Any, T]
"""A program that ends with a ``T`` (the generator's return value)."""


async def settled(value: Any) -> Any:
    """``value``, awaited if it is awaitable (callbacks may be either)."""
    return await value if inspect.isawaitable(value) else value


@dataclass(frozen=True)
class Sleep:
    """Wait ``seconds`` with ``sleep`` (``time.sleep`` / ``asyncio.sleep`` when ``None``).

    ``sleep`` may return an awaitable, which the awaited form awaits.
    """

    seconds: float
    sleep: Callable[[float], object] | None = None

    def run(self) -> None:
        (self.sleep or time.sleep)(self.seconds)

    async def arun(self) -> None:
        if self.sleep is None:
            await asyncio.sleep(self.seconds)
        else:
            await settled(self.sleep(self.seconds))


class _Steps:
    """Hands each operation's outcome back into a program; what both drivers share."""

    def __init__(self, program: Program[Any]) -> None:
        self._program = program
        self._value: Any = None
        self._error: BaseException | None = None
        self.result: Any = None

    def next_op(self) -> Operation | None:
        """The next operation, or ``None`` once the program returned (see :attr:`result`)."""
        value, error, self._value, self._error = self._value, self._error, None, None
        try:
            return self._program.throw(error) if error is not None else self._program.send(value)
        except StopIteration as stop:
            self.result = stop.value
            return None

    @contextlib.contextmanager
    def performing(self) -> Iterator[None]:
        """Around one operation: what it raises goes into the program, not up the stack.

        Ctrl-C and cancellation too: the program sees them where it waited (a run
        logs how to resume there); what it does not catch comes out of the driver.
        """
        try:
            yield
        except BaseException as exc:
            self._error = exc

    def send(self, value: Any) -> None:
        self._value = value


def run(program: Program[T]) -> T:
    """Perform ``program``'s operations one after the other, blocking; return its result.

    An operation's exception is thrown into the program, which may handle it.
    If the driver itself is interrupted (Ctrl-C), the program is closed, so
    its ``finally`` and ``with`` blocks run.
    """
    steps = _Steps(program)
    with contextlib.closing(program):
        while (op := steps.next_op()) is not None:
            with steps.performing():
                steps.send(op.run())
    return steps.result  # type: ignore[no-any-return]


async def arun(program: Program[T]) -> T:
    """The awaitable driver: each operation awaited (see :func:`run`)."""
    steps = _Steps(program)
    with contextlib.closing(program):
        while (op := steps.next_op()) is not None:
            with steps.performing():
                steps.send(await op.arun())
    return steps.result  # type: ignore[no-any-return]
