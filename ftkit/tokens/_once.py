"""Build a value once per process and name, even when threads ask for it together.

Tokenizers take a tenth to half a second to build and load native code; two
threads counting at once must share one instead of building two.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

__all__ = ["once"]

T = TypeVar("T")

_lock = threading.RLock()
"""One lock for every cache; re-entrant, as building a tokenizer may build an encoding."""


def once(cache: dict[str, T], name: str, build: Callable[[str], T]) -> T:
    """``cache[name]``, built with ``build(name)`` and stored the first time it is asked for."""
    value = cache.get(name)
    if value is not None:
        return value
    with _lock:
        value = cache.get(name)
        if value is None:
            value = cache[name] = build(name)
    return value
