"""Uploading a training file through a presigned URL, as Together AI takes files.

Three requests make one file: ``start_upload`` (Together's ``POST /v1/files``)
creates an empty file record and answers with a presigned URL, the bytes are PUT
there, and ``preprocess_file`` starts the server's validation. Each step is
retried on its own; what makes the whole exactly-once is the file's
content-addressed name (:func:`~ftkit.backend._content.content_filename`):

- a file of that name holding the bytes is reused (its preprocess asked for again
  unless it is processed: an earlier run may have stopped before asking);
- identical content under any name is reused too: Together answers 409 with its id;
- an empty record of that name is what an interrupted or ambiguous start left
  behind: it is deleted before a new start, so no half-made file stays behind and
  none is created twice.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._exceptions import APIError, UsageError
from ..retry import RetryPolicy
from ._program import CallOnce, Local, Nested, Program, Retried
from ._resources import TrainingFile

if TYPE_CHECKING:
    from ._content import FileDigest
    from ._resources import Page
    from ._together import FileTicket

__all__ = ["presigned_uploading"]

logger = logging.getLogger("ftkit.upload")

#: The status of a file a job may name (``_processing.PROCESSED``).
PROCESSED = "processed"


def _named(backend: Any, name: str, policy: RetryPolicy) -> Program[list[TrainingFile]]:
    """Every stored file called ``name`` (Together lists all files at once)."""
    found: list[TrainingFile] = []
    after: str | None = None
    while True:
        page: Page[TrainingFile] = yield Retried(
            backend.list_files(purpose=None, after=after, limit=10000), policy
        )
        found.extend(f for f in page.data if f.filename == name)
        if not page.has_more or page.last_id is None or page.last_id == after:
            return found
        after = page.last_id


def _settling(
    backend: Any, name: str, size: int, policy: RetryPolicy
) -> Program[TrainingFile | None]:
    """The complete file called ``name``, after deleting the empty records of that name."""
    complete: TrainingFile | None = None
    for file in (yield from _named(backend, name, policy)):
        if file.bytes == size and file.status != "error":
            complete = complete or file
        elif not file.bytes:
            logger.info("deleting %s, an upload of %s that never received its bytes", file.id, name)
            yield Retried(backend.delete_file(file.id), policy)
    return complete


def _ready(backend: Any, file: TrainingFile, policy: RetryPolicy) -> Program[TrainingFile]:
    """``file``, its preprocess asked for unless it is processed (or refused) already.

    A reused file may never have been preprocessed (an earlier run stopped between the
    PUT and the preprocess), and a listing need not tell that apart from one being
    processed: asking again is harmless, and an API that refuses a second request
    (400, 409) is taken at its word that the first one stands.
    """
    if file.status in (PROCESSED, "error"):
        return file
    try:
        processed: TrainingFile = yield Retried(backend.preprocess_file(file.id), policy)
    except APIError as exc:
        if exc.status_code not in (400, 409):
            raise
        processed = yield Retried(backend.retrieve_file(file.id), policy)
    return processed


def presigned_uploading(
    backend: Any,
    path: Path,
    digest: FileDigest,
    name: str,
    *,
    retry: RetryPolicy,
    purpose: str,
    reuse: bool,
    limit: int,
) -> Program[tuple[TrainingFile, bool]]:
    """The upload program of an API with presigned uploads (``Traits.presigned_upload``).

    ``backend`` has the presigned steps (``TogetherBackend.start_upload``, ``put_content``,
    ``preprocess_file``), which ``Traits.presigned_upload`` promises. Returns the file,
    and whether it was stored already (reused).
    """
    from ._together import FileTicket

    if digest.size > limit:
        raise UsageError(
            f"{path.name} is {digest.size:,} bytes; ftkit uploads files of up to "
            f"{limit:,} bytes to this API in one piece (its multi-part upload "
            "is not supported yet): split the file"
        )
    # Empty records an interrupted start left behind go in any case; a complete file is
    # reused only when asked to.
    found = yield from _settling(backend, name, digest.size, retry)
    if reuse and found is not None:
        logger.info("reusing uploaded file %s for %s", found.id, path.name)
        ready = yield from _ready(backend, found, retry)
        return ready, True

    def after_ambiguous_start() -> Program[FileTicket | None]:
        # The earlier attempt may have created a record: a complete one is this file's
        # (another process uploaded it meanwhile); an empty one is deleted, and started again.
        never = RetryPolicy.never()
        complete = yield from _settling(backend, name, digest.size, never)
        return FileTicket(file_id=complete.id, existing=True) if complete else None

    start = backend.start_upload(filename=name, sha256=digest.sha256, purpose=purpose)
    ticket: FileTicket = yield CallOnce(start, Nested(after_ambiguous_start), retry)
    if ticket.existing:
        logger.info("%s holds content stored already as %s; reusing it", path.name, ticket.file_id)
        known: TrainingFile = yield Retried(backend.retrieve_file(ticket.file_id), retry)
        ready = yield from _ready(backend, known, retry)
        return ready, True
    assert ticket.url is not None  # a new record always comes with its URL
    content: bytes = yield Local(path.read_bytes)
    yield Retried(backend.put_content(ticket.url, content), retry)
    # As for a reused file: a preprocess resent after a lost answer may be refused.
    stored = TrainingFile(id=ticket.file_id, filename=name, bytes=digest.size, status=None)
    file = yield from _ready(backend, stored, retry)
    return file, False
