"""One decision for "is this data OK?": validate, plan, the CLI and the fake's file check agree.

Every file of tests/data/real/ and examples/data/, and a 30-example dataset split 24/6,
is judged by ``ftkit.validate``, ``FineTune.plan()``, ``ftkit validate`` / ``ftkit plan``
and the fake API's server-side validation of an uploaded file in a job: all accept it or
all reject it. Also here: a retired base model is an error everywhere (not an info), and
the plan's text states the JSON's numbers and names its findings.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import openai
import pytest

import ftkit
from ftkit.cli import hint_for, main
from ftkit.providers import _model as _models
from ftkit.testing import FakeFineTuningAPI
from ftkit.validation import validate

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(
    [
        *(ROOT / "tests" / "data" / "real").glob("*.jsonl"),
        *(ROOT / "examples" / "data").glob("*.jsonl"),
    ]
)
MODEL = "gpt-4.1-mini-2025-04-14"
VISION_MODEL = "gpt-4o-2024-08-06"
# The fake's clock starts on 2026-11-02; the same day for ftkit's own date checks keeps these
# tests independent of the machine's date (every fine-tunable model retires by 2027-01-14).
TODAY = dt.date(2026, 11, 2)


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_models, "utc_today", lambda: TODAY)


def _kind(path: Path) -> str:
    return "dpo" if "dpo" in path.name else "sft"


def _fake_accepts(train: Path, validation: Path | None, *, method: str, model: str) -> bool:
    """Upload the files to the fake, create a job, and see whether file validation passes."""
    fake = FakeFineTuningAPI()
    client = fake.client(max_retries=0)
    ids = [
        client.files.create(file=(p.name, p.read_bytes()), purpose="fine-tune").id
        for p in (train, validation)
        if p is not None
    ]
    kwargs: dict[str, Any] = {"validation_file": ids[1]} if validation is not None else {}
    job = client.fine_tuning.jobs.create(
        model=model,
        training_file=ids[0],
        method={"type": "dpo" if method == "dpo" else "supervised"},
        **kwargs,
    )
    for _ in range(1000):
        job = client.fine_tuning.jobs.retrieve(job.id)
        if job.status not in ("validating_files", "queued"):
            break
        fake.clock.sleep(60)
    assert job.status in ("running", "succeeded", "failed"), job.status
    if job.status == "failed":
        assert job.error is not None and job.error.param in ("training_file", "validation_file")
        return False
    return True


def _plan(train: Path, validation: Path | None, *, method: str, model: str) -> ftkit.Plan:
    ft = ftkit.FineTune(None).model(model)
    ft = (
        ft.dpo(train, validation=validation)
        if method == "dpo"
        else ft.sft(train, validation=validation)
    )
    return ft.plan()


def _cli(train: Path, validation: Path | None, *, method: str, model: str) -> tuple[int, int]:
    """Exit codes of ``ftkit validate`` and ``ftkit plan`` on the same files."""
    check = ["validate", str(train), "--model", model, "--method", method, "--no-progress"]
    stage = ["--dpo" if method == "dpo" else "--sft", str(train)]
    if validation is not None:
        check += ["--validation", str(validation)]
        stage += ["--dpo-validation" if method == "dpo" else "--sft-validation", str(validation)]
    return main(check), main(["plan", "--model", model, *stage])


def _verdicts(
    train: Path, validation: Path | None, *, model: str = MODEL, capsys: pytest.CaptureFixture[str]
) -> dict[str, bool]:
    method = _kind(train)
    report = validate(train, model=model, method=method, validation=validation)
    plan = _plan(train, validation, method=method, model=model)
    validate_exit, plan_exit = _cli(train, validation, method=method, model=model)
    capsys.readouterr()
    return {
        "validate": report.ok,
        "plan": plan.ok,
        "ftkit validate": validate_exit == 0,
        "ftkit plan": plan_exit == 0,
        "fake": _fake_accepts(train, validation, method=method, model=model),
    }


def test_the_corpus_holds_accepted_and_rejected_files() -> None:
    # The agreement below means something only if both verdicts occur.
    small = [p for p in FILES if p.stat().st_size < 100_000]
    verdicts = {p.name: validate(p, model=MODEL, method=_kind(p)).ok for p in small}
    assert len(FILES) >= 15 and any(verdicts.values()) and not all(verdicts.values()), verdicts


CASES = [(p, MODEL) for p in FILES] + [
    (p, VISION_MODEL)
    for p in FILES
    if "vision" in p.name  # the same images, now trainable
]


@pytest.mark.parametrize(
    ("path", "model"), CASES, ids=[f"{p.name}-{m.split('-20')[0]}" for p, m in CASES]
)
def test_every_file_gets_one_verdict(
    path: Path, model: str, capsys: pytest.CaptureFixture[str]
) -> None:
    verdicts = _verdicts(path, None, model=model, capsys=capsys)
    assert len(set(verdicts.values())) == 1, verdicts


def _split(tmp_path: Path) -> tuple[Path, Path]:
    records = ftkit.Dataset.load(ROOT / "examples" / "data" / "sarcasm_sft.jsonl")
    assert len(records) == 30
    train, test = records.split(test_size=0.2)
    assert (len(train), len(test)) == (24, 6)
    return train.write(tmp_path / "train.jsonl"), test.write(tmp_path / "val.jsonl")


def test_a_small_validation_split_is_accepted_by_everyone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train, val = _split(tmp_path)
    assert _verdicts(train, val, capsys=capsys) == dict.fromkeys(
        ("validate", "plan", "ftkit validate", "ftkit plan", "fake"), True
    )


def test_the_example_pair_is_accepted_by_everyone(capsys: pytest.CaptureFixture[str]) -> None:
    data = ROOT / "examples" / "data"
    verdicts = _verdicts(
        data / "sarcasm_sft.jsonl", data / "sarcasm_sft_validation.jsonl", capsys=capsys
    )
    assert set(verdicts.values()) == {True}, verdicts


def test_five_validation_examples_and_a_bad_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train, val = _split(tmp_path)
    five = tmp_path / "five.jsonl"
    five.write_text("".join(val.read_text().splitlines(keepends=True)[:5]))
    assert set(_verdicts(train, five, capsys=capsys).values()) == {True}
    broken = tmp_path / "broken.jsonl"
    broken.write_text(five.read_text() + '{"messages": []}\n')
    assert set(_verdicts(train, broken, capsys=capsys).values()) == {False}


def test_plan_reports_the_train_validation_overlap(tmp_path: Path) -> None:
    train, val = _split(tmp_path)
    copied = train.read_text().splitlines(keepends=True)[3]
    val.write_text(val.read_text() + copied)
    plan = _plan(train, val, method="sft", model=MODEL)
    expected = validate(train, model=MODEL, method="sft", validation=val)
    assert expected.validation is not None
    stage = plan.stages[0]
    assert stage.validation is not None
    assert stage.validation.counts == expected.validation.counts
    assert stage.validation.counts["train_validation_overlap"] == 1
    assert stage.train.counts == expected.counts
    assert plan.ok  # overlap is a warning
    assert "warning [train_validation_overlap] line 7: this validation example" in str(plan)


# ---------------------------------------------------------------- retired models

RETIRED = "gpt-4.1-nano-2025-04-14"  # shut down 2026-10-23


def _items(n: int = 12) -> list[dict[str, Any]]:
    return [
        {
            "messages": [
                {"role": "user", "content": f"What is {i}+{i}?"},
                {"role": "assistant", "content": str(2 * i)},
            ]
        }
        for i in range(n)
    ]


def test_a_retired_model_is_an_error_from_its_shutdown_date() -> None:
    before = validate(_items(), model=RETIRED, today=dt.date(2026, 10, 22))
    assert before.ok and "model_shutdown" in before.counts and "model_retired" not in before.counts
    on = validate(_items(), model=RETIRED, today=dt.date(2026, 10, 23))
    assert not on.ok and "model_shutdown" not in on.counts
    (issue,) = on.by_code("model_retired")
    assert issue.severity is ftkit.Severity.ERROR and "2026-10-23" in issue.message
    assert "docs/providers.md" in issue.hint
    # The machine's date (here pinned to the fake's start) by default, and ft: names too.
    assert not validate(_items(), model=RETIRED).ok
    assert not validate(_items(), model=f"ft:{RETIRED}:acme::abc123").ok
    assert validate(_items(), model=MODEL).ok


def test_today_must_be_a_date() -> None:
    with pytest.raises(ftkit.UsageError, match=r"datetime\.date"):
        validate(_items(), model=MODEL, today="2026-11-02")  # type: ignore[arg-type]


def test_plan_and_run_refuse_a_retired_model_alike(tmp_path: Path) -> None:
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps(item) + "\n" for item in _items()))
    plan = ftkit.FineTune(None).model(RETIRED).sft(data).plan()
    assert not plan.ok and plan.retired_on == "2026-10-23"
    assert plan.stages[0].train.counts.get("model_retired") == 1
    assert "BLOCKED: the base model was retired on 2026-10-23" in str(plan)
    assert plan.to_dict()["retired_on"] == "2026-10-23"
    fake = FakeFineTuningAPI()
    with pytest.raises(ftkit.TrainingUnavailable) as info:
        ftkit.FineTune(fake.client(max_retries=0)).model(RETIRED).sft(data).run()
    assert info.value.code == "model_retired" and not fake.requests
    assert "API key" not in hint_for(info.value)


def _api_refusal(code: str) -> BaseException:
    import httpx2

    from ftkit.backend._errors import translate

    request = httpx2.Request("POST", "https://api.test/v1/fine_tuning/jobs")
    response = httpx2.Response(400 if code == "model_not_available" else 403, request=request)
    body = {"message": "refused", "code": code, "param": None}
    error_class = (
        openai.BadRequestError if code == "model_not_available" else openai.PermissionDeniedError
    )
    return translate(error_class("refused", response=response, body=body))


def test_a_retired_model_hint_names_the_retirement() -> None:
    from ftkit.backend._errors import training_unavailable_for_model

    for exc in (
        training_unavailable_for_model(RETIRED, "2026-10-23"),
        _api_refusal("model_not_available"),
    ):
        assert isinstance(exc, ftkit.TrainingUnavailable)
        hint = hint_for(exc)
        assert "retired" in hint and "current model" in hint and "docs/providers.md" in hint
        assert "API key" not in hint and "network" not in hint
    wind_down = _api_refusal("training_not_available")
    assert isinstance(wind_down, ftkit.TrainingUnavailable)
    assert "Azure" in hint_for(wind_down) and "API key" not in hint_for(wind_down)
    assert "pick a current base model" in str(training_unavailable_for_model(RETIRED, "x")).lower()


def test_cli_validate_fails_on_a_retired_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps(item) + "\n" for item in _items()))
    assert main(["validate", str(data), "--model", RETIRED, "--no-progress"]) == 1
    assert "[model_retired]" in capsys.readouterr().out
    assert main(["plan", "--model", RETIRED, "--sft", str(data)]) == 1
    assert "retired on 2026-10-23" in capsys.readouterr().out


# ---------------------------------------------------------------- plan text


def test_plan_text_states_the_json_numbers_and_names_the_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 30 copies of one example: 29 duplicate findings, more than the 20 a report keeps.
    data = tmp_path / "train.jsonl"
    data.write_text(json.dumps(_items(1)[0]) + "\n" * 1 + (json.dumps(_items(1)[0]) + "\n") * 29)
    assert main(["plan", "--model", MODEL, "--sft", str(data), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert main(["plan", "--model", MODEL, "--sft", str(data)]) == 0
    text = capsys.readouterr().out
    train = payload["stages"][0]["train"]
    estimate = payload["stages"][0]["estimate"]
    assert train["counts"]["duplicate_example"] == 29 and train["warning_count"] == 30
    assert (
        f"{train['examples']} examples; {train['error_count']} errors, "
        f"{train['warning_count']} warnings, {train['info_count']} info"
    ) in text
    assert (
        f"{estimate['examples']} examples, {estimate['billed_tokens']:,} billed tokens "
        f"({estimate['epochs']} epochs)"
    ) in text
    for code, count in train["counts"].items():
        shown = f"[{code}] {count} findings" if count > 1 else f"[{code}]"
        assert text.count(shown) == 1, (code, text)
    assert "warning [duplicate_example] 29 findings, first on line 2: this example" in text
    assert "warning [few_examples]: 30 examples; at least 50" in text


def test_plan_text_plurals(tmp_path: Path) -> None:
    data = tmp_path / "one.jsonl"
    data.write_text(json.dumps(_items(1)[0]) + "\n")
    text = str(ftkit.FineTune(None).model(MODEL).sft(data, epochs=1).plan())
    assert "1 example, " in text and "(1 epoch)" in text and "1 example; 1 error, " in text
    assert "error [too_few_examples]: 1 example" in text
    assert not re.search(r"\b1 (examples|epochs|errors|warnings|findings)\b", text), text
