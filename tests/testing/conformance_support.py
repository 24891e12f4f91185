"""The conformance suites' one mechanism: schemathesis runs a provider's spec against the fake.

``test_fake_conformance.py`` (OpenAI) and ``test_fake_conformance_together.py``
(Together AI) each give a trimmed spec (``tests/data/specs/<provider>/``), an
allowlist beside it, the names of the spec's error body and stream chunk, and their
own live resources; everything else is here, the same for both, so a check added or
tightened applies to every provider at once:

- schemathesis' response schema, status code and content-type conformance, its
  ``ignored_auth`` probe, negative data rejection and positive data acceptance (a
  valid case must get a 2xx: it names live resources with a good key);
- ftkit's own checks: every 4xx body is the spec's error body (``error_envelope``)
  and every ``data:`` of a streamed answer the spec's chunk, the stream ending
  ``[DONE]`` (``stream_chunks``);
- the allowlist: a failure is forgiven only by an entry naming its operation, its
  check and a regular expression its text (and the exchange) matches.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis
import jsonschema_rs
import schemathesis
import yaml
from schemathesis import checks as generic_checks
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi import checks as openapi_checks
from schemathesis.specs.openapi.schemas import OpenApiSchema

SEED = 20
EXAMPLES = 6
"""Examples per operation and generation mode (valid, invalid)."""

CHECKS = [
    openapi_checks.response_schema_conformance,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.ignored_auth,
    generic_checks.negative_data_rejection,
    generic_checks.positive_data_acceptance,
]
OWN_CHECKS = ("error_envelope", "stream_chunks")


def load_schema(spec: Path) -> OpenApiSchema:
    """The trimmed spec as schemathesis runs it: seeded, a few examples, no stateful phase."""
    return schemathesis.openapi.from_path(
        spec,
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


def settings(test: Callable[..., None]) -> Callable[..., None]:
    """Hypothesis' settings of every conformance test: seeded, bounded, no deadline."""
    seeded = hypothesis.seed(SEED)(test)
    return hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )(seeded)


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
        if self.operation not in ("*", operation) or self.check not in checks_of(failure):
            return False
        text = f"{failure.title}\n{failure.message}\n{exchange}"
        return re.search(self.match, text) is not None


def checks_of(failure: Failure) -> tuple[str, ...]:
    return tuple(getattr(failure, "checks", ()) or ())


def load_allowlist(path: Path) -> list[Allowed]:
    """The allowlist file: a list of ``{operation, check, match, reason}`` (all required)."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    allowed = []
    for entry in entries:
        assert set(entry) == {"operation", "check", "match", "reason"}, entry
        assert entry["reason"].strip(), f"an allowlist entry needs a reason: {entry}"
        allowed.append(Allowed(**entry))
    return allowed


def check_allowlist(schema: OpenApiSchema, allowlist: list[Allowed]) -> None:
    """Every entry names an operation of the spec (or ``*``), a check run, a valid regex."""
    results = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), results
    operations = {result.ok().label for result in results if isinstance(result, Ok)} | {"*"}
    known = {check.__name__ for check in CHECKS} | set(OWN_CHECKS)
    for entry in allowlist:
        assert entry.operation in operations, entry
        assert entry.check in known, entry
        re.compile(entry.match)


# ------------------------------------------------------------- ftkit's checks


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable: true`` (which these 3.1 specs still use) in JSON Schema."""
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


class _OwnCheckFailure(Failure):
    """A failure of one of ftkit's own checks, titled ``kind_title``; one finding per message."""

    __slots__ = ()

    def __init__(self, operation: str, message: str) -> None:
        super().__init__(operation=operation, title=self.kind_title, message=message)

    @property
    def _unique_key(self) -> str:
        return self.message


class ErrorEnvelope(_OwnCheckFailure):
    """A 4xx answer whose body is not the spec's error body."""

    code = "FTKIT01"
    checks = ("error_envelope",)
    kind_title = "Error body is not the spec's error body"
    __slots__ = ()


class StreamChunk(_OwnCheckFailure):
    """A Server-Sent Event of a streamed chat completion that is not the spec's chunk."""

    code = "FTKIT02"
    checks = ("stream_chunks",)
    kind_title = "Streamed chunk is not the spec's chat completion chunk"
    __slots__ = ()


class Bodies:
    """ftkit's own checks of one spec: its error body (``error``) and stream chunk (``chunk``)."""

    def __init__(self, schema: OpenApiSchema, *, error: str, chunk: str) -> None:
        components = _nullable(schema.raw_schema["components"])
        self.error_name = error
        self.error = self._validator(components, error)
        self.chunk = self._validator(components, chunk)

    @staticmethod
    def _validator(components: Any, name: str) -> Any:
        """A JSON Schema validator for the spec's component ``name`` (its refs resolved)."""
        return jsonschema_rs.validator_for(
            {"$ref": f"#/components/schemas/{name}", "components": components}
        )

    def stream_chunks(self, operation: str, content_type: str, body: bytes) -> list[Failure]:
        """Each ``data:`` of an event stream is a chunk, the last ``[DONE]``.

        OpenAI's spec gives the chunk's schema as the stream's, Together's an event
        holding the chunk as ``data``; both providers send ``data: {chunk}`` events,
        then ``data: [DONE]``, which this reads as sent.
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
            errors = [str(e) for e in self.chunk.iter_errors(json.loads(data))]
            if errors:
                failures.append(StreamChunk(operation, f"event #{index}: {'; '.join(errors)}"))
        return failures

    def error_envelope(self, operation: str, status: int, body: bytes) -> list[Failure]:
        """A refusal carries the spec's error body (``{"error": {message, type, ...}}``)."""
        if not 400 <= status < 500:
            return []
        try:
            parsed = json.loads(body)
        except ValueError:
            return [ErrorEnvelope(operation, f"{status}: not JSON: {body[:200]!r}")]
        errors = [str(e) for e in self.error.iter_errors(parsed)]
        if not errors:
            return []
        return [ErrorEnvelope(operation, f"{status} ({self.error_name}): {'; '.join(errors)}")]


# --------------------------------------------------------------------- a case


def is_valid(case: Any) -> bool:
    """Whether schemathesis generated ``case`` valid (so it may name live resources)."""
    meta = case.meta
    return meta is None or not meta.generation.mode.is_negative


def _first(value: Any) -> str:
    """A header value as schemathesis keeps it (a list of values) or as a string."""
    return str(value[0] if isinstance(value, list) and value else value or "")


def check_case(
    case: Any,
    *,
    base_url: str,
    headers: dict[str, str],
    bodies: Bodies,
    allowlist: list[Allowed],
) -> None:
    """Send ``case`` to the fake at ``base_url``; fail on any finding no allowlist entry covers."""
    response = case.call(base_url=base_url, headers=headers)
    label = case.operation.label
    failures: list[Failure] = []
    try:
        case.validate_response(
            response,
            checks=CHECKS,
            headers=headers,
            transport_kwargs={"base_url": base_url, "headers": headers},
        )
    except FailureGroup as group:
        failures += list(group.exceptions)
    failures += bodies.error_envelope(label, response.status_code, response.content)
    content_type = _first(response.headers.get("content-type", [""]))
    failures += bodies.stream_chunks(label, content_type, response.content)
    exchange = (
        f"request: {case.as_curl_command()}\nanswer {response.status_code}: "
        + response.content[:2000].decode("utf-8", "replace")
    )
    unexpected = [f for f in failures if not any(a.covers(label, f, exchange) for a in allowlist)]
    assert not unexpected, (
        "\n\n".join(
            f"{label} [{', '.join(checks_of(f))}] {f.title}\n{f.message}" for f in unexpected
        )
        + f"\n\n{exchange[:2500]}"
    )
