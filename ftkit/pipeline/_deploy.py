"""Deploying a fine-tuned Azure model: one ARM ``PUT``, then waiting until it serves.

On Azure a fine-tuned model answers nothing until it is *deployed*: a resource
``.../accounts/{account}/deployments/{name}`` on the management plane (ARM),
billed by the hour while it exists. :func:`deploy_model` (and
:meth:`ftkit.RunResult.deploy`) creates one and waits for it:

1. ``GET`` the deployment. One serving *another* model is never replaced (ARM's
   ``PUT`` would swap the model under whoever calls it): a
   :class:`~ftkit.UsageError` says so. One serving this model is adopted, so a
   re-run after a crash or a timeout waits for it instead of making another.
2. ``PUT`` it when it is missing, failed, or asked for with another SKU or
   capacity. ARM's ``PUT`` is create-or-update *by name*: a ``PUT`` retried after
   a lost answer lands on the same deployment, so retrying can never create a
   second one. The default name comes from the fine-tuned model
   (:func:`deployment_name`), so the same model always gets the same deployment.
3. ``GET`` it until ``properties.provisioningState`` is ``Succeeded``; ``Failed``
   or ``Canceled`` raise :class:`~ftkit.DeploymentFailed` with ARM's error code
   and message, and a :class:`~ftkit.PollPolicy`'s deadline
   :class:`~ftkit.WaitTimeout` (the deployment keeps provisioning; deploying
   again adopts it).

Every request goes through a :class:`~ftkit.RetryPolicy` (429, 5xx and
connection failures are retried, ``Retry-After`` honoured). It is all one
sans-IO program (:func:`deploying`), performed blocking over an
``httpx.Client`` by :func:`deploy_model` or awaited over an
``httpx.AsyncClient`` by :func:`adeploy_model`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .._exceptions import APIError, DeploymentFailed, UsageError, WaitTimeout
from .._twins import parameters_of
from .._virtual_time import on_client_time
from ..backend._arm import (
    ARM_API_VERSION,
    ARM_ENDPOINT,
    ARM_TIMEOUT_SECONDS,
    DEVELOPER_SKU,
    ArmRequest,
    ArmResponse,
    TokenSource,
    model_format,
    same_origin,
    sku_word,
    token_source,
)
from ..backend._program import Operation, Program, Retried, Sleep, arun, run
from ..polling import PollPolicy
from ..retry import RetryPolicy

if TYPE_CHECKING:
    import httpx

__all__ = [
    "DEFAULT_DEPLOY_POLL",
    "Deployment",
    "DeploymentSpec",
    "adeploy_model",
    "deploy_model",
    "deploying",
    "deployment_name",
]

logger = logging.getLogger("ftkit.pipeline")

# --------------------------------------------------------------------------- the facts, as data

_CAPACITY = {DEVELOPER_SKU: 50}
"""Capacity (thousands of tokens per minute) by SKU where it is not :data:`_DEFAULT_CAPACITY`:
the Developer tier's is Learn's example."""
_DEFAULT_CAPACITY = 100
"""Microsoft's fine-tuning skill deploys with 100 and warns that capacity 1 (Learn's
example) gives about one request a minute and "Failed to load LoRA" errors. Capacity is a
rate limit drawn from the account's quota, not a price: the hosting fee is per hour."""

_API_VERSIONS = {DEVELOPER_SKU: "2025-07-01-preview"}
"""The ``api-version`` per SKU where Learn's example uses another than :data:`ARM_API_VERSION`."""

_SUCCESS = frozenset({"succeeded"})
_FAILURE = frozenset({"failed", "canceled", "cancelled", "disabled", "deleting"})
"""``provisioningState`` words (ARM's ``DeploymentProvisioningState``: Accepted, Creating,
Deleting, Disabled, Failed, Moving, Succeeded, Canceled) that end a wait; the rest, and
words this version does not know, keep waiting."""

DEFAULT_DEPLOY_POLL = PollPolicy(
    initial_delay=10.0, multiplier=1.5, max_delay=30.0, deadline=1800.0
)
"""Look after 10 s, then less often up to every 30 s, for 30 minutes. Microsoft's script
looks every 15 s and gives up after 10 minutes; a wait that times out leaves the deployment
provisioning, and deploying again adopts it."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_SEGMENT = re.compile(r"[^/?#\s]+")


def deployment_name(model: str) -> str:
    """The default deployment name of a fine-tuned model: the same model, the same name.

    Letters and digits of the model id, runs of anything else turned into one
    ``-``, at most 64 characters (a longer one keeps its first 55 and a digest of
    the whole id, so two long ids never share a name)::

        gpt-4.1-mini-2025-04-14.ft-0ee45c42591b4f4a8bd4f49ef2301dcd
        -> gpt-4-1-mini-2025-04-14-ft-0ee45c42591b4f4a8bd4f49ef2301dcd
    """
    text = re.sub(r"[^A-Za-z0-9]+", "-", model).strip("-") or "ftkit"
    if len(text) <= 64:
        return text
    digest = hashlib.sha256(model.encode("utf-8")).hexdigest()[:8]
    return f"{text[:55].rstrip('-')}-{digest}"


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class Deployment:
    """A deployment of a fine-tuned model on Azure, as ARM last reported it.

    Attributes:
        name: the deployment's name: what inference calls pass as ``model=``.
        id: its ARM resource id.
        model: the fine-tuned model it serves.
        sku: the deployment type (``Standard``, ``GlobalStandard``, ``developertier``...).
        capacity: its rate limit, in thousands of tokens per minute (taken from quota).
        provisioning_state: ARM's word; ``Succeeded`` once it serves.
        format: ARM's ``model.format`` (``OpenAI``, or an open-source model's publisher).
        endpoint_hint: where to call it: the account's usual endpoint (``https://<account>.
            openai.azure.com/openai/v1/`` for OpenAI models); the portal shows the exact one.
        hosting_per_hour: the hosting fee in USD per hour while it exists, ``0.0`` on the
            Developer tier, ``None`` when ftkit's model catalog does not know it.
        hosting_note: the fee in words, with the rules that make it matter.
        raw: ARM's last JSON for it (not in ``repr``).
    """

    name: str
    id: str | None
    model: str
    sku: str
    capacity: int | None
    provisioning_state: str
    format: str
    endpoint_hint: str
    hosting_per_hour: float | None
    hosting_note: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __repr__(self) -> str:
        return (
            f"Deployment(name={self.name!r}, model={self.model!r}, sku={self.sku!r}, "
            f"capacity={self.capacity!r}, provisioning_state={self.provisioning_state!r}, "
            f"hosting_per_hour={self.hosting_per_hour!r})"
        )

    def __str__(self) -> str:
        return "\n".join(
            (
                f"deployment {self.name}: {self.provisioning_state}",
                f"  model: {self.model} (format {self.format})",
                f"  sku: {self.sku}, capacity {self.capacity} (thousand tokens per minute)",
                f"  id: {self.id}",
                f"  call it: model={self.name!r} at {self.endpoint_hint}",
                f"  hosting: {self.hosting_note}",
            )
        )

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain JSON values (``raw`` left out)."""
        return {
            "name": self.name,
            "id": self.id,
            "model": self.model,
            "sku": self.sku,
            "capacity": self.capacity,
            "provisioning_state": self.provisioning_state,
            "format": self.format,
            "endpoint_hint": self.endpoint_hint,
            "hosting_per_hour": self.hosting_per_hour,
            "hosting_note": self.hosting_note,
        }


_IDLE_RULE = (
    "a deployment is billed while it exists, used or not, and Azure deletes one that has "
    "been inactive for 15 days; delete it when you are done"
)


def _hosting(base_model: str, sku: str) -> tuple[float | None, str]:
    """The hourly fee and its note: the Developer tier's none, else the catalog's or unknown."""
    if sku == DEVELOPER_SKU:
        return 0.0, (
            "none (Developer tier: per-token charges only, no SLA); Azure deletes the "
            "deployment 24 hours after it was created, used or not"
        )
    from ..providers import find_model

    info = find_model(base_model, "azure")
    fee = info.hosting_per_hour if info is not None else None
    if fee is not None:
        return float(fee), f"${fee:.2f} per hour while it exists; {_IDLE_RULE}"
    return None, (
        f"unknown: ftkit's catalog has no Azure hosting price for fine-tunes of {base_model} "
        "(Azure's pricing page has it; record it as hosting_per_hour in a catalog file of "
        f"your own, FTKIT_MODELS); {_IDLE_RULE}"
    )


# --------------------------------------------------------------------------- what to deploy


@dataclass(frozen=True)
class DeploymentSpec:
    """What to deploy where, checked; the ARM URL and the ``PUT`` body come from it.

    ``sku`` and ``capacity`` are ``None`` when the caller left them to the defaults:
    an existing deployment of the model is then adopted as it is.
    """

    model: str
    base_model: str
    subscription: str
    resource_group: str
    account: str
    name: str
    sku: str | None = None
    capacity: int | None = None
    endpoint: str = ARM_ENDPOINT

    @classmethod
    def of(cls, arguments: Mapping[str, Any]) -> DeploymentSpec:
        """The spec of :func:`deploy_model`'s arguments (bound by name), every one checked.

        It reads those that say what to deploy where: ``model``, ``subscription``,
        ``resource_group``, ``account``, ``name``, ``sku``, ``capacity``,
        ``base_model`` and ``arm_endpoint`` (the others are the drivers').

        Raises:
            UsageError: an empty or malformed value, naming it.
        """
        from ..providers import base_model as base_of

        model = arguments["model"]
        if not isinstance(model, str) or not model.strip():
            raise UsageError("model must be the fine-tuned model's id, a non-empty string")
        model = model.strip()
        where = {what: arguments[what] for what in ("subscription", "resource_group", "account")}
        for what, value in where.items():
            if not isinstance(value, str) or not _SEGMENT.fullmatch(value):
                raise UsageError(
                    f"{what} must be a non-empty name without '/', '?', '#' or spaces, "
                    f"got {value!r}"
                )
        name = arguments["name"]
        if name is None:
            name = deployment_name(model)
        elif not isinstance(name, str) or not _NAME.fullmatch(name):
            raise UsageError(
                "name must be 1-64 letters, digits, '-', '_' or '.', starting with a letter "
                f"or digit, got {name!r}"
            )
        sku = arguments["sku"]
        if sku is not None:
            if not isinstance(sku, str) or not sku.strip():
                raise UsageError(f"sku must be a deployment type such as 'Standard', got {sku!r}")
            sku = sku_word(sku.strip())
        capacity = arguments["capacity"]
        if capacity is not None and (
            isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1
        ):
            raise UsageError(f"capacity must be a whole number >= 1, got {capacity!r}")
        arm_endpoint = arguments["arm_endpoint"]
        endpoint = (arm_endpoint or ARM_ENDPOINT).rstrip("/")
        if not endpoint.startswith(("https://", "http://")):
            raise UsageError(f"arm_endpoint must be an http(s) URL, got {arm_endpoint!r}")
        return cls(
            model=model,
            base_model=arguments["base_model"] or base_of(model),
            **where,
            name=name,
            sku=sku,
            capacity=capacity,
            endpoint=endpoint,
        )

    @property
    def format(self) -> str:
        """ARM's ``model.format`` (:data:`ftkit.backend._arm.OPEN_SOURCE_FORMATS`)."""
        return model_format(self.base_model)

    @property
    def default_sku(self) -> str:
        return "Standard" if self.format == "OpenAI" else "GlobalStandard"

    def url(self, sku: str) -> str:
        """The deployment's ARM URL (its ``api-version`` depends on the SKU)."""
        path = "/".join(
            (
                "subscriptions",
                quote(self.subscription, safe=""),
                "resourceGroups",
                quote(self.resource_group, safe=""),
                "providers/Microsoft.CognitiveServices/accounts",
                quote(self.account, safe=""),
                "deployments",
                quote(self.name, safe=""),
            )
        )
        version = _API_VERSIONS.get(sku, ARM_API_VERSION)
        return f"{self.endpoint}/{path}?api-version={version}"

    def wanted(self, existing: dict[str, Any] | None) -> tuple[str, int]:
        """The SKU and capacity to ask for: the caller's, else the existing one's, else defaults."""
        current = _sku_of(existing) if existing is not None else {}
        sku = self.sku or current.get("name") or self.default_sku
        sku = sku_word(str(sku))
        capacity = self.capacity or current.get("capacity")
        if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
            capacity = _CAPACITY.get(sku, _DEFAULT_CAPACITY)
        return sku, capacity

    def body(self, sku: str, capacity: int) -> dict[str, Any]:
        """The ``PUT`` body: the SKU, and the model by its id, verbatim."""
        return {
            "sku": {"name": sku, "capacity": capacity},
            "properties": {"model": {"format": self.format, "name": self.model, "version": "1"}},
        }

    @property
    def endpoint_hint(self) -> str:
        if self.format == "OpenAI":
            return f"https://{self.account}.openai.azure.com/openai/v1/"
        return f"https://{self.account}.cognitiveservices.azure.com/openai/v1/"


def _sku_of(deployment: dict[str, Any]) -> dict[str, Any]:
    sku = deployment.get("sku")
    return sku if isinstance(sku, dict) else {}


def _properties(deployment: dict[str, Any]) -> dict[str, Any]:
    properties = deployment.get("properties")
    return properties if isinstance(properties, dict) else {}


def _served_model(deployment: dict[str, Any]) -> str | None:
    model = _properties(deployment).get("model")
    name = model.get("name") if isinstance(model, dict) else None
    return name if isinstance(name, str) else None


def _state(deployment: dict[str, Any]) -> str:
    state = _properties(deployment).get("provisioningState")
    return state if isinstance(state, str) and state else "Unknown"


def _needs_put(spec: DeploymentSpec, existing: dict[str, Any] | None) -> bool:
    """Whether to send the ``PUT``: nothing to adopt, a failed one, or another SKU/capacity."""
    if existing is None or _state(existing).casefold() in _FAILURE:
        return True
    current = _sku_of(existing)
    if spec.sku is not None and str(current.get("name", "")).casefold() != spec.sku.casefold():
        return True
    return spec.capacity is not None and current.get("capacity") != spec.capacity


def _result(spec: DeploymentSpec, deployment: dict[str, Any]) -> Deployment:
    sku, capacity = spec.wanted(deployment)
    fee, note = _hosting(spec.base_model, sku)
    raw_id = deployment.get("id")
    return Deployment(
        name=spec.name,
        id=raw_id if isinstance(raw_id, str) else None,
        model=_served_model(deployment) or spec.model,
        sku=sku,
        capacity=capacity,
        provisioning_state=_state(deployment),
        format=spec.format,
        endpoint_hint=spec.endpoint_hint,
        hosting_per_hour=fee,
        hosting_note=note,
        raw=deployment,
    )


# --------------------------------------------------------------------------- the program

Send = Callable[..., Operation]
"""``send(method, url, body=None)``: the operation that performs one ARM request."""


class _Waiter:
    """After each look at the deployment: how long until the next (the poll policy's timing)."""

    def __init__(self, policy: PollPolicy, *, started: float, name: str) -> None:
        self.policy = policy
        self.started = started
        self.name = name
        self.last: str | None = None
        self._streak = 0

    def observe(self, state: str, now: float) -> float:
        if state != self.last:
            if self.last is not None:
                logger.info("deployment %s: %s -> %s", self.name, self.last, state)
            self._streak = 0
        self.last = state
        policy = self.policy
        delay = min(
            policy.initial_delay * policy.multiplier ** min(self._streak, 100), policy.max_delay
        )
        self._streak += 1
        if policy.deadline is not None:
            remaining = policy.deadline - (now - self.started)
            if remaining <= 0:
                raise WaitTimeout(
                    f"stopped waiting for deployment {self.name} after {now - self.started:.0f}s "
                    f"(last state: {state}); it keeps provisioning: deploy again to "
                    "adopt it and wait",
                    job_id=self.name,
                    last_status=state,
                )
            delay = min(delay, remaining)
        return delay


def deploying(
    spec: DeploymentSpec, send: Send, *, retry: RetryPolicy, poll: PollPolicy
) -> Program[Deployment]:
    """Every decision of :func:`deploy_model` and :func:`adeploy_model`, sans-IO.

    Raises:
        UsageError: a deployment of that name serves another model.
        DeploymentFailed: provisioning ended ``Failed``/``Canceled``/``Disabled``, or
            the deployment vanished while provisioning.
        WaitTimeout: the poll policy's deadline passed (it keeps provisioning).
        APIError: an ARM call failed (after the retries).
    """
    clock = poll.clock or time.monotonic
    url = spec.url(spec.wanted(None)[0])
    existing = yield from _look(url, send, retry)
    if existing is not None:
        served = _served_model(existing)
        if served is not None and served.casefold() != spec.model.casefold():
            raise UsageError(
                f"deployment {spec.name} on account {spec.account} already serves {served}; "
                f"deploying {spec.model} there would replace it: pass another name=, or "
                "delete that deployment first"
            )
    operation: str | None = None
    if _needs_put(spec, existing):
        sku, capacity = spec.wanted(existing)
        url = spec.url(sku)
        answer: ArmResponse = yield Retried(send("PUT", url, spec.body(sku, capacity)), retry)
        current = answer.body or {}
        operation = answer.headers.get("azure-asyncoperation")
        logger.info(
            "deployment %s of %s requested (%s, capacity %d): %s",
            spec.name,
            spec.model,
            sku,
            capacity,
            _state(current),
        )
    else:
        assert existing is not None
        current = existing
        logger.info("adopting deployment %s of %s (%s)", spec.name, spec.model, _state(current))
    waiter = _Waiter(poll, started=clock(), name=spec.name)
    while True:
        state = _state(current)
        if state.casefold() in _SUCCESS:
            logger.info("deployment %s serves %s", spec.name, spec.model)
            return _result(spec, current)
        if state.casefold() in _FAILURE:
            raise (yield from _failure(spec, send, retry, current, operation))
        delay = waiter.observe(state, clock())
        yield Sleep(delay, poll.sleep)
        looked = yield from _look(url, send, retry)
        if looked is None:
            raise DeploymentFailed(
                name=spec.name,
                state="missing",
                message="the deployment disappeared while it was provisioning",
                deployment=current,
            )
        current = looked


def _look(url: str, send: Send, retry: RetryPolicy) -> Program[dict[str, Any] | None]:
    """The deployment as ARM has it now, or ``None`` (404)."""
    try:
        answer: ArmResponse = yield Retried(send("GET", url), retry)
    except APIError as exc:
        if exc.status_code == 404:
            return None
        raise
    return answer.body or {}


def _failure(
    spec: DeploymentSpec,
    send: Send,
    retry: RetryPolicy,
    deployment: dict[str, Any],
    operation: str | None,
) -> Program[DeploymentFailed]:
    """The error of a failed deployment, with ARM's reason when its async operation gives one.

    The deployment resource has no error field; the ``Azure-AsyncOperation`` URL of
    the ``PUT`` does. It is followed only on the ARM endpoint's origin (the token
    goes nowhere else), and a failure to read it costs only the reason.
    """
    code: str | None = None
    message: str | None = None
    if operation and same_origin(operation, spec.endpoint):
        try:
            status: ArmResponse = yield Retried(send("GET", operation), retry)
            error = (status.body or {}).get("error")
            if isinstance(error, dict):
                code = str(error["code"]) if error.get("code") else None
                message = str(error["message"]) if error.get("message") else None
        except APIError as exc:
            logger.warning("could not read why deployment %s failed: %s", spec.name, exc)
    return DeploymentFailed(
        name=spec.name, state=_state(deployment), code=code, message=message, deployment=deployment
    )


# --------------------------------------------------------------------------- the drivers


def _policies(
    retry: RetryPolicy | int | None, poll: PollPolicy | None, http_client: object
) -> tuple[RetryPolicy, PollPolicy]:
    # A fake's client carries its virtual clock: both policies wait on it unless told otherwise.
    return (
        on_client_time(RetryPolicy.coerce(retry), http_client),
        on_client_time(poll or DEFAULT_DEPLOY_POLL, http_client),
    )


def _sender(client: Any, token: TokenSource) -> Send:
    def send(method: str, url: str, body: dict[str, Any] | None = None) -> Operation:
        return ArmRequest(method, url, client, token, body)

    return send


@contextlib.contextmanager
def _sync_client(given: httpx.Client | httpx.AsyncClient | None) -> Iterator[httpx.Client]:
    import httpx  # a dependency, imported only here: ``import ftkit`` does not load it

    if given is None:
        with httpx.Client(timeout=ARM_TIMEOUT_SECONDS) as client:
            yield client
        return
    if not isinstance(given, httpx.Client):
        raise UsageError(
            f"http_client must be an httpx.Client here, got {type(given).__name__} "
            "(an httpx.AsyncClient needs adeploy())"
        )
    yield given


@contextlib.asynccontextmanager
async def _async_client(
    given: httpx.Client | httpx.AsyncClient | None,
) -> AsyncIterator[httpx.AsyncClient]:
    import httpx

    if given is None:
        async with httpx.AsyncClient(timeout=ARM_TIMEOUT_SECONDS) as client:
            yield client
        return
    if not isinstance(given, httpx.AsyncClient):
        raise UsageError(
            f"http_client must be an httpx.AsyncClient here, got {type(given).__name__} "
            "(an httpx.Client needs deploy())"
        )
    yield given


def deploy_model(
    model: str,
    *,
    subscription: str,
    resource_group: str,
    account: str,
    name: str | None = None,
    sku: str | None = None,
    capacity: int | None = None,
    base_model: str | None = None,
    token: TokenSource | None = None,
    retry: RetryPolicy | int | None = None,
    poll: PollPolicy | None = None,
    http_client: httpx.Client | httpx.AsyncClient | None = None,
    arm_endpoint: str | None = None,
) -> Deployment:
    """Deploy a fine-tuned Azure model and wait until it serves (see the module's steps).

    ARM's ``PUT`` is idempotent by deployment name: a retried ``PUT`` updates the
    deployment it created instead of creating a second one, and deploying the same
    model again (same default name) adopts the existing deployment.

    Args:
        model: the fine-tuned model's id, verbatim (``<base>.ft-<id>``).
        subscription: the Azure subscription id.
        resource_group: the resource group of the Azure OpenAI / Foundry account.
        account: the account (resource) name.
        name: the deployment's name (1-64 characters); default :func:`deployment_name`.
        sku: the deployment type: ``Standard`` (default for OpenAI models),
            ``GlobalStandard`` (default, and the only one, for open-source models),
            ``developer`` (``developertier``: GPT-4.1 family, no hosting fee, 24 hours).
        capacity: thousands of tokens per minute, from quota (default 100; Developer 50).
        base_model: the model it was trained from, for the format, the SKU and the
            hosting price (default: read from ``model``).
        token: returns an ARM bearer token; called before every request, so it may
            refresh. Default: azure-identity's ``DefaultAzureCredential`` (the ``azure``
            extra). Never logged or shown.
        retry: the per-request retry policy (or max attempts).
        poll: how often and how long to wait (default :data:`DEFAULT_DEPLOY_POLL`;
            only its timing is used).
        http_client: the ``httpx.Client`` to send with (proxies, a test transport;
            an ``httpx.AsyncClient`` for :func:`adeploy_model`); default one of ftkit's
            own, closed afterwards.
        arm_endpoint: the management endpoint (default ``https://management.azure.com``).

    Returns:
        The :class:`Deployment`, ``provisioning_state == "Succeeded"``.

    Raises:
        UsageError: a malformed argument; the name serves another model.
        MissingExtra: without ``token``, azure-identity is not installed.
        DeploymentFailed: provisioning failed or was cancelled.
        WaitTimeout: ``poll``'s deadline passed; the deployment keeps provisioning.
        APIError: an ARM call failed (401 token, 403 role, 400 quota...).
    """
    spec, source, retry_policy, poll_policy = _prepared(locals())
    with _sync_client(http_client) as client:
        program = deploying(spec, _sender(client, source), retry=retry_policy, poll=poll_policy)
        return run(program)


@parameters_of(deploy_model)
async def adeploy_model(**arguments: Any) -> Deployment:
    """The awaitable twin of :func:`deploy_model`, over an ``httpx.AsyncClient``.

    ``token`` may be a coroutine function; a blocking one runs in a thread.
    """
    spec, source, retry_policy, poll_policy = _prepared(arguments)
    async with _async_client(arguments["http_client"]) as client:
        program = deploying(spec, _sender(client, source), retry=retry_policy, poll=poll_policy)
        return await arun(program)


def _prepared(
    arguments: dict[str, Any],
) -> tuple[DeploymentSpec, Any, RetryPolicy, PollPolicy]:
    """What :func:`deploy_model`'s arguments mean: the spec, the token source, the policies."""
    spec = DeploymentSpec.of(arguments)
    policies = _policies(arguments["retry"], arguments["poll"], arguments["http_client"])
    return (spec, token_source(arguments["token"]), *policies)
