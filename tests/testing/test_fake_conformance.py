"""The fake, checked against OpenAI's own OpenAPI spec by schemathesis.

``ftkit fake-server`` (the same ``FakeFineTuningAPI(...).serve()`` it runs, here
in this process) answers property-based requests to every operation of the
trimmed spec in ``tests/data/specs/openai/`` (files, uploads, fine-tuning jobs,
events, checkpoints and checkpoint permissions, models, chat completions and
stored completions), generated valid and invalid. Every answer is checked for:

- response schema conformance (a 2xx body is what the spec's schema says);
- status code conformance (the status is one the spec documents);
- content-type conformance;
- auth: an operation that requires a key refuses a request without one and with
  a wrong one (schemathesis' ``ignored_auth``, probing each operation);
- negative data rejection: invalid input is refused with a 4xx;
- positive data acceptance: valid input is answered with a 2xx (not even a 404:
  a valid case names live resources);
- and, ftkit's own checks, that every 4xx body is the spec's ``ErrorResponse`` and
  every event of a streamed chat completion a ``CreateChatCompletionStreamResponse``.

Valid requests name live resources (a file, a running job, a checkpoint, a stored
completion...) made on the fake for each case, so the 2xx answers are checked too,
not only the 404s of random ids. Known defects of the spec are listed, each with
its reason, in ``tests/data/specs/openai/allowlist.yaml``; every other failure fails
this test. Bounded: seeded, a few examples per operation, no deadline. The
mechanism (checks, allowlist, ftkit's own checks) is ``conformance_support``'s,
shared with Together AI's suite (``test_fake_conformance_together.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conformance_support import (
    SEED,
    Bodies,
    check_allowlist,
    check_case,
    is_valid,
    load_allowlist,
    load_schema,
    settings,
)
from fake_support import sft_lines

from ftkit.testing import DEFAULT_START, FakeClock, FakeFineTuningAPI, FakeServer, Timings

SPECS = Path(__file__).resolve().parents[1] / "data" / "specs" / "openai"
KEY = "sk-conformance-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {KEY}"}
MODEL = "gpt-4.1-mini-2025-04-14"
# Short phases, so a case can make a running, a paused or a succeeded job cheaply.
TIMINGS = Timings(
    file_processing=1, validating_files=1, queued=1, seconds_per_step=0.01, min_running=60
)

schema = load_schema(SPECS / "openapi.yaml")
ALLOWLIST = load_allowlist(SPECS / "allowlist.yaml")
BODIES = Bodies(schema, error="ErrorResponse", chunk="CreateChatCompletionStreamResponse")


# ----------------------------------------------------------- live resources


class Live:
    """Resources on the fake that valid cases name instead of random ids."""

    def __init__(self, fake: FakeFineTuningAPI) -> None:
        self.fake = fake
        self.client = fake.client(max_retries=0)
        self.job_id = self.succeeded_job()
        checkpoints = self.client.fine_tuning.jobs.checkpoints.list(self.job_id)
        self.checkpoint = checkpoints.data[0].fine_tuned_model_checkpoint

    def file(self) -> str:
        """A processed training file."""
        return self._file("fine-tune")

    def batch_file(self) -> str:
        """A processed file whose content may be downloaded (training files' may not)."""
        return self._file("batch")

    def _file(self, purpose: str) -> str:
        created = self.client.files.create(file=("t.jsonl", sft_lines(10)), purpose=purpose)  # type: ignore[arg-type]
        self.fake.advance(TIMINGS.file_processing)
        return created.id

    def upload(self, size: int = 100) -> str:
        return self.client.uploads.create(
            bytes=size, filename="u.jsonl", mime_type="text/jsonl", purpose="fine-tune"
        ).id

    def uploaded_part(self, upload_id: str, data: bytes) -> str:
        return self.client.uploads.parts.create(upload_id, data=data).id

    def job(self) -> str:
        return self.client.fine_tuning.jobs.create(model=MODEL, training_file=self.file()).id

    def running_job(self) -> str:
        job_id = self.job()
        self.fake.advance(TIMINGS.validating_files + TIMINGS.queued + 0.5)
        return job_id

    def paused_job(self) -> str:
        job_id = self.running_job()
        self.client.fine_tuning.jobs.pause(job_id)
        return job_id

    def succeeded_job(self) -> str:
        job_id = self.job()
        self.fake.advance(TIMINGS.validating_files + TIMINGS.queued + TIMINGS.min_running + 1)
        assert self.client.fine_tuning.jobs.retrieve(job_id).status == "succeeded"
        return job_id

    def fine_tuned_model(self) -> str:
        """The model of a new succeeded job (one a case may delete)."""
        return str(self.client.fine_tuning.jobs.retrieve(self.succeeded_job()).fine_tuned_model)

    def permission(self) -> str:
        created = self.client.fine_tuning.checkpoints.permissions.create(
            self.checkpoint, project_ids=["proj_conformance"]
        )
        return created.data[0].id

    def stored_completion(self) -> str:
        return self.client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}], store=True
        ).id

    def path_parameters(self, operation: str) -> dict[str, Callable[[], str]]:
        """What each path parameter of ``operation`` names on this fake."""
        job = operation.split("{fine_tuning_job_id}")[-1]
        by_job = {"/cancel": self.job, "/pause": self.running_job, "/resume": self.paused_job}
        return {
            "file_id": self.batch_file if operation.endswith("/content") else self.file,
            "upload_id": self.upload,
            "fine_tuning_job_id": by_job.get(job, lambda: self.job_id),
            "fine_tuned_model_checkpoint": lambda: self.checkpoint,
            "permission_id": self.permission,
            "model": self.fine_tuned_model if operation.startswith("DELETE") else lambda: MODEL,
            "completion_id": self.stored_completion,
        }

    def point_at_live_resources(self, case: Any) -> None:
        """Make a valid case name live resources (its ids, and a job's or chat's model)."""
        label = case.operation.label
        makers = self.path_parameters(label)
        for name in list(case.path_parameters or {}):
            if name in makers:
                case.path_parameters[name] = makers[name]()
        body = case.body if isinstance(case.body, dict) else None
        if body is None:
            return
        if label == "POST /uploads/{upload_id}/complete":
            # The parts of a live upload, adding up to its declared bytes (and their md5).
            data = sft_lines(2)
            upload_id = self.upload(len(data))
            case.path_parameters["upload_id"] = upload_id
            body["part_ids"] = [self.uploaded_part(upload_id, data)]
            if "md5" in body:
                body["md5"] = hashlib.md5(data).hexdigest()
        elif label == "POST /fine_tuning/jobs":
            body.update(model=MODEL, training_file=self.file())
            body.pop("validation_file", None)
        elif label == "POST /chat/completions":
            body["model"] = MODEL


@dataclass
class Served:
    fake: FakeFineTuningAPI
    server: FakeServer
    live: Live


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    # What `ftkit fake-server --seed 20 --api-key KEY` serves (its clock frozen: --speed 0).
    fake = FakeFineTuningAPI(
        clock=FakeClock(start=DEFAULT_START), seed=SEED, api_keys=[KEY], timings=TIMINGS
    )
    with fake.serve() as server:
        yield Served(fake, server, Live(fake))


# --------------------------------------------------------------------- test


@schema.parametrize()
@settings
def test_the_fake_answers_as_openais_spec_says(case: Any, served: Served) -> None:
    if is_valid(case):
        served.live.point_at_live_resources(case)
    check_case(
        case,
        base_url=served.server.base_url,
        headers=AUTH,
        bodies=BODIES,
        allowlist=ALLOWLIST,
    )


def test_the_allowlist_names_real_operations_and_checks() -> None:
    check_allowlist(schema, ALLOWLIST)
