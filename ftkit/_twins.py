"""An awaitable twin's parameter list, taken from its sync function: written once.

A public async twin whose body only drives the same program as its sync
function (``aupload_file`` beside ``upload_file``, ``aevaluate`` beside
``evaluate``) takes the sync function's parameters with
:func:`parameters_of`: ``help()``, ``inspect.signature`` and mypy all see the
sync function's names, kinds, defaults and types, so the two cannot drift.
The twin receives its arguments bound by name, defaults filled in, exactly as
the sync function's ``locals()`` are on entry.

It sits at the root, below every layer, like the drivers of :mod:`ftkit._steps`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

__all__ = ["parameters_of"]

P = ParamSpec("P")
R = TypeVar("R")


def parameters_of(
    sync: Callable[P, object],
) -> Callable[[Callable[..., Coroutine[Any, Any, R]]], Callable[P, Coroutine[Any, Any, R]]]:
    """Give a coroutine function ``sync``'s parameter list.

    The decorated function is called with every parameter of ``sync`` as a
    keyword argument (``async def atwin(**arguments: Any) -> R``); arguments
    that do not fit ``sync``'s signature raise ``TypeError`` as a call of
    ``sync`` would. Its own return annotation is kept.
    """

    def decorate(
        fn: Callable[..., Coroutine[Any, Any, R]],
    ) -> Callable[P, Coroutine[Any, Any, R]]:
        own = inspect.signature(fn).return_annotation
        signature = inspect.signature(sync).replace(return_annotation=own)

        @functools.wraps(fn)
        async def twin(*args: Any, **kwargs: Any) -> R:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            return await fn(**bound.arguments)

        twin.__signature__ = signature  # type: ignore[attr-defined]
        return twin

    return decorate
