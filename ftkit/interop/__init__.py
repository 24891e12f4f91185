"""Data in and out of ftkit: open-source trainers' formats, losing nothing silently.

- :func:`export` writes an SFT or DPO file for **Axolotl** (``chat_template`` JSONL that
  keeps per-message weights, and the YAML ``datasets:`` section to paste) or **TRL**
  (conversational ``messages``/``tools``, DPO ``prompt``/``chosen``/``rejected``; with the
  model's ``tokenizer.json``, pre-tokenized ``input_ids`` and ``labels`` that honour every
  weight), as an :class:`ExportResult`.
- :func:`import_dataset` reads **ShareGPT**, **Alpaca** or **TRL** preference data into
  checked OpenAI-format records, naming the format it detected, as an
  :class:`ImportResult` (bad lines listed by line, never raised unless ``strict=True``).
- **Hugging Face datasets** (``pip install 'ftkit[hf]'``): :func:`to_hf` and
  :func:`from_hf`, ``export(..., to="hf")`` (``save_to_disk``), and :func:`import_dataset`
  of a ``datasets.Dataset`` (bad rows as :class:`InvalidRows`). They are functions here,
  not ``Dataset`` methods: ``ftkit.dataset`` sits below this package.

Every conversion returns a :class:`LossReport`: for each feature of the records
(weights, tools, tool calls, images, ``parallel_tool_calls``, names...), how many
occurrences were kept, mapped or dropped, and why. Nothing here loads at
``import ftkit``: the names load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._public import lazy_exports, names_of

if TYPE_CHECKING:
    from ._export import TARGETS as TARGETS
    from ._export import ExportResult as ExportResult
    from ._export import InvalidRecords as InvalidRecords
    from ._export import export as export
    from ._hf import HF_TARGETS as HF_TARGETS
    from ._hf import InvalidRows as InvalidRows
    from ._hf import from_hf as from_hf
    from ._hf import to_hf as to_hf
    from ._import import ImportResult as ImportResult
    from ._importing import import_dataset as import_dataset
    from ._loss import LossEntry as LossEntry
    from ._loss import LossReport as LossReport

_HOMES = {
    "ftkit.interop._export": names_of("TARGETS ExportResult InvalidRecords export"),
    "ftkit.interop._hf": names_of("HF_TARGETS InvalidRows from_hf to_hf"),
    "ftkit.interop._import": names_of("ImportResult"),
    "ftkit.interop._importing": names_of("import_dataset"),
    "ftkit.interop._loss": names_of("LossEntry LossReport"),
}

if not TYPE_CHECKING:  # type checkers read the imports above, so a typo is an error
    __all__, __getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())
