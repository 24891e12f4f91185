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
    fake.arm.client()                             # Azure's management plane: deployments
    azure = FakeFineTuningAPI(provider="azure")   # Azure OpenAI: its dated and v1 APIs
    azure.client()                                # an openai.AzureOpenAI; client(api="v1")
    with fake.serve() as server:                  # http://127.0.0.1:<port>/v1
        ...

Importing this package imports ``httpx2`` (shipped with openai); ``openai``
itself is imported only when a client is built.
"""

from __future__ import annotations

from .._public import publish
from ._api import FakeFineTuningAPI, RecordedRequest
from ._arm import FakeARM
from ._chat import ChatBehaviour
from ._clock import DEFAULT_START, FakeClock
from ._config import Limits, Timings
from ._dialect import route_names
from ._faults import Fault, FaultKind, FaultScript
from ._server import FakeServer

ROUTE_NAMES: tuple[str, ...] = route_names()
"""Every route a fake serves, of every provider, by SDK method path (the names faults target)."""

__all__ = [
    "DEFAULT_START",
    "ROUTE_NAMES",
    "ChatBehaviour",
    "FakeARM",
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
