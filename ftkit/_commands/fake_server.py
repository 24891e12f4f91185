"""``ftkit fake-server``: serve the fake fine-tuning API on 127.0.0.1 for tests and demos.

Any openai client (or other language's client) can then run against it with
``OPENAI_BASE_URL=http://127.0.0.1:<port>/v1``; with ``--provider azure`` the
server speaks Azure OpenAI instead, both its dated API
(``AZURE_OPENAI_ENDPOINT=http://127.0.0.1:<port>``, ``/openai/...?api-version=``)
and its v1 API (``http://127.0.0.1:<port>/openai/v1/``); with ``--provider together``
it speaks Together AI's (``together.Together(base_url="http://127.0.0.1:<port>")``,
``TOGETHER_BASE_URL``); with ``--provider fireworks`` Fireworks AI's
(``fireworks.Fireworks(base_url="http://127.0.0.1:<port>", account_id=...)``,
``FIREWORKS_BASE_URL`` and ``FIREWORKS_ACCOUNT_ID``). Time on the server is
virtual: it moves ``--speed`` virtual seconds per real second, plus ``--tick``
per API request, plus whatever ``POST /_fake/advance {"seconds": N}`` adds. It
accepts any ``sk-`` key (Azure, Together, Fireworks: any non-empty key) unless ``--api-key`` names
the only ones, so a client's handling of a rejected key can be tested.
``--latency-ms`` makes every request wait that long in real time before its
answer, as a distant API would, so upload and polling speed can be measured
(``benchmarks/upload.py``).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from typing import Any

from .._exceptions import UsageError
from ._command import Command, flag

__all__ = ["register"]

_EPILOG = """examples:
  ftkit fake-server --port 8089 --api-key sk-test-a --api-key sk-test-b   # other keys get 401
  ftkit fake-server --speed 600 --provider azure --json   # one JSON line: its addresses
                    # (--latency-ms 50: every answer 50 ms late, as over a network)
  OPENAI_BASE_URL=http://127.0.0.1:8089/v1 OPENAI_API_KEY=sk-test-a ftkit run --model ...
"""

_REAL_STEP = 0.1  # seconds between clock advances when --speed is set


def _run(args: argparse.Namespace) -> int:
    from ..testing import FakeFineTuningAPI

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, got {args.port}")
    if args.speed < 0 or args.tick < 0 or args.latency_ms < 0:
        raise UsageError("--speed, --tick and --latency-ms must not be negative")
    if args.api_keys and not all(key.strip() for key in args.api_keys):
        raise UsageError("--api-key must not be blank")
    fake = FakeFineTuningAPI(
        provider=args.provider, auto_advance=args.tick, seed=args.seed, api_keys=args.api_keys
    )
    if args.refuse_training:
        fake.refuse_training()
    try:
        server = fake.serve(port=args.port, latency=args.latency_ms / 1000)
    except OSError as exc:
        raise UsageError(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror}") from exc
    stop = threading.Event()
    if args.speed > 0:
        threading.Thread(
            target=_drive_clock, args=(fake, args.speed, stop), name="fake-clock", daemon=True
        ).start()
    addresses = fake.addresses(f"http://127.0.0.1:{server.port}")
    if args.json:
        print(json.dumps({"provider": fake.provider, **addresses}), flush=True)
    else:
        _announce(fake.provider, addresses, keyed=bool(args.api_keys))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        stop.set()
        server.close()
    return 0


def _announce(provider: str, addresses: dict[str, str], *, keyed: bool) -> None:
    # The keys themselves are never printed: no API key in logs, even a test one.
    key = "<an --api-key value>" if keyed else ("sk-fake" if provider == "openai" else "any-key")
    if provider == "fireworks":
        base_url = addresses["base_url"]
        print(f"ftkit fake server (Fireworks AI) listening on {base_url}", flush=True)
        print(
            f"  FIREWORKS_BASE_URL={base_url} FIREWORKS_API_KEY={key} "
            f"FIREWORKS_ACCOUNT_ID={addresses['account_id']}  "
            "(fireworks.Fireworks(base_url=..., account_id=...): the origin, without /v1)",
            flush=True,
        )
        return
    if provider == "together":
        base_url = addresses["base_url"]
        print(f"ftkit fake server (Together AI) listening on {base_url}", flush=True)
        print(
            f"  TOGETHER_BASE_URL={base_url} TOGETHER_API_KEY={key}  "
            "(together.Together(base_url=...): the origin, without /v1)",
            flush=True,
        )
        return
    if provider == "azure":
        endpoint, version = addresses["azure_endpoint"], addresses["api_version"]
        print(f"ftkit fake server (Azure OpenAI) listening on {endpoint}", flush=True)
        print(
            f"  dated API: AZURE_OPENAI_ENDPOINT={endpoint} AZURE_OPENAI_API_KEY={key} "
            f"OPENAI_API_VERSION={version}  (openai.AzureOpenAI; any api_version)",
            flush=True,
        )
        print(
            f"  v1 API:    OPENAI_BASE_URL={addresses['v1_base_url']} OPENAI_API_KEY={key}  "
            "(openai.OpenAI)",
            flush=True,
        )
        return
    print(f"ftkit fake server listening on {addresses['base_url']}", flush=True)
    print(f"  OPENAI_BASE_URL={addresses['base_url']} OPENAI_API_KEY={key}", flush=True)


def _drive_clock(fake: Any, speed: float, stop: threading.Event) -> None:
    # Real time drives the virtual clock here: this is a server for humans and other
    # processes, not a test (tests move the clock themselves, deterministically).
    while not stop.wait(_REAL_STEP):
        fake.clock.advance(_REAL_STEP * speed)


register = Command(
    "fake-server",
    help="serve a fake fine-tuning API on 127.0.0.1 (for tests)",
    description=(
        "Serve a stateful fake of the fine-tuning API (files, uploads, jobs, events, "
        "checkpoints, models) on 127.0.0.1 only. Point a client at it with "
        "OPENAI_BASE_URL=http://127.0.0.1:PORT/v1, or, with --provider azure, "
        "AZURE_OPENAI_ENDPOINT=http://127.0.0.1:PORT (or the v1 API at "
        "http://127.0.0.1:PORT/openai/v1/), or, with --provider together, "
        "TOGETHER_BASE_URL=http://127.0.0.1:PORT, or, with --provider fireworks, "
        "FIREWORKS_BASE_URL=http://127.0.0.1:PORT and FIREWORKS_ACCOUNT_ID. Ctrl-C stops it."
    ),
    epilog=_EPILOG,
    flags=(
        flag(
            "--provider",
            choices=("openai", "azure", "together", "fireworks"),
            default="openai",
            help="whose API to speak: OpenAI's (/v1), Azure OpenAI's (its dated API at "
            "/openai/...?api-version= and its v1 API at /openai/v1/), Together AI's "
            "(/v1/fine-tunes...) or Fireworks AI's (/v1/accounts/...); default openai",
        ),
        flag(
            "--port", type=int, default=0, help="TCP port on 127.0.0.1 (default 0: pick a free one)"
        ),
        flag(
            "--speed",
            type=float,
            default=60.0,
            help="virtual seconds that pass per real second (default 60; 0 freezes the clock)",
        ),
        flag(
            "--tick",
            type=float,
            default=0.0,
            help="virtual seconds added by every API request (default 0)",
        ),
        flag(
            "--latency-ms",
            type=float,
            default=0.0,
            metavar="MS",
            help="real milliseconds every request waits before its answer, as a distant "
            "API's round trip (default 0; for benchmarks)",
        ),
        flag(
            "--seed",
            type=int,
            help="seed for ids, for reproducible ids (default: a fresh random seed per server)",
        ),
        flag(
            "--api-key",
            dest="api_keys",
            action="append",
            metavar="KEY",
            help="accept only this key (repeat for several); default: any sk- key "
            "(Azure, Together, Fireworks: any non-empty key)",
        ),
        flag(
            "--refuse-training",
            action="store_true",
            help="answer job creation with 403 training_not_available",
        ),
        flag(
            "--json",
            action="store_true",
            help="announce the addresses as one JSON line (for scripts that start the server)",
        ),
    ),
    run=_run,
).register
