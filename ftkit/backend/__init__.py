"""The only layer that talks to a fine-tuning API.

- :class:`Backend` / :class:`AsyncBackend`: the protocol (one request per
  call, ftkit errors only, no retries of its own).
- :class:`OpenAIBackend` / :class:`AsyncOpenAIBackend`: adapters over
  ``openai.OpenAI`` / ``openai.AzureOpenAI`` and their async twins, called
  with ``max_retries=0``.
- :func:`create_job_once`, :func:`find_job`: exactly-once job creation by metadata.
- :func:`upload_file`: content-addressed, resumable upload.
- :func:`translate`: the one mapping from openai exceptions to ftkit's.

Importing this package does not import ``openai``.
"""

from __future__ import annotations

from ._errors import parse_retry_after, redact, translate, translating
from ._jobs import (
    acreate_job_once,
    aensure_trainable,
    afind_job,
    create_job_once,
    ensure_trainable,
    find_job,
    model_retirement,
)
from ._openai import AsyncOpenAIBackend, OpenAIBackend
from ._protocol import AsyncBackend, Backend, JobSpec, Page
from .uploads import (
    FileDigest,
    UploadResult,
    UploadState,
    aupload_file,
    content_filename,
    file_digest,
    find_uploaded,
    upload_file,
)

__all__ = [
    "AsyncBackend",
    "AsyncOpenAIBackend",
    "Backend",
    "FileDigest",
    "JobSpec",
    "OpenAIBackend",
    "Page",
    "UploadResult",
    "UploadState",
    "acreate_job_once",
    "aensure_trainable",
    "afind_job",
    "aupload_file",
    "content_filename",
    "create_job_once",
    "ensure_trainable",
    "file_digest",
    "find_job",
    "find_uploaded",
    "model_retirement",
    "parse_retry_after",
    "redact",
    "translate",
    "translating",
    "upload_file",
]
