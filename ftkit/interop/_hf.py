"""Records to and from Hugging Face ``datasets``, on this machine only.

Out: the rows :mod:`._export` writes for TRL (``messages``/``tools``/``images``,
``prompt``/``chosen``/``rejected``, or pre-tokenized ``input_ids``/``labels``), with
the same loss accounting and refusals, become a ``datasets.Dataset``; or the records
as they are, in OpenAI's own layout (nothing lost). ``save_rows`` saves one with
``save_to_disk`` into a temporary folder beside the target, then renames it, so a
failure leaves no half-written dataset.

In: a ``datasets.Dataset``, a ``DatasetDict`` and a split, or a folder saved with
``save_to_disk``. Each row goes through :func:`~ftkit.interop._import.import_objects`,
the converters ``import_dataset`` uses for files, row ``n`` (from 1) standing for line
``n``. Arrow gives every row of a column the union of the keys seen in that column,
absent ones as ``None``; those ``None`` values are dropped before converting, so a
row reads as it was written. A hub name is never downloaded: ``load_dataset`` it
yourself and pass the object.

``datasets`` is the ``hf`` extra, imported only here and only when called.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from .._exceptions import RecordError, UsageError
from ._arrow import build, datasets_module
from ._detect import PROBE_LINES, classify
from ._export import InvalidRecords
from ._loss import LossReport, LossTally

if TYPE_CHECKING:
    from ._import import ImportResult

__all__ = ["HF_TARGETS", "InvalidRows", "from_hf", "import_hf", "to_hf"]

#: The row layouts :func:`to_hf` builds.
HF_TARGETS = ("trl", "openai")


@overload
def to_hf(
    records: Iterable[Any],
    *,
    target: str = ...,
    tokenizer: Any = ...,
    chat_format: str | None = ...,
    lossy: bool = ...,
    report: Literal[False] = ...,
) -> Any: ...


@overload
def to_hf(
    records: Iterable[Any],
    *,
    target: str = ...,
    tokenizer: Any = ...,
    chat_format: str | None = ...,
    lossy: bool = ...,
    report: Literal[True],
) -> tuple[Any, LossReport]: ...


def to_hf(
    records: Iterable[Any],
    *,
    target: str = "trl",
    tokenizer: Any = None,
    chat_format: str | None = None,
    lossy: bool = False,
    report: bool = False,
) -> Any:
    """``records`` (an ``ftkit.Dataset`` or records) as a Hugging Face ``datasets.Dataset``.

    Args:
        records: the records.
        target: ``"trl"``: the columns TRL reads (``messages``/``tools``/``images``,
            ``prompt``/``chosen``/``rejected``), as ``ftkit export --to trl`` writes them;
            ``"openai"``: each record's own JSON (nothing lost, weights kept).
        tokenizer: TRL: a ``tokenizer.json`` (or its folder) or ``tokenizers.Tokenizer``;
            SFT rows become ``input_ids`` and ``labels`` that honour every weight.
        chat_format: the model's Jinja chat template (its text, or a
            ``chat_template.jinja`` / ``tokenizer_config.json`` file) when the tokenizer's
            folder has none: labels are rendered with it.
        lossy: TRL without a tokenizer: train weight-0 turns (listed in the report)
            instead of refusing.
        report: also return the :class:`~ftkit.interop.LossReport`, as
            ``(dataset, report)``: what each feature became.

    Raises:
        UsageError: weight-0 turns for TRL with neither ``tokenizer`` nor ``lossy=True``,
            no records, or ``datasets`` is not installed (``pip install 'ftkit[hf]'``).
    """
    dataset, loss = _converted_to_hf(
        records, target=target, tokenizer=tokenizer, chat_format=chat_format, lossy=lossy
    )
    return (dataset, loss) if report else dataset


def _converted_to_hf(
    records: Iterable[Any],
    *,
    target: str,
    tokenizer: Any,
    chat_format: str | None,
    lossy: bool,
) -> tuple[Any, LossReport]:
    """``(datasets.Dataset, LossReport)`` of ``records`` in ``target``'s row layout."""
    feature = "ftkit.interop.to_hf()"
    if target not in HF_TARGETS:
        raise UsageError(f"target={target!r} is not one of {', '.join(HF_TARGETS)}")
    items = list(records)
    if target == "openai":
        if tokenizer is not None or chat_format is not None or lossy:
            raise UsageError("tokenizer, chat_format and lossy apply to target='trl' only")
        if not items:
            raise UsageError("records: no records to convert")
        tally = LossTally("records", "hf (openai)")
        tally.records = len(items)
        tally.note("OpenAI's own layout: every field kept (absent fields read back as None)")
        return build((r.to_dict() for r in items), feature), tally.report()
    from ._export import converted

    rows = converted(
        iter(items), "hf", "records", tokenizer=tokenizer, chat_format=chat_format, lossy=lossy
    )
    dataset = build(rows, feature)
    return dataset, rows.report()


def _source(source: Any, split: str | None) -> tuple[Any, str]:
    """``(rows, a name for them)`` from a dataset, a ``DatasetDict`` or a saved folder."""
    feature = "ftkit.interop.from_hf()"
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_file():
            raise UsageError(
                f"{path} is a file: read JSONL with Dataset.load or import_dataset; from_hf "
                "reads a folder saved with save_to_disk"
            )
        if not path.is_dir():
            raise UsageError(
                f"{str(source)!r} is not a folder saved with save_to_disk, and ftkit never "
                "downloads: load it yourself (datasets.load_dataset(...)) and pass the dataset"
            )
        datasets = datasets_module(feature)
        try:
            loaded = datasets.load_from_disk(str(path))
        except FileNotFoundError as exc:
            raise UsageError(f"{path} is not a folder saved with save_to_disk: {exc}") from None
        return _source(loaded, split) if split else _pick(loaded, None, str(path))
    return _pick(source, split, None)


def _pick(source: Any, split: str | None, name: str | None) -> tuple[Any, str]:
    datasets = datasets_module("ftkit.interop.from_hf()")
    if isinstance(source, (datasets.DatasetDict, datasets.IterableDatasetDict)):
        splits = list(source)
        if split is None and len(splits) == 1:
            split = splits[0]
        if split is None or split not in source:
            said = "no split given" if split is None else f"no split {split!r}"
            raise UsageError(
                f"{said}: the DatasetDict has {', '.join(map(repr, splits))}; pass split=..."
            )
        return source[split], f"{name or 'Hugging Face dataset'} [{split}]"
    if isinstance(source, (datasets.Dataset, datasets.IterableDataset)):
        if split is not None and name is None:
            raise UsageError("split= picks a split of a DatasetDict; this is one Dataset")
        return source, name or "Hugging Face dataset"
    raise UsageError(
        f"expected a datasets.Dataset, a DatasetDict or a folder saved with save_to_disk, "
        f"not a {type(source).__name__}"
    )


def _plain(value: Any, where: str) -> Any:
    """``value`` as JSON values, ``None`` entries of objects dropped (Arrow's fill)."""
    if isinstance(value, dict):
        return {
            str(k): _plain(v, f"{where}.{k}" if where else str(k))
            for k, v in value.items()
            if v is not None
        }
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise RecordError(
        f"a {type(value).__name__} is not a JSON value (an image or array column?); "
        "cast or remove the column first",
        path=where,
        code="not_json",
    )


def _rows(rows: Iterable[Any]) -> Iterator[tuple[int, Any]]:
    """Numbered rows as JSON values, or the error that makes one not JSON."""
    for number, row in enumerate(rows, start=1):
        try:
            yield number, _plain(row, "")
        except RecordError as exc:
            yield number, exc


def _detect(rows: Any, name: str) -> tuple[str, str]:
    votes: dict[str, tuple[int, str]] = {}
    first_unknown: tuple[int, list[str]] | None = None
    for number, row in enumerate(rows, start=1):
        if number > PROBE_LINES:
            break
        if not isinstance(row, dict):
            continue
        found = classify({k: v for k, v in row.items() if v is not None})
        if found is None:
            first_unknown = first_unknown or (number, sorted(map(str, row))[:6])
        else:
            votes.setdefault(found[0], (number, found[1]))
    if len(votes) > 1:
        said = "; ".join(f"row {line} looks like {what}" for line, what in votes.values())
        raise UsageError(f"cannot tell the format of {name}: {said}; give format=...")
    if not votes:
        what = (
            f"row {first_unknown[0]} has columns {', '.join(map(repr, first_unknown[1]))}"
            if first_unknown
            else "it has no rows"
        )
        raise UsageError(
            f"cannot tell the format of {name}: {what}, which is no conversation, Alpaca or "
            "preference shape (pre-tokenized input_ids/labels cannot be read back as text)"
        )
    ((format, (_, what)),) = votes.items()
    return format, what


def import_hf(
    source: Any, *, split: str | None = None, format: str | None = None, strict: bool = False
) -> ImportResult:
    """:func:`~ftkit.interop.import_dataset` for a Hugging Face dataset: an ``ImportResult``."""
    from ._import import import_objects

    rows, name = _source(source, split)
    if format is None:
        format, detection = _detect(rows, name)
    else:
        detection = "given, not detected"
    return import_objects(_rows(rows), name, format, detection, strict=strict)


class InvalidRows(InvalidRecords):
    """Rows of a Hugging Face dataset that are not valid records; no Dataset was made."""

    def __init__(self, source: str, errors: list[RecordError]) -> None:
        super().__init__(source, errors)
        self.args = (
            str(self.args[0]).replace(
                "nothing exported", "nothing imported (line n is row n, from 1)"
            ),
        )


def from_hf(source: Any, *, split: str | None = None, format: str | None = None) -> Any:
    """Records from a Hugging Face dataset, as an ``ftkit.Dataset``. Never downloads.

    ``source`` is a ``datasets.Dataset``, a ``DatasetDict`` (with ``split``) or a folder
    written by ``save_to_disk``. Rows are converted as :func:`~ftkit.interop.import_dataset`
    converts lines (ShareGPT, Alpaca, TRL preference or OpenAI rows, detected unless
    ``format`` is given); call that on the dataset for the loss report and lenient errors.

    Raises:
        InvalidRows: rows that are not valid records, every one with its number (row
            ``n`` is line ``n``, from 1); no dataset is returned.
        UsageError: a hub name or a missing folder (``load_dataset`` it yourself and pass
            the object), a ``DatasetDict`` without ``split``, a format that cannot be told,
            or ``datasets`` is not installed.
    """
    result = import_hf(source, split=split, format=format)
    if result.errors:
        raise InvalidRows(result.source, list(result.errors))
    return result.dataset
