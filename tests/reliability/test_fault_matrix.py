"""Every API call of the SFT → DPO pipeline × every fault of the fake: exactly once, always.

Each case scripts one fault on one route, runs the pipeline, and audits the
service afterwards (see ``reliability_support.audit``): one job per stage, no
file uploaded twice, a manifest that matches the service. A transient fault
must be ridden out; a permanent one must end the run with the right typed
error, after which a resume (fault cleared) finishes without duplicates; a
status no retry can fix must fail on its first answer. ``benchmarks/reliability.py``
runs the same cases (and the full permanent cross product) and prints the table.

The same cases run on Azure OpenAI (``Case(..., api=...)``): the full transient
matrix on the dated API, whose jobs keep no metadata (ftkit finds a job again by
the run token in its suffix, its training file and its creation time), and on
the v1 API the calls whose behaviour differs there (files, and jobs listed
without a metadata filter), each with the faults that exercise the lookups. On
Together AI (no metadata either; presigned uploads in three steps; a price quote
before every job) the full transient matrix, and every call's lost answers for good.
On Fireworks AI (datasets and jobs under ids ftkit derives: a lost create is read by
its id, a repeated one is refused with 409; files above the direct-upload limit go
through a signed URL, reached by lowering the limit) the full transient matrix, both
upload paths included, every call's lost answers for good and one final status on
every call; the audit there counts every dataset and job under any other id as a
duplicate.
"""

from __future__ import annotations

import re
from pathlib import Path

import openai
import pytest
from reliability_support import (
    APIS,
    AZURE_APIS,
    AZURE_DATED,
    AZURE_V1,
    COMPLETES,
    FINAL_STATUSES,
    FIREWORKS,
    KINDS,
    ROUTES,
    SIGNED,
    TOGETHER,
    Case,
    Data,
    World,
    audit,
    run_case,
    transient_cases,
)

import ftkit
from ftkit.testing import ROUTE_NAMES

#: The v1 API's calls whose behaviour differs from the others' (no Uploads API: every file
#: goes through ``files.create``; the job list takes no metadata filter, so ftkit lists
#: and checks jobs itself), and the faults that exercise a lost or refused answer there.
V1_ROUTES = ("files.create", "jobs.list", "jobs.create")
V1_KINDS = ("429", "500", "reset", "applied_but_lost")


def _check(case: Case, state_dir: Path, data: Data) -> None:
    outcome = run_case(case, state_dir, data)
    assert outcome.ok, outcome.describe()
    assert outcome.duplicates == 0


@pytest.mark.parametrize("api", APIS)
def test_the_matrix_covers_every_call_the_pipeline_makes(
    api: str, state_dir: Path, data: Data
) -> None:
    # Guard against a pipeline that starts calling a route the matrix does not strike,
    # on each API surface (whose calls differ: file import, no Uploads API).
    routes = APIS[api].routes
    called: set[str | None] = set()
    reached: set[str | None] = set()
    for setup in APIS[api].setups:
        world = World(state_dir / setup, data, api=api)
        if setup == "cancel":
            world.builder().start().cancel()
        else:
            world.builder(setup).run()
        called |= {r.route for r in world.fake.requests}
        reached |= {r.api for r in world.fake.requests}
    # Every surface is reached by some setup (Fireworks' storage only by signed uploads).
    assert reached == world.api.surfaces
    assert called == set(routes), (
        f"untested: {called - set(routes)}; unused: {set(routes) - called}"
    )
    assert set(routes) <= set(ROUTE_NAMES)
    assert set(routes) <= set(world.fake.route_names)


def test_v1_sends_every_file_through_the_files_api(state_dir: Path, data: Data) -> None:
    # Why the v1 API has no "uploads" setup: with no Uploads API there, a threshold that
    # forces multi-part uploads elsewhere changes nothing; every file is one files.create.
    world = World(state_dir, data, api=AZURE_V1.name)
    world.builder("uploads").run()
    routes = [r.route for r in world.fake.requests]
    assert not {r for r in routes if r and r.startswith("uploads.")}
    assert routes.count("files.create") == 3
    with pytest.raises(openai.NotFoundError):  # and there is no Uploads API to strike
        world.client().uploads.create(
            bytes=1, filename="x.jsonl", mime_type="text/jsonl", purpose="fine-tune"
        )


def test_the_dated_api_keeps_no_job_metadata(state_dir: Path, data: Data) -> None:
    # Why the audit reads the dated API's jobs by their run token: ftkit sends no metadata
    # there (the API takes none), only the token as the suffix, and the jobs keep nothing else.
    world = World(state_dir, data, api=AZURE_DATED.name)
    world.builder().run()
    for request in world.fake.calls("jobs.create"):
        assert "metadata" not in request.json
        assert re.fullmatch(r"ftk[a-z2-7]{8}", request.json["suffix"])
    for job in world.fake.jobs:
        assert "metadata" not in job
        assert not world.fake.job(job["id"], api="v1").get("metadata")


#: Fireworks' writes before its first job: creating a dataset and both ways of filling it.
_FIREWORKS_WRITES = ("datasets.create", "datasets.upload", *SIGNED, "sft_jobs.create")

_V1_TRANSIENT = [Case(r, k, api=AZURE_V1.name) for r in V1_ROUTES for k in V1_KINDS]


@pytest.mark.parametrize(
    "case",
    transient_cases()
    + transient_cases(api=AZURE_DATED.name)
    + _V1_TRANSIENT
    + transient_cases(api=TOGETHER.name)
    + transient_cases(api=FIREWORKS.name),
    ids=lambda c: c.id,
)
def test_transient_fault_is_ridden_out(case: Case, state_dir: Path, data: Data) -> None:
    assert case.expected == COMPLETES
    _check(case, state_dir, data)


@pytest.mark.parametrize(
    "case",
    [
        Case(route, "applied_but_lost", driver="async")
        for route in ("files.create", "uploads.parts.create", "uploads.complete", "jobs.create")
    ]
    + [Case("jobs.create", "applied_but_lost", driver="async", api=api) for api in AZURE_APIS]
    + [Case("files.import", "applied_but_lost", driver="async", api=AZURE_DATED.name)]
    + [
        Case(route, "applied_but_lost", driver="async", api=TOGETHER.name)
        for route in ("files.create", "files.upload_put", "files.preprocess", "jobs.create")
    ]
    + [
        Case(route, "applied_but_lost", driver="async", api=FIREWORKS.name)
        for route in (*_FIREWORKS_WRITES, "dpo_jobs.create")
    ],
    ids=lambda c: c.id,
)
def test_async_driver_rides_out_lost_answers(case: Case, state_dir: Path, data: Data) -> None:
    _check(case, state_dir, data)


@pytest.mark.parametrize(
    "case",
    [Case(route, "applied_but_lost", permanent=True) for route in ROUTES]
    + [Case(route, "503", permanent=True) for route in ("jobs.create", "uploads.parts.create")]
    + [
        Case("jobs.create", kind, permanent=True, api=api)
        for api in AZURE_APIS
        for kind in ("applied_but_lost", "503")
    ]
    + [
        Case("files.import", kind, permanent=True, api=AZURE_DATED.name)
        for kind in ("applied_but_lost", "503")
    ]
    + [
        Case(route, "applied_but_lost", permanent=True, api=TOGETHER.name)
        for route in TOGETHER.routes
    ]
    + [
        Case(route, "503", permanent=True, api=TOGETHER.name)
        for route in ("files.create", "files.upload_put", "jobs.estimate_price", "jobs.create")
    ]
    # A slow presigned PUT (30 s) waits as the client's timeout says, not httpx's bare 5 s.
    + [Case("files.upload_put", "slow", permanent=True, api=TOGETHER.name)]
    + [
        Case(route, "applied_but_lost", permanent=True, api=FIREWORKS.name)
        for route in FIREWORKS.routes
    ]
    + [Case(route, "503", permanent=True, api=FIREWORKS.name) for route in _FIREWORKS_WRITES]
    + [Case("datasets.upload_put", "slow", permanent=True, api=FIREWORKS.name)],
    ids=lambda c: c.id,
)
def test_permanent_fault_fails_typed_then_resume_finishes(
    case: Case, state_dir: Path, data: Data
) -> None:
    _check(case, state_dir, data)


# Every route meets one final status, in turn: each status is met on two or three routes.
_FINAL = [
    Case(route, "status", permanent=True, status=FINAL_STATUSES[i % len(FINAL_STATUSES)])
    for i, route in enumerate(ROUTES)
] + [
    # Azure's error envelopes differ (the dated API's ``code``/``target``): the typed error
    # and its status must not.
    Case("jobs.create", "status", permanent=True, status=400, api=api)
    for api in AZURE_APIS
]
# Fireworks' refusals are grpc-gateway's envelope (the storage's, Cloud Storage's XML): the
# typed error and its status must be the same on every call, the signed-URL ones included.
_FINAL += [
    Case(
        route,
        "status",
        permanent=True,
        status=FINAL_STATUSES[i % len(FINAL_STATUSES)],
        api=FIREWORKS.name,
    )
    for i, route in enumerate(FIREWORKS.routes)
]


@pytest.mark.parametrize("case", _FINAL, ids=lambda c: c.id)
def test_final_status_fails_fast_with_the_typed_error(
    case: Case, state_dir: Path, data: Data
) -> None:
    outcome = run_case(case, state_dir, data)
    assert outcome.ok, outcome.describe()
    if case.expected != COMPLETES:
        error = outcome.error
        assert type(error) is ftkit.APIError, outcome.describe()
        assert not error.retryable
        assert error.status_code == case.status
        if case.route != "uploads.parts.create":  # parts already in flight may still land
            assert outcome.attempts == 1  # one request on the route, no second try


def test_expectations_are_what_the_docs_say() -> None:
    # The rule behind the table in docs/reliability.md, spelled out once.
    assert Case("jobs.create", "503", permanent=True).expected == "RetryExhausted"
    assert Case("jobs.create", "applied_but_lost", permanent=True).expected == COMPLETES
    assert Case("files.content", "503", permanent=True).expected == COMPLETES
    assert Case("jobs.retrieve", "slow", permanent=True).expected == COMPLETES
    assert Case("jobs.retrieve", "status", permanent=True, status=404).expected == "APIError"
    # On Azure too: the dated API finds a lost job by its run token, an import by content.
    assert Case("jobs.create", "applied_but_lost", True, api="azure-dated").expected == COMPLETES
    assert Case("files.import", "applied_but_lost", True, api="azure-dated").expected == COMPLETES
    assert set(KINDS) == {"429", "500", "503", "reset", "slow", "timeout", "applied_but_lost"}
    # On Fireworks a lost create is read by its id; a lost upload is only retried (sending
    # the bytes again is safe), so for good it ends the run, and the resume sends them.
    for route in ("datasets.create", "sft_jobs.create", "dpo_jobs.create", "sft_jobs.cancel"):
        assert Case(route, "applied_but_lost", True, api="fireworks").expected == COMPLETES
    for route in ("datasets.upload", *SIGNED):
        assert Case(route, "applied_but_lost", True, api="fireworks").expected == "RetryExhausted"


def test_the_fireworks_audit_finds_every_dataset_and_job_under_another_id(
    state_dir: Path, data: Data
) -> None:
    # Why 0 duplicates proves something on Fireworks: the service refuses a second create
    # of an id, so a duplicate can only ever be under *another* id. The audit counts every
    # dataset and job the run's files and stages do not derive, and a finished run's
    # dataset that never became READY. Here a clean run passes, then each is planted.
    world = World(state_dir, data, api=FIREWORKS.name)
    world.builder().run()
    (manifest,) = world.manifests()
    assert audit(world, manifest, finished=True) == ([], 0)
    client = world.fake.fireworks_client(max_retries=0)
    sft = world.fake.calls("datasets.create")[0].json
    # The same file once more, under a reuse-off id (``dataset_id(..., unique=True)``).
    client.datasets.create(dataset_id=f"{sft['datasetId']}-0a1b2c3d", dataset=sft["dataset"])
    problems, duplicates = audit(world, manifest, finished=True)
    assert duplicates == 1 and any("2 datasets of sft.jsonl" in p for p in problems)
    assert any("is UPLOADING" in p for p in problems)  # and it never received its bytes
    # A second SFT job for the stage, under an id no stage derives.
    job = world.fake.calls("sft_jobs.create")[0].json
    client.supervised_fine_tuning_jobs.create(
        supervised_fine_tuning_job_id="other-job",
        dataset=job["dataset"],
        base_model=job["baseModel"],
    )
    problems, duplicates = audit(world, manifest, finished=True)
    assert duplicates == 2 and any("under no stage's id" in p for p in problems)
