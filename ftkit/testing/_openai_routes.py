"""OpenAI's handler set and dialect: which path is which SDK method, and how it is read.

Paths are matched after the ``/v1`` prefix is removed (a bare path is served
too); Azure OpenAI's ``/openai/...`` paths are not OpenAI's, and a default fake
answers them with a 404 that names ``provider="azure"`` (``_azure`` serves them).
Route names are the openai SDK's method paths without ``fine_tuning.``; they are
what the request log records and what faults target. Each handler reads the
request (query, JSON or multipart) and calls one operation of a resource store.
The request readers here (:func:`file_form`, :func:`files_query`, :func:`upload_body`,
:func:`order`, :func:`metadata_filter`) are shared with Azure's handler sets, which
read the same wire format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Literal, cast

import httpx2

from ._auth import KeyCheck
from ._chat_stream import sse_response, stream_chunks, stream_options
from ._core import Core, WireError, bad_request
from ._dialect import ClientSpec, Dialect, Surface
from ._files import FileRecord
from ._job_record import JobRecord
from ._models import served_models
from ._router import Call, Handler, HandlerSet, route
from ._service import FakeService
from ._uploads import UploadRecord
from ._wire import MultipartField, error_response, json_response

__all__ = [
    "OPENAI",
    "OPENAI_DIALECT",
    "file_form",
    "files_query",
    "metadata_filter",
    "order",
    "upload_body",
]


def _ok(body: Any) -> httpx2.Response:
    return json_response(200, body)


def _by_id(operation: Callable[[FakeService, str], Any]) -> Handler:
    """A handler for ``/resource/{id}`` routes that only need the id."""
    return lambda service, call: _ok(operation(service, call.params["id"]))


# ------------------------------------------------------------------- files
def file_form(call: Call) -> dict[str, Any]:
    """A ``files.create`` multipart body as :meth:`FileStore.create` takes it."""
    form = call.form()
    upload = form.get("file")
    if upload is None or upload.filename is None:
        raise bad_request("Missing required parameter: 'file'.", param="file")
    purpose = form.get("purpose")
    if purpose is None:
        raise bad_request("Missing required parameter: 'purpose'.", param="purpose")
    return {
        "filename": upload.filename,
        "purpose": purpose.text(),
        "content": upload.data,
        "expires_after": _form_expires_after(form),
    }


def _files_create(service: FakeService, call: Call) -> httpx2.Response:
    return _ok(service.files.create(**file_form(call)))


def _form_expires_after(form: dict[str, MultipartField]) -> Any:
    """The ``expires_after`` of a multipart body, in either encoding clients send.

    The openai client sends ``expires_after[anchor]`` and ``expires_after[seconds]``
    fields; OpenAPI's default for an object property of a multipart body (what
    generated clients and schemathesis send) is one JSON-encoded ``expires_after``
    field; Azure's spec names them ``expires_after.anchor`` and ``expires_after.seconds``.
    Each is honoured; the JSON field together with separate fields is refused.
    """
    bracketed = {
        key: form[name].text()
        for key in ("anchor", "seconds")
        for name in (f"expires_after[{key}]", f"expires_after.{key}")
        if name in form
    }
    if "expires_after" not in form:
        return bracketed or None
    if bracketed:
        raise bad_request(
            "Give expires_after once: as JSON or as expires_after[...] fields.",
            param="expires_after",
        )
    try:
        return json.loads(form["expires_after"].text())
    except (UnicodeDecodeError, ValueError):
        raise bad_request("expires_after must be a JSON object.", param="expires_after") from None


def order(call: Call, default: Literal["asc", "desc"]) -> Literal["asc", "desc"]:
    """The list's ``order`` query (``asc`` or ``desc``), or a 400."""
    order = call.query.get("order", default)
    if order not in ("asc", "desc"):
        raise bad_request("order must be 'asc' or 'desc'.", param="order")
    return cast(Literal["asc", "desc"], order)


def files_query(call: Call) -> dict[str, Any]:
    """A ``files.list`` query as :meth:`FileStore.list_files` takes it."""
    return {
        "after": call.query.get("after"),
        "limit": call.limit(10_000, 10_000),
        "order": order(call, "desc"),
        "purpose": call.query.get("purpose"),
    }


def _files_list(service: FakeService, call: Call) -> httpx2.Response:
    return _ok(service.files.list_files(**files_query(call)))


def _files_content(service: FakeService, call: Call) -> httpx2.Response:
    content = service.files.content(call.params["id"])
    return httpx2.Response(
        200, headers={"content-type": "application/octet-stream"}, content=content
    )


# ----------------------------------------------------------------- uploads
def upload_body(call: Call) -> dict[str, Any]:
    """An ``uploads.create`` JSON body as :meth:`UploadStore.create` takes it."""
    body = call.json()
    return {
        "declared": body.get("bytes"),
        "filename": body.get("filename"),
        "mime_type": body.get("mime_type"),
        "purpose": body.get("purpose"),
        "expires_after": body.get("expires_after"),
    }


def _uploads_create(service: FakeService, call: Call) -> httpx2.Response:
    return _ok(service.uploads.create(**upload_body(call)))


def _uploads_part(service: FakeService, call: Call) -> httpx2.Response:
    data = call.form().get("data")
    if data is None:
        raise bad_request("Missing required parameter: 'data'.", param="data")
    return _ok(service.uploads.add_part(call.params["id"], data.data))


def _uploads_complete(service: FakeService, call: Call) -> httpx2.Response:
    body = call.json()
    return _ok(service.uploads.complete(call.params["id"], body.get("part_ids"), body.get("md5")))


# -------------------------------------------------------------------- jobs
def _jobs_create(service: FakeService, call: Call) -> httpx2.Response:
    return _ok(service.jobs.create(call.json()))


def metadata_filter(call: Call) -> tuple[dict[str, str] | None, bool]:
    """A list's ``metadata`` query filter: the wanted pairs, and whether ``metadata=null``."""
    metadata: dict[str, str] = {}
    null_metadata = False
    for key, value in call.query.multi_items():
        # The spec's ``metadata`` query parameter is a deepObject of strings
        # (``metadata[k]=v``) or the literal ``metadata=null``; anything else
        # (``metadata[a][b]=v``, ``metadata=x``) is refused rather than ignored.
        found = re.fullmatch(r"metadata\[([^\[\]]+)\]", key)
        if found:
            metadata[found.group(1)] = value
        elif key == "metadata" and value == "null":
            null_metadata = True
        elif key == "metadata" or key.startswith("metadata["):
            raise bad_request(
                f"Invalid metadata filter {key}={value!r}: use metadata[key]=value "
                "(string values, not nested) or metadata=null.",
                param="metadata",
            )
    if null_metadata and metadata:
        raise bad_request(
            "Do not combine metadata=null with metadata[k]=v filters.", param="metadata"
        )
    return metadata or None, null_metadata


def _jobs_list(service: FakeService, call: Call) -> httpx2.Response:
    metadata, null_metadata = metadata_filter(call)
    return _ok(
        service.jobs.list_jobs(
            after=call.query.get("after"),
            limit=call.limit(20, 100),
            metadata=metadata,
            null_metadata=null_metadata,
        )
    )


def _jobs_events(service: FakeService, call: Call) -> httpx2.Response:
    return _ok(
        service.jobs.list_events(
            call.params["id"], after=call.query.get("after"), limit=call.limit(20, 100)
        )
    )


def _jobs_checkpoints(service: FakeService, call: Call) -> httpx2.Response:
    return _ok(
        service.jobs.list_checkpoints(
            call.params["id"], after=call.query.get("after"), limit=call.limit(10, 100)
        )
    )


# ------------------------------------------------- checkpoint permissions
def _permissions_create(service: FakeService, call: Call) -> httpx2.Response:
    service.tick()
    return _ok(service.permissions.create(call.params["checkpoint"], call.json()))


def _permissions_list(service: FakeService, call: Call) -> httpx2.Response:
    service.tick()
    return _ok(
        service.permissions.list_permissions(
            call.params["checkpoint"],
            after=call.query.get("after"),
            limit=call.limit(10, 100),
            order=call.query.get("order", "descending"),
            project_id=call.query.get("project_id"),
        )
    )


def _permissions_delete(service: FakeService, call: Call) -> httpx2.Response:
    service.tick()
    return _ok(service.permissions.delete(call.params["checkpoint"], call.params["id"]))


# -------------------------------------------------------------- inference
def _chat_completions(service: FakeService, call: Call) -> httpx2.Response:
    body = call.json()
    streaming = stream_options(body)
    # Azure addresses a deployment in the path; the fake names deployments after models.
    completion = service.chat.complete(body, deployment=call.params.get("deployment"))
    completion = service.stored.keep(body, completion)
    service.core.rate_limits.tokens.spend(completion["usage"]["total_tokens"], service.core.now())
    if streaming is None:
        return _ok(completion)
    return sse_response(stream_chunks(completion, streaming))


def _stored_list(service: FakeService, call: Call) -> httpx2.Response:
    metadata, null_metadata = metadata_filter(call)
    return _ok(
        service.stored.list_completions(
            model=call.query.get("model"),
            metadata=metadata,
            null_metadata=null_metadata,
            after=call.query.get("after"),
            limit=call.limit(20, 100),
            order=order(call, "asc"),
        )
    )


def _stored_update(service: FakeService, call: Call) -> httpx2.Response:
    body = call.json()
    if "metadata" not in body:
        raise bad_request("Missing required parameter: 'metadata'.", param="metadata")
    return _ok(service.stored.update(call.params["id"], body["metadata"]))


def _stored_messages(service: FakeService, call: Call) -> httpx2.Response:
    return _ok(
        service.stored.list_messages(
            call.params["id"],
            after=call.query.get("after"),
            limit=call.limit(20, 100),
            order=order(call, "asc"),
        )
    )


def _models_list(service: FakeService, call: Call) -> httpx2.Response:
    return _ok(service.models.list_models())


def _claim(url: httpx2.URL) -> str | None:
    """The route path of an OpenAI URL (``/v1/...``, or bare); None for Azure's ``/openai/...``."""
    path = url.path.rstrip("/") or "/"
    if path == "/openai" or path.startswith("/openai/"):
        return None
    if path == "/v1" or path.startswith("/v1/"):
        return path[len("/v1") :] or "/"
    return path


def _refuse(url: httpx2.URL) -> WireError:
    return WireError(
        404,
        f"Invalid URL ({url.path}): this fake speaks OpenAI's API (provider='openai'); "
        "Azure OpenAI's /openai/... paths are served by FakeFineTuningAPI(provider='azure').",
    )


def _check_key(keys: KeyCheck, request: httpx2.Request) -> None:
    keys.check(request, azure=False)


def _headers(core: Core) -> dict[str, str]:
    return {"openai-organization": core.org}


_PERMISSIONS = "/fine_tuning/checkpoints/{checkpoint}/permissions"

OPENAI = HandlerSet(
    routes=(
        route("files.create", "POST /files", _files_create),
        route("files.list", "GET /files", _files_list),
        route("files.retrieve", "GET /files/{id}", _by_id(lambda s, i: s.files.retrieve(i))),
        route("files.delete", "DELETE /files/{id}", _by_id(lambda s, i: s.files.delete(i))),
        route("files.content", "GET /files/{id}/content", _files_content),
        route("uploads.create", "POST /uploads", _uploads_create),
        route("uploads.parts.create", "POST /uploads/{id}/parts", _uploads_part),
        route("uploads.complete", "POST /uploads/{id}/complete", _uploads_complete),
        route(
            "uploads.cancel", "POST /uploads/{id}/cancel", _by_id(lambda s, i: s.uploads.cancel(i))
        ),
        route("jobs.create", "POST /fine_tuning/jobs", _jobs_create),
        route("jobs.list", "GET /fine_tuning/jobs", _jobs_list),
        route(
            "jobs.retrieve", "GET /fine_tuning/jobs/{id}", _by_id(lambda s, i: s.jobs.retrieve(i))
        ),
        *(
            route(f"jobs.{verb}", f"POST /fine_tuning/jobs/{{id}}/{verb}", _by_id(operation))
            for verb, operation in (
                ("cancel", lambda s, i: s.jobs.cancel(i)),
                ("pause", lambda s, i: s.jobs.pause(i)),
                ("resume", lambda s, i: s.jobs.resume(i)),
            )
        ),
        route("jobs.list_events", "GET /fine_tuning/jobs/{id}/events", _jobs_events),
        route("jobs.checkpoints.list", "GET /fine_tuning/jobs/{id}/checkpoints", _jobs_checkpoints),
        *(
            route(f"checkpoints.permissions.{name}", f"{verb} {path}", handler)
            for name, verb, path, handler in (
                ("create", "POST", _PERMISSIONS, _permissions_create),
                ("retrieve", "GET", _PERMISSIONS, _permissions_list),
                ("delete", "DELETE", f"{_PERMISSIONS}/{{id}}", _permissions_delete),
            )
        ),
        route("chat.completions.create", "POST /chat/completions", _chat_completions),
        route("chat.completions.list", "GET /chat/completions", _stored_list),
        route(
            "chat.completions.retrieve",
            "GET /chat/completions/{id}",
            _by_id(lambda s, i: s.stored.retrieve(i)),
        ),
        route("chat.completions.update", "POST /chat/completions/{id}", _stored_update),
        route(
            "chat.completions.delete",
            "DELETE /chat/completions/{id}",
            _by_id(lambda s, i: s.stored.delete(i)),
        ),
        route(
            "chat.completions.messages.list",
            "GET /chat/completions/{id}/messages",
            _stored_messages,
        ),
        route("models.list", "GET /models", _models_list),
        route("models.retrieve", "GET /models/{id}", _by_id(lambda s, i: s.models.retrieve(i))),
        route("models.delete", "DELETE /models/{id}", _by_id(lambda s, i: s.models.delete(i))),
    ),
)
"""Every route of OpenAI's API the fake serves."""

OPENAI_SURFACE = Surface(
    name="openai",
    handlers=OPENAI,
    claim=_claim,
    check_key=_check_key,
    error=error_response,
    headers=_headers,
    show_job=JobRecord.to_api,
    show_file=FileRecord.to_api,
    show_upload=UploadRecord.to_api,
)
"""OpenAI's API at ``/v1`` (``openai.OpenAI``)."""

OPENAI_DIALECT = Dialect(
    name="openai",
    surfaces=(OPENAI_SURFACE,),
    clients={"openai": ClientSpec("OpenAI", "AsyncOpenAI")},
    refuse=_refuse,
    models=served_models,
    addresses=lambda origin: {"base_url": f"{origin}/v1"},
)
"""The OpenAI fake: ``FakeFineTuningAPI()`` / ``provider="openai"``."""
