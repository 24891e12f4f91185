"""Azure Resource Manager (the management plane) over httpx: one request, its errors, the token.

A fine-tuned Azure model serves only once it is *deployed*, and a deployment is
an ARM resource (``Microsoft.CognitiveServices/accounts/deployments``), not a
call of the data-plane API the openai client speaks. ARM is reached with httpx
(a dependency of ftkit, imported only here) and a Microsoft Entra ID bearer token
for ``https://management.azure.com`` (from the caller, or from azure-identity: an
optional extra, ``pip install 'ftkit[azure]'``).

- :class:`ArmRequest` is one request as an operation of the shared drivers
  (:mod:`ftkit._steps`): ``run()`` sends it with an ``httpx.Client``, ``arun()``
  with an ``httpx.AsyncClient``. It asks its token source afresh every time it
  is sent, so a source that refreshes tokens keeps working through a long wait.
- :func:`arm_error` and :func:`transport_error` are the one place where ARM's
  answers and httpx's exceptions become :class:`~ftkit.APIError`, with the data
  plane's rules (:mod:`._errors`): 408/409/429/5xx and connection failures are
  ``retryable``, 400/401/403/404/422 never; ``Retry-After`` is read.
- :func:`token_source` turns the caller's ``token=`` into a source, or builds
  azure-identity's ``DefaultAzureCredential`` when none is given.

The token lives only in the ``Authorization`` header of the request being sent:
it is not logged, not kept on an operation, not put in an error (messages are
redacted against it), and it is attached only to requests on the ARM endpoint's
own origin (a URL the server hands back elsewhere gets no token).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .._exceptions import APIError, UsageError
from ._errors import _status_decision, parse_retry_after, redact

if TYPE_CHECKING:
    import httpx

__all__ = [
    "ARM_API_VERSION",
    "ARM_ENDPOINT",
    "ARM_SCOPE",
    "ARM_SKUS",
    "ARM_TIMEOUT_SECONDS",
    "DEVELOPER_SKU",
    "DEVELOPER_TIER_MODELS",
    "OPEN_SOURCE_FORMATS",
    "ArmRequest",
    "ArmResponse",
    "TokenSource",
    "arm_error",
    "model_format",
    "same_origin",
    "sku_word",
    "token_source",
    "transport_error",
]

logger = logging.getLogger("ftkit.backend")

ARM_ENDPOINT = "https://management.azure.com"
"""The public cloud's management endpoint (sovereign clouds have their own)."""
ARM_API_VERSION = "2024-10-01"
"""The stable ``Microsoft.CognitiveServices`` version Microsoft's fine-tuning scripts use."""
ARM_SCOPE = "https://management.azure.com/.default"
"""What an ARM token is for; azure-identity is asked for a token of this scope."""

OPEN_SOURCE_FORMATS: tuple[tuple[str, str], ...] = (
    ("gpt-oss-", "Microsoft"),
    ("ministral-", "Mistral AI"),
    ("llama-", "Meta"),
    ("qwen", "Alibaba"),
)
"""ARM's ``properties.model.format`` for a fine-tune of an open-source base model, by the
base model's name prefix (lowercase). Source: Microsoft's fine-tuning skill
(microsoft/azure-skills, ``skills/microsoft-foundry/finetuning/references/deployment.md``).
The words are case-sensitive, and the az CLI's ``OpenAI-OSS`` fails over REST. Any other
base model is an OpenAI model, format ``OpenAI``. Open-source fine-tunes deploy on
``GlobalStandard`` only; OpenAI ones on ``Standard`` (in-region) by default."""

DEVELOPER_SKU = "developertier"
"""The Developer tier's SKU as Learn's example sends it: no hosting fee, no SLA, deleted 24
hours after creation, for the models of :data:`DEVELOPER_TIER_MODELS` only."""
DEVELOPER_TIER_MODELS: tuple[str, ...] = ("gpt-4.1-",)
"""Base-model prefixes the Developer tier deploys: GPT-4.1, GPT-4.1-mini and GPT-4.1-nano
(Learn, ``how-to/fine-tune-test.md``)."""

ARM_SKUS: dict[str, str] = {
    "standard": "Standard",
    "globalstandard": "GlobalStandard",
    "datazonestandard": "DataZoneStandard",
    "developer": DEVELOPER_SKU,
    "developertier": DEVELOPER_SKU,
    "provisionedmanaged": "ProvisionedManaged",
    "globalprovisionedmanaged": "GlobalProvisionedManaged",
    "datazoneprovisionedmanaged": "DataZoneProvisionedManaged",
}
"""The deployment types ARM knows for fine-tunes, by a spelling with case, ``-``, ``_`` and
spaces dropped (``developer`` is ftkit's word for the Developer tier)."""


def sku_word(sku: str) -> str:
    """ARM's spelling of a deployment type (``global-standard`` -> ``GlobalStandard``).

    An unknown one is returned as given: ARM, not ftkit, decides what it accepts.
    """
    return ARM_SKUS.get(re.sub(r"[\s_-]", "", sku).lower(), sku)


def model_format(base_model: str) -> str:
    """ARM's ``model.format`` for a fine-tune of ``base_model`` (:data:`OPEN_SOURCE_FORMATS`)."""
    lowered = base_model.lower()
    for prefix, word in OPEN_SOURCE_FORMATS:
        if lowered.startswith(prefix):
            return word
    return "OpenAI"


TokenSource = Callable[[], "str | Awaitable[str]"]
"""Returns an ARM bearer token (a string, or an awaitable of one for the async driver)."""

ARM_TIMEOUT_SECONDS = 60.0
"""The timeout of one ARM call (the wait for provisioning is the poll policy's)."""


@dataclass(frozen=True)
class ArmResponse:
    """A successful ARM answer: status, JSON body (``None`` when empty) and headers."""

    status: int
    body: dict[str, Any] | None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ArmRequest:
    """One ARM call, sent blocking (``run``) or awaited (``arun``); ftkit errors only.

    ``client`` is an ``httpx.Client`` for ``run`` and an ``httpx.AsyncClient`` for
    ``arun``; ``token`` is called once per send. Neither shows in ``repr``.
    """

    method: str
    url: str
    client: Any = field(repr=False, compare=False)
    token: TokenSource = field(repr=False, compare=False)
    body: dict[str, Any] | None = None

    def run(self) -> ArmResponse:
        bearer = _checked(self.token())
        with _translating(self.method, self.url):
            response = self.client.request(
                self.method, self.url, json=self.body, headers=_headers(bearer)
            )
        return _answer(self.method, self.url, response, bearer)

    async def arun(self) -> ArmResponse:
        bearer = _checked(await _token_async(self.token))
        with _translating(self.method, self.url):
            response = await self.client.request(
                self.method, self.url, json=self.body, headers=_headers(bearer)
            )
        return _answer(self.method, self.url, response, bearer)


def _headers(bearer: str) -> dict[str, str]:
    return {"authorization": f"Bearer {bearer}", "accept": "application/json"}


@contextlib.contextmanager
def _translating(method: str, url: str) -> Iterator[None]:
    """Around one send, blocking or awaited: httpx's transport failures become ftkit's."""
    try:
        yield
    except Exception as exc:
        translated = transport_error(exc, method, url)
        if translated is None:
            raise
        raise translated from exc


async def _token_async(source: TokenSource) -> str:
    # A blocking source (azure-identity may run the az CLI or ask IMDS) runs in a thread.
    if inspect.iscoroutinefunction(source):
        value: Any = await source()
    else:
        value = await asyncio.to_thread(source)
    if inspect.isawaitable(value):
        value = await value
    return value  # type: ignore[no-any-return]


def _checked(value: object) -> str:
    """The bearer token a source returned, without a ``Bearer`` prefix (never shown)."""
    if inspect.isawaitable(value):
        if inspect.iscoroutine(value):
            value.close()
        raise UsageError("token returned an awaitable: an async token source needs adeploy()")
    if not isinstance(value, str) or not value.strip():
        raise UsageError(
            "token must return the ARM bearer token as a non-empty string "
            f"(it returned a {type(value).__name__})"
        )
    token = value.strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    return token


def _answer(method: str, url: str, response: httpx.Response, bearer: str) -> ArmResponse:
    if response.status_code >= 400:
        raise arm_error(method, url, response, secrets=(bearer,))
    headers = {k.lower(): v for k, v in response.headers.items()}
    if not response.content:
        return ArmResponse(response.status_code, None, headers)
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        # A 2xx nobody can read: the write may have been applied; ARM's PUT is
        # idempotent by name, so sending it again is safe.
        raise APIError(
            f"ARM answered {method} {_path(url)} with {response.status_code} and a body "
            "that is not a JSON object",
            status_code=response.status_code,
            request_id=_request_id(response.headers),
            retryable=True,
            ambiguous=True,
        )
    return ArmResponse(response.status_code, body, headers)


def arm_error(
    method: str, url: str, response: httpx.Response, *, secrets: tuple[str, ...] = ()
) -> APIError:
    """The ftkit error of an ARM error answer (``{"error": {"code", "message"}}``).

    401 and 403 say what to fix (the token's audience; the role that may write
    deployments), since those are the usual first failures.
    """
    status = response.status_code
    code, message = _error_fields(response)
    retryable, ambiguous = _status_decision(status, code, None)
    text = f"ARM {method} {_path(url)}: HTTP {status}"
    if code:
        text += f" {code}"
    if message:
        text += f": {message}"
    if status == 401:
        text += (
            " (the token was refused: it must be a current Microsoft Entra ID token for "
            f"{ARM_ENDPOINT}, e.g. `az account get-access-token`)"
        )
    elif status == 403:
        text += (
            " (the identity may not write deployments: it needs "
            "Microsoft.CognitiveServices/accounts/deployments/write on the account, "
            "e.g. the Cognitive Services Contributor role)"
        )
    return APIError(
        redact(text, secrets),
        status_code=status,
        request_id=_request_id(response.headers),
        code=code,
        retry_after=parse_retry_after(response.headers),
        retryable=retryable,
        ambiguous=ambiguous,
    )


def transport_error(exc: BaseException, method: str, url: str) -> APIError | None:
    """The ftkit error of an httpx transport failure, or ``None`` for anything else."""
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        what = "timed out"
    elif isinstance(exc, httpx.TransportError):
        what = f"failed ({type(exc).__name__})"
    else:
        return None
    # Not applied or applied, nobody knows: a PUT by name is safe to send again.
    return APIError(f"ARM {method} {_path(url)} {what}", retryable=True, ambiguous=True)


def _error_fields(response: httpx.Response) -> tuple[str | None, str | None]:
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return None, response.text[:200] or None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, None
    code = error.get("code")
    message = error.get("message")
    return (str(code) if code else None), (str(message) if message else None)


def _request_id(headers: Mapping[str, str]) -> str | None:
    lowered = {k.lower(): v for k, v in headers.items()}
    return lowered.get("x-ms-request-id") or lowered.get("x-ms-correlation-request-id")


def _path(url: str) -> str:
    """The URL's path, for messages (the query only holds the api-version)."""
    return urlsplit(url).path or url


def same_origin(url: str, endpoint: str) -> bool:
    """Whether ``url`` is on ``endpoint``'s scheme, host and port (where the token may go)."""
    a, b = urlsplit(url), urlsplit(endpoint)
    return (a.scheme.lower(), a.netloc.lower()) == (b.scheme.lower(), b.netloc.lower())


# --------------------------------------------------------------------------- the token


def token_source(token: str | TokenSource | None) -> TokenSource:
    """The caller's ``token=``, or azure-identity's ``DefaultAzureCredential`` when ``None``.

    Args:
        token: a callable returning a bearer token for ARM (called before every
            request, so it may refresh), or ``None``. A plain string is refused:
            tokens expire within the hour and a string cannot refresh.

    Raises:
        UsageError: a string or another non-callable was given.
        MissingExtra: ``token`` is ``None`` and azure-identity is not installed.
    """
    if token is None:
        return _default_credential()
    if isinstance(token, str) or not callable(token):
        raise UsageError(
            "token must be a callable returning an ARM bearer token (token=lambda: ...), "
            "called before each request so it can refresh; "
            f"got {'a string' if isinstance(token, str) else type(token).__name__}"
        )
    return token


def _default_credential() -> TokenSource:
    from .._optional import MissingExtra

    try:  # by name: azure-identity is optional, and typed or not
        identity = importlib.import_module("azure.identity")
    except ImportError:
        raise MissingExtra(
            "deploying needs an ARM access token: pass token= (a callable returning one, "
            "e.g. from `az account get-access-token`), or install azure-identity with "
            "pip install 'ftkit[azure]' to use DefaultAzureCredential"
        ) from None
    credential = identity.DefaultAzureCredential()

    def fetch() -> str:
        try:
            return str(credential.get_token(ARM_SCOPE).token)
        except Exception as exc:
            # azure-identity's message lists the credentials it tried; it holds no token.
            raise APIError(
                f"azure-identity could not get an ARM token ({type(exc).__name__}): {exc}",
                code="token_unavailable",
            ) from exc

    return fetch
