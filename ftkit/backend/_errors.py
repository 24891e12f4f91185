"""The one place where openai exceptions become ftkit exceptions.

Every backend call runs inside :func:`translating`, so code above the backend
only ever sees the ftkit tree (:class:`~ftkit.APIError` and its subclasses),
with the HTTP status, request id, provider error code and parameter kept, the
server's ``Retry-After`` parsed, and two decisions made once for everyone:

- ``retryable``: 408, 409, 429 (except ``insufficient_quota``), 5xx,
  connection errors and timeouts. 400, 401, 403, 404 and 422 never are, even
  when the server sends ``x-should-retry: true``.
- ``ambiguous``: the request may have been applied although it failed
  (timeouts, connection errors, 5xx, an unreadable 2xx). A caller that writes
  must look before writing again (see :func:`ftkit.backend.create_job_once`).

``openai`` is imported lazily: importing this module never loads it.
"""

from __future__ import annotations

import contextlib
import email.utils
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from .._exceptions import APIError, TrainingUnavailable

__all__ = [
    "NEVER_RETRY_STATUSES",
    "RETRY_STATUSES",
    "parse_retry_after",
    "redact",
    "translate",
    "translating",
]

#: Statuses a retry can fix: request timeout, conflict/lock, rate limit (5xx too).
RETRY_STATUSES = frozenset({408, 409, 429})
#: Statuses no retry can fix, whatever the server's ``x-should-retry`` says.
NEVER_RETRY_STATUSES = frozenset({400, 401, 403, 404, 422})

#: The date after which OpenAI accepts no new fine-tuning jobs (wind-down notice).
OPENAI_LAST_JOB_DATE = "2027-01-06"

_AZURE_HINT = (
    "OpenAI is winding down self-serve fine-tuning (no new jobs after "
    f"{OPENAI_LAST_JOB_DATE}). Azure OpenAI keeps the same fine-tuning API: pass an "
    "openai.AzureOpenAI(azure_endpoint=..., api_version=...) client instead; the same "
    "record files also work with Together and Fireworks."
)

# OpenAI-style keys (sk-..., sk-proj-..., sess-...) and bearer tokens.
_KEY_PATTERN = re.compile(r"\b(?:sk|sess|rk)-[A-Za-z0-9_\-*]{6,}|Bearer\s+[A-Za-z0-9._\-~+/=]{8,}")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove API keys and bearer tokens from ``text``.

    Args:
        text: a message that may quote a credential (servers echo key prefixes).
        secrets: exact strings to remove too, e.g. the client's own ``api_key``.

    Returns:
        The text with every credential replaced by ``***``.
    """
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, "***")
    return _KEY_PATTERN.sub("***", text)


def parse_retry_after(
    headers: Mapping[str, str] | None, *, now: Callable[[], float] = time.time
) -> float | None:
    """Seconds the server asked to wait, from ``retry-after-ms`` or ``retry-after``.

    ``retry-after`` may hold seconds (floats tolerated) or an HTTP date. Dates
    in the past give ``0.0``; missing or unreadable values give ``None``.

    Args:
        headers: response headers (case-insensitive mapping or plain dict).
        now: wall clock used to turn an HTTP date into a delay.

    Returns:
        The delay in seconds, or ``None`` when the server gave none.
    """
    if not headers:
        return None
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        raw = lowered.get(name)
        if raw is None:
            continue
        try:
            value = float(raw)
        except ValueError:
            continue
        if math.isnan(value):
            continue
        return max(0.0, value / divisor)
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    try:
        parsed = email.utils.parsedate_tz(raw)
        if parsed is None:
            return None
        when = email.utils.mktime_tz(parsed)
    except (TypeError, ValueError, OverflowError):
        return None
    return max(0.0, float(when) - now())


def _body_field(body: object, name: str) -> str | None:
    if isinstance(body, Mapping):
        value = body.get(name)
        return str(value) if value is not None else None
    return None


def _status_decision(status: int, code: str | None, should_retry: str | None) -> tuple[bool, bool]:
    """``(retryable, ambiguous)`` for an HTTP error status."""
    server_error = status >= 500
    ambiguous = server_error or status == 408
    if status in NEVER_RETRY_STATUSES:
        return False, False
    if status == 429 and code == "insufficient_quota":
        # A billing limit, not a rate limit: waiting will not help.
        return False, False
    if should_retry == "false":
        return False, ambiguous
    if should_retry == "true":
        return True, ambiguous
    return (server_error or status in RETRY_STATUSES), ambiguous


def _is_training_refusal(status: int, code: str | None) -> bool:
    if status == 403 and code == "training_not_available":
        return True
    # Retired or unknown base model: 400 ``model_not_available`` ("Model X is not
    # available for fine-tuning or does not exist").
    return status in (400, 404) and code == "model_not_available"


def translate(exc: BaseException, *, secrets: Iterable[str] = ()) -> BaseException:
    """Map one exception raised by the openai client to the ftkit tree.

    Exceptions that are not ``openai.APIError`` are returned unchanged, so the
    caller can always ``raise translate(exc) from exc``.

    Args:
        exc: the exception the openai client raised.
        secrets: credentials to scrub from the message (the client's API key).

    Returns:
        An :class:`~ftkit.APIError` (or :class:`~ftkit.TrainingUnavailable`)
        for openai API errors; ``exc`` itself otherwise.
    """
    import openai

    if not isinstance(exc, openai.APIError):
        return exc
    secrets = tuple(s for s in secrets if s)
    body = exc.body
    code = exc.code if exc.code is not None else _body_field(body, "code")
    param = exc.param if exc.param is not None else _body_field(body, "param")
    detail = _body_field(body, "message") or exc.message

    if isinstance(exc, openai.APITimeoutError):
        return APIError(
            redact(f"request timed out: {exc.request.method} {exc.request.url.path}", secrets),
            retryable=True,
            ambiguous=True,
        )
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__
        reason = f" ({type(cause).__name__})" if cause is not None else ""
        return APIError(
            redact(
                f"connection error{reason}: {exc.request.method} {exc.request.url.path}", secrets
            ),
            retryable=True,
            ambiguous=True,
        )
    if isinstance(exc, openai.APIResponseValidationError):
        # The server answered 2xx with a body the client could not read: a
        # write may well have been applied, and repeating the call will not fix it.
        return APIError(
            redact(f"unexpected response from the API: {detail}", secrets),
            status_code=exc.status_code,
            request_id=exc.response.headers.get("x-request-id"),
            code=code,
            param=param,
            retryable=False,
            ambiguous=True,
        )
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        headers = exc.response.headers
        retryable, ambiguous = _status_decision(status, code, headers.get("x-should-retry"))
        message = f"HTTP {status}"
        if code:
            message += f" {code}"
        message += f": {detail}"
        if param:
            message += f" (param: {param})"
        if exc.request_id:
            message += f" [request id {exc.request_id}]"
        fields: dict[str, Any] = {
            "status_code": status,
            "request_id": exc.request_id,
            "code": code,
            "param": param,
            "retry_after": parse_retry_after(headers),
            "retryable": retryable,
            "ambiguous": ambiguous,
        }
        if _is_training_refusal(status, code):
            return TrainingUnavailable(redact(f"{message}\n{_AZURE_HINT}", secrets), **fields)
        return APIError(redact(message, secrets), **fields)
    # The base class (raised directly only by exotic paths): keep what it says.
    return APIError(redact(f"API error: {detail}", secrets), code=code, param=param)


@contextlib.contextmanager
def translating(secrets: Iterable[str] = ()) -> Iterator[None]:
    """Run a block of openai calls, re-raising their errors as ftkit errors.

    Works around ``await`` expressions too (it is a plain context manager).

    Args:
        secrets: credentials to scrub from messages.

    Raises:
        ftkit.APIError: for any ``openai.APIError`` raised in the block, chained
            with ``from`` so the original stays in the traceback.
    """
    secrets = tuple(secrets)
    try:
        yield
    except Exception as exc:
        translated = translate(exc, secrets=secrets)
        if translated is exc:
            raise
        _scrub(exc, secrets)
        if _holds_secret(exc, secrets):
            # The request body or the server's echo of it holds a credential (a SAS URL
            # sent to Azure's file import): the original must not ride along.
            raise translated from None
        raise translated from exc


def _holds_secret(exc: BaseException, secrets: Iterable[str]) -> bool:
    """Whether the original error's body or request content quotes a secret."""
    request = getattr(exc, "request", None)
    try:
        content = getattr(request, "content", b"") if request is not None else b""
    except Exception:  # a streamed request has no content to read
        content = b""
    sent = content.decode("utf-8", "replace") if isinstance(content, bytes) else ""
    text = f"{getattr(exc, 'body', None)!r}{sent}"
    return any(secret and secret in text for secret in secrets)


def _scrub(exc: BaseException, secrets: Iterable[str]) -> None:
    """Redact the original error kept as ``__cause__``, whose text a traceback prints.

    A server (or proxy) that quotes the caller's key in its error would otherwise
    put the key in every logged traceback of the translated error.
    """
    exc.args = tuple(redact(a, secrets) if isinstance(a, str) else a for a in exc.args)
    message = getattr(exc, "message", None)
    if isinstance(message, str):
        exc.message = redact(message, secrets)  # type: ignore[attr-defined]


def training_unavailable_for_model(model: str, shutdown_date: str) -> TrainingUnavailable:
    """The refusal raised before a job on a base model past its shutdown date."""
    return TrainingUnavailable(
        f"base model {model!r} is retired (shutdown date {shutdown_date}); no new "
        "fine-tuning jobs can be created on it. Pick a current base model: "
        f"docs/providers.md lists each model's shutdown date.\n{_AZURE_HINT}",
        code="model_retired",
        param="model",
    )
