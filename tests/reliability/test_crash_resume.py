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
and so is every step of a multi-part upload (on Fireworks, of every signed-URL
upload); ``benchmarks/reliability.py`` sweeps every request and every write of both
upload paths.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability_support import (
    APIS,
    AZURE_APIS,
    AZURE_DATED,
    FIREWORKS,
    MODEL,
    OPENAI,
    SIGNED,
    TOGETHER,
    Data,
    SweepResult,
    World,
    clean_run,
    crash_and_resume,
)

from ftkit.pipeline._manifest import Manifest

#: The surfaces with the Uploads API (Azure's v1 API has none).
WITH_UPLOADS = [api for api in APIS if "uploads" in APIS[api].setups]


def _failures(results: list[SweepResult]) -> list[str]:
    return [
        f"{r.point}: {'; '.join(r.problems)} ({r.duplicates} duplicates)"
        for r in results
        if r.problems or r.duplicates
    ]


@pytest.mark.parametrize("api", APIS)
def test_killed_after_every_write_request_then_resumed(
    api: str, tmp_path: Path, data: Data
) -> None:
    steps = clean_run(tmp_path / "clean", data, "files", api)
    points = steps.write_requests()
    # Together's files take three writes each (start, PUT, preprocess), and its jobs are
    # priced first (a POST that writes nothing, struck all the same). Fireworks' take two
    # (the dataset's create under its content's id, its ``:upload``), and its two stages'
    # jobs are created in two collections.
    upload, sft, dpo = ["files.create"], ["jobs.create"], ["jobs.create"]
    if api == TOGETHER.name:
        upload = ["files.create", "files.upload_put", "files.preprocess"]
        sft = dpo = ["jobs.estimate_price", "jobs.create"]
    elif api == FIREWORKS.name:
        upload = ["datasets.create", "datasets.upload"]
        sft, dpo = ["sft_jobs.create"], ["dpo_jobs.create"]
    assert [steps.requests[n - 1][1] for n in points] == [*upload, *upload, *sft, *upload, *dpo]
    results = [
        crash_and_resume(tmp_path / f"r{n}", data, "files", after_request=n, api=api)
        for n in points
    ]
    assert all(r.crashed for r in results)
    assert _failures(results) == []


@pytest.mark.parametrize("api", APIS)
def test_killed_before_every_manifest_write_then_resumed(
    api: str, tmp_path: Path, data: Data
) -> None:
    steps = clean_run(tmp_path / "clean", data, "files", api)
    assert steps.writes > 10
    results = [
        crash_and_resume(tmp_path / f"w{n}", data, "files", before_save=n, api=api)
        for n in range(1, steps.writes + 1)
    ]
    assert all(r.crashed for r in results)
    assert _failures(results) == []


@pytest.mark.parametrize("api", WITH_UPLOADS)
def test_killed_after_each_kind_of_upload_write_then_resumed(
    api: str, tmp_path: Path, data: Data
) -> None:
    steps = clean_run(tmp_path / "clean", data, "uploads", api)
    writes = steps.write_requests()
    # The first upload's every step (create, each part, complete), then the first job.
    first_complete = steps.first("uploads.complete")
    points = [n for n in writes if n <= first_complete] + [steps.first("jobs.create")]
    routes = {steps.requests[n - 1][1] for n in points}
    assert routes == {"uploads.create", "uploads.parts.create", "uploads.complete", "jobs.create"}
    results = [
        crash_and_resume(tmp_path / f"u{n}", data, "uploads", after_request=n, api=api)
        for n in points
    ]
    assert all(r.crashed for r in results)
    assert _failures(results) == []


def test_killed_after_every_signed_url_upload_write_then_resumed(
    tmp_path: Path, data: Data
) -> None:
    # Fireworks' files above the direct-upload limit: the dataset's create, its signed URL
    # (``:getUploadEndpoint``), the PUT to the storage and ``:validateUpload``, for each of
    # the three files, then each job. A crash after any of them must leave one dataset per
    # file (the resume's create is refused with 409 and the dataset, still UPLOADING, is
    # filled again in place) and one job per stage.
    api = FIREWORKS.name
    steps = clean_run(tmp_path / "clean", data, "signed", api)
    points = steps.write_requests()
    upload = ["datasets.create", *SIGNED]
    assert [steps.requests[n - 1][1] for n in points] == [
        *upload,
        *upload,
        "sft_jobs.create",
        *upload,
        "dpo_jobs.create",
    ]
    results = [
        crash_and_resume(tmp_path / f"s{n}", data, "signed", after_request=n, api=api)
        for n in points
    ]
    assert all(r.crashed for r in results)
    assert _failures(results) == []


def test_killed_after_every_file_import_then_resumed(tmp_path: Path, data: Data) -> None:
    # Azure's dated API imports the files from a URL: a crash after an import was applied
    # must not import (nor upload) the file again; the resume, which no longer has the URLs,
    # uploads only what was not imported yet.
    api = AZURE_DATED.name
    steps = clean_run(tmp_path / "clean", data, "import", api)
    points = steps.write_requests()
    assert [steps.requests[n - 1][1] for n in points] == [
        "files.import",
        "files.import",
        "jobs.create",
        "files.import",
        "jobs.create",
    ]
    results = [
        crash_and_resume(tmp_path / f"i{n}", data, "import", after_request=n, api=api)
        for n in points
    ]
    assert all(r.crashed for r in results)
    assert _failures(results) == []


@pytest.mark.parametrize("api", AZURE_APIS)
def test_a_job_created_before_a_crash_is_found_past_others_jobs(
    api: str, tmp_path: Path, data: Data
) -> None:
    # Azure's job list takes no metadata filter, so ftkit pages through the resource's jobs
    # itself, newest first, for its run token (dated API) or its metadata (v1 API). Here
    # 150 jobs of others are created while the run is dead: its job is on the second page.
    worlds: list[World] = []

    def others_train(world: World) -> None:
        worlds.append(world)
        client = world.fake.client(api=world.api.surface, max_retries=0)
        other = client.files.create(file=("other.jsonl", b'{"x": 1}\n'), purpose="fine-tune")
        world.fake.advance(60.0)
        for i in range(150):
            client.fine_tuning.jobs.create(model=MODEL, training_file=other.id, suffix=f"o{i}")

    steps = clean_run(tmp_path / "clean", data, "files", api)
    result = crash_and_resume(
        tmp_path / "run",
        data,
        "files",
        after_request=steps.first("jobs.create"),
        api=api,
        meanwhile=others_train,
    )
    assert result.crashed and result.problems == [] and result.duplicates == 0
    (world,) = worlds
    assert any(r.query.get("after") for r in world.fake.calls("jobs.list"))  # it paged


@pytest.mark.parametrize("api", APIS)
def test_dpo_trains_the_sft_model_after_a_crash_as_sft_finishes(
    api: str, tmp_path: Path, data: Data
) -> None:
    # Regression: the job's "succeeded" was saved before its model; a crash in between
    # (here while reading the result file) made the resumed run train DPO on the base model.
    steps = clean_run(tmp_path / "clean", data, "files", api)
    # Together's metrics come from their own endpoint, not a result file. Fireworks reads
    # none: there the crash strikes the look that saw the SFT job completed (the request
    # before DPO's dataset is created).
    if api == FIREWORKS.name:
        after = steps.requests.index(("POST", "datasets.create"), steps.first("sft_jobs.create"))
        assert steps.requests[after - 1] == ("GET", "sft_jobs.get")
    else:
        after = steps.first("jobs.metrics" if api == TOGETHER.name else "files.content")
    result = crash_and_resume(tmp_path / "run", data, "files", after_request=after, api=api)
    assert result.crashed and result.problems == []
    assert result.manifest is not None
    sft, dpo = Manifest.load(result.manifest).stages
    # OpenAI names fine-tunes ``ft:<base>:...``, Azure ``<base>.ft-<job hex>[-<suffix>]``,
    # Together ``<account>/<base name>-<suffix>-<hex>``, Fireworks ``accounts/<a>/models/<id>``.
    prefix = {
        OPENAI.name: "ft:",
        TOGETHER.name: "fake/",
        FIREWORKS.name: "accounts/fake-account/models/",
    }.get(api, f"{sft.base_model}.ft-")
    assert sft.fine_tuned_model and sft.fine_tuned_model.startswith(prefix)
    assert dpo.base_model == sft.fine_tuned_model
    if api != FIREWORKS.name:  # the result file read the crash interrupted was done on resume
        assert sft.metrics
