"""What every resource of the fake shares: time, ids, the lock, refusals and cursor pages.

The resource stores (``_files``, ``_uploads``, ``_models``, ``_jobs``, ``_chat``)
hold a :class:`Core` each and know nothing of HTTP: an operation returns the
JSON object the API answers with, or raises :class:`WireError`, which the router
turns into the provider's error envelope. Ids of every resource come from one
seeded generator, so a fake built with the same seed hands out the same ids
for the same sequence of calls; how they are spelled (and how fine-tuned models
are named) is the provider's :class:`Naming`.
"""

from __future__ import annotations

import random
import string
import threading
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar, cast

from ._clock import FakeClock
from ._config import Limits, Timings
from ._ratelimit import RateLimitMeter

__all__ = [
    "OPENAI_NAMING",
    "Core",
    "Cursors",
    "Naming",
    "WireError",
    "bad_request",
    "list_object",
    "not_found",
    "page",
]

_ALNUM = string.ascii_letters + string.digits

T = TypeVar("T")


class Naming(Protocol):
    """How one provider spells the ids and the fine-tuned model names it hands out."""

    def new_id(self, rng: random.Random, prefix: str, length: int) -> str:
        """A new id; ``prefix`` and ``length`` are the fake's (OpenAI's) spelling."""
        ...

    def fine_tuned_model(
        self, rng: random.Random, *, base: str, org_name: str, suffix: str | None, job_id: str
    ) -> str:
        """The name of the model a job on ``base`` produces."""
        ...


class _OpenAINaming:
    """OpenAI's spelling: ``file-<alnum>``..., ``ft:<base>:<org>:<suffix>:<8 alnum>``."""

    def new_id(self, rng: random.Random, prefix: str, length: int) -> str:
        return prefix + "".join(rng.choices(_ALNUM, k=length))

    def fine_tuned_model(
        self, rng: random.Random, *, base: str, org_name: str, suffix: str | None, job_id: str
    ) -> str:
        return f"ft:{base}:{org_name}:{suffix or ''}:{self.new_id(rng, '', 8)}"


OPENAI_NAMING: Naming = _OpenAINaming()
"""The default :class:`Naming`: OpenAI's ids and ``ft:`` model names."""


@dataclass
class Core:
    """The service-wide facts and tools of one fake.

    Attributes:
        clock: the virtual clock every resource reads.
        org: the organisation id reported on jobs and fine-tuned models.
        org_name: the organisation slug inside fine-tuned model names.
        timings: job phase durations.
        limits: size and count limits.
        rng: the one generator behind every id and random choice.
        rate_limits: request and token use, for the ``x-ratelimit-*`` headers.
        lock: held by whoever reads or changes the stores (the router, the test controls);
            re-entrant, since a control may call another.
        naming: how the provider spells ids and fine-tuned model names.
    """

    clock: FakeClock
    org: str
    org_name: str
    timings: Timings
    limits: Limits
    rng: random.Random
    rate_limits: RateLimitMeter = field(default_factory=RateLimitMeter)
    lock: threading.RLock = field(default_factory=threading.RLock)
    naming: Naming = OPENAI_NAMING

    def now(self) -> float:
        return self.clock.now()

    def new_id(self, prefix: str, length: int = 24) -> str:
        return self.naming.new_id(self.rng, prefix, length)

    def fine_tuned_model(self, base: str, suffix: str | None, job_id: str) -> str:
        """The name of the model job ``job_id`` on ``base`` produces, in the provider's spelling."""
        return self.naming.fine_tuned_model(
            self.rng, base=base, org_name=self.org_name, suffix=suffix, job_id=job_id
        )


class WireError(Exception):
    """A refusal the fake answers with an HTTP error status and the provider's error body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


def bad_request(message: str, *, param: str | None = None, code: str | None = None) -> WireError:
    """A 400 ``invalid_request_error``."""
    return WireError(400, message, param=param, code=code)


def not_found(message: str, *, param: str | None = None) -> WireError:
    """A 404 ``invalid_request_error``."""
    return WireError(404, message, param=param)


def page(items: list[T], after: str | None, limit: int) -> tuple[list[T], bool]:
    """One cursor page: the ``limit`` items following the one whose id is ``after``.

    An unknown ``after`` gives an empty last page, as the service does.
    """
    start = 0
    if after is not None:
        ids = [_id_of(item) for item in items]
        if after not in ids:
            return [], False
        start = ids.index(after) + 1
    return items[start : start + limit], start + limit < len(items)


Cursors = Literal["none", "nullable", "string"]
"""How a list carries ``first_id``/``last_id``, per its schema in OpenAI's OpenAPI spec.

``none``: the schema has no such keys (``ListPaginatedFineTuningJobsResponse``,
``ListFineTuningJobEventsResponse``). ``nullable``: ``anyOf: [string, null]``
(``ListFineTuningJobCheckpointsResponse``), so an empty page says ``null``.
``string``: required strings (``ListFilesResponse``), so an empty page says ``""``,
which the openai client, like ``null``, reads as "no next page".
"""


def list_object(data: list[dict[str, Any]], has_more: bool, *, cursors: Cursors) -> dict[str, Any]:
    """A ``list`` object with the ``first_id``/``last_id`` its schema gives (:data:`Cursors`)."""
    body: dict[str, Any] = {"object": "list", "data": data}
    if cursors != "none":
        empty = None if cursors == "nullable" else ""
        body["first_id"] = data[0]["id"] if data else empty
        body["last_id"] = data[-1]["id"] if data else empty
    body["has_more"] = has_more
    return body


def _id_of(item: Any) -> str:
    if isinstance(item, dict):
        return cast(str, item["id"])
    return cast(str, item.id)
