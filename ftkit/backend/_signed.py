"""A ``PUT`` of a file's bytes to a signed storage URL, as Together and Fireworks take them.

Both APIs hand out a URL whose query is the credential (an S3 or GCS signature)
and take the bytes there, outside the API. One call serves both adapters: it
goes through the SDK client's own HTTP client (so a fake's transport and the
client's proxies apply) but carries none of the API's headers, waits as long as
the client's ``timeout`` says, and scrubs the URL and each of its query values
from every error, since storage services echo the signed query in their error
bodies. A ``PUT`` to the same URL replaces the object: repeating it is safe.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .._exceptions import APIError
from ._errors import _status_decision, parse_retry_after, redact

__all__ = ["SignedQueryFilter", "put_failure", "signed_put", "url_secrets"]

#: Bytes read from disk at a time when a file is streamed to its URL.
CHUNK = 1024 * 1024


#: A URL whose query carries a signature (S3's X-Amz-Signature, GCS's X-Goog-Signature,
#: Azure's sig): everything after its ``?`` is a credential.
_SIGNED_URL = re.compile(
    r"(?P<base>https?://[^\s?\"'<>]+)\?(?P<query>[^\s\"'<>]*(?:signature|sig)=[^\s\"'<>]*)",
    re.IGNORECASE,
)


class SignedQueryFilter(logging.Filter):
    """Replaces the query of a signed URL in a log record (httpx logs every request's URL)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if _SIGNED_URL.search(text):
            record.msg, record.args = _SIGNED_URL.sub(r"\g<base>?<signed query>", text), ()
        return True


_HTTPX_LOGGER = logging.getLogger("httpx")
if not any(isinstance(f, SignedQueryFilter) for f in _HTTPX_LOGGER.filters):
    _HTTPX_LOGGER.addFilter(SignedQueryFilter())


def url_secrets(url: str) -> tuple[str, ...]:
    """A signed URL, its query and each query value, raw and decoded: all credentials."""
    from urllib.parse import parse_qsl, urlsplit

    query = urlsplit(url).query
    values = [v for _, v in parse_qsl(query)]
    raw = [part.partition("=")[2] for part in query.split("&")]
    return tuple(s for s in (url, query, *values, *raw) if s and len(s) >= 6)


def put_failure(
    status: int, text: str, headers: Mapping[str, str], secrets: Sequence[str]
) -> APIError:
    """The error for a refused ``PUT``: retryable as the status says, its body redacted."""
    retryable, ambiguous = _status_decision(status, None, None)
    return APIError(
        f"HTTP {status} from the upload URL: {redact(text, secrets)[:300]}",
        status_code=status,
        retry_after=parse_retry_after(headers),
        retryable=retryable,
        ambiguous=ambiguous,
    )


def _chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


async def _async_chunks(path: Path) -> AsyncIterator[bytes]:
    # Local reads of a megabyte: short enough not to need a thread.
    for chunk in _chunks(path):
        yield chunk


def signed_put(
    url: str,
    content: bytes | Path,
    headers: Mapping[str, str],
    *,
    asynchronous: bool,
) -> Callable[[Any], Any]:
    """The call (a function of the SDK client) that PUTs ``content`` to ``url``.

    ``content`` is the bytes, or a file streamed from disk a megabyte at a time (its
    ``Content-Length`` must then be in ``headers``). Errors are :class:`~ftkit.APIError`:
    a refusal as :func:`put_failure` words it, a lost connection or timeout retryable.
    """
    import httpx

    sent = dict(headers)
    if isinstance(content, bytes):
        sent.setdefault("Content-Length", str(len(content)))
    secrets = url_secrets(url)

    def checked(response: httpx.Response) -> None:
        if response.status_code // 100 != 2:
            raise put_failure(response.status_code, response.text, response.headers, secrets)

    def failed(error: httpx.HTTPError) -> APIError:
        timed_out = isinstance(error, httpx.TimeoutException)
        what = "timed out" if timed_out else f"failed ({type(error).__name__})"
        return APIError(f"upload to the signed URL {what}", retryable=True, ambiguous=True)

    if asynchronous:

        async def call(c: Any) -> None:
            body = content if isinstance(content, bytes) else _async_chunks(content)
            try:
                response = await c._client.put(url, content=body, headers=sent, timeout=c.timeout)
            except httpx.HTTPError as error:
                raise failed(error) from None
            checked(response)

        return call

    def blocking(c: Any) -> None:
        body = content if isinstance(content, bytes) else _chunks(content)
        try:
            response = c._client.put(url, content=body, headers=sent, timeout=c.timeout)
        except httpx.HTTPError as error:
            raise failed(error) from None
        checked(response)

    return blocking
