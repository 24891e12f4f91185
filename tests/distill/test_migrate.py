"""ftkit.distill.migrate: an OpenAI ``ft:`` teacher carried to Together AI, on the fakes.

The teacher is fine-tuned on the OpenAI fake (it recalls its training answers);
the student trains on Together's fake from the teacher's answers, driven by the
real ``together`` client. Re-runs and crashes are counted on both fakes: no
teacher prompt is asked twice, no Together file or job is created twice.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from distill_support import (
    BASE,
    JSON_FILE,
    chat_calls,
    held_by_another_process,
    retry_on,
    rows,
    train,
)

import ftkit
from ftkit.distill import MIGRATION_FILE, from_stored, migrate
from ftkit.polling import PollPolicy
from ftkit.testing import ChatBehaviour, FakeFineTuningAPI

pytest.importorskip("together")

STUDENT = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"


class Crash(Exception):
    """A simulated crash of the process, raised from a callback."""


@pytest.fixture
def teacher_fake() -> FakeFineTuningAPI:
    return FakeFineTuningAPI(chat=ChatBehaviour(error_rate=0.0))


@pytest.fixture
def teacher(teacher_fake: FakeFineTuningAPI) -> str:
    return train(teacher_fake, JSON_FILE)


@pytest.fixture
def together() -> FakeFineTuningAPI:
    return FakeFineTuningAPI(provider="together")


def student(together: FakeFineTuningAPI, **events: Any) -> ftkit.FineTune:
    poll = PollPolicy(
        initial_delay=10.0, max_delay=60.0, sleep=together.clock.sleep, clock=together.clock.now
    )
    ft = (
        ftkit.FineTune(together.client(max_retries=0))
        .model(STUDENT)
        .retry(retry_on(together, 6))
        .poll(poll)
    )
    return ft.on_event(events["on_event"]) if "on_event" in events else ft


def _migrate(
    teacher_fake: FakeFineTuningAPI,
    teacher: str,
    together: FakeFineTuningAPI,
    work: Path,
    **kw: Any,
) -> ftkit.distill.MigrationReport:
    return migrate(
        kw.pop("student", None) or student(together),
        workdir=work,
        prompts=kw.pop("prompts", JSON_FILE),
        teacher_client=teacher_fake.client(max_retries=0),
        teacher=teacher,
        holdout=5,
        retry=retry_on(teacher_fake),
        **kw,
    )


def _jobs(fake: FakeFineTuningAPI) -> int:
    return len([r for r in fake.requests if r.route == "jobs.create" and r.status == 200])


def _uploads(fake: FakeFineTuningAPI) -> list[str]:
    return [f["filename"] for f in fake.files if ".ftkit-" in f["filename"]]


def _conversations(path: Path) -> list[str]:
    return [json.dumps(row["messages"][:-1], sort_keys=True) for row in rows(path)]


def test_teacher_to_together_student_with_a_closeness_report(
    teacher_fake: FakeFineTuningAPI, teacher: str, together: FakeFineTuningAPI, tmp_path: Path
) -> None:
    asked_before = len(chat_calls(teacher_fake))
    report = _migrate(teacher_fake, teacher, together, tmp_path)

    # The teacher answered every prompt once; they were split 15 / 5, disjoint.
    assert len(chat_calls(teacher_fake)) - asked_before == 20
    assert (report.train_records, report.holdout_records) == (15, 5)
    trained, held = (
        _conversations(tmp_path / "train.jsonl"),
        _conversations(tmp_path / "holdout.jsonl"),
    )
    assert len(trained) == 15 and len(held) == 5 and not set(trained) & set(held)
    # The training file is the teacher's answers (it recalls its own training data).
    source = {
        json.dumps(r["messages"][:-1], sort_keys=True): r["messages"][-1] for r in rows(JSON_FILE)
    }
    for row in rows(tmp_path / "train.jsonl"):
        assert (
            row["messages"][-1]["content"]
            == source[json.dumps(row["messages"][:-1], sort_keys=True)]["content"]
        )

    # Trained on Together once, from the base named; evaluated against the teacher.
    assert _jobs(together) == 1 and len(_uploads(together)) == 1
    assert report.provider == "together" and report.base == STUDENT
    assert report.student == together.fine_tuned_models[0] == report.run.fine_tuned_model
    assert report.evaluation.scorer == "json-fields"
    close, base = report.closeness, report.base_closeness
    assert close.n == base.n == 5
    assert close.mean is not None and base.mean is not None and close.mean > base.mean
    assert report.versus_base.wins >= 1 and report.versus_base.compared == 5
    text = str(report)
    assert "student: " in text and "base: " in text and "5 held-out prompts" in text
    assert json.loads((tmp_path / MIGRATION_FILE).read_text("utf-8")) == json.loads(
        json.dumps(report.to_dict())
    )


def test_a_second_run_asks_nothing_and_creates_nothing(
    teacher_fake: FakeFineTuningAPI, teacher: str, together: FakeFineTuningAPI, tmp_path: Path
) -> None:
    first = _migrate(teacher_fake, teacher, together, tmp_path)
    teacher_calls, requests = len(chat_calls(teacher_fake)), len(together.requests)
    again = _migrate(teacher_fake, teacher, together, tmp_path)
    assert len(chat_calls(teacher_fake)) == teacher_calls
    assert again.student == first.student and again.run.run_id == first.run.run_id
    assert _jobs(together) == 1 and len(_uploads(together)) == 1
    chats = [r for r in together.requests[requests:] if r.route == "chat.completions.create"]
    assert chats == []  # the evaluation's replies are stored in <workdir>/eval
    assert again.closeness == first.closeness


def test_a_crash_during_training_resumes_the_same_run(
    teacher_fake: FakeFineTuningAPI, teacher: str, together: FakeFineTuningAPI, tmp_path: Path
) -> None:
    def crash(event: ftkit.RunEvent) -> None:
        if event.type == "job_created":
            raise Crash

    with pytest.raises(Crash):
        _migrate(
            teacher_fake, teacher, together, tmp_path, student=student(together, on_event=crash)
        )
    assert _jobs(together) == 1
    report = _migrate(teacher_fake, teacher, together, tmp_path)
    assert _jobs(together) == 1 and len(_uploads(together)) == 1
    assert report.closeness.n == 5


def test_failed_teacher_calls_stop_before_training_and_a_rerun_asks_only_them(
    teacher_fake: FakeFineTuningAPI, teacher: str, together: FakeFineTuningAPI, tmp_path: Path
) -> None:
    before = len(chat_calls(teacher_fake))
    teacher_fake.faults.inject("chat.completions.create", "status", status=400, times=3)
    with pytest.raises(ftkit.UsageError, match="3 teacher calls failed; nothing was trained"):
        _migrate(teacher_fake, teacher, together, tmp_path)
    assert together.requests == [] and not (tmp_path / "train.jsonl").exists()
    _migrate(teacher_fake, teacher, together, tmp_path)
    answered = Counter(
        json.dumps(c["messages"], sort_keys=True) for c in chat_calls(teacher_fake)[before:]
    )
    assert len(answered) == 20 and set(answered.values()) == {1}
    assert _jobs(together) == 1


def test_the_teacher_cap_stops_before_the_first_call(
    teacher_fake: FakeFineTuningAPI, teacher: str, together: FakeFineTuningAPI, tmp_path: Path
) -> None:
    before = len(chat_calls(teacher_fake))
    with pytest.raises(ftkit.CostLimitExceeded):
        _migrate(teacher_fake, teacher, together, tmp_path, teacher_max_cost_usd=1e-9)
    assert len(chat_calls(teacher_fake)) == before and together.requests == []


def test_stored_traffic_migrates_without_asking_the_teacher_again(
    teacher_fake: FakeFineTuningAPI, teacher: str, together: FakeFineTuningAPI, tmp_path: Path
) -> None:
    client = teacher_fake.client(max_retries=0)
    for row in rows(JSON_FILE):
        client.chat.completions.create(
            model=teacher, messages=row["messages"][:-1], store=True, metadata={"app": "x"}
        )
    stored = from_stored(client, model=teacher, retry=retry_on(teacher_fake))
    asked = len(chat_calls(teacher_fake))
    report = migrate(
        student(together), workdir=tmp_path, data=stored, teacher=teacher, holdout=0.25
    )
    assert len(chat_calls(teacher_fake)) == asked and report.distilled is None
    assert (report.train_records, report.holdout_records) == (15, 5)
    assert report.closeness.mean is not None and report.base_closeness.mean is not None
    assert report.closeness.mean > report.base_closeness.mean


def test_the_split_follows_the_conversations_not_the_file_order(
    teacher_fake: FakeFineTuningAPI, teacher: str, together: FakeFineTuningAPI, tmp_path: Path
) -> None:
    records = ftkit.Dataset.load(JSON_FILE)
    a, b = tmp_path / "a", tmp_path / "b"
    migrate(student(together), workdir=a, data=records, holdout=5)
    migrate(student(together), workdir=b, data=list(reversed(list(records))), holdout=5)
    assert set(_conversations(a / "holdout.jsonl")) == set(_conversations(b / "holdout.jsonl"))
    other = tmp_path / "c"
    migrate(student(together), workdir=other, data=records, holdout=5, seed=1)
    assert set(_conversations(other / "holdout.jsonl")) != set(_conversations(a / "holdout.jsonl"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prompts": None}, "give prompts= .* or data="),
        ({"data": JSON_FILE}, "give prompts= .* or data="),
        ({"teacher": None}, "teacher= names the model"),
        ({"holdout": 1.5}, r"must be in \(0, 1\)"),
        ({"holdout": 0}, "at least one record"),
        ({"holdout": 20}, "leaves a side empty"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_asked(
    teacher_fake: FakeFineTuningAPI,
    teacher: str,
    together: FakeFineTuningAPI,
    tmp_path: Path,
    kwargs: dict[str, Any],
    message: str,
) -> None:
    before = len(chat_calls(teacher_fake))
    arguments: dict[str, Any] = {
        "workdir": tmp_path,
        "prompts": JSON_FILE,
        "teacher_client": teacher_fake.client(max_retries=0),
        "teacher": teacher,
        "holdout": 5,
        **kwargs,
    }
    with pytest.raises(ftkit.UsageError, match=message):
        migrate(student(together), **arguments)
    assert len(chat_calls(teacher_fake)) == before
    assert together.requests == []


def test_a_student_with_data_or_without_a_model_is_refused(
    together: FakeFineTuningAPI, tmp_path: Path
) -> None:
    with pytest.raises(ftkit.UsageError, match="without data"):
        migrate(student(together).sft(JSON_FILE), workdir=tmp_path, data=JSON_FILE)
    with pytest.raises(ftkit.UsageError, match="base model"):
        migrate(ftkit.FineTune(together.client()), workdir=tmp_path, data=JSON_FILE)
    with pytest.raises(ftkit.UsageError, match="must be a FineTune"):
        migrate("together", workdir=tmp_path, data=JSON_FILE)  # type: ignore[arg-type]


FIREWORKS_STUDENT = "accounts/fireworks/models/llama-v3p1-8b-instruct"


def test_to_fireworks_the_student_is_deployed_once_before_it_is_evaluated(
    teacher_fake: FakeFineTuningAPI, teacher: str, tmp_path: Path
) -> None:
    fireworks = FakeFineTuningAPI(provider="fireworks")
    client = fireworks.client(max_retries=0)
    poll = PollPolicy(initial_delay=10.0, sleep=fireworks.clock.sleep, clock=fireworks.clock.now)
    ft = ftkit.FineTune(client).model(FIREWORKS_STUDENT).retry(retry_on(fireworks, 6)).poll(poll)
    served: list[str] = []

    def deploy(run: ftkit.RunResult) -> str:
        name = run.deploy(client=client, poll=poll, retry=retry_on(fireworks)).call_as
        served.append(name)
        return name

    before = len(chat_calls(teacher_fake))
    with pytest.raises(ftkit.UsageError, match="answers only on a dedicated deployment"):
        _migrate(teacher_fake, teacher, fireworks, tmp_path, student=ft)  # no serve=
    assert fireworks.requests == [] and len(chat_calls(teacher_fake)) == before
    report = _migrate(teacher_fake, teacher, fireworks, tmp_path, student=ft, serve=deploy)
    again = _migrate(teacher_fake, teacher, fireworks, tmp_path, student=ft, serve=deploy)
    assert report.provider == "fireworks" and served[0] == served[1]
    assert served[0].startswith(report.student + "#")
    assert report.evaluation.models["fine-tuned"] == served[0]
    assert len(fireworks.calls("sft_jobs.create")) == 1
    assert len([r for r in fireworks.calls("deployments.create") if r.status == 200]) == 1
    close, base = report.closeness, report.base_closeness
    assert close.mean is not None and base.mean is not None and close.mean > base.mean
    assert again.closeness == close


def test_to_azure_the_student_is_deployed_through_arm_and_the_base_called_by_its_deployment(
    teacher_fake: FakeFineTuningAPI, teacher: str, tmp_path: Path
) -> None:
    azure = FakeFineTuningAPI(provider="azure")
    poll = PollPolicy(initial_delay=10.0, sleep=azure.clock.sleep, clock=azure.clock.now)
    client = azure.azure_client(max_retries=0)
    ft = ftkit.FineTune(client).model(BASE).retry(retry_on(azure, 6)).poll(poll)
    where = {"subscription": "sub-1", "resource_group": "rg-1", "account": "acct-1"}

    def deploy(run: ftkit.RunResult) -> str:
        deployment = run.deploy(
            **where, token=lambda: "arm-token-test", http_client=azure.arm.client(), poll=poll
        )
        return deployment.name

    with pytest.raises(ftkit.UsageError, match="answers only once deployed"):
        _migrate(teacher_fake, teacher, azure, tmp_path, student=ft)
    report = _migrate(teacher_fake, teacher, azure, tmp_path, student=ft, serve=deploy)
    _migrate(teacher_fake, teacher, azure, tmp_path, student=ft, serve=deploy)  # adopts it
    (deployed,) = azure.arm.deployments
    assert report.evaluation.models == {"base": BASE, "fine-tuned": deployed["name"]}
    assert deployed["properties"]["model"]["name"] == report.student
    close, base = report.closeness, report.base_closeness
    assert close.mean is not None and base.mean is not None and close.mean > base.mean


def test_a_workdir_given_other_prompts_trains_on_those_only_and_reuses_the_answers(
    teacher_fake: FakeFineTuningAPI, teacher: str, together: FakeFineTuningAPI, tmp_path: Path
) -> None:
    data = rows(JSON_FILE)
    first = _migrate(teacher_fake, teacher, together, tmp_path, prompts=data[:16])
    asked = len(chat_calls(teacher_fake))
    # A one-shot iterable is read once; 12 of its 16 prompts were answered already.
    second = _migrate(teacher_fake, teacher, together, tmp_path, prompts=iter(data[4:]))
    assert len(chat_calls(teacher_fake)) - asked == 4
    assert (second.train_records, second.holdout_records) == (11, 5)
    kept = set(_conversations(tmp_path / "train.jsonl")) | set(
        _conversations(tmp_path / "holdout.jsonl")
    )
    assert kept == {json.dumps(r["messages"][:-1], sort_keys=True) for r in data[4:]}
    assert second.run.run_id != first.run.run_id and _jobs(together) == 2


def test_a_second_migration_in_the_same_workdir_is_refused_before_anything(
    teacher_fake: FakeFineTuningAPI, teacher: str, together: FakeFineTuningAPI, tmp_path: Path
) -> None:
    before = len(chat_calls(teacher_fake))
    in_flight = held_by_another_process(tmp_path / "migration.lock")  # another migration
    with in_flight, pytest.raises(ftkit.RunConflict, match=r"is being run by pid \d+"):
        _migrate(teacher_fake, teacher, together, tmp_path)
    assert len(chat_calls(teacher_fake)) == before and together.requests == []
    assert _migrate(teacher_fake, teacher, together, tmp_path).closeness.n == 5  # then it runs


def test_parallel_tool_calls_without_tools_does_not_lose_an_answer(
    teacher_fake: FakeFineTuningAPI, teacher: str, together: FakeFineTuningAPI, tmp_path: Path
) -> None:
    data = rows(JSON_FILE)
    for row in data[::2]:
        row["parallel_tool_calls"] = False  # meaningless without tools: not sent, not kept
    report = _migrate(teacher_fake, teacher, together, tmp_path, prompts=data)
    assert report.train_records + report.holdout_records == len(data)
