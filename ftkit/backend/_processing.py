"""Waiting until the provider has processed an uploaded file, before a job names it.

A new file is not usable at once: OpenAI reports it ``uploaded`` until it is
``processed`` (Azure OpenAI passes through ``pending`` and ``running`` too). A
job created before then was refused with 400 "File ... is not ready" (users'
reports, 2023); OpenAI's guides since say such a job waits for the file. Waiting
first is right under both, and a file the provider could not process fails here,
with its id, rather than as a failed job later.

:func:`processing` is the program that looks at the file until it is processed,
sleeping between looks, and fails clearly when the provider gave up on it
(``error``, or deleted meanwhile). It is one program for both drivers: the
pipeline runs it with ``yield from`` before every job creation.

A provider that reports no status (``TrainingFile.status is None``) is taken
at its word that the file is usable. A refusal's words become findings
(``provider_refused``, one per line the provider names), carried by the error.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from .._exceptions import DatasetError
from ..validation._issues import Issue, Severity
from ._program import Program, Retried, Sleep

if TYPE_CHECKING:
    from ..retry import RetryPolicy
    from ._protocol import Backend
    from ._resources import TrainingFile

__all__ = ["FIRST_LOOK", "LONGEST_WAIT", "PROCESSED", "processing"]

logger = logging.getLogger("ftkit.upload")

PROCESSED = "processed"
"""The status of a file a job may name."""
FAILED = frozenset({"error", "deleting", "deleted"})
"""Statuses from which a file never becomes processed (OpenAI's ``error``; Azure's deletion)."""
FIRST_LOOK = 1.0
"""Seconds before the second look at a file (files take seconds to process)."""
LONGEST_WAIT = 30.0
"""The longest sleep between two looks (the wait doubles from :data:`FIRST_LOOK`)."""


_LINE = re.compile(r"\bline (\d+)\b[:,]?\s*([^;\n]*)", re.IGNORECASE)
_FIX = (
    "fix what the provider names, then run again (ftkit's validator does not know this "
    "rule yet); the refused upload is not trained on"
)


def refusal_issues(details: str | None, filename: str | None) -> tuple[Issue, ...]:
    """A provider's refusal as findings: one per ``line N: ...`` it names, else one for the file."""
    if not details:
        return ()
    located = [
        Issue(
            "provider_refused", Severity.ERROR, int(n), "", why.strip() or details, _FIX, filename
        )
        for n, why in _LINE.findall(details)
    ]
    if located:
        return tuple(located)
    return (Issue("provider_refused", Severity.ERROR, None, "", details, _FIX, filename),)


def processing(
    backend: Backend,
    file: TrainingFile,
    *,
    retry: RetryPolicy,
    sleep: Callable[[float], object] | None = None,
) -> Program[TrainingFile]:
    """Look at ``file`` until the provider reports it processed; return the last look.

    Args:
        backend: where the file is.
        file: the file as last seen (its upload's answer): when it already says
            ``processed`` nothing is sent.
        retry: the policy for each look.
        sleep: ``sleep(seconds)`` between looks (``time.sleep`` / ``asyncio.sleep`` when
            ``None``); may return an awaitable for the async driver.

    Raises:
        DatasetError: the provider could not process the file (``error``) or it is gone.
        ftkit.APIError: a look failed for good.
    """
    delay = FIRST_LOOK
    while file.status is not None and file.status != PROCESSED:
        if file.status in FAILED:
            name = f" ({file.filename})" if file.filename else ""
            # Together's validation report says what it refused (a line, a field).
            why = f": {file.status_details}" if file.status_details else ""
            error = DatasetError(
                f"file {file.id}{name} cannot be used for training: the provider reports it "
                f"{file.status!r}{why}; check it with `ftkit validate FILE` and upload it again"
            )
            error.issues = refusal_issues(file.status_details, file.filename)
            raise error
        logger.info("waiting for file %s to be processed (%s)", file.id, file.status)
        yield Sleep(delay, sleep)
        file = yield Retried(backend.retrieve_file(file.id), retry)
        delay = min(delay * 2, LONGEST_WAIT)
    return file
