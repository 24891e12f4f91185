"""Rate limits on the fake: ``x-ratelimit-*`` headers everywhere, and ``max_active_jobs``."""

from __future__ import annotations

import httpx2
import openai
import pytest
from fake_support import sft_lines

from ftkit.testing import FakeFineTuningAPI
from ftkit.testing._ratelimit import REQUESTS_PER_MINUTE, TOKENS_PER_MINUTE, duration

HEADERS = {
    f"x-ratelimit-{kind}-{unit}"
    for kind in ("limit", "remaining", "reset")
    for unit in ("requests", "tokens")
}


def test_every_answer_carries_the_rate_limit_headers(client: openai.OpenAI) -> None:
    first = client.models.with_raw_response.list().headers
    assert set(first) >= HEADERS
    assert first["x-ratelimit-limit-requests"] == str(REQUESTS_PER_MINUTE)
    assert first["x-ratelimit-limit-tokens"] == str(TOKENS_PER_MINUTE)
    assert first["x-ratelimit-remaining-requests"] == str(REQUESTS_PER_MINUTE - 1)
    assert first["x-ratelimit-reset-requests"] == "6ms"  # one request of 10,000 a minute
    second = client.models.with_raw_response.list().headers
    assert second["x-ratelimit-remaining-requests"] == str(REQUESTS_PER_MINUTE - 2)
    with pytest.raises(openai.NotFoundError) as error:
        client.models.retrieve("no-such-model")
    assert set(error.value.response.headers) >= HEADERS


def test_chat_tokens_are_counted_and_the_bucket_refills(
    fake: FakeFineTuningAPI, client: openai.OpenAI
) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini-2024-07-18", messages=[{"role": "user", "content": "Hello there"}]
    )
    usage = raw.parse().usage
    assert usage is not None and usage.total_tokens > 0
    remaining = int(raw.headers["x-ratelimit-remaining-tokens"])
    assert remaining == TOKENS_PER_MINUTE - usage.total_tokens
    fake.advance(60)
    after = client.models.with_raw_response.list().headers
    assert after["x-ratelimit-remaining-tokens"] == str(TOKENS_PER_MINUTE)
    assert after["x-ratelimit-remaining-requests"] == str(REQUESTS_PER_MINUTE - 1)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (0.012, "12ms"), (1, "1s"), (17.28, "17.28s"), (360, "6m0s"), (61.5, "1m1.5s")],
)
def test_reset_durations_read_like_openai_s(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def _create(client: openai.OpenAI, file_id: str) -> str:
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file=file_id)
    return job.id


def test_jobs_past_max_active_jobs_get_rate_limit_exceeded() -> None:
    fake = FakeFineTuningAPI(max_active_jobs=2)
    client = fake.client(max_retries=0)
    train = client.files.create(file=("t.jsonl", sft_lines(12)), purpose="fine-tune").id
    first, _ = _create(client, train), _create(client, train)
    with pytest.raises(openai.RateLimitError) as refused:
        _create(client, train)
    assert refused.value.status_code == 429
    assert refused.value.code == "rate_limit_exceeded"
    assert "maximum of 2 active" in refused.value.message
    assert len(fake.jobs) == 2  # the refused request created nothing

    client.fine_tuning.jobs.cancel(first)
    third = _create(client, train)
    with pytest.raises(openai.RateLimitError):
        _create(client, train)
    fake.advance(100_000)  # every job finishes, so none is active
    assert client.fine_tuning.jobs.retrieve(third).status == "succeeded"
    _create(client, train)


def test_paused_jobs_do_not_count_as_active() -> None:
    fake = FakeFineTuningAPI(max_active_jobs=1)
    client = fake.client(max_retries=0)
    train = client.files.create(file=("t.jsonl", sft_lines(12)), purpose="fine-tune").id
    job = _create(client, train)
    while client.fine_tuning.jobs.retrieve(job).status != "running":
        fake.advance(10)
    client.fine_tuning.jobs.pause(job)
    _create(client, train)


def test_no_limit_by_default(client: openai.OpenAI) -> None:
    train = client.files.create(file=("t.jsonl", sft_lines(12)), purpose="fine-tune").id
    assert len({_create(client, train) for _ in range(6)}) == 6


def test_max_active_jobs_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_active_jobs"):
        FakeFineTuningAPI(max_active_jobs=0)


def test_streamed_tokens_count_and_test_controls_spend_no_request(
    fake: FakeFineTuningAPI, client: openai.OpenAI
) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o-mini-2024-07-18",
        messages=[{"role": "user", "content": "Hello there"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    usage = [chunk.usage for chunk in stream if chunk.usage is not None][-1]
    control = httpx2.Request("POST", f"{client.base_url}_fake/advance", json={"seconds": 0})
    assert fake.handle(control).status_code == 200
    headers = client.models.with_raw_response.list().headers
    assert headers["x-ratelimit-remaining-tokens"] == str(TOKENS_PER_MINUTE - usage.total_tokens)
    assert headers["x-ratelimit-remaining-requests"] == str(REQUESTS_PER_MINUTE - 2)
