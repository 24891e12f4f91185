"""A faithful, stateful fake of the fine-tuning API, for testing code that fine-tunes.

Like ``moto`` for AWS: files, uploads, jobs (with events, checkpoints and result
files), and models behave like the real service, on a virtual clock, with
scriptable faults. Chat Completions answer deterministically: a fine-tuned model
has "learned" its training data (see :class:`ChatBehaviour`). Two ways in: an
openai client wired in-process, or a loopback HTTP server::

    from ftkit.testing import FakeFineTuningAPI

    fake = FakeFineTuningAPI()
    client = fake.client(max_retries=0)           # an openai.OpenAI, no sockets
    fake.faults.inject("jobs.create", "applied_but_lost")
    ...
    with fake.serve() as server:                  # http://127.0.0.1:<port>/v1
        ...

Importing this package imports ``httpx2`` (shipped with openai); ``openai``
itself is imported only when a client is built.
"""

from __future__ import annotations

from .._public import publish
from ._api import FakeFineTuningAPI, RecordedRequest
from ._chat import ChatBehaviour
from ._clock import DEFAULT_START, FakeClock
from ._config import Limits, Timings
from ._faults import Fault, FaultKind, FaultScript
from ._openai_routes import OPENAI
from ._server import FakeServer

ROUTE_NAMES: tuple[str, ...] = OPENAI.names
"""Every route the fake serves, by SDK method path (the names faults target)."""

__all__ = [
    "DEFAULT_START",
    "ROUTE_NAMES",
    "ChatBehaviour",
    "FakeClock",
    "FakeFineTuningAPI",
    "FakeServer",
    "Fault",
    "FaultKind",
    "FaultScript",
    "Limits",
    "RecordedRequest",
    "Timings",
]

publish(__name__, globals(), __all__)
