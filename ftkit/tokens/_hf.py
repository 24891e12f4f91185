"""A Hugging Face ``tokenizer.json`` as a :class:`~ftkit.tokens.Tokenizer`, and where to find one.

Open models (Together AI's) count with their own tokenizer, which the model's
repository ships as ``tokenizer.json`` (read by the ``tokenizers`` package,
``pip install 'ftkit[together]'``), beside ``tokenizer_config.json`` and
sometimes ``chat_template.jinja``. ftkit never downloads them: it reads a file
it is given, or the copy already in the local Hugging Face cache, laid out as
``huggingface_hub`` lays it out (``<cache>/models--<org>--<name>/snapshots/<rev>/``),
the cache being ``$HF_HUB_CACHE``, else ``$HF_HOME/hub``, else
``$XDG_CACHE_HOME/huggingface/hub``, else ``~/.cache/huggingface/hub``, as in
``huggingface_hub`` itself. ``huggingface_hub`` is not imported: a lookup is a
few ``stat`` calls and nothing can reach the network.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._exceptions import UsageError
from ._chat_formats import ChatFormat, detect
from ._once import once

__all__ = ["CachedTokenizer", "HFTokenizer", "find_cached", "hf_tokenizer", "hub_cache"]

logger = logging.getLogger("ftkit.tokens")

TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "tokenizer_config.json"
TEMPLATE_FILE = "chat_template.jinja"


def hub_cache() -> Path:
    """The Hugging Face hub cache folder, from the environment as ``huggingface_hub`` finds it."""
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        value = os.environ.get(name)
        if value:
            return Path(value).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or "~/.cache", "huggingface"
    )
    return Path(home).expanduser() / "hub"


@dataclass(frozen=True)
class CachedTokenizer:
    """A ``tokenizer.json`` found in the Hugging Face cache."""

    repo: str
    """The repository it belongs to, as spelled in the cache (``Qwen/Qwen3-8B``)."""
    path: Path
    """The file, inside one snapshot of the repository."""


def find_cached(repos: Iterable[str], cache: Path | None = None) -> CachedTokenizer | None:
    """The ``tokenizer.json`` of the first of ``repos`` the hub cache holds one for.

    Repository folders are matched without regard to case (the Hub treats ids so).
    Of a repository's snapshots, the one ``refs/main`` names wins, else the newest
    that holds the file. Nothing is downloaded.
    """
    root = hub_cache() if cache is None else cache
    try:
        folders = {name.lower(): name for name in os.listdir(root) if name.startswith("models--")}
    except OSError:
        return None
    for repo in repos:
        folder = folders.get(("models--" + repo.replace("/", "--")).lower())
        if folder is None:
            continue
        path = _snapshot_file(root / folder)
        if path is not None:
            org_name = folder[len("models--") :].split("--", 1)
            return CachedTokenizer("/".join(org_name), path)
    return None


def _snapshot_file(repo: Path) -> Path | None:
    snapshots = repo / "snapshots"
    try:
        main = (repo / "refs" / "main").read_text("utf-8").strip()
    except OSError:
        main = ""
    if main:
        candidate = snapshots / main / TOKENIZER_FILE
        if candidate.is_file():
            return candidate
    found: list[tuple[float, Path]] = []
    try:
        revisions = list(snapshots.iterdir())
    except OSError:
        return None
    for revision in revisions:
        candidate = revision / TOKENIZER_FILE
        try:
            found.append((candidate.stat().st_mtime, candidate))  # follows the blob symlink
        except OSError:
            continue
    return max(found)[1] if found else None


def read_template(folder: Path) -> tuple[str | None, str | None]:
    """``(chat template, BOS token)`` from the files beside a ``tokenizer.json``.

    The template is ``chat_template.jinja`` if present, else ``tokenizer_config.json``'s
    ``chat_template`` (a string, or a list of named templates: ``default`` wins).
    Unreadable files give ``None``: the family is then told by the vocabulary.
    """
    template: str | None = None
    bos: str | None = None
    try:
        config = json.loads((folder / CONFIG_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        config = None
    if isinstance(config, dict):
        template = _template_of(config.get("chat_template"))
        bos = _token_text(config.get("bos_token"))
    with contextlib.suppress(OSError):
        template = (folder / TEMPLATE_FILE).read_text("utf-8")
    return template, bos


def _template_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        named = {item.get("name"): item.get("template") for item in value if isinstance(item, dict)}
        chosen = named.get("default", next(iter(named.values()), None))
        return chosen if isinstance(chosen, str) else None
    return None


def _token_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return str(value["content"]) or None
    return None


class HFTokenizer:
    """A Hugging Face ``tokenizer.json`` behind the :class:`~ftkit.tokens.Tokenizer` protocol.

    Text is encoded as the model's tokenizer encodes it on its own
    (``add_special_tokens=False``: no BOS per string), with any truncation or
    padding the file configures turned off, and special-token strings inside the
    text encoded as plain text (``encode_special_tokens``), as the protocol says;
    added tokens that are not special (Qwen's ``<think>``) stay one token, as in
    the model. Build one with :func:`hf_tokenizer` (cached per file) or
    :func:`ftkit.tokens.register_tokenizer`.

    Attributes:
        path: the ``tokenizer.json`` read.
        source: what it is the tokenizer of (a repository id, or the model it was
            registered for), for names and messages.
        name: ``"hf:<source>"``.
        vocabulary: the SHA-256 (hex) of the file.
        chat_format: the framing of the model's chat template family, told by the
            template beside the file (``tokenizer_config.json``/``chat_template.jinja``),
            else by the vocabulary's special tokens.
        specials: the text of every added token: one token each in framing.
        approximate: ``True`` when the template family is not one ftkit knows (the
            text is still counted exactly; the framing is a guess).
    """

    __slots__ = (
        "_encode",
        "approximate",
        "chat_format",
        "name",
        "path",
        "source",
        "specials",
        "vocabulary",
    )

    def __init__(self, path: str | os.PathLike[str], *, source: str | None = None) -> None:
        """Load ``path`` (a ``tokenizer.json``, or a folder holding one).

        Raises:
            UsageError: no such file, or not a tokenizer file.
            MissingExtra: the ``tokenizers`` package is not installed.
        """
        from .._optional import require

        file = Path(path).expanduser()
        if file.is_dir():
            file = file / TOKENIZER_FILE
        if not file.is_file():
            raise UsageError(f"no tokenizer file at {file}; give a tokenizer.json or its folder")
        tokenizers = require("tokenizers", extra="together", feature="exact open-model tokens")
        try:
            data = file.read_bytes()
            backend = tokenizers.Tokenizer.from_str(data.decode("utf-8"))
        except Exception as exc:  # OSError, UnicodeDecodeError, or the Rust parser's Exception
            raise UsageError(f"{file} is not a Hugging Face tokenizer.json ({exc})") from None
        backend.no_truncation()
        backend.no_padding()
        backend.encode_special_tokens = True
        self._encode = backend.encode
        self.path = file
        self.source = source or file.parent.name
        self.name = f"hf:{self.source}"
        self.vocabulary = hashlib.sha256(data).hexdigest()
        self.specials = frozenset(
            str(token.content) for token in backend.get_added_tokens_decoder().values()
        )
        template, bos = read_template(file.parent)
        self.chat_format = _with_begin(detect(template, self.specials), template, bos)
        self.approximate = not self.chat_format.known

    def __repr__(self) -> str:
        return f"HFTokenizer({self.source!r}, family={self.chat_format.family!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Workers reload the file (once per process) rather than receive a Rust object.
        return (hf_tokenizer, (str(self.path), self.source))

    def encode(self, text: str) -> list[int]:
        """The token ids of ``text``."""
        try:
            ids: list[int] = self._encode(text, add_special_tokens=False).ids
        except TypeError:  # a lone surrogate: not valid UTF-8, refused by the Rust side
            ids = self._encode(_without_lone_surrogates(text), add_special_tokens=False).ids
        return ids

    def count(self, text: str) -> int:
        """The number of tokens of ``text``."""
        try:
            return len(self._encode(text, add_special_tokens=False))
        except TypeError:
            return len(self._encode(_without_lone_surrogates(text), add_special_tokens=False))


def _with_begin(found: ChatFormat, template: str | None, bos: str | None) -> ChatFormat:
    """``found`` with the BOS token the template writes, when the config names one."""
    if template is None:
        return found
    from dataclasses import replace

    if "bos_token" in template and bos:
        return replace(found, begin=bos)
    if found.begin and found.begin not in template:
        return replace(found, begin="")  # this template writes no BOS of its own
    return found


def _without_lone_surrogates(text: str) -> str:
    """``text`` with lone surrogates (valid in JSON, not in UTF-8) replaced by U+FFFD."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


_cache: dict[str, HFTokenizer] = {}


def hf_tokenizer(path: str | os.PathLike[str], source: str | None = None) -> HFTokenizer:
    """The :class:`HFTokenizer` of ``path``, loaded once per process (and file version).

    Raises:
        UsageError: no such file, or not a tokenizer file.
        MissingExtra: the ``tokenizers`` package is not installed.
    """
    file = Path(path).expanduser()
    if file.is_dir():
        file = file / TOKENIZER_FILE
    try:
        stat = file.stat()
        version = f"{stat.st_mtime_ns}:{stat.st_size}"
    except OSError:
        version = "missing"  # HFTokenizer says so
    key = "\0".join((str(file.resolve() if version != "missing" else file), version, source or ""))
    return once(_cache, key, lambda _: HFTokenizer(file, source=source))


def special_pieces(text: str, specials: Sequence[str]) -> list[tuple[str, bool]]:
    """``text`` split into ``(piece, is_special)``, longest special token first at each place."""
    ordered = sorted((s for s in specials if s and s in text), key=len, reverse=True)
    pieces: list[tuple[str, bool]] = []
    start = 0
    plain = 0
    while start < len(text):
        match = next((s for s in ordered if text.startswith(s, start)), None)
        if match is None:
            start += 1
            continue
        if plain < start:
            pieces.append((text[plain:start], False))
        pieces.append((match, True))
        start += len(match)
        plain = start
    if plain < len(text):
        pieces.append((text[plain:], False))
    return pieces
