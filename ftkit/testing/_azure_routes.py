"""Azure OpenAI's two handler sets: the dated API and the v1 API, over the same stores.

Both read requests as OpenAI's do (the wire format is OpenAI's) and call the
same resource stores, so a job created through one is seen through the other.

The dated API (``/openai/<path>?api-version=``, spec ``2025-04-01-preview``)
answers in Azure's shapes (``_azure_shapes``): creates answer 201 with a
``Location`` header (jobs, files, file imports); a job can be deleted (204); the
job list takes ``after`` and ``limit`` only; it has the Uploads API (9 GB, two
hours) and ``POST /files/import``, and no checkpoint permissions.

The v1 API (``/openai/v1/...``, or a Foundry project's
``/api/projects/<name>/openai/v1/...``) answers in OpenAI's shapes with
Azure's file statuses; creates answer 200; it has no Uploads API, no file
import and no job deletion (404), and its job list takes only ``after`` and
``limit``. Both ignore query parameters they do not take (a ``metadata[...]``
filter, say), as Azure's API gateway does; both take ``trainingType``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2

from ._azure_jobs import (
    DATED_EXTRA_HYPERPARAMETERS,
    check_training_type,
    dated_request,
    invalid_payload,
    take_training_type,
)
from ._azure_shapes import (
    azure_file,
    base_model_object,
    dated_event,
    dated_file,
    dated_job,
    dated_list,
    dated_part,
    dated_upload,
    fine_tuned_model_object,
    v1_job,
)
from ._core import WireError
from ._files import expiry_seconds
from ._job_record import JobRecord
from ._openai_routes import OPENAI, file_form, files_query, upload_body
from ._router import Call, Handler, HandlerSet, Route, route
from ._service import FakeService
from ._wire import json_response

__all__ = ["AZURE_FILE_PURPOSES", "DATED", "V1", "not_found"]

AZURE_FILE_PURPOSES = frozenset({"fine-tune", "assistants", "batch", "evals"})
"""The purposes a client may give a file (the spec's ``Purpose`` less the service's outputs)."""
_EXPIRY_RANGE = (1_209_600, 2_592_000)
"""``expires_after.seconds`` on the dated API: 14 to 30 days."""


def not_found(method: str, path: str) -> WireError:
    """Azure's gateway answer to a path no operation serves."""
    return WireError(404, f"Resource not found ({method} {path})", code="404")


def _ok(body: Any, status: int = 200, *, headers: dict[str, str] | None = None) -> httpx2.Response:
    return json_response(status, body, headers=headers)


def _created(call: Call, collection: str, body: dict[str, Any]) -> httpx2.Response:
    """201 with the ``Location`` of the new item, as the dated API answers a create."""
    url = call.request.url
    location = f"{url.scheme}://{url.netloc.decode('ascii')}/openai{collection}/{body['id']}"
    return _ok(body, 201, headers={"location": location})


def _openai(name: str) -> Handler:
    """OpenAI's handler of route ``name`` (for routes both APIs answer alike)."""
    for candidate in OPENAI.routes:
        if candidate.name == name:
            return candidate.handler
    raise LookupError(name)


def _reroute(name: str, request: str) -> Route:
    """A route serving ``request`` with OpenAI's handler of the same name."""
    return route(name, request, _openai(name))


# ------------------------------------------------------------------- files
def _check_purpose(purpose: Any) -> None:
    if purpose not in AZURE_FILE_PURPOSES:
        raise invalid_payload(
            f"Invalid value for purpose: {purpose!r}. Expected one of "
            f"{', '.join(sorted(AZURE_FILE_PURPOSES))}.",
            param="purpose",
        )


def _dated_expiry(expires_after: Any) -> int | None:
    seconds = expiry_seconds(expires_after)
    low, high = _EXPIRY_RANGE
    if seconds is not None and not low <= seconds <= high:
        raise invalid_payload(
            f"expires_after.seconds must be between {low} and {high}.",
            param="expires_after.seconds",
        )
    return seconds


def _dated_files_create(service: FakeService, call: Call) -> httpx2.Response:
    form = file_form(call)
    _check_purpose(form["purpose"])
    _dated_expiry(form["expires_after"])
    return _created(call, "/files", azure_file(service.files.create(**form)))


def _dated_files_import(service: FakeService, call: Call) -> httpx2.Response:
    body = call.json()
    _check_purpose(body.get("purpose"))
    record = service.imports.import_file(
        purpose=body.get("purpose"),
        filename=body.get("filename"),
        content_url=body.get("content_url"),
        expires_in=_dated_expiry(body.get("expires_after")),
    )
    return _created(call, "/files", dated_file(record))


def _dated_files_list(service: FakeService, call: Call) -> httpx2.Response:
    found = service.files.list_files(**files_query(call))
    # ``FileList`` is ``object`` and ``data`` only.
    return _ok(dated_list([azure_file(f) for f in found["data"]], None))


def _files_retrieve(service: FakeService, call: Call) -> httpx2.Response:
    return _ok(azure_file(service.files.retrieve(call.params["id"])))


def _v1_files_create(service: FakeService, call: Call) -> httpx2.Response:
    form = file_form(call)
    _check_purpose(form["purpose"])
    return _ok(azure_file(service.files.create(**form)))


def _v1_files_list(service: FakeService, call: Call) -> httpx2.Response:
    found = service.files.list_files(**files_query(call))
    return _ok({**found, "data": [azure_file(f) for f in found["data"]]})


# ----------------------------------------------------------------- uploads
def _uploads(operation: Callable[[FakeService, Call], Any]) -> Handler:
    """A dated uploads handler: the store's operation, the upload in Azure's shape."""

    def handler(service: FakeService, call: Call) -> httpx2.Response:
        found = operation(service, call)
        return _ok(dated_upload(service.uploads.get(found["id"])))

    return handler


def _uploads_create(service: FakeService, call: Call) -> Any:
    return service.uploads.create(**upload_body(call))


def _uploads_part(service: FakeService, call: Call) -> httpx2.Response:
    data = call.form().get("data")
    if data is None:
        raise invalid_payload("Missing required parameter: 'data'.", param="data")
    return _ok(dated_part(service.uploads.add_part(call.params["id"], data.data)))


def _uploads_complete(service: FakeService, call: Call) -> Any:
    body = call.json()
    return service.uploads.complete(call.params["id"], body.get("part_ids"), body.get("md5"))


# -------------------------------------------------------------------- jobs
_JOB = "/fine_tuning/jobs/{id}"


def _create_job(service: FakeService, call: Call, *, dated: bool) -> dict[str, Any]:
    body, training_type = take_training_type(call.json())
    if dated:
        body = dated_request(body)
    check_training_type(service, body.get("model"), training_type)
    return service.jobs.create(
        body,
        extra_hyperparameters=DATED_EXTRA_HYPERPARAMETERS if dated else None,
        options={"training_type": training_type},
    )


def _dated_jobs_create(service: FakeService, call: Call) -> httpx2.Response:
    created = _create_job(service, call, dated=True)
    return _created(call, "/fine_tuning/jobs", dated_job(service.jobs.get(created["id"])))


def _v1_jobs_create(service: FakeService, call: Call) -> httpx2.Response:
    created = _create_job(service, call, dated=False)
    return _ok(v1_job(service.jobs.get(created["id"])))


def _jobs_page(service: FakeService, call: Call) -> dict[str, Any]:
    # Only ``after`` and ``limit``: a ``metadata[...]`` filter is ignored, not applied.
    return service.jobs.list_jobs(
        after=call.query.get("after"),
        limit=call.limit(20, 100),
        metadata=None,
        null_metadata=False,
    )


def _dated_jobs_list(service: FakeService, call: Call) -> httpx2.Response:
    found = _jobs_page(service, call)
    jobs = [dated_job(service.jobs.get(j["id"])) for j in found["data"]]
    return _ok(dated_list(jobs, found["has_more"]))


def _v1_jobs_list(service: FakeService, call: Call) -> httpx2.Response:
    found = _jobs_page(service, call)
    return _ok({**found, "data": [v1_job(service.jobs.get(j["id"])) for j in found["data"]]})


def _job(
    operation: Callable[[FakeService, str], Any], shape: Callable[[JobRecord], dict[str, Any]]
) -> Handler:
    """A ``/fine_tuning/jobs/{id}...`` handler: the operation, then the job in ``shape``."""

    def handler(service: FakeService, call: Call) -> httpx2.Response:
        job_id = call.params["id"]
        operation(service, job_id)
        return _ok(shape(service.jobs.get(job_id)))

    return handler


def _job_routes(shape: Callable[[JobRecord], dict[str, Any]]) -> tuple[Route, ...]:
    """Retrieve, cancel, pause and resume, answering with the job in ``shape``."""
    return (
        route("jobs.retrieve", f"GET {_JOB}", _job(lambda s, i: s.jobs.retrieve(i), shape)),
        route("jobs.cancel", f"POST {_JOB}/cancel", _job(lambda s, i: s.jobs.cancel(i), shape)),
        route("jobs.pause", f"POST {_JOB}/pause", _job(lambda s, i: s.jobs.pause(i), shape)),
        route("jobs.resume", f"POST {_JOB}/resume", _job(lambda s, i: s.jobs.resume(i), shape)),
    )


def _dated_jobs_delete(service: FakeService, call: Call) -> httpx2.Response:
    service.jobs.delete(call.params["id"])
    return httpx2.Response(204)


def _dated_events(service: FakeService, call: Call) -> httpx2.Response:
    found = service.jobs.list_events(
        call.params["id"], after=call.query.get("after"), limit=call.limit(20, 100)
    )
    return _ok(dated_list([dated_event(e) for e in found["data"]], found["has_more"]))


def _dated_checkpoints(service: FakeService, call: Call) -> httpx2.Response:
    found = service.jobs.list_checkpoints(
        call.params["id"], after=call.query.get("after"), limit=call.limit(10, 100)
    )
    return _ok(dated_list(found["data"], found["has_more"]))


# ------------------------------------------------------------------ models
def _job_of_models(service: FakeService) -> dict[str, str]:
    """Fine-tuned model (and checkpoint) name -> the id of the job that made it."""
    owners: dict[str, str] = {}
    for job in service.jobs.all():
        owners[job.fine_tuned_name] = job.id
        for checkpoint in job.checkpoints:
            owners[checkpoint["fine_tuned_model_checkpoint"]] = job.id
    return owners


def _dated_model(service: FakeService, model: dict[str, Any], owners: dict[str, str]) -> Any:
    resolved = service.models.resolve(model["id"])
    if resolved is None:  # a fine-tune whose base the fake no longer serves
        return None
    name, info = resolved
    if model["id"] in owners or name != info.name:
        return fine_tuned_model_object(
            model["id"], created=model["created"], base=info, job_id=owners.get(model["id"])
        )
    return base_model_object(info, retired=service.models.retired(info))


def _dated_models_list(service: FakeService, call: Call) -> httpx2.Response:
    service.tick()
    owners = _job_of_models(service)
    found = service.models.list_models()["data"]
    data = [m for m in (_dated_model(service, model, owners) for model in found) if m]
    return _ok(dated_list(data, None))


def _dated_models_retrieve(service: FakeService, call: Call) -> httpx2.Response:
    service.tick()
    model = service.models.retrieve(call.params["id"])
    shown = _dated_model(service, model, _job_of_models(service))
    if shown is None:
        raise not_found("GET", f"/models/{call.params['id']}")
    return _ok(shown)


# ------------------------------------------------------------------ tables
_STORED = (
    _reroute("chat.completions.list", "GET /chat/completions"),
    _reroute("chat.completions.retrieve", "GET /chat/completions/{id}"),
    _reroute("chat.completions.update", "POST /chat/completions/{id}"),
    _reroute("chat.completions.delete", "DELETE /chat/completions/{id}"),
    _reroute("chat.completions.messages.list", "GET /chat/completions/{id}/messages"),
)

DATED = HandlerSet(
    routes=(
        route("files.create", "POST /files", _dated_files_create),
        route("files.import", "POST /files/import", _dated_files_import),
        route("files.list", "GET /files", _dated_files_list),
        route("files.retrieve", "GET /files/{id}", _files_retrieve),
        _reroute("files.delete", "DELETE /files/{id}"),
        _reroute("files.content", "GET /files/{id}/content"),
        route("uploads.create", "POST /uploads", _uploads(_uploads_create)),
        route("uploads.parts.create", "POST /uploads/{id}/parts", _uploads_part),
        route("uploads.complete", "POST /uploads/{id}/complete", _uploads(_uploads_complete)),
        route(
            "uploads.cancel",
            "POST /uploads/{id}/cancel",
            _uploads(lambda s, c: s.uploads.cancel(c.params["id"])),
        ),
        route("jobs.create", "POST /fine_tuning/jobs", _dated_jobs_create),
        route("jobs.list", "GET /fine_tuning/jobs", _dated_jobs_list),
        *_job_routes(dated_job),
        route("jobs.delete", f"DELETE {_JOB}", _dated_jobs_delete),
        route("jobs.list_events", f"GET {_JOB}/events", _dated_events),
        route("jobs.checkpoints.list", f"GET {_JOB}/checkpoints", _dated_checkpoints),
        # Inference addresses a deployment; the fake names deployments after models.
        _reroute("chat.completions.create", "POST /deployments/{deployment}/chat/completions"),
        *_STORED,
        route("models.list", "GET /models", _dated_models_list),
        route("models.retrieve", "GET /models/{id}", _dated_models_retrieve),
    ),
    unknown=not_found,
)
"""Azure OpenAI's dated API (``openai.AzureOpenAI``), as the fake serves it."""

V1 = HandlerSet(
    routes=(
        route("files.create", "POST /files", _v1_files_create),
        route("files.list", "GET /files", _v1_files_list),
        route("files.retrieve", "GET /files/{id}", _files_retrieve),
        _reroute("files.delete", "DELETE /files/{id}"),
        _reroute("files.content", "GET /files/{id}/content"),
        route("jobs.create", "POST /fine_tuning/jobs", _v1_jobs_create),
        route("jobs.list", "GET /fine_tuning/jobs", _v1_jobs_list),
        *_job_routes(v1_job),
        _reroute("jobs.list_events", f"GET {_JOB}/events"),
        _reroute("jobs.checkpoints.list", f"GET {_JOB}/checkpoints"),
        _reroute("chat.completions.create", "POST /chat/completions"),
        *_STORED,
        _reroute("models.list", "GET /models"),
        _reroute("models.retrieve", "GET /models/{id}"),
    ),
    unknown=not_found,
)
"""Azure OpenAI's v1 API (``openai.OpenAI(base_url=".../openai/v1/")``), as the fake serves it."""
