"""Azure OpenAI's dialect: ``FakeFineTuningAPI(provider="azure")``.

One Azure OpenAI resource, two APIs over the same files, jobs and models
(``_azure_routes``):

- the **dated** API, ``openai.AzureOpenAI(azure_endpoint=..., api_version=...)``:
  ``/openai/<path>?api-version=<date>`` (any non-empty version is served; the
  fake's clients send ``2025-04-01-preview``);
- the **v1** API, ``openai.OpenAI(base_url="<endpoint>/openai/v1/")``, also under a
  Foundry project's ``/api/projects/<name>/openai/v1/``; its ``api-version`` is
  optional and only ``v1`` or ``preview`` (an ``openai.AzureOpenAI`` pointed at it sends
  a date and gets a 400, as Microsoft's notes describe).

Both take the key in the ``api-key`` header or as a bearer token (an Entra ID
token). Azure spells ids ``ftjob-<32 hex>``, ``file-<32 hex>`` and fine-tuned
models ``<base>.ft-<job hex>[-<suffix>]``; uploads may hold 9 GB and expire after
two hours. Refusals carry Azure's error envelope (``{"error": {"code",
"message"}}``, with ``param`` where the openai SDK reads it), 401s the API
gateway's words. The base models are the model catalog's ``azure`` entries.

A second host (the management plane, for deployments) is one more
:class:`~ftkit.testing._dialect.Surface` in :data:`AZURE`'s ``surfaces``, claiming
its own URLs.
"""

from __future__ import annotations

import random
import re
import uuid
from typing import Any

import httpx2

from .._exceptions import UsageError
from ..providers import ModelInfo, models
from ._auth import KeyCheck, presented_key
from ._azure_routes import DATED, V1
from ._azure_shapes import dated_file, dated_job, dated_upload, v1_job
from ._clients import DEFAULT_AZURE_API_VERSION, IN_PROCESS_AZURE_ENDPOINT
from ._config import GiB, Limits
from ._core import OPENAI_NAMING, Core, WireError, bad_request
from ._dialect import ClientSpec, Dialect, Surface
from ._files import FileRecord
from ._service import FakeService
from ._uploads import UploadRecord
from ._wire import json_response

__all__ = ["AZURE", "AZURE_LIMITS", "AZURE_NAMING"]

V1_PATH = "/openai/v1/"
_V1 = re.compile(r"^(?:/api/projects/[^/]+)?/openai/v1(?=/|$)")
_V1_API_VERSIONS = frozenset({"v1", "preview"})

# The API gateway's 401 answers (Azure API Management), which Azure OpenAI sends as
# ``{"error": {"code": "401", "message": ...}}``; the key is never quoted.
_MISSING_KEY = (
    "Access denied due to missing subscription key. Make sure to include subscription "
    "key when making requests to an API."
)
_WRONG_KEY = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
    "provide a valid key for an active subscription and use a correct regional API "
    "endpoint for your resource."
)

# ``ErrorCode`` of the dated spec (Microsoft REST guidelines), for refusals the stores
# raise without a code of their own; 401 is the gateway's.
_CODES = {
    400: "invalidPayload",
    401: "401",
    403: "forbidden",
    404: "notFound",
    409: "conflict",
    422: "invalidPayload",
    429: "tooManyRequests",
    500: "internalFailure",
    503: "serviceUnavailable",
}


# The fake's id prefixes whose Azure ids are ``<prefix><32 lowercase hex>`` (a UUID's hex).
_HEX_IDS = {"file-": "file-", "ftjob-": "ftjob-", "ftevent-": "ftevent-", "ftckpt_": "ftchkpt-"}


class _AzureNaming:
    """Azure's spelling: UUID-like ids, ``<base>.ft-<job hex>[-<suffix>]`` models."""

    def new_id(self, rng: random.Random, prefix: str, length: int) -> str:
        hexed = _HEX_IDS.get(prefix)
        if hexed is None:
            return OPENAI_NAMING.new_id(rng, prefix, length)
        return f"{hexed}{rng.getrandbits(128):032x}"

    def fine_tuned_model(
        self, rng: random.Random, *, base: str, org_name: str, suffix: str | None, job_id: str
    ) -> str:
        name = f"{base}.ft-{job_id.removeprefix('ftjob-')}"
        return f"{name}-{suffix}" if suffix else name


AZURE_NAMING = _AzureNaming()

AZURE_LIMITS = Limits(upload_bytes=9 * GiB, upload_expiry=2 * 3600.0)
"""OpenAI's limits, but uploads of up to 9 GB that expire two hours after creation."""


# ------------------------------------------------------------------ the URLs
def _dated_claim(url: httpx2.URL) -> str | None:
    path = url.path.rstrip("/") or "/"
    if _V1.match(path) or not (path == "/openai" or path.startswith("/openai/")):
        return None
    if not url.params.get("api-version"):
        raise bad_request(
            "Missing required query parameter 'api-version'.",
            param="api-version",
            code="missing_api_version",
        )
    return path[len("/openai") :] or "/"


def _v1_claim(url: httpx2.URL) -> str | None:
    path = url.path.rstrip("/") or "/"
    found = _V1.match(path)
    if found is None:
        return None
    version = url.params.get("api-version")
    if version is not None and version not in _V1_API_VERSIONS:
        raise WireError(
            400,
            f"API version not supported: the v1 API takes api-version 'v1' or 'preview' "
            f"(or none), not {version!r}. A dated version goes with /openai/... paths "
            "(openai.AzureOpenAI); the v1 API with openai.OpenAI(base_url='.../openai/v1/').",
            param="api-version",
            code="BadRequest",
        )
    return path[found.end() :] or "/"


def _refuse(url: httpx2.URL) -> WireError:
    return WireError(
        404,
        f"Resource not found ({url.path}): an Azure OpenAI fake serves /openai/... "
        "(?api-version=...) and /openai/v1/...; OpenAI's /v1/... paths are served by "
        "FakeFineTuningAPI(provider='openai').",
        code="404",
    )


# ------------------------------------------------------------ keys and errors
def _check_key(keys: KeyCheck, request: httpx2.Request) -> None:
    key = presented_key(request, azure=True)
    if key is None:
        raise WireError(401, _MISSING_KEY, code="401")
    if not keys.accepts(key, azure=True):
        raise WireError(401, _WRONG_KEY, code="401")


def _code(error: WireError) -> str:
    return error.code or _CODES.get(error.status, str(error.status))


def _dated_error(error: WireError) -> httpx2.Response:
    """``ErrorResponse``: code and message; the field in error as ``target`` and ``param``."""
    body: dict[str, Any] = {"code": _code(error), "message": error.message}
    if error.param is not None:
        body["target"] = error.param
        body["param"] = error.param  # where the openai SDK reads it
    return json_response(error.status, {"error": body}, headers=error.headers)


def _v1_error(error: WireError) -> httpx2.Response:
    """``AzureErrorResponse``: OpenAI's envelope, with a code always."""
    body = {"code": _code(error), "message": error.message, "param": error.param}
    body["type"] = error.type
    return json_response(error.status, {"error": body}, headers=error.headers)


def _headers(core: Core) -> dict[str, str]:
    # Azure's gateway names each answer; drawn from the fake's seeded generator.
    return {"apim-request-id": str(uuid.UUID(int=core.rng.getrandbits(128)))}


# -------------------------------------------------------------- the service
def _models() -> tuple[ModelInfo, ...]:
    """The catalog's ``azure`` entries (none while the catalog has no Azure table)."""
    try:
        return models("azure")
    except UsageError:
        return ()


def _configure(service: FakeService) -> None:
    service.models.no_new_jobs = None  # OpenAI's end of new jobs is not Azure's
    jsonl = service.uploads.mime_by_purpose["fine-tune"]
    # The dated spec's own example starts a fine-tune upload as ``application/json``.
    accepted = jsonl | {"application/json"}
    service.uploads.purposes = frozenset({"fine-tune", "assistants", "batch", "evals"})
    service.uploads.mime_by_purpose = {"fine-tune": accepted, "batch": accepted}


def _addresses(origin: str) -> dict[str, str]:
    return {
        "azure_endpoint": origin,
        "api_version": DEFAULT_AZURE_API_VERSION,
        "v1_base_url": f"{origin}{V1_PATH}",
    }


def _v1_file(record: FileRecord) -> dict[str, Any]:
    return dated_file(record)  # the v1 API's files carry Azure's statuses too


def _v1_upload(upload: UploadRecord) -> dict[str, Any]:
    return dated_upload(upload)


DATED_SURFACE = Surface(
    name="dated",
    handlers=DATED,
    claim=_dated_claim,
    check_key=_check_key,
    error=_dated_error,
    headers=_headers,
    show_job=dated_job,
    show_file=dated_file,
    show_upload=dated_upload,
    azure=True,
)
"""Azure OpenAI's dated API: ``/openai/<path>?api-version=``."""

V1_SURFACE = Surface(
    name="v1",
    handlers=V1,
    claim=_v1_claim,
    check_key=_check_key,
    error=_v1_error,
    headers=_headers,
    show_job=v1_job,
    show_file=_v1_file,
    show_upload=_v1_upload,
    azure=True,
)
"""Azure OpenAI's v1 API: ``/openai/v1/...`` (and Foundry projects' ``.../openai/v1/...``)."""

AZURE = Dialect(
    name="azure",
    surfaces=(DATED_SURFACE, V1_SURFACE),
    clients={
        "dated": ClientSpec("AzureOpenAI", "AsyncAzureOpenAI"),
        "v1": ClientSpec(
            "OpenAI", "AsyncOpenAI", {"base_url": f"{IN_PROCESS_AZURE_ENDPOINT}{V1_PATH}"}
        ),
    },
    refuse=_refuse,
    models=_models,
    addresses=_addresses,
    naming=AZURE_NAMING,
    limits=AZURE_LIMITS,
    configure=_configure,
    client_key="fake-azure-openai-key",
)
"""The Azure OpenAI fake: ``FakeFineTuningAPI(provider="azure")``."""
