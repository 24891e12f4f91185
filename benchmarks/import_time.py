#!/usr/bin/env python3
"""How long ``import ftkit`` takes next to ``import openai``, in fresh interpreters.

    python benchmarks/import_time.py [--runs 7]

``import ftkit`` must stay well under a third of ``import openai``: services
import ftkit at start-up, and the validator and analyzer must not pay for the
client. Each figure is the median of several fresh processes; the script
also prints which heavy modules the import loaded (none is expected).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

_PROBE = (
    "import sys, time; t = time.perf_counter(); import {module}; "
    "d = time.perf_counter() - t; "
    "heavy = [m for m in ('openai', 'httpx2', 'pydantic', 'tiktoken') if m in sys.modules]; "
    "print(d, ','.join(heavy))"
)


def measure(module: str, runs: int) -> tuple[float, str]:
    times = []
    heavy = ""
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _PROBE.format(module=module)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        times.append(float(out[0]))
        heavy = out[1] if len(out) > 1 else ""
    return statistics.median(times), heavy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    rows = [(module, *measure(module, args.runs)) for module in ("ftkit", "openai")]
    print(f"{'import':<10}{'median ms':>12}  heavy modules loaded")
    for module, seconds, heavy in rows:
        print(f"{module:<10}{seconds * 1000:>12.1f}  {heavy or '-'}")
    ratio = rows[0][1] / rows[1][1]
    print(f"ftkit / openai: {ratio:.2f} (target: well under 0.33)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
