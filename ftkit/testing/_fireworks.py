"""Fireworks AI's dialect: ``FakeFineTuningAPI(provider="fireworks")``.

The fake speaks what the fireworks-ai SDK 1.2.30 sends (``fireworks.Fireworks``, a
Stainless client on httpx whose paths start with ``/v1/``; with an overridden
``base_url``, chat is ``POST /v1/chat/completions`` on the same origin): datasets with
caller-chosen ids uploaded directly or through signed URLs and validated over virtual
time (``_fireworks_datasets``), supervised and DPO jobs with caller-chosen ids moving
``JOB_STATE_CREATING`` ... ``JOB_STATE_COMPLETED`` on the fake's clock, cancel and
resume (``_fireworks_jobs``), the models they produce, deployments and chat
(``_fireworks_serving``). No events or checkpoint endpoints: Fireworks has none.

Resources are account-scoped (``/v1/accounts/{account}/...``, camelCase JSON, full
resource names); the fake has one account, ``org_name`` (``"fake-account"`` by
default), and its clients carry it as ``account_id``. Another account's path is 403
``PERMISSION_DENIED``, except reading Fireworks' base models
(``accounts/fireworks/models/...``: the catalog's ``fireworks`` entries, or a small
built-in list while the catalog has none).

Keys are bearer tokens: any non-empty one unless ``api_keys`` names them; a missing or
wrong one gets 401 ``UNAUTHENTICATED``, never quoting it. Refusals of the control
plane are grpc-gateway's envelope ``{"code": <grpc code>, "message": str,
"details": []}`` at the HTTP status grpc-gateway maps (INVALID_ARGUMENT and
FAILED_PRECONDITION 400, UNAUTHENTICATED 401, PERMISSION_DENIED 403, NOT_FOUND 404,
ALREADY_EXISTS 409, RESOURCE_EXHAUSTED 429, INTERNAL 500, UNAVAILABLE 503). A
duplicate id is answered 409 ``ALREADY_EXISTS`` "<name> already exists": the real
answer to a duplicate create is unconfirmed (the SDK has ``ConflictError`` for 409 and
``Status`` the ``ALREADY_EXISTS`` code). Inference refusals are flat
(``{"message", "param", "code", "type": "error"}``); the storage answers Cloud
Storage's XML errors.

Three surfaces: the control plane (``_fireworks_routes.API``), inference
(``INFERENCE``) and the storage behind the signed URLs (``STORAGE``), which an
in-process fake signs on a host of its own (``https://fake-fireworks-storage.invalid``)
and a served fake on its own origin.
"""

from __future__ import annotations

import random
from typing import Any

import httpx2

from .._exceptions import UsageError
from ..providers import ModelInfo, models
from ._auth import KeyCheck, presented_key
from ._clients import IN_PROCESS_FIREWORKS_BASE_URL
from ._config import Limits, MiB
from ._core import OPENAI_NAMING, Core, WireError
from ._dialect import ClientSpec, Dialect, Surface
from ._files import FileRecord
from ._fireworks_datasets import dataset_object
from ._fireworks_routes import API, INFERENCE, STORAGE
from ._fireworks_shapes import STORAGE_PATH, grpc, grpc_name, grpc_response, job_object
from ._job_record import JobRecord
from ._service import FakeService
from ._uploads import UploadRecord
from ._wire import json_response

__all__ = ["FIREWORKS", "FIREWORKS_LIMITS", "FIREWORKS_NAMING"]

_MISSING_KEY = "missing API key: send it as Authorization: Bearer <key>"
_WRONG_KEY = "invalid API key"


class _FireworksNaming:
    """The fake's own ids, and a job's model kept under an OpenAI-style name inside the fake.

    Fireworks names a job's model ``accounts/{a}/models/<outputModel>``; the shared chat
    and model store recognise a fine-tune by its ``ft:`` name, so inside the fake the
    model is ``ft:<base>:<account>:<outputModel>:fw`` (the job passes ``outputModel`` as
    the store's suffix) and is shown under its Fireworks name.
    """

    def new_id(self, rng: random.Random, prefix: str, length: int) -> str:
        return OPENAI_NAMING.new_id(rng, prefix, length)

    def fine_tuned_model(
        self, rng: random.Random, *, base: str, org_name: str, suffix: str | None, job_id: str
    ) -> str:
        return f"ft:{base}:{org_name}:{suffix or job_id.rsplit('/', 1)[-1]}:fw"


FIREWORKS_NAMING = _FireworksNaming()

FIREWORKS_LIMITS = Limits(file_bytes=150 * MiB)
"""OpenAI's limits but 150 MB for a dataset's direct ``:upload`` (the SDK's docstring)."""


# ------------------------------------------------------------------ the URLs
def _api_claim(url: httpx2.URL) -> str | None:
    if _inference_claim(url) is not None:
        return None
    path = url.path.rstrip("/") or "/"
    if path == "/v1" or path.startswith("/v1/"):
        return path[len("/v1") :] or "/"
    return None


def _inference_claim(url: httpx2.URL) -> str | None:
    path = url.path.rstrip("/")
    if path in ("/v1/chat/completions", "/inference/v1/chat/completions"):
        return "/chat/completions"
    return None


def _storage_claim(url: httpx2.URL) -> str | None:
    if url.path.startswith(STORAGE_PATH):
        return "/" + url.path[len(STORAGE_PATH) :]
    return None


def _refuse(url: httpx2.URL) -> WireError:
    return grpc(
        "NOT_FOUND",
        f"Not Found ({url.path}): a Fireworks AI fake serves /v1/... (fireworks.Fireworks' "
        "base_url is the origin, without /v1).",
    )


# ------------------------------------------------------------ keys and errors
def _check_key(keys: KeyCheck, request: httpx2.Request) -> None:
    key = presented_key(request, azure=False)
    if key is None:
        raise grpc("UNAUTHENTICATED", _MISSING_KEY)
    if keys.keys is not None and key not in keys.keys:
        raise grpc("UNAUTHENTICATED", _WRONG_KEY)


def _signed_url(keys: KeyCheck, request: httpx2.Request) -> None:
    """The URL's signature is its credential; its handler checks it."""


def _inference_error(error: WireError) -> httpx2.Response:
    """Fireworks' inference refusal: ``{"message", "param", "code", "type": "error"}``."""
    body = {
        "message": error.message,
        "param": error.param,
        "code": grpc_name(error),
        "type": "error",
    }
    return json_response(error.status, body, headers=error.headers)


_STORAGE_CODES = {429: "SlowDown", 500: "InternalError", 503: "ServiceUnavailable"}


def _storage_error(error: WireError) -> httpx2.Response:
    """Cloud Storage's XML error body (``<Error><Code>...</Code><Message>...``)."""
    code = error.code or _STORAGE_CODES.get(error.status, "InvalidRequest")
    text = (
        "<?xml version='1.0' encoding='UTF-8'?>"
        f"<Error><Code>{code}</Code><Message>{error.message}</Message></Error>"
    )
    headers = {"content-type": "application/xml; charset=UTF-8", **error.headers}
    return httpx2.Response(error.status, headers=headers, content=text.encode())


def _headers(core: Core) -> dict[str, str]:
    return {}


# -------------------------------------------------------------- the service
_FALLBACK_MODELS = tuple(
    # Used only while the catalog has no ``fireworks`` table: three of Fireworks'
    # fine-tunable base models (their context lengths as Fireworks' model pages give them).
    ModelInfo(
        name=f"accounts/fireworks/models/{name}",
        provider="fireworks",
        methods=frozenset({"sft", "dpo"}),
        example_limits={"sft": context, "dpo": context},
        fine_tunable=True,
    )
    for name, context in (
        ("llama-v3p1-8b-instruct", 131072),
        ("qwen2p5-7b-instruct", 32768),
        ("qwen3-8b", 40960),
    )
)


def _models() -> tuple[ModelInfo, ...]:
    """The catalog's ``fireworks`` entries (a small built-in list before it has any)."""
    try:
        found = models("fireworks")
    except UsageError:
        return _FALLBACK_MODELS
    return found or _FALLBACK_MODELS


def _configure(service: FakeService) -> None:
    service.models.no_new_jobs = None  # OpenAI's end of new jobs is not Fireworks'


def _show_job(job: JobRecord) -> dict[str, Any]:
    return job_object(job)


def _show_file(record: FileRecord) -> dict[str, Any]:
    """A dataset as Fireworks shows it; the shared Trainer's result files as the store does."""
    return dataset_object(record) if "fireworks" in record.options else record.to_api()


def _show_upload(upload: UploadRecord) -> dict[str, Any]:
    return upload.to_api()  # Fireworks has no Uploads API; never reached through it


def _surface(
    name: str,
    handlers: Any,
    claim: Any,
    check_key: Any,
    error: Any,
) -> Surface:
    return Surface(
        name=name,
        handlers=handlers,
        claim=claim,
        check_key=check_key,
        error=error,
        headers=_headers,
        show_job=_show_job,
        show_file=_show_file,
        show_upload=_show_upload,
    )


API_SURFACE = _surface("fireworks", API, _api_claim, _check_key, grpc_response)
"""Fireworks AI's control plane at ``/v1/accounts/...`` (``fireworks.Fireworks``)."""
INFERENCE_SURFACE = _surface("inference", INFERENCE, _inference_claim, _check_key, _inference_error)
"""Fireworks AI's Chat Completions (no client of its own: ``fireworks.Fireworks`` calls it)."""
STORAGE_SURFACE = _surface("storage", STORAGE, _storage_claim, _signed_url, _storage_error)
"""The storage behind the signed URLs (no client of its own)."""

FIREWORKS = Dialect(
    name="fireworks",
    # The control plane first (the default); it leaves chat to the inference surface.
    surfaces=(API_SURFACE, INFERENCE_SURFACE, STORAGE_SURFACE),
    clients={
        "fireworks": ClientSpec(
            "Fireworks", "AsyncFireworks", {"base_url": IN_PROCESS_FIREWORKS_BASE_URL}
        )
    },
    refuse=_refuse,
    models=_models,
    addresses=lambda origin: {"base_url": origin},
    naming=FIREWORKS_NAMING,
    limits=FIREWORKS_LIMITS,
    configure=_configure,
    client_key="fw_fake-not-a-real-key",
)
"""The Fireworks AI fake: ``FakeFineTuningAPI(provider="fireworks")``."""
