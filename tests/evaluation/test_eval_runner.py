"""Running an evaluation: concurrency, retries under faults, fatal errors, resume, async."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import httpx2
import openai
import pytest
from chat_support import BASE, EXAMPLES, JSON_FILE, TOOLS_FILE, retry_on, rows, train

import ftkit
from ftkit.evaluation import REPLIES_FILE, REPORT_FILE, EvalProgress, aevaluate, evaluate
from ftkit.testing import FakeFineTuningAPI


def test_the_fine_tuned_model_beats_its_base(fake: FakeFineTuningAPI, tuned: str) -> None:
    report = evaluate(
        {"base": BASE, "tuned": tuned},
        JSON_FILE,
        client=fake.client(max_retries=0),
        scorer="json-fields",
        retry=retry_on(fake),
    )
    assert report.scores["tuned"].mean == 1.0
    assert report.scores["base"].mean == 0.0
    assert report.pair("tuned", "base").wins == 20
    assert report.asked == 40
    assert len(fake.calls("chat.completions.create")) == 40
    first = report.examples[0]
    assert first.line == 1
    assert first.replies["tuned"].reply == first.reference
    usage = report.scores["tuned"]
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.cost_usd == pytest.approx(
        (usage.prompt_tokens * 0.8 + usage.completion_tokens * 3.2) / 1e6
    )
    sent = [call.json for call in fake.calls("chat.completions.create")]
    assert all(body["temperature"] == 0.0 for body in sent)
    prompts = [r["messages"][:-1] for r in rows(JSON_FILE)]
    assert sorted(json.dumps(b["messages"]) for b in sent if b["model"] == BASE) == sorted(
        json.dumps(p) for p in prompts
    )


def test_calls_run_with_bounded_concurrency(fake: FakeFineTuningAPI) -> None:
    # The transport lets requests through three at a time: with fewer in flight the
    # barrier breaks; the high-water mark shows no more ever run at once.
    barrier = threading.Barrier(3, timeout=20)
    lock = threading.Lock()
    in_flight = [0, 0]

    def transport(request: httpx2.Request) -> httpx2.Response:
        with lock:
            in_flight[0] += 1
            in_flight[1] = max(in_flight[1], in_flight[0])
        try:
            barrier.wait()
            return fake.handle(request)
        finally:
            with lock:
                in_flight[0] -= 1

    client = openai.OpenAI(
        api_key="sk-test-concurrency",
        base_url="https://api.example.invalid/v1",
        http_client=httpx2.Client(transport=httpx2.MockTransport(transport)),
    )
    report = evaluate(
        [BASE, "gpt-4o-mini-2024-07-18"], JSON_FILE, client=client, concurrency=3, max_examples=6
    )
    assert in_flight[1] == 3
    assert sum(s.n for s in report.scores.values()) == 12


def test_faults_on_the_chat_route_are_retried_with_the_policy(
    fake: FakeFineTuningAPI, tuned: str
) -> None:
    fake.faults.inject("chat.completions.create", "429", times=3, retry_after=2)
    fake.faults.inject("chat.completions.create", "503", times=2)
    fake.faults.inject("chat.completions.create", "reset")
    retries: list[ftkit.retry.RetryEvent] = []
    report = evaluate(
        [tuned],
        JSON_FILE,
        client=fake.client(max_retries=2),  # the client's own retries are switched off
        concurrency=2,
        max_examples=5,
        retry=retry_on(fake, attempts=10).with_on_retry(retries.append),
    )
    assert report.scores[tuned].mean == 1.0 and report.scores[tuned].errors == 0
    statuses = [r.status for r in fake.calls("chat.completions.create")]
    assert statuses.count(429) == 3 and statuses.count(503) == 2 and statuses.count(200) == 5
    assert len(retries) == 6
    assert fake.clock.slept.count(2.0) >= 3  # Retry-After honoured on the virtual clock


def test_a_request_that_keeps_failing_is_reported_and_the_rest_goes_on(
    fake: FakeFineTuningAPI, tuned: str
) -> None:
    fake.faults.inject("chat.completions.create", "500", times=3)
    report = evaluate(
        [tuned],
        JSON_FILE,
        client=fake.client(),
        concurrency=1,
        max_examples=4,
        retry=retry_on(fake, 3),
    )
    score = report.scores[tuned]
    assert (score.n, score.errors) == (3, 1)
    failed = report.examples[0].replies[tuned]
    assert failed.score is None and failed.error and "RetryExhausted" in failed.error
    assert score.mean == 1.0  # failures are excluded, not counted as zero


def test_an_unknown_model_stops_the_evaluation(fake: FakeFineTuningAPI, tmp_path: Path) -> None:
    with pytest.raises(ftkit.APIError) as caught:
        evaluate(
            [BASE, "ft:gpt-4.1-mini-2025-04-14:nobody::missing"],
            JSON_FILE,
            client=fake.client(),
            concurrency=1,
            out=tmp_path,
            retry=retry_on(fake),
        )
    assert caught.value.status_code == 404
    assert len(fake.calls("chat.completions.create")) <= 4  # stopped, did not ask all 40
    assert not (tmp_path / REPORT_FILE).exists()


class Interrupt(BaseException):
    """Stands for Ctrl-C in the middle of an evaluation."""


def test_an_interrupted_evaluation_resumes_without_asking_again(
    fake: FakeFineTuningAPI, tuned: str, tmp_path: Path
) -> None:
    models = {"base": BASE, "tuned": tuned}

    def stop_after_15(progress: EvalProgress) -> None:
        if progress.done == 15:
            raise Interrupt

    with pytest.raises(Interrupt):
        evaluate(
            models,
            JSON_FILE,
            client=fake.client(),
            concurrency=2,
            out=tmp_path,
            progress=stop_after_15,
        )
    asked_before = len(fake.calls("chat.completions.create"))
    logged = (tmp_path / REPLIES_FILE).read_text().splitlines()
    assert 15 <= len(logged) <= asked_before <= 40

    seen: list[EvalProgress] = []
    report = evaluate(
        models, JSON_FILE, client=fake.client(), concurrency=2, out=tmp_path, progress=seen.append
    )
    asked_after = len(fake.calls("chat.completions.create")) - asked_before
    assert asked_after == 40 - len(logged)
    assert report.asked == asked_after
    assert seen[0].reused == len(logged) and seen[-1].done == 40
    assert report.scores["tuned"].mean == 1.0 and report.scores["base"].n == 20
    assert sum(r.reused for e in report.examples for r in e.replies.values()) == len(logged)
    saved = json.loads((tmp_path / REPORT_FILE).read_text())
    assert saved["summary"]["tuned"]["mean"] == 1.0

    # A third run asks nothing, and may even use another scorer on the same replies.
    again = evaluate(models, JSON_FILE, client=fake.client(), out=tmp_path, scorer="json")
    assert again.asked == 0
    assert len(fake.calls("chat.completions.create")) == asked_before + asked_after
    assert again.scores["tuned"].mean == 1.0 and again.scores["base"].mean == 0.0


def test_a_torn_last_line_is_asked_again(fake: FakeFineTuningAPI, tmp_path: Path) -> None:
    evaluate([BASE], JSON_FILE, client=fake.client(), max_examples=3, out=tmp_path)
    log = tmp_path / REPLIES_FILE
    lines = log.read_text().splitlines(keepends=True)
    log.write_text("".join(lines[:2]) + lines[2][:25])  # a crash mid-write
    before = len(fake.calls("chat.completions.create"))
    report = evaluate([BASE], JSON_FILE, client=fake.client(), max_examples=3, out=tmp_path)
    assert report.asked == 1 and len(fake.calls("chat.completions.create")) == before + 1
    reread = [json.loads(line) for line in log.read_text().splitlines()[:2]]
    assert len(reread) == 2
    assert oct(log.stat().st_mode & 0o777) == "0o600"


def test_changed_requests_are_not_served_from_the_log(
    fake: FakeFineTuningAPI, tmp_path: Path
) -> None:
    evaluate([BASE], JSON_FILE, client=fake.client(), max_examples=2, out=tmp_path)
    report = evaluate(
        [BASE], JSON_FILE, client=fake.client(), max_examples=2, out=tmp_path, temperature=0.7
    )
    assert report.asked == 2
    edited = rows(JSON_FILE)[:2]
    edited[0]["messages"][1]["content"] += " (late edition)"
    again = evaluate([BASE], edited, client=fake.client(), out=tmp_path, temperature=0.7)
    assert again.asked == 1


def test_tool_calls_are_scored_at_the_tool_calling_turn(fake: FakeFineTuningAPI) -> None:
    tuned = train(fake, TOOLS_FILE)
    report = evaluate(
        {"base": BASE, "tuned": tuned}, TOOLS_FILE, client=fake.client(), scorer="tool-calls"
    )
    assert report.scores["tuned"].mean == 1.0
    assert report.scores["base"].mean is not None and report.scores["base"].mean < 0.5
    for call in fake.calls("chat.completions.create"):
        assert call.json["tools"] == rows(TOOLS_FILE)[0]["tools"]
        assert call.json["messages"][-1]["role"] in ("user", "tool")
    assert report.examples[0].reference.tool_calls


def test_dpo_records_use_the_preferred_output_as_reference(fake: FakeFineTuningAPI) -> None:
    report = evaluate([BASE], EXAMPLES / "sarcasm_dpo.jsonl", client=fake.client(), max_examples=3)
    pair = rows(EXAMPLES / "sarcasm_dpo.jsonl")[0]
    assert report.examples[0].reference.content == pair["preferred_output"][0]["content"]
    sent = [call.json["messages"] for call in fake.calls("chat.completions.create")]
    assert pair["input"]["messages"] in sent


def test_weights_are_not_sent(fake: FakeFineTuningAPI) -> None:
    report = evaluate([BASE], EXAMPLES / "weighted_multiturn_sft.jsonl", client=fake.client())
    assert report.scores[BASE].errors == 0
    for call in fake.calls("chat.completions.create"):
        assert all("weight" not in m for m in call.json["messages"])


def test_usage_errors(fake: FakeFineTuningAPI) -> None:
    client = fake.client()
    with pytest.raises(ftkit.UsageError, match="concurrency"):
        evaluate([BASE], JSON_FILE, client=client, concurrency=0)
    with pytest.raises(ftkit.UsageError, match="at least one model"):
        evaluate([], JSON_FILE, client=client)
    with pytest.raises(ftkit.UsageError, match="no test example"):
        evaluate([BASE], JSON_FILE, client=client, scorer="tool-calls")
    with pytest.raises(ftkit.UsageError, match="async client"):
        evaluate([BASE], JSON_FILE, client=fake.async_client())
    with pytest.raises(ftkit.UsageError, match="test_source"):
        evaluate([BASE], 42, client=client)  # type: ignore[arg-type]
    assert fake.calls("chat.completions.create") == []


def test_the_async_driver_gives_the_same_report(fake: FakeFineTuningAPI, tuned: str) -> None:
    models = {"base": BASE, "tuned": tuned}
    sync = evaluate(models, JSON_FILE, client=fake.client(), scorer="json-fields", max_examples=6)
    fake.faults.inject("chat.completions.create", "429", times=2, retry_after=1)
    report = asyncio.run(
        aevaluate(
            models,
            JSON_FILE,
            client=fake.async_client(max_retries=0),
            scorer="json-fields",
            max_examples=6,
            concurrency=3,
            retry=retry_on(fake),
        )
    )
    assert report.to_dict()["summary"] == sync.to_dict()["summary"]
    assert report.pair("tuned", "base").wins == 6


def test_progress_true_draws_a_rich_bar(fake: FakeFineTuningAPI) -> None:
    pytest.importorskip("rich")
    report = evaluate([BASE], JSON_FILE, client=fake.client(), max_examples=2, progress=True)
    assert report.scores[BASE].n == 2
