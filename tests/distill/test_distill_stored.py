"""ftkit.distill.from_stored through the real openai client on the fake's stored completions."""

from __future__ import annotations

import asyncio
import inspect
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from distill_support import BASE, JSON_FILE, TOOLS_FILE, retry_on, rows

import ftkit
from ftkit.distill import _stored, afrom_stored, from_stored
from ftkit.testing import ChatBehaviour, FakeFineTuningAPI


@pytest.fixture
def fake() -> FakeFineTuningAPI:
    return FakeFineTuningAPI(chat=ChatBehaviour(error_rate=0.0))


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of two, so a handful of completions (and of messages) spans several pages."""
    monkeypatch.setattr(_stored, "_PAGE", 2)


def _traffic(
    fake: FakeFineTuningAPI, path: Path, count: int, *, model: str = BASE, every: float = 60.0
) -> list[dict[str, Any]]:
    """Ask ``model`` the first ``count`` prompts of ``path`` with store=True, a minute apart.

    Metadata alternates ``task=a`` / ``task=b``; returns what was sent.
    """
    client = fake.client(max_retries=0)
    sent = []
    for i, row in enumerate(rows(path)[:count]):
        messages = [{k: v for k, v in m.items() if k != "weight"} for m in row["messages"][:-1]]
        body: dict[str, Any] = {"model": model, "messages": messages}
        if row.get("tools"):
            body["tools"] = row["tools"]
        client.chat.completions.create(**body, store=True, metadata={"task": "ab"[i % 2]})
        sent.append(body)
        fake.advance(every)
    return sent


def _given(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if v is not None}


def test_pages_through_completions_and_their_messages(
    fake: FakeFineTuningAPI, small_pages: None
) -> None:
    sent = _traffic(fake, TOOLS_FILE, 5)
    dataset = from_stored(fake.client(max_retries=0), retry=retry_on(fake))

    assert len(dataset) == 5
    lists = fake.calls("chat.completions.list")
    assert len(lists) == 3 and [r.query.get("limit") for r in lists] == ["2", "2", "2"]
    assert lists[1].query["after"] and lists[0].query["order"] == "asc"
    # Each conversation's inputs (4 to 6 messages: tool turns) are read two at a time.
    pages = sum(-(-len(body["messages"]) // 2) for body in sent)
    assert pages > len(sent)
    assert len(fake.calls("chat.completions.messages.list")) == pages
    for record, body in zip(dataset, sent, strict=True):
        messages = record.to_dict()["messages"]
        # The inputs, in order, tool turns included (a null content reads as no content).
        assert messages[:-1] == [_given(m) for m in body["messages"]]
        assert messages[-1]["role"] == "assistant"
        # The API does not return the tool definitions: not in the records unless supplied.
        assert "tools" not in record.to_dict()


def test_the_records_are_the_stored_answers(fake: FakeFineTuningAPI) -> None:
    client = fake.client(max_retries=0)
    sent = _traffic(fake, JSON_FILE, 3)
    stored = list(client.chat.completions.list(order="asc"))
    dataset = from_stored(client)
    for record, completion, body in zip(dataset, stored, sent, strict=True):
        data = record.to_dict()
        assert data["messages"][:-1] == body["messages"]
        assert data["messages"][-1]["content"] == completion.choices[0].message.content


def test_model_and_metadata_are_filtered_by_the_server(fake: FakeFineTuningAPI) -> None:
    _traffic(fake, JSON_FILE, 4)
    _traffic(fake, JSON_FILE, 2, model="gpt-4o-mini-2024-07-18")
    client = fake.client(max_retries=0)

    assert len(from_stored(client, metadata={"task": "a"})) == 3  # 2 + 1
    query = fake.calls("chat.completions.list")[-1].query
    assert query["metadata[task]"] == "a"
    assert len(from_stored(client, model=BASE)) == 4
    assert fake.calls("chat.completions.list")[-1].query["model"] == BASE
    assert len(from_stored(client, model=BASE, metadata={"task": "b"})) == 2
    assert len(from_stored(client, metadata={"task": "none"})) == 0


def test_since_and_until_filter_by_created_time(fake: FakeFineTuningAPI) -> None:
    start = fake.clock.now()
    _traffic(fake, JSON_FILE, 6, every=3600.0)  # one an hour
    client = fake.client(max_retries=0)
    created = [c.created for c in client.chat.completions.list(order="asc")]
    assert len(created) == 6 and created[0] >= int(start)

    window = from_stored(client, since=created[1], until=created[3])
    assert len(window) == 3
    moment = datetime.fromtimestamp(created[4], tz=timezone.utc)
    assert len(from_stored(client, since=moment)) == 2
    naive = moment.replace(tzinfo=None)  # naive means UTC
    assert len(from_stored(client, until=naive)) == 5
    assert len(from_stored(client, limit=2)) == 2
    with pytest.raises(ftkit.UsageError, match="since"):
        from_stored(client, since="yesterday")  # type: ignore[arg-type]


def test_tool_definitions_come_from_the_caller(fake: FakeFineTuningAPI) -> None:
    sent = _traffic(fake, TOOLS_FILE, 2)
    tools = rows(TOOLS_FILE)[0]["tools"]
    dataset = from_stored(fake.client(max_retries=0), tools=tools)
    assert [r.to_dict()["tools"] for r in dataset] == [tools, tools]
    assert sent[0]["tools"] == tools


def test_stored_answers_train_a_student_that_evaluates(
    fake: FakeFineTuningAPI, tmp_path: Path
) -> None:
    """Stored traffic -> dataset -> SFT on the fake -> ftkit.evaluate: the whole loop."""
    from ftkit.polling import PollPolicy

    # The teacher: a fine-tune that knows the JSON extraction answers; its traffic is stored.
    teacher = _teach(fake)
    _traffic(fake, JSON_FILE, 20, model=teacher)
    client = fake.client(max_retries=0)
    dataset = from_stored(client, model=teacher)
    assert len(dataset) == 20
    train, test = dataset.split(test_size=0.25, seed=0)
    result = (
        ftkit.FineTune(client)
        .model(BASE)
        .sft(train)
        .retry(retry_on(fake, attempts=6))
        .poll(PollPolicy(initial_delay=10.0, sleep=fake.clock.sleep, clock=fake.clock.now))
        .state_dir(tmp_path / "state")
        .run()
    )
    assert result.fine_tuned_model
    report = ftkit.evaluate(
        {"student": result.fine_tuned_model, "teacher": teacher},
        test,  # held out: the student never saw these
        client=client,
        retry=retry_on(fake),
        scorer="json-fields",
    )
    assert report.scores["teacher"].mean == pytest.approx(1.0)  # it answered them
    student = report.scores["student"]
    assert student.n == len(test) == 5 and student.errors == 0
    assert 0.0 < student.mean < 1.0  # the format and common values, not the specifics
    assert "student" in str(report) and "teacher" in str(report)


def _teach(fake: FakeFineTuningAPI) -> str:
    from distill_support import train

    return train(fake, JSON_FILE)


def test_the_async_twin_reads_the_same_records(fake: FakeFineTuningAPI, small_pages: None) -> None:
    assert inspect.signature(afrom_stored).parameters == inspect.signature(from_stored).parameters
    _traffic(fake, TOOLS_FILE, 3)
    before = len(fake.requests)
    sync = from_stored(fake.client(max_retries=0), metadata={"task": "a"})
    reads = len(fake.requests) - before

    async def main() -> ftkit.Dataset:
        return await afrom_stored(
            fake.async_client(max_retries=0), metadata={"task": "a"}, retry=retry_on(fake)
        )

    assert asyncio.run(main()) == sync and len(sync) == 2  # prompts 0 and 2
    assert len(fake.requests) == before + 2 * reads  # the same requests, awaited
    with pytest.raises(ftkit.UsageError, match="afrom_stored"):
        from_stored(fake.async_client())


def test_paging_stops_at_until_and_at_the_limit(fake: FakeFineTuningAPI, small_pages: None) -> None:
    """Read oldest first, the pages after ``until`` or the ``limit`` are never asked for."""
    _traffic(fake, JSON_FILE, 6)
    client = fake.client(max_retries=0)
    created = [c.created for c in client.chat.completions.list(order="asc")]
    assert len(set(created)) == 6

    def reads() -> tuple[int, int]:
        return (
            len(fake.calls("chat.completions.list")),
            len(fake.calls("chat.completions.messages.list")),
        )

    for options in ({"until": created[2]}, {"limit": 3}):
        before = reads()
        assert len(from_stored(client, **options)) == 3
        lists, messages = (now - then for now, then in zip(reads(), before, strict=True))
        assert lists == 2  # pages of two: the third page is never read
        assert messages == 3  # one short conversation each, read for the kept ones only


def test_filtered_completions_are_dropped_before_their_messages_are_read(
    fake: FakeFineTuningAPI,
) -> None:
    client = fake.client(max_retries=0)
    for i, row in enumerate(rows(JSON_FILE)[:4]):
        messages = [{k: v for k, v in m.items() if k != "weight"} for m in row["messages"][:-1]]
        cut = {"max_completion_tokens": 3} if i % 2 else {}  # cut by the length limit
        client.chat.completions.create(model=BASE, messages=messages, store=True, **cut)
        fake.advance(60.0)
    stored = list(client.chat.completions.list(order="asc"))
    assert [c.choices[0].finish_reason for c in stored] == ["stop", "length"] * 2

    before = len(fake.calls("chat.completions.messages.list"))
    dataset = from_stored(client)
    assert len(dataset) == 2
    assert len(fake.calls("chat.completions.messages.list")) == before + 2
    contents = [r.to_dict()["messages"][-1]["content"] for r in dataset]
    assert contents == [stored[0].choices[0].message.content, stored[2].choices[0].message.content]
    assert len(from_stored(client, filters=[])) == 4  # no filter: the cut answers too
