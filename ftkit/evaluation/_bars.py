"""The progress bar of calls made in bulk (an evaluation's, its judge's, a distillation's).

Whatever reports progress passes objects with ``done`` and ``total`` (and, for the
tqdm bar's postfix, ``reused`` and ``errors``): :class:`~._program.EvalProgress`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

from .._exceptions import UsageError

__all__ = ["progress_callback"]

P = TypeVar("P")


def progress_callback(
    progress: bool | Callable[[P], object],
    total: int,
    *,
    description: str,
    unit: str = "reply",
) -> Callable[[P], object] | None:
    """What ``progress=`` means: None (off), the caller's callable, or a bar of ``total``.

    ``True`` draws a bar with rich, else tqdm (whichever is installed; neither: an
    error naming the ``progress`` extra). The bar follows ``done`` (and, with tqdm,
    ``reused`` and ``errors``) of the progress objects it is given, and closes at
    ``total``.
    """
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
            bar = tqdm(total=total, desc=description, unit=unit)

            def tick(p: Any) -> None:
                bar.n = p.done
                bar.set_postfix(reused=p.reused, errors=p.errors, refresh=False)
                bar.refresh()
                if p.done >= p.total:
                    bar.close()

            return tick
    display = rich_progress.Progress(transient=False)
    display.start()
    bar_id = display.add_task(description, total=total)

    def advance(p: Any) -> None:
        display.update(bar_id, completed=p.done)
        if p.done >= p.total:
            display.stop()

    return advance
