"""Uploading a training file as a dataset whose id the caller chooses, as Fireworks AI takes data.

Fireworks trains on *datasets*, each created under an id of the caller's choosing,
then filled: up to 150 MB in one ``:upload`` request, above that through a signed
URL (``:getUploadEndpoint``, a ``PUT``, ``:validateUpload``). ftkit names the dataset
after the file's content (:func:`dataset_id`), which makes every step exactly-once:

- the create of an id that exists is refused (409): the dataset is read instead;
- a dataset that is ``READY`` holds these bytes already: it is reused;
- one still ``UPLOADING`` is what an interrupted or ambiguous earlier run left (or
  one another process is filling): its bytes are sent again (an upload replaces the
  dataset's content and starts its validation over, so repeating it is safe, at the
  cost of sending the file again), and nothing is created twice;
- one the server refused gets its bytes again too: the refusal may not have been
  about them (a passing server fault, a rule since relaxed), and if it was, the wait
  that follows (:func:`~ftkit.backend._processing.processing`) reports the server's
  reason again.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._exceptions import APIError
from ..retry import RetryPolicy
from ._program import CallOnce, Local, Nested, Program, Retried
from ._traits import traits_of

if TYPE_CHECKING:
    from ._content import FileDigest
    from ._resources import TrainingFile

__all__ = ["count_examples", "dataset_id", "dataset_uploading"]

logger = logging.getLogger("ftkit.upload")


def dataset_id(sha256: str, *, unique: bool = False) -> str:
    """The id a file's dataset is created under: ``ftkit-`` and 32 hex digits of its SHA-256.

    The same bytes give the same id in every process and under every file name, so an
    identical file is stored once. ``unique`` appends random characters: a dataset of
    its own even when the same content is stored (``reuse=False``).
    """
    base = f"ftkit-{sha256[:32]}"
    return f"{base}-{secrets.token_hex(4)}" if unique else base


def count_examples(path: Path) -> int:
    """The examples of a JSONL file, as ``exampleCount`` declares them: its lines.

    The SDK's own ``count_dataset_examples`` counts every line, so ftkit does too (the
    validator reports blank lines before any upload).
    """
    with open(path, "rb") as handle:
        return sum(1 for _ in handle)


def _reading(backend: Any, name: str, policy: RetryPolicy) -> Program[TrainingFile | None]:
    """The dataset ``name``, or ``None`` when there is none (404)."""
    try:
        found: TrainingFile = yield Retried(backend.retrieve_file(name), policy)
    except APIError as exc:
        if exc.status_code == 404:
            return None
        raise
    return found


def dataset_uploading(
    backend: Any,
    path: Path,
    digest: FileDigest,
    display_name: str,
    *,
    retry: RetryPolicy,
    reuse: bool,
    limit: int,
) -> Program[tuple[TrainingFile, bool]]:
    """The upload program of an API whose datasets have caller-chosen ids (``Traits.caller_ids``).

    ``backend`` has the dataset steps (``FireworksBackend.create_dataset``,
    ``upload_dataset``, ``dataset_upload_url``, ``put_dataset``, ``validate_dataset``).
    Files of up to ``limit`` bytes (at most ``Traits.files_api_limit``, 100 MiB, below the
    API's 150 MB) go in one ``:upload`` request, larger ones through a signed URL,
    streamed from disk. Returns the dataset (as a
    :class:`~ftkit.backend.TrainingFile` whose ``id`` is its resource name) and whether
    it was stored already.
    """
    # The API's own ceiling for one ``:upload`` holds whatever the caller asked for.
    limit = min(limit, traits_of(backend).files_api_limit)
    chosen = dataset_id(digest.sha256, unique=not reuse)
    name: str = backend.dataset_name(chosen)
    examples: int = yield Local(count_examples, (path,))
    create = backend.create_dataset(chosen, examples=examples, display_name=display_name)
    find = Nested(lambda: _reading(backend, name, RetryPolicy.never()))
    try:
        dataset: TrainingFile = yield CallOnce(create, find, retry)
        existed = dataset.status != "uploading"  # a lost answer's lookup found it further on
    except APIError as exc:
        if exc.status_code != 409:
            raise
        found = yield from _reading(backend, name, retry)
        if found is None:
            raise
        dataset, existed = found, True
    if dataset.status == "processed":
        # Ready: the same bytes are there (the id is their digest).
        logger.info("reusing dataset %s for %s", name, path.name)
        return dataset, True
    if existed:
        logger.info("dataset %s holds no usable bytes (%s): sending them", name, dataset.status)
    if digest.size <= limit:
        content: bytes = yield Local(path.read_bytes)
        yield Retried(backend.upload_dataset(name, filename=display_name, content=content), retry)
    else:
        url: str = yield Retried(
            backend.dataset_upload_url(name, filename=display_name, size=digest.size), retry
        )
        yield Retried(backend.put_dataset(url, path, size=digest.size), retry)
        yield Retried(backend.validate_dataset(name), retry)
    uploaded: TrainingFile = yield Retried(backend.retrieve_file(name), retry)
    return uploaded, existed
