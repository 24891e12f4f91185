"""Read records from JSONL files, and hold, split, deduplicate and write datasets.

:func:`read_jsonl` streams: it never holds more than one line. A
:class:`Dataset` is the in-memory counterpart for files you want to split or
clean before training.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, overload

from ._exceptions import RecordError, UsageError
from ._public import publish
from .jsonl import atomic_write, iter_lines, sniff, utf8_error
from .schema import DPORecord, RecordKind, SFTRecord, parse_record

if TYPE_CHECKING:
    pass

__all__ = ["Dataset", "DatasetSplit", "read_jsonl"]

AnyRecord = SFTRecord | DPORecord
ErrorHandler = Callable[[RecordError], None]


def read_jsonl(
    path: str | os.PathLike[str],
    *,
    kind: RecordKind | None = None,
    on_error: ErrorHandler | None = None,
) -> Iterator[AnyRecord]:
    """Stream the records of a JSONL file, each knowing its line (``record.line``).

    Blank lines are skipped (line numbers still count them). The first record
    fixes the file's kind unless ``kind`` is given: a file mixing SFT and DPO
    records is an error, as the fine-tuning API takes one method per file.

    Args:
        path: the JSONL file.
        kind: ``"sft"`` or ``"dpo"`` to require one kind; ``None`` to detect it.
        on_error: ``None`` raises the first :class:`RecordError`; a callable
            receives every error (lenient mode) and the bad line is skipped.

    Raises:
        RecordError: a malformed line (strict mode), naming line and JSON path. A
            file that is not JSONL text at all (``utf16_file``, ``binary_file``,
            ``multiline_json``) is one error before any record, raised or (lenient
            mode) handed to ``on_error`` once.
        UsageError: the file does not exist or is a directory.
    """
    source = Path(path)
    if not source.is_file():
        raise UsageError(f"no such file: {source}")
    unreadable = sniff(source)
    if unreadable is not None:
        # One error for the whole file, located where it starts (no line can be read).
        error = RecordError(
            unreadable.message, line=unreadable.line or 1, code=unreadable.code, source=str(source)
        )
        if on_error is None:
            raise error
        on_error(error)
        return
    expected = kind
    for raw in iter_lines(source):
        try:
            problem = utf8_error(raw.data)
            if problem is not None:
                raise RecordError(problem, line=raw.number, code="invalid_utf8")
            record = parse_record(raw.data, kind=expected, line_no=raw.number)
        except RecordError as exc:
            exc.source = str(source)
            exc.args = (exc._render(),)
            if on_error is None:
                raise
            on_error(exc)
            continue
        if expected is None:
            expected = record.kind
        yield record


class DatasetSplit(NamedTuple):
    """The two parts of a split: ``.train`` and ``.test``, also unpackable as ``train, test``."""

    train: Dataset
    """The records to train on."""
    test: Dataset
    """The held-out records."""


class Dataset(Sequence[AnyRecord]):
    """An in-memory list of records of one kind (all SFT or all DPO).

    Immutable in spirit: :meth:`split` and :meth:`deduplicate` return new
    datasets and leave this one as it is.
    """

    __slots__ = ("_kind", "_records")

    def __init__(self, records: Iterable[AnyRecord | dict[str, Any]] = ()) -> None:
        items: list[AnyRecord] = []
        kind: RecordKind | None = None
        for index, item in enumerate(records):
            record = _coerce(item, index)
            if kind is None:
                kind = record.kind
            elif record.kind != kind:
                raise UsageError(
                    f"item {index} is a {record.kind.upper()} record but the dataset is "
                    f"{kind.upper()}; keep SFT and DPO examples in separate datasets"
                )
            items.append(record)
        self._records: tuple[AnyRecord, ...] = tuple(items)
        self._kind = kind

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, kind: RecordKind | None = None) -> Dataset:
        """Read a whole JSONL file (strict: the first bad line raises :class:`RecordError`)."""
        return cls(read_jsonl(path, kind=kind))

    @property
    def kind(self) -> RecordKind | None:
        """``"sft"``, ``"dpo"``, or ``None`` for an empty dataset."""
        return self._kind

    def __len__(self) -> int:
        return len(self._records)

    @overload
    def __getitem__(self, index: int) -> AnyRecord: ...

    @overload
    def __getitem__(self, index: slice) -> Dataset: ...

    def __getitem__(self, index: int | slice) -> AnyRecord | Dataset:
        if isinstance(index, slice):
            return Dataset(self._records[index])
        return self._records[index]

    def __iter__(self) -> Iterator[AnyRecord]:
        return iter(self._records)

    def __repr__(self) -> str:
        return f"Dataset(kind={self._kind!r}, records={len(self._records)})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dataset):
            return NotImplemented
        return self._records == other._records

    __hash__ = None  # type: ignore[assignment]

    def split(
        self, test_size: float | int = 0.1, *, seed: int = 0, shuffle: bool = True
    ) -> DatasetSplit:
        """Split into ``(train, test)`` deterministically.

        The result is a :class:`DatasetSplit`: unpack it (``train, test = ...``)
        or name its parts (``parts.train``, ``parts.test``).

        Args:
            test_size: a fraction in (0, 1) of the records, or a count.
            seed: the shuffle seed; the same seed and data give the same split
                on every machine and Python version.
            shuffle: ``False`` keeps file order (the test set is the tail).

        Raises:
            UsageError: a size that leaves either side empty.
        """
        n = len(self._records)
        if isinstance(test_size, bool) or not isinstance(test_size, (int, float)):
            raise UsageError("test_size must be a fraction in (0, 1) or a whole number of records")
        if isinstance(test_size, float):
            if not 0.0 < test_size < 1.0:
                raise UsageError(f"test_size={test_size} must be in (0, 1) as a fraction")
            n_test = max(1, round(n * test_size))
        else:
            n_test = test_size
        if not 0 < n_test < n:
            raise UsageError(
                f"cannot split {n} records into a test set of {n_test}: both sides need records"
            )
        order = list(range(n))
        if shuffle:
            random.Random(seed).shuffle(order)
        test_idx = sorted(order[n - n_test :]) if shuffle else order[n - n_test :]
        test_set = set(test_idx)
        train = [self._records[i] for i in range(n) if i not in test_set]
        test = [self._records[i] for i in test_idx]
        return DatasetSplit(Dataset(train), Dataset(test))

    def train_test_split(
        self, test_size: float | int = 0.1, *, seed: int = 0, shuffle: bool = True
    ) -> DatasetSplit:
        """:meth:`split` under the name Hugging Face ``datasets`` users reach for.

        Returns ``DatasetSplit(train, test)`` with ``.train`` and ``.test``; the
        arguments and the (deterministic) result are :meth:`split`'s.
        """
        return self.split(test_size, seed=seed, shuffle=shuffle)

    def duplicates(self) -> list[tuple[int, int]]:
        """Exact duplicates as ``(index, index_of_first_occurrence)`` pairs."""
        seen: dict[bytes, int] = {}
        pairs: list[tuple[int, int]] = []
        for index, record in enumerate(self._records):
            digest = fingerprint(record)
            first = seen.setdefault(digest, index)
            if first != index:
                pairs.append((index, first))
        return pairs

    def deduplicate(self) -> Dataset:
        """A copy without exact duplicates; the first occurrence of each record is kept."""
        dupes = {index for index, _ in self.duplicates()}
        return Dataset(r for i, r in enumerate(self._records) if i not in dupes)

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the records as JSONL, atomically (a failure leaves no partial file)."""
        target = Path(path)
        with atomic_write(target) as handle:
            for record in self._records:
                handle.write(record.to_json())
                handle.write("\n")
        return target


def fingerprint(record: AnyRecord) -> bytes:
    """A digest of a record's content, equal for records that mean the same JSON."""
    return hashlib.blake2b(record.to_json().encode("utf-8"), digest_size=16).digest()


def _coerce(item: AnyRecord | dict[str, Any], index: int) -> AnyRecord:
    if isinstance(item, (SFTRecord, DPORecord)):
        return item
    if isinstance(item, dict):
        import json

        try:
            return parse_record(json.dumps(item))
        except RecordError as exc:
            raise RecordError(
                exc.reason, path=exc.path, code=exc.code, source=f"item {index}"
            ) from None
    raise UsageError(f"item {index} is a {type(item).__name__}, not a record or a dict")


publish(__name__, globals(), __all__)
