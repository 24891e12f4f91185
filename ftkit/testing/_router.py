"""The fake's handler protocol: a route table from (method, path pattern) to a handler.

One API surface of a provider (OpenAI's API; Azure's dated or v1 API) is one
:class:`HandlerSet`: a table of :class:`Route`\\ s, each naming the SDK method it
serves and the :class:`Handler` that answers it from the
:class:`~ftkit.testing._service.FakeService`. Which URLs reach which set is the
provider's dialect (``_dialect``); the fake's front door (auth, faults, the
request log, virtual time) is the same for every set, so another provider's fake
is one more set of routes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote

import httpx2

from ._core import WireError, bad_request
from ._service import FakeService
from ._wire import MultipartField, parse_multipart

__all__ = ["Call", "Handler", "HandlerSet", "Route", "route"]


@dataclass
class Call:
    """One request, as a handler sees it: the request and the path's parameters."""

    request: httpx2.Request
    params: dict[str, str]

    @property
    def query(self) -> httpx2.QueryParams:
        return self.request.url.params

    def json(self) -> dict[str, Any]:
        try:
            body = json.loads(self.request.content or b"{}")
        except ValueError:
            raise bad_request(
                "We could not parse the JSON body of your request. (HINT: This likely means "
                "you aren't using your HTTP library correctly.)"
            ) from None
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        return body

    def form(self) -> dict[str, MultipartField]:
        return parse_multipart(self.request.headers.get("content-type", ""), self.request.content)

    def limit(self, default: int, maximum: int) -> int:
        raw = self.query.get("limit")
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise bad_request(
                f"Invalid limit {raw!r}: expected an integer.", param="limit"
            ) from None
        if not 1 <= value <= maximum:
            raise bad_request(f"limit must be between 1 and {maximum}.", param="limit")
        return value


class Handler(Protocol):
    """Answers one request from the service's stores (raising ``WireError`` to refuse)."""

    def __call__(self, service: FakeService, call: Call, /) -> httpx2.Response: ...


@dataclass(frozen=True)
class Route:
    """A method and path pattern bound to a handler, named after the SDK method it serves."""

    name: str
    method: str
    pattern: re.Pattern[str]
    handler: Handler


def route(name: str, request: str, handler: Handler) -> Route:
    """A route from ``"METHOD /path/{param}"``; ``{param}`` matches one path segment."""
    method, path = request.split(" ", 1)
    pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$")
    return Route(name, method, pattern, handler)


def _invalid_url(method: str, path: str) -> WireError:
    return WireError(404, f"Invalid URL ({method} {path})")


@dataclass(frozen=True)
class HandlerSet:
    """One API surface as the fake serves it.

    Attributes:
        routes: the route table, first match wins.
        unknown: the refusal of a method and path no route serves (OpenAI's 404
            ``Invalid URL`` by default).
    """

    routes: tuple[Route, ...]
    unknown: Callable[[str, str], WireError] = _invalid_url

    @property
    def names(self) -> tuple[str, ...]:
        """Every route name once, in table order (the names faults target)."""
        return tuple(dict.fromkeys(r.name for r in self.routes))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route serving ``method path`` and its path parameters.

        Raises:
            WireError: :attr:`unknown`'s 404, like the real service, for anything else.
        """
        for candidate in self.routes:
            if candidate.method != method:
                continue
            found = candidate.pattern.match(path)
            if found:
                return candidate, {k: unquote(v) for k, v in found.groupdict().items()}
        raise self.unknown(method, path)
