"""One API call, described but not yet made: what every backend method returns.

The openai SDK gives its blocking and its async clients the same method paths
(``client.fine_tuning.jobs.retrieve(...)``), and so do the Together and
Fireworks SDKs, so a provider needs one adapter, not two: each method builds a
:class:`Request` holding the SDK call as a function of the client, the
translation of the answer into ftkit's type and the secrets to scrub from
errors; the caller decides how to perform it, ``request.run()`` blocking or
``await request.arun()``. Only the awaiting differs, so the two cannot drift.

A request is an operation of the shared drivers (:mod:`ftkit._steps`):
programs yield it as is, or under a retry policy
(:class:`~ftkit.backend._program.Retried`); each ``run()`` sends it again.
Errors are translated in the one place (:func:`~ftkit.backend._errors.translating`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .._exceptions import UsageError
from ._errors import translating

# Exactly what ftkit.backend exports (it star-imports this module).
__all__ = ["Request"]

T = TypeVar("T")


@dataclass(frozen=True)
class Request(Generic[T]):
    """``call(client)``, translated by ``translate``: performed by :meth:`run` or :meth:`arun`.

    Attributes:
        client: the (retry-free) SDK client the call goes through.
        call: the SDK call, as a function of the client (it returns an
            awaitable when the client is asynchronous).
        translate: the provider's answer -> ftkit's value.
        secrets: credentials to scrub from error messages.
        asynchronous: whether ``client`` is an async client (then only
            :meth:`arun` can perform the request; otherwise only :meth:`run`).
    """

    client: Any = field(repr=False)
    call: Callable[[Any], Any] = field(repr=False)
    translate: Callable[[Any], T] = field(repr=False)
    secrets: tuple[str, ...] = field(default=(), repr=False)
    asynchronous: bool = False

    def run(self) -> T:
        """Send the request once, blocking.

        Raises:
            UsageError: the client is asynchronous (await :meth:`arun` instead).
            ftkit.APIError: any failure of the call, translated.
        """
        if self.asynchronous:
            raise UsageError(
                f"this request goes through an async client ({type(self.client).__name__}): "
                "await request.arun() instead of request.run(), or use ftkit's async API "
                "(AsyncFineTune, aevaluate...)"
            )
        with translating(self.secrets):
            answer = self.call(self.client)
        return self.translate(answer)

    async def arun(self) -> T:
        """Send the request once, awaited (see :meth:`run`).

        Raises:
            UsageError: the client is a blocking one (call :meth:`run` instead).
            ftkit.APIError: any failure of the call, translated.
        """
        if not self.asynchronous:
            raise UsageError(
                f"this request goes through a blocking client ({type(self.client).__name__}): "
                "call request.run() instead of awaiting request.arun(), or pass an async "
                "client (openai.AsyncOpenAI)"
            )
        with translating(self.secrets):
            answer = await self.call(self.client)
        return self.translate(answer)
