"""``ftkit deploy RUN``: deploy a run's fine-tuned model (Azure, Fireworks) until it serves.

On Azure the deployment is created on Azure Resource Manager (``RunResult.deploy``),
so it needs the account's subscription, resource group and name, and an ARM token:
by default from azure-identity (``pip install 'ftkit[azure]'``: ``az login``,
environment credentials, a managed identity...), or from ``--token-command``, a
command that prints one (``az account get-access-token --query accessToken -o
tsv``). The token is never printed, logged or stored. On Fireworks it is a
dedicated deployment created through the fireworks client of the environment
(``FIREWORKS_API_KEY``, ``FIREWORKS_ACCOUNT_ID``), with ``--min-replicas``,
``--max-replicas`` and ``--accelerator``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._exceptions import UsageError, WaitTimeout
from ._args import whole_number
from ._command import RUN, STATE_DIR, Command, flag, json_flag

__all__ = ["command_token", "register"]

_EPILOG = """examples:
  ftkit deploy ftr-20261126T101500-3f9a1c2e --subscription 00000000-0000-0000-0000-000000000000 \\
               --resource-group my-rg --account my-aoai
  ftkit deploy ftr-20261204T101500-8d2e4f10 --max-replicas 2     # a Fireworks run

The token comes from azure-identity (az login, environment credentials, a managed
identity); without it, give a command that prints one:
  --token-command "az account get-access-token --query accessToken -o tsv"

Deploying the same run again adopts its deployment (the default name comes from the
model). A deployment is billed by the hour while it exists, used or not; Azure deletes one
inactive for 15 days (a Developer-tier one after 24 hours). Delete it when done:
  az cognitiveservices account deployment delete -g RG -n A --deployment-name NAME
A Fireworks deployment is billed per GPU-second while a replica runs; with
--min-replicas 0 (the default) it scales to zero when idle.
Exit status: 0 serving, 1 failed, timed out or refused by the provider, 2 usage error.
"""

_TOKEN_REUSE_SECONDS = 30 * 60.0
"""How long a token printed by --token-command is reused (ARM tokens last an hour or more)."""


def command_token(command: str) -> Callable[[], str]:
    """A token source that runs ``command`` (no shell) and reads the token it prints.

    The command is run again when its token is 30 minutes old. Its standard error
    passes through to the terminal (``az`` prints its warnings there); what it
    prints on standard output is never shown.

    Raises:
        UsageError: the command is empty, cannot be started, fails or prints nothing.
    """
    argv = shlex.split(command)
    if not argv:
        raise UsageError("--token-command is empty")
    cached: list[tuple[float, str]] = []

    def fetch() -> str:
        if cached and time.monotonic() - cached[0][0] < _TOKEN_REUSE_SECONDS:
            return cached[0][1]
        try:
            done = subprocess.run(argv, stdout=subprocess.PIPE, text=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise UsageError(f"--token-command could not run {argv[0]!r}: {exc}") from None
        if done.returncode != 0:
            raise UsageError(f"--token-command exited with status {done.returncode}")
        lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
        if not lines:
            raise UsageError("--token-command printed no token on its standard output")
        cached[:] = [(time.monotonic(), lines[-1])]
        return lines[-1]

    return fetch


def _run(args: argparse.Namespace) -> int:
    from ..pipeline import RunResult
    from ..pipeline._manifest import Manifest, find_manifest

    path = find_manifest(args.run, Path(args.state_dir) if args.state_dir else None)
    manifest = Manifest.load(path)
    result = RunResult.from_manifest(manifest, path)
    token = command_token(args.token_command) if args.token_command else None
    if manifest.provider == "azure" and result.fine_tuned_model:  # else deploy() says why not
        print(
            f"deploying {result.fine_tuned_model} on account {args.account} "
            "(it can take minutes)...",
            file=sys.stderr,
        )
    client = None
    if manifest.provider == "fireworks":
        from ..backend._clients import env_client

        client = env_client(False, "fireworks")
    try:
        # Each provider's settings; deploy() refuses the other provider's.
        deployment = result.deploy(
            subscription=args.subscription,
            resource_group=args.resource_group,
            account=args.account,
            name=args.name,
            sku=args.sku,
            capacity=args.capacity,
            token=token,
            arm_endpoint=args.arm_endpoint,
            client=client,
            min_replicas=args.min_replicas,
            max_replicas=args.max_replicas,
            accelerator_type=args.accelerator,
        )
    except WaitTimeout as exc:  # the CLI's hint speaks of jobs; this one is a deployment
        print(f"ftkit: error: {exc}", file=sys.stderr)
        print(f"  hint: run the same `ftkit deploy {args.run} ...` again", file=sys.stderr)
        return 1
    _print(deployment, as_json=args.json)
    return 0


def _print(deployment: Any, *, as_json: bool) -> None:
    if as_json:
        json.dump(deployment.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(deployment)


register = Command(
    "deploy",
    help="deploy a run's fine-tuned model (Azure ARM, Fireworks) and wait until it serves",
    description=(
        "Create (or adopt) the deployment of a run's fine-tuned model and wait until it "
        "serves; print its name, how to call it and what it costs. Azure: on the "
        "management plane; needs httpx and, unless --token-command is given, "
        "azure-identity: pip install 'ftkit[azure]'. The identity needs "
        "Microsoft.CognitiveServices/accounts/deployments/write on the account. "
        "Fireworks: a dedicated deployment, through the environment's fireworks client."
    ),
    epilog=_EPILOG,
    flags=(
        RUN,
        flag("--subscription", metavar="ID", help="Azure: subscription id (required there)"),
        flag(
            "--resource-group",
            metavar="RG",
            help="Azure: resource group of the Azure OpenAI / Foundry account (required there)",
        ),
        flag("--account", metavar="A", help="Azure: the account (resource) name (required there)"),
        flag("--name", metavar="N", help="deployment name (default: from the model)"),
        flag(
            "--sku",
            metavar="SKU",
            help="Standard (default for OpenAI models), GlobalStandard (open-source "
            "models), developer (GPT-4.1 family: no hosting fee, deleted after 24 h)",
        ),
        flag(
            "--capacity",
            type=whole_number(1),
            metavar="N",
            help="thousands of tokens per minute, from quota (default 100; developer 50)",
        ),
        flag(
            "--token-command",
            metavar="CMD",
            help="a command printing an ARM token, e.g. "
            '"az account get-access-token --query accessToken -o tsv" '
            "(default: azure-identity)",
        ),
        flag(
            "--arm-endpoint",
            metavar="URL",
            help="the management endpoint (default https://management.azure.com; a "
            "sovereign cloud's, or a fake server's)",
        ),
        flag(
            "--min-replicas",
            type=whole_number(0),
            default=0,
            metavar="N",
            help="Fireworks: fewest replicas (default 0: scales to zero when idle)",
        ),
        flag(
            "--max-replicas",
            type=whole_number(1),
            default=1,
            metavar="N",
            help="Fireworks: most replicas (default 1)",
        ),
        flag(
            "--accelerator",
            metavar="GPU",
            help="Fireworks: a replica's accelerator, e.g. NVIDIA_H100_80GB (default: "
            "Fireworks' choice)",
        ),
        STATE_DIR,
        json_flag("the deployment"),
    ),
    run=_run,
).register
