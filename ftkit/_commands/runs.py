"""``ftkit plan | run | status | resume | cancel | runs``: the pipeline from a terminal.

``--fake`` runs against ftkit's in-process fake fine-tuning API on a virtual
clock: the whole SFT → DPO pipeline in seconds, with no key and no network;
``run --provider azure --fake`` against its Azure OpenAI fake, through an
``openai.AzureOpenAI`` client (the dated API); ``run --provider together --fake``
against its Together AI fake, through a ``together.Together`` client;
``run --provider fireworks --fake`` against its Fireworks AI fake, through a
``fireworks.Fireworks`` client.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any

from .._exceptions import UsageError
from ._args import check_upload_file, epochs, number

__all__ = ["register"]

_EPILOG_RUN = """examples:
  ftkit run --fake --model gpt-4.1-mini-2025-04-14 --sft train.jsonl --dpo prefs.jsonl
  ftkit run --provider azure --fake --model gpt-4.1-mini-2025-04-14 --sft train.jsonl
  ftkit run --provider together --fake --model meta-llama/Meta-Llama-3.1-8B-Instruct-Reference \
            --sft train.jsonl --dpo prefs.jsonl --option lora_r=16 --option learning_rate=1e-5
  ftkit run --provider fireworks --fake --model accounts/fireworks/models/llama-v3p1-8b-instruct \
            --sft train.jsonl --dpo prefs.jsonl --option lora_rank=16
  ftkit run --model gpt-4.1-mini-2025-04-14 --sft train.jsonl --sft-validation val.jsonl \\
            --max-cost 20

The client comes from the environment: OPENAI_API_KEY (and OPENAI_BASE_URL), or
AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY and OPENAI_API_VERSION for Azure OpenAI
(chosen when AZURE_OPENAI_ENDPOINT is set, or always with --provider azure), or
TOGETHER_API_KEY with --provider together, or FIREWORKS_API_KEY and
FIREWORKS_ACCOUNT_ID with --provider fireworks.
A --fake run lives in this process only: its manifest stays, its jobs do not.
Exit status: 0 model ready, 1 dataset errors, failed job or timeout, 2 usage error,
130 Ctrl-C (the job keeps running: `ftkit resume RUN`).
"""

_EPILOG_PLAN = """examples:
  ftkit plan --model gpt-4.1-mini-2025-04-14 --sft train.jsonl --dpo prefs.jsonl
  ftkit plan --model gpt-4.1-mini-2025-04-14 --sft train.jsonl --json | jq .cost_usd

Exit status: 0 ready, 1 a file has errors, 2 usage error.
"""

_EPILOG_RUN_ID = """examples:
  ftkit {name} ftr-20261126T101500-3f9a1c2e
  ftkit {name} .ftkit/runs/ftr-20261126T101500-3f9a1c2e.json --json
"""


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="base model, e.g. gpt-4.1-mini-2025-04-14")
    parser.add_argument("--sft", metavar="FILE", help="SFT training file (.jsonl)")
    parser.add_argument("--sft-validation", metavar="FILE", help="SFT validation file")
    parser.add_argument("--epochs", type=epochs, default="auto", help="SFT epochs (default auto)")
    parser.add_argument("--dpo", metavar="FILE", help="DPO preference file; trains the SFT model")
    parser.add_argument("--dpo-validation", metavar="FILE", help="DPO validation file")
    parser.add_argument("--beta", type=number, default=None, help="DPO beta in (0, 2]")
    parser.add_argument("--suffix", help="text in the fine-tuned model's name (1-64 chars)")
    parser.add_argument("--seed", type=int, default=None, help="training seed")
    parser.add_argument(
        "--training-type",
        metavar="TYPE",
        help="Azure OpenAI's training type: standard, globalstandard or developer "
        "(open-source base models need globalstandard)",
    )
    parser.add_argument("--state-dir", metavar="DIR", help="where run manifests live")
    parser.add_argument(
        "--fake",
        action="store_true",
        help="use ftkit's in-process fake API (no key, no network, virtual time)",
    )


def _add_progress_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (it is only drawn on a terminal, never in CI)",
    )


def register(subparsers: Any) -> None:
    """Add the pipeline subcommands."""
    plan = subparsers.add_parser(
        "plan",
        help="validate files and estimate every stage, without the network",
        description="Show what `ftkit run` would do: reports, estimates, and the jobs.",
        epilog=_EPILOG_PLAN,
    )
    _add_config_flags(plan)
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    plan.set_defaults(func=_plan)

    run = subparsers.add_parser(
        "run",
        help="upload, train SFT and/or DPO, and wait for the model",
        description=(
            "Validate, upload (reusing identical files), create each job exactly once and "
            "wait for it. Ctrl-C stops waiting; the job keeps running: `ftkit resume RUN`."
        ),
        epilog=_EPILOG_RUN,
    )
    _add_config_flags(run)
    _add_progress_flag(run)
    run.add_argument(
        "--provider",
        choices=("openai", "azure", "together", "fireworks"),
        default=None,
        help="whose API to use: the client from that provider's environment (azure: "
        "AZURE_OPENAI_ENDPOINT...; together: TOGETHER_API_KEY; fireworks: FIREWORKS_API_KEY "
        "and FIREWORKS_ACCOUNT_ID) or, with --fake, that "
        "provider's fake; default: Azure OpenAI when AZURE_OPENAI_ENDPOINT is set, else OpenAI",
    )
    run.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a provider job option, repeatable (Together: lora_r=16, learning_rate=1e-5, "
        "n_evals=2, train_on_inputs=false...; Fireworks: lora_rank=16, learning_rate=1e-4, "
        "max_context_length=8192...)",
    )
    run.add_argument(
        "--max-cost",
        type=number,
        metavar="USD",
        help="refuse to start if the estimate is above this",
    )
    run.add_argument("--json", action="store_true", help="print the result as JSON")
    run.set_defaults(func=_run)

    for name, helptext in (
        ("status", "show a run's stages and jobs (from its manifest)"),
        ("resume", "continue a run after a crash, Ctrl-C or timeout"),
        ("cancel", "cancel the current job of a run"),
    ):
        sub = subparsers.add_parser(
            name, help=helptext, description=helptext, epilog=_EPILOG_RUN_ID.format(name=name)
        )
        sub.add_argument("run", metavar="RUN", help="run id or manifest path")
        sub.add_argument("--state-dir", metavar="DIR", help="where run manifests live")
        sub.add_argument("--json", action="store_true", help="print JSON")
        if name == "resume":
            _add_progress_flag(sub)
        sub.set_defaults(func={"status": _status, "resume": _resume, "cancel": _cancel}[name])

    runs = subparsers.add_parser(
        "runs",
        help="list runs",
        description="List the runs in the state folder, newest first.",
        epilog="examples:\n  ftkit runs\n  FTKIT_STATE_DIR=~/ft ftkit runs --json\n",
    )
    runs.add_argument("--state-dir", metavar="DIR", help="where run manifests live")
    runs.add_argument("--json", action="store_true", help="print JSON")
    runs.set_defaults(func=_runs)


def _builder(args: argparse.Namespace, client: Any) -> Any:
    from ..pipeline import FineTune

    if not args.sft and not args.dpo:
        raise UsageError("give --sft FILE and/or --dpo FILE")
    for flag in ("--sft", "--sft-validation", "--dpo", "--dpo-validation"):
        check_upload_file(getattr(args, flag[2:].replace("-", "_")), flag)
    # ``--provider`` (``run`` only): the client from that provider's environment, or
    # the check that the fake's client is that provider's.
    ft = FineTune(client, provider=getattr(args, "provider", None)).model(args.model)
    if args.sft:
        ft = ft.sft(args.sft, validation=args.sft_validation, epochs=args.epochs)
    if args.dpo:
        ft = ft.dpo(
            args.dpo,
            validation=args.dpo_validation,
            beta=args.beta if args.beta is not None else "auto",
        )
    if args.suffix:
        ft = ft.suffix(args.suffix)
    if args.seed is not None:
        ft = ft.seed(args.seed)
    if args.training_type:
        ft = ft.training_type(args.training_type)
    options = _options(getattr(args, "option", None) or [])
    if options:
        ft = ft.options(**options)
    if args.state_dir:
        ft = ft.state_dir(args.state_dir)
    return ft


def _options(pairs: list[str]) -> dict[str, Any]:
    """``--option NAME=VALUE`` pairs; a value is read as JSON (1e-5, true, "x") else text."""
    options: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--option takes NAME=VALUE, got {pair!r}")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        if isinstance(value, (list, dict)):
            raise UsageError(f"--option {name} takes a number, a bool or text")
        options[name.strip()] = value
    return options


def _fake_wiring(ft: Any) -> Any:
    # The fake's client carries its virtual clock; only the pace is set here (a poll
    # every 30 virtual seconds, backing off to 5 minutes), for readable progress.
    from ..polling import PollPolicy

    return ft.poll(PollPolicy(initial_delay=30.0, max_delay=300.0))


def _progress(stream: Any, args: argparse.Namespace, *, virtual_time: bool = False) -> Any:
    from .._progress import RunProgress

    return RunProgress(
        stream, enabled=False if args.no_progress else None, virtual_time=virtual_time
    )


def _plan(args: argparse.Namespace) -> int:
    plan = _builder(args, client=None).plan()
    if args.json:
        json.dump(plan.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(plan)
    return 0 if plan.ok else 1


def _run(args: argparse.Namespace) -> int:
    client: Any = None
    fake = None
    if args.fake:
        from ..testing import FakeFineTuningAPI
        from ..testing._clock import DEFAULT_START, START_VARIABLE, FakeClock

        # The demo trains whatever the real date: its clock starts on 2026-11-02, when
        # OpenAI's snapshots still train, unless FTKIT_FAKE_START says otherwise.
        pinned = None if os.environ.get(START_VARIABLE) else FakeClock(DEFAULT_START)
        # An Azure fake's default client is an openai.AzureOpenAI (its dated API); a
        # Together fake's a together.Together, a Fireworks fake's a fireworks.Fireworks.
        fake = FakeFineTuningAPI(provider=args.provider or "openai", clock=pinned)
        client = fake.client(max_retries=0)
    ft = _builder(args, client)
    if fake is not None:
        ft = _fake_wiring(ft)
    plan = ft.plan()
    print(plan, file=sys.stderr if args.json else sys.stdout)
    if not plan.ok:
        for stage in plan.stages:
            for report in (stage.train, stage.validation):
                if report is not None and not report.ok:
                    print(report, file=sys.stderr)
        return 1
    stream = sys.stderr if args.json else sys.stdout
    progress = _progress(stream, args, virtual_time=fake is not None)
    try:
        result = ft.on_event(progress).run(max_cost_usd=args.max_cost)
    finally:
        progress.close()
    return _print_result(result, args.json)


def _print_result(result: Any, as_json: bool) -> int:
    if as_json:
        payload = {
            "run_id": result.run_id,
            "fine_tuned_model": result.fine_tuned_model,
            "manifest": str(result.manifest_path) if result.manifest_path else None,
            "stages": [
                {
                    k: getattr(s, k)
                    for k in (
                        "name",
                        "method",
                        "job_id",
                        "status",
                        "base_model",
                        "fine_tuned_model",
                        "estimated_trained_tokens",
                        "trained_tokens",
                    )
                }
                for s in result.stages
            ],
        }
        json.dump(payload, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(result)
        print(f"fine-tuned model: {result.fine_tuned_model}")
    return 0


def _state_dir(args: argparse.Namespace) -> Path | None:
    return Path(args.state_dir) if args.state_dir else None


_INTERRUPTED_HINT = (
    "  no process is driving this run (it crashed, was killed or stopped); its job, if any, "
    "keeps its state at the provider: `ftkit resume {run_id}` continues it"
)


def _status(args: argparse.Namespace) -> int:
    from ..pipeline import Run

    status = Run.resume(args.run, state_dir=_state_dir(args)).status()
    _print_status(status, args.json)
    return 0


def _print_status(status: Any, as_json: bool) -> None:
    """The status as the manifest records it, ``interrupted`` when its driver is gone."""
    from ..pipeline._manifest import shown_status

    recorded = status.status
    if recorded in ("created", "running"):
        from ..pipeline._manifest import Manifest

        shown = shown_status(Manifest.load(status.manifest_path), status.manifest_path)
        status = dataclasses.replace(status, status=shown)
    if as_json:
        json.dump({**status.to_dict(), "recorded_status": recorded}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(status)
        if status.status == "interrupted":
            print(_INTERRUPTED_HINT.format(run_id=status.run_id), file=sys.stderr)


def _resume(args: argparse.Namespace) -> int:
    from ..pipeline import Run

    progress = _progress(sys.stderr if args.json else sys.stdout, args)
    run = Run.resume(args.run, state_dir=_state_dir(args), on_event=progress)
    progress.virtual_time = run.manifest().virtual_time
    try:
        result = run.wait()
    finally:
        progress.close()
    return _print_result(result, args.json)


def _cancel(args: argparse.Namespace) -> int:
    from ..pipeline import Run

    status = Run.resume(args.run, state_dir=_state_dir(args)).cancel()
    _print_status(status, args.json)
    return 0


def _runs(args: argparse.Namespace) -> int:
    from ..pipeline._manifest import Manifest, default_state_dir, shown_status

    folder = (_state_dir(args) or default_state_dir()) / "runs"
    manifests = []
    shown: dict[str, str] = {}
    for path in sorted(folder.glob("*.json"), reverse=True):
        try:
            manifest = Manifest.load(path)
        except UsageError as exc:
            print(f"ftkit: warning: {exc}", file=sys.stderr)
            continue
        manifests.append(manifest)
        shown[manifest.run_id] = shown_status(manifest, path)
    if args.json:
        json.dump(
            [
                {
                    "run_id": m.run_id,
                    "status": shown[m.run_id],
                    "recorded_status": m.status,
                    "model": m.model,
                    "stages": [s.name for s in m.stages],
                    "fine_tuned_model": m.stages[-1].fine_tuned_model if m.stages else None,
                    "created_at": m.created_at,
                }
                for m in manifests
            ],
            sys.stdout,
            indent=2,
        )
        sys.stdout.write("\n")
    elif not manifests:
        print(f"no runs in {folder}")
    else:
        for m in manifests:
            final = m.stages[-1].fine_tuned_model or "-"
            print(
                f"{m.run_id}  {shown[m.run_id]:<11} {m.model}  "
                f"{'+'.join(s.name for s in m.stages)}  {final}"
            )
        if "interrupted" in shown.values():
            print(
                "interrupted: no process is driving the run; `ftkit resume RUN` continues it",
                file=sys.stderr,
            )
    return 0
