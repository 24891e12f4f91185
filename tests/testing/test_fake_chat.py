"""Chat Completions in the fake: SDK-valid answers, learned replies, base models, faults."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
from fake_support import sdk_client
from openai.types.chat import ChatCompletion

from ftkit.testing import ChatBehaviour, FakeFineTuningAPI

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"
BASE = "gpt-4.1-mini-2025-04-14"


def rows(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (EXAMPLES / name).read_text("utf-8").splitlines()]


def train(
    fake: FakeFineTuningAPI, content: bytes, *, model: str = BASE, method: str = "supervised"
) -> str:
    client = fake.client(max_retries=0)
    file = client.files.create(file=("train.jsonl", content), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(
        model=model, training_file=file.id, method={"type": method}
    )
    fake.advance(100_000)
    done = client.fine_tuning.jobs.retrieve(job.id)
    assert done.status == "succeeded", done.error
    assert done.fine_tuned_model is not None
    return done.fine_tuned_model


def file_bytes(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


@pytest.fixture
def fake() -> FakeFineTuningAPI:
    return FakeFineTuningAPI(chat=ChatBehaviour(error_rate=0.0))


def test_answers_validate_strictly_as_the_sdk_chat_completion(fake: FakeFineTuningAPI) -> None:
    seen: list[httpx2.Response] = []

    def transport(request: httpx2.Request) -> httpx2.Response:
        response = fake.handle(request)
        seen.append(response)
        return response

    client = sdk_client(transport, api_key="sk-test-chat")
    tools = rows("tool_calling_sft.jsonl")[0]["tools"]
    client.chat.completions.create(model=BASE, messages=[{"role": "user", "content": "Hi"}])
    client.chat.completions.create(
        model=BASE,
        messages=[{"role": "user", "content": "Weather in Oslo?"}],
        tools=tools,
        n=2,
    )
    assert len(seen) == 2
    for response in seen:
        assert response.status_code == 200
        body = response.json()
        completion = ChatCompletion.model_validate(body, strict=True)
        assert completion.usage is not None
        assert completion.usage.total_tokens == (
            completion.usage.prompt_tokens + completion.usage.completion_tokens
        )
        assert completion.usage.prompt_tokens > 0
    second = ChatCompletion.model_validate(seen[1].json())
    assert len(second.choices) == 2
    assert second.choices[0].finish_reason == "tool_calls"
    call = second.choices[0].message.tool_calls
    assert call is not None and call[0].type == "function"
    assert call[0].function.name == "get_weather"


def test_a_fine_tuned_model_recalls_its_training_data(fake: FakeFineTuningAPI) -> None:
    model = train(fake, file_bytes("json_extraction_sft.jsonl"))
    client = fake.client(max_retries=0)
    for row in rows("json_extraction_sft.jsonl"):
        reply = client.chat.completions.create(model=model, messages=row["messages"][:-1])
        assert reply.choices[0].message.content == row["messages"][-1]["content"]
        assert reply.model == model
    base = client.chat.completions.create(model=BASE, messages=row["messages"][:-1])
    assert base.choices[0].message.content != row["messages"][-1]["content"]


def test_checkpoints_know_what_their_model_knows(fake: FakeFineTuningAPI) -> None:
    model = train(fake, file_bytes("json_extraction_sft.jsonl"))
    checkpoint = next(m for m in fake.fine_tuned_models if m.startswith(model + ":ckpt-step-"))
    row = rows("json_extraction_sft.jsonl")[3]
    reply = fake.client(max_retries=0).chat.completions.create(
        model=checkpoint, messages=row["messages"][:-1]
    )
    assert reply.choices[0].message.content == row["messages"][-1]["content"]


def test_the_error_rate_is_deterministic_and_changes_one_json_field() -> None:
    answers: list[list[str]] = []
    for _ in range(2):
        # One seed for both fakes: the same ids, so the same fine-tuned model name.
        fake = FakeFineTuningAPI(chat=ChatBehaviour(error_rate=0.5), seed=0)
        model = train(fake, file_bytes("json_extraction_sft.jsonl"))
        client = fake.client(max_retries=0)
        answers.append(
            [
                str(
                    client.chat.completions.create(model=model, messages=r["messages"][:-1])
                    .choices[0]
                    .message.content
                )
                for r in rows("json_extraction_sft.jsonl")
            ]
        )
    assert answers[0] == answers[1]  # same model name, same prompts: same answers
    references = [r["messages"][-1]["content"] for r in rows("json_extraction_sft.jsonl")]
    wrong = [(a, ref) for a, ref in zip(answers[0], references, strict=True) if a != ref]
    assert 3 <= len(wrong) <= 17  # about half of 20, seeded
    for answer, reference in wrong:
        got, expected = json.loads(answer), json.loads(reference)
        assert set(got) == set(expected)
        assert sum(got[k] != expected[k] for k in expected) == 1


def test_unseen_prompts_get_the_nearest_learned_reply(fake: FakeFineTuningAPI) -> None:
    model = train(fake, file_bytes("json_extraction_sft.jsonl"))
    system = rows("json_extraction_sft.jsonl")[0]["messages"][0]
    reply = fake.client(max_retries=0).chat.completions.create(
        model=model,
        messages=[system, {"role": "user", "content": "Sofia Marquez scores again for Valencia"}],
    )
    learned = rows("json_extraction_sft.jsonl")[0]["messages"][-1]["content"]
    assert reply.choices[0].message.content == learned

    fake.chat = ChatBehaviour(generalise=False)
    again = fake.client(max_retries=0).chat.completions.create(
        model=model,
        messages=[system, {"role": "user", "content": "Sofia Marquez scores again for Valencia"}],
    )
    assert again.choices[0].message.content.startswith("Sure!")  # type: ignore[union-attr]


def test_tool_calling_references_are_answered_with_tool_calls(fake: FakeFineTuningAPI) -> None:
    model = train(fake, file_bytes("tool_calling_sft.jsonl"))
    row = rows("tool_calling_sft.jsonl")[0]
    first_call = next(i for i, m in enumerate(row["messages"]) if m.get("tool_calls"))
    reply = fake.client(max_retries=0).chat.completions.create(
        model=model, messages=row["messages"][:first_call], tools=row["tools"]
    )
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None
    expected = row["messages"][first_call]["tool_calls"]
    assert [(c.function.name, c.function.arguments) for c in choice.message.tool_calls] == [
        (c["function"]["name"], c["function"]["arguments"]) for c in expected
    ]


def test_a_dpo_model_prefers_the_preferred_output_and_keeps_its_sft_knowledge(
    fake: FakeFineTuningAPI,
) -> None:
    sft_model = train(fake, file_bytes("sarcasm_sft.jsonl"))
    dpo_model = train(fake, file_bytes("sarcasm_dpo.jsonl"), model=sft_model, method="dpo")
    client = fake.client(max_retries=0)
    pair = rows("sarcasm_dpo.jsonl")[0]
    reply = client.chat.completions.create(model=dpo_model, messages=pair["input"]["messages"])
    assert reply.choices[0].message.content == pair["preferred_output"][0]["content"]
    sft_row = rows("sarcasm_sft.jsonl")[0]
    inherited = client.chat.completions.create(model=dpo_model, messages=sft_row["messages"][:-1])
    assert inherited.choices[0].message.content == sft_row["messages"][-1]["content"]


def test_unknown_and_deleted_models_are_404(fake: FakeFineTuningAPI) -> None:
    client = fake.client(max_retries=0)
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(
            model="gpt-9-nonexistent", messages=[{"role": "user", "content": "x"}]
        )
    assert caught.value.code == "model_not_found"
    model = train(fake, file_bytes("json_extraction_sft.jsonl"))
    client.models.delete(model)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "x"}])


def test_malformed_requests_are_400(fake: FakeFineTuningAPI) -> None:
    client = fake.client(max_retries=0)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=BASE, messages=[])
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model=BASE,
            messages=[{"role": "assistant", "content": "x", "weight": 0}],  # type: ignore[list-item,typeddict-unknown-key]
        )
    assert "weight" in str(caught.value)


def test_the_azure_deployment_path_is_served() -> None:
    fake = FakeFineTuningAPI(provider="azure")
    client = fake.azure_client(max_retries=0)
    reply = client.chat.completions.create(
        model="gpt-4o-mini-2024-07-18", messages=[{"role": "user", "content": "Hello"}]
    )
    assert reply.model == "gpt-4o-mini-2024-07-18"
    recorded = fake.calls("chat.completions.create")[-1]
    assert recorded.path == "/openai/deployments/gpt-4o-mini-2024-07-18/chat/completions"
    assert recorded.azure and "api-version" in recorded.query


def test_faults_apply_to_the_chat_route(fake: FakeFineTuningAPI) -> None:
    fake.faults.inject("chat.completions.create", "429", retry_after=2)
    fake.faults.inject("chat.completions.create", "500")
    reply = fake.client(max_retries=2).chat.completions.create(
        model=BASE, messages=[{"role": "user", "content": "Hello"}]
    )
    assert reply.choices[0].message.content
    assert [r.status for r in fake.calls("chat.completions.create")] == [429, 500, 200]
    assert fake.clock.slept[0] == 2.0


def test_knowledge_survives_deleting_the_training_file(fake: FakeFineTuningAPI) -> None:
    model = train(fake, file_bytes("json_extraction_sft.jsonl"))
    client = fake.client(max_retries=0)
    row = rows("json_extraction_sft.jsonl")[5]
    for file in fake.files:
        if file["purpose"] == "fine-tune":
            client.files.delete(file["id"])
    reply = client.chat.completions.create(model=model, messages=row["messages"][:-1])
    assert reply.choices[0].message.content == row["messages"][-1]["content"]


def test_max_tokens_cuts_the_reply_with_length(fake: FakeFineTuningAPI) -> None:
    reply = fake.client(max_retries=0).chat.completions.create(
        model=BASE,
        messages=[{"role": "user", "content": "Tell me about the history of rugby in Ireland"}],
        max_completion_tokens=4,
    )
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage is not None and reply.usage.completion_tokens == 4
