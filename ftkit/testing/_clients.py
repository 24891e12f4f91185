"""openai clients wired to a fake in-process, and on the fake's virtual time.

The openai client sleeps for real between its own retries (``Retry-After``, or
about 0.5–8 s of back-off). These subclasses send that pause to the fake's
clock instead, so a test that lets the SDK retry a 429 still runs instantly and
can assert on the delay; ``client.files.wait_for_processing`` polls on that clock
too. They also carry the clock itself (the class attribute
named by :data:`ftkit._virtual_time.CLIENT_CLOCK_ATTRIBUTE`), so ftkit's own
polling, retries and evaluation sleep on it when the caller chose no ``sleep``.
They are created per fake, as class attributes, because ``client.with_options()``
rebuilds a client from its class. A Together fake's clients are the together SDK's
(``together.Together``, ``AsyncTogether``) and a Fireworks fake's the fireworks-ai
SDK's (``fireworks.Fireworks``, ``AsyncFireworks``, carrying the fake's account as
``account_id``), each on an httpx transport bridged to the fake, with the same virtual
retry pause and clock.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx2

from .._virtual_time import CLIENT_CLOCK_ATTRIBUTE
from ._clock import FakeClock

if TYPE_CHECKING:
    from openai._models import FinalRequestOptions

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_AZURE_API_VERSION",
    "IN_PROCESS_FIREWORKS_BASE_URL",
    "IN_PROCESS_TOGETHER_BASE_URL",
    "ClientFactory",
]

IN_PROCESS_BASE_URL = "https://fake-openai.invalid/v1"
"""Never resolvable (``.invalid``): a client that escaped the fake transport cannot reach anyone."""
IN_PROCESS_AZURE_ENDPOINT = "https://fake-resource.openai.azure.invalid"
IN_PROCESS_TOGETHER_BASE_URL = "https://fake-together.invalid"
"""A together client's ``base_url`` is an origin: the SDK's paths start with ``/v1/``."""
IN_PROCESS_FIREWORKS_BASE_URL = "https://fake-fireworks.invalid"
"""A fireworks client's ``base_url`` is an origin too (paths ``/v1/...``, chat included)."""
_TOGETHER_CLASSES = frozenset({"Together", "AsyncTogether"})
_FIREWORKS_CLASSES = frozenset({"Fireworks", "AsyncFireworks"})
_HTTPX_SDKS = dict.fromkeys(_TOGETHER_CLASSES, "together") | dict.fromkeys(
    _FIREWORKS_CLASSES, "fireworks"
)
"""The SDK classes that run on httpx (not httpx2), by class name: their module."""


DEFAULT_API_KEY = "sk-fake-not-a-real-key"
DEFAULT_AZURE_API_VERSION = "2025-04-01-preview"
"""The ``api-version`` an in-process Azure client sends unless told otherwise."""


class ClientFactory:
    """Builds openai clients whose transport is ``handler`` and whose time is ``clock``.

    ``account_id`` is the account a Fireworks client names in its paths (the fake's).
    """

    def __init__(
        self,
        handler: Callable[[httpx2.Request], httpx2.Response],
        clock: FakeClock,
        *,
        api_key: str = DEFAULT_API_KEY,
        account_id: str | None = None,
    ) -> None:
        self._handler = handler
        self._clock = clock
        self._api_key = api_key
        self._account_id = account_id
        self._classes: dict[str, type[Any]] = {}

    def build(self, name: str, options: dict[str, Any]) -> Any:
        """A ``name`` client (``OpenAI``, ``AsyncAzureOpenAI``, ...) on the fake's transport.

        ``options`` go to the client's constructor, over these defaults: the factory's API key,
        the SDK's 2 retries, an address that resolves nowhere and, for Azure,
        :data:`DEFAULT_AZURE_API_VERSION`.
        """
        kwargs = {"api_key": self._api_key, "max_retries": 2, **options}
        if name in _TOGETHER_CLASSES:
            kwargs.setdefault("base_url", IN_PROCESS_TOGETHER_BASE_URL)
            return self._on_httpx(name, kwargs)
        if name in _FIREWORKS_CLASSES:
            kwargs.setdefault("base_url", IN_PROCESS_FIREWORKS_BASE_URL)
            kwargs.setdefault("account_id", self._account_id)
            return self._on_httpx(name, kwargs)
        transport = httpx2.MockTransport(self._handler)
        http_client = (
            httpx2.AsyncClient(transport=transport)
            if name.startswith("Async")
            else httpx2.Client(transport=transport)
        )
        if "Azure" in name:
            kwargs.setdefault("azure_endpoint", IN_PROCESS_AZURE_ENDPOINT)
            kwargs.setdefault("api_version", DEFAULT_AZURE_API_VERSION)
        else:
            kwargs.setdefault("base_url", IN_PROCESS_BASE_URL)
        return self._virtual(name)(http_client=http_client, **kwargs)

    def _on_httpx(self, name: str, kwargs: dict[str, Any]) -> Any:
        """A together or fireworks SDK client (``Together``, ``AsyncFireworks``...) on the fake.

        Those SDKs run on httpx, not httpx2: the ``http_client`` is an httpx client whose
        mock transport hands each request to the fake (:func:`_bridge`).
        """
        import httpx

        transport = httpx.MockTransport(_bridge(self._handler))
        http_client = (
            httpx.AsyncClient(transport=transport)
            if name.startswith("Async")
            else httpx.Client(transport=transport)
        )
        return self._virtual(name)(http_client=http_client, **kwargs)

    def _virtual(self, name: str) -> type[Any]:
        """The SDK class ``name``, its retry pause sent to the virtual clock (made once)."""
        cls = self._classes.get(name)
        if cls is not None:
            return cls
        sdk = importlib.import_module(_HTTPX_SDKS.get(name, "openai"))
        base: type[Any] = getattr(sdk, name)
        sleep = self._clock.sleep

        def sleep_for_retry(
            client: Any,
            *,
            retries_taken: int,
            max_retries: int,
            options: FinalRequestOptions,
            response: httpx2.Response | None,
        ) -> None:
            sleep(_delay(client, retries_taken, max_retries, options, response))

        async def async_sleep_for_retry(client: Any, **kwargs: Any) -> None:
            sleep_for_retry(client, **kwargs)

        async def async_sleep(seconds: float) -> None:
            sleep(seconds)

        openai_files = name not in _HTTPX_SDKS  # the together and fireworks SDKs poll nothing
        make_files: Callable[[Any], Any] | None = (
            getattr(base.files, "func", None) if openai_files else None
        )

        def files(client: Any) -> Any:
            # openai's ``files`` is a cached property; its ``wait_for_processing`` sleeps
            # through the resource's ``_sleep``.
            assert make_files is not None
            resource = make_files(client)
            resource._sleep = async_sleep if name.startswith("Async") else sleep
            return resource

        namespace: dict[str, Any] = {
            "_sleep_for_retry": (
                async_sleep_for_retry if name.startswith("Async") else sleep_for_retry
            ),
            "__module__": __name__,
            "__doc__": f"{name} bound to an in-process fake, on its virtual clock.",
            CLIENT_CLOCK_ATTRIBUTE: self._clock,
        }
        if openai_files:
            namespace["files"] = functools.cached_property(files)
        cls = type(name, (base,), namespace)
        self._classes[name] = cls
        return cls


def _bridge(handler: Callable[[httpx2.Request], httpx2.Response]) -> Callable[[Any], Any]:
    """An httpx mock-transport handler that answers through the fake's httpx2 front door.

    The request's bytes, headers and read timeout (which the fake's ``slow`` and
    ``applied_but_lost`` faults read) cross over; the answer comes back as an httpx
    response, and the fake's transport failures as httpx's own exceptions of the same
    name (``ConnectError``, ``ReadTimeout``), which the together SDK retries.
    """
    import httpx

    def send(request: httpx.Request) -> httpx.Response:
        content = request.read()
        extensions = {k: v for k, v in request.extensions.items() if k == "timeout"}
        forwarded = httpx2.Request(
            request.method,
            str(request.url),
            headers=request.headers.multi_items(),
            content=content,
            extensions=extensions,
        )
        try:
            answer = handler(forwarded)
        except httpx2.TransportError as exc:
            same = getattr(httpx, type(exc).__name__, None)
            kind = (
                same
                if isinstance(same, type) and issubclass(same, httpx.TransportError)
                else httpx.TransportError
            )
            raise kind(str(exc), request=request) from None
        return httpx.Response(
            answer.status_code,
            headers=answer.headers.multi_items(),
            content=answer.content,
            request=request,
        )

    return send


def _delay(
    client: Any,
    retries_taken: int,
    max_retries: int,
    options: FinalRequestOptions,
    response: httpx2.Response | None,
) -> float:
    # The SDK's own computation (Retry-After first, else jittered back-off): only the
    # waiting is replaced, so the delays asserted in tests are the ones the SDK chose.
    delay: float = client._calculate_retry_timeout(
        max_retries - retries_taken, options, response.headers if response is not None else None
    )
    return delay
