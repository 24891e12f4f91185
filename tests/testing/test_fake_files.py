"""Files and uploads on the fake: limits, pagination, expiry, part assembly, processing."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import openai
import pytest

from ftkit.testing import FakeFineTuningAPI, Limits, Timings

LINE = (
    b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n'
)


@pytest.fixture
def fake() -> FakeFineTuningAPI:
    return FakeFineTuningAPI(limits=Limits(file_bytes=1000, upload_bytes=5000, part_bytes=300))


def test_fine_tune_files_must_be_jsonl(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match=r"\.jsonl") as caught:
        client.files.create(file=("train.csv", LINE), purpose="fine-tune")
    assert caught.value.param == "file"
    client.files.create(file=("notes.csv", b"a,b\n"), purpose="user_data")  # other purposes may


def test_file_size_limit(client: openai.OpenAI) -> None:
    client.files.create(file=("ok.jsonl", b"x" * 1000), purpose="fine-tune")
    with pytest.raises(openai.APIStatusError) as caught:
        client.files.create(file=("big.jsonl", b"x" * 1001), purpose="fine-tune")
    assert caught.value.status_code == 413
    assert caught.value.code == "file_too_large"


def test_unknown_purpose_is_refused(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.files.create(file=("a.jsonl", LINE), purpose="training")  # type: ignore[arg-type]
    assert caught.value.param == "purpose"


def test_list_files_orders_filters_and_paginates(client: openai.OpenAI) -> None:
    ids = [
        client.files.create(file=(f"f{i}.jsonl", LINE), purpose="fine-tune").id for i in range(5)
    ]
    batch = client.files.create(file=("b.jsonl", LINE), purpose="batch").id
    page = client.files.list(purpose="fine-tune", limit=2)
    assert [f.id for f in page.data] == [ids[4], ids[3]] and page.has_more
    assert page.model_extra is not None
    assert (page.model_extra["first_id"], page.model_extra["last_id"]) == (ids[4], ids[3])
    assert [f.id for f in client.files.list(purpose="fine-tune", limit=2)] == ids[::-1]
    assert [f.id for f in client.files.list(order="asc")] == [*ids, batch]
    assert [f.id for f in client.files.list(purpose="batch")] == [batch]
    with pytest.raises(openai.BadRequestError):
        client.files.list(limit=0)


def test_delete_then_retrieve_is_404(client: openai.OpenAI) -> None:
    file_id = client.files.create(file=("a.jsonl", LINE), purpose="fine-tune").id
    assert client.files.delete(file_id).deleted
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(file_id)
    with pytest.raises(openai.NotFoundError):
        client.files.delete(file_id)


def test_training_files_cannot_be_downloaded(
    fake: FakeFineTuningAPI, client: openai.OpenAI
) -> None:
    file_id = client.files.create(file=("a.jsonl", LINE), purpose="fine-tune").id
    with pytest.raises(openai.BadRequestError, match="Not allowed to download"):
        client.files.content(file_id)
    assert fake.file_content(file_id) == LINE  # tests can still look
    other = client.files.create(file=("u.jsonl", LINE), purpose="user_data").id
    assert client.files.content(other).content == LINE


def test_files_with_expires_after_disappear(fake: FakeFineTuningAPI, client: openai.OpenAI) -> None:
    file = client.files.create(
        file=("a.jsonl", LINE),
        purpose="fine-tune",
        expires_after={"anchor": "created_at", "seconds": 3600},
    )
    assert file.expires_at == file.created_at + 3600
    fake.advance(3599)
    client.files.retrieve(file.id)
    fake.advance(1)
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(file.id)
    with pytest.raises(openai.BadRequestError):
        client.files.create(
            file=("a.jsonl", LINE),
            purpose="fine-tune",
            expires_after={"anchor": "created_at", "seconds": 60},
        )


def test_sdk_upload_file_chunked(client: openai.OpenAI, tmp_path: Path) -> None:
    data = LINE * 40  # 3680 bytes: 13 parts of at most 300 bytes
    path = tmp_path / "big.jsonl"
    path.write_bytes(data)
    upload = client.uploads.upload_file_chunked(
        file=path,
        mime_type="text/jsonl",
        purpose="fine-tune",
        part_size=300,
        md5=hashlib.md5(data).hexdigest(),
    )
    assert upload.status == "completed" and upload.file is not None
    assert upload.file.bytes == len(data)
    assert upload.file.filename == "big.jsonl"


def test_parts_are_assembled_in_the_order_given(
    fake: FakeFineTuningAPI, client: openai.OpenAI
) -> None:
    upload = client.uploads.create(
        bytes=6, filename="a.jsonl", mime_type="text/jsonl", purpose="fine-tune"
    )
    assert upload.status == "pending" and upload.expires_at == upload.created_at + 3600
    second = client.uploads.parts.create(upload.id, data=b"def")
    first = client.uploads.parts.create(upload.id, data=b"abc")
    done = client.uploads.complete(upload.id, part_ids=[first.id, second.id])
    assert done.status == "completed" and done.file is not None
    assert fake.file_content(done.file.id) == b"abcdef"
    with pytest.raises(openai.BadRequestError):
        client.uploads.parts.create(upload.id, data=b"late")


@pytest.mark.parametrize(
    ("parts", "md5", "param"),
    [
        ([b"abc"], None, "part_ids"),  # 3 bytes for 6 declared
        ([b"abc", b"def"], "0" * 32, "md5"),
    ],
)
def test_complete_checks_bytes_and_md5(
    fake: FakeFineTuningAPI,
    client: openai.OpenAI,
    parts: list[bytes],
    md5: str | None,
    param: str,
) -> None:
    upload = client.uploads.create(
        bytes=6, filename="a.jsonl", mime_type="text/jsonl", purpose="fine-tune"
    )
    part_ids = [client.uploads.parts.create(upload.id, data=p).id for p in parts]
    with pytest.raises(openai.BadRequestError) as caught:
        if md5 is None:
            client.uploads.complete(upload.id, part_ids=part_ids)
        else:
            client.uploads.complete(upload.id, part_ids=part_ids, md5=md5)
    assert caught.value.param == param
    assert fake.uploads[0]["status"] == "pending"  # still open: the caller can fix it


def test_upload_limits(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.uploads.create(
            bytes=5001, filename="a.jsonl", mime_type="text/jsonl", purpose="fine-tune"
        )
    assert caught.value.param == "bytes"
    with pytest.raises(openai.BadRequestError) as caught:
        client.uploads.create(
            bytes=10, filename="a.txt", mime_type="text/jsonl", purpose="fine-tune"
        )
    assert caught.value.param == "filename"
    with pytest.raises(openai.BadRequestError) as caught:
        client.uploads.create(
            bytes=10, filename="a.jsonl", mime_type="text/csv", purpose="fine-tune"
        )
    assert caught.value.param == "mime_type"
    upload = client.uploads.create(
        bytes=400, filename="a.jsonl", mime_type="text/jsonl", purpose="fine-tune"
    )
    with pytest.raises(openai.BadRequestError) as caught:
        client.uploads.parts.create(upload.id, data=b"x" * 301)
    assert caught.value.param == "data"


def test_uploads_expire_after_an_hour(fake: FakeFineTuningAPI, client: openai.OpenAI) -> None:
    upload = client.uploads.create(
        bytes=3, filename="a.jsonl", mime_type="text/jsonl", purpose="fine-tune"
    )
    part = client.uploads.parts.create(upload.id, data=b"abc")
    fake.advance(3600)
    with pytest.raises(openai.BadRequestError, match="expired"):
        client.uploads.complete(upload.id, part_ids=[part.id])
    assert fake.uploads[0]["status"] == "expired"


def test_cancelled_uploads_take_no_more_parts(client: openai.OpenAI) -> None:
    upload = client.uploads.create(
        bytes=3, filename="a.jsonl", mime_type="text/jsonl", purpose="fine-tune"
    )
    assert client.uploads.cancel(upload.id).status == "cancelled"
    with pytest.raises(openai.BadRequestError, match="cancelled"):
        client.uploads.parts.create(upload.id, data=b"abc")
    with pytest.raises(openai.NotFoundError):
        client.uploads.cancel("upload_missing")


# ------------------------------------------------------------- processing


def test_new_files_are_processed_after_a_short_virtual_delay(
    fake: FakeFineTuningAPI, client: openai.OpenAI
) -> None:
    created = client.files.create(file=("t.jsonl", LINE), purpose="fine-tune")
    assert created.status == "uploaded"
    fake.advance(Timings().file_processing - 0.5)
    assert client.files.retrieve(created.id).status == "uploaded"
    fake.advance(0.5)
    assert client.files.retrieve(created.id).status == "processed"
    assert [f["status"] for f in fake.files] == ["processed"]


def test_a_completed_upload_is_processed_like_a_created_file(
    fake: FakeFineTuningAPI, client: openai.OpenAI
) -> None:
    upload = client.uploads.create(
        bytes=len(LINE), filename="u.jsonl", mime_type="text/jsonl", purpose="fine-tune"
    )
    part = client.uploads.parts.create(upload.id, data=LINE)
    done = client.uploads.complete(upload.id, part_ids=[part.id])
    assert done.file is not None and done.file.status == "uploaded"
    fake.advance(Timings().file_processing)
    assert client.files.retrieve(done.file.id).status == "processed"
    assert fake.uploads[0]["status"] == "completed"
    assert fake.uploads[0]["file"]["status"] == "processed"


def test_no_processing_delay_when_timings_say_zero() -> None:
    client = FakeFineTuningAPI(timings=Timings(file_processing=0)).client(max_retries=0)
    assert client.files.create(file=("t.jsonl", LINE), purpose="fine-tune").status == "processed"
    with pytest.raises(ValueError, match="file_processing"):
        Timings(file_processing=-1)


def test_wait_for_processing_polls_on_the_virtual_clock(
    fake: FakeFineTuningAPI, client: openai.OpenAI
) -> None:
    created = client.files.create(file=("t.jsonl", LINE), purpose="fine-tune")
    done = client.files.wait_for_processing(created.id, poll_interval=1.0)
    assert done.status == "processed"
    assert fake.clock.slept == [1.0, 1.0, 1.0]  # on the fake's clock, not time.sleep


def test_async_wait_for_processing_polls_on_the_virtual_clock(fake: FakeFineTuningAPI) -> None:
    client = fake.async_client(max_retries=0)

    async def wait() -> str:
        created = await client.files.create(file=("t.jsonl", LINE), purpose="fine-tune")
        return (await client.files.wait_for_processing(created.id, poll_interval=2.0)).status

    assert asyncio.run(wait()) == "processed"
    assert fake.clock.slept == [2.0, 2.0]


def test_a_job_on_a_file_still_processing_waits_for_it() -> None:
    # OpenAI's guides: a job may name a file that is still processing; it does not start
    # before the file is processed. Validation then takes its usual time.
    lines = LINE * 10
    waiting = FakeFineTuningAPI(timings=Timings(file_processing=600))
    eager = waiting.client(max_retries=0)
    train = eager.files.create(file=("t.jsonl", lines), purpose="fine-tune")
    job = eager.fine_tuning.jobs.create(model="gpt-4.1-mini-2025-04-14", training_file=train.id)
    assert job.status == "validating_files"
    waiting.advance(600)  # the file's processing; validation has not begun
    assert eager.fine_tuning.jobs.retrieve(job.id).status == "validating_files"
    waiting.advance(Timings().validating_files)
    assert eager.fine_tuning.jobs.retrieve(job.id).status == "queued"
