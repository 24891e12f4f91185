"""One scan per input file per run: ``run()``/``start()`` reuse the last ``plan()`` while it holds.

A scan is one validation pass over a file (:func:`ftkit.validation.validate_files`,
which reads every line). These tests count the passes per file: ``plan()`` then
``run()`` (also through a builder that differs only in its callbacks, and through
``ftkit run``) scans each file once; a file changed in any way since the plan, even
with the same size and mtime, is scanned again and the run gets the new reports.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from pipeline_support import EXAMPLES, MODEL, Env

import ftkit
import ftkit.validation
from ftkit.cli import main
from ftkit.pipeline._config import file_digest
from ftkit.pipeline._manifest import Manifest


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Validation passes per file name, counted where the plan calls them."""
    counted: Counter[str] = Counter()
    real = ftkit.validation.validate_files

    def counting(source: object, *args: object, **kwargs: object) -> object:
        counted[Path(str(source)).name] += 1
        validation = kwargs.get("validation")
        if validation is not None:
            counted[Path(str(validation)).name] += 1
        return real(source, *args, **kwargs)

    monkeypatch.setattr(ftkit.validation, "validate_files", counting)
    yield counted


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Copies of the example files, so a test may rewrite them."""
    names = ("sarcasm_sft.jsonl", "sarcasm_sft_validation.jsonl", "sarcasm_dpo.jsonl")
    for name in names:
        shutil.copy(EXAMPLES / name, tmp_path / name)
    train, val, prefs = (tmp_path / name for name in names)
    return train, val, prefs


def test_plan_then_run_scans_each_file_once(
    env: Env, files: tuple[Path, Path, Path], scans: Counter[str]
) -> None:
    train, val, prefs = files
    ft = env.builder().sft(train, validation=val).dpo(prefs)
    ft.plan()
    assert scans == {train.name: 1, val.name: 1, prefs.name: 1}
    seen: list[str] = []
    # A builder that differs only in how the run is driven shares the plan.
    result = ft.on_event(lambda event: seen.append(event.type)).run()
    assert result.fine_tuned_model and seen
    assert scans == {train.name: 1, val.name: 1, prefs.name: 1}
    # The manifest records the hashes the plan took, which are the files' hashes.
    assert result.manifest_path is not None
    manifest = Manifest.load(result.manifest_path)
    recorded = {
        Path(f.path).name: f.sha256
        for stage in manifest.stages
        for f in (stage.train, stage.validation)
        if f is not None
    }
    assert recorded == {p.name: file_digest(p)[0] for p in files}


def test_run_without_a_plan_scans_once_and_a_second_plan_scans_again(
    env: Env, files: tuple[Path, Path, Path], scans: Counter[str]
) -> None:
    train, _, _ = files
    ft = env.builder().sft(train)
    ft.plan()
    ft.plan()  # plan() always validates: it is the check a user asks for
    assert scans[train.name] == 2
    ft.start().wait()
    assert scans[train.name] == 2

    fresh = env.builder().sft(train).suffix("other")
    fresh.start().wait()  # another configuration: its own plan, made by start()
    assert scans[train.name] == 3


def test_a_file_changed_since_the_plan_is_scanned_again_and_its_errors_refuse_the_run(
    env: Env, files: tuple[Path, Path, Path], scans: Counter[str]
) -> None:
    train, _, _ = files
    ft = env.builder().sft(train)
    assert ft.plan().ok
    stat = train.stat()
    text = train.read_text(encoding="utf-8")
    # Same size and mtime, other bytes: only the hash tells.
    broken = text.replace('"role":"assistant"', '"role":"assistanX"', 1)
    assert broken != text and len(broken) == len(text)
    train.write_text(broken, encoding="utf-8")
    os.utime(train, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert train.stat().st_size == stat.st_size

    with pytest.raises(ftkit.DatasetInvalid) as refused:
        ft.run()
    assert scans[train.name] == 2
    assert "line 1" in str(refused.value)
    assert env.fake.files == [] and not list(env.state_dir.glob("*.json"))


@pytest.mark.parametrize("change", ["touch", "replace", "remove"])
def test_each_kind_of_change_invalidates_the_plan(
    env: Env, files: tuple[Path, Path, Path], scans: Counter[str], change: str
) -> None:
    train, val, _ = files
    ft = env.builder().sft(train, validation=val)
    ft.plan()
    if change == "touch":  # same bytes, a new mtime: scanned again (a stat cannot tell)
        os.utime(val, ns=(val.stat().st_atime_ns, val.stat().st_mtime_ns + 10**9))
    elif change == "replace":  # another file moved into the place
        other = val.with_name("other.jsonl")
        shutil.copy(val, other)
        os.replace(other, val)
        os.utime(val, ns=(val.stat().st_atime_ns, val.stat().st_mtime_ns + 10**9))
    else:
        val.unlink()
    if change == "remove":
        with pytest.raises(ftkit.UsageError, match="no such file"):
            ft.run()
        return
    assert ft.run().fine_tuned_model
    assert scans[val.name] == 2


def test_ftkit_run_scans_each_file_once(
    tmp_path: Path, files: tuple[Path, Path, Path], scans: Counter[str]
) -> None:
    train, val, prefs = files
    argv = ["run", "--fake", "--model", MODEL, "--sft", str(train), "--sft-validation", str(val)]
    argv += ["--dpo", str(prefs), "--state-dir", str(tmp_path / "state"), "--no-progress"]
    assert main(argv) == 0
    assert scans == {train.name: 1, val.name: 1, prefs.name: 1}


def test_the_async_builder_reuses_the_plan_too(
    env: Env, files: tuple[Path, Path, Path], scans: Counter[str]
) -> None:
    train, _, prefs = files
    ft = env.builder(asynchronous=True).sft(train).dpo(prefs)
    ft.plan()
    result = asyncio.run(ft.on_event(lambda event: None).run())
    assert result.fine_tuned_model
    assert scans == {train.name: 1, prefs.name: 1}
