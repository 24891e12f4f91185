"""Turn what a caller passed as ``client`` into an adapter: the one place clients are resolved.

Every API that takes ``client=`` (the pipeline's training backend, the
evaluation's chat backend) accepts the same things, decided here once:

- an ``openai.OpenAI`` / ``openai.AzureOpenAI`` client, or their async twins
  for the async APIs, wrapped in that API's adapter;
- a client of another provider's SDK (:data:`SDKS`: ``together.Together``,
  ``fireworks.Fireworks`` and their async twins), wrapped in that provider's adapter;
- an object that already implements the API's protocol (the fake's backend,
  a test double), used as is;
- ``None``: a client built from the environment (``OPENAI_API_KEY``,
  ``OPENAI_BASE_URL``; ``AZURE_OPENAI_ENDPOINT`` with ``AZURE_OPENAI_API_KEY``
  and ``OPENAI_API_VERSION`` selects Azure).

- ``None`` with ``provider="together"``: ``together.Together()``, which reads
  ``TOGETHER_API_KEY`` (and ``TOGETHER_BASE_URL``); with ``provider="fireworks"``:
  ``fireworks.Fireworks()``, which reads ``FIREWORKS_API_KEY`` and ``FIREWORKS_ACCOUNT_ID``.

``openai`` is imported only once a client is in play; another SDK only when it is
already loaded (a caller holding its client has loaded it) or asked for.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from .._exceptions import UsageError
from ._traits import (
    AZURE_DATED,
    AZURE_V1,
    FIREWORKS,
    OPENAI,
    TOGETHER,
    Traits,
    traits_of,
    traits_of_client,
)

__all__ = ["PROVIDERS", "SDKS", "env_client", "provider_of", "resolve_client", "traits_of_any"]

T = TypeVar("T")


def _is_openai(client: Any) -> bool:
    import openai

    return isinstance(client, (openai.OpenAI, openai.AsyncOpenAI))


def _is_async(client: Any) -> bool:
    import openai

    return isinstance(client, openai.AsyncOpenAI)


@dataclass(frozen=True)
class Sdk:
    """A provider's own SDK, other than openai: its clients, traits and environment.

    Attributes:
        provider: the provider (``"together"``); also the SDK's module and extra.
        sync, asynchronous: its client classes' names.
        traits: what its API can do.
        feature: what it is for, in a missing-extra message.
        variables: the environment its clients read, in a message.
        base_error: the SDK's root exception (raised when a variable is missing).
    """

    provider: str
    sync: str
    asynchronous: str
    traits: Traits
    feature: str
    variables: str
    base_error: str


SDKS: tuple[Sdk, ...] = (
    Sdk(
        "together",
        "Together",
        "AsyncTogether",
        TOGETHER,
        "Together AI's fine-tuning API",
        "TOGETHER_API_KEY",
        "TogetherError",
    ),
    Sdk(
        "fireworks",
        "Fireworks",
        "AsyncFireworks",
        FIREWORKS,
        "Fireworks AI's fine-tuning API",
        "FIREWORKS_API_KEY and FIREWORKS_ACCOUNT_ID",
        "FireworksError",
    ),
)
"""The SDKs besides openai whose clients ftkit wraps (fsspec's registry of protocols, in small)."""


def sdk_of(client: Any) -> tuple[Sdk, bool] | None:
    """The SDK of ``client`` and whether the client is async; None for any other object.

    Never imports an SDK: a caller holding its client has loaded it.
    """
    for sdk in SDKS:
        module = sys.modules.get(sdk.provider)
        if module is None:
            continue
        if isinstance(client, getattr(module, sdk.asynchronous)):
            return sdk, True
        if isinstance(client, getattr(module, sdk.sync)):
            return sdk, False
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
    found = sdk_of(client)
    if found is not None:
        return found[0].traits
    if _is_openai(client):
        return traits_of_client(client)
    return traits_of(client)


def provider_of(client: Any) -> str:
    """``"azure"`` for Azure OpenAI clients, ``"together"`` / ``"fireworks"`` for those SDKs',
    else ``"openai"``."""
    return traits_of_any(client).provider


PROVIDERS = ("openai", "azure", *(sdk.provider for sdk in SDKS))
"""The providers whose clients ftkit can build from the environment."""


def _sdk_client(sdk: Sdk, asynchronous: bool) -> Any:
    """``sdk``'s client (or its async twin) built from its environment."""
    from .._optional import require

    module = require(sdk.provider, extra=sdk.provider, feature=sdk.feature)
    try:
        client = getattr(module, sdk.asynchronous if asynchronous else sdk.sync)()
    except getattr(module, sdk.base_error) as exc:
        # The message names the missing variable; it never contains a key.
        raise UsageError(
            f"cannot build a {sdk.provider} client from the environment ({exc}); set "
            f"{sdk.variables} or pass client={sdk.provider}.{sdk.sync}(...)"
        ) from None
    if sdk.traits.caller_ids and not getattr(client, "account_id", None):
        raise UsageError(
            f"no {sdk.provider} account in the environment: set FIREWORKS_ACCOUNT_ID or pass "
            f"client={sdk.provider}.{sdk.sync}(account_id=...)"
        )
    return client


def env_client(asynchronous: bool, provider: str | None = None) -> Any:
    """An openai client built from the environment, for ``provider`` (None: whichever is set).

    ``openai``: ``OPENAI_API_KEY`` (and ``OPENAI_BASE_URL``). ``azure``: the dated API
    when ``AZURE_OPENAI_ENDPOINT`` is set (with ``AZURE_OPENAI_API_KEY`` and
    ``OPENAI_API_VERSION``), else the v1 API when ``OPENAI_BASE_URL`` ends in
    ``/openai/v1`` (with the resource's key in ``OPENAI_API_KEY``). ``together``:
    ``TOGETHER_API_KEY`` (and ``TOGETHER_BASE_URL``). ``fireworks``: ``FIREWORKS_API_KEY``
    and ``FIREWORKS_ACCOUNT_ID`` (and ``FIREWORKS_BASE_URL``). ``None``: Azure's
    dated API when ``AZURE_OPENAI_ENDPOINT`` is set, else OpenAI (or v1 by its URL).

    Raises:
        UsageError: an unknown provider, or its variables are not set.
    """
    if provider is not None and provider not in PROVIDERS:
        raise UsageError(f"unknown provider {provider!r}; ftkit drives {list(PROVIDERS)}")
    for sdk in SDKS:
        if provider == sdk.provider:
            return _sdk_client(sdk, asynchronous)
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
    sdk_adapters: Mapping[str, Callable[[Any], Any]] | None = None,
) -> T:
    """The adapter for ``client``, or ``client`` itself when it already speaks ``protocol``.

    Args:
        client: an openai client or one of :data:`SDKS`', an object implementing
            ``protocol``, or None (environment).
        adapter: wraps an openai client (``OpenAIBackend``, ``OpenAIChat``: one adapter
            serves both kinds; ``asynchronous`` decides which kind the caller accepts).
        sdk_adapters: provider -> what wraps that SDK's client (``{"together":
            TogetherBackend}``); a client of an SDK not named here is refused.
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
    found = sdk_of(client)
    if found is not None:
        sdk, is_async = found
        if is_async != asynchronous:
            kind = "an async" if not asynchronous else "a synchronous"
            raise UsageError(f"{kind} client needs {twin}")
        wrap = (sdk_adapters or {}).get(sdk.provider)
        if wrap is None:
            raise UsageError(f"a {type(client).__name__} client cannot be used here")
        return wrap(client)  # type: ignore[no-any-return]
    if _is_openai(client):
        if _is_async(client) != asynchronous:
            kind = "an async" if not asynchronous else "a synchronous"
            raise UsageError(f"{kind} client needs {twin}")
        return adapter(client)
    if isinstance(client, protocol):
        return client  # type: ignore[no-any-return]
    prefix = "Async" if asynchronous else ""
    others = ", ".join(
        f"{sdk.provider}.{sdk.asynchronous if asynchronous else sdk.sync}" for sdk in SDKS
    )
    raise UsageError(
        f"client must be an openai.{prefix}OpenAI, openai.{prefix}AzureOpenAI or {others} "
        f"client, got {type(client).__name__}"
    )
