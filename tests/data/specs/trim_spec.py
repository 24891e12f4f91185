"""Cut a provider's OpenAPI spec down to the endpoints ``ftkit.testing``'s fake serves.

The conformance suites (``tests/testing/test_fake_conformance.py`` for OpenAI,
``tests/testing/test_fake_conformance_together.py`` for Together AI) run
schemathesis against the fake with these trimmed copies. Regenerate one after a
new spec is vendored::

    python tests/data/specs/trim_spec.py PATH/TO/openai/openapi.yaml \\
        tests/data/specs/openai/openapi.yaml
    python tests/data/specs/trim_spec.py --provider together \\
        PATH/TO/together/openapi.yaml tests/data/specs/together/openapi.yaml

Kept: the provider's paths below (:data:`PROFILES`), every component they reach
through ``$ref`` (the closure is complete, so the file loads on its own), the error
body (``ErrorResponse``, Together's ``ErrorData``), the security schemes, and the
spec's ``info``, ``servers`` and ``security``. Dropped: every other path and
component, and the code samples for the docs sites (OpenAI's ``x-oaiMeta``,
Together's ``x-codeSamples``), which no validator reads.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Profile:
    """What to keep of one provider's spec."""

    title: str
    """Whose spec it is, for the header of the trimmed copy."""
    paths: tuple[str, ...]
    """The paths the fake serves, in the spec's spelling."""
    schemas: tuple[str, ...]
    """Components kept although no kept path references them: the error body every refusal has."""
    meta: str
    """The key of the docs sites' code samples, dropped wherever it appears."""


OPENAI = Profile(
    title="OpenAI's",
    paths=(
        "/files",
        "/files/{file_id}",
        "/files/{file_id}/content",
        "/uploads",
        "/uploads/{upload_id}/parts",
        "/uploads/{upload_id}/complete",
        "/uploads/{upload_id}/cancel",
        "/fine_tuning/jobs",
        "/fine_tuning/jobs/{fine_tuning_job_id}",
        "/fine_tuning/jobs/{fine_tuning_job_id}/cancel",
        "/fine_tuning/jobs/{fine_tuning_job_id}/pause",
        "/fine_tuning/jobs/{fine_tuning_job_id}/resume",
        "/fine_tuning/jobs/{fine_tuning_job_id}/events",
        "/fine_tuning/jobs/{fine_tuning_job_id}/checkpoints",
        "/fine_tuning/checkpoints/{fine_tuned_model_checkpoint}/permissions",
        "/fine_tuning/checkpoints/{fine_tuned_model_checkpoint}/permissions/{permission_id}",
        "/models",
        "/models/{model}",
        "/chat/completions",
        "/chat/completions/{completion_id}",
        "/chat/completions/{completion_id}/messages",
    ),
    schemas=("ErrorResponse",),
    meta="x-oaiMeta",
)
"""OpenAI's paths the fake serves (``ftkit.testing.ROUTE_NAMES``)."""

TOGETHER = Profile(
    title="Together AI's",
    paths=(
        "/files",
        "/files/{id}",
        "/files/{id}/content",
        "/fine-tunes",
        "/fine-tunes/{id}",
        "/fine-tunes/{id}/cancel",
        "/fine-tunes/{id}/events",
        "/fine-tunes/{id}/checkpoints",
        "/fine-tunes/{id}/metrics",
        "/finetune/download",
        "/fine-tunes/estimate-price",
        "/fine-tunes/models/limits",
        "/chat/completions",
    ),
    schemas=("ErrorData",),
    meta="x-codeSamples",
)
"""Together AI's paths the fake serves (``ftkit.testing._together_routes.API``).

Not kept: ``/files/upload`` (a one-request upload the together SDK does not use; it
uploads through ``POST /files``, a presigned ``PUT`` and ``POST /files/{id}/preprocess``,
none of which the spec describes) and ``/fine-tunes/models/supported`` (not served).
"""

PROFILES = {"openai": OPENAI, "together": TOGETHER}


def _strip_meta(node: Any, key: str) -> Any:
    if isinstance(node, dict):
        return {k: _strip_meta(v, key) for k, v in node.items() if k != key}
    if isinstance(node, list):
        return [_strip_meta(v, key) for v in node]
    return node


def _refs(node: Any) -> set[str]:
    """Every ``#/components/...`` reference inside ``node``."""
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node)) if node else set()
    return set()


def _lookup(spec: dict[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise ValueError(f"external $ref not supported: {ref}")
    node: Any = spec
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def trim(spec: dict[str, Any], profile: Profile = OPENAI) -> dict[str, Any]:
    """The spec with only the profile's paths and the components they need."""
    missing = [p for p in profile.paths if p not in spec["paths"]]
    if missing:
        raise SystemExit(f"paths not in the spec: {missing}")
    paths = {p: _strip_meta(spec["paths"][p], profile.meta) for p in profile.paths}
    components: dict[str, dict[str, Any]] = {
        "securitySchemes": dict(spec["components"]["securitySchemes"])
    }
    kept = {f"#/components/schemas/{name}" for name in profile.schemas}
    pending = _refs(paths) | _refs(components) | kept
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        if not ref.startswith("#/components/"):
            raise ValueError(f"$ref outside components not supported: {ref}")
        section, name = ref[len("#/components/") :].split("/", 1)
        node = _strip_meta(_lookup(spec, ref), profile.meta)
        components.setdefault(section, {})[name] = node
        pending |= _refs(node) - seen
    for kind in components.values():
        for name in sorted(kind):
            kind[name] = kind.pop(name)
    return {
        "openapi": spec["openapi"],
        "info": spec["info"],
        "servers": spec["servers"],
        "security": spec["security"],
        "paths": paths,
        "components": dict(sorted(components.items())),
    }


def main(argv: list[str]) -> int:
    name = "openai"
    if argv[:1] == ["--provider"] and len(argv) > 1:
        name, argv = argv[1], argv[2:]
    if len(argv) != 2 or name not in PROFILES:
        print(__doc__, file=sys.stderr)
        return 2
    profile = PROFILES[name]
    source, target = (Path(a) for a in argv)
    spec = yaml.safe_load(source.read_text(encoding="utf-8"))
    header = (
        f"# Trimmed from {profile.title} OpenAPI spec (MIT, see LICENSE and SOURCE beside this"
        " file)\n# by tests/data/specs/trim_spec.py; regenerate it rather than edit it.\n"
    )
    body = yaml.safe_dump(trim(spec, profile), sort_keys=False, allow_unicode=True, width=100)
    target.write_text(header + body, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
