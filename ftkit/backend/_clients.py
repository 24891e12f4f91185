"""Turn what a caller passed as ``client`` into an adapter: the one place clients are resolved.

Every API that takes ``client=`` (the pipeline's training backend, the
evaluation's chat backend) accepts the same things, decided here once:

- an ``openai.OpenAI`` / ``openai.AzureOpenAI`` client, or their async twins
  for the async APIs, wrapped in that API's adapter;
- a ``together.Together`` / ``together.AsyncTogether`` client, wrapped in the
  Together adapter;
- an object that already implements the API's protocol (the fake's backend,
  a test double), used as is;
- ``None``: a client built from the environment (``OPENAI_API_KEY``,
  ``OPENAI_BASE_URL``; ``AZURE_OPENAI_ENDPOINT`` with ``AZURE_OPENAI_API_KEY``
  and ``OPENAI_API_VERSION`` selects Azure).

- ``None`` with ``provider="together"``: ``together.Together()``, which reads
  ``TOGETHER_API_KEY`` (and ``TOGETHER_BASE_URL``).

``openai`` is imported only once a client is in play; ``together`` only when it
is already loaded (a caller holding a together client has loaded it) or asked for.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from .._exceptions import UsageError
from ._traits import AZURE_DATED, AZURE_V1, OPENAI, TOGETHER, Traits, traits_of, traits_of_client

__all__ = ["PROVIDERS", "env_client", "provider_of", "resolve_client", "traits_of_any"]

T = TypeVar("T")


def _is_openai(client: Any) -> bool:
    import openai

    return isinstance(client, (openai.OpenAI, openai.AsyncOpenAI))


def _is_async(client: Any) -> bool:
    import openai

    return isinstance(client, openai.AsyncOpenAI)


def _together_kind(client: Any) -> str | None:
    """``"sync"`` / ``"async"`` for a together client, else None (never imports together)."""
    together = sys.modules.get("together")
    if together is None:
        return None
    if isinstance(client, together.AsyncTogether):
        return "async"
    if isinstance(client, together.Together):
        return "sync"
    return None


def traits_of_any(client: Any) -> Traits:
    """The API traits of what a caller passed as ``client`` (see :func:`resolve_client`).

    ``None`` reads the environment as :func:`resolve_client` would build the
    client: ``AZURE_OPENAI_ENDPOINT`` means Azure's dated API (``openai.AzureOpenAI``);
    an ``OPENAI_BASE_URL`` ending in ``/openai/v1`` Azure's v1 API.
    """
    if client is None:
        if os.environ.get("AZURE_OPENAI_ENDPOINT"):
            return AZURE_DATED
        base_url = os.environ.get("OPENAI_BASE_URL", "").rstrip("/")
        return AZURE_V1 if base_url.endswith("/openai/v1") else OPENAI
    if _together_kind(client) is not None:
        return TOGETHER
    if _is_openai(client):
        return traits_of_client(client)
    return traits_of(client)


def provider_of(client: Any) -> str:
    """``"azure"`` for Azure OpenAI clients, ``"together"`` for together's, else ``"openai"``."""
    return traits_of_any(client).provider


PROVIDERS = ("openai", "azure", "together")
"""The providers whose clients ftkit can build from the environment."""


def _together_client(asynchronous: bool) -> Any:
    """``together.Together()`` (or its async twin) from ``TOGETHER_API_KEY``."""
    from .._optional import require

    together = require("together", extra="together", feature="Together AI's fine-tuning API")
    try:
        return together.AsyncTogether() if asynchronous else together.Together()
    except together.TogetherError as exc:
        # The message names the missing variable; it never contains a key.
        raise UsageError(
            f"cannot build a together client from the environment ({exc}); set "
            "TOGETHER_API_KEY or pass client=together.Together(...)"
        ) from None


def env_client(asynchronous: bool, provider: str | None = None) -> Any:
    """An openai client built from the environment, for ``provider`` (None: whichever is set).

    ``openai``: ``OPENAI_API_KEY`` (and ``OPENAI_BASE_URL``). ``azure``: the dated API
    when ``AZURE_OPENAI_ENDPOINT`` is set (with ``AZURE_OPENAI_API_KEY`` and
    ``OPENAI_API_VERSION``), else the v1 API when ``OPENAI_BASE_URL`` ends in
    ``/openai/v1`` (with the resource's key in ``OPENAI_API_KEY``). ``together``:
    ``TOGETHER_API_KEY`` (and ``TOGETHER_BASE_URL``). ``None``: Azure's
    dated API when ``AZURE_OPENAI_ENDPOINT`` is set, else OpenAI (or v1 by its URL).

    Raises:
        UsageError: an unknown provider, or its variables are not set.
    """
    if provider is not None and provider not in PROVIDERS:
        raise UsageError(f"unknown provider {provider!r}; ftkit drives {list(PROVIDERS)}")
    if provider == "together":
        return _together_client(asynchronous)
    import openai

    dated = bool(os.environ.get("AZURE_OPENAI_ENDPOINT")) and provider != "openai"
    if provider == "azure" and not dated and traits_of_any(None) is not AZURE_V1:
        raise UsageError(
            "no Azure OpenAI endpoint in the environment: set AZURE_OPENAI_ENDPOINT, "
            "AZURE_OPENAI_API_KEY and OPENAI_API_VERSION (the dated API), or OPENAI_BASE_URL="
            "https://<resource>.openai.azure.com/openai/v1/ and OPENAI_API_KEY (the v1 API)"
        )
    try:
        if dated:
            return openai.AsyncAzureOpenAI() if asynchronous else openai.AzureOpenAI()
        return openai.AsyncOpenAI() if asynchronous else openai.OpenAI()
    except openai.OpenAIError as exc:
        # The message names the missing variable; it never contains a key.
        raise UsageError(
            f"cannot build an openai client from the environment ({exc}); set "
            "OPENAI_API_KEY (or AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY) or pass client="
        ) from None


def resolve_client(
    client: Any,
    *,
    adapter: Callable[[Any], T],
    protocol: type[Any],
    asynchronous: bool,
    twin: str,
    together_adapter: Callable[[Any], Any] | None = None,
) -> T:
    """The adapter for ``client``, or ``client`` itself when it already speaks ``protocol``.

    Args:
        client: an openai or together client, an object implementing ``protocol``, or None
            (environment).
        adapter: wraps an openai client (``OpenAIBackend``, ``OpenAIChat``: one adapter
            serves both kinds; ``asynchronous`` decides which kind the caller accepts).
        together_adapter: wraps a together client (``TogetherBackend``, ``TogetherChat``).
        protocol: the runtime-checkable protocol an object may implement instead.
        asynchronous: whether the caller awaits (it needs an ``openai.AsyncOpenAI``).
        twin: the API to name when the client is of the other kind, e.g.
            ``"ftkit.AsyncFineTune"`` for a blocking API given an async client.

    Raises:
        UsageError: a client of the other kind, an object that is neither a client nor
            a ``protocol``, or no client configured in the environment.
    """
    if client is None:
        return adapter(env_client(asynchronous))
    together_kind = _together_kind(client)
    if together_kind is not None:
        if (together_kind == "async") != asynchronous:
            kind = "an async" if not asynchronous else "a synchronous"
            raise UsageError(f"{kind} client needs {twin}")
        if together_adapter is None:
            raise UsageError(f"a {type(client).__name__} client cannot be used here")
        return together_adapter(client)  # type: ignore[no-any-return]
    if _is_openai(client):
        if _is_async(client) != asynchronous:
            kind = "an async" if not asynchronous else "a synchronous"
            raise UsageError(f"{kind} client needs {twin}")
        return adapter(client)
    if isinstance(client, protocol):
        return client  # type: ignore[no-any-return]
    prefix = "Async" if asynchronous else ""
    raise UsageError(
        f"client must be an openai.{prefix}OpenAI, openai.{prefix}AzureOpenAI or "
        f"together.{prefix}Together client, got {type(client).__name__}"
    )
