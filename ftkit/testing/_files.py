"""Files in the fake: stored bytes with a purpose, an optional expiry, and the size limit.

Expiry is read from the virtual clock when a file is looked up or listed, so an
``expires_after`` file disappears at the right virtual moment without any timer.
Batch files expire after 30 days unless told otherwise, as ``FileExpirationAfter``
in OpenAI's OpenAPI spec documents.

A new file is ``uploaded`` for ``Timings.file_processing`` virtual seconds, then
``processed`` (read from the clock too); a job naming it before then waits for it
(``_jobs``). The files the service writes itself (result files) are processed at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._core import Core, WireError, bad_request, list_object, not_found, page

__all__ = ["FILE_PURPOSES", "FileRecord", "FileStore", "check_jsonl_name", "expiry_seconds"]

FILE_PURPOSES = frozenset({"fine-tune", "batch", "assistants", "vision", "user_data", "evals"})
"""``CreateFileRequest.purpose`` in the spec."""
_BATCH_EXPIRY = 2_592_000
"""30 days: "files with ``purpose=batch`` expire after 30 days" (``FileExpirationAfter``)."""


@dataclass
class FileRecord:
    id: str
    filename: str
    purpose: str
    content: bytes
    created_at: int
    expires_at: int | None = None
    processed_at: float = 0.0
    """Virtual time from which the file is ``processed`` (``uploaded`` before)."""
    now: Callable[[], float] = field(default=lambda: float("inf"), repr=False, compare=False)
    """The fake's clock, read for :attr:`status`."""
    failure: str | None = None
    """Why processing fails (an Azure import whose URL cannot be read): the file then ends
    in ``error`` with this as its ``status_details``."""
    options: dict[str, Any] = field(default_factory=dict, compare=False)
    """What a provider's dialect keeps about the file beyond OpenAI's fields (Together's
    checksum, upload token and preprocessing), for its own view of the file."""

    @property
    def status(self) -> str:
        """``uploaded`` while the service processes the file, then ``processed`` (or ``error``)."""
        if self.now() < self.processed_at:
            return "uploaded"
        return "processed" if self.failure is None else "error"

    def to_api(self) -> dict[str, Any]:
        # ``OpenAIFile`` types ``expires_at`` as an integer and the deprecated
        # ``status_details`` as a string, neither nullable nor required: a file that
        # never expires and has no details leaves them out.
        body: dict[str, Any] = {
            "id": self.id,
            "object": "file",
            "bytes": len(self.content),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": self.status,
        }
        if self.expires_at is not None:
            body["expires_at"] = self.expires_at
        if body["status"] == "error":
            body["status_details"] = self.failure
        return body


def check_jsonl_name(filename: str, purpose: str, *, param: str) -> None:
    """Refuse a fine-tuning file whose name is not ``*.jsonl`` (files and uploads alike)."""
    if purpose == "fine-tune" and not filename.lower().endswith(".jsonl"):
        raise bad_request(
            f"Invalid file format for Fine-Tuning API. Must be .jsonl (got {filename!r}).",
            param=param,
        )


class FileStore:
    """Every file of one fake, oldest first."""

    def __init__(self, core: Core) -> None:
        self._core = core
        self._records: dict[str, FileRecord] = {}

    # ----------------------------------------------------------------- lookups
    def get(self, file_id: str, *, param: str | None = None) -> FileRecord:
        """A file that exists now (404 otherwise)."""
        self.expire()
        record = self._records.get(file_id)
        if record is None:
            raise not_found(f"No such File object: {file_id}", param=param or "id")
        return record

    def find(self, file_id: str) -> FileRecord | None:
        """A file by id as last seen, without applying expiry (for jobs reading their files)."""
        return self._records.get(file_id)

    def __len__(self) -> int:
        return len(self._records)

    def all(self) -> list[FileRecord]:
        self.expire()
        return list(self._records.values())

    def expire(self) -> None:
        now = self._core.now()
        for record in list(self._records.values()):
            if record.expires_at is not None and record.expires_at <= now:
                del self._records[record.id]

    def add(
        self,
        filename: str,
        purpose: str,
        content: bytes,
        created_at: int,
        expires_in: int | None = None,
        *,
        processing: bool = True,
    ) -> FileRecord:
        """Store a new file (an upload's assembly, a job's result file, a created file).

        ``expires_in`` seconds after ``created_at`` it expires; batch files default to 30 days.
        A file sent by a client is processed for ``Timings.file_processing`` seconds; one the
        service writes itself (``processing=False``) is processed at once.
        """
        if expires_in is None and purpose == "batch":
            expires_in = _BATCH_EXPIRY
        expires_at = None if expires_in is None else created_at + expires_in
        delay = self._core.timings.file_processing if processing else 0.0
        record = FileRecord(
            self._core.new_id("file-", 22),
            filename,
            purpose,
            content,
            created_at,
            expires_at,
            processed_at=self._core.now() + delay,
            now=self._core.now,
        )
        self._records[record.id] = record
        return record

    # -------------------------------------------------------------- operations
    def create(
        self,
        *,
        filename: str,
        purpose: str,
        content: bytes,
        expires_after: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        if purpose not in FILE_PURPOSES:
            raise bad_request(
                f"Invalid value for purpose: {purpose!r}. Expected one of "
                f"{', '.join(sorted(FILE_PURPOSES))}.",
                param="purpose",
            )
        limit = self._core.limits.file_bytes
        if len(content) > limit:
            raise WireError(
                413,
                f"File is too large: {len(content)} bytes; the maximum is "
                f"{limit} bytes. Use the Uploads API for larger files.",
                param="file",
                code="file_too_large",
            )
        check_jsonl_name(filename, purpose, param="file")
        expires_in = expiry_seconds(expires_after)
        return self.add(filename, purpose, content, int(self._core.now()), expires_in).to_api()

    def retrieve(self, file_id: str) -> dict[str, Any]:
        return self.get(file_id).to_api()

    def list_files(
        self, *, after: str | None, limit: int, order: str, purpose: str | None
    ) -> dict[str, Any]:
        items = [f for f in self.all() if purpose is None or f.purpose == purpose]
        if order == "desc":
            items.reverse()
        found, has_more = page(items, after, limit)
        return list_object([f.to_api() for f in found], has_more, cursors="string")

    def delete(self, file_id: str) -> dict[str, Any]:
        self.get(file_id)
        del self._records[file_id]
        return {"id": file_id, "object": "file", "deleted": True}

    def content(self, file_id: str) -> bytes:
        record = self.get(file_id)
        if record.purpose == "fine-tune":
            raise bad_request(f"Not allowed to download files of purpose: {record.purpose}")
        return record.content


def expiry_seconds(expires_after: Any) -> int | None:
    """The seconds an ``expires_after`` policy (``FileExpirationAfter``) gives, or a 400."""
    if expires_after is None:
        return None
    if not isinstance(expires_after, dict):
        raise bad_request(
            "expires_after must be an object with 'anchor' and 'seconds'.", param="expires_after"
        )
    if expires_after.get("anchor") != "created_at":
        raise bad_request(
            "expires_after.anchor must be 'created_at'.", param="expires_after.anchor"
        )
    try:
        seconds = int(expires_after.get("seconds", ""))
    except (TypeError, ValueError, OverflowError):
        raise bad_request(
            "expires_after.seconds must be an integer.", param="expires_after.seconds"
        ) from None
    if not 3600 <= seconds <= 2_592_000:
        raise bad_request(
            "expires_after.seconds must be between 3600 and 2592000.",
            param="expires_after.seconds",
        )
    return seconds
