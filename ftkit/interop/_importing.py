"""``import_dataset``: a foreign-format file or a Hugging Face dataset, as checked records.

One entry for both kinds of source: a JSONL file goes to :mod:`._import`, a
``datasets`` object or a ``save_to_disk`` folder to :mod:`._hf` (which reads its rows
with the same converters), so neither module needs the other's.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .._exceptions import UsageError
from ._hf import import_hf
from ._import import ImportResult, import_file

__all__ = ["import_dataset"]


def import_dataset(
    path: str | os.PathLike[str] | Any,
    *,
    format: str | None = None,
    strict: bool = False,
    split: str | None = None,
) -> ImportResult:
    """Read a ShareGPT, Alpaca, TRL preference or OpenAI-like JSONL file as ftkit records.

    Args:
        path: the JSONL file; or a Hugging Face ``datasets.Dataset``, ``DatasetDict``
            (with ``split``) or a folder written by its ``save_to_disk``, whose rows are
            read the same way (row ``n`` counted as line ``n``, from 1; never a download).
        format: ``"sharegpt"``, ``"alpaca"``, ``"trl"`` or ``"openai"``; ``None`` detects
            it from the first lines (:attr:`ImportResult.detection` says what was seen).
        strict: raise the first bad line's :class:`~ftkit.RecordError` instead of
            collecting it in :attr:`ImportResult.errors`.
        split: the split of a ``DatasetDict`` to read.

    Raises:
        UsageError: no such file, an unknown ``format``, or a format that cannot be
            told (no known shape, or lines of two formats).
        RecordError: the file is not JSONL text at all (UTF-16, binary, one JSON array
            spread over lines), or with ``strict=True`` the first bad line.
    """
    if not isinstance(path, (str, os.PathLike)) or Path(path).is_dir():
        return import_hf(path, split=split, format=format, strict=strict)
    if split is not None:
        raise UsageError("split= applies to Hugging Face datasets, not to a JSONL file")
    return import_file(path, format=format, strict=strict)
