"""An optional faster token counter: the Rust ``bpe`` tokenizer bundled in ``bpe-openai``.

tiktoken is the reference. ``bpe-openai`` (the ``offline`` extra) wraps GitHub's
``bpe`` crate, which produces tiktoken's tokens for ``o200k_base`` and
``cl100k_base`` (ftkit's tests compare both on every string of the real datasets
and on generated text) while counting about twice as fast and loading in a tenth of a
second instead of half a second; it also stays linear on long runs of one character,
where tiktoken's merge loop slows down.

It is used only for *counting*, only when all of these hold, else tiktoken counts:

- the ``bpe_openai`` binary can be loaded (its Python package is not imported: its
  ``__init__`` parses every vocabulary file and costs seconds);
- the wheel's own copy of the vocabulary has the SHA-256 tiktoken pins (the binary
  was built from the same release; a tampered or foreign wheel is refused);
- its backend reports the version ftkit was verified with;
- it gives tiktoken's counts on a probe text that mixes scripts, digits, code,
  whitespace runs and a special-token string (the expected counts are pinned here and
  checked against tiktoken by the tests);
- ``FTKIT_FAST_TOKENIZER`` is not ``0``.

Text it cannot take (lone surrogates, valid in JSON but not in UTF-8) goes to tiktoken.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.machinery
import importlib.util
import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["fast_length"]

logger = logging.getLogger("ftkit.tokens")

ENV = "FTKIT_FAST_TOKENIZER"
VERIFIED_BACKENDS = frozenset({"0.1.0"})
"""``bpe_openai._bindings.RUST_BACKEND_VERSION`` values whose counts were compared with tiktoken."""

PROBE = (
    "Fine-tuning ftkit: naïve café, 東京 München 😀 число ñandú ✓ — it's 12345 tokens!\n\n"
    "  def f(x):\treturn x**2  <|endoftext|>"
)
PROBE_COUNTS = {"o200k_base": 42, "cl100k_base": 46}
"""``len(encode_ordinary(PROBE))`` with tiktoken (a test keeps these true)."""

_MODULE = "bpe_openai._bindings"
_cache: dict[str, Callable[[str], int] | None] = {}
_lock = threading.Lock()


def fast_length(encoding_name: str) -> Callable[[str], int] | None:
    """A ``text -> token count`` function for ``encoding_name``, or ``None`` to use tiktoken.

    The function raises :class:`UnicodeEncodeError` for text with lone surrogates;
    the caller counts that text with tiktoken. Cached per process.
    """
    if os.environ.get(ENV, "1") == "0":
        return None
    if encoding_name in _cache:
        return _cache[encoding_name]
    with _lock:
        if encoding_name not in _cache:
            _cache[encoding_name] = _build(encoding_name)
    return _cache[encoding_name]


def _build(encoding_name: str) -> Callable[[str], int] | None:
    expected = PROBE_COUNTS.get(encoding_name)
    if expected is None:
        return None
    try:
        located = _locate()
        if located is None or not _bundle_verified(located, encoding_name):
            return None
        module = _load_bindings(located)
        version = getattr(module, "RUST_BACKEND_VERSION", None)
        if version not in VERIFIED_BACKENDS:
            logger.debug("bpe-openai backend %r is not a verified version; using tiktoken", version)
            return None
        count: Callable[[str], int] = module.tokenizer_for_encoding(encoding_name).count
        got = count(PROBE)
    except Exception as exc:  # a broken or foreign binary must never break counting
        logger.debug("bpe-openai is unusable (%s); counting with tiktoken", type(exc).__name__)
        return None
    if got != expected:
        logger.warning(
            "bpe-openai counts %d tokens of the probe text with %s where tiktoken counts %d; "
            "counting with tiktoken",
            got,
            encoding_name,
            expected,
        )
        return None
    logger.debug("counting %s tokens with bpe-openai %s", encoding_name, version)
    return count


def _locate() -> Path | None:
    """The folder of the installed ``bpe_openai`` package (found, not imported)."""
    package = importlib.util.find_spec("bpe_openai")  # does not execute the package
    if package is None or not package.submodule_search_locations:
        return None
    for location in package.submodule_search_locations:
        return Path(location)
    return None


KNOWN_BUNDLES = {
    "o200k_base": "aa7f57c462db101b58b6648a2b0047128f61e68c0776814ad75251aab1bccdfa",
    "cl100k_base": "eb039321fca3dd961193251802424710b59fbd1df8a16067911191014f4ab732",
}
"""SHA-256 of the compressed vocabularies of the verified ``bpe-openai`` wheels.

Their contents decompress to tiktoken's pinned vocabularies (a test checks it).
Hashing the compressed file takes a millisecond; decompressing it to hash the
contents, which is what any other file gets, takes thirty."""


def _bundle_verified(folder: Path, encoding_name: str) -> bool:
    """Whether the wheel's ``<encoding>.tiktoken.gz`` is the vocabulary tiktoken pins."""
    from .encoding import _SPECS

    path = folder / "data" / f"{encoding_name}.tiktoken.gz"
    try:
        compressed = path.read_bytes()
        if hashlib.sha256(compressed).hexdigest() == KNOWN_BUNDLES.get(encoding_name):
            return True
        data = gzip.decompress(compressed)
    except (OSError, EOFError, gzip.BadGzipFile):
        return False
    if hashlib.sha256(data).hexdigest() != _SPECS[encoding_name].sha256:
        logger.warning("ignoring bpe-openai: its %s does not match tiktoken's sha256", path)
        return False
    return True


def _load_bindings(folder: Path) -> Any:
    """The ``bpe_openai._bindings`` extension, without running the package's ``__init__``."""
    loaded = sys.modules.get(_MODULE)
    if loaded is not None:
        return loaded
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = folder / f"_bindings{suffix}"
        if not path.is_file():
            continue
        loader = importlib.machinery.ExtensionFileLoader(_MODULE, str(path))
        spec = importlib.util.spec_from_file_location(_MODULE, path, loader=loader)
        if spec is None:
            continue
        module = importlib.util.module_from_spec(spec)
        loader.exec_module(module)
        # Registered, so a later ``import bpe_openai`` reuses it instead of
        # initialising the extension a second time.
        sys.modules[_MODULE] = module
        return module
    return None
