"""SFT records from stored chat completions: a teacher's past traffic, read back.

A completion created with ``store=True`` is kept by OpenAI (and Azure OpenAI)
with its input messages; :func:`from_stored` pages through
``chat.completions.list`` (filtered by ``model`` and ``metadata`` on the
server), reads each one's inputs with ``chat.completions.messages.list`` and
builds ``{"messages": inputs + [answer]}``.

What is lost: the API returns no request parameters, so **tool definitions do
not come back**; pass them as ``tools=`` (the ones the traffic was made with),
else records whose answers call tools have no ``tools`` key. The list endpoint
has no time filter either: ``since`` / ``until`` are applied here, to each
completion's ``created`` time (the list is read oldest first, so paging stops
at the first completion after ``until``). Each page request runs under the
:class:`~ftkit.RetryPolicy`, through a copy of the client without its own retries.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from .._exceptions import UsageError
from .._steps import Program, arun, run
from .._twins import parameters_of
from .._virtual_time import on_client_time
from .._words import plural
from ..backend import ChatAnswer, OpenAIChat
from ..backend._chat import _answer
from ..backend._clients import resolve_client
from ..backend._program import Retried
from ..backend._request import Request
from ..dataset import Dataset
from ..retry import RetryPolicy
from ..schema import SFTRecord
from ._filters import DEFAULT_FILTERS, FilterArg, resolve_filters, verdict

__all__ = ["afrom_stored", "from_stored"]

log = logging.getLogger("ftkit.distill")

_PAGE = 100  # the list endpoints' largest page
_INPUT_KEYS = ("role", "content", "name", "tool_calls", "tool_call_id", "function_call")


class _StoredReader(OpenAIChat):
    """The two read requests of stored completions, over a retry-free copy of the client."""

    def completions(self, params: Mapping[str, Any]) -> Request[Any]:
        return self._request(lambda c: c.chat.completions.list(**params), lambda page: page)

    def messages(self, completion_id: str, after: str | None) -> Request[Any]:
        extra: dict[str, Any] = {"after": after} if after else {}
        return self._request(
            lambda c: c.chat.completions.messages.list(
                completion_id, limit=_PAGE, order="asc", **extra
            ),
            lambda page: page,
        )


def _seconds(value: datetime | float | int | None, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return moment.timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise UsageError(f"{name} must be a datetime or Unix seconds, got {value!r}")


def _dump(item: Any) -> dict[str, Any]:
    data = item.model_dump() if hasattr(item, "model_dump") else dict(item)
    return dict(data)


def _input_message(stored: Mapping[str, Any]) -> dict[str, Any]:
    """A ``ChatCompletionStoreMessage`` as a training message: content parts put back."""
    message = {k: stored[k] for k in _INPUT_KEYS if stored.get(k) is not None}
    parts = stored.get("content_parts")
    if message.get("content") is None and parts:
        message["content"] = [{k: v for k, v in p.items() if v is not None} for p in parts]
    if message.get("role") != "assistant":
        message.pop("tool_calls", None)
        message.pop("function_call", None)
    return message


def _answer_message(answer: ChatAnswer, completion_id: str, raw: Any) -> dict[str, Any]:
    """The stored answer as an assistant turn, its tool calls with the ids they were given."""
    turn: dict[str, Any] = {"role": "assistant"}
    if answer.content is not None:
        turn["content"] = answer.content
    message = raw.choices[0].message
    calls = [c for c in (message.tool_calls or []) if getattr(c, "function", None) is not None]
    if calls:
        turn["tool_calls"] = [
            {
                "id": call.id or f"call_{completion_id}_{i}",
                "type": "function",
                "function": {"name": call.function.name, "arguments": call.function.arguments},
            }
            for i, call in enumerate(calls)
        ]
    return turn


def _reading(
    reader: _StoredReader,
    policy: RetryPolicy,
    *,
    model: str | None,
    metadata: Mapping[str, str] | None,
    since: datetime | float | None,
    until: datetime | float | None,
    limit: int | None,
    tools: Sequence[Mapping[str, Any]] | None,
    filters: Sequence[FilterArg] | None,
) -> Program[Dataset]:
    """The pages to read, as a program (:mod:`ftkit._steps`): both drivers run it."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise UsageError(f"limit must be a positive integer, got {limit!r}")
    start, end = _seconds(since, "since"), _seconds(until, "until")
    resolved = resolve_filters(filters)
    params: dict[str, Any] = {"limit": _PAGE, "order": "asc"}
    if model is not None:
        params["model"] = model
    if metadata:
        params["metadata"] = dict(metadata)
    extra_tools = [dict(t) for t in tools] if tools else None
    records: list[SFTRecord] = []
    dropped: Counter[str] = Counter()
    after: str | None = None
    while limit is None or len(records) < limit:
        cursor = {"after": after} if after else {}
        listed = yield Retried(reader.completions({**params, **cursor}), policy)
        for completion in listed.data:
            created = float(completion.created)
            if end is not None and created > end:  # oldest first: none later is in range
                return _done(records, dropped)
            if (start is not None and created < start) or not completion.choices:
                continue
            answer = _answer(completion)
            reason = verdict(resolved, answer, None)
            if reason is not None:
                dropped[reason] += 1
                continue
            inputs: list[dict[str, Any]] = []
            message_cursor: str | None = None
            while True:
                page = yield Retried(reader.messages(completion.id, message_cursor), policy)
                inputs += [_input_message(_dump(m)) for m in page.data]
                if not page.data or not getattr(page, "has_more", False):
                    break
                message_cursor = page.data[-1].id
            data: dict[str, Any] = {
                "messages": [*inputs, _answer_message(answer, completion.id, completion)]
            }
            if extra_tools:
                data["tools"] = extra_tools
            try:
                records.append(SFTRecord.model_validate(data))
            except ValueError as exc:
                dropped["invalid"] += 1
                log.warning("stored completion %s is not a valid record: %s", completion.id, exc)
            if limit is not None and len(records) >= limit:
                break
        if not listed.data or not getattr(listed, "has_more", False):
            break
        after = listed.data[-1].id
    return _done(records, dropped)


def from_stored(
    client: Any,
    *,
    model: str | None = None,
    metadata: Mapping[str, str] | None = None,
    since: datetime | float | None = None,
    until: datetime | float | None = None,
    limit: int | None = None,
    tools: Sequence[Mapping[str, Any]] | None = None,
    filters: Sequence[FilterArg] | None = DEFAULT_FILTERS,
    retry: int | RetryPolicy | None = None,
) -> Dataset:
    """Build an SFT dataset from stored chat completions (``store=True`` traffic).

    Args:
        client: an ``openai.OpenAI`` / ``openai.AzureOpenAI`` client (None: from the
            environment).
        model: only completions of this model (the server filters).
        metadata: only completions whose metadata has all these pairs (the server filters).
        since, until: only completions created in ``[since, until]`` (a datetime, naive
            meaning UTC, or Unix seconds), filtered here by ``created``: the API has no
            time filter.
        limit: stop after this many records.
        tools: the tool definitions the traffic was made with, added to every record:
            the API does not return them.
        filters: answers left out, as :func:`generate`'s (refusals, cut answers, empty
            ones by default); how many were dropped, and why, is logged.
        retry: the per-request :class:`~ftkit.RetryPolicy` (or max attempts).

    Returns:
        A :class:`~ftkit.Dataset` of SFT records, oldest first.

    Raises:
        UsageError: bad arguments, or a client that is not an openai client.
        ftkit.APIError: a request that failed for good.
    """
    reader = _reader(client, asynchronous=False)
    return run(
        _reading(reader, on_client_time(RetryPolicy.coerce(retry), client), **_options(locals()))
    )


@parameters_of(from_stored)
async def afrom_stored(**arguments: Any) -> Dataset:
    """The awaitable twin of :func:`from_stored`, over ``openai.AsyncOpenAI`` (the same reads)."""
    client = arguments["client"]
    reader = _reader(client, asynchronous=True)
    policy = on_client_time(RetryPolicy.coerce(arguments["retry"]), client)
    return await arun(_reading(reader, policy, **_options(arguments)))


def _options(arguments: Mapping[str, Any]) -> dict[str, Any]:
    names = ("model", "metadata", "since", "until", "limit", "tools", "filters")
    return {name: arguments[name] for name in names}


def _reader(client: Any, *, asynchronous: bool) -> _StoredReader:
    reader: _StoredReader = resolve_client(
        client,
        adapter=_StoredReader,
        protocol=_StoredReader,
        asynchronous=asynchronous,
        twin="ftkit.distill.afrom_stored" if not asynchronous else "ftkit.distill.from_stored",
    )
    return reader


def _done(records: list[SFTRecord], dropped: Counter[str]) -> Dataset:
    if dropped:
        log.info(
            "stored completions dropped: %s",
            ", ".join(f"{reason} {count}" for reason, count in sorted(dropped.items())),
        )
    log.info("built %s from stored completions", plural(len(records), "record"))
    return Dataset(records)
