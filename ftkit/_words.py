"""Counted words for messages and reports: "1 warning", "2 warnings", "1 loss", "2 losses"."""

from __future__ import annotations

__all__ = ["plural"]

_INVARIANT = frozenset({"info"})
"""Words written the same for one and many ("3 info", as the report's severity)."""


def plural(n: int, word: str, many: str | None = None) -> str:
    """``n`` (with thousands separators) and ``word``, or its plural when ``n`` is not 1.

    Args:
        n: the count.
        word: the singular.
        many: the plural when it is not ``word + "s"`` (``"losses"``).
    """
    if n == 1 or word in _INVARIANT:
        return f"{n:,} {word}"
    return f"{n:,} {many or word + 's'}"
