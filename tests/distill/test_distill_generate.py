"""ftkit.distill.generate on the fake: records, resume after a crash, the cap, the filters."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import inspect
import json
from pathlib import Path
from typing import Any

import pytest
from distill_support import (
    BASE,
    JSON_FILE,
    TOOLS_FILE,
    Rewriting,
    chat_calls,
    held_by_another_process,
    last_user,
    retry_on,
    rows,
    train,
)

import ftkit
from ftkit.backend import ChatAnswer, OpenAIChat
from ftkit.dataset import Dataset
from ftkit.distill import JOURNAL_SUFFIX, DistillResult, ScoreFilter, agenerate, generate
from ftkit.evaluation import JsonFields
from ftkit.testing import ChatBehaviour, FakeFineTuningAPI


@pytest.fixture
def fake() -> FakeFineTuningAPI:
    return FakeFineTuningAPI(chat=ChatBehaviour(error_rate=0.0))


@pytest.fixture
def teacher(fake: FakeFineTuningAPI) -> str:
    """A fine-tune that recalls the JSON extraction answers exactly."""
    return train(fake, JSON_FILE)


def _run(fake: FakeFineTuningAPI, out: Path, **options: Any) -> DistillResult:
    options.setdefault("model", BASE)
    options.setdefault("concurrency", 1)
    prompts = options.pop("prompts", JSON_FILE)
    client = options.pop("client", fake.client(max_retries=0))
    return generate(client, prompts, out=out, retry=retry_on(fake), **options)


def _key(row: Any) -> str:
    return json.dumps(row, sort_keys=True)


def _unweighted(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "messages": [{k: v for k, v in m.items() if k != "weight"} for m in row["messages"]],
    }


def _prompts_of(path: Path) -> list[str]:
    """The conversation before the final turn of every record of a training file."""
    return [json.dumps(row["messages"][:-1], sort_keys=True) for row in rows(path)]


def test_each_prompt_becomes_one_record_with_the_teachers_answer(
    fake: FakeFineTuningAPI, teacher: str, tmp_path: Path
) -> None:
    out = tmp_path / "distilled.jsonl"
    result = _run(fake, out, model=teacher, concurrency=4)

    source = rows(JSON_FILE)
    written = rows(out)
    assert result.kept == len(written) == len(source) and result.dropped == {}
    assert result.asked == len(source) and result.reused == 0
    # The teacher recalls its training answers: the distilled file is the source again,
    # in the order the answers arrived (any), without weights.
    assert sorted(map(_key, written)) == sorted(map(_key, map(_unweighted, source)))
    assert result.dataset == Dataset.load(out)
    # The final assistant turn was removed before asking; the parameters were sent.
    bodies = chat_calls(fake)
    assert len(bodies) == len(source)
    assert all(b["messages"][-1]["role"] != "assistant" and b["model"] == teacher for b in bodies)
    assert result.prompt_tokens > 0 and result.completion_tokens > 0
    assert result.cost_usd is not None and result.cost_usd > 0
    assert result.estimate.calls == len(source)


def test_a_rerun_asks_nothing_and_returns_the_same_dataset(
    fake: FakeFineTuningAPI, tmp_path: Path
) -> None:
    out = tmp_path / "distilled.jsonl"
    first = _run(fake, out)
    again = _run(fake, out)
    assert len(chat_calls(fake)) == first.asked == len(rows(JSON_FILE))
    assert again.asked == 0 and again.reused == first.kept
    assert again.dataset == first.dataset
    assert again.estimate.calls == 0


class Stop(Exception):
    pass


def test_an_exception_from_progress_stops_then_a_rerun_finishes_without_asking_twice(
    fake: FakeFineTuningAPI, tmp_path: Path
) -> None:
    out = tmp_path / "distilled.jsonl"
    seen: list[int] = []

    def progress(p: Any) -> None:
        seen.append(p.done)
        if p.done == 7:
            raise Stop("user pressed stop")

    with pytest.raises(Stop):
        _run(fake, out, progress=progress, concurrency=3)
    stopped_after = len(chat_calls(fake))
    assert 7 <= stopped_after < len(rows(JSON_FILE))
    # What came back (the in-flight answers too) is in the training file already.
    assert len(rows(out)) == stopped_after
    Dataset.load(out)  # a valid training file at the stop

    result = _run(fake, out)
    calls = chat_calls(fake)
    assert len(calls) == len(rows(JSON_FILE))  # no prompt answered twice
    asked = sorted(json.dumps(b["messages"], sort_keys=True) for b in calls)
    assert asked == sorted(_prompts_of(JSON_FILE))  # and none lost
    assert result.reused == stopped_after and result.kept == len(rows(JSON_FILE))
    assert sorted(json.dumps(r["messages"][:-1], sort_keys=True) for r in rows(out)) == asked


def test_a_torn_line_and_a_record_missing_from_out_are_repaired_without_a_call(
    fake: FakeFineTuningAPI, tmp_path: Path
) -> None:
    out = tmp_path / "distilled.jsonl"
    journal = out.with_name(out.name + JOURNAL_SUFFIX)
    _run(fake, out)
    full = out.read_text("utf-8").splitlines(keepends=True)
    # A crash between the journal's line and out's: out lacks the last record, and a
    # second crash tore the line being written.
    out.write_text("".join(full[:-1]) + full[-1][:25], encoding="utf-8")
    with journal.open("a", encoding="utf-8") as handle:
        handle.write('{"key":"abc","sam')  # a torn journal line: that answer is unknown
    before = len(chat_calls(fake))

    result = _run(fake, out)
    assert len(chat_calls(fake)) == before  # nothing asked: the journal held the record
    assert out.read_text("utf-8").splitlines(keepends=True) == full
    assert journal.read_text("utf-8").endswith("\n")
    assert result.kept == len(full)


def test_out_with_more_records_than_its_journal_is_cut_back_and_those_asked_again(
    fake: FakeFineTuningAPI, tmp_path: Path
) -> None:
    out = tmp_path / "distilled.jsonl"
    journal = out.with_name(out.name + JOURNAL_SUFFIX)
    _run(fake, out)
    lines = journal.read_text("utf-8").splitlines(keepends=True)
    journal.write_text("".join(lines[:-2]), encoding="utf-8")  # the system lost two lines
    before = len(chat_calls(fake))

    result = _run(fake, out)
    assert len(chat_calls(fake)) == before + 2
    assert result.kept == len(rows(out)) == len(rows(JSON_FILE))


def test_the_cost_cap_stops_before_the_first_call(fake: FakeFineTuningAPI, tmp_path: Path) -> None:
    out = tmp_path / "distilled.jsonl"
    with pytest.raises(ftkit.CostLimitExceeded, match="nothing was asked") as caught:
        _run(fake, out, max_cost_usd=0.000_01)
    assert fake.calls("chat.completions.create") == []
    assert caught.value.estimate_usd is not None and caught.value.estimate_usd > 0.000_01
    assert not out.exists() and not out.with_name(out.name + JOURNAL_SUFFIX).exists()
    # Nothing was answered with those settings: other ones are not refused.
    result = _run(fake, out, max_tokens=400)
    assert result.kept == len(rows(JSON_FILE))


def test_the_cap_reached_while_asking_stops_and_a_higher_cap_resumes(
    fake: FakeFineTuningAPI, tmp_path: Path
) -> None:
    out = tmp_path / "distilled.jsonl"
    prices = {BASE: {"input": 0.0, "output": 1000.0}}  # $0.001 per answer token
    expected = _estimate_only(fake, tmp_path, prices)
    cap = expected * 1.05  # passes the estimate; the base model's prose is longer
    with pytest.raises(ftkit.CostLimitExceeded, match="reaches max_cost_usd"):
        _run(fake, out, prices=prices, max_cost_usd=cap)
    stopped = len(chat_calls(fake))
    assert 0 < stopped < len(rows(JSON_FILE)) and len(rows(out)) == stopped

    result = _run(fake, out, prices=prices, max_cost_usd=cap * 10)
    assert len(chat_calls(fake)) == len(rows(JSON_FILE)) and result.reused == stopped
    assert result.cost_usd is not None and result.cost_usd > cap


def _estimate_only(fake: FakeFineTuningAPI, tmp_path: Path, prices: dict[str, Any]) -> float:
    with pytest.raises(ftkit.CostLimitExceeded) as caught:
        _run(fake, tmp_path / "estimate.jsonl", prices=prices, max_cost_usd=0.0)
    assert caught.value.estimate_usd is not None
    return caught.value.estimate_usd


def test_every_filter_is_counted_by_reason(fake: FakeFineTuningAPI, tmp_path: Path) -> None:
    fake.chat = ChatBehaviour(error_rate=0.35)  # the teacher gets some fields wrong
    teacher = train(fake, JSON_FILE)
    questions = [last_user(r) for r in rows(JSON_FILE)]
    rewritten = {
        questions[1]: lambda a: dataclasses.replace(a, content=None, refusal="I can't help."),
        questions[2]: lambda a: dataclasses.replace(a, finish_reason="length"),
        questions[3]: lambda a: dataclasses.replace(a, content="  "),
        questions[4]: lambda a: dataclasses.replace(a, content="Sure: {not json"),
    }

    def rewrite(question: str, answer: ChatAnswer) -> ChatAnswer:
        return rewritten[question](answer) if question in rewritten else answer

    chat = Rewriting(OpenAIChat(fake.client(max_retries=0)), rewrite)
    fake.faults.inject("chat.completions.create", "status", status=400, times=1)  # prompt 0
    out = tmp_path / "distilled.jsonl"
    fields = ScoreFilter(JsonFields(), minimum=1.0)
    result = _run(
        fake,
        out,
        client=chat,
        model=teacher,
        filters=["refusal", "length", "empty", "json", fields],
    )

    # The fields filter compares each answer with the turn its prompt record ended with:
    # the kept ones are the references exactly, the others were dropped as json-fields.
    source = rows(JSON_FILE)
    references = {last_user(r): r["messages"][-1]["content"] for r in source}
    kept = rows(out)
    assert all(r["messages"][-1]["content"] == references[last_user(r)] for r in kept)
    dropped_fields = len(source) - 5 - len(kept)
    assert dropped_fields > 0  # error_rate made some answers wrong
    assert result.dropped == {
        "error": 1,
        "refusal": 1,
        "length": 1,
        "empty": 1,
        "json": 1,
        "json-fields": dropped_fields,
    }
    assert result.kept + sum(result.dropped.values()) == len(source)
    assert "dropped: empty 1, error 1" in str(result)

    # Dropped answers are journaled: a re-run asks only the prompt whose call failed.
    before = len(chat_calls(fake))
    filters = ["refusal", "length", "empty", "json", fields]
    again = _run(fake, out, client=chat, model=teacher, filters=filters)
    assert len(chat_calls(fake)) == before + 1 and last_user(chat_calls(fake)[-1]) == questions[0]
    assert "error" not in again.dropped


def test_an_answer_cut_by_max_tokens_is_dropped_as_length(
    fake: FakeFineTuningAPI, tmp_path: Path
) -> None:
    result = _run(fake, tmp_path / "d.jsonl", max_tokens=5)
    assert result.dropped == {"length": len(rows(JSON_FILE))} and result.kept == 0
    assert all(b["max_completion_tokens"] == 5 for b in chat_calls(fake))


def test_n_samples_are_n_records_of_each_prompt(fake: FakeFineTuningAPI, tmp_path: Path) -> None:
    prompts = rows(JSON_FILE)[:4]
    result = _run(fake, tmp_path / "d.jsonl", prompts=prompts, n=3, temperature=0.7)
    assert result.kept == 12 and result.samples == 3 and result.prompts == 4
    calls = chat_calls(fake)
    assert len(calls) == 12 and all(b["temperature"] == 0.7 and "n" not in b for b in calls)
    # The fake answers a prompt the same way every time: three equal samples each.
    written = rows(tmp_path / "d.jsonl")
    assert len({json.dumps(r, sort_keys=True) for r in written}) == 4


def test_a_rerun_with_other_settings_is_refused_before_any_call(
    fake: FakeFineTuningAPI, tmp_path: Path
) -> None:
    out = tmp_path / "d.jsonl"
    _run(fake, out, prompts=rows(JSON_FILE)[:2])
    before = len(chat_calls(fake))
    for change in ({"temperature": 0.5}, {"n": 2}, {"model": "gpt-4o-mini-2024-07-18"}):
        with pytest.raises(ftkit.UsageError, match="other settings"):
            _run(fake, out, prompts=rows(JSON_FILE)[:2], **change)
    assert len(chat_calls(fake)) == before
    # New prompts with the same settings are added to the same file.
    result = _run(fake, out, prompts=rows(JSON_FILE)[:3])
    assert len(chat_calls(fake)) == before + 1 and result.kept == 3


def test_a_file_not_written_by_generate_is_left_alone(
    fake: FakeFineTuningAPI, tmp_path: Path
) -> None:
    out = tmp_path / "train.jsonl"
    out.write_bytes(JSON_FILE.read_bytes())
    with pytest.raises(ftkit.UsageError, match="no journal"):
        _run(fake, out)
    assert out.read_bytes() == JSON_FILE.read_bytes() and chat_calls(fake) == []


def test_prompts_from_a_dataset_dicts_and_dpo_records(
    fake: FakeFineTuningAPI, tmp_path: Path
) -> None:
    dpo = ftkit.DPORecord.model_validate(
        {
            "input": {"messages": [{"role": "user", "content": "Name a colour."}]},
            "preferred_output": [{"role": "assistant", "content": "Blue."}],
            "non_preferred_output": [{"role": "assistant", "content": "Seven."}],
        }
    )
    prompts: list[Any] = [
        *Dataset.load(JSON_FILE)[:2],
        {"messages": [{"role": "user", "content": "Say hi."}]},  # no answer to remove
        dpo,
        {"messages": [{"role": "user", "content": "Say hi."}]},  # repeated: asked once
    ]
    result = _run(fake, tmp_path / "d.jsonl", prompts=prompts)
    assert result.prompts == 4 and result.duplicates == 1 and result.kept == 4
    asked = [b["messages"] for b in chat_calls(fake)]
    assert {"role": "user", "content": "Name a colour."} in asked[3]
    assert all("weight" not in m for b in asked for m in b)


def test_a_tool_calling_teacher_gives_records_with_tools_and_call_ids(
    fake: FakeFineTuningAPI, tmp_path: Path
) -> None:
    teacher = train(fake, TOOLS_FILE)
    # Each conversation up to its first assistant turn, which calls a tool.
    prompts = []
    for row in rows(TOOLS_FILE):
        first = next(i for i, m in enumerate(row["messages"]) if m["role"] == "assistant")
        prompts.append({"messages": row["messages"][:first], "tools": row["tools"]})
    result = _run(fake, tmp_path / "d.jsonl", model=teacher, prompts=prompts)
    written = rows(tmp_path / "d.jsonl")
    assert result.kept == len(written) == len(prompts)
    assert all(b["tools"] == prompts[0]["tools"] for b in chat_calls(fake))
    for record, prompt in zip(written, prompts, strict=True):
        assert record["tools"] == prompt["tools"]
        calls = record["messages"][-1]["tool_calls"]
        assert calls and all(c["id"].startswith("call_") for c in calls)
    Dataset.load(tmp_path / "d.jsonl")  # valid records, tool calls and all


def test_the_async_twin_writes_what_the_sync_function_writes(
    fake: FakeFineTuningAPI, tmp_path: Path
) -> None:
    assert inspect.signature(agenerate).parameters == inspect.signature(generate).parameters
    sync = _run(fake, tmp_path / "sync.jsonl")
    calls = len(chat_calls(fake))

    async def main() -> DistillResult:
        return await agenerate(
            fake.async_client(max_retries=0),
            JSON_FILE,
            model=BASE,
            out=tmp_path / "async.jsonl",
            concurrency=4,
            retry=retry_on(fake),
        )

    result = asyncio.run(main())
    assert len(chat_calls(fake)) == 2 * calls
    assert sorted(r.to_json() for r in result.dataset) == sorted(r.to_json() for r in sync.dataset)
    with pytest.raises(ftkit.UsageError, match="agenerate"):
        generate(fake.async_client(), JSON_FILE, model=BASE, out=tmp_path / "x.jsonl")


def test_a_together_model_can_be_the_teacher(tmp_path: Path) -> None:
    fake = FakeFineTuningAPI(provider="together")
    model = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
    result = generate(
        fake.together_client(max_retries=0),
        rows(JSON_FILE)[:3],
        model=model,
        out=tmp_path / "d.jsonl",
        max_tokens=300,
        retry=retry_on(fake),
    )
    assert result.kept == 3
    sent = chat_calls(fake)
    assert len(sent) == 3 and all(b["max_tokens"] == 300 for b in sent)
    assert all("max_completion_tokens" not in b for b in sent)


def test_no_api_key_in_the_result_the_files_or_an_error(
    fake: FakeFineTuningAPI, tmp_path: Path
) -> None:
    client = fake.client(max_retries=0, api_key="sk-secret-distill-0123456789")
    out = tmp_path / "d.jsonl"
    result = _run(fake, out, client=client, prompts=rows(JSON_FILE)[:2])
    shown = repr(result) + str(result) + json.dumps(result.to_dict())
    shown += out.read_text("utf-8") + out.with_name(out.name + JOURNAL_SUFFIX).read_text("utf-8")
    fake.faults.inject("chat.completions.create", "status", status=401, times=1)
    with pytest.raises(ftkit.APIError) as caught:
        _run(fake, tmp_path / "e.jsonl", client=client, prompts=rows(JSON_FILE)[:1])
    shown += str(caught.value) + repr(caught.value)
    assert "sk-secret-distill" not in shown


def test_the_cap_stops_at_the_answer_that_reaches_it(
    fake: FakeFineTuningAPI, tmp_path: Path
) -> None:
    """One call at a time: every answer but the last was billed under the cap."""
    out = tmp_path / "distilled.jsonl"
    prices = {BASE: {"input": 0.0, "output": 1000.0}}  # $0.001 per answer token
    cap = _estimate_only(fake, tmp_path, prices) * 1.05
    with pytest.raises(ftkit.CostLimitExceeded, match="reaches max_cost_usd"):
        _run(fake, out, prices=prices, max_cost_usd=cap)
    journal = out.with_name(out.name + JOURNAL_SUFFIX).read_text("utf-8").splitlines()
    costs = [json.loads(line)["usage"][1] * 0.001 for line in journal[1:]]
    assert len(costs) == len(chat_calls(fake)) > 1
    assert sum(costs[:-1]) < cap <= sum(costs)  # no call started once the cap was reached


def test_a_cap_on_a_model_of_unknown_price_is_refused_before_any_call(
    fake: FakeFineTuningAPI, tmp_path: Path
) -> None:
    out = tmp_path / "d.jsonl"
    with pytest.raises(ftkit.UsageError, match="cost of the teacher calls is unknown") as caught:
        _run(fake, out, model="my-own-deployment", max_cost_usd=10.0)
    assert not isinstance(caught.value, ftkit.CostLimitExceeded)
    assert fake.calls("chat.completions.create") == [] and not out.exists()


def test_a_rerun_with_another_score_filter_minimum_is_refused(
    fake: FakeFineTuningAPI, tmp_path: Path
) -> None:
    """The stricter run's drops are journaled: a laxer rerun would silently keep them out."""
    out = tmp_path / "d.jsonl"
    prompts = rows(JSON_FILE)[:3]
    first = _run(fake, out, prompts=prompts, filters=[ScoreFilter(JsonFields(), minimum=1.0)])
    assert first.dropped == {"json-fields": 3}  # the base model answers in prose
    before = len(chat_calls(fake))
    with pytest.raises(ftkit.UsageError, match=r"filters \['json-fields>=1'\] \(now \['json-f"):
        _run(fake, out, prompts=prompts, filters=[ScoreFilter(JsonFields(), minimum=0.5)])
    assert len(chat_calls(fake)) == before
    again = _run(fake, out, prompts=prompts, filters=[ScoreFilter(JsonFields(), minimum=1.0)])
    assert again.asked == 0 and again.dropped == first.dropped


@pytest.mark.parametrize(
    "filters",
    [
        [ScoreFilter(JsonFields(), name="invalid")],  # the reason of an unusable answer
        [ScoreFilter(JsonFields(), name="error")],  # the reason of a failed call
        ["json", ScoreFilter(JsonFields(), name="json")],
    ],
)
def test_filter_reasons_are_distinct_and_not_the_reserved_ones(
    fake: FakeFineTuningAPI, tmp_path: Path, filters: list[Any]
) -> None:
    with pytest.raises(ftkit.UsageError, match="filter reasons"):
        _run(fake, tmp_path / "d.jsonl", filters=filters)
    assert chat_calls(fake) == []


def test_a_score_filter_needs_a_scorer_and_a_numeric_minimum() -> None:
    with pytest.raises(ftkit.UsageError, match="minimum"):
        ScoreFilter(JsonFields(), minimum="high")  # type: ignore[arg-type]
    with pytest.raises(ftkit.UsageError, match="scorer"):
        ScoreFilter("json-fields")  # type: ignore[arg-type]


def test_the_sdks_refusal_field_is_read_and_filtered(
    fake: FakeFineTuningAPI, tmp_path: Path
) -> None:
    from openai.types.chat import ChatCompletion

    from ftkit.backend._chat import _answer
    from ftkit.distill._filters import DEFAULT_FILTERS as defaults
    from ftkit.distill._filters import resolve_filters, verdict

    def completion(refusal: str | None) -> ChatCompletion:
        message = {"role": "assistant", "content": None, "refusal": refusal}
        choice = {"index": 0, "finish_reason": "stop", "message": message}
        usage = {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}
        return ChatCompletion.model_validate(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 0,
                "model": BASE,
                "choices": [choice],
                "usage": usage,
            }
        )

    refused = _answer(completion("I can't help with that."))
    assert refused.refusal == "I can't help with that." and refused.content is None
    assert verdict(resolve_filters(defaults), refused, None) == "refusal"
    assert _answer(completion("")).refusal is None  # an empty refusal is no refusal

    # Kept by filters=[], a refusal has nothing to train on: counted as invalid, not written.
    question = last_user(rows(JSON_FILE)[0])

    def rewrite(asked: str, answer: ChatAnswer) -> ChatAnswer:
        if asked != question:
            return answer
        return dataclasses.replace(answer, content=None, refusal="I can't help with that.")

    chat = Rewriting(OpenAIChat(fake.client(max_retries=0)), rewrite)
    prompts = rows(JSON_FILE)[:3]
    result = _run(fake, tmp_path / "d.jsonl", client=chat, prompts=prompts, filters=[])
    assert result.dropped == {"invalid": 1} and result.kept == 2
    assert question not in {last_user(r) for r in rows(tmp_path / "d.jsonl")}


def test_a_short_write_still_appends_the_whole_line() -> None:
    """A raw file may write fewer bytes than asked; the rest must follow, not be lost."""
    from ftkit.distill._journal import Journal

    class Trickle:
        name = "trickle"

        def __init__(self) -> None:
            self.data = bytearray()

        def write(self, data: Any) -> int:
            chunk = bytes(data[:5])
            self.data += chunk
            return len(chunk)

    handle = Trickle()
    Journal._append(handle, '{"record":"déjà vu"}')
    Journal._append(handle, '{"n":2}')
    assert handle.data.decode("utf-8") == '{"record":"déjà vu"}\n{"n":2}\n'


def test_cancelling_agenerate_raises_cancelled_and_a_rerun_finishes(
    fake: FakeFineTuningAPI, tmp_path: Path
) -> None:
    out = tmp_path / "d.jsonl"
    ended: list[type[BaseException]] = []

    async def main() -> None:
        running: list[asyncio.Future[DistillResult]] = []

        def progress(p: Any) -> None:
            if p.done == 3:
                running[0].cancel()

        running.append(
            asyncio.ensure_future(
                agenerate(
                    fake.async_client(max_retries=0),
                    JSON_FILE,
                    model=BASE,
                    out=out,
                    concurrency=2,
                    retry=retry_on(fake),
                    progress=progress,
                )
            )
        )
        try:
            await running[0]
        except BaseException as exc:  # only its type: a traceback would keep the program alive
            ended.append(type(exc))

    asyncio.run(main())
    gc.collect()  # a program left unfinished complains now, in this test, not in a later one
    assert ended == [asyncio.CancelledError]
    assert 3 <= len(rows(out)) < len(rows(JSON_FILE))
    result = _run(fake, out)
    assert result.kept == len(rows(JSON_FILE)) and result.reused >= 3


def test_a_second_writer_of_the_same_out_is_refused_and_the_lock_dies_with_the_first(
    fake: FakeFineTuningAPI, tmp_path: Path
) -> None:
    out = tmp_path / "d.jsonl"
    lock = out.with_name(out.name + ".lock")
    with held_by_another_process(lock):  # as a generate in flight holds it
        with pytest.raises(ftkit.RunConflict, match=r"is being written by pid \d+"):
            generate(fake.client(max_retries=0), JSON_FILE, model=BASE, out=out)
        assert chat_calls(fake) == [] and not out.exists()
    result = generate(fake.client(max_retries=0), JSON_FILE, model=BASE, out=out)
    assert result.kept == len(rows(JSON_FILE)) and lock.read_text() == ""  # released
    other = tmp_path / "e.jsonl"
    with pytest.raises(ftkit.CostLimitExceeded):  # refused before a call: released too
        generate(fake.client(max_retries=0), JSON_FILE, model=BASE, out=other, max_cost_usd=1e-9)
    assert other.with_name(other.name + ".lock").read_text() == ""
