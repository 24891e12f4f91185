"""The fault matrix and crash sweeps, as plain functions shared by tests and the benchmark.

A *case* runs the SFT → DPO pipeline against the fake API with one fault
scripted on one route, then audits what the service holds: one job per stage,
no file uploaded twice, a manifest that agrees with the service. The tests in
this folder assert every case; ``benchmarks/reliability.py`` runs the same
cases and prints the matrix.

Everything runs on the fake's virtual clock, with short job phases, so a case
takes a fraction of a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

import ftkit
from ftkit.pipeline._manifest import Manifest
from ftkit.polling import PollPolicy
from ftkit.retry import RetryEvent, RetryPolicy
from ftkit.testing import FakeFineTuningAPI, Timings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"
MODEL = "gpt-4.1-mini-2025-04-14"
API_KEY = "sk-proj-RELIABILITY-0123456789abcdefSECRET"
IN_PROCESS_URL = "https://fake-openai.invalid/v1"

#: Short job phases: a job takes about a minute of virtual time, a few polls.
FAST = Timings(validating_files=5.0, queued=5.0, seconds_per_step=0.05, min_running=20.0)
#: Jobs that outlast any fault's delay (timeouts cost 600 virtual seconds each): to cancel.
LONG = Timings(validating_files=5.0, queued=5.0, seconds_per_step=0.05, min_running=36_000.0)
MAX_ATTEMPTS = 4
#: Transient faults strike this many times in a row: fewer than the attempts allowed.
TRANSIENT_TIMES = 2

#: Every API call the pipeline makes, in the order a run makes them.
ROUTES = (
    "models.retrieve",
    "files.list",
    "files.create",
    "uploads.create",
    "uploads.parts.create",
    "uploads.complete",
    "jobs.list",
    "jobs.create",
    "jobs.retrieve",
    "jobs.list_events",
    "files.content",
    "jobs.checkpoints.list",
    "jobs.cancel",
)


def route_setup(route: str) -> str:
    """How the run is set up to make ``route``.

    ``uploads``: the Uploads API is forced with a tiny threshold; ``cancel``: the run
    is started, then cancelled; ``files``: the plain run (small files go through
    ``files.create``).
    """
    if route.startswith("uploads."):
        return "uploads"
    return "cancel" if route == "jobs.cancel" else "files"


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
OPTIONAL_ROUTES = frozenset({"files.content", "jobs.checkpoints.list"})
#: Writes found again by a lookup after an answer is lost (by content, metadata or status).
LOOKED_UP_WRITES = frozenset({"files.create", "uploads.complete", "jobs.create", "jobs.cancel"})

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

    @property
    def id(self) -> str:
        what = f"status-{self.status}" if self.status else self.kind
        mode = "permanent" if self.permanent else "transient"
        suffix = "" if self.driver == "sync" else f"-{self.driver}"
        return f"{self.route}-{what}-{mode}{suffix}"

    @property
    def expected(self) -> str:
        """``"completes"`` or the name of the error the run must end with."""
        if self.status is not None:
            return COMPLETES if self.route in OPTIONAL_ROUTES else "APIError"
        if not self.permanent or self.kind == "slow" or self.route in OPTIONAL_ROUTES:
            return COMPLETES
        if self.kind == "applied_but_lost" and self.route in LOOKED_UP_WRITES:
            # Every answer is lost, but the first write happened: the lookup finds it.
            return COMPLETES
        return "RetryExhausted"


def transient_cases(driver: str = "sync") -> list[Case]:
    """Every route × every kind, striking :data:`TRANSIENT_TIMES` times."""
    return [Case(r, k, driver=driver) for r in ROUTES for k in KINDS]


def permanent_cases() -> list[Case]:
    """Every route × every kind, striking every call until cleared."""
    return [Case(r, k, permanent=True) for r in ROUTES for k in KINDS]


def final_status_cases() -> list[Case]:
    """Every route × every non-retryable status, for good (one attempt must be all)."""
    return [Case(r, "status", permanent=True, status=s) for r in ROUTES for s in FINAL_STATUSES]


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
    """A fake service on a virtual clock, policies that sleep on it, and a state folder."""

    def __init__(
        self,
        state_dir: Path,
        data: Data,
        *,
        timings: Timings = FAST,
        fake: FakeFineTuningAPI | None = None,
    ) -> None:
        self.fake = fake or FakeFineTuningAPI(timings=timings)
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
        if asynchronous:
            return self.fake.async_client(max_retries=0, api_key=API_KEY)
        return self.fake.client(max_retries=0, api_key=API_KEY)

    def crashing_client(self, crash: Crash) -> Any:
        """An openai client whose process "dies" when ``crash`` says so."""
        import openai

        handler = crash.wrap(self.fake.handle)
        http = httpx2.Client(transport=httpx2.MockTransport(handler))
        return openai.OpenAI(
            api_key=API_KEY, base_url=IN_PROCESS_URL, max_retries=0, http_client=http
        )

    def builder(
        self, setup: str = "files", *, client: Any = None, asynchronous: bool = False
    ) -> Any:
        kind = ftkit.AsyncFineTune if asynchronous else ftkit.FineTune
        chosen = client if client is not None else self.client(asynchronous=asynchronous)
        builder = (
            kind(chosen)
            .model(MODEL)
            .sft(self.data.sft, validation=self.data.validation, epochs=1)
            .dpo(self.data.dpo, beta=0.2, epochs=1)
            .retry(self.retry)
            .poll(self.poll)
            .state_dir(self.state_dir)
            .on_event(self.events.append)
        )
        if setup == "uploads":
            builder = builder.uploads(files_api_limit=1024, part_size=1024, concurrency=2)
        return builder

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
    """Compare a run's manifest with what the service holds.

    Args:
        world: the fake service.
        manifest_path: the run's manifest.
        finished: the run claims to have succeeded; every stage must then agree.

    Returns:
        The problems found (empty when consistent) and the number of duplicates
        (extra jobs for a stage plus files uploaded more than once).
    """
    problems: list[str] = []
    duplicates = 0
    if (os.stat(manifest_path).st_mode & 0o777) != 0o600:
        problems.append(f"manifest mode is {oct(os.stat(manifest_path).st_mode & 0o777)}")
    m = Manifest.load(manifest_path)
    jobs = world.fake.jobs
    files = {f["id"]: f for f in world.fake.files}
    names = [f["filename"] for f in files.values() if f.get("purpose") == "fine-tune"]
    extra_files = len(names) - len(set(names))
    if extra_files:
        duplicates += extra_files
        problems.append(f"{extra_files} file(s) uploaded twice: {sorted(names)}")
    previous_model: str | None = None
    for stage in m.stages:
        mine = [
            j
            for j in jobs
            if (j.get("metadata") or {}).get("ftkit_run") == m.run_id
            and (j.get("metadata") or {}).get("ftkit_stage") == stage.name
        ]
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
        if stage.base_model != job["model"]:
            problems.append(f"{stage.name}: base model {stage.base_model} != job's {job['model']}")
        if previous_model is not None and job["model"] != previous_model:
            problems.append(f"{stage.name}: does not train the previous stage's model")
        if finished:
            if stage.status != "succeeded" or job["status"] != "succeeded":
                problems.append(f"{stage.name}: {stage.status} here, {job['status']} there")
            if stage.fine_tuned_model != job.get("fine_tuned_model"):
                problems.append(f"{stage.name}: fine-tuned model differs from the job's")
        previous_model = stage.fine_tuned_model
    if finished and m.status != "succeeded":
        problems.append(f"the run is {m.status}, not succeeded")
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
    world = World(state_dir, data, timings=LONG if setup == "cancel" else FAST)
    got, error, fault = _drive(world, case, setup)
    outcome = Outcome(
        case,
        got=got,
        fired=fault.fired if fault is not None else 0,
        attempts=len(world.fake.calls(case.route)),
        error=error,
    )
    manifests = world.manifests()
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
        sft_job = world.fake.job(str(Manifest.load(path).stages[0].job_id))
        if sft_job["status"] != "cancelled" or Manifest.load(path).status != "cancelled":
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
        """1-based indexes of the requests that change something (POST)."""
        return [i for i, (method, _) in enumerate(self.requests, 1) if method == "POST"]

    def first(self, route: str) -> int:
        """1-based index of the first request on ``route``."""
        return next(i for i, (_, r) in enumerate(self.requests, 1) if r == route)


def clean_run(state_dir: Path, data: Data, setup: str) -> CleanRun:
    """Run once undisturbed and record its steps."""
    world = World(state_dir, data)
    with crash_before_save(0) as saves:
        world.builder(setup).run()
    return CleanRun([(r.method, r.route) for r in world.fake.requests], saves[0])


def crash_and_resume(
    state_dir: Path, data: Data, setup: str, *, after_request: int = 0, before_save: int = 0
) -> SweepResult:
    """Kill a run at one point, resume it in a fresh "process", audit the service."""
    world = World(state_dir, data)
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
        # Killed before the manifest existed: nothing may have reached the service.
        sent = ["requests were sent without a manifest"] if world.fake.requests else []
        return SweepResult(point, crashed, sent, 0)
    run_id = Manifest.load(manifests[0]).run_id
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
