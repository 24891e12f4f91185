"""HTTP plumbing of the fake: error bodies, JSON responses and multipart parsing.

Refusals are raised as :class:`~ftkit.testing._core.WireError` anywhere below
the router and turned into the provider's error envelope (``{"error": {message,
type, param, code}}``) here, in one place, so every refusal has the shape the
openai client parses into ``.code``/``.param``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx2

from ._core import WireError, bad_request

__all__ = ["MultipartField", "error_response", "json_response", "parse_multipart"]


def json_response(
    status: int, body: Any, *, headers: dict[str, str] | None = None
) -> httpx2.Response:
    """A JSON response with the content type the openai client expects."""
    data = json.dumps(body, separators=(",", ":")).encode()
    all_headers = {"content-type": "application/json", **(headers or {})}
    return httpx2.Response(status, headers=all_headers, content=data)


def error_response(error: WireError) -> httpx2.Response:
    """The provider's error envelope for a refusal."""
    return json_response(error.status, error.body(), headers=error.headers)


@dataclass
class MultipartField:
    """One part of a ``multipart/form-data`` body."""

    name: str
    data: bytes
    filename: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        return self.data.decode("utf-8")


_DISPOSITION_PARAM = re.compile(r';\s*([a-zA-Z*]+)="((?:[^"\\]|\\.)*)"')


def parse_multipart(content_type: str, body: bytes) -> dict[str, MultipartField]:
    """Parse a ``multipart/form-data`` body into fields by name (binary-safe).

    Raises:
        WireError: 400 if the body is not well-formed multipart.
    """
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.lower().startswith("multipart/form-data") or not match:
        raise bad_request("Expected a multipart/form-data request body.")
    delimiter = b"--" + match.group(1).encode("latin-1")
    fields: dict[str, MultipartField] = {}
    chunks = body.split(delimiter)
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        raise bad_request("Malformed multipart/form-data body.")
    for chunk in chunks[1:-1]:
        # Each part is CRLF, headers, CRLF CRLF, data, CRLF.
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise bad_request("Malformed multipart/form-data part.")
        if data.endswith(b"\r\n"):
            data = data[:-2]
        headers: dict[str, str] = {}
        for raw in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = raw.partition(":")
            if key:
                headers[key.strip().lower()] = value.strip()
        params = dict(_DISPOSITION_PARAM.findall(headers.get("content-disposition", "")))
        name = params.get("name")
        if name is None:
            raise bad_request("A multipart part has no name.")
        fields[name] = MultipartField(name, data, params.get("filename"), headers)
    return fields
