"""Chat Completions, the one inference call ftkit makes (to evaluate models).

The seam mirrors the training :class:`~ftkit.backend.Backend`: a
:class:`ChatBackend` builds one :class:`~ftkit.backend.Request` per call (run
blocking or awaited, as its client allows), raises only ftkit errors
(translated in :func:`~ftkit.backend._errors.translating`), and never retries by itself
— the caller's :class:`~ftkit.RetryPolicy` does, which is why the openai
adapter calls through ``client.with_options(max_retries=0)``. The answer comes
back as ftkit's own :class:`ChatAnswer`, never as an SDK object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ._adapter import SdkAdapter
from ._clients import resolve_client, sdk_of
from ._openai import _Adapter
from ._request import Request

__all__ = [
    "ChatAnswer",
    "ChatBackend",
    "FireworksChat",
    "OpenAIChat",
    "SdkChat",
    "TogetherChat",
    "resolve_chat",
]


@dataclass(frozen=True)
class ChatAnswer:
    """The first choice of a completion and the usage billed for it."""

    content: str | None
    """The reply's text, or None for a reply that only calls tools."""
    tool_calls: tuple[tuple[str, str], ...]
    """The function calls of the reply, in order, as ``(name, arguments JSON)``."""
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str | None
    refusal: str | None = None
    """The model's refusal message (the SDK message's ``refusal``), None when it answered."""


@runtime_checkable
class ChatBackend(Protocol):
    """Chat Completions: each call builds one request (run or awaited), no retries."""

    def complete(self, params: Mapping[str, Any]) -> Request[ChatAnswer]:
        """The request that sends ``params`` (the ``chat.completions.create`` arguments) once."""
        ...


def _answer(response: Any) -> ChatAnswer:
    """Translate an SDK completion, leniently (the SDK does not validate responses)."""
    choices = getattr(response, "choices", None) or []
    if not choices:
        return ChatAnswer(None, (), 0, 0, None)
    choice = choices[0]
    message = choice.message
    calls = tuple(
        (call.function.name, call.function.arguments)
        for call in (message.tool_calls or [])
        if getattr(call, "function", None) is not None
    )
    usage = getattr(response, "usage", None)
    return ChatAnswer(
        content=message.content,
        tool_calls=calls,
        prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        finish_reason=getattr(choice, "finish_reason", None),
        refusal=getattr(message, "refusal", None) or None,
    )


class OpenAIChat(_Adapter):
    """A :class:`ChatBackend` over any openai client: OpenAI or Azure, blocking or async.

    Args:
        client: a configured openai client. It is copied with ``max_retries=0``;
            the original is left untouched.
    """

    def complete(self, params: Mapping[str, Any]) -> Request[ChatAnswer]:
        """One call, no retry; errors translated (``retryable`` set for 429/5xx/timeouts)."""
        return self._request(lambda c: c.chat.completions.create(**params), _answer)


class SdkChat(SdkAdapter):
    """A :class:`ChatBackend` over another provider's SDK (:data:`~ftkit.backend._clients.SDKS`).

    Together's and Fireworks' chat completions take and answer OpenAI's shapes, so the
    request and its translation are the openai adapter's; only the client differs
    (copied with ``max_retries=0``: ftkit's policy retries) and the length limit's name.
    """

    def __init__(self, client: Any) -> None:
        found = sdk_of(client)
        super().__init__(client, asynchronous=found is not None and found[1])

    def complete(self, params: Mapping[str, Any]) -> Request[ChatAnswer]:
        """One call, no retry; errors translated (``retryable`` set for 429/5xx/timeouts).

        These chats take ``max_tokens``, not OpenAI's ``max_completion_tokens``.
        """
        sent = dict(params)
        if "max_completion_tokens" in sent:
            sent["max_tokens"] = sent.pop("max_completion_tokens")
        return self._request(lambda c: c.chat.completions.create(**sent), _answer)


class TogetherChat(SdkChat):
    """A :class:`ChatBackend` over ``together.Together`` / ``together.AsyncTogether``."""


class FireworksChat(SdkChat):
    """A :class:`ChatBackend` over ``fireworks.Fireworks`` / ``fireworks.AsyncFireworks``.

    A fine-tuned model answers only once a deployment serves it
    (:meth:`ftkit.RunResult.deploy`); base models answer serverless.
    """


def resolve_chat(client: Any, *, asynchronous: bool, twin: str) -> ChatBackend:
    """The chat backend for ``client``: an openai, together or fireworks client, a
    :class:`ChatBackend`, or None.

    Raises:
        UsageError: a client of the other kind than ``asynchronous`` asks for
            (``twin`` names the API to use with it), or anything else.
    """
    return resolve_client(
        client,
        adapter=OpenAIChat,
        protocol=ChatBackend,
        asynchronous=asynchronous,
        twin=twin,
        sdk_adapters={"together": TogetherChat, "fireworks": FireworksChat},
    )
