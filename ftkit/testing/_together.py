"""Together AI's dialect: ``FakeFineTuningAPI(provider="together")``.

The fake speaks what the together SDK 3.1.1 sends (``together.Together``, whose
``base_url`` is an origin; every path starts with ``/v1/``): files uploaded in three
steps (a 302 to a presigned URL, a ``PUT``, ``preprocess``) and validated over
virtual time, fine-tuning jobs (``/v1/fine-tunes``) moving ``pending``, ``queued``,
``running``, ``compressing``, ``uploading``, ``completed`` on the fake's clock, their
events, checkpoints, metrics and weights, price estimates, model limits, and Chat
Completions of the base models and of completed jobs' ``model_output_name``.

Two surfaces: the API (``_together_routes.API``) and the storage behind the
presigned upload URLs (``_together_routes.UPLOADS``), which an in-process fake signs on
a host of its own (``https://fake-together-uploads.invalid``) and a served fake on its
own origin; the ``PUT`` carries no API key (the URL's signature is the credential),
as on the real storage.

Ids are ``ft-<uuid>`` and ``file-<uuid>``; a job's model is
``<account>/<base model's name>-<suffix>-<6 hex>`` (the account is ``org_name``; the
spelling is unconfirmed, Together's own examples differ). Keys are bearer tokens:
any non-empty one unless ``api_keys`` names them; a wrong one gets 401
``invalid_api_key`` in Together's envelope (``{"error": {message, type, param,
code}}``, OpenAI's), never quoting it. The base models are the catalog's
``together`` entries (``ftkit/providers/together.json``).
"""

from __future__ import annotations

import random
import uuid

import httpx2

from .._exceptions import UsageError
from ..providers import ModelInfo, models
from ._auth import KeyCheck, presented_key
from ._clients import IN_PROCESS_TOGETHER_BASE_URL
from ._config import Limits
from ._core import OPENAI_NAMING, Core, WireError
from ._dialect import ClientSpec, Dialect, Surface
from ._job_record import JobRecord
from ._service import FakeService
from ._together_files import FileExists
from ._together_routes import API, UPLOADS, UPLOADS_PATH
from ._together_shapes import file_object, job_object
from ._uploads import UploadRecord
from ._wire import error_response, json_response

__all__ = ["TOGETHER", "TOGETHER_LIMITS", "TOGETHER_NAMING"]

_MISSING_KEY = "Authentication required: send your API key as Authorization: Bearer <key>."
_WRONG_KEY = (
    "Invalid API key provided. You can find your API key at "
    "https://api.together.ai/settings/api-keys."
)
_ID_PREFIXES = {"ftjob-": "ft-", "file-": "file-"}


class _TogetherNaming:
    """Together's spelling: ``ft-<uuid>``, ``file-<uuid>``, ``<account>/<base>-<suffix>-<hex>``."""

    def new_id(self, rng: random.Random, prefix: str, length: int) -> str:
        together = _ID_PREFIXES.get(prefix)
        if together is None:
            return OPENAI_NAMING.new_id(rng, prefix, length)
        return f"{together}{uuid.UUID(int=rng.getrandbits(128), version=4)}"

    def fine_tuned_model(
        self, rng: random.Random, *, base: str, org_name: str, suffix: str | None, job_id: str
    ) -> str:
        name = base.rsplit("/", 1)[-1]
        if suffix:
            name += f"-{suffix}"
        return f"{org_name}/{name}-{rng.getrandbits(24):06x}"


TOGETHER_NAMING = _TogetherNaming()

TOGETHER_LIMITS = Limits(suffix_chars=40)
"""OpenAI's limits but suffixes of up to 40 characters (``FinetuneRequest.suffix``)."""


# ------------------------------------------------------------------ the URLs
def _api_claim(url: httpx2.URL) -> str | None:
    path = url.path.rstrip("/") or "/"
    if path == "/v1" or path.startswith("/v1/"):
        return path[len("/v1") :] or "/"
    return None


def _uploads_claim(url: httpx2.URL) -> str | None:
    if url.path.startswith(UPLOADS_PATH):
        return "/" + url.path[len(UPLOADS_PATH) :]
    return None


def _refuse(url: httpx2.URL) -> WireError:
    return WireError(
        404,
        f"Not found ({url.path}): a Together AI fake serves /v1/... (together.Together's "
        "base_url is the origin, without /v1).",
    )


# ------------------------------------------------------------ keys and errors
def _check_key(keys: KeyCheck, request: httpx2.Request) -> None:
    key = presented_key(request, azure=False)
    if key is None:
        raise WireError(401, _MISSING_KEY, code="invalid_api_key")
    if keys.keys is not None and key not in keys.keys:
        raise WireError(401, _WRONG_KEY, code="invalid_api_key")


def _signed_url(keys: KeyCheck, request: httpx2.Request) -> None:
    """The upload URL's signature is its credential; its handler checks it."""


def _error(error: WireError) -> httpx2.Response:
    """``ErrorData``; a 409 on an upload also names the existing ``file_id`` (the SDK reads it)."""
    if isinstance(error, FileExists):
        return json_response(
            error.status, {**error.body(), "file_id": error.file_id}, headers=error.headers
        )
    return error_response(error)


def _headers(core: Core) -> dict[str, str]:
    return {}


# -------------------------------------------------------------- the service
_FALLBACK_MODELS = (
    # Used only while the catalog has no ``together`` table (it ships
    # ftkit/providers/together.json): two of Together's documented fine-tunable models.
    ModelInfo(
        name="meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",
        provider="together",
        methods=frozenset({"sft", "dpo"}),
        example_limits={"sft": 131072, "dpo": 16384},
        fine_tunable=True,
    ),
    ModelInfo(
        name="Qwen/Qwen3-8B",
        provider="together",
        methods=frozenset({"sft", "dpo"}),
        example_limits={"sft": 32768, "dpo": 16384},
        fine_tunable=True,
    ),
)


def _models() -> tuple[ModelInfo, ...]:
    """The catalog's ``together`` entries (a small built-in pair before it has any)."""
    try:
        found = models("together")
    except UsageError:
        return _FALLBACK_MODELS
    return found or _FALLBACK_MODELS


def _configure(service: FakeService) -> None:
    service.models.no_new_jobs = None  # OpenAI's end of new jobs is not Together's


def _show_job(job: JobRecord) -> dict[str, object]:
    return job_object(job)


def _show_upload(upload: UploadRecord) -> dict[str, object]:
    return upload.to_api()  # Together has no Uploads API; never reached through it


API_SURFACE = Surface(
    name="together",
    handlers=API,
    claim=_api_claim,
    check_key=_check_key,
    error=_error,
    headers=_headers,
    show_job=_show_job,
    show_file=file_object,
    show_upload=_show_upload,
)
"""Together AI's API at ``/v1/...`` (``together.Together``)."""

UPLOADS_SURFACE = Surface(
    name="uploads",
    handlers=UPLOADS,
    claim=_uploads_claim,
    check_key=_signed_url,
    error=_error,
    headers=_headers,
    show_job=_show_job,
    show_file=file_object,
    show_upload=_show_upload,
)
"""The storage behind the presigned upload URLs (no client of its own)."""

TOGETHER = Dialect(
    name="together",
    surfaces=(API_SURFACE, UPLOADS_SURFACE),
    clients={
        "together": ClientSpec(
            "Together", "AsyncTogether", {"base_url": IN_PROCESS_TOGETHER_BASE_URL}
        )
    },
    refuse=_refuse,
    models=_models,
    addresses=lambda origin: {"base_url": origin},
    naming=TOGETHER_NAMING,
    limits=TOGETHER_LIMITS,
    configure=_configure,
    client_key="tgp_v1_fake-not-a-real-key",
)
"""The Together AI fake: ``FakeFineTuningAPI(provider="together")``."""
