"""The fault matrix and crash sweeps, as plain functions shared by tests and the benchmark.

A *case* runs the SFT → DPO pipeline against the fake API with one fault
scripted on one route, then audits what the service holds: one job per stage,
no file uploaded twice, a manifest that agrees with the service. The tests in
this folder assert every case; ``benchmarks/reliability.py`` runs the same
cases and prints the matrix.

Every case and sweep runs on one API surface (:class:`Api`): OpenAI's, Azure
OpenAI's dated API (``openai.AzureOpenAI``, jobs without metadata: ftkit finds
them again by the run token in their suffix), Azure's v1 API (``openai.OpenAI``
on ``/openai/v1/``: metadata kept but not filtered on, no Uploads API) or Together
AI's (``together.Together``: no metadata either, presigned uploads, DPO from the
SFT job's checkpoint, a price quote before every job) or Fireworks AI's
(``fireworks.Fireworks``: datasets and jobs under ids ftkit chooses, from the file's
content and from the run and stage, so every one of them is provably unique). The
surface decides the fake and client a :class:`World` builds, the calls a run
makes (:attr:`Api.routes`) and how :func:`audit` recognises a stage's job.

Everything runs on the fake's virtual clock, with short job phases, so a case
takes a fraction of a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

import ftkit
from ftkit.backend import JobSpec
from ftkit.backend._datasets import dataset_id
from ftkit.backend._jobs import caller_job_id, run_token
from ftkit.pipeline._config import RUN_KEY, STAGE_KEY
from ftkit.pipeline._manifest import Manifest
from ftkit.polling import PollPolicy
from ftkit.retry import RetryEvent, RetryPolicy
from ftkit.testing import FakeFineTuningAPI, Timings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"
MODEL = "gpt-4.1-mini-2025-04-14"
API_KEY = "sk-proj-RELIABILITY-0123456789abcdefSECRET"
IN_PROCESS_URL = "https://fake-openai.invalid/v1"
#: Where a crashing client sends requests (never resolvable; the fake answers in-process).
IN_PROCESS_ORIGIN = "https://fake-reliability.invalid"
#: Where the ``import`` setup says the training files are (Azure's file import).
BLOB = "https://reliability.blob.core.windows.invalid/data"

#: Short job phases: a job takes about a minute of virtual time, a few polls.
FAST = Timings(validating_files=5.0, queued=5.0, seconds_per_step=0.05, min_running=20.0)
#: Jobs that outlast any fault's delay (timeouts cost 600 virtual seconds each): to cancel.
LONG = Timings(validating_files=5.0, queued=5.0, seconds_per_step=0.05, min_running=36_000.0)
MAX_ATTEMPTS = 4
#: Transient faults strike this many times in a row: fewer than the attempts allowed.
TRANSIENT_TIMES = 2

#: Every API call the pipeline makes on OpenAI's API, in the order a run makes them.
ROUTES = (
    "models.retrieve",
    "files.list",
    "files.create",
    "uploads.create",
    "uploads.parts.create",
    "uploads.complete",
    "files.retrieve",
    "jobs.list",
    "jobs.create",
    "jobs.retrieve",
    "jobs.list_events",
    "files.content",
    "jobs.checkpoints.list",
    "jobs.cancel",
)

_UPLOADS = ("uploads.create", "uploads.parts.create", "uploads.complete")


#: Fireworks' signed-URL upload: the calls a file above the direct-upload limit takes.
SIGNED = ("datasets.get_upload_endpoint", "datasets.upload_put", "datasets.validate_upload")
#: The calls a run makes only when it is cancelled.
CANCELS = frozenset({"jobs.cancel", "sft_jobs.cancel"})

#: Writes found again by a lookup after an answer is lost (by content, metadata or status).
LOOKED_UP_WRITES = frozenset(
    {"files.create", "files.import", "uploads.complete", "jobs.create", "jobs.cancel"}
)


@dataclass(frozen=True)
class Api:
    """One API surface the suites run on: the fake and client it takes, the calls it gets.

    Attributes:
        name: ftkit's word for it (``ftkit.backend._traits.Api``).
        provider: the fake's provider (``FakeFineTuningAPI(provider=...)``).
        surface: the fake's name for it (``fake.client(api=...)``, ``RecordedRequest.api``).
        routes: every call the pipeline makes there, in the order a run makes them.
        setups: the ways a run is set up to make them all (see :func:`route_setup`).
        model: the base model a run trains there.
        side_surfaces: other surfaces of the fake a run legitimately reaches (Together's
            presigned upload URLs).
        succeeded: the surface's word for a finished job.
        output: the field of a job that names the model it produced.
        chains_from_checkpoint: DPO names the SFT job (``from_checkpoint``) instead of
            training the SFT model by name.
        preflight: calls made before the run's manifest exists (Together's model limits,
            read before the plan): a failure there leaves no run, and nothing on the service.
        looked_up: the writes whose lost answers a lookup recovers (see :attr:`Case.expected`).
            On Together a started upload whose answer is lost cannot be finished (its
            presigned URL is gone): the empty record is deleted and the start repeated.
        cancelled: the surface's word for a cancelled job.
        job_create: the route that creates a stage's (first) job.
        caller_ids: the caller chooses every dataset's and job's id (Fireworks): a stage's
            job is the one under its derived id, a file's dataset the one under its content's,
            so *any* other job or dataset on the service is a duplicate (see :func:`audit`).
    """

    name: str
    provider: str
    surface: str
    routes: tuple[str, ...]
    setups: tuple[str, ...]
    model: str = MODEL
    side_surfaces: frozenset[str] = frozenset()
    succeeded: str = "succeeded"
    output: str = "fine_tuned_model"
    chains_from_checkpoint: bool = False
    preflight: frozenset[str] = frozenset()
    looked_up: frozenset[str] = LOOKED_UP_WRITES
    job_create: str = "jobs.create"
    caller_ids: bool = False
    cancelled: str = "cancelled"

    @property
    def surfaces(self) -> frozenset[str]:
        """Every surface a run on this API reaches."""
        return self.side_surfaces | {self.surface}

    def client(
        self,
        addresses: Mapping[str, str],
        *,
        handler: Callable[[httpx2.Request], httpx2.Response] | None = None,
        **options: Any,
    ) -> Any:
        """A plain SDK client of this surface at a fake's ``addresses`` (``fake.addresses``).

        ``handler`` answers its requests in-process (a crashing wrapper of the fake's).
        """
        if self.provider in ("together", "fireworks"):
            import httpx

            from ftkit.testing._clients import _bridge

            if handler is not None:
                transport = httpx.MockTransport(_bridge(handler))
                options["http_client"] = httpx.Client(transport=transport)
            if self.provider == "fireworks":
                import fireworks

                return fireworks.Fireworks(
                    base_url=addresses["base_url"], account_id=addresses["account_id"], **options
                )
            import together

            return together.Together(base_url=addresses["base_url"], **options)
        import openai

        if handler is not None:
            options["http_client"] = httpx2.Client(transport=httpx2.MockTransport(handler))
        if self.surface == "dated":
            return openai.AzureOpenAI(
                azure_endpoint=addresses["azure_endpoint"],
                api_version=addresses["api_version"],
                **options,
            )
        return openai.OpenAI(base_url=self.address(addresses), **options)

    def address(self, addresses: Mapping[str, str]) -> str:
        """The one address a client of this surface needs: a base URL, or the dated API's
        endpoint (what the child process takes)."""
        key = {
            "openai": "base_url",
            "dated": "azure_endpoint",
            "v1": "v1_base_url",
            "together": "base_url",
            "fireworks": "base_url",
        }
        return addresses[key[self.surface]]

    def show_job(self, fake: FakeFineTuningAPI, job_id: str) -> dict[str, Any]:
        """One job as this surface shows it, in OpenAI's words where the audit reads it.

        Fireworks' jobs name their data ``dataset``/``evaluationDataset``, their state
        ``state``, and DPO nests its starting model (``trainingConfig.warmStartFrom``) and
        its output: the view adds ``id``, ``training_file``, ``validation_file``, ``model``,
        ``status`` and ``fine_tuned_model`` from those.
        """
        raw = fake.job(job_id, api=self.surface)
        if self.provider != "fireworks":
            return raw
        config = raw.get("trainingConfig") or {}
        return {
            **raw,
            "id": raw["name"],
            "training_file": raw.get("dataset"),
            "validation_file": raw.get("evaluationDataset"),
            "model": raw.get("baseModel") or config.get("baseModel") or config.get("warmStartFrom"),
            "status": raw.get("state"),
            "fine_tuned_model": raw.get("outputModel") or config.get("outputModel"),
        }

    def all_jobs(self, fake: FakeFineTuningAPI) -> list[dict[str, Any]]:
        """Every job on ``fake``, as :meth:`show_job` shows it."""
        key = "name" if self.provider == "fireworks" else "id"
        return [self.show_job(fake, j[key]) for j in fake.jobs]

    def stage_jobs(
        self, fake: FakeFineTuningAPI, identity: Mapping[str, str], suffix: str | None = None
    ) -> list[Any]:
        """The jobs on ``fake`` that carry ``identity``, as this surface shows them.

        OpenAI's and the v1 API's jobs keep their metadata; the dated API's and Together's
        keep none, so there a job is the stage's when its suffix ends with the stage's
        run token. On Fireworks the identity *is* the job's id: ``caller_job_id`` of a spec
        with that metadata and the run's ``suffix``, in either job collection.
        """
        shown = self.all_jobs(fake)
        if self.caller_ids:
            spec = JobSpec(
                model=self.model, training_file="-", suffix=suffix, metadata=dict(identity)
            )
            wanted = caller_job_id(spec)
            return [j for j in shown if j["id"].rsplit("/", 1)[-1] == wanted]
        if self.surface in ("dated", "together"):
            token = run_token(identity)
            return [j for j in shown if (j.get("suffix") or "").split("-")[-1] == token]
        return [
            j
            for j in shown
            if all((j.get("metadata") or {}).get(k) == v for k, v in identity.items())
        ]

    def stored_files(self, fake: FakeFineTuningAPI) -> dict[str, dict[str, Any]]:
        """The service's files by the id a manifest records: Fireworks' datasets by name."""
        if self.caller_ids:
            return {f["name"]: f for f in fake.files if "/datasets/" in f.get("name", "")}
        return {f["id"]: f for f in fake.files}


OPENAI = Api("openai", "openai", "openai", ROUTES, ("files", "uploads", "cancel"))
#: Azure's dated API: OpenAI's calls, plus the file import (``POST /files/import``).
AZURE_DATED = Api(
    "azure-dated",
    "azure",
    "dated",
    (*ROUTES[:3], "files.import", *ROUTES[3:]),
    ("files", "uploads", "import", "cancel"),
)
#: Azure's v1 API: no Uploads API, so every file goes through ``files.create``.
AZURE_V1 = Api(
    "azure-v1",
    "azure",
    "v1",
    tuple(r for r in ROUTES if r not in _UPLOADS),
    ("files", "cancel"),
)
#: Together AI: presigned uploads (start, PUT, preprocess), a price quote before each
#: job, metrics from their own endpoint; the base model is checked by its limits.
TOGETHER = Api(
    "together",
    "together",
    "together",
    (
        "models.limits",
        "files.list",
        "files.create",
        "files.upload_put",
        "files.preprocess",
        "files.retrieve",
        "jobs.estimate_price",
        "jobs.list",
        "jobs.create",
        "jobs.retrieve",
        "jobs.list_events",
        "jobs.metrics",
        "jobs.checkpoints.list",
        "jobs.cancel",
    ),
    ("files", "cancel"),
    model="meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",
    side_surfaces=frozenset({"uploads"}),
    succeeded="completed",
    output="model_output_name",
    chains_from_checkpoint=True,
    preflight=frozenset({"models.limits"}),
    looked_up=frozenset({"jobs.create", "jobs.cancel"}),
)
#: Fireworks AI: datasets and jobs under caller-chosen ids (a file's from its content, a
#: job's from its run and stage), created, then read by that id after a lost answer or a
#: 409; files up to the direct limit in one ``:upload``, larger ones through a signed URL
#: on the storage surface (the ``signed`` setup lowers the limit to reach it).
FIREWORKS = Api(
    "fireworks",
    "fireworks",
    "fireworks",
    (
        "models.get",
        "datasets.create",
        "datasets.upload",
        *SIGNED,
        "datasets.get",
        "sft_jobs.get",
        "sft_jobs.create",
        "dpo_jobs.get",
        "dpo_jobs.create",
        "sft_jobs.cancel",
    ),
    ("files", "signed", "cancel"),
    model="accounts/fireworks/models/llama-v3p1-8b-instruct",
    side_surfaces=frozenset({"storage"}),
    succeeded="JOB_STATE_COMPLETED",
    looked_up=frozenset(
        {"datasets.create", "sft_jobs.create", "dpo_jobs.create", "sft_jobs.cancel"}
    ),
    job_create="sft_jobs.create",
    caller_ids=True,
    cancelled="JOB_STATE_CANCELLED",
)
APIS: dict[str, Api] = {
    api.name: api for api in (OPENAI, AZURE_DATED, AZURE_V1, TOGETHER, FIREWORKS)
}
AZURE_APIS = (AZURE_DATED.name, AZURE_V1.name)


def route_setup(route: str) -> str:
    """How the run is set up to make ``route``.

    ``uploads``: the Uploads API is forced with a tiny threshold; ``import``: the
    files are imported from a URL (Azure's dated API); ``cancel``: the run is
    started, then cancelled; ``signed``: Fireworks' direct-upload limit is lowered below
    the files' size, so each goes through a signed URL; ``files``: the plain run (small
    files go through ``files.create``, or Fireworks' ``:upload``).
    """
    if route.startswith("uploads."):
        return "uploads"
    if route == "files.import":
        return "import"
    if route in SIGNED:
        return "signed"
    return "cancel" if route in CANCELS else "files"


#: The matrix's columns: a fault kind of the fake and how it is injected.
#: ``slow`` answers 30 virtual seconds late (under the client's read timeout);
#: ``timeout`` is a slow answer past it (the client gives up; nothing is applied).
KINDS: dict[str, dict[str, Any]] = {
    "429": {"kind": "429", "retry_after": 2.0},
    "500": {"kind": "500"},
    "503": {"kind": "503"},
    "reset": {"kind": "reset"},
    "slow": {"kind": "slow", "delay": 30.0},
    "timeout": {"kind": "slow", "delay": 10_000.0},
    "applied_but_lost": {"kind": "applied_but_lost"},
}
#: Statuses no retry can fix: the run must fail on the first answer.
FINAL_STATUSES = (400, 401, 403, 404, 422)
#: Calls whose failure only costs a convenience (metrics, checkpoints): the run goes on.
OPTIONAL_ROUTES = frozenset({"files.content", "jobs.checkpoints.list", "jobs.metrics"})

COMPLETES = "completes"


class SimulatedCrash(BaseException):
    """The process dying: not an ``Exception``, so no ``except Exception`` swallows it."""


@dataclass(frozen=True)
class Case:
    """One cell of the matrix: a fault on a route, for a few calls or for good."""

    route: str
    kind: str
    permanent: bool = False
    status: int | None = None
    driver: str = "sync"
    api: str = OPENAI.name

    @property
    def id(self) -> str:
        what = f"status-{self.status}" if self.status else self.kind
        mode = "permanent" if self.permanent else "transient"
        suffix = "" if self.driver == "sync" else f"-{self.driver}"
        prefix = "" if self.api == OPENAI.name else f"{self.api}-"
        return f"{prefix}{self.route}-{what}-{mode}{suffix}"

    @property
    def expected(self) -> str:
        """``"completes"`` or the name of the error the run must end with."""
        if self.status is not None:
            return COMPLETES if self.route in OPTIONAL_ROUTES else "APIError"
        if not self.permanent or self.kind == "slow" or self.route in OPTIONAL_ROUTES:
            return COMPLETES
        if self.kind == "applied_but_lost" and self.route in APIS[self.api].looked_up:
            # Every answer is lost, but the first write happened: the lookup finds it.
            return COMPLETES
        return "RetryExhausted"


def transient_cases(driver: str = "sync", api: str = OPENAI.name) -> list[Case]:
    """Every route of ``api`` × every kind, striking :data:`TRANSIENT_TIMES` times."""
    return [Case(r, k, driver=driver, api=api) for r in APIS[api].routes for k in KINDS]


def permanent_cases(api: str = OPENAI.name) -> list[Case]:
    """Every route of ``api`` × every kind, striking every call until cleared."""
    return [Case(r, k, permanent=True, api=api) for r in APIS[api].routes for k in KINDS]


def final_status_cases(api: str = OPENAI.name) -> list[Case]:
    """Every route of ``api`` × every non-retryable status, for good (one attempt must be all)."""
    return [
        Case(r, "status", permanent=True, status=s, api=api)
        for r in APIS[api].routes
        for s in FINAL_STATUSES
    ]


@dataclass
class Outcome:
    """What a case did, and what the audit found wrong (nothing, if all is well)."""

    case: Case
    got: str
    fired: int = 0
    attempts: int = 0
    problems: list[str] = field(default_factory=list)
    duplicates: int = 0
    resumed: bool = False
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.got == self.case.expected and not self.problems and self.fired > 0

    def describe(self) -> str:
        lines = [
            f"{self.case.id}: expected {self.case.expected}, got {self.got} "
            f"(fault fired {self.fired}x, {self.attempts} request(s) on the route)"
        ]
        if self.error is not None:
            lines.append(f"  error: {type(self.error).__name__}: {self.error}")
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


@dataclass(frozen=True)
class Data:
    """The three files a run trains on: SFT training and validation, DPO pairs."""

    sft: Path
    validation: Path
    dpo: Path

    def __iter__(self) -> Iterator[Path]:
        return iter((self.sft, self.validation, self.dpo))


def make_data(folder: Path) -> Data:
    """Small copies (the API's minimum of 10 examples) of the example datasets, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, source in (
        ("sft", "sarcasm_sft.jsonl"),
        ("validation", "sarcasm_sft_validation.jsonl"),
        ("dpo", "sarcasm_dpo.jsonl"),
    ):
        lines = (EXAMPLES / source).read_bytes().splitlines(keepends=True)[:10]
        target = folder / f"{name}.jsonl"
        if not target.exists():
            target.write_bytes(b"".join(lines))
        files[name] = target
    return Data(**files)


class World:
    """A fake service on a virtual clock, policies that sleep on it, and a state folder.

    ``api`` names the surface (:data:`APIS`): the fake speaks its provider's API and
    every client the world makes talks to that surface.
    """

    def __init__(
        self,
        state_dir: Path,
        data: Data,
        *,
        timings: Timings = FAST,
        fake: FakeFineTuningAPI | None = None,
        api: str = OPENAI.name,
    ) -> None:
        self.api = APIS[api]
        self.fake = fake or FakeFineTuningAPI(provider=self.api.provider, timings=timings)
        if self.fake.provider != self.api.provider:
            raise ValueError(f"a {self.fake.provider} fake cannot serve {api}")
        self.state_dir = state_dir
        self.data = data
        self.events: list[ftkit.RunEvent] = []
        self.retries: list[RetryEvent] = []

    @property
    def retry(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=MAX_ATTEMPTS,
            sleep=self.fake.clock.sleep,
            clock=self.fake.clock.now,
            on_retry=self.retries.append,
        )

    @property
    def poll(self) -> PollPolicy:
        return PollPolicy(
            initial_delay=20.0,
            max_delay=60.0,
            sleep=self.fake.clock.sleep,
            clock=self.fake.clock.now,
        )

    def client(self, *, asynchronous: bool = False) -> Any:
        make = self.fake.async_client if asynchronous else self.fake.client
        return make(api=self.api.surface, max_retries=0, api_key=API_KEY)

    def crashing_client(self, crash: Crash) -> Any:
        """An SDK client of the world's surface whose process "dies" when ``crash`` says so."""
        handler = crash.wrap(self.fake.handle)
        addresses = self.fake.addresses(IN_PROCESS_ORIGIN)
        return self.api.client(addresses, handler=handler, api_key=API_KEY, max_retries=0)

    def builder(
        self, setup: str = "files", *, client: Any = None, asynchronous: bool = False
    ) -> Any:
        kind = ftkit.AsyncFineTune if asynchronous else ftkit.FineTune
        chosen = client if client is not None else self.client(asynchronous=asynchronous)
        builder = (
            kind(chosen)
            .model(self.api.model)
            .sft(self.data.sft, validation=self.data.validation, epochs=1)
            .dpo(self.data.dpo, beta=0.2, epochs=1)
            .retry(self.retry)
            .poll(self.poll)
            .state_dir(self.state_dir)
            .on_event(self.events.append)
        )
        if setup == "uploads":
            builder = builder.uploads(files_api_limit=1024, part_size=1024, concurrency=2)
        elif setup == "signed":
            builder = builder.uploads(files_api_limit=1024)
        elif setup == "import":
            builder = builder.uploads(content_urls=self.serve_data())
        return builder

    def serve_data(self) -> dict[str | os.PathLike[str], str]:
        """Put the training files where the fake's file import finds them: path -> URL."""
        urls: dict[str | os.PathLike[str], str] = {}
        for path in self.data:
            url = f"{BLOB}/{path.name}?sv=2025-01-05&sig=reliability"
            self.fake.serve_url(url, path.read_bytes())
            urls[path] = url
        return urls

    def resume(self, run_id: str, *, client: Any = None) -> ftkit.Run:
        return ftkit.Run.resume(
            run_id,
            client if client is not None else self.client(),
            state_dir=self.state_dir,
            retry=self.retry,
            poll=self.poll,
        )

    def manifests(self) -> list[Path]:
        return sorted((self.state_dir / "runs").glob("*.json"))


# ---------------------------------------------------------------------------- the audit


def audit(world: World, manifest_path: Path, *, finished: bool) -> tuple[list[str], int]:
    """Compare a run's manifest with what the service holds, as the world's surface shows it.

    Args:
        world: the fake service.
        manifest_path: the run's manifest.
        finished: the run claims to have succeeded; every stage must then agree.

    Returns:
        The problems found (empty when consistent) and the number of duplicates
        (extra jobs for a stage plus files uploaded more than once; on Fireworks, whose
        ids ftkit chooses, also every dataset or job under an id no file or stage of the
        run derives: see :func:`_datasets`).
    """
    problems: list[str] = []
    duplicates = 0
    if (os.stat(manifest_path).st_mode & 0o777) != 0o600:
        problems.append(f"manifest mode is {oct(os.stat(manifest_path).st_mode & 0o777)}")
    m = Manifest.load(manifest_path)
    elsewhere = {str(r.api) for r in world.fake.requests if r.route is not None}
    elsewhere -= world.api.surfaces
    if elsewhere:
        problems.append(f"requests reached another API surface: {sorted(elsewhere)}")
    files = world.api.stored_files(world.fake)
    if world.api.caller_ids:
        found, extra_files = _datasets(world, files, finished=finished)
        problems += found
        duplicates += extra_files
    else:
        names = [f["filename"] for f in files.values() if f.get("purpose") == "fine-tune"]
        extra_files = len(names) - len(set(names))
        if extra_files:
            duplicates += extra_files
            problems.append(f"{extra_files} file(s) uploaded twice: {sorted(names)}")
    stage_jobs: set[str] = set()
    previous_model: str | None = None
    previous_job: str | None = None
    for stage in m.stages:
        identity = {**m.metadata, RUN_KEY: m.run_id, STAGE_KEY: stage.name}
        mine = world.api.stage_jobs(world.fake, identity, m.suffix)
        stage_jobs |= {j["id"] for j in mine}
        if len(mine) > 1:
            duplicates += len(mine) - 1
            problems.append(f"{len(mine)} jobs for stage {stage.name}")
        for state in (stage.train, stage.validation):
            if state is None or state.file_id is None:
                continue
            if state.file_id not in files:
                problems.append(f"{stage.name}: file {state.file_id} is not on the service")
            elif world.fake.file_content(state.file_id) != Path(state.path).read_bytes():
                problems.append(f"{stage.name}: file {state.file_id} holds other bytes")
        if stage.job_id is None:
            if mine and finished:
                problems.append(f"{stage.name}: a job exists that the manifest does not record")
            continue
        if not mine or mine[0]["id"] != stage.job_id:
            problems.append(f"{stage.name}: the manifest's job {stage.job_id} is not the service's")
            continue
        job = mine[0]
        if job["training_file"] != stage.train.file_id:
            problems.append(f"{stage.name}: the job trains on another file")
        if stage.validation is not None and job.get("validation_file") != stage.validation.file_id:
            problems.append(f"{stage.name}: the job validates on another file")
        if world.api.chains_from_checkpoint and previous_job is not None:
            # Together's DPO names the SFT job, not its model.
            if job.get("from_checkpoint") != previous_job:
                problems.append(f"{stage.name}: does not continue the previous stage's job")
        else:
            if stage.base_model != job["model"]:
                problems.append(
                    f"{stage.name}: base model {stage.base_model} != job's {job['model']}"
                )
            if previous_model is not None and job["model"] != previous_model:
                problems.append(f"{stage.name}: does not train the previous stage's model")
        if finished:
            if stage.status != "succeeded" or job["status"] != world.api.succeeded:
                problems.append(f"{stage.name}: {stage.status} here, {job['status']} there")
            if stage.fine_tuned_model != job.get(world.api.output):
                problems.append(f"{stage.name}: fine-tuned model differs from the job's")
        previous_model, previous_job = stage.fine_tuned_model, stage.job_id
    if world.api.caller_ids:
        # Every job is under an id ftkit derives from a run and stage: one under any other
        # id (a second create that chose another) is a duplicate the per-stage count misses.
        strays = sorted(
            j["id"] for j in world.api.all_jobs(world.fake) if j["id"] not in stage_jobs
        )
        if strays:
            duplicates += len(strays)
            problems.append(f"{len(strays)} job(s) under no stage's id: {strays}")
    if finished and m.status != "succeeded":
        problems.append(f"the run is {m.status}, not succeeded")
    return problems, duplicates


def _datasets(
    world: World, datasets: Mapping[str, dict[str, Any]], *, finished: bool
) -> tuple[list[str], int]:
    """Fireworks' datasets against the run's files: the problems and the duplicates.

    Each file's dataset is created under ``dataset_id(sha256)`` (a random tail is added
    only when reuse is off, which these runs never ask), so the audit requires: every
    dataset on the service is one file's (by the id's content part), at most one per
    file (exactly one each once the run has finished), and ``READY`` with the file's
    bytes; until the run finishes a dataset may also be ``UPLOADING`` (created, its bytes
    not yet sent or not yet validated: what an interrupted create or upload leaves, which
    a resume fills in place rather than creating another).
    """
    problems: list[str] = []
    duplicates = 0
    local = {dataset_id(hashlib.sha256(p.read_bytes()).hexdigest()): p for p in world.data}
    held: dict[str, list[str]] = {}
    for name, record in datasets.items():
        short = name.rsplit("/", 1)[-1]
        owner = next((i for i in local if short == i or short.startswith(f"{i}-")), None)
        if owner is None:
            duplicates += 1
            problems.append(f"dataset {name} holds no file of the run")
            continue
        held.setdefault(owner, []).append(name)
        state = record.get("state")
        allowed = ("READY",) if finished else ("READY", "UPLOADING")
        if state not in allowed:
            problems.append(f"dataset {name} is {state}")
        if state == "READY" and world.fake.file_content(name) != local[owner].read_bytes():
            problems.append(f"dataset {name} holds other bytes than {local[owner].name}")
    for owner, names in held.items():
        if len(names) > 1:
            duplicates += len(names) - 1
            problems.append(f"{len(names)} datasets of {local[owner].name}: {sorted(names)}")
    if finished and set(held) != set(local):
        missing = sorted(local[i].name for i in set(local) - set(held))
        problems.append(f"no dataset of {missing}")
    return problems, duplicates


# ----------------------------------------------------------------------------- running


def _inject(world: World, case: Case) -> Any:
    times = None if case.permanent else TRANSIENT_TIMES
    if case.status is not None:
        return world.fake.faults.inject(case.route, "status", status=case.status, times=times)
    spec = dict(KINDS[case.kind])
    kind = spec.pop("kind")
    return world.fake.faults.inject(case.route, kind, times=times, **spec)


def _drive(world: World, case: Case, setup: str) -> tuple[str, BaseException | None, Any]:
    """Run (or start, then cancel) the pipeline under the fault: outcome, error, fault."""
    fault = None
    try:
        if setup == "cancel":
            run = world.builder().start()
            fault = _inject(world, case)
            run.cancel()
        elif case.driver == "async":
            fault = _inject(world, case)
            asyncio.run(world.builder(setup, asynchronous=True).run())
        else:
            fault = _inject(world, case)
            world.builder(setup).run()
        return COMPLETES, None, fault
    except ftkit.FtkitError as exc:
        return type(exc).__name__, exc, fault


def run_case(case: Case, state_dir: Path, data: Data) -> Outcome:
    """Run one case: the pipeline under the fault, then (if it stopped) a resume without it."""
    setup = route_setup(case.route)
    world = World(state_dir, data, timings=LONG if setup == "cancel" else FAST, api=case.api)
    got, error, fault = _drive(world, case, setup)
    outcome = Outcome(
        case,
        got=got,
        fired=fault.fired if fault is not None else 0,
        attempts=len(world.fake.calls(case.route)),
        error=error,
    )
    manifests = world.manifests()
    if not manifests and got != COMPLETES and case.route in world.api.preflight:
        # Stopped before the run existed: the service must hold nothing of it.
        left = [r.route for r in world.fake.requests if r.route != case.route]
        if left or world.fake.files or world.fake.jobs:
            outcome.problems.append(f"a failed pre-flight still sent {left}")
        return outcome
    if len(manifests) != 1:
        outcome.problems.append(f"{len(manifests)} manifests instead of 1")
        return outcome
    path = manifests[0]
    if case.status is not None:
        retried = [e for e in world.retries if getattr(e.error, "status_code", None) == case.status]
        if retried:
            outcome.problems.append(f"a final {case.status} was retried {len(retried)} time(s)")
    if case.status is not None and getattr(error, "status_code", case.status) != case.status:
        outcome.problems.append(f"error status {getattr(error, 'status_code', None)}")
    problems, duplicates = audit(world, path, finished=got == COMPLETES and setup != "cancel")
    outcome.problems += problems
    outcome.duplicates += duplicates
    world.fake.faults.clear()
    m = Manifest.load(path)
    if setup == "cancel":
        if got != COMPLETES:
            try:
                world.resume(m.run_id).cancel()  # the fault is gone: cancelling works now
            except ftkit.FtkitError as exc:
                outcome.problems.append(f"cancel failed again: {type(exc).__name__}: {exc}")
                return outcome
        sft_job = world.api.show_job(world.fake, str(Manifest.load(path).stages[0].job_id))
        if sft_job["status"] != world.api.cancelled or Manifest.load(path).status != "cancelled":
            outcome.problems.append(f"cancel left the job {sft_job['status']}")
        if Manifest.load(path).stages[1].job_id is not None:
            outcome.problems.append("a DPO job was created after the cancel")
        return outcome
    if got != COMPLETES:
        # The fault is cleared: a resume must finish the run, still exactly once.
        outcome.resumed = True
        try:
            world.resume(m.run_id).wait()
        except ftkit.FtkitError as exc:
            outcome.problems.append(f"resume failed: {type(exc).__name__}: {exc}")
            return outcome
        problems, duplicates = audit(world, path, finished=True)
        outcome.problems += [f"after resume: {p}" for p in problems]
        outcome.duplicates += duplicates
    return outcome


# ------------------------------------------------------------------------ crash sweeps


class Crash:
    """Kills the (simulated) process after the n-th answered request, or before it.

    After the crash every further request raises too, as no thread of a dead
    process sends anything.
    """

    def __init__(self, after_request: int | None = None) -> None:
        self.after_request = after_request
        self.count = 0
        self.dead = False
        self._lock = threading.Lock()

    def wrap(self, handle: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def handler(request: Any) -> Any:
            with self._lock:
                if self.dead:
                    raise SimulatedCrash("the process is gone")
            response = handle(request)
            with self._lock:
                self.count += 1
                if self.after_request is not None and self.count == self.after_request:
                    self.dead = True
                    raise SimulatedCrash(f"killed after request {self.count}")
            return response

        return handler


@contextlib.contextmanager
def crash_before_save(n: int) -> Iterator[list[int]]:
    """Make the n-th manifest write (1-based) kill the process before it writes."""
    original = Manifest.save
    seen = [0]

    def save(self: Manifest, path: Path) -> None:
        seen[0] += 1
        if seen[0] == n:
            raise SimulatedCrash(f"killed before manifest write {n}")
        original(self, path)

    Manifest.save = save  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        Manifest.save = original  # type: ignore[method-assign]


@dataclass
class SweepResult:
    """One crash point: where the process died and what the resume left behind."""

    point: str
    crashed: bool
    problems: list[str]
    duplicates: int
    manifest: Path | None = None


@dataclass(frozen=True)
class CleanRun:
    """An undisturbed run's steps: the range of the crash sweeps."""

    requests: list[tuple[str, str | None]]
    """``(method, route)`` of every request, in order."""
    writes: int
    """How many times the manifest was written."""

    def write_requests(self) -> list[int]:
        """1-based indexes of the requests that change something (POST, PUT, DELETE)."""
        writes = ("POST", "PUT", "DELETE")
        return [i for i, (method, _) in enumerate(self.requests, 1) if method in writes]

    def first(self, route: str) -> int:
        """1-based index of the first request on ``route``."""
        return next(i for i, (_, r) in enumerate(self.requests, 1) if r == route)


def clean_run(state_dir: Path, data: Data, setup: str, api: str = OPENAI.name) -> CleanRun:
    """Run once undisturbed on ``api`` and record its steps."""
    world = World(state_dir, data, api=api)
    with crash_before_save(0) as saves:
        world.builder(setup).run()
    return CleanRun([(r.method, r.route) for r in world.fake.requests], saves[0])


def crash_and_resume(
    state_dir: Path,
    data: Data,
    setup: str,
    *,
    after_request: int = 0,
    before_save: int = 0,
    api: str = OPENAI.name,
    meanwhile: Callable[[World], None] | None = None,
) -> SweepResult:
    """Kill a run on ``api`` at one point, resume it in a fresh "process", audit the service.

    ``meanwhile`` is what happens on the service while no process drives the run
    (others' jobs, say); it gets the world.
    """
    world = World(state_dir, data, api=api)
    crash = Crash(after_request or None)
    client = world.crashing_client(crash)
    point = f"after request {after_request}" if after_request else f"before write {before_save}"
    crashed = False
    with crash_before_save(before_save):
        try:
            world.builder(setup, client=client).run()
        except SimulatedCrash:
            crashed = True
    manifests = world.manifests()
    if not manifests:
        # Killed before the manifest existed: nothing but the pre-flight reads (Together's
        # model limits) may have reached the service.
        others = [r for r in world.fake.requests if r.route not in world.api.preflight]
        sent = ["requests were sent without a manifest"] if others else []
        return SweepResult(point, crashed, sent, 0)
    run_id = Manifest.load(manifests[0]).run_id
    if meanwhile is not None:
        meanwhile(world)
    problems: list[str] = []
    try:
        world.resume(run_id).wait()
    except ftkit.FtkitError as exc:
        problems.append(f"resume failed: {type(exc).__name__}: {exc}")
    found, duplicates = audit(world, manifests[0], finished=not problems)
    return SweepResult(point, crashed, problems + found, duplicates, manifests[0])


def manifest_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data
