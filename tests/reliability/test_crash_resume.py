"""Kill the run at every step boundary, resume it, and find exactly one of everything.

Two sweeps over an undisturbed run's steps:

- *after request n*: the n-th request reached the service and was applied, and
  the process died before it read the answer (nothing of it was recorded);
- *before write n*: the n-th manifest write never happened (whatever it was
  about to record is lost).

After each crash a fresh handle resumes the run from its manifest, as a new
process would; the audit then checks one job per stage, no file uploaded twice,
and a manifest that agrees with the service. Here every manifest write and every
request that changes something (``POST``) of a Files API run is a crash point,
and so is every step of a multi-part upload; ``benchmarks/reliability.py`` sweeps
every request and every write of both upload paths.
"""

from __future__ import annotations

from pathlib import Path

from reliability_support import Data, SweepResult, clean_run, crash_and_resume

from ftkit.pipeline._manifest import Manifest


def _failures(results: list[SweepResult]) -> list[str]:
    return [
        f"{r.point}: {'; '.join(r.problems)} ({r.duplicates} duplicates)"
        for r in results
        if r.problems or r.duplicates
    ]


def test_killed_after_every_write_request_then_resumed(tmp_path: Path, data: Data) -> None:
    steps = clean_run(tmp_path / "clean", data, "files")
    points = steps.write_requests()
    assert [steps.requests[n - 1][1] for n in points] == [
        "files.create",
        "files.create",
        "jobs.create",
        "files.create",
        "jobs.create",
    ]
    results = [crash_and_resume(tmp_path / f"r{n}", data, "files", after_request=n) for n in points]
    assert all(r.crashed for r in results)
    assert _failures(results) == []


def test_killed_before_every_manifest_write_then_resumed(tmp_path: Path, data: Data) -> None:
    steps = clean_run(tmp_path / "clean", data, "files")
    assert steps.writes > 10
    results = [
        crash_and_resume(tmp_path / f"w{n}", data, "files", before_save=n)
        for n in range(1, steps.writes + 1)
    ]
    assert all(r.crashed for r in results)
    assert _failures(results) == []


def test_killed_after_each_kind_of_upload_write_then_resumed(tmp_path: Path, data: Data) -> None:
    steps = clean_run(tmp_path / "clean", data, "uploads")
    writes = steps.write_requests()
    # The first upload's every step (create, each part, complete), then the first job.
    first_complete = steps.first("uploads.complete")
    points = [n for n in writes if n <= first_complete] + [steps.first("jobs.create")]
    routes = {steps.requests[n - 1][1] for n in points}
    assert routes == {"uploads.create", "uploads.parts.create", "uploads.complete", "jobs.create"}
    results = [
        crash_and_resume(tmp_path / f"u{n}", data, "uploads", after_request=n) for n in points
    ]
    assert all(r.crashed for r in results)
    assert _failures(results) == []


def test_dpo_trains_the_sft_model_after_a_crash_as_sft_finishes(tmp_path: Path, data: Data) -> None:
    # Regression: the job's "succeeded" was saved before its model; a crash in between
    # (here while reading the result file) made the resumed run train DPO on the base model.
    steps = clean_run(tmp_path / "clean", data, "files")
    result = crash_and_resume(
        tmp_path / "run", data, "files", after_request=steps.first("files.content")
    )
    assert result.crashed and result.problems == []
    assert result.manifest is not None
    sft, dpo = Manifest.load(result.manifest).stages
    assert sft.fine_tuned_model and sft.fine_tuned_model.startswith("ft:")
    assert dpo.base_model == sft.fine_tuned_model
    assert sft.metrics  # the result file read that the crash interrupted was done on resume
