#!/usr/bin/env python3
"""The reliability matrix of the SFT → DPO pipeline, as tables.

    python benchmarks/reliability.py [--api openai|azure-dated|azure-v1|together|fireworks|all]
                                     [--only matrix|crash] [--markdown]

Runs, against ftkit's fake API on a virtual clock (no network, no real waiting),
on each API surface (OpenAI's, Azure OpenAI's dated API and its v1 API, Together
AI's and Fireworks AI's; all five by default):

- every API call the pipeline makes × every fault kind, striking twice
  (*transient*, sync and async drivers) or every time until cleared
  (*permanent*; the run must end with the expected typed error, then a resume
  without the fault must finish);
- every API call × every status no retry can fix (400, 401, 403, 404, 422):
  the run must fail on the first answer, with the typed error;
- crash sweeps: the process "dies" after every request and before every
  manifest write of an undisturbed run, with the Files API, with the Uploads
  API (where the surface has one), with Azure's file import (dated API) and
  with Fireworks' signed-URL uploads, and a fresh handle resumes the run.

After every case the service is audited: one job per stage, no file uploaded
twice (on Fireworks: one dataset per file, and no dataset or job under an id
the run does not derive), a manifest that agrees with the service. The cases are the ones
``tests/reliability/`` asserts (this script runs the full cross products).
It prints the matrix and a summary, and exits 1 if any case went wrong or any
duplicate was found. This is a report, not a timing: nothing here is timed.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "reliability"))

import reliability_support as rs  # noqa: E402

SYMBOLS = {"ok": "ok", "expected": "err", "bad": "FAIL"}


@dataclass
class Tally:
    """One section of the summary, on one API surface."""

    api: str
    name: str
    cases: int = 0
    completed: int = 0
    failed_as_expected: int = 0
    unexpected: int = 0
    duplicates: int = 0

    def add(self, outcome: rs.Outcome) -> str:
        self.cases += 1
        self.duplicates += outcome.duplicates
        if not outcome.ok:
            self.unexpected += 1
            return "bad"
        if outcome.got == rs.COMPLETES:
            self.completed += 1
            return "ok"
        self.failed_as_expected += 1
        return "expected"


def _run_cases(
    api: str,
    name: str,
    cases: Iterable[rs.Case],
    folder: Path,
    data: rs.Data,
    failures: list[str],
) -> tuple[Tally, dict[rs.Case, str]]:
    tally = Tally(api, name)
    cells: dict[rs.Case, str] = {}
    for index, case in enumerate(cases):
        outcome = rs.run_case(case, folder / f"{api}-{name}-{index}", data)
        cells[case] = tally.add(outcome)
        if not outcome.ok or outcome.duplicates:
            failures.append(outcome.describe())
    return tally, cells


def _sweep(
    api: str,
    name: str,
    points: Iterable[int],
    run: Callable[[int], rs.SweepResult],
    failures: list[str],
) -> Tally:
    tally = Tally(api, name)
    for point in points:
        result = run(point)
        tally.cases += 1
        tally.duplicates += result.duplicates
        if result.problems or not result.crashed:
            tally.unexpected += 1
            failures.append(f"{api} {name} {result.point}: {'; '.join(result.problems)}")
        else:
            tally.completed += 1
    return tally


def _table(header: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(
        [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
        + [fmt.format(*row) for row in rows]
    )


def _matrix(
    api: rs.Api,
    title: str,
    cells: dict[rs.Case, str],
    columns: list[str],
    key: Callable[[str, str], rs.Case],
) -> tuple[str, list[str], list[list[str]]]:
    rows = []
    for route in api.routes:
        row = [route]
        for column in columns:
            cell = cells.get(key(route, column))
            row.append(SYMBOLS[cell] if cell else "-")
        rows.append(row)
    return title, ["call", *columns], rows


def _faults(
    api: rs.Api,
    folder: Path,
    data: rs.Data,
    failures: list[str],
    tallies: list[Tally],
    tables: list[tuple[str, list[str], list[list[str]]]],
) -> None:
    """Every route of ``api`` × every fault kind (three ways), and × every final status."""
    name = api.name
    kinds = list(rs.KINDS)
    for section, cases, keyer in (
        (
            "transient (sync)",
            rs.transient_cases(api=name),
            lambda r, k: rs.Case(r, k, api=name),
        ),
        (
            "transient (async)",
            [c for c in rs.transient_cases("async", name) if c.route not in rs.CANCELS],
            lambda r, k: rs.Case(r, k, driver="async", api=name),
        ),
        (
            "permanent",
            rs.permanent_cases(name),
            lambda r, k: rs.Case(r, k, permanent=True, api=name),
        ),
    ):
        tally, cells = _run_cases(name, section, cases, folder, data, failures)
        tallies.append(tally)
        tables.append(_matrix(api, f"{name}: {section} faults", cells, kinds, keyer))
    tally, cells = _run_cases(
        name, "final status", rs.final_status_cases(name), folder, data, failures
    )
    tallies.append(tally)
    tables.append(
        _matrix(
            api,
            f"{name}: statuses no retry can fix",
            cells,
            [str(s) for s in rs.FINAL_STATUSES],
            lambda r, s: rs.Case(r, "status", permanent=True, status=int(s), api=name),
        )
    )


def _crashes(
    api: rs.Api, folder: Path, data: rs.Data, failures: list[str], tallies: list[Tally]
) -> None:
    """Every request and every manifest write of each way ``api`` sends files."""
    name = api.name
    for setup in (s for s in api.setups if s != "cancel"):
        steps = rs.clean_run(folder / f"clean-{name}-{setup}", data, setup, name)
        tallies.append(
            _sweep(
                name,
                f"crash after request ({setup})",
                range(1, len(steps.requests) + 1),
                lambda n, s=setup: rs.crash_and_resume(  # type: ignore[misc]
                    folder / f"req-{name}-{s}-{n}", data, s, after_request=n, api=name
                ),
                failures,
            )
        )
        tallies.append(
            _sweep(
                name,
                f"crash before write ({setup})",
                range(1, steps.writes + 1),
                lambda n, s=setup: rs.crash_and_resume(  # type: ignore[misc]
                    folder / f"save-{name}-{s}-{n}", data, s, before_save=n, api=name
                ),
                failures,
            )
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--api",
        choices=[*rs.APIS, "all"],
        default="all",
        help="the API surface to run on (default: all of them)",
    )
    parser.add_argument("--only", choices=["matrix", "crash"], help="run one part only")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # expected warnings (unreadable result files...) are noise

    apis = list(rs.APIS.values()) if args.api == "all" else [rs.APIS[args.api]]
    started = time.perf_counter()
    failures: list[str] = []
    tallies: list[Tally] = []
    tables: list[tuple[str, list[str], list[list[str]]]] = []
    with tempfile.TemporaryDirectory(prefix="ftkit-reliability-") as tmp:
        folder = Path(tmp)
        data = rs.make_data(folder / "data")
        for api in apis:
            if args.only in (None, "matrix"):
                _faults(api, folder, data, failures, tallies, tables)
            if args.only in (None, "crash"):
                _crashes(api, folder, data, failures, tallies)

    for title, header, rows in tables:
        print(f"\n{title}  (ok: finished; err: failed with the expected typed error)\n")
        print(_table(header, rows, args.markdown))
    summary = [
        [
            t.api,
            t.name,
            str(t.cases),
            str(t.completed),
            str(t.failed_as_expected),
            str(t.unexpected),
            str(t.duplicates),
        ]
        for t in tallies
    ]
    total = [sum(int(row[i]) for row in summary) for i in range(2, 7)]
    summary.append(["total", "", *map(str, total)])
    print("\nsummary\n")
    header = [
        "api",
        "section",
        "cases",
        "completed",
        "failed as expected",
        "unexpected",
        "duplicates",
    ]
    print(_table(header, summary, args.markdown))
    print(f"\n{total[0]} cases in {time.perf_counter() - started:.0f} s")
    for failure in failures:
        print(failure, file=sys.stderr)
    return 1 if failures or total[4] else 0


if __name__ == "__main__":
    sys.exit(main())
