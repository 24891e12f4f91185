"""Uploads in the fake: a declared size, parts, and completion into a file.

An upload is pending until completed (the parts, in the order named, must add
up to the declared bytes and match the optional md5), cancelled, or expired an
hour (``Limits.upload_expiry``) after creation on the virtual clock. Creation
checks what ``CreateUploadRequest`` in OpenAI's OpenAPI spec allows: its four
purposes, a MIME type that fits the purpose, and an ``expires_after`` policy,
which the completed file then carries.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from ._core import Core, bad_request, not_found
from ._files import FileRecord, FileStore, check_jsonl_name, expiry_seconds

__all__ = ["UploadRecord", "UploadStore"]

UPLOAD_PURPOSES = frozenset({"assistants", "batch", "fine-tune", "vision"})
"""``CreateUploadRequest.purpose`` in the spec: narrower than the Files API's."""
_JSONL_MIME = frozenset({"text/jsonl", "application/jsonl", "application/x-ndjson"})
_IMAGE_MIME = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
# "For certain purpose values, the correct mime_type must be specified" (``POST /uploads``):
# fine-tuning and batch input are JSONL; vision fine-tuning takes PNG, JPEG, GIF and WEBP.
_MIME_BY_PURPOSE = {"fine-tune": _JSONL_MIME, "batch": _JSONL_MIME, "vision": _IMAGE_MIME}
_MIME_SHAPE = re.compile(r"[\w.+-]+/[\w.+-]+")


@dataclass
class UploadRecord:
    id: str
    filename: str
    purpose: str
    declared: int
    mime_type: str
    created_at: int
    expires_at: int
    file_expires_in: int | None = None
    status: str = "pending"
    parts: dict[str, bytes] = field(default_factory=dict)
    file: FileRecord | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "upload",
            "bytes": self.declared,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": self.status,
            "file": self.file.to_api() if self.file else None,
        }


class UploadStore:
    """Every upload of one fake; a completed one adds its file to ``files``."""

    def __init__(self, core: Core, files: FileStore) -> None:
        self._core = core
        self._files = files
        self._records: dict[str, UploadRecord] = {}
        self.purposes: frozenset[str] = UPLOAD_PURPOSES
        """The purposes an upload may have (a provider's dialect may change them)."""
        self.mime_by_purpose: dict[str, frozenset[str]] = dict(_MIME_BY_PURPOSE)
        """The MIME types each purpose accepts; a purpose not listed takes any."""

    def get(self, upload_id: str) -> UploadRecord:
        """An upload, its expiry applied (404 if it never existed)."""
        upload = self._records.get(upload_id)
        if upload is None:
            raise not_found(f"No such Upload object: {upload_id}", param="upload_id")
        if upload.status == "pending" and self._core.now() >= upload.expires_at:
            upload.status = "expired"
        return upload

    def all(self) -> list[UploadRecord]:
        return [self.get(upload_id) for upload_id in list(self._records)]

    def create(
        self,
        *,
        declared: Any,
        filename: Any,
        mime_type: Any,
        purpose: Any,
        expires_after: Any = None,
    ) -> dict[str, Any]:
        limits = self._core.limits
        if not isinstance(declared, int) or isinstance(declared, bool) or declared < 1:
            raise bad_request("bytes must be a positive integer.", param="bytes")
        if not isinstance(filename, str) or not filename:
            raise bad_request("filename is required.", param="filename")
        if purpose not in self.purposes:
            raise bad_request(
                f"Invalid value for purpose: {purpose!r}. Expected one of "
                f"{', '.join(sorted(self.purposes))}.",
                param="purpose",
            )
        if not isinstance(mime_type, str) or not mime_type:
            raise bad_request("mime_type is required.", param="mime_type")
        if not _MIME_SHAPE.fullmatch(mime_type):
            raise bad_request(f"Invalid mime_type {mime_type!r}.", param="mime_type")
        if declared > limits.upload_bytes:
            raise bad_request(
                f"bytes ({declared}) exceeds the maximum upload size of "
                f"{limits.upload_bytes} bytes.",
                param="bytes",
            )
        allowed = self.mime_by_purpose.get(purpose)
        if allowed is not None and mime_type not in allowed:
            raise bad_request(
                f"Invalid mime_type {mime_type!r} for purpose {purpose!r}; use one of "
                f"{', '.join(sorted(allowed))}.",
                param="mime_type",
            )
        check_jsonl_name(filename, purpose, param="filename")
        file_expires_in = expiry_seconds(expires_after)
        created = int(self._core.now())
        upload = UploadRecord(
            self._core.new_id("upload_"),
            filename,
            purpose,
            declared,
            mime_type,
            created,
            int(created + limits.upload_expiry),
            file_expires_in,
        )
        self._records[upload.id] = upload
        return upload.to_api()

    def add_part(self, upload_id: str, data: bytes) -> dict[str, Any]:
        upload = self._pending(upload_id)
        limit = self._core.limits.part_bytes
        if len(data) > limit:
            raise bad_request(
                f"Part is too large: {len(data)} bytes; each part may be at most {limit} bytes.",
                param="data",
            )
        part_id = self._core.new_id("part_")
        upload.parts[part_id] = data
        return {
            "id": part_id,
            "object": "upload.part",
            "created_at": int(self._core.now()),
            "upload_id": upload_id,
        }

    def complete(self, upload_id: str, part_ids: Any, md5: Any) -> dict[str, Any]:
        upload = self._pending(upload_id)
        if not isinstance(part_ids, list) or not part_ids:
            raise bad_request("part_ids must be a non-empty list.", param="part_ids")
        if len(set(part_ids)) != len(part_ids):
            raise bad_request("part_ids must not repeat a part.", param="part_ids")
        unknown = [p for p in part_ids if p not in upload.parts]
        if unknown:
            raise bad_request(f"Unknown part id(s) for this upload: {unknown}", param="part_ids")
        content = b"".join(upload.parts[p] for p in part_ids)
        if len(content) != upload.declared:
            raise bad_request(
                f"The number of bytes uploaded ({len(content)}) does not match the number "
                f"declared when the upload was created ({upload.declared}).",
                param="part_ids",
            )
        if md5 is not None and md5 != hashlib.md5(content).hexdigest():
            raise bad_request("The md5 checksum does not match the uploaded bytes.", param="md5")
        created = int(self._core.now())
        upload.file = self._files.add(
            upload.filename, upload.purpose, content, created, upload.file_expires_in
        )
        upload.status = "completed"
        return upload.to_api()

    def cancel(self, upload_id: str) -> dict[str, Any]:
        upload = self._pending(upload_id)
        upload.status = "cancelled"
        return upload.to_api()

    def _pending(self, upload_id: str) -> UploadRecord:
        upload = self.get(upload_id)
        if upload.status != "pending":
            raise bad_request(
                f"Upload {upload.id} is {upload.status}; only pending uploads accept this.",
                param="upload_id",
            )
        return upload
