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
this test. Bounded: seeded, a few examples per operation, no deadline.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis
import jsonschema_rs
import pytest
import schemathesis
import yaml
from fake_support import sft_lines
from schemathesis import checks as generic_checks
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi import checks as openapi_checks

from ftkit.testing import DEFAULT_START, FakeClock, FakeFineTuningAPI, FakeServer, Timings

SPECS = Path(__file__).resolve().parents[1] / "data" / "specs" / "openai"
SPEC = SPECS / "openapi.yaml"
KEY = "sk-conformance-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {KEY}"}
SEED = 20
EXAMPLES = 6
"""Examples per operation and generation mode (valid, invalid)."""
MODEL = "gpt-4.1-mini-2025-04-14"
# Short phases, so a case can make a running, a paused or a succeeded job cheaply.
TIMINGS = Timings(
    file_processing=1, validating_files=1, queued=1, seconds_per_step=0.01, min_running=60
)

CHECKS = [
    openapi_checks.response_schema_conformance,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.ignored_auth,
    generic_checks.negative_data_rejection,
    generic_checks.positive_data_acceptance,
]

schema = schemathesis.openapi.from_path(
    SPEC,
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"mode": "all", "max-examples": EXAMPLES},
            "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
            # A valid case names live resources with a good key: a 401, 403, 404, 409
            # or 429 answer (which schemathesis forgives by default) is the fake's fault.
            "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx"]}},
        }
    ),
)


# ----------------------------------------------------------------- allowlist


@dataclass(frozen=True)
class Allowed:
    """A known defect of the spec: failures of ``check`` on ``operation`` matching ``match``.

    ``match`` is searched in the failure's title and message, then in the exchange:
    ``request: <the case as curl>`` and ``answer <status>: <body>``, so that a refusal
    of a valid request can be forgiven for one parameter and one reason only.
    """

    operation: str
    check: str
    match: str
    reason: str

    def covers(self, operation: str, failure: Failure, exchange: str = "") -> bool:
        if self.operation not in ("*", operation) or self.check not in _checks_of(failure):
            return False
        text = f"{failure.title}\n{failure.message}\n{exchange}"
        return re.search(self.match, text) is not None


def _checks_of(failure: Failure) -> tuple[str, ...]:
    return tuple(getattr(failure, "checks", ()) or ())


def load_allowlist(path: Path = SPECS / "allowlist.yaml") -> list[Allowed]:
    """The allowlist file: a list of ``{operation, check, match, reason}`` (all required)."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    allowed = []
    for entry in entries:
        assert set(entry) == {"operation", "check", "match", "reason"}, entry
        assert entry["reason"].strip(), f"an allowlist entry needs a reason: {entry}"
        allowed.append(Allowed(**entry))
    return allowed


ALLOWLIST = load_allowlist()


# ------------------------------------------------------------- ftkit's check


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable: true`` (which this 3.1 spec still uses) in JSON Schema."""
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable(value) for key, value in node.items()}
    if node.pop("nullable", False) is not True:
        return node
    if isinstance(node.get("type"), str):
        node["type"] = [node["type"], "null"]
        if "enum" in node:
            node["enum"] = [*node["enum"], None]
        return node
    return {"anyOf": [node, {"type": "null"}]}


_COMPONENTS = _nullable(schema.raw_schema["components"])


def _validator(name: str) -> Any:
    """A JSON Schema validator for the spec's component ``name`` (its refs resolved)."""
    return jsonschema_rs.validator_for(
        {"$ref": f"#/components/schemas/{name}", "components": _COMPONENTS}
    )


_ERROR_BODY = _validator("ErrorResponse")
_CHUNK = _validator("CreateChatCompletionStreamResponse")


class _OwnCheckFailure(Failure):
    """A failure of one of ftkit's own checks, titled ``kind_title``; one finding per message."""

    __slots__ = ()

    def __init__(self, operation: str, message: str) -> None:
        super().__init__(operation=operation, title=self.kind_title, message=message)

    @property
    def _unique_key(self) -> str:
        return self.message


class ErrorEnvelope(_OwnCheckFailure):
    """A 4xx answer whose body is not the spec's ``ErrorResponse``."""

    code = "FTKIT01"
    checks = ("error_envelope",)
    kind_title = "Error body is not the spec's ErrorResponse"
    __slots__ = ()


class StreamChunk(_OwnCheckFailure):
    """A Server-Sent Event of a streamed chat completion that is not the spec's chunk."""

    code = "FTKIT02"
    checks = ("stream_chunks",)
    kind_title = "Streamed chunk is not the spec's CreateChatCompletionStreamResponse"
    __slots__ = ()


def stream_chunks(operation: str, content_type: str, body: bytes) -> list[Failure]:
    """ftkit's own check: each ``data:`` of an event stream is a chunk, ending ``[DONE]``.

    The spec gives the chunk's schema as the stream's; this reads it as OpenAI sends
    it, as the ``data`` of each event (schemathesis reads it as the event's own).
    """
    if not content_type.startswith("text/event-stream"):
        return []
    events = [e for e in body.decode("utf-8").split("\n\n") if e.strip()]
    datas = [e.removeprefix("data: ") for e in events]
    failures: list[Failure] = []
    if not datas or datas[-1] != "[DONE]":
        failures.append(
            StreamChunk(operation, f"the stream does not end with [DONE]: {datas[-1:]}")
        )
    for index, data in enumerate(datas[:-1]):
        errors = [str(e) for e in _CHUNK.iter_errors(json.loads(data))]
        if errors:
            failures.append(StreamChunk(operation, f"event #{index}: {'; '.join(errors)}"))
    return failures


def error_envelope(operation: str, status: int, body: bytes) -> list[Failure]:
    """ftkit's own check: a refusal carries ``{"error": {message, type, param, code}}``."""
    if not 400 <= status < 500:
        return []
    try:
        parsed = json.loads(body)
    except ValueError:
        return [ErrorEnvelope(operation, f"{status}: not JSON: {body[:200]!r}")]
    errors = [str(e) for e in _ERROR_BODY.iter_errors(parsed)]
    return [ErrorEnvelope(operation, f"{status}: {'; '.join(errors)}")] if errors else []


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


def _first(value: Any) -> str:
    """A header value as schemathesis keeps it (a list of values) or as a string."""
    return str(value[0] if isinstance(value, list) and value else value or "")


def _is_valid(case: Any) -> bool:
    meta = case.meta
    return meta is None or not meta.generation.mode.is_negative


# --------------------------------------------------------------------- test


@schema.parametrize()
@hypothesis.seed(SEED)
@hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_the_fake_answers_as_openais_spec_says(case: Any, served: Served) -> None:
    if _is_valid(case):
        served.live.point_at_live_resources(case)
    base_url = served.server.base_url
    response = case.call(base_url=base_url, headers=AUTH)
    label = case.operation.label
    failures: list[Failure] = []
    try:
        case.validate_response(
            response,
            checks=CHECKS,
            headers=AUTH,
            transport_kwargs={"base_url": base_url, "headers": AUTH},
        )
    except FailureGroup as group:
        failures += list(group.exceptions)
    failures += error_envelope(label, response.status_code, response.content)
    content_type = response.headers.get("content-type", [""])
    failures += stream_chunks(label, _first(content_type), response.content)
    exchange = (
        f"request: {case.as_curl_command()}\nanswer {response.status_code}: "
        + response.content[:2000].decode("utf-8", "replace")
    )
    unexpected = [f for f in failures if not any(a.covers(label, f, exchange) for a in ALLOWLIST)]
    assert not unexpected, (
        "\n\n".join(
            f"{label} [{', '.join(_checks_of(f))}] {f.title}\n{f.message}" for f in unexpected
        )
        + f"\n\n{exchange[:2500]}"
    )


def test_the_allowlist_names_real_operations_and_checks() -> None:
    operations = {op.label for op in _operations()} | {"*"}
    known = {check.__name__ for check in CHECKS} | {"error_envelope", "stream_chunks"}
    for entry in ALLOWLIST:
        assert entry.operation in operations, entry
        assert entry.check in known, entry
        re.compile(entry.match)


def _operations() -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]
