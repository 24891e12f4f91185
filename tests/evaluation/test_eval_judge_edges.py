"""Judged evaluation at its edges: pairs given by hand, interval bounds, clients, reruns."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from chat_support import BASE, EXAMPLES, train

import ftkit
from ftkit.backend import ChatAnswer
from ftkit.backend._request import Request
from ftkit.evaluation import (
    DEFAULT_JUDGE_MODEL,
    InferencePrices,
    PairwiseJudge,
    RubricJudge,
    aevaluate,
    evaluate,
)
from ftkit.evaluation._budget import SpendEstimate, Spending
from ftkit.evaluation._judge_prompts import read_judge_request
from ftkit.evaluation._report import wilson_interval
from ftkit.testing import ChatBehaviour, FakeFineTuningAPI

SFT = EXAMPLES / "sarcasm_sft.jsonl"
TEST = EXAMPLES / "sarcasm_sft_validation.jsonl"


def chat_calls(fake: FakeFineTuningAPI) -> int:
    return len(fake.calls("chat.completions.create"))


@pytest.fixture(scope="module")
def tuned() -> tuple[FakeFineTuningAPI, dict[str, str]]:
    fake = FakeFineTuningAPI(chat=ChatBehaviour(error_rate=0.0, judge_tie_rate=0.0))
    return fake, {"base": BASE, "tuned": train(fake, SFT)}


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([("tuned", "base"), ("base", "tuned")], "given twice"),
        ([("tuned", "base"), ("tuned", "base")], "given twice"),
        ([], "names no pair"),
    ],
)
def test_a_pair_given_twice_or_no_pair_is_refused_before_any_call(
    tuned: tuple[FakeFineTuningAPI, dict[str, str]], pairs: list[tuple[str, str]], message: str
) -> None:
    # Judged twice, each example would count twice: 6 "compared" out of 3 examples.
    fake, models = tuned
    before = chat_calls(fake)
    with pytest.raises(ftkit.UsageError, match=message):
        evaluate(models, TEST, client=fake.client(), scorer=PairwiseJudge(pairs=pairs))
    assert chat_calls(fake) == before


def test_a_pair_given_once_is_compared_once_per_example(
    tuned: tuple[FakeFineTuningAPI, dict[str, str]],
) -> None:
    fake, models = tuned
    report = evaluate(
        models,
        TEST,
        client=fake.client(),
        scorer=PairwiseJudge(pairs=[("base", "tuned")]),
        max_examples=3,
    )
    [pair] = report.pairs
    assert (pair.a, pair.b) == ("base", "tuned") and pair.compared == 3


@pytest.mark.parametrize("n", [1, 2, 3, 7, 10])
def test_the_wilson_bounds_are_exactly_0_and_1_at_the_ends(n: int) -> None:
    low, _ = wilson_interval(0, n)
    _, high = wilson_interval(n, n)
    assert low == 0.0 and high == 1.0
    inner_low, inner_high = wilson_interval(n / 2, n)
    assert inner_low is not None and inner_high is not None
    assert 0.0 < inner_low < 0.5 < inner_high < 1.0


def test_a_judge_client_of_the_wrong_kind_is_refused_before_any_model_is_asked(
    tuned: tuple[FakeFineTuningAPI, dict[str, str]],
) -> None:
    fake, models = tuned
    elsewhere = FakeFineTuningAPI(chat=ChatBehaviour(error_rate=0.0))
    before = chat_calls(fake)
    with pytest.raises(ftkit.UsageError, match=r"async client needs ftkit\.aevaluate"):
        evaluate(
            models,
            TEST,
            client=fake.client(),
            scorer=PairwiseJudge(client=elsewhere.async_client(), model=DEFAULT_JUDGE_MODEL),
        )
    with pytest.raises(ftkit.UsageError, match=r"needs ftkit\.evaluate"):
        asyncio.run(
            aevaluate(
                models,
                TEST,
                client=fake.async_client(),
                scorer=RubricJudge(client=elsewhere.client(), model=DEFAULT_JUDGE_MODEL),
            )
        )
    assert chat_calls(fake) == before and chat_calls(elsewhere) == 0


def test_an_azure_client_needs_the_judge_named() -> None:
    fake = FakeFineTuningAPI(provider="azure", chat=ChatBehaviour(error_rate=0.0))
    with pytest.raises(ftkit.UsageError, match="judge's deployment for an Azure OpenAI client"):
        evaluate([BASE, "gpt-4o-mini-2024-07-18"], TEST, client=fake.client(), scorer="rubric")
    assert chat_calls(fake) == 0
    report = evaluate(
        [BASE],
        TEST,
        client=fake.client(),
        scorer="rubric",
        judge=DEFAULT_JUDGE_MODEL,
        max_examples=2,
    )
    assert report.judge is not None and report.judge.calls == 2


def test_a_rerun_reuses_unreadable_verdicts_and_more_attempts_ask_on(tmp_path: Path) -> None:
    fake = FakeFineTuningAPI(chat=ChatBehaviour(error_rate=0.0, judge_malformed_rate=1.0))
    models = {"base": BASE, "tuned": train(fake, SFT)}

    def run(attempts: int) -> ftkit.EvalReport:
        return evaluate(
            models,
            TEST,
            client=fake.client(),
            scorer=RubricJudge(model=DEFAULT_JUDGE_MODEL, attempts=attempts),
            out=tmp_path,
            max_examples=2,
        )

    first = run(2)
    assert first.judge is not None and first.judge.errors == first.judge.unreadable == 4
    before = chat_calls(fake)
    again = run(2)
    assert chat_calls(fake) == before  # the same replies, the same errors, no call
    assert again.judge is not None and again.judge.calls == 0
    assert again.judge.errors == again.judge.unreadable == 4
    more = run(3)
    assert more.judge is not None and more.judge.calls == 4 == chat_calls(fake) - before
    assert more.judge.to_dict()["unreadable"] == 4


def test_a_failed_judge_call_is_not_counted_unreadable(
    tuned: tuple[FakeFineTuningAPI, dict[str, str]],
) -> None:
    fake, models = tuned

    class Failing:
        """A judge backend whose every call fails with a 500 (recorded, not fatal)."""

        def complete(self, params: Any) -> Request[ChatAnswer]:
            def call(_: Any) -> str:
                raise ftkit.APIError("the judge is down", status_code=500)

            return Request(None, call, lambda text: ChatAnswer(text, (), 1, 1, "stop"))

    report = evaluate(
        models,
        TEST,
        client=fake.client(),
        scorer=PairwiseJudge(client=Failing(), model=DEFAULT_JUDGE_MODEL),
        retry=1,
        max_examples=2,
    )
    assert report.judge is not None
    assert report.judge.errors == 2 and report.judge.unreadable == 0


def test_the_cap_message_says_calls_were_made_when_some_were() -> None:
    spending = Spending(1.0, InferencePrices.load(None), spent_usd=0.75)
    expected = SpendEstimate(calls=3, prompt_tokens=10, completion_tokens=10, cost_usd=0.5)
    with pytest.raises(ftkit.CostLimitExceeded) as caught:
        spending.check(expected, "judge calls")
    message = str(caught.value)
    assert "$0.7500 already spent" in message and "none of them was asked" in message
    assert "nothing was asked" not in message
    with pytest.raises(ftkit.CostLimitExceeded, match="; nothing was asked"):
        Spending(0.1, InferencePrices.load(None)).check(expected, "judge calls")


def test_every_attempt_is_a_new_request_showing_the_unreadable_replies(tmp_path: Path) -> None:
    # A third attempt that repeated the second's messages got the second's reply back
    # from the results directory: no call, the same malformed reply.
    fake = FakeFineTuningAPI(chat=ChatBehaviour(error_rate=0.0, judge_malformed_rate=1.0))
    models = {"base": BASE, "tuned": train(fake, SFT)}
    report = evaluate(
        models,
        TEST,
        client=fake.client(),
        scorer=RubricJudge(model=DEFAULT_JUDGE_MODEL, attempts=3),
        out=tmp_path,
        max_examples=2,
    )
    assert report.judge is not None
    assert report.judge.calls == 3 * 4 and report.judge.reused == 0
    assert report.judge.malformed == 12 and report.judge.errors == 4
    bodies = [
        r.json
        for r in fake.calls("chat.completions.create")
        if r.json is not None and read_judge_request(r.json) is not None
    ]
    assert len({json.dumps(b["messages"], sort_keys=True) for b in bodies}) == len(bodies) == 12
    third = [b["messages"] for b in bodies if len(b["messages"]) == 6]
    assert len(third) == 4
    for messages in third:
        assert [m["role"] for m in messages[2:]] == ["assistant", "user", "assistant", "user"]
        assert "out of 5" in messages[2]["content"]  # the fake's prose, shown back
        assert "could not be read" in messages[3]["content"]
