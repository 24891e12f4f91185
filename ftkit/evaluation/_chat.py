"""The one Chat Completions call an evaluation makes, over an openai client.

Like the fine-tuning backend, it calls through ``client.with_options(max_retries=0)``
(ftkit's :class:`~ftkit.RetryPolicy` owns retries) and translates openai errors
into ftkit's in the backend's one place (:func:`ftkit.backend.translating`).
``openai`` is imported only when a client has to be built from the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._exceptions import UsageError
from ..backend._errors import translating
from ._scorers import ToolCallData, Turn

__all__ = ["AsyncChatCaller", "ChatAnswer", "ChatCaller"]


@dataclass(frozen=True)
class ChatAnswer:
    """The first choice of a completion and the usage billed for it."""

    reply: Turn
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str | None


def _answer(response: Any) -> ChatAnswer:
    choices = getattr(response, "choices", None) or []
    if not choices:
        return ChatAnswer(Turn(None), 0, 0, None)
    choice = choices[0]
    message = choice.message
    calls = tuple(
        ToolCallData(call.function.name, call.function.arguments)
        for call in (message.tool_calls or [])
        if getattr(call, "function", None) is not None
    )
    usage = getattr(response, "usage", None)
    return ChatAnswer(
        Turn(message.content, calls),
        int(getattr(usage, "prompt_tokens", 0) or 0),
        int(getattr(usage, "completion_tokens", 0) or 0),
        getattr(choice, "finish_reason", None),
    )


def _secrets(client: Any) -> tuple[str, ...]:
    key = getattr(client, "api_key", None)
    return (key,) if isinstance(key, str) and key else ()


def _env_client(asynchronous: bool) -> Any:
    import openai

    try:
        if os.environ.get("AZURE_OPENAI_ENDPOINT"):
            return openai.AsyncAzureOpenAI() if asynchronous else openai.AzureOpenAI()
        return openai.AsyncOpenAI() if asynchronous else openai.OpenAI()
    except openai.OpenAIError as exc:
        raise UsageError(
            f"cannot build an openai client from the environment ({exc}); set "
            "OPENAI_API_KEY (or AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY) or pass client="
        ) from None


def _check(client: Any, asynchronous: bool) -> Any:
    import openai

    if asynchronous:
        if not isinstance(client, openai.AsyncOpenAI):
            raise UsageError(
                "ftkit.aevaluate needs an openai.AsyncOpenAI / AsyncAzureOpenAI client"
            )
    elif isinstance(client, openai.AsyncOpenAI):
        raise UsageError("an async client needs ftkit.evaluation.aevaluate")
    elif not isinstance(client, openai.OpenAI):
        raise UsageError(
            "client must be an openai.OpenAI or openai.AzureOpenAI client, got "
            f"{type(client).__name__}"
        )
    return client.with_options(max_retries=0)


class ChatCaller:
    """Blocking ``chat.completions.create`` with ftkit errors only (thread-safe).

    Args:
        client: an ``openai.OpenAI`` / ``openai.AzureOpenAI`` client, or None for the
            environment's (``OPENAI_API_KEY``; ``AZURE_OPENAI_ENDPOINT`` selects Azure).
    """

    def __init__(self, client: Any = None) -> None:
        self._secrets = _secrets(client)
        self._client = _check(client if client is not None else _env_client(False), False)
        self._secrets = self._secrets or _secrets(self._client)

    def __repr__(self) -> str:
        return f"ChatCaller({type(self._client).__name__} at {self._client.base_url})"

    def complete(self, request: Mapping[str, Any]) -> ChatAnswer:
        """One call, no retry.

        Raises:
            ftkit.APIError: any failure, translated (``retryable`` set for 429/5xx/timeouts).
        """
        with translating(self._secrets):
            response = self._client.chat.completions.create(**request)
        return _answer(response)


class AsyncChatCaller:
    """The awaitable twin of :class:`ChatCaller` over ``openai.AsyncOpenAI``."""

    def __init__(self, client: Any = None) -> None:
        self._secrets = _secrets(client)
        self._client = _check(client if client is not None else _env_client(True), True)
        self._secrets = self._secrets or _secrets(self._client)

    def __repr__(self) -> str:
        return f"AsyncChatCaller({type(self._client).__name__} at {self._client.base_url})"

    async def complete(self, request: Mapping[str, Any]) -> ChatAnswer:
        """One call, no retry (see :meth:`ChatCaller.complete`)."""
        with translating(self._secrets):
            response = await self._client.chat.completions.create(**request)
        return _answer(response)
