"""Cut OpenAI's OpenAPI spec down to the endpoints ``ftkit.testing``'s fake serves.

The conformance suite (``tests/testing/test_fake_conformance.py``) runs
schemathesis against the fake with this trimmed copy. Regenerate it after a new
spec is vendored::

    python tests/data/specs/trim_spec.py PATH/TO/openai/openapi.yaml \\
        tests/data/specs/openai/openapi.yaml

Kept: the paths below, every component they reach through ``$ref`` (the closure
is complete, so the file loads on its own), the error body (``ErrorResponse``),
the security schemes, and the spec's ``info``, ``servers`` and ``security``.
Dropped: every other path and component, and the ``x-oaiMeta`` blocks (code
samples for the docs site), which no validator reads.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

PATHS = (
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
)
"""The paths the fake serves (``ftkit.testing.ROUTE_NAMES``), in the spec's spelling."""
SCHEMAS = ("ErrorResponse",)
"""Components kept although no kept path references them: the error body every refusal has."""


def _strip_meta(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_meta(v) for k, v in node.items() if k != "x-oaiMeta"}
    if isinstance(node, list):
        return [_strip_meta(v) for v in node]
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


def trim(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with only :data:`PATHS` and the components they need."""
    missing = [p for p in PATHS if p not in spec["paths"]]
    if missing:
        raise SystemExit(f"paths not in the spec: {missing}")
    paths = {p: _strip_meta(spec["paths"][p]) for p in PATHS}
    components: dict[str, dict[str, Any]] = {
        "securitySchemes": dict(spec["components"]["securitySchemes"])
    }
    pending = _refs(paths) | _refs(components) | {f"#/components/schemas/{n}" for n in SCHEMAS}
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        if not ref.startswith("#/components/"):
            raise ValueError(f"$ref outside components not supported: {ref}")
        section, name = ref[len("#/components/") :].split("/", 1)
        node = _strip_meta(_lookup(spec, ref))
        components.setdefault(section, {})[name] = node
        pending |= _refs(node) - seen
    for section in components.values():
        for name in sorted(section):
            section[name] = section.pop(name)
    return {
        "openapi": spec["openapi"],
        "info": spec["info"],
        "servers": spec["servers"],
        "security": spec["security"],
        "paths": paths,
        "components": dict(sorted(components.items())),
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    source, target = (Path(a) for a in argv)
    spec = yaml.safe_load(source.read_text(encoding="utf-8"))
    header = (
        "# Trimmed from OpenAI's OpenAPI spec (MIT, see LICENSE and SOURCE beside this file)\n"
        "# by tests/data/specs/trim_spec.py; regenerate it rather than edit it.\n"
    )
    body = yaml.safe_dump(trim(spec), sort_keys=False, allow_unicode=True, width=100)
    target.write_text(header + body, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
