"""``FakeFineTuningAPI``: one object holding the fake service's state, clock and faults.

Its :meth:`~FakeFineTuningAPI.handle` is the front door every way in shares (the
in-process clients and the loopback server): which API surface a URL belongs
to, auth, scripted faults, the request log and ``auto_advance`` are decided here,
the same for every route; the answer itself comes from the provider's dialect
(``_dialect``: OpenAI's in ``_openai_routes``, Azure OpenAI's in ``_azure``, Together
AI's in ``_together``, Fireworks AI's in ``_fireworks``), its
handler sets over the resource stores (``_service``).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import random
import secrets
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

import httpx2

from ..providers import ModelInfo
from ._arm import FakeARM, is_arm_path
from ._auth import KeyCheck
from ._chat import ChatBehaviour
from ._clients import ClientFactory
from ._clock import FakeClock
from ._config import Limits, Timings
from ._core import Core, WireError, bad_request
from ._dialect import Surface, dialect
from ._faults import Fault, FaultScript, strike
from ._recording import RecordedRequest, record
from ._router import Call, Route
from ._server import FakeServer
from ._service import FakeService
from ._wire import json_response

if TYPE_CHECKING:
    import fireworks
    import openai
    import together

__all__ = ["FakeFineTuningAPI", "RecordedRequest"]

log = logging.getLogger("ftkit.testing")

_DEFAULT_ORG_NAMES = {"fireworks": "fake-account"}
"""A provider's account name in a fake built without ``org_name`` or ``org``."""


class FakeFineTuningAPI:
    """A stateful in-memory fine-tuning service with the real request and response shapes.

    Use it in-process through :meth:`client` / :meth:`async_client` (an openai
    client whose transport is this object), or from another process through
    :meth:`serve` (a loopback HTTP server). It speaks one provider's API:
    OpenAI's by default, Azure OpenAI's (its dated API and its v1 API) with
    ``provider="azure"``, Together AI's (``together.Together`` clients) with
    ``provider="together"``, Fireworks AI's (``fireworks.Fireworks`` clients) with
    ``provider="fireworks"``. Time is
    virtual: jobs move when :attr:`clock` moves. The in-process clients carry the
    clock, so ftkit's pipeline, polling, retries and evaluation sleep on it with no
    wiring (``ftkit.FineTune(fake.client())...run()`` returns at once); other code
    moves it with ``fake.clock.sleep`` or :meth:`advance`.

    Args:
        provider: whose API the fake speaks: ``"openai"`` (``/v1/...``), ``"azure"``
            (``/openai/...?api-version=`` and ``/openai/v1/...``; see :meth:`client`),
            ``"together"`` (Together AI's ``/v1/files``, ``/v1/fine-tunes``...) or
            ``"fireworks"`` (Fireworks AI's ``/v1/accounts/{account}/datasets``,
            ``.../supervisedFineTuningJobs``, ``.../dpoJobs``...).
            Ids, model names, limits, the base models and the error bodies follow it.
        clock: the virtual clock (by default a new :class:`FakeClock` at the real time now;
            pin a date with ``FakeClock(start=...)``).
        org: the organisation id reported on jobs and fine-tuned models.
        org_name: the organisation slug inside OpenAI's fine-tuned model names
            (``ft:<base>:<org_name>:<suffix>:<id>``; Azure's are ``<base>.ft-<job>[-<suffix>]``);
            derived from ``org`` by default. On a Fireworks fake it is the account
            (``accounts/<org_name>/...``; ``"fake-account"`` unless given), which its
            clients carry as ``account_id``.
        models: the base models served (default: the model catalog's snapshots of the
            provider; OpenAI's those with a known ``created``; see :func:`ftkit.model_info`).
        timings: how long job phases last in virtual seconds.
        limits: size and count limits (lower them to test refusals cheaply); they replace
            the provider's (Azure's uploads take 9 GB and expire after two hours).
        seed: seeds ids and random choices. By default a fresh random seed per fake, so
            two fakes (in two processes, say) never hand out the same file or job ids;
            pass one for reproducible ids. Either way it is kept in :attr:`seed`.
        auto_advance: virtual seconds added to the clock by every API request, so a
            client that cannot move the clock (another process) still sees jobs progress.
        result_files_base64: serve result files base64-encoded, as some accounts
            reportedly receive them.
        require_auth: check API keys (``False``: accept every request, with a key or without).
        api_keys: the only keys accepted; the fake's own clients send the first unless
            given ``api_key=``. By default an OpenAI fake accepts any ``sk-`` key as
            ``Authorization: Bearer``, an Azure fake any non-empty ``api-key`` header or
            bearer token. A missing key gets 401; a wrong one 401 (OpenAI's
            ``invalid_api_key``, Azure's gateway ``"401"``), whose message never quotes it.
        chat: how models answer Chat Completions (the fine-tuned models' error rate);
            see :class:`ChatBehaviour`. Settable later through :attr:`chat`.
        max_active_jobs: how many jobs may be validating, queued or running at once; job
            creation past it answers 429 ``rate_limit_exceeded`` (default: no limit). A
            shorthand for ``limits=Limits(active_jobs=...)``, and it wins over that.
        enforce_unconfirmed_dates: also enforce the dates only secondary sources give: the
            shutdown dates the model catalog marks unconfirmed (``shutdown_confirmed``) and
            OpenAI's reported end of new jobs on 2027-01-06 (403 ``training_not_available``).
            Off by default: confirmed shutdown dates are enforced either way.
    """

    def __init__(
        self,
        *,
        provider: str = "openai",
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
        api_keys: Iterable[str] | None = None,
        chat: ChatBehaviour | None = None,
        max_active_jobs: int | None = None,
        enforce_unconfirmed_dates: bool = False,
    ) -> None:
        if auto_advance < 0:
            raise ValueError("auto_advance must not be negative")
        self._dialect = dialect(provider)
        limits = limits or self._dialect.limits
        if max_active_jobs is not None:
            limits = dataclasses.replace(limits, active_jobs=max_active_jobs)
        self.clock = clock or FakeClock()
        self.seed: int = secrets.randbits(64) if seed is None else seed
        """The seed of this fake's ids and random choices (give it back to reproduce them)."""
        self.faults = FaultScript()
        self.auto_advance = auto_advance
        self.require_auth = require_auth
        self._keys = KeyCheck(api_keys)
        self._core = Core(
            clock=self.clock,
            org=org,
            org_name=org_name
            or (_DEFAULT_ORG_NAMES.get(provider) if org == "org-fake" else None)
            or org.removeprefix("org-")
            or org,
            timings=timings or Timings(),
            limits=limits,
            rng=random.Random(self.seed),
            naming=self._dialect.naming,
        )
        self._lock = self._core.lock
        self._service = FakeService(
            self._core,
            models=self._dialect.models() if models is None else models,
            result_files_base64=result_files_base64,
        )
        self._dialect.configure(self._service)
        self._service.models.enforce_unconfirmed_dates = enforce_unconfirmed_dates
        if chat is not None:
            self._service.chat.behaviour = chat
        self._requests: list[RecordedRequest] = []
        client_key = self._keys.keys[0] if self._keys.keys else self._dialect.client_key
        self._clients = ClientFactory(
            self.handle, self.clock, api_key=client_key, account_id=self._core.org_name
        )
        self.arm = FakeARM(
            self._core,
            self._service,
            faults=self.faults,
            log=self._requests,
            front_door=self.handle,
        )
        """The management plane (ARM): deployments of this fake's fine-tuned models."""

    # ------------------------------------------------------------ ways in
    def handle(self, request: httpx2.Request) -> httpx2.Response:
        """Answer one HTTP request (the router shared by the in-process clients and the server).

        Raises:
            httpx2.ConnectError: for a scripted ``reset``.
            httpx2.ReadTimeout: for ``applied_but_lost`` and a ``slow`` answer past the
                client's read timeout.
        """
        if is_arm_path(request.url.path):  # the management plane: deployments (``_arm``)
            return self.arm.handle(request, advance=self.auto_advance)
        with self._lock:
            arrived = self.clock.now()
            route: Route | None = None
            fault: Fault | None = None
            surface: Surface | None = None
            status: int | None = None
            try:
                try:
                    path = request.url.path
                    if not path.startswith("/_fake/"):
                        surface, path = self._dialect.surface_for(request.url)
                    if path.startswith("/_fake/"):
                        response = self._control(path, request)
                    else:
                        assert surface is not None
                        if self.auto_advance:
                            self.clock.advance(self.auto_advance)
                        route, params = surface.handlers.match(request.method, path)
                        self._core.rate_limits.requests.spend(1, arrived)
                        if self.require_auth:
                            surface.check_key(self._keys, request)
                        fault = self.faults.take(route.name)
                        response = self._answer(route, Call(request, params), fault)
                except WireError as exc:
                    response = (surface or self._dialect.default).error(exc)
                status = response.status_code
            finally:
                self._requests.append(
                    record(
                        request,
                        route=route.name if route else None,
                        status=status,
                        fault=fault.kind if fault else None,
                        at=arrived,
                        azure=surface.azure if surface else False,
                        api=surface.name if surface else None,
                    )
                )
            response.headers["x-request-id"] = self._core.new_id("req_", 32)
            response.headers.update((surface or self._dialect.default).headers(self._core))
            response.headers.update(self._core.rate_limits.headers(self.clock.now()))
            return response

    def client(self, *, api: str | None = None, **options: Any) -> openai.OpenAI:
        """An openai client wired to this fake in-process (no sockets), for one of its APIs.

        An OpenAI fake gives an ``openai.OpenAI``. An Azure fake gives, for its dated API
        (the default, ``api="dated"``), an ``openai.AzureOpenAI`` (``api_version``
        ``"2025-04-01-preview"`` unless given; any is served), and for ``api="v1"`` an
        ``openai.OpenAI`` whose ``base_url`` is the resource's ``/openai/v1/``. A Together
        fake gives a ``together.Together`` (typed: :meth:`together_client`), a Fireworks
        fake a ``fireworks.Fireworks`` (typed: :meth:`fireworks_client`). Its own
        retries wait on the virtual clock, not for real.

        Args:
            api: which of the provider's APIs (``"openai"``; Azure's ``"dated"`` or ``"v1"``).
            options: go to the client: ``max_retries`` (default 2), ``api_key`` (default the
                first of ``api_keys``, else a fake key), ``timeout``, ``api_version``...

        Raises:
            ValueError: an ``api`` this provider does not have.
        """
        spec = self._dialect.client_spec(api)
        return cast("openai.OpenAI", self._clients.build(spec.sync, {**spec.options, **options}))

    def async_client(self, *, api: str | None = None, **options: Any) -> openai.AsyncOpenAI:
        """The async twin of :meth:`client` (``openai.AsyncOpenAI``, ``AsyncAzureOpenAI``)."""
        spec = self._dialect.client_spec(api)
        built = self._clients.build(spec.asynchronous, {**spec.options, **options})
        return cast("openai.AsyncOpenAI", built)

    def azure_client(self, **options: Any) -> openai.AzureOpenAI:
        """``client(api="dated")`` of an Azure fake: an ``openai.AzureOpenAI``.

        Raises:
            ValueError: on an OpenAI fake (build ``FakeFineTuningAPI(provider="azure")``).
        """
        return cast("openai.AzureOpenAI", self.client(api="dated", **options))

    def async_azure_client(self, **options: Any) -> openai.AsyncAzureOpenAI:
        """``async_client(api="dated")`` of an Azure fake: an ``openai.AsyncAzureOpenAI``."""
        return cast("openai.AsyncAzureOpenAI", self.async_client(api="dated", **options))

    def together_client(self, **options: Any) -> together.Together:
        """``client()`` of a Together fake: a ``together.Together`` on the fake's transport.

        Its http_client is an httpx client bridged to the fake; its retries wait on the
        virtual clock.

        Raises:
            ValueError: on another provider's fake.
        """
        self._require("together")
        return cast("together.Together", self.client(**options))

    def async_together_client(self, **options: Any) -> together.AsyncTogether:
        """``async_client()`` of a Together fake: a ``together.AsyncTogether``."""
        self._require("together")
        return cast("together.AsyncTogether", self.async_client(**options))

    def fireworks_client(self, **options: Any) -> fireworks.Fireworks:
        """``client()`` of a Fireworks fake: a ``fireworks.Fireworks`` on the fake's transport.

        Its ``account_id`` is the fake's account (``org_name``) unless given; its
        http_client is an httpx client bridged to the fake; its retries wait on the
        virtual clock.

        Raises:
            ValueError: on another provider's fake.
        """
        self._require("fireworks")
        return cast("fireworks.Fireworks", self.client(**options))

    def async_fireworks_client(self, **options: Any) -> fireworks.AsyncFireworks:
        """``async_client()`` of a Fireworks fake: a ``fireworks.AsyncFireworks``."""
        self._require("fireworks")
        return cast("fireworks.AsyncFireworks", self.async_client(**options))

    def _require(self, provider: str) -> None:
        if self.provider != provider:
            raise ValueError(
                f"this fake speaks {self.provider!r}; build FakeFineTuningAPI(provider="
                f"{provider!r}) for that"
            )

    @property
    def provider(self) -> str:
        """Whose API this fake speaks (``"openai"``, ``"azure"``, ``"together"``,
        ``"fireworks"``)."""
        return self._dialect.name

    @property
    def apis(self) -> tuple[str, ...]:
        """The names of its APIs (``("openai",)``; Azure's ``("dated", "v1")``), default first."""
        return tuple(surface.name for surface in self._dialect.surfaces)

    @property
    def route_names(self) -> tuple[str, ...]:
        """The routes this fake serves, by SDK method path (``ROUTE_NAMES`` is every fake's)."""
        names: dict[str, None] = {}
        for surface in self._dialect.surfaces:
            names.update(dict.fromkeys(surface.handlers.names))
        return tuple(names)

    def addresses(self, origin: str) -> dict[str, str]:
        """What a server of this fake at ``origin`` (``http://127.0.0.1:8000``) offers clients.

        OpenAI: ``base_url``; Azure: ``azure_endpoint``, ``api_version`` and ``v1_base_url``;
        Together: ``base_url`` (the origin itself, as ``together.Together`` takes it);
        Fireworks: ``base_url`` (the origin) and ``account_id`` (the fake's account).
        """
        addresses = self._dialect.addresses(origin.rstrip("/"))
        if self.provider == "fireworks":
            addresses["account_id"] = self._core.org_name
        return addresses

    def serve(self, port: int = 0, *, latency: float = 0.0) -> FakeServer:
        """Start a loopback HTTP server (127.0.0.1 only) answering with this fake.

        Args:
            port: the TCP port; 0 picks a free one (read it from ``.port``).
            latency: real seconds every request waits before its answer, as over a
                network (0: none; for benchmarks, never for tests).

        Returns:
            The running :class:`FakeServer`; use it as a context manager or call ``close()``.

        Raises:
            ValueError: a negative ``latency``.
        """
        return FakeServer(self, port, latency=latency)

    # ------------------------------------------------------- test controls
    def advance(self, seconds: float) -> float:
        """Move the virtual clock forward; returns the new time."""
        return self.clock.advance(seconds)

    def refuse_training(self, refuse: bool = True) -> None:
        """Answer every job creation with 403 ``training_not_available`` (or stop).

        On a Fireworks fake that is both kinds of job (``sft_jobs.create``,
        ``dpo_jobs.create``), refused 403 ``PERMISSION_DENIED``.
        """
        self.faults.refuse_training(refuse)
        if refuse and self.provider == "fireworks":
            for route in ("sft_jobs.create", "dpo_jobs.create"):
                self.faults.inject(route, "403_training_not_available", times=None)

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
            self._service.jobs.script_next(statuses, error)

    def fail_job(
        self,
        job_id: str,
        *,
        code: str = "internal_error",
        message: str = "The job failed due to an internal error.",
        param: str | None = None,
    ) -> None:
        """Fail a job now, e.g. as the post-training safety check does.

        Together's jobs then read ``error``, with a ``job_error`` event carrying ``message``.
        A Fireworks job (named in full, ``accounts/<a>/supervisedFineTuningJobs/<id>``)
        reads ``JOB_STATE_FAILED`` with ``status{code, message}``: ``code`` a grpc code name
        (``"INTERNAL"``, ``"RESOURCE_EXHAUSTED"``...) as given, the default
        ``internal_error`` as ``INTERNAL``.
        """
        with self._lock:
            self._service.jobs.fail(job_id, code=code, message=message, param=param)

    def set_credit_limit(self, usd: float | None) -> None:
        """Together: the account's spending limit, which price estimates are held against.

        ``POST /v1/fine-tunes/estimate-price`` then answers ``allowed_to_proceed: false``
        for a job priced above ``usd`` (at the fake's own rates,
        ``ftkit.testing._together_jobs.FAKE_RATES_PER_1M``) and echoes it as ``user_limit``;
        None lifts the limit (the default).

        Raises:
            ValueError: on another provider's fake, or a negative limit.
        """
        self._require("together")
        if usd is not None and usd < 0:
            raise ValueError("the credit limit must not be negative")
        from ._together_jobs import billing

        with self._lock:
            billing(self._service).credit_limit = None if usd is None else float(usd)

    def add_model(self, model: ModelInfo) -> None:
        """Serve one more base model (or replace the one of the same name)."""
        with self._lock:
            self._service.models.add(model)

    @property
    def chat(self) -> ChatBehaviour:
        """How models answer ``POST /chat/completions`` (assign a new :class:`ChatBehaviour`)."""
        return self._service.chat.behaviour

    @chat.setter
    def chat(self, behaviour: ChatBehaviour) -> None:
        with self._lock:
            self._service.chat.behaviour = behaviour

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
        """Every job as the (default) API would return it now, oldest first."""
        with self._lock:
            self._service.tick()
            show = self._dialect.default.show_job
            return [show(job) for job in self._service.jobs.all()]

    def job(self, job_id: str, *, api: str | None = None) -> dict[str, Any]:
        """One job as ``api`` (the default API) would return it now.

        Reading it consumes no scripted status. On an Azure fake ``api="v1"`` shows the
        job as the v1 API does (with its ``metadata``), the default as the dated one does.
        """
        with self._lock:
            return self._dialect.surface(api).show_job(self._service.jobs.get(job_id))

    def training_type(self, job_id: str) -> str | None:
        """The training tier a job was created with, in ftkit's words (Azure's jobs).

        ``"standard"`` (also when the request named none, as Azure then trains),
        ``"globalstandard"`` or ``"developer"``; None for a job of a provider without tiers.
        Azure's job objects do not show it, so this is where a test reads what was sent.
        """
        with self._lock:
            return self._service.jobs.get(job_id).options.get("training_type")

    def events(self, job_id: str) -> list[dict[str, Any]]:
        """A job's events, oldest first."""
        with self._lock:
            return copy.deepcopy(self._service.jobs.get(job_id).events)

    @property
    def files(self) -> list[dict[str, Any]]:
        """Every stored file object as the (default) API shows it, oldest first."""
        with self._lock:
            show = self._dialect.default.show_file
            return [show(f) for f in self._service.files.all()]

    def serve_url(self, url: str, content: bytes | str) -> None:
        """Make ``url`` serve ``content`` to file imports (Azure's ``POST /files/import``).

        The fake downloads nothing: an import of a URL not served here ends in status
        ``error`` with a ``status_details`` message, as a failed import does on Azure.
        ``str`` content is encoded as UTF-8.
        """
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        with self._lock:
            self._service.imports.serve(url, data)

    def file_content(self, file_id: str) -> bytes:
        """A stored file's bytes (training files included, which the API will not serve)."""
        with self._lock:
            return self._service.files.get(file_id).content

    @property
    def uploads(self) -> list[dict[str, Any]]:
        """Every upload object as the (default) API shows it, oldest first."""
        with self._lock:
            show = self._dialect.default.show_upload
            return [show(u) for u in self._service.uploads.all()]

    @property
    def fine_tuned_models(self) -> list[str]:
        """The fine-tuned models (and checkpoints) that exist now (``ft:...``, ``....ft-...``)."""
        with self._lock:
            self._service.tick()
            return self._service.models.fine_tuned()

    def __repr__(self) -> str:
        with self._lock:
            return (
                f"FakeFineTuningAPI(provider={self.provider!r}, org={self._core.org!r}, "
                f"files={len(self._service.files)}, "
                f"jobs={len(self._service.jobs)}, clock={self.clock!r})"
            )

    # ------------------------------------------------------------ internals
    def _answer(self, route: Route, call: Call, fault: Fault | None) -> httpx2.Response:
        def answer() -> httpx2.Response:
            return route.handler(self._service, call)

        if fault is None:
            return answer()
        log.debug("fault %s on %s", fault.kind, route.name)
        return strike(fault, call.request, answer, self.clock)

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
