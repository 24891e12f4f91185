"""The output file and its journal: every answer written once, none lost, across crashes.

``generate`` writes two files: ``out``, the training JSONL (kept records only), and
beside it ``<out>.journal``, the source of truth:

- its first line is a header holding the settings the answers were made with
  (model, temperature, max_tokens, n, filters); a run with other settings on the
  same ``out`` is refused (:class:`~ftkit.UsageError`), so one file never mixes
  answers of two teachers or two temperatures silently;
- then one line per answered (prompt, sample): the prompt's fingerprint, the
  sample number, the outcome (``"kept"`` or the drop reason), the usage billed,
  and for a kept answer the training record itself.

Each answer is appended to the journal first, then (when kept) its record to
``out``, each as one whole line in one ``write`` and flushed at once; both files
are ``fsync``-ed every ``sync_every`` answers and on close (the evaluation's
results log does the same). On opening, the two are reconciled:

- a line torn by a crash (no newline at the end) is cut off either file;
- a record the journal holds but ``out`` lacks (the crash fell between the two
  writes) is appended to ``out`` from the journal, so no paid answer is lost and
  none is asked again;
- ``out`` holding more records than the journal (the journal was lost by the
  system, not by a process crash, as flushed lines survive the process) is cut
  back to what the journal knows: those prompts are asked again.

``out`` is therefore a valid training file whenever a reader looks, apart from
the one line being appended at that instant. Calls that failed are not
journaled: a re-run asks them again.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._exceptions import RunConflict, UsageError
from .._process_lock import ProcessLock

__all__ = ["JOURNAL_SUFFIX", "Entry", "Journal"]

log = logging.getLogger("ftkit.distill")

JOURNAL_SUFFIX = ".journal"
_FORMAT = 1


@dataclass(frozen=True)
class Entry:
    """One answered (prompt, sample) as journaled."""

    key: str
    sample: int
    outcome: str
    prompt_tokens: int
    completion_tokens: int
    record: str | None = None
    """The training record's JSON line (no newline), for a kept answer."""

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "key": self.key,
            "sample": self.sample,
            "outcome": self.outcome,
            "usage": [self.prompt_tokens, self.completion_tokens],
        }
        if self.record is not None:
            data["record"] = json.loads(self.record)
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> Entry:
        data = json.loads(line)
        usage = data.get("usage") or [0, 0]
        record = data.get("record")
        return cls(
            key=str(data["key"]),
            sample=int(data["sample"]),
            outcome=str(data["outcome"]),
            prompt_tokens=int(usage[0]),
            completion_tokens=int(usage[1]),
            record=(
                json.dumps(record, ensure_ascii=False, separators=(",", ":"))
                if record is not None
                else None
            ),
        )


def _whole_lines(path: Path) -> list[bytes]:
    """The complete lines of ``path`` (a torn last line is cut off the file itself)."""
    if not path.exists():
        return []
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if end != len(data):
        log.warning("%s ends with a line cut by a crash; it is removed", path)
        with path.open("r+b") as handle:
            handle.truncate(end)
            handle.flush()
            os.fsync(handle.fileno())
    return data[:end].splitlines()


def _differences(found: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[str]:
    return [
        f"{name} {found.get(name)!r} (now {wanted.get(name)!r})"
        for name in sorted(set(found) | set(wanted))
        if found.get(name) != wanted.get(name)
    ]


class Journal:
    """``out`` and ``<out>.journal`` of one distillation (one writer thread).

    Args:
        out: the training file to write.
        settings: what the answers are made with; must match an existing journal's.
        sync_every: ``fsync`` both files after this many answers (and on close).

    One process at a time: the journal holds an OS lock on ``<out>.lock`` from when
    it opens until :meth:`close` (a killed process releases it), so a second
    process on the same ``out`` is refused instead of asking every prompt again and
    interleaving the files.

    Raises:
        UsageError: ``out`` exists without a journal (not ours to append to), the
            journal was made with other settings, or ``out`` no longer starts with the
            journal's records (it was edited).
        RunConflict: another process is writing ``out``.
    """

    def __init__(
        self, out: str | os.PathLike[str], settings: Mapping[str, Any], *, sync_every: int = 16
    ) -> None:
        self.out = Path(out)
        self.path = self.out.with_name(self.out.name + JOURNAL_SUFFIX)
        self.settings = dict(settings)
        self._sync_every = max(1, sync_every)
        self._pending = 0
        self.entries: dict[tuple[str, int], Entry] = {}
        self._kept: list[str] = []
        if self.out.is_dir():
            raise UsageError(f"out {self.out} is a directory; give a .jsonl file path")
        if not self.path.exists() and self.out.exists() and self.out.stat().st_size:
            raise UsageError(
                f"{self.out} exists and has no journal ({self.path.name}): it was not written "
                "by ftkit.distill.generate, so it is left alone; choose another out"
            )
        self._journal: Any = None
        self._records: Any = None
        out_name = self.out
        self._lock = ProcessLock(
            self.out.with_name(self.out.name + ".lock"),
            lambda holder: RunConflict(
                f"{out_name} is being written by {holder}; wait for it to finish (a "
                "rerun then asks only what is missing), or choose another out"
            ),
        ).acquire()
        try:
            self._load()
            self._reconcile()
        except BaseException:
            self._lock.release()
            raise

    # ------------------------------------------------------------------ opening
    def _load(self) -> None:
        lines = _whole_lines(self.path)
        self._header_written = False
        if not lines:
            return
        try:
            header = json.loads(lines[0])
            found = header["settings"]
            assert header.get("ftkit_distill") == _FORMAT and isinstance(found, dict)
        except (ValueError, KeyError, TypeError, AssertionError):
            raise UsageError(f"{self.path} is not a distillation journal") from None
        wanted = json.loads(json.dumps(self.settings))  # compared as JSON, as stored
        if found != wanted and len(lines) == 1:
            # Nothing was answered with those settings (a run refused by its cost cap,
            # say): start afresh with these.
            self.path.unlink()
            return
        if found != wanted:
            raise UsageError(
                f"{self.out} was generated with other settings: "
                + "; ".join(_differences(found, wanted))
                + ". Use another out, or delete it and its journal to start again"
            )
        self._header_written = True
        for number, line in enumerate(lines[1:], 2):
            try:
                entry = Entry.from_json(line.decode("utf-8"))
            except (ValueError, KeyError, TypeError, IndexError):
                log.warning(
                    "%s line %d is unreadable; its answer is asked again", self.path, number
                )
                continue
            if (entry.key, entry.sample) in self.entries:
                continue
            self.entries[(entry.key, entry.sample)] = entry
            if entry.record is not None:
                self._kept.append(entry.record)

    def _reconcile(self) -> None:
        """Make ``out`` hold exactly the journal's kept records, in order."""
        lines = [line.decode("utf-8") for line in _whole_lines(self.out)]
        common = min(len(lines), len(self._kept))
        for position in range(common):
            if json.loads(lines[position]) != json.loads(self._kept[position]):
                raise UsageError(
                    f"{self.out} line {position + 1} is not the record its journal holds: the "
                    "file was edited. Write edits to another file, or delete both to start again"
                )
        if len(lines) > len(self._kept):
            log.warning(
                "%s holds %d records its journal does not know (the journal lost its last "
                "lines); they are removed and their prompts asked again",
                self.out,
                len(lines) - len(self._kept),
            )
            keep = sum(len(line.encode("utf-8")) + 1 for line in lines[: len(self._kept)])
            with self.out.open("r+b") as handle:
                handle.truncate(keep)
                os.fsync(handle.fileno())
        elif len(lines) < len(self._kept):
            missing = self._kept[len(lines) :]
            log.info("restoring %d record(s) to %s from its journal", len(missing), self.out)
            with self.out.open("ab") as handle:
                handle.write("".join(line + "\n" for line in missing).encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())

    def _open(self) -> None:
        """Open both files for appending (at the first answer: a refused run writes nothing)."""
        if self._journal is not None:
            return
        self.out.parent.mkdir(parents=True, exist_ok=True)
        handles = []
        for path in (self.path, self.out):
            handle = path.open("ab", buffering=0)
            os.chmod(path, 0o600)
            handles.append(handle)
        self._journal, self._records = handles
        if not self._header_written:
            header = {"ftkit_distill": _FORMAT, "settings": self.settings}
            self._append(self._journal, json.dumps(header, ensure_ascii=False, sort_keys=True))
            self._header_written = True

    # ------------------------------------------------------------------ writing
    @staticmethod
    def _append(handle: Any, line: str) -> None:
        """Write one whole line, unbuffered: one ``write`` unless the system writes less."""
        data = memoryview((line + "\n").encode("utf-8"))
        while data:
            # A raw file may write fewer bytes than asked (a signal, a full disk): the
            # rest goes after them, or the next line would be glued to half of this one.
            written = handle.write(data)
            if not written:  # nothing written and no error: never loop on it
                raise OSError(f"could not append to {getattr(handle, 'name', 'the file')}")
            data = data[written:]

    def get(self, key: str, sample: int) -> Entry | None:
        """The journaled answer of this (prompt, sample), if any."""
        return self.entries.get((key, sample))

    def add(self, entry: Entry) -> None:
        """Journal one answer, then write its record to ``out`` when it is kept."""
        self._open()
        self._append(self._journal, entry.to_json())
        if entry.record is not None:
            self._append(self._records, entry.record)
            self._kept.append(entry.record)
        self.entries[(entry.key, entry.sample)] = entry
        self._pending += 1
        if self._pending >= self._sync_every:
            self.sync()

    @property
    def records(self) -> list[str]:
        """The kept records' JSON lines, in file order."""
        return list(self._kept)

    def sync(self) -> None:
        """Make every appended line durable: the journal first, then ``out``."""
        if self._pending and self._journal is not None:
            os.fsync(self._journal.fileno())
            os.fsync(self._records.fileno())
            self._pending = 0

    def close(self) -> None:
        """Sync and close both files (a journal never opened leaves nothing behind),
        then release the lock; closing again does nothing."""
        try:
            if self._journal is not None and not self._journal.closed:
                self._pending = max(self._pending, 1)
                try:
                    self.sync()
                finally:  # a failed fsync (a full disk) still closes both
                    try:
                        self._journal.close()
                    finally:
                        self._records.close()
        finally:
            self._lock.release()
