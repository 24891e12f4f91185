"""``FakeFineTuningAPI``: one object holding the fake service's state, clock and faults."""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx2

from ._chat import ChatBehaviour
from ._clients import ClientFactory
from ._clock import FakeClock
from ._config import Limits, Timings
from ._faults import Fault, FaultScript
from ._models_catalog import DEFAULT_MODELS, ModelInfo
from ._routes import Call, Route, match, split_prefix
from ._server import FakeServer
from ._state import FakeState
from ._wire import WireError, bad_request, error_response, json_response

if TYPE_CHECKING:
    import openai

__all__ = ["FakeFineTuningAPI", "RecordedRequest"]

log = logging.getLogger("ftkit.testing")

DEFAULT_API_KEY = "sk-fake-not-a-real-key"
DEFAULT_AZURE_API_VERSION = "2025-04-01-preview"

# What the service says with the statuses a "status" fault can answer.
_STATUS_ERRORS: dict[int, tuple[str, str]] = {
    400: ("Invalid request: the request was refused as malformed.", "invalid_request_error"),
    401: (
        "Incorrect API key provided. You can find your API key in your account settings.",
        "invalid_request_error",
    ),
    403: ("You are not allowed to perform this request.", "invalid_request_error"),
    404: ("The requested resource does not exist.", "invalid_request_error"),
    409: ("The request conflicts with the resource's current state.", "invalid_request_error"),
    422: ("The request could not be processed.", "invalid_request_error"),
}

# Header names that can carry a credential: never stored, whatever their value.
_SECRET_MARKERS = ("auth", "key", "token", "secret", "cookie", "signature")


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received, without credentials.

    Attributes:
        method: HTTP method.
        path: the URL path as sent (with its ``/v1`` or ``/openai`` prefix).
        route: the SDK method it maps to (``"jobs.create"``), or None for an unknown URL.
        query: the query parameters (repeated keys keep the last value).
        headers: request headers minus anything that can hold a secret
            (``Authorization``, ``api-key``, cookies ...).
        json: the parsed JSON body, or None for multipart and empty bodies.
        body_bytes: the size of the body.
        status: the HTTP status answered, or None when a transport fault was raised.
        fault: the kind of fault that struck this request, if any.
        at: virtual time the request arrived.
        azure: whether it came through an Azure-style path.
    """

    method: str
    path: str
    route: str | None
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    body_bytes: int
    status: int | None
    fault: str | None
    at: float
    azure: bool = False
    attempt: int = field(default=0)


class FakeFineTuningAPI:
    """A stateful in-memory fine-tuning service with the real request and response shapes.

    Use it in-process through :meth:`client` / :meth:`async_client` /
    :meth:`azure_client` (an openai client whose transport is this object), or from
    another process through :meth:`serve` (a loopback HTTP server). Time is
    virtual: jobs move when :attr:`clock` moves. The in-process clients carry the
    clock, so ftkit's pipeline, polling, retries and evaluation sleep on it with no
    wiring (``ftkit.FineTune(fake.client())...run()`` returns at once); other code
    moves it with ``fake.clock.sleep`` or :meth:`advance`.

    Args:
        clock: the virtual clock (a new :class:`FakeClock` at 2026-11-02 by default).
        org: the organisation id reported on jobs and fine-tuned models.
        org_name: the organisation slug inside fine-tuned model names
            (``ft:<base>:<org_name>:<suffix>:<id>``); derived from ``org`` by default.
        models: the base models served (default: :data:`DEFAULT_MODELS`).
        timings: how long job phases last in virtual seconds.
        limits: size and count limits (lower them to test refusals cheaply).
        seed: seeds ids and random choices. By default a fresh random seed per fake, so
            two fakes (in two processes, say) never hand out the same file or job ids;
            pass one for reproducible ids. Either way it is kept in :attr:`seed`.
        auto_advance: virtual seconds added to the clock by every API request, so a
            client that cannot move the clock (another process) still sees jobs progress.
        result_files_base64: serve result files base64-encoded, as some accounts
            reportedly receive them.
        require_auth: answer 401 to requests without ``Authorization``/``api-key``.
        chat: how models answer Chat Completions (the fine-tuned models' error rate);
            see :class:`ChatBehaviour`. Settable later through :attr:`chat`.
    """

    def __init__(
        self,
        *,
        clock: FakeClock | None = None,
        org: str = "org-fake",
        org_name: str | None = None,
        models: Iterable[ModelInfo] | None = None,
        timings: Timings | None = None,
        limits: Limits | None = None,
        seed: int | None = None,
        auto_advance: float = 0.0,
        result_files_base64: bool = False,
        require_auth: bool = True,
        chat: ChatBehaviour | None = None,
    ) -> None:
        if auto_advance < 0:
            raise ValueError("auto_advance must not be negative")
        self.clock = clock or FakeClock()
        self.seed: int = secrets.randbits(64) if seed is None else seed
        """The seed of this fake's ids and random choices (give it back to reproduce them)."""
        self.faults = FaultScript()
        self.auto_advance = auto_advance
        self.require_auth = require_auth
        self._state = FakeState(
            clock=self.clock,
            org=org,
            org_name=org_name or org.removeprefix("org-") or org,
            models=tuple(DEFAULT_MODELS if models is None else models),
            timings=timings or Timings(),
            limits=limits or Limits(),
            seed=self.seed,
            result_files_base64=result_files_base64,
        )
        if chat is not None:
            self._state.chat.behaviour = chat
        self._lock = threading.RLock()
        self._requests: list[RecordedRequest] = []
        self._clients = ClientFactory(self.handle, self.clock)

    # ------------------------------------------------------------ ways in
    def handle(self, request: httpx2.Request) -> httpx2.Response:
        """Answer one HTTP request (the router shared by the in-process clients and the server).

        Raises:
            httpx2.ConnectError: for a scripted ``reset``.
            httpx2.ReadTimeout: for ``applied_but_lost`` and a ``slow`` answer past the
                client's read timeout.
        """
        with self._lock:
            arrived = self.clock.now()
            route: Route | None = None
            fault: Fault | None = None
            azure = False
            status: int | None = None
            try:
                try:
                    path, azure = split_prefix(request.url)
                    if path.startswith("/_fake/"):
                        response = self._control(path, request)
                    else:
                        if self.auto_advance:
                            self.clock.advance(self.auto_advance)
                        route, params = match(request.method, path)
                        self._check_auth(request)
                        fault = self.faults.take(route.name)
                        call = Call(request, params)
                        response = (
                            self._with_fault(fault, route, call)
                            if fault
                            else route.handler(self._state, call)
                        )
                except WireError as exc:
                    response = error_response(exc)
                status = response.status_code
            finally:
                self._record(request, route, status, fault, arrived, azure)
            response.headers["x-request-id"] = self._state.new_id("req_", 32)
            response.headers["openai-organization"] = self._state.org
            return response

    def client(
        self, *, max_retries: int = 2, api_key: str = DEFAULT_API_KEY, **kwargs: Any
    ) -> openai.OpenAI:
        """An ``openai.OpenAI`` client wired to this fake in-process (no sockets).

        Its own retries wait on the virtual clock, not for real. Extra keyword
        arguments go to the client (``timeout``, ``organization``, ...).
        """
        return self._clients.sync(api_key=api_key, max_retries=max_retries, **kwargs)

    def async_client(
        self, *, max_retries: int = 2, api_key: str = DEFAULT_API_KEY, **kwargs: Any
    ) -> openai.AsyncOpenAI:
        """An ``openai.AsyncOpenAI`` client wired to this fake in-process."""
        return self._clients.async_(api_key=api_key, max_retries=max_retries, **kwargs)

    def azure_client(
        self,
        *,
        api_version: str = DEFAULT_AZURE_API_VERSION,
        max_retries: int = 2,
        api_key: str = DEFAULT_API_KEY,
        **kwargs: Any,
    ) -> openai.AzureOpenAI:
        """An ``openai.AzureOpenAI`` client wired to this fake (``/openai/...?api-version=``)."""
        return self._clients.azure(
            api_key=api_key, api_version=api_version, max_retries=max_retries, **kwargs
        )

    def async_azure_client(
        self,
        *,
        api_version: str = DEFAULT_AZURE_API_VERSION,
        max_retries: int = 2,
        api_key: str = DEFAULT_API_KEY,
        **kwargs: Any,
    ) -> openai.AsyncAzureOpenAI:
        """An ``openai.AsyncAzureOpenAI`` client wired to this fake."""
        return self._clients.async_azure(
            api_key=api_key, api_version=api_version, max_retries=max_retries, **kwargs
        )

    def serve(self, port: int = 0) -> FakeServer:
        """Start a loopback HTTP server (127.0.0.1 only) answering with this fake.

        Args:
            port: the TCP port; 0 picks a free one (read it from ``.port``).

        Returns:
            The running :class:`FakeServer`; use it as a context manager or call ``close()``.
        """
        return FakeServer(self, port)

    # ------------------------------------------------------- test controls
    def advance(self, seconds: float) -> float:
        """Move the virtual clock forward; returns the new time."""
        return self.clock.advance(seconds)

    def refuse_training(self, refuse: bool = True) -> None:
        """Answer every job creation with 403 ``training_not_available`` (or stop)."""
        self.faults.refuse_training(refuse)

    def script_next_job(
        self, statuses: Iterable[str], *, error: dict[str, Any] | None = None
    ) -> None:
        """Make the next created job report ``statuses``, one per retrieve, instead of the clock.

        The last status repeats. ``"succeeded"`` produces the fine-tuned model, tokens and
        result file; ``"failed"`` reports ``error`` (``{"code", "message", "param"}``); any
        other string (``"pausing"``, a status the SDK does not know yet) passes through.
        """
        statuses = list(statuses)
        if not statuses:
            raise ValueError("script at least one status")
        with self._lock:
            self._state.script_next_job(statuses, error)

    def fail_job(
        self,
        job_id: str,
        *,
        code: str = "internal_error",
        message: str = "The job failed due to an internal error.",
        param: str | None = None,
    ) -> None:
        """Fail a job now, e.g. as the post-training safety check does."""
        with self._lock:
            self._state.fail_job(job_id, code=code, message=message, param=param)

    def add_model(self, model: ModelInfo) -> None:
        """Serve one more base model (or replace one with the same id)."""
        with self._lock:
            self._state.models[model.id] = model
            for alias in model.aliases:
                self._state.aliases[alias] = model.id

    @property
    def chat(self) -> ChatBehaviour:
        """How models answer ``POST /chat/completions`` (assign a new :class:`ChatBehaviour`)."""
        return self._state.chat.behaviour

    @chat.setter
    def chat(self, behaviour: ChatBehaviour) -> None:
        with self._lock:
            self._state.chat.behaviour = behaviour

    # ------------------------------------------------------ for assertions
    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (credentials never recorded)."""
        with self._lock:
            return list(self._requests)

    def calls(self, route: str) -> list[RecordedRequest]:
        """The recorded requests of one route (``"jobs.create"``)."""
        return [r for r in self.requests if r.route == route.removeprefix("fine_tuning.")]

    @property
    def jobs(self) -> list[dict[str, Any]]:
        """Every job as the API would return it now, oldest first."""
        with self._lock:
            self._state.tick()
            return [job.to_api() for job in self._state.jobs.values()]

    def job(self, job_id: str) -> dict[str, Any]:
        """One job as the API would return it now (without consuming a scripted status)."""
        with self._lock:
            return self._state.job(job_id).to_api()

    def events(self, job_id: str) -> list[dict[str, Any]]:
        """A job's events, oldest first."""
        with self._lock:
            return copy.deepcopy(self._state.job(job_id).events)

    @property
    def files(self) -> list[dict[str, Any]]:
        """Every stored file object, oldest first."""
        with self._lock:
            self._state.expire_files()
            return [f.to_api() for f in self._state.files.values()]

    def file_content(self, file_id: str) -> bytes:
        """A stored file's bytes (training files included, which the API will not serve)."""
        with self._lock:
            return self._state.file(file_id).content

    @property
    def uploads(self) -> list[dict[str, Any]]:
        """Every upload object, oldest first."""
        with self._lock:
            return [self._state.upload(u).to_api() for u in list(self._state.uploads)]

    @property
    def fine_tuned_models(self) -> list[str]:
        """The ``ft:`` models (and checkpoints) that exist now."""
        with self._lock:
            self._state.tick()
            return list(self._state.fine_tuned)

    def __repr__(self) -> str:
        with self._lock:
            return (
                f"FakeFineTuningAPI(org={self._state.org!r}, files={len(self._state.files)}, "
                f"jobs={len(self._state.jobs)}, clock={self.clock!r})"
            )

    # ------------------------------------------------------------ internals
    def _check_auth(self, request: httpx2.Request) -> None:
        if not self.require_auth:
            return
        bearer = request.headers.get("authorization", "")
        if bearer.lower().startswith("bearer ") and bearer[7:].strip():
            return
        if request.headers.get("api-key", "").strip():
            return
        raise WireError(
            401,
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        )

    def _with_fault(self, fault: Fault, route: Route, call: Call) -> httpx2.Response:
        kind = fault.kind
        log.debug("fault %s on %s", kind, route.name)
        request = call.request
        if kind == "429":
            wait = 1.0 if fault.retry_after is None else fault.retry_after
            raise WireError(
                429,
                f"Rate limit reached for requests. Please try again in {wait:g}s.",
                type="requests",
                code="rate_limit_exceeded",
                headers={"retry-after": f"{wait:g}", "retry-after-ms": str(int(wait * 1000))},
            )
        if kind == "500":
            raise WireError(
                500,
                "The server had an error while processing your request. Sorry about that!",
                type="server_error",
            )
        if kind == "503":
            raise WireError(503, "The server is overloaded or not ready yet.", type="server_error")
        if kind == "403_training_not_available":
            raise WireError(
                403,
                "Fine-tuning is not available for this organization: new fine-tuning "
                "jobs can no longer be created.",
                code="training_not_available",
            )
        if kind == "status":
            status = int(fault.status or 500)
            message, type_ = _STATUS_ERRORS.get(status, (f"HTTP {status}", "invalid_request_error"))
            raise WireError(status, message, type=type_, code=fault.code)
        if kind == "reset":
            raise httpx2.ConnectError("[Errno 104] Connection reset by peer", request=request)
        timeout = _read_timeout(request)
        if kind == "slow":
            if timeout is not None and fault.delay >= timeout:
                self.clock.advance(timeout)
                raise httpx2.ReadTimeout("The read operation timed out", request=request)
            self.clock.advance(fault.delay)
            return route.handler(self._state, call)
        # applied_but_lost: the write happens, the answer never arrives.
        with contextlib.suppress(WireError):
            route.handler(self._state, call)
        if timeout is not None:
            self.clock.advance(timeout)
        raise httpx2.ReadTimeout("The read operation timed out", request=request)

    def _control(self, path: str, request: httpx2.Request) -> httpx2.Response:
        """Test controls for clients in other processes: ``/_fake/advance``, ``/_fake/faults``."""
        try:
            body = json.loads(request.content or b"{}")
        except ValueError:
            raise bad_request("control requests take a JSON object") from None
        if not isinstance(body, dict):
            raise bad_request("control requests take a JSON object")
        if path == "/_fake/advance" and request.method == "POST":
            seconds = body.get("seconds")
            if not isinstance(seconds, (int, float)) or seconds < 0:
                raise bad_request("seconds must be a non-negative number", param="seconds")
            return json_response(200, {"now": self.clock.advance(float(seconds))})
        if path == "/_fake/faults" and request.method == "POST":
            try:
                self.faults.inject(
                    str(body.get("route", "")),
                    body.get("kind"),  # type: ignore[arg-type]
                    times=body.get("times", 1),
                    after=int(body.get("after", 0)),
                    retry_after=body.get("retry_after"),
                    delay=float(body.get("delay", 30.0)),
                    status=body.get("status"),
                    code=body.get("code"),
                )
            except (TypeError, ValueError) as exc:
                raise bad_request(str(exc)) from None
            return json_response(200, {"ok": True})
        if path == "/_fake/refuse_training" and request.method == "POST":
            self.refuse_training(bool(body.get("refuse", True)))
            return json_response(200, {"ok": True})
        if path == "/_fake/jobs" and request.method == "GET":
            return json_response(200, {"data": self.jobs})
        raise WireError(404, f"Invalid URL ({request.method} {path})")

    def _record(
        self,
        request: httpx2.Request,
        route: Route | None,
        status: int | None,
        fault: Fault | None,
        at: float,
        azure: bool,
    ) -> None:
        headers = {
            k.lower(): v
            for k, v in request.headers.items()
            if not any(marker in k.lower() for marker in _SECRET_MARKERS)
        }
        content = request.content
        parsed: Any = None
        if content and "json" in request.headers.get("content-type", ""):
            try:
                parsed = json.loads(content)
            except ValueError:
                parsed = None
        try:
            attempt = int(request.headers.get("x-stainless-retry-count", "0"))
        except ValueError:
            attempt = 0
        self._requests.append(
            RecordedRequest(
                method=request.method,
                path=request.url.path,
                route=route.name if route else None,
                query=dict(request.url.params.items()),
                headers=headers,
                json=parsed,
                body_bytes=len(content),
                status=status,
                fault=fault.kind if fault else None,
                at=at,
                azure=azure,
                attempt=attempt,
            )
        )


def _read_timeout(request: httpx2.Request) -> float | None:
    """The client's read timeout: httpx's request extension, else the SDK's header."""
    timeout = request.extensions.get("timeout")
    if isinstance(timeout, dict) and isinstance(timeout.get("read"), (int, float)):
        return float(timeout["read"])
    header = request.headers.get("x-stainless-read-timeout")
    if header:
        try:
            return float(header)
        except ValueError:
            return None
    return None
