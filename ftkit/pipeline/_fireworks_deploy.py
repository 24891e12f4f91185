"""Serving a Fireworks fine-tune: its dedicated deployment, created once and waited for.

A LoRA fine-tuned on Fireworks answers only on a dedicated (on-demand) deployment
("the only supported method"): one whose base model is the LoRA itself, merged
live, billed per GPU-second while a replica runs. :meth:`ftkit.RunResult.deploy`
creates it through the fireworks SDK and waits until it is ``READY``.

Exactly once, as everything on Fireworks: the deployment's id is chosen by ftkit
(:func:`deployment_id`, from the model), so an earlier deployment of the model is
found by reading that id, a create refused with 409 is one that exists, and a create
whose answer was lost is read before it is sent again. Calling it again (after a
crash, a timeout) adopts the same deployment.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import APIError, DeploymentFailed, UsageError
from .._virtual_time import on_client_time
from ..backend._program import CallOnce, Nested, Program, Retried, arun, run
from ..backend._program import Sleep as Pause
from ..polling import PollPolicy
from ..retry import RetryPolicy
from ._deploy import DEFAULT_DEPLOY_POLL, _Waiter

__all__ = ["FireworksDeployment", "deployment_id", "fireworks_deploying"]

logger = logging.getLogger("ftkit.deploy")

_UNSAFE = re.compile(r"[^a-z0-9]+")
_FAILED = frozenset({"FAILED", "DELETING", "DELETED"})

HOSTING_NOTE = (
    "billed per GPU-second while a replica runs (the rate per accelerator is on Fireworks' "
    "pricing page; ftkit records none); with min_replicas=0 it scales to zero when idle "
    "and costs nothing then, the first request after waiting for a replica to start; "
    "max_replicas x the GPUs of a replica bound the bill. Delete it when you are done"
)


def deployment_id(model: str) -> str:
    """The id ftkit deploys ``model`` under: the model's own id, made safe (63 at most).

    ``accounts/acme/models/support-bot-ftk...`` -> ``support-bot-ftk...``: the same model,
    the same deployment, so deploying again adopts it.
    """
    short = _UNSAFE.sub("-", model.rsplit("/", 1)[-1].lower()).strip("-") or "ftkit"
    if not short[0].isalpha():
        short = f"ftk-{short}"
    if len(short) <= 63:
        return short
    digest = hashlib.sha256(model.encode()).hexdigest()[:8]
    return f"{short[:54].rstrip('-')}-{digest}"


@dataclass(frozen=True)
class FireworksDeployment:
    """A Fireworks deployment serving a fine-tuned model, as last seen.

    Attributes:
        name: its resource name (``accounts/<a>/deployments/<id>``).
        model: the fine-tuned model it serves.
        state: Fireworks' word; ``READY`` once it serves.
        call_as: what chat calls pass as ``model=``: ``<model>#<deployment>``.
        min_replicas, max_replicas: its autoscaling bounds.
        accelerator_type: the GPU of a replica, when chosen.
        hosting_note: what it costs, in words.
        raw: the SDK's ``Deployment`` (not in ``repr``).
    """

    name: str
    model: str
    state: str
    call_as: str
    min_replicas: int | None
    max_replicas: int | None
    accelerator_type: str | None
    hosting_note: str = HOSTING_NOTE
    raw: Any = field(default=None, repr=False, compare=False)

    def __str__(self) -> str:
        return "\n".join(
            (
                f"deployment {self.name}: {self.state}",
                f"  model: {self.model}",
                f"  replicas: {self.min_replicas}-{self.max_replicas}"
                + (f" of {self.accelerator_type}" if self.accelerator_type else ""),
                f"  call it: model={self.call_as!r}",
                f"  hosting: {self.hosting_note}",
            )
        )

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain JSON values (``raw`` left out)."""
        return {
            "name": self.name,
            "model": self.model,
            "state": self.state,
            "call_as": self.call_as,
            "min_replicas": self.min_replicas,
            "max_replicas": self.max_replicas,
            "accelerator_type": self.accelerator_type,
            "hosting_note": self.hosting_note,
        }


def _result(model: str, raw: Any) -> FireworksDeployment:
    name = str(getattr(raw, "name", "") or "")
    return FireworksDeployment(
        name=name,
        model=model,
        state=str(getattr(raw, "state", None) or "STATE_UNSPECIFIED"),
        call_as=f"{model}#{name}",
        min_replicas=getattr(raw, "min_replica_count", None),
        max_replicas=getattr(raw, "max_replica_count", None),
        accelerator_type=getattr(raw, "accelerator_type", None),
        raw=raw,
    )


def _look(backend: Any, name: str, policy: RetryPolicy) -> Program[Any | None]:
    try:
        found = yield Retried(backend.retrieve_deployment(name), policy)
    except APIError as exc:
        if exc.status_code == 404:
            return None
        raise
    return found


def fireworks_deploying(
    backend: Any,
    model: str,
    *,
    name: str | None = None,
    min_replicas: int = 0,
    max_replicas: int = 1,
    accelerator_type: str | None = None,
    retry: RetryPolicy | int | None = None,
    poll: PollPolicy | None = None,
) -> Program[FireworksDeployment]:
    """Deploy ``model`` on ``backend`` (a ``FireworksBackend``) once, and wait until it serves.

    Raises:
        UsageError: replicas out of order, or a deployment of that id serves another model.
        DeploymentFailed: it ended ``FAILED`` or was deleted while provisioning.
        WaitTimeout: ``poll``'s deadline passed (it keeps provisioning: deploy again).
        APIError: a call failed (after the retries).
    """
    if min_replicas < 0 or max_replicas < max(min_replicas, 1):
        raise UsageError(
            f"replicas: 0 <= min_replicas <= max_replicas and max_replicas >= 1 "
            f"(got {min_replicas} and {max_replicas})"
        )
    # On a fake's client, waits and retries keep its virtual time unless told otherwise.
    policy = on_client_time(RetryPolicy.coerce(retry), backend.client)
    poll = on_client_time(poll or DEFAULT_DEPLOY_POLL, backend.client)
    clock = poll.clock or time.monotonic
    chosen = name or deployment_id(model)
    full = f"accounts/{backend.account}/deployments/{chosen}"
    current = yield from _look(backend, full, policy)
    if current is None:
        create = backend.create_deployment(
            model,
            deployment_id=chosen,
            min_replicas=min_replicas,
            max_replicas=max_replicas,
            accelerator_type=accelerator_type,
        )
        try:
            current = yield CallOnce(
                create, Nested(lambda: _look(backend, full, RetryPolicy.never())), policy
            )
        except APIError as exc:
            if exc.status_code != 409:
                raise
            current = yield from _look(backend, full, policy)
            if current is None:
                raise
        logger.info("deployment %s of %s requested", full, model)
    served = str(getattr(current, "base_model", "") or "")
    if served and served != model:
        raise UsageError(
            f"deployment {full} already serves {served}; pass another name=, or delete it first"
        )
    waiter = _Waiter(poll, started=clock(), name=full)
    while True:
        state = str(getattr(current, "state", None) or "STATE_UNSPECIFIED")
        if state == "READY":
            logger.info("deployment %s serves %s", full, model)
            return _result(model, current)
        if state in _FAILED:
            status = getattr(current, "status", None)
            raise DeploymentFailed(
                name=full,
                state=state,
                code=getattr(status, "code", None),
                message=getattr(status, "message", None) or "the deployment did not start",
                deployment=current.to_dict() if hasattr(current, "to_dict") else {},
            )
        yield Pause(waiter.observe(state, clock()), poll.sleep)
        looked = yield from _look(backend, full, policy)
        if looked is None:
            raise DeploymentFailed(
                name=full,
                state="missing",
                message="the deployment disappeared while it was provisioning",
                deployment={},
            )
        current = looked


def deploy_on_fireworks(backend: Any, model: str, **options: Any) -> FireworksDeployment:
    """Run :func:`fireworks_deploying` blocking."""
    return run(fireworks_deploying(backend, model, **options))


async def adeploy_on_fireworks(backend: Any, model: str, **options: Any) -> FireworksDeployment:
    """Run :func:`fireworks_deploying` awaited."""
    return await arun(fireworks_deploying(backend, model, **options))
