"""evaluate and aevaluate run one program: the same scenario gives the same result on both.

Each scenario holds chosen requests at the transport until an event of the
evaluation releases them, so which request finishes first is fixed and the
outcome does not depend on thread timing. Both drivers must then ask the same
requests, keep the same replies in the results log and raise the same error.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
from chat_support import BASE, JSON_FILE, rows

from ftkit.evaluation import REPLIES_FILE, EvalProgress, aevaluate, evaluate
from ftkit.testing import ChatBehaviour, FakeFineTuningAPI

MISSING = "ft:gpt-4.1-mini-2025-04-14:nobody::missing"
EXAMPLE_OF = {json.dumps(r["messages"][:-1]): i for i, r in enumerate(rows(JSON_FILE))}
HOLD_AT_MOST = 5.0  # seconds; only reached by a driver that never releases (a failing test)


class Interrupt(BaseException):
    """Stands for Ctrl-C raised from a progress callback."""


@dataclass(frozen=True)
class Scenario:
    """Requests ``held`` (by (example, model)) until ``release_on`` happens."""

    models: dict[str, str]
    held: frozenset[tuple[int, str]]
    release_on: str  # "first reply": a progress callback raises; "stopping": the log says so
    expected: tuple[str, list[tuple[int, str]], list[tuple[int, str]]]
    """(error raised, replies logged, requests asked)."""


SCENARIOS = {
    # A callback raising after the first reply: the other request in flight is waited for
    # and kept; nothing else starts (the window is 2 for both drivers, none queued).
    "interrupt from progress": Scenario(
        {"m": BASE},
        held=frozenset({(1, BASE)}),
        release_on="first reply",
        expected=("Interrupt", [(0, BASE), (1, BASE)], [(0, BASE), (1, BASE)]),
    ),
    # An unknown model (404) stops the evaluation: the reply in flight is kept, no new ask.
    "fatal API error": Scenario(
        {"base": BASE, "missing": MISSING},
        held=frozenset({(0, BASE)}),
        release_on="stopping",
        expected=("APIError", [(0, BASE)], sorted([(0, BASE), (0, MISSING)])),
    ),
}


def _key(body: Any) -> tuple[int, str]:
    return EXAMPLE_OF[json.dumps(body["messages"])], body["model"]


def _client(
    fake: FakeFineTuningAPI, held: frozenset[tuple[int, str]], asynchronous: bool
) -> tuple[Any, Callable[[], None]]:
    """A client on ``fake`` whose ``held`` requests wait for the returned ``release()``."""
    options: dict[str, Any] = {"api_key": "sk-test-drivers", "base_url": "https://x.invalid/v1"}
    if asynchronous:
        gate = asyncio.Event()

        async def ahandle(request: httpx2.Request) -> httpx2.Response:
            if _key(json.loads(request.content)) in held:
                await asyncio.wait_for(gate.wait(), HOLD_AT_MOST)
            return fake.handle(request)

        transport = httpx2.MockTransport(ahandle)
        client = openai.AsyncOpenAI(http_client=httpx2.AsyncClient(transport=transport), **options)
        return client, gate.set
    event = threading.Event()

    def handle(request: httpx2.Request) -> httpx2.Response:
        if _key(json.loads(request.content)) in held:
            event.wait(HOLD_AT_MOST)
        return fake.handle(request)

    transport = httpx2.MockTransport(handle)
    return openai.OpenAI(http_client=httpx2.Client(transport=transport), **options), event.set


class _OnStopping(logging.Handler):
    """Calls ``release`` when the evaluation logs that it is stopping."""

    def __init__(self, release: Callable[[], None]) -> None:
        super().__init__(logging.WARNING)
        self._release = release

    def emit(self, record: logging.LogRecord) -> None:
        if "stopping" in record.getMessage():
            self._release()


def _run(
    scenario: Scenario, driver: str, out: Path
) -> tuple[str | None, list[tuple[int, str]], list[tuple[int, str]]]:
    """(error raised, replies logged, requests asked) for ``scenario`` under ``driver``."""
    fake = FakeFineTuningAPI(chat=ChatBehaviour(error_rate=0.0))
    client, release = _client(fake, scenario.held, asynchronous=driver == "async")

    def progress(p: EvalProgress) -> None:
        if scenario.release_on == "first reply" and p.done >= 1:
            release()
            raise Interrupt

    arguments: dict[str, Any] = {
        "client": client,
        "concurrency": 2,
        "max_examples": 4,
        "out": out,
        "progress": progress,
        "retry": 1,
    }
    hook = _OnStopping(release if scenario.release_on == "stopping" else lambda: None)
    logger = logging.getLogger("ftkit.evaluation")
    logger.addHandler(hook)
    error: str | None = None
    try:
        if driver == "sync":
            evaluate(scenario.models, JSON_FILE, **arguments)
        else:
            asyncio.run(aevaluate(scenario.models, JSON_FILE, **arguments))
    except (Exception, Interrupt) as exc:
        error = type(exc).__name__
    finally:
        logger.removeHandler(hook)
    log = out / REPLIES_FILE
    logged = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    asked = [_key(call.json) for call in fake.calls("chat.completions.create")]
    return error, sorted((r["index"], r["model"]) for r in logged), sorted(asked)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_both_drivers_stop_alike(name: str, tmp_path: Path) -> None:
    scenario = SCENARIOS[name]
    sync = _run(scenario, "sync", tmp_path / "sync")
    asynchronous = _run(scenario, "async", tmp_path / "async")
    assert sync == asynchronous
    assert sync == scenario.expected


def test_ctrl_c_while_the_thread_driver_waits_keeps_the_replies_in_flight(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A running thread cannot be stopped: its reply (already paid for) is kept, then Ctrl-C."""
    from ftkit.evaluation import _drivers

    fake = FakeFineTuningAPI(chat=ChatBehaviour(error_rate=0.0))
    client, release = _client(fake, frozenset({(1, BASE)}), asynchronous=False)
    real_wait = _drivers.wait
    interrupted: list[bool] = []

    def wait(*args: Any, **kwargs: Any) -> Any:
        if not interrupted:  # the first wait, both requests in flight: Ctrl-C
            interrupted.append(True)
            release()
            raise Interrupt
        return real_wait(*args, **kwargs)

    monkeypatch.setattr(_drivers, "wait", wait)
    with pytest.raises(Interrupt):
        evaluate(
            {"m": BASE},
            JSON_FILE,
            client=client,
            concurrency=2,
            max_examples=4,
            out=tmp_path,
            retry=1,
        )
    logged = [json.loads(line) for line in (tmp_path / REPLIES_FILE).read_text().splitlines()]
    assert sorted((r["index"], r["model"]) for r in logged) == [(0, BASE), (1, BASE)]
    assert sorted(_key(c.json) for c in fake.calls("chat.completions.create")) == [
        (0, BASE),
        (1, BASE),
    ]
