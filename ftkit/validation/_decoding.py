"""How a line's JSON is decoded: one choice, behind :func:`fast_decoder`.

The standard library's decoder (:data:`~._multiline.DECODER`) is the reference:
every finding about malformed JSON (its column, the byte-order mark, a record
spread over several lines, nesting too deep) comes from it. ``msgspec`` (the
``fast`` extra) decodes valid JSON faster, straight from the bytes (it checks
the UTF-8 itself), so where it is installed a line goes to it first, and to the
standard library path, as before, whenever it refuses the line for any reason.
Where msgspec accepts a line it gives the value the standard library would,
for everything JSON allows: duplicate keys keep the last, integers of any size,
``-0.0``. What the standard library accepts and msgspec refuses (``NaN``, which
the reference rejects too; ``1e400``; lone surrogate escapes; a BOM) takes the
fallback, so the reports are the same byte for byte whichever decodes
(``tests/validation/test_decoders.py`` compares them on every real file and the
fuzz corpus).

``FTKIT_JSON_DECODER=stdlib`` turns msgspec off (``msgspec`` requires it,
``auto``, the default, uses it when installed); spawned validation workers read
the same variable.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from .._exceptions import UsageError

__all__ = ["DECODERS", "UNDECODED", "fast_decoder", "msgspec_first"]

DECODERS = ("auto", "msgspec", "stdlib")
"""The values of ``FTKIT_JSON_DECODER``."""

UNDECODED: Any = object()
"""What a fast decoder returns for a line it leaves to the standard library."""


def fast_decoder(choice: str | None = None) -> Callable[[bytes], Any] | None:
    """The decoder tried first on each line, or None for the standard library alone.

    Args:
        choice: one of :data:`DECODERS`; None reads ``FTKIT_JSON_DECODER`` (default
            ``auto``).

    Raises:
        UsageError: an unknown choice, or ``msgspec`` when it is not installed.
    """
    choice = choice or os.environ.get("FTKIT_JSON_DECODER") or "auto"
    if choice not in DECODERS:
        raise UsageError(f"FTKIT_JSON_DECODER={choice!r}: expected one of {', '.join(DECODERS)}")
    if choice == "stdlib":
        return None
    try:
        import msgspec  # noqa: F401 - only whether it is installed
    except ImportError:
        if choice == "msgspec":
            raise UsageError(
                "FTKIT_JSON_DECODER=msgspec but msgspec is not installed: pip install 'ftkit[fast]'"
            ) from None
        return None
    return msgspec_first


def msgspec_first(data: bytes) -> Any:
    """``data`` decoded by msgspec, or :data:`UNDECODED` when it refuses it.

    A module-level function, so a pass that holds it still pickles (to and from
    the validation workers); the decoder is made once per process.
    """
    global _decode
    if _decode is None:
        import msgspec

        _decode = msgspec.json.Decoder().decode
    try:
        return _decode(data)
    except Exception:  # any refusal (nesting too deep too): the reference path decides
        return UNDECODED


_decode: Callable[[bytes], Any] | None = None
