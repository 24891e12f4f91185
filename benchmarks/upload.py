#!/usr/bin/env python3
"""Upload speed and memory of ftkit against the openai SDK's own chunked upload.

    python benchmarks/upload.py [--mb 30] [--latency-ms 50] [--runs 3]
                                [--part-mb 64] [--concurrency 4] [--workdir DIR]

The issue's figures: ``--mb 300 --latency-ms 50 --runs 5``.

Every run starts a fresh ``ftkit fake-server --latency-ms`` (so each request waits
that long, as over a network, and no run finds an earlier run's file), then one
client in a fresh child process uploads a JSONL workload (made by
``benchmarks/make_dataset.py``, kept in ``--workdir``) to it:

- ``ftkit files``: ``upload_file`` as a user calls it (files up to 512 MB in one
  Files API request, after looking for an identical file already uploaded);
- ``ftkit uploads``: ``upload_file`` forced through the Uploads API
  (``files_api_limit=0``), ``--concurrency`` parts of ``--part-mb`` in flight;
- ``sdk chunked``: ``client.uploads.upload_file_chunked``, the openai SDK's
  helper (the same parts, one after another, no hashing, no lookup);
- ``sdk files``: ``client.files.create`` with the open file (one request).

The figures are whole-process: wall time from starting the child to its exit
(interpreter start-up and imports included) and the child's peak RSS (from
``wait4``), the median of ``--runs`` runs each, with the speed-up over ``sdk
chunked``. The server runs in its own process and is not counted in memory. Each
child checks that the file the server reports has the workload's size. This is a
benchmark, not a test: nothing here is timed by the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MAKER = Path(__file__).resolve().with_name("make_dataset.py")
MIB = 1024 * 1024
CASES = ("ftkit files", "ftkit uploads", "sdk chunked", "sdk files")
BASELINE = "sdk chunked"


# ----------------------------------------------------------------------------- child runs


def _client(base_url: str) -> Any:
    import httpx2
    import openai

    # trust_env=False: a proxy variable on the machine must not capture loopback traffic.
    return openai.OpenAI(
        api_key="sk-bench",
        base_url=base_url,
        max_retries=0,
        timeout=600,
        http_client=httpx2.Client(trust_env=False, timeout=600),
    )


def _run_child(case: str, base_url: str, path: str, part_size: int, concurrency: int) -> None:
    client = _client(base_url)
    if case.startswith("ftkit"):
        from ftkit.backend import OpenAIBackend, upload_file

        options: dict[str, Any] = {"part_size": part_size, "concurrency": concurrency}
        if case == "ftkit uploads":
            options["files_api_limit"] = 0
        result = upload_file(OpenAIBackend(client), path, **options)
        size, via = result.file.bytes, result.via
    elif case == "sdk chunked":
        upload = client.uploads.upload_file_chunked(
            file=Path(path), mime_type="text/jsonl", purpose="fine-tune", part_size=part_size
        )
        size, via = upload.bytes, "uploads"
    else:
        with open(path, "rb") as handle:
            created = client.files.create(file=handle, purpose="fine-tune")
        size, via = created.bytes, "files"
    print(json.dumps({"bytes": size, "via": via}))


# ----------------------------------------------------------------------------- measuring


def _child_env(pycache: str) -> dict[str, str]:
    """Bytecode cached in a private folder, as for an installed package."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = pycache
    return env


class _Server:
    """A fresh ``ftkit fake-server`` in its own process, for one run."""

    def __init__(self, latency_ms: float, env: dict[str, str]) -> None:
        command = [sys.executable, "-m", "ftkit", "fake-server", "--json", "--speed", "0"]
        command += ["--latency-ms", str(latency_ms)]
        self._process = subprocess.Popen(
            command, stdout=subprocess.PIPE, text=True, cwd=REPO, env=env
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise SystemExit("ftkit fake-server did not start")
        self.base_url: str = json.loads(line)["base_url"]

    def __enter__(self) -> _Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self._process.terminate()
        self._process.wait(timeout=30)


def measure(case: str, path: Path, args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    """One upload in a fresh child against a fresh server: wall seconds and peak RSS."""
    with _Server(args.latency_ms, env) as server:
        command = [sys.executable, str(Path(__file__).resolve()), "--child", case]
        command += [server.base_url, str(path), str(args.part_mb * MIB), str(args.concurrency)]
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=REPO, env=env)
        assert child.stdout is not None
        out = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{case} failed (exit {child.returncode})")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    if result["bytes"] != path.stat().st_size:
        raise SystemExit(f"{case}: the server holds {result['bytes']} bytes, not the file's")
    # ru_maxrss is in KiB on Linux.
    return {**result, "seconds": seconds, "rss_mb": usage.ru_maxrss / 1024}


def make_workload(folder: Path, mb: float) -> Path:
    path = folder / f"mixed-{mb:g}mb.jsonl"
    if not path.exists():
        subprocess.run(
            [sys.executable, str(MAKER), str(path), "--kind", "mixed", "--mb", str(mb)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return path


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="the issue's figures: --mb 300 --latency-ms 50 --runs 5",
    )
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--mb", type=float, default=30, help="workload size in MB (default 30)")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=50,
        help="real milliseconds the server waits before every answer (default 50)",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per case; medians (default 3)")
    parser.add_argument(
        "--part-mb", type=int, default=64, help="Uploads API part size in MiB (default 64)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=4, help="ftkit's parts in flight (default 4)"
    )
    parser.add_argument(
        "--cases",
        default=",".join(CASES),
        help=f"comma-separated cases to run (default: all of {', '.join(CASES)})",
    )
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where workloads are kept (default: temp)"
    )
    args = parser.parse_args()
    if args.child:
        case, base_url, path, part_size, concurrency = args.child
        _run_child(case, base_url, path, int(part_size), int(concurrency))
        return 0
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = set(cases) - set(CASES)
    if unknown:
        parser.error(f"unknown cases: {', '.join(sorted(unknown))}")
    folder = args.workdir or Path(tempfile.mkdtemp(prefix="ftkit-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = make_workload(folder, args.mb)
    with tempfile.TemporaryDirectory(prefix="ftkit-bench-pycache-") as pycache:
        env = _child_env(pycache)
        small = make_workload(folder, 0.1)
        for case in cases:  # untimed: fills the bytecode cache
            measure(case, small, args, env)
        return _compare(cases, path, args, env)


def _compare(cases: list[str], path: Path, args: argparse.Namespace, env: dict[str, str]) -> int:
    size_mb = path.stat().st_size / 1e6
    print(
        f"cpus: {os.cpu_count()}  file: {size_mb:,.0f} MB  latency: {args.latency_ms:g} ms"
        f"  part: {args.part_mb} MiB  ftkit concurrency: {args.concurrency}"
        f"  runs: {args.runs} (medians)"
    )
    print(
        f"{'client':<15}{'via':<9}{'seconds':>9}{'min-max':>13}{'MB/s':>8}{'RSS MB':>8}"
        f"{'speed-up':>10}"
    )
    medians: dict[str, dict[str, Any]] = {}
    for case in cases:
        runs = [measure(case, path, args, env) for _ in range(max(1, args.runs))]
        seconds = [r["seconds"] for r in runs]
        medians[case] = {
            "via": runs[0]["via"],
            "seconds": statistics.median(seconds),
            "range": f"{min(seconds):.2f}-{max(seconds):.2f}",
            "rss_mb": statistics.median(r["rss_mb"] for r in runs),
        }
    base = medians.get(BASELINE)
    for case, got in medians.items():
        ratio = f"{base['seconds'] / got['seconds']:.2f}x" if base else "-"
        print(
            f"{case:<15}{got['via']:<9}{got['seconds']:>9.2f}{got['range']:>13}"
            f"{size_mb / got['seconds']:>8.0f}{got['rss_mb']:>8.0f}{ratio:>10}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
