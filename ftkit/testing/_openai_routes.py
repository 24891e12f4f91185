"""The OpenAI (and Azure OpenAI) handler set: which path is which SDK method, and how it is read.

Paths are matched after the prefix is removed: ``/v1`` (OpenAI), ``/openai`` with
``?api-version=`` or ``/openai/v1`` (Azure OpenAI), or none. Route names are the
openai SDK's method paths without ``fine_tuning.``; they are what the request log
records and what faults target. Each handler reads the request (query, JSON or
multipart) and calls one operation of a resource store.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Literal, cast

import httpx2

from ._chat_stream import sse_response, stream_chunks, stream_options
from ._core import bad_request
from ._router import Call, Handler, HandlerSet, route
from ._service import FakeService
from ._wire import MultipartField, json_response

__all__ = ["OPENAI"]


def _ok(body: Any) -> httpx2.Response:
    return json_response(200, body)


def _by_id(operation: Callable[[FakeService, str], Any]) -> Handler:
    """A handler for ``/resource/{id}`` routes that only need the id."""
    return lambda service, call: _ok(operation(service, call.params["id"]))


# ------------------------------------------------------------------- files
def _files_create(service: FakeService, call: Call) -> httpx2.Response:
    form = call.form()
    upload = form.get("file")
    if upload is None or upload.filename is None:
        raise bad_request("Missing required parameter: 'file'.", param="file")
    purpose = form.get("purpose")
    if purpose is None:
        raise bad_request("Missing required parameter: 'purpose'.", param="purpose")
    return _ok(
        service.files.create(
            filename=upload.filename,
            purpose=purpose.text(),
            content=upload.data,
            expires_after=_form_expires_after(form),
        )
    )


def _form_expires_after(form: dict[str, MultipartField]) -> Any:
    """The ``expires_after`` of a multipart body, in either encoding clients send.

    The openai client sends ``expires_after[anchor]`` and ``expires_after[seconds]``
    fields; OpenAPI's default for an object property of a multipart body (what
    generated clients and schemathesis send) is one JSON-encoded ``expires_after``
    field. Both are honoured; both at once is refused.
    """
    bracketed = {
        key: form[f"expires_after[{key}]"].text()
        for key in ("anchor", "seconds")
        if f"expires_after[{key}]" in form
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


def _order(call: Call, default: Literal["asc", "desc"]) -> Literal["asc", "desc"]:
    order = call.query.get("order", default)
    if order not in ("asc", "desc"):
        raise bad_request("order must be 'asc' or 'desc'.", param="order")
    return cast(Literal["asc", "desc"], order)


def _files_list(service: FakeService, call: Call) -> httpx2.Response:
    return _ok(
        service.files.list_files(
            after=call.query.get("after"),
            limit=call.limit(10_000, 10_000),
            order=_order(call, "desc"),
            purpose=call.query.get("purpose"),
        )
    )


def _files_content(service: FakeService, call: Call) -> httpx2.Response:
    content = service.files.content(call.params["id"])
    return httpx2.Response(
        200, headers={"content-type": "application/octet-stream"}, content=content
    )


# ----------------------------------------------------------------- uploads
def _uploads_create(service: FakeService, call: Call) -> httpx2.Response:
    body = call.json()
    return _ok(
        service.uploads.create(
            declared=body.get("bytes"),
            filename=body.get("filename"),
            mime_type=body.get("mime_type"),
            purpose=body.get("purpose"),
            expires_after=body.get("expires_after"),
        )
    )


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


def _metadata_filter(call: Call) -> tuple[dict[str, str] | None, bool]:
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
    metadata, null_metadata = _metadata_filter(call)
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
    metadata, null_metadata = _metadata_filter(call)
    return _ok(
        service.stored.list_completions(
            model=call.query.get("model"),
            metadata=metadata,
            null_metadata=null_metadata,
            after=call.query.get("after"),
            limit=call.limit(20, 100),
            order=_order(call, "asc"),
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
            order=_order(call, "asc"),
        )
    )


def _models_list(service: FakeService, call: Call) -> httpx2.Response:
    return _ok(service.models.list_models())


def split_prefix(url: httpx2.URL) -> tuple[str, bool]:
    """The route path of a URL and whether it came through an Azure-style prefix.

    Raises:
        WireError: 400 for an Azure ``/openai/...`` path without ``api-version``.
    """
    path = url.path.rstrip("/") or "/"
    if path == "/openai/v1" or path.startswith("/openai/v1/"):
        return path[len("/openai/v1") :] or "/", True
    if path == "/openai" or path.startswith("/openai/"):
        if "api-version" not in url.params:
            raise bad_request(
                "Missing required query parameter 'api-version'.",
                param="api-version",
                code="missing_api_version",
            )
        return path[len("/openai") :] or "/", True
    if path == "/v1" or path.startswith("/v1/"):
        return path[len("/v1") :] or "/", False
    return path, False


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
        route(
            "chat.completions.create",
            "POST /deployments/{deployment}/chat/completions",
            _chat_completions,
        ),
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
    split_prefix=split_prefix,
)
"""Every route the OpenAI (and Azure OpenAI) fake serves."""
