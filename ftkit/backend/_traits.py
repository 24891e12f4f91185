"""What one provider's API can and cannot do, as the layers above the backend need to know it.

The pipeline, the exactly-once job creation and the uploads are written once;
where APIs differ they read a :class:`Traits` value instead of asking which
provider they talk to (SQLAlchemy's dialect flags, in small). OpenAI keeps job
metadata and filters its job list by it; Azure's dated API keeps no job
metadata at all, so ftkit carries a run token in the suffix instead; Azure's v1
API keeps metadata but cannot filter by it, and has no Uploads API; Together AI
keeps no job metadata either, uploads through a presigned URL and prices a job
before it is created; Fireworks AI lets the caller choose its datasets' and jobs' ids,
which makes the id itself the identity ftkit finds them by, and has no events endpoint.

:func:`traits_of_client` reads them off an openai client: ``openai.AzureOpenAI``
is Azure's dated API; an ``openai.OpenAI`` whose base URL ends in ``/openai/v1``
(an Azure resource or a Foundry project) is Azure's v1 API; any other is OpenAI.
Together's clients are the ``together`` SDK's (:data:`TOGETHER`), Fireworks' the
``fireworks`` SDK's (:data:`FIREWORKS`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "AZURE_DATED",
    "AZURE_V1",
    "FIREWORKS",
    "OPENAI",
    "TOGETHER",
    "Api",
    "Traits",
    "traits_of",
    "traits_of_client",
]

Api = Literal["openai", "azure-v1", "azure-dated", "together", "fireworks"]
"""Which API surface a client speaks: OpenAI's, Azure's v1 or dated API, Together AI's or
Fireworks AI's."""

_MB = 1024 * 1024


@dataclass(frozen=True)
class Traits:
    """One API surface's capabilities and limits (fine-tuning facts; providers facts §1).

    Attributes:
        provider: whose service it is (``"openai"``, ``"azure"``): the catalog's provider.
        api: which surface of it (see :data:`Api`).
        job_metadata: jobs keep the metadata they were created with.
        metadata_filter: the job list can be filtered by metadata on the server.
        max_suffix: the longest suffix a job takes.
        uploads_api: the multi-part Uploads API exists.
        files_api_limit: the largest file ftkit sends in one ``files.create`` request;
            above it the Uploads API is used (or, without one, the file is refused).
        max_file_bytes: the largest training file the API takes at all.
        upload_ttl: seconds a multi-part upload stays open.
        training_types: jobs take a training type (Azure's standard / global / developer).
        file_import: a file can be imported from a URL instead of uploaded.
        presigned_upload: files are uploaded as Together does: the API hands out a
            presigned URL, the bytes are PUT there, then the file is preprocessed
            (instead of ``files.create`` with the content).
        price_estimate: the API prices a job before it is created, with a credit check
            (Together's ``estimate-price``): the pipeline asks before every job.
        job_metrics: training metrics come from a metrics endpoint rather than a
            result file.
        model_limits: the API answers each base model's fine-tuning limits (context
            lengths, vision, tools): the pipeline refreshes the catalog's entry from it.
        caller_ids: datasets and jobs are created under ids the caller chooses (Fireworks):
            a job's id is derived from its identity (``backend.job_name(spec)``) and a
            dataset's from its content, so an earlier create is found by reading that id,
            and a second create of it is refused by the API (409) instead of duplicating.
            Files are then uploaded as datasets (``backend`` has the dataset steps).
        job_events: the API lists a job's events. Without them the adapter tells the
            job's state and progress as events (one per change).
        auto_epochs: the API picks a job's epochs itself when told nothing, by a rule
            ftkit's estimate knows (OpenAI's; Together's 1). Where no source says how
            (Fireworks), the pipeline sends the count its estimate used, so the job
            trains what was priced.
    """

    provider: str
    api: Api
    job_metadata: bool = True
    metadata_filter: bool = True
    max_suffix: int = 64
    uploads_api: bool = True
    files_api_limit: int = 512 * _MB
    max_file_bytes: int = 8 * 1024 * _MB
    upload_ttl: int = 3600  # ``_uploads.UPLOAD_TTL``
    training_types: bool = False
    file_import: bool = False
    presigned_upload: bool = False
    price_estimate: bool = False
    job_metrics: bool = False
    model_limits: bool = False
    caller_ids: bool = False
    job_events: bool = True
    auto_epochs: bool = True

    @property
    def run_token_in_suffix(self) -> bool:
        """Whether ftkit must carry its run token in the suffix (no job metadata, and no
        id of ftkit's choosing to carry the identity instead)."""
        return not self.job_metadata and not self.caller_ids

    def describe(self) -> str:
        """The surface in a user's words, for messages."""
        return _NAMES[self.api]


OPENAI = Traits(provider="openai", api="openai")
"""OpenAI's fine-tuning API: metadata kept and filtered, Uploads up to 8 GB, 1 h to finish."""

AZURE_V1 = Traits(
    provider="azure",
    api="azure-v1",
    metadata_filter=False,  # ``GET /fine_tuning/jobs`` takes only ``after`` and ``limit``
    # The v1 spec allows 64, Microsoft's documentation 40: the lower one never fails late.
    max_suffix=40,
    uploads_api=False,  # no ``/uploads`` on v1 (404 on project endpoints)
    # ``files.create`` reportedly fails silently above ~150 MB, and v1 has no Uploads API.
    files_api_limit=150 * _MB,
    max_file_bytes=150 * _MB,
    training_types=True,
)
"""Azure's v1 API (``openai.OpenAI(base_url=".../openai/v1/")``)."""

AZURE_DATED = Traits(
    provider="azure",
    api="azure-dated",
    job_metadata=False,  # no ``metadata`` on the dated API's jobs
    metadata_filter=False,
    max_suffix=40,
    # Microsoft's guidance: the Files API below 100 MB, the Uploads API above.
    files_api_limit=100 * _MB,
    max_file_bytes=9 * 1024 * _MB,
    upload_ttl=2 * 3600,
    training_types=True,
    file_import=True,  # ``POST /files/import`` with a ``content_url`` (a blob's SAS URL)
)
"""Azure's dated API (``openai.AzureOpenAI(api_version="2025-04-01-preview")``)."""

TOGETHER = Traits(
    provider="together",
    api="together",
    job_metadata=False,  # no metadata, no list filter, no idempotency key
    metadata_filter=False,
    max_suffix=40,
    uploads_api=False,  # its multi-part protocol (above 5 GiB) is its own; not driven yet
    files_api_limit=5 * 1024 * _MB,  # the SDK's MULTIPART_THRESHOLD_GB
    max_file_bytes=5 * 1024 * _MB,
    presigned_upload=True,
    price_estimate=True,
    job_metrics=True,
    model_limits=True,
)
"""Together AI's fine-tuning API (``together.Together()``)."""

FIREWORKS = Traits(
    provider="fireworks",
    api="fireworks",
    job_metadata=False,  # no labels on jobs: the job's id is its identity (``caller_ids``)
    metadata_filter=False,
    # A job id has at most 63 characters, 20 of them ftkit's token (``_jobs.caller_job_id``).
    max_suffix=42,
    uploads_api=False,
    # ``datasets/{id}:upload`` takes up to "150 MB" (the SDK's word: MB or MiB, with or
    # without the multipart framing, is not said): above 100 MiB a file goes to a signed
    # URL, which takes any size, so no file lands near the edge.
    files_api_limit=100 * _MB,
    max_file_bytes=100 * 1024 * _MB,  # no published limit; one signed PUT per file
    caller_ids=True,
    job_events=False,  # progress and state only (``jobProgress``)
    auto_epochs=False,  # no documented default epoch count
)
"""Fireworks AI's fine-tuning API (``fireworks.Fireworks()``)."""

_NAMES: dict[Api, str] = {
    "openai": "OpenAI's API",
    "azure-v1": "Azure OpenAI's v1 API",
    "azure-dated": "Azure OpenAI's dated API (openai.AzureOpenAI)",
    "together": "Together AI's API",
    "fireworks": "Fireworks AI's API",
}


def _is_v1_path(base_url: Any) -> bool:
    path = str(getattr(base_url, "path", "") or "").rstrip("/")
    return path.endswith("/openai/v1")


def traits_of_client(client: Any) -> Traits:
    """The traits of an openai client's API surface (see the module docstring)."""
    import openai  # loaded already: the caller holds a client

    if isinstance(client, (openai.AzureOpenAI, openai.AsyncAzureOpenAI)):
        return AZURE_DATED
    if _is_v1_path(getattr(client, "base_url", None)):
        return AZURE_V1
    return OPENAI


def traits_of(backend: Any) -> Traits:
    """A backend's traits: its own ``traits``, else OpenAI's (a test double, say)."""
    traits = getattr(backend, "traits", None)
    if isinstance(traits, Traits):
        return traits
    provider = getattr(backend, "provider", None)
    if isinstance(provider, str) and provider != OPENAI.provider:
        return dataclasses.replace(OPENAI, provider=provider)
    return OPENAI
