"""The providers a fake speaks: one :class:`Dialect` per provider, looked up by name.

A dialect is everything that differs between providers' fakes, as data
(SQLAlchemy's dialects; fsspec's registry of implementations by name): the API
surfaces it serves and which URLs each claims (OpenAI has one; Azure OpenAI has
its dated API and its v1 API), how each checks keys, words its errors and shows
jobs and files, how ids and fine-tuned models are spelled, the provider's limits
and models, and the clients ``fake.client(api=...)`` builds. The front door
(``_api``) and the resource stores (``_service``) are the same for every
provider, so another provider's fake is one more dialect module named in
:data:`KNOWN_DIALECTS`, loaded the first time a fake asks for it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx2

from ..providers import ModelInfo
from ._auth import KeyCheck
from ._clients import DEFAULT_API_KEY
from ._config import Limits
from ._core import OPENAI_NAMING, Core, Naming, WireError
from ._files import FileRecord
from ._job_record import JobRecord
from ._router import HandlerSet
from ._service import FakeService
from ._uploads import UploadRecord

__all__ = ["KNOWN_DIALECTS", "ClientSpec", "Dialect", "Surface", "dialect", "route_names"]

KNOWN_DIALECTS: dict[str, str] = {
    "openai": "ftkit.testing._openai_routes:OPENAI_DIALECT",
    "azure": "ftkit.testing._azure:AZURE",
    "together": "ftkit.testing._together:TOGETHER",
    "fireworks": "ftkit.testing._fireworks:FIREWORKS",
}
"""Provider name -> ``module:attribute`` of its dialect (imported on first use)."""


@dataclass(frozen=True)
class Surface:
    """One API of a provider as the fake serves it.

    Attributes:
        name: its name in ``fake.client(api=...)`` and :attr:`RecordedRequest.api`.
        handlers: its route table.
        claim: the route path of a URL this surface serves, or None for a URL it does not
            serve; it raises ``WireError`` for one of its URLs it refuses outright (Azure's
            dated API without ``api-version``).
        check_key: refuses a request that presents no accepted key (``WireError`` 401).
        error: its error envelope for a refusal.
        headers: what every answer of it carries besides the request id and rate limits.
        show_job: a job as this surface answers with it.
        show_file: a file as this surface answers with it.
        show_upload: an upload as this surface answers with it.
        azure: whether it is one of Azure OpenAI's APIs (``RecordedRequest.azure``).
    """

    name: str
    handlers: HandlerSet
    claim: Callable[[httpx2.URL], str | None]
    check_key: Callable[[KeyCheck, httpx2.Request], None]
    error: Callable[[WireError], httpx2.Response]
    headers: Callable[[Core], dict[str, str]]
    show_job: Callable[[JobRecord], dict[str, Any]]
    show_file: Callable[[FileRecord], dict[str, Any]]
    show_upload: Callable[[UploadRecord], dict[str, Any]]
    azure: bool = False


@dataclass(frozen=True)
class ClientSpec:
    """How ``fake.client(api=...)`` builds the clients of one API surface.

    Attributes:
        sync: the blocking openai class (``"AzureOpenAI"``).
        asynchronous: its async twin (``"AsyncAzureOpenAI"``).
        options: constructor defaults under the caller's options (a ``base_url``).
    """

    sync: str
    asynchronous: str
    options: Mapping[str, Any] = field(default_factory=dict)


def _configure_nothing(service: FakeService) -> None:
    """The stores as they are (OpenAI's rules are the stores' own)."""


@dataclass(frozen=True)
class Dialect:
    """One provider's fake: its API surfaces and its rules.

    Attributes:
        name: the provider (``"openai"``, ``"azure"``), as the model catalog names it.
        surfaces: its APIs; the first one is the default (``fake.client()``, ``fake.jobs``).
        clients: how each API's clients are built, by surface name.
        refuse: the refusal of a URL no surface claims.
        naming: how ids and fine-tuned models are spelled.
        limits: the provider's size and count limits (used unless the fake is given some).
        models: the base models a fake serves unless given some.
        configure: sets a new fake's stores to the provider's rules.
        client_key: the key the fake's own clients send when no ``api_keys`` are set.
        addresses: what a server at an origin (``http://127.0.0.1:8000``) offers clients,
            for ``ftkit fake-server`` to announce.
    """

    name: str
    surfaces: tuple[Surface, ...]
    clients: Mapping[str, ClientSpec]
    refuse: Callable[[httpx2.URL], WireError]
    models: Callable[[], tuple[ModelInfo, ...]]
    addresses: Callable[[str], dict[str, str]]
    naming: Naming = OPENAI_NAMING
    limits: Limits = field(default_factory=Limits)
    configure: Callable[[FakeService], None] = _configure_nothing
    client_key: str = DEFAULT_API_KEY

    @property
    def default(self) -> Surface:
        """The surface a fake shows its objects in and builds ``fake.client()`` for."""
        return self.surfaces[0]

    def surface_for(self, url: httpx2.URL) -> tuple[Surface, str]:
        """The surface serving ``url`` and the route path within it.

        Raises:
            WireError: the URL is refused (no surface claims it, or its surface refuses it).
        """
        for surface in self.surfaces:
            path = surface.claim(url)
            if path is not None:
                return surface, path
        raise self.refuse(url)

    def surface(self, api: str | None) -> Surface:
        """The surface named ``api`` (the default for None).

        Raises:
            ValueError: a name this provider has no API by.
        """
        if api is None:
            return self.default
        for surface in self.surfaces:
            if surface.name == api:
                return surface
        raise ValueError(self._no_api(api))

    def client_spec(self, api: str | None) -> ClientSpec:
        """How to build clients of ``api`` (the default surface's for None).

        Raises:
            ValueError: a name this provider has no API by.
        """
        name = self.default.name if api is None else api
        spec = self.clients.get(name)
        if spec is None:
            raise ValueError(self._no_api(name))
        return spec

    def _no_api(self, api: str) -> str:
        known = ", ".join(repr(s.name) for s in self.surfaces)
        hint = (
            "; Azure OpenAI's APIs need FakeFineTuningAPI(provider='azure')"
            if api in ("dated", "v1")
            else ""
        )
        fake = f"FakeFineTuningAPI(provider={self.name!r})"
        return f"{fake} has no API {api!r} (it serves {known}){hint}"


_loaded: dict[str, Dialect] = {}


def dialect(name: str) -> Dialect:
    """The dialect of provider ``name``, imported on first use.

    Raises:
        ValueError: a provider the fake does not speak (the message names those it does).
    """
    found = _loaded.get(name)
    if found is not None:
        return found
    where = KNOWN_DIALECTS.get(name) if isinstance(name, str) else None
    if where is None:
        known = ", ".join(repr(n) for n in KNOWN_DIALECTS)
        raise ValueError(f"the fake does not speak provider {name!r} yet; it speaks {known}")
    module, _, attribute = where.partition(":")
    loaded: Dialect = getattr(importlib.import_module(module), attribute)
    _loaded[name] = loaded
    return loaded


def route_names() -> tuple[str, ...]:
    """Every route name of every provider's surfaces, once each (the names faults target)."""
    names: dict[str, None] = {}
    for name in KNOWN_DIALECTS:
        for surface in dialect(name).surfaces:
            names.update(dict.fromkeys(surface.handlers.names))
    return tuple(names)
