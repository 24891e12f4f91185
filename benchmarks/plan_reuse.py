#!/usr/bin/env python3
"""What reusing the plan saves ``ftkit run``: one validation pass per file instead of two.

    python benchmarks/plan_reuse.py [--mb 50] [--runs 3] [--workdir DIR]

``ftkit run`` prints the plan (every file validated and estimated) and then runs it.
``run()`` starts from that plan while the files are unchanged (size, mtime and
SHA-256, see ``ftkit.pipeline._plan.plan_holds``), so each file is scanned once.
This script times, in fresh processes, the whole command on an SFT workload (made
by ``benchmarks/make_dataset.py``, kept in ``--workdir``) against ftkit's fake:

- ``reused``: ``ftkit run --fake`` as shipped;
- ``planned twice``: the same command with the reuse switched off in the child
  (``plan_holds`` answering False), which is what ``ftkit run`` did before;
- ``validate``: ``ftkit validate`` on the file alone, one scan, for scale.

It prints each case's median wall time (interpreter start-up included), its
range, and the saving. A benchmark, not a test: the suite times nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MAKER = Path(__file__).resolve().with_name("make_dataset.py")
MODEL = "gpt-4.1-mini-2025-04-14"
CASES = ("reused", "planned twice", "validate")


def _child(case: str, path: str, state: str) -> None:
    """Run one case in this (fresh) process."""
    from ftkit.cli import main

    if case == "planned twice":
        import ftkit.pipeline._builder as builder

        builder.plan_holds = lambda *args, **kwargs: False  # type: ignore[assignment]
    if case == "validate":
        argv = ["validate", path, "--model", MODEL, "--json"]
    else:
        argv = ["run", "--fake", "--model", MODEL, "--sft", path, "--state-dir", state]
        argv += ["--no-progress", "--json"]
    code = main(argv)
    if code != 0:
        raise SystemExit(f"{case}: exit {code}")


def _time(case: str, path: Path, workdir: Path) -> float:
    state = tempfile.mkdtemp(dir=workdir)  # a fresh state folder: no earlier run is found
    command = [sys.executable, str(Path(__file__).resolve()), "--child", case, str(path), state]
    env = {**os.environ, "FTKIT_TIKTOKEN_DOWNLOAD": "0"}
    started = time.perf_counter()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run(command, check=True, cwd=REPO, env=env, **quiet)
    return time.perf_counter() - started


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], sys.argv[4])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=50.0, help="workload size (default 50)")
    parser.add_argument("--runs", type=int, default=3, help="runs per case (default 3)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the workload here")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ftkit-plan-reuse-"))
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"sft-{args.mb:g}mb.jsonl"
    if not path.is_file():
        subprocess.run(
            [sys.executable, str(MAKER), str(path), "--kind", "sft", "--mb", str(args.mb)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    _time("validate", path, workdir)  # untimed warm-up: bytecode and page cache
    times: dict[str, list[float]] = {case: [] for case in CASES}
    for _ in range(args.runs):
        for case in CASES:  # interleaved, so drift on a shared machine hits every case
            times[case].append(_time(case, path, workdir))

    size = path.stat().st_size / 1e6
    print(f"cpus: {os.cpu_count()}  file: {size:.0f} MB SFT  runs: {args.runs} (medians)")
    print(f"{'case':<15}{'seconds':>9}{'min-max':>14}{'vs planned twice':>18}")
    reference = statistics.median(times["planned twice"])
    for case in CASES:
        median = statistics.median(times[case])
        spread = f"{min(times[case]):.2f}-{max(times[case]):.2f}"
        print(f"{case:<15}{median:>9.2f}{spread:>14}{reference / median:>17.2f}x")


if __name__ == "__main__":
    main()
