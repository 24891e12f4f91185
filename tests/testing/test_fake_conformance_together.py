"""The Together AI fake, checked against Together's own OpenAPI spec by schemathesis.

``FakeFineTuningAPI(provider="together").serve()`` (what ``ftkit fake-server
--provider together`` runs) answers property-based requests to every operation of
the trimmed spec in ``tests/data/specs/together/`` (files, fine-tunes with their
events, checkpoints, metrics, weights download, price estimates and model limits,
chat completions), generated valid and invalid, with the checks of the OpenAI suite
(``conformance_support``: schemathesis' response schema, status code, content type,
auth, negative and positive data checks, and ftkit's error body and stream checks).

Valid requests name live resources made on the fake through the together SDK for
each case: a validated training file (a preference file for a DPO job), a pending
job to cancel, a completed job to read, delete, continue from or download (a full
one for ``model_output_path``) and its checkpoint steps, a base model. A streamed
chat completion, which the seeded generation does not reach, is one explicit case. What the
spec does not describe is not checked here but by ``test_fake_together.py``: the
SDK's upload (``POST /files`` answering 302, the presigned ``PUT``,
``POST /files/{id}/preprocess``), none of which the spec has. Known differences are
listed, each with its reason, in ``tests/data/specs/together/allowlist.yaml``.
"""

from __future__ import annotations

import itertools
import json
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

from ftkit.testing import DEFAULT_START, FakeClock, FakeFineTuningAPI, FakeServer, Timings

SPECS = Path(__file__).resolve().parents[1] / "data" / "specs" / "together"
KEY = "tgp_v1_conformance-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {KEY}"}
BASE = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
# Short phases, so a case can make a pending or a completed job cheaply.
TIMINGS = Timings(
    file_processing=1, validating_files=1, queued=1, seconds_per_step=0.01, min_running=60
)
AFTER_TRAINING = 61.0
"""Virtual seconds from the end of training to ``completed`` (compressing, uploading: 30 + 30)."""

schema = load_schema(SPECS / "openapi.yaml")
ALLOWLIST = load_allowlist(SPECS / "allowlist.yaml")
BODIES = Bodies(schema, error="ErrorData", chunk="ChatCompletionChunk")


# ----------------------------------------------------------- live resources


class Live:
    """Resources on the fake that valid cases name instead of random ids."""

    def __init__(self, fake: FakeFineTuningAPI, folder: Path) -> None:
        self.fake = fake
        self.folder = folder
        self.client = fake.together_client(max_retries=0)
        self._count = itertools.count()
        self.completed = self.completed_job()
        self.full = self.completed_job(lora=False)
        self.steps = {
            job: [c.step for c in self.client.fine_tuning.list_checkpoints(job).data]
            for job in (self.completed, self.full)
        }

    def _upload(self, rows: list[dict[str, Any]]) -> str:
        path = self.folder / f"train-{next(self._count)}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        file_id = self.client.files.upload(file=path).id
        self.fake.advance(TIMINGS.file_processing + 0.5)
        return file_id

    def file(self) -> str:
        """A validated SFT training file (content of its own: no 409 of a duplicate)."""
        tag = next(self._count)
        return self._upload(
            [
                {
                    "messages": [
                        {"role": "user", "content": f"What is {i} ({tag})?"},
                        {"role": "assistant", "content": f"It is {i}."},
                    ]
                }
                for i in range(10)
            ]
        )

    def preference_file(self) -> str:
        """A validated DPO training file."""
        tag = next(self._count)
        return self._upload(
            [
                {
                    "input": {"messages": [{"role": "user", "content": f"Say {i} ({tag})"}]},
                    "preferred_output": [{"role": "assistant", "content": f"{i}!"}],
                    "non_preferred_output": [{"role": "assistant", "content": "no"}],
                }
                for i in range(10)
            ]
        )

    def job(self, **options: Any) -> str:
        """A new job, pending (its files being checked)."""
        return self.client.fine_tuning.create(training_file=self.file(), model=BASE, **options).id

    def completed_job(self, **options: Any) -> str:
        """A new job, trained, compressed and uploaded: ``completed``."""
        job_id = self.job(**options)
        self.fake.advance(
            TIMINGS.validating_files + TIMINGS.queued + TIMINGS.min_running + AFTER_TRAINING
        )
        assert self.client.fine_tuning.retrieve(job_id).status == "completed"
        return job_id

    def path_parameters(self, operation: str) -> dict[str, Callable[[], str]]:
        """What the ``{id}`` of ``operation`` names on this fake."""
        if "/files/" in operation:
            return {"id": self.file}
        makers = {
            "POST /fine-tunes/{id}/cancel": self.job,
            "DELETE /fine-tunes/{id}": self.completed_job,
        }
        return {"id": makers.get(operation, lambda: self.completed)}

    def point_at_live_resources(self, case: Any) -> None:
        """Make a valid case name live resources (its ids, files, model and checkpoints)."""
        label = case.operation.label
        makers = self.path_parameters(label)
        for name in list(case.path_parameters or {}):
            if name in makers:
                case.path_parameters[name] = makers[name]()
        query = case.query if isinstance(case.query, dict) else None
        if label == "GET /finetune/download" and query is not None:
            job = self.full if query.get("checkpoint") == "model_output_path" else self.completed
            query["ft_id"] = job
            if "checkpoint_step" in query:
                query["checkpoint_step"] = self.steps[job][-1]
        elif label == "GET /fine-tunes/models/limits" and query is not None:
            query["model_name"] = BASE
        body = case.body if isinstance(case.body, dict) else None
        if body is None:
            return
        if label in ("POST /fine-tunes", "POST /fine-tunes/estimate-price"):
            method = body.get("training_method")
            dpo = isinstance(method, dict) and method.get("method") == "dpo"
            make_file = self.preference_file if dpo else self.file
            body["training_file"] = make_file()
            if "validation_file" in body:
                body["validation_file"] = make_file()
            # A job names its model (the spec requires it); a price needs one too, or a
            # checkpoint, though the spec leaves both optional (the fake, as the service
            # must, refuses a request naming neither).
            if "model" in body or "from_checkpoint" not in body:
                body["model"] = BASE
            if "from_checkpoint" in body:
                body["from_checkpoint"] = self.completed
        elif label == "POST /chat/completions":
            body["model"] = BASE


@dataclass
class Served:
    fake: FakeFineTuningAPI
    server: FakeServer
    live: Live


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    # What `ftkit fake-server --provider together --seed 20 --api-key KEY` serves
    # (its clock frozen: --speed 0).
    fake = FakeFineTuningAPI(
        provider="together",
        clock=FakeClock(start=DEFAULT_START),
        seed=SEED,
        api_keys=[KEY],
        timings=TIMINGS,
    )
    folder = tmp_path_factory.mktemp("together-conformance")
    with fake.serve() as server:
        yield Served(fake, server, Live(fake, folder))


# --------------------------------------------------------------------- test


@schema.parametrize()
@settings
def test_the_fake_answers_as_togethers_spec_says(case: Any, served: Served) -> None:
    if is_valid(case):
        served.live.point_at_live_resources(case)
    check_case(
        case,
        base_url=served.server.base_url,
        headers=AUTH,
        bodies=BODIES,
        allowlist=ALLOWLIST,
    )


def test_a_streamed_chat_completion_is_the_specs_stream(served: Served) -> None:
    """Streams, which the seeded generation does not reach: every chunk checked, usage too."""
    body: dict[str, Any] = {
        "model": BASE,
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    case = schema["/chat/completions"]["POST"].Case(body=body, media_type="application/json")
    check_case(
        case,
        base_url=served.server.base_url,
        headers=AUTH,
        bodies=BODIES,
        allowlist=ALLOWLIST,
    )


def test_the_allowlist_names_real_operations_and_checks() -> None:
    check_allowlist(schema, ALLOWLIST)
