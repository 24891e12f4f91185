"""The fake's management plane (ARM): deployments of its own fine-tuned models.

On Azure a fine-tuned model serves once it is *deployed*, and deployments live on
Azure Resource Manager, not on the data plane::

    PUT|GET|DELETE /subscriptions/{s}/resourceGroups/{rg}/providers/
                   Microsoft.CognitiveServices/accounts/{a}/deployments/{name}?api-version=...
    GET            .../accounts/{a}/deployments?api-version=...

:class:`FakeARM` (``fake.arm``) answers these for one
:class:`~ftkit.testing.FakeFineTuningAPI`, behind the same front door as its other
paths (so its loopback server answers them too), on the same virtual clock, with
the fake's fault script and request log:

- a new deployment is ``Accepted``, then ``Creating``, then ``Succeeded``
  (:attr:`FakeARM.accepted_seconds`, :attr:`FakeARM.creating_seconds`), or
  ``Failed`` after :meth:`FakeARM.fail_next`; the ``PUT`` answers 201 with an
  ``Azure-AsyncOperation`` URL whose status says the same, with the error;
- the model must be a fine-tuned model of this fake (from a succeeded job), else
  400 ``DeploymentModelNotSupported`` (ARM's answer to a model it cannot deploy);
  its ``format`` must be ARM's for it (``OpenAI``); the SKU one ARM knows (the
  Developer tier for the GPT-4.1 family only) and the capacity within the account's
  quota (:attr:`FakeARM.quota`; 400 ``InsufficientQuota``), else 400
  ``InvalidResourceProperties``;
- a bearer token is required: 401 ``AuthenticationFailed`` without one,
  ``InvalidAuthenticationToken`` for one outside :attr:`FakeARM.tokens`; and an
  ``api-version`` (400 ``MissingApiVersionParameter``);
- a ``PUT`` is create-or-update by name: the same body again answers 200 and
  changes nothing, so a retried ``PUT`` never makes a second deployment;
- a Developer-tier deployment is deleted 24 virtual hours after it was created.

Route names, for ``fake.faults.inject(...)`` and ``fake.calls(...)``:
``deployments.create`` (the ``PUT``), ``deployments.retrieve``,
``deployments.delete``, ``deployments.list`` and ``deployments.operation`` (the
async-operation status). Every error has ARM's shape, ``{"error": {"code",
"message"}}``, scripted faults included. The 15-day deletion of an idle
deployment is not simulated (the fake's chat is not called by deployment name).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx2

from .._virtual_time import CLIENT_CLOCK_ATTRIBUTE
from ..backend._arm import ARM_SKUS, DEVELOPER_SKU, DEVELOPER_TIER_MODELS, model_format
from ..providers import base_model
from ._core import Core, WireError
from ._faults import FaultScript, strike
from ._recording import RecordedRequest, record
from ._service import FakeService
from ._wire import json_response

if TYPE_CHECKING:
    import httpx

__all__ = ["ARM_ROUTE_NAMES", "FakeARM", "is_arm_path"]

log = logging.getLogger("ftkit.testing")

_ACCOUNT = (
    r"/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<group>[^/]+)"
    r"/providers/Microsoft\.CognitiveServices/accounts/(?P<account>[^/]+)/deployments"
)
_ROUTES: tuple[tuple[str, str, re.Pattern[str]], ...] = tuple(
    (name, method, re.compile(f"^{pattern}$", re.IGNORECASE))  # ARM paths ignore case
    for name, method, pattern in (
        ("deployments.list", "GET", _ACCOUNT + "/?"),
        ("deployments.create", "PUT", _ACCOUNT + "/(?P<name>[^/]+)"),
        ("deployments.retrieve", "GET", _ACCOUNT + "/(?P<name>[^/]+)"),
        ("deployments.delete", "DELETE", _ACCOUNT + "/(?P<name>[^/]+)"),
        (
            "deployments.operation",
            "GET",
            r"/subscriptions/(?P<subscription>[^/]+)/providers/Microsoft\.CognitiveServices"
            r"/locations/(?P<location>[^/]+)/operationStatuses/(?P<operation>[^/]+)",
        ),
    )
)
ARM_ROUTE_NAMES: tuple[str, ...] = tuple(dict.fromkeys(name for name, _, _ in _ROUTES))
"""The management-plane routes, by the names faults target."""

_LOCATION = "fakeregion"
_DEVELOPER_LIFETIME = 24 * 3600.0
_STATUS_CODES = {
    400: "BadRequest",
    401: "AuthenticationFailed",
    403: "AuthorizationFailed",
    404: "NotFound",
    409: "Conflict",
    422: "UnprocessableEntity",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}
_KNOWN_SKUS = frozenset(word.casefold() for word in ARM_SKUS.values())


def is_arm_path(path: str) -> bool:
    """Whether a request path is the management plane's (``/subscriptions/...``)."""
    return path.lower().startswith("/subscriptions/")


class ArmError(WireError):
    """A refusal in ARM's words: ``{"error": {"code", "message"}}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(status, message, code=code)


def _body(error: WireError) -> dict[str, Any]:
    # ARM's codes are PascalCase words; a data-plane fault's snake_case code is replaced
    # by the status's ARM word (its message, and its Retry-After, are kept).
    code = error.code if error.code and error.code[:1].isupper() else None
    return {
        "error": {
            "code": code or _STATUS_CODES.get(error.status, "BadRequest"),
            "message": error.message,
        }
    }


@dataclass
class _Deployment:
    """One deployment and when its current provisioning began."""

    subscription: str
    group: str
    account: str
    name: str
    model: dict[str, Any]
    sku: dict[str, Any]
    created_at: float
    since: float
    operation: str
    failure: tuple[str, str] | None = None

    @property
    def id(self) -> str:
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.group}/providers/"
            f"Microsoft.CognitiveServices/accounts/{self.account}/deployments/{self.name}"
        )


class FakeARM:
    """The deployments of one fake, as Azure Resource Manager serves them (``fake.arm``).

    Attributes:
        accepted_seconds: virtual seconds a new deployment stays ``Accepted``.
        creating_seconds: virtual seconds it then stays ``Creating`` (0 and 0: a ``PUT``
            answers ``Succeeded`` at once).
        quota: capacity (thousands of tokens per minute) one account may deploy in all.
        tokens: the only bearer tokens accepted, or ``None`` for any non-empty one.
    """

    def __init__(
        self,
        core: Core,
        service: FakeService,
        *,
        faults: FaultScript,
        log: list[RecordedRequest],
        front_door: Callable[[httpx2.Request], httpx2.Response],
    ) -> None:
        self._core = core
        self._service = service
        self._faults = faults
        self._log = log
        self._front_door = front_door
        self._deployments: dict[tuple[str, str, str, str], _Deployment] = {}
        self._operations: dict[str, tuple[str, str, str, str]] = {}
        self._fail_next: list[tuple[str, str]] = []
        self._client_classes: dict[str, type[Any]] = {}
        self.accepted_seconds = 20.0
        self.creating_seconds = 280.0
        self.quota = 1000
        self.tokens: tuple[str, ...] | None = None
        service.chat.deployments = self.serving  # chat reaches what ARM deployed

    # ------------------------------------------------------------------ ways in
    def handle(self, request: httpx2.Request, *, advance: float = 0.0) -> httpx2.Response:
        """Answer one management-plane request (the fake's front door calls this)."""
        with self._core.lock:
            arrived = self._core.now()
            name: str | None = None
            kind: str | None = None
            status: int | None = None
            try:
                try:
                    if advance:
                        self._core.clock.advance(advance)
                    name, params = self._match(request.method, request.url.path)
                    self._check(request)
                    fault = self._faults.take(name)
                    kind = fault.kind if fault else None

                    def answer() -> httpx2.Response:
                        return self._answer(str(name), params, request)

                    response = (
                        answer()
                        if fault is None
                        else strike(fault, request, answer, self._core.clock)
                    )
                except WireError as exc:
                    response = json_response(exc.status, _body(exc), headers=exc.headers)
                status = response.status_code
            finally:
                self._log.append(
                    record(request, route=name, status=status, fault=kind, at=arrived, azure=True)
                )
            response.headers["x-ms-request-id"] = self._core.new_id("", 32).lower()
            return response

    def transport(self) -> httpx.MockTransport:
        """An ``httpx`` transport answering through this fake (for ``httpx.Client(transport=)``).

        Any host reaches the fake, so ``https://management.azure.com`` URLs work as they are.
        """
        import httpx

        front_door = self._front_door

        def handler(request: httpx.Request) -> httpx.Response:
            inner = httpx2.Request(
                request.method,
                str(request.url),
                headers=list(request.headers.multi_items()),
                content=request.content,
                extensions={k: v for k, v in request.extensions.items() if k == "timeout"},
            )
            try:
                answer = front_door(inner)
            except httpx2.TimeoutException as exc:
                raise httpx.ReadTimeout(str(exc), request=request) from None
            except httpx2.TransportError as exc:
                raise httpx.ConnectError(str(exc), request=request) from None
            return httpx.Response(
                answer.status_code,
                headers=list(answer.headers.multi_items()),
                content=answer.content,
            )

        return httpx.MockTransport(handler)

    def client(self, **options: Any) -> httpx.Client:
        """An ``httpx.Client`` on :meth:`transport`, on the fake's virtual clock.

        ftkit's deployment waits and retries sleep on that clock when given it as
        ``http_client=`` (``result.deploy(..., http_client=fake.arm.client())``).
        """
        return self._client_class("Client")(transport=self.transport(), **options)  # type: ignore[no-any-return]

    def async_client(self, **options: Any) -> httpx.AsyncClient:
        """The ``httpx.AsyncClient`` twin of :meth:`client`."""
        return self._client_class("AsyncClient")(transport=self.transport(), **options)  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ test controls
    def fail_next(
        self,
        code: str = "DeploymentFailed",
        message: str = "The deployment failed to provision the model.",
    ) -> None:
        """Make the next deployment provisioned (created or updated) end ``Failed``."""
        with self._core.lock:
            self._fail_next.append((code, message))

    @property
    def deployments(self) -> list[dict[str, Any]]:
        """Every deployment as ``GET`` would answer it now, oldest first."""
        with self._core.lock:
            self._expire()
            return [self._to_api(d) for d in self._deployments.values()]

    def serving(self, name: str) -> str | None:
        """The model a deployment of that name serves once it has ``Succeeded``, else None.

        The data plane asks this (:attr:`FakeChat.deployments`): a chat request to
        ``/deployments/<name>/`` reaches the model ARM deployed under that name, and a
        deployment still provisioning (or failed) serves nothing, as on Azure.
        """
        for deployment in list(self._deployments.values()):
            if deployment.name == name and self._state(deployment) == "Succeeded":
                return str(deployment.model["name"])
        return None

    # ------------------------------------------------------------------ internals
    def _client_class(self, name: str) -> type[Any]:
        cls = self._client_classes.get(name)
        if cls is None:
            import httpx

            namespace = {
                CLIENT_CLOCK_ATTRIBUTE: self._core.clock,
                "__module__": __name__,
                "__doc__": f"httpx.{name} bound to a fake's management plane, on its clock.",
            }
            cls = type(name, (getattr(httpx, name),), namespace)
            self._client_classes[name] = cls
        return cls

    def _match(self, method: str, path: str) -> tuple[str, dict[str, str]]:
        for name, verb, pattern in _ROUTES:
            found = pattern.match(path)
            if found and verb == method:
                return name, {k: v for k, v in found.groupdict().items() if v is not None}
        raise ArmError(
            404,
            "InvalidResourceType",
            f"The resource type could not be found for {method} {path} in the namespace "
            "'Microsoft.CognitiveServices'.",
        )

    def _check(self, request: httpx2.Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
        if not scheme:
            raise ArmError(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
            )
        token = token.strip()
        if (
            scheme.lower() != "bearer"
            or not token
            or (self.tokens is not None and token not in self.tokens)
        ):
            # Like every message of the fake, it never quotes the token.
            raise ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.")
        if "api-version" not in request.url.params:
            raise ArmError(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )

    def _answer(
        self, route: str, params: dict[str, str], request: httpx2.Request
    ) -> httpx2.Response:
        self._expire()
        if route == "deployments.operation":
            return self._operation(params["operation"])
        account = (params["subscription"], params["group"], params["account"])
        if route == "deployments.list":
            found = [d for k, d in self._deployments.items() if k[:3] == _folded(*account)]
            return json_response(200, {"value": [self._to_api(d) for d in found]})
        key = _folded(*account, params["name"])
        if route == "deployments.retrieve":
            deployment = self._deployments.get(key)
            if deployment is None:
                raise _not_found(*account, params["name"])
            return json_response(200, self._to_api(deployment))
        if route == "deployments.delete":
            if self._deployments.pop(key, None) is None:
                return httpx2.Response(204)
            return httpx2.Response(200)
        return self._put(key, account, params["name"], request)

    def _put(
        self,
        key: tuple[str, str, str, str],
        account: tuple[str, str, str],
        name: str,
        request: httpx2.Request,
    ) -> httpx2.Response:
        model, sku = self._validated(request, key)
        now = self._core.now()
        existing = self._deployments.get(key)
        origin = _origin(request.url)
        unchanged = existing is not None and (existing.model, existing.sku) == (model, sku)
        if existing is not None and unchanged and self._state(existing) != "Failed":
            return self._provisioning(200, existing, origin)  # the same PUT: nothing changes
        operation = self._core.new_id("", 32).lower()
        failure = self._fail_next.pop(0) if self._fail_next else None
        if existing is None:
            deployment = _Deployment(*account, name, model, sku, now, now, operation, failure)
            self._deployments[key] = deployment
            status = 201
        else:
            existing.model, existing.sku = model, sku
            # The old operation stays readable: it reports Canceled from now on.
            existing.since, existing.operation, existing.failure = now, operation, failure
            deployment, status = existing, 200
        self._operations[operation] = key
        return self._provisioning(status, deployment, origin)

    def _provisioning(self, status: int, deployment: _Deployment, origin: str) -> httpx2.Response:
        operation = (
            f"{origin}/subscriptions/{deployment.subscription}/providers/"
            f"Microsoft.CognitiveServices/locations/{_LOCATION}/operationStatuses/"
            f"{deployment.operation}?api-version=2024-10-01"
        )
        return json_response(
            status, self._to_api(deployment), headers={"azure-asyncoperation": operation}
        )

    def _validated(
        self, request: httpx2.Request, key: tuple[str, str, str, str]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        try:
            body = json.loads(request.content or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid.")
        sku = body.get("sku")
        properties = body.get("properties")
        model = properties.get("model") if isinstance(properties, dict) else None
        if not isinstance(model, dict) or not isinstance(model.get("name"), str):
            raise ArmError(
                400, "InvalidResourceProperties", "The deployment's properties.model is required."
            )
        if not isinstance(sku, dict) or not isinstance(sku.get("name"), str):
            raise ArmError(400, "InvalidResourceProperties", "The deployment's sku is required.")
        name, fmt = model["name"], model.get("format")
        version = str(model.get("version", "1"))
        self._service.tick()
        if name not in self._service.models.fine_tuned() or fmt != model_format(base_model(name)):
            raise ArmError(
                400,
                "DeploymentModelNotSupported",
                f"The model 'Format: {fmt}, Name: {name}, Version: {version}' of account "
                "deployment is not supported.",
            )
        sku_name = sku["name"]
        base = base_model(name)
        developer = sku_name.casefold() == DEVELOPER_SKU
        if sku_name.casefold() not in _KNOWN_SKUS or (
            developer and not base.lower().startswith(DEVELOPER_TIER_MODELS)
        ):
            raise ArmError(
                400,
                "InvalidResourceProperties",
                f"The specified SKU '{sku_name}' of account deployment is not supported by the "
                f"model '{name}' version: '{version}'.",
            )
        capacity = sku.get("capacity", 1)
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ArmError(
                400,
                "InvalidResourceProperties",
                f"The specified capacity '{capacity}' of account deployment is invalid.",
            )
        used = sum(
            int(d.sku.get("capacity", 1))
            for k, d in self._deployments.items()
            if k[:3] == key[:3] and k != key
        )
        if used + capacity > self.quota:
            raise ArmError(
                400,
                "InsufficientQuota",
                f"This operation require {capacity} new capacity in quota Tokens Per Minute "
                f"(thousands) - {base}, which is bigger than the current available capacity "
                f"{self.quota - used}. The current quota usage is {used} and the quota limit is "
                f"{self.quota} for quota Tokens Per Minute (thousands) - {base}.",
            )
        return (
            {"format": fmt, "name": name, "version": version},
            {"name": sku_name, "capacity": capacity},
        )

    def _state(self, deployment: _Deployment) -> str:
        elapsed = self._core.now() - deployment.since
        if elapsed < self.accepted_seconds:
            return "Accepted"
        if elapsed < self.accepted_seconds + self.creating_seconds:
            return "Creating"
        return "Failed" if deployment.failure else "Succeeded"

    def _to_api(self, deployment: _Deployment) -> dict[str, Any]:
        return {
            "id": deployment.id,
            "name": deployment.name,
            "type": "Microsoft.CognitiveServices/accounts/deployments",
            "sku": dict(deployment.sku),
            "properties": {
                "model": dict(deployment.model),
                "provisioningState": self._state(deployment),
            },
        }

    def _operation(self, operation: str) -> httpx2.Response:
        key = self._operations.get(operation)
        deployment = self._deployments.get(key) if key is not None else None
        if key is None:
            raise ArmError(404, "NotFound", f"The operation '{operation}' was not found.")
        body: dict[str, Any] = {"id": operation, "name": operation}
        if deployment is None or deployment.operation != operation:
            body["status"] = "Canceled"
        else:
            state = self._state(deployment)
            body["status"] = state if state in ("Succeeded", "Failed") else "InProgress"
            if state == "Failed" and deployment.failure:
                code, message = deployment.failure
                body["error"] = {"code": code, "message": message}
        return json_response(200, body)

    def _expire(self) -> None:
        """Delete Developer-tier deployments 24 hours after their creation."""
        now = self._core.now()
        for key, deployment in list(self._deployments.items()):
            developer = str(deployment.sku.get("name", "")).casefold() == DEVELOPER_SKU
            if developer and now - deployment.created_at >= _DEVELOPER_LIFETIME:
                log.debug("developer-tier deployment %s expired", deployment.name)
                del self._deployments[key]


def _folded(*parts: str) -> Any:
    return tuple(part.casefold() for part in parts)


def _origin(url: httpx2.URL) -> str:
    """``scheme://host[:port]`` of a request: where its async-operation URL points."""
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{url.host}{port}"


def _not_found(subscription: str, group: str, account: str, name: str) -> ArmError:
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource 'Microsoft.CognitiveServices/accounts/{account}/deployments/{name}' "
        f"under resource group '{group}' was not found.",
    )
