"""The URL table of the fake: which path is which SDK method, and how its request is read.

Paths are matched after the prefix is removed: ``/v1`` (OpenAI), ``/openai`` with
``?api-version=`` or ``/openai/v1`` (Azure OpenAI), or none. Route names are the
openai SDK's method paths without ``fine_tuning.``; they are what the request log
records and what faults target.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx2

from ._state import FakeState
from ._wire import MultipartField, WireError, bad_request, json_response, parse_multipart

__all__ = ["ROUTES", "Call", "Route", "match", "split_prefix"]


@dataclass
class Call:
    """One request, as a handler sees it."""

    request: httpx2.Request
    params: dict[str, str]

    @property
    def query(self) -> httpx2.QueryParams:
        return self.request.url.params

    def json(self) -> dict[str, Any]:
        try:
            body = json.loads(self.request.content or b"{}")
        except ValueError:
            raise bad_request(
                "We could not parse the JSON body of your request. (HINT: This likely means "
                "you aren't using your HTTP library correctly.)"
            ) from None
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        return body

    def form(self) -> dict[str, MultipartField]:
        return parse_multipart(self.request.headers.get("content-type", ""), self.request.content)

    def limit(self, default: int, maximum: int) -> int:
        raw = self.query.get("limit")
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise bad_request(
                f"Invalid limit {raw!r}: expected an integer.", param="limit"
            ) from None
        if not 1 <= value <= maximum:
            raise bad_request(f"limit must be between 1 and {maximum}.", param="limit")
        return value


Handler = Callable[[FakeState, Call], httpx2.Response]


@dataclass(frozen=True)
class Route:
    """A method and path pattern bound to a handler; ``write`` marks non-idempotent routes."""

    name: str
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    write: bool


def _ok(body: Any) -> httpx2.Response:
    return json_response(200, body)


def _files_create(state: FakeState, call: Call) -> httpx2.Response:
    form = call.form()
    upload = form.get("file")
    if upload is None or upload.filename is None:
        raise bad_request("Missing required parameter: 'file'.", param="file")
    purpose = form.get("purpose")
    if purpose is None:
        raise bad_request("Missing required parameter: 'purpose'.", param="purpose")
    expires: dict[str, Any] | None = None
    if "expires_after[anchor]" in form or "expires_after[seconds]" in form:
        expires = {
            "anchor": form["expires_after[anchor]"].text()
            if "expires_after[anchor]" in form
            else None,
            "seconds": form["expires_after[seconds]"].text()
            if "expires_after[seconds]" in form
            else None,
        }
    return _ok(
        state.create_file(
            filename=upload.filename,
            purpose=purpose.text(),
            content=upload.data,
            expires_after=expires,
        )
    )


def _files_list(state: FakeState, call: Call) -> httpx2.Response:
    order = call.query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise bad_request("order must be 'asc' or 'desc'.", param="order")
    return _ok(
        state.list_files(
            after=call.query.get("after"),
            limit=call.limit(10_000, 10_000),
            order=order,
            purpose=call.query.get("purpose"),
        )
    )


def _files_content(state: FakeState, call: Call) -> httpx2.Response:
    content = state.file_content(call.params["id"])
    return httpx2.Response(
        200, headers={"content-type": "application/octet-stream"}, content=content
    )


def _uploads_create(state: FakeState, call: Call) -> httpx2.Response:
    body = call.json()
    return _ok(
        state.create_upload(
            declared=body.get("bytes"),
            filename=body.get("filename"),
            mime_type=body.get("mime_type"),
            purpose=body.get("purpose"),
        )
    )


def _uploads_part(state: FakeState, call: Call) -> httpx2.Response:
    data = call.form().get("data")
    if data is None:
        raise bad_request("Missing required parameter: 'data'.", param="data")
    return _ok(state.add_part(call.params["id"], data.data))


def _uploads_complete(state: FakeState, call: Call) -> httpx2.Response:
    body = call.json()
    return _ok(state.complete_upload(call.params["id"], body.get("part_ids"), body.get("md5")))


def _jobs_list(state: FakeState, call: Call) -> httpx2.Response:
    metadata: dict[str, str] = {}
    null_metadata = False
    for key, value in call.query.multi_items():
        found = re.fullmatch(r"metadata\[(.+)\]", key)
        if found:
            metadata[found.group(1)] = value
        elif key == "metadata" and value == "null":
            null_metadata = True
    if null_metadata and metadata:
        raise bad_request(
            "Do not combine metadata=null with metadata[k]=v filters.", param="metadata"
        )
    return _ok(
        state.list_jobs(
            after=call.query.get("after"),
            limit=call.limit(20, 100),
            metadata=metadata or None,
            null_metadata=null_metadata,
        )
    )


def _chat_completions(state: FakeState, call: Call) -> httpx2.Response:
    # Azure addresses a deployment in the path; the fake names deployments after models.
    return _ok(state.chat.complete(call.json(), deployment=call.params.get("deployment")))


def _route(name: str, method: str, path: str, handler: Handler) -> Route:
    pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$")
    return Route(name, method, pattern, handler, write=method in ("POST", "DELETE"))


ROUTES: tuple[Route, ...] = (
    _route("files.create", "POST", "/files", _files_create),
    _route("files.list", "GET", "/files", _files_list),
    _route(
        "files.retrieve", "GET", "/files/{id}", lambda s, c: _ok(s.retrieve_file(c.params["id"]))
    ),
    _route(
        "files.delete", "DELETE", "/files/{id}", lambda s, c: _ok(s.delete_file(c.params["id"]))
    ),
    _route("files.content", "GET", "/files/{id}/content", _files_content),
    _route("uploads.create", "POST", "/uploads", _uploads_create),
    _route("uploads.parts.create", "POST", "/uploads/{id}/parts", _uploads_part),
    _route("uploads.complete", "POST", "/uploads/{id}/complete", _uploads_complete),
    _route(
        "uploads.cancel",
        "POST",
        "/uploads/{id}/cancel",
        lambda s, c: _ok(s.cancel_upload(c.params["id"])),
    ),
    _route("jobs.create", "POST", "/fine_tuning/jobs", lambda s, c: _ok(s.create_job(c.json()))),
    _route("jobs.list", "GET", "/fine_tuning/jobs", _jobs_list),
    _route(
        "jobs.retrieve",
        "GET",
        "/fine_tuning/jobs/{id}",
        lambda s, c: _ok(s.retrieve_job(c.params["id"])),
    ),
    _route(
        "jobs.cancel",
        "POST",
        "/fine_tuning/jobs/{id}/cancel",
        lambda s, c: _ok(s.cancel_job(c.params["id"])),
    ),
    _route(
        "jobs.pause",
        "POST",
        "/fine_tuning/jobs/{id}/pause",
        lambda s, c: _ok(s.pause_job(c.params["id"])),
    ),
    _route(
        "jobs.resume",
        "POST",
        "/fine_tuning/jobs/{id}/resume",
        lambda s, c: _ok(s.resume_job(c.params["id"])),
    ),
    _route(
        "jobs.list_events",
        "GET",
        "/fine_tuning/jobs/{id}/events",
        lambda s, c: _ok(
            s.list_events(c.params["id"], after=c.query.get("after"), limit=c.limit(20, 100))
        ),
    ),
    _route(
        "jobs.checkpoints.list",
        "GET",
        "/fine_tuning/jobs/{id}/checkpoints",
        lambda s, c: _ok(
            s.list_checkpoints(c.params["id"], after=c.query.get("after"), limit=c.limit(10, 100))
        ),
    ),
    _route("chat.completions.create", "POST", "/chat/completions", _chat_completions),
    _route(
        "chat.completions.create",
        "POST",
        "/deployments/{deployment}/chat/completions",
        _chat_completions,
    ),
    _route("models.list", "GET", "/models", lambda s, c: _ok(s.list_models())),
    _route(
        "models.retrieve", "GET", "/models/{id}", lambda s, c: _ok(s.retrieve_model(c.params["id"]))
    ),
    _route(
        "models.delete", "DELETE", "/models/{id}", lambda s, c: _ok(s.delete_model(c.params["id"]))
    ),
)
"""Every route the fake serves."""


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


def match(method: str, path: str) -> tuple[Route, dict[str, str]]:
    """The route serving ``method path``.

    Raises:
        WireError: 404 ``Invalid URL`` like the real service for anything else.
    """
    from urllib.parse import unquote

    for route in ROUTES:
        if route.method != method:
            continue
        found = route.pattern.match(path)
        if found:
            return route, {k: unquote(v) for k, v in found.groupdict().items()}
    raise WireError(404, f"Invalid URL ({method} {path})")
