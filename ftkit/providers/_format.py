"""The catalog's file format: JSON documents to :class:`ModelInfo` and back.

The files shipped with ftkit and the files a user adds are read by the same
code, so anything ftkit ships, a user can change the same way. A document is::

    {
      "provider": "openai",
      "prices_as_of": "2026-10",      # default date of the prices below
      "currency": "USD",
      "sources": {"PRICE": "OpenAI pricing page ...", ...},
      "models": {"<snapshot>": {<entry>}, ...},
      "families": {"<name prefix>": {<entry>}, ...}
    }

An entry holds any of ``aliases``, ``tokenizer``, ``tokenizer_repo`` (the Hugging
Face repository of an open model's ``tokenizer.json``), ``methods``, ``features``,
``example_limits`` ({method: tokens}), ``training`` ({method: {per_1m_tokens |
per_hour, as_of}}), ``training_types`` (the provider's tiers it trains on:
``standard``, ``globalstandard``, ``developer``), ``training_by_type``
({training type: {method: price}}: a type's own price, over ``training``),
``hosting_per_hour`` (USD per hour of one deployment of a fine-tune),
``inference`` and ``base_inference`` ({input, output, cached_input, as_of}),
``shutdown``, ``shutdown_confirmed`` (``false`` when only secondary sources give
the date), ``created``, ``fine_tunable``, ``note``, ``full_training`` (whether
full, not LoRA, fine-tuning is offered), ``job_limits`` ({``max_epochs``,
``max_evals``, ``max_checkpoints``, ``min_learning_rate``, ``max_learning_rate``,
``max_lora_rank``: number}), ``unconfirmed`` (the facts no primary source
confirms: field names, or ``field.key`` such as ``example_limits.dpo``),
``sources`` ({field: source}) and ``extends`` (start from another entry of the
same provider, all but its aliases).

An entry for a model the catalog already has changes only the fields it gives:
a field replaces the old value, except ``training``, ``example_limits``,
``job_limits`` and ``sources``, which are merged key by key (a method's price, a
method's limit, a bound, a field's source), and ``training_by_type``, merged type
by type and method by method. A field given anew without ``unconfirmed`` drops
the old entry's ``unconfirmed`` marks of that field, as a new ``shutdown`` drops
an old ``shutdown_confirmed``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from .._exceptions import UsageError
from ._model import (
    FEATURES,
    JOB_LIMITS,
    METHODS,
    TRAINING_TYPES,
    Feature,
    InferencePrice,
    Method,
    ModelInfo,
    TrainingPrice,
    TrainingType,
    canonical_method,
    canonical_training_type,
)

__all__ = ["Document", "entry_of", "info_of", "merge_entry"]

_FIELDS = frozenset(
    {
        "aliases",
        "tokenizer",
        "tokenizer_repo",
        "methods",
        "features",
        "example_limits",
        "training",
        "training_types",
        "training_by_type",
        "hosting_per_hour",
        "inference",
        "base_inference",
        "shutdown",
        "shutdown_confirmed",
        "created",
        "fine_tunable",
        "note",
        "full_training",
        "job_limits",
        "unconfirmed",
        "sources",
        "extends",
    }
)
_MERGED = frozenset({"training", "example_limits", "job_limits", "sources"})
# What an ``unconfirmed`` mark may name: a fact of the entry (not its bookkeeping).
_MARKABLE = _FIELDS - {"unconfirmed", "sources", "extends"}
_Price = TypeVar("_Price", TrainingPrice, InferencePrice)
_AMOUNTS: dict[type, tuple[str, ...]] = {
    TrainingPrice: ("per_1m_tokens", "per_hour"),
    InferencePrice: ("input", "output", "cached_input"),
}
_DOCUMENT_KEYS = frozenset(
    {
        "format",
        "provider",
        "checked",
        "prices_as_of",
        "currency",
        "sources",
        "notes",
        "models",
        "families",
    }
)


class Document:
    """One catalog file's provider, defaults and raw entries, in file order.

    Only the document's shape is checked here; each entry is checked when it is built.

    Raises:
        UsageError: naming the file and what is wrong.
    """

    def __init__(self, data: Any, origin: str) -> None:
        if not isinstance(data, Mapping):
            raise UsageError(f"{origin}: a model catalog file must hold a JSON object")
        self.origin = origin
        self.provider = _text(data.get("provider", "openai"), origin, "provider")
        self.prices_as_of = data.get("prices_as_of")
        if self.prices_as_of is not None:
            self.prices_as_of = _text(self.prices_as_of, origin, "prices_as_of")
        self.currency = _text(data.get("currency", "USD"), origin, "currency")
        self.models = _entries(data.get("models", {}), origin, "models")
        self.families = _entries(data.get("families", {}), origin, "families")
        unknown = set(data) - _DOCUMENT_KEYS
        if unknown:
            raise UsageError(f"{origin}: unknown keys {sorted(unknown)}")


def merge_entry(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """``old`` with the fields of ``new``: replaced, or merged per key for the mapping fields."""
    merged = dict(old)
    if "shutdown" in new and "shutdown_confirmed" not in new:
        # A new date comes with its own confidence: an earlier "unconfirmed" was the old
        # date's, not this one's.
        merged.pop("shutdown_confirmed", None)
    if "unconfirmed" not in new and isinstance(old.get("unconfirmed"), list):
        # A fact stated anew is the new file's, confirmed unless it says otherwise.
        merged["unconfirmed"] = _still_unconfirmed(old, new)
    for key, value in new.items():
        before = old.get(key)
        if key in _MERGED and isinstance(value, Mapping) and isinstance(before, Mapping):
            merged[key] = {**before, **value}
        elif key == "training_by_type" and isinstance(value, Mapping):
            # Two levels: a type's prices merge method by method, as ``training`` does.
            merged[key] = _merge_types(before, value) if isinstance(before, Mapping) else value
        else:
            merged[key] = value
    return merged


def _still_unconfirmed(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Any]:
    """The old entry's ``unconfirmed`` marks of the facts ``new`` does not restate.

    A merged field (``example_limits``) restates only the keys it gives: a mark of
    the whole field becomes marks of the old keys it leaves as they were.
    """
    kept: list[Any] = []
    for mark in old["unconfirmed"]:
        head, _, key = mark.partition(".") if isinstance(mark, str) else (mark, "", "")
        if head not in new:
            kept.append(mark)
            continue
        given, before = new[head], old.get(head)
        if head not in _MERGED or not isinstance(given, Mapping):
            continue  # the field is replaced: every fact of it is the new file's
        if key:
            if key not in given:
                kept.append(mark)
        elif isinstance(before, Mapping):
            kept.extend(f"{head}.{k}" for k in before if k not in given)
    return kept


def _merge_types(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(old)
    for tier, prices in new.items():
        before = old.get(tier)
        if isinstance(prices, Mapping) and isinstance(before, Mapping):
            merged[tier] = {**before, **prices}
        else:
            merged[tier] = prices
    return merged


def info_of(
    entry: Mapping[str, Any],
    *,
    name: str,
    provider: str,
    where: str,
    prices_as_of: str | None = None,
    currency: str = "USD",
    family: str | None = None,
) -> ModelInfo:
    """Build a :class:`ModelInfo` from an entry (``extends`` already applied).

    Args:
        entry: the entry's fields.
        name: the snapshot name (or, for a family, the name being resolved).
        provider: the provider the entry belongs to.
        where: the file and entry, for error messages.
        prices_as_of: the date of prices that do not carry their own.
        currency: the currency of prices that do not name one.
        family: the prefix, for facts resolved from a family.

    Raises:
        UsageError: a field that is malformed, naming ``where``.
    """
    unknown = set(entry) - _FIELDS
    if unknown:
        raise UsageError(f"{where}: unknown fields {sorted(unknown)}")
    methods = frozenset(
        _method(m, where) for m in _list(entry.get("methods", []), where, "methods")
    )
    features = frozenset(
        _feature(f, where) for f in _list(entry.get("features", []), where, "features")
    )
    limits = {
        _method(method, where): _count(tokens, where, f"example_limits.{method}")
        for method, tokens in _mapping(entry.get("example_limits", {}), where, "example_limits")
    }
    training = {
        _method(method, where): _price(
            TrainingPrice, value, where, f"training.{method}", prices_as_of, currency
        )
        for method, value in _mapping(entry.get("training", {}), where, "training")
    }
    training_types = frozenset(
        _training_type(t, where)
        for t in _list(entry.get("training_types", []), where, "training_types")
    )
    by_type = {
        _training_type(tier, where): {
            _method(method, where): _price(
                TrainingPrice,
                value,
                where,
                f"training_by_type.{tier}.{method}",
                prices_as_of,
                currency,
            )
            for method, value in _mapping(prices, where, f"training_by_type.{tier}")
        }
        for tier, prices in _mapping(entry.get("training_by_type", {}), where, "training_by_type")
    }
    fine_tunable = entry.get("fine_tunable")
    if fine_tunable is not None and not isinstance(fine_tunable, bool):
        raise UsageError(f"{where}: fine_tunable must be true or false, got {fine_tunable!r}")
    confirmed = entry.get("shutdown_confirmed", True)
    if not isinstance(confirmed, bool):
        raise UsageError(f"{where}: shutdown_confirmed must be true or false, got {confirmed!r}")
    full_training = entry.get("full_training")
    if full_training is not None and not isinstance(full_training, bool):
        raise UsageError(f"{where}: full_training must be true or false, got {full_training!r}")
    job_limits: dict[str, float] = {}
    for key, bound in _mapping(entry.get("job_limits", {}), where, "job_limits"):
        if key not in JOB_LIMITS:
            raise UsageError(
                f"{where}: unknown job limit {key!r}; expected one of {list(JOB_LIMITS)}"
            )
        if bound is None:
            continue  # unknown, as if not given
        if key.endswith("_learning_rate"):
            job_limits[key] = cast(float, _amount(bound, where, f"job_limits.{key}"))
        else:  # a count of epochs, evaluations, checkpoints, ranks
            job_limits[key] = _count(bound, where, f"job_limits.{key}")
    unconfirmed = frozenset(
        _mark(m, where) for m in _list(entry.get("unconfirmed", []), where, "unconfirmed")
    )
    created = entry.get("created")
    if created is not None:
        created = _count(created, where, "created")
    tokenizer = entry.get("tokenizer")
    repo = entry.get("tokenizer_repo")
    return ModelInfo(
        name=name,
        provider=provider,
        aliases=tuple(
            _text(a, where, "aliases") for a in _list(entry.get("aliases", []), where, "aliases")
        ),
        tokenizer=None if tokenizer is None else _text(tokenizer, where, "tokenizer"),
        tokenizer_repo=None if repo is None else _text(repo, where, "tokenizer_repo"),
        methods=methods,
        features=features,
        example_limits=limits,
        training_prices=training,
        training_types=training_types,
        training_prices_by_type=by_type,
        hosting_per_hour=_amount(entry.get("hosting_per_hour"), where, "hosting_per_hour"),
        inference_price=_inference(entry, "inference", where, prices_as_of, currency),
        base_inference_price=_inference(entry, "base_inference", where, prices_as_of, currency),
        shutdown=_date(entry.get("shutdown"), where),
        shutdown_confirmed=confirmed,
        created=created,
        fine_tunable=fine_tunable,
        note=_text(entry.get("note", ""), where, "note", empty=True),
        family=family,
        full_training=full_training,
        job_limits=job_limits,
        unconfirmed=unconfirmed,
        sources={
            str(key): _text(value, where, f"sources.{key}")
            for key, value in _mapping(entry.get("sources", {}), where, "sources")
        },
    )


def entry_of(info: ModelInfo) -> dict[str, Any]:
    """The file-format entry of ``info``: every fact stated, every price dated."""
    entry: dict[str, Any] = {
        "aliases": list(info.aliases),
        "tokenizer": info.tokenizer,
        "tokenizer_repo": info.tokenizer_repo,
        "methods": [m for m in METHODS if m in info.methods],
        "features": [f for f in FEATURES if f in info.features],
        "example_limits": dict(info.example_limits),
        "training": {m: _price_entry(p) for m, p in info.training_prices.items()},
        "training_types": [t for t in TRAINING_TYPES if t in info.training_types],
        "training_by_type": {
            t: {m: _price_entry(p) for m, p in prices.items()}
            for t, prices in info.training_prices_by_type.items()
        },
        "hosting_per_hour": info.hosting_per_hour,
        "inference": _price_entry(info.inference_price),
        "base_inference": _price_entry(info.base_inference_price),
        "shutdown": info.shutdown,
        "created": info.created,
        "note": info.note,
        "full_training": info.full_training,
        "job_limits": dict(info.job_limits),
        "unconfirmed": sorted(info.unconfirmed),
        "sources": dict(info.sources),
    }
    if not info.shutdown_confirmed:  # stated only where a date is unconfirmed
        entry["shutdown_confirmed"] = False
    if info.fine_tunable != bool(info.methods):  # stated only where it is not implied
        entry["fine_tunable"] = info.fine_tunable
    return entry


def _price_entry(price: TrainingPrice | InferencePrice | None) -> dict[str, Any] | None:
    if price is None:
        return None
    fields = price.__slots__
    return {key: getattr(price, key) for key in cast(tuple[str, ...], fields)}


def _entries(value: Any, origin: str, key: str) -> list[tuple[str, Mapping[str, Any]]]:
    if not isinstance(value, Mapping):
        raise UsageError(f"{origin}: {key} must be an object of name -> entry")
    out = []
    for name, entry in value.items():
        if not isinstance(name, str) or not name.strip():
            raise UsageError(f"{origin}: {key} has an empty name")
        if not isinstance(entry, Mapping):
            raise UsageError(f"{origin}: {key}.{name} must be an object")
        out.append((name.strip(), entry))
    return out


def _text(value: Any, where: str, key: str, *, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise UsageError(f"{where}: {key} must be a non-empty string, got {value!r}")
    return value.strip()


def _list(value: Any, where: str, key: str) -> list[Any]:
    if not isinstance(value, list):
        raise UsageError(f"{where}: {key} must be a list, got {value!r}")
    return value


def _mapping(value: Any, where: str, key: str) -> list[tuple[str, Any]]:
    if not isinstance(value, Mapping):
        raise UsageError(f"{where}: {key} must be an object, got {value!r}")
    return [(str(k), v) for k, v in value.items()]


def _method(value: Any, where: str) -> Method:
    try:
        return canonical_method(value)
    except UsageError as exc:
        raise UsageError(f"{where}: {exc}") from None


def _feature(value: Any, where: str) -> Feature:
    if value not in FEATURES:
        raise UsageError(f"{where}: unknown feature {value!r}; expected one of {list(FEATURES)}")
    return cast(Feature, value)


def _mark(value: Any, where: str) -> str:
    """An ``unconfirmed`` mark: a fact's field name, or ``field.key``."""
    mark = _text(value, where, "unconfirmed")
    if mark.split(".", 1)[0] not in _MARKABLE:
        raise UsageError(
            f"{where}: unconfirmed names an unknown field {mark!r}; "
            f"expected one of {sorted(_MARKABLE)} (or field.key)"
        )
    return mark


def _training_type(value: Any, where: str) -> TrainingType:
    try:
        return canonical_training_type(value)
    except UsageError as exc:
        raise UsageError(f"{where}: {exc}") from None


def _count(value: Any, where: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UsageError(f"{where}: {key} must be a non-negative integer, got {value!r}")
    return value


def _amount(value: Any, where: str, key: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise UsageError(f"{where}: {key} must be a non-negative number, got {value!r}")
    return float(value)


def _date(value: Any, where: str) -> str | None:
    if value is None:
        return None
    try:
        return _dt.date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise UsageError(f"{where}: shutdown must be a YYYY-MM-DD date, got {value!r}") from None


def _price(
    kind: type[_Price], value: Any, where: str, key: str, as_of: str | None, currency: str
) -> _Price:
    """A dated price from its file form: the amounts ``kind`` takes, ``as_of`` and ``currency``."""
    names: tuple[str, ...] = _AMOUNTS[kind]
    if not isinstance(value, Mapping) or set(value) - {*names, "as_of", "currency"}:
        raise UsageError(f"{where}: {key} must be an object of {[*names, 'as_of', 'currency']}")
    fields: dict[str, Any] = {n: _amount(value.get(n), where, f"{key}.{n}") for n in names}
    fields["as_of"] = _optional_text(value.get("as_of", as_of), where, f"{key}.as_of")
    fields["currency"] = _text(value.get("currency", currency), where, f"{key}.currency")
    try:
        return kind(**fields)
    except UsageError as exc:
        raise UsageError(f"{where}: {key}: {exc}") from None


def _inference(
    entry: Mapping[str, Any], key: str, where: str, as_of: str | None, currency: str
) -> InferencePrice | None:
    value = entry.get(key)
    return None if value is None else _price(InferencePrice, value, where, key, as_of, currency)


def _optional_text(value: Any, where: str, key: str) -> str | None:
    return None if value is None else _text(value, where, key)
