"""Rows to a Hugging Face ``datasets.Dataset``, and one saved atomically.

The lowest piece of the ``hf`` interop: :mod:`._export` saves its ``hf`` target with
:func:`save_rows`, and :mod:`._hf` builds its datasets with :func:`build`; neither
needs the other's conversions here. ``datasets`` (the ``hf`` extra) is imported only
when called.
"""

from __future__ import annotations

import inspect
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .._exceptions import UsageError
from .._optional import require

__all__ = ["build", "datasets_module", "save_rows"]


def datasets_module(feature: str) -> Any:
    """The ``datasets`` package, or :class:`~ftkit.MissingExtra` naming the ``hf`` extra."""
    return require("datasets", extra="hf", feature=feature)


def build(rows: Iterable[dict[str, Any]], feature: str) -> Any:
    """A ``datasets.Dataset`` of ``rows`` (consumed whole first: their checks raise first).

    Raises:
        UsageError: a column whose values Arrow cannot hold in one type.
    """
    datasets = datasets_module(feature)
    items = list(rows)
    options: dict[str, Any] = {}
    if "on_mixed_types" in inspect.signature(datasets.Dataset.from_list).parameters:
        # A column of strings here and lists there (text, then content parts) is
        # stored as JSON rather than refused (datasets >= 5).
        options["on_mixed_types"] = "use_json"
    try:
        return datasets.Dataset.from_list(items, **options)
    except (TypeError, ValueError) as exc:  # pyarrow's ArrowInvalid / ArrowTypeError
        raise UsageError(
            f"{feature}: Arrow cannot hold these rows in one table ({exc}); a newer "
            "datasets stores mixed columns as JSON"
        ) from None


#: What ``save_to_disk`` writes into a dataset's folder: a folder without them is not one.
_SAVED = ("dataset_info.json", "state.json")


def save_rows(rows: Iterable[dict[str, Any]], folder: Path) -> Path:
    """Save ``rows`` as a dataset in ``folder``, via a temporary folder.

    An earlier dataset there (a folder ``save_to_disk`` wrote) is replaced whole; any other
    folder of that name is refused, never deleted: it may hold anything.
    """
    if folder.exists() and not (
        folder.is_dir() and all((folder / name).is_file() for name in _SAVED)
    ):
        raise UsageError(
            f"{folder} exists and is not a saved dataset: the export would replace it; "
            "give another --out, or move it"
        )
    dataset = build(rows, "export(to='hf')")
    parent = folder.parent
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=parent))
    try:
        dataset.save_to_disk(str(staging / "data"))
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old.", dir=parent))
            os.replace(folder, old / "data")
            os.replace(staging / "data", folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging / "data", folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder
