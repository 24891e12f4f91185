"""The backend's program operations: what happens around the work they run."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ftkit.backend import _program


class Interrupt(BaseException):
    """Stands for Ctrl-C."""


def test_ctrl_c_while_parts_run_drops_the_parts_not_started(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[int] = []

    def part(i: int) -> Any:
        def program() -> _program.Program[None]:
            started.append(i)
            time.sleep(0.2)  # still running when the interrupt comes
            return
            yield  # a program that asks for nothing

        return program

    def interrupted_wait(*args: Any, **kwargs: Any) -> Any:
        raise Interrupt

    monkeypatch.setattr(_program, "wait", interrupted_wait)
    with pytest.raises(Interrupt):
        _program.Concurrently([part(i) for i in range(10)], limit=2).run()
    assert len(started) <= 2  # at most the two running finish; the queued never start
