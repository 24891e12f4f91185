"""Streamed Chat Completions in the fake: a ``chat.completion`` told as Server-Sent Events.

``stream=True`` changes how an answer travels, not what it says: the fake computes
the same deterministic ``chat.completion`` as without streaming and replays it as
the ``chat.completion.chunk`` events OpenAI sends, so the concatenated deltas equal
the non-streamed answer. Per choice: a first delta with the role (and the first
tool call's id and name when there is no text), the content in token-like pieces,
each tool call's arguments in pieces, then an empty delta with the
``finish_reason``. With ``stream_options.include_usage`` every chunk carries
``"usage": null`` and one last chunk has empty ``choices`` and the usage. The body
ends with ``data: [DONE]``. Every chunk carries an ``obfuscation`` padding string
unless ``stream_options.include_obfuscation`` is false, as the API documents.

The fake answers in one go, so the events arrive as one complete body (also through
``ftkit fake-server``); a client parses them exactly as it parses a live stream.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2

from ._core import bad_request

__all__ = ["StreamOptions", "sse_response", "stream_chunks", "stream_options"]

_PIECE = re.compile(r"\s*\w+|\s*[^\w\s]+|\s+")
"""Token-like pieces: a word or a run of punctuation with the spaces before it."""


@dataclass(frozen=True)
class StreamOptions:
    """What a streaming request asked for besides the chunks themselves."""

    include_usage: bool = False
    include_obfuscation: bool = True


def stream_options(body: dict[str, Any]) -> StreamOptions | None:
    """The stream options of a request body; ``None`` when it does not stream.

    Raises:
        WireError: 400 for a non-boolean ``stream``, a malformed ``stream_options``,
            or ``stream_options`` without ``stream: true`` (the API refuses it too).
    """
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise bad_request(
            f"Invalid type for 'stream': expected a boolean, got {stream!r}.", param="stream"
        )
    raw = body.get("stream_options")
    if raw is None:
        return StreamOptions() if stream else None
    if not stream:
        raise bad_request(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            param="stream_options",
        )
    if not isinstance(raw, dict):
        raise bad_request("stream_options must be an object.", param="stream_options")
    flags: dict[str, bool] = {}
    for name in ("include_usage", "include_obfuscation"):
        value = raw.get(name)
        if value is None:
            continue
        if not isinstance(value, bool):
            raise bad_request(
                f"Invalid type for 'stream_options.{name}': expected a boolean.",
                param=f"stream_options.{name}",
            )
        flags[name] = value
    return StreamOptions(**flags)


def pieces(text: str) -> list[str]:
    """``text`` cut the way a model emits it (``"".join`` gives ``text`` back)."""
    return _PIECE.findall(text)


def _deltas(message: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The deltas that rebuild one ``message``, first the role, in the API's order."""
    content = message.get("content")
    calls: list[dict[str, Any]] = message.get("tool_calls") or []
    first: dict[str, Any] = {"role": "assistant", "content": "" if content is not None else None}
    headers = [
        {
            "index": index,
            "id": call["id"],
            "type": call["type"],
            "function": {"name": call["function"]["name"], "arguments": ""},
        }
        for index, call in enumerate(calls)
    ]
    if content is None and headers:
        first["tool_calls"] = [headers[0]]
    first["refusal"] = None
    yield first
    for piece in pieces(content or ""):
        yield {"content": piece}
    for index, call in enumerate(calls):
        if index or content is not None:
            yield {"tool_calls": [headers[index]]}
        for piece in pieces(call["function"]["arguments"]):
            yield {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}


def stream_chunks(completion: dict[str, Any], options: StreamOptions) -> list[dict[str, Any]]:
    """The ``chat.completion.chunk`` objects that tell ``completion``, in order."""
    envelope = {
        "id": completion["id"],
        "object": "chat.completion.chunk",
        "created": completion["created"],
        "model": completion["model"],
        "service_tier": completion.get("service_tier"),
        "system_fingerprint": completion.get("system_fingerprint"),
    }

    def chunk(choices: list[dict[str, Any]], usage: Any = None) -> dict[str, Any]:
        made: dict[str, Any] = {**envelope, "choices": choices}
        if options.include_usage:
            made["usage"] = usage
        if options.include_obfuscation:
            made["obfuscation"] = _padding(made)
        return made

    chunks: list[dict[str, Any]] = []
    for choice in completion["choices"]:
        index = choice["index"]
        for delta in _deltas(choice["message"]):
            chunks.append(
                chunk([{"index": index, "delta": delta, "logprobs": None, "finish_reason": None}])
            )
        chunks.append(
            chunk(
                [
                    {
                        "index": index,
                        "delta": {},
                        "logprobs": None,
                        "finish_reason": choice["finish_reason"],
                    }
                ]
            )
        )
    if options.include_usage:
        chunks.append(chunk([], completion["usage"]))
    return chunks


def _padding(chunk: dict[str, Any]) -> str:
    """Deterministic filler that evens out chunk sizes, like the API's side-channel mitigation."""
    text = json.dumps(chunk, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return digest[: 4 + len(text) % 12]


def sse_response(chunks: list[dict[str, Any]]) -> httpx2.Response:
    """One ``text/event-stream`` body: a ``data:`` event per chunk, then ``data: [DONE]``."""
    events = [
        f"data: {json.dumps(c, separators=(',', ':'), ensure_ascii=False)}\n\n" for c in chunks
    ]
    body = "".join(events) + "data: [DONE]\n\n"
    return httpx2.Response(
        200,
        headers={"content-type": "text/event-stream; charset=utf-8"},
        content=body.encode("utf-8"),
    )
