"""The fake's request log: what each request was, what it got, and never a credential."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx2

__all__ = ["RecordedRequest", "record"]

# Header names that can carry a credential: never stored, whatever their value.
_SECRET_MARKERS = ("auth", "key", "token", "secret", "cookie", "signature")


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received, without credentials.

    Attributes:
        method: HTTP method.
        path: the URL path as sent (with its ``/v1`` or ``/openai`` prefix).
        route: the SDK method it maps to (``"jobs.create"``), or None for an unknown URL.
        query: the query parameters (repeated keys keep the last value).
        headers: request headers minus anything that can hold a secret
            (``Authorization``, ``api-key``, cookies ...).
        json: the parsed JSON body, or None for multipart and empty bodies.
        body_bytes: the size of the body.
        status: the HTTP status answered, or None when a transport fault was raised.
        fault: the kind of fault that struck this request, if any.
        at: virtual time the request arrived.
        azure: whether it came through an Azure-style path.
        attempt: the openai client's retry count for this request (0 for a first try).
        api: the provider's API surface that served it (``"openai"``; Azure's ``"dated"``
            or ``"v1"``), or None for a URL no surface serves.
    """

    method: str
    path: str
    route: str | None
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    body_bytes: int
    status: int | None
    fault: str | None
    at: float
    azure: bool = False
    attempt: int = field(default=0)
    api: str | None = None


def record(
    request: httpx2.Request,
    *,
    route: str | None,
    status: int | None,
    fault: str | None,
    at: float,
    azure: bool,
    api: str | None = None,
) -> RecordedRequest:
    """The log entry of one request, its secret-bearing headers dropped."""
    headers = {
        k.lower(): v
        for k, v in request.headers.items()
        if not any(marker in k.lower() for marker in _SECRET_MARKERS)
    }
    content = request.content
    parsed: Any = None
    if content and "json" in request.headers.get("content-type", ""):
        try:
            parsed = json.loads(content)
        except ValueError:
            parsed = None
    try:
        attempt = int(request.headers.get("x-stainless-retry-count", "0"))
    except ValueError:
        attempt = 0
    return RecordedRequest(
        method=request.method,
        path=request.url.path,
        route=route,
        query=dict(request.url.params.items()),
        headers=headers,
        json=parsed,
        body_bytes=len(content),
        status=status,
        fault=fault,
        at=at,
        azure=azure,
        attempt=attempt,
        api=api,
    )
