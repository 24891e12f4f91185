"""Content-addressed, resumable upload of training files.

A training file is named after its content (:mod:`._content`), so a file
already uploaded with the same bytes is found and reused instead of uploaded
again. Files up to :data:`FILES_API_LIMIT` go through the Files API in
one request; larger ones through the Uploads API: parts of ``part_size`` bytes
(at most 64 MiB) sent in parallel, each under the retry policy, then completed
with the part ids in order and the file's MD5 so the server can check the
assembly. Before anything is sent the file is read once for its SHA-256 (its
name must be known before the create); the MD5 is hashed from the parts as they
are read to be sent (:mod:`._md5`), and only on this path, the one API that takes it.

A multi-part upload expires one hour after it is created (two on Azure). Its progress is an
:class:`UploadState` value handed to ``on_state`` after every part; persist it
and pass it back as ``state=`` to resume an interrupted upload, sending only
the missing parts. An expired state starts a new upload.

Both writes that create files (``files.create``, ``uploads.complete``) are
exactly-once: after an ambiguous failure the file is looked up by name and size
before anything is sent again. An API that takes files through a presigned URL
(Together AI) has a program of its own, :mod:`._presigned`, on the same names; so
does an API of datasets with caller-chosen ids (Fireworks AI), :mod:`._datasets`.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .._exceptions import APIError, UsageError
from .._plain import attributes
from .._twins import parameters_of
from ..retry import RetryPolicy
from ._content import (
    FileDigest,
    content_filename,
    file_digest,
    finding_import,
    finding_upload,
    import_filename,
)
from ._datasets import dataset_uploading
from ._md5 import PartsMD5
from ._presigned import presigned_uploading
from ._program import CallOnce, Concurrently, Local, Nested, Program, Retried, arun, run
from ._traits import traits_of

if TYPE_CHECKING:
    from ._protocol import Backend
    from ._resources import TrainingFile, UploadedPart, UploadSession

__all__ = [
    "FILES_API_LIMIT",
    "MAX_PART_SIZE",
    "UPLOAD_TTL",
    "UploadResult",
    "UploadState",
    "aupload_file",
    "upload_file",
]

logger = logging.getLogger("ftkit.upload")

#: Largest file sent in one ``files.create`` request (bytes).
FILES_API_LIMIT = 512 * 1024 * 1024
#: Largest part the Uploads API accepts (bytes).
MAX_PART_SIZE = 64 * 1024 * 1024
#: Seconds an upload stays open after ``uploads.create`` on OpenAI (Azure: two hours;
#: see :attr:`~ftkit.backend._traits.Traits.upload_ttl`).
UPLOAD_TTL = 3600
#: A resumed upload needs at least this many seconds left before it expires.
RESUME_MARGIN = 120

ProgressCallback = Callable[[int, int], object]
StateCallback = Callable[["UploadState"], object]


@dataclass(frozen=True)
class UploadState:
    """Where a multi-part upload stands; persist it to resume within the hour.

    Attributes:
        upload_id: the Uploads API id (``upload_...``).
        filename: the content-addressed name.
        size: total bytes declared at creation.
        sha256: the content the parts were cut from.
        md5: its MD5, known once every part has been read: ``None`` in the states
            handed to ``on_state`` while parts are sent (a resumed upload hashes
            its parts again), set in :attr:`UploadResult.state`.
        part_size: bytes per part (the last one may be shorter).
        part_ids: part index (0-based) -> part id, for the parts already sent.
        created_at, expires_at: Unix seconds, from the provider.
    """

    upload_id: str
    filename: str
    size: int
    sha256: str
    md5: str | None
    part_size: int
    created_at: int
    expires_at: int
    part_ids: Mapping[int, str] = field(default_factory=dict)

    @property
    def part_count(self) -> int:
        """How many parts the file is cut into."""
        return max(1, math.ceil(self.size / self.part_size))

    def missing_parts(self) -> list[int]:
        """Indexes of the parts not sent yet, in order."""
        return [i for i in range(self.part_count) if i not in self.part_ids]

    def is_expired(self, now: float, *, margin: float = RESUME_MARGIN) -> bool:
        """Whether too little time is left to finish (``now`` in Unix seconds)."""
        return now >= self.expires_at - margin

    def with_part(self, index: int, part_id: str) -> UploadState:
        """A copy that records part ``index`` as sent."""
        return replace(self, part_ids={**self.part_ids, index: part_id})

    def ordered_part_ids(self) -> list[str]:
        """The part ids in file order, for ``uploads.complete``."""
        return [self.part_ids[i] for i in range(self.part_count)]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for the run manifest)."""
        return {
            **attributes(
                self,
                "upload_id",
                "filename",
                "size",
                "sha256",
                "md5",
                "part_size",
                "created_at",
                "expires_at",
            ),
            "part_ids": {str(i): pid for i, pid in sorted(self.part_ids.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UploadState:
        """Rebuild a state written by :meth:`to_dict`.

        Raises:
            UsageError: the dict is not an upload state.
        """
        try:
            return cls(
                upload_id=str(data["upload_id"]),
                filename=str(data["filename"]),
                size=int(data["size"]),
                sha256=str(data["sha256"]),
                md5=None if data.get("md5") is None else str(data["md5"]),
                part_size=int(data["part_size"]),
                created_at=int(data["created_at"]),
                expires_at=int(data["expires_at"]),
                part_ids={int(k): str(v) for k, v in dict(data.get("part_ids", {})).items()},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise UsageError(f"not a saved upload state: {exc}") from exc


@dataclass(frozen=True)
class UploadResult:
    """The outcome of :func:`upload_file`.

    Attributes:
        file: the uploaded (or reused) file (use ``file.id`` for jobs).
        digest: size and hashes of the content (its MD5 for ``"uploads"`` only).
        reused: an identical file was already uploaded; nothing was sent.
        via: ``"existing"``, ``"files"`` (one request), ``"uploads"`` (parts) or
            ``"import"`` (fetched by the provider from a URL).
        state: the final multi-part state, for ``"uploads"``.
    """

    file: TrainingFile
    digest: FileDigest
    reused: bool
    via: Literal["existing", "files", "uploads", "import"]
    state: UploadState | None = None


def _check_sizes(part_size: int, concurrency: int, files_api_limit: int) -> None:
    if not 0 < part_size <= MAX_PART_SIZE:
        raise UsageError(f"part_size must be within 1..{MAX_PART_SIZE} bytes, got {part_size}")
    if concurrency < 1:
        raise UsageError(f"concurrency must be >= 1, got {concurrency}")
    if files_api_limit < 0:
        raise UsageError(f"files_api_limit must be >= 0, got {files_api_limit}")


def _resumable(
    state: UploadState | None, digest: FileDigest, name: str, now: float
) -> UploadState | None:
    if state is None:
        return None
    if (state.sha256, state.size, state.filename) != (digest.sha256, digest.size, name):
        logger.info("saved upload %s is for other content; starting afresh", state.upload_id)
        return None
    if state.is_expired(now):
        logger.info("saved upload %s has expired; starting a new upload", state.upload_id)
        return None
    return state


def _new_state(
    upload: UploadSession, name: str, digest: FileDigest, part_size: int, ttl: int
) -> UploadState:
    created = upload.created_at or int(time.time())
    expires = upload.expires_at
    return UploadState(
        upload_id=upload.id,
        filename=name,
        size=digest.size,
        sha256=digest.sha256,
        md5=None,
        part_size=part_size,
        created_at=created,
        # The provider's ``expires_at`` when it says; else its API's documented lifetime.
        expires_at=expires or created + ttl,
    )


def _read_part(path: Path, index: int, part_size: int, md5: PartsMD5) -> bytes:
    """Part ``index`` of the file, hashed into ``md5`` on the way (the only read it gets)."""
    with open(path, "rb") as handle:
        handle.seek(index * part_size)
        data = handle.read(part_size)
    md5.add(index, data)
    return data


def _completed_file(upload: UploadSession) -> TrainingFile:
    if upload.file is None:
        raise APIError(
            f"upload {upload.id} ended {upload.status!r} without a file",
            ambiguous=True,
        )
    return upload.file


class _Progress:
    """Thread-safe state and progress bookkeeping for one multi-part upload."""

    def __init__(
        self,
        state: UploadState,
        on_state: StateCallback | None,
        progress: ProgressCallback | None,
    ) -> None:
        self.state = state
        self._on_state = on_state
        self._progress = progress
        self._lock = threading.Lock()
        self.sent = sum(self._part_len(i) for i in state.part_ids)

    def _part_len(self, index: int) -> int:
        start = index * self.state.part_size
        return max(0, min(self.state.part_size, self.state.size - start))

    def started(self) -> None:
        with self._lock:
            if self._on_state is not None:
                self._on_state(self.state)
            if self._progress is not None:
                self._progress(self.sent, self.state.size)

    def part_done(self, index: int, part_id: str) -> None:
        with self._lock:
            self.state = self.state.with_part(index, part_id)
            self.sent += self._part_len(index)
            if self._on_state is not None:
                self._on_state(self.state)
            if self._progress is not None:
                self._progress(self.sent, self.state.size)


@dataclass(frozen=True)
class UploadRequest:
    """One upload: what to send, where, and how (the arguments of :func:`upload_file`)."""

    backend: Backend
    path: str | Path
    retry: RetryPolicy | int | None
    purpose: str
    reuse: bool
    files_api_limit: int
    part_size: int
    concurrency: int
    state: UploadState | None
    on_state: StateCallback | None
    progress: ProgressCallback | None
    wall_clock: Callable[[], float]
    content_url: str | None = field(default=None, repr=False)
    """Where the provider can fetch the same bytes itself (Azure's file import), if anywhere."""

    @classmethod
    def checked(cls, **arguments: Any) -> UploadRequest:
        """The request for these arguments of :func:`upload_file`, its sizes checked.

        Raises:
            UsageError: invalid sizes or concurrency.
        """
        request = cls(**arguments)
        _check_sizes(request.part_size, request.concurrency, request.files_api_limit)
        return request

    def done(self, digest: FileDigest) -> None:
        if self.progress is not None:
            self.progress(digest.size, digest.size)


def uploading(job: UploadRequest) -> Program[UploadResult]:
    """The program of :func:`upload_file` and :func:`aupload_file`."""
    backend, path, policy = job.backend, Path(job.path), RetryPolicy.coerce(job.retry)
    digest: FileDigest = yield Local(file_digest, (path,))
    name = content_filename(path, digest.sha256)
    if traits_of(backend).caller_ids:
        stored, reused = yield from dataset_uploading(
            backend,
            path,
            digest,
            name,
            retry=policy,
            reuse=job.reuse,
            limit=job.files_api_limit,
        )
        job.done(digest)
        return UploadResult(stored, digest, reused=reused, via="existing" if reused else "files")
    if traits_of(backend).presigned_upload:
        sent, reused = yield from presigned_uploading(
            backend,
            path,
            digest,
            name,
            retry=policy,
            purpose=job.purpose,
            reuse=job.reuse,
            limit=job.files_api_limit,
        )
        job.done(digest)
        return UploadResult(sent, digest, reused=reused, via="existing" if reused else "files")

    find = Nested(
        lambda: finding_upload(
            backend, digest.sha256, digest.size, purpose=job.purpose, retry=RetryPolicy.never()
        )
    )

    if job.reuse:
        existing = yield from finding_upload(
            backend, digest.sha256, digest.size, purpose=job.purpose, retry=policy
        )
        if existing is not None:
            logger.info("reusing uploaded file %s for %s", existing.id, path.name)
            job.done(digest)
            return UploadResult(existing, digest, reused=True, via="existing")

    if job.content_url is not None:
        # The provider fetches the bytes itself. Until they are checked they are not the
        # local file's, so the import has a name of its own (never reused as an upload)
        # by which an ambiguous import is found again, pending or not.
        imported_name = import_filename(path, digest.sha256)
        imported = backend.import_file(
            filename=imported_name, content_url=job.content_url, purpose=job.purpose
        )
        find_import = Nested(
            lambda: finding_import(
                backend, imported_name, digest.size, purpose=job.purpose, retry=RetryPolicy.never()
            )
        )
        fetched: TrainingFile = yield CallOnce(imported, find_import, policy)
        logger.info("importing %s from a URL as %s", path.name, fetched.id)
        job.done(digest)
        return UploadResult(fetched, digest, reused=False, via="import")

    if digest.size <= job.files_api_limit:
        # The path, not its bytes: the request streams the file from the disk.
        create = backend.create_file(filename=name, content=path, purpose=job.purpose)
        file: TrainingFile = yield CallOnce(create, find, policy)
        job.done(digest)
        return UploadResult(file, digest, reused=False, via="files")

    current = _resumable(job.state, digest, name, job.wall_clock())
    if current is None:
        request = backend.create_upload(filename=name, size=digest.size, purpose=job.purpose)
        opened: UploadSession = yield Retried(request, policy)
        ttl = traits_of(backend).upload_ttl
        current = _new_state(opened, name, digest, job.part_size, ttl)
    book = _Progress(current, job.on_state, job.progress)
    book.started()
    missing = current.missing_parts()
    md5 = PartsMD5(current.part_count)
    logger.info(
        "uploading %s in %d parts (%d to send) as %s",
        path.name,
        current.part_count,
        len(missing),
        current.upload_id,
    )

    def send(index: int) -> Program[None]:
        data: bytes = yield Local(_read_part, (path, index, current.part_size, md5))
        if index not in current.part_ids:  # sent before an interruption: read for the MD5 only
            part: UploadedPart = yield Retried(
                backend.add_upload_part(current.upload_id, data), policy
            )
            book.part_done(index, part.id)

    # Every part in file order (the pool starts them in order, so the MD5 rarely waits),
    # the ones sent already included: the hash covers the whole file.
    every = [functools.partial(send, i) for i in range(current.part_count)]
    yield Concurrently(every, limit=job.concurrency)
    final = replace(book.state, md5=md5.hexdigest())

    def complete() -> Program[TrainingFile]:
        request = backend.complete_upload(
            final.upload_id, part_ids=final.ordered_part_ids(), md5=final.md5
        )
        completed: UploadSession = yield request
        return _completed_file(completed)

    file = yield CallOnce(Nested(complete), find, policy)
    hashed = replace(digest, md5=final.md5)
    return UploadResult(file, hashed, reused=False, via="uploads", state=final)


def upload_file(
    backend: Backend,
    path: str | Path,
    *,
    retry: RetryPolicy | int | None = None,
    purpose: str = "fine-tune",
    reuse: bool = True,
    files_api_limit: int = FILES_API_LIMIT,
    part_size: int = MAX_PART_SIZE,
    concurrency: int = 4,
    state: UploadState | None = None,
    on_state: StateCallback | None = None,
    progress: ProgressCallback | None = None,
    wall_clock: Callable[[], float] = time.time,
) -> UploadResult:
    """Upload a training file once, reusing identical content already uploaded.

    Args:
        backend: where to upload.
        path: the JSONL file.
        retry: the policy for every call (each part retried on its own).
        purpose: the file purpose.
        reuse: look for an identical file first.
        files_api_limit: files up to this size go through ``files.create``.
        part_size: bytes per Uploads API part (at most 64 MiB).
        concurrency: parts in flight at once.
        state: a saved :class:`UploadState` to resume.
        on_state: receives every new :class:`UploadState` (persist it).
        progress: ``progress(bytes_sent, total_bytes)``.
        wall_clock: Unix time, to judge an upload's expiry.

    Returns:
        An :class:`UploadResult`; ``result.file.id`` goes into the job.

    Raises:
        UsageError: invalid sizes or concurrency.
        OSError: the file cannot be read.
        ftkit.APIError: a final API failure; ftkit.RetryExhausted when retries ran out.
    """
    return run(uploading(UploadRequest.checked(**locals())))  # the arguments, as given


@parameters_of(upload_file)
async def aupload_file(**arguments: Any) -> UploadResult:
    """The awaitable twin of :func:`upload_file` (parts run as concurrent tasks)."""
    return await arun(uploading(UploadRequest.checked(**arguments)))
