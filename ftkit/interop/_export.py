"""``export``: ftkit's records as Axolotl's, TRL's or Hugging Face's training data, with losses.

The records are read (every bad line reported with its number, nothing written),
converted one by one by the target's module (:mod:`._axolotl`, :mod:`._trl`) in
:class:`Rows`, each feature counted in a :class:`~ftkit.interop._loss.LossTally`, and
written with :func:`ftkit.jsonl.atomic_write`, or for ``hf`` saved with
``datasets``' ``save_to_disk`` into a temporary folder then renamed (:mod:`._arrow`): a
refusal or a bad line leaves nothing behind.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._exceptions import DatasetInvalid, RecordError, UsageError
from ..jsonl import atomic_write
from ..schema import DPORecord, SFTRecord
from ._loss import LossReport, LossTally
from ._messages import IMAGES, WEIGHTS

__all__ = ["TARGETS", "ExportResult", "InvalidRecords", "Rows", "converted", "export"]

TARGETS = ("axolotl", "trl", "hf")
_SHOWN_ERRORS = 20
_SHOWN_PLACES = 50
ASSISTANT_ONLY = "assistant-only loss"


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export` wrote.

    Attributes:
        files: the files written (the data file, then Axolotl's config section; for
            ``hf``, the dataset's folder).
        report: what each feature of the records became.
        config: Axolotl's YAML (``datasets:`` section) to paste; ``None`` for TRL.
        tokenized: whether the rows are pre-tokenized (``input_ids``/``labels``).
    """

    files: tuple[Path, ...]
    report: LossReport
    config: str | None = None
    tokenized: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON values (what ``--json`` prints)."""
        return {
            "files": [str(f) for f in self.files],
            "tokenized": self.tokenized,
            "config": self.config,
            "report": self.report.to_dict(),
        }

    def __str__(self) -> str:
        lines = [str(self.report), *(f"wrote {f}" for f in self.files)]
        return "\n".join(lines)


class InvalidRecords(DatasetInvalid):
    """The source holds lines that are not valid records; nothing was written.

    Attributes:
        errors: every bad line's :class:`~ftkit.RecordError` (line, JSON path, code).
    """

    def __init__(self, source: str, errors: list[RecordError]) -> None:
        self.errors = tuple(errors)
        shown = "\n".join(f"  {e}" for e in errors[:_SHOWN_ERRORS])
        more = len(errors) - _SHOWN_ERRORS
        tail = f"\n  ... and {more} more" if more > 0 else ""
        plural = "s" if len(errors) != 1 else ""
        super().__init__(
            f"{source}: {len(errors)} invalid record{plural}, nothing exported:\n{shown}{tail}"
        )

    def to_dict(self) -> dict[str, Any]:
        """The errors as plain JSON values."""
        return {
            "ok": False,
            "errors": [
                {"line": e.line, "path": e.path, "code": e.code, "message": e.reason}
                for e in self.errors
            ],
        }


def export(
    source: str | os.PathLike[str] | Iterable[SFTRecord | DPORecord | dict[str, Any]],
    to: str,
    out: str | os.PathLike[str],
    *,
    tokenizer: Any = None,
    chat_format: str | None = None,
    lossy: bool = False,
) -> ExportResult:
    """Write ``source``'s records in the training format of ``to``, into the folder ``out``.

    Args:
        source: a JSONL file, a :class:`~ftkit.Dataset`, or records (or their dicts).
        to: ``"axolotl"``, ``"trl"`` or ``"hf"`` (TRL's columns as a Hugging Face
            dataset saved with ``save_to_disk``; needs the ``hf`` extra).
        out: the folder to write into (created, and removed again if the export fails).
            The data file is named after the source file and the target
            (``<stem>.trl.jsonl``, ``<stem>.axolotl.jsonl``; ``sft``/``dpo`` as the stem
            for records), Axolotl's config section ``<stem>.axolotl.yaml``, the ``hf``
            dataset the folder ``<stem>`` (replaced whole if it exists). An output that
            is the source (or, for ``hf``, holds it) is refused.
        tokenizer: TRL and ``hf`` only: a ``tokenizer.json`` path (or its folder) or a
            ``tokenizers.Tokenizer``; SFT rows are then pre-tokenized, their ``labels``
            honouring every per-message weight.
        chat_format: the model's Jinja chat template to label with (its text, or a
            ``chat_template.jinja``/``tokenizer_config.json`` file), when the tokenizer's
            folder holds none (or to use another one).
        lossy: TRL or ``hf`` without a tokenizer: accept to train weight-0 turns (each is listed in
            the report) instead of refusing.

    Raises:
        InvalidRecords: lines that are not valid records (all of them, with their lines).
        UsageError: an unknown target, options that do not apply, no records, weight-0
            turns for TRL with neither a tokenizer nor ``lossy=True``, images with a
            tokenizer, an output that would replace the source, records the target
            cannot hold (an Axolotl DPO side with no text, TRL tool-call arguments that
            are not a JSON object: each listed).
    """
    if to not in TARGETS:
        raise UsageError(f"unknown export target {to!r}; expected one of {', '.join(TARGETS)}")
    records, label, stem = _records(source)
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is not a folder")
    rows = converted(records, to, label, tokenizer=tokenizer, chat_format=chat_format, lossy=lossy)
    named = folder / stem if to == "hf" else folder / f"{stem}.{to}.jsonl"
    config_path = folder / f"{stem}.axolotl.yaml"
    if isinstance(source, (str, os.PathLike)):
        _refuse_overwrite(Path(source), named, config_path, is_folder=to == "hf")
    created = [p for p in (folder, *folder.parents) if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    try:
        return _write(rows, to, named, config_path)
    except BaseException:
        for made in created:  # a failed export leaves no folder it made behind
            try:
                made.rmdir()
            except OSError:
                break
        raise


def _refuse_overwrite(source: Path, data: Path, config: Path, *, is_folder: bool) -> None:
    """Refuse outputs that are the source (a link to it, too) or, for a folder, hold it."""
    real = source.resolve()
    targets = [data] if is_folder else [data, config]
    for target in targets:
        same = target.exists() and os.path.samefile(target, source)
        inside = is_folder and real.is_relative_to(target.resolve())
        if same or target.resolve() == real or inside:
            raise UsageError(
                f"{target} would replace the source {source}; choose another out folder"
            )


def _write(rows: Rows, to: str, named: Path, config_path: Path) -> ExportResult:
    """Consume ``rows`` into the target's files (none if they raise), then the config."""
    if to == "hf":
        from ._arrow import save_rows

        data = save_rows(rows, named)
    else:
        data = named
        with atomic_write(data) as writer:
            for row in rows:
                writer.write(json.dumps(row, ensure_ascii=False) + "\n")
    report = rows.report()
    files = [data]
    config = None
    if to == "axolotl":
        from ._axolotl import yaml_section

        config = yaml_section(
            rows.kind or "sft",
            str(data),
            tools=report.entry("tools") is not None,
            images=rows.kind == "sft" and report.entry("images") is not None,
        )
        with atomic_write(config_path) as handle:
            handle.write(config)
        files.append(config_path)
    return ExportResult(tuple(files), report, config, rows.tokenized)


class Rows:
    """The converted rows of ``records``, one at a time, counted in a :class:`LossTally`.

    Iterating converts; the checks that need every record (bad lines, no records,
    weight-0 turns TRL cannot hold) raise at the end of the iteration, so a writer that
    consumes the rows inside :func:`~ftkit.jsonl.atomic_write` (or a temporary folder)
    leaves nothing behind. :meth:`report` is complete once the rows are consumed.
    """

    def __init__(
        self, records: Iterator[Any], to: str, label: str, labeller: Any, lossy: bool
    ) -> None:
        self._records = records
        self.to = to
        self.shape = "axolotl" if to == "axolotl" else "trl"
        self.label = label
        self.labeller = labeller
        self.lossy = lossy
        self.tally = LossTally(label, to)
        self.kind: str | None = None

    @property
    def tokenized(self) -> bool:
        """Whether the SFT rows are pre-tokenized (``input_ids``/``labels``)."""
        return self.labeller is not None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        tally, label = self.tally, self.label
        errors: list[RecordError] = []
        seen = _Seen()
        if self.shape == "axolotl":
            from ._axolotl import Weights

            seen.weights = Weights()
        for index, item in enumerate(self._records):
            if isinstance(item, RecordError):
                errors.append(item)
                continue
            self.kind = self.kind or item.kind
            if errors:
                continue  # nothing is written: only the bad lines matter now
            tally.records += 1
            where = f"line {item.line}" if item.line is not None else f"record {index + 1}"
            yield _convert(item, self.shape, tally, self.labeller, where, seen)
        if errors:
            raise InvalidRecords(label, errors)
        if self.kind is None:
            raise UsageError(f"{label}: no records to export")
        if seen.refused:
            shown = "\n".join(f"  {place}" for place in seen.refused[:_SHOWN_PLACES])
            more = len(seen.refused) - _SHOWN_PLACES
            raise UsageError(
                f"{label}: {len(seen.refused)} parts cannot be written for {self.to}, nothing "
                f"exported (fix or remove their records):\n{shown}"
                + (f"\n  ... and {more} more" if more > 0 else "")
            )
        lost_weights = seen.lost_weights
        if lost_weights and not self.lossy:
            raise UsageError(
                f"{label}: {len(lost_weights)} assistant turns have weight 0 (first: "
                f"{lost_weights[0]}) and TRL has no per-message weight: they would be "
                "trained. Give a tokenizer (tokenizer=, --tokenizer) to write labels that "
                "mask them, or accept to train them with lossy=True (--lossy)"
            )
        if seen.weights is not None:
            seen.weights.count(tally, images=tally.report().entry(IMAGES) is not None)
        else:
            _count_weights(tally, lost_weights, seen.ones)
        if seen.image_records:
            tally.dropped(
                ASSISTANT_ONLY,
                seen.image_records,
                "TRL: 'Assistant-only loss is not yet supported for vision-language models'; "
                "its vision collator trains every token of these records, user turns included",
            )
        _notes(tally, self.shape, self.kind, self.tokenized)

    def report(self) -> LossReport:
        """What each feature became (complete once the rows are consumed)."""
        return self.tally.report()


def converted(
    records: Iterator[Any],
    to: str,
    label: str,
    *,
    tokenizer: Any = None,
    chat_format: str | None = None,
    lossy: bool = False,
) -> Rows:
    """The rows of ``records`` (records or :class:`~ftkit.RecordError`) for target ``to``.

    Raises:
        UsageError: options that do not apply to the target.
    """
    if to == "axolotl" and (tokenizer is not None or chat_format is not None):
        raise UsageError("a tokenizer (and chat format) applies to TRL exports only (trl, hf)")
    if chat_format is not None and tokenizer is None:
        raise UsageError("chat_format is the chat template of a tokenizer: give the tokenizer too")
    labeller = None
    if tokenizer is not None:
        from ._labels import labeller as build

        labeller = build(tokenizer, chat_format)
    return Rows(records, to, label, labeller, lossy)


@dataclass
class _Seen:
    """What the checks and counts over the whole file gather, record by record.

    Attributes:
        lost_weights: where the weight-0 turns TRL would train are.
        refused: the parts the target cannot hold (where, and why).
        ones: weight-1 turns written without their weight (TRL's default).
        image_records: TRL SFT records with images (their user turns get trained).
        weights: Axolotl's weight writer (kept or dropped once images are known).
    """

    lost_weights: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    ones: int = 0
    image_records: int = 0
    weights: Any = None


def _convert(
    record: SFTRecord | DPORecord,
    to: str,
    tally: LossTally,
    labeller: Any,
    where: str,
    seen: _Seen,
) -> dict[str, Any]:
    if to == "axolotl":
        from . import _axolotl

        if isinstance(record, SFTRecord):
            return _axolotl.sft_row(record, tally, seen.weights)
        return _axolotl.dpo_row(record, tally, where, seen.refused)
    from . import _trl

    if isinstance(record, DPORecord):
        return _trl.dpo_row(record, tally, where, seen.refused)
    if labeller is not None:
        from ._labels import has_images

        if has_images(record):
            raise UsageError(
                f"{where}: holds images, which a text tokenizer cannot label; export without "
                "a tokenizer (the images go to an 'images' column)"
            )
        return _trl.tokenized_row(record, tally, labeller, where)
    weights = _trl.WeightLosses()
    row = _trl.sft_row(record, tally, weights, where, seen.refused)
    seen.lost_weights.extend(f"{where} {place}" for place in weights.places)
    seen.ones += weights.ones
    seen.image_records += "images" in row
    return row


def _count_weights(tally: LossTally, lost: list[str], ones: int) -> None:
    """TRL without a tokenizer: each weight-0 turn trained anyway is named, where it is."""
    from ._trl import WEIGHT_1

    if lost:
        shown = ", ".join(lost[:_SHOWN_PLACES])
        more = len(lost) - _SHOWN_PLACES
        tally.dropped(
            WEIGHTS,
            len(lost),
            "weight-0 turns written as ordinary assistant turns, so trained: "
            + shown
            + (f" and {more} more" if more > 0 else "")
            + "; "
            + WEIGHT_1,
        )
    tally.mapped(WEIGHTS, ones, WEIGHT_1)


def _notes(tally: LossTally, to: str, kind: str | None, tokenized: bool) -> None:
    tally.note(
        "hyperparameters (epochs, learning-rate multiplier, 'auto' values) do not carry over"
    )
    if to == "trl" and kind == "sft" and not tokenized:
        tally.note("train with assistant_only_loss=True, or TRL trains every token")
    if tokenized and kind == "sft":
        tally.note("rows are pre-tokenized (input_ids, labels); TRL uses the labels as given")
    if tokenized and kind == "dpo":
        tally.note("the tokenizer was not used: DPO pairs stay conversational (TRL tokenizes them)")


def _records(source: Any) -> tuple[Iterator[Any], str, str]:
    """``(records or RecordErrors, the source's name, the output file's stem)``."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise UsageError(f"no such file: {path}")
        from ..dataset import read_jsonl

        def lenient() -> Iterator[Any]:
            errors: list[RecordError] = []
            for record in read_jsonl(path, on_error=errors.append):
                yield from errors
                errors.clear()
                yield record
            yield from errors

        return lenient(), str(path), path.stem
    from ..dataset import Dataset

    if isinstance(source, (SFTRecord, DPORecord, dict)):
        raise UsageError("source must be a file, a Dataset or a list of records, not one record")
    dataset = source if isinstance(source, Dataset) else Dataset(source)
    return iter(dataset), "records", dataset.kind or "sft"
