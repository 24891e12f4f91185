"""openai clients wired to a fake in-process, and on the fake's virtual time.

The openai client sleeps for real between its own retries (``Retry-After``, or
about 0.5–8 s of back-off). These subclasses send that pause to the fake's
clock instead, so a test that lets the SDK retry a 429 still runs instantly and
can assert on the delay. They also carry the clock itself (the class attribute
named by :data:`ftkit._virtual_time.CLIENT_CLOCK_ATTRIBUTE`), so ftkit's own
polling, retries and evaluation sleep on it when the caller chose no ``sleep``.
They are created per fake, as class attributes, because ``client.with_options()``
rebuilds a client from its class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx2

from .._virtual_time import CLIENT_CLOCK_ATTRIBUTE
from ._clock import FakeClock

if TYPE_CHECKING:
    import openai
    from openai._models import FinalRequestOptions

__all__ = ["ClientFactory"]

IN_PROCESS_BASE_URL = "https://fake-openai.invalid/v1"
"""Never resolvable (``.invalid``): a client that escaped the fake transport cannot reach anyone."""
IN_PROCESS_AZURE_ENDPOINT = "https://fake-resource.openai.azure.invalid"


class ClientFactory:
    """Builds openai clients whose transport is ``handler`` and whose time is ``clock``."""

    def __init__(
        self,
        handler: Callable[[httpx2.Request], httpx2.Response],
        clock: FakeClock,
    ) -> None:
        self._handler = handler
        self._clock = clock
        self._classes: dict[str, type[Any]] = {}

    def _virtual(self, name: str) -> type[Any]:
        cls = self._classes.get(name)
        if cls is not None:
            return cls
        import openai

        base: type[Any] = getattr(openai, name)
        sleep = self._clock.sleep
        if name.startswith("Async"):

            async def _async_sleep_for_retry(
                client: Any,
                *,
                retries_taken: int,
                max_retries: int,
                options: FinalRequestOptions,
                response: httpx2.Response | None,
            ) -> None:
                sleep(_delay(client, retries_taken, max_retries, options, response))

            namespace: dict[str, Any] = {"_sleep_for_retry": _async_sleep_for_retry}
        else:

            def _sync_sleep_for_retry(
                client: Any,
                *,
                retries_taken: int,
                max_retries: int,
                options: FinalRequestOptions,
                response: httpx2.Response | None,
            ) -> None:
                sleep(_delay(client, retries_taken, max_retries, options, response))

            namespace = {"_sleep_for_retry": _sync_sleep_for_retry}
        namespace["__module__"] = __name__
        namespace["__doc__"] = f"{name} bound to an in-process fake, on its virtual clock."
        namespace[CLIENT_CLOCK_ATTRIBUTE] = self._clock
        cls = type(name, (base,), namespace)
        self._classes[name] = cls
        return cls

    def _build(self, name: str, **kwargs: Any) -> Any:
        """A ``name`` client (``OpenAI``, ``AsyncAzureOpenAI``, ...) on the fake's transport."""
        asynchronous = name.startswith("Async")
        transport = httpx2.MockTransport(self._handler)
        http_client = (
            httpx2.AsyncClient(transport=transport)
            if asynchronous
            else httpx2.Client(transport=transport)
        )
        if "Azure" in name:
            kwargs.setdefault("azure_endpoint", IN_PROCESS_AZURE_ENDPOINT)
        else:
            kwargs.setdefault("base_url", IN_PROCESS_BASE_URL)
        return self._virtual(name)(http_client=http_client, **kwargs)

    def sync(self, *, api_key: str, max_retries: int, **kwargs: Any) -> openai.OpenAI:
        client: openai.OpenAI = self._build(
            "OpenAI", api_key=api_key, max_retries=max_retries, **kwargs
        )
        return client

    def async_(self, *, api_key: str, max_retries: int, **kwargs: Any) -> openai.AsyncOpenAI:
        client: openai.AsyncOpenAI = self._build(
            "AsyncOpenAI", api_key=api_key, max_retries=max_retries, **kwargs
        )
        return client

    def azure(
        self, *, api_key: str, api_version: str, max_retries: int, **kwargs: Any
    ) -> openai.AzureOpenAI:
        client: openai.AzureOpenAI = self._build(
            "AzureOpenAI",
            api_key=api_key,
            api_version=api_version,
            max_retries=max_retries,
            **kwargs,
        )
        return client

    def async_azure(
        self, *, api_key: str, api_version: str, max_retries: int, **kwargs: Any
    ) -> openai.AsyncAzureOpenAI:
        client: openai.AsyncAzureOpenAI = self._build(
            "AsyncAzureOpenAI",
            api_key=api_key,
            api_version=api_version,
            max_retries=max_retries,
            **kwargs,
        )
        return client


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
