"""Argument types shared by the subcommands, so every flag reads and fails the same way."""

from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = ["epochs", "number", "whole_number"]


def whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse type for an integer of at least ``minimum``."""

    def parse(value: str) -> int:
        try:
            parsed = int(value)
        except ValueError:
            parsed = minimum - 1
        if parsed < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, got {value!r}")
        return parsed

    return parse


def number(value: str) -> float:
    """A float; ranges are checked by the API objects that take it, with their own message."""
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None


def epochs(value: str) -> int | str:
    """``auto`` or a whole number (the range 1-50 is checked where epochs are used)."""
    if value == "auto":
        return value
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected 'auto' or a whole number from 1 to 50, got {value!r}"
        ) from None
