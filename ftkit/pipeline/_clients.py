"""Turn what the caller passed as ``client`` into a backend.

Accepted: an ``openai.OpenAI`` / ``openai.AzureOpenAI`` client (or their
async twins), an object that already implements the backend protocol (for
example the fake API's), or ``None`` to build a client from the environment
(``OPENAI_API_KEY``, ``OPENAI_BASE_URL``; ``AZURE_OPENAI_ENDPOINT`` with
``AZURE_OPENAI_API_KEY`` and ``OPENAI_API_VERSION`` selects Azure).
"""

from __future__ import annotations

import os
from typing import Any

from .._exceptions import RunConflict, UsageError
from ..backend import AsyncBackend, AsyncOpenAIBackend, Backend, OpenAIBackend

__all__ = ["provider_of", "resolve_async_backend", "resolve_backend"]


def _is_azure(client: Any) -> bool:
    import openai

    return isinstance(client, (openai.AzureOpenAI, openai.AsyncAzureOpenAI))


def provider_of(client: Any) -> str:
    """``"azure"`` for Azure OpenAI clients, else ``"openai"``; a backend may say so itself."""
    if client is None:
        return "azure" if os.environ.get("AZURE_OPENAI_ENDPOINT") else "openai"
    if _looks_like_openai(client):
        return "azure" if _is_azure(client) else "openai"
    provider = getattr(client, "provider", None)
    return provider if isinstance(provider, str) else "openai"


def _looks_like_openai(client: Any) -> bool:
    import openai

    return isinstance(client, (openai.OpenAI, openai.AsyncOpenAI))


def _env_client(async_: bool) -> Any:
    import openai

    try:
        if os.environ.get("AZURE_OPENAI_ENDPOINT"):
            return openai.AsyncAzureOpenAI() if async_ else openai.AzureOpenAI()
        return openai.AsyncOpenAI() if async_ else openai.OpenAI()
    except openai.OpenAIError as exc:
        # The message names the missing variable; it never contains a key.
        raise UsageError(
            f"cannot build an openai client from the environment ({exc}); set "
            "OPENAI_API_KEY (or AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY) or pass client="
        ) from None


def _check_provider(client: Any, expected: str | None) -> None:
    if expected is None:
        return
    actual = provider_of(client)
    if actual != expected:
        raise RunConflict(
            f"this run was started on {expected} but the client is for {actual}; resume it with "
            f"a {expected} client"
        )


def resolve_backend(client: Any, *, expected_provider: str | None = None) -> Backend:
    """A blocking backend for ``client``.

    Raises:
        UsageError: an async client, or an object that is neither a client nor a backend.
        RunConflict: the client is for another provider than the run's.
    """
    _check_provider(client, expected_provider)
    if client is None:
        return OpenAIBackend(_env_client(async_=False))
    if _looks_like_openai(client):
        import openai

        if isinstance(client, openai.AsyncOpenAI):
            raise UsageError("an async client needs ftkit.AsyncFineTune / ftkit.AsyncRun")
        return OpenAIBackend(client)
    if isinstance(client, Backend):
        return client
    raise UsageError(
        f"client must be an openai.OpenAI or openai.AzureOpenAI client, got {type(client).__name__}"
    )


def resolve_async_backend(client: Any, *, expected_provider: str | None = None) -> AsyncBackend:
    """An awaitable backend for ``client`` (see :func:`resolve_backend`)."""
    _check_provider(client, expected_provider)
    if client is None:
        return AsyncOpenAIBackend(_env_client(async_=True))
    if _looks_like_openai(client):
        import openai

        if not isinstance(client, openai.AsyncOpenAI):
            raise UsageError("ftkit.AsyncFineTune needs openai.AsyncOpenAI / AsyncAzureOpenAI")
        return AsyncOpenAIBackend(client)
    if isinstance(client, AsyncBackend):
        return client
    raise UsageError(
        "client must be an openai.AsyncOpenAI or openai.AsyncAzureOpenAI client, got "
        f"{type(client).__name__}"
    )
