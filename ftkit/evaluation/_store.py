"""Replies written as they arrive, so an interrupted evaluation resumes where it stopped.

The results directory holds:

- ``replies.jsonl``: an append-only log, one line per answered (example, model):
  the example index, the model, the request fingerprint, the reply and its token
  usage. Lines are flushed as written and ``fsync``-ed once per batch; a line torn
  by a crash is ignored on reading (that one example is asked again);
- ``report.json``: the final :class:`~ftkit.evaluation.EvalReport`, written atomically.

Scores are *not* stored: they are computed from the replies when the report is
built, so re-scoring with another scorer costs no API call. A reply is reused
only for the same model and the same fingerprint (conversation, tools, request
parameters): an edited test file is asked again, never mixed.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .._exceptions import UsageError
from ._scorers import Turn

__all__ = ["REPLIES_FILE", "REPORT_FILE", "ReplyStore", "StoredReply"]

log = logging.getLogger("ftkit.evaluation")

REPLIES_FILE = "replies.jsonl"
REPORT_FILE = "report.json"


@dataclass(frozen=True)
class StoredReply:
    """One model's answer to one example, as logged."""

    index: int
    model: str
    fingerprint: str
    reply: Turn
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "index": self.index,
                "model": self.model,
                "fingerprint": self.fingerprint,
                "reply": self.reply.to_dict(),
                "usage": {
                    "prompt_tokens": self.prompt_tokens,
                    "completion_tokens": self.completion_tokens,
                },
                "finish_reason": self.finish_reason,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, line: str) -> StoredReply:
        data: dict[str, Any] = json.loads(line)
        usage = data.get("usage") or {}
        return cls(
            index=int(data["index"]),
            model=str(data["model"]),
            fingerprint=str(data["fingerprint"]),
            reply=Turn.from_dict(data["reply"]),
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            finish_reason=data.get("finish_reason"),
        )


class ReplyStore:
    """The results directory of one evaluation (not thread-safe: one writer thread).

    Args:
        directory: where ``replies.jsonl`` and ``report.json`` live; created if missing.
        sync_every: ``fsync`` the log after this many new lines (and on close).
    """

    def __init__(self, directory: str | os.PathLike[str], *, sync_every: int = 16) -> None:
        self.directory = Path(directory)
        if self.directory.exists() and not self.directory.is_dir():
            raise UsageError(f"{self.directory} exists and is not a directory")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / REPLIES_FILE
        self._sync_every = max(1, sync_every)
        self._pending = 0
        self._handle: IO[str] | None = None
        self._known: dict[tuple[str, str], StoredReply] = {}
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        torn = 0
        with self.path.open("r", encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    stored = StoredReply.from_json(line)
                except (ValueError, KeyError, TypeError):
                    torn += 1
                    log.warning(
                        "%s line %d is unreadable; that reply is asked again", self.path, number
                    )
                    continue
                self._known[(stored.model, stored.fingerprint)] = stored
        if torn:
            log.info("ignored %d unreadable line(s) of %s", torn, self.path)

    def get(self, model: str, fingerprint: str) -> StoredReply | None:
        """The stored reply of ``model`` to the request with this fingerprint, if any."""
        return self._known.get((model, fingerprint))

    def __len__(self) -> int:
        return len(self._known)

    def add(self, stored: StoredReply) -> None:
        """Append one reply to the log (flushed now, synced per batch)."""
        if self._handle is None:
            torn_tail = self._ends_without_newline()
            self._handle = self.path.open("a", encoding="utf-8")
            os.chmod(self.path, 0o600)
            if torn_tail:
                # A crash cut the last line short: start ours on a fresh line.
                self._handle.write("\n")
        self._handle.write(stored.to_json() + "\n")
        self._handle.flush()
        self._known[(stored.model, stored.fingerprint)] = stored
        self._pending += 1
        if self._pending >= self._sync_every:
            self.sync()

    def _ends_without_newline(self) -> bool:
        try:
            with self.path.open("rb") as handle:
                handle.seek(0, os.SEEK_END)
                if handle.tell() == 0:
                    return False
                handle.seek(-1, os.SEEK_END)
                return handle.read(1) != b"\n"
        except FileNotFoundError:
            return False

    def sync(self) -> None:
        """Make every appended line durable."""
        if self._handle is not None and self._pending:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._pending = 0

    def close(self) -> None:
        """Sync and close the log."""
        if self._handle is not None:
            self.sync()
            self._handle.close()
            self._handle = None

    def write_report(self, data: dict[str, Any]) -> Path:
        """Write ``report.json`` atomically."""
        from ..jsonl import atomic_write

        target = self.directory / REPORT_FILE
        with atomic_write(target) as handle:
            json.dump(data, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
        return target
