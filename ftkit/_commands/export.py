"""``ftkit export``: a training file as Axolotl's, TRL's or a Hugging Face dataset, with losses.

Exit codes: 0 exported, 1 the file has invalid records (each listed with its line;
nothing written), 2 usage errors (a missing file, weight-0 turns for TRL with
neither --tokenizer nor --lossy, an output that would replace the source, records the
target cannot hold). With ``--json`` every outcome prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys

from .._exceptions import UsageError
from ._args import check_upload_file, flag_text
from ._command import Command, flag, json_flag

__all__ = ["register"]

_EPILOG = """examples:
  ftkit export train.jsonl --to axolotl --out axolotl-data
  ftkit export b.jsonl --to trl --out trl-data --lossy
  ftkit export prefs.jsonl --to trl --out trl-data --json
  ftkit export b.jsonl --to hf --out hf-data --lossy

Axolotl keeps per-message weights (message_field_training: weight); TRL has none, so a
file with weight-0 turns needs --tokenizer PATH, the model's tokenizer.json (pre-tokenized
input_ids and labels that mask them) or --lossy (they are trained, and listed).
DIR receives <stem>.axolotl.jsonl and <stem>.axolotl.yaml, or <stem>.trl.jsonl; an
output that would replace FILE is refused.
--to hf saves TRL's columns with datasets' save_to_disk in DIR/<stem> (load_from_disk
reads it back); it needs the hf extra: pip install 'ftkit[hf]'.
Exit status: 0 exported, 1 invalid records (nothing written), 2 usage error.
"""


def _run(args: argparse.Namespace) -> int:
    from ..interop._export import InvalidRecords, export

    try:
        check_upload_file(args.file, "FILE")
        result = export(
            args.file,
            args.to,
            args.out,
            tokenizer=args.tokenizer,
            chat_format=args.chat_format,
            lossy=args.lossy,
        )
    except InvalidRecords as exc:
        if not args.json:
            raise
        json.dump(exc.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 1
    except (UsageError, OSError) as exc:
        if not args.json:
            raise
        # --json promises JSON on stdout on every path: a folder that cannot be written too.
        json.dump({"ok": False, "error": flag_text(str(exc))}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 2
    if args.json:
        json.dump({"ok": True, **result.to_dict()}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(result)
        if result.config is not None:
            print(f"paste the datasets: section of {result.files[-1]} into your Axolotl config")
    return 0


register = Command(
    "export",
    help="write a training file as Axolotl's, TRL's or a Hugging Face dataset, reporting losses",
    description=(
        "Convert an SFT or DPO file to the dataset shape of an open-source trainer: "
        "Axolotl (JSONL and the YAML datasets: section to paste) or TRL (conversational "
        "JSONL, or pre-tokenized input_ids/labels with --tokenizer) or TRL's columns as a "
        "Hugging Face dataset saved with save_to_disk (hf). Every feature of the "
        "records (weights, tools, tool calls, images, names...) is reported kept, mapped "
        "or dropped. Exit status: 0 exported, 1 invalid records, 2 usage error."
    ),
    epilog=_EPILOG,
    flags=(
        flag("file", metavar="FILE", help="the training file (.jsonl)"),
        flag("--to", required=True, choices=("axolotl", "trl", "hf"), help="the trainer's format"),
        flag("--out", required=True, metavar="DIR", help="the folder to write into (created)"),
        flag(
            "--tokenizer",
            metavar="PATH",
            help="TRL, hf: a tokenizer.json (or its folder): write input_ids and labels that "
            "honour every per-message weight",
        ),
        flag(
            "--chat-format",
            metavar="TEMPLATE",
            help="the model's Jinja chat template for --tokenizer (its text, or a "
            "chat_template.jinja / tokenizer_config.json file) when the tokenizer's folder "
            "has none",
        ),
        flag(
            "--lossy",
            action="store_true",
            help="TRL, hf without --tokenizer: train weight-0 turns anyway (each one is listed)",
        ),
        json_flag("the result and its loss report"),
    ),
    run=_run,
).register
