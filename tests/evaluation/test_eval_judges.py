"""Judged evaluation on the fake: pairwise win rates, rubric grades, position swap, costs.

The fake judge's rules (``ftkit.testing``) are simple enough to work out by hand: the
reply closer to the reference (token F1) wins, with a seeded tie rate, a first-position
bias and malformed replies as knobs. So every count below is checked against an
independent computation from the replies in the report, not against a recorded run.
"""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

import pytest
from chat_support import BASE, EXAMPLES, retry_on

import ftkit
from ftkit.backend import ChatAnswer
from ftkit.backend._request import Request
from ftkit.evaluation import (
    DEFAULT_JUDGE_MODEL,
    EditSimilarity,
    EvalReport,
    PairwiseJudge,
    RubricJudge,
    TokenF1,
    Turn,
    aevaluate,
    evaluate,
)
from ftkit.evaluation._judge_prompts import read_judge_request
from ftkit.evaluation._scorers import _edit_distance
from ftkit.polling import PollPolicy
from ftkit.testing import ChatBehaviour, FakeFineTuningAPI

SFT = EXAMPLES / "sarcasm_sft.jsonl"
DPO = EXAMPLES / "sarcasm_dpo.jsonl"
TEST = EXAMPLES / "sarcasm_sft_validation.jsonl"
JUDGE = DEFAULT_JUDGE_MODEL


def judge_calls(fake: FakeFineTuningAPI) -> list[dict[str, Any]]:
    """The bodies of the chat requests the fake judged (ftkit's judge schema)."""
    return [
        r.json
        for r in fake.calls("chat.completions.create")
        if r.json is not None and read_judge_request(r.json) is not None
    ]


def chat_calls(fake: FakeFineTuningAPI) -> int:
    return len(fake.calls("chat.completions.create"))


def sft_then_dpo(fake: FakeFineTuningAPI, state: Path) -> ftkit.RunResult:
    clock = fake.clock
    return (
        ftkit.FineTune(fake.client(max_retries=0))
        .model(BASE)
        .sft(SFT)
        .dpo(DPO)
        .retry(retry_on(fake))
        .poll(PollPolicy(initial_delay=30.0, sleep=clock.sleep, clock=clock.now))
        .state_dir(state)
        .run()
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[FakeFineTuningAPI, Any]:
    """One SFT then DPO run on a fake whose judge never ties by chance (counts are exact)."""
    fake = FakeFineTuningAPI(chat=ChatBehaviour(error_rate=0.0, judge_tie_rate=0.0))
    return fake, sft_then_dpo(fake, tmp_path_factory.mktemp("state"))


def f1(turn: Turn | None, reference: Turn) -> float:
    assert turn is not None
    return TokenF1()(turn, reference)


def expected_outcome(report: EvalReport, index: int, a: str, b: str) -> str:
    """What the fake judge must decide for ``a`` against ``b``: the closer reply wins."""
    example = report.examples[index]
    got_a = f1(example.replies[a].reply, example.reference)
    got_b = f1(example.replies[b].reply, example.reference)
    if abs(got_a - got_b) <= 1e-9:
        return "tie"
    return "win" if got_a > got_b else "loss"


def test_sft_then_dpo_pairwise_win_rates_with_intervals(
    trained: tuple[FakeFineTuningAPI, Any],
) -> None:
    fake, result = trained
    before = len(judge_calls(fake))
    report = result.evaluate(TEST, client=fake.client(), scorer="pairwise", retry=retry_on(fake))
    assert list(report.models) == ["base", "sft", "dpo"]
    assert [(p.a, p.b) for p in report.pairs] == [("sft", "base"), ("dpo", "base"), ("dpo", "sft")]
    for pair in report.pairs:
        outcomes = [
            expected_outcome(report, i, pair.a, pair.b) for i in range(len(report.examples))
        ]
        assert (pair.wins, pair.ties, pair.losses) == (
            outcomes.count("win"),
            outcomes.count("tie"),
            outcomes.count("loss"),
        )
        assert pair.judge == JUDGE and pair.errors == 0 and pair.split == 0
        low, high = pair.interval
        assert pair.win_rate is not None and low is not None and high is not None
        assert low <= pair.win_rate <= high
    # The fine-tune learned the style, the base did not: SFT beats base on most examples.
    sft = report.pair("sft", "base")
    assert sft.wins > sft.losses
    # Every pair of different replies was asked in both orders, identical ones not at all.
    identical = sum(v.identical for e in report.examples for v in e.verdicts)
    asked = judge_calls(fake)[before:]
    assert len(asked) == 2 * (3 * len(report.examples) - identical)
    assert report.judge is not None and report.judge.calls == len(asked)
    assert report.judge.swapped and report.judge.errors == 0
    assert report.judge.cost_usd is not None and report.judge.cost_usd > 0
    assert report.total_cost_usd == pytest.approx(
        sum(s.cost_usd or 0 for s in report.scores.values()) + report.judge.cost_usd
    )
    text = str(report)
    assert "sft vs base:" in text and "win rate" in text and f"judge {JUDGE}" in text
    data = report.to_dict()
    assert data["judge"]["kind"] == "pairwise" and data["pairwise"][0]["ci_low"] is not None
    assert "verdicts" in data["examples"][0]


def test_a_judge_that_always_picks_the_first_answer_yields_all_ties(
    tmp_path: Path,
) -> None:
    fake = FakeFineTuningAPI(chat=ChatBehaviour(error_rate=0.0, judge_first_bias=1.0))
    result = sft_then_dpo(fake, tmp_path)
    report = result.evaluate(TEST, client=fake.client(), scorer="pairwise", retry=retry_on(fake))
    for pair in report.pairs:
        decided = [v for e in report.examples for v in e.verdicts if (v.a, v.b) == (pair.a, pair.b)]
        asked = [v for v in decided if not v.identical]
        assert pair.wins == pair.losses == 0
        assert pair.ties == len(report.examples)
        assert pair.win_rate == 0.5
        # Each asked verdict is split: order one prefers a, order two prefers b.
        assert pair.split == len(asked) and all(v.first == "a" and v.second == "b" for v in asked)
    assert report.judge is not None and report.judge.first_position_share == 1.0
    assert "picked the first answer shown 100% of the time" in str(report)


def test_rubric_grades_per_criterion(trained: tuple[FakeFineTuningAPI, Any]) -> None:
    fake, result = trained
    judge = RubricJudge(criteria=["sarcastic", "under 40 words"], scale=(1, 5))
    report = result.evaluate(TEST, client=fake.client(), scorer=judge, retry=retry_on(fake))
    assert report.scorer == "rubric"
    for label, score in report.scores.items():
        grades = []
        for example in report.examples:
            reply = example.replies[label]
            expected = 1 + round(f1(reply.reply, example.reference) * 4)
            assert reply.grades == {"sarcastic": expected, "under 40 words": expected}
            assert reply.score == pytest.approx((expected - 1) / 4)
            assert reply.judge_reason
            grades.append(expected)
        assert score.criteria == {
            "sarcastic": pytest.approx(sum(grades) / len(grades)),
            "under 40 words": pytest.approx(sum(grades) / len(grades)),
        }
        assert score.mean == pytest.approx(sum((g - 1) / 4 for g in grades) / len(grades))
        assert score.judge_errors == 0
    # A rubric gives scores, so the score comparison holds as for any scorer.
    assert [(p.a, p.b) for p in report.pairs] == [("sft", "base"), ("dpo", "base"), ("dpo", "sft")]
    assert all(p.judge is None for p in report.pairs)
    assert "sarcastic" in str(report) and "under 40 words" in report._repr_html_()


def test_malformed_verdicts_are_asked_again_then_counted_never_scored(tmp_path: Path) -> None:
    fake = FakeFineTuningAPI(chat=ChatBehaviour(error_rate=0.0, judge_malformed_rate=1.0))
    tuned = sft_then_dpo(fake, tmp_path).fine_tuned_model
    judge = RubricJudge(model=JUDGE, attempts=2)
    report = evaluate(
        {"base": BASE, "tuned": tuned},
        TEST,
        client=fake.client(),
        scorer=judge,
        retry=retry_on(fake),
    )
    replies = 2 * len(report.examples)
    assert report.judge is not None
    assert report.judge.malformed == 2 * replies and report.judge.errors == replies
    for score in report.scores.values():
        assert score.mean is None and score.n == 0 and score.judge_errors == len(report.examples)
    example = report.examples[0].replies["tuned"]
    assert example.score is None and example.grades is None
    assert example.judge_error is not None and "after 2 attempts" in example.judge_error
    # The re-ask says what was wrong with the first reply.
    asked = judge_calls(fake)
    assert any("could not be read" in m["content"] for b in asked for m in b["messages"][2:])


def test_a_sometimes_malformed_judge_recovers_on_the_re_ask(tmp_path: Path) -> None:
    fake = FakeFineTuningAPI(chat=ChatBehaviour(error_rate=0.0, judge_malformed_rate=0.5))
    tuned = sft_then_dpo(fake, tmp_path).fine_tuned_model
    report = evaluate(
        {"base": BASE, "tuned": tuned},
        TEST,
        client=fake.client(),
        scorer="rubric",
        judge=JUDGE,
        retry=retry_on(fake),
    )
    assert report.judge is not None
    assert report.judge.malformed > 0
    assert report.judge.errors < report.judge.malformed  # some re-asks came back readable
    graded = sum(s.n for s in report.scores.values())
    assert graded + report.judge.errors == 2 * len(report.examples)


def test_the_cost_cap_stops_before_the_first_call(tmp_path: Path) -> None:
    fake = FakeFineTuningAPI(chat=ChatBehaviour(error_rate=0.0))
    with pytest.raises(ftkit.CostLimitExceeded) as caught:
        evaluate(
            [BASE, "gpt-4o-mini-2024-07-18"],
            TEST,
            client=fake.client(),
            scorer="pairwise",
            max_cost_usd=0.001,
        )
    assert chat_calls(fake) == 0
    assert caught.value.estimate_usd is not None and caught.value.estimate_usd > 0.001
    assert "nothing was asked" in str(caught.value)


def test_the_cost_cap_stops_before_the_first_judge_call(tmp_path: Path) -> None:
    """Replies already logged cost nothing more; the judge's calls alone are over the cap."""
    fake = FakeFineTuningAPI(chat=ChatBehaviour(error_rate=0.0))
    tuned = sft_then_dpo(fake, tmp_path / "state").fine_tuned_model
    models = {"base": BASE, "tuned": tuned}
    out = tmp_path / "eval"
    evaluate(models, TEST, client=fake.client(), scorer="token-f1", out=out)
    asked = chat_calls(fake)
    with pytest.raises(ftkit.CostLimitExceeded) as caught:
        evaluate(models, TEST, client=fake.client(), scorer="pairwise", out=out, max_cost_usd=0.002)
    assert chat_calls(fake) == asked  # no judge call, no reply asked again
    assert "judge" in str(caught.value)
    # Within the cap the same call runs, and its estimate was close to what it cost.
    report = evaluate(
        models, TEST, client=fake.client(), scorer="pairwise", out=out, max_cost_usd=1.0
    )
    assert report.asked == 0 and report.judge is not None and report.judge.calls > 0
    expected = report.estimates["judge"].cost_usd
    assert expected is not None and report.judge.cost_usd is not None
    assert report.judge.cost_usd <= expected  # the guesses lean high, as a cap needs


def test_a_cap_needs_a_price_for_every_model() -> None:
    fake = FakeFineTuningAPI()
    with pytest.raises(ftkit.UsageError, match=r"cost of the .* is unknown"):
        evaluate(
            [BASE],
            TEST,
            client=fake.client(),
            scorer=RubricJudge(model="o4-mini-2025-04-16"),
            max_cost_usd=1.0,
        )
    with pytest.raises(ftkit.UsageError, match="needs at least two models"):
        evaluate([BASE], TEST, client=fake.client(), scorer="pairwise")
    assert chat_calls(fake) == 0


def test_verdicts_are_logged_and_reused_on_resume(
    trained: tuple[FakeFineTuningAPI, Any], tmp_path: Path
) -> None:
    fake, result = trained
    first = result.evaluate(TEST, client=fake.client(), scorer="pairwise", out=tmp_path)
    calls = chat_calls(fake)
    again = result.evaluate(TEST, client=fake.client(), scorer="pairwise", out=tmp_path)
    assert chat_calls(fake) == calls  # nothing asked: replies and verdicts reused
    assert again.judge is not None and again.judge.calls == 0 and again.judge.reused > 0
    assert [p.to_dict() for p in again.pairs] == [p.to_dict() for p in first.pairs]
    # Another judge's standard is another question: asked, not mixed with the first.
    other = result.evaluate(
        TEST,
        client=fake.client(),
        scorer=PairwiseJudge(criteria="the funnier answer is better", pairs=[("sft", "base")]),
        out=tmp_path,
    )
    assert other.judge is not None and other.judge.reused == 0 and other.judge.calls > 0
    assert [(p.a, p.b) for p in other.pairs] == [("sft", "base")]


def test_the_judge_can_be_another_providers_model(trained: tuple[FakeFineTuningAPI, Any]) -> None:
    pytest.importorskip("together")
    fake, result = trained
    # The judge runs on Together AI (its own fake), the models on OpenAI.
    elsewhere = FakeFineTuningAPI(provider="together", chat=ChatBehaviour(judge_tie_rate=0.0))
    judge_client = elsewhere.together_client(max_retries=0)
    model = "meta-llama/Llama-3.3-70B-Instruct-Reference"
    report = result.evaluate(
        TEST,
        client=fake.client(),
        scorer=PairwiseJudge(client=judge_client, model=model, pairs=[("dpo", "sft")]),
    )
    assert report.judge is not None and report.judge.model == model
    assert (
        report.judge.calls == len(judge_calls(elsewhere)) > 0
        and report.judge.cost_usd is None
        and report.judge.cost_note
    )
    [pair] = report.pairs
    assert pair.judge == model and pair.compared == len(report.examples)
    with pytest.raises(ftkit.UsageError, match="name the judge model for a together client"):
        result.evaluate(TEST, client=fake.client(), scorer=PairwiseJudge(client=judge_client))


def test_async_twin_gives_the_same_report(trained: tuple[FakeFineTuningAPI, Any]) -> None:
    fake, result = trained
    models = result._models_to_compare()
    sync = evaluate(models, TEST, client=fake.client(), scorer="pairwise")
    asynchronous = asyncio.run(
        aevaluate(models, TEST, client=fake.async_client(), scorer="pairwise")
    )
    assert [p.to_dict() for p in asynchronous.pairs] == [p.to_dict() for p in sync.pairs]


def test_identical_replies_tie_without_asking() -> None:
    fake = FakeFineTuningAPI()
    report = evaluate(
        [BASE, "gpt-4o-mini-2024-07-18"], TEST, client=fake.client(), scorer="pairwise"
    )
    [pair] = report.pairs
    assert pair.ties == len(report.examples) and pair.wins == pair.losses == 0
    assert all(v.identical for e in report.examples for v in e.verdicts)
    assert judge_calls(fake) == [] and report.judge is not None and report.judge.calls == 0


def test_judge_arguments_are_checked() -> None:
    fake = FakeFineTuningAPI()
    with pytest.raises(ftkit.UsageError, match="judge= names the judge model"):
        evaluate([BASE], TEST, client=fake.client(), judge=JUDGE)
    with pytest.raises(ftkit.UsageError, match="given twice"):
        evaluate([BASE], TEST, client=fake.client(), scorer=PairwiseJudge(model="a"), judge="b")
    with pytest.raises(ftkit.UsageError, match="not a model of this evaluation"):
        evaluate(
            [BASE, "gpt-4o-mini-2024-07-18"],
            TEST,
            client=fake.client(),
            scorer=PairwiseJudge(pairs=[("x", BASE)]),
        )
    with pytest.raises(ftkit.UsageError, match="scale must go up"):
        RubricJudge(scale=(5, 1))
    with pytest.raises(ftkit.UsageError, match="given twice"):
        RubricJudge(criteria={"a": "x", " a": "y"})
    with pytest.raises(ftkit.UsageError, match="attempts"):
        PairwiseJudge(attempts=0)
    assert chat_calls(fake) == 0


def test_the_default_judge_is_named_and_the_request_is_structured() -> None:
    fake = FakeFineTuningAPI(chat=ChatBehaviour(error_rate=0.0))
    from chat_support import train

    tuned = train(fake, SFT)
    evaluate(
        {"base": BASE, "tuned": tuned},
        TEST,
        client=fake.client(),
        scorer="pairwise",
        max_examples=2,
    )
    bodies = judge_calls(fake)
    assert bodies and all(b["model"] == DEFAULT_JUDGE_MODEL for b in bodies)
    body = bodies[0]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert body["temperature"] == 0.0
    parsed = read_judge_request(body)
    assert parsed is not None and parsed.reference is not None and len(parsed.answers) == 2
    # Each question is asked in both orders: the same replies, swapped (calls run
    # concurrently, so the two orders need not arrive one after the other).
    shown = [read_judge_request(b) for b in bodies]
    orders = {(r.conversation, r.answers) for r in shown if r is not None}
    assert len(orders) == len(bodies)
    assert all((conversation, answers[::-1]) in orders for conversation, answers in orders)


@pytest.mark.parametrize("seed", range(5))
def test_edit_similarity_is_the_same_with_and_without_rapidfuzz(seed: int) -> None:
    rapidfuzz = pytest.importorskip("rapidfuzz.distance")
    rng = random.Random(seed)
    words = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran"]
    for _ in range(50):
        a = [rng.choice(words) for _ in range(rng.randint(0, 12))]
        b = [rng.choice(words) for _ in range(rng.randint(0, 12))]
        assert _edit_distance(a, b) == rapidfuzz.Levenshtein.distance(a, b)


def test_edit_similarity_values() -> None:
    score = EditSimilarity()
    assert score(Turn("the cat sat"), Turn("The cat sat.")) == 1.0
    assert score(Turn("the cat sat"), Turn("sat cat the")) == pytest.approx(1 / 3)
    assert score(Turn(""), Turn("")) == 1.0 and score(Turn("x"), Turn("")) == 0.0
    assert score(Turn("a b c d"), Turn("a b x d")) == 0.75


def test_cli_pairwise_and_rubric(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ftkit.cli import main

    code = main(
        [
            "eval",
            str(TEST),
            "--fake-train",
            str(SFT),
            "--model",
            BASE,
            "--scorer",
            "pairwise",
            "--max-cost-usd",
            "1",
            "--json",
            "--quiet",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads(captured.out)
    assert data["scorer"] == "pairwise" and data["judge"]["model"] == DEFAULT_JUDGE_MODEL
    [pair] = data["pairwise"]
    assert pair["a"] == "fine-tuned" and pair["ci_low"] <= pair["win_rate"] <= pair["ci_high"]
    code = main(
        [
            "eval",
            str(TEST),
            "--fake-train",
            str(SFT),
            "--model",
            BASE,
            "--scorer",
            "rubric",
            "--criterion",
            "sarcastic",
            "--scale",
            "0",
            "1",
            "--plot",
            str(tmp_path / "criteria.png"),
            "--quiet",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "sarcastic" in captured.out and (tmp_path / "criteria.png").stat().st_size > 0
    assert main(["eval", str(TEST), "--fake", "--model", BASE, "--criterion", "x"]) == 2
    assert "--criterion is for --scorer pairwise or rubric" in capsys.readouterr().err


def test_cli_exits_1_when_the_judge_gave_no_verdict(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ftkit import testing
    from ftkit.cli import main

    original = testing.FakeFineTuningAPI

    def malformed(*args: Any, **kwargs: Any) -> FakeFineTuningAPI:
        kwargs["chat"] = ChatBehaviour(judge_malformed_rate=1.0)
        return original(*args, **kwargs)

    monkeypatch.setattr(testing, "FakeFineTuningAPI", malformed)
    code = main(
        [
            "eval",
            str(TEST),
            "--fake-train",
            str(SFT),
            "--model",
            BASE,
            "--scorer",
            "rubric",
            "--quiet",
            "--max-examples",
            "2",
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    # Unreadable verdicts are reused by a rerun: the message must not promise a retry.
    assert "could not be read after every attempt" in err and "reuses them" in err
    assert "rerun with the same --out to retry them" not in err


def test_plots_of_judged_reports(trained: tuple[FakeFineTuningAPI, Any]) -> None:
    pytest.importorskip("matplotlib")
    fake, result = trained
    report = result.evaluate(TEST, client=fake.client(), scorer="pairwise", max_examples=3)
    figure = report.plot()
    assert "win rate" in figure.axes[0].get_ylabel()
    with pytest.raises(ftkit.UsageError, match="needs a rubric"):
        report.plot(what="criteria")
    graded = result.evaluate(TEST, client=fake.client(), scorer="rubric", max_examples=3)
    assert "mean grade" in graded.plot().axes[0].get_ylabel()
    assert "win rate" in graded.plot(what="pairs").axes[0].get_ylabel()


class _FirstPicker:
    """A judge backend that always answers "A" (any judge client ftkit accepts works)."""

    def __init__(self) -> None:
        self.calls = 0

    def complete(self, params: Any) -> Request[ChatAnswer]:
        def call(_: Any) -> str:
            self.calls += 1
            return json.dumps({"reason": "the first one", "winner": "A"})

        return Request(None, call, lambda text: ChatAnswer(text, (), 50, 10, "stop"))


def test_a_scripted_position_biased_judge_is_neutralised(
    trained: tuple[FakeFineTuningAPI, Any],
) -> None:
    fake, result = trained
    picker = _FirstPicker()
    report = result.evaluate(
        TEST, client=fake.client(), scorer=PairwiseJudge(client=picker, model=JUDGE)
    )
    assert picker.calls > 0
    assert all(p.wins == p.losses == 0 for p in report.pairs)
    assert all(p.win_rate == 0.5 for p in report.pairs)
