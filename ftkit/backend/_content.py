"""Training files named after their content, and finding one the provider already has.

A file is uploaded as ``<stem>.ftkit-<sha256[:16]>.jsonl``, so a re-run (or a
look after an ambiguous failure) recognises the same bytes by name and size
and reuses that file instead of uploading it again.

The name needs the hash before anything is created (that is what makes a create
exactly-once), so :func:`file_digest` reads the file once, SHA-256 only, before
sending: with SHA instructions that is a fraction of the time the bytes take to
send. The MD5 that OpenAI's Uploads API takes is computed while the parts are
sent (:class:`~ftkit.backend._md5.PartsMD5`); no other path hashes MD5.

A file the provider imported from a URL is named
``<stem>.ftkit-import-<sha256[:16]>.jsonl`` instead: its bytes came from elsewhere,
so it is never taken for an upload of the local file (:func:`finding_upload` does
not match it). :func:`finding_import` finds it again after an ambiguous import,
also while it is still pending and reports no size.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..retry import RetryPolicy
from ._program import Program, Retried

if TYPE_CHECKING:
    from ._protocol import Backend
    from ._resources import Page, TrainingFile

__all__ = [
    "FileDigest",
    "content_filename",
    "file_digest",
    "finding_import",
    "finding_upload",
    "import_filename",
]


@dataclass(frozen=True)
class FileDigest:
    """What identifies a file's content: its size and SHA-256, and its MD5 where one was sent.

    Attributes:
        size: bytes.
        sha256: hex; it names the file (:func:`content_filename`).
        md5: hex, for an upload whose API checks it (the Uploads API's ``complete``),
            hashed while the parts were sent; ``None`` on every other path.
    """

    size: int
    sha256: str
    md5: str | None = None


def file_digest(path: str | Path, *, chunk_size: int = 1024 * 1024) -> FileDigest:
    """Hash a file for its name: one read, SHA-256 only (no API needs more before sending).

    Args:
        path: the file.
        chunk_size: bytes read at a time, into one reused buffer (memory stays flat
            for any size).

    Returns:
        Its size and SHA-256 (hex); ``md5`` is ``None``.
    """
    sha = hashlib.sha256()
    size = 0
    buffer = bytearray(chunk_size)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as handle:
        while count := handle.readinto(buffer):
            sha.update(view[:count])
            size += count
    return FileDigest(size=size, sha256=sha.hexdigest())


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _hash_suffix(sha256: str) -> str:
    return f"ftkit-{sha256[:16]}.jsonl"


def content_filename(path: str | Path, sha256: str) -> str:
    """The name a file is uploaded under: readable stem plus content hash.

    Args:
        path: the local file (only its stem is used, sanitised and shortened).
        sha256: the hex SHA-256 of its content.

    Returns:
        For example ``train.ftkit-3f1c0a9be2d45e67.jsonl``.
    """
    stem = _UNSAFE.sub("-", Path(path).stem).strip("-.")[:40] or "data"
    return f"{stem}.{_hash_suffix(sha256)}"


def import_filename(path: str | Path, sha256: str) -> str:
    """The name an imported file is created under: ``train.ftkit-import-<hash>.jsonl``."""
    stem = content_filename(path, sha256).rsplit(".ftkit-", 1)[0]
    return f"{stem}.ftkit-import-{sha256[:16]}.jsonl"


def _is_reusable(file: TrainingFile, sha256: str, size: int) -> bool:
    return (
        file.filename is not None
        and file.filename.endswith(f".{_hash_suffix(sha256)}")
        and file.bytes == size
        and file.status not in ("error", "deleted")
    )


def _is_import(file: TrainingFile, name: str, size: int) -> bool:
    # A pending import has no size yet (Azure's answer leaves ``bytes`` out).
    return (
        file.filename == name
        and file.bytes in (None, size)
        and file.status not in ("error", "deleted")
    )


def finding_upload(
    backend: Backend,
    sha256: str,
    size: int,
    *,
    purpose: str = "fine-tune",
    retry: RetryPolicy | int | None = None,
) -> Program[TrainingFile | None]:
    """An already uploaded file with this content (hash in its name, same size), or ``None``.

    Args:
        backend: where to look (``files.list`` filtered by purpose, all pages).
        sha256: the content hash.
        size: the content size in bytes.
        purpose: the file purpose to list.
        retry: the policy for each list call.
    """
    found = yield from _finding(backend, lambda f: _is_reusable(f, sha256, size), purpose, retry)
    return found


def finding_import(
    backend: Backend,
    name: str,
    size: int,
    *,
    purpose: str = "fine-tune",
    retry: RetryPolicy | int | None = None,
) -> Program[TrainingFile | None]:
    """A file imported under ``name`` (:func:`import_filename`), pending or done, or ``None``."""
    found = yield from _finding(backend, lambda f: _is_import(f, name, size), purpose, retry)
    return found


def _finding(
    backend: Backend,
    wanted: Callable[[TrainingFile], bool],
    purpose: str,
    retry: RetryPolicy | int | None,
) -> Program[TrainingFile | None]:
    policy = RetryPolicy.coerce(retry)
    after: str | None = None
    while True:
        request = backend.list_files(purpose=purpose, after=after, limit=10000)
        page: Page[TrainingFile] = yield Retried(request, policy)
        for file in page.data:
            if wanted(file):
                return file
        # A list that ignores ``after`` (Azure's v1 ``GET /files`` takes only ``purpose``)
        # would give the same page again: stop rather than loop.
        if not page.has_more or page.last_id is None or page.last_id == after:
            return None
        after = page.last_id
