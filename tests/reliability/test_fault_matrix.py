"""Every API call of the SFT → DPO pipeline × every fault of the fake: exactly once, always.

Each case scripts one fault on one route, runs the pipeline, and audits the
service afterwards (see ``reliability_support.audit``): one job per stage, no
file uploaded twice, a manifest that matches the service. A transient fault
must be ridden out; a permanent one must end the run with the right typed
error, after which a resume (fault cleared) finishes without duplicates; a
status no retry can fix must fail on its first answer. ``benchmarks/reliability.py``
runs the same cases (and the full permanent cross product) and prints the table.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability_support import (
    COMPLETES,
    FINAL_STATUSES,
    KINDS,
    ROUTES,
    Case,
    Data,
    run_case,
    transient_cases,
)

import ftkit
from ftkit.testing import ROUTE_NAMES


def _check(case: Case, state_dir: Path, data: Data) -> None:
    outcome = run_case(case, state_dir, data)
    assert outcome.ok, outcome.describe()
    assert outcome.duplicates == 0


def test_the_matrix_covers_every_call_the_pipeline_makes(state_dir: Path, data: Data) -> None:
    # Guard against a pipeline that starts calling a route the matrix does not strike.
    from reliability_support import World

    called: set[str | None] = set()
    for setup in ("files", "uploads", "cancel"):
        world = World(state_dir / setup, data)
        if setup == "cancel":
            world.builder().start().cancel()
        else:
            world.builder(setup).run()
        called |= {r.route for r in world.fake.requests}
    assert called == set(ROUTES), (
        f"untested: {called - set(ROUTES)}; unused: {set(ROUTES) - called}"
    )
    assert set(ROUTES) <= set(ROUTE_NAMES)


@pytest.mark.parametrize("case", transient_cases(), ids=lambda c: c.id)
def test_transient_fault_is_ridden_out(case: Case, state_dir: Path, data: Data) -> None:
    assert case.expected == COMPLETES
    _check(case, state_dir, data)


@pytest.mark.parametrize(
    "case",
    [
        Case(route, "applied_but_lost", driver="async")
        for route in ("files.create", "uploads.parts.create", "uploads.complete", "jobs.create")
    ],
    ids=lambda c: c.id,
)
def test_async_driver_rides_out_lost_answers(case: Case, state_dir: Path, data: Data) -> None:
    _check(case, state_dir, data)


@pytest.mark.parametrize(
    "case",
    [Case(route, "applied_but_lost", permanent=True) for route in ROUTES]
    + [Case(route, "503", permanent=True) for route in ("jobs.create", "uploads.parts.create")],
    ids=lambda c: c.id,
)
def test_permanent_fault_fails_typed_then_resume_finishes(
    case: Case, state_dir: Path, data: Data
) -> None:
    _check(case, state_dir, data)


# Every route meets one final status, in turn: each status is met on two or three routes.
_FINAL = [
    Case(route, "status", permanent=True, status=FINAL_STATUSES[i % len(FINAL_STATUSES)])
    for i, route in enumerate(ROUTES)
]


@pytest.mark.parametrize("case", _FINAL, ids=lambda c: c.id)
def test_final_status_fails_fast_with_the_typed_error(
    case: Case, state_dir: Path, data: Data
) -> None:
    outcome = run_case(case, state_dir, data)
    assert outcome.ok, outcome.describe()
    if case.expected != COMPLETES:
        error = outcome.error
        assert type(error) is ftkit.APIError, outcome.describe()
        assert not error.retryable
        assert error.status_code == case.status
        if case.route != "uploads.parts.create":  # parts already in flight may still land
            assert outcome.attempts == 1  # one request on the route, no second try


def test_expectations_are_what_the_docs_say() -> None:
    # The rule behind the table in docs/reliability.md, spelled out once.
    assert Case("jobs.create", "503", permanent=True).expected == "RetryExhausted"
    assert Case("jobs.create", "applied_but_lost", permanent=True).expected == COMPLETES
    assert Case("files.content", "503", permanent=True).expected == COMPLETES
    assert Case("jobs.retrieve", "slow", permanent=True).expected == COMPLETES
    assert Case("jobs.retrieve", "status", permanent=True, status=404).expected == "APIError"
    assert set(KINDS) == {"429", "500", "503", "reset", "slow", "timeout", "applied_but_lost"}
