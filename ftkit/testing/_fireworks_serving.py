"""Fireworks AI's models, deployments and chat in the fake: a LoRA serves once deployed.

- **Models** (``GET /v1/accounts/{a}/models/{id}``, ``Model``): Fireworks' base models
  under ``accounts/fireworks/models/...`` (the catalog's, readable by every account),
  and the account's fine-tuned models, which exist once their job is ``COMPLETED``: a
  LoRA (``kind: HF_PEFT_ADDON``, ``peftDetails`` naming the base model and the rank),
  ``state: READY``, ``fineTuningJob`` naming the job.
- **Deployments** (``POST /v1/accounts/{a}/deployments?deploymentId=<id>``,
  ``Deployment``): ``baseModel`` a base model or a completed fine-tuned model of the
  account (a LoRA deployed alone is Fireworks' "live merge"); ``CREATING`` for
  :data:`DEPLOYMENT_SECONDS` of virtual time (the fake's own figure), then ``READY``.
  An id already taken is 409 ``ALREADY_EXISTS``.
- **Chat** (``POST /v1/chat/completions``, ``CompletionCreateResponse`` and its chunks):
  answered by the fake's shared chat (a fine-tuned model recalls its training data).
  A base model answers as Fireworks' serverless models do; a fine-tuned model only
  through a ``READY`` deployment serving it (``model`` is its name, or
  ``<model>#<deployment>`` naming the deployment), else 404 ``Model not found,
  inaccessible, and/or not deployed``. Fireworks' inference refusals are flat
  (``{"message", "param", "code", "type": "error"}``, as a user reports one in
  warpdotdev/warp#15107), unlike the control plane's grpc envelope.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

import httpx2

from ..providers import ModelInfo
from ._chat_stream import pieces, sse_response, stream_options
from ._core import WireError
from ._fireworks_jobs import BASE_ACCOUNT, base_name, find_base, fine_tuned_job
from ._fireworks_shapes import check_id, completed_at, grpc, job_state, rfc3339
from ._job_record import JobRecord
from ._service import FakeService
from ._wire import json_response

__all__ = [
    "DEPLOYMENT_SECONDS",
    "NOT_DEPLOYED",
    "DeploymentRecord",
    "base_model_object",
    "chat",
    "create_deployment",
    "deployment_object",
    "deployments",
    "fine_tuned_model_object",
    "model_object",
]

DEPLOYMENT_SECONDS = 120.0
"""Virtual seconds a new deployment is ``CREATING`` before ``READY`` (the fake's own figure)."""
NOT_DEPLOYED = "Model not found, inaccessible, and/or not deployed"
"""Fireworks' inference answer for a model it cannot serve (warpdotdev/warp#15107)."""

_ACCELERATORS = frozenset(
    {
        "ACCELERATOR_TYPE_UNSPECIFIED",
        "NVIDIA_A100_80GB",
        "NVIDIA_H100_80GB",
        "AMD_MI300X_192GB",
        "NVIDIA_A10G_24GB",
        "NVIDIA_A100_40GB",
        "NVIDIA_L4_24GB",
        "NVIDIA_H200_141GB",
        "NVIDIA_B200_180GB",
        "AMD_MI325X_256GB",
        "AMD_MI350X_288GB",
    }
)
_DEPLOYMENT_FIELDS = frozenset(
    {
        "baseModel",
        "acceleratorCount",
        "acceleratorType",
        "activeModelVersion",
        "autoscalingPolicy",
        "autoTune",
        "deploymentShape",
        "deploymentTemplate",
        "description",
        "directRouteApiKeys",
        "directRouteType",
        "disableDeploymentSizeValidation",
        "displayName",
        "draftModel",
        "draftTokenCount",
        "enableAddons",
        "enableHotLoad",
        "enableHotReloadLatestAddon",
        "enableMtp",
        "enableSessionAffinity",
        "expireTime",
        "hotLoadBucketType",
        "hotLoadBucketUrl",
        "maxContextLength",
        "maxReplicaCount",
        "maxWithRevocableReplicaCount",
        "minReplicaCount",
        "ngramSpeculationLength",
        "placement",
        "precision",
        "pricingPlanId",
        "targetModelVersion",
    }
)
_TARGET_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


# ------------------------------------------------------------------ models
def base_model_object(info: ModelInfo) -> dict[str, Any]:
    """``Model`` of a Fireworks base model: tunable, LoRA-capable, ready."""
    body: dict[str, Any] = {
        "name": base_name(info),
        "displayName": info.name.rsplit("/", 1)[-1],
        "kind": "HF_BASE_MODEL",
        "state": "READY",
        "tunable": bool(info.methods),
        "supportsLora": True,
        "supportsServerless": True,
        "baseModelDetails": {"tunable": bool(info.methods), "worldSize": 1},
    }
    limit = info.limit("sft")
    if limit:
        body["contextLength"] = limit
    return body


def fine_tuned_model_object(job: JobRecord) -> dict[str, Any]:
    """``Model`` of a completed job's LoRA: an addon of the job's base model."""
    facts = job.options["fireworks"]
    config = facts["request"].get("trainingConfig", facts["request"])
    done = completed_at(job) or job.phase_started
    return {
        "name": facts["output_model"],
        "displayName": facts["output_model"].rsplit("/", 1)[-1],
        "kind": "HF_PEFT_ADDON",
        "state": "READY",
        "status": {"code": "OK"},
        "createTime": rfc3339(done),
        "updateTime": rfc3339(done),
        "fineTuningJob": job.id,
        "tunable": True,
        "peftDetails": {
            "baseModel": base_name(job.base),
            "r": int(config.get("loraRank") or 8),
            "targetModules": list(_TARGET_MODULES),
        },
    }


def model_object(service: FakeService, account: str, model_id: str) -> dict[str, Any]:
    """``GET accounts/{account}/models/{model_id}``: a base model or a completed LoRA.

    Raises:
        WireError: 404 ``NOT_FOUND`` for a model that does not exist (yet).
    """
    name = f"accounts/{account}/models/{model_id}"
    if account == BASE_ACCOUNT:
        found = find_base(service, name)
        if found is not None:
            return base_model_object(found[1])
    else:
        job = fine_tuned_job(service, name)
        if job is not None and job_state(job) == "JOB_STATE_COMPLETED":
            return fine_tuned_model_object(job)
    raise grpc("NOT_FOUND", f"{name} not found")


# ------------------------------------------------------------- deployments
@dataclass
class DeploymentRecord:
    """One deployment: what it serves, when it was asked for, and what the request said."""

    name: str
    base_model: str
    created_at: float
    request: dict[str, Any] = field(default_factory=dict)

    def ready(self, now: float) -> bool:
        return now >= self.created_at + DEPLOYMENT_SECONDS


_DEPLOYMENTS: weakref.WeakKeyDictionary[FakeService, dict[str, DeploymentRecord]] = (
    weakref.WeakKeyDictionary()
)


def deployments(service: FakeService) -> dict[str, DeploymentRecord]:
    """The deployments of one fake, by name (made on first use)."""
    found = _DEPLOYMENTS.get(service)
    if found is None:
        found = _DEPLOYMENTS[service] = {}
    return found


def _replicas(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise grpc("INVALID_ARGUMENT", f"{key} must be a non-negative integer (got {value!r})")
    return value


def _servable(service: FakeService, account: str, model: Any) -> str:
    """The model a deployment may serve: a base model, or a completed LoRA of the account."""
    if not isinstance(model, str) or not model:
        raise grpc("INVALID_ARGUMENT", "baseModel is required")
    if find_base(service, model) is not None:
        return model
    job = fine_tuned_job(service, model)
    if job is None or not model.startswith(f"accounts/{account}/models/"):
        raise grpc("NOT_FOUND", f"model {model} not found")
    state = job_state(job)
    if state != "JOB_STATE_COMPLETED":
        raise grpc("FAILED_PRECONDITION", f"model {model} is not ready: its job is {state}")
    return model


def create_deployment(
    service: FakeService, account: str, deployment_id: str | None, body: dict[str, Any]
) -> DeploymentRecord:
    """A new deployment ``CREATING`` (see the module's rules).

    Raises:
        WireError: 400 for a bad id or body, 404 for an unknown model, 409 for a taken id.
    """
    extra = sorted(set(body) - _DEPLOYMENT_FIELDS)
    if extra:
        raise grpc("INVALID_ARGUMENT", f'unknown field "{extra[0]}"')
    if deployment_id is None:
        deployment_id = f"d{service.core.rng.getrandbits(40):010x}"
    check_id(deployment_id, "deploymentId")
    model = _servable(service, account, body.get("baseModel"))
    low, high = _replicas(body, "minReplicaCount"), _replicas(body, "maxReplicaCount")
    if low is not None and high is not None and high < low:
        raise grpc("INVALID_ARGUMENT", "maxReplicaCount must not be below minReplicaCount")
    accelerator = body.get("acceleratorType")
    if accelerator is not None and accelerator not in _ACCELERATORS:
        raise grpc("INVALID_ARGUMENT", f"invalid acceleratorType {accelerator!r}")
    name = f"accounts/{account}/deployments/{deployment_id}"
    store = deployments(service)
    if name in store:
        raise grpc("ALREADY_EXISTS", f"{name} already exists")
    request = {key: value for key, value in body.items() if value is not None}
    record = DeploymentRecord(name, model, service.core.now(), request)
    store[name] = record
    return record


def deployment(service: FakeService, name: str) -> DeploymentRecord:
    """The deployment ``name`` (404 ``NOT_FOUND`` otherwise)."""
    found = deployments(service).get(name)
    if found is None:
        raise grpc("NOT_FOUND", f"{name} not found")
    return found


def deployment_object(record: DeploymentRecord, now: float) -> dict[str, Any]:
    """``Deployment``: the request echoed, its state and replicas as of ``now``."""
    ready = record.ready(now)
    low = int(record.request.get("minReplicaCount", 0))
    high = int(record.request.get("maxReplicaCount", max(low, 1)))
    replicas = max(low, 1) if ready else 0
    body: dict[str, Any] = {
        **record.request,
        "name": record.name,
        "baseModel": record.base_model,
        "createTime": rfc3339(record.created_at),
        "updateTime": rfc3339(record.created_at + (DEPLOYMENT_SECONDS if ready else 0)),
        "state": "READY" if ready else "CREATING",
        "status": {"code": "OK"},
        "minReplicaCount": low,
        "maxReplicaCount": high,
        "desiredReplicaCount": max(low, 1),
        "replicaCount": replicas,
        "replicaStats": {"readyReplicaCount": replicas},
    }
    return body


# -------------------------------------------------------------------- chat
def _not_deployed() -> WireError:
    return WireError(404, NOT_DEPLOYED, param="model", code="NOT_FOUND")


def _route(service: FakeService, model: str) -> str:
    """The shared chat's name for the model a request names (or 404 as Fireworks says)."""
    name, _, wanted = model.partition("#")
    now = service.core.now()
    serving = [
        d
        for d in deployments(service).values()
        if d.base_model == name and d.ready(now) and (not wanted or d.name.endswith(wanted))
    ]
    if wanted and not serving:
        raise _not_deployed()
    found = find_base(service, name)
    if found is not None:
        return found[0]
    job = fine_tuned_job(service, name)
    if job is None or job_state(job) != "JOB_STATE_COMPLETED" or not serving:
        raise _not_deployed()
    return job.fine_tuned_name


def chat(service: FakeService, body: dict[str, Any]) -> httpx2.Response:
    """``POST /v1/chat/completions`` on Fireworks' terms (see the module).

    Raises:
        WireError: 400 for a malformed request, 404 for a model not served.
    """
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise WireError(400, "model is required", param="model", code="INVALID_ARGUMENT")
    streaming = stream_options(body)
    answer = service.chat.complete({**body, "model": _route(service, model), "stream": False})
    service.core.rate_limits.tokens.spend(answer["usage"]["total_tokens"], service.core.now())
    shown = model.partition("#")[0]
    choices = [
        {
            "index": choice["index"],
            "message": {
                key: value
                for key, value in choice["message"].items()
                if key in ("role", "content", "tool_calls") and value is not None
            },
            "finish_reason": choice["finish_reason"],
        }
        for choice in answer["choices"]
    ]
    usage = {
        key: answer["usage"][key] for key in ("prompt_tokens", "completion_tokens", "total_tokens")
    }
    envelope = {"id": answer["id"], "created": answer["created"], "model": shown}
    if streaming is None:
        return json_response(
            200, {**envelope, "object": "chat.completion", "choices": choices, "usage": usage}
        )
    return sse_response(_chunks(envelope, choices, usage))


def _chunks(
    envelope: dict[str, Any], choices: list[dict[str, Any]], usage: dict[str, Any]
) -> list[dict[str, Any]]:
    """``ChatCompletionChunk``\\ s telling the answer: the role, the text in pieces, any
    tool calls whole, then the finish reason with the usage."""
    chunks: list[dict[str, Any]] = []

    def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> None:
        choice: dict[str, Any] = {"index": index, "delta": delta, "finish_reason": finish}
        chunks.append({**envelope, "object": "chat.completion.chunk", "choices": [choice]})

    for choice in choices:
        index, message = choice["index"], choice["message"]
        chunk(index, {"role": "assistant"})
        for piece in pieces(message.get("content") or ""):
            chunk(index, {"content": piece})
        if message.get("tool_calls"):
            chunk(index, {"tool_calls": message["tool_calls"]})
        chunk(index, {}, choice["finish_reason"])
    chunks[-1]["usage"] = usage
    return chunks
