"""An optional accelerator for tiktoken's encodings: the Rust ``bpe`` tokenizer in ``bpe-openai``.

``bpe-openai`` (the ``offline`` extra) wraps GitHub's ``bpe`` crate, which produces
tiktoken's tokens for ``o200k_base`` and ``cl100k_base`` (ftkit's tests compare both
on every string of the real datasets and on generated text) while counting about
twice as fast and loading in a tenth of a second instead of half a second; it also
stays linear on long runs of one character, where tiktoken's merge loop slows down.

:func:`accelerator` offers it as a :class:`~ftkit.tokens.tokenizer.Tokenizer` when

- ``FTKIT_FAST_TOKENIZER`` is not ``0``;
- the ``bpe_openai`` binary can be loaded;
- its backend reports a version ftkit was verified with.

It reports the SHA-256 of the vocabulary bundled in the same wheel as its
``vocabulary``; :func:`~ftkit.tokens.tokenizer.get_tokenizer` uses it only when
that is tiktoken's pinned hash and it passes the self-test, else tiktoken counts.

Why the extension module and not the package: ``bpe_openai``'s public API parses
every vocabulary it ships when it is imported (about 0.6 s) and its ``encode_ordinary``
builds a list per text, which together are slower than tiktoken. Only the package's
compiled ``_bindings`` module, whose interface the wheel declares in
``_bindings.pyi``, counts without a list; it is loaded from its file without running
the package's ``__init__``. This is the one private name of another package ftkit
uses (``tests/tokens/test_private_access.py`` keeps it the only one), and it is used
only behind the checks above.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.machinery
import importlib.util
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["FastTokenizer", "accelerator"]

logger = logging.getLogger("ftkit.tokens")

ENV = "FTKIT_FAST_TOKENIZER"
VERIFIED_BACKENDS = frozenset({"0.1.0"})
"""``RUST_BACKEND_VERSION`` values of ``bpe-openai`` whose counts were compared with tiktoken."""

ENCODINGS = frozenset({"o200k_base", "cl100k_base"})
"""The encodings whose counts were compared with tiktoken's."""

KNOWN_BUNDLES = {
    "aa7f57c462db101b58b6648a2b0047128f61e68c0776814ad75251aab1bccdfa": (
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"  # o200k_base
    ),
    "eb039321fca3dd961193251802424710b59fbd1df8a16067911191014f4ab732": (
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"  # cl100k_base
    ),
}
"""SHA-256 of a verified wheel's compressed vocabulary → SHA-256 of its contents.

Hashing the compressed file takes a millisecond; decompressing it to hash the
contents, which is what any other file gets, takes thirty (a test checks the pairs)."""

_MODULE = "bpe_openai._bindings"


class FastTokenizer:
    """``bpe-openai``'s tokenizer of one encoding, behind the ``Tokenizer`` protocol."""

    __slots__ = ("_count", "_encode", "name", "vocabulary")

    def __init__(self, name: str, vocabulary: str, backend: Any) -> None:
        """Wrap ``backend`` (a ``bpe_openai`` tokenizer) for the encoding ``name``.

        Args:
            name: the encoding, e.g. ``"o200k_base"``.
            vocabulary: SHA-256 of the vocabulary the backend was built with.
            backend: an object with ``count(text)`` and ``encode(text)``.
        """
        self.name = name
        self.vocabulary = vocabulary
        self._count: Callable[[str], int] = backend.count
        self._encode: Callable[[str], list[int]] = backend.encode

    def __repr__(self) -> str:
        return f"FastTokenizer({self.name!r})"

    def encode(self, text: str) -> list[int]:
        """The token ids of ``text``."""
        try:
            return self._encode(text)
        except UnicodeEncodeError:
            return self._encode(_without_lone_surrogates(text))

    def count(self, text: str) -> int:
        """The number of tokens of ``text``, without building the ids."""
        try:
            return self._count(text)
        except UnicodeEncodeError:
            return self._count(_without_lone_surrogates(text))


def _without_lone_surrogates(text: str) -> str:
    """``text`` with lone surrogates (valid in JSON, not in UTF-8) replaced as tiktoken does."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def accelerator(encoding_name: str) -> FastTokenizer | None:
    """``bpe-openai``'s tokenizer for ``encoding_name``, or ``None`` when it is off or unusable.

    The caller still has to compare its ``vocabulary`` with tiktoken's pin and
    self-test it (:func:`ftkit.tokens.tokenizer.get_tokenizer` does).
    """
    if os.environ.get(ENV, "1") == "0" or encoding_name not in ENCODINGS:
        return None
    try:
        located = _locate()
        if located is None:
            return None
        vocabulary = _bundle_vocabulary(located, encoding_name)
        if vocabulary is None:
            return None
        module = _load_bindings(located)
        version = getattr(module, "RUST_BACKEND_VERSION", None)
        if version not in VERIFIED_BACKENDS:
            logger.debug("bpe-openai backend %r is not a verified version; using tiktoken", version)
            return None
        return FastTokenizer(
            encoding_name, vocabulary, module.tokenizer_for_encoding(encoding_name)
        )
    except Exception as exc:  # a broken or foreign binary must never break counting
        logger.debug("bpe-openai is unusable (%s); counting with tiktoken", type(exc).__name__)
        return None


def _locate() -> Path | None:
    """The folder of the installed ``bpe_openai`` package (found, not imported)."""
    package = importlib.util.find_spec("bpe_openai")  # does not execute the package
    if package is None or not package.submodule_search_locations:
        return None
    for location in package.submodule_search_locations:
        return Path(location)
    return None


def _bundle_vocabulary(folder: Path, encoding_name: str) -> str | None:
    """SHA-256 of the contents of the wheel's ``<encoding>.tiktoken.gz`` (``None``: unreadable)."""
    path = folder / "data" / f"{encoding_name}.tiktoken.gz"
    try:
        compressed = path.read_bytes()
        known = KNOWN_BUNDLES.get(hashlib.sha256(compressed).hexdigest())
        return known or hashlib.sha256(gzip.decompress(compressed)).hexdigest()
    except (OSError, EOFError, gzip.BadGzipFile):
        return None


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
