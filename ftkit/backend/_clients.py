"""Turn what a caller passed as ``client`` into an adapter: the one place clients are resolved.

Every API that takes ``client=`` (the pipeline's training backend, the
evaluation's chat backend) accepts the same things, decided here once:

- an ``openai.OpenAI`` / ``openai.AzureOpenAI`` client, or their async twins
  for the async APIs, wrapped in that API's adapter;
- an object that already implements the API's protocol (the fake's backend,
  a test double), used as is;
- ``None``: a client built from the environment (``OPENAI_API_KEY``,
  ``OPENAI_BASE_URL``; ``AZURE_OPENAI_ENDPOINT`` with ``AZURE_OPENAI_API_KEY``
  and ``OPENAI_API_VERSION`` selects Azure).

``openai`` is imported only once a client is in play.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from .._exceptions import UsageError

__all__ = ["provider_of", "resolve_client"]

T = TypeVar("T")


def _is_openai(client: Any) -> bool:
    import openai

    return isinstance(client, (openai.OpenAI, openai.AsyncOpenAI))


def _is_async(client: Any) -> bool:
    import openai

    return isinstance(client, openai.AsyncOpenAI)


def provider_of(client: Any) -> str:
    """``"azure"`` for Azure OpenAI clients, else ``"openai"``; a backend may say so itself."""
    if client is None:
        return "azure" if os.environ.get("AZURE_OPENAI_ENDPOINT") else "openai"
    if _is_openai(client):
        import openai

        azure = isinstance(client, (openai.AzureOpenAI, openai.AsyncAzureOpenAI))
        return "azure" if azure else "openai"
    provider = getattr(client, "provider", None)
    return provider if isinstance(provider, str) else "openai"


def _env_client(asynchronous: bool) -> Any:
    import openai

    try:
        if os.environ.get("AZURE_OPENAI_ENDPOINT"):
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
) -> T:
    """The adapter for ``client``, or ``client`` itself when it already speaks ``protocol``.

    Args:
        client: an openai client, an object implementing ``protocol``, or None (environment).
        adapter: wraps an openai client (``OpenAIBackend``, ``OpenAIChat``: one adapter
            serves both kinds; ``asynchronous`` decides which kind the caller accepts).
        protocol: the runtime-checkable protocol an object may implement instead.
        asynchronous: whether the caller awaits (it needs an ``openai.AsyncOpenAI``).
        twin: the API to name when the client is of the other kind, e.g.
            ``"ftkit.AsyncFineTune"`` for a blocking API given an async client.

    Raises:
        UsageError: a client of the other kind, an object that is neither a client nor
            a ``protocol``, or no client configured in the environment.
    """
    if client is None:
        return adapter(_env_client(asynchronous))
    if _is_openai(client):
        if _is_async(client) != asynchronous:
            kind = "an async" if not asynchronous else "a synchronous"
            raise UsageError(f"{kind} client needs {twin}")
        return adapter(client)
    if isinstance(client, protocol):
        return client  # type: ignore[no-any-return]
    prefix = "Async" if asynchronous else ""
    raise UsageError(
        f"client must be an openai.{prefix}OpenAI or openai.{prefix}AzureOpenAI client, got "
        f"{type(client).__name__}"
    )
