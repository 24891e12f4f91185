"""The fake judge: verdicts and grades a test can work out by hand, through the real clients.

Every request is built as ftkit's judge builds it (``pairwise_messages`` /
``rubric_messages`` with their schema as ``response_format``) and sent through the
provider's own SDK on the fake (openai, together, fireworks); every raw answer is
validated with that SDK's own pydantic type, with no key the type does not know, and
every reply is read with ftkit's strict readers (``read_verdict``, ``read_grade``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import openai.types.chat
import pytest
import together.types.chat
from fireworks.types.chat.completion_create_response import CompletionCreateResponse
from fireworks_support import strict
from pydantic import BaseModel

from ftkit.evaluation._judge_prompts import (
    Malformed,
    pairwise_messages,
    pairwise_schema,
    read_grade,
    read_verdict,
    rubric_messages,
    rubric_schema,
)
from ftkit.testing import DEFAULT_START, ChatBehaviour, FakeClock, FakeFineTuningAPI
from ftkit.tokens.counting import TokenCounter

JUDGES = {
    "openai": "gpt-4.1-2025-04-14",
    "together": "meta-llama/Llama-3.3-70B-Instruct-Reference",
    "fireworks": "accounts/fireworks/models/llama-v3p3-70b-instruct",
}
TYPES: dict[str, type[BaseModel]] = {
    "openai": openai.types.chat.ChatCompletion,
    "together": together.types.chat.ChatCompletion,
    "fireworks": CompletionCreateResponse,
}
PROVIDERS = sorted(JUDGES)

CONVERSATION = "[user] What is the capital of France?"
REFERENCE = "Paris is the capital of France."
CLOSE = "The capital is Paris."  # token F1 0.80 against REFERENCE
FAR = "I like trains a lot."  # token F1 0.00
CRITERIA = "the better answer is correct"


def new_fake(provider: str, **behaviour: Any) -> FakeFineTuningAPI:
    """A fake whose judge has no seeded ties unless told: its verdicts are the rule's."""
    return FakeFineTuningAPI(
        provider=provider,
        seed=3,
        clock=FakeClock(start=DEFAULT_START),
        chat=ChatBehaviour(**{"judge_tie_rate": 0.0, **behaviour}),
    )


def ask_raw(fake: FakeFineTuningAPI, body: dict[str, Any]) -> dict[str, Any]:
    """The raw answer to ``body`` through the provider's SDK, checked against its own type."""
    clients: dict[str, Callable[..., Any]] = {
        "openai": fake.client,
        "together": fake.together_client,
        "fireworks": fake.fireworks_client,
    }
    client = clients[fake.provider](max_retries=0)
    response = client.chat.completions.with_raw_response.create(**body)
    answer: dict[str, Any] = response.http_response.json()
    if fake.provider == "together":
        # The fake's Together answer is OpenAI's with Together's additions, so it carries
        # keys Together's type does not declare: validated, as test_fake_together does.
        TYPES["together"].model_validate(answer)
    else:
        strict(TYPES[fake.provider], answer)
    if fake.provider == "openai":
        openai.types.chat.ChatCompletion.model_validate(answer, strict=True)
    return answer


def ask(fake: FakeFineTuningAPI, messages: list[dict[str, Any]], schema: dict[str, Any]) -> str:
    """The text of the judge's one reply (finish reason ``stop``)."""
    body = {"model": JUDGES[fake.provider], "messages": messages, "response_format": schema}
    answer = ask_raw(fake, body)
    assert [c["finish_reason"] for c in answer["choices"]] == ["stop"]
    content = answer["choices"][0]["message"]["content"]
    assert isinstance(content, str)
    return content


def verdict(
    fake: FakeFineTuningAPI, first: str, second: str, reference: str | None = REFERENCE
) -> tuple[str, str]:
    messages = pairwise_messages(CONVERSATION, reference, first, second, CRITERIA)
    return read_verdict(ask(fake, messages, pairwise_schema()))


def both_orders(
    fake: FakeFineTuningAPI, x: str, y: str, reference: str | None = REFERENCE
) -> tuple[str, str]:
    """The winners of ``(x, y)`` and of ``(y, x)``: ftkit's position swap."""
    return verdict(fake, x, y, reference)[0], verdict(fake, y, x, reference)[0]


def grade(
    fake: FakeFineTuningAPI,
    answer: str,
    reference: str | None = REFERENCE,
    scale: tuple[int, int] = (1, 5),
) -> tuple[dict[str, int], str]:
    criteria = {"correct": "says what the reference says", "style": "matches its tone"}
    names = list(criteria)
    messages = rubric_messages(CONVERSATION, reference, answer, criteria, scale)
    return read_grade(ask(fake, messages, rubric_schema(names, scale)), names, scale)


# ---------------------------------------------------------------- pairwise
@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_closer_answer_wins_in_both_orders(provider: str) -> None:
    fake = new_fake(provider)
    assert both_orders(fake, CLOSE, FAR) == ("A", "B")
    winner, reason = verdict(fake, FAR, CLOSE)
    assert winner == "B"
    assert reason == "Answer B is closer to the reference (token F1 0.80 vs 0.00)."


@pytest.mark.parametrize("provider", PROVIDERS)
def test_equally_close_answers_are_a_tie(provider: str) -> None:
    fake = new_fake(provider)
    # Other words in another order, the same words: the same token F1, not the same text.
    assert both_orders(fake, "Paris, capital.", "capital Paris") == ("tie", "tie")
    assert verdict(fake, CLOSE, CLOSE)[1] == (
        "The answers are equally close to the reference (token F1 0.80)."
    )


@pytest.mark.parametrize("provider", PROVIDERS)
def test_without_a_reference_the_longer_answer_wins(provider: str) -> None:
    fake = new_fake(provider)
    # FAR is closer to nothing but longer than CLOSE: the verbosity bias, on purpose.
    longer = "Trains, mostly; I like trains a great deal, and buses too."
    assert both_orders(fake, longer, CLOSE, reference=None) == ("A", "B")
    assert verdict(fake, CLOSE, longer, reference=None)[1] == (
        "No reference was shown and answer B is longer (58 vs 21 characters)."
    )
    assert both_orders(fake, "abc", "xyz", reference=None) == ("tie", "tie")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_first_bias_of_one_always_answers_a_which_the_swap_turns_into_ties(
    provider: str,
) -> None:
    fake = new_fake(provider, judge_first_bias=1.0)
    for x, y in ((CLOSE, FAR), (FAR, CLOSE), (CLOSE, CLOSE), (REFERENCE, FAR)):
        assert both_orders(fake, x, y) == ("A", "A")
    assert "first bias" in verdict(fake, FAR, CLOSE)[1]


def _pairs(n: int) -> list[tuple[str, str]]:
    """``n`` pairs with a clear winner: a close answer and a far one."""
    return [(f"The capital is Paris, {i}.", f"Trains number {i}.") for i in range(n)]


def test_the_tie_rate_is_seeded_and_the_same_in_both_orders() -> None:
    runs = []
    for _ in range(2):
        fake = new_fake("openai", judge_tie_rate=0.5)
        runs.append([both_orders(fake, x, y) for x, y in _pairs(40)])
    assert runs[0] == runs[1]  # seeded: the same requests, the same verdicts
    for orders in runs[0]:
        assert orders in (("A", "B"), ("tie", "tie")), orders  # never one order only
    ties = sum(orders == ("tie", "tie") for orders in runs[0])
    assert 10 <= ties <= 30, ties  # about half of 40
    fake = new_fake("openai", judge_tie_rate=0.5)
    tied = next(x for (x, y), orders in zip(_pairs(40), runs[0], strict=True) if orders[0] == "tie")
    far = dict(_pairs(40))[tied]
    assert verdict(fake, tied, far)[1].endswith("yet the fake judge calls it a tie (its tie rate).")
    never = new_fake("openai", judge_tie_rate=0.0)
    always = new_fake("openai", judge_tie_rate=1.0)
    assert {both_orders(never, x, y) for x, y in _pairs(10)} == {("A", "B")}
    assert {both_orders(always, x, y) for x, y in _pairs(10)} == {("tie", "tie")}


def test_the_default_judge_ties_a_tenth_of_clear_pairs() -> None:
    fake = FakeFineTuningAPI(seed=3, clock=FakeClock(start=DEFAULT_START))
    assert fake.chat.judge_tie_rate == 0.1 and fake.chat.judge_first_bias == 0.0
    ties = sum(both_orders(fake, x, y) == ("tie", "tie") for x, y in _pairs(100))
    assert 2 <= ties <= 20, ties


# --------------------------------------------------------------- malformed
@pytest.mark.parametrize("provider", PROVIDERS)
def test_at_a_malformed_rate_of_one_no_reply_is_json(provider: str) -> None:
    fake = new_fake(provider, judge_malformed_rate=1.0)
    messages = pairwise_messages(CONVERSATION, REFERENCE, FAR, CLOSE, CRITERIA)
    text = ask(fake, messages, pairwise_schema())
    assert text == "Answer B is better."
    with pytest.raises(ValueError):
        json.loads(text)
    with pytest.raises(Malformed, match="not JSON"):
        read_verdict(text)
    criteria = {"correct": "says what the reference says"}
    rubric = rubric_messages(CONVERSATION, REFERENCE, CLOSE, criteria, (1, 5))
    prose = ask(fake, rubric, rubric_schema(["correct"], (1, 5)))
    with pytest.raises(Malformed, match="not JSON"):
        read_grade(prose, ["correct"], (1, 5))


def test_at_a_malformed_rate_of_zero_every_reply_reads() -> None:
    fake = new_fake("openai", judge_malformed_rate=0.0, judge_tie_rate=0.3)
    for x, y in _pairs(30):
        verdict(fake, x, y)  # read_verdict raises on a malformed reply
        grade(fake, x)


def test_a_malformed_reply_asked_again_can_come_out_well() -> None:
    fake = new_fake("openai", judge_malformed_rate=0.5)
    recovered = 0
    for x, y in _pairs(20):
        messages = pairwise_messages(CONVERSATION, REFERENCE, x, y, CRITERIA)
        try:
            read_verdict(ask(fake, messages, pairwise_schema()))
            continue
        except Malformed as exc:
            problem = str(exc)
        # ftkit's re-ask: the same request with one more user message.
        messages.append({"role": "user", "content": f"Your previous reply ({problem}). Again."})
        try:
            assert read_verdict(ask(fake, messages, pairwise_schema()))[0] == "A"
            recovered += 1
        except Malformed:
            pass
    assert recovered >= 1


# ------------------------------------------------------------------ rubric
@pytest.mark.parametrize("provider", PROVIDERS)
def test_rubric_scores_follow_the_token_f1(provider: str) -> None:
    fake = new_fake(provider)
    scores, reason = grade(fake, CLOSE)  # F1 0.8: 1 + round(0.8 * 4) = 4
    assert scores == {"correct": 4, "style": 4}
    assert reason == (
        "Every criterion scores 4 of 1..5: the answer's token F1 against the reference is 0.80."
    )
    assert grade(fake, FAR)[0] == {"correct": 1, "style": 1}
    assert grade(fake, REFERENCE)[0] == {"correct": 5, "style": 5}
    assert grade(fake, CLOSE, scale=(0, 10))[0] == {"correct": 8, "style": 8}


def test_rubric_scores_without_a_reference_are_the_middle_rounded_down() -> None:
    fake = new_fake("openai")
    assert grade(fake, CLOSE, reference=None)[0] == {"correct": 3, "style": 3}
    assert grade(fake, CLOSE, reference=None, scale=(1, 4))[0] == {"correct": 2, "style": 2}
    assert grade(fake, CLOSE, reference=None, scale=(0, 10))[0] == {"correct": 5, "style": 5}


def test_the_rubric_ignores_the_pairwise_flaws() -> None:
    fake = new_fake("openai", judge_first_bias=1.0, judge_tie_rate=1.0)
    assert grade(fake, CLOSE)[0] == {"correct": 4, "style": 4}


# ---------------------------------------------------------------- the rest
def test_usage_is_counted_as_for_any_answer() -> None:
    fake = new_fake("openai")
    messages = pairwise_messages(CONVERSATION, REFERENCE, CLOSE, FAR, CRITERIA)
    body = {"model": JUDGES["openai"], "messages": messages, "response_format": pairwise_schema()}
    answer = ask_raw(fake, body)
    counter = TokenCounter(JUDGES["openai"])
    usage = answer["usage"]
    assert usage["completion_tokens"] == counter.text(answer["choices"][0]["message"]["content"])
    assert usage["prompt_tokens"] == counter.count_messages(messages).total
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_a_streamed_verdict_is_the_same_reply() -> None:
    fake = new_fake("openai")
    messages: Any = pairwise_messages(CONVERSATION, REFERENCE, FAR, CLOSE, CRITERIA)
    schema: Any = pairwise_schema()
    chunks = fake.client(max_retries=0).chat.completions.create(
        model=JUDGES["openai"], messages=messages, response_format=schema, stream=True
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert read_verdict(text)[0] == "B"
    assert text == ask(fake, messages, pairwise_schema())


def test_a_request_without_the_judge_schema_gets_the_models_usual_answer() -> None:
    fake = new_fake("openai")
    messages = pairwise_messages(CONVERSATION, REFERENCE, CLOSE, FAR, CRITERIA)
    answer = ask_raw(fake, {"model": JUDGES["openai"], "messages": messages})
    content = answer["choices"][0]["message"]["content"]
    assert content.startswith("Sure! Here is what I can tell you about")
    with pytest.raises(Malformed):
        read_verdict(content)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_judge_model_the_fake_does_not_serve_is_404(provider: str) -> None:
    fake = new_fake(provider)
    messages = pairwise_messages(CONVERSATION, REFERENCE, CLOSE, FAR, CRITERIA)
    body = {"model": "no-such-judge", "messages": messages, "response_format": pairwise_schema()}
    with pytest.raises(Exception) as info:
        ask_raw(fake, body)
    assert getattr(info.value, "status_code", None) == 404


@pytest.mark.parametrize(
    "knob", ["judge_tie_rate", "judge_first_bias", "judge_malformed_rate", "error_rate"]
)
@pytest.mark.parametrize("value", [-0.1, 1.5, True, "0.5"])
def test_a_rate_outside_zero_to_one_is_refused(knob: str, value: Any) -> None:
    with pytest.raises(ValueError, match=knob):
        ChatBehaviour(**{knob: value})
