"""Stored completions on the fake (``store=True``), read back with the real openai client."""

from __future__ import annotations

import asyncio
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionDeleted, ChatCompletionStoreMessage

from ftkit.testing import FakeFineTuningAPI

MODEL = "gpt-4o-mini-2024-07-18"
OTHER = "gpt-4.1-mini-2025-04-14"


def _store(
    client: openai.OpenAI, text: str, *, model: str = MODEL, **metadata: str
) -> ChatCompletion:
    return client.chat.completions.create(
        model=model,
        messages=[
            {"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": text},
        ],
        store=True,
        metadata=metadata or None,
    )


def _ids(page: Any) -> list[str]:
    return [item.id for item in page.data]


def test_a_stored_completion_is_served_back_as_it_was_answered(
    fake: FakeFineTuningAPI, client: openai.OpenAI
) -> None:
    created = _store(client, "hello", task="greet")
    client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "not kept"}])
    raw = client.chat.completions.with_raw_response.retrieve(created.id).http_response.json()
    again = ChatCompletion.model_validate(raw)  # the SDK's own type, validated
    assert again == created
    assert again.metadata == {"task": "greet"}
    assert again.usage is not None and again.usage.prompt_tokens > 0
    assert _ids(client.chat.completions.list()) == [created.id]


def test_the_same_prompt_stored_twice_is_two_records_with_the_same_answer(
    client: openai.OpenAI,
) -> None:
    first, second = _store(client, "same"), _store(client, "same")
    assert first.id != second.id
    assert first.choices[0].message.content == second.choices[0].message.content
    assert _ids(client.chat.completions.list()) == [first.id, second.id]


def test_list_filters_orders_and_pages(fake: FakeFineTuningAPI, client: openai.OpenAI) -> None:
    made = []
    for i in range(5):
        made.append(_store(client, f"q{i}", model=OTHER if i == 4 else MODEL, split=str(i % 2)))
        fake.advance(10)
    ids = [c.id for c in made]
    raw = client.chat.completions.with_raw_response.list(limit=2).http_response.json()
    assert raw["first_id"] == ids[0] and raw["last_id"] == ids[1] and raw["has_more"] is True
    for item in raw["data"]:
        ChatCompletion.model_validate(item)
    assert [c.id for c in client.chat.completions.list(limit=2)] == ids  # auto-pagination
    assert _ids(client.chat.completions.list(order="desc", limit=3)) == ids[::-1][:3]
    assert _ids(client.chat.completions.list(after=ids[1], limit=2)) == ids[2:4]
    assert _ids(client.chat.completions.list(model=OTHER)) == [ids[4]]
    assert _ids(client.chat.completions.list(metadata={"split": "1"})) == [ids[1], ids[3]]
    assert _ids(client.chat.completions.list(model=MODEL, metadata={"split": "0"})) == [
        ids[0],
        ids[2],
    ]
    empty = client.chat.completions.with_raw_response.list(model="nope").http_response.json()
    # The spec types first_id/last_id as required strings, never null.
    assert empty == {"object": "list", "data": [], "first_id": "", "last_id": "", "has_more": False}


def test_desc_lists_completions_of_the_same_second_newest_first(client: openai.OpenAI) -> None:
    ids = [_store(client, f"q{i}").id for i in range(3)]
    assert _ids(client.chat.completions.list(order="desc")) == ids[::-1]


def test_messages_are_the_inputs_with_ids_paginated(client: openai.OpenAI) -> None:
    parts = [{"type": "text", "text": "look"}]
    inputs: list[Any] = [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": parts},
    ]
    created = client.chat.completions.create(model=MODEL, messages=inputs, store=True)
    messages = list(client.chat.completions.messages.list(created.id, limit=3))
    assert all(isinstance(m, ChatCompletionStoreMessage) for m in messages)
    assert [m.id for m in messages] == [f"{created.id}-{i}" for i in range(4)]
    assert [m.role for m in messages] == ["system", "user", "assistant", "user"]
    assert [m.content for m in messages] == ["Be kind.", "first", "ok", None]
    assert messages[3].content_parts is not None
    assert [p.model_dump(exclude_none=True) for p in messages[3].content_parts] == parts
    ChatCompletionStoreMessage.model_validate(messages[2].model_dump())  # the assistant turn
    raw = client.chat.completions.messages.with_raw_response.list(
        created.id, limit=2, order="desc"
    ).http_response.json()
    assert [m["id"] for m in raw["data"]] == [f"{created.id}-3", f"{created.id}-2"]
    assert (raw["first_id"], raw["last_id"], raw["has_more"]) == (
        f"{created.id}-3",
        f"{created.id}-2",
        True,
    )


def test_update_replaces_metadata_and_delete_removes(client: openai.OpenAI) -> None:
    created = _store(client, "hello", keep="no")
    updated = client.chat.completions.update(created.id, metadata={"keep": "yes", "by": "me"})
    assert updated.metadata == {"keep": "yes", "by": "me"}
    assert _ids(client.chat.completions.list(metadata={"keep": "yes"})) == [created.id]
    assert _ids(client.chat.completions.list(metadata={"keep": "no"})) == []
    deleted = client.chat.completions.delete(created.id)
    assert deleted == ChatCompletionDeleted(
        id=created.id, deleted=True, object="chat.completion.deleted"
    )
    assert _ids(client.chat.completions.list()) == []


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.chat.completions.retrieve("chatcmpl-nope"),
        lambda c: c.chat.completions.update("chatcmpl-nope", metadata={}),
        lambda c: c.chat.completions.delete("chatcmpl-nope"),
        lambda c: c.chat.completions.messages.list("chatcmpl-nope"),
    ],
)
def test_an_unknown_id_is_404(client: openai.OpenAI, call: Any) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        call(client)
    assert "chatcmpl-nope" in caught.value.message


@pytest.mark.parametrize(
    ("call", "param"),
    [
        (lambda c: c.chat.completions.list(limit=0), "limit"),
        (lambda c: c.chat.completions.list(limit=101), "limit"),
        (lambda c: c.chat.completions.list(order="sideways"), "order"),
        (lambda c: c.get("/chat/completions?metadata[a][b]=x", cast_to=object), "metadata"),
        (lambda c: c.chat.completions.messages.list("chatcmpl-x", order="up"), "order"),
        (lambda c: c.post("/chat/completions/chatcmpl-x", body={}, cast_to=object), "metadata"),
        (lambda c: _store(c, "x", **{f"k{i}": "v" for i in range(17)}), "metadata"),
        (lambda c: _store(c, "x", k="v" * 513), "metadata.k"),
    ],
)
def test_bad_parameters_are_400_with_param(client: openai.OpenAI, call: Any, param: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        call(client)
    assert caught.value.param == param


def test_a_bad_update_keeps_the_old_metadata(client: openai.OpenAI) -> None:
    created = _store(client, "hello", keep="no")
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.update(created.id, metadata={"keep": 1})  # type: ignore[dict-item]
    assert client.chat.completions.retrieve(created.id).metadata == {"keep": "no"}


def test_the_async_client_reads_stored_completions(fake: FakeFineTuningAPI) -> None:
    async def scenario() -> tuple[list[str], list[str], str]:
        client = fake.async_client(max_retries=0)
        created = await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}], store=True
        )
        listed = [c.id async for c in client.chat.completions.list(limit=1)]
        messages = [m.id async for m in client.chat.completions.messages.list(created.id)]
        return listed, messages, created.id

    listed, messages, created_id = asyncio.run(scenario())
    assert listed == [created_id]
    assert messages == [f"{created_id}-0"]
