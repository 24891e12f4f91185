"""What a conversion kept, mapped and dropped: never a silent loss.

Every export and import returns a :class:`LossReport`: for each feature of the
records (per-message weights, tools, tool calls, images, ``parallel_tool_calls``,
message names, sample weights...), how many occurrences the target format holds as
they were (``kept``), holds in another shape (``mapped``: weights as token labels,
ShareGPT's ``from`` as a role...), or cannot hold (``dropped``), with a note saying
how. The CLI prints it and ``--json`` gives :meth:`LossReport.to_dict`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LossEntry", "LossReport", "LossTally"]


@dataclass(frozen=True)
class LossEntry:
    """One feature's fate in a conversion.

    Attributes:
        feature: what it is (``"message weights"``, ``"tool calls"``...).
        kept: occurrences the target holds as they were.
        mapped: occurrences the target holds in another shape (``note`` says which).
        dropped: occurrences the target cannot hold.
        note: how it was mapped, or why it was dropped.
    """

    feature: str
    kept: int = 0
    mapped: int = 0
    dropped: int = 0
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The entry as plain JSON values."""
        return {
            "feature": self.feature,
            "kept": self.kept,
            "mapped": self.mapped,
            "dropped": self.dropped,
            "note": self.note,
        }


@dataclass(frozen=True)
class LossReport:
    """What a conversion did with each feature of the records, in order of first sight.

    Attributes:
        source: what was converted (a path, or ``"records"``).
        target: the format written (``"axolotl"``, ``"trl"``, ``"sharegpt"``...).
        records: how many records were converted.
        entries: one per feature met.
        notes: what applies to the whole conversion (hyperparameters do not carry over...).
    """

    source: str
    target: str
    records: int
    entries: tuple[LossEntry, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def lossless(self) -> bool:
        """Whether nothing was dropped."""
        return all(entry.dropped == 0 for entry in self.entries)

    @property
    def dropped(self) -> dict[str, int]:
        """Feature -> occurrences dropped, for the features that lost any."""
        return {e.feature: e.dropped for e in self.entries if e.dropped}

    def entry(self, feature: str) -> LossEntry | None:
        """The entry of ``feature``, if the records had it."""
        return next((e for e in self.entries if e.feature == feature), None)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON values (what ``--json`` prints)."""
        return {
            "source": self.source,
            "target": self.target,
            "records": self.records,
            "lossless": self.lossless,
            "entries": [e.to_dict() for e in self.entries],
            "notes": list(self.notes),
        }

    def __str__(self) -> str:
        verdict = (
            "nothing lost"
            if self.lossless
            else "LOSSY: " + ", ".join(f"{n} {f} dropped" for f, n in self.dropped.items())
        )
        lines = [f"{self.source} -> {self.target}: {self.records} records, {verdict}"]
        for e in self.entries:
            counts = ", ".join(
                f"{n} {word}"
                for n, word in ((e.kept, "kept"), (e.mapped, "mapped"), (e.dropped, "dropped"))
                if n
            )
            lines.append(f"  {e.feature}: {counts or 'none'}" + (f" ({e.note})" if e.note else ""))
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)


@dataclass
class LossTally:
    """Counts features while records are converted, then becomes a :class:`LossReport`.

    ``kept``, ``mapped`` and ``dropped`` add occurrences of a feature; the first note
    given for a feature is kept (say it once, where the decision is made).
    """

    source: str
    target: str
    records: int = 0
    _counts: dict[str, list[int]] = field(default_factory=dict)
    _notes: dict[str, str] = field(default_factory=dict)
    _general: list[str] = field(default_factory=list)

    def _add(self, feature: str, slot: int, n: int, note: str) -> None:
        if n <= 0:
            return
        counts = self._counts.setdefault(feature, [0, 0, 0])
        counts[slot] += n
        if note and feature not in self._notes:
            self._notes[feature] = note

    def kept(self, feature: str, n: int = 1, note: str = "") -> None:
        """``n`` occurrences of ``feature`` held as they were."""
        self._add(feature, 0, n, note)

    def mapped(self, feature: str, n: int = 1, note: str = "") -> None:
        """``n`` occurrences of ``feature`` held in another shape (``note`` says which)."""
        self._add(feature, 1, n, note)

    def dropped(self, feature: str, n: int = 1, note: str = "") -> None:
        """``n`` occurrences of ``feature`` the target cannot hold (``note`` says why)."""
        self._add(feature, 2, n, note)

    def note(self, text: str) -> None:
        """A note on the whole conversion (once)."""
        if text not in self._general:
            self._general.append(text)

    def merge(self, counts: Mapping[str, Iterable[int]]) -> None:
        """Add another tally's raw counts (a worker's), feature by feature."""
        for feature, (kept, mapped, dropped) in counts.items():
            self.kept(feature, kept)
            self.mapped(feature, mapped)
            self.dropped(feature, dropped)

    def report(self) -> LossReport:
        """The report of everything counted so far."""
        entries = tuple(
            LossEntry(feature, kept, mapped, dropped, self._notes.get(feature, ""))
            for feature, (kept, mapped, dropped) in self._counts.items()
        )
        return LossReport(self.source, self.target, self.records, entries, tuple(self._general))
