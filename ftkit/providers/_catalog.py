"""The model catalog: the shipped data files, the user's files and registrations, one lookup.

Built on first use (``import ftkit`` reads nothing): every ``*.json`` file
beside this module, ``openai`` first and the others by name, then the files
named by :envvar:`FTKIT_MODELS` (paths separated by :data:`os.pathsep`), in
order. :func:`register` and :func:`register_file` change it later in the
process. Later entries win, field by field (see :mod:`._format`).

A name is looked up by its base snapshot (``ft:`` and ``.ft-`` names): as an
entry's name or alias, in each provider in turn unless one is given, and only
then by the families (name prefixes; the longest is the most specific).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from .._exceptions import UsageError
from ._format import Document, entry_of, info_of, merge_entry
from ._model import ModelInfo
from ._names import base_model

# Exactly what ftkit.providers exports (it star-imports this module).
__all__ = [
    "example_limit",
    "find_model",
    "lookup_model",
    "model_info",
    "models",
    "providers",
    "register",
    "register_file",
    "reset",
]

ENV_VAR = "FTKIT_MODELS"
"""Catalog files to load at first use, after the shipped ones (``os.pathsep``-separated)."""

_FIRST = "openai"


class _Catalog:
    """Entries, aliases and families of every provider, in the order they were loaded."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, ModelInfo]] = {}
        self.aliases: dict[str, dict[str, str]] = {}
        self.families: dict[str, dict[str, dict[str, Any]]] = {}

    def copy(self) -> _Catalog:
        """A copy to change, so that a file that fails half-way changes nothing."""
        other = _Catalog()
        other.entries = {p: dict(e) for p, e in self.entries.items()}
        other.aliases = {p: dict(a) for p, a in self.aliases.items()}
        other.families = {p: dict(f) for p, f in self.families.items()}
        return other

    def add_document(self, doc: Document) -> list[ModelInfo]:
        added = []
        for name, raw in doc.models:
            where = f"{doc.origin}: models.{name}"
            entry = self._start(doc.provider, name, raw, where)
            info = info_of(
                entry,
                name=name,
                provider=doc.provider,
                where=where,
                prices_as_of=doc.prices_as_of,
                currency=doc.currency,
            )
            self.register(info)
            added.append(self.entries[doc.provider][name])
        families = self.families.setdefault(doc.provider, {})
        for prefix, raw in doc.families:
            entry = merge_entry(families.get(prefix, {}), raw)
            # Built once here so that a malformed family fails when its file is read.
            info_of(
                entry,
                name=prefix,
                provider=doc.provider,
                where=f"{doc.origin}: families.{prefix}",
                family=prefix,
            )
            families[prefix] = entry
        return added

    def _start(
        self, provider: str, name: str, raw: Mapping[str, Any], where: str
    ) -> dict[str, Any]:
        """The entry ``raw`` describes: merged over its ``extends`` or over the same name."""
        fields = {k: v for k, v in raw.items() if k != "extends"}
        known = self.entries.get(provider, {})
        parent = raw.get("extends")
        if parent is not None:
            if parent not in known:
                raise UsageError(f"{where}: extends {parent!r}, which {provider} has no entry for")
            base = entry_of(known[parent])
            del base["aliases"]  # a name means one snapshot: aliases are never inherited
            return merge_entry(base, fields)
        if name in known:
            return merge_entry(entry_of(known[name]), fields)
        return fields

    def register(self, info: ModelInfo) -> None:
        entries = self.entries.setdefault(info.provider, {})
        aliases = self.aliases.setdefault(info.provider, {})
        for alias in info.aliases:
            owner = aliases.get(alias)
            if owner is not None and owner != info.name and owner in entries:
                old = entries[owner]
                entries[owner] = replace(old, aliases=tuple(a for a in old.aliases if a != alias))
        entries[info.name] = info
        self.aliases[info.provider] = {a: m.name for m in entries.values() for a in m.aliases}

    def find(self, base: str, provider: str | None) -> ModelInfo | None:
        order = self.provider_order(provider)
        for name in order:
            entries = self.entries.get(name, {})
            info = entries.get(base) or entries.get(self.aliases.get(name, {}).get(base, ""))
            if info is not None:
                return info
        for name in order:
            info = self._family(name, base)
            if info is not None:
                return info
        return None

    def _family(self, provider: str, base: str) -> ModelInfo | None:
        families = self.families.get(provider, {})
        matching = sorted((p for p in families if base.startswith(p)), key=len)
        if not matching:
            return None
        entry: dict[str, Any] = {}
        for prefix in matching:  # the longest prefix states the most specific facts
            entry = merge_entry(entry, families[prefix])
        where = f"{provider} families.{matching[-1]}"
        return info_of(entry, name=base, provider=provider, where=where, family=matching[-1])

    def provider_order(self, provider: str | None) -> list[str]:
        known = list(dict.fromkeys([*self.entries, *self.families]))
        if provider is None:
            return known
        if provider not in known:
            raise UsageError(f"unknown provider {provider!r}; the catalog has {known}")
        return [provider]


_lock = threading.RLock()
_current: _Catalog | None = None


def _catalog() -> _Catalog:
    global _current
    with _lock:
        if _current is None:
            catalog = _Catalog()
            for name, text in _shipped():
                catalog.add_document(Document(json.loads(text), f"ftkit/providers/{name}"))
            for path in filter(None, os.environ.get(ENV_VAR, "").split(os.pathsep)):
                catalog.add_document(_read(Path(path), f"{ENV_VAR}: "))
            _current = catalog
        return _current


def _shipped() -> Iterator[tuple[str, str]]:
    from importlib import resources  # ~5 ms, only when the catalog is first read

    folder = resources.files(__package__ or "ftkit.providers")
    names = sorted(
        (item.name for item in folder.iterdir() if item.name.endswith(".json")),
        key=lambda n: (n != f"{_FIRST}.json", n),
    )
    for name in names:
        yield name, folder.joinpath(name).read_text("utf-8")


def _read(path: Path, context: str = "") -> Document:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{context}cannot read the model catalog file {path}: {exc}") from None
    return Document(data, str(path))


def model_info(model: str, provider: str | None = None) -> ModelInfo:
    """What the catalog knows about ``model``: limits, methods, prices, dates.

    ``ft:`` and Azure ``.ft-`` names give their base snapshot's facts, aliases
    their snapshot's. A name the catalog does not list but whose family it
    knows (``gpt-4o-2024-11-20``) gets the family's facts (``family`` is set).

    Args:
        model: a snapshot, an alias or a fine-tuned model name.
        provider: the provider whose table to read (``None``: every provider, ``openai`` first).

    Raises:
        UsageError: a model the catalog knows nothing about, or an unknown provider.
    """
    base = base_model(model)
    with _lock:
        info = _catalog().find(base, provider)
    if info is None:
        raise UsageError(
            f"ftkit's model catalog has no entry for {model!r}; add one with "
            f"ftkit.providers.register(...) or a file in ${ENV_VAR}"
        )
    return info


def find_model(model: str, provider: str | None = None) -> ModelInfo | None:
    """:func:`model_info`, or ``None`` where it raises (unknown or malformed names)."""
    try:
        base = base_model(model)
        with _lock:
            return _catalog().find(base, provider)
    except UsageError:
        return None


def lookup_model(model: str, provider: str | None = None) -> ModelInfo | None:
    """The catalog's fine-tuning facts about ``model``, or ``None`` when it has none.

    Unlike :func:`find_model`, a model known only by its family's tokenizer and
    limit (``fine_tunable is None``) is ``None`` here: the validator reports an
    unknown model rather than guess whether it trains.
    """
    info = find_model(model, provider)
    return info if info is not None and info.fine_tunable is not None else None


def example_limit(model: str, method: str = "sft", *, provider: str | None = None) -> int | None:
    """The per-example token limit of ``model`` (its base model for ``ft:`` names).

    Args:
        model: a snapshot, an alias or a fine-tuned model name.
        method: the fine-tuning method (limits may differ by method).
        provider: the provider that trains it (``None``: every provider, ``openai`` first);
            Azure's limit can differ from OpenAI's for the same snapshot.

    Returns:
        The limit, or ``None`` when ftkit has no documented limit for the model
        (nothing is then treated as over the limit).
    """
    info = find_model(model, provider)
    return None if info is None else info.limit(method)


def models(provider: str | None = None) -> tuple[ModelInfo, ...]:
    """Every listed snapshot (not the families), of one provider or of all.

    Raises:
        UsageError: an unknown provider.
    """
    with _lock:
        catalog = _catalog()
        return tuple(
            info
            for name in catalog.provider_order(provider)
            for info in catalog.entries.get(name, {}).values()
        )


def providers() -> tuple[str, ...]:
    """The providers the catalog has tables for, in lookup order (``openai`` first)."""
    with _lock:
        return tuple(_catalog().provider_order(None))


def register(info: ModelInfo) -> None:
    """Add a model to the catalog, or replace the entry of the same provider and name.

    Aliases the entry names move to it (a new snapshot can take over ``gpt-4.1-mini``).
    Registrations last for this process; worker processes started by ``spawn`` see
    only the files of :envvar:`FTKIT_MODELS`.
    """
    if not isinstance(info, ModelInfo):
        raise UsageError(f"register() takes a ModelInfo, got {type(info).__name__}")
    with _lock:
        _catalog().register(info)


def register_file(path: str | os.PathLike[str]) -> tuple[ModelInfo, ...]:
    """Load a catalog file (the format of the shipped files) over the current catalog.

    Returns:
        The entries the file added or changed, as they now are.

    Raises:
        UsageError: an unreadable file or a malformed entry (nothing is then changed).
    """
    global _current
    doc = _read(Path(path))
    with _lock:
        trial = _catalog().copy()
        added = trial.add_document(doc)
        _current = trial
    return tuple(added)


def reset() -> None:
    """Forget registrations: the next lookup re-reads the shipped files and ``FTKIT_MODELS``."""
    global _current
    with _lock:
        _current = None
