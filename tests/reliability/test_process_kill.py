"""Real processes: a driver killed with SIGKILL mid-run, and two drivers on one run.

The fake runs as a loopback server in this process, so its state outlives the
children. A child drives the pipeline (``reliability_child.py``); the server
kills it from inside its request handler when the seeded n-th API request
arrives, either before applying it or after (the answer then never reaches
the child), which needs no real waiting. The run is then resumed here.

On OpenAI's API the kill strikes at seeded random requests. On Azure's two APIs,
Together's and Fireworks' it strikes right after the first job is created (the child
never learns its id), the point where exactly-once creation must hold across
processes: the in-process sweeps of ``test_crash_resume`` cover every other step
there. On Fireworks it also strikes right after a dataset is created: a create under
an id the resume derives again, refused then (409), whose dataset is filled in place.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability_support import (
    API_KEY,
    APIS,
    AZURE_APIS,
    FAST,
    FIREWORKS,
    OPENAI,
    TOGETHER,
    Data,
    World,
    audit,
    clean_run,
)

import ftkit
from ftkit.pipeline._manifest import Manifest
from ftkit.testing import FakeFineTuningAPI, FakeServer

CHILD = Path(__file__).with_name("reliability_child.py")
SEEDS = (1, 2, 3)
TIMEOUT = 60  # seconds: a hung child fails the test instead of hanging it


class Killer:
    """Wraps the fake's request handler to SIGKILL a child at its n-th API request."""

    def __init__(self, fake: FakeFineTuningAPI, nth: int, after: bool) -> None:
        self.fake, self.nth, self.after = fake, nth, after
        self.pid: int | None = None
        self.count = 0
        self.killed = threading.Event()
        self._handle = fake.handle
        self._lock = threading.Lock()

    def handle(self, request: Any) -> Any:
        api = not request.url.path.startswith("/_fake/")
        with self._lock:
            if api and not self.killed.is_set():
                self.count += 1
                strike = self.count == self.nth
            else:
                strike = False
        if strike and not self.after:
            self._kill()
        response = self._handle(request)
        if strike and self.after:
            self._kill()
        return response

    def _kill(self) -> None:
        assert self.pid is not None
        os.kill(self.pid, signal.SIGKILL)
        self.killed.set()


@pytest.fixture
def api() -> str:
    """The API surface a test runs on (parametrize ``api`` to choose another)."""
    return OPENAI.name


@pytest.fixture
def served(api: str) -> Iterator[tuple[FakeFineTuningAPI, FakeServer]]:
    """A fake of the test's ``api``, served on a loopback port."""
    fake = FakeFineTuningAPI(provider=APIS[api].provider, timings=FAST)
    with fake.serve() as server:
        yield fake, server


def _address(api: str, fake: FakeFineTuningAPI, server: FakeServer) -> str:
    """What the child's client of ``api`` needs (``server.azure_endpoint`` is its origin)."""
    return APIS[api].address(fake.addresses(server.azure_endpoint))


def _env(account: str | None = None) -> dict[str, str]:
    """The child's environment: no address of ours leaks in; Fireworks' ``account``."""
    env = dict(os.environ)
    env.pop("OPENAI_BASE_URL", None)
    env.pop("AZURE_OPENAI_ENDPOINT", None)
    env.pop("FIREWORKS_ACCOUNT_ID", None)
    if account is not None:
        env["FIREWORKS_ACCOUNT_ID"] = account  # the fireworks SDK reads it
    return env


@pytest.mark.parametrize("seed", SEEDS)
def test_sigkill_at_a_random_moment_then_resume(
    seed: int, tmp_path: Path, data: Data, served: tuple[FakeFineTuningAPI, FakeServer]
) -> None:
    # The kill strikes one of the requests an undisturbed run makes (same policies).
    requests = len(clean_run(tmp_path / "clean", data, "files").requests)
    rng = random.Random(seed)
    nth, after = rng.randint(1, requests), rng.random() < 0.5
    _kill_then_resume(OPENAI.name, nth, after, tmp_path, data, served)


@pytest.mark.parametrize("api", [*AZURE_APIS, TOGETHER.name, FIREWORKS.name])
def test_sigkill_past_a_lookup_after_the_job_is_created_then_resume(
    api: str, tmp_path: Path, data: Data, served: tuple[FakeFineTuningAPI, FakeServer]
) -> None:
    create = APIS[api].job_create
    nth = clean_run(tmp_path / "clean", data, "files", api).first(create)
    _kill_then_resume(api, nth, True, tmp_path, data, served)
    fake = served[0]
    struck = [r for r in fake.requests if not r.path.startswith("/_fake/")][nth - 1]
    assert (struck.route, struck.api) == (create, APIS[api].surface)
    assert len(fake.jobs) == 2  # the SFT job the child never heard of, and DPO's


@pytest.mark.parametrize("api", [FIREWORKS.name])  # the served fake's provider
def test_sigkill_after_a_fireworks_dataset_is_created_then_resume(
    api: str, tmp_path: Path, data: Data, served: tuple[FakeFineTuningAPI, FakeServer]
) -> None:
    # The dataset the child never heard of is still UPLOADING: the resume's create of the
    # same id is refused (409) and the dataset filled in place, not created again.
    nth = clean_run(tmp_path / "clean", data, "files", api).first("datasets.create")
    _kill_then_resume(api, nth, True, tmp_path, data, served)
    fake = served[0]
    struck = [r for r in fake.requests if not r.path.startswith("/_fake/")][nth - 1]
    assert struck.route == "datasets.create"
    assert [r.status for r in fake.calls("datasets.create") if r.json == struck.json] == [200, 409]
    assert len(fake.jobs) == 2


def _kill_then_resume(
    api: str,
    nth: int,
    after: bool,
    tmp_path: Path,
    data: Data,
    served: tuple[FakeFineTuningAPI, FakeServer],
) -> None:
    """SIGKILL a child driving a run on ``api`` at its ``nth`` request, resume, audit."""
    fake, server = served
    killer = Killer(fake, nth=nth, after=after)
    fake.handle = killer.handle  # type: ignore[method-assign]
    state_dir = tmp_path / "state"
    address = _address(api, fake, server)
    account = fake.addresses(server.base_url).get("account_id")
    child = subprocess.Popen(
        [sys.executable, str(CHILD), "run", api, address, str(state_dir), *map(str, data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(account),
    )
    killer.pid = child.pid
    _, err = child.communicate(timeout=TIMEOUT)
    assert killer.killed.is_set(), f"the child finished before request {killer.nth}: {err!r}"
    assert child.returncode == -signal.SIGKILL
    fake.handle = killer._handle  # type: ignore[method-assign]

    world = World(state_dir, data, fake=fake, api=api)
    (manifest,) = world.manifests()  # created before the first request
    result = world.resume(Manifest.load(manifest).run_id).wait()
    assert [s.status for s in result.stages] == ["succeeded", "succeeded"]
    problems, duplicates = audit(world, manifest, finished=True)
    assert problems == [] and duplicates == 0
    assert API_KEY not in manifest.read_text()


def test_a_second_process_is_refused_while_the_first_drives_the_run(
    tmp_path: Path, data: Data, served: tuple[FakeFineTuningAPI, FakeServer]
) -> None:
    fake, server = served
    world = World(tmp_path / "state", data, fake=fake)
    run = world.builder().start()  # the SFT job exists; nobody holds the run now
    holder = subprocess.Popen(
        [
            sys.executable,
            str(CHILD),
            "hold",
            "openai",
            server.base_url,
            str(world.state_dir),
            run.id,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "holding", holder.stderr
        second = subprocess.run(
            [sys.executable, "-m", "ftkit", "resume", run.id, "--state-dir", str(world.state_dir)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            env={**_env(), "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": API_KEY},
        )
        assert second.returncode != 0
        assert f"is being driven by pid {holder.pid}" in second.stderr
        assert "Traceback" not in second.stderr
        holder.stdin.write("go\n")
        holder.stdin.flush()
        out, err = holder.communicate(timeout=TIMEOUT)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    assert holder.returncode == 0, err
    assert out.startswith("done ft:")
    # The refused process sent nothing that creates anything: one job per stage.
    problems, duplicates = audit(world, run.manifest_path, finished=True)
    assert problems == [] and duplicates == 0
    status = ftkit.Run.resume(run.id, state_dir=world.state_dir).status()
    assert status.status == "succeeded"
