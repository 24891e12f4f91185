"""``sft()``/``dpo()`` take a Dataset or an iterable of records/dicts as well as a path."""

from __future__ import annotations

import asyncio
import json
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

import pytest
from pipeline_support import Env, SimulatedCrash

import ftkit
from ftkit.pipeline._builder import data_dir

MODEL = "gpt-4.1-mini-2025-04-14"


@pytest.fixture(autouse=True)
def data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("FTKIT_DATA_DIR", str(folder))
    return folder


def records(n: int, prefix: str = "q") -> list[ftkit.SFTRecord]:
    return [ftkit.SFTRecord.single_turn(f"{prefix}{i}", f"a{i}") for i in range(n)]


def pairs(n: int) -> list[ftkit.DPORecord]:
    rows = [
        {
            "input": {"messages": [{"role": "user", "content": f"q{i}"}]},
            "preferred_output": [{"role": "assistant", "content": "good"}],
            "non_preferred_output": [{"role": "assistant", "content": "bad"}],
        }
        for i in range(n)
    ]
    return [ftkit.DPORecord.model_validate(row) for row in rows]


def test_a_dataset_becomes_a_content_addressed_file(data_folder: Path) -> None:
    ds = ftkit.Dataset(records(12))
    ft = ftkit.FineTune(object()).model(MODEL).sft(ds)
    assert ft.config.sft is not None
    path = ft.config.sft.train
    assert path.parent == data_folder == data_dir()
    assert [json.loads(line) for line in path.read_text().splitlines()] == [r.to_dict() for r in ds]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # the same content, in another form, gives the same path (and so the same fingerprint)
    again = ftkit.FineTune(object()).model(MODEL).sft(r.to_dict() for r in ds)
    assert again.config.sft is not None and again.config.sft.train == path
    other = ftkit.FineTune(object()).model(MODEL).sft(records(12, prefix="x"))
    assert other.config.sft is not None and other.config.sft.train != path
    assert sorted(p.name for p in data_folder.iterdir()) == sorted(
        {path.name, other.config.sft.train.name}
    )  # no temporary files left behind


def test_a_one_shot_iterator_is_read_once_and_the_builder_stays_a_value() -> None:
    pulled = 0

    def generate() -> Iterator[dict[str, object]]:
        nonlocal pulled
        for record in records(10):
            pulled += 1
            yield record.to_dict()

    base = ftkit.FineTune(object()).model(MODEL)
    with_sft = base.sft(generate(), validation=records(10, prefix="v"))
    assert pulled == 10
    assert base.config.sft is None  # the old builder is unchanged
    derived = with_sft.suffix("demo").seed(3)
    assert derived.config.sft == with_sft.config.sft  # nothing re-reads the generator
    assert pulled == 10
    plan = derived.plan()
    assert plan.ok and plan.stages[0].train.examples == 10
    assert plan.stages[0].validation is not None and plan.stages[0].validation.examples == 10


def test_dpo_takes_records_and_refuses_the_other_kind() -> None:
    ft = ftkit.FineTune(object()).model(MODEL)
    assert ft.dpo(pairs(3)).config.dpo is not None
    with pytest.raises(ftkit.UsageError, match=r"item 0 is a DPO record .* \.dpo\(\)"):
        ft.sft(pairs(3))
    with pytest.raises(ftkit.UsageError, match=r"item 1 is a SFT record .* \.sft\(\)"):
        ft.dpo([pairs(1)[0], records(1)[0]])


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ([], "empty"),
        (ftkit.Dataset(), "dataset is empty"),
        ([{"messages": []}, 42], "item 1 is a int"),
        ({"messages": []}, "got dict"),
        (b"{}", "got bytes"),
        ([{"messages": {1, 2}}], "item 0 is not JSON"),
    ],
)
def test_bad_data_names_the_fix(data: object, fragment: str) -> None:
    with pytest.raises(ftkit.UsageError, match=fragment):
        ftkit.FineTune(object()).model(MODEL).sft(data)  # type: ignore[arg-type]


def test_the_same_records_for_training_and_validation_are_refused() -> None:
    data = records(4)
    with pytest.raises(ftkit.UsageError, match="validation file is the training file"):
        ftkit.FineTune(object()).model(MODEL).sft(data, validation=list(data))


def test_invalid_dicts_are_reported_by_the_plan_with_their_line() -> None:
    rows = [r.to_dict() for r in records(3)]
    rows[1] = {"messages": [{"role": "user", "content": "only a question"}]}
    plan = ftkit.FineTune(object()).model(MODEL).sft(rows).plan()
    assert not plan.ok
    assert any(issue.line == 2 for issue in plan.stages[0].train.issues)


def test_a_crashed_dataset_run_resumes_from_a_rebuilt_builder(
    env: Env,
    sft_file: Path,
    crash_on: Callable[[str, int], Callable[[ftkit.RunEvent], None]],
) -> None:
    train, test = ftkit.Dataset.load(sft_file).train_test_split(test_size=10, seed=1)
    with pytest.raises(SimulatedCrash):
        env.builder().sft(train, validation=test).on_event(crash_on("file_ready", 2)).run()
    run_id = next(e.run_id for e in env.events)
    assert len(env.fake.calls("files.create")) == 2  # both files are up, no job yet
    # the same data, given again in other forms, is the same configuration: resume is allowed
    rebuilt = env.builder().sft(list(train), validation=iter(test))
    result = rebuilt.resume(run_id).wait()
    assert result.fine_tuned_model and result.run_id == run_id
    assert len(env.fake.calls("files.create")) == 2  # nothing uploaded twice
    assert len(env.jobs_for(run_id, "sft")) == 1
    with pytest.raises(ftkit.RunConflict):
        env.builder().sft(train[1:], validation=test).resume(run_id)


def test_async_builder_takes_a_dataset(env: Env, sft_file: Path) -> None:
    ds = ftkit.Dataset.load(sft_file)
    builder = cast(ftkit.AsyncFineTune, env.builder(asynchronous=True)).sft(ds)
    result = asyncio.run(builder.run())
    assert result.fine_tuned_model and result.stage("sft").status == "succeeded"
