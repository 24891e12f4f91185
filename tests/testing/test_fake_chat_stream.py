"""Streamed Chat Completions in the fake: SSE chunks that rebuild the non-streamed answer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessageParam

from ftkit.testing import ChatBehaviour, FakeFineTuningAPI

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"
BASE = "gpt-4.1-mini-2025-04-14"
PROMPT: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "Hello, tell me about Paris in spring!"}
]


def assemble(chunks: Iterable[ChatCompletionChunk]) -> dict[int, dict[str, Any]]:
    """What a client rebuilds from the chunks, per choice: role, content, tool calls, finish."""
    built: dict[int, dict[str, Any]] = {}
    for chunk in chunks:
        for choice in chunk.choices:
            into = built.setdefault(
                choice.index, {"role": None, "content": None, "calls": {}, "finish": None}
            )
            delta = choice.delta
            if delta.role is not None:
                assert into["role"] is None, "the role is sent once, first"
                into["role"] = delta.role
            assert into["role"] == "assistant", "the role delta comes first"
            if delta.content is not None:
                into["content"] = (into["content"] or "") + delta.content
            for call in delta.tool_calls or []:
                slot = into["calls"].setdefault(call.index, {"id": None, "name": "", "args": ""})
                if call.id is not None:
                    slot["id"] = call.id
                if call.function is not None:
                    slot["name"] += call.function.name or ""
                    slot["args"] += call.function.arguments or ""
            if choice.finish_reason is not None:
                assert into["finish"] is None
                into["finish"] = choice.finish_reason
    return built


def rebuilt_like(completion: ChatCompletion) -> dict[int, dict[str, Any]]:
    """The same view of a non-streamed completion, to compare with :func:`assemble`."""
    return {
        choice.index: {
            "role": choice.message.role,
            "content": choice.message.content,
            "calls": {
                i: {"id": c.id, "name": c.function.name, "args": c.function.arguments}
                for i, c in enumerate(choice.message.tool_calls or [])
                if c.type == "function"
            },
            "finish": choice.finish_reason,
        }
        for choice in completion.choices
    }


def wire(fake: FakeFineTuningAPI, body: dict[str, Any]) -> httpx2.Response:
    request = httpx2.Request(
        "POST",
        "https://api.example.invalid/v1/chat/completions",
        headers={"authorization": "Bearer sk-stream-test", "content-type": "application/json"},
        content=json.dumps(body).encode(),
    )
    return fake.handle(request)


def events(response: httpx2.Response) -> list[str]:
    """The ``data:`` payloads of an SSE body (asserting it is nothing but such events)."""
    text = response.text
    assert text.endswith("\n\n")
    blocks = text[:-2].split("\n\n")
    assert all(b.startswith("data: ") and "\n" not in b for b in blocks), blocks
    return [b[len("data: ") :] for b in blocks]


@pytest.fixture
def fake() -> FakeFineTuningAPI:
    return FakeFineTuningAPI(chat=ChatBehaviour(error_rate=0.0))


def test_a_sync_stream_rebuilds_the_non_streamed_answer(fake: FakeFineTuningAPI) -> None:
    client = fake.client(max_retries=0)
    whole = client.chat.completions.create(model=BASE, messages=PROMPT)
    stream = client.chat.completions.create(model=BASE, messages=PROMPT, stream=True)
    assert isinstance(stream, openai.Stream)
    chunks = list(stream)
    assert len(chunks) > 3, "the content comes in several deltas"
    assert all(isinstance(c, ChatCompletionChunk) for c in chunks)
    assert {(c.id, c.created, c.model, c.object) for c in chunks} == {
        (whole.id, whole.created, whole.model, "chat.completion.chunk")
    }
    assert assemble(chunks) == rebuilt_like(whole)
    assert chunks[0].choices[0].delta.content == ""
    assert chunks[-1].choices[0].delta.model_dump(exclude_none=True) == {}
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks)


def test_an_async_stream_rebuilds_the_same_answer(fake: FakeFineTuningAPI) -> None:
    whole = fake.client(max_retries=0).chat.completions.create(model=BASE, messages=PROMPT)

    async def scenario() -> list[ChatCompletionChunk]:
        client = fake.async_client(max_retries=0)
        stream = await client.chat.completions.create(
            model=BASE,
            messages=PROMPT,
            stream=True,
            stream_options={"include_usage": True},
        )
        assert isinstance(stream, openai.AsyncStream)
        return [chunk async for chunk in stream]

    chunks = asyncio.run(scenario())
    assert assemble(chunks) == rebuilt_like(whole)
    assert chunks[-1].usage == whole.usage


def test_include_usage_ends_with_a_usage_only_chunk(fake: FakeFineTuningAPI) -> None:
    body = {"model": BASE, "messages": PROMPT, "n": 2}
    whole = json.loads(wire(fake, body).content)
    response = wire(fake, {**body, "stream": True, "stream_options": {"include_usage": True}})
    payloads = events(response)
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    last = chunks[-1]
    assert last["choices"] == []
    assert last["usage"] == whole["usage"]
    assert all("usage" in c and c["usage"] is None for c in chunks[:-1])
    assert sorted({c["choices"][0]["index"] for c in chunks[:-1]}) == [0, 1]
    client_view = assemble(ChatCompletionChunk.model_validate(c) for c in chunks)
    assert client_view == rebuilt_like(ChatCompletion.model_validate(whole))


def test_the_wire_is_server_sent_events_of_strictly_valid_chunks(
    fake: FakeFineTuningAPI,
) -> None:
    response = wire(fake, {"model": BASE, "messages": PROMPT, "stream": True})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    payloads = events(response)
    assert payloads[-1] == "[DONE]" and "[DONE]" not in payloads[:-1]
    for payload in payloads[:-1]:
        chunk = json.loads(payload)
        ChatCompletionChunk.model_validate(chunk, strict=True)
        assert "usage" not in chunk, "usage is only sent when include_usage asks for it"
        assert chunk["obfuscation"], "the API pads chunks unless include_obfuscation is false"
        assert chunk["choices"][0]["logprobs"] is None
    plain = wire(
        fake,
        {
            "model": BASE,
            "messages": PROMPT,
            "stream": True,
            "stream_options": {"include_obfuscation": False},
        },
    )
    assert all("obfuscation" not in json.loads(p) for p in events(plain)[:-1])


def test_tool_call_deltas_rebuild_the_learned_call(fake: FakeFineTuningAPI) -> None:
    client = fake.client(max_retries=0)
    content = (EXAMPLES / "tool_calling_sft.jsonl").read_bytes()
    file = client.files.create(file=("train.jsonl", content), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(model=BASE, training_file=file.id)
    fake.advance(100_000)
    model = client.fine_tuning.jobs.retrieve(job.id).fine_tuned_model
    assert model is not None
    row = json.loads(content.splitlines()[0])
    first_call = next(i for i, m in enumerate(row["messages"]) if m.get("tool_calls"))
    request = {"model": model, "messages": row["messages"][:first_call], "tools": row["tools"]}
    whole = client.chat.completions.create(**request)
    chunks = list(client.chat.completions.create(**request, stream=True))
    assert assemble(chunks) == rebuilt_like(whole)
    assert whole.choices[0].finish_reason == "tool_calls"
    head = chunks[0].choices[0].delta
    assert head.role == "assistant" and head.content is None
    assert head.tool_calls is not None and head.tool_calls[0].function is not None
    assert head.tool_calls[0].function.arguments == ""
    argument_deltas = [d for c in chunks[1:-1] for d in c.choices[0].delta.tool_calls or []]
    assert len(argument_deltas) > 1, "the arguments come in several deltas"
    assert all(d.id is None and d.function is not None for d in argument_deltas)


def test_a_cut_reply_streams_its_length_finish(fake: FakeFineTuningAPI) -> None:
    client = fake.client(max_retries=0)
    request: dict[str, Any] = {"model": BASE, "messages": PROMPT, "max_completion_tokens": 4}
    whole = client.chat.completions.create(**request)
    assert whole.choices[0].finish_reason == "length"
    assert assemble(client.chat.completions.create(**request, stream=True)) == rebuilt_like(whole)


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"stream_options": {"include_usage": True}}, "stream_options"),
        ({"stream": False, "stream_options": {"include_usage": True}}, "stream_options"),
        ({"stream": "yes"}, "stream"),
        ({"stream": True, "stream_options": "usage"}, "stream_options"),
        ({"stream": True, "stream_options": {"include_usage": 1}}, "stream_options.include_usage"),
    ],
)
def test_malformed_stream_requests_are_400(
    fake: FakeFineTuningAPI, extra: dict[str, Any], param: str
) -> None:
    response = wire(fake, {"model": BASE, "messages": PROMPT, **extra})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


def test_a_stream_through_the_loopback_server(fake: FakeFineTuningAPI) -> None:
    with fake.serve() as server:
        client = openai.OpenAI(
            api_key="sk-server-stream",
            base_url=server.base_url,
            max_retries=0,
            timeout=30,
            http_client=httpx2.Client(trust_env=False),
        )
        whole = client.chat.completions.create(model=BASE, messages=PROMPT)
        chunks = list(
            client.chat.completions.create(
                model=BASE,
                messages=PROMPT,
                stream=True,
                stream_options={"include_usage": True},
            )
        )
    assert assemble(chunks) == rebuilt_like(whole)
    assert chunks[-1].choices == [] and chunks[-1].usage == whole.usage
