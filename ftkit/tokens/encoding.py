"""The tiktoken encoding of a model, loaded from a verified local vocabulary.

tiktoken fetches vocabularies from a CDN on first use. That fails behind
firewalls and in CI, and a silent fallback to another encoding would make
every count wrong, so ftkit resolves the vocabulary itself, in this order:

1. ``$FTKIT_TIKTOKEN_DIR/<name>.tiktoken`` (or ``.tiktoken.gz``): a folder you fill;
2. tiktoken's own cache (``TIKTOKEN_CACHE_DIR`` / ``DATA_GYM_CACHE_DIR`` / temp dir);
3. the copy bundled in the ``bpe-openai`` wheel (``pip install 'ftkit[offline]'``);
4. tiktoken's download, unless ``FTKIT_TIKTOKEN_DOWNLOAD=0``.

Every source is checked against the SHA-256 tiktoken itself pins; a mismatch
is skipped, never used. If nothing is left, :class:`TokenizerUnavailable`
says how to fix it.
"""

from __future__ import annotations

import binascii
import gzip
import hashlib
import importlib.util
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .._exceptions import TokenizerUnavailable, UsageError
from ..providers import base_model, find_model
from ._once import once

if TYPE_CHECKING:
    import tiktoken

__all__ = [
    "base_model",
    "encoding_for_model",
    "encoding_name_for_model",
    "get_encoding",
    "vocabulary_sha256",
]

logger = logging.getLogger("ftkit.tokens")

_ENDOFTEXT = "<|endoftext|>"
_FIM_PREFIX = "<|fim_prefix|>"
_FIM_MIDDLE = "<|fim_middle|>"
_FIM_SUFFIX = "<|fim_suffix|>"
_ENDOFPROMPT = "<|endofprompt|>"
_CDN = "https://openaipublic.blob.core.windows.net/encodings/"


@dataclass(frozen=True)
class _EncodingSpec:
    """What tiktoken_ext.openai_public defines for an encoding (pinned; tested against it)."""

    name: str
    sha256: str
    pat_str: str
    special_tokens: dict[str, int] = field(hash=False)

    @property
    def url(self) -> str:
        return f"{_CDN}{self.name}.tiktoken"


_SPECS: dict[str, _EncodingSpec] = {
    "o200k_base": _EncodingSpec(
        name="o200k_base",
        sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        pat_str="|".join(
            [
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""\p{N}{1,3}""",
                r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
                r"""\s*[\r\n]+""",
                r"""\s+(?!\S)""",
                r"""\s+""",
            ]
        ),
        special_tokens={_ENDOFTEXT: 199999, _ENDOFPROMPT: 200018},
    ),
    "cl100k_base": _EncodingSpec(
        name="cl100k_base",
        sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        pat_str=r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",
        special_tokens={
            _ENDOFTEXT: 100257,
            _FIM_PREFIX: 100258,
            _FIM_MIDDLE: 100259,
            _FIM_SUFFIX: 100260,
            _ENDOFPROMPT: 100276,
        },
    ),
}


def encoding_name_for_model(model: str) -> str:
    """The tiktoken encoding name for a model: its base snapshot's, from the model catalog.

    tiktoken maps ``ft:gpt-4.1-mini-...`` to cl100k_base (its ``ft:gpt-4``
    prefix wins) and raises on ``ft:o4-mini-...``; the base model avoids both.
    A model the catalog names no tokenizer for goes through tiktoken's own table.

    Raises:
        UsageError: for a model ftkit and tiktoken both do not know.
    """
    base = base_model(model)
    info = find_model(base)
    if info is not None and info.tokenizer is not None:
        return info.tokenizer
    import tiktoken.model

    try:
        return str(tiktoken.model.encoding_name_for_model(base))
    except KeyError:
        raise UsageError(
            f"unknown model {model!r}: cannot choose a tokenizer; pass a known base model "
            "such as 'gpt-4.1-mini-2025-04-14'"
        ) from None


def encoding_for_model(model: str) -> tiktoken.Encoding:
    """The verified tiktoken encoding for ``model`` (base model for ``ft:`` names)."""
    return get_encoding(encoding_name_for_model(model))


_cache: dict[str, tiktoken.Encoding] = {}


def get_encoding(name: str) -> tiktoken.Encoding:
    """A tiktoken encoding built from a hash-verified local vocabulary (cached per process).

    Raises:
        TokenizerUnavailable: no verified source; the message lists the fixes.
        UsageError: an encoding ftkit does not support.
    """
    return once(_cache, name, _build)


def vocabulary_sha256(name: str) -> str:
    """The SHA-256 tiktoken pins for the vocabulary file of the encoding ``name``.

    Raises:
        UsageError: an encoding ftkit does not support.
    """
    return _spec(name).sha256


def _spec(name: str) -> _EncodingSpec:
    spec = _SPECS.get(name)
    if spec is None:
        raise UsageError(f"encoding {name!r} is not supported; ftkit counts with {sorted(_SPECS)}")
    return spec


def _build(name: str) -> tiktoken.Encoding:
    import tiktoken

    spec = _spec(name)
    data = _load_verified(spec)
    ranks = _parse_ranks(data, spec.name)
    return tiktoken.Encoding(
        name=spec.name,
        pat_str=spec.pat_str,
        mergeable_ranks=ranks,
        special_tokens=dict(spec.special_tokens),
    )


def _candidates(spec: _EncodingSpec) -> list[Path]:
    paths: list[Path] = []
    folder = os.environ.get("FTKIT_TIKTOKEN_DIR")
    if folder:
        paths += [Path(folder) / f"{spec.name}.tiktoken", Path(folder) / f"{spec.name}.tiktoken.gz"]
    cache = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
    if cache is None:
        cache = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    if cache:
        paths.append(Path(cache) / hashlib.sha1(spec.url.encode()).hexdigest())
    bundled = importlib.util.find_spec("bpe_openai")
    # find_spec on a top-level name does not execute the package (no native import).
    if bundled is not None and bundled.submodule_search_locations:
        for location in bundled.submodule_search_locations:
            paths.append(Path(location) / "data" / f"{spec.name}.tiktoken.gz")
    return paths


def _load_verified(spec: _EncodingSpec) -> bytes:
    tried: list[str] = []
    for path in _candidates(spec):
        if not path.is_file():
            continue
        try:
            raw = path.read_bytes()
            data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            tried.append(f"{path} (unreadable: {exc})")
            continue
        if hashlib.sha256(data).hexdigest() != spec.sha256:
            tried.append(f"{path} (sha256 mismatch, ignored)")
            logger.warning("ignoring %s: sha256 does not match tiktoken's %s", path, spec.name)
            continue
        logger.debug("loaded %s vocabulary from %s", spec.name, path)
        return data
    if os.environ.get("FTKIT_TIKTOKEN_DOWNLOAD", "1") != "0":
        try:
            from tiktoken.load import read_file_cached

            data = bytes(read_file_cached(spec.url, spec.sha256))
        except Exception as exc:  # network errors come in many types (requests, OSError)
            tried.append(f"download from tiktoken's CDN failed ({type(exc).__name__})")
        else:
            return data
    else:
        tried.append("download disabled by FTKIT_TIKTOKEN_DOWNLOAD=0")
    raise TokenizerUnavailable(spec.name, tried)


def _parse_ranks(data: bytes, name: str) -> dict[bytes, int]:
    """``{token bytes: rank}`` from a ``.tiktoken`` file (``<base64> <rank>`` per line).

    One ``split()`` of the whole file and ``binascii.a2b_base64`` per token are
    about twice as fast as a loop over lines. The pinned vocabularies number their
    tokens 0, 1, 2, ... in file order (the caller has checked the file's SHA-256, and a
    test compares the result with tiktoken's own loader), so when a sample of the ranks
    says so they are taken from the position instead of parsing 200,000 integers; any
    other file gets every rank parsed.
    """
    fields = data.split()
    if len(fields) % 2:
        raise TokenizerUnavailable(name, ["vocabulary file is malformed (odd field count)"])
    if not fields:
        raise TokenizerUnavailable(name, ["vocabulary file is empty"])
    try:
        tokens = list(map(binascii.a2b_base64, fields[0::2]))
    except binascii.Error as exc:
        raise TokenizerUnavailable(name, [f"vocabulary file is malformed ({exc})"]) from None
    numbers = fields[1::2]
    if numbers[0] == b"0" and numbers[-1] == b"%d" % (len(numbers) - 1) and _sequential(numbers):
        ranks = dict(zip(tokens, range(len(tokens)), strict=True))
    else:
        ranks = dict(zip(tokens, map(int, numbers), strict=True))
    return ranks


def _sequential(numbers: list[bytes]) -> bool:
    """Whether ``numbers`` spell 0, 1, 2, ... (checked on a sample: the file is hash-pinned)."""
    step = max(1, len(numbers) // 64)
    return all(numbers[i] == b"%d" % i for i in range(0, len(numbers), step))
